/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#ifndef UTILITIES_SNAPSHOT_H
#define UTILITIES_SNAPSHOT_H 1

/* The switch of a node as kovs-ctl imagines it, to compute the node's flows
 * from a snapshot of the cluster with no switch: the ports that
 * kovs-controller would find on br-int ("namespace/name" or node name ->
 * struct flows_port, as in struct flows_input). */

#include "openvswitch/shash.h"

struct eth_addr;
struct flow_table;
struct k8s_cluster;
struct svec;

/* Makes 'cluster' (initialized, empty) hold the objects of the state file
 * at 'path' (a List, as "kubectl get -o json" prints it), with no change
 * recorded, and prints each object it skipped to stderr.  Exits with a
 * message if the file cannot be read or is not a List.  Stores the file's
 * size in '*sizep' (if nonnull) and returns the number of objects
 * skipped. */
size_t snapshot_load(const char *path, struct k8s_cluster *cluster,
                     size_t *sizep);

/* First OpenFlow port numbers given to synthesized ports. */
#define SNAPSHOT_FIRST_POD_OFPORT    1000
#define SNAPSHOT_FIRST_TUNNEL_OFPORT 10000

/* Adds to 'ports' a new struct flows_port for 'key' with OpenFlow port
 * 'ofport' and MAC '*mac' (if nonnull).  A key added twice is fatal. */
void snapshot_add_port(struct shash *ports, const char *key, int ofport,
                       const struct eth_addr *mac);

/* Gives every pod of node 'node_name' that is not on the host network a
 * port, numbered in the order of their names from
 * SNAPSHOT_FIRST_POD_OFPORT up, with a MAC derived from its first IPv4
 * address. */
void snapshot_pod_ports(const struct k8s_cluster *, const char *node_name,
                        struct shash *pods);

/* Gives every peer node (every Node but 'node_name') a tunnel port,
 * numbered in the order of their names from SNAPSHOT_FIRST_TUNNEL_OFPORT
 * up. */
void snapshot_tunnel_ports(const struct k8s_cluster *, const char *node_name,
                           struct shash *tunnels);

/* As the shared flow-based tunnel port (--tunnel-ports=flow) reaches them:
 * every peer node with an underlay address gets OpenFlow port 'ofport'. */
void snapshot_flow_tunnel_ports(const struct k8s_cluster *,
                                const char *node_name, int ofport,
                                struct shash *tunnels);

/* Appends 'ft''s flows to 'lines' in ovs-ofctl flow syntax, one line per
 * flow the switch would get (a key that several owners want is one flow),
 * prefixed with 'prefix'. */
void snapshot_format_flows(const struct flow_table *ft, const char *prefix,
                           struct svec *lines);

/* Appends 'ft''s groups to 'lines' in ovs-ofctl group syntax (OpenFlow
 * 1.5), the buckets numbered and weighted as kovs-controller sends them,
 * prefixed with 'prefix'. */
void snapshot_format_groups(const struct flow_table *ft, const char *prefix,
                            struct svec *lines);

#endif /* utilities/snapshot.h */
