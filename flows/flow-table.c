/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#include <config.h>

#include "flows/flow-table.h"

#include <stdarg.h>

#include "bitmap.h"
#include "hash.h"
#include "k8s/heap-bytes.h"
#include "nx-match.h"
#include "odp-netlink.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/ofp-group.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofpbuf.h"
#include "packets.h"
#include "svec.h"
#include "util.h"

/* The flows of one owner. */
struct flow_owner {
    struct hmap_node hmap_node;     /* In flow_table's 'owners'. */
    uint64_t id;                    /* A cookie, or a sub-owner's id. */
    struct ovs_list flows;          /* "struct desired_flow"s. */
    size_t n_flows;
    struct ovs_list groups;         /* "struct desired_group"s. */
    struct ovs_list conj_ids;       /* "struct conj_id_entry"s. */
    struct svec warnings;           /* See flow_table_add_warning(). */

    /* See flow_table_set_owner_memo(). */
    void *memo;
    void (*memo_destroy)(void *);
    struct ovs_list memo_node;      /* In flow_table's 'memos', if 'memo'. */
};

/* The present entries of one key (table, priority, match). */
struct desired_key {
    struct hmap_node node;          /* In flow_table's 'keys', by
                                     * flow_key_hash(). */
    uint8_t table_id;
    bool best_valid;                /* Is 'best' up to date? */
    uint16_t priority;
    uint32_t n_entries;
    const struct minimatch *match;  /* The first entry's. */
    struct ovs_list entries;        /* "struct desired_flow"s. */
    uint32_t n_conj;                /* Entries of conjunctions only. */
    const struct desired_flow *best;/* The lowest cookie, if 'best_valid'
                                     * (a cache: see desired_key_best()). */
};

/* The first id flow_table_new_owner_id() gives: its top byte is 0xff,
 * which no cookie's kind has. */
#define SUB_OWNER_ID_BASE UINT64_C(0xff00000000000000)

/* An allocated conjunction id. */
struct conj_id_entry {
    struct hmap_node hmap_node;     /* In flow_table's 'conj_ids', by id. */
    struct ovs_list owner_node;     /* In the owner's 'conj_ids'. */
    uint32_t id;
    char *key;
};

void
flow_table_init(struct flow_table *ft)
{
    hmap_init(&ft->flows);
    hmap_init(&ft->keys);
    hmap_init(&ft->owners);
    ovs_list_init(&ft->tracked);
    ft->n_flows = 0;
    hmap_init(&ft->groups);
    ovs_list_init(&ft->tracked_groups);
    hmap_init(&ft->conj_ids);
    sset_init(&ft->warnings);
    ovs_list_init(&ft->memos);
    ft->next_owner_id = SUB_OWNER_ID_BASE;
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

/* Returns true if 'ofpacts' is nothing but conjunction() actions. */
static bool
ofpacts_are_conjunctions(const struct ofpact *ofpacts, size_t ofpacts_len)
{
    const struct ofpact *a;

    if (!ofpacts_len) {
        return false;
    }
    OFPACT_FOR_EACH (a, ofpacts, ofpacts_len) {
        if (a->type != OFPACT_CONJUNCTION) {
            return false;
        }
    }
    return true;
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
    struct desired_key *k;
    HMAP_FOR_EACH_POP (k, node, &ft->keys) {
        free(k);
    }
    hmap_destroy(&ft->keys);

    struct desired_group *g;
    HMAP_FOR_EACH_POP (g, id_node, &ft->groups) {
        desired_group_free(g);
    }
    hmap_destroy(&ft->groups);

    struct conj_id_entry *c;
    HMAP_FOR_EACH_POP (c, hmap_node, &ft->conj_ids) {
        free(c->key);
        free(c);
    }
    hmap_destroy(&ft->conj_ids);

    struct flow_owner *owner;
    HMAP_FOR_EACH_POP (owner, hmap_node, &ft->owners) {
        if (owner->memo) {
            owner->memo_destroy(owner->memo);
        }
        svec_destroy(&owner->warnings);
        free(owner);
    }
    hmap_destroy(&ft->owners);
    sset_destroy(&ft->warnings);
}

uint32_t
flow_key_hash(uint8_t table_id, uint16_t priority,
              const struct minimatch *match)
{
    return minimatch_hash(match, ((uint32_t) table_id << 16) | priority);
}

static struct flow_owner *
flow_owner_find(const struct flow_table *ft, uint64_t id)
{
    struct flow_owner *owner;
    HMAP_FOR_EACH_WITH_HASH (owner, hmap_node, hash_uint64(id),
                             &ft->owners) {
        if (owner->id == id) {
            return owner;
        }
    }
    return NULL;
}

static struct flow_owner *
flow_owner_get(struct flow_table *ft, uint64_t id)
{
    struct flow_owner *owner = flow_owner_find(ft, id);
    if (!owner) {
        owner = xzalloc(sizeof *owner);
        owner->id = id;
        ovs_list_init(&owner->flows);
        ovs_list_init(&owner->groups);
        ovs_list_init(&owner->conj_ids);
        svec_init(&owner->warnings);
        hmap_insert(&ft->owners, &owner->hmap_node, hash_uint64(id));
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

/* Returns the present entries of the key ('table_id', 'priority', 'match',
 * whose flow_key_hash() is 'hash'), or NULL if it has none. */
static struct desired_key *
desired_key_find(const struct flow_table *ft, uint8_t table_id,
                 uint16_t priority, const struct minimatch *match,
                 uint32_t hash)
{
    struct desired_key *k;
    HMAP_FOR_EACH_WITH_HASH (k, node, hash, &ft->keys) {
        if (k->table_id == table_id && k->priority == priority
            && minimatch_equal(k->match, match)) {
            return k;
        }
    }
    return NULL;
}

/* Returns the entry of 'k' with the lowest cookie (the lowest owner among
 * equal cookies), the one the switch gets.  Computed once per change of the
 * key's entries, however often it is asked for. */
static const struct desired_flow *
desired_key_best(const struct desired_key *k_)
{
    struct desired_key *k = CONST_CAST(struct desired_key *, k_);
    if (!k->best_valid) {
        const struct desired_flow *f;
        k->best = NULL;
        LIST_FOR_EACH (f, key_entry_node, &k->entries) {
            if (!k->best || f->cookie < k->best->cookie
                || (f->cookie == k->best->cookie
                    && f->owner < k->best->owner)) {
                k->best = f;
            }
        }
        k->best_valid = true;
    }
    return k->best;
}

/* Returns the hash of the entry of 'owner' for the key whose hash is
 * 'key_hash', in flow_table's 'flows'. */
static uint32_t
desired_entry_hash(uint32_t key_hash, uint64_t owner)
{
    return hash_uint64_basis(owner, key_hash);
}

/* Takes present entry 'f' out of its key's entries, and the key out of
 * 'ft' once it has none. */
static void
desired_key_remove_entry(struct flow_table *ft, struct desired_flow *f)
{
    struct desired_key *k = f->key;
    ovs_list_remove(&f->key_entry_node);
    if (k->match == &f->match && !ovs_list_is_empty(&k->entries)) {
        const struct desired_flow *first = CONTAINER_OF(
            ovs_list_front(&k->entries), struct desired_flow, key_entry_node);
        k->match = &first->match;
    }
    k->n_entries--;
    if (ofpacts_are_conjunctions(f->ofpacts, f->ofpacts_len)) {
        k->n_conj--;
    }
    k->best_valid = false;
    if (!k->n_entries) {
        hmap_remove(&ft->keys, &k->node);
        free(k);
    }
    f->key = NULL;
}

void
flow_table_add(struct flow_table *ft, uint64_t cookie, uint8_t table_id,
               uint16_t priority, const struct match *match,
               const struct ofpbuf *ofpacts)
{
    flow_table_add_owned(ft, cookie, cookie, table_id, priority, match,
                         ofpacts);
}

void
flow_table_add_owned(struct flow_table *ft, uint64_t owner_id,
                     uint64_t cookie, uint8_t table_id, uint16_t priority,
                     const struct match *match, const struct ofpbuf *ofpacts)
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
    uint32_t entry_hash = desired_entry_hash(hash, owner_id);

    struct desired_key *k = desired_key_find(ft, table_id, priority, &mm,
                                             hash);
    struct desired_flow *f = NULL;
    if (k) {
        HMAP_FOR_EACH_WITH_HASH (f, key_node, entry_hash, &ft->flows) {
            if (f->owner == owner_id && f->key == k) {
                break;
            }
        }
    }
    if (f) {
        /* The same owner again: conjunctive clauses accumulate, anything
         * else keeps its first definition. */
        if (ofpacts_are_conjunctions(f->ofpacts, f->ofpacts_len)
            && ofpacts_are_conjunctions(ofpacts->data, ofpacts->size)) {
            struct ofpbuf merged;
            ofpbuf_init(&merged, f->ofpacts_len + ofpacts->size);
            ofpbuf_put(&merged, f->ofpacts, f->ofpacts_len);
            ofpbuf_put(&merged, ofpacts->data, ofpacts->size);
            free(f->ofpacts);
            f->ofpacts_len = merged.size;
            f->ofpacts = ofpbuf_steal_data(&merged);
            flow_table_track(ft, f);
        }
        minimatch_destroy(&mm);
        return;
    }

    struct flow_owner *owner = flow_owner_get(ft, owner_id);

    f = xzalloc(sizeof *f);
    f->table_id = table_id;
    f->priority = priority;
    f->match = mm;
    f->owner = owner_id;
    f->cookie = cookie;
    f->ofpacts = xmemdup(ofpacts->data, ofpacts->size);
    f->ofpacts_len = ofpacts->size;
    f->key_hash = hash;
    hmap_insert(&ft->flows, &f->key_node, entry_hash);
    ovs_list_push_back(&owner->flows, &f->owner_node);
    owner->n_flows++;
    flow_table_track(ft, f);

    if (!k) {
        k = xzalloc(sizeof *k);
        k->table_id = table_id;
        k->priority = priority;
        k->match = &f->match;
        ovs_list_init(&k->entries);
        hmap_insert(&ft->keys, &k->node, hash);
        ft->n_flows++;
    }
    f->key = k;
    ovs_list_push_back(&k->entries, &f->key_entry_node);
    k->n_entries++;
    if (ofpacts_are_conjunctions(f->ofpacts, f->ofpacts_len)) {
        k->n_conj++;
    }
    k->best_valid = false;
}

size_t
flow_table_remove_owner(struct flow_table *ft, uint64_t id)
{
    struct flow_owner *owner = flow_owner_find(ft, id);
    if (!owner) {
        return 0;
    }

    size_t n = owner->n_flows;
    struct desired_flow *f;
    LIST_FOR_EACH_POP (f, owner_node, &owner->flows) {
        if (f->key->n_entries == 1) {
            ft->n_flows--;
        }
        desired_key_remove_entry(ft, f);
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
    struct conj_id_entry *c;
    LIST_FOR_EACH_POP (c, owner_node, &owner->conj_ids) {
        hmap_remove(&ft->conj_ids, &c->hmap_node);
        free(c->key);
        free(c);
    }
    for (size_t i = 0; i < owner->warnings.n; i++) {
        sset_find_and_delete(&ft->warnings, owner->warnings.names[i]);
    }
    svec_destroy(&owner->warnings);
    if (owner->memo) {
        ovs_list_remove(&owner->memo_node);
        owner->memo_destroy(owner->memo);
    }
    hmap_remove(&ft->owners, &owner->hmap_node);
    free(owner);
    return n;
}

void
flow_table_set_owner_memo(struct flow_table *ft, uint64_t id, void *memo,
                          void (*memo_destroy)(void *))
{
    struct flow_owner *owner = flow_owner_get(ft, id);
    if (owner->memo) {
        ovs_list_remove(&owner->memo_node);
        owner->memo_destroy(owner->memo);
    }
    owner->memo = memo;
    owner->memo_destroy = memo_destroy;
    if (memo) {
        ovs_list_push_back(&ft->memos, &owner->memo_node);
    }
}

void *
flow_table_get_owner_memo(const struct flow_table *ft, uint64_t id)
{
    const struct flow_owner *owner = flow_owner_find(ft, id);
    return owner ? owner->memo : NULL;
}

size_t
flow_table_get_memos(const struct flow_table *ft,
                     void (*memo_destroy)(void *), void ***memos)
{
    *memos = xmalloc((ovs_list_size(&ft->memos) + 1) * sizeof **memos);

    size_t n = 0;
    const struct flow_owner *owner;
    LIST_FOR_EACH (owner, memo_node, &ft->memos) {
        if (owner->memo_destroy == memo_destroy) {
            (*memos)[n++] = owner->memo;
        }
    }
    return n;
}

uint64_t
flow_table_new_owner_id(struct flow_table *ft)
{
    return ++ft->next_owner_id;
}

void
flow_table_add_warning(struct flow_table *ft, uint64_t cookie,
                       const char *format, ...)
{
    va_list args;
    va_start(args, format);
    char *warning = xvasprintf(format, args);
    va_end(args);

    if (sset_add(&ft->warnings, warning)) {
        svec_add_nocopy(&flow_owner_get(ft, cookie)->warnings, warning);
    } else {
        free(warning);
    }
}

void
flow_group_get_props(const struct desired_group *g,
                     struct ofputil_group_props *props)
{
    memset(props, 0, sizeof *props);
    if (!g->hash_proto) {
        ovs_strlcpy(props->selection_method, "dp_hash",
                    sizeof props->selection_method);
        props->selection_method_param = (uint64_t) OVS_HASH_ALG_L4 << 32;
        return;
    }

    bool tcp = g->hash_proto == IPPROTO_TCP;
    bool udp = g->hash_proto == IPPROTO_UDP;
    const enum mf_field_id fields[] = {
        MFF_ETH_TYPE, MFF_IP_PROTO, MFF_IPV4_SRC, MFF_IPV4_DST,
        tcp ? MFF_TCP_SRC : udp ? MFF_UDP_SRC : MFF_SCTP_SRC,
        tcp ? MFF_TCP_DST : udp ? MFF_UDP_DST : MFF_SCTP_DST,
    };
    ovs_strlcpy(props->selection_method, "hash",
                sizeof props->selection_method);
    union mf_value all_ones;
    memset(&all_ones, 0xff, sizeof all_ones);
    for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
        field_array_set(fields[i], &all_ones, &props->fields);
    }
}

void
flow_group_props_format(const struct ofputil_group_props *props,
                        struct ds *s)
{
    if (!props->selection_method[0]) {
        return;
    }
    ds_put_format(s, ",selection_method=%s", props->selection_method);
    if (props->selection_method_param) {
        ds_put_format(s, ",selection_method_param=%"PRIu64,
                      props->selection_method_param);
    }
    size_t n = bitmap_count1(props->fields.used.bm, MFF_N_IDS);
    if (n == 1) {
        ds_put_cstr(s, ",fields=");
        oxm_format_field_array(s, &props->fields);
    } else if (n > 1) {
        ds_put_cstr(s, ",fields(");
        oxm_format_field_array(s, &props->fields);
        ds_put_char(s, ')');
    }
}

void
flow_table_format_flow(uint8_t table_id, uint16_t priority,
                       const struct minimatch *mm,
                       const struct ofpact *ofpacts, size_t ofpacts_len,
                       struct ds *s)
{
    struct match match;
    minimatch_expand(mm, &match);
    ds_put_format(s, "table=%"PRIu8" priority=%"PRIu16" ", table_id,
                  priority);
    match_format(&match, NULL, s, OFP_DEFAULT_PRIORITY);
    ds_put_cstr(s, " actions=");
    struct ofpact_format_params fp = { .s = s };
    ofpacts_format(ofpacts, ofpacts_len, &fp);
}

void
flow_group_format_start(struct ds *s, uint32_t group_id, const char *type,
                        const struct ofputil_group_props *props)
{
    ds_put_format(s, "group_id=%"PRIu32",type=%s", group_id, type);
    flow_group_props_format(props, s);
}

void
flow_group_format_bucket(struct ds *s, uint32_t bucket_id, uint16_t weight,
                         const struct ofpact *ofpacts, size_t ofpacts_len)
{
    struct ofpact_format_params fp = { .s = s };

    ds_put_format(s, ",bucket=bucket_id:%"PRIu32",weight:%"PRIu16
                  ",actions=", bucket_id, weight);
    ofpacts_format(ofpacts, ofpacts_len, &fp);
}

void
flow_group_format(const struct desired_group *g, struct ds *s)
{
    struct ofputil_group_props props;
    flow_group_get_props(g, &props);
    flow_group_format_start(s, g->group_id, "select", &props);
    ofputil_group_properties_destroy(&props);
    for (size_t i = 0; i < g->n_buckets; i++) {
        flow_group_format_bucket(s, i, g->buckets[i].weight,
                                 g->buckets[i].ofpacts,
                                 g->buckets[i].ofpacts_len);
    }
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
                     const struct ofpbuf *buckets, const uint16_t *weights,
                     size_t n_buckets, uint8_t hash_proto)
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
        g->buckets[i].weight = weights ? weights[i] : 100;
    }
    g->hash_proto = hash_proto;
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
        flow_table_remove_owner(ft, owner->id);
    }
}

size_t
flow_table_owner_count(const struct flow_table *ft, uint64_t id)
{
    const struct flow_owner *owner = flow_owner_find(ft, id);
    return owner ? owner->n_flows : 0;
}

const struct desired_key *
flow_table_shared_key(const struct desired_flow *f)
{
    return f->key && f->key->n_entries > 1 ? f->key : NULL;
}

const struct desired_flow *
flow_table_lookup(const struct flow_table *ft, uint8_t table_id,
                  uint16_t priority, const struct minimatch *match,
                  uint32_t hash)
{
    const struct desired_key *k = desired_key_find(ft, table_id, priority,
                                                   match, hash);
    return k ? desired_key_best(k) : NULL;
}

static int
conjunction_compare(const void *a_, const void *b_)
{
    const struct ofpact_conjunction *a = a_, *b = b_;
    return (a->id != b->id ? (a->id < b->id ? -1 : 1)
            : a->clause != b->clause ? (a->clause < b->clause ? -1 : 1)
            : a->n_clauses != b->n_clauses
            ? (a->n_clauses < b->n_clauses ? -1 : 1)
            : 0);
}

bool
flow_table_get_actions(const struct flow_table *ft, uint8_t table_id,
                       uint16_t priority, const struct minimatch *match,
                       uint32_t hash, struct ofpbuf *ofpacts,
                       uint64_t *cookie)
{
    const struct desired_key *k = desired_key_find(ft, table_id, priority,
                                                   match, hash);
    if (!k) {
        return false;
    }
    const struct desired_flow *best = desired_key_best(k);

    ofpbuf_clear(ofpacts);
    *cookie = best->cookie;
    if (k->n_conj != k->n_entries) {
        ofpbuf_put(ofpacts, best->ofpacts, best->ofpacts_len);
        return true;
    }

    size_t n_conj = 0;
    const struct desired_flow *f;
    LIST_FOR_EACH (f, key_entry_node, &k->entries) {
        n_conj += f->ofpacts_len / sizeof(struct ofpact_conjunction);
    }
    struct ofpact_conjunction *conj = xcalloc(n_conj, sizeof *conj);
    size_t n = 0;
    LIST_FOR_EACH (f, key_entry_node, &k->entries) {
        const struct ofpact *a;
        OFPACT_FOR_EACH (a, f->ofpacts, f->ofpacts_len) {
            ovs_assert(n < n_conj);
            conj[n++] = *ofpact_get_CONJUNCTION(a);
        }
    }
    qsort(conj, n, sizeof *conj, conjunction_compare);
    for (size_t i = 0; i < n; i++) {
        if (!i || conjunction_compare(&conj[i - 1], &conj[i])) {
            struct ofpact_conjunction *c = ofpact_put_CONJUNCTION(ofpacts);
            c->id = conj[i].id;
            c->clause = conj[i].clause;
            c->n_clauses = conj[i].n_clauses;
        }
    }
    free(conj);
    return true;
}

uint32_t
flow_table_alloc_conj_id(struct flow_table *ft, uint64_t cookie,
                         const char *key)
{
    uint32_t id = hash_string(key, 0x636f6e6a) % 0xfffffff0 + 1;
    for (;;) {
        const struct conj_id_entry *c;
        bool taken = false;
        HMAP_FOR_EACH_WITH_HASH (c, hmap_node, hash_int(id, 0),
                                 &ft->conj_ids) {
            if (c->id == id) {
                if (!strcmp(c->key, key)) {
                    return id;
                }
                taken = true;
                break;
            }
        }
        if (!taken) {
            break;
        }
        id = id % 0xfffffff0 + 1;
    }

    struct conj_id_entry *c = xmalloc(sizeof *c);
    c->id = id;
    c->key = xstrdup(key);
    hmap_insert(&ft->conj_ids, &c->hmap_node, hash_int(id, 0));
    ovs_list_push_back(&flow_owner_get(ft, cookie)->conj_ids, &c->owner_node);
    return id;
}

const char *
flow_table_conj_id_key(const struct flow_table *ft, uint32_t id)
{
    const struct conj_id_entry *c;
    HMAP_FOR_EACH_WITH_HASH (c, hmap_node, hash_int(id, 0), &ft->conj_ids) {
        if (c->id == id) {
            return c->key;
        }
    }
    return NULL;
}

size_t
flow_table_count(const struct flow_table *ft)
{
    return ft->n_flows;
}

size_t
flow_table_group_count(const struct flow_table *ft)
{
    return hmap_count(&ft->groups);
}

static size_t
desired_flow_bytes(const struct desired_flow *f)
{
    return (heap_block_bytes(f) + heap_block_bytes(f->match.flow)
            + heap_block_bytes(f->match.tun_md)
            + heap_block_bytes(f->ofpacts));
}

static size_t
desired_group_bytes(const struct desired_group *g)
{
    size_t bytes = (heap_block_bytes(g) + heap_block_bytes(g->key)
                    + heap_block_bytes(g->buckets));
    for (size_t i = 0; i < g->n_buckets; i++) {
        bytes += heap_block_bytes(g->buckets[i].ofpacts);
    }
    return bytes;
}

void
flow_table_memory(const struct flow_table *ft, size_t *flow_bytes,
                  size_t *group_bytes)
{
    size_t flows = (hmap_buckets_bytes(&ft->flows)
                    + hmap_buckets_bytes(&ft->keys));
    const struct desired_flow *f;
    HMAP_FOR_EACH (f, key_node, &ft->flows) {
        flows += desired_flow_bytes(f);
    }
    const struct desired_key *k;
    HMAP_FOR_EACH (k, node, &ft->keys) {
        flows += heap_block_bytes(k);
    }
    LIST_FOR_EACH (f, track_node, &ft->tracked) {
        if (f->removed) {
            flows += desired_flow_bytes(f);
        }
    }

    /* The owners (and their conjunction ids and warnings) go with the
     * flows. */
    flows += hmap_buckets_bytes(&ft->owners) + hmap_buckets_bytes(
        &ft->conj_ids);
    const struct flow_owner *owner;
    HMAP_FOR_EACH (owner, hmap_node, &ft->owners) {
        flows += heap_block_bytes(owner) + heap_block_bytes(
            owner->warnings.names);
        for (size_t i = 0; i < owner->warnings.n; i++) {
            flows += heap_block_bytes(owner->warnings.names[i]);
        }
    }
    const struct conj_id_entry *c;
    HMAP_FOR_EACH (c, hmap_node, &ft->conj_ids) {
        flows += heap_block_bytes(c) + heap_block_bytes(c->key);
    }

    size_t groups = hmap_buckets_bytes(&ft->groups);
    const struct desired_group *g;
    HMAP_FOR_EACH (g, id_node, &ft->groups) {
        groups += desired_group_bytes(g);
    }
    LIST_FOR_EACH (g, track_node, &ft->tracked_groups) {
        if (g->removed) {
            groups += desired_group_bytes(g);
        }
    }

    *flow_bytes = flows;
    *group_bytes = groups;
}

bool
flow_table_has_tracked(const struct flow_table *ft)
{
    return (!ovs_list_is_empty(&ft->tracked)
            || !ovs_list_is_empty(&ft->tracked_groups));
}

const struct desired_flow *
flow_table_tracked_next(const struct flow_table *ft,
                        const struct desired_flow *prev)
{
    const struct ovs_list *next = (prev ? prev->track_node.next
                                   : ft->tracked.next);
    return (next == &ft->tracked ? NULL
            : CONTAINER_OF(next, struct desired_flow, track_node));
}

const struct desired_group *
flow_table_tracked_group_next(const struct flow_table *ft,
                              const struct desired_group *prev)
{
    const struct ovs_list *next = (prev ? prev->track_node.next
                                   : ft->tracked_groups.next);
    return (next == &ft->tracked_groups ? NULL
            : CONTAINER_OF(next, struct desired_group, track_node));
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
