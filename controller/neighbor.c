/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#include <config.h>

#include "controller/neighbor.h"

#include <errno.h>
#include <limits.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dp-packet.h"
#include "flows/actions.h"
#include "flows/flows.h"
#include "hash.h"
#include "netlink-socket.h"
#include "netlink.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/match.h"
#include "openvswitch/ofp-packet.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(neighbor);

#define NEIGHBOR_ARP_FILE "/proc/net/arp"

enum neighbor_state {
    NEIGHBOR_INCOMPLETE,        /* No MAC yet. */
    NEIGHBOR_GUESSED,           /* MAC from the kernel, not confirmed. */
    NEIGHBOR_RESOLVED,          /* MAC confirmed by ARP. */
};

static const char *
neighbor_state_name(enum neighbor_state state)
{
    switch (state) {
    case NEIGHBOR_INCOMPLETE: return "incomplete";
    case NEIGHBOR_GUESSED: return "guessed";
    case NEIGHBOR_RESOLVED: return "resolved";
    }
    OVS_NOT_REACHED();
}

struct neighbor_entry {
    struct hmap_node node;      /* In 'neighbors', by hash of 'ip'. */
    struct in6_addr ip;         /* IPv4 mapped for IPv4. */
    struct eth_addr mac;        /* Zero while incomplete. */
    enum neighbor_state state;
    long long int confirmed;    /* When last confirmed; when added, for an
                                 * entry not confirmed yet. */
    long long int last_request; /* When its last request went out. */
    unsigned int n_requests;    /* Requests since 'confirmed'. */
};

void
neighbor_init(struct neighbor_table *nt)
{
    hmap_init(&nt->entries);
    memset(&nt->cfg, 0, sizeof nt->cfg);
    nt->seqno = 0;
    nt->arp_file = NULL;
    nt->clock = time_msec;
}

static long long int
neighbor_now(const struct neighbor_table *nt)
{
    return nt->clock();
}

static bool
neighbor_has_mac(const struct neighbor_entry *e)
{
    return e->state != NEIGHBOR_INCOMPLETE;
}

static uint32_t
neighbor_hash(const struct in6_addr *ip)
{
    return hash_bytes(ip, sizeof *ip, 0);
}

static struct neighbor_entry *
neighbor_find(struct neighbor_table *nt, const struct in6_addr *ip)
{
    struct neighbor_entry *e;

    HMAP_FOR_EACH_WITH_HASH (e, node, neighbor_hash(ip), &nt->entries) {
        if (ipv6_addr_equals(&e->ip, ip)) {
            return e;
        }
    }
    return NULL;
}

/* Formats 'ip' (dotted-decimal if IPv4 mapped) into 'buf' and returns
 * it. */
static const char *
neighbor_ip_string(const struct in6_addr *ip, char buf[INET6_ADDRSTRLEN])
{
    return ipv6_string_mapped(buf, ip);
}

static void
neighbor_remove(struct neighbor_table *nt, struct neighbor_entry *e)
{
    if (neighbor_has_mac(e)) {
        nt->seqno++;
    }
    hmap_remove(&nt->entries, &e->node);
    free(e);
}

static void
neighbor_flush(struct neighbor_table *nt)
{
    struct neighbor_entry *e;

    HMAP_FOR_EACH_SAFE (e, node, &nt->entries) {
        neighbor_remove(nt, e);
    }
}

void
neighbor_configure(struct neighbor_table *nt,
                   const struct neighbor_config *new)
{
    if (new->node_ip != nt->cfg.node_ip
        || !ipv6_addr_equals(&new->node_ip6, &nt->cfg.node_ip6)
        || !eth_addr_equals(new->mac, nt->cfg.mac)
        || new->out_port != nt->cfg.out_port) {
        if (!hmap_is_empty(&nt->entries)) {
            VLOG_INFO("flushing %"PRIuSIZE" neighbors: the node IP, MAC or "
                      "port changed", hmap_count(&nt->entries));
        }
        neighbor_flush(nt);
    }

    char *kernel_dev = nullable_xstrdup(new->kernel_dev);
    free(CONST_CAST(char *, nt->cfg.kernel_dev));
    nt->cfg = *new;
    nt->cfg.kernel_dev = kernel_dev;
}

bool
neighbor_parse_rtnl(const struct ofpbuf *msg, int ifindex,
                    const struct in6_addr *ip, struct eth_addr *mac)
{
    static const struct nl_policy policy[] = {
        [NDA_DST] = { .type = NL_A_UNSPEC, .optional = true,
                      .min_len = sizeof(struct in6_addr),
                      .max_len = sizeof(struct in6_addr) },
        [NDA_LLADDR] = { .type = NL_A_UNSPEC, .optional = true,
                         .min_len = ETH_ADDR_LEN, .max_len = ETH_ADDR_LEN },
    };
    struct nlattr *attrs[ARRAY_SIZE(policy)];

    const struct ndmsg *ndm = ofpbuf_at(msg, NLMSG_HDRLEN, sizeof *ndm);
    if (!ndm || nl_msg_nlmsghdr(msg)->nlmsg_type != RTM_NEWNEIGH
        || ndm->ndm_family != AF_INET6 || ndm->ndm_ifindex != ifindex
        || (ndm->ndm_flags & NTF_PROXY)
        || !(ndm->ndm_state & (NUD_REACHABLE | NUD_STALE | NUD_DELAY
                               | NUD_PROBE | NUD_PERMANENT))
        || !nl_policy_parse(msg, NLMSG_HDRLEN + sizeof *ndm, policy, attrs,
                            ARRAY_SIZE(policy))
        || !attrs[NDA_DST] || !attrs[NDA_LLADDR]) {
        return false;
    }

    struct in6_addr dst;
    memcpy(&dst, nl_attr_get(attrs[NDA_DST]), sizeof dst);
    struct eth_addr lladdr;
    memcpy(&lladdr, nl_attr_get(attrs[NDA_LLADDR]), sizeof lladdr);
    if (!ipv6_addr_equals(&dst, ip) || eth_addr_is_zero(lladdr)
        || eth_addr_is_multicast(lladdr)) {
        return false;
    }
    *mac = lladdr;
    return true;
}

/* Looks up IPv6 address 'ip' on 'nt->cfg.kernel_dev' in the kernel's
 * neighbour table, read with an RTM_GETNEIGH dump over rtnetlink.  If it
 * has an entry with a usable MAC (see neighbor_parse_rtnl()), stores the
 * MAC in '*mac' and returns true. */
static bool
neighbor_kernel_lookup6(const struct neighbor_table *nt,
                        const struct in6_addr *ip, struct eth_addr *mac)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);

    int ifindex = if_nametoindex(nt->cfg.kernel_dev);
    if (!ifindex) {
        VLOG_WARN_RL(&rl, "%s: no such device to read the kernel's IPv6 "
                     "neighbours of (%s)", nt->cfg.kernel_dev,
                     ovs_strerror(errno));
        return false;
    }

    /* The kernel filters the dump by NDA_IFINDEX; the header's own
     * ifindex stays 0, which strict checking requires of a dump. */
    struct ofpbuf request;
    ofpbuf_init(&request, 0);
    nl_msg_put_nlmsghdr(&request, sizeof(struct ndmsg), RTM_GETNEIGH,
                        NLM_F_REQUEST | NLM_F_DUMP);
    struct ndmsg *ndm = ofpbuf_put_zeros(&request, sizeof *ndm);
    ndm->ndm_family = AF_INET6;
    nl_msg_put_u32(&request, NDA_IFINDEX, ifindex);

    struct nl_dump dump;
    nl_dump_start(&dump, NETLINK_ROUTE, &request);
    ofpbuf_uninit(&request);

    uint64_t reply_stub[NL_DUMP_BUFSIZE / 8];
    struct ofpbuf buf, reply;
    bool found = false;
    ofpbuf_use_stub(&buf, reply_stub, sizeof reply_stub);
    while (nl_dump_next(&dump, &reply, &buf)) {
        if (!found && neighbor_parse_rtnl(&reply, ifindex, ip, mac)) {
            found = true;
        }
    }
    ofpbuf_uninit(&buf);
    int error = nl_dump_done(&dump);
    if (error) {
        VLOG_WARN_RL(&rl, "%s: dumping the kernel's IPv6 neighbours "
                     "failed (%s)", nt->cfg.kernel_dev, ovs_strerror(error));
    }
    return found;
}

/* Looks up 'ip' on 'nt->cfg.kernel_dev' in the kernel's neighbour table:
 * /proc/net/arp for IPv4, rtnetlink for IPv6.  If it has a complete entry,
 * stores its MAC in '*mac' and returns true. */
static bool
neighbor_kernel_lookup(const struct neighbor_table *nt,
                       const struct in6_addr *ip6, struct eth_addr *mac)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
    const char *file = nt->arp_file ? nt->arp_file : NEIGHBOR_ARP_FILE;

    if (!nt->cfg.kernel_dev) {
        return false;
    }
    if (!IN6_IS_ADDR_V4MAPPED(ip6)) {
        return neighbor_kernel_lookup6(nt, ip6, mac);
    }
    ovs_be32 ip = in6_addr_get_mapped_ipv4(ip6);

    FILE *stream = fopen(file, "r");
    if (!stream) {
        VLOG_WARN_RL(&rl, "%s: open failed (%s)", file, ovs_strerror(errno));
        return false;
    }

    /* After a header line, one line per entry, of six columns: IP address,
     * HW type, Flags, HW address, Mask, Device.  For example:
     *
     *   192.168.1.1  0x1  0x2  52:54:00:12:34:56  *  br-ex
     */
    struct ds line = DS_EMPTY_INITIALIZER;
    bool found = false;
    bool header = true;
    while (!found && !ds_get_line(&line, stream)) {
        char ip_s[16], mac_s[18], dev[32];
        unsigned int type, flags;
        ovs_be32 entry_ip;

        if (header) {
            header = false;
        } else if (sscanf(ds_cstr(&line), "%15s %x %x %17s %*s %31s",
                          ip_s, &type, &flags, mac_s, dev) == 5
                   && ip_parse(ip_s, &entry_ip) && entry_ip == ip
                   && !strcmp(dev, nt->cfg.kernel_dev)
                   && type == ARPHRD_ETHER
                   && (flags & ATF_COM) && !(flags & ATF_PUBL)
                   && eth_addr_from_string(mac_s, mac)
                   && !eth_addr_is_zero(*mac)
                   && !eth_addr_is_multicast(*mac)) {
            found = true;
        }
    }
    ds_destroy(&line);
    fclose(stream);
    return found;
}

/* Appends to 'msgs' an ARP request for 'e' (for IPv6, a Neighbor
 * Solicitation to its solicited-node multicast address), in OpenFlow
 * 'version', and counts it. */
static void
neighbor_send_request(const struct neighbor_table *nt,
                      struct neighbor_entry *e, long long int now,
                      enum ofp_version version, struct ovs_list *msgs)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

    e->last_request = now;
    e->n_requests++;

    char buf[INET6_ADDRSTRLEN];
    enum ofputil_protocol protocol = ofputil_protocol_from_ofp_version(
        version);
    if (!protocol) {
        VLOG_WARN_RL(&rl, "cannot send ARP request for %s in OpenFlow "
                     "version %#x", neighbor_ip_string(&e->ip, buf),
                     version);
        return;
    }

    uint64_t packet_stub[128 / 8];
    struct dp_packet packet;
    dp_packet_use_stub(&packet, packet_stub, sizeof packet_stub);
    if (IN6_IS_ADDR_V4MAPPED(&e->ip)) {
        compose_arp(&packet, ARP_OP_REQUEST, nt->cfg.mac, eth_addr_zero,
                    true, nt->cfg.node_ip, in6_addr_get_mapped_ipv4(&e->ip));
    } else {
        compose_nd_ns(&packet, nt->cfg.mac, &nt->cfg.node_ip6, &e->ip);
    }

    uint64_t ofpacts_stub[64 / 8];
    struct ofpbuf ofpacts = OFPBUF_STUB_INITIALIZER(ofpacts_stub);
    flows_put_output(&ofpacts, nt->cfg.out_port);

    struct ofputil_packet_out po;
    memset(&po, 0, sizeof po);
    po.packet = dp_packet_data(&packet);
    po.packet_len = dp_packet_size(&packet);
    po.buffer_id = UINT32_MAX;
    match_init_catchall(&po.flow_metadata);
    match_set_in_port(&po.flow_metadata, OFPP_CONTROLLER);
    po.ofpacts = ofpacts.data;
    po.ofpacts_len = ofpacts.size;

    struct ofpbuf *msg = ofputil_encode_packet_out(&po, protocol);
    ovs_list_push_back(msgs, &msg->list_node);

    VLOG_DBG_RL(&rl, "request %u for %s (%s)", e->n_requests,
                neighbor_ip_string(&e->ip, buf),
                neighbor_state_name(e->state));

    ofpbuf_uninit(&ofpacts);
    dp_packet_uninit(&packet);
}

/* Returns true if 'ip' (IPv4 mapped for IPv4) can be a next hop that 'nt'
 * resolves: not 0 or ::, broadcast, multicast or the node's own address,
 * and of a family that 'nt' has an address of. */
static bool
neighbor_is_resolvable(const struct neighbor_table *nt,
                       const struct in6_addr *ip)
{
    if (IN6_IS_ADDR_V4MAPPED(ip)) {
        ovs_be32 ip4 = in6_addr_get_mapped_ipv4(ip);
        return (nt->cfg.node_ip && ip4 && ip4 != htonl(INADDR_BROADCAST)
                && !ip_is_multicast(ip4) && ip4 != nt->cfg.node_ip);
    }
    return (ipv6_addr_is_set(&nt->cfg.node_ip6) && ipv6_addr_is_set(ip)
            && !ipv6_addr_is_multicast(ip)
            && !ipv6_addr_equals(ip, &nt->cfg.node_ip6));
}

bool
neighbor_resolve(struct neighbor_table *nt, const struct in6_addr *ip,
                 enum ofp_version version, struct ovs_list *msgs)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
    char buf[INET6_ADDRSTRLEN];

    if (!neighbor_is_resolvable(nt, ip)) {
        return false;
    }
    if (neighbor_find(nt, ip)) {
        /* Its timers send the requests. */
        return true;
    }
    if (hmap_count(&nt->entries) >= NEIGHBOR_MAX_ENTRIES) {
        VLOG_WARN_RL(&rl, "cannot resolve %s: the neighbor table is full "
                     "(%d entries)", neighbor_ip_string(ip, buf),
                     NEIGHBOR_MAX_ENTRIES);
        return false;
    }

    long long int now = neighbor_now(nt);
    struct neighbor_entry *e = xzalloc(sizeof *e);
    e->ip = *ip;
    e->confirmed = now;
    if (neighbor_kernel_lookup(nt, ip, &e->mac)) {
        e->state = NEIGHBOR_GUESSED;
        nt->seqno++;
        VLOG_DBG_RL(&rl, "%s is at "ETH_ADDR_FMT", says the kernel; "
                    "confirming", neighbor_ip_string(ip, buf),
                    ETH_ADDR_ARGS(e->mac));
    } else {
        e->state = NEIGHBOR_INCOMPLETE;
    }
    hmap_insert(&nt->entries, &e->node, neighbor_hash(ip));
    neighbor_send_request(nt, e, now, version, msgs);
    return true;
}

bool
neighbor_learn(struct neighbor_table *nt, const struct in6_addr *ip,
               struct eth_addr mac)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
    char buf[INET6_ADDRSTRLEN];

    if (eth_addr_is_zero(mac) || eth_addr_is_multicast(mac)) {
        return false;
    }
    struct neighbor_entry *e = neighbor_find(nt, ip);
    if (!e) {
        return false;
    }

    if (!eth_addr_equals(e->mac, mac)) {
        if (neighbor_has_mac(e)) {
            VLOG_INFO_RL(&rl, "%s moved from "ETH_ADDR_FMT" to "
                         ETH_ADDR_FMT, neighbor_ip_string(ip, buf),
                         ETH_ADDR_ARGS(e->mac), ETH_ADDR_ARGS(mac));
        } else {
            VLOG_INFO_RL(&rl, "%s is at "ETH_ADDR_FMT,
                         neighbor_ip_string(ip, buf), ETH_ADDR_ARGS(mac));
        }
        e->mac = mac;
        nt->seqno++;
    }
    e->state = NEIGHBOR_RESOLVED;
    e->confirmed = neighbor_now(nt);
    e->n_requests = 0;
    return true;
}

/* Returns when 'e' next needs neighbor_run(): its next request, or its
 * removal. */
static long long int
neighbor_deadline(const struct neighbor_entry *e)
{
    if (e->state != NEIGHBOR_RESOLVED) {
        /* The next request or, after the last one, giving up. */
        return e->last_request + NEIGHBOR_RETRY_MSEC;
    }

    long long int request = (!e->n_requests
                             ? e->confirmed + NEIGHBOR_REFRESH_MSEC
                             : e->n_requests < NEIGHBOR_MAX_REQUESTS
                             ? e->last_request + NEIGHBOR_RETRY_MSEC
                             : LLONG_MAX);
    return MIN(request, e->confirmed + NEIGHBOR_EXPIRY_MSEC);
}

void
neighbor_run(struct neighbor_table *nt, enum ofp_version version,
             struct ovs_list *msgs)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
    long long int now = neighbor_now(nt);
    char buf[INET6_ADDRSTRLEN];
    struct neighbor_entry *e;

    HMAP_FOR_EACH_SAFE (e, node, &nt->entries) {
        if (now < neighbor_deadline(e)) {
            continue;
        }

        if (e->state == NEIGHBOR_RESOLVED
            ? now >= e->confirmed + NEIGHBOR_EXPIRY_MSEC
            : e->n_requests >= NEIGHBOR_MAX_REQUESTS) {
            VLOG_INFO_RL(&rl, "forgetting %s neighbor %s: no reply for "
                         "%lld ms, to %u requests",
                         neighbor_state_name(e->state),
                         neighbor_ip_string(&e->ip, buf),
                         now - e->confirmed, e->n_requests);
            neighbor_remove(nt, e);
        } else {
            neighbor_send_request(nt, e, now, version, msgs);
        }
    }
}

long long int
neighbor_next_run(const struct neighbor_table *nt)
{
    long long int next = LLONG_MAX;
    const struct neighbor_entry *e;

    HMAP_FOR_EACH (e, node, &nt->entries) {
        next = MIN(next, neighbor_deadline(e));
    }
    return next;
}

void
neighbor_wait(const struct neighbor_table *nt)
{
    long long int next = neighbor_next_run(nt);

    if (next != LLONG_MAX) {
        poll_timer_wait_until(next);
    }
}

uint64_t
neighbor_seqno(const struct neighbor_table *nt)
{
    return nt->seqno;
}

static int
neighbor_compare(const void *a_, const void *b_)
{
    const struct neighbor_entry *const *a = a_;
    const struct neighbor_entry *const *b = b_;

    /* IPv4 (mapped) sorts by address, and before global IPv6. */
    return memcmp(&(*a)->ip, &(*b)->ip, sizeof (*a)->ip);
}

/* Returns the table's entries, sorted by IP, in a new array of
 * hmap_count(&nt->entries) pointers that the caller frees. */
static const struct neighbor_entry **
neighbor_sorted(const struct neighbor_table *nt)
{
    const struct neighbor_entry **sorted;
    const struct neighbor_entry *e;
    size_t n = 0;

    sorted = xmalloc(hmap_count(&nt->entries) * sizeof *sorted);
    HMAP_FOR_EACH (e, node, &nt->entries) {
        sorted[n++] = e;
    }
    qsort(sorted, n, sizeof *sorted, neighbor_compare);
    return sorted;
}

size_t
neighbor_get(const struct neighbor_table *nt,
             struct flows_neighbor **neighborsp)
{
    const struct neighbor_entry **sorted = neighbor_sorted(nt);
    size_t n_entries = hmap_count(&nt->entries);
    struct flows_neighbor *out = xmalloc(n_entries * sizeof *out);
    size_t n = 0;

    for (size_t i = 0; i < n_entries; i++) {
        if (neighbor_has_mac(sorted[i])) {
            out[n].ip = sorted[i]->ip;
            out[n].mac = sorted[i]->mac;
            n++;
        }
    }
    free(sorted);

    *neighborsp = out;
    return n;
}

void
neighbor_format(const struct neighbor_table *nt, struct ds *s)
{
    const struct neighbor_entry **sorted = neighbor_sorted(nt);
    size_t n = hmap_count(&nt->entries);
    long long int now = neighbor_now(nt);

    for (size_t i = 0; i < n; i++) {
        const struct neighbor_entry *e = sorted[i];
        long long int age = now - e->confirmed;

        char buf[INET6_ADDRSTRLEN];
        size_t start = s->length;
        ds_put_cstr(s, neighbor_ip_string(&e->ip, buf));
        ds_put_char_multiple(s, ' ', MAX(1, start + 16 - s->length));
        if (neighbor_has_mac(e)) {
            ds_put_format(s, ETH_ADDR_FMT, ETH_ADDR_ARGS(e->mac));
        } else {
            ds_put_format(s, "%-17s", "incomplete");
        }
        ds_put_format(s, " %-10s age %lld.%03llds", neighbor_state_name(
                          e->state), age / 1000, age % 1000);
        if (e->n_requests) {
            ds_put_format(s, ", %u request%s unanswered", e->n_requests,
                          e->n_requests == 1 ? "" : "s");
        }
        ds_put_char(s, '\n');
    }
    free(sorted);
}

void
neighbor_destroy(struct neighbor_table *nt)
{
    if (!nt) {
        return;
    }
    neighbor_flush(nt);
    hmap_destroy(&nt->entries);
    hmap_init(&nt->entries);
    free(CONST_CAST(char *, nt->cfg.kernel_dev));
    memset(&nt->cfg, 0, sizeof nt->cfg);
    free(nt->arp_file);
    nt->arp_file = NULL;
}

void
neighbor_set_arp_file(struct neighbor_table *nt, const char *file)
{
    free(nt->arp_file);
    nt->arp_file = nullable_xstrdup(file);
}

void
neighbor_set_clock(struct neighbor_table *nt, long long int (*clock)(void))
{
    nt->clock = clock ? clock : time_msec;
}
