/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#ifndef CONTROLLER_HTTP_SERVER_H
#define CONTROLLER_HTTP_SERVER_H 1

/* A small HTTP/1.1 server in the poll loop, for kovs-controller's metrics
 * and health endpoints.
 *
 * The server listens on one TCP address (libopenvswitch's pstream) and
 * reads each connection's request head without ever blocking: a request
 * arrives in as many pieces as the client likes, from as many clients at
 * once as HTTP_SERVER_MAX_CONNS.  Each connection carries one request,
 * answered with "Connection: close".
 *
 * The server itself answers what is not a request for a resource, with
 * no body: a malformed request head with 400, a head larger than
 * HTTP_SERVER_MAX_REQUEST bytes with 431, a method other than GET and
 * HEAD with 405.  The handler gets every GET and HEAD and answers, at
 * once or later (while the main loop goes on), with http_request_reply();
 * a HEAD answer carries the headers of the GET answer and no body.
 *
 * A client that sends no complete request within
 * HTTP_SERVER_TIMEOUT_MS, or does not read its answer within as long, is
 * disconnected; at the connection limit, a new connection takes the place
 * of the oldest one still sending its request.  A slow client therefore
 * never holds up the main loop or other clients.
 *
 * The server tries to bind its address when it is created; an address
 * that cannot be bound is logged and tried again every
 * HTTP_SERVER_BIND_RETRY_MS.
 *
 * 'struct http_server_options' changes some of these for one server. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_SERVER_MAX_REQUEST 8192
#define HTTP_SERVER_TIMEOUT_MS 10000
#define HTTP_SERVER_MAX_CONNS 64
#define HTTP_SERVER_BIND_RETRY_MS 5000

struct http_server;
struct http_request;

/* How a server departs from the behaviour above.  All zeros (or a null
 * pointer to it) is the behaviour above. */
struct http_server_options {
    int timeout_ms;             /* Nonzero: instead of
                                 * HTTP_SERVER_TIMEOUT_MS. */
    bool all_methods;           /* Every method reaches the handler. */
    bool close_oversized;       /* An oversized head is closed unanswered,
                                 * instead of answered with 431. */
    bool quiet_binds;           /* Binding is not logged: the caller logs
                                 * it, with http_server_bind_error(). */
    uint64_t *n_bad_requests;   /* Nonnull: incremented for each 400. */
};

/* Called for each GET or HEAD request (each request, with
 * 'all_methods').  The handler must answer it, once,
 * with http_request_reply(), before the server is destroyed. */
typedef void http_server_handler(struct http_request *, void *aux);

/* Checks 'address', "IP:PORT" (an IPv6 address in brackets), and returns
 * the pstream name for it ("ptcp:PORT:IP") in memory the caller frees, or
 * NULL with '*errorp' set to a message (the caller frees it). */
char *http_server_parse_address(const char *address, char **errorp);

/* Creates a server that listens on 'address' (checked already with
 * http_server_parse_address()) and gives requests to 'handler' with 'aux'.
 * 'name' ("metrics") names the server in log messages.  'options' may
 * be NULL; it is copied. */
struct http_server *http_server_create(
    const char *name, const char *address,
    const struct http_server_options *options,
    http_server_handler *handler, void *aux);

/* Closes the listener and every connection and frees 'server'.  Accepts
 * NULL. */
void http_server_destroy(struct http_server *server);

void http_server_run(struct http_server *server);
void http_server_wait(const struct http_server *server);

/* Returns true if the server is listening. */
bool http_server_is_listening(const struct http_server *server);

/* Returns 0 if the server is listening, otherwise the error of its last
 * attempt to bind (a positive errno value). */
int http_server_bind_error(const struct http_server *server);

/* A request: its method ("GET" or "HEAD", or any with 'all_methods') and
 * the path of its target, without the query. */
const char *http_request_method(const struct http_request *);
const char *http_request_path(const struct http_request *);

/* Answers 'req' with 'status' (200, 404, ...), a body of 'content_type'
 * and 'body' (copied, a null-terminated string).  'req' may not be used
 * afterwards. */
void http_request_reply(struct http_request *req, int status,
                        const char *content_type, const char *body);

/* Like http_request_reply(), with 'headers' ("Name: value\r\n" each, or
 * NULL) among the headers of the answer. */
void http_request_reply_with_headers(struct http_request *req, int status,
                                     const char *content_type,
                                     const char *headers, const char *body);

#endif /* controller/http-server.h */
