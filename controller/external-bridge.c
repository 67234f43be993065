/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#include <config.h>

#include "controller/external-bridge.h"

#include "controller/engine.h"
#include "controller/healthcheck.h"
#include "controller/neighbor.h"
#include "controller/ofctrl.h"
#include "controller/pinctrl.h"
#include "controller/vswitch.h"
#include "dirs.h"
#include "flow.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/list.h"
#include "k8s/k8s-model.h"
#include "openvswitch/ofpbuf.h"
#include "packets.h"
#include "timeval.h"
#include "util.h"

struct external_bridge *
external_bridge_create(const char *name)
{
    struct external_bridge *xb = xzalloc(sizeof *xb);
    xb->name = xstrdup(name);
    char *target = xasprintf("unix:%s/%s.mgmt", ovs_rundir(), name);
    neighbor_init(&xb->neighbor_table);
    xb->ofctrl = ofctrl_create(name, target, pinctrl_handle_packet_in,
                               &xb->neighbor_table);
    free(target);
    flow_table_init(&xb->flows);
    uplink_init(&xb->uplink);
    healthcheck_init(&xb->healthcheck);
    healthcheck_start(&xb->healthcheck, NULL);
    xb->neighbor_seqno = neighbor_seqno(&xb->neighbor_table);
    return xb;
}

void
external_bridge_destroy(struct external_bridge *xb)
{
    if (xb) {
        ofctrl_destroy(xb->ofctrl);
        healthcheck_destroy(&xb->healthcheck);
        neighbor_destroy(&xb->neighbor_table);
        free(xb->neighbors);
        uplink_destroy(&xb->uplink);
        flow_table_destroy(&xb->flows);
        free(xb->name);
        free(xb);
    }
}

const struct flows_external *
external_bridge_update(struct external_bridge *xb,
                       const struct vswitch_external *vx, ovs_be32 ip,
                       const struct in6_addr *ip6, bool ipv4_pods,
                       bool ipv6_pods, struct engine *engine)
{
    /* An IPv6-only node takes no IPv4 through br-ex, and needs an IPv6
     * address there instead of the IPv4 node IP. */
    bool ipv6_only = !ipv4_pods && ipv6_pods;
    if (ipv6_only) {
        ip = 0;
    }
    uplink_run(&xb->uplink, xb->name, ip, ip6, ipv6_only, &xb->uplink_info);
    const struct uplink_info *up = &xb->uplink_info;
    bool ipv6 = ipv6_pods && ipv6_addr_is_set(&up->node_ip6);

    struct flows_external ex = {
        .patch_ofport = vx->patch_ofport,
        .ex_patch_ofport = vx->ex_patch_ofport,
        .uplink_ofport = vx->uplink_ofport,
        .mac = vx->mac,
        .node_ip = ip,
        .subnet_mask = xb->uplink_info.subnet_mask,
        .gateway_ip = xb->uplink_info.gateway_ip,
        .node_ip6 = ipv6 ? up->node_ip6 : in6addr_any,
        .subnet6_plen = ipv6 ? up->subnet6_plen : 0,
        .gateway_ip6 = ipv6 ? up->gateway_ip6 : in6addr_any,
        .neighbors = xb->external.neighbors,
        .n_neighbors = xb->external.n_neighbors,
    };
    /* The ports input reports the changes of the ports and of the MAC;
     * these are the uplink's. */
    bool ready = vx->ready && (ip || ipv6_only) && xb->uplink_info.valid;
    const struct flows_external *old = &xb->external;
    if (ready != xb->ready || ex.node_ip != old->node_ip
        || ex.subnet_mask != old->subnet_mask
        || ex.gateway_ip != old->gateway_ip
        || !ipv6_addr_equals(&ex.node_ip6, &old->node_ip6)
        || ex.subnet6_plen != old->subnet6_plen
        || !ipv6_addr_equals(&ex.gateway_ip6, &old->gateway_ip6)) {
        engine_input_changed(engine, ENGINE_IN_UPLINK, ENGINE_ALL);
    }
    xb->external = ex;
    xb->ready = ready;

    struct neighbor_config ncfg = {
        .node_ip = ready ? ip : 0,
        .node_ip6 = ready ? ex.node_ip6 : in6addr_any,
        .mac = vx->mac,
        .out_port = vx->patch_ofport,
        .kernel_dev = xb->name,
    };
    neighbor_configure(&xb->neighbor_table, &ncfg);
    uint64_t seqno = neighbor_seqno(&xb->neighbor_table);
    if (seqno != xb->neighbor_seqno) {
        xb->neighbor_seqno = seqno;
        free(xb->neighbors);
        xb->external.n_neighbors = neighbor_get(&xb->neighbor_table,
                                                &xb->neighbors);
        xb->external.neighbors = xb->neighbors;
        engine_input_changed(engine, ENGINE_IN_NEIGHBORS, ENGINE_SOME);
    }
    return ready ? &xb->external : NULL;
}

void
external_bridge_run(struct external_bridge *xb, struct ofctrl *br_int,
                    bool ready, const struct k8s_cluster *peers,
                    const char *node_name)
{
    if (ofctrl_run(xb->ofctrl) && ready) {
        ofctrl_put(xb->ofctrl, &xb->flows, NULL);
    }

    struct ovs_list msgs = OVS_LIST_INITIALIZER(&msgs);
    enum ofp_version version = ofctrl_get_version(br_int);
    neighbor_run(&xb->neighbor_table, version, &msgs);
    const struct flows_external *ex = &xb->external;
    if (xb->ready && version && time_msec() >= xb->next_gateway_resolve
        && (ex->gateway_ip || ipv6_addr_is_set(&ex->gateway_ip6))) {
        /* The default gateways are everybody's next hops: resolve them
         * before the first packet needs them. */
        if (ex->gateway_ip) {
            struct in6_addr gw;
            in6_addr_set_mapped_ipv4(&gw, ex->gateway_ip);
            neighbor_resolve(&xb->neighbor_table, &gw, version, &msgs);
        }
        if (ipv6_addr_is_set(&ex->gateway_ip6)) {
            neighbor_resolve(&xb->neighbor_table, &ex->gateway_ip6, version,
                             &msgs);
        }
        xb->next_gateway_resolve = time_msec() + 10 * 1000;
    }
    if (xb->ready && peers && version
        && time_msec() >= xb->next_peers_resolve) {
        /* Routed mode: every peer node is a next hop of pod traffic. */
        const struct k8s_object *obj;
        struct in6_addr mask6 = ipv6_create_mask(ex->subnet6_plen);
        struct in6_addr net6 = ipv6_addr_bitand(&ex->node_ip6, &mask6);
        K8S_CLUSTER_FOR_EACH (obj, K8S_NODE, peers) {
            if (!strcmp(obj->name, node_name)) {
                continue;
            }
            const struct k8s_node *node = k8s_node_cast(obj);
            ovs_be32 ip = k8s_node_internal_ipv4(node);
            if (ip && ex->node_ip
                && !((ip ^ ex->node_ip) & ex->subnet_mask)) {
                struct in6_addr mapped;
                in6_addr_set_mapped_ipv4(&mapped, ip);
                neighbor_resolve(&xb->neighbor_table, &mapped, version,
                                 &msgs);
            }
            const struct in6_addr *ip6 = k8s_node_internal_ipv6(node);
            if (ip6 && ipv6_addr_is_set(&ex->node_ip6)) {
                struct in6_addr net = ipv6_addr_bitand(ip6, &mask6);
                if (ipv6_addr_equals(&net, &net6)) {
                    neighbor_resolve(&xb->neighbor_table, ip6, version,
                                     &msgs);
                }
            }
        }
        xb->next_peers_resolve = time_msec() + 10 * 1000;
    }
    struct ofpbuf *msg;
    LIST_FOR_EACH_POP (msg, list_node, &msgs) {
        ofctrl_send_msg(br_int, msg);
    }
    healthcheck_run(&xb->healthcheck);
}

void
external_bridge_wait(struct external_bridge *xb)
{
    ofctrl_wait(xb->ofctrl);
    uplink_wait(&xb->uplink);
    neighbor_wait(&xb->neighbor_table);
    healthcheck_wait(&xb->healthcheck);
}

void
external_bridge_format_status(const struct external_bridge *xb,
                              struct ds *ds)
{
    const struct flows_external *ex = &xb->external;
    struct ofctrl_stats s;

    ds_put_format(ds, "external bridge %s: ", xb->name);
    if (xb->ready) {
        if (ex->node_ip) {
            ds_put_format(ds, "node IP "IP_FMT"/%d, ", IP_ARGS(ex->node_ip),
                          ip_count_cidr_bits(ex->subnet_mask));
        } else {
            ds_put_cstr(ds, "IPv6 only, ");
        }
        ds_put_format(ds, "MAC "ETH_ADDR_FMT", uplink port %d, patch port "
                      "%d, ", ETH_ADDR_ARGS(ex->mac),
                      ofp_to_u16(ex->uplink_ofport),
                      ofp_to_u16(ex->patch_ofport));
        if (!ex->node_ip) {
            ds_put_cstr(ds, "no IPv4\n");
        } else if (ex->gateway_ip) {
            ds_put_format(ds, "gateway "IP_FMT"\n", IP_ARGS(ex->gateway_ip));
        } else {
            ds_put_cstr(ds, "no gateway\n");
        }
        if (ipv6_addr_is_set(&ex->node_ip6)) {
            ds_put_format(ds, "external bridge %s: node IPv6 address ",
                          xb->name);
            ipv6_format_addr(&ex->node_ip6, ds);
            ds_put_format(ds, "/%d, ", ex->subnet6_plen);
            if (ipv6_addr_is_set(&ex->gateway_ip6)) {
                ds_put_cstr(ds, "gateway ");
                ipv6_format_addr(&ex->gateway_ip6, ds);
                ds_put_char(ds, '\n');
            } else {
                ds_put_cstr(ds, "no gateway\n");
            }
        }
    } else {
        ds_put_cstr(ds, "not ready (see the log)\n");
    }
    ofctrl_get_stats(xb->ofctrl, &s);
    ds_put_format(ds, "%s flows: %"PRIuSIZE" desired, %"PRIuSIZE
                  " installed\n", xb->name, flow_table_count(&xb->flows),
                  s.n_installed);
    ds_put_format(ds, "neighbors: %"PRIuSIZE" resolved\n",
                  ex->n_neighbors);
    healthcheck_format(&xb->healthcheck, ds);
}
