/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#include <config.h>

#include "utilities/trace.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "flow.h"
#include "flows/flow-table.h"
#include "flows/flows.h"
#include "flows/pinctrl-opcodes.h"
#include "flows/pipeline.h"
#include "flows/service.h"
#include "hash.h"
#include "k8s/k8s-decode.h"
#include "k8s/k8s-model.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/shash.h"
#include "packets.h"
#include "svec.h"
#include "util.h"

/* A packet that crosses more nodes than this is in a loop. */
#define TRACE_MAX_HOPS 4

/* The MAC of a client outside the cluster that sends through br-ex's
 * uplink (--from-uplink): locally administered, no node's or pod's. */
#define TRACE_CLIENT_MAC ((struct eth_addr) ETH_ADDR_C(02,00,00,00,00,64))

/* The packet as ofproto/trace takes it. */
struct trace_packet {
    uint8_t proto;
    bool neighbor;              /* An ARP request or a Neighbor Solicitation
                                 * for 'nw_dst' instead. */
    ofp_port_t in_port;
    struct eth_addr dl_src, dl_dst;
    struct in6_addr nw_src, nw_dst; /* IPv4 mapped for IPv4. */
    uint8_t ttl;
    uint16_t sport, dport;
    uint64_t tun_id;            /* Nonzero for a packet from a tunnel. */
    struct in6_addr tun_src, tun_dst;   /* Underlay addresses, IPv4
                                         * mapped for IPv4. */
    uint32_t dp_hash;           /* Nonzero for a live trace (see
                                 * packet_dp_hash()). */
    bool on_ex;                 /* Enters on br-ex (from its uplink), not
                                 * on br-int. */
};

/* One step of ofproto/trace: a flow that matched. */
struct trace_stage {
    char *node;
    bool ex;                    /* A stage of br-ex, not of br-int. */
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
    struct trace_backend *backend;

    struct trace_stage *stages;
    size_t n_stages, allocated_stages;
    struct svec raw;            /* Per traced hop: the command, then the
                                 * output. */

    const char *result;         /* "delivered", "dropped", "rejected",
                                 * "answered", "node", "external", "loop",
                                 * "tunnel". */
    char *verdict;
    char *next_node;            /* For "tunnel": the node the packet went
                                 * to, and the command that follows it
                                 * there. */
    char *next_command;

    const char *gateway_node;   /* The node whose gateway --to is, or
                                 * NULL. */
    struct in6_addr first_src;  /* The first packet's source... */
    bool first_src_set;         /* ...if this is true. */
    struct in6_addr hop_tun_dst;    /* The tunnel destination (IPv4 mapped)
                                     * that the flows of the current hop
                                     * set, or all-zeros. */
};

static char * OVS_PRINTF_FORMAT(1, 2) OVS_WARN_UNUSED_RESULT
trace_error(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    char *msg = xvasprintf(format, args);
    va_end(args);
    return msg;
}

/* Model look-ups. */

/* Addresses.  A trace keeps every address as a struct in6_addr, IPv4
 * mapped for IPv4, as the rest of kovs does. */

static bool
addr_is_ipv4(const struct in6_addr *ip)
{
    return IN6_IS_ADDR_V4MAPPED(ip);
}

static int
addr_family(const struct in6_addr *ip)
{
    return addr_is_ipv4(ip) ? AF_INET : AF_INET6;
}

/* Parses 's', an IPv4 or an IPv6 address, into '*ip'. */
static bool
addr_parse(const char *s, struct in6_addr *ip)
{
    ovs_be32 ip4;
    if (ip_parse(s, &ip4)) {
        in6_addr_set_mapped_ipv4(ip, ip4);
        return true;
    }
    return ipv6_parse(s, ip);
}

/* Appends 'ip' to 's', IPv4 in dotted quads. */
static void
put_addr(struct ds *s, const struct in6_addr *ip)
{
    ipv6_format_mapped(ip, s);
}

/* Appends "IP:PORT" to 's', IPv6 in brackets. */
static void
put_addr_port(struct ds *s, const struct in6_addr *ip, int port)
{
    if (!addr_is_ipv4(ip)) {
        ds_put_char(s, '[');
    }
    put_addr(s, ip);
    ds_put_format(s, "%s:%d", addr_is_ipv4(ip) ? "" : "]", port);
}

/* Returns 'ip' formatted, in a new string. */
static char *
addr_string(const struct in6_addr *ip)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    put_addr(&s, ip);
    return ds_steal_cstr(&s);
}

/* Returns the first InternalIP of 'node' of 'family', or all-zeros. */
static struct in6_addr
node_ip(const struct k8s_node *node, int family)
{
    for (size_t i = 0; i < node->n_internal_ips; i++) {
        if (addr_family(&node->internal_ips[i]) == family) {
            return node->internal_ips[i];
        }
    }
    return in6addr_any;
}

/* Returns the underlay address of 'node' (NULL allowed), the tunnel
 * endpoint (IPv4 mapped), or all-zeros if it has none. */
static struct in6_addr
node_underlay(const struct k8s_node *node)
{
    const struct in6_addr *ip = node ? k8s_node_underlay_ip(node) : NULL;
    return ip ? *ip : in6addr_any;
}

/* Returns true if the Pod object 'pod' has address 'ip'. */
static bool
pod_object_has_ip(const struct k8s_pod *pod, const struct in6_addr *ip)
{
    for (size_t i = 0; i < pod->n_ips; i++) {
        if (ipv6_addr_equals(&pod->ips[i], ip)) {
            return true;
        }
    }
    return false;
}

static const struct k8s_pod *
find_pod_by_ip(const struct k8s_cluster *cluster, const struct in6_addr *ip)
{
    const struct k8s_object *obj;
    K8S_CLUSTER_FOR_EACH (obj, K8S_POD, cluster) {
        const struct k8s_pod *pod = k8s_pod_cast(obj);
        if (!pod->host_network && pod_object_has_ip(pod, ip)) {
            return pod;
        }
    }
    return NULL;
}

static const struct k8s_node *
find_node_by_ip(const struct k8s_cluster *cluster, const struct in6_addr *ip)
{
    const struct k8s_object *obj;
    K8S_CLUSTER_FOR_EACH (obj, K8S_NODE, cluster) {
        const struct k8s_node *node = k8s_node_cast(obj);
        for (size_t i = 0; i < node->n_internal_ips; i++) {
            if (ipv6_addr_equals(&node->internal_ips[i], ip)) {
                return node;
            }
        }
    }
    return NULL;
}

/* Returns true if 'ip' is the gateway address of 'local', of either
 * family. */
static bool
is_gateway_ip(const struct flows_local *local, const struct in6_addr *ip)
{
    return (addr_is_ipv4(ip)
            ? local->valid4
              && in6_addr_get_mapped_ipv4(ip) == local->gateway_ip
            : local->valid6 && ipv6_addr_equals(ip, &local->gateway_ip6));
}

/* Returns true if 'ip' is in the podCIDR of 'local' of its family. */
static bool
in_pod_cidr(const struct flows_local *local, const struct in6_addr *ip)
{
    return (addr_is_ipv4(ip)
            ? local->valid4
              && ((in6_addr_get_mapped_ipv4(ip) & local->pod_mask)
                  == local->pod_net)
            : flows_local_has_ipv6(local, ip));
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
    SHASH_FOR_EACH (sn, tn->pods) {
        const struct flows_port *p = sn->data;
        if (ofp_to_u16(p->ofport) == ofport) {
            return sn->name;
        }
    }
    return NULL;
}

/* Returns the peer node whose tunnel has port 'ofport' on 'tn'; for the
 * shared flow-based port, the peer whose underlay address is 'tun_dst'
 * (NULL: none, or not known). */
static const char *
tunnel_by_ofport(const struct trace_node *tn, int ofport,
                 const struct k8s_cluster *cluster,
                 const struct in6_addr *tun_dst)
{
    const struct shash_node *sn;
    if (tn->flow_tunnel_ofport
        && ofport == ofp_to_u16(tn->flow_tunnel_ofport)) {
        if (!tun_dst || !ipv6_addr_is_set(tun_dst)) {
            return NULL;
        }
        SHASH_FOR_EACH (sn, tn->tunnels) {
            const struct k8s_object *obj = k8s_cluster_find(
                cluster, K8S_NODE, "", sn->name);
            const struct in6_addr *ip
                = obj ? k8s_node_underlay_ip(k8s_node_cast(obj)) : NULL;
            if (ip && ipv6_addr_equals(ip, tun_dst)) {
                return sn->name;
            }
        }
        return NULL;
    }
    SHASH_FOR_EACH (sn, tn->tunnels) {
        const struct flows_port *p = sn->data;
        if (ofp_to_u16(p->ofport) == ofport) {
            return sn->name;
        }
    }
    return NULL;
}

/* Command line. */

void
trace_usage(struct ds *s, bool live)
{
    ds_put_cstr(s,
        "  --from pod NS/NAME | node NAME | IP\n"
        "  --to pod NS/NAME | svc NS/NAME[:PORT] | node NAME | IP\n"
        "                          (IP: an IPv4 or an IPv6 address)\n"
        "  -4, -6                  the family of the packet between names"
        "\n"
        "                          (default: an address's given, else"
        " IPv4)\n"
        "  --proto tcp|udp|icmp    default tcp, or the Service port's (icmp"
        ":\n"
        "                          an echo request, ICMPv6's for IPv6)\n"
        "  --proto arp|nd          an ARP request (IPv4) or a Neighbor\n"
        "                          Solicitation (IPv6) for --to's address\n"
        "  --port N                destination port (default: the Service\n"
        "                          port's, if it has only one)\n"
        "  --sport N               source port (default 40000); it decides\n"
        "                          which endpoint a Service's group picks\n"
        "  --src IP                the source address the packet carries,"
        " if\n"
        "                          not the sender's own (a spoofed packet)\n"
        "  --from-uplink           --from IP is outside the cluster: the"
        " packet\n"
        "                          arrives on br-ex's uplink (NodePorts,"
        " external\n"
        "                          and LoadBalancer IPs, replies to"
        " SNAT)\n");
    if (live) {
        ds_put_cstr(s,
            "  --from-tunnel NODE      the packet arrives through the tunnel"
            " from\n"
            "                          node NODE (to follow a trace that"
            " left\n"
            "                          that node through its tunnel)\n");
    } else {
        ds_put_cstr(s,
            "  --node NAME             the node where an address that is no"
            " pod's\n"
            "                          or node's enters (through its"
            " gateway,\n"
            "                          or with --from-uplink its br-ex)\n"
            "  --external-bridge       give each node a br-ex (with"
            " --from-uplink\n"
            "                          always): its node IPs are the Node's"
            "\n"
            "                          InternalIPs, on a /24 and a /64\n"
            "  --from-tunnel NODE      with --node: the packet enters there"
            " through\n"
            "                          the tunnel from node NODE\n"
            "  --tunnel-ports=LAYOUT   per-node (default) or flow: the nodes'"
            " tunnel\n"
            "                          ports as kovs-controller"
            " --tunnel-ports makes\n"
            "                          them\n"
            "  --cluster-cidr=CIDR[,CIDR]  the cluster's pod network, one"
            " prefix per\n"
            "                          family\n"
            "  --service-cidr=CIDR[,CIDR]  the cluster's Service network,"
            " one prefix\n"
            "                          per family\n");
    }
    ds_put_cstr(s,
        "  --json                  print the result as JSON\n"
        "  -v, --verbose           add the raw ofproto/trace output\n");
}

/* Parses "pod NS/NAME", "svc NS/NAME[:PORT]", "node NAME" or "IP" from
 * argv[*i] (and argv[*i + 1]). */
static char *
parse_peer(const char *option, int argc, const char *const argv[], int *i,
           const char *value, bool is_to, struct trace_peer *peer)
{
    enum trace_peer_type type;
    if (!strcmp(value, "pod")) {
        type = TRACE_PEER_POD;
    } else if (is_to && (!strcmp(value, "svc")
                         || !strcmp(value, "service"))) {
        type = TRACE_PEER_SERVICE;
    } else if (!strcmp(value, "node")) {
        type = TRACE_PEER_NODE;
    } else {
        if (!addr_parse(value, &peer->ip)) {
            return trace_error("%s %s: not pod NS/NAME,%s node NAME or an "
                               "IP address", option, value,
                               is_to ? " svc NS/NAME[:PORT]," : "");
        }
        peer->type = TRACE_PEER_IP;
        return NULL;
    }
    if (*i + 1 >= argc) {
        return trace_error("%s %s: missing name", option, value);
    }
    const char *name = argv[++*i];
    peer->type = type;
    if (type == TRACE_PEER_NODE) {
        peer->name = xstrdup(name);
        return NULL;
    }
    const char *slash = strchr(name, '/');
    if (!slash || slash == name || !slash[1]) {
        return trace_error("%s %s %s: NAMESPACE/NAME expected", option,
                           value, name);
    }
    peer->namespace = xmemdup0(name, slash - name);
    const char *colon = strchr(slash, ':');
    if (colon && type == TRACE_PEER_SERVICE) {
        peer->name = xmemdup0(slash + 1, colon - slash - 1);
        peer->port = xstrdup(colon + 1);
    } else {
        peer->name = xstrdup(slash + 1);
    }
    return NULL;
}

static char *
parse_port_number(const char *option, const char *s, int *port)
{
    if (!str_to_int(s, 10, port) || *port < 0 || *port > 65535) {
        return trace_error("%s %s: not a port number", option, s);
    }
    return NULL;
}

static void
trace_peer_destroy(struct trace_peer *peer)
{
    free(peer->namespace);
    free(peer->name);
    free(peer->port);
}

void
trace_options_destroy(struct trace_options *o)
{
    if (o) {
        trace_peer_destroy(&o->from);
        trace_peer_destroy(&o->to);
        free(o->via_node);
        free(o->from_tunnel);
        free(o->state_file);
    }
}

/* Parses one option 'name' ("--from"), with 'value' if it takes one. */
static char *
parse_option(const char *name, const char *value, int argc,
             const char *const argv[], int *i, struct trace_options *o)
{
    if (!strcmp(name, "--from")) {
        trace_peer_destroy(&o->from);
        memset(&o->from, 0, sizeof o->from);
        o->has_from = true;
        return parse_peer(name, argc, argv, i, value, false, &o->from);
    } else if (!strcmp(name, "--to")) {
        trace_peer_destroy(&o->to);
        memset(&o->to, 0, sizeof o->to);
        o->has_to = true;
        return parse_peer(name, argc, argv, i, value, true, &o->to);
    } else if (!strcmp(name, "--proto")) {
        if (!strcasecmp(value, "tcp")) {
            o->proto = IPPROTO_TCP;
        } else if (!strcasecmp(value, "udp")) {
            o->proto = IPPROTO_UDP;
        } else if (!strcasecmp(value, "icmp") || !strcasecmp(value, "icmp6")
                   || !strcasecmp(value, "icmpv6")) {
            o->proto = IPPROTO_ICMP;
        } else if (!strcasecmp(value, "arp") || !strcasecmp(value, "nd")) {
            /* An ARP request for an IPv4 address, a Neighbor Solicitation
             * for an IPv6 one. */
            o->proto = IPPROTO_ICMP;
            o->neighbor = true;
        } else {
            return trace_error("--proto %s: tcp, udp, icmp, arp or nd "
                               "expected", value);
        }
        o->has_proto = true;
    } else if (!strcmp(name, "--port")) {
        return parse_port_number(name, value, &o->dport);
    } else if (!strcmp(name, "--sport")) {
        return parse_port_number(name, value, &o->sport);
    } else if (!strcmp(name, "--node")) {
        free(o->via_node);
        o->via_node = xstrdup(value);
    } else if (!strcmp(name, "--from-tunnel")) {
        free(o->from_tunnel);
        o->from_tunnel = xstrdup(value);
    } else if (!strcmp(name, "--src")) {
        if (!addr_parse(value, &o->src_ip)) {
            return trace_error("--src %s: not an IP address", value);
        }
        o->has_src = true;
    } else if (!strcmp(name, "-4") || !strcmp(name, "-6")) {
        o->family = name[1] == '4' ? AF_INET : AF_INET6;
    } else if (!strcmp(name, "--from-uplink")) {
        o->from_uplink = o->external_bridge = true;
    } else if (!strcmp(name, "--external-bridge")) {
        o->external_bridge = true;
    } else if (!strcmp(name, "--cluster-cidr")) {
        o->has_cidr_option = true;
        return k8s_parse_dual_cidr_option("cluster-cidr", value,
                                          &o->cluster_cidr);
    } else if (!strcmp(name, "--service-cidr")) {
        o->has_cidr_option = true;
        return k8s_parse_dual_cidr_option("service-cidr", value,
                                          &o->service_cidr);
    } else if (!strcmp(name, "--tunnel-ports")) {
        if (strcmp(value, "per-node") && strcmp(value, "flow")) {
            return trace_error("--tunnel-ports %s: per-node or flow "
                               "expected", value);
        }
        o->flow_tunnel = !strcmp(value, "flow");
        o->has_tunnel_ports = true;
    } else if (!strcmp(name, "--json")) {
        o->json = true;
    } else if (!strcmp(name, "-v") || !strcmp(name, "--verbose")) {
        o->verbose = true;
    } else if (!strcmp(name, "-h") || !strcmp(name, "--help")) {
        o->help = true;
    } else {
        return trace_error("%s: unknown option (use --help for usage)",
                           name);
    }
    return NULL;
}

static const char *
family_name(int family)
{
    return family == AF_INET6 ? "IPv6" : "IPv4";
}

/* Sets 'o->family' to the family of the addresses that 'o' gives (which
 * must agree with each other and with -4 or -6), or IPv4 if none. */
static char *
options_choose_family(struct trace_options *o)
{
    struct {
        const char *option;
        bool given;
        const struct in6_addr *ip;
    } addrs[] = {
        { "--from", o->from.type == TRACE_PEER_IP, &o->from.ip },
        { "--to", o->to.type == TRACE_PEER_IP, &o->to.ip },
        { "--src", o->has_src, &o->src_ip },
    };
    const char *by = o->family ? (o->family == AF_INET ? "-4" : "-6") : NULL;
    for (size_t i = 0; i < ARRAY_SIZE(addrs); i++) {
        if (!addrs[i].given) {
            continue;
        }
        int family = addr_family(addrs[i].ip);
        if (o->family && family != o->family) {
            char *ip = addr_string(addrs[i].ip);
            char *error = trace_error("%s %s is an %s address, and %s an "
                                      "%s one", addrs[i].option, ip,
                                      family_name(family), by,
                                      family_name(o->family));
            free(ip);
            return error;
        }
        o->family = family;
        by = addrs[i].option;
    }
    if (!o->family) {
        o->family = AF_INET;
    }
    return NULL;
}

char *
trace_options_parse(int argc, const char *const argv[],
                    struct trace_options *o)
{
    static const char *const with_value[] = {
        "--from", "--to", "--proto", "--port", "--sport", "--node",
        "--from-tunnel", "--src", "--cluster-cidr", "--service-cidr",
        "--tunnel-ports",
    };

    memset(o, 0, sizeof *o);
    o->dport = o->sport = -1;

    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (arg[0] != '-' || !arg[1]) {
            if (o->state_file) {
                return trace_error("only one state file may be given");
            }
            o->state_file = xstrdup(arg);
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
        bool takes_value = false;
        for (size_t j = 0; j < ARRAY_SIZE(with_value); j++) {
            takes_value = takes_value || !strcmp(name, with_value[j]);
        }
        char *error = NULL;
        if (takes_value && !value) {
            if (i + 1 >= argc) {
                error = trace_error("%s: missing value", name);
            } else {
                value = argv[++i];
            }
        } else if (!takes_value && value) {
            error = trace_error("%s takes no value", name);
        }
        if (!error) {
            error = parse_option(name, value, argc, argv, &i, o);
        }
        free(name);
        if (error) {
            return error;
        }
    }
    if (!o->help && (!o->has_from || !o->has_to)) {
        return trace_error("--from and --to are required (use --help for "
                           "usage)");
    }
    return options_choose_family(o);
}

/* Returns the address of 'family' of 'pod' (all-zeros if none): on node
 * 'local' (if nonnull), the one its port carries, if any (the CNI
 * plugin's, which a Pod object reports only later), otherwise the Pod
 * object's first. */
static struct in6_addr
pod_ip(const struct trace_node *local, const struct k8s_pod *pod,
       int family)
{
    struct in6_addr ip;
    if (local && !strcmp(pod->node_name, local->name)) {
        char *key = xasprintf("%s/%s", pod->obj.namespace, pod->obj.name);
        const struct flows_port *p = shash_find_data(local->pods, key);
        free(key);
        if (p && family == AF_INET && p->ip) {
            in6_addr_set_mapped_ipv4(&ip, p->ip);
            return ip;
        } else if (p && family == AF_INET6 && ipv6_addr_is_set(&p->ip6)) {
            return p->ip6;
        }
    }
    for (size_t i = 0; i < pod->n_ips; i++) {
        if (addr_family(&pod->ips[i]) == family) {
            return pod->ips[i];
        }
    }
    return in6addr_any;
}

/* Resolves 'peer' in 'cluster': its address, pod and node.  'model'
 * names where the names are looked up, for errors; 'local' is the node
 * whose ports a live trace sees, or NULL. */
static char *
resolve_peer(const struct k8s_cluster *cluster, const char *model,
             const struct trace_node *local, const char *option,
             int family, struct trace_peer *peer)
{
    const struct k8s_object *obj;
    switch (peer->type) {
    case TRACE_PEER_POD:
        obj = k8s_cluster_find(cluster, K8S_POD, peer->namespace,
                               peer->name);
        if (!obj) {
            return trace_error("%s: pod %s/%s is not in %s", option,
                               peer->namespace, peer->name, model);
        }
        peer->pod = k8s_pod_cast(obj);
        if (peer->pod->host_network) {
            /* A host-network pod is its node. */
            peer->node = find_node(cluster, peer->pod->node_name);
            if (!peer->node) {
                return trace_error("%s: pod %s/%s is on the host network "
                                   "of node \"%s\", which is not in %s",
                                   option, peer->namespace, peer->name,
                                   peer->pod->node_name, model);
            }
            peer->ip = node_ip(peer->node, family);
            peer->pod = NULL;
            if (!ipv6_addr_is_set(&peer->ip)) {
                return trace_error("%s: pod %s/%s is on the host network "
                                   "of node %s, which has no %s "
                                   "InternalIP", option, peer->namespace,
                                   peer->name, peer->node->obj.name,
                                   family_name(family));
            }
            return NULL;
        }
        peer->ip = pod_ip(local, peer->pod, family);
        if (!ipv6_addr_is_set(&peer->ip)) {
            return trace_error("%s: pod %s/%s has no %s address", option,
                               peer->namespace, peer->name,
                               family_name(family));
        }
        return NULL;

    case TRACE_PEER_NODE:
        peer->node = find_node(cluster, peer->name);
        if (!peer->node) {
            return trace_error("%s: node %s is not in %s", option,
                               peer->name, model);
        }
        peer->ip = node_ip(peer->node, family);
        if (!ipv6_addr_is_set(&peer->ip)) {
            return trace_error("%s: node %s has no %s InternalIP", option,
                               peer->name, family_name(family));
        }
        return NULL;

    case TRACE_PEER_SERVICE:
        obj = k8s_cluster_find(cluster, K8S_SERVICE, peer->namespace,
                               peer->name);
        if (!obj) {
            return trace_error("%s: Service %s/%s is not in %s", option,
                               peer->namespace, peer->name, model);
        }
        const struct k8s_service *svc = k8s_service_cast(obj);
        for (size_t i = 0; i < svc->n_cluster_ips; i++) {
            if (addr_family(&svc->cluster_ips[i]) == family) {
                peer->ip = svc->cluster_ips[i];
                break;
            }
        }
        if (!ipv6_addr_is_set(&peer->ip)) {
            return trace_error("%s: Service %s/%s has no %s ClusterIP (a "
                               "headless Service's clients reach its pods "
                               "directly)", option, peer->namespace,
                               peer->name, family_name(family));
        }
        return NULL;

    case TRACE_PEER_IP:
        peer->pod = find_pod_by_ip(cluster, &peer->ip);
        if (!peer->pod) {
            peer->node = find_node_by_ip(cluster, &peer->ip);
        }
        return NULL;
    }
    OVS_NOT_REACHED();
}

/* Chooses the Service port of --to svc, and with it the protocol and the
 * destination port. */
static char *
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
            return trace_error("--to svc %s/%s: the Service has no %s port",
                               o->to.namespace, o->to.name,
                               o->proto == IPPROTO_TCP ? "TCP"
                               : o->proto == IPPROTO_UDP ? "UDP" : "ICMP");
        }
        if (o->to.port || o->dport >= 0) {
            /* A port the Service lacks: trace it anyway, as a client
             * would send it. */
            return (o->to.port
                    ? parse_port_number("svc port", o->to.port, &o->dport)
                    : NULL);
        }
        return trace_error("--to svc %s/%s: the Service has %"PRIuSIZE
                           " ports: say which (NS/NAME:PORT or --port)",
                           o->to.namespace, o->to.name, svc->n_ports);
    }
    if (!o->has_proto) {
        o->proto = sp->protocol == K8S_PROTO_UDP ? IPPROTO_UDP : IPPROTO_TCP;
        o->has_proto = true;
    }
    o->dport = sp->port;
    return NULL;
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

/* Returns the port of an "output:N" action 'action', or -1. */
static int
parse_output_action(const char *action)
{
    int port, n = 0;
    if (sscanf(action, "output:%d%n", &port, &n) == 1 && !action[n]) {
        return port;
    }
    return -1;
}

/* Returns true if 'flow', a flow as ofproto/trace prints it, has a flag
 * that check_pkt_larger sets (FLAG_PKT_LARGER or FLAG_POD_LARGER): it is
 * the packet of the pass for a larger packet. */
static bool
trace_flow_is_larger(const char *flow)
{
    static const enum kovs_field flags[] = {
        KOVS_F_FLAG_PKT_LARGER, KOVS_F_FLAG_POD_LARGER,
    };
    for (size_t i = 0; i < ARRAY_SIZE(flags); i++) {
        struct kovs_field_def def = kovs_field_def(flags[i]);
        char *name = xasprintf(",reg%d=", (int) (def.id - MFF_REG0));
        const char *p = strstr(flow, name);
        bool set = p && (strtoul(p + strlen(name), NULL, 0) >> def.ofs) & 1;
        free(name);
        if (set) {
            return true;
        }
    }
    return false;
}

/* Adds to 'ctx' the stages of 'text', the output of ofproto/trace on node
 * 'tn' (on its br-ex if 'on_ex', otherwise on its br-int), and stores in
 * 'hop' how it ended. */
static void
parse_trace(struct trace_ctx *ctx, const struct trace_node *tn, bool on_ex,
            const char *text, struct trace_hop *hop)
{
    const struct flows_external *ex = tn->ex_bridge ? tn->external : NULL;
    hop->final_flow = NULL;
    hop->first_stage = ctx->n_stages;

    struct trace_stage *st = NULL;
    char *copy = xstrdup(text);
    char *save_ptr = NULL;
    size_t foreign_indent = SIZE_MAX;
    bool in_ex = on_ex;         /* In a section of br-ex? */
    bool to_ex = false;         /* The last br-int stage output to the patch
                                 * port to br-ex. */
    bool ex_normal = false;     /* br-ex switched the packet with NORMAL:
                                 * where it flooded it (br-int too, in a
                                 * switch that has not learned the node's
                                 * MAC) is no path of the trace. */
    bool thawed = false;        /* After a recirculation: its header names
                                 * the bridge the packet entered, not the
                                 * one that recirculated it, which is the
                                 * one we were in. */
    /* check_pkt_larger: ofproto/trace translates what follows it twice,
     * first for a packet larger than the limit, then for one that is not.
     * The trace follows a packet of ordinary size: the stages of the first
     * pass are skipped, up to the second stage of the table that the first
     * pass began with. */
    bool larger_armed = false;  /* check_pkt_larger seen, no stage since. */
    bool larger_thawed = false; /* In a recirculation of the pass for a
                                 * larger packet (which has its own, as
                                 * after a ct action): skipped whole. */
    int larger_table = -1;      /* Skipping the first pass, which began in
                                 * this table. */
    for (char *line = strtok_r(copy, "\n", &save_ptr); line;
         line = strtok_r(NULL, "\n", &save_ptr)) {
        size_t indent = strspn(line, " ");
        const char *s = line + indent;
        int table, priority;
        uint64_t cookie;
        char *match;

        /* A bridge's header starts its stages.  br-int's are the trace's,
         * and so are br-ex's where the packet started there or crossed
         * the patch port from br-int.  A packet output to a tunnel that
         * the switch sends itself through another bridge (userspace
         * tunnelling) is translated further in that bridge, under a
         * header of its own and indented at least as much as that header
         * (ofproto/trace indents the last item of a list no more than its
         * parent): those are no stages of the trace.  A header of ours,
         * as after a recirculation, or a line indented less, ends them. */
        if (larger_thawed && strncmp(line, "recirc(0x", 9)) {
            continue;
        }
        if (!strncmp(line, "recirc(0x", 9)) {
            thawed = true;
            larger_thawed = false;
            foreign_indent = SIZE_MAX;
            st = NULL;
            continue;
        } else if (!strncmp(s, "bridge(\"", 8) && thawed) {
            thawed = false;
            st = NULL;
            continue;
        } else if (!strncmp(s, "bridge(\"", 8)) {
            const char *name = s + 8;
            size_t len = strcspn(name, "\"");
            bool is_int = (len == strlen(tn->bridge)
                           && !strncmp(name, tn->bridge, len)
                           && !ex_normal);
            bool is_ex = (ex && len == strlen(tn->ex_bridge)
                          && !strncmp(name, tn->ex_bridge, len)
                          && (to_ex || in_ex));
            foreign_indent = is_int || is_ex ? SIZE_MAX : indent;
            in_ex = is_ex;
            st = NULL;
            continue;
        } else if (indent < foreign_indent) {
            foreign_indent = SIZE_MAX;
        } else if (strncmp(line, "Flow: ", 6)
                   && strncmp(line, "Final flow: ", 12)) {
            continue;
        }

        if (!strncmp(line, "Flow: ", 6) && thawed
            && trace_flow_is_larger(line + 6)) {
            larger_thawed = true;
        } else if (!strncmp(line, "Flow: ", 6)) {
            free(hop->final_flow);
            hop->final_flow = xstrdup(line + 6);
            st = NULL;
        } else if (!strncmp(line, "Final flow: ", 12)) {
            if (strcmp(line + 12, "unchanged")) {
                free(hop->final_flow);
                hop->final_flow = xstrdup(line + 12);
            }
            st = NULL;
        } else if (ex_normal && !in_ex) {
            st = NULL;          /* What br-ex's NORMAL flooded. */
        } else if (parse_stage_line(s, &table, &priority, &cookie,
                                    &match)) {
            if (larger_armed || (larger_table >= 0 && table != larger_table)) {
                /* A stage of the pass for a larger packet. */
                if (larger_armed) {
                    larger_armed = false;
                    larger_table = table;
                }
                free(match);
                st = NULL;
                continue;
            }
            larger_table = -1;
            st = add_stage(ctx, tn->name);
            st->ex = in_ex;
            st->table = table;
            st->priority = priority;
            st->cookie = cookie;
            st->match = match;
            if (!in_ex) {
                to_ex = false;
            }
        } else if (s == line) {
            st = NULL;          /* Not part of a stage. */
        } else if (st) {
            int n;
            if (sscanf(s, "-> using bucket %d", &n) == 1) {
                st->bucket = n;
            } else if (sscanf(s, "-> output port is %d", &n) == 1) {
                st->output = n;
                if (!st->ex && ex && n == ofp_to_u16(ex->patch_ofport)) {
                    to_ex = true;
                }
            } else if (strncmp(s, "->", 2)) {
                svec_add(&st->actions, s);
                if (!strncmp(s, "check_pkt_larger(", 17)) {
                    larger_armed = true;
                }
                if (st->ex && !strcmp(s, "NORMAL")) {
                    ex_normal = true;
                }
                n = parse_output_action(s);
                if (st->ex && n >= 0
                    && n != ofp_to_u16(ex->ex_patch_ofport)) {
                    /* Out of br-ex (its patch port to br-int leads on to
                     * br-int's stages). */
                    st->output = n;
                } else if (!st->ex && ex && n >= 0
                           && n == ofp_to_u16(ex->patch_ofport)) {
                    to_ex = true;
                }
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

/* Returns true if 'st' sends the packet to the controller to be rejected
 * (pinctrl's REJECT opcode), not for another reason: to resolve a next
 * hop, to learn a neighbor or to log a NetworkPolicy verdict. */
static bool
stage_has_reject(const struct trace_stage *st)
{
    char *prefix = xasprintf("controller(userdata=%02x", PINCTRL_OP_REJECT);
    bool reject = stage_has_action(st, prefix);
    free(prefix);
    return reject;
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
            return xmemdup0(v, strcspn(v, ", "));
        }
    }
    return NULL;
}

/* Stores in '*ip' the address in 'field' of 'flow', if it has one that
 * parses, and returns true; otherwise returns false. */
static bool
flow_field_ip(const char *flow, const char *field, struct in6_addr *ip)
{
    char *v = flow_field(flow, field);
    bool ok = v && addr_parse(v, ip);
    free(v);
    return ok;
}

/* Returns the tunnel destination in 'flow' (a final flow, or NULL): its
 * tun_dst if set, else its tun_ipv6_dst, else all-zeros.  IPv4 mapped. */
static struct in6_addr
flow_tun_dst(const char *flow)
{
    struct in6_addr ip;
    if (flow && flow_field_ip(flow, "tun_dst", &ip)
        && in6_addr_get_mapped_ipv4(&ip)) {
        return ip;
    }
    if (flow && flow_field_ip(flow, "tun_ipv6_dst", &ip)
        && ipv6_addr_is_set(&ip)) {
        return ip;
    }
    return in6addr_any;
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

/* Returns true if 'ip' is a node IP of 'ex' (of either family). */
static bool
is_external_node_ip(const struct flows_external *ex,
                    const struct in6_addr *ip)
{
    return (addr_is_ipv4(ip)
            ? in6_addr_get_mapped_ipv4(ip) == ex->node_ip
            : ipv6_addr_equals(ip, &ex->node_ip6));
}

/* Returns the address of the first "nat(src=...)" action of 'st', in a new
 * string, or NULL. */
static char *
find_snat(const struct trace_stage *st)
{
    for (size_t j = 0; j < st->actions.n; j++) {
        const char *a = st->actions.names[j];
        if (!strncmp(a, "nat(src=", 8)) {
            a += 8;
            return (a[0] == '['
                    ? xmemdup0(a + 1, strcspn(a + 1, "]"))
                    : xmemdup0(a, strcspn(a, ":-),")));
        }
    }
    return NULL;
}



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
    const struct k8s_object *obj = k8s_cluster_find_named(cluster, K8S_POD,
                                                          key);
    struct svec names = SVEC_EMPTY_INITIALIZER;
    if (obj) {
        const struct k8s_pod *pod = k8s_pod_cast(obj);
        K8S_CLUSTER_FOR_EACH (obj, K8S_NETWORK_POLICY, cluster) {
            const struct k8s_network_policy *np
                = k8s_network_policy_cast(obj);
            bool isolates = (table == KOVS_T_INGRESS_POLICY
                             ? np->ingress_isolation
                             : np->egress_isolation);
            if (isolates && !strcmp(obj->namespace, pod->obj.namespace)
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
        const char *key = flow_table_conj_id_key(tn->ft, conj_id);
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

/* Appends "IP:PORT (pod ns/name, node n)" for the endpoint 'ep' ("IP:PORT"
 * or "[IPv6]:PORT", as ofproto/trace prints a nat action's). */
static void
put_endpoint(struct ds *s, const struct k8s_cluster *cluster, const char *ep)
{
    struct in6_addr ip;
    char *ip_s = (ep[0] == '['
                  ? xmemdup0(ep + 1, strcspn(ep + 1, "]"))
                  : xmemdup0(ep, strcspn(ep, ":")));
    bool ok = addr_parse(ip_s, &ip);
    free(ip_s);
    ds_put_cstr(s, ep);
    const struct k8s_pod *pod = ok ? find_pod_by_ip(cluster, &ip) : NULL;
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
        if (svc->ports[j].port == port
            || (svc->ports[j].node_port == port
                && tn->external
                && is_external_node_ip(tn->external, &pkt->nw_dst))) {
            sp = &svc->ports[j];
        }
    }
    size_t n_eps = 0;
    if (sp) {
        struct service_endpoint *eps;
        n_eps = service_select_endpoints(
            ctx->cluster, svc, sp, tn->name,
            svc->internal_traffic_policy == K8S_POLICY_LOCAL, false, &eps);
        free(eps);
    }

    char *ep = find_dnat(ctx, i + 1);
    if (stage_has_reject(st)) {
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
describe_output_port(const struct trace_ctx *ctx, const struct trace_node *tn,
                     int port, const struct in6_addr *tun_dst, struct ds *s)
{
    const char *key, *peer;
    if (port == ofp_to_u16(tn->gateway_ofport)) {
        ds_put_format(s, "the gateway kovs-gw0 (node %s's own stack)",
                      tn->name);
    } else if ((key = pod_key_by_ofport(tn, port)) != NULL) {
        ds_put_format(s, "pod %s (port %d)", key, port);
    } else if ((peer = tunnel_by_ofport(tn, port, ctx->cluster,
                                        tun_dst)) != NULL) {
        ds_put_format(s, "the tunnel to node %s", peer);
        if (tn->flow_tunnel_ofport) {
            ds_put_cstr(s, " (the flow-based tunnel port, tun_dst ");
            ipv6_format_mapped(tun_dst, s);
            ds_put_char(s, ')');
        }
    } else {
        ds_put_format(s, "port %d", port);
    }
}

static const char *
stage_table_name(const struct trace_stage *st)
{
    const char *name = (st->ex ? kovs_ex_table_name(st->table)
                        : kovs_table_name(st->table));
    return name ? name : "?";
}

/* Appends to 's' what the front end 'ip' of 'svc' is: a NodePort, an
 * external IP or a LoadBalancer IP. */
static void
put_frontend_kind(struct ds *s, const struct flows_external *ex,
                  const struct k8s_service *svc, const struct in6_addr *ip)
{
    if (is_external_node_ip(ex, ip)) {
        ds_put_cstr(s, "NodePort");
        return;
    }
    for (size_t i = 0; i < svc->n_external_ips; i++) {
        if (ipv6_addr_equals(&svc->external_ips[i], ip)) {
            ds_put_cstr(s, "external IP");
            return;
        }
    }
    ds_put_cstr(s, "LoadBalancer IP");
}

/* Fills in 'st->what' for stage 'st' of br-ex of node 'tn', traced with
 * packet 'pkt'. */
static void
describe_ex_stage(struct trace_ctx *ctx, const struct trace_node *tn,
                  const struct trace_stage *st,
                  const struct trace_packet *pkt, struct ds *s)
{
    const struct flows_external *ex = tn->external;
    const struct k8s_object *obj = kovs_cookie_find_owner(ctx->cluster,
                                                          st->cookie);
    bool normal = stage_has_action(st, "NORMAL");
    bool to_int = stage_has_action(st, "output:");
    bool drops = stage_has_action(st, "drop") || !st->actions.n;

    if (st->table == KOVS_T_EX_IN) {
        if (st->priority == KOVS_PRIO_EX_IN_FROM_INT) {
            ds_put_cstr(s, "from br-int: out through the uplink");
        } else if (obj && obj->kind == K8S_SERVICE) {
            ds_put_format(s, "Service %s/%s ", obj->namespace, obj->name);
            put_frontend_kind(s, ex, k8s_service_cast(obj), &pkt->nw_dst);
            ds_put_cstr(s, " ");
            put_addr_port(s, &pkt->nw_dst, pkt->dport);
            ds_put_cstr(s, ": to br-int");
        } else if (st->priority == KOVS_PRIO_EX_IN_NODE_IP) {
            ds_put_cstr(s, "to the node IP: looked up in the SNAT zone "
                        "(replies of connections kovs masqueraded)");
        } else if (st->priority == KOVS_PRIO_EX_IN_ROUTED) {
            ds_put_cstr(s, "to this node's podCIDR (routed mode): to "
                        "br-int");
        } else if (st->priority == KOVS_PRIO_EX_IN_TAKEN && to_int) {
            ds_put_cstr(s, "an answer to kovs's own neighbor request: to "
                        "the node's stack and to br-int");
        } else if (normal) {
            ds_put_cstr(s, "not kovs's: switched as a plain bridge would "
                        "(NORMAL), to the node's stack");
        } else {
            ds_put_cstr(s, drops ? "dropped" : "taken");
        }
    } else if (st->table == KOVS_T_EX_SNAT_REPLY) {
        if (st->priority == KOVS_PRIO_EX_SNAT_REPLY) {
            ds_put_cstr(s, "a reply of a connection kovs masqueraded: to "
                        "br-int, to be un-SNATed");
        } else if (normal) {
            ds_put_cstr(s, "no connection kovs masqueraded: to the node's "
                        "stack (NORMAL)");
        } else {
            ds_put_cstr(s, drops ? "dropped" : "taken");
        }
    } else {
        ds_put_cstr(s, drops ? "dropped" : "taken");
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

    if (st->ex) {
        describe_ex_stage(ctx, tn, st, pkt, &s);
        st->what = ds_steal_cstr(&s);
        return;
    }

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
        } else if (in_port == ofp_to_u16(tn->gateway_ofport)) {
            ds_put_format(&s, "from node %s's own stack through the "
                          "gateway kovs-gw0", tn->name);
        } else if (tn->external && tn->ex_bridge
                   && in_port == ofp_to_u16(tn->external->patch_ofport)) {
            ds_put_cstr(&s, "from outside the cluster through br-ex");
        } else {
            ds_put_cstr(&s, "classified");
        }
        break;

    case KOVS_T_SPOOFGUARD:
        if (drops) {
            const char *key = pod_key_by_ofport(tn,
                                                ofp_to_u16(pkt->in_port));
            ds_put_format(&s, "dropped: source "ETH_ADDR_FMT" ",
                          ETH_ADDR_ARGS(pkt->dl_src));
            put_addr(&s, &pkt->nw_src);
            ds_put_format(&s, " is not pod %s's own MAC and address "
                          "(spoofed)", key ? key : "?");
        } else {
            ds_put_format(&s, "source MAC and address are pod %s/%s's own",
                          obj ? obj->namespace : "?",
                          obj ? obj->name : "?");
        }
        break;

    case KOVS_T_ARP:
        if (drops) {
            ds_put_cstr(&s, (addr_is_ipv4(&pkt->nw_src)
                             ? "dropped: ARP kovs does not answer"
                             : "dropped: neighbor discovery kovs does not "
                               "answer"));
        } else if (miss) {
            ds_put_cstr(&s, (addr_is_ipv4(&pkt->nw_src)
                             ? "not ARP: on to conntrack"
                             : "not ARP or neighbor discovery: on to "
                               "conntrack"));
        } else if (stage_has_action(st, "IN_PORT")) {
            ds_put_cstr(&s, (addr_is_ipv4(&pkt->nw_src)
                             ? "ARP answered by flows"
                             : "Neighbor Solicitation answered by flows"));
        } else if (stage_has_action(st, "controller(")) {
            ds_put_cstr(&s, "to kovs-controller, which learns the next "
                        "hop's MAC");
        } else {
            ds_put_cstr(&s, "ARP or neighbor discovery");
        }
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
            ds_put_cstr(&s, "dropped: no pod, node or Service has ");
            put_addr(&s, &pkt->nw_dst);
            ds_put_format(&s, " here (%s)", st->match);
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
            struct in6_addr hairpin = kovs_hairpin_ip6();
            if (addr_is_ipv4(&pkt->nw_src)) {
                in6_addr_set_mapped_ipv4(&hairpin, htonl(KOVS_HAIRPIN_IP));
            }
            ds_put_format(&s, "hairpin: pod %s/%s reaches itself through "
                          "a Service, source NATed to ", obj->namespace,
                          obj->name);
            put_addr(&s, &hairpin);
            ds_put_format(&s, " (SNAT zone %d)", KOVS_CT_ZONE_SNAT);
        } else if (miss && !drops) {
            ds_put_cstr(&s, "nothing to do");
        } else if (drops) {
            ds_put_cstr(&s, "dropped");
        } else {
            char *snat = find_snat(st);
            if (snat) {
                ds_put_format(&s, "source NATed to %s (SNAT zone %d)", snat,
                              KOVS_CT_ZONE_SNAT);
            } else {
                ds_put_cstr(&s, "source NAT");
            }
            free(snat);
        }
        break;

    case KOVS_T_CT_COMMIT:
        ds_put_cstr(&s, (st->priority > 100 ? "already committed (a Service "
                         "connection)"
                         : stage_has_action(st, "ct(commit")
                         ? "connection committed to conntrack"
                         : "nothing to commit"));
        break;

    case KOVS_T_NEIGHBOR:
        if (st->priority == KOVS_PRIO_NEIGHBOR_RESOLVE) {
            ds_put_cstr(&s, "dropped: the next hop's MAC is not known "
                        "yet; kovs asks for it (ARP), and the client's "
                        "retransmission will pass");
        } else if (miss && !drops) {
            ds_put_cstr(&s, "nothing to do");
        } else {
            ds_put_cstr(&s, "the next hop's MAC as destination");
        }
        break;

    case KOVS_T_OUTPUT:
        if (stage_has_action(st, "IN_PORT")) {
            ds_put_cstr(&s, "output back to the pod it came from (hairpin)");
        } else if (st->output >= 0) {
            ds_put_cstr(&s, "output to ");
            describe_output_port(ctx, tn, st->output, &ctx->hop_tun_dst,
                                 &s);
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

/* Appends ",PREFIXsrc=SRC,PREFIXdst=DST" to 's': the addresses as IPv4 (they
 * are IPv4-mapped) if 'ipv4', else as IPv6. */
static void
put_addr_pair(struct ds *s, const char *prefix, bool ipv4,
              const struct in6_addr *src, const struct in6_addr *dst)
{
    const struct in6_addr *addrs[] = { src, dst };
    const char *names[] = { "src", "dst" };
    for (size_t i = 0; i < ARRAY_SIZE(addrs); i++) {
        ds_put_format(s, ",%s%s=", prefix, names[i]);
        if (ipv4) {
            ds_put_format(s, IP_FMT,
                          IP_ARGS(in6_addr_get_mapped_ipv4(addrs[i])));
        } else {
            ipv6_format_addr(addrs[i], s);
        }
    }
}

static void
format_packet(const struct trace_packet *pkt, struct ds *s)
{
    bool ipv4 = addr_is_ipv4(&pkt->nw_src);
    const char *proto = (pkt->neighbor ? (ipv4 ? "arp" : "icmp6")
                         : pkt->proto == IPPROTO_TCP ? (ipv4 ? "tcp" : "tcp6")
                         : pkt->proto == IPPROTO_UDP ? (ipv4 ? "udp" : "udp6")
                         : ipv4 ? "icmp" : "icmp6");
    ds_put_format(s, "in_port=%"PRIu16",%s", ofp_to_u16(pkt->in_port),
                  proto);
    if (pkt->tun_id) {
        /* The underlay's family is the sender's (a node's first
         * InternalIP); a node without one shows as 0.0.0.0. */
        bool tun4 = (IN6_IS_ADDR_V4MAPPED(&pkt->tun_src)
                     || !ipv6_addr_is_set(&pkt->tun_src));
        ds_put_format(s, ",tun_id=%#"PRIx64, pkt->tun_id);
        put_addr_pair(s, tun4 ? "tun_" : "tun_ipv6_", tun4, &pkt->tun_src,
                      &pkt->tun_dst);
    }
    if (pkt->dp_hash) {
        ds_put_format(s, ",dp_hash=%#"PRIx32, pkt->dp_hash);
    }
    ds_put_format(s, ",dl_src="ETH_ADDR_FMT",dl_dst="ETH_ADDR_FMT,
                  ETH_ADDR_ARGS(pkt->dl_src), ETH_ADDR_ARGS(pkt->dl_dst));
    if (pkt->neighbor && ipv4) {
        /* An ARP request for 'nw_dst'. */
        ds_put_format(s, ",arp_op=1,arp_spa="IP_FMT",arp_tpa="IP_FMT
                      ",arp_sha="ETH_ADDR_FMT",arp_tha=00:00:00:00:00:00",
                      IP_ARGS(in6_addr_get_mapped_ipv4(&pkt->nw_src)),
                      IP_ARGS(in6_addr_get_mapped_ipv4(&pkt->nw_dst)),
                      ETH_ADDR_ARGS(pkt->dl_src));
        return;
    } else if (pkt->neighbor) {
        /* A Neighbor Solicitation for 'nw_dst', to its solicited-node
         * multicast address. */
        struct in6_addr snma;
        in6_addr_solicited_node(&snma, &pkt->nw_dst);
        put_addr_pair(s, "ipv6_", false, &pkt->nw_src, &snma);
        ds_put_cstr(s, ",nw_ttl=255,icmpv6_type=135,icmpv6_code=0"
                    ",nd_target=");
        ipv6_format_addr(&pkt->nw_dst, s);
        ds_put_format(s, ",nd_sll="ETH_ADDR_FMT, ETH_ADDR_ARGS(pkt->dl_src));
        return;
    }
    put_addr_pair(s, ipv4 ? "nw_" : "ipv6_", ipv4, &pkt->nw_src,
                  &pkt->nw_dst);
    ds_put_format(s, ",nw_ttl=%"PRIu8, pkt->ttl);
    if (pkt->proto == IPPROTO_ICMP) {
        ds_put_cstr(s, ipv4 ? ",icmp_type=8,icmp_code=0"
                    : ",icmpv6_type=128,icmpv6_code=0");
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
    bool ipv4 = addr_is_ipv4(&pkt->nw_src);
    flow_field_ip(final_flow, ipv4 ? "nw_src" : "ipv6_src", &pkt->nw_src);
    flow_field_ip(final_flow, ipv4 ? "nw_dst" : "ipv6_dst", &pkt->nw_dst);
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

/* Returns the datapath hash that a live trace gives 'pkt'.
 *
 * kovs's select groups choose their bucket by the datapath's hash of the
 * packet (selection_method=dp_hash), which the switch computes in the
 * datapath and ofproto/trace cannot: without a hash in the traced flow the
 * translation stops at the group.  A live trace therefore carries a hash
 * of its own, of the packet's addresses, protocol and ports: the trace
 * shows the bucket that this hash selects, and a real connection with the
 * same addresses and ports may hash to another bucket of the same group.
 * (Offline, the groups are loaded to select by those fields directly, and
 * need none.) */
static uint32_t
packet_dp_hash(const struct trace_packet *pkt)
{
    uint32_t words[] = {
        ((uint32_t) pkt->sport << 16) | pkt->dport, pkt->proto,
    };
    uint32_t hash = hash_words(words, ARRAY_SIZE(words), 0);
    hash = hash_bytes(&pkt->nw_src, sizeof pkt->nw_src, hash);
    hash = hash_bytes(&pkt->nw_dst, sizeof pkt->nw_dst, hash);
    return hash ? hash : 1;
}

/* Returns the verdict of a neighbor request answered by flows on node 'tn':
 * the answer, as 'final_flow' (which may be NULL) shows it. */
static char *
neighbor_answer(const struct trace_ctx *ctx, const struct trace_node *tn,
                const char *final_flow)
{
    const struct in6_addr *target = &ctx->o->to.ip;
    bool ipv4 = addr_is_ipv4(target);
    char *mac = final_flow ? flow_field(final_flow,
                                        ipv4 ? "arp_sha" : "nd_tll") : NULL;
    struct ds v = DS_EMPTY_INITIALIZER;
    ds_put_format(&v, "answered by flows on node %s: ", tn->name);
    put_addr(&v, target);
    ds_put_format(&v, " is at %s (%s back to the sender)", mac ? mac : "?",
                  ipv4 ? "ARP reply" : "Neighbor Advertisement");
    free(mac);
    return ds_steal_cstr(&v);
}

/* Stops a live trace at the tunnel from node 'node' to node 'peer': the
 * peer's switch is out of reach.  The verdict says where the packet went
 * and the command that follows it there. */
static void
stop_at_tunnel(struct trace_ctx *ctx, const char *node, const char *peer,
               const struct trace_packet *pkt)
{
    const struct trace_options *o = ctx->o;
    struct ds cmd = DS_EMPTY_INITIALIZER;
    const char *proto = (pkt->proto == IPPROTO_TCP ? "tcp"
                         : pkt->proto == IPPROTO_UDP ? "udp" : "icmp");
    ds_put_format(&cmd, "ovs-appctl -t kovs-controller trace --from-tunnel "
                  "%s --from ", node);
    put_addr(&cmd, &pkt->nw_src);
    ds_put_cstr(&cmd, " --to ");
    put_addr(&cmd, &pkt->nw_dst);
    ds_put_format(&cmd, " --proto %s", proto);
    if (pkt->proto != IPPROTO_ICMP) {
        ds_put_format(&cmd, " --sport %"PRIu16" --port %"PRIu16,
                      pkt->sport, pkt->dport);
    }
    if (o->json) {
        ds_put_cstr(&cmd, " --json");
    }
    if (o->verbose) {
        ds_put_cstr(&cmd, " -v");
    }
    free(ctx->next_node);
    ctx->next_node = xstrdup(peer);
    free(ctx->next_command);
    ctx->next_command = ds_steal_cstr(&cmd);
    set_verdict(ctx, "tunnel", xasprintf(
                    "sent through the tunnel to node %s (the live trace "
                    "sees node %s's switch only)", peer, node));
}

/* Traces 'pkt' from node 'node_name' on, through the tunnels it takes. */
static char *
trace_path(struct trace_ctx *ctx, const char *node_name,
           struct trace_packet *pkt)
{
    struct trace_backend *backend = ctx->backend;
    char *node = xstrdup(node_name);
    char *error = NULL;
    for (int hops = 0; ; hops++) {
        if (hops >= TRACE_MAX_HOPS) {
            set_verdict(ctx, "loop", xasprintf(
                            "looped: still going after %d nodes", hops));
            break;
        }
        const struct trace_node *tn;
        error = backend->class->node_get(backend, node, pkt->proto, &tn);
        if (error) {
            break;
        }

        const char *bridge = pkt->on_ex ? tn->ex_bridge : tn->bridge;
        if (!bridge) {
            error = trace_error("node %s has no external bridge: "
                                "--from-uplink needs one", node);
            break;
        }
        struct ds flow = DS_EMPTY_INITIALIZER;
        format_packet(pkt, &flow);
        struct ds output = DS_EMPTY_INITIALIZER;
        error = backend->class->run(backend, tn, bridge, ds_cstr(&flow),
                                    &output);
        if (error) {
            ds_destroy(&flow);
            ds_destroy(&output);
            break;
        }
        svec_add_nocopy(&ctx->raw, xasprintf(
                            "node %s: ovs-appctl ofproto/trace %s '%s' "
                            "--ct-next trk,new", node, bridge,
                            ds_cstr(&flow)));
        svec_add(&ctx->raw, ds_cstr(&output));
        ds_destroy(&flow);

        struct trace_hop hop;
        parse_trace(ctx, tn, pkt->on_ex, ds_cstr(&output), &hop);
        ctx->hop_tun_dst = flow_tun_dst(hop.final_flow);
        for (size_t i = hop.first_stage; i < ctx->n_stages; i++) {
            describe_stage(ctx, tn, i, pkt);
        }
        if (hop.first_stage == ctx->n_stages) {
            error = trace_error("ofproto/trace on node %s matched no flow: "
                                "%s", node, ds_cstr(&output));
            ds_destroy(&output);
            free(hop.final_flow);
            break;
        }
        ds_destroy(&output);

        /* Where did it go? */
        const struct trace_stage *last = &ctx->stages[ctx->n_stages - 1];
        const struct trace_stage *out_stage = NULL;
        int out = -1;
        bool rejected = false, hairpin = false, answered = false;
        bool ex_normal = false;
        char *snat = NULL;
        for (size_t i = hop.first_stage; i < ctx->n_stages; i++) {
            const struct trace_stage *st = &ctx->stages[i];
            if (st->output >= 0) {
                out = st->output;
                out_stage = st;
                ex_normal = false;
            }
            if (stage_has_reject(st)) {
                rejected = true;
            }
            if (!st->ex && st->table == KOVS_T_OUTPUT
                && stage_has_action(st, "IN_PORT")) {
                hairpin = true;
            }
            if (!st->ex && st->table == KOVS_T_ARP
                && stage_has_action(st, "IN_PORT")) {
                answered = true;
            }
            if (st->ex && stage_has_action(st, "NORMAL")) {
                ex_normal = true;
            }
            if (!snat) {
                snat = find_snat(st);
            }
        }
        if (hop.final_flow) {
            packet_update(pkt, hop.final_flow);
        }

        const char *key, *peer;
        if (rejected) {
            set_verdict(ctx, "rejected", xasprintf(
                            "rejected on node %s in %s: %s", node,
                            stage_table_name(last), last->what));
        } else if (answered && pkt->neighbor) {
            set_verdict(ctx, "answered", neighbor_answer(
                            ctx, tn, hop.final_flow));
        } else if (ex_normal) {
            set_verdict(ctx, "node", xasprintf(
                            "to the node's stack on node %s through br-ex "
                            "(NORMAL)", node));
        } else if (out >= 0 && out_stage->ex
                   && out == ofp_to_u16(tn->external->uplink_ofport)) {
            struct ds v = DS_EMPTY_INITIALIZER;
            ds_put_format(&v, "out of the cluster through br-ex's uplink on "
                          "node %s", node);
            if (snat) {
                ds_put_format(&v, ", source NATed to %s", snat);
            }
            set_verdict(ctx, "external", ds_steal_cstr(&v));
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
                            stage_table_name(last), what));
        } else if ((key = pod_key_by_ofport(tn, out)) != NULL) {
            set_verdict(ctx, "delivered", xasprintf(
                            "delivered to pod %s on node %s", key, node));
        } else if ((peer = tunnel_by_ofport(tn, out, ctx->cluster,
                                            &ctx->hop_tun_dst)) != NULL) {
            if (backend->local_node) {
                stop_at_tunnel(ctx, node, peer, pkt);
                free(snat);
                free(hop.final_flow);
                break;
            }

            /* On to the peer, as it receives the packet from its tunnel to
             * this node. */
            const struct k8s_node *src = find_node(ctx->cluster, node);
            const struct k8s_node *dst = find_node(ctx->cluster, peer);
            const struct trace_node *ptn;
            error = backend->class->node_get(backend, peer, pkt->proto,
                                             &ptn);
            if (error) {
                free(snat);
                free(hop.final_flow);
                break;
            }
            const struct flows_port *back = shash_find_data(ptn->tunnels,
                                                            node);
            if (!back || !dst) {
                set_verdict(ctx, "dropped", xasprintf(
                                "sent to node %s, which has no tunnel back "
                                "to node %s", peer, node));
                free(snat);
                free(hop.final_flow);
                break;
            }
            pkt->in_port = back->ofport;
            pkt->on_ex = false;
            pkt->tun_src = node_underlay(src);
            pkt->tun_dst = node_underlay(dst);
            if (!pkt->tun_id) {
                pkt->tun_id = KOVS_TUNNEL_VNI;
            }
            free(node);
            node = xstrdup(peer);
            free(snat);
            free(hop.final_flow);
            continue;
        } else if (out == ofp_to_u16(tn->gateway_ofport)) {
            bool local = is_gateway_ip(tn->local, &pkt->nw_dst);
            if (local || find_node_by_ip(ctx->cluster, &pkt->nw_dst)) {
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
        free(snat);
        free(hop.final_flow);
        break;
    }
    free(node);
    return error;
}

/* Finds the node where the packet starts, in '*nodep'. */
static char *
initial_node(struct trace_ctx *ctx, const char **nodep)
{
    const struct trace_options *o = ctx->o;
    const struct trace_peer *from = &o->from;
    const char *local = ctx->backend->local_node;
    const char *model = ctx->backend->model_name;
    const char *node = NULL;
    char *error;

    if (o->from_tunnel && o->from_uplink) {
        return trace_error("--from-tunnel and --from-uplink: a packet "
                           "enters through one of them");
    } else if (o->from_tunnel) {
        node = local ? local : o->via_node;
        if (!node) {
            return trace_error("--from-tunnel needs --node: the node whose "
                               "tunnel from node %s the packet enters",
                               o->from_tunnel);
        }
    } else if (o->from_uplink) {
        if (from->type != TRACE_PEER_IP || from->pod || from->node) {
            return trace_error("--from-uplink: --from must be an address "
                               "outside the cluster");
        }
        node = (local ? local
                : o->via_node ? o->via_node
                : o->to.node ? o->to.node->obj.name : NULL);
        if (!node) {
            return trace_error("--from-uplink needs --node: the node whose "
                               "br-ex the packet enters");
        }
    } else if (from->pod) {
        node = from->pod->node_name;
        if (!node[0]) {
            return trace_error("--from: pod %s/%s is not scheduled on a "
                               "node", from->pod->obj.namespace,
                               from->pod->obj.name);
        }
    } else if (from->node) {
        node = from->node->obj.name;
    } else if (o->via_node) {
        node = o->via_node;
    } else if (local) {
        /* An address from outside: it reaches pods through this node's
         * stack, as --node would say. */
        node = local;
    } else {
        char *ip = addr_string(&from->ip);
        error = trace_error("--from %s: no pod or node has this address; "
                            "traffic from outside the cluster enters "
                            "through br-ex: use --from-uplink (with --node "
                            "NAME, unless --to is a node), or --node NAME "
                            "to send it from that node's stack", ip);
        free(ip);
        return error;
    }
    if (!find_node(ctx->cluster, node)) {
        return trace_error("--node %s: not in %s", node, model);
    }
    if (local && strcmp(node, local)) {
        struct ds who = DS_EMPTY_INITIALIZER;
        if (from->pod) {
            ds_put_format(&who, "pod %s/%s is on node %s",
                          from->pod->obj.namespace, from->pod->obj.name,
                          node);
        } else if (from->node) {
            ds_put_format(&who, "node %s is another node", node);
        } else {
            ds_put_format(&who, "--node %s is another node", node);
        }
        error = trace_error("--from: %s, and this is node %s: run the "
                            "trace there (or use --from-tunnel to trace "
                            "what arrives here through a tunnel)",
                            ds_cstr(&who), local);
        ds_destroy(&who);
        return error;
    }
    *nodep = node;
    return NULL;
}

/* Builds the first packet and finds the node it starts on. */
static char *
initial_packet(struct trace_ctx *ctx, struct trace_packet *pkt,
               const char **nodep)
{
    const struct trace_options *o = ctx->o;
    const struct trace_peer *from = &o->from, *to = &o->to;
    const char *node = NULL;
    bool ipv4 = o->family != AF_INET6;

    memset(pkt, 0, sizeof *pkt);
    pkt->proto = o->proto;
    pkt->neighbor = o->neighbor;
    pkt->nw_src = from->ip;
    pkt->nw_dst = to->ip;
    pkt->ttl = 64;
    pkt->sport = o->sport >= 0 ? o->sport : 40000;
    pkt->dport = o->dport >= 0 ? o->dport : 0;

    char *error = initial_node(ctx, &node);
    if (error) {
        return error;
    }

    struct trace_backend *backend = ctx->backend;
    const struct trace_node *tn;
    error = backend->class->node_get(backend, node, pkt->proto, &tn);
    if (error) {
        return error;
    }
    if (!(ipv4 ? tn->local->valid4 : tn->local->valid6)) {
        return trace_error("node %s has no %s podCIDR: it takes no %s "
                           "traffic", node, family_name(o->family),
                           family_name(o->family));
    }
    if (o->neighbor && (o->from_tunnel || o->from_uplink)) {
        return trace_error("--proto %s: a neighbor request is traced from "
                           "a pod or the node", ipv4 ? "arp" : "nd");
    }
    if (o->from_tunnel) {
        /* As the peer sends it: routed by its gateway to the virtual MAC,
         * with the cluster's VNI, from its IP to this node's. */
        const struct flows_port *port = shash_find_data(tn->tunnels,
                                                        o->from_tunnel);
        const struct k8s_node *peer = find_node(ctx->cluster,
                                                o->from_tunnel);
        if (!port || !peer) {
            return trace_error("--from-tunnel %s: node %s has no tunnel to "
                               "node %s", o->from_tunnel, node,
                               o->from_tunnel);
        }
        struct flows_input in = {
            .cluster = ctx->cluster,
            .node_name = o->from_tunnel,
        };
        struct flows_local peer_local;
        flows_local_init(&in, &peer_local);
        pkt->in_port = port->ofport;
        pkt->dl_src = peer_local.gateway_mac;
        pkt->dl_dst = KOVS_VIRTUAL_MAC;
        pkt->ttl--;
        pkt->tun_id = KOVS_TUNNEL_VNI;
        pkt->tun_src = node_underlay(peer);
        pkt->tun_dst = node_underlay(find_node(ctx->cluster, node));
    } else if (o->from_uplink) {
        /* From a client outside, to br-ex's MAC, on br-ex's uplink. */
        const struct flows_external *ex = tn->external;
        if (!tn->ex_bridge || !ex) {
            return trace_error("--from-uplink: node %s has no external "
                               "bridge%s", node,
                               backend->local_node
                               ? " (kovs-controller runs without "
                                 "--external-bridge, or br-ex is not ready)"
                               : "");
        }
        if (!ipv4 && !flows_external_has_ipv6(ex)) {
            return trace_error("--from-uplink: node %s's external bridge "
                               "has no IPv6 address: it takes no IPv6 "
                               "traffic", node);
        }
        pkt->on_ex = true;
        pkt->in_port = ex->uplink_ofport;
        pkt->dl_src = TRACE_CLIENT_MAC;
        pkt->dl_dst = ex->mac;
    } else if (from->pod) {
        char *key = xasprintf("%s/%s", from->pod->obj.namespace,
                              from->pod->obj.name);
        const struct flows_port *p = shash_find_data(tn->pods, key);
        free(key);
        if (!p) {
            return trace_error("--from: pod %s/%s has no port on node %s's "
                               "switch", from->pod->obj.namespace,
                               from->pod->obj.name, node);
        }
        pkt->in_port = p->ofport;
        pkt->dl_src = p->mac;
        if (!o->has_src) {
            /* The address that the CNI plugin gave the pod wins. */
            pkt->nw_src = pod_ip(tn, from->pod, o->family);
        }
    } else {
        pkt->in_port = tn->gateway_ofport;
        pkt->dl_src = tn->local->gateway_mac;
        if (from->type == TRACE_PEER_NODE) {
            /* The node's stack reaches pods from its gateway address. */
            if (ipv4) {
                in6_addr_set_mapped_ipv4(&pkt->nw_src,
                                         tn->local->gateway_ip);
            } else {
                pkt->nw_src = tn->local->gateway_ip6;
            }
        }
    }

    if (o->has_src) {
        pkt->nw_src = o->src_ip;
    }

    /* A destination in the same subnet is reached by its own MAC (that is
     * what ARP answers); anything else through the gateway.  A neighbor
     * request goes to everybody. */
    if (o->neighbor) {
        if (ipv4) {
            pkt->dl_dst = eth_addr_broadcast;
        } else {
            struct in6_addr snma;
            in6_addr_solicited_node(&snma, &pkt->nw_dst);
            ipv6_multicast_to_ethernet(&pkt->dl_dst, &snma);
        }
    } else if (!o->from_tunnel && !o->from_uplink) {
        pkt->dl_dst = tn->local->gateway_mac;
        const struct k8s_pod *pod = (in_pod_cidr(tn->local, &pkt->nw_dst)
                                     ? find_pod_by_ip(ctx->cluster,
                                                      &pkt->nw_dst)
                                     : NULL);
        if (pod && !strcmp(pod->node_name, node)) {
            char *key = xasprintf("%s/%s", pod->obj.namespace,
                                  pod->obj.name);
            const struct flows_port *p = shash_find_data(tn->pods, key);
            free(key);
            if (p) {
                pkt->dl_dst = p->mac;
            }
        }
    }
    if (backend->local_node) {
        pkt->dp_hash = packet_dp_hash(pkt);
    }
    if (o->to.type == TRACE_PEER_IP && is_gateway_ip(tn->local, &o->to.ip)) {
        ctx->gateway_node = tn->name;
    }
    ctx->first_src = pkt->nw_src;
    ctx->first_src_set = true;
    *nodep = node;
    return NULL;
}

/* Output. */

static void
describe_peer(const struct trace_peer *peer, const char *gateway_node,
              struct ds *s)
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
        } else if (gateway_node) {
            ds_put_format(s, "the gateway of node %s", gateway_node);
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
    bool ipv4 = o->family != AF_INET6;
    const struct in6_addr *src = (o->has_src ? &o->src_ip
                                  : ctx->first_src_set ? &ctx->first_src
                                  : &o->from.ip);
    if (o->neighbor) {
        ds_put_format(s, "%s ", ipv4 ? "ARP request" : "Neighbor "
                      "Solicitation");
        put_addr(s, src);
        ds_put_cstr(s, " asks for ");
        put_addr(s, &o->to.ip);
    } else if (o->proto == IPPROTO_ICMP) {
        ds_put_format(s, "%s ", ipv4 ? "icmp" : "icmpv6");
        put_addr(s, src);
        ds_put_cstr(s, " -> ");
        put_addr(s, &o->to.ip);
    } else {
        ds_put_format(s, "%s ", o->proto == IPPROTO_TCP ? "tcp" : "udp");
        put_addr_port(s, src, o->sport >= 0 ? o->sport : 40000);
        ds_put_cstr(s, " -> ");
        put_addr_port(s, &o->to.ip, o->dport);
    }
    ds_put_cstr(s, " (");
    describe_peer(&o->from, NULL, s);
    ds_put_cstr(s, " to ");
    describe_peer(&o->to, ctx->gateway_node, s);
    ds_put_cstr(s, ")");
}

static void
put_text(const struct trace_ctx *ctx, struct ds *out)
{
    ds_put_cstr(out, "packet: ");
    describe_packet(ctx, out);
    ds_put_char(out, '\n');

    for (size_t i = 0; i < ctx->n_stages; i++) {
        const struct trace_stage *st = &ctx->stages[i];
        ds_put_format(out, "%s %2d %-15s %s: %s\n", st->node, st->table,
                      stage_table_name(st), st->owner, st->what);
    }
    ds_put_format(out, "verdict: %s\n", ctx->verdict);
    if (ctx->next_command) {
        ds_put_format(out, "next: on node %s: %s\n", ctx->next_node,
                      ctx->next_command);
    }

    if (ctx->o->verbose) {
        for (size_t i = 0; i + 1 < ctx->raw.n; i += 2) {
            ds_put_format(out, "\n--- %s\n%s", ctx->raw.names[i],
                          ctx->raw.names[i + 1]);
        }
    }
}

static void
put_json(const struct trace_ctx *ctx, struct ds *out)
{
    struct json *root = json_object_create();
    struct ds s = DS_EMPTY_INITIALIZER;
    describe_packet(ctx, &s);
    json_object_put_string(root, "packet", ds_cstr(&s));
    ds_destroy(&s);

    struct json *stages = json_array_create_empty();
    for (size_t i = 0; i < ctx->n_stages; i++) {
        const struct trace_stage *st = &ctx->stages[i];
        struct json *o = json_object_create();
        json_object_put_string(o, "node", st->node);
        json_object_put_string(o, "bridge", st->ex ? "br-ex" : "br-int");
        json_object_put(o, "table", json_integer_create(st->table));
        json_object_put_string(o, "table_name", stage_table_name(st));
        json_object_put(o, "priority", json_integer_create(st->priority));
        json_object_put(o, "cookie", json_string_create_nocopy(
                            xasprintf("%#"PRIx64, st->cookie)));
        json_object_put_string(o, "owner", st->owner);
        json_object_put_string(o, "match", st->match);
        struct json *actions = json_array_create_empty();
        for (size_t j = 0; j < st->actions.n; j++) {
            json_array_add(actions, json_string_create(st->actions.names[j]));
        }
        json_object_put(o, "actions", actions);
        json_object_put_string(o, "description", st->what);
        json_array_add(stages, o);
    }
    json_object_put(root, "stages", stages);

    struct json *verdict = json_object_create();
    json_object_put_string(verdict, "result", ctx->result);
    json_object_put_string(verdict, "text", ctx->verdict);
    if (ctx->next_command) {
        json_object_put_string(verdict, "next_node", ctx->next_node);
        json_object_put_string(verdict, "next_command", ctx->next_command);
    }
    json_object_put(root, "verdict", verdict);

    if (ctx->o->verbose) {
        struct json *raw = json_array_create_empty();
        for (size_t i = 0; i + 1 < ctx->raw.n; i += 2) {
            struct json *o = json_object_create();
            json_object_put_string(o, "command", ctx->raw.names[i]);
            json_object_put_string(o, "output", ctx->raw.names[i + 1]);
            json_array_add(raw, o);
        }
        json_object_put(root, "raw", raw);
    }

    json_to_ds(root, JSSF_PRETTY | JSSF_SORT, out);
    ds_put_char(out, '\n');
    json_destroy(root);
}

/* The command. */

static void
trace_ctx_destroy(struct trace_ctx *ctx)
{
    for (size_t i = 0; i < ctx->n_stages; i++) {
        struct trace_stage *st = &ctx->stages[i];
        free(st->node);
        free(st->match);
        svec_destroy(&st->actions);
        free(st->owner);
        free(st->what);
    }
    free(ctx->stages);
    svec_destroy(&ctx->raw);
    free(ctx->verdict);
    free(ctx->next_node);
    free(ctx->next_command);
}

char *
trace_run(struct trace_options *o, const struct k8s_cluster *cluster,
          struct trace_backend *backend, struct ds *out)
{
    const char *model = backend->model_name;
    const struct trace_node *local = NULL;
    char *error = NULL;
    if (backend->local_node) {
        error = backend->class->node_get(backend, backend->local_node,
                                         o->proto, &local);
    }
    if (!error) {
        error = resolve_peer(cluster, model, local, "--from", o->family,
                             &o->from);
    }
    if (!error) {
        error = resolve_peer(cluster, model, local, "--to", o->family,
                             &o->to);
    }
    if (!error && o->to.type == TRACE_PEER_SERVICE) {
        error = resolve_service_port(cluster, o);
    }
    if (error) {
        return error;
    }
    if (!o->has_proto) {
        o->proto = IPPROTO_TCP;
    }
    if (o->proto != IPPROTO_ICMP && o->dport < 0) {
        return trace_error("--port is required for %s",
                           o->proto == IPPROTO_TCP ? "tcp" : "udp");
    }

    struct trace_ctx ctx = {
        .o = o,
        .cluster = cluster,
        .backend = backend,
        .raw = SVEC_EMPTY_INITIALIZER,
    };
    struct trace_packet pkt;
    const char *node = NULL;
    error = initial_packet(&ctx, &pkt, &node);
    if (!error) {
        error = trace_path(&ctx, node, &pkt);
    }
    if (!error) {
        if (o->json) {
            put_json(&ctx, out);
        } else {
            put_text(&ctx, out);
        }
    }
    trace_ctx_destroy(&ctx);
    return error;
}
