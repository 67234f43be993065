/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#ifndef FLOWS_POLICY_H
#define FLOWS_POLICY_H 1

/* NetworkPolicy: ingress and egress ACLs as conjunctive matches.
 *
 * A rule of a policy becomes one conjunction (per group of pods whose named
 * ports resolve alike) of up to three clauses: the policy's pods on this
 * node (the destination port for ingress, the source port for egress), the
 * peers (addresses and prefixes) and the ports (protocol and value/mask
 * port ranges).  A clause flow that several rules share is one flow with
 * several conjunction() actions, so the number of flows grows with peers
 * plus ports, not their product.  A rule's conj_id flow allows the
 * connection; a pod that any policy isolates drops what no rule allows.
 * Only new connections are judged: established and related traffic
 * passes, and so does traffic from the pod's own node. */

#include <stddef.h>
#include <stdint.h>
#include "k8s/k8s-model.h"
#include "openvswitch/types.h"

/* What one NetworkPolicy may cost on a node.  An ipBlock, or a rule, that
 * would go beyond them allows nothing (a peer or rule that kovs cannot
 * express never allows more than the policy asks), the isolation of the
 * selected pods stays, the policy's other peers and rules take effect,
 * and the flow table records a warning naming the policy and the field
 * (struct flow_table's 'warnings'). */
#define POLICY_MAX_EXCEPTS 10000    /* Entries of one ipBlock's except. */
#define POLICY_MAX_FLOWS 65536      /* Flows of one policy's rules on one
                                     * node, isolation flows not counted. */

struct flow_table;
struct flows_input;
struct flows_local;
struct k8s_key_set;

/* Recomputes the flows of NetworkPolicy 'namespace'/'name'. */
void flows_policy_compute(const struct flows_input *,
                          const struct flows_local *,
                          const char *namespace, const char *name,
                          struct flow_table *);

/* Adds to 'policies' the key of every policy that selects 'pod' (a version
 * of it) if it is a pod of this node: its own port is in their flows. */
void policy_selecting_local_pod(const struct flows_input *,
                                const struct k8s_pod *pod,
                                struct k8s_key_set *policies);

/* Brings the flows of pods 'pods' (those that still exist, and those that
 * are gone) as peers up to date in every policy that has flows on this
 * node, except the policies in 'recomputed': each pod's own flows in the
 * rules whose selector peers select it now or did before (see "Peer pods"
 * in policy.c).  A policy that this cannot update alone is recomputed
 * whole and added to 'recomputed'.  Returns the number of policies
 * recomputed. */
size_t policy_update_peers(const struct flows_input *,
                           const struct flows_local *,
                           const struct k8s_key_set *pods,
                           struct k8s_key_set *recomputed,
                           struct flow_table *);

/* Adds to 'policies' every policy with a namespace selector that selects
 * namespace 'ns' (a version of it): its labels select peers, and such a
 * change recomputes the policy whole. */
void policy_affected_by_namespace(const struct k8s_cluster *,
                                  const struct k8s_namespace *,
                                  struct k8s_key_set *policies);

/* Adds to 'policies' every policy of the Namespace that changed from 'old'
 * to 'new' (either may be NULL, not both) if the change turns the audit
 * log of its pods' verdicts on or off: all of a namespace's policies are
 * logged, or none. */
void policy_affected_by_np_logging(const struct k8s_cluster *,
                                   const struct k8s_namespace *old,
                                   const struct k8s_namespace *new,
                                   struct k8s_key_set *policies);

/* Returns true if the NetworkPolicy verdicts of the pods of namespace
 * 'namespace' go to the audit log: the policies of a logged namespace
 * send the first packet of each connection that a rule allows, and each
 * packet that their isolation drops, to the controller (pinctrl opcode
 * NP_LOG), through the NP_LOG meter.  Other pods' packets never go to the
 * controller for it. */
bool policy_np_logged(const struct flows_input *, const char *namespace);

/* Address prefixes: 'block' less every prefix in 'excepts' (those outside
 * it, or of the other family, change nothing), as the smallest list of
 * non-overlapping prefixes of the block's family, sorted by address,
 * stored in a new array '*prefixes' that the caller frees.  IPv4 and IPv6
 * alike (an IPv6 block's result leaves out the IPv4-mapped addresses,
 * which are IPv4 to kovs).  Returns their number, or 'max' + 1 if there
 * would be more than 'max' (then only the first 'max' + 1 are stored).
 * Takes O(n log n) time in the number of excepts, plus O(1) per prefix
 * stored. */
size_t policy_cidr_subtract(const struct k8s_cidr *block,
                            const struct k8s_cidr *excepts, size_t n_except,
                            size_t max, struct k8s_cidr **prefixes);

/* Port ranges: the value/mask pairs that together match exactly the ports
 * 'min'...'max'.  Stores them in new arrays the caller frees and returns
 * their number. */
size_t policy_port_range_masks(uint16_t min, uint16_t max, uint16_t **values,
                               uint16_t **masks);

#endif /* flows/policy.h */
