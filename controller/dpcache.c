/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#include <config.h>

#include "controller/dpcache.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include "controller/vswitchd-ctl.h"
#include "jsonrpc.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "socket-util.h"
#include "stream.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(dpcache);

/* The unixctl commands of one purge, sent together on one connection and
 * answered in order. */
static const char *const purge_commands[] = {
    "revalidator/pause",
    "revalidator/purge",
    "revalidator/resume",
};
#define N_PURGE_COMMANDS ARRAY_SIZE(purge_commands)

static bool requested;          /* A purge is wanted and not started. */
static struct jsonrpc *rpc;     /* The purge in progress, if any. */
static size_t n_replies;        /* Replies it has had. */
static long long int started_msec;

/* For the status command. */
static uint64_t n_purges, n_failures;
static long long int last_duration_ms = -1;

void
dpcache_purge(void)
{
    requested = true;
    poll_immediate_wake();
}

bool
dpcache_is_busy(void)
{
    return requested || rpc;
}

/* Returns the name of ovs-vswitchd's unixctl socket as a stream name,
 * "unix:<rundir>/ovs-vswitchd.<pid>.ctl", or NULL. */
static char *
vswitchd_unixctl_name(void)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
    char *error;
    char *path = vswitchd_ctl_path(&error);
    if (!path) {
        VLOG_WARN_RL(&rl, "%s", error);
        free(error);
        return NULL;
    }
    char *name = xasprintf("unix:%s", path);
    free(path);
    return name;
}

static void
purge_finish(const char *error)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);

    jsonrpc_close(rpc);
    rpc = NULL;
    if (error) {
        n_failures++;
        VLOG_WARN_RL(&rl, "purging the datapath flow cache failed: %s",
                     error);
    } else {
        n_purges++;
        last_duration_ms = time_msec() - started_msec;
        VLOG_DBG("datapath flow cache purged in %lld ms", last_duration_ms);
    }
}

static void
purge_start(void)
{
    char *name = vswitchd_unixctl_name();
    struct stream *stream;
    int error;

    requested = false;
    if (!name) {
        purge_finish("ovs-vswitchd's pidfile cannot be read");
        return;
    }
    error = stream_open_block(stream_open(name, &stream, DSCP_DEFAULT), -1,
                              &stream);
    if (error) {
        char *msg = xasprintf("%s: %s", name, ovs_strerror(error));
        purge_finish(msg);
        free(msg);
        free(name);
        return;
    }
    free(name);

    rpc = jsonrpc_open(stream);
    n_replies = 0;
    started_msec = time_msec();
    for (size_t i = 0; i < N_PURGE_COMMANDS && rpc; i++) {
        error = jsonrpc_send(rpc, jsonrpc_create_request(
                                 purge_commands[i], json_array_create_empty(),
                                 NULL));
        if (error) {
            purge_finish(ovs_strerror(error));
        }
    }
}

void
dpcache_run(void)
{
    if (!rpc && requested) {
        purge_start();
    }
    while (rpc) {
        struct jsonrpc_msg *msg;

        jsonrpc_run(rpc);
        int error = jsonrpc_recv(rpc, &msg);
        if (error == EAGAIN) {
            break;
        } else if (error) {
            purge_finish(error == EOF ? "ovs-vswitchd closed the connection"
                         : ovs_strerror(error));
            break;
        }

        if (msg->type == JSONRPC_ERROR) {
            char *s = msg->error ? json_to_string(msg->error, 0)
                      : xstrdup("error");
            char *text = xasprintf("%s: %s", purge_commands[n_replies], s);
            purge_finish(text);
            free(text);
            free(s);
        } else if (msg->type == JSONRPC_REPLY
                   && ++n_replies == N_PURGE_COMMANDS) {
            purge_finish(NULL);
        }
        jsonrpc_msg_destroy(msg);
    }
}

void
dpcache_wait(void)
{
    if (rpc) {
        jsonrpc_wait(rpc);
        jsonrpc_recv_wait(rpc);
    } else if (requested) {
        poll_immediate_wake();
    }
}

void
dpcache_format_status(struct ds *ds)
{
    ds_put_format(ds, "datapath flow cache purges: %"PRIu64", failed %"
                  PRIu64, n_purges, n_failures);
    if (last_duration_ms >= 0) {
        ds_put_format(ds, ", last in %lld ms", last_duration_ms);
    }
    if (dpcache_is_busy()) {
        ds_put_cstr(ds, " (a purge is in flight)");
    }
    ds_put_char(ds, '\n');
}

void
dpcache_destroy(void)
{
    jsonrpc_close(rpc);
    rpc = NULL;
    requested = false;
}
