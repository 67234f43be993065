/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#include <config.h>

#include "k8s-client.h"

#include <curl/curl.h>
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <string.h>

/* This file uses jansson, whose enum names clash with those of
 * openvswitch/json.h: nothing included here may pull that header in. */
#include "fatal-signal.h"
#include "hash.h"
#include "k8s-decode.h"
#include "k8s-decode-private.h"
#include "k8s-model.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "random.h"
#include "svec.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(k8s_client);

/* Items asked for per List page. */
#define K8S_LIST_LIMIT 500

/* Default for k8s_client_config's 'watch_timeout', in seconds. */
#define K8S_DEFAULT_WATCH_TIMEOUT 300

/* How long establishing a connection (TCP and TLS) may take. */
#define K8S_CONNECT_TIMEOUT_MS 10000

/* The longest a List page may stay silent (the API server itself gives up
 * on a list after a minute), if the watch timeout is not shorter. */
#define K8S_MAX_LIST_SILENCE 60

/* Back-off after a failure: from MIN to MAX, doubling, with jitter. */
#define K8S_BACKOFF_MIN_MS 200
#define K8S_BACKOFF_MAX_MS 30000

/* How often a token file is read again (service-account tokens rotate). */
#define K8S_TOKEN_REREAD_MS 60000

/* A watch that the server ends sooner than this without sending anything
 * counts as a failure, so that a server that keeps closing watches at once
 * is not hammered. */
#define K8S_MIN_QUIET_WATCH_MS 1000

/* Limits on what is kept in memory: one List page, one watch event (one
 * line), and the part of an error response kept for its message.  A page
 * or an event larger than this is treated as a failure. */
#define K8S_MAX_PAGE_BYTES (256 * 1024 * 1024)
#define K8S_MAX_EVENT_BYTES (16 * 1024 * 1024)
#define K8S_MAX_LIST_BYTES (4ULL * 1024 * 1024 * 1024)
#define K8S_MAX_ERROR_BYTES (64 * 1024)

/* The API resource of each kind. */
static const char *const k8s_resource_paths[K8S_N_KINDS] = {
    [K8S_NODE] = "/api/v1/nodes",
    [K8S_NAMESPACE] = "/api/v1/namespaces",
    [K8S_POD] = "/api/v1/pods",
    [K8S_SERVICE] = "/api/v1/services",
    [K8S_ENDPOINT_SLICE] = "/apis/discovery.k8s.io/v1/endpointslices",
    [K8S_NETWORK_POLICY] = "/apis/networking.k8s.io/v1/networkpolicies",
};

enum watcher_state {
    W_WAITING,                  /* Until 'next_attempt'. */
    W_LISTING,                  /* A List page request is in progress. */
    W_WATCHING,                 /* A watch is in progress. */
};

/* One kind's list-then-watch loop, on one curl easy handle. */
struct watcher {
    struct k8s_client *client;
    enum k8s_kind kind;
    const char *path;           /* Resource path, from k8s_resource_paths. */

    enum watcher_state state;
    CURL *easy;
    struct curl_slist *headers; /* The request's, while it runs. */
    char errbuf[CURL_ERROR_SIZE];
    long long int next_attempt; /* W_WAITING: when to start a request. */
    long long int request_start;
    long http_status;           /* Of the running request, 0 until known. */

    /* What the running request received: a List page, the start of an
     * error response, or the partial last line of a watch. */
    struct ds body;
    char *abort_reason;         /* Why the data callback stopped the
                                 * transfer, or NULL. */
    bool expired;               /* The watch's history expired (410). */

    /* Listing. */
    bool need_list;             /* The next request is a List page. */
    char *continue_token;       /* For the next page, NULL for the first. */
    struct k8s_cluster *snapshot;   /* The pages so far, NULL if none. */
    unsigned long long int list_bytes;  /* Their size in all. */
    struct svec warnings;       /* Invalid objects in this list. */
    struct svec last_warnings;  /* Those of the last complete list. */

    /* Watching. */
    char *resource_version;     /* Last seen, NULL before the first list. */
    unsigned int n_stream_events;   /* Events and bookmarks in this
                                     * watch. */

    /* Failures. */
    unsigned int n_failures;    /* In a row. */
    char *last_error;           /* NULL after a success. */

    bool synced;                /* Listed completely at least once. */

    /* Statistics. */
    unsigned long long int n_events;
    unsigned long long int n_bookmarks;
    unsigned long long int n_lists;
    unsigned long long int n_relists;
    unsigned long long int n_watch_restarts;
    unsigned long long int n_errors;
};

/* A socket of curl's, with what curl waits for on it. */
struct client_socket {
    struct hmap_node hmap_node; /* In k8s_client's 'sockets'. */
    curl_socket_t fd;
    int what;                   /* CURL_POLL_IN, _OUT or _INOUT. */
};

struct k8s_client {
    struct k8s_client_config cfg;
    int watch_timeout;          /* Seconds. */

    CURLM *multi;
    struct hmap sockets;        /* "struct client_socket"s by fd. */
    long long int curl_deadline;    /* When curl's timer expires, LLONG_MAX
                                     * if it is not set. */

    /* The cluster being updated, only while in k8s_client_run(). */
    struct k8s_cluster *cluster;

    char *token;                /* Bearer token, NULL if none. */
    long long int token_next_read;  /* When to read 'cfg.token_file'. */
    char *token_error;          /* Last failure to read it, or NULL. */

    long long int last_change_msec;

    /* For measurements (k8s_client_get_input_stats()). */
    uint64_t applied_rv;        /* Highest numeric resourceVersion of an
                                 * event or complete list applied. */
    unsigned long long int decode_usec; /* Spent decoding and applying. */

    struct watcher watchers[K8S_N_KINDS];
};

static void watcher_init(struct watcher *, struct k8s_client *,
                         enum k8s_kind);
static void watcher_destroy(struct watcher *);
static void watcher_start(struct watcher *);
static void watcher_done(struct watcher *, CURLcode);

static const char *
watcher_name(const struct watcher *w)
{
    return k8s_kind_name(w->kind);
}

/* curl, once per process. */
static void
client_curl_global_init(void)
{
    static bool inited;

    if (!inited) {
        CURLcode error = curl_global_init(CURL_GLOBAL_DEFAULT);
        if (error) {
            ovs_fatal(0, "cannot initialize libcurl: %s",
                      curl_easy_strerror(error));
        }
        inited = true;
    }
}

/* curl's sockets and timer. */

static struct client_socket *
client_socket_find(const struct k8s_client *client, curl_socket_t fd)
{
    struct client_socket *s;

    HMAP_FOR_EACH_WITH_HASH (s, hmap_node, hash_int(fd, 0),
                             &client->sockets) {
        if (s->fd == fd) {
            return s;
        }
    }
    return NULL;
}

/* CURLMOPT_SOCKETFUNCTION: curl says which sockets to wait for. */
static int
client_socket_cb(CURL *easy OVS_UNUSED, curl_socket_t fd, int what,
                 void *client_, void *socketp OVS_UNUSED)
{
    struct k8s_client *client = client_;
    struct client_socket *s = client_socket_find(client, fd);

    if (what == CURL_POLL_REMOVE) {
        if (s) {
            hmap_remove(&client->sockets, &s->hmap_node);
            free(s);
        }
    } else {
        if (!s) {
            s = xmalloc(sizeof *s);
            s->fd = fd;
            hmap_insert(&client->sockets, &s->hmap_node, hash_int(fd, 0));
        }
        s->what = what;
    }
    return 0;
}

/* CURLMOPT_TIMERFUNCTION: curl says when to call it back. */
static int
client_timer_cb(CURLM *multi OVS_UNUSED, long timeout_ms, void *client_)
{
    struct k8s_client *client = client_;

    client->curl_deadline = (timeout_ms < 0 ? LLONG_MAX
                             : time_msec() + timeout_ms);
    return 0;
}

static short int
client_socket_events(const struct client_socket *s)
{
    return ((s->what & CURL_POLL_IN ? POLLIN : 0)
            | (s->what & CURL_POLL_OUT ? POLLOUT : 0));
}

/* Lets curl act on the sockets that are ready and on its timer, without
 * waiting. */
static void
client_curl_run(struct k8s_client *client)
{
    size_t n = hmap_count(&client->sockets);
    int running;

    if (n) {
        struct pollfd *pfds = xmalloc(n * sizeof *pfds);
        const struct client_socket *s;
        size_t i = 0;
        int retval;

        HMAP_FOR_EACH (s, hmap_node, &client->sockets) {
            pfds[i].fd = s->fd;
            pfds[i].events = client_socket_events(s);
            pfds[i].revents = 0;
            i++;
        }
        do {
            retval = poll(pfds, n, 0);
        } while (retval < 0 && errno == EINTR);

        /* curl may add and remove sockets as it goes, which is why the
         * ready ones were collected first. */
        for (i = 0; retval > 0 && i < n; i++) {
            short int revents = pfds[i].revents;
            int mask = 0;

            if (revents & (POLLIN | POLLHUP)) {
                mask |= CURL_CSELECT_IN;
            }
            if (revents & POLLOUT) {
                mask |= CURL_CSELECT_OUT;
            }
            if (revents & (POLLERR | POLLNVAL)) {
                mask |= CURL_CSELECT_ERR;
            }
            if (mask) {
                curl_multi_socket_action(client->multi, pfds[i].fd, mask,
                                         &running);
            }
        }
        free(pfds);
    }

    if (time_msec() >= client->curl_deadline) {
        client->curl_deadline = LLONG_MAX;
        curl_multi_socket_action(client->multi, CURL_SOCKET_TIMEOUT, 0,
                                 &running);
    }

    CURLMsg *msg;
    int n_left;
    while ((msg = curl_multi_info_read(client->multi, &n_left))) {
        if (msg->msg == CURLMSG_DONE) {
            /* 'msg' does not survive curl_multi_remove_handle(). */
            CURLcode result = msg->data.result;
            CURL *easy = msg->easy_handle;
            char *private;

            curl_easy_getinfo(easy, CURLINFO_PRIVATE, &private);
            curl_multi_remove_handle(client->multi, easy);
            watcher_done((struct watcher *) private, result);
        }
    }
}

/* The client. */

struct k8s_client *
k8s_client_create(const struct k8s_client_config *cfg)
{
    struct k8s_client *client = xzalloc(sizeof *client);

    client_curl_global_init();

    /* curl writes to its sockets with code of its own (TLS) that does not
     * always avoid SIGPIPE, and with CURLOPT_NOSIGNAL it does not block the
     * signal either: a server that closes its end must not kill us. */
    fatal_ignore_sigpipe();

    k8s_client_config_clone(&client->cfg, cfg);
    client->watch_timeout = (cfg->watch_timeout > 0 ? cfg->watch_timeout
                             : K8S_DEFAULT_WATCH_TIMEOUT);
    if (cfg->token) {
        client->token = xstrdup(cfg->token);
    }
    client->token_next_read = LLONG_MIN;
    if ((cfg->token || cfg->token_file) && cfg->server
        && !strncmp(cfg->server, "http://", 7)) {
        VLOG_WARN("API server %s is plain http: the bearer token is sent "
                  "in clear; use an https:// address", cfg->server);
    }

    client->multi = curl_multi_init();
    if (!client->multi) {
        out_of_memory();
    }
    hmap_init(&client->sockets);
    client->curl_deadline = LLONG_MAX;
    curl_multi_setopt(client->multi, CURLMOPT_SOCKETFUNCTION,
                      client_socket_cb);
    curl_multi_setopt(client->multi, CURLMOPT_SOCKETDATA, client);
    curl_multi_setopt(client->multi, CURLMOPT_TIMERFUNCTION,
                      client_timer_cb);
    curl_multi_setopt(client->multi, CURLMOPT_TIMERDATA, client);

    for (int kind = 0; kind < K8S_N_KINDS; kind++) {
        watcher_init(&client->watchers[kind], client, kind);
    }
    return client;
}

void
k8s_client_destroy(struct k8s_client *client)
{
    if (!client) {
        return;
    }

    for (int kind = 0; kind < K8S_N_KINDS; kind++) {
        watcher_destroy(&client->watchers[kind]);
    }
    curl_multi_cleanup(client->multi);

    struct client_socket *s;
    HMAP_FOR_EACH_POP (s, hmap_node, &client->sockets) {
        free(s);
    }
    hmap_destroy(&client->sockets);

    k8s_client_config_destroy(&client->cfg);
    free(client->token);
    free(client->token_error);
    free(client);
}

void
k8s_client_run(struct k8s_client *client, struct k8s_cluster *cluster)
{
    client->cluster = cluster;

    client_curl_run(client);

    long long int now = time_msec();
    for (int kind = 0; kind < K8S_N_KINDS; kind++) {
        struct watcher *w = &client->watchers[kind];
        if (w->state == W_WAITING && now >= w->next_attempt) {
            watcher_start(w);
        }
    }

    client->cluster = NULL;
}

void
k8s_client_wait(const struct k8s_client *client)
{
    const struct client_socket *s;

    HMAP_FOR_EACH (s, hmap_node, &client->sockets) {
        short int events = client_socket_events(s);
        if (events) {
            poll_fd_wait(s->fd, events);
        }
    }
    if (client->curl_deadline != LLONG_MAX) {
        poll_timer_wait_until(client->curl_deadline);
    }
    for (int kind = 0; kind < K8S_N_KINDS; kind++) {
        const struct watcher *w = &client->watchers[kind];
        if (w->state == W_WAITING) {
            poll_timer_wait_until(w->next_attempt);
        }
    }
}

bool
k8s_client_is_synced(const struct k8s_client *client)
{
    for (int kind = 0; kind < K8S_N_KINDS; kind++) {
        if (!client->watchers[kind].synced) {
            return false;
        }
    }
    return true;
}

long long int
k8s_client_last_change_msec(const struct k8s_client *client)
{
    return client->last_change_msec;
}

void
k8s_client_get_input_stats(const struct k8s_client *client,
                           struct k8s_client_input_stats *stats)
{
    stats->applied_rv = client->applied_rv;
    stats->decode_usec = client->decode_usec;
}

/* Notes that what the client applied is at resourceVersion 'rv' (as the
 * API server sent it), if it is a number. */
static void
client_note_applied_rv(struct k8s_client *client, const char *rv)
{
    char *end;

    if (rv && rv[0] >= '0' && rv[0] <= '9') {
        errno = 0;
        unsigned long long int n = strtoull(rv, &end, 10);
        if (!errno && !*end) {
            client->applied_rv = MAX(client->applied_rv, n);
        }
    }
}

static const char *
watcher_state_name(const struct watcher *w)
{
    switch (w->state) {
    case W_WAITING:
        return w->need_list ? "waiting to list" : "waiting to watch";
    case W_LISTING:
        return "listing";
    case W_WATCHING:
        return "watching";
    default:
        OVS_NOT_REACHED();
    }
}

void
k8s_client_get_kind_stats(const struct k8s_client *client,
                          enum k8s_kind kind,
                          struct k8s_client_kind_stats *stats)
{
    const struct watcher *w = &client->watchers[kind];

    *stats = (struct k8s_client_kind_stats) {
        .n_events = w->n_events,
        .n_bookmarks = w->n_bookmarks,
        .n_lists = w->n_lists,
        .n_relists = w->n_relists,
        .n_watch_restarts = w->n_watch_restarts,
        .n_errors = w->n_errors,
    };
}

void
k8s_client_format_status(const struct k8s_client *client, struct ds *ds)
{
    ds_put_format(ds, "api server: %s (%s)\n", client->cfg.server,
                  k8s_client_is_synced(client) ? "synced" : "not synced");
    for (int kind = 0; kind < K8S_N_KINDS; kind++) {
        const struct watcher *w = &client->watchers[kind];

        ds_put_format(ds, "api %s: %s", watcher_name(w),
                      watcher_state_name(w));
        if (w->resource_version) {
            ds_put_format(ds, " at resourceVersion \"%s\"",
                          w->resource_version);
        }
        ds_put_format(ds, ": %llu events, %llu bookmarks, %llu lists, "
                      "%llu relists, %llu errors\n", w->n_events,
                      w->n_bookmarks, w->n_lists, w->n_relists,
                      w->n_errors);
        if (w->last_error) {
            ds_put_format(ds, "api %s: last error: %s\n", watcher_name(w),
                          w->last_error);
        }
    }
    if (client->token_error) {
        ds_put_format(ds, "api token: %s\n", client->token_error);
    }
}

/* The bearer token. */

/* Returns the token to send, reading the token file again if it is time
 * to.  If the file cannot be read, the last token read stays in use. */
static const char *
client_get_token(struct k8s_client *client)
{
    long long int now = time_msec();

    if (client->cfg.token_file && now >= client->token_next_read) {
        char *token, *error;

        client->token_next_read = now + K8S_TOKEN_REREAD_MS;
        if (!k8s_client_config_read_token(client->cfg.token_file, &token,
                                          &error)) {
            if (client->token && strcmp(client->token, token)) {
                VLOG_INFO("token file %s: using the new token",
                          client->cfg.token_file);
            }
            free(client->token);
            client->token = token;
            free(client->token_error);
            client->token_error = NULL;
        } else {
            if (!client->token_error || strcmp(client->token_error, error)) {
                VLOG_WARN("%s%s", error, (client->token
                                          ? " (keeping the last token)"
                                          : ""));
            }
            free(client->token_error);
            client->token_error = error;
        }
    }
    return client->token;
}

/* Makes the next request read the token file again, after the server
 * refused the token. */
static void
client_reread_token(struct k8s_client *client)
{
    client->token_next_read = LLONG_MIN;
}

/* Watchers. */

static void
watcher_set_tls(struct watcher *w)
{
    const struct k8s_client_config *cfg = &w->client->cfg;
    CURL *easy = w->easy;

    if (cfg->ca_file || cfg->ca_data) {
        /* Trust exactly the cluster's CAs, not the system's as well. */
        curl_easy_setopt(easy, CURLOPT_CAPATH, NULL);
        if (cfg->ca_data) {
            struct curl_blob blob = {
                .data = cfg->ca_data,
                .len = strlen(cfg->ca_data),
                .flags = CURL_BLOB_COPY,
            };
            curl_easy_setopt(easy, CURLOPT_CAINFO_BLOB, &blob);
        } else {
            curl_easy_setopt(easy, CURLOPT_CAINFO, cfg->ca_file);
        }
    }
    if (cfg->cert_data) {
        struct curl_blob blob = {
            .data = cfg->cert_data,
            .len = strlen(cfg->cert_data),
            .flags = CURL_BLOB_COPY,
        };
        curl_easy_setopt(easy, CURLOPT_SSLCERT_BLOB, &blob);
        curl_easy_setopt(easy, CURLOPT_SSLCERTTYPE, "PEM");
    } else if (cfg->cert_file) {
        curl_easy_setopt(easy, CURLOPT_SSLCERT, cfg->cert_file);
        curl_easy_setopt(easy, CURLOPT_SSLCERTTYPE, "PEM");
    }
    if (cfg->key_data) {
        struct curl_blob blob = {
            .data = cfg->key_data,
            .len = strlen(cfg->key_data),
            .flags = CURL_BLOB_COPY,
        };
        curl_easy_setopt(easy, CURLOPT_SSLKEY_BLOB, &blob);
        curl_easy_setopt(easy, CURLOPT_SSLKEYTYPE, "PEM");
    } else if (cfg->key_file) {
        curl_easy_setopt(easy, CURLOPT_SSLKEY, cfg->key_file);
        curl_easy_setopt(easy, CURLOPT_SSLKEYTYPE, "PEM");
    }
    if (cfg->insecure) {
        curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
    }
}

static size_t watcher_data_cb(char *ptr, size_t size, size_t nmemb,
                              void *w_);

static void
watcher_init(struct watcher *w, struct k8s_client *client,
             enum k8s_kind kind)
{
    memset(w, 0, sizeof *w);
    w->client = client;
    w->kind = kind;
    w->path = k8s_resource_paths[kind];
    w->state = W_WAITING;
    w->next_attempt = LLONG_MIN;
    w->need_list = true;
    ds_init(&w->body);
    svec_init(&w->warnings);
    svec_init(&w->last_warnings);

    w->easy = curl_easy_init();
    if (!w->easy) {
        out_of_memory();
    }

    CURL *easy = w->easy;
    curl_easy_setopt(easy, CURLOPT_PRIVATE, (char *) w);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, watcher_data_cb);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, w);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, w->errbuf);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                     (long) K8S_CONNECT_TIMEOUT_MS);
    curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(easy, CURLOPT_TCP_KEEPIDLE, 30L);
    curl_easy_setopt(easy, CURLOPT_TCP_KEEPINTVL, 10L);
    curl_easy_setopt(easy, CURLOPT_USERAGENT, "kovs/" PACKAGE_VERSION);
    curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");
    watcher_set_tls(w);
}

static void
watcher_discard_list(struct watcher *w)
{
    if (w->snapshot) {
        k8s_cluster_destroy(w->snapshot);
        free(w->snapshot);
        w->snapshot = NULL;
    }
    free(w->continue_token);
    w->continue_token = NULL;
    w->list_bytes = 0;
    svec_clear(&w->warnings);
}

static void
watcher_destroy(struct watcher *w)
{
    if (w->state != W_WAITING) {
        curl_multi_remove_handle(w->client->multi, w->easy);
    }
    curl_easy_cleanup(w->easy);
    curl_slist_free_all(w->headers);
    watcher_discard_list(w);
    ds_destroy(&w->body);
    svec_destroy(&w->warnings);
    svec_destroy(&w->last_warnings);
    free(w->abort_reason);
    free(w->resource_version);
    free(w->last_error);
}

/* Makes 'w' start its next request 'delay' ms from now. */
static void
watcher_schedule(struct watcher *w, long long int delay)
{
    w->state = W_WAITING;
    w->next_attempt = time_msec() + delay;
}

/* The delay before the next attempt after 'n_failures' failures in a row:
 * exponential, capped, and drawn at random from its upper half so that
 * many clients do not come back all at once. */
static long long int
backoff_delay(unsigned int n_failures)
{
    long long int delay = K8S_BACKOFF_MIN_MS;

    for (unsigned int i = 1; i < n_failures && delay < K8S_BACKOFF_MAX_MS;
         i++) {
        delay *= 2;
    }
    delay = MIN(delay, K8S_BACKOFF_MAX_MS);
    return delay / 2 + random_range(delay / 2 + 1);
}

/* Records that the request of 'w' failed because of 'error' (which this
 * function takes) and schedules the next attempt after a back-off.  A list
 * in progress starts over. */
static void
watcher_failed(struct watcher *w, char *error)
{
    w->n_errors++;
    w->n_failures++;

    long long int delay = backoff_delay(w->n_failures);
    if (!w->last_error || strcmp(error, w->last_error)) {
        VLOG_WARN("%s: %s (retrying in %lld ms)", watcher_name(w), error,
                  delay);
    } else {
        VLOG_DBG("%s: %s (retrying in %lld ms)", watcher_name(w), error,
                 delay);
    }
    free(w->last_error);
    w->last_error = error;

    if (w->need_list) {
        watcher_discard_list(w);
    }
    watcher_schedule(w, delay);
}

/* Records that 'w' made progress: the failures in a row are over. */
static void
watcher_succeeded(struct watcher *w)
{
    if (w->last_error) {
        VLOG_INFO("%s: working again after %u failures", watcher_name(w),
                  w->n_failures);
        free(w->last_error);
        w->last_error = NULL;
    }
    w->n_failures = 0;
}

/* Makes the next request of 'w' list from the start, because the history
 * it was following expired. */
static void
watcher_relist(struct watcher *w)
{
    watcher_discard_list(w);
    w->need_list = true;
    w->n_relists++;
    watcher_schedule(w, 0);
}

static char *
watcher_escape(const struct watcher *w, const char *s)
{
    char *escaped = curl_easy_escape(w->easy, s, 0);
    if (!escaped) {
        out_of_memory();
    }

    char *copy = xstrdup(escaped);
    curl_free(escaped);
    return copy;
}

static struct curl_slist *
slist_append(struct curl_slist *list, const char *s)
{
    struct curl_slist *new = curl_slist_append(list, s);
    if (!new) {
        out_of_memory();
    }
    return new;
}

/* Starts the next request of 'w': a List page or a watch. */
static void
watcher_start(struct watcher *w)
{
    struct k8s_client *client = w->client;
    const char *token = client_get_token(client);
    struct ds url = DS_EMPTY_INITIALIZER;
    CURL *easy = w->easy;

    ds_put_format(&url, "%s%s?", client->cfg.server, w->path);
    if (w->need_list) {
        ds_put_format(&url, "limit=%d", K8S_LIST_LIMIT);
        if (w->continue_token) {
            char *escaped = watcher_escape(w, w->continue_token);
            ds_put_format(&url, "&continue=%s", escaped);
            free(escaped);
        } else {
            watcher_discard_list(w);
            w->snapshot = xmalloc(sizeof *w->snapshot);
            k8s_cluster_init(w->snapshot);
        }

        /* A page comes at once; one that stops coming has stalled. */
        curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 0L);
        curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(easy, CURLOPT_LOW_SPEED_TIME,
                         (long) MIN(client->watch_timeout,
                                    K8S_MAX_LIST_SILENCE));
        w->state = W_LISTING;
    } else {
        /* The server ends the watch after 'timeout' seconds; if it has not
         * a while after that, the connection has stalled. */
        int timeout = (client->watch_timeout
                       + random_range(client->watch_timeout / 2 + 1));
        long long int limit_ms = (timeout * 1000LL
                                  + MAX(2000, timeout * 100LL));
        char *escaped = watcher_escape(w, w->resource_version);

        ds_put_format(&url, "watch=true&allowWatchBookmarks=true"
                      "&timeoutSeconds=%d&resourceVersion=%s",
                      timeout, escaped);
        free(escaped);

        curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, 0L);
        curl_easy_setopt(easy, CURLOPT_LOW_SPEED_TIME, 0L);
        curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long) limit_ms);
        w->state = W_WATCHING;
        w->n_stream_events = 0;
    }
    curl_easy_setopt(easy, CURLOPT_URL, ds_cstr(&url));

    curl_slist_free_all(w->headers);
    w->headers = slist_append(NULL, "Accept: application/json");
    if (token) {
        char *header = xasprintf("Authorization: Bearer %s", token);
        w->headers = slist_append(w->headers, header);
        free(header);
    }
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, w->headers);

    ds_clear(&w->body);
    free(w->abort_reason);
    w->abort_reason = NULL;
    w->expired = false;
    w->http_status = 0;
    w->errbuf[0] = '\0';
    w->request_start = time_msec();

    VLOG_DBG("%s: GET %s", watcher_name(w), ds_cstr(&url));
    ds_destroy(&url);

    CURLMcode error = curl_multi_add_handle(client->multi, easy);
    if (error) {
        w->state = W_WAITING;
        watcher_failed(w, xasprintf("cannot start a request: %s",
                                    curl_multi_strerror(error)));
    }
}

/* JSON helpers. */

static const char *
json_member_string(const json_t *object, const char *key)
{
    const json_t *value = json_object_get(object, key);
    return json_is_string(value) ? json_string_value(value) : NULL;
}

/* Removes the members that say what type 'object' is.  List items do not
 * have them and watch events do; without them, the same object has the
 * same content hash whichever way it arrived, and a relist changes
 * nothing that did not change. */
static void
strip_type_meta(json_t *object)
{
    json_object_del(object, "kind");
    json_object_del(object, "apiVersion");
}

/* Describes the error in the response to a request of 'w' with HTTP
 * status 'status', using the Status object in its body if there is one. */
static char *
describe_http_error(const struct watcher *w, const char *what, long status)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    json_t *root = json_loadb(w->body.string ? w->body.string : "",
                              w->body.length, 0, NULL);
    const char *message = (json_is_object(root)
                           ? json_member_string(root, "message") : NULL);

    ds_put_format(&s, "%s: HTTP status %ld", what, status);
    if (message) {
        ds_put_format(&s, ": %s", message);
    } else if (w->body.length) {
        ds_put_cstr(&s, ": ");
        ds_put_printable(&s, w->body.string, MIN(w->body.length, 200));
    }
    if (status == 401) {
        ds_put_cstr(&s, " (the token or client certificate was refused)");
    } else if (status == 403) {
        ds_put_cstr(&s, " (the account lacks list or watch permission)");
    }
    json_decref(root);
    return ds_steal_cstr(&s);
}

static char *
describe_curl_error(const struct watcher *w, const char *what,
                    CURLcode result)
{
    if (w->errbuf[0]) {
        /* curl's message may end in white space. */
        size_t len = strlen(w->errbuf);
        while (len && isspace((unsigned char) w->errbuf[len - 1])) {
            len--;
        }
        return xasprintf("%s: %s (%.*s)", what, curl_easy_strerror(result),
                         (int) len, w->errbuf);
    }
    return xasprintf("%s: %s", what, curl_easy_strerror(result));
}

/* Lists. */

/* Applies the complete list, at 'resource_version', and moves on to
 * watching. */
static void
watcher_list_complete(struct watcher *w, const char *resource_version)
{
    struct k8s_cluster *cluster = w->client->cluster;
    size_t n_objects = k8s_cluster_count(w->snapshot, w->kind);
    struct k8s_replace_counts counts = { 0, 0, 0 };

    k8s_cluster_replace_kind(cluster, w->snapshot, w->kind, &counts);
    size_t added = counts.added, modified = counts.modified;
    size_t deleted = counts.deleted;
    if (added || modified || deleted) {
        w->client->last_change_msec = time_msec();
    }

    /* Log the objects skipped, unless this relist skipped the same ones
     * for the same reasons. */
    if (!svec_equal(&w->warnings, &w->last_warnings)) {
        const char *warning;
        size_t i;

        SVEC_FOR_EACH (i, warning, &w->warnings) {
            VLOG_WARN("%s: skipped %s", watcher_name(w), warning);
        }
    }
    svec_swap(&w->warnings, &w->last_warnings);

    if (added || modified || deleted || !w->n_lists || w->last_error) {
        VLOG_INFO("%s: listed %"PRIuSIZE" objects at resourceVersion "
                  "\"%s\": %"PRIuSIZE" added, %"PRIuSIZE" modified, "
                  "%"PRIuSIZE" deleted", watcher_name(w), n_objects,
                  resource_version, added, modified, deleted);
    } else {
        VLOG_DBG("%s: listed %"PRIuSIZE" objects at resourceVersion "
                 "\"%s\": no changes", watcher_name(w), n_objects,
                 resource_version);
    }

    client_note_applied_rv(w->client, resource_version);
    watcher_discard_list(w);
    free(w->resource_version);
    w->resource_version = xstrdup(resource_version);
    w->need_list = false;
    w->synced = true;
    w->n_lists++;
    watcher_succeeded(w);
    watcher_schedule(w, 0);
}

/* Decodes one List page in 'w->body' into the snapshot.  Returns NULL on
 * success, otherwise an error message.  An item that does not decode, even
 * one that is not valid JSON, is skipped with a warning: one object never
 * stops a list. */
static char *
watcher_list_page(struct watcher *w)
{
    long long int start = time_usec();
    struct k8s_list_meta meta;
    char *error;

    w->list_bytes += w->body.length;
    if (w->list_bytes > K8S_MAX_LIST_BYTES) {
        return xasprintf("list: larger than %llu bytes in all pages",
                         (unsigned long long) K8S_MAX_LIST_BYTES);
    }
    int retval = k8s_decode_list_page(w->body.string ? w->body.string : "",
                                      w->body.length, k8s_kind_name(w->kind),
                                      w->snapshot, &w->warnings, &meta,
                                      &error);
    if (retval) {
        char *message = xasprintf("list: malformed response: %s", error);
        free(error);
        w->client->decode_usec += time_usec() - start;
        return message;
    }

    const char *rv = meta.resource_version;
    const char *cont = meta.continue_token;
    if (!rv || !rv[0]) {
        error = xstrdup("list: response has no metadata.resourceVersion");
    } else if (cont && cont[0]) {
        free(w->continue_token);
        w->continue_token = xstrdup(cont);
        watcher_schedule(w, 0);
    } else {
        watcher_list_complete(w, rv);
    }
    k8s_list_meta_destroy(&meta);
    w->client->decode_usec += time_usec() - start;
    return error;
}

static void
watcher_list_done(struct watcher *w, CURLcode result, long status)
{
    if (result != CURLE_OK) {
        watcher_failed(w, (w->abort_reason
                           ? xasprintf("list: %s", w->abort_reason)
                           : describe_curl_error(w, "list", result)));
    } else if (status == 410 && w->continue_token) {
        VLOG_INFO("%s: list: continue token expired, listing again from "
                  "the start", watcher_name(w));
        watcher_relist(w);
    } else if (status != 200) {
        if (status == 401) {
            client_reread_token(w->client);
        }
        watcher_failed(w, describe_http_error(w, "list", status));
    } else {
        char *error = watcher_list_page(w);
        if (error) {
            watcher_failed(w, error);
        }
    }
}

/* Watches. */

/* Applies an ADDED or MODIFIED event's 'object' to the cluster.  An object
 * that does not decode is removed, as a relist would skip it.  Returns true
 * if the cluster changed. */
static bool
watcher_apply_put(struct watcher *w, json_t *object)
{
    struct k8s_cluster *cluster = w->client->cluster;
    char *error;

    strip_type_meta(object);
    struct k8s_object *obj = k8s_decode_json(object, w->kind, &error);
    if (obj) {
        return k8s_cluster_put(cluster, obj);
    }

    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(10, 10);
    VLOG_WARN_RL(&rl, "%s: skipped %s", watcher_name(w), error);
    free(error);

    const json_t *metadata = json_object_get(object, "metadata");
    const char *name = json_member_string(metadata, "name");
    const char *ns = json_member_string(metadata, "namespace");
    return (name
            && k8s_cluster_delete(cluster, w->kind,
                                  (k8s_kind_is_namespaced(w->kind) && ns
                                   ? ns : ""), name));
}

/* Applies a DELETED event's 'object'.  Returns true if the cluster
 * changed. */
static bool
watcher_apply_delete(struct watcher *w, const json_t *object)
{
    const json_t *metadata = json_object_get(object, "metadata");
    const char *name = json_member_string(metadata, "name");
    const char *ns = json_member_string(metadata, "namespace");

    if (!name) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(10, 10);
        VLOG_WARN_RL(&rl, "%s: DELETED event without metadata.name",
                     watcher_name(w));
        return false;
    }
    return k8s_cluster_delete(w->client->cluster, w->kind,
                              (k8s_kind_is_namespaced(w->kind) && ns
                               ? ns : ""), name);
}

static void
watcher_set_resource_version(struct watcher *w, const json_t *object)
{
    const char *rv = json_member_string(json_object_get(object, "metadata"),
                                        "resourceVersion");
    if (rv && rv[0]) {
        free(w->resource_version);
        w->resource_version = xstrdup(rv);
    }
}

/* Handles one line of a watch stream.  Returns false to end the watch,
 * with 'w->expired' or 'w->abort_reason' set. */
static bool
watcher_handle_line__(struct watcher *w, const char *line, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r') {
            break;
        }
    }
    if (i == len) {
        return true;
    }

    json_error_t jerror;
    json_t *event = json_loadb(line, len, JSON_ALLOW_NUL, &jerror);
    if (!event) {
        /* Without a parse there is no object to name and no
         * resourceVersion to move to: skip the event and go on with the
         * stream, rather than end the watch and get the same event again
         * from the same resourceVersion forever. */
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(10, 10);
        struct ds text = DS_EMPTY_INITIALIZER;
        ds_put_printable(&text, line, MIN(len, 200));
        VLOG_WARN_RL(&rl, "%s: skipped a watch event that is not valid "
                     "JSON (column %d: %s): %s", watcher_name(w),
                     jerror.column, jerror.text, ds_cstr(&text));
        ds_destroy(&text);
        w->n_errors++;
        return true;
    }

    const char *type = (json_is_object(event)
                        ? json_member_string(event, "type") : NULL);
    json_t *object = (json_is_object(event)
                      ? json_object_get(event, "object") : NULL);
    bool ok = true;
    if (!type || !json_is_object(object)) {
        w->abort_reason = xstrdup("malformed watch event: no \"type\" "
                                  "string or no \"object\" object");
        ok = false;
    } else if (!strcmp(type, "ERROR")) {
        const json_t *code = json_object_get(object, "code");
        const char *message = json_member_string(object, "message");

        if (json_is_integer(code) && json_integer_value(code) == 410) {
            VLOG_INFO("%s: watch: history expired (%s), listing again",
                      watcher_name(w), message ? message : "410 Gone");
            w->expired = true;
        } else {
            w->abort_reason = xasprintf(
                "watch: ERROR event: code %lld: %s",
                json_is_integer(code) ? (long long) json_integer_value(code)
                : 0LL, message ? message : "(no message)");
        }
        ok = false;
    } else if (!strcmp(type, "BOOKMARK")) {
        watcher_set_resource_version(w, object);
        w->n_bookmarks++;
        w->n_stream_events++;
        watcher_succeeded(w);
    } else if (!strcmp(type, "ADDED") || !strcmp(type, "MODIFIED")
               || !strcmp(type, "DELETED")) {
        bool changed = (type[0] == 'D'
                        ? watcher_apply_delete(w, object)
                        : watcher_apply_put(w, object));
        if (changed) {
            w->client->last_change_msec = time_msec();
        }
        VLOG_DBG("%s: %s event%s", watcher_name(w), type,
                 changed ? "" : " (no change)");
        watcher_set_resource_version(w, object);
        client_note_applied_rv(w->client, w->resource_version);
        w->n_events++;
        w->n_stream_events++;
        watcher_succeeded(w);
    } else {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(10, 10);
        VLOG_WARN_RL(&rl, "%s: ignoring watch event of unknown type "
                     "\"%s\"", watcher_name(w), type);
        w->n_errors++;
    }
    json_decref(event);
    return ok;
}

/* watcher_handle_line__(), timed. */
static bool
watcher_handle_line(struct watcher *w, const char *line, size_t len)
{
    long long int start = time_usec();
    bool ok = watcher_handle_line__(w, line, len);
    w->client->decode_usec += time_usec() - start;
    return ok;
}

/* Handles the 'n' bytes of a watch stream at 'data', line by line, keeping
 * an incomplete last line in 'w->body'.  Returns false to end the
 * watch. */
static bool
watcher_watch_data(struct watcher *w, const char *data, size_t n)
{
    const char *end = data + n;

    while (data < end) {
        const char *nl = memchr(data, '\n', end - data);
        size_t len = (nl ? nl : end) - data;

        if (w->body.length + len > K8S_MAX_EVENT_BYTES) {
            w->abort_reason = xasprintf("watch event larger than %d bytes",
                                        K8S_MAX_EVENT_BYTES);
            return false;
        }
        if (!nl) {
            ds_put_buffer(&w->body, data, len);
            break;
        }

        bool ok;
        if (w->body.length) {
            ds_put_buffer(&w->body, data, len);
            ok = watcher_handle_line(w, w->body.string, w->body.length);
            ds_clear(&w->body);
        } else {
            ok = watcher_handle_line(w, data, len);
        }
        if (!ok) {
            return false;
        }
        data = nl + 1;
    }
    return true;
}

unsigned long long int
k8s_client_apply_watch_stream(struct k8s_cluster *cluster,
                              enum k8s_kind kind, const char *data, size_t n,
                              char **resource_version, char **end)
{
    struct k8s_client client = { .cluster = cluster };
    struct watcher w = {
        .client = &client,
        .kind = kind,
        .path = k8s_resource_paths[kind],
        .state = W_WATCHING,
        .body = DS_EMPTY_INITIALIZER,
    };

    if (!watcher_watch_data(&w, data, n)) {
        *end = (w.abort_reason ? w.abort_reason
                : xstrdup("watch: history expired (410)"));
    } else {
        *end = NULL;
        free(w.abort_reason);
    }
    *resource_version = w.resource_version;
    ds_destroy(&w.body);
    free(w.last_error);
    return w.n_events;
}

static void
watcher_watch_done(struct watcher *w, CURLcode result, long status)
{
    if (w->expired || status == 410) {
        if (status == 410) {
            VLOG_INFO("%s: watch from resourceVersion \"%s\": history "
                      "expired (HTTP 410), listing again", watcher_name(w),
                      w->resource_version);
        }
        watcher_relist(w);
        return;
    }

    /* Every other end of a watch leads to a new watch from the last
     * resourceVersion seen, at once or after a backoff. */
    w->n_watch_restarts++;
    if (w->abort_reason) {
        watcher_failed(w, xasprintf("watch: %s", w->abort_reason));
    } else if (result == CURLE_OPERATION_TIMEDOUT && status == 200) {
        watcher_failed(w, xstrdup("watch: the server did not end the watch "
                                  "in time: connection stalled"));
    } else if (result != CURLE_OK) {
        watcher_failed(w, describe_curl_error(w, "watch", result));
    } else if (status != 200) {
        if (status == 401) {
            client_reread_token(w->client);
        }
        watcher_failed(w, describe_http_error(w, "watch", status));
    } else if (!w->n_stream_events
               && time_msec() - w->request_start < K8S_MIN_QUIET_WATCH_MS) {
        watcher_failed(w, xstrdup("watch: the server ended the watch at "
                                  "once"));
    } else {
        /* The server ended the watch, normally at timeoutSeconds: resume
         * from where it got to. */
        VLOG_DBG("%s: watch ended after %lld ms, resuming from "
                 "resourceVersion \"%s\"", watcher_name(w),
                 time_msec() - w->request_start, w->resource_version);
        watcher_schedule(w, 0);
    }
}

/* CURLOPT_WRITEFUNCTION: the body of a response, as it arrives. */
static size_t
watcher_data_cb(char *ptr, size_t size, size_t nmemb, void *w_)
{
    struct watcher *w = w_;
    size_t n = size * nmemb;

    if (!w->http_status) {
        curl_easy_getinfo(w->easy, CURLINFO_RESPONSE_CODE, &w->http_status);
    }

    if (w->http_status != 200) {
        /* An error: keep the start of the body for its message. */
        size_t room = (w->body.length < K8S_MAX_ERROR_BYTES
                       ? K8S_MAX_ERROR_BYTES - w->body.length : 0);
        ds_put_buffer(&w->body, ptr, MIN(n, room));
        return n;
    } else if (w->state == W_LISTING) {
        if (w->body.length + n > K8S_MAX_PAGE_BYTES) {
            w->abort_reason = xasprintf("page larger than %d bytes",
                                        K8S_MAX_PAGE_BYTES);
            return 0;
        }
        ds_put_buffer(&w->body, ptr, n);
        return n;
    } else {
        return watcher_watch_data(w, ptr, n) ? n : 0;
    }
}

/* Handles the end of the request of 'w'. */
static void
watcher_done(struct watcher *w, CURLcode result)
{
    long status = 0;

    curl_easy_getinfo(w->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(w->headers);
    w->headers = NULL;

    if (w->state == W_LISTING) {
        watcher_list_done(w, result, status);
    } else {
        watcher_watch_done(w, result, status);
    }

    /* Do not hold on to the memory of a large List page. */
    if (w->body.allocated > 1024 * 1024) {
        ds_destroy(&w->body);
        ds_init(&w->body);
    } else {
        ds_clear(&w->body);
    }
}
