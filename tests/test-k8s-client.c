/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

/* Unit tests of the API server client's configuration (kubeconfig files,
 * in-cluster configuration, tokens, base64), and a driver that runs the
 * client against an API server.
 *
 * Usage: test-k8s-client NAME     runs the test case NAME
 *        test-k8s-client --list   lists the test cases
 *        test-k8s-client --all    runs every test case
 *        test-k8s-client watch URL CA-FILE TOKEN-FILE STOP-FILE
 *            runs the client against URL (watch timeout 2 s) until
 *            STOP-FILE exists and the cluster's objects, one "KIND
 *            [NAMESPACE/]NAME" line each, are what it says (or 10 s have
 *            passed since it appeared), then prints the objects and the
 *            client's status
 *
 * Test cases work in the current directory.  A failing case prints what it
 * expected and what it got, and exits 1. */

#include <config.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "k8s/k8s-client.h"
#include "k8s/k8s-model.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "svec.h"
#include "timeval.h"
#include "util.h"
#include "tests/fatal-check.h"

/* Fixtures. */

static void
write_file(const char *path, const char *content)
{
    FILE *f = fopen(path, "w");
    if (!f || fputs(content, f) < 0 || fclose(f)) {
        FAIL("%s: cannot write: %s", path, ovs_strerror(errno));
    }
}

/* A PEM certificate-shaped text and its base64; the client only checks
 * that decoded data looks like PEM, TLS libraries check the rest. */
#define PEM_TEXT "-----BEGIN CERTIFICATE-----\nMIIB\n" \
                 "-----END CERTIFICATE-----\n"
#define PEM_BASE64 "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUIKLS0tLS1" \
                   "FTkQgQ0VSVElGSUNBVEUtLS0tLQo="

/* Writes 'yaml' to "kubeconfig" in the current directory and reads it,
 * expecting success. */
static void
load_kubeconfig(const char *yaml, struct k8s_client_config *cfg)
{
    char *error;

    write_file("kubeconfig", yaml);
    k8s_client_config_init(cfg);
    if (k8s_client_config_from_kubeconfig("kubeconfig", cfg, &error)) {
        FAIL("kubeconfig: unexpected error: %s", error);
    }
}

/* Writes 'yaml' to "kubeconfig" and reads it, expecting an error that
 * contains 'expected'. */
static void
kubeconfig_fails_at(const char *file, int line, const char *yaml,
                    const char *expected)
{
    struct k8s_client_config cfg;
    char *error = NULL;

    write_file("kubeconfig", yaml);
    k8s_client_config_init(&cfg);
    int retval = k8s_client_config_from_kubeconfig("kubeconfig", &cfg,
                                                   &error);
    if (!retval) {
        fail_at(file, line, "expected an error containing \"%s\", got "
                "success", expected);
    }
    check_contains(file, line, "error", error, expected);
    check_str(file, line, "cfg.server after an error", cfg.server, NULL);
    free(error);
    k8s_client_config_destroy(&cfg);
}

#define KUBECONFIG_FAILS(YAML, EXPECTED) \
    kubeconfig_fails_at(__FILE__, __LINE__, YAML, EXPECTED)

/* A kubeconfig with two clusters, users and contexts; the current one is
 * the second.  'CLUSTER' and 'USER' are the second cluster's and user's
 * bodies. */
#define KUBECONFIG(CLUSTER, USER)                                   \
    "apiVersion: v1\n"                                              \
    "kind: Config\n"                                                \
    "clusters:\n"                                                   \
    "- name: other\n"                                               \
    "  cluster:\n"                                                  \
    "    server: https://other.example:6443\n"                      \
    "- name: prod\n"                                                \
    "  cluster:\n"                                                  \
    CLUSTER                                                         \
    "users:\n"                                                      \
    "- name: other\n"                                               \
    "  user:\n"                                                     \
    "    token: other-token\n"                                      \
    "- name: admin\n"                                               \
    "  user:\n"                                                     \
    USER                                                            \
    "contexts:\n"                                                   \
    "- name: first\n"                                               \
    "  context: {cluster: other, user: other}\n"                    \
    "- name: second\n"                                              \
    "  context:\n"                                                  \
    "    cluster: prod\n"                                           \
    "    user: admin\n"                                             \
    "    namespace: kube-system\n"                                  \
    "current-context: second\n"

/* Test cases. */

static void
test_kubeconfig_token_and_ca_data(void)
{
    struct k8s_client_config cfg;

    load_kubeconfig(KUBECONFIG(
                        "    server: https://10.0.0.1:6443/\n"
                        "    certificate-authority-data: " PEM_BASE64 "\n",
                        "    token: abc.def\n"), &cfg);
    CHECK_STR(cfg.server, "https://10.0.0.1:6443");
    CHECK_STR(cfg.ca_data, PEM_TEXT);
    CHECK_STR(cfg.ca_file, NULL);
    CHECK_STR(cfg.token, "abc.def");
    CHECK_STR(cfg.token_file, NULL);
    CHECK_STR(cfg.cert_file, NULL);
    CHECK_STR(cfg.cert_data, NULL);
    CHECK(!cfg.insecure);
    k8s_client_config_destroy(&cfg);
}

static void
test_kubeconfig_relative_files(void)
{
    struct k8s_client_config cfg;
    char cwd[4096];

    CHECK(getcwd(cwd, sizeof cwd));
    CHECK(!mkdir("kc", 0700) || errno == EEXIST);
    write_file("kc/ca.crt", PEM_TEXT);
    write_file("kc/token", "file-token\n");
    write_file("kc/client.crt", PEM_TEXT);
    write_file("kc/client.key", "-----BEGIN PRIVATE KEY-----\n");
    write_file("kc/config", KUBECONFIG(
                   "    server: https://api.example:443\n"
                   "    certificate-authority: ca.crt\n",
                   "    tokenFile: token\n"
                   "    client-certificate: client.crt\n"
                   "    client-key: client.key\n"));

    /* Relative to the kubeconfig's directory, not to the current one, and
     * made absolute, whether the kubeconfig's own name is or not. */
    char *ca = xasprintf("%s/kc/ca.crt", cwd);
    char *token_file = xasprintf("%s/kc/token", cwd);
    char *cert = xasprintf("%s/kc/client.crt", cwd);
    char *key = xasprintf("%s/kc/client.key", cwd);
    char *error;
    k8s_client_config_init(&cfg);
    if (k8s_client_config_from_kubeconfig("kc/config", &cfg, &error)) {
        FAIL("unexpected error: %s", error);
    }
    CHECK_STR(cfg.ca_file, ca);
    CHECK_STR(cfg.token_file, token_file);
    CHECK_STR(cfg.cert_file, cert);
    CHECK_STR(cfg.key_file, key);
    CHECK_STR(cfg.token, NULL);
    k8s_client_config_destroy(&cfg);

    char *path = xasprintf("%s/kc/config", cwd);
    k8s_client_config_init(&cfg);
    if (k8s_client_config_from_kubeconfig(path, &cfg, &error)) {
        FAIL("unexpected error: %s", error);
    }
    CHECK_STR(cfg.ca_file, ca);
    CHECK_STR(cfg.key_file, key);
    CHECK(!k8s_client_config_check(&cfg, &error));

    char *token;
    CHECK(!k8s_client_config_read_token(cfg.token_file, &token, &error));
    CHECK_STR(token, "file-token");
    free(token);
    k8s_client_config_destroy(&cfg);
    free(path);
    free(ca);
    free(token_file);
    free(cert);
    free(key);

    /* An absolute name stays as it is. */
    write_file("kc/config2", KUBECONFIG(
                   "    server: https://api.example:443\n"
                   "    certificate-authority: /nonexistent/ca.crt\n",
                   "    token: t\n"));
    k8s_client_config_init(&cfg);
    CHECK(k8s_client_config_from_kubeconfig("kc/config2", &cfg, &error));
    CHECK_CONTAINS(error, "kc/config2: clusters[1].cluster."
                   "certificate-authority: cannot read /nonexistent/ca.crt");
    free(error);
    k8s_client_config_destroy(&cfg);
}

static void
test_kubeconfig_client_certificate_data(void)
{
    struct k8s_client_config cfg;

    load_kubeconfig(KUBECONFIG(
                        "    server: https://api.example\n",
                        "    client-certificate-data: " PEM_BASE64 "\n"
                        "    client-key-data: " PEM_BASE64 "\n"), &cfg);
    CHECK_STR(cfg.server, "https://api.example");
    CHECK_STR(cfg.cert_data, PEM_TEXT);
    CHECK_STR(cfg.key_data, PEM_TEXT);
    CHECK_STR(cfg.token, NULL);
    CHECK_STR(cfg.ca_data, NULL);
    k8s_client_config_destroy(&cfg);
}

static void
test_kubeconfig_insecure(void)
{
    struct k8s_client_config cfg;

    load_kubeconfig(KUBECONFIG("    server: https://api.example\n"
                               "    insecure-skip-tls-verify: true\n",
                               "    token: t\n"), &cfg);
    CHECK(cfg.insecure);
    k8s_client_config_destroy(&cfg);

    load_kubeconfig(KUBECONFIG("    server: https://api.example\n"
                               "    insecure-skip-tls-verify: false\n",
                               "    token: t\n"), &cfg);
    CHECK(!cfg.insecure);
    k8s_client_config_destroy(&cfg);

    /* Only the current context's cluster counts. */
    load_kubeconfig("clusters:\n"
                    "- name: a\n"
                    "  cluster: {server: 'https://a',"
                    " insecure-skip-tls-verify: true}\n"
                    "- name: b\n"
                    "  cluster: {server: 'https://b'}\n"
                    "contexts:\n"
                    "- {name: ctx, context: {cluster: b}}\n"
                    "current-context: ctx\n", &cfg);
    CHECK_STR(cfg.server, "https://b");
    CHECK(!cfg.insecure);
    CHECK_STR(cfg.token, NULL);
    k8s_client_config_destroy(&cfg);

    KUBECONFIG_FAILS(KUBECONFIG("    server: https://api.example\n"
                                "    insecure-skip-tls-verify: 'true'\n",
                                "    token: t\n"),
                     "clusters[1].cluster.insecure-skip-tls-verify: "
                     "expected true or false");
    KUBECONFIG_FAILS(KUBECONFIG("    server: https://api.example\n"
                                "    insecure-skip-tls-verify: true\n"
                                "    certificate-authority-data: "
                                PEM_BASE64 "\n",
                                "    token: t\n"),
                     "insecure-skip-tls-verify cannot be combined");
}

static void
test_kubeconfig_errors_name_file_and_field(void)
{
    struct k8s_client_config cfg;
    char *error;

    k8s_client_config_init(&cfg);
    CHECK_INT(k8s_client_config_from_kubeconfig("no-such-file", &cfg,
                                                &error), ENOENT);
    CHECK_STR(error, "kubeconfig no-such-file: cannot read: No such file "
              "or directory");
    free(error);

    KUBECONFIG_FAILS("clusters: [\n", "kubeconfig kubeconfig: line ");
    KUBECONFIG_FAILS("", "kubeconfig kubeconfig: empty file");
    KUBECONFIG_FAILS("- a\n- b\n", "expected a mapping, got a sequence");
    KUBECONFIG_FAILS("clusters: []\n", "current-context: missing");
    KUBECONFIG_FAILS("current-context: [a]\n",
                     "current-context: expected a string, got a sequence");
    KUBECONFIG_FAILS("current-context: x\ncontexts: []\n",
                     "current-context: no entry named \"x\" in contexts");
    KUBECONFIG_FAILS("current-context: x\ncontexts: {}\n",
                     "contexts: expected a sequence, got a mapping");
    KUBECONFIG_FAILS("current-context: x\ncontexts: [3]\n",
                     "contexts[0]: expected a mapping, got a scalar");
    KUBECONFIG_FAILS("current-context: x\ncontexts: [{name: x}]\n",
                     "contexts[0].context: missing");
    KUBECONFIG_FAILS("current-context: x\n"
                     "contexts: [{name: x, context: {user: u}}]\n",
                     "contexts[0].context.cluster: missing");
    KUBECONFIG_FAILS("current-context: x\n"
                     "contexts: [{name: x, context: {cluster: c}}]\n",
                     "contexts[0].context.cluster: no entry named \"c\" in "
                     "clusters");
    KUBECONFIG_FAILS(KUBECONFIG("    certificate-authority-data: x\n",
                                "    token: t\n"),
                     "clusters[1].cluster.server: missing");
    KUBECONFIG_FAILS(KUBECONFIG("    server: ftp://x\n", "    token: t\n"),
                     "clusters[1].cluster.server: \"ftp://x\" is not an "
                     "http:// or https:// URL");
    KUBECONFIG_FAILS(KUBECONFIG("    server: https://x\n"
                                "    certificate-authority-data: a$b\n",
                                "    token: t\n"),
                     "clusters[1].cluster.certificate-authority-data: not "
                     "valid base64");
    KUBECONFIG_FAILS(KUBECONFIG("    server: https://x\n"
                                "    certificate-authority-data: aGVsbG8=\n",
                                "    token: t\n"),
                     "clusters[1].cluster.certificate-authority-data: does "
                     "not hold PEM data");
    KUBECONFIG_FAILS(KUBECONFIG("    server: https://x\n",
                                "    token: {a: b}\n"),
                     "users[1].user.token: expected a string, got a "
                     "mapping");
    KUBECONFIG_FAILS(KUBECONFIG("    server: https://x\n",
                                "    tokenFile: missing-token\n"),
                     "/missing-token: No such file");
    KUBECONFIG_FAILS(KUBECONFIG("    server: https://x\n",
                                "    tokenFile: missing-token\n"),
                     "users[1].user.tokenFile: cannot read /");
    KUBECONFIG_FAILS(KUBECONFIG("    server: https://x\n",
                                "    client-certificate-data: "
                                PEM_BASE64 "\n"),
                     "users[1].user: client-certificate without "
                     "client-key");
    KUBECONFIG_FAILS(KUBECONFIG("    server: https://x\n",
                                "    exec:\n"
                                "      command: get-token\n"),
                     "users[1].user.exec: credential plugins are not "
                     "supported");
    KUBECONFIG_FAILS(KUBECONFIG("    server: https://x\n",
                                "    token: \"a\\nb\"\n"),
                     "users[1].user.token: contains control characters");
    KUBECONFIG_FAILS("current-context: x\n"
                     "contexts: [{name: x, context: {cluster: c, user: u}}]"
                     "\nclusters: [{name: c, cluster: {server: 'https://c'}}]"
                     "\n",
                     "contexts[0].context.user: no entry named \"u\" in "
                     "users");
    k8s_client_config_destroy(&cfg);
}

/* Reads every prefix of a complete kubeconfig, and the file with each byte
 * replaced by a few troublesome ones: each either works or fails with a
 * message naming the kubeconfig, and nothing crashes or leaks. */
static void
test_kubeconfig_survives_mutations(void)
{
    static const char replacements[] = { '\0', ':', '-', '[', '{', '&',
                                         '*', '"', '\n', ' ' };
    const char *full = KUBECONFIG(
        "    server: https://api.example\n"
        "    certificate-authority-data: " PEM_BASE64 "\n",
        "    token: abc\n"
        "    client-certificate-data: " PEM_BASE64 "\n"
        "    client-key-data: " PEM_BASE64 "\n");
    size_t len = strlen(full);
    char *text = xmalloc(len + 1);
    unsigned int n_ok = 0, n_errors = 0;

    for (size_t i = 0; i <= len; i++) {
        for (size_t r = 0; r <= ARRAY_SIZE(replacements); r++) {
            struct k8s_client_config cfg;
            char *error = NULL;

            memcpy(text, full, len + 1);
            if (r == ARRAY_SIZE(replacements)) {
                text[i] = '\0';            /* A truncated file. */
            } else if (i < len) {
                text[i] = replacements[r];
            } else {
                continue;
            }

            write_file("kubeconfig", text);
            k8s_client_config_init(&cfg);
            if (k8s_client_config_from_kubeconfig("kubeconfig", &cfg,
                                                  &error)) {
                CHECK_CONTAINS(error, "kubeconfig kubeconfig: ");
                free(error);
                n_errors++;
            } else {
                CHECK(cfg.server != NULL);
                n_ok++;
            }
            k8s_client_config_destroy(&cfg);
        }
    }
    free(text);
    CHECK(n_ok > 0);
    CHECK(n_errors > 0);
}

static void
test_in_cluster(void)
{
    struct k8s_client_config cfg;
    char *error;

    CHECK(!mkdir("sa", 0700) || errno == EEXIST);
    write_file("sa/token", "  sa-token\n");
    write_file("sa/ca.crt", PEM_TEXT);

    setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
    setenv("KUBERNETES_SERVICE_PORT", "443", 1);
    k8s_client_config_init(&cfg);
    if (k8s_client_config_in_cluster("sa", &cfg, &error)) {
        FAIL("unexpected error: %s", error);
    }
    CHECK_STR(cfg.server, "https://10.96.0.1:443");
    CHECK_STR(cfg.token_file, "sa/token");
    CHECK_STR(cfg.ca_file, "sa/ca.crt");
    CHECK_STR(cfg.token, NULL);
    CHECK(!cfg.insecure);

    /* --k8s-api overrides the address, keeping the credentials. */
    CHECK(!k8s_client_config_set_server(&cfg, "https://192.0.2.1:6443",
                                        &error));
    CHECK_STR(cfg.server, "https://192.0.2.1:6443");
    CHECK_STR(cfg.token_file, "sa/token");
    k8s_client_config_destroy(&cfg);

    setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
    k8s_client_config_init(&cfg);
    CHECK(!k8s_client_config_in_cluster("sa", &cfg, &error));
    CHECK_STR(cfg.server, "https://[fd00::1]:443");
    k8s_client_config_destroy(&cfg);

    k8s_client_config_init(&cfg);
    CHECK_INT(k8s_client_config_in_cluster("no-sa", &cfg, &error), ENOENT);
    CHECK_CONTAINS(error, "service account file no-sa/token: No such file");
    free(error);

    unsetenv("KUBERNETES_SERVICE_PORT");
    CHECK_INT(k8s_client_config_in_cluster("sa", &cfg, &error), ENOENT);
    CHECK_CONTAINS(error, "KUBERNETES_SERVICE_HOST and "
                   "KUBERNETES_SERVICE_PORT must both be set");
    free(error);
    CHECK_STR(cfg.server, NULL);
    k8s_client_config_destroy(&cfg);
    unsetenv("KUBERNETES_SERVICE_HOST");
}

static void
test_server_urls_and_files_are_checked(void)
{
    struct k8s_client_config cfg;
    char *error;

    k8s_client_config_init(&cfg);
    CHECK(k8s_client_config_check(&cfg, &error));
    CHECK_STR(error, "no API server URL");
    free(error);

    CHECK(!k8s_client_config_set_server(&cfg, "http://127.0.0.1:8001//",
                                        &error));
    CHECK_STR(cfg.server, "http://127.0.0.1:8001");
    CHECK(k8s_client_config_set_server(&cfg, "127.0.0.1:6443", &error));
    CHECK_CONTAINS(error, "not an http:// or https:// URL");
    free(error);
    CHECK(k8s_client_config_set_server(&cfg, "https://", &error));
    CHECK_CONTAINS(error, "has no host");
    free(error);
    CHECK(k8s_client_config_set_server(&cfg, "https://a b", &error));
    CHECK_CONTAINS(error, "is not a plain URL");
    free(error);
    CHECK(k8s_client_config_set_server(&cfg, "https://a/?x=1", &error));
    CHECK_CONTAINS(error, "is not a plain URL");
    free(error);
    CHECK_STR(cfg.server, "http://127.0.0.1:8001");

    cfg.ca_file = xstrdup("no-such-ca.crt");
    CHECK_INT(k8s_client_config_check(&cfg, &error), ENOENT);
    CHECK_STR(error, "CA file no-such-ca.crt: cannot read: No such file or "
              "directory");
    free(error);
    free(cfg.ca_file);
    cfg.ca_file = NULL;

    cfg.cert_data = xstrdup(PEM_TEXT);
    CHECK(k8s_client_config_check(&cfg, &error));
    CHECK_CONTAINS(error, "needs a client key");
    free(error);
    cfg.key_data = xstrdup(PEM_TEXT);
    CHECK(!k8s_client_config_check(&cfg, &error));

    struct k8s_client_config copy;
    k8s_client_config_clone(&copy, &cfg);
    CHECK_STR(copy.server, cfg.server);
    CHECK_STR(copy.key_data, PEM_TEXT);
    k8s_client_config_destroy(&copy);
    k8s_client_config_destroy(&cfg);
    k8s_client_config_destroy(NULL);
}

static void
test_token_file(void)
{
    char *token, *error;

    write_file("token", "\n\t abc.DEF-123 \r\n");
    CHECK(!k8s_client_config_read_token("token", &token, &error));
    CHECK_STR(token, "abc.DEF-123");
    free(token);

    write_file("token", " \n");
    CHECK_INT(k8s_client_config_read_token("token", &token, &error), EINVAL);
    CHECK_STR(error, "token file token: empty");
    free(error);

    write_file("token", "a\nb\n");
    CHECK_INT(k8s_client_config_read_token("token", &token, &error), EINVAL);
    CHECK_STR(error, "token file token: contains control characters");
    free(error);

    CHECK_INT(k8s_client_config_read_token("no-token", &token, &error),
              ENOENT);
    CHECK_CONTAINS(error, "token file no-token: cannot read");
    free(error);
}

static void
check_base64(const char *in, const char *out)
{
    char *data;
    size_t len;

    if (!k8s_base64_decode(in, &data, &len)) {
        FAIL("\"%s\" did not decode", in);
    }
    CHECK_INT(len, strlen(out));
    CHECK_STR(data, out);
    free(data);
}

static void
test_base64(void)
{
    char *data;
    size_t len;

    check_base64("", "");
    check_base64("Zg==", "f");
    check_base64("Zm8=", "fo");
    check_base64("Zm9v", "foo");
    check_base64("Zm9vYg", "foob");
    check_base64("Zm9v\nYmFy\r\n", "foobar");
    check_base64(PEM_BASE64, PEM_TEXT);
    CHECK(k8s_base64_decode("AA==", &data, &len));
    CHECK_INT(len, 1);
    CHECK_INT(data[0], 0);
    free(data);

    CHECK(!k8s_base64_decode("Z", &data, &len));
    CHECK(!k8s_base64_decode("Zg=", &data, &len));
    CHECK(!k8s_base64_decode("Zm9v=", &data, &len));
    CHECK(!k8s_base64_decode("Zg==Zg==", &data, &len));
    CHECK(!k8s_base64_decode("Zm9-", &data, &len));
}

/* The client driver. */

/* Returns the cluster's objects, one "KIND [NAMESPACE/]NAME" line each, in
 * order. */
static char *
format_cluster(const struct k8s_cluster *cluster)
{
    struct svec lines = SVEC_EMPTY_INITIALIZER;
    struct ds s = DS_EMPTY_INITIALIZER;

    for (int kind = 0; kind < K8S_N_KINDS; kind++) {
        const struct k8s_object *obj;

        K8S_CLUSTER_FOR_EACH (obj, kind, cluster) {
            svec_add_nocopy(&lines, xasprintf("%s %s%s%s",
                                              k8s_kind_name(kind),
                                              obj->namespace,
                                              obj->namespace[0] ? "/" : "",
                                              obj->name));
        }
    }
    svec_sort(&lines);

    const char *line;
    size_t i;
    SVEC_FOR_EACH (i, line, &lines) {
        ds_put_format(&s, "%s\n", line);
    }
    svec_destroy(&lines);
    return ds_steal_cstr(&s);
}

/* Returns the contents of 'path', or NULL if it cannot be read. */
static char *
read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    struct ds s = DS_EMPTY_INITIALIZER;
    int c;

    if (!f) {
        return NULL;
    }
    while ((c = getc(f)) != EOF) {
        ds_put_char(&s, c);
    }
    fclose(f);
    return ds_steal_cstr(&s);
}

/* How long "watch" waits, once STOP-FILE exists, for the cluster to look
 * like it says. */
#define WATCH_STOP_TIMEOUT_MS 10000

static int
run_watch(int argc, char *argv[])
{
    struct k8s_client_config cfg;
    struct k8s_cluster cluster;
    char *error;

    if (argc != 6) {
        fprintf(stderr, "usage: %s watch URL CA-FILE TOKEN-FILE "
                "STOP-FILE\n", program_name);
        return 2;
    }

    k8s_client_config_init(&cfg);
    if (k8s_client_config_set_server(&cfg, argv[2], &error)) {
        ovs_fatal(0, "%s", error);
    }
    cfg.ca_file = xstrdup(argv[3]);
    cfg.token_file = xstrdup(argv[4]);
    cfg.watch_timeout = 2;
    if (k8s_client_config_check(&cfg, &error)) {
        ovs_fatal(0, "%s", error);
    }

    k8s_cluster_init(&cluster);
    struct k8s_client *client = k8s_client_create(&cfg);
    k8s_client_config_destroy(&cfg);

    long long int deadline = LLONG_MAX;
    char *objects;
    for (;;) {
        k8s_client_run(client, &cluster);
        k8s_cluster_clear_changes(&cluster);

        objects = format_cluster(&cluster);
        char *expected = read_file(argv[5]);
        if (expected) {
            if (deadline == LLONG_MAX) {
                deadline = time_msec() + WATCH_STOP_TIMEOUT_MS;
            }
            bool done = (k8s_client_is_synced(client)
                         && (!strcmp(expected, objects)
                             || time_msec() >= deadline));
            free(expected);
            if (done) {
                break;
            }
        }
        free(objects);

        k8s_client_wait(client);
        poll_timer_wait(100);
        poll_block();
    }

    fputs(objects, stdout);
    free(objects);

    struct ds status = DS_EMPTY_INITIALIZER;
    k8s_client_format_status(client, &status);
    fputs(ds_cstr(&status), stderr);
    ds_destroy(&status);

    k8s_client_destroy(client);
    k8s_cluster_destroy(&cluster);
    return 0;
}

/* A watch stream applies its events in order, the resourceVersion follows
 * bookmarks, a bad object or a line that is not JSON is skipped, and an
 * ERROR event or an expired history ends it. */
static void
test_watch_stream(void)
{
    static const char stream[] =
        "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Pod\","
        "\"metadata\":{\"namespace\":\"x\",\"name\":\"a\","
        "\"resourceVersion\":\"10\"},\"spec\":{\"nodeName\":\"n1\"},"
        "\"status\":{\"podIP\":\"10.244.1.10\"}}}\n"
        "\r\n"
        "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Pod\","
        "\"metadata\":{\"namespace\":\"x\",\"name\":\"b\","
        "\"resourceVersion\":\"11\"},\"spec\":{\"nodeName\":\"n1\"},"
        "\"status\":{\"podIP\":\"10.244.1.11\"}}}\n"
        "{\"type\":\"MODIFIED\",\"object\":{\"kind\":\"Pod\","
        "\"metadata\":{\"namespace\":\"x\",\"name\":\"a\","
        "\"resourceVersion\":\"12\"},\"spec\":{\"nodeName\":\"n1\"},"
        "\"status\":{\"podIP\":\"10.244.1.99\"}}}\n"
        "{\"type\":\"DELETED\",\"object\":{\"kind\":\"Pod\","
        "\"metadata\":{\"namespace\":\"x\",\"name\":\"b\","
        "\"resourceVersion\":\"13\"}}}\n"
        "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Pod\","
        "\"metadata\":{\"resourceVersion\":\"20\"}}}\n"
        "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\","
        "\"code\":500,\"message\":\"internal\"}}\n"
        "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Pod\","
        "\"metadata\":{\"namespace\":\"x\",\"name\":\"late\"}}}\n";
    struct k8s_cluster cluster;
    k8s_cluster_init(&cluster);
    char *rv, *end;
    unsigned long long int n = k8s_client_apply_watch_stream(
        &cluster, K8S_POD, stream, strlen(stream), &rv, &end);
    CHECK_INT(n, 4);
    CHECK_STR(rv, "20");
    CHECK_STR(end, "watch: ERROR event: code 500: internal");
    CHECK(!k8s_cluster_find(&cluster, K8S_POD, "x", "b"));
    CHECK(!k8s_cluster_find(&cluster, K8S_POD, "x", "late"));
    const struct k8s_object *a = k8s_cluster_find(&cluster, K8S_POD, "x",
                                                  "a");
    CHECK(a && k8s_pod_cast(a)->n_ips == 1);
    free(rv);
    free(end);

    /* Expired history ends the stream; a line that is not JSON is skipped
     * and the events after it apply; a partial last line is kept. */
    static const char expired[] =
        "{\"type\":\"ERROR\",\"object\":{\"code\":410}}\n";
    n = k8s_client_apply_watch_stream(&cluster, K8S_POD, expired,
                                      strlen(expired), &rv, &end);
    CHECK_INT(n, 0);
    CHECK(!rv);
    CHECK_STR(end, "watch: history expired (410)");
    free(end);
    static const char malformed[] =
        "{\"type\":\n"
        "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Pod\","
        "\"metadata\":{\"namespace\":\"x\",\"name\":\"after\","
        "\"resourceVersion\":\"30\"}}}\n";
    n = k8s_client_apply_watch_stream(&cluster, K8S_POD, malformed,
                                      strlen(malformed), &rv, &end);
    CHECK(!end);
    CHECK_INT(n, 1);
    CHECK_STR(rv, "30");
    CHECK(k8s_cluster_find(&cluster, K8S_POD, "x", "after"));
    free(rv);
    static const char partial[] = "{\"type\":";
    n = k8s_client_apply_watch_stream(&cluster, K8S_POD, partial,
                                      strlen(partial), &rv, &end);
    CHECK(!end);
    CHECK(k8s_cluster_find(&cluster, K8S_POD, "x", "a"));
    k8s_cluster_destroy(&cluster);
}

static const struct unit_test test_cases[] = {
    { "kubeconfig-token-and-ca-data", test_kubeconfig_token_and_ca_data },
    { "kubeconfig-relative-files", test_kubeconfig_relative_files },
    { "kubeconfig-client-certificate-data",
      test_kubeconfig_client_certificate_data },
    { "kubeconfig-insecure", test_kubeconfig_insecure },
    { "kubeconfig-errors-name-file-and-field",
      test_kubeconfig_errors_name_file_and_field },
    { "kubeconfig-survives-mutations", test_kubeconfig_survives_mutations },
    { "in-cluster", test_in_cluster },
    { "server-urls-and-files-are-checked",
      test_server_urls_and_files_are_checked },
    { "token-file", test_token_file },
    { "base64", test_base64 },
    { "watch-stream", test_watch_stream },
};

int
main(int argc, char *argv[])
{
    set_program_name(argv[0]);

    if (argc >= 2 && !strcmp(argv[1], "watch")) {
        vlog_set_levels(NULL, VLF_CONSOLE, VLL_WARN);
        return run_watch(argc, argv);
    }
    return unit_test_main(argc, argv, test_cases, ARRAY_SIZE(test_cases));
}
