/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#include <config.h>

#include "flows/flows.h"

#include "flows/actions.h"
#include "flows/flow-table.h"
#include "flows/pipeline.h"
#include "openvswitch/match.h"

/* Routes a packet through the tunnel 'port': MACs rewritten, TTL
 * decremented. */
static void
put_tunnel_route(struct ofpbuf *ofpacts, const struct flows_local *local,
                 const struct flows_port *port)
{
    flows_put_set_mac(ofpacts, MFF_ETH_SRC, local->gateway_mac);
    flows_put_set_mac(ofpacts, MFF_ETH_DST, KOVS_VIRTUAL_MAC);
    flows_put_dec_ttl(ofpacts);
    flows_put_load(ofpacts, MFF_TUN_ID, KOVS_TUNNEL_VNI);
    flows_put_load_field(ofpacts, KOVS_F_OUT_PORT, ofp_to_u16(port->ofport));
    flows_put_goto(ofpacts, kovs_table_next(KOVS_T_L3_FORWARDING));
}

/* A peer node's flows, owned by its cookie:
 *
 *   CLASSIFIER     packets from its tunnel with the cluster's VNI enter the
 *                  pipeline at CT_ZONE (they were checked at the sender)
 *   L3_FORWARDING  packets to its IPv4 podCIDRs go through its tunnel,
 *                  routed: MACs rewritten, TTL decremented; on a
 *                  dual-stack node, packets to its IPv6 podCIDRs too
 *
 * This node itself, and a peer without a tunnel port yet, get none. */
void
flows_node_compute(const struct flows_input *in,
                   const struct flows_local *local,
                   const char *node_name, struct flow_table *ft)
{
    const uint64_t cookie = kovs_cookie(KOVS_OWNER_NODE, NULL, node_name);
    flow_table_remove_owner(ft, cookie);

    if (!strcmp(node_name, in->node_name) || !local->valid) {
        return;
    }
    const struct k8s_object *obj = k8s_cluster_find(in->cluster, K8S_NODE,
                                                    "", node_name);
    const struct flows_port *port = shash_find_data(in->tunnel_ports,
                                                    node_name);
    if (!obj || !port || !port->ofport) {
        return;
    }
    const struct k8s_node *node = k8s_node_cast(obj);

    struct ofpbuf ofpacts;
    struct match match;
    ofpbuf_init(&ofpacts, 256);

    match_init_catchall(&match);
    match_set_in_port(&match, port->ofport);
    match_set_tun_id(&match, htonll(KOVS_TUNNEL_VNI));
    flows_put_load_field(&ofpacts, KOVS_F_PORT_KIND, KOVS_PORT_TUNNEL);
    flows_put_goto(&ofpacts, KOVS_T_CT_ZONE);
    flow_table_add(ft, cookie, KOVS_T_CLASSIFIER, KOVS_PRIO_CLASSIFIER_PORT,
                   &match, &ofpacts);

    for (size_t i = 0; i < node->n_pod_cidrs; i++) {
        const struct k8s_cidr *c = &node->pod_cidrs[i];
        if (!k8s_addr_is_ipv4(&c->addr)) {
            continue;
        }
        ovs_be32 net = in6_addr_get_mapped_ipv4(&c->addr);
        ovs_be32 mask = be32_prefix_mask(c->plen);
        if ((net & local->pod_mask) == local->pod_net
            || (local->pod_net & mask) == net) {
            /* Overlaps this node's own podCIDR: local pods win. */
            continue;
        }

        match_init_catchall(&match);
        match_set_dl_type(&match, htons(ETH_TYPE_IP));
        match_set_nw_dst_masked(&match, net, mask);
        ofpbuf_clear(&ofpacts);
        put_tunnel_route(&ofpacts, local, port);
        flow_table_add(ft, cookie, KOVS_T_L3_FORWARDING, KOVS_PRIO_L3_ROUTE,
                       &match, &ofpacts);
    }

    /* L3_FORWARDING: its IPv6 podCIDRs, the same way, on a node that has
     * IPv6 pods itself.  The tunnel's underlay stays IPv4. */
    for (size_t i = 0; local->valid6 && i < node->n_pod_cidrs; i++) {
        const struct k8s_cidr *c = &node->pod_cidrs[i];
        if (k8s_addr_is_ipv4(&c->addr)) {
            continue;
        }
        struct in6_addr mask = ipv6_create_mask(c->plen);
        struct in6_addr local_net = ipv6_addr_bitand(&local->pod_cidr6.addr,
                                                     &mask);
        if (flows_local_has_ipv6(local, &c->addr)
            || ipv6_addr_equals(&local_net, &c->addr)) {
            /* Overlaps this node's own podCIDR: local pods win. */
            continue;
        }

        match_init_catchall(&match);
        match_set_dl_type(&match, htons(ETH_TYPE_IPV6));
        match_set_ipv6_dst_masked(&match, &c->addr, &mask);
        ofpbuf_clear(&ofpacts);
        put_tunnel_route(&ofpacts, local, port);
        flow_table_add(ft, cookie, KOVS_T_L3_FORWARDING, KOVS_PRIO_L3_ROUTE,
                       &match, &ofpacts);
    }

    /* L3_FORWARDING: the node's own IP, through the tunnel too, so that
     * replies to traffic that node source-NATed to its IP go back to it. */
    ovs_be32 node_ip = k8s_node_internal_ipv4(node);
    if (node_ip) {
        match_init_catchall(&match);
        match_set_dl_type(&match, htons(ETH_TYPE_IP));
        match_set_nw_dst(&match, node_ip);
        ofpbuf_clear(&ofpacts);
        put_tunnel_route(&ofpacts, local, port);
        flow_table_add(ft, cookie, KOVS_T_L3_FORWARDING, KOVS_PRIO_L3_ROUTE,
                       &match, &ofpacts);
    }

    /* SNAT: a Service connection from outside this node (NodePort or
     * external address) DNATed to an endpoint on that node is masqueraded
     * to this node's IP, so that the endpoint's replies come back here to
     * be un-DNATed. */
    const struct flows_external *ex = in->external;
    static const enum kovs_port_kind outside[] = {
        KOVS_PORT_EXTERNAL, KOVS_PORT_TUNNEL,
    };
    for (size_t i = 0; ex && i < ARRAY_SIZE(outside); i++) {
        for (int new = 0; new < 2; new++) {
            match_init_catchall(&match);
            match_set_dl_type(&match, htons(ETH_TYPE_IP));
            kovs_match_field(&match, KOVS_F_OUT_PORT,
                             ofp_to_u16(port->ofport));
            kovs_match_field(&match, KOVS_F_PORT_KIND, outside[i]);
            if (new) {
                kovs_match_field(&match, KOVS_F_FLAG_SVC_DNAT, 1);
            }
            match_set_ct_state_masked(&match,
                                      (new ? CS_NEW : 0) | CS_TRACKED,
                                      CS_NEW | CS_TRACKED);
            ofpbuf_clear(&ofpacts);
            if (new) {
                flows_put_snat_to_node(&ofpacts, ex->node_ip,
                                       kovs_table_next(KOVS_T_SNAT));
            } else {
                flows_put_ct_nat(&ofpacts, KOVS_CT_ZONE_SNAT,
                                 kovs_table_next(KOVS_T_SNAT));
            }
            flow_table_add(ft, cookie, KOVS_T_SNAT, KOVS_PRIO_SNAT_SERVICE,
                           &match, &ofpacts);
        }
    }
    ofpbuf_uninit(&ofpacts);
}
