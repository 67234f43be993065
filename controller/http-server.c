/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#include <config.h>

#include "controller/http-server.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "openvswitch/dynamic-string.h"
#include "openvswitch/list.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "packets.h"
#include "stream.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(http_server);

/* How long the listener waits before accepting again after an error (for
 * example, out of file descriptors). */
#define HTTP_SERVER_ACCEPT_BACKOFF_MS 1000

/* The most connections accepted in one http_server_run(). */
#define HTTP_SERVER_ACCEPT_BATCH 64

enum http_conn_state {
    HTTP_READING,           /* Reading the request head. */
    HTTP_HANDLING,          /* Waiting for the handler's answer. */
    HTTP_WRITING,           /* Sending the answer. */
};

/* A connection, which is also its request. */
struct http_request {
    struct ovs_list list_node;      /* In its server's 'conns'. */
    struct http_server *server;
    struct stream *stream;
    enum http_conn_state state;
    long long int deadline;         /* For HTTP_READING and HTTP_WRITING. */
    struct ds in;                   /* The request head, as it arrives. */
    char *method;                   /* Once the head is in. */
    char *path;
    bool is_head;
    struct ds out;                  /* The answer. */
    size_t out_ofs;                 /* Bytes of 'out' already sent. */
};

struct http_server {
    char *name;
    char *target;                   /* "ptcp:PORT:IP". */
    struct http_server_options options;
    http_server_handler *handler;
    void *aux;

    struct pstream *pstream;        /* NULL until bound. */
    int bind_error;
    long long int next_bind;
    long long int next_accept;

    struct ovs_list conns;          /* "struct http_request"s. */
    size_t n_conns;
};

char *
http_server_parse_address(const char *address, char **errorp)
{
    const char *colon = strrchr(address, ':');
    char *host = NULL;
    int port;
    char *target = NULL;

    *errorp = NULL;
    if (!colon || !str_to_int(colon + 1, 10, &port)
        || port < 1 || port > 65535) {
        *errorp = xasprintf("%s: expected IP:PORT, with a port from 1 to "
                            "65535", address);
        return NULL;
    }

    host = xmemdup0(address, colon - address);
    size_t len = strlen(host);
    struct in6_addr ip6;
    ovs_be32 ip4;
    if (len > 2 && host[0] == '[' && host[len - 1] == ']') {
        host[len - 1] = '\0';
        if (ipv6_parse(host + 1, &ip6)) {
            target = xasprintf("ptcp:%d:[%s]", port, host + 1);
        }
    } else if (ip_parse(host, &ip4)) {
        target = xasprintf("ptcp:%d:%s", port, host);
    }
    if (!target) {
        *errorp = xasprintf("%s: expected IP:PORT, with an IPv4 address or "
                            "an IPv6 address in brackets", address);
    }
    free(host);
    return target;
}

static void http_server_bind(struct http_server *);

struct http_server *
http_server_create(const char *name, const char *address,
                   const struct http_server_options *options,
                   http_server_handler *handler, void *aux)
{
    char *error;
    char *target = http_server_parse_address(address, &error);
    ovs_assert(target);

    struct http_server *server = xzalloc(sizeof *server);
    server->name = xstrdup(name);
    server->target = target;
    if (options) {
        server->options = *options;
    }
    if (!server->options.timeout_ms) {
        server->options.timeout_ms = HTTP_SERVER_TIMEOUT_MS;
    }
    server->handler = handler;
    server->aux = aux;
    server->next_accept = LLONG_MIN;
    ovs_list_init(&server->conns);
    http_server_bind(server);
    return server;
}

static void
http_conn_close(struct http_request *c)
{
    ovs_list_remove(&c->list_node);
    c->server->n_conns--;
    stream_close(c->stream);
    ds_destroy(&c->in);
    ds_destroy(&c->out);
    free(c->method);
    free(c->path);
    free(c);
}

void
http_server_destroy(struct http_server *server)
{
    if (server) {
        struct http_request *c;
        LIST_FOR_EACH_SAFE (c, list_node, &server->conns) {
            http_conn_close(c);
        }
        pstream_close(server->pstream);
        free(server->name);
        free(server->target);
        free(server);
    }
}

bool
http_server_is_listening(const struct http_server *server)
{
    return server->pstream != NULL;
}

int
http_server_bind_error(const struct http_server *server)
{
    return server->pstream ? 0 : server->bind_error;
}

static void
http_server_bind(struct http_server *server)
{
    int error = pstream_open(server->target, &server->pstream, 0);
    bool quiet = server->options.quiet_binds;
    if (!error) {
        if (!quiet) {
            VLOG_INFO("%s: listening on %s", server->name, server->target);
        }
        server->bind_error = 0;
        server->next_accept = LLONG_MIN;
    } else {
        server->pstream = NULL;
        if (error != server->bind_error && !quiet) {
            VLOG_WARN("%s: cannot listen on %s: %s; retrying every %d s",
                      server->name, server->target, ovs_strerror(error),
                      HTTP_SERVER_BIND_RETRY_MS / 1000);
        }
        server->bind_error = error;
        server->next_bind = time_msec() + HTTP_SERVER_BIND_RETRY_MS;
    }
}

static const char *
http_status_text(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Unknown";
    }
}

/* Composes the answer in 'c''s 'out' and starts sending it: 'body' of
 * 'content_type', or no body if 'content_type' is NULL, and 'headers'
 * (NULL for none). */
static void
http_conn_answer(struct http_request *c, int status,
                 const char *content_type, const char *headers,
                 const char *body)
{
    ds_clear(&c->out);
    ds_put_format(&c->out, "HTTP/1.1 %d %s\r\n",
                  status, http_status_text(status));
    if (content_type) {
        ds_put_format(&c->out, "Content-Type: %s\r\n"
                      "X-Content-Type-Options: nosniff\r\n", content_type);
    } else {
        body = "";
    }
    ds_put_format(&c->out, "%sContent-Length: %"PRIuSIZE"\r\n"
                  "Connection: close\r\n"
                  "\r\n", headers ? headers : "", strlen(body));
    if (!c->is_head) {
        ds_put_cstr(&c->out, body);
    }
    c->out_ofs = 0;
    c->state = HTTP_WRITING;
    c->deadline = time_msec() + c->server->options.timeout_ms;
}

/* Answers 'c''s request with error 'status', without a body. */
static void
http_conn_error(struct http_request *c, int status, const char *headers)
{
    if (status == 400 && c->server->options.n_bad_requests) {
        (*c->server->options.n_bad_requests)++;
    }
    http_conn_answer(c, status, NULL, headers, NULL);
}

void
http_request_reply_with_headers(struct http_request *req, int status,
                                const char *content_type,
                                const char *headers, const char *body)
{
    ovs_assert(req->state == HTTP_HANDLING);
    http_conn_answer(req, status, content_type, headers, body);
    /* The answer goes out in the next http_server_run(). */
    poll_immediate_wake();
}

void
http_request_reply(struct http_request *req, int status,
                   const char *content_type, const char *body)
{
    http_request_reply_with_headers(req, status, content_type, NULL, body);
}

const char *
http_request_method(const struct http_request *req)
{
    return req->method;
}

const char *
http_request_path(const struct http_request *req)
{
    return req->path;
}

/* Returns the length of the request head in 'in' (up to and including the
 * empty line that ends it), or 0 if it is not all there yet.  The first
 * 'searched' bytes were looked at before. */
static size_t
http_request_end(const struct ds *in, size_t searched)
{
    const char *s = in->string;
    size_t n = in->length;

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

/* Returns true if 's' (of 'n' bytes) is made of the characters HTTP allows
 * in a method (a token) or a request target (printable, no space). */
static bool
http_is_token(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z')
              || (s[i] >= '0' && s[i] <= '9') || strchr("!#$%&'*+-.^_`|~",
                                                        s[i]))) {
            return false;
        }
    }
    return n > 0;
}

static bool
http_is_target(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char) s[i] <= ' ' || (unsigned char) s[i] >= 0x7f) {
            return false;
        }
    }
    return n > 0 && s[0] == '/';
}

/* Handles the complete request head at the start of 'c''s 'in'. */
static void
http_conn_handle(struct http_request *c)
{
    const char *head = c->in.string;
    const char *eol = strchr(head, '\n');
    size_t line_len = eol - head;
    if (line_len && head[line_len - 1] == '\r') {
        line_len--;
    }

    /* "METHOD TARGET HTTP/1.x". */
    const char *sp1 = memchr(head, ' ', line_len);
    const char *target = sp1 ? sp1 + 1 : NULL;
    const char *sp2 = (target
                       ? memchr(target, ' ', line_len - (target - head))
                       : NULL);
    const char *version = sp2 ? sp2 + 1 : NULL;
    size_t version_len = version ? line_len - (version - head) : 0;
    if (!sp2 || !http_is_token(head, sp1 - head)
        || !http_is_target(target, sp2 - target)
        || version_len != 8 || memcmp(version, "HTTP/1.", 7)
        || version[7] < '0' || version[7] > '9') {
        http_conn_error(c, 400, NULL);
        return;
    }

    c->method = xmemdup0(head, sp1 - head);
    const char *query = memchr(target, '?', sp2 - target);
    c->path = xmemdup0(target, (query ? query : sp2) - target);
    c->is_head = !strcmp(c->method, "HEAD");
    if (strcmp(c->method, "GET") && !c->is_head
        && !c->server->options.all_methods) {
        http_conn_error(c, 405, "Allow: GET, HEAD\r\n");
        return;
    }

    c->state = HTTP_HANDLING;
    c->server->handler(c, c->server->aux);
}

/* Reads what has arrived of 'c''s request.  Returns 0 if the connection
 * should stay open, otherwise a positive errno value or EOF. */
static int
http_conn_recv(struct http_request *c)
{
    while (c->state == HTTP_READING) {
        size_t searched = c->in.length;
        size_t room = HTTP_SERVER_MAX_REQUEST - searched;
        if (!room) {
            if (c->server->options.close_oversized) {
                return EMSGSIZE;
            }
            http_conn_error(c, 431, NULL);
            return 0;
        }

        ds_reserve(&c->in, HTTP_SERVER_MAX_REQUEST);
        int retval = stream_recv(c->stream, c->in.string + searched, room);
        if (retval <= 0) {
            return (!retval ? EOF
                    : retval == -EAGAIN ? 0
                    : -retval);
        }
        c->in.length += retval;
        c->in.string[c->in.length] = '\0';
        if (memchr(c->in.string + searched, '\0', retval)) {
            http_conn_error(c, 400, NULL);
            return 0;
        }

        if (http_request_end(&c->in, searched)) {
            http_conn_handle(c);
        }
    }
    return 0;
}

/* Sends what of 'c''s answer the stream takes.  Returns 0 if the
 * connection should stay open, otherwise a positive errno value or EOF
 * (all sent). */
static int
http_conn_send(struct http_request *c)
{
    while (c->out_ofs < c->out.length) {
        int retval = stream_send(c->stream, c->out.string + c->out_ofs,
                                 c->out.length - c->out_ofs);
        if (retval < 0) {
            return retval == -EAGAIN ? 0 : -retval;
        }
        c->out_ofs += retval;
    }
    return EOF;
}

static void
http_conn_run(struct http_request *c)
{
    int error = 0;

    stream_run(c->stream);
    if (c->state != HTTP_HANDLING && time_msec() >= c->deadline) {
        VLOG_DBG("%s: %s: closing a connection idle for %d ms",
                 c->server->name, stream_get_name(c->stream),
                 c->server->options.timeout_ms);
        error = ETIMEDOUT;
    } else {
        if (c->state == HTTP_READING) {
            error = http_conn_recv(c);
        }
        if (!error && c->state == HTTP_WRITING) {
            error = http_conn_send(c);
        }
    }
    if (error) {
        http_conn_close(c);
    }
}

/* Makes room for a new connection by closing the oldest one that is still
 * sending its request, or failing that the oldest one being answered.
 * Returns false if every connection waits for its handler. */
static bool
http_server_evict(struct http_server *server)
{
    struct http_request *victim = NULL, *c;

    LIST_FOR_EACH (c, list_node, &server->conns) {
        if (c->state == HTTP_READING) {
            victim = c;
            break;
        }
    }
    if (!victim) {
        LIST_FOR_EACH (c, list_node, &server->conns) {
            if (c->state == HTTP_WRITING) {
                victim = c;
                break;
            }
        }
    }
    if (!victim) {
        return false;
    }
    VLOG_DBG("%s: %d connections, closing %s to admit a new one",
             server->name, HTTP_SERVER_MAX_CONNS,
             stream_get_name(victim->stream));
    http_conn_close(victim);
    return true;
}

static void
http_server_accept(struct http_server *server, long long int now)
{
    if (now < server->next_accept) {
        return;
    }

    for (int i = 0; i < HTTP_SERVER_ACCEPT_BATCH; i++) {
        struct stream *stream;
        int error = pstream_accept(server->pstream, &stream);
        if (error) {
            if (error != EAGAIN) {
                static struct vlog_rate_limit rl
                    = VLOG_RATE_LIMIT_INIT(1, 5);
                VLOG_WARN_RL(&rl, "%s: accept failed: %s", server->name,
                             ovs_strerror(error));
                server->next_accept = now + HTTP_SERVER_ACCEPT_BACKOFF_MS;
            }
            return;
        }

        if (server->n_conns >= HTTP_SERVER_MAX_CONNS
            && !http_server_evict(server)) {
            stream_close(stream);
            continue;
        }
        struct http_request *c = xzalloc(sizeof *c);
        c->server = server;
        c->stream = stream;
        c->state = HTTP_READING;
        c->deadline = now + server->options.timeout_ms;
        ds_init(&c->in);
        ds_init(&c->out);
        ovs_list_push_back(&server->conns, &c->list_node);
        server->n_conns++;
        http_conn_run(c);
    }
}

void
http_server_run(struct http_server *server)
{
    long long int now = time_msec();

    if (!server->pstream && now >= server->next_bind) {
        http_server_bind(server);
    }
    if (server->pstream) {
        http_server_accept(server, now);
    }

    struct http_request *c;
    LIST_FOR_EACH_SAFE (c, list_node, &server->conns) {
        http_conn_run(c);
    }
}

void
http_server_wait(const struct http_server *server)
{
    if (!server->pstream) {
        poll_timer_wait_until(server->next_bind);
    } else if (time_msec() < server->next_accept) {
        poll_timer_wait_until(server->next_accept);
    } else {
        pstream_wait(server->pstream);
    }

    struct http_request *c;
    LIST_FOR_EACH (c, list_node, &server->conns) {
        stream_run_wait(c->stream);
        if (c->state == HTTP_READING) {
            stream_recv_wait(c->stream);
        } else if (c->state == HTTP_WRITING) {
            stream_send_wait(c->stream);
        }
        if (c->state != HTTP_HANDLING) {
            poll_timer_wait_until(c->deadline);
        }
    }
}
