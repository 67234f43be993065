/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#include <config.h>

#include "flows/flows.h"

#include "flows/actions.h"
#include "flows/flow-table.h"
#include "flows/pipeline.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/match.h"

ovs_be32
flows_pod_object_ipv4(const struct k8s_pod *pod)
{
    for (size_t i = 0; i < pod->n_ips; i++) {
        if (k8s_addr_is_ipv4(&pod->ips[i])) {
            return in6_addr_get_mapped_ipv4(&pod->ips[i]);
        }
    }
    return 0;
}

ovs_be32
flows_pod_ipv4(const struct flows_input *in, const struct k8s_pod *pod)
{
    const struct flows_port *port = flows_pod_port(in, pod);
    return port && port->ip ? port->ip : flows_pod_object_ipv4(pod);
}

const struct in6_addr *
flows_pod_ipv6(const struct flows_input *in, const struct k8s_pod *pod)
{
    const struct flows_port *port = flows_pod_port(in, pod);
    if (port && ipv6_addr_is_set(&port->ip6)) {
        return &port->ip6;
    }
    return k8s_addrs_find_family(pod->ips, pod->n_ips, false);
}

const struct flows_port *
flows_pod_port(const struct flows_input *in, const struct k8s_pod *pod)
{
    if (pod->host_network || strcmp(pod->node_name, in->node_name)) {
        return NULL;
    }
    struct ds key = DS_EMPTY_INITIALIZER;
    ds_put_format(&key, "%s/%s", pod->obj.namespace, pod->obj.name);
    const struct flows_port *port = shash_find_data(in->pod_ports,
                                                    ds_cstr(&key));
    ds_destroy(&key);
    return (port && port->ofport && !eth_addr_is_zero(port->mac)
            ? port : NULL);
}

/* SPOOFGUARD: adds the flow, owned by 'cookie', that lets the pod on
 * 'port' send 'match' (which this function completes with the pod's port
 * and MAC) on to ARP, at 'priority'. */
static void
pod_spoofguard_allow(struct flow_table *ft, uint64_t cookie,
                     const struct flows_port *port, struct match *match,
                     uint16_t priority, struct ofpbuf *ofpacts)
{
    match_set_in_port(match, port->ofport);
    match_set_dl_src(match, port->mac);
    ofpbuf_clear(ofpacts);
    flows_put_goto(ofpacts, KOVS_T_ARP);
    flow_table_add(ft, cookie, KOVS_T_SPOOFGUARD, priority, match, ofpacts);
}

/* Starts 'match' as an ICMPv6 neighbour discovery message of type 'type'
 * from 'src'. */
static void
match_nd_from(struct match *match, uint8_t type, const struct in6_addr *src)
{
    match_init_catchall(match);
    match_set_dl_type(match, htons(ETH_TYPE_IPV6));
    match_set_nw_proto(match, IPPROTO_ICMPV6);
    match_set_icmp_type(match, type);
    match_set_icmp_code(match, 0);
    match_set_ipv6_src(match, src);
}

/* The flows of a local pod for its address 'ip' of either family (IPv4
 * mapped), in this node's podCIDR of that family:
 *
 *   L3_FORWARDING  switched (the sender already addressed the pod's MAC: a
 *                  pod or the node on the same subnet), or routed (from
 *                  another node's pod through a tunnel, or sent to the
 *                  gateway's MAC), with the MACs rewritten, the TTL
 *                  decremented and FLAG_POD_LARGER set if the packet is
 *                  larger than the pod's MTU (from br-ex's uplink, whose
 *                  MTU may be larger; OUTPUT answers it)
 *   SNAT           hairpin: a pod that reaches itself through a Service.
 *                  Its packets to the Service leave by the port they came
 *                  in on, source-NATed to the family's hairpin address in
 *                  the SNAT zone, so that the pod sees a peer other than
 *                  itself and its replies come back through the pipeline
 *                  (where CT_ZONE un-SNATs them).  The first packet commits
 *                  the SNAT, the others apply it. */
static void
pod_forwarding_flows(const struct flows_local *local, uint64_t cookie,
                     const struct flows_port *port, const struct in6_addr *ip,
                     struct flow_table *ft, struct ofpbuf *ofpacts)
{
    bool ipv4 = IN6_IS_ADDR_V4MAPPED(ip);
    struct match match;

    match_init_catchall(&match);
    match_set_dl_dst(&match, port->mac);
    flows_match_ip_dst(&match, ip);
    ofpbuf_clear(ofpacts);
    flows_put_load_field(ofpacts, KOVS_F_OUT_PORT, ofp_to_u16(port->ofport));
    flows_put_goto(ofpacts, kovs_table_next(KOVS_T_L3_FORWARDING));
    flow_table_add(ft, cookie, KOVS_T_L3_FORWARDING,
                   KOVS_PRIO_L3_POD_SWITCHED, &match, ofpacts);

    match_init_catchall(&match);
    flows_match_ip_dst(&match, ip);
    ofpbuf_clear(ofpacts);
    flows_put_set_mac(ofpacts, MFF_ETH_SRC, local->gateway_mac);
    flows_put_set_mac(ofpacts, MFF_ETH_DST, port->mac);
    flows_put_dec_ttl(ofpacts);
    flows_put_check_pkt_larger(ofpacts, local->pod_frame_max,
                               KOVS_F_FLAG_POD_LARGER);
    flows_put_load_field(ofpacts, KOVS_F_OUT_PORT, ofp_to_u16(port->ofport));
    flows_put_goto(ofpacts, kovs_table_next(KOVS_T_L3_FORWARDING));
    flow_table_add(ft, cookie, KOVS_T_L3_FORWARDING, KOVS_PRIO_L3_ROUTE,
                   &match, ofpacts);

    struct in6_addr hairpin6 = kovs_hairpin_ip6();
    for (int new = 0; new < 2; new++) {
        match_init_catchall(&match);
        match_set_dl_type(&match, htons(ipv4 ? ETH_TYPE_IP : ETH_TYPE_IPV6));
        match_set_in_port(&match, port->ofport);
        kovs_match_field(&match, KOVS_F_OUT_PORT, ofp_to_u16(port->ofport));
        kovs_match_service_conn(&match, true);
        match_set_ct_state_masked(&match, (new ? CS_NEW : 0) | CS_TRACKED,
                                  CS_NEW | CS_TRACKED);
        ofpbuf_clear(ofpacts);
        size_t ofs = flows_put_ct_start(ofpacts, KOVS_CT_ZONE_SNAT, new,
                                        kovs_table_next(KOVS_T_SNAT));
        if (!new) {
            flows_put_nat(ofpacts, 0, 0, 0);
        } else if (ipv4) {
            flows_put_nat(ofpacts, NX_NAT_F_SRC, htonl(KOVS_HAIRPIN_IP), 0);
        } else {
            flows_put_nat6(ofpacts, NX_NAT_F_SRC, &hairpin6, 0);
        }
        flows_put_ct_end(ofpacts, ofs);
        flow_table_add(ft, cookie, KOVS_T_SNAT, KOVS_PRIO_SNAT_SERVICE,
                       &match, ofpacts);
    }
}

/* The IPv6 flows of a local pod with the IPv6 address 'ip6' in this
 * node's IPv6 podCIDR, owned by 'cookie':
 *
 *   SPOOFGUARD     it may send IPv6 from its own MAC and from 'ip6' or its
 *                  link-local address (derived from its MAC, EUI-64);
 *                  Neighbor Solicitations from either with its own MAC as
 *                  source link-layer address or none, duplicate address
 *                  detection (from ::) for either, and Neighbor
 *                  Advertisements only for either with its own MAC or none
 *   ARP            solicitations for 'ip6' are answered with its MAC,
 *                  except its own
 *   L3_FORWARDING  packets to 'ip6' go to its port, switched or routed
 *   SNAT           hairpin through an IPv6 Service: source-NATed to the
 *                  IPv6 hairpin address (the OUTPUT flow that sends the
 *                  pod's hairpin back to it serves both families) */
static void
pod_ipv6_flows(const struct flows_local *local, uint64_t cookie,
               const struct flows_port *port, const struct in6_addr *ip6,
               struct flow_table *ft, struct ofpbuf *ofpacts)
{
    struct in6_addr lla;
    in6_generate_lla(port->mac, &lla);
    const struct in6_addr *own[] = { ip6, &lla };
    const struct eth_addr lladdrs[] = { port->mac, eth_addr_zero };
    struct match match;

    for (size_t i = 0; i < ARRAY_SIZE(own); i++) {
        /* Anything from its own addresses... */
        match_init_catchall(&match);
        match_set_dl_type(&match, htons(ETH_TYPE_IPV6));
        match_set_ipv6_src(&match, own[i]);
        pod_spoofguard_allow(ft, cookie, port, &match,
                             KOVS_PRIO_SPOOFGUARD_POD, ofpacts);

        for (size_t j = 0; j < ARRAY_SIZE(lladdrs); j++) {
            /* ...solicitations that give its own MAC (or none)... */
            match_nd_from(&match, ND_NEIGHBOR_SOLICIT, own[i]);
            match_set_arp_sha(&match, lladdrs[j]);
            pod_spoofguard_allow(ft, cookie, port, &match,
                                 KOVS_PRIO_SPOOFGUARD_ND, ofpacts);

            /* ...advertisements of its own address, from it, with its own
             * MAC (or none)... */
            match_nd_from(&match, ND_NEIGHBOR_ADVERT, own[i]);
            match_set_nd_target(&match, own[i]);
            match_set_arp_tha(&match, lladdrs[j]);
            pod_spoofguard_allow(ft, cookie, port, &match,
                                 KOVS_PRIO_SPOOFGUARD_ND, ofpacts);
        }

        /* ...and duplicate address detection of its own addresses, which
         * carries no link-layer address. */
        match_nd_from(&match, ND_NEIGHBOR_SOLICIT, &in6addr_any);
        match_set_nd_target(&match, own[i]);
        match_set_arp_sha(&match, eth_addr_zero);
        pod_spoofguard_allow(ft, cookie, port, &match,
                             KOVS_PRIO_SPOOFGUARD_ND, ofpacts);
    }

    /* ARP: answer solicitations for the pod, except its own. */
    flows_match_nd_ns(&match, ip6, NULL);
    ofpbuf_clear(ofpacts);
    flows_put_nd_na(ofpacts, port->mac, false);
    flow_table_add(ft, cookie, KOVS_T_ARP, KOVS_PRIO_ARP_POD, &match,
                   ofpacts);

    match_set_in_port(&match, port->ofport);
    ofpbuf_clear(ofpacts);
    flow_table_add(ft, cookie, KOVS_T_ARP, KOVS_PRIO_ARP_POD_SELF, &match,
                   ofpacts);

    pod_forwarding_flows(local, cookie, port, ip6, ft, ofpacts);
}

/* The IPv4 flows of a local pod whose IPv4 address 'ip' is in this node's
 * IPv4 podCIDR (see flows_pod_compute()). */
static void
pod_ipv4_flows(const struct flows_local *local, uint64_t cookie,
               const struct flows_port *port, ovs_be32 ip,
               struct flow_table *ft, struct ofpbuf *ofpacts)
{
    struct match match;

    /* SPOOFGUARD: IP from its own MAC and address. */
    match_init_catchall(&match);
    match_set_in_port(&match, port->ofport);
    match_set_dl_src(&match, port->mac);
    match_set_dl_type(&match, htons(ETH_TYPE_IP));
    match_set_nw_src(&match, ip);
    ofpbuf_clear(ofpacts);
    flows_put_goto(ofpacts, KOVS_T_ARP);
    flow_table_add(ft, cookie, KOVS_T_SPOOFGUARD, KOVS_PRIO_SPOOFGUARD_POD,
                   &match, ofpacts);

    /* SPOOFGUARD: ARP whose sender fields are its own. */
    match_init_catchall(&match);
    match_set_in_port(&match, port->ofport);
    match_set_dl_src(&match, port->mac);
    match_set_dl_type(&match, htons(ETH_TYPE_ARP));
    match_set_nw_src(&match, ip);
    match_set_arp_sha(&match, port->mac);
    flow_table_add(ft, cookie, KOVS_T_SPOOFGUARD, KOVS_PRIO_SPOOFGUARD_POD,
                   &match, ofpacts);

    /* ARP: answer for the pod, except to the pod itself (a pod probing
     * for a duplicate of its own address must hear nothing). */
    match_init_catchall(&match);
    match_set_dl_type(&match, htons(ETH_TYPE_ARP));
    match_set_arp_opcode_masked(&match, ARP_OP_REQUEST, UINT8_MAX);
    match_set_nw_dst(&match, ip);
    ofpbuf_clear(ofpacts);
    flows_put_arp_reply(ofpacts, port->mac);
    flow_table_add(ft, cookie, KOVS_T_ARP, KOVS_PRIO_ARP_POD, &match,
                   ofpacts);

    match_set_in_port(&match, port->ofport);
    ofpbuf_clear(ofpacts);
    flow_table_add(ft, cookie, KOVS_T_ARP, KOVS_PRIO_ARP_POD_SELF, &match,
                   ofpacts);

    struct in6_addr mapped = in6_addr_mapped_ipv4(ip);
    pod_forwarding_flows(local, cookie, port, &mapped, ft, ofpacts);
}

/* A local pod's flows, owned by its cookie:
 *
 *   CLASSIFIER     its port is a pod port
 *   SPOOFGUARD     it may send IP from its own MAC and IP, and ARP that
 *                  tells the truth about both
 *   ARP            requests for its address are answered with its MAC
 *   L3_FORWARDING  packets to its address go to its port, with the MACs
 *                  rewritten and the TTL decremented when they were routed
 *   SNAT, OUTPUT   hairpin: the pod reaching itself through a Service
 *
 * A pod gets flows only once it is scheduled here, is not on the host
 * network and has a port: IPv4 ones (pod_ipv4_flows()) if it has an IPv4
 * address in this node's IPv4 podCIDR, IPv6 ones (pod_ipv6_flows()) if it
 * has an IPv6 address in this node's IPv6 podCIDR (on an IPv6-only node,
 * only those), and the CLASSIFIER and hairpin OUTPUT flows that serve
 * both families if it has either. */
void
flows_pod_compute(const struct flows_input *in,
                  const struct flows_local *local,
                  const char *namespace, const char *name,
                  struct flow_table *ft)
{
    const uint64_t cookie = kovs_cookie(KOVS_OWNER_POD, namespace, name);
    flow_table_remove_owner(ft, cookie);

    const struct k8s_object *obj = k8s_cluster_find(in->cluster, K8S_POD,
                                                    namespace, name);
    if (!obj || !local->valid || !in->gateway_ofport) {
        return;
    }
    const struct k8s_pod *pod = k8s_pod_cast(obj);
    const struct flows_port *port = flows_pod_port(in, pod);
    if (!port) {
        return;
    }
    ovs_be32 ip = local->valid4 ? flows_pod_ipv4(in, pod) : 0;
    if ((ip & local->pod_mask) != local->pod_net) {
        ip = 0;
    }
    const struct in6_addr *ip6 = flows_pod_ipv6(in, pod);
    if (ip6 && !flows_local_has_ipv6(local, ip6)) {
        ip6 = NULL;
    }
    if (!ip && !ip6) {
        return;
    }

    struct ofpbuf ofpacts;
    struct match match;
    ofpbuf_init(&ofpacts, 256);

    /* CLASSIFIER. */
    match_init_catchall(&match);
    match_set_in_port(&match, port->ofport);
    flows_put_load_field(&ofpacts, KOVS_F_PORT_KIND, KOVS_PORT_POD);
    flows_put_goto(&ofpacts, KOVS_T_SPOOFGUARD);
    flow_table_add(ft, cookie, KOVS_T_CLASSIFIER, KOVS_PRIO_CLASSIFIER_PORT,
                   &match, &ofpacts);

    flows_add_hairpin_out(ft, cookie, port->ofport, &ofpacts);

    if (ip) {
        pod_ipv4_flows(local, cookie, port, ip, ft, &ofpacts);
    }
    if (ip6) {
        pod_ipv6_flows(local, cookie, port, ip6, ft, &ofpacts);
    }

    ofpbuf_uninit(&ofpacts);
}
