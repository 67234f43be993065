/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#include <config.h>

#include "flows/service.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include "flows/actions.h"
#include "flows/flow-table.h"
#include "flows/flows.h"
#include "flows/pinctrl-opcodes.h"
#include "flows/pipeline.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/match.h"
#include "openvswitch/ofp-actions.h"
#include "smap.h"
#include "svec.h"
#include "util.h"

/* The label that hands a Service to another proxy. */
#define SERVICE_PROXY_NAME_LABEL "service.kubernetes.io/service-proxy-name"

/* The most buckets kovs puts in one group.  A Service port with more
 * endpoints gets a group of groups: ovs-vswitchd describes a group in one
 * message of at most 64 kB, about a thousand buckets. */
#define SERVICE_MAX_BUCKETS 500

/* The most buckets of a group that selects by dp_hash: ovs-vswitchd maps
 * at most 256 hash values to buckets, and beyond falls back to a hash that
 * leaves UDP ports out (see flow_group_get_props()). */
#define SERVICE_MAX_DP_HASH_BUCKETS 256

/* The longest affinity a learned flow can hold: idle_timeout is 16 bits.
 * A Service that asks for more gets this, with a warning. */
#define SERVICE_MAX_AFFINITY_TIMEOUT UINT16_MAX

static int
endpoint_compare(const void *a_, const void *b_)
{
    const struct service_endpoint *a = a_, *b = b_;
    uint32_t ai = ntohl(a->ip), bi = ntohl(b->ip);
    int cmp6 = memcmp(&a->ip6, &b->ip6, sizeof a->ip6);
    return (ai < bi ? -1 : ai > bi ? 1
            : cmp6 ? cmp6
            : a->port < b->port ? -1 : a->port > b->port);
}

/* Adds the endpoints of 'slice' that serve 'sp' and pass 'filter' to
 * 'eps'. */
enum endpoint_filter {
    EP_READY,                   /* Ready. */
    EP_SERVING_TERMINATING,     /* Not ready, but serving and terminating. */
};

static void
collect_endpoints(const struct k8s_endpoint_slice *slice,
                  const struct k8s_service_port *sp, const char *node_name,
                  bool local_only, bool ipv6, enum endpoint_filter filter,
                  struct service_endpoint **eps, size_t *n,
                  size_t *allocated)
{
    if (slice->ipv6 != ipv6) {
        return;
    }
    for (size_t i = 0; i < slice->n_ports; i++) {
        const struct k8s_endpoint_port *ep_port = &slice->ports[i];
        if (strcmp(ep_port->name, sp->name)
            || ep_port->protocol != sp->protocol || !ep_port->port) {
            continue;
        }
        for (size_t j = 0; j < slice->n_endpoints; j++) {
            const struct k8s_endpoint *ep = &slice->endpoints[j];
            bool usable = (filter == EP_READY ? ep->ready
                           : !ep->ready && ep->serving && ep->terminating);
            bool local = !strcmp(ep->node_name, node_name);
            if (!usable || (local_only && !local)) {
                continue;
            }
            for (size_t k = 0; k < ep->n_addresses; k++) {
                const struct in6_addr *addr = &ep->addresses[k];
                if (k8s_addr_is_ipv4(addr) == ipv6) {
                    continue;
                }
                if (*n >= *allocated) {
                    *eps = x2nrealloc(*eps, allocated, sizeof **eps);
                }
                (*eps)[(*n)++] = (struct service_endpoint) {
                    .ip = ipv6 ? 0 : in6_addr_get_mapped_ipv4(addr),
                    .ip6 = ipv6 ? *addr : in6addr_any,
                    .port = ep_port->port,
                    .local = local,
                };
            }
        }
    }
}

size_t
service_select_endpoints(const struct k8s_cluster *cluster,
                         const struct k8s_service *svc,
                         const struct k8s_service_port *sp,
                         const char *node_name, bool local_only, bool ipv6,
                         struct service_endpoint **epsp)
{
    size_t n_slices;
    const struct k8s_endpoint_slice **slices = k8s_cluster_service_slices(
        cluster, svc->obj.namespace, svc->obj.name, &n_slices);

    struct service_endpoint *eps = NULL;
    size_t n = 0, allocated = 0;
    for (int filter = EP_READY; filter <= EP_SERVING_TERMINATING && !n;
         filter++) {
        for (size_t i = 0; i < n_slices; i++) {
            collect_endpoints(slices[i], sp, node_name, local_only, ipv6,
                              filter, &eps, &n, &allocated);
        }
    }
    free(slices);

    /* A stable order (so that recomputing gives the same group) without
     * duplicates (an address in two slices).  Without endpoints 'eps' is
     * NULL, which qsort() must not be given. */
    if (n) {
        qsort(eps, n, sizeof *eps, endpoint_compare);
    }
    size_t n_unique = 0;
    for (size_t i = 0; i < n; i++) {
        if (!n_unique || endpoint_compare(&eps[n_unique - 1], &eps[i])) {
            eps[n_unique++] = eps[i];
        }
    }
    *epsp = eps;
    return n_unique;
}

bool
service_is_proxied(const struct k8s_service *svc)
{
    return (svc->type != K8S_SVC_EXTERNAL_NAME && !svc->headless
            && !smap_get(&svc->obj.labels, SERVICE_PROXY_NAME_LABEL));
}

/* The ENDPOINT_DNAT flow of endpoint 'ep' for 'proto': DNAT to it, commit,
 * mark the connection and the packet as a Service's, go on to policy.  The
 * flow is the same whichever Service uses the endpoint, so Services share
 * it. */
static void
endpoint_dnat_flow(struct flow_table *ft, uint64_t cookie,
                   const struct service_endpoint *ep, uint8_t proto,
                   struct ofpbuf *ofpacts)
{
    struct match match;

    bool ipv6 = !ep->ip;            /* An IPv6 endpoint has no IPv4 one. */

    match_init_catchall(&match);
    match_set_dl_type(&match, htons(ipv6 ? ETH_TYPE_IPV6 : ETH_TYPE_IP));
    match_set_nw_proto(&match, proto);
    if (ipv6) {
        kovs_match_ep_ip6(&match, &ep->ip6);
    } else {
        kovs_match_field(&match, KOVS_F_EP_IP, ntohl(ep->ip));
    }
    kovs_match_field(&match, KOVS_F_EP_PORT, ep->port);

    ofpbuf_clear(ofpacts);
    size_t ofs = flows_put_ct_start(ofpacts, KOVS_CT_ZONE_POD, true,
                                    KOVS_T_EGRESS_POLICY);
    if (ipv6) {
        flows_put_nat6(ofpacts, NX_NAT_F_DST, &ep->ip6, ep->port);
    } else {
        flows_put_nat(ofpacts, NX_NAT_F_DST, ep->ip, ep->port);
    }
    union mf_value value = { .be32 = htonl(KOVS_CT_MARK_SERVICE) };
    flows_put_set_field(ofpacts, mf_from_id(MFF_CT_MARK), &value, &value);
    flows_put_ct_end(ofpacts, ofs);
    flow_table_add(ft, cookie, KOVS_T_ENDPOINT_DNAT, KOVS_PRIO_ENDPOINT_DNAT,
                   &match, ofpacts);
}

bool
flows_ct_flush_for_flow(uint8_t table_id, const struct minimatch *mm,
                        struct flows_ct_flush *flush)
{
    if (table_id != KOVS_T_ENDPOINT_DNAT) {
        return false;
    }
    struct match match;
    uint32_t ep_ip, ep_port;
    minimatch_expand(mm, &match);
    if (!match.wc.masks.nw_proto || match.flow.nw_proto != IPPROTO_UDP
        || !kovs_match_get_field(&match, KOVS_F_EP_PORT, &ep_port)) {
        return false;
    }
    if (kovs_match_get_field(&match, KOVS_F_EP_IP, &ep_ip)) {
        in6_addr_set_mapped_ipv4(&flush->reply_src, htonl(ep_ip));
    } else if (!kovs_match_get_ep_ip6(&match, &flush->reply_src)) {
        return false;
    }

    flush->zone = KOVS_CT_ZONE_POD;
    flush->ip_proto = IPPROTO_UDP;
    flush->reply_src_port = htons(ep_port);
    return true;
}

void
flows_ct_flushes_for_changes(const struct flow_table *ft,
                             struct ovs_list *flushes)
{
    /* The keys already looked at: a key may be tracked more than once. */
    struct hmap seen = HMAP_INITIALIZER(&seen);
    struct seen_key {
        struct hmap_node hmap_node;
        const struct desired_flow *flow;
    };

    const struct desired_flow *d;
    FLOW_TABLE_FOR_EACH_TRACKED (d, ft) {
        struct flows_ct_flush flush;
        if (!d->removed
            || !flows_ct_flush_for_flow(d->table_id, &d->match, &flush)) {
            continue;
        }
        uint32_t hash = flow_key_hash(d->table_id, d->priority, &d->match);
        if (flow_table_lookup(ft, d->table_id, d->priority, &d->match,
                              hash)) {
            continue;
        }
        bool dup = false;
        struct seen_key *s;
        HMAP_FOR_EACH_WITH_HASH (s, hmap_node, hash, &seen) {
            dup |= (s->flow->table_id == d->table_id
                    && s->flow->priority == d->priority
                    && minimatch_equal(&s->flow->match, &d->match));
        }
        if (dup) {
            continue;
        }
        s = xmalloc(sizeof *s);
        s->flow = d;
        hmap_insert(&seen, &s->hmap_node, hash);

        struct flows_ct_flush *f = xmemdup(&flush, sizeof flush);
        ovs_list_push_back(flushes, &f->list_node);
    }

    struct seen_key *s;
    HMAP_FOR_EACH_POP (s, hmap_node, &seen) {
        free(s);
    }
    hmap_destroy(&seen);
}

void
flows_ct_flushes_destroy(struct ovs_list *flushes)
{
    struct flows_ct_flush *f;
    LIST_FOR_EACH_POP (f, list_node, flushes) {
        free(f);
    }
}

/* Appends the learn action that remembers, for sessionAffinity ClientIP,
 * which endpoint (the EP_IP, or for 'ipv6' EP_IP6, and EP_PORT fields)
 * this client got for this VIP and port, for 'timeout' seconds of
 * inactivity: a flow in AFFINITY, owned by the "learned" cookie of the
 * Service's 'cookie', that loads the endpoint and sets FLAG_AFF_HIT. */
static void
put_affinity_learn(struct ofpbuf *ofpacts, bool ipv6, uint8_t proto,
                   uint32_t timeout, uint64_t cookie)
{
    enum mf_field_id port_field = (proto == IPPROTO_TCP ? MFF_TCP_DST
                                   : proto == IPPROTO_UDP ? MFF_UDP_DST
                                   : MFF_SCTP_DST);
    uint64_t learned = ((uint64_t) KOVS_OWNER_LEARNED
                        << KOVS_COOKIE_KIND_SHIFT)
                       | (cookie & KOVS_COOKIE_ID_MASK);

    size_t ofs = flows_put_learn_start(
        ofpacts, KOVS_T_AFFINITY, KOVS_PRIO_AFFINITY_LEARNED,
        MIN(timeout, SERVICE_MAX_AFFINITY_TIMEOUT), learned);
    flows_put_learn_match_value(ofpacts, MFF_ETH_TYPE,
                                ipv6 ? ETH_TYPE_IPV6 : ETH_TYPE_IP);
    flows_put_learn_match_value(ofpacts, MFF_IP_PROTO, proto);
    flows_put_learn_match(ofpacts, flows_whole_field(ipv6 ? MFF_IPV6_SRC
                                                     : MFF_IPV4_SRC));
    flows_put_learn_match(ofpacts, flows_whole_field(ipv6 ? MFF_IPV6_DST
                                                     : MFF_IPV4_DST));
    flows_put_learn_match(ofpacts, flows_whole_field(port_field));
    struct mf_subfield ep_ip = (ipv6
                                ? flows_whole_field(KOVS_EP_IP6_FIELD)
                                : flows_field(KOVS_F_EP_IP));
    flows_put_learn_load(ofpacts, ep_ip, ep_ip);
    flows_put_learn_load(ofpacts, flows_field(KOVS_F_EP_PORT),
                         flows_field(KOVS_F_EP_PORT));
    flows_put_learn_load_value(ofpacts, flows_field(KOVS_F_FLAG_AFF_HIT), 1);
    flows_put_learn_end(ofpacts, ofs);
}

/* The priorities of a VIP's SERVICE_LB flows, one per step of session
 * affinity (flows/pipeline.h). */
struct service_lb_prios {
    uint16_t vip;                   /* No affinity: all; else: LOOKUP. */
    uint16_t miss, hit, learn;
};

/* For everyone. */
static const struct service_lb_prios service_lb_vip = {
    KOVS_PRIO_SERVICE_LB_VIP, KOVS_PRIO_SERVICE_LB_VIP_MISS,
    KOVS_PRIO_SERVICE_LB_VIP_HIT, KOVS_PRIO_SERVICE_LB_VIP_LEARN,
};

/* For this node's pods and the node itself, with externalTrafficPolicy
 * Local. */
static const struct service_lb_prios service_lb_inside = {
    KOVS_PRIO_SERVICE_LB_INSIDE, KOVS_PRIO_SERVICE_LB_INSIDE_MISS,
    KOVS_PRIO_SERVICE_LB_INSIDE_HIT, KOVS_PRIO_SERVICE_LB_INSIDE_LEARN,
};

/* Makes 'match' require the affinity flags DONE, HIT and CHOSEN to be
 * 'done', 'hit' and 'chosen'. */
static void
match_affinity_flags(struct match *match, bool done, bool hit, bool chosen)
{
    kovs_match_field(match, KOVS_F_FLAG_AFF_DONE, done);
    kovs_match_field(match, KOVS_F_FLAG_AFF_HIT, hit);
    kovs_match_field(match, KOVS_F_FLAG_AFF_CHOSEN, chosen);
}

/* The SERVICE_LB flows that send new connections matching 'base' (an
 * address, protocol and port, and maybe a source or a port kind) to
 * 'group_id', which spreads them over 'n_eps' endpoints, at priorities
 * 'prios'. */
static void
service_vip_flows(struct flow_table *ft, uint64_t cookie,
                  const struct match *base,
                  const struct service_lb_prios *prios,
                  const struct k8s_service *svc, size_t n_eps,
                  bool has_eps_elsewhere, uint32_t group_id,
                  struct ofpbuf *ofpacts)
{
    struct match match = *base;
    match_set_ct_state_masked(&match, CS_NEW | CS_TRACKED,
                              CS_NEW | CS_TRACKED);

    ofpbuf_clear(ofpacts);
    if (!n_eps) {
        if (!has_eps_elsewhere) {
            /* No endpoint at all: refuse at once, as kube-proxy does. */
            flows_put_controller(ofpacts, PINCTRL_OP_REJECT);
        }
        /* Otherwise a traffic policy Local without a local endpoint:
         * drop. */
        flow_table_add(ft, cookie, KOVS_T_SERVICE_LB, prios->vip, &match,
                       ofpacts);
        return;
    }

    if (!svc->affinity_client_ip) {
        flows_put_group(ofpacts, group_id);
        flow_table_add(ft, cookie, KOVS_T_SERVICE_LB, prios->vip, &match,
                       ofpacts);
        return;
    }

    /* Session affinity: look the client up in AFFINITY first (a learned
     * flow there loads the endpoint and sets AFF_HIT), then come back:
     * with a hit straight to ENDPOINT_DNAT, without one to the group.  The
     * group's buckets come back once more with AFF_CHOSEN, and that flow
     * learns the choice (group buckets are action sets, which cannot hold
     * a learn action) before going on to ENDPOINT_DNAT. */
    uint8_t proto = base->flow.nw_proto;
    bool ipv6 = base->flow.dl_type == htons(ETH_TYPE_IPV6);
    flows_put_resubmit(ofpacts, KOVS_T_AFFINITY);
    flows_put_load_field(ofpacts, KOVS_F_FLAG_AFF_DONE, 1);
    flows_put_resubmit(ofpacts, KOVS_T_SERVICE_LB);
    kovs_match_field(&match, KOVS_F_FLAG_AFF_DONE, 0);
    flow_table_add(ft, cookie, KOVS_T_SERVICE_LB, prios->vip, &match,
                   ofpacts);

    ofpbuf_clear(ofpacts);
    flows_put_resubmit(ofpacts, KOVS_T_ENDPOINT_DNAT);
    match = *base;
    match_set_ct_state_masked(&match, CS_NEW | CS_TRACKED,
                              CS_NEW | CS_TRACKED);
    kovs_match_field(&match, KOVS_F_FLAG_AFF_DONE, 1);
    kovs_match_field(&match, KOVS_F_FLAG_AFF_HIT, 1);
    flow_table_add(ft, cookie, KOVS_T_SERVICE_LB, prios->hit, &match,
                   ofpacts);

    ofpbuf_clear(ofpacts);
    flows_put_group(ofpacts, group_id);
    match = *base;
    match_set_ct_state_masked(&match, CS_NEW | CS_TRACKED,
                              CS_NEW | CS_TRACKED);
    match_affinity_flags(&match, true, false, false);
    flow_table_add(ft, cookie, KOVS_T_SERVICE_LB, prios->miss, &match,
                   ofpacts);

    ofpbuf_clear(ofpacts);
    put_affinity_learn(ofpacts, ipv6, proto, svc->affinity_timeout, cookie);
    flows_put_resubmit(ofpacts, KOVS_T_ENDPOINT_DNAT);
    match = *base;
    match_set_ct_state_masked(&match, CS_NEW | CS_TRACKED,
                              CS_NEW | CS_TRACKED);
    match_affinity_flags(&match, true, false, true);
    flow_table_add(ft, cookie, KOVS_T_SERVICE_LB, prios->learn, &match,
                   ofpacts);
}

/* Adds the group that spreads connections over 'buckets' and returns its
 * id.  Every new connection is load-balanced anew, UDP and SCTP included
 * (each new source port of a client may get another endpoint, as with
 * kube-proxy), in the cheapest way that works for 'n' endpoints:
 *
 *   - up to SERVICE_MAX_DP_HASH_BUCKETS, one group that selects by the
 *     datapath's hash of the 5-tuple (no upcall per connection);
 *
 *   - up to SERVICE_MAX_BUCKETS, one group that selects by a hash of the
 *     5-tuple fields, which ovs-vswitchd computes (an upcall per
 *     connection);
 *
 *   - beyond, a group (selecting by the datapath's hash) of sub-groups of
 *     nearly equal size, at most SERVICE_MAX_BUCKETS buckets each,
 *     weighted by their size so that every endpoint gets its share.  The
 *     sub-groups select by the 5-tuple fields, so that their choice does
 *     not depend on the dp_hash that chose them. */
static uint32_t
service_group(struct flow_table *ft, uint64_t cookie, const char *key,
              const struct ofpbuf *buckets, size_t n, uint8_t proto)
{
    if (n <= SERVICE_MAX_DP_HASH_BUCKETS) {
        return flow_table_add_group(ft, cookie, key, buckets, NULL, n, 0);
    } else if (n <= SERVICE_MAX_BUCKETS) {
        return flow_table_add_group(ft, cookie, key, buckets, NULL, n,
                                    proto);
    }

    /* Parts of equal size, give or take one, keep the parent's weights
     * close, which its dp_hash needs to honour them (it has at most 256
     * hash values for the ratio of the total to the smallest weight). */
    size_t n_parts = DIV_ROUND_UP(n, SERVICE_MAX_BUCKETS);
    struct ofpbuf *parts = xcalloc(n_parts, sizeof *parts);
    uint16_t *weights = xcalloc(n_parts, sizeof *weights);
    size_t start = 0;
    for (size_t i = 0; i < n_parts; i++) {
        size_t len = n / n_parts + (i < n % n_parts);
        char *part_key = xasprintf("%s part %"PRIuSIZE, key, i);
        uint32_t part = flow_table_add_group(ft, cookie, part_key,
                                             &buckets[start], NULL, len,
                                             proto);
        free(part_key);

        ofpbuf_init(&parts[i], 16);
        flows_put_group(&parts[i], part);
        weights[i] = len;
        start += len;
    }
    uint32_t id = flow_table_add_group(ft, cookie, key, parts, weights,
                                       n_parts, 0);
    for (size_t i = 0; i < n_parts; i++) {
        ofpbuf_uninit(&parts[i]);
    }
    free(parts);
    free(weights);
    return id;
}

/* The endpoints of one Service port, and the group that spreads
 * connections over them. */
struct service_target {
    struct service_endpoint *eps;
    size_t n;
    uint32_t group_id;              /* 0 if 'n' is 0. */
};

/* Selects the endpoints of 'sp' of family 'ipv6' ('local_only': on this
 * node only) into 't' and, if 'key' is nonnull, adds their group, keyed
 * 'key', and their ENDPOINT_DNAT flows. */
static void
service_target_init(const struct flows_input *in, struct flow_table *ft,
                    uint64_t cookie, const struct k8s_service *svc,
                    const struct k8s_service_port *sp, bool local_only,
                    bool ipv6, const char *key, struct service_target *t,
                    struct ofpbuf *ofpacts)
{
    uint8_t proto = k8s_protocol_ip_proto(sp->protocol);

    t->n = service_select_endpoints(in->cluster, svc, sp, in->node_name,
                                    local_only, ipv6, &t->eps);
    t->group_id = 0;
    if (!t->n || !key) {
        return;
    }

    struct ofpbuf *buckets = xcalloc(t->n, sizeof *buckets);
    for (size_t j = 0; j < t->n; j++) {
        struct ofpbuf *b = &buckets[j];
        ofpbuf_init(b, 128);
        if (ipv6) {
            union mf_value value;
            memcpy(&value.be128, &t->eps[j].ip6, sizeof value.be128);
            flows_put_set_field(b, mf_from_id(KOVS_EP_IP6_FIELD), &value,
                                NULL);
        } else {
            flows_put_load_field(b, KOVS_F_EP_IP, ntohl(t->eps[j].ip));
        }
        flows_put_load_field(b, KOVS_F_EP_PORT, t->eps[j].port);
        if (svc->affinity_client_ip) {
            flows_put_load_field(b, KOVS_F_FLAG_AFF_CHOSEN, 1);
            flows_put_resubmit(b, KOVS_T_SERVICE_LB);
        } else {
            flows_put_resubmit(b, KOVS_T_ENDPOINT_DNAT);
        }
        endpoint_dnat_flow(ft, cookie, &t->eps[j], proto, ofpacts);
    }
    t->group_id = service_group(ft, cookie, key, buckets, t->n, proto);
    for (size_t j = 0; j < t->n; j++) {
        ofpbuf_uninit(&buckets[j]);
    }
    free(buckets);
}

/* An address and port where a Service port takes connections from outside
 * the cluster: the node IP with a NodePort, an external IP, a load
 * balancer's IP (the only kind that 'source_ranges' apply to). */
struct service_frontend {
    struct in6_addr ip;             /* IPv4 mapped for IPv4. */
    uint16_t port;
    bool source_ranges;
};

/* Stores in '*fesp' a new array of the front ends of family 'ipv6' of
 * Service port 'sp', which the caller frees, and returns how many there
 * are. */
static size_t
service_frontends(const struct flows_external *ex,
                  const struct k8s_service *svc,
                  const struct k8s_service_port *sp, bool ipv6,
                  struct service_frontend **fesp)
{
    /* Only source ranges of the address's family restrict it: ranges of
     * the other family alone leave it open, as in kube-proxy. */
    bool source_ranges = false;
    for (size_t i = 0; i < svc->n_lb_source_ranges; i++) {
        if (k8s_addr_is_ipv4(&svc->lb_source_ranges[i].addr) != ipv6) {
            source_ranges = true;
        }
    }

    size_t n = 0;
    struct service_frontend *fes = xcalloc(1 + svc->n_external_ips
                                           + svc->n_lb_ingress, sizeof *fes);
    if (sp->node_port && (svc->type == K8S_SVC_NODE_PORT
                          || svc->type == K8S_SVC_LOAD_BALANCER)) {
        fes[n] = (struct service_frontend) { .port = sp->node_port };
        if (ipv6) {
            fes[n].ip = ex->node_ip6;
        } else {
            in6_addr_set_mapped_ipv4(&fes[n].ip, ex->node_ip);
        }
        n++;
    }
    for (size_t i = 0; i < svc->n_external_ips; i++) {
        if (k8s_addr_is_ipv4(&svc->external_ips[i]) != ipv6) {
            fes[n++] = (struct service_frontend) {
                svc->external_ips[i], sp->port, false };
        }
    }
    for (size_t i = 0; svc->type == K8S_SVC_LOAD_BALANCER
                       && i < svc->n_lb_ingress; i++) {
        const struct k8s_lb_ingress *lb = &svc->lb_ingress[i];
        if (!lb->proxy_mode && k8s_addr_is_ipv4(&lb->ip) != ipv6) {
            fes[n++] = (struct service_frontend) {
                lb->ip, sp->port, source_ranges };
        }
    }
    *fesp = fes;
    return n;
}

/* The flows of one front end 'fe' of Service port 'sp':
 *
 *   br-ex        the address and port go to br-int
 *   SERVICE_LB   with externalTrafficPolicy Cluster, any endpoint ('all');
 *                with Local, this node's endpoints ('local', drop if none
 *                while there are others), except for this node's pods and
 *                the node itself, which get any endpoint; with source
 *                ranges, only from those ranges, and a drop for the rest */
static void
service_frontend_flows(const struct flows_external *ex, struct flow_table *ft,
                       struct flow_table *ex_ft,
                       uint64_t cookie, const struct k8s_service *svc,
                       uint8_t proto, const struct service_frontend *fe,
                       const struct service_target *all,
                       const struct service_target *local,
                       struct ofpbuf *ofpacts)
{
    bool ipv6 = !IN6_IS_ADDR_V4MAPPED(&fe->ip);
    struct match base;
    match_init_catchall(&base);
    flows_match_ip_dst(&base, &fe->ip);
    match_set_nw_proto(&base, proto);
    match_set_tp_dst(&base, htons(fe->port));

    if (ex_ft) {
        struct match match = base;
        match_set_in_port(&match, ex->uplink_ofport);
        ofpbuf_clear(ofpacts);
        flows_put_output(ofpacts, ex->ex_patch_ofport);
        flow_table_add(ex_ft, cookie, KOVS_T_EX_IN, KOVS_PRIO_EX_IN_TAKEN,
                       &match, ofpacts);
    }

    if (fe->source_ranges) {
        ofpbuf_clear(ofpacts);
        flow_table_add(ft, cookie, KOVS_T_SERVICE_LB,
                       KOVS_PRIO_SERVICE_LB_SOURCE_DROP, &base, ofpacts);
    }

    size_t n_sources = fe->source_ranges ? svc->n_lb_source_ranges : 1;
    for (size_t i = 0; i < n_sources; i++) {
        struct match match = base;
        if (fe->source_ranges) {
            const struct k8s_cidr *c = &svc->lb_source_ranges[i];
            if (k8s_addr_is_ipv4(&c->addr) == ipv6) {
                continue;
            }
            if (ipv6) {
                struct in6_addr mask = ipv6_create_mask(c->plen);
                struct in6_addr net = ipv6_addr_bitand(&c->addr, &mask);
                match_set_ipv6_src_masked(&match, &net, &mask);
            } else {
                match_set_nw_src_masked(&match,
                                        in6_addr_get_mapped_ipv4(&c->addr),
                                        be32_prefix_mask(c->plen));
            }
        }

        if (svc->external_traffic_policy != K8S_POLICY_LOCAL) {
            service_vip_flows(ft, cookie, &match, &service_lb_vip, svc,
                              all->n, false, all->group_id, ofpacts);
            continue;
        }

        service_vip_flows(ft, cookie, &match, &service_lb_vip, svc,
                          local->n, all->n > 0, local->group_id, ofpacts);
        static const enum kovs_port_kind inside[] = {
            KOVS_PORT_POD, KOVS_PORT_GATEWAY,
        };
        for (size_t j = 0; j < ARRAY_SIZE(inside); j++) {
            struct match m = match;
            kovs_match_field(&m, KOVS_F_PORT_KIND, inside[j]);
            service_vip_flows(ft, cookie, &m, &service_lb_inside, svc,
                              all->n, false, all->group_id, ofpacts);
        }
    }
}

/* Selects the endpoints of family 'ipv6' of Service port 'sp' into 'all'
 * and, with a traffic policy Local that needs them, this node's into
 * 'local' (both freed by the caller), with their groups keyed from 'key',
 * and adds the SERVICE_LB flows of the Service's ClusterIPs of that family.
 * 'has_fes' says whether the port has front ends from outside, which need
 * the group of every endpoint whatever internalTrafficPolicy says. */
static void
service_cluster_ip_flows(const struct flows_input *in, struct flow_table *ft,
                         uint64_t cookie, const struct k8s_service *svc,
                         const struct k8s_service_port *sp, bool ipv6,
                         bool has_fes, const char *key,
                         struct service_target *all,
                         struct service_target *local,
                         struct ofpbuf *ofpacts)
{
    uint8_t proto = k8s_protocol_ip_proto(sp->protocol);
    bool itp_local = svc->internal_traffic_policy == K8S_POLICY_LOCAL;
    bool etp_local = svc->external_traffic_policy == K8S_POLICY_LOCAL;

    /* Without a front end, internalTrafficPolicy Local needs only the
     * number of endpoints elsewhere, not their group. */
    service_target_init(in, ft, cookie, svc, sp, false, ipv6,
                        !itp_local || has_fes ? key : NULL, all, ofpacts);
    if (itp_local || (etp_local && has_fes)) {
        char *local_key = xasprintf("%s local", key);
        service_target_init(in, ft, cookie, svc, sp, true, ipv6, local_key,
                            local, ofpacts);
        free(local_key);
    }

    struct match match;
    match_init_catchall(&match);
    match_set_dl_type(&match, htons(ipv6 ? ETH_TYPE_IPV6 : ETH_TYPE_IP));
    match_set_nw_proto(&match, proto);
    match_set_tp_dst(&match, htons(sp->port));
    for (size_t j = 0; j < svc->n_cluster_ips; j++) {
        const struct in6_addr *vip = &svc->cluster_ips[j];
        if (k8s_addr_is_ipv4(vip) == ipv6) {
            continue;
        }
        if (ipv6) {
            match_set_ipv6_dst(&match, vip);
        } else {
            match_set_nw_dst(&match, in6_addr_get_mapped_ipv4(vip));
        }
        if (itp_local) {
            service_vip_flows(ft, cookie, &match, &service_lb_vip, svc,
                              local->n, all->n > 0, local->group_id,
                              ofpacts);
        } else {
            service_vip_flows(ft, cookie, &match, &service_lb_vip, svc,
                              all->n, false, all->group_id, ofpacts);
        }
    }
}

/* Returns true if 'svc' has an IPv6 ClusterIP. */
static bool
service_has_ipv6_cluster_ip(const struct k8s_service *svc)
{
    for (size_t i = 0; i < svc->n_cluster_ips; i++) {
        if (!k8s_addr_is_ipv4(&svc->cluster_ips[i])) {
            return true;
        }
    }
    return false;
}

/* Warns, once per field, about the addresses of family 'ipv6' of 'svc'
 * that take connections from outside the cluster and that kovs does not
 * serve: all of them on a Service without that family ('has_family'
 * false), which has no endpoints of it to send them to, and, with an
 * external bridge that takes no traffic of that family ('no_ex_family':
 * no IPv6 address on br-ex or no IPv6 podCIDR; for IPv4, an IPv6-only
 * node), those of a Service with it. */
static void
service_warn_frontends(struct flow_table *ft, uint64_t cookie,
                       const struct k8s_service *svc, bool ipv6,
                       bool has_family, bool no_ex_family)
{
    const char *ns = svc->obj.namespace, *name = svc->obj.name;
    const char *family = ipv6 ? "IPv6" : "IPv4";
    const char *why = (!has_family
                       ? (ipv6 ? "the Service has no IPv6 ClusterIP "
                          "(ipFamilies)"
                          : "the Service has no IPv4 ClusterIP "
                          "(ipFamilies)")
                       : ipv6
                       ? "this node takes no IPv6 traffic through the "
                       "external bridge: it has no IPv6 address, or the "
                       "node no IPv6 podCIDR"
                       : "this node takes no IPv4 traffic through the "
                       "external bridge: the node has no IPv4 podCIDR");
    char buf[INET6_ADDRSTRLEN];

    if (has_family && !no_ex_family) {
        return;
    }
    for (size_t i = 0; i < svc->n_external_ips; i++) {
        const struct in6_addr *ip = &svc->external_ips[i];
        if (k8s_addr_is_ipv4(ip) != ipv6) {
            flow_table_add_warning(
                ft, cookie, "Service %s/%s: spec.externalIPs: %s address "
                "%s is not served (%s)", ns, name, family,
                ipv6_string_mapped(buf, ip), why);
            break;
        }
    }
    for (size_t i = 0; svc->type == K8S_SVC_LOAD_BALANCER
                       && i < svc->n_lb_ingress; i++) {
        const struct k8s_lb_ingress *lb = &svc->lb_ingress[i];
        if (!lb->proxy_mode && k8s_addr_is_ipv4(&lb->ip) != ipv6) {
            flow_table_add_warning(
                ft, cookie, "Service %s/%s: status.loadBalancer.ingress.ip: "
                "%s address %s is not served (%s)", ns, name, family,
                ipv6_string_mapped(buf, &lb->ip), why);
            break;
        }
    }
}

void
flows_service_compute(const struct flows_input *in,
                      const char *namespace, const char *name,
                      struct flow_table *ft, struct flow_table *ex_ft)
{
    const uint64_t cookie = kovs_cookie(KOVS_OWNER_SERVICE, namespace, name);
    flow_table_remove_owner(ft, cookie);
    if (ex_ft) {
        flow_table_remove_owner(ex_ft, cookie);
    }

    const struct k8s_object *obj = k8s_cluster_find(in->cluster, K8S_SERVICE,
                                                    namespace, name);
    if (!obj) {
        return;
    }
    const struct k8s_service *svc = k8s_service_cast(obj);
    if (!service_is_proxied(svc)) {
        return;
    }
    if (svc->affinity_client_ip
        && svc->affinity_timeout > SERVICE_MAX_AFFINITY_TIMEOUT) {
        flow_table_add_warning(
            ft, cookie, "Service %s/%s: spec.sessionAffinityConfig.clientIP."
            "timeoutSeconds: %"PRIu32" is longer than a learned flow can "
            "last (%d s of inactivity); using %d", namespace, name,
            svc->affinity_timeout, SERVICE_MAX_AFFINITY_TIMEOUT,
            SERVICE_MAX_AFFINITY_TIMEOUT);
    }

    bool has_ipv6 = service_has_ipv6_cluster_ip(svc);
    bool ex_ipv4 = flows_external_has_ipv4(in->external);
    bool ex_ipv6 = flows_external_has_ipv6(in->external);
    service_warn_frontends(ft, cookie, svc, false, true,
                           in->external && !ex_ipv4);
    service_warn_frontends(ft, cookie, svc, true, has_ipv6,
                           in->external && !ex_ipv6);

    struct ofpbuf ofpacts;
    ofpbuf_init(&ofpacts, 256);

    for (size_t i = 0; i < svc->n_ports; i++) {
        const struct k8s_service_port *sp = &svc->ports[i];
        uint8_t proto = k8s_protocol_ip_proto(sp->protocol);

        struct service_frontend *fes = NULL;
        size_t n_fes = (ex_ipv4
                        ? service_frontends(in->external, svc, sp, false,
                                            &fes)
                        : 0);

        char *key = xasprintf("service %s/%s %s/%d", namespace, name,
                              k8s_protocol_name(sp->protocol), sp->port);
        struct service_target all, local = { .eps = NULL };
        service_cluster_ip_flows(in, ft, cookie, svc, sp, false, n_fes > 0,
                                 key, &all, &local, &ofpacts);
        for (size_t j = 0; j < n_fes; j++) {
            service_frontend_flows(in->external, ft, ex_ft, cookie, svc,
                                   proto, &fes[j], &all, &local, &ofpacts);
        }
        free(fes);
        free(all.eps);
        free(local.eps);

        /* The IPv6 ClusterIP and front ends, with the IPv6 endpoints, in
         * groups of their own. */
        if (has_ipv6) {
            char *key6 = xasprintf("%s IPv6", key);
            struct service_target all6, local6 = { .eps = NULL };
            struct service_frontend *fes6 = NULL;
            size_t n_fes6 = (ex_ipv6
                             ? service_frontends(in->external, svc, sp,
                                                 true, &fes6)
                             : 0);
            service_cluster_ip_flows(in, ft, cookie, svc, sp, true,
                                     n_fes6 > 0, key6, &all6, &local6,
                                     &ofpacts);
            for (size_t j = 0; j < n_fes6; j++) {
                service_frontend_flows(in->external, ft, ex_ft, cookie, svc,
                                       proto, &fes6[j], &all6, &local6,
                                       &ofpacts);
            }
            free(fes6);
            free(all6.eps);
            free(local6.eps);
            free(key6);
        }
        free(key);
    }
    ofpbuf_uninit(&ofpacts);
}

static int
compare_in6(const void *a, const void *b)
{
    return memcmp(a, b, sizeof(struct in6_addr));
}

/* Returns the number of distinct addresses among the ready endpoints of
 * 'slices' on node 'node_name' in slices of one family ('ipv6'). */
static size_t
count_local_ready(const struct k8s_endpoint_slice **slices, size_t n_slices,
                  const char *node_name, bool ipv6)
{
    struct in6_addr *ips = NULL;
    size_t n = 0, allocated = 0;
    for (size_t i = 0; i < n_slices; i++) {
        const struct k8s_endpoint_slice *slice = slices[i];
        for (size_t j = 0; slice->ipv6 == ipv6 && j < slice->n_endpoints;
             j++) {
            const struct k8s_endpoint *ep = &slice->endpoints[j];
            if (!ep->ready || strcmp(ep->node_name, node_name)) {
                continue;
            }
            for (size_t k = 0; k < ep->n_addresses; k++) {
                if (k8s_addr_is_ipv4(&ep->addresses[k]) != ipv6) {
                    if (n >= allocated) {
                        ips = x2nrealloc(ips, &allocated, sizeof *ips);
                    }
                    ips[n++] = ep->addresses[k];
                }
            }
        }
    }

    /* An address in two slices counts once.  ('ips' is NULL if 'n' is
     * 0.) */
    if (n) {
        qsort(ips, n, sizeof *ips, compare_in6);
    }
    size_t n_unique = 0;
    for (size_t i = 0; i < n; i++) {
        n_unique += !i || !ipv6_addr_equals(&ips[i], &ips[i - 1]);
    }
    free(ips);
    return n_unique;
}

size_t
service_count_local_ready(const struct k8s_cluster *cluster,
                          const struct k8s_service *svc,
                          const char *node_name)
{
    size_t n_slices;
    const struct k8s_endpoint_slice **slices = k8s_cluster_service_slices(
        cluster, svc->obj.namespace, svc->obj.name, &n_slices);

    /* A dual-stack pod is an endpoint in a slice of each family: the
     * family with more of them counts. */
    size_t n4 = count_local_ready(slices, n_slices, node_name, false);
    size_t n6 = count_local_ready(slices, n_slices, node_name, true);
    free(slices);
    return MAX(n4, n6);
}
