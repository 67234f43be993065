/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#include <config.h>

#include "controller/policy-stats.h"

#include <stdlib.h>
#include <string.h>
#include "flow.h"
#include "flows/flow-table.h"
#include "flows/flows.h"
#include "flows/pipeline.h"
#include "openvswitch/shash.h"
#include "util.h"

bool
policy_stats_request(struct ofctrl *br_int, ofctrl_flow_stats_cb *cb,
                     void *aux)
{
    return ofctrl_request_flow_stats(
        br_int, (uint64_t) KOVS_OWNER_POLICY << KOVS_COOKIE_KIND_SHIFT,
        ~KOVS_COOKIE_ID_MASK, cb, aux);
}

static struct policy_stat *
policy_stats_add(struct policy_stats *ps, size_t *allocated)
{
    if (ps->n >= *allocated) {
        ps->stats = x2nrealloc(ps->stats, allocated, sizeof *ps->stats);
    }
    struct policy_stat *st = &ps->stats[ps->n++];
    memset(st, 0, sizeof *st);
    return st;
}

/* Splits "NS/NAME" at 'key' into 'st''s namespace and name, both "" if it
 * has no slash. */
static void
policy_stat_set_name(struct policy_stat *st, const char *key, size_t len)
{
    const char *slash = memchr(key, '/', len);
    if (slash) {
        st->namespace = xmemdup0(key, slash - key);
        st->name = xmemdup0(slash + 1, len - (slash + 1 - key));
    } else {
        st->namespace = xstrdup("");
        st->name = xstrdup("");
    }
}

/* Fills in 'st', a rule's counter, from its conjunction key 'key' ("NS/NAME
 * DIRECTION INDEX[ RESOLUTION]", or NULL if unknown). */
static void
policy_stat_set_rule(struct policy_stat *st, const char *key)
{
    const char *sp1 = key ? strchr(key, ' ') : NULL;
    const char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
    int rule;

    st->key = xstrdup(key ? key : "(unknown)");
    st->rule = -1;
    rule = -1;
    if (sp2) {
        char *index = xmemdup0(sp2 + 1, strcspn(sp2 + 1, " "));
        if (!str_to_int(index, 10, &rule)) {
            rule = -1;
        }
        free(index);
    }
    if (rule >= 0) {
        policy_stat_set_name(st, key, sp1 - key);
        st->rule = rule;
    } else {
        st->namespace = xstrdup("");
        st->name = xstrdup("");
    }
}

void
policy_stats_from_flows(const struct ofctrl_flow_stat *flows, size_t n,
                        const struct flow_table *ft,
                        const struct shash *pod_ports,
                        struct policy_stats *ps)
{
    size_t allocated = 0;

    ps->stats = NULL;
    ps->n = 0;
    for (size_t i = 0; i < n; i++) {
        const struct ofctrl_flow_stat *fs = &flows[i];
        const char *dir = (fs->table_id == KOVS_T_INGRESS_POLICY ? "ingress"
                           : fs->table_id == KOVS_T_EGRESS_POLICY ? "egress"
                           : NULL);
        if (!dir) {
            continue;
        }
        if (fs->match.wc.masks.conj_id) {
            struct policy_stat *st = policy_stats_add(ps, &allocated);
            st->type = POLICY_STAT_RULE;
            st->direction = dir;
            st->n_packets = fs->n_packets;
            policy_stat_set_rule(st, flow_table_conj_id_key(
                                     ft, fs->match.flow.conj_id));
        } else if (fs->priority == KOVS_PRIO_POLICY_DROP) {
            ofp_port_t port = (fs->table_id == KOVS_T_INGRESS_POLICY
                               ? u16_to_ofp(kovs_field_get(
                                     &fs->match.flow, KOVS_F_OUT_PORT))
                               : fs->match.flow.in_port.ofp_port);
            const char *pod = NULL;
            struct shash_node *node;
            SHASH_FOR_EACH (node, pod_ports) {
                const struct flows_port *p = node->data;
                if (p->ofport == port) {
                    pod = node->name;
                    break;
                }
            }

            struct policy_stat *st = policy_stats_add(ps, &allocated);
            st->type = POLICY_STAT_POD;
            st->direction = dir;
            st->n_packets = fs->n_packets;
            st->rule = -1;
            st->key = xstrdup(pod ? pod : "(unknown pod)");
            policy_stat_set_name(st, pod ? pod : "", pod ? strlen(pod) : 0);
        }
    }
}

void
policy_stats_destroy(struct policy_stats *ps)
{
    if (ps) {
        for (size_t i = 0; i < ps->n; i++) {
            free(ps->stats[i].key);
            free(ps->stats[i].namespace);
            free(ps->stats[i].name);
        }
        free(ps->stats);
        ps->stats = NULL;
        ps->n = 0;
    }
}
