/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#ifndef CONTROLLER_OPTIONS_H
#define CONTROLLER_OPTIONS_H 1

/* kovs-controller's command line: what it parses into, and the source of
 * the Kubernetes state that it works out from the options and the
 * environment. */

#include <stdbool.h>
#include "flows/flows.h"
#include "k8s/k8s-client.h"
#include "k8s/k8s-model.h"

struct controller_options {
    char *ovsdb_remote;             /* The switch's database. */
    char *node_name;                /* This node (default: host name). */

    /* The source of the Kubernetes state: a state file... */
    char *state_file;
    /* ...or an API server. */
    char *kubeconfig;
    char *k8s_api;
    char *k8s_token_file;
    char *k8s_ca_file;
    int k8s_watch_timeout;
    struct k8s_client_config client_cfg;    /* Without 'state_file'. */

    char *bridge_name;              /* "br-int". */
    char *datapath_type;            /* For a bridge kovs creates, or NULL. */
    enum flows_tunnel_mode tunnel_mode;     /* --tunnel-type. */
    enum flows_tunnel_ports tunnel_ports;   /* --tunnel-ports. */
    int mtu;                        /* Of pods and the gateway: --mtu, else
                                     * the tunnel mode's. */
    char *external_bridge;          /* "br-ex", or NULL for none. */
    char *unixctl_path;             /* NULL for the default. */
    char *cni_conf_dir;             /* "" for nowhere. */
    char *ipam_file;
    char *metrics_address;          /* "IP:PORT", or NULL for none. */

    struct k8s_dual_cidr cluster_cidr;  /* One prefix per family. */
    struct k8s_dual_cidr service_cidr;

    /* The NetworkPolicy audit log (controller/np-log.h). */
    enum flows_np_logging np_logging;   /* Whose verdicts. */
    char *np_log_file;                  /* Where. */
    unsigned int np_log_rate;           /* At most this many a second. */
};

/* Returns the name of 'mode' as --np-logging takes it ("annotated"). */
const char *controller_np_logging_name(enum flows_np_logging mode);

/* Parses the command line into 'o' (which controller_options_destroy()
 * frees), with defaults for what it does not say.  Exits with a message on
 * an error, and after printing the help or the version. */
void controller_options_parse(struct controller_options *o, int argc,
                              char *argv[]);
void controller_options_destroy(struct controller_options *);

#endif /* controller/options.h */
