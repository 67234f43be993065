/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#include <config.h>

#include "flows/flows.h"

#include "flows/actions.h"
#include "flows/flow-table.h"
#include "flows/pipeline.h"
#include "openvswitch/match.h"

/* A peer node's flows, owned by its cookie:
 *
 *   CLASSIFIER     packets from its tunnel with the cluster's VNI enter the
 *                  pipeline at CT_ZONE (they were checked at the sender)
 *   L3_FORWARDING  packets to its IPv4 podCIDRs go through its tunnel,
 *                  routed: MACs rewritten, TTL decremented
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
    flows_put_load_bits(&ofpacts, KOVS_REG_PORT_KIND, 0, 4,
                        KOVS_PORT_TUNNEL);
    flows_put_goto(&ofpacts, KOVS_T_CT_ZONE);
    flow_table_add(ft, cookie, KOVS_T_CLASSIFIER, KOVS_PRIO_NORMAL, &match,
                   &ofpacts);

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
        flows_put_set_mac(&ofpacts, MFF_ETH_SRC, local->gateway_mac);
        flows_put_set_mac(&ofpacts, MFF_ETH_DST, KOVS_VIRTUAL_MAC);
        flows_put_dec_ttl(&ofpacts);
        flows_put_load(&ofpacts, MFF_TUN_ID, KOVS_TUNNEL_VNI);
        flows_put_load(&ofpacts, KOVS_REG_OUT_PORT, ofp_to_u16(port->ofport));
        flows_put_goto(&ofpacts, kovs_table_next(KOVS_T_L3_FORWARDING));
        flow_table_add(ft, cookie, KOVS_T_L3_FORWARDING, KOVS_PRIO_NORMAL,
                       &match, &ofpacts);
    }
    ofpbuf_uninit(&ofpacts);
}
