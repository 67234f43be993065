/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#ifndef CONTROLLER_VSWITCHD_CTL_H
#define CONTROLLER_VSWITCHD_CTL_H 1

/* ovs-vswitchd's unixctl socket (what "ovs-appctl" talks to), found as
 * ovs-appctl finds it: from ovs-vswitchd's pidfile in the OVS run
 * directory. */

/* Returns the path of ovs-vswitchd's unixctl socket,
 * "<rundir>/ovs-vswitchd.<pid>.ctl", in a new string, or NULL after
 * storing in '*errorp' (if nonnull) a message that the caller frees.  The
 * pid is read as text, not with read_pidfile(), which also asks who holds
 * the pidfile's lock: kovs-controller in a container of its own does not
 * see ovs-vswitchd's process, only its run directory. */
char *vswitchd_ctl_path(char **errorp);

/* Runs the unixctl command 'command' with the 'argc' arguments 'argv' on
 * ovs-vswitchd, as "ovs-appctl" does (a JSON-RPC request on its unixctl
 * socket), waiting at most 'timeout_ms' to connect and for the answer.  On success
 * returns NULL and stores the command's output in '*resultp'; otherwise
 * returns an error message (the command's own error, or why it could not
 * be run).  The caller frees both.
 *
 * It blocks: a caller in the main loop must bound 'timeout_ms'.  Waiting
 * runs a nested poll_block(), which consumes the wake-ups that the main
 * loop registered so far in this iteration; so that none is lost, it asks
 * for an immediate wake-up before it returns, and the main loop runs once
 * more. */
char *vswitchd_ctl_transact(const char *command, int argc,
                            const char *const argv[], long long int timeout_ms,
                            char **resultp);

#endif /* controller/vswitchd-ctl.h */
