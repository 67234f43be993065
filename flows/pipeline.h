/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#ifndef FLOWS_PIPELINE_H
#define FLOWS_PIPELINE_H 1

/* The br-int pipeline: the one place that names its tables, registers,
 * conntrack marks and zones, and the layout of flow cookies.  Table numbers
 * are part of the user interface: operators type them
 * ('ovs-ofctl dump-flows br-int table=60'), so they never change. */

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include "openvswitch/flow.h"
#include "openvswitch/match.h"
#include "openvswitch/meta-flow.h"
#include "openvswitch/util.h"
#include "k8s/k8s-model.h"
#include "packets.h"

struct ds;
struct flow_table;

/* Tables, in the order a packet visits them.  Every table exists from the
 * start; a table with no job yet passes packets to the next one. */
#define KOVS_TABLES                                                        \
    /* Classifies a packet by its in_port (pod, gateway, tunnel, br-ex     \
     * patch) and records the kind in the PORT_KIND field. */              \
    KOVS_TABLE(CLASSIFIER, 0)                                              \
    /* A pod may only send from its own MAC and IP (ARP sha and spa        \
     * too; for IPv6 also its link-local address, and neighbour discovery  \
     * only about itself); everything else drops. */                       \
    KOVS_TABLE(SPOOFGUARD, 10)                                             \
    /* Answers ARP, and IPv6 Neighbor Solicitations, for the gateway, for  \
     * local pods and for the rest of the cluster with flows; nothing is   \
     * flooded. */                                                         \
    KOVS_TABLE(ARP, 20)                                                    \
    /* Sends IP traffic through conntrack: un-DNATs replies and learns     \
     * the connection state. */                                            \
    KOVS_TABLE(CT_ZONE, 30)                                                \
    /* Drops invalid connections; established and related ones skip load   \
     * balancing. */                                                       \
    KOVS_TABLE(CT_STATE, 31)                                               \
    /* New connections to a Service (VIP, protocol, port) go to the        \
     * Service's select group; no endpoints: reject. */                    \
    KOVS_TABLE(SERVICE_LB, 40)                                             \
    /* Learned client-to-endpoint flows for sessionAffinity ClientIP. */   \
    KOVS_TABLE(AFFINITY, 41)                                               \
    /* Per endpoint: DNAT to the endpoint and mark the connection as a     \
     * Service connection. */                                              \
    KOVS_TABLE(ENDPOINT_DNAT, 42)                                          \
    /* NetworkPolicy egress rules as conjunctions; isolated pods' misses   \
     * drop. */                                                            \
    KOVS_TABLE(EGRESS_POLICY, 50)                                          \
    /* Routing: a local pod gets its MACs rewritten and its TTL            \
     * decremented, a peer node's podCIDR and IP go to that node's         \
     * tunnel (routed mode: out through br-ex, to the peer's IP), with     \
     * FLAG_PKT_LARGER set if the packet is larger than the tunnel         \
     * carries, this node's IP to its stack, anything else leaves through  \
     * br-ex to its next hop (without br-ex: through the gateway). */      \
    KOVS_TABLE(L3_FORWARDING, 60)                                          \
    /* Packets leaving through br-ex get the MAC of their next hop (the    \
     * address in the NEXTHOP field, for IPv6 in KOVS_NEXTHOP6_FIELD); an  \
     * unknown next hop is resolved by the controller (ARP, or a Neighbor  \
     * Solicitation) and the packet dropped meanwhile. */                  \
    KOVS_TABLE(NEIGHBOR, 62)                                               \
    /* Masquerades traffic leaving the cluster to the node IP, and         \
     * NodePort traffic sent on to another node; hairpin SNAT. */          \
    KOVS_TABLE(SNAT, 65)                                                   \
    /* NetworkPolicy ingress rules as conjunctions; isolated pods' misses  \
     * drop. */                                                            \
    KOVS_TABLE(INGRESS_POLICY, 70)                                         \
    /* Commits new allowed connections to conntrack. */                    \
    KOVS_TABLE(CT_COMMIT, 80)                                              \
    /* Outputs to the port L3_FORWARDING chose, kept in OUT_PORT; a        \
     * packet too large for its tunnel (FLAG_PKT_LARGER) goes to the       \
     * controller instead, which answers its sender with ICMP              \
     * "fragmentation needed" or ICMPv6 "packet too big". */               \
    KOVS_TABLE(OUTPUT, 90)

enum kovs_table {
#define KOVS_TABLE(NAME, NUMBER) KOVS_T_##NAME = NUMBER,
    KOVS_TABLES
#undef KOVS_TABLE
};

/* Returns the name of table 'table' ("L3_FORWARDING"), or NULL if the
 * pipeline has no such table. */
const char *kovs_table_name(uint8_t table);

/* Returns the table a packet visits after 'table', which must be one of the
 * pipeline's tables other than the last. */
uint8_t kovs_table_next(uint8_t table);

/* Register fields.  Every field of a register that the pipeline uses is
 * declared here once, with its register, its first bit and its width:
 *
 *     KOVS_FIELD(NAME, MFF_ID, OFS, N_BITS)
 *
 * Flows set, match and copy fields only through these declarations (the
 * helpers below and in flows/actions.h), so that moving a field is one
 * edit here.  A flag is a field of one bit. */
#define KOVS_FIELDS                                                        \
    /* Where the packet entered br-int (enum kovs_port_kind), set by       \
     * CLASSIFIER. */                                                      \
    KOVS_FIELD(PORT_KIND, MFF_REG0, 0, 4)                                  \
    /* SERVICE_LB consulted AFFINITY. */                                   \
    KOVS_FIELD(FLAG_AFF_DONE, MFF_REG0, 5, 1)                              \
    /* A learned AFFINITY flow chose the endpoint. */                      \
    KOVS_FIELD(FLAG_AFF_HIT, MFF_REG0, 6, 1)                               \
    /* The group chose the endpoint and AFFINITY must learn it. */         \
    KOVS_FIELD(FLAG_AFF_CHOSEN, MFF_REG0, 7, 1)                            \
    /* ARP turned this Neighbor Solicitation into an Advertisement and     \
     * resubmitted it to ARP, where a flow that matches an Advertisement   \
     * (as the switch requires) sets its target link-layer address. */     \
    KOVS_FIELD(FLAG_ND_REPLY, MFF_REG0, 8, 1)                              \
    /* L3_FORWARDING found the packet larger than the tunnel it goes       \
     * into carries (check_pkt_larger), for OUTPUT. */                     \
    KOVS_FIELD(FLAG_PKT_LARGER, MFF_REG0, 9, 1)                            \
    /* L3_FORWARDING found the packet larger than the local pod it goes to \
     * takes (check_pkt_larger), for OUTPUT: only a packet from br-ex's    \
     * uplink can be. */                                                   \
    KOVS_FIELD(FLAG_POD_LARGER, MFF_REG0, 10, 1)                           \
    /* An ICMPv6 error whose ICMPv6 header's second word is in            \
     * ICMP6_STASH, for OUTPUT to restore after conntrack (see            \
     * PINCTRL_OP_ICMP6_STASH). */                                         \
    KOVS_FIELD(FLAG_ICMP6_STASHED, MFF_REG0, 11, 1)                        \
    /* The OpenFlow port the packet leaves through, chosen by              \
     * L3_FORWARDING and used by OUTPUT. */                                \
    KOVS_FIELD(OUT_PORT, MFF_REG1, 0, 32)                                  \
    /* Scratch space of an ARP reply built by flows: the requested         \
     * address on its way from the target to the sender field.  Only       \
     * within one flow's actions. */                                       \
    KOVS_FIELD(ARP_SCRATCH, MFF_REG2, 0, 32)                               \
    /* The Service endpoint that a select group bucket (or a learned       \
     * affinity flow) chose, for ENDPOINT_DNAT: its IPv4 address... */     \
    KOVS_FIELD(EP_IP, MFF_REG3, 0, 32)                                     \
    /* ...and its port. */                                                 \
    KOVS_FIELD(EP_PORT, MFF_REG4, 0, 16)                                   \
    /* The IPv4 address of the next hop of a packet that leaves through    \
     * br-ex, chosen by L3_FORWARDING and resolved to a MAC by NEIGHBOR    \
     * (IPv6: KOVS_NEXTHOP6_FIELD, below). */                              \
    KOVS_FIELD(NEXTHOP, MFF_REG5, 0, 32)                                   \
    /* The second 32-bit word of an ICMPv6 error's header (the MTU of a    \
     * "packet too big"), kept while conntrack NATs the error. */          \
    KOVS_FIELD(ICMP6_STASH, MFF_REG6, 0, 32)

enum kovs_field {
#define KOVS_FIELD(NAME, MFF_ID, OFS, N_BITS) KOVS_F_##NAME,
    KOVS_FIELDS
#undef KOVS_FIELD
    KOVS_N_FIELDS
};

struct kovs_field_def {
    const char *name;               /* "OUT_PORT". */
    enum mf_field_id id;            /* A 32-bit register: MFF_REG0... */
    unsigned int ofs;               /* First bit. */
    unsigned int n_bits;            /* Width. */
};

/* Returns the declaration of field 'f'. */
static inline struct kovs_field_def
kovs_field_def(enum kovs_field f)
{
    switch (f) {
#define KOVS_FIELD(NAME, MFF_ID, OFS, N_BITS)                               \
    case KOVS_F_##NAME:                                                     \
        return (struct kovs_field_def) { #NAME, MFF_ID, OFS, N_BITS };
    KOVS_FIELDS
#undef KOVS_FIELD
    case KOVS_N_FIELDS:
        break;
    }
    OVS_NOT_REACHED();
}

/* Returns the index of the register that holds field 'f' (0 for reg0). */
static inline unsigned int
kovs_field_reg(enum kovs_field f)
{
    return kovs_field_def(f).id - MFF_REG0;
}

/* Returns the mask of field 'f''s bits within its register. */
static inline uint32_t
kovs_field_mask(enum kovs_field f)
{
    struct kovs_field_def def = kovs_field_def(f);
    return (def.n_bits == 32 ? UINT32_MAX
            : ((UINT32_C(1) << def.n_bits) - 1) << def.ofs);
}

/* Stores field 'f' as a subfield in '*sf', for the actions that take one
 * (move, learn, output, multipath, hashes). */
static inline void
kovs_field_subfield(enum kovs_field f, struct mf_subfield *sf)
{
    struct kovs_field_def def = kovs_field_def(f);

    sf->field = mf_from_id(def.id);
    sf->ofs = def.ofs;
    sf->n_bits = def.n_bits;
}

/* Makes 'match' require 'value' in field 'f', keeping what it requires of
 * the register's other bits (so that several fields of one register, a
 * port kind and flags, add up). */
static inline void
kovs_match_field(struct match *match, enum kovs_field f, uint32_t value)
{
    unsigned int reg = kovs_field_reg(f);
    unsigned int ofs = kovs_field_def(f).ofs;
    uint32_t mask = kovs_field_mask(f);

    ovs_assert(!(value & ~(mask >> ofs)));
    match_set_reg_masked(match, reg,
                         (match->flow.regs[reg] & ~mask) | (value << ofs),
                         match->wc.masks.regs[reg] | mask);
}

/* Returns the value of field 'f' in 'flow' (a packet-in's metadata, a
 * match's values). */
static inline uint32_t
kovs_field_get(const struct flow *flow, enum kovs_field f)
{
    return ((flow->regs[kovs_field_reg(f)] & kovs_field_mask(f))
            >> kovs_field_def(f).ofs);
}

/* Returns true if 'match' requires every bit of field 'f', and then stores
 * the value it requires in '*value'. */
static inline bool
kovs_match_get_field(const struct match *match, enum kovs_field f,
                     uint32_t *value)
{
    uint32_t mask = kovs_field_mask(f);

    if ((match->wc.masks.regs[kovs_field_reg(f)] & mask) != mask) {
        return false;
    }
    *value = kovs_field_get(&match->flow, f);
    return true;
}

/* The IPv6 address of the Service endpoint that a select group bucket (or
 * a learned affinity flow) chose, for ENDPOINT_DNAT: EP_IP's counterpart
 * for IPv6 Services (EP_PORT holds the port for both families).  It takes
 * the whole of xxreg2 (reg8 to reg11), which no other field uses, so it is
 * declared apart from the 32-bit fields above. */
#define KOVS_EP_IP6_FIELD       MFF_XXREG2

/* The IPv6 address of the next hop of an IPv6 packet that leaves through
 * br-ex, chosen by L3_FORWARDING and resolved to a MAC by NEIGHBOR:
 * NEXTHOP's counterpart for IPv6.  It takes the whole of xxreg3 (reg12 to
 * reg15), which no other field uses. */
#define KOVS_NEXTHOP6_FIELD     MFF_XXREG3

/* Makes 'match' require 'ip6' in the 128-bit field 'id' (one of the two
 * above). */
static inline void
kovs_match_ip6_field(struct match *match, enum mf_field_id id,
                     const struct in6_addr *ip6)
{
    union mf_value value;
    memcpy(&value.be128, ip6, sizeof value.be128);
    mf_set_value(mf_from_id(id), &value, match, NULL);
}

/* Returns the value of the 128-bit field 'id' in 'flow' (a packet-in's
 * metadata). */
static inline struct in6_addr
kovs_ip6_field_get(const struct flow *flow, enum mf_field_id id)
{
    union mf_value value;
    struct in6_addr ip6;
    mf_get_value(mf_from_id(id), flow, &value);
    memcpy(&ip6, &value.be128, sizeof ip6);
    return ip6;
}

/* Makes 'match' require 'ip6' in KOVS_EP_IP6_FIELD. */
static inline void
kovs_match_ep_ip6(struct match *match, const struct in6_addr *ip6)
{
    kovs_match_ip6_field(match, KOVS_EP_IP6_FIELD, ip6);
}

/* Returns true if 'match' requires every bit of KOVS_EP_IP6_FIELD, and
 * then stores the address it requires in '*ip6'. */
static inline bool
kovs_match_get_ep_ip6(const struct match *match, struct in6_addr *ip6)
{
    union mf_value value, mask;
    mf_get(mf_from_id(KOVS_EP_IP6_FIELD), match, &value, &mask);
    if (!is_all_ones(&mask.be128, sizeof mask.be128)) {
        return false;
    }
    memcpy(ip6, &value.be128, sizeof *ip6);
    return true;
}

/* The values of PORT_KIND. */
enum kovs_port_kind {
    KOVS_PORT_POD = 1,          /* A local pod's veth. */
    KOVS_PORT_GATEWAY = 2,      /* kovs-gw0, the node's own stack. */
    KOVS_PORT_TUNNEL = 3,       /* A peer node's tunnel, or in routed
                                 * mode the patch port from br-ex with a
                                 * peer's pod or node address as source. */
    KOVS_PORT_EXTERNAL = 4,     /* The patch port from br-ex. */
};

/* Conntrack zones. */
#define KOVS_CT_ZONE_POD        1   /* Every connection seen on br-int;
                                     * Service DNAT happens here. */
#define KOVS_CT_ZONE_SNAT       2   /* Source NAT: hairpin, and to the node
                                     * IP (traffic leaving the cluster,
                                     * NodePort traffic sent to another
                                     * node).  br-ex looks packets up in it
                                     * to tell replies of kovs's SNAT from
                                     * the node's own traffic. */

/* The source ports of SNAT to the node IP: above Linux's default ephemeral
 * range (32768-60999), so that the node's own connections, which the
 * kernel's conntrack tracks and OVS's does not, never use them. */
#define KOVS_SNAT_PORT_MIN      61000
#define KOVS_SNAT_PORT_MAX      65535

/* ct_mark bits. */
#define KOVS_CT_MARK_SERVICE    0x1 /* A connection to a Service, DNATed
                                     * and committed by ENDPOINT_DNAT. */

/* Matches packets of connections to a Service ('service') or of other
 * connections.  The mark, unlike a register set in ENDPOINT_DNAT, is on
 * every packet of the connection, a retransmitted SYN included: CT_ZONE
 * has already DNATed that one, so SERVICE_LB and ENDPOINT_DNAT never see
 * it. */
static inline void
kovs_match_service_conn(struct match *match, bool service)
{
    match_set_ct_mark_masked(match, service ? KOVS_CT_MARK_SERVICE : 0,
                             KOVS_CT_MARK_SERVICE);
}

/* The source address a pod sees when it reaches itself through a Service
 * (hairpin): link-local, never a real peer. */
#define KOVS_HAIRPIN_IP         0xa9fea9fc  /* 169.254.169.252 */

/* The same for IPv6: an address of the unique local range fd00::/8 that
 * ends in the IPv4 hairpin address, fd00::a9fe:a9fc.  No cluster is
 * expected to give it to anything (pod and Service CIDRs are prefixes that
 * kovs routes; this /128 is kept out of them by L3_FORWARDING). */
#define KOVS_HAIRPIN_IP6_INIT \
    { { { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xa9, 0xfe, 0xa9, 0xfc } } }
static inline struct in6_addr
kovs_hairpin_ip6(void)
{
    return (struct in6_addr) KOVS_HAIRPIN_IP6_INIT;
}

/* The tunnel key (VNI) of pod traffic between nodes. */
#define KOVS_TUNNEL_VNI         1

/* Addresses the pipeline uses as MACs of routers that do not exist:
 * KOVS_VIRTUAL_MAC answers ARP for addresses behind the gateway route (other
 * nodes' pods) and is the destination MAC of packets sent through a
 * tunnel. */
#define KOVS_VIRTUAL_MAC        ((struct eth_addr) ETH_ADDR_C(aa,bb,cc,dd,ee,ff))

/* The external bridge, br-ex: two tables.  Its flows carry the cookies of
 * the same owners as br-int's ("external" for the fixed ones, a Service's
 * for its NodePorts and external addresses). */
#define KOVS_EX_TABLES                                                      \
    /* Packets from br-int go out of the uplink; packets from the uplink   \
     * for kovs (NodePorts, external and LoadBalancer IPs) go to br-int;   \
     * other IP packets to the node IP are looked up in the SNAT zone;     \
     * everything else is switched as a plain bridge would (NORMAL). */    \
    KOVS_EX_TABLE(EX_IN, 0)                                                \
    /* Replies of kovs's SNAT (established or related in the SNAT zone)    \
     * go to br-int; the node's own traffic to NORMAL. */                  \
    KOVS_EX_TABLE(EX_SNAT_REPLY, 1)

enum kovs_ex_table {
#define KOVS_EX_TABLE(NAME, NUMBER) KOVS_T_##NAME = NUMBER,
    KOVS_EX_TABLES
#undef KOVS_EX_TABLE
};

/* Returns the name of br-ex's table 'table' ("EX_IN"), or NULL if br-ex has
 * no such table. */
const char *kovs_ex_table_name(uint8_t table);

/* Appends to 's' one line per table of br-int, with its number, its name
 * and the number of flows 'br_int' has in it, counting a flow that several
 * owners want once, as the switch holds it:
 *
 *     table 40 SERVICE_LB           12 flows
 *
 * then, if 'br_ex' is nonnull, the same for br-ex's tables, prefixed with
 * "br-ex ".  This is what 'flow-summary' and 'kovs-ctl compute' print. */
void kovs_pipeline_summary(const struct flow_table *br_int,
                           const struct flow_table *br_ex, struct ds *s);

/* The UDP ports of the underlay's VXLAN and Geneve: tunnel packets to the
 * node IP never go through conntrack on br-ex. */
#define KOVS_VXLAN_PORT         4789
#define KOVS_GENEVE_PORT        6081

/* Meters of br-int.  Every packet that br-int sends to kovs-controller
 * goes through one, so that no flood (a pod hammering a Service without
 * endpoints, say) loads the controller beyond a budget per reason: each
 * meter lets PKTPS packets per second through, and BURST more at once
 * after a quiet spell, and drops the rest in the datapath.  A controller
 * action names the meter of its reason (flows_put_controller()); the
 * switch's "controller" meter covers every packet-in that names none (a
 * TTL that expires in dec_ttl).  br-ex sends nothing to the controller.
 * 'ovs-ofctl -O OpenFlow15 meter-stats br-int' shows what each passed and
 * dropped.
 *
 *     KOVS_METER(NAME, ID, PKTPS, BURST) */
#define KOVS_METERS                                                         \
    /* Connections to Services without endpoints, to reject. */            \
    KOVS_METER(REJECT, 1, 200, 200)                                         \
    /* Next hops to resolve with ARP. */                                    \
    KOVS_METER(RESOLVE, 2, 100, 100)                                        \
    /* ARP replies from the external network to the node IP. */            \
    KOVS_METER(NEIGHBOR, 3, 100, 100)                                       \
    /* NetworkPolicy verdicts for the audit log (kovs-controller's         \
     * --np-log-rate sets the rate and the burst). */                      \
    KOVS_METER(NP_LOG, 4, 100, 100)                                         \
    /* Packets too large for a tunnel, whose senders get an ICMP or        \
     * ICMPv6 error. */                                                    \
    KOVS_METER(TOO_BIG, 5, 100, 100)                                        \
    /* ICMPv6 errors, which pass the controller before and after           \
     * conntrack (PINCTRL_OP_ICMP6_STASH). */                              \
    KOVS_METER(ICMP6, 6, 200, 200)                                          \
    /* Any other packet-in: OpenFlow's "controller" meter. */              \
    KOVS_METER(OTHER, KOVS_METER_ID_CONTROLLER, 100, 100)

/* OpenFlow's meter id for the packet-ins no meter of their own covers
 * (OFPM13_CONTROLLER). */
#define KOVS_METER_ID_CONTROLLER 0xfffffffeu

enum kovs_meter_id {
#define KOVS_METER(NAME, ID, PKTPS, BURST) KOVS_METER_##NAME = ID,
    KOVS_METERS
#undef KOVS_METER
};

struct kovs_meter {
    const char *name;               /* "REJECT". */
    uint32_t id;
    uint32_t pktps;                 /* Packets per second. */
    uint32_t burst;                 /* Packets. */
};

/* The meters of br-int, in the order of KOVS_METERS. */
extern const struct kovs_meter kovs_meters[];
extern const size_t kovs_n_meters;

/* Priorities, per table.  Every table's miss flow has KOVS_PRIO_MISS; above
 * it, a table's jobs are ordered so that the more specific one wins where
 * their matches overlap.  The numbers show in 'ovs-ofctl dump-flows', so
 * they stay what they are; gaps leave room. */
#define KOVS_PRIO_MISS 0

/* CLASSIFIER: one flow per known in_port; in routed mode, a peer node's
 * traffic (by its source address) above the patch port from br-ex, and
 * the answers to kovs's Neighbor Solicitations above that (a peer's are
 * from its address too). */
enum kovs_classifier_prio {
    KOVS_PRIO_CLASSIFIER_PORT = 200,
    KOVS_PRIO_CLASSIFIER_ROUTED_PEER = 210,
    KOVS_PRIO_CLASSIFIER_ROUTED_NA = 220,
};

/* SPOOFGUARD: what a pod may send; the miss drops the rest.  IPv6
 * neighbour discovery (solicitations and advertisements) is dropped above
 * a pod's IPv6 flows, except where the pod's own ND flows, above that,
 * vouch for it. */
enum kovs_spoofguard_prio {
    KOVS_PRIO_SPOOFGUARD_POD = 200,
    KOVS_PRIO_SPOOFGUARD_ND_DROP = 205,
    KOVS_PRIO_SPOOFGUARD_ND = 210,
};

/* ARP.  The miss passes what is not ARP on; ARP that no flow answers drops
 * just above it.  Among answers, a pod's own address beats the prefixes
 * behind the gateway, and the exceptions (a pod asking for itself, replies
 * from br-ex) beat the answers they are exceptions to.  IPv6 Neighbor
 * Solicitations are answered at the same priorities as ARP; every other
 * neighbour discovery and MLD message drops with unanswered ARP, and
 * duplicate address detection (a solicitation from ::) is never
 * answered. */
enum kovs_arp_prio {
    KOVS_PRIO_ARP_DROP = 1,             /* Any other ARP. */
    KOVS_PRIO_ARP_BEHIND_GATEWAY = 100, /* The node asks for the cluster or
                                         * Service CIDR: the virtual MAC. */
    KOVS_PRIO_ARP_LOCAL_UNKNOWN = 150,  /* The node asks for an address of
                                         * its podCIDR that no pod has: no
                                         * answer (within the cluster
                                         * CIDR). */
    KOVS_PRIO_ARP_POD = 200,            /* Anyone asks for a local pod. */
    KOVS_PRIO_ARP_GATEWAY = 300,        /* Anyone asks for the gateway. */
    KOVS_PRIO_ARP_POD_SELF = 300,       /* A pod asks for its own address:
                                         * no answer. */
    KOVS_PRIO_ARP_EXTERNAL_REPLY = 310, /* A reply from br-ex to the node IP:
                                         * to the controller. */
    KOVS_PRIO_ND_DAD = 310,             /* A solicitation from ::: no
                                         * answer. */
    KOVS_PRIO_ND_REPLY = 320,           /* An advertisement built from a
                                         * solicitation: completed and sent
                                         * back. */
};

/* CT_ZONE: an address kovs source-NATs to is first looked up in the SNAT
 * zone, before every IP packet goes through the pod zone. */
enum kovs_ct_zone_prio {
    KOVS_PRIO_CT_ZONE_POD = 100,
    KOVS_PRIO_CT_ZONE_UNSNAT = 200,
    KOVS_PRIO_CT_ZONE_ICMP6_STASH = 300,
    KOVS_PRIO_CT_ZONE_ICMP6_STASH_PATCH = 310,
};

/* CT_STATE: invalid drops, above established and related, which skip load
 * balancing. */
enum kovs_ct_state_prio {
    KOVS_PRIO_CT_STATE_ESTABLISHED = 190,
    KOVS_PRIO_CT_STATE_INVALID = 200,
};

/* SERVICE_LB.  A LoadBalancer IP with source ranges drops what comes from
 * outside them, below the ranges' own flows.  A VIP's flow takes its
 * connections to the group (or rejects them); with session affinity it
 * takes four steps, one flow each, told apart by the AFF flags (so their
 * order among themselves does not matter): look the client up in AFFINITY
 * (LOOKUP), then with a hit go to ENDPOINT_DNAT (HIT), without one to the
 * group (MISS), and learn what the group chose (LEARN).  With
 * externalTrafficPolicy Local, the VIP's flows for this node's pods and
 * for the node itself (INSIDE: any endpoint) are above the VIP's flows for
 * everyone else (this node's endpoints only). */
enum kovs_service_lb_prio {
    KOVS_PRIO_SERVICE_LB_SOURCE_DROP = 180,
    KOVS_PRIO_SERVICE_LB_VIP = 200,
    KOVS_PRIO_SERVICE_LB_VIP_MISS = 205,
    KOVS_PRIO_SERVICE_LB_VIP_HIT = 210,
    KOVS_PRIO_SERVICE_LB_VIP_LEARN = 215,
    KOVS_PRIO_SERVICE_LB_INSIDE = 220,
    KOVS_PRIO_SERVICE_LB_INSIDE_MISS = 225,
    KOVS_PRIO_SERVICE_LB_INSIDE_HIT = 230,
    KOVS_PRIO_SERVICE_LB_INSIDE_LEARN = 235,
};

/* AFFINITY: learned client-to-endpoint flows. */
enum kovs_affinity_prio {
    KOVS_PRIO_AFFINITY_LEARNED = 200,
};

/* ENDPOINT_DNAT: one flow per endpoint. */
enum kovs_endpoint_dnat_prio {
    KOVS_PRIO_ENDPOINT_DNAT = 200,
};

/* EGRESS_POLICY and INGRESS_POLICY.  What policy never judges passes
 * first; a rule allowing everything needs no conjunction; an isolated
 * pod's default drop is below every rule that allows. */
enum kovs_policy_prio {
    KOVS_PRIO_POLICY_DROP = 100,    /* An isolated pod's default. */
    KOVS_PRIO_POLICY = 200,         /* Conjunctions and their ids. */
    KOVS_PRIO_POLICY_ALL = 250,     /* A rule allowing everything. */
    KOVS_PRIO_POLICY_PASS = 300,    /* Established, related, and from the
                                     * pod's node. */
};

/* L3_FORWARDING: routing, longest prefix first.  The miss sends to the
 * node's stack; with br-ex, what leaves the cluster goes out to its next
 * hop (on the node IP's subnet: the destination, above the default
 * gateway), except what came in from br-ex.  Prefixes inside the cluster
 * that nobody has drop above those (the cluster CIDR below the narrower
 * podCIDR, hairpin address and Service CIDR); a known address, a /32 or
 * another node's podCIDR, is routed above them; a local pod addressed by
 * its own MAC is switched, above its routed flow. */
enum kovs_l3_forwarding_prio {
    KOVS_PRIO_L3_TO_NODE = KOVS_PRIO_MISS,  /* Everything else: to the node's
                                             * stack. */
    KOVS_PRIO_L3_VIA_GATEWAY = 1,       /* Out through br-ex, to the default
                                         * gateway. */
    KOVS_PRIO_L3_ONLINK = 2,            /* Out through br-ex, to the
                                         * destination on the node IP's
                                         * subnet. */
    KOVS_PRIO_L3_EXTERNAL_NO_RETURN = 3,    /* From br-ex: never back out
                                             * (drop). */
    KOVS_PRIO_L3_CLUSTER_UNKNOWN = 50,  /* The cluster CIDR: never out
                                         * (drop). */
    KOVS_PRIO_L3_NOBODY = 100,          /* This node's podCIDR, the hairpin
                                         * address, the Service CIDR, IPv6
                                         * link-local and multicast:
                                         * drop. */
    KOVS_PRIO_L3_ROUTE = 200,           /* A local pod (routed), a peer's
                                         * podCIDR and IP, the gateway IP,
                                         * the node IP. */
    KOVS_PRIO_L3_POD_SWITCHED = 300,    /* A local pod, to its own MAC. */
};

/* NEIGHBOR: a resolved next hop gets its MAC; an unknown one, below, goes
 * to the controller. */
enum kovs_neighbor_prio {
    KOVS_PRIO_NEIGHBOR_RESOLVE = 100,
    KOVS_PRIO_NEIGHBOR_KNOWN = 200,
};

/* SNAT: Service connections, a pod's hairpin and NodePort traffic sent on
 * to another node (by their output port), are above the masquerade of
 * everything that leaves through br-ex; in routed mode, traffic to a
 * peer's podCIDR or IP leaves through br-ex unmasqueraded, between the
 * two. */
enum kovs_snat_prio {
    KOVS_PRIO_SNAT_EXTERNAL = 100,
    KOVS_PRIO_SNAT_ROUTED = 150,
    KOVS_PRIO_SNAT_SERVICE = 200,
};

/* CT_COMMIT: new connections are committed, except those that
 * ENDPOINT_DNAT committed already, above. */
enum kovs_ct_commit_prio {
    KOVS_PRIO_CT_COMMIT = 100,
    KOVS_PRIO_CT_COMMIT_SVC_DNAT = 110,
};

/* OUTPUT: to the output port, except a packet too large for its tunnel or
 * for the local pod it goes to, above, to the controller, and a pod's hairpin (and, in routed mode,
 * br-ex's traffic to a peer node), above both, to in_port. */
enum kovs_output_prio {
    KOVS_PRIO_OUTPUT = 100,
    KOVS_PRIO_OUTPUT_TOO_BIG = 150,
    KOVS_PRIO_OUTPUT_HAIRPIN = 200,
    KOVS_PRIO_OUTPUT_ICMP6_RESTORE = 250,
};

/* EX_IN (br-ex).  The miss is NORMAL; packets to the node IP (of either
 * family) are looked up in the SNAT zone, except the tunnel underlay and
 * IPv6 neighbour discovery, which stay the node's; in routed mode, packets
 * to this node's podCIDR, and from a peer's podCIDR to the node IP, go to
 * br-int; ARP replies and Neighbor Advertisements to the node IP and the
 * Services' front ends are taken above; what br-int sends goes out, above
 * all. */
enum kovs_ex_in_prio {
    KOVS_PRIO_EX_IN_NODE_IP = 100,
    KOVS_PRIO_EX_IN_UNDERLAY = 110,
    KOVS_PRIO_EX_IN_NODE_ND = 110,
    KOVS_PRIO_EX_IN_ROUTED = 150,
    KOVS_PRIO_EX_IN_TAKEN = 200,
    KOVS_PRIO_EX_IN_FROM_INT = 300,
};

/* EX_SNAT_REPLY (br-ex): replies of kovs's SNAT, above the miss
 * (NORMAL). */
enum kovs_ex_snat_reply_prio {
    KOVS_PRIO_EX_SNAT_REPLY = 200,
};

/* Cookies.  Every flow's cookie names its owner:
 *
 *     bits 63...56: the owner's kind (enum kovs_owner_kind)
 *     bits 55...0:  a stable id of the object within its kind, a hash of
 *                   its namespace and name, so that the same object has the
 *                   same cookie on every node and after every restart.
 *
 * 'ovs-ofctl dump-flows br-int cookie=C/-1' lists one owner's flows. */
#define KOVS_OWNER_KINDS                                                \
    KOVS_OWNER_KIND(PIPELINE, 1, "pipeline")                            \
    KOVS_OWNER_KIND(NODE, 2, "node")                                    \
    KOVS_OWNER_KIND(POD, 3, "pod")                                      \
    KOVS_OWNER_KIND(SERVICE, 4, "service")                              \
    KOVS_OWNER_KIND(POLICY, 5, "policy")                                \
    KOVS_OWNER_KIND(ENDPOINT, 6, "endpoint")                            \
    KOVS_OWNER_KIND(LEARNED, 7, "learned")                              \
    KOVS_OWNER_KIND(EXTERNAL, 8, "external")                            \
    KOVS_OWNER_KIND(NEIGHBOR, 9, "neighbor")

enum kovs_owner_kind {
#define KOVS_OWNER_KIND(ENUM, VALUE, NAME) KOVS_OWNER_##ENUM = VALUE,
    KOVS_OWNER_KINDS
#undef KOVS_OWNER_KIND
};

#define KOVS_COOKIE_KIND_SHIFT  56
#define KOVS_COOKIE_ID_MASK     ((UINT64_C(1) << KOVS_COOKIE_KIND_SHIFT) - 1)

/* Returns the cookie of the object of 'kind' named 'namespace'/'name'
 * ('namespace' may be "" or NULL for cluster-scoped objects). */
uint64_t kovs_cookie(enum kovs_owner_kind kind, const char *namespace,
                     const char *name);

/* Returns the owner kind encoded in 'cookie'. */
static inline enum kovs_owner_kind
kovs_cookie_kind(uint64_t cookie)
{
    return cookie >> KOVS_COOKIE_KIND_SHIFT;
}

/* Returns the name of owner kind 'kind' ("pod"), or NULL.  Conversely, finds
 * the kind named 'name'. */
const char *kovs_owner_kind_name(enum kovs_owner_kind kind);
bool kovs_owner_kind_from_name(const char *name, enum kovs_owner_kind *kind);

/* Stores in '*k8s_kind' the Kubernetes kind of the objects that own flows
 * of owner kind 'kind' and returns true, or returns false for the owners
 * that are no Kubernetes object (the pipeline, endpoints...). */
bool kovs_owner_kind_to_k8s(enum kovs_owner_kind, enum k8s_kind *);

/* Finds the object of 'cluster' whose flows carry 'cookie': a Node, Pod,
 * Service or NetworkPolicy.  Returns NULL for the owners that are no
 * Kubernetes object (the pipeline, the external bridge, the neighbors) and
 * for cookies that no object of 'cluster' has.  This is the reverse of
 * kovs_cookie(): it hashes the name of every object of the kind that the
 * cookie names, so it takes time linear in their number. */
struct k8s_cluster;
struct k8s_object;
struct ds;
const struct k8s_object *kovs_cookie_find_owner(const struct k8s_cluster *,
                                                uint64_t cookie);

/* Appends to 's' the owner of 'cookie' in 'cluster', as a log line names
 * it: "Pod default/web-1", "Node n2", or the owner kind's name for the
 * owners that are no Kubernetes object ("pipeline"), or "unknown owner
 * 0x..." for a cookie that no object of 'cluster' has. */
void kovs_cookie_format_owner(const struct k8s_cluster *, uint64_t cookie,
                              struct ds *s);

/* The cookie of the pipeline's own flows (table misses, the gateway). */
#define KOVS_COOKIE_PIPELINE \
    ((uint64_t) KOVS_OWNER_PIPELINE << KOVS_COOKIE_KIND_SHIFT)

#endif /* flows/pipeline.h */
