/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#ifndef FLOWS_FLOWS_H
#define FLOWS_FLOWS_H 1

/* Translation of the cluster model into br-int's desired flows.
 *
 * Everything here is pure: the same input gives the same flows, nothing
 * here does I/O or keeps state between calls.  The input is the cluster
 * model plus what the controller knows about this node's switch (which
 * OpenFlow port each pod and tunnel has); the output goes into a "struct
 * flow_table", one owner (cookie) per object.
 *
 * Each stage lives in its own file:
 *
 *     pipeline.c   the skeleton: table misses, the gateway, cluster ARP
 *     node.c       one peer node: its tunnel (or, routed, its next hop)
 *                  and the route to its podCIDRs
 *     pod.c        one local pod: classification, spoofguard, ARP, routing
 *     service.c    one Service: load balancing (flows/service.h)
 *     policy.c     one NetworkPolicy (flows/policy.h)
 *     external.c   the external bridge: br-ex's own flows, SNAT, and the
 *                  next hops of traffic leaving the cluster
 */

#include <stdbool.h>
#include "k8s/k8s-model.h"
#include "sset.h"
#include "openvswitch/list.h"
#include "openvswitch/shash.h"
#include "openvswitch/types.h"
#include "packets.h"

struct flow_table;
struct match;
struct minimatch;
struct svec;

/* An OpenFlow port of br-int that carries a pod (keyed "namespace/name" by
 * its external_ids:iface-id) or a tunnel (keyed by the peer node's name). */
struct flows_port {
    ofp_port_t ofport;
    struct eth_addr mac;            /* attached-mac, for pod ports. */
    ovs_be32 ip;                    /* For pod ports, the IPv4 address that
                                     * whoever plugged the pod gave it
                                     * (external_ids:ip-addresses), or 0.
                                     * It wins over the Pod object's. */
    struct in6_addr ip6;            /* The same for IPv6, or all-zeros. */
};

/* A neighbor on the external network whose MAC the controller resolved. */
struct flows_neighbor {
    struct in6_addr ip;             /* IPv4 mapped for IPv4. */
    struct eth_addr mac;
};

/* The external bridge (--external-bridge), once kovs knows everything about
 * it that flows need. */
struct flows_external {
    ofp_port_t patch_ofport;        /* br-int's patch port to br-ex. */
    ofp_port_t ex_patch_ofport;     /* br-ex's patch port to br-int. */
    ofp_port_t uplink_ofport;       /* br-ex's uplink. */
    struct eth_addr mac;            /* br-ex's MAC, the node IP's. */

    /* IPv4: this node's IP on br-ex (0 on an IPv6-only node, which has no
     * IPv4 podCIDR: then kovs takes no IPv4 traffic through br-ex), the
     * mask of its subnet (on-link destinations) and the default gateway
     * (0 if none). */
    ovs_be32 node_ip;
    ovs_be32 subnet_mask;
    ovs_be32 gateway_ip;

    /* IPv6: this node's global IPv6 address on br-ex (all-zeros if it has
     * none, or if the node has no IPv6 podCIDR: then kovs takes no IPv6
     * traffic through br-ex), the length of its prefix (on-link
     * destinations) and the IPv6 default gateway (all-zeros if none). */
    struct in6_addr node_ip6;
    int subnet6_plen;
    struct in6_addr gateway_ip6;

    const struct flows_neighbor *neighbors;     /* Resolved next hops. */
    size_t n_neighbors;
};

/* Which pods' NetworkPolicy verdicts go to the audit log (see
 * flows/policy.h): those of the namespaces annotated for it (the default,
 * hence 0), every pod's, or none. */
enum flows_np_logging {
    FLOWS_NP_LOGGING_ANNOTATED = 0,
    FLOWS_NP_LOGGING_ALL,
    FLOWS_NP_LOGGING_OFF,
};

/* How pod traffic reaches another node's pods (--tunnel-type). */
enum flows_tunnel_mode {
    FLOWS_TUNNEL_VXLAN,             /* A VXLAN port per peer node. */
    FLOWS_TUNNEL_GENEVE,            /* A Geneve port per peer node. */
    FLOWS_TUNNEL_NONE,              /* Routed through br-ex, with the peer's
                                     * InternalIP as next hop: no tunnel
                                     * port, and nothing without an external
                                     * bridge. */
};

/* Returns the name of 'mode' as --tunnel-type spells it ("vxlan"). */
const char *flows_tunnel_mode_name(enum flows_tunnel_mode mode);

/* Stores in '*mode' the mode that flows_tunnel_mode_name() calls 'name' and
 * returns true, or returns false if none does. */
bool flows_tunnel_mode_from_name(const char *name,
                                 enum flows_tunnel_mode *mode);

/* How the tunnel ports of a VXLAN or Geneve overlay are laid out
 * (--tunnel-ports). */
enum flows_tunnel_ports {
    FLOWS_TUNNEL_PORTS_PER_NODE,    /* A port per peer node, its remote_ip
                                     * the peer's underlay address. */
    FLOWS_TUNNEL_PORTS_FLOW,        /* One port shared by every peer, with
                                     * remote_ip=flow: the flows that send
                                     * to a peer set tun_dst (IPv4
                                     * underlay) or tun_ipv6_dst, and
                                     * CLASSIFIER tells the peers apart by
                                     * tun_src or tun_ipv6_src. */
};

/* Returns the name of 'ports' as --tunnel-ports spells it ("per-node"). */
const char *flows_tunnel_ports_name(enum flows_tunnel_ports ports);

/* As flows_tunnel_mode_from_name(), for --tunnel-ports. */
bool flows_tunnel_ports_from_name(const char *name,
                                  enum flows_tunnel_ports *ports);

/* The MTU of pods and the gateway in each tunnel mode, over a 1500-byte
 * underlay: VXLAN over IPv4 adds 50 bytes, Geneve 50 plus room for
 * options; routed mode adds nothing.  It is also the largest IP packet
 * that kovs sends into a tunnel (see flows_input's 'mtu'). */
#define FLOWS_MTU_VXLAN 1450
#define FLOWS_MTU_GENEVE 1400
#define FLOWS_MTU_ROUTED 1500

/* Returns the default MTU of tunnel mode 'mode'. */
int flows_default_mtu(enum flows_tunnel_mode mode);

/* Parses 's' as an --mtu: stores it in '*mtu' and returns true if it is a
 * number from 576 (IPv4's minimum datagram every host takes) to 65535. */
bool flows_mtu_from_string(const char *s, int *mtu);

struct flows_input;

/* Returns the largest IP packet that goes into a tunnel: 'in''s MTU, or
 * its tunnel mode's default. */
int flows_tunnel_mtu(const struct flows_input *in);

/* Returns the largest Ethernet frame that goes into a tunnel, as
 * check_pkt_larger counts it: flows_tunnel_mtu() plus the Ethernet header
 * (br-int's packets carry no VLAN tag), at most 65535. */
uint16_t flows_tunnel_frame_max(const struct flows_input *in);

/* What the flows depend on besides the cluster model. */
struct flows_input {
    const struct k8s_cluster *cluster;
    const char *node_name;          /* This node. */
    enum flows_tunnel_mode tunnel_mode;
    int mtu;                        /* The pods' MTU (--mtu), 0 for the
                                     * tunnel mode's default: also the
                                     * largest IP packet that goes into a
                                     * tunnel.  A larger one goes to the
                                     * controller, which answers its sender
                                     * with "fragmentation needed" or
                                     * "packet too big". */

    struct k8s_dual_cidr cluster_cidr;  /* --cluster-cidr, per family. */
    struct k8s_dual_cidr service_cidr;  /* --service-cidr, per family. */

    ofp_port_t gateway_ofport;      /* 0 if kovs-gw0 has no port yet. */
    const struct shash *pod_ports;      /* "ns/name" -> struct flows_port. */
    const struct shash *tunnel_ports;   /* node name -> struct flows_port:
                                         * with FLOWS_TUNNEL_PORTS_FLOW,
                                         * every peer with an underlay
                                         * address, each with the shared
                                         * port's number. */
    enum flows_tunnel_ports tunnel_port_mode;
    ofp_port_t tunnel_ofport;       /* FLOWS_TUNNEL_PORTS_FLOW: the shared
                                     * tunnel port, 0 if none yet. */

    /* NULL without an external bridge (or until it is ready): then there
     * is no SNAT, no NodePort and no external address, and traffic that
     * leaves the cluster goes through the node's stack. */
    const struct flows_external *external;

    enum flows_np_logging np_logging;

    /* Called after every FLOWS_PROGRESS_OWNERS owners computed (NULL:
     * never), so that what is computed so far can go to the switch while
     * the rest is computed (see ofctrl_put_ahead()). */
    void (*progress)(void *aux);
    void *progress_aux;
};
#define FLOWS_PROGRESS_OWNERS 64

/* This node's addressing, derived from its Node object: its first IPv4
 * podCIDR and the gateway's address in it (its first address), its first
 * IPv6 podCIDR and the gateway's address in that one (its first address
 * too), and the gateway's MAC.  A node may have either family or both. */
struct flows_local {
    bool valid;                     /* False until the Node has a podCIDR
                                     * of either family. */
    struct eth_addr gateway_mac;

    bool valid4;                    /* An IPv4 podCIDR. */
    struct k8s_cidr pod_cidr;
    ovs_be32 pod_net, pod_mask;
    ovs_be32 gateway_ip;

    bool valid6;                    /* An IPv6 podCIDR. */
    struct k8s_cidr pod_cidr6;      /* Of length 126 or less. */
    struct in6_addr pod_mask6;
    struct in6_addr gateway_ip6;

    uint16_t pod_frame_max;         /* The largest frame a pod takes:
                                     * flows_tunnel_frame_max(). */
};

void flows_local_init(const struct flows_input *, struct flows_local *);

/* Returns true if 'ip' is an address of this node's IPv6 podCIDR. */
bool flows_local_has_ipv6(const struct flows_local *,
                          const struct in6_addr *ip);

/* Returns the MAC kovs gives the gateway of a node whose gateway IP is
 * 'gateway_ip' (IPv4 mapped for IPv4; an IPv6 one is the gateway's on an
 * IPv6-only node). */
struct eth_addr flows_gateway_mac(const struct in6_addr *gateway_ip);

/* Returns the port of 'pod' if it is a pod of this node with a port on
 * br-int, otherwise NULL. */
const struct flows_port *flows_pod_port(const struct flows_input *,
                                        const struct k8s_pod *);

/* Returns the IPv4 address of 'pod': the one its port on this node carries,
 * if any (on a real node the Pod object learns its address only after the
 * CNI plugin has plugged it), otherwise the first IPv4 address of the Pod
 * object, otherwise 0. */
ovs_be32 flows_pod_ipv4(const struct flows_input *, const struct k8s_pod *);

/* Returns the first IPv4 address of the Pod object 'pod', or 0. */
ovs_be32 flows_pod_object_ipv4(const struct k8s_pod *);

/* Returns the IPv6 address of 'pod' the way flows_pod_ipv4() returns its
 * IPv4 one (its port's, else the Pod object's), or NULL if it has none. */
const struct in6_addr *flows_pod_ipv6(const struct flows_input *,
                                      const struct k8s_pod *);

/* A conntrack flush: the entries of conntrack zone 'zone' for IP protocol
 * 'ip_proto' whose replies come from 'reply_src':'reply_src_port'.
 *
 * When the ENDPOINT_DNAT flow of a UDP endpoint goes away, no Service uses
 * the endpoint any more, but UDP "connections" to it would live on in
 * conntrack: the entries whose replies come from it are flushed, so that
 * the next datagram is load-balanced again, as kube-proxy does. */
struct flows_ct_flush {
    struct ovs_list list_node;      /* In a list of flushes. */
    uint16_t zone;
    uint8_t ip_proto;
    struct in6_addr reply_src;      /* IPv4 mapped for IPv4. */
    ovs_be16 reply_src_port;
};

/* Appends to 'flushes' (a list of "struct flows_ct_flush"s, which the
 * caller frees with flows_ct_flushes_destroy()) the conntrack flushes that
 * the tracked changes of 'ft' call for: one per flow key that a tracked
 * entry removed, that no owner wants any more, and whose removal from the
 * switch must flush conntrack (see flows_ct_flush_for_flow()).  The caller
 * sends them once the switch has removed the flows. */
void flows_ct_flushes_for_changes(const struct flow_table *ft,
                                  struct ovs_list *flushes);
void flows_ct_flushes_destroy(struct ovs_list *flushes);

/* Returns true if removing the flow with key ('table_id', 'match') from the
 * switch must also flush conntrack entries, and then stores which ones in
 * '*flush' (whose 'list_node' it leaves alone).  This is how a flow found
 * on the switch that no owner wants (after a restart of kovs-controller)
 * tells what it stood for. */
bool flows_ct_flush_for_flow(uint8_t table_id, const struct minimatch *match,
                             struct flows_ct_flush *flush);

/* Returns true if adding, changing or removing a flow in table 'table_id'
 * decides, for connections whose packets the switch has already seen,
 * whether their next new connection passes or drops: a NetworkPolicy
 * table.  After such a change has reached the switch, its datapath flow
 * cache must be emptied (see controller/dpcache.h for why), so that no
 * packet keeps a verdict of the old policy. */
bool flows_table_change_purges_datapath(uint8_t table_id);

/* Recomputes every owner: the pipeline, every peer node, every local pod,
 * every Service and NetworkPolicy.  The flows go to br-int's table 'ft'
 * and, for the stages that own flows on the external bridge, to br-ex's
 * table 'ex_ft' (NULL without an external bridge). */
void flows_compute_all(const struct flows_input *, struct flow_table *ft,
                       struct flow_table *ex_ft);

/* What changed since the last computation. */
struct flows_changes {
    bool all;                       /* Recompute everything. */
    const struct ovs_list *k8s;     /* The changed Kubernetes objects, as
                                     * "struct k8s_change"s (see
                                     * k8s/k8s-model.h), or NULL. */
    struct k8s_key_set pods;        /* Pods whose port changed. */
    struct k8s_key_set nodes;       /* Nodes whose tunnel port changed. */
    bool pipeline;                  /* The shared flow-based tunnel port
                                     * changed: the pipeline's flows. */
    bool neighbors;                 /* The resolved neighbors changed. */
};

void flows_changes_init(struct flows_changes *);
void flows_changes_clear(struct flows_changes *);
void flows_changes_destroy(struct flows_changes *);

/* Recomputes exactly the owners that 'changes' touch, in 'ft' and 'ex_ft'
 * as flows_compute_all() does.  Returns the number of owners
 * recomputed. */
size_t flows_compute_changes(const struct flows_input *,
                             const struct flows_changes *,
                             struct flow_table *ft, struct flow_table *ex_ft);

/* The individual stages.  Each first removes its owner's flows from 'ft'
 * and then adds the current ones (none if the object is gone or does not
 * concern this node). */
void flows_pipeline_compute(const struct flows_input *,
                            const struct flows_local *, struct flow_table *);
void flows_node_compute(const struct flows_input *, const struct flows_local *,
                        const char *node_name, struct flow_table *ft,
                        struct flow_table *ex_ft);
/* With FLOWS_TUNNEL_PORTS_FLOW, adds to 'ft' the flows of the shared
 * tunnel port that are the same for every peer, owned by 'cookie' (the
 * pipeline's): added once rather than by each of thousands of peers. */
void flows_node_shared_tunnel_flows(const struct flows_input *,
                                    uint64_t cookie, struct flow_table *);
void flows_pod_compute(const struct flows_input *, const struct flows_local *,
                       const char *namespace, const char *name,
                       struct flow_table *);
/* Adds two flows owned by 'cookie' to 'table_id' at 'priority' with
 * 'ofpacts': one for established packets, one for related ones (conntrack
 * state +trk+est, +trk+rel). */
void flows_add_established(struct flow_table *, uint64_t cookie,
                           uint8_t table_id, uint16_t priority,
                           const struct ofpbuf *ofpacts);
/* CT_ZONE: adds the flow, owned by 'cookie', that first looks packets to
 * 'ip' (an address kovs source-NATs to, IPv4 mapped for IPv4) up in the
 * SNAT zone, un-SNATing replies. */
void flows_add_unsnat(struct flow_table *, uint64_t cookie,
                      const struct in6_addr *ip, struct ofpbuf *ofpacts);
/* OUTPUT: adds the flow, owned by 'cookie', that sends a packet whose way
 * out is the port it came in on, 'ofport', back out of it (OpenFlow drops
 * an output to the input port). */
void flows_add_hairpin_out(struct flow_table *, uint64_t cookie,
                           ofp_port_t ofport, struct ofpbuf *ofpacts);

/* Returns true if the external bridge 'ex' (which may be NULL) takes IPv6
 * traffic: it has a node IPv6 address ('node_ip6'). */
bool flows_external_has_ipv6(const struct flows_external *ex);

/* Returns true if the external bridge 'ex' (which may be NULL) takes IPv4
 * traffic: it has a node IP ('node_ip'), which only an IPv6-only node
 * lacks. */
bool flows_external_has_ipv4(const struct flows_external *ex);

/* Makes 'match' IP traffic of the family of 'ip' (IPv4 mapped for IPv4) to
 * 'ip'. */
void flows_match_ip_dst(struct match *match, const struct in6_addr *ip);

/* Makes 'match' IP traffic of the family of 'net' from ('src') or to
 * 'net'/'mask' (both IPv4 mapped for IPv4). */
void flows_match_ip_masked(struct match *match, bool src,
                           const struct in6_addr *net,
                           const struct in6_addr *mask);

/* Makes 'match' (reinitialized) an ICMPv6 message of 'type', code 0. */
void flows_match_icmp6(struct match *match, uint8_t type);

/* Makes 'match' an IPv6 Neighbor Solicitation for 'target' (with 'mask',
 * or exactly if 'mask' is NULL). */
void flows_match_nd_ns(struct match *match, const struct in6_addr *target,
                       const struct in6_addr *mask);

/* Puts the actions of L3_FORWARDING that route a packet to the node's own
 * stack, through the gateway port. */
void flows_put_to_node(struct ofpbuf *ofpacts, const struct flows_input *,
                       const struct flows_local *);

void flows_external_compute(const struct flows_input *,
                            const struct flows_local *, struct flow_table *ft,
                            struct flow_table *ex_ft);
void flows_neighbor_compute(const struct flows_input *, struct flow_table *);

#endif /* flows/flows.h */
