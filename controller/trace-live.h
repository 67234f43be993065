/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#ifndef CONTROLLER_TRACE_LIVE_H
#define CONTROLLER_TRACE_LIVE_H 1

/* kovs-controller's "trace" command: the trace of utilities/trace.h on
 * this node's br-int, against the flows installed now.  Names resolve in
 * the controller's model; the ports are the ones kovs found in OVSDB. */

struct controller;

/* Registers "trace" ("ovs-appctl -t kovs-controller trace ..."), which
 * works on 'c'. */
void trace_live_register(struct controller *c);

#endif /* controller/trace-live.h */
