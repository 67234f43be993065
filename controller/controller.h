/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#ifndef CONTROLLER_CONTROLLER_H
#define CONTROLLER_CONTROLLER_H 1

/* Everything kovs-controller's main loop (kovs-controller.c) works on,
 * which its unixctl commands (commands.c) report on and steer. */

#include <stdbool.h>
#include <stdint.h>
#include "controller/engine.h"
#include "controller/gateway.h"
#include "controller/metrics.h"
#include "flows/flow-table.h"
#include "flows/flows.h"
#include "k8s/k8s-model.h"
#include "sset.h"

struct controller_options;
struct external_bridge;
struct ofctrl;
struct unixctl_server;
struct vswitch;

struct controller {
    const struct controller_options *opts;
    struct k8s_cluster cluster;
    struct k8s_state_file *state;   /* The source: either a state file... */
    struct k8s_client *client;      /* ...or the API server. */
    struct engine engine;

    struct flow_table flows;        /* br-int's desired flows. */
    struct ofctrl *br_int;          /* br-int's OpenFlow connection. */
    struct external_bridge *br_ex;  /* NULL without --external-bridge. */
    struct vswitch *vswitch;        /* The switch's database. */
    struct gateway gateway;         /* kovs-gw0 in the kernel. */

    struct flows_input input;
    struct flows_local local;
    int own_node_state;             /* What check_own_node() last saw. */
    struct sset flow_warnings;      /* The flow table's warnings already
                                     * logged. */
    bool exiting;

    /* From reading an API change to its flows installed (barrier reply). */
    bool event_computed;            /* Flows computed from a change that
                                     * ofctrl_put() has not seen yet. */
    bool event_in_flight;           /* Its bundle awaits the barrier. */
    long long int event_msec;       /* When that change was read. */
    long long int last_event_latency_ms;
    long long int max_event_latency_ms;

    /* For the metrics (controller/controller-metrics.h). */
    struct metrics_histogram sync_duration;         /* Seconds. */
    struct metrics_histogram programming_latency;   /* Seconds. */
    long long int start_wall_msec;
    long long int last_sync_wall_msec;              /* 0 before the first. */
    struct controller_trigger *triggers;            /* Changes on their way
                                                     * to the switch. */
    size_t n_triggers, allocated_triggers;
};

/* An EndpointSlice change on its way to the switch: its
 * last-change-trigger-time, and once the update that carries it was sent,
 * the sequence number (ofctrl_get_sent_seqno()) whose acknowledgement
 * means it is installed. */
struct controller_trigger {
    long long int trigger_msec;     /* Wall clock. */
    bool sent;
    uint64_t seqno;
};

/* Returns true once the source of the Kubernetes state has given a
 * complete picture of the cluster. */
bool controller_k8s_ready(const struct controller *c);

/* Adds to 'usage' what 'c' holds, for libopenvswitch's memory reports
 * ("ovs-appctl -t kovs-controller memory/show", and the log line when the
 * peak RSS grows): for each kind of Kubernetes object, their number
 * ("Pod") and the heap bytes they hold ("Pod-bytes"); the same for each
 * bridge's desired flows and groups and the flows and groups it believes
 * installed, and the bundle being streamed and its messages queued. */
struct simap;
void controller_memory_usage(const struct controller *c,
                             struct simap *usage);

/* Registers kovs-controller's unixctl commands, which work on 'c'. */
void controller_commands_register(struct controller *c);

#endif /* controller/controller.h */
