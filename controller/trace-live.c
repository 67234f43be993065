/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#include <config.h>

#include "controller/trace-live.h"

#include <stdlib.h>
#include <string.h>
#include "controller/controller.h"
#include "controller/external-bridge.h"
#include "controller/options.h"
#include "controller/vswitchd-ctl.h"
#include "openvswitch/dynamic-string.h"
#include "unixctl.h"
#include "util.h"
#include "utilities/trace.h"

/* How long the trace command waits for ofproto/trace.  The command runs in
 * the main loop, which stops meanwhile: ofproto/trace answers in a few
 * milliseconds on the local socket, and should ovs-vswitchd hang, the
 * controller goes on after this long with an error for the caller. */
#define TRACE_LIVE_TIMEOUT_MS 2000

/* This node's br-int, as the controller knows it. */
struct live_backend {
    struct trace_backend up;
    struct controller *c;
    struct trace_node node;
};

static struct live_backend *
live_backend_cast(struct trace_backend *backend)
{
    return CONTAINER_OF(backend, struct live_backend, up);
}

static char *
live_node_get(struct trace_backend *backend, const char *name,
              uint8_t proto OVS_UNUSED, const struct trace_node **nodep)
{
    struct live_backend *lb = live_backend_cast(backend);
    const struct controller *c = lb->c;
    if (strcmp(name, c->opts->node_name)) {
        return xasprintf("node %s: a live trace sees only this node's "
                         "switch (node %s)", name, c->opts->node_name);
    }
    if (!c->local.valid) {
        return xasprintf("node %s has no podCIDR yet", name);
    }
    if (!c->input.gateway_ofport) {
        return xasprintf("node %s: the gateway port is not on %s yet",
                         name, c->opts->bridge_name);
    }
    *nodep = &lb->node;
    return NULL;
}

static char *
live_run(struct trace_backend *backend OVS_UNUSED,
         const struct trace_node *node, const char *bridge, const char *flow,
         struct ds *output)
{
    const char *argv[] = { bridge, flow, "--ct-next", "trk,new" };
    char *result;
    char *error = vswitchd_ctl_transact("ofproto/trace", ARRAY_SIZE(argv),
                                        argv, TRACE_LIVE_TIMEOUT_MS, &result);
    if (error) {
        char *msg = xasprintf("ofproto/trace on node %s failed: %s",
                              node->name, error);
        free(error);
        return msg;
    }
    ds_put_cstr(output, result);
    free(result);
    return NULL;
}

static const struct trace_backend_class live_backend_class = {
    .node_get = live_node_get,
    .run = live_run,
};

/* Checks the options that make sense offline only.  Returns NULL or an
 * error message. */
static char *
live_check_options(const struct trace_options *o, const char *node_name)
{
    if (o->state_file) {
        return xasprintf("%s: a live trace takes no state file (kovs-ctl "
                         "trace does)", o->state_file);
    }
    if (o->external_bridge && !o->from_uplink) {
        return xstrdup("--external-bridge is kovs-ctl trace's: a live trace "
                       "uses the node's own external bridge, if any");
    }
    if (o->has_tunnel_ports) {
        return xstrdup("--tunnel-ports is kovs-controller's own: a live "
                       "trace uses its tunnel ports");
    }
    if (o->has_cidr_option) {
        return xstrdup("--cluster-cidr and --service-cidr are "
                       "kovs-controller's own: a live trace uses them");
    }
    if (o->via_node && strcmp(o->via_node, node_name)) {
        return xasprintf("--node %s: a live trace starts on this node (%s)",
                         o->via_node, node_name);
    }
    return NULL;
}

static void
trace_live_unixctl(struct unixctl_conn *conn, int argc, const char *argv[],
                   void *c_)
{
    struct controller *c = c_;
    struct trace_options o;
    struct ds out = DS_EMPTY_INITIALIZER;

    char *error = trace_options_parse(argc - 1, argv + 1, &o);
    if (!error && o.help) {
        ds_put_cstr(&out, "usage: ovs-appctl -t kovs-controller trace "
                    "--from SOURCE --to DESTINATION [OPTIONS]\n"
                    "\n"
                    "Traces one packet (the first of a connection) through "
                    "the flows\n"
                    "installed on this node's br-int, and tells each step "
                    "in Kubernetes\n"
                    "terms.\n"
                    "\n");
        trace_usage(&out, true);
    } else if (!error) {
        error = live_check_options(&o, c->opts->node_name);
    }
    if (!error && !o.help) {
        struct live_backend lb = {
            .up = {
                .class = &live_backend_class,
                .model_name = "the cluster",
                .local_node = c->opts->node_name,
            },
            .c = c,
            .node = {
                .name = c->opts->node_name,
                .bridge = c->opts->bridge_name,
                .pods = c->input.pod_ports,
                .tunnels = c->input.tunnel_ports,
                .flow_tunnel_ofport = c->input.tunnel_ofport,
                .local = &c->local,
                .ft = &c->flows,
                .gateway_ofport = c->input.gateway_ofport,
                .ex_bridge = (c->br_ex && c->input.external
                              ? c->br_ex->name : NULL),
                .external = c->input.external,
            },
        };
        error = trace_run(&o, &c->cluster, &lb.up, &out);
    }

    if (error) {
        char *msg = xasprintf("trace: %s", error);
        unixctl_command_reply_error(conn, msg);
        free(msg);
        free(error);
    } else {
        unixctl_command_reply(conn, ds_cstr(&out));
    }
    ds_destroy(&out);
    trace_options_destroy(&o);
}

void
trace_live_register(struct controller *c)
{
    unixctl_command_register("trace",
                             "--from SOURCE --to DESTINATION [OPTIONS]",
                             0, INT_MAX, trace_live_unixctl, c);
}
