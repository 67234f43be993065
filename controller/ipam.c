/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#include <config.h>

#include "controller/ipam.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "dirs.h"
#include "hash.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "sha1.h"
#include "sset.h"
#include "svec.h"
#include "util.h"

static uint32_t
ip_hash(ovs_be32 ip)
{
    return hash_int((OVS_FORCE uint32_t) ip, 0);
}

static uint32_t
ip6_hash(const struct in6_addr *ip6)
{
    return hash_bytes(ip6, sizeof *ip6, 0);
}

struct ipam_attachment *
ipam_find(const struct ipam *ipam, const char *container_id,
          const char *ifname)
{
    char *key = xasprintf("%s/%s", container_id, ifname);
    struct ipam_attachment *att, *found = NULL;
    HMAP_FOR_EACH_WITH_HASH (att, key_node, hash_string(key, 0),
                             &ipam->attachments) {
        if (!strcmp(att->key, key)) {
            found = att;
            break;
        }
    }
    free(key);
    return found;
}

struct ipam_attachment *
ipam_find_by_ip(const struct ipam *ipam, ovs_be32 ip)
{
    struct ipam_attachment *att;
    HMAP_FOR_EACH_WITH_HASH (att, ip_node, ip_hash(ip), &ipam->by_ip) {
        if (att->ip == ip) {
            return att;
        }
    }
    return NULL;
}

struct ipam_attachment *
ipam_find_by_ip6(const struct ipam *ipam, const struct in6_addr *ip6)
{
    struct ipam_attachment *att;
    HMAP_FOR_EACH_WITH_HASH (att, ip6_node, ip6_hash(ip6), &ipam->by_ip6) {
        if (ipv6_addr_equals(&att->ip6, ip6)) {
            return att;
        }
    }
    return NULL;
}

struct eth_addr
ipam_mac_for_ip(ovs_be32 ip)
{
    uint32_t h = ntohl(ip);
    struct eth_addr mac = { .ea = { 0x0a, 0x58, h >> 24, (h >> 16) & 0xff,
                                    (h >> 8) & 0xff, h & 0xff } };
    return mac;
}

char *
ipam_host_ifname(const char *container_id, const char *ifname)
{
    uint8_t digest[SHA1_DIGEST_SIZE];
    char *key = xasprintf("%s/%s", container_id, ifname);
    sha1_bytes(key, strlen(key), digest);
    free(key);

    struct ds s = DS_EMPTY_INITIALIZER;
    ds_put_cstr(&s, "kovs");
    for (size_t i = 0; s.length < 15; i++) {
        ds_put_format(&s, "%02x", digest[i]);
    }
    ds_truncate(&s, 15);
    return ds_steal_cstr(&s);
}

/* Creates an attachment with IPv4 address 'ip' (0 on an IPv6-only node)
 * and IPv6 address 'ip6' (all-zeros for none).  Its MAC embeds the IPv4
 * address, or without one the low 32 bits of the IPv6 one. */
static struct ipam_attachment *
attachment_create(const char *container_id, const char *ifname,
                  const char *pod, ovs_be32 ip, const struct in6_addr *ip6)
{
    struct ipam_attachment *att = xzalloc(sizeof *att);
    att->key = xasprintf("%s/%s", container_id, ifname);
    att->container_id = xstrdup(container_id);
    att->ifname = xstrdup(ifname);
    att->pod = xstrdup(pod);
    att->ip = ip;
    att->has_ip6 = ipv6_addr_is_set(ip6);
    att->ip6 = *ip6;
    att->mac = ipam_mac_for_ip(ip ? ip
                               : get_16aligned_be32(
                                   &((const ovs_16aligned_be32 *)
                                     ip6->s6_addr)[3]));
    att->host_ifname = ipam_host_ifname(container_id, ifname);
    return att;
}

static void
attachment_free(struct ipam_attachment *att)
{
    if (att) {
        free(att->key);
        free(att->container_id);
        free(att->ifname);
        free(att->pod);
        free(att->host_ifname);
        free(att);
    }
}

static void
attachment_insert(struct ipam *ipam, struct ipam_attachment *att)
{
    hmap_insert(&ipam->attachments, &att->key_node, hash_string(att->key, 0));
    if (att->ip) {
        hmap_insert(&ipam->by_ip, &att->ip_node, ip_hash(att->ip));
    }
    if (att->has_ip6) {
        hmap_insert(&ipam->by_ip6, &att->ip6_node, ip6_hash(&att->ip6));
    }
}

static void
attachment_remove(struct ipam *ipam, struct ipam_attachment *att)
{
    hmap_remove(&ipam->attachments, &att->key_node);
    if (att->ip) {
        hmap_remove(&ipam->by_ip, &att->ip_node);
    }
    if (att->has_ip6) {
        hmap_remove(&ipam->by_ip6, &att->ip6_node);
    }
}

/* Puts 'ip6' into 'j' as member 'name'. */
static void
put_ipv6(struct json *j, const char *name, const struct in6_addr *ip6)
{
    char s[INET6_ADDRSTRLEN];
    json_object_put_string(j, name, inet_ntop(AF_INET6, ip6, s, sizeof s));
}

/* Persistence. */

static struct json *
ipam_to_json(const struct ipam *ipam)
{
    struct json *list = json_array_create_empty();
    const struct ipam_attachment *att;
    HMAP_FOR_EACH (att, key_node, &ipam->attachments) {
        struct json *a = json_object_create();
        json_object_put_string(a, "containerID", att->container_id);
        json_object_put_string(a, "ifname", att->ifname);
        json_object_put_string(a, "pod", att->pod);
        if (att->ip) {
            json_object_put_format(a, "ip", IP_FMT, IP_ARGS(att->ip));
        }
        if (att->has_ip6) {
            put_ipv6(a, "ip6", &att->ip6);
        }
        json_object_put(a, "attached", json_boolean_create(att->attached));
        json_array_add(list, a);
    }
    struct json *j = json_object_create();
    json_object_put(j, "attachments", list);
    if (ipam->last) {
        json_object_put_format(j, "last", IP_FMT, IP_ARGS(ipam->last));
    }
    if (ipv6_addr_is_set(&ipam->last6)) {
        put_ipv6(j, "last6", &ipam->last6);
    }
    return j;
}

/* Writes the table to its file: a temporary file beside it, flushed to
 * disk, then renamed over it, then the directory flushed, so that a crash
 * leaves either the old or the new table.  Returns NULL or an error
 * message. */
static char *
ipam_save(const struct ipam *ipam)
{
    if (!ipam->file_name) {
        return NULL;
    }

    struct json *j = ipam_to_json(ipam);
    char *text = json_to_string(j, JSSF_SORT | JSSF_PRETTY);
    json_destroy(j);

    char *tmp = xasprintf("%s.tmp", ipam->file_name);
    char *error = NULL;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        error = xasprintf("%s: %s", tmp, ovs_strerror(errno));
        goto out;
    }
    size_t len = strlen(text);
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, text + done, len - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            error = xasprintf("%s: %s", tmp, ovs_strerror(errno));
            close(fd);
            unlink(tmp);
            goto out;
        }
        done += n;
    }
    if (fsync(fd) || close(fd)) {
        error = xasprintf("%s: %s", tmp, ovs_strerror(errno));
        unlink(tmp);
        goto out;
    }
    if (rename(tmp, ipam->file_name)) {
        error = xasprintf("%s: %s", ipam->file_name, ovs_strerror(errno));
        unlink(tmp);
        goto out;
    }
    char *dir = dir_name(ipam->file_name);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    free(dir);

out:
    free(tmp);
    free(text);
    return error;
}

/* Loads the table from 'j'.  Entries that make no sense are skipped with
 * an error message (the last one is returned).  A file written before
 * IPv6 addresses were allocated has no "ip6" and no "last6": its
 * attachments are IPv4 only. */
static char *
ipam_from_json(struct ipam *ipam, const struct json *j)
{
    char *error = NULL;
    if (j->type != JSON_OBJECT) {
        return xstrdup("not a JSON object");
    }
    const struct json *last = shash_find_data(json_object(j), "last");
    if (last && last->type == JSON_STRING) {
        ip_parse(json_string(last), &ipam->last);
    }
    const struct json *last6 = shash_find_data(json_object(j), "last6");
    if (last6 && last6->type == JSON_STRING) {
        ipv6_parse(json_string(last6), &ipam->last6);
    }
    const struct json *list = shash_find_data(json_object(j),
                                              "attachments");
    if (!list || list->type != JSON_ARRAY) {
        return xstrdup("no \"attachments\" list");
    }
    const struct json_array *a = json_array(list);
    for (size_t i = 0; i < a->n; i++) {
        const struct json *e = a->elems[i];
        const struct shash *o = e->type == JSON_OBJECT ? json_object(e) : NULL;
        const struct json *id = o ? shash_find_data(o, "containerID") : NULL;
        const struct json *ifn = o ? shash_find_data(o, "ifname") : NULL;
        const struct json *pod = o ? shash_find_data(o, "pod") : NULL;
        const struct json *ip_s = o ? shash_find_data(o, "ip") : NULL;
        const struct json *ip6_s = o ? shash_find_data(o, "ip6") : NULL;
        const struct json *attached = o ? shash_find_data(o, "attached")
                                        : NULL;
        ovs_be32 ip = 0;
        struct in6_addr ip6 = in6addr_any;
        if (!id || id->type != JSON_STRING || !ifn
            || ifn->type != JSON_STRING || !pod || pod->type != JSON_STRING
            || (!ip_s && !ip6_s)
            || (ip_s && (ip_s->type != JSON_STRING
                         || !ip_parse(json_string(ip_s), &ip) || !ip))
            || (ip6_s && (ip6_s->type != JSON_STRING
                          || !ipv6_parse(json_string(ip6_s), &ip6)
                          || !ipv6_addr_is_set(&ip6)))) {
            free(error);
            error = xasprintf("attachment %"PRIuSIZE" is incomplete", i);
            continue;
        }
        if (ipam_find(ipam, json_string(id), json_string(ifn))
            || (ip && ipam_find_by_ip(ipam, ip))
            || (ip6_s && ipam_find_by_ip6(ipam, &ip6))) {
            free(error);
            error = xasprintf("attachment %"PRIuSIZE" (%s/%s, "IP_FMT") "
                              "repeats another one's attachment or "
                              "address", i, json_string(id),
                              json_string(ifn), IP_ARGS(ip));
            continue;
        }
        struct ipam_attachment *att = attachment_create(
            json_string(id), json_string(ifn), json_string(pod), ip, &ip6);
        att->attached = attached && attached->type == JSON_TRUE;
        attachment_insert(ipam, att);
    }
    return error;
}

char *
ipam_init(struct ipam *ipam, const char *file_name)
{
    memset(ipam, 0, sizeof *ipam);
    ipam->file_name = nullable_xstrdup(file_name);
    hmap_init(&ipam->attachments);
    hmap_init(&ipam->by_ip);
    hmap_init(&ipam->by_ip6);
    if (!file_name || access(file_name, F_OK)) {
        return NULL;
    }

    struct json *j = json_from_file(file_name);
    char *error;
    if (j->type == JSON_STRING) {
        error = xasprintf("%s: %s", file_name, json_string(j));
    } else {
        char *e = ipam_from_json(ipam, j);
        error = e ? xasprintf("%s: %s", file_name, e) : NULL;
        free(e);
    }
    json_destroy(j);
    return error;
}

void
ipam_destroy(struct ipam *ipam)
{
    if (ipam) {
        struct ipam_attachment *att;
        HMAP_FOR_EACH_POP (att, key_node, &ipam->attachments) {
            attachment_free(att);
        }
        hmap_destroy(&ipam->attachments);
        hmap_destroy(&ipam->by_ip);
        hmap_destroy(&ipam->by_ip6);
        free(ipam->file_name);
    }
}

/* Allocation. */

/* Finds a free IPv4 address in 'net'/'plen', after the last one handed
 * out.  Returns NULL and stores it in '*ip', or an error message. */
static char *
ipam_find_free_ipv4(const struct ipam *ipam, ovs_be32 net,
                    unsigned int plen, ovs_be32 *ip)
{
    if (plen > 30) {
        return xasprintf("the podCIDR "IP_FMT"/%u has no room for pods",
                         IP_ARGS(net), plen);
    }

    /* The usable addresses are first + 2 (after the gateway) to the one
     * before the broadcast address. */
    uint32_t mask = plen ? UINT32_MAX << (32 - plen) : 0;
    uint32_t first = (ntohl(net) & mask) + 2;
    uint32_t last = (ntohl(net) | ~mask) - 1;
    uint32_t n = last - first + 1;
    uint32_t prev = ntohl(ipam->last);
    uint32_t start = prev >= first && prev < last ? prev + 1 : first;

    for (uint32_t i = 0; i < n; i++) {
        uint32_t cand = first + (start - first + i) % n;
        if (!ipam_find_by_ip(ipam, htonl(cand))) {
            *ip = htonl(cand);
            return NULL;
        }
    }
    return xasprintf("every address of the podCIDR "IP_FMT"/%u is "
                     "allocated (%"PRIu32" pods)", IP_ARGS(net), plen, n);
}

/* The last 64 bits of 'ip6', as a number. */
static uint64_t
ipv6_low64(const struct in6_addr *ip6)
{
    ovs_be64 low;
    memcpy(&low, &ip6->s6_addr[8], sizeof low);
    return ntohll(low);
}

/* Finds a free IPv6 address in 'net6'/'plen6', after the last one handed
 * out.  The address is chosen among the last 64 bits (all of a /64 or
 * longer prefix's), never the first (the subnet-router anycast address)
 * or the second (the gateway).  Returns NULL and stores it in '*ip6', or
 * an error message. */
static char *
ipam_find_free_ipv6(const struct ipam *ipam, const struct in6_addr *net6,
                    unsigned int plen6, struct in6_addr *ip6)
{
    char s[INET6_ADDRSTRLEN];
    inet_ntop(AF_INET6, net6, s, sizeof s);
    if (plen6 > 126) {
        return xasprintf("the IPv6 podCIDR %s/%u has no room for pods", s,
                         plen6);
    }

    unsigned int host_bits = MIN(64, 128 - plen6);
    uint64_t host_mask = (host_bits == 64 ? UINT64_MAX
                          : (UINT64_C(1) << host_bits) - 1);
    struct in6_addr mask = ipv6_create_mask(plen6);
    struct in6_addr base = ipv6_addr_bitand(net6, &mask);

    /* The usable offsets are 2 to 'host_mask'. */
    uint64_t n = host_mask - 1;
    struct in6_addr prev_net = ipv6_addr_bitand(&ipam->last6, &mask);
    uint64_t prev = ipv6_low64(&ipam->last6) & host_mask;
    uint64_t cand = (ipv6_addr_equals(&prev_net, &base)
                     && prev >= 2 && prev < host_mask ? prev + 1 : 2);
    for (uint64_t i = 0; i < n; i++) {
        *ip6 = base;
        ovs_be64 low = htonll((ipv6_low64(&base) & ~host_mask) | cand);
        memcpy(&ip6->s6_addr[8], &low, sizeof low);
        if (!ipam_find_by_ip6(ipam, ip6)) {
            return NULL;
        }
        cand = cand == host_mask ? 2 : cand + 1;
    }
    return xasprintf("every address of the IPv6 podCIDR %s/%u is "
                     "allocated (%"PRIu64" pods)", s, plen6, n);
}

char *
ipam_allocate(struct ipam *ipam, const char *container_id,
              const char *ifname, const char *pod,
              const struct ipam_range *range, struct ipam_attachment **attp)
{
    struct ipam_attachment *att = ipam_find(ipam, container_id, ifname);
    if (att && (att->has_ip6 || !range->has_ip6)) {
        *attp = att;
        return NULL;
    }

    /* Every address is chosen before anything changes, so that a full
     * range of either family leaves the table as it was. */
    ovs_be32 ip = att ? att->ip : 0;
    char *error = (att || !range->has_ip ? NULL
                   : ipam_find_free_ipv4(ipam, range->net, range->plen,
                                         &ip));
    struct in6_addr ip6 = in6addr_any;
    if (!error && range->has_ip6) {
        error = ipam_find_free_ipv6(ipam, &range->net6, range->plen6, &ip6);
    }
    if (error) {
        return error;
    }

    ovs_be32 old_last = ipam->last;
    struct in6_addr old_last6 = ipam->last6;
    bool created = !att;
    if (created) {
        att = attachment_create(container_id, ifname, pod, ip, &ip6);
        if (ip) {
            ipam->last = ip;
        }
    } else {
        attachment_remove(ipam, att);
    }
    if (range->has_ip6) {
        att->has_ip6 = true;
        att->ip6 = ip6;
        ipam->last6 = ip6;
    }
    attachment_insert(ipam, att);

    error = ipam_save(ipam);
    if (error) {
        attachment_remove(ipam, att);
        ipam->last = old_last;
        ipam->last6 = old_last6;
        if (created) {
            attachment_free(att);
        } else {
            att->has_ip6 = false;
            att->ip6 = in6addr_any;
            attachment_insert(ipam, att);
        }
        return error;
    }
    ipam->seqno++;
    *attp = att;
    return NULL;
}

char *
ipam_set_attached(struct ipam *ipam, struct ipam_attachment *att)
{
    if (att->attached) {
        return NULL;
    }
    att->attached = true;
    char *error = ipam_save(ipam);
    if (error) {
        att->attached = false;
        return error;
    }
    ipam->seqno++;
    return NULL;
}

char *
ipam_release(struct ipam *ipam, const char *container_id,
             const char *ifname)
{
    struct ipam_attachment *att = ipam_find(ipam, container_id, ifname);
    if (!att) {
        return NULL;
    }
    attachment_remove(ipam, att);
    char *error = ipam_save(ipam);
    if (error) {
        attachment_insert(ipam, att);
        return error;
    }
    attachment_free(att);
    ipam->seqno++;
    return NULL;
}

char *
ipam_gc(struct ipam *ipam, const struct sset *valid, struct svec *released)
{
    struct ipam_attachment *att;
    struct svec keys = SVEC_EMPTY_INITIALIZER;

    HMAP_FOR_EACH_SAFE (att, key_node, &ipam->attachments) {
        if (!sset_contains(valid, att->key)) {
            svec_add(&keys, att->key);
        }
    }
    if (!keys.n) {
        svec_destroy(&keys);
        return NULL;
    }

    /* Removed from the table first, freed only once the file says so. */
    struct ipam_attachment **removed = xmalloc(keys.n * sizeof *removed);
    for (size_t i = 0; i < keys.n; i++) {
        HMAP_FOR_EACH_WITH_HASH (att, key_node, hash_string(keys.names[i], 0),
                                 &ipam->attachments) {
            if (!strcmp(att->key, keys.names[i])) {
                break;
            }
        }
        removed[i] = att;
        attachment_remove(ipam, att);
    }
    char *error = ipam_save(ipam);
    for (size_t i = 0; i < keys.n; i++) {
        if (error) {
            attachment_insert(ipam, removed[i]);
        } else {
            svec_add(released, removed[i]->key);
            attachment_free(removed[i]);
        }
    }
    if (!error) {
        ipam->seqno++;
    }
    free(removed);
    svec_destroy(&keys);
    return error;
}
