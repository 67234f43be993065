/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#ifndef UTILITIES_TRACE_OFFLINE_H
#define UTILITIES_TRACE_OFFLINE_H 1

/* "kovs-ctl trace": the trace of utilities/trace.h on the flows that kovs
 * computes from a snapshot of the cluster.  Each node on the path gets its
 * flows loaded into a bridge of a private switch (utilities/trace-switch.h)
 * and a packet that leaves through a tunnel continues on the peer node.
 *
 * 'argv[0]' is "trace".  Returns the exit status: 0 when the trace ran,
 * whatever its verdict; after an error, prints it and exits with status
 * 1. */
int trace_command(int argc, char *argv[]);

#endif /* utilities/trace-offline.h */
