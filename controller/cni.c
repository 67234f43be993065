/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#include <config.h>

#include "controller/cni.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <string.h>
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "smap.h"
#include "util.h"

const char *const cni_supported_versions[] = { "0.4.0", "1.0.0", "1.1.0" };
const size_t cni_n_supported_versions = ARRAY_SIZE(cni_supported_versions);

/* How long ADD waits for the pod's flows unless the configuration says. */
#define CNI_DEFAULT_INSTALL_TIMEOUT_MS 10000

static const char *const command_names[] = {
    [CNI_ADD] = "ADD",
    [CNI_DEL] = "DEL",
    [CNI_CHECK] = "CHECK",
    [CNI_STATUS] = "STATUS",
    [CNI_GC] = "GC",
    [CNI_VERSION] = "VERSION",
};

const char *
cni_command_name(enum cni_command command)
{
    return command_names[command];
}

/* The specification's short messages for its well-known codes. */
static const char *
error_msg(int code)
{
    switch (code) {
    case CNI_ERR_INCOMPATIBLE_VERSION: return "incompatible CNI version";
    case CNI_ERR_UNSUPPORTED_FIELD: return "unsupported field in network "
                                           "configuration";
    case CNI_ERR_UNKNOWN_CONTAINER: return "container unknown or does not "
                                           "exist";
    case CNI_ERR_INVALID_ENV: return "invalid necessary environment "
                                     "variables";
    case CNI_ERR_IO: return "I/O failure";
    case CNI_ERR_DECODE: return "failed to decode content";
    case CNI_ERR_INVALID_CONFIG: return "invalid network config";
    case CNI_ERR_TRY_AGAIN: return "try again later";
    case CNI_ERR_NOT_AVAILABLE: return "plugin not available";
    case CNI_ERR_LIMITED_CONNECTIVITY: return "plugin not available, "
                                              "existing containers may "
                                              "have limited connectivity";
    case CNI_ERR_CONTROLLER: return "kovs-controller refused the request";
    case CNI_ERR_NETNS: return "failed to configure the pod's interface";
    case CNI_ERR_FLOWS_TIMEOUT: return "the pod's flows were not installed "
                                       "in time";
    case CNI_ERR_CHECK_FAILED: return "the pod's network is not as ADD "
                                      "left it";
    default: return "error";
    }
}

/* Sets 'error' to 'code' with the details formatted from 'details_fmt'
 * (NULL for none), replacing what it held. */
void
cni_error_set(struct cni_error *error, int code, const char *details_fmt,
              ...)
{
    cni_error_destroy(error);
    error->code = code;
    error->msg = xstrdup(error_msg(code));
    if (details_fmt) {
        va_list args;
        va_start(args, details_fmt);
        error->details = xvasprintf(details_fmt, args);
        va_end(args);
    }
}

void
cni_error_destroy(struct cni_error *error)
{
    if (error) {
        free(error->msg);
        free(error->details);
        error->msg = error->details = NULL;
        error->code = 0;
    }
}

char *
cni_error_to_json(const struct cni_error *error, const char *version)
{
    struct json *j = json_object_create();
    json_object_put_string(j, "cniVersion",
                           version && cni_version_index(version) >= 0
                           ? version : CNI_LATEST_VERSION);
    json_object_put(j, "code", json_integer_create(error->code));
    json_object_put_string(j, "msg", error->msg ? error->msg
                                                : error_msg(error->code));
    if (error->details) {
        json_object_put_string(j, "details", error->details);
    }
    char *s = json_to_string(j, JSSF_SORT);
    json_destroy(j);
    return s;
}

int
cni_version_index(const char *version)
{
    for (size_t i = 0; i < cni_n_supported_versions; i++) {
        if (!strcmp(version, cni_supported_versions[i])) {
            return i;
        }
    }
    return -1;
}

/* Environment. */

bool
cni_container_id_is_valid(const char *name)
{
    if (!name || !name[0]
        || !strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                   "0123456789", name[0])) {
        return false;
    }
    return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                        "0123456789_.-") == strlen(name);
}

bool
cni_ifname_is_valid(const char *name)
{
    size_t len = name ? strlen(name) : 0;
    return (len > 0 && len < 16 && strcmp(name, ".") && strcmp(name, "..")
            && !strpbrk(name, "/: \t\n\r\v\f"));
}

static bool
parse_command(const char *s, enum cni_command *command)
{
    for (size_t i = 0; i < ARRAY_SIZE(command_names); i++) {
        if (!strcmp(s, command_names[i])) {
            *command = i;
            return true;
        }
    }
    return false;
}

/* Parses CNI_ARGS, "KEY=VALUE;KEY=VALUE...", into 'e'.  Unknown keys are
 * an error unless IgnoreUnknown is true. */
static bool
parse_cni_args(const char *args, struct cni_env *e, struct cni_error *error)
{
    struct smap kv = SMAP_INITIALIZER(&kv);
    char *copy = xstrdup(args);
    char *save = NULL;
    bool ok = true;

    for (char *tok = strtok_r(copy, ";", &save); tok;
         tok = strtok_r(NULL, ";", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq || eq == tok) {
            cni_error_set(error, CNI_ERR_INVALID_ENV,
                          "CNI_ARGS: \"%s\" is not KEY=VALUE", tok);
            ok = false;
            goto out;
        }
        *eq = '\0';
        smap_replace(&kv, tok, eq + 1);
    }

    const char *ignore = smap_get(&kv, "IgnoreUnknown");
    bool ignore_unknown = ignore && (!strcasecmp(ignore, "true")
                                     || !strcmp(ignore, "1"));
    static const char *const known[] = {
        "IgnoreUnknown", "K8S_POD_NAMESPACE", "K8S_POD_NAME",
        "K8S_POD_INFRA_CONTAINER_ID", "K8S_POD_UID",
    };
    struct smap_node *node;
    SMAP_FOR_EACH (node, &kv) {
        bool is_known = false;
        for (size_t i = 0; i < ARRAY_SIZE(known); i++) {
            is_known |= !strcmp(node->key, known[i]);
        }
        if (!is_known && !ignore_unknown) {
            cni_error_set(error, CNI_ERR_INVALID_ENV,
                          "CNI_ARGS: unknown argument %s (without "
                          "IgnoreUnknown=1)", node->key);
            ok = false;
            goto out;
        }
    }
    e->pod_namespace = nullable_xstrdup(smap_get(&kv, "K8S_POD_NAMESPACE"));
    e->pod_name = nullable_xstrdup(smap_get(&kv, "K8S_POD_NAME"));
    e->infra_container_id = nullable_xstrdup(
        smap_get(&kv, "K8S_POD_INFRA_CONTAINER_ID"));

out:
    free(copy);
    smap_destroy(&kv);
    return ok;
}

/* Returns the non-empty value of 'name' in 'env', or NULL. */
static const char *
env_get(const struct smap *env, const char *name)
{
    const char *value = smap_get(env, name);
    return value && value[0] ? value : NULL;
}

bool
cni_env_parse(const struct smap *env, struct cni_env *e,
              struct cni_error *error)
{
    memset(e, 0, sizeof *e);

    const char *command = env_get(env, "CNI_COMMAND");
    if (!command) {
        cni_error_set(error, CNI_ERR_INVALID_ENV, "CNI_COMMAND is not set");
        return false;
    }
    if (!parse_command(command, &e->command)) {
        cni_error_set(error, CNI_ERR_INVALID_ENV,
                      "CNI_COMMAND=%s: unknown command", command);
        return false;
    }
    e->container_id = nullable_xstrdup(env_get(env, "CNI_CONTAINERID"));
    e->netns = nullable_xstrdup(env_get(env, "CNI_NETNS"));
    e->ifname = nullable_xstrdup(env_get(env, "CNI_IFNAME"));
    e->path = nullable_xstrdup(env_get(env, "CNI_PATH"));

    if (e->command == CNI_ADD || e->command == CNI_DEL
        || e->command == CNI_CHECK) {
        /* Attachment verbs need the attachment's identity... */
        if (!e->container_id) {
            cni_error_set(error, CNI_ERR_INVALID_ENV,
                          "CNI_CONTAINERID is not set");
            return false;
        }
        if (!cni_container_id_is_valid(e->container_id)) {
            cni_error_set(error, CNI_ERR_INVALID_ENV,
                          "CNI_CONTAINERID=%s: only letters, digits, '_', "
                          "'.' and '-' are allowed", e->container_id);
            return false;
        }
        if (!e->ifname) {
            cni_error_set(error, CNI_ERR_INVALID_ENV,
                          "CNI_IFNAME is not set");
            return false;
        }
        if (!cni_ifname_is_valid(e->ifname)) {
            cni_error_set(error, CNI_ERR_INVALID_ENV,
                          "CNI_IFNAME=%s: not a valid interface name",
                          e->ifname);
            return false;
        }
        /* ...and all but DEL its network namespace. */
        if (!e->netns && e->command != CNI_DEL) {
            cni_error_set(error, CNI_ERR_INVALID_ENV,
                          "CNI_NETNS is not set");
            return false;
        }
    }

    const char *args = env_get(env, "CNI_ARGS");
    if (args && !parse_cni_args(args, e, error)) {
        return false;
    }
    if (e->command == CNI_ADD && (!e->pod_namespace || !e->pod_name
                                  || !e->pod_namespace[0]
                                  || !e->pod_name[0])) {
        cni_error_set(error, CNI_ERR_INVALID_ENV,
                      "CNI_ARGS must name the pod with K8S_POD_NAMESPACE "
                      "and K8S_POD_NAME");
        return false;
    }
    return true;
}

void
cni_env_destroy(struct cni_env *e)
{
    if (e) {
        free(e->container_id);
        free(e->netns);
        free(e->ifname);
        free(e->path);
        free(e->pod_namespace);
        free(e->pod_name);
        free(e->infra_container_id);
        memset(e, 0, sizeof *e);
    }
}

/* Configuration. */

/* Returns member 'name' of object 'obj' if it has type 'type', NULL if it
 * is absent; sets 'error' and returns NULL if it has another type. */
static const struct json *
get_member(const struct json *obj, const char *name, enum json_type type,
           struct cni_error *error)
{
    const struct json *value = shash_find_data(json_object(obj), name);
    if (!value || value->type == JSON_NULL) {
        return NULL;
    }
    if (value->type != type
        && !(type == JSON_TRUE && value->type == JSON_FALSE)) {
        cni_error_set(error, CNI_ERR_INVALID_CONFIG,
                      "\"%s\" must be a JSON %s, not %s", name,
                      (type == JSON_TRUE ? "boolean"
                       : json_type_to_string(type)),
                      json_type_to_string(value->type));
        return NULL;
    }
    return value;
}

/* Chooses the version in effect from "cniVersion" and, if there is one,
 * "cniVersions": the highest version both sides support. */
static bool
choose_version(const struct json *j, struct cni_config *c,
               struct cni_error *error)
{
    const struct json *v = get_member(j, "cniVersion", JSON_STRING, error);
    if (error->code) {
        return false;
    }
    const struct json *vs = get_member(j, "cniVersions", JSON_ARRAY, error);
    if (error->code) {
        return false;
    }

    int best = -1;
    if (vs) {
        const struct json_array *a = json_array(vs);
        for (size_t i = 0; i < a->n; i++) {
            if (a->elems[i]->type != JSON_STRING) {
                cni_error_set(error, CNI_ERR_INVALID_CONFIG,
                              "\"cniVersions\" must be a list of strings");
                return false;
            }
            best = MAX(best, cni_version_index(json_string(a->elems[i])));
        }
    }
    if (best < 0 && v) {
        best = cni_version_index(json_string(v));
    }
    if (best < 0) {
        struct ds s = DS_EMPTY_INITIALIZER;
        for (size_t i = 0; i < cni_n_supported_versions; i++) {
            ds_put_format(&s, "%s%s", i ? ", " : "",
                          cni_supported_versions[i]);
        }
        if (!v && !vs) {
            cni_error_set(error, CNI_ERR_INVALID_CONFIG,
                          "\"cniVersion\" is missing");
        } else {
            cni_error_set(error, CNI_ERR_INCOMPATIBLE_VERSION,
                          "configuration version %s is not supported; "
                          "kovs-cni supports %s",
                          v ? json_string(v) : "(none in cniVersions)",
                          ds_cstr(&s));
        }
        ds_destroy(&s);
        return false;
    }
    c->cni_version = xstrdup(cni_supported_versions[best]);
    return true;
}

/* Reads the valid attachments of a GC request. */
static bool
parse_valid_attachments(const struct json *j, struct cni_config *c,
                        struct cni_error *error)
{
    const char *name = "cni.dev/valid-attachments";
    const struct json *list = get_member(j, name, JSON_ARRAY, error);
    if (!list && !error->code) {
        /* An earlier draft's name, which runtimes still send. */
        name = "cni.dev/attachments";
        list = get_member(j, name, JSON_ARRAY, error);
    }
    if (error->code) {
        return false;
    }
    if (!list) {
        cni_error_set(error, CNI_ERR_INVALID_CONFIG,
                      "GC needs \"cni.dev/valid-attachments\"");
        return false;
    }

    const struct json_array *a = json_array(list);
    for (size_t i = 0; i < a->n; i++) {
        const struct json *att = a->elems[i];
        if (att->type != JSON_OBJECT) {
            cni_error_set(error, CNI_ERR_INVALID_CONFIG,
                          "\"%s\"[%"PRIuSIZE"] is not an object", name, i);
            return false;
        }
        const struct json *id = get_member(att, "containerID", JSON_STRING,
                                           error);
        const struct json *ifname = (error->code ? NULL
                                     : get_member(att, "ifname", JSON_STRING,
                                                  error));
        if (error->code) {
            return false;
        }
        if (!id || !ifname) {
            cni_error_set(error, CNI_ERR_INVALID_CONFIG,
                          "\"%s\"[%"PRIuSIZE"] needs \"containerID\" and "
                          "\"ifname\"", name, i);
            return false;
        }
        svec_add_nocopy(&c->valid_attachments,
                        xasprintf("%s/%s", json_string(id),
                                  json_string(ifname)));
    }
    return true;
}

bool
cni_config_parse(const char *text, enum cni_command command,
                 struct cni_config *c, struct cni_error *error)
{
    memset(c, 0, sizeof *c);
    svec_init(&c->valid_attachments);
    c->install_timeout_ms = CNI_DEFAULT_INSTALL_TIMEOUT_MS;

    struct json *j = json_from_string(text ? text : "");
    bool ok = false;
    if (j->type == JSON_STRING) {
        cni_error_set(error, CNI_ERR_DECODE,
                      "the network configuration is not JSON: %s",
                      json_string(j));
        goto out;
    }
    if (j->type != JSON_OBJECT) {
        cni_error_set(error, CNI_ERR_DECODE,
                      "the network configuration is a JSON %s, not an "
                      "object", json_type_to_string(j->type));
        goto out;
    }
    if (!choose_version(j, c, error)) {
        goto out;
    }
    if (command == CNI_VERSION) {
        ok = true;
        goto out;
    }
    if ((command == CNI_STATUS || command == CNI_GC)
        && cni_version_index(c->cni_version) < cni_version_index("1.1.0")) {
        cni_error_set(error, CNI_ERR_INCOMPATIBLE_VERSION,
                      "%s needs configuration version 1.1.0 or later, not %s",
                      cni_command_name(command), c->cni_version);
        goto out;
    }

    const struct json *name = get_member(j, "name", JSON_STRING, error);
    const struct json *type = (error->code ? NULL
                               : get_member(j, "type", JSON_STRING, error));
    if (error->code) {
        goto out;
    }
    if (!name || !json_string(name)[0]) {
        cni_error_set(error, CNI_ERR_INVALID_CONFIG, "\"name\" is missing");
        goto out;
    }
    if (!type || strcmp(json_string(type), CNI_PLUGIN_TYPE)) {
        cni_error_set(error, CNI_ERR_INVALID_CONFIG,
                      "\"type\" is %s%s%s, not \"%s\"",
                      type ? "\"" : "", type ? json_string(type) : "missing",
                      type ? "\"" : "", CNI_PLUGIN_TYPE);
        goto out;
    }
    c->name = xstrdup(json_string(name));
    c->type = xstrdup(json_string(type));

    const struct json *socket = get_member(j, "controlSocket", JSON_STRING,
                                           error);
    const struct json *run_dir = (error->code ? NULL
                                  : get_member(j, "runDir", JSON_STRING,
                                               error));
    const struct json *mtu = (error->code ? NULL
                              : get_member(j, "mtu", JSON_INTEGER, error));
    const struct json *dp = (error->code ? NULL
                             : get_member(j, "datapathType", JSON_STRING,
                                          error));
    const struct json *timeout = (error->code ? NULL
                                  : get_member(j, "flowsTimeoutMs",
                                               JSON_INTEGER, error));
    const struct json *dns = (error->code ? NULL
                              : get_member(j, "dns", JSON_OBJECT, error));
    const struct json *prev = (error->code ? NULL
                               : get_member(j, "prevResult", JSON_OBJECT,
                                            error));
    if (error->code) {
        goto out;
    }
    if (!socket && !run_dir) {
        cni_error_set(error, CNI_ERR_INVALID_CONFIG,
                      "neither \"controlSocket\" nor \"runDir\" says where "
                      "kovs-controller is");
        goto out;
    }
    c->socket = socket ? xstrdup(json_string(socket)) : NULL;
    c->run_dir = run_dir ? xstrdup(json_string(run_dir)) : NULL;
    if (mtu) {
        if (json_integer(mtu) < 576 || json_integer(mtu) > 65535) {
            cni_error_set(error, CNI_ERR_INVALID_CONFIG,
                          "\"mtu\": %"PRId64" is not between 576 and 65535",
                          json_integer(mtu));
            goto out;
        }
        c->mtu = json_integer(mtu);
    }
    c->userspace_datapath = dp && !strcmp(json_string(dp), "netdev");
    if (timeout) {
        if (json_integer(timeout) < 1 || json_integer(timeout) > 600000) {
            cni_error_set(error, CNI_ERR_INVALID_CONFIG,
                          "\"flowsTimeoutMs\": %"PRId64" is not between 1 "
                          "and 600000", json_integer(timeout));
            goto out;
        }
        c->install_timeout_ms = json_integer(timeout);
    }
    c->dns = dns ? json_clone(dns) : NULL;
    c->prev_result = prev ? json_clone(prev) : NULL;
    if (command == CNI_GC && !parse_valid_attachments(j, c, error)) {
        goto out;
    }
    ok = true;

out:
    json_destroy(j);
    return ok;
}

void
cni_config_destroy(struct cni_config *c)
{
    if (c) {
        free(c->cni_version);
        free(c->name);
        free(c->type);
        free(c->socket);
        free(c->run_dir);
        json_destroy(c->dns);
        json_destroy(c->prev_result);
        svec_destroy(&c->valid_attachments);
        memset(c, 0, sizeof *c);
    }
}

/* Results. */

static struct json *
mac_json(struct eth_addr mac)
{
    return json_string_create_nocopy(xasprintf(ETH_ADDR_FMT,
                                               ETH_ADDR_ARGS(mac)));
}

char *
cni_result_to_json(const struct cni_result *r, const char *version)
{
    int v = cni_version_index(version);
    bool has_ip_version = v == cni_version_index("0.4.0");
    bool has_mtu = v >= cni_version_index("1.1.0");

    struct json *host = json_object_create();
    json_object_put_string(host, "name", r->host_ifname);
    json_object_put(host, "mac", mac_json(r->host_mac));

    struct json *pod = json_object_create();
    json_object_put_string(pod, "name", r->ifname);
    json_object_put(pod, "mac", mac_json(r->mac));
    json_object_put_string(pod, "sandbox", r->sandbox);
    if (has_mtu && r->mtu) {
        json_object_put(host, "mtu", json_integer_create(r->mtu));
        json_object_put(pod, "mtu", json_integer_create(r->mtu));
    }

    struct json *ips = json_array_create_empty();
    struct json *routes = json_array_create_empty();
    struct json *ip, *route;
    if (r->ip) {
        ip = json_object_create();
        if (has_ip_version) {
            json_object_put_string(ip, "version", "4");
        }
        json_object_put_format(ip, "address", IP_FMT"/%u", IP_ARGS(r->ip),
                               r->plen);
        json_object_put_format(ip, "gateway", IP_FMT, IP_ARGS(r->gateway));
        json_object_put(ip, "interface", json_integer_create(1));
        json_array_add(ips, ip);

        route = json_object_create();
        json_object_put_string(route, "dst", "0.0.0.0/0");
        json_object_put_format(route, "gw", IP_FMT, IP_ARGS(r->gateway));
        json_array_add(routes, route);
    }

    if (r->has_ip6) {
        char addr[INET6_ADDRSTRLEN], gw[INET6_ADDRSTRLEN];
        inet_ntop(AF_INET6, &r->ip6, addr, sizeof addr);
        inet_ntop(AF_INET6, &r->gateway6, gw, sizeof gw);

        ip = json_object_create();
        if (has_ip_version) {
            json_object_put_string(ip, "version", "6");
        }
        json_object_put_format(ip, "address", "%s/%u", addr, r->plen6);
        json_object_put_string(ip, "gateway", gw);
        json_object_put(ip, "interface", json_integer_create(1));
        json_array_add(ips, ip);

        route = json_object_create();
        json_object_put_string(route, "dst", "::/0");
        json_object_put_string(route, "gw", gw);
        json_array_add(routes, route);
    }

    struct json *j = json_object_create();
    json_object_put_string(j, "cniVersion", version);
    json_object_put(j, "interfaces", json_array_create_2(host, pod));
    json_object_put(j, "ips", ips);
    json_object_put(j, "routes", routes);
    json_object_put(j, "dns", r->dns ? json_clone(r->dns)
                                     : json_object_create());

    char *s = json_to_string(j, JSSF_SORT);
    json_destroy(j);
    return s;
}

/* Returns the first entry of "ips" in 'prev' that belongs to the interface
 * called 'ifname' and is of the family 'ipv6' says, or NULL. */
static const struct json *
result_find_ip(const struct json *prev, const char *ifname, bool ipv6)
{
    struct cni_error error = { 0 };
    const struct json *ifaces = get_member(prev, "interfaces", JSON_ARRAY,
                                           &error);
    const struct json *ips = (error.code ? NULL
                              : get_member(prev, "ips", JSON_ARRAY, &error));
    cni_error_destroy(&error);
    if (!ifaces || !ips) {
        return NULL;
    }

    const struct json_array *ia = json_array(ips);
    const struct json_array *fa = json_array(ifaces);
    for (size_t i = 0; i < ia->n; i++) {
        const struct json *e = ia->elems[i];
        if (e->type != JSON_OBJECT) {
            continue;
        }
        const struct json *idx = shash_find_data(json_object(e),
                                                 "interface");
        const struct json *addr = shash_find_data(json_object(e), "address");
        if (!idx || idx->type != JSON_INTEGER || json_integer(idx) < 0
            || json_integer(idx) >= fa->n
            || !addr || addr->type != JSON_STRING
            || (strchr(json_string(addr), ':') != NULL) != ipv6) {
            continue;
        }
        const struct json *iface = fa->elems[json_integer(idx)];
        const struct json *name = (iface->type == JSON_OBJECT
                                   ? shash_find_data(json_object(iface),
                                                     "name")
                                   : NULL);
        if (name && name->type == JSON_STRING
            && !strcmp(json_string(name), ifname)) {
            return e;
        }
    }
    return NULL;
}

/* Returns the string member 'name' of 'e', or NULL. */
static const char *
string_member(const struct json *e, const char *name)
{
    const struct json *m = shash_find_data(json_object(e), name);
    return m && m->type == JSON_STRING ? json_string(m) : NULL;
}

bool
cni_result_find_ipv4(const struct json *prev, const char *ifname,
                     ovs_be32 *ip, unsigned int *plen, ovs_be32 *gateway)
{
    const struct json *e = result_find_ip(prev, ifname, false);
    if (!e) {
        return false;
    }
    ovs_be32 mask;
    char *err = ip_parse_masked(string_member(e, "address"), ip, &mask);
    if (err) {
        free(err);
        return false;
    }
    *plen = ip_count_cidr_bits(mask);
    *gateway = 0;
    const char *gw = string_member(e, "gateway");
    if (gw) {
        ip_parse(gw, gateway);
    }
    return true;
}

bool
cni_result_find_ipv6(const struct json *prev, const char *ifname,
                     struct in6_addr *ip6, unsigned int *plen,
                     struct in6_addr *gateway6)
{
    const struct json *e = result_find_ip(prev, ifname, true);
    if (!e) {
        return false;
    }
    char *err = ipv6_parse_cidr(string_member(e, "address"), ip6, plen);
    if (err) {
        free(err);
        return false;
    }
    *gateway6 = in6addr_any;
    const char *gw = string_member(e, "gateway");
    if (gw) {
        ipv6_parse(gw, gateway6);
    }
    return true;
}

char *
cni_version_to_json(const char *version)
{
    struct json *versions = json_array_create_empty();
    for (size_t i = 0; i < cni_n_supported_versions; i++) {
        json_array_add(versions,
                       json_string_create(cni_supported_versions[i]));
    }
    struct json *j = json_object_create();
    json_object_put_string(j, "cniVersion",
                           version && cni_version_index(version) >= 0
                           ? version : CNI_LATEST_VERSION);
    json_object_put(j, "supportedVersions", versions);
    char *s = json_to_string(j, JSSF_SORT);
    json_destroy(j);
    return s;
}
