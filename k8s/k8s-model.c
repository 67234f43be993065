/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#include <config.h>

#include "k8s-model.h"

#include <netinet/in.h>
#include <string.h>

#include "hash.h"
#include "k8s/heap-bytes.h"
#include "packets.h"
#include "util.h"

/* Kinds. */

struct k8s_kind_info {
    const char *name;
    bool namespaced;
};

static const struct k8s_kind_info kind_infos[K8S_N_KINDS] = {
#define K8S_KIND(ENUM, NAME, NAMESPACED) [K8S_##ENUM] = { NAME, NAMESPACED },
    K8S_KINDS
#undef K8S_KIND
};

const char *
k8s_kind_name(enum k8s_kind kind)
{
    ovs_assert(kind < K8S_N_KINDS);
    return kind_infos[kind].name;
}

bool
k8s_kind_from_name(const char *name, enum k8s_kind *kind)
{
    for (int i = 0; i < K8S_N_KINDS; i++) {
        if (!strcmp(name, kind_infos[i].name)) {
            *kind = i;
            return true;
        }
    }
    return false;
}

bool
k8s_kind_is_namespaced(enum k8s_kind kind)
{
    ovs_assert(kind < K8S_N_KINDS);
    return kind_infos[kind].namespaced;
}

const char *
k8s_ip_family_policy_name(enum k8s_ip_family_policy policy)
{
    switch (policy) {
    case K8S_IPFP_SINGLE_STACK:
        return "SingleStack";
    case K8S_IPFP_PREFER_DUAL_STACK:
        return "PreferDualStack";
    case K8S_IPFP_REQUIRE_DUAL_STACK:
        return "RequireDualStack";
    }
    return "(unknown policy)";
}

const char *
k8s_protocol_name(enum k8s_protocol protocol)
{
    switch (protocol) {
    case K8S_PROTO_TCP:
        return "TCP";
    case K8S_PROTO_UDP:
        return "UDP";
    case K8S_PROTO_SCTP:
        return "SCTP";
    }
    return "(unknown protocol)";
}

uint8_t
k8s_protocol_ip_proto(enum k8s_protocol protocol)
{
    switch (protocol) {
    case K8S_PROTO_TCP:
        return IPPROTO_TCP;
    case K8S_PROTO_UDP:
        return IPPROTO_UDP;
    case K8S_PROTO_SCTP:
        return IPPROTO_SCTP;
    }
    OVS_NOT_REACHED();
}

/* Label selectors. */

static bool
requirement_matches(const struct k8s_requirement *req,
                    const struct smap *labels)
{
    const char *value = smap_get(labels, req->key);

    switch (req->op) {
    case K8S_SEL_IN:
        return value && sset_contains(&req->values, value);
    case K8S_SEL_NOT_IN:
        return !value || !sset_contains(&req->values, value);
    case K8S_SEL_EXISTS:
        return value != NULL;
    case K8S_SEL_DOES_NOT_EXIST:
        return value == NULL;
    }
    OVS_NOT_REACHED();
}

/* Returns true if 'labels' satisfy every label and every requirement of
 * 'selector'. */
bool
k8s_selector_matches(const struct k8s_selector *selector,
                     const struct smap *labels)
{
    const struct smap_node *node;

    SMAP_FOR_EACH (node, &selector->match_labels) {
        const char *value = smap_get(labels, node->key);
        if (!value || strcmp(value, node->value)) {
            return false;
        }
    }
    for (size_t i = 0; i < selector->n_reqs; i++) {
        if (!requirement_matches(&selector->reqs[i], labels)) {
            return false;
        }
    }
    return true;
}

bool
k8s_selector_is_empty(const struct k8s_selector *selector)
{
    return smap_is_empty(&selector->match_labels) && !selector->n_reqs;
}

/* Destroying an object, or counting its heap: the functions that follow
 * walk what an object holds and give every block to release(), which frees
 * it or adds up its size, so that what is counted is what destroying
 * frees. */
struct heap_walk {
    bool count;                 /* Count instead of freeing. */
    size_t bytes;               /* What was counted. */
};

static void
release(struct heap_walk *w, void *p)
{
    if (w->count) {
        w->bytes += heap_block_bytes(p);
    } else {
        free(p);
    }
}

static void
release_hmap_buckets(struct heap_walk *w, const struct hmap *map)
{
    if (w->count) {
        w->bytes += hmap_buckets_bytes(map);
    }
}

static void
release_smap(struct heap_walk *w, struct smap *smap)
{
    if (!w->count) {
        smap_destroy(smap);
        return;
    }
    const struct smap_node *node;
    SMAP_FOR_EACH (node, smap) {
        w->bytes += (heap_block_bytes(node) + heap_block_bytes(node->key)
                     + heap_block_bytes(node->value));
    }
    release_hmap_buckets(w, &smap->map);
}

static void
release_sset(struct heap_walk *w, struct sset *sset)
{
    if (!w->count) {
        sset_destroy(sset);
        return;
    }
    const struct sset_node *node;
    HMAP_FOR_EACH (node, hmap_node, &sset->map) {
        w->bytes += heap_block_bytes(node);
    }
    release_hmap_buckets(w, &sset->map);
}

/* Releases what 'selector' holds, but not 'selector' itself. */
static void
selector_release(struct heap_walk *w, struct k8s_selector *selector)
{
    release_smap(w, &selector->match_labels);
    for (size_t i = 0; i < selector->n_reqs; i++) {
        release(w, selector->reqs[i].key);
        release_sset(w, &selector->reqs[i].values);
    }
    release(w, selector->reqs);
}

static void
selector_release_ptr(struct heap_walk *w, struct k8s_selector *selector)
{
    if (selector) {
        selector_release(w, selector);
        release(w, selector);
    }
}

/* Checked casts. */

#define K8S_DEFINE_CAST(TYPE, KIND)                                     \
    const struct TYPE *                                                 \
    TYPE##_cast(const struct k8s_object *obj)                           \
    {                                                                   \
        ovs_assert(obj->kind == KIND);                                  \
        return CONTAINER_OF(obj, struct TYPE, obj);                     \
    }

K8S_DEFINE_CAST(k8s_node, K8S_NODE)
K8S_DEFINE_CAST(k8s_namespace, K8S_NAMESPACE)
K8S_DEFINE_CAST(k8s_pod, K8S_POD)
K8S_DEFINE_CAST(k8s_service, K8S_SERVICE)
K8S_DEFINE_CAST(k8s_endpoint_slice, K8S_ENDPOINT_SLICE)
K8S_DEFINE_CAST(k8s_network_policy, K8S_NETWORK_POLICY)

/* Destruction, and counting (see struct heap_walk).
 *
 * Every destructor copes with an object that the decoder gave up on half
 * way: pointers still NULL, counts covering only the elements that were
 * initialized. */

static void
node_release(struct heap_walk *w, struct k8s_object *obj)
{
    struct k8s_node *node = CONTAINER_OF(obj, struct k8s_node, obj);

    release(w, node->internal_ips);
    release(w, node->pod_cidrs);
}

static void
namespace_release(struct heap_walk *w, struct k8s_object *obj)
{
    struct k8s_namespace *ns = CONTAINER_OF(obj, struct k8s_namespace, obj);
    release(w, ns->np_logging_value);
}

static void
pod_release(struct heap_walk *w, struct k8s_object *obj)
{
    struct k8s_pod *pod = CONTAINER_OF(obj, struct k8s_pod, obj);

    release(w, pod->node_name);
    release(w, pod->phase);
    release(w, pod->ips);
    for (size_t i = 0; i < pod->n_ports; i++) {
        release(w, pod->ports[i].name);
    }
    release(w, pod->ports);
}

static void
service_release(struct heap_walk *w, struct k8s_object *obj)
{
    struct k8s_service *svc = CONTAINER_OF(obj, struct k8s_service, obj);

    release(w, svc->cluster_ips);
    for (size_t i = 0; i < svc->n_ports; i++) {
        release(w, svc->ports[i].name);
        release(w, svc->ports[i].target_port_name);
    }
    release(w, svc->ports);
    release(w, svc->external_ips);
    release(w, svc->lb_ingress);
    release(w, svc->lb_source_ranges);
}

static void
endpoint_slice_release(struct heap_walk *w, struct k8s_object *obj)
{
    struct k8s_endpoint_slice *slice
        = CONTAINER_OF(obj, struct k8s_endpoint_slice, obj);

    release(w, slice->service_name);
    for (size_t i = 0; i < slice->n_ports; i++) {
        release(w, slice->ports[i].name);
    }
    release(w, slice->ports);
    for (size_t i = 0; i < slice->n_endpoints; i++) {
        struct k8s_endpoint *ep = &slice->endpoints[i];

        release(w, ep->addresses);
        release(w, ep->node_name);
        release(w, ep->target_namespace);
        release(w, ep->target_name);
    }
    release(w, slice->endpoints);
}

static void
policy_rules_release(struct heap_walk *w, struct k8s_policy_rule *rules,
                     size_t n_rules)
{
    for (size_t i = 0; i < n_rules; i++) {
        struct k8s_policy_rule *rule = &rules[i];

        for (size_t j = 0; j < rule->n_peers; j++) {
            struct k8s_policy_peer *peer = &rule->peers[j];

            selector_release_ptr(w, peer->pod_selector);
            selector_release_ptr(w, peer->namespace_selector);
            if (peer->ip_block) {
                release(w, peer->ip_block->except);
                release(w, peer->ip_block);
            }
        }
        release(w, rule->peers);
        for (size_t j = 0; j < rule->n_ports; j++) {
            release(w, rule->ports[j].port_name);
        }
        release(w, rule->ports);
    }
    release(w, rules);
}

static void
network_policy_release(struct heap_walk *w, struct k8s_object *obj)
{
    struct k8s_network_policy *np
        = CONTAINER_OF(obj, struct k8s_network_policy, obj);

    selector_release(w, &np->pod_selector);
    policy_rules_release(w, np->ingress, np->n_ingress);
    policy_rules_release(w, np->egress, np->n_egress);
}

static void (*const kind_releasers[K8S_N_KINDS])(struct heap_walk *,
                                                 struct k8s_object *) = {
    [K8S_NODE] = node_release,
    [K8S_NAMESPACE] = namespace_release,
    [K8S_POD] = pod_release,
    [K8S_SERVICE] = service_release,
    [K8S_ENDPOINT_SLICE] = endpoint_slice_release,
    [K8S_NETWORK_POLICY] = network_policy_release,
};

static void
object_release(struct heap_walk *w, struct k8s_object *obj)
{
    ovs_assert(obj->kind < K8S_N_KINDS);
    kind_releasers[obj->kind](w, obj);
    release(w, obj->namespace);
    release(w, obj->name);
    release(w, obj->uid);
    release(w, obj->resource_version);
    release_smap(w, &obj->labels);
    release(w, obj);
}

void
k8s_object_destroy(struct k8s_object *obj)
{
    if (obj) {
        struct heap_walk w = { .count = false };
        object_release(&w, obj);
    }
}

size_t
k8s_object_memory(const struct k8s_object *obj)
{
    struct heap_walk w = { .count = true };
    object_release(&w, CONST_CAST(struct k8s_object *, obj));
    return w.bytes;
}

size_t
k8s_cluster_memory(const struct k8s_cluster *cluster, enum k8s_kind kind)
{
    struct heap_walk w = { .count = true };
    const struct k8s_object *obj;

    HMAP_FOR_EACH (obj, hmap_node, &cluster->objects[kind]) {
        object_release(&w, CONST_CAST(struct k8s_object *, obj));
    }
    release_hmap_buckets(&w, &cluster->objects[kind]);
    return w.bytes;
}

/* The cluster. */

static uint32_t
object_hash(const char *namespace, const char *name)
{
    return hash_string(name, hash_string(namespace, 0));
}

static uint32_t
change_hash(enum k8s_kind kind, const char *namespace, const char *name)
{
    return hash_int(kind, object_hash(namespace, name));
}

static struct k8s_object *
cluster_find__(const struct k8s_cluster *cluster, enum k8s_kind kind,
               const char *namespace, const char *name, uint32_t hash)
{
    struct k8s_object *obj;

    ovs_assert(kind < K8S_N_KINDS);
    HMAP_FOR_EACH_WITH_HASH (obj, hmap_node, hash, &cluster->objects[kind]) {
        if (!strcmp(obj->name, name) && !strcmp(obj->namespace, namespace)) {
            return obj;
        }
    }
    return NULL;
}

static struct k8s_change *
cluster_find_change(const struct k8s_cluster *cluster, enum k8s_kind kind,
                    const char *namespace, const char *name)
{
    struct k8s_change *change;

    HMAP_FOR_EACH_WITH_HASH (change, hmap_node,
                             change_hash(kind, namespace, name),
                             &cluster->pending) {
        if (change->kind == kind && !strcmp(change->name, name)
            && !strcmp(change->namespace, namespace)) {
            return change;
        }
    }
    return NULL;
}

static void
change_free(struct k8s_change *change)
{
    k8s_object_destroy(change->old);
    free(change->namespace);
    free(change->name);
    free(change);
}

static void
cluster_remove_change(struct k8s_cluster *cluster, struct k8s_change *change)
{
    ovs_list_remove(&change->list_node);
    hmap_remove(&cluster->pending, &change->hmap_node);
    change_free(change);
}

/* Records that the object of 'kind' named 'namespace'/'name' went from 'old'
 * (NULL if it did not exist) to 'new' (NULL if it no longer exists).  'old'
 * has already been taken out of the cluster and this function takes
 * ownership of it; 'new' is in the cluster. */
static void
cluster_record_change(struct k8s_cluster *cluster, enum k8s_kind kind,
                      const char *namespace, const char *name,
                      struct k8s_object *old, struct k8s_object *new)
{
    struct k8s_change *change = cluster_find_change(cluster, kind,
                                                    namespace, name);
    if (!change) {
        change = xmalloc(sizeof *change);
        change->type = (!old ? K8S_CHANGE_ADDED
                        : new ? K8S_CHANGE_MODIFIED
                        : K8S_CHANGE_DELETED);
        change->kind = kind;
        change->namespace = xstrdup(namespace);
        change->name = xstrdup(name);
        change->old = old;
        change->new = new;
        ovs_list_push_back(&cluster->changes, &change->list_node);
        hmap_insert(&cluster->pending, &change->hmap_node,
                    change_hash(kind, namespace, name));
        return;
    }

    /* Fold into the pending change.  'old' is the version that change made
     * current, an intermediate version that nobody needs any more. */
    ovs_assert(change->new == old);
    change->new = new;
    if (!change->old && !new) {
        /* Added, then deleted: nothing happened. */
        cluster_remove_change(cluster, change);
    } else {
        change->type = (!change->old ? K8S_CHANGE_ADDED
                        : new ? K8S_CHANGE_MODIFIED
                        : K8S_CHANGE_DELETED);
    }
    k8s_object_destroy(old);
}

static uint32_t
service_slices_hash(const char *namespace, const char *service)
{
    return hash_string(service, hash_string(namespace, 0x5e5));
}

/* Keeps 'cluster''s index of EndpointSlices by Service up to date as 'obj'
 * enters or leaves its objects. */
/* The pods of one namespace, for k8s_cluster_namespace_pods(). */
struct k8s_namespace_pods {
    struct hmap_node hmap_node;     /* In 'pods_by_namespace'. */
    char *namespace;
    struct ovs_list pods;           /* "struct k8s_pod"s. */
};

static struct k8s_namespace_pods *
namespace_pods_find(const struct k8s_cluster *cluster, const char *namespace)
{
    struct k8s_namespace_pods *nsp;
    HMAP_FOR_EACH_WITH_HASH (nsp, hmap_node, hash_string(namespace, 0),
                             &cluster->pods_by_namespace) {
        if (!strcmp(nsp->namespace, namespace)) {
            return nsp;
        }
    }
    return NULL;
}

static void
cluster_index_add(struct k8s_cluster *cluster, struct k8s_object *obj)
{
    if (obj->kind == K8S_POD) {
        struct k8s_pod *pod = CONTAINER_OF(obj, struct k8s_pod, obj);
        struct k8s_namespace_pods *nsp
            = namespace_pods_find(cluster, obj->namespace);
        if (!nsp) {
            nsp = xmalloc(sizeof *nsp);
            nsp->namespace = xstrdup(obj->namespace);
            ovs_list_init(&nsp->pods);
            hmap_insert(&cluster->pods_by_namespace, &nsp->hmap_node,
                        hash_string(obj->namespace, 0));
        }
        ovs_list_push_back(&nsp->pods, &pod->namespace_node);
    } else if (obj->kind == K8S_ENDPOINT_SLICE) {
        struct k8s_endpoint_slice *slice
            = CONTAINER_OF(obj, struct k8s_endpoint_slice, obj);
        hmap_insert(&cluster->slices, &slice->service_node,
                    service_slices_hash(obj->namespace, slice->service_name));
    }
}

static void
cluster_index_remove(struct k8s_cluster *cluster, struct k8s_object *obj)
{
    if (obj->kind == K8S_POD) {
        struct k8s_pod *pod = CONTAINER_OF(obj, struct k8s_pod, obj);
        ovs_list_remove(&pod->namespace_node);
        struct k8s_namespace_pods *nsp
            = namespace_pods_find(cluster, obj->namespace);
        if (nsp && ovs_list_is_empty(&nsp->pods)) {
            hmap_remove(&cluster->pods_by_namespace, &nsp->hmap_node);
            free(nsp->namespace);
            free(nsp);
        }
    } else if (obj->kind == K8S_ENDPOINT_SLICE) {
        struct k8s_endpoint_slice *slice
            = CONTAINER_OF(obj, struct k8s_endpoint_slice, obj);
        hmap_remove(&cluster->slices, &slice->service_node);
    }
}

const struct k8s_pod **
k8s_cluster_namespace_pods(const struct k8s_cluster *cluster,
                           const char *namespace, size_t *n)
{
    const struct k8s_pod **pods = NULL;
    size_t allocated = 0;
    const struct k8s_pod *pod;

    *n = 0;
    const struct k8s_namespace_pods *nsp = namespace_pods_find(cluster,
                                                               namespace);
    if (nsp) {
        LIST_FOR_EACH (pod, namespace_node, &nsp->pods) {
            if (*n >= allocated) {
                pods = x2nrealloc(pods, &allocated, sizeof *pods);
            }
            pods[(*n)++] = pod;
        }
    }
    return pods;
}

const struct k8s_endpoint_slice **
k8s_cluster_service_slices(const struct k8s_cluster *cluster,
                           const char *namespace, const char *name,
                           size_t *n)
{
    const struct k8s_endpoint_slice **slices = NULL;
    size_t allocated = 0;
    const struct k8s_endpoint_slice *slice;

    *n = 0;
    HMAP_FOR_EACH_WITH_HASH (slice, service_node,
                             service_slices_hash(namespace, name),
                             &cluster->slices) {
        if (!strcmp(slice->service_name, name)
            && !strcmp(slice->obj.namespace, namespace)) {
            if (*n >= allocated) {
                slices = x2nrealloc(slices, &allocated, sizeof *slices);
            }
            slices[(*n)++] = slice;
        }
    }
    return slices;
}

void
k8s_cluster_init(struct k8s_cluster *cluster)
{
    for (int i = 0; i < K8S_N_KINDS; i++) {
        hmap_init(&cluster->objects[i]);
    }
    ovs_list_init(&cluster->changes);
    hmap_init(&cluster->pending);
    hmap_init(&cluster->slices);
    hmap_init(&cluster->pods_by_namespace);
}

/* Frees every object and every change in 'cluster'. */
void
k8s_cluster_destroy(struct k8s_cluster *cluster)
{
    if (cluster) {
        k8s_cluster_clear_changes(cluster);
        hmap_destroy(&cluster->pending);
        for (int i = 0; i < K8S_N_KINDS; i++) {
            struct k8s_object *obj;

            HMAP_FOR_EACH_POP (obj, hmap_node, &cluster->objects[i]) {
                cluster_index_remove(cluster, obj);
                k8s_object_destroy(obj);
            }
            hmap_destroy(&cluster->objects[i]);
        }
        hmap_destroy(&cluster->slices);
        hmap_destroy(&cluster->pods_by_namespace);
    }
}

const struct k8s_object *
k8s_cluster_find_named(const struct k8s_cluster *cluster, enum k8s_kind kind,
                       const char *s)
{
    struct k8s_key key;
    const struct k8s_object *obj = NULL;
    if (k8s_key_parse(&key, kind, s)) {
        obj = k8s_cluster_find(cluster, kind, key.namespace, key.name);
    }
    k8s_key_destroy(&key);
    return obj;
}

const struct k8s_object *
k8s_cluster_find(const struct k8s_cluster *cluster, enum k8s_kind kind,
                 const char *namespace, const char *name)
{
    return cluster_find__(cluster, kind, namespace, name,
                          object_hash(namespace, name));
}

size_t
k8s_cluster_count(const struct k8s_cluster *cluster, enum k8s_kind kind)
{
    ovs_assert(kind < K8S_N_KINDS);
    return hmap_count(&cluster->objects[kind]);
}

bool
k8s_cluster_put(struct k8s_cluster *cluster, struct k8s_object *obj)
{
    struct hmap *objects = &cluster->objects[obj->kind];
    uint32_t hash = object_hash(obj->namespace, obj->name);
    struct k8s_object *old = cluster_find__(cluster, obj->kind,
                                            obj->namespace, obj->name, hash);
    if (old) {
        if (old->content_hash == obj->content_hash) {
            k8s_object_destroy(obj);
            return false;
        }
        hmap_replace(objects, &old->hmap_node, &obj->hmap_node);
        cluster_index_remove(cluster, old);
    } else {
        hmap_insert(objects, &obj->hmap_node, hash);
    }
    cluster_index_add(cluster, obj);
    cluster_record_change(cluster, obj->kind, obj->namespace, obj->name,
                          old, obj);
    return true;
}

bool
k8s_cluster_delete(struct k8s_cluster *cluster, enum k8s_kind kind,
                   const char *namespace, const char *name)
{
    struct k8s_object *obj = cluster_find__(cluster, kind, namespace, name,
                                            object_hash(namespace, name));
    if (!obj) {
        return false;
    }
    hmap_remove(&cluster->objects[kind], &obj->hmap_node);
    cluster_index_remove(cluster, obj);
    cluster_record_change(cluster, kind, obj->namespace, obj->name,
                          obj, NULL);
    return true;
}

void
k8s_cluster_replace_kind(struct k8s_cluster *cluster,
                         struct k8s_cluster *snapshot, enum k8s_kind kind,
                         struct k8s_replace_counts *counts)
{
    struct k8s_replace_counts dummy;
    struct k8s_change *change;
    struct k8s_object *obj;

    if (!counts) {
        counts = &dummy;
    }

    ovs_assert(kind < K8S_N_KINDS);

    /* The snapshot's own changes for 'kind' only say how it was built, and
     * would point at objects that are about to move: drop them. */
    LIST_FOR_EACH_SAFE (change, list_node, &snapshot->changes) {
        if (change->kind == kind) {
            cluster_remove_change(snapshot, change);
        }
    }

    /* Delete what the snapshot no longer has. */
    HMAP_FOR_EACH_SAFE (obj, hmap_node, &cluster->objects[kind]) {
        if (!cluster_find__(snapshot, kind, obj->namespace, obj->name,
                            obj->hmap_node.hash)) {
            hmap_remove(&cluster->objects[kind], &obj->hmap_node);
            cluster_index_remove(cluster, obj);
            cluster_record_change(cluster, kind, obj->namespace, obj->name,
                                  obj, NULL);
            counts->deleted++;
        }
    }

    /* Add or update the rest; unchanged objects are simply freed. */
    HMAP_FOR_EACH_POP (obj, hmap_node, &snapshot->objects[kind]) {
        cluster_index_remove(snapshot, obj);
        bool existed = cluster_find__(cluster, kind, obj->namespace,
                                      obj->name, obj->hmap_node.hash);
        if (k8s_cluster_put(cluster, obj)) {
            if (existed) {
                counts->modified++;
            } else {
                counts->added++;
            }
        }
    }
}

bool
k8s_cluster_has_changes(const struct k8s_cluster *cluster)
{
    return !ovs_list_is_empty(&cluster->changes);
}

/* Forgets every recorded change, freeing the old objects they held. */
void
k8s_cluster_clear_changes(struct k8s_cluster *cluster)
{
    struct k8s_change *change;

    LIST_FOR_EACH_POP (change, list_node, &cluster->changes) {
        change_free(change);
    }
    hmap_clear(&cluster->pending);
}

ovs_be32
k8s_node_internal_ipv4(const struct k8s_node *node)
{
    for (size_t i = 0; node && i < node->n_internal_ips; i++) {
        if (k8s_addr_is_ipv4(&node->internal_ips[i])) {
            return in6_addr_get_mapped_ipv4(&node->internal_ips[i]);
        }
    }
    return 0;
}

const struct in6_addr *
k8s_addrs_find_family(const struct in6_addr *addrs, size_t n, bool ipv4)
{
    for (size_t i = 0; i < n; i++) {
        if (k8s_addr_is_ipv4(&addrs[i]) == ipv4) {
            return &addrs[i];
        }
    }
    return NULL;
}

const struct in6_addr *
k8s_node_internal_ipv6(const struct k8s_node *node)
{
    return (node
            ? k8s_addrs_find_family(node->internal_ips, node->n_internal_ips,
                                    false)
            : NULL);
}

const struct in6_addr *
k8s_node_underlay_ip(const struct k8s_node *node)
{
    return node && node->n_internal_ips ? &node->internal_ips[0] : NULL;
}

const struct k8s_cidr *
k8s_node_pod_cidr(const struct k8s_node *node, bool ipv4)
{
    for (size_t i = 0; node && i < node->n_pod_cidrs; i++) {
        if (k8s_addr_is_ipv4(&node->pod_cidrs[i].addr) == ipv4) {
            return &node->pod_cidrs[i];
        }
    }
    return NULL;
}

void
k8s_key_set_init(struct k8s_key_set *set)
{
    hmap_init(&set->keys);
}

void
k8s_key_set_clear(struct k8s_key_set *set)
{
    struct k8s_key *key;
    HMAP_FOR_EACH_POP (key, hmap_node, &set->keys) {
        free(key->namespace);
        free(key->name);
        free(key);
    }
}

void
k8s_key_set_destroy(struct k8s_key_set *set)
{
    if (set) {
        k8s_key_set_clear(set);
        hmap_destroy(&set->keys);
    }
}

void
k8s_key_set_swap(struct k8s_key_set *a, struct k8s_key_set *b)
{
    hmap_swap(&a->keys, &b->keys);
}

static struct k8s_key *
k8s_key_set_find(const struct k8s_key_set *set, enum k8s_kind kind,
                 const char *namespace, const char *name, uint32_t hash)
{
    struct k8s_key *key;
    HMAP_FOR_EACH_WITH_HASH (key, hmap_node, hash, &set->keys) {
        if (key->kind == kind && !strcmp(key->namespace, namespace)
            && !strcmp(key->name, name)) {
            return key;
        }
    }
    return NULL;
}

bool
k8s_key_set_add(struct k8s_key_set *set, enum k8s_kind kind,
                const char *namespace, const char *name)
{
    uint32_t hash = change_hash(kind, namespace, name);
    if (k8s_key_set_find(set, kind, namespace, name, hash)) {
        return false;
    }
    struct k8s_key *key = xmalloc(sizeof *key);
    key->kind = kind;
    key->namespace = xstrdup(namespace);
    key->name = xstrdup(name);
    hmap_insert(&set->keys, &key->hmap_node, hash);
    return true;
}

bool
k8s_key_set_remove(struct k8s_key_set *set, enum k8s_kind kind,
                   const char *namespace, const char *name)
{
    struct k8s_key *key = k8s_key_set_find(set, kind, namespace, name,
                                           change_hash(kind, namespace,
                                                       name));
    if (!key) {
        return false;
    }
    hmap_remove(&set->keys, &key->hmap_node);
    free(key->namespace);
    free(key->name);
    free(key);
    return true;
}

bool
k8s_key_parse(struct k8s_key *key, enum k8s_kind kind, const char *s)
{
    key->kind = kind;
    key->namespace = NULL;
    key->name = NULL;

    const char *slash = strchr(s, '/');
    if (!k8s_kind_is_namespaced(kind)) {
        if (slash || !*s) {
            return false;
        }
        key->namespace = xstrdup("");
        key->name = xstrdup(s);
        return true;
    }
    if (!slash || slash == s || !slash[1] || strchr(slash + 1, '/')) {
        return false;
    }
    key->namespace = xmemdup0(s, slash - s);
    key->name = xstrdup(slash + 1);
    return true;
}

void
k8s_key_destroy(struct k8s_key *key)
{
    if (key) {
        free(key->namespace);
        free(key->name);
        key->namespace = key->name = NULL;
    }
}

bool
k8s_key_set_contains(const struct k8s_key_set *set, enum k8s_kind kind,
                     const char *namespace, const char *name)
{
    return k8s_key_set_find(set, kind, namespace, name,
                            change_hash(kind, namespace, name)) != NULL;
}

bool
k8s_key_set_is_empty(const struct k8s_key_set *set)
{
    return hmap_is_empty(&set->keys);
}

size_t
k8s_key_set_count(const struct k8s_key_set *set)
{
    return hmap_count(&set->keys);
}
