/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#include <config.h>

#include "flows/flows.h"

#include <string.h>

#include "flows/flow-table.h"
#include "flows/pipeline.h"
#include "flows/policy.h"
#include "flows/service.h"
#include "openvswitch/dynamic-string.h"
#include "util.h"

const char *
flows_tunnel_mode_name(enum flows_tunnel_mode mode)
{
    switch (mode) {
    case FLOWS_TUNNEL_VXLAN:
        return "vxlan";
    case FLOWS_TUNNEL_GENEVE:
        return "geneve";
    case FLOWS_TUNNEL_NONE:
        return "none";
    }
    OVS_NOT_REACHED();
}

bool
flows_tunnel_mode_from_name(const char *name, enum flows_tunnel_mode *mode)
{
    static const enum flows_tunnel_mode modes[] = {
        FLOWS_TUNNEL_VXLAN, FLOWS_TUNNEL_GENEVE, FLOWS_TUNNEL_NONE,
    };
    for (size_t i = 0; i < ARRAY_SIZE(modes); i++) {
        if (!strcmp(name, flows_tunnel_mode_name(modes[i]))) {
            *mode = modes[i];
            return true;
        }
    }
    return false;
}

const char *
flows_tunnel_ports_name(enum flows_tunnel_ports ports)
{
    switch (ports) {
    case FLOWS_TUNNEL_PORTS_PER_NODE:
        return "per-node";
    case FLOWS_TUNNEL_PORTS_FLOW:
        return "flow";
    }
    OVS_NOT_REACHED();
}

bool
flows_tunnel_ports_from_name(const char *name, enum flows_tunnel_ports *ports)
{
    static const enum flows_tunnel_ports layouts[] = {
        FLOWS_TUNNEL_PORTS_PER_NODE, FLOWS_TUNNEL_PORTS_FLOW,
    };
    for (size_t i = 0; i < ARRAY_SIZE(layouts); i++) {
        if (!strcmp(name, flows_tunnel_ports_name(layouts[i]))) {
            *ports = layouts[i];
            return true;
        }
    }
    return false;
}

bool
flows_mtu_from_string(const char *s, int *mtu)
{
    return str_to_int(s, 10, mtu) && *mtu >= 576 && *mtu <= 65535;
}

int
flows_default_mtu(enum flows_tunnel_mode mode)
{
    switch (mode) {
    case FLOWS_TUNNEL_VXLAN:
        return FLOWS_MTU_VXLAN;
    case FLOWS_TUNNEL_GENEVE:
        return FLOWS_MTU_GENEVE;
    case FLOWS_TUNNEL_NONE:
        return FLOWS_MTU_ROUTED;
    }
    OVS_NOT_REACHED();
}

int
flows_tunnel_mtu(const struct flows_input *in)
{
    return in->mtu ? in->mtu : flows_default_mtu(in->tunnel_mode);
}

uint16_t
flows_tunnel_frame_max(const struct flows_input *in)
{
    return MIN(flows_tunnel_mtu(in) + ETH_HEADER_LEN, UINT16_MAX);
}

void
flows_local_init(const struct flows_input *in, struct flows_local *local)
{
    memset(local, 0, sizeof *local);
    local->pod_frame_max = flows_tunnel_frame_max(in);

    const struct k8s_object *obj = k8s_cluster_find(in->cluster, K8S_NODE,
                                                    "", in->node_name);
    if (!obj) {
        return;
    }
    const struct k8s_node *node = k8s_node_cast(obj);
    for (size_t i = 0; i < node->n_pod_cidrs; i++) {
        const struct k8s_cidr *c = &node->pod_cidrs[i];
        if (k8s_addr_is_ipv4(&c->addr) && c->plen <= 30) {
            local->valid4 = true;
            local->pod_cidr = *c;
            local->pod_mask = be32_prefix_mask(c->plen);
            local->pod_net = in6_addr_get_mapped_ipv4(&c->addr)
                             & local->pod_mask;
            local->gateway_ip = htonl(ntohl(local->pod_net) + 1);
            break;
        }
    }
    for (size_t i = 0; i < node->n_pod_cidrs; i++) {
        const struct k8s_cidr *c = &node->pod_cidrs[i];
        if (!k8s_addr_is_ipv4(&c->addr) && c->plen <= 126) {
            local->valid6 = true;
            local->pod_cidr6 = *c;
            local->pod_mask6 = ipv6_create_mask(c->plen);
            local->gateway_ip6 = c->addr;
            local->gateway_ip6.s6_addr[15] |= 1;
            break;
        }
    }

    /* The gateway's MAC embeds its IPv4 address, or on an IPv6-only node
     * the low bits of its IPv6 one. */
    local->valid = local->valid4 || local->valid6;
    if (local->valid4) {
        struct in6_addr gw = in6_addr_mapped_ipv4(local->gateway_ip);
        local->gateway_mac = flows_gateway_mac(&gw);
    } else if (local->valid6) {
        local->gateway_mac = flows_gateway_mac(&local->gateway_ip6);
    }
}

bool
flows_local_has_ipv6(const struct flows_local *local,
                     const struct in6_addr *ip)
{
    struct in6_addr net = ipv6_addr_bitand(ip, &local->pod_mask6);
    return (local->valid6 && !k8s_addr_is_ipv4(ip)
            && ipv6_addr_equals(&net, &local->pod_cidr6.addr));
}

/* Counts one more owner computed in '*n', calling 'in''s progress callback
 * after every FLOWS_PROGRESS_OWNERS. */
static void
flows_progress(const struct flows_input *in, size_t *n)
{
    if (in->progress && !(++*n % FLOWS_PROGRESS_OWNERS)) {
        in->progress(in->progress_aux);
    }
}

void
flows_compute_all(const struct flows_input *in, struct flow_table *ft,
                  struct flow_table *ex_ft)
{
    struct flows_local local;
    flows_local_init(in, &local);

    /* Owners of objects that no longer exist must go too, so start from
     * nothing; ofctrl still sends only what really differs. */
    flow_table_remove_all(ft);
    if (ex_ft) {
        flow_table_remove_all(ex_ft);
    }

    flows_pipeline_compute(in, &local, ft);
    flows_external_compute(in, &local, ft, ex_ft);
    flows_neighbor_compute(in, ft);

    const struct k8s_object *obj;
    size_t n = 0;
    K8S_CLUSTER_FOR_EACH (obj, K8S_NODE, in->cluster) {
        flows_node_compute(in, &local, obj->name, ft, ex_ft);
        flows_progress(in, &n);
    }
    K8S_CLUSTER_FOR_EACH (obj, K8S_POD, in->cluster) {
        flows_pod_compute(in, &local, obj->namespace, obj->name, ft);
        flows_progress(in, &n);
    }
    K8S_CLUSTER_FOR_EACH (obj, K8S_SERVICE, in->cluster) {
        flows_service_compute(in, obj->namespace, obj->name, ft, ex_ft);
        flows_progress(in, &n);
    }
    K8S_CLUSTER_FOR_EACH (obj, K8S_NETWORK_POLICY, in->cluster) {
        flows_policy_compute(in, &local, obj->namespace, obj->name, ft);
        flows_progress(in, &n);
    }
}

void
flows_changes_init(struct flows_changes *c)
{
    c->all = false;
    c->k8s = NULL;
    c->pipeline = false;
    c->neighbors = false;
    k8s_key_set_init(&c->pods);
    k8s_key_set_init(&c->nodes);
}

void
flows_changes_clear(struct flows_changes *c)
{
    c->all = false;
    c->k8s = NULL;
    c->pipeline = false;
    c->neighbors = false;
    k8s_key_set_clear(&c->pods);
    k8s_key_set_clear(&c->nodes);
}

void
flows_changes_destroy(struct flows_changes *c)
{
    if (c) {
        k8s_key_set_destroy(&c->pods);
        k8s_key_set_destroy(&c->nodes);
    }
}

size_t
flows_compute_changes(const struct flows_input *in,
                      const struct flows_changes *changes,
                      struct flow_table *ft, struct flow_table *ex_ft)
{
    bool all = changes->all;

    /* The owners to recompute: nodes, pods, Services and NetworkPolicies,
     * each once. */
    struct k8s_key_set dirty;
    k8s_key_set_init(&dirty);

    /* The pods whose flows as peers of policies may change: their labels,
     * their addresses, or whether they exist.  Only their own flows in the
     * policies that have them as peers are updated (policy_update_peers()),
     * not those policies whole. */
    struct k8s_key_set peer_pods;
    k8s_key_set_init(&peer_pods);

    const struct k8s_key *k;
    K8S_KEY_SET_FOR_EACH (k, &changes->pods) {
        k8s_key_set_add(&dirty, K8S_POD, k->namespace, k->name);
        if (all) {
            continue;
        }

        /* A pod's port is in the flows of the policies that select it, and
         * its address (which its port may carry) in those that have it as
         * a peer. */
        const struct k8s_object *obj = k8s_cluster_find(in->cluster, K8S_POD,
                                                        k->namespace,
                                                        k->name);
        if (obj) {
            policy_selecting_local_pod(in, k8s_pod_cast(obj), &dirty);
        }
        k8s_key_set_add(&peer_pods, K8S_POD, k->namespace, k->name);
    }
    K8S_KEY_SET_FOR_EACH (k, &changes->nodes) {
        k8s_key_set_add(&dirty, K8S_NODE, "", k->name);
    }

    struct ovs_list no_k8s_changes = OVS_LIST_INITIALIZER(&no_k8s_changes);
    const struct k8s_change *change;
    LIST_FOR_EACH (change, list_node,
                   changes->k8s ? changes->k8s : &no_k8s_changes) {
        if (all) {
            /* Everything is recomputed anyway: finding out what each change
             * touches would only cost time (on a cold start, every pod
             * against every policy). */
            break;
        }
        switch (change->kind) {
        case K8S_NODE:
            if (!strcmp(change->name, in->node_name)) {
                /* This node's podCIDR is in every flow's input. */
                all = true;
            } else {
                k8s_key_set_add(&dirty, K8S_NODE, "", change->name);
            }
            break;
        case K8S_POD:
            k8s_key_set_add(&dirty, K8S_POD, change->namespace,
                            change->name);
            /* Policies that select it on this node, before or after the
             * change, whole; its flows as a peer alone. */
            if (change->old) {
                policy_selecting_local_pod(in, k8s_pod_cast(change->old),
                                           &dirty);
            }
            if (change->new) {
                policy_selecting_local_pod(in, k8s_pod_cast(change->new),
                                           &dirty);
            }
            k8s_key_set_add(&peer_pods, K8S_POD, change->namespace,
                            change->name);
            break;
        case K8S_NAMESPACE:
            if (change->old) {
                policy_affected_by_namespace(
                    in->cluster, k8s_namespace_cast(change->old), &dirty);
            }
            if (change->new) {
                policy_affected_by_namespace(
                    in->cluster, k8s_namespace_cast(change->new), &dirty);
            }
            policy_affected_by_np_logging(
                in->cluster,
                change->old ? k8s_namespace_cast(change->old) : NULL,
                change->new ? k8s_namespace_cast(change->new) : NULL,
                &dirty);
            break;
        case K8S_NETWORK_POLICY:
        case K8S_SERVICE:
            k8s_key_set_add(&dirty, change->kind, change->namespace,
                            change->name);
            break;
        case K8S_ENDPOINT_SLICE: {
            /* The Service the slice belonged to, and the one it belongs
             * to now (a relabelled slice moves between Services). */
            const struct k8s_object *versions[] = { change->old,
                                                    change->new };
            for (size_t i = 0; i < ARRAY_SIZE(versions); i++) {
                if (versions[i]) {
                    const struct k8s_endpoint_slice *slice
                        = k8s_endpoint_slice_cast(versions[i]);
                    if (slice->service_name[0]) {
                        k8s_key_set_add(&dirty, K8S_SERVICE,
                                        change->namespace,
                                        slice->service_name);
                    }
                }
            }
            break;
        }
        case K8S_N_KINDS:
            break;
        }
    }

    size_t n;
    if (all) {
        flows_compute_all(in, ft, ex_ft);
        n = 3 + k8s_cluster_count(in->cluster, K8S_NODE)
            + k8s_cluster_count(in->cluster, K8S_POD)
            + k8s_cluster_count(in->cluster, K8S_SERVICE)
            + k8s_cluster_count(in->cluster, K8S_NETWORK_POLICY);
    } else {
        struct flows_local local;
        flows_local_init(in, &local);
        if (changes->neighbors) {
            flows_neighbor_compute(in, ft);
        }
        if (changes->pipeline) {
            flows_pipeline_compute(in, &local, ft);
        }
        size_t n_done = 0;
        K8S_KEY_SET_FOR_EACH (k, &dirty) {
            flows_progress(in, &n_done);
            switch (k->kind) {
            case K8S_NODE:
                flows_node_compute(in, &local, k->name, ft, ex_ft);
                break;
            case K8S_POD:
                flows_pod_compute(in, &local, k->namespace, k->name, ft);
                break;
            case K8S_SERVICE:
                flows_service_compute(in, k->namespace, k->name, ft, ex_ft);
                break;
            case K8S_NETWORK_POLICY:
                flows_policy_compute(in, &local, k->namespace, k->name, ft);
                break;
            case K8S_NAMESPACE:
            case K8S_ENDPOINT_SLICE:
            case K8S_N_KINDS:
                OVS_NOT_REACHED();
            }
        }
        n = (changes->neighbors + changes->pipeline
             + k8s_key_set_count(&dirty));
        if (!k8s_key_set_is_empty(&peer_pods)) {
            n += policy_update_peers(in, &local, &peer_pods, &dirty, ft);
        }
    }
    k8s_key_set_destroy(&dirty);
    k8s_key_set_destroy(&peer_pods);
    return n;
}
