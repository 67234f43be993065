/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#include <config.h>

#include "controller/engine.h"

#include "controller/healthcheck.h"
#include "flows/flow-table.h"
#include "flows/flows.h"
#include "flows/service.h"
#include "k8s/k8s-model.h"
#include "openvswitch/vlog.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(engine);

/* The dependencies: for each output, the inputs it reads and, of the
 * Kubernetes objects, the kinds.  A change of anything else leaves the
 * output alone.  Read it top to bottom: this is why something was
 * recomputed. */
#define IN(INPUT) (1u << ENGINE_IN_##INPUT)
#define KIND(KIND) (1u << K8S_##KIND)
#define ALL_KINDS ((1u << K8S_N_KINDS) - 1)

static const struct engine_output_def {
    const char *name;
    unsigned int inputs;            /* IN(...) bits. */
    unsigned int k8s_kinds;         /* With IN(K8S): KIND(...) bits. */
} outputs[ENGINE_N_OUTPUTS] = {
    /* Every object may own br-int flows; pods' and tunnels' flows need
     * their ports, SNAT and the way out need the uplink and the next
     * hops. */
    [ENGINE_OUT_BR_INT] = {
        "br-int",
        IN(K8S) | IN(PORTS) | IN(UPLINK) | IN(NEIGHBORS) | IN(OPTIONS),
        ALL_KINDS,
    },
    /* A Service's front ends (NodePorts, external and LoadBalancer IPs)
     * and the node's own address.  The stages that own br-ex flows also
     * own br-int flows, so both tables are recomputed in one pass. */
    [ENGINE_OUT_BR_EX] = {
        "br-ex",
        IN(K8S) | IN(PORTS) | IN(UPLINK) | IN(OPTIONS),
        KIND(NODE) | KIND(SERVICE) | KIND(ENDPOINT_SLICE),
    },
    /* A health check port answers with a Service's local endpoints. */
    [ENGINE_OUT_HEALTHCHECK] = {
        "healthcheck",
        IN(K8S) | IN(OPTIONS),
        KIND(SERVICE) | KIND(ENDPOINT_SLICE),
    },
    /* The gateway's address comes from this node's podCIDR, its interface
     * from OVSDB.  (gateway_run() also compares with what it applied, and
     * retries what failed, on every pass.) */
    [ENGINE_OUT_GATEWAY] = {
        "gateway",
        IN(K8S) | IN(PORTS) | IN(OPTIONS),
        KIND(NODE),
    },
    /* One tunnel port per peer Node with an InternalIP, or with
     * --tunnel-ports=flow one port for all of them and each peer with an
     * InternalIP reached through it.  (vswitch_run() also notices changes
     * of the database itself.) */
    [ENGINE_OUT_TUNNELS] = {
        "tunnels",
        IN(K8S) | IN(OPTIONS),
        KIND(NODE),
    },
};

static const char *const input_names[ENGINE_N_INPUTS] = {
    [ENGINE_IN_K8S] = "k8s",
    [ENGINE_IN_PORTS] = "ports",
    [ENGINE_IN_UPLINK] = "uplink",
    [ENGINE_IN_NEIGHBORS] = "neighbors",
    [ENGINE_IN_OPTIONS] = "options",
};

void
engine_init(struct engine *e, const char *node_name,
            struct k8s_cluster *cluster)
{
    memset(e, 0, sizeof *e);
    e->node_name = node_name;
    e->cluster = cluster;
    k8s_key_set_init(&e->ports.pods);
    k8s_key_set_init(&e->ports.nodes);
    k8s_key_set_init(&e->hc_services);

    /* Nothing has been computed yet. */
    e->inputs[ENGINE_IN_OPTIONS] = ENGINE_ALL;
}

void
engine_destroy(struct engine *e)
{
    if (e) {
        k8s_key_set_destroy(&e->ports.pods);
        k8s_key_set_destroy(&e->ports.nodes);
        k8s_key_set_destroy(&e->hc_services);
    }
}

/* Reads the Kubernetes change list, which the source filled since the
 * last engine_run(): the kinds that changed, and whether this node's own
 * Node did, which is in every output's input (its podCIDR, its
 * address). */
void
engine_read_k8s(struct engine *e)
{
    const struct k8s_change *change;

    e->k8s_kinds = 0;
    K8S_CHANGE_FOR_EACH (change, e->cluster) {
        e->k8s_kinds |= 1u << change->kind;
        if (change->kind == K8S_NODE
            && !strcmp(change->name, e->node_name)) {
            e->inputs[ENGINE_IN_K8S] = ENGINE_ALL;
        }
    }
    if (e->k8s_kinds && e->inputs[ENGINE_IN_K8S] == ENGINE_UNCHANGED) {
        e->inputs[ENGINE_IN_K8S] = ENGINE_SOME;
    }
}

/* Returns the ports input's report, which vswitch fills in. */
struct engine_ports_change *
engine_ports_change(struct engine *e)
{
    return &e->ports;
}

void
engine_input_changed(struct engine *e, enum engine_input input,
                     enum engine_change change)
{
    if (input == ENGINE_IN_PORTS) {
        e->ports.all |= change == ENGINE_ALL;
    } else {
        e->inputs[input] = MAX(e->inputs[input], change);
    }
}

enum engine_change
engine_input_state(const struct engine *e, enum engine_input input)
{
    if (input == ENGINE_IN_PORTS) {
        return (e->ports.all ? ENGINE_ALL
                : e->ports.pipeline
                  || !k8s_key_set_is_empty(&e->ports.pods)
                  || !k8s_key_set_is_empty(&e->ports.nodes) ? ENGINE_SOME
                : ENGINE_UNCHANGED);
    }
    return e->inputs[input];
}

bool
engine_has_changes(const struct engine *e)
{
    for (int i = 0; i < ENGINE_N_INPUTS; i++) {
        if (engine_input_state(e, i) != ENGINE_UNCHANGED) {
            return true;
        }
    }
    return false;
}

bool
engine_output_stale(const struct engine *e, enum engine_output output)
{
    const struct engine_output_def *def = &outputs[output];

    for (int i = 0; i < ENGINE_N_INPUTS; i++) {
        enum engine_change state = engine_input_state(e, i);
        if (!(def->inputs & (1u << i)) || state == ENGINE_UNCHANGED) {
            continue;
        }
        if (i == ENGINE_IN_K8S && state == ENGINE_SOME
            && !(e->k8s_kinds & def->k8s_kinds)) {
            continue;
        }
        return true;
    }
    return false;
}

/* Returns true if an input that 'output' reads reports "everything". */
static bool
engine_output_all(const struct engine *e, enum engine_output output)
{
    for (int i = 0; i < ENGINE_N_INPUTS; i++) {
        if (outputs[output].inputs & (1u << i)
            && engine_input_state(e, i) == ENGINE_ALL) {
            return true;
        }
    }
    return false;
}

/* Logs, at debug level, what made 'output' stale. */
static void
engine_log_stale(const struct engine *e, enum engine_output output)
{
    if (!VLOG_IS_DBG_ENABLED()) {
        return;
    }
    for (int i = 0; i < ENGINE_N_INPUTS; i++) {
        enum engine_change state = engine_input_state(e, i);
        if (outputs[output].inputs & (1u << i)
            && state != ENGINE_UNCHANGED) {
            VLOG_DBG("%s: input %s changed (%s)", outputs[output].name,
                     input_names[i],
                     state == ENGINE_ALL ? "everything" : "some objects");
        }
    }
}

/* br-int and br-ex: the owners of the changed objects and ports, or all
 * of them. */
static void
engine_run_flows(struct engine *e, const struct engine_outputs *out)
{
    long long int start = time_msec();
    struct flows_changes changes;

    flows_changes_init(&changes);
    changes.all = (engine_output_all(e, ENGINE_OUT_BR_INT)
                   || (out->br_ex && engine_output_all(e, ENGINE_OUT_BR_EX)));
    changes.k8s = &e->cluster->changes;
    changes.neighbors = (engine_input_state(e, ENGINE_IN_NEIGHBORS)
                         != ENGINE_UNCHANGED);
    changes.pipeline = e->ports.pipeline;
    k8s_key_set_swap(&changes.pods, &e->ports.pods);
    k8s_key_set_swap(&changes.nodes, &e->ports.nodes);
    e->last_recomputed = flows_compute_changes(out->input, &changes,
                                               out->br_int, out->br_ex);
    flows_changes_destroy(&changes);

    e->last_compute_ms = time_msec() - start;
    e->n_computations++;
}

/* Without an external bridge, br-ex's part of a Service is a warning:
 * logs, for each changed Service that asks for traffic from outside the
 * cluster, that this node does not serve it. */
static void
engine_warn_unserved_frontends(const struct engine *e)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
    const struct k8s_change *change;

    K8S_CHANGE_FOR_EACH (change, e->cluster) {
        if (change->kind != K8S_SERVICE || !change->new) {
            continue;
        }
        const struct k8s_service *svc = k8s_service_cast(change->new);
        bool node_ports = false;
        for (size_t i = 0; i < svc->n_ports; i++) {
            node_ports |= svc->ports[i].node_port != 0;
        }
        if ((node_ports || svc->n_external_ips || svc->n_lb_ingress)
            && service_is_proxied(svc)) {
            VLOG_INFO_RL(&rl, "service %s/%s: its NodePorts, external IPs "
                         "and LoadBalancer IPs are not served on this node: "
                         "kovs-controller runs without --external-bridge",
                         change->namespace, change->name);
        }
    }
}

/* Returns true if 'svc' has a health check node port that kovs serves: a
 * LoadBalancer with externalTrafficPolicy Local. */
static bool
service_has_health_check(const struct k8s_service *svc)
{
    return (svc->health_check_node_port
            && svc->external_traffic_policy == K8S_POLICY_LOCAL
            && svc->type == K8S_SVC_LOAD_BALANCER
            && service_is_proxied(svc));
}

/* Serves the health check node port of every Service that has one, with
 * its number of local endpoints.  Only the changed Services are looked at
 * again, all of them when everything changed. */
static void
engine_run_healthcheck(struct engine *e, struct healthcheck *hc)
{
    if (engine_output_all(e, ENGINE_OUT_HEALTHCHECK)) {
        k8s_key_set_clear(&e->hc_services);
        const struct k8s_object *obj;
        K8S_CLUSTER_FOR_EACH (obj, K8S_SERVICE, e->cluster) {
            if (service_has_health_check(k8s_service_cast(obj))) {
                k8s_key_set_add(&e->hc_services, K8S_SERVICE,
                                obj->namespace, obj->name);
            }
        }
    } else {
        const struct k8s_change *change;
        K8S_CHANGE_FOR_EACH (change, e->cluster) {
            if (change->kind == K8S_SERVICE) {
                if (change->new && service_has_health_check(
                        k8s_service_cast(change->new))) {
                    k8s_key_set_add(&e->hc_services, K8S_SERVICE,
                                    change->namespace, change->name);
                } else {
                    k8s_key_set_remove(&e->hc_services, K8S_SERVICE,
                                       change->namespace, change->name);
                }
            }
        }
    }

    healthcheck_start_update(hc);
    const struct k8s_key *key;
    K8S_KEY_SET_FOR_EACH (key, &e->hc_services) {
        const struct k8s_service *svc = k8s_service_cast(
            k8s_cluster_find(e->cluster, K8S_SERVICE, key->namespace,
                             key->name));
        healthcheck_set(hc, svc->health_check_node_port, key->namespace,
                        key->name, service_count_local_ready(e->cluster, svc,
                                                             e->node_name));
    }
    healthcheck_finish_update(hc);
}

void
engine_run(struct engine *e, const struct engine_outputs *out)
{
    if (!engine_has_changes(e)) {
        return;
    }

    /* br-int and br-ex are computed in one pass, since a Service owns
     * flows in both. */
    if (engine_output_stale(e, ENGINE_OUT_BR_INT)
        || engine_output_stale(e, ENGINE_OUT_BR_EX)) {
        engine_log_stale(e, ENGINE_OUT_BR_INT);
        engine_run_flows(e, out);
    }
    if (!out->br_ex && engine_output_stale(e, ENGINE_OUT_BR_EX)) {
        engine_warn_unserved_frontends(e);
    }
    if (out->healthcheck && engine_output_stale(e, ENGINE_OUT_HEALTHCHECK)) {
        engine_log_stale(e, ENGINE_OUT_HEALTHCHECK);
        engine_run_healthcheck(e, out->healthcheck);
    }

    /* Every report is consumed. */
    k8s_cluster_clear_changes(e->cluster);
    for (int i = 0; i < ENGINE_N_INPUTS; i++) {
        e->inputs[i] = ENGINE_UNCHANGED;
    }
    e->k8s_kinds = 0;
    e->ports.all = false;
    e->ports.pipeline = false;
    k8s_key_set_clear(&e->ports.pods);
    k8s_key_set_clear(&e->ports.nodes);
}
