/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#include <config.h>

#include "controller/sync-log.h"

#include "controller/ofctrl.h"
#include "k8s/k8s-client.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/vlog.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(sync_log);

/* A computation put to the switch, awaiting its acknowledgement. */
struct sync_log_entry {
    struct ovs_list list_node;      /* In sync_log's 'entries'. */
    uint64_t rv;                    /* The input's resourceVersion. */
    uint64_t seqno;                 /* Acknowledged when the acked seqno
                                     * reaches this. */
    bool sent;                      /* A bundle of its own. */
    uint64_t flow_mods, group_mods;
    long long int receive_usec, decode_usec, compute_usec, put_usec;
    long long int read_wall_usec;   /* See "read at" in sync-log.h. */
    long long int put_done_usec;    /* time_usec() after the put. */
};

void
sync_log_init(struct sync_log *sl)
{
    memset(sl, 0, sizeof *sl);
    ovs_list_init(&sl->entries);
}

void
sync_log_destroy(struct sync_log *sl)
{
    if (sl) {
        struct sync_log_entry *e;
        LIST_FOR_EACH_POP (e, list_node, &sl->entries) {
            free(e);
        }
    }
}

void
sync_log_note_read(struct sync_log *sl,
                   const struct k8s_client_input_stats *stats,
                   long long int wall_usec, long long int usec)
{
    sl->read_usec += usec;
    if (stats->applied_rv != sl->read_rv) {
        sl->read_rv = stats->applied_rv;
        if (!sl->read_wall_usec) {
            sl->read_wall_usec = wall_usec;
        }
    }
}

void
sync_log_note_computed(struct sync_log *sl,
                       const struct k8s_client_input_stats *stats,
                       long long int usec)
{
    long long int decode = stats->decode_usec - sl->decode_total_usec;

    sl->decode_total_usec = stats->decode_usec;
    if (!sl->computed) {
        sl->first_read_wall_usec = (sl->read_wall_usec ? sl->read_wall_usec
                                    : time_wall_usec() - usec);
    }
    sl->read_wall_usec = 0;
    sl->computed = true;
    sl->rv = MAX(sl->rv, stats->applied_rv);
    sl->decode_usec += decode;
    sl->receive_usec += MAX(0, sl->read_usec - decode);
    sl->read_usec = 0;
    sl->compute_usec += usec;
}

void
sync_log_note_put(struct sync_log *sl, uint64_t seqno, bool sent,
                  uint64_t flow_mods, uint64_t group_mods,
                  long long int usec)
{
    if (!sl->computed) {
        return;
    }

    struct sync_log_entry *e = xmalloc(sizeof *e);
    *e = (struct sync_log_entry) {
        .rv = sl->rv,
        .seqno = seqno,
        .sent = sent,
        .flow_mods = flow_mods,
        .group_mods = group_mods,
        .receive_usec = sl->receive_usec,
        .decode_usec = sl->decode_usec,
        .compute_usec = sl->compute_usec,
        .put_usec = usec,
        .read_wall_usec = sl->first_read_wall_usec,
        .put_done_usec = time_usec(),
    };
    ovs_list_push_back(&sl->entries, &e->list_node);

    sl->computed = false;
    sl->first_read_wall_usec = 0;
    sl->receive_usec = sl->decode_usec = sl->compute_usec = 0;
}

void
sync_log_run(struct sync_log *sl, const struct ofctrl *of)
{
    if (ovs_list_is_empty(&sl->entries)) {
        return;
    }

    struct ofctrl_stats s;
    ofctrl_get_stats(of, &s);
    uint64_t acked = ofctrl_get_acked_seqno(of);
    long long int now = time_usec();
    long long int wall = time_wall_usec();

    struct sync_log_entry *e;
    LIST_FOR_EACH_SAFE (e, list_node, &sl->entries) {
        if (!s.connected) {
            /* The bundles are lost with the connection; the
             * resynchronization installs the flows, but that is not this
             * measurement. */
            VLOG_DBG("resourceVersion %"PRIu64": the connection to the "
                     "switch was lost before its barrier reply", e->rv);
        } else if (acked >= e->seqno) {
            struct ds what = DS_EMPTY_INITIALIZER;
            if (e->sent) {
                ds_put_format(&what, "bundle %"PRIu64" (%"PRIu64" flow-mods, "
                              "%"PRIu64" group-mods)", e->seqno,
                              e->flow_mods, e->group_mods);
            } else {
                ds_put_cstr(&what, "no flow change");
            }
            VLOG_DBG("resourceVersion %"PRIu64" in the switch at "
                     "%lld.%06lld: %s; read at %lld.%06lld, receive %lld "
                     "us, decode %lld us, compute %lld us, put %lld us, "
                     "barrier reply %lld us",
                     e->rv, wall / 1000000, wall % 1000000, ds_cstr(&what),
                     e->read_wall_usec / 1000000, e->read_wall_usec % 1000000,
                     e->receive_usec, e->decode_usec, e->compute_usec,
                     e->put_usec, now - e->put_done_usec);
            ds_destroy(&what);
        } else {
            /* Acknowledgements come in order. */
            break;
        }
        ovs_list_remove(&e->list_node);
        free(e);
    }
}
