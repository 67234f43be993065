/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

/* kovs-controller's unixctl commands ("ovs-appctl -t kovs-controller
 * COMMAND"), on the state of the main loop (controller/controller.h). */

#include <config.h>

#include "controller/controller.h"

#include "controller/cniserver.h"
#include "controller/dpcache.h"
#include "controller/external-bridge.h"
#include "controller/gateway.h"
#include "controller/neighbor.h"
#include "controller/ofctrl.h"
#include "controller/options.h"
#include "controller/pinctrl.h"
#include "controller/policy-stats.h"
#include "controller/trace-live.h"
#include "controller/vswitch.h"
#include "flow.h"
#include "flows/flow-table.h"
#include "flows/pipeline.h"
#include "k8s/k8s-client.h"
#include "k8s/k8s-state.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/shash.h"
#include "packets.h"
#include "simap.h"
#include "svec.h"
#include "unixctl.h"
#include "util.h"

struct policy_stats_request {
    struct unixctl_conn *conn;
    struct controller *c;
};

static void
kovs_unixctl_exit(struct unixctl_conn *conn, int argc OVS_UNUSED,
                  const char *argv[] OVS_UNUSED, void *c_)
{
    struct controller *c = c_;
    c->exiting = true;
    unixctl_command_reply(conn, NULL);
}

static void
kovs_unixctl_connection_status(struct unixctl_conn *conn,
                               int argc OVS_UNUSED,
                               const char *argv[] OVS_UNUSED, void *c_)
{
    struct controller *c = c_;
    struct ds ds = DS_EMPTY_INITIALIZER;

    ds_put_cstr(&ds, "openflow: ");
    ofctrl_format_connection(c->br_int, &ds);
    ds_put_format(&ds, "\novsdb: %s: %s\n", c->opts->ovsdb_remote,
                  (vswitch_is_connected(c->vswitch) ? "connected"
                   : "not connected"));
    unixctl_command_reply(conn, ds_cstr(&ds));
    ds_destroy(&ds);
}

static void
kovs_unixctl_recompute(struct unixctl_conn *conn, int argc OVS_UNUSED,
                       const char *argv[] OVS_UNUSED, void *c_)
{
    struct controller *c = c_;
    engine_input_changed(&c->engine, ENGINE_IN_OPTIONS, ENGINE_ALL);
    ofctrl_force_resync(c->br_int);
    poll_immediate_wake();
    unixctl_command_reply(conn, NULL);
}

static void
kovs_unixctl_status(struct unixctl_conn *conn, int argc OVS_UNUSED,
                    const char *argv[] OVS_UNUSED, void *c_)
{
    struct controller *c = c_;
    struct ds ds = DS_EMPTY_INITIALIZER;
    struct ofctrl_stats s;

    ofctrl_get_stats(c->br_int, &s);
    ds_put_format(&ds, "node: %s\n", c->opts->node_name);
    if (c->state) {
        ds_put_format(&ds, "state file: %s (%u reads)\n",
                      c->opts->state_file, k8s_state_file_n_reads(c->state));
    } else {
        k8s_client_format_status(c->client, &ds);
        ds_put_format(&ds, "api change to install latency: last %lld ms, "
                      "max %lld ms\n", c->last_event_latency_ms,
                      c->max_event_latency_ms);
    }
    for (int kind = 0; kind < K8S_N_KINDS; kind++) {
        ds_put_format(&ds, "objects %s: %"PRIuSIZE"\n",
                      k8s_kind_name(kind),
                      k8s_cluster_count(&c->cluster, kind));
    }
    const char *configured = (gateway_is_configured(&c->gateway) ? ""
                              : " (not configured)");
    if (c->local.valid4) {
        ds_put_format(&ds, "gateway: "IP_FMT"/%u "ETH_ADDR_FMT" port %d%s\n",
                      IP_ARGS(c->local.gateway_ip), c->local.pod_cidr.plen,
                      ETH_ADDR_ARGS(c->local.gateway_mac),
                      ofp_to_u16(c->input.gateway_ofport), configured);
    } else {
        ds_put_cstr(&ds, "gateway: none (this node has no IPv4 podCIDR)\n");
    }
    if (c->local.valid6) {
        ds_put_cstr(&ds, "gateway IPv6: ");
        ipv6_format_addr(&c->local.gateway_ip6, &ds);
        ds_put_format(&ds, "/%u", c->local.pod_cidr6.plen);
        if (!c->local.valid4) {
            ds_put_format(&ds, " "ETH_ADDR_FMT" port %d%s",
                          ETH_ADDR_ARGS(c->local.gateway_mac),
                          ofp_to_u16(c->input.gateway_ofport), configured);
        }
        ds_put_char(&ds, '\n');
    }
    ds_put_format(&ds, "pod ports: %"PRIuSIZE"\n",
                  shash_count(c->input.pod_ports));
    cniserver_format_status(&ds);
    if (c->opts->tunnel_ports == FLOWS_TUNNEL_PORTS_FLOW) {
        /* One port for every peer: the peers are listed below. */
        ds_put_format(&ds, "tunnel ports: %d (%s, flow-based",
                      c->input.tunnel_ofport ? 1 : 0,
                      flows_tunnel_mode_name(c->opts->tunnel_mode));
        if (c->input.tunnel_ofport) {
            ds_put_format(&ds, " %s port %d",
                          VSWITCH_FLOW_TUNNEL_NAME,
                          ofp_to_u16(c->input.tunnel_ofport));
        }
        ds_put_format(&ds, ", MTU %d)\n", c->opts->mtu);
    } else {
        ds_put_format(&ds, "tunnel ports: %"PRIuSIZE" (%s, MTU %d)\n",
                      shash_count(c->input.tunnel_ports),
                      flows_tunnel_mode_name(c->opts->tunnel_mode),
                      c->opts->mtu);
    }
    ds_put_format(&ds, "tunnel peers: %"PRIuSIZE"\n",
                  shash_count(c->input.tunnel_ports));
    const struct shash_node **tunnels = shash_sort(c->input.tunnel_ports);
    for (size_t i = 0; i < shash_count(c->input.tunnel_ports); i++) {
        const struct flows_port *port = tunnels[i]->data;
        const struct k8s_object *obj = k8s_cluster_find(
            &c->cluster, K8S_NODE, "", tunnels[i]->name);
        const struct in6_addr *ip
            = obj ? k8s_node_underlay_ip(k8s_node_cast(obj)) : NULL;
        ds_put_format(&ds, "  tunnel to %s: port %d, remote ",
                      tunnels[i]->name, ofp_to_u16(port->ofport));
        if (ip) {
            ipv6_format_mapped(ip, &ds);
        } else {
            ds_put_cstr(&ds, "unknown");
        }
        ds_put_char(&ds, '\n');
    }
    free(tunnels);
    ds_put_format(&ds, "desired flows: %"PRIuSIZE"\n",
                  flow_table_count(&c->flows));
    ds_put_format(&ds, "installed flows: %"PRIuSIZE"\n", s.n_installed);
    ds_put_format(&ds, "desired groups: %"PRIuSIZE"\n",
                  flow_table_group_count(&c->flows));
    ds_put_format(&ds, "installed groups: %"PRIuSIZE"\n",
                  s.n_installed_groups);
    ds_put_format(&ds, "switch: %s\n", s.connected ? "connected"
                  : "not connected");
    ds_put_format(&ds, "meters: %"PRIuSIZE" desired, %"PRIuSIZE" installed, "
                  "%"PRIu64" meter-mods in all\n", s.n_desired_meters,
                  s.n_installed_meters, s.total_meter_mods);
    ds_put_format(&ds, "computations: %"PRIu64"\n", c->engine.n_computations);
    ds_put_format(&ds, "last computation: %"PRIuSIZE" owners in %lld ms\n",
                  c->engine.last_recomputed, c->engine.last_compute_ms);
    ds_put_format(&ds, "last update flow-mods: %"PRIuSIZE"\n",
                  s.last_flow_mods);
    ds_put_format(&ds, "last update group-mods: %"PRIuSIZE"\n",
                  s.last_group_mods);
    ds_put_format(&ds, "total flow-mods: %"PRIu64"\n", s.total_flow_mods);
    ds_put_format(&ds, "total group-mods: %"PRIu64"\n",
                  s.total_group_mods);
    ds_put_format(&ds, "bundles: %"PRIu64"\n", s.n_bundles);
    ds_put_format(&ds, "full syncs: %"PRIu64"\n", s.n_full_syncs);
    ds_put_format(&ds, "install latency: last %lld ms, max %lld ms%s\n",
                  s.last_latency_ms, s.max_latency_ms,
                  s.in_flight ? " (a bundle is in flight)" : "");
    ds_put_format(&ds, "bundle streaming: %s, at most %"PRIuSIZE" bytes "
                  "queued, %"PRIu64" waits for the switch, %"PRIu64
                  " abandoned\n", s.streaming ? "yes" : "no",
                  s.max_stream_queue_bytes, s.n_stream_waits,
                  s.n_streams_abandoned);
    ds_put_format(&ds, "sent ahead of the computation: %"PRIu64" flow-mods, "
                  "%"PRIu64" group-mods\n", s.ahead_flow_mods,
                  s.ahead_group_mods);
    dpcache_format_status(&ds);

    struct pinctrl_stats ps;
    pinctrl_get_stats(&ps);
    ds_put_format(&ds, "packet-ins: %"PRIu64" (rejected with TCP RST %"
                  PRIu64", with ICMP port unreachable %"PRIu64
                  ", next hops to resolve %"PRIu64", ARP learned %"PRIu64
                  ", too big for a tunnel or a pod %"PRIu64" answered and %"PRIu64
                  " dropped without DF, ignored %"PRIu64")\n",
                  ps.n_packet_ins, ps.n_tcp_resets, ps.n_icmp_unreachables,
                  ps.n_resolves, ps.n_arp_learned, ps.n_too_big,
                  ps.n_too_big_dropped, ps.n_ignored);

    if (c->br_ex) {
        external_bridge_format_status(c->br_ex, &ds);
    }
    unixctl_command_reply(conn, ds_cstr(&ds));
    ds_destroy(&ds);
}

static void
memory_usage_put(struct simap *usage, const char *name, size_t value)
{
    simap_put(usage, name, MIN(value, UINT_MAX));
}

/* The memory usage of one bridge's desired table 'ft' and ofctrl 'of', with
 * names that start with 'prefix'. */
static void
bridge_memory_usage(const char *prefix, const struct flow_table *ft,
                    const struct ofctrl *of, struct simap *usage)
{
    size_t flow_bytes, group_bytes;
    flow_table_memory(ft, &flow_bytes, &group_bytes);

    struct ofctrl_stats s;
    struct ofctrl_memory m;
    ofctrl_get_stats(of, &s);
    ofctrl_get_memory(of, &m);

    const struct {
        const char *name;
        size_t value;
    } items[] = {
        { "desired-flows", flow_table_count(ft) },
        { "desired-flow-bytes", flow_bytes },
        { "desired-groups", flow_table_group_count(ft) },
        { "desired-group-bytes", group_bytes },
        { "installed-flows", s.n_installed },
        { "installed-flow-bytes", m.installed_flow_bytes },
        { "installed-groups", s.n_installed_groups },
        { "installed-group-bytes", m.installed_group_bytes },
        { "bundle-bytes", m.bundle_bytes },
        { "bundle-queued-bytes", m.queued_bytes },
    };
    for (size_t i = 0; i < ARRAY_SIZE(items); i++) {
        char *name = xasprintf("%s%s", prefix, items[i].name);
        memory_usage_put(usage, name, items[i].value);
        free(name);
    }
}

void
controller_memory_usage(const struct controller *c, struct simap *usage)
{
    for (int kind = 0; kind < K8S_N_KINDS; kind++) {
        const char *name = k8s_kind_name(kind);
        char *bytes = xasprintf("%s-bytes", name);
        memory_usage_put(usage, name, k8s_cluster_count(&c->cluster, kind));
        memory_usage_put(usage, bytes,
                         k8s_cluster_memory(&c->cluster, kind));
        free(bytes);
    }
    bridge_memory_usage("", &c->flows, c->br_int, usage);
    if (c->br_ex) {
        bridge_memory_usage("br-ex-", &c->br_ex->flows, c->br_ex->ofctrl,
                            usage);
    }
}

/* "neighbors": the next hops on the external network and their MACs. */
static void
kovs_unixctl_neighbors(struct unixctl_conn *conn, int argc OVS_UNUSED,
                       const char *argv[] OVS_UNUSED, void *c_)
{
    struct controller *c = c_;
    struct ds ds = DS_EMPTY_INITIALIZER;
    if (!c->br_ex) {
        unixctl_command_reply_error(conn, "no external bridge "
                                    "(--external-bridge)");
        return;
    }
    neighbor_format(&c->br_ex->neighbor_table, &ds);
    unixctl_command_reply(conn, ds_cstr(&ds));
    ds_destroy(&ds);
}

/* "policy-stats": for each NetworkPolicy rule, the new connections it
 * allowed, and for each isolated pod the packets dropped, from the
 * switch's counters. */
static void
policy_stats_reply(const struct ofctrl_flow_stat *stats, size_t n,
                   const char *error, void *aux)
{
    struct policy_stats_request *req = aux;
    struct controller *c = req->c;
    if (error) {
        unixctl_command_reply_error(req->conn, error);
        free(req);
        return;
    }

    struct policy_stats ps;
    policy_stats_from_flows(stats, n, &c->flows, c->input.pod_ports, &ps);

    struct svec lines = SVEC_EMPTY_INITIALIZER;
    for (size_t i = 0; i < ps.n; i++) {
        const struct policy_stat *st = &ps.stats[i];
        if (st->type == POLICY_STAT_RULE) {
            svec_add_nocopy(&lines, xasprintf(
                "rule %s: %"PRIu64" connections allowed", st->key,
                st->n_packets));
        } else {
            svec_add_nocopy(&lines, xasprintf(
                "pod %s %s: %"PRIu64" packets dropped", st->key,
                st->direction, st->n_packets));
        }
    }
    policy_stats_destroy(&ps);
    svec_sort(&lines);

    struct ds ds = DS_EMPTY_INITIALIZER;
    for (size_t i = 0; i < lines.n; i++) {
        ds_put_format(&ds, "%s\n", lines.names[i]);
    }
    unixctl_command_reply(req->conn, ds_cstr(&ds));
    ds_destroy(&ds);
    svec_destroy(&lines);
    free(req);
}

static void
kovs_unixctl_policy_stats(struct unixctl_conn *conn, int argc OVS_UNUSED,
                          const char *argv[] OVS_UNUSED, void *c_)
{
    struct controller *c = c_;
    struct policy_stats_request *req = xmalloc(sizeof *req);
    req->conn = conn;
    req->c = c;
    if (!policy_stats_request(c->br_int, policy_stats_reply, req)) {
        free(req);
        unixctl_command_reply_error(conn, "not connected to the switch");
    }
}

/* "flow-summary": the number of desired flows in each table of br-int and
 * br-ex, with the table's name, a flow that several owners want counted
 * once (as the switch holds it). */
static void
kovs_unixctl_flow_summary(struct unixctl_conn *conn, int argc OVS_UNUSED,
                          const char *argv[] OVS_UNUSED, void *c_)
{
    struct controller *c = c_;
    struct ds ds = DS_EMPTY_INITIALIZER;

    kovs_pipeline_summary(&c->flows, c->br_ex ? &c->br_ex->flows : NULL,
                          &ds);
    unixctl_command_reply(conn, ds_cstr(&ds));
    ds_destroy(&ds);
}

/* "cookie KIND [NAMESPACE/]NAME": the cookie of an object's flows, for
 * 'ovs-ofctl dump-flows br-int cookie=C/-1'.  "cookie COOKIE": the
 * owner of flows with cookie COOKIE, as a log line names it. */
static void
kovs_unixctl_cookie(struct unixctl_conn *conn, int argc,
                    const char *argv[], void *c_)
{
    struct controller *c = c_;
    enum kovs_owner_kind kind;
    unsigned long long int value;
    if (argc == 2 && !kovs_owner_kind_from_name(argv[1], &kind)
        && str_to_ullong(argv[1], 0, &value)) {
        struct ds ds = DS_EMPTY_INITIALIZER;
        kovs_cookie_format_owner(&c->cluster, value, &ds);
        unixctl_command_reply(conn, ds_cstr(&ds));
        ds_destroy(&ds);
        return;
    }
    if (!kovs_owner_kind_from_name(argv[1], &kind)) {
        struct ds ds = DS_EMPTY_INITIALIZER;
        ds_put_format(&ds, "%s: unknown kind; the kinds are", argv[1]);
        for (int k = 0; k < 256; k++) {
            const char *name = kovs_owner_kind_name(k);
            if (name) {
                ds_put_format(&ds, " %s", name);
            }
        }
        unixctl_command_reply_error(conn, ds_cstr(&ds));
        ds_destroy(&ds);
        return;
    }

    uint64_t cookie;
    if (kind == KOVS_OWNER_PIPELINE) {
        cookie = KOVS_COOKIE_PIPELINE;
    } else {
        enum k8s_kind k8s_kind;
        struct k8s_key key;
        if (!argv[2]) {
            unixctl_command_reply_error(conn, "name required");
            return;
        }
        if (!kovs_owner_kind_to_k8s(kind, &k8s_kind)) {
            /* Not a Kubernetes object: the name is the whole argument. */
            cookie = kovs_cookie(kind, NULL, argv[2]);
        } else if (k8s_key_parse(&key, k8s_kind, argv[2])) {
            cookie = kovs_cookie(kind, key.namespace, key.name);
            k8s_key_destroy(&key);
        } else {
            unixctl_command_reply_error(conn, k8s_kind_is_namespaced(k8s_kind)
                                        ? "NAMESPACE/NAME expected"
                                        : "NAME expected");
            k8s_key_destroy(&key);
            return;
        }
    }
    char *reply = xasprintf("0x%"PRIx64, cookie);
    unixctl_command_reply(conn, reply);
    free(reply);
}

void
controller_commands_register(struct controller *c)
{
    unixctl_command_register("exit", "", 0, 0, kovs_unixctl_exit, c);
    trace_live_register(c);
    unixctl_command_register("connection-status", "", 0, 0,
                             kovs_unixctl_connection_status, c);
    unixctl_command_register("recompute", "", 0, 0, kovs_unixctl_recompute,
                             c);
    unixctl_command_register("status", "", 0, 0, kovs_unixctl_status, c);
    unixctl_command_register("neighbors", "", 0, 0, kovs_unixctl_neighbors,
                             c);
    unixctl_command_register("policy-stats", "", 0, 0,
                             kovs_unixctl_policy_stats, c);
    unixctl_command_register("flow-summary", "", 0, 0,
                             kovs_unixctl_flow_summary, c);
    unixctl_command_register("cookie", "KIND [NAMESPACE/]NAME | COOKIE",
                             1, 2, kovs_unixctl_cookie, c);
}

