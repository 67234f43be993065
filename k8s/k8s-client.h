/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#ifndef K8S_CLIENT_H
#define K8S_CLIENT_H 1

/* The Kubernetes API server source of the cluster model.
 *
 * For each of the six kinds the client lists (in pages) and then watches
 * the API server, applying what it reads to a "struct k8s_cluster":
 *
 *   - A list collects every page into a snapshot and then makes the cluster
 *     hold exactly the snapshot with k8s_cluster_replace_kind(), so that a
 *     relist changes only what really changed while the client was not
 *     watching.  A continue token that expired (HTTP 410) restarts the list.
 *
 *   - A watch starts from the list's resourceVersion with bookmarks, and
 *     each event is applied as soon as its line has arrived.  A watch that
 *     ends resumes from the last resourceVersion seen (in an event or a
 *     bookmark); one whose history expired (HTTP 410, or an ERROR event with
 *     a Status of code 410) relists.
 *
 *   - Failures (connection, TLS, HTTP errors, malformed data, a silent
 *     connection) back off exponentially with jitter, capped.  Nothing is
 *     ever removed from the cluster because the API server cannot be
 *     reached: only a complete list or a DELETED event removes objects.
 *
 * Everything runs in the caller's poll loop and never blocks: the client
 * uses libcurl's multi interface, with curl's sockets and timer registered
 * through poll_fd_wait() and poll_timer_wait_until().  Creating a client
 * makes the process ignore SIGPIPE (fatal_ignore_sigpipe()).
 *
 * The connection configuration comes from a kubeconfig file, from the
 * in-cluster service account, or from explicit options. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "k8s/k8s-model.h"

struct ds;
struct k8s_cluster;

/* Where the API server is and how to trust and authenticate to it.  Every
 * string is owned by the configuration (malloc'd, NULL if unset), so a
 * caller may replace one with free() and xstrdup(). */
struct k8s_client_config {
    char *server;           /* "https://host:port", without a trailing '/'.
                             * "http://" is accepted for a local proxy. */

    /* Certificate authorities to trust.  With neither, the system's. */
    char *ca_file;          /* PEM file. */
    char *ca_data;          /* PEM text. */

    /* Bearer token: 'token' as is, or read from 'token_file', which is
     * re-read periodically because service-account tokens rotate. */
    char *token;
    char *token_file;

    /* Client certificate and key, as files or as PEM text. */
    char *cert_file;
    char *key_file;
    char *cert_data;
    char *key_data;

    bool insecure;          /* Skip verification of the server's
                             * certificate.  Only a kubeconfig that says
                             * insecure-skip-tls-verify sets it. */

    /* The timeoutSeconds of a watch, in seconds: each watch asks the server
     * to end it after this long plus up to half as much again, at random.
     * A watch the server has not ended some time after that, or a List
     * page silent for this long (at most a minute), is abandoned as
     * stalled.  0 means the default (300). */
    int watch_timeout;
};

void k8s_client_config_init(struct k8s_client_config *);
void k8s_client_config_destroy(struct k8s_client_config *);
void k8s_client_config_clone(struct k8s_client_config *dst,
                             const struct k8s_client_config *src);

/* Fills 'cfg' (initialized by the caller) from the kubeconfig file at
 * 'path': the current context's cluster (server, certificate-authority or
 * certificate-authority-data, insecure-skip-tls-verify) and user (token,
 * tokenFile, client-certificate(-data), client-key(-data)).  Relative file
 * names are relative to the kubeconfig's directory.  Returns 0, or an errno
 * value with '*errorp' set to a message naming the file and the field (the
 * caller frees it). */
int k8s_client_config_from_kubeconfig(const char *path,
                                      struct k8s_client_config *cfg,
                                      char **errorp);

/* Fills 'cfg' (initialized by the caller) for a pod of the cluster:
 * https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT, with the token
 * file and CA of the service account mounted in 'sa_dir' (NULL for
 * /var/run/secrets/kubernetes.io/serviceaccount).  Returns 0, or an errno
 * value with '*errorp' set (the caller frees it). */
int k8s_client_config_in_cluster(const char *sa_dir,
                                 struct k8s_client_config *cfg,
                                 char **errorp);

/* Sets cfg->server to 'url' (which --k8s-api= gives) after checking that
 * it is an http:// or https:// URL.  Returns 0, or EINVAL with '*errorp'
 * set (the caller frees it). */
int k8s_client_config_set_server(struct k8s_client_config *cfg,
                                 const char *url, char **errorp);

/* Checks that 'cfg' can be used: a server, and readable files.  Returns 0,
 * or an errno value with '*errorp' set naming the file (the caller frees
 * it). */
int k8s_client_config_check(const struct k8s_client_config *cfg,
                            char **errorp);

/* Reads the bearer token from the file at 'path' into '*tokenp' (the
 * caller frees it), without surrounding white space.  Returns 0, or an
 * errno value with '*errorp' set (the caller frees it). */
int k8s_client_config_read_token(const char *path, char **tokenp,
                                 char **errorp);

/* Decodes base64 text 's' (whitespace is ignored) into '*datap' (a
 * null-terminated buffer the caller frees) and '*lenp'.  Returns false if
 * 's' is not valid base64. */
bool k8s_base64_decode(const char *s, char **datap, size_t *lenp);

/* The client. */

/* Creates a client for 'cfg' (which it copies).  Nothing is sent until
 * the first k8s_client_run(). */
struct k8s_client *k8s_client_create(const struct k8s_client_config *cfg);

/* Stops every request and frees 'client'.  Accepts NULL. */
void k8s_client_destroy(struct k8s_client *client);

/* Does the client's I/O: reads what the API server sent and applies it to
 * 'cluster' (always the same cluster), starts and restarts requests.
 * Never blocks. */
void k8s_client_run(struct k8s_client *client, struct k8s_cluster *cluster);

/* Arranges for poll_block() to wake up when k8s_client_run() has work. */
void k8s_client_wait(const struct k8s_client *client);

/* Returns true once every kind has been listed completely at least once:
 * from then on the cluster is a usable picture of the API server's, and
 * stays so (possibly stale) if the API server goes away. */
bool k8s_client_is_synced(const struct k8s_client *client);

/* Returns the time (time_msec()) at which the client last read something
 * that changed the cluster, 0 if never, so that the caller can tell how long
 * a change takes from being read to taking effect. */
long long int k8s_client_last_change_msec(const struct k8s_client *client);

/* What the client has applied to the cluster, for measurements of how
 * long a change takes from the API server to the switch. */
struct k8s_client_input_stats {
    /* The highest resourceVersion, read as a number, of the watch events
     * and complete lists applied so far (0 if none).  ResourceVersions are
     * opaque to clients; an etcd-backed API server's (and the fake one's
     * of the tests) come from one counter for all kinds, so the number
     * tells which changes the cluster holds, as long as each kind's
     * changes arrive in order (they do, on one watch). */
    uint64_t applied_rv;

    /* Microseconds spent so far decoding list pages and watch events and
     * applying them to the cluster. */
    unsigned long long int decode_usec;
};
void k8s_client_get_input_stats(const struct k8s_client *client,
                                struct k8s_client_input_stats *stats);

/* Applies the 'n' bytes at 'data', the body of a watch of 'kind' (one JSON
 * event per line: ADDED, MODIFIED, DELETED, BOOKMARK or ERROR), to
 * 'cluster' exactly as a client's watch does, without a connection.
 * Returns the number of events applied and stores in '*resource_version'
 * the last resourceVersion seen (NULL if none) and in '*end' why the
 * stream would end the watch (NULL if it would not): an
 * ERROR event, an event too large.  The caller frees both.  For tests and
 * fuzzing of the watch decoder. */
unsigned long long int k8s_client_apply_watch_stream(
    struct k8s_cluster *cluster, enum k8s_kind kind, const char *data,
    size_t n, char **resource_version, char **end);

/* What the client did for one kind, since it was created. */
struct k8s_client_kind_stats {
    unsigned long long int n_events;        /* Watch events applied. */
    unsigned long long int n_bookmarks;
    unsigned long long int n_lists;         /* Complete lists. */
    unsigned long long int n_relists;       /* Lists after the first. */
    unsigned long long int n_watch_restarts;    /* Watches that ended and
                                                 * were started again. */
    unsigned long long int n_errors;        /* Failed requests, events
                                             * skipped. */
};
void k8s_client_get_kind_stats(const struct k8s_client *client,
                               enum k8s_kind kind,
                               struct k8s_client_kind_stats *stats);

/* Appends the client's status to 'ds', one line per kind:
 *
 *     api Pod: watching at resourceVersion "1234": 10 events, 3 bookmarks,
 *         1 lists, 0 relists, 0 errors
 *
 * (on one line), preceded by a line "api server: URL (synced|not synced)"
 * and followed, for a kind whose last request failed, by its error. */
void k8s_client_format_status(const struct k8s_client *client,
                              struct ds *ds);

#endif /* k8s/k8s-client.h */
