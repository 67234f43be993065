/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#include <config.h>

#include "controller/healthcheck.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "hash.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/json.h"
#include "openvswitch/list.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "stream.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(healthcheck);

/* How long a listener waits before accepting again after an error (for
 * example, out of file descriptors). */
#define HEALTHCHECK_ACCEPT_BACKOFF_MS 1000

/* The most connections a listener accepts in one healthcheck_run(), so that
 * a flood of connections cannot hold up the rest of the main loop: the
 * next iteration accepts the next ones. */
#define HEALTHCHECK_ACCEPT_BATCH 256

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

    /* The listener: 'pstream' is NULL until the port is bound.  If binding
     * failed, 'bind_error' says why and 'next_bind' says when to try
     * again. */
    struct pstream *pstream;
    int bind_error;
    long long int next_bind;
    long long int next_accept;      /* No accepting before, after an
                                     * error. */

    struct ovs_list conns;          /* Contains struct healthcheck_conn. */
    size_t n_conns;
};

/* A client connection: it reads a request, then sends the answer, then
 * closes. */
struct healthcheck_conn {
    struct ovs_list list_node;      /* In its service's 'conns'. */
    struct stream *stream;
    long long int deadline;         /* Closed, answered or not, by then. */
    struct ds request;              /* What was received so far. */
    struct ds reply;                /* Empty until the request is whole. */
    size_t reply_ofs;               /* Bytes of 'reply' already sent. */
};

static void healthcheck_service_destroy(struct healthcheck *,
                                       struct healthcheck_service *);
static void healthcheck_unbind(struct healthcheck_service *);
static void healthcheck_bind_due(struct healthcheck *);
static void healthcheck_conn_close(struct healthcheck_service *,
                                   struct healthcheck_conn *);

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
        s->next_bind = LLONG_MIN;
        s->next_accept = LLONG_MIN;
        ovs_list_init(&s->conns);
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
            if (s->pstream) {
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

/* Tries to open 's''s listener, on 'bind_ip' (NULL: every address). */
static void
healthcheck_bind(struct healthcheck_service *s, const char *bind_ip)
{
    struct ds target = DS_EMPTY_INITIALIZER;
    ds_put_format(&target, "ptcp:%"PRIu16, s->port);
    if (bind_ip) {
        ds_put_format(&target, strchr(bind_ip, ':') ? ":[%s]" : ":%s",
                      bind_ip);
    }

    int error = pstream_open(ds_cstr(&target), &s->pstream, 0);
    if (!error) {
        VLOG_INFO("Service %s/%s: listening on health check port %"PRIu16
                  "%s", s->namespace, s->name, s->port,
                  s->bind_error ? ", which is free now" : "");
        s->bind_error = 0;
        s->next_accept = LLONG_MIN;
    } else {
        s->pstream = NULL;
        if (error != s->bind_error) {
            VLOG_WARN("Service %s/%s: cannot listen on health check port "
                      "%"PRIu16" (%s): %s; retrying every %d s",
                      s->namespace, s->name, s->port, ds_cstr(&target),
                      ovs_strerror(error),
                      HEALTHCHECK_BIND_RETRY_MS / 1000);
        }
        s->bind_error = error;
        s->next_bind = time_msec() + HEALTHCHECK_BIND_RETRY_MS;
    }
    ds_destroy(&target);
}

/* Opens the listeners that are due to be opened. */
static void
healthcheck_bind_due(struct healthcheck *hc)
{
    if (!hc->serving) {
        return;
    }

    long long int now = time_msec();
    struct healthcheck_service *s;
    HMAP_FOR_EACH (s, hmap_node, &hc->services) {
        if (!s->pstream && now >= s->next_bind) {
            healthcheck_bind(s, hc->bind_ip);
        }
    }
}

/* Closes 's''s listener and its connections.  It may be opened again at
 * once. */
static void
healthcheck_unbind(struct healthcheck_service *s)
{
    struct healthcheck_conn *c;

    LIST_FOR_EACH_SAFE (c, list_node, &s->conns) {
        healthcheck_conn_close(s, c);
    }
    pstream_close(s->pstream);
    s->pstream = NULL;
    s->bind_error = 0;
    s->next_bind = LLONG_MIN;
}

static void healthcheck_conn_run(struct healthcheck_service *,
                                 struct healthcheck_conn *);

/* Makes room for one more connection on 's' by closing the connection that
 * has waited longest for its request, or if every connection is being
 * answered, the oldest one. */
static void
healthcheck_evict(struct healthcheck_service *s)
{
    struct healthcheck_conn *victim = NULL, *c;

    LIST_FOR_EACH (c, list_node, &s->conns) {
        if (!c->reply.length) {
            victim = c;
            break;
        }
    }
    if (!victim) {
        victim = CONTAINER_OF(ovs_list_front(&s->conns),
                              struct healthcheck_conn, list_node);
    }

    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
    VLOG_DBG_RL(&rl, "Service %s/%s: health check port %"PRIu16": %d "
                "connections, closing %s to admit a new one",
                s->namespace, s->name, s->port, HEALTHCHECK_MAX_CONNS,
                stream_get_name(victim->stream));
    healthcheck_conn_close(s, victim);
}

/* Accepts every connection pending on 's''s listener (up to
 * HEALTHCHECK_ACCEPT_BATCH at a time).  A new connection always gets in: at
 * the limit, it takes the place of the oldest one still waiting for its
 * request, so that idle or slow clients never keep a probe out.  A request
 * that came with the connection is answered at once. */
static void
healthcheck_accept(struct healthcheck_service *s, long long int now)
{
    if (now < s->next_accept) {
        return;
    }

    for (int i = 0; i < HEALTHCHECK_ACCEPT_BATCH; i++) {
        struct stream *stream;
        int error = pstream_accept(s->pstream, &stream);
        if (error) {
            if (error != EAGAIN) {
                static struct vlog_rate_limit rl
                    = VLOG_RATE_LIMIT_INIT(1, 5);
                VLOG_WARN_RL(&rl, "Service %s/%s: health check port "
                             "%"PRIu16": accept failed: %s",
                             s->namespace, s->name, s->port,
                             ovs_strerror(error));
                s->next_accept = now + HEALTHCHECK_ACCEPT_BACKOFF_MS;
            }
            return;
        }

        if (s->n_conns >= HEALTHCHECK_MAX_CONNS) {
            healthcheck_evict(s);
        }
        struct healthcheck_conn *c = xzalloc(sizeof *c);
        c->stream = stream;
        c->deadline = now + HEALTHCHECK_REQUEST_TIMEOUT_MS;
        ds_init(&c->request);
        ds_init(&c->reply);
        ovs_list_push_back(&s->conns, &c->list_node);
        s->n_conns++;
        healthcheck_conn_run(s, c);
    }
}

/* Connections. */

static void
healthcheck_conn_close(struct healthcheck_service *s,
                       struct healthcheck_conn *c)
{
    ovs_list_remove(&c->list_node);
    s->n_conns--;
    stream_close(c->stream);
    ds_destroy(&c->request);
    ds_destroy(&c->reply);
    free(c);
}

/* Returns the length of the request head in 'request' (up to and including
 * the empty line that ends the headers), or 0 if the head is not all there.
 * The first 'searched' bytes are known not to hold the end by
 * themselves. */
static size_t
healthcheck_request_end(const struct ds *request, size_t searched)
{
    const char *s = request->string;
    size_t n = request->length;

    /* A line feed followed by an empty line, "\n" or "\r\n". */
    for (size_t i = searched >= 2 ? searched - 2 : 0; i < n; i++) {
        if (s[i] == '\n') {
            if (i + 1 < n && s[i + 1] == '\n') {
                return i + 2;
            }
            if (i + 2 < n && s[i + 1] == '\r' && s[i + 2] == '\n') {
                return i + 3;
            }
        }
    }
    return 0;
}

/* Parses the request line at the start of 'head' (of 'len' bytes), "METHOD
 * TARGET HTTP/VERSION".  Returns true if it is well formed and stores
 * whether the method is HEAD in '*is_head'. */
static bool
healthcheck_parse_request_line(const char *head, size_t len, bool *is_head)
{
    const char *eol = memchr(head, '\n', len);
    size_t line_len = eol - head;
    if (line_len && head[line_len - 1] == '\r') {
        line_len--;
    }

    const char *method = head;
    const char *sp1 = memchr(method, ' ', line_len);
    if (!sp1 || sp1 == method) {
        return false;
    }
    const char *target = sp1 + 1;
    const char *sp2 = memchr(target, ' ', line_len - (target - head));
    if (!sp2 || sp2 == target) {
        return false;
    }
    const char *version = sp2 + 1;
    size_t version_len = line_len - (version - head);
    if (version_len < 5 || memcmp(version, "HTTP/", 5)) {
        return false;
    }

    *is_head = sp1 - method == 4 && !memcmp(method, "HEAD", 4);
    return true;
}

/* Composes, in 'c''s 'reply', the answer to the request head that 'c''s
 * 'request' holds. */
static void
healthcheck_compose_reply(const struct healthcheck_service *s,
                          struct healthcheck_conn *c, size_t head_len)
{
    bool is_head;

    if (!healthcheck_parse_request_line(c->request.string, head_len,
                                        &is_head)) {
        s->hc->n_bad_requests++;
        ds_put_cstr(&c->reply, "HTTP/1.1 400 Bad Request\r\n"
                               "Content-Length: 0\r\n"
                               "Connection: close\r\n"
                               "\r\n");
        return;
    }

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
    ds_put_format(&c->reply,
                  "HTTP/1.1 %s\r\n"
                  "Content-Type: application/json\r\n"
                  "X-Content-Type-Options: nosniff\r\n"
                  "X-Load-Balancing-Endpoint-Weight: %"PRIuSIZE"\r\n"
                  "Content-Length: %"PRIuSIZE"\r\n"
                  "Connection: close\r\n"
                  "\r\n",
                  (s->n_local_endpoints
                   ? "200 OK" : "503 Service Unavailable"),
                  s->n_local_endpoints, body.length);
    if (!is_head) {
        ds_put_buffer(&c->reply, body.string, body.length);
    }
    ds_destroy(&body);
}

/* Reads what has arrived of 'c''s request.  Returns 0 if the connection
 * should stay open, otherwise a positive errno value or EOF. */
static int
healthcheck_conn_recv(struct healthcheck_service *s,
                      struct healthcheck_conn *c)
{
    for (;;) {
        size_t searched = c->request.length;
        size_t room = HEALTHCHECK_MAX_REQUEST - searched;
        if (!room) {
            VLOG_DBG("%s: request longer than %d bytes",
                     stream_get_name(c->stream), HEALTHCHECK_MAX_REQUEST);
            return EMSGSIZE;
        }

        ds_reserve(&c->request, HEALTHCHECK_MAX_REQUEST);
        int retval = stream_recv(c->stream, c->request.string + searched,
                                 room);
        if (retval <= 0) {
            return (!retval ? EOF
                    : retval == -EAGAIN ? 0
                    : -retval);
        }
        c->request.length += retval;
        c->request.string[c->request.length] = '\0';

        size_t head_len = healthcheck_request_end(&c->request, searched);
        if (head_len) {
            healthcheck_compose_reply(s, c, head_len);
            return 0;
        }
    }
}

/* Sends what 'c''s answer the stream takes.  Returns 0 if the connection
 * should stay open, otherwise a positive errno value or EOF (all sent). */
static int
healthcheck_conn_send(struct healthcheck_conn *c)
{
    while (c->reply_ofs < c->reply.length) {
        int retval = stream_send(c->stream, c->reply.string + c->reply_ofs,
                                 c->reply.length - c->reply_ofs);
        if (retval < 0) {
            return retval == -EAGAIN ? 0 : -retval;
        }
        c->reply_ofs += retval;
    }
    return EOF;
}

static void
healthcheck_conn_run(struct healthcheck_service *s,
                     struct healthcheck_conn *c)
{
    int error;

    stream_run(c->stream);
    if (time_msec() >= c->deadline) {
        VLOG_DBG("%s: closing after %d ms", stream_get_name(c->stream),
                 HEALTHCHECK_REQUEST_TIMEOUT_MS);
        error = ETIMEDOUT;
    } else {
        error = !c->reply.length ? healthcheck_conn_recv(s, c) : 0;
        if (!error && c->reply.length) {
            error = healthcheck_conn_send(c);
        }
    }
    if (error) {
        healthcheck_conn_close(s, c);
    }
}

void
healthcheck_run(struct healthcheck *hc)
{
    if (!hc->serving) {
        return;
    }

    healthcheck_bind_due(hc);

    long long int now = time_msec();
    struct healthcheck_service *s;
    HMAP_FOR_EACH (s, hmap_node, &hc->services) {
        if (s->pstream) {
            healthcheck_accept(s, now);
        }

        struct healthcheck_conn *c;
        LIST_FOR_EACH_SAFE (c, list_node, &s->conns) {
            healthcheck_conn_run(s, c);
        }
    }
}

void
healthcheck_wait(const struct healthcheck *hc)
{
    if (!hc->serving) {
        return;
    }

    struct healthcheck_service *s;
    HMAP_FOR_EACH (s, hmap_node, &hc->services) {
        if (!s->pstream) {
            poll_timer_wait_until(s->next_bind);
            continue;
        }
        if (time_msec() < s->next_accept) {
            poll_timer_wait_until(s->next_accept);
        } else {
            pstream_wait(s->pstream);
        }

        struct healthcheck_conn *c;
        LIST_FOR_EACH (c, list_node, &s->conns) {
            stream_run_wait(c->stream);
            if (c->reply.length) {
                stream_send_wait(c->stream);
            } else {
                stream_recv_wait(c->stream);
            }
            poll_timer_wait_until(c->deadline);
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
        if (s->pstream) {
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
