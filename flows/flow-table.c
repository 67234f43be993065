/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#include <config.h>

#include "flows/flow-table.h"

#include "hash.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofpbuf.h"
#include "packets.h"
#include "util.h"

/* The flows of one owner. */
struct flow_owner {
    struct hmap_node hmap_node;     /* In flow_table's 'owners'. */
    uint64_t cookie;
    struct ovs_list flows;          /* "struct desired_flow"s. */
    size_t n_flows;
    struct ovs_list groups;         /* "struct desired_group"s. */
};

void
flow_table_init(struct flow_table *ft)
{
    hmap_init(&ft->flows);
    hmap_init(&ft->owners);
    ovs_list_init(&ft->tracked);
    ft->n_flows = 0;
    hmap_init(&ft->groups);
    ovs_list_init(&ft->tracked_groups);
}

static void
desired_group_free(struct desired_group *g)
{
    for (size_t i = 0; i < g->n_buckets; i++) {
        free(g->buckets[i].ofpacts);
    }
    free(g->buckets);
    free(g->key);
    free(g);
}

static void
desired_flow_free(struct desired_flow *f)
{
    minimatch_destroy(&f->match);
    free(f->ofpacts);
    free(f);
}

void
flow_table_destroy(struct flow_table *ft)
{
    if (!ft) {
        return;
    }
    flow_table_clear_tracked(ft);

    struct desired_flow *f;
    HMAP_FOR_EACH_POP (f, key_node, &ft->flows) {
        desired_flow_free(f);
    }
    hmap_destroy(&ft->flows);

    struct desired_group *g;
    HMAP_FOR_EACH_POP (g, id_node, &ft->groups) {
        desired_group_free(g);
    }
    hmap_destroy(&ft->groups);

    struct flow_owner *owner;
    HMAP_FOR_EACH_POP (owner, hmap_node, &ft->owners) {
        free(owner);
    }
    hmap_destroy(&ft->owners);
}

uint32_t
flow_key_hash(uint8_t table_id, uint16_t priority,
              const struct minimatch *match)
{
    return minimatch_hash(match, ((uint32_t) table_id << 16) | priority);
}

static bool
flow_key_equals(const struct desired_flow *f, uint8_t table_id,
                uint16_t priority, const struct minimatch *match)
{
    return (f->table_id == table_id
            && f->priority == priority
            && minimatch_equal(&f->match, match));
}

static struct flow_owner *
flow_owner_find(const struct flow_table *ft, uint64_t cookie)
{
    struct flow_owner *owner;
    HMAP_FOR_EACH_WITH_HASH (owner, hmap_node, hash_uint64(cookie),
                             &ft->owners) {
        if (owner->cookie == cookie) {
            return owner;
        }
    }
    return NULL;
}

static struct flow_owner *
flow_owner_get(struct flow_table *ft, uint64_t cookie)
{
    struct flow_owner *owner = flow_owner_find(ft, cookie);
    if (!owner) {
        owner = xzalloc(sizeof *owner);
        owner->cookie = cookie;
        ovs_list_init(&owner->flows);
        ovs_list_init(&owner->groups);
        hmap_insert(&ft->owners, &owner->hmap_node, hash_uint64(cookie));
    }
    return owner;
}

static void
flow_table_track(struct flow_table *ft, struct desired_flow *f)
{
    if (!f->tracked) {
        ovs_list_push_back(&ft->tracked, &f->track_node);
        f->tracked = true;
    }
}

static void
group_track(struct flow_table *ft, struct desired_group *g)
{
    if (!g->tracked) {
        ovs_list_push_back(&ft->tracked_groups, &g->track_node);
        g->tracked = true;
    }
}

/* Returns true if some present entry other than 'self' has the key of
 * 'self'. */
static bool
flow_key_is_shared(const struct flow_table *ft, const struct desired_flow *self)
{
    const struct desired_flow *f;
    HMAP_FOR_EACH_WITH_HASH (f, key_node, self->key_node.hash, &ft->flows) {
        if (f != self && flow_key_equals(f, self->table_id, self->priority,
                                         &self->match)) {
            return true;
        }
    }
    return false;
}

void
flow_table_add(struct flow_table *ft, uint64_t cookie, uint8_t table_id,
               uint16_t priority, const struct match *match,
               const struct ofpbuf *ofpacts)
{
    /* Keys must compare equal to what the switch reports back in a flow
     * dump, which is how a restart finds nothing to change: a match on
     * dl_type comes back with packet_type=eth made explicit. */
    struct minimatch mm;
    if (match->wc.masks.dl_type && !match->wc.masks.packet_type) {
        struct match canonical = *match;
        match_set_packet_type(&canonical, htonl(PT_ETH));
        minimatch_init(&mm, &canonical);
    } else {
        minimatch_init(&mm, match);
    }
    uint32_t hash = flow_key_hash(table_id, priority, &mm);

    bool shared = false;
    struct desired_flow *f;
    HMAP_FOR_EACH_WITH_HASH (f, key_node, hash, &ft->flows) {
        if (flow_key_equals(f, table_id, priority, &mm)) {
            if (f->cookie == cookie) {
                minimatch_destroy(&mm);
                return;
            }
            shared = true;
        }
    }

    struct flow_owner *owner = flow_owner_get(ft, cookie);

    f = xzalloc(sizeof *f);
    f->table_id = table_id;
    f->priority = priority;
    f->match = mm;
    f->cookie = cookie;
    f->ofpacts = xmemdup(ofpacts->data, ofpacts->size);
    f->ofpacts_len = ofpacts->size;
    hmap_insert(&ft->flows, &f->key_node, hash);
    ovs_list_push_back(&owner->flows, &f->owner_node);
    owner->n_flows++;
    flow_table_track(ft, f);
    if (!shared) {
        ft->n_flows++;
    }
}

size_t
flow_table_remove_owner(struct flow_table *ft, uint64_t cookie)
{
    struct flow_owner *owner = flow_owner_find(ft, cookie);
    if (!owner) {
        return 0;
    }

    size_t n = owner->n_flows;
    struct desired_flow *f;
    LIST_FOR_EACH_POP (f, owner_node, &owner->flows) {
        if (!flow_key_is_shared(ft, f)) {
            ft->n_flows--;
        }
        hmap_remove(&ft->flows, &f->key_node);
        f->removed = true;
        if (f->tracked) {
            /* Added and removed before the switch saw it: the tracked list
             * still needs the key, so keep it there as removed. */
        } else {
            flow_table_track(ft, f);
        }
    }
    struct desired_group *g;
    LIST_FOR_EACH_POP (g, owner_node, &owner->groups) {
        hmap_remove(&ft->groups, &g->id_node);
        g->removed = true;
        group_track(ft, g);
    }
    hmap_remove(&ft->owners, &owner->hmap_node);
    free(owner);
    return n;
}

const struct desired_group *
flow_table_find_group(const struct flow_table *ft, uint32_t group_id)
{
    const struct desired_group *g;
    HMAP_FOR_EACH_WITH_HASH (g, id_node, hash_int(group_id, 0), &ft->groups) {
        if (g->group_id == group_id) {
            return g;
        }
    }
    return NULL;
}

uint32_t
flow_table_add_group(struct flow_table *ft, uint64_t cookie, const char *key,
                     const struct ofpbuf *buckets, size_t n_buckets)
{
    /* The id is a hash of the key, probing past ids that other keys hold;
     * ids stay below OFPG_MAX. */
    uint32_t id = hash_string(key, 0) % 0x7ffffff0 + 1;
    for (;;) {
        const struct desired_group *other = flow_table_find_group(ft, id);
        if (!other) {
            break;
        }
        if (!strcmp(other->key, key)) {
            /* The same key twice: the first definition wins. */
            return id;
        }
        id = id % 0x7ffffff0 + 1;
    }

    struct desired_group *g = xzalloc(sizeof *g);
    g->group_id = id;
    g->cookie = cookie;
    g->key = xstrdup(key);
    g->n_buckets = n_buckets;
    g->buckets = xcalloc(n_buckets ? n_buckets : 1, sizeof *g->buckets);
    for (size_t i = 0; i < n_buckets; i++) {
        g->buckets[i].ofpacts = xmemdup(buckets[i].data, buckets[i].size);
        g->buckets[i].ofpacts_len = buckets[i].size;
    }
    hmap_insert(&ft->groups, &g->id_node, hash_int(id, 0));
    ovs_list_push_back(&flow_owner_get(ft, cookie)->groups, &g->owner_node);
    group_track(ft, g);
    return id;
}

void
flow_table_remove_all(struct flow_table *ft)
{
    struct flow_owner *owner;
    HMAP_FOR_EACH_SAFE (owner, hmap_node, &ft->owners) {
        flow_table_remove_owner(ft, owner->cookie);
    }
}

size_t
flow_table_owner_count(const struct flow_table *ft, uint64_t cookie)
{
    const struct flow_owner *owner = flow_owner_find(ft, cookie);
    return owner ? owner->n_flows : 0;
}

const struct desired_flow *
flow_table_lookup(const struct flow_table *ft, uint8_t table_id,
                  uint16_t priority, const struct minimatch *match,
                  uint32_t hash)
{
    const struct desired_flow *best = NULL;
    const struct desired_flow *f;
    HMAP_FOR_EACH_WITH_HASH (f, key_node, hash, &ft->flows) {
        if (flow_key_equals(f, table_id, priority, match)
            && (!best || f->cookie < best->cookie)) {
            best = f;
        }
    }
    return best;
}

size_t
flow_table_count(const struct flow_table *ft)
{
    return ft->n_flows;
}

bool
flow_table_has_tracked(const struct flow_table *ft)
{
    return (!ovs_list_is_empty(&ft->tracked)
            || !ovs_list_is_empty(&ft->tracked_groups));
}

void
flow_table_clear_tracked(struct flow_table *ft)
{
    struct desired_flow *f;
    LIST_FOR_EACH_POP (f, track_node, &ft->tracked) {
        f->tracked = false;
        if (f->removed) {
            desired_flow_free(f);
        }
    }

    struct desired_group *g;
    LIST_FOR_EACH_POP (g, track_node, &ft->tracked_groups) {
        g->tracked = false;
        if (g->removed) {
            desired_group_free(g);
        }
    }
}
