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
};

void
flow_table_init(struct flow_table *ft)
{
    hmap_init(&ft->flows);
    hmap_init(&ft->owners);
    ovs_list_init(&ft->tracked);
    ft->n_flows = 0;
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

static void
flow_table_track(struct flow_table *ft, struct desired_flow *f)
{
    if (!f->tracked) {
        ovs_list_push_back(&ft->tracked, &f->track_node);
        f->tracked = true;
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

    struct flow_owner *owner = flow_owner_find(ft, cookie);
    if (!owner) {
        owner = xzalloc(sizeof *owner);
        owner->cookie = cookie;
        ovs_list_init(&owner->flows);
        hmap_insert(&ft->owners, &owner->hmap_node, hash_uint64(cookie));
    }

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
    hmap_remove(&ft->owners, &owner->hmap_node);
    free(owner);
    return n;
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
    return !ovs_list_is_empty(&ft->tracked);
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
}
