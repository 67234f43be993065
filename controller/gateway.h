/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#ifndef CONTROLLER_GATEWAY_H
#define CONTROLLER_GATEWAY_H 1

/* The node's side of the gateway port kovs-gw0: its address (the first
 * address of the node's podCIDR), its link state, and the host routes that
 * send the cluster and service CIDRs through it.  Programmed over rtnetlink
 * in the node's network namespace, and reapplied whenever the interface is
 * recreated (an ovs-vswitchd restart) or the addressing changes. */

#include <stdbool.h>
#include "openvswitch/types.h"

struct flows_local;
struct k8s_cidr;

struct gateway_config {
    const char *ifname;             /* "kovs-gw0". */
    int ifindex;                    /* Its index; 0 if absent. */
    const struct flows_local *local;
    const struct k8s_cidr *routes[2];   /* Cluster and service CIDRs; NULL
                                         * entries are skipped. */
};

/* What was last applied. */
struct gateway {
    int ifindex;
    ovs_be32 ip;
    unsigned int plen;
    ovs_be32 route_net[2];
    unsigned int route_plen[2];
    bool ok;                        /* The last application succeeded. */
};

/* Applies 'cfg' if it differs from what was last applied to 'gw' (which
 * starts zeroed), or if the last application failed. */
void gateway_run(struct gateway *gw, const struct gateway_config *cfg);

/* Returns true if the last application succeeded. */
bool gateway_is_configured(const struct gateway *);

#endif /* controller/gateway.h */
