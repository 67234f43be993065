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

/* Adds pod x/NAME on NODE with IP, label app=LABEL and one container port
 * named http with number HTTP_PORT (0 for none).  Pods on n1 get a port. */
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
    ds_put_format(&f->json,
        ",{\"kind\":\"Pod\",\"metadata\":{\"namespace\":\"x\","
        "  \"name\":\"%s\",\"labels\":{\"app\":\"%s\"}},"
        " \"spec\":{\"nodeName\":\"%s\",\"containers\":[{\"name\":\"c\""
        "  %s}]},"
        " \"status\":{\"podIP\":\"%s\"}}",
        name, label, node, ports, ip);
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
    flows_compute_all(&f->in, &f->ft);
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

/* A rule with 100 peer pods and 10 ports gives about 110 flows, not
 * 1000. */
static void
test_flow_count(void)
{
    struct fixture f;
    fixture_init(&f);
    add_pod(&f, "server", "n1", "10.244.1.10", "server", 0);
    for (int i = 0; i < 100; i++) {
        char name[16], ip[16];
        snprintf(name, sizeof name, "client%d", i);
        snprintf(ip, sizeof ip, "10.244.2.%d", i + 10);
        add_pod(&f, name, "n2", ip, "client", 0);
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

/* ipBlock except: non-overlapping prefixes covering exactly the rest. */
static void
test_cidr_subtract(void)
{
    random_init();
    for (int iter = 0; iter < 200; iter++) {
        unsigned int plen = 8 + random_range(16);
        ovs_be32 net = htonl(random_uint32()) & be32_prefix_mask(plen);
        ovs_be32 except_nets[3];
        unsigned int except_plens[3];
        size_t n_except = random_range(4);
        for (size_t i = 0; i < n_except; i++) {
            except_plens[i] = plen + 1 + random_range(32 - plen);
            except_nets[i] = (net | (htonl(random_uint32())
                                     & ~be32_prefix_mask(plen)))
                             & be32_prefix_mask(except_plens[i]);
        }
        ovs_be32 *nets;
        unsigned int *plens;
        size_t n = policy_cidr_subtract(net, plen, except_nets, except_plens,
                                        n_except, &nets, &plens);
        /* Sample addresses: each is covered once iff not excepted. */
        for (int s = 0; s < 500; s++) {
            ovs_be32 ip = net | (htonl(random_uint32())
                                 & ~be32_prefix_mask(plen));
            if (s < (int) n_except) {
                ip = except_nets[s];
            }
            bool excepted = false;
            for (size_t i = 0; i < n_except; i++) {
                excepted |= !((ip ^ except_nets[i])
                              & be32_prefix_mask(except_plens[i]));
            }
            int covered = 0;
            for (size_t i = 0; i < n; i++) {
                covered += !((ip ^ nets[i]) & be32_prefix_mask(plens[i]));
            }
            CHECK(covered == !excepted, IP_FMT" covered %d times, excepted "
                  "%d", IP_ARGS(ip), covered, excepted);
            if (n_failures) {
                break;
            }
        }
        free(nets);
        free(plens);
    }
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

/* A label change on a pod that no policy selects or references touches no
 * policy; one that a peer selector picks touches that policy only. */
static void
test_affected_policies(void)
{
    struct fixture f;
    fixture_init(&f);
    add_pod(&f, "a", "n1", "10.244.1.10", "a", 0);
    add_pod(&f, "z", "n2", "10.244.2.10", "unrelated", 0);
    add_json(&f,
        "{\"kind\":\"NetworkPolicy\",\"metadata\":{\"namespace\":\"x\","
        " \"name\":\"p1\"},\"spec\":{\"podSelector\":{\"matchLabels\":"
        " {\"app\":\"a\"}},\"ingress\":[{\"from\":[{\"podSelector\":"
        " {\"matchLabels\":{\"app\":\"client\"}}}]}]}}");
    add_json(&f,
        "{\"kind\":\"NetworkPolicy\",\"metadata\":{\"namespace\":\"x\","
        " \"name\":\"p2\"},\"spec\":{\"podSelector\":{\"matchLabels\":"
        " {\"app\":\"other\"}}}}");
    fixture_compute(&f);

    const struct k8s_object *z = k8s_cluster_find(&f.cluster, K8S_POD, "x",
                                                  "z");
    struct sset policies = SSET_INITIALIZER(&policies);
    policy_affected_by_pod(&f.in, k8s_pod_cast(z), &policies);
    CHECK(sset_is_empty(&policies), "an unrelated pod affects %"PRIuSIZE
          " policies", sset_count(&policies));

    /* The same pod relabelled as a client. */
    static const char client[] =
        "{\"kind\":\"Pod\",\"metadata\":{\"namespace\":\"x\",\"name\":\"z\","
        " \"labels\":{\"app\":\"client\"}},\"spec\":{\"nodeName\":\"n2\"},"
        " \"status\":{\"podIP\":\"10.244.2.10\"}}";
    char *error = NULL;
    struct k8s_object *obj = k8s_decode_object(client, strlen(client),
                                               &error);
    ovs_assert(obj);
    policy_affected_by_pod(&f.in, k8s_pod_cast(obj), &policies);
    CHECK(sset_count(&policies) == 1 && sset_contains(&policies, "x/p1"),
          "expected only x/p1, got %"PRIuSIZE" policies",
          sset_count(&policies));
    k8s_object_destroy(obj);
    sset_destroy(&policies);
    fixture_destroy(&f);
}

static const struct unit_test tests[] = {
    { "flow-count", test_flow_count },
    { "shared-peer", test_shared_peer },
    { "cidr-subtract", test_cidr_subtract },
    { "port-ranges", test_port_ranges },
    { "named-ports", test_named_ports },
    { "policy-types", test_policy_types },
    { "affected-policies", test_affected_policies },
};

int
main(int argc, char *argv[])
{
    return unit_test_main(argc, argv, tests, ARRAY_SIZE(tests));
}
