/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#ifndef CONTROLLER_UPLINK_H
#define CONTROLLER_UPLINK_H 1

/* The node's addressing on the external bridge, as the kernel has it: the
 * prefix of the node IP's subnet (its destinations are on-link) and the
 * default gateway (the next hop of everything else), for IPv4 and, if the
 * bridge has a global IPv6 address, for IPv6.  Read from the bridge's
 * addresses and from the kernel's routing tables, every few seconds. */

#include <stdbool.h>
#include <netinet/in.h>
#include "openvswitch/types.h"

struct uplink_info {
    bool valid;                     /* The node IP is on the bridge (on an
                                     * IPv6-only node: an IPv6 address). */
    ovs_be32 subnet_mask;           /* 0 on an IPv6-only node. */
    ovs_be32 gateway_ip;            /* 0 if there is no default route
                                     * through the bridge, or on an
                                     * IPv6-only node. */

    /* IPv6, valid if 'valid' too: the node's IPv6 address (all-zeros if
     * the bridge has no global one), its prefix length and the IPv6
     * default gateway (all-zeros if there is no IPv6 default route through
     * the bridge). */
    struct in6_addr node_ip6;
    int subnet6_plen;
    struct in6_addr gateway_ip6;
};

/* What the last read was of, and when the next is due. */
struct uplink {
    long long int next_read;
    char *last_bridge;
    ovs_be32 last_node_ip;
    struct in6_addr last_node_ip6;
    bool last_ipv6_only;
};

void uplink_init(struct uplink *);
void uplink_destroy(struct uplink *);

/* Reads the addressing of 'bridge' for node IP 'node_ip' into '*info' when
 * it is time to read it again or when the arguments differ.  'node_ip6'
 * (the Node's IPv6 InternalIP, or NULL) names the IPv6 address to use;
 * without it, or if the bridge does not have it, the bridge's first global
 * IPv6 address is used.  On an IPv6-only node ('ipv6_only'), 'node_ip' is
 * ignored and only the IPv6 addressing is read: 'info' is valid if the
 * bridge has an IPv6 address. */
void uplink_run(struct uplink *, const char *bridge, ovs_be32 node_ip,
                const struct in6_addr *node_ip6, bool ipv6_only,
                struct uplink_info *info);
void uplink_wait(const struct uplink *);

#endif /* controller/uplink.h */
