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

/* The kernel's IPv6 routes, one per line: destination, its prefix length,
 * source, its prefix length, next hop (addresses as 32 hexadecimal
 * digits), metric, reference count, use, flags, interface. */
#define UPLINK_ROUTE6_FILE "/proc/net/ipv6_route"

/* How often the addressing is read again. */
#define UPLINK_POLL_MSEC 5000

void
uplink_init(struct uplink *u)
{
    u->next_read = LLONG_MIN;
    u->last_bridge = NULL;
    u->last_node_ip = 0;
    u->last_node_ip6 = in6addr_any;
    u->last_ipv6_only = false;
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

/* Returns true if 'ip' is a global IPv6 address (not IPv4 mapped,
 * link-local, loopback or multicast). */
static bool
is_global_ipv6(const struct in6_addr *ip)
{
    return (!IN6_IS_ADDR_V4MAPPED(ip) && !IN6_IS_ADDR_LINKLOCAL(ip)
            && !IN6_IS_ADDR_LOOPBACK(ip) && !IN6_IS_ADDR_MULTICAST(ip)
            && ipv6_addr_is_set(ip));
}

/* Finds the prefix of 'node_ip' among the addresses of 'bridge' and stores
 * its mask in '*mask'; stores in '*info' the bridge's IPv6 address
 * 'node_ip6' if it has it, otherwise its first global IPv6 address, and
 * its prefix length.  Returns true if the bridge has 'node_ip' or, if
 * 'node_ip' is 0 (an IPv6-only node), an IPv6 address. */
static bool
read_subnet(const char *bridge, ovs_be32 node_ip,
            const struct in6_addr *node_ip6, ovs_be32 *mask,
            struct uplink_info *info)
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
        bool named6 = false;
        for (int i = 0; i < n; i++) {
            if (IN6_IS_ADDR_V4MAPPED(&addrs[i])
                && node_ip
                && in6_addr_get_mapped_ipv4(&addrs[i]) == node_ip) {
                *mask = in6_addr_get_mapped_ipv4(&masks[i]);
                found = true;
            } else if (is_global_ipv6(&addrs[i]) && !named6
                       && (!ipv6_addr_is_set(&info->node_ip6)
                           || (node_ip6
                               && ipv6_addr_equals(&addrs[i], node_ip6)))) {
                info->node_ip6 = addrs[i];
                info->subnet6_plen = ipv6_count_cidr_bits(&masks[i]);
                named6 = node_ip6 && ipv6_addr_equals(&addrs[i], node_ip6);
            }
        }
        free(addrs);
        free(masks);
    }
    netdev_close(netdev);
    if (!node_ip) {
        found = ipv6_addr_is_set(&info->node_ip6);
        if (!found) {
            VLOG_WARN_RL(&rl, "%s has no global IPv6 address: kovs needs "
                         "the node's IPv6 address there for SNAT, NodePorts "
                         "and external addresses on an IPv6-only node",
                         bridge);
        }
    } else if (!found) {
        VLOG_WARN_RL(&rl, "%s does not have the node IP "IP_FMT": kovs "
                     "needs it there for SNAT, NodePorts and external "
                     "addresses", bridge, IP_ARGS(node_ip));
    }
    return found;
}

/* Returns the IPv6 default gateway if the kernel's IPv6 default route goes
 * through 'bridge', otherwise all-zeros. */
static struct in6_addr
read_gateway6(const char *bridge)
{
    FILE *f = fopen(UPLINK_ROUTE6_FILE, "r");
    if (!f) {
        return in6addr_any;
    }

    char line[256];
    struct in6_addr gateway = in6addr_any;
    while (fgets(line, sizeof line, f)) {
        char dst[33], nexthop[33], dev[IFNAMSIZ + 1];
        unsigned int plen, flags;
        if (sscanf(line, "%32s %x %*s %*x %32s %*x %*x %*x %x %16s",
                   dst, &plen, nexthop, &flags, dev) != 5
            || strcmp(dev, bridge) || plen
            || strspn(dst, "0") != 32
            || (flags & 0x3) != 0x3) {      /* RTF_UP | RTF_GATEWAY. */
            continue;
        }
        for (int i = 0; i < 16; i++) {
            unsigned int byte;
            sscanf(&nexthop[2 * i], "%2x", &byte);
            gateway.s6_addr[i] = byte;
        }
        break;
    }
    fclose(f);
    return gateway;
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
           const struct in6_addr *node_ip6, bool ipv6_only,
           struct uplink_info *info)
{
    struct in6_addr named6 = node_ip6 ? *node_ip6 : in6addr_any;
    if (ipv6_only) {
        node_ip = 0;
    }
    if (time_msec() < u->next_read && node_ip == u->last_node_ip
        && ipv6_addr_equals(&named6, &u->last_node_ip6)
        && ipv6_only == u->last_ipv6_only
        && u->last_bridge && !strcmp(u->last_bridge, bridge)) {
        return;
    }
    u->next_read = time_msec() + UPLINK_POLL_MSEC;
    u->last_node_ip = node_ip;
    u->last_node_ip6 = named6;
    u->last_ipv6_only = ipv6_only;
    free(u->last_bridge);
    u->last_bridge = xstrdup(bridge);

    struct uplink_info new = { .valid = false };
    if ((node_ip || ipv6_only)
        && read_subnet(bridge, node_ip, node_ip6, &new.subnet_mask, &new)) {
        new.valid = true;
        new.gateway_ip = node_ip ? read_gateway(bridge) : 0;
        if (ipv6_addr_is_set(&new.node_ip6)) {
            new.gateway_ip6 = read_gateway6(bridge);
        }
    } else {
        new.node_ip6 = in6addr_any;
        new.subnet6_plen = 0;
    }
    if (new.valid == info->valid && new.subnet_mask == info->subnet_mask
        && new.gateway_ip == info->gateway_ip
        && ipv6_addr_equals(&new.node_ip6, &info->node_ip6)
        && new.subnet6_plen == info->subnet6_plen
        && ipv6_addr_equals(&new.gateway_ip6, &info->gateway_ip6)) {
        return;
    }
    if (new.valid && ipv6_addr_is_set(&new.node_ip6)) {
        char ip6[INET6_ADDRSTRLEN], gw6[INET6_ADDRSTRLEN];
        ipv6_string_mapped(ip6, &new.node_ip6);
        ipv6_string_mapped(gw6, &new.gateway_ip6);
        VLOG_INFO("%s: node IPv6 address %s/%d, %s%s", bridge, ip6,
                  new.subnet6_plen,
                  ipv6_addr_is_set(&new.gateway_ip6)
                  ? "default gateway " : "no default gateway",
                  ipv6_addr_is_set(&new.gateway_ip6) ? gw6 : "");
    }
    if (new.valid && !node_ip) {
        /* IPv6 only: logged above. */
    } else if (new.valid && new.gateway_ip) {
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
