/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#include <config.h>

#include "flows/flows.h"

#include "flows/actions.h"
#include "flows/flow-table.h"
#include "flows/pipeline.h"
#include "openvswitch/match.h"

/* How packets reach one peer node: through its tunnel port, or (routed
 * mode) out through br-ex with the peer's InternalIP of the packet's
 * family as next hop. */
struct node_path {
    ofp_port_t out_port;            /* The tunnel port, or br-int's patch
                                     * port to br-ex. */
    const struct in6_addr *tun_dst; /* Through the shared flow-based tunnel
                                     * port: the peer's underlay address
                                     * (IPv4 mapped), which the flows set
                                     * as the tunnel's destination.
                                     * Otherwise NULL. */
    bool ipv4, ipv6;                /* The families that reach the peer. */
    ovs_be32 nexthop;               /* Routed mode: the peer's IPv4... */
    struct in6_addr nexthop6;       /* ...and IPv6 InternalIPs. */
};

/* Puts the actions that make 'dst' (IPv4 mapped) the destination of the
 * shared flow-based tunnel port: tun_dst for an IPv4 underlay; for an
 * IPv6 one tun_ipv6_dst, with tun_dst cleared, since the switch takes
 * tun_dst when both are set (a packet that came from an IPv4 peer keeps
 * its tunnel metadata). */
static void
flows_put_tunnel_dst(struct ofpbuf *ofpacts, const struct in6_addr *dst)
{
    if (IN6_IS_ADDR_V4MAPPED(dst)) {
        flows_put_load(ofpacts, MFF_TUN_DST,
                       ntohl(in6_addr_get_mapped_ipv4(dst)));
    } else {
        union mf_value value;
        flows_put_load(ofpacts, MFF_TUN_DST, 0);
        memcpy(&value.ipv6, dst, sizeof value.ipv6);
        flows_put_set_field(ofpacts, mf_from_id(MFF_TUN_IPV6_DST), &value,
                            NULL);
    }
}

/* Puts the actions that route a packet of family 'ipv6' to the peer along
 * 'path': MACs rewritten (through a tunnel, to the virtual router's;
 * routed, the destination MAC is the next hop's, set by NEIGHBOR), TTL
 * decremented; through a tunnel, the tunnel's destination set (flow-based
 * port) and FLAG_PKT_LARGER set if the packet is larger than the tunnel
 * carries (OUTPUT sends it to the controller). */
static void
put_node_route(struct ofpbuf *ofpacts, const struct flows_input *in,
               const struct flows_local *local, const struct node_path *path,
               bool ipv6)
{
    if (in->tunnel_mode == FLOWS_TUNNEL_NONE) {
        flows_put_set_mac(ofpacts, MFF_ETH_SRC, in->external->mac);
        flows_put_dec_ttl(ofpacts);
        if (ipv6) {
            union mf_value value;
            memcpy(&value.be128, &path->nexthop6, sizeof value.be128);
            flows_put_set_field(ofpacts, mf_from_id(KOVS_NEXTHOP6_FIELD),
                                &value, NULL);
        } else {
            flows_put_load_field(ofpacts, KOVS_F_NEXTHOP,
                                 ntohl(path->nexthop));
        }
    } else {
        flows_put_set_mac(ofpacts, MFF_ETH_SRC, local->gateway_mac);
        flows_put_set_mac(ofpacts, MFF_ETH_DST, KOVS_VIRTUAL_MAC);
        flows_put_dec_ttl(ofpacts);
        flows_put_load(ofpacts, MFF_TUN_ID, KOVS_TUNNEL_VNI);
        if (path->tun_dst) {
            flows_put_tunnel_dst(ofpacts, path->tun_dst);
        }
        flows_put_check_pkt_larger(ofpacts, flows_tunnel_frame_max(in),
                                   KOVS_F_FLAG_PKT_LARGER);
    }
    flows_put_load_field(ofpacts, KOVS_F_OUT_PORT,
                         ofp_to_u16(path->out_port));
    flows_put_goto(ofpacts, kovs_table_next(KOVS_T_L3_FORWARDING));
}

/* Returns true if peer 'node' has a podCIDR of family 'ipv6'. */
static bool
node_has_pod_family(const struct k8s_node *node, bool ipv6)
{
    for (size_t i = 0; i < node->n_pod_cidrs; i++) {
        if (k8s_addr_is_ipv4(&node->pod_cidrs[i].addr) != ipv6) {
            return true;
        }
    }
    return false;
}

/* Finds how packets reach peer 'node' (named 'node_name') in the current
 * tunnel mode and stores it in '*path'.  Returns false if they do not
 * (yet): no tunnel port (flow-based: no shared port, or no underlay
 * address for the peer), no external bridge, no InternalIP, or, routed, an
 * InternalIP off this node's subnet, which is recorded as a warning.
 * IPv6 reaches the peer only from a node with IPv6 pods itself; routed,
 * only from one whose br-ex has an IPv6 address, to a peer with an IPv6
 * InternalIP on its subnet (a peer with an IPv6 podCIDR and none is a
 * warning). */
static bool
node_path_find(const struct flows_input *in, const struct flows_local *local,
               const char *node_name, const struct k8s_node *node,
               uint64_t cookie, struct flow_table *ft, struct node_path *path)
{
    if (in->tunnel_mode != FLOWS_TUNNEL_NONE) {
        const struct flows_port *port = shash_find_data(in->tunnel_ports,
                                                        node_name);
        if (!port || !port->ofport) {
            return false;
        }
        *path = (struct node_path) {
            .out_port = port->ofport,
            .ipv4 = local->valid4,
            .ipv6 = local->valid6,
        };
        if (in->tunnel_port_mode == FLOWS_TUNNEL_PORTS_FLOW) {
            path->tun_dst = k8s_node_underlay_ip(node);
            if (!path->tun_dst || port->ofport != in->tunnel_ofport) {
                return false;
            }
        }
        return true;
    }

    const struct flows_external *ex = in->external;
    if (!ex) {
        return false;
    }
    *path = (struct node_path) { .out_port = ex->patch_ofport };

    ovs_be32 ip = k8s_node_internal_ipv4(node);
    if (!local->valid4) {
        /* No IPv4 from this node. */
    } else if (!ip) {
        if (node_has_pod_family(node, false)) {
            flow_table_add_warning(
                ft, cookie, "Node %s: status.addresses has no IPv4 "
                "InternalIP: its IPv4 pods are unreachable with "
                "--tunnel-type=none", node_name);
        }
    } else if (!((ip ^ ex->node_ip) & ex->subnet_mask)) {
        path->ipv4 = true;
        path->nexthop = ip;
    } else {
        flow_table_add_warning(
            ft, cookie, "Node %s: status.addresses InternalIP "IP_FMT" is "
            "not on this node's subnet "IP_FMT"/%d: its pods are "
            "unreachable with --tunnel-type=none (routed mode needs every "
            "node on one L2 network)", node_name, IP_ARGS(ip),
            IP_ARGS(ex->node_ip & ex->subnet_mask),
            ip_count_cidr_bits(ex->subnet_mask));
    }

    if (!local->valid6 || !flows_external_has_ipv6(ex)
        || !node_has_pod_family(node, true)) {
        return path->ipv4;
    }
    const struct in6_addr *ip6 = k8s_node_internal_ipv6(node);
    struct in6_addr mask = ipv6_create_mask(ex->subnet6_plen);
    struct in6_addr net = ipv6_addr_bitand(&ex->node_ip6, &mask);
    struct in6_addr ip6_net = ip6 ? ipv6_addr_bitand(ip6, &mask) : net;
    if (!ip6) {
        flow_table_add_warning(
            ft, cookie, "Node %s: status.addresses has no IPv6 InternalIP: "
            "its IPv6 pods are unreachable with --tunnel-type=none",
            node_name);
    } else if (!ipv6_addr_equals(&net, &ip6_net)) {
        struct ds s = DS_EMPTY_INITIALIZER;
        ipv6_format_addr(ip6, &s);
        ds_put_cstr(&s, " is not on this node's IPv6 subnet ");
        ipv6_format_addr(&net, &s);
        flow_table_add_warning(
            ft, cookie, "Node %s: status.addresses InternalIP %s/%d: its "
            "IPv6 pods are unreachable with --tunnel-type=none (routed mode "
            "needs every node on one L2 network)", node_name, ds_cstr(&s),
            ex->subnet6_plen);
        ds_destroy(&s);
    } else {
        path->ipv6 = true;
        path->nexthop6 = *ip6;
    }
    return path->ipv4 || path->ipv6;
}

/* The flows for one destination prefix of a peer ('net'/'mask': one of its
 * podCIDRs or its IP, of either family, IPv4 mapped):
 *
 *   CLASSIFIER     routed mode: packets from br-ex with a source in the
 *                  prefix are the peer's (kind TUNNEL) and enter the
 *                  pipeline at CT_ZONE, as from its tunnel
 *   L3_FORWARDING  packets to the prefix are routed to the peer
 *   SNAT           routed mode: they leave unmasqueraded (they do not leave
 *                  the cluster), except what the Service SNAT below takes
 */
static void
node_prefix_flows(const struct flows_input *in,
                  const struct flows_local *local,
                  const struct node_path *path, const struct in6_addr *net,
                  const struct in6_addr *mask, uint64_t cookie,
                  struct flow_table *ft, struct ofpbuf *ofpacts)
{
    bool routed = in->tunnel_mode == FLOWS_TUNNEL_NONE;
    struct match match;

    if (routed) {
        match_init_catchall(&match);
        match_set_in_port(&match, path->out_port);
        flows_match_ip_masked(&match, true, net, mask);
        ofpbuf_clear(ofpacts);
        flows_put_load_field(ofpacts, KOVS_F_PORT_KIND, KOVS_PORT_TUNNEL);
        flows_put_goto(ofpacts, KOVS_T_CT_ZONE);
        flow_table_add(ft, cookie, KOVS_T_CLASSIFIER,
                       KOVS_PRIO_CLASSIFIER_ROUTED_PEER, &match, ofpacts);
    }

    match_init_catchall(&match);
    flows_match_ip_masked(&match, false, net, mask);
    ofpbuf_clear(ofpacts);
    put_node_route(ofpacts, in, local, path, !IN6_IS_ADDR_V4MAPPED(net));
    flow_table_add(ft, cookie, KOVS_T_L3_FORWARDING, KOVS_PRIO_L3_ROUTE,
                   &match, ofpacts);

    if (routed) {
        kovs_match_field(&match, KOVS_F_OUT_PORT,
                         ofp_to_u16(path->out_port));
        ofpbuf_clear(ofpacts);
        flows_put_goto(ofpacts, kovs_table_next(KOVS_T_SNAT));
        flow_table_add(ft, cookie, KOVS_T_SNAT, KOVS_PRIO_SNAT_ROUTED,
                       &match, ofpacts);
    }
}

/* SNAT: a Service connection from outside this node (NodePort or external
 * address) DNATed to an endpoint on the peer is masqueraded to this node's
 * IP of its family, so that the endpoint's replies come back here to be
 * un-DNATed.  Through a tunnel ('net' NULL), the tunnel port says where
 * the packet goes (IPv4 unless the node is IPv6-only, and IPv6 if br-ex
 * has an IPv6 address); routed,
 * the destination prefix 'net'/'mask' (IPv4 mapped) does. */
static void
node_service_snat_flows(const struct flows_input *in,
                        const struct node_path *path,
                        const struct in6_addr *net,
                        const struct in6_addr *mask, uint64_t cookie,
                        struct flow_table *ft, struct ofpbuf *ofpacts)
{
    const struct flows_external *ex = in->external;
    static const enum kovs_port_kind outside[] = {
        KOVS_PORT_EXTERNAL, KOVS_PORT_TUNNEL,
    };
    struct match match;

    for (int ipv6 = 0; ex && ipv6 < 2; ipv6++) {
        if (net ? ipv6 == IN6_IS_ADDR_V4MAPPED(net)
            : !(ipv6 ? flows_external_has_ipv6(ex)
                : flows_external_has_ipv4(ex))) {
            continue;
        }
        struct in6_addr node_ip;
        if (ipv6) {
            node_ip = ex->node_ip6;
        } else {
            in6_addr_set_mapped_ipv4(&node_ip, ex->node_ip);
        }
        for (size_t i = 0; i < 2 * ARRAY_SIZE(outside); i++) {
            bool new = i % 2;
            match_init_catchall(&match);
            match_set_dl_type(&match,
                              htons(ipv6 ? ETH_TYPE_IPV6 : ETH_TYPE_IP));
            if (net) {
                flows_match_ip_masked(&match, false, net, mask);
            }
            kovs_match_field(&match, KOVS_F_OUT_PORT,
                             ofp_to_u16(path->out_port));
            kovs_match_field(&match, KOVS_F_PORT_KIND, outside[i / 2]);
            if (new) {
                kovs_match_service_conn(&match, true);
            }
            match_set_ct_state_masked(&match,
                                      (new ? CS_NEW : 0) | CS_TRACKED,
                                      CS_NEW | CS_TRACKED);
            ofpbuf_clear(ofpacts);
            if (new) {
                flows_put_snat_to_node(ofpacts, &node_ip,
                                       kovs_table_next(KOVS_T_SNAT));
            } else {
                flows_put_ct_nat(ofpacts, KOVS_CT_ZONE_SNAT,
                                 kovs_table_next(KOVS_T_SNAT));
            }
            flow_table_add(ft, cookie, KOVS_T_SNAT, KOVS_PRIO_SNAT_SERVICE,
                           &match, ofpacts);
        }
    }
}

/* Routed mode, br-ex: packets from the peer's pods ('net'/'mask', one of
 * its podCIDRs, IPv4 mapped) to this node's IP of that family go to
 * br-int, as through a tunnel, so that both directions of their
 * connections go through br-int's conntrack (the node's replies leave
 * through kovs-gw0 and br-int): a pod reaching a host service of this
 * node, and the replies to this node's own connections to a ClusterIP,
 * which br-int must un-DNAT. */
static void
node_ex_flows(const struct flows_external *ex, const struct in6_addr *net,
              const struct in6_addr *mask, uint64_t cookie,
              struct flow_table *ex_ft, struct ofpbuf *ofpacts)
{
    struct in6_addr node_ip;
    struct match match;

    if (IN6_IS_ADDR_V4MAPPED(net)) {
        in6_addr_set_mapped_ipv4(&node_ip, ex->node_ip);
    } else {
        node_ip = ex->node_ip6;
    }
    match_init_catchall(&match);
    match_set_in_port(&match, ex->uplink_ofport);
    flows_match_ip_masked(&match, true, net, mask);
    flows_match_ip_dst(&match, &node_ip);
    ofpbuf_clear(ofpacts);
    flows_put_output(ofpacts, ex->ex_patch_ofport);
    flow_table_add(ex_ft, cookie, KOVS_T_EX_IN, KOVS_PRIO_EX_IN_ROUTED,
                   &match, ofpacts);
}

/* Stores podCIDR 'c' of a peer as 'net'/'mask' (IPv4 mapped) and returns
 * true, or returns false if it overlaps this node's own podCIDR of its
 * family (local pods win). */
static bool
node_pod_cidr_prefix(const struct flows_local *local,
                     const struct k8s_cidr *c, struct in6_addr *net,
                     struct in6_addr *mask)
{
    if (k8s_addr_is_ipv4(&c->addr)) {
        ovs_be32 mask4 = be32_prefix_mask(c->plen);
        ovs_be32 net4 = in6_addr_get_mapped_ipv4(&c->addr) & mask4;
        in6_addr_set_mapped_ipv4(net, net4);
        in6_addr_set_mapped_ipv4(mask, mask4);
        return !((net4 & local->pod_mask) == local->pod_net
                 || (local->pod_net & mask4) == net4);
    }
    *mask = ipv6_create_mask(c->plen);
    *net = ipv6_addr_bitand(&c->addr, mask);
    struct in6_addr local_net = ipv6_addr_bitand(&local->pod_cidr6.addr,
                                                 mask);
    return !(flows_local_has_ipv6(local, &c->addr)
             || ipv6_addr_equals(&local_net, net));
}

/* A peer node's flows, owned by its cookie:
 *
 *   CLASSIFIER     packets from its tunnel with the cluster's VNI (through
 *                  the shared flow-based port: and its underlay address as
 *                  tunnel source) enter the pipeline at CT_ZONE (they were
 *                  checked at the sender);
 *                  routed mode: packets from br-ex with its pod or node
 *                  address as source do
 *   L3_FORWARDING  packets to its podCIDRs and to its IPs (IPv6 ones on a
 *                  dual-stack node) go through its tunnel or, routed, out
 *                  through br-ex with its IP of their family as next hop:
 *                  MACs rewritten, TTL decremented
 *   SNAT           Service traffic from outside sent on to it is
 *                  masqueraded to this node's IP (through the shared
 *                  flow-based port, the pipeline's flows do it for every
 *                  peer: flows_node_shared_tunnel_flows()); routed mode:
 *                  the rest of
 *                  the traffic to it is not
 *   EX_IN (br-ex)  routed mode: packets from its pods to this node's IP go
 *                  to br-int
 *
 * This node itself, and a peer that packets cannot reach yet (no tunnel
 * port; routed: no external bridge, or the peer's IP is not on this node's
 * subnet, which is a warning), get none; routed, IPv6 reaches a peer only
 * through br-ex's IPv6 address, to the peer's IPv6 InternalIP. */
void
flows_node_compute(const struct flows_input *in,
                   const struct flows_local *local,
                   const char *node_name, struct flow_table *ft,
                   struct flow_table *ex_ft)
{
    const uint64_t cookie = kovs_cookie(KOVS_OWNER_NODE, NULL, node_name);
    flow_table_remove_owner(ft, cookie);
    if (ex_ft) {
        flow_table_remove_owner(ex_ft, cookie);
    }

    if (!strcmp(node_name, in->node_name) || !local->valid) {
        return;
    }
    const struct k8s_object *obj = k8s_cluster_find(in->cluster, K8S_NODE,
                                                    "", node_name);
    if (!obj) {
        return;
    }
    const struct k8s_node *node = k8s_node_cast(obj);
    struct node_path path;
    if (!node_path_find(in, local, node_name, node, cookie, ft, &path)) {
        return;
    }
    bool routed = in->tunnel_mode == FLOWS_TUNNEL_NONE;

    struct ofpbuf ofpacts;
    struct match match;
    ofpbuf_init(&ofpacts, 256);

    if (!routed) {
        match_init_catchall(&match);
        match_set_in_port(&match, path.out_port);
        match_set_tun_id(&match, htonll(KOVS_TUNNEL_VNI));
        if (path.tun_dst && IN6_IS_ADDR_V4MAPPED(path.tun_dst)) {
            match_set_tun_src(&match,
                              in6_addr_get_mapped_ipv4(path.tun_dst));
        } else if (path.tun_dst) {
            match_set_tun_ipv6_src(&match, path.tun_dst);
        }
        flows_put_load_field(&ofpacts, KOVS_F_PORT_KIND, KOVS_PORT_TUNNEL);
        flows_put_goto(&ofpacts, KOVS_T_CT_ZONE);
        flow_table_add(ft, cookie, KOVS_T_CLASSIFIER,
                       KOVS_PRIO_CLASSIFIER_PORT, &match, &ofpacts);
        if (!path.tun_dst) {
            node_service_snat_flows(in, &path, NULL, NULL, cookie, ft,
                                    &ofpacts);
        }
    }

    /* Its podCIDRs of the families that reach it. */
    for (size_t i = 0; i < node->n_pod_cidrs; i++) {
        const struct k8s_cidr *c = &node->pod_cidrs[i];
        struct in6_addr net, mask;
        if (!(k8s_addr_is_ipv4(&c->addr) ? path.ipv4 : path.ipv6)
            || !node_pod_cidr_prefix(local, c, &net, &mask)) {
            continue;
        }
        node_prefix_flows(in, local, &path, &net, &mask, cookie, ft,
                          &ofpacts);
        if (routed) {
            node_service_snat_flows(in, &path, &net, &mask, cookie, ft,
                                    &ofpacts);
            if (ex_ft) {
                node_ex_flows(in->external, &net, &mask, cookie, ex_ft,
                              &ofpacts);
            }
        }
    }

    /* Its own IPs, too, so that replies to traffic that node source-NATed
     * to its IP go back to it. */
    struct in6_addr node_ips[2] = { IN6ADDR_ANY_INIT, IN6ADDR_ANY_INIT };
    ovs_be32 node_ip = k8s_node_internal_ipv4(node);
    const struct in6_addr *node_ip6 = k8s_node_internal_ipv6(node);
    if (node_ip && path.ipv4) {
        in6_addr_set_mapped_ipv4(&node_ips[0], node_ip);
    }
    if (node_ip6 && path.ipv6) {
        node_ips[1] = *node_ip6;
    }
    for (size_t i = 0; i < ARRAY_SIZE(node_ips); i++) {
        if (!ipv6_addr_is_set(&node_ips[i])) {
            continue;
        }
        struct in6_addr mask = in6addr_exact;
        if (!i) {
            in6_addr_set_mapped_ipv4(&mask, OVS_BE32_MAX);
        }
        node_prefix_flows(in, local, &path, &node_ips[i], &mask, cookie,
                          ft, &ofpacts);
        if (routed) {
            node_service_snat_flows(in, &path, &node_ips[i], &mask, cookie,
                                    ft, &ofpacts);
        }
    }
    ofpbuf_uninit(&ofpacts);
}

/* The flows of the shared flow-based tunnel port that are the same for
 * every peer, owned by 'cookie':
 *
 *   SNAT           Service traffic from outside sent on to any peer is
 *                  masqueraded to this node's IP, as node_service_snat_flows()
 *                  does for a per-node port
 *   OUTPUT         a packet from one peer routed on to another goes back
 *                  out of the port it came in on (OpenFlow drops an output
 *                  to the in_port otherwise)
 */
void
flows_node_shared_tunnel_flows(const struct flows_input *in, uint64_t cookie,
                               struct flow_table *ft)
{
    if (in->tunnel_mode == FLOWS_TUNNEL_NONE
        || in->tunnel_port_mode != FLOWS_TUNNEL_PORTS_FLOW
        || !in->tunnel_ofport) {
        return;
    }
    const struct node_path path = { .out_port = in->tunnel_ofport };
    struct ofpbuf ofpacts;

    ofpbuf_init(&ofpacts, 256);
    node_service_snat_flows(in, &path, NULL, NULL, cookie, ft, &ofpacts);
    flows_add_hairpin_out(ft, cookie, in->tunnel_ofport, &ofpacts);
    ofpbuf_uninit(&ofpacts);
}
