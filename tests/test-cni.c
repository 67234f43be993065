/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0.
 *
 * Unit tests of kovs-cni's protocol code (controller/cni): the environment
 * and CNI_ARGS, the network configuration and version negotiation, and
 * the results, errors and VERSION answers of every supported version; and
 * of the pod address allocation behind it (controller/ipam).
 * 'test-cni NAME' runs one test; 'test-cni --list' lists them. */

#include <config.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "controller/cni.h"
#include "controller/ipam.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "smap.h"
#include "sset.h"
#include "svec.h"
#include "util.h"
#include "tests/unit-test.h"

/* Environment. */

/* Parses an environment given as "NAME=VALUE" strings, ending with NULL. */
static bool
parse_env(struct cni_env *e, struct cni_error *error, ...)
{
    struct smap env = SMAP_INITIALIZER(&env);
    va_list args;
    va_start(args, error);
    for (const char *s; (s = va_arg(args, const char *)); ) {
        const char *eq = strchr(s, '=');
        char *key = xmemdup0(s, eq - s);
        smap_replace(&env, key, eq + 1);
        free(key);
    }
    va_end(args);
    memset(error, 0, sizeof *error);
    bool ok = cni_env_parse(&env, e, error);
    smap_destroy(&env);
    return ok;
}

static void
test_env_add(void)
{
    struct cni_env e;
    struct cni_error error;
    bool ok = parse_env(&e, &error, "CNI_COMMAND=ADD", "CNI_CONTAINERID=abc-1",
                        "CNI_NETNS=/run/netns/x", "CNI_IFNAME=eth0",
                        "CNI_PATH=/opt/cni/bin",
                        "CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAMESPACE=default;"
                        "K8S_POD_NAME=web-1;K8S_POD_INFRA_CONTAINER_ID=abc-1;"
                        "K8S_POD_UID=u;FOO=bar", NULL);
    CHECK(ok, "error %d: %s", error.code, error.details);
    CHECK(e.command == CNI_ADD, "command %d", e.command);
    CHECK(!strcmp(e.container_id, "abc-1"), "%s", e.container_id);
    CHECK(!strcmp(e.netns, "/run/netns/x"), "%s", e.netns);
    CHECK(!strcmp(e.ifname, "eth0"), "%s", e.ifname);
    CHECK(!strcmp(e.pod_namespace, "default"), "%s", e.pod_namespace);
    CHECK(!strcmp(e.pod_name, "web-1"), "%s", e.pod_name);
    CHECK(!strcmp(e.infra_container_id, "abc-1"), "%s",
          e.infra_container_id);
    cni_env_destroy(&e);
    cni_error_destroy(&error);
}

/* Each environment, and the error code and a word of the details it must
 * give. */
static void
test_env_errors(void)
{
    static const struct {
        const char *vars[6];
        const char *expect;
    } cases[] = {
        { { NULL }, "CNI_COMMAND" },
        { { "CNI_COMMAND=FROB" }, "unknown command" },
        { { "CNI_COMMAND=ADD", "CNI_NETNS=/x", "CNI_IFNAME=eth0" },
          "CNI_CONTAINERID" },
        { { "CNI_COMMAND=ADD", "CNI_CONTAINERID=a/b", "CNI_NETNS=/x",
            "CNI_IFNAME=eth0" }, "only letters" },
        { { "CNI_COMMAND=ADD", "CNI_CONTAINERID=a", "CNI_NETNS=/x" },
          "CNI_IFNAME is not set" },
        { { "CNI_COMMAND=ADD", "CNI_CONTAINERID=a", "CNI_NETNS=/x",
            "CNI_IFNAME=a-very-long-name0" }, "not a valid interface" },
        { { "CNI_COMMAND=CHECK", "CNI_CONTAINERID=a", "CNI_IFNAME=eth0" },
          "CNI_NETNS" },
        { { "CNI_COMMAND=ADD", "CNI_CONTAINERID=a", "CNI_NETNS=/x",
            "CNI_IFNAME=eth0", "CNI_ARGS=K8S_POD_NAMESPACE=a;FOO=b" },
          "unknown argument FOO" },
        { { "CNI_COMMAND=ADD", "CNI_CONTAINERID=a", "CNI_NETNS=/x",
            "CNI_IFNAME=eth0", "CNI_ARGS=K8S_POD_NAMESPACE" },
          "KEY=VALUE" },
        { { "CNI_COMMAND=ADD", "CNI_CONTAINERID=a", "CNI_NETNS=/x",
            "CNI_IFNAME=eth0", "CNI_ARGS=K8S_POD_NAMESPACE=a" },
          "K8S_POD_NAME" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct cni_env e;
        struct cni_error error;
        const char *const *v = cases[i].vars;
        bool ok = parse_env(&e, &error, v[0], v[1], v[2], v[3], v[4], NULL);
        CHECK(!ok && error.code == CNI_ERR_INVALID_ENV
              && strstr(error.details, cases[i].expect),
              "case %"PRIuSIZE": expected code 4 with \"%s\", got %s %d %s",
              i, cases[i].expect, ok ? "success" : "error", error.code,
              error.details ? error.details : "");
        cni_env_destroy(&e);
        cni_error_destroy(&error);
    }

    /* DEL needs no network namespace, and no pod name. */
    struct cni_env e;
    struct cni_error error;
    CHECK(parse_env(&e, &error, "CNI_COMMAND=DEL", "CNI_CONTAINERID=a",
                    "CNI_IFNAME=eth0", NULL),
          "DEL without CNI_NETNS: %s", error.details);
    cni_env_destroy(&e);
    cni_error_destroy(&error);
    /* VERSION, STATUS and GC need no container. */
    static const char *const verbs[] = { "VERSION", "STATUS", "GC" };
    for (size_t i = 0; i < ARRAY_SIZE(verbs); i++) {
        char *cmd = xasprintf("CNI_COMMAND=%s", verbs[i]);
        CHECK(parse_env(&e, &error, cmd, NULL), "%s: %s", verbs[i],
              error.details);
        cni_env_destroy(&e);
        cni_error_destroy(&error);
        free(cmd);
    }
}

/* Configuration. */

static bool
parse_conf(const char *text, enum cni_command cmd, struct cni_config *c,
           struct cni_error *error)
{
    memset(error, 0, sizeof *error);
    return cni_config_parse(text, cmd, c, error);
}

static void
test_config(void)
{
    struct cni_config c;
    struct cni_error error;
    bool ok = parse_conf(
        "{\"cniVersion\":\"1.0.0\",\"name\":\"kovs\",\"type\":\"kovs-cni\","
        " \"runDir\":\"/run/openvswitch\",\"mtu\":1450,"
        " \"datapathType\":\"netdev\",\"flowsTimeoutMs\":2500,"
        " \"dns\":{\"nameservers\":[\"10.96.0.10\"]},"
        " \"runtimeConfig\":{},\"args\":{\"x\":1}}", CNI_ADD, &c, &error);
    CHECK(ok, "error %d: %s", error.code, error.details);
    CHECK(!strcmp(c.cni_version, "1.0.0"), "%s", c.cni_version);
    CHECK(!strcmp(c.name, "kovs"), "%s", c.name);
    CHECK(!strcmp(c.run_dir, "/run/openvswitch"), "%s", c.run_dir);
    CHECK(!c.socket, "%s", c.socket);
    CHECK(c.mtu == 1450, "%d", c.mtu);
    CHECK(c.userspace_datapath, "datapathType netdev not seen");
    CHECK(c.install_timeout_ms == 2500, "%d", c.install_timeout_ms);
    CHECK(c.dns && c.dns->type == JSON_OBJECT, "dns not kept");
    cni_config_destroy(&c);
    cni_error_destroy(&error);
}

/* The version in effect: "cniVersions" wins, with the highest version both
 * sides support. */
static void
test_config_versions(void)
{
    static const struct {
        const char *versions;
        int code;
        const char *expect;
    } cases[] = {
        { "\"cniVersion\":\"0.4.0\"", 0, "0.4.0" },
        { "\"cniVersion\":\"1.0.0\"", 0, "1.0.0" },
        { "\"cniVersion\":\"1.1.0\"", 0, "1.1.0" },
        { "\"cniVersion\":\"1.0.0\",\"cniVersions\":[\"1.0.0\",\"1.1.0\"]",
          0, "1.1.0" },
        { "\"cniVersion\":\"1.0.0\",\"cniVersions\":[\"1.0.0\",\"9.0.0\"]",
          0, "1.0.0" },
        { "\"cniVersion\":\"0.3.1\"", CNI_ERR_INCOMPATIBLE_VERSION, NULL },
        { "\"cniVersion\":\"2.0.0\"", CNI_ERR_INCOMPATIBLE_VERSION, NULL },
        { "\"cniVersions\":[\"0.2.0\"]", CNI_ERR_INCOMPATIBLE_VERSION, NULL },
        { "\"cniVersion\":3", CNI_ERR_INVALID_CONFIG, NULL },
        { "\"name\":\"x\"", CNI_ERR_INVALID_CONFIG, NULL },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char *text = xasprintf("{%s,\"name\":\"kovs\",\"type\":\"kovs-cni\","
                               "\"runDir\":\"/r\"}", cases[i].versions);
        struct cni_config c;
        struct cni_error error;
        bool ok = parse_conf(text, CNI_ADD, &c, &error);
        if (cases[i].code) {
            CHECK(!ok && error.code == cases[i].code,
                  "%s: expected error %d, got %d (%s)", text, cases[i].code,
                  error.code, c.cni_version ? c.cni_version : "");
        } else {
            CHECK(ok && !strcmp(c.cni_version, cases[i].expect),
                  "%s: expected %s, got %s (error %d %s)", text,
                  cases[i].expect, c.cni_version ? c.cni_version : "-",
                  error.code, error.details ? error.details : "");
        }
        cni_config_destroy(&c);
        cni_error_destroy(&error);
        free(text);
    }
}

static void
test_config_errors(void)
{
    static const struct {
        const char *text;
        enum cni_command cmd;
        int code;
    } cases[] = {
        { "", CNI_ADD, CNI_ERR_DECODE },
        { "{\"cniVersion\":", CNI_ADD, CNI_ERR_DECODE },
        { "[1]", CNI_ADD, CNI_ERR_DECODE },
        { "{\"cniVersion\":\"1.0.0\",\"type\":\"kovs-cni\",\"runDir\":\"/r\"}",
          CNI_ADD, CNI_ERR_INVALID_CONFIG },
        { "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"bridge\","
          "\"runDir\":\"/r\"}", CNI_ADD, CNI_ERR_INVALID_CONFIG },
        { "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"kovs-cni\"}",
          CNI_ADD, CNI_ERR_INVALID_CONFIG },
        { "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"kovs-cni\","
          "\"runDir\":\"/r\",\"mtu\":\"big\"}", CNI_ADD,
          CNI_ERR_INVALID_CONFIG },
        { "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"kovs-cni\","
          "\"runDir\":\"/r\",\"mtu\":100}", CNI_ADD, CNI_ERR_INVALID_CONFIG },
        /* STATUS and GC exist from 1.1.0 on. */
        { "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"kovs-cni\","
          "\"runDir\":\"/r\"}", CNI_STATUS, CNI_ERR_INCOMPATIBLE_VERSION },
        { "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"kovs-cni\","
          "\"runDir\":\"/r\"}", CNI_GC, CNI_ERR_INCOMPATIBLE_VERSION },
        /* GC needs its list. */
        { "{\"cniVersion\":\"1.1.0\",\"name\":\"n\",\"type\":\"kovs-cni\","
          "\"runDir\":\"/r\"}", CNI_GC, CNI_ERR_INVALID_CONFIG },
        { "{\"cniVersion\":\"1.1.0\",\"name\":\"n\",\"type\":\"kovs-cni\","
          "\"runDir\":\"/r\",\"cni.dev/valid-attachments\":[{\"ifname\":"
          "\"eth0\"}]}", CNI_GC, CNI_ERR_INVALID_CONFIG },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct cni_config c;
        struct cni_error error;
        bool ok = parse_conf(cases[i].text, cases[i].cmd, &c, &error);
        CHECK(!ok && error.code == cases[i].code,
              "case %"PRIuSIZE" (%s): expected error %d, got %d: %s", i,
              cases[i].text, cases[i].code, ok ? 0 : error.code,
              error.details ? error.details : "");
        cni_config_destroy(&c);
        cni_error_destroy(&error);
    }
}

static void
test_config_gc(void)
{
    struct cni_config c;
    struct cni_error error;
    bool ok = parse_conf(
        "{\"cniVersion\":\"1.1.0\",\"name\":\"kovs\",\"type\":\"kovs-cni\","
        " \"controlSocket\":\"/run/k.ctl\",\"cni.dev/valid-attachments\":"
        " [{\"containerID\":\"a\",\"ifname\":\"eth0\"},"
        "  {\"containerID\":\"b\",\"ifname\":\"net1\"}]}", CNI_GC, &c,
        &error);
    CHECK(ok, "error %d: %s", error.code, error.details);
    CHECK(c.valid_attachments.n == 2
          && !strcmp(c.valid_attachments.names[0], "a/eth0")
          && !strcmp(c.valid_attachments.names[1], "b/net1"),
          "valid attachments: %"PRIuSIZE, c.valid_attachments.n);
    CHECK(c.socket && !strcmp(c.socket, "/run/k.ctl"), "socket");
    cni_config_destroy(&c);
    cni_error_destroy(&error);

    /* The draft's name for the list. */
    ok = parse_conf(
        "{\"cniVersion\":\"1.1.0\",\"name\":\"kovs\",\"type\":\"kovs-cni\","
        " \"runDir\":\"/r\",\"cni.dev/attachments\":[]}", CNI_GC, &c, &error);
    CHECK(ok && !c.valid_attachments.n, "cni.dev/attachments: %d",
          error.code);
    cni_config_destroy(&c);
    cni_error_destroy(&error);
}

/* Results. */

static struct cni_result
sample_result(void)
{
    struct cni_result r = {
        .host_ifname = "kovs0123456789a",
        .host_mac = ETH_ADDR_C(aa, bb, cc, dd, ee, ff),
        .ifname = "eth0",
        .mac = ETH_ADDR_C(0a, 58, 0a, f4, 01, 05),
        .sandbox = "/run/netns/pod",
        .mtu = 1450,
        .ip = htonl(0x0af40105),
        .plen = 24,
        .gateway = htonl(0x0af40101),
    };
    return r;
}

static void
check_json(const char *what, const char *got, const char *expect)
{
    struct json *a = json_from_string(got);
    struct json *b = json_from_string(expect);
    CHECK(b->type == JSON_OBJECT, "%s: bad expectation: %s", what,
          json_string(b));
    CHECK(json_equal(a, b), "%s:\n  expected %s\n  got      %s", what,
          expect, got);
    json_destroy(a);
    json_destroy(b);
}

static void
test_result_versions(void)
{
    struct cni_result r = sample_result();
    static const char ifaces_old[] =
        "\"interfaces\":[{\"name\":\"kovs0123456789a\","
        "\"mac\":\"aa:bb:cc:dd:ee:ff\"},{\"name\":\"eth0\","
        "\"mac\":\"0a:58:0a:f4:01:05\",\"sandbox\":\"/run/netns/pod\"}]";
    static const char ifaces_mtu[] =
        "\"interfaces\":[{\"name\":\"kovs0123456789a\","
        "\"mac\":\"aa:bb:cc:dd:ee:ff\",\"mtu\":1450},{\"name\":\"eth0\","
        "\"mac\":\"0a:58:0a:f4:01:05\",\"sandbox\":\"/run/netns/pod\","
        "\"mtu\":1450}]";
    static const char routes[] =
        "\"routes\":[{\"dst\":\"0.0.0.0/0\",\"gw\":\"10.244.1.1\"}],"
        "\"dns\":{}";

    char *s = cni_result_to_json(&r, "0.4.0");
    char *expect = xasprintf(
        "{\"cniVersion\":\"0.4.0\",%s,\"ips\":[{\"version\":\"4\","
        "\"address\":\"10.244.1.5/24\",\"gateway\":\"10.244.1.1\","
        "\"interface\":1}],%s}", ifaces_old, routes);
    check_json("0.4.0", s, expect);
    free(s);
    free(expect);

    s = cni_result_to_json(&r, "1.0.0");
    expect = xasprintf(
        "{\"cniVersion\":\"1.0.0\",%s,\"ips\":[{"
        "\"address\":\"10.244.1.5/24\",\"gateway\":\"10.244.1.1\","
        "\"interface\":1}],%s}", ifaces_old, routes);
    check_json("1.0.0", s, expect);
    free(s);
    free(expect);

    s = cni_result_to_json(&r, "1.1.0");
    expect = xasprintf(
        "{\"cniVersion\":\"1.1.0\",%s,\"ips\":[{"
        "\"address\":\"10.244.1.5/24\",\"gateway\":\"10.244.1.1\","
        "\"interface\":1}],%s}", ifaces_mtu, routes);
    check_json("1.1.0", s, expect);
    free(s);
    free(expect);

    /* DNS from the configuration is passed on. */
    struct json *dns = json_from_string("{\"nameservers\":[\"10.96.0.10\"],"
                                        "\"search\":[\"svc.cluster.local\"]}");
    r.dns = dns;
    s = cni_result_to_json(&r, "1.0.0");
    struct json *j = json_from_string(s);
    CHECK(json_equal(shash_find_data(json_object(j), "dns"), dns),
          "dns not passed on: %s", s);
    json_destroy(j);
    json_destroy(dns);
    free(s);
}

/* A result of each version can be read back, as CHECK reads prevResult. */
static void
test_result_round_trip(void)
{
    struct cni_result r = sample_result();
    for (size_t i = 0; i < cni_n_supported_versions; i++) {
        char *s = cni_result_to_json(&r, cni_supported_versions[i]);
        struct json *j = json_from_string(s);
        ovs_be32 ip, gw;
        unsigned int plen;
        CHECK(cni_result_find_ipv4(j, "eth0", &ip, &plen, &gw)
              && ip == r.ip && plen == 24 && gw == r.gateway,
              "%s: not read back from %s", cni_supported_versions[i], s);
        CHECK(!cni_result_find_ipv4(j, "eth1", &ip, &plen, &gw),
              "%s: found an address for eth1", cni_supported_versions[i]);
        json_destroy(j);
        free(s);
    }
}

/* A result of a dual-stack pod: an address and a default route of each
 * family, and CHECK reads both back. */
static void
test_result_dual_stack(void)
{
    struct cni_result r = sample_result();
    r.has_ip6 = true;
    ovs_assert(ipv6_parse("fd00:10:244:1::5", &r.ip6));
    ovs_assert(ipv6_parse("fd00:10:244:1::1", &r.gateway6));
    r.plen6 = 64;

    static const char ips[] =
        "\"ips\":[{%s\"address\":\"10.244.1.5/24\","
        "\"gateway\":\"10.244.1.1\",\"interface\":1},"
        "{%s\"address\":\"fd00:10:244:1::5/64\","
        "\"gateway\":\"fd00:10:244:1::1\",\"interface\":1}],"
        "\"routes\":[{\"dst\":\"0.0.0.0/0\",\"gw\":\"10.244.1.1\"},"
        "{\"dst\":\"::/0\",\"gw\":\"fd00:10:244:1::1\"}],\"dns\":{}";
    static const char ifaces[] =
        "\"interfaces\":[{\"name\":\"kovs0123456789a\","
        "\"mac\":\"aa:bb:cc:dd:ee:ff\"},{\"name\":\"eth0\","
        "\"mac\":\"0a:58:0a:f4:01:05\",\"sandbox\":\"/run/netns/pod\"}]";
    for (size_t i = 0; i < cni_n_supported_versions; i++) {
        const char *version = cni_supported_versions[i];
        bool old = !strcmp(version, "0.4.0");
        char *s = cni_result_to_json(&r, version);
        if (strcmp(version, "1.1.0")) {
            char *ips_s = xasprintf(ips, old ? "\"version\":\"4\"," : "",
                                    old ? "\"version\":\"6\"," : "");
            char *expect = xasprintf("{\"cniVersion\":\"%s\",%s,%s}",
                                     version, ifaces, ips_s);
            check_json(version, s, expect);
            free(expect);
            free(ips_s);
        }

        struct json *j = json_from_string(s);
        ovs_be32 ip, gw;
        struct in6_addr ip6, gw6;
        unsigned int plen;
        CHECK(cni_result_find_ipv4(j, "eth0", &ip, &plen, &gw)
              && ip == r.ip && plen == 24 && gw == r.gateway,
              "%s: IPv4 not read back from %s", version, s);
        CHECK(cni_result_find_ipv6(j, "eth0", &ip6, &plen, &gw6)
              && ipv6_addr_equals(&ip6, &r.ip6) && plen == 64
              && ipv6_addr_equals(&gw6, &r.gateway6),
              "%s: IPv6 not read back from %s", version, s);
        CHECK(!cni_result_find_ipv6(j, "eth1", &ip6, &plen, &gw6),
              "%s: found an IPv6 address for eth1", version);
        json_destroy(j);
        free(s);
    }

    /* An IPv4-only result has no IPv6 address to find. */
    r.has_ip6 = false;
    char *s = cni_result_to_json(&r, "1.0.0");
    struct json *j = json_from_string(s);
    struct in6_addr ip6, gw6;
    unsigned int plen;
    CHECK(!cni_result_find_ipv6(j, "eth0", &ip6, &plen, &gw6),
          "IPv6 address in %s", s);
    json_destroy(j);
    free(s);
}

static void
test_errors_and_version(void)
{
    struct cni_error error = { 0 };
    cni_error_set(&error, CNI_ERR_TRY_AGAIN, "kovs-controller is %s",
                  "restarting");
    char *s = cni_error_to_json(&error, "1.0.0");
    check_json("error", s,
               "{\"cniVersion\":\"1.0.0\",\"code\":11,"
               "\"msg\":\"try again later\","
               "\"details\":\"kovs-controller is restarting\"}");
    free(s);
    /* An unsupported version is answered in the latest. */
    s = cni_error_to_json(&error, "0.1.0");
    CHECK(strstr(s, "\"cniVersion\":\"1.1.0\""), "%s", s);
    free(s);
    cni_error_destroy(&error);

    s = cni_version_to_json("1.0.0");
    check_json("VERSION", s,
               "{\"cniVersion\":\"1.0.0\",\"supportedVersions\":"
               "[\"0.4.0\",\"1.0.0\",\"1.1.0\"]}");
    free(s);
}

/* Address allocation. */

static void
test_ipam_allocate(void)
{
    struct ipam ipam;
    struct ipam_range net = { .has_ip = true,
                              .net = htonl(0x0af40100),  /* 10.244.1.0/29. */
                              .plen = 29 };
    struct ipam_attachment *att;
    ovs_assert(!ipam_init(&ipam, NULL));

    /* .2 to .6: the network, the gateway and broadcast are never given. */
    struct sset seen = SSET_INITIALIZER(&seen);
    for (int i = 0; i < 5; i++) {
        char *id = xasprintf("c%d", i);
        char *error = ipam_allocate(&ipam, id, "eth0", "ns/p", &net, &att);
        CHECK(!error, "%s", error);
        uint32_t host = ntohl(att->ip) & 7;
        CHECK(host >= 2 && host <= 6, "got .%"PRIu32, host);
        char *ip = xasprintf(IP_FMT, IP_ARGS(att->ip));
        CHECK(sset_add(&seen, ip), "%s handed out twice", ip);
        free(ip);
        free(id);
    }
    char *error = ipam_allocate(&ipam, "c9", "eth0", "ns/p", &net, &att);
    CHECK(error && strstr(error, "every address"), "full range: %s",
          error ? error : "allocated");
    free(error);

    /* The same attachment gets the same address. */
    struct ipam_attachment *again;
    ovs_assert(!ipam_allocate(&ipam, "c1", "eth0", "ns/p", &net, &again));
    CHECK(again == ipam_find(&ipam, "c1", "eth0"), "not the same");

    /* A released address is reused last: after the others that are free. */
    ovs_be32 released = ipam_find(&ipam, "c1", "eth0")->ip;
    ovs_assert(!ipam_release(&ipam, "c1", "eth0"));
    CHECK(!ipam_find(&ipam, "c1", "eth0"), "c1 still there");
    ovs_assert(!ipam_release(&ipam, "c1", "eth0"));
    ovs_assert(!ipam_allocate(&ipam, "c10", "eth0", "ns/p", &net, &att));
    CHECK(att->ip == released, "only free address not reused");
    CHECK(eth_addr_equals(att->mac, ipam_mac_for_ip(att->ip)), "MAC");

    char *host = ipam_host_ifname("c10", "eth0");
    CHECK(strlen(host) == 15 && !strncmp(host, "kovs", 4)
          && !strcmp(host, att->host_ifname), "host ifname %s", host);
    free(host);
    sset_destroy(&seen);
    ipam_destroy(&ipam);
}

static void
test_ipam_persist_and_gc(void)
{
    char dir[] = "/tmp/test-cni.XXXXXX";
    ovs_assert(mkdtemp(dir));
    char *file = xasprintf("%s/ipam.json", dir);
    struct ipam_range net = { .has_ip = true, .net = htonl(0x0af40100),
                              .plen = 24 };
    struct ipam ipam;
    struct ipam_attachment *att;

    ovs_assert(!ipam_init(&ipam, file));
    ovs_assert(!ipam_allocate(&ipam, "a", "eth0", "x/a", &net, &att));
    ovs_be32 ip_a = att->ip;
    ovs_assert(!ipam_set_attached(&ipam, att));
    ovs_assert(!ipam_allocate(&ipam, "b", "eth0", "x/b", &net, &att));
    ovs_assert(!ipam_allocate(&ipam, "c", "eth0", "x/c", &net, &att));
    ipam_destroy(&ipam);

    /* A restart finds them all, and goes on after the last one. */
    char *error = ipam_init(&ipam, file);
    CHECK(!error, "%s", error);
    CHECK(hmap_count(&ipam.attachments) == 3, "%"PRIuSIZE" attachments",
          hmap_count(&ipam.attachments));
    att = ipam_find(&ipam, "a", "eth0");
    CHECK(att && att->ip == ip_a && att->attached
          && !strcmp(att->pod, "x/a"), "a not restored");
    ovs_assert(!ipam_allocate(&ipam, "d", "eth0", "x/d", &net, &att));
    CHECK(ntohl(att->ip) == ntohl(ip_a) + 3, "d got "IP_FMT, IP_ARGS(att->ip));

    struct sset valid = SSET_INITIALIZER(&valid);
    sset_add(&valid, "a/eth0");
    sset_add(&valid, "d/eth0");
    struct svec released = SVEC_EMPTY_INITIALIZER;
    ovs_assert(!ipam_gc(&ipam, &valid, &released));
    svec_sort(&released);
    CHECK(released.n == 2 && !strcmp(released.names[0], "b/eth0")
          && !strcmp(released.names[1], "c/eth0"), "released %"PRIuSIZE,
          released.n);
    ipam_destroy(&ipam);
    ovs_assert(!ipam_init(&ipam, file));
    CHECK(hmap_count(&ipam.attachments) == 2, "after GC and restart: "
          "%"PRIuSIZE, hmap_count(&ipam.attachments));
    ipam_destroy(&ipam);

    /* A broken file is reported, not trusted. */
    FILE *f = fopen(file, "w");
    fputs("{\"attachments\":[{\"containerID\":\"z\"}]}", f);
    fclose(f);
    error = ipam_init(&ipam, file);
    CHECK(error && strstr(error, "incomplete"), "%s", error ? error : "");
    free(error);
    ipam_destroy(&ipam);

    svec_destroy(&released);
    sset_destroy(&valid);
    unlink(file);
    free(file);
    rmdir(dir);
}

/* A dual-stack range: fd00:10:244:1::/126 has four addresses, of which
 * ::0 (subnet-router anycast) and ::1 (the gateway) are never given. */
static struct ipam_range
dual_stack_range(unsigned int plen6)
{
    struct ipam_range range = { .has_ip = true,
                                .net = htonl(0x0af40100), .plen = 24,
                                .has_ip6 = true, .plen6 = plen6 };
    ovs_assert(ipv6_parse("fd00:10:244:1::", &range.net6));
    return range;
}

static char *
ip6_string(const struct in6_addr *ip6)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    ipv6_format_addr(ip6, &s);
    return ds_steal_cstr(&s);
}

static void
test_ipam_allocate_ipv6(void)
{
    struct ipam ipam;
    struct ipam_attachment *att;
    struct ipam_range range = dual_stack_range(126);
    ovs_assert(!ipam_init(&ipam, NULL));

    /* ::2 and ::3, once each, with an IPv4 address each. */
    struct sset seen = SSET_INITIALIZER(&seen);
    for (int i = 0; i < 2; i++) {
        char *id = xasprintf("c%d", i);
        char *error = ipam_allocate(&ipam, id, "eth0", "ns/p", &range, &att);
        CHECK(!error, "%s", error);
        char *ip6 = ip6_string(&att->ip6);
        CHECK(att->has_ip6 && (!strcmp(ip6, "fd00:10:244:1::2")
                               || !strcmp(ip6, "fd00:10:244:1::3")),
              "got %s", ip6);
        CHECK(sset_add(&seen, ip6), "%s handed out twice", ip6);
        CHECK(att->ip, "no IPv4 address");
        free(ip6);
        free(id);
    }

    /* The IPv6 range is full: nothing is allocated, not even IPv4. */
    char *error = ipam_allocate(&ipam, "c9", "eth0", "ns/p", &range, &att);
    CHECK(error && strstr(error, "every address of the IPv6 podCIDR "
                          "fd00:10:244:1::/126"), "full range: %s",
          error ? error : "allocated");
    free(error);
    CHECK(!ipam_find(&ipam, "c9", "eth0")
          && hmap_count(&ipam.by_ip) == 2, "a failed allocation stayed");

    /* A repeated ADD gets the same addresses. */
    struct ipam_attachment *again;
    att = ipam_find(&ipam, "c1", "eth0");
    ovs_assert(!ipam_allocate(&ipam, "c1", "eth0", "ns/p", &range, &again));
    CHECK(again == att, "not the same");

    /* A released IPv6 address is free again, and found by address. */
    struct in6_addr released = att->ip6;
    CHECK(ipam_find_by_ip6(&ipam, &released) == att, "not found by IPv6");
    ovs_assert(!ipam_release(&ipam, "c1", "eth0"));
    CHECK(!ipam_find_by_ip6(&ipam, &released), "released, still found");
    ovs_assert(!ipam_allocate(&ipam, "c10", "eth0", "ns/p", &range, &att));
    CHECK(ipv6_addr_equals(&att->ip6, &released),
          "only free IPv6 address not reused");

    /* An IPv4-only range gives no IPv6 address. */
    struct ipam_range v4 = { .has_ip = true, .net = htonl(0x0af40100),
                             .plen = 24 };
    ovs_assert(!ipam_allocate(&ipam, "v4", "eth0", "ns/p", &v4, &att));
    CHECK(!att->has_ip6 && hmap_count(&ipam.by_ip6) == 2, "IPv6 given");
    ipam_destroy(&ipam);

    /* In a /64, the first address given is ::2, then ::3. */
    range = dual_stack_range(64);
    ovs_assert(!ipam_init(&ipam, NULL));
    ovs_assert(!ipam_allocate(&ipam, "a", "eth0", "ns/a", &range, &att));
    char *ip6 = ip6_string(&att->ip6);
    CHECK(!strcmp(ip6, "fd00:10:244:1::2"), "first in /64: %s", ip6);
    free(ip6);
    ovs_assert(!ipam_allocate(&ipam, "b", "eth0", "ns/b", &range, &att));
    ip6 = ip6_string(&att->ip6);
    CHECK(!strcmp(ip6, "fd00:10:244:1::3"), "second in /64: %s", ip6);
    free(ip6);
    ipam_destroy(&ipam);
    sset_destroy(&seen);
}

static void
test_ipam_persist_ipv6(void)
{
    char dir[] = "/tmp/test-cni.XXXXXX";
    ovs_assert(mkdtemp(dir));
    char *file = xasprintf("%s/ipam.json", dir);
    struct ipam_range range = dual_stack_range(64);
    struct ipam ipam;
    struct ipam_attachment *att;

    /* A file of an IPv4-only node, as kovs wrote them before IPv6. */
    FILE *f = fopen(file, "w");
    fputs("{\"attachments\":[{\"attached\":true,\"containerID\":\"old\","
          "\"ifname\":\"eth0\",\"ip\":\"10.244.1.7\",\"pod\":\"x/old\"}],"
          "\"last\":\"10.244.1.7\"}", f);
    fclose(f);
    char *error = ipam_init(&ipam, file);
    CHECK(!error, "old file: %s", error);
    att = ipam_find(&ipam, "old", "eth0");
    CHECK(att && att->ip == htonl(0x0af40107) && !att->has_ip6
          && att->attached, "old attachment not restored as it was");

    /* New attachments on the now dual-stack node get both families. */
    ovs_assert(!ipam_allocate(&ipam, "a", "eth0", "x/a", &range, &att));
    CHECK(att->ip == htonl(0x0af40108) && att->has_ip6, "a: "IP_FMT,
          IP_ARGS(att->ip));
    struct in6_addr ip6_a = att->ip6;
    ovs_assert(!ipam_set_attached(&ipam, att));
    ovs_assert(!ipam_allocate(&ipam, "b", "eth0", "x/b", &range, &att));
    struct in6_addr ip6_b = att->ip6;
    ipam_destroy(&ipam);

    /* A restart finds both families, and goes on after the last ones. */
    error = ipam_init(&ipam, file);
    CHECK(!error, "%s", error);
    CHECK(hmap_count(&ipam.attachments) == 3
          && hmap_count(&ipam.by_ip6) == 2, "%"PRIuSIZE" attachments, "
          "%"PRIuSIZE" with IPv6", hmap_count(&ipam.attachments),
          hmap_count(&ipam.by_ip6));
    att = ipam_find(&ipam, "a", "eth0");
    CHECK(att && att->has_ip6 && ipv6_addr_equals(&att->ip6, &ip6_a)
          && att->attached, "a not restored");
    CHECK(ipam_find_by_ip6(&ipam, &ip6_b) == ipam_find(&ipam, "b", "eth0"),
          "b not restored");
    ovs_assert(!ipam_allocate(&ipam, "c", "eth0", "x/c", &range, &att));
    char *ip6 = ip6_string(&att->ip6);
    CHECK(!strcmp(ip6, "fd00:10:244:1::4"), "c got %s", ip6);
    free(ip6);

    /* A repeated ADD of the old attachment gives it an IPv6 address and
     * keeps its IPv4 one. */
    ovs_assert(!ipam_allocate(&ipam, "old", "eth0", "x/old", &range, &att));
    CHECK(att->ip == htonl(0x0af40107) && att->has_ip6,
          "old attachment not completed");

    /* GC frees both families. */
    struct sset valid = SSET_INITIALIZER(&valid);
    sset_add(&valid, "a/eth0");
    struct svec released = SVEC_EMPTY_INITIALIZER;
    ovs_assert(!ipam_gc(&ipam, &valid, &released));
    CHECK(released.n == 3 && hmap_count(&ipam.by_ip6) == 1
          && !ipam_find_by_ip6(&ipam, &ip6_b), "released %"PRIuSIZE,
          released.n);
    ipam_destroy(&ipam);
    ovs_assert(!ipam_init(&ipam, file));
    CHECK(hmap_count(&ipam.attachments) == 1
          && hmap_count(&ipam.by_ip6) == 1, "after GC and restart: "
          "%"PRIuSIZE, hmap_count(&ipam.attachments));
    ipam_destroy(&ipam);

    /* An IPv6 address that is not one is reported. */
    f = fopen(file, "w");
    fputs("{\"attachments\":[{\"containerID\":\"z\",\"ifname\":\"eth0\","
          "\"ip\":\"10.244.1.9\",\"ip6\":\"nope\",\"pod\":\"x/z\"}]}", f);
    fclose(f);
    error = ipam_init(&ipam, file);
    CHECK(error && strstr(error, "incomplete"), "%s", error ? error : "");
    free(error);
    ipam_destroy(&ipam);

    svec_destroy(&released);
    sset_destroy(&valid);
    unlink(file);
    free(file);
    rmdir(dir);
}

/* An IPv6-only node: attachments get an IPv6 address and no IPv4 one, a
 * MAC from the IPv6 address, survive a restart, and the CNI result has
 * only the IPv6 address and default route. */
static void
test_ipam_ipv6_only(void)
{
    char dir[] = "/tmp/test-cni.XXXXXX";
    ovs_assert(mkdtemp(dir));
    char *file = xasprintf("%s/ipam.json", dir);
    struct ipam_range range = dual_stack_range(64);
    range.has_ip = false;
    struct ipam ipam;
    struct ipam_attachment *att;

    const struct eth_addr mac2 = ETH_ADDR_C(0a, 58, 00, 00, 00, 02);
    const struct eth_addr mac3 = ETH_ADDR_C(0a, 58, 00, 00, 00, 03);
    ovs_assert(!ipam_init(&ipam, file));
    ovs_assert(!ipam_allocate(&ipam, "a", "eth0", "x/a", &range, &att));
    char *ip6 = ip6_string(&att->ip6);
    CHECK(!att->ip && att->has_ip6 && !strcmp(ip6, "fd00:10:244:1::2"),
          "a: "IP_FMT" and %s", IP_ARGS(att->ip), ip6);
    free(ip6);
    CHECK(eth_addr_equals(att->mac, mac2),
          "a: MAC "ETH_ADDR_FMT, ETH_ADDR_ARGS(att->mac));
    ovs_assert(!ipam_set_attached(&ipam, att));
    ovs_assert(!ipam_allocate(&ipam, "b", "eth0", "x/b", &range, &att));
    CHECK(!att->ip && att->has_ip6
          && eth_addr_equals(att->mac, mac3),
          "b: "IP_FMT", MAC "ETH_ADDR_FMT, IP_ARGS(att->ip),
          ETH_ADDR_ARGS(att->mac));
    CHECK(hmap_count(&ipam.by_ip) == 0 && hmap_count(&ipam.by_ip6) == 2,
          "%"PRIuSIZE" by IPv4, %"PRIuSIZE" by IPv6",
          hmap_count(&ipam.by_ip), hmap_count(&ipam.by_ip6));
    ipam_destroy(&ipam);

    /* A restart finds them as they were, and goes on after the last. */
    char *error = ipam_init(&ipam, file);
    CHECK(!error, "restart: %s", error);
    att = ipam_find(&ipam, "a", "eth0");
    CHECK(att && !att->ip && att->has_ip6 && att->attached
          && eth_addr_equals(att->mac, mac2), "a not restored");
    ovs_assert(!ipam_allocate(&ipam, "c", "eth0", "x/c", &range, &att));
    ip6 = ip6_string(&att->ip6);
    CHECK(!att->ip && !strcmp(ip6, "fd00:10:244:1::4"), "c got %s", ip6);
    free(ip6);
    ipam_destroy(&ipam);

    /* An attachment with neither address is reported. */
    FILE *f = fopen(file, "w");
    fputs("{\"attachments\":[{\"containerID\":\"z\",\"ifname\":\"eth0\","
          "\"pod\":\"x/z\"}]}", f);
    fclose(f);
    error = ipam_init(&ipam, file);
    CHECK(error && strstr(error, "incomplete"), "%s", error ? error : "");
    free(error);
    ipam_destroy(&ipam);
    unlink(file);
    free(file);
    rmdir(dir);

    /* The CNI result: the IPv6 address and route only. */
    struct cni_result r = sample_result();
    r.ip = 0;
    r.has_ip6 = true;
    ovs_assert(ipv6_parse("fd00:10:244:1::5", &r.ip6));
    ovs_assert(ipv6_parse("fd00:10:244:1::1", &r.gateway6));
    r.plen6 = 64;
    char *s = cni_result_to_json(&r, "1.0.0");
    CHECK(strstr(s, "\"ips\":[{\"address\":\"fd00:10:244:1::5/64\","
                 "\"gateway\":\"fd00:10:244:1::1\",\"interface\":1}],"
                 "\"routes\":[{\"dst\":\"::/0\","
                 "\"gw\":\"fd00:10:244:1::1\"}]"),
          "IPv6-only result: %s", s);
    free(s);
}

static const struct unit_test tests[] = {
    { "env-add", test_env_add },
    { "env-errors", test_env_errors },
    { "config", test_config },
    { "config-versions", test_config_versions },
    { "config-errors", test_config_errors },
    { "config-gc", test_config_gc },
    { "result-versions", test_result_versions },
    { "result-round-trip", test_result_round_trip },
    { "result-dual-stack", test_result_dual_stack },
    { "errors-and-version", test_errors_and_version },
    { "ipam-allocate", test_ipam_allocate },
    { "ipam-persist-and-gc", test_ipam_persist_and_gc },
    { "ipam-allocate-ipv6", test_ipam_allocate_ipv6 },
    { "ipam-persist-ipv6", test_ipam_persist_ipv6 },
    { "ipam-ipv6-only", test_ipam_ipv6_only },
};

int
main(int argc, char *argv[])
{
    return unit_test_main(argc, argv, tests, ARRAY_SIZE(tests));
}
