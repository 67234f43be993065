/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#include <config.h>

#include "k8s-client.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "openvswitch/dynamic-string.h"
#include "util.h"

/* Where a pod finds its service account. */
#define K8S_SERVICE_ACCOUNT_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

/* Kubeconfig files, CA bundles, keys and tokens are small: anything larger
 * than this is refused rather than read. */
#define K8S_CONFIG_MAX_FILE (16 * 1024 * 1024)

void
k8s_client_config_init(struct k8s_client_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
}

void
k8s_client_config_destroy(struct k8s_client_config *cfg)
{
    if (cfg) {
        free(cfg->server);
        free(cfg->ca_file);
        free(cfg->ca_data);
        free(cfg->token);
        free(cfg->token_file);
        free(cfg->cert_file);
        free(cfg->key_file);
        free(cfg->cert_data);
        free(cfg->key_data);
        k8s_client_config_init(cfg);
    }
}

void
k8s_client_config_clone(struct k8s_client_config *dst,
                        const struct k8s_client_config *src)
{
    dst->server = nullable_xstrdup(src->server);
    dst->ca_file = nullable_xstrdup(src->ca_file);
    dst->ca_data = nullable_xstrdup(src->ca_data);
    dst->token = nullable_xstrdup(src->token);
    dst->token_file = nullable_xstrdup(src->token_file);
    dst->cert_file = nullable_xstrdup(src->cert_file);
    dst->key_file = nullable_xstrdup(src->key_file);
    dst->cert_data = nullable_xstrdup(src->cert_data);
    dst->key_data = nullable_xstrdup(src->key_data);
    dst->insecure = src->insecure;
    dst->watch_timeout = src->watch_timeout;
}

/* Reads the file at 'path' (at most K8S_CONFIG_MAX_FILE bytes) into
 * '*datap', null-terminated, and '*lenp'.  Returns 0 or an errno value
 * (EFBIG if the file is too large). */
static int
read_small_file(const char *path, char **datap, size_t *lenp)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        return errno;
    }

    size_t allocated = 4096, len = 0;
    char *data = xmalloc(allocated);
    for (;;) {
        if (len + 1 >= allocated) {
            if (allocated > K8S_CONFIG_MAX_FILE) {
                free(data);
                close(fd);
                return EFBIG;
            }
            data = x2nrealloc(data, &allocated, 1);
        }

        ssize_t n = read(fd, data + len, allocated - len - 1);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            int error = errno;
            free(data);
            close(fd);
            return error;
        } else if (!n) {
            break;
        }
        len += n;
    }
    close(fd);
    data[len] = '\0';
    *datap = data;
    *lenp = len;
    return 0;
}

/* Returns 0 if 'path' is a regular file this process can read, otherwise
 * an errno value. */
static int
check_readable(const char *path)
{
    struct stat st;

    if (access(path, R_OK)) {
        return errno;
    } else if (stat(path, &st)) {
        return errno;
    } else if (S_ISDIR(st.st_mode)) {
        return EISDIR;
    }
    return 0;
}

static const char *
file_error_string(int error)
{
    return error == EFBIG ? "file too large" : ovs_strerror(error);
}

/* Returns true if the 'n' bytes of 'token' can go into an HTTP header. */
static bool
token_is_valid(const char *token, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = token[i];
        if (c < ' ' || c == 0x7f) {
            return false;
        }
    }
    return true;
}

/* Base64. */

static int
base64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    } else if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    } else if (c == '+') {
        return 62;
    } else if (c == '/') {
        return 63;
    }
    return -1;
}

bool
k8s_base64_decode(const char *s, char **datap, size_t *lenp)
{
    char *data = xmalloc(strlen(s) / 4 * 3 + 4);
    size_t len = 0, n_pad = 0;
    unsigned int bits = 0, n_chars = 0;

    for (const char *p = s; *p; p++) {
        unsigned char c = *p;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            continue;
        } else if (c == '=') {
            n_pad++;
            continue;
        }

        int value = base64_value(c);
        if (value < 0 || n_pad) {
            free(data);
            return false;
        }
        bits = (bits << 6) | value;
        if (++n_chars % 4 == 0) {
            data[len++] = bits >> 16;
            data[len++] = bits >> 8;
            data[len++] = bits;
            bits = 0;
        }
    }

    /* 2 or 3 leftover characters carry 1 or 2 bytes; 1 cannot happen.  Any
     * padding must complete the last group. */
    switch (n_chars % 4) {
    case 0:
        if (n_pad) {
            free(data);
            return false;
        }
        break;
    case 1:
        free(data);
        return false;
    case 2:
        if (n_pad && n_pad != 2) {
            free(data);
            return false;
        }
        data[len++] = bits >> 4;
        break;
    case 3:
        if (n_pad && n_pad != 1) {
            free(data);
            return false;
        }
        data[len++] = bits >> 10;
        data[len++] = bits >> 2;
        break;
    }
    data[len] = '\0';
    *datap = data;
    *lenp = len;
    return true;
}

/* Kubeconfig files.
 *
 * The file is loaded as a libyaml document and walked by hand along the few
 * paths kovs reads.  Every error names the file and the field, as in
 *
 *     kubeconfig /root/.kube/config: clusters[0].cluster.server: missing
 */
struct kubeconfig {
    const char *path;
    char *dir;                  /* Absolute directory of 'path', for
                                 * relative names (NULL if unknown). */
    yaml_document_t doc;
    char *error;                /* First error, if any. */
};

static bool OVS_PRINTF_FORMAT(3, 4)
kc_error(struct kubeconfig *kc, const char *field, const char *format, ...)
{
    if (!kc->error) {
        struct ds s = DS_EMPTY_INITIALIZER;
        va_list args;

        ds_put_format(&s, "kubeconfig %s: ", kc->path);
        if (field) {
            ds_put_format(&s, "%s: ", field);
        }
        va_start(args, format);
        ds_put_format_valist(&s, format, args);
        va_end(args);
        kc->error = ds_steal_cstr(&s);
    }
    return false;
}

static const char *
kc_node_type_name(const yaml_node_t *node)
{
    switch (node->type) {
    case YAML_SCALAR_NODE:
        return "a scalar";
    case YAML_SEQUENCE_NODE:
        return "a sequence";
    case YAML_MAPPING_NODE:
        return "a mapping";
    case YAML_NO_NODE:
    default:
        return "nothing";
    }
}

/* Returns true if 'node' is a scalar that YAML reads as null. */
static bool
kc_is_null(const yaml_node_t *node)
{
    if (node->type != YAML_SCALAR_NODE
        || node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
        return false;
    }

    const char *s = (const char *) node->data.scalar.value;
    return (!s[0] || !strcmp(s, "~") || !strcmp(s, "null")
            || !strcmp(s, "Null") || !strcmp(s, "NULL"));
}

/* Returns the value of 'key' in mapping 'map', or NULL if it is absent or
 * null. */
static yaml_node_t *
kc_member(struct kubeconfig *kc, const yaml_node_t *map, const char *key)
{
    for (yaml_node_pair_t *pair = map->data.mapping.pairs.start;
         pair < map->data.mapping.pairs.top; pair++) {
        yaml_node_t *k = yaml_document_get_node(&kc->doc, pair->key);
        if (k && k->type == YAML_SCALAR_NODE
            && !strcmp((const char *) k->data.scalar.value, key)) {
            yaml_node_t *v = yaml_document_get_node(&kc->doc, pair->value);
            return v && !kc_is_null(v) ? v : NULL;
        }
    }
    return NULL;
}

/* Stores in '*valuep' the string value of 'key' in 'map' (whose field name
 * is 'field', NULL for the top level), or NULL if it is absent.  Returns
 * false, with an error, if it is not a string. */
static bool
kc_string(struct kubeconfig *kc, const yaml_node_t *map, const char *field,
          const char *key, const char **valuep)
{
    const yaml_node_t *node = kc_member(kc, map, key);

    *valuep = NULL;
    if (!node) {
        return true;
    } else if (node->type != YAML_SCALAR_NODE) {
        return kc_error(kc, NULL, "%s%s%s: expected a string, got %s",
                        field ? field : "", field ? "." : "", key,
                        kc_node_type_name(node));
    } else if (memchr(node->data.scalar.value, '\0',
                      node->data.scalar.length)) {
        return kc_error(kc, NULL, "%s%s%s: contains a null character",
                        field ? field : "", field ? "." : "", key);
    }
    *valuep = (const char *) node->data.scalar.value;
    return true;
}

/* Like kc_string() for a boolean, false if absent. */
static bool
kc_bool(struct kubeconfig *kc, const yaml_node_t *map, const char *field,
        const char *key, bool *valuep)
{
    static const char *const trues[] = { "true", "True", "TRUE" };
    static const char *const falses[] = { "false", "False", "FALSE" };
    const yaml_node_t *node = kc_member(kc, map, key);

    *valuep = false;
    if (!node) {
        return true;
    }
    if (node->type == YAML_SCALAR_NODE
        && node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
        const char *s = (const char *) node->data.scalar.value;
        for (size_t i = 0; i < ARRAY_SIZE(trues); i++) {
            if (!strcmp(s, trues[i])) {
                *valuep = true;
                return true;
            } else if (!strcmp(s, falses[i])) {
                return true;
            }
        }
    }
    return kc_error(kc, NULL, "%s.%s: expected true or false", field, key);
}

/* Makes 'name' absolute, relative to the kubeconfig's directory. */
static char *
kc_path(const struct kubeconfig *kc, const char *name)
{
    return (name[0] == '/' || !kc->dir
            ? xstrdup(name) : xasprintf("%s/%s", kc->dir, name));
}

/* Finds, in the sequence 'list' of the root (such as "contexts"), the item
 * whose "name" is 'name', and returns its member 'member' (such as
 * "context"), which must be a mapping, with its field name in
 * '*fieldp' (the caller frees it).  Returns NULL, with an error, if there
 * is no such item. */
static const yaml_node_t *
kc_find_named(struct kubeconfig *kc, const yaml_node_t *root,
              const char *list, const char *name, const char *member,
              const char *referrer, char **fieldp)
{
    const yaml_node_t *seq = kc_member(kc, root, list);
    if (seq && seq->type != YAML_SEQUENCE_NODE) {
        kc_error(kc, list, "expected a sequence, got %s",
                 kc_node_type_name(seq));
        return NULL;
    }

    size_t n = seq ? seq->data.sequence.items.top
                     - seq->data.sequence.items.start : 0;
    for (size_t i = 0; i < n; i++) {
        const yaml_node_t *item = yaml_document_get_node(
            &kc->doc, seq->data.sequence.items.start[i]);
        char *field = xasprintf("%s[%"PRIuSIZE"]", list, i);
        const char *item_name;

        if (!item || item->type != YAML_MAPPING_NODE) {
            kc_error(kc, field, "expected a mapping, got %s",
                     item ? kc_node_type_name(item) : "nothing");
            free(field);
            return NULL;
        }
        if (!kc_string(kc, item, field, "name", &item_name)) {
            free(field);
            return NULL;
        }
        if (item_name && !strcmp(item_name, name)) {
            const yaml_node_t *value = kc_member(kc, item, member);
            if (!value) {
                kc_error(kc, NULL, "%s.%s: missing", field, member);
                free(field);
                return NULL;
            } else if (value->type != YAML_MAPPING_NODE) {
                kc_error(kc, NULL, "%s.%s: expected a mapping, got %s",
                         field, member, kc_node_type_name(value));
                free(field);
                return NULL;
            }
            *fieldp = xasprintf("%s.%s", field, member);
            free(field);
            return value;
        }
        free(field);
    }
    kc_error(kc, referrer, "no entry named \"%s\" in %s", name, list);
    return NULL;
}

/* Sets '*dstp' to the file named by 'key' in 'map', made absolute and
 * checked to be readable. */
static bool
kc_file(struct kubeconfig *kc, const yaml_node_t *map, const char *field,
        const char *key, char **dstp)
{
    const char *name;

    if (!kc_string(kc, map, field, key, &name)) {
        return false;
    } else if (!name) {
        return true;
    }

    char *path = kc_path(kc, name);
    int error = check_readable(path);
    if (error) {
        kc_error(kc, NULL, "%s.%s: cannot read %s: %s", field, key, path,
                 ovs_strerror(error));
        free(path);
        return false;
    }
    free(*dstp);
    *dstp = path;
    return true;
}

/* Sets '*dstp' to the base64-decoded value of 'key' in 'map', which must
 * be PEM text (a certificate or a key). */
static bool
kc_pem_data(struct kubeconfig *kc, const yaml_node_t *map, const char *field,
            const char *key, char **dstp)
{
    const char *value;
    char *data;
    size_t len;

    if (!kc_string(kc, map, field, key, &value)) {
        return false;
    } else if (!value) {
        return true;
    } else if (!k8s_base64_decode(value, &data, &len)) {
        return kc_error(kc, NULL, "%s.%s: not valid base64", field, key);
    } else if (strlen(data) != len || !strstr(data, "-----BEGIN ")) {
        free(data);
        return kc_error(kc, NULL, "%s.%s: does not hold PEM data", field,
                        key);
    }
    free(*dstp);
    *dstp = data;
    return true;
}

static bool
kc_read_cluster(struct kubeconfig *kc, const yaml_node_t *cluster,
                const char *field, struct k8s_client_config *cfg)
{
    const char *server;

    if (!kc_string(kc, cluster, field, "server", &server)) {
        return false;
    } else if (!server) {
        return kc_error(kc, NULL, "%s.server: missing", field);
    }

    char *error;
    if (k8s_client_config_set_server(cfg, server, &error)) {
        kc_error(kc, NULL, "%s.server: %s", field, error);
        free(error);
        return false;
    }

    if (!kc_file(kc, cluster, field, "certificate-authority", &cfg->ca_file)
        || !kc_pem_data(kc, cluster, field, "certificate-authority-data",
                        &cfg->ca_data)
        || !kc_bool(kc, cluster, field, "insecure-skip-tls-verify",
                    &cfg->insecure)) {
        return false;
    }
    if (cfg->insecure && (cfg->ca_file || cfg->ca_data)) {
        return kc_error(kc, field, "insecure-skip-tls-verify cannot be "
                        "combined with a certificate authority");
    }
    return true;
}

static bool
kc_read_user(struct kubeconfig *kc, const yaml_node_t *user,
             const char *field, struct k8s_client_config *cfg)
{
    const char *token;

    if (!kc_string(kc, user, field, "token", &token)
        || !kc_file(kc, user, field, "tokenFile", &cfg->token_file)
        || !kc_file(kc, user, field, "client-certificate", &cfg->cert_file)
        || !kc_pem_data(kc, user, field, "client-certificate-data",
                        &cfg->cert_data)
        || !kc_file(kc, user, field, "client-key", &cfg->key_file)
        || !kc_pem_data(kc, user, field, "client-key-data",
                        &cfg->key_data)) {
        return false;
    }
    if (token) {
        if (!token_is_valid(token, strlen(token))) {
            return kc_error(kc, NULL, "%s.token: contains control "
                            "characters", field);
        }
        cfg->token = xstrdup(token);
    }

    bool has_cert = cfg->cert_file || cfg->cert_data;
    bool has_key = cfg->key_file || cfg->key_data;
    if (has_cert != has_key) {
        return kc_error(kc, field, "%s without %s",
                        has_cert ? "client-certificate" : "client-key",
                        has_cert ? "client-key" : "client-certificate");
    }
    if (!token && !cfg->token_file && !has_cert) {
        if (kc_member(kc, user, "exec")) {
            return kc_error(kc, NULL, "%s.exec: credential plugins are not "
                            "supported (use a token or a client "
                            "certificate)", field);
        } else if (kc_member(kc, user, "auth-provider")) {
            return kc_error(kc, NULL, "%s.auth-provider: not supported "
                            "(use a token or a client certificate)", field);
        }
    }
    return true;
}

/* Walks the loaded document. */
static bool
kc_read(struct kubeconfig *kc, struct k8s_client_config *cfg)
{
    const yaml_node_t *root = yaml_document_get_root_node(&kc->doc);
    if (!root) {
        return kc_error(kc, NULL, "empty file");
    } else if (root->type != YAML_MAPPING_NODE) {
        return kc_error(kc, NULL, "expected a mapping, got %s",
                        kc_node_type_name(root));
    }

    const char *current;
    if (!kc_string(kc, root, NULL, "current-context", &current)) {
        return false;
    } else if (!current || !current[0]) {
        return kc_error(kc, "current-context", "missing");
    }

    char *ctx_field = NULL;
    const yaml_node_t *ctx = kc_find_named(kc, root, "contexts", current,
                                           "context", "current-context",
                                           &ctx_field);
    if (!ctx) {
        return false;
    }

    const char *cluster_name, *user_name;
    if (!kc_string(kc, ctx, ctx_field, "cluster", &cluster_name)
        || !kc_string(kc, ctx, ctx_field, "user", &user_name)) {
        free(ctx_field);
        return false;
    } else if (!cluster_name) {
        kc_error(kc, NULL, "%s.cluster: missing", ctx_field);
        free(ctx_field);
        return false;
    }

    char *referrer = xasprintf("%s.cluster", ctx_field);
    char *cluster_field = NULL;
    const yaml_node_t *cluster = kc_find_named(kc, root, "clusters",
                                               cluster_name, "cluster",
                                               referrer, &cluster_field);
    free(referrer);
    bool ok = cluster && kc_read_cluster(kc, cluster, cluster_field, cfg);
    free(cluster_field);

    if (ok && user_name) {
        char *user_field = NULL;

        referrer = xasprintf("%s.user", ctx_field);
        const yaml_node_t *user = kc_find_named(kc, root, "users", user_name,
                                                "user", referrer,
                                                &user_field);
        free(referrer);
        ok = user && kc_read_user(kc, user, user_field, cfg);
        free(user_field);
    }
    free(ctx_field);
    return ok;
}

int
k8s_client_config_from_kubeconfig(const char *path,
                                  struct k8s_client_config *cfg,
                                  char **errorp)
{
    char *data;
    size_t len;
    int error = read_small_file(path, &data, &len);
    if (error) {
        *errorp = xasprintf("kubeconfig %s: cannot read: %s", path,
                            file_error_string(error));
        return error;
    }

    /* The daemon may change directory: file names are made absolute. */
    struct kubeconfig kc = { .path = path };
    char *abs_path = abs_file_name(NULL, path);
    if (abs_path) {
        kc.dir = dir_name(abs_path);
        free(abs_path);
    }

    yaml_parser_t parser;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, (const unsigned char *) data, len);
    if (!yaml_parser_load(&parser, &kc.doc)) {
        *errorp = xasprintf("kubeconfig %s: line %zu, column %zu: %s%s%s",
                            path, parser.problem_mark.line + 1,
                            parser.problem_mark.column + 1,
                            parser.problem ? parser.problem : "not YAML",
                            parser.context ? " " : "",
                            parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        free(kc.dir);
        free(data);
        return EINVAL;
    }
    yaml_parser_delete(&parser);
    free(data);

    struct k8s_client_config new;
    k8s_client_config_init(&new);
    new.watch_timeout = cfg->watch_timeout;
    if (kc_read(&kc, &new)) {
        k8s_client_config_destroy(cfg);
        *cfg = new;
        *errorp = NULL;
        error = 0;
    } else {
        k8s_client_config_destroy(&new);
        *errorp = kc.error;
        error = EINVAL;
    }
    yaml_document_delete(&kc.doc);
    free(kc.dir);
    return error;
}

/* In-cluster configuration. */

int
k8s_client_config_in_cluster(const char *sa_dir,
                             struct k8s_client_config *cfg, char **errorp)
{
    const char *host = getenv("KUBERNETES_SERVICE_HOST");
    const char *port = getenv("KUBERNETES_SERVICE_PORT");

    if (!host || !host[0] || !port || !port[0]) {
        *errorp = xstrdup("in-cluster configuration: KUBERNETES_SERVICE_HOST "
                          "and KUBERNETES_SERVICE_PORT must both be set");
        return ENOENT;
    }
    if (!sa_dir) {
        sa_dir = K8S_SERVICE_ACCOUNT_DIR;
    }

    char *token_file = xasprintf("%s/token", sa_dir);
    char *ca_file = xasprintf("%s/ca.crt", sa_dir);
    const char *bad_file = NULL;
    int error = check_readable(token_file);
    if (error) {
        bad_file = token_file;
    } else {
        error = check_readable(ca_file);
        if (error) {
            bad_file = ca_file;
        }
    }
    if (error) {
        *errorp = xasprintf("in-cluster configuration: service account "
                            "file %s: %s", bad_file, ovs_strerror(error));
        free(token_file);
        free(ca_file);
        return error;
    }

    char *url = (strchr(host, ':')
                 ? xasprintf("https://[%s]:%s", host, port)
                 : xasprintf("https://%s:%s", host, port));
    char *url_error;
    error = k8s_client_config_set_server(cfg, url, &url_error);
    free(url);
    if (error) {
        *errorp = xasprintf("in-cluster configuration: "
                            "KUBERNETES_SERVICE_HOST and "
                            "KUBERNETES_SERVICE_PORT: %s", url_error);
        free(url_error);
        free(token_file);
        free(ca_file);
        return error;
    }

    free(cfg->token_file);
    cfg->token_file = token_file;
    free(cfg->ca_file);
    cfg->ca_file = ca_file;
    *errorp = NULL;
    return 0;
}

int
k8s_client_config_set_server(struct k8s_client_config *cfg, const char *url,
                             char **errorp)
{
    const char *rest;

    if (!strncmp(url, "https://", 8)) {
        rest = url + 8;
    } else if (!strncmp(url, "http://", 7)) {
        rest = url + 7;
    } else {
        *errorp = xasprintf("\"%s\" is not an http:// or https:// URL", url);
        return EINVAL;
    }
    if (!rest[0] || rest[0] == '/') {
        *errorp = xasprintf("\"%s\" has no host", url);
        return EINVAL;
    }
    for (const char *p = url; *p; p++) {
        if ((unsigned char) *p <= ' ' || *p == '?' || *p == '#') {
            *errorp = xasprintf("\"%s\" is not a plain URL", url);
            return EINVAL;
        }
    }

    size_t len = strlen(url);
    while (len && url[len - 1] == '/') {
        len--;
    }
    free(cfg->server);
    cfg->server = xmemdup0(url, len);
    *errorp = NULL;
    return 0;
}

int
k8s_client_config_check(const struct k8s_client_config *cfg, char **errorp)
{
    const struct {
        const char *what;
        const char *file;
    } files[] = {
        { "CA file", cfg->ca_file },
        { "token file", cfg->token_file },
        { "client certificate file", cfg->cert_file },
        { "client key file", cfg->key_file },
    };

    if (!cfg->server) {
        *errorp = xstrdup("no API server URL");
        return EINVAL;
    }
    for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
        if (files[i].file) {
            int error = check_readable(files[i].file);
            if (error) {
                *errorp = xasprintf("%s %s: cannot read: %s", files[i].what,
                                    files[i].file, ovs_strerror(error));
                return error;
            }
        }
    }
    if (!(cfg->cert_file || cfg->cert_data)
        != !(cfg->key_file || cfg->key_data)) {
        *errorp = xstrdup("a client certificate needs a client key and "
                          "vice versa");
        return EINVAL;
    }
    *errorp = NULL;
    return 0;
}

/* Reads the bearer token from 'path' into '*tokenp' (the caller frees it),
 * without the surrounding white space.  Returns 0, or an errno value with
 * '*errorp' set (the caller frees it). */
int
k8s_client_config_read_token(const char *path, char **tokenp, char **errorp)
{
    char *data;
    size_t len;
    int error = read_small_file(path, &data, &len);
    if (error) {
        *errorp = xasprintf("token file %s: cannot read: %s", path,
                            file_error_string(error));
        return error;
    }

    const char *start = data;
    while (*start == ' ' || *start == '\t' || *start == '\n'
           || *start == '\r') {
        start++;
    }
    size_t n = strlen(start);
    while (n && (start[n - 1] == ' ' || start[n - 1] == '\t'
                 || start[n - 1] == '\n' || start[n - 1] == '\r')) {
        n--;
    }
    if (!n || strlen(data) != len || !token_is_valid(start, n)) {
        *errorp = xasprintf("token file %s: %s", path,
                            !n ? "empty" : "contains control characters");
        free(data);
        return EINVAL;
    }
    *tokenp = xmemdup0(start, n);
    free(data);
    *errorp = NULL;
    return 0;
}
