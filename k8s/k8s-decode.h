/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#ifndef K8S_DECODE_H
#define K8S_DECODE_H 1

/* Decoding of Kubernetes JSON into the typed model (k8s-model.h).
 *
 * Decoders validate every field kovs uses, apply the defaults the API server
 * would apply, and ignore fields kovs does not use.  An object with a bad
 * field (malformed IP or CIDR, wrong JSON type, missing required field,
 * value out of range, unknown enum value) is rejected whole with a message
 * that names the object and the field, for example:
 *
 *     Pod default/web: status.podIPs[1].ip: "10.0.0.300" is not an IP address
 */

#include <stddef.h>
#include "k8s-model.h"

struct ds;
struct svec;

/* Decodes one object of any of the six kinds from the JSON text 'json' of
 * 'len' bytes, using its "kind" member.  Returns the new object, which the
 * caller owns, or NULL with '*errorp' set to a message the caller frees. */
struct k8s_object *k8s_decode_object(const char *json, size_t len,
                                     char **errorp);

/* The number of Lists so far whose items were decoded on two threads (a
 * List of several megabytes: see k8s-decode.c). */
unsigned int k8s_decode_n_lists_halved(void);

/* Decodes a "List" document (what 'kubectl get ... -o json' prints) of
 * 'len' bytes into 'snapshot', an initialized cluster.  Each valid item of
 * one of the six kinds is put into 'snapshot'; each invalid item, and each
 * item of another kind, is skipped and adds its message to 'warnings'.
 * Returns 0 on success, otherwise an errno value with '*errorp' set to a
 * message (the caller frees it) if the document as a whole is unusable (not
 * JSON, not an object with an "items" array); 'snapshot' may then hold
 * some of the items, and the caller discards it. */
int k8s_decode_list(const char *json, size_t len,
                    struct k8s_cluster *snapshot, struct svec *warnings,
                    char **errorp);

/* The metadata of a List: what the API server's paginated lists carry. */
struct k8s_list_meta {
    char *resource_version;     /* metadata.resourceVersion, or NULL. */
    char *continue_token;       /* metadata.continue, or NULL. */
};

void k8s_list_meta_destroy(struct k8s_list_meta *);

/* Like k8s_decode_list(), for one page of the API server's list of a kind:
 * items without a "kind" are of kind 'item_kind' (a kind's name, or NULL
 * to take it from the List's "kind", "PodList" giving "Pod"), and if
 * 'meta' is nonnull the List's metadata is stored there (the caller
 * destroys it).  An item that is not even valid JSON is skipped with a
 * warning like any other bad item, so one object can never make a whole
 * List unusable. */
int k8s_decode_list_page(const char *json, size_t len, const char *item_kind,
                         struct k8s_cluster *snapshot, struct svec *warnings,
                         struct k8s_list_meta *meta, char **errorp);

/* Parses 'arg', the value of command-line option --'option', as an address
 * prefix ("10.244.0.0/16") into '*cidr'.  Returns NULL, or an error message
 * that names the option (the caller frees it) if 'arg' is not a prefix or
 * has host bits set. */
char *k8s_parse_cidr_option(const char *option, const char *arg,
                            struct k8s_cidr *cidr);

/* Parses 'arg', the value of command-line option --'option', as one or two
 * address prefixes separated by a comma, at most one per family
 * ("10.244.0.0/16,fd00:10:244::/56"), into '*dual'.  Returns NULL, or an
 * error message that names the option (the caller frees it) if a prefix is
 * malformed or has host bits set, if there are more than two, or if two
 * are of the same family. */
char *k8s_parse_dual_cidr_option(const char *option, const char *arg,
                                 struct k8s_dual_cidr *dual);

/* Appends 'cidr' to 's' as text ("10.244.0.0/16", "fd00::/64"). */
void k8s_cidr_format(const struct k8s_cidr *cidr, struct ds *s);

/* Appends 'dual' to 's' as the options take it ("10.244.0.0/16,fd00::/56"),
 * or "none" if it holds no prefix. */
void k8s_dual_cidr_format(const struct k8s_dual_cidr *dual, struct ds *s);

#endif /* k8s/k8s-decode.h */
