/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#include <config.h>

#include "controller/healthcheck.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "controller/http-server.h"
#include "hash.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/json.h"
#include "openvswitch/vlog.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(healthcheck);

/* A Service with a health check port, and its listener. */
struct healthcheck_service {
    struct hmap_node hmap_node;     /* In 'services', by 'port'. */
    struct healthcheck *hc;         /* The server, for its counters. */
    uint16_t port;
    char *namespace;
    char *name;
    size_t n_local_endpoints;
    bool in_update;                 /* Set in the update in progress. */

    /* "namespace/name" of another Service that claims 'port' and is not
     * served, or NULL.  'rival_in_update' says whether the update in
     * progress has claimed it again. */
    char *rival;
    bool rival_in_update;

    /* The listener and its connections, while 'hc' is serving, and what
     * was last logged about binding it: 'listening', or 'bind_error'. */
    struct http_server *server;
    bool listening;
    int bind_error;
};

static void healthcheck_service_destroy(struct healthcheck *,
                                       struct healthcheck_service *);
static void healthcheck_unbind(struct healthcheck_service *);
static void healthcheck_bind_due(struct healthcheck *);

static struct healthcheck_service *
healthcheck_find(const struct healthcheck *hc, uint16_t port)
{
    struct healthcheck_service *s;

    HMAP_FOR_EACH_WITH_HASH (s, hmap_node, hash_int(port, 0),
                             &hc->services) {
        if (s->port == port) {
            return s;
        }
    }
    return NULL;
}

void
healthcheck_init(struct healthcheck *hc)
{
    hmap_init(&hc->services);
    hc->serving = false;
    hc->bind_ip = NULL;
    hc->n_ok = hc->n_unavailable = hc->n_bad_requests = 0;
}

void
healthcheck_start(struct healthcheck *hc, const char *ip)
{
    if (ip && !ip[0]) {
        ip = NULL;
    }
    if (hc->serving && nullable_string_is_equal(ip, hc->bind_ip)) {
        return;
    }

    /* A new address: reopen every listener on it. */
    struct healthcheck_service *s;
    HMAP_FOR_EACH (s, hmap_node, &hc->services) {
        healthcheck_unbind(s);
    }
    free(hc->bind_ip);
    hc->bind_ip = nullable_xstrdup(ip);
    hc->serving = true;
    healthcheck_bind_due(hc);
}

void
healthcheck_destroy(struct healthcheck *hc)
{
    if (!hc) {
        return;
    }

    struct healthcheck_service *s;
    HMAP_FOR_EACH_SAFE (s, hmap_node, &hc->services) {
        healthcheck_service_destroy(hc, s);
    }
    hmap_destroy(&hc->services);
    free(hc->bind_ip);
    healthcheck_init(hc);
}

void
healthcheck_start_update(struct healthcheck *hc)
{
    struct healthcheck_service *s;

    HMAP_FOR_EACH (s, hmap_node, &hc->services) {
        s->in_update = false;
        s->rival_in_update = false;
    }
}

void
healthcheck_set(struct healthcheck *hc, uint16_t port,
                const char *namespace, const char *name,
                size_t n_local_endpoints)
{
    if (!port) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
        VLOG_WARN_RL(&rl, "Service %s/%s: ignoring health check port 0",
                     namespace, name);
        return;
    }

    struct healthcheck_service *s = healthcheck_find(hc, port);
    if (!s) {
        s = xzalloc(sizeof *s);
        s->hc = hc;
        s->port = port;
        hmap_insert(&hc->services, &s->hmap_node, hash_int(port, 0));
    } else if (s->in_update) {
        if (!strcmp(s->namespace, namespace) && !strcmp(s->name, name)) {
            /* The same Service twice: the later count holds. */
            s->n_local_endpoints = n_local_endpoints;
            return;
        }

        /* Another Service on the same port: the first one keeps it.  Say
         * so when the conflict is new, not in every update. */
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(10, 50);
        char *rival = xasprintf("%s/%s", namespace, name);
        if (!s->rival || strcmp(s->rival, rival)) {
            VLOG_WARN_RL(&rl, "health check port %"PRIu16" is claimed by "
                         "Service %s/%s and Service %s; serving only %s/%s",
                         port, s->namespace, s->name, rival,
                         s->namespace, s->name);
        }
        if (!s->rival_in_update) {
            free(s->rival);
            s->rival = rival;
            s->rival_in_update = true;
        } else {
            free(rival);
        }
        return;
    }

    if (!s->namespace || strcmp(s->namespace, namespace)
        || strcmp(s->name, name)) {
        if (s->namespace) {
            VLOG_INFO("health check port %"PRIu16" passes from Service "
                      "%s/%s to Service %s/%s",
                      port, s->namespace, s->name, namespace, name);
        }
        free(s->namespace);
        free(s->name);
        s->namespace = xstrdup(namespace);
        s->name = xstrdup(name);
    }
    s->n_local_endpoints = n_local_endpoints;
    s->in_update = true;
}

void
healthcheck_finish_update(struct healthcheck *hc)
{
    struct healthcheck_service *s;

    HMAP_FOR_EACH_SAFE (s, hmap_node, &hc->services) {
        if (!s->in_update) {
            if (s->listening) {
                VLOG_INFO("Service %s/%s: closing health check port "
                          "%"PRIu16, s->namespace, s->name, s->port);
            }
            healthcheck_service_destroy(hc, s);
        } else if (s->rival && !s->rival_in_update) {
            free(s->rival);
            s->rival = NULL;
        }
    }
    healthcheck_bind_due(hc);
}

static void
healthcheck_service_destroy(struct healthcheck *hc,
                            struct healthcheck_service *s)
{
    if (s) {
        healthcheck_unbind(s);
        hmap_remove(&hc->services, &s->hmap_node);
        free(s->namespace);
        free(s->name);
        free(s->rival);
        free(s);
    }
}

/* Listeners. */

/* Answers 'req', any request to 's''s port. */
static void
healthcheck_handle(struct http_request *req, void *s_)
{
    struct healthcheck_service *s = s_;

    struct ds body = DS_EMPTY_INITIALIZER;
    ds_put_cstr(&body, "{\"service\":{\"namespace\":");
    json_string_escape(s->namespace, &body);
    ds_put_cstr(&body, ",\"name\":");
    json_string_escape(s->name, &body);
    ds_put_format(&body, "},\"localEndpoints\":%"PRIuSIZE","
                  "\"serviceProxyHealthy\":true}", s->n_local_endpoints);

    if (s->n_local_endpoints) {
        s->hc->n_ok++;
    } else {
        s->hc->n_unavailable++;
    }
    char *weight = xasprintf("X-Load-Balancing-Endpoint-Weight: "
                             "%"PRIuSIZE"\r\n", s->n_local_endpoints);
    http_request_reply_with_headers(req, s->n_local_endpoints ? 200 : 503,
                                    "application/json", weight,
                                    ds_cstr(&body));
    free(weight);
    ds_destroy(&body);
}

/* Returns the wildcard address the listeners bind to when no address is
 * given: "::", which accepts IPv4 as well (as IPv4-mapped addresses), on a
 * node with IPv6 whose net.ipv6.bindv6only is 0 (the kernel's default, read
 * from the caller's network namespace); otherwise "0.0.0.0", and a node
 * that disabled IPv6 sockets or made them IPv6-only gets its health check
 * ports over IPv4 alone, with one log line saying why. */
static const char *
healthcheck_wildcard(void)
{
    static bool logged;
    const char *reason = NULL;

    int fd = socket(AF_INET6, SOCK_STREAM, 0);
    if (fd < 0) {
        reason = ovs_strerror(errno);
    } else {
        close(fd);

        char value = '0';
        FILE *file = fopen("/proc/sys/net/ipv6/bindv6only", "r");
        if (file) {
            if (fscanf(file, " %c", &value) != 1) {
                value = '0';
            }
            fclose(file);
        }
        if (value != '0') {
            reason = "net.ipv6.bindv6only is set, so a socket on :: would "
                     "not accept IPv4";
        }
    }
    if (!reason) {
        return "::";
    }
    if (!logged) {
        logged = true;
        VLOG_INFO("health check ports listen on IPv4 only: %s", reason);
    }
    return "0.0.0.0";
}

/* Returns the address, "IP:PORT", of 's''s listener, in memory the caller
 * frees. */
static char *
healthcheck_address(const struct healthcheck_service *s)
{
    const char *ip = s->hc->bind_ip ? s->hc->bind_ip : healthcheck_wildcard();
    return xasprintf(strchr(ip, ':') ? "[%s]:%"PRIu16 : "%s:%"PRIu16,
                     ip, s->port);
}

/* Logs what changed in the state of 's''s listener since the last call. */
static void
healthcheck_log_bind(struct healthcheck_service *s)
{
    int error = http_server_bind_error(s->server);
    bool listening = http_server_is_listening(s->server);

    if (listening && !s->listening) {
        VLOG_INFO("Service %s/%s: listening on health check port %"PRIu16
                  "%s", s->namespace, s->name, s->port,
                  s->bind_error ? ", which is free now" : "");
    } else if (!listening && error != s->bind_error) {
        char *address = healthcheck_address(s);
        char *problem;
        char *target = http_server_parse_address(address, &problem);
        VLOG_WARN("Service %s/%s: cannot listen on health check port "
                  "%"PRIu16" (%s): %s; retrying every %d s",
                  s->namespace, s->name, s->port, target,
                  ovs_strerror(error), HEALTHCHECK_BIND_RETRY_MS / 1000);
        free(target);
        free(problem);
        free(address);
    }
    s->listening = listening;
    s->bind_error = error;
}

/* Opens a listener for each Service that has none, if 'hc' is serving.
 * A port that cannot be bound yet is retried by its http_server. */
static void
healthcheck_bind_due(struct healthcheck *hc)
{
    if (!hc->serving) {
        return;
    }

    const struct http_server_options options = {
        .timeout_ms = HEALTHCHECK_REQUEST_TIMEOUT_MS,
        .all_methods = true,
        .close_oversized = true,
        .quiet_binds = true,
        .n_bad_requests = &hc->n_bad_requests,
    };
    struct healthcheck_service *s;
    HMAP_FOR_EACH (s, hmap_node, &hc->services) {
        if (!s->server) {
            char *address = healthcheck_address(s);
            char *name = xasprintf("health check port %"PRIu16, s->port);
            s->server = http_server_create(name, address, &options,
                                           healthcheck_handle, s);
            free(name);
            free(address);
            healthcheck_log_bind(s);
        }
    }
}

/* Closes 's''s listener and its connections.  It may be opened again at
 * once. */
static void
healthcheck_unbind(struct healthcheck_service *s)
{
    http_server_destroy(s->server);
    s->server = NULL;
    s->listening = false;
    s->bind_error = 0;
}

void
healthcheck_run(struct healthcheck *hc)
{
    struct healthcheck_service *s;
    HMAP_FOR_EACH (s, hmap_node, &hc->services) {
        if (s->server) {
            http_server_run(s->server);
            healthcheck_log_bind(s);
        }
    }
}

void
healthcheck_wait(const struct healthcheck *hc)
{
    struct healthcheck_service *s;
    HMAP_FOR_EACH (s, hmap_node, &hc->services) {
        if (s->server) {
            http_server_wait(s->server);
        }
    }
}

/* Status. */

static int
healthcheck_compare_ports(const void *a_, const void *b_)
{
    const struct healthcheck_service *const *a = a_;
    const struct healthcheck_service *const *b = b_;

    return (*a)->port < (*b)->port ? -1 : (*a)->port > (*b)->port;
}

void
healthcheck_format(const struct healthcheck *hc, struct ds *ds)
{
    size_t n = hmap_count(&hc->services);
    if (!n) {
        return;
    }

    const struct healthcheck_service **sorted = xmalloc(n * sizeof *sorted);
    const struct healthcheck_service *s;
    size_t i = 0;
    HMAP_FOR_EACH (s, hmap_node, &hc->services) {
        sorted[i++] = s;
    }
    qsort(sorted, n, sizeof *sorted, healthcheck_compare_ports);

    for (i = 0; i < n; i++) {
        s = sorted[i];
        ds_put_format(ds, "port %"PRIu16": %s/%s, %"PRIuSIZE" local "
                      "endpoint%s, ", s->port, s->namespace, s->name,
                      s->n_local_endpoints,
                      s->n_local_endpoints == 1 ? "" : "s");
        if (s->listening) {
            ds_put_cstr(ds, "listening");
        } else if (s->bind_error) {
            ds_put_format(ds, "cannot bind (%s), retrying",
                          ovs_strerror(s->bind_error));
        } else {
            ds_put_cstr(ds, "not serving");
        }
        if (s->rival) {
            ds_put_format(ds, "; also claimed by %s, not served", s->rival);
        }
        ds_put_char(ds, '\n');
    }
    free(sorted);
}
