/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#ifndef UTILITIES_TRACE_H
#define UTILITIES_TRACE_H 1

/* "kovs-ctl trace": the path of one packet, described in Kubernetes terms
 * (from a pod, a node or an address, to a pod, a Service, a node or an
 * address), through the flows that kovs computes from a snapshot of the
 * cluster.  Each node on the path gets its flows loaded into a private
 * switch (utilities/trace-switch.h), the packet is traced there with
 * 'ovs-appctl ofproto/trace', and each step is told by the owner of the
 * flow that matched (its cookie) and what it did; a packet that leaves
 * through a tunnel continues on the peer node.
 *
 * 'argv[0]' is "trace".  Returns the exit status: 0 when the trace ran,
 * whatever its verdict. */
int trace_command(int argc, char *argv[]);

#endif /* utilities/trace.h */
