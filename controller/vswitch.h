/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#ifndef CONTROLLER_VSWITCH_H
#define CONTROLLER_VSWITCH_H 1

/* The node's Open vSwitch configuration, through OVSDB (ovsdb-idl).
 *
 * Makes sure br-int exists as kovs needs it (fail-mode secure, a stable
 * datapath id), with the gateway port kovs-gw0 and one VXLAN or Geneve port
 * per peer node, or one flow-based port (remote_ip=flow) for all of them,
 * or none in routed mode, and removes the tunnel ports of nodes that are
 * gone (and those of the other layout).  Reads back
 * the OpenFlow port numbers of pods (external_ids:iface-id), tunnels
 * (external_ids:kovs-node, or the shared port kovs-tun0) and the gateway,
 * which the flows depend on. */

#include <stdbool.h>
#include "openvswitch/shash.h"
#include "openvswitch/types.h"
#include "packets.h"

struct engine_ports_change;
struct flows_local;
struct k8s_cluster;
struct sset;
struct vswitch;

#define VSWITCH_GATEWAY_NAME "kovs-gw0"

/* The tunnel port that all peers share with --tunnel-ports=flow. */
#define VSWITCH_FLOW_TUNNEL_NAME "kovs-tun0"

/* The patch ports between br-int and the external bridge. */
#define VSWITCH_PATCH_INT_NAME "kovs-patch-int"  /* On br-int. */
#define VSWITCH_PATCH_EX_NAME "kovs-patch-ex"    /* On the external bridge. */

struct vswitch_config {
    const char *bridge;             /* "br-int". */
    const char *datapath_type;      /* For a bridge kovs creates; NULL for
                                     * the switch's default. */
    const char *node_name;
    const char *tunnel_type;        /* "vxlan" or "geneve", NULL for no
                                     * tunnel ports (routed mode). */
    bool flow_tunnel;               /* One shared port with remote_ip=flow
                                     * (--tunnel-ports=flow) instead of one
                                     * per peer. */
    int mtu;                        /* The gateway port's MTU. */
    const char *external_bridge;    /* "br-ex", or NULL for none. */

    /* The ports of kovs-cni's pods: the interface name of each to a
     * struct vswitch_cni_port.  Ports tagged as kovs-cni's
     * (external_ids:kovs-cni-attachment) that are not here are removed. */
    const struct shash *cni_ports;
    /* Interfaces whose pod has its flows installed: they get
     * external_ids:kovs-installed=true, every other pod interface loses it.
     * NULL leaves the marks as they are. */
    const struct sset *installed;
    /* Changes whenever 'cni_ports' or 'installed' changes. */
    uint64_t cni_seqno;
};

/* The external bridge as kovs found it.  The operator creates it, with the
 * uplink and the node IP; kovs adds the pair of patch ports between it and
 * br-int and owns its flow table. */
struct vswitch_external {
    bool ready;                     /* All of the below is known. */
    ofp_port_t patch_ofport;        /* br-int's patch port. */
    ofp_port_t ex_patch_ofport;     /* br-ex's patch port. */
    ofp_port_t uplink_ofport;       /* br-ex's only other port. */
    struct eth_addr mac;            /* br-ex's own (local port's) MAC. */
};

/* A pod port kovs-cni plugged: what kovs-controller puts on br-int for
 * it, keyed by the interface name (the host end of the pod's veth). */
struct vswitch_cni_port {
    char *iface_id;                 /* "namespace/name". */
    struct eth_addr mac;            /* The pod's MAC. */
    char *ip_addresses;             /* "IP/LEN", the pod's address. */
    char *attachment;               /* "containerID/ifname". */
};

/* A pod's interface on br-int. */
struct vswitch_pod_iface {
    char *name;                     /* Interface name. */
    bool installed;                 /* external_ids:kovs-installed=true. */
    bool has_ip;                    /* external_ids:ip-addresses has an
                                     * address. */
};

/* The ports kovs found on the bridge. */
struct vswitch_ports {
    ofp_port_t gateway_ofport;      /* 0 if none yet. */
    int gateway_ifindex;            /* Interface.ifindex, 0 if unknown. */
    char *datapath_type;            /* The bridge's, "" for the default. */
    struct shash pods;              /* "ns/name" -> struct flows_port. */
    struct shash pod_ifaces;        /* "ns/name" ->
                                     * struct vswitch_pod_iface, for the
                                     * same pods. */
    struct shash tunnels;           /* Node name -> struct flows_port; with
                                     * the shared flow-based port, every
                                     * peer with an underlay address, each
                                     * with that port's number. */
    ofp_port_t flow_tunnel_ofport;  /* The shared flow-based port, 0 if
                                     * none. */
    struct vswitch_external external;
};

/* Creates the connection to the database at 'remote', monitoring only the
 * tables and columns kovs uses.  The caller frees it with
 * vswitch_destroy(). */
struct vswitch *vswitch_create(const char *remote);
void vswitch_destroy(struct vswitch *);

/* Reads the database and, when connected, brings the bridge to what
 * 'config', 'cluster' and 'local' call for.  The tunnel ports are looked
 * at again when the database changed or 'nodes_changed' says the Nodes
 * did.  Records in 'changes' the pods and nodes whose ports changed since
 * the last call, or that everything may have. */
void vswitch_run(struct vswitch *, const struct vswitch_config *,
                 const struct k8s_cluster *cluster,
                 const struct flows_local *local, bool nodes_changed,
                 struct engine_ports_change *changes);
void vswitch_wait(struct vswitch *);

/* True once the database contents have been received at least once. */
bool vswitch_is_ready(const struct vswitch *);
bool vswitch_is_connected(const struct vswitch *);

const struct vswitch_ports *vswitch_get_ports(const struct vswitch *);

#endif /* controller/vswitch.h */
