/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#ifndef CONTROLLER_CNISERVER_H
#define CONTROLLER_CNISERVER_H 1

/* kovs-controller's side of kovs-cni.
 *
 * The plugin asks over the controller's unixctl socket (commands "cni/...")
 * for an address (controller/ipam), plugs the veth itself, and then asks
 * for its port: this module keeps the ports of kovs-cni's pods (vswitch
 * creates and removes them on br-int), answers that request once the
 * pod's flows are in the switch, and marks each pod interface whose flows
 * a barrier reply confirmed with external_ids:kovs-installed=true.  It also
 * writes the CNI configuration list once the node is ready, and answers
 * the plugin's STATUS, CHECK and GC. */

#include <stdbool.h>
#include <stdint.h>

struct ds;
struct flow_table;
struct flows_local;
struct k8s_cluster;
struct ofctrl;
struct shash;
struct sset;
struct vswitch_ports;

struct cniserver_config {
    const char *conf_dir;           /* Where to write 10-kovs.conflist; NULL
                                     * or "" for nowhere. */
    const char *ipam_file;          /* Where the allocations are kept. */
    const char *run_dir;            /* Where the plugin finds the pidfile
                                     * and control socket. */
    const char *control_socket;     /* The socket, when --unixctl names it
                                     * (NULL otherwise). */
    int mtu;                        /* The pods' MTU. */
};

/* Registers the unixctl commands and loads the allocations. */
void cniserver_init(const struct cniserver_config *);
void cniserver_destroy(void);

/* What the module looks at in each iteration of the main loop, after
 * ofctrl_put(). */
struct cniserver_input {
    const char *node_name;
    const struct k8s_cluster *cluster;
    const struct flows_local *local;    /* This node's podCIDR. */
    const struct vswitch_ports *ports;
    const struct flow_table *flows;     /* br-int's desired flows. */
    const struct ofctrl *br_int;
    bool put_done;                  /* ofctrl_put() took the flow table. */
    bool k8s_ready;                 /* The Kubernetes state is complete. */
    bool ovsdb_connected;
    bool switch_connected;
};

void cniserver_run(const struct cniserver_input *);
void cniserver_wait(void);

/* For vswitch_run(): the ports of kovs-cni's pods (interface name to
 * struct vswitch_cni_port), the interfaces to mark as installed, and a
 * number that changes with either. */
const struct shash *cniserver_ports(void);
const struct sset *cniserver_installed(void);
uint64_t cniserver_seqno(void);

/* Appends a line on kovs-cni's state to 'ds', for the status command. */
void cniserver_format_status(struct ds *);

#endif /* controller/cniserver.h */
