/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#include <config.h>

#include "flows/flows.h"

#include <netinet/icmp6.h>

#include "flows/actions.h"
#include "flows/flow-table.h"
#include "flows/pinctrl-opcodes.h"
#include "flows/pipeline.h"
#include "openvswitch/match.h"

/* One family's addressing of the node on br-ex, IPv4 addresses mapped. */
struct ex_family {
    bool ipv6;
    struct in6_addr node_ip;
    struct in6_addr subnet_mask;    /* Of the node IP's subnet. */
    struct in6_addr gateway_ip;     /* All-zeros if none. */
};

/* Stores in 'fams' the families that 'ex' takes traffic of (IPv4 if br-ex
 * has the node IP, which only an IPv6-only node lacks, and IPv6 if br-ex
 * has an IPv6 address) and returns how many there are. */
static size_t
ex_families(const struct flows_external *ex, struct ex_family fams[2])
{
    size_t n = 0;

    if (flows_external_has_ipv4(ex)) {
        fams[n] = (struct ex_family) { .ipv6 = false };
        in6_addr_set_mapped_ipv4(&fams[n].node_ip, ex->node_ip);
        in6_addr_set_mapped_ipv4(&fams[n].subnet_mask, ex->subnet_mask);
        if (ex->gateway_ip) {
            in6_addr_set_mapped_ipv4(&fams[n].gateway_ip, ex->gateway_ip);
        }
        n++;
    }

    if (flows_external_has_ipv6(ex)) {
        fams[n++] = (struct ex_family) {
            .ipv6 = true,
            .node_ip = ex->node_ip6,
            .subnet_mask = ipv6_create_mask(ex->subnet6_plen),
            .gateway_ip = ex->gateway_ip6,
        };
    }
    return n;
}

bool
flows_external_has_ipv6(const struct flows_external *ex)
{
    return ex && ipv6_addr_is_set(&ex->node_ip6);
}

bool
flows_external_has_ipv4(const struct flows_external *ex)
{
    return ex && ex->node_ip;
}

/* Makes 'match' (reinitialized) IP traffic of family 'fam'. */
static void
ex_match_family(struct match *match, const struct ex_family *fam)
{
    match_init_catchall(match);
    match_set_dl_type(match, htons(fam->ipv6 ? ETH_TYPE_IPV6 : ETH_TYPE_IP));
}

/* Makes 'match' (reinitialized) the answers to kovs's own neighbor
 * requests of family 'fam': ARP replies to the node IP, or Neighbor
 * Advertisements to the node's IPv6 address. */
static void
ex_match_neighbor_reply(struct match *match, const struct ex_family *fam)
{
    if (fam->ipv6) {
        flows_match_icmp6(match, ND_NEIGHBOR_ADVERT);
        match_set_ipv6_dst(match, &fam->node_ip);
    } else {
        match_init_catchall(match);
        match_set_dl_type(match, htons(ETH_TYPE_ARP));
        match_set_arp_opcode_masked(match, ARP_OP_REPLY, UINT8_MAX);
        match_set_nw_dst(match, in6_addr_get_mapped_ipv4(&fam->node_ip));
    }
}

/* br-ex's flows.  The bridge stays what the node's own traffic expects, a
 * plain NORMAL switch, except for what kovs takes:
 *
 *   - packets from br-int leave through the uplink, never through NORMAL
 *     (they carry br-ex's MAC as source, which NORMAL would learn on the
 *     patch port);
 *   - ARP replies to the node IP, and Neighbor Advertisements to its IPv6
 *     address, are also copied to br-int, where the controller learns the
 *     next hops it asked for;
 *   - IP packets to the node IP (of either family), except the tunnel
 *     underlay (VXLAN or Geneve: IPv4, or IPv6 on an IPv6-only node) and
 *     IPv6 Neighbor Solicitations, are looked up in the SNAT zone: replies
 *     of kovs's SNAT go to br-int;
 *   - in routed mode (--tunnel-type=none), IP packets to this node's
 *     podCIDRs (the IPv6 one too, if br-ex has an IPv6 address), which
 *     peer nodes route here, go to br-int (and so do those from a peer's
 *     pods to the node IP: each peer's, node.c).
 *
 * NodePorts and external addresses are the Services' (service.c). */
static void
external_bridge_flows(const struct flows_input *in,
                      const struct flows_local *local,
                      const struct flows_external *ex, struct flow_table *ft,
                      struct ofpbuf *ofpacts)
{
    const uint64_t cookie = kovs_cookie(KOVS_OWNER_EXTERNAL, NULL, "");
    struct match match;

    match_init_catchall(&match);
    ofpbuf_clear(ofpacts);
    flows_put_output(ofpacts, OFPP_NORMAL);
    flow_table_add(ft, cookie, KOVS_T_EX_IN, KOVS_PRIO_MISS, &match,
                   ofpacts);
    flow_table_add(ft, cookie, KOVS_T_EX_SNAT_REPLY, KOVS_PRIO_MISS,
                   &match, ofpacts);

    match_init_catchall(&match);
    match_set_in_port(&match, ex->ex_patch_ofport);
    ofpbuf_clear(ofpacts);
    flows_put_output(ofpacts, ex->uplink_ofport);
    flow_table_add(ft, cookie, KOVS_T_EX_IN, KOVS_PRIO_EX_IN_FROM_INT, &match,
                   ofpacts);

    struct ex_family fams[2];
    size_t n_fams = ex_families(ex, fams);
    for (size_t i = 0; i < n_fams; i++) {
        const struct ex_family *fam = &fams[i];

        ex_match_neighbor_reply(&match, fam);
        match_set_in_port(&match, ex->uplink_ofport);
        ofpbuf_clear(ofpacts);
        flows_put_output(ofpacts, OFPP_NORMAL);
        flows_put_output(ofpacts, ex->ex_patch_ofport);
        flow_table_add(ft, cookie, KOVS_T_EX_IN, KOVS_PRIO_EX_IN_TAKEN,
                       &match, ofpacts);

        match_init_catchall(&match);
        match_set_in_port(&match, ex->uplink_ofport);
        flows_match_ip_dst(&match, &fam->node_ip);
        ofpbuf_clear(ofpacts);
        flows_put_ct_lookup(ofpacts, KOVS_CT_ZONE_SNAT, KOVS_T_EX_SNAT_REPLY);
        flow_table_add(ft, cookie, KOVS_T_EX_IN, KOVS_PRIO_EX_IN_NODE_IP,
                       &match, ofpacts);

        if (fam->ipv6) {
            /* Neighbor Solicitations for the node's address (unicast
             * ones, to check that it is still there) are the node's. */
            flows_match_icmp6(&match, ND_NEIGHBOR_SOLICIT);
            match_set_in_port(&match, ex->uplink_ofport);
            match_set_ipv6_dst(&match, &fam->node_ip);
            ofpbuf_clear(ofpacts);
            flows_put_output(ofpacts, OFPP_NORMAL);
            flow_table_add(ft, cookie, KOVS_T_EX_IN,
                           KOVS_PRIO_EX_IN_NODE_ND, &match, ofpacts);
        }
        if (in->tunnel_mode == FLOWS_TUNNEL_NONE
            && (fam->ipv6 ? local->valid6 : local->valid4)) {
            struct in6_addr net, mask;
            if (fam->ipv6) {
                mask = ipv6_create_mask(local->pod_cidr6.plen);
                net = ipv6_addr_bitand(&local->pod_cidr6.addr, &mask);
            } else {
                in6_addr_set_mapped_ipv4(&net, local->pod_net);
                in6_addr_set_mapped_ipv4(&mask, local->pod_mask);
            }
            match_init_catchall(&match);
            match_set_in_port(&match, ex->uplink_ofport);
            flows_match_ip_masked(&match, false, &net, &mask);
            ofpbuf_clear(ofpacts);
            flows_put_output(ofpacts, ex->ex_patch_ofport);
            flow_table_add(ft, cookie, KOVS_T_EX_IN, KOVS_PRIO_EX_IN_ROUTED,
                           &match, ofpacts);
        } else if (in->tunnel_mode != FLOWS_TUNNEL_NONE
                   && (!fam->ipv6 || n_fams == 1)) {
            /* The underlay: IPv4, or IPv6 on an IPv6-only node. */
            match_init_catchall(&match);
            match_set_in_port(&match, ex->uplink_ofport);
            flows_match_ip_dst(&match, &fam->node_ip);
            match_set_nw_proto(&match, IPPROTO_UDP);
            match_set_tp_dst(&match,
                             htons(in->tunnel_mode == FLOWS_TUNNEL_GENEVE
                                   ? KOVS_GENEVE_PORT : KOVS_VXLAN_PORT));
            ofpbuf_clear(ofpacts);
            flows_put_output(ofpacts, OFPP_NORMAL);
            flow_table_add(ft, cookie, KOVS_T_EX_IN, KOVS_PRIO_EX_IN_UNDERLAY,
                           &match, ofpacts);
        }
    }

    ofpbuf_clear(ofpacts);
    flows_put_output(ofpacts, ex->ex_patch_ofport);
    flows_add_established(ft, cookie, KOVS_T_EX_SNAT_REPLY,
                          KOVS_PRIO_EX_SNAT_REPLY, ofpacts);
}

/* L3_FORWARDING for family 'fam': out through br-ex, to the destination on
 * the node IP's subnet ('onlink') or to the default gateway, with the next
 * hop in NEXTHOP (IPv6: KOVS_NEXTHOP6_FIELD). */
static void
external_route_flow(const struct flows_external *ex,
                    const struct ex_family *fam, bool onlink,
                    uint64_t cookie, struct flow_table *ft,
                    struct ofpbuf *ofpacts)
{
    struct match match;

    ofpbuf_clear(ofpacts);
    if (onlink) {
        struct in6_addr net = ipv6_addr_bitand(&fam->node_ip,
                                               &fam->subnet_mask);
        match_init_catchall(&match);
        flows_match_ip_masked(&match, false, &net, &fam->subnet_mask);
        flows_put_move_subfield(
            ofpacts,
            flows_whole_field(fam->ipv6 ? MFF_IPV6_DST : MFF_IPV4_DST),
            (fam->ipv6 ? flows_whole_field(KOVS_NEXTHOP6_FIELD)
             : flows_field(KOVS_F_NEXTHOP)));
    } else {
        ex_match_family(&match, fam);
        if (fam->ipv6) {
            union mf_value value;
            memcpy(&value.be128, &fam->gateway_ip, sizeof value.be128);
            flows_put_set_field(ofpacts, mf_from_id(KOVS_NEXTHOP6_FIELD),
                                &value, NULL);
        } else {
            flows_put_load_field(
                ofpacts, KOVS_F_NEXTHOP,
                ntohl(in6_addr_get_mapped_ipv4(&fam->gateway_ip)));
        }
    }
    flows_put_set_mac(ofpacts, MFF_ETH_SRC, ex->mac);
    flows_put_dec_ttl(ofpacts);
    flows_put_load_field(ofpacts, KOVS_F_OUT_PORT,
                         ofp_to_u16(ex->patch_ofport));
    flows_put_goto(ofpacts, kovs_table_next(KOVS_T_L3_FORWARDING));
    flow_table_add(ft, cookie, KOVS_T_L3_FORWARDING,
                   onlink ? KOVS_PRIO_L3_ONLINK : KOVS_PRIO_L3_VIA_GATEWAY,
                   &match, ofpacts);
}

/* br-int's side of the external network, owned by the "external" cookie,
 * for IPv4 (unless the node is IPv6-only) and, if br-ex has an IPv6
 * address, for IPv6:
 *
 *   CLASSIFIER     the patch port from br-ex: kind EXTERNAL (routed mode:
 *                  Neighbor Advertisements from a peer too); its ARP goes
 *                  to the controller (neighbor learning), its IP to
 *                  conntrack
 *   ARP            ARP replies and Neighbor Advertisements to the node IP
 *                  go to the controller (neighbor learning)
 *   CT_ZONE        a packet to the node IP is first un-SNATed in the SNAT
 *                  zone (a reply of traffic kovs masqueraded)
 *   L3_FORWARDING  the node IP goes to the node's stack; what is outside
 *                  the cluster leaves through br-ex, to the next hop: the
 *                  destination itself on the node IP's subnet, otherwise
 *                  the default gateway; the cluster CIDR never does, and
 *                  nothing from outside is routed back out
 *   NEIGHBOR       an unknown next hop goes to the controller (RESOLVE)
 *   OUTPUT         routed mode: from br-ex back out to br-ex (to a peer)
 *   SNAT           new connections leaving the cluster are committed (in
 *                  the pod zone first, before their addresses change) and
 *                  masqueraded to the node IP of their family; their later
 *                  packets get the same translation */
static void
external_int_flows(const struct flows_input *in,
                   const struct flows_local *local,
                   const struct flows_external *ex, struct flow_table *ft,
                   struct ofpbuf *ofpacts)
{
    const uint64_t cookie = kovs_cookie(KOVS_OWNER_EXTERNAL, NULL, "");
    struct match match;

    /* CLASSIFIER.  In routed mode, a peer's Neighbor Advertisements are
     * br-ex's too, not the peer's traffic (node.c). */
    match_init_catchall(&match);
    match_set_in_port(&match, ex->patch_ofport);
    ofpbuf_clear(ofpacts);
    flows_put_load_field(ofpacts, KOVS_F_PORT_KIND, KOVS_PORT_EXTERNAL);
    flows_put_goto(ofpacts, KOVS_T_ARP);
    flow_table_add(ft, cookie, KOVS_T_CLASSIFIER, KOVS_PRIO_CLASSIFIER_PORT,
                   &match, ofpacts);
    if (in->tunnel_mode == FLOWS_TUNNEL_NONE
        && flows_external_has_ipv6(ex)) {
        flows_match_icmp6(&match, ND_NEIGHBOR_ADVERT);
        match_set_in_port(&match, ex->patch_ofport);
        flow_table_add(ft, cookie, KOVS_T_CLASSIFIER,
                       KOVS_PRIO_CLASSIFIER_ROUTED_NA, &match, ofpacts);
    }

    /* CT_ZONE: an ICMPv6 error from br-ex goes through the controller as
     * every ICMPv6 error does (pipeline.c), and on from br-int's LOCAL
     * port (see struct pinctrl_icmp6_stash_args). */
    if (local->valid6 && flows_external_has_ipv6(ex)) {
        static const uint8_t error_types[] = {
            ICMP6_DST_UNREACH, ICMP6_PACKET_TOO_BIG, ICMP6_TIME_EXCEEDED,
            ICMP6_PARAM_PROB,
        };
        const struct pinctrl_icmp6_stash_args args = { .from_patch = 1 };
        for (size_t i = 0; i < ARRAY_SIZE(error_types); i++) {
            match_init_catchall(&match);
            match_set_in_port(&match, ex->patch_ofport);
            match_set_dl_type(&match, htons(ETH_TYPE_IPV6));
            match_set_nw_proto(&match, IPPROTO_ICMPV6);
            match_set_icmp_type(&match, error_types[i]);
            kovs_match_field(&match, KOVS_F_FLAG_ICMP6_STASHED, 0);
            ofpbuf_clear(ofpacts);
            flows_put_controller_args(ofpacts, PINCTRL_OP_ICMP6_STASH,
                                      &args, sizeof args);
            flow_table_add(ft, cookie, KOVS_T_CT_ZONE,
                           KOVS_PRIO_CT_ZONE_ICMP6_STASH_PATCH, &match,
                           ofpacts);
        }
    }

    /* NEIGHBOR: a next hop without a MAC yet.  The packet is dropped; a
     * Service connection stays committed with its DNAT, and SNAT commits
     * its source NAT when the client retransmits (by the connection's
     * Service ct_mark). */
    match_init_catchall(&match);
    kovs_match_field(&match, KOVS_F_OUT_PORT, ofp_to_u16(ex->patch_ofport));
    ofpbuf_clear(ofpacts);
    flows_put_controller(ofpacts, PINCTRL_OP_RESOLVE);
    flow_table_add(ft, cookie, KOVS_T_NEIGHBOR, KOVS_PRIO_NEIGHBOR_RESOLVE,
                   &match, ofpacts);

    /* OUTPUT: in routed mode, packets from br-ex go back out through it,
     * to a peer node: NodePort traffic sent on to an endpoint there, and
     * the replies from there to clients outside. */
    if (in->tunnel_mode == FLOWS_TUNNEL_NONE) {
        flows_add_hairpin_out(ft, cookie, ex->patch_ofport, ofpacts);
    }

    struct ex_family fams[2];
    size_t n_fams = ex_families(ex, fams);
    for (size_t i = 0; i < n_fams; i++) {
        const struct ex_family *fam = &fams[i];

        /* ARP and neighbour discovery from the external network: learn
         * from the answers to kovs's own requests, answer nothing.  The
         * rest, broadcasts that br-ex's NORMAL floods here among them,
         * drops. */
        ex_match_neighbor_reply(&match, fam);
        kovs_match_field(&match, KOVS_F_PORT_KIND, KOVS_PORT_EXTERNAL);
        ofpbuf_clear(ofpacts);
        flows_put_controller(ofpacts, PINCTRL_OP_NEIGHBOR);
        flow_table_add(ft, cookie, KOVS_T_ARP, KOVS_PRIO_ARP_EXTERNAL_REPLY,
                       &match, ofpacts);

        /* CT_ZONE: the node IP, un-SNATed first. */
        flows_add_unsnat(ft, cookie, &fam->node_ip, ofpacts);

        /* L3_FORWARDING: the node IP is the node's stack's. */
        match_init_catchall(&match);
        flows_match_ip_dst(&match, &fam->node_ip);
        ofpbuf_clear(ofpacts);
        flows_put_to_node(ofpacts, in, local);
        flow_table_add(ft, cookie, KOVS_T_L3_FORWARDING, KOVS_PRIO_L3_ROUTE,
                       &match, ofpacts);

        /* L3_FORWARDING: the rest of the cluster CIDR is nobody's. */
        const struct k8s_cidr *cluster = k8s_dual_cidr_get(&in->cluster_cidr,
                                                           !fam->ipv6);
        if (cluster) {
            struct in6_addr mask;
            if (fam->ipv6) {
                mask = ipv6_create_mask(cluster->plen);
            } else {
                in6_addr_set_mapped_ipv4(&mask,
                                         be32_prefix_mask(cluster->plen));
            }
            struct in6_addr net = ipv6_addr_bitand(&cluster->addr, &mask);
            match_init_catchall(&match);
            flows_match_ip_masked(&match, false, &net, &mask);
            ofpbuf_clear(ofpacts);
            flow_table_add(ft, cookie, KOVS_T_L3_FORWARDING,
                           KOVS_PRIO_L3_CLUSTER_UNKNOWN, &match, ofpacts);
        }

        /* L3_FORWARDING: nothing from outside goes back out. */
        ex_match_family(&match, fam);
        kovs_match_field(&match, KOVS_F_PORT_KIND, KOVS_PORT_EXTERNAL);
        ofpbuf_clear(ofpacts);
        flow_table_add(ft, cookie, KOVS_T_L3_FORWARDING,
                       KOVS_PRIO_L3_EXTERNAL_NO_RETURN, &match, ofpacts);

        /* L3_FORWARDING: out through br-ex, to the destination on the
         * node IP's subnet or to the default gateway. */
        external_route_flow(ex, fam, true, cookie, ft, ofpacts);
        if (ipv6_addr_is_set(&fam->gateway_ip)) {
            external_route_flow(ex, fam, false, cookie, ft, ofpacts);
        }

        /* SNAT: to the node IP, for everything that leaves through
         * br-ex. */
        for (int state = 0; state < 3; state++) {
            ex_match_family(&match, fam);
            kovs_match_field(&match, KOVS_F_OUT_PORT,
                             ofp_to_u16(ex->patch_ofport));
            ofpbuf_clear(ofpacts);
            if (state == 0) {
                /* Established: the connection's own translation, if any
                 * (a reply to a client outside has none). */
                match_set_ct_state_masked(&match, CS_TRACKED,
                                          CS_NEW | CS_TRACKED);
                flows_put_ct_nat(ofpacts, KOVS_CT_ZONE_SNAT, KOVS_T_OUTPUT);
            } else {
                match_set_ct_state_masked(&match, CS_NEW | CS_TRACKED,
                                          CS_NEW | CS_TRACKED);
                if (state == 1) {
                    /* Not yet committed in the pod zone (a Service's DNAT
                     * commits there itself). */
                    kovs_match_service_conn(&match, false);
                    size_t ofs = flows_put_ct_start(ofpacts,
                                                    KOVS_CT_ZONE_POD, true,
                                                    NX_CT_RECIRC_NONE);
                    flows_put_ct_end(ofpacts, ofs);
                } else {
                    kovs_match_service_conn(&match, true);
                }
                flows_put_snat_to_node(ofpacts, &fam->node_ip,
                                       KOVS_T_OUTPUT);
            }
            flow_table_add(ft, cookie, KOVS_T_SNAT, KOVS_PRIO_SNAT_EXTERNAL,
                           &match, ofpacts);
        }
    }
}

/* The flows of the external bridge, on both bridges (see above), owned by
 * the "external" cookie.  None without an external bridge. */
void
flows_external_compute(const struct flows_input *in,
                       const struct flows_local *local,
                       struct flow_table *ft, struct flow_table *ex_ft)
{
    const uint64_t cookie = kovs_cookie(KOVS_OWNER_EXTERNAL, NULL, "");
    flow_table_remove_owner(ft, cookie);
    if (ex_ft) {
        flow_table_remove_owner(ex_ft, cookie);
    }

    const struct flows_external *ex = in->external;
    if (!ex || !ex_ft || !local->valid || !in->gateway_ofport) {
        return;
    }

    struct ofpbuf ofpacts;
    ofpbuf_init(&ofpacts, 256);
    external_bridge_flows(in, local, ex, ex_ft, &ofpacts);
    external_int_flows(in, local, ex, ft, &ofpacts);
    ofpbuf_uninit(&ofpacts);
}

/* NEIGHBOR: one flow per resolved next hop, IPv4 (NEXTHOP) or IPv6
 * (KOVS_NEXTHOP6_FIELD), owned by the "neighbor" cookie. */
void
flows_neighbor_compute(const struct flows_input *in, struct flow_table *ft)
{
    const uint64_t cookie = kovs_cookie(KOVS_OWNER_NEIGHBOR, NULL, "");
    flow_table_remove_owner(ft, cookie);

    const struct flows_external *ex = in->external;
    if (!ex) {
        return;
    }

    struct ofpbuf ofpacts;
    struct match match;
    ofpbuf_init(&ofpacts, 64);
    for (size_t i = 0; i < ex->n_neighbors; i++) {
        const struct flows_neighbor *n = &ex->neighbors[i];
        match_init_catchall(&match);
        kovs_match_field(&match, KOVS_F_OUT_PORT,
                         ofp_to_u16(ex->patch_ofport));
        if (IN6_IS_ADDR_V4MAPPED(&n->ip)) {
            kovs_match_field(&match, KOVS_F_NEXTHOP,
                             ntohl(in6_addr_get_mapped_ipv4(&n->ip)));
        } else {
            match_set_dl_type(&match, htons(ETH_TYPE_IPV6));
            kovs_match_ip6_field(&match, KOVS_NEXTHOP6_FIELD, &n->ip);
        }
        ofpbuf_clear(&ofpacts);
        flows_put_set_mac(&ofpacts, MFF_ETH_DST, n->mac);
        flows_put_goto(&ofpacts, kovs_table_next(KOVS_T_NEIGHBOR));
        flow_table_add(ft, cookie, KOVS_T_NEIGHBOR, KOVS_PRIO_NEIGHBOR_KNOWN,
                       &match, &ofpacts);
    }
    ofpbuf_uninit(&ofpacts);
}
