/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#include <config.h>

#include "controller/uplink.h"

#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include "netdev.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "packets.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(uplink);

/* The kernel's IPv4 routes, one per line after a header: interface,
 * destination, gateway, flags, ... mask, in hexadecimal (network byte
 * order read as a host integer). */
#define UPLINK_ROUTE_FILE "/proc/net/route"

/* How often the addressing is read again. */
#define UPLINK_POLL_MSEC 5000

void
uplink_init(struct uplink *u)
{
    u->next_read = LLONG_MIN;
    u->last_bridge = NULL;
    u->last_node_ip = 0;
}

void
uplink_destroy(struct uplink *u)
{
    if (u) {
        free(u->last_bridge);
    }
}

void
uplink_wait(const struct uplink *u)
{
    poll_timer_wait_until(u->next_read);
}

/* Finds the prefix of 'node_ip' among the addresses of 'bridge'. */
static bool
read_subnet(const char *bridge, ovs_be32 node_ip, ovs_be32 *mask)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
    struct netdev *netdev;
    int error = netdev_open(bridge, "system", &netdev);
    if (error) {
        VLOG_WARN_RL(&rl, "%s: cannot open to read its addresses (%s)",
                     bridge, ovs_strerror(error));
        return false;
    }

    struct in6_addr *addrs, *masks;
    int n;
    bool found = false;
    error = netdev_get_addr_list(netdev, &addrs, &masks, &n);
    if (!error) {
        for (int i = 0; i < n && !found; i++) {
            if (IN6_IS_ADDR_V4MAPPED(&addrs[i])
                && in6_addr_get_mapped_ipv4(&addrs[i]) == node_ip) {
                *mask = in6_addr_get_mapped_ipv4(&masks[i]);
                found = true;
            }
        }
        free(addrs);
        free(masks);
    }
    netdev_close(netdev);
    if (!found) {
        VLOG_WARN_RL(&rl, "%s does not have the node IP "IP_FMT": kovs "
                     "needs it there for SNAT, NodePorts and external "
                     "addresses", bridge, IP_ARGS(node_ip));
    }
    return found;
}

/* Returns the default gateway if the kernel's default route goes through
 * 'bridge'. */
static ovs_be32
read_gateway(const char *bridge)
{
    FILE *f = fopen(UPLINK_ROUTE_FILE, "r");
    if (!f) {
        return 0;
    }

    char line[256];
    ovs_be32 gateway = 0;
    while (fgets(line, sizeof line, f)) {
        char dev[IFNAMSIZ + 1];
        uint32_t dst, gw, mask;
        unsigned int flags;
        if (sscanf(line, "%16s %"SCNx32" %"SCNx32" %x %*d %*d %*d %"SCNx32,
                   dev, &dst, &gw, &flags, &mask) == 5
            && !strcmp(dev, bridge) && !dst && !mask
            && (flags & 0x3) == 0x3) {      /* RTF_UP | RTF_GATEWAY. */
            gateway = (OVS_FORCE ovs_be32) gw;
            break;
        }
    }
    fclose(f);
    return gateway;
}

void
uplink_run(struct uplink *u, const char *bridge, ovs_be32 node_ip,
           struct uplink_info *info)
{
    if (time_msec() < u->next_read && node_ip == u->last_node_ip
        && u->last_bridge && !strcmp(u->last_bridge, bridge)) {
        return;
    }
    u->next_read = time_msec() + UPLINK_POLL_MSEC;
    u->last_node_ip = node_ip;
    free(u->last_bridge);
    u->last_bridge = xstrdup(bridge);

    struct uplink_info new = { .valid = false };
    if (node_ip && read_subnet(bridge, node_ip, &new.subnet_mask)) {
        new.valid = true;
        new.gateway_ip = read_gateway(bridge);
    }
    if (new.valid == info->valid && new.subnet_mask == info->subnet_mask
        && new.gateway_ip == info->gateway_ip) {
        return;
    }
    if (new.valid && new.gateway_ip) {
        VLOG_INFO("%s: node IP "IP_FMT"/%d, default gateway "IP_FMT,
                  bridge, IP_ARGS(node_ip),
                  ip_count_cidr_bits(new.subnet_mask),
                  IP_ARGS(new.gateway_ip));
    } else if (new.valid) {
        VLOG_INFO("%s: node IP "IP_FMT"/%d, no default gateway: only "
                  "destinations on that subnet are reachable from pods",
                  bridge, IP_ARGS(node_ip),
                  ip_count_cidr_bits(new.subnet_mask));
    }
    *info = new;
}
