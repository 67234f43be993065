/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#include <config.h>

#include <stdlib.h>
#include "command-line.h"
#include "controller/cniserver.h"
#include "controller/controller.h"
#include "controller/controller-metrics.h"
#include "controller/dpcache.h"
#include "controller/engine.h"
#include "controller/external-bridge.h"
#include "controller/gateway.h"
#include "controller/np-log.h"
#include "controller/ofctrl.h"
#include "controller/options.h"
#include "controller/pinctrl.h"
#include "controller/recompute-check.h"
#include "controller/sync-log.h"
#include "k8s/k8s-decode.h"
#include "controller/vswitch.h"
#include "daemon.h"
#include "dirs.h"
#include "fatal-signal.h"
#include "memory.h"
#include "flows/flow-table.h"
#include "flows/flows.h"
#include "flows/pipeline.h"
#include "k8s/k8s-client.h"
#include "k8s/k8s-model.h"
#include "k8s/k8s-state.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/ofp-meter.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "packets.h"
#include "simap.h"
#include "timeval.h"
#include "unixctl.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(kovs_controller);

static ovs_be32 own_node_ipv4(const struct controller *);
static const struct in6_addr *own_node_ipv6(const struct controller *);
static void set_meters(struct ofctrl *, const struct controller_options *);
static void check_own_node(struct controller *);
static void log_flow_warnings(struct controller *);
static void event_latency_run(struct controller *);
static void put_ahead(void *controller);

int
main(int argc, char *argv[])
{
    struct controller_options opts;
    struct unixctl_server *unixctl;
    struct controller c;

    ovs_cmdl_proctitle_init(argc, argv);
    ovs_set_program_name(argv[0], PACKAGE_VERSION);
    service_start(&argc, &argv);
    fatal_ignore_sigpipe();
    controller_options_parse(&opts, argc, argv);

    daemonize_start(false);
    int error = unixctl_server_create(opts.unixctl_path, &unixctl);
    if (error) {
        ovs_fatal(error, "could not create unixctl server");
    }
    daemonize_complete();

    struct cniserver_config ccfg = {
        .conf_dir = opts.cni_conf_dir,
        .ipam_file = opts.ipam_file,
        .run_dir = ovs_rundir(),
        .control_socket = (opts.unixctl_path
                           ? unixctl_server_get_path(unixctl) : NULL),
        .mtu = opts.mtu,
    };
    cniserver_init(&ccfg);

    memset(&c, 0, sizeof c);
    c.opts = &opts;
    k8s_cluster_init(&c.cluster);
    if (opts.state_file) {
        c.state = k8s_state_file_create(opts.state_file);
    } else {
        c.client = k8s_client_create(&opts.client_cfg);
    }
    flow_table_init(&c.flows);
    sset_init(&c.flow_warnings);
    engine_init(&c.engine, opts.node_name, &c.cluster);
    controller_commands_register(&c);
    controller_metrics_init(&c);

    c.vswitch = vswitch_create(opts.ovsdb_remote);
    char *ofctrl_target = xasprintf("unix:%s/%s.mgmt", ovs_rundir(),
                                    opts.bridge_name);
    if (opts.external_bridge) {
        c.br_ex = external_bridge_create(opts.external_bridge);
    }
    /* Packets leaving through br-ex ask br-ex's neighbor table for their
     * next hop's MAC from br-int. */
    c.br_int = ofctrl_create(opts.bridge_name, ofctrl_target,
                             pinctrl_handle_packet_in,
                             c.br_ex ? &c.br_ex->neighbor_table : NULL);
    ofctrl_set_stale_flow_flush(c.br_int, flows_ct_flush_for_flow);
    set_meters(c.br_int, &opts);
    free(ofctrl_target);
    recompute_check_register(&(struct recompute_check_config) {
        .state_file = opts.state_file, .state = c.state, .client = c.client,
        .input = &c.input, .engine = &c.engine, .vswitch = c.vswitch,
        .flows = &c.flows, .ex_flows = c.br_ex ? &c.br_ex->flows : NULL,
        .br_int = c.br_int, .br_ex = c.br_ex ? c.br_ex->ofctrl : NULL });

    struct vswitch_config vcfg = {
        .bridge = opts.bridge_name,
        .datapath_type = opts.datapath_type,
        .node_name = opts.node_name,
        .tunnel_type = (opts.tunnel_mode == FLOWS_TUNNEL_NONE ? NULL
                        : flows_tunnel_mode_name(opts.tunnel_mode)),
        .flow_tunnel = opts.tunnel_ports == FLOWS_TUNNEL_PORTS_FLOW,
        .mtu = opts.mtu,
        .external_bridge = opts.external_bridge,
    };
    const struct vswitch_ports *ports = vswitch_get_ports(c.vswitch);
    c.input = (struct flows_input) {
        .cluster = &c.cluster,
        .node_name = opts.node_name,
        .tunnel_mode = opts.tunnel_mode,
        .mtu = opts.mtu,
        .cluster_cidr = opts.cluster_cidr,
        .service_cidr = opts.service_cidr,
        .pod_ports = &ports->pods,
        .tunnel_ports = &ports->tunnels,
        .tunnel_port_mode = opts.tunnel_ports,
        .np_logging = opts.np_logging,
    };
    struct np_log *np_log = NULL;
    if (opts.np_logging != FLOWS_NP_LOGGING_OFF) {
        np_log = np_log_create(opts.np_log_file, opts.node_name, &c.input,
                               controller_np_logging_name(opts.np_logging),
                               opts.np_log_rate);
        pinctrl_set_np_log_handler(np_log_packet, np_log);
    }

    struct controller_metrics *metrics = NULL;
    if (opts.metrics_address) {
        metrics = controller_metrics_create(&c, opts.metrics_address);
    }

    VLOG_INFO("kovs-controller for node %s, bridge %s, tunnel type %s, "
              "tunnel ports %s, MTU %d, %s %s", opts.node_name,
              opts.bridge_name, flows_tunnel_mode_name(opts.tunnel_mode),
              flows_tunnel_ports_name(opts.tunnel_ports), opts.mtu,
              opts.state_file ? "state file" : "API server",
              opts.state_file ? opts.state_file : opts.client_cfg.server);

    long long int sync_usec = -1;   /* A computation not yet put. */
    struct sync_log sync_log;
    sync_log_init(&sync_log);
    c.input.progress = put_ahead;
    c.input.progress_aux = &c;
    while (!c.exiting) {
        /* The handshakes go out before the Kubernetes input, whose first
         * decoding can take longer than the switch waits for them. */
        ofctrl_run_connection(c.br_int);
        if (c.br_ex) {
            ofctrl_run_connection(c.br_ex->ofctrl);
        }
        if (c.state) {
            k8s_state_file_run(c.state, &c.cluster);
        } else {
            struct k8s_client_input_stats is;
            long long int wall = time_wall_usec();
            long long int start = time_usec();
            k8s_client_run(c.client, &c.cluster);
            k8s_client_get_input_stats(c.client, &is);
            sync_log_note_read(&sync_log, &is, wall, time_usec() - start);
        }

        engine_read_k8s(&c.engine);

        flows_local_init(&c.input, &c.local);
        check_own_node(&c);
        vcfg.cni_ports = cniserver_ports();
        vcfg.installed = cniserver_installed();
        vcfg.cni_seqno = cniserver_seqno();
        vswitch_run(c.vswitch, &vcfg, &c.cluster, &c.local,
                    engine_output_stale(&c.engine, ENGINE_OUT_TUNNELS),
                    engine_ports_change(&c.engine));
        c.input.gateway_ofport = ports->gateway_ofport;
        c.input.tunnel_ofport = ports->flow_tunnel_ofport;

        struct gateway_config gcfg = {
            .ifname = VSWITCH_GATEWAY_NAME,
            .ifindex = ports->gateway_ifindex,
            .local = &c.local,
            .routes = {
                k8s_dual_cidr_get(&opts.cluster_cidr, true),
                k8s_dual_cidr_get(&opts.service_cidr, true),
            },
            .routes6 = {
                k8s_dual_cidr_get(&opts.cluster_cidr, false),
                k8s_dual_cidr_get(&opts.service_cidr, false),
            },
        };
        gateway_run(&c.gateway, &gcfg);
        if (c.br_ex) {
            c.input.external = external_bridge_update(
                c.br_ex, &ports->external, own_node_ipv4(&c),
                own_node_ipv6(&c), c.local.valid4, c.local.valid6,
                &c.engine);
        }

        /* Flows are computed only from complete inputs: the Kubernetes
         * state and the switch's configuration.  Until both are there, the
         * switch keeps whatever flows it has. */
        bool ready = controller_k8s_ready(&c) && vswitch_is_ready(c.vswitch);
        if (ready && engine_has_changes(&c.engine)) {
            bool k8s_changed = (engine_input_state(&c.engine, ENGINE_IN_K8S)
                                != ENGINE_UNCHANGED);
            if (c.client && k8s_changed && !c.event_computed
                && !c.event_in_flight) {
                c.event_computed = true;
                c.event_msec = k8s_client_last_change_msec(c.client);
            }
            struct engine_outputs outs = {
                .input = &c.input,
                .br_int = &c.flows,
                .br_ex = c.br_ex ? &c.br_ex->flows : NULL,
                .healthcheck = c.br_ex ? &c.br_ex->healthcheck : NULL,
            };
            controller_metrics_note_changes(&c);
            long long int start = time_usec();
            engine_run(&c.engine, &outs);
            long long int compute_usec = time_usec() - start;
            sync_usec = MAX(sync_usec, 0) + compute_usec;
            if (c.client) {
                struct k8s_client_input_stats is;
                k8s_client_get_input_stats(c.client, &is);
                sync_log_note_computed(&sync_log, &is, compute_usec);
            }
            log_flow_warnings(&c);
        }

        bool ofctrl_ready = ofctrl_run(c.br_int);
        sync_log_run(&sync_log, c.br_int);
        if (ofctrl_take_datapath_purge(c.br_int)) {
            /* A NetworkPolicy change is in the tables: no packet may keep
             * a verdict the datapath cached from the old ones (see
             * controller/dpcache.h for Open vSwitch 3.1.0's reason). */
            dpcache_purge();
        }
        dpcache_run();
        if (np_log) {
            np_log_run(np_log, c.br_int);
        }
        if (c.br_ex) {
            external_bridge_run(c.br_ex, c.br_int, ready,
                                (opts.tunnel_mode == FLOWS_TUNNEL_NONE
                                 ? &c.cluster : NULL), opts.node_name);
        }
        event_latency_run(&c);
        controller_metrics_note_acked(&c);
        bool put_done = false;
        if (ofctrl_ready && ready) {
            struct ofctrl_stats before, after;

            ofctrl_get_stats(c.br_int, &before);
            long long int start = time_usec();
            struct ovs_list ct_flushes = OVS_LIST_INITIALIZER(&ct_flushes);
            if (ofctrl_put_would_diff(c.br_int)) {
                /* Not while a bundle streams: the changes wait. */
                flows_ct_flushes_for_changes(&c.flows, &ct_flushes);
            }
            put_done = ofctrl_put(c.br_int, &c.flows, &ct_flushes);
            flows_ct_flushes_destroy(&ct_flushes);
            ofctrl_get_stats(c.br_int, &after);
            if (put_done) {
                sync_log_note_put(&sync_log, ofctrl_get_sent_seqno(c.br_int),
                                  after.n_bundles != before.n_bundles,
                                  (after.total_flow_mods
                                   - before.total_flow_mods),
                                  (after.total_group_mods
                                   - before.total_group_mods),
                                  time_usec() - start);
                sync_log_run(&sync_log, c.br_int);
                if (sync_usec >= 0) {
                    controller_metrics_note_sync(
                        &c, sync_usec + (time_usec() - start));
                    sync_usec = -1;
                }
                controller_metrics_note_put(&c,
                                            ofctrl_get_sent_seqno(c.br_int));
            }
            if (c.event_computed && put_done) {
                /* A change that altered no flow has nothing to wait for. */
                c.event_computed = false;
                c.event_in_flight = after.n_bundles != before.n_bundles;
            }
        }

        struct ofctrl_stats ss;
        ofctrl_get_stats(c.br_int, &ss);
        struct cniserver_input cin = {
            .node_name = opts.node_name,
            .cluster = &c.cluster,
            .local = &c.local,
            .ports = ports,
            .flows = &c.flows,
            .br_int = c.br_int,
            .put_done = put_done,
            .k8s_ready = controller_k8s_ready(&c),
            .ovsdb_connected = vswitch_is_connected(c.vswitch),
            .switch_connected = ss.connected,
        };
        cniserver_run(&cin);

        unixctl_server_run(unixctl);
        memory_run();
        if (memory_should_report()) {
            struct simap usage = SIMAP_INITIALIZER(&usage);
            controller_memory_usage(&c, &usage);
            memory_report(&usage);
            simap_destroy(&usage);
        }
        if (metrics) {
            controller_metrics_run(metrics);
        }

        if (c.state) {
            k8s_state_file_wait(c.state);
        } else {
            k8s_client_wait(c.client);
        }
        vswitch_wait(c.vswitch);
        ofctrl_wait(c.br_int);
        dpcache_wait();
        if (np_log) {
            np_log_wait(np_log);
        }
        if (c.br_ex) {
            external_bridge_wait(c.br_ex);
        }
        cniserver_wait();
        unixctl_server_wait(unixctl);
        memory_wait();
        if (metrics) {
            controller_metrics_wait(metrics);
        }
        if (c.exiting) {
            poll_immediate_wake();
        }
        poll_block();
    }

    /* The connection goes first: a policy-stats request still pending gets
     * its error reply while its unixctl connection is open, and the metrics
     * endpoint learns that its request for the policy counters is over. */
    ofctrl_destroy(c.br_int);
    sync_log_destroy(&sync_log);
    controller_metrics_destroy(metrics);
    controller_metrics_uninit(&c);
    pinctrl_set_np_log_handler(NULL, NULL);
    np_log_destroy(np_log);
    external_bridge_destroy(c.br_ex);
    dpcache_destroy();
    cniserver_destroy();
    unixctl_server_destroy(unixctl);
    vswitch_destroy(c.vswitch);
    engine_destroy(&c.engine);
    flow_table_destroy(&c.flows);
    sset_destroy(&c.flow_warnings);
    k8s_state_file_destroy(c.state);
    k8s_client_destroy(c.client);
    k8s_cluster_destroy(&c.cluster);
    controller_options_destroy(&opts);
    service_stop();
    return 0;
}

/* Returns this node's IPv4 InternalIP, or 0. */
static ovs_be32
own_node_ipv4(const struct controller *c)
{
    const struct k8s_object *obj = k8s_cluster_find(&c->cluster, K8S_NODE,
                                                    "", c->opts->node_name);
    return k8s_node_internal_ipv4(obj ? k8s_node_cast(obj) : NULL);
}

/* Returns this node's IPv6 InternalIP, or NULL. */
static const struct in6_addr *
own_node_ipv6(const struct controller *c)
{
    const struct k8s_object *obj = k8s_cluster_find(&c->cluster, K8S_NODE,
                                                    "", c->opts->node_name);
    return obj ? k8s_node_internal_ipv6(k8s_node_cast(obj)) : NULL;
}

/* Gives 'of' (br-int's ofctrl) the pipeline's meters (flows/pipeline.h):
 * packets per second, with a burst, and a band that drops the excess.  The
 * audit log's rate and burst are --np-log-rate. */
static void
set_meters(struct ofctrl *of, const struct controller_options *opts)
{
    struct ofputil_meter_config *meters = xcalloc(kovs_n_meters,
                                                  sizeof *meters);
    struct ofputil_meter_band *bands = xcalloc(kovs_n_meters,
                                               sizeof *bands);
    for (size_t i = 0; i < kovs_n_meters; i++) {
        bool np_log = kovs_meters[i].id == KOVS_METER_NP_LOG;
        bands[i] = (struct ofputil_meter_band) {
            .type = OFPMBT13_DROP,
            .rate = np_log ? opts->np_log_rate : kovs_meters[i].pktps,
            .burst_size = np_log ? opts->np_log_rate : kovs_meters[i].burst,
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

/* Logs, when it changes, whether this node's own Node object gives kovs
 * a pod network: without one (no Node object yet, or no podCIDR with room
 * for a gateway and pods) the node's pods get no flows. */
static void
check_own_node(struct controller *c)
{
    enum { OWN_NODE_UNKNOWN, OWN_NODE_MISSING, OWN_NODE_NO_CIDR, OWN_NODE_OK };
    const struct k8s_object *obj = k8s_cluster_find(&c->cluster, K8S_NODE,
                                                    "", c->opts->node_name);
    int state = (!controller_k8s_ready(c) ? OWN_NODE_UNKNOWN
                 : !obj ? OWN_NODE_MISSING
                 : !c->local.valid ? OWN_NODE_NO_CIDR
                 : OWN_NODE_OK);
    if (state == c->own_node_state) {
        return;
    }
    c->own_node_state = state;

    if (state == OWN_NODE_MISSING) {
        VLOG_WARN("Node %s: no such Node object: this node's pods get no "
                  "flows until it exists (is --node-name right?)",
                  c->opts->node_name);
    } else if (state == OWN_NODE_NO_CIDR) {
        const struct k8s_node *node = k8s_node_cast(obj);
        struct ds cidrs = DS_EMPTY_INITIALIZER;
        for (size_t i = 0; i < node->n_pod_cidrs; i++) {
            ds_put_format(&cidrs, "%s", i ? ", " : "");
            ipv6_format_mapped(&node->pod_cidrs[i].addr, &cidrs);
            ds_put_format(&cidrs, "/%u", node->pod_cidrs[i].plen);
        }
        VLOG_WARN("Node %s: spec.podCIDRs (%s) has no IPv4 prefix of length "
                  "30 or less and no IPv6 one of length 126 or less, which "
                  "a gateway and pods need: this node's pods get no flows",
                  c->opts->node_name,
                  cidrs.length ? ds_cstr(&cidrs) : "none");
        ds_destroy(&cidrs);
    } else if (state == OWN_NODE_OK) {
        struct ds nets = DS_EMPTY_INITIALIZER;
        if (c->local.valid4) {
            ds_put_cstr(&nets, "pod network ");
            k8s_cidr_format(&c->local.pod_cidr, &nets);
            ds_put_format(&nets, ", gateway "IP_FMT,
                          IP_ARGS(c->local.gateway_ip));
        }
        if (c->local.valid6) {
            ds_put_cstr(&nets, c->local.valid4 ? "; " : "IPv6 only: ");
            ds_put_cstr(&nets, "IPv6 pod network ");
            k8s_cidr_format(&c->local.pod_cidr6, &nets);
            ds_put_cstr(&nets, ", gateway ");
            ipv6_format_addr(&c->local.gateway_ip6, &nets);
        }
        VLOG_INFO("Node %s: %s", c->opts->node_name, ds_cstr(&nets));
        ds_destroy(&nets);
    }
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

bool
controller_k8s_ready(const struct controller *c)
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


/* The flows' progress callback: while a computation goes on, the switch
 * takes in what is computed so far. */
static void
put_ahead(void *c_)
{
    struct controller *c = c_;
    ofctrl_put_ahead(c->br_int, &c->flows);
}
