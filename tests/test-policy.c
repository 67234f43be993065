/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0.
 *
 * Unit tests of flows/policy.c: NetworkPolicy to flows, with no switch.
 * 'test-policy NAME' runs one test; 'test-policy --list' lists them. */

#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "flow.h"
#include "flows/flow-table.h"
#include "flows/flows.h"
#include "flows/pipeline.h"
#include "flows/policy.h"
#include "k8s/k8s-decode.h"
#include "k8s/k8s-model.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/match.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/shash.h"
#include "packets.h"
#include "random.h"
#include "sset.h"
#include "svec.h"
#include "util.h"
#include "tests/unit-test.h"


/* A cluster of node n1 (this one) and n2, namespace "x" with pods
 * described by the caller, and the policies the caller adds. */
struct fixture {
    struct k8s_cluster cluster;
    struct shash pod_ports;
    struct shash tunnel_ports;
    struct flows_input in;
    struct flows_local local;
    struct flow_table ft;
    struct ds json;
    int next_ofport;
};

static void
fixture_init(struct fixture *f)
{
    memset(f, 0, sizeof *f);
    k8s_cluster_init(&f->cluster);
    shash_init(&f->pod_ports);
    shash_init(&f->tunnel_ports);
    flow_table_init(&f->ft);
    ds_init(&f->json);
    ds_put_cstr(&f->json,
        "{\"kind\":\"List\",\"items\":["
        "{\"kind\":\"Node\",\"metadata\":{\"name\":\"n1\"},"
        " \"spec\":{\"podCIDRs\":[\"10.244.1.0/24\"]}},"
        "{\"kind\":\"Node\",\"metadata\":{\"name\":\"n2\"},"
        " \"spec\":{\"podCIDRs\":[\"10.244.2.0/24\"]}},"
        "{\"kind\":\"Namespace\",\"metadata\":{\"name\":\"x\","
        "  \"labels\":{\"team\":\"blue\"}}}");
    f->next_ofport = 10;
}

/* Replaces the first 'old' in the fixture's JSON with 'new'.  Before
 * fixture_compute(). */
static void
fixture_replace(struct fixture *f, const char *old, const char *new)
{
    char *p = strstr(ds_cstr(&f->json), old);
    ovs_assert(p);

    struct ds rest = DS_EMPTY_INITIALIZER;
    ds_put_cstr(&rest, p + strlen(old));
    ds_truncate(&f->json, p - ds_cstr(&f->json));
    ds_put_cstr(&f->json, new);
    ds_put_cstr(&f->json, ds_cstr(&rest));
    ds_destroy(&rest);
}

/* fixture_init() with dual-stack nodes: n1 has fd00:10:244:1::/64 and n2
 * fd00:10:244:2::/64 as well. */
static void
fixture_init_dual_stack(struct fixture *f)
{
    fixture_init(f);
    for (int node = 1; node <= 2; node++) {
        char *old = xasprintf("\"10.244.%d.0/24\"", node);
        char *new = xasprintf("\"10.244.%d.0/24\",\"fd00:10:244:%d::/64\"",
                              node, node);
        fixture_replace(f, old, new);
        free(old);
        free(new);
    }
}

/* Adds pod x/NAME on NODE with IP (or "IPV4,IPV6" for a dual-stack pod),
 * label app=LABEL and one container port named http with number HTTP_PORT
 * (0 for none).  Pods on n1 get a port. */
static void
add_pod(struct fixture *f, const char *name, const char *node,
        const char *ip, const char *label, int http_port)
{
    char ports[64] = "";
    if (http_port) {
        snprintf(ports, sizeof ports,
                 ",\"ports\":[{\"name\":\"http\",\"containerPort\":%d}]",
                 http_port);
    }
    struct ds status = DS_EMPTY_INITIALIZER;
    const char *comma = strchr(ip, ',');
    if (comma) {
        ds_put_format(&status, "\"podIP\":\"%.*s\",\"podIPs\":["
                      "{\"ip\":\"%.*s\"},{\"ip\":\"%s\"}]",
                      (int) (comma - ip), ip, (int) (comma - ip), ip,
                      comma + 1);
    } else {
        ds_put_format(&status, "\"podIP\":\"%s\"", ip);
    }
    ds_put_format(&f->json,
        ",{\"kind\":\"Pod\",\"metadata\":{\"namespace\":\"x\","
        "  \"name\":\"%s\",\"labels\":{\"app\":\"%s\"}},"
        " \"spec\":{\"nodeName\":\"%s\",\"containers\":[{\"name\":\"c\""
        "  %s}]},"
        " \"status\":{%s}}",
        name, label, node, ports, ds_cstr(&status));
    ds_destroy(&status);
    if (!strcmp(node, "n1")) {
        struct flows_port *p = xzalloc(sizeof *p);
        p->ofport = u16_to_ofp(f->next_ofport++);
        p->mac = (struct eth_addr) ETH_ADDR_C(0a, 00, 00, 00, 00, 01);
        p->mac.ea[5] = f->next_ofport;
        shash_add_nocopy(&f->pod_ports, xasprintf("x/%s", name), p);
    }
}

static void
add_json(struct fixture *f, const char *json)
{
    ds_put_format(&f->json, ",%s", json);
}

static void
fixture_compute(struct fixture *f)
{
    struct svec warnings = SVEC_EMPTY_INITIALIZER;
    char *error = NULL;

    ds_put_cstr(&f->json, "]}");
    int retval = k8s_decode_list(ds_cstr(&f->json), f->json.length,
                                 &f->cluster, &warnings, &error);
    if (retval || warnings.n) {
        fprintf(stderr, "fixture: %s %s\n", error ? error : "",
                warnings.n ? warnings.names[0] : "");
        exit(2);
    }
    svec_destroy(&warnings);
    k8s_cluster_clear_changes(&f->cluster);

    f->in = (struct flows_input) {
        .cluster = &f->cluster,
        .node_name = "n1",
        .gateway_ofport = u16_to_ofp(2),
        .pod_ports = &f->pod_ports,
        .tunnel_ports = &f->tunnel_ports,
    };
    flows_local_init(&f->in, &f->local);
    flows_compute_all(&f->in, &f->ft, NULL);
}

static void
fixture_destroy(struct fixture *f)
{
    flow_table_destroy(&f->ft);
    struct shash_node *node;
    SHASH_FOR_EACH (node, &f->pod_ports) {
        free(node->data);
    }
    shash_destroy(&f->pod_ports);
    shash_destroy(&f->tunnel_ports);
    k8s_cluster_destroy(&f->cluster);
    ds_destroy(&f->json);
}

/* The flows (as text, one per line) the switch would get in 'table' from
 * the owner 'cookie'. */
static char *
owner_flows(const struct flow_table *ft, uint64_t cookie, uint8_t table,
            size_t *n)
{
    struct svec lines = SVEC_EMPTY_INITIALIZER;
    const struct desired_flow *d;
    FLOW_TABLE_FOR_EACH (d, ft) {
        if (d->cookie != cookie || d->table_id != table) {
            continue;
        }
        struct ofpbuf ofpacts;
        uint64_t c;
        ofpbuf_init(&ofpacts, 0);
        flow_table_get_actions(ft, d->table_id, d->priority, &d->match,
                               flow_key_hash(d->table_id, d->priority,
                                             &d->match), &ofpacts, &c);
        struct ds s = DS_EMPTY_INITIALIZER;
        flow_table_format_flow(d->table_id, d->priority, &d->match,
                               ofpacts.data, ofpacts.size, &s);
        svec_add_nocopy(&lines, ds_steal_cstr(&s));
        ofpbuf_uninit(&ofpacts);
    }
    svec_sort(&lines);
    char *all = svec_join(&lines, "\n", lines.n ? "\n" : "");
    *n = lines.n;
    svec_destroy(&lines);
    return all;
}

static uint64_t
policy_cookie(const char *name)
{
    return kovs_cookie(KOVS_OWNER_POLICY, "x", name);
}

/* Gives namespace x the audit log annotation with 'value' (NULL: none).
 * Before fixture_compute(). */
static void
annotate_namespace(struct fixture *f, const char *value)
{
    static const char plain[] = "\"labels\":{\"team\":\"blue\"}}}";
    char *p = strstr(ds_cstr(&f->json), plain);
    ovs_assert(p);

    struct ds rest = DS_EMPTY_INITIALIZER;
    ds_put_cstr(&rest, p + strlen(plain));
    ds_truncate(&f->json, p - ds_cstr(&f->json));
    ds_put_format(&f->json, "\"labels\":{\"team\":\"blue\"},"
                  "\"annotations\":{\"kovs.io/enable-np-logging\":"
                  "\"%s\"}}}", value);
    ds_put_cstr(&f->json, ds_cstr(&rest));
    ds_destroy(&rest);
}

/* Adds pods a (on n1) and b (on n1) and policy x/web: b takes TCP 80
 * from a. */
static void
add_web_policy(struct fixture *f)
{
    add_pod(f, "a", "n1", "10.244.1.10", "a", 0);
    add_pod(f, "b", "n1", "10.244.1.11", "b", 0);
    add_json(f,
        "{\"kind\":\"NetworkPolicy\",\"metadata\":{\"namespace\":\"x\","
        " \"name\":\"web\"},\"spec\":{\"podSelector\":{\"matchLabels\":"
        " {\"app\":\"b\"}},\"ingress\":[{\"from\":[{\"podSelector\":"
        " {\"matchLabels\":{\"app\":\"a\"}}}],"
        " \"ports\":[{\"port\":80}]}]}}");
}

/* Returns how many of x/web's ingress flows send to the controller for
 * the audit log, and stores them in '*flows' (the caller frees it). */
static size_t
count_np_log_flows(const struct fixture *f, char **flows)
{
    size_t n;
    *flows = owner_flows(&f->ft, policy_cookie("web"),
                         KOVS_T_INGRESS_POLICY, &n);
    size_t count = 0;
    for (const char *p = *flows; (p = strstr(p, "controller(userdata=04"));
         p++) {
        count++;
    }
    return count;
}

/* A rule with 100 peer pods and 10 ports gives about 110 flows, not
 * 1000. */
static void
test_flow_count(void)
{
    struct fixture f;
    fixture_init(&f);
    add_pod(&f, "server", "n1", "10.244.1.10", "server", 0);
    for (int i = 0; i < 100; i++) {
        char *name = xasprintf("client%d", i);
        char *ip = xasprintf("10.244.2.%d", i + 10);
        add_pod(&f, name, "n2", ip, "client", 0);
        free(name);
        free(ip);
    }
    struct ds ports = DS_EMPTY_INITIALIZER;
    for (int i = 0; i < 10; i++) {
        ds_put_format(&ports, "%s{\"port\":%d}", i ? "," : "", 8000 + i * 7);
    }
    char *policy = xasprintf(
        "{\"kind\":\"NetworkPolicy\",\"metadata\":{\"namespace\":\"x\","
        " \"name\":\"p\"},\"spec\":{\"podSelector\":{\"matchLabels\":"
        " {\"app\":\"server\"}},\"ingress\":[{\"from\":[{\"podSelector\":"
        " {\"matchLabels\":{\"app\":\"client\"}}}],\"ports\":[%s]}]}}",
        ds_cstr(&ports));
    add_json(&f, policy);
    fixture_compute(&f);

    size_t n;
    char *s = owner_flows(&f.ft, policy_cookie("p"), KOVS_T_INGRESS_POLICY,
                          &n);
    /* 1 pod clause + 100 peers + 10 ports + 1 conj_id + 1 isolation. */
    CHECK(n == 113, "%"PRIuSIZE" flows:\n%s", n, s);
    free(s);
    free(policy);
    ds_destroy(&ports);
    fixture_destroy(&f);
}

/* Two policies with the same peer share one flow with two conjunctions. */
static void
test_shared_peer(void)
{
    struct fixture f;
    fixture_init(&f);
    add_pod(&f, "a", "n1", "10.244.1.10", "a", 0);
    add_pod(&f, "b", "n1", "10.244.1.11", "b", 0);
    add_pod(&f, "c", "n2", "10.244.2.10", "c", 0);
    static const char *const targets[] = { "a", "b" };
    for (int i = 0; i < 2; i++) {
        char *policy = xasprintf(
            "{\"kind\":\"NetworkPolicy\",\"metadata\":{\"namespace\":\"x\","
            " \"name\":\"to-%s\"},\"spec\":{\"podSelector\":{\"matchLabels\":"
            " {\"app\":\"%s\"}},\"ingress\":[{\"from\":[{\"podSelector\":"
            " {\"matchLabels\":{\"app\":\"c\"}}}],\"ports\":"
            " [{\"port\":80}]}]}}", targets[i], targets[i]);
        add_json(&f, policy);
        free(policy);
    }
    fixture_compute(&f);

    struct match m;
    match_init_catchall(&m);
    match_set_dl_type(&m, htons(ETH_TYPE_IP));
    match_set_nw_src(&m, htonl(0x0af4020a));
    match_set_packet_type(&m, htonl(PT_ETH));
    struct minimatch mm;
    minimatch_init(&mm, &m);
    struct ofpbuf ofpacts;
    ofpbuf_init(&ofpacts, 0);
    uint64_t cookie;
    bool found = flow_table_get_actions(
        &f.ft, KOVS_T_INGRESS_POLICY, KOVS_PRIO_POLICY, &mm,
        flow_key_hash(KOVS_T_INGRESS_POLICY, KOVS_PRIO_POLICY, &mm),
        &ofpacts, &cookie);
    size_t n_conj = 0;
    const struct ofpact *a;
    OFPACT_FOR_EACH (a, ofpacts.data, ofpacts.size) {
        n_conj += a->type == OFPACT_CONJUNCTION;
    }
    CHECK(found && n_conj == 2, "the peer flow has %"PRIuSIZE
          " conjunctions", n_conj);
    ofpbuf_uninit(&ofpacts);
    minimatch_destroy(&mm);
    fixture_destroy(&f);
}

/* policy_cidr_subtract() on IPv4 prefixes written as separate arrays of
 * networks and lengths.  The caller frees '*nets' and '*plens'. */
static size_t
subtract_ipv4(ovs_be32 net, unsigned int plen, const ovs_be32 *except_nets,
              const unsigned int *except_plens, size_t n_except, size_t max,
              ovs_be32 **nets, unsigned int **plens)
{
    struct k8s_cidr block = { in6_addr_mapped_ipv4(net), plen };
    struct k8s_cidr *excepts = xmalloc((n_except + 1) * sizeof *excepts);
    for (size_t i = 0; i < n_except; i++) {
        excepts[i] = (struct k8s_cidr) {
            in6_addr_mapped_ipv4(except_nets[i]), except_plens[i]
        };
    }

    struct k8s_cidr *prefixes;
    size_t n = policy_cidr_subtract(&block, excepts, n_except, max,
                                    &prefixes);
    *nets = xmalloc((n + 1) * sizeof **nets);
    *plens = xmalloc((n + 1) * sizeof **plens);
    for (size_t i = 0; i < n; i++) {
        CHECK(k8s_addr_is_ipv4(&prefixes[i].addr), "an IPv4 block gave an "
              "IPv6 prefix");
        (*nets)[i] = in6_addr_get_mapped_ipv4(&prefixes[i].addr);
        (*plens)[i] = prefixes[i].plen;
    }
    free(prefixes);
    free(excepts);
    return n;
}

/* Checks that 'nets'/'plens' (n of them) are sorted, do not overlap, and
 * cover exactly 'size' addresses; returns true if so. */
static bool
check_prefix_list(const ovs_be32 *nets, const unsigned int *plens, size_t n,
                  uint64_t size)
{
    uint64_t total = 0, next = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t start = ntohl(nets[i]);
        uint64_t len = UINT64_C(1) << (32 - plens[i]);
        CHECK(!(start & (len - 1)), IP_FMT"/%u has host bits",
              IP_ARGS(nets[i]), plens[i]);
        CHECK(start >= next, IP_FMT"/%u overlaps or precedes its "
              "predecessor", IP_ARGS(nets[i]), plens[i]);
        if (n_failures) {
            return false;
        }
        total += len;
        next = start + len;
    }
    CHECK(total == size, "the prefixes cover %"PRIu64" addresses, expected "
          "%"PRIu64, total, size);
    return !n_failures;
}

/* Returns true if two of the 'n' sorted prefixes are the halves of one
 * larger prefix, which a smallest list never has. */
static bool
has_mergeable_siblings(const ovs_be32 *nets, const unsigned int *plens,
                       size_t n)
{
    for (size_t i = 1; i < n; i++) {
        unsigned int p = plens[i];
        if (p && p == plens[i - 1]
            && (nets[i] ^ nets[i - 1]) == htonl(UINT32_C(1) << (32 - p))
            && !(nets[i - 1] & htonl(UINT32_C(1) << (32 - p)))) {
            return true;
        }
    }
    return false;
}

/* ipBlock except: against a brute-force reference on random inputs (every
 * address of the block, small blocks), the union of the prefixes is the
 * block less the excepts, no two overlap, and no two could be merged. */
static void
test_cidr_subtract(void)
{
    random_init();
    for (int iter = 0; iter < 300 && !n_failures; iter++) {
        unsigned int plen = 16 + random_range(17);
        ovs_be32 net = htonl(random_uint32()) & be32_prefix_mask(plen);
        size_t n_except = random_range(40);
        ovs_be32 *except_nets = xmalloc((n_except + 1)
                                        * sizeof *except_nets);
        unsigned int *except_plens = xmalloc((n_except + 1)
                                             * sizeof *except_plens);
        for (size_t i = 0; i < n_except; i++) {
            /* Mostly inside the block, at any depth (nested and repeated
             * ones included); now and then outside it or containing it;
             * host bits set on purpose. */
            unsigned int r = random_range(20);
            except_plens[i] = (r == 0 ? random_range(plen + 1)
                               : plen + random_range(33 - plen));
            except_nets[i] = (r == 1 ? htonl(random_uint32())
                              : net | (htonl(random_uint32())
                                       & ~be32_prefix_mask(plen)));
            if (r > 1 && i && random_range(4) == 0) {
                except_nets[i] = except_nets[i - 1];
            }
        }

        ovs_be32 *nets;
        unsigned int *plens;
        size_t n = subtract_ipv4(net, plen, except_nets, except_plens,
                                        n_except, SIZE_MAX, &nets,
                                        &plens);

        /* The reference: every address of the block, one by one. */
        uint64_t size = UINT64_C(1) << (32 - plen);
        uint64_t n_kept = 0;
        size_t j = 0;
        for (uint64_t a = 0; a < size && !n_failures; a++) {
            ovs_be32 ip = htonl(ntohl(net) + a);
            bool excepted = false;
            for (size_t i = 0; i < n_except && !excepted; i++) {
                excepted = !((ip ^ except_nets[i])
                             & be32_prefix_mask(except_plens[i]));
            }
            n_kept += !excepted;
            /* The output is sorted: advance to the prefix that could hold
             * 'ip'. */
            while (j < n && ntohl(nets[j])
                   + (UINT64_C(1) << (32 - plens[j])) <= ntohl(ip)) {
                j++;
            }
            bool covered = (j < n && !((ip ^ nets[j])
                                       & be32_prefix_mask(plens[j])));
            CHECK(covered == !excepted, IP_FMT" in "IP_FMT"/%u: covered %d, "
                  "excepted %d", IP_ARGS(ip), IP_ARGS(net), plen, covered,
                  excepted);
        }
        check_prefix_list(nets, plens, n, n_kept);
        CHECK(!has_mergeable_siblings(nets, plens, n), "two prefixes of "
              IP_FMT"/%u less %"PRIuSIZE" excepts could be one",
              IP_ARGS(net), plen, n_except);
        free(nets);
        free(plens);
        free(except_nets);
        free(except_plens);
    }

    /* 0.0.0.0/0 less nothing, and less itself. */
    ovs_be32 *nets;
    unsigned int *plens;
    size_t n = subtract_ipv4(0, 0, NULL, NULL, 0, 10, &nets, &plens);
    CHECK(n == 1 && plens[0] == 0, "0.0.0.0/0 gave %"PRIuSIZE" prefixes",
          n);
    free(nets);
    free(plens);
    ovs_be32 all = 0;
    unsigned int all_plen = 0;
    n = subtract_ipv4(0, 0, &all, &all_plen, 1, 10, &nets, &plens);
    CHECK(n == 0, "0.0.0.0/0 less itself gave %"PRIuSIZE" prefixes", n);
    free(nets);
    free(plens);

    /* 0.0.0.0/0 less 10.0.0.1: 32 prefixes; with at most 5, 6 come
     * back. */
    ovs_be32 one = htonl(0x0a000001);
    unsigned int one_plen = 32;
    n = subtract_ipv4(0, 0, &one, &one_plen, 1, 100, &nets, &plens);
    CHECK(n == 32, "0.0.0.0/0 less one address: %"PRIuSIZE" prefixes", n);
    check_prefix_list(nets, plens, n, (UINT64_C(1) << 32) - 1);
    free(nets);
    free(plens);
    n = subtract_ipv4(0, 0, &one, &one_plen, 1, 5, &nets, &plens);
    CHECK(n == 6, "with at most 5 prefixes: %"PRIuSIZE" returned", n);
    free(nets);
    free(plens);
}

/* An IPv6 prefix written as text, for the tests below. */
static struct k8s_cidr
cidr6(const char *addr, unsigned int plen)
{
    struct k8s_cidr c = { .plen = plen };
    ovs_assert(ipv6_parse(addr, &c.addr));
    return c;
}

/* Returns true if one of the 'n' prefixes holds 'addr'. */
static bool
prefixes_cover(const struct k8s_cidr *prefixes, size_t n,
               const struct in6_addr *addr)
{
    for (size_t i = 0; i < n; i++) {
        struct in6_addr mask = ipv6_create_mask(prefixes[i].plen);
        struct in6_addr net = ipv6_addr_bitand(addr, &mask);
        if (ipv6_addr_equals(&net, &prefixes[i].addr)) {
            return true;
        }
    }
    return false;
}

/* ipBlock except over IPv6: each random IPv4 case of test_cidr_subtract()
 * (checked there against every address) gives the same prefixes moved into
 * fd00:1234:5678::/96; then the edges: ::/0, /128, an except equal to the
 * cidr, excepts of the other family, and an IPv6 block never giving an
 * IPv4-mapped prefix. */
static void
test_cidr_subtract_ipv6(void)
{
    struct k8s_cidr base = cidr6("fd00:1234:5678::", 96);
    random_init();
    for (int iter = 0; iter < 300 && !n_failures; iter++) {
        unsigned int plen = random_range(33);
        ovs_be32 net = htonl(random_uint32()) & be32_prefix_mask(plen);
        size_t n_except = random_range(40);
        ovs_be32 *except_nets = xmalloc((n_except + 1)
                                        * sizeof *except_nets);
        unsigned int *except_plens = xmalloc((n_except + 1)
                                             * sizeof *except_plens);
        struct k8s_cidr *excepts6 = xmalloc((n_except + 1)
                                            * sizeof *excepts6);
        for (size_t i = 0; i < n_except; i++) {
            except_plens[i] = plen + random_range(33 - plen);
            except_nets[i] = net | (htonl(random_uint32())
                                    & ~be32_prefix_mask(plen));
            excepts6[i] = base;
            memcpy(&excepts6[i].addr.s6_addr[12], &except_nets[i], 4);
            excepts6[i].plen = 96 + except_plens[i];
        }
        struct k8s_cidr block6 = base;
        memcpy(&block6.addr.s6_addr[12], &net, 4);
        block6.plen = 96 + plen;

        ovs_be32 *nets;
        unsigned int *plens;
        size_t n = subtract_ipv4(net, plen, except_nets, except_plens,
                                 n_except, SIZE_MAX, &nets, &plens);
        struct k8s_cidr *prefixes;
        size_t n6 = policy_cidr_subtract(&block6, excepts6, n_except,
                                         SIZE_MAX, &prefixes);
        CHECK(n6 == n, "IPv6 gave %"PRIuSIZE" prefixes, IPv4 %"PRIuSIZE,
              n6, n);
        for (size_t i = 0; i < n && i < n6 && !n_failures; i++) {
            struct k8s_cidr expected = base;
            memcpy(&expected.addr.s6_addr[12], &nets[i], 4);
            expected.plen = 96 + plens[i];
            CHECK(ipv6_addr_equals(&prefixes[i].addr, &expected.addr)
                  && prefixes[i].plen == expected.plen,
                  "prefix %"PRIuSIZE" differs from "IP_FMT"/%u", i,
                  IP_ARGS(nets[i]), plens[i]);
        }
        free(prefixes);
        free(nets);
        free(plens);
        free(except_nets);
        free(except_plens);
        free(excepts6);
    }

    struct k8s_cidr *p;
    size_t n;
    struct in6_addr addr;

    /* ::/0 less nothing, and less itself. */
    struct k8s_cidr all = cidr6("::", 0);
    n = policy_cidr_subtract(&all, NULL, 0, 10, &p);
    CHECK(n == 1 && p[0].plen == 0 && ipv6_addr_equals(&p[0].addr,
                                                        &in6addr_any),
          "::/0 gave %"PRIuSIZE" prefixes", n);
    free(p);
    n = policy_cidr_subtract(&all, &all, 1, 10, &p);
    CHECK(n == 0, "::/0 less itself gave %"PRIuSIZE" prefixes", n);
    free(p);

    /* ::/0 less one address: 128 prefixes, /1 to /128, none holding it;
     * with at most 5, 6 come back. */
    struct k8s_cidr one = cidr6("fd00::1", 128);
    n = policy_cidr_subtract(&all, &one, 1, 1000, &p);
    CHECK(n == 128, "::/0 less one address: %"PRIuSIZE" prefixes", n);
    CHECK(!prefixes_cover(p, n, &one.addr), "fd00::1 is covered");
    ovs_assert(ipv6_parse("fd00::2", &addr));
    CHECK(prefixes_cover(p, n, &addr), "fd00::2 is not covered");
    for (size_t i = 0; i < n; i++) {
        CHECK(!k8s_addr_is_ipv4(&p[i].addr), "an IPv4-mapped prefix");
    }
    free(p);
    n = policy_cidr_subtract(&all, &one, 1, 5, &p);
    CHECK(n == 6, "with at most 5 prefixes: %"PRIuSIZE" returned", n);
    free(p);

    /* A /128 less nothing is itself; less itself (except == cidr), or a
     * /64 less itself, nothing. */
    n = policy_cidr_subtract(&one, NULL, 0, 10, &p);
    CHECK(n == 1 && p[0].plen == 128
          && ipv6_addr_equals(&p[0].addr, &one.addr),
          "fd00::1/128 gave %"PRIuSIZE" prefixes", n);
    free(p);
    n = policy_cidr_subtract(&one, &one, 1, 10, &p);
    CHECK(n == 0, "fd00::1/128 less itself gave %"PRIuSIZE" prefixes", n);
    free(p);
    struct k8s_cidr net64 = cidr6("fd00:10:244:1::", 64);
    n = policy_cidr_subtract(&net64, &net64, 1, 10, &p);
    CHECK(n == 0, "a /64 less itself gave %"PRIuSIZE" prefixes", n);
    free(p);

    /* A /62 less one of its /64s and an address of another: the exact
     * prefixes. */
    struct k8s_cidr block = cidr6("fd00:10:244::", 62);
    struct k8s_cidr excepts[] = {
        cidr6("fd00:10:244:1::", 64), cidr6("fd00:10:244:3::", 64),
    };
    n = policy_cidr_subtract(&block, excepts, 2, 10, &p);
    struct k8s_cidr expected[] = {
        cidr6("fd00:10:244::", 64), cidr6("fd00:10:244:2::", 64),
    };
    CHECK(n == 2, "fd00:10:244::/62 less two /64s: %"PRIuSIZE" prefixes",
          n);
    for (size_t i = 0; i < n && i < 2; i++) {
        CHECK(ipv6_addr_equals(&p[i].addr, &expected[i].addr)
              && p[i].plen == 64, "prefix %"PRIuSIZE" is wrong", i);
    }
    free(p);

    /* Excepts of the other family change nothing, both ways. */
    struct k8s_cidr ipv4_all = { in6_addr_mapped_ipv4(0), 0 };
    n = policy_cidr_subtract(&all, &ipv4_all, 1, 10, &p);
    CHECK(n == 1 && p[0].plen == 0 && !k8s_addr_is_ipv4(&p[0].addr),
          "::/0 less 0.0.0.0/0 gave %"PRIuSIZE" prefixes", n);
    free(p);
    struct k8s_cidr ten = { in6_addr_mapped_ipv4(htonl(0x0a000000)), 8 };
    struct k8s_cidr fd8 = cidr6("fd00::", 8);
    n = policy_cidr_subtract(&ten, &fd8, 1, 10, &p);
    CHECK(n == 1 && p[0].plen == 8 && k8s_addr_is_ipv4(&p[0].addr),
          "10.0.0.0/8 less fd00::/8 gave %"PRIuSIZE" prefixes", n);
    free(p);

    /* ::/0 less ::fffe:0:0/96: what follows starts at ::ffff:0:0, the
     * IPv4-mapped addresses, which an IPv6 block leaves out. */
    struct k8s_cidr before_mapped = cidr6("::fffe:0:0", 96);
    n = policy_cidr_subtract(&all, &before_mapped, 1, 1000, &p);
    for (size_t i = 0; i < n; i++) {
        CHECK(!k8s_addr_is_ipv4(&p[i].addr), "an IPv4-mapped prefix");
    }
    ovs_assert(ipv6_parse("::1:0:0:0", &addr));
    CHECK(prefixes_cover(p, n, &addr), "::1:0:0:0 is not covered");
    CHECK(!prefixes_cover(p, n, &before_mapped.addr), "::fffe:0:0 is "
          "covered");
    free(p);
}

/* 'n' distinct scattered addresses of 10.0.0.0/8, the same every run. */
static ovs_be32 *
scattered_addresses(size_t n)
{
    ovs_be32 *ips = xmalloc(n * sizeof *ips);
    uint32_t step = (UINT32_C(1) << 24) / n;
    uint32_t x = 12345;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245 + 12345;
        ips[i] = htonl(0x0a000000 | (i * step + (x >> 8) % step));
    }
    return ips;
}

/* 30,000 scattered /32 excepts in a /8 (one every 559 addresses or so):
 * the result is exactly the block less those addresses, in a number of
 * prefixes that only the excepts' positions determine. */
static void
test_cidr_subtract_scale(void)
{
    enum { N = 30000 };
    ovs_be32 *excepts = scattered_addresses(N);
    unsigned int *except_plens = xmalloc(N * sizeof *except_plens);
    for (size_t i = 0; i < N; i++) {
        except_plens[i] = 32;
    }
    /* In reverse order, so that sorting them is part of the work. */
    for (size_t i = 0; i < N / 2; i++) {
        ovs_be32 tmp = excepts[i];
        excepts[i] = excepts[N - 1 - i];
        excepts[N - 1 - i] = tmp;
    }

    ovs_be32 *nets;
    unsigned int *plens;
    size_t n = subtract_ipv4(htonl(0x0a000000), 8, excepts,
                                    except_plens, N, SIZE_MAX, &nets,
                                    &plens);
    check_prefix_list(nets, plens, n, (UINT64_C(1) << 24) - N);
    CHECK(!has_mergeable_siblings(nets, plens, n), "two prefixes could be "
          "one");

    /* The expected number: the fewest prefixes of each gap between two
     * excepted addresses, counted from the sizes and alignment of the
     * gaps alone. */
    size_t expected = 0;
    uint64_t start = 0x0a000000;
    for (size_t i = N; i-- > 0;) {
        uint64_t end = ntohl(excepts[i]);     /* Exclusive. */
        while (start < end) {
            uint64_t len = start & -start;
            while (start + len > end) {
                len >>= 1;
            }
            start += len;
            expected++;
        }
        start = end + 1;
    }
    for (uint64_t end = 0x0b000000; start < end; ) {
        uint64_t len = start & -start;
        while (start + len > end) {
            len >>= 1;
        }
        start += len;
        expected++;
    }
    CHECK(n == expected, "%"PRIuSIZE" prefixes, expected %"PRIuSIZE,
          n, expected);
    CHECK(n > 200000, "only %"PRIuSIZE" prefixes", n);

    /* Every excepted address is left out. */
    for (size_t i = 0, j = 0; i < N; i++) {
        ovs_be32 ip = excepts[N - 1 - i];
        while (j < n && ntohl(nets[j]) + (UINT64_C(1) << (32 - plens[j]))
                        <= ntohl(ip)) {
            j++;
        }
        if (j < n && !((ip ^ nets[j]) & be32_prefix_mask(plens[j]))) {
            CHECK(false, IP_FMT" is excepted but covered", IP_ARGS(ip));
            break;
        }
    }
    free(nets);
    free(plens);
    free(excepts);
    free(except_plens);
}

/* Adds to 'f' policy x/NAME selecting app=server with one ingress rule per
 * element of 'rules' (a JSON array's contents of peers each), all on TCP
 * port 80. */
static void
add_ingress_policy(struct fixture *f, const char *name,
                   const char *const *rules, size_t n_rules)
{
    struct ds json = DS_EMPTY_INITIALIZER;
    ds_put_format(&json,
        "{\"kind\":\"NetworkPolicy\",\"metadata\":{\"namespace\":\"x\","
        " \"name\":\"%s\"},\"spec\":{\"podSelector\":{\"matchLabels\":"
        " {\"app\":\"server\"}},\"ingress\":[", name);
    for (size_t i = 0; i < n_rules; i++) {
        ds_put_format(&json, "%s{\"from\":[%s],\"ports\":[{\"port\":80}]}",
                      i ? "," : "", rules[i]);
    }
    ds_put_cstr(&json, "]}}");
    add_json(f, ds_cstr(&json));
    ds_destroy(&json);
}

/* An ipBlock peer of 10.0.0.0/8 less the first 'n' scattered addresses. */
static char *
scattered_ip_block(size_t n)
{
    ovs_be32 *ips = scattered_addresses(n);
    struct ds s = DS_EMPTY_INITIALIZER;
    ds_put_cstr(&s, "{\"ipBlock\":{\"cidr\":\"10.0.0.0/8\",\"except\":[");
    for (size_t i = 0; i < n; i++) {
        ds_put_format(&s, "%s\""IP_FMT"/32\"", i ? "," : "",
                      IP_ARGS(ips[i]));
    }
    ds_put_cstr(&s, "]}}");
    free(ips);
    return ds_steal_cstr(&s);
}

static size_t
count_lines_with(const char *s, const char *needle)
{
    size_t n = 0;
    for (const char *p = s; (p = strstr(p, needle)) != NULL;
         p += strlen(needle)) {
        n++;
    }
    return n;
}

static void
check_warnings(const struct flow_table *ft, const char *const *expected,
               size_t n_expected)
{
    CHECK(sset_count(&ft->warnings) == n_expected, "%"PRIuSIZE" warnings, "
          "expected %"PRIuSIZE, sset_count(&ft->warnings), n_expected);
    for (size_t i = 0; i < n_expected; i++) {
        CHECK(sset_contains(&ft->warnings, expected[i]),
              "missing warning: %s", expected[i]);
    }
    const char *w;
    SSET_FOR_EACH (w, &ft->warnings) {
        fprintf(stderr, "warning: %s\n", w);
    }
}

/* On a dual-stack node: a dual-stack pod that a selector peer selects is
 * matched by both of its addresses (ingress and egress with named ports);
 * an IPv6 ipBlock with except becomes exactly its IPv6 prefixes; an IPv4
 * ipBlock gives no IPv6 peer; ports match TCP over both families.  On an
 * IPv4-only node, no IPv6 flow at all. */
static void
test_ipv6_peers(void)
{
    for (int dual = 0; dual < 2; dual++) {
        struct fixture f;
        if (dual) {
            fixture_init_dual_stack(&f);
        } else {
            fixture_init(&f);
        }
        add_pod(&f, "server", "n1", "10.244.1.10,fd00:10:244:1::a",
                "server", 0);
        add_pod(&f, "client", "n2", "10.244.2.10,fd00:10:244:2::a",
                "client", 8080);
        const char *sel[] = {
            "{\"podSelector\":{\"matchLabels\":{\"app\":\"client\"}}}",
        };
        add_ingress_policy(&f, "sel", sel, 1);
        const char *block6[] = {
            "{\"ipBlock\":{\"cidr\":\"fd00:10:244::/62\","
            " \"except\":[\"fd00:10:244:1::/64\"]}}",
        };
        add_ingress_policy(&f, "block6", block6, 1);
        const char *block4[] = {
            "{\"ipBlock\":{\"cidr\":\"192.168.0.0/16\"}}",
        };
        add_ingress_policy(&f, "block4", block4, 1);
        add_json(&f,
            "{\"kind\":\"NetworkPolicy\",\"metadata\":{\"namespace\":\"x\","
            " \"name\":\"egress\"},\"spec\":{\"podSelector\":{\"matchLabels\":"
            " {\"app\":\"server\"}},\"egress\":[{\"to\":[{\"podSelector\":"
            " {\"matchLabels\":{\"app\":\"client\"}}}],"
            " \"ports\":[{\"port\":\"http\"}]}]}}");
        fixture_compute(&f);

        size_t n;
        char *s = owner_flows(&f.ft, policy_cookie("sel"),
                              KOVS_T_INGRESS_POLICY, &n);
        /* Pod clause, peers, ports, conj_id, isolation. */
        CHECK(n == (dual ? 7 : 5), "dual %d: %"PRIuSIZE" flows:\n%s", dual,
              n, s);
        CHECK(strstr(s, "ip,nw_src=10.244.2.10 ")
              && strstr(s, "tcp,tp_dst=80 "),
              "dual %d: no IPv4 peer or port:\n%s", dual, s);
        CHECK(!dual == !(strstr(s, "ipv6,ipv6_src=fd00:10:244:2::a ")
                         && strstr(s, "tcp6,tp_dst=80 ")),
              "dual %d: IPv6 peer and port wrong:\n%s", dual, s);
        free(s);

        s = owner_flows(&f.ft, policy_cookie("block6"),
                        KOVS_T_INGRESS_POLICY, &n);
        if (dual) {
            CHECK(n == 7 && strstr(s, "ipv6_src=fd00:10:244::/64 ")
                  && strstr(s, "ipv6_src=fd00:10:244:2::/63 "),
                  "%"PRIuSIZE" flows:\n%s", n, s);
        } else {
            /* The IPv6 ipBlock allows nothing here: isolation only. */
            CHECK(n == 1 && strstr(s, "actions=drop"), "%"PRIuSIZE
                  " flows:\n%s", n, s);
        }
        free(s);

        s = owner_flows(&f.ft, policy_cookie("block4"),
                        KOVS_T_INGRESS_POLICY, &n);
        CHECK(n == (dual ? 6 : 5) && strstr(s, "nw_src=192.168.0.0/16 ")
              && !strstr(s, "ipv6_src"), "dual %d: %"PRIuSIZE" flows:\n%s",
              dual, n, s);
        free(s);

        s = owner_flows(&f.ft, policy_cookie("egress"),
                        KOVS_T_EGRESS_POLICY, &n);
        CHECK(strstr(s, "ip,nw_dst=10.244.2.10 ")
              && !dual == !strstr(s, "ipv6,ipv6_dst=fd00:10:244:2::a ")
              && !dual == !strstr(s, "tcp6,tp_dst=8080 "),
              "dual %d: egress named port:\n%s", dual, s);
        free(s);
        fixture_destroy(&f);
    }
}

/* An ipBlock with more excepts than kovs accepts (30,000 scattered
 * addresses) allows nothing, with a warning naming the policy and the
 * field; the rule's other peer, the policy's other rule and the isolation
 * of the selected pod stay. */
static void
test_ip_block_too_many_excepts(void)
{
    struct fixture f;
    fixture_init(&f);
    add_pod(&f, "server", "n1", "10.244.1.10", "server", 0);
    add_pod(&f, "client", "n2", "10.244.2.10", "client", 0);
    char *block = scattered_ip_block(30000);
    char *rule0 = xasprintf("%s,{\"podSelector\":{\"matchLabels\":"
                            "{\"app\":\"client\"}}}", block);
    const char *rules[] = {
        rule0,
        "{\"ipBlock\":{\"cidr\":\"192.168.0.0/16\","
        " \"except\":[\"192.168.1.0/24\"]}}",
    };
    add_ingress_policy(&f, "big", rules, ARRAY_SIZE(rules));
    fixture_compute(&f);

    size_t n;
    char *s = owner_flows(&f.ft, policy_cookie("big"), KOVS_T_INGRESS_POLICY,
                          &n);
    CHECK(!strstr(s, "nw_src=10.0.0.0/") && !strstr(s, "nw_src=10.128"),
          "the ipBlock that kovs cannot express allows something:\n%.2000s",
          s);
    CHECK(strstr(s, "nw_src=10.244.2.10 "), "the rule's pod peer is "
          "missing:\n%s", s);
    CHECK(count_lines_with(s, "nw_src=192.168.") == 8, "the second rule's "
          "ipBlock should be 8 prefixes:\n%s", s);
    CHECK(strstr(s, "priority=100 reg1=0xa actions=drop"), "the server is "
          "not isolated:\n%s", s);
    /* Isolation; the pod and port clauses that both rules share; the
     * first rule's pod peer and conj_id; the second's 8 prefixes and
     * conj_id. */
    CHECK(n == 1 + 2 + (1 + 1) + (8 + 1), "%"PRIuSIZE
          " flows:\n%s", n, s);
    const char *warnings[] = {
        "NetworkPolicy x/big: spec.ingress[0].from[0].ipBlock: except has "
        "30000 entries, more than the 10000 kovs accepts: this peer allows "
        "nothing",
    };
    check_warnings(&f.ft, warnings, ARRAY_SIZE(warnings));

    /* The warning goes with the policy's flows. */
    flow_table_remove_owner(&f.ft, policy_cookie("big"));
    CHECK(sset_is_empty(&f.ft.warnings), "the warning outlived the "
          "policy's flows");
    free(s);
    free(rule0);
    free(block);
    fixture_destroy(&f);
}

/* Within the limits, 3,000 scattered excepts are what they say: one flow
 * per prefix of the rest.  Beyond the limit of flows per policy, a rule
 * whose peers are each within it but together are not allows nothing, and
 * the next rule still takes effect. */
static void
test_policy_flow_limit(void)
{
    struct fixture f;
    fixture_init(&f);
    add_pod(&f, "server", "n1", "10.244.1.10", "server", 0);
    char *block = scattered_ip_block(3000);
    char *two_blocks = xasprintf("%s,%s", block,
                                 "{\"ipBlock\":{\"cidr\":\"11.0.0.0/8\"}}");
    const char *rules[] = { two_blocks };
    add_ingress_policy(&f, "fits", rules, ARRAY_SIZE(rules));
    fixture_compute(&f);

    ovs_be32 *ips = scattered_addresses(3000);
    unsigned int *plens32 = xmalloc(3000 * sizeof *plens32);
    for (size_t i = 0; i < 3000; i++) {
        plens32[i] = 32;
    }
    ovs_be32 *nets;
    unsigned int *plens;
    size_t n_prefixes = subtract_ipv4(htonl(0x0a000000), 8, ips,
                                             plens32, 3000, SIZE_MAX,
                                             &nets, &plens);
    free(nets);
    free(plens);
    free(ips);
    free(plens32);

    size_t n;
    char *s = owner_flows(&f.ft, policy_cookie("fits"),
                          KOVS_T_INGRESS_POLICY, &n);
    CHECK(n == 1 + 1 + n_prefixes + 1 + 1 + 1, "%"PRIuSIZE" flows for %"
          PRIuSIZE" prefixes", n, n_prefixes);
    CHECK(n + 3 <= POLICY_MAX_FLOWS && 3 * n_prefixes + 3 > POLICY_MAX_FLOWS,
          "%"PRIuSIZE" prefixes: the test needs a block that fits once but "
          "not three times", n_prefixes);
    check_warnings(&f.ft, NULL, 0);
    free(s);
    fixture_destroy(&f);

    /* The same block three times in one rule (each distinct: /32s added
     * to 12.0.0.0/8 and 13.0.0.0/8 copies) is more than fits. */
    fixture_init(&f);
    add_pod(&f, "server", "n1", "10.244.1.10", "server", 0);
    struct ds peers = DS_EMPTY_INITIALIZER;
    for (int k = 0; k < 3; k++) {
        char *b = scattered_ip_block(3000);
        /* 10.x.y.z becomes 1K.x.y.z: the same block elsewhere. */
        for (char *p = b; k && (p = strstr(p, "\"10.")) != NULL; p++) {
            p[2] = "023"[k];
        }
        ds_put_format(&peers, "%s%s", k ? "," : "", b);
        free(b);
    }
    const char *rules2[] = {
        ds_cstr(&peers),
        "{\"ipBlock\":{\"cidr\":\"192.168.0.0/16\"}}",
    };
    add_ingress_policy(&f, "too-big", rules2, ARRAY_SIZE(rules2));
    fixture_compute(&f);
    s = owner_flows(&f.ft, policy_cookie("too-big"), KOVS_T_INGRESS_POLICY,
                    &n);
    CHECK(n == 1 + (1 + 1 + 1 + 1), "%"PRIuSIZE" flows: only isolation and "
          "the second rule expected", n);
    CHECK(strstr(s, "nw_src=192.168.0.0/16"), "the second rule is "
          "missing:\n%.2000s", s);
    char *warning = xasprintf(
        "NetworkPolicy x/too-big: spec.ingress[0]: %"PRIuSIZE" flows, more "
        "than the 65536 the policy has left of kovs's limit of 65536 per "
        "policy: this rule allows nothing", 3 * n_prefixes + 3);
    const char *warnings[] = { warning };
    check_warnings(&f.ft, warnings, ARRAY_SIZE(warnings));
    free(warning);
    free(s);
    ds_destroy(&peers);
    free(two_blocks);
    free(block);
    fixture_destroy(&f);
}

/* endPort ranges as value/mask pairs match exactly the range. */
static void
test_port_ranges(void)
{
    static const uint16_t ranges[][2] = {
        { 80, 80 }, { 80, 90 }, { 1, 65535 }, { 0, 65535 }, { 1024, 2047 },
        { 1023, 2048 }, { 32000, 32767 }, { 65535, 65535 }, { 7, 9 },
    };
    for (size_t r = 0; r < ARRAY_SIZE(ranges); r++) {
        uint16_t *values, *masks;
        size_t n = policy_port_range_masks(ranges[r][0], ranges[r][1],
                                           &values, &masks);
        for (uint32_t port = 0; port <= 65535; port++) {
            int matches = 0;
            for (size_t i = 0; i < n; i++) {
                matches += (port & masks[i]) == values[i];
            }
            bool in = port >= ranges[r][0] && port <= ranges[r][1];
            if (matches != in) {
                CHECK(false, "range %d-%d: port %"PRIu32" matches %d "
                      "entries", ranges[r][0], ranges[r][1], port, matches);
                break;
            }
        }
        CHECK(n <= 32, "range %d-%d takes %"PRIuSIZE" entries",
              ranges[r][0], ranges[r][1], n);
        free(values);
        free(masks);
    }
}

/* Named ports resolve per pod: pods with different numbers for "http" get
 * separate conjunctions, a pod without it gets none but stays isolated. */
static void
test_named_ports(void)
{
    struct fixture f;
    fixture_init(&f);
    add_pod(&f, "a", "n1", "10.244.1.10", "web", 8080);
    add_pod(&f, "b", "n1", "10.244.1.11", "web", 9090);
    add_pod(&f, "c", "n1", "10.244.1.12", "web", 0);
    add_json(&f,
        "{\"kind\":\"NetworkPolicy\",\"metadata\":{\"namespace\":\"x\","
        " \"name\":\"named\"},\"spec\":{\"podSelector\":{},"
        " \"ingress\":[{\"ports\":[{\"port\":\"http\"}]}]}}");
    fixture_compute(&f);

    size_t n;
    char *s = owner_flows(&f.ft, policy_cookie("named"),
                          KOVS_T_INGRESS_POLICY, &n);
    CHECK(strstr(s, "tcp,tp_dst=8080") && strstr(s, "tcp,tp_dst=9090"),
          "both numbers expected in\n%s", s);
    /* 3 isolation drops, 2 x (pod clause + port clause + conj_id). */
    CHECK(n == 9, "%"PRIuSIZE" flows:\n%s", n, s);
    free(s);
    fixture_destroy(&f);
}

/* An egress rule with a named port whose peers are no pods (a selector
 * that matches none, ipBlock peers only, a namespace that does not exist)
 * allows nothing: the pod stays isolated, and other policies still get
 * their flows. */
static void
test_named_port_without_peer_pods(void)
{
    static const char *const peers[] = {
        "{\"podSelector\":{\"matchLabels\":{\"app\":\"none\"}}}",
        "{\"ipBlock\":{\"cidr\":\"192.0.2.0/24\"}}",
        "{\"namespaceSelector\":{\"matchLabels\":"
        "{\"kubernetes.io/metadata.name\":\"missing\"}}}",
    };

    for (size_t i = 0; i < ARRAY_SIZE(peers); i++) {
        struct fixture f;
        fixture_init(&f);
        add_pod(&f, "client", "n1", "10.244.1.10", "client", 0);
        add_pod(&f, "web", "n2", "10.244.2.10", "web", 8080);
        char *json = xasprintf(
            "{\"kind\":\"NetworkPolicy\",\"metadata\":{\"namespace\":"
            "\"x\",\"name\":\"p\"},\"spec\":{\"podSelector\":{},"
            "\"policyTypes\":[\"Egress\"],\"egress\":[{\"to\":[%s],"
            "\"ports\":[{\"port\":\"http\"}]}]}}", peers[i]);
        add_json(&f, json);
        free(json);
        add_json(&f,
            "{\"kind\":\"NetworkPolicy\",\"metadata\":{\"namespace\":"
            "\"x\",\"name\":\"other\"},\"spec\":{\"podSelector\":{},"
            "\"ingress\":[{\"ports\":[{\"port\":80}]}]}}");
        fixture_compute(&f);

        size_t n;
        char *s = owner_flows(&f.ft, policy_cookie("p"),
                              KOVS_T_EGRESS_POLICY, &n);
        CHECK(n == 1 && strstr(s, "actions=drop"),
              "peer %s: expected only the isolation drop, got\n%s",
              peers[i], s);
        free(s);
        s = owner_flows(&f.ft, policy_cookie("other"),
                        KOVS_T_INGRESS_POLICY, &n);
        CHECK(strstr(s, "tp_dst=80"), "policy x/other lost its rule:\n%s",
              s);
        free(s);
        fixture_destroy(&f);
    }
}

/* policyTypes: a policy with only egress rules and no policyTypes isolates
 * both ways; one with policyTypes [Egress] only egress. */
static void
test_policy_types(void)
{
    struct fixture f;
    fixture_init(&f);
    add_pod(&f, "a", "n1", "10.244.1.10", "a", 0);
    add_json(&f,
        "{\"kind\":\"NetworkPolicy\",\"metadata\":{\"namespace\":\"x\","
        " \"name\":\"egress-only\"},\"spec\":{\"podSelector\":{},"
        " \"policyTypes\":[\"Egress\"]}}");
    add_json(&f,
        "{\"kind\":\"NetworkPolicy\",\"metadata\":{\"namespace\":\"x\","
        " \"name\":\"defaulted\"},\"spec\":{\"podSelector\":{},"
        " \"egress\":[{\"ports\":[{\"port\":53,\"protocol\":\"UDP\"}]}]}}");
    fixture_compute(&f);

    size_t n_in, n_eg;
    free(owner_flows(&f.ft, policy_cookie("egress-only"),
                     KOVS_T_INGRESS_POLICY, &n_in));
    free(owner_flows(&f.ft, policy_cookie("egress-only"),
                     KOVS_T_EGRESS_POLICY, &n_eg));
    CHECK(n_in == 0 && n_eg == 1, "egress-only: %"PRIuSIZE" ingress, %"
          PRIuSIZE" egress flows", n_in, n_eg);

    free(owner_flows(&f.ft, policy_cookie("defaulted"),
                     KOVS_T_INGRESS_POLICY, &n_in));
    char *s = owner_flows(&f.ft, policy_cookie("defaulted"),
                          KOVS_T_EGRESS_POLICY, &n_eg);
    CHECK(n_in == 1, "defaulted: ingress isolation expected, %"PRIuSIZE
          " flows", n_in);
    CHECK(strstr(s, "udp,tp_dst=53"), "UDP 53 rule missing in\n%s", s);
    CHECK(!strstr(s, "tcp"), "a UDP rule opened TCP:\n%s", s);
    free(s);
    fixture_destroy(&f);
}

/* Relabelling, adding and deleting peer pods. */

/* A cluster kept as the JSON of each object, so that after every change a
 * fresh model can be decoded from the raw objects and computed whole. */
struct peer_fixture {
    struct shash objects;           /* "Kind/ns/name" -> JSON. */
    struct k8s_cluster cluster;     /* Updated change by change. */
    struct shash pod_ports;
    struct shash tunnel_ports;
    struct flows_input in;
    struct flow_table ft;
    int next_ofport;
};

static char *
peer_fixture_list(const struct peer_fixture *f)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    ds_put_cstr(&s, "{\"kind\":\"List\",\"items\":[");
    const struct shash_node **nodes = shash_sort(&f->objects);
    for (size_t i = 0; i < shash_count(&f->objects); i++) {
        ds_put_format(&s, "%s%s", i ? "," : "", (char *) nodes[i]->data);
    }
    free(nodes);
    ds_put_cstr(&s, "]}");
    return ds_steal_cstr(&s);
}

static void
peer_fixture_decode(const struct peer_fixture *f, struct k8s_cluster *c)
{
    struct svec warnings = SVEC_EMPTY_INITIALIZER;
    char *error = NULL;
    char *json = peer_fixture_list(f);
    k8s_cluster_init(c);
    int retval = k8s_decode_list(json, strlen(json), c, &warnings, &error);
    ovs_assert(!retval && !warnings.n);
    svec_destroy(&warnings);
    k8s_cluster_clear_changes(c);
    free(json);
}

/* Every flow the switch would get, as text, with its cookie. */
static void
switch_flows(const struct flow_table *ft, struct sset *flows)
{
    const struct desired_flow *d;
    FLOW_TABLE_FOR_EACH (d, ft) {
        struct ofpbuf ofpacts;
        uint64_t cookie;
        ofpbuf_init(&ofpacts, 0);
        flow_table_get_actions(ft, d->table_id, d->priority, &d->match,
                               flow_key_hash(d->table_id, d->priority,
                                             &d->match), &ofpacts, &cookie);
        struct ds s = DS_EMPTY_INITIALIZER;
        ds_put_format(&s, "cookie=%#"PRIx64" ", cookie);
        flow_table_format_flow(d->table_id, d->priority, &d->match,
                               ofpacts.data, ofpacts.size, &s);
        sset_add_and_free(flows, ds_steal_cstr(&s));
        ofpbuf_uninit(&ofpacts);
    }
}

/* Adds or replaces object 'json' of 'kind' ns/name.  Before
 * peer_fixture_start() it only joins the objects; after, it is also a
 * change of the model. */
static void
peer_fixture_put(struct peer_fixture *f, const char *kind, const char *ns,
                 const char *name, const char *json)
{
    char *key = xasprintf("%s/%s/%s", kind, ns, name);
    free(shash_replace_nocopy(&f->objects, key, xstrdup(json)));
    if (f->in.cluster) {
        char *error = NULL;
        struct k8s_object *obj = k8s_decode_object(json, strlen(json),
                                                   &error);
        ovs_assert(obj);
        k8s_cluster_put(&f->cluster, obj);
    }
}

static void
peer_fixture_delete_pod(struct peer_fixture *f, const char *ns,
                        const char *name)
{
    char *key = xasprintf("Pod/%s/%s", ns, name);
    free(shash_find_and_delete(&f->objects, key));
    free(key);
    k8s_cluster_delete(&f->cluster, K8S_POD, ns, name);
}

/* A pod's JSON: ns/name on 'node' with 'ip' and labels 'labels' (JSON
 * members).  Pods on n1 get a port. */
static void
peer_fixture_pod(struct peer_fixture *f, const char *ns, const char *name,
                 const char *node, const char *ip, const char *labels)
{
    char *json = xasprintf(
        "{\"kind\":\"Pod\",\"metadata\":{\"namespace\":\"%s\","
        " \"name\":\"%s\",\"labels\":{%s}},"
        " \"spec\":{\"nodeName\":\"%s\",\"containers\":[{\"name\":\"c\","
        "  \"ports\":[{\"name\":\"http\",\"containerPort\":8080}]}]},"
        " \"status\":{\"podIP\":\"%s\"}}", ns, name, labels, node, ip);
    peer_fixture_put(f, "Pod", ns, name, json);
    free(json);
    char *key = xasprintf("%s/%s", ns, name);
    if (!strcmp(node, "n1") && !shash_find(&f->pod_ports, key)) {
        struct flows_port *p = xzalloc(sizeof *p);
        p->ofport = u16_to_ofp(f->next_ofport++);
        p->mac = (struct eth_addr) ETH_ADDR_C(0a, 00, 00, 00, 00, 01);
        p->mac.ea[5] = f->next_ofport;
        shash_add(&f->pod_ports, key, p);
    }
    free(key);
}

static void
peer_fixture_namespace(struct peer_fixture *f, const char *name,
                       const char *labels)
{
    char *json = xasprintf(
        "{\"kind\":\"Namespace\",\"metadata\":{\"name\":\"%s\","
        " \"labels\":{\"kubernetes.io/metadata.name\":\"%s\"%s%s}}}",
        name, name, labels[0] ? "," : "", labels);
    peer_fixture_put(f, "Namespace", "", name, json);
    free(json);
}

static void
peer_fixture_policy(struct peer_fixture *f, const char *ns, const char *name,
                    const char *spec)
{
    char *json = xasprintf(
        "{\"kind\":\"NetworkPolicy\",\"metadata\":{\"namespace\":\"%s\","
        " \"name\":\"%s\"},\"spec\":%s}", ns, name, spec);
    peer_fixture_put(f, "NetworkPolicy", ns, name, json);
    free(json);
}

/* Nodes n1 (this one) and n2, namespaces x (team=blue) and y (team=red),
 * web pods on n1 and clients on both nodes, and policies whose selector
 * peers pick clients in every way kovs tells apart: by pod labels, by
 * namespace labels, in ingress and egress, next to an ipBlock, and in an
 * egress rule with named ports (whose peers are matched whole). */
static void
peer_fixture_init(struct peer_fixture *f)
{
    memset(f, 0, sizeof *f);
    shash_init(&f->objects);
    shash_init(&f->pod_ports);
    shash_init(&f->tunnel_ports);
    flow_table_init(&f->ft);
    f->next_ofport = 10;

    peer_fixture_put(f, "Node", "", "n1",
        "{\"kind\":\"Node\",\"metadata\":{\"name\":\"n1\"},"
        " \"spec\":{\"podCIDRs\":[\"10.244.1.0/24\"]}}");
    peer_fixture_put(f, "Node", "", "n2",
        "{\"kind\":\"Node\",\"metadata\":{\"name\":\"n2\"},"
        " \"spec\":{\"podCIDRs\":[\"10.244.2.0/24\"]}}");
    peer_fixture_namespace(f, "x", "\"team\":\"blue\"");
    peer_fixture_namespace(f, "y", "\"team\":\"red\"");

    peer_fixture_pod(f, "x", "web", "n1", "10.244.1.10", "\"app\":\"web\"");
    peer_fixture_pod(f, "x", "api", "n1", "10.244.1.11", "\"app\":\"api\"");
    peer_fixture_pod(f, "x", "c1", "n2", "10.244.2.10", "\"app\":\"client\"");
    peer_fixture_pod(f, "x", "c2", "n2", "10.244.2.11", "\"app\":\"other\"");
    peer_fixture_pod(f, "y", "c3", "n2", "10.244.2.12", "\"app\":\"client\"");
    peer_fixture_pod(f, "y", "c4", "n1", "10.244.1.12", "\"app\":\"client\"");
    peer_fixture_pod(f, "y", "c6", "n2", "10.244.2.13", "\"app\":\"other\"");

    /* Clients in x, and red namespaces' clients, reach web on 80. */
    peer_fixture_policy(f, "x", "web",
        "{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}},"
        " \"ingress\":[{\"from\":[{\"podSelector\":{\"matchLabels\":"
        "   {\"app\":\"client\"}}},"
        "  {\"namespaceSelector\":{\"matchLabels\":{\"team\":\"red\"}},"
        "   \"podSelector\":{\"matchLabels\":{\"app\":\"client\"}}},"
        "  {\"ipBlock\":{\"cidr\":\"192.0.2.0/24\"}}],"
        "  \"ports\":[{\"port\":80}]},"
        "  {\"from\":[{\"podSelector\":{\"matchLabels\":{\"app\":\"lonely\"}}}]}]}");
    /* web reaches x's clients on UDP 53, anyone's "other" pods on 9000. */
    peer_fixture_policy(f, "x", "web-out",
        "{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}},"
        " \"policyTypes\":[\"Egress\"],"
        " \"egress\":[{\"to\":[{\"podSelector\":{\"matchLabels\":"
        "   {\"app\":\"client\"}}}],"
        "  \"ports\":[{\"protocol\":\"UDP\",\"port\":53}]},"
        "  {\"to\":[{\"namespaceSelector\":{},\"podSelector\":{\"matchLabels\":"
        "   {\"app\":\"other\"}}}],\"ports\":[{\"port\":9000}]}]}");
    /* api reaches red namespaces' clients on their named port. */
    peer_fixture_policy(f, "x", "api-out",
        "{\"podSelector\":{\"matchLabels\":{\"app\":\"api\"}},"
        " \"policyTypes\":[\"Egress\"],"
        " \"egress\":[{\"to\":[{\"namespaceSelector\":{\"matchLabels\":"
        "   {\"team\":\"red\"}}}],"
        "  \"ports\":[{\"port\":\"http\"}]}]}");
}

static void
peer_fixture_start(struct peer_fixture *f)
{
    peer_fixture_decode(f, &f->cluster);
    f->in = (struct flows_input) {
        .cluster = &f->cluster,
        .node_name = "n1",
        .gateway_ofport = u16_to_ofp(2),
        .pod_ports = &f->pod_ports,
        .tunnel_ports = &f->tunnel_ports,
    };
    flows_compute_all(&f->in, &f->ft, NULL);
    flow_table_clear_tracked(&f->ft);
}

static void
peer_fixture_destroy(struct peer_fixture *f)
{
    flow_table_destroy(&f->ft);
    shash_destroy_free_data(&f->objects);
    shash_destroy_free_data(&f->pod_ports);
    shash_destroy(&f->tunnel_ports);
    k8s_cluster_destroy(&f->cluster);
}

/* Computes the changes made since the last call incrementally, checks
 * that they gave the flows of a full computation from the raw objects,
 * and returns how many policies were recomputed whole. */
static size_t
peer_fixture_check(struct peer_fixture *f, const char *what)
{
    struct flows_changes changes;
    flows_changes_init(&changes);
    changes.k8s = &f->cluster.changes;
    size_t n = flows_compute_changes(&f->in, &changes, &f->ft, NULL);
    flows_changes_destroy(&changes);
    k8s_cluster_clear_changes(&f->cluster);
    flow_table_clear_tracked(&f->ft);

    struct k8s_cluster fresh;
    peer_fixture_decode(f, &fresh);
    struct flows_input in = f->in;
    in.cluster = &fresh;
    struct flow_table full;
    flow_table_init(&full);
    flows_compute_all(&in, &full, NULL);

    struct sset a = SSET_INITIALIZER(&a), b = SSET_INITIALIZER(&b);
    switch_flows(&f->ft, &a);
    switch_flows(&full, &b);
    struct ds diff = DS_EMPTY_INITIALIZER;
    const char *s;
    SSET_FOR_EACH (s, &a) {
        if (!sset_contains(&b, s)) {
            ds_put_format(&diff, "  incremental only: %s\n", s);
        }
    }
    SSET_FOR_EACH (s, &b) {
        if (!sset_contains(&a, s)) {
            ds_put_format(&diff, "  full only: %s\n", s);
        }
    }
    CHECK(!diff.length, "%s: incremental differs from full:\n%s", what,
          ds_cstr(&diff));
    CHECK(sset_count(&a) > 20, "%s: only %"PRIuSIZE" flows", what,
          sset_count(&a));
    ds_destroy(&diff);
    sset_destroy(&a);
    sset_destroy(&b);
    flow_table_destroy(&full);
    k8s_cluster_destroy(&fresh);

    /* What a policy recomputed whole or not: the number of owners
     * recomputed, less the changed pods themselves. */
    return n;
}

/* Returns the number of flows that match 'ip' as a peer in the policy
 * tables. */
static size_t
peer_flow_count(const struct peer_fixture *f, const char *ip)
{
    struct sset flows = SSET_INITIALIZER(&flows);
    switch_flows(&f->ft, &flows);
    char *src = xasprintf("nw_src=%s ", ip);
    char *dst = xasprintf("nw_dst=%s ", ip);
    size_t n = 0;
    const char *s;
    SSET_FOR_EACH (s, &flows) {
        n += strstr(s, "conjunction(") && (strstr(s, src) || strstr(s, dst));
    }
    free(src);
    free(dst);
    sset_destroy(&flows);
    return n;
}

/* A remote pod relabelled into and out of peer selectors updates its own
 * peer flows only, and gives the flows of a full computation: selected
 * after only, before only, both (by another rule), by pod and by
 * namespace labels, as ingress and egress peer. */
static void
test_peer_relabel(void)
{
    struct peer_fixture f;
    peer_fixture_init(&f);
    peer_fixture_start(&f);

    size_t before = peer_flow_count(&f, "10.244.2.11");
    CHECK(before == 1, "c2 (other) has %"PRIuSIZE" peer flows", before);

    /* c2 becomes a client: selected after only (and no longer "other"). */
    peer_fixture_pod(&f, "x", "c2", "n2", "10.244.2.11",
                     "\"app\":\"client\"");
    size_t n = peer_fixture_check(&f, "c2 other->client");
    CHECK(n == 1, "c2 other->client recomputed %"PRIuSIZE" owners, "
          "expected 1 (the pod itself)", n);
    CHECK(peer_flow_count(&f, "10.244.2.11") == 2,
          "client c2 has %"PRIuSIZE" peer flows",
          peer_flow_count(&f, "10.244.2.11"));

    /* Selected before only. */
    peer_fixture_pod(&f, "x", "c2", "n2", "10.244.2.11", "\"app\":\"none\"");
    n = peer_fixture_check(&f, "c2 client->none");
    CHECK(n == 1, "c2 client->none recomputed %"PRIuSIZE" owners", n);
    CHECK(!peer_flow_count(&f, "10.244.2.11"), "c2 still has peer flows");

    /* Selected before and after, by different rules, with an extra
     * label.  c1 is the last client of x: web-out's UDP rule loses its
     * last peer and its conjunction, so web-out is recomputed whole. */
    peer_fixture_pod(&f, "x", "c1", "n2", "10.244.2.10",
                     "\"app\":\"other\",\"tier\":\"a\"");
    n = peer_fixture_check(&f, "c1 client->other");
    CHECK(n == 2, "c1 client->other recomputed %"PRIuSIZE" owners", n);
    peer_fixture_pod(&f, "x", "c1", "n2", "10.244.2.10",
                     "\"app\":\"other\",\"tier\":\"b\"");
    n = peer_fixture_check(&f, "c1 tier a->b");
    CHECK(n == 1, "c1 tier a->b recomputed %"PRIuSIZE" owners", n);

    /* A red namespace's client: selected by namespace labels in web, not
     * by web-out (another namespace); it is a peer of api-out's named
     * port rule, which is recomputed whole. */
    peer_fixture_pod(&f, "y", "c3", "n2", "10.244.2.12", "\"app\":\"gone\"");
    n = peer_fixture_check(&f, "c3 client->gone");
    CHECK(n == 2, "c3 client->gone recomputed %"PRIuSIZE" owners, "
          "expected the pod and api-out", n);

    /* A local pod that is also a peer (c4 on n1, in y). */
    peer_fixture_pod(&f, "y", "c4", "n1", "10.244.1.12", "\"app\":\"other\"");
    peer_fixture_check(&f, "c4 client->other");

    /* The last peer of web's second rule comes and goes: its conjunction
     * appears and goes, so web is recomputed whole. */
    peer_fixture_pod(&f, "x", "c2", "n2", "10.244.2.11",
                     "\"app\":\"lonely\"");
    n = peer_fixture_check(&f, "c2 none->lonely");
    CHECK(n == 2, "c2 none->lonely recomputed %"PRIuSIZE" owners", n);
    peer_fixture_pod(&f, "x", "c2", "n2", "10.244.2.11", "\"app\":\"none\"");
    n = peer_fixture_check(&f, "c2 lonely->none");
    CHECK(n == 2, "c2 lonely->none recomputed %"PRIuSIZE" owners", n);

    /* Policies recomputed whole after peer updates keep no stale sub-owner
     * flows: edit web, then relabel again. */
    peer_fixture_policy(&f, "x", "web",
        "{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}},"
        " \"ingress\":[{\"from\":[{\"podSelector\":{\"matchLabels\":"
        "   {\"app\":\"client\"}}}],\"ports\":[{\"port\":81}]}]}");
    peer_fixture_check(&f, "web edited");
    peer_fixture_pod(&f, "x", "c2", "n2", "10.244.2.11",
                     "\"app\":\"client\"");
    peer_fixture_check(&f, "c2 none->client after the edit");
    peer_fixture_destroy(&f);
}

/* Namespace labels changing, pods added and deleted, and an address
 * changing, each compared with a full computation. */
static void
test_peer_namespace_and_delete(void)
{
    struct peer_fixture f;
    peer_fixture_init(&f);
    peer_fixture_start(&f);

    /* x turns red: its clients become namespace-selected peers of web and
     * of api-out. */
    peer_fixture_namespace(&f, "x", "\"team\":\"red\"");
    peer_fixture_check(&f, "x blue->red");
    peer_fixture_namespace(&f, "y", "\"team\":\"blue\"");
    peer_fixture_check(&f, "y red->blue");

    /* A new client, then clients deleted: a peer only, and c3, a peer of
     * the named-port rule. */
    peer_fixture_pod(&f, "x", "c5", "n2", "10.244.2.20",
                     "\"app\":\"client\"");
    size_t n = peer_fixture_check(&f, "c5 added");
    CHECK(peer_flow_count(&f, "10.244.2.20") >= 2,
          "new client c5 has %"PRIuSIZE" peer flows",
          peer_flow_count(&f, "10.244.2.20"));
    peer_fixture_delete_pod(&f, "x", "c5");
    n = peer_fixture_check(&f, "c5 deleted");
    CHECK(n == 2, "c5 deleted recomputed %"PRIuSIZE" owners, expected "
          "the pod and api-out (x is red now)", n);
    CHECK(!peer_flow_count(&f, "10.244.2.20"), "deleted c5 has flows");
    peer_fixture_delete_pod(&f, "x", "c1");
    peer_fixture_check(&f, "c1 deleted");

    /* A pod keeps its name and changes its address. */
    peer_fixture_pod(&f, "y", "c3", "n2", "10.244.2.30",
                     "\"app\":\"client\"");
    peer_fixture_check(&f, "c3 readdressed");

    /* The local pod that policies select is relabelled out of them. */
    peer_fixture_pod(&f, "x", "web", "n1", "10.244.1.10",
                     "\"app\":\"client\"");
    peer_fixture_check(&f, "web web->client");
    peer_fixture_destroy(&f);
}

/* In an annotated namespace, the rule's conj_id flow logs (and still goes
 * on) and the isolation drop logs (and still drops); nothing else does. */
static void
test_np_log_flows(void)
{
    struct fixture f;
    fixture_init(&f);
    annotate_namespace(&f, "true");
    add_web_policy(&f);
    fixture_compute(&f);

    char *flows;
    size_t n = count_np_log_flows(&f, &flows);
    CHECK(n == 2, "expected 2 logging flows, got %"PRIuSIZE" in\n%s", n,
          flows);
    CHECK(strstr(flows, "conj_id=") && strstr(flows,
          "actions=controller(userdata=04.00.00.00.00,meter_id=4),"
          "goto_table:80"), "the allowing flow does not log:\n%s", flows);
    CHECK(strstr(flows, "priority=100 reg1=0xb "
                 "actions=controller(userdata=04.01.00.ff.ff,meter_id=4)\n"),
          "the drop does not log, or does more:\n%s", flows);
    free(flows);

    /* No egress isolation, no egress logging. */
    size_t n_eg;
    free(owner_flows(&f.ft, policy_cookie("web"), KOVS_T_EGRESS_POLICY,
                     &n_eg));
    CHECK(n_eg == 0, "%"PRIuSIZE" egress flows", n_eg);

    /* --np-logging=off: none, whatever the annotation. */
    f.in.np_logging = FLOWS_NP_LOGGING_OFF;
    flows_compute_all(&f.in, &f.ft, NULL);
    n = count_np_log_flows(&f, &flows);
    CHECK(n == 0, "off: %"PRIuSIZE" logging flows in\n%s", n, flows);
    free(flows);
    fixture_destroy(&f);
}

/* Without the annotation (or with "false", or with a value kovs does not
 * know, which gets a warning) nothing logs, unless --np-logging=all. */
static void
test_np_log_unannotated(void)
{
    static const char *values[] = { NULL, "false", "yes" };
    for (size_t i = 0; i < ARRAY_SIZE(values); i++) {
        struct fixture f;
        fixture_init(&f);
        if (values[i]) {
            annotate_namespace(&f, values[i]);
        }
        add_web_policy(&f);
        fixture_compute(&f);

        char *flows;
        size_t n = count_np_log_flows(&f, &flows);
        CHECK(n == 0, "annotation %s: %"PRIuSIZE" logging flows in\n%s",
              values[i] ? values[i] : "(none)", n, flows);
        free(flows);

        bool warned = false;
        const char *w;
        SSET_FOR_EACH (w, &f.ft.warnings) {
            warned |= strstr(w, "Namespace x: metadata.annotations") != NULL;
        }
        bool bad = values[i] && !strcmp(values[i], "yes");
        CHECK(warned == bad, "annotation %s: warning %s",
              values[i] ? values[i] : "(none)", warned ? "yes" : "no");

        f.in.np_logging = FLOWS_NP_LOGGING_ALL;
        flows_compute_all(&f.in, &f.ft, NULL);
        n = count_np_log_flows(&f, &flows);
        CHECK(n == 2, "all: %"PRIuSIZE" logging flows in\n%s", n, flows);
        free(flows);
        fixture_destroy(&f);
    }
}

/* Turning the annotation on is an incremental change of the namespace's
 * policies that gives the flows of a full computation; a namespace change
 * that leaves logging alone touches no policy through it. */
static void
test_np_log_incremental(void)
{
    struct fixture f;
    fixture_init(&f);
    add_web_policy(&f);
    fixture_compute(&f);

    static const char annotated[] =
        "{\"kind\":\"Namespace\",\"metadata\":{\"name\":\"x\","
        " \"labels\":{\"team\":\"blue\"},"
        " \"annotations\":{\"kovs.io/enable-np-logging\":\"true\"}}}";
    static const char relabelled[] =
        "{\"kind\":\"Namespace\",\"metadata\":{\"name\":\"x\","
        " \"labels\":{\"team\":\"red\"},"
        " \"annotations\":{\"kovs.io/enable-np-logging\":\"true\"}}}";
    char *error = NULL;
    struct k8s_object *new = k8s_decode_object(annotated, strlen(annotated),
                                               &error);
    ovs_assert(new);
    const struct k8s_object *old = k8s_cluster_find(&f.cluster,
                                                    K8S_NAMESPACE, "", "x");
    struct k8s_key_set policies;
    k8s_key_set_init(&policies);
    policy_affected_by_np_logging(&f.cluster, k8s_namespace_cast(old),
                                  k8s_namespace_cast(new), &policies);
    CHECK(k8s_key_set_count(&policies) == 1
          && k8s_key_set_contains(&policies, K8S_NETWORK_POLICY, "x", "web"),
          "annotating x affects %"PRIuSIZE" policies",
          k8s_key_set_count(&policies));
    k8s_key_set_clear(&policies);

    struct k8s_object *other = k8s_decode_object(relabelled,
                                                 strlen(relabelled), &error);
    ovs_assert(other);
    policy_affected_by_np_logging(&f.cluster, k8s_namespace_cast(new),
                                  k8s_namespace_cast(other), &policies);
    CHECK(k8s_key_set_is_empty(&policies), "a label change affects %"
          PRIuSIZE" policies through logging", k8s_key_set_count(&policies));
    k8s_key_set_destroy(&policies);
    k8s_object_destroy(other);

    /* The change itself, incrementally. */
    k8s_cluster_put(&f.cluster, new);
    struct flows_changes changes;
    flows_changes_init(&changes);
    changes.k8s = &f.cluster.changes;
    flows_compute_changes(&f.in, &changes, &f.ft, NULL);
    flows_changes_destroy(&changes);
    k8s_cluster_clear_changes(&f.cluster);

    char *incremental;
    size_t n = count_np_log_flows(&f, &incremental);
    CHECK(n == 2, "incremental: %"PRIuSIZE" logging flows in\n%s", n,
          incremental);

    struct flow_table full;
    flow_table_init(&full);
    flows_compute_all(&f.in, &full, NULL);
    size_t n_full;
    char *full_flows = owner_flows(&full, policy_cookie("web"),
                                   KOVS_T_INGRESS_POLICY, &n_full);
    CHECK(!strcmp(incremental, full_flows), "incremental\n%s\nfull\n%s",
          incremental, full_flows);
    free(incremental);
    free(full_flows);
    flow_table_destroy(&full);
    fixture_destroy(&f);
}

static const struct unit_test tests[] = {
    { "flow-count", test_flow_count },
    { "shared-peer", test_shared_peer },
    { "cidr-subtract", test_cidr_subtract },
    { "cidr-subtract-scale", test_cidr_subtract_scale },
    { "cidr-subtract-ipv6", test_cidr_subtract_ipv6 },
    { "ipv6-peers", test_ipv6_peers },
    { "ip-block-too-many-excepts", test_ip_block_too_many_excepts },
    { "policy-flow-limit", test_policy_flow_limit },
    { "port-ranges", test_port_ranges },
    { "named-ports", test_named_ports },
    { "named-port-without-peer-pods", test_named_port_without_peer_pods },
    { "policy-types", test_policy_types },
    { "peer-relabel", test_peer_relabel },
    { "peer-namespace-and-delete", test_peer_namespace_and_delete },
    { "np-log-flows", test_np_log_flows },
    { "np-log-unannotated", test_np_log_unannotated },
    { "np-log-incremental", test_np_log_incremental },
};

int
main(int argc, char *argv[])
{
    return unit_test_main(argc, argv, tests, ARRAY_SIZE(tests));
}
