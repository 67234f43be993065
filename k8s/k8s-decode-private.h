/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#ifndef K8S_DECODE_PRIVATE_H
#define K8S_DECODE_PRIVATE_H 1

/* Decoding of JSON that a k8s/ source file has already parsed with
 * jansson, for the sources that take JSON apart themselves (the API
 * client's List pages and watch events).
 *
 * jansson's "json_t" is "struct json_t": it is only named here, so that
 * this header does not need jansson.h (whose names clash with those of
 * openvswitch/json.h) and can be included anywhere in k8s/. */

#include "k8s-model.h"

struct json_t;

/* Decodes 'root', a JSON object, as an object of 'kind' (its own "kind"
 * member, if any, is not looked at).  Returns the new object, which the
 * caller owns, or NULL with '*errorp' set to a message that names the
 * object and the field (the caller frees it). */
struct k8s_object *k8s_decode_json(const struct json_t *root,
                                   enum k8s_kind kind, char **errorp);

#endif /* k8s/k8s-decode-private.h */
