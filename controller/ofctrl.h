/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#ifndef CONTROLLER_OFCTRL_H
#define CONTROLLER_OFCTRL_H 1

/* An OpenFlow connection to a bridge.
 *
 * An ofctrl keeps what is installed on its bridge and brings it to the
 * desired flow table (flows/flow-table.h) by sending the difference, and only
 * the difference, as one atomic, ordered OpenFlow 1.5 bundle followed by a
 * barrier.  On every (re)connection it first dumps the bridge's flows and
 * diffs against them, so a restart of kovs-controller or of ovs-vswitchd
 * changes nothing a packet can see.
 *
 * Each bridge whose flow table kovs owns (br-int and br-ex) has its own
 * ofctrl, with its own installed flows and groups, statistics, pending
 * flow-statistics request and backoff.  The packet-ins that arrive on a
 * connection go to the handler that its creator gives it, and the
 * handler's answers go back on the same connection. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "openvswitch/match.h"
#include "openvswitch/ofp-protocol.h"

struct ds;
struct flow_table;
struct flows_ct_flush;
struct minimatch;
struct ofctrl;
struct ofp_header;
struct ofpbuf;
struct ovs_list;

/* Handles the packet-in 'oh', of OpenFlow version 'version', appending to
 * 'replies' the messages (struct ofpbuf) to send back on the same
 * connection.  'aux' is what the ofctrl's creator gave with it. */
typedef void ofctrl_packet_in_cb(const struct ofp_header *oh,
                                 enum ofp_version version,
                                 struct ovs_list *replies, void *aux);

/* Creates an ofctrl for the bridge called 'name' (used in log messages),
 * connecting to 'target' (usually "unix:<rundir>/<bridge>.mgmt"), that
 * gives the packet-ins it receives to 'packet_in' (NULL: drops them), with
 * 'aux'.  The caller owns the result and frees it with ofctrl_destroy(). */
struct ofctrl *ofctrl_create(const char *name, const char *target,
                             ofctrl_packet_in_cb *packet_in, void *aux);

/* Closes the connection and frees 'of'.  A pending flow-statistics request
 * gets its callback, with an error.  Accepts NULL. */
void ofctrl_destroy(struct ofctrl *of);

/* Processes messages from the switch.  Returns true if 'of' is ready to
 * take the desired state (connected and the switch's flows dumped). */
bool ofctrl_run(struct ofctrl *of);

/* Runs only the connection: connects, and sends the OpenFlow hello and
 * whatever is queued, without reading what the switch sent.  The main loop
 * calls this before work that can take seconds (decoding a large cluster
 * state), because ovs-vswitchd drops a connection whose hello has not come
 * within a second of the connect, and rconn then backs off. */
void ofctrl_run_connection(struct ofctrl *of);
void ofctrl_wait(struct ofctrl *of);

/* Brings the bridge to 'ft': sends the difference for the tracked entries of
 * 'ft' (or a full diff after a reconnection) as one bundle, then clears
 * 'ft''s tracking, and returns true: once ofctrl_get_acked_seqno() reaches
 * ofctrl_get_sent_seqno(), the switch has all of 'ft'.  Does nothing
 * (keeping the tracking) and returns false while not ready, and, if 'ft'
 * has changes, while the previous bundle is still being sent (they go in
 * the next bundle, after that one's commit).  A bundle that
 * ofctrl_put_ahead() left open takes the difference, and is committed.  A bundle's messages are
 * encoded as the switch reads them (from ofctrl_run()), from the
 * installed flows and the actions and groups of 'ft', which must
 * therefore stay until then: the caller may change 'ft' meanwhile (the
 * entries it removes stay in its tracking), but not clear its tracking or
 * destroy it.
 *
 * 'ct_flushes' (a list of "struct flows_ct_flush"s, or NULL) are the
 * conntrack flushes that the tracked changes call for
 * (flows_ct_flushes_for_changes()): they are sent right after the bundle
 * that removes the flows, if there is one.  A full diff ignores them and
 * asks the stale flow callback instead, for each flow it removes. */
bool ofctrl_put(struct ofctrl *of, struct flow_table *ft,
                const struct ovs_list *ct_flushes);

/* Returns true if ofctrl_put() would now make a diff of the tracked
 * changes, false if it would keep them for later. */
bool ofctrl_put_would_diff(const struct ofctrl *of);

/* Sends ahead, while 'ft' is still being computed, the flows and groups
 * that 'ft' added since the last call (or since ofctrl_put()) and that the
 * switch lacks, in a bundle that stays open: the next ofctrl_put() adds the
 * rest of the difference to the same bundle and commits it, so the switch
 * still changes at once, while it has already taken in much of the bundle.
 * Does nothing while not ready or while a committed bundle still streams.
 * The same rules as for ofctrl_put() hold for 'ft' in between. */
void ofctrl_put_ahead(struct ofctrl *of, struct flow_table *ft);

/* Returns true if removing the flow with key ('table_id', 'match') from
 * the bridge must also flush conntrack entries, and then stores which ones
 * in '*flush' (see flows_ct_flush_for_flow()). */
typedef bool ofctrl_stale_flow_flush_cb(uint8_t table_id,
                                        const struct minimatch *match,
                                        struct flows_ct_flush *flush);

/* Makes a full diff (after a connection, when the switch may hold flows
 * that no list of changes names, such as those of a previous
 * kovs-controller) ask 'cb' (NULL: nobody) which conntrack entries to
 * flush after each flow it removes. */
void ofctrl_set_stale_flow_flush(struct ofctrl *of,
                                 ofctrl_stale_flow_flush_cb *cb);

/* The number of bundles sent so far on any connection, and the number of
 * the last one the switch acknowledged with a barrier reply (or that a
 * dump of its flows since confirmed).  The switch has everything of the
 * flow table given to a successful ofctrl_put() once the second reaches
 * what the first was right after that call. */
uint64_t ofctrl_get_sent_seqno(const struct ofctrl *of);
uint64_t ofctrl_get_acked_seqno(const struct ofctrl *of);

/* Returns true, once, after the barrier reply of a bundle that added,
 * changed or removed a flow in a table for which
 * flows_table_change_purges_datapath() is true: the caller should then
 * purge the switch's datapath flow cache (controller/dpcache.h). */
bool ofctrl_take_datapath_purge(struct ofctrl *of);

/* Sets the meters the bridge should have, 'n' of them (copied): after
 * every (re)connection ofctrl dumps the switch's meters and adds, modifies
 * and deletes them to match, before the flows that use them.  A switch
 * without packets-per-second meters gets none, with a warning.  By default
 * a bridge has no meters, and ofctrl leaves its meters alone. */
struct ofputil_meter_config;
void ofctrl_set_meters(struct ofctrl *of,
                       const struct ofputil_meter_config *meters, size_t n);

/* Forces a full dump-and-diff on the next ofctrl_put(). */
void ofctrl_force_resync(struct ofctrl *of);

/* Statistics, for the status command. */
struct ofctrl_stats {
    bool connected;
    size_t n_installed;             /* Flows kovs believes installed. */
    size_t n_installed_groups;
    size_t n_desired_meters;        /* 0 if the switch has no meters. */
    size_t n_installed_meters;
    size_t last_flow_mods;          /* Flow-mods in the last bundle. */
    size_t last_group_mods;         /* Group-mods in the last bundle. */
    uint64_t total_flow_mods;
    uint64_t total_group_mods;
    uint64_t total_meter_mods;
    uint64_t n_bundles;
    uint64_t n_bundle_errors;       /* Bundles the switch rejected. */
    uint64_t n_full_syncs;
    long long int last_latency_ms;  /* Bundle sent to barrier reply. */
    long long int max_latency_ms;
    bool in_flight;                 /* A bundle awaits its barrier. */

    /* Bundles are streamed: their messages are encoded as rconn's send
     * queue drains, with at most about a megabyte of them queued. */
    bool streaming;                 /* A bundle is being sent. */
    size_t max_stream_queue_bytes;  /* The most bytes of a bundle queued. */
    uint64_t n_stream_waits;        /* Times a bundle waited for room. */
    uint64_t n_streams_abandoned;   /* Bundles given up before their
                                     * commit (reconnection, error or
                                     * resynchronization). */
    uint64_t ahead_flow_mods;       /* Flow-mods and group-mods sent */
    uint64_t ahead_group_mods;      /* ahead (ofctrl_put_ahead()). */
};
void ofctrl_get_stats(const struct ofctrl *of, struct ofctrl_stats *);

/* The heap that an ofctrl holds, in bytes, each block counted as glibc's
 * allocator takes it (its usable size and its size word). */
struct ofctrl_memory {
    size_t installed_flow_bytes;    /* The flows it believes installed. */
    size_t installed_group_bytes;   /* The groups it believes installed. */
    size_t bundle_bytes;            /* The bundle being streamed. */
    size_t queued_bytes;            /* Its messages in rconn's queue. */
};
void ofctrl_get_memory(const struct ofctrl *, struct ofctrl_memory *);

/* Stores in 'counts[T]' the number of flows that 'of' believes installed
 * in table T. */
void ofctrl_count_installed_flows(const struct ofctrl *of,
                                  size_t counts[256]);

/* Flow statistics, on request. */
struct ofctrl_flow_stat {
    uint8_t table_id;
    uint16_t priority;
    struct match match;
    uint64_t cookie;
    uint64_t n_packets;
};

/* Called with the statistics of the requested flows ('n' of them), or with
 * 'error' set if the connection was lost, or the ofctrl destroyed, first. */
typedef void ofctrl_flow_stats_cb(const struct ofctrl_flow_stat *, size_t n,
                                  const char *error, void *aux);

/* Asks the switch for the statistics of its flows whose cookie matches
 * 'cookie' under 'cookie_mask', and calls 'cb' with them once they are all
 * in.  Several requests may be pending at once.  Returns false (and never
 * calls 'cb') if not connected. */
bool ofctrl_request_flow_stats(struct ofctrl *of,
                               uint64_t cookie, uint64_t cookie_mask,
                               ofctrl_flow_stats_cb *cb, void *aux);

/* Meter statistics, on request: what a meter let through and what its
 * bands dropped, counted since the switch created it. */
struct ofctrl_meter_stat {
    uint32_t meter_id;
    uint64_t n_packets;             /* Packets that reached the meter. */
    uint64_t n_band_packets;        /* Packets its bands dropped. */
};

/* Called with the statistics of the requested meters ('n' of them: none if
 * the switch refused the request because it has no such meter), or with
 * 'error' set if the connection was lost, or the ofctrl destroyed, first. */
typedef void ofctrl_meter_stats_cb(const struct ofctrl_meter_stat *,
                                   size_t n, const char *error, void *aux);

/* Asks the switch for the statistics of meter 'meter_id' (OFPM13_ALL: of
 * every meter) and calls 'cb' with them once they are all in.  Returns
 * false (and never calls 'cb') if not connected or another meter
 * statistics request is pending. */
bool ofctrl_request_meter_stats(struct ofctrl *of, uint32_t meter_id,
                                ofctrl_meter_stats_cb *cb, void *aux);

/* Returns true if 'of' is connected, has sent the switch everything it was
 * last given with ofctrl_put() and the switch has acknowledged it: no
 * bundle or resynchronization is under way. */
bool ofctrl_is_idle(const struct ofctrl *of);

/* One difference between the switch and a desired flow table: a flow, by
 * its key ("table=T priority=P MATCH"), or a group ("group_id=N"), with
 * what each side has ("cookie=C actions=A" for a flow, the type and
 * buckets for a group), NULL for the side that lacks it.  'cookie' is the
 * desired flow's or group's owner, otherwise the switch's flow's (0 for a
 * group only the switch has). */
struct ofctrl_check_diff {
    uint64_t cookie;
    char *key;
    char *desired;
    char *installed;
};

/* Called with the differences ('n' of them, which the callee must not keep)
 * or, if the connection was lost or the ofctrl destroyed first, with
 * 'error' set. */
typedef void ofctrl_check_cb(const struct ofctrl_check_diff *, size_t n,
                             const char *error, void *aux);

/* Dumps the switch's flows (learned flows excepted) and groups afresh,
 * independently of what 'of' believes is installed, and once they are all
 * in compares them with 'ft' (which must still exist then: flows by key,
 * cookie and actions, groups by id and buckets) and calls 'cb'.  Returns
 * false (and never calls 'cb') if not connected or a check is pending. */
bool ofctrl_request_check(struct ofctrl *of, const struct flow_table *ft,
                          ofctrl_check_cb *cb, void *aux);

/* Appends the connection state to 'ds'. */
void ofctrl_format_connection(const struct ofctrl *of, struct ds *);

/* Sends 'msg' (for example, a packet-out built by pinctrl) on the
 * connection, and takes ownership of it.  Returns false, freeing 'msg', if
 * not connected. */
bool ofctrl_send_msg(struct ofctrl *of, struct ofpbuf *msg);

/* Returns the OpenFlow version negotiated with the switch, or 0 if not
 * connected. */
enum ofp_version ofctrl_get_version(const struct ofctrl *of);

/* Returns the bridge name given to ofctrl_create(). */
const char *ofctrl_get_name(const struct ofctrl *of);

#endif /* controller/ofctrl.h */
