/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#include <config.h>

#include "k8s-state.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "k8s-decode.h"
#include "hash.h"
#include "k8s-model.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "svec.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(k8s_state);

/* How often to look at the file, in milliseconds. */
#define K8S_STATE_CHECK_INTERVAL 250

/* How long to wait before reading the file again although it looks
 * unchanged, after a failed read or after reading a file so recently
 * modified that a further write might not move its modification time. */
#define K8S_STATE_REREAD_INTERVAL 1000

struct k8s_state_file {
    char *path;

    long long int next_check;   /* When to look at the file again. */
    long long int next_reread;  /* When to read it even if it looks
                                 * unchanged, LLONG_MAX if never. */

    bool have_stat;             /* Is 'st' valid? */
    struct stat st;             /* The file as of the last read attempt. */

    struct svec last_warnings;  /* Warnings of the last successful read. */
    char *last_error;           /* Why the last attempt failed, or NULL. */

    unsigned int n_reads;       /* Successful reads of new contents. */
    uint32_t last_hash;         /* Hash of the contents last applied. */
    long long int last_read;    /* time_msec() of the last one, or 0. */
};

/* Creates a source that reads the state file at 'path'.  Nothing is read
 * until the first k8s_state_file_run(). */
struct k8s_state_file *
k8s_state_file_create(const char *path)
{
    struct k8s_state_file *sf = xzalloc(sizeof *sf);

    sf->path = xstrdup(path);
    sf->next_check = LLONG_MIN;
    sf->next_reread = LLONG_MAX;
    svec_init(&sf->last_warnings);
    return sf;
}

void
k8s_state_file_destroy(struct k8s_state_file *sf)
{
    if (sf) {
        free(sf->path);
        svec_destroy(&sf->last_warnings);
        free(sf->last_error);
        free(sf);
    }
}

static bool
stat_equal(const struct stat *a, const struct stat *b)
{
    return (a->st_dev == b->st_dev
            && a->st_ino == b->st_ino
            && a->st_size == b->st_size
            && a->st_mtim.tv_sec == b->st_mtim.tv_sec
            && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec);
}

/* Records that the attempt to use the file failed because of 'error'
 * (which this function takes), logging it unless it is the same failure
 * as last time, and arranges to try again later. */
static void
state_file_failed(struct k8s_state_file *sf, char *error)
{
    if (!sf->last_error || strcmp(error, sf->last_error)) {
        VLOG_ERR("state file %s: %s: keeping the last good state",
                 sf->path, error);
    } else {
        VLOG_DBG("state file %s: %s: keeping the last good state",
                 sf->path, error);
    }
    free(sf->last_error);
    sf->last_error = error;
    sf->next_reread = time_msec() + K8S_STATE_REREAD_INTERVAL;
}

/* Reads the whole of 'fd' into '*datap' and '*lenp'.  Returns 0 or an
 * errno value. */
static int
read_whole_file(int fd, off_t size_hint, char **datap, size_t *lenp)
{
    size_t allocated = size_hint > 0 ? size_hint + 1 : 4096;
    char *data = xmalloc(allocated);
    size_t len = 0;

    for (;;) {
        if (len == allocated) {
            data = x2nrealloc(data, &allocated, 1);
        }

        ssize_t n = read(fd, data + len, allocated - len);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            int error = errno;
            free(data);
            return error;
        } else if (!n) {
            break;
        }
        len += n;
    }
    *datap = data;
    *lenp = len;
    return 0;
}

/* Decodes the List 'data' of 'len' bytes into a snapshot and, if that
 * works, makes 'cluster' hold exactly its objects, adding what changed to
 * '*counts' and storing the number of objects in '*n_objects'.  Returns 0,
 * or an errno value with '*errorp' set (and 'cluster' untouched).  Skipped
 * objects are added to 'warnings'. */
static int
state_decode(const char *data, size_t len, struct k8s_cluster *cluster,
             struct svec *warnings, struct k8s_replace_counts *counts,
             size_t *n_objects, char **errorp)
{
    struct k8s_cluster snapshot;

    k8s_cluster_init(&snapshot);
    int error = k8s_decode_list(data, len, &snapshot, warnings, errorp);
    if (!error) {
        *n_objects = 0;
        for (int kind = 0; kind < K8S_N_KINDS; kind++) {
            *n_objects += k8s_cluster_count(&snapshot, kind);
            k8s_cluster_replace_kind(cluster, &snapshot, kind, counts);
        }
    }
    k8s_cluster_destroy(&snapshot);
    return error;
}

int
k8s_state_file_load(const char *path, struct k8s_cluster *cluster,
                    struct svec *warnings, size_t *sizep, char **errorp)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        int error = errno;
        *errorp = xasprintf("%s: cannot open: %s", path,
                            ovs_strerror(error));
        return error;
    }

    char *data;
    size_t len;
    int error = read_whole_file(fd, 0, &data, &len);
    close(fd);
    if (error) {
        *errorp = xasprintf("%s: cannot read: %s", path,
                            ovs_strerror(error));
        return error;
    }

    if (sizep) {
        *sizep = len;
    }

    struct svec skipped = SVEC_EMPTY_INITIALIZER;
    size_t n_objects;
    char *decode_error;
    error = state_decode(data, len, cluster, &skipped, NULL, &n_objects,
                         &decode_error);
    free(data);
    if (warnings) {
        svec_append(warnings, &skipped);
    }
    svec_destroy(&skipped);
    if (error) {
        *errorp = xasprintf("%s: %s", path, decode_error);
        free(decode_error);
    }
    return error;
}

bool
k8s_state_file_is_current(const struct k8s_state_file *sf)
{
    struct stat st;

    return (sf->n_reads && sf->have_stat
            && (sf->last_error || sf->next_reread == LLONG_MAX)
            && !stat(sf->path, &st) && stat_equal(&st, &sf->st));
}

const char *
k8s_state_file_error(const struct k8s_state_file *sf)
{
    return sf->last_error;
}

/* Reads and decodes the file and, if that works, makes 'cluster' hold
 * exactly its objects. */
static void state_file_schedule_reread(struct k8s_state_file *);

static void
state_file_read(struct k8s_state_file *sf, struct k8s_cluster *cluster)
{
    /* Take the file's identity before reading it: if it changes while being
     * read, the next check sees a difference and reads it again. */
    int fd = open(sf->path, O_RDONLY);
    if (fd < 0) {
        sf->have_stat = false;
        state_file_failed(sf, xasprintf("cannot open: %s",
                                        ovs_strerror(errno)));
        return;
    }
    if (fstat(fd, &sf->st)) {
        sf->have_stat = false;
        state_file_failed(sf, xasprintf("cannot stat: %s",
                                        ovs_strerror(errno)));
        close(fd);
        return;
    }
    sf->have_stat = true;

    char *data = NULL;
    size_t len = 0;
    int error = read_whole_file(fd, sf->st.st_size, &data, &len);
    close(fd);
    if (error) {
        state_file_failed(sf, xasprintf("cannot read: %s",
                                        ovs_strerror(error)));
        return;
    }

    /* Decode into a fresh snapshot.  A file caught half-written fails here
     * and is read again once it changes (or after a while, in case its
     * modification time did not move). */
    /* The same contents as last time (a re-read, or a rewrite with nothing
     * new): nothing to do. */
    uint32_t hash = hash_bytes(data, len, 0);
    if (sf->n_reads && !sf->last_error && hash == sf->last_hash) {
        free(data);
        VLOG_DBG("state file %s: unchanged", sf->path);
        state_file_schedule_reread(sf);
        return;
    }

    struct svec warnings = SVEC_EMPTY_INITIALIZER;
    struct k8s_replace_counts counts = { 0, 0, 0 };
    size_t n_objects;
    char *decode_error;

    error = state_decode(data, len, cluster, &warnings, &counts, &n_objects,
                         &decode_error);
    free(data);
    if (error) {
        state_file_failed(sf, decode_error);
        svec_destroy(&warnings);
        return;
    }

    /* Log the skipped objects, unless this is a re-read that skipped the
     * same ones for the same reasons. */
    if (!svec_equal(&warnings, &sf->last_warnings)) {
        const char *warning;
        size_t i;

        SVEC_FOR_EACH (i, warning, &warnings) {
            VLOG_WARN("state file %s: skipped %s", sf->path, warning);
        }
    }
    svec_swap(&warnings, &sf->last_warnings);
    svec_destroy(&warnings);

    size_t added = counts.added, modified = counts.modified;
    size_t deleted = counts.deleted;
    size_t n_changes = added + modified + deleted;
    if (n_changes || sf->last_error || !sf->n_reads) {
        VLOG_INFO("state file %s: read %"PRIuSIZE" objects, applied "
                  "%"PRIuSIZE" changes (%"PRIuSIZE" added, %"PRIuSIZE" "
                  "modified, %"PRIuSIZE" deleted)", sf->path, n_objects,
                  n_changes, added, modified, deleted);
    } else {
        VLOG_DBG("state file %s: read %"PRIuSIZE" objects, no changes",
                 sf->path, n_objects);
    }

    free(sf->last_error);
    sf->last_error = NULL;
    sf->n_reads++;
    sf->last_hash = hash;
    state_file_schedule_reread(sf);

#ifdef __GLIBC__
    /* Decoding a large file allocates and frees millions of small blocks.
     * glibc sorts what was freed on the next allocations, which would make
     * the first computation after a read pay for the read (15 to 25 ms at
     * 30,000 pods); do it here, and give the memory back to the system. */
    malloc_trim(0);
#endif
}

/* A write that lands within the granularity of the file system's
 * timestamps, without changing the size, would go unnoticed: if the file is
 * that fresh, read it once more a little later. */
static void
state_file_schedule_reread(struct k8s_state_file *sf)
{
    sf->last_read = time_msec();
    long long int mtime = (sf->st.st_mtim.tv_sec * 1000LL
                           + sf->st.st_mtim.tv_nsec / 1000000);
    sf->next_reread = (time_wall_msec() - mtime < K8S_STATE_REREAD_INTERVAL
                       ? sf->last_read + K8S_STATE_REREAD_INTERVAL
                       : LLONG_MAX);
}

void
k8s_state_file_run(struct k8s_state_file *sf, struct k8s_cluster *cluster)
{
    long long int now = time_msec();
    struct stat st;

    if (now < sf->next_check) {
        return;
    }
    sf->next_check = now + K8S_STATE_CHECK_INTERVAL;

    if (stat(sf->path, &st)) {
        sf->have_stat = false;
        state_file_failed(sf, xasprintf("cannot stat: %s",
                                        ovs_strerror(errno)));
        return;
    }
    if (sf->have_stat && stat_equal(&st, &sf->st) && now < sf->next_reread) {
        return;
    }
    state_file_read(sf, cluster);
}

void
k8s_state_file_wait(const struct k8s_state_file *sf)
{
    poll_timer_wait_until(sf->next_check);
}

unsigned int
k8s_state_file_n_reads(const struct k8s_state_file *sf)
{
    return sf->n_reads;
}

long long int
k8s_state_file_last_read(const struct k8s_state_file *sf)
{
    return sf->last_read;
}
