/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#ifndef UTILITIES_TRACE_SWITCH_H
#define UTILITIES_TRACE_SWITCH_H 1

/* A private switch for kovs-ctl: an ovsdb-server and an ovs-vswitchd with
 * the dummy datapath (--enable-dummy=override), started in a new temporary
 * directory and stopped, with the directory removed, on every way out: an
 * explicit trace_switch_destroy(), exit() (ovs_fatal() included) and the
 * fatal signals (SIGTERM, SIGINT, SIGHUP, ...).
 *
 * While it runs, OVS_RUNDIR, OVS_DBDIR, OVS_LOGDIR and OVS_SYSCONFDIR point
 * to its directory, so that ovs-vsctl, ovs-ofctl and ovs-appctl run by
 * trace_switch_run() reach it and nothing else. */

#include <stdbool.h>

struct ds;
struct trace_switch;

/* Starts a private switch.  Returns it, or NULL after storing in '*errorp'
 * a message that the caller frees (nothing is left behind then). */
struct trace_switch *trace_switch_start(char **errorp);

/* Stops 'sw''s daemons and removes its directory.  Accepts NULL. */
void trace_switch_destroy(struct trace_switch *sw);

/* Runs the command 'argv' (NULL-terminated, argv[0] looked up in PATH)
 * against 'sw', appending what it prints (standard output and error) to
 * 'output'.  Returns its exit status (0 for success, -1 if it could not
 * run or was killed). */
int trace_switch_run(struct trace_switch *sw, const char *const argv[],
                     struct ds *output);

/* Returns the directory of 'sw'. */
const char *trace_switch_dir(const struct trace_switch *sw);

#endif /* utilities/trace-switch.h */
