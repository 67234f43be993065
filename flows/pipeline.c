/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#include <config.h>

#include "flows/pipeline.h"

#include <netinet/icmp6.h>
#include <string.h>
#include "flows/actions.h"
#include "flows/flow-table.h"
#include "flows/flows.h"
#include "flows/pinctrl-opcodes.h"
#include "hash.h"
#include "k8s/k8s-model.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/match.h"

const char *
kovs_table_name(uint8_t table)
{
    switch (table) {
#define KOVS_TABLE(NAME, NUMBER) case NUMBER: return #NAME;
        KOVS_TABLES
#undef KOVS_TABLE
    }
    return NULL;
}

const char *
kovs_ex_table_name(uint8_t table)
{
    switch (table) {
#define KOVS_EX_TABLE(NAME, NUMBER) case NUMBER: return #NAME;
        KOVS_EX_TABLES
#undef KOVS_EX_TABLE
    }
    return NULL;
}

/* Appends the summary of 'ft' to 's', for the tables that 'table_name'
 * names, each line prefixed with 'prefix'. */
static void
kovs_pipeline_summary__(const struct flow_table *ft, const char *prefix,
                        const char *(*table_name)(uint8_t), struct ds *s)
{
    size_t counts[UINT8_MAX + 1];
    memset(counts, 0, sizeof counts);

    const struct desired_flow *d;
    FLOW_TABLE_FOR_EACH (d, ft) {
        if (flow_table_lookup(ft, d->table_id, d->priority, &d->match,
                              d->key_hash) == d) {
            counts[d->table_id]++;
        }
    }
    for (int table = 0; table <= UINT8_MAX; table++) {
        const char *name = table_name(table);
        if (name) {
            ds_put_format(s, "%stable %2d %-15s %7"PRIuSIZE" flows\n",
                          prefix, table, name, counts[table]);
        }
    }
}

void
kovs_pipeline_summary(const struct flow_table *br_int,
                      const struct flow_table *br_ex, struct ds *s)
{
    kovs_pipeline_summary__(br_int, "", kovs_table_name, s);
    if (br_ex) {
        kovs_pipeline_summary__(br_ex, "br-ex ", kovs_ex_table_name, s);
    }
}

uint8_t
kovs_table_next(uint8_t table)
{
    static const uint8_t tables[] = {
#define KOVS_TABLE(NAME, NUMBER) NUMBER,
        KOVS_TABLES
#undef KOVS_TABLE
    };

    for (size_t i = 0; i + 1 < ARRAY_SIZE(tables); i++) {
        if (tables[i] == table) {
            return tables[i + 1];
        }
    }
    OVS_NOT_REACHED();
}

/* Every field fits in its 32-bit register. */
#define KOVS_FIELD(NAME, MFF_ID, OFS, N_BITS)                           \
    BUILD_ASSERT_DECL(MFF_ID >= MFF_REG0 && MFF_ID < MFF_REG0 + FLOW_N_REGS \
                      && N_BITS > 0 && OFS + N_BITS <= 32);
KOVS_FIELDS
#undef KOVS_FIELD

const struct kovs_meter kovs_meters[] = {
#define KOVS_METER(NAME, ID, PKTPS, BURST) { #NAME, ID, PKTPS, BURST },
    KOVS_METERS
#undef KOVS_METER
};
const size_t kovs_n_meters = ARRAY_SIZE(kovs_meters);

uint64_t
kovs_cookie(enum kovs_owner_kind kind, const char *namespace,
            const char *name)
{
    uint32_t basis = hash_string(namespace ? namespace : "", kind);
    uint32_t lo = hash_string(name, basis);
    uint32_t hi = hash_string(name, lo ^ 0x6b6f7673);
    uint64_t id = (((uint64_t) hi << 32) | lo) & KOVS_COOKIE_ID_MASK;

    return ((uint64_t) kind << KOVS_COOKIE_KIND_SHIFT) | id;
}

const char *
kovs_owner_kind_name(enum kovs_owner_kind kind)
{
    switch (kind) {
#define KOVS_OWNER_KIND(ENUM, VALUE, NAME) case KOVS_OWNER_##ENUM: return NAME;
        KOVS_OWNER_KINDS
#undef KOVS_OWNER_KIND
    }
    return NULL;
}

bool
kovs_owner_kind_from_name(const char *name, enum kovs_owner_kind *kind)
{
#define KOVS_OWNER_KIND(ENUM, VALUE, NAME)      \
    if (!strcmp(name, NAME)) {                  \
        *kind = KOVS_OWNER_##ENUM;              \
        return true;                            \
    }
    KOVS_OWNER_KINDS
#undef KOVS_OWNER_KIND
    return false;
}

bool
kovs_owner_kind_to_k8s(enum kovs_owner_kind kind, enum k8s_kind *k8s_kind)
{
    switch (kind) {
    case KOVS_OWNER_NODE:
        *k8s_kind = K8S_NODE;
        return true;
    case KOVS_OWNER_POD:
        *k8s_kind = K8S_POD;
        return true;
    case KOVS_OWNER_SERVICE:
        *k8s_kind = K8S_SERVICE;
        return true;
    case KOVS_OWNER_POLICY:
        *k8s_kind = K8S_NETWORK_POLICY;
        return true;
    case KOVS_OWNER_PIPELINE:
    case KOVS_OWNER_ENDPOINT:
    case KOVS_OWNER_LEARNED:
    case KOVS_OWNER_EXTERNAL:
    case KOVS_OWNER_NEIGHBOR:
    default:
        return false;
    }
}

const struct k8s_object *
kovs_cookie_find_owner(const struct k8s_cluster *cluster, uint64_t cookie)
{
    enum kovs_owner_kind kind = kovs_cookie_kind(cookie);
    enum k8s_kind k8s_kind;
    if (!kovs_owner_kind_to_k8s(kind, &k8s_kind)) {
        return NULL;
    }

    const struct k8s_object *obj;
    K8S_CLUSTER_FOR_EACH (obj, k8s_kind, cluster) {
        if (kovs_cookie(kind, obj->namespace, obj->name) == cookie) {
            return obj;
        }
    }
    return NULL;
}

void
kovs_cookie_format_owner(const struct k8s_cluster *cluster, uint64_t cookie,
                         struct ds *s)
{
    const struct k8s_object *obj = kovs_cookie_find_owner(cluster, cookie);
    enum kovs_owner_kind kind = kovs_cookie_kind(cookie);
    enum k8s_kind k8s_kind;
    if (obj) {
        ds_put_format(s, "%s ", k8s_kind_name(obj->kind));
        if (obj->namespace && obj->namespace[0]) {
            ds_put_format(s, "%s/", obj->namespace);
        }
        ds_put_cstr(s, obj->name);
    } else if (!kovs_owner_kind_to_k8s(kind, &k8s_kind)
               && kovs_owner_kind_name(kind)) {
        ds_put_cstr(s, kovs_owner_kind_name(kind));
    } else {
        ds_put_format(s, "unknown owner %#"PRIx64, cookie);
    }
}

struct eth_addr
flows_gateway_mac(const struct in6_addr *gateway_ip)
{
    /* A locally administered unicast MAC that embeds the IPv4 address, or
     * the XOR of an IPv6 address's four 32-bit words (distinct per node,
     * whose podCIDRs differ in their high bits). */
    uint32_t ip = 0;
    for (size_t i = 0; i < 16; i += 4) {
        const uint8_t *b = &gateway_ip->s6_addr[i];
        uint32_t word = ((uint32_t) b[0] << 24) | (b[1] << 16)
                        | (b[2] << 8) | b[3];
        if (!k8s_addr_is_ipv4(gateway_ip) || i == 12) {
            ip ^= word;
        }
    }
    return (struct eth_addr) { .ea = { 0x0a, 0x58, ip >> 24, ip >> 16,
                                       ip >> 8, ip } };
}

void
flows_add_established(struct flow_table *ft, uint64_t cookie,
                      uint8_t table_id, uint16_t priority,
                      const struct ofpbuf *ofpacts)
{
    static const uint32_t states[] = { CS_ESTABLISHED, CS_RELATED };
    for (size_t i = 0; i < ARRAY_SIZE(states); i++) {
        struct match match;
        match_init_catchall(&match);
        match_set_ct_state_masked(&match, states[i] | CS_TRACKED,
                                  states[i] | CS_TRACKED);
        flow_table_add(ft, cookie, table_id, priority, &match, ofpacts);
    }
}

void
flows_match_ip_dst(struct match *match, const struct in6_addr *ip)
{
    if (IN6_IS_ADDR_V4MAPPED(ip)) {
        match_set_dl_type(match, htons(ETH_TYPE_IP));
        match_set_nw_dst(match, in6_addr_get_mapped_ipv4(ip));
    } else {
        match_set_dl_type(match, htons(ETH_TYPE_IPV6));
        match_set_ipv6_dst(match, ip);
    }
}

void
flows_match_ip_masked(struct match *match, bool src,
                      const struct in6_addr *net, const struct in6_addr *mask)
{
    if (IN6_IS_ADDR_V4MAPPED(net)) {
        ovs_be32 net4 = in6_addr_get_mapped_ipv4(net);
        ovs_be32 mask4 = in6_addr_get_mapped_ipv4(mask);
        match_set_dl_type(match, htons(ETH_TYPE_IP));
        if (src) {
            match_set_nw_src_masked(match, net4, mask4);
        } else {
            match_set_nw_dst_masked(match, net4, mask4);
        }
    } else {
        match_set_dl_type(match, htons(ETH_TYPE_IPV6));
        if (src) {
            match_set_ipv6_src_masked(match, net, mask);
        } else {
            match_set_ipv6_dst_masked(match, net, mask);
        }
    }
}

void
flows_add_unsnat(struct flow_table *ft, uint64_t cookie,
                 const struct in6_addr *ip, struct ofpbuf *ofpacts)
{
    /* Only an untracked packet: after the lookup, a reply comes back with
     * its destination un-SNATed; anything else would match again. */
    struct match match;
    match_init_catchall(&match);
    flows_match_ip_dst(&match, ip);
    match_set_ct_state_masked(&match, 0, CS_TRACKED);
    ofpbuf_clear(ofpacts);
    flows_put_ct_nat(ofpacts, KOVS_CT_ZONE_SNAT, KOVS_T_CT_ZONE);
    flow_table_add(ft, cookie, KOVS_T_CT_ZONE, KOVS_PRIO_CT_ZONE_UNSNAT,
                   &match, ofpacts);
}

void
flows_add_hairpin_out(struct flow_table *ft, uint64_t cookie,
                      ofp_port_t ofport, struct ofpbuf *ofpacts)
{
    struct match match;
    match_init_catchall(&match);
    match_set_in_port(&match, ofport);
    kovs_match_field(&match, KOVS_F_OUT_PORT, ofp_to_u16(ofport));
    ofpbuf_clear(ofpacts);
    flows_put_output(ofpacts, OFPP_IN_PORT);
    flow_table_add(ft, cookie, KOVS_T_OUTPUT, KOVS_PRIO_OUTPUT_HAIRPIN,
                   &match, ofpacts);
}

void
flows_put_to_node(struct ofpbuf *ofpacts, const struct flows_input *in,
                  const struct flows_local *local)
{
    flows_put_set_mac(ofpacts, MFF_ETH_SRC, KOVS_VIRTUAL_MAC);
    flows_put_set_mac(ofpacts, MFF_ETH_DST, local->gateway_mac);
    flows_put_load_field(ofpacts, KOVS_F_OUT_PORT,
                         ofp_to_u16(in->gateway_ofport));
    flows_put_goto(ofpacts, kovs_table_next(KOVS_T_L3_FORWARDING));
}

/* Conntrack, for every IP packet:
 *
 *   CT_ZONE    ct(zone=POD,nat): un-DNATs replies of Service connections
 *              and learns the state; a reply to the hairpin address is
 *              first un-SNATed in the SNAT zone
 *   CT_STATE   invalid drops; established and related skip load balancing
 *   CT_COMMIT  commits new connections (Service ones are already committed,
 *              with their DNAT, by ENDPOINT_DNAT) */
static void
flows_pipeline_conntrack(const struct flows_input *in, struct flow_table *ft,
                         struct ofpbuf *ofpacts)
{
    const uint64_t cookie = KOVS_COOKIE_PIPELINE;
    struct match match;

    match_init_catchall(&match);
    match_set_dl_type(&match, htons(ETH_TYPE_IP));
    ofpbuf_clear(ofpacts);
    flows_put_ct_nat(ofpacts, KOVS_CT_ZONE_POD, KOVS_T_CT_STATE);
    flow_table_add(ft, cookie, KOVS_T_CT_ZONE, KOVS_PRIO_CT_ZONE_POD, &match,
                   ofpacts);

    /* (The IPv6 one is with the rest of IPv6's pipeline.) */
    if (in->cluster_cidr.has_ipv4) {
        struct in6_addr hairpin;
        in6_addr_set_mapped_ipv4(&hairpin, htonl(KOVS_HAIRPIN_IP));
        flows_add_unsnat(ft, cookie, &hairpin, ofpacts);
    }

    match_init_catchall(&match);
    match_set_ct_state_masked(&match, CS_INVALID | CS_TRACKED,
                              CS_INVALID | CS_TRACKED);
    ofpbuf_clear(ofpacts);
    flow_table_add(ft, cookie, KOVS_T_CT_STATE, KOVS_PRIO_CT_STATE_INVALID,
                   &match, ofpacts);

    ofpbuf_clear(ofpacts);
    flows_put_goto(ofpacts, KOVS_T_EGRESS_POLICY);
    flows_add_established(ft, cookie, KOVS_T_CT_STATE,
                          KOVS_PRIO_CT_STATE_ESTABLISHED, ofpacts);

    match_init_catchall(&match);
    match_set_dl_type(&match, htons(ETH_TYPE_IP));
    match_set_ct_state_masked(&match, CS_NEW | CS_TRACKED,
                              CS_NEW | CS_TRACKED);
    ofpbuf_clear(ofpacts);
    size_t ofs = flows_put_ct_start(ofpacts, KOVS_CT_ZONE_POD, true,
                                    NX_CT_RECIRC_NONE);
    flows_put_ct_end(ofpacts, ofs);
    flows_put_goto(ofpacts, KOVS_T_OUTPUT);
    flow_table_add(ft, cookie, KOVS_T_CT_COMMIT, KOVS_PRIO_CT_COMMIT, &match,
                   ofpacts);

    kovs_match_service_conn(&match, true);
    ofpbuf_clear(ofpacts);
    flows_put_goto(ofpacts, KOVS_T_OUTPUT);
    flow_table_add(ft, cookie, KOVS_T_CT_COMMIT, KOVS_PRIO_CT_COMMIT_SVC_DNAT,
                   &match, ofpacts);

    /* NetworkPolicy judges new connections only: established and related
     * packets (replies of allowed connections among them) pass both policy
     * tables, and so does what the pod's own node sends it (kubelet
     * probes). */
    static const uint8_t policy_tables[] = {
        KOVS_T_EGRESS_POLICY, KOVS_T_INGRESS_POLICY,
    };
    for (size_t i = 0; i < ARRAY_SIZE(policy_tables); i++) {
        uint8_t table = policy_tables[i];
        match_init_catchall(&match);
        match_set_ct_state_masked(&match, CS_TRACKED, CS_NEW | CS_TRACKED);
        ofpbuf_clear(ofpacts);
        flows_put_goto(ofpacts, kovs_table_next(table));
        flow_table_add(ft, cookie, table, KOVS_PRIO_POLICY_PASS, &match,
                       ofpacts);
    }
    match_init_catchall(&match);
    kovs_match_field(&match, KOVS_F_PORT_KIND, KOVS_PORT_GATEWAY);
    ofpbuf_clear(ofpacts);
    flows_put_goto(ofpacts, kovs_table_next(KOVS_T_INGRESS_POLICY));
    flow_table_add(ft, cookie, KOVS_T_INGRESS_POLICY, KOVS_PRIO_POLICY_PASS,
                   &match, ofpacts);
}

/* Starts 'match' as an ICMPv6 message of type 'type' (code 0). */
void
flows_match_icmp6(struct match *match, uint8_t type)
{
    match_init_catchall(match);
    match_set_dl_type(match, htons(ETH_TYPE_IPV6));
    match_set_nw_proto(match, IPPROTO_ICMPV6);
    match_set_icmp_type(match, type);
    match_set_icmp_code(match, 0);
}

void
flows_match_nd_ns(struct match *match, const struct in6_addr *target,
                  const struct in6_addr *mask)
{
    flows_match_icmp6(match, ND_NEIGHBOR_SOLICIT);
    if (mask) {
        match_set_nd_target_masked(match, target, mask);
    } else {
        match_set_nd_target(match, target);
    }
}

/* The IPv6 part of the skeleton, on a node with an IPv6 podCIDR: conntrack
 * for IPv6, neighbour discovery for the gateway and the cluster behind it,
 * and routing to the gateway and the node.  Owned by KOVS_COOKIE_PIPELINE
 * too.  (Without an IPv6 podCIDR none of these exist and every IPv6 packet
 * drops, as it always did.) */
static void
flows_pipeline_ipv6(const struct flows_input *in,
                    const struct flows_local *local, struct flow_table *ft,
                    struct ofpbuf *ofpacts)
{
    const uint64_t cookie = KOVS_COOKIE_PIPELINE;
    struct match match;

    /* Conntrack, as for IPv4: every IPv6 packet goes through the pod zone
     * and new connections are committed. */
    match_init_catchall(&match);
    match_set_dl_type(&match, htons(ETH_TYPE_IPV6));
    ofpbuf_clear(ofpacts);
    flows_put_ct_nat(ofpacts, KOVS_CT_ZONE_POD, KOVS_T_CT_STATE);
    flow_table_add(ft, cookie, KOVS_T_CT_ZONE, KOVS_PRIO_CT_ZONE_POD, &match,
                   ofpacts);

    match_set_ct_state_masked(&match, CS_NEW | CS_TRACKED,
                              CS_NEW | CS_TRACKED);
    ofpbuf_clear(ofpacts);
    size_t ofs = flows_put_ct_start(ofpacts, KOVS_CT_ZONE_POD, true,
                                    NX_CT_RECIRC_NONE);
    flows_put_ct_end(ofpacts, ofs);
    flows_put_goto(ofpacts, KOVS_T_OUTPUT);
    flow_table_add(ft, cookie, KOVS_T_CT_COMMIT, KOVS_PRIO_CT_COMMIT, &match,
                   ofpacts);

    /* ...except Service connections, which ENDPOINT_DNAT committed with
     * their DNAT. */
    kovs_match_service_conn(&match, true);
    ofpbuf_clear(ofpacts);
    flows_put_goto(ofpacts, KOVS_T_OUTPUT);
    flow_table_add(ft, cookie, KOVS_T_CT_COMMIT, KOVS_PRIO_CT_COMMIT_SVC_DNAT,
                   &match, ofpacts);

    /* Replies to the IPv6 hairpin address are un-SNATed first. */
    struct in6_addr hairpin = kovs_hairpin_ip6();
    flows_add_unsnat(ft, cookie, &hairpin, ofpacts);

    /* ICMPv6 errors pass the controller before CT_ZONE and again at
     * OUTPUT, which keeps what the switch's userspace conntrack damages
     * when it NATs them (see PINCTRL_OP_ICMP6_STASH). */
    static const uint8_t error_types[] = {
        ICMP6_DST_UNREACH, ICMP6_PACKET_TOO_BIG, ICMP6_TIME_EXCEEDED,
        ICMP6_PARAM_PROB,
    };
    for (size_t i = 0; i < ARRAY_SIZE(error_types); i++) {
        match_init_catchall(&match);
        match_set_dl_type(&match, htons(ETH_TYPE_IPV6));
        match_set_nw_proto(&match, IPPROTO_ICMPV6);
        match_set_icmp_type(&match, error_types[i]);
        kovs_match_field(&match, KOVS_F_FLAG_ICMP6_STASHED, 0);
        ofpbuf_clear(ofpacts);
        flows_put_controller(ofpacts, PINCTRL_OP_ICMP6_STASH);
        flow_table_add(ft, cookie, KOVS_T_CT_ZONE,
                       KOVS_PRIO_CT_ZONE_ICMP6_STASH, &match, ofpacts);
    }
    match_init_catchall(&match);
    match_set_dl_type(&match, htons(ETH_TYPE_IPV6));
    match_set_nw_proto(&match, IPPROTO_ICMPV6);
    kovs_match_field(&match, KOVS_F_FLAG_ICMP6_STASHED, 1);
    ofpbuf_clear(ofpacts);
    flows_put_controller(ofpacts, PINCTRL_OP_ICMP6_RESTORE);
    flow_table_add(ft, cookie, KOVS_T_OUTPUT, KOVS_PRIO_OUTPUT_ICMP6_RESTORE,
                   &match, ofpacts);

    /* SPOOFGUARD: a pod's neighbour discovery passes only where its own
     * flows vouch for it (see flows/pod.c). */
    static const uint8_t nd_types[] = {
        ND_NEIGHBOR_SOLICIT, ND_NEIGHBOR_ADVERT,
    };
    for (size_t i = 0; i < ARRAY_SIZE(nd_types); i++) {
        flows_match_icmp6(&match, nd_types[i]);
        ofpbuf_clear(ofpacts);
        flow_table_add(ft, cookie, KOVS_T_SPOOFGUARD,
                       KOVS_PRIO_SPOOFGUARD_ND_DROP, &match, ofpacts);
    }

    /* ARP: neighbour discovery and MLD that no flow answers drop: router
     * solicitations and advertisements (the gateway is the pods' default
     * route by configuration), redirects, advertisements, unanswered
     * solicitations and multicast listener messages.  Nothing floods. */
    static const uint8_t dropped_types[] = {
        MLD_QUERY, MLD_REPORT, MLD_DONE, ND_ROUTER_SOLICIT, ND_ROUTER_ADVERT,
        ND_NEIGHBOR_SOLICIT, ND_NEIGHBOR_ADVERT, ND_REDIRECT, MLD2_REPORT,
    };
    for (size_t i = 0; i < ARRAY_SIZE(dropped_types); i++) {
        match_init_catchall(&match);
        match_set_dl_type(&match, htons(ETH_TYPE_IPV6));
        match_set_nw_proto(&match, IPPROTO_ICMPV6);
        match_set_icmp_type(&match, dropped_types[i]);
        ofpbuf_clear(ofpacts);
        flow_table_add(ft, cookie, KOVS_T_ARP, KOVS_PRIO_ARP_DROP, &match,
                       ofpacts);
    }

    /* ARP: an advertisement built from a solicitation gets its target
     * link-layer address and goes back (see flows_put_nd_na()). */
    flows_match_icmp6(&match, ND_NEIGHBOR_ADVERT);
    kovs_match_field(&match, KOVS_F_FLAG_ND_REPLY, 1);
    ofpbuf_clear(ofpacts);
    flows_put_nd_na_finish(ofpacts);
    flow_table_add(ft, cookie, KOVS_T_ARP, KOVS_PRIO_ND_REPLY, &match,
                   ofpacts);

    /* ARP: duplicate address detection is never answered, whoever probes
     * for whatever address: the prober keeps its address. */
    flows_match_icmp6(&match, ND_NEIGHBOR_SOLICIT);
    match_set_ipv6_src(&match, &in6addr_any);
    ofpbuf_clear(ofpacts);
    flow_table_add(ft, cookie, KOVS_T_ARP, KOVS_PRIO_ND_DAD, &match, ofpacts);

    /* ARP: anyone soliciting the gateway's address (a router). */
    flows_match_nd_ns(&match, &local->gateway_ip6, NULL);
    ofpbuf_clear(ofpacts);
    flows_put_nd_na(ofpacts, local->gateway_mac, true);
    flow_table_add(ft, cookie, KOVS_T_ARP, KOVS_PRIO_ARP_GATEWAY, &match,
                   ofpacts);

    /* ARP: the node's stack soliciting an address of the cluster or of a
     * Service, which it routes through the gateway... */
    const struct k8s_cidr *behind_gateway[] = {
        k8s_dual_cidr_get(&in->cluster_cidr, false),
        k8s_dual_cidr_get(&in->service_cidr, false),
    };
    for (size_t i = 0; i < ARRAY_SIZE(behind_gateway); i++) {
        const struct k8s_cidr *c = behind_gateway[i];
        if (c) {
            struct in6_addr mask = ipv6_create_mask(c->plen);
            flows_match_nd_ns(&match, &c->addr, &mask);
            match_set_in_port(&match, in->gateway_ofport);
            ofpbuf_clear(ofpacts);
            flows_put_nd_na(ofpacts, KOVS_VIRTUAL_MAC, true);
            flow_table_add(ft, cookie, KOVS_T_ARP,
                           KOVS_PRIO_ARP_BEHIND_GATEWAY, &match, ofpacts);
        }
    }

    /* ...except an address of this node's podCIDR that no pod has. */
    flows_match_nd_ns(&match, &local->pod_cidr6.addr, &local->pod_mask6);
    match_set_in_port(&match, in->gateway_ofport);
    ofpbuf_clear(ofpacts);
    flow_table_add(ft, cookie, KOVS_T_ARP, KOVS_PRIO_ARP_LOCAL_UNKNOWN,
                   &match, ofpacts);

    /* L3_FORWARDING: nobody's addresses: this node's podCIDR where no pod
     * has the address, the hairpin address (only replies to it exist, and
     * CT_ZONE un-SNATs those), the Service CIDR (an address that no
     * Service port took in SERVICE_LB), link-local and multicast
     * destinations (never routed). */
    struct k8s_cidr nobody[5];
    size_t n = 0;
    nobody[n++] = local->pod_cidr6;
    nobody[n].addr = hairpin;
    nobody[n++].plen = 128;
    if (in->service_cidr.has_ipv6) {
        nobody[n++] = in->service_cidr.ipv6;
    }
    nobody[n].plen = 10;
    ipv6_parse("fe80::", &nobody[n++].addr);
    nobody[n].plen = 8;
    ipv6_parse("ff00::", &nobody[n++].addr);
    for (size_t i = 0; i < n; i++) {
        struct in6_addr mask = ipv6_create_mask(nobody[i].plen);
        match_init_catchall(&match);
        match_set_dl_type(&match, htons(ETH_TYPE_IPV6));
        match_set_ipv6_dst_masked(&match, &nobody[i].addr, &mask);
        ofpbuf_clear(ofpacts);
        flow_table_add(ft, cookie, KOVS_T_L3_FORWARDING, KOVS_PRIO_L3_NOBODY,
                       &match, ofpacts);
    }

    /* L3_FORWARDING: the gateway's own address, and by default everything
     * else: the node's stack routes it. */
    match_init_catchall(&match);
    match_set_dl_type(&match, htons(ETH_TYPE_IPV6));
    match_set_ipv6_dst(&match, &local->gateway_ip6);
    ofpbuf_clear(ofpacts);
    flows_put_set_mac(ofpacts, MFF_ETH_DST, local->gateway_mac);
    flows_put_load_field(ofpacts, KOVS_F_OUT_PORT,
                         ofp_to_u16(in->gateway_ofport));
    flows_put_goto(ofpacts, kovs_table_next(KOVS_T_L3_FORWARDING));
    flow_table_add(ft, cookie, KOVS_T_L3_FORWARDING, KOVS_PRIO_L3_ROUTE,
                   &match, ofpacts);

    match_init_catchall(&match);
    match_set_dl_type(&match, htons(ETH_TYPE_IPV6));
    ofpbuf_clear(ofpacts);
    flows_put_to_node(ofpacts, in, local);
    flow_table_add(ft, cookie, KOVS_T_L3_FORWARDING, KOVS_PRIO_L3_TO_NODE,
                   &match, ofpacts);
}

/* The gateway's IPv4 flows, on a node with an IPv4 podCIDR (see
 * flows_pipeline_compute()). */
static void
flows_pipeline_ipv4(const struct flows_input *in,
                    const struct flows_local *local,
                    struct flow_table *ft, struct ofpbuf *ofpacts)
{
    const uint64_t cookie = KOVS_COOKIE_PIPELINE;
    struct match match;

    /* ARP: anyone asking for the gateway's address. */
    match_init_catchall(&match);
    match_set_dl_type(&match, htons(ETH_TYPE_ARP));
    match_set_arp_opcode_masked(&match, ARP_OP_REQUEST, UINT8_MAX);
    match_set_nw_dst(&match, local->gateway_ip);
    ofpbuf_clear(ofpacts);
    flows_put_arp_reply(ofpacts, local->gateway_mac);
    flow_table_add(ft, cookie, KOVS_T_ARP, KOVS_PRIO_ARP_GATEWAY, &match,
                   ofpacts);

    /* ARP: the node's stack asking for an address of the cluster or of a
     * Service, which it routes through the gateway.  Local pods answer for
     * themselves at a higher priority. */
    const struct k8s_cidr *behind_gateway[2];
    size_t n = 0;
    if (in->cluster_cidr.has_ipv4) {
        behind_gateway[n++] = &in->cluster_cidr.ipv4;
    }
    if (in->service_cidr.has_ipv4) {
        behind_gateway[n++] = &in->service_cidr.ipv4;
    }
    for (size_t i = 0; i < n; i++) {
        const struct k8s_cidr *c = behind_gateway[i];
        match_init_catchall(&match);
        match_set_in_port(&match, in->gateway_ofport);
        match_set_dl_type(&match, htons(ETH_TYPE_ARP));
        match_set_arp_opcode_masked(&match, ARP_OP_REQUEST, UINT8_MAX);
        match_set_nw_dst_masked(&match, in6_addr_get_mapped_ipv4(&c->addr),
                                be32_prefix_mask(c->plen));
        ofpbuf_clear(ofpacts);
        flows_put_arp_reply(ofpacts, KOVS_VIRTUAL_MAC);
        flow_table_add(ft, cookie, KOVS_T_ARP, KOVS_PRIO_ARP_BEHIND_GATEWAY,
                       &match, ofpacts);
    }

    /* ARP from the node's stack for an address of this node's podCIDR
     * that no pod has: no answer (the pods answer for themselves). */
    match_init_catchall(&match);
    match_set_in_port(&match, in->gateway_ofport);
    match_set_dl_type(&match, htons(ETH_TYPE_ARP));
    match_set_arp_opcode_masked(&match, ARP_OP_REQUEST, UINT8_MAX);
    match_set_nw_dst_masked(&match, local->pod_net, local->pod_mask);
    ofpbuf_clear(ofpacts);
    flow_table_add(ft, cookie, KOVS_T_ARP, KOVS_PRIO_ARP_LOCAL_UNKNOWN,
                   &match, ofpacts);

    /* L3_FORWARDING: an address of this node's podCIDR that no pod has
     * goes nowhere (sending it to the node would only bring it back). */
    match_init_catchall(&match);
    match_set_dl_type(&match, htons(ETH_TYPE_IP));
    match_set_nw_dst_masked(&match, local->pod_net, local->pod_mask);
    ofpbuf_clear(ofpacts);
    flow_table_add(ft, cookie, KOVS_T_L3_FORWARDING, KOVS_PRIO_L3_NOBODY,
                   &match, ofpacts);

    /* L3_FORWARDING: the hairpin address is nobody's: only replies to it
     * exist, and CT_ZONE un-SNATs those. */
    if (in->cluster_cidr.has_ipv4) {
        match_init_catchall(&match);
        match_set_dl_type(&match, htons(ETH_TYPE_IP));
        match_set_nw_dst(&match, htonl(KOVS_HAIRPIN_IP));
        ofpbuf_clear(ofpacts);
        flow_table_add(ft, cookie, KOVS_T_L3_FORWARDING, KOVS_PRIO_L3_NOBODY,
                       &match, ofpacts);
    }

    /* L3_FORWARDING: a Service address that no Service port took in
     * SERVICE_LB goes nowhere (the node would route it straight back). */
    if (in->service_cidr.has_ipv4) {
        match_init_catchall(&match);
        match_set_dl_type(&match, htons(ETH_TYPE_IP));
        match_set_nw_dst_masked(
            &match, in6_addr_get_mapped_ipv4(&in->service_cidr.ipv4.addr),
            be32_prefix_mask(in->service_cidr.ipv4.plen));
        ofpbuf_clear(ofpacts);
        flow_table_add(ft, cookie, KOVS_T_L3_FORWARDING, KOVS_PRIO_L3_NOBODY,
                       &match, ofpacts);
    }

    /* L3_FORWARDING: the gateway's own address, and by default everything
     * that is not a pod of this cluster: the node's stack routes it. */
    match_init_catchall(&match);
    match_set_dl_type(&match, htons(ETH_TYPE_IP));
    match_set_nw_dst(&match, local->gateway_ip);
    ofpbuf_clear(ofpacts);
    flows_put_set_mac(ofpacts, MFF_ETH_DST, local->gateway_mac);
    flows_put_load_field(ofpacts, KOVS_F_OUT_PORT,
                         ofp_to_u16(in->gateway_ofport));
    flows_put_goto(ofpacts, kovs_table_next(KOVS_T_L3_FORWARDING));
    flow_table_add(ft, cookie, KOVS_T_L3_FORWARDING, KOVS_PRIO_L3_ROUTE,
                   &match, ofpacts);

    match_init_catchall(&match);
    match_set_dl_type(&match, htons(ETH_TYPE_IP));
    ofpbuf_clear(ofpacts);
    flows_put_to_node(ofpacts, in, local);
    flow_table_add(ft, cookie, KOVS_T_L3_FORWARDING, KOVS_PRIO_L3_TO_NODE,
                   &match, ofpacts);
}

/* The skeleton of the pipeline, owned by KOVS_COOKIE_PIPELINE: every
 * table's miss flow, the gateway port, and ARP answers for the gateway and
 * for the cluster behind it. */
void
flows_pipeline_compute(const struct flows_input *in,
                       const struct flows_local *local,
                       struct flow_table *ft)
{
    const uint64_t cookie = KOVS_COOKIE_PIPELINE;
    struct ofpbuf ofpacts;
    struct match match;

    flow_table_remove_owner(ft, cookie);
    ofpbuf_init(&ofpacts, 256);

    /* Table misses.  Tables that end a packet's journey (or that only let
     * through what they know) drop; AFFINITY and ENDPOINT_DNAT are only
     * visited by resubmit and give nothing back on a miss; SERVICE_LB
     * passes what is not for a Service on to EGRESS_POLICY; the others
     * pass to the next table.  L3_FORWARDING's miss comes with the
     * gateway, below. */
#define KOVS_TABLE(NAME, NUMBER)                                        \
    match_init_catchall(&match);                                        \
    ofpbuf_clear(&ofpacts);                                             \
    switch (NUMBER) {                                                   \
    case KOVS_T_CLASSIFIER:                                             \
    case KOVS_T_SPOOFGUARD:                                             \
    case KOVS_T_AFFINITY:                                               \
    case KOVS_T_ENDPOINT_DNAT:                                          \
    case KOVS_T_OUTPUT:                                                 \
        break;                                                          \
    case KOVS_T_SERVICE_LB:                                             \
        flows_put_goto(&ofpacts, KOVS_T_EGRESS_POLICY);                 \
        break;                                                          \
    default:                                                            \
        flows_put_goto(&ofpacts, kovs_table_next(NUMBER));              \
    }                                                                   \
    if (NUMBER != KOVS_T_L3_FORWARDING) {                               \
        flow_table_add(ft, cookie, NUMBER, KOVS_PRIO_MISS, &match,      \
                       &ofpacts);                                       \
    }
    KOVS_TABLES
#undef KOVS_TABLE

    flows_pipeline_conntrack(in, ft, &ofpacts);

    /* ARP that no flow answers is dropped, never flooded. */
    match_init_catchall(&match);
    match_set_dl_type(&match, htons(ETH_TYPE_ARP));
    ofpbuf_clear(&ofpacts);
    flow_table_add(ft, cookie, KOVS_T_ARP, KOVS_PRIO_ARP_DROP, &match,
                   &ofpacts);

    /* OUTPUT: to the port L3_FORWARDING chose. */
    match_init_catchall(&match);
    ofpbuf_clear(&ofpacts);
    flows_put_output_field(&ofpacts, KOVS_F_OUT_PORT);
    flow_table_add(ft, cookie, KOVS_T_OUTPUT, KOVS_PRIO_OUTPUT, &match,
                   &ofpacts);

    /* OUTPUT: a packet larger than its tunnel carries, or than the local
     * pod it goes to takes, goes to the controller, which answers its
     * sender (an IPv4 one only if it set DF) and drops it. */
    struct pinctrl_too_big_args args = {
        .mtu = htons(MIN(flows_tunnel_mtu(in), UINT16_MAX)),
    };
    if (in->tunnel_mode != FLOWS_TUNNEL_NONE) {
        match_init_catchall(&match);
        kovs_match_field(&match, KOVS_F_FLAG_PKT_LARGER, 1);
        ofpbuf_clear(&ofpacts);
        flows_put_controller_args(&ofpacts, PINCTRL_OP_TOO_BIG, &args,
                                  sizeof args);
        flow_table_add(ft, cookie, KOVS_T_OUTPUT, KOVS_PRIO_OUTPUT_TOO_BIG,
                       &match, &ofpacts);
    }
    match_init_catchall(&match);
    kovs_match_field(&match, KOVS_F_FLAG_POD_LARGER, 1);
    ofpbuf_clear(&ofpacts);
    flows_put_controller_args(&ofpacts, PINCTRL_OP_TOO_BIG_POD, &args,
                              sizeof args);
    flow_table_add(ft, cookie, KOVS_T_OUTPUT, KOVS_PRIO_OUTPUT_TOO_BIG,
                   &match, &ofpacts);

    if (!local->valid || !in->gateway_ofport) {
        /* Without this node's podCIDR or its gateway port, only the
         * skeleton exists: every packet drops. */
        ofpbuf_uninit(&ofpacts);
        return;
    }

    /* CLASSIFIER: the gateway, the node's own stack. */
    match_init_catchall(&match);
    match_set_in_port(&match, in->gateway_ofport);
    ofpbuf_clear(&ofpacts);
    flows_put_load_field(&ofpacts, KOVS_F_PORT_KIND, KOVS_PORT_GATEWAY);
    flows_put_goto(&ofpacts, KOVS_T_ARP);
    flow_table_add(ft, cookie, KOVS_T_CLASSIFIER, KOVS_PRIO_CLASSIFIER_PORT,
                   &match, &ofpacts);

    /* The shared flow-based tunnel port's flows for all peers. */
    flows_node_shared_tunnel_flows(in, cookie, ft);

    if (local->valid4) {
        flows_pipeline_ipv4(in, local, ft, &ofpacts);
    }
    if (local->valid6) {
        flows_pipeline_ipv6(in, local, ft, &ofpacts);
    }

    ofpbuf_uninit(&ofpacts);
}
