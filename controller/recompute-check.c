/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#include <config.h>

#include "controller/recompute-check.h"

#include "controller/engine.h"
#include "controller/ofctrl.h"
#include "controller/vswitch.h"
#include "flows/flow-table.h"
#include "flows/flows.h"
#include "flows/pipeline.h"
#include "k8s/k8s-client.h"
#include "k8s/k8s-model.h"
#include "k8s/k8s-state.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofpbuf.h"
#include "svec.h"
#include "unixctl.h"
#include "util.h"

static struct recompute_check_config cfg;

/* The check being run: at most one at a time. */
struct check_request {
    struct unixctl_conn *conn;
    char *file;                     /* FILE, or NULL. */
    int n_pending;                  /* Switch dumps not yet compared. */
    uint64_t sent_int, sent_ex;     /* ofctrl's sent seqnos at the start. */
    struct svec lines;              /* The differences found so far. */
    char *error;                    /* Why the check failed, or NULL. */
    char *in_memory;                /* Why the full computation started
                                     * from the in-memory model, or NULL
                                     * if from raw objects. */
};

static struct check_request *request;

/* Returns why the controller is not idle, or NULL if it is. */
static const char *
busy_reason(bool reads_state_file)
{
    if (cfg.state ? !k8s_state_file_n_reads(cfg.state)
        : !k8s_client_is_synced(cfg.client)) {
        return "the Kubernetes state is not complete yet";
    } else if (!vswitch_is_ready(cfg.vswitch)) {
        return "the switch's configuration is not read yet";
    } else if (reads_state_file && !k8s_state_file_is_current(cfg.state)) {
        return "the state file changed since it was read";
    } else if (k8s_cluster_has_changes(cfg.input->cluster)
               || engine_has_changes(cfg.engine)) {
        return "changes are waiting to be computed";
    } else if (flow_table_has_tracked(cfg.flows)
               || (cfg.ex_flows && flow_table_has_tracked(cfg.ex_flows))) {
        return "computed flows are waiting to be sent";
    } else if (!ofctrl_is_idle(cfg.br_int)
               || (cfg.br_ex && !ofctrl_is_idle(cfg.br_ex))) {
        return "an update of the switch is in flight";
    }
    return NULL;
}

/* Returns the owner that 'cookie' names, as "pod default/web", looking for
 * its object in 'clusters' (NULLs allowed), in memory the caller frees. */
static char *
owner_name(uint64_t cookie, const struct k8s_cluster *clusters[], size_t n)
{
    enum kovs_owner_kind kind = kovs_cookie_kind(cookie);
    const char *kind_name = kovs_owner_kind_name(kind);

    for (size_t i = 0; i < n; i++) {
        const struct k8s_object *obj
            = clusters[i] ? kovs_cookie_find_owner(clusters[i], cookie) : NULL;
        if (obj) {
            return (obj->namespace[0]
                    ? xasprintf("%s %s/%s", kind_name, obj->namespace,
                                obj->name)
                    : xasprintf("%s %s", kind_name, obj->name));
        }
    }
    enum k8s_kind k8s_kind;
    if (!kind_name) {
        return xasprintf("unknown owner %#"PRIx64, cookie);
    } else if (kovs_owner_kind_to_k8s(kind, &k8s_kind)) {
        return xasprintf("%s %#"PRIx64" (no such object)", kind_name,
                         cookie);
    } else if (kovs_cookie(kind, NULL, "") == cookie) {
        return xstrdup(kind_name);      /* The pipeline, for example. */
    }
    return xasprintf("%s %#"PRIx64, kind_name, cookie);
}

/* Adds to 'lines' that 'key' of 'bridge', owned by 'cookie', is 'a' on side
 * 'side_a' and 'b' on side 'side_b' (NULL: that side lacks it). */
static void
add_difference(struct svec *lines, const char *bridge, const char *key,
               uint64_t cookie, const struct k8s_cluster *clusters[],
               size_t n_clusters, const char *side_a, const char *a,
               const char *side_b, const char *b)
{
    char *owner = owner_name(cookie, clusters, n_clusters);
    struct ds s = DS_EMPTY_INITIALIZER;

    ds_put_format(&s, "%s %s (%s): ", bridge, key, owner);
    if (a) {
        ds_put_format(&s, "%s has %s, ", side_a, a);
    } else {
        ds_put_format(&s, "%s lacks it, ", side_a);
    }
    if (b) {
        ds_put_format(&s, "%s has %s", side_b, b);
    } else {
        ds_put_format(&s, "%s lacks it", side_b);
    }
    svec_add_nocopy(lines, ds_steal_cstr(&s));
    free(owner);
}

static char *
flow_key_text(const struct desired_flow *d)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    struct match match;

    minimatch_expand(&d->match, &match);
    ds_put_format(&s, "table=%"PRIu8" priority=%"PRIu16" ", d->table_id,
                  d->priority);
    match_format(&match, NULL, &s, OFP_DEFAULT_PRIORITY);
    return ds_steal_cstr(&s);
}

static char *
flow_actions_text(uint64_t cookie, const struct ofpbuf *ofpacts)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    struct ofpact_format_params fp = { .s = &s };

    ds_put_format(&s, "cookie=%#"PRIx64" actions=", cookie);
    ofpacts_format(ofpacts->data, ofpacts->size, &fp);
    return ds_steal_cstr(&s);
}

static char *
group_text(const struct desired_group *g)
{
    struct ds s = DS_EMPTY_INITIALIZER;

    ds_put_format(&s, "cookie=%#"PRIx64" ", g->cookie);
    flow_group_format(g, &s);
    return ds_steal_cstr(&s);
}

/* Adds to 'lines' every flow and group in which 'a' (called 'side_a') and
 * 'b' differ. */
static void
compare_tables(const char *bridge,
               const char *side_a, const struct flow_table *a,
               const char *side_b, const struct flow_table *b,
               const struct k8s_cluster *clusters[], size_t n_clusters,
               struct svec *lines)
{
    struct ofpbuf acts_a, acts_b;
    ofpbuf_init(&acts_a, 0);
    ofpbuf_init(&acts_b, 0);

    const struct flow_table *tables[2] = { a, b };
    for (int t = 0; t < 2; t++) {
        const struct flow_table *ft = tables[t];
        const struct flow_table *other = tables[!t];
        const struct desired_flow *d;
        FLOW_TABLE_FOR_EACH (d, ft) {
            uint32_t hash = d->key_hash;
            uint64_t cookie_a, cookie_b;
            if (flow_table_lookup(ft, d->table_id, d->priority, &d->match,
                                  hash) != d) {
                continue;       /* Another owner's entry for the key. */
            }
            bool in_a = flow_table_get_actions(a, d->table_id, d->priority,
                                               &d->match, hash, &acts_a,
                                               &cookie_a);
            bool in_b = flow_table_get_actions(b, d->table_id, d->priority,
                                               &d->match, hash, &acts_b,
                                               &cookie_b);
            if (in_a && in_b && t) {
                continue;       /* Compared in the first pass. */
            }
            if (in_a && in_b && cookie_a == cookie_b
                && ofpacts_equal(acts_a.data, acts_a.size,
                                 acts_b.data, acts_b.size)) {
                continue;
            }
            char *key = flow_key_text(d);
            char *text_a = (in_a ? flow_actions_text(cookie_a, &acts_a)
                            : NULL);
            char *text_b = (in_b ? flow_actions_text(cookie_b, &acts_b)
                            : NULL);
            add_difference(lines, bridge, key, in_a ? cookie_a : cookie_b,
                           clusters, n_clusters, side_a, text_a, side_b,
                           text_b);
            free(key);
            free(text_a);
            free(text_b);
        }

        const struct desired_group *g;
        FLOW_TABLE_FOR_EACH_GROUP (g, ft) {
            const struct desired_group *og = flow_table_find_group(
                other, g->group_id);
            if (og && t) {
                continue;
            }
            char *text = group_text(g);
            char *other_text = og ? group_text(og) : NULL;
            if (!other_text || strcmp(text, other_text)) {
                char *key = xasprintf("group_id=%"PRIu32, g->group_id);
                add_difference(lines, bridge, key, g->cookie, clusters,
                               n_clusters, side_a, t ? other_text : text,
                               side_b, t ? text : other_text);
                free(key);
            }
            free(text);
            free(other_text);
        }
    }
    ofpbuf_uninit(&acts_a);
    ofpbuf_uninit(&acts_b);
}

/* Builds the full computation and compares it with the incremental
 * tables, adding the differences to 'req->lines'.  Returns false, with
 * 'req->error' set, if the raw objects cannot be read. */
static bool
compare_with_full_computation(struct check_request *req)
{
    const char *file = req->file ? req->file : cfg.state_file;
    struct k8s_cluster fresh;
    const struct k8s_cluster *cluster = cfg.input->cluster;

    if (!req->file && cfg.state && k8s_state_file_error(cfg.state)) {
        /* The model holds the last good state, which the file no longer
         * has. */
        req->in_memory = xasprintf("the state file cannot be used (%s), "
                                   "the model keeps the last good state",
                                   k8s_state_file_error(cfg.state));
        file = NULL;
    } else if (!file) {
        req->in_memory = xstrdup("without FILE, the objects of an API "
                                 "server are not read again");
    }

    k8s_cluster_init(&fresh);
    if (file) {
        char *error;
        if (k8s_state_file_load(file, &fresh, NULL, NULL, &error)) {
            req->error = error;
            k8s_cluster_destroy(&fresh);
            return false;
        }
        cluster = &fresh;
    }

    struct flows_input in = *cfg.input;
    in.cluster = cluster;
    in.progress = NULL;             /* Nothing of this goes to a switch. */
    struct flow_table full, full_ex;
    flow_table_init(&full);
    flow_table_init(&full_ex);
    flows_compute_all(&in, &full, cfg.ex_flows ? &full_ex : NULL);

    const struct k8s_cluster *clusters[] = { cluster, cfg.input->cluster };
    compare_tables(ofctrl_get_name(cfg.br_int), "incremental", cfg.flows,
                   "full recomputation", &full, clusters,
                   ARRAY_SIZE(clusters), &req->lines);
    if (cfg.ex_flows) {
        compare_tables(ofctrl_get_name(cfg.br_ex), "incremental",
                       cfg.ex_flows, "full recomputation", &full_ex,
                       clusters, ARRAY_SIZE(clusters), &req->lines);
    }

    flow_table_destroy(&full);
    flow_table_destroy(&full_ex);
    k8s_cluster_destroy(&fresh);
    return true;
}

static void
request_finish(struct check_request *req)
{
    if (!req->error) {
        const char *busy = busy_reason(cfg.state && !req->file);
        if (busy
            || ofctrl_get_sent_seqno(cfg.br_int) != req->sent_int
            || (cfg.br_ex
                && ofctrl_get_sent_seqno(cfg.br_ex) != req->sent_ex)) {
            req->error = xasprintf("busy: %s", (busy ? busy
                                   : "the switch was updated during the "
                                   "check"));
        }
    }
    if (!req->error) {
        compare_with_full_computation(req);
    }

    if (req->error) {
        unixctl_command_reply_error(req->conn, req->error);
    } else if (req->lines.n) {
        struct ds s = DS_EMPTY_INITIALIZER;
        svec_sort(&req->lines);
        for (size_t i = 0; i < req->lines.n; i++) {
            ds_put_format(&s, "%s\n", req->lines.names[i]);
        }
        unixctl_command_reply_error(req->conn, ds_cstr(&s));
        ds_destroy(&s);
    } else if (req->in_memory) {
        char *reply = xasprintf("no differences (recomputed from the "
                                "in-memory model: %s)\n", req->in_memory);
        unixctl_command_reply(req->conn, reply);
        free(reply);
    } else {
        unixctl_command_reply(req->conn, "no differences\n");
    }

    svec_destroy(&req->lines);
    free(req->file);
    free(req->error);
    free(req->in_memory);
    free(req);
    request = NULL;
}

/* Called with the differences between a bridge's desired table and a fresh
 * dump of the switch. */
static void
switch_checked(const struct ofctrl_check_diff *diffs, size_t n,
               const char *error, void *bridge_)
{
    struct check_request *req = request;
    const char *bridge = bridge_;

    if (error && !req->error) {
        req->error = xasprintf("%s: %s", bridge, error);
    }
    const struct k8s_cluster *clusters[] = { cfg.input->cluster };
    for (size_t i = 0; i < n; i++) {
        add_difference(&req->lines, bridge, diffs[i].key, diffs[i].cookie,
                       clusters, ARRAY_SIZE(clusters), "desired",
                       diffs[i].desired, "switch", diffs[i].installed);
    }
    if (!--req->n_pending) {
        request_finish(req);
    }
}

static void
recompute_check_unixctl(struct unixctl_conn *conn, int argc,
                        const char *argv[], void *aux OVS_UNUSED)
{
    const char *file = argc > 1 ? argv[1] : NULL;

    if (request) {
        unixctl_command_reply_error(conn, "busy: another check is running");
        return;
    }
    const char *busy = busy_reason(cfg.state && !file);
    if (busy) {
        char *error = xasprintf("busy: %s", busy);
        unixctl_command_reply_error(conn, error);
        free(error);
        return;
    }

    struct check_request *req = xzalloc(sizeof *req);
    req->conn = conn;
    req->file = file ? xstrdup(file) : NULL;
    svec_init(&req->lines);
    req->sent_int = ofctrl_get_sent_seqno(cfg.br_int);
    req->sent_ex = cfg.br_ex ? ofctrl_get_sent_seqno(cfg.br_ex) : 0;
    request = req;

    /* Both ofctrls are idle, so connected and with no check pending. */
    req->n_pending = 1;
    ovs_assert(ofctrl_request_check(cfg.br_int, cfg.flows, switch_checked,
                                    CONST_CAST(char *,
                                               ofctrl_get_name(cfg.br_int))));
    if (cfg.br_ex) {
        req->n_pending++;
        ovs_assert(ofctrl_request_check(
                       cfg.br_ex, cfg.ex_flows, switch_checked,
                       CONST_CAST(char *, ofctrl_get_name(cfg.br_ex))));
    }
}

void
recompute_check_register(const struct recompute_check_config *cfg_)
{
    cfg = *cfg_;
    unixctl_command_register("check-recompute", "[FILE]", 0, 1,
                             recompute_check_unixctl, NULL);
}
