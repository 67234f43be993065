/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

/* Unit tests of the k8s/ module: decoding, the model, selectors, change
 * tracking and the state file.
 *
 * Usage: test-k8s NAME     runs the test case NAME
 *        test-k8s --list   lists the test cases
 *        test-k8s --all    runs every test case
 *
 * A failing case prints what it expected and what it got, and exits 1. */

#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "k8s/k8s-decode.h"
#include "k8s/k8s-model.h"
#include "k8s/k8s-state.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "svec.h"
#include "timeval.h"
#include "util.h"
#include "tests/fatal-check.h"

/* Checks. */

#define CHECK_IP(ADDR, EXPECTED)                                        \
    check_ip(__FILE__, __LINE__, #ADDR, (ADDR), (EXPECTED))
#define CHECK_CIDR(CIDR, EXPECTED)                                      \
    check_cidr(__FILE__, __LINE__, #CIDR, (CIDR), (EXPECTED))

static const char *
addr_to_string(const struct in6_addr *addr, char buf[INET6_ADDRSTRLEN])
{
    if (k8s_addr_is_ipv4(addr)) {
        return inet_ntop(AF_INET, &addr->s6_addr[12], buf, INET6_ADDRSTRLEN);
    }
    return inet_ntop(AF_INET6, addr, buf, INET6_ADDRSTRLEN);
}

static void
check_ip(const char *file, int line, const char *what,
         const struct in6_addr addr, const char *expected)
{
    char buf[INET6_ADDRSTRLEN];

    check_str(file, line, what, addr_to_string(&addr, buf), expected);
}

static void
check_cidr(const char *file, int line, const char *what,
           const struct k8s_cidr cidr, const char *expected)
{
    char buf[INET6_ADDRSTRLEN];
    char *s = xasprintf("%s/%u", addr_to_string(&cidr.addr, buf), cidr.plen);

    check_str(file, line, what, s, expected);
    free(s);
}

/* Fixtures.
 *
 * JSON fixtures are written with single quotes, which fixture() turns into
 * double quotes, so that they read as JSON. */

static char *
fixture(const char *text)
{
    char *json = xstrdup(text);

    for (char *p = json; *p; p++) {
        if (*p == '\'') {
            *p = '"';
        }
    }
    return json;
}

/* Decodes the object in 'text', failing the test if it does not decode. */
static struct k8s_object *
decode_ok_at(const char *file, int line, const char *text)
{
    char *json = fixture(text);
    char *error;
    struct k8s_object *obj = k8s_decode_object(json, strlen(json), &error);

    if (!obj) {
        fail_at(file, line, "expected the object to decode, got: %s\n"
                "  object: %s", error, json);
    }
    free(json);
    return obj;
}
#define DECODE_OK(TEXT) decode_ok_at(__FILE__, __LINE__, TEXT)

/* Checks that decoding 'text' fails with a message containing 'expected'. */
static void
decode_fails_at(const char *file, int line, const char *text,
                const char *expected)
{
    char *json = fixture(text);
    char *error;
    struct k8s_object *obj = k8s_decode_object(json, strlen(json), &error);

    if (obj) {
        fail_at(file, line, "expected an error containing: %s\n"
                "  but the object decoded: %s", expected, json);
    } else if (!strstr(error, expected)) {
        fail_at(file, line, "expected an error containing: %s\n"
                "  got: %s\n  object: %s", expected, error, json);
    }
    free(error);
    free(json);
}

struct bad_case {
    const char *json;
    const char *error;          /* Expected substring of the message. */
};

static void
check_bad_cases_at(const char *file, int line,
                   const struct bad_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        decode_fails_at(file, line, cases[i].json, cases[i].error);
    }
}
#define CHECK_BAD_CASES(CASES) \
    check_bad_cases_at(__FILE__, __LINE__, CASES, ARRAY_SIZE(CASES))

/* Fills 'labels' from "key=value,key=value". */
static void
labels_from_string(struct smap *labels, const char *s)
{
    char *copy = xstrdup(s);
    char *save_ptr = NULL;

    smap_init(labels);
    for (char *kv = strtok_r(copy, ",", &save_ptr); kv;
         kv = strtok_r(NULL, ",", &save_ptr)) {
        char *eq = strchr(kv, '=');

        ovs_assert(eq);
        *eq = '\0';
        smap_add(labels, kv, eq + 1);
    }
    free(copy);
}

/* Returns the recorded changes of 'cluster' as a string, one
 * "TYPE Kind namespace/name" per change, separated by "; ". */
static char *
changes_to_string(const struct k8s_cluster *cluster)
{
    static const char *const type_names[] = {
        [K8S_CHANGE_ADDED] = "ADDED",
        [K8S_CHANGE_MODIFIED] = "MODIFIED",
        [K8S_CHANGE_DELETED] = "DELETED",
    };
    struct ds s = DS_EMPTY_INITIALIZER;
    const struct k8s_change *change;

    K8S_CHANGE_FOR_EACH (change, cluster) {
        ds_put_format(&s, "%s%s %s %s%s%s", s.length ? "; " : "",
                      type_names[change->type], k8s_kind_name(change->kind),
                      change->namespace, change->namespace[0] ? "/" : "",
                      change->name);
    }
    return ds_steal_cstr(&s);
}

/* Returns 'changes', a string from changes_to_string(), with the changes
 * sorted, for comparing sets of changes whose order is not specified. */
static char *
sort_changes(char *changes)
{
    struct svec v = SVEC_EMPTY_INITIALIZER;
    char *save_ptr = NULL;

    for (char *c = strtok_r(changes, ";", &save_ptr); c;
         c = strtok_r(NULL, ";", &save_ptr)) {
        svec_add(&v, c + strspn(c, " "));
    }
    svec_sort(&v);
    free(changes);
    changes = svec_join(&v, "; ", "");
    svec_destroy(&v);
    return changes;
}

/* Checks that the changes recorded in CLUSTER are EXPECTED, in order. */
#define CHECK_CHANGES(CLUSTER, EXPECTED)                                \
    do {                                                                \
        char *changes_ = changes_to_string(CLUSTER);                    \
        check_str(__FILE__, __LINE__, "changes", changes_, EXPECTED);   \
        free(changes_);                                                 \
    } while (0)

/* Checks that the changes recorded in CLUSTER are EXPECTED, in any order
 * (EXPECTED must be sorted). */
#define CHECK_CHANGE_SET(CLUSTER, EXPECTED)                             \
    do {                                                                \
        char *changes_ = sort_changes(changes_to_string(CLUSTER));      \
        check_str(__FILE__, __LINE__, "changes (sorted)", changes_,     \
                  EXPECTED);                                            \
        free(changes_);                                                 \
    } while (0)

static const struct k8s_change *
first_change(const struct k8s_cluster *cluster)
{
    const struct k8s_change *change;

    K8S_CHANGE_FOR_EACH (change, cluster) {
        return change;
    }
    return NULL;
}

/* Returns a Pod "default/NAME" scheduled on NODE, with one IP. */
static struct k8s_object *
make_pod(const char *name, const char *node)
{
    char *text = xasprintf(
        "{'kind': 'Pod', 'metadata': {'name': '%s', 'namespace': 'default'},"
        " 'spec': {'nodeName': '%s'},"
        " 'status': {'podIP': '10.244.1.5'}}", name, node);
    struct k8s_object *obj = DECODE_OK(text);

    free(text);
    return obj;
}

static const char *
pod_node(const struct k8s_object *obj)
{
    return obj ? k8s_pod_cast(obj)->node_name : NULL;
}

/* Kinds and names. */

static void
test_kinds_and_protocols(void)
{
    enum k8s_kind kind;

    CHECK_STR(k8s_kind_name(K8S_NODE), "Node");
    CHECK_STR(k8s_kind_name(K8S_ENDPOINT_SLICE), "EndpointSlice");
    CHECK_STR(k8s_kind_name(K8S_NETWORK_POLICY), "NetworkPolicy");
    CHECK(k8s_kind_from_name("Service", &kind));
    CHECK_INT(kind, K8S_SERVICE);
    CHECK(k8s_kind_from_name("Namespace", &kind));
    CHECK_INT(kind, K8S_NAMESPACE);
    CHECK(!k8s_kind_from_name("Deployment", &kind));
    CHECK(!k8s_kind_from_name("pod", &kind));
    CHECK(!k8s_kind_is_namespaced(K8S_NODE));
    CHECK(!k8s_kind_is_namespaced(K8S_NAMESPACE));
    CHECK(k8s_kind_is_namespaced(K8S_POD));
    CHECK(k8s_kind_is_namespaced(K8S_NETWORK_POLICY));
    CHECK_STR(k8s_protocol_name(K8S_PROTO_TCP), "TCP");
    CHECK_STR(k8s_protocol_name(K8S_PROTO_UDP), "UDP");
    CHECK_STR(k8s_protocol_name(K8S_PROTO_SCTP), "SCTP");
}

/* Node. */

static void
test_node_all_fields(void)
{
    struct k8s_object *obj = DECODE_OK(
        "{'kind': 'Node', 'apiVersion': 'v1',"
        " 'metadata': {'name': 'node-1', 'uid': 'u-1',"
        "              'resourceVersion': '42',"
        "              'labels': {'kubernetes.io/hostname': 'node-1'},"
        "              'annotations': {'unused': 'yes'}},"
        " 'spec': {'podCIDR': '10.244.1.0/24',"
        "          'podCIDRs': ['10.244.1.0/24', 'fd00:10:244:1::/64']},"
        " 'status': {'addresses': ["
        "     {'type': 'Hostname', 'address': 'node-1'},"
        "     {'type': 'InternalIP', 'address': '192.168.1.10'},"
        "     {'type': 'ExternalIP', 'address': '203.0.113.10'},"
        "     {'type': 'InternalIP', 'address': 'fd00::10'}]}}");
    const struct k8s_node *node = k8s_node_cast(obj);

    CHECK_INT(obj->kind, K8S_NODE);
    CHECK_STR(obj->name, "node-1");
    CHECK_STR(obj->namespace, "");
    CHECK_STR(obj->uid, "u-1");
    CHECK_STR(obj->resource_version, "42");
    CHECK_INT(smap_count(&obj->labels), 1);
    CHECK_STR(smap_get(&obj->labels, "kubernetes.io/hostname"), "node-1");
    CHECK_INT(node->n_internal_ips, 2);
    CHECK_IP(node->internal_ips[0], "192.168.1.10");
    CHECK_IP(node->internal_ips[1], "fd00::10");
    CHECK_INT(node->n_pod_cidrs, 2);
    CHECK_CIDR(node->pod_cidrs[0], "10.244.1.0/24");
    CHECK(k8s_addr_is_ipv4(&node->pod_cidrs[0].addr));
    CHECK_CIDR(node->pod_cidrs[1], "fd00:10:244:1::/64");
    CHECK(!k8s_addr_is_ipv4(&node->pod_cidrs[1].addr));
    k8s_object_destroy(obj);
}

static void
test_node_defaults(void)
{
    /* Only the older, singular spec.podCIDR. */
    struct k8s_object *obj = DECODE_OK(
        "{'kind': 'Node', 'metadata': {'name': 'node-2'},"
        " 'spec': {'podCIDR': '10.244.2.0/24', 'podCIDRs': []}}");
    const struct k8s_node *node = k8s_node_cast(obj);

    CHECK_STR(obj->uid, "");
    CHECK_STR(obj->resource_version, "");
    CHECK_INT(smap_count(&obj->labels), 0);
    CHECK_INT(node->n_pod_cidrs, 1);
    CHECK_CIDR(node->pod_cidrs[0], "10.244.2.0/24");
    CHECK_INT(node->n_internal_ips, 0);
    k8s_object_destroy(obj);

    /* Nothing at all, and nulls where objects could be. */
    obj = DECODE_OK("{'kind': 'Node', 'metadata': {'name': 'node-3',"
                    " 'namespace': 'ignored', 'labels': null},"
                    " 'spec': null, 'status': {'addresses': null}}");
    node = k8s_node_cast(obj);
    CHECK_STR(obj->namespace, "");
    CHECK_INT(node->n_pod_cidrs, 0);
    CHECK_INT(node->n_internal_ips, 0);
    k8s_object_destroy(obj);
}

#define NODE(REST) "{'kind': 'Node', 'metadata': {'name': 'node-1'}, " REST "}"

static void
test_node_bad_fields(void)
{
    static const struct bad_case cases[] = {
        { NODE("'status': {'addresses': [{'type': 'InternalIP',"
               " 'address': '192.168.1.300'}]}"),
          "Node node-1: status.addresses[0].address: \"192.168.1.300\" "
          "is not an IP address" },
        { NODE("'status': {'addresses': [{'type': 'Hostname',"
               " 'address': 'x'}, {'type': 'InternalIP'}]}"),
          "Node node-1: status.addresses[1].address: missing" },
        { NODE("'status': {'addresses': [{'type': 'InternalIP',"
               " 'address': 10}]}"),
          "Node node-1: status.addresses[0].address: expected a string, "
          "got an integer" },
        { NODE("'status': {'addresses': {}}"),
          "Node node-1: status.addresses: expected an array, got an object" },
        { NODE("'spec': {'podCIDRs': ['10.244.1.0/24', '10.244.2.0/33']}"),
          "Node node-1: spec.podCIDRs[1]: \"10.244.2.0/33\" is not a CIDR "
          "prefix" },
        { NODE("'spec': {'podCIDR': '10.244.1.1/24'}"),
          "Node node-1: spec.podCIDR: \"10.244.1.1/24\" has host bits set" },
        { NODE("'spec': {'podCIDRs': ['fd00:10:244:1::1/64']}"),
          "Node node-1: spec.podCIDRs[0]: \"fd00:10:244:1::1/64\" has host "
          "bits set" },
        { NODE("'spec': {'podCIDR': '10.244.1.0'}"),
          "Node node-1: spec.podCIDR: \"10.244.1.0\" is not a CIDR prefix" },
        { NODE("'spec': {'podCIDR': '10.244.1.0/024'}"),
          "spec.podCIDR: \"10.244.1.0/024\" is not a CIDR prefix" },
        { NODE("'spec': {'podCIDR': '10.244.1.0/-1'}"),
          "spec.podCIDR: \"10.244.1.0/-1\" is not a CIDR prefix" },
        { NODE("'spec': {'podCIDRs': '10.244.1.0/24'}"),
          "Node node-1: spec.podCIDRs: expected an array, got a string" },
        { NODE("'spec': []"),
          "Node node-1: spec: expected an object, got an array" },
    };
    CHECK_BAD_CASES(cases);
}

/* Namespace. */

static void
test_namespace_metadata_name_label(void)
{
    struct k8s_object *obj = DECODE_OK(
        "{'kind': 'Namespace', 'metadata': {'name': 'team-a',"
        " 'labels': {'team': 'a'}}, 'status': {'phase': 'Active'}}");

    CHECK(k8s_namespace_cast(obj) != NULL);
    CHECK_STR(obj->namespace, "");
    CHECK_INT(smap_count(&obj->labels), 2);
    CHECK_STR(smap_get(&obj->labels, "team"), "a");
    CHECK_STR(smap_get(&obj->labels, "kubernetes.io/metadata.name"),
              "team-a");
    k8s_object_destroy(obj);

    /* Without labels, and with a wrong value the API server would fix. */
    obj = DECODE_OK("{'kind': 'Namespace', 'metadata': {'name': 'b',"
                    " 'labels': {'kubernetes.io/metadata.name': 'x'}}}");
    CHECK_INT(smap_count(&obj->labels), 1);
    CHECK_STR(smap_get(&obj->labels, "kubernetes.io/metadata.name"), "b");
    k8s_object_destroy(obj);
}

/* Metadata, common to all kinds. */

#define POD(REST) \
    "{'kind': 'Pod', 'metadata': {'name': 'web', 'namespace': 'default'}" \
    REST "}"

static void
test_metadata_bad_fields(void)
{
    static const struct bad_case cases[] = {
        { "{'kind': 'Pod', 'metadata': {'namespace': 'default'}}",
          "Pod (unnamed): metadata.name: missing" },
        { "{'kind': 'Pod'}", "Pod (unnamed): metadata.name: missing" },
        { "{'kind': 'Pod', 'metadata': 'web'}",
          "Pod (unnamed): metadata: expected an object, got a string" },
        { "{'kind': 'Pod', 'metadata': {'name': 5, 'namespace': 'x'}}",
          "Pod (unnamed): metadata.name: expected a string, got an "
          "integer" },
        { "{'kind': 'Node', 'metadata': {'name': ''}}",
          "Node (unnamed): metadata.name: must not be empty" },
        { "{'kind': 'Pod', 'metadata': {'name': 'web'}}",
          "Pod web: metadata.namespace: missing" },
        { "{'kind': 'Service', 'metadata': {'name': 'web',"
          " 'namespace': ''}}",
          "Service web: metadata.namespace: must not be empty" },
        { "{'kind': 'Pod', 'metadata': {'name': 'web',"
          " 'namespace': 'default', 'labels': {'app': 1}}}",
          "Pod default/web: metadata.labels[\"app\"]: expected a string, "
          "got an integer" },
        { "{'kind': 'Pod', 'metadata': {'name': 'web',"
          " 'namespace': 'default', 'labels': ['app']}}",
          "Pod default/web: metadata.labels: expected an object, got an "
          "array" },
        { "{'kind': 'Pod', 'metadata': {'name': 'web',"
          " 'namespace': 'default', 'uid': 7}}",
          "Pod default/web: metadata.uid: expected a string, got an "
          "integer" },
        { "{'kind': 'Pod', 'metadata': {'name': 'web',"
          " 'namespace': 'default', 'resourceVersion': 1.5}}",
          "Pod default/web: metadata.resourceVersion: expected a string, "
          "got a real number" },
    };
    CHECK_BAD_CASES(cases);
}

static void
test_decode_object_documents(void)
{
    char *error;

    decode_fails_at(__FILE__, __LINE__,
                    "{'kind': 'Deployment', 'metadata': {'name': 'x'}}",
                    "kind: \"Deployment\" is not one of Node, Namespace, "
                    "Pod, Service, EndpointSlice, NetworkPolicy");
    decode_fails_at(__FILE__, __LINE__, "{'metadata': {'name': 'x'}}",
                    "kind: missing");
    decode_fails_at(__FILE__, __LINE__, "{'kind': 3}",
                    "kind: expected a string, got an integer");
    decode_fails_at(__FILE__, __LINE__, "[{'kind': 'Pod'}]",
                    "expected a JSON object, got an array");
    decode_fails_at(__FILE__, __LINE__, "{'kind': 'Pod', 'metadata': {",
                    "not valid JSON: line 1");
    decode_fails_at(__FILE__, __LINE__, "", "not valid JSON");

    /* A NUL character is harmless where kovs does not read (an
     * annotation) and rejects the object, naming the field, where it
     * does. */
    static const char nul_ok[] =
        "{\"kind\": \"Pod\", \"metadata\": {\"name\": \"p\", "
        "\"namespace\": \"x\", \"annotations\": {\"a\": \"a\\u0000b\"}}}";
    struct k8s_object *ok = k8s_decode_object(nul_ok, strlen(nul_ok),
                                              &error);
    CHECK(ok != NULL);
    k8s_object_destroy(ok);
    static const char nul_label[] =
        "{\"kind\": \"Pod\", \"metadata\": {\"name\": \"p\", "
        "\"namespace\": \"x\", \"labels\": {\"app\": \"a\\u0000b\"}}}";
    CHECK(!k8s_decode_object(nul_label, strlen(nul_label), &error));
    CHECK_STR(error, "Pod x/p: metadata.labels[\"app\"]: contains a NUL "
              "character");
    free(error);
    static const char nul_name[] =
        "{\"kind\": \"Pod\", \"metadata\": {\"name\": \"p\\u0000q\", "
        "\"namespace\": \"x\"}}";
    CHECK(!k8s_decode_object(nul_name, strlen(nul_name), &error));
    CHECK_STR(error, "Pod (unnamed): metadata.name: contains a NUL "
              "character");
    free(error);

    /* Input need not be NUL-terminated. */
    static const char text[] = "{\"kind\": \"Namespace\", \"metadata\": "
                               "{\"name\": \"n\"}}garbage";
    struct k8s_object *obj = k8s_decode_object(text, strlen(text) - 7,
                                               &error);
    CHECK(obj != NULL);
    k8s_object_destroy(obj);
}

/* Pod. */

static void
test_pod_all_fields(void)
{
    struct k8s_object *obj = DECODE_OK(
        "{'kind': 'Pod', 'apiVersion': 'v1',"
        " 'metadata': {'name': 'web-1', 'namespace': 'default',"
        "              'uid': 'p-1', 'resourceVersion': '7',"
        "              'labels': {'app': 'web', 'tier': 'fe'},"
        "              'deletionTimestamp': '2024-01-01T00:00:00Z'},"
        " 'spec': {'nodeName': 'node-1', 'hostNetwork': false,"
        "   'containers': ["
        "     {'name': 'c1', 'ports': ["
        "        {'name': 'http', 'containerPort': 8080, 'protocol': 'TCP'},"
        "        {'containerPort': 53, 'protocol': 'UDP', 'hostPort': 53}]},"
        "     {'name': 'c2'},"
        "     {'name': 'c3', 'ports': ["
        "        {'name': 'assoc', 'containerPort': 9999,"
        "         'protocol': 'SCTP'}]}],"
        "   'initContainers': [{'name': 'init', 'ports': ["
        "        {'containerPort': 1111}]}]},"
        " 'status': {'phase': 'Running', 'podIP': '10.244.1.5',"
        "   'podIPs': [{'ip': '10.244.1.5'}, {'ip': 'fd00:10:244:1::5'}]}}");
    const struct k8s_pod *pod = k8s_pod_cast(obj);

    CHECK_STR(obj->namespace, "default");
    CHECK_STR(obj->name, "web-1");
    CHECK_STR(obj->uid, "p-1");
    CHECK_STR(obj->resource_version, "7");
    CHECK_STR(smap_get(&obj->labels, "tier"), "fe");
    CHECK_STR(pod->node_name, "node-1");
    CHECK(!pod->host_network);
    CHECK_STR(pod->phase, "Running");
    CHECK(pod->terminating);
    CHECK_INT(pod->n_ips, 2);
    CHECK_IP(pod->ips[0], "10.244.1.5");
    CHECK_IP(pod->ips[1], "fd00:10:244:1::5");

    /* Ports of every container, but not of init containers. */
    CHECK_INT(pod->n_ports, 3);
    CHECK_STR(pod->ports[0].name, "http");
    CHECK_INT(pod->ports[0].port, 8080);
    CHECK_INT(pod->ports[0].protocol, K8S_PROTO_TCP);
    CHECK_STR(pod->ports[1].name, "");
    CHECK_INT(pod->ports[1].port, 53);
    CHECK_INT(pod->ports[1].protocol, K8S_PROTO_UDP);
    CHECK_STR(pod->ports[2].name, "assoc");
    CHECK_INT(pod->ports[2].port, 9999);
    CHECK_INT(pod->ports[2].protocol, K8S_PROTO_SCTP);
    k8s_object_destroy(obj);
}

static void
test_pod_defaults(void)
{
    struct k8s_object *obj = DECODE_OK(POD(""));
    const struct k8s_pod *pod = k8s_pod_cast(obj);

    CHECK_STR(pod->node_name, "");
    CHECK(!pod->host_network);
    CHECK_STR(pod->phase, "");
    CHECK(!pod->terminating);
    CHECK_INT(pod->n_ips, 0);
    CHECK_INT(pod->n_ports, 0);
    k8s_object_destroy(obj);

    /* status.podIP when there is no status.podIPs; TCP by default;
     * deletionTimestamp null is no deletion. */
    obj = DECODE_OK(
        "{'kind': 'Pod', 'metadata': {'name': 'dns', 'namespace': 'kube',"
        "  'deletionTimestamp': null},"
        " 'spec': {'hostNetwork': true, 'containers': [{'ports': ["
        "   {'containerPort': 53, 'protocol': ''}]}]},"
        " 'status': {'podIP': '192.168.1.10', 'podIPs': []}}");
    pod = k8s_pod_cast(obj);
    CHECK(pod->host_network);
    CHECK(!pod->terminating);
    CHECK_INT(pod->n_ips, 1);
    CHECK_IP(pod->ips[0], "192.168.1.10");
    CHECK_INT(pod->n_ports, 1);
    CHECK_INT(pod->ports[0].protocol, K8S_PROTO_TCP);
    CHECK_STR(pod->ports[0].name, "");
    k8s_object_destroy(obj);

    /* An empty podIP is no IP. */
    obj = DECODE_OK(POD(", 'status': {'podIP': '', 'phase': 'Pending'}"));
    pod = k8s_pod_cast(obj);
    CHECK_INT(pod->n_ips, 0);
    CHECK_STR(pod->phase, "Pending");
    k8s_object_destroy(obj);
}

static void
test_pod_bad_fields(void)
{
    static const struct bad_case cases[] = {
        { POD(", 'status': {'podIPs': [{'ip': '10.0.0.1'},"
              " {'ip': '10.0.0.300'}]}"),
          "Pod default/web: status.podIPs[1].ip: \"10.0.0.300\" is not an "
          "IP address" },
        { POD(", 'status': {'podIPs': [{}]}"),
          "Pod default/web: status.podIPs[0].ip: missing" },
        { POD(", 'status': {'podIPs': ['10.0.0.1']}"),
          "Pod default/web: status.podIPs[0]: expected an object, got a "
          "string" },
        { POD(", 'status': {'podIP': 'fd00::zz'}"),
          "Pod default/web: status.podIP: \"fd00::zz\" is not an IP "
          "address" },
        { POD(", 'status': {'podIP': '010.0.0.1'}"),
          "status.podIP: \"010.0.0.1\" is not an IP address" },
        { POD(", 'spec': {'containers': [{'ports': [{'containerPort': 80},"
              " {'name': 'x'}]}]}"),
          "Pod default/web: spec.containers[0].ports[1].containerPort: "
          "missing" },
        { POD(", 'spec': {'containers': [{}, {'ports': ["
              "{'containerPort': 70000}]}]}"),
          "Pod default/web: spec.containers[1].ports[0].containerPort: "
          "70000 is not between 1 and 65535" },
        { POD(", 'spec': {'containers': [{'ports': ["
              "{'containerPort': 0}]}]}"),
          "spec.containers[0].ports[0].containerPort: 0 is not between 1 "
          "and 65535" },
        { POD(", 'spec': {'containers': [{'ports': ["
              "{'containerPort': '80'}]}]}"),
          "spec.containers[0].ports[0].containerPort: expected an integer, "
          "got a string" },
        { POD(", 'spec': {'containers': [{'ports': ["
              "{'containerPort': 80.5}]}]}"),
          "spec.containers[0].ports[0].containerPort: expected an integer, "
          "got a real number" },
        { POD(", 'spec': {'containers': [{'ports': [{'containerPort': 80,"
              " 'protocol': 'ICMP'}]}]}"),
          "Pod default/web: spec.containers[0].ports[0].protocol: \"ICMP\" "
          "is not one of TCP, UDP, SCTP" },
        { POD(", 'spec': {'containers': [{'ports': [{'containerPort': 80,"
              " 'protocol': 'tcp'}]}]}"),
          "\"tcp\" is not one of TCP, UDP, SCTP" },
        { POD(", 'spec': {'hostNetwork': 'true'}"),
          "Pod default/web: spec.hostNetwork: expected a boolean, got a "
          "string" },
        { POD(", 'spec': {'nodeName': ['node-1']}"),
          "Pod default/web: spec.nodeName: expected a string, got an "
          "array" },
        { POD(", 'spec': {'containers': {}}"),
          "Pod default/web: spec.containers: expected an array, got an "
          "object" },
        { POD(", 'status': {'phase': true}"),
          "Pod default/web: status.phase: expected a string, got a "
          "boolean" },
        { "{'kind': 'Pod', 'metadata': {'name': 'web',"
          " 'namespace': 'default', 'deletionTimestamp': 5}}",
          "Pod default/web: metadata.deletionTimestamp: expected a string, "
          "got an integer" },
    };
    CHECK_BAD_CASES(cases);
}

/* Service. */

#define SVC(REST) \
    "{'kind': 'Service', 'metadata': {'name': 'web', 'namespace': 'default'}" \
    REST "}"

static void
test_service_all_fields(void)
{
    struct k8s_object *obj = DECODE_OK(SVC(
        ", 'spec': {'type': 'LoadBalancer', 'clusterIP': '10.96.0.10',"
        "   'clusterIPs': ['10.96.0.10', 'fd00:96::10'],"
        "   'ports': ["
        "     {'name': 'http', 'protocol': 'TCP', 'port': 80,"
        "      'targetPort': 8080, 'nodePort': 30080},"
        "     {'name': 'dns', 'protocol': 'UDP', 'port': 53,"
        "      'targetPort': 'dns-port', 'nodePort': 30053},"
        "     {'name': 'sctp', 'protocol': 'SCTP', 'port': 9999}],"
        "   'sessionAffinity': 'ClientIP',"
        "   'sessionAffinityConfig': {'clientIP': {'timeoutSeconds': 600}},"
        "   'externalIPs': ['192.0.2.10', '2001:db8::10'],"
        "   'loadBalancerSourceRanges': ['203.0.113.0/24',"
        "                                ' 198.51.100.7/16 '],"
        "   'externalTrafficPolicy': 'Local',"
        "   'internalTrafficPolicy': 'Local',"
        "   'healthCheckNodePort': 32000},"
        " 'status': {'loadBalancer': {'ingress': ["
        "   {'ip': '198.51.100.1'},"
        "   {'hostname': 'lb.example.com'},"
        "   {'ip': '198.51.100.2', 'ipMode': 'Proxy'},"
        "   {'ip': '2001:db8::1', 'ipMode': 'VIP'}]}}"));
    const struct k8s_service *svc = k8s_service_cast(obj);

    CHECK_INT(svc->type, K8S_SVC_LOAD_BALANCER);
    CHECK(!svc->headless);
    CHECK_INT(svc->n_cluster_ips, 2);
    CHECK_IP(svc->cluster_ips[0], "10.96.0.10");
    CHECK_IP(svc->cluster_ips[1], "fd00:96::10");

    CHECK_INT(svc->n_ports, 3);
    CHECK_STR(svc->ports[0].name, "http");
    CHECK_INT(svc->ports[0].protocol, K8S_PROTO_TCP);
    CHECK_INT(svc->ports[0].port, 80);
    CHECK_INT(svc->ports[0].target_port, 8080);
    CHECK_STR(svc->ports[0].target_port_name, NULL);
    CHECK_INT(svc->ports[0].node_port, 30080);
    CHECK_STR(svc->ports[1].name, "dns");
    CHECK_INT(svc->ports[1].protocol, K8S_PROTO_UDP);
    CHECK_INT(svc->ports[1].port, 53);
    CHECK_INT(svc->ports[1].target_port, 0);
    CHECK_STR(svc->ports[1].target_port_name, "dns-port");
    CHECK_INT(svc->ports[1].node_port, 30053);
    CHECK_INT(svc->ports[2].protocol, K8S_PROTO_SCTP);
    CHECK_INT(svc->ports[2].target_port, 9999);
    CHECK_INT(svc->ports[2].node_port, 0);

    CHECK(svc->affinity_client_ip);
    CHECK_INT(svc->affinity_timeout, 600);

    CHECK_INT(svc->n_external_ips, 2);
    CHECK_IP(svc->external_ips[0], "192.0.2.10");
    CHECK_IP(svc->external_ips[1], "2001:db8::10");

    /* Host bits are masked off the source ranges, as kube-proxy does. */
    CHECK_INT(svc->n_lb_source_ranges, 2);
    CHECK_CIDR(svc->lb_source_ranges[0], "203.0.113.0/24");
    CHECK_CIDR(svc->lb_source_ranges[1], "198.51.0.0/16");

    /* The hostname-only ingress entry is skipped. */
    CHECK_INT(svc->n_lb_ingress, 3);
    CHECK_IP(svc->lb_ingress[0].ip, "198.51.100.1");
    CHECK(!svc->lb_ingress[0].proxy_mode);
    CHECK_IP(svc->lb_ingress[1].ip, "198.51.100.2");
    CHECK(svc->lb_ingress[1].proxy_mode);
    CHECK_IP(svc->lb_ingress[2].ip, "2001:db8::1");
    CHECK(!svc->lb_ingress[2].proxy_mode);

    CHECK_INT(svc->external_traffic_policy, K8S_POLICY_LOCAL);
    CHECK_INT(svc->internal_traffic_policy, K8S_POLICY_LOCAL);
    CHECK_INT(svc->health_check_node_port, 32000);
    k8s_object_destroy(obj);
}

static void
test_service_defaults(void)
{
    struct k8s_object *obj = DECODE_OK(SVC(
        ", 'spec': {'clusterIP': '10.96.0.1', 'ports': ["
        "   {'port': 443},"
        "   {'port': 80, 'targetPort': 0},"
        "   {'port': 81, 'targetPort': '', 'protocol': ''}]}"));
    const struct k8s_service *svc = k8s_service_cast(obj);

    CHECK_INT(svc->type, K8S_SVC_CLUSTER_IP);
    CHECK(!svc->headless);
    CHECK_INT(svc->n_cluster_ips, 1);
    CHECK_IP(svc->cluster_ips[0], "10.96.0.1");
    CHECK_INT(svc->n_ports, 3);
    CHECK_STR(svc->ports[0].name, "");
    CHECK_INT(svc->ports[0].protocol, K8S_PROTO_TCP);
    CHECK_INT(svc->ports[0].target_port, 443);
    CHECK_STR(svc->ports[0].target_port_name, NULL);
    CHECK_INT(svc->ports[0].node_port, 0);
    CHECK_INT(svc->ports[1].target_port, 80);
    CHECK_INT(svc->ports[2].target_port, 81);
    CHECK_STR(svc->ports[2].target_port_name, NULL);
    CHECK_INT(svc->ports[2].protocol, K8S_PROTO_TCP);
    CHECK(!svc->affinity_client_ip);
    CHECK_INT(svc->affinity_timeout, 10800);
    CHECK_INT(svc->n_external_ips, 0);
    CHECK_INT(svc->n_lb_ingress, 0);
    CHECK_INT(svc->n_lb_source_ranges, 0);
    CHECK_INT(svc->external_traffic_policy, K8S_POLICY_CLUSTER);
    CHECK_INT(svc->internal_traffic_policy, K8S_POLICY_CLUSTER);
    CHECK_INT(svc->health_check_node_port, 0);
    k8s_object_destroy(obj);

    /* ClientIP affinity without a config gets the default timeout; the
     * timeout of a None affinity is not looked at. */
    obj = DECODE_OK(SVC(", 'spec': {'sessionAffinity': 'ClientIP',"
                        " 'type': 'NodePort', 'sessionAffinityConfig': {}}"));
    svc = k8s_service_cast(obj);
    CHECK(svc->affinity_client_ip);
    CHECK_INT(svc->affinity_timeout, 10800);
    CHECK_INT(svc->type, K8S_SVC_NODE_PORT);
    k8s_object_destroy(obj);

    obj = DECODE_OK(SVC(", 'spec': {'sessionAffinity': 'None',"
                        " 'sessionAffinityConfig': {'clientIP':"
                        " {'timeoutSeconds': 0}}}"));
    svc = k8s_service_cast(obj);
    CHECK(!svc->affinity_client_ip);
    CHECK_INT(svc->affinity_timeout, 10800);
    k8s_object_destroy(obj);

    /* No spec at all. */
    obj = DECODE_OK(SVC(""));
    svc = k8s_service_cast(obj);
    CHECK_INT(svc->type, K8S_SVC_CLUSTER_IP);
    CHECK_INT(svc->n_cluster_ips, 0);
    CHECK_INT(svc->n_ports, 0);
    CHECK_INT(svc->affinity_timeout, 10800);
    k8s_object_destroy(obj);
}

static void
test_service_cluster_ip_forms(void)
{
    /* Headless. */
    struct k8s_object *obj = DECODE_OK(SVC(
        ", 'spec': {'clusterIP': 'None', 'clusterIPs': ['None'],"
        " 'ports': [{'port': 80}]}"));
    const struct k8s_service *svc = k8s_service_cast(obj);
    CHECK(svc->headless);
    CHECK_INT(svc->n_cluster_ips, 0);
    k8s_object_destroy(obj);

    obj = DECODE_OK(SVC(", 'spec': {'clusterIP': 'None'}"));
    svc = k8s_service_cast(obj);
    CHECK(svc->headless);
    CHECK_INT(svc->n_cluster_ips, 0);
    k8s_object_destroy(obj);

    /* Not allocated yet. */
    obj = DECODE_OK(SVC(", 'spec': {'clusterIP': ''}"));
    svc = k8s_service_cast(obj);
    CHECK(!svc->headless);
    CHECK_INT(svc->n_cluster_ips, 0);
    k8s_object_destroy(obj);

    /* clusterIPs wins over clusterIP. */
    obj = DECODE_OK(SVC(", 'spec': {'clusterIP': '10.96.0.1',"
                        " 'clusterIPs': ['fd00::1']}"));
    svc = k8s_service_cast(obj);
    CHECK_INT(svc->n_cluster_ips, 1);
    CHECK_IP(svc->cluster_ips[0], "fd00::1");
    k8s_object_destroy(obj);

    /* ExternalName. */
    obj = DECODE_OK(SVC(", 'spec': {'type': 'ExternalName',"
                        " 'externalName': 'db.example.com'}"));
    svc = k8s_service_cast(obj);
    CHECK_INT(svc->type, K8S_SVC_EXTERNAL_NAME);
    CHECK_INT(svc->n_cluster_ips, 0);
    k8s_object_destroy(obj);
}

static void
test_service_bad_fields(void)
{
    static const struct bad_case cases[] = {
        { SVC(", 'spec': {'type': 'Internal'}"),
          "Service default/web: spec.type: \"Internal\" is not one of "
          "ClusterIP, NodePort, LoadBalancer, ExternalName" },
        { SVC(", 'spec': {'ports': [{'port': 80}, {'name': 'x'}]}"),
          "Service default/web: spec.ports[1].port: missing" },
        { SVC(", 'spec': {'ports': [{'port': 0}]}"),
          "Service default/web: spec.ports[0].port: 0 is not between 1 and "
          "65535" },
        { SVC(", 'spec': {'ports': [{'port': 'http'}]}"),
          "Service default/web: spec.ports[0].port: expected an integer, "
          "got a string" },
        { SVC(", 'spec': {'ports': [{'port': 80, 'protocol': 'ICMP'}]}"),
          "Service default/web: spec.ports[0].protocol: \"ICMP\" is not one "
          "of TCP, UDP, SCTP" },
        { SVC(", 'spec': {'ports': [{'port': 80, 'targetPort': 70000}]}"),
          "Service default/web: spec.ports[0].targetPort: 70000 is not "
          "between 1 and 65535" },
        { SVC(", 'spec': {'ports': [{'port': 80, 'targetPort': -1}]}"),
          "spec.ports[0].targetPort: -1 is not between 1 and 65535" },
        { SVC(", 'spec': {'ports': [{'port': 80, 'targetPort': true}]}"),
          "Service default/web: spec.ports[0].targetPort: expected an "
          "integer or a string, got a boolean" },
        { SVC(", 'spec': {'ports': [{'port': 80, 'nodePort': 65536}]}"),
          "Service default/web: spec.ports[0].nodePort: 65536 is not between "
          "0 and 65535" },
        { SVC(", 'spec': {'ports': {'port': 80}}"),
          "Service default/web: spec.ports: expected an array, got an "
          "object" },
        { SVC(", 'spec': {'clusterIP': '10.96.0.300'}"),
          "Service default/web: spec.clusterIP: \"10.96.0.300\" is not an "
          "IP address" },
        { SVC(", 'spec': {'clusterIPs': ['10.96.0.1', 'fd00::g']}"),
          "Service default/web: spec.clusterIPs[1]: \"fd00::g\" is not an "
          "IP address" },
        { SVC(", 'spec': {'clusterIPs': [1]}"),
          "Service default/web: spec.clusterIPs[0]: expected a string, got "
          "an integer" },
        { SVC(", 'spec': {'externalIPs': ['192.0.2.1/32']}"),
          "Service default/web: spec.externalIPs[0]: \"192.0.2.1/32\" is "
          "not an IP address" },
        { SVC(", 'spec': {'sessionAffinity': 'Cookie'}"),
          "Service default/web: spec.sessionAffinity: \"Cookie\" is not one "
          "of None, ClientIP" },
        { SVC(", 'spec': {'sessionAffinity': 'ClientIP',"
              " 'sessionAffinityConfig': {'clientIP': "
              "{'timeoutSeconds': 0}}}"),
          "Service default/web: spec.sessionAffinityConfig.clientIP."
          "timeoutSeconds: 0 is not between 1 and 86400" },
        { SVC(", 'spec': {'sessionAffinity': 'ClientIP',"
              " 'sessionAffinityConfig': {'clientIP': "
              "{'timeoutSeconds': 86401}}}"),
          "spec.sessionAffinityConfig.clientIP.timeoutSeconds: 86401 is not "
          "between 1 and 86400" },
        { SVC(", 'spec': {'sessionAffinity': 'ClientIP',"
              " 'sessionAffinityConfig': {'clientIP': 3}}"),
          "spec.sessionAffinityConfig.clientIP: expected an object, got an "
          "integer" },
        { SVC(", 'spec': {'externalTrafficPolicy': 'OnlyLocal'}"),
          "Service default/web: spec.externalTrafficPolicy: \"OnlyLocal\" is "
          "not one of Cluster, Local" },
        { SVC(", 'spec': {'externalTrafficPolicy': 'Global'}"),
          "spec.externalTrafficPolicy: \"Global\" is not one of Cluster, "
          "Local" },
        { SVC(", 'spec': {'internalTrafficPolicy': 'Node'}"),
          "Service default/web: spec.internalTrafficPolicy: \"Node\" is not "
          "one of Cluster, Local" },
        { SVC(", 'spec': {'loadBalancerSourceRanges': ['1.2.3.4']}"),
          "Service default/web: spec.loadBalancerSourceRanges[0]: "
          "\"1.2.3.4\" is not a CIDR prefix" },
        { SVC(", 'spec': {'healthCheckNodePort': 99999}"),
          "Service default/web: spec.healthCheckNodePort: 99999 is not "
          "between 0 and 65535" },
        { SVC(", 'status': {'loadBalancer': {'ingress': [{'ip': '1.2.3.4',"
              " 'ipMode': 'NAT'}]}}"),
          "Service default/web: status.loadBalancer.ingress[0].ipMode: "
          "\"NAT\" is not one of VIP, Proxy" },
        { SVC(", 'status': {'loadBalancer': {'ingress': ["
              "{'hostname': 'x'}, {'ip': 'lb.example.com'}]}}"),
          "Service default/web: status.loadBalancer.ingress[1].ip: "
          "\"lb.example.com\" is not an IP address" },
    };
    CHECK_BAD_CASES(cases);
}

/* EndpointSlice. */

#define SLICE(REST) \
    "{'kind': 'EndpointSlice', 'apiVersion': 'discovery.k8s.io/v1'," \
    " 'metadata': {'name': 'web-abc', 'namespace': 'default'}" REST "}"

static void
test_endpoint_slice_all_fields(void)
{
    struct k8s_object *obj = DECODE_OK(
        "{'kind': 'EndpointSlice', 'apiVersion': 'discovery.k8s.io/v1',"
        " 'metadata': {'name': 'web-abc', 'namespace': 'default',"
        "   'labels': {'kubernetes.io/service-name': 'web',"
        "              'endpointslice.kubernetes.io/managed-by': 'x'}},"
        " 'addressType': 'IPv4',"
        " 'ports': [{'name': 'http', 'protocol': 'TCP', 'port': 8080},"
        "           {'name': 'dns', 'protocol': 'UDP', 'port': 53}],"
        " 'endpoints': ["
        "   {'addresses': ['10.244.1.5'],"
        "    'conditions': {'ready': true, 'serving': true,"
        "                   'terminating': false},"
        "    'nodeName': 'node-1',"
        "    'targetRef': {'kind': 'Pod', 'namespace': 'default',"
        "                  'name': 'web-1'}},"
        "   {'addresses': ['10.244.2.6', '10.244.2.7'],"
        "    'conditions': {'ready': false, 'serving': true,"
        "                   'terminating': true},"
        "    'nodeName': 'node-2'}]}");
    const struct k8s_endpoint_slice *slice = k8s_endpoint_slice_cast(obj);

    CHECK_STR(slice->service_name, "web");
    CHECK(!slice->ipv6);
    CHECK_INT(slice->n_ports, 2);
    CHECK_STR(slice->ports[0].name, "http");
    CHECK_INT(slice->ports[0].protocol, K8S_PROTO_TCP);
    CHECK_INT(slice->ports[0].port, 8080);
    CHECK_STR(slice->ports[1].name, "dns");
    CHECK_INT(slice->ports[1].protocol, K8S_PROTO_UDP);
    CHECK_INT(slice->ports[1].port, 53);

    CHECK_INT(slice->n_endpoints, 2);
    const struct k8s_endpoint *ep = &slice->endpoints[0];
    CHECK_INT(ep->n_addresses, 1);
    CHECK_IP(ep->addresses[0], "10.244.1.5");
    CHECK(ep->ready);
    CHECK(ep->serving);
    CHECK(!ep->terminating);
    CHECK_STR(ep->node_name, "node-1");
    CHECK_STR(ep->target_namespace, "default");
    CHECK_STR(ep->target_name, "web-1");

    ep = &slice->endpoints[1];
    CHECK_INT(ep->n_addresses, 2);
    CHECK_IP(ep->addresses[1], "10.244.2.7");
    CHECK(!ep->ready);
    CHECK(ep->serving);
    CHECK(ep->terminating);
    CHECK_STR(ep->node_name, "node-2");
    CHECK_STR(ep->target_namespace, "");
    CHECK_STR(ep->target_name, "");
    k8s_object_destroy(obj);
}

static void
test_endpoint_slice_defaults(void)
{
    struct k8s_object *obj = DECODE_OK(SLICE(
        ", 'addressType': 'IPv6',"
        " 'ports': [{'port': null}, {'name': 'x', 'protocol': 'SCTP'}],"
        " 'endpoints': ["
        "   {'addresses': ['fd00::1'], 'conditions': {}},"
        "   {'addresses': ['fd00::2'], 'conditions': {'ready': null,"
        "     'serving': null, 'terminating': null}},"
        "   {'addresses': ['fd00::3']}]"));
    const struct k8s_endpoint_slice *slice = k8s_endpoint_slice_cast(obj);

    CHECK_STR(slice->service_name, "");
    CHECK(slice->ipv6);
    CHECK_INT(slice->n_ports, 2);
    CHECK_STR(slice->ports[0].name, "");
    CHECK_INT(slice->ports[0].protocol, K8S_PROTO_TCP);
    CHECK_INT(slice->ports[0].port, 0);
    CHECK_INT(slice->ports[1].protocol, K8S_PROTO_SCTP);
    CHECK_INT(slice->ports[1].port, 0);
    CHECK_INT(slice->n_endpoints, 3);
    for (size_t i = 0; i < slice->n_endpoints; i++) {
        const struct k8s_endpoint *ep = &slice->endpoints[i];

        CHECK(ep->ready);
        CHECK(ep->serving);
        CHECK(!ep->terminating);
        CHECK_STR(ep->node_name, "");
        CHECK_STR(ep->target_name, "");
    }
    CHECK_IP(slice->endpoints[2].addresses[0], "fd00::3");
    k8s_object_destroy(obj);

    /* No ports and no endpoints. */
    obj = DECODE_OK(SLICE(", 'addressType': 'IPv4', 'endpoints': null"));
    slice = k8s_endpoint_slice_cast(obj);
    CHECK_INT(slice->n_ports, 0);
    CHECK_INT(slice->n_endpoints, 0);
    k8s_object_destroy(obj);
}

/* The last-change-trigger-time annotation, in the forms RFC 3339 allows,
 * becomes milliseconds since the epoch; anything else, -1; none, 0. */
static void
test_endpoint_slice_trigger_time(void)
{
    static const struct {
        const char *value;          /* NULL: no annotation. */
        long long int msec;
    } cases[] = {
        { NULL, 0 },
        { "1970-01-01T00:00:00Z", 0 },
        { "2026-12-06T01:20:00Z", 1796520000000LL },
        { "2026-12-06T01:20:00.5Z", 1796520000500LL },
        { "2026-12-06T01:20:00.123456789Z", 1796520000123LL },
        { "2026-12-06T02:20:00+01:00", 1796520000000LL },
        { "2026-12-05T23:50:00-01:30", 1796520000000LL },
        { "2026-12-06t01:20:00z", 1796520000000LL },
        { "yesterday", -1 },
        { "2026-12-06", -1 },
        { "2026-12-06T01:20:00", -1 },
        { "2026-13-06T01:20:00Z", -1 },
        { "2026-12-06T01:20:00.Z", -1 },
        { "2026-12-06T01:20:00Zjunk", -1 },
        { "2026-12-06T01:20:00+0100", -1 },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char *text = (cases[i].value
                      ? xasprintf("{'kind': 'EndpointSlice', "
                                  "'metadata': {'name': 'web-abc', "
                                  "'namespace': 'default', 'annotations': "
                                  "{'endpoints.kubernetes.io/"
                                  "last-change-trigger-time': '%s'}}, "
                                  "'addressType': 'IPv4'}", cases[i].value)
                      : xstrdup(SLICE(", 'addressType': 'IPv4'")));
        struct k8s_object *obj = DECODE_OK(text);
        const struct k8s_endpoint_slice *slice
            = k8s_endpoint_slice_cast(obj);
        if (slice->trigger_time_msec != cases[i].msec) {
            FAIL("%s: expected %lld, got %lld",
                 cases[i].value ? cases[i].value : "(none)", cases[i].msec,
                 slice->trigger_time_msec);
        }
        k8s_object_destroy(obj);
        free(text);
    }
}

static void
test_endpoint_slice_fqdn(void)
{
    struct k8s_object *obj = DECODE_OK(SLICE(
        ", 'addressType': 'FQDN', 'ports': [{'port': 443}],"
        " 'endpoints': [{'addresses': ['db.example.com']}]"));
    const struct k8s_endpoint_slice *slice = k8s_endpoint_slice_cast(obj);

    CHECK(!slice->ipv6);
    CHECK_INT(slice->n_endpoints, 0);
    CHECK_INT(slice->n_ports, 1);
    k8s_object_destroy(obj);
}

static void
test_endpoint_slice_bad_fields(void)
{
    static const struct bad_case cases[] = {
        { SLICE(", 'endpoints': []"),
          "EndpointSlice default/web-abc: addressType: missing" },
        { SLICE(", 'addressType': 'IPX'"),
          "EndpointSlice default/web-abc: addressType: \"IPX\" is not one "
          "of IPv4, IPv6, FQDN" },
        { SLICE(", 'addressType': 4"),
          "EndpointSlice default/web-abc: addressType: expected a string, "
          "got an integer" },
        { SLICE(", 'addressType': 'IPv4', 'endpoints': ["
                "{'addresses': ['fd00::1']}]"),
          "EndpointSlice default/web-abc: endpoints[0].addresses[0]: "
          "\"fd00::1\" is not an IPv4 address" },
        { SLICE(", 'addressType': 'IPv6', 'endpoints': ["
                "{'addresses': ['fd00::1']}, {'addresses': ['10.0.0.1']}]"),
          "EndpointSlice default/web-abc: endpoints[1].addresses[0]: "
          "\"10.0.0.1\" is not an IPv6 address" },
        { SLICE(", 'addressType': 'IPv4', 'endpoints': ["
                "{'addresses': ['10.0.0.256']}]"),
          "endpoints[0].addresses[0]: \"10.0.0.256\" is not an IP "
          "address" },
        { SLICE(", 'addressType': 'IPv4', 'endpoints': [{'nodeName': 'n'}]"),
          "EndpointSlice default/web-abc: endpoints[0].addresses: missing" },
        { SLICE(", 'addressType': 'IPv4', 'endpoints': ["
                "{'addresses': ['10.0.0.1']}, {'addresses': []}]"),
          "EndpointSlice default/web-abc: endpoints[1].addresses: must not "
          "be empty" },
        { SLICE(", 'addressType': 'IPv4', 'endpoints': ["
                "{'addresses': ['10.0.0.1'], 'conditions': "
                "{'ready': 'yes'}}]"),
          "EndpointSlice default/web-abc: endpoints[0].conditions.ready: "
          "expected a boolean, got a string" },
        { SLICE(", 'addressType': 'IPv4', 'endpoints': ["
                "{'addresses': ['10.0.0.1'], 'conditions': "
                "{'terminating': 1}}]"),
          "endpoints[0].conditions.terminating: expected a boolean, got an "
          "integer" },
        { SLICE(", 'addressType': 'IPv4', 'ports': [{'port': 70000}]"),
          "EndpointSlice default/web-abc: ports[0].port: 70000 is not "
          "between 0 and 65535" },
        { SLICE(", 'addressType': 'IPv4', 'ports': [{'port': 80,"
                " 'protocol': 'QUIC'}]"),
          "EndpointSlice default/web-abc: ports[0].protocol: \"QUIC\" is "
          "not one of TCP, UDP, SCTP" },
        { SLICE(", 'addressType': 'IPv4', 'ports': [{'name': 5}]"),
          "ports[0].name: expected a string, got an integer" },
        { SLICE(", 'addressType': 'IPv4', 'endpoints': ["
                "{'addresses': ['10.0.0.1'], 'targetRef': 'web-1'}]"),
          "EndpointSlice default/web-abc: endpoints[0].targetRef: expected "
          "an object, got a string" },
    };
    CHECK_BAD_CASES(cases);
}

/* NetworkPolicy. */

#define NP(REST) \
    "{'kind': 'NetworkPolicy', 'apiVersion': 'networking.k8s.io/v1'," \
    " 'metadata': {'name': 'np', 'namespace': 'default'}" REST "}"

static void
test_network_policy_all_fields(void)
{
    struct k8s_object *obj = DECODE_OK(NP(
        ", 'spec': {"
        "   'podSelector': {'matchLabels': {'app': 'web'},"
        "     'matchExpressions': [{'key': 'tier', 'operator': 'In',"
        "                           'values': ['a', 'b']}]},"
        "   'policyTypes': ['Ingress', 'Egress'],"
        "   'ingress': [{"
        "     'from': ["
        "       {'podSelector': {'matchLabels': {'role': 'client'}}},"
        "       {'namespaceSelector': {'matchExpressions': ["
        "          {'key': 'env', 'operator': 'Exists'}]},"
        "        'podSelector': {}},"
        "       {'ipBlock': {'cidr': '10.0.0.0/8',"
        "                    'except': ['10.1.0.0/16', '10.2.3.4/16']}}],"
        "     'ports': ["
        "       {'protocol': 'TCP', 'port': 80},"
        "       {'protocol': 'UDP', 'port': 'dns'},"
        "       {'port': 8000, 'endPort': 8080},"
        "       {'protocol': 'SCTP'}]}],"
        "   'egress': ["
        "     {'to': [{'ipBlock': {'cidr': '192.168.1.7/24'}},"
        "             {'namespaceSelector': {}}]},"
        "     {}]}"));
    const struct k8s_network_policy *np = k8s_network_policy_cast(obj);
    const struct k8s_selector *sel = &np->pod_selector;

    CHECK_INT(smap_count(&sel->match_labels), 1);
    CHECK_STR(smap_get(&sel->match_labels, "app"), "web");
    CHECK_INT(sel->n_reqs, 1);
    CHECK_STR(sel->reqs[0].key, "tier");
    CHECK_INT(sel->reqs[0].op, K8S_SEL_IN);
    CHECK_INT(sset_count(&sel->reqs[0].values), 2);
    CHECK(sset_contains(&sel->reqs[0].values, "a"));
    CHECK(sset_contains(&sel->reqs[0].values, "b"));
    CHECK(np->ingress_isolation);
    CHECK(np->egress_isolation);

    CHECK_INT(np->n_ingress, 1);
    const struct k8s_policy_rule *rule = &np->ingress[0];
    CHECK_INT(rule->n_peers, 3);

    const struct k8s_policy_peer *peer = &rule->peers[0];
    CHECK(peer->pod_selector && !peer->namespace_selector && !peer->ip_block);
    CHECK_STR(smap_get(&peer->pod_selector->match_labels, "role"), "client");

    peer = &rule->peers[1];
    CHECK(peer->pod_selector && peer->namespace_selector && !peer->ip_block);
    CHECK(k8s_selector_is_empty(peer->pod_selector));
    CHECK_INT(peer->namespace_selector->n_reqs, 1);
    CHECK_STR(peer->namespace_selector->reqs[0].key, "env");
    CHECK_INT(peer->namespace_selector->reqs[0].op, K8S_SEL_EXISTS);
    CHECK_INT(sset_count(&peer->namespace_selector->reqs[0].values), 0);

    peer = &rule->peers[2];
    CHECK(!peer->pod_selector && !peer->namespace_selector && peer->ip_block);
    CHECK_CIDR(peer->ip_block->cidr, "10.0.0.0/8");
    CHECK_INT(peer->ip_block->n_except, 2);
    CHECK_CIDR(peer->ip_block->except[0], "10.1.0.0/16");
    CHECK_CIDR(peer->ip_block->except[1], "10.2.0.0/16");

    CHECK_INT(rule->n_ports, 4);
    CHECK_INT(rule->ports[0].protocol, K8S_PROTO_TCP);
    CHECK_INT(rule->ports[0].port, 80);
    CHECK_STR(rule->ports[0].port_name, NULL);
    CHECK_INT(rule->ports[0].end_port, 0);
    CHECK_INT(rule->ports[1].protocol, K8S_PROTO_UDP);
    CHECK_INT(rule->ports[1].port, 0);
    CHECK_STR(rule->ports[1].port_name, "dns");
    CHECK_INT(rule->ports[2].protocol, K8S_PROTO_TCP);
    CHECK_INT(rule->ports[2].port, 8000);
    CHECK_INT(rule->ports[2].end_port, 8080);
    CHECK_INT(rule->ports[3].protocol, K8S_PROTO_SCTP);
    CHECK_INT(rule->ports[3].port, 0);
    CHECK_STR(rule->ports[3].port_name, NULL);

    CHECK_INT(np->n_egress, 2);
    rule = &np->egress[0];
    CHECK_INT(rule->n_peers, 2);
    CHECK_INT(rule->n_ports, 0);
    CHECK_CIDR(rule->peers[0].ip_block->cidr, "192.168.1.0/24");
    CHECK_INT(rule->peers[0].ip_block->n_except, 0);
    CHECK(rule->peers[1].namespace_selector && !rule->peers[1].pod_selector);
    CHECK(k8s_selector_is_empty(rule->peers[1].namespace_selector));
    rule = &np->egress[1];
    CHECK_INT(rule->n_peers, 0);
    CHECK_INT(rule->n_ports, 0);
    k8s_object_destroy(obj);

    /* IPv6 ipBlock. */
    obj = DECODE_OK(NP(", 'spec': {'podSelector': {}, 'ingress': [{'from': ["
                       " {'ipBlock': {'cidr': 'fd00::/48',"
                       "  'except': ['fd00:0:0:1::/64']}}]}]}"));
    np = k8s_network_policy_cast(obj);
    CHECK_CIDR(np->ingress[0].peers[0].ip_block->cidr, "fd00::/48");
    CHECK_CIDR(np->ingress[0].peers[0].ip_block->except[0],
               "fd00:0:0:1::/64");
    k8s_object_destroy(obj);
}

static void
test_network_policy_policy_types_default(void)
{
    static const struct {
        const char *spec;
        bool ingress, egress;
    } cases[] = {
        { "'podSelector': {}", true, false },
        { "'podSelector': {}, 'egress': []", true, false },
        { "'podSelector': {}, 'egress': null", true, false },
        { "'podSelector': {}, 'egress': [{}]", true, true },
        { "'podSelector': {}, 'ingress': [{}], 'egress': [{'to': []}]",
          true, true },
        { "'podSelector': {}, 'policyTypes': ['Egress']", false, true },
        { "'podSelector': {}, 'policyTypes': ['Ingress'],"
          " 'egress': [{}]", true, false },
        { "'podSelector': {}, 'policyTypes': [], 'egress': [{}]",
          true, true },
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char *text = xasprintf(NP(", 'spec': {%s}"), cases[i].spec);
        struct k8s_object *obj = DECODE_OK(text);
        const struct k8s_network_policy *np = k8s_network_policy_cast(obj);

        if (np->ingress_isolation != cases[i].ingress
            || np->egress_isolation != cases[i].egress) {
            FAIL("spec {%s}:\n  expected ingress=%d egress=%d\n"
                 "  got      ingress=%d egress=%d", cases[i].spec,
                 cases[i].ingress, cases[i].egress,
                 np->ingress_isolation, np->egress_isolation);
        }
        k8s_object_destroy(obj);
        free(text);
    }
}

static void
test_network_policy_empty_vs_absent_rules(void)
{
    /* No ingress rules at all: the selected pods accept nothing. */
    struct k8s_object *obj = DECODE_OK(NP(", 'spec': {'podSelector': {},"
                                          " 'ingress': []}"));
    const struct k8s_network_policy *np = k8s_network_policy_cast(obj);
    CHECK_INT(np->n_ingress, 0);
    CHECK(np->ingress_isolation);
    CHECK(k8s_selector_is_empty(&np->pod_selector));
    k8s_object_destroy(obj);

    obj = DECODE_OK(NP(", 'spec': {'podSelector': {}}"));
    np = k8s_network_policy_cast(obj);
    CHECK_INT(np->n_ingress, 0);
    CHECK_INT(np->n_egress, 0);
    k8s_object_destroy(obj);

    /* One rule with no peers and no ports: everything is allowed. */
    obj = DECODE_OK(NP(", 'spec': {'podSelector': {}, 'ingress': [{}]}"));
    np = k8s_network_policy_cast(obj);
    CHECK_INT(np->n_ingress, 1);
    CHECK_INT(np->ingress[0].n_peers, 0);
    CHECK_INT(np->ingress[0].n_ports, 0);
    k8s_object_destroy(obj);

    /* "from: []" and "ports: []" are the same as absent. */
    obj = DECODE_OK(NP(", 'spec': {'podSelector': {}, 'ingress': ["
                       " {'from': [], 'ports': []},"
                       " {'from': null, 'ports': [{'port': 53,"
                       "  'protocol': 'UDP'}]}]}"));
    np = k8s_network_policy_cast(obj);
    CHECK_INT(np->n_ingress, 2);
    CHECK_INT(np->ingress[0].n_peers, 0);
    CHECK_INT(np->ingress[0].n_ports, 0);
    CHECK_INT(np->ingress[1].n_peers, 0);
    CHECK_INT(np->ingress[1].n_ports, 1);
    k8s_object_destroy(obj);
}

static void
test_network_policy_bad_fields(void)
{
    static const struct bad_case cases[] = {
        { NP(", 'spec': {}"),
          "NetworkPolicy default/np: spec.podSelector: missing" },
        { NP(""), "NetworkPolicy default/np: spec.podSelector: missing" },
        { NP(", 'spec': {'podSelector': null}"),
          "NetworkPolicy default/np: spec.podSelector: missing" },
        { NP(", 'spec': {'podSelector': []}"),
          "NetworkPolicy default/np: spec.podSelector: expected an object, "
          "got an array" },
        { NP(", 'spec': {'podSelector': {'matchLabels': {'app': true}}}"),
          "NetworkPolicy default/np: spec.podSelector.matchLabels[\"app\"]: "
          "expected a string, got a boolean" },
        { NP(", 'spec': {'podSelector': {'matchExpressions': ["
             "{'key': 'a', 'operator': 'Equals', 'values': ['x']}]}}"),
          "NetworkPolicy default/np: spec.podSelector.matchExpressions[0]."
          "operator: \"Equals\" is not one of In, NotIn, Exists, "
          "DoesNotExist" },
        { NP(", 'spec': {'podSelector': {'matchExpressions': ["
             "{'key': 'a'}]}}"),
          "spec.podSelector.matchExpressions[0].operator: missing" },
        { NP(", 'spec': {'podSelector': {'matchExpressions': ["
             "{'operator': 'Exists'}]}}"),
          "spec.podSelector.matchExpressions[0].key: missing" },
        { NP(", 'spec': {'podSelector': {'matchExpressions': ["
             "{'key': 'a', 'operator': 'Exists'},"
             " {'key': 'b', 'operator': 'In'}]}}"),
          "NetworkPolicy default/np: spec.podSelector.matchExpressions[1]."
          "values: must not be empty for operator In" },
        { NP(", 'spec': {'podSelector': {'matchExpressions': ["
             "{'key': 'b', 'operator': 'NotIn', 'values': []}]}}"),
          "spec.podSelector.matchExpressions[0].values: must not be empty "
          "for operator NotIn" },
        { NP(", 'spec': {'podSelector': {'matchExpressions': ["
             "{'key': 'b', 'operator': 'Exists', 'values': ['x']}]}}"),
          "spec.podSelector.matchExpressions[0].values: must be empty for "
          "operator Exists" },
        { NP(", 'spec': {'podSelector': {'matchExpressions': ["
             "{'key': 'b', 'operator': 'DoesNotExist', 'values': ['x']}]}}"),
          "spec.podSelector.matchExpressions[0].values: must be empty for "
          "operator DoesNotExist" },
        { NP(", 'spec': {'podSelector': {'matchExpressions': ["
             "{'key': 'b', 'operator': 'In', 'values': [1]}]}}"),
          "spec.podSelector.matchExpressions[0].values[0]: expected a "
          "string, got an integer" },
        { NP(", 'spec': {'podSelector': {}, 'policyTypes': ['Both']}"),
          "NetworkPolicy default/np: spec.policyTypes[0]: \"Both\" is not "
          "one of Ingress, Egress" },
        { NP(", 'spec': {'podSelector': {}, 'policyTypes': 'Ingress'}"),
          "spec.policyTypes: expected an array, got a string" },
        { NP(", 'spec': {'podSelector': {}, 'ingress': {}}"),
          "NetworkPolicy default/np: spec.ingress: expected an array, got "
          "an object" },
        { NP(", 'spec': {'podSelector': {}, 'ingress': [{'from': ["
             "{'ipBlock': {'cidr': '10.0.0.0/8'},"
             " 'podSelector': {}}]}]}"),
          "NetworkPolicy default/np: spec.ingress[0].from[0]: ipBlock may "
          "not be combined with podSelector or namespaceSelector" },
        { NP(", 'spec': {'podSelector': {}, 'egress': [{'to': ["
             "{'podSelector': {}}, {'ipBlock': {'cidr': '10.0.0.0/8'},"
             " 'namespaceSelector': {}}]}]}"),
          "NetworkPolicy default/np: spec.egress[0].to[1]: ipBlock may not "
          "be combined with podSelector or namespaceSelector" },
        { NP(", 'spec': {'podSelector': {}, 'egress': [{'to': ["
             "{'podSelector': {}}, {}]}]}"),
          "NetworkPolicy default/np: spec.egress[0].to[1]: needs "
          "podSelector, namespaceSelector or ipBlock" },
        { NP(", 'spec': {'podSelector': {}, 'ingress': [{'from': ["
             "{'ipBlock': {'cidr': '10.0.0.0/40'}}]}]}"),
          "NetworkPolicy default/np: spec.ingress[0].from[0].ipBlock.cidr: "
          "\"10.0.0.0/40\" is not a CIDR prefix" },
        { NP(", 'spec': {'podSelector': {}, 'ingress': [{'from': ["
             "{'ipBlock': {'except': ['10.0.0.0/16']}}]}]}"),
          "NetworkPolicy default/np: spec.ingress[0].from[0].ipBlock.cidr: "
          "missing" },
        { NP(", 'spec': {'podSelector': {}, 'ingress': [{'from': ["
             "{'ipBlock': {'cidr': '10.0.0.0/8',"
             " 'except': ['10.1.0.0/16', '11.0.0.0/16']}}]}]}"),
          "NetworkPolicy default/np: spec.ingress[0].from[0].ipBlock."
          "except[1]: \"11.0.0.0/16\" is not a strict subset of cidr "
          "\"10.0.0.0/8\"" },
        { NP(", 'spec': {'podSelector': {}, 'ingress': [{'from': ["
             "{'ipBlock': {'cidr': '10.0.0.0/8',"
             " 'except': ['10.0.0.0/8']}}]}]}"),
          "except[0]: \"10.0.0.0/8\" is not a strict subset of cidr" },
        { NP(", 'spec': {'podSelector': {}, 'ingress': [{'from': ["
             "{'ipBlock': {'cidr': '10.0.0.0/8',"
             " 'except': ['10.0.0.0/33']}}]}]}"),
          "spec.ingress[0].from[0].ipBlock.except[0]: \"10.0.0.0/33\" is "
          "not a CIDR prefix" },
        { NP(", 'spec': {'podSelector': {}, 'ingress': [{'from': ["
             "{'ipBlock': {'cidr': 'fd00:10::/32',"
             " 'except': ['fd00:10::/129']}}]}]}"),
          "NetworkPolicy default/np: spec.ingress[0].from[0].ipBlock."
          "except[0]: \"fd00:10::/129\" is not a CIDR prefix" },
        { NP(", 'spec': {'podSelector': {}, 'egress': [{'to': ["
             "{'ipBlock': {'cidr': 'fd00:10::/32',"
             " 'except': ['fd00:10:1::/48', 'fd00:11::/48']}}]}]}"),
          "NetworkPolicy default/np: spec.egress[0].to[0].ipBlock."
          "except[1]: \"fd00:11::/48\" is not a strict subset of cidr "
          "\"fd00:10::/32\"" },
        { NP(", 'spec': {'podSelector': {}, 'ingress': [{'from': ["
             "{'ipBlock': {'cidr': 'fd00:10::/32',"
             " 'except': ['10.0.0.0/8']}}]}]}"),
          "NetworkPolicy default/np: spec.ingress[0].from[0].ipBlock."
          "except[0]: \"10.0.0.0/8\" is not a strict subset of cidr "
          "\"fd00:10::/32\"" },
        { NP(", 'spec': {'podSelector': {}, 'ingress': [{'ports': ["
             "{'port': 8080, 'endPort': 80}]}]}"),
          "NetworkPolicy default/np: spec.ingress[0].ports[0].endPort: 80 "
          "is less than port 8080" },
        { NP(", 'spec': {'podSelector': {}, 'ingress': [{'ports': ["
             "{'port': 'http', 'endPort': 8080}]}]}"),
          "NetworkPolicy default/np: spec.ingress[0].ports[0].endPort: "
          "requires a numeric port" },
        { NP(", 'spec': {'podSelector': {}, 'egress': [{'ports': ["
             "{'endPort': 8080}]}]}"),
          "spec.egress[0].ports[0].endPort: requires a numeric port" },
        { NP(", 'spec': {'podSelector': {}, 'ingress': [{'ports': ["
             "{'port': 0}]}]}"),
          "NetworkPolicy default/np: spec.ingress[0].ports[0].port: 0 is "
          "not between 1 and 65535" },
        { NP(", 'spec': {'podSelector': {}, 'ingress': [{'ports': ["
             "{'port': ''}]}]}"),
          "spec.ingress[0].ports[0].port: must not be empty" },
        { NP(", 'spec': {'podSelector': {}, 'ingress': [{'ports': ["
             "{'port': [80]}]}]}"),
          "spec.ingress[0].ports[0].port: expected an integer or a string, "
          "got an array" },
        { NP(", 'spec': {'podSelector': {}, 'ingress': [{'ports': ["
             "{'port': 80, 'protocol': 'ICMP'}]}]}"),
          "NetworkPolicy default/np: spec.ingress[0].ports[0].protocol: "
          "\"ICMP\" is not one of TCP, UDP, SCTP" },
        { NP(", 'spec': {'podSelector': {}, 'ingress': [{'from': {}}]}"),
          "spec.ingress[0].from: expected an array, got an object" },
        { NP(", 'spec': {'podSelector': {}, 'ingress': ['all']}"),
          "spec.ingress[0]: expected an object, got a string" },
    };
    CHECK_BAD_CASES(cases);
}

/* Every decoder survives wrong types and truncation anywhere.
 *
 * For every JSON value in a set of good objects, replaces the value by
 * values of other types, and also cuts each document at every length: the
 * decoder must reject or accept each variant cleanly (the test is mostly
 * useful under valgrind). */

/* Returns the length of the JSON value at the start of 's'. */
static size_t
json_value_length(const char *s)
{
    size_t i = 0;

    if (s[0] == '"') {
        for (i = 1; s[i] && s[i] != '"'; i++) {
            if (s[i] == '\\' && s[i + 1]) {
                i++;
            }
        }
        return s[i] ? i + 1 : i;
    } else if (s[0] == '{' || s[0] == '[') {
        int depth = 0;

        for (i = 0; s[i]; i++) {
            if (s[i] == '"') {
                i += json_value_length(&s[i]) - 1;
            } else if (s[i] == '{' || s[i] == '[') {
                depth++;
            } else if ((s[i] == '}' || s[i] == ']') && !--depth) {
                return i + 1;
            }
        }
        return i;
    } else {
        while (s[i] && !strchr(",]} \n", s[i])) {
            i++;
        }
        return i;
    }
}

static void
mutate_and_decode(const char *json)
{
    static const char *const replacements[] = {
        "null", "0", "-1", "70000", "1.5", "\"\"", "\"x\"", "\"None\"",
        "true", "[]", "[1]", "[\"10.0.0.0/8\"]", "{}", "{\"a\":1}",
    };
    size_t len = strlen(json);
    size_t n_variants = 0;
    char *error;

    for (size_t i = 0; i < len; i++) {
        /* A value starts after ':' or after '[' or ',' inside an array;
         * decode every replacement of every value start, and a few false
         * positives do no harm. */
        if (json[i] != ':' && json[i] != '[' && json[i] != ',') {
            continue;
        }
        size_t start = i + 1;
        while (json[start] == ' ') {
            start++;
        }
        if (!json[start] || strchr("]}", json[start])) {
            continue;
        }
        size_t end = start + json_value_length(&json[start]);

        for (size_t j = 0; j < ARRAY_SIZE(replacements); j++) {
            char *variant = xasprintf("%.*s%s%s", (int) start, json,
                                      replacements[j], &json[end]);
            struct k8s_object *obj = k8s_decode_object(variant,
                                                       strlen(variant),
                                                       &error);
            CHECK((obj != NULL) != (error != NULL));
            k8s_object_destroy(obj);
            free(error);
            free(variant);
            n_variants++;
        }
    }

    for (size_t i = 0; i < len; i++) {
        struct k8s_object *obj = k8s_decode_object(json, i, &error);
        CHECK(!obj && error);
        free(error);
    }
    CHECK(n_variants > 20);
}

/* One object of each kind, with most of its fields. */
static const char *const rich_objects[] = {
    NODE("'spec': {'podCIDRs': ['10.244.1.0/24']}, 'status':"
         " {'addresses': [{'type': 'InternalIP',"
         " 'address': '10.0.0.1'}]}"),
    "{'kind': 'Namespace', 'metadata': {'name': 'a', 'labels':"
    " {'x': 'y'}}}",
    POD(", 'spec': {'nodeName': 'n', 'hostNetwork': false, 'containers':"
        " [{'ports': [{'name': 'http', 'containerPort': 80,"
        " 'protocol': 'TCP'}]}]}, 'status': {'phase': 'Running',"
        " 'podIP': '10.0.0.1', 'podIPs': [{'ip': '10.0.0.1'}]}"),
    SVC(", 'spec': {'type': 'LoadBalancer', 'clusterIP': '10.96.0.1',"
        " 'clusterIPs': ['10.96.0.1'], 'ports': [{'name': 'a',"
        " 'protocol': 'UDP', 'port': 53, 'targetPort': 'dns',"
        " 'nodePort': 30053}], 'sessionAffinity': 'ClientIP',"
        " 'sessionAffinityConfig': {'clientIP': {'timeoutSeconds': 5}},"
        " 'externalIPs': ['1.2.3.4'], 'loadBalancerSourceRanges':"
        " ['10.0.0.0/8'], 'externalTrafficPolicy': 'Local',"
        " 'internalTrafficPolicy': 'Local', 'healthCheckNodePort': 1},"
        " 'status': {'loadBalancer': {'ingress': [{'ip': '5.6.7.8',"
        " 'ipMode': 'Proxy'}]}}"),
    SLICE(", 'addressType': 'IPv4', 'ports': [{'name': 'a', 'port': 80,"
          " 'protocol': 'TCP'}], 'endpoints': [{'addresses':"
          " ['10.0.0.1'], 'conditions': {'ready': true, 'serving': true,"
          " 'terminating': false}, 'nodeName': 'n', 'targetRef':"
          " {'namespace': 'default', 'name': 'p'}}]"),
    NP(", 'spec': {'podSelector': {'matchLabels': {'a': 'b'},"
       " 'matchExpressions': [{'key': 'k', 'operator': 'In', 'values':"
       " ['v']}]}, 'policyTypes': ['Ingress', 'Egress'], 'ingress':"
       " [{'from': [{'podSelector': {}, 'namespaceSelector': {}},"
       " {'ipBlock': {'cidr': '10.0.0.0/8', 'except': ['10.1.0.0/16']}}],"
       " 'ports': [{'protocol': 'TCP', 'port': 80, 'endPort': 90}]}],"
       " 'egress': [{'to': [{'podSelector': {}}], 'ports': [{'port':"
       " 'dns'}]}]}"),
};

static void
test_decode_survives_mutations(void)
{

    for (size_t i = 0; i < ARRAY_SIZE(rich_objects); i++) {
        char *json = fixture(rich_objects[i]);
        mutate_and_decode(json);
        free(json);
    }
}

/* The heap glibc's allocator has handed out and not taken back (0 under
 * an allocator that does not keep the count). */
static size_t
heap_in_use(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

/* k8s_object_memory() counts exactly what destroying the object gives
 * back to the allocator (with the allocator's per-thread cache off, which
 * would otherwise keep freed blocks counted as in use). */
static void
test_object_memory(void)
{
    if (!heap_in_use()) {
        /* The sanitizers' allocator keeps no glibc counts to compare
         * with: autotest's "skipped". */
        printf("the allocator keeps no heap counts (a sanitizer build)\n");
        exit(77);
    }
    for (size_t i = 0; i < ARRAY_SIZE(rich_objects); i++) {
        char *json = fixture(rich_objects[i]);
        char *error = NULL;
        struct k8s_object *obj = k8s_decode_object(json, strlen(json),
                                                   &error);
        if (!obj) {
            FAIL("%s: %s", rich_objects[i], error);
        }
        free(json);

        enum k8s_kind kind = obj->kind;
        size_t counted = k8s_object_memory(obj);
        size_t before = heap_in_use();
        k8s_object_destroy(obj);
        size_t freed = before - heap_in_use();
        if (!before || counted != freed) {
            FAIL("%s: counted %"PRIuSIZE" bytes, destroying freed %"PRIuSIZE
                 " (of %"PRIuSIZE" in use)", k8s_kind_name(kind), counted,
                 freed, before);
        }
    }
}

/* Content hash. */

static void
test_content_hash(void)
{
    struct k8s_object *a = DECODE_OK(
        "{'kind': 'Pod', 'metadata': {'name': 'p', 'namespace': 'd',"
        " 'labels': {'x': '1', 'y': '2'}}, 'spec': {'nodeName': 'n1'}}");
    struct k8s_object *b = DECODE_OK(
        "{'spec': {'nodeName': 'n1'}, 'metadata': {'labels': {'y': '2',"
        " 'x': '1'}, 'namespace': 'd', 'name': 'p'}, 'kind': 'Pod'}");
    struct k8s_object *c = DECODE_OK(
        "{'kind': 'Pod', 'metadata': {'name': 'p', 'namespace': 'd',"
        " 'labels': {'x': '1', 'y': '2'}}, 'spec': {'nodeName': 'n2'}}");
    struct k8s_object *d = DECODE_OK(
        "{'kind': 'Pod', 'metadata': {'name': 'p', 'namespace': 'd',"
        " 'labels': {'x': '1', 'y': '3'}}, 'spec': {'nodeName': 'n1'}}");

    /* Member order and white space do not matter; content does. */
    CHECK_INT(a->content_hash, b->content_hash);
    CHECK(a->content_hash != c->content_hash);
    CHECK(a->content_hash != d->content_hash);
    k8s_object_destroy(a);
    k8s_object_destroy(b);
    k8s_object_destroy(c);
    k8s_object_destroy(d);
}

/* Lists. */

static void
test_list_mixed_good_and_bad(void)
{
    char *json = fixture(
        "{'apiVersion': 'v1', 'kind': 'List', 'metadata': {}, 'items': ["
        " {'kind': 'Node', 'metadata': {'name': 'n1'}},"
        " {'kind': 'Pod', 'metadata': {'namespace': 'default'}},"
        " {'kind': 'Pod', 'metadata': {'name': 'good',"
        "  'namespace': 'default'}},"
        " {'kind': 'Deployment', 'metadata': {'name': 'd',"
        "  'namespace': 'default'}},"
        " {'kind': 'Service', 'metadata': {'name': 'bad',"
        "  'namespace': 'default'}, 'spec': {'ports': [{'port': 'x'}]}},"
        " 5,"
        " {'metadata': {'name': 'nokind'}},"
        " {'kind': 'Namespace', 'metadata': {'name': 'default'}},"
        " {'kind': 'Pod', 'metadata': {'name': 'good',"
        "  'namespace': 'default'}, 'spec': {'nodeName': 'n1'}},"
        " {'kind': 'Service', 'metadata': {'name': 'fine',"
        "  'namespace': 'default'}, 'spec': {'clusterIP': '10.96.0.5'}}]}");
    struct svec warnings = SVEC_EMPTY_INITIALIZER;
    struct k8s_cluster snapshot;
    char *error;

    k8s_cluster_init(&snapshot);
    CHECK_INT(k8s_decode_list(json, strlen(json), &snapshot, &warnings,
                              &error), 0);
    CHECK_STR(error, NULL);

    /* The good objects arrive; the Deployment is skipped. */
    CHECK_INT(k8s_cluster_count(&snapshot, K8S_NODE), 1);
    CHECK_INT(k8s_cluster_count(&snapshot, K8S_NAMESPACE), 1);
    CHECK_INT(k8s_cluster_count(&snapshot, K8S_POD), 1);
    CHECK_INT(k8s_cluster_count(&snapshot, K8S_SERVICE), 1);
    CHECK(k8s_cluster_find(&snapshot, K8S_SERVICE, "default", "fine"));
    CHECK(k8s_cluster_find(&snapshot, K8S_NAMESPACE, "", "default"));
    CHECK_STR(pod_node(k8s_cluster_find(&snapshot, K8S_POD, "default",
                                        "good")), "n1");

    /* Each bad one is named. */
    char *all = svec_join(&warnings, "\n", "");
    CHECK_INT(warnings.n, 6);
    CHECK_STR(warnings.names[0],
              "Pod (unnamed) item 1: metadata.name: missing");
    CHECK_STR(warnings.names[1],
              "Deployment default/d (item 3): kind: kovs reads only Node, "
              "Namespace, Pod, Service, EndpointSlice, NetworkPolicy");
    CHECK_STR(warnings.names[2],
              "Service default/bad: spec.ports[0].port: expected an "
              "integer, got a string");
    CHECK_STR(warnings.names[3], "item 5: expected an object, got an "
              "integer");
    CHECK_STR(warnings.names[4], "item 6: kind: missing");
    CHECK_CONTAINS(warnings.names[5], "Pod default/good: item 8 appears "
                   "more than once");
    free(all);

    svec_destroy(&warnings);
    k8s_cluster_destroy(&snapshot);
    free(json);
}

/* Values that no decoder can take (a NUL character where kovs reads,
 * integers beyond 64 bits, 1e400, nesting 3000 deep, lone surrogates,
 * invalid UTF-8) and names that the API server would refuse cost their own
 * item only. */
static void
test_list_hostile_items(void)
{
    static const char *const bad[] = {
        "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\\u0000\","
        "\"namespace\":\"x\"}}",
        "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"b\","
        "\"namespace\":\"x\",\"generation\":123456789012345678901234567890}}",
        "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"c\","
        "\"namespace\":\"x\",\"generation\":1e400}}",
        NULL,                   /* Nesting, below. */
        "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"\\ud800\","
        "\"namespace\":\"x\"}}",
        "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"e\xff\","
        "\"namespace\":\"x\"}}",
        "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"f/g\","
        "\"namespace\":\"x\"}}",
        "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"h\","
        "\"namespace\":\"x/y\"}}",
        "{\"kind\":\"Service\",\"metadata\":{\"name\":\"9svc\","
        "\"namespace\":\"x\"}}",
        "{\"kind\":\"Namespace\",\"metadata\":{\"name\":\"a.b\"}}",
        "{\"kind\":\"Node\",\"metadata\":{\"name\":\"Upper\"}}",
        "{\"kind\":\"Networkpolicy\",\"metadata\":{\"name\":\"p\","
        "\"namespace\":\"x\"}}",
    };
    struct ds json = DS_EMPTY_INITIALIZER;

    ds_put_cstr(&json, "{\"kind\":\"List\",\"items\":["
                "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"first\","
                "\"namespace\":\"x\"}}");
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        ds_put_char(&json, ',');
        if (bad[i]) {
            ds_put_cstr(&json, bad[i]);
        } else {
            ds_put_cstr(&json, "{\"kind\":\"Pod\",\"metadata\":"
                        "{\"name\":\"d\",\"namespace\":\"x\"},\"x\":");
            for (int j = 0; j < 3000; j++) {
                ds_put_char(&json, '[');
            }
            for (int j = 0; j < 3000; j++) {
                ds_put_char(&json, ']');
            }
            ds_put_char(&json, '}');
        }
    }
    ds_put_cstr(&json, ",{\"kind\":\"Pod\",\"metadata\":{\"name\":"
                "\"last.one\",\"namespace\":\"x\"}}]}");

    struct svec warnings = SVEC_EMPTY_INITIALIZER;
    struct k8s_cluster snapshot;
    char *error;

    k8s_cluster_init(&snapshot);
    CHECK_INT(k8s_decode_list(json.string, json.length, &snapshot,
                              &warnings, &error), 0);
    CHECK_STR(error, NULL);
    CHECK_INT(k8s_cluster_count(&snapshot, K8S_POD), 2);
    CHECK(k8s_cluster_find(&snapshot, K8S_POD, "x", "first"));
    CHECK(k8s_cluster_find(&snapshot, K8S_POD, "x", "last.one"));
    CHECK_INT(k8s_cluster_count(&snapshot, K8S_SERVICE), 0);
    CHECK_INT(k8s_cluster_count(&snapshot, K8S_NAMESPACE), 0);
    CHECK_INT(k8s_cluster_count(&snapshot, K8S_NODE), 0);
    CHECK_INT(warnings.n, ARRAY_SIZE(bad));
    CHECK_CONTAINS(warnings.names[0], "metadata.name: contains a NUL "
                   "character");
    CHECK_STR(warnings.names[6], "Pod f/g: metadata.name: \"f/g\" is not "
              "a valid name: it must consist of lower case letters, digits, "
              "'-' and '.'");
    CHECK_STR(warnings.names[7], "Pod h: metadata.namespace: \"x/y\" is "
              "not a valid name: it must consist of lower case letters, "
              "digits and '-'");
    CHECK_CONTAINS(warnings.names[8], "must start with a lower case letter");
    CHECK_CONTAINS(warnings.names[11], "Networkpolicy x/p (item 12): kind: "
                   "kovs reads only");
    for (size_t i = 1; i < 6; i++) {
        CHECK_CONTAINS(warnings.names[i], "not valid JSON");
    }
    svec_destroy(&warnings);
    k8s_cluster_destroy(&snapshot);
    ds_destroy(&json);
}

/* Appends to 'json' a Pod item named 'name' (with kind "Pod" if
 * 'with_kind'), with label "v" 'v' and a padding label, about 600 bytes. */
static void
put_big_list_pod(struct ds *json, const char *name, const char *v,
                 bool with_kind)
{
    ds_put_format(json, "{%s\"metadata\":{\"name\":\"%s\","
                  "\"namespace\":\"x\",\"labels\":{\"v\":\"%s\","
                  "\"pad\":\"", with_kind ? "\"kind\":\"Pod\"," : "",
                  name, v);
    for (int i = 0; i < 50; i++) {
        ds_put_cstr(json, "abcdefghi-");
    }
    ds_put_cstr(json, "z\"}},\"spec\":{\"nodeName\":\"n1\"},"
                "\"status\":{\"podIP\":\"10.244.1.10\"}}");
}

/* Builds a List of 'n' Pods "p-I" (about 600 bytes each, so that 20,000 of
 * them take both decoding threads), with these exceptions at item
 * numbers: 7 and 'typo' (not 0) a misspelt kind, 'bad_json' (not 0) a
 * number out of range, 10 and 'dup' a Pod "dup" (label v=1, then v=2),
 * 'no_kind' (not 0) a Pod without a kind.  If 'list_kind', the List's
 * "kind" is "PodList" and comes after its items. */
static void
big_list(struct ds *json, int n, int typo, int bad_json, int dup,
         int no_kind, bool list_kind)
{
    ds_put_cstr(json, "{\"apiVersion\":\"v1\",\"items\":[");
    for (int i = 0; i < n; i++) {
        if (i) {
            ds_put_char(json, ',');
        }
        char name[32];
        snprintf(name, sizeof name, "p-%d", i);
        if (i == 7 || (typo && i == typo)) {
            ds_put_format(json, "{\"kind\":\"Networkpolicy\",\"metadata\":"
                          "{\"name\":\"%s\",\"namespace\":\"x\"}}", name);
        } else if (bad_json && i == bad_json) {
            ds_put_format(json, "{\"kind\":\"Pod\",\"metadata\":"
                          "{\"name\":\"%s\",\"namespace\":\"x\","
                          "\"generation\":1e400}}", name);
        } else if (i == 10 || (dup && i == dup)) {
            put_big_list_pod(json, "dup", i == 10 ? "1" : "2", true);
        } else {
            put_big_list_pod(json, name, "0", !no_kind || i != no_kind);
        }
    }
    ds_put_format(json, "]%s}", list_kind ? ",\"kind\":\"PodList\"" : "");
}

static void
test_list_two_halves(void)
{
    struct svec warnings = SVEC_EMPTY_INITIALIZER;
    struct ds json = DS_EMPTY_INITIALIZER;
    struct k8s_cluster snapshot;
    char *error;

    /* Bad items and a duplicate in both halves: the same objects and the
     * same warnings, in the same order, as one thread gives. */
    big_list(&json, 20000, 15000, 15001, 16000, 0, false);
    CHECK(json.length > 10 * 1024 * 1024);
    unsigned int halved = k8s_decode_n_lists_halved();
    k8s_cluster_init(&snapshot);
    CHECK_INT(k8s_decode_list(json.string, json.length, &snapshot,
                              &warnings, &error), 0);
    CHECK_STR(error, NULL);
    CHECK_INT(k8s_decode_n_lists_halved(), halved + 1);
    CHECK_INT(k8s_cluster_count(&snapshot, K8S_POD), 20000 - 4);
    CHECK(k8s_cluster_find(&snapshot, K8S_POD, "x", "p-0"));
    CHECK(k8s_cluster_find(&snapshot, K8S_POD, "x", "p-9999"));
    CHECK(k8s_cluster_find(&snapshot, K8S_POD, "x", "p-19999"));
    CHECK(!k8s_cluster_find(&snapshot, K8S_POD, "x", "p-15001"));
    const struct k8s_object *dup = k8s_cluster_find(&snapshot, K8S_POD, "x",
                                                    "dup");
    CHECK(dup && !strcmp(smap_get_def(&dup->labels, "v", ""), "2"));
    CHECK_INT(warnings.n, 4);
    if (warnings.n == 4) {
        CHECK_CONTAINS(warnings.names[0], "Networkpolicy x/p-7 (item 7): "
                       "kind: kovs reads only");
        CHECK_CONTAINS(warnings.names[1], "Networkpolicy x/p-15000 "
                       "(item 15000): kind: kovs reads only");
        CHECK_CONTAINS(warnings.names[2], "item 15001: not valid JSON");
        CHECK_STR(warnings.names[3], "Pod x/dup: item 16000 appears more "
                  "than once; the last one wins");
    }
    svec_destroy(&warnings);
    k8s_cluster_destroy(&snapshot);

    /* An item of the second half without a kind, in a List whose kind
     * comes after its items: the second half is decoded again once the
     * first is done, and the item is a Pod. */
    ds_clear(&json);
    big_list(&json, 20000, 0, 0, 0, 17000, true);
    halved = k8s_decode_n_lists_halved();
    svec_init(&warnings);
    k8s_cluster_init(&snapshot);
    CHECK_INT(k8s_decode_list(json.string, json.length, &snapshot,
                              &warnings, &error), 0);
    CHECK_STR(error, NULL);
    CHECK_INT(k8s_decode_n_lists_halved(), halved);
    CHECK_INT(k8s_cluster_count(&snapshot, K8S_POD), 20000 - 1);
    CHECK(k8s_cluster_find(&snapshot, K8S_POD, "x", "p-17000"));
    CHECK_INT(warnings.n, 1);
    svec_destroy(&warnings);
    k8s_cluster_destroy(&snapshot);

    /* The same with the kind-less item in the first half. */
    ds_clear(&json);
    big_list(&json, 20000, 0, 0, 0, 3, true);
    svec_init(&warnings);
    k8s_cluster_init(&snapshot);
    CHECK_INT(k8s_decode_list(json.string, json.length, &snapshot,
                              &warnings, &error), 0);
    CHECK_INT(k8s_decode_n_lists_halved(), halved);
    CHECK_INT(k8s_cluster_count(&snapshot, K8S_POD), 20000 - 1);
    CHECK(k8s_cluster_find(&snapshot, K8S_POD, "x", "p-3"));
    svec_destroy(&warnings);
    k8s_cluster_destroy(&snapshot);
    ds_destroy(&json);
}

static void
test_list_typed(void)
{
    /* The API server's typed lists leave "kind" out of the items. */
    char *json = fixture(
        "{'kind': 'PodList', 'apiVersion': 'v1', 'items': ["
        " {'metadata': {'name': 'a', 'namespace': 'x'}},"
        " {'metadata': {'name': 'b', 'namespace': 'x'}}]}");
    struct k8s_cluster snapshot;
    char *error;

    k8s_cluster_init(&snapshot);
    CHECK_INT(k8s_decode_list(json, strlen(json), &snapshot, NULL, &error),
              0);
    CHECK_INT(k8s_cluster_count(&snapshot, K8S_POD), 2);
    k8s_cluster_destroy(&snapshot);
    free(json);

    /* The List's "kind" may come after its items (kubectl sorts the
     * members): items without a kind of their own wait for it, and every
     * item is still decoded in its order (the last of two copies wins). */
    json = fixture(
        "{'apiVersion': 'v1', 'items': ["
        " {'kind': 'Pod', 'metadata': {'name': 'a', 'namespace': 'x'},"
        "  'spec': {'nodeName': 'n1'}},"
        " {'metadata': {'name': 'a', 'namespace': 'x'},"
        "  'spec': {'nodeName': 'n2'}},"
        " {'kind': 'Service', 'metadata': {'name': 's', 'namespace': 'x'}},"
        " 5],"
        " 'kind': 'PodList', 'metadata': {'resourceVersion': '7'}}");
    struct svec warnings = SVEC_EMPTY_INITIALIZER;
    struct k8s_list_meta meta;
    k8s_cluster_init(&snapshot);
    CHECK_INT(k8s_decode_list_page(json, strlen(json), NULL, &snapshot,
                                   &warnings, &meta, &error), 0);
    CHECK_INT(k8s_cluster_count(&snapshot, K8S_POD), 1);
    CHECK_INT(k8s_cluster_count(&snapshot, K8S_SERVICE), 1);
    const struct k8s_object *a = k8s_cluster_find(&snapshot, K8S_POD, "x",
                                                  "a");
    CHECK(a && !strcmp(k8s_pod_cast(a)->node_name, "n2"));
    CHECK_STR(meta.resource_version, "7");
    CHECK_INT(warnings.n, 2);
    CHECK_CONTAINS(warnings.names[0], "item 1 appears more than once");
    CHECK_STR(warnings.names[1], "item 3: expected an object, got an "
              "integer");
    k8s_list_meta_destroy(&meta);
    svec_destroy(&warnings);
    k8s_cluster_destroy(&snapshot);
    free(json);
}

static void
test_list_rejects_bad_documents(void)
{
    static const struct {
        const char *json;
        const char *error;
    } cases[] = {
        { "this is not JSON", "not valid JSON: line 1" },
        { "{'kind': 'List', 'items': [", "not valid JSON" },
        { "", "not valid JSON" },
        { "[1, 2]", "expected a JSON object, got an array" },
        { "{'kind': 'Pod', 'metadata': {'name': 'p', 'namespace': 'd'}}",
          "document of kind \"Pod\" has no \"items\" array (expected a "
          "List)" },
        { "{'items': {}}", "document has no \"items\" array" },
        { "{'kind': 'List', 'items': null}", "document of kind \"List\" has "
          "no \"items\" array" },
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char *json = fixture(cases[i].json);
        struct svec warnings = SVEC_EMPTY_INITIALIZER;
        struct k8s_cluster snapshot;
        char *error = NULL;

        k8s_cluster_init(&snapshot);
        int retval = k8s_decode_list(json, strlen(json), &snapshot,
                                     &warnings, &error);
        if (retval != EINVAL) {
            FAIL("document %s:\n  expected EINVAL, got %d", json, retval);
        }
        CHECK_CONTAINS(error, cases[i].error);
        for (int kind = 0; kind < K8S_N_KINDS; kind++) {
            CHECK_INT(k8s_cluster_count(&snapshot, kind), 0);
        }
        CHECK_INT(warnings.n, 0);
        free(error);
        svec_destroy(&warnings);
        k8s_cluster_destroy(&snapshot);
        free(json);
    }

    /* An empty List is fine. */
    struct k8s_cluster snapshot;
    char *error;
    k8s_cluster_init(&snapshot);
    CHECK_INT(k8s_decode_list("{\"items\": []}", 13, &snapshot, NULL,
                              &error), 0);
    k8s_cluster_destroy(&snapshot);
}

/* Selectors. */

/* Checks whether a NetworkPolicy with podSelector 'selector_json' selects
 * pods labelled 'labels' ("k=v,k=v"). */
static void
check_selects_at(const char *file, int line, const char *selector_json,
                 const char *labels_s, bool expected)
{
    char *text = xasprintf(NP(", 'spec': {'podSelector': %s}"),
                           selector_json);
    struct k8s_object *obj = decode_ok_at(file, line, text);
    const struct k8s_network_policy *np = k8s_network_policy_cast(obj);
    struct smap labels;

    labels_from_string(&labels, labels_s);
    if (k8s_selector_matches(&np->pod_selector, &labels) != expected) {
        fail_at(file, line, "selector %s and labels {%s}:\n"
                "  expected %s, got %s", selector_json, labels_s,
                expected ? "match" : "no match",
                expected ? "no match" : "match");
    }
    smap_destroy(&labels);
    k8s_object_destroy(obj);
    free(text);
}
#define SELECTS(SEL, LABELS) check_selects_at(__FILE__, __LINE__, \
                                              SEL, LABELS, true)
#define REJECTS(SEL, LABELS) check_selects_at(__FILE__, __LINE__, \
                                              SEL, LABELS, false)

static void
test_selector_match_labels(void)
{
    const char *sel = "{'matchLabels': {'app': 'web', 'tier': 'fe'}}";

    SELECTS(sel, "app=web,tier=fe");
    SELECTS(sel, "app=web,tier=fe,extra=1");
    REJECTS(sel, "app=web");
    REJECTS(sel, "app=db,tier=fe");
    REJECTS(sel, "");
}

static void
test_selector_in(void)
{
    const char *sel = "{'matchExpressions': [{'key': 'env', 'operator':"
                      " 'In', 'values': ['prod', 'staging']}]}";

    SELECTS(sel, "env=prod");
    SELECTS(sel, "env=staging,x=y");
    REJECTS(sel, "env=dev");
    REJECTS(sel, "x=prod");
    REJECTS(sel, "");
}

static void
test_selector_not_in(void)
{
    const char *sel = "{'matchExpressions': [{'key': 'env', 'operator':"
                      " 'NotIn', 'values': ['prod']}]}";

    SELECTS(sel, "env=dev");
    SELECTS(sel, "");
    SELECTS(sel, "x=prod");
    REJECTS(sel, "env=prod");
}

static void
test_selector_exists(void)
{
    const char *sel = "{'matchExpressions': [{'key': 'env', 'operator':"
                      " 'Exists'}]}";

    SELECTS(sel, "env=");
    SELECTS(sel, "env=anything");
    REJECTS(sel, "");
    REJECTS(sel, "other=env");
}

static void
test_selector_does_not_exist(void)
{
    const char *sel = "{'matchExpressions': [{'key': 'env', 'operator':"
                      " 'DoesNotExist', 'values': []}]}";

    SELECTS(sel, "");
    SELECTS(sel, "other=env");
    REJECTS(sel, "env=");
    REJECTS(sel, "env=prod");
}

static void
test_selector_empty_and_combined(void)
{
    /* The empty selector selects everything. */
    SELECTS("{}", "");
    SELECTS("{}", "a=b");
    SELECTS("{'matchLabels': {}, 'matchExpressions': []}", "a=b");

    /* Labels and requirements must all hold. */
    const char *sel = "{'matchLabels': {'app': 'web'}, 'matchExpressions': ["
                      " {'key': 'env', 'operator': 'In', 'values': ['a']},"
                      " {'key': 'canary', 'operator': 'DoesNotExist'}]}";
    SELECTS(sel, "app=web,env=a");
    REJECTS(sel, "app=web,env=a,canary=1");
    REJECTS(sel, "app=web,env=b");
    REJECTS(sel, "app=db,env=a");

    char *text = fixture(NP(", 'spec': {'podSelector': {}}"));
    char *error;
    struct k8s_object *obj = k8s_decode_object(text, strlen(text), &error);
    CHECK(k8s_selector_is_empty(&k8s_network_policy_cast(obj)->pod_selector));
    k8s_object_destroy(obj);
    free(text);

    text = fixture(NP(", 'spec': {'podSelector': {'matchExpressions': ["
                      "{'key': 'a', 'operator': 'Exists'}]}}"));
    obj = k8s_decode_object(text, strlen(text), &error);
    CHECK(!k8s_selector_is_empty(
              &k8s_network_policy_cast(obj)->pod_selector));
    k8s_object_destroy(obj);
    free(text);
}

/* Cluster and change tracking. */

static void
test_cluster_put_same_content_no_change(void)
{
    struct k8s_cluster cluster;

    k8s_cluster_init(&cluster);
    CHECK(!k8s_cluster_has_changes(&cluster));
    CHECK(k8s_cluster_put(&cluster, make_pod("a", "n1")));
    CHECK_CHANGES(&cluster, "ADDED Pod default/a");
    const struct k8s_change *change = first_change(&cluster);
    CHECK(change->old == NULL);
    CHECK(change->new == k8s_cluster_find(&cluster, K8S_POD, "default",
                                          "a"));
    k8s_cluster_clear_changes(&cluster);
    CHECK(!k8s_cluster_has_changes(&cluster));

    const struct k8s_object *before = k8s_cluster_find(&cluster, K8S_POD,
                                                       "default", "a");
    CHECK(!k8s_cluster_put(&cluster, make_pod("a", "n1")));
    CHECK(!k8s_cluster_has_changes(&cluster));
    CHECK_INT(k8s_cluster_count(&cluster, K8S_POD), 1);
    CHECK(k8s_cluster_find(&cluster, K8S_POD, "default", "a") == before);

    /* The same name in another kind or namespace is another object. */
    CHECK(!k8s_cluster_find(&cluster, K8S_POD, "other", "a"));
    CHECK(!k8s_cluster_find(&cluster, K8S_SERVICE, "default", "a"));
    k8s_cluster_destroy(&cluster);
}

static void
test_cluster_modify_records_old(void)
{
    struct k8s_cluster cluster;

    k8s_cluster_init(&cluster);
    k8s_cluster_put(&cluster, make_pod("a", "n1"));
    k8s_cluster_clear_changes(&cluster);

    CHECK(k8s_cluster_put(&cluster, make_pod("a", "n2")));
    CHECK_INT(k8s_cluster_count(&cluster, K8S_POD), 1);
    CHECK_CHANGES(&cluster, "MODIFIED Pod default/a");
    const struct k8s_change *change = first_change(&cluster);
    CHECK_STR(pod_node(change->old), "n1");
    CHECK_STR(pod_node(change->new), "n2");
    CHECK(change->new == k8s_cluster_find(&cluster, K8S_POD, "default",
                                          "a"));
    k8s_cluster_destroy(&cluster);
}

static void
test_cluster_delete_records_old(void)
{
    struct k8s_cluster cluster;

    k8s_cluster_init(&cluster);
    k8s_cluster_put(&cluster, make_pod("a", "n1"));
    k8s_cluster_put(&cluster, make_pod("b", "n1"));
    k8s_cluster_clear_changes(&cluster);

    CHECK(k8s_cluster_delete(&cluster, K8S_POD, "default", "a"));
    CHECK(!k8s_cluster_find(&cluster, K8S_POD, "default", "a"));
    CHECK_INT(k8s_cluster_count(&cluster, K8S_POD), 1);
    CHECK_CHANGES(&cluster, "DELETED Pod default/a");
    const struct k8s_change *change = first_change(&cluster);
    CHECK_STR(pod_node(change->old), "n1");
    CHECK_STR(change->old->name, "a");
    CHECK(change->new == NULL);

    CHECK(!k8s_cluster_delete(&cluster, K8S_POD, "default", "a"));
    CHECK(!k8s_cluster_delete(&cluster, K8S_POD, "default", "zzz"));
    CHECK(!k8s_cluster_delete(&cluster, K8S_SERVICE, "default", "b"));
    CHECK_CHANGES(&cluster, "DELETED Pod default/a");
    k8s_cluster_destroy(&cluster);
}

static void
test_cluster_replace_kind(void)
{
    struct k8s_cluster cluster, snapshot;

    k8s_cluster_init(&cluster);
    k8s_cluster_put(&cluster, make_pod("a", "n1"));
    k8s_cluster_put(&cluster, make_pod("b", "n1"));
    k8s_cluster_put(&cluster, make_pod("c", "n1"));
    k8s_cluster_put(&cluster, DECODE_OK("{'kind': 'Node', 'metadata':"
                                        " {'name': 'n1'}}"));
    k8s_cluster_clear_changes(&cluster);
    const struct k8s_object *a = k8s_cluster_find(&cluster, K8S_POD,
                                                  "default", "a");

    k8s_cluster_init(&snapshot);
    k8s_cluster_put(&snapshot, make_pod("a", "n1"));      /* Unchanged. */
    k8s_cluster_put(&snapshot, make_pod("b", "n2"));      /* Modified. */
    k8s_cluster_put(&snapshot, make_pod("d", "n1"));      /* Added. */
    k8s_cluster_put(&snapshot, DECODE_OK("{'kind': 'Namespace', 'metadata':"
                                         " {'name': 'default'}}"));

    struct k8s_replace_counts counts = { 0, 0, 0 };
    k8s_cluster_replace_kind(&cluster, &snapshot, K8S_POD, &counts);
    CHECK_INT(counts.added, 1);
    CHECK_INT(counts.modified, 1);
    CHECK_INT(counts.deleted, 1);

    /* Only real differences are changes; "c" is gone. */
    CHECK_CHANGE_SET(&cluster, "ADDED Pod default/d; DELETED Pod default/c; "
                     "MODIFIED Pod default/b");
    CHECK_INT(k8s_cluster_count(&cluster, K8S_POD), 3);
    CHECK(k8s_cluster_find(&cluster, K8S_POD, "default", "a") == a);
    CHECK_STR(pod_node(k8s_cluster_find(&cluster, K8S_POD, "default", "b")),
              "n2");
    CHECK(!k8s_cluster_find(&cluster, K8S_POD, "default", "c"));

    /* Other kinds are untouched, in both clusters. */
    CHECK_INT(k8s_cluster_count(&cluster, K8S_NODE), 1);
    CHECK_INT(k8s_cluster_count(&cluster, K8S_NAMESPACE), 0);

    /* The snapshot is left empty for that kind, with its own records of
     * that kind gone and the others kept. */
    CHECK_INT(k8s_cluster_count(&snapshot, K8S_POD), 0);
    CHECK_INT(k8s_cluster_count(&snapshot, K8S_NAMESPACE), 1);
    CHECK_CHANGES(&snapshot, "ADDED Namespace default");

    /* Replacing with an empty snapshot deletes everything of the kind. */
    k8s_cluster_clear_changes(&cluster);
    k8s_cluster_replace_kind(&cluster, &snapshot, K8S_NODE, NULL);
    CHECK_CHANGES(&cluster, "DELETED Node n1");

    k8s_cluster_destroy(&snapshot);
    k8s_cluster_destroy(&cluster);
}

static void
test_cluster_changes_coalesce(void)
{
    struct k8s_cluster cluster;
    const struct k8s_change *change;

    k8s_cluster_init(&cluster);

    /* ADDED, then MODIFIED: still ADDED, pointing at the latest. */
    k8s_cluster_put(&cluster, make_pod("a", "n1"));
    k8s_cluster_put(&cluster, make_pod("a", "n2"));
    k8s_cluster_put(&cluster, make_pod("a", "n3"));
    CHECK_CHANGES(&cluster, "ADDED Pod default/a");
    change = first_change(&cluster);
    CHECK(change->old == NULL);
    CHECK_STR(pod_node(change->new), "n3");
    CHECK(change->new == k8s_cluster_find(&cluster, K8S_POD, "default",
                                          "a"));

    /* ADDED, then DELETED: nothing happened. */
    k8s_cluster_put(&cluster, make_pod("b", "n1"));
    CHECK_CHANGES(&cluster, "ADDED Pod default/a; ADDED Pod default/b");
    k8s_cluster_delete(&cluster, K8S_POD, "default", "b");
    CHECK_CHANGES(&cluster, "ADDED Pod default/a");
    k8s_cluster_clear_changes(&cluster);

    /* MODIFIED, then MODIFIED: from the first old to the latest new. */
    k8s_cluster_put(&cluster, make_pod("a", "n4"));
    k8s_cluster_put(&cluster, make_pod("a", "n5"));
    CHECK_CHANGES(&cluster, "MODIFIED Pod default/a");
    change = first_change(&cluster);
    CHECK_STR(pod_node(change->old), "n3");
    CHECK_STR(pod_node(change->new), "n5");

    /* MODIFIED, then DELETED: DELETED, keeping the original old. */
    k8s_cluster_delete(&cluster, K8S_POD, "default", "a");
    CHECK_CHANGES(&cluster, "DELETED Pod default/a");
    change = first_change(&cluster);
    CHECK_STR(pod_node(change->old), "n3");
    CHECK(change->new == NULL);

    /* DELETED, then ADDED: MODIFIED. */
    k8s_cluster_put(&cluster, make_pod("a", "n6"));
    CHECK_CHANGES(&cluster, "MODIFIED Pod default/a");
    change = first_change(&cluster);
    CHECK_STR(pod_node(change->old), "n3");
    CHECK_STR(pod_node(change->new), "n6");
    CHECK(change->new == k8s_cluster_find(&cluster, K8S_POD, "default",
                                          "a"));

    /* Changes to other objects keep their own records, in order. */
    k8s_cluster_put(&cluster, make_pod("c", "n1"));
    k8s_cluster_put(&cluster, make_pod("a", "n7"));
    CHECK_CHANGES(&cluster, "MODIFIED Pod default/a; ADDED Pod default/c");
    k8s_cluster_clear_changes(&cluster);
    CHECK_CHANGES(&cluster, "");

    /* A pending change does not outlive its objects. */
    k8s_cluster_delete(&cluster, K8S_POD, "default", "c");
    k8s_cluster_put(&cluster, make_pod("c", "n2"));
    k8s_cluster_put(&cluster, make_pod("d", "n2"));
    k8s_cluster_destroy(&cluster);
}

/* The state file. */

struct state_fixture {
    char *dir;
    char *path;
};

static void
state_fixture_init(struct state_fixture *sf)
{
    const char *tmpdir = getenv("TMPDIR");
    char *template = xasprintf("%s/test-k8s.XXXXXX",
                               tmpdir && tmpdir[0] ? tmpdir : "/tmp");

    if (!mkdtemp(template)) {
        FAIL("mkdtemp %s: %s", template, ovs_strerror(errno));
    }
    sf->dir = template;
    sf->path = xasprintf("%s/state.json", sf->dir);
}

static void
state_fixture_destroy(struct state_fixture *sf)
{
    unlink(sf->path);
    rmdir(sf->dir);
    free(sf->path);
    free(sf->dir);
}

/* Writes 'text' (a fixture) to 'path', in place, as a non-atomic writer
 * would.  Waits a little first, so that the modification time moves. */
static void
write_state(const char *path, const char *text)
{
    char *json = fixture(text);
    FILE *file;

    usleep(20 * 1000);
    file = fopen(path, "w");
    if (!file) {
        FAIL("%s: %s", path, ovs_strerror(errno));
    }
    fputs(json, file);
    fclose(file);
    free(json);
}

/* Waits, as a main loop would, until the state file is due for a check,
 * then runs it. */
static void
run_state_after_wait(struct k8s_state_file *sf, struct k8s_cluster *cluster)
{
    k8s_state_file_wait(sf);
    poll_block();
    k8s_state_file_run(sf, cluster);
}

#define STATE_NODE "{'kind': 'Node', 'metadata': {'name': 'n1'}}"
#define STATE_POD(NAME, NODE)                                           \
    "{'kind': 'Pod', 'metadata': {'name': '" NAME "',"                  \
    " 'namespace': 'default'}, 'spec': {'nodeName': '" NODE "'}}"
#define STATE_LIST(ITEMS) "{'kind': 'List', 'items': [" ITEMS "]}"

static void
test_state_file_follows_changes(void)
{
    struct state_fixture fx;
    struct k8s_cluster cluster;

    state_fixture_init(&fx);
    k8s_cluster_init(&cluster);
    write_state(fx.path, STATE_LIST(STATE_NODE ", " STATE_POD("a", "n1")));

    struct k8s_state_file *sf = k8s_state_file_create(fx.path);
    CHECK_INT(k8s_state_file_n_reads(sf), 0);
    CHECK_INT(k8s_state_file_last_read(sf), 0);
    k8s_state_file_run(sf, &cluster);
    CHECK_INT(k8s_state_file_n_reads(sf), 1);
    CHECK(k8s_state_file_last_read(sf) > 0);
    CHECK_CHANGES(&cluster, "ADDED Node n1; ADDED Pod default/a");
    k8s_cluster_clear_changes(&cluster);

    /* Unchanged: nothing happens, whether or not it is read again. */
    k8s_state_file_run(sf, &cluster);
    run_state_after_wait(sf, &cluster);
    CHECK_CHANGES(&cluster, "");

    /* Modified, added, deleted. */
    write_state(fx.path, STATE_LIST(STATE_POD("a", "n2") ", "
                                    STATE_POD("b", "n1")));
    run_state_after_wait(sf, &cluster);
    CHECK_CHANGE_SET(&cluster, "ADDED Pod default/b; DELETED Node n1; "
                     "MODIFIED Pod default/a");
    CHECK_STR(pod_node(k8s_cluster_find(&cluster, K8S_POD, "default", "a")),
              "n2");
    CHECK(k8s_state_file_n_reads(sf) >= 2);
    k8s_cluster_clear_changes(&cluster);

    /* Emptied. */
    write_state(fx.path, STATE_LIST(""));
    run_state_after_wait(sf, &cluster);
    CHECK_CHANGE_SET(&cluster, "DELETED Pod default/a; "
                     "DELETED Pod default/b");

    k8s_state_file_destroy(sf);
    k8s_cluster_destroy(&cluster);
    state_fixture_destroy(&fx);
}

static void
test_state_file_bad_file_keeps_state(void)
{
    struct state_fixture fx;
    struct k8s_cluster cluster;

    state_fixture_init(&fx);
    k8s_cluster_init(&cluster);
    write_state(fx.path, STATE_LIST(STATE_NODE ", " STATE_POD("a", "n1")));

    struct k8s_state_file *sf = k8s_state_file_create(fx.path);
    k8s_state_file_run(sf, &cluster);
    CHECK_INT(k8s_state_file_n_reads(sf), 1);
    k8s_cluster_clear_changes(&cluster);
    unsigned int n_reads = k8s_state_file_n_reads(sf);

    /* Garbage, then a half-written file, then a non-List: the cluster
     * keeps the last good state. */
    static const char *const bad[] = {
        "garbage",
        "{'kind': 'List', 'items': [{'kind': 'Node', 'metadata': {'na",
        STATE_POD("a", "n1"),
        "",
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        write_state(fx.path, bad[i]);
        run_state_after_wait(sf, &cluster);
        CHECK_CHANGES(&cluster, "");
        CHECK_INT(k8s_cluster_count(&cluster, K8S_POD), 1);
        CHECK_INT(k8s_cluster_count(&cluster, K8S_NODE), 1);
        CHECK_INT(k8s_state_file_n_reads(sf), n_reads);
    }

    /* Once the file is good again, it is applied. */
    write_state(fx.path, STATE_LIST(STATE_POD("a", "n2")));
    run_state_after_wait(sf, &cluster);
    CHECK_CHANGES(&cluster, "DELETED Node n1; MODIFIED Pod default/a");
    CHECK_INT(k8s_state_file_n_reads(sf), n_reads + 1);
    k8s_cluster_clear_changes(&cluster);

    /* The file disappears: the state stays. */
    unlink(fx.path);
    run_state_after_wait(sf, &cluster);
    CHECK_CHANGES(&cluster, "");
    CHECK_INT(k8s_cluster_count(&cluster, K8S_POD), 1);

    k8s_state_file_destroy(sf);
    k8s_cluster_destroy(&cluster);
    state_fixture_destroy(&fx);
}

static void
test_state_file_missing_then_created(void)
{
    struct state_fixture fx;
    struct k8s_cluster cluster;

    state_fixture_init(&fx);
    k8s_cluster_init(&cluster);

    struct k8s_state_file *sf = k8s_state_file_create(fx.path);
    k8s_state_file_run(sf, &cluster);
    run_state_after_wait(sf, &cluster);
    CHECK_INT(k8s_state_file_n_reads(sf), 0);
    CHECK_CHANGES(&cluster, "");

    write_state(fx.path, STATE_LIST(STATE_NODE));
    run_state_after_wait(sf, &cluster);
    CHECK_INT(k8s_state_file_n_reads(sf), 1);
    CHECK_CHANGES(&cluster, "ADDED Node n1");

    k8s_state_file_destroy(sf);
    k8s_cluster_destroy(&cluster);
    state_fixture_destroy(&fx);
}

static void
test_state_file_skips_invalid_objects(void)
{
    struct state_fixture fx;
    struct k8s_cluster cluster;

    state_fixture_init(&fx);
    k8s_cluster_init(&cluster);
    write_state(fx.path, STATE_LIST(
                    STATE_NODE ", "
                    "{'kind': 'Pod', 'metadata': {'name': 'bad',"
                    " 'namespace': 'default'}, 'status': {'podIP': 'x'}}, "
                    STATE_POD("a", "n1")));

    struct k8s_state_file *sf = k8s_state_file_create(fx.path);
    k8s_state_file_run(sf, &cluster);
    CHECK_INT(k8s_state_file_n_reads(sf), 1);
    CHECK_CHANGES(&cluster, "ADDED Node n1; ADDED Pod default/a");
    CHECK(!k8s_cluster_find(&cluster, K8S_POD, "default", "bad"));

    k8s_state_file_destroy(sf);
    k8s_cluster_destroy(&cluster);
    state_fixture_destroy(&fx);
}

static void
test_state_file_rereads_fresh_file(void)
{
    struct state_fixture fx;
    struct k8s_cluster cluster;
    struct stat st;

    state_fixture_init(&fx);
    k8s_cluster_init(&cluster);
    write_state(fx.path, STATE_LIST(STATE_POD("a", "n1")));

    struct k8s_state_file *sf = k8s_state_file_create(fx.path);
    k8s_state_file_run(sf, &cluster);
    CHECK_CHANGES(&cluster, "ADDED Pod default/a");
    k8s_cluster_clear_changes(&cluster);

    /* Rewrite the file with content of the same size and put its
     * modification time back, as a write within one tick of a coarse file
     * system clock would leave it: the change cannot be seen from stat(),
     * but the file was fresh when read, so it is read again within about a
     * second anyway. */
    CHECK(!stat(fx.path, &st));
    write_state(fx.path, STATE_LIST(STATE_POD("a", "n2")));
    struct timespec times[2] = { st.st_atim, st.st_mtim };
    CHECK(!utimensat(AT_FDCWD, fx.path, times, 0));

    long long int deadline = time_msec() + 3000;
    while (!k8s_cluster_has_changes(&cluster) && time_msec() < deadline) {
        run_state_after_wait(sf, &cluster);
    }
    CHECK_CHANGES(&cluster, "MODIFIED Pod default/a");

    k8s_state_file_destroy(sf);
    k8s_cluster_destroy(&cluster);
    state_fixture_destroy(&fx);
}

/* The test cases. */

/* Dual stack. */

/* Parses 'arg' as --cluster-cidr, failing the test unless it gives
 * 'expected' (k8s_dual_cidr_format()'s text) or, if 'error' is nonnull, an
 * error message containing 'error'. */
static void
check_dual_cidr_option_at(const char *file, int line, const char *arg,
                          const char *expected, const char *error)
{
    struct k8s_dual_cidr dual;
    char *msg = k8s_parse_dual_cidr_option("cluster-cidr", arg, &dual);

    if (error) {
        if (!msg || !strstr(msg, error)) {
            fail_at(file, line, "--cluster-cidr=%s: expected an error "
                    "containing: %s\n  got: %s", arg, error,
                    msg ? msg : "no error");
        }
    } else if (msg) {
        fail_at(file, line, "--cluster-cidr=%s: unexpected error: %s", arg,
                msg);
    } else {
        struct ds s = DS_EMPTY_INITIALIZER;
        k8s_dual_cidr_format(&dual, &s);
        check_str(file, line, arg, ds_cstr(&s), expected);
        ds_destroy(&s);
    }
    free(msg);
}
#define CHECK_DUAL_CIDR(ARG, EXPECTED) \
    check_dual_cidr_option_at(__FILE__, __LINE__, ARG, EXPECTED, NULL)
#define CHECK_DUAL_CIDR_FAILS(ARG, ERROR) \
    check_dual_cidr_option_at(__FILE__, __LINE__, ARG, NULL, ERROR)

static void
test_dual_cidr_option(void)
{
    CHECK_DUAL_CIDR("10.244.0.0/16", "10.244.0.0/16");
    CHECK_DUAL_CIDR("fd00:10:244::/56", "fd00:10:244::/56");
    CHECK_DUAL_CIDR("10.244.0.0/16,fd00:10:244::/56",
                    "10.244.0.0/16,fd00:10:244::/56");
    /* Either family may come first. */
    CHECK_DUAL_CIDR("fd00:10:96::/112,10.96.0.0/12",
                    "10.96.0.0/12,fd00:10:96::/112");

    CHECK_DUAL_CIDR_FAILS("10.244.0.0/16,10.245.0.0/16",
                          "--cluster-cidr=10.244.0.0/16,10.245.0.0/16: two "
                          "IPv4 prefixes (at most one per family)");
    CHECK_DUAL_CIDR_FAILS("fd00::/56,fd01::/56", "two IPv6 prefixes");
    CHECK_DUAL_CIDR_FAILS("10.0.0.0/8,fd00::/56,10.1.0.0/16",
                          "at most two prefixes, one per family");
    CHECK_DUAL_CIDR_FAILS("10.244.0.1/16",
                          "\"10.244.0.1/16\" has host bits set");
    CHECK_DUAL_CIDR_FAILS("10.244.0.0/16,fd00::1/56",
                          "\"fd00::1/56\" has host bits set");
    CHECK_DUAL_CIDR_FAILS("10.244.0.0/16,fd00::/129",
                          "\"fd00::/129\" is not an address prefix");
    CHECK_DUAL_CIDR_FAILS("10.244.0.0", "is not an address prefix");
    CHECK_DUAL_CIDR_FAILS("", "not an address prefix");
    CHECK_DUAL_CIDR_FAILS("10.244.0.0/16,", "empty prefix in the list");
    CHECK_DUAL_CIDR_FAILS(",fd00::/56", "empty prefix in the list");
    CHECK_DUAL_CIDR_FAILS("10.0.0.0/8,,fd00::/56",
                          "empty prefix in the list");
}

static void
test_dual_stack_objects(void)
{
    /* A Node whose primary family is IPv6. */
    struct k8s_object *obj = DECODE_OK(
        "{'kind': 'Node', 'metadata': {'name': 'node-6'},"
        " 'spec': {'podCIDR': 'fd00:10:244:6::/64',"
        "          'podCIDRs': ['fd00:10:244:6::/64', '10.244.6.0/24']},"
        " 'status': {'addresses': ["
        "     {'type': 'InternalIP', 'address': 'fd00::6'},"
        "     {'type': 'InternalIP', 'address': '192.168.1.6'}]}}");
    const struct k8s_node *node = k8s_node_cast(obj);
    CHECK_INT(node->n_pod_cidrs, 2);
    CHECK_CIDR(*k8s_node_pod_cidr(node, true), "10.244.6.0/24");
    CHECK_CIDR(*k8s_node_pod_cidr(node, false), "fd00:10:244:6::/64");
    CHECK_IP(*k8s_node_internal_ipv6(node), "fd00::6");
    CHECK_INT(ntohl(k8s_node_internal_ipv4(node)), 0xc0a80106);
    k8s_object_destroy(obj);

    /* An IPv4-only Node has no IPv6 podCIDR or InternalIP. */
    obj = DECODE_OK("{'kind': 'Node', 'metadata': {'name': 'node-4'},"
                    " 'spec': {'podCIDR': '10.244.4.0/24'},"
                    " 'status': {'addresses': [{'type': 'InternalIP',"
                    "                           'address': '192.168.1.4'}]}}");
    node = k8s_node_cast(obj);
    CHECK(!k8s_node_pod_cidr(node, false));
    CHECK(!k8s_node_internal_ipv6(node));
    CHECK(!k8s_node_internal_ipv6(NULL));
    k8s_object_destroy(obj);

    /* A Pod with an address of each family. */
    obj = DECODE_OK(POD(", 'status': {'podIP': 'fd00:10:244:6::5',"
                        " 'podIPs': [{'ip': 'fd00:10:244:6::5'},"
                        "            {'ip': '10.244.6.5'}]}"));
    const struct k8s_pod *pod = k8s_pod_cast(obj);
    CHECK_INT(pod->n_ips, 2);
    CHECK_IP(*k8s_addrs_find_family(pod->ips, pod->n_ips, true),
             "10.244.6.5");
    CHECK_IP(*k8s_addrs_find_family(pod->ips, pod->n_ips, false),
             "fd00:10:244:6::5");
    k8s_object_destroy(obj);

    /* A dual-stack Service, IPv6 first. */
    obj = DECODE_OK(SVC(", 'spec': {'clusterIP': 'fd00:96::a',"
                        " 'clusterIPs': ['fd00:96::a', '10.96.0.10'],"
                        " 'ipFamilies': ['IPv6', 'IPv4'],"
                        " 'ipFamilyPolicy': 'RequireDualStack'}"));
    const struct k8s_service *svc = k8s_service_cast(obj);
    CHECK_INT(svc->n_cluster_ips, 2);
    CHECK_IP(svc->cluster_ips[0], "fd00:96::a");
    CHECK_IP(svc->cluster_ips[1], "10.96.0.10");
    CHECK_INT(svc->n_ip_families, 2);
    CHECK(!svc->ip_families_ipv4[0]);
    CHECK(svc->ip_families_ipv4[1]);
    CHECK_INT(svc->ip_family_policy, K8S_IPFP_REQUIRE_DUAL_STACK);
    CHECK_STR(k8s_ip_family_policy_name(svc->ip_family_policy),
              "RequireDualStack");
    k8s_object_destroy(obj);

    /* PreferDualStack in a single-stack cluster: one address. */
    obj = DECODE_OK(SVC(", 'spec': {'clusterIPs': ['10.96.0.11'],"
                        " 'ipFamilies': ['IPv4'],"
                        " 'ipFamilyPolicy': 'PreferDualStack'}"));
    svc = k8s_service_cast(obj);
    CHECK_INT(svc->n_cluster_ips, 1);
    CHECK_INT(svc->n_ip_families, 1);
    CHECK(svc->ip_families_ipv4[0]);
    CHECK_INT(svc->ip_family_policy, K8S_IPFP_PREFER_DUAL_STACK);
    k8s_object_destroy(obj);

    /* Without ipFamilies and ipFamilyPolicy: SingleStack, the family of
     * the cluster IP. */
    obj = DECODE_OK(SVC(", 'spec': {'clusterIP': 'fd00:96::b'}"));
    svc = k8s_service_cast(obj);
    CHECK_INT(svc->ip_family_policy, K8S_IPFP_SINGLE_STACK);
    CHECK_INT(svc->n_ip_families, 1);
    CHECK(!svc->ip_families_ipv4[0]);
    k8s_object_destroy(obj);

    /* Two families without a policy: RequireDualStack, as the API server
     * makes it. */
    obj = DECODE_OK(SVC(", 'spec': {'clusterIPs':"
                        " ['10.96.0.12', 'fd00::c']}"));
    svc = k8s_service_cast(obj);
    CHECK_INT(svc->ip_family_policy, K8S_IPFP_REQUIRE_DUAL_STACK);
    CHECK_INT(svc->n_ip_families, 2);
    CHECK(svc->ip_families_ipv4[0]);
    CHECK(!svc->ip_families_ipv4[1]);
    k8s_object_destroy(obj);

    /* A headless dual-stack Service keeps its families. */
    obj = DECODE_OK(SVC(", 'spec': {'clusterIPs': ['None'],"
                        " 'ipFamilies': ['IPv4', 'IPv6'],"
                        " 'ipFamilyPolicy': 'PreferDualStack'}"));
    svc = k8s_service_cast(obj);
    CHECK(svc->headless);
    CHECK_INT(svc->n_cluster_ips, 0);
    CHECK_INT(svc->n_ip_families, 2);
    k8s_object_destroy(obj);

    /* An IPv6 EndpointSlice. */
    obj = DECODE_OK(SLICE(", 'addressType': 'IPv6',"
                          " 'endpoints': [{'addresses': ['fd00:10:244:6::5'],"
                          "                'nodeName': 'node-6'}]"));
    const struct k8s_endpoint_slice *slice = k8s_endpoint_slice_cast(obj);
    CHECK(slice->ipv6);
    CHECK_INT(slice->n_endpoints, 1);
    CHECK_IP(slice->endpoints[0].addresses[0], "fd00:10:244:6::5");
    k8s_object_destroy(obj);

    /* IPv6 ipBlocks beside IPv4 ones, with except. */
    obj = DECODE_OK(NP(", 'spec': {'podSelector': {}, 'egress': [{'to': ["
                       " {'ipBlock': {'cidr': '10.0.0.0/8',"
                       "  'except': ['10.1.0.0/16']}},"
                       " {'ipBlock': {'cidr': '2001:db8::/32',"
                       "  'except': ['2001:db8:1::/48', '2001:db8:2::/48']}}"
                       "]}]}"));
    const struct k8s_network_policy *np = k8s_network_policy_cast(obj);
    const struct k8s_ip_block *block = np->egress[0].peers[1].ip_block;
    CHECK_CIDR(block->cidr, "2001:db8::/32");
    CHECK_INT(block->n_except, 2);
    CHECK_CIDR(block->except[1], "2001:db8:2::/48");
    k8s_object_destroy(obj);
}

static void
test_dual_stack_bad_fields(void)
{
    static const struct bad_case cases[] = {
        { NODE("'spec': {'podCIDRs': ['10.244.1.0/24', '10.244.2.0/24']}"),
          "Node node-1: spec.podCIDRs[1]: \"10.244.2.0/24\" is a second "
          "IPv4 prefix (at most one per family)" },
        { NODE("'spec': {'podCIDRs': ['10.244.1.0/24', 'fd00:1::/64',"
               " 'fd00:2::/64']}"),
          "Node node-1: spec.podCIDRs[2]: \"fd00:2::/64\" is a second IPv6 "
          "prefix" },
        { POD(", 'status': {'podIPs': [{'ip': 'fd00::5'},"
              " {'ip': 'fd00::6'}]}"),
          "Pod default/web: status.podIPs[1]: \"fd00::6\" is a second IPv6 "
          "address (at most one per family)" },
        { POD(", 'status': {'podIPs': [{'ip': '10.0.0.5'}, {'ip': 'fd00::5'},"
              " {'ip': '10.0.0.6'}]}"),
          "Pod default/web: status.podIPs[2]: \"10.0.0.6\" is a second IPv4 "
          "address" },
        { SVC(", 'spec': {'clusterIPs': ['10.96.0.1', '10.96.0.2'],"
              " 'ipFamilies': ['IPv4', 'IPv4']}"),
          "Service default/web: spec.ipFamilies[1]: \"IPv4\" is a second "
          "IPv4 family" },
        { SVC(", 'spec': {'ipFamilies': ['IPv4', 'IPv4']}"),
          "Service default/web: spec.ipFamilies[1]: \"IPv4\" is a second "
          "IPv4 family" },
        { SVC(", 'spec': {'ipFamilies': ['IPv5']}"),
          "Service default/web: spec.ipFamilies[0]: \"IPv5\" is not one of "
          "IPv6, IPv4" },
        { SVC(", 'spec': {'ipFamilies': 'IPv4'}"),
          "Service default/web: spec.ipFamilies: expected an array" },
        { SVC(", 'spec': {'ipFamilyPolicy': 'DualStack'}"),
          "Service default/web: spec.ipFamilyPolicy: \"DualStack\" is not "
          "one of SingleStack, PreferDualStack, RequireDualStack" },
        { SVC(", 'spec': {'clusterIPs': ['None'],"
              " 'ipFamilies': ['IPv4', 'IPv6'],"
              " 'ipFamilyPolicy': 'SingleStack'}"),
          "Service default/web: spec.ipFamilyPolicy: SingleStack, but the "
          "Service has two ipFamilies" },
        { SVC(", 'spec': {'clusterIPs': ['10.96.0.1', 'fd00::1'],"
              " 'ipFamilyPolicy': 'SingleStack'}"),
          "SingleStack, but the Service has two clusterIPs" },
        { SVC(", 'spec': {'clusterIPs': ['fd00::1'],"
              " 'ipFamilies': ['IPv4']}"),
          "Service default/web: spec.clusterIPs[0]: \"fd00::1\" is IPv6, "
          "but spec.ipFamilies says IPv4" },
        { SVC(", 'spec': {'clusterIPs': ['10.96.0.1', 'fd00::1'],"
              " 'ipFamilies': ['IPv4'], 'ipFamilyPolicy': 'PreferDualStack'}"),
          "spec.clusterIPs[1]: \"fd00::1\" is IPv6, but spec.ipFamilies has "
          "no family for it" },
        { NP(", 'spec': {'podSelector': {}, 'ingress': [{'from': ["
             " {'ipBlock': {'cidr': 'fd00::/48',"
             "  'except': ['10.0.0.0/8']}}]}]}"),
          "is not a strict subset of cidr" },
    };
    CHECK_BAD_CASES(cases);
}

static const struct unit_test test_cases[] = {
    { "kinds-and-protocols", test_kinds_and_protocols },
    { "node-all-fields", test_node_all_fields },
    { "node-defaults", test_node_defaults },
    { "node-bad-fields", test_node_bad_fields },
    { "namespace-metadata-name-label", test_namespace_metadata_name_label },
    { "metadata-bad-fields", test_metadata_bad_fields },
    { "decode-object-documents", test_decode_object_documents },
    { "pod-all-fields", test_pod_all_fields },
    { "pod-defaults", test_pod_defaults },
    { "pod-bad-fields", test_pod_bad_fields },
    { "service-all-fields", test_service_all_fields },
    { "service-defaults", test_service_defaults },
    { "service-cluster-ip-forms", test_service_cluster_ip_forms },
    { "service-bad-fields", test_service_bad_fields },
    { "endpoint-slice-all-fields", test_endpoint_slice_all_fields },
    { "endpoint-slice-defaults", test_endpoint_slice_defaults },
    { "endpoint-slice-fqdn", test_endpoint_slice_fqdn },
    { "endpoint-slice-trigger-time", test_endpoint_slice_trigger_time },
    { "endpoint-slice-bad-fields", test_endpoint_slice_bad_fields },
    { "network-policy-all-fields", test_network_policy_all_fields },
    { "network-policy-policy-types-default",
      test_network_policy_policy_types_default },
    { "network-policy-empty-vs-absent-rules",
      test_network_policy_empty_vs_absent_rules },
    { "network-policy-bad-fields", test_network_policy_bad_fields },
    { "decode-survives-mutations", test_decode_survives_mutations },
    { "object-memory", test_object_memory },
    { "content-hash", test_content_hash },
    { "list-mixed-good-and-bad", test_list_mixed_good_and_bad },
    { "list-typed", test_list_typed },
    { "list-hostile-items", test_list_hostile_items },
    { "list-two-halves", test_list_two_halves },
    { "list-rejects-bad-documents", test_list_rejects_bad_documents },
    { "selector-match-labels", test_selector_match_labels },
    { "selector-in", test_selector_in },
    { "selector-not-in", test_selector_not_in },
    { "selector-exists", test_selector_exists },
    { "selector-does-not-exist", test_selector_does_not_exist },
    { "selector-empty-and-combined", test_selector_empty_and_combined },
    { "cluster-put-same-content-no-change",
      test_cluster_put_same_content_no_change },
    { "cluster-modify-records-old", test_cluster_modify_records_old },
    { "cluster-delete-records-old", test_cluster_delete_records_old },
    { "cluster-replace-kind", test_cluster_replace_kind },
    { "cluster-changes-coalesce", test_cluster_changes_coalesce },
    { "state-file-follows-changes", test_state_file_follows_changes },
    { "state-file-bad-file-keeps-state",
      test_state_file_bad_file_keeps_state },
    { "state-file-missing-then-created",
      test_state_file_missing_then_created },
    { "state-file-skips-invalid-objects",
      test_state_file_skips_invalid_objects },
    { "state-file-rereads-fresh-file", test_state_file_rereads_fresh_file },
    { "dual-cidr-option", test_dual_cidr_option },
    { "dual-stack-objects", test_dual_stack_objects },
    { "dual-stack-bad-fields", test_dual_stack_bad_fields },
};

int
main(int argc, char *argv[])
{
    set_program_name(argv[0]);

    return unit_test_main(argc, argv, test_cases, ARRAY_SIZE(test_cases));
}
