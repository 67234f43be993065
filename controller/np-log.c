/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#include <config.h>

#include "controller/np-log.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "controller/ofctrl.h"
#include "flow.h"
#include "flows/flows.h"
#include "flows/pinctrl-opcodes.h"
#include "flows/pipeline.h"
#include "hash.h"
#include "k8s/k8s-model.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/list.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "packets.h"
#include "svec.h"
#include "timeval.h"
#include "unixctl.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(np_log);

/* How often the meter's statistics are read and the file's name
 * checked. */
#define NP_LOG_CHECK_MSEC 1000

/* What tells one verdict from another for repeats.  Compared and hashed as
 * bytes: always zeroed before it is filled in. */
struct np_log_key {
    struct in6_addr src, dst;
    ovs_be16 src_port, dst_port;
    uint8_t proto;
    uint8_t verdict;
    uint8_t direction;
    uint8_t pad[3];
};

/* A verdict logged recently. */
struct np_log_recent {
    struct hmap_node hmap_node;     /* In 'recent', by key. */
    struct ovs_list lru_node;       /* In 'recent_lru', oldest first. */
    struct np_log_key key;
    long long int last_msec;        /* Its last packet. */
};

struct np_log {
    char *file_name;
    char *node_name;
    const struct flows_input *in;
    char *mode;
    unsigned int rate;

    int fd;                         /* -1 if not open. */
    dev_t dev;                      /* The open file's identity. */
    ino_t ino;
    bool open_failed;               /* The last open failed (logged). */

    struct hmap recent;             /* Contains "struct np_log_recent"s. */
    struct ovs_list recent_lru;

    long long int next_check;
    bool have_meter_count;          /* 'last_meter_count' is valid. */
    uint64_t last_meter_count;      /* The meter's band count last read. */

    struct np_log_stats stats;
    uint64_t n_meter_reads;         /* Meter statistics replies. */
};

static unixctl_cb_func np_log_unixctl_reopen;
static unixctl_cb_func np_log_unixctl_show;

/* Opens the file (again), closing what was open. */
static void
np_log_open(struct np_log *log)
{
    if (log->fd >= 0) {
        close(log->fd);
        log->fd = -1;
    }

    int fd = open(log->file_name,
                  O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK | O_CLOEXEC,
                  0640);
    struct stat st;
    if (fd < 0 || fstat(fd, &st)) {
        if (!log->open_failed) {
            VLOG_WARN("%s: cannot open the NetworkPolicy audit log: %s "
                      "(verdicts are counted as lost until it opens)",
                      log->file_name, ovs_strerror(errno));
        }
        log->open_failed = true;
        if (fd >= 0) {
            close(fd);
        }
        return;
    }
    if (log->open_failed) {
        VLOG_INFO("%s: NetworkPolicy audit log open", log->file_name);
    }
    log->open_failed = false;
    log->fd = fd;
    log->dev = st.st_dev;
    log->ino = st.st_ino;
}

/* Reopens the file if its name no longer names the open file (logrotate
 * renamed it, or someone removed it), or if it is not open. */
static void
np_log_check_file(struct np_log *log)
{
    struct stat st;

    if (log->fd < 0
        || stat(log->file_name, &st)
        || st.st_dev != log->dev || st.st_ino != log->ino) {
        if (log->fd >= 0) {
            log->stats.n_reopens++;
        }
        np_log_open(log);
    }
}

struct np_log *
np_log_create(const char *file_name, const char *node_name,
              const struct flows_input *in, const char *mode,
              unsigned int rate)
{
    struct np_log *log = xzalloc(sizeof *log);

    log->file_name = xstrdup(file_name);
    log->node_name = xstrdup(node_name);
    log->in = in;
    log->mode = xstrdup(mode);
    log->rate = rate;
    log->fd = -1;
    hmap_init(&log->recent);
    ovs_list_init(&log->recent_lru);
    np_log_open(log);

    unixctl_command_register("np-log/reopen", "", 0, 0,
                             np_log_unixctl_reopen, log);
    unixctl_command_register("np-log/show", "", 0, 0,
                             np_log_unixctl_show, log);
    return log;
}

void
np_log_destroy(struct np_log *log)
{
    if (log) {
        struct np_log_recent *r;
        HMAP_FOR_EACH_POP (r, hmap_node, &log->recent) {
            free(r);
        }
        hmap_destroy(&log->recent);
        if (log->fd >= 0) {
            close(log->fd);
        }
        free(log->file_name);
        free(log->node_name);
        free(log->mode);
        free(log);
    }
}

/* Writes 'line' (which ends in a new-line) whole, or counts it lost. */
static void
np_log_write(struct np_log *log, const struct ds *line)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);

    if (log->fd < 0) {
        log->stats.n_write_errors++;
        return;
    }
    ssize_t n = write(log->fd, line->string, line->length);
    if (n != line->length) {
        /* A partial line stays partial: the next line starts on its own
         * line, so that the file stays parseable. */
        if (n > 0) {
            ignore(write(log->fd, "\n", 1));
        }
        log->stats.n_write_errors++;
        VLOG_WARN_RL(&rl, "%s: NetworkPolicy audit log line lost: %s",
                     log->file_name,
                     n < 0 ? ovs_strerror(errno) : "short write");
    }
}

/* Starts 'line' with the time, now, and this node. */
static void
np_log_start_line(const struct np_log *log, struct ds *line)
{
    ds_put_strftime_msec(line, "%Y-%m-%dT%H:%M:%S.###Z", time_wall_msec(),
                         true);
    ds_put_format(line, " node=%s", log->node_name);
}

/* Returns true if the verdict with 'key' is a repeat of one logged within
 * NP_LOG_REPEAT_MSEC of 'now', and remembers it either way. */
static bool
np_log_is_repeat(struct np_log *log, const struct np_log_key *key,
                 long long int now)
{
    /* Forget what expired, oldest first. */
    struct np_log_recent *r;
    LIST_FOR_EACH_SAFE (r, lru_node, &log->recent_lru) {
        if (now - r->last_msec < NP_LOG_REPEAT_MSEC
            && hmap_count(&log->recent) < NP_LOG_MAX_RECENT) {
            break;
        }
        ovs_list_remove(&r->lru_node);
        hmap_remove(&log->recent, &r->hmap_node);
        free(r);
    }

    uint32_t hash = hash_bytes(key, sizeof *key, 0);
    HMAP_FOR_EACH_WITH_HASH (r, hmap_node, hash, &log->recent) {
        if (!memcmp(&r->key, key, sizeof *key)) {
            r->last_msec = now;
            ovs_list_remove(&r->lru_node);
            ovs_list_push_back(&log->recent_lru, &r->lru_node);
            return true;
        }
    }

    r = xmalloc(sizeof *r);
    r->key = *key;
    r->last_msec = now;
    hmap_insert(&log->recent, &r->hmap_node, hash);
    ovs_list_push_back(&log->recent_lru, &r->lru_node);
    return false;
}

/* Stores in '*addr' the source (if 'src') or destination address of
 * 'flow', IPv4-mapped for IPv4, and returns true; returns false if 'flow'
 * is not IP. */
static bool
np_log_flow_addr(const struct flow *flow, bool src, struct in6_addr *addr)
{
    if (flow->dl_type == htons(ETH_TYPE_IP)) {
        in6_addr_set_mapped_ipv4(addr, src ? flow->nw_src : flow->nw_dst);
        return true;
    } else if (flow->dl_type == htons(ETH_TYPE_IPV6)) {
        *addr = src ? flow->ipv6_src : flow->ipv6_dst;
        return true;
    }
    return false;
}

/* Returns the pod of this cluster that has address 'addr' (IPv4-mapped
 * for IPv4; host-network pods excepted: they share their node's), or
 * NULL. */
static const struct k8s_pod *
np_log_find_pod(const struct np_log *log, const struct in6_addr *addr)
{
    const struct k8s_object *obj;
    bool ipv4 = k8s_addr_is_ipv4(addr);
    ovs_be32 ip4 = ipv4 ? in6_addr_get_mapped_ipv4(addr) : 0;

    if (ipv4 ? !ip4 : !ipv6_addr_is_set(addr)) {
        return NULL;
    }
    K8S_CLUSTER_FOR_EACH (obj, K8S_POD, log->in->cluster) {
        const struct k8s_pod *pod = k8s_pod_cast(obj);
        if (pod->host_network) {
            continue;
        }
        const struct in6_addr *ip6 = (ipv4 ? NULL
                                      : flows_pod_ipv6(log->in, pod));
        if (ipv4 ? flows_pod_ipv4(log->in, pod) == ip4
            : ip6 && ipv6_addr_equals(ip6, addr)) {
            return pod;
        }
    }
    return NULL;
}

/* Appends to 'line' the policies that isolate 'pod' in 'direction',
 * sorted and comma-separated, or "-" if there are none (or no pod). */
static void
np_log_put_isolating(const struct np_log *log, const struct k8s_pod *pod,
                     enum pinctrl_np_log_direction direction,
                     struct ds *line)
{
    struct svec names = SVEC_EMPTY_INITIALIZER;
    const struct k8s_object *obj;

    K8S_CLUSTER_FOR_EACH (obj, K8S_NETWORK_POLICY, log->in->cluster) {
        const struct k8s_network_policy *np = k8s_network_policy_cast(obj);
        bool isolates = (direction == PINCTRL_NP_LOG_INGRESS
                         ? np->ingress_isolation : np->egress_isolation);
        if (pod && isolates
            && !strcmp(obj->namespace, pod->obj.namespace)
            && k8s_selector_matches(&np->pod_selector, &pod->obj.labels)) {
            svec_add_nocopy(&names, xasprintf("%s/%s", obj->namespace,
                                              obj->name));
        }
    }
    svec_sort(&names);
    if (!names.n) {
        ds_put_char(line, '-');
    }
    for (size_t i = 0; i < names.n; i++) {
        ds_put_format(line, "%s%s", i ? "," : "", names.names[i]);
    }
    svec_destroy(&names);
}

/* Appends " KEY=ADDRESS[:PORT] KEY_pod=NS/NAME" for one end of 'flow'
 * (an IPv6 address with a port in brackets: "[fd00::a]:80"). */
static void
np_log_put_end(const struct np_log *log, const struct flow *flow,
               bool src, bool has_ports, struct ds *line)
{
    const char *key = src ? "src" : "dst";
    struct in6_addr addr;
    bool is_ip = np_log_flow_addr(flow, src, &addr);

    ds_put_format(line, " %s=", key);
    if (!is_ip) {
        ds_put_char(line, '-');
    } else {
        bool brackets = has_ports && !k8s_addr_is_ipv4(&addr);
        if (brackets) {
            ds_put_char(line, '[');
        }
        ipv6_format_mapped(&addr, line);
        if (brackets) {
            ds_put_char(line, ']');
        }
    }
    if (has_ports) {
        ds_put_format(line, ":%"PRIu16,
                      ntohs(src ? flow->tp_src : flow->tp_dst));
    }

    const struct k8s_pod *pod = is_ip ? np_log_find_pod(log, &addr) : NULL;
    if (pod) {
        ds_put_format(line, " %s_pod=%s/%s", key, pod->obj.namespace,
                      pod->obj.name);
    } else {
        ds_put_format(line, " %s_pod=-", key);
    }
}

void
np_log_packet(const struct flow *flow, uint64_t cookie,
              const struct pinctrl_np_log_args *args, void *log_)
{
    struct np_log *log = log_;
    bool is_ip = (flow->dl_type == htons(ETH_TYPE_IP)
                  || flow->dl_type == htons(ETH_TYPE_IPV6));
    uint8_t proto = is_ip ? flow->nw_proto : 0;
    bool has_ports = (is_ip && !(flow->nw_frag & FLOW_NW_FRAG_LATER)
                      && (proto == IPPROTO_TCP || proto == IPPROTO_UDP
                          || proto == IPPROTO_SCTP));

    struct np_log_key key;
    memset(&key, 0, sizeof key);
    np_log_flow_addr(flow, true, &key.src);
    np_log_flow_addr(flow, false, &key.dst);
    if (has_ports) {
        key.src_port = flow->tp_src;
        key.dst_port = flow->tp_dst;
    }
    key.proto = proto;
    key.verdict = args->verdict;
    key.direction = args->direction;
    if (np_log_is_repeat(log, &key, time_msec())) {
        log->stats.n_repeats++;
        return;
    }

    bool allow = args->verdict == PINCTRL_NP_LOG_ALLOW;
    bool ingress = args->direction == PINCTRL_NP_LOG_INGRESS;
    struct ds line = DS_EMPTY_INITIALIZER;
    np_log_start_line(log, &line);
    ds_put_format(&line, " verdict=%s direction=%s policy=",
                  allow ? "allow" : "drop", ingress ? "ingress" : "egress");
    if (allow) {
        const struct k8s_object *owner = kovs_cookie_find_owner(
            log->in->cluster, cookie);
        if (owner && owner->kind == K8S_NETWORK_POLICY) {
            ds_put_format(&line, "%s/%s", owner->namespace, owner->name);
        } else {
            ds_put_char(&line, '-');
        }
        ds_put_format(&line, " rule=%"PRIu16, ntohs(args->rule));
    } else {
        /* The isolated pod: the destination of ingress, the source of
         * egress. */
        struct in6_addr addr;
        const struct k8s_pod *pod = (np_log_flow_addr(flow, !ingress, &addr)
                                     ? np_log_find_pod(log, &addr) : NULL);
        np_log_put_isolating(log, pod, args->direction, &line);
        ds_put_cstr(&line, " rule=-");
    }

    ds_put_cstr(&line, " proto=");
    if (!is_ip) {
        ds_put_char(&line, '-');
    } else if (proto == IPPROTO_TCP) {
        ds_put_cstr(&line, "tcp");
    } else if (proto == IPPROTO_UDP) {
        ds_put_cstr(&line, "udp");
    } else if (proto == IPPROTO_SCTP) {
        ds_put_cstr(&line, "sctp");
    } else if (proto == IPPROTO_ICMP) {
        ds_put_cstr(&line, "icmp");
    } else if (proto == IPPROTO_ICMPV6) {
        ds_put_cstr(&line, "icmp6");
    } else {
        ds_put_format(&line, "%"PRIu8, proto);
    }
    np_log_put_end(log, flow, true, has_ports, &line);
    np_log_put_end(log, flow, false, has_ports, &line);
    ds_put_char(&line, '\n');

    np_log_write(log, &line);
    ds_destroy(&line);
    log->stats.n_lines++;
    if (allow) {
        log->stats.n_allowed++;
    } else {
        log->stats.n_dropped++;
    }
}

/* Writes what the NP_LOG meter dropped since the last time. */
static void
np_log_meter_stats_cb(const struct ofctrl_meter_stat *stats, size_t n,
                      const char *error, void *log_)
{
    struct np_log *log = log_;

    if (error) {
        VLOG_DBG("NP_LOG meter statistics: %s", error);
        return;
    }
    log->n_meter_reads++;

    bool found = false;
    for (size_t i = 0; i < n; i++) {
        found |= stats[i].meter_id == KOVS_METER_NP_LOG;
    }
    if (!found) {
        /* The meter does not exist (yet): whatever it counts from now on
         * is this controller's to report. */
        log->have_meter_count = true;
        log->last_meter_count = 0;
        return;
    }

    for (size_t i = 0; i < n; i++) {
        if (stats[i].meter_id != KOVS_METER_NP_LOG) {
            continue;
        }
        uint64_t count = stats[i].n_band_packets;
        VLOG_DBG("NP_LOG meter: %"PRIu64" packets in, %"PRIu64" dropped",
                 stats[i].n_packets, count);
        uint64_t suppressed;
        if (!log->have_meter_count) {
            /* The meter existed before this controller's first read: what
             * it counted before was reported by the controller before
             * this one, or lost with it. */
            suppressed = 0;
        } else if (count < log->last_meter_count) {
            suppressed = count;         /* A new meter. */
        } else {
            suppressed = count - log->last_meter_count;
        }
        log->have_meter_count = true;
        log->last_meter_count = count;

        if (suppressed) {
            struct ds line = DS_EMPTY_INITIALIZER;
            np_log_start_line(log, &line);
            ds_put_format(&line, " suppressed=%"PRIu64"\n", suppressed);
            np_log_write(log, &line);
            ds_destroy(&line);
            log->stats.n_suppressed += suppressed;
        }
    }
}

void
np_log_run(struct np_log *log, struct ofctrl *br_int)
{
    long long int now = time_msec();

    if (now >= log->next_check) {
        log->next_check = now + NP_LOG_CHECK_MSEC;
        np_log_check_file(log);
        if (!ofctrl_request_meter_stats(br_int, KOVS_METER_NP_LOG,
                                        np_log_meter_stats_cb, log)
            && !log->have_meter_count) {
            /* The first read sets the base that later counts are
             * compared with: it should come as soon as the switch is
             * connected, before the meter has dropped anything. */
            log->next_check = now + 100;
        }
    }
}

void
np_log_wait(struct np_log *log)
{
    poll_timer_wait_until(log->next_check);
}

void
np_log_get_stats(const struct np_log *log, struct np_log_stats *stats)
{
    *stats = log->stats;
}

/* "np-log/reopen". */
static void
np_log_unixctl_reopen(struct unixctl_conn *conn, int argc OVS_UNUSED,
                      const char *argv[] OVS_UNUSED, void *log_)
{
    struct np_log *log = log_;

    log->stats.n_reopens++;
    np_log_open(log);
    if (log->fd < 0) {
        unixctl_command_reply_error(conn, "cannot open the audit log");
    } else {
        unixctl_command_reply(conn, NULL);
    }
}

/* "np-log/show". */
static void
np_log_unixctl_show(struct unixctl_conn *conn, int argc OVS_UNUSED,
                    const char *argv[] OVS_UNUSED, void *log_)
{
    struct np_log *log = log_;
    const struct np_log_stats *s = &log->stats;
    struct ds ds = DS_EMPTY_INITIALIZER;

    ds_put_format(&ds, "file: %s (%s)\n", log->file_name,
                  log->fd >= 0 ? "open" : "not open");
    ds_put_format(&ds, "mode: %s\n", log->mode);
    ds_put_format(&ds, "rate: %u per second\n", log->rate);
    ds_put_format(&ds, "lines: %"PRIu64" (allowed %"PRIu64", dropped %"
                  PRIu64")\n", s->n_lines, s->n_allowed, s->n_dropped);
    ds_put_format(&ds, "repeats: %"PRIu64"\n", s->n_repeats);
    ds_put_format(&ds, "suppressed: %"PRIu64"\n", s->n_suppressed);
    ds_put_format(&ds, "lost: %"PRIu64"\n", s->n_write_errors);
    ds_put_format(&ds, "reopens: %"PRIu64"\n", s->n_reopens);
    ds_put_format(&ds, "meter reads: %"PRIu64" (last band count %"PRIu64
                  ")\n", log->n_meter_reads, log->last_meter_count);
    unixctl_command_reply(conn, ds_cstr(&ds));
    ds_destroy(&ds);
}
