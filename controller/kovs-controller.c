/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <unistd.h>
#include "command-line.h"
#include "controller/dpcache.h"
#include "controller/cniserver.h"
#include "controller/gateway.h"
#include "controller/healthcheck.h"
#include "controller/neighbor.h"
#include "controller/ofctrl.h"
#include "controller/pinctrl.h"
#include "controller/uplink.h"
#include "controller/vswitch.h"
#include "daemon.h"
#include "dirs.h"
#include "fatal-signal.h"
#include "flow.h"
#include "flows/flow-table.h"
#include "flows/flows.h"
#include "flows/pipeline.h"
#include "flows/service.h"
#include "k8s/k8s-client.h"
#include "k8s/k8s-decode.h"
#include "k8s/k8s-model.h"
#include "k8s/k8s-state.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/ofp-meter.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "packets.h"
#include "socket-util.h"
#include "svec.h"
#include "timeval.h"
#include "unixctl.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(kovs_controller);

/* Command-line configuration. */
static char *ovsdb_remote;
static char *node_name;
static char *state_file;
static char *kubeconfig;
static char *k8s_api;
static char *k8s_token_file;
static char *k8s_ca_file;
static int k8s_watch_timeout;
static struct k8s_client_config client_cfg;  /* Used without 'state_file'. */
static char *bridge_name = "br-int";
static char *datapath_type;
static char *tunnel_type = "vxlan";
static char *external_bridge;
static char *unixctl_path;
static char *cni_conf_dir = "/etc/cni/net.d";
static char *ipam_file;
static bool has_cluster_cidr, has_service_cidr;
static struct k8s_cidr cluster_cidr, service_cidr;

/* Everything the main loop works on. */
struct controller {
    struct k8s_cluster cluster;
    struct k8s_state_file *state;   /* The source: either a state file... */
    struct k8s_client *client;      /* ...or the API server. */
    struct flow_table flows;
    struct ofctrl *br_int;          /* The integration bridge's flows. */

    /* The external bridge (--external-bridge), if any. */
    struct ofctrl *br_ex;
    struct flow_table ex_flows;
    struct flows_external external;
    struct uplink_info uplink;
    uint64_t neighbor_seqno;
    struct flows_neighbor *neighbors;
    long long int next_gateway_resolve;
    struct sset hc_services;        /* "ns/name" of the Services whose
                                     * health check port kovs serves. */
    struct flows_changes changes;
    struct flows_input input;
    struct flows_local local;
    int own_node_state;             /* What check_own_node() last saw. */
    struct sset flow_warnings;      /* The flow table's warnings already
                                     * logged. */
    bool exiting;

    /* Statistics for the status command. */
    size_t last_recomputed;         /* Owners recomputed last time. */
    uint64_t n_computations;
    long long int last_compute_ms;

    /* From reading an API change to its flows installed (barrier reply). */
    bool event_computed;            /* Flows computed from a change that
                                     * ofctrl_put() has not seen yet. */
    bool event_in_flight;           /* Its bundle awaits the barrier. */
    long long int event_msec;       /* When that change was read. */
    long long int last_event_latency_ms;
    long long int max_event_latency_ms;
};

static void parse_options(int argc, char *argv[]);
static void external_run(struct controller *);
static void healthcheck_update(struct controller *);
static void warn_unserved_frontends(const struct controller *);
static void set_meters(struct ofctrl *);
static void check_own_node(struct controller *);
static void log_flow_warnings(struct controller *);
static bool k8s_source_ready(const struct controller *);
static void event_latency_run(struct controller *);
static void register_unixctl_commands(struct unixctl_server *,
                                      struct controller *);

int
main(int argc, char *argv[])
{
    struct unixctl_server *unixctl;
    struct controller c;

    ovs_cmdl_proctitle_init(argc, argv);
    ovs_set_program_name(argv[0], PACKAGE_VERSION);
    service_start(&argc, &argv);
    fatal_ignore_sigpipe();
    parse_options(argc, argv);

    daemonize_start(false);
    int error = unixctl_server_create(unixctl_path, &unixctl);
    if (error) {
        ovs_fatal(error, "could not create unixctl server");
    }
    daemonize_complete();

    struct cniserver_config ccfg = {
        .conf_dir = cni_conf_dir,
        .ipam_file = ipam_file,
        .run_dir = ovs_rundir(),
        .control_socket = (unixctl_path ? unixctl_server_get_path(unixctl)
                           : NULL),
        .mtu = VSWITCH_OVERLAY_MTU,
    };
    cniserver_init(&ccfg);

    memset(&c, 0, sizeof c);
    k8s_cluster_init(&c.cluster);
    if (state_file) {
        c.state = k8s_state_file_create(state_file);
    } else {
        c.client = k8s_client_create(&client_cfg);
    }
    flow_table_init(&c.flows);
    sset_init(&c.flow_warnings);
    flow_table_init(&c.ex_flows);
    sset_init(&c.hc_services);
    flows_changes_init(&c.changes);
    c.changes.all = true;
    register_unixctl_commands(unixctl, &c);

    vswitch_init(ovsdb_remote);
    char *ofctrl_target = xasprintf("unix:%s/%s.mgmt", ovs_rundir(),
                                    bridge_name);
    c.br_int = ofctrl_create(bridge_name, ofctrl_target);
    set_meters(c.br_int);
    free(ofctrl_target);
    if (external_bridge) {
        c.flows.external = &c.ex_flows;
        ofctrl_target = xasprintf("unix:%s/%s.mgmt", ovs_rundir(),
                                  external_bridge);
        c.br_ex = ofctrl_create(external_bridge, ofctrl_target);
        free(ofctrl_target);
        uplink_init();
        healthcheck_init(NULL);
        c.neighbor_seqno = neighbor_seqno();
    }

    struct vswitch_config vcfg = {
        .bridge = bridge_name,
        .datapath_type = datapath_type,
        .node_name = node_name,
        .tunnel_type = tunnel_type,
        .external_bridge = external_bridge,
    };
    const struct vswitch_ports *ports = vswitch_get_ports();
    c.input = (struct flows_input) {
        .cluster = &c.cluster,
        .node_name = node_name,
        .has_cluster_cidr = has_cluster_cidr,
        .cluster_cidr = cluster_cidr,
        .has_service_cidr = has_service_cidr,
        .service_cidr = service_cidr,
        .pod_ports = &ports->pods,
        .tunnel_ports = &ports->tunnels,
    };

    VLOG_INFO("kovs-controller for node %s, bridge %s, %s %s",
              node_name, bridge_name,
              state_file ? "state file" : "API server",
              state_file ? state_file : client_cfg.server);

    while (!c.exiting) {
        if (c.state) {
            k8s_state_file_run(c.state, &c.cluster);
        } else {
            k8s_client_run(c.client, &c.cluster);
        }

        flows_local_init(&c.input, &c.local);
        check_own_node(&c);
        vcfg.cni_ports = cniserver_ports();
        vcfg.installed = cniserver_installed();
        vcfg.cni_seqno = cniserver_seqno();
        vswitch_run(&vcfg, &c.cluster, &c.local, &c.changes);
        c.input.gateway_ofport = ports->gateway_ofport;

        struct gateway_config gcfg = {
            .ifname = VSWITCH_GATEWAY_NAME,
            .ifindex = ports->gateway_ifindex,
            .local = &c.local,
            .routes = {
                has_cluster_cidr ? &cluster_cidr : NULL,
                has_service_cidr ? &service_cidr : NULL,
            },
        };
        gateway_run(&gcfg, false);
        if (external_bridge) {
            external_run(&c);
        }

        /* Flows are computed only from complete inputs: the Kubernetes
         * state and the switch's configuration.  Until both are there, the
         * switch keeps whatever flows it has. */
        bool ready = k8s_source_ready(&c) && vswitch_is_ready();
        if (ready && (c.changes.all || k8s_cluster_has_changes(&c.cluster)
                      || !sset_is_empty(&c.changes.pods)
                      || !sset_is_empty(&c.changes.nodes)
                      || c.changes.neighbors)) {
            long long int start = time_msec();
            if (c.client && k8s_cluster_has_changes(&c.cluster)
                && !c.event_computed && !c.event_in_flight) {
                c.event_computed = true;
                c.event_msec = k8s_client_last_change_msec(c.client);
            }
            c.last_recomputed = flows_compute_changes(&c.input, &c.changes,
                                                      &c.flows);
            if (!external_bridge) {
                warn_unserved_frontends(&c);
            }
            log_flow_warnings(&c);
            c.last_compute_ms = time_msec() - start;
            c.n_computations++;
            if (external_bridge) {
                healthcheck_update(&c);
            }
            k8s_cluster_clear_changes(&c.cluster);
            flows_changes_clear(&c.changes);
        }

        bool ofctrl_ready = ofctrl_run(c.br_int);
        if (ofctrl_take_datapath_purge(c.br_int)) {
            /* A NetworkPolicy change is in the tables: no packet may keep
             * a verdict the datapath cached from the old ones (see
             * controller/dpcache.h for Open vSwitch 3.1.0's reason). */
            dpcache_purge();
        }
        dpcache_run();
        if (c.br_ex) {
            if (ofctrl_run(c.br_ex) && ready) {
                ofctrl_put(c.br_ex, &c.ex_flows);
            }
            struct ovs_list msgs = OVS_LIST_INITIALIZER(&msgs);
            enum ofp_version version = ofctrl_get_version(c.br_int);
            neighbor_run(version, &msgs);
            if (c.input.external && c.external.gateway_ip && version
                && time_msec() >= c.next_gateway_resolve) {
                /* The default gateway is everybody's next hop: resolve it
                 * before the first packet needs it. */
                neighbor_resolve(c.external.gateway_ip, version, &msgs);
                c.next_gateway_resolve = time_msec() + 10 * 1000;
            }
            struct ofpbuf *msg;
            LIST_FOR_EACH_POP (msg, list_node, &msgs) {
                ofctrl_send_msg(c.br_int, msg);
            }
            healthcheck_run();
        }
        event_latency_run(&c);
        bool put_done = false;
        if (ofctrl_ready && ready) {
            struct ofctrl_stats before, after;

            ofctrl_get_stats(c.br_int, &before);
            put_done = ofctrl_put(c.br_int, &c.flows);
            ofctrl_get_stats(c.br_int, &after);
            if (c.event_computed) {
                /* A change that altered no flow has nothing to wait for. */
                c.event_computed = false;
                c.event_in_flight = after.n_bundles != before.n_bundles;
            }
        }

        struct ofctrl_stats ss;
        ofctrl_get_stats(c.br_int, &ss);
        struct cniserver_input cin = {
            .node_name = node_name,
            .cluster = &c.cluster,
            .local = &c.local,
            .ports = ports,
            .flows = &c.flows,
            .br_int = c.br_int,
            .put_done = put_done,
            .k8s_ready = k8s_source_ready(&c),
            .ovsdb_connected = vswitch_is_connected(),
            .switch_connected = ss.connected,
        };
        cniserver_run(&cin);

        unixctl_server_run(unixctl);

        if (c.state) {
            k8s_state_file_wait(c.state);
        } else {
            k8s_client_wait(c.client);
        }
        vswitch_wait();
        ofctrl_wait(c.br_int);
        dpcache_wait();
        if (c.br_ex) {
            ofctrl_wait(c.br_ex);
            uplink_wait();
            neighbor_wait();
            healthcheck_wait();
        }
        cniserver_wait();
        unixctl_server_wait(unixctl);
        if (c.exiting) {
            poll_immediate_wake();
        }
        poll_block();
    }

    /* The connection goes first: a policy-stats request still pending gets
     * its error reply while its unixctl connection is open. */
    ofctrl_destroy(c.br_int);
    ofctrl_destroy(c.br_ex);
    dpcache_destroy();
    if (external_bridge) {
        healthcheck_destroy();
        neighbor_destroy();
    }
    free(c.neighbors);
    cniserver_destroy();
    unixctl_server_destroy(unixctl);
    vswitch_destroy();
    flows_changes_destroy(&c.changes);
    flow_table_destroy(&c.flows);
    sset_destroy(&c.flow_warnings);
    flow_table_destroy(&c.ex_flows);
    sset_destroy(&c.hc_services);
    k8s_state_file_destroy(c.state);
    k8s_client_destroy(c.client);
    k8s_client_config_destroy(&client_cfg);
    k8s_cluster_destroy(&c.cluster);
    service_stop();
    return 0;
}

/* Returns this node's IPv4 InternalIP, or 0. */
static ovs_be32
node_ip(const struct controller *c)
{
    const struct k8s_object *obj = k8s_cluster_find(&c->cluster, K8S_NODE,
                                                    "", node_name);
    const struct k8s_node *node = obj ? k8s_node_cast(obj) : NULL;
    for (size_t i = 0; node && i < node->n_internal_ips; i++) {
        if (k8s_addr_is_ipv4(&node->internal_ips[i])) {
            return in6_addr_get_mapped_ipv4(&node->internal_ips[i]);
        }
    }
    return 0;
}

/* Brings what the flows know of the external bridge up to date: its ports
 * (from vswitch), the node IP (this node's InternalIP), its subnet and
 * default gateway (from the kernel) and the resolved next hops (from
 * pinctrl).  Without all of them, there are no external flows. */
static void
external_run(struct controller *c)
{
    const struct vswitch_external *vx = &vswitch_get_ports()->external;
    ovs_be32 ip = node_ip(c);
    uplink_run(external_bridge, ip, &c->uplink);

    struct flows_external ex = {
        .patch_ofport = vx->patch_ofport,
        .ex_patch_ofport = vx->ex_patch_ofport,
        .uplink_ofport = vx->uplink_ofport,
        .mac = vx->mac,
        .node_ip = ip,
        .subnet_mask = c->uplink.subnet_mask,
        .gateway_ip = c->uplink.gateway_ip,
        .neighbors = c->external.neighbors,
        .n_neighbors = c->external.n_neighbors,
    };
    /* vswitch_run() asks for a full recomputation when the ports or the
     * MAC change; what this adds to them needs one too. */
    bool ready = vx->ready && ip && c->uplink.valid;
    const struct flows_external *old = &c->external;
    if (ready != (c->input.external != NULL) || ex.node_ip != old->node_ip
        || ex.subnet_mask != old->subnet_mask
        || ex.gateway_ip != old->gateway_ip) {
        c->changes.all = true;
    }
    c->external = ex;
    c->input.external = ready ? &c->external : NULL;

    struct neighbor_config ncfg = {
        .node_ip = ready ? ip : 0,
        .mac = vx->mac,
        .out_port = vx->patch_ofport,
        .kernel_dev = external_bridge,
    };
    neighbor_configure(&ncfg);
    uint64_t seqno = neighbor_seqno();
    if (seqno != c->neighbor_seqno) {
        c->neighbor_seqno = seqno;
        free(c->neighbors);
        c->external.n_neighbors = neighbor_get(&c->neighbors);
        c->external.neighbors = c->neighbors;
        c->changes.neighbors = true;
    }
}

/* Gives 'of' (br-int's ofctrl) the pipeline's meters (flows/pipeline.h):
 * packets per second, with a burst, and a band that drops the excess. */
static void
set_meters(struct ofctrl *of)
{
    struct ofputil_meter_config *meters = xcalloc(kovs_n_meters,
                                                  sizeof *meters);
    struct ofputil_meter_band *bands = xcalloc(kovs_n_meters,
                                               sizeof *bands);
    for (size_t i = 0; i < kovs_n_meters; i++) {
        bands[i] = (struct ofputil_meter_band) {
            .type = OFPMBT13_DROP,
            .rate = kovs_meters[i].pktps,
            .burst_size = kovs_meters[i].burst,
        };
        meters[i] = (struct ofputil_meter_config) {
            .meter_id = kovs_meters[i].id,
            .flags = OFPMF13_PKTPS | OFPMF13_BURST | OFPMF13_STATS,
            .n_bands = 1,
            .bands = &bands[i],
        };
    }
    ofctrl_set_meters(of, meters, kovs_n_meters);
    free(bands);
    free(meters);
}

/* Logs, for each changed Service that asks for traffic from outside the
 * cluster, that this node does not serve it: only an external bridge
 * (--external-bridge) gives NodePorts, external IPs and LoadBalancer
 * IPs. */
static void
warn_unserved_frontends(const struct controller *c)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
    const struct k8s_change *change;
    K8S_CHANGE_FOR_EACH (change, &c->cluster) {
        if (change->kind != K8S_SERVICE || !change->new) {
            continue;
        }
        const struct k8s_service *svc = k8s_service_cast(change->new);
        bool node_ports = false;
        for (size_t i = 0; i < svc->n_ports; i++) {
            node_ports |= svc->ports[i].node_port != 0;
        }
        if ((node_ports || svc->n_external_ips || svc->n_lb_ingress)
            && service_is_proxied(svc)) {
            VLOG_INFO_RL(&rl, "service %s/%s: its NodePorts, external IPs "
                         "and LoadBalancer IPs are not served on this node: "
                         "kovs-controller runs without --external-bridge",
                         change->namespace, change->name);
        }
    }
}

/* Logs, when it changes, whether this node's own Node object gives kovs
 * a pod network: without one (no Node object yet, or no podCIDR with room
 * for a gateway and pods) the node's pods get no flows. */
static void
check_own_node(struct controller *c)
{
    enum { OWN_NODE_UNKNOWN, OWN_NODE_MISSING, OWN_NODE_NO_CIDR, OWN_NODE_OK };
    const struct k8s_object *obj = k8s_cluster_find(&c->cluster, K8S_NODE,
                                                    "", node_name);
    int state = (!k8s_source_ready(c) ? OWN_NODE_UNKNOWN
                 : !obj ? OWN_NODE_MISSING
                 : !c->local.valid ? OWN_NODE_NO_CIDR
                 : OWN_NODE_OK);
    if (state == c->own_node_state) {
        return;
    }
    c->own_node_state = state;

    if (state == OWN_NODE_MISSING) {
        VLOG_WARN("Node %s: no such Node object: this node's pods get no "
                  "flows until it exists (is --node-name right?)", node_name);
    } else if (state == OWN_NODE_NO_CIDR) {
        const struct k8s_node *node = k8s_node_cast(obj);
        struct ds cidrs = DS_EMPTY_INITIALIZER;
        for (size_t i = 0; i < node->n_pod_cidrs; i++) {
            ds_put_format(&cidrs, "%s", i ? ", " : "");
            ipv6_format_mapped(&node->pod_cidrs[i].addr, &cidrs);
            ds_put_format(&cidrs, "/%u", node->pod_cidrs[i].plen);
        }
        VLOG_WARN("Node %s: spec.podCIDRs (%s) has no IPv4 prefix of length "
                  "30 or less, which a gateway and pods need: this node's "
                  "pods get no flows", node_name,
                  cidrs.length ? ds_cstr(&cidrs) : "none");
        ds_destroy(&cidrs);
    } else if (state == OWN_NODE_OK) {
        VLOG_INFO("Node %s: pod network "IP_FMT"/%u, gateway "IP_FMT,
                  node_name, IP_ARGS(c->local.pod_net),
                  c->local.pod_cidr.plen, IP_ARGS(c->local.gateway_ip));
    }
}

/* Returns true if 'svc' has a health check node port that kovs serves: a
 * LoadBalancer with externalTrafficPolicy Local. */
static bool
service_has_health_check(const struct k8s_service *svc)
{
    return (svc->health_check_node_port
            && svc->external_traffic_policy == K8S_POLICY_LOCAL
            && svc->type == K8S_SVC_LOAD_BALANCER
            && service_is_proxied(svc));
}

/* Logs each warning of the flow table that was not there after the last
 * computation: an object that asks for what kovs cannot honour is named
 * once, however often it is recomputed, and again if the problem goes
 * away and comes back. */
static void
log_flow_warnings(struct controller *c)
{
    const struct sset *warnings = &c->flows.warnings;
    if (sset_is_empty(warnings) && sset_is_empty(&c->flow_warnings)) {
        return;
    }

    const char *warning;
    SSET_FOR_EACH (warning, warnings) {
        if (!sset_contains(&c->flow_warnings, warning)) {
            VLOG_WARN("%s", warning);
        }
    }
    sset_destroy(&c->flow_warnings);
    sset_clone(&c->flow_warnings, warnings);
}

/* Serves the health check node port of every Service that has one, with
 * its number of local endpoints.  Only the Services that changed are
 * looked at again (all of them after a full recomputation); an update
 * without a Service or EndpointSlice change leaves the server alone. */
static void
healthcheck_update(struct controller *c)
{
    bool changed = c->changes.all;
    if (c->changes.all) {
        sset_clear(&c->hc_services);
        const struct k8s_object *obj;
        K8S_CLUSTER_FOR_EACH (obj, K8S_SERVICE, &c->cluster) {
            if (service_has_health_check(k8s_service_cast(obj))) {
                sset_add_and_free(&c->hc_services, xasprintf(
                                      "%s/%s", obj->namespace, obj->name));
            }
        }
    } else {
        const struct k8s_change *change;
        K8S_CHANGE_FOR_EACH (change, &c->cluster) {
            if (change->kind == K8S_ENDPOINT_SLICE) {
                changed = true;
            } else if (change->kind == K8S_SERVICE) {
                changed = true;
                char *key = xasprintf("%s/%s", change->namespace,
                                      change->name);
                if (change->new && service_has_health_check(
                        k8s_service_cast(change->new))) {
                    sset_add(&c->hc_services, key);
                } else {
                    sset_find_and_delete(&c->hc_services, key);
                }
                free(key);
            }
        }
    }
    if (!changed) {
        return;
    }

    healthcheck_start_update();
    const char *key;
    SSET_FOR_EACH (key, &c->hc_services) {
        const char *slash = strchr(key, '/');
        char *namespace = xmemdup0(key, slash - key);
        const struct k8s_service *svc = k8s_service_cast(
            k8s_cluster_find(&c->cluster, K8S_SERVICE, namespace, slash + 1));
        healthcheck_set(svc->health_check_node_port, namespace, slash + 1,
                        service_count_local_ready(&c->cluster, svc,
                                                  node_name));
        free(namespace);
    }
    healthcheck_finish_update();
}

/* Returns true once the source of the Kubernetes state has given a
 * complete picture of the cluster. */
static bool
k8s_source_ready(const struct controller *c)
{
    return (c->state
            ? k8s_state_file_n_reads(c->state) > 0
            : k8s_client_is_synced(c->client));
}

/* Once the bundle carrying the flows of an API change is acknowledged by
 * its barrier reply, records how long that took from reading the change. */
static void
event_latency_run(struct controller *c)
{
    struct ofctrl_stats s;

    if (!c->event_in_flight) {
        return;
    }
    ofctrl_get_stats(c->br_int, &s);
    if (!s.connected) {
        /* The bundle is lost with the connection; the resynchronization
         * will install the flows, but that is not this measurement. */
        c->event_in_flight = false;
    } else if (!s.in_flight) {
        long long int latency = time_msec() - c->event_msec;

        c->event_in_flight = false;
        c->last_event_latency_ms = latency;
        c->max_event_latency_ms = MAX(c->max_event_latency_ms, latency);
        VLOG_DBG("API change installed %lld ms after it was read", latency);
    }
}

/* unixctl commands. */

struct policy_stats_request {
    struct unixctl_conn *conn;
    struct controller *c;
};

static void
kovs_unixctl_exit(struct unixctl_conn *conn, int argc OVS_UNUSED,
                  const char *argv[] OVS_UNUSED, void *c_)
{
    struct controller *c = c_;
    c->exiting = true;
    unixctl_command_reply(conn, NULL);
}

static void
kovs_unixctl_connection_status(struct unixctl_conn *conn,
                               int argc OVS_UNUSED,
                               const char *argv[] OVS_UNUSED, void *c_)
{
    struct controller *c = c_;
    struct ds ds = DS_EMPTY_INITIALIZER;

    ds_put_cstr(&ds, "openflow: ");
    ofctrl_format_connection(c->br_int, &ds);
    ds_put_format(&ds, "\novsdb: %s: %s\n", ovsdb_remote,
                  vswitch_is_connected() ? "connected" : "not connected");
    unixctl_command_reply(conn, ds_cstr(&ds));
    ds_destroy(&ds);
}

static void
kovs_unixctl_recompute(struct unixctl_conn *conn, int argc OVS_UNUSED,
                       const char *argv[] OVS_UNUSED, void *c_)
{
    struct controller *c = c_;
    c->changes.all = true;
    ofctrl_force_resync(c->br_int);
    poll_immediate_wake();
    unixctl_command_reply(conn, NULL);
}

static void
kovs_unixctl_status(struct unixctl_conn *conn, int argc OVS_UNUSED,
                    const char *argv[] OVS_UNUSED, void *c_)
{
    struct controller *c = c_;
    struct ds ds = DS_EMPTY_INITIALIZER;
    struct ofctrl_stats s;

    ofctrl_get_stats(c->br_int, &s);
    ds_put_format(&ds, "node: %s\n", node_name);
    if (c->state) {
        ds_put_format(&ds, "state file: %s (%u reads)\n", state_file,
                      k8s_state_file_n_reads(c->state));
    } else {
        k8s_client_format_status(c->client, &ds);
        ds_put_format(&ds, "api change to install latency: last %lld ms, "
                      "max %lld ms\n", c->last_event_latency_ms,
                      c->max_event_latency_ms);
    }
    for (int kind = 0; kind < K8S_N_KINDS; kind++) {
        ds_put_format(&ds, "objects %s: %"PRIuSIZE"\n",
                      k8s_kind_name(kind),
                      k8s_cluster_count(&c->cluster, kind));
    }
    if (c->local.valid) {
        ds_put_format(&ds, "gateway: "IP_FMT"/%u "ETH_ADDR_FMT" port %d%s\n",
                      IP_ARGS(c->local.gateway_ip), c->local.pod_cidr.plen,
                      ETH_ADDR_ARGS(c->local.gateway_mac),
                      ofp_to_u16(c->input.gateway_ofport),
                      gateway_is_configured() ? "" : " (not configured)");
    } else {
        ds_put_cstr(&ds, "gateway: none (this node has no IPv4 podCIDR)\n");
    }
    ds_put_format(&ds, "pod ports: %"PRIuSIZE"\n",
                  shash_count(c->input.pod_ports));
    cniserver_format_status(&ds);
    ds_put_format(&ds, "tunnel ports: %"PRIuSIZE"\n",
                  shash_count(c->input.tunnel_ports));
    ds_put_format(&ds, "desired flows: %"PRIuSIZE"\n",
                  flow_table_count(&c->flows));
    ds_put_format(&ds, "installed flows: %"PRIuSIZE"\n", s.n_installed);
    ds_put_format(&ds, "desired groups: %"PRIuSIZE"\n",
                  hmap_count(&c->flows.groups));
    ds_put_format(&ds, "installed groups: %"PRIuSIZE"\n",
                  s.n_installed_groups);
    ds_put_format(&ds, "switch: %s\n", s.connected ? "connected"
                  : "not connected");
    ds_put_format(&ds, "meters: %"PRIuSIZE" desired, %"PRIuSIZE" installed, "
                  "%"PRIu64" meter-mods in all\n", s.n_desired_meters,
                  s.n_installed_meters, s.total_meter_mods);
    ds_put_format(&ds, "computations: %"PRIu64"\n", c->n_computations);
    ds_put_format(&ds, "last computation: %"PRIuSIZE" owners in %lld ms\n",
                  c->last_recomputed, c->last_compute_ms);
    ds_put_format(&ds, "last update flow-mods: %"PRIuSIZE"\n",
                  s.last_flow_mods);
    ds_put_format(&ds, "last update group-mods: %"PRIuSIZE"\n",
                  s.last_group_mods);
    ds_put_format(&ds, "total flow-mods: %"PRIu64"\n", s.total_flow_mods);
    ds_put_format(&ds, "total group-mods: %"PRIu64"\n",
                  s.total_group_mods);
    ds_put_format(&ds, "bundles: %"PRIu64"\n", s.n_bundles);
    ds_put_format(&ds, "full syncs: %"PRIu64"\n", s.n_full_syncs);
    ds_put_format(&ds, "install latency: last %lld ms, max %lld ms%s\n",
                  s.last_latency_ms, s.max_latency_ms,
                  s.in_flight ? " (a bundle is in flight)" : "");
    dpcache_format_status(&ds);

    struct pinctrl_stats ps;
    pinctrl_get_stats(&ps);
    ds_put_format(&ds, "packet-ins: %"PRIu64" (rejected with TCP RST %"
                  PRIu64", with ICMP port unreachable %"PRIu64
                  ", next hops to resolve %"PRIu64", ARP learned %"PRIu64
                  ", ignored %"PRIu64")\n", ps.n_packet_ins,
                  ps.n_tcp_resets, ps.n_icmp_unreachables, ps.n_resolves,
                  ps.n_arp_learned, ps.n_ignored);

    if (external_bridge) {
        const struct flows_external *ex = &c->external;
        ds_put_format(&ds, "external bridge %s: ", external_bridge);
        if (c->input.external) {
            ds_put_format(&ds, "node IP "IP_FMT"/%d, MAC "ETH_ADDR_FMT
                          ", uplink port %d, patch port %d, ",
                          IP_ARGS(ex->node_ip),
                          ip_count_cidr_bits(ex->subnet_mask),
                          ETH_ADDR_ARGS(ex->mac),
                          ofp_to_u16(ex->uplink_ofport),
                          ofp_to_u16(ex->patch_ofport));
            if (ex->gateway_ip) {
                ds_put_format(&ds, "gateway "IP_FMT"\n",
                              IP_ARGS(ex->gateway_ip));
            } else {
                ds_put_cstr(&ds, "no gateway\n");
            }
        } else {
            ds_put_cstr(&ds, "not ready (see the log)\n");
        }
        ofctrl_get_stats(c->br_ex, &s);
        ds_put_format(&ds, "%s flows: %"PRIuSIZE" desired, %"PRIuSIZE
                      " installed\n", external_bridge,
                      flow_table_count(&c->ex_flows), s.n_installed);
        ds_put_format(&ds, "neighbors: %"PRIuSIZE" resolved\n",
                      c->external.n_neighbors);
        healthcheck_format(&ds);
    }
    unixctl_command_reply(conn, ds_cstr(&ds));
    ds_destroy(&ds);
}

/* "neighbors": the next hops on the external network and their MACs. */
static void
kovs_unixctl_neighbors(struct unixctl_conn *conn, int argc OVS_UNUSED,
                       const char *argv[] OVS_UNUSED, void *c_ OVS_UNUSED)
{
    struct ds ds = DS_EMPTY_INITIALIZER;
    if (!external_bridge) {
        unixctl_command_reply_error(conn, "no external bridge "
                                    "(--external-bridge)");
        return;
    }
    neighbor_format(&ds);
    unixctl_command_reply(conn, ds_cstr(&ds));
    ds_destroy(&ds);
}

/* "policy-stats": for each NetworkPolicy rule, the new connections it
 * allowed, and for each isolated pod the packets dropped, from the
 * switch's counters. */
static void
policy_stats_reply(const struct ofctrl_flow_stat *stats, size_t n,
                   const char *error, void *aux)
{
    struct policy_stats_request *req = aux;
    struct controller *c = req->c;
    if (error) {
        unixctl_command_reply_error(req->conn, error);
        free(req);
        return;
    }

    struct svec lines = SVEC_EMPTY_INITIALIZER;
    for (size_t i = 0; i < n; i++) {
        const struct ofctrl_flow_stat *st = &stats[i];
        const char *dir = (st->table_id == KOVS_T_INGRESS_POLICY ? "ingress"
                           : st->table_id == KOVS_T_EGRESS_POLICY ? "egress"
                           : NULL);
        if (!dir) {
            continue;
        }
        if (st->match.wc.masks.conj_id) {
            const char *key = flow_table_conj_id_key(&c->flows,
                                                     st->match.flow.conj_id);
            svec_add_nocopy(&lines, xasprintf(
                "rule %s: %"PRIu64" connections allowed",
                key ? key : "(unknown)", st->n_packets));
        } else if (st->priority == KOVS_PRIO_POLICY_DROP) {
            ofp_port_t port = (st->table_id == KOVS_T_INGRESS_POLICY
                               ? u16_to_ofp(kovs_field_get(
                                     &st->match.flow, KOVS_F_OUT_PORT))
                               : st->match.flow.in_port.ofp_port);
            const char *pod = "(unknown pod)";
            struct shash_node *node;
            SHASH_FOR_EACH (node, c->input.pod_ports) {
                const struct flows_port *p = node->data;
                if (p->ofport == port) {
                    pod = node->name;
                    break;
                }
            }
            svec_add_nocopy(&lines, xasprintf(
                "pod %s %s: %"PRIu64" packets dropped", pod, dir,
                st->n_packets));
        }
    }
    svec_sort(&lines);

    struct ds ds = DS_EMPTY_INITIALIZER;
    for (size_t i = 0; i < lines.n; i++) {
        ds_put_format(&ds, "%s\n", lines.names[i]);
    }
    unixctl_command_reply(req->conn, ds_cstr(&ds));
    ds_destroy(&ds);
    svec_destroy(&lines);
    free(req);
}

static void
kovs_unixctl_policy_stats(struct unixctl_conn *conn, int argc OVS_UNUSED,
                          const char *argv[] OVS_UNUSED, void *c_)
{
    struct controller *c = c_;
    struct policy_stats_request *req = xmalloc(sizeof *req);
    req->conn = conn;
    req->c = c;
    if (!ofctrl_request_flow_stats(
            c->br_int,
            (uint64_t) KOVS_OWNER_POLICY << KOVS_COOKIE_KIND_SHIFT,
            ~KOVS_COOKIE_ID_MASK, policy_stats_reply, req)) {
        free(req);
        unixctl_command_reply_error(conn, "not connected to the switch, or "
                                    "a request is already pending");
    }
}

/* "flow-summary": the number of desired flows in each table of br-int and
 * br-ex, with the table's name, a flow that several owners want counted
 * once (as the switch holds it). */
static void
kovs_unixctl_flow_summary(struct unixctl_conn *conn, int argc OVS_UNUSED,
                          const char *argv[] OVS_UNUSED, void *c_)
{
    struct controller *c = c_;
    struct ds ds = DS_EMPTY_INITIALIZER;

    kovs_pipeline_summary(&c->flows, c->flows.external, &ds);
    unixctl_command_reply(conn, ds_cstr(&ds));
    ds_destroy(&ds);
}

/* "cookie KIND [NAMESPACE/]NAME": the cookie of an object's flows, for
 * 'ovs-ofctl dump-flows br-int cookie=C/-1'. */
static void
kovs_unixctl_cookie(struct unixctl_conn *conn, int argc OVS_UNUSED,
                    const char *argv[], void *c_ OVS_UNUSED)
{
    enum kovs_owner_kind kind;
    if (!kovs_owner_kind_from_name(argv[1], &kind)) {
        struct ds ds = DS_EMPTY_INITIALIZER;
        ds_put_format(&ds, "%s: unknown kind; the kinds are", argv[1]);
        for (int k = 0; k < 256; k++) {
            const char *name = kovs_owner_kind_name(k);
            if (name) {
                ds_put_format(&ds, " %s", name);
            }
        }
        unixctl_command_reply_error(conn, ds_cstr(&ds));
        ds_destroy(&ds);
        return;
    }

    uint64_t cookie;
    if (kind == KOVS_OWNER_PIPELINE) {
        cookie = KOVS_COOKIE_PIPELINE;
    } else {
        const char *slash = strchr(argv[2] ? argv[2] : "", '/');
        if (!argv[2]) {
            unixctl_command_reply_error(conn, "name required");
            return;
        }
        if (slash) {
            char *ns = xmemdup0(argv[2], slash - argv[2]);
            cookie = kovs_cookie(kind, ns, slash + 1);
            free(ns);
        } else {
            cookie = kovs_cookie(kind, NULL, argv[2]);
        }
    }
    char *reply = xasprintf("0x%"PRIx64, cookie);
    unixctl_command_reply(conn, reply);
    free(reply);
}

static void
register_unixctl_commands(struct unixctl_server *unixctl OVS_UNUSED,
                          struct controller *c)
{
    unixctl_command_register("exit", "", 0, 0, kovs_unixctl_exit, c);
    unixctl_command_register("connection-status", "", 0, 0,
                             kovs_unixctl_connection_status, c);
    unixctl_command_register("recompute", "", 0, 0, kovs_unixctl_recompute,
                             c);
    unixctl_command_register("status", "", 0, 0, kovs_unixctl_status, c);
    unixctl_command_register("neighbors", "", 0, 0, kovs_unixctl_neighbors,
                             c);
    unixctl_command_register("policy-stats", "", 0, 0,
                             kovs_unixctl_policy_stats, c);
    unixctl_command_register("flow-summary", "", 0, 0,
                             kovs_unixctl_flow_summary, c);
    unixctl_command_register("cookie", "KIND [NAMESPACE/]NAME", 1, 2,
                             kovs_unixctl_cookie, c);
}

/* Command line. */

OVS_NO_RETURN static void usage(void);

static void
usage(void)
{
    printf("%s: Kubernetes networking on Open vSwitch\n"
           "usage: %s [OPTIONS] [OVSDB]\n"
           "\n"
           "OVSDB is the switch's database (default: unix:%s/db.sock).\n"
           "The Kubernetes state comes from --k8s-state, else --kubeconfig,"
           " else, in a\n"
           "pod, the service account (KUBERNETES_SERVICE_HOST and _PORT,"
           " token and CA),\n"
           "else --k8s-api.\n"
           "\n"
           "Options:\n"
           "  --node-name=NAME        this node's Kubernetes name"
           " (default: host name)\n"
           "  --k8s-state=FILE        read the cluster from FILE, a List as"
           " 'kubectl get\n"
           "                          ... -o json' prints it\n"
           "  --kubeconfig=FILE       list and watch the API server of"
           " FILE's current\n"
           "                          context\n"
           "  --k8s-api=URL           the API server's URL (overrides the"
           " kubeconfig's\n"
           "                          or the in-cluster address)\n"
           "  --k8s-token-file=FILE   bearer token for the API server,"
           " re-read as it\n"
           "                          rotates\n"
           "  --k8s-ca-file=FILE      the API server's CA certificates"
           " (default: the\n"
           "                          system's)\n"
           "  --k8s-watch-timeout=SECS  renew watches after SECS to"
           " 1.5*SECS seconds\n"
           "                          (default 300)\n"
           "  --bridge=NAME           integration bridge (default: br-int)\n"
           "  --datapath-type=TYPE    system or netdev, for a bridge kovs"
           " creates\n"
           "  --cluster-cidr=CIDR     the cluster's pod network\n"
           "  --service-cidr=CIDR     the cluster's Service network\n"
           "  --tunnel-type=TYPE      vxlan (default)\n"
           "  --external-bridge=NAME  the bridge with the uplink and the node IP\n"
           "                          (usually br-ex): SNAT, NodePorts, external\n"
           "                          and LoadBalancer IPs\n"
           "  --cni-conf-dir=DIR      write the CNI configuration list"
           " there once ready\n"
           "                          (default: /etc/cni/net.d; empty:"
           " nowhere)\n"
           "  --ipam-file=FILE        keep kovs-cni's pod addresses in FILE\n"
           "                          (default: %s/kovs-ipam.json)\n"
           "  --unixctl=SOCKET        override default control socket name\n"
           "  -h, --help              display this help message\n"
           "  -V, --version           display version information\n",
           program_name, program_name, ovs_rundir(), ovs_dbdir());
    daemon_usage();
    vlog_usage();
    exit(EXIT_SUCCESS);
}

static void
parse_cidr_option(const char *option, const char *arg, struct k8s_cidr *c)
{
    char *error = k8s_parse_cidr_option(option, arg, c);
    if (error) {
        ovs_fatal(0, "%s", error);
    }
}

/* Returns 'file_name' made absolute, relative to the current directory, in
 * memory the caller frees. */
static char *
absolute_file_name(const char *file_name)
{
    char *abs = abs_file_name(NULL, file_name);
    return abs ? abs : xstrdup(file_name);
}

/* Works out, from the options and the environment, where the Kubernetes
 * state comes from: a state file, or an API server reached through a
 * kubeconfig, the pod's service account, or explicit options. */
static void
configure_k8s_source(void)
{
    char *error;

    if (state_file) {
        if (kubeconfig || k8s_api || k8s_token_file || k8s_ca_file) {
            ovs_fatal(0, "--k8s-state cannot be combined with --kubeconfig, "
                      "--k8s-api, --k8s-token-file or --k8s-ca-file");
        }
        return;
    }

    k8s_client_config_init(&client_cfg);
    if (kubeconfig) {
        if (k8s_client_config_from_kubeconfig(kubeconfig, &client_cfg,
                                              &error)) {
            ovs_fatal(0, "%s", error);
        }
    } else if (getenv("KUBERNETES_SERVICE_HOST")) {
        if (k8s_client_config_in_cluster(NULL, &client_cfg, &error)) {
            ovs_fatal(0, "%s", error);
        }
    } else if (!k8s_api) {
        ovs_fatal(0, "no source of Kubernetes state: use --k8s-state=FILE, "
                  "--kubeconfig=FILE or --k8s-api=URL, or run in a pod");
    }

    if (k8s_api
        && k8s_client_config_set_server(&client_cfg, k8s_api, &error)) {
        ovs_fatal(0, "--k8s-api=%s: %s", k8s_api, error);
    }
    /* The daemon may change directory: file names are made absolute. */
    if (k8s_token_file) {
        free(client_cfg.token);
        client_cfg.token = NULL;
        free(client_cfg.token_file);
        client_cfg.token_file = absolute_file_name(k8s_token_file);
    }
    if (k8s_ca_file) {
        free(client_cfg.ca_data);
        client_cfg.ca_data = NULL;
        free(client_cfg.ca_file);
        client_cfg.ca_file = absolute_file_name(k8s_ca_file);
    }
    client_cfg.watch_timeout = k8s_watch_timeout;
    if (k8s_client_config_check(&client_cfg, &error)) {
        ovs_fatal(0, "%s", error);
    }
}

static void
parse_options(int argc, char *argv[])
{
    enum {
        OPT_NODE_NAME = UCHAR_MAX + 1,
        OPT_K8S_STATE,
        OPT_KUBECONFIG,
        OPT_K8S_API,
        OPT_K8S_TOKEN_FILE,
        OPT_K8S_CA_FILE,
        OPT_K8S_WATCH_TIMEOUT,
        OPT_BRIDGE,
        OPT_DATAPATH_TYPE,
        OPT_CLUSTER_CIDR,
        OPT_SERVICE_CIDR,
        OPT_TUNNEL_TYPE,
        OPT_EXTERNAL_BRIDGE,
        OPT_UNIXCTL,
        OPT_CNI_CONF_DIR,
        OPT_IPAM_FILE,
        DAEMON_OPTION_ENUMS,
        VLOG_OPTION_ENUMS,
    };
    static const struct option long_options[] = {
        {"node-name", required_argument, NULL, OPT_NODE_NAME},
        {"k8s-state", required_argument, NULL, OPT_K8S_STATE},
        {"kubeconfig", required_argument, NULL, OPT_KUBECONFIG},
        {"k8s-api", required_argument, NULL, OPT_K8S_API},
        {"k8s-token-file", required_argument, NULL, OPT_K8S_TOKEN_FILE},
        {"k8s-ca-file", required_argument, NULL, OPT_K8S_CA_FILE},
        {"k8s-watch-timeout", required_argument, NULL,
         OPT_K8S_WATCH_TIMEOUT},
        {"bridge", required_argument, NULL, OPT_BRIDGE},
        {"datapath-type", required_argument, NULL, OPT_DATAPATH_TYPE},
        {"cluster-cidr", required_argument, NULL, OPT_CLUSTER_CIDR},
        {"service-cidr", required_argument, NULL, OPT_SERVICE_CIDR},
        {"tunnel-type", required_argument, NULL, OPT_TUNNEL_TYPE},
        {"external-bridge", required_argument, NULL, OPT_EXTERNAL_BRIDGE},
        {"unixctl", required_argument, NULL, OPT_UNIXCTL},
        {"cni-conf-dir", required_argument, NULL, OPT_CNI_CONF_DIR},
        {"ipam-file", required_argument, NULL, OPT_IPAM_FILE},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        DAEMON_LONG_OPTIONS,
        VLOG_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    char *short_options = ovs_cmdl_long_options_to_short_options(long_options);

    for (;;) {
        int c = getopt_long(argc, argv, short_options, long_options, NULL);
        if (c == -1) {
            break;
        }

        switch (c) {
        case OPT_NODE_NAME:
            node_name = xstrdup(optarg);
            break;
        case OPT_K8S_STATE:
            state_file = xstrdup(optarg);
            break;
        case OPT_KUBECONFIG:
            kubeconfig = xstrdup(optarg);
            break;
        case OPT_K8S_API:
            k8s_api = xstrdup(optarg);
            break;
        case OPT_K8S_TOKEN_FILE:
            k8s_token_file = xstrdup(optarg);
            break;
        case OPT_K8S_CA_FILE:
            k8s_ca_file = xstrdup(optarg);
            break;
        case OPT_K8S_WATCH_TIMEOUT:
            if (!str_to_int(optarg, 10, &k8s_watch_timeout)
                || k8s_watch_timeout < 1) {
                ovs_fatal(0, "--k8s-watch-timeout=%s: expected a positive "
                          "number of seconds", optarg);
            }
            break;
        case OPT_BRIDGE:
            bridge_name = xstrdup(optarg);
            break;
        case OPT_DATAPATH_TYPE:
            if (strcmp(optarg, "system") && strcmp(optarg, "netdev")) {
                ovs_fatal(0, "--datapath-type=%s: must be system or netdev",
                          optarg);
            }
            datapath_type = xstrdup(optarg);
            break;
        case OPT_CLUSTER_CIDR:
            parse_cidr_option("cluster-cidr", optarg, &cluster_cidr);
            has_cluster_cidr = true;
            break;
        case OPT_SERVICE_CIDR:
            parse_cidr_option("service-cidr", optarg, &service_cidr);
            has_service_cidr = true;
            break;
        case OPT_TUNNEL_TYPE:
            if (strcmp(optarg, "vxlan")) {
                ovs_fatal(0, "--tunnel-type=%s: only vxlan is supported",
                          optarg);
            }
            tunnel_type = xstrdup(optarg);
            break;
        case OPT_EXTERNAL_BRIDGE:
            external_bridge = optarg;
            break;

        case OPT_UNIXCTL:
            unixctl_path = xstrdup(optarg);
            break;
        case OPT_CNI_CONF_DIR:
            /* The daemon may change directory. */
            cni_conf_dir = optarg[0] ? absolute_file_name(optarg) : "";
            break;
        case OPT_IPAM_FILE:
            ipam_file = absolute_file_name(optarg);
            break;
        case 'h':
            usage();
        case 'V':
            ovs_print_version(0, 0);
            exit(EXIT_SUCCESS);
        DAEMON_OPTION_HANDLERS
        VLOG_OPTION_HANDLERS
        case '?':
            exit(EXIT_FAILURE);
        default:
            abort();
        }
    }
    free(short_options);

    argc -= optind;
    argv += optind;
    if (argc > 1) {
        ovs_fatal(0, "at most one non-option argument (the OVSDB remote) "
                  "is allowed; use --help for usage");
    }
    ovsdb_remote = (argc == 1 ? xstrdup(argv[0])
                    : xasprintf("unix:%s/db.sock", ovs_rundir()));

    if (!node_name) {
        char hostname[256];
        if (gethostname(hostname, sizeof hostname)) {
            ovs_fatal(errno, "cannot get the host name; use --node-name");
        }
        hostname[sizeof hostname - 1] = '\0';
        node_name = xstrdup(hostname);
    }
    if (!ipam_file) {
        ipam_file = xasprintf("%s/kovs-ipam.json", ovs_dbdir());
    }
    configure_k8s_source();
}
