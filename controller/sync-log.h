/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#ifndef CONTROLLER_SYNC_LOG_H
#define CONTROLLER_SYNC_LOG_H 1

/* How long API server changes take to reach the switch, and where the time
 * goes: for the API server benchmark (tests/bench/run-bench.sh
 * --apiserver).
 *
 * Each computation of flows from the API input is followed through to the
 * switch: the highest resourceVersion the input held when it was computed
 * (k8s_client_get_input_stats()), the time spent receiving and decoding
 * the changes since the previous computation, computing, and putting the
 * difference into a bundle, then, once the switch acknowledges that
 * bundle with its barrier reply, the wall clock time.  The module logs one
 * debug line per computation then:
 *
 *     resourceVersion R in the switch at SECONDS.MICROSECONDS: bundle S
 *     (F flow-mods, G group-mods); read at SECONDS.MICROSECONDS, receive
 *     A us, decode B us, compute C us, put D us, barrier reply E us
 *
 * (on one line).  "read at" is the wall clock time of the main loop's
 * first pass that read a change of this computation (or of the
 * computation's start, if no API change is in it).  A computation that changed no flow sends nothing: its
 * line says "no flow change" instead of the bundle, and is logged as soon
 * as every bundle sent before it is acknowledged (at once, usually), since
 * only then does the switch hold what the input at R asks for.  Lines come
 * in the order of R, so a change at resourceVersion V is in the switch at
 * the time of the first line whose R is V or more. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "openvswitch/list.h"

struct k8s_client_input_stats;
struct ofctrl;

struct sync_log {
    /* Since the last computation. */
    long long int read_usec;        /* In the API client's run function. */
    long long int read_wall_usec;   /* First read of a change, or 0. */
    uint64_t read_rv;               /* The client's last applied_rv. */
    unsigned long long int decode_total_usec;   /* The client's counter at
                                                 * the last computation. */

    /* A computation not yet given to ofctrl_put(). */
    bool computed;
    uint64_t rv;
    long long int first_read_wall_usec;
    long long int receive_usec, decode_usec, compute_usec;

    struct ovs_list entries;        /* "struct sync_log_entry"s, oldest
                                     * first: put, not yet acknowledged. */
};

void sync_log_init(struct sync_log *);
void sync_log_destroy(struct sync_log *);

/* The API client's run function, called at wall clock time 'wall_usec',
 * took 'usec' microseconds, and left the client as 'stats' says. */
void sync_log_note_read(struct sync_log *,
                        const struct k8s_client_input_stats *stats,
                        long long int wall_usec, long long int usec);

/* Flows were computed, in 'usec' microseconds, from the API input that
 * 'stats' describes. */
void sync_log_note_computed(struct sync_log *,
                            const struct k8s_client_input_stats *stats,
                            long long int usec);

/* ofctrl_put() took 'usec' microseconds and succeeded; 'seqno' is
 * ofctrl_get_sent_seqno() right after it, and it sent 'flow_mods' and
 * 'group_mods' ('sent': in a bundle of its own). */
void sync_log_note_put(struct sync_log *, uint64_t seqno, bool sent,
                       uint64_t flow_mods, uint64_t group_mods,
                       long long int usec);

/* Logs the computations whose bundles 'of' has acknowledged.  Call it
 * right after ofctrl_run() and after sync_log_note_put(). */
void sync_log_run(struct sync_log *, const struct ofctrl *of);

#endif /* controller/sync-log.h */
