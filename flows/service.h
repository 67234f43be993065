/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#ifndef FLOWS_SERVICE_H
#define FLOWS_SERVICE_H 1

/* Services: conntrack load balancing.
 *
 * Per Service port and IP family, one select group whose buckets load an
 * endpoint into EP_IP (EP_IP6 for IPv6) and EP_PORT and resubmit to
 * ENDPOINT_DNAT; per (VIP, protocol,
 * port) one SERVICE_LB flow that sends new connections to the group (or,
 * with sessionAffinity ClientIP, through AFFINITY first); per endpoint one
 * ENDPOINT_DNAT flow that DNATs and commits, shared by every Service that
 * uses the endpoint.  A Service with no usable endpoint rejects.  An IPv6
 * ClusterIP is load-balanced over the IPv6 EndpointSlices as an IPv4 one
 * over the IPv4 slices; NodePorts, external and LoadBalancer IPs are IPv4
 * only (they need IPv6 on br-ex). */

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include "k8s/k8s-model.h"
#include "openvswitch/types.h"

struct flow_table;
struct flows_input;

/* One endpoint of a Service port. */
struct service_endpoint {
    ovs_be32 ip;                    /* IPv4 endpoint; 0 for IPv6. */
    struct in6_addr ip6;            /* IPv6 endpoint; zero for IPv4. */
    uint16_t port;
    bool local;                     /* On this node. */
};

/* Selects the endpoints of port 'sp' of 'svc' the way kube-proxy does:
 * from every EndpointSlice of the Service of the family 'ipv6' asks for,
 * the slice port with the same name and protocol, the ready endpoints, or
 * if there are none the serving and terminating ones; only those on
 * 'node_name' if 'local_only'.  Stores them, sorted and without
 * duplicates, in a new array '*epsp' that the caller frees, and returns
 * their number. */
size_t service_select_endpoints(const struct k8s_cluster *,
                                const struct k8s_service *,
                                const struct k8s_service_port *sp,
                                const char *node_name, bool local_only,
                                bool ipv6, struct service_endpoint **epsp);

/* Returns false for the Services kovs leaves alone: headless, ExternalName
 * and those labelled for another proxy. */
bool service_is_proxied(const struct k8s_service *);

/* Returns the number of distinct ready endpoints of 'svc' on node
 * 'node_name', what its health check node port reports: of the family with
 * more of them, so that a dual-stack pod counts once. */
size_t service_count_local_ready(const struct k8s_cluster *,
                                 const struct k8s_service *,
                                 const char *node_name);

/* Recomputes the flows and groups of Service 'namespace'/'name': on br-int
 * in 'ft' and, for its front ends from outside the cluster, on br-ex in
 * 'ex_ft' (NULL without an external bridge). */
void flows_service_compute(const struct flows_input *, const char *namespace,
                           const char *name, struct flow_table *ft,
                           struct flow_table *ex_ft);

#endif /* flows/service.h */
