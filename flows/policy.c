/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#include <config.h>

#include "flows/policy.h"

#include <stdarg.h>
#include <stdlib.h>
#include "flow.h"
#include "flows/actions.h"
#include "flows/flow-table.h"
#include "flows/flows.h"
#include "flows/pinctrl-opcodes.h"
#include "bitmap.h"
#include "flows/pipeline.h"
#include "hmapx.h"
#include "k8s/k8s-decode.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/match.h"
#include "openvswitch/ofp-actions.h"
#include "smap.h"
#include "sset.h"
#include "svec.h"
#include "util.h"

bool
flows_table_change_purges_datapath(uint8_t table_id)
{
    return (table_id == KOVS_T_EGRESS_POLICY
            || table_id == KOVS_T_INGRESS_POLICY);
}

/* Address prefixes and port ranges.
 *
 * Prefixes of both families are 128-bit numbers here: an IPv4 address is
 * its IPv4-mapped IPv6 address (::ffff:a.b.c.d), as in struct k8s_cidr, so
 * an IPv4 prefix of length L is the IPv6 prefix of length 96 + L and no
 * prefix of one family overlaps one of the other. */

static unsigned __int128
addr_to_u128(const struct in6_addr *addr)
{
    unsigned __int128 x = 0;
    for (size_t i = 0; i < 16; i++) {
        x = (x << 8) | addr->s6_addr[i];
    }
    return x;
}

static struct in6_addr
u128_to_addr(unsigned __int128 x)
{
    struct in6_addr addr;
    for (size_t i = 16; i-- > 0; x >>= 8) {
        addr.s6_addr[i] = x;
    }
    return addr;
}

/* The number with the low 'bits' bits (0...128) set. */
static unsigned __int128
u128_low_bits(unsigned int bits)
{
    return (bits >= 128 ? ~(unsigned __int128) 0
            : ((unsigned __int128) 1 << bits) - 1);
}

/* The number of trailing zero bits of 'x', 128 for 0. */
static unsigned int
u128_ctz(unsigned __int128 x)
{
    uint64_t lo = x, hi = x >> 64;
    return lo ? ctz64(lo) : hi ? 64 + ctz64(hi) : 128;
}

/* The first and last addresses of 'cidr' (its host bits ignored). */
static void
cidr_range(const struct k8s_cidr *cidr, unsigned __int128 *first,
           unsigned __int128 *last)
{
    unsigned int plen = cidr->plen + (k8s_addr_is_ipv4(&cidr->addr)
                                      ? 96 : 0);
    unsigned __int128 host = u128_low_bits(128 - MIN(plen, 128));
    *first = addr_to_u128(&cidr->addr) & ~host;
    *last = *first | host;
}

static bool
cidr_contains(const struct k8s_cidr *cidr, const struct in6_addr *addr)
{
    unsigned __int128 first, last, x = addr_to_u128(addr);
    cidr_range(cidr, &first, &last);
    return x >= first && x <= last;
}

/* An address range [first, last]. */
struct addr_range {
    unsigned __int128 first, last;
};

static int
addr_range_compare(const void *a_, const void *b_)
{
    const struct addr_range *a = a_, *b = b_;
    return (a->first != b->first ? (a->first < b->first ? -1 : 1)
            : a->last != b->last ? (a->last < b->last ? -1 : 1)
            : 0);
}

/* The output of policy_cidr_subtract(). */
struct prefix_list {
    struct k8s_cidr *prefixes;
    size_t n, allocated;
    size_t max;
    bool ipv4;                      /* The block's family. */
};

/* Appends the fewest prefixes that cover exactly [first, last] (first <=
 * last), largest first from 'first' up, stopping once there are more than
 * 'list->max'.  In an IPv6 block, the prefixes of IPv4-mapped addresses
 * are left out: those are IPv4 addresses to kovs (and to Kubernetes), and
 * an IPv6 block must never match IPv4 packets. */
static void
prefix_list_add_range(struct prefix_list *list, unsigned __int128 first,
                      unsigned __int128 last)
{
    while (list->n <= list->max) {
        /* The largest block aligned at 'first' that ends within range. */
        unsigned int bits = u128_ctz(first);
        while (u128_low_bits(bits) > last - first) {
            bits--;
        }
        struct in6_addr addr = u128_to_addr(first);
        if (list->ipv4 == k8s_addr_is_ipv4(&addr)) {
            if (list->n >= list->allocated) {
                list->prefixes = x2nrealloc(list->prefixes, &list->allocated,
                                            sizeof *list->prefixes);
            }
            list->prefixes[list->n++] = (struct k8s_cidr) {
                .addr = addr,
                .plen = 128 - bits - (list->ipv4 ? 96 : 0),
            };
        }
        unsigned __int128 end = first + u128_low_bits(bits);
        if (end >= last) {
            break;
        }
        first = end + 1;
    }
}

/* Sorts the excepted ranges, then walks the block once from its lowest
 * address up, emitting the gaps between excepted ranges as prefixes:
 * O(n log n) in the number of excepts, plus O(1) per prefix emitted (at
 * most 254 per gap).  Gaps are separated by excepted addresses, so no
 * prefix can span two of them, and the prefixes of each gap are the
 * fewest possible: the list is the smallest. */
size_t
policy_cidr_subtract(const struct k8s_cidr *block,
                     const struct k8s_cidr *excepts, size_t n_except,
                     size_t max, struct k8s_cidr **prefixes)
{
    struct prefix_list list = {
        .max = max,
        .ipv4 = k8s_addr_is_ipv4(&block->addr),
    };
    unsigned __int128 block_first, block_last;
    cidr_range(block, &block_first, &block_last);

    struct addr_range *ranges = xmalloc((n_except + 1) * sizeof *ranges);
    size_t n_ranges = 0;
    for (size_t i = 0; i < n_except; i++) {
        struct addr_range r;
        cidr_range(&excepts[i], &r.first, &r.last);
        if (k8s_addr_is_ipv4(&excepts[i].addr) != list.ipv4
            || r.last < block_first || r.first > block_last) {
            continue;               /* Of the other family, or outside the
                                     * block. */
        }
        if (r.first <= block_first && r.last >= block_last) {
            n_ranges = 0;           /* All of it is excepted. */
            goto done;
        }
        ranges[n_ranges++] = r;
    }
    qsort(ranges, n_ranges, sizeof *ranges, addr_range_compare);

    /* 'next' is the lowest address of the block not yet covered or
     * excepted; 'full' says there is none left. */
    unsigned __int128 next = block_first;
    bool full = false;
    for (size_t i = 0; i < n_ranges && !full && list.n <= max; i++) {
        if (ranges[i].first > next) {
            prefix_list_add_range(&list, next, ranges[i].first - 1);
        }
        if (ranges[i].last >= block_last) {
            full = true;
        } else if (ranges[i].last >= next) {
            next = ranges[i].last + 1;
        }
    }
    if (!full && list.n <= max) {
        prefix_list_add_range(&list, next, block_last);
    }

done:
    free(ranges);
    *prefixes = list.prefixes;
    return list.n;              /* At most max + 1. */
}

size_t
policy_port_range_masks(uint16_t min, uint16_t max, uint16_t **values,
                        uint16_t **masks)
{
    size_t n = 0, allocated = 0;
    *values = NULL;
    *masks = NULL;

    uint32_t port = min;
    while (port <= max) {
        /* The largest aligned block starting at 'port' within range. */
        unsigned int bits = 0;
        while (bits < 16
               && !(port & ((1u << (bits + 1)) - 1))
               && port + (1u << (bits + 1)) - 1 <= max) {
            bits++;
        }
        if (n >= allocated) {
            size_t a = allocated;
            *values = x2nrealloc(*values, &a, sizeof **values);
            *masks = xrealloc(*masks, a * sizeof **masks);
            allocated = a;
        }
        (*values)[n] = port;
        (*masks)[n++] = (0xffffu << bits) & 0xffff;
        port += 1u << bits;
    }
    return n;
}

/* Selection. */

/* Returns true if 'addr' (IPv4-mapped for IPv4) is in 'block': in its
 * cidr and in none of its excepts. */
static bool
ip_block_contains(const struct k8s_ip_block *block,
                  const struct in6_addr *addr)
{
    if (!cidr_contains(&block->cidr, addr)) {
        return false;
    }
    for (size_t i = 0; i < block->n_except; i++) {
        if (cidr_contains(&block->except[i], addr)) {
            return false;
        }
    }
    return true;
}

/* Stores in 'addrs' the addresses of 'pod' that policy matches: its IPv4
 * address (IPv4-mapped), if any, and with 'ipv6' its IPv6 address, if
 * any.  Returns their number. */
static size_t
pod_addresses(const struct flows_input *in, const struct k8s_pod *pod,
              bool ipv6, struct in6_addr addrs[2])
{
    size_t n = 0;
    ovs_be32 ip4 = flows_pod_ipv4(in, pod);
    if (ip4) {
        addrs[n++] = in6_addr_mapped_ipv4(ip4);
    }
    const struct in6_addr *ip6 = ipv6 ? flows_pod_ipv6(in, pod) : NULL;
    if (ip6) {
        addrs[n++] = *ip6;
    }
    return n;
}

/* Returns true if an address of 'pod' is in 'block'. */
static bool
pod_in_ip_block(const struct flows_input *in, const struct k8s_pod *pod,
                const struct k8s_ip_block *block)
{
    struct in6_addr addrs[2];
    size_t n = pod_addresses(in, pod, true, addrs);
    for (size_t i = 0; i < n; i++) {
        if (ip_block_contains(block, &addrs[i])) {
            return true;
        }
    }
    return false;
}

static bool
pod_is_peer_candidate(const struct flows_input *in, const struct k8s_pod *pod)
{
    struct in6_addr addrs[2];
    return !pod->host_network && pod_addresses(in, pod, true, addrs);
}

/* The peers of a rule: the prefixes to match (IPv4 and IPv6), and the pods
 * that its selector peers select.
 *
 * In a rule whose peers are matched whole ('by_pod' false: egress rules
 * with named ports, whose peers are grouped by how the ports resolve), the
 * pods' addresses are in 'prefixes' and 'pods' is every candidate pod,
 * those inside its ipBlocks included.  Otherwise 'prefixes' holds only the
 * ipBlocks' prefixes and each pod's flows go to a sub-owner of its own
 * (see struct policy_memo): 'pods' lists them, each once, and
 * 'n_pod_addrs' counts their addresses. */
struct peers {
    bool all;                       /* The rule has no peers: anyone. */
    bool by_pod;
    struct k8s_cidr *prefixes;
    size_t n, allocated;
    const struct k8s_pod **pods;
    size_t n_pods, allocated_pods;
    size_t n_pod_addrs;
    struct hmapx seen_pods;         /* The pods in 'pods'. */
};

/* Returns the number of prefixes the peer clause of 'p' matches. */
static size_t
peers_count(const struct peers *p)
{
    return p->n + p->n_pod_addrs;
}

/* Adds 'prefix' to 'p', unless 'seen' (if nonnull) says it is there
 * already. */
static void
peers_add_prefix(struct peers *p, const struct k8s_cidr *prefix,
                 struct sset *seen)
{
    if (seen) {
        struct ds key = DS_EMPTY_INITIALIZER;
        k8s_cidr_format(prefix, &key);
        bool added = sset_add(seen, ds_cstr(&key));
        ds_destroy(&key);
        if (!added) {
            return;
        }
    }
    if (p->n >= p->allocated) {
        p->prefixes = x2nrealloc(p->prefixes, &p->allocated,
                                 sizeof *p->prefixes);
    }
    p->prefixes[p->n++] = *prefix;
}

static void
peers_add_pod(struct peers *p, const struct k8s_pod *pod)
{
    if (!hmapx_add(&p->seen_pods, CONST_CAST(struct k8s_pod *, pod))) {
        return;
    }
    if (p->n_pods >= p->allocated_pods) {
        p->pods = x2nrealloc(p->pods, &p->allocated_pods, sizeof *p->pods);
    }
    p->pods[p->n_pods++] = pod;
}

/* Adds 'pod' to 'p' with every address of it that policy matches (see
 * pod_addresses()), each as a one-address prefix. */
static void
peers_add_pod_addresses(struct peers *p, const struct flows_input *in,
                        const struct k8s_pod *pod, bool ipv6,
                        struct sset *seen)
{
    struct in6_addr addrs[2];
    size_t n = pod_addresses(in, pod, ipv6, addrs);
    if (p->by_pod) {
        if (!hmapx_contains(&p->seen_pods,
                            CONST_CAST(struct k8s_pod *, pod))) {
            p->n_pod_addrs += n;
            peers_add_pod(p, pod);
        }
        return;
    }
    for (size_t i = 0; i < n; i++) {
        struct k8s_cidr prefix = {
            .addr = addrs[i],
            .plen = k8s_addr_is_ipv4(&addrs[i]) ? 32 : 128,
        };
        peers_add_prefix(p, &prefix, seen);
    }
    peers_add_pod(p, pod);
}

static void
peers_init(struct peers *p)
{
    memset(p, 0, sizeof *p);
    hmapx_init(&p->seen_pods);
}

static void
peers_destroy(struct peers *p)
{
    free(p->prefixes);
    free(p->pods);
    hmapx_destroy(&p->seen_pods);
}

/* Calls peers_add_pod_addresses() for each pod that selector peer 'peer'
 * of a policy in 'policy_ns' selects. */
static void
peers_collect_selected(const struct flows_input *in, const char *policy_ns,
                       const struct k8s_policy_peer *peer, bool ipv6,
                       struct peers *p, struct sset *seen)
{
    const struct k8s_cluster *cluster = in->cluster;
    struct svec namespaces = SVEC_EMPTY_INITIALIZER;
    if (peer->namespace_selector) {
        const struct k8s_object *obj;
        K8S_CLUSTER_FOR_EACH (obj, K8S_NAMESPACE, cluster) {
            if (k8s_selector_matches(peer->namespace_selector,
                                     &obj->labels)) {
                svec_add(&namespaces, obj->name);
            }
        }
    } else {
        svec_add(&namespaces, policy_ns);
    }

    for (size_t i = 0; i < namespaces.n; i++) {
        size_t n;
        const struct k8s_pod **pods = k8s_cluster_namespace_pods(
            cluster, namespaces.names[i], &n);
        for (size_t j = 0; j < n; j++) {
            const struct k8s_pod *pod = pods[j];
            if (pod_is_peer_candidate(in, pod)
                && (!peer->pod_selector
                    || k8s_selector_matches(peer->pod_selector,
                                            &pod->obj.labels))) {
                peers_add_pod_addresses(p, in, pod, ipv6, seen);
            }
        }
        free(pods);
    }
    svec_destroy(&namespaces);
}

/* One policy's computation: where its flows and warnings go, and how many
 * more flows it may add (see POLICY_MAX_FLOWS). */
struct policy_ctx {
    struct flow_table *ft;
    uint64_t cookie;
    const struct k8s_network_policy *np;
    size_t budget;
    bool logged;                    /* Its verdicts go to the audit log. */
    bool ipv6;                      /* This node has IPv6 pods: IPv6
                                     * peers and ports get flows. */
    bool limited;                   /* A limit made a peer or a rule allow
                                     * nothing. */
    size_t max_block;               /* The most prefixes of an ipBlock. */
    struct policy_memo *memo;
};

/* Records a warning about field 'field' (under "spec.") of the policy. */
static void OVS_PRINTF_FORMAT(3, 4)
policy_warn(struct policy_ctx *ctx, const char *field,
            const char *format, ...)
{
    ctx->limited = true;
    va_list args;
    va_start(args, format);
    char *msg = xvasprintf(format, args);
    va_end(args);

    flow_table_add_warning(ctx->ft, ctx->cookie,
                           "NetworkPolicy %s/%s: spec.%s: %s",
                           ctx->np->obj.namespace, ctx->np->obj.name, field,
                           msg);
    free(msg);
}

/* Collects the peers of 'rule' (field 'rule_field', for example
 * "ingress[0]", with its peers in 'peers_field', "from" or "to") into
 * 'p': the pods that its selector peers select, with each of their
 * addresses, and its ipBlocks less their excepts, each in its own family
 * (an IPv4 ipBlock opens nothing to IPv6, and the reverse).  An ipBlock
 * that cannot be expressed within the policy's limits adds nothing (the
 * rule allows less than it asks, never more), with a warning. */
static void
peers_collect(struct policy_ctx *ctx, const struct flows_input *in,
              const struct k8s_policy_rule *rule, const char *rule_field,
              const char *peers_field, bool want_block_pods, struct peers *p)
{
    const struct k8s_cluster *cluster = in->cluster;
    const char *policy_ns = ctx->np->obj.namespace;

    peers_init(p);
    p->by_pod = !want_block_pods;
    if (!rule->n_peers) {
        p->all = true;
        return;
    }

    struct sset seen = SSET_INITIALIZER(&seen);
    for (size_t i = 0; i < rule->n_peers; i++) {
        const struct k8s_policy_peer *peer = &rule->peers[i];
        const struct k8s_ip_block *block = peer->ip_block;

        if (!block) {
            peers_collect_selected(in, policy_ns, peer, ctx->ipv6, p, &seen);
            continue;
        }
        if (!ctx->ipv6 && !k8s_addr_is_ipv4(&block->cidr.addr)) {
            continue;               /* No IPv6 pod on this node. */
        }

        char *field = xasprintf("%s.%s[%"PRIuSIZE"].ipBlock", rule_field,
                                peers_field, i);
        if (block->n_except > POLICY_MAX_EXCEPTS) {
            policy_warn(ctx, field, "except has %"PRIuSIZE" entries, "
                        "more than the %d kovs accepts: this peer "
                        "allows nothing", block->n_except,
                        POLICY_MAX_EXCEPTS);
            free(field);
            continue;
        }

        struct k8s_cidr *prefixes;
        size_t n = policy_cidr_subtract(&block->cidr, block->except,
                                        block->n_except, ctx->budget,
                                        &prefixes);
        if (n > ctx->budget) {
            policy_warn(ctx, field, "cidr less except is more than "
                        "%"PRIuSIZE" prefixes, more flows than the "
                        "policy has left of kovs's limit of %d per "
                        "policy: this peer allows nothing",
                        ctx->budget, POLICY_MAX_FLOWS);
            free(prefixes);
            free(field);
            continue;
        }
        free(field);

        ctx->max_block = MAX(ctx->max_block, n);
        for (size_t j = 0; j < n; j++) {
            peers_add_prefix(p, &prefixes[j], &seen);
        }
        free(prefixes);

        /* The pods inside the block, for named ports. */
        if (want_block_pods) {
            const struct k8s_object *obj;
            K8S_CLUSTER_FOR_EACH (obj, K8S_POD, cluster) {
                const struct k8s_pod *pod = k8s_pod_cast(obj);
                if (!pod->host_network && pod_in_ip_block(in, pod, block)) {
                    peers_add_pod(p, pod);
                }
            }
        }
    }
    sset_destroy(&seen);
}

/* Ports. */

struct port_range {
    uint8_t proto;
    uint16_t min, max;              /* 0, 0 for every port. */
};

/* The port ranges that 'rule' allows towards 'pod' (NULL: only the numeric
 * ones), resolving named ports from the pod's containers.  Returns the
 * number stored in the new array '*ranges' (sorted, without duplicates). */
static size_t
rule_port_ranges(const struct k8s_policy_rule *rule,
                 const struct k8s_pod *pod, struct port_range **ranges)
{
    struct port_range *r = xcalloc(rule->n_ports + 1, sizeof *r);
    size_t n = 0;

    for (size_t i = 0; i < rule->n_ports; i++) {
        const struct k8s_policy_port *p = &rule->ports[i];
        uint8_t proto = k8s_protocol_ip_proto(p->protocol);
        if (p->port_name) {
            for (size_t j = 0; pod && j < pod->n_ports; j++) {
                const struct k8s_container_port *cp = &pod->ports[j];
                if (!strcmp(cp->name, p->port_name)
                    && cp->protocol == p->protocol) {
                    r[n++] = (struct port_range) { proto, cp->port,
                                                   cp->port };
                    break;
                }
            }
        } else {
            r[n++] = (struct port_range) {
                proto, p->port, p->end_port ? p->end_port : p->port
            };
        }
    }

    /* Sort and remove duplicates, for a stable signature. */
    for (size_t i = 1; i < n; i++) {
        for (size_t j = i; j > 0 && memcmp(&r[j - 1], &r[j], sizeof *r) > 0;
             j--) {
            struct port_range tmp = r[j];
            r[j] = r[j - 1];
            r[j - 1] = tmp;
        }
    }
    size_t n_unique = 0;
    for (size_t i = 0; i < n; i++) {
        if (!n_unique || memcmp(&r[n_unique - 1], &r[i], sizeof *r)) {
            r[n_unique++] = r[i];
        }
    }
    *ranges = r;
    return n_unique;
}

static bool
rule_has_named_ports(const struct k8s_policy_rule *rule)
{
    for (size_t i = 0; i < rule->n_ports; i++) {
        if (rule->ports[i].port_name) {
            return true;
        }
    }
    return false;
}

static char *
port_ranges_signature(const struct port_range *r, size_t n)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    for (size_t i = 0; i < n; i++) {
        ds_put_format(&s, "%d:%d-%d,", r[i].proto, r[i].min, r[i].max);
    }
    return ds_steal_cstr(&s);
}

/* Flows. */

enum policy_direction {
    POLICY_INGRESS,
    POLICY_EGRESS,
};

/* The parts of one conjunction. */
struct conj_parts {
    const ofp_port_t *ports;        /* This node's pods' OpenFlow ports. */
    size_t n_ports;
    const struct peers *peers;
    const struct port_range *ranges;
    size_t n_ranges;
    bool all_ranges;                /* The rule has no ports. */
    bool ipv6;                      /* The ports match IPv6 too. */
};

static void
match_pod_port(struct match *match, enum policy_direction dir, ofp_port_t p)
{
    match_init_catchall(match);
    if (dir == POLICY_INGRESS) {
        kovs_match_field(match, KOVS_F_OUT_PORT, ofp_to_u16(p));
    } else {
        match_set_in_port(match, p);
    }
}

/* conjunction(ID, CLAUSE/N_CLAUSES), with CLAUSE counted from 1 as
 * ovs-ofctl prints it. */
static void
put_conjunction(struct ofpbuf *ofpacts, uint32_t id, uint8_t clause,
                uint8_t n_clauses)
{
    struct ofpact_conjunction *c = ofpact_put_CONJUNCTION(ofpacts);
    c->id = id;
    c->clause = clause - 1;
    c->n_clauses = n_clauses;
}

/* The audit log's arguments for a verdict in direction 'dir': a drop if
 * 'rule' is PINCTRL_NP_LOG_NO_RULE, otherwise rule 'rule''s allow. */
static struct pinctrl_np_log_args
np_log_args(enum policy_direction dir, size_t rule)
{
    return (struct pinctrl_np_log_args) {
        .verdict = (rule == PINCTRL_NP_LOG_NO_RULE ? PINCTRL_NP_LOG_DROP
                    : PINCTRL_NP_LOG_ALLOW),
        .direction = (dir == POLICY_INGRESS ? PINCTRL_NP_LOG_INGRESS
                      : PINCTRL_NP_LOG_EGRESS),
        .rule = htons(rule),
    };
}

/* The actions of a flow that allows: for a logged rule ('log' nonnull),
 * first a copy of the packet to the controller for the audit log, through
 * its meter (the switch sends the copy as a clone of the packet, so the
 * packet itself goes on whether or not the meter lets the copy through),
 * then on to the next table. */
static void
put_allow(struct ofpbuf *ofpacts, enum policy_direction dir,
          const struct pinctrl_np_log_args *log)
{
    if (log) {
        flows_put_controller_args(ofpacts, PINCTRL_OP_NP_LOG, log,
                                  sizeof *log);
    }
    flows_put_goto(ofpacts, kovs_table_next(dir == POLICY_INGRESS
                                            ? KOVS_T_INGRESS_POLICY
                                            : KOVS_T_EGRESS_POLICY));
}

/* Makes 'match' the peer prefix 'prefix' of a rule in direction 'dir': the
 * source of what enters a pod, the destination of what leaves it, in the
 * prefix's own family. */
static void
match_peer_prefix(struct match *match, enum policy_direction dir,
                  const struct k8s_cidr *prefix)
{
    match_init_catchall(match);
    if (k8s_addr_is_ipv4(&prefix->addr)) {
        ovs_be32 net = in6_addr_get_mapped_ipv4(&prefix->addr);
        ovs_be32 mask = be32_prefix_mask(prefix->plen);
        match_set_dl_type(match, htons(ETH_TYPE_IP));
        if (dir == POLICY_INGRESS) {
            match_set_nw_src_masked(match, net, mask);
        } else {
            match_set_nw_dst_masked(match, net, mask);
        }
    } else {
        struct in6_addr mask = ipv6_create_mask(prefix->plen);
        match_set_dl_type(match, htons(ETH_TYPE_IPV6));
        if (dir == POLICY_INGRESS) {
            match_set_ipv6_src_masked(match, &prefix->addr, &mask);
        } else {
            match_set_ipv6_dst_masked(match, &prefix->addr, &mask);
        }
    }
}

/* Emits the flows of one conjunction with id key 'key'.  With 'log'
 * nonnull, the flows that allow also send a copy of the packet (the first
 * of a connection: established and related ones pass above) to the audit
 * log. */
static void
emit_conjunction(struct flow_table *ft, uint64_t cookie,
                 enum policy_direction dir, const char *key,
                 const struct conj_parts *c,
                 const struct pinctrl_np_log_args *log,
                 struct ofpbuf *pod_peer_conjs)
{
    uint8_t table = (dir == POLICY_INGRESS ? KOVS_T_INGRESS_POLICY
                     : KOVS_T_EGRESS_POLICY);
    bool has_peers = !c->peers->all;
    bool has_ranges = !c->all_ranges;

    if (!c->n_ports || (has_peers && !peers_count(c->peers))
        || (has_ranges && !c->n_ranges)) {
        return;                 /* Allows nothing. */
    }

    struct ofpbuf ofpacts;
    struct match match;
    ofpbuf_init(&ofpacts, 64);

    uint8_t k = 1 + has_peers + has_ranges;
    if (k == 1) {
        /* Everything to (from) these pods: no conjunction needed, and a
         * higher priority than the clauses that share the pod's match. */
        put_allow(&ofpacts, dir, log);
        for (size_t i = 0; i < c->n_ports; i++) {
            match_pod_port(&match, dir, c->ports[i]);
            flow_table_add(ft, cookie, table, KOVS_PRIO_POLICY_ALL, &match,
                           &ofpacts);
        }
        ofpbuf_uninit(&ofpacts);
        return;
    }

    uint32_t id = flow_table_alloc_conj_id(ft, cookie, key);
    uint8_t clause = 1;

    ofpbuf_clear(&ofpacts);
    put_conjunction(&ofpacts, id, clause, k);
    for (size_t i = 0; i < c->n_ports; i++) {
        match_pod_port(&match, dir, c->ports[i]);
        flow_table_add(ft, cookie, table, KOVS_PRIO_POLICY, &match,
                       &ofpacts);
    }

    if (has_peers) {
        clause++;
        ofpbuf_clear(&ofpacts);
        put_conjunction(&ofpacts, id, clause, k);
        for (size_t i = 0; i < c->peers->n; i++) {
            match_peer_prefix(&match, dir, &c->peers->prefixes[i]);
            flow_table_add(ft, cookie, table, KOVS_PRIO_POLICY, &match,
                           &ofpacts);
        }

        /* The peer pods' own flows come later, from their sub-owners
         * (policy_peer_emit()), with these actions. */
        if (pod_peer_conjs) {
            ofpbuf_put(pod_peer_conjs, ofpacts.data, ofpacts.size);
        }
    }

    if (has_ranges) {
        clause++;
        ofpbuf_clear(&ofpacts);
        put_conjunction(&ofpacts, id, clause, k);
        for (size_t i = 0; i < c->n_ranges; i++) {
            const struct port_range *r = &c->ranges[i];
            for (size_t f = 0; f < 1 + c->ipv6; f++) {
                match_init_catchall(&match);
                match_set_dl_type(&match, htons(f ? ETH_TYPE_IPV6
                                                : ETH_TYPE_IP));
                match_set_nw_proto(&match, r->proto);
                if (!r->min && !r->max) {
                    flow_table_add(ft, cookie, table, KOVS_PRIO_POLICY,
                                   &match, &ofpacts);
                    continue;
                }
                uint16_t *values, *masks;
                size_t n = policy_port_range_masks(r->min, r->max, &values,
                                                   &masks);
                for (size_t j = 0; j < n; j++) {
                    match_set_tp_dst_masked(&match, htons(values[j]),
                                            htons(masks[j]));
                    flow_table_add(ft, cookie, table, KOVS_PRIO_POLICY,
                                   &match, &ofpacts);
                }
                free(values);
                free(masks);
            }
        }
    }

    /* The rule's own flow: its packet count is the connections it
     * allowed. */
    match_init_catchall(&match);
    match_set_conj_id(&match, id);
    ofpbuf_clear(&ofpacts);
    put_allow(&ofpacts, dir, log);
    flow_table_add(ft, cookie, table, KOVS_PRIO_POLICY, &match, &ofpacts);
    ofpbuf_uninit(&ofpacts);
}

/* The selected pods whose named ports resolve alike, for one rule. */
struct selected_group {
    size_t first;                   /* Index of the first one in 'sel'. */
    ofp_port_t *ports;
    size_t n_ports;
};

/* A local pod that a policy selects. */
struct selected_pod {
    const struct k8s_pod *pod;
    ofp_port_t ofport;
};

/* One conjunction of a rule. */
struct rule_conj {
    char *key;                      /* For its conjunction id. */
    ofp_port_t *ports;
    size_t n_ports;
    struct port_range *ranges;
    size_t n_ranges;
    struct peers *peers;            /* NULL: the rule's own peers. */
};

/* A rule's conjunctions, planned before any of its flows is added, so that
 * a rule takes effect whole or not at all. */
struct rule_plan {
    struct peers peers;             /* The rule's peers. */
    bool all_ranges;                /* The rule has no ports. */
    bool ipv6;                      /* The ports match IPv6 too. */
    struct rule_conj *conjs;
    size_t n_conjs, allocated_conjs;
};

/* Adds a conjunction to 'plan', which takes ownership of 'key', 'ports',
 * 'ranges' and 'peers' (NULL for the rule's peers). */
static void
rule_plan_add(struct rule_plan *plan, char *key, ofp_port_t *ports,
              size_t n_ports, struct port_range *ranges, size_t n_ranges,
              struct peers *peers)
{
    if (plan->n_conjs >= plan->allocated_conjs) {
        plan->conjs = x2nrealloc(plan->conjs, &plan->allocated_conjs,
                                 sizeof *plan->conjs);
    }
    plan->conjs[plan->n_conjs++] = (struct rule_conj) {
        .key = key,
        .ports = ports,
        .n_ports = n_ports,
        .ranges = ranges,
        .n_ranges = n_ranges,
        .peers = peers,
    };
}

static struct conj_parts
rule_plan_parts(const struct rule_plan *plan, const struct rule_conj *c)
{
    return (struct conj_parts) {
        .ports = c->ports,
        .n_ports = c->n_ports,
        .peers = c->peers ? c->peers : &plan->peers,
        .ranges = c->ranges,
        .n_ranges = c->n_ranges,
        .all_ranges = plan->all_ranges,
        .ipv6 = plan->ipv6,
    };
}

static void
rule_plan_destroy(struct rule_plan *plan)
{
    for (size_t i = 0; i < plan->n_conjs; i++) {
        struct rule_conj *c = &plan->conjs[i];
        free(c->key);
        free(c->ports);
        free(c->ranges);
        if (c->peers) {
            peers_destroy(c->peers);
            free(c->peers);
        }
    }
    free(plan->conjs);
    peers_destroy(&plan->peers);
}

/* Returns the number of flows emit_conjunction() adds for 'c' (at most:
 * flows that the policy's other rules share with it count again). */
static size_t
conj_n_flows(const struct conj_parts *c)
{
    bool has_peers = !c->peers->all;
    bool has_ranges = !c->all_ranges;

    if (!c->n_ports || (has_peers && !peers_count(c->peers))
        || (has_ranges && !c->n_ranges)) {
        return 0;
    }
    if (!has_peers && !has_ranges) {
        return c->n_ports;
    }

    size_t n_range_flows = 0;
    for (size_t i = 0; has_ranges && i < c->n_ranges; i++) {
        const struct port_range *r = &c->ranges[i];
        if (!r->min && !r->max) {
            n_range_flows++;
        } else {
            uint16_t *values, *masks;
            n_range_flows += policy_port_range_masks(r->min, r->max, &values,
                                                     &masks);
            free(values);
            free(masks);
        }
    }
    return (c->n_ports + 1 + (has_peers ? peers_count(c->peers) : 0)
            + n_range_flows * (1 + c->ipv6));
}

/* Peer pods.
 *
 * A pod that a rule's selector peers select gets, in each policy, a flow
 * per address in the rule's peer clause (conjunction(ID, 2/K) for each of
 * the rule's conjunctions).  Those flows have a sub-owner per (policy,
 * pod) and carry the policy's cookie, so that relabelling, adding or
 * removing a pod that is only a peer recomputes just its flows in the
 * policies that select it as a peer, before or after, not the policies.
 * The policy's owner keeps a memo of what that takes: for each rule, the
 * conjunction actions of its peer clause, and for each peer pod, its
 * sub-owner and the rules that select it.
 *
 * Some changes of a pod change more than its own flows; then the policy is
 * recomputed whole (policy_peer_update() says so):
 *
 *   - a rule's peers go from none to some or back (its conjunction appears
 *     or goes);
 *   - the pod is a peer of an egress rule with named ports, whose peers are
 *     grouped by how the ports resolve on them;
 *   - the policy is at one of its limits (POLICY_MAX_FLOWS, an ipBlock
 *     that allows nothing), or the pod's flows would bring it there. */

enum policy_rule_type {
    RULE_NO_PEERS,                  /* Not isolating, or no peers: the
                                     * rule depends on no peer. */
    RULE_BY_POD,                    /* Its peer pods have sub-owners. */
    RULE_WHOLE,                     /* Egress with named ports: a change of
                                     * a peer recomputes the policy. */
};

struct policy_rule_memo {
    enum policy_rule_type type;
    enum policy_direction dir;
    struct ofpbuf conjs;            /* Conjunction actions of its peer
                                     * clause; empty if it emits none. */
    size_t n_conjs;
    size_t n_peers;                 /* Prefixes its peer clause matches:
                                     * its ipBlocks' and its pods'. */
};

/* One peer pod of a policy. */
struct policy_peer {
    uint64_t owner;                 /* Its sub-owner. */
    unsigned long *rules;           /* The RULE_BY_POD rules selecting it. */
    size_t n_addrs;                 /* Its addresses that flows match. */
    struct in6_addr addrs[2];
};

struct policy_memo {
    char *namespace, *name;         /* The policy. */
    uint64_t cookie;
    bool ipv6;                      /* This node has IPv6 pods. */
    bool limited;                   /* At a limit: no peer updates. */
    bool every_pod;                 /* An egress rule with named ports and
                                     * no peers depends on every pod. */
    struct sset whole_pods;         /* "ns/name" of the pods that
                                     * RULE_WHOLE rules depend on. */
    size_t n_rules;                 /* Ingress rules, then egress ones. */
    struct policy_rule_memo *rules;
    size_t budget;                  /* What is left of POLICY_MAX_FLOWS. */
    size_t max_block;               /* The most prefixes of an ipBlock. */
    struct shash peers;             /* "ns/name" -> struct policy_peer. */
};

static void
policy_memo_destroy(void *memo_)
{
    struct policy_memo *memo = memo_;
    if (!memo) {
        return;
    }
    for (size_t i = 0; i < memo->n_rules; i++) {
        ofpbuf_uninit(&memo->rules[i].conjs);
    }
    free(memo->rules);
    struct shash_node *node;
    SHASH_FOR_EACH (node, &memo->peers) {
        struct policy_peer *peer = node->data;
        free(peer->rules);
        free(peer);
    }
    shash_destroy(&memo->peers);
    sset_destroy(&memo->whole_pods);
    free(memo->namespace);
    free(memo->name);
    free(memo);
}

static size_t
policy_memo_rule_index(const struct k8s_network_policy *np,
                       enum policy_direction dir, size_t rule_idx)
{
    return dir == POLICY_INGRESS ? rule_idx : np->n_ingress + rule_idx;
}

static struct policy_memo *
policy_memo_create(const struct k8s_network_policy *np, uint64_t cookie,
                   bool ipv6)
{
    struct policy_memo *memo = xzalloc(sizeof *memo);
    memo->namespace = xstrdup(np->obj.namespace);
    memo->name = xstrdup(np->obj.name);
    memo->cookie = cookie;
    memo->ipv6 = ipv6;
    sset_init(&memo->whole_pods);
    shash_init(&memo->peers);
    memo->n_rules = np->n_ingress + np->n_egress;
    memo->rules = xcalloc(memo->n_rules + 1, sizeof *memo->rules);
    for (size_t i = 0; i < memo->n_rules; i++) {
        struct policy_rule_memo *rm = &memo->rules[i];
        bool egress = i >= np->n_ingress;
        rm->dir = egress ? POLICY_EGRESS : POLICY_INGRESS;
        rm->type = RULE_NO_PEERS;
        ofpbuf_init(&rm->conjs, 0);
    }
    return memo;
}

static char *
pod_key(const struct k8s_pod *pod)
{
    return xasprintf("%s/%s", pod->obj.namespace, pod->obj.name);
}

/* Records what rule 'idx' of 'memo' depends on: the peers that rule_flows()
 * collected into 'peers'. */
static void
policy_memo_add_rule_pods(const struct flows_input *in,
                          struct policy_memo *memo, size_t idx,
                          const struct peers *peers)
{
    struct policy_rule_memo *rm = &memo->rules[idx];
    if (!peers->by_pod) {
        rm->type = RULE_WHOLE;
        memo->every_pod |= peers->all;
        for (size_t i = 0; i < peers->n_pods; i++) {
            sset_add_and_free(&memo->whole_pods, pod_key(peers->pods[i]));
        }
        return;
    }
    if (peers->all) {
        return;
    }
    rm->type = RULE_BY_POD;
    rm->n_peers = peers_count(peers);
    for (size_t i = 0; i < peers->n_pods; i++) {
        char *key = pod_key(peers->pods[i]);
        struct policy_peer *peer = shash_find_data(&memo->peers, key);
        if (!peer) {
            peer = xzalloc(sizeof *peer);
            peer->rules = bitmap_allocate(memo->n_rules);
            peer->n_addrs = pod_addresses(in, peers->pods[i], memo->ipv6,
                                          peer->addrs);
            shash_add_nocopy(&memo->peers, key, peer);
        } else {
            free(key);
        }
        bitmap_set1(peer->rules, idx);
    }
}

/* Adds the flows of peer 'peer' (whose addresses are 'addrs') of the
 * policy of 'memo': in the peer clause of each rule that selects it. */
static void
policy_peer_emit(struct flow_table *ft, const struct policy_memo *memo,
                 const struct policy_peer *peer)
{
    struct match match;
    for (size_t i = 0; i < memo->n_rules; i++) {
        const struct policy_rule_memo *rm = &memo->rules[i];
        if (!bitmap_is_set(peer->rules, i) || !rm->conjs.size) {
            continue;
        }
        uint8_t table = (rm->dir == POLICY_INGRESS ? KOVS_T_INGRESS_POLICY
                         : KOVS_T_EGRESS_POLICY);
        for (size_t j = 0; j < peer->n_addrs; j++) {
            struct k8s_cidr prefix = {
                .addr = peer->addrs[j],
                .plen = k8s_addr_is_ipv4(&peer->addrs[j]) ? 32 : 128,
            };
            match_peer_prefix(&match, rm->dir, &prefix);
            flow_table_add_owned(ft, peer->owner, memo->cookie, table,
                                 KOVS_PRIO_POLICY, &match, &rm->conjs);
        }
    }
}

/* Returns the number of flows of POLICY_MAX_FLOWS that 'peer' takes. */
static size_t
policy_peer_cost(const struct policy_memo *memo,
                 const struct policy_peer *peer)
{
    size_t n = 0;
    for (size_t i = 0; peer && i < memo->n_rules; i++) {
        if (bitmap_is_set(peer->rules, i)) {
            n += memo->rules[i].n_conjs * peer->n_addrs;
        }
    }
    return n;
}

/* Returns true if selector peer 'rule' of a policy in 'policy_ns' selects
 * 'pod', as peers_collect_selected() collects them. */
static bool
rule_selects_pod(const struct flows_input *in, const char *policy_ns,
                 const struct k8s_policy_rule *rule,
                 const struct k8s_pod *pod)
{
    if (!pod_is_peer_candidate(in, pod)) {
        return false;
    }
    for (size_t i = 0; i < rule->n_peers; i++) {
        const struct k8s_policy_peer *peer = &rule->peers[i];
        if (peer->ip_block) {
            continue;
        }
        if (peer->namespace_selector) {
            const struct k8s_object *ns = k8s_cluster_find(
                in->cluster, K8S_NAMESPACE, "", pod->obj.namespace);
            if (!ns || !k8s_selector_matches(peer->namespace_selector,
                                             &ns->labels)) {
                continue;
            }
        } else if (strcmp(pod->obj.namespace, policy_ns)) {
            continue;
        }
        if (!peer->pod_selector
            || k8s_selector_matches(peer->pod_selector, &pod->obj.labels)) {
            return true;
        }
    }
    return false;
}

/* Returns true if the RULE_WHOLE rule 'rule' depends on 'pod': it selects
 * it, or the pod is inside one of its ipBlocks. */
static bool
whole_rule_depends_on_pod(const struct flows_input *in,
                          const char *policy_ns,
                          const struct k8s_policy_rule *rule,
                          const struct k8s_pod *pod)
{
    if (rule_selects_pod(in, policy_ns, rule, pod)) {
        return true;
    }
    for (size_t i = 0; i < rule->n_peers; i++) {
        const struct k8s_ip_block *block = rule->peers[i].ip_block;
        if (block && !pod->host_network && pod_in_ip_block(in, pod, block)) {
            return true;
        }
    }
    return false;
}

/* Brings the flows of pod 'namespace'/'name' (gone if 'pod' is NULL) as a
 * peer of the policy of 'memo' up to date.  Returns false, having changed
 * nothing, if that takes recomputing the policy. */
static bool
policy_peer_update(const struct flows_input *in, struct flow_table *ft,
                   struct policy_memo *memo, const char *key,
                   const struct k8s_pod *pod)
{
    const struct k8s_object *obj = k8s_cluster_find(
        in->cluster, K8S_NETWORK_POLICY, memo->namespace, memo->name);
    if (!obj) {
        return false;
    }
    const struct k8s_network_policy *np = k8s_network_policy_cast(obj);
    if (np->n_ingress + np->n_egress != memo->n_rules) {
        return false;
    }
    if (memo->every_pod || sset_contains(&memo->whole_pods, key)) {
        return false;
    }

    struct policy_peer *old = shash_find_data(&memo->peers, key);
    unsigned long *rules = bitmap_allocate(memo->n_rules);
    bool selected = false;
    for (size_t i = 0; pod && i < memo->n_rules; i++) {
        const struct policy_rule_memo *rm = &memo->rules[i];
        const struct k8s_policy_rule *rule = (
            i < np->n_ingress ? &np->ingress[i]
            : &np->egress[i - np->n_ingress]);
        if (rm->type == RULE_WHOLE
            && whole_rule_depends_on_pod(in, memo->namespace, rule, pod)) {
            free(rules);
            return false;
        } else if (rm->type == RULE_BY_POD
                   && rule_selects_pod(in, memo->namespace, rule, pod)) {
            bitmap_set1(rules, i);
            selected = true;
        }
    }
    if (!old && !selected) {
        free(rules);
        return true;            /* Neither before nor after. */
    }

    struct policy_peer new = { .rules = rules };
    if (selected) {
        new.n_addrs = pod_addresses(in, pod, memo->ipv6, new.addrs);
    }

    /* Would the change make a conjunction appear or go, or reach a
     * limit? */
    bool whole = memo->limited;
    for (size_t i = 0; i < memo->n_rules && !whole; i++) {
        size_t n = memo->rules[i].n_peers;
        if (old && bitmap_is_set(old->rules, i)) {
            n -= old->n_addrs;
        }
        if (bitmap_is_set(rules, i)) {
            n += new.n_addrs;
        }
        whole = !n != !memo->rules[i].n_peers;
    }
    size_t old_cost = policy_peer_cost(memo, old);
    size_t new_cost = policy_peer_cost(memo, &new);
    if (whole || memo->budget + old_cost < new_cost + memo->max_block) {
        free(rules);
        return false;
    }

    memo->budget = memo->budget + old_cost - new_cost;
    for (size_t i = 0; i < memo->n_rules; i++) {
        if (old && bitmap_is_set(old->rules, i)) {
            memo->rules[i].n_peers -= old->n_addrs;
        }
        if (bitmap_is_set(rules, i)) {
            memo->rules[i].n_peers += new.n_addrs;
        }
    }
    if (old) {
        flow_table_remove_owner(ft, old->owner);
        new.owner = old->owner;
        free(old->rules);
        free(shash_find_and_delete(&memo->peers, key));
    }
    if (selected) {
        if (!new.owner) {
            new.owner = flow_table_new_owner_id(ft);
        }
        struct policy_peer *peer = xmemdup(&new, sizeof new);
        shash_add(&memo->peers, key, peer);
        policy_peer_emit(ft, memo, peer);
    } else {
        free(rules);
    }
    return true;
}

/* Removes the flows of the policy with cookie 'cookie' and of its peers'
 * sub-owners. */
static void
policy_remove_flows(struct flow_table *ft, uint64_t cookie)
{
    const struct policy_memo *memo = flow_table_get_owner_memo(ft, cookie);
    if (memo) {
        struct shash_node *node;
        SHASH_FOR_EACH (node, &memo->peers) {
            const struct policy_peer *peer = node->data;
            flow_table_remove_owner(ft, peer->owner);
        }
    }
    flow_table_remove_owner(ft, cookie);
}

/* Adds the flows of rule 'rule_idx' ('rule') in direction 'dir' of the
 * policy, for its local pods 'sel', if they fit in what the policy has
 * left of POLICY_MAX_FLOWS; otherwise the rule allows nothing and the
 * policy gets a warning. */
static void
rule_flows(struct policy_ctx *ctx, const struct flows_input *in,
           enum policy_direction dir, size_t rule_idx,
           const struct k8s_policy_rule *rule,
           const struct selected_pod *sel, size_t n_sel)
{
    size_t memo_idx = policy_memo_rule_index(ctx->np, dir, rule_idx);
    const struct k8s_network_policy *np = ctx->np;
    const char *dir_name = dir == POLICY_INGRESS ? "ingress" : "egress";
    char *field = xasprintf("%s[%"PRIuSIZE"]", dir_name, rule_idx);
    struct rule_plan plan = {
        .all_ranges = !rule->n_ports,
        .ipv6 = ctx->ipv6,
    };
    peers_collect(ctx, in, rule, field,
                  dir == POLICY_INGRESS ? "from" : "to",
                  dir == POLICY_EGRESS && rule_has_named_ports(rule),
                  &plan.peers);

    if (!rule_has_named_ports(rule)) {
        struct port_range *ranges;
        size_t n_ranges = rule_port_ranges(rule, NULL, &ranges);
        ofp_port_t *ports = xcalloc(n_sel + 1, sizeof *ports);
        for (size_t i = 0; i < n_sel; i++) {
            ports[i] = sel[i].ofport;
        }
        char *key = xasprintf("%s/%s %s %"PRIuSIZE, np->obj.namespace,
                              np->obj.name, dir_name, rule_idx);
        rule_plan_add(&plan, key, ports, n_sel, ranges, n_ranges, NULL);
    } else if (dir == POLICY_INGRESS) {
        /* Named ports resolve per destination pod: one conjunction per
         * group of pods whose ports resolve alike. */
        struct shash groups = SHASH_INITIALIZER(&groups);
        for (size_t i = 0; i < n_sel; i++) {
            struct port_range *ranges;
            size_t n = rule_port_ranges(rule, sel[i].pod, &ranges);
            char *sig = port_ranges_signature(ranges, n);
            free(ranges);
            struct selected_group *group = shash_find_data(&groups, sig);
            if (!group) {
                group = xzalloc(sizeof *group);
                group->first = i;
                shash_add(&groups, sig, group);
            }
            group->ports = xrealloc(group->ports, (group->n_ports + 1)
                                    * sizeof *group->ports);
            group->ports[group->n_ports++] = sel[i].ofport;
            free(sig);
        }
        struct shash_node *node;
        SHASH_FOR_EACH (node, &groups) {
            struct selected_group *group = node->data;
            struct port_range *ranges;
            size_t n_ranges = rule_port_ranges(rule, sel[group->first].pod,
                                               &ranges);
            char *key = xasprintf("%s/%s %s %"PRIuSIZE" %s",
                                  np->obj.namespace, np->obj.name, dir_name,
                                  rule_idx, node->name);
            rule_plan_add(&plan, key, group->ports, group->n_ports, ranges,
                          n_ranges, NULL);
            free(group);
        }
        shash_destroy(&groups);
    } else {
        /* Egress with named ports: they resolve per destination, so group
         * the peer pods by resolution.  Only pods have named ports. */
        struct shash groups = SHASH_INITIALIZER(&groups);
        const struct k8s_object *obj;
        size_t n_candidates = 0;
        const struct k8s_pod **candidates = NULL;
        if (plan.peers.all) {
            size_t allocated = 0;
            K8S_CLUSTER_FOR_EACH (obj, K8S_POD, in->cluster) {
                const struct k8s_pod *pod = k8s_pod_cast(obj);
                if (pod_is_peer_candidate(in, pod)) {
                    if (n_candidates >= allocated) {
                        candidates = x2nrealloc(candidates, &allocated,
                                                sizeof *candidates);
                    }
                    candidates[n_candidates++] = pod;
                }
            }
        } else if (plan.peers.n_pods) {
            /* Without peer pods (a selector that matches none, ipBlock
             * peers only), a named port resolves nowhere and the rule
             * allows nothing. */
            candidates = xmemdup(plan.peers.pods,
                                 plan.peers.n_pods * sizeof *candidates);
            n_candidates = plan.peers.n_pods;
        }
        for (size_t i = 0; i < n_candidates; i++) {
            struct port_range *ranges;
            size_t n = rule_port_ranges(rule, candidates[i], &ranges);
            char *sig = port_ranges_signature(ranges, n);
            free(ranges);
            struct peers *group = shash_find_data(&groups, sig);
            if (!group) {
                group = xmalloc(sizeof *group);
                peers_init(group);
                shash_add(&groups, sig, group);
            }
            peers_add_pod_addresses(group, in, candidates[i], ctx->ipv6,
                                    NULL);
            free(sig);
        }
        free(candidates);

        struct shash_node *node;
        SHASH_FOR_EACH (node, &groups) {
            struct peers *group = node->data;
            struct port_range *ranges;
            size_t n_ranges = rule_port_ranges(rule, group->pods[0], &ranges);
            ofp_port_t *ports = xcalloc(n_sel + 1, sizeof *ports);
            for (size_t i = 0; i < n_sel; i++) {
                ports[i] = sel[i].ofport;
            }
            char *key = xasprintf("%s/%s %s %"PRIuSIZE" %s",
                                  np->obj.namespace, np->obj.name, dir_name,
                                  rule_idx, node->name);
            rule_plan_add(&plan, key, ports, n_sel, ranges, n_ranges, group);
        }
        shash_destroy(&groups);
    }

    size_t n_flows = 0;
    for (size_t i = 0; i < plan.n_conjs; i++) {
        struct conj_parts parts = rule_plan_parts(&plan, &plan.conjs[i]);
        n_flows += conj_n_flows(&parts);
    }
    if (n_flows > ctx->budget) {
        policy_warn(ctx, field, "%"PRIuSIZE" flows, more than the "
                    "%"PRIuSIZE" the policy has left of kovs's limit of %d "
                    "per policy: this rule allows nothing", n_flows,
                    ctx->budget, POLICY_MAX_FLOWS);
    } else {
        struct policy_rule_memo *rm = &ctx->memo->rules[memo_idx];
        struct pinctrl_np_log_args log = np_log_args(dir, rule_idx);
        for (size_t i = 0; i < plan.n_conjs; i++) {
            struct conj_parts parts = rule_plan_parts(&plan, &plan.conjs[i]);
            emit_conjunction(ctx->ft, ctx->cookie, dir, plan.conjs[i].key,
                             &parts, ctx->logged ? &log : NULL,
                             (plan.peers.by_pod && !plan.peers.all
                              ? &rm->conjs : NULL));
        }
        rm->n_conjs = rm->conjs.size / sizeof(struct ofpact_conjunction);
        ctx->budget -= n_flows;
    }
    policy_memo_add_rule_pods(in, ctx->memo, memo_idx, &plan.peers);
    rule_plan_destroy(&plan);
    free(field);
}

bool
policy_np_logged(const struct flows_input *in, const char *namespace)
{
    switch (in->np_logging) {
    case FLOWS_NP_LOGGING_ALL:
        return true;
    case FLOWS_NP_LOGGING_OFF:
        return false;
    case FLOWS_NP_LOGGING_ANNOTATED: {
        const struct k8s_object *obj = k8s_cluster_find(
            in->cluster, K8S_NAMESPACE, "", namespace);
        return obj && k8s_namespace_cast(obj)->np_logging;
    }
    }
    OVS_NOT_REACHED();
}

/* Records a warning if the policy's namespace asks for the audit log with a
 * value kovs does not understand (and so gets none). */
static void
np_logging_warn(const struct policy_ctx *ctx, const struct flows_input *in)
{
    const struct k8s_object *obj = k8s_cluster_find(
        in->cluster, K8S_NAMESPACE, "", ctx->np->obj.namespace);
    const struct k8s_namespace *ns = obj ? k8s_namespace_cast(obj) : NULL;

    if (in->np_logging == FLOWS_NP_LOGGING_ANNOTATED
        && ns && ns->np_logging_value) {
        flow_table_add_warning(ctx->ft, ctx->cookie,
                               "Namespace %s: metadata.annotations[\"%s\"]: "
                               "\"%s\" is neither \"true\" nor \"false\": "
                               "the NetworkPolicy verdicts of its pods are "
                               "not logged", obj->name,
                               K8S_NP_LOGGING_ANNOTATION,
                               ns->np_logging_value);
    }
}

void
flows_policy_compute(const struct flows_input *in,
                     const struct flows_local *local,
                     const char *namespace, const char *name,
                     struct flow_table *ft)
{
    const uint64_t cookie = kovs_cookie(KOVS_OWNER_POLICY, namespace, name);
    policy_remove_flows(ft, cookie);

    const struct k8s_object *obj = k8s_cluster_find(
        in->cluster, K8S_NETWORK_POLICY, namespace, name);
    if (!obj || !local->valid) {
        return;
    }
    const struct k8s_network_policy *np = k8s_network_policy_cast(obj);

    /* The pods of this node that the policy selects. */
    struct selected_pod *sel = NULL;
    size_t n_sel = 0, allocated = 0;
    size_t n_ns_pods;
    const struct k8s_pod **ns_pods = k8s_cluster_namespace_pods(
        in->cluster, namespace, &n_ns_pods);
    for (size_t i = 0; i < n_ns_pods; i++) {
        const struct k8s_pod *pod = ns_pods[i];
        if (strcmp(pod->node_name, in->node_name) || pod->host_network
            || !k8s_selector_matches(&np->pod_selector, &pod->obj.labels)) {
            continue;
        }
        const struct flows_port *port = flows_pod_port(in, pod);
        if (!port) {
            continue;
        }
        if (n_sel >= allocated) {
            sel = x2nrealloc(sel, &allocated, sizeof *sel);
        }
        sel[n_sel++] = (struct selected_pod) { pod, port->ofport };
    }
    free(ns_pods);
    if (!n_sel) {
        /* None of this node's pods: the peers do not matter here. */
        return;
    }

    struct policy_ctx ctx = {
        .ft = ft,
        .cookie = cookie,
        .np = np,
        .budget = POLICY_MAX_FLOWS,
        .logged = policy_np_logged(in, namespace),
        .ipv6 = local->valid6,
        .memo = policy_memo_create(np, cookie, local->valid6),
    };
    np_logging_warn(&ctx, in);
    struct ofpbuf ofpacts;
    struct match match;
    ofpbuf_init(&ofpacts, 0);
    for (int d = POLICY_INGRESS; d <= POLICY_EGRESS; d++) {
        bool isolates = (d == POLICY_INGRESS ? np->ingress_isolation
                         : np->egress_isolation);
        if (!isolates) {
            continue;
        }
        uint8_t table = (d == POLICY_INGRESS ? KOVS_T_INGRESS_POLICY
                         : KOVS_T_EGRESS_POLICY);

        /* Isolation: what no rule allows drops.  Every policy that
         * isolates the pod wants the same flow; it stays while any does.
         * It never counts against the limit: isolation always holds.  The
         * policies that isolate a pod are all in its namespace, so they
         * agree on whether its drops are logged, and the flow names none
         * of them: the controller finds them. */
        ofpbuf_clear(&ofpacts);
        if (ctx.logged) {
            struct pinctrl_np_log_args log = np_log_args(
                d, PINCTRL_NP_LOG_NO_RULE);
            flows_put_controller_args(&ofpacts, PINCTRL_OP_NP_LOG, &log,
                                      sizeof log);
        }
        for (size_t i = 0; i < n_sel; i++) {
            match_pod_port(&match, d, sel[i].ofport);
            flow_table_add(ft, cookie, table, KOVS_PRIO_POLICY_DROP, &match,
                           &ofpacts);
        }

        const struct k8s_policy_rule *rules = (d == POLICY_INGRESS
                                               ? np->ingress : np->egress);
        size_t n_rules = d == POLICY_INGRESS ? np->n_ingress : np->n_egress;
        for (size_t i = 0; i < n_rules; i++) {
            rule_flows(&ctx, in, d, i, &rules[i], sel, n_sel);
        }
    }
    ofpbuf_uninit(&ofpacts);
    free(sel);

    /* The peer pods' flows, each pod's under its own sub-owner. */
    struct policy_memo *memo = ctx.memo;
    memo->limited = ctx.limited;
    memo->budget = ctx.budget;
    memo->max_block = ctx.max_block;
    struct shash_node *node;
    SHASH_FOR_EACH (node, &memo->peers) {
        struct policy_peer *peer = node->data;
        peer->owner = flow_table_new_owner_id(ft);
        policy_peer_emit(ft, memo, peer);
    }
    flow_table_set_owner_memo(ft, cookie, memo, policy_memo_destroy);
}

/* Dependencies. */

void
policy_selecting_local_pod(const struct flows_input *in,
                           const struct k8s_pod *pod,
                           struct k8s_key_set *policies)
{
    if (strcmp(pod->node_name, in->node_name)) {
        return;
    }
    const struct k8s_object *obj;
    K8S_CLUSTER_FOR_EACH (obj, K8S_NETWORK_POLICY, in->cluster) {
        const struct k8s_network_policy *np = k8s_network_policy_cast(obj);
        if (!strcmp(obj->namespace, pod->obj.namespace)
            && k8s_selector_matches(&np->pod_selector, &pod->obj.labels)) {
            k8s_key_set_add(policies, K8S_NETWORK_POLICY, obj->namespace,
                            obj->name);
        }
    }
}

size_t
policy_update_peers(const struct flows_input *in,
                    const struct flows_local *local,
                    const struct k8s_key_set *pods,
                    struct k8s_key_set *recomputed, struct flow_table *ft)
{
    void **memos;
    size_t n_memos = flow_table_get_memos(ft, policy_memo_destroy, &memos);
    size_t n = 0;
    for (size_t i = 0; i < n_memos; i++) {
        struct policy_memo *memo = memos[i];
        if (k8s_key_set_contains(recomputed, K8S_NETWORK_POLICY,
                                 memo->namespace, memo->name)) {
            continue;
        }

        const struct k8s_key *k;
        K8S_KEY_SET_FOR_EACH (k, pods) {
            const struct k8s_object *obj = k8s_cluster_find(
                in->cluster, K8S_POD, k->namespace, k->name);
            char *key = xasprintf("%s/%s", k->namespace, k->name);
            bool done = policy_peer_update(in, ft, memo, key,
                                           obj ? k8s_pod_cast(obj) : NULL);
            free(key);
            if (!done) {
                /* Recomputing it replaces (frees) its memo. */
                char *ns = xstrdup(memo->namespace);
                char *name = xstrdup(memo->name);
                k8s_key_set_add(recomputed, K8S_NETWORK_POLICY, ns, name);
                flows_policy_compute(in, local, ns, name, ft);
                free(ns);
                free(name);
                n++;
                break;
            }
        }
    }
    free(memos);
    return n;
}

void
policy_affected_by_namespace(const struct k8s_cluster *cluster,
                             const struct k8s_namespace *ns,
                             struct k8s_key_set *policies)
{
    const struct k8s_object *obj;
    K8S_CLUSTER_FOR_EACH (obj, K8S_NETWORK_POLICY, cluster) {
        const struct k8s_network_policy *np = k8s_network_policy_cast(obj);
        bool affected = false;
        for (int d = 0; d < 2 && !affected; d++) {
            const struct k8s_policy_rule *rules = d ? np->egress : np->ingress;
            size_t n_rules = d ? np->n_egress : np->n_ingress;
            for (size_t i = 0; i < n_rules && !affected; i++) {
                for (size_t j = 0; j < rules[i].n_peers; j++) {
                    const struct k8s_selector *s
                        = rules[i].peers[j].namespace_selector;
                    if (s && k8s_selector_matches(s, &ns->obj.labels)) {
                        affected = true;
                        break;
                    }
                }
            }
        }
        if (affected) {
            k8s_key_set_add(policies, K8S_NETWORK_POLICY, obj->namespace,
                            obj->name);
        }
    }
}

/* Returns true if 'a' and 'b' (versions of one Namespace, NULL for none)
 * ask for the same audit logging. */
static bool
namespace_np_logging_equal(const struct k8s_namespace *a,
                           const struct k8s_namespace *b)
{
    bool a_on = a && a->np_logging, b_on = b && b->np_logging;
    const char *a_value = a ? a->np_logging_value : NULL;
    const char *b_value = b ? b->np_logging_value : NULL;

    return (a_on == b_on
            && (a_value && b_value ? !strcmp(a_value, b_value)
                : a_value == b_value));
}

void
policy_affected_by_np_logging(const struct k8s_cluster *cluster,
                              const struct k8s_namespace *old,
                              const struct k8s_namespace *new,
                              struct k8s_key_set *policies)
{
    if (namespace_np_logging_equal(old, new)) {
        return;
    }

    const char *name = old ? old->obj.name : new->obj.name;
    const struct k8s_object *obj;
    K8S_CLUSTER_FOR_EACH (obj, K8S_NETWORK_POLICY, cluster) {
        if (!strcmp(obj->namespace, name)) {
            k8s_key_set_add(policies, K8S_NETWORK_POLICY, obj->namespace,
                            obj->name);
        }
    }
}
