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
#include "openvswitch/meta-flow.h"
#include "packets.h"

/* Tables, in the order a packet visits them.  Every table exists from the
 * start; a table with no job yet passes packets to the next one. */
#define KOVS_TABLES                                                        \
    /* Classifies a packet by its in_port (pod, gateway, tunnel, br-ex     \
     * patch) and records the kind in REG_PORT_KIND. */                    \
    KOVS_TABLE(CLASSIFIER, 0)                                              \
    /* A pod may only send from its own MAC and IP (ARP sha and spa        \
     * too); everything else drops. */                                     \
    KOVS_TABLE(SPOOFGUARD, 10)                                             \
    /* Answers ARP for the gateway, for local pods and for the rest of     \
     * the cluster with flows; nothing is flooded. */                      \
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
     * decremented, a peer node's podCIDR goes to that node's tunnel,      \
     * anything else leaves through the gateway. */                        \
    KOVS_TABLE(L3_FORWARDING, 60)                                          \
    /* Packets leaving through br-ex get the MAC of their next hop (the    \
     * address in REG_NEXTHOP); an unknown next hop is resolved by the     \
     * controller (ARP) and the packet dropped meanwhile. */               \
    KOVS_TABLE(NEIGHBOR, 62)                                               \
    /* Masquerades traffic leaving the cluster to the node IP, and         \
     * NodePort traffic sent on to another node; hairpin SNAT. */          \
    KOVS_TABLE(SNAT, 65)                                                   \
    /* NetworkPolicy ingress rules as conjunctions; isolated pods' misses  \
     * drop. */                                                            \
    KOVS_TABLE(INGRESS_POLICY, 70)                                         \
    /* Commits new allowed connections to conntrack. */                    \
    KOVS_TABLE(CT_COMMIT, 80)                                              \
    /* Outputs to the port L3_FORWARDING chose, kept in REG_OUT_PORT. */   \
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

/* Registers.  Each is named once here; flows use the MFF_ names below. */

/* REG_PORT_KIND (reg0[0..3]): where the packet entered br-int. */
#define KOVS_REG_PORT_KIND      MFF_REG0
#define KOVS_PORT_KIND_MASK     0xfu
enum kovs_port_kind {
    KOVS_PORT_POD = 1,          /* A local pod's veth. */
    KOVS_PORT_GATEWAY = 2,      /* kovs-gw0, the node's own stack. */
    KOVS_PORT_TUNNEL = 3,       /* A peer node's tunnel. */
    KOVS_PORT_EXTERNAL = 4,     /* The patch port from br-ex. */
};

/* Flags in reg0, above the port kind. */
#define KOVS_FLAG_SVC_DNAT      (1u << 4)   /* This new connection was
                                             * DNATed to a Service
                                             * endpoint (and committed). */
#define KOVS_FLAG_AFF_DONE      (1u << 5)   /* AFFINITY was consulted. */
#define KOVS_FLAG_AFF_HIT       (1u << 6)   /* AFFINITY chose the
                                             * endpoint. */
#define KOVS_FLAG_AFF_HIT_BIT   6
#define KOVS_FLAG_AFF_CHOSEN    (1u << 7)   /* The group chose the endpoint
                                             * and AFFINITY must learn
                                             * it. */

/* REG_OUT_PORT (reg1): the OpenFlow port the packet leaves through, chosen
 * by L3_FORWARDING and used by OUTPUT. */
#define KOVS_REG_OUT_PORT       MFF_REG1

/* REG_EP_IP (reg3) and REG_EP_PORT (reg4[0..15]): the Service endpoint a
 * select group bucket (or a learned affinity flow) chose, for
 * ENDPOINT_DNAT. */
#define KOVS_REG_EP_IP          MFF_REG3
#define KOVS_REG_EP_PORT        MFF_REG4

/* REG_NEXTHOP (reg5): the IPv4 address of the next hop of a packet that
 * leaves through br-ex, chosen by L3_FORWARDING and resolved to a MAC by
 * NEIGHBOR. */
#define KOVS_REG_NEXTHOP        MFF_REG5

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
#define KOVS_CT_MARK_SERVICE    0x1 /* A connection to a Service. */

/* The source address a pod sees when it reaches itself through a Service
 * (hairpin): link-local, never a real peer. */
#define KOVS_HAIRPIN_IP         0xa9fea9fc  /* 169.254.169.252 */

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

/* The VXLAN port of the underlay: tunnel packets to the node IP never go
 * through conntrack on br-ex. */
#define KOVS_VXLAN_PORT         4789

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

/* Priorities.  Within a table, more specific jobs get higher priorities. */
#define KOVS_PRIO_DEFAULT       0       /* A table's miss flow. */
#define KOVS_PRIO_LOW           100
#define KOVS_PRIO_NORMAL        200
#define KOVS_PRIO_HIGH          300

/* Priorities in EGRESS_POLICY and INGRESS_POLICY. */
#define KOVS_PRIO_POLICY_PASS   300     /* Established, related, and from
                                         * the pod's node. */
#define KOVS_PRIO_POLICY_ALL    250     /* A rule allowing everything. */
#define KOVS_PRIO_POLICY        200     /* Conjunctions and their ids. */
#define KOVS_PRIO_POLICY_DROP   100     /* An isolated pod's default. */

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
