/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#include <config.h>

#include "controller/options.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <unistd.h>
#include "command-line.h"
#include "controller/controller-metrics.h"
#include "controller/http-server.h"
#include "daemon.h"
#include "dirs.h"
#include "k8s/k8s-decode.h"
#include "openvswitch/vlog.h"
#include "util.h"

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
           "  --cluster-cidr=CIDR[,CIDR]  the cluster's pod network, one"
           " prefix per\n"
           "                          family\n"
           "  --service-cidr=CIDR[,CIDR]  the cluster's Service network,"
           " one prefix\n"
           "                          per family\n"
           "  --tunnel-type=TYPE      how pod traffic reaches other nodes:"
           " vxlan (default),\n"
           "                          geneve, or none (routed through"
           " --external-bridge,\n"
           "                          all nodes on one L2 network)\n"
           "  --tunnel-ports=LAYOUT   per-node (default): a tunnel port per"
           " peer node;\n"
           "                          flow: one port (remote_ip=flow) for"
           " all of them\n"
           "  --mtu=N                 MTU of pods and the gateway (default:"
           " 1450 for vxlan,\n"
           "                          1400 for geneve, 1500 for none)\n"
           "  --external-bridge=NAME  the bridge with the uplink and the node IP\n"
           "                          (usually br-ex): SNAT, NodePorts, external\n"
           "                          and LoadBalancer IPs\n"
           "  --cni-conf-dir=DIR      write the CNI configuration list"
           " there once ready\n"
           "                          (default: /etc/cni/net.d; empty:"
           " nowhere)\n"
           "  --ipam-file=FILE        keep kovs-cni's pod addresses in FILE\n"
           "                          (default: %s/kovs-ipam.json)\n"
           "  --metrics-address=IP:PORT  serve /metrics (Prometheus) and"
           " /healthz there\n"
           "                          over HTTP (default: %s;"
           " \"off\" or\n"
           "                          empty: nowhere)\n"
           "  --np-logging=MODE       NetworkPolicy audit log of the pods"
           " of: all\n"
           "                          namespaces, those annotated"
           " kovs.io/enable-np-\n"
           "                          logging=true (annotated, the"
           " default), or none (off)\n"
           "  --np-log-file=FILE      write the audit log to FILE\n"
           "                          (default: %s/kovs-np.log)\n"
           "  --np-log-rate=N         log at most N verdicts a second"
           " (default: 100)\n"
           "  --unixctl=SOCKET        override default control socket name\n"
           "  -h, --help              display this help message\n"
           "  -V, --version           display version information\n",
           program_name, program_name, ovs_rundir(), ovs_dbdir(),
           CONTROLLER_METRICS_DEFAULT_ADDRESS, ovs_logdir());
    daemon_usage();
    vlog_usage();
    exit(EXIT_SUCCESS);
}

static void
parse_cidr_option(const char *option, const char *arg,
                  struct k8s_dual_cidr *c)
{
    char *error = k8s_parse_dual_cidr_option(option, arg, c);
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
configure_k8s_source(struct controller_options *o)
{
    char *error;

    if (o->state_file) {
        if (o->kubeconfig || o->k8s_api || o->k8s_token_file
            || o->k8s_ca_file) {
            ovs_fatal(0, "--k8s-state cannot be combined with --kubeconfig, "
                      "--k8s-api, --k8s-token-file or --k8s-ca-file");
        }
        return;
    }

    k8s_client_config_init(&o->client_cfg);
    if (o->kubeconfig) {
        if (k8s_client_config_from_kubeconfig(o->kubeconfig, &o->client_cfg,
                                              &error)) {
            ovs_fatal(0, "%s", error);
        }
    } else if (getenv("KUBERNETES_SERVICE_HOST")) {
        if (k8s_client_config_in_cluster(NULL, &o->client_cfg, &error)) {
            ovs_fatal(0, "%s", error);
        }
    } else if (!o->k8s_api) {
        ovs_fatal(0, "no source of Kubernetes state: use --k8s-state=FILE, "
                  "--kubeconfig=FILE or --k8s-api=URL, or run in a pod");
    }

    if (o->k8s_api
        && k8s_client_config_set_server(&o->client_cfg, o->k8s_api,
                                        &error)) {
        ovs_fatal(0, "--k8s-api=%s: %s", o->k8s_api, error);
    }
    /* The daemon may change directory: file names are made absolute. */
    if (o->k8s_token_file) {
        free(o->client_cfg.token);
        o->client_cfg.token = NULL;
        free(o->client_cfg.token_file);
        o->client_cfg.token_file = absolute_file_name(o->k8s_token_file);
    }
    if (o->k8s_ca_file) {
        free(o->client_cfg.ca_data);
        o->client_cfg.ca_data = NULL;
        free(o->client_cfg.ca_file);
        o->client_cfg.ca_file = absolute_file_name(o->k8s_ca_file);
    }
    o->client_cfg.watch_timeout = o->k8s_watch_timeout;
    if (k8s_client_config_check(&o->client_cfg, &error)) {
        ovs_fatal(0, "%s", error);
    }
}

void
controller_options_parse(struct controller_options *o, int argc,
                         char *argv[])
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
        OPT_TUNNEL_PORTS,
        OPT_MTU,
        OPT_EXTERNAL_BRIDGE,
        OPT_UNIXCTL,
        OPT_CNI_CONF_DIR,
        OPT_IPAM_FILE,
        OPT_METRICS_ADDRESS,
        OPT_NP_LOGGING,
        OPT_NP_LOG_FILE,
        OPT_NP_LOG_RATE,
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
        {"tunnel-ports", required_argument, NULL, OPT_TUNNEL_PORTS},
        {"mtu", required_argument, NULL, OPT_MTU},
        {"external-bridge", required_argument, NULL, OPT_EXTERNAL_BRIDGE},
        {"unixctl", required_argument, NULL, OPT_UNIXCTL},
        {"cni-conf-dir", required_argument, NULL, OPT_CNI_CONF_DIR},
        {"ipam-file", required_argument, NULL, OPT_IPAM_FILE},
        {"metrics-address", required_argument, NULL, OPT_METRICS_ADDRESS},
        {"np-logging", required_argument, NULL, OPT_NP_LOGGING},
        {"np-log-file", required_argument, NULL, OPT_NP_LOG_FILE},
        {"np-log-rate", required_argument, NULL, OPT_NP_LOG_RATE},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        DAEMON_LONG_OPTIONS,
        VLOG_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    char *short_options = ovs_cmdl_long_options_to_short_options(long_options);

    memset(o, 0, sizeof *o);
    o->bridge_name = xstrdup("br-int");
    o->tunnel_mode = FLOWS_TUNNEL_VXLAN;
    o->cni_conf_dir = xstrdup("/etc/cni/net.d");
    o->metrics_address = xstrdup(CONTROLLER_METRICS_DEFAULT_ADDRESS);
    o->np_logging = FLOWS_NP_LOGGING_ANNOTATED;
    o->np_log_rate = 100;

    for (;;) {
        int c = getopt_long(argc, argv, short_options, long_options, NULL);
        if (c == -1) {
            break;
        }

        switch (c) {
        case OPT_NODE_NAME:
            o->node_name = xstrdup(optarg);
            break;
        case OPT_K8S_STATE:
            o->state_file = xstrdup(optarg);
            break;
        case OPT_KUBECONFIG:
            o->kubeconfig = xstrdup(optarg);
            break;
        case OPT_K8S_API:
            o->k8s_api = xstrdup(optarg);
            break;
        case OPT_K8S_TOKEN_FILE:
            o->k8s_token_file = xstrdup(optarg);
            break;
        case OPT_K8S_CA_FILE:
            o->k8s_ca_file = xstrdup(optarg);
            break;
        case OPT_K8S_WATCH_TIMEOUT:
            if (!str_to_int(optarg, 10, &o->k8s_watch_timeout)
                || o->k8s_watch_timeout < 1) {
                ovs_fatal(0, "--k8s-watch-timeout=%s: expected a positive "
                          "number of seconds", optarg);
            }
            break;
        case OPT_BRIDGE:
            free(o->bridge_name);
            o->bridge_name = xstrdup(optarg);
            break;
        case OPT_DATAPATH_TYPE:
            if (strcmp(optarg, "system") && strcmp(optarg, "netdev")) {
                ovs_fatal(0, "--datapath-type=%s: must be system or netdev",
                          optarg);
            }
            o->datapath_type = xstrdup(optarg);
            break;
        case OPT_CLUSTER_CIDR:
            parse_cidr_option("cluster-cidr", optarg, &o->cluster_cidr);
            break;
        case OPT_SERVICE_CIDR:
            parse_cidr_option("service-cidr", optarg, &o->service_cidr);
            break;
        case OPT_TUNNEL_TYPE:
            if (!flows_tunnel_mode_from_name(optarg, &o->tunnel_mode)) {
                ovs_fatal(0, "--tunnel-type=%s: must be vxlan, geneve or "
                          "none", optarg);
            }
            break;
        case OPT_TUNNEL_PORTS:
            if (!flows_tunnel_ports_from_name(optarg, &o->tunnel_ports)) {
                ovs_fatal(0, "--tunnel-ports=%s: must be per-node or flow",
                          optarg);
            }
            break;
        case OPT_MTU:
            if (!flows_mtu_from_string(optarg, &o->mtu)) {
                ovs_fatal(0, "--mtu=%s: expected a number from 576 to "
                          "65535", optarg);
            }
            break;
        case OPT_EXTERNAL_BRIDGE:
            free(o->external_bridge);
            o->external_bridge = xstrdup(optarg);
            break;

        case OPT_UNIXCTL:
            o->unixctl_path = xstrdup(optarg);
            break;
        case OPT_CNI_CONF_DIR:
            /* The daemon may change directory. */
            free(o->cni_conf_dir);
            o->cni_conf_dir = (optarg[0] ? absolute_file_name(optarg)
                               : xstrdup(""));
            break;
        case OPT_IPAM_FILE:
            o->ipam_file = absolute_file_name(optarg);
            break;
        case OPT_METRICS_ADDRESS:
            free(o->metrics_address);
            o->metrics_address = NULL;
            if (optarg[0] && strcmp(optarg, "off")) {
                char *error;
                char *target = http_server_parse_address(optarg, &error);
                if (!target) {
                    ovs_fatal(0, "--metrics-address=%s", error);
                }
                free(target);
                o->metrics_address = xstrdup(optarg);
            }
            break;
        case OPT_NP_LOGGING:
            if (!strcmp(optarg, "all")) {
                o->np_logging = FLOWS_NP_LOGGING_ALL;
            } else if (!strcmp(optarg, "annotated")) {
                o->np_logging = FLOWS_NP_LOGGING_ANNOTATED;
            } else if (!strcmp(optarg, "off")) {
                o->np_logging = FLOWS_NP_LOGGING_OFF;
            } else {
                ovs_fatal(0, "--np-logging=%s: must be all, annotated or "
                          "off", optarg);
            }
            break;
        case OPT_NP_LOG_FILE:
            free(o->np_log_file);
            o->np_log_file = absolute_file_name(optarg);
            break;
        case OPT_NP_LOG_RATE: {
            int rate;
            if (!str_to_int(optarg, 10, &rate) || rate < 1) {
                ovs_fatal(0, "--np-log-rate=%s: expected a positive number "
                          "of lines per second", optarg);
            }
            o->np_log_rate = rate;
            break;
        }
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
    o->ovsdb_remote = (argc == 1 ? xstrdup(argv[0])
                    : xasprintf("unix:%s/db.sock", ovs_rundir()));

    if (!o->node_name) {
        char hostname[256];
        if (gethostname(hostname, sizeof hostname)) {
            ovs_fatal(errno, "cannot get the host name; use --node-name");
        }
        hostname[sizeof hostname - 1] = '\0';
        o->node_name = xstrdup(hostname);
    }
    if (o->tunnel_mode == FLOWS_TUNNEL_NONE && !o->external_bridge) {
        ovs_fatal(0, "--tunnel-type=none routes pod traffic to other nodes "
                  "through the external bridge: it needs --external-bridge");
    }
    if (o->tunnel_mode == FLOWS_TUNNEL_NONE
        && o->tunnel_ports == FLOWS_TUNNEL_PORTS_FLOW) {
        ovs_fatal(0, "--tunnel-ports=flow lays out tunnel ports: it needs "
                  "--tunnel-type=vxlan or geneve, not none");
    }
    if (!o->mtu) {
        o->mtu = flows_default_mtu(o->tunnel_mode);
    }
    if (!o->ipam_file) {
        o->ipam_file = xasprintf("%s/kovs-ipam.json", ovs_dbdir());
    }
    if (!o->np_log_file) {
        o->np_log_file = xasprintf("%s/kovs-np.log", ovs_logdir());
    }
    configure_k8s_source(o);
}

void
controller_options_destroy(struct controller_options *o)
{
    if (o) {
        free(o->ovsdb_remote);
        free(o->node_name);
        free(o->state_file);
        free(o->kubeconfig);
        free(o->k8s_api);
        free(o->k8s_token_file);
        free(o->k8s_ca_file);
        if (!o->state_file) {
            k8s_client_config_destroy(&o->client_cfg);
        }
        free(o->bridge_name);
        free(o->datapath_type);
        free(o->external_bridge);
        free(o->unixctl_path);
        free(o->cni_conf_dir);
        free(o->ipam_file);
        free(o->metrics_address);
        free(o->np_log_file);
    }
}

const char *
controller_np_logging_name(enum flows_np_logging mode)
{
    switch (mode) {
    case FLOWS_NP_LOGGING_ANNOTATED:
        return "annotated";
    case FLOWS_NP_LOGGING_ALL:
        return "all";
    case FLOWS_NP_LOGGING_OFF:
        return "off";
    }
    OVS_NOT_REACHED();
}
