/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#include <config.h>

#include "utilities/trace.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "flow.h"
#include "flows/flow-table.h"
#include "flows/flows.h"
#include "flows/pipeline.h"
#include "flows/service.h"
#include "k8s/k8s-decode.h"
#include "k8s/k8s-model.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/shash.h"
#include "packets.h"
#include "svec.h"
#include "util.h"
#include "utilities/snapshot.h"
#include "utilities/trace-switch.h"

/* kovs-controller gives kovs-gw0 this OpenFlow port on every node of a
 * snapshot, as 'kovs-ctl compute' does by default. */
#define TRACE_GATEWAY_OFPORT 1

/* A packet that crosses more nodes than this is in a loop. */
#define TRACE_MAX_HOPS 4

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
    ovs_be32 ip;                /* Resolved address. */
    const struct k8s_pod *pod;  /* The pod, if it is one. */
    const struct k8s_node *node;    /* The node, if it is one. */
};

struct trace_options {
    struct trace_peer from, to;
    bool has_from, has_to;
    uint8_t proto;              /* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP. */
    bool has_proto;
    int dport, sport;           /* -1 if not given. */
    const char *via_node;       /* --node: where an address enters. */
    ovs_be32 src_ip;            /* --src: a source address other than the
                                 * sender's own, or 0. */
    struct k8s_dual_cidr cluster_cidr;
    struct k8s_dual_cidr service_cidr;
    bool json;
    bool verbose;
    const char *state_file;
};

/* One node whose flows are in the private switch, on bridge 'bridge'. */
struct trace_node {
    char *name;
    char *bridge;               /* "br0", "br1", ... */
    struct shash pods;          /* "ns/name" -> struct flows_port. */
    struct shash tunnels;       /* Peer node -> struct flows_port. */
    struct flows_input in;
    struct flows_local local;
    struct flow_table ft;
};

/* The packet as ofproto/trace takes it. */
struct trace_packet {
    uint8_t proto;
    ofp_port_t in_port;
    struct eth_addr dl_src, dl_dst;
    ovs_be32 nw_src, nw_dst;
    uint8_t ttl;
    uint16_t sport, dport;
    uint64_t tun_id;            /* Nonzero for a packet from a tunnel. */
    ovs_be32 tun_src, tun_dst;
};

/* One step of ofproto/trace: a flow that matched. */
struct trace_stage {
    char *node;
    uint8_t table;
    int priority;
    uint64_t cookie;
    char *match;                /* As ofproto/trace prints it. */
    struct svec actions;        /* One per line, trimmed. */
    int bucket;                 /* Bucket a group chose, or -1. */
    int output;                 /* OpenFlow port output to, or -1. */
    char *owner;                /* "Pod default/a", "pipeline". */
    char *what;                 /* What it did, in Kubernetes terms. */
};

struct trace_ctx {
    const struct trace_options *o;
    const struct k8s_cluster *cluster;
    struct trace_switch *sw;
    struct shash nodes;         /* Node name -> struct trace_node. */
    size_t n_bridges;

    struct trace_stage *stages;
    size_t n_stages, allocated_stages;
    struct svec raw;            /* Per traced hop: the command, then the
                                 * output. */

    const char *result;         /* "delivered", "dropped", "rejected",
                                 * "node", "external", "loop". */
    char *verdict;
};

static void OVS_PRINTF_FORMAT(1, 2) OVS_NO_RETURN
trace_fatal(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    char *msg = xvasprintf(format, args);
    va_end(args);
    ovs_fatal(0, "trace: %s", msg);
}

/* Model look-ups. */

static ovs_be32
node_ipv4(const struct k8s_node *node)
{
    for (size_t i = 0; i < node->n_internal_ips; i++) {
        if (k8s_addr_is_ipv4(&node->internal_ips[i])) {
            return in6_addr_get_mapped_ipv4(&node->internal_ips[i]);
        }
    }
    return 0;
}

static const struct k8s_pod *
find_pod_by_ip(const struct k8s_cluster *cluster, ovs_be32 ip)
{
    const struct k8s_object *obj;
    K8S_CLUSTER_FOR_EACH (obj, K8S_POD, cluster) {
        const struct k8s_pod *pod = k8s_pod_cast(obj);
        if (!pod->host_network && flows_pod_object_ipv4(pod) == ip) {
            return pod;
        }
    }
    return NULL;
}

static const struct k8s_node *
find_node_by_ip(const struct k8s_cluster *cluster, ovs_be32 ip)
{
    const struct k8s_object *obj;
    K8S_CLUSTER_FOR_EACH (obj, K8S_NODE, cluster) {
        const struct k8s_node *node = k8s_node_cast(obj);
        if (node_ipv4(node) == ip) {
            return node;
        }
    }
    return NULL;
}

static const struct k8s_node *
find_node(const struct k8s_cluster *cluster, const char *name)
{
    const struct k8s_object *obj = k8s_cluster_find(cluster, K8S_NODE, "",
                                                    name);
    return obj ? k8s_node_cast(obj) : NULL;
}

/* Returns the key ("ns/name") of the pod with port 'ofport' on 'tn'. */
static const char *
pod_key_by_ofport(const struct trace_node *tn, int ofport)
{
    const struct shash_node *sn;
    SHASH_FOR_EACH (sn, &tn->pods) {
        const struct flows_port *p = sn->data;
        if (ofp_to_u16(p->ofport) == ofport) {
            return sn->name;
        }
    }
    return NULL;
}

/* Returns the peer node whose tunnel has port 'ofport' on 'tn'. */
static const char *
tunnel_by_ofport(const struct trace_node *tn, int ofport)
{
    const struct shash_node *sn;
    SHASH_FOR_EACH (sn, &tn->tunnels) {
        const struct flows_port *p = sn->data;
        if (ofp_to_u16(p->ofport) == ofport) {
            return sn->name;
        }
    }
    return NULL;
}

/* Command line. */

OVS_NO_RETURN static void trace_usage(void);

static void
trace_usage(void)
{
    printf("usage: %s trace --from SOURCE --to DESTINATION [OPTIONS] "
           "STATE.json\n"
           "\n"
           "Traces one packet (the first of a connection: a TCP SYN, a UDP\n"
           "datagram or an ICMP echo request) through the flows kovs computes"
           "\n"
           "from the cluster in STATE.json, in a private ovs-vswitchd, node"
           " by\n"
           "node, and tells each step in Kubernetes terms.\n"
           "\n"
           "  --from pod NS/NAME | node NAME | IP\n"
           "  --to pod NS/NAME | svc NS/NAME[:PORT] | node NAME | IP\n"
           "  --proto tcp|udp|icmp    default tcp, or the Service port's\n"
           "  --port N                destination port (default: the"
           " Service\n"
           "                          port's, if it has only one)\n"
           "  --sport N               source port (default 40000); it"
           " decides\n"
           "                          which endpoint a Service's group"
           " picks\n"
           "  --src IP                the source address the packet"
           " carries, if\n"
           "                          not the sender's own (a spoofed"
           " packet)\n"
           "  --node NAME             the node where an address that is no"
           " pod's\n"
           "                          or node's enters (through its"
           " gateway)\n"
           "  --cluster-cidr=CIDR[,CIDR]  the cluster's pod network, one"
           " prefix per\n"
           "                          family\n"
           "  --service-cidr=CIDR[,CIDR]  the cluster's Service network,"
           " one prefix\n"
           "                          per family\n"
           "  --json                  print the result as JSON\n"
           "  -v, --verbose           add the raw ofproto/trace output\n",
           program_name);
    exit(EXIT_SUCCESS);
}

/* Parses "pod NS/NAME", "svc NS/NAME[:PORT]", "node NAME" or "IP" from
 * argv[*i] (and argv[*i + 1]). */
static void
parse_peer(const char *option, int argc, char *argv[], int *i,
           const char *value, bool is_to, struct trace_peer *peer)
{
    memset(peer, 0, sizeof *peer);
    enum trace_peer_type type;
    if (!strcmp(value, "pod")) {
        type = TRACE_PEER_POD;
    } else if (is_to && (!strcmp(value, "svc")
                         || !strcmp(value, "service"))) {
        type = TRACE_PEER_SERVICE;
    } else if (!strcmp(value, "node")) {
        type = TRACE_PEER_NODE;
    } else {
        if (!ip_parse(value, &peer->ip)) {
            trace_fatal("%s %s: not pod NS/NAME,%s node NAME or an IPv4 "
                        "address", option, value,
                        is_to ? " svc NS/NAME[:PORT]," : "");
        }
        peer->type = TRACE_PEER_IP;
        return;
    }
    if (*i + 1 >= argc) {
        trace_fatal("%s %s: missing name", option, value);
    }
    const char *name = argv[++*i];
    peer->type = type;
    if (type == TRACE_PEER_NODE) {
        peer->name = xstrdup(name);
        return;
    }
    const char *slash = strchr(name, '/');
    if (!slash || slash == name || !slash[1]) {
        trace_fatal("%s %s %s: NAMESPACE/NAME expected", option, value,
                    name);
    }
    peer->namespace = xmemdup0(name, slash - name);
    const char *colon = strchr(slash, ':');
    if (colon && type == TRACE_PEER_SERVICE) {
        peer->name = xmemdup0(slash + 1, colon - slash - 1);
        peer->port = xstrdup(colon + 1);
    } else {
        peer->name = xstrdup(slash + 1);
    }
}

static int
parse_port_number(const char *option, const char *s)
{
    int port;
    if (!str_to_int(s, 10, &port) || port < 0 || port > 65535) {
        trace_fatal("%s %s: not a port number", option, s);
    }
    return port;
}

static void
parse_cidr(const char *option, const char *arg, struct k8s_dual_cidr *c)
{
    char *error = k8s_parse_dual_cidr_option(option, arg, c);
    if (error) {
        ovs_fatal(0, "%s", error);
    }
}

static void
trace_parse_options(int argc, char *argv[], struct trace_options *o)
{
    memset(o, 0, sizeof *o);
    o->dport = o->sport = -1;

    for (int i = 1; i < argc; i++) {
        char *arg = argv[i];
        if (arg[0] != '-' || !arg[1]) {
            if (o->state_file) {
                trace_fatal("only one state file may be given");
            }
            o->state_file = arg;
            continue;
        }

        /* "--name=value" or "--name value". */
        char *name = xstrdup(arg);
        char *eq = strchr(name, '=');
        const char *value = NULL;
        if (eq) {
            *eq = '\0';
            value = arg + (eq - name) + 1;
        }
        bool takes_value = (!strcmp(name, "--from") || !strcmp(name, "--to")
                            || !strcmp(name, "--proto")
                            || !strcmp(name, "--port")
                            || !strcmp(name, "--sport")
                            || !strcmp(name, "--node")
                            || !strcmp(name, "--src")
                            || !strcmp(name, "--cluster-cidr")
                            || !strcmp(name, "--service-cidr"));
        if (takes_value && !value) {
            if (i + 1 >= argc) {
                trace_fatal("%s: missing value", name);
            }
            value = argv[++i];
        } else if (!takes_value && value) {
            trace_fatal("%s takes no value", name);
        }

        if (!strcmp(name, "--from")) {
            parse_peer(name, argc, argv, &i, value, false, &o->from);
            o->has_from = true;
        } else if (!strcmp(name, "--to")) {
            parse_peer(name, argc, argv, &i, value, true, &o->to);
            o->has_to = true;
        } else if (!strcmp(name, "--proto")) {
            if (!strcasecmp(value, "tcp")) {
                o->proto = IPPROTO_TCP;
            } else if (!strcasecmp(value, "udp")) {
                o->proto = IPPROTO_UDP;
            } else if (!strcasecmp(value, "icmp")) {
                o->proto = IPPROTO_ICMP;
            } else {
                trace_fatal("--proto %s: tcp, udp or icmp expected", value);
            }
            o->has_proto = true;
        } else if (!strcmp(name, "--port")) {
            o->dport = parse_port_number(name, value);
        } else if (!strcmp(name, "--sport")) {
            o->sport = parse_port_number(name, value);
        } else if (!strcmp(name, "--node")) {
            o->via_node = value;
        } else if (!strcmp(name, "--src")) {
            if (!ip_parse(value, &o->src_ip)) {
                trace_fatal("--src %s: not an IPv4 address", value);
            }
        } else if (!strcmp(name, "--cluster-cidr")) {
            parse_cidr("cluster-cidr", value, &o->cluster_cidr);
        } else if (!strcmp(name, "--service-cidr")) {
            parse_cidr("service-cidr", value, &o->service_cidr);
        } else if (!strcmp(name, "--json")) {
            o->json = true;
        } else if (!strcmp(name, "-v") || !strcmp(name, "--verbose")) {
            o->verbose = true;
        } else if (!strcmp(name, "-h") || !strcmp(name, "--help")) {
            trace_usage();
        } else {
            trace_fatal("%s: unknown option (use --help for usage)", name);
        }
        free(name);
    }
    if (!o->state_file) {
        trace_fatal("a state file is required (use --help for usage)");
    }
    if (!o->has_from || !o->has_to) {
        trace_fatal("--from and --to are required (use --help for usage)");
    }
}

/* Resolves 'peer' in 'cluster': its address, pod and node. */
static void
resolve_peer(const struct k8s_cluster *cluster, const char *option,
             struct trace_peer *peer)
{
    const struct k8s_object *obj;
    switch (peer->type) {
    case TRACE_PEER_POD:
        obj = k8s_cluster_find(cluster, K8S_POD, peer->namespace,
                               peer->name);
        if (!obj) {
            trace_fatal("%s: pod %s/%s is not in the state file", option,
                        peer->namespace, peer->name);
        }
        peer->pod = k8s_pod_cast(obj);
        if (peer->pod->host_network) {
            /* A host-network pod is its node. */
            peer->node = find_node(cluster, peer->pod->node_name);
            if (!peer->node) {
                trace_fatal("%s: pod %s/%s is on the host network of node "
                            "\"%s\", which is not in the state file",
                            option, peer->namespace, peer->name,
                            peer->pod->node_name);
            }
            peer->ip = node_ipv4(peer->node);
            peer->pod = NULL;
            return;
        }
        peer->ip = flows_pod_object_ipv4(peer->pod);
        if (!peer->ip) {
            trace_fatal("%s: pod %s/%s has no IPv4 address", option,
                        peer->namespace, peer->name);
        }
        return;

    case TRACE_PEER_NODE:
        peer->node = find_node(cluster, peer->name);
        if (!peer->node) {
            trace_fatal("%s: node %s is not in the state file", option,
                        peer->name);
        }
        peer->ip = node_ipv4(peer->node);
        if (!peer->ip) {
            trace_fatal("%s: node %s has no IPv4 InternalIP", option,
                        peer->name);
        }
        return;

    case TRACE_PEER_SERVICE:
        obj = k8s_cluster_find(cluster, K8S_SERVICE, peer->namespace,
                               peer->name);
        if (!obj) {
            trace_fatal("%s: Service %s/%s is not in the state file",
                        option, peer->namespace, peer->name);
        }
        const struct k8s_service *svc = k8s_service_cast(obj);
        for (size_t i = 0; i < svc->n_cluster_ips; i++) {
            if (k8s_addr_is_ipv4(&svc->cluster_ips[i])) {
                peer->ip = in6_addr_get_mapped_ipv4(&svc->cluster_ips[i]);
                break;
            }
        }
        if (!peer->ip) {
            trace_fatal("%s: Service %s/%s has no IPv4 ClusterIP (a headless "
                        "Service's clients reach its pods directly)",
                        option, peer->namespace, peer->name);
        }
        return;

    case TRACE_PEER_IP:
        peer->pod = find_pod_by_ip(cluster, peer->ip);
        if (!peer->pod) {
            peer->node = find_node_by_ip(cluster, peer->ip);
        }
        return;
    }
    OVS_NOT_REACHED();
}

/* Chooses the Service port of --to svc, and with it the protocol and the
 * destination port. */
static void
resolve_service_port(const struct k8s_cluster *cluster,
                     struct trace_options *o)
{
    const struct k8s_service *svc = k8s_service_cast(
        k8s_cluster_find(cluster, K8S_SERVICE, o->to.namespace,
                         o->to.name));
    const struct k8s_service_port *sp = NULL;
    for (size_t i = 0; i < svc->n_ports; i++) {
        const struct k8s_service_port *p = &svc->ports[i];
        char *number = xasprintf("%"PRIu16, p->port);
        bool match = (o->to.port
                      ? !strcmp(o->to.port, p->name)
                        || !strcmp(o->to.port, number)
                      : o->dport >= 0 ? p->port == o->dport
                      : svc->n_ports == 1);
        free(number);
        if (match && o->has_proto
            && !((p->protocol == K8S_PROTO_TCP && o->proto == IPPROTO_TCP)
                 || (p->protocol == K8S_PROTO_UDP
                     && o->proto == IPPROTO_UDP))) {
            match = false;
        }
        if (match) {
            sp = p;
            break;
        }
    }
    if (!sp) {
        if (o->has_proto && !o->to.port && o->dport < 0) {
            trace_fatal("--to svc %s/%s: the Service has no %s port",
                        o->to.namespace, o->to.name,
                        o->proto == IPPROTO_TCP ? "TCP"
                        : o->proto == IPPROTO_UDP ? "UDP" : "ICMP");
        }
        if (o->to.port || o->dport >= 0) {
            /* A port the Service lacks: trace it anyway, as a client
             * would send it. */
            if (o->to.port) {
                o->dport = parse_port_number("svc port", o->to.port);
            }
            return;
        }
        trace_fatal("--to svc %s/%s: the Service has %"PRIuSIZE" ports: "
                    "say which (NS/NAME:PORT or --port)", o->to.namespace,
                    o->to.name, svc->n_ports);
    }
    if (!o->has_proto) {
        o->proto = sp->protocol == K8S_PROTO_UDP ? IPPROTO_UDP : IPPROTO_TCP;
        o->has_proto = true;
    }
    o->dport = sp->port;
}

/* The private switch: one bridge per node on the path. */

static void
put_vsctl_port(struct svec *args, const char *bridge, const char *iface,
               ofp_port_t ofport)
{
    svec_add(args, "--");
    svec_add(args, "add-port");
    svec_add(args, bridge);
    svec_add(args, iface);
    svec_add(args, "--");
    svec_add(args, "set");
    svec_add(args, "Interface");
    svec_add(args, iface);
    svec_add(args, "type=dummy");
    svec_add_nocopy(args, xasprintf("ofport_request=%"PRIu16,
                                    ofp_to_u16(ofport)));
}

static void
run_or_die(struct trace_ctx *ctx, struct svec *args)
{
    struct ds output = DS_EMPTY_INITIALIZER;
    svec_terminate(args);
    if (trace_switch_run(ctx->sw, (const char *const *) args->names,
                         &output)) {
        trace_fatal("%s failed: %s", args->names[0], ds_cstr(&output));
    }
    ds_destroy(&output);
}

/* Returns the group lines of 'tn' for 'ovs-ofctl bundle', each select
 * group made to choose its bucket by a hash of the packet's addresses and
 * ports: ofproto/trace does not follow the datapath hash that the switch
 * uses otherwise, and so shows the bucket this packet takes. */
static void
format_trace_groups(const struct trace_node *tn, uint8_t proto,
                    struct svec *lines)
{
    const char *fields = (proto == IPPROTO_TCP
                          ? "selection_method=hash,fields(ip_src,ip_dst,"
                            "tcp_src)"
                          : proto == IPPROTO_UDP
                          ? "selection_method=hash,fields(ip_src,ip_dst,"
                            "udp_src)"
                          : "selection_method=hash,fields(ip_src,ip_dst)");
    struct svec groups = SVEC_EMPTY_INITIALIZER;
    snapshot_format_groups(&tn->ft, "group add ", &groups);
    for (size_t i = 0; i < groups.n; i++) {
        const char *g = groups.names[i];
        const char *dp_hash = strstr(g, "selection_method=dp_hash");
        if (dp_hash) {
            svec_add_nocopy(lines, xasprintf(
                                "%.*s%s%s", (int) (dp_hash - g), g, fields,
                                dp_hash + strlen("selection_method=dp_hash")));
        } else {
            svec_add(lines, g);
        }
    }
    svec_destroy(&groups);
}

/* Returns node 'name', its flows computed and loaded into a bridge of the
 * private switch with the ports they use, on first use. */
static struct trace_node *
trace_node_get(struct trace_ctx *ctx, const char *name)
{
    struct trace_node *tn = shash_find_data(&ctx->nodes, name);
    if (tn) {
        return tn;
    }

    const struct trace_options *o = ctx->o;
    tn = xzalloc(sizeof *tn);
    tn->name = xstrdup(name);
    tn->bridge = xasprintf("br%"PRIuSIZE, ctx->n_bridges++);
    shash_init(&tn->pods);
    shash_init(&tn->tunnels);
    snapshot_pod_ports(ctx->cluster, name, &tn->pods);
    snapshot_tunnel_ports(ctx->cluster, name, &tn->tunnels);
    tn->in = (struct flows_input) {
        .cluster = ctx->cluster,
        .node_name = tn->name,
        .cluster_cidr = o->cluster_cidr,
        .service_cidr = o->service_cidr,
        .gateway_ofport = u16_to_ofp(TRACE_GATEWAY_OFPORT),
        .pod_ports = &tn->pods,
        .tunnel_ports = &tn->tunnels,
    };
    flows_local_init(&tn->in, &tn->local);
    flow_table_init(&tn->ft);
    flows_compute_all(&tn->in, &tn->ft, NULL);
    flow_table_clear_tracked(&tn->ft);
    shash_add(&ctx->nodes, name, tn);

    if (!tn->local.valid) {
        trace_fatal("node %s has no IPv4 podCIDR: kovs gives it no flows",
                    name);
    }

    const char **warnings = sset_sort(&tn->ft.warnings);
    for (size_t i = 0; i < sset_count(&tn->ft.warnings); i++) {
        fprintf(stderr, "%s: node %s: %s\n", o->state_file, name,
                warnings[i]);
    }
    free(warnings);

    /* The bridge and its ports. */
    struct svec args = SVEC_EMPTY_INITIALIZER;
    svec_add(&args, "ovs-vsctl");
    svec_add(&args, "add-br");
    svec_add(&args, tn->bridge);
    svec_add(&args, "--");
    svec_add(&args, "set");
    svec_add(&args, "Bridge");
    svec_add(&args, tn->bridge);
    svec_add(&args, "datapath_type=dummy");
    svec_add(&args, "fail_mode=secure");
    svec_add(&args, "protocols=OpenFlow15");
    size_t index = ctx->n_bridges - 1;
    char *iface = xasprintf("n%"PRIuSIZE"-gw", index);
    put_vsctl_port(&args, tn->bridge, iface,
                   u16_to_ofp(TRACE_GATEWAY_OFPORT));
    free(iface);
    const struct shash_node *sn;
    SHASH_FOR_EACH (sn, &tn->pods) {
        const struct flows_port *p = sn->data;
        iface = xasprintf("n%"PRIuSIZE"-p%"PRIu16, index,
                          ofp_to_u16(p->ofport));
        put_vsctl_port(&args, tn->bridge, iface, p->ofport);
        free(iface);
    }
    SHASH_FOR_EACH (sn, &tn->tunnels) {
        const struct flows_port *p = sn->data;
        iface = xasprintf("n%"PRIuSIZE"-t%"PRIu16, index,
                          ofp_to_u16(p->ofport));
        put_vsctl_port(&args, tn->bridge, iface, p->ofport);
        free(iface);
    }
    run_or_die(ctx, &args);
    svec_clear(&args);

    /* The flows and groups, in one bundle as kovs-controller sends
     * them. */
    struct svec lines = SVEC_EMPTY_INITIALIZER;
    format_trace_groups(tn, o->proto, &lines);
    snapshot_format_flows(&tn->ft, "flow add ", &lines);
    char *bundle = xasprintf("%s/%s.bundle", trace_switch_dir(ctx->sw),
                             tn->bridge);
    FILE *f = fopen(bundle, "w");
    if (!f) {
        trace_fatal("%s: cannot create (%s)", bundle, ovs_strerror(errno));
    }
    for (size_t i = 0; i < lines.n; i++) {
        fprintf(f, "%s\n", lines.names[i]);
    }
    if (fclose(f)) {
        trace_fatal("%s: write error", bundle);
    }
    svec_destroy(&lines);

    svec_add(&args, "ovs-ofctl");
    svec_add(&args, "-O");
    svec_add(&args, "OpenFlow15");
    svec_add(&args, "bundle");
    svec_add(&args, tn->bridge);
    svec_add(&args, bundle);
    run_or_die(ctx, &args);
    svec_destroy(&args);
    free(bundle);
    return tn;
}

static void
trace_node_destroy(struct trace_node *tn)
{
    if (tn) {
        flow_table_destroy(&tn->ft);
        shash_destroy_free_data(&tn->pods);
        shash_destroy_free_data(&tn->tunnels);
        free(tn->name);
        free(tn->bridge);
        free(tn);
    }
}

/* Parsing ofproto/trace's output. */

static struct trace_stage *
add_stage(struct trace_ctx *ctx, const char *node)
{
    if (ctx->n_stages >= ctx->allocated_stages) {
        ctx->stages = x2nrealloc(ctx->stages, &ctx->allocated_stages,
                                 sizeof *ctx->stages);
    }
    struct trace_stage *st = &ctx->stages[ctx->n_stages++];
    memset(st, 0, sizeof *st);
    st->node = xstrdup(node);
    svec_init(&st->actions);
    st->bucket = st->output = -1;
    return st;
}

/* Parses a stage line ("40. MATCH, priority 200, cookie 0x4..."), 'line'
 * without its indentation.  Returns false if it is none. */
static bool
parse_stage_line(const char *line, int *table, int *priority,
                 uint64_t *cookie, char **match)
{
    int n = 0;
    if (sscanf(line, "%d. %n", table, &n) != 1 || !n
        || *table < 0 || *table > 255) {
        return false;
    }
    const char *rest = line + n;
    const char *p = strstr(rest, "priority ");
    if (!p) {
        return false;
    }
    unsigned long long int c = 0;
    if (sscanf(p, "priority %d, cookie %llx", priority, &c) < 1) {
        return false;
    }
    *cookie = c;
    size_t match_len = p - rest;
    while (match_len && (rest[match_len - 1] == ' '
                         || rest[match_len - 1] == ',')) {
        match_len--;
    }
    *match = xmemdup0(rest, match_len);
    return true;
}

/* What one traced hop ended with. */
struct trace_hop {
    char *final_flow;           /* The last "Flow:" or "Final flow:". */
    size_t first_stage;         /* Index of its first stage in 'ctx'. */
};

static void
parse_trace(struct trace_ctx *ctx, const char *node, const char *text,
            struct trace_hop *hop)
{
    hop->final_flow = NULL;
    hop->first_stage = ctx->n_stages;

    struct trace_stage *st = NULL;
    char *copy = xstrdup(text);
    char *save_ptr = NULL;
    for (char *line = strtok_r(copy, "\n", &save_ptr); line;
         line = strtok_r(NULL, "\n", &save_ptr)) {
        const char *s = line + strspn(line, " ");
        int table, priority;
        uint64_t cookie;
        char *match;

        if (!strncmp(line, "Flow: ", 6)) {
            free(hop->final_flow);
            hop->final_flow = xstrdup(line + 6);
            st = NULL;
        } else if (!strncmp(line, "Final flow: ", 12)) {
            if (strcmp(line + 12, "unchanged")) {
                free(hop->final_flow);
                hop->final_flow = xstrdup(line + 12);
            }
            st = NULL;
        } else if (parse_stage_line(s, &table, &priority, &cookie,
                                    &match)) {
            st = add_stage(ctx, node);
            st->table = table;
            st->priority = priority;
            st->cookie = cookie;
            st->match = match;
        } else if (s == line) {
            st = NULL;          /* Not part of a stage. */
        } else if (st) {
            int n;
            if (sscanf(s, "-> using bucket %d", &n) == 1) {
                st->bucket = n;
            } else if (sscanf(s, "-> output port is %d", &n) == 1) {
                st->output = n;
            } else if (strncmp(s, "->", 2)) {
                svec_add(&st->actions, s);
            }
        }
    }
    free(copy);
}

/* Returns true if 'st' has an action that starts with 'prefix'. */
static bool
stage_has_action(const struct trace_stage *st, const char *prefix)
{
    for (size_t i = 0; i < st->actions.n; i++) {
        if (!strncmp(st->actions.names[i], prefix, strlen(prefix))) {
            return true;
        }
    }
    return false;
}

/* Returns the value of 'field' ("nw_dst") in 'flow' (ovs-ofctl syntax)
 * in a new string, or NULL. */
static char *
flow_field(const char *flow, const char *field)
{
    size_t len = strlen(field);
    for (const char *p = flow; p && *p; p = strchr(p, ',')) {
        if (*p == ',') {
            p++;
        }
        if (!strncmp(p, field, len) && p[len] == '=') {
            const char *v = p + len + 1;
            return xmemdup0(v, strcspn(v, ",: "));
        }
    }
    return NULL;
}

static ovs_be32
flow_field_ip(const char *flow, const char *field)
{
    char *v = flow_field(flow, field);
    ovs_be32 ip = 0;
    if (v) {
        ip_parse(v, &ip);
    }
    free(v);
    return ip;
}

static long long int
flow_field_int(const char *flow, const char *field, long long int dflt)
{
    char *v = flow_field(flow, field);
    long long int x = dflt;
    if (v) {
        x = strtoll(v, NULL, 0);
    }
    free(v);
    return x;
}

/* Describing stages. */

static const char *
policy_dir_name(uint8_t table)
{
    return table == KOVS_T_INGRESS_POLICY ? "ingress" : "egress";
}

/* The pod that a policy table's stage is about: the destination (the port
 * in REG_OUT_PORT) for ingress, the source (in_port) for egress. */
static const char *
policy_pod(const struct trace_node *tn, const struct trace_stage *st,
           const struct trace_packet *pkt)
{
    long long int port = -1;
    if (st->table == KOVS_T_INGRESS_POLICY) {
        port = flow_field_int(st->match, "reg1", -1);
    } else {
        port = flow_field_int(st->match, "in_port", -1);
        if (port < 0) {
            port = ofp_to_u16(pkt->in_port);
        }
    }
    return port >= 0 ? pod_key_by_ofport(tn, port) : NULL;
}

/* Appends the NetworkPolicies that isolate pod 'key' ("ns/name") for the
 * direction of 'table'. */
static void
put_isolating_policies(struct ds *s, const struct k8s_cluster *cluster,
                       const char *key, uint8_t table)
{
    const char *slash = strchr(key, '/');
    char *ns = xmemdup0(key, slash - key);
    const struct k8s_object *obj = k8s_cluster_find(cluster, K8S_POD, ns,
                                                    slash + 1);
    struct svec names = SVEC_EMPTY_INITIALIZER;
    if (obj) {
        K8S_CLUSTER_FOR_EACH (obj, K8S_NETWORK_POLICY, cluster) {
            const struct k8s_network_policy *np
                = k8s_network_policy_cast(obj);
            const struct k8s_pod *pod = k8s_pod_cast(
                k8s_cluster_find(cluster, K8S_POD, ns, slash + 1));
            bool isolates = (table == KOVS_T_INGRESS_POLICY
                             ? np->ingress_isolation
                             : np->egress_isolation);
            if (isolates && !strcmp(obj->namespace, ns)
                && k8s_selector_matches(&np->pod_selector,
                                        &pod->obj.labels)) {
                svec_add_nocopy(&names, xasprintf("%s/%s", obj->namespace,
                                                  obj->name));
            }
        }
    }
    svec_sort(&names);
    ds_put_format(s, "NetworkPolic%s ", names.n > 1 ? "ies" : "y");
    for (size_t i = 0; i < names.n; i++) {
        ds_put_format(s, "%s%s", i ? ", " : "", names.names[i]);
    }
    svec_destroy(&names);
    free(ns);
}

static void
describe_policy(struct trace_ctx *ctx, const struct trace_node *tn,
                const struct trace_stage *st, const struct trace_packet *pkt,
                struct ds *s)
{
    const char *dir = policy_dir_name(st->table);
    const char *pod = policy_pod(tn, st, pkt);
    long long int conj_id = flow_field_int(st->match, "conj_id", -1);

    if (conj_id >= 0) {
        const char *key = flow_table_conj_id_key(&tn->ft, conj_id);
        /* The key is "ns/name direction rule [signature]". */
        char policy[256], key_dir[16];
        int rule;
        if (key && sscanf(key, "%255s %15s %d", policy, key_dir,
                          &rule) == 3) {
            ds_put_format(s, "allowed by NetworkPolicy %s %s rule %d",
                          policy, key_dir, rule);
        } else {
            ds_put_format(s, "allowed by a rule of %s", st->owner);
        }
    } else if (st->priority == KOVS_PRIO_POLICY_ALL) {
        ds_put_format(s, "allowed by %s: a rule that allows all %s "
                      "traffic of pod %s", st->owner, dir,
                      pod ? pod : "?");
    } else if (st->priority == KOVS_PRIO_POLICY_DROP) {
        ds_put_format(s, "dropped: pod %s is isolated for %s by ",
                      pod ? pod : "?", dir);
        if (pod) {
            put_isolating_policies(s, ctx->cluster, pod, st->table);
        } else {
            ds_put_cstr(s, st->owner);
        }
        ds_put_cstr(s, " and no rule allows it");
    } else if (st->priority == KOVS_PRIO_POLICY_PASS) {
        ds_put_cstr(s, "not judged: not a new connection, or from the "
                    "pod's own node");
    } else if (st->priority == KOVS_PRIO_MISS) {
        ds_put_format(s, "no NetworkPolicy isolates %s for %s",
                      st->table == KOVS_T_INGRESS_POLICY
                      ? "the destination" : "the source", dir);
    } else {
        ds_put_format(s, "%s: %s", st->owner, dir);
    }
}

/* Returns the destination "IP:PORT" of the first nat(dst=...) at or after
 * stage 'i' of this hop, in a new string, or NULL. */
static char *
find_dnat(const struct trace_ctx *ctx, size_t i)
{
    for (; i < ctx->n_stages; i++) {
        const struct trace_stage *st = &ctx->stages[i];
        for (size_t j = 0; j < st->actions.n; j++) {
            const char *a = strstr(st->actions.names[j], "nat(dst=");
            if (a && !strncmp(st->actions.names[j], "nat(", 4)) {
                a += strlen("nat(dst=");
                return xmemdup0(a, strcspn(a, ")"));
            }
        }
    }
    return NULL;
}

/* Appends "IP:PORT (pod ns/name, node n)" for the endpoint 'ep'. */
static void
put_endpoint(struct ds *s, const struct k8s_cluster *cluster, const char *ep)
{
    ovs_be32 ip = 0;
    char *ip_s = xmemdup0(ep, strcspn(ep, ":"));
    ip_parse(ip_s, &ip);
    free(ip_s);
    ds_put_cstr(s, ep);
    const struct k8s_pod *pod = ip ? find_pod_by_ip(cluster, ip) : NULL;
    if (pod) {
        ds_put_format(s, " (pod %s/%s, node %s)", pod->obj.namespace,
                      pod->obj.name, pod->node_name);
    }
}

static void
describe_service(struct trace_ctx *ctx, const struct trace_node *tn,
                 size_t i, const struct trace_packet *pkt, struct ds *s)
{
    const struct trace_stage *st = &ctx->stages[i];
    const struct k8s_object *obj = kovs_cookie_find_owner(ctx->cluster,
                                                          st->cookie);
    const struct k8s_service *svc = (obj && obj->kind == K8S_SERVICE
                                     ? k8s_service_cast(obj) : NULL);
    if (!svc) {
        ds_put_cstr(s, st->priority == KOVS_PRIO_MISS
                    ? "not a Service address and port: no load balancing"
                    : "load balancing");
        return;
    }

    long long int port = flow_field_int(st->match, "tp_dst",
                                        pkt->dport);
    ds_put_format(s, "Service %s/%s port %lld", obj->namespace, obj->name,
                  port);

    const struct k8s_service_port *sp = NULL;
    for (size_t j = 0; j < svc->n_ports; j++) {
        if (svc->ports[j].port == port) {
            sp = &svc->ports[j];
        }
    }
    size_t n_eps = 0;
    if (sp) {
        struct service_endpoint *eps;
        n_eps = service_select_endpoints(
            ctx->cluster, svc, sp, tn->name,
            svc->internal_traffic_policy == K8S_POLICY_LOCAL, &eps);
        free(eps);
    }

    char *ep = find_dnat(ctx, i + 1);
    if (stage_has_action(st, "controller")) {
        ds_put_cstr(s, " has no usable endpoint: rejected");
    } else if (stage_has_action(st, "drop") || !st->actions.n) {
        ds_put_cstr(s, ": dropped: no endpoint on this node and the "
                    "Service's traffic policy is Local");
    } else if (ep) {
        ds_put_cstr(s, ": endpoint ");
        put_endpoint(s, ctx->cluster, ep);
        ds_put_format(s, " chosen by the group, of %"PRIuSIZE
                      " endpoint%s", n_eps, n_eps == 1 ? "" : "s");
    } else {
        ds_put_format(s, ": %"PRIuSIZE" endpoint%s", n_eps,
                      n_eps == 1 ? "" : "s");
    }
    free(ep);
}

static void
describe_output_port(const struct trace_node *tn, int port, struct ds *s)
{
    const char *key, *peer;
    if (port == TRACE_GATEWAY_OFPORT) {
        ds_put_format(s, "the gateway kovs-gw0 (node %s's own stack)",
                      tn->name);
    } else if ((key = pod_key_by_ofport(tn, port)) != NULL) {
        ds_put_format(s, "pod %s (port %d)", key, port);
    } else if ((peer = tunnel_by_ofport(tn, port)) != NULL) {
        ds_put_format(s, "the tunnel to node %s", peer);
    } else {
        ds_put_format(s, "port %d", port);
    }
}

/* Fills in 'st->owner' and 'st->what' for stage 'i' of node 'tn', traced
 * with packet 'pkt'. */
static void
describe_stage(struct trace_ctx *ctx, const struct trace_node *tn, size_t i,
               const struct trace_packet *pkt)
{
    struct trace_stage *st = &ctx->stages[i];
    struct ds owner = DS_EMPTY_INITIALIZER;
    kovs_cookie_format_owner(ctx->cluster, st->cookie, &owner);
    st->owner = ds_steal_cstr(&owner);

    const struct k8s_object *obj = kovs_cookie_find_owner(ctx->cluster,
                                                          st->cookie);
    enum kovs_owner_kind kind = kovs_cookie_kind(st->cookie);
    bool drops = (stage_has_action(st, "drop") || !st->actions.n);
    bool miss = st->priority == KOVS_PRIO_MISS;
    struct ds s = DS_EMPTY_INITIALIZER;
    long long int in_port = flow_field_int(st->match, "in_port", -1);

    switch (st->table) {
    case KOVS_T_CLASSIFIER:
        if (drops) {
            ds_put_format(&s, "dropped: port %d is no pod, "
                          "tunnel or gateway port of this node",
                          ofp_to_u16(pkt->in_port));
        } else if (kind == KOVS_OWNER_POD && obj) {
            ds_put_format(&s, "from pod %s/%s (port %lld)", obj->namespace,
                          obj->name, in_port);
        } else if (kind == KOVS_OWNER_NODE && obj) {
            ds_put_format(&s, "from node %s through its tunnel", obj->name);
        } else if (in_port == TRACE_GATEWAY_OFPORT) {
            ds_put_format(&s, "from node %s's own stack through the "
                          "gateway kovs-gw0", tn->name);
        } else {
            ds_put_cstr(&s, "classified");
        }
        break;

    case KOVS_T_SPOOFGUARD:
        if (drops) {
            const char *key = pod_key_by_ofport(tn,
                                                ofp_to_u16(pkt->in_port));
            ds_put_format(&s, "dropped: source "ETH_ADDR_FMT" "IP_FMT
                          " is not pod %s's own MAC and address (spoofed)",
                          ETH_ADDR_ARGS(pkt->dl_src), IP_ARGS(pkt->nw_src),
                          key ? key : "?");
        } else {
            ds_put_format(&s, "source MAC and address are pod %s/%s's own",
                          obj ? obj->namespace : "?",
                          obj ? obj->name : "?");
        }
        break;

    case KOVS_T_ARP:
        ds_put_cstr(&s, drops ? "dropped: ARP kovs does not answer"
                    : miss ? "not ARP: on to conntrack" : "ARP answered");
        break;

    case KOVS_T_CT_ZONE:
        if (stage_has_action(st, "ct(")) {
            long long int zone = KOVS_CT_ZONE_POD;
            for (size_t j = 0; j < st->actions.n; j++) {
                char *z = flow_field(st->actions.names[j] + 3, "zone");
                if (z) {
                    zone = strtoll(z, NULL, 0);
                    free(z);
                    break;
                }
            }
            ds_put_format(&s, "conntrack, zone %lld: traced as a new "
                          "connection", zone);
        } else {
            ds_put_cstr(&s, "not through conntrack");
        }
        break;

    case KOVS_T_CT_STATE:
        ds_put_cstr(&s, drops ? "dropped: invalid connection"
                    : miss ? "new connection: on to load balancing"
                    : "established or related: no load balancing");
        break;

    case KOVS_T_SERVICE_LB:
        describe_service(ctx, tn, i, pkt, &s);
        break;

    case KOVS_T_AFFINITY:
        ds_put_cstr(&s, drops ? "dropped" : "session affinity (ClientIP)");
        break;

    case KOVS_T_ENDPOINT_DNAT: {
        char *ep = find_dnat(ctx, i);
        if (ep) {
            ds_put_cstr(&s, "DNAT to endpoint ");
            put_endpoint(&s, ctx->cluster, ep);
            ds_put_cstr(&s, ", committed as a Service connection");
        } else {
            ds_put_cstr(&s, drops ? "dropped: no such endpoint" : "DNAT");
        }
        free(ep);
        break;
    }

    case KOVS_T_EGRESS_POLICY:
    case KOVS_T_INGRESS_POLICY:
        describe_policy(ctx, tn, st, pkt, &s);
        break;

    case KOVS_T_L3_FORWARDING:
        if (kind == KOVS_OWNER_POD && obj) {
            ds_put_format(&s, "to pod %s/%s%s", obj->namespace, obj->name,
                          stage_has_action(st, "dec_ttl")
                          ? " (routed: MACs rewritten, TTL decremented)"
                          : " (switched)");
        } else if (kind == KOVS_OWNER_NODE && obj) {
            ds_put_format(&s, "tunnel to node %s", obj->name);
        } else if (kind == KOVS_OWNER_EXTERNAL) {
            ds_put_cstr(&s, "out of the cluster through br-ex");
        } else if (drops) {
            ds_put_format(&s, "dropped: no pod, node or Service has "
                          IP_FMT" here (%s)", IP_ARGS(pkt->nw_dst),
                          st->match);
        } else if (miss) {
            ds_put_format(&s, "not in the cluster: to node %s's stack "
                          "through the gateway, which routes it on",
                          tn->name);
        } else {
            ds_put_format(&s, "to node %s's own stack through the gateway",
                          tn->name);
        }
        break;

    case KOVS_T_SNAT:
        if (kind == KOVS_OWNER_POD && obj) {
            ds_put_format(&s, "hairpin: pod %s/%s reaches itself through "
                          "a Service, source NATed to "IP_FMT" (SNAT "
                          "zone %d)", obj->namespace, obj->name,
                          IP_ARGS(htonl(KOVS_HAIRPIN_IP)),
                          KOVS_CT_ZONE_SNAT);
        } else if (miss && !drops) {
            ds_put_cstr(&s, "nothing to do");
        } else {
            ds_put_cstr(&s, drops ? "dropped" : "source NAT");
        }
        break;

    case KOVS_T_CT_COMMIT:
        ds_put_cstr(&s, (st->priority > 100 ? "already committed (a Service "
                         "connection)"
                         : stage_has_action(st, "ct(commit")
                         ? "connection committed to conntrack"
                         : "nothing to commit"));
        break;

    case KOVS_T_OUTPUT:
        if (stage_has_action(st, "IN_PORT")) {
            ds_put_cstr(&s, "output back to the pod it came from (hairpin)");
        } else if (st->output >= 0) {
            ds_put_cstr(&s, "output to ");
            describe_output_port(tn, st->output, &s);
        } else {
            ds_put_cstr(&s, drops ? "dropped: no output port" : "output");
        }
        break;

    default:
        if (miss && !drops) {
            ds_put_cstr(&s, "nothing to do");
        } else if (drops) {
            ds_put_cstr(&s, "dropped");
        } else {
            for (size_t j = 0; j < st->actions.n; j++) {
                ds_put_format(&s, "%s%s", j ? ", " : "",
                              st->actions.names[j]);
            }
        }
        break;
    }
    st->what = ds_steal_cstr(&s);
}

/* Tracing. */

static void
format_packet(const struct trace_packet *pkt, struct ds *s)
{
    ds_put_format(s, "in_port=%"PRIu16",%s", ofp_to_u16(pkt->in_port),
                  pkt->proto == IPPROTO_TCP ? "tcp"
                  : pkt->proto == IPPROTO_UDP ? "udp" : "icmp");
    if (pkt->tun_id) {
        ds_put_format(s, ",tun_id=%#"PRIx64",tun_src="IP_FMT",tun_dst="
                      IP_FMT, pkt->tun_id, IP_ARGS(pkt->tun_src),
                      IP_ARGS(pkt->tun_dst));
    }
    ds_put_format(s, ",dl_src="ETH_ADDR_FMT",dl_dst="ETH_ADDR_FMT
                  ",nw_src="IP_FMT",nw_dst="IP_FMT",nw_ttl=%"PRIu8,
                  ETH_ADDR_ARGS(pkt->dl_src), ETH_ADDR_ARGS(pkt->dl_dst),
                  IP_ARGS(pkt->nw_src), IP_ARGS(pkt->nw_dst), pkt->ttl);
    if (pkt->proto == IPPROTO_ICMP) {
        ds_put_cstr(s, ",icmp_type=8,icmp_code=0");
    } else {
        const char *l4 = pkt->proto == IPPROTO_TCP ? "tcp" : "udp";
        ds_put_format(s, ",%s_src=%"PRIu16",%s_dst=%"PRIu16, l4, pkt->sport,
                      l4, pkt->dport);
        if (pkt->proto == IPPROTO_TCP) {
            ds_put_cstr(s, ",tcp_flags=syn");
        }
    }
}

/* Updates 'pkt' to the packet that 'final_flow' describes. */
static void
packet_update(struct trace_packet *pkt, const char *final_flow)
{
    char *v;
    if ((v = flow_field(final_flow, "dl_src")) != NULL) {
        eth_addr_from_string(v, &pkt->dl_src);
        free(v);
    }
    if ((v = flow_field(final_flow, "dl_dst")) != NULL) {
        eth_addr_from_string(v, &pkt->dl_dst);
        free(v);
    }
    ovs_be32 ip;
    if ((ip = flow_field_ip(final_flow, "nw_src")) != 0) {
        pkt->nw_src = ip;
    }
    if ((ip = flow_field_ip(final_flow, "nw_dst")) != 0) {
        pkt->nw_dst = ip;
    }
    pkt->ttl = flow_field_int(final_flow, "nw_ttl", pkt->ttl);
    pkt->sport = flow_field_int(final_flow, "tp_src", pkt->sport);
    pkt->dport = flow_field_int(final_flow, "tp_dst", pkt->dport);
    pkt->tun_id = flow_field_int(final_flow, "tun_id", 0);
}

static void
set_verdict(struct trace_ctx *ctx, const char *result, char *verdict)
{
    ctx->result = result;
    free(ctx->verdict);
    ctx->verdict = verdict;
}

/* Traces 'pkt' from node 'node_name' on, through the tunnels it takes. */
static void
trace_path(struct trace_ctx *ctx, const char *node_name,
           struct trace_packet *pkt)
{
    char *node = xstrdup(node_name);
    for (int hops = 0; ; hops++) {
        if (hops >= TRACE_MAX_HOPS) {
            set_verdict(ctx, "loop", xasprintf(
                            "looped: still going after %d nodes", hops));
            break;
        }
        struct trace_node *tn = trace_node_get(ctx, node);

        struct ds flow = DS_EMPTY_INITIALIZER;
        format_packet(pkt, &flow);
        const char *argv[] = {
            "ovs-appctl", "ofproto/trace", tn->bridge, ds_cstr(&flow),
            "--ct-next", "trk,new", NULL,
        };
        struct ds output = DS_EMPTY_INITIALIZER;
        if (trace_switch_run(ctx->sw, argv, &output)) {
            trace_fatal("ofproto/trace on node %s failed: %s", node,
                        ds_cstr(&output));
        }
        svec_add_nocopy(&ctx->raw, xasprintf(
                            "node %s: ovs-appctl ofproto/trace %s '%s' "
                            "--ct-next trk,new", node, tn->bridge,
                            ds_cstr(&flow)));
        svec_add(&ctx->raw, ds_cstr(&output));
        ds_destroy(&flow);

        struct trace_hop hop;
        parse_trace(ctx, node, ds_cstr(&output), &hop);
        ds_destroy(&output);
        for (size_t i = hop.first_stage; i < ctx->n_stages; i++) {
            describe_stage(ctx, tn, i, pkt);
        }
        if (hop.first_stage == ctx->n_stages) {
            trace_fatal("ofproto/trace on node %s matched no flow", node);
        }

        /* Where did it go? */
        const struct trace_stage *last = &ctx->stages[ctx->n_stages - 1];
        int out = -1;
        bool rejected = false, hairpin = false;
        for (size_t i = hop.first_stage; i < ctx->n_stages; i++) {
            const struct trace_stage *st = &ctx->stages[i];
            if (st->output >= 0) {
                out = st->output;
            }
            if (stage_has_action(st, "controller")) {
                rejected = true;
            }
            if (st->table == KOVS_T_OUTPUT
                && stage_has_action(st, "IN_PORT")) {
                hairpin = true;
            }
        }
        if (hop.final_flow) {
            packet_update(pkt, hop.final_flow);
        }
        free(hop.final_flow);

        const char *key, *peer;
        if (rejected) {
            set_verdict(ctx, "rejected", xasprintf(
                            "rejected on node %s in %s: %s", node,
                            kovs_table_name(last->table)
                            ? kovs_table_name(last->table) : "?",
                            last->what));
        } else if (hairpin) {
            key = pod_key_by_ofport(tn, ofp_to_u16(pkt->in_port));
            set_verdict(ctx, "delivered", xasprintf(
                            "delivered to pod %s on node %s (hairpin)",
                            key ? key : "?", node));
        } else if (out < 0) {
            const char *what = last->what;
            if (!strncmp(what, "dropped: ", 9)) {
                what += 9;
            }
            set_verdict(ctx, "dropped", xasprintf(
                            "dropped on node %s in %s: %s", node,
                            kovs_table_name(last->table)
                            ? kovs_table_name(last->table) : "?", what));
        } else if ((key = pod_key_by_ofport(tn, out)) != NULL) {
            set_verdict(ctx, "delivered", xasprintf(
                            "delivered to pod %s on node %s", key, node));
        } else if ((peer = tunnel_by_ofport(tn, out)) != NULL) {
            /* On to the peer, as it receives the packet from its tunnel to
             * this node. */
            const struct k8s_node *src = find_node(ctx->cluster, node);
            const struct k8s_node *dst = find_node(ctx->cluster, peer);
            struct trace_node *ptn = trace_node_get(ctx, peer);
            const struct flows_port *back = shash_find_data(&ptn->tunnels,
                                                            node);
            if (!back || !dst) {
                set_verdict(ctx, "dropped", xasprintf(
                                "sent to node %s, which has no tunnel back "
                                "to node %s", peer, node));
                break;
            }
            pkt->in_port = back->ofport;
            pkt->tun_src = src ? node_ipv4(src) : 0;
            pkt->tun_dst = node_ipv4(dst);
            if (!pkt->tun_id) {
                pkt->tun_id = KOVS_TUNNEL_VNI;
            }
            free(node);
            node = xstrdup(peer);
            continue;
        } else if (out == TRACE_GATEWAY_OFPORT) {
            const struct k8s_node *n = find_node(ctx->cluster, node);
            bool local = (pkt->nw_dst == tn->local.gateway_ip
                          || (n && pkt->nw_dst == node_ipv4(n)));
            if (local || find_node_by_ip(ctx->cluster, pkt->nw_dst)) {
                set_verdict(ctx, "node", xasprintf(
                                "to the node's stack on node %s", node));
            } else {
                set_verdict(ctx, "external", xasprintf(
                                "out of the cluster through node %s's "
                                "stack", node));
            }
        } else {
            set_verdict(ctx, "external", xasprintf(
                            "out through port %d of node %s", out, node));
        }
        break;
    }
    free(node);
}

/* Builds the first packet and finds the node it starts on. */
static const char *
initial_packet(struct trace_ctx *ctx, struct trace_packet *pkt)
{
    const struct trace_options *o = ctx->o;
    const struct trace_peer *from = &o->from, *to = &o->to;
    const char *node;

    memset(pkt, 0, sizeof *pkt);
    pkt->proto = o->proto;
    pkt->nw_src = from->ip;
    pkt->nw_dst = to->ip;
    pkt->ttl = 64;
    pkt->sport = o->sport >= 0 ? o->sport : 40000;
    pkt->dport = o->dport >= 0 ? o->dport : 0;

    if (from->pod) {
        node = from->pod->node_name;
        if (!node[0]) {
            trace_fatal("--from: pod %s/%s is not scheduled on a node",
                        from->pod->obj.namespace, from->pod->obj.name);
        }
    } else if (from->node) {
        node = from->node->obj.name;
    } else if (o->via_node) {
        node = o->via_node;
        if (!find_node(ctx->cluster, node)) {
            trace_fatal("--node %s: not in the state file", node);
        }
    } else {
        trace_fatal("--from "IP_FMT": no pod or node has this address; "
                    "traffic from outside the cluster enters through br-ex, "
                    "whose flows need the node's uplink and cannot be "
                    "computed offline: use --node NAME to send it from that "
                    "node's stack instead", IP_ARGS(from->ip));
    }

    struct trace_node *tn = trace_node_get(ctx, node);
    if (from->pod) {
        char *key = xasprintf("%s/%s", from->pod->obj.namespace,
                              from->pod->obj.name);
        const struct flows_port *p = shash_find_data(&tn->pods, key);
        free(key);
        pkt->in_port = p->ofport;
        pkt->dl_src = p->mac;
    } else {
        pkt->in_port = u16_to_ofp(TRACE_GATEWAY_OFPORT);
        pkt->dl_src = tn->local.gateway_mac;
        if (from->type == TRACE_PEER_NODE) {
            /* The node's stack reaches pods from its gateway address. */
            pkt->nw_src = tn->local.gateway_ip;
        }
    }

    if (o->src_ip) {
        pkt->nw_src = o->src_ip;
    }

    /* A destination in the same subnet is reached by its own MAC (that is
     * what ARP answers); anything else through the gateway. */
    pkt->dl_dst = tn->local.gateway_mac;
    if ((pkt->nw_dst & tn->local.pod_mask) == tn->local.pod_net) {
        const struct k8s_pod *pod = find_pod_by_ip(ctx->cluster,
                                                   pkt->nw_dst);
        if (pod && !strcmp(pod->node_name, node)) {
            char *key = xasprintf("%s/%s", pod->obj.namespace,
                                  pod->obj.name);
            const struct flows_port *p = shash_find_data(&tn->pods, key);
            free(key);
            if (p) {
                pkt->dl_dst = p->mac;
            }
        }
    }
    return node;
}

/* Output. */

static void
describe_peer(const struct trace_peer *peer, struct ds *s)
{
    switch (peer->type) {
    case TRACE_PEER_POD:
        ds_put_format(s, "pod %s/%s", peer->namespace, peer->name);
        break;
    case TRACE_PEER_SERVICE:
        ds_put_format(s, "Service %s/%s", peer->namespace, peer->name);
        break;
    case TRACE_PEER_NODE:
        ds_put_format(s, "node %s", peer->name);
        break;
    case TRACE_PEER_IP:
        if (peer->pod) {
            ds_put_format(s, "pod %s/%s", peer->pod->obj.namespace,
                          peer->pod->obj.name);
        } else if (peer->node) {
            ds_put_format(s, "node %s", peer->node->obj.name);
        } else {
            ds_put_cstr(s, "an address outside the cluster");
        }
        break;
    }
}

static void
describe_packet(const struct trace_ctx *ctx, struct ds *s)
{
    const struct trace_options *o = ctx->o;
    const char *proto = (o->proto == IPPROTO_TCP ? "tcp"
                         : o->proto == IPPROTO_UDP ? "udp" : "icmp");
    ds_put_format(s, "%s "IP_FMT, proto,
                  IP_ARGS(o->src_ip ? o->src_ip : o->from.ip));
    if (o->proto != IPPROTO_ICMP) {
        ds_put_format(s, ":%d", o->sport >= 0 ? o->sport : 40000);
    }
    ds_put_format(s, " -> "IP_FMT, IP_ARGS(o->to.ip));
    if (o->proto != IPPROTO_ICMP) {
        ds_put_format(s, ":%d", o->dport);
    }
    ds_put_cstr(s, " (");
    describe_peer(&o->from, s);
    ds_put_cstr(s, " to ");
    describe_peer(&o->to, s);
    ds_put_cstr(s, ")");
}

static void
print_text(const struct trace_ctx *ctx)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    describe_packet(ctx, &s);
    printf("packet: %s\n", ds_cstr(&s));
    ds_destroy(&s);

    for (size_t i = 0; i < ctx->n_stages; i++) {
        const struct trace_stage *st = &ctx->stages[i];
        const char *table = kovs_table_name(st->table);
        printf("%s %2d %-15s %s: %s\n", st->node, st->table,
               table ? table : "?", st->owner, st->what);
    }
    printf("verdict: %s\n", ctx->verdict);

    if (ctx->o->verbose) {
        for (size_t i = 0; i + 1 < ctx->raw.n; i += 2) {
            printf("\n--- %s\n%s", ctx->raw.names[i], ctx->raw.names[i + 1]);
        }
    }
}

/* libopenvswitch has functions of its own named json_object(),
 * json_array(), json_string(), json_integer() and json_null(), which take
 * the place of jansson's in kovs-ctl: JSON values are built here only with
 * jansson functions that libopenvswitch lacks (json_pack(),
 * json_stringn()). */
static json_t *
jstr(const char *s)
{
    return json_stringn(s, strlen(s));
}

static void
print_json(const struct trace_ctx *ctx)
{
    json_t *root = json_pack("{}");
    struct ds s = DS_EMPTY_INITIALIZER;
    describe_packet(ctx, &s);
    json_object_set_new(root, "packet", jstr(ds_cstr(&s)));
    ds_destroy(&s);

    json_t *stages = json_pack("[]");
    for (size_t i = 0; i < ctx->n_stages; i++) {
        const struct trace_stage *st = &ctx->stages[i];
        const char *table = kovs_table_name(st->table);
        char *cookie = xasprintf("%#"PRIx64, st->cookie);
        json_t *o = json_pack("{}");
        json_object_set_new(o, "node", jstr(st->node));
        json_object_set_new(o, "table",
                            json_pack("I", (json_int_t) st->table));
        json_object_set_new(o, "table_name",
                            table ? jstr(table) : json_pack("n"));
        json_object_set_new(o, "priority",
                            json_pack("I", (json_int_t) st->priority));
        json_object_set_new(o, "cookie", jstr(cookie));
        json_object_set_new(o, "owner", jstr(st->owner));
        json_object_set_new(o, "match", jstr(st->match));
        json_t *actions = json_pack("[]");
        for (size_t j = 0; j < st->actions.n; j++) {
            json_array_append_new(actions,
                                  jstr(st->actions.names[j]));
        }
        json_object_set_new(o, "actions", actions);
        json_object_set_new(o, "description", jstr(st->what));
        json_array_append_new(stages, o);
        free(cookie);
    }
    json_object_set_new(root, "stages", stages);

    json_t *verdict = json_pack("{}");
    json_object_set_new(verdict, "result", jstr(ctx->result));
    json_object_set_new(verdict, "text", jstr(ctx->verdict));
    json_object_set_new(root, "verdict", verdict);

    if (ctx->o->verbose) {
        json_t *raw = json_pack("[]");
        for (size_t i = 0; i + 1 < ctx->raw.n; i += 2) {
            json_t *o = json_pack("{}");
            json_object_set_new(o, "command",
                                jstr(ctx->raw.names[i]));
            json_object_set_new(o, "output",
                                jstr(ctx->raw.names[i + 1]));
            json_array_append_new(raw, o);
        }
        json_object_set_new(root, "raw", raw);
    }

    char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    puts(text);
    free(text);
    json_decref(root);
}

/* The command. */

static void
trace_peer_destroy(struct trace_peer *peer)
{
    free(peer->namespace);
    free(peer->name);
    free(peer->port);
}

int
trace_command(int argc, char *argv[])
{
    struct trace_options o;
    trace_parse_options(argc, argv, &o);

    struct k8s_cluster cluster;
    k8s_cluster_init(&cluster);
    snapshot_load(o.state_file, &cluster, NULL);

    resolve_peer(&cluster, "--from", &o.from);
    resolve_peer(&cluster, "--to", &o.to);
    if (o.to.type == TRACE_PEER_SERVICE) {
        resolve_service_port(&cluster, &o);
    }
    if (!o.has_proto) {
        o.proto = IPPROTO_TCP;
    }
    if (o.proto != IPPROTO_ICMP && o.dport < 0) {
        trace_fatal("--port is required for %s",
                    o.proto == IPPROTO_TCP ? "tcp" : "udp");
    }

    struct trace_ctx ctx = {
        .o = &o,
        .cluster = &cluster,
        .nodes = SHASH_INITIALIZER(&ctx.nodes),
        .raw = SVEC_EMPTY_INITIALIZER,
    };
    char *error;
    ctx.sw = trace_switch_start(&error);
    if (!ctx.sw) {
        ovs_fatal(0, "trace: cannot start a private switch: %s", error);
    }

    struct trace_packet pkt;
    const char *node = initial_packet(&ctx, &pkt);
    trace_path(&ctx, node, &pkt);
    trace_switch_destroy(ctx.sw);

    if (o.json) {
        print_json(&ctx);
    } else {
        print_text(&ctx);
    }

    for (size_t i = 0; i < ctx.n_stages; i++) {
        struct trace_stage *st = &ctx.stages[i];
        free(st->node);
        free(st->match);
        svec_destroy(&st->actions);
        free(st->owner);
        free(st->what);
    }
    free(ctx.stages);
    struct shash_node *sn;
    SHASH_FOR_EACH (sn, &ctx.nodes) {
        trace_node_destroy(sn->data);
    }
    shash_destroy(&ctx.nodes);
    svec_destroy(&ctx.raw);
    free(ctx.verdict);
    trace_peer_destroy(&o.from);
    trace_peer_destroy(&o.to);
    k8s_cluster_destroy(&cluster);
    return 0;
}
