/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#include <config.h>

#include "controller/ofctrl.h"

#include <unistd.h>

#include "bitmap.h"
#include "flows/flow-table.h"
#include "flows/flows.h"
#include "flows/pipeline.h"
#include "hash.h"
#include "hmapx.h"
#include "k8s/heap-bytes.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/match.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofp-bundle.h"
#include "openvswitch/ofp-ct.h"
#include "openvswitch/ofp-errors.h"
#include "openvswitch/ofp-flow.h"
#include "openvswitch/ofp-group.h"
#include "openvswitch/ofp-meter.h"
#include "openvswitch/ofp-msgs.h"
#include "openvswitch/ofp-packet.h"
#include "openvswitch/ofp-print.h"
#include "openvswitch/ofp-switch.h"
#include "openvswitch/ofp-protocol.h"
#include "openvswitch/ofp-util.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/rconn.h"
#include "openvswitch/vlog.h"
#include "openvswitch/poll-loop.h"
#include "packets.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(ofctrl);

/* A flow as the switch has it. */
struct installed_flow {
    struct hmap_node hmap_node;     /* In 'installed', by flow_key_hash(). */
    uint8_t table_id;
    bool wire;                      /* See 'actions_digest'. */
    uint16_t priority;
    struct minimatch match;
    uint64_t cookie;

    /* A 128-bit hash of the actions (hash_bytes128()), which is all it
     * takes to tell whether the desired actions differ, at a small part of
     * the memory of the actions themselves (100,000 flows hold tens of
     * megabytes of actions): either of the actions as kovs built them
     * (when kovs installed the flow), or, for a flow read back from the
     * switch ('wire'), of their OpenFlow 1.5 wire format.  Decoded actions
     * are not byte-for-byte what kovs builds, but the wire format of the
     * same actions is, so that is how dumped flows are compared. */
    ovs_u128 actions_digest;
};

/* A flow of a check's dump. */
struct check_flow {
    struct installed_flow flow;
    char *text;                     /* "cookie=C actions=A" as the switch
                                     * has it. */
};

static const char *
check_flow_text(const struct installed_flow *f)
{
    return CONTAINER_OF(f, struct check_flow, flow)->text;
}

/* A group as the switch has it.  The installed groups keep only a 128-bit
 * digest (see struct group_digest), which is what tells whether a desired
 * group changed: at 20,000 groups of 10 buckets their text would be tens
 * of megabytes.  A check's dump keeps the text (flow_group_format()), to
 * compare and print it. */
struct installed_group {
    struct hmap_node hmap_node;     /* In 'installed_groups', by id. */
    uint32_t group_id;
    ovs_u128 digest;                /* In 'installed_groups': see struct
                                     * group_digest. */
    char *text;                     /* In a check's dump only, else NULL. */
};

/* A meter as the switch has it, described by meter_text(). */
struct installed_meter {
    struct hmap_node hmap_node;     /* In 'installed_meters', by id. */
    uint32_t meter_id;
    char *text;
};

/* Buckets per group-mod message: a group with more buckets is sent as one
 * add or modify followed by insert-bucket messages in the same bundle. */
#define OFCTRL_BUCKETS_PER_MSG 256

enum ofctrl_state {
    S_DISCONNECTED,
    S_DUMPING,          /* Waiting for the switch's flows. */
    S_READY,
};

/* After the switch rejects an update, the next attempt waits: 1 s, then
 * twice as long each time it fails again, up to 30 s.  A successful update
 * resets the delay. */
#define OFCTRL_BACKOFF_MIN_MS 1000
#define OFCTRL_BACKOFF_MAX_MS 30000

/* A pending request for flow statistics. */
struct flow_stats_request {
    struct ovs_list list_node;      /* In 'stats_requests'. */
    ovs_be32 xid;
    ofctrl_flow_stats_cb *cb;
    void *aux;
    struct ofctrl_flow_stat *stats;
    size_t n, allocated;
};

/* A pending request for meter statistics. */
struct meter_stats_request {
    bool pending;
    ovs_be32 xid;
    ofctrl_meter_stats_cb *cb;
    void *aux;
    struct ofctrl_meter_stat *stats;
    size_t n, allocated;
};

/* A pending check of the switch against a desired flow table: a dump of
 * its flows and groups of its own, compared once complete. */
struct ofctrl_check {
    bool pending;
    ovs_be32 flow_xid, group_xid;
    bool flows_dumped, groups_dumped;
    struct hmap flows;              /* "struct installed_flow"s. */
    struct hmap groups;             /* "struct installed_group"s. */
    const struct flow_table *ft;
    ofctrl_check_cb *cb;
    void *aux;
};

/* The OpenFlow connection to one bridge, and what the bridge holds. */
struct ofctrl {
    char *name;                     /* The bridge's name, for logs. */
    ofctrl_packet_in_cb *packet_in; /* Handler of packet-ins, or NULL. */
    void *packet_in_aux;            /* Its argument. */
    ofctrl_stale_flow_flush_cb *stale_flow_flush; /* Or NULL. */
    struct rconn *swconn;
    unsigned int seqno;             /* Connection seqno last seen. */
    char *target;                   /* The switch's address. */
    char *socket_path;              /* A "unix:" target's file, or NULL. */
    bool socket_present;            /* Whether it was there last time. */
    enum ofctrl_state state;

    /* The dump of the switch's flows and groups after a connection. */
    ovs_be32 dump_xid;
    ovs_be32 group_dump_xid;
    bool flows_dumped, groups_dumped;

    struct hmap installed;          /* Contains "struct installed_flow"s. */
    struct hmap installed_groups;   /* Contains "struct installed_group"s. */
    bool need_full_sync;

    /* Meters: those the bridge should have (ofctrl_set_meters()), and
     * those it has.  Meter-mods cannot go in a bundle (ovs-vswitchd
     * refuses them there), so they are sent just before a bundle (adds and
     * modifies, so that the flows that name a meter find it) and just
     * after it (deletions).  They change only after a (re)connection. */
    struct ofputil_meter_config *meters;
    size_t n_meters;
    struct hmap installed_meters;   /* Contains "struct installed_meter"s. */
    ovs_be32 meter_features_xid;
    ovs_be32 meter_dump_xid;
    bool meters_dumped;
    bool meters_supported;          /* The switch has pktps meters. */
    uint32_t next_bundle_id;

    /* The bundles awaiting their barrier replies, oldest first: a bundle
     * may follow another before the switch acknowledged it, and the switch
     * answers barriers in order. */
    struct ovs_list barriers;       /* Contains "struct ofctrl_barrier"s. */

    /* The bundle being streamed, if any (see struct ofctrl_bundle), the
     * bytes of its messages in rconn's send queue, and the transaction id
     * of the last request to discard an abandoned bundle. */
    struct ofctrl_bundle *stream;
    struct rconn_packet_counter *stream_bytes;
    ovs_be32 discard_xid;

    /* ofctrl_put_ahead(): the last tracked flow and group of 'ahead_ft' it
     * looked at (NULL: none yet), until the next diff clears the
     * tracking. */
    const struct flow_table *ahead_ft;
    const struct desired_flow *ahead_flow;
    const struct desired_group *ahead_group;

    /* The tables whose flows ofctrl_put_ahead() holds back, because one of
     * their keys turned out to have several entries (owners).  The lowest
     * cookie among a key's entries wins, so a flow sent ahead for a key
     * that another owner joins later may have to be sent again with
     * another cookie (in Open vSwitch, an add that replaces the flow), and
     * where one key is shared, more usually are: a Service's endpoint
     * that other Services share, a peer in several policies. */
    unsigned long held_tables[BITMAP_N_LONGS(256)];

    /* Bundles sent, and the number of the last one the switch is known to
     * have committed. */
    uint64_t sent_seqno;
    uint64_t acked_seqno;
    bool purge_datapath;            /* Such a bundle is installed; see
                                     * ofctrl_take_datapath_purge(). */

    struct ofctrl_stats stats;
    struct ovs_list stats_requests; /* "struct flow_stats_request"s. */
    struct meter_stats_request meter_stats_request;
    struct ofctrl_check check;

    /* Backoff after an error from the switch: no update before 'retry_at',
     * and the next error waits twice 'backoff_ms'. */
    long long int retry_at;
    int backoff_ms;
};

/* A bundle sent to the switch, awaiting its barrier reply. */
struct ofctrl_barrier {
    struct ovs_list list_node;      /* In ofctrl's 'barriers'. */
    ovs_be32 xid;                   /* The barrier request's. */
    uint64_t seqno;                 /* The 'sent_seqno' it acknowledges. */
    bool purges;                    /* The bundle changed a table of
                                     * flows_table_change_purges_datapath(). */
    long long int sent_msec;
};

static bool
ofctrl_barrier_pending(const struct ofctrl *of)
{
    return !ovs_list_is_empty(&of->barriers);
}

/* Forgets every bundle awaiting its barrier reply: they acknowledge
 * nothing now. */
static void
ofctrl_barriers_clear(struct ofctrl *of)
{
    struct ofctrl_barrier *b;

    LIST_FOR_EACH_POP (b, list_node, &of->barriers) {
        free(b);
    }
}

/* Calls 'req''s callback with what it collected, or with 'error', and
 * frees it. */
static void
stats_request_finish(struct flow_stats_request *req, const char *error)
{
    ovs_list_remove(&req->list_node);
    req->cb(req->stats, req->n, error, req->aux);
    free(req->stats);
    free(req);
}

/* Finishes every pending request with 'error'. */
static void
stats_requests_fail(struct ofctrl *of, const char *error)
{
    struct flow_stats_request *req;
    LIST_FOR_EACH_SAFE (req, list_node, &of->stats_requests) {
        stats_request_finish(req, error);
    }
}

static void
meter_stats_request_finish(struct ofctrl *of, const char *error)
{
    struct meter_stats_request *req = &of->meter_stats_request;

    if (req->pending) {
        req->pending = false;
        req->cb(req->stats, req->n, error, req->aux);
        free(req->stats);
        req->stats = NULL;
        req->n = req->allocated = 0;
    }
}

bool
ofctrl_request_meter_stats(struct ofctrl *of, uint32_t meter_id,
                           ofctrl_meter_stats_cb *cb, void *aux)
{
    struct meter_stats_request *req = &of->meter_stats_request;

    if (req->pending || !rconn_is_connected(of->swconn)) {
        return false;
    }

    struct ofpbuf *msg = ofputil_encode_meter_request(
        rconn_get_version(of->swconn), OFPUTIL_METER_STATS, meter_id);
    req->xid = ((struct ofp_header *) msg->data)->xid;
    rconn_send(of->swconn, msg, NULL);
    req->pending = true;
    req->cb = cb;
    req->aux = aux;
    return true;
}

static void
meter_stats_request_handle_reply(struct ofctrl *of,
                                 const struct ofp_header *oh)
{
    struct meter_stats_request *req = &of->meter_stats_request;
    struct ofpbuf b = ofpbuf_const_initializer(oh, ntohs(oh->length));
    struct ofpbuf bands;

    ofpbuf_init(&bands, 0);
    for (;;) {
        struct ofputil_meter_stats ms;
        if (ofputil_decode_meter_stats(&b, &ms, &bands)) {
            break;
        }
        uint64_t n_band_packets = 0;
        for (size_t i = 0; i < ms.n_bands; i++) {
            n_band_packets += ms.bands[i].packet_count;
        }
        if (req->n >= req->allocated) {
            req->stats = x2nrealloc(req->stats, &req->allocated,
                                    sizeof *req->stats);
        }
        req->stats[req->n++] = (struct ofctrl_meter_stat) {
            .meter_id = ms.meter_id,
            .n_packets = ms.packet_in_count,
            .n_band_packets = n_band_packets,
        };
    }
    ofpbuf_uninit(&bands);
    if (!ofpmp_more(oh)) {
        meter_stats_request_finish(of, NULL);
    }
}

static ovs_be32 send_flow_dump(struct ofctrl *, uint64_t cookie,
                               uint64_t cookie_mask);
static ovs_be32 send_group_dump(struct ofctrl *);

bool
ofctrl_request_flow_stats(struct ofctrl *of,
                          uint64_t cookie, uint64_t cookie_mask,
                          ofctrl_flow_stats_cb *cb, void *aux)
{
    if (!rconn_is_connected(of->swconn)) {
        return false;
    }

    struct flow_stats_request *req = xzalloc(sizeof *req);
    req->xid = send_flow_dump(of, cookie, cookie_mask);
    req->cb = cb;
    req->aux = aux;
    ovs_list_push_back(&of->stats_requests, &req->list_node);
    return true;
}

/* Returns the pending request whose dump has transaction id 'xid', or
 * NULL. */
static struct flow_stats_request *
stats_request_find(const struct ofctrl *of, ovs_be32 xid)
{
    struct flow_stats_request *req;
    LIST_FOR_EACH (req, list_node, &of->stats_requests) {
        if (req->xid == xid) {
            return req;
        }
    }
    return NULL;
}

static void
stats_request_handle_reply(struct flow_stats_request *req,
                           const struct ofp_header *oh)
{
    struct ofpbuf b = ofpbuf_const_initializer(oh, ntohs(oh->length));
    struct ofpbuf ofpacts;
    ofpbuf_init(&ofpacts, 0);
    for (;;) {
        struct ofputil_flow_stats fs;
        if (ofputil_decode_flow_stats_reply(&fs, &b, false, &ofpacts)) {
            break;
        }
        if (req->n >= req->allocated) {
            req->stats = x2nrealloc(req->stats, &req->allocated,
                                    sizeof *req->stats);
        }
        req->stats[req->n++] = (struct ofctrl_flow_stat) {
            .table_id = fs.table_id,
            .priority = fs.priority,
            .match = fs.match,
            .cookie = ntohll(fs.cookie),
            .n_packets = fs.packet_count,
        };
    }
    ofpbuf_uninit(&ofpacts);
    if (!ofpmp_more(oh)) {
        stats_request_finish(req, NULL);
    }
}

static void installed_clear(struct ofctrl *);
static void ofctrl_stream_abandon(struct ofctrl *);
static void ofctrl_stream_run(struct ofctrl *);
static void ofctrl_put__(struct ofctrl *, struct flow_table *,
                         const struct ovs_list *ct_flushes);
static void check_finish(struct ofctrl *, const char *error);
static void ofctrl_connect_when_socket_appears(struct ofctrl *);

struct ofctrl *
ofctrl_create(const char *name, const char *target,
              ofctrl_packet_in_cb *packet_in, void *aux)
{
    struct ofctrl *of = xzalloc(sizeof *of);

    of->name = xstrdup(name);
    of->packet_in = packet_in;
    of->packet_in_aux = aux;
    of->swconn = rconn_create(0, 8, 0, 1u << OFP15_VERSION);
    of->stream_bytes = rconn_packet_counter_create();
    of->target = xstrdup(target);
    if (!strncmp(target, "unix:", 5)) {
        /* The bridge's socket: connect once it is there. */
        of->socket_path = xstrdup(target + 5);
        of->socket_present = false;
        ofctrl_connect_when_socket_appears(of);
    } else {
        rconn_connect(of->swconn, target, target);
    }
    of->seqno = rconn_get_connection_seqno(of->swconn);
    of->state = S_DISCONNECTED;
    hmap_init(&of->installed);
    hmap_init(&of->installed_groups);
    hmap_init(&of->installed_meters);
    ovs_list_init(&of->stats_requests);
    ovs_list_init(&of->barriers);
    hmap_init(&of->check.flows);
    hmap_init(&of->check.groups);
    of->next_bundle_id = 1;
    return of;
}

static void
meters_free(struct ofputil_meter_config *meters, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(meters[i].bands);
    }
    free(meters);
}

void
ofctrl_set_meters(struct ofctrl *of, const struct ofputil_meter_config *meters,
                  size_t n)
{
    meters_free(of->meters, of->n_meters);
    of->meters = xmemdup(meters, n * sizeof *meters);
    for (size_t i = 0; i < n; i++) {
        of->meters[i].bands = xmemdup(meters[i].bands,
                                      meters[i].n_bands
                                      * sizeof *meters[i].bands);
    }
    of->n_meters = n;
    ofctrl_force_resync(of);
}

void
ofctrl_destroy(struct ofctrl *of)
{
    if (of) {
        stats_requests_fail(of, "the connection to the switch was closed");
        meter_stats_request_finish(of, "the connection to the switch was "
                                   "closed");
        check_finish(of, "the connection to the switch was closed");
        ofctrl_stream_abandon(of);
        rconn_destroy(of->swconn);
        rconn_packet_counter_destroy(of->stream_bytes);
        free(of->target);
        free(of->socket_path);
        installed_clear(of);
        ofctrl_barriers_clear(of);
        hmap_destroy(&of->check.flows);
        hmap_destroy(&of->check.groups);
        hmap_destroy(&of->installed);
        hmap_destroy(&of->installed_groups);
        hmap_destroy(&of->installed_meters);
        meters_free(of->meters, of->n_meters);
        free(of->name);
        free(of);
    }
}

const char *
ofctrl_get_name(const struct ofctrl *of)
{
    return of->name;
}

enum ofp_version
ofctrl_get_version(const struct ofctrl *of)
{
    return rconn_is_connected(of->swconn) ? rconn_get_version(of->swconn) : 0;
}

static enum ofputil_protocol
ofctrl_protocol(const struct ofctrl *of)
{
    return ofputil_protocol_from_ofp_version(rconn_get_version(of->swconn));
}

static void
ofctrl_send(struct ofctrl *of, struct ofpbuf *msg)
{
    rconn_send(of->swconn, msg, NULL);
}

/* Asks the switch for its flows whose cookie matches 'cookie' under
 * 'cookie_mask' (0 and 0: all of them), in every table.  Returns the
 * request's xid, which its replies carry. */
static ovs_be32
send_flow_dump(struct ofctrl *of, uint64_t cookie, uint64_t cookie_mask)
{
    struct ofputil_flow_stats_request fsr = {
        .table_id = 0xff,
        .out_port = OFPP_ANY,
        .out_group = OFPG_ANY,
        .cookie = htonll(cookie),
        .cookie_mask = htonll(cookie_mask),
    };
    match_init_catchall(&fsr.match);

    struct ofpbuf *msg = ofputil_encode_flow_stats_request(
        &fsr, ofctrl_protocol(of));
    ovs_be32 xid = ((struct ofp_header *) msg->data)->xid;
    ofctrl_send(of, msg);
    return xid;
}

/* Asks the switch for all of its groups.  Returns the request's xid. */
static ovs_be32
send_group_dump(struct ofctrl *of)
{
    struct ofpbuf *msg = ofputil_encode_group_desc_request(
        rconn_get_version(of->swconn), OFPG_ALL);
    ovs_be32 xid = ((struct ofp_header *) msg->data)->xid;
    ofctrl_send(of, msg);
    return xid;
}

bool
ofctrl_send_msg(struct ofctrl *of, struct ofpbuf *msg)
{
    return !rconn_send(of->swconn, msg, NULL);
}

static void
installed_flow_free(struct installed_flow *f)
{
    minimatch_destroy(&f->match);
    free(f);
}

static void
installed_group_free(struct installed_group *g)
{
    free(g->text);
    free(g);
}

static void
installed_meter_free(struct installed_meter *m)
{
    free(m->text);
    free(m);
}

static void
installed_clear(struct ofctrl *of)
{
    struct installed_flow *f;
    HMAP_FOR_EACH_POP (f, hmap_node, &of->installed) {
        installed_flow_free(f);
    }
    struct installed_group *g;
    HMAP_FOR_EACH_POP (g, hmap_node, &of->installed_groups) {
        installed_group_free(g);
    }
    struct installed_meter *m;
    HMAP_FOR_EACH_POP (m, hmap_node, &of->installed_meters) {
        installed_meter_free(m);
    }
}

static struct installed_meter *
installed_meter_find(const struct ofctrl *of, uint32_t meter_id)
{
    struct installed_meter *m;
    HMAP_FOR_EACH_WITH_HASH (m, hmap_node, hash_int(meter_id, 0),
                             &of->installed_meters) {
        if (m->meter_id == meter_id) {
            return m;
        }
    }
    return NULL;
}

static void
installed_meter_set(struct ofctrl *of, uint32_t meter_id, char *text)
{
    struct installed_meter *m = installed_meter_find(of, meter_id);
    if (!m) {
        m = xzalloc(sizeof *m);
        m->meter_id = meter_id;
        hmap_insert(&of->installed_meters, &m->hmap_node,
                    hash_int(meter_id, 0));
    } else {
        free(m->text);
    }
    m->text = text;
}

/* Describes a meter's configuration as text, the same way for a meter kovs
 * wants and one decoded from the switch, so the two compare. */
static char *
meter_text(const struct ofputil_meter_config *mc)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    ofputil_format_meter_config(&s, mc);
    return ds_steal_cstr(&s);
}

static struct installed_group *
group_map_find(const struct hmap *groups, uint32_t group_id)
{
    struct installed_group *g;
    HMAP_FOR_EACH_WITH_HASH (g, hmap_node, hash_int(group_id, 0), groups) {
        if (g->group_id == group_id) {
            return g;
        }
    }
    return NULL;
}

/* Returns group 'group_id' of 'groups', adding it (zeroed) if it is not
 * there. */
static struct installed_group *
group_map_get(struct hmap *groups, uint32_t group_id)
{
    struct installed_group *g = group_map_find(groups, group_id);
    if (!g) {
        g = xzalloc(sizeof *g);
        g->group_id = group_id;
        hmap_insert(groups, &g->hmap_node, hash_int(group_id, 0));
    }
    return g;
}

/* Sets the text of group 'group_id' in a check's 'groups', taking
 * 'text'. */
static void
group_map_set(struct hmap *groups, uint32_t group_id, char *text)
{
    struct installed_group *g = group_map_get(groups, group_id);
    free(g->text);
    g->text = text;
}

static struct installed_group *
installed_group_find(const struct ofctrl *of, uint32_t group_id)
{
    return group_map_find(&of->installed_groups, group_id);
}

static void
installed_group_set(struct ofctrl *of, uint32_t group_id, ovs_u128 digest)
{
    group_map_get(&of->installed_groups, group_id)->digest = digest;
}

/* Describes a group as text, the same way for a group kovs built and one
 * decoded from the switch (flow_group_format()), so the two compare. */
static char *
desired_group_text(const struct desired_group *g)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    flow_group_format(g, &s);
    return ds_steal_cstr(&s);
}

/* The digest of a group that ofctrl compares, the same for a group kovs
 * built and one decoded from the switch: of its header as text (its id,
 * type and selection properties, see flow_group_format_start()) and of
 * each bucket's id, weight and actions in OpenFlow 1.5's encoding, which
 * costs a small part of what formatting the actions as text does. */
struct group_digest {
    struct ofpbuf buf;
    uint64_t stub[1024 / 8];
};

static void
group_digest_start(struct group_digest *gd, uint32_t group_id,
                   const char *type, const struct ofputil_group_props *props)
{
    ofpbuf_use_stub(&gd->buf, gd->stub, sizeof gd->stub);
    struct ds s = DS_EMPTY_INITIALIZER;
    flow_group_format_start(&s, group_id, type, props);
    ofpbuf_put(&gd->buf, s.string, s.length + 1);
    ds_destroy(&s);
}

static void
group_digest_bucket(struct group_digest *gd, uint32_t bucket_id,
                    uint16_t weight, const struct ofpact *ofpacts,
                    size_t ofpacts_len)
{
    struct {
        uint32_t bucket_id;
        uint16_t weight;
        uint16_t pad;
        uint32_t actions_len;
    } head = { .bucket_id = bucket_id, .weight = weight };
    size_t head_ofs = gd->buf.size;
    ofpbuf_put(&gd->buf, &head, sizeof head);
    size_t start = gd->buf.size;
    ofpacts_put_openflow_actions(ofpacts, ofpacts_len, &gd->buf,
                                 OFP15_VERSION);
    head.actions_len = gd->buf.size - start;
    memcpy((char *) gd->buf.data + head_ofs, &head, sizeof head);
}

static ovs_u128
group_digest_finish(struct group_digest *gd)
{
    ovs_u128 digest;
    hash_bytes128(gd->buf.data, gd->buf.size, 0, &digest);
    ofpbuf_uninit(&gd->buf);
    return digest;
}

static ovs_u128
desired_group_digest(const struct desired_group *g)
{
    struct group_digest gd;
    struct ofputil_group_props props;
    flow_group_get_props(g, &props);
    group_digest_start(&gd, g->group_id, "select", &props);
    ofputil_group_properties_destroy(&props);
    for (size_t i = 0; i < g->n_buckets; i++) {
        group_digest_bucket(&gd, i, g->buckets[i].weight,
                            g->buckets[i].ofpacts, g->buckets[i].ofpacts_len);
    }
    return group_digest_finish(&gd);
}

static struct installed_flow *
installed_find_in(const struct hmap *flows, uint8_t table_id,
                  uint16_t priority, const struct minimatch *match,
                  uint32_t hash)
{
    struct installed_flow *f;
    HMAP_FOR_EACH_WITH_HASH (f, hmap_node, hash, flows) {
        if (f->table_id == table_id && f->priority == priority
            && minimatch_equal(&f->match, match)) {
            return f;
        }
    }
    return NULL;
}

static struct installed_flow *
installed_find(const struct ofctrl *of, uint8_t table_id, uint16_t priority,
               const struct minimatch *match, uint32_t hash)
{
    return installed_find_in(&of->installed, table_id, priority, match,
                             hash);
}

/* Asks the switch for all of its flows; the replies rebuild 'installed'. */
static void
ofctrl_start_dump(struct ofctrl *of)
{
    /* A bundle still streaming refers to installed flows, and the dump
     * tells afresh what the switch has. */
    ofctrl_stream_abandon(of);
    installed_clear(of);
    of->state = S_DUMPING;
    of->flows_dumped = of->groups_dumped = false;
    of->dump_xid = send_flow_dump(of, 0, 0);
    of->group_dump_xid = send_group_dump(of);

    struct ofpbuf *msg;

    /* Meters only where kovs wants some: first whether the switch has
     * them at all, then which it has. */
    of->meters_dumped = !of->n_meters;
    if (of->n_meters) {
        enum ofp_version version = rconn_get_version(of->swconn);
        msg = ofputil_encode_meter_request(version, OFPUTIL_METER_FEATURES,
                                           0);
        of->meter_features_xid = ((struct ofp_header *) msg->data)->xid;
        ofctrl_send(of, msg);
        msg = ofputil_encode_meter_request(version, OFPUTIL_METER_CONFIG,
                                           OFPM13_ALL);
        of->meter_dump_xid = ((struct ofp_header *) msg->data)->xid;
        ofctrl_send(of, msg);
    }
}

static void
ofctrl_check_dumped(struct ofctrl *of)
{
    if (of->state == S_DUMPING && of->flows_dumped && of->groups_dumped
        && of->meters_dumped) {
        VLOG_INFO("%s: switch holds %"PRIuSIZE" flows, %"PRIuSIZE
                  " groups and %"PRIuSIZE" meters", of->name,
                  hmap_count(&of->installed),
                  hmap_count(&of->installed_groups),
                  hmap_count(&of->installed_meters));
        of->state = S_READY;
        of->need_full_sync = true;
    }
}

/* Adds the groups of the group description reply 'oh' to 'groups'. */
static void
parse_group_desc(struct ofctrl *of, const struct ofp_header *oh,
                 struct hmap *groups)
{
    struct ofpbuf b = ofpbuf_const_initializer(oh, ntohs(oh->length));

    for (;;) {
        struct ofputil_group_desc gd;
        int error = ofputil_decode_group_desc_reply(&gd, &b, oh->version);
        if (error) {
            if (error != EOF) {
                VLOG_WARN("%s: cannot decode the switch's group dump: %s",
                          of->name, ofperr_to_string(error));
                ofctrl_force_resync(of);
            }
            break;
        }

        const char *type = gd.type == OFPGT11_SELECT ? "select" : "other";
        const struct ofputil_bucket *bucket;
        if (groups == &of->installed_groups) {
            struct group_digest d;
            group_digest_start(&d, gd.group_id, type, &gd.props);
            LIST_FOR_EACH (bucket, list_node, &gd.buckets) {
                group_digest_bucket(&d, bucket->bucket_id, bucket->weight,
                                    bucket->ofpacts, bucket->ofpacts_len);
            }
            installed_group_set(of, gd.group_id, group_digest_finish(&d));
        } else {
            struct ds s = DS_EMPTY_INITIALIZER;
            flow_group_format_start(&s, gd.group_id, type, &gd.props);
            LIST_FOR_EACH (bucket, list_node, &gd.buckets) {
                flow_group_format_bucket(&s, bucket->bucket_id, bucket->weight,
                                         bucket->ofpacts, bucket->ofpacts_len);
            }
            group_map_set(groups, gd.group_id, ds_steal_cstr(&s));
        }
        ofputil_uninit_group_desc(&gd);
    }
}

static void
ofctrl_handle_group_desc(struct ofctrl *of, const struct ofp_header *oh)
{
    parse_group_desc(of, oh, &of->installed_groups);
    if (!ofpmp_more(oh)) {
        of->groups_dumped = true;
        ofctrl_check_dumped(of);
    }
}

static void
ofctrl_handle_meter_features(struct ofctrl *of, const struct ofp_header *oh)
{
    struct ofputil_meter_features mf;
    ofputil_decode_meter_features(oh, &mf);

    bool supported = (mf.max_meters
                      && mf.capabilities & OFPMF13_PKTPS
                      && mf.capabilities & OFPMF13_BURST
                      && mf.band_types & (1u << OFPMBT13_DROP));
    if (!supported) {
        VLOG_WARN("%s: the switch has no meters of packets per second "
                  "(at most %"PRIu32" meters): packet-ins are not "
                  "rate-limited", of->name, mf.max_meters);
    }
    of->meters_supported = supported;
}

static void
ofctrl_handle_meter_config(struct ofctrl *of, const struct ofp_header *oh)
{
    struct ofpbuf b = ofpbuf_const_initializer(oh, ntohs(oh->length));
    struct ofpbuf bands;
    ofpbuf_init(&bands, 64);

    for (;;) {
        struct ofputil_meter_config mc;
        int error = ofputil_decode_meter_config(&b, &mc, &bands);
        if (error) {
            if (error != EOF) {
                VLOG_WARN("%s: cannot decode the switch's meter dump: %s",
                          of->name, ofperr_to_string(error));
                ofctrl_force_resync(of);
            }
            break;
        }
        installed_meter_set(of, mc.meter_id, meter_text(&mc));
    }
    ofpbuf_uninit(&bands);

    if (!ofpmp_more(oh)) {
        of->meters_dumped = true;
        ofctrl_check_dumped(of);
    }
}

/* Adds the flows of the flow statistics reply 'oh' to 'flows', learned
 * flows excepted, with their actions in wire format and, if 'text', as
 * text too. */
static void
parse_flow_stats(struct ofctrl *of, const struct ofp_header *oh,
                 struct hmap *flows, bool text)
{
    struct ofpbuf b = ofpbuf_const_initializer(oh, ntohs(oh->length));
    uint64_t stub[1024 / 8];
    uint64_t wire_stub[1024 / 8];
    struct ofpbuf ofpacts = OFPBUF_STUB_INITIALIZER(stub);

    for (;;) {
        struct ofputil_flow_stats fs;
        int error = ofputil_decode_flow_stats_reply(&fs, &b, false, &ofpacts);
        if (error) {
            if (error != EOF) {
                VLOG_WARN("%s: cannot decode the switch's flow dump: %s",
                          of->name, ofperr_to_string(error));
                ofctrl_force_resync(of);
            }
            break;
        }

        uint64_t cookie = ntohll(fs.cookie);
        if (kovs_cookie_kind(cookie) == KOVS_OWNER_LEARNED) {
            /* Learned at run time by the switch (session affinity): not
             * kovs's to compare or remove. */
            continue;
        }
        struct check_flow *cf = text ? xzalloc(sizeof *cf) : NULL;
        struct installed_flow *f = cf ? &cf->flow : xzalloc(sizeof *f);
        f->table_id = fs.table_id;
        f->priority = fs.priority;
        minimatch_init(&f->match, &fs.match);
        f->cookie = cookie;
        struct ofpbuf wire = OFPBUF_STUB_INITIALIZER(wire_stub);
        ofpacts_put_openflow_instructions(fs.ofpacts, fs.ofpacts_len, &wire,
                                          OFP15_VERSION);
        hash_bytes128(wire.data, wire.size, 0, &f->actions_digest);
        f->wire = true;
        ofpbuf_uninit(&wire);
        if (text) {
            struct ds s = DS_EMPTY_INITIALIZER;
            struct ofpact_format_params fp = { .s = &s };
            ds_put_format(&s, "cookie=%#"PRIx64" actions=", cookie);
            ofpacts_format(fs.ofpacts, fs.ofpacts_len, &fp);
            cf->text = ds_steal_cstr(&s);
        }
        hmap_insert(flows, &f->hmap_node,
                    flow_key_hash(f->table_id, f->priority, &f->match));
    }
    ofpbuf_uninit(&ofpacts);
}

static void
ofctrl_handle_flow_stats(struct ofctrl *of, const struct ofp_header *oh)
{
    parse_flow_stats(of, oh, &of->installed, false);
    if (!ofpmp_more(oh)) {
        of->flows_dumped = true;
        ofctrl_check_dumped(of);
    }
}

static void
ofctrl_handle_error(struct ofctrl *of, const struct ofp_header *oh)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);

    if (of->state == S_DUMPING && !of->meters_dumped
        && (oh->xid == of->meter_features_xid
            || oh->xid == of->meter_dump_xid)) {
        /* A switch without meters may refuse to talk about them. */
        VLOG_WARN_RL(&rl, "%s: the switch has no meters: packet-ins are "
                     "not rate-limited", of->name);
        of->meters_supported = false;
        of->meters_dumped = true;
        ofctrl_check_dumped(of);
        return;
    }

    if (of->meter_stats_request.pending
        && oh->xid == of->meter_stats_request.xid) {
        /* No such meter (or no meters at all): no statistics.  The flows
         * are not concerned. */
        meter_stats_request_finish(of, NULL);
        return;
    }

    if (oh->xid == of->discard_xid) {
        /* The switch no longer had a bundle kovs abandoned. */
        return;
    }

    char *s = ofp_to_string(oh, ntohs(oh->length), NULL, NULL, 2);

    of->backoff_ms = (!of->backoff_ms ? OFCTRL_BACKOFF_MIN_MS
                      : MIN(of->backoff_ms * 2, OFCTRL_BACKOFF_MAX_MS));
    of->retry_at = time_msec() + of->backoff_ms;
    VLOG_WARN_RL(&rl, "%s: switch reported an error, resynchronizing in "
                 "%d ms: %s", of->name, of->backoff_ms, s);
    free(s);
    /* The barrier of a bundle that failed acknowledges nothing; the
     * resynchronization will tell what the switch has. */
    if (ofctrl_barrier_pending(of)) {
        of->stats.n_bundle_errors++;
    }
    ofctrl_stream_abandon(of);
    ofctrl_barriers_clear(of);
    ofctrl_force_resync(of);
}

/* The switch acknowledged the barrier with 'xid': the bundle it follows,
 * and every one before, is installed. */
static void
ofctrl_handle_barrier_reply(struct ofctrl *of, ovs_be32 xid)
{
    /* (LIST_FOR_EACH leaves its variable NULL when it finds nothing.) */
    struct ofctrl_barrier *b = NULL, *iter;
    LIST_FOR_EACH (iter, list_node, &of->barriers) {
        if (iter->xid == xid) {
            b = iter;
            break;
        }
    }
    if (!b) {
        /* A barrier that an error or a reconnection cleared. */
        return;
    }

    long long int now = time_msec();
    struct ofctrl_barrier *done;
    LIST_FOR_EACH_POP (done, list_node, &of->barriers) {
        of->purge_datapath |= done->purges;
        of->acked_seqno = done->seqno;
        long long int latency = now - done->sent_msec;
        of->stats.last_latency_ms = latency;
        of->stats.max_latency_ms = MAX(of->stats.max_latency_ms, latency);
        VLOG_DBG("%s: bundle %"PRIu64" installed in %lld ms", of->name,
                 done->seqno, latency);
        bool last = done == b;
        free(done);
        if (last) {
            break;
        }
    }
    if (now >= of->retry_at) {
        of->backoff_ms = 0;
    }
}

static void
ofctrl_recv(struct ofctrl *of, const struct ofp_header *oh,
            enum ofptype type)
{
    switch (type) {
    case OFPTYPE_ECHO_REQUEST:
        ofctrl_send(of, ofputil_encode_echo_reply(oh));
        break;

    case OFPTYPE_FLOW_STATS_REPLY:
        if (of->state == S_DUMPING && oh->xid == of->dump_xid) {
            ofctrl_handle_flow_stats(of, oh);
        } else if (stats_request_find(of, oh->xid)) {
            stats_request_handle_reply(stats_request_find(of, oh->xid), oh);
        } else if (of->check.pending && oh->xid == of->check.flow_xid) {
            parse_flow_stats(of, oh, &of->check.flows, true);
            of->check.flows_dumped = !ofpmp_more(oh);
            if (of->check.flows_dumped && of->check.groups_dumped) {
                check_finish(of, NULL);
            }
        }
        break;

    case OFPTYPE_GROUP_DESC_STATS_REPLY:
        if (of->state == S_DUMPING && oh->xid == of->group_dump_xid) {
            ofctrl_handle_group_desc(of, oh);
        } else if (of->check.pending && oh->xid == of->check.group_xid) {
            parse_group_desc(of, oh, &of->check.groups);
            of->check.groups_dumped = !ofpmp_more(oh);
            if (of->check.flows_dumped && of->check.groups_dumped) {
                check_finish(of, NULL);
            }
        }
        break;

    case OFPTYPE_METER_FEATURES_STATS_REPLY:
        if (of->state == S_DUMPING && oh->xid == of->meter_features_xid) {
            ofctrl_handle_meter_features(of, oh);
        }
        break;

    case OFPTYPE_METER_STATS_REPLY:
        if (of->meter_stats_request.pending
            && oh->xid == of->meter_stats_request.xid) {
            meter_stats_request_handle_reply(of, oh);
        }
        break;

    case OFPTYPE_METER_CONFIG_STATS_REPLY:
        if (of->state == S_DUMPING && oh->xid == of->meter_dump_xid) {
            ofctrl_handle_meter_config(of, oh);
        }
        break;

    case OFPTYPE_BARRIER_REPLY:
        ofctrl_handle_barrier_reply(of, oh->xid);
        break;

    case OFPTYPE_ERROR:
        ofctrl_handle_error(of, oh);
        break;

    case OFPTYPE_PACKET_IN: {
        struct ovs_list replies = OVS_LIST_INITIALIZER(&replies);
        if (of->packet_in) {
            of->packet_in(oh, rconn_get_version(of->swconn), &replies,
                          of->packet_in_aux);
        }
        struct ofpbuf *reply;
        LIST_FOR_EACH_POP (reply, list_node, &replies) {
            ofctrl_send(of, reply);
        }
        break;
    }

    default:
        /* Bundle replies, port status and the like need nothing. */
        break;
    }
}

/* While 'of' is not connected to its bridge's socket: connects as soon as
 * the socket appears (when ovs-vswitchd has created the bridge), instead of
 * at the end of rconn's back-off, which reaches seconds while a new bridge
 * is being created. */
static void
ofctrl_connect_when_socket_appears(struct ofctrl *of)
{
    if (!of->socket_path || rconn_is_connected(of->swconn)) {
        return;
    }
    bool present = !access(of->socket_path, F_OK);
    if (present && !of->socket_present) {
        VLOG_DBG("%s: %s appeared, connecting", of->name, of->socket_path);
        rconn_connect(of->swconn, of->target, of->target);
    }
    of->socket_present = present;
}

void
ofctrl_run_connection(struct ofctrl *of)
{
    ofctrl_connect_when_socket_appears(of);
    rconn_run(of->swconn);
}

bool
ofctrl_run(struct ofctrl *of)
{
    ofctrl_run_connection(of);

    if (of->seqno != rconn_get_connection_seqno(of->swconn)) {
        /* The switch discarded the bundle that was streaming, if any. */
        ofctrl_stream_abandon(of);
        of->seqno = rconn_get_connection_seqno(of->swconn);
        ofctrl_barriers_clear(of);
        stats_requests_fail(of, "the connection to the switch was lost");
        meter_stats_request_finish(of, "the connection to the switch was "
                                   "lost");
        check_finish(of, "the connection to the switch was lost");
        installed_clear(of);
        of->state = S_DISCONNECTED;
    }
    if (!rconn_is_connected(of->swconn)) {
        of->state = S_DISCONNECTED;
        return false;
    }
    if (of->state == S_DISCONNECTED) {
        VLOG_INFO("%s: connected to %s", of->name,
                  rconn_get_target(of->swconn));

        /* A service connection (the bridge's .mgmt socket) only gets
         * packet-ins once it asks for them with a miss_send_len. */
        struct ofputil_switch_config config = {
            .frag = OFPUTIL_FRAG_NORMAL,
            .invalid_ttl_to_controller = -1,
            .miss_send_len = UINT16_MAX,
        };
        ofctrl_send(of, ofputil_encode_set_config(
                        &config, rconn_get_version(of->swconn)));

        /* Only NXT_PACKET_IN2 carries a controller action's userdata,
         * which tells pinctrl what to do with the packet. */
        ofctrl_send(of, ofputil_encode_set_packet_in_format(
                        rconn_get_version(of->swconn),
                        OFPUTIL_PACKET_IN_NXT2));
        ofctrl_start_dump(of);
    }

    for (int i = 0; i < 200; i++) {
        struct ofpbuf *msg = rconn_recv(of->swconn);
        if (!msg) {
            break;
        }
        const struct ofp_header *oh = msg->data;
        enum ofptype type;
        if (!ofptype_decode(&type, oh)) {
            ofctrl_recv(of, oh, type);
        }
        ofpbuf_delete(msg);
    }
    if (of->state == S_READY) {
        ofctrl_stream_run(of);
    }
    return of->state == S_READY;
}

void
ofctrl_wait(struct ofctrl *of)
{
    rconn_run_wait(of->swconn);
    rconn_recv_wait(of->swconn);
    if (of->socket_path && !of->socket_present
        && !rconn_is_connected(of->swconn)) {
        /* Nothing wakes the loop when a socket file appears: look again
         * soon (only until the bridge exists). */
        poll_timer_wait(50);
    }
    if (of->retry_at > time_msec()) {
        poll_timer_wait_until(of->retry_at);
    }
}

void
ofctrl_force_resync(struct ofctrl *of)
{
    if (rconn_is_connected(of->swconn)) {
        ofctrl_start_dump(of);
    }
}

/* A bundle is built by a diff (ofctrl_put__()) as a list of operations,
 * and streamed: each operation is encoded as a bundle-add message only when
 * rconn's send queue holds less than OFCTRL_STREAM_MAX_BYTES, from
 * ofctrl_run() as the switch reads what came before, and the commit and
 * its barrier follow the last add.  A cold install of 100,000 flows and
 * 20,000 groups, encoded at once, would hold about 40 MB of messages.
 *
 * An operation refers to what it sends instead of holding a copy: to an
 * installed flow (its key and cookie), to the actions of the desired flow
 * in the flow table, to a desired group.  Both stay as they are while the
 * bundle streams, because ofctrl_put() takes no new diff until the bundle
 * is committed: ofctrl's installed flows change only through a diff, and
 * the flow table frees a desired flow or group only when its tracking is
 * cleared, which only a diff does (a removed entry stays in the tracked
 * list until then, and an owner's entries are never changed in place once
 * its computation is over: recomputing an owner removes its entries and
 * adds new ones).  A reconnection, a resynchronization or an error from
 * the switch abandons the bundle: the switch discards an uncommitted
 * bundle, and the dump that follows tells what it has. */
#define OFCTRL_STREAM_MAX_BYTES (1024 * 1024)

/* A flow-mod to send.  Both kinds of operation begin with 'is_group', so
 * that a "union ofctrl_op" tells which it is. */
struct ofctrl_flow_op {
    bool is_group;                  /* False. */
    bool owns_ofpacts;              /* 'ofpacts' is a copy the op frees (the
                                     * merged actions of a shared key). */
    uint16_t command;               /* OFPFC_*. */
    uint32_t ofpacts_len;

    /* The flow's key and cookie: for an add or a modify, the flow in
     * 'installed' (whose key no diff changes while the bundle streams; a
     * later diff into the same open bundle may give it another cookie, and
     * then a flow-mod of its own after this one); for a delete, the flow
     * taken out of 'installed', owned by the op. */
    struct installed_flow *flow;
    const struct ofpact *ofpacts;   /* Add or modify: the actions. */
};

/* A group-mod (or several, see ofctrl_put_group_mods()) to send. */
struct ofctrl_group_op {
    bool is_group;                  /* True. */
    uint16_t command;               /* OFPGC15_ADD, _MODIFY or _DELETE. */
    uint32_t group_id;
    const struct desired_group *group; /* NULL for a delete. */
    struct ovs_list *msgs;          /* Or its group-mods, encoded already
                                     * (see ofctrl_bundle_pin()). */
};

/* An operation of a bundle's 'ops'. */
union ofctrl_op {
    bool is_group;
    struct ofctrl_flow_op flow;
    struct ofctrl_group_op group;   /* An add or a modify. */
};

struct ofctrl_bundle {
    uint32_t id;
    enum ofp_version version;
    enum ofputil_protocol protocol;
    struct ovs_list meter_adds;     /* Meter adds and modifies, before. */
    struct ovs_list meter_dels;     /* Meter deletions, after. */
    struct ovs_list ct_flushes;     /* Sent after the bundle. */

    /* In the bundle, in this order: 'ops', then the group deletions.  Each
     * diff appends its group adds and modifies to 'ops' before its
     * flow-mods, so that a group comes before the flows that name it.
     * 'next' counts the operations sent, over the two in turn. */
    union ofctrl_op *ops;
    size_t n_ops, allocated_ops;
    struct ofctrl_group_op *group_dels;
    size_t n_group_dels, allocated_group_dels;
    size_t next;

    size_t n_msgs;                  /* Flow-mods. */
    size_t n_group_msgs;            /* Group-mods. */
    size_t n_meter_msgs;            /* Meter-mods. */
    bool purges;                    /* A flow-mod in a table of
                                     * flows_table_change_purges_datapath(). */

    /* The meters added because the switch lacked them: flows that name
     * one are sent again even if the switch has them, since ovs-vswitchd
     * binds a flow to its meter only when it installs the flow. */
    uint32_t *added_meters;
    size_t n_added_meters;

    /* While streaming: the barrier to send after the commit, and its entry
     * in ofctrl's 'barriers'. */
    struct ofpbuf *barrier_msg;
    struct ofctrl_barrier *barrier;

    /* Opened by ofctrl_put_ahead() while flows are being computed: more
     * operations are to come, and the commit waits for the diff of
     * ofctrl_put() even once every operation is sent. */
    bool open;
};

static struct ofctrl_bundle *
ofctrl_bundle_create(const struct ofctrl *of)
{
    struct ofctrl_bundle *bundle = xzalloc(sizeof *bundle);

    bundle->version = rconn_get_version(of->swconn);
    bundle->protocol = ofctrl_protocol(of);
    ovs_list_init(&bundle->ct_flushes);
    ovs_list_init(&bundle->meter_adds);
    ovs_list_init(&bundle->meter_dels);
    return bundle;
}

static void
ofpbuf_list_delete_all(struct ovs_list *list)
{
    struct ofpbuf *msg;
    LIST_FOR_EACH_POP (msg, list_node, list) {
        ofpbuf_delete(msg);
    }
}

/* Frees 'bundle' with whatever it has not sent.  Accepts NULL. */
static void
ofctrl_bundle_destroy(struct ofctrl_bundle *bundle)
{
    if (!bundle) {
        return;
    }
    ofpbuf_list_delete_all(&bundle->ct_flushes);
    ofpbuf_list_delete_all(&bundle->meter_adds);
    ofpbuf_list_delete_all(&bundle->meter_dels);
    for (size_t i = 0; i < bundle->n_ops; i++) {
        struct ofctrl_flow_op *op = &bundle->ops[i].flow;
        if (bundle->ops[i].is_group) {
            if (bundle->ops[i].group.msgs) {
                ofpbuf_list_delete_all(bundle->ops[i].group.msgs);
                free(bundle->ops[i].group.msgs);
            }
            continue;
        }
        if (op->owns_ofpacts) {
            free(CONST_CAST(struct ofpact *, op->ofpacts));
        }
        if (op->command == OFPFC_DELETE_STRICT) {
            installed_flow_free(op->flow);
        }
    }
    free(bundle->ops);
    free(bundle->group_dels);
    free(bundle->added_meters);
    ofpbuf_delete(bundle->barrier_msg);
    free(bundle);
}

/* Appends a new operation to 'bundle''s 'ops' and returns it. */
static union ofctrl_op *
ofctrl_bundle_new_op(struct ofctrl_bundle *bundle, bool is_group)
{
    if (bundle->n_ops >= bundle->allocated_ops) {
        bundle->ops = x2nrealloc(bundle->ops, &bundle->allocated_ops,
                                 sizeof *bundle->ops);
    }
    union ofctrl_op *op = &bundle->ops[bundle->n_ops++];
    memset(op, 0, sizeof *op);
    op->is_group = is_group;
    return op;
}

/* Adds to 'bundle' the group-mod 'command' for group 'group_id': an add or
 * a modify from 'group', or a delete (with a null 'group'). */
static void
ofctrl_bundle_add_group_op(struct ofctrl_bundle *bundle,
                           const struct desired_group *group,
                           uint32_t group_id, uint16_t command)
{
    struct ofctrl_group_op gop = {
        .is_group = true,
        .group = group,
        .group_id = group_id,
        .command = command,
    };
    if (group) {
        ofctrl_bundle_new_op(bundle, true)->group = gop;
    } else {
        if (bundle->n_group_dels >= bundle->allocated_group_dels) {
            bundle->group_dels = x2nrealloc(bundle->group_dels,
                                            &bundle->allocated_group_dels,
                                            sizeof *bundle->group_dels);
        }
        bundle->group_dels[bundle->n_group_dels++] = gop;
    }
}

/* Sends 'msg', a message of 'bundle', wrapped in a bundle-add message, and
 * frees it. */
static void
ofctrl_bundle_send_add(struct ofctrl *of, const struct ofctrl_bundle *bundle,
                       struct ofpbuf *msg)
{
    struct ofputil_bundle_add_msg bam = {
        .bundle_id = bundle->id,
        .flags = OFPBF_ATOMIC | OFPBF_ORDERED,
        .msg = msg->data,
    };
    rconn_send(of->swconn, ofputil_encode_bundle_add(bundle->version, &bam),
               of->stream_bytes);
    ofpbuf_delete(msg);
}

static void ofctrl_put_group_mods(const struct ofctrl_bundle *,
                                  uint16_t command,
                                  const struct desired_group *,
                                  struct ovs_list *);
static struct ofpbuf *ofctrl_encode_flow_mod(
    const struct ofctrl_bundle *, uint16_t command,
    const struct installed_flow *, const struct ofpact *, size_t);

/* Sends the group-mods of 'op'. */
static void
ofctrl_bundle_send_group_op(struct ofctrl *of,
                            const struct ofctrl_bundle *bundle,
                            struct ofctrl_group_op *op)
{
    struct ovs_list msgs = OVS_LIST_INITIALIZER(&msgs);

    if (op->msgs) {
        ovs_list_push_back_all(&msgs, op->msgs);
    } else if (op->group) {
        ofctrl_put_group_mods(bundle, op->command, op->group, &msgs);
    } else {
        struct ofputil_group_mod gm;
        memset(&gm, 0, sizeof gm);
        gm.command = OFPGC15_DELETE;
        gm.type = OFPGT11_SELECT;
        gm.group_id = op->group_id;
        gm.command_bucket_id = OFPG15_BUCKET_ALL;
        ovs_list_init(&gm.buckets);
        struct ofpbuf *msg = ofputil_encode_group_mod(bundle->version, &gm,
                                                      NULL, -1);
        ovs_list_push_back(&msgs, &msg->list_node);
    }

    free(op->msgs);
    op->msgs = NULL;
    op->group = NULL;

    struct ofpbuf *msg;
    LIST_FOR_EACH_POP (msg, list_node, &msgs) {
        ofctrl_bundle_send_add(of, bundle, msg);
    }
}

/* Sends the next operation of 'bundle', which must have one. */
static void
ofctrl_bundle_send_next(struct ofctrl *of, struct ofctrl_bundle *bundle)
{
    size_t k = bundle->next++;

    if (k < bundle->n_ops && bundle->ops[k].is_group) {
        ofctrl_bundle_send_group_op(of, bundle, &bundle->ops[k].group);
        return;
    }
    if (k < bundle->n_ops) {
        struct ofctrl_flow_op *op = &bundle->ops[k].flow;
        struct ofpbuf *msg = ofctrl_encode_flow_mod(bundle, op->command,
                                                    op->flow, op->ofpacts,
                                                    op->ofpacts_len);
        if (op->owns_ofpacts) {
            free(CONST_CAST(struct ofpact *, op->ofpacts));
            op->owns_ofpacts = false;
        }
        op->ofpacts = NULL;
        if (op->command == OFPFC_DELETE_STRICT) {
            installed_flow_free(op->flow);
            op->command = OFPFC_DELETE;   /* Nothing left to free. */
        }
        op->flow = NULL;
        ofctrl_bundle_send_add(of, bundle, msg);
        return;
    }
    k -= bundle->n_ops;
    ofctrl_bundle_send_group_op(of, bundle, &bundle->group_dels[k]);
}

static size_t
ofctrl_bundle_n_ops(const struct ofctrl_bundle *bundle)
{
    return bundle->n_ops + bundle->n_group_dels;
}

/* Starts sending 'bundle', which 'of' takes: the meter adds and the
 * bundle's opening now, its operations as ofctrl_stream_run() finds room
 * for them. */
static void
ofctrl_bundle_start(struct ofctrl *of, struct ofctrl_bundle *bundle)
{
    bundle->id = of->next_bundle_id++;

    struct ofpbuf *msg;
    LIST_FOR_EACH_POP (msg, list_node, &bundle->meter_adds) {
        ofctrl_send(of, msg);
    }

    struct ofputil_bundle_ctrl_msg bc = {
        .bundle_id = bundle->id,
        .type = OFPBCT_OPEN_REQUEST,
        .flags = OFPBF_ATOMIC | OFPBF_ORDERED,
    };
    ofctrl_send(of, ofputil_encode_bundle_ctrl_request(bundle->version, &bc));

    /* The barrier is counted from now: the bundle is sent, as far as
     * ofctrl_get_sent_seqno() and the install latency are concerned. */
    bundle->barrier_msg = ofputil_encode_barrier_request(bundle->version);
    struct ofctrl_barrier *b = xmalloc(sizeof *b);
    b->xid = ((struct ofp_header *) bundle->barrier_msg->data)->xid;
    b->seqno = ++of->sent_seqno;
    b->purges = bundle->purges;
    b->sent_msec = time_msec();
    ovs_list_push_back(&of->barriers, &b->list_node);
    bundle->barrier = b;

    of->stream = bundle;
    of->stats.streaming = true;
}

/* Sends the commit of the streaming bundle, whose operations are all
 * sent, with what follows it, and frees the bundle. */
static void
ofctrl_bundle_finish(struct ofctrl *of)
{
    struct ofctrl_bundle *bundle = of->stream;

    struct ofputil_bundle_ctrl_msg bc = {
        .bundle_id = bundle->id,
        .type = OFPBCT_COMMIT_REQUEST,
        .flags = OFPBF_ATOMIC | OFPBF_ORDERED,
    };
    ofctrl_send(of, ofputil_encode_bundle_ctrl_request(bundle->version, &bc));

    struct ofpbuf *msg;
    LIST_FOR_EACH_POP (msg, list_node, &bundle->meter_dels) {
        ofctrl_send(of, msg);
    }
    LIST_FOR_EACH_POP (msg, list_node, &bundle->ct_flushes) {
        ofctrl_send(of, msg);
    }
    ofctrl_send(of, bundle->barrier_msg);
    bundle->barrier_msg = NULL;

    VLOG_DBG("%s: sent %"PRIuSIZE" flow-mods and %"PRIuSIZE" group-mods "
             "in bundle %"PRIu32" and %"PRIuSIZE" meter-mods around it",
             of->name, bundle->n_msgs, bundle->n_group_msgs, bundle->id,
             bundle->n_meter_msgs);
    of->stream = NULL;
    of->stats.streaming = false;
    ofctrl_bundle_destroy(bundle);
}

/* Sends as much of the streaming bundle as rconn's queue has room for, and
 * its commit after its last operation. */
static void
ofctrl_stream_run(struct ofctrl *of)
{
    struct ofctrl_bundle *bundle = of->stream;
    if (!bundle) {
        return;
    }

    size_t n_ops = ofctrl_bundle_n_ops(bundle);
    while (bundle->next < n_ops
           && (rconn_packet_counter_n_bytes(of->stream_bytes)
               < OFCTRL_STREAM_MAX_BYTES)) {
        ofctrl_bundle_send_next(of, bundle);
    }
    of->stats.max_stream_queue_bytes
        = MAX(of->stats.max_stream_queue_bytes,
              rconn_packet_counter_n_bytes(of->stream_bytes));
    if (bundle->next < n_ops) {
        of->stats.n_stream_waits++;
    } else if (!bundle->open) {
        ofctrl_bundle_finish(of);
    }
}

/* Abandons the streaming bundle, if any: on a connection that is still up,
 * asks the switch to discard it.  Its barrier acknowledges nothing. */
static void
ofctrl_stream_abandon(struct ofctrl *of)
{
    struct ofctrl_bundle *bundle = of->stream;
    if (!bundle) {
        return;
    }

    VLOG_INFO("%s: bundle %"PRIu32" abandoned after %"PRIuSIZE" of its %"
              PRIuSIZE" operations", of->name, bundle->id, bundle->next,
              ofctrl_bundle_n_ops(bundle));
    if (rconn_is_connected(of->swconn)
        && of->seqno == rconn_get_connection_seqno(of->swconn)) {
        struct ofputil_bundle_ctrl_msg bc = {
            .bundle_id = bundle->id,
            .type = OFPBCT_DISCARD_REQUEST,
            .flags = OFPBF_ATOMIC | OFPBF_ORDERED,
        };
        struct ofpbuf *msg = ofputil_encode_bundle_ctrl_request(
            bundle->version, &bc);
        /* The switch may have dropped the bundle already (after an error
         * in it): its error about the discard is no news. */
        of->discard_xid = ((struct ofp_header *) msg->data)->xid;
        ofctrl_send(of, msg);
    }
    ovs_list_remove(&bundle->barrier->list_node);
    free(bundle->barrier);
    of->stream = NULL;
    of->stats.streaming = false;
    of->stats.n_streams_abandoned++;
    ofctrl_bundle_destroy(bundle);
}

/* Appends to 'list' the group-mods that give group 'g' its buckets with
 * 'command' (OFPGC15_ADD or OFPGC15_MODIFY): the first message carries up
 * to OFCTRL_BUCKETS_PER_MSG buckets, insert-bucket messages the rest. */
static void
ofctrl_put_group_mods(const struct ofctrl_bundle *bundle, uint16_t command,
                      const struct desired_group *g, struct ovs_list *list)
{
    size_t start = 0;
    do {
        struct ofputil_group_mod gm;
        memset(&gm, 0, sizeof gm);
        gm.command = start ? OFPGC15_INSERT_BUCKET : command;
        gm.type = OFPGT11_SELECT;
        gm.group_id = g->group_id;
        gm.command_bucket_id = start ? OFPG15_BUCKET_LAST : OFPG15_BUCKET_ALL;
        ovs_list_init(&gm.buckets);
        if (!start) {
            flow_group_get_props(g, &gm.props);
        }

        size_t end = MIN(g->n_buckets, start + OFCTRL_BUCKETS_PER_MSG);
        struct ofputil_bucket *buckets = xcalloc(MAX(end - start, 1),
                                                 sizeof *buckets);
        for (size_t i = start; i < end; i++) {
            struct ofputil_bucket *b = &buckets[i - start];
            b->weight = g->buckets[i].weight;
            b->watch_port = OFPP_ANY;
            b->watch_group = OFPG_ANY;
            b->bucket_id = i;
            b->ofpacts = g->buckets[i].ofpacts;
            b->ofpacts_len = g->buckets[i].ofpacts_len;
            ovs_list_push_back(&gm.buckets, &b->list_node);
        }
        struct ofpbuf *msg = ofputil_encode_group_mod(bundle->version, &gm,
                                                      NULL, -1);
        ofputil_group_properties_destroy(&gm.props);
        free(buckets);
        ovs_list_push_back(list, &msg->list_node);
        start = end;
    } while (start < g->n_buckets);
}

/* The number of group-mods that give 'g' its buckets (see
 * ofctrl_put_group_mods()). */
static size_t
group_n_msgs(const struct desired_group *g)
{
    return MAX(1, DIV_ROUND_UP(g->n_buckets, OFCTRL_BUCKETS_PER_MSG));
}

/* Makes the switch's group 'group_id' match the desired one. */
static void
ofctrl_sync_group(struct ofctrl *of, struct ofctrl_bundle *bundle,
                  const struct flow_table *ft, uint32_t group_id)
{
    const struct desired_group *d = flow_table_find_group(ft, group_id);
    struct installed_group *i = installed_group_find(of, group_id);

    if (d) {
        ovs_u128 digest = desired_group_digest(d);
        if (!i || !ovs_u128_equals(i->digest, digest)) {
            ofctrl_bundle_add_group_op(bundle, d, group_id,
                                       i ? OFPGC15_MODIFY : OFPGC15_ADD);
            bundle->n_group_msgs += group_n_msgs(d);
            installed_group_set(of, group_id, digest);
        }
    } else if (i) {
        ofctrl_bundle_add_group_op(bundle, NULL, group_id, OFPGC15_DELETE);
        bundle->n_group_msgs++;
        hmap_remove(&of->installed_groups, &i->hmap_node);
        installed_group_free(i);
    }
}

static void
ofctrl_put_meter_mod(struct ofctrl_bundle *bundle, uint16_t command,
                     const struct ofputil_meter_config *mc,
                     struct ovs_list *list)
{
    struct ofputil_meter_mod mm = {
        .command = command,
        .meter = *mc,
    };
    struct ofpbuf *msg = ofputil_encode_meter_mod(bundle->version, &mm);
    ovs_list_push_back(list, &msg->list_node);
    bundle->n_meter_msgs++;
}

/* Makes the switch's meters match the desired ones (if it has meters at
 * all), recording in 'bundle' those it lacked. */
static void
ofctrl_sync_meters(struct ofctrl *of, struct ofctrl_bundle *bundle)
{
    if (!of->meters_supported) {
        return;
    }

    for (size_t i = 0; i < of->n_meters; i++) {
        const struct ofputil_meter_config *mc = &of->meters[i];
        struct installed_meter *m = installed_meter_find(of, mc->meter_id);
        char *text = meter_text(mc);
        if (m && !strcmp(m->text, text)) {
            free(text);
            continue;
        }
        ofctrl_put_meter_mod(bundle, m ? OFPMC13_MODIFY : OFPMC13_ADD, mc,
                             &bundle->meter_adds);
        if (!m) {
            bundle->added_meters = xrealloc(
                bundle->added_meters,
                (bundle->n_added_meters + 1) * sizeof *bundle->added_meters);
            bundle->added_meters[bundle->n_added_meters++] = mc->meter_id;
        }
        installed_meter_set(of, mc->meter_id, text);
    }

    struct installed_meter *m;
    HMAP_FOR_EACH_SAFE (m, hmap_node, &of->installed_meters) {
        bool wanted = false;
        for (size_t i = 0; i < of->n_meters; i++) {
            wanted |= of->meters[i].meter_id == m->meter_id;
        }
        if (!wanted) {
            struct ofputil_meter_config mc = { .meter_id = m->meter_id };
            ofctrl_put_meter_mod(bundle, OFPMC13_DELETE, &mc,
                                 &bundle->meter_dels);
            hmap_remove(&of->installed_meters, &m->hmap_node);
            installed_meter_free(m);
        }
    }
}

/* Returns true if 'ofpacts' has a controller action whose meter 'bundle'
 * adds to the switch. */
static bool
ofpacts_use_added_meter(const struct ofctrl_bundle *bundle,
                        const struct ofpbuf *ofpacts)
{
    const struct ofpact *a;

    if (!bundle->n_added_meters) {
        return false;
    }
    OFPACT_FOR_EACH (a, ofpacts->data, ofpacts->size) {
        if (a->type == OFPACT_CONTROLLER) {
            uint32_t id = ofpact_get_CONTROLLER(a)->meter_id;
            for (size_t i = 0; i < bundle->n_added_meters; i++) {
                if (bundle->added_meters[i] == id) {
                    return true;
                }
            }
        }
    }
    return false;
}

/* Encodes the flow-mod 'command' for the flow with the key and cookie of
 * 'f' and actions 'ofpacts'. */
static struct ofpbuf *
ofctrl_encode_flow_mod(const struct ofctrl_bundle *bundle, uint16_t command,
                       const struct installed_flow *f,
                       const struct ofpact *ofpacts, size_t ofpacts_len)
{
    struct ofputil_flow_mod fm = {
        .match = f->match,
        .priority = f->priority,
        .new_cookie = htonll(f->cookie),
        .modify_cookie = command == OFPFC_MODIFY_STRICT,
        .table_id = f->table_id,
        .command = command,
        .buffer_id = UINT32_MAX,
        .out_port = OFPP_ANY,
        .out_group = OFPG_ANY,
        .ofpacts = CONST_CAST(struct ofpact *, ofpacts),
        .ofpacts_len = ofpacts_len,
    };
    if (command == OFPFC_DELETE_STRICT) {
        fm.new_cookie = OVS_BE64_MAX;
    }
    struct ofpbuf *msg = ofputil_encode_flow_mod(&fm, bundle->protocol);
    if (VLOG_IS_DBG_ENABLED()) {
        char *s = ofp_to_string(msg->data, msg->size, NULL, NULL, 1);
        VLOG_DBG("%s", s);
        free(s);
    }
    return msg;
}

/* Adds to 'bundle' the flow-mod 'command' for the flow 'f' (see struct
 * ofctrl_flow_op for who owns it) with the actions in 'ofpacts', which are
 * those of the desired flow 'd' in the flow table unless the flow table
 * merged several entries' actions for the key, in which case the op keeps
 * a copy. */
static void
ofctrl_add_flow_op(struct ofctrl_bundle *bundle, uint16_t command,
                   struct installed_flow *f, const struct desired_flow *d,
                   const struct ofpbuf *ofpacts)
{
    struct ofctrl_flow_op *op = &ofctrl_bundle_new_op(bundle, false)->flow;
    *op = (struct ofctrl_flow_op) {
        .is_group = false,
        .flow = f,
        .command = command,
    };
    if (ofpacts) {
        op->ofpacts_len = ofpacts->size;
        if (d && d->ofpacts_len == ofpacts->size
            && !memcmp(d->ofpacts, ofpacts->data, ofpacts->size)) {
            op->ofpacts = d->ofpacts;
        } else {
            op->ofpacts = xmemdup(ofpacts->data, ofpacts->size);
            op->owns_ofpacts = true;
        }
    }
    bundle->n_msgs++;
    bundle->purges |= flows_table_change_purges_datapath(f->table_id);
}

/* Returns true if the installed flow 'i' has the actions 'ofpacts'. */
static bool
installed_actions_equal(const struct installed_flow *i,
                        const struct ofpbuf *ofpacts)
{
    ovs_u128 digest;
    if (!i->wire) {
        hash_bytes128(ofpacts->data, ofpacts->size, 0, &digest);
        return ovs_u128_equals(digest, i->actions_digest);
    }

    uint64_t stub[1024 / 8];
    struct ofpbuf wire = OFPBUF_STUB_INITIALIZER(stub);
    ofpacts_put_openflow_instructions(ofpacts->data, ofpacts->size, &wire,
                                      OFP15_VERSION);
    hash_bytes128(wire.data, wire.size, 0, &digest);
    ofpbuf_uninit(&wire);
    return ovs_u128_equals(digest, i->actions_digest);
}

/* How many times each conntrack flush is sent.
 *
 * Open vSwitch 3.1.0's userspace datapath carries out a flush by a partial
 * tuple (NXT_CT_FLUSH with only the reply source, as here) by walking its
 * connection table and deleting as it walks, and the walk skips entries
 * next to the ones it deletes: when the flushed entries are most of the
 * table, one flush leaves about a fifth of them, and each identical flush
 * after it about half of the rest.  (`ovs-ofctl ct-flush` alone shows it;
 * upstream fixed it after 3.1.0 in "conntrack: Fix flush not flushing all
 * elements".)  A UDP client that keeps its socket would then keep talking
 * to a removed endpoint until its entry times out.  Repeating the flush
 * brings what is left down geometrically: 16 passes leave nothing of tens
 * of thousands of entries.  On a switch without the bug the passes after
 * the first find nothing; each costs the switch one walk of its table,
 * and they are sent only when a UDP endpoint goes.  The test "removing a
 * UDP endpoint flushes every one of its hundreds of conntrack entries" in
 * tests/service-sandbox.at proves it. */
#define OFCTRL_CT_FLUSH_PASSES 16

/* Queues the conntrack flush 'flush', to be sent after the bundle
 * (OFCTRL_CT_FLUSH_PASSES times). */
static void
ofctrl_queue_ct_flush(struct ofctrl_bundle *bundle,
                      const struct flows_ct_flush *flush)
{
    struct ofp_ct_match ctm;

    memset(&ctm, 0, sizeof ctm);
    ctm.ip_proto = flush->ip_proto;
    ctm.l3_type = (IN6_IS_ADDR_V4MAPPED(&flush->reply_src)
                   ? AF_INET : AF_INET6);
    ctm.tuple_reply.src = flush->reply_src;
    ctm.tuple_reply.src_port = flush->reply_src_port;
    uint16_t zone = flush->zone;
    for (int i = 0; i < OFCTRL_CT_FLUSH_PASSES; i++) {
        struct ofpbuf *msg = ofp_ct_match_encode(&ctm, &zone,
                                                 bundle->version);
        ovs_list_push_back(&bundle->ct_flushes, &msg->list_node);
    }
}

/* Makes the switch's flow for the key of 'key' match the desired one,
 * adding the flow-mod to 'bundle' if they differ, and updates
 * 'installed'. */
static void
ofctrl_sync_key(struct ofctrl *of, struct ofctrl_bundle *bundle,
                const struct flow_table *ft, uint8_t table_id,
                uint16_t priority, const struct minimatch *match)
{
    uint64_t stub[1024 / 8];
    struct ofpbuf ofpacts = OFPBUF_STUB_INITIALIZER(stub);
    uint32_t hash = flow_key_hash(table_id, priority, match);
    uint64_t cookie;
    bool desired = flow_table_get_actions(ft, table_id, priority, match,
                                          hash, &ofpacts, &cookie);
    struct installed_flow *i = installed_find(of, table_id, priority, match,
                                              hash);
    if (desired && !i) {
        i = xzalloc(sizeof *i);
        i->table_id = table_id;
        i->priority = priority;
        minimatch_clone(&i->match, match);
        i->cookie = cookie;
        hash_bytes128(ofpacts.data, ofpacts.size, 0, &i->actions_digest);
        hmap_insert(&of->installed, &i->hmap_node, hash);
        ofctrl_add_flow_op(bundle, OFPFC_ADD, i,
                           flow_table_lookup(ft, table_id, priority, match,
                                             hash),
                           &ofpacts);
    } else if (!desired && i) {
        struct flows_ct_flush flush;
        if (of->need_full_sync && of->stale_flow_flush
            && of->stale_flow_flush(table_id, match, &flush)) {
            /* A full diff finds every flow that went away, including those
             * of a previous kovs-controller, that no list names. */
            ofctrl_queue_ct_flush(bundle, &flush);
        }
        /* The op takes 'i', whose key the delete needs. */
        hmap_remove(&of->installed, &i->hmap_node);
        ofctrl_add_flow_op(bundle, OFPFC_DELETE_STRICT, i, NULL, NULL);
    } else if (desired && i && (cookie != i->cookie
                                || !installed_actions_equal(i, &ofpacts)
                                || ofpacts_use_added_meter(bundle,
                                                           &ofpacts))) {
        /* A modify keeps the flow's counters but, in OpenFlow 1.5, cannot
         * change its cookie: a new owner (a shared flow whose first owner
         * went away) takes an add, which replaces the flow whole. */
        uint16_t command = (cookie != i->cookie ? OFPFC_ADD
                            : OFPFC_MODIFY_STRICT);
        i->cookie = cookie;
        hash_bytes128(ofpacts.data, ofpacts.size, 0, &i->actions_digest);
        i->wire = false;
        ofctrl_add_flow_op(bundle, command, i,
                           flow_table_lookup(ft, table_id, priority, match,
                                             hash),
                           &ofpacts);
    }
    ofpbuf_uninit(&ofpacts);
}

void
ofctrl_set_stale_flow_flush(struct ofctrl *of,
                            ofctrl_stale_flow_flush_cb *cb)
{
    of->stale_flow_flush = cb;
}

bool
ofctrl_put_would_diff(const struct ofctrl *of)
{
    return (of->state == S_READY && time_msec() >= of->retry_at
            && (!of->stream || of->stream->open));
}

bool
ofctrl_put(struct ofctrl *of, struct flow_table *ft,
           const struct ovs_list *ct_flushes)
{
    if (of->state != S_READY || time_msec() < of->retry_at) {
        return false;
    }
    bool open = of->stream && of->stream->open;
    if (of->need_full_sync || flow_table_has_tracked(ft) || open) {
        if (of->stream && !open) {
            /* While a bundle streams, the next diff waits for its commit
             * (see struct ofctrl_bundle). */
            return false;
        }
        ofctrl_put__(of, ft, ct_flushes);
    }
    if (!ofctrl_barrier_pending(of)) {
        /* Every bundle was acknowledged, or the switch's flows were dumped
         * since and found to be the desired ones. */
        of->acked_seqno = of->sent_seqno;
    }
    return true;
}

uint64_t
ofctrl_get_sent_seqno(const struct ofctrl *of)
{
    return of->sent_seqno;
}

uint64_t
ofctrl_get_acked_seqno(const struct ofctrl *of)
{
    return of->acked_seqno;
}

/* Returns true if every group that 'ofpacts' names is in the switch or in
 * the bundle being sent. */
static bool
ofctrl_groups_installed(const struct ofctrl *of, const struct ofpact *ofpacts,
                        size_t ofpacts_len)
{
    const struct ofpact *a;
    OFPACT_FOR_EACH_FLATTENED (a, ofpacts, ofpacts_len) {
        if (a->type == OFPACT_GROUP
            && !installed_group_find(of, ofpact_get_GROUP(a)->group_id)) {
            return false;
        }
    }
    return true;
}

/* Returns the open bundle, opening one if there is none. */
static struct ofctrl_bundle *
ofctrl_open_bundle(struct ofctrl *of)
{
    if (!of->stream) {
        struct ofctrl_bundle *bundle = ofctrl_bundle_create(of);
        bundle->open = true;
        if (of->need_full_sync) {
            /* The flows that name a meter must find it. */
            ofctrl_sync_meters(of, bundle);
        }
        ofctrl_bundle_start(of, bundle);
    }
    return of->stream;
}

void
ofctrl_put_ahead(struct ofctrl *of, struct flow_table *ft)
{
    if (of->state != S_READY) {
        /* On a start, the computation begins as soon as the cluster is
         * read, before the switch has answered the handshake and the dump
         * of its flows: both can end meanwhile.  (What the switch sends
         * does not touch the flow table: the packet-in and statistics
         * handlers only read.) */
        ofctrl_run(of);
    }
    if (of->state != S_READY || time_msec() < of->retry_at
        || (of->stream && !of->stream->open)) {
        return;
    }
    if (of->ahead_ft != ft) {
        of->ahead_ft = ft;
        of->ahead_flow = NULL;
        of->ahead_group = NULL;
        memset(of->held_tables, 0, sizeof of->held_tables);
    }

    size_t n_msgs = of->stream ? of->stream->n_msgs : 0;
    size_t n_group_msgs = of->stream ? of->stream->n_group_msgs : 0;

    /* Groups first: a flow goes ahead only if the groups it names do. */
    const struct desired_group *g;
    while ((g = flow_table_tracked_group_next(ft, of->ahead_group))) {
        of->ahead_group = g;
        if (!g->removed && !installed_group_find(of, g->group_id)) {
            ofctrl_sync_group(of, ofctrl_open_bundle(of), ft, g->group_id);
        }
    }

    /* Only flows that the switch lacks: what it has, the diff of
     * ofctrl_put() compares with all of their key's entries. */
    const struct desired_flow *d;
    while ((d = flow_table_tracked_next(ft, of->ahead_flow))) {
        of->ahead_flow = d;
        if (d->removed || bitmap_is_set(of->held_tables, d->table_id)) {
            continue;
        }
        if (flow_table_shared_key(d)) {
            bitmap_set1(of->held_tables, d->table_id);
            continue;
        }
        if (!installed_find(of, d->table_id, d->priority, &d->match,
                            d->key_hash)
            && ofctrl_groups_installed(of, d->ofpacts, d->ofpacts_len)) {
            ofctrl_sync_key(of, ofctrl_open_bundle(of), ft, d->table_id,
                            d->priority, &d->match);
        }
    }

    if (of->stream) {
        of->stats.ahead_flow_mods += of->stream->n_msgs - n_msgs;
        of->stats.ahead_group_mods += of->stream->n_group_msgs - n_group_msgs;
        ofctrl_stream_run(of);
        rconn_run(of->swconn);
    }
}

/* Before the diff of ofctrl_put() clears the tracking of 'ft', which frees
 * its removed entries: makes each operation of the open 'bundle' not sent
 * yet that refers to such an entry (one that ofctrl_put_ahead() sent
 * ahead, removed since) hold a copy of what it sends. */
static void
ofctrl_bundle_pin(struct ofctrl_bundle *bundle, const struct flow_table *ft)
{
    struct hmapx removed = HMAPX_INITIALIZER(&removed);
    const struct desired_flow *d;
    FLOW_TABLE_FOR_EACH_TRACKED (d, ft) {
        if (d->removed) {
            hmapx_add(&removed, CONST_CAST(struct ofpact *, d->ofpacts));
        }
    }
    const struct desired_group *g;
    FLOW_TABLE_FOR_EACH_TRACKED_GROUP (g, ft) {
        if (g->removed) {
            hmapx_add(&removed, CONST_CAST(struct desired_group *, g));
        }
    }

    for (size_t i = bundle->next; i < bundle->n_ops && hmapx_count(&removed);
         i++) {
        union ofctrl_op *op = &bundle->ops[i];
        if (op->is_group) {
            struct ofctrl_group_op *gop = &op->group;
            if (gop->group && !gop->msgs
                && hmapx_contains(&removed,
                                  CONST_CAST(struct desired_group *,
                                             gop->group))) {
                gop->msgs = xmalloc(sizeof *gop->msgs);
                ovs_list_init(gop->msgs);
                ofctrl_put_group_mods(bundle, gop->command, gop->group,
                                      gop->msgs);
                gop->group = NULL;
            }
        } else {
            struct ofctrl_flow_op *fop = &op->flow;
            if (fop->ofpacts && !fop->owns_ofpacts
                && hmapx_contains(&removed,
                                  CONST_CAST(struct ofpact *, fop->ofpacts))) {
                fop->ofpacts = xmemdup(fop->ofpacts, fop->ofpacts_len);
                fop->owns_ofpacts = true;
            }
        }
    }
    hmapx_destroy(&removed);
}

static void
ofctrl_put__(struct ofctrl *of, struct flow_table *ft,
             const struct ovs_list *ct_flushes)
{
    /* The bundle that ofctrl_put_ahead() opened gets the rest. */
    bool open = of->stream && of->stream->open;
    struct ofctrl_bundle *bundle = (open ? of->stream
                                    : ofctrl_bundle_create(of));
    if (open) {
        ofctrl_bundle_pin(bundle, ft);
    }

    if (!of->need_full_sync && ct_flushes) {
        /* A full diff derives the flushes from the flows it removes. */
        const struct flows_ct_flush *flush;
        LIST_FOR_EACH (flush, list_node, ct_flushes) {
            ofctrl_queue_ct_flush(bundle, flush);
        }
    }

    if (of->need_full_sync) {
        ofctrl_sync_meters(of, bundle);
        const struct desired_group *dg;
        FLOW_TABLE_FOR_EACH_GROUP (dg, ft) {
            ofctrl_sync_group(of, bundle, ft, dg->group_id);
        }
        struct installed_group *ig;
        HMAP_FOR_EACH_SAFE (ig, hmap_node, &of->installed_groups) {
            if (!flow_table_find_group(ft, ig->group_id)) {
                ofctrl_sync_group(of, bundle, ft, ig->group_id);
            }
        }

        /* Removals first, then additions and modifications, so that a
         * removal can never undo an addition in the same bundle. */
        struct installed_flow *i;
        HMAP_FOR_EACH_SAFE (i, hmap_node, &of->installed) {
            if (!flow_table_lookup(ft, i->table_id, i->priority, &i->match,
                                   i->hmap_node.hash)) {
                ofctrl_sync_key(of, bundle, ft, i->table_id, i->priority,
                                &i->match);
            }
        }
        /* A key's flow depends on all its entries: each key once. */
        struct hmapx synced = HMAPX_INITIALIZER(&synced);
        const struct desired_flow *d;
        FLOW_TABLE_FOR_EACH (d, ft) {
            const struct desired_key *key = flow_table_shared_key(d);
            if (!key || hmapx_add(&synced, CONST_CAST(void *, key))) {
                ofctrl_sync_key(of, bundle, ft, d->table_id, d->priority,
                                &d->match);
            }
        }
        hmapx_destroy(&synced);
        of->need_full_sync = false;
        of->stats.n_full_syncs++;
    } else {
        const struct desired_group *dg;
        FLOW_TABLE_FOR_EACH_TRACKED_GROUP (dg, ft) {
            ofctrl_sync_group(of, bundle, ft, dg->group_id);
        }
        struct hmapx synced = HMAPX_INITIALIZER(&synced);
        const struct desired_flow *d;
        FLOW_TABLE_FOR_EACH_TRACKED (d, ft) {
            const struct desired_key *key = (d->removed ? NULL
                                             : flow_table_shared_key(d));
            if (!key || hmapx_add(&synced, CONST_CAST(void *, key))) {
                ofctrl_sync_key(of, bundle, ft, d->table_id, d->priority,
                                &d->match);
            }
        }
        hmapx_destroy(&synced);
    }
    flow_table_clear_tracked(ft);
    of->ahead_ft = NULL;

    of->stats.last_flow_mods = bundle->n_msgs;
    of->stats.last_group_mods = bundle->n_group_msgs;
    if (open || bundle->n_msgs || bundle->n_group_msgs
        || bundle->n_meter_msgs) {
        of->stats.total_flow_mods += bundle->n_msgs;
        of->stats.total_group_mods += bundle->n_group_msgs;
        of->stats.total_meter_mods += bundle->n_meter_msgs;
        of->stats.n_bundles++;
        if (open) {
            /* Meter-mods cannot be in the bundle: any the diff added go
             * now, still before the commit. */
            struct ofpbuf *msg;
            LIST_FOR_EACH_POP (msg, list_node, &bundle->meter_adds) {
                ofctrl_send(of, msg);
            }
            bundle->open = false;
            bundle->barrier->purges = bundle->purges;
        } else {
            ofctrl_bundle_start(of, bundle);
        }
        ofctrl_stream_run(of);
    } else {
        ofctrl_bundle_destroy(bundle);
    }
}

bool
ofctrl_take_datapath_purge(struct ofctrl *of)
{
    bool purge = of->purge_datapath;
    of->purge_datapath = false;
    return purge;
}

void
ofctrl_get_stats(const struct ofctrl *of, struct ofctrl_stats *s)
{
    *s = of->stats;
    s->connected = rconn_is_connected(of->swconn);
    s->n_installed = hmap_count(&of->installed);
    s->n_installed_groups = hmap_count(&of->installed_groups);
    s->n_desired_meters = of->meters_supported ? of->n_meters : 0;
    s->n_installed_meters = hmap_count(&of->installed_meters);
    s->in_flight = ofctrl_barrier_pending(of);
}

static size_t
installed_flow_bytes(const struct installed_flow *f)
{
    return (heap_block_bytes(f) + heap_block_bytes(f->match.flow)
            + heap_block_bytes(f->match.tun_md));
}

void
ofctrl_get_memory(const struct ofctrl *of, struct ofctrl_memory *m)
{
    memset(m, 0, sizeof *m);

    m->installed_flow_bytes = hmap_buckets_bytes(&of->installed);
    const struct installed_flow *f;
    HMAP_FOR_EACH (f, hmap_node, &of->installed) {
        m->installed_flow_bytes += installed_flow_bytes(f);
    }

    m->installed_group_bytes = hmap_buckets_bytes(&of->installed_groups);
    const struct installed_group *g;
    HMAP_FOR_EACH (g, hmap_node, &of->installed_groups) {
        m->installed_group_bytes += (heap_block_bytes(g)
                                     + heap_block_bytes(g->text));
    }

    const struct ofctrl_bundle *b = of->stream;
    if (b) {
        m->bundle_bytes = (heap_block_bytes(b)
                           + heap_block_bytes(b->ops)
                           + heap_block_bytes(b->group_dels));
        for (size_t i = 0; i < b->n_ops; i++) {
            const struct ofctrl_flow_op *op = &b->ops[i].flow;
            if (b->ops[i].is_group) {
                continue;
            }
            if (op->owns_ofpacts) {
                m->bundle_bytes += heap_block_bytes(op->ofpacts);
            }
            if (op->command == OFPFC_DELETE_STRICT) {
                m->bundle_bytes += installed_flow_bytes(op->flow);
            }
        }
    }
    m->queued_bytes = rconn_packet_counter_n_bytes(of->stream_bytes);
}

void
ofctrl_format_connection(const struct ofctrl *of, struct ds *ds)
{
    ds_put_format(ds, "%s: %s", rconn_get_target(of->swconn),
                  rconn_is_connected(of->swconn) ? "connected"
                  : rconn_get_state(of->swconn));
    if (rconn_is_connected(of->swconn)) {
        ds_put_format(ds, " (%s)", of->state == S_READY ? "in sync"
                      : "dumping flows");
    }
}

void
ofctrl_count_installed_flows(const struct ofctrl *of, size_t counts[256])
{
    const struct installed_flow *f;

    memset(counts, 0, 256 * sizeof *counts);
    HMAP_FOR_EACH (f, hmap_node, &of->installed) {
        counts[f->table_id]++;
    }
}

bool
ofctrl_is_idle(const struct ofctrl *of)
{
    return (rconn_is_connected(of->swconn) && of->state == S_READY
            && !of->need_full_sync && !ofctrl_barrier_pending(of)
            && of->acked_seqno == of->sent_seqno);
}

/* Checking the switch against a desired flow table. */

bool
ofctrl_request_check(struct ofctrl *of, const struct flow_table *ft,
                     ofctrl_check_cb *cb, void *aux)
{
    struct ofctrl_check *chk = &of->check;

    if (chk->pending || !rconn_is_connected(of->swconn)) {
        return false;
    }

    chk->flow_xid = send_flow_dump(of, 0, 0);
    chk->group_xid = send_group_dump(of);

    chk->pending = true;
    chk->flows_dumped = chk->groups_dumped = false;
    chk->ft = ft;
    chk->cb = cb;
    chk->aux = aux;
    return true;
}

/* Returns "table=T priority=P MATCH" for a flow key, in memory the caller
 * frees. */
static char *
check_flow_key(uint8_t table_id, uint16_t priority,
               const struct minimatch *mm)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    struct match match;
    minimatch_expand(mm, &match);
    ds_put_format(&s, "table=%"PRIu8" priority=%"PRIu16" ", table_id,
                  priority);
    match_format(&match, NULL, &s, OFP_DEFAULT_PRIORITY);
    return ds_steal_cstr(&s);
}

/* Returns the text of a group (see desired_group_text()) on one line, in
 * memory the caller frees, taking 'text'. */
static char *
check_group_line(char *text)
{
    for (char *p = text; *p; p++) {
        if (*p == '\n') {
            *p = ' ';
        }
    }
    size_t len = strlen(text);
    while (len && text[len - 1] == ' ') {
        text[--len] = '\0';
    }
    return text;
}

static void
check_add_diff(struct ofctrl_check_diff **diffs, size_t *n,
               size_t *allocated, uint64_t cookie, char *key,
               char *desired, char *installed)
{
    if (*n >= *allocated) {
        *diffs = x2nrealloc(*diffs, allocated, sizeof **diffs);
    }
    (*diffs)[(*n)++] = (struct ofctrl_check_diff) {
        .cookie = cookie,
        .key = key,
        .desired = desired,
        .installed = installed,
    };
}

/* Compares the check's dump with its flow table, calls its callback with
 * the differences (or with 'error'), and forgets the dump. */
static void
check_finish(struct ofctrl *of, const char *error)
{
    struct ofctrl_check *chk = &of->check;
    struct ofctrl_check_diff *diffs = NULL;
    size_t n = 0, allocated = 0;

    if (!chk->pending) {
        return;
    }
    chk->pending = false;

    if (!error) {
        const struct flow_table *ft = chk->ft;
        uint64_t stub[1024 / 8];
        struct ofpbuf ofpacts = OFPBUF_STUB_INITIALIZER(stub);

        /* The switch's flows, each against the desired one. */
        struct installed_flow *i;
        HMAP_FOR_EACH (i, hmap_node, &chk->flows) {
            uint64_t cookie;
            if (!flow_table_get_actions(ft, i->table_id, i->priority,
                                        &i->match, i->hmap_node.hash,
                                        &ofpacts, &cookie)) {
                check_add_diff(&diffs, &n, &allocated, i->cookie,
                               check_flow_key(i->table_id, i->priority,
                                              &i->match),
                               NULL, xstrdup(check_flow_text(i)));
            } else if (cookie != i->cookie
                       || !installed_actions_equal(i, &ofpacts)) {
                struct ds s = DS_EMPTY_INITIALIZER;
                struct ofpact_format_params fp = { .s = &s };
                ds_put_format(&s, "cookie=%#"PRIx64" actions=", cookie);
                ofpacts_format(ofpacts.data, ofpacts.size, &fp);
                check_add_diff(&diffs, &n, &allocated, cookie,
                               check_flow_key(i->table_id, i->priority,
                                              &i->match),
                               ds_steal_cstr(&s),
                               xstrdup(check_flow_text(i)));
            }
        }

        /* The desired flows that the switch lacks. */
        const struct desired_flow *d;
        FLOW_TABLE_FOR_EACH (d, ft) {
            uint32_t hash = d->key_hash;
            if (flow_table_lookup(ft, d->table_id, d->priority, &d->match,
                                  hash) != d
                || installed_find_in(&chk->flows, d->table_id, d->priority,
                                     &d->match, hash)) {
                continue;
            }
            uint64_t cookie;
            flow_table_get_actions(ft, d->table_id, d->priority, &d->match,
                                   hash, &ofpacts, &cookie);
            struct ds s = DS_EMPTY_INITIALIZER;
            struct ofpact_format_params fp = { .s = &s };
            ds_put_format(&s, "cookie=%#"PRIx64" actions=", cookie);
            ofpacts_format(ofpacts.data, ofpacts.size, &fp);
            check_add_diff(&diffs, &n, &allocated, cookie,
                           check_flow_key(d->table_id, d->priority,
                                          &d->match),
                           ds_steal_cstr(&s), NULL);
        }
        ofpbuf_uninit(&ofpacts);

        /* Groups, both ways. */
        struct installed_group *ig;
        HMAP_FOR_EACH (ig, hmap_node, &chk->groups) {
            const struct desired_group *dg = flow_table_find_group(
                ft, ig->group_id);
            char *text = dg ? desired_group_text(dg) : NULL;
            if (!text || strcmp(text, ig->text)) {
                check_add_diff(&diffs, &n, &allocated, dg ? dg->cookie : 0,
                               xasprintf("group_id=%"PRIu32, ig->group_id),
                               text ? check_group_line(text) : NULL,
                               check_group_line(xstrdup(ig->text)));
            } else {
                free(text);
            }
        }
        const struct desired_group *dg;
        FLOW_TABLE_FOR_EACH_GROUP (dg, ft) {
            if (!group_map_find(&chk->groups, dg->group_id)) {
                check_add_diff(&diffs, &n, &allocated, dg->cookie,
                               xasprintf("group_id=%"PRIu32, dg->group_id),
                               check_group_line(desired_group_text(dg)),
                               NULL);
            }
        }
    }

    chk->cb(diffs, n, error, chk->aux);
    for (size_t k = 0; k < n; k++) {
        free(diffs[k].key);
        free(diffs[k].desired);
        free(diffs[k].installed);
    }
    free(diffs);

    struct installed_flow *f;
    HMAP_FOR_EACH_POP (f, hmap_node, &chk->flows) {
        free(CONTAINER_OF(f, struct check_flow, flow)->text);
        installed_flow_free(f);
    }
    struct installed_group *g;
    HMAP_FOR_EACH_POP (g, hmap_node, &chk->groups) {
        installed_group_free(g);
    }
}
