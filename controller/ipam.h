/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#ifndef CONTROLLER_IPAM_H
#define CONTROLLER_IPAM_H 1

/* Pod address allocation from this node's podCIDR, for kovs-cni.
 *
 * An attachment is what CNI calls it: a container ID and an interface
 * name.  Each gets one IPv4 address of the podCIDR (never the network, the
 * gateway, which is the first address, or the broadcast address), on a
 * dual-stack node one IPv6 address of the IPv6 podCIDR as well (never the
 * subnet-router anycast address, which is the first, or the gateway, the
 * second), a MAC derived from the IPv4 address and a name for the host end
 * of its veth.  Addresses of each family are handed out round-robin from
 * the last one allocated, so a released address is the last to be
 * reused.
 *
 * The table is kept in a file that is rewritten atomically (a new file,
 * fsync, rename) before any change is acknowledged, so allocations survive
 * restarts of kovs-controller and of the node, and no address is handed
 * out twice.  kovs-controller is single-threaded, which serialises
 * concurrent requests. */

#include <stdbool.h>
#include <stddef.h>
#include "openvswitch/hmap.h"
#include "openvswitch/types.h"
#include "packets.h"

struct sset;
struct svec;

struct ipam_attachment {
    struct hmap_node key_node;      /* In 'attachments', by 'key'. */
    struct hmap_node ip_node;       /* In 'by_ip', by 'ip'. */
    struct hmap_node ip6_node;      /* In 'by_ip6', by 'ip6', if
                                     * 'has_ip6'. */
    char *key;                      /* "containerID/ifname". */
    char *container_id;
    char *ifname;
    char *pod;                      /* "namespace/name". */
    ovs_be32 ip;                    /* 0 on an IPv6-only node. */
    bool has_ip6;                   /* Allocated on a node with an IPv6
                                     * podCIDR. */
    struct in6_addr ip6;
    struct eth_addr mac;
    char *host_ifname;              /* The host end of the veth. */
    bool attached;                  /* The veth exists: its port belongs on
                                     * br-int. */
};

struct ipam {
    char *file_name;                /* NULL: not persisted (tests). */
    struct hmap attachments;        /* "struct ipam_attachment"s by key. */
    struct hmap by_ip;              /* The same, by address. */
    struct hmap by_ip6;             /* Those with an IPv6 address, by it. */
    ovs_be32 last;                  /* Last address handed out. */
    struct in6_addr last6;          /* Last IPv6 address handed out. */
    uint64_t seqno;                 /* Incremented on every change. */
};

/* Initialises 'ipam', kept in 'file_name' (NULL for none), and loads that
 * file if it exists.  Returns NULL, or an error message the caller frees
 * (the table is then empty or partial). */
char *ipam_init(struct ipam *, const char *file_name);
void ipam_destroy(struct ipam *);

struct ipam_attachment *ipam_find(const struct ipam *,
                                  const char *container_id,
                                  const char *ifname);
struct ipam_attachment *ipam_find_by_ip(const struct ipam *, ovs_be32 ip);
struct ipam_attachment *ipam_find_by_ip6(const struct ipam *,
                                         const struct in6_addr *ip6);

/* The ranges to allocate from: this node's IPv4 podCIDR and its IPv6
 * podCIDR, each if it has one. */
struct ipam_range {
    bool has_ip;                    /* An IPv4 podCIDR ('net'/'plen'). */
    ovs_be32 net;
    unsigned int plen;
    bool has_ip6;
    struct in6_addr net6;
    unsigned int plen6;
};

/* Returns the attachment of ('container_id', 'ifname') for pod 'pod',
 * allocating it an address in each range of 'range' if it has none (an
 * existing attachment is returned as it is, which makes a repeated ADD
 * idempotent, except that one without an IPv6 address gets one if 'range'
 * has an IPv6 range).  On success stores it in '*attp' and returns NULL;
 * otherwise returns an error message the caller frees (a range is full,
 * or the file could not be written, in which case nothing changed). */
char *ipam_allocate(struct ipam *, const char *container_id,
                    const char *ifname, const char *pod,
                    const struct ipam_range *range,
                    struct ipam_attachment **attp);

/* Marks 'att' as having its veth (its port belongs on br-int). */
char *ipam_set_attached(struct ipam *, struct ipam_attachment *att);

/* Releases the attachment of ('container_id', 'ifname'), if any.  Returns
 * NULL or an error message the caller frees. */
char *ipam_release(struct ipam *, const char *container_id,
                   const char *ifname);

/* Releases every attachment whose key is not in 'valid' and adds the keys
 * of those released to 'released'.  Returns NULL or an error message the
 * caller frees. */
char *ipam_gc(struct ipam *, const struct sset *valid,
              struct svec *released);

/* The MAC kovs gives the pod with address 'ip': 0a:58 and the address. */
struct eth_addr ipam_mac_for_ip(ovs_be32 ip);

/* The name of the host end of the veth of ('container_id', 'ifname'): 15
 * characters, "kovs" and a hash of both. */
char *ipam_host_ifname(const char *container_id, const char *ifname);

#endif /* controller/ipam.h */
