/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0.
 *
 * Unit tests of flows/: the desired flow table and the translation of a
 * small cluster into flows, with no switch.  'test-flows NAME' runs one
 * test; 'test-flows --list' lists them. */

#include <config.h>

#include <malloc.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "flow.h"
#include "flows/flow-table.h"
#include "flows/flows.h"
#include "flows/pipeline.h"
#include "flows/service.h"
#include "k8s/k8s-decode.h"
#include "k8s/k8s-model.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/match.h"
#include "odp-netlink.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofp-group.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/shash.h"
#include "svec.h"
#include "util.h"
#include "tests/unit-test.h"


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

    /* The external bridge, unused until fixture_external(). */
    struct flows_external ex;
    struct flow_table ex_ft;        /* br-ex's desired flows. */
    struct flow_table *ex_table;    /* &ex_ft once used, else NULL. */
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
    memset(&f->ex, 0, sizeof f->ex);
    flow_table_init(&f->ex_ft);
    f->ex_table = NULL;
}

static void
fixture_destroy(struct fixture *f)
{
    flow_table_destroy(&f->ft);
    flow_table_destroy(&f->ex_ft);
    shash_destroy_free_data(&f->pod_ports);
    shash_destroy_free_data(&f->tunnel_ports);
    k8s_cluster_destroy(&f->cluster);
}

/* Formats one desired flow as flow_table_format_flow() does. */
static char *
format_flow(const struct desired_flow *d)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    flow_table_format_flow(d->table_id, d->priority, &d->match, d->ofpacts,
                           d->ofpacts_len, &s);
    return ds_steal_cstr(&s);
}

/* Returns the warnings of 'ft', sorted, one per line. */
static char *
format_warnings(const struct flow_table *ft)
{
    struct svec warnings = SVEC_EMPTY_INITIALIZER;
    const char *warning;
    SSET_FOR_EACH (warning, &ft->warnings) {
        svec_add(&warnings, warning);
    }
    svec_sort(&warnings);
    char *w = svec_join(&warnings, "\n", warnings.n ? "\n" : "");
    svec_destroy(&warnings);
    return w;
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
        svec_add_nocopy(&lines, format_flow(d));
    }
    svec_sort(&lines);

    char *all = svec_join(&lines, "\n", lines.n ? "\n" : "");
    svec_destroy(&lines);
    return all;
}

static void
test_small_cluster(void)
{
    struct fixture f;
    fixture_init(&f);
    flows_compute_all(&f.in, &f.ft, f.ex_table);

    uint64_t a = kovs_cookie(KOVS_OWNER_POD, "default", "a");
    uint64_t c = kovs_cookie(KOVS_OWNER_POD, "default", "c");
    uint64_t h = kovs_cookie(KOVS_OWNER_POD, "kube-system", "h");
    uint64_t n2 = kovs_cookie(KOVS_OWNER_NODE, NULL, "n2");
    uint64_t n1 = kovs_cookie(KOVS_OWNER_NODE, NULL, "n1");

    CHECK(flow_table_owner_count(&f.ft, a) == 10, "pod a has %"PRIuSIZE
          " flows", flow_table_owner_count(&f.ft, a));
    CHECK(flow_table_owner_count(&f.ft, c) == 0, "remote pod has flows");
    CHECK(flow_table_owner_count(&f.ft, h) == 0, "host-network pod has flows");
    CHECK(flow_table_owner_count(&f.ft, n2) == 3, "peer node has %"PRIuSIZE
          " flows", flow_table_owner_count(&f.ft, n2));
    CHECK(flow_table_owner_count(&f.ft, n1) == 0, "own node has flows");

    char *s = format_flows(&f.ft, a);
    static const char *const expected_a[] = {
        "table=0 priority=200 in_port=4 actions=set_field:0x1/0xf->reg0,"
        "goto_table:10",
        "table=10 priority=200 ip,in_port=4,dl_src=0a:00:00:00:01:0a,"
        "nw_src=10.244.1.10 actions=goto_table:20",
        "table=60 priority=300 ip,dl_dst=0a:00:00:00:01:0a,nw_dst=10.244.1.10"
        " actions=set_field:0x4->reg1,goto_table:62",
        "table=60 priority=200 ip,nw_dst=10.244.1.10 actions=set_field:"
        "0a:58:0a:f4:01:01->eth_src,set_field:0a:00:00:00:01:0a->eth_dst,"
        "dec_ttl,check_pkt_larger(1464)->NXM_NX_REG0[10],set_field:0x4->reg1,"
        "goto_table:62",
    };
    for (size_t i = 0; i < ARRAY_SIZE(expected_a); i++) {
        CHECK(strstr(s, expected_a[i]), "expected flow\n    %s\n  in\n%s",
              expected_a[i], s);
    }
    free(s);

    s = format_flows(&f.ft, n2);
    CHECK(strstr(s, "table=60 priority=200 ip,nw_dst=10.244.2.0/24 actions="
                 "set_field:0a:58:0a:f4:01:01->eth_src,set_field:aa:bb:cc:dd:"
                 "ee:ff->eth_dst,dec_ttl,set_field:0x1->tun_id,"
                 "check_pkt_larger(1464)->NXM_NX_REG0[9],set_field:0x3"
                 "->reg1,goto_table:62"), "tunnel route missing in\n%s", s);
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
    flows_compute_all(&f.in, &f.ft, f.ex_table);
    CHECK(!flow_table_owner_count(&f.ft, kovs_cookie(KOVS_OWNER_POD,
                                                     "default", "b")),
          "a pod without a port got flows");

    /* Without this node's Node object nothing but the skeleton exists. */
    f.in.node_name = "n3";
    flows_compute_all(&f.in, &f.ft, f.ex_table);
    CHECK(flow_table_owner_count(&f.ft, KOVS_COOKIE_PIPELINE)
          == flow_table_count(&f.ft), "flows beyond the skeleton");
    fixture_destroy(&f);
}

static void
test_incremental_pod_change(void)
{
    struct fixture f;
    fixture_init(&f);
    flows_compute_all(&f.in, &f.ft, f.ex_table);
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
    changes.k8s = &f.cluster.changes;
    size_t n = flows_compute_changes(&f.in, &changes, &f.ft, f.ex_table);
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

/* A pod's port and a peer node's tunnel port that changed recompute just
 * their owners. */
static void
test_incremental_port_change(void)
{
    struct fixture f;
    fixture_init(&f);
    flows_compute_all(&f.in, &f.ft, f.ex_table);
    flow_table_clear_tracked(&f.ft);

    struct flows_changes changes;
    flows_changes_init(&changes);
    changes.k8s = &f.cluster.changes;
    k8s_key_set_add(&changes.pods, K8S_POD, "default", "b");
    k8s_key_set_add(&changes.nodes, K8S_NODE, "", "n2");
    size_t n = flows_compute_changes(&f.in, &changes, &f.ft, f.ex_table);
    CHECK(n == 2, "recomputed %"PRIuSIZE" owners, expected 2", n);

    uint64_t b = kovs_cookie(KOVS_OWNER_POD, "default", "b");
    uint64_t n2 = kovs_cookie(KOVS_OWNER_NODE, NULL, "n2");
    const struct desired_flow *d;
    size_t n_b = 0, n_n2 = 0;
    FLOW_TABLE_FOR_EACH_TRACKED (d, &f.ft) {
        CHECK(d->cookie == b || d->cookie == n2,
              "tracked a flow of cookie %#"PRIx64, d->cookie);
        n_b += d->cookie == b;
        n_n2 += d->cookie == n2;
    }
    CHECK(n_b && n_n2, "tracked %"PRIuSIZE" entries of pod default/b and "
          "%"PRIuSIZE" of node n2, expected some of each", n_b, n_n2);
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
    flows_compute_all(&f.in, &f.ft, f.ex_table);
    flow_table_clear_tracked(&f.ft);

    /* Leave garbage in the allocator so that stray padding would show. */
    for (int i = 0; i < 64; i++) {
        void *p = xmalloc(512);
        memset(p, 0xa5, 512);
        free(p);
    }
    flows_compute_all(&f.in, &f.ft, f.ex_table);

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

/* A key that thousands of owners share (one endpoint of thousands of
 * Services): the lowest cookie's actions win as owners come and go in any
 * order, and each owner's second add of the key keeps its first. */
static void
test_shared_key_many_owners(void)
{
    enum { N = 3000 };
    struct flow_table ft;
    struct match m;
    struct ofpbuf acts[N];

    flow_table_init(&ft);
    match_init_catchall(&m);
    match_set_reg(&m, 3, 0x0af4010a);
    struct minimatch mm;
    minimatch_init(&mm, &m);
    uint32_t hash = flow_key_hash(42, 200, &mm);

    /* Owner i has cookie 1000 + (i * 7919) % N, all different, added out
     * of cookie order, each with actions that name it. */
    uint64_t cookies[N];
    for (size_t i = 0; i < N; i++) {
        cookies[i] = 1000 + (i * 7919) % N;
        ofpbuf_init(&acts[i], 0);
        ofpact_put_GOTO_TABLE(&acts[i])->table_id = 50 + i % 100;
        flow_table_add(&ft, cookies[i], 42, 200, &m, &acts[i]);
        flow_table_add(&ft, cookies[i], 42, 200, &m, &acts[(i + 1) % 1]);
    }
    CHECK(flow_table_count(&ft) == 1, "%"PRIuSIZE" keys",
          flow_table_count(&ft));

    /* Remove them in another order, checking the winner each time. */
    bool removed[N] = { false };
    for (size_t n = 0; n < N; n++) {
        size_t victim = (n * 4099) % N;
        ovs_assert(!removed[victim]);
        uint64_t best = UINT64_MAX;
        size_t best_i = 0;
        for (size_t i = 0; i < N; i++) {
            if (!removed[i] && cookies[i] < best) {
                best = cookies[i];
                best_i = i;
            }
        }
        uint64_t stub[64 / 8];
        struct ofpbuf got = OFPBUF_STUB_INITIALIZER(stub);
        uint64_t cookie;
        bool found = flow_table_get_actions(&ft, 42, 200, &mm, hash, &got,
                                            &cookie);
        CHECK(found && cookie == best
              && ofpacts_equal(got.data, got.size, acts[best_i].data,
                               acts[best_i].size),
              "after %"PRIuSIZE" removals: cookie %"PRIu64", expected "
              "%"PRIu64, n, found ? cookie : 0, best);
        ofpbuf_uninit(&got);
        flow_table_remove_owner(&ft, cookies[victim]);
        removed[victim] = true;
    }
    CHECK(!flow_table_lookup(&ft, 42, 200, &mm, hash), "flow remains");
    CHECK(flow_table_count(&ft) == 0, "key count %"PRIuSIZE,
          flow_table_count(&ft));

    minimatch_destroy(&mm);
    for (size_t i = 0; i < N; i++) {
        ofpbuf_uninit(&acts[i]);
    }
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

/* Services.
 *
 * The objects of these tests are written as JSON with ' for " and with a
 * comma allowed right before a closing bracket or brace, so that the macros
 * below can simply be put one after another. */

#define SERVICE(NS, NAME, SPEC)                                         \
    "{'kind':'Service','metadata':{'namespace':'" NS "','name':'" NAME  \
    "'},'spec':{" SPEC "}},"
#define SLICE(NS, NAME, SVC, PORTS, ENDPOINTS)                          \
    "{'kind':'EndpointSlice','metadata':{'namespace':'" NS "',"         \
    "'name':'" NAME "','labels':{'kubernetes.io/service-name':'" SVC    \
    "'}},'addressType':'IPv4','ports':[" PORTS "],"                     \
    "'endpoints':[" ENDPOINTS "]},"
#define EP(IP, NODE, CONDITIONS)                                        \
    "{'addresses':['" IP "'],'nodeName':'" NODE "',"                    \
    "'conditions':{" CONDITIONS "}},"
#define PORT(NAME, NUMBER) "{'name':'" NAME "','port':" #NUMBER "},"
#define PORT_PROTO(NAME, NUMBER, PROTO)                                 \
    "{'name':'" NAME "','port':" #NUMBER ",'protocol':'" PROTO "'},"

/* Turns the relaxed JSON of these tests into JSON. */
static char *
relaxed_json(const char *s)
{
    struct ds ds = DS_EMPTY_INITIALIZER;
    for (const char *p = s; *p; p++) {
        if (*p == '\'') {
            ds_put_char(&ds, '"');
        } else if (*p == ',' && (p[1] == ']' || p[1] == '}' || !p[1])) {
            /* A trailing comma. */
        } else {
            ds_put_char(&ds, *p);
        }
    }
    return ds_steal_cstr(&ds);
}

/* Adds the objects in 'items' (relaxed JSON, see above) to 'f''s cluster and
 * forgets the changes, as if they had always been there. */
static void
fixture_add(struct fixture *f, const char *items)
{
    char *raw = xasprintf("{'kind':'List','items':[%s]}", items);
    char *json = relaxed_json(raw);
    struct svec warnings = SVEC_EMPTY_INITIALIZER;
    char *error = NULL;

    int retval = k8s_decode_list(json, strlen(json), &f->cluster, &warnings,
                                 &error);
    if (retval || warnings.n) {
        fprintf(stderr, "bad test objects: %s\n", error ? error : "");
        for (size_t i = 0; i < warnings.n; i++) {
            fprintf(stderr, "  %s\n", warnings.names[i]);
        }
        fprintf(stderr, "in %s\n", json);
        abort();
    }
    svec_destroy(&warnings);
    free(json);
    free(raw);
    k8s_cluster_clear_changes(&f->cluster);
}

/* Replaces one object of 'f''s cluster, given in relaxed JSON, recording the
 * change. */
static void
fixture_put(struct fixture *f, const char *object)
{
    char *json = relaxed_json(object);
    char *error = NULL;
    struct k8s_object *obj = k8s_decode_object(json, strlen(json), &error);
    if (!obj) {
        fprintf(stderr, "bad test object: %s\nin %s\n", error, json);
        abort();
    }
    CHECK(k8s_cluster_put(&f->cluster, obj), "no change in %s", json);
    free(json);
}

/* Recomputes what the cluster's recorded changes touch, then forgets the
 * changes.  Returns the number of owners recomputed. */
static size_t
compute_changes(struct fixture *f)
{
    struct flows_changes changes;
    flows_changes_init(&changes);
    changes.k8s = &f->cluster.changes;
    size_t n = flows_compute_changes(&f->in, &changes, &f->ft, f->ex_table);
    flows_changes_destroy(&changes);
    k8s_cluster_clear_changes(&f->cluster);
    return n;
}

static const struct k8s_service *
find_service(const struct fixture *f, const char *ns, const char *name)
{
    const struct k8s_object *obj = k8s_cluster_find(&f->cluster, K8S_SERVICE,
                                                    ns, name);
    ovs_assert(obj);
    return k8s_service_cast(obj);
}

/* Returns the endpoints service_select_endpoints() picks for the port named
 * 'port_name' of Service 'ns'/'name' on node 'node', as "IP:PORT" separated
 * by spaces, in the order it returns them, with "(local)" after the local
 * ones if 'show_local'.  The caller frees the string. */
static char *
select_endpoints(const struct fixture *f, const char *ns, const char *name,
                 const char *port_name, const char *node, bool local_only,
                 bool show_local)
{
    const struct k8s_service *svc = find_service(f, ns, name);
    const struct k8s_service_port *sp = NULL;
    for (size_t i = 0; i < svc->n_ports; i++) {
        if (!strcmp(svc->ports[i].name, port_name)) {
            sp = &svc->ports[i];
        }
    }
    ovs_assert(sp);

    struct service_endpoint *eps;
    size_t n = service_select_endpoints(&f->cluster, svc, sp, node,
                                        local_only, false, &eps);
    struct ds s = DS_EMPTY_INITIALIZER;
    for (size_t i = 0; i < n; i++) {
        ds_put_format(&s, "%s"IP_FMT":%"PRIu16"%s", i ? " " : "",
                      IP_ARGS(eps[i].ip), eps[i].port,
                      show_local && eps[i].local ? "(local)" : "");
    }
    free(eps);
    return ds_steal_cstr(&s);
}

/* Checks that select_endpoints() gives 'expected'. */
#define CHECK_ENDPOINTS(F, NS, NAME, PORT, NODE, LOCAL_ONLY, EXPECTED)  \
    do {                                                                \
        char *got_ = select_endpoints(F, NS, NAME, PORT, NODE,          \
                                      LOCAL_ONLY, false);               \
        CHECK(!strcmp(got_, EXPECTED),                                  \
              "Service %s/%s port \"%s\" on %s%s:\n"                    \
              "    expected: %s\n    got:      %s", NS, NAME, PORT,     \
              NODE, LOCAL_ONLY ? " (local only)" : "", EXPECTED, got_); \
        free(got_);                                                     \
    } while (0)

#define HTTP_SERVICE(NS, NAME, IP)                                      \
    SERVICE(NS, NAME, "'clusterIP':'" IP "','ports':[{'name':'http',"   \
            "'port':80,'targetPort':8080}]")

static void
test_service_endpoint_conditions(void)
{
    struct fixture f;
    fixture_init(&f);
    fixture_add(&f,
        /* No conditions at all: ready. */
        HTTP_SERVICE("default", "none", "10.96.0.1")
        SLICE("default", "none-1", "none", PORT("http", 8080),
              "{'addresses':['10.244.1.10']},")
        /* Empty conditions: ready. */
        HTTP_SERVICE("default", "empty", "10.96.0.2")
        SLICE("default", "empty-1", "empty", PORT("http", 8080),
              EP("10.244.1.10", "n1", ""))
        /* Not ready and terminating, serving absent: serving. */
        HTTP_SERVICE("default", "serving", "10.96.0.3")
        SLICE("default", "serving-1", "serving", PORT("http", 8080),
              EP("10.244.1.10", "n1", "'ready':false,'terminating':true"))
        /* Not ready and serving, terminating absent: not terminating, so
         * not usable. */
        HTTP_SERVICE("default", "terminating", "10.96.0.4")
        SLICE("default", "terminating-1", "terminating", PORT("http", 8080),
              EP("10.244.1.10", "n1", "'ready':false,'serving':true")));

    CHECK_ENDPOINTS(&f, "default", "none", "http", "n1", false,
                    "10.244.1.10:8080");
    CHECK_ENDPOINTS(&f, "default", "empty", "http", "n1", false,
                    "10.244.1.10:8080");
    CHECK_ENDPOINTS(&f, "default", "serving", "http", "n1", false,
                    "10.244.1.10:8080");
    CHECK_ENDPOINTS(&f, "default", "terminating", "http", "n1", false, "");
    fixture_destroy(&f);
}

/* flow_table_memory() counts exactly what destroying the table gives back
 * to the allocator (with the allocator's per-thread cache off, which would
 * otherwise keep freed blocks counted as in use). */
static void
test_flow_table_memory(void)
{
    struct fixture f;
    fixture_init(&f);
    fixture_add(&f,
        HTTP_SERVICE("default", "web", "10.96.0.1")
        SLICE("default", "web-1", "web", PORT("http", 8080),
              EP("10.244.1.10", "n1", "")
              EP("10.244.2.10", "n2", "")));
    flows_compute_all(&f.in, &f.ft, f.ex_table);
    flow_table_clear_tracked(&f.ft);
    CHECK(flow_table_group_count(&f.ft) > 0, "no groups");

    size_t flow_bytes, group_bytes;
    flow_table_memory(&f.ft, &flow_bytes, &group_bytes);
    struct mallinfo2 mi = mallinfo2();
    size_t before = mi.uordblks + mi.hblkhd;
    if (!before) {
        /* The sanitizers' allocator keeps no glibc counts to compare
         * with: autotest's "skipped". */
        printf("the allocator keeps no heap counts (a sanitizer build)\n");
        exit(77);
    }
    flow_table_destroy(&f.ft);
    mi = mallinfo2();
    size_t freed = before - (mi.uordblks + mi.hblkhd);
    /* The table's own warnings set, empty here, is all that the count
     * leaves out. */
    CHECK(sset_is_empty(&f.ft.warnings), "warnings");
    CHECK(flow_bytes + group_bytes == freed,
          "counted %"PRIuSIZE" + %"PRIuSIZE" bytes, destroying freed %"
          PRIuSIZE, flow_bytes, group_bytes, freed);
    flow_table_init(&f.ft);
    fixture_destroy(&f);
}

static void
test_service_endpoint_ready_first(void)
{
    struct fixture f;
    fixture_init(&f);
    fixture_add(&f,
        HTTP_SERVICE("default", "mixed", "10.96.0.1")
        SLICE("default", "mixed-1", "mixed", PORT("http", 8080),
              EP("10.244.1.10", "n1", "'ready':true")
              EP("10.244.1.11", "n1",
                 "'ready':false,'serving':true,'terminating':true")
              EP("10.244.2.10", "n2", "'ready':true")
              EP("10.244.2.11", "n2", "'ready':false,'serving':false,"
                 "'terminating':false"))
        /* Nothing ready: the serving terminating ones, never the others. */
        HTTP_SERVICE("default", "draining", "10.96.0.2")
        SLICE("default", "draining-1", "draining", PORT("http", 8080),
              EP("10.244.1.10", "n1",
                 "'ready':false,'serving':true,'terminating':true")
              EP("10.244.1.11", "n1",
                 "'ready':false,'serving':false,'terminating':true")
              EP("10.244.2.10", "n2",
                 "'ready':false,'serving':true,'terminating':false")
              EP("10.244.2.11", "n2",
                 "'ready':false,'serving':true,'terminating':true"))
        /* Nothing serving. */
        HTTP_SERVICE("default", "down", "10.96.0.3")
        SLICE("default", "down-1", "down", PORT("http", 8080),
              EP("10.244.1.10", "n1",
                 "'ready':false,'serving':false,'terminating':true")
              EP("10.244.1.11", "n1", "'ready':false")));

    CHECK_ENDPOINTS(&f, "default", "mixed", "http", "n1", false,
                    "10.244.1.10:8080 10.244.2.10:8080");
    CHECK_ENDPOINTS(&f, "default", "draining", "http", "n1", false,
                    "10.244.1.10:8080 10.244.2.11:8080");
    CHECK_ENDPOINTS(&f, "default", "down", "http", "n1", false, "");
    fixture_destroy(&f);
}

static void
test_service_endpoint_slices_merged(void)
{
    struct fixture f;
    fixture_init(&f);
    fixture_add(&f,
        HTTP_SERVICE("default", "web", "10.96.0.1")
        /* Given out of order; 10.244.1.9 sorts before 10.244.1.10 and
         * 10.244.2.0 after both. */
        SLICE("default", "web-1", "web", PORT("http", 8080),
              EP("10.244.2.0", "n2", "")
              EP("10.244.1.10", "n1", ""))
        SLICE("default", "web-2", "web", PORT("http", 8080),
              EP("10.244.1.10", "n1", "")
              EP("10.244.1.9", "n1", ""))
        /* The same address with another port number is another
         * endpoint. */
        SLICE("default", "web-3", "web", PORT("http", 80),
              EP("10.244.1.10", "n1", ""))
        /* Slices of another Service, of a Service of the same name in
         * another namespace, and without a Service. */
        HTTP_SERVICE("default", "other", "10.96.0.2")
        SLICE("default", "other-1", "other", PORT("http", 8080),
              EP("10.244.3.1", "n2", ""))
        SLICE("kube-system", "web-1", "web", PORT("http", 8080),
              EP("10.244.3.2", "n2", ""))
        "{'kind':'EndpointSlice','metadata':{'namespace':'default',"
        " 'name':'orphan'},'addressType':'IPv4','ports':["
        PORT("http", 8080) "],'endpoints':[" EP("10.244.3.3", "n2", "")
        "]},"
        /* An IPv6 slice of the Service. */
        "{'kind':'EndpointSlice','metadata':{'namespace':'default',"
        " 'name':'web-v6','labels':{'kubernetes.io/service-name':'web'}},"
        " 'addressType':'IPv6','ports':[" PORT("http", 8080) "],"
        " 'endpoints':[{'addresses':['fd00::10'],'nodeName':'n1'}]},");

    CHECK_ENDPOINTS(&f, "default", "web", "http", "n1", false,
                    "10.244.1.9:8080 10.244.1.10:80 10.244.1.10:8080 "
                    "10.244.2.0:8080");
    CHECK_ENDPOINTS(&f, "default", "other", "http", "n1", false,
                    "10.244.3.1:8080");
    fixture_destroy(&f);
}

static void
test_service_endpoint_ports(void)
{
    struct fixture f;
    fixture_init(&f);
    fixture_add(&f,
        /* Ports matched by name; the number comes from the slice, whatever
         * the Service's targetPort (a number or a name) says. */
        SERVICE("default", "multi",
                "'clusterIP':'10.96.0.1','ports':["
                "{'name':'http','port':80,'targetPort':'web'},"
                "{'name':'metrics','port':9090,'targetPort':9100},"
                "{'name':'dns','port':53,'protocol':'UDP'},"
                "{'name':'dns-tcp','port':53,'protocol':'TCP'},"
                "{'name':'none','port':81}]")
        SLICE("default", "multi-1", "multi",
              PORT("http", 8081)
              PORT("metrics", 9101)
              PORT_PROTO("dns", 5353, "UDP")
              PORT_PROTO("dns-tcp", 5354, "TCP")
              PORT("unused", 7),
              EP("10.244.1.10", "n1", ""))
        /* The same name with another protocol serves nothing; a port
         * without a number is ignored. */
        SLICE("default", "multi-2", "multi",
              PORT_PROTO("http", 8082, "UDP")
              PORT_PROTO("dns", 5355, "TCP")
              "{'name':'metrics'},",
              EP("10.244.1.11", "n1", ""))
        /* An unnamed port. */
        SERVICE("default", "unnamed",
                "'clusterIP':'10.96.0.2','ports':[{'port':80}]")
        SLICE("default", "unnamed-1", "unnamed", "{'port':8080},",
              EP("10.244.1.10", "n1", ""))
        SLICE("default", "unnamed-2", "unnamed", PORT("http", 8081),
              EP("10.244.1.11", "n1", ""))
        SLICE("default", "unnamed-3", "unnamed", PORT("", 8082),
              EP("10.244.2.10", "n2", "")));

    CHECK_ENDPOINTS(&f, "default", "multi", "http", "n1", false,
                    "10.244.1.10:8081");
    CHECK_ENDPOINTS(&f, "default", "multi", "metrics", "n1", false,
                    "10.244.1.10:9101");
    CHECK_ENDPOINTS(&f, "default", "multi", "dns", "n1", false,
                    "10.244.1.10:5353");
    CHECK_ENDPOINTS(&f, "default", "multi", "dns-tcp", "n1", false,
                    "10.244.1.10:5354");
    CHECK_ENDPOINTS(&f, "default", "multi", "none", "n1", false, "");
    CHECK_ENDPOINTS(&f, "default", "unnamed", "", "n1", false,
                    "10.244.1.10:8080 10.244.2.10:8082");
    fixture_destroy(&f);
}

static void
test_service_endpoint_local(void)
{
    struct fixture f;
    fixture_init(&f);
    fixture_add(&f,
        HTTP_SERVICE("default", "web", "10.96.0.1")
        SLICE("default", "web-1", "web", PORT("http", 8080),
              EP("10.244.1.10", "n1", "")
              EP("10.244.2.10", "n2", "")
              "{'addresses':['10.244.3.10']},")
        /* Ready only on n2; on n1 one serving terminating endpoint and one
         * not serving. */
        HTTP_SERVICE("default", "drain", "10.96.0.2")
        SLICE("default", "drain-1", "drain", PORT("http", 8080),
              EP("10.244.2.10", "n2", "")
              EP("10.244.1.10", "n1",
                 "'ready':false,'serving':true,'terminating':true")
              EP("10.244.1.11", "n1",
                 "'ready':false,'serving':false,'terminating':true")));

    /* Every endpoint, those on n1 marked local; one without a node is not
     * local. */
    char *s = select_endpoints(&f, "default", "web", "http", "n1", false,
                               true);
    const char *expected = "10.244.1.10:8080(local) 10.244.2.10:8080 "
                           "10.244.3.10:8080";
    CHECK(!strcmp(s, expected), "expected %s\n  got      %s", expected, s);
    free(s);

    CHECK_ENDPOINTS(&f, "default", "web", "http", "n1", true,
                    "10.244.1.10:8080");
    CHECK_ENDPOINTS(&f, "default", "web", "http", "n2", true,
                    "10.244.2.10:8080");
    CHECK_ENDPOINTS(&f, "default", "web", "http", "n3", true, "");

    /* Cluster-wide, a ready endpoint exists, so the terminating one is not
     * used; locally on n1 none is ready, so it is. */
    CHECK_ENDPOINTS(&f, "default", "drain", "http", "n1", false,
                    "10.244.2.10:8080");
    CHECK_ENDPOINTS(&f, "default", "drain", "http", "n1", true,
                    "10.244.1.10:8080");
    CHECK_ENDPOINTS(&f, "default", "drain", "http", "n2", true,
                    "10.244.2.10:8080");
    fixture_destroy(&f);
}

/* Returns the number of present flows of 'cookie' in 'table'. */
static size_t
count_flows(const struct flow_table *ft, uint64_t cookie, uint8_t table)
{
    const struct desired_flow *d;
    size_t n = 0;
    FLOW_TABLE_FOR_EACH (d, ft) {
        n += d->cookie == cookie && d->table_id == table;
    }
    return n;
}

/* Returns the flow the switch gets for the key of 'd'. */
static const struct desired_flow *
effective_flow(const struct flow_table *ft, const struct desired_flow *d)
{
    return flow_table_lookup(ft, d->table_id, d->priority, &d->match,
                             flow_key_hash(d->table_id, d->priority,
                                           &d->match));
}

/* Returns the number of distinct keys in 'table' with 'priority'. */
static size_t
count_keys(const struct flow_table *ft, uint8_t table, uint16_t priority)
{
    const struct desired_flow *d;
    size_t n = 0;
    FLOW_TABLE_FOR_EACH (d, ft) {
        n += (d->table_id == table && d->priority == priority
              && effective_flow(ft, d) == d);
    }
    return n;
}


/* Formats the present flows of 'cookie' in 'table', one per line,
 * sorted. */
static char *
format_table(const struct flow_table *ft, uint64_t cookie, uint8_t table)
{
    char *all = format_flows(ft, cookie);
    char *prefix = xasprintf("table=%d ", table);
    struct ds s = DS_EMPTY_INITIALIZER;
    char *save_ptr = NULL;
    for (char *line = strtok_r(all, "\n", &save_ptr); line;
         line = strtok_r(NULL, "\n", &save_ptr)) {
        if (!strncmp(line, prefix, strlen(prefix))) {
            ds_put_format(&s, "%s\n", line);
        }
    }
    free(prefix);
    free(all);
    return ds_steal_cstr(&s);
}

/* Formats the present groups of 'cookie' (all if 0), one per line, sorted,
 * as "KEY: BUCKET | BUCKET". */
static char *
format_groups(const struct flow_table *ft, uint64_t cookie)
{
    struct svec lines = SVEC_EMPTY_INITIALIZER;
    const struct desired_group *g;
    FLOW_TABLE_FOR_EACH_GROUP (g, ft) {
        if (cookie && g->cookie != cookie) {
            continue;
        }
        struct ds s = DS_EMPTY_INITIALIZER;
        ds_put_format(&s, "%s:", g->key);
        for (size_t i = 0; i < g->n_buckets; i++) {
            ds_put_cstr(&s, i ? " | " : " ");
            struct ofpact_format_params fp = { .s = &s };
            ofpacts_format(g->buckets[i].ofpacts, g->buckets[i].ofpacts_len,
                           &fp);
        }
        svec_add_nocopy(&lines, ds_steal_cstr(&s));
    }
    svec_sort(&lines);

    char *all = svec_join(&lines, "\n", lines.n ? "\n" : "");
    svec_destroy(&lines);
    return all;
}

static size_t
count_groups(const struct flow_table *ft, uint64_t cookie)
{
    const struct desired_group *g;
    size_t n = 0;
    FLOW_TABLE_FOR_EACH_GROUP (g, ft) {
        n += g->cookie == cookie;
    }
    return n;
}

/* Returns the group of 'ft' whose key is 'key', or NULL. */
static const struct desired_group *
find_group_by_key(const struct flow_table *ft, const char *key)
{
    const struct desired_group *g;
    FLOW_TABLE_FOR_EACH_GROUP (g, ft) {
        if (!strcmp(g->key, key)) {
            return g;
        }
    }
    return NULL;
}

#define CHECK_TEXT(GOT, EXPECTED, WHAT)                                 \
    CHECK(!strcmp(GOT, EXPECTED), "%s:\n  expected:\n%s  got:\n%s",     \
          WHAT, EXPECTED, GOT)

static void
test_service_not_proxied(void)
{
    struct fixture f;
    fixture_init(&f);
    flows_compute_all(&f.in, &f.ft, f.ex_table);
    size_t n_base = flow_table_count(&f.ft);

    fixture_add(&f,
        SERVICE("default", "headless",
                "'clusterIP':'None','ports':[{'name':'http','port':80}]")
        SLICE("default", "headless-1", "headless", PORT("http", 80),
              EP("10.244.1.10", "n1", ""))
        SERVICE("default", "external",
                "'type':'ExternalName','externalName':'example.com',"
                "'ports':[{'name':'http','port':80}]")
        SLICE("default", "external-1", "external", PORT("http", 80),
              EP("10.244.1.11", "n1", ""))
        "{'kind':'Service','metadata':{'namespace':'default',"
        " 'name':'elsewhere','labels':{"
        "  'service.kubernetes.io/service-proxy-name':'other-proxy'}},"
        " 'spec':{'clusterIP':'10.96.0.3','ports':[{'name':'http',"
        "  'port':80}]}},"
        SLICE("default", "elsewhere-1", "elsewhere", PORT("http", 80),
              EP("10.244.2.10", "n2", "")));
    flows_compute_all(&f.in, &f.ft, f.ex_table);

    static const char *const names[] = { "headless", "external",
                                         "elsewhere" };
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        uint64_t cookie = kovs_cookie(KOVS_OWNER_SERVICE, "default",
                                      names[i]);
        CHECK(!service_is_proxied(find_service(&f, "default", names[i])),
              "Service default/%s is proxied", names[i]);
        char *s = format_flows(&f.ft, cookie);
        CHECK(!*s, "Service default/%s has flows:\n%s", names[i], s);
        free(s);
        s = format_groups(&f.ft, cookie);
        CHECK(!*s, "Service default/%s has groups:\n%s", names[i], s);
        free(s);
    }
    CHECK(flow_table_count(&f.ft) == n_base, "%"PRIuSIZE" flows, expected "
          "%"PRIuSIZE" as without the Services", flow_table_count(&f.ft),
          n_base);
    char *s = format_groups(&f.ft, 0);
    CHECK(!*s, "groups:\n%s", s);
    free(s);
    fixture_destroy(&f);
}

static void
test_service_lb_flows(void)
{
    struct fixture f;
    fixture_init(&f);
    flows_compute_all(&f.in, &f.ft, f.ex_table);
    size_t n_base = flow_table_count(&f.ft);

    fixture_add(&f,
        SERVICE("default", "web",
                "'clusterIP':'10.96.0.10',"
                "'clusterIPs':['10.96.0.10','10.96.0.11'],'ports':["
                "{'name':'http','port':80,'targetPort':8080},"
                "{'name':'dns','port':53,'protocol':'UDP'}]")
        SLICE("default", "web-1", "web",
              PORT("http", 8080) PORT_PROTO("dns", 5353, "UDP"),
              EP("10.244.1.10", "n1", "")
              EP("10.244.2.10", "n2", "")
              EP("10.244.1.11", "n1", "")));
    flows_compute_all(&f.in, &f.ft, f.ex_table);

    uint64_t web = kovs_cookie(KOVS_OWNER_SERVICE, "default", "web");
    const struct desired_group *tcp = find_group_by_key(
        &f.ft, "service default/web TCP/80");
    const struct desired_group *udp = find_group_by_key(
        &f.ft, "service default/web UDP/53");
    char *s = format_groups(&f.ft, 0);
    CHECK(tcp && udp && count_groups(&f.ft, web) == 2,
          "expected the groups of TCP/80 and UDP/53, got\n%s", s);
    free(s);
    if (!tcp || !udp) {
        fixture_destroy(&f);
        return;
    }

    /* One flow per (VIP, protocol, port), to that port's group. */
    char *expected = xasprintf(
        "table=40 priority=200 ct_state=+new+trk,tcp,nw_dst=10.96.0.10,"
        "tp_dst=80 actions=group:%"PRIu32"\n"
        "table=40 priority=200 ct_state=+new+trk,tcp,nw_dst=10.96.0.11,"
        "tp_dst=80 actions=group:%"PRIu32"\n"
        "table=40 priority=200 ct_state=+new+trk,udp,nw_dst=10.96.0.10,"
        "tp_dst=53 actions=group:%"PRIu32"\n"
        "table=40 priority=200 ct_state=+new+trk,udp,nw_dst=10.96.0.11,"
        "tp_dst=53 actions=group:%"PRIu32"\n",
        tcp->group_id, tcp->group_id, udp->group_id, udp->group_id);
    s = format_table(&f.ft, web, KOVS_T_SERVICE_LB);
    CHECK_TEXT(s, expected, "SERVICE_LB flows");
    free(s);
    free(expected);

    /* One bucket per endpoint, in address order. */
    s = format_groups(&f.ft, web);
    CHECK_TEXT(s,
        "service default/web TCP/80: "
        "set_field:0xaf4010a->reg3,set_field:0x1f90/0xffff->reg4,"
        "resubmit(,42) | "
        "set_field:0xaf4010b->reg3,set_field:0x1f90/0xffff->reg4,"
        "resubmit(,42) | "
        "set_field:0xaf4020a->reg3,set_field:0x1f90/0xffff->reg4,"
        "resubmit(,42)\n"
        "service default/web UDP/53: "
        "set_field:0xaf4010a->reg3,set_field:0x14e9/0xffff->reg4,"
        "resubmit(,42) | "
        "set_field:0xaf4010b->reg3,set_field:0x14e9/0xffff->reg4,"
        "resubmit(,42) | "
        "set_field:0xaf4020a->reg3,set_field:0x14e9/0xffff->reg4,"
        "resubmit(,42)\n", "groups");
    free(s);

    /* One ENDPOINT_DNAT flow per endpoint and protocol. */
    s = format_table(&f.ft, web, KOVS_T_ENDPOINT_DNAT);
    CHECK(count_flows(&f.ft, web, KOVS_T_ENDPOINT_DNAT) == 6,
          "expected 6 ENDPOINT_DNAT flows, got\n%s", s);
    static const char *const dnat[] = {
        "table=42 priority=200 tcp,reg3=0xaf4010a,reg4=0x1f90/0xffff "
        "actions=ct(commit,table=50,zone=1,"
        "nat(dst=10.244.1.10:8080),exec(set_field:0x1/0x1->ct_mark))",
        "table=42 priority=200 udp,reg3=0xaf4020a,reg4=0x14e9/0xffff "
        "actions=ct(commit,table=50,zone=1,"
        "nat(dst=10.244.2.10:5353),exec(set_field:0x1/0x1->ct_mark))",
    };
    for (size_t i = 0; i < ARRAY_SIZE(dnat); i++) {
        CHECK(strstr(s, dnat[i]), "expected flow\n    %s\n  in\n%s",
              dnat[i], s);
    }
    free(s);

    CHECK(flow_table_count(&f.ft) == n_base + 4 + 6, "%"PRIuSIZE" flows, "
          "expected %"PRIuSIZE, flow_table_count(&f.ft), n_base + 4 + 6);
    fixture_destroy(&f);
}

/* Returns the relaxed JSON of a Service 'name' (ClusterIP 'ip', UDP port
 * 53) and a slice of 'n' endpoints on n2.  The caller frees it. */
static char *
udp_service_with_endpoints(const char *name, const char *ip, size_t n)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    ds_put_format(&s, "{'kind':'Service','metadata':{'namespace':'default',"
                  "'name':'%s'},'spec':{'clusterIP':'%s','ports':["
                  "{'name':'dns','port':53,'protocol':'UDP'}]}},", name, ip);
    ds_put_format(&s, "{'kind':'EndpointSlice','metadata':{'namespace':"
                  "'default','name':'%s-1','labels':{"
                  "'kubernetes.io/service-name':'%s'}},'addressType':'IPv4',"
                  "'ports':[{'name':'dns','port':5353,'protocol':'UDP'}],"
                  "'endpoints':[", name, name);
    for (size_t i = 0; i < n; i++) {
        ds_put_format(&s, "{'addresses':['10.244.%"PRIuSIZE".%"PRIuSIZE"'],"
                      "'nodeName':'n2','conditions':{}},",
                      100 + i / 200, i % 200 + 1);
    }
    ds_put_cstr(&s, "]},");
    return ds_steal_cstr(&s);
}

/* Formats the groups of 'cookie' as the switch would list them, without
 * their buckets but with their number and weights: "selection_method=...
 * N buckets, weights W,W,...", one per line, sorted. */
static char *
format_group_selections(const struct flow_table *ft, uint64_t cookie)
{
    struct svec lines = SVEC_EMPTY_INITIALIZER;
    const struct desired_group *g;
    FLOW_TABLE_FOR_EACH_GROUP (g, ft) {
        if (g->cookie != cookie) {
            continue;
        }
        struct ds s = DS_EMPTY_INITIALIZER;
        struct ofputil_group_props props;
        flow_group_get_props(g, &props);
        flow_group_props_format(&props, &s);
        ofputil_group_properties_destroy(&props);
        ds_put_format(&s, " %"PRIuSIZE" buckets, weights ", g->n_buckets);
        for (size_t i = 0; i < g->n_buckets; i++) {
            if (!i || g->buckets[i].weight != g->buckets[i - 1].weight) {
                ds_put_format(&s, "%s%"PRIu16, i ? "," : "",
                              g->buckets[i].weight);
            }
        }
        svec_add_nocopy(&lines, ds_steal_cstr(&s));
    }
    svec_sort(&lines);
    char *all = svec_join(&lines, "\n", lines.n ? "\n" : "");
    svec_destroy(&lines);
    return all;
}

static void
test_service_group_selection(void)
{
    struct fixture f;
    fixture_init(&f);
    char *small = udp_service_with_endpoints("small", "10.96.0.10", 3);
    char *dp_max = udp_service_with_endpoints("dpmax", "10.96.0.11", 256);
    char *medium = udp_service_with_endpoints("medium", "10.96.0.12", 300);
    char *large = udp_service_with_endpoints("large", "10.96.0.13", 1201);
    char *all = xasprintf("%s%s%s%s", small, dp_max, medium, large);
    fixture_add(&f, all);
    free(all);
    free(small);
    free(dp_max);
    free(medium);
    free(large);
    flows_compute_all(&f.in, &f.ft, f.ex_table);

    static const struct {
        const char *name;
        const char *groups;
    } cases[] = {
        /* Up to 256 endpoints: the datapath hashes the 5-tuple (the L4
         * hash, algorithm 0, UDP ports included) and ovs-vswitchd maps
         * every hash value to a bucket. */
        { "small", ",selection_method=dp_hash 3 buckets, weights 100\n" },
        { "dpmax", ",selection_method=dp_hash 256 buckets, weights 100\n" },
        /* More than dp_hash can map: ovs-vswitchd hashes the 5-tuple. */
        { "medium", ",selection_method=hash,fields(eth_type,ip_src,"
          "ip_dst,nw_proto,udp_src,udp_dst) 300 buckets, weights 100\n" },
        /* More than one group can hold: groups of nearly equal size that
         * hash the 5-tuple, chosen by dp_hash in proportion to their
         * size. */
        { "large", ",selection_method=dp_hash 3 buckets, weights 401,400\n"
          ",selection_method=hash,fields(eth_type,ip_src,ip_dst,nw_proto,"
          "udp_src,udp_dst) 400 buckets, weights 100\n"
          ",selection_method=hash,fields(eth_type,ip_src,ip_dst,nw_proto,"
          "udp_src,udp_dst) 400 buckets, weights 100\n"
          ",selection_method=hash,fields(eth_type,ip_src,ip_dst,nw_proto,"
          "udp_src,udp_dst) 401 buckets, weights 100\n" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        uint64_t cookie = kovs_cookie(KOVS_OWNER_SERVICE, "default",
                                      cases[i].name);
        char *s = format_group_selections(&f.ft, cookie);
        char *what = xasprintf("groups of default/%s", cases[i].name);
        CHECK_TEXT(s, cases[i].groups, what);
        free(what);
        free(s);
    }

    /* dp_hash's parameter names the L4 hash, which is 0, so the switch
     * shows no parameter. */
    const struct desired_group *g = find_group_by_key(
        &f.ft, "service default/small UDP/53");
    struct ofputil_group_props props;
    flow_group_get_props(g, &props);
    CHECK(props.selection_method_param >> 32 == OVS_HASH_ALG_L4
          && (uint32_t) props.selection_method_param == 0,
          "selection_method_param %#"PRIx64, props.selection_method_param);
    ofputil_group_properties_destroy(&props);
    fixture_destroy(&f);
}

static void
test_service_shared_endpoint(void)
{
    struct fixture f;
    fixture_init(&f);
    flows_compute_all(&f.in, &f.ft, f.ex_table);
    size_t n_base = flow_table_count(&f.ft);

    /* web and api both use 10.244.1.10:8080/TCP. */
    fixture_add(&f,
        HTTP_SERVICE("default", "web", "10.96.0.10")
        SLICE("default", "web-1", "web", PORT("http", 8080),
              EP("10.244.1.10", "n1", ""))
        HTTP_SERVICE("default", "api", "10.96.0.11")
        SLICE("default", "api-1", "api", PORT("http", 8080),
              EP("10.244.1.10", "n1", "")));
    flows_compute_all(&f.in, &f.ft, f.ex_table);

    uint64_t web = kovs_cookie(KOVS_OWNER_SERVICE, "default", "web");
    uint64_t api = kovs_cookie(KOVS_OWNER_SERVICE, "default", "api");
    CHECK(count_flows(&f.ft, web, KOVS_T_ENDPOINT_DNAT) == 1
          && count_flows(&f.ft, api, KOVS_T_ENDPOINT_DNAT) == 1,
          "each Service should want the endpoint's ENDPOINT_DNAT flow");
    CHECK(count_keys(&f.ft, KOVS_T_ENDPOINT_DNAT,
                     KOVS_PRIO_ENDPOINT_DNAT) == 1,
          "%"PRIuSIZE" ENDPOINT_DNAT keys, expected 1",
          count_keys(&f.ft, KOVS_T_ENDPOINT_DNAT, KOVS_PRIO_ENDPOINT_DNAT));
    CHECK(flow_table_count(&f.ft) == n_base + 2 + 1, "%"PRIuSIZE" flows, "
          "expected %"PRIuSIZE" (2 SERVICE_LB, 1 ENDPOINT_DNAT)",
          flow_table_count(&f.ft), n_base + 3);

    /* Either Service may go first: the flow stays for the other. */
    static const char *const order[] = { "web", "api" };
    for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
        flow_table_clear_tracked(&f.ft);
        ovs_assert(k8s_cluster_delete(&f.cluster, K8S_SERVICE, "default",
                                      order[i]));
        struct flows_changes changes;
        flows_changes_init(&changes);
        changes.k8s = &f.cluster.changes;
        flows_compute_changes(&f.in, &changes, &f.ft, f.ex_table);
        flows_changes_destroy(&changes);
        k8s_cluster_clear_changes(&f.cluster);

        size_t left = ARRAY_SIZE(order) - i - 1;
        CHECK(count_keys(&f.ft, KOVS_T_ENDPOINT_DNAT, KOVS_PRIO_ENDPOINT_DNAT)
              == (left ? 1 : 0), "after deleting default/%s: %"PRIuSIZE
              " ENDPOINT_DNAT keys, expected %d", order[i],
              count_keys(&f.ft, KOVS_T_ENDPOINT_DNAT, KOVS_PRIO_ENDPOINT_DNAT),
              left ? 1 : 0);
        CHECK(flow_table_count(&f.ft) == n_base + 2 * left,
              "after deleting default/%s: %"PRIuSIZE" flows, expected "
              "%"PRIuSIZE, order[i], flow_table_count(&f.ft),
              n_base + 2 * left);
        if (left) {
            CHECK(count_flows(&f.ft, api, KOVS_T_ENDPOINT_DNAT) == 1,
                  "default/api lost its ENDPOINT_DNAT flow");
        }
    }
    fixture_destroy(&f);
}

static bool
tracked_flow_has_twin(const struct flow_table *ft,
                      const struct desired_flow *self)
{
    const struct desired_flow *d;
    FLOW_TABLE_FOR_EACH_TRACKED (d, ft) {
        if (d != self && d->removed != self->removed
            && d->table_id == self->table_id
            && d->priority == self->priority
            && minimatch_equal(&d->match, &self->match)
            && ofpacts_equal(d->ofpacts, d->ofpacts_len, self->ofpacts,
                             self->ofpacts_len)) {
            return true;
        }
    }
    return false;
}

static void
test_service_endpoint_removed(void)
{
    struct fixture f;
    fixture_init(&f);
    /* web and api share 10.244.1.10; web also has 10.244.1.11 and
     * 10.244.2.10. */
    fixture_add(&f,
        HTTP_SERVICE("default", "web", "10.96.0.10")
        SLICE("default", "web-1", "web", PORT("http", 8080),
              EP("10.244.1.10", "n1", "")
              EP("10.244.1.11", "n1", "")
              EP("10.244.2.10", "n2", ""))
        HTTP_SERVICE("default", "api", "10.96.0.11")
        SLICE("default", "api-1", "api", PORT("http", 8080),
              EP("10.244.1.10", "n1", "")
              EP("10.244.2.11", "n2", "")));
    flows_compute_all(&f.in, &f.ft, f.ex_table);
    flow_table_clear_tracked(&f.ft);
    size_t n_before = flow_table_count(&f.ft);
    uint64_t web = kovs_cookie(KOVS_OWNER_SERVICE, "default", "web");
    const struct desired_group *g = find_group_by_key(
        &f.ft, "service default/web TCP/80");
    ovs_assert(g);
    uint32_t group_id = g->group_id;

    /* 10.244.1.11 leaves the slice. */
    fixture_put(&f,
        SLICE("default", "web-1", "web", PORT("http", 8080),
              EP("10.244.1.10", "n1", "")
              EP("10.244.2.10", "n2", "")));
    struct flows_changes changes;
    flows_changes_init(&changes);
    changes.k8s = &f.cluster.changes;
    size_t n = flows_compute_changes(&f.in, &changes, &f.ft, f.ex_table);
    flows_changes_destroy(&changes);
    CHECK(n == 1, "recomputed %"PRIuSIZE" owners, expected 1", n);

    /* The switch must see exactly one change: the removed endpoint's
     * ENDPOINT_DNAT flow.  Every other tracked entry is a removal and an
     * addition of the same flow, which ofctrl sends nothing for. */
    const struct desired_flow *d;
    size_t n_tracked = 0, n_deleted = 0;
    FLOW_TABLE_FOR_EACH_TRACKED (d, &f.ft) {
        n_tracked++;
        char *s = format_flow(d);
        CHECK(d->cookie == web, "tracked a flow of cookie %#"PRIx64": %s",
              d->cookie, s);
        const struct desired_flow *now = effective_flow(&f.ft, d);
        if (d->removed && !now) {
            n_deleted++;
            CHECK(strstr(s, "table=42 priority=200 tcp,reg3=0xaf4010b,"),
                  "deleted flow %s, expected only 10.244.1.11's "
                  "ENDPOINT_DNAT flow", s);
        } else if (d->removed
                   && !ofpacts_equal(now->ofpacts, now->ofpacts_len,
                                     d->ofpacts, d->ofpacts_len)) {
            char *now_s = format_flow(now);
            CHECK(false, "flow changed from\n    %s\n  to\n    %s", s,
                  now_s);
            free(now_s);
        } else if (!d->removed) {
            CHECK(tracked_flow_has_twin(&f.ft, d),
                  "flow added or changed: %s", s);
        }
        free(s);
    }
    CHECK(n_deleted == 1, "%"PRIuSIZE" flows deleted, expected 1",
          n_deleted);
    /* 1 SERVICE_LB and 3 ENDPOINT_DNAT out, 1 and 2 in. */
    CHECK(n_tracked == 7, "tracked %"PRIuSIZE" entries, expected 7",
          n_tracked);
    CHECK(flow_table_count(&f.ft) == n_before - 1, "%"PRIuSIZE" flows, "
          "expected %"PRIuSIZE, flow_table_count(&f.ft), n_before - 1);

    /* Only web's group is tracked: out with 3 buckets, in with 2, same
     * id. */
    size_t n_out = 0, n_in = 0;
    FLOW_TABLE_FOR_EACH_TRACKED_GROUP (g, &f.ft) {
        CHECK(g->cookie == web && g->group_id == group_id,
              "tracked group %s (id %"PRIu32")", g->key, g->group_id);
        if (g->removed) {
            n_out++;
            CHECK(g->n_buckets == 3, "old group has %"PRIuSIZE" buckets",
                  g->n_buckets);
        } else {
            n_in++;
            CHECK(g->n_buckets == 2, "new group has %"PRIuSIZE" buckets",
                  g->n_buckets);
        }
    }
    CHECK(n_out == 1 && n_in == 1, "%"PRIuSIZE" groups removed and "
          "%"PRIuSIZE" added, expected 1 and 1", n_out, n_in);
    fixture_destroy(&f);
}

#define DNS_SERVICE(NS, NAME, IP)                                       \
    SERVICE(NS, NAME, "'clusterIP':'" IP "','ports':[{'name':'dns',"    \
            "'port':53,'targetPort':5353,'protocol':'UDP'}]")

/* Returns the number of flushes in 'flushes', and checks that the first
 * is the one of UDP endpoint 'ip':5353, if 'ip' is nonnull. */
static size_t
check_ct_flushes(const struct ovs_list *flushes, const char *ip)
{
    const struct flows_ct_flush *flush;
    size_t n = 0;
    LIST_FOR_EACH (flush, list_node, flushes) {
        if (!n++ && ip) {
            CHECK(in6_addr_get_mapped_ipv4(&flush->reply_src)
                  == inet_addr(ip)
                  && flush->reply_src_port == htons(5353)
                  && flush->ip_proto == IPPROTO_UDP
                  && flush->zone == KOVS_CT_ZONE_POD,
                  "flush of "IP_FMT":%"PRIu16" proto %"PRIu8" zone "
                  "%"PRIu16", expected %s:5353 udp zone %d",
                  IP_ARGS(in6_addr_get_mapped_ipv4(&flush->reply_src)),
                  ntohs(flush->reply_src_port),
                  flush->ip_proto, flush->zone, ip, KOVS_CT_ZONE_POD);
        }
    }
    return n;
}

static void
test_service_udp_endpoint_flush(void)
{
    struct fixture f;
    fixture_init(&f);
    /* dns and dns2 share 10.244.1.10; dns also has 10.244.1.11; web (TCP)
     * has 10.244.1.12. */
    fixture_add(&f,
        DNS_SERVICE("default", "dns", "10.96.0.20")
        SLICE("default", "dns-1", "dns", PORT_PROTO("dns", 5353, "UDP"),
              EP("10.244.1.10", "n1", "")
              EP("10.244.1.11", "n1", ""))
        DNS_SERVICE("default", "dns2", "10.96.0.21")
        SLICE("default", "dns2-1", "dns2", PORT_PROTO("dns", 5353, "UDP"),
              EP("10.244.1.10", "n1", ""))
        HTTP_SERVICE("default", "web", "10.96.0.10")
        SLICE("default", "web-1", "web", PORT("http", 8080),
              EP("10.244.1.12", "n1", "")));
    flows_compute_all(&f.in, &f.ft, f.ex_table);

    /* Adding flows flushes nothing. */
    struct ovs_list flushes = OVS_LIST_INITIALIZER(&flushes);
    flows_ct_flushes_for_changes(&f.ft, &flushes);
    size_t n = check_ct_flushes(&flushes, NULL);
    CHECK(n == 0, "%"PRIuSIZE" flushes after adding flows, expected 0", n);
    flow_table_clear_tracked(&f.ft);

    /* Every endpoint leaves dns and web: only 10.244.1.11's entries go,
     * since dns2 still uses 10.244.1.10 and web's is TCP. */
    fixture_put(&f,
        SLICE("default", "dns-1", "dns", PORT_PROTO("dns", 5353, "UDP"), ""));
    fixture_put(&f, SLICE("default", "web-1", "web", PORT("http", 8080), ""));
    size_t n_owners = compute_changes(&f);
    CHECK(n_owners == 2, "recomputed %"PRIuSIZE" owners, expected 2",
          n_owners);
    flows_ct_flushes_for_changes(&f.ft, &flushes);
    n = check_ct_flushes(&flushes, "10.244.1.11");
    CHECK(n == 1, "%"PRIuSIZE" flushes, expected 1", n);
    flows_ct_flushes_destroy(&flushes);
    CHECK(ovs_list_is_empty(&flushes), "flushes left after destroy");

    /* A flow found on the switch tells what it stood for: dns2's
     * ENDPOINT_DNAT flow stands for 10.244.1.10's UDP entries, a TCP
     * endpoint's for nothing. */
    const struct desired_flow *d;
    size_t n_udp = 0;
    FLOW_TABLE_FOR_EACH (d, &f.ft) {
        struct flows_ct_flush flush;
        if (flows_ct_flush_for_flow(d->table_id, &d->match, &flush)) {
            n_udp++;
            CHECK(d->table_id == KOVS_T_ENDPOINT_DNAT
                  && (in6_addr_get_mapped_ipv4(&flush.reply_src)
                      == inet_addr("10.244.1.10"))
                  && flush.reply_src_port == htons(5353),
                  "flow in table %"PRIu8" flushes "IP_FMT":%"PRIu16,
                  d->table_id,
                  IP_ARGS(in6_addr_get_mapped_ipv4(&flush.reply_src)),
                  ntohs(flush.reply_src_port));
        }
    }
    CHECK(n_udp == 1, "%"PRIuSIZE" flows stand for UDP entries, expected 1",
          n_udp);
    fixture_destroy(&f);
}

static void
test_service_no_endpoints(void)
{
    struct fixture f;
    fixture_init(&f);
    fixture_add(&f,
        SERVICE("default", "empty",
                "'clusterIP':'10.96.0.10','ports':["
                "{'name':'http','port':80},"
                "{'name':'dns','port':53,'protocol':'UDP'}]")
        /* Endpoints, none usable. */
        HTTP_SERVICE("default", "down", "10.96.0.11")
        SLICE("default", "down-1", "down", PORT("http", 8080),
              EP("10.244.1.10", "n1", "'ready':false")));
    flows_compute_all(&f.in, &f.ft, f.ex_table);

    uint64_t empty = kovs_cookie(KOVS_OWNER_SERVICE, "default", "empty");
    uint64_t down = kovs_cookie(KOVS_OWNER_SERVICE, "default", "down");
    char *s = format_flows(&f.ft, empty);
    CHECK_TEXT(s,
        "table=40 priority=200 ct_state=+new+trk,tcp,nw_dst=10.96.0.10,"
        "tp_dst=80 actions=controller(userdata=01,meter_id=1)\n"
        "table=40 priority=200 ct_state=+new+trk,udp,nw_dst=10.96.0.10,"
        "tp_dst=53 actions=controller(userdata=01,meter_id=1)\n",
        "flows of default/empty");
    free(s);
    s = format_flows(&f.ft, down);
    CHECK_TEXT(s,
        "table=40 priority=200 ct_state=+new+trk,tcp,nw_dst=10.96.0.11,"
        "tp_dst=80 actions=controller(userdata=01,meter_id=1)\n",
        "flows of default/down");
    free(s);
    s = format_groups(&f.ft, 0);
    CHECK(!*s, "expected no groups, got\n%s", s);
    free(s);
    fixture_destroy(&f);
}

static void
test_service_local_policy(void)
{
    struct fixture f;
    fixture_init(&f);
    fixture_add(&f,
        /* Endpoints on n2 only: drop on n1. */
        SERVICE("default", "remote",
                "'clusterIP':'10.96.0.10','internalTrafficPolicy':'Local',"
                "'ports':[{'name':'http','port':80}]")
        SLICE("default", "remote-1", "remote", PORT("http", 8080),
              EP("10.244.2.10", "n2", ""))
        /* Endpoints on both nodes: only n1's. */
        SERVICE("default", "both",
                "'clusterIP':'10.96.0.11','internalTrafficPolicy':'Local',"
                "'ports':[{'name':'http','port':80}]")
        SLICE("default", "both-1", "both", PORT("http", 8080),
              EP("10.244.1.10", "n1", "")
              EP("10.244.2.10", "n2", ""))
        /* No endpoint anywhere: reject. */
        SERVICE("default", "nowhere",
                "'clusterIP':'10.96.0.12','internalTrafficPolicy':'Local',"
                "'ports':[{'name':'http','port':80}]"));
    flows_compute_all(&f.in, &f.ft, f.ex_table);

    uint64_t remote = kovs_cookie(KOVS_OWNER_SERVICE, "default", "remote");
    char *s = format_flows(&f.ft, remote);
    CHECK_TEXT(s,
        "table=40 priority=200 ct_state=+new+trk,tcp,nw_dst=10.96.0.10,"
        "tp_dst=80 actions=drop\n", "flows of default/remote");
    free(s);
    const struct desired_flow *d;
    FLOW_TABLE_FOR_EACH (d, &f.ft) {
        if (d->cookie == remote) {
            CHECK(!d->ofpacts_len, "the drop flow has %"PRIu32" bytes of "
                  "actions", d->ofpacts_len);
        }
    }
    CHECK(!count_groups(&f.ft, remote), "default/remote has a group");

    s = format_groups(&f.ft, kovs_cookie(KOVS_OWNER_SERVICE, "default",
                                         "both"));
    CHECK_TEXT(s,
        "service default/both TCP/80 local: set_field:0xaf4010a->reg3,"
        "set_field:0x1f90/0xffff->reg4,resubmit(,42)\n",
        "groups of default/both");
    free(s);

    s = format_table(&f.ft, kovs_cookie(KOVS_OWNER_SERVICE, "default",
                                        "nowhere"), KOVS_T_SERVICE_LB);
    CHECK_TEXT(s,
        "table=40 priority=200 ct_state=+new+trk,tcp,nw_dst=10.96.0.12,"
        "tp_dst=80 actions=controller(userdata=01,meter_id=1)\n",
        "flows of default/nowhere");
    free(s);
    fixture_destroy(&f);
}

/* Returns the idle_timeout of the one learn action among the flows of
 * 'cookie', or -1 if there is not exactly one. */
static int
affinity_timeout(const struct flow_table *ft, uint64_t cookie)
{
    const struct desired_flow *d;
    int timeout = -1, n = 0;
    FLOW_TABLE_FOR_EACH (d, ft) {
        if (d->cookie != cookie) {
            continue;
        }
        const struct ofpact *a;
        OFPACT_FOR_EACH (a, d->ofpacts, d->ofpacts_len) {
            if (a->type == OFPACT_LEARN) {
                timeout = ofpact_get_LEARN(a)->idle_timeout;
                n++;
            }
        }
    }
    return n == 1 ? timeout : -1;
}

#define AFFINITY_SERVICE(NAME, IP, CONFIG)                              \
    SERVICE("default", NAME,                                            \
            "'clusterIP':'" IP "','sessionAffinity':'ClientIP',"        \
            CONFIG "'ports':[{'name':'http','port':80}]")               \
    SLICE("default", NAME "-1", NAME, PORT("http", 8080),               \
          EP("10.244.1.10", "n1", "") EP("10.244.2.10", "n2", ""))

static void
test_service_affinity(void)
{
    struct fixture f;
    fixture_init(&f);
    fixture_add(&f,
        AFFINITY_SERVICE("short", "10.96.0.10",
            "'sessionAffinityConfig':{'clientIP':{'timeoutSeconds':300}},")
        AFFINITY_SERVICE("day", "10.96.0.11",
            "'sessionAffinityConfig':{'clientIP':{'timeoutSeconds':86400}},")
        AFFINITY_SERVICE("default", "10.96.0.12", ""));
    flows_compute_all(&f.in, &f.ft, f.ex_table);

    static const struct {
        const char *name;
        int timeout;
    } cases[] = {
        { "short", 300 },
        { "day", 65535 },
        { "default", 10800 },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        uint64_t cookie = kovs_cookie(KOVS_OWNER_SERVICE, "default",
                                      cases[i].name);
        int timeout = affinity_timeout(&f.ft, cookie);
        char *s = format_flows(&f.ft, cookie);
        CHECK(timeout == cases[i].timeout, "default/%s: expected one learn "
              "action with idle_timeout=%d, got %d in\n%s", cases[i].name,
              cases[i].timeout, timeout, s);
        free(s);
    }

    /* Only the Service whose timeout is capped is reported, once, by name
     * and field. */
    char *w = format_warnings(&f.ft);
    CHECK_TEXT(w,
        "Service default/day: "
        "spec.sessionAffinityConfig.clientIP.timeoutSeconds: 86400 is "
        "longer than a learned flow can last (65535 s of inactivity); "
        "using 65535\n", "warnings");
    free(w);

    /* The learned flow matches the client, the VIP and the port and gives
     * back the endpoint. */
    char *s = format_table(&f.ft, kovs_cookie(KOVS_OWNER_SERVICE, "default",
                                              "short"), KOVS_T_SERVICE_LB);
    CHECK(strstr(s, "learn(table=41,idle_timeout=300,priority=200,"),
          "no learn action into AFFINITY in\n%s", s);
    CHECK(strstr(s, "NXM_OF_IP_SRC[],NXM_OF_IP_DST[],NXM_OF_TCP_DST[],"
                 "load:NXM_NX_REG3[]->NXM_NX_REG3[],"
                 "load:NXM_NX_REG4[0..15]->NXM_NX_REG4[0..15]"),
          "the learned flow does not key on client, VIP and port in\n%s",
          s);
    free(s);
    fixture_destroy(&f);
}

/* Recomputing an unchanged Service (with affinity, whose learn action is
 * the most intricate) gives byte-identical flows and groups. */
static void
test_service_recompute_identical(void)
{
    struct fixture f;
    fixture_init(&f);
    fixture_add(&f,
        AFFINITY_SERVICE("sticky", "10.96.0.10",
            "'sessionAffinityConfig':{'clientIP':{'timeoutSeconds':300}},")
        HTTP_SERVICE("default", "web", "10.96.0.11")
        SLICE("default", "web-1", "web", PORT("http", 8080),
              EP("10.244.1.11", "n1", "")));
    flows_compute_all(&f.in, &f.ft, f.ex_table);

    for (int round = 0; round < 2; round++) {
        flow_table_clear_tracked(&f.ft);
        /* Leave garbage in the allocator so that stray padding would
         * show. */
        for (int i = 0; i < 64; i++) {
            void *p = xmalloc(512);
            memset(p, 0xa5 + round, 512);
            free(p);
        }
        if (round) {
            flows_compute_all(&f.in, &f.ft, f.ex_table);
        } else {
            flows_service_compute(&f.in, "default", "sticky", &f.ft,
                                  f.ex_table);
        }

        size_t n_removed = 0, n_same = 0;
        const struct desired_flow *old;
        FLOW_TABLE_FOR_EACH_TRACKED (old, &f.ft) {
            if (!old->removed || kovs_cookie_kind(old->cookie)
                                 != KOVS_OWNER_SERVICE) {
                continue;
            }
            n_removed++;
            const struct desired_flow *new = effective_flow(&f.ft, old);
            if (new && ofpacts_equal(new->ofpacts, new->ofpacts_len,
                                     old->ofpacts, old->ofpacts_len)) {
                n_same++;
            } else {
                char *s = format_flow(old);
                CHECK(false, "round %d: recomputed flow differs: %s",
                      round, s);
                free(s);
            }
        }
        CHECK(n_removed && n_same == n_removed, "round %d: %"PRIuSIZE
              " of %"PRIuSIZE" recomputed flows have identical actions",
              round, n_same, n_removed);

        size_t n_groups = 0;
        const struct desired_group *g;
        FLOW_TABLE_FOR_EACH_TRACKED_GROUP (g, &f.ft) {
            if (!g->removed) {
                continue;
            }
            n_groups++;
            const struct desired_group *new = flow_table_find_group(
                &f.ft, g->group_id);
            bool same = new && new->n_buckets == g->n_buckets;
            for (size_t i = 0; same && i < g->n_buckets; i++) {
                same = ofpacts_equal(new->buckets[i].ofpacts,
                                     new->buckets[i].ofpacts_len,
                                     g->buckets[i].ofpacts,
                                     g->buckets[i].ofpacts_len);
            }
            CHECK(same, "round %d: recomputed group %s differs", round,
                  g->key);
        }
        CHECK(n_groups == (round ? 2 : 1), "round %d: %"PRIuSIZE" groups "
              "recomputed", round, n_groups);
    }
    fixture_destroy(&f);
}

/* The external bridge.
 *
 * n1's node IP, 198.18.0.11, is on br-ex, whose uplink is its port 1 and
 * whose patch port to br-int is its port 2; br-int's patch port to br-ex is
 * port 7.  The node IP's subnet is 198.18.0.0/24, with the default gateway
 * 198.18.0.1; the cluster CIDR is 10.244.0.0/16. */

#define EX_COOKIE kovs_cookie(KOVS_OWNER_EXTERNAL, NULL, "")
#define NEIGHBOR_COOKIE kovs_cookie(KOVS_OWNER_NEIGHBOR, NULL, "")

/* Gives 'f' the external bridge described above, linking br-ex's flow
 * table to br-int's. */
static void
fixture_external(struct fixture *f)
{
    f->ex = (struct flows_external) {
        .patch_ofport = u16_to_ofp(7),
        .ex_patch_ofport = u16_to_ofp(2),
        .uplink_ofport = u16_to_ofp(1),
        .mac = ETH_ADDR_C(02,00,c6,12,00,0b),
        .node_ip = htonl(0xc612000b),           /* 198.18.0.11 */
        .subnet_mask = htonl(0xffffff00),
        .gateway_ip = htonl(0xc6120001),        /* 198.18.0.1 */
    };
    f->in.external = &f->ex;
    f->ex_table = &f->ex_ft;

    char *error = k8s_parse_dual_cidr_option("cluster-cidr", "10.244.0.0/16",
                                             &f->in.cluster_cidr);
    ovs_assert(!error);
}

/* Without an external bridge there are no external or neighbor flows, no
 * SNAT, and no front ends for NodePorts or external addresses, even with
 * br-ex's table linked. */
static void
test_external_absent(void)
{
    struct fixture f;
    fixture_init(&f);
    f.ex_table = &f.ex_ft;
    fixture_add(&f,
        SERVICE("default", "np",
                "'type':'NodePort','clusterIP':'10.96.0.10',"
                "'externalIPs':['203.0.113.5'],"
                "'ports':[{'name':'http','port':80,'nodePort':30080}]")
        SLICE("default", "np-1", "np", PORT("http", 8080),
              EP("10.244.2.10", "n2", "")));
    flows_compute_all(&f.in, &f.ft, f.ex_table);

    CHECK(!flow_table_owner_count(&f.ft, EX_COOKIE), "%"PRIuSIZE
          " external flows", flow_table_owner_count(&f.ft, EX_COOKIE));
    CHECK(!flow_table_owner_count(&f.ft, NEIGHBOR_COOKIE), "%"PRIuSIZE
          " neighbor flows", flow_table_owner_count(&f.ft, NEIGHBOR_COOKIE));
    char *s = format_flows(&f.ex_ft, 0);
    CHECK(!*s, "br-ex has flows:\n%s", s);
    free(s);

    /* The peer node: its classifier and its two routes, no SNAT. */
    uint64_t n2 = kovs_cookie(KOVS_OWNER_NODE, NULL, "n2");
    s = format_table(&f.ft, n2, KOVS_T_SNAT);
    CHECK(!*s, "SNAT flows without br-ex:\n%s", s);
    free(s);
    CHECK(flow_table_owner_count(&f.ft, n2) == 3, "peer node has %"PRIuSIZE
          " flows", flow_table_owner_count(&f.ft, n2));

    /* The Service: its ClusterIP only. */
    uint64_t np = kovs_cookie(KOVS_OWNER_SERVICE, "default", "np");
    s = format_table(&f.ft, np, KOVS_T_SERVICE_LB);
    CHECK(count_flows(&f.ft, np, KOVS_T_SERVICE_LB) == 1
          && strstr(s, "nw_dst=10.96.0.10,"),
          "expected only the ClusterIP's SERVICE_LB flow, got\n%s", s);
    free(s);
    fixture_destroy(&f);
}

/* br-ex is a NORMAL switch except for what kovs takes. */
static void
test_external_bridge_flows(void)
{
    struct fixture f;
    fixture_init(&f);
    fixture_external(&f);
    flows_compute_all(&f.in, &f.ft, f.ex_table);

    char *s = format_flows(&f.ex_ft, 0);
    CHECK_TEXT(s,
        "table=0 priority=0  actions=NORMAL\n"
        "table=0 priority=100 ip,in_port=1,nw_dst=198.18.0.11 "
        "actions=ct(table=1,zone=2)\n"
        "table=0 priority=110 udp,in_port=1,nw_dst=198.18.0.11,tp_dst=4789 "
        "actions=NORMAL\n"
        "table=0 priority=200 arp,in_port=1,arp_tpa=198.18.0.11,arp_op=2 "
        "actions=NORMAL,output:2\n"
        "table=0 priority=300 in_port=2 actions=output:1\n"
        "table=1 priority=0  actions=NORMAL\n"
        "table=1 priority=200 ct_state=+est+trk actions=output:2\n"
        "table=1 priority=200 ct_state=+rel+trk actions=output:2\n",
        "br-ex's flows");
    free(s);
    CHECK(flow_table_owner_count(&f.ex_ft, EX_COOKIE) == 8,
          "br-ex has %"PRIuSIZE" external flows",
          flow_table_owner_count(&f.ex_ft, EX_COOKIE));

    /* The summary that flow-summary prints lists br-ex's tables after
     * br-int's. */
    struct ds summary = DS_EMPTY_INITIALIZER;
    kovs_pipeline_summary(&f.ft, &f.ex_ft, &summary);
    const char *ex = strstr(ds_cstr(&summary), "br-ex ");
    CHECK_TEXT(ex ? ex : "",
        "br-ex table  0 EX_IN                 5 flows\n"
        "br-ex table  1 EX_SNAT_REPLY         3 flows\n",
        "br-ex's lines of the flow summary");
    CHECK(strstr(ds_cstr(&summary), "table 60 L3_FORWARDING "),
          "no L3_FORWARDING line in the summary:\n%s", ds_cstr(&summary));
    ds_destroy(&summary);

    /* Nothing before the node has a podCIDR or the gateway a port. */
    f.in.gateway_ofport = 0;
    flows_compute_all(&f.in, &f.ft, f.ex_table);
    CHECK(!flow_table_count(&f.ex_ft), "%"PRIuSIZE" br-ex flows without "
          "the gateway's port", flow_table_count(&f.ex_ft));
    CHECK(!flow_table_owner_count(&f.ft, EX_COOKIE), "%"PRIuSIZE
          " br-int external flows without the gateway's port",
          flow_table_owner_count(&f.ft, EX_COOKIE));
    fixture_destroy(&f);
}

/* br-int's side: classification of the patch port, ARP to the controller,
 * un-SNAT of the node IP, and the routes out through br-ex. */
static void
test_external_int_flows(void)
{
    struct fixture f;
    fixture_init(&f);
    fixture_external(&f);
    flows_compute_all(&f.in, &f.ft, f.ex_table);

    static const uint8_t tables[] = {
        KOVS_T_CLASSIFIER, KOVS_T_ARP, KOVS_T_CT_ZONE, KOVS_T_L3_FORWARDING,
        KOVS_T_NEIGHBOR,
    };
    struct ds got = DS_EMPTY_INITIALIZER;
    for (size_t i = 0; i < ARRAY_SIZE(tables); i++) {
        char *s = format_table(&f.ft, EX_COOKIE, tables[i]);
        ds_put_cstr(&got, s);
        free(s);
    }
    CHECK_TEXT(ds_cstr(&got),
        "table=0 priority=200 in_port=7 "
        "actions=set_field:0x4/0xf->reg0,goto_table:20\n"
        "table=20 priority=310 arp,reg0=0x4/0xf,arp_tpa=198.18.0.11,"
        "arp_op=2 actions=controller(userdata=03,meter_id=3)\n"
        "table=30 priority=200 ct_state=-trk,ip,nw_dst=198.18.0.11 "
        "actions=ct(table=30,zone=2,nat)\n"
        /* Outside the cluster, through br-ex: the default gateway, ... */
        "table=60 priority=1 ip actions=set_field:0xc6120001->reg5,"
        "set_field:02:00:c6:12:00:0b->eth_src,dec_ttl,set_field:0x7->reg1,"
        "goto_table:62\n"
        /* ... or the destination itself on the node IP's subnet. */
        "table=60 priority=2 ip,nw_dst=198.18.0.0/24 "
        "actions=move:NXM_OF_IP_DST[]->NXM_NX_REG5[],"
        "set_field:02:00:c6:12:00:0b->eth_src,dec_ttl,set_field:0x7->reg1,"
        "goto_table:62\n"
        /* The node IP is the node's stack's. */
        "table=60 priority=200 ip,nw_dst=198.18.0.11 "
        "actions=set_field:aa:bb:cc:dd:ee:ff->eth_src,"
        "set_field:0a:58:0a:f4:01:01->eth_dst,set_field:0x2->reg1,"
        "goto_table:62\n"
        /* Never from outside back out, never into the cluster CIDR. */
        "table=60 priority=3 ip,reg0=0x4/0xf actions=drop\n"
        "table=60 priority=50 ip,nw_dst=10.244.0.0/16 actions=drop\n"
        "table=62 priority=100 reg1=0x7 "
        "actions=controller(userdata=02,meter_id=2)\n",
        "br-int's external flows");
    ds_destroy(&got);

    /* Without a default gateway only the subnet is routed out; without a
     * cluster CIDR nothing is dropped for it. */
    f.ex.gateway_ip = 0;
    f.in.cluster_cidr.has_ipv4 = false;
    flows_compute_all(&f.in, &f.ft, f.ex_table);
    char *s = format_table(&f.ft, EX_COOKIE, KOVS_T_L3_FORWARDING);
    CHECK_TEXT(s,
        "table=60 priority=2 ip,nw_dst=198.18.0.0/24 "
        "actions=move:NXM_OF_IP_DST[]->NXM_NX_REG5[],"
        "set_field:02:00:c6:12:00:0b->eth_src,dec_ttl,set_field:0x7->reg1,"
        "goto_table:62\n"
        "table=60 priority=200 ip,nw_dst=198.18.0.11 "
        "actions=set_field:aa:bb:cc:dd:ee:ff->eth_src,"
        "set_field:0a:58:0a:f4:01:01->eth_dst,set_field:0x2->reg1,"
        "goto_table:62\n"
        "table=60 priority=3 ip,reg0=0x4/0xf actions=drop\n",
        "L3_FORWARDING without gateway or cluster CIDR");
    free(s);
    fixture_destroy(&f);
}

/* Connections leaving through br-ex are masqueraded to the node IP: new
 * ones committed in the pod zone first unless a Service's DNAT did it,
 * established ones with their own translation. */
static void
test_external_snat(void)
{
    struct fixture f;
    fixture_init(&f);
    fixture_external(&f);
    flows_compute_all(&f.in, &f.ft, f.ex_table);

    char *s = format_table(&f.ft, EX_COOKIE, KOVS_T_SNAT);
    CHECK_TEXT(s,
        "table=65 priority=100 ct_state=+new+trk,ct_mark=0/0x1,ip,reg1=0x7 "
        "actions=ct(commit,zone=1),"
        "ct(commit,table=90,zone=2,nat(src=198.18.0.11:61000-65535))\n"
        "table=65 priority=100 ct_state=+new+trk,ct_mark=0x1/0x1,ip,"
        "reg1=0x7 actions="
        "ct(commit,table=90,zone=2,nat(src=198.18.0.11:61000-65535))\n"
        "table=65 priority=100 ct_state=-new+trk,ip,reg1=0x7 "
        "actions=ct(table=90,zone=2,nat)\n",
        "SNAT flows");
    free(s);
    /* CLASSIFIER, ARP, CT_ZONE, NEIGHBOR: 1 each; L3_FORWARDING: 5;
     * SNAT: 3. */
    CHECK(flow_table_owner_count(&f.ft, EX_COOKIE) == 12,
          "%"PRIuSIZE" external flows on br-int, expected 12",
          flow_table_owner_count(&f.ft, EX_COOKIE));
    fixture_destroy(&f);
}

/* An IPv4-mapped IPv6 address, as a constant initializer. */
#define IN6_V4MAPPED_INIT(A, B, C, D) \
    { { { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, A, B, C, D } } }

/* One NEIGHBOR flow per resolved next hop, recomputed on its own. */
static void
test_external_neighbors(void)
{
    struct fixture f;
    fixture_init(&f);
    fixture_external(&f);
    flows_compute_all(&f.in, &f.ft, f.ex_table);
    CHECK(!flow_table_owner_count(&f.ft, NEIGHBOR_COOKIE),
          "neighbor flows without neighbors");

    static const struct flows_neighbor neighbors[] = {
        { .ip = IN6_V4MAPPED_INIT(198, 18, 0, 1),
          .mac = ETH_ADDR_C(02,00,c6,12,00,01) },
        { .ip = IN6_V4MAPPED_INIT(198, 18, 0, 12),
          .mac = ETH_ADDR_C(02,00,c6,12,00,0c) },
    };
    f.ex.neighbors = neighbors;
    f.ex.n_neighbors = ARRAY_SIZE(neighbors);
    flow_table_clear_tracked(&f.ft);
    struct flows_changes changes;
    flows_changes_init(&changes);
    changes.k8s = &f.cluster.changes;
    changes.neighbors = true;
    size_t n = flows_compute_changes(&f.in, &changes, &f.ft, f.ex_table);
    CHECK(n == 1, "recomputed %"PRIuSIZE" owners, expected 1", n);

    char *s = format_flows(&f.ft, NEIGHBOR_COOKIE);
    CHECK_TEXT(s,
        "table=62 priority=200 reg1=0x7,reg5=0xc6120001 "
        "actions=set_field:02:00:c6:12:00:01->eth_dst,goto_table:65\n"
        "table=62 priority=200 reg1=0x7,reg5=0xc612000c "
        "actions=set_field:02:00:c6:12:00:0c->eth_dst,goto_table:65\n",
        "NEIGHBOR flows");
    free(s);
    const struct desired_flow *d;
    size_t n_tracked = 0;
    FLOW_TABLE_FOR_EACH_TRACKED (d, &f.ft) {
        CHECK(d->cookie == NEIGHBOR_COOKIE && !d->removed,
              "tracked a flow of cookie %#"PRIx64, d->cookie);
        n_tracked++;
    }
    CHECK(n_tracked == 2, "tracked %"PRIuSIZE" flows, expected 2",
          n_tracked);

    /* One forgotten: its flow goes. */
    f.ex.n_neighbors = 1;
    flows_compute_changes(&f.in, &changes, &f.ft, f.ex_table);
    CHECK(flow_table_owner_count(&f.ft, NEIGHBOR_COOKIE) == 1,
          "%"PRIuSIZE" neighbor flows, expected 1",
          flow_table_owner_count(&f.ft, NEIGHBOR_COOKIE));
    flows_changes_destroy(&changes);
    fixture_destroy(&f);
}

/* A peer node's IP goes through its tunnel; with br-ex, Service connections
 * from outside this node sent to that node are masqueraded to the node
 * IP. */
static void
test_external_node_snat(void)
{
    struct fixture f;
    fixture_init(&f);
    fixture_external(&f);
    flows_compute_all(&f.in, &f.ft, f.ex_table);

    uint64_t n2 = kovs_cookie(KOVS_OWNER_NODE, NULL, "n2");
    char *s = format_table(&f.ft, n2, KOVS_T_L3_FORWARDING);
    CHECK_TEXT(s,
        "table=60 priority=200 ip,nw_dst=10.244.2.0/24 actions="
        "set_field:0a:58:0a:f4:01:01->eth_src,set_field:aa:bb:cc:dd:ee:ff->"
        "eth_dst,dec_ttl,set_field:0x1->tun_id,"
        "check_pkt_larger(1464)->NXM_NX_REG0[9],set_field:0x3->reg1,"
        "goto_table:62\n"
        "table=60 priority=200 ip,nw_dst=198.18.0.12 actions="
        "set_field:0a:58:0a:f4:01:01->eth_src,set_field:aa:bb:cc:dd:ee:ff->"
        "eth_dst,dec_ttl,set_field:0x1->tun_id,"
        "check_pkt_larger(1464)->NXM_NX_REG0[9],set_field:0x3->reg1,"
        "goto_table:62\n",
        "n2's routes");
    free(s);

    s = format_table(&f.ft, n2, KOVS_T_SNAT);
    CHECK_TEXT(s,
        "table=65 priority=200 ct_state=+new+trk,ct_mark=0x1/0x1,ip,reg0=0x3/0xf,reg1=0x3 "
        "actions=ct(commit,table=70,zone=2,"
        "nat(src=198.18.0.11:61000-65535))\n"
        "table=65 priority=200 ct_state=+new+trk,ct_mark=0x1/0x1,ip,reg0=0x4/0xf,reg1=0x3 "
        "actions=ct(commit,table=70,zone=2,"
        "nat(src=198.18.0.11:61000-65535))\n"
        "table=65 priority=200 ct_state=-new+trk,ip,reg0=0x3/0xf,reg1=0x3 "
        "actions=ct(table=70,zone=2,nat)\n"
        "table=65 priority=200 ct_state=-new+trk,ip,reg0=0x4/0xf,reg1=0x3 "
        "actions=ct(table=70,zone=2,nat)\n",
        "n2's SNAT flows");
    free(s);
    CHECK(flow_table_owner_count(&f.ft, n2) == 7, "peer node has %"PRIuSIZE
          " flows, expected 7", flow_table_owner_count(&f.ft, n2));
    fixture_destroy(&f);
}

/* Returns the id of the group keyed 'key', or 0 (reported) if there is
 * none. */
static uint32_t
group_id_of(const struct flow_table *ft, const char *key)
{
    const struct desired_group *g = find_group_by_key(ft, key);
    CHECK(g, "no group %s", key);
    return g ? g->group_id : 0;
}

/* A NodePort with externalTrafficPolicy Cluster: the node IP and the node
 * port, from anywhere, to any endpoint, like the ClusterIP. */
static void
test_service_nodeport_cluster(void)
{
    struct fixture f;
    fixture_init(&f);
    fixture_external(&f);
    fixture_add(&f,
        SERVICE("default", "web",
                "'type':'NodePort','clusterIP':'10.96.0.10',"
                "'ports':[{'name':'http','port':80,'nodePort':30080},"
                "{'name':'dns','port':53,'protocol':'UDP',"
                "'nodePort':30053}]")
        SLICE("default", "web-1", "web",
              PORT("http", 8080) PORT_PROTO("dns", 5353, "UDP"),
              EP("10.244.1.10", "n1", "")
              EP("10.244.2.10", "n2", "")));
    flows_compute_all(&f.in, &f.ft, f.ex_table);

    uint64_t web = kovs_cookie(KOVS_OWNER_SERVICE, "default", "web");
    uint32_t tcp = group_id_of(&f.ft, "service default/web TCP/80");
    uint32_t udp = group_id_of(&f.ft, "service default/web UDP/53");
    CHECK(count_groups(&f.ft, web) == 2, "%"PRIuSIZE" groups, expected 2",
          count_groups(&f.ft, web));

    char *expected = xasprintf(
        "table=40 priority=200 ct_state=+new+trk,tcp,nw_dst=10.96.0.10,"
        "tp_dst=80 actions=group:%"PRIu32"\n"
        "table=40 priority=200 ct_state=+new+trk,tcp,nw_dst=198.18.0.11,"
        "tp_dst=30080 actions=group:%"PRIu32"\n"
        "table=40 priority=200 ct_state=+new+trk,udp,nw_dst=10.96.0.10,"
        "tp_dst=53 actions=group:%"PRIu32"\n"
        "table=40 priority=200 ct_state=+new+trk,udp,nw_dst=198.18.0.11,"
        "tp_dst=30053 actions=group:%"PRIu32"\n",
        tcp, tcp, udp, udp);
    char *s = format_table(&f.ft, web, KOVS_T_SERVICE_LB);
    CHECK_TEXT(s, expected, "SERVICE_LB flows");
    free(s);
    free(expected);

    s = format_flows(&f.ex_ft, web);
    CHECK_TEXT(s,
        "table=0 priority=200 tcp,in_port=1,nw_dst=198.18.0.11,tp_dst=30080 "
        "actions=output:2\n"
        "table=0 priority=200 udp,in_port=1,nw_dst=198.18.0.11,tp_dst=30053 "
        "actions=output:2\n",
        "br-ex flows");
    free(s);

    /* A ClusterIP Service's nodePort, left over from a former type, is no
     * front end. */
    fixture_put(&f,
        SERVICE("default", "web",
                "'clusterIP':'10.96.0.10',"
                "'ports':[{'name':'http','port':80,'nodePort':30080}]"));
    struct flows_changes changes;
    flows_changes_init(&changes);
    changes.k8s = &f.cluster.changes;
    flows_compute_changes(&f.in, &changes, &f.ft, f.ex_table);
    flows_changes_destroy(&changes);
    CHECK(count_flows(&f.ft, web, KOVS_T_SERVICE_LB) == 1,
          "%"PRIuSIZE" SERVICE_LB flows, expected 1",
          count_flows(&f.ft, web, KOVS_T_SERVICE_LB));
    CHECK(!flow_table_owner_count(&f.ex_ft, web), "%"PRIuSIZE" br-ex flows "
          "for a ClusterIP Service", flow_table_owner_count(&f.ex_ft, web));
    fixture_destroy(&f);
}

/* A NodePort with externalTrafficPolicy Local: from outside, this node's
 * endpoints only, and a drop if it has none while others do; this node's
 * pods and the node itself still get every endpoint. */
static void
test_service_nodeport_local(void)
{
    struct fixture f;
    fixture_init(&f);
    fixture_external(&f);
    fixture_add(&f,
        SERVICE("default", "both",
                "'type':'NodePort','clusterIP':'10.96.0.10',"
                "'externalTrafficPolicy':'Local',"
                "'ports':[{'name':'http','port':80,'nodePort':30080}]")
        SLICE("default", "both-1", "both", PORT("http", 8080),
              EP("10.244.1.10", "n1", "")
              EP("10.244.2.10", "n2", ""))
        SERVICE("default", "remote",
                "'type':'NodePort','clusterIP':'10.96.0.11',"
                "'externalTrafficPolicy':'Local',"
                "'ports':[{'name':'http','port':80,'nodePort':30081}]")
        SLICE("default", "remote-1", "remote", PORT("http", 8080),
              EP("10.244.2.10", "n2", "")));
    flows_compute_all(&f.in, &f.ft, f.ex_table);

    /* Both: the local group for the outside, the whole one inside. */
    uint64_t both = kovs_cookie(KOVS_OWNER_SERVICE, "default", "both");
    uint32_t all = group_id_of(&f.ft, "service default/both TCP/80");
    uint32_t local = group_id_of(&f.ft, "service default/both TCP/80 local");
    char *s = format_groups(&f.ft, both);
    CHECK_TEXT(s,
        "service default/both TCP/80 local: set_field:0xaf4010a->reg3,"
        "set_field:0x1f90/0xffff->reg4,resubmit(,42)\n"
        "service default/both TCP/80: set_field:0xaf4010a->reg3,"
        "set_field:0x1f90/0xffff->reg4,resubmit(,42) | "
        "set_field:0xaf4020a->reg3,set_field:0x1f90/0xffff->reg4,"
        "resubmit(,42)\n",
        "groups of default/both");
    free(s);
    char *expected = xasprintf(
        "table=40 priority=200 ct_state=+new+trk,tcp,nw_dst=10.96.0.10,"
        "tp_dst=80 actions=group:%"PRIu32"\n"
        "table=40 priority=200 ct_state=+new+trk,tcp,nw_dst=198.18.0.11,"
        "tp_dst=30080 actions=group:%"PRIu32"\n"
        "table=40 priority=220 ct_state=+new+trk,tcp,reg0=0x1/0xf,"
        "nw_dst=198.18.0.11,tp_dst=30080 actions=group:%"PRIu32"\n"
        "table=40 priority=220 ct_state=+new+trk,tcp,reg0=0x2/0xf,"
        "nw_dst=198.18.0.11,tp_dst=30080 actions=group:%"PRIu32"\n",
        all, local, all, all);
    s = format_table(&f.ft, both, KOVS_T_SERVICE_LB);
    CHECK_TEXT(s, expected, "SERVICE_LB flows of default/both");
    free(s);
    free(expected);

    /* Remote only: the outside drops, the inside gets the endpoints. */
    uint64_t remote = kovs_cookie(KOVS_OWNER_SERVICE, "default", "remote");
    all = group_id_of(&f.ft, "service default/remote TCP/80");
    CHECK(!find_group_by_key(&f.ft, "service default/remote TCP/80 local"),
          "default/remote has a local group");
    expected = xasprintf(
        "table=40 priority=200 ct_state=+new+trk,tcp,nw_dst=10.96.0.11,"
        "tp_dst=80 actions=group:%"PRIu32"\n"
        "table=40 priority=200 ct_state=+new+trk,tcp,nw_dst=198.18.0.11,"
        "tp_dst=30081 actions=drop\n"
        "table=40 priority=220 ct_state=+new+trk,tcp,reg0=0x1/0xf,"
        "nw_dst=198.18.0.11,tp_dst=30081 actions=group:%"PRIu32"\n"
        "table=40 priority=220 ct_state=+new+trk,tcp,reg0=0x2/0xf,"
        "nw_dst=198.18.0.11,tp_dst=30081 actions=group:%"PRIu32"\n",
        all, all, all);
    s = format_table(&f.ft, remote, KOVS_T_SERVICE_LB);
    CHECK_TEXT(s, expected, "SERVICE_LB flows of default/remote");
    free(s);
    free(expected);

    /* br-ex takes the node port either way. */
    s = format_flows(&f.ex_ft, remote);
    CHECK_TEXT(s,
        "table=0 priority=200 tcp,in_port=1,nw_dst=198.18.0.11,tp_dst=30081 "
        "actions=output:2\n", "br-ex flows of default/remote");
    free(s);
    fixture_destroy(&f);
}

/* A LoadBalancer: its node port, its ingress IP (not one in ipMode Proxy),
 * its external IP; the source ranges apply to the ingress IP only, a flow
 * per range and a drop for the rest. */
static void
test_service_lb_source_ranges(void)
{
    struct fixture f;
    fixture_init(&f);
    fixture_external(&f);
    fixture_add(&f,
        "{'kind':'Service','metadata':{'namespace':'default','name':'lb'},"
        " 'spec':{'type':'LoadBalancer','clusterIP':'10.96.0.10',"
        "  'externalIPs':['203.0.113.5'],"
        "  'loadBalancerSourceRanges':['192.0.2.0/24','2001:db8::/32',"
        "   '198.51.100.0/25'],"
        "  'ports':[{'name':'http','port':80,'nodePort':30080}]},"
        " 'status':{'loadBalancer':{'ingress':["
        "  {'ip':'203.0.113.10'},"
        "  {'ip':'203.0.113.11','ipMode':'Proxy'}]}}},"
        SLICE("default", "lb-1", "lb", PORT("http", 8080),
              EP("10.244.2.10", "n2", "")));
    flows_compute_all(&f.in, &f.ft, f.ex_table);

    uint64_t lb = kovs_cookie(KOVS_OWNER_SERVICE, "default", "lb");
    uint32_t g = group_id_of(&f.ft, "service default/lb TCP/80");
    char *expected = xasprintf(
        "table=40 priority=180 tcp,nw_dst=203.0.113.10,tp_dst=80 "
        "actions=drop\n"
        "table=40 priority=200 ct_state=+new+trk,tcp,nw_dst=10.96.0.10,"
        "tp_dst=80 actions=group:%"PRIu32"\n"
        "table=40 priority=200 ct_state=+new+trk,tcp,nw_dst=198.18.0.11,"
        "tp_dst=30080 actions=group:%"PRIu32"\n"
        "table=40 priority=200 ct_state=+new+trk,tcp,nw_dst=203.0.113.5,"
        "tp_dst=80 actions=group:%"PRIu32"\n"
        "table=40 priority=200 ct_state=+new+trk,tcp,nw_src=192.0.2.0/24,"
        "nw_dst=203.0.113.10,tp_dst=80 actions=group:%"PRIu32"\n"
        "table=40 priority=200 ct_state=+new+trk,tcp,"
        "nw_src=198.51.100.0/25,nw_dst=203.0.113.10,tp_dst=80 "
        "actions=group:%"PRIu32"\n",
        g, g, g, g, g);
    char *s = format_table(&f.ft, lb, KOVS_T_SERVICE_LB);
    CHECK_TEXT(s, expected, "SERVICE_LB flows");
    free(s);
    free(expected);

    s = format_flows(&f.ex_ft, lb);
    CHECK_TEXT(s,
        "table=0 priority=200 tcp,in_port=1,nw_dst=198.18.0.11,tp_dst=30080 "
        "actions=output:2\n"
        "table=0 priority=200 tcp,in_port=1,nw_dst=203.0.113.10,tp_dst=80 "
        "actions=output:2\n"
        "table=0 priority=200 tcp,in_port=1,nw_dst=203.0.113.5,tp_dst=80 "
        "actions=output:2\n",
        "br-ex flows");
    free(s);

    /* Source ranges of the other family do not restrict an IPv4 load
     * balancer IP, as in kube-proxy, which filters them by family. */
    fixture_add(&f,
        "{'kind':'Service','metadata':{'namespace':'default','name':'v6'},"
        " 'spec':{'type':'LoadBalancer','clusterIP':'10.96.0.11',"
        "  'loadBalancerSourceRanges':['2001:db8::/32'],"
        "  'ports':[{'name':'http','port':80}]},"
        " 'status':{'loadBalancer':{'ingress':[{'ip':'203.0.113.20'}]}}},"
        SLICE("default", "v6-1", "v6", PORT("http", 8080),
              EP("10.244.2.10", "n2", "")));
    flows_service_compute(&f.in, "default", "v6", &f.ft, f.ex_table);
    g = group_id_of(&f.ft, "service default/v6 TCP/80");
    expected = xasprintf(
        "table=40 priority=200 ct_state=+new+trk,tcp,nw_dst=10.96.0.11,"
        "tp_dst=80 actions=group:%"PRIu32"\n"
        "table=40 priority=200 ct_state=+new+trk,tcp,nw_dst=203.0.113.20,"
        "tp_dst=80 actions=group:%"PRIu32"\n",
        g, g);
    s = format_table(&f.ft, kovs_cookie(KOVS_OWNER_SERVICE, "default", "v6"),
                     KOVS_T_SERVICE_LB);
    CHECK_TEXT(s, expected, "SERVICE_LB flows with IPv6 source ranges only");
    free(s);
    free(expected);
    fixture_destroy(&f);
}

/* An external IP of a ClusterIP Service without endpoints is rejected like
 * its ClusterIP. */
static void
test_service_external_ip_reject(void)
{
    struct fixture f;
    fixture_init(&f);
    fixture_external(&f);
    fixture_add(&f,
        SERVICE("default", "empty",
                "'clusterIP':'10.96.0.10','externalIPs':['203.0.113.5'],"
                "'ports':[{'name':'http','port':80}]"));
    flows_compute_all(&f.in, &f.ft, f.ex_table);

    uint64_t empty = kovs_cookie(KOVS_OWNER_SERVICE, "default", "empty");
    char *s = format_flows(&f.ft, empty);
    CHECK_TEXT(s,
        "table=40 priority=200 ct_state=+new+trk,tcp,nw_dst=10.96.0.10,"
        "tp_dst=80 actions=controller(userdata=01,meter_id=1)\n"
        "table=40 priority=200 ct_state=+new+trk,tcp,nw_dst=203.0.113.5,"
        "tp_dst=80 actions=controller(userdata=01,meter_id=1)\n",
        "br-int flows");
    free(s);
    s = format_flows(&f.ex_ft, empty);
    CHECK_TEXT(s,
        "table=0 priority=200 tcp,in_port=1,nw_dst=203.0.113.5,tp_dst=80 "
        "actions=output:2\n", "br-ex flows");
    free(s);
    CHECK(!count_groups(&f.ft, empty), "%"PRIuSIZE" groups",
          count_groups(&f.ft, empty));
    fixture_destroy(&f);
}

/* An owner's flows on br-ex go when the stage that owns them recomputes
 * it, and are tracked in br-ex's own table. */
static void
test_external_owner_removed(void)
{
    struct fixture f;
    fixture_init(&f);
    fixture_external(&f);
    fixture_add(&f,
        SERVICE("default", "web",
                "'type':'NodePort','clusterIP':'10.96.0.10',"
                "'ports':[{'name':'http','port':80,'nodePort':30080}]")
        SLICE("default", "web-1", "web", PORT("http", 8080),
              EP("10.244.1.10", "n1", "")));
    flows_compute_all(&f.in, &f.ft, f.ex_table);
    flow_table_clear_tracked(&f.ft);
    flow_table_clear_tracked(&f.ex_ft);

    uint64_t web = kovs_cookie(KOVS_OWNER_SERVICE, "default", "web");
    size_t n_ex = flow_table_count(&f.ex_ft);
    CHECK(n_ex == 9 && flow_table_owner_count(&f.ex_ft, web) == 1,
          "%"PRIuSIZE" br-ex flows, %"PRIuSIZE" of default/web; expected "
          "9 and 1", n_ex, flow_table_owner_count(&f.ex_ft, web));

    /* Recomputed without the external bridge's addresses, the Service has
     * no front end from outside: its br-ex flow goes. */
    f.in.external = NULL;
    flows_service_compute(&f.in, "default", "web", &f.ft, f.ex_table);
    f.in.external = &f.ex;
    CHECK(!flow_table_owner_count(&f.ex_ft, web), "default/web keeps "
          "%"PRIuSIZE" br-ex flows", flow_table_owner_count(&f.ex_ft, web));
    CHECK(flow_table_count(&f.ex_ft) == n_ex - 1, "%"PRIuSIZE" br-ex "
          "flows, expected %"PRIuSIZE, flow_table_count(&f.ex_ft),
          n_ex - 1);
    const struct desired_flow *d;
    size_t n_tracked = 0;
    FLOW_TABLE_FOR_EACH_TRACKED (d, &f.ex_ft) {
        CHECK(d->cookie == web && d->removed, "tracked a br-ex flow of "
              "cookie %#"PRIx64, d->cookie);
        n_tracked++;
    }
    CHECK(n_tracked == 1, "tracked %"PRIuSIZE" br-ex flows, expected 1",
          n_tracked);

    /* So does deleting the Service, and its recomputation puts them back
     * before that. */
    flows_service_compute(&f.in, "default", "web", &f.ft, f.ex_table);
    CHECK(flow_table_owner_count(&f.ex_ft, web) == 1, "recomputed "
          "default/web has %"PRIuSIZE" br-ex flows",
          flow_table_owner_count(&f.ex_ft, web));
    ovs_assert(k8s_cluster_delete(&f.cluster, K8S_SERVICE, "default",
                                  "web"));
    struct flows_changes changes;
    flows_changes_init(&changes);
    changes.k8s = &f.cluster.changes;
    flows_compute_changes(&f.in, &changes, &f.ft, f.ex_table);
    flows_changes_destroy(&changes);
    CHECK(!flow_table_owner_count(&f.ex_ft, web), "deleted default/web "
          "keeps %"PRIuSIZE" br-ex flows",
          flow_table_owner_count(&f.ex_ft, web));

    /* A full recomputation without the external bridge empties br-ex. */
    f.in.external = NULL;
    flows_compute_all(&f.in, &f.ft, f.ex_table);
    CHECK(!flow_table_count(&f.ex_ft), "%"PRIuSIZE" br-ex flows left",
          flow_table_count(&f.ex_ft));
    fixture_destroy(&f);
}

/* IPv6 pod switching on a dual-stack node. */

/* Returns the lines of 'text' (one flow per line, as format_flows() gives
 * them) that are about IPv6 (their match has "ipv6", "icmp6", "tcp6",
 * "udp6" or "sctp6") if 'ipv6', else the others, in a new string. */
static char *
flow_lines_of_family(const char *text, bool ipv6)
{
    struct ds out = DS_EMPTY_INITIALIZER;
    const char *line = text;
    while (*line) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? nl - line + 1 : strlen(line);
        char *l = xmemdup0(line, len);
        char *actions = strstr(l, " actions=");
        if (actions) {
            *actions = '\0';
        }
        bool is_ipv6 = (strstr(l, "ipv6") || strstr(l, "icmp6")
                        || strstr(l, "tcp6") || strstr(l, "udp6")
                        || strstr(l, "sctp6"));
        free(l);
        if (is_ipv6 == ipv6) {
            ds_put_buffer(&out, line, len);
        }
        line += len;
    }
    return ds_steal_cstr(&out);
}

/* Counts the lines of 'text'. */
static size_t
count_lines(const char *text)
{
    size_t n = 0;
    for (; *text; text++) {
        n += *text == '\n';
    }
    return n;
}

/* Puts the objects in 'items' (relaxed JSON, one object per string) into
 * 'f''s cluster, replacing those with the same names, and forgets the
 * changes. */
static void
fixture_replace(struct fixture *f, const char *const items[], size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char *json = relaxed_json(items[i]);
        char *error = NULL;
        struct k8s_object *obj = k8s_decode_object(json, strlen(json),
                                                   &error);
        if (!obj) {
            fprintf(stderr, "bad test object: %s\nin %s\n", error, json);
            abort();
        }
        k8s_cluster_put(&f->cluster, obj);
        free(json);
    }
    k8s_cluster_clear_changes(&f->cluster);
}

static void
test_pod_ipv6(void)
{
    struct fixture f;
    fixture_init(&f);
    char *error = k8s_parse_dual_cidr_option(
        "cluster-cidr", "10.244.0.0/16,fd00:10:244::/56", &f.in.cluster_cidr);
    ovs_assert(!error);
    error = k8s_parse_dual_cidr_option(
        "service-cidr", "10.96.0.0/12,fd00:10:96::/112", &f.in.service_cidr);
    ovs_assert(!error);

    /* IPv4 only: the flows of the pipeline and of pod a. */
    uint64_t a = kovs_cookie(KOVS_OWNER_POD, "default", "a");
    uint64_t b = kovs_cookie(KOVS_OWNER_POD, "default", "b");
    flows_compute_all(&f.in, &f.ft, f.ex_table);
    char *pipeline4 = format_flows(&f.ft, KOVS_COOKIE_PIPELINE);
    char *a4 = format_flows(&f.ft, a);
    char *b4 = format_flows(&f.ft, b);
    uint64_t n2 = kovs_cookie(KOVS_OWNER_NODE, NULL, "n2");
    char *n2_4 = format_flows(&f.ft, n2);
    char *s = flow_lines_of_family(pipeline4, true);
    CHECK_TEXT(s, "", "IPv6 flows of an IPv4-only node");
    free(s);

    /* This node gets an IPv6 podCIDR, pod a an IPv6 address; b has
     * none. */
    static const char *const dual[] = {
        "{'kind':'Node','metadata':{'name':'n1'},"
        " 'spec':{'podCIDRs':['10.244.1.0/24','fd00:10:244:1::/64']},"
        " 'status':{'addresses':[{'type':'InternalIP',"
        "  'address':'198.18.0.11'}]}}",
        "{'kind':'Pod','metadata':{'namespace':'default','name':'a'},"
        " 'spec':{'nodeName':'n1'},"
        " 'status':{'podIPs':[{'ip':'10.244.1.10'},"
        "                     {'ip':'fd00:10:244:1::a'}]}}",
        "{'kind':'Node','metadata':{'name':'n2'},"
        " 'spec':{'podCIDRs':['fd00:10:244:2::/64','10.244.2.0/24']},"
        " 'status':{'addresses':[{'type':'InternalIP',"
        "  'address':'198.18.0.12'}]}}",
    };
    fixture_replace(&f, dual, ARRAY_SIZE(dual));
    flows_compute_all(&f.in, &f.ft, f.ex_table);

    /* The IPv4 flows are exactly what they were. */
    char *pipeline = format_flows(&f.ft, KOVS_COOKIE_PIPELINE);
    s = flow_lines_of_family(pipeline, false);
    CHECK_TEXT(s, pipeline4, "IPv4 pipeline flows of a dual-stack node");
    free(s);
    char *pod_a = format_flows(&f.ft, a);
    s = flow_lines_of_family(pod_a, false);
    CHECK_TEXT(s, a4, "IPv4 flows of a dual-stack pod");
    free(s);
    s = format_flows(&f.ft, b);
    CHECK_TEXT(s, b4, "flows of a pod without an IPv6 address");
    free(s);

    /* The peer node: its IPv4 flows as they were, and a route to its IPv6
     * podCIDR through its tunnel. */
    char *n2_all = format_flows(&f.ft, n2);
    s = flow_lines_of_family(n2_all, false);
    CHECK_TEXT(s, n2_4, "IPv4 flows of a dual-stack peer");
    free(s);
    s = flow_lines_of_family(n2_all, true);
    CHECK_TEXT(s,
        "table=60 priority=200 ipv6,ipv6_dst=fd00:10:244:2::/64 "
        "actions=set_field:0a:58:0a:f4:01:01->eth_src,"
        "set_field:aa:bb:cc:dd:ee:ff->eth_dst,dec_ttl,"
        "set_field:0x1->tun_id,"
        "check_pkt_larger(1464)->NXM_NX_REG0[9],set_field:0x3->reg1,"
        "goto_table:62\n",
        "IPv6 flows of a dual-stack peer");
    free(s);
    free(n2_all);

    /* Pod a: SPOOFGUARD lets through IPv6 from its address and its
     * EUI-64 link-local one, its solicitations (with its MAC or none), its
     * duplicate address detection and its advertisements of itself; ARP
     * answers solicitations for it, except its own; L3_FORWARDING delivers
     * to it, switched and routed; SNAT source-NATs its hairpin through an
     * IPv6 Service to the IPv6 hairpin address. */
    char *a6 = flow_lines_of_family(pod_a, true);
    static const char *const a6_expected[] = {
        "table=10 priority=200 ipv6,in_port=4,dl_src=0a:00:00:00:01:0a,"
        "ipv6_src=fd00:10:244:1::a actions=goto_table:20\n",
        "table=10 priority=200 ipv6,in_port=4,dl_src=0a:00:00:00:01:0a,"
        "ipv6_src=fe80::800:ff:fe00:10a actions=goto_table:20\n",
        "table=10 priority=210 icmp6,in_port=4,dl_src=0a:00:00:00:01:0a,"
        "ipv6_src=::,icmp_type=135,icmp_code=0,nd_target=fd00:10:244:1::a,"
        "nd_sll=00:00:00:00:00:00 actions=goto_table:20\n",
        "table=10 priority=210 icmp6,in_port=4,dl_src=0a:00:00:00:01:0a,"
        "ipv6_src=fd00:10:244:1::a,icmp_type=135,icmp_code=0,"
        "nd_sll=0a:00:00:00:01:0a actions=goto_table:20\n",
        "table=10 priority=210 icmp6,in_port=4,dl_src=0a:00:00:00:01:0a,"
        "ipv6_src=fe80::800:ff:fe00:10a,icmp_type=136,icmp_code=0,"
        "nd_target=fe80::800:ff:fe00:10a,nd_tll=0a:00:00:00:01:0a "
        "actions=goto_table:20\n",
        "table=20 priority=300 icmp6,in_port=4,icmp_type=135,icmp_code=0,"
        "nd_target=fd00:10:244:1::a actions=drop\n",
        "table=60 priority=300 ipv6,dl_dst=0a:00:00:00:01:0a,"
        "ipv6_dst=fd00:10:244:1::a actions=set_field:0x4->reg1,"
        "goto_table:62\n",
        "table=60 priority=200 ipv6,ipv6_dst=fd00:10:244:1::a "
        "actions=set_field:0a:58:0a:f4:01:01->eth_src,"
        "set_field:0a:00:00:00:01:0a->eth_dst,dec_ttl,"
        "check_pkt_larger(1464)->NXM_NX_REG0[10],set_field:0x4->reg1,"
        "goto_table:62\n",
        "table=65 priority=200 ct_state=+new+trk,ct_mark=0x1/0x1,ipv6,"
        "reg1=0x4,in_port=4 actions=ct(commit,table=70,zone=2,"
        "nat(src=fd00::a9fe:a9fc))\n",
        "table=65 priority=200 ct_state=-new+trk,ct_mark=0x1/0x1,ipv6,"
        "reg1=0x4,in_port=4 actions=ct(table=70,zone=2,nat)\n",
    };
    for (size_t i = 0; i < ARRAY_SIZE(a6_expected); i++) {
        CHECK(strstr(a6, a6_expected[i]), "pod a lacks the flow\n%s"
              "  it has:\n%s", a6_expected[i], a6);
    }
    CHECK(count_lines(a6) == 18, "pod a has %"PRIuSIZE" IPv6 flows:\n%s",
          count_lines(a6), a6);
    CHECK(strstr(a6, "table=20 priority=200 icmp6,icmp_type=135,icmp_code=0,"
                 "nd_target=fd00:10:244:1::a actions="
                 "move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],"
                 "set_field:0a:00:00:00:01:0a->eth_src,"
                 "move:NXM_NX_IPV6_SRC[]->NXM_NX_IPV6_DST[],"
                 "move:NXM_NX_ND_TARGET[]->NXM_NX_IPV6_SRC[],"
                 "set_field:136->icmpv6_type,"
                 "set_field:1610612736->nd_reserved,"
                 "set_field:2->nd_options_type,"
                 "set_field:0x100/0x100->reg0,resubmit(,20)\n"),
          "pod a's solicitations are not answered:\n%s", a6);
    free(a6);

    /* The pipeline: the gateway's address answered as a router, the
     * node's stack's solicitations for the cluster and Service CIDRs
     * answered with the virtual MAC, the advertisement's completion,
     * DAD and the rest of ND and MLD dropped, conntrack, and routes. */
    char *p6 = flow_lines_of_family(pipeline, true);
    static const char *const p6_expected[] = {
        "table=10 priority=205 icmp6,icmp_type=135,icmp_code=0 "
        "actions=drop\n",
        "table=10 priority=205 icmp6,icmp_type=136,icmp_code=0 "
        "actions=drop\n",
        "table=20 priority=1 icmp6,icmp_type=133 actions=drop\n",
        "table=20 priority=1 icmp6,icmp_type=143 actions=drop\n",
        "table=20 priority=310 icmp6,ipv6_src=::,icmp_type=135,icmp_code=0 "
        "actions=drop\n",
        "table=20 priority=320 icmp6,reg0=0x100/0x100,icmp_type=136,"
        "icmp_code=0 actions=move:NXM_OF_ETH_SRC[]->NXM_NX_ND_TLL[],"
        "IN_PORT\n",
        "table=20 priority=150 icmp6,in_port=2,icmp_type=135,icmp_code=0,"
        "nd_target=fd00:10:244:1::/64 actions=drop\n",
        "table=30 priority=100 ipv6 actions=ct(table=31,zone=1,nat)\n",
        "table=60 priority=100 ipv6,ipv6_dst=fd00:10:96::/112 actions=drop\n",
        "table=60 priority=100 ipv6,ipv6_dst=fe80::/10 actions=drop\n",
        "table=60 priority=200 ipv6,ipv6_dst=fd00:10:244:1::1 "
        "actions=set_field:0a:58:0a:f4:01:01->eth_dst,set_field:0x2->reg1,"
        "goto_table:62\n",
        "table=80 priority=100 ct_state=+new+trk,ipv6 "
        "actions=ct(commit,zone=1),goto_table:90\n",
        "table=80 priority=110 ct_state=+new+trk,ct_mark=0x1/0x1,ipv6 "
        "actions=goto_table:90\n",
        "table=30 priority=200 ct_state=-trk,ipv6,ipv6_dst=fd00::a9fe:a9fc "
        "actions=ct(table=30,zone=2,nat)\n",
        "table=60 priority=100 ipv6,ipv6_dst=fd00::a9fe:a9fc "
        "actions=drop\n",
    };
    for (size_t i = 0; i < ARRAY_SIZE(p6_expected); i++) {
        CHECK(strstr(p6, p6_expected[i]), "the pipeline lacks the flow\n%s"
              "  it has:\n%s", p6_expected[i], p6);
    }
    CHECK(strstr(p6, "table=20 priority=300 icmp6,icmp_type=135,icmp_code=0,"
                 "nd_target=fd00:10:244:1::1 actions=")
          && strstr(p6, "set_field:0a:58:0a:f4:01:01->eth_src,")
          && strstr(p6, "set_field:3758096384->nd_reserved"),
          "the gateway's address is not answered as a router's:\n%s", p6);
    CHECK(strstr(p6, "table=20 priority=100 icmp6,in_port=2,icmp_type=135,"
                 "icmp_code=0,nd_target=fd00:10:244::/56 actions=")
          && strstr(p6, "set_field:aa:bb:cc:dd:ee:ff->eth_src,"),
          "the cluster CIDR is not answered for the node:\n%s", p6);
    free(p6);

    /* The port's IPv6 address wins over the Pod object's; an address
     * outside this node's IPv6 podCIDR gets no IPv6 flows. */
    struct flows_port *port = shash_find_data(&f.pod_ports, "default/a");
    ovs_assert(ipv6_parse("fd00:10:244:1::aa", &port->ip6));
    flows_compute_all(&f.in, &f.ft, f.ex_table);
    char *pod_a2 = format_flows(&f.ft, a);
    CHECK(strstr(pod_a2, "ipv6_src=fd00:10:244:1::aa ")
          && !strstr(pod_a2, "fd00:10:244:1::a "),
          "the port's address is not used:\n%s", pod_a2);
    free(pod_a2);

    ovs_assert(ipv6_parse("fd00:10:244:9::a", &port->ip6));
    flows_compute_all(&f.in, &f.ft, f.ex_table);
    pod_a2 = format_flows(&f.ft, a);
    s = flow_lines_of_family(pod_a2, true);
    CHECK_TEXT(s, "", "IPv6 flows of a pod outside the IPv6 podCIDR");
    free(s);
    free(pod_a2);

    /* Without the IPv6 podCIDR, no IPv6 flows at all. */
    static const char *const ipv4_only[] = {
        "{'kind':'Node','metadata':{'name':'n1'},"
        " 'spec':{'podCIDRs':['10.244.1.0/24']},"
        " 'status':{'addresses':[{'type':'InternalIP',"
        "  'address':'198.18.0.11'}]}}",
    };
    fixture_replace(&f, ipv4_only, ARRAY_SIZE(ipv4_only));
    memset(&port->ip6, 0, sizeof port->ip6);
    flows_compute_all(&f.in, &f.ft, f.ex_table);
    char *all = format_flows(&f.ft, 0);
    s = flow_lines_of_family(all, true);
    CHECK_TEXT(s, "", "IPv6 flows without an IPv6 podCIDR");
    free(s);
    free(all);

    free(pod_a);
    free(pipeline);
    free(pipeline4);
    free(a4);
    free(b4);
    free(n2_4);
    fixture_destroy(&f);
}

/* Returns the lines of 'text' that are not about IPv6 and match on an IPv4
 * address (nw_src, nw_dst, arp_spa, arp_tpa) or set one, in a new string;
 * except the skeleton's un-SNAT of replies to the IPv4 hairpin address,
 * which every node has, with or without a podCIDR. */
static char *
ipv4_address_lines(const char *text)
{
    char *v4 = flow_lines_of_family(text, false);
    struct ds out = DS_EMPTY_INITIALIZER;
    const char *line = v4;
    while (*line) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? nl - line + 1 : strlen(line);
        char *l = xmemdup0(line, len);
        if (strstr(l, "nw_src") || strstr(l, "nw_dst")
            || strstr(l, "arp_spa") || strstr(l, "arp_tpa")
            || strstr(l, "->ip_") || strstr(l, "nat(")) {
            ds_put_buffer(&out, line, len);
        }
        free(l);
        line += len;
    }
    free(v4);
    return ds_steal_cstr(&out);
}

/* The IPv6-only cluster of the tests below: IPv6 cluster and Service
 * CIDRs, and (V6ONLY_NODES_AND_POD_A, the first objects of each test's
 * list) nodes n1 (this node) and n2 with IPv6 podCIDRs and InternalIPs, and
 * pod a on n1. */
#define V6ONLY_NODES_AND_POD_A                                          \
    "{'kind':'Node','metadata':{'name':'n1'},"                          \
    " 'spec':{'podCIDRs':['fd00:10:244:1::/64']},"                      \
    " 'status':{'addresses':[{'type':'InternalIP',"                     \
    "  'address':'fd00:198:18::11'}]}}",                                \
    "{'kind':'Node','metadata':{'name':'n2'},"                          \
    " 'spec':{'podCIDRs':['fd00:10:244:2::/64']},"                      \
    " 'status':{'addresses':[{'type':'InternalIP',"                     \
    "  'address':'fd00:198:18::12'}]}}",                                \
    "{'kind':'Pod','metadata':{'namespace':'default','name':'a'},"      \
    " 'spec':{'nodeName':'n1'},"                                        \
    " 'status':{'podIPs':[{'ip':'fd00:10:244:1::a'}]}}",

static void
fixture_ipv6_only(struct fixture *f)
{
    char *error = k8s_parse_dual_cidr_option(
        "cluster-cidr", "fd00:10:244::/56", &f->in.cluster_cidr);
    ovs_assert(!error);
    error = k8s_parse_dual_cidr_option(
        "service-cidr", "fd00:10:96::/112", &f->in.service_cidr);
    ovs_assert(!error);
}

/* An IPv6-only node (one IPv6 podCIDR, IPv6 cluster and Service CIDRs, an
 * IPv6 InternalIP) gets the gateway's IPv6 flows, its pods' IPv6 flows and
 * the routes to its IPv6-only peer, and no flow about an IPv4 address. */
static void
test_ipv6_only_node(void)
{
    struct fixture f;
    fixture_init(&f);
    fixture_ipv6_only(&f);

    static const char *const v6only[] = {
        V6ONLY_NODES_AND_POD_A
        "{'kind':'Pod','metadata':{'namespace':'default','name':'b'},"
        " 'spec':{'nodeName':'n1'},"
        " 'status':{'podIPs':[{'ip':'fd00:10:244:1::b'}]}}",
        "{'kind':'Pod','metadata':{'namespace':'default','name':'c'},"
        " 'spec':{'nodeName':'n2'},"
        " 'status':{'podIPs':[{'ip':'fd00:10:244:2::a'}]}}",
        "{'kind':'Service','metadata':{'namespace':'default','name':'s'},"
        " 'spec':{'clusterIP':'fd00:10:96::10',"
        "  'clusterIPs':['fd00:10:96::10'],'ipFamilies':['IPv6'],"
        "  'ports':[{'port':80,'protocol':'TCP','targetPort':8080}]}}",
        "{'kind':'EndpointSlice','metadata':{'namespace':'default',"
        "  'name':'s-1','labels':{'kubernetes.io/service-name':'s'}},"
        " 'addressType':'IPv6',"
        " 'endpoints':[{'addresses':['fd00:10:244:2::a'],"
        "  'conditions':{'ready':true},'nodeName':'n2'}],"
        " 'ports':[{'port':8080,'protocol':'TCP'}]}",
    };
    fixture_replace(&f, v6only, ARRAY_SIZE(v6only));

    struct flows_local local;
    flows_local_init(&f.in, &local);
    CHECK(local.valid && !local.valid4 && local.valid6,
          "IPv6-only node: valid %d, valid4 %d, valid6 %d",
          local.valid, local.valid4, local.valid6);

    flows_compute_all(&f.in, &f.ft, f.ex_table);
    char *all = format_flows(&f.ft, 0);

    /* Nothing about an IPv4 address anywhere. */
    char *s = ipv4_address_lines(all);
    CHECK_TEXT(s, "", "flows about IPv4 addresses on an IPv6-only node");
    free(s);

    /* The gateway, with a MAC from its IPv6 address; pod a, switched and
     * routed; the peer's podCIDR through its tunnel; the Service. */
    static const char *const expected[] = {
        "table=20 priority=300 icmp6,icmp_type=135,icmp_code=0,"
        "nd_target=fd00:10:244:1::1 actions="
        "move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],"
        "set_field:0a:58:ff:44:00:10->eth_src,",
        "table=60 priority=200 ipv6,ipv6_dst=fd00:10:244:1::1 "
        "actions=set_field:0a:58:ff:44:00:10->eth_dst,set_field:0x2->reg1,",
        "table=60 priority=300 ipv6,dl_dst=0a:00:00:00:01:0a,"
        "ipv6_dst=fd00:10:244:1::a actions=set_field:0x4->reg1,"
        "goto_table:62\n",
        "table=60 priority=200 ipv6,ipv6_dst=fd00:10:244:1::a "
        "actions=set_field:0a:58:ff:44:00:10->eth_src,"
        "set_field:0a:00:00:00:01:0a->eth_dst,dec_ttl,"
        "check_pkt_larger(1464)->NXM_NX_REG0[10],set_field:0x4->reg1,"
        "goto_table:62\n",
        "table=0 priority=200 in_port=4 "
        "actions=set_field:0x1/0xf->reg0,goto_table:10\n",
        "table=60 priority=200 ipv6,ipv6_dst=fd00:10:244:2::/64 "
        "actions=set_field:0a:58:ff:44:00:10->eth_src,"
        "set_field:aa:bb:cc:dd:ee:ff->eth_dst,dec_ttl,"
        "set_field:0x1->tun_id,"
        "check_pkt_larger(1464)->NXM_NX_REG0[9],set_field:0x3->reg1,"
        "goto_table:62\n",
        "table=60 priority=200 ipv6,ipv6_dst=fd00:198:18::12 ",
        "table=0 priority=200 tun_id=0x1,in_port=3 ",
        "ipv6_dst=fd00:10:96::10,tp_dst=80 ",
    };
    for (size_t i = 0; i < ARRAY_SIZE(expected); i++) {
        CHECK(strstr(all, expected[i]), "an IPv6-only node lacks the flow"
              "\n%s\n  it has:\n%s", expected[i], all);
    }
    CHECK(sset_is_empty(&f.ft.warnings), "%"PRIuSIZE" warnings",
          sset_count(&f.ft.warnings));
    free(all);

    /* Routed mode goes through br-ex: without an external bridge there is
     * no path to the peer, so no flows for it (tunnel-routed-ipv6-only
     * has one). */
    f.in.tunnel_mode = FLOWS_TUNNEL_NONE;
    flows_compute_all(&f.in, &f.ft, f.ex_table);
    uint64_t n2 = kovs_cookie(KOVS_OWNER_NODE, NULL, "n2");
    CHECK(!flow_table_owner_count(&f.ft, n2), "routed: n2 has flows");
    fixture_destroy(&f);
}

/* Tunnel modes.
 *
 * Routed mode (--tunnel-type=none) reaches a peer through br-ex, with the
 * peer's InternalIP as next hop, instead of a tunnel port. */

#define NODE(NAME, IP, CIDR)                                            \
    "{'kind':'Node','metadata':{'name':'" NAME "'},"                    \
    "'spec':{'podCIDRs':['" CIDR "']},"                                 \
    "'status':{'addresses':[{'type':'InternalIP','address':'" IP "'}]}},"

/* Routed mode: n2's traffic is classified by its source addresses on the
 * patch port, routed out through br-ex to 198.18.0.12 unmasqueraded
 * (except NodePort traffic sent on to it), with no tunnel port at all;
 * br-ex sends this node's podCIDR to br-int, and nothing treats the
 * tunnel underlay specially. */
static void
test_tunnel_routed_flows(void)
{
    struct fixture f;
    fixture_init(&f);
    fixture_external(&f);
    shash_clear_free_data(&f.tunnel_ports);
    f.in.tunnel_mode = FLOWS_TUNNEL_NONE;
    flows_compute_all(&f.in, &f.ft, f.ex_table);

    uint64_t n2 = kovs_cookie(KOVS_OWNER_NODE, NULL, "n2");
    char *s = format_flows(&f.ft, n2);
    CHECK_TEXT(s,
        "table=0 priority=210 ip,in_port=7,nw_src=10.244.2.0/24 "
        "actions=set_field:0x3/0xf->reg0,goto_table:30\n"
        "table=0 priority=210 ip,in_port=7,nw_src=198.18.0.12 "
        "actions=set_field:0x3/0xf->reg0,goto_table:30\n"
        "table=60 priority=200 ip,nw_dst=10.244.2.0/24 "
        "actions=set_field:02:00:c6:12:00:0b->eth_src,dec_ttl,"
        "set_field:0xc612000c->reg5,set_field:0x7->reg1,goto_table:62\n"
        "table=60 priority=200 ip,nw_dst=198.18.0.12 "
        "actions=set_field:02:00:c6:12:00:0b->eth_src,dec_ttl,"
        "set_field:0xc612000c->reg5,set_field:0x7->reg1,goto_table:62\n"
        "table=65 priority=150 ip,reg1=0x7,nw_dst=10.244.2.0/24 "
        "actions=goto_table:70\n"
        "table=65 priority=150 ip,reg1=0x7,nw_dst=198.18.0.12 "
        "actions=goto_table:70\n"
        "table=65 priority=200 ct_state=+new+trk,ct_mark=0x1/0x1,ip,reg0=0x3/0xf,reg1=0x7,"
        "nw_dst=10.244.2.0/24 actions=ct(commit,table=70,zone=2,"
        "nat(src=198.18.0.11:61000-65535))\n"
        "table=65 priority=200 ct_state=+new+trk,ct_mark=0x1/0x1,ip,reg0=0x3/0xf,reg1=0x7,"
        "nw_dst=198.18.0.12 actions=ct(commit,table=70,zone=2,"
        "nat(src=198.18.0.11:61000-65535))\n"
        "table=65 priority=200 ct_state=+new+trk,ct_mark=0x1/0x1,ip,reg0=0x4/0xf,reg1=0x7,"
        "nw_dst=10.244.2.0/24 actions=ct(commit,table=70,zone=2,"
        "nat(src=198.18.0.11:61000-65535))\n"
        "table=65 priority=200 ct_state=+new+trk,ct_mark=0x1/0x1,ip,reg0=0x4/0xf,reg1=0x7,"
        "nw_dst=198.18.0.12 actions=ct(commit,table=70,zone=2,"
        "nat(src=198.18.0.11:61000-65535))\n"
        "table=65 priority=200 ct_state=-new+trk,ip,reg0=0x3/0xf,reg1=0x7,"
        "nw_dst=10.244.2.0/24 actions=ct(table=70,zone=2,nat)\n"
        "table=65 priority=200 ct_state=-new+trk,ip,reg0=0x3/0xf,reg1=0x7,"
        "nw_dst=198.18.0.12 actions=ct(table=70,zone=2,nat)\n"
        "table=65 priority=200 ct_state=-new+trk,ip,reg0=0x4/0xf,reg1=0x7,"
        "nw_dst=10.244.2.0/24 actions=ct(table=70,zone=2,nat)\n"
        "table=65 priority=200 ct_state=-new+trk,ip,reg0=0x4/0xf,reg1=0x7,"
        "nw_dst=198.18.0.12 actions=ct(table=70,zone=2,nat)\n",
        "n2's flows in routed mode");
    free(s);

    /* br-int sends br-ex's traffic to a peer back out through in_port. */
    s = format_table(&f.ft, EX_COOKIE, KOVS_T_OUTPUT);
    CHECK_TEXT(s,
        "table=90 priority=200 reg1=0x7,in_port=7 actions=IN_PORT\n",
        "br-int's OUTPUT flows of the external bridge");
    free(s);

    s = format_flows(&f.ex_ft, EX_COOKIE);
    CHECK(strstr(s, "table=0 priority=150 ip,in_port=1,"
                 "nw_dst=10.244.1.0/24 actions=output:2\n")
          && !strstr(s, "4789") && !strstr(s, "6081"),
          "br-ex's flows in routed mode:\n%s", s);
    free(s);
    CHECK(sset_is_empty(&f.ft.warnings), "%"PRIuSIZE" warnings",
          sset_count(&f.ft.warnings));

    /* br-ex sends n2's pods' packets to the node IP to br-int. */
    s = format_flows(&f.ex_ft, n2);
    CHECK_TEXT(s,
        "table=0 priority=150 ip,in_port=1,nw_src=10.244.2.0/24,"
        "nw_dst=198.18.0.11 actions=output:2\n",
        "n2's br-ex flows in routed mode");
    free(s);

    /* Without the external bridge (or until it is ready), no route. */
    f.in.external = NULL;
    flows_compute_all(&f.in, &f.ft, f.ex_table);
    CHECK(!flow_table_owner_count(&f.ft, n2), "%"PRIuSIZE" n2 flows "
          "without br-ex", flow_table_owner_count(&f.ft, n2));
    CHECK(!flow_table_owner_count(&f.ex_ft, n2), "%"PRIuSIZE" n2 br-ex "
          "flows without br-ex", flow_table_owner_count(&f.ex_ft, n2));
    fixture_destroy(&f);
}

/* Routed mode: a peer whose InternalIP is off this node's subnet gets no
 * flows and one warning naming it, which stays one however often the node
 * is recomputed, and goes with the node. */
static void
test_tunnel_routed_off_subnet(void)
{
    struct fixture f;
    fixture_init(&f);
    fixture_external(&f);
    f.in.tunnel_mode = FLOWS_TUNNEL_NONE;
    fixture_add(&f, NODE("n3", "203.0.113.5", "10.244.3.0/24"));
    flows_compute_all(&f.in, &f.ft, f.ex_table);

    uint64_t n3 = kovs_cookie(KOVS_OWNER_NODE, NULL, "n3");
    CHECK(!flow_table_owner_count(&f.ft, n3), "%"PRIuSIZE" n3 flows",
          flow_table_owner_count(&f.ft, n3));
    const char *expected = "Node n3: status.addresses InternalIP "
        "203.0.113.5 is not on this node's subnet 198.18.0.0/24: its pods "
        "are unreachable with --tunnel-type=none (routed mode needs every "
        "node on one L2 network)";
    CHECK(sset_count(&f.ft.warnings) == 1
          && sset_contains(&f.ft.warnings, expected),
          "expected the one warning \"%s\"", expected);

    fixture_put(&f, NODE("n3", "203.0.113.5", "10.244.30.0/24"));
    compute_changes(&f);
    CHECK(sset_count(&f.ft.warnings) == 1, "%"PRIuSIZE" warnings after "
          "a change of n3", sset_count(&f.ft.warnings));

    /* On the subnet, it is routed. */
    fixture_put(&f, NODE("n3", "198.18.0.13", "10.244.30.0/24"));
    compute_changes(&f);
    CHECK(sset_is_empty(&f.ft.warnings), "%"PRIuSIZE" warnings with n3 "
          "on the subnet", sset_count(&f.ft.warnings));
    char *s = format_table(&f.ft, n3, KOVS_T_L3_FORWARDING);
    CHECK(strstr(s, "nw_dst=10.244.30.0/24 ")
          && strstr(s, "set_field:0xc612000d->reg5"),
          "n3's routes:\n%s", s);
    free(s);
    fixture_destroy(&f);
}

/* Geneve: the same per-peer flows as VXLAN (tunnel port, VNI), and br-ex
 * leaves the Geneve underlay, not VXLAN's, out of conntrack. */
static void
test_tunnel_geneve_flows(void)
{
    struct fixture f;
    fixture_init(&f);
    fixture_external(&f);
    flows_compute_all(&f.in, &f.ft, f.ex_table);
    uint64_t n2 = kovs_cookie(KOVS_OWNER_NODE, NULL, "n2");
    char *vxlan = format_flows(&f.ft, n2);

    /* Geneve's default MTU is smaller: with VXLAN's, its flows are
     * VXLAN's. */
    f.in.tunnel_mode = FLOWS_TUNNEL_GENEVE;
    f.in.mtu = FLOWS_MTU_VXLAN;
    flows_compute_all(&f.in, &f.ft, f.ex_table);
    char *geneve = format_flows(&f.ft, n2);
    CHECK_TEXT(geneve, vxlan, "n2's flows with Geneve (as with VXLAN)");
    f.in.mtu = 0;
    flows_compute_all(&f.in, &f.ft, f.ex_table);
    free(geneve);
    geneve = format_flows(&f.ft, n2);
    CHECK(strstr(geneve, ",check_pkt_larger(1414)->NXM_NX_REG0[9],"),
          "Geneve's routes do not check for packets above its MTU, 1400:"
          "\n%s", geneve);
    CHECK(strstr(geneve, "table=0 priority=200 tun_id=0x1,in_port=3 "),
          "no tunnel classifier in\n%s", geneve);
    free(vxlan);
    free(geneve);

    char *s = format_flows(&f.ex_ft, EX_COOKIE);
    CHECK(strstr(s, "table=0 priority=110 udp,in_port=1,"
                 "nw_dst=198.18.0.11,tp_dst=6081 actions=NORMAL\n")
          && !strstr(s, "4789"), "br-ex's flows with Geneve:\n%s", s);
    free(s);
    fixture_destroy(&f);
}

/* Checks that 'f''s incrementally computed flows (br-int's and br-ex's)
 * and warnings are those of a full computation; 'what' names the step. */
static void
check_incremental_is_full(struct fixture *f, const char *what)
{
    struct flow_table full, ex_full;
    flow_table_init(&full);
    flow_table_init(&ex_full);
    flows_compute_all(&f->in, &full, &ex_full);

    char *got = format_flows(&f->ft, 0);
    char *want = format_flows(&full, 0);
    CHECK(!strcmp(got, want), "%s (%s): br-int's incremental flows differ "
          "from a full computation:\n  full:\n%s  incremental:\n%s", what,
          flows_tunnel_mode_name(f->in.tunnel_mode), want, got);
    free(got);
    free(want);
    got = format_flows(&f->ex_ft, 0);
    want = format_flows(&ex_full, 0);
    CHECK(!strcmp(got, want), "%s (%s): br-ex's incremental flows differ "
          "from a full computation", what,
          flows_tunnel_mode_name(f->in.tunnel_mode));
    free(got);
    free(want);
    CHECK(sset_equals(&f->ft.warnings, &full.warnings),
          "%s (%s): warnings differ", what,
          flows_tunnel_mode_name(f->in.tunnel_mode));
    flow_table_destroy(&full);
    flow_table_destroy(&ex_full);
}

#define WEB_SPEC(CLUSTER_IPS, EXTRA)                                    \
    "'clusterIP':'10.96.0.10','clusterIPs':[" CLUSTER_IPS "],"          \
    EXTRA "'ports':[{'name':'http','port':80,'targetPort':8080},"       \
    "{'name':'dns','port':53,'protocol':'UDP'}]"
#define WEB_SLICE4                                                      \
    SLICE("default", "web-4", "web",                                    \
          PORT("http", 8080) PORT_PROTO("dns", 5353, "UDP"),            \
          EP("10.244.1.10", "n1", "") EP("10.244.2.10", "n2", ""))
#define SLICE6(NAME, ENDPOINTS)                                         \
    "{'kind':'EndpointSlice','metadata':{'namespace':'default',"        \
    "'name':'" NAME "','labels':{'kubernetes.io/service-name':'web'}}," \
    "'addressType':'IPv6','ports':[" PORT("http", 8080)                 \
    PORT_PROTO("dns", 5353, "UDP") "],'endpoints':[" ENDPOINTS "]},"

/* A health check node port reports the node's ready endpoints: IPv4 or
 * IPv6 alone, and a dual-stack pod once although it is in a slice of each
 * family. */
static void
test_service_count_local_ready(void)
{
    struct fixture f;
    fixture_init(&f);
    fixture_add(&f,
        "{'kind':'Service','metadata':{'namespace':'default','name':'web'},"
        "'spec':{" WEB_SPEC("'10.96.0.10','fd00:10:96::10'", "") "}},"
        WEB_SLICE4
        SLICE6("web-6", EP("fd00:10:244:1::a", "n1", "")
                        EP("fd00:10:244:2::a", "n2", "")
                        EP("fd00:10:244:2::b", "n2", "")
                        EP("fd00:10:244:2::c", "n2", "'ready':false")));
    const struct k8s_service *svc = k8s_service_cast(
        k8s_cluster_find(&f.cluster, K8S_SERVICE, "default", "web"));
    CHECK(svc, "no Service default/web");
    if (svc) {
        size_t n1 = service_count_local_ready(&f.cluster, svc, "n1");
        size_t n2 = service_count_local_ready(&f.cluster, svc, "n2");
        size_t n3 = service_count_local_ready(&f.cluster, svc, "n3");
        CHECK(n1 == 1, "n1: expected 1 local endpoint, got %"PRIuSIZE, n1);
        CHECK(n2 == 2, "n2: expected 2 local endpoints (its IPv6 slice's "
              "ready ones), got %"PRIuSIZE, n2);
        CHECK(n3 == 0, "n3: expected no local endpoint, got %"PRIuSIZE, n3);
    }
    fixture_destroy(&f);
}

/* A dual-stack Service: its IPv6 ClusterIP is load-balanced over the IPv6
 * slices' endpoints in groups of its own, with ENDPOINT_DNAT to IPv6
 * addresses; its IPv4 flows and groups are exactly a single-stack
 * Service's. */
static void
test_service_dual_stack(void)
{
    struct fixture f;
    fixture_init(&f);
    fixture_add(&f,
        SERVICE("default", "web", WEB_SPEC("'10.96.0.10'", ""))
        WEB_SLICE4);
    flows_compute_all(&f.in, &f.ft, f.ex_table);
    uint64_t web = kovs_cookie(KOVS_OWNER_SERVICE, "default", "web");
    char *flows4 = format_flows(&f.ft, web);
    char *groups4 = format_groups(&f.ft, web);
    fixture_destroy(&f);

    fixture_init(&f);
    fixture_add(&f,
        SERVICE("default", "web",
                WEB_SPEC("'10.96.0.10','fd00:10:96::a'",
                         "'ipFamilies':['IPv4','IPv6'],"
                         "'ipFamilyPolicy':'RequireDualStack',"))
        WEB_SLICE4
        SLICE6("web-6", EP("fd00:10:244:2::a", "n2", "")
                        EP("fd00:10:244:1::a", "n1", "")));
    flows_compute_all(&f.in, &f.ft, f.ex_table);

    /* IPv4: as single-stack. */
    char *all = format_flows(&f.ft, web);
    char *s = flow_lines_of_family(all, false);
    CHECK_TEXT(s, flows4, "IPv4 flows of a dual-stack Service");
    free(s);
    const struct desired_group *tcp4 = find_group_by_key(
        &f.ft, "service default/web TCP/80");
    const struct desired_group *tcp6 = find_group_by_key(
        &f.ft, "service default/web TCP/80 IPv6");
    const struct desired_group *udp6 = find_group_by_key(
        &f.ft, "service default/web UDP/53 IPv6");
    CHECK(tcp4 && tcp6 && udp6 && count_groups(&f.ft, web) == 4,
          "expected 4 groups, two per family");
    if (!tcp4 || !tcp6 || !udp6) {
        free(all);
        fixture_destroy(&f);
        return;
    }
    s = format_groups(&f.ft, web);
    struct ds groups = DS_EMPTY_INITIALIZER;
    for (char *line = s; *line; ) {
        char *nl = strchr(line, '\n');
        size_t len = nl ? nl - line + 1 : strlen(line);
        char *ipv6_key = strstr(line, " IPv6: ");
        if (!ipv6_key || ipv6_key > line + len) {
            ds_put_buffer(&groups, line, len);
        }
        line += len;
    }
    CHECK_TEXT(ds_cstr(&groups), groups4, "IPv4 groups of a dual-stack "
               "Service");
    ds_destroy(&groups);
    free(s);

    /* IPv6: one SERVICE_LB flow per port to its IPv6 group, whose
     * buckets load the endpoint's IPv6 address into xxreg2, in address
     * order, and one ENDPOINT_DNAT flow per endpoint and protocol. */
    s = flow_lines_of_family(all, true);
    char *expected = xasprintf(
        "table=40 priority=200 ct_state=+new+trk,tcp6,"
        "ipv6_dst=fd00:10:96::a,tp_dst=80 actions=group:%"PRIu32"\n"
        "table=40 priority=200 ct_state=+new+trk,udp6,"
        "ipv6_dst=fd00:10:96::a,tp_dst=53 actions=group:%"PRIu32"\n"
        "table=42 priority=200 tcp6,reg4=0x1f90/0xffff,"
        "reg8=0xfd000010,reg9=0x2440001,reg10=0,reg11=0xa "
        "actions=ct(commit,table=50,zone=1,"
        "nat(dst=[fd00:10:244:1::a]:8080),"
        "exec(set_field:0x1/0x1->ct_mark))\n"
        "table=42 priority=200 tcp6,reg4=0x1f90/0xffff,"
        "reg8=0xfd000010,reg9=0x2440002,reg10=0,reg11=0xa "
        "actions=ct(commit,table=50,zone=1,"
        "nat(dst=[fd00:10:244:2::a]:8080),"
        "exec(set_field:0x1/0x1->ct_mark))\n"
        "table=42 priority=200 udp6,reg4=0x14e9/0xffff,"
        "reg8=0xfd000010,reg9=0x2440001,reg10=0,reg11=0xa "
        "actions=ct(commit,table=50,zone=1,"
        "nat(dst=[fd00:10:244:1::a]:5353),"
        "exec(set_field:0x1/0x1->ct_mark))\n"
        "table=42 priority=200 udp6,reg4=0x14e9/0xffff,"
        "reg8=0xfd000010,reg9=0x2440002,reg10=0,reg11=0xa "
        "actions=ct(commit,table=50,zone=1,"
        "nat(dst=[fd00:10:244:2::a]:5353),"
        "exec(set_field:0x1/0x1->ct_mark))\n",
        tcp6->group_id, udp6->group_id);
    CHECK_TEXT(s, expected, "IPv6 flows of a dual-stack Service");
    free(expected);
    free(s);
    s = format_groups(&f.ft, web);
    CHECK(strstr(s, "service default/web TCP/80 IPv6: "
                 "set_field:0xfd00001002440001000000000000000a->xxreg2,"
                 "set_field:0x1f90/0xffff->reg4,resubmit(,42) | "
                 "set_field:0xfd00001002440002000000000000000a->xxreg2,"
                 "set_field:0x1f90/0xffff->reg4,resubmit(,42)\n"),
          "IPv6 group of TCP/80:\n%s", s);
    free(s);
    free(all);

    /* Without IPv6 endpoints the IPv6 ClusterIP rejects; the IPv4 one
     * keeps its group.  The UDP conntrack entries of the two IPv6
     * endpoints are flushed, by their IPv6 address. */
    flow_table_clear_tracked(&f.ft);
    fixture_put(&f, SLICE6("web-6", ""));
    compute_changes(&f);
    check_incremental_is_full(&f, "IPv6 endpoints gone");
    struct ovs_list flushes = OVS_LIST_INITIALIZER(&flushes);
    flows_ct_flushes_for_changes(&f.ft, &flushes);
    struct ds flushed = DS_EMPTY_INITIALIZER;
    const struct flows_ct_flush *flush;
    LIST_FOR_EACH (flush, list_node, &flushes) {
        ipv6_format_mapped(&flush->reply_src, &flushed);
        ds_put_format(&flushed, " %"PRIu16" %"PRIu8" %"PRIu16"\n",
                      ntohs(flush->reply_src_port), flush->ip_proto,
                      flush->zone);
    }
    flows_ct_flushes_destroy(&flushes);
    CHECK(!strcmp(ds_cstr(&flushed),
                  "fd00:10:244:1::a 5353 17 1\nfd00:10:244:2::a 5353 17 1\n")
          || !strcmp(ds_cstr(&flushed), "fd00:10:244:2::a 5353 17 1\n"
                     "fd00:10:244:1::a 5353 17 1\n"),
          "conntrack flushes of the IPv6 endpoints:\n%s", ds_cstr(&flushed));
    ds_destroy(&flushed);
    s = format_table(&f.ft, web, KOVS_T_SERVICE_LB);
    CHECK(strstr(s, "table=40 priority=200 ct_state=+new+trk,tcp6,"
                 "ipv6_dst=fd00:10:96::a,tp_dst=80 "
                 "actions=controller(userdata=01,meter_id=1)\n")
          && strstr(s, "nw_dst=10.96.0.10,tp_dst=80 actions=group:"),
          "SERVICE_LB without IPv6 endpoints:\n%s", s);
    free(s);

    /* An IPv6 endpoint comes back, on another slice too: incrementally,
     * what a full computation gives. */
    fixture_put(&f, SLICE6("web-6", EP("fd00:10:244:1::b", "n1", "")));
    compute_changes(&f);
    check_incremental_is_full(&f, "IPv6 endpoint added");
    fixture_put(&f, SLICE6("web-6b", EP("fd00:10:244:2::b", "n2", "")));
    compute_changes(&f);
    check_incremental_is_full(&f, "second IPv6 slice added");
    CHECK(count_flows(&f.ft, web, KOVS_T_ENDPOINT_DNAT) == 2 * 2 + 2 * 2,
          "%"PRIuSIZE" ENDPOINT_DNAT flows, expected 8",
          count_flows(&f.ft, web, KOVS_T_ENDPOINT_DNAT));

    free(flows4);
    free(groups4);
    fixture_destroy(&f);
}

/* sessionAffinity ClientIP on an IPv6 ClusterIP learns the IPv6 client,
 * VIP and port and gives back the endpoint's IPv6 address. */
static void
test_service_affinity_ipv6(void)
{
    struct fixture f;
    fixture_init(&f);
    fixture_add(&f,
        SERVICE("default", "web",
                WEB_SPEC("'10.96.0.10','fd00:10:96::a'",
                         "'sessionAffinity':'ClientIP',"))
        WEB_SLICE4
        SLICE6("web-6", EP("fd00:10:244:1::a", "n1", "")));
    flows_compute_all(&f.in, &f.ft, f.ex_table);

    uint64_t web = kovs_cookie(KOVS_OWNER_SERVICE, "default", "web");
    char *s = format_table(&f.ft, web, KOVS_T_SERVICE_LB);
    CHECK(strstr(s, "eth_type=0x86dd,nw_proto=6,NXM_NX_IPV6_SRC[],"
                 "NXM_NX_IPV6_DST[],NXM_OF_TCP_DST[],"
                 "load:NXM_NX_XXREG2[]->NXM_NX_XXREG2[],"
                 "load:NXM_NX_REG4[0..15]->NXM_NX_REG4[0..15]"),
          "no IPv6 learn action in\n%s", s);
    CHECK(strstr(s, "NXM_OF_IP_SRC[],NXM_OF_IP_DST[],NXM_OF_TCP_DST[],"
                 "load:NXM_NX_REG3[]->NXM_NX_REG3[],"),
          "the IPv4 learn action changed in\n%s", s);
    free(s);
    s = format_groups(&f.ft, web);
    CHECK(strstr(s, "service default/web TCP/80 IPv6: "
                 "set_field:0xfd00001002440001000000000000000a->xxreg2,"
                 "set_field:0x1f90/0xffff->reg4,"
                 "set_field:0x80/0x80->reg0,resubmit(,40)\n"),
          "IPv6 affinity group:\n%s", s);
    free(s);
    fixture_destroy(&f);
}

/* An external bridge with an IPv6 address as well, on dual-stack nodes:
 * n1 (this node, 2001:db8:1::b on br-ex) and n2 (2001:db8:1::c), and pod
 * a with an IPv6 address. */
static void
fixture_external6(struct fixture *f)
{
    fixture_external(f);
    ovs_assert(ipv6_parse("2001:db8:1::b", &f->ex.node_ip6));
    f->ex.subnet6_plen = 64;
    ovs_assert(ipv6_parse("2001:db8:1::1", &f->ex.gateway_ip6));
    char *error = k8s_parse_dual_cidr_option(
        "cluster-cidr", "10.244.0.0/16,fd00:10:244::/56", &f->in.cluster_cidr);
    ovs_assert(!error);

    static const char *const dual[] = {
        "{'kind':'Node','metadata':{'name':'n1'},"
        " 'spec':{'podCIDRs':['10.244.1.0/24','fd00:10:244:1::/64']},"
        " 'status':{'addresses':[{'type':'InternalIP',"
        "  'address':'198.18.0.11'},{'type':'InternalIP',"
        "  'address':'2001:db8:1::b'}]}}",
        "{'kind':'Node','metadata':{'name':'n2'},"
        " 'spec':{'podCIDRs':['10.244.2.0/24','fd00:10:244:2::/64']},"
        " 'status':{'addresses':[{'type':'InternalIP',"
        "  'address':'198.18.0.12'},{'type':'InternalIP',"
        "  'address':'2001:db8:1::c'}]}}",
        "{'kind':'Pod','metadata':{'namespace':'default','name':'a'},"
        " 'spec':{'nodeName':'n1'},"
        " 'status':{'podIPs':[{'ip':'10.244.1.10'},"
        "                     {'ip':'fd00:10:244:1::a'}]}}",
    };
    fixture_replace(f, dual, ARRAY_SIZE(dual));
}

/* IPv6 external and LoadBalancer IPs that kovs cannot serve (br-ex has no
 * IPv6 address, or the Service no IPv6 family) get no flows and one
 * warning each, naming the Service and the field; IPv4 ones are served as
 * before. */
static void
test_service_ipv6_frontends_warned(void)
{
    struct fixture f;
    fixture_init(&f);
    fixture_external(&f);
    fixture_add(&f,
        "{'kind':'Service','metadata':{'namespace':'default','name':'web'},"
        " 'spec':{'type':'LoadBalancer','clusterIP':'10.96.0.10',"
        "  'clusterIPs':['10.96.0.10','fd00:10:96::a'],"
        "  'externalIPs':['203.0.113.5','2001:db8::5','2001:db8::6'],"
        "  'ports':[{'name':'http','port':80,'nodePort':30080}]},"
        " 'status':{'loadBalancer':{'ingress':[{'ip':'203.0.113.20'},"
        "  {'ip':'2001:db8::20'}]}}},");
    flows_compute_all(&f.in, &f.ft, f.ex_table);

    uint64_t web = kovs_cookie(KOVS_OWNER_SERVICE, "default", "web");
    char *s = format_flows(&f.ft, web);
    CHECK(!strstr(s, "2001:db8"), "flows for IPv6 front ends:\n%s", s);
    CHECK(strstr(s, "nw_dst=203.0.113.5,") && strstr(s, "nw_dst=203.0.113.20,")
          && strstr(s, "ipv6_dst=fd00:10:96::a,"),
          "IPv4 front ends or the IPv6 ClusterIP missing:\n%s", s);
    free(s);
    s = format_flows(&f.ex_ft, web);
    CHECK(!strstr(s, "2001:db8"), "br-ex flows for IPv6 front ends:\n%s", s);
    free(s);

    char *w = format_warnings(&f.ft);
    CHECK_TEXT(w,
        "Service default/web: spec.externalIPs: IPv6 address 2001:db8::5 "
        "is not served (this node takes no IPv6 traffic through the "
        "external bridge: it has no IPv6 address, or the node no IPv6 "
        "podCIDR)\n"
        "Service default/web: status.loadBalancer.ingress.ip: IPv6 address "
        "2001:db8::20 is not served (this node takes no IPv6 traffic "
        "through the external bridge: it has no IPv6 address, or the node "
        "no IPv6 podCIDR)\n",
        "warnings");
    free(w);
    fixture_destroy(&f);

    /* With an IPv6 address on br-ex, a Service without the IPv6 family
     * still has no IPv6 endpoints for them. */
    fixture_init(&f);
    fixture_external6(&f);
    fixture_add(&f,
        "{'kind':'Service','metadata':{'namespace':'default','name':'web'},"
        " 'spec':{'type':'LoadBalancer','clusterIP':'10.96.0.10',"
        "  'externalIPs':['203.0.113.5','2001:db8::5'],"
        "  'ports':[{'name':'http','port':80,'nodePort':30080}]},"
        " 'status':{'loadBalancer':{'ingress':[{'ip':'2001:db8::20'}]}}},");
    flows_compute_all(&f.in, &f.ft, f.ex_table);
    s = format_flows(&f.ft, web);
    char *s6 = flow_lines_of_family(s, true);
    CHECK_TEXT(s6, "", "IPv6 flows of an IPv4-only Service");
    free(s6);
    free(s);
    s = format_flows(&f.ex_ft, web);
    CHECK(!strstr(s, "2001:db8") && strstr(s, "nw_dst=203.0.113.5,"),
          "br-ex flows of an IPv4-only Service:\n%s", s);
    free(s);
    w = format_warnings(&f.ft);
    CHECK_TEXT(w,
        "Service default/web: spec.externalIPs: IPv6 address 2001:db8::5 "
        "is not served (the Service has no IPv6 ClusterIP (ipFamilies))\n"
        "Service default/web: status.loadBalancer.ingress.ip: IPv6 address "
        "2001:db8::20 is not served (the Service has no IPv6 ClusterIP "
        "(ipFamilies))\n",
        "warnings of an IPv4-only Service");
    free(w);
    fixture_destroy(&f);
}

/* Routed mode on a dual-stack node whose br-ex has an IPv6 address: n2's
 * IPv6 podCIDR and IPv6 InternalIP get the IPv4 ones' flows (classified by
 * source on the patch port, routed out through br-ex with n2's IPv6
 * InternalIP as next hop, unmasqueraded except NodePort traffic), br-ex
 * sends this node's IPv6 podCIDR and n2's pods' IPv6 packets to the node
 * to br-int, and the IPv4 flows stay what they are without IPv6. */
static void
test_tunnel_routed_ipv6_flows(void)
{
    struct fixture f;
    fixture_init(&f);
    fixture_external6(&f);
    shash_clear_free_data(&f.tunnel_ports);
    f.in.tunnel_mode = FLOWS_TUNNEL_NONE;
    struct in6_addr node_ip6 = f.ex.node_ip6;
    f.ex.node_ip6 = in6addr_any;
    flows_compute_all(&f.in, &f.ft, f.ex_table);

    uint64_t n2 = kovs_cookie(KOVS_OWNER_NODE, NULL, "n2");
    char *n2_4 = format_flows(&f.ft, n2);
    char *s = flow_lines_of_family(n2_4, true);
    CHECK_TEXT(s, "", "n2's IPv6 flows without an IPv6 address on br-ex");
    free(s);

    f.ex.node_ip6 = node_ip6;
    flows_compute_all(&f.in, &f.ft, f.ex_table);
    char *all = format_flows(&f.ft, n2);
    s = flow_lines_of_family(all, false);
    CHECK_TEXT(s, n2_4, "n2's IPv4 flows");
    free(s);
    s = flow_lines_of_family(all, true);
    CHECK_TEXT(s,
        "table=0 priority=210 ipv6,in_port=7,ipv6_src=2001:db8:1::c "
        "actions=set_field:0x3/0xf->reg0,goto_table:30\n"
        "table=0 priority=210 ipv6,in_port=7,ipv6_src=fd00:10:244:2::/64 "
        "actions=set_field:0x3/0xf->reg0,goto_table:30\n"
        "table=60 priority=200 ipv6,ipv6_dst=2001:db8:1::c "
        "actions=set_field:02:00:c6:12:00:0b->eth_src,dec_ttl,"
        "set_field:0x20010db800010000000000000000000c->xxreg3,"
        "set_field:0x7->reg1,goto_table:62\n"
        "table=60 priority=200 ipv6,ipv6_dst=fd00:10:244:2::/64 "
        "actions=set_field:02:00:c6:12:00:0b->eth_src,dec_ttl,"
        "set_field:0x20010db800010000000000000000000c->xxreg3,"
        "set_field:0x7->reg1,goto_table:62\n"
        "table=65 priority=150 ipv6,reg1=0x7,ipv6_dst=2001:db8:1::c "
        "actions=goto_table:70\n"
        "table=65 priority=150 ipv6,reg1=0x7,ipv6_dst=fd00:10:244:2::/64 "
        "actions=goto_table:70\n"
        "table=65 priority=200 ct_state=+new+trk,ct_mark=0x1/0x1,ipv6,"
        "reg0=0x3/0xf,reg1=0x7,ipv6_dst=2001:db8:1::c actions=ct(commit,"
        "table=70,zone=2,nat(src=[2001:db8:1::b]:61000-65535))\n"
        "table=65 priority=200 ct_state=+new+trk,ct_mark=0x1/0x1,ipv6,"
        "reg0=0x3/0xf,reg1=0x7,ipv6_dst=fd00:10:244:2::/64 actions=ct(commit,"
        "table=70,zone=2,nat(src=[2001:db8:1::b]:61000-65535))\n"
        "table=65 priority=200 ct_state=+new+trk,ct_mark=0x1/0x1,ipv6,"
        "reg0=0x4/0xf,reg1=0x7,ipv6_dst=2001:db8:1::c actions=ct(commit,"
        "table=70,zone=2,nat(src=[2001:db8:1::b]:61000-65535))\n"
        "table=65 priority=200 ct_state=+new+trk,ct_mark=0x1/0x1,ipv6,"
        "reg0=0x4/0xf,reg1=0x7,ipv6_dst=fd00:10:244:2::/64 actions=ct(commit,"
        "table=70,zone=2,nat(src=[2001:db8:1::b]:61000-65535))\n"
        "table=65 priority=200 ct_state=-new+trk,ipv6,reg0=0x3/0xf,reg1=0x7,"
        "ipv6_dst=2001:db8:1::c actions=ct(table=70,zone=2,nat)\n"
        "table=65 priority=200 ct_state=-new+trk,ipv6,reg0=0x3/0xf,reg1=0x7,"
        "ipv6_dst=fd00:10:244:2::/64 actions=ct(table=70,zone=2,nat)\n"
        "table=65 priority=200 ct_state=-new+trk,ipv6,reg0=0x4/0xf,reg1=0x7,"
        "ipv6_dst=2001:db8:1::c actions=ct(table=70,zone=2,nat)\n"
        "table=65 priority=200 ct_state=-new+trk,ipv6,reg0=0x4/0xf,reg1=0x7,"
        "ipv6_dst=fd00:10:244:2::/64 actions=ct(table=70,zone=2,nat)\n",
        "n2's IPv6 flows in routed mode");
    free(s);
    free(all);
    free(n2_4);

    s = format_flows(&f.ex_ft, EX_COOKIE);
    CHECK(strstr(s, "table=0 priority=150 ipv6,in_port=1,"
                 "ipv6_dst=fd00:10:244:1::/64 actions=output:2\n"),
          "br-ex's flows in routed mode:\n%s", s);
    free(s);

    /* n2's Neighbor Advertisements (from its IPv6 InternalIP) are br-ex's,
     * for neighbor learning, not n2's traffic. */
    s = format_table(&f.ft, EX_COOKIE, KOVS_T_CLASSIFIER);
    CHECK_TEXT(s,
        "table=0 priority=200 in_port=7 "
        "actions=set_field:0x4/0xf->reg0,goto_table:20\n"
        "table=0 priority=220 icmp6,in_port=7,icmp_type=136,icmp_code=0 "
        "actions=set_field:0x4/0xf->reg0,goto_table:20\n",
        "br-int's CLASSIFIER flows of the external bridge");
    free(s);
    s = format_flows(&f.ex_ft, n2);
    char *s6 = flow_lines_of_family(s, true);
    CHECK_TEXT(s6,
        "table=0 priority=150 ipv6,in_port=1,ipv6_src=fd00:10:244:2::/64,"
        "ipv6_dst=2001:db8:1::b actions=output:2\n",
        "n2's IPv6 br-ex flows in routed mode");
    free(s6);
    free(s);
    CHECK(sset_is_empty(&f.ft.warnings), "%"PRIuSIZE" warnings",
          sset_count(&f.ft.warnings));

    /* A peer with an IPv6 podCIDR but no IPv6 InternalIP, and one whose
     * IPv6 InternalIP is off br-ex's IPv6 subnet: IPv4 only, and one
     * warning each naming the node. */
    fixture_add(&f,
        "{'kind':'Node','metadata':{'name':'n3'},"
        " 'spec':{'podCIDRs':['10.244.3.0/24','fd00:10:244:3::/64']},"
        " 'status':{'addresses':[{'type':'InternalIP',"
        "  'address':'198.18.0.13'}]}},"
        "{'kind':'Node','metadata':{'name':'n4'},"
        " 'spec':{'podCIDRs':['10.244.4.0/24','fd00:10:244:4::/64']},"
        " 'status':{'addresses':[{'type':'InternalIP',"
        "  'address':'198.18.0.14'},{'type':'InternalIP',"
        "  'address':'2001:db8:9::e'}]}},");
    flows_compute_all(&f.in, &f.ft, f.ex_table);
    static const char *const peers[] = { "n3", "n4" };
    for (size_t i = 0; i < ARRAY_SIZE(peers); i++) {
        uint64_t cookie = kovs_cookie(KOVS_OWNER_NODE, NULL, peers[i]);
        s = format_flows(&f.ft, cookie);
        s6 = flow_lines_of_family(s, true);
        CHECK(!*s6, "%s's IPv6 flows:\n%s", peers[i], s6);
        CHECK(strstr(s, "ip,nw_dst=10.244."), "%s's IPv4 flows:\n%s",
              peers[i], s);
        free(s6);
        free(s);
    }
    char *w = format_warnings(&f.ft);
    CHECK_TEXT(w,
        "Node n3: status.addresses has no IPv6 InternalIP: its IPv6 pods are "
        "unreachable with --tunnel-type=none\n"
        "Node n4: status.addresses InternalIP 2001:db8:9::e is not on this "
        "node's IPv6 subnet 2001:db8:1::/64: its IPv6 pods are unreachable "
        "with --tunnel-type=none (routed mode needs every node on one L2 "
        "network)\n",
        "warnings");
    free(w);
    fixture_destroy(&f);
}

/* With an IPv6 address on br-ex, the external flows of both bridges get
 * their IPv6 counterparts (neighbour discovery instead of ARP, the
 * node's IPv6 address, the IPv6 routes and SNAT), and the IPv4 flows stay
 * exactly what they are without it. */
static void
test_external_ipv6_flows(void)
{
    struct fixture f;
    fixture_init(&f);
    fixture_external6(&f);
    struct in6_addr node_ip6 = f.ex.node_ip6;
    f.ex.node_ip6 = in6addr_any;
    flows_compute_all(&f.in, &f.ft, f.ex_table);
    char *int4 = format_flows(&f.ft, EX_COOKIE);
    char *ex4 = format_flows(&f.ex_ft, EX_COOKIE);
    char *s = flow_lines_of_family(int4, true);
    CHECK_TEXT(s, "", "IPv6 external flows without an IPv6 address");
    free(s);

    f.ex.node_ip6 = node_ip6;
    flows_compute_all(&f.in, &f.ft, f.ex_table);
    char *int_all = format_flows(&f.ft, EX_COOKIE);
    char *ex_all = format_flows(&f.ex_ft, EX_COOKIE);
    s = flow_lines_of_family(int_all, false);
    CHECK_TEXT(s, int4, "IPv4 external flows on br-int");
    free(s);
    s = flow_lines_of_family(ex_all, false);
    CHECK_TEXT(s, ex4, "IPv4 flows on br-ex");
    free(s);

    s = flow_lines_of_family(ex_all, true);
    CHECK_TEXT(s,
        "table=0 priority=100 ipv6,in_port=1,ipv6_dst=2001:db8:1::b "
        "actions=ct(table=1,zone=2)\n"
        "table=0 priority=110 icmp6,in_port=1,ipv6_dst=2001:db8:1::b,"
        "icmp_type=135,icmp_code=0 actions=NORMAL\n"
        "table=0 priority=200 icmp6,in_port=1,ipv6_dst=2001:db8:1::b,"
        "icmp_type=136,icmp_code=0 actions=NORMAL,output:2\n",
        "br-ex's IPv6 flows");
    free(s);
    s = flow_lines_of_family(int_all, true);
    CHECK_TEXT(s,
        "table=20 priority=310 icmp6,reg0=0x4/0xf,ipv6_dst=2001:db8:1::b,"
        "icmp_type=136,icmp_code=0 actions=controller(userdata=03,"
        "meter_id=3)\n"
        "table=30 priority=200 ct_state=-trk,ipv6,ipv6_dst=2001:db8:1::b "
        "actions=ct(table=30,zone=2,nat)\n"
        "table=30 priority=310 icmp6,reg0=0/0x800,in_port=7,icmp_type=1 "
        "actions=controller(userdata=07.01,meter_id=6)\n"
        "table=30 priority=310 icmp6,reg0=0/0x800,in_port=7,icmp_type=2 "
        "actions=controller(userdata=07.01,meter_id=6)\n"
        "table=30 priority=310 icmp6,reg0=0/0x800,in_port=7,icmp_type=3 "
        "actions=controller(userdata=07.01,meter_id=6)\n"
        "table=30 priority=310 icmp6,reg0=0/0x800,in_port=7,icmp_type=4 "
        "actions=controller(userdata=07.01,meter_id=6)\n"
        "table=60 priority=1 ipv6 "
        "actions=set_field:0x20010db8000100000000000000000001->xxreg3,"
        "set_field:02:00:c6:12:00:0b->eth_src,dec_ttl,set_field:0x7->reg1,"
        "goto_table:62\n"
        "table=60 priority=2 ipv6,ipv6_dst=2001:db8:1::/64 "
        "actions=move:NXM_NX_IPV6_DST[]->NXM_NX_XXREG3[],"
        "set_field:02:00:c6:12:00:0b->eth_src,dec_ttl,set_field:0x7->reg1,"
        "goto_table:62\n"
        "table=60 priority=200 ipv6,ipv6_dst=2001:db8:1::b "
        "actions=set_field:aa:bb:cc:dd:ee:ff->eth_src,"
        "set_field:0a:58:0a:f4:01:01->eth_dst,set_field:0x2->reg1,"
        "goto_table:62\n"
        "table=60 priority=3 ipv6,reg0=0x4/0xf actions=drop\n"
        "table=60 priority=50 ipv6,ipv6_dst=fd00:10:244::/56 actions=drop\n"
        "table=65 priority=100 ct_state=+new+trk,ct_mark=0/0x1,ipv6,reg1=0x7 "
        "actions=ct(commit,zone=1),ct(commit,table=90,zone=2,"
        "nat(src=[2001:db8:1::b]:61000-65535))\n"
        "table=65 priority=100 ct_state=+new+trk,ct_mark=0x1/0x1,ipv6,"
        "reg1=0x7 "
        "actions=ct(commit,table=90,zone=2,"
        "nat(src=[2001:db8:1::b]:61000-65535))\n"
        "table=65 priority=100 ct_state=-new+trk,ipv6,reg1=0x7 "
        "actions=ct(table=90,zone=2,nat)\n",
        "br-int's IPv6 external flows");
    free(s);

    /* An IPv6 neighbor gets a NEIGHBOR flow on the IPv6 next hop. */
    struct flows_neighbor neighbor = {
        .mac = ETH_ADDR_C(02,00,00,00,00,01),
    };
    ovs_assert(ipv6_parse("2001:db8:1::1", &neighbor.ip));
    f.ex.neighbors = &neighbor;
    f.ex.n_neighbors = 1;
    flows_compute_all(&f.in, &f.ft, f.ex_table);
    s = format_flows(&f.ft, NEIGHBOR_COOKIE);
    CHECK_TEXT(s,
        "table=62 priority=200 ipv6,reg1=0x7,reg12=0x20010db8,reg13=0x10000,"
        "reg14=0,reg15=0x1 actions=set_field:02:00:00:00:00:01->eth_dst,"
        "goto_table:65\n",
        "IPv6 NEIGHBOR flow");
    free(s);

    /* The peer's IPv6 InternalIP goes through its tunnel, and Service
     * connections from outside sent there are masqueraded to the node's
     * IPv6 address. */
    uint64_t n2 = kovs_cookie(KOVS_OWNER_NODE, NULL, "n2");
    char *n2_all = format_flows(&f.ft, n2);
    s = flow_lines_of_family(n2_all, true);
    CHECK_TEXT(s,
        "table=60 priority=200 ipv6,ipv6_dst=2001:db8:1::c "
        "actions=set_field:0a:58:0a:f4:01:01->eth_src,"
        "set_field:aa:bb:cc:dd:ee:ff->eth_dst,dec_ttl,set_field:0x1->tun_id,"
        "check_pkt_larger(1464)->NXM_NX_REG0[9],"
        "set_field:0x3->reg1,goto_table:62\n"
        "table=60 priority=200 ipv6,ipv6_dst=fd00:10:244:2::/64 "
        "actions=set_field:0a:58:0a:f4:01:01->eth_src,"
        "set_field:aa:bb:cc:dd:ee:ff->eth_dst,dec_ttl,set_field:0x1->tun_id,"
        "check_pkt_larger(1464)->NXM_NX_REG0[9],"
        "set_field:0x3->reg1,goto_table:62\n"
        "table=65 priority=200 ct_state=+new+trk,ct_mark=0x1/0x1,ipv6,"
        "reg0=0x3/0xf,reg1=0x3 "
        "actions=ct(commit,table=70,zone=2,"
        "nat(src=[2001:db8:1::b]:61000-65535))\n"
        "table=65 priority=200 ct_state=+new+trk,ct_mark=0x1/0x1,ipv6,"
        "reg0=0x4/0xf,reg1=0x3 "
        "actions=ct(commit,table=70,zone=2,"
        "nat(src=[2001:db8:1::b]:61000-65535))\n"
        "table=65 priority=200 ct_state=-new+trk,ipv6,reg0=0x3/0xf,reg1=0x3 "
        "actions=ct(table=70,zone=2,nat)\n"
        "table=65 priority=200 ct_state=-new+trk,ipv6,reg0=0x4/0xf,reg1=0x3 "
        "actions=ct(table=70,zone=2,nat)\n",
        "n2's IPv6 flows");
    free(s);
    free(n2_all);

    free(int4);
    free(ex4);
    free(int_all);
    free(ex_all);
    fixture_destroy(&f);
}

/* An external bridge on IPv6-only nodes: n1 (this node, fd00:198:18::11/64
 * on br-ex, default gateway fd00:198:18::1) and n2 (fd00:198:18::12), with
 * IPv6 podCIDRs alone, pod a, and a NodePort Service whose endpoint is on
 * n2.  The IPv4 node IP is 0: kovs takes no IPv4 traffic through br-ex. */
static void
fixture_external6_only(struct fixture *f)
{
    fixture_external(f);
    f->ex.node_ip = 0;
    f->ex.subnet_mask = 0;
    f->ex.gateway_ip = 0;
    ovs_assert(ipv6_parse("fd00:198:18::11", &f->ex.node_ip6));
    f->ex.subnet6_plen = 64;
    ovs_assert(ipv6_parse("fd00:198:18::1", &f->ex.gateway_ip6));
    fixture_ipv6_only(f);

    static const char *const v6only[] = {
        V6ONLY_NODES_AND_POD_A
        "{'kind':'Service','metadata':{'namespace':'default','name':'np'},"
        " 'spec':{'type':'NodePort','clusterIP':'fd00:10:96::10',"
        "  'clusterIPs':['fd00:10:96::10'],'ipFamilies':['IPv6'],"
        "  'externalIPs':['2001:db8::5','203.0.113.5'],"
        "  'ports':[{'name':'http','port':80,'protocol':'TCP',"
        "            'targetPort':8080,'nodePort':30080}]}}",
        "{'kind':'EndpointSlice','metadata':{'namespace':'default',"
        "  'name':'np-1','labels':{'kubernetes.io/service-name':'np'}},"
        " 'addressType':'IPv6',"
        " 'endpoints':[{'addresses':['fd00:10:244:2::a'],"
        "  'conditions':{'ready':true},'nodeName':'n2'}],"
        " 'ports':[{'name':'http','port':8080,'protocol':'TCP'}]}",
    };
    fixture_replace(f, v6only, ARRAY_SIZE(v6only));
}

/* On an IPv6-only node, br-ex is all IPv6: SNAT to the node's IPv6
 * address, routes to its subnet and gateway, neighbour discovery, the
 * IPv6 underlay, the NodePort on the node's IPv6 address and the external
 * IPv6 address, with no flow about an IPv4 address on either bridge; an
 * IPv4 external address is not served, with a warning naming it. */
static void
test_external_ipv6_only(void)
{
    struct fixture f;
    fixture_init(&f);
    fixture_external6_only(&f);
    flows_compute_all(&f.in, &f.ft, f.ex_table);

    char *int_all = format_flows(&f.ft, 0);
    char *ex_all = format_flows(&f.ex_ft, 0);
    char *s = ipv4_address_lines(int_all);
    CHECK_TEXT(s, "", "br-int flows about IPv4 addresses");
    free(s);
    s = ipv4_address_lines(ex_all);
    CHECK_TEXT(s, "", "br-ex flows about IPv4 addresses");
    free(s);

    /* br-ex: everything the IPv4 node IP gets on a dual-stack node, for
     * the IPv6 address, and the IPv6 underlay (VXLAN) to the node's
     * stack. */
    char *ex_own = format_flows(&f.ex_ft, EX_COOKIE);
    s = flow_lines_of_family(ex_own, true);
    CHECK_TEXT(s,
        "table=0 priority=100 ipv6,in_port=1,ipv6_dst=fd00:198:18::11 "
        "actions=ct(table=1,zone=2)\n"
        "table=0 priority=110 icmp6,in_port=1,ipv6_dst=fd00:198:18::11,"
        "icmp_type=135,icmp_code=0 actions=NORMAL\n"
        "table=0 priority=110 udp6,in_port=1,ipv6_dst=fd00:198:18::11,"
        "tp_dst=4789 actions=NORMAL\n"
        "table=0 priority=200 icmp6,in_port=1,ipv6_dst=fd00:198:18::11,"
        "icmp_type=136,icmp_code=0 actions=NORMAL,output:2\n",
        "br-ex's IPv6 flows");
    free(s);
    free(ex_own);

    /* br-int: neighbour learning, un-SNAT, the node's address, the
     * cluster CIDR, no return to the outside, the routes and SNAT. */
    char *int_own = format_flows(&f.ft, EX_COOKIE);
    s = flow_lines_of_family(int_own, true);
    CHECK_TEXT(s,
        "table=20 priority=310 icmp6,reg0=0x4/0xf,ipv6_dst=fd00:198:18::11,"
        "icmp_type=136,icmp_code=0 actions=controller(userdata=03,"
        "meter_id=3)\n"
        "table=30 priority=200 ct_state=-trk,ipv6,ipv6_dst=fd00:198:18::11 "
        "actions=ct(table=30,zone=2,nat)\n"
        "table=30 priority=310 icmp6,reg0=0/0x800,in_port=7,icmp_type=1 "
        "actions=controller(userdata=07.01,meter_id=6)\n"
        "table=30 priority=310 icmp6,reg0=0/0x800,in_port=7,icmp_type=2 "
        "actions=controller(userdata=07.01,meter_id=6)\n"
        "table=30 priority=310 icmp6,reg0=0/0x800,in_port=7,icmp_type=3 "
        "actions=controller(userdata=07.01,meter_id=6)\n"
        "table=30 priority=310 icmp6,reg0=0/0x800,in_port=7,icmp_type=4 "
        "actions=controller(userdata=07.01,meter_id=6)\n"
        "table=60 priority=1 ipv6 "
        "actions=set_field:0xfd000198001800000000000000000001->xxreg3,"
        "set_field:02:00:c6:12:00:0b->eth_src,dec_ttl,set_field:0x7->reg1,"
        "goto_table:62\n"
        "table=60 priority=2 ipv6,ipv6_dst=fd00:198:18::/64 "
        "actions=move:NXM_NX_IPV6_DST[]->NXM_NX_XXREG3[],"
        "set_field:02:00:c6:12:00:0b->eth_src,dec_ttl,set_field:0x7->reg1,"
        "goto_table:62\n"
        "table=60 priority=200 ipv6,ipv6_dst=fd00:198:18::11 "
        "actions=set_field:aa:bb:cc:dd:ee:ff->eth_src,"
        "set_field:0a:58:ff:44:00:10->eth_dst,set_field:0x2->reg1,"
        "goto_table:62\n"
        "table=60 priority=3 ipv6,reg0=0x4/0xf actions=drop\n"
        "table=60 priority=50 ipv6,ipv6_dst=fd00:10:244::/56 actions=drop\n"
        "table=65 priority=100 ct_state=+new+trk,ct_mark=0/0x1,ipv6,reg1=0x7 "
        "actions=ct(commit,zone=1),ct(commit,table=90,zone=2,"
        "nat(src=[fd00:198:18::11]:61000-65535))\n"
        "table=65 priority=100 ct_state=+new+trk,ct_mark=0x1/0x1,ipv6,"
        "reg1=0x7 "
        "actions=ct(commit,table=90,zone=2,"
        "nat(src=[fd00:198:18::11]:61000-65535))\n"
        "table=65 priority=100 ct_state=-new+trk,ipv6,reg1=0x7 "
        "actions=ct(table=90,zone=2,nat)\n",
        "br-int's IPv6 external flows");
    free(s);
    free(int_own);

    /* The NodePort on the node's IPv6 address and the IPv6 external IP go
     * to br-int; the IPv4 external IP does not, with a warning. */
    uint64_t np = kovs_cookie(KOVS_OWNER_SERVICE, "default", "np");
    s = format_flows(&f.ex_ft, np);
    CHECK_TEXT(s,
        "table=0 priority=200 tcp6,in_port=1,ipv6_dst=2001:db8::5,tp_dst=80 "
        "actions=output:2\n"
        "table=0 priority=200 tcp6,in_port=1,ipv6_dst=fd00:198:18::11,"
        "tp_dst=30080 actions=output:2\n",
        "br-ex's flows of the Service's front ends");
    free(s);
    char *w = format_warnings(&f.ft);
    CHECK_TEXT(w,
        "Service default/np: spec.externalIPs: IPv4 address 203.0.113.5 is "
        "not served (this node takes no IPv4 traffic through the external "
        "bridge: the node has no IPv4 podCIDR)\n",
        "warnings");
    free(w);

    /* Service connections from outside sent through n2's tunnel are
     * masqueraded to the node's IPv6 address. */
    uint64_t n2 = kovs_cookie(KOVS_OWNER_NODE, NULL, "n2");
    char *n2_all = format_flows(&f.ft, n2);
    CHECK(strstr(n2_all, "table=65 priority=200 ct_state=+new+trk,"
                 "ct_mark=0x1/0x1,ipv6,reg0=0x4/0xf,reg1=0x3 "
                 "actions=ct(commit,table=70,zone=2,"
                 "nat(src=[fd00:198:18::11]:61000-65535))\n"),
          "n2 lacks the IPv6 Service SNAT:\n%s", n2_all);
    free(n2_all);

    free(int_all);
    free(ex_all);
    fixture_destroy(&f);
}

/* Routed mode on IPv6-only nodes: n2's IPv6 podCIDR and InternalIP go out
 * through br-ex with n2's IPv6 InternalIP as next hop, classified by source
 * when they come back, br-ex sends this node's podCIDR and n2's pods'
 * packets to the node to br-int, and there is no underlay flow and nothing
 * IPv4. */
static void
test_tunnel_routed_ipv6_only(void)
{
    struct fixture f;
    fixture_init(&f);
    fixture_external6_only(&f);
    shash_clear_free_data(&f.tunnel_ports);
    f.in.tunnel_mode = FLOWS_TUNNEL_NONE;
    flows_compute_all(&f.in, &f.ft, f.ex_table);

    uint64_t n2 = kovs_cookie(KOVS_OWNER_NODE, NULL, "n2");
    char *classifier = format_table(&f.ft, n2, KOVS_T_CLASSIFIER);
    char *l3 = format_table(&f.ft, n2, KOVS_T_L3_FORWARDING);
    char *s = xasprintf("%s%s", classifier, l3);
    free(classifier);
    free(l3);
    CHECK_TEXT(s,
        "table=0 priority=210 ipv6,in_port=7,ipv6_src=fd00:10:244:2::/64 "
        "actions=set_field:0x3/0xf->reg0,goto_table:30\n"
        "table=0 priority=210 ipv6,in_port=7,ipv6_src=fd00:198:18::12 "
        "actions=set_field:0x3/0xf->reg0,goto_table:30\n"
        "table=60 priority=200 ipv6,ipv6_dst=fd00:10:244:2::/64 "
        "actions=set_field:02:00:c6:12:00:0b->eth_src,dec_ttl,"
        "set_field:0xfd000198001800000000000000000012->xxreg3,"
        "set_field:0x7->reg1,goto_table:62\n"
        "table=60 priority=200 ipv6,ipv6_dst=fd00:198:18::12 "
        "actions=set_field:02:00:c6:12:00:0b->eth_src,dec_ttl,"
        "set_field:0xfd000198001800000000000000000012->xxreg3,"
        "set_field:0x7->reg1,goto_table:62\n",
        "n2's CLASSIFIER and L3_FORWARDING flows");
    free(s);
    s = format_table(&f.ft, n2, KOVS_T_SNAT);
    CHECK(strstr(s, "ipv6,reg1=0x7,ipv6_dst=fd00:10:244:2::/64 "
                 "actions=goto_table:70\n")
          && strstr(s, "nat(src=[fd00:198:18::11]:61000-65535)"),
          "n2's SNAT flows:\n%s", s);
    free(s);
    s = format_flows(&f.ex_ft, n2);
    CHECK_TEXT(s,
        "table=0 priority=150 ipv6,in_port=1,ipv6_src=fd00:10:244:2::/64,"
        "ipv6_dst=fd00:198:18::11 actions=output:2\n",
        "n2's br-ex flows");
    free(s);

    char *ex_all = format_flows(&f.ex_ft, 0);
    s = ipv4_address_lines(ex_all);
    CHECK_TEXT(s, "", "br-ex flows about IPv4 addresses");
    free(s);
    CHECK(strstr(ex_all, "table=0 priority=150 ipv6,in_port=1,"
                 "ipv6_dst=fd00:10:244:1::/64 actions=output:2\n")
          && !strstr(ex_all, "tp_dst=4789"),
          "br-ex in routed mode:\n%s", ex_all);
    free(ex_all);
    char *int_all = format_flows(&f.ft, 0);
    s = ipv4_address_lines(int_all);
    CHECK_TEXT(s, "", "br-int flows about IPv4 addresses");
    free(s);
    free(int_all);
    char *w = format_warnings(&f.ft);
    CHECK_TEXT(w,
        "Service default/np: spec.externalIPs: IPv4 address 203.0.113.5 is "
        "not served (this node takes no IPv4 traffic through the external "
        "bridge: the node has no IPv4 podCIDR)\n",
        "warnings");
    free(w);
    fixture_destroy(&f);
}

/* A dual-stack Service's IPv6 NodePort (on the node's IPv6 address),
 * external and LoadBalancer IPs get the flows of its IPv4 ones, with its
 * IPv6 endpoints, IPv6 source ranges and externalTrafficPolicy Local. */
static void
test_service_ipv6_frontends(void)
{
    struct fixture f;
    fixture_init(&f);
    fixture_external6(&f);
    fixture_add(&f,
        "{'kind':'Service','metadata':{'namespace':'default','name':'web'},"
        " 'spec':{'type':'LoadBalancer','clusterIP':'10.96.0.10',"
        "  'clusterIPs':['10.96.0.10','fd00:10:96::a'],"
        "  'ipFamilies':['IPv4','IPv6'],'ipFamilyPolicy':'RequireDualStack',"
        "  'externalTrafficPolicy':'Local',"
        "  'loadBalancerSourceRanges':['2001:db8:2::/48'],"
        "  'externalIPs':['2001:db8::5'],"
        "  'ports':[{'name':'http','port':80,'targetPort':8080,"
        "            'nodePort':30080}]},"
        " 'status':{'loadBalancer':{'ingress':[{'ip':'2001:db8::20'}]}}},"
        SLICE6("web-6", EP("fd00:10:244:2::a", "n2", "")
                        EP("fd00:10:244:1::a", "n1", "")));
    flows_compute_all(&f.in, &f.ft, f.ex_table);

    uint64_t web = kovs_cookie(KOVS_OWNER_SERVICE, "default", "web");
    char *s = format_flows(&f.ex_ft, web);
    CHECK_TEXT(s,
        "table=0 priority=200 tcp,in_port=1,nw_dst=198.18.0.11,tp_dst=30080 "
        "actions=output:2\n"
        "table=0 priority=200 tcp6,in_port=1,ipv6_dst=2001:db8:1::b,"
        "tp_dst=30080 actions=output:2\n"
        "table=0 priority=200 tcp6,in_port=1,ipv6_dst=2001:db8::20,tp_dst=80 "
        "actions=output:2\n"
        "table=0 priority=200 tcp6,in_port=1,ipv6_dst=2001:db8::5,tp_dst=80 "
        "actions=output:2\n",
        "br-ex's flows of the IPv6 front ends");
    free(s);
    char *all = format_flows(&f.ft, web);
    s = flow_lines_of_family(all, true);
    const struct desired_group *g_all = find_group_by_key(
        &f.ft, "service default/web TCP/80 IPv6");
    const struct desired_group *g_local = find_group_by_key(
        &f.ft, "service default/web TCP/80 IPv6 local");
    ovs_assert(g_all && g_local);
    uint32_t all6 = g_all->group_id, local6 = g_local->group_id;
    char *expected = xasprintf(
        "table=40 priority=180 tcp6,ipv6_dst=2001:db8::20,tp_dst=80 "
        "actions=drop\n"
        "table=40 priority=200 ct_state=+new+trk,tcp6,ipv6_dst=2001:db8:1::b,"
        "tp_dst=30080 actions=group:%"PRIu32"\n"
        "table=40 priority=200 ct_state=+new+trk,tcp6,ipv6_dst=2001:db8::5,"
        "tp_dst=80 actions=group:%"PRIu32"\n"
        "table=40 priority=200 ct_state=+new+trk,tcp6,ipv6_dst=fd00:10:96::a,"
        "tp_dst=80 actions=group:%"PRIu32"\n"
        "table=40 priority=200 ct_state=+new+trk,tcp6,"
        "ipv6_src=2001:db8:2::/48,ipv6_dst=2001:db8::20,tp_dst=80 "
        "actions=group:%"PRIu32"\n"
        "table=40 priority=220 ct_state=+new+trk,tcp6,reg0=0x1/0xf,"
        "ipv6_dst=2001:db8:1::b,tp_dst=30080 actions=group:%"PRIu32"\n"
        "table=40 priority=220 ct_state=+new+trk,tcp6,reg0=0x1/0xf,"
        "ipv6_dst=2001:db8::5,tp_dst=80 actions=group:%"PRIu32"\n"
        "table=40 priority=220 ct_state=+new+trk,tcp6,reg0=0x1/0xf,"
        "ipv6_src=2001:db8:2::/48,ipv6_dst=2001:db8::20,tp_dst=80 "
        "actions=group:%"PRIu32"\n"
        "table=40 priority=220 ct_state=+new+trk,tcp6,reg0=0x2/0xf,"
        "ipv6_dst=2001:db8:1::b,tp_dst=30080 actions=group:%"PRIu32"\n"
        "table=40 priority=220 ct_state=+new+trk,tcp6,reg0=0x2/0xf,"
        "ipv6_dst=2001:db8::5,tp_dst=80 actions=group:%"PRIu32"\n"
        "table=40 priority=220 ct_state=+new+trk,tcp6,reg0=0x2/0xf,"
        "ipv6_src=2001:db8:2::/48,ipv6_dst=2001:db8::20,tp_dst=80 "
        "actions=group:%"PRIu32"\n"
        "table=42 priority=200 tcp6,reg4=0x1f90/0xffff,reg8=0xfd000010,"
        "reg9=0x2440001,reg10=0,reg11=0xa actions="
        "ct(commit,table=50,zone=1,nat(dst=[fd00:10:244:1::a]:8080),"
        "exec(set_field:0x1/0x1->ct_mark))\n"
        "table=42 priority=200 tcp6,reg4=0x1f90/0xffff,reg8=0xfd000010,"
        "reg9=0x2440002,reg10=0,reg11=0xa actions="
        "ct(commit,table=50,zone=1,nat(dst=[fd00:10:244:2::a]:8080),"
        "exec(set_field:0x1/0x1->ct_mark))\n",
        local6, local6, all6, local6, all6, all6, all6, all6, all6, all6);
    CHECK_TEXT(s, expected, "IPv6 SERVICE_LB flows");
    free(expected);
    free(s);
    free(all);
    CHECK(sset_is_empty(&f.ft.warnings), "warnings for served IPv6 front "
          "ends");
    fixture_destroy(&f);
}

/* The shared flow-based tunnel port (--tunnel-ports=flow): each peer's
 * routes set its underlay address as the tunnel's destination (tun_dst, or
 * for an IPv6 underlay tun_ipv6_dst with tun_dst cleared) and its
 * classifier flow knows it by that address as tunnel source; the SNAT of
 * Service traffic sent on to a peer and the hairpin back out of the port
 * are the pipeline's, once for every peer.  Without the port, or without
 * an underlay address, a peer gets no flows. */
static void
test_tunnel_flow_port(void)
{
    struct fixture f;
    fixture_init(&f);
    fixture_add(&f,
        "{'kind':'Node','metadata':{'name':'n3'},"
        " 'spec':{'podCIDRs':['10.244.3.0/24']},"
        " 'status':{'addresses':[{'type':'InternalIP',"
        "  'address':'fd00:198:18::13'}]}},"
        "{'kind':'Node','metadata':{'name':'n4'},"
        " 'spec':{'podCIDRs':['10.244.4.0/24']}}");
    shash_clear_free_data(&f.tunnel_ports);
    add_port(&f.tunnel_ports, "n2", 7, NULL);
    add_port(&f.tunnel_ports, "n3", 7, NULL);
    f.in.tunnel_port_mode = FLOWS_TUNNEL_PORTS_FLOW;
    f.in.tunnel_ofport = u16_to_ofp(7);
    fixture_external(&f);
    flows_compute_all(&f.in, &f.ft, f.ex_table);

    uint64_t n2 = kovs_cookie(KOVS_OWNER_NODE, NULL, "n2");
    uint64_t n3 = kovs_cookie(KOVS_OWNER_NODE, NULL, "n3");
    uint64_t n4 = kovs_cookie(KOVS_OWNER_NODE, NULL, "n4");
    char *s = format_flows(&f.ft, n2);
    CHECK_TEXT(s,
        "table=0 priority=200 tun_id=0x1,tun_src=198.18.0.12,in_port=7 "
        "actions=set_field:0x3/0xf->reg0,goto_table:30\n"
        "table=60 priority=200 ip,nw_dst=10.244.2.0/24 actions="
        "set_field:0a:58:0a:f4:01:01->eth_src,set_field:aa:bb:cc:dd:ee:ff->"
        "eth_dst,dec_ttl,set_field:0x1->tun_id,set_field:198.18.0.12->"
        "tun_dst,check_pkt_larger(1464)->NXM_NX_REG0[9],set_field:0x7->reg1,"
        "goto_table:62\n"
        "table=60 priority=200 ip,nw_dst=198.18.0.12 actions="
        "set_field:0a:58:0a:f4:01:01->eth_src,set_field:aa:bb:cc:dd:ee:ff->"
        "eth_dst,dec_ttl,set_field:0x1->tun_id,set_field:198.18.0.12->"
        "tun_dst,check_pkt_larger(1464)->NXM_NX_REG0[9],set_field:0x7->reg1,"
        "goto_table:62\n",
        "n2's flows (IPv4 underlay)");
    free(s);
    s = format_flows(&f.ft, n3);
    CHECK_TEXT(s,
        "table=0 priority=200 tun_id=0x1,tun_ipv6_src=fd00:198:18::13,"
        "in_port=7 actions=set_field:0x3/0xf->reg0,goto_table:30\n"
        "table=60 priority=200 ip,nw_dst=10.244.3.0/24 actions="
        "set_field:0a:58:0a:f4:01:01->eth_src,set_field:aa:bb:cc:dd:ee:ff->"
        "eth_dst,dec_ttl,set_field:0x1->tun_id,set_field:0.0.0.0->tun_dst,"
        "set_field:fd00:198:18::13->tun_ipv6_dst,"
        "check_pkt_larger(1464)->NXM_NX_REG0[9],set_field:0x7->reg1,"
        "goto_table:62\n",
        "n3's flows (IPv6 underlay)");
    free(s);
    s = format_table(&f.ft, KOVS_COOKIE_PIPELINE, KOVS_T_SNAT);
    CHECK_TEXT(s,
        "table=65 priority=0  actions=goto_table:70\n"
        "table=65 priority=200 ct_state=+new+trk,ct_mark=0x1/0x1,ip,"
        "reg0=0x3/0xf,reg1=0x7 actions=ct(commit,table=70,zone=2,"
        "nat(src=198.18.0.11:61000-65535))\n"
        "table=65 priority=200 ct_state=+new+trk,ct_mark=0x1/0x1,ip,"
        "reg0=0x4/0xf,reg1=0x7 actions=ct(commit,table=70,zone=2,"
        "nat(src=198.18.0.11:61000-65535))\n"
        "table=65 priority=200 ct_state=-new+trk,ip,reg0=0x3/0xf,reg1=0x7 "
        "actions=ct(table=70,zone=2,nat)\n"
        "table=65 priority=200 ct_state=-new+trk,ip,reg0=0x4/0xf,reg1=0x7 "
        "actions=ct(table=70,zone=2,nat)\n",
        "the pipeline's SNAT of Service traffic sent on to a peer");
    free(s);
    s = format_table(&f.ft, KOVS_COOKIE_PIPELINE, KOVS_T_OUTPUT);
    CHECK(strstr(s, "table=90 priority=200 reg1=0x7,in_port=7 "
                 "actions=IN_PORT\n"),
          "no hairpin back out of the shared port in\n%s", s);
    free(s);
    CHECK(flow_table_owner_count(&f.ft, n4) == 0, "n4, without an "
          "underlay address, has %"PRIuSIZE" flows",
          flow_table_owner_count(&f.ft, n4));

    /* Incremental: n2 gone, its flows go, the pipeline's stay. */
    size_t n_pipeline = flow_table_owner_count(&f.ft, KOVS_COOKIE_PIPELINE);
    fixture_put(&f, "{'kind':'Node','metadata':{'name':'n2'},"
                " 'spec':{'podCIDRs':['10.244.2.0/24']}}");
    free(shash_find_and_delete(&f.tunnel_ports, "n2"));
    compute_changes(&f);
    CHECK(flow_table_owner_count(&f.ft, n2) == 0
          && flow_table_owner_count(&f.ft, KOVS_COOKIE_PIPELINE)
             == n_pipeline, "n2 without an address keeps %"PRIuSIZE
          " flows", flow_table_owner_count(&f.ft, n2));
    check_incremental_is_full(&f, "n2 lost its address");

    /* Without the shared port, no peer has flows. */
    f.in.tunnel_ofport = 0;
    flows_compute_all(&f.in, &f.ft, f.ex_table);
    CHECK(flow_table_owner_count(&f.ft, n3) == 0, "n3 has flows without "
          "the shared port");
    s = format_table(&f.ft, KOVS_COOKIE_PIPELINE, KOVS_T_SNAT);
    CHECK_TEXT(s, "table=65 priority=0  actions=goto_table:70\n",
               "SNAT without the shared port");
    free(s);

    /* The shared port appears: its peers and the pipeline, recomputed
     * incrementally, give what a full computation gives. */
    f.in.tunnel_ofport = u16_to_ofp(7);
    struct flows_changes changes;
    flows_changes_init(&changes);
    changes.pipeline = true;
    k8s_key_set_add(&changes.nodes, K8S_NODE, "", "n3");
    size_t n = flows_compute_changes(&f.in, &changes, &f.ft, f.ex_table);
    flows_changes_destroy(&changes);
    CHECK(n == 2, "%"PRIuSIZE" owners recomputed, expected 2", n);
    CHECK(flow_table_owner_count(&f.ft, n3) == 2, "n3 has %"PRIuSIZE
          " flows with the shared port", flow_table_owner_count(&f.ft, n3));
    check_incremental_is_full(&f, "the shared port appeared");
    fixture_destroy(&f);
}

/* In every tunnel mode, a node added, changing its InternalIP, moving off
 * the subnet and removed gives, incrementally, the flows of a full
 * computation, and so do the ports of its tunnel coming and going. */
static void
test_tunnel_incremental(void)
{
    static const enum flows_tunnel_mode modes[] = {
        FLOWS_TUNNEL_VXLAN, FLOWS_TUNNEL_GENEVE, FLOWS_TUNNEL_NONE,
    };
    for (size_t i = 0; i < ARRAY_SIZE(modes); i++) {
        struct fixture f;
        fixture_init(&f);
        fixture_external(&f);
        f.in.tunnel_mode = modes[i];
        flows_compute_all(&f.in, &f.ft, f.ex_table);
        uint64_t n3 = kovs_cookie(KOVS_OWNER_NODE, NULL, "n3");

        fixture_put(&f, NODE("n3", "198.18.0.13", "10.244.3.0/24"));
        compute_changes(&f);
        check_incremental_is_full(&f, "n3 added");

        /* Its tunnel port appears, as vswitch reports it. */
        add_port(&f.tunnel_ports, "n3", 9, NULL);
        struct flows_changes changes;
        flows_changes_init(&changes);
        k8s_key_set_add(&changes.nodes, K8S_NODE, "", "n3");
        flows_compute_changes(&f.in, &changes, &f.ft, f.ex_table);
        flows_changes_destroy(&changes);
        check_incremental_is_full(&f, "n3's tunnel port added");
        CHECK(flow_table_owner_count(&f.ft, n3), "n3 has no flows (%s)",
              flows_tunnel_mode_name(modes[i]));

        fixture_put(&f, NODE("n3", "198.18.0.14", "10.244.3.0/24"));
        compute_changes(&f);
        check_incremental_is_full(&f, "n3's InternalIP changed");

        fixture_put(&f, NODE("n3", "203.0.113.5", "10.244.3.0/24"));
        compute_changes(&f);
        check_incremental_is_full(&f, "n3 off the subnet");

        CHECK(k8s_cluster_delete(&f.cluster, K8S_NODE, "", "n3"),
              "n3 not deleted");
        compute_changes(&f);
        check_incremental_is_full(&f, "n3 removed");
        CHECK(!flow_table_owner_count(&f.ft, n3), "n3 has flows left (%s)",
              flows_tunnel_mode_name(modes[i]));
        fixture_destroy(&f);
    }
}

static const struct unit_test tests[] = {
    { "flow-table-memory", test_flow_table_memory },
    { "small-cluster", test_small_cluster },
    { "pod-without-port", test_pod_without_port },
    { "pod-ipv6", test_pod_ipv6 },
    { "ipv6-only-node", test_ipv6_only_node },
    { "incremental-pod-change", test_incremental_pod_change },
    { "incremental-port-change", test_incremental_port_change },
    { "recompute-identical", test_recompute_identical },
    { "shared-keys", test_shared_keys },
    { "shared-key-many-owners", test_shared_key_many_owners },
    { "cookies", test_cookies },
    { "service-endpoint-conditions", test_service_endpoint_conditions },
    { "service-endpoint-ready-first", test_service_endpoint_ready_first },
    { "service-endpoint-slices-merged",
      test_service_endpoint_slices_merged },
    { "service-endpoint-ports", test_service_endpoint_ports },
    { "service-endpoint-local", test_service_endpoint_local },
    { "service-not-proxied", test_service_not_proxied },
    { "service-lb-flows", test_service_lb_flows },
    { "service-group-selection", test_service_group_selection },
    { "service-shared-endpoint", test_service_shared_endpoint },
    { "service-endpoint-removed", test_service_endpoint_removed },
    { "service-udp-endpoint-flush", test_service_udp_endpoint_flush },
    { "service-no-endpoints", test_service_no_endpoints },
    { "service-local-policy", test_service_local_policy },
    { "service-affinity", test_service_affinity },
    { "service-recompute-identical", test_service_recompute_identical },
    { "external-absent", test_external_absent },
    { "external-bridge-flows", test_external_bridge_flows },
    { "external-int-flows", test_external_int_flows },
    { "external-snat", test_external_snat },
    { "external-neighbors", test_external_neighbors },
    { "external-node-snat", test_external_node_snat },
    { "service-nodeport-cluster", test_service_nodeport_cluster },
    { "service-nodeport-local", test_service_nodeport_local },
    { "service-lb-source-ranges", test_service_lb_source_ranges },
    { "service-external-ip-reject", test_service_external_ip_reject },
    { "external-owner-removed", test_external_owner_removed },
    { "tunnel-routed-flows", test_tunnel_routed_flows },
    { "tunnel-routed-off-subnet", test_tunnel_routed_off_subnet },
    { "tunnel-routed-ipv6-flows", test_tunnel_routed_ipv6_flows },
    { "tunnel-geneve-flows", test_tunnel_geneve_flows },
    { "tunnel-incremental", test_tunnel_incremental },
    { "tunnel-flow-port", test_tunnel_flow_port },
    { "service-dual-stack", test_service_dual_stack },
    { "service-count-local-ready", test_service_count_local_ready },
    { "service-affinity-ipv6", test_service_affinity_ipv6 },
    { "service-ipv6-frontends-warned", test_service_ipv6_frontends_warned },
    { "service-ipv6-frontends", test_service_ipv6_frontends },
    { "external-ipv6-flows", test_external_ipv6_flows },
    { "external-ipv6-only", test_external_ipv6_only },
    { "tunnel-routed-ipv6-only", test_tunnel_routed_ipv6_only },
};

int
main(int argc, char *argv[])
{
    return unit_test_main(argc, argv, tests, ARRAY_SIZE(tests));
}
