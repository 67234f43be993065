/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#ifndef CONTROLLER_OFCTRL_H
#define CONTROLLER_OFCTRL_H 1

/* The OpenFlow connection to br-int.
 *
 * ofctrl keeps what is installed on the switch and brings it to the desired
 * flow table (flows/flow-table.h) by sending the difference, and only the
 * difference, as one atomic, ordered OpenFlow 1.5 bundle followed by a
 * barrier.  On every (re)connection it first dumps the switch's flows and
 * diffs against them, so a restart of kovs-controller or of ovs-vswitchd
 * changes nothing a packet can see. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "openvswitch/match.h"

struct ds;
struct flow_table;

/* Connects to 'target' (usually "unix:<rundir>/<bridge>.mgmt"). */
void ofctrl_init(const char *target);
void ofctrl_destroy(void);

/* Processes messages from the switch.  Returns true if ofctrl is ready to
 * take the desired state (connected and the switch's flows dumped). */
bool ofctrl_run(void);
void ofctrl_wait(void);

/* Brings the switch to 'ft': sends the difference for the tracked entries
 * of 'ft' (or a full diff after a reconnection) as one bundle, then clears
 * 'ft''s tracking.  Does nothing (keeping the tracking) while not ready. */
void ofctrl_put(struct flow_table *ft);

/* Forces a full dump-and-diff on the next ofctrl_put(). */
void ofctrl_force_resync(void);

/* Statistics, for the status command. */
struct ofctrl_stats {
    bool connected;
    size_t n_installed;             /* Flows kovs believes installed. */
    size_t n_installed_groups;
    size_t last_flow_mods;          /* Flow-mods in the last bundle. */
    size_t last_group_mods;         /* Group-mods in the last bundle. */
    uint64_t total_flow_mods;
    uint64_t total_group_mods;
    uint64_t n_bundles;
    uint64_t n_full_syncs;
    long long int last_latency_ms;  /* Bundle sent to barrier reply. */
    long long int max_latency_ms;
    bool in_flight;                 /* A bundle awaits its barrier. */
};
void ofctrl_get_stats(struct ofctrl_stats *);

/* Flow statistics, on request. */
struct ofctrl_flow_stat {
    uint8_t table_id;
    uint16_t priority;
    struct match match;
    uint64_t cookie;
    uint64_t n_packets;
};

/* Called with the statistics of the requested flows ('n' of them), or with
 * 'error' set if the connection was lost first. */
typedef void ofctrl_flow_stats_cb(const struct ofctrl_flow_stat *, size_t n,
                                  const char *error, void *aux);

/* Asks the switch for the statistics of its flows whose cookie matches
 * 'cookie' under 'cookie_mask', and calls 'cb' with them once they are all
 * in.  Returns false (and never calls 'cb') if not connected or another
 * request is pending. */
bool ofctrl_request_flow_stats(uint64_t cookie, uint64_t cookie_mask,
                               ofctrl_flow_stats_cb *cb, void *aux);

/* Appends the connection state to 'ds'. */
void ofctrl_format_connection(struct ds *);

#endif /* controller/ofctrl.h */
