/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#ifndef CONTROLLER_UPLINK_H
#define CONTROLLER_UPLINK_H 1

/* The node's addressing on the external bridge, as the kernel has it: the
 * prefix of the node IP's subnet (its destinations are on-link) and the
 * default gateway (the next hop of everything else).  Read from the
 * bridge's addresses and from the kernel's routing table, every few
 * seconds. */

#include <stdbool.h>
#include "openvswitch/types.h"

struct uplink_info {
    bool valid;                     /* The node IP is on the bridge. */
    ovs_be32 subnet_mask;
    ovs_be32 gateway_ip;            /* 0 if there is no default route
                                     * through the bridge. */
};

/* What the last read was of, and when the next is due. */
struct uplink {
    long long int next_read;
    char *last_bridge;
    ovs_be32 last_node_ip;
};

void uplink_init(struct uplink *);
void uplink_destroy(struct uplink *);

/* Reads the addressing of 'bridge' for node IP 'node_ip' into '*info' when
 * it is time to read it again or when the arguments differ. */
void uplink_run(struct uplink *, const char *bridge, ovs_be32 node_ip,
                struct uplink_info *info);
void uplink_wait(const struct uplink *);

#endif /* controller/uplink.h */
