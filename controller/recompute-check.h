/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#ifndef CONTROLLER_RECOMPUTE_CHECK_H
#define CONTROLLER_RECOMPUTE_CHECK_H 1

/* The unixctl command "check-recompute [FILE]": proof that incremental
 * processing left exactly the flows that a freshly started controller would
 * compute, and that the switch has them.
 *
 * It builds a new cluster model from the raw Kubernetes objects (FILE, a
 * List as the state file holds it, or else the controller's own state file
 * read again; only a controller that reads an API server and is given no
 * FILE uses its in-memory model, and says so), computes every flow and
 * group of br-int and br-ex from scratch with flows_compute_all() and the
 * controller's current ports, external bridge and neighbors, and compares:
 *
 *   - that full computation with the incremental desired tables;
 *   - the desired tables with a fresh dump of each switch's flows and
 *     groups (ofctrl_request_check()).
 *
 * It answers "no differences", or fails with one line per difference that
 * names the flow or group, its owner (decoded from the cookie) and what
 * each side has.  It compares only an idle controller (inputs complete, no
 * change waiting to be computed, nothing in flight to the switch) and
 * otherwise fails at once with a message that starts "busy:", so that a
 * caller can simply ask again. */

struct engine;
struct flow_table;
struct flows_input;
struct k8s_client;
struct k8s_state_file;
struct ofctrl;
struct vswitch;

/* What the check reads of the controller.  Every pointer must stay valid
 * as long as the controller runs. */
struct recompute_check_config {
    const char *state_file;             /* --k8s-state, or NULL. */
    const struct k8s_state_file *state; /* Its reader, or NULL... */
    const struct k8s_client *client;    /* ...and then the API client. */
    const struct flows_input *input;    /* The inputs of the flows. */
    const struct engine *engine;        /* Changes not yet computed. */
    const struct vswitch *vswitch;      /* The switch's configuration. */
    const struct flow_table *flows;     /* br-int's desired table. */
    const struct flow_table *ex_flows;  /* br-ex's, or NULL. */
    struct ofctrl *br_int;
    struct ofctrl *br_ex;               /* NULL without br-ex. */
};

/* Registers "check-recompute" with 'cfg' (copied). */
void recompute_check_register(const struct recompute_check_config *cfg);

#endif /* controller/recompute-check.h */
