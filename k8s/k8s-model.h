/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#ifndef K8S_MODEL_H
#define K8S_MODEL_H 1

/* The typed cluster model.
 *
 * A "struct k8s_cluster" holds the six kinds of Kubernetes object that kovs
 * reads (Nodes, Namespaces, Pods, Services, EndpointSlices and
 * NetworkPolicies), already validated and with the defaults the API server
 * would have applied.  Every change to the cluster (an object added,
 * modified or deleted) is recorded as a "struct k8s_change", which keeps the
 * old version of the object until the consumer clears the changes; that is
 * what lets later stages recompute only what a change touches.
 *
 * Addresses are "struct in6_addr"; IPv4 addresses are IPv4-mapped
 * (::ffff:a.b.c.d), as in the OVS library (see in6_addr_mapped_ipv4() and
 * in6_addr_get_mapped_ipv4() in lib/packets.h).
 *
 * This header never exposes the JSON library: decoding lives in
 * k8s-decode.c. */

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include "openvswitch/hmap.h"
#include "openvswitch/list.h"
#include "openvswitch/types.h"
#include "smap.h"
#include "sset.h"

/* The kinds of object, in the order their changes are applied. */
#define K8S_KINDS                                                       \
    K8S_KIND(NODE, "Node", false)                                       \
    K8S_KIND(NAMESPACE, "Namespace", false)                             \
    K8S_KIND(POD, "Pod", true)                                          \
    K8S_KIND(SERVICE, "Service", true)                                  \
    K8S_KIND(ENDPOINT_SLICE, "EndpointSlice", true)                     \
    K8S_KIND(NETWORK_POLICY, "NetworkPolicy", true)

enum k8s_kind {
#define K8S_KIND(ENUM, NAME, NAMESPACED) K8S_##ENUM,
    K8S_KINDS
#undef K8S_KIND
    K8S_N_KINDS
};

/* Returns the Kubernetes name of 'kind' ("Pod"), or the kind for 'name'
 * (returns false if 'name' is not one of the six kinds). */
const char *k8s_kind_name(enum k8s_kind kind);
bool k8s_kind_from_name(const char *name, enum k8s_kind *kind);
bool k8s_kind_is_namespaced(enum k8s_kind kind);

enum k8s_protocol {
    K8S_PROTO_TCP,
    K8S_PROTO_UDP,
    K8S_PROTO_SCTP,
};
const char *k8s_protocol_name(enum k8s_protocol);
/* Returns the IP protocol number of 'protocol' (IPPROTO_TCP...). */
uint8_t k8s_protocol_ip_proto(enum k8s_protocol);

/* An address prefix: 'addr' with the host bits cleared, and 'plen' counted
 * in IPv6 bits for IPv6 prefixes and in IPv4 bits (0...32) for IPv4-mapped
 * ones. */
struct k8s_cidr {
    struct in6_addr addr;
    unsigned int plen;
};

static inline bool
k8s_addr_is_ipv4(const struct in6_addr *addr)
{
    return IN6_IS_ADDR_V4MAPPED(addr);
}

/* At most one prefix per address family, as the options that take one CIDR
 * per family give them ("10.244.0.0/16,fd00:10:244::/56", in either
 * order, as kube-proxy's do). */
struct k8s_dual_cidr {
    bool has_ipv4;
    struct k8s_cidr ipv4;
    bool has_ipv6;
    struct k8s_cidr ipv6;
};

/* Returns the prefix of 'dual' of the family IPv4 ('ipv4' true) or IPv6,
 * or NULL if it has none. */
static inline const struct k8s_cidr *
k8s_dual_cidr_get(const struct k8s_dual_cidr *dual, bool ipv4)
{
    return (ipv4
            ? (dual->has_ipv4 ? &dual->ipv4 : NULL)
            : (dual->has_ipv6 ? &dual->ipv6 : NULL));
}

/* A label selector (metav1.LabelSelector).  An empty selector (no labels,
 * no requirements) selects everything.  Where the API distinguishes an
 * absent selector from an empty one, the containing struct holds a pointer
 * that is NULL when absent. */
enum k8s_selector_op {
    K8S_SEL_IN,
    K8S_SEL_NOT_IN,
    K8S_SEL_EXISTS,
    K8S_SEL_DOES_NOT_EXIST,
};

struct k8s_requirement {
    char *key;
    enum k8s_selector_op op;
    struct sset values;          /* Empty for EXISTS and DOES_NOT_EXIST. */
};

struct k8s_selector {
    struct smap match_labels;
    struct k8s_requirement *reqs;
    size_t n_reqs;
};

bool k8s_selector_matches(const struct k8s_selector *,
                          const struct smap *labels);
bool k8s_selector_is_empty(const struct k8s_selector *);

/* The part every object has.  Each typed object below embeds it as its
 * first member, named 'obj', so a "struct k8s_object *" can be converted
 * with the k8s_<kind>_cast() functions. */
struct k8s_object {
    struct hmap_node hmap_node;  /* In k8s_cluster's 'objects[kind]'. */
    enum k8s_kind kind;
    char *namespace;             /* "" for cluster-scoped kinds. */
    char *name;
    char *uid;                   /* "" if absent. */
    char *resource_version;      /* Opaque; "" if absent. */
    struct smap labels;
    uint32_t content_hash;       /* Hash of the object's JSON: equal hashes
                                  * mean an unchanged object. */
};

/* Node (v1).  Lists that Kubernetes allows per family (spec.podCIDRs)
 * hold at most one entry of each family, in the order the object gives
 * them: the first is the node's primary family. */
struct k8s_node {
    struct k8s_object obj;
    struct in6_addr *internal_ips;  /* status.addresses of type
                                     * InternalIP, in order. */
    size_t n_internal_ips;
    struct k8s_cidr *pod_cidrs;     /* spec.podCIDRs, or spec.podCIDR: at
                                     * most one per family. */
    size_t n_pod_cidrs;
};

/* Returns the first IPv4 InternalIP of 'node' (the node's address, its
 * tunnel endpoint), or 0 if it has none or 'node' is NULL. */
ovs_be32 k8s_node_internal_ipv4(const struct k8s_node *node);

/* The annotation of a Namespace that asks for the NetworkPolicy audit log
 * of its pods (see flows/policy.h): "true" or "false". */
#define K8S_NP_LOGGING_ANNOTATION "kovs.io/enable-np-logging"

/* Returns the first IPv6 InternalIP of 'node', or NULL if it has none or
 * 'node' is NULL. */
const struct in6_addr *k8s_node_internal_ipv6(const struct k8s_node *node);

/* Returns the underlay address of 'node', its tunnel endpoint: its first
 * InternalIP, of either family (IPv4 mapped for IPv4), or NULL if it has
 * none or 'node' is NULL. */
const struct in6_addr *k8s_node_underlay_ip(const struct k8s_node *node);

/* Returns the podCIDR of 'node' of the family IPv4 ('ipv4' true) or IPv6,
 * or NULL if it has none or 'node' is NULL. */
const struct k8s_cidr *k8s_node_pod_cidr(const struct k8s_node *node,
                                         bool ipv4);

/* Returns the first address of the family IPv4 ('ipv4' true) or IPv6
 * among the 'n' addresses 'addrs', or NULL if none is of that family. */
const struct in6_addr *k8s_addrs_find_family(const struct in6_addr *addrs,
                                             size_t n, bool ipv4);

/* Namespace (v1).  'obj.labels' always has kubernetes.io/metadata.name. */
struct k8s_namespace {
    struct k8s_object obj;
    bool np_logging;                /* K8S_NP_LOGGING_ANNOTATION is
                                     * "true". */
    char *np_logging_value;         /* The annotation's value if it is
                                     * neither "true" nor "false" (logging
                                     * stays off), otherwise NULL. */
};

struct k8s_container_port {
    char *name;                     /* "" if unnamed. */
    enum k8s_protocol protocol;     /* Default TCP. */
    uint16_t port;                  /* containerPort, 1...65535. */
};

/* Pod (v1). */
struct k8s_pod {
    struct k8s_object obj;
    struct ovs_list namespace_node;     /* In its namespace's list in
                                         * k8s_cluster's
                                         * 'pods_by_namespace'. */
    char *node_name;                /* spec.nodeName, "" if unscheduled. */
    bool host_network;              /* spec.hostNetwork. */
    char *phase;                    /* status.phase, "" if absent. */
    bool terminating;               /* metadata.deletionTimestamp set. */
    struct in6_addr *ips;           /* status.podIPs, or status.podIP: at
                                     * most one per family. */
    size_t n_ips;
    struct k8s_container_port *ports;   /* From every container. */
    size_t n_ports;
};

enum k8s_service_type {
    K8S_SVC_CLUSTER_IP,
    K8S_SVC_NODE_PORT,
    K8S_SVC_LOAD_BALANCER,
    K8S_SVC_EXTERNAL_NAME,
};

enum k8s_traffic_policy {
    K8S_POLICY_CLUSTER,
    K8S_POLICY_LOCAL,
};

struct k8s_service_port {
    char *name;                     /* "" if unnamed. */
    enum k8s_protocol protocol;     /* Default TCP. */
    uint16_t port;
    uint16_t target_port;           /* 0 if 'target_port_name' is used. */
    char *target_port_name;         /* NULL if numeric.  Defaults to
                                     * 'port'. */
    uint16_t node_port;             /* 0 if none. */
};

/* Service spec.ipFamilyPolicy. */
enum k8s_ip_family_policy {
    K8S_IPFP_SINGLE_STACK,          /* The default. */
    K8S_IPFP_PREFER_DUAL_STACK,
    K8S_IPFP_REQUIRE_DUAL_STACK,
};
const char *k8s_ip_family_policy_name(enum k8s_ip_family_policy);

struct k8s_lb_ingress {
    struct in6_addr ip;
    bool proxy_mode;                /* ipMode: Proxy. */
};

/* Service (v1). */
struct k8s_service {
    struct k8s_object obj;
    enum k8s_service_type type;     /* Default ClusterIP. */
    bool headless;                  /* spec.clusterIP "None". */
    struct in6_addr *cluster_ips;   /* spec.clusterIPs or spec.clusterIP;
                                     * empty if headless.  With
                                     * spec.ipFamilies, in its order. */
    size_t n_cluster_ips;
    bool ip_families_ipv4[2];       /* spec.ipFamilies: true for IPv4,
                                     * false for IPv6, each family at most
                                     * once; defaults to the families of
                                     * 'cluster_ips'. */
    size_t n_ip_families;
    enum k8s_ip_family_policy ip_family_policy;     /* spec.ipFamilyPolicy,
                                                     * default
                                                     * SingleStack. */
    struct k8s_service_port *ports;
    size_t n_ports;
    bool affinity_client_ip;        /* sessionAffinity: ClientIP. */
    uint32_t affinity_timeout;      /* Seconds, default 10800. */
    struct in6_addr *external_ips;  /* spec.externalIPs. */
    size_t n_external_ips;
    struct k8s_lb_ingress *lb_ingress;  /* status.loadBalancer.ingress[]
                                         * entries that have an 'ip'. */
    size_t n_lb_ingress;
    struct k8s_cidr *lb_source_ranges;  /* spec.loadBalancerSourceRanges. */
    size_t n_lb_source_ranges;
    enum k8s_traffic_policy external_traffic_policy;   /* Default Cluster. */
    enum k8s_traffic_policy internal_traffic_policy;   /* Default Cluster. */
    uint16_t health_check_node_port;    /* 0 if none. */
};

struct k8s_endpoint_port {
    char *name;                     /* "" if unnamed. */
    enum k8s_protocol protocol;     /* Default TCP. */
    uint16_t port;                  /* 0 if absent ("all ports"). */
};

struct k8s_endpoint {
    struct in6_addr *addresses;
    size_t n_addresses;
    bool ready;                     /* Resolved as kube-proxy reads them: */
    bool serving;                   /* ready nil -> true, serving nil ->  */
    bool terminating;               /* true, terminating nil -> false.    */
    char *node_name;                /* "" if absent. */
    char *target_namespace;         /* targetRef, "" if absent. */
    char *target_name;
};

/* EndpointSlice (discovery.k8s.io/v1).  Slices whose addressType is FQDN
 * are kept with no endpoints. */
struct k8s_endpoint_slice {
    struct k8s_object obj;
    struct hmap_node service_node;  /* In k8s_cluster's 'slices', by hash
                                     * of (namespace, service_name). */
    char *service_name;             /* kubernetes.io/service-name label,
                                     * "" if absent. */
    bool ipv6;                      /* addressType IPv6. */
    struct k8s_endpoint_port *ports;
    size_t n_ports;
    struct k8s_endpoint *endpoints;
    size_t n_endpoints;

    /* The endpoints.kubernetes.io/last-change-trigger-time annotation: when
     * the change that this version of the slice reflects happened, in
     * milliseconds since the epoch.  0 if absent, -1 if it is not an
     * RFC 3339 time. */
    long long int trigger_time_msec;
};

struct k8s_ip_block {
    struct k8s_cidr cidr;           /* Host bits masked off. */
    struct k8s_cidr *except;
    size_t n_except;
};

/* One peer of a rule: either selectors (at least one of the two non-NULL)
 * or an ipBlock. */
struct k8s_policy_peer {
    struct k8s_selector *pod_selector;          /* NULL if absent. */
    struct k8s_selector *namespace_selector;    /* NULL if absent. */
    struct k8s_ip_block *ip_block;              /* NULL if absent. */
};

struct k8s_policy_port {
    enum k8s_protocol protocol;     /* Default TCP. */
    uint16_t port;                  /* 0 if absent (all ports) or named. */
    char *port_name;                /* NULL unless a named port. */
    uint16_t end_port;              /* 0 if absent; else >= 'port'. */
};

struct k8s_policy_rule {
    struct k8s_policy_peer *peers;  /* Empty means every peer. */
    size_t n_peers;
    struct k8s_policy_port *ports;  /* Empty means every port. */
    size_t n_ports;
};

/* NetworkPolicy (networking.k8s.io/v1), with policyTypes defaulted. */
struct k8s_network_policy {
    struct k8s_object obj;
    struct k8s_selector pod_selector;
    bool ingress_isolation;         /* "Ingress" in policyTypes. */
    bool egress_isolation;          /* "Egress" in policyTypes. */
    struct k8s_policy_rule *ingress;
    size_t n_ingress;
    struct k8s_policy_rule *egress;
    size_t n_egress;
};

/* Checked conversions from the common part to the typed object.  Each
 * asserts the kind. */
const struct k8s_node *k8s_node_cast(const struct k8s_object *);
const struct k8s_namespace *k8s_namespace_cast(const struct k8s_object *);
const struct k8s_pod *k8s_pod_cast(const struct k8s_object *);
const struct k8s_service *k8s_service_cast(const struct k8s_object *);
const struct k8s_endpoint_slice *k8s_endpoint_slice_cast(
    const struct k8s_object *);
const struct k8s_network_policy *k8s_network_policy_cast(
    const struct k8s_object *);

/* Frees 'obj' (of any kind).  Accepts NULL. */
void k8s_object_destroy(struct k8s_object *obj);

/* Returns the heap bytes that 'obj' holds: what k8s_object_destroy() would
 * free, each block counted as glibc's allocator takes it (its usable size
 * and its size word). */
size_t k8s_object_memory(const struct k8s_object *obj);

/* A change to the cluster, kept until k8s_cluster_clear_changes().
 *
 * There is at most one pending change per object: later changes to the same
 * object are folded into it, so that it always goes from the object as it
 * was at the last k8s_cluster_clear_changes() ('old', NULL if it did not
 * exist) to the object now in the cluster ('new', NULL if it no longer
 * exists).  An object added and then deleted leaves no change; one deleted
 * and then added again is MODIFIED. */
enum k8s_change_type {
    K8S_CHANGE_ADDED,
    K8S_CHANGE_MODIFIED,
    K8S_CHANGE_DELETED,
};

struct k8s_change {
    struct ovs_list list_node;      /* In k8s_cluster's 'changes'. */
    struct hmap_node hmap_node;     /* In k8s_cluster's 'pending'. */
    enum k8s_change_type type;
    enum k8s_kind kind;
    char *namespace;
    char *name;
    struct k8s_object *old;         /* Owned; NULL for ADDED. */
    struct k8s_object *new;         /* In the cluster; NULL for DELETED. */
};

struct k8s_cluster {
    struct hmap objects[K8S_N_KINDS];  /* "struct k8s_object"s by
                                        * hash of (namespace, name). */
    struct ovs_list changes;            /* "struct k8s_change"s. */
    struct hmap pending;                /* The same "struct k8s_change"s by
                                         * hash of (kind, namespace, name). */
    struct hmap slices;                 /* EndpointSlices by the Service they
                                         * belong to (see
                                         * k8s_cluster_service_slices()). */
    struct hmap pods_by_namespace;      /* One list of pods per namespace
                                         * (struct k8s_namespace_pods). */
};

void k8s_cluster_init(struct k8s_cluster *);
void k8s_cluster_destroy(struct k8s_cluster *);

/* An object's identity: its kind, namespace ("" for cluster-scoped kinds)
 * and name.  Change lists and owner lookups carry keys rather than
 * "namespace/name" strings to be split again. */
struct k8s_key {
    struct hmap_node hmap_node;     /* In a struct k8s_key_set. */
    enum k8s_kind kind;
    char *namespace;
    char *name;
};

/* A set of keys, each once. */
struct k8s_key_set {
    struct hmap keys;               /* Contains struct k8s_key. */
};

void k8s_key_set_init(struct k8s_key_set *);
void k8s_key_set_destroy(struct k8s_key_set *);
void k8s_key_set_clear(struct k8s_key_set *);
void k8s_key_set_swap(struct k8s_key_set *, struct k8s_key_set *);
/* Adds the key (copying the strings) unless it is there; returns true if
 * it was added. */
bool k8s_key_set_add(struct k8s_key_set *, enum k8s_kind,
                     const char *namespace, const char *name);
/* Removes the key if it is there; returns true if it was. */
bool k8s_key_set_remove(struct k8s_key_set *, enum k8s_kind,
                        const char *namespace, const char *name);
/* Parses 's', an object's name as people and OVSDB write it ("namespace/name"
 * for a namespaced kind, "name" for a cluster-scoped one), into 'key' for an
 * object of kind 'kind'.  Returns false, with 'key' empty, if 's' is not of
 * that form (an empty part, a '/' too many or missing).  The caller frees
 * the key with k8s_key_destroy(). */
bool k8s_key_parse(struct k8s_key *key, enum k8s_kind kind, const char *s);
void k8s_key_destroy(struct k8s_key *);

bool k8s_key_set_contains(const struct k8s_key_set *, enum k8s_kind,
                          const char *namespace, const char *name);
bool k8s_key_set_is_empty(const struct k8s_key_set *);
size_t k8s_key_set_count(const struct k8s_key_set *);

#define K8S_KEY_SET_FOR_EACH(KEY, SET) \
    HMAP_FOR_EACH (KEY, hmap_node, &(SET)->keys)

/* Looks up an object by kind, namespace ("" for cluster-scoped kinds) and
 * name.  Returns NULL if it is not in the cluster. */
const struct k8s_object *k8s_cluster_find(const struct k8s_cluster *,
                                          enum k8s_kind,
                                          const char *namespace,
                                          const char *name);
/* Looks up the object of kind 'kind' named 's' as k8s_key_parse() reads
 * it.  Returns NULL if 's' is malformed or the object is not there. */
const struct k8s_object *k8s_cluster_find_named(const struct k8s_cluster *,
                                                enum k8s_kind,
                                                const char *s);
size_t k8s_cluster_count(const struct k8s_cluster *, enum k8s_kind);

/* Returns the heap bytes that the objects of kind 'kind' hold (see
 * k8s_object_memory()), with the table that holds them, but not the
 * cluster's indexes and change records. */
size_t k8s_cluster_memory(const struct k8s_cluster *, enum k8s_kind);

/* Returns the pods of namespace 'namespace' in a new array that the caller
 * frees, and their number in '*n'. */
const struct k8s_pod **k8s_cluster_namespace_pods(const struct k8s_cluster *,
                                                  const char *namespace,
                                                  size_t *n);

/* Returns the EndpointSlices of the Service 'namespace'/'name' (those
 * labelled kubernetes.io/service-name=<name> in its namespace) in a new
 * array that the caller frees, and their number in '*n'. */
const struct k8s_endpoint_slice **k8s_cluster_service_slices(
    const struct k8s_cluster *, const char *namespace, const char *name,
    size_t *n);

/* Iterates over every object of kind KIND in CLUSTER. */
#define K8S_CLUSTER_FOR_EACH(OBJ, KIND, CLUSTER) \
    HMAP_FOR_EACH (OBJ, hmap_node, &(CLUSTER)->objects[KIND])

/* Adds or replaces the object with 'obj''s kind, namespace and name, taking
 * ownership of 'obj'.  Records a change unless an object with the same
 * content hash is already there (then 'obj' is simply freed).  Returns true
 * if the cluster changed. */
bool k8s_cluster_put(struct k8s_cluster *, struct k8s_object *obj);

/* Removes the object, recording a change.  Returns true if it existed. */
bool k8s_cluster_delete(struct k8s_cluster *, enum k8s_kind,
                        const char *namespace, const char *name);

/* How many objects k8s_cluster_replace_kind() added, modified and
 * deleted. */
struct k8s_replace_counts {
    size_t added;
    size_t modified;
    size_t deleted;
};

/* Makes 'cluster' hold exactly the objects of 'kind' in 'snapshot' (a
 * cluster holding a fresh full list), recording only real differences:
 * unchanged objects produce no change.  Objects are moved out of
 * 'snapshot', which is left empty for that kind.  Adds the number of
 * objects added, modified and deleted to '*counts' if it is nonnull. */
void k8s_cluster_replace_kind(struct k8s_cluster *cluster,
                              struct k8s_cluster *snapshot,
                              enum k8s_kind kind,
                              struct k8s_replace_counts *counts);

bool k8s_cluster_has_changes(const struct k8s_cluster *);
void k8s_cluster_clear_changes(struct k8s_cluster *);

/* Iterates over the recorded changes, oldest first. */
#define K8S_CHANGE_FOR_EACH(CHANGE, CLUSTER) \
    LIST_FOR_EACH (CHANGE, list_node, &(CLUSTER)->changes)

#endif /* k8s/k8s-model.h */
