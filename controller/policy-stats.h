/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#ifndef CONTROLLER_POLICY_STATS_H
#define CONTROLLER_POLICY_STATS_H 1

/* NetworkPolicy counters, read from the switch: for each rule, the new
 * connections its conjunction flow allowed, and for each pod a policy
 * isolates, the packets its drop flow dropped.  The "policy-stats"
 * command and the metrics endpoint both read them through here. */

#include <stddef.h>
#include <stdint.h>
#include "controller/ofctrl.h"

struct flow_table;
struct shash;

enum policy_stat_type {
    POLICY_STAT_RULE,               /* Connections a rule allowed. */
    POLICY_STAT_POD,                /* Packets dropped for a pod. */
};

struct policy_stat {
    enum policy_stat_type type;
    const char *direction;          /* "ingress" or "egress". */

    /* For a rule, its conjunction's key as flows/policy.c made it
     * ("NS/NAME DIRECTION INDEX", then, for a rule whose named ports
     * resolve differently for different pods, the resolution), and the
     * policy and rule it names ('namespace' and 'name' "" and 'rule' -1
     * if the key is unknown).  For a pod, "NS/NAME", and the pod's
     * namespace and name ("" if no pod has the port). */
    char *key;
    char *namespace;
    char *name;
    int rule;

    uint64_t n_packets;
};

struct policy_stats {
    struct policy_stat *stats;
    size_t n;
};

/* Asks 'br_int' for the statistics of the NetworkPolicy flows; 'cb' gets
 * them (see ofctrl_request_flow_stats()).  Returns false if not
 * connected. */
bool policy_stats_request(struct ofctrl *br_int, ofctrl_flow_stats_cb *cb,
                          void *aux);

/* Turns the 'n' flow statistics in 'flows' (from policy_stats_request())
 * into counters in 'ps' (which the caller destroys), naming rules from the
 * conjunction keys of 'ft' (br-int's desired flows) and pods from
 * 'pod_ports' (struct flows_port by "NS/NAME"). */
void policy_stats_from_flows(const struct ofctrl_flow_stat *flows, size_t n,
                             const struct flow_table *ft,
                             const struct shash *pod_ports,
                             struct policy_stats *ps);
void policy_stats_destroy(struct policy_stats *);

#endif /* controller/policy-stats.h */
