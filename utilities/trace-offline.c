/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#include <config.h>

#include "utilities/trace-offline.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "flow.h"
#include "flows/flow-table.h"
#include "flows/flows.h"
#include "k8s/k8s-model.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/shash.h"
#include "sset.h"
#include "svec.h"
#include "util.h"
#include "utilities/snapshot.h"
#include "utilities/trace-switch.h"
#include "utilities/trace.h"

/* kovs-controller gives kovs-gw0 this OpenFlow port on every node of a
 * snapshot, as 'kovs-ctl compute' does by default. */
#define TRACE_GATEWAY_OFPORT 1

/* With --external-bridge: br-int's patch port to br-ex, and br-ex's uplink
 * and patch port to br-int. */
#define TRACE_PATCH_OFPORT 2
#define TRACE_EX_UPLINK_OFPORT 1
#define TRACE_EX_PATCH_OFPORT 2

/* The prefixes of the node IPs' subnets on br-ex, which a snapshot does
 * not tell. */
#define TRACE_EX_PLEN4 24
#define TRACE_EX_PLEN6 64

/* One node whose flows are in the private switch, on bridge 'up.bridge'. */
struct offline_node {
    struct trace_node up;
    struct shash pods;          /* "ns/name" -> struct flows_port. */
    struct shash tunnels;       /* Peer node -> struct flows_port. */
    struct flows_input in;
    struct flows_local local;
    struct flow_table ft;

    /* With --external-bridge: its br-ex, on bridge 'up.ex_bridge'. */
    struct flows_external external;
    struct flow_table ex_ft;
};

/* The private switch, with one bridge per node on the path, each loaded
 * with the flows kovs computes for that node from the snapshot. */
struct offline_backend {
    struct trace_backend up;
    const struct trace_options *o;
    const struct k8s_cluster *cluster;
    struct trace_switch *sw;
    struct shash nodes;         /* Node name -> struct offline_node. */
    size_t n_bridges;
};

static struct offline_backend *
offline_backend_cast(struct trace_backend *backend)
{
    return CONTAINER_OF(backend, struct offline_backend, up);
}

/* Adds to 'args' the port 'iface' of 'bridge', of interface type 'type',
 * with OpenFlow port 'ofport'. */
static void
put_vsctl_iface(struct svec *args, const char *bridge, const char *iface,
                const char *type, ofp_port_t ofport)
{
    svec_add(args, "--");
    svec_add(args, "add-port");
    svec_add(args, bridge);
    svec_add(args, iface);
    svec_add(args, "--");
    svec_add(args, "set");
    svec_add(args, "Interface");
    svec_add(args, iface);
    svec_add_nocopy(args, xasprintf("type=%s", type));
    svec_add_nocopy(args, xasprintf("ofport_request=%"PRIu16,
                                    ofp_to_u16(ofport)));
}

static void
put_vsctl_port(struct svec *args, const char *bridge, const char *iface,
               ofp_port_t ofport)
{
    put_vsctl_iface(args, bridge, iface, "dummy", ofport);
}

/* Adds to 'args' the patch port 'iface' of 'bridge' to 'peer', with
 * OpenFlow port 'ofport'. */
static void
put_vsctl_patch(struct svec *args, const char *bridge, const char *iface,
                const char *peer, ofp_port_t ofport)
{
    put_vsctl_iface(args, bridge, iface, "patch", ofport);
    svec_add_nocopy(args, xasprintf("options:peer=%s", peer));
}

static char *offline_load_flows(struct offline_backend *,
                                const char *bridge,
                                const struct flow_table *, uint8_t proto);

/* Runs 'args' on the private switch.  Returns NULL or an error message. */
static char *
offline_run_args(struct offline_backend *ob, struct svec *args)
{
    struct ds output = DS_EMPTY_INITIALIZER;
    char *error = NULL;
    svec_terminate(args);
    if (trace_switch_run(ob->sw, (const char *const *) args->names,
                         &output)) {
        error = xasprintf("%s failed: %s", args->names[0], ds_cstr(&output));
    }
    ds_destroy(&output);
    return error;
}

/* Returns the group lines of 'on' for 'ovs-ofctl bundle', each select
 * group made to choose its bucket by a hash of the packet's addresses and
 * ports: ofproto/trace does not follow the datapath hash that the switch
 * uses otherwise, and so shows the bucket this packet takes. */
static void
format_trace_groups(const struct flow_table *ft, uint8_t proto,
                    struct svec *lines)
{
    /* Each field counts only where the packet has it: the addresses of its
     * family. */
    const char *fields = (proto == IPPROTO_TCP
                          ? "selection_method=hash,fields(ip_src,ip_dst,"
                            "ipv6_src,ipv6_dst,tcp_src)"
                          : proto == IPPROTO_UDP
                          ? "selection_method=hash,fields(ip_src,ip_dst,"
                            "ipv6_src,ipv6_dst,udp_src)"
                          : "selection_method=hash,fields(ip_src,ip_dst,"
                            "ipv6_src,ipv6_dst)");
    struct svec groups = SVEC_EMPTY_INITIALIZER;
    snapshot_format_groups(ft, "group add ", &groups);
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

/* Adds a bridge for 'on' to the private switch, with its ports, and loads
 * its flows and groups into it.  Returns NULL or an error message. */
/* Appends to 'args' the ovs-vsctl commands that add 'bridge' as the
 * trace's switches have it: the dummy datapath, secure, OpenFlow 1.5. */
static void
put_vsctl_bridge(struct svec *args, const char *bridge)
{
    svec_add(args, "add-br");
    svec_add(args, bridge);
    svec_add(args, "--");
    svec_add(args, "set");
    svec_add(args, "Bridge");
    svec_add(args, bridge);
    svec_add(args, "datapath_type=dummy");
    svec_add(args, "fail_mode=secure");
    svec_add(args, "protocols=OpenFlow15");
}

static char *
offline_node_load(struct offline_backend *ob, struct offline_node *on,
                  uint8_t proto)
{
    /* The bridge and its ports. */
    const char *bridge = on->up.bridge;
    struct svec args = SVEC_EMPTY_INITIALIZER;
    svec_add(&args, "ovs-vsctl");
    put_vsctl_bridge(&args, bridge);
    size_t index = ob->n_bridges - 1;
    char *iface = xasprintf("n%"PRIuSIZE"-gw", index);
    put_vsctl_port(&args, bridge, iface, u16_to_ofp(TRACE_GATEWAY_OFPORT));
    free(iface);
    const struct shash_node *sn;
    SHASH_FOR_EACH (sn, &on->pods) {
        const struct flows_port *p = sn->data;
        iface = xasprintf("n%"PRIuSIZE"-p%"PRIu16, index,
                          ofp_to_u16(p->ofport));
        put_vsctl_port(&args, bridge, iface, p->ofport);
        free(iface);
    }
    SHASH_FOR_EACH (sn, &on->tunnels) {
        const struct flows_port *p = sn->data;
        if (on->up.flow_tunnel_ofport) {
            /* One port that every peer shares, below. */
            break;
        }
        iface = xasprintf("n%"PRIuSIZE"-t%"PRIu16, index,
                          ofp_to_u16(p->ofport));
        put_vsctl_port(&args, bridge, iface, p->ofport);
        free(iface);
    }
    if (on->up.flow_tunnel_ofport) {
        iface = xasprintf("n%"PRIuSIZE"-tun", index);
        put_vsctl_port(&args, bridge, iface, on->up.flow_tunnel_ofport);
        free(iface);
    }
    if (on->up.ex_bridge) {
        /* br-ex, its uplink, and the patch ports between the two. */
        const char *ex_bridge = on->up.ex_bridge;
        char *int_patch = xasprintf("n%"PRIuSIZE"-to-ex", index);
        char *ex_patch = xasprintf("n%"PRIuSIZE"-to-int", index);
        char *uplink = xasprintf("n%"PRIuSIZE"-uplink", index);
        svec_add(&args, "--");
        put_vsctl_bridge(&args, ex_bridge);
        put_vsctl_port(&args, ex_bridge, uplink,
                       u16_to_ofp(TRACE_EX_UPLINK_OFPORT));
        put_vsctl_patch(&args, bridge, int_patch, ex_patch,
                        u16_to_ofp(TRACE_PATCH_OFPORT));
        put_vsctl_patch(&args, ex_bridge, ex_patch, int_patch,
                        u16_to_ofp(TRACE_EX_PATCH_OFPORT));
        free(int_patch);
        free(ex_patch);
        free(uplink);
    }
    char *error = offline_run_args(ob, &args);
    svec_destroy(&args);
    if (error) {
        return error;
    }
    if (on->up.ex_bridge) {
        error = offline_load_flows(ob, on->up.ex_bridge, &on->ex_ft, proto);
        if (error) {
            return error;
        }
    }
    return offline_load_flows(ob, bridge, &on->ft, proto);
}

/* Loads the flows and groups of 'ft' into 'bridge' of the private switch,
 * in one bundle as kovs-controller sends them.  Returns NULL or an error
 * message. */
static char *
offline_load_flows(struct offline_backend *ob, const char *bridge,
                   const struct flow_table *ft, uint8_t proto)
{
    char *error = NULL;
    struct svec args;

    struct svec lines = SVEC_EMPTY_INITIALIZER;
    format_trace_groups(ft, proto, &lines);
    snapshot_format_flows(ft, "flow add ", &lines);
    char *bundle = xasprintf("%s/%s.bundle", trace_switch_dir(ob->sw),
                             bridge);
    FILE *f = fopen(bundle, "w");
    if (!f) {
        error = xasprintf("%s: cannot create (%s)", bundle,
                          ovs_strerror(errno));
    } else {
        for (size_t i = 0; i < lines.n; i++) {
            fprintf(f, "%s\n", lines.names[i]);
        }
        if (fclose(f)) {
            error = xasprintf("%s: write error", bundle);
        }
    }
    svec_destroy(&lines);

    if (!error) {
        svec_init(&args);
        svec_add(&args, "ovs-ofctl");
        svec_add(&args, "-O");
        svec_add(&args, "OpenFlow15");
        svec_add(&args, "bundle");
        svec_add(&args, bridge);
        svec_add(&args, bundle);
        error = offline_run_args(ob, &args);
        svec_destroy(&args);
    }
    free(bundle);
    return error;
}

/* Gives 'on' a br-ex (--external-bridge), as kovs-controller would see it
 * on a node whose InternalIPs are on br-ex: IPv4 on a /24 (an IPv4
 * InternalIP is required), IPv6 on a /64 if the node has an IPv6 podCIDR
 * too; no default gateway, no next hop resolved yet. */
static void
offline_external_init(struct offline_backend *ob, struct offline_node *on)
{
    const struct k8s_object *obj = k8s_cluster_find(ob->cluster, K8S_NODE,
                                                    "", on->up.name);
    const struct k8s_node *node = obj ? k8s_node_cast(obj) : NULL;
    ovs_be32 ip4 = 0;
    struct in6_addr ip6 = in6addr_any;
    for (size_t i = 0; node && i < node->n_internal_ips; i++) {
        const struct in6_addr *ip = &node->internal_ips[i];
        if (IN6_IS_ADDR_V4MAPPED(ip)) {
            ip4 = ip4 ? ip4 : in6_addr_get_mapped_ipv4(ip);
        } else if (!ipv6_addr_is_set(&ip6)) {
            ip6 = *ip;
        }
    }
    if (!ip4) {
        fprintf(stderr, "%s: node %s: no IPv4 InternalIP: no external "
                "bridge\n", ob->o->state_file, on->up.name);
        return;
    }

    /* br-ex's MAC: 02:00 and the node's IPv4 address. */
    uint32_t h = ntohl(ip4);
    struct eth_addr mac = ETH_ADDR_C(02, 00, 00, 00, 00, 00);
    mac.ea[2] = h >> 24;
    mac.ea[3] = h >> 16;
    mac.ea[4] = h >> 8;
    mac.ea[5] = h;

    bool ipv6 = on->local.valid6 && ipv6_addr_is_set(&ip6);
    on->external = (struct flows_external) {
        .patch_ofport = u16_to_ofp(TRACE_PATCH_OFPORT),
        .ex_patch_ofport = u16_to_ofp(TRACE_EX_PATCH_OFPORT),
        .uplink_ofport = u16_to_ofp(TRACE_EX_UPLINK_OFPORT),
        .mac = mac,
        .node_ip = ip4,
        .subnet_mask = be32_prefix_mask(TRACE_EX_PLEN4),
        .node_ip6 = ipv6 ? ip6 : in6addr_any,
        .subnet6_plen = ipv6 ? TRACE_EX_PLEN6 : 0,
    };
    on->in.external = &on->external;
    on->up.external = &on->external;
    on->up.ex_bridge = xasprintf("%s-ex", on->up.bridge);
}

/* Returns node 'name', its flows computed and loaded into a bridge of the
 * private switch with the ports they use, on first use. */
static char *
offline_node_get(struct trace_backend *backend, const char *name,
                 uint8_t proto, const struct trace_node **nodep)
{
    struct offline_backend *ob = offline_backend_cast(backend);
    struct offline_node *on = shash_find_data(&ob->nodes, name);
    if (on) {
        *nodep = &on->up;
        return NULL;
    }

    const struct trace_options *o = ob->o;
    on = xzalloc(sizeof *on);
    on->up.name = xstrdup(name);
    on->up.bridge = xasprintf("br%"PRIuSIZE, ob->n_bridges++);
    on->up.pods = &on->pods;
    on->up.tunnels = &on->tunnels;
    on->up.local = &on->local;
    on->up.ft = &on->ft;
    on->up.gateway_ofport = u16_to_ofp(TRACE_GATEWAY_OFPORT);
    shash_init(&on->pods);
    shash_init(&on->tunnels);
    snapshot_pod_ports(ob->cluster, name, &on->pods);
    if (o->flow_tunnel) {
        snapshot_flow_tunnel_ports(ob->cluster, name,
                                   SNAPSHOT_FIRST_TUNNEL_OFPORT,
                                   &on->tunnels);
        on->up.flow_tunnel_ofport = u16_to_ofp(SNAPSHOT_FIRST_TUNNEL_OFPORT);
    } else {
        snapshot_tunnel_ports(ob->cluster, name, &on->tunnels);
    }
    on->in = (struct flows_input) {
        .cluster = ob->cluster,
        .node_name = on->up.name,
        .cluster_cidr = o->cluster_cidr,
        .service_cidr = o->service_cidr,
        .gateway_ofport = u16_to_ofp(TRACE_GATEWAY_OFPORT),
        .pod_ports = &on->pods,
        .tunnel_ports = &on->tunnels,
        .tunnel_port_mode = (o->flow_tunnel ? FLOWS_TUNNEL_PORTS_FLOW
                             : FLOWS_TUNNEL_PORTS_PER_NODE),
        .tunnel_ofport = on->up.flow_tunnel_ofport,
    };
    flows_local_init(&on->in, &on->local);
    flow_table_init(&on->ft);
    flow_table_init(&on->ex_ft);
    if (o->external_bridge) {
        offline_external_init(ob, on);
    }
    flows_compute_all(&on->in, &on->ft,
                      on->up.ex_bridge ? &on->ex_ft : NULL);
    flow_table_clear_tracked(&on->ft);
    flow_table_clear_tracked(&on->ex_ft);
    shash_add(&ob->nodes, name, on);

    if (!on->local.valid) {
        return xasprintf("node %s has no podCIDR", name);
    }

    const char **warnings = sset_sort(&on->ft.warnings);
    for (size_t i = 0; i < sset_count(&on->ft.warnings); i++) {
        fprintf(stderr, "%s: node %s: %s\n", o->state_file, name,
                warnings[i]);
    }
    free(warnings);

    char *error = offline_node_load(ob, on, proto);
    if (!error) {
        *nodep = &on->up;
    }
    return error;
}

static char *
offline_run(struct trace_backend *backend, const struct trace_node *node,
            const char *bridge, const char *flow, struct ds *output)
{
    struct offline_backend *ob = offline_backend_cast(backend);
    const char *argv[] = {
        "ovs-appctl", "ofproto/trace", bridge, flow,
        "--ct-next", "trk,new", NULL,
    };
    if (trace_switch_run(ob->sw, argv, output)) {
        return xasprintf("ofproto/trace on node %s failed: %s", node->name,
                         ds_cstr(output));
    }
    return NULL;
}

static const struct trace_backend_class offline_backend_class = {
    .node_get = offline_node_get,
    .run = offline_run,
};

static void
offline_node_destroy(struct offline_node *on)
{
    if (on) {
        flow_table_destroy(&on->ft);
        flow_table_destroy(&on->ex_ft);
        free(CONST_CAST(char *, on->up.ex_bridge));
        shash_destroy_free_data(&on->pods);
        shash_destroy_free_data(&on->tunnels);
        free(CONST_CAST(char *, on->up.name));
        free(CONST_CAST(char *, on->up.bridge));
        free(on);
    }
}

OVS_NO_RETURN static void
trace_offline_fatal(char *error)
{
    ovs_fatal(0, "trace: %s", error);
}

int
trace_command(int argc, char *argv[])
{
    struct trace_options o;
    char *error = trace_options_parse(argc - 1,
                                      (const char *const *) argv + 1, &o);
    if (error) {
        trace_offline_fatal(error);
    }
    if (o.help) {
        struct ds s = DS_EMPTY_INITIALIZER;
        printf("usage: %s trace --from SOURCE --to DESTINATION [OPTIONS] "
               "STATE.json\n"
               "\n"
               "Traces one packet (the first of a connection: a TCP SYN, a "
               "UDP\n"
               "datagram or an ICMP echo request) through the flows kovs "
               "computes\n"
               "from the cluster in STATE.json, in a private ovs-vswitchd, "
               "node by\n"
               "node, and tells each step in Kubernetes terms.\n"
               "\n", program_name);
        trace_usage(&s, false);
        fputs(ds_cstr(&s), stdout);
        ds_destroy(&s);
        exit(EXIT_SUCCESS);
    }
    if (!o.state_file) {
        trace_offline_fatal(xstrdup("a state file is required (use --help "
                                    "for usage)"));
    }

    struct k8s_cluster cluster;
    k8s_cluster_init(&cluster);
    snapshot_load(o.state_file, &cluster, NULL);

    struct offline_backend ob = {
        .up = {
            .class = &offline_backend_class,
            .model_name = "the state file",
        },
        .o = &o,
        .cluster = &cluster,
        .nodes = SHASH_INITIALIZER(&ob.nodes),
    };
    ob.sw = trace_switch_start(&error);
    if (!ob.sw) {
        ovs_fatal(0, "trace: cannot start a private switch: %s", error);
    }

    struct ds out = DS_EMPTY_INITIALIZER;
    error = trace_run(&o, &cluster, &ob.up, &out);
    trace_switch_destroy(ob.sw);
    if (error) {
        trace_offline_fatal(error);
    }
    fputs(ds_cstr(&out), stdout);
    ds_destroy(&out);

    struct shash_node *sn;
    SHASH_FOR_EACH (sn, &ob.nodes) {
        offline_node_destroy(sn->data);
    }
    shash_destroy(&ob.nodes);
    trace_options_destroy(&o);
    k8s_cluster_destroy(&cluster);
    return 0;
}
