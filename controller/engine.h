/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#ifndef CONTROLLER_ENGINE_H
#define CONTROLLER_ENGINE_H 1

/* The controller's change engine: what each output of the main loop reads,
 * and so what a change of an input recomputes.
 *
 *   inputs (each: unchanged, these objects, everything)
 *     k8s          Kubernetes objects, from a state file or the API server
 *     ports        OVSDB: br-int's pod, tunnel and gateway ports, br-ex's
 *     uplink       the node IP, its subnet and default gateway (kernel)
 *     neighbors    the next hops on the external network (ARP)
 *     options      the command line (the tunnel mode and the MTU among
 *                  it), and the "recompute" command
 *
 *   outputs (each declares the inputs it reads, in engine.c)
 *     br-int       br-int's desired flows and groups
 *     br-ex        br-ex's desired flows (or, without an external bridge,
 *                  a warning per Service whose front ends go unserved)
 *     healthcheck  the health check node ports kovs serves
 *     gateway      kovs-gw0's address and routes in the kernel
 *     tunnels      the tunnel port of each peer node, in OVSDB
 *
 * The inputs report into the engine as the main loop reads them; the
 * engine alone reads the Kubernetes change list and decides which output
 * is recomputed, and how much of it.  engine_run() then consumes every
 * report.  Until it runs (the flows wait for complete inputs), reports
 * accumulate. */

#include <stdbool.h>
#include <stddef.h>
#include "openvswitch/types.h"
#include "k8s/k8s-model.h"
#include "sset.h"

struct flow_table;
struct flows_input;
struct healthcheck;
struct k8s_cluster;

enum engine_input {
    ENGINE_IN_K8S,
    ENGINE_IN_PORTS,
    ENGINE_IN_UPLINK,
    ENGINE_IN_NEIGHBORS,
    ENGINE_IN_OPTIONS,
    ENGINE_N_INPUTS
};

enum engine_output {
    ENGINE_OUT_BR_INT,
    ENGINE_OUT_BR_EX,
    ENGINE_OUT_HEALTHCHECK,
    ENGINE_OUT_GATEWAY,
    ENGINE_OUT_TUNNELS,
    ENGINE_N_OUTPUTS
};

enum engine_change {
    ENGINE_UNCHANGED,
    ENGINE_SOME,                    /* These objects changed. */
    ENGINE_ALL,                     /* Anything may have changed. */
};

/* What the ports input reports: the pods and peer nodes whose ports
 * changed, or that everything did (the gateway port, the external
 * bridge). */
struct engine_ports_change {
    bool all;
    bool pipeline;                  /* The shared flow-based tunnel port
                                     * changed: the pipeline's flows for
                                     * it (the peers changed too). */
    struct k8s_key_set pods;        /* Keys of kind K8S_POD. */
    struct k8s_key_set nodes;       /* Keys of kind K8S_NODE. */
};

struct engine {
    const char *node_name;          /* This node. */
    struct k8s_cluster *cluster;
    enum engine_change inputs[ENGINE_N_INPUTS];
    unsigned int k8s_kinds;         /* 1 << kind of each changed object. */
    struct engine_ports_change ports;

    /* The healthcheck output's state: the Services whose health check
     * node port kovs serves. */
    struct k8s_key_set hc_services;

    /* Statistics. */
    size_t last_recomputed;         /* Owners recomputed last time. */
    uint64_t n_computations;
    long long int last_compute_ms;
};

/* Initializes 'e' for node 'node_name' and the cluster model 'cluster',
 * whose change list the engine reads and clears. */
void engine_init(struct engine *, const char *node_name,
                 struct k8s_cluster *cluster);
void engine_destroy(struct engine *);

/* Reports from the inputs.  engine_read_k8s() looks at what the source
 * of the Kubernetes state recorded; vswitch fills in the ports' report
 * that engine_ports_change() returns. */
void engine_read_k8s(struct engine *);
struct engine_ports_change *engine_ports_change(struct engine *);
/* Reports that 'input' changed as 'change' says (ENGINE_SOME: the
 * objects the input stands for, such as the table of neighbors). */
void engine_input_changed(struct engine *, enum engine_input,
                          enum engine_change change);

enum engine_change engine_input_state(const struct engine *,
                                      enum engine_input);
bool engine_has_changes(const struct engine *);

/* Returns true if an input that 'output' reads has changed since the last
 * engine_run(). */
bool engine_output_stale(const struct engine *, enum engine_output);

/* What the outputs that engine_run() recomputes write to.  'br_ex' is
 * NULL without an external bridge, and then there are no health checks
 * either ('healthcheck' is NULL too). */
struct engine_outputs {
    const struct flows_input *input;
    struct flow_table *br_int;
    struct flow_table *br_ex;
    struct healthcheck *healthcheck;
};

/* Recomputes what the reported changes make stale, then consumes every
 * report.  The caller calls it only when its inputs are complete. */
void engine_run(struct engine *, const struct engine_outputs *);

#endif /* controller/engine.h */
