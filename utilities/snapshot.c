/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#include <config.h>

#include "utilities/snapshot.h"

#include <string.h>
#include "flow.h"
#include "flows/flow-table.h"
#include "flows/flows.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/match.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofpbuf.h"
#include "k8s/k8s-model.h"
#include "k8s/k8s-state.h"
#include "openvswitch/shash.h"
#include "packets.h"
#include "svec.h"
#include "util.h"

void
snapshot_add_port(struct shash *ports, const char *key, int ofport,
                  const struct eth_addr *mac)
{
    struct flows_port *p = xzalloc(sizeof *p);
    p->ofport = u16_to_ofp(ofport);
    if (mac) {
        p->mac = *mac;
    }
    if (!shash_add_once(ports, key, p)) {
        ovs_fatal(0, "port %s is listed twice", key);
    }
}

void
snapshot_pod_ports(const struct k8s_cluster *cluster, const char *node_name,
                   struct shash *pods)
{
    struct svec keys = SVEC_EMPTY_INITIALIZER;
    const struct k8s_object *obj;
    K8S_CLUSTER_FOR_EACH (obj, K8S_POD, cluster) {
        const struct k8s_pod *pod = k8s_pod_cast(obj);
        if (!pod->host_network && !strcmp(pod->node_name, node_name)) {
            svec_add_nocopy(&keys, xasprintf("%s/%s", obj->namespace,
                                             obj->name));
        }
    }
    /* Sorted, so that the same snapshot always gets the same numbers. */
    svec_sort(&keys);

    for (size_t i = 0; i < keys.n; i++) {
        const char *key = keys.names[i];
        const struct k8s_pod *pod = k8s_pod_cast(
            k8s_cluster_find_named(cluster, K8S_POD, key));

        uint32_t h = ntohl(flows_pod_object_ipv4(pod));
        struct eth_addr mac = ETH_ADDR_C(0a, 58, 00, 00, 00, 00);
        mac.ea[2] = h >> 24;
        mac.ea[3] = h >> 16;
        mac.ea[4] = h >> 8;
        mac.ea[5] = h;
        snapshot_add_port(pods, key, SNAPSHOT_FIRST_POD_OFPORT + i, &mac);
    }
    svec_destroy(&keys);
}

void
snapshot_tunnel_ports(const struct k8s_cluster *cluster,
                      const char *node_name, struct shash *tunnels)
{
    struct svec names = SVEC_EMPTY_INITIALIZER;
    const struct k8s_object *obj;
    K8S_CLUSTER_FOR_EACH (obj, K8S_NODE, cluster) {
        if (strcmp(obj->name, node_name)) {
            svec_add(&names, obj->name);
        }
    }
    svec_sort(&names);
    for (size_t i = 0; i < names.n; i++) {
        snapshot_add_port(tunnels, names.names[i],
                          SNAPSHOT_FIRST_TUNNEL_OFPORT + i, NULL);
    }
    svec_destroy(&names);
}

void
snapshot_flow_tunnel_ports(const struct k8s_cluster *cluster,
                           const char *node_name, int ofport,
                           struct shash *tunnels)
{
    const struct k8s_object *obj;
    K8S_CLUSTER_FOR_EACH (obj, K8S_NODE, cluster) {
        if (strcmp(obj->name, node_name)
            && k8s_node_underlay_ip(k8s_node_cast(obj))) {
            snapshot_add_port(tunnels, obj->name, ofport, NULL);
        }
    }
}

void
snapshot_format_flows(const struct flow_table *ft, const char *prefix,
                      struct svec *lines)
{
    struct ofpbuf ofpacts;
    ofpbuf_init(&ofpacts, 0);

    const struct desired_flow *d;
    FLOW_TABLE_FOR_EACH (d, ft) {
        uint32_t hash = d->key_hash;
        if (flow_table_lookup(ft, d->table_id, d->priority, &d->match, hash)
            != d) {
            continue;           /* Another owner's entry stands for it. */
        }
        uint64_t cookie;
        ovs_assert(flow_table_get_actions(ft, d->table_id, d->priority,
                                          &d->match, hash, &ofpacts,
                                          &cookie));

        struct ds s = DS_EMPTY_INITIALIZER;
        ds_put_format(&s, "%scookie=%#"PRIx64", table=%d, priority=%d",
                      prefix, cookie, d->table_id, d->priority);
        struct match m;
        minimatch_expand(&d->match, &m);
        size_t before = s.length;
        ds_put_char(&s, ',');
        match_format(&m, NULL, &s, OFP_DEFAULT_PRIORITY);
        if (s.length == before + 1) {
            ds_truncate(&s, before);
        }
        ds_put_cstr(&s, " actions=");
        struct ofpact_format_params fp = { .s = &s };
        ofpacts_format(ofpacts.data, ofpacts.size, &fp);
        svec_add_nocopy(lines, ds_steal_cstr(&s));
    }
    ofpbuf_uninit(&ofpacts);
}

void
snapshot_format_groups(const struct flow_table *ft, const char *prefix,
                       struct svec *lines)
{
    const struct desired_group *g;
    FLOW_TABLE_FOR_EACH_GROUP (g, ft) {
        struct ds s = DS_EMPTY_INITIALIZER;
        ds_put_cstr(&s, prefix);
        flow_group_format(g, &s);
        svec_add_nocopy(lines, ds_steal_cstr(&s));
    }
}

size_t
snapshot_load(const char *path, struct k8s_cluster *cluster, size_t *sizep)
{
    struct svec warnings = SVEC_EMPTY_INITIALIZER;
    char *error;

    if (k8s_state_file_load(path, cluster, &warnings, sizep, &error)) {
        ovs_fatal(0, "%s", error);
    }
    k8s_cluster_clear_changes(cluster);
    for (size_t i = 0; i < warnings.n; i++) {
        fprintf(stderr, "%s: skipped %s\n", path, warnings.names[i]);
    }

    size_t n = warnings.n;
    svec_destroy(&warnings);
    return n;
}
