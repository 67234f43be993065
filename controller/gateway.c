/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#include <config.h>

#include "controller/gateway.h"

#include <errno.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <string.h>
#include "flows/flows.h"
#include "netlink-socket.h"
#include "netlink.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/vlog.h"
#include "packets.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(gateway);

bool
gateway_is_configured(const struct gateway *gw)
{
    return gw->ok;
}

static int
gateway_set_up(int ifindex)
{
    struct ofpbuf req;
    struct ifinfomsg ifi;

    ofpbuf_init(&req, 0);
    nl_msg_put_nlmsghdr(&req, sizeof ifi, RTM_NEWLINK, NLM_F_REQUEST);
    memset(&ifi, 0, sizeof ifi);
    ifi.ifi_family = AF_UNSPEC;
    ifi.ifi_index = ifindex;
    ifi.ifi_flags = IFF_UP;
    ifi.ifi_change = IFF_UP;
    ofpbuf_put(&req, &ifi, sizeof ifi);
    int error = nl_transact(NETLINK_ROUTE, &req, NULL);
    ofpbuf_uninit(&req);
    return error;
}

/* Appends to 'req' attribute 'type' holding 'addr', an IPv4-mapped
 * address as 4 bytes, an IPv6 address as 16. */
static void
gateway_put_addr(struct ofpbuf *req, uint16_t type,
                 const struct in6_addr *addr)
{
    if (IN6_IS_ADDR_V4MAPPED(addr)) {
        nl_msg_put_be32(req, type, in6_addr_get_mapped_ipv4(addr));
    } else {
        nl_msg_put_unspec(req, type, addr, sizeof *addr);
    }
}

/* Adds 'ip'/'plen' (an IPv4-mapped address for IPv4) to the gateway.  An
 * IPv6 address is usable at once: no duplicate address detection. */
static int
gateway_set_address(int ifindex, const struct in6_addr *ip,
                    unsigned int plen)
{
    bool ipv4 = IN6_IS_ADDR_V4MAPPED(ip);
    struct ofpbuf req;
    struct ifaddrmsg ifa;

    ofpbuf_init(&req, 0);
    nl_msg_put_nlmsghdr(&req, sizeof ifa, RTM_NEWADDR,
                        NLM_F_REQUEST | NLM_F_CREATE | NLM_F_REPLACE);
    memset(&ifa, 0, sizeof ifa);
    ifa.ifa_family = ipv4 ? AF_INET : AF_INET6;
    ifa.ifa_prefixlen = plen;
    ifa.ifa_flags = ipv4 ? 0 : IFA_F_NODAD;
    ifa.ifa_scope = RT_SCOPE_UNIVERSE;
    ifa.ifa_index = ifindex;
    ofpbuf_put(&req, &ifa, sizeof ifa);
    gateway_put_addr(&req, IFA_LOCAL, ip);
    gateway_put_addr(&req, IFA_ADDRESS, ip);
    int error = nl_transact(NETLINK_ROUTE, &req, NULL);
    ofpbuf_uninit(&req);
    return error;
}

/* Adds or replaces the route to 'dst' (IPv4-mapped for IPv4) through the
 * gateway, with 'src', of the same family, as the preferred source so that
 * replies come back to it. */
static int
gateway_set_route(int ifindex, const struct k8s_cidr *dst,
                  const struct in6_addr *src)
{
    bool ipv4 = IN6_IS_ADDR_V4MAPPED(&dst->addr);
    struct ofpbuf req;
    struct rtmsg rtm;

    ofpbuf_init(&req, 0);
    nl_msg_put_nlmsghdr(&req, sizeof rtm, RTM_NEWROUTE,
                        NLM_F_REQUEST | NLM_F_CREATE | NLM_F_REPLACE);
    memset(&rtm, 0, sizeof rtm);
    rtm.rtm_family = ipv4 ? AF_INET : AF_INET6;
    rtm.rtm_dst_len = dst->plen;
    rtm.rtm_table = RT_TABLE_MAIN;
    rtm.rtm_protocol = RTPROT_STATIC;
    rtm.rtm_scope = ipv4 ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
    rtm.rtm_type = RTN_UNICAST;
    ofpbuf_put(&req, &rtm, sizeof rtm);
    gateway_put_addr(&req, RTA_DST, &dst->addr);
    nl_msg_put_u32(&req, RTA_OIF, ifindex);
    gateway_put_addr(&req, RTA_PREFSRC, src);
    int error = nl_transact(NETLINK_ROUTE, &req, NULL);
    ofpbuf_uninit(&req);
    return error;
}

void
gateway_run(struct gateway *applied, const struct gateway_config *cfg)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
    const struct flows_local *local = cfg->local;

    if (!cfg->ifindex || !local->valid) {
        applied->ok = false;
        return;
    }

    ovs_be32 route_net[2] = { 0, 0 };
    unsigned int route_plen[2] = { 0, 0 };
    for (size_t i = 0; local->valid4 && i < 2; i++) {
        const struct k8s_cidr *c = cfg->routes[i];
        if (c && k8s_addr_is_ipv4(&c->addr)) {
            route_net[i] = in6_addr_get_mapped_ipv4(&c->addr);
            route_plen[i] = c->plen;
        }
    }

    struct k8s_cidr route6[2];
    memset(route6, 0, sizeof route6);
    for (size_t i = 0; local->valid6 && i < 2; i++) {
        const struct k8s_cidr *c = cfg->routes6[i];
        if (c && !k8s_addr_is_ipv4(&c->addr)) {
            route6[i] = *c;
        }
    }

    if (applied->ok && applied->ifindex == cfg->ifindex
        && applied->has_ip == local->valid4
        && applied->ip == local->gateway_ip
        && applied->plen == local->pod_cidr.plen
        && !memcmp(applied->route_net, route_net, sizeof route_net)
        && !memcmp(applied->route_plen, route_plen, sizeof route_plen)
        && applied->has_ip6 == local->valid6
        && (!local->valid6
            || (ipv6_addr_equals(&applied->ip6, &local->gateway_ip6)
                && applied->plen6 == local->pod_cidr6.plen))
        && !memcmp(applied->route6, route6, sizeof route6)) {
        return;
    }

    /* The index comes from the database: make sure it really is the
     * gateway in this namespace before touching it. */
    char ifname[IF_NAMESIZE];
    if (!if_indextoname(cfg->ifindex, ifname)
        || strcmp(ifname, cfg->ifname)) {
        applied->ok = false;
        return;
    }

    struct in6_addr gateway_ip = in6_addr_mapped_ipv4(local->gateway_ip);
    int error = gateway_set_up(cfg->ifindex);
    if (!error && local->valid4) {
        error = gateway_set_address(cfg->ifindex, &gateway_ip,
                                    local->pod_cidr.plen);
    }
    for (size_t i = 0; !error && i < 2; i++) {
        if (route_plen[i] || route_net[i]) {
            struct k8s_cidr route = {
                .addr = in6_addr_mapped_ipv4(route_net[i]),
                .plen = route_plen[i],
            };
            error = gateway_set_route(cfg->ifindex, &route, &gateway_ip);
        }
    }
    if (!error && local->valid6) {
        error = gateway_set_address(cfg->ifindex, &local->gateway_ip6,
                                    local->pod_cidr6.plen);
    }
    for (size_t i = 0; !error && i < 2; i++) {
        if (route6[i].plen) {
            error = gateway_set_route(cfg->ifindex, &route6[i],
                                      &local->gateway_ip6);
        }
    }
    if (error) {
        VLOG_WARN_RL(&rl, "%s (ifindex %d): cannot configure the gateway "
                     "address and routes: %s", ifname, cfg->ifindex,
                     ovs_strerror(error));
        applied->ok = false;
        return;
    }

    struct ds addrs = DS_EMPTY_INITIALIZER;
    if (local->valid4) {
        ds_put_format(&addrs, IP_FMT"/%u", IP_ARGS(local->gateway_ip),
                      local->pod_cidr.plen);
    }
    if (local->valid6) {
        ds_put_cstr(&addrs, local->valid4 ? " and " : "");
        ipv6_format_addr(&local->gateway_ip6, &addrs);
        ds_put_format(&addrs, "/%u", local->pod_cidr6.plen);
    }
    VLOG_INFO("%s: %s, routes through it for %d prefixes",
              ifname, ds_cstr(&addrs),
              (route_plen[0] || route_net[0]) + (route_plen[1]
                                                 || route_net[1])
              + (route6[0].plen != 0) + (route6[1].plen != 0));
    ds_destroy(&addrs);
    applied->ifindex = cfg->ifindex;
    applied->has_ip = local->valid4;
    applied->ip = local->gateway_ip;
    applied->plen = local->pod_cidr.plen;
    memcpy(applied->route_net, route_net, sizeof route_net);
    memcpy(applied->route_plen, route_plen, sizeof route_plen);
    applied->has_ip6 = local->valid6;
    applied->ip6 = local->gateway_ip6;
    applied->plen6 = local->pod_cidr6.plen;
    memcpy(applied->route6, route6, sizeof route6);
    applied->ok = true;
}
