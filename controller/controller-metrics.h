/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#ifndef CONTROLLER_CONTROLLER_METRICS_H
#define CONTROLLER_CONTROLLER_METRICS_H 1

/* kovs-controller's metrics endpoint (--metrics-address): "/metrics" in
 * Prometheus's text format (controller/metrics.h) and "/healthz" for a
 * liveness probe, over controller/http-server.h.
 *
 * A scrape reads what the controller and its modules count at that moment.
 * The NetworkPolicy counters live in the switch: each scrape asks br-int
 * for them (controller/policy-stats.h) and is answered when they arrive,
 * while the main loop goes on; scrapes that come meanwhile share that
 * answer.
 *
 * The main loop also reports here the durations that become histograms:
 * each computation (the sync duration) and, for each EndpointSlice
 * change, the time from its last-change-trigger-time to the barrier reply
 * of the bundle that carried its flows (the network programming
 * latency). */

#include <stdbool.h>
#include <stdint.h>

struct controller;

/* The default --metrics-address. */
#define CONTROLLER_METRICS_DEFAULT_ADDRESS "127.0.0.1:10266"

/* Creates the endpoint for 'c' on 'address' (checked by the option parser)
 * and initializes the histograms of 'c'. */
struct controller_metrics *controller_metrics_create(struct controller *c,
                                                     const char *address);
void controller_metrics_destroy(struct controller_metrics *);
void controller_metrics_run(struct controller_metrics *);
void controller_metrics_wait(const struct controller_metrics *);

/* Bookkeeping for the histograms, which 'c' holds and which exist whether
 * or not there is an endpoint. */
void controller_metrics_init(struct controller *c);
void controller_metrics_uninit(struct controller *c);

/* The main loop is about to compute flows from the Kubernetes changes
 * recorded in 'c''s cluster: notes the trigger times of the EndpointSlices
 * among them. */
void controller_metrics_note_changes(struct controller *c);

/* A computation of flows took 'usec' microseconds, with sending its
 * update to the switch. */
void controller_metrics_note_sync(struct controller *c, long long int usec);

/* ofctrl_put() gave br-int everything computed so far: once the switch
 * acknowledges 'seqno' (ofctrl_get_sent_seqno() after the put), the
 * changes noted so far are installed. */
void controller_metrics_note_put(struct controller *c, uint64_t seqno);

/* Records the network programming latency of the changes whose bundles the
 * switch has acknowledged since the last call. */
void controller_metrics_note_acked(struct controller *c);

#endif /* controller/controller-metrics.h */
