/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#ifndef CONTROLLER_GATEWAY_H
#define CONTROLLER_GATEWAY_H 1

/* The node's side of the gateway port kovs-gw0: its addresses (the first
 * address of the node's podCIDR of each family), its link state, and the
 * host routes that send the cluster and service CIDRs of each family
 * through it.  The IPv6 address skips duplicate address detection: the
 * flows never answer it, and the pods need the gateway at once.
 * Programmed over rtnetlink in the node's network namespace, and reapplied
 * whenever the interface is recreated (an ovs-vswitchd restart) or the
 * addressing changes. */

#include <stdbool.h>
#include "k8s/k8s-model.h"
#include "openvswitch/types.h"

struct flows_local;
struct k8s_cidr;

struct gateway_config {
    const char *ifname;             /* "kovs-gw0". */
    int ifindex;                    /* Its index; 0 if absent. */
    const struct flows_local *local;
    const struct k8s_cidr *routes[2];   /* IPv4 cluster and service CIDRs;
                                         * NULL entries are skipped. */
    const struct k8s_cidr *routes6[2];  /* The same, IPv6. */
};

/* What was last applied. */
struct gateway {
    int ifindex;
    bool has_ip;                    /* The IPv4 address, if the node has an
                                     * IPv4 podCIDR. */
    ovs_be32 ip;
    unsigned int plen;
    ovs_be32 route_net[2];
    unsigned int route_plen[2];
    bool has_ip6;                   /* The IPv6 address, if the node has an
                                     * IPv6 podCIDR. */
    struct in6_addr ip6;
    unsigned int plen6;
    struct k8s_cidr route6[2];      /* Zero for none. */
    bool ok;                        /* The last application succeeded. */
};

/* Applies 'cfg' if it differs from what was last applied to 'gw' (which
 * starts zeroed), or if the last application failed. */
void gateway_run(struct gateway *gw, const struct gateway_config *cfg);

/* Returns true if the last application succeeded. */
bool gateway_is_configured(const struct gateway *);

#endif /* controller/gateway.h */
