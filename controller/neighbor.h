/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#ifndef CONTROLLER_NEIGHBOR_H
#define CONTROLLER_NEIGHBOR_H 1

/* The neighbor table: the MACs of the next hops on the external network,
 * IPv4 and IPv6, resolved with ARP and IPv6 neighbour discovery the way a
 * host's neighbour cache does it.
 *
 * A packet that leaves the cluster through br-ex needs the MAC of its next
 * hop, which br-int's NEIGHBOR table sets from the neighbors resolved here
 * (flows/pipeline.h).  A packet whose next hop has no flow yet goes to the
 * controller (RESOLVE, flows/pinctrl-opcodes.h), and pinctrl calls
 * neighbor_resolve() with the next hop's address:
 *
 *   - If the kernel's neighbour table has a complete entry for the
 *     address on br-ex (IPv4: /proc/net/arp; IPv6: an RTM_GETNEIGH dump
 *     over rtnetlink), its MAC is taken at once as a guess ("guessed") so
 *     that traffic flows without waiting, and an ARP request or Neighbor
 *     Solicitation confirms it.
 *
 *   - Otherwise the entry is "incomplete" and an ARP request asks for it.
 *
 * ARP requests are broadcast packet-outs on br-int, from the controller to
 * br-int's patch port to br-ex: from br-ex's MAC and the node IP, for the
 * next hop's address.  An IPv6 next hop gets a Neighbor Solicitation
 * instead, from br-ex's MAC and the node's IPv6 address to the next hop's
 * solicited-node multicast address.  The replies (ARP replies, Neighbor
 * Advertisements), addressed to the node IP, come back as packet-ins
 * (NEIGHBOR), and pinctrl hands them to neighbor_learn(), which resolves
 * the entry ("resolved").  Only addresses that kovs asked for are learned:
 * unsolicited ARP or advertisements do not add entries.
 *
 * Addresses are "struct in6_addr"s, IPv4 mapped for IPv4.
 *
 * An incomplete or guessed entry is asked for again every
 * NEIGHBOR_RETRY_MSEC, NEIGHBOR_MAX_REQUESTS times in all; then, still
 * unanswered, it is dropped (the kernel's entry may be stale), until a
 * later packet asks for it again.  However many packets miss, an address
 * gets at most one request per NEIGHBOR_RETRY_MSEC.
 *
 * A resolved entry is asked for again NEIGHBOR_REFRESH_MSEC after its last
 * confirmation, and again every NEIGHBOR_RETRY_MSEC up to
 * NEIGHBOR_MAX_REQUESTS requests; it stays usable meanwhile, and expires if
 * no reply confirms it within NEIGHBOR_EXPIRY_MSEC of its last
 * confirmation.  Refreshes are broadcast too, so that a neighbor whose MAC
 * changed is found again.
 *
 * The table holds at most NEIGHBOR_MAX_ENTRIES addresses.
 *
 * Everything happens on the caller's thread: a "struct neighbor_table"
 * keeps the table and the timers; the owner of br-int's OpenFlow
 * connection sends the packet-outs it returns and, whenever
 * neighbor_seqno() changes, gives neighbor_get()'s pairs to the flows. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "openvswitch/hmap.h"
#include "openvswitch/list.h"
#include "openvswitch/ofp-protocol.h"
#include "openvswitch/types.h"
#include "packets.h"

struct ds;
struct flows_neighbor;
struct ofpbuf;

/* How often an unanswered address is asked for again. */
#define NEIGHBOR_RETRY_MSEC 1000

/* How many unanswered requests an address gets in a row. */
#define NEIGHBOR_MAX_REQUESTS 3

/* A resolved entry is asked for again this long after its last
 * confirmation... */
#define NEIGHBOR_REFRESH_MSEC (30 * 1000)

/* ...and expires if it is not confirmed this long after it. */
#define NEIGHBOR_EXPIRY_MSEC (90 * 1000)

/* The most addresses the table holds. */
#define NEIGHBOR_MAX_ENTRIES 4096

struct neighbor_config {
    ovs_be32 node_ip;           /* ARP requests' sender IP; 0 disables
                                 * IPv4. */
    struct in6_addr node_ip6;   /* Neighbor Solicitations' source; all-zeros
                                 * disables IPv6. */
    struct eth_addr mac;        /* br-ex's MAC: ARP requests' sender MAC. */
    ofp_port_t out_port;        /* br-int's patch port to br-ex, where the
                                 * ARP requests go. */
    const char *kernel_dev;     /* "br-ex": the kernel's neighbour entries
                                 * of this device are a first guess; NULL
                                 * for none. */
};

/* A neighbor table. */
struct neighbor_table {
    struct hmap entries;            /* Its addresses, by IP. */
    struct neighbor_config cfg;     /* 'cfg.kernel_dev' is owned. */
    uint64_t seqno;                 /* Changes whenever an entry with a MAC
                                     * comes, goes or changes its MAC. */
    char *arp_file;                 /* Overrides /proc/net/arp, or NULL. */
    long long int (*clock)(void);   /* time_msec(), or a test's clock. */
};

/* Initializes 'nt' as an empty table that is disabled until
 * neighbor_configure() gives it a node IP. */
void neighbor_init(struct neighbor_table *nt);

/* Applies 'cfg', which 'nt' copies.  A change of a node IP, the MAC or the
 * port flushes the table. */
void neighbor_configure(struct neighbor_table *nt,
                        const struct neighbor_config *cfg);

/* A packet needs the MAC of next hop 'ip'.  If 'ip' is new to the table,
 * adds it and appends an ARP request or Neighbor Solicitation, a
 * packet-out in OpenFlow 'version' (a struct ofpbuf linked through
 * 'list_node'), to 'msgs'; otherwise its timers already take care of it.
 * Returns true if 'ip' is in the table now.  Returns false, and does
 * nothing, for address 0 (or ::), broadcast and multicast addresses and the
 * node's own address, while the table is disabled for the family of 'ip',
 * and if the table is full. */
bool neighbor_resolve(struct neighbor_table *, const struct in6_addr *ip,
                      enum ofp_version version, struct ovs_list *msgs);

/* An ARP packet or a Neighbor Advertisement said that 'ip' is at 'mac'.
 * If 'ip' is in the table, resolves it to 'mac', confirmed now, and
 * returns true.  Returns false, and changes nothing, if 'ip' is not in the
 * table or 'mac' is zero or multicast. */
bool neighbor_learn(struct neighbor_table *, const struct in6_addr *ip,
                    struct eth_addr mac);

/* Runs the timers: sends the requests that are due, as packet-outs in
 * OpenFlow 'version' appended to 'msgs', and drops the entries that gave up
 * or expired. */
void neighbor_run(struct neighbor_table *, enum ofp_version version,
                  struct ovs_list *msgs);

/* Arranges for the poll loop to wake up when neighbor_run() has work. */
void neighbor_wait(const struct neighbor_table *);

/* Returns the time at which neighbor_run() next has work, LLONG_MAX if
 * none. */
long long int neighbor_next_run(const struct neighbor_table *);

/* Returns a sequence number that changes whenever the set of resolved (ip,
 * mac) pairs, those neighbor_get() returns, changes. */
uint64_t neighbor_seqno(const struct neighbor_table *);

/* Stores in '*neighbors' a new array of the entries that have a MAC
 * (guessed or resolved), sorted by IP (IPv4 first), and returns how many
 * there are.  The caller frees the array. */
size_t neighbor_get(const struct neighbor_table *,
                    struct flows_neighbor **neighbors);

/* Appends to 's' one line per entry, sorted by IP: its IP, its MAC or
 * "incomplete", its state, and its age (since its last confirmation, or
 * since it was added if it has none). */
void neighbor_format(const struct neighbor_table *, struct ds *s);

/* Empties the table and frees everything, configuration included, leaving
 * 'nt' disabled as neighbor_init() does (the sequence number and the clock
 * stay).  Accepts NULL. */
void neighbor_destroy(struct neighbor_table *nt);

/* Returns true if 'msg', a message of an RTM_GETNEIGH dump, is an IPv6
 * neighbour entry of the device with 'ifindex' for 'ip' that has a MAC a
 * packet can be sent to: reachable, stale (or being probed after that,
 * delay and probe) or permanent, not a proxy entry, with an Ethernet
 * address that is neither zero nor multicast.  Then stores that MAC in
 * '*mac'.  Exposed for tests. */
bool neighbor_parse_rtnl(const struct ofpbuf *msg, int ifindex,
                         const struct in6_addr *ip, struct eth_addr *mac);

/* For tests: reads the kernel's IPv4 neighbour table from 'file' instead
 * of /proc/net/arp (NULL restores it), and takes the time, in milliseconds,
 * from 'clock' instead of time_msec() (NULL restores it). */
void neighbor_set_arp_file(struct neighbor_table *, const char *file);
void neighbor_set_clock(struct neighbor_table *,
                        long long int (*clock)(void));

#endif /* controller/neighbor.h */
