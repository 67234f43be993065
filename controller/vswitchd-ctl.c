/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#include <config.h>

#include "controller/vswitchd-ctl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include "dirs.h"
#include "jsonrpc.h"
#include "openvswitch/json.h"
#include "openvswitch/poll-loop.h"
#include "socket-util.h"
#include "stream.h"
#include "timeval.h"
#include "util.h"

char *
vswitchd_ctl_path(char **errorp)
{
    char *pidfile = xasprintf("%s/ovs-vswitchd.pid", ovs_rundir());
    FILE *file = fopen(pidfile, "r");
    char *path = NULL;
    char *error = NULL;
    long int pid = 0;

    if (!file) {
        error = xasprintf("%s: %s", pidfile, ovs_strerror(errno));
    } else {
        if (fscanf(file, "%ld", &pid) != 1 || pid <= 0) {
            error = xasprintf("%s: no process id", pidfile);
        } else {
            path = xasprintf("%s/ovs-vswitchd.%ld.ctl", ovs_rundir(), pid);
        }
        fclose(file);
    }
    free(pidfile);
    if (errorp) {
        *errorp = error;
    } else {
        free(error);
    }
    return path;
}

char *
vswitchd_ctl_transact(const char *command, int argc,
                      const char *const argv[], long long int timeout_ms,
                      char **resultp)
{
    *resultp = NULL;

    char *error = NULL;
    char *path = vswitchd_ctl_path(&error);
    if (!path) {
        return error;
    }

    /* As unixctl_client_create() connects, but within the deadline: a
     * switch that accepts no connection must not hold the caller either.
     * (Connecting to a Unix socket waits only when the server's backlog
     * is full.) */
    long long int deadline = time_msec() + timeout_ms;
    char *name = xasprintf("unix:%s", path);
    struct stream *stream;
    int retval = stream_open_block(stream_open(name, &stream, DSCP_DEFAULT),
                                   timeout_ms, &stream);
    free(name);
    if (retval) {
        error = xasprintf("%s: %s", path, ovs_strerror(retval));
        free(path);
        return error;
    }
    struct jsonrpc *rpc = jsonrpc_open(stream);

    struct json **args = xmalloc((argc ? argc : 1) * sizeof *args);
    for (int i = 0; i < argc; i++) {
        args[i] = json_string_create(argv[i]);
    }
    struct jsonrpc_msg *request = jsonrpc_create_request(
        command, json_array_create(args, argc), NULL);
    struct json *id = json_clone(request->id);

    struct jsonrpc_msg *reply = NULL;
    retval = jsonrpc_send(rpc, request);
    while (!retval) {
        jsonrpc_run(rpc);
        retval = jsonrpc_recv(rpc, &reply);
        if (retval == EAGAIN) {
            if (time_msec() >= deadline) {
                retval = ETIMEDOUT;
                break;
            }
            jsonrpc_wait(rpc);
            jsonrpc_recv_wait(rpc);
            poll_timer_wait_until(deadline);
            poll_block();
            retval = 0;
        } else if (!retval) {
            if (reply->id && json_equal(reply->id, id)) {
                break;
            }
            /* Not the answer to this request: ignore it. */
            jsonrpc_msg_destroy(reply);
            reply = NULL;
        }
    }
    /* See the comment in the header. */
    poll_immediate_wake();

    if (retval) {
        error = xasprintf("%s %s: %s", path, command,
                          retval == ETIMEDOUT
                          ? "no answer in time"
                          : ovs_retval_to_string(retval));
    } else if (reply->error) {
        error = (reply->error->type == JSON_STRING
                 ? xstrdup(json_string(reply->error))
                 : json_to_string(reply->error, 0));
    } else if (reply->result && reply->result->type == JSON_STRING) {
        *resultp = xstrdup(json_string(reply->result));
    } else {
        error = xasprintf("%s %s: unexpected answer", path, command);
    }
    jsonrpc_msg_destroy(reply);
    json_destroy(id);
    jsonrpc_close(rpc);
    free(path);
    return error;
}
