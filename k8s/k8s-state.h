/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#ifndef K8S_STATE_H
#define K8S_STATE_H 1

/* The state-file source of the cluster model: a JSON List exactly as
 * 'kubectl get nodes,namespaces,pods,services,endpointslices,
 * networkpolicies -A -o json' prints it.  The file is re-read whenever it
 * changes; a file that fails to parse keeps the last good state and logs
 * why. */

#include <stdbool.h>
#include <stddef.h>

struct k8s_cluster;
struct k8s_state_file;
struct svec;

struct k8s_state_file *k8s_state_file_create(const char *path);
void k8s_state_file_destroy(struct k8s_state_file *);

/* Re-reads the file if its identity, size or modification time changed
 * since the last read (or if it was never read), and makes 'cluster' hold
 * exactly its objects with k8s_cluster_replace_kind(), so that only real
 * differences become changes.  Invalid objects are skipped with a warning
 * naming the object and the field.  If the file cannot be read or parsed,
 * 'cluster' is left untouched and the reason is logged.
 *
 * The file is also read again about a second after a failed attempt (a
 * writer may have been caught half way), and once more about a second after
 * reading a file modified within the last second (a further write within
 * the same timestamp tick would not show in stat()). */
void k8s_state_file_run(struct k8s_state_file *, struct k8s_cluster *cluster);

/* Arranges for poll_block() to wake up when it is time to check the file
 * again. */
void k8s_state_file_wait(const struct k8s_state_file *);

/* Makes 'cluster' (initialized, usually empty) hold exactly the objects of
 * the state file at 'path', read and decoded as k8s_state_file_run() does
 * it, but once, now, and without logging: the objects it skipped are
 * appended to 'warnings' (if nonnull), one message each, and the file's
 * size is stored in '*sizep' (if nonnull).  Returns 0, or an errno value
 * with '*errorp' set to a message (naming 'path') that the caller frees. */
int k8s_state_file_load(const char *path, struct k8s_cluster *cluster,
                        struct svec *warnings, size_t *sizep,
                        char **errorp);

/* Returns true if the model is up to date with the file as it is now: the
 * file was read successfully once, has not changed since the last attempt
 * to read it, and that attempt either failed (the model keeps the last good
 * state, see k8s_state_file_error()) or leaves no read due (a file written
 * within the last second is read once more a second later). */
bool k8s_state_file_is_current(const struct k8s_state_file *);

/* Returns why the last attempt to read the file failed, or NULL if it
 * worked. */
const char *k8s_state_file_error(const struct k8s_state_file *);

/* Return the number of successful reads and the time of the last one (in
 * milliseconds, time_msec(); 0 if there was none), for status reporting. */
unsigned int k8s_state_file_n_reads(const struct k8s_state_file *);
long long int k8s_state_file_last_read(const struct k8s_state_file *);

#endif /* k8s/k8s-state.h */
