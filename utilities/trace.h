/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#ifndef UTILITIES_TRACE_H
#define UTILITIES_TRACE_H 1

/* The trace of one packet described in Kubernetes terms (from a pod, a node
 * or an address, to a pod, a Service, a node or an address), shared by
 * "kovs-ctl trace" (offline, utilities/trace-offline.c) and
 * kovs-controller's "trace" command (live, controller/trace-live.c).
 *
 * This module parses the command's options, resolves the names in the
 * cluster model, builds the packet, runs 'ofproto/trace' through a
 * backend (the switch, behind struct trace_backend), tells each stage by
 * the owner of the flow that matched (its cookie) and what it did, decides
 * the verdict and prints it all as text or JSON.  It never exits: every
 * error comes back as a message for the caller to print (kovs-ctl) or to
 * send back (kovs-controller).
 *
 * Its JSON is OVS's (openvswitch/json.h), not jansson: kovs-controller's
 * files see OVS's JSON through the OVSDB headers, and no file may include
 * both. */

#include <stdbool.h>
#include <stdint.h>
#include "k8s/k8s-model.h"
#include "openvswitch/types.h"

struct ds;
struct flow_table;
struct flows_external;
struct flows_local;
struct k8s_cluster;
struct shash;

/* One node's switch as the trace sees it: the bridge that holds its
 * br-int flows and the ports those flows use. */
struct trace_node {
    const char *name;               /* The Node's name. */
    const char *bridge;             /* The bridge to trace on. */
    const struct shash *pods;       /* "ns/name" -> struct flows_port. */
    const struct shash *tunnels;    /* Peer node -> struct flows_port. */
    ofp_port_t flow_tunnel_ofport;  /* The port all peers share
                                     * (--tunnel-ports=flow), or 0: a packet
                                     * output there goes to the peer whose
                                     * underlay address is its tun_dst or
                                     * tun_ipv6_dst. */
    const struct flows_local *local;
    const struct flow_table *ft;    /* Its desired flows (conj_id keys). */
    ofp_port_t gateway_ofport;      /* kovs-gw0. */

    /* The external bridge, if the node has one: the bridge that holds its
     * br-ex flows, and what those flows know of it.  NULL without. */
    const char *ex_bridge;
    const struct flows_external *external;
};

struct trace_backend;

/* The switch that a trace runs on. */
struct trace_backend_class {
    /* Returns in '*nodep' the node called 'name', its flows in the switch,
     * 'proto' being the protocol of the traced packet.  Returns NULL, or
     * an error message that the caller frees.  The node stays valid until
     * the backend is gone. */
    char *(*node_get)(struct trace_backend *, const char *name,
                      uint8_t proto, const struct trace_node **nodep);

    /* Runs "ofproto/trace BRIDGE FLOW --ct-next trk,new" on 'node',
     * 'bridge' being its 'bridge' or its 'ex_bridge', appending what it
     * prints to 'output'.  Returns NULL, or an error message that the
     * caller frees. */
    char *(*run)(struct trace_backend *, const struct trace_node *node,
                 const char *bridge, const char *flow, struct ds *output);
};

struct trace_backend {
    const struct trace_backend_class *class;
    const char *model_name;         /* Where names are looked up, for
                                     * errors: "the state file". */
    const char *local_node;         /* The only node whose switch the
                                     * backend sees (a live trace), or NULL
                                     * for all of them. */
};

/* One end of the packet, as the command line names it. */
enum trace_peer_type {
    TRACE_PEER_IP,              /* An address. */
    TRACE_PEER_POD,             /* "pod NS/NAME". */
    TRACE_PEER_SERVICE,         /* "svc NS/NAME[:PORT]" (--to only). */
    TRACE_PEER_NODE,            /* "node NAME". */
};

struct trace_peer {
    enum trace_peer_type type;
    char *namespace;            /* Pod and Service. */
    char *name;                 /* Pod, Service and node. */
    char *port;                 /* Service port name or number, or NULL. */
    struct in6_addr ip;         /* Resolved address (IPv4 mapped). */
    const struct k8s_pod *pod;  /* The pod, if it is one. */
    const struct k8s_node *node;    /* The node, if it is one. */
};

struct trace_options {
    struct trace_peer from, to;
    bool has_from, has_to;
    uint8_t proto;              /* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP
                                 * (an echo request, ICMPv6's for IPv6). */
    bool neighbor;              /* --proto arp|nd: instead, an ARP request
                                 * or a Neighbor Solicitation for --to. */
    bool has_proto;
    int family;                 /* AF_INET or AF_INET6 (-4, -6, or the
                                 * family of an address given), or 0 until
                                 * known: then IPv4. */
    int dport, sport;           /* -1 if not given. */
    char *via_node;             /* --node: where an address enters. */
    char *from_tunnel;          /* --from-tunnel: the peer node whose tunnel
                                 * the packet arrives from, or NULL. */
    struct in6_addr src_ip;     /* --src: a source address other than the
                                 * sender's own (IPv4 mapped)... */
    bool has_src;               /* ...if this is true. */
    bool from_uplink;           /* --from-uplink: --from enters from outside
                                 * the cluster through br-ex's uplink. */
    bool external_bridge;       /* --external-bridge (offline), or
                                 * --from-uplink. */
    struct k8s_dual_cidr cluster_cidr;  /* One prefix per family. */
    struct k8s_dual_cidr service_cidr;
    bool has_cidr_option;       /* Either was given. */
    bool flow_tunnel;           /* --tunnel-ports=flow (offline): one
                                 * flow-based tunnel port per node. */
    bool has_tunnel_ports;      /* --tunnel-ports was given. */
    bool json;
    bool verbose;
    bool help;                  /* --help: print trace_usage() only. */
    char *state_file;           /* The argument that is no option. */
};

/* Parses the arguments of "trace" ('argv[0]' is the first one, not the
 * command's name) into 'o', which trace_options_destroy() frees (also
 * after an error).  Returns NULL, or an error message that the caller
 * frees.  Whether a state file is required is for the caller to say. */
char *trace_options_parse(int argc, const char *const argv[],
                          struct trace_options *o);
void trace_options_destroy(struct trace_options *);

/* Appends the help of the trace's options to 's'; 'live' leaves out the
 * ones that only make sense offline. */
void trace_usage(struct ds *s, bool live);

/* Traces the packet that 'o' describes (its names resolved in 'cluster'
 * and stored in 'o') on 'backend', and appends the result, as text or as
 * JSON as 'o' says, to 'out'.  Returns NULL, or an error message that the
 * caller frees (nothing is appended then). */
char *trace_run(struct trace_options *o, const struct k8s_cluster *cluster,
                struct trace_backend *backend, struct ds *out);

#endif /* utilities/trace.h */
