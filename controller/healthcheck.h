/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#ifndef CONTROLLER_HEALTHCHECK_H
#define CONTROLLER_HEALTHCHECK_H 1

/* The healthCheckNodePort server.
 *
 * A Service of type LoadBalancer or NodePort with externalTrafficPolicy
 * Local has a spec.healthCheckNodePort.  Every node answers HTTP on that
 * port, so that an external load balancer sends the Service's traffic only
 * to nodes that have local endpoints for it: any request gets
 * "200 OK" if the Service has at least one endpoint on this node and
 * "503 Service Unavailable" otherwise, with a JSON body that names the
 * Service and gives the count:
 *
 *   {"service":{"namespace":"NS","name":"NAME"},"localEndpoints":N,
 *    "serviceProxyHealthy":true}
 *
 * and the count, again, in an X-Load-Balancing-Endpoint-Weight header.
 *
 * Each Service has its own TCP listener.  A listener is opened when its
 * Service first appears in an update and closed, with its connections,
 * when the Service is no longer in one; a change of the endpoint count
 * alone never reopens it.  A port that cannot be bound (another process
 * holds it) is logged and retried every few seconds.  If two Services
 * claim the same port, the first one set in an update is served and the
 * other is logged.
 *
 * Each listener is an http_server (controller/http-server.h), which
 * reads every request up to the end of its headers and answers it once,
 * whatever its method and path; the connection is then closed.  A
 * malformed request gets 400.  A request larger than
 * HEALTHCHECK_MAX_REQUEST bytes, or not complete within
 * HEALTHCHECK_REQUEST_TIMEOUT_MS, gets its connection closed without an
 * answer, and so does a client that does not read its answer within as
 * long.  Each listener holds at most HEALTHCHECK_MAX_CONNS connections at
 * once: at the limit, a new connection takes the place of the oldest one
 * still waiting for its request, so that idle or slow clients, however
 * many, never keep a load balancer's probe waiting.
 *
 * The server runs in the caller's poll loop: healthcheck_run() does the
 * work that is ready, healthcheck_wait() arranges for poll_block() to wake
 * up when there is more. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "controller/http-server.h"
#include "openvswitch/hmap.h"

struct ds;

#define HEALTHCHECK_MAX_REQUEST HTTP_SERVER_MAX_REQUEST
#define HEALTHCHECK_REQUEST_TIMEOUT_MS 5000
#define HEALTHCHECK_MAX_CONNS HTTP_SERVER_MAX_CONNS
#define HEALTHCHECK_BIND_RETRY_MS HTTP_SERVER_BIND_RETRY_MS

/* A server: the Services and their listeners. */
struct healthcheck {
    struct hmap services;           /* "struct healthcheck_service"s, by
                                     * port. */
    bool serving;                   /* Should the listeners be open? */
    char *bind_ip;                  /* Where they bind; NULL for any. */

    /* Requests answered, since the server was initialized: with 200, with
     * 503, and with 400 (malformed). */
    uint64_t n_ok, n_unavailable, n_bad_requests;
};

/* Initializes 'hc' as a server that does not serve yet and has no
 * Services. */
void healthcheck_init(struct healthcheck *hc);

/* Starts serving, with listeners bound to 'bind_ip' (an IPv4 or IPv6
 * address), or to every address of both families if 'bind_ip' is NULL or
 * "" (IPv4 alone on a node without IPv6 sockets).  Calling
 * it again with another address reopens the existing listeners on that
 * address.  Services may be set before the server starts; their listeners
 * open when it does. */
void healthcheck_start(struct healthcheck *hc, const char *bind_ip);

/* Stops serving: closes every listener and connection, forgets every
 * Service and frees what 'hc' holds, leaving it as healthcheck_init()
 * does.  Accepts NULL. */
void healthcheck_destroy(struct healthcheck *hc);

/* An update is the complete list of Services that have a health check
 * port: between healthcheck_start_update() and healthcheck_finish_update()
 * the caller calls healthcheck_set() once for each of them.  A Service that
 * is not set loses its listener when the update finishes. */
void healthcheck_start_update(struct healthcheck *);

/* Declares that Service 'namespace'/'name' (copied) has health check port
 * 'port' (nonzero) and 'n_local_endpoints' ready endpoints on this node. */
void healthcheck_set(struct healthcheck *, uint16_t port,
                     const char *namespace, const char *name,
                     size_t n_local_endpoints);
void healthcheck_finish_update(struct healthcheck *);

void healthcheck_run(struct healthcheck *);
void healthcheck_wait(const struct healthcheck *);

/* Appends one line per Service, in port order, to 'ds', for the status
 * command, e.g. "port 32000: default/web, 1 local endpoint, listening". */
void healthcheck_format(const struct healthcheck *, struct ds *);

#endif /* controller/healthcheck.h */
