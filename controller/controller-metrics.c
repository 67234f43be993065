/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#include <config.h>

#include "controller/controller-metrics.h"

#include <stdlib.h>
#include <string.h>
#include "controller/controller.h"
#include "controller/external-bridge.h"
#include "controller/healthcheck.h"
#include "controller/http-server.h"
#include "controller/metrics.h"
#include "controller/neighbor.h"
#include "controller/ofctrl.h"
#include "controller/pinctrl.h"
#include "controller/policy-stats.h"
#include "flows/flow-table.h"
#include "flows/pipeline.h"
#include "k8s/k8s-client.h"
#include "k8s/k8s-model.h"
#include "k8s/k8s-state.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(controller_metrics);

/* The buckets of kube-proxy's histograms of the same names: the sync
 * duration from 1 ms doubling to about 16 s, the network programming
 * latency from 0.25 s to 5 minutes, finer where most values fall. */
static const double sync_duration_buckets[] = {
    0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512,
    1.024, 2.048, 4.096, 8.192, 16.384,
};
static double programming_latency_buckets[2 + 59 + 12 + 7];

struct controller_metrics {
    struct controller *c;
    struct http_server *server;

    /* Scrapes of /metrics waiting for the NetworkPolicy counters. */
    struct http_request **waiting;
    size_t n_waiting, allocated_waiting;

    /* The NetworkPolicy counters: a request to the switch is pending, or
     * 'policy' holds the last answer ('policy_valid' false if there was
     * none, because the switch could not be asked or the connection was
     * lost). */
    bool policy_pending;
    bool policy_valid;
    struct policy_stats policy;
};

static void controller_metrics_handle(struct http_request *, void *cm_);

void
controller_metrics_init(struct controller *c)
{
    if (!programming_latency_buckets[0]) {
        size_t n = 0;
        for (int i = 1; i <= 2; i++) {
            programming_latency_buckets[n++] = 0.25 * i;
        }
        for (int i = 1; i <= 59; i++) {
            programming_latency_buckets[n++] = i;
        }
        for (int i = 0; i < 12; i++) {
            programming_latency_buckets[n++] = 60 + 5 * i;
        }
        for (int i = 0; i < 7; i++) {
            programming_latency_buckets[n++] = 120 + 30 * i;
        }
        ovs_assert(n == ARRAY_SIZE(programming_latency_buckets));
    }
    metrics_histogram_init(&c->sync_duration, sync_duration_buckets,
                           ARRAY_SIZE(sync_duration_buckets));
    metrics_histogram_init(&c->programming_latency,
                           programming_latency_buckets,
                           ARRAY_SIZE(programming_latency_buckets));
    c->start_wall_msec = time_wall_msec();
    c->last_sync_wall_msec = 0;
    c->triggers = NULL;
    c->n_triggers = c->allocated_triggers = 0;
}

void
controller_metrics_uninit(struct controller *c)
{
    metrics_histogram_destroy(&c->sync_duration);
    metrics_histogram_destroy(&c->programming_latency);
    free(c->triggers);
    c->triggers = NULL;
    c->n_triggers = c->allocated_triggers = 0;
}

void
controller_metrics_note_changes(struct controller *c)
{
    const struct k8s_change *change;

    K8S_CHANGE_FOR_EACH (change, &c->cluster) {
        if (change->kind != K8S_ENDPOINT_SLICE || !change->new) {
            continue;
        }
        const struct k8s_endpoint_slice *slice
            = CONTAINER_OF(change->new, struct k8s_endpoint_slice, obj);
        long long int t = slice->trigger_time_msec;
        if (t < 0) {
            static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 10);
            VLOG_WARN_RL(&rl, "EndpointSlice %s/%s: metadata.annotations"
                         "[endpoints.kubernetes.io/last-change-trigger-time]"
                         " is not an RFC 3339 time: no network programming "
                         "latency for this change", change->namespace,
                         change->name);
            continue;
        }
        /* A change from before this controller started (all of them, in
         * the first list) says nothing of how fast it programs. */
        if (!t || t < c->start_wall_msec) {
            continue;
        }
        if (c->n_triggers >= c->allocated_triggers) {
            c->triggers = x2nrealloc(c->triggers, &c->allocated_triggers,
                                     sizeof *c->triggers);
        }
        c->triggers[c->n_triggers++] = (struct controller_trigger) {
            .trigger_msec = t,
        };
    }
}

void
controller_metrics_note_sync(struct controller *c, long long int usec)
{
    metrics_histogram_observe(&c->sync_duration, usec / 1e6);
    c->last_sync_wall_msec = time_wall_msec();
}

void
controller_metrics_note_put(struct controller *c, uint64_t seqno)
{
    for (size_t i = 0; i < c->n_triggers; i++) {
        if (!c->triggers[i].sent) {
            c->triggers[i].sent = true;
            c->triggers[i].seqno = seqno;
        }
    }
}

void
controller_metrics_note_acked(struct controller *c)
{
    if (!c->n_triggers) {
        return;
    }

    struct ofctrl_stats s;
    ofctrl_get_stats(c->br_int, &s);
    uint64_t acked = ofctrl_get_acked_seqno(c->br_int);
    long long int now = time_wall_msec();
    size_t n = 0;
    for (size_t i = 0; i < c->n_triggers; i++) {
        struct controller_trigger *t = &c->triggers[i];
        if (t->sent && !s.connected) {
            /* The bundle was lost with the connection: the
             * resynchronization will install the flows, but that is not
             * this measurement. */
        } else if (t->sent && acked >= t->seqno) {
            metrics_histogram_observe(&c->programming_latency,
                                      MAX(0, now - t->trigger_msec) / 1e3);
        } else {
            c->triggers[n++] = *t;
        }
    }
    c->n_triggers = n;
}

struct controller_metrics *
controller_metrics_create(struct controller *c, const char *address)
{
    struct controller_metrics *cm = xzalloc(sizeof *cm);
    cm->c = c;
    cm->server = http_server_create("metrics", address, NULL,
                                    controller_metrics_handle, cm);
    return cm;
}

void
controller_metrics_destroy(struct controller_metrics *cm)
{
    if (cm) {
        /* A pending request for the policy counters was finished, with an
         * error, when br-int's ofctrl was destroyed before this. */
        ovs_assert(!cm->policy_pending);
        free(cm->waiting);
        http_server_destroy(cm->server);
        policy_stats_destroy(&cm->policy);
        free(cm);
    }
}

/* Collection. */

/* Adds 'value' as a sample of counter or gauge 'name' with one label, or
 * none if 'label' is NULL. */
static void
add1(struct metrics *m, const char *name, enum metrics_type type,
     const char *help, double value, const char *label, const char *v)
{
    struct metrics_family *f = metrics_family(m, name, type, help);
    if (label) {
        metrics_add(f, value, label, v, NULL);
    } else {
        metrics_add(f, value, NULL);
    }
}

static void
collect_sync(const struct controller *c, struct metrics *m)
{
    metrics_add_histogram(
        metrics_family(m, "kubeproxy_sync_proxy_rules_duration_seconds",
                       METRICS_HISTOGRAM,
                       "The time each computation of flows took, with "
                       "sending its update to br-int, in seconds."),
        &c->sync_duration, NULL);
    if (c->last_sync_wall_msec) {
        add1(m, "kubeproxy_sync_proxy_rules_last_timestamp_seconds",
             METRICS_GAUGE, "When the last computation of flows ended, "
             "in seconds since the epoch.",
             c->last_sync_wall_msec / 1e3, NULL, NULL);
    }
    metrics_add_histogram(
        metrics_family(m, "kubeproxy_network_programming_duration_seconds",
                       METRICS_HISTOGRAM,
                       "From an EndpointSlice's last-change-trigger-time "
                       "to the barrier reply of the bundle that installed "
                       "its flows, in seconds."),
        &c->programming_latency, NULL);
}

static void
collect_objects(const struct controller *c, struct metrics *m)
{
    for (int kind = 0; kind < K8S_N_KINDS; kind++) {
        add1(m, "kovs_objects", METRICS_GAUGE,
             "Kubernetes objects in the controller's model, by kind.",
             k8s_cluster_count(&c->cluster, kind), "kind",
             k8s_kind_name(kind));
    }
    if (c->state) {
        add1(m, "kovs_state_file_reads_total", METRICS_COUNTER,
             "Times the state file was read with new contents.",
             k8s_state_file_n_reads(c->state), NULL, NULL);
    }
    if (c->client) {
        for (int kind = 0; kind < K8S_N_KINDS; kind++) {
            const char *name = k8s_kind_name(kind);
            struct k8s_client_kind_stats s;

            k8s_client_get_kind_stats(c->client, kind, &s);
            add1(m, "kovs_api_lists_total", METRICS_COUNTER,
                 "Complete lists of a kind from the API server.",
                 s.n_lists, "kind", name);
            add1(m, "kovs_api_relists_total", METRICS_COUNTER,
                 "Lists of a kind started again after the first (expired "
                 "watch history or continue token).", s.n_relists, "kind",
                 name);
            add1(m, "kovs_api_watch_restarts_total", METRICS_COUNTER,
                 "Watches of a kind that ended and were started again.",
                 s.n_watch_restarts, "kind", name);
            add1(m, "kovs_api_events_total", METRICS_COUNTER,
                 "Watch events of a kind applied to the model.",
                 s.n_events, "kind", name);
            add1(m, "kovs_api_errors_total", METRICS_COUNTER,
                 "Failed requests to the API server and events skipped, "
                 "by kind.", s.n_errors, "kind", name);
        }
    }
}

/* The statistics of one bridge: 'of' and its desired flows 'ft', whose
 * tables 'table_name' names. */
static void
collect_bridge(const char *bridge, const struct ofctrl *of,
               const struct flow_table *ft,
               const char *(*table_name)(uint8_t), struct metrics *m)
{
    size_t *desired = xcalloc(256, sizeof *desired);
    size_t *installed = xcalloc(256, sizeof *installed);
    const struct desired_flow *d;
    FLOW_TABLE_FOR_EACH (d, ft) {
        if (!d->removed) {
            desired[d->table_id]++;
        }
    }
    ofctrl_count_installed_flows(of, installed);

    struct metrics_family *fd = metrics_family(
        m, "kovs_desired_flows", METRICS_GAUGE,
        "Flows the controller wants in a table of a bridge.");
    struct metrics_family *fi = metrics_family(
        m, "kovs_installed_flows", METRICS_GAUGE,
        "Flows the controller believes installed in a table of a bridge.");
    for (int t = 0; t < 256; t++) {
        const char *name = table_name(t);
        if (name || desired[t] || installed[t]) {
            char table[16];
            snprintf(table, sizeof table, "%d", t);
            metrics_add(fd, desired[t], "bridge", bridge, "table", table,
                        "table_name", name ? name : "", NULL);
            metrics_add(fi, installed[t], "bridge", bridge, "table", table,
                        "table_name", name ? name : "", NULL);
        }
    }
    free(desired);
    free(installed);

    struct ofctrl_stats s;
    ofctrl_get_stats(of, &s);
    add1(m, "kovs_openflow_connected", METRICS_GAUGE,
         "1 if the controller is connected to the bridge over OpenFlow.",
         s.connected, "bridge", bridge);
    add1(m, "kovs_desired_groups", METRICS_GAUGE,
         "Groups the controller wants on a bridge.",
         flow_table_group_count(ft), "bridge", bridge);
    add1(m, "kovs_installed_groups", METRICS_GAUGE,
         "Groups the controller believes installed on a bridge.",
         s.n_installed_groups, "bridge", bridge);
    add1(m, "kovs_flow_mods_total", METRICS_COUNTER,
         "Flow-mods sent to a bridge.", s.total_flow_mods, "bridge",
         bridge);
    add1(m, "kovs_group_mods_total", METRICS_COUNTER,
         "Group-mods sent to a bridge.", s.total_group_mods, "bridge",
         bridge);
    add1(m, "kovs_bundles_total", METRICS_COUNTER,
         "Atomic bundles of changes sent to a bridge.", s.n_bundles,
         "bridge", bridge);
    add1(m, "kovs_bundle_errors_total", METRICS_COUNTER,
         "Bundles a bridge rejected (each followed by a full "
         "resynchronization).", s.n_bundle_errors, "bridge", bridge);
    add1(m, "kovs_full_syncs_total", METRICS_COUNTER,
         "Full comparisons of a bridge's flows with the desired ones, "
         "after a connection or an error.", s.n_full_syncs, "bridge",
         bridge);
}

static void
collect_node(const struct controller *c, struct metrics *m)
{
    static const char help_pin[] =
        "Packet-ins handled (those the meters let through), by what was "
        "done with them.";
    struct pinctrl_stats ps;
    pinctrl_get_stats(&ps);
    add1(m, "kovs_packet_ins_total", METRICS_COUNTER, help_pin,
         ps.n_tcp_resets, "reason", "reject_tcp_reset");
    add1(m, "kovs_packet_ins_total", METRICS_COUNTER, help_pin,
         ps.n_icmp_unreachables, "reason", "reject_icmp_unreachable");
    add1(m, "kovs_packet_ins_total", METRICS_COUNTER, help_pin,
         ps.n_resolves, "reason", "next_hop_resolve");
    add1(m, "kovs_packet_ins_total", METRICS_COUNTER, help_pin,
         ps.n_arp_learned, "reason", "arp_learned");
    add1(m, "kovs_packet_ins_total", METRICS_COUNTER, help_pin,
         ps.n_too_big, "reason", "too_big");
    add1(m, "kovs_packet_ins_total", METRICS_COUNTER, help_pin,
         ps.n_ignored, "reason", "ignored");

    if (c->br_ex) {
        const struct healthcheck *hc = &c->br_ex->healthcheck;
        static const char help_hc[] =
            "Requests to the health check node ports, by answer code.";

        add1(m, "kovs_neighbor_entries", METRICS_GAUGE,
             "Next hops in the external network's neighbor table, "
             "resolved or not.",
             hmap_count(&c->br_ex->neighbor_table.entries), NULL, NULL);
        add1(m, "kovs_health_check_requests_total", METRICS_COUNTER,
             help_hc, hc->n_ok, "code", "200");
        add1(m, "kovs_health_check_requests_total", METRICS_COUNTER,
             help_hc, hc->n_unavailable, "code", "503");
        add1(m, "kovs_health_check_requests_total", METRICS_COUNTER,
             help_hc, hc->n_bad_requests, "code", "400");
    }
}

static void
collect_policy(const struct controller_metrics *cm, struct metrics *m)
{
    struct metrics_family *allowed = metrics_family(
        m, "kovs_network_policy_rule_connections_allowed_total",
        METRICS_COUNTER, "New connections a NetworkPolicy rule allowed.");
    struct metrics_family *dropped = metrics_family(
        m, "kovs_network_policy_packets_dropped_total", METRICS_COUNTER,
        "Packets dropped because a NetworkPolicy isolates a pod and no "
        "rule allows them.");

    if (!cm->policy_valid) {
        return;
    }
    for (size_t i = 0; i < cm->policy.n; i++) {
        const struct policy_stat *st = &cm->policy.stats[i];
        if (!st->name[0]) {
            continue;
        }
        if (st->type == POLICY_STAT_RULE) {
            char rule[16];
            snprintf(rule, sizeof rule, "%d", st->rule);
            metrics_add(allowed, st->n_packets, "namespace", st->namespace,
                        "policy", st->name, "direction", st->direction,
                        "rule", rule, NULL);
        } else {
            metrics_add(dropped, st->n_packets, "namespace", st->namespace,
                        "pod", st->name, "direction", st->direction, NULL);
        }
    }
}

/* Answers every scrape waiting for the policy counters. */
static void
controller_metrics_answer(struct controller_metrics *cm)
{
    const struct controller *c = cm->c;
    struct metrics m;
    struct ds ds = DS_EMPTY_INITIALIZER;

    metrics_init(&m);
    collect_sync(c, &m);
    collect_objects(c, &m);
    collect_bridge(ofctrl_get_name(c->br_int), c->br_int, &c->flows,
                   kovs_table_name, &m);
    if (c->br_ex) {
        collect_bridge(c->br_ex->name, c->br_ex->ofctrl, &c->br_ex->flows,
                       kovs_ex_table_name, &m);
    }
    collect_node(c, &m);
    collect_policy(cm, &m);
    metrics_format(&m, &ds);
    metrics_destroy(&m);

    for (size_t i = 0; i < cm->n_waiting; i++) {
        http_request_reply(cm->waiting[i], 200, METRICS_CONTENT_TYPE,
                           ds_cstr(&ds));
    }
    cm->n_waiting = 0;
    ds_destroy(&ds);
}

static void
controller_metrics_policy_cb(const struct ofctrl_flow_stat *stats, size_t n,
                             const char *error, void *cm_)
{
    struct controller_metrics *cm = cm_;

    /* This may run while br-int's ofctrl is being destroyed: with an
     * error, and then it must not look at anything else. */
    policy_stats_destroy(&cm->policy);
    cm->policy_valid = !error;
    if (!error) {
        policy_stats_from_flows(stats, n, &cm->c->flows,
                                cm->c->input.pod_ports, &cm->policy);
    }
    cm->policy_pending = false;
    poll_immediate_wake();
}

/* Returns NULL if the controller is healthy, otherwise why not. */
static const char *
controller_metrics_unhealthy(const struct controller *c)
{
    struct ofctrl_stats s;
    ofctrl_get_stats(c->br_int, &s);
    if (!s.connected) {
        return "not connected to the switch";
    }
    if (!controller_k8s_ready(c)) {
        return (c->state ? "the state file has not been read yet"
                : "the API server has not been listed yet");
    }
    return NULL;
}

static void
controller_metrics_handle(struct http_request *req, void *cm_)
{
    struct controller_metrics *cm = cm_;
    const char *path = http_request_path(req);

    if (!strcmp(path, "/healthz")) {
        const char *problem = controller_metrics_unhealthy(cm->c);
        char *body = xasprintf("%s\n", problem ? problem : "ok");
        http_request_reply(req, problem ? 500 : 200,
                           "text/plain; charset=utf-8", body);
        free(body);
    } else if (!strcmp(path, "/metrics")) {
        if (cm->n_waiting >= cm->allocated_waiting) {
            cm->waiting = x2nrealloc(cm->waiting, &cm->allocated_waiting,
                                     sizeof *cm->waiting);
        }
        cm->waiting[cm->n_waiting++] = req;
        if (!cm->policy_pending) {
            cm->policy_pending = policy_stats_request(
                cm->c->br_int, controller_metrics_policy_cb, cm);
            if (!cm->policy_pending) {
                policy_stats_destroy(&cm->policy);
                cm->policy_valid = false;
            }
        }
    } else {
        http_request_reply(req, 404, "text/plain; charset=utf-8",
                           "not found: the paths are /metrics and "
                           "/healthz\n");
    }
}

void
controller_metrics_run(struct controller_metrics *cm)
{
    http_server_run(cm->server);
    if (cm->n_waiting && !cm->policy_pending) {
        controller_metrics_answer(cm);
    }
}

void
controller_metrics_wait(const struct controller_metrics *cm)
{
    http_server_wait(cm->server);
    if (cm->n_waiting && !cm->policy_pending) {
        poll_immediate_wake();
    }
}
