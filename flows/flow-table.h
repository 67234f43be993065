/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#ifndef FLOWS_FLOW_TABLE_H
#define FLOWS_FLOW_TABLE_H 1

/* The desired flow table: every flow kovs wants on br-int, each with the
 * owner (a cookie, see pipeline.h) that wants it, plus the record of what
 * changed since the switch was last brought up to date.
 *
 * A flow is identified by its key (table, priority, match).  Several owners
 * may want the same key: each keeps its own entry, and the entry with the
 * lowest cookie is the one the switch gets, so the choice never depends on
 * the order of computation.  The exception is conjunctive clauses: when
 * every entry for a key has only conjunction() actions, the switch gets one
 * flow with all of them (one address that is a peer of several rules is one
 * flow), with the lowest cookie.
 *
 * Owners are recomputed whole: flow_table_remove_owner() drops an owner's
 * flows, the stage that owns them adds them again.  An owner is usually
 * the object its cookie names; a stage may also split an object's flows
 * into sub-owners (flow_table_new_owner_id()) whose flows still carry the
 * object's cookie, so that a part of them is recomputed alone while the
 * switch sees the same cookies (NetworkPolicy peers, flows/policy.h).  Both steps are recorded
 * as "tracked" entries, so that ofctrl can compare just those keys with what
 * is installed and send only the real difference. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "openvswitch/hmap.h"
#include "openvswitch/list.h"
#include "openvswitch/match.h"
#include "openvswitch/meta-flow.h"
#include "openvswitch/compiler.h"
#include "sset.h"

struct ds;
struct ofpbuf;
struct ofpact;
struct ofputil_group_props;

struct desired_key;

struct desired_flow {
    struct hmap_node key_node;      /* In flow_table's 'flows', by key and
                                     * owner. */
    uint32_t key_hash;              /* flow_key_hash() of the key. */
    uint32_t ofpacts_len;           /* The size of 'ofpacts'. */
    struct desired_key *key;        /* The entries of its key, or NULL once
                                     * removed. */
    struct ovs_list key_entry_node; /* In 'key''s 'entries'. */
    struct ovs_list owner_node;     /* In the owner's 'flows'. */
    struct ovs_list track_node;     /* In flow_table's 'tracked'. */
    bool tracked;                   /* Is 'track_node' in a list? */
    bool removed;                   /* Removed, kept until tracked. */

    uint8_t table_id;
    uint16_t priority;
    struct minimatch match;
    uint64_t owner;                 /* The owner: its cookie, or a
                                     * sub-owner's id. */
    uint64_t cookie;                /* What the switch gets. */
    struct ofpact *ofpacts;
};

/* A group: an OpenFlow select group, owned like a flow.  Its id is derived
 * from a stable key (for example a Service port), so that it is the same
 * after a restart. */
struct desired_bucket {
    struct ofpact *ofpacts;
    size_t ofpacts_len;
    uint16_t weight;
};

struct desired_group {
    struct hmap_node id_node;       /* In flow_table's 'groups' by id. */
    struct ovs_list owner_node;     /* In the owner's 'groups'. */
    struct ovs_list track_node;     /* In flow_table's 'tracked_groups'. */
    bool tracked;
    bool removed;

    uint32_t group_id;
    uint64_t cookie;                /* The owner. */
    char *key;
    uint8_t hash_proto;             /* How the group selects a bucket
                                     * for a new connection (see
                                     * flow_group_get_props()): 0, by
                                     * dp_hash; otherwise, by a hash of the
                                     * IPv4 5-tuple of this IP protocol. */
    struct desired_bucket *buckets;
    size_t n_buckets;
};

struct flow_table {
    struct hmap flows;              /* "struct desired_flow"s by key and
                                     * owner. */
    struct hmap keys;               /* "struct desired_key"s by key: the
                                     * entries of each key, so that a key
                                     * that thousands of owners share (an
                                     * endpoint of thousands of Services)
                                     * costs no more per entry than one. */
    struct hmap owners;             /* "struct flow_owner"s by cookie. */
    struct ovs_list tracked;        /* Added or removed since last cleared. */
    size_t n_flows;

    struct hmap groups;             /* "struct desired_group"s by id. */
    struct ovs_list tracked_groups; /* Added or removed since last cleared. */

    struct hmap conj_ids;           /* Allocated conjunction ids. */

    /* What the owners' objects ask for that their flows do not honour,
     * each a message that names the object ("NetworkPolicy ns/name: ..."):
     * the union of every present owner's warnings.  flows/ does no
     * logging; the controller reports what appears here. */
    struct sset warnings;

    struct ovs_list memos;          /* Owners with a memo. */
    uint64_t next_owner_id;         /* See flow_table_new_owner_id(). */
};

void flow_table_init(struct flow_table *);
void flow_table_destroy(struct flow_table *);

/* Adds a flow owned by 'cookie'.  Copies 'match' and 'ofpacts'.  Adding the
 * same key twice for one owner keeps the first entry. */
void flow_table_add(struct flow_table *, uint64_t cookie, uint8_t table_id,
                    uint16_t priority, const struct match *,
                    const struct ofpbuf *ofpacts);

/* The same, for owner 'owner_id' (a sub-owner from
 * flow_table_new_owner_id()), with 'cookie' as the flow's cookie. */
void flow_table_add_owned(struct flow_table *, uint64_t owner_id,
                          uint64_t cookie, uint8_t table_id,
                          uint16_t priority, const struct match *,
                          const struct ofpbuf *ofpacts);

/* Returns an owner id that no cookie and no other sub-owner of the table
 * has (its top byte is 0xff). */
uint64_t flow_table_new_owner_id(struct flow_table *);

/* Attaches 'memo' to owner 'id' (created if need be), replacing (and
 * destroying) any memo it had: what the stage that computed the owner
 * keeps about how it did, to update a part of its flows later without
 * recomputing them all.  'memo_destroy' frees it when the owner is removed
 * or the table destroyed.  The memo is part of the desired state, derived
 * from the same input as the flows. */
void flow_table_set_owner_memo(struct flow_table *, uint64_t id, void *memo,
                               void (*memo_destroy)(void *));

/* Returns the memo of owner 'id', or NULL. */
void *flow_table_get_owner_memo(const struct flow_table *, uint64_t id);

/* Stores in '*memos' (a new array the caller frees) the memo of every owner
 * whose memo has destructor 'memo_destroy' (so, of one stage's kind) and
 * returns their number. */
size_t flow_table_get_memos(const struct flow_table *,
                            void (*memo_destroy)(void *), void ***memos);

/* Adds a select group owned by 'cookie', identified by 'key', with one
 * bucket per element of 'buckets' (each a series of ofpacts, copied),
 * weighted by 'weights' (NULL: all 100), selecting as 'hash_proto' says
 * (see struct desired_group).  Returns its group id, which flows use in
 * their group action. */
uint32_t flow_table_add_group(struct flow_table *, uint64_t cookie,
                              const char *key, const struct ofpbuf *buckets,
                              const uint16_t *weights, size_t n_buckets,
                              uint8_t hash_proto);

/* Stores in 'props' (which the caller destroys with
 * ofputil_group_properties_destroy()) the selection method of 'g':
 *
 *   - 'hash_proto' 0: "dp_hash" with the datapath's L4 hash
 *     (OVS_HASH_ALG_L4), a hash of the 5-tuple that the datapath computes
 *     itself, UDP and SCTP ports included.  A new connection costs a
 *     recirculation, no upcall: the megaflows match the hash's low bits.
 *     (The switch's default, with no selection method, is dp_hash with
 *     the symmetric L4 hash, which leaves UDP ports out, so that every
 *     UDP socket of a client would get the same bucket.)  ovs-vswitchd
 *     maps at most 256 hash values to buckets: beyond 256 buckets of equal
 *     weight it falls back to a hash that also leaves UDP ports out.
 *
 *   - otherwise "hash" with the IPv4 5-tuple of that protocol as fields:
 *     ovs-vswitchd hashes them when it translates, so any number of
 *     buckets works and the choice does not depend on dp_hash (which a
 *     parent group already used), but each new connection is an upcall
 *     and a megaflow of its own. */
void flow_group_get_props(const struct desired_group *,
                          struct ofputil_group_props *);

/* Appends the selection method in 'props' to 's' as ovs-ofctl prints it in
 * a group: nothing for the switch's default, otherwise
 * ",selection_method=M[,selection_method_param=P][,fields(F,...)]". */
void flow_group_props_format(const struct ofputil_group_props *,
                             struct ds *);

/* Appends the flow with key ('table_id', 'priority', 'match') and actions
 * 'ofpacts' to 's' as "table=T priority=P MATCH actions=ACTIONS". */
void flow_table_format_flow(uint8_t table_id, uint16_t priority,
                            const struct minimatch *match,
                            const struct ofpact *ofpacts,
                            size_t ofpacts_len, struct ds *s);

/* Appends 'g' to 's' in ovs-ofctl's add-group syntax (OpenFlow 1.5), its
 * buckets numbered from 0 as kovs-controller sends them.  A group that
 * kovs built and one decoded from the switch give the same text when they
 * are the same group. */
void flow_group_format(const struct desired_group *g, struct ds *s);

/* The parts of flow_group_format(), for a group decoded from the switch:
 * "group_id=ID,type=TYPE" and the selection method in 'props', then one
 * ",bucket=bucket_id:ID,weight:W,actions=ACTIONS" per bucket. */
void flow_group_format_start(struct ds *, uint32_t group_id,
                             const char *type,
                             const struct ofputil_group_props *);
void flow_group_format_bucket(struct ds *, uint32_t bucket_id,
                              uint16_t weight, const struct ofpact *,
                              size_t ofpacts_len);

/* Returns the present group with id 'group_id', or NULL. */
const struct desired_group *flow_table_find_group(const struct flow_table *,
                                                  uint32_t group_id);

#define FLOW_TABLE_FOR_EACH_GROUP(GROUP, FT) \
    HMAP_FOR_EACH (GROUP, id_node, &(FT)->groups)
#define FLOW_TABLE_FOR_EACH_TRACKED_GROUP(GROUP, FT) \
    LIST_FOR_EACH (GROUP, track_node, &(FT)->tracked_groups)

/* Removes every flow, group and conjunction id of the owner 'id' (a cookie
 * or a sub-owner's id), and its warnings and memo.  Returns the number of
 * flows removed. */
size_t flow_table_remove_owner(struct flow_table *, uint64_t id);

/* Records, for owner 'cookie', a warning (printf-formatted, naming the
 * object and its field) about something its object asks for that its flows
 * do not honour.  It stays in 'ft->warnings' until the owner is removed
 * (recomputing an owner removes it first), so a caller that compares
 * 'ft->warnings' before and after a computation sees each problem appear
 * once, however often the owner is recomputed. */
void flow_table_add_warning(struct flow_table *, uint64_t cookie,
                            const char *format, ...)
    OVS_PRINTF_FORMAT(3, 4);

/* Removes every owner's flows, as the start of a full recomputation. */
void flow_table_remove_all(struct flow_table *);

/* Returns the number of flows owned by 'id' (its sub-owners' not
 * counted). */
size_t flow_table_owner_count(const struct flow_table *, uint64_t id);

/* Returns the hash of a flow key, as used in 'flows' (and by ofctrl for its
 * own table of installed flows). */
uint32_t flow_key_hash(uint8_t table_id, uint16_t priority,
                       const struct minimatch *);

/* Returns the flow the switch should have for the key (the entry with the
 * lowest cookie), or NULL if no owner wants that key. */
/* Returns the key of present entry 'f' if other present entries share it,
 * otherwise NULL: a caller that handles a key once, for all its entries,
 * needs to remember only these. */
const struct desired_key *flow_table_shared_key(const struct desired_flow *f);

const struct desired_flow *flow_table_lookup(const struct flow_table *,
                                             uint8_t table_id,
                                             uint16_t priority,
                                             const struct minimatch *,
                                             uint32_t hash);

/* Computes the actions the switch should have for the key: those of the
 * entry with the lowest cookie, or, if every entry has only conjunction()
 * actions, all of them merged, sorted and without duplicates.  Stores them
 * in 'ofpacts' (cleared first) and the cookie in '*cookie'.  Returns false,
 * with nothing stored, if no owner wants the key. */
bool flow_table_get_actions(const struct flow_table *, uint8_t table_id,
                            uint16_t priority, const struct minimatch *,
                            uint32_t hash, struct ofpbuf *ofpacts,
                            uint64_t *cookie);

/* Allocates a conjunction id for 'key' (stable for the same key and the
 * same set of other keys), owned by 'cookie' and released with the
 * owner's flows.  Never 0. */
uint32_t flow_table_alloc_conj_id(struct flow_table *, uint64_t cookie,
                                  const char *key);

/* Returns the key that conjunction id 'id' was allocated for, or NULL. */
const char *flow_table_conj_id_key(const struct flow_table *, uint32_t id);

/* Returns the number of distinct keys: the flows the switch should have. */
size_t flow_table_count(const struct flow_table *);

/* Returns the number of present groups. */
size_t flow_table_group_count(const struct flow_table *);

/* Iterates over the entries added or removed since the last
 * flow_table_clear_tracked(). */
#define FLOW_TABLE_FOR_EACH_TRACKED(FLOW, FT) \
    LIST_FOR_EACH (FLOW, track_node, &(FT)->tracked)

/* Iterates over all present entries (including every owner's entry for a
 * shared key). */
#define FLOW_TABLE_FOR_EACH(FLOW, FT) \
    HMAP_FOR_EACH (FLOW, key_node, &(FT)->flows)

/* Stores in '*flow_bytes' the heap bytes that the flows of 'ft' hold (with
 * their owners, conjunction ids and warnings, and the removed flows still
 * tracked), and in '*group_bytes' what its groups hold, each block counted
 * as glibc's allocator takes it (its usable size and its size word). */
void flow_table_memory(const struct flow_table *, size_t *flow_bytes,
                       size_t *group_bytes);

bool flow_table_has_tracked(const struct flow_table *);

/* The tracked flow or group after 'prev' (NULL: the first one) in the order
 * they were tracked, or NULL.  Tracking only appends, so a consumer can
 * resume where it stopped until the tracking is cleared. */
const struct desired_flow *flow_table_tracked_next(
    const struct flow_table *, const struct desired_flow *prev);
const struct desired_group *flow_table_tracked_group_next(
    const struct flow_table *, const struct desired_group *prev);

/* Forgets what was tracked (flows and groups) and frees the removed
 * entries. */
void flow_table_clear_tracked(struct flow_table *);

#endif /* flows/flow-table.h */
