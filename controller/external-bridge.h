/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#ifndef CONTROLLER_EXTERNAL_BRIDGE_H
#define CONTROLLER_EXTERNAL_BRIDGE_H 1

/* The external bridge (--external-bridge, usually br-ex): its OpenFlow
 * connection and desired flows, and what the flows need to know of it,
 * gathered from vswitch (its ports), the kernel (uplink: the node IP's
 * subnet and default gateway) and pinctrl (neighbor: the next hops'
 * MACs).  It also serves the health check node ports. */

#include <stdbool.h>
#include "controller/healthcheck.h"
#include "controller/neighbor.h"
#include "controller/uplink.h"
#include "flows/flow-table.h"
#include "flows/flows.h"

struct ds;
struct engine;
struct k8s_cluster;
struct ofctrl;
struct vswitch_external;

struct external_bridge {
    char *name;
    struct ofctrl *ofctrl;
    struct flow_table flows;        /* br-ex's desired flows. */

    /* What the flows know of it, valid if 'ready'. */
    struct flows_external external;
    bool ready;

    struct uplink uplink;           /* Reads 'uplink_info'. */
    struct uplink_info uplink_info;
    struct neighbor_table neighbor_table; /* The next hops' MACs... */
    uint64_t neighbor_seqno;        /* ...as of 'neighbors', their copy. */
    struct flows_neighbor *neighbors;
    long long int next_gateway_resolve;
    long long int next_peers_resolve;   /* Routed mode. */

    struct healthcheck healthcheck; /* The health check node ports. */
};

struct external_bridge *external_bridge_create(const char *name);
void external_bridge_destroy(struct external_bridge *);

/* Brings what the flows know of the bridge up to date from its ports in
 * 'vx' and this node's IPv4 InternalIP 'node_ip' (0 if none) and IPv6
 * InternalIP 'node_ip6' (NULL if none: the bridge's first global IPv6
 * address, if any, is used), reporting changes of the uplink and of the
 * neighbors to 'engine'.  The flows get the bridge's IPv4 node IP only if
 * 'ipv4_pods' (the node has an IPv4 podCIDR) and its IPv6 address only if
 * 'ipv6_pods': a node takes no traffic of a family it has no pods of
 * through the bridge.  A node with IPv4 pods needs 'node_ip' on the
 * bridge; an IPv6-only node needs an IPv6 address there.  Returns what the
 * flows get: NULL until everything is known. */
const struct flows_external *external_bridge_update(
    struct external_bridge *, const struct vswitch_external *vx,
    ovs_be32 node_ip, const struct in6_addr *node_ip6, bool ipv4_pods,
    bool ipv6_pods, struct engine *engine);

/* Runs the bridge's OpenFlow connection, installing its desired flows if
 * 'ready', and resolves next hops with packets sent on 'br_int': the
 * default gateway before the first packet needs it and, if 'peers' is
 * nonnull (routed mode), the InternalIPs on br-ex's subnets of each Node
 * of 'peers' other than 'node_name'. */
void external_bridge_run(struct external_bridge *, struct ofctrl *br_int,
                         bool ready, const struct k8s_cluster *peers,
                         const char *node_name);
void external_bridge_wait(struct external_bridge *);

/* Appends the bridge's status (addresses, flows, neighbors, health
 * checks) to 's'. */
void external_bridge_format_status(const struct external_bridge *,
                                   struct ds *s);

#endif /* controller/external-bridge.h */
