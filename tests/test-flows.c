/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0.
 *
 * Unit tests of flows/: the desired flow table and the translation of a
 * small cluster into flows, with no switch.  'test-flows NAME' runs one
 * test; 'test-flows --list' lists them. */

#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "flow.h"
#include "flows/flow-table.h"
#include "flows/flows.h"
#include "flows/pipeline.h"
#include "k8s/k8s-decode.h"
#include "k8s/k8s-model.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/match.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/shash.h"
#include "svec.h"
#include "util.h"

static int n_failures;

#define CHECK(COND, ...)                                        \
    do {                                                        \
        if (!(COND)) {                                          \
            fprintf(stderr, "%s:%d: check failed: %s\n  ",      \
                    __FILE__, __LINE__, #COND);                 \
            fprintf(stderr, __VA_ARGS__);                       \
            fputc('\n', stderr);                                \
            n_failures++;                                       \
        }                                                       \
    } while (0)

/* A two-node cluster: n1 (this node) with pods default/a and default/b,
 * n2 with default/c, and a host-network pod on n1. */
static const char cluster_json[] =
    "{\"kind\":\"List\",\"items\":["
    "{\"kind\":\"Node\",\"metadata\":{\"name\":\"n1\"},"
    " \"spec\":{\"podCIDRs\":[\"10.244.1.0/24\"]},"
    " \"status\":{\"addresses\":[{\"type\":\"InternalIP\","
    "  \"address\":\"198.18.0.11\"}]}},"
    "{\"kind\":\"Node\",\"metadata\":{\"name\":\"n2\"},"
    " \"spec\":{\"podCIDRs\":[\"10.244.2.0/24\"]},"
    " \"status\":{\"addresses\":[{\"type\":\"InternalIP\","
    "  \"address\":\"198.18.0.12\"}]}},"
    "{\"kind\":\"Pod\",\"metadata\":{\"namespace\":\"default\",\"name\":\"a\"},"
    " \"spec\":{\"nodeName\":\"n1\"},\"status\":{\"podIP\":\"10.244.1.10\"}},"
    "{\"kind\":\"Pod\",\"metadata\":{\"namespace\":\"default\",\"name\":\"b\"},"
    " \"spec\":{\"nodeName\":\"n1\"},\"status\":{\"podIP\":\"10.244.1.11\"}},"
    "{\"kind\":\"Pod\",\"metadata\":{\"namespace\":\"default\",\"name\":\"c\"},"
    " \"spec\":{\"nodeName\":\"n2\"},\"status\":{\"podIP\":\"10.244.2.10\"}},"
    "{\"kind\":\"Pod\",\"metadata\":{\"namespace\":\"kube-system\","
    "  \"name\":\"h\"},"
    " \"spec\":{\"nodeName\":\"n1\",\"hostNetwork\":true},"
    " \"status\":{\"podIP\":\"198.18.0.11\"}}"
    "]}";

struct fixture {
    struct k8s_cluster cluster;
    struct shash pod_ports;
    struct shash tunnel_ports;
    struct flows_input in;
    struct flow_table ft;
};

static void
add_port(struct shash *ports, const char *key, int ofport, const char *mac)
{
    struct flows_port *p = xzalloc(sizeof *p);
    p->ofport = u16_to_ofp(ofport);
    if (mac) {
        ovs_assert(eth_addr_from_string(mac, &p->mac));
    }
    shash_add(ports, key, p);
}

static void
fixture_init(struct fixture *f)
{
    struct svec warnings = SVEC_EMPTY_INITIALIZER;
    char *error = NULL;

    k8s_cluster_init(&f->cluster);
    int retval = k8s_decode_list(cluster_json, strlen(cluster_json),
                                 &f->cluster, &warnings, &error);
    ovs_assert(!retval && !warnings.n);
    svec_destroy(&warnings);
    k8s_cluster_clear_changes(&f->cluster);

    shash_init(&f->pod_ports);
    shash_init(&f->tunnel_ports);
    add_port(&f->pod_ports, "default/a", 4, "0a:00:00:00:01:0a");
    add_port(&f->pod_ports, "default/b", 5, "0a:00:00:00:01:0b");
    add_port(&f->tunnel_ports, "n2", 3, NULL);

    f->in = (struct flows_input) {
        .cluster = &f->cluster,
        .node_name = "n1",
        .gateway_ofport = u16_to_ofp(2),
        .pod_ports = &f->pod_ports,
        .tunnel_ports = &f->tunnel_ports,
    };
    flow_table_init(&f->ft);
}

static void
fixture_destroy(struct fixture *f)
{
    flow_table_destroy(&f->ft);
    shash_destroy_free_data(&f->pod_ports);
    shash_destroy_free_data(&f->tunnel_ports);
    k8s_cluster_destroy(&f->cluster);
}

/* Formats the flows of 'cookie' (all flows if 0) one per line, sorted, as
 * "table=T priority=P MATCH actions=ACTIONS". */
static char *
format_flows(const struct flow_table *ft, uint64_t cookie)
{
    struct svec lines = SVEC_EMPTY_INITIALIZER;
    const struct desired_flow *d;

    FLOW_TABLE_FOR_EACH (d, ft) {
        if (cookie && d->cookie != cookie) {
            continue;
        }
        struct ds s = DS_EMPTY_INITIALIZER;
        struct match m;
        minimatch_expand(&d->match, &m);
        ds_put_format(&s, "table=%d priority=%d ", d->table_id, d->priority);
        match_format(&m, NULL, &s, OFP_DEFAULT_PRIORITY);
        ds_put_cstr(&s, " actions=");
        struct ofpact_format_params fp = { .s = &s };
        ofpacts_format(d->ofpacts, d->ofpacts_len, &fp);
        svec_add_nocopy(&lines, ds_steal_cstr(&s));
    }
    svec_sort(&lines);

    struct ds all = DS_EMPTY_INITIALIZER;
    for (size_t i = 0; i < lines.n; i++) {
        ds_put_format(&all, "%s\n", lines.names[i]);
    }
    svec_destroy(&lines);
    return ds_steal_cstr(&all);
}

static void
test_small_cluster(void)
{
    struct fixture f;
    fixture_init(&f);
    flows_compute_all(&f.in, &f.ft);

    uint64_t a = kovs_cookie(KOVS_OWNER_POD, "default", "a");
    uint64_t c = kovs_cookie(KOVS_OWNER_POD, "default", "c");
    uint64_t h = kovs_cookie(KOVS_OWNER_POD, "kube-system", "h");
    uint64_t n2 = kovs_cookie(KOVS_OWNER_NODE, NULL, "n2");
    uint64_t n1 = kovs_cookie(KOVS_OWNER_NODE, NULL, "n1");

    CHECK(flow_table_owner_count(&f.ft, a) == 10, "pod a has %"PRIuSIZE
          " flows", flow_table_owner_count(&f.ft, a));
    CHECK(flow_table_owner_count(&f.ft, c) == 0, "remote pod has flows");
    CHECK(flow_table_owner_count(&f.ft, h) == 0, "host-network pod has flows");
    CHECK(flow_table_owner_count(&f.ft, n2) == 2, "peer node has %"PRIuSIZE
          " flows", flow_table_owner_count(&f.ft, n2));
    CHECK(flow_table_owner_count(&f.ft, n1) == 0, "own node has flows");

    char *s = format_flows(&f.ft, a);
    static const char *const expected_a[] = {
        "table=0 priority=200 in_port=4 actions=set_field:0x1/0xf->reg0,"
        "goto_table:10",
        "table=10 priority=200 ip,in_port=4,dl_src=0a:00:00:00:01:0a,"
        "nw_src=10.244.1.10 actions=goto_table:20",
        "table=60 priority=300 ip,dl_dst=0a:00:00:00:01:0a,nw_dst=10.244.1.10"
        " actions=set_field:0x4->reg1,goto_table:65",
        "table=60 priority=200 ip,nw_dst=10.244.1.10 actions=set_field:"
        "0a:58:0a:f4:01:01->eth_src,set_field:0a:00:00:00:01:0a->eth_dst,"
        "dec_ttl,set_field:0x4->reg1,goto_table:65",
    };
    for (size_t i = 0; i < ARRAY_SIZE(expected_a); i++) {
        CHECK(strstr(s, expected_a[i]), "expected flow\n    %s\n  in\n%s",
              expected_a[i], s);
    }
    free(s);

    s = format_flows(&f.ft, n2);
    CHECK(strstr(s, "table=60 priority=200 ip,nw_dst=10.244.2.0/24 actions="
                 "set_field:0a:58:0a:f4:01:01->eth_src,set_field:aa:bb:cc:dd:"
                 "ee:ff->eth_dst,dec_ttl,set_field:0x1->tun_id,set_field:0x3"
                 "->reg1,goto_table:65"), "tunnel route missing in\n%s", s);
    CHECK(strstr(s, "table=0 priority=200 tun_id=0x1,in_port=3 actions="
                 "set_field:0x3/0xf->reg0,goto_table:30"),
          "tunnel classifier missing in\n%s", s);
    free(s);

    /* Every table of the pipeline has a miss flow. */
    s = format_flows(&f.ft, KOVS_COOKIE_PIPELINE);
    static const uint8_t tables[] = {
#define KOVS_TABLE(NAME, NUMBER) NUMBER,
        KOVS_TABLES
#undef KOVS_TABLE
    };
    for (size_t i = 0; i < ARRAY_SIZE(tables); i++) {
        char *want = xasprintf("table=%d priority=0 ", tables[i]);
        CHECK(strstr(s, want), "no miss flow for table %d in\n%s",
              tables[i], s);
        free(want);
    }
    free(s);
    fixture_destroy(&f);
}

static void
test_pod_without_port(void)
{
    struct fixture f;
    fixture_init(&f);
    free(shash_find_and_delete(&f.pod_ports, "default/b"));
    flows_compute_all(&f.in, &f.ft);
    CHECK(!flow_table_owner_count(&f.ft, kovs_cookie(KOVS_OWNER_POD,
                                                     "default", "b")),
          "a pod without a port got flows");

    /* Without this node's Node object nothing but the skeleton exists. */
    f.in.node_name = "n3";
    flows_compute_all(&f.in, &f.ft);
    CHECK(flow_table_owner_count(&f.ft, KOVS_COOKIE_PIPELINE)
          == flow_table_count(&f.ft), "flows beyond the skeleton");
    fixture_destroy(&f);
}

static void
test_incremental_pod_change(void)
{
    struct fixture f;
    fixture_init(&f);
    flows_compute_all(&f.in, &f.ft);
    flow_table_clear_tracked(&f.ft);
    size_t before = flow_table_count(&f.ft);

    /* Move pod b to another address: only b's owner is recomputed and
     * only its flows are tracked. */
    static const char pod_b[] =
        "{\"kind\":\"Pod\",\"metadata\":{\"namespace\":\"default\","
        " \"name\":\"b\"},\"spec\":{\"nodeName\":\"n1\"},"
        " \"status\":{\"podIP\":\"10.244.1.20\"}}";
    char *error = NULL;
    struct k8s_object *obj = k8s_decode_object(pod_b, strlen(pod_b), &error);
    ovs_assert(obj);
    CHECK(k8s_cluster_put(&f.cluster, obj), "pod b did not change");

    struct flows_changes changes;
    flows_changes_init(&changes);
    size_t n = flows_compute_changes(&f.in, &changes, &f.ft);
    CHECK(n == 1, "recomputed %"PRIuSIZE" owners", n);

    uint64_t b = kovs_cookie(KOVS_OWNER_POD, "default", "b");
    const struct desired_flow *d;
    size_t n_tracked = 0;
    FLOW_TABLE_FOR_EACH_TRACKED (d, &f.ft) {
        CHECK(d->cookie == b, "tracked a flow of cookie %#"PRIx64,
              d->cookie);
        n_tracked++;
    }
    CHECK(n_tracked == 20, "tracked %"PRIuSIZE" entries (10 out, 10 in)",
          n_tracked);
    CHECK(flow_table_count(&f.ft) == before, "flow count changed");
    flows_changes_destroy(&changes);
    fixture_destroy(&f);
}

/* Recomputing an unchanged object must give byte-identical actions, or
 * ofctrl would resend its flows. */
static void
test_recompute_identical(void)
{
    struct fixture f;
    fixture_init(&f);
    flows_compute_all(&f.in, &f.ft);
    flow_table_clear_tracked(&f.ft);

    /* Leave garbage in the allocator so that stray padding would show. */
    for (int i = 0; i < 64; i++) {
        void *p = xmalloc(512);
        memset(p, 0xa5, 512);
        free(p);
    }
    flows_compute_all(&f.in, &f.ft);

    size_t n_removed = 0, n_same = 0;
    const struct desired_flow *old;
    FLOW_TABLE_FOR_EACH_TRACKED (old, &f.ft) {
        if (!old->removed) {
            continue;
        }
        n_removed++;
        uint32_t hash = flow_key_hash(old->table_id, old->priority,
                                      &old->match);
        const struct desired_flow *new = flow_table_lookup(
            &f.ft, old->table_id, old->priority, &old->match, hash);
        if (new && ofpacts_equal(new->ofpacts, new->ofpacts_len,
                                 old->ofpacts, old->ofpacts_len)) {
            n_same++;
        }
    }
    CHECK(n_removed && n_same == n_removed, "%"PRIuSIZE" of %"PRIuSIZE
          " recomputed flows have identical actions", n_same, n_removed);
    fixture_destroy(&f);
}

static void
test_shared_keys(void)
{
    struct flow_table ft;
    struct match m;
    struct ofpbuf a, b;

    flow_table_init(&ft);
    match_init_catchall(&m);
    match_set_in_port(&m, u16_to_ofp(7));
    ofpbuf_init(&a, 0);
    ofpbuf_init(&b, 0);
    ofpact_put_GOTO_TABLE(&a)->table_id = 10;
    ofpact_put_GOTO_TABLE(&b)->table_id = 20;

    flow_table_add(&ft, 200, 0, 100, &m, &b);
    flow_table_add(&ft, 100, 0, 100, &m, &a);
    flow_table_add(&ft, 100, 0, 100, &m, &a);
    CHECK(flow_table_count(&ft) == 1, "%"PRIuSIZE" keys",
          flow_table_count(&ft));

    struct minimatch mm;
    minimatch_init(&mm, &m);
    uint32_t hash = flow_key_hash(0, 100, &mm);
    const struct desired_flow *d = flow_table_lookup(&ft, 0, 100, &mm, hash);
    CHECK(d && d->cookie == 100, "the lowest cookie does not win");

    flow_table_remove_owner(&ft, 100);
    d = flow_table_lookup(&ft, 0, 100, &mm, hash);
    CHECK(d && d->cookie == 200, "the other owner's flow is gone");
    CHECK(flow_table_count(&ft) == 1, "key count %"PRIuSIZE,
          flow_table_count(&ft));

    flow_table_remove_owner(&ft, 200);
    CHECK(!flow_table_lookup(&ft, 0, 100, &mm, hash), "flow remains");
    CHECK(flow_table_count(&ft) == 0, "key count %"PRIuSIZE,
          flow_table_count(&ft));

    minimatch_destroy(&mm);
    ofpbuf_uninit(&a);
    ofpbuf_uninit(&b);
    flow_table_destroy(&ft);
}

static void
test_cookies(void)
{
    uint64_t a = kovs_cookie(KOVS_OWNER_POD, "default", "a");
    CHECK(a == kovs_cookie(KOVS_OWNER_POD, "default", "a"), "unstable");
    CHECK(kovs_cookie_kind(a) == KOVS_OWNER_POD, "kind lost");
    CHECK(a != kovs_cookie(KOVS_OWNER_POD, "other", "a"), "namespace "
          "ignored");
    CHECK(kovs_cookie(KOVS_OWNER_POD, "ab", "c")
          != kovs_cookie(KOVS_OWNER_POD, "a", "bc"), "ambiguous");
    CHECK(!strcmp(kovs_table_name(60), "L3_FORWARDING"), "table name");
    CHECK(kovs_table_next(KOVS_T_CLASSIFIER) == KOVS_T_SPOOFGUARD,
          "next table");
}

static const struct {
    const char *name;
    void (*function)(void);
} tests[] = {
    { "small-cluster", test_small_cluster },
    { "pod-without-port", test_pod_without_port },
    { "incremental-pod-change", test_incremental_pod_change },
    { "recompute-identical", test_recompute_identical },
    { "shared-keys", test_shared_keys },
    { "cookies", test_cookies },
};

int
main(int argc, char *argv[])
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s NAME|--list\n", argv[0]);
        return 2;
    }
    for (size_t i = 0; i < ARRAY_SIZE(tests); i++) {
        if (!strcmp(argv[1], "--list")) {
            puts(tests[i].name);
        } else if (!strcmp(argv[1], tests[i].name)) {
            tests[i].function();
            return n_failures ? 1 : 0;
        }
    }
    if (strcmp(argv[1], "--list")) {
        fprintf(stderr, "%s: unknown test\n", argv[1]);
        return 2;
    }
    return 0;
}
