/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#include <config.h>

#include "k8s-decode.h"
#include "k8s-decode-private.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <time.h>
#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/asan_interface.h>
#define JSON_ARENA_POISON(P, N) ASAN_POISON_MEMORY_REGION(P, N)
#define JSON_ARENA_UNPOISON(P, N) ASAN_UNPOISON_MEMORY_REGION(P, N)
#else
#define JSON_ARENA_POISON(P, N) ((void) (P), (void) (N))
#define JSON_ARENA_UNPOISON(P, N) ((void) (P), (void) (N))
#endif

/* This file uses jansson, whose enum names clash with those of
 * openvswitch/json.h: nothing included here may pull that header in. */
#include "hash.h"
#include "ovs-thread.h"
#include "openvswitch/dynamic-string.h"
#include "packets.h"
#include "svec.h"
#include "util.h"

/* The decoder.
 *
 * A decoder walks one object's JSON, keeping the path from the object's
 * root to the member being decoded ("spec.ports[0].port"), and stops at the
 * first problem, which it records as "<path>: <what is wrong>".  After an
 * error nothing needs unwinding: the functions below just return false,
 * and the path is discarded with the decoder. */
struct decoder {
    struct ds path;
    char *error;
};

static void
decoder_init(struct decoder *d)
{
    ds_init(&d->path);
    d->error = NULL;
}

static void
decoder_destroy(struct decoder *d)
{
    ds_destroy(&d->path);
    free(d->error);
}

/* Appends ".key" to the path and returns the length to go back to with
 * dec_pop(). */
static size_t
dec_push(struct decoder *d, const char *key)
{
    size_t mark = d->path.length;

    if (mark) {
        ds_put_char(&d->path, '.');
    }
    ds_put_cstr(&d->path, key);
    return mark;
}

/* Appends ".key[index]" to the path. */
static size_t
dec_push_index(struct decoder *d, const char *key, size_t index)
{
    size_t mark = dec_push(d, key);

    ds_put_format(&d->path, "[%"PRIuSIZE"]", index);
    return mark;
}

/* Takes the path back to 'mark', dropping everything pushed since. */
static void
dec_pop(struct decoder *d, size_t mark)
{
    ds_truncate(&d->path, mark);
}

/* Records an error about the member at the current path, unless an error
 * was already recorded.  Always returns false. */
static bool OVS_PRINTF_FORMAT(2, 3)
dec_error(struct decoder *d, const char *format, ...)
{
    if (!d->error) {
        struct ds s = DS_EMPTY_INITIALIZER;
        va_list args;

        ds_put_format(&s, "%s: ", d->path.length ? ds_cstr(&d->path)
                                                 : "(top level)");
        va_start(args, format);
        ds_put_format_valist(&s, format, args);
        va_end(args);
        d->error = ds_steal_cstr(&s);
    }
    return false;
}

/* JSON types, as the decoder expects them. */
enum dec_type {
    DEC_OBJECT,
    DEC_ARRAY,
    DEC_STRING,
    DEC_INTEGER,
    DEC_BOOLEAN,
};

static const char *
dec_type_name(enum dec_type type)
{
    switch (type) {
    case DEC_OBJECT:
        return "an object";
    case DEC_ARRAY:
        return "an array";
    case DEC_STRING:
        return "a string";
    case DEC_INTEGER:
        return "an integer";
    case DEC_BOOLEAN:
        return "a boolean";
    }
    OVS_NOT_REACHED();
}

static const char *
json_type_description(const json_t *value)
{
    switch (json_typeof(value)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a real number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    }
    return "an unknown JSON value";
}

static bool
dec_type_matches(const json_t *value, enum dec_type type)
{
    switch (type) {
    case DEC_OBJECT:
        return json_is_object(value);
    case DEC_ARRAY:
        return json_is_array(value);
    case DEC_STRING:
        return json_is_string(value);
    case DEC_INTEGER:
        return json_is_integer(value);
    case DEC_BOOLEAN:
        return json_is_boolean(value);
    }
    OVS_NOT_REACHED();
}

/* Returns true if the JSON string 'value' holds a NUL character (JSON's
 * "\u0000"), which no C string can carry. */
static bool
json_string_has_nul(const json_t *value)
{
    return memchr(json_string_value(value), '\0',
                  json_string_length(value)) != NULL;
}

/* Checks that 'value', the JSON at the current path, has type 'type', and
 * that a string has no NUL character (everything kovs reads is text).
 * NULL (an absent or null member) passes. */
static bool
dec_check_type(struct decoder *d, const json_t *value, enum dec_type type)
{
    if (value && !dec_type_matches(value, type)) {
        return dec_error(d, "expected %s, got %s",
                         dec_type_name(type), json_type_description(value));
    } else if (value && type == DEC_STRING && json_string_has_nul(value)) {
        return dec_error(d, "contains a NUL character");
    }
    return true;
}

/* Returns member 'key' of 'object', or NULL if 'object' is NULL or the
 * member is absent or null: for optional fields, null means absent. */
static const json_t *
dec_get(const json_t *object, const char *key)
{
    const json_t *value = object ? json_object_get(object, key) : NULL;

    return value && !json_is_null(value) ? value : NULL;
}

/* Stores member 'key' of 'object' in '*valuep' (NULL if absent) after
 * checking its type. */
static bool
dec_member(struct decoder *d, const json_t *object, const char *key,
           enum dec_type type, const json_t **valuep)
{
    *valuep = dec_get(object, key);
    if (*valuep && (!dec_type_matches(*valuep, type)
                    || (type == DEC_STRING
                        && json_string_has_nul(*valuep)))) {
        dec_push(d, key);
        return dec_check_type(d, *valuep, type);
    }
    return true;
}

/* Like dec_member(), for a member that must be present. */
static bool
dec_required(struct decoder *d, const json_t *object, const char *key,
             enum dec_type type, const json_t **valuep)
{
    if (!dec_member(d, object, key, type, valuep)) {
        return false;
    } else if (!*valuep) {
        dec_push(d, key);
        return dec_error(d, "missing");
    }
    return true;
}

/* Stores string member 'key' of 'object' in '*sp', NULL if absent. */
static bool
dec_string(struct decoder *d, const json_t *object, const char *key,
           const char **sp)
{
    const json_t *value;

    if (!dec_member(d, object, key, DEC_STRING, &value)) {
        return false;
    }
    *sp = value ? json_string_value(value) : NULL;
    return true;
}

/* Stores a copy of string member 'key' of 'object' in '*sp', "" if
 * absent.  The caller owns '*sp' even on failure. */
static bool
dec_strdup(struct decoder *d, const json_t *object, const char *key,
           char **sp)
{
    const char *s;

    if (!dec_string(d, object, key, &s)) {
        return false;
    }
    *sp = xstrdup(s ? s : "");
    return true;
}

static bool
dec_bool(struct decoder *d, const json_t *object, const char *key,
         bool default_value, bool *bp)
{
    const json_t *value;

    if (!dec_member(d, object, key, DEC_BOOLEAN, &value)) {
        return false;
    }
    *bp = value ? json_is_true(value) : default_value;
    return true;
}

/* Checks that 'n', the value at the current path, is in [min, max]. */
static bool
dec_check_range(struct decoder *d, long long int n,
                long long int min, long long int max)
{
    if (n < min || n > max) {
        return dec_error(d, "%lld is not between %lld and %lld", n, min, max);
    }
    return true;
}

/* Stores integer member 'key' of 'object', which must be in [min, max], in
 * '*np'.  An absent member is an error if 'required', otherwise it yields
 * 'default_value'. */
static bool
dec_integer(struct decoder *d, const json_t *object, const char *key,
            bool required, long long int min, long long int max,
            long long int default_value, long long int *np)
{
    const json_t *value;

    if (required
        ? !dec_required(d, object, key, DEC_INTEGER, &value)
        : !dec_member(d, object, key, DEC_INTEGER, &value)) {
        return false;
    } else if (!value) {
        *np = default_value;
        return true;
    }

    *np = json_integer_value(value);
    size_t mark = dec_push(d, key);
    if (!dec_check_range(d, *np, min, max)) {
        return false;
    }
    dec_pop(d, mark);
    return true;
}

/* A port number member: [min, 65535], 0 if absent and not 'required'. */
static bool
dec_port(struct decoder *d, const json_t *object, const char *key,
         bool required, int min, uint16_t *portp)
{
    long long int n;

    if (!dec_integer(d, object, key, required, min, 65535, 0, &n)) {
        return false;
    }
    *portp = n;
    return true;
}

/* Stores in '*indexp' the index of the string 'value' (the JSON at the
 * current path) in 'names'.  An absent value or "" yields 'default_index',
 * or is an error if 'default_index' is negative. */
static bool
dec_enum_value(struct decoder *d, const json_t *value,
               const char *const names[], size_t n_names,
               int default_index, int *indexp)
{
    if (!dec_check_type(d, value, DEC_STRING)) {
        return false;
    }

    const char *s = value ? json_string_value(value) : "";
    if (!*s && default_index >= 0) {
        *indexp = default_index;
        return true;
    } else if (!value) {
        return dec_error(d, "missing");
    }

    for (size_t i = 0; i < n_names; i++) {
        if (!strcmp(s, names[i])) {
            *indexp = i;
            return true;
        }
    }

    struct ds expected = DS_EMPTY_INITIALIZER;
    for (size_t i = 0; i < n_names; i++) {
        ds_put_format(&expected, "%s%s", i ? ", " : "", names[i]);
    }
    dec_error(d, "\"%s\" is not one of %s", s, ds_cstr(&expected));
    ds_destroy(&expected);
    return false;
}

/* Like dec_enum_value() for member 'key' of 'object'. */
static bool
dec_enum(struct decoder *d, const json_t *object, const char *key,
         const char *const names[], size_t n_names, int default_index,
         int *indexp)
{
    size_t mark = dec_push(d, key);

    if (!dec_enum_value(d, dec_get(object, key), names, n_names,
                        default_index, indexp)) {
        return false;
    }
    dec_pop(d, mark);
    return true;
}

static const char *const protocol_names[] = {
    [K8S_PROTO_TCP] = "TCP",
    [K8S_PROTO_UDP] = "UDP",
    [K8S_PROTO_SCTP] = "SCTP",
};

/* Member 'key' of 'object' as a protocol, TCP if absent. */
static bool
dec_protocol(struct decoder *d, const json_t *object, const char *key,
             enum k8s_protocol *protocolp)
{
    int index;

    if (!dec_enum(d, object, key, protocol_names, ARRAY_SIZE(protocol_names),
                  K8S_PROTO_TCP, &index)) {
        return false;
    }
    *protocolp = index;
    return true;
}

/* Label maps: objects whose members are all strings. */
static bool
dec_labels(struct decoder *d, const json_t *object, const char *key,
           struct smap *labels)
{
    const json_t *map;

    if (!dec_member(d, object, key, DEC_OBJECT, &map)) {
        return false;
    } else if (map) {
        const char *label;
        json_t *value;

        json_object_foreach ((json_t *) map, label, value) {
            if (!json_is_string(value) || json_string_has_nul(value)) {
                dec_push(d, key);
                ds_put_format(&d->path, "[\"%s\"]", label);
                return dec_check_type(d, value, DEC_STRING);
            }
            smap_replace(labels, label, json_string_value(value));
        }
    }
    return true;
}

/* Addresses and prefixes. */

/* Parses 's' as an IPv4 or IPv6 address into '*addr' (IPv4 mapped). */
static bool
parse_ip(const char *s, struct in6_addr *addr)
{
    struct in_addr ip4;

    if (inet_pton(AF_INET, s, &ip4) == 1) {
        in6_addr_set_mapped_ipv4(addr, ip4.s_addr);
        return true;
    }
    return inet_pton(AF_INET6, s, addr) == 1;
}

/* Parses 's' as "address/length" into '*cidr', masking the host bits, and
 * sets '*host_bits' to whether there were any. */
static bool
parse_cidr(const char *s, struct k8s_cidr *cidr, bool *host_bits)
{
    const char *slash = strchr(s, '/');
    if (!slash) {
        return false;
    }

    char *addr_s = xmemdup0(s, slash - s);
    bool ok = parse_ip(addr_s, &cidr->addr);
    bool ipv4 = strchr(addr_s, ':') == NULL;
    free(addr_s);
    if (!ok) {
        return false;
    }

    /* The length: decimal, without sign or leading zeros. */
    const char *len_s = slash + 1;
    size_t n_digits = strspn(len_s, "0123456789");
    if (!n_digits || n_digits > 3 || len_s[n_digits]
        || (len_s[0] == '0' && n_digits > 1)) {
        return false;
    }
    unsigned int plen = atoi(len_s);
    if (ipv4) {
        if (plen > 32) {
            return false;
        }
    } else if (plen > 128) {
        return false;
    } else if (k8s_addr_is_ipv4(&cidr->addr)) {
        /* An IPv4-mapped prefix written in IPv6 notation. */
        if (plen < 96) {
            return false;
        }
        plen -= 96;
    }
    cidr->plen = plen;

    unsigned int bits = plen + (k8s_addr_is_ipv4(&cidr->addr) ? 96 : 0);
    struct in6_addr mask = ipv6_create_mask(bits);
    struct in6_addr masked = ipv6_addr_bitand(&cidr->addr, &mask);
    *host_bits = !ipv6_addr_equals(&masked, &cidr->addr);
    cidr->addr = masked;
    return true;
}

char *
k8s_parse_cidr_option(const char *option, const char *arg,
                      struct k8s_cidr *cidr)
{
    bool host_bits;
    if (!parse_cidr(arg, cidr, &host_bits)) {
        return xasprintf("--%s=%s: not an address prefix", option, arg);
    }
    if (host_bits) {
        return xasprintf("--%s=%s: host bits are set", option, arg);
    }
    return NULL;
}

/* Returns the number of times 'c' occurs in 's'. */
static size_t
count_char(const char *s, char c)
{
    size_t n = 0;
    for (; *s; s++) {
        n += *s == c;
    }
    return n;
}

char *
k8s_parse_dual_cidr_option(const char *option, const char *arg,
                           struct k8s_dual_cidr *dual)
{
    char *copy = xstrdup(arg);
    char *error = NULL;
    size_t n = 0;

    memset(dual, 0, sizeof *dual);
    for (char *save = NULL, *p = strtok_r(copy, ",", &save); p;
         p = strtok_r(NULL, ",", &save)) {
        struct k8s_cidr cidr;
        bool host_bits;

        if (++n > 2) {
            error = xasprintf("--%s=%s: at most two prefixes, one per "
                              "family", option, arg);
            break;
        } else if (!parse_cidr(p, &cidr, &host_bits)) {
            error = xasprintf("--%s=%s: \"%s\" is not an address prefix",
                              option, arg, p);
            break;
        } else if (host_bits) {
            error = xasprintf("--%s=%s: \"%s\" has host bits set",
                              option, arg, p);
            break;
        }

        bool ipv4 = k8s_addr_is_ipv4(&cidr.addr);
        bool *has = ipv4 ? &dual->has_ipv4 : &dual->has_ipv6;
        if (*has) {
            error = xasprintf("--%s=%s: two %s prefixes (at most one per "
                              "family)", option, arg, ipv4 ? "IPv4" : "IPv6");
            break;
        }
        *has = true;
        *(ipv4 ? &dual->ipv4 : &dual->ipv6) = cidr;
    }
    if (!error && !n) {
        error = xasprintf("--%s=%s: not an address prefix", option, arg);
    } else if (!error && n != 1 + count_char(arg, ',')) {
        /* An empty element: a leading, trailing or doubled comma. */
        error = xasprintf("--%s=%s: empty prefix in the list", option, arg);
    }
    free(copy);
    return error;
}

void
k8s_cidr_format(const struct k8s_cidr *cidr, struct ds *s)
{
    ipv6_format_mapped(&cidr->addr, s);
    ds_put_format(s, "/%u", cidr->plen);
}

void
k8s_dual_cidr_format(const struct k8s_dual_cidr *dual, struct ds *s)
{
    if (dual->has_ipv4) {
        k8s_cidr_format(&dual->ipv4, s);
    }
    if (dual->has_ipv6) {
        if (dual->has_ipv4) {
            ds_put_char(s, ',');
        }
        k8s_cidr_format(&dual->ipv6, s);
    }
    if (!dual->has_ipv4 && !dual->has_ipv6) {
        ds_put_cstr(s, "none");
    }
}

/* Returns true if 'inner' is a strictly smaller prefix inside 'outer'. */
static bool
cidr_strictly_inside(const struct k8s_cidr *inner,
                     const struct k8s_cidr *outer)
{
    bool ipv4 = k8s_addr_is_ipv4(&outer->addr);

    if (ipv4 != k8s_addr_is_ipv4(&inner->addr)
        || inner->plen <= outer->plen) {
        return false;
    }

    struct in6_addr mask = ipv6_create_mask(outer->plen + (ipv4 ? 96 : 0));
    struct in6_addr masked = ipv6_addr_bitand(&inner->addr, &mask);
    return ipv6_addr_equals(&masked, &outer->addr);
}

/* Which addresses an IP field accepts. */
enum ip_family {
    IP_ANY,
    IP_V4,
    IP_V6,
};

/* Parses 'value', the JSON at the current path, which must be a string, as
 * an IP address of 'family'. */
static bool
dec_ip_value(struct decoder *d, const json_t *value, enum ip_family family,
             struct in6_addr *addr)
{
    if (!value) {
        return dec_error(d, "missing");
    } else if (!dec_check_type(d, value, DEC_STRING)) {
        return false;
    }

    const char *s = json_string_value(value);
    if (!parse_ip(s, addr)) {
        return dec_error(d, "\"%s\" is not an IP address", s);
    } else if (family == IP_V4 && !k8s_addr_is_ipv4(addr)) {
        return dec_error(d, "\"%s\" is not an IPv4 address", s);
    } else if (family == IP_V6 && k8s_addr_is_ipv4(addr)) {
        return dec_error(d, "\"%s\" is not an IPv6 address", s);
    }
    return true;
}

/* How a CIDR field treats a prefix with host bits set ("10.0.0.1/24"). */
enum cidr_mode {
    CIDR_STRICT,                /* Reject it. */
    CIDR_LENIENT,               /* Mask the host bits (and ignore white
                                 * space around the prefix), as kube-proxy
                                 * and NetworkPolicy implementations do. */
};

/* Parses 'value', the JSON at the current path, which must be a string, as
 * a CIDR prefix. */
static bool
dec_cidr_value(struct decoder *d, const json_t *value, enum cidr_mode mode,
               struct k8s_cidr *cidr)
{
    if (!value) {
        return dec_error(d, "missing");
    } else if (!dec_check_type(d, value, DEC_STRING)) {
        return false;
    }

    const char *s = json_string_value(value);
    char *trimmed = NULL;
    if (mode == CIDR_LENIENT) {
        size_t start = strspn(s, " \t");
        size_t end = strlen(s);
        while (end > start && (s[end - 1] == ' ' || s[end - 1] == '\t')) {
            end--;
        }
        trimmed = xmemdup0(s + start, end - start);
    }

    bool host_bits;
    bool ok = parse_cidr(trimmed ? trimmed : s, cidr, &host_bits);
    free(trimmed);
    if (!ok) {
        return dec_error(d, "\"%s\" is not a CIDR prefix", s);
    } else if (host_bits && mode == CIDR_STRICT) {
        return dec_error(d, "\"%s\" has host bits set", s);
    }
    return true;
}

/* Decodes one element of an array of strings into 'elem', with 'arg' (an
 * enum ip_family or enum cidr_mode) telling how. */
typedef bool dec_string_fn(struct decoder *, const json_t *value, int arg,
                           void *elem);

/* Decodes member 'key' of 'object', an optional array of strings, with
 * 'decode' and 'arg' into a new array of '*np' elements of 'elem_size'
 * bytes at '*itemsp'. */
static bool
dec_string_array(struct decoder *d, const json_t *object, const char *key,
                 dec_string_fn *decode, int arg, size_t elem_size,
                 void **itemsp, size_t *np)
{
    const json_t *array;

    if (!dec_member(d, object, key, DEC_ARRAY, &array)) {
        return false;
    } else if (!array) {
        return true;
    }

    char *items = xcalloc(json_array_size(array), elem_size);
    *itemsp = items;
    for (size_t i = 0; i < json_array_size(array); i++) {
        size_t mark = dec_push_index(d, key, i);
        if (!decode(d, json_array_get(array, i), arg,
                    items + i * elem_size)) {
            return false;
        }
        dec_pop(d, mark);
        (*np)++;
    }
    return true;
}

static bool
dec_ip_elem(struct decoder *d, const json_t *value, int family, void *addr)
{
    return dec_ip_value(d, value, family, addr);
}

static bool
dec_cidr_elem(struct decoder *d, const json_t *value, int mode, void *cidr)
{
    return dec_cidr_value(d, value, mode, cidr);
}

/* Decodes member 'key' of 'object', an optional array of IP address
 * strings of 'family', into '*addrsp' and '*n_addrsp'. */
static bool
dec_ip_array(struct decoder *d, const json_t *object, const char *key,
             enum ip_family family, struct in6_addr **addrsp,
             size_t *n_addrsp)
{
    void *items = NULL;
    bool ok = dec_string_array(d, object, key, dec_ip_elem, family,
                               sizeof **addrsp, &items, n_addrsp);
    *addrsp = items;
    return ok;
}

/* Decodes member 'key' of 'object', an optional array of CIDR strings,
 * into '*cidrsp' and '*n_cidrsp'. */
static bool
dec_cidr_array(struct decoder *d, const json_t *object, const char *key,
               enum cidr_mode mode, struct k8s_cidr **cidrsp,
               size_t *n_cidrsp)
{
    void *items = NULL;
    bool ok = dec_string_array(d, object, key, dec_cidr_elem, mode,
                               sizeof **cidrsp, &items, n_cidrsp);
    *cidrsp = items;
    return ok;
}

/* Checks that 'key', a list member of the object at the current path
 * with 'n' elements 'elem_size' bytes apart in 'elems', each beginning
 * with its address (a "struct in6_addr", or with 'prefixes' a "struct
 * k8s_cidr"), holds at most one address of each family, as Kubernetes
 * requires of its dual-stack lists. */
static bool
dec_check_one_per_family(struct decoder *d, const char *key,
                         const void *elems, size_t elem_size, size_t n,
                         bool prefixes)
{
    bool seen[2] = { false, false };

    for (size_t i = 0; i < n; i++) {
        const void *elem = (const char *) elems + i * elem_size;
        const struct in6_addr *addr = elem;
        bool ipv4 = k8s_addr_is_ipv4(addr);
        if (seen[ipv4]) {
            struct ds s = DS_EMPTY_INITIALIZER;
            if (prefixes) {
                k8s_cidr_format(elem, &s);
            } else {
                ipv6_format_mapped(addr, &s);
            }
            dec_push_index(d, key, i);
            dec_error(d, "\"%s\" is a second %s %s (at most one per "
                      "family)", ds_cstr(&s), ipv4 ? "IPv4" : "IPv6",
                      prefixes ? "prefix" : "address");
            ds_destroy(&s);
            return false;
        }
        seen[ipv4] = true;
    }
    return true;
}

/* Label selectors. */

static const char *const selector_op_names[] = {
    [K8S_SEL_IN] = "In",
    [K8S_SEL_NOT_IN] = "NotIn",
    [K8S_SEL_EXISTS] = "Exists",
    [K8S_SEL_DOES_NOT_EXIST] = "DoesNotExist",
};

static bool
dec_requirement(struct decoder *d, const json_t *expr,
                struct k8s_requirement *req)
{
    const json_t *values;
    const char *key;
    int op;

    if (!dec_check_type(d, expr, DEC_OBJECT)
        || !dec_string(d, expr, "key", &key)) {
        return false;
    } else if (!key || !*key) {
        dec_push(d, "key");
        return dec_error(d, key ? "must not be empty" : "missing");
    }
    req->key = xstrdup(key);

    if (!dec_enum(d, expr, "operator", selector_op_names,
                  ARRAY_SIZE(selector_op_names), -1, &op)) {
        return false;
    }
    req->op = op;

    if (!dec_member(d, expr, "values", DEC_ARRAY, &values)) {
        return false;
    }
    size_t n_values = values ? json_array_size(values) : 0;
    for (size_t i = 0; i < n_values; i++) {
        const json_t *value = json_array_get(values, i);
        if (!json_is_string(value) || json_string_has_nul(value)) {
            dec_push_index(d, "values", i);
            return dec_check_type(d, value, DEC_STRING);
        }
        sset_add(&req->values, json_string_value(value));
    }

    bool needs_values = op == K8S_SEL_IN || op == K8S_SEL_NOT_IN;
    if (needs_values != (n_values > 0)) {
        dec_push(d, "values");
        return dec_error(d, "must %sbe empty for operator %s",
                         needs_values ? "not " : "", selector_op_names[op]);
    }
    return true;
}

/* Decodes 'value', the JSON object at the current path, as a label
 * selector into 'selector', which must be initialized. */
static bool
dec_selector_value(struct decoder *d, const json_t *value,
                   struct k8s_selector *selector)
{
    const json_t *exprs;

    if (!dec_check_type(d, value, DEC_OBJECT)
        || !dec_labels(d, value, "matchLabels", &selector->match_labels)
        || !dec_member(d, value, "matchExpressions", DEC_ARRAY, &exprs)) {
        return false;
    } else if (!exprs) {
        return true;
    }

    selector->reqs = xcalloc(json_array_size(exprs), sizeof *selector->reqs);
    for (size_t i = 0; i < json_array_size(exprs); i++) {
        struct k8s_requirement *req = &selector->reqs[selector->n_reqs++];
        sset_init(&req->values);

        size_t mark = dec_push_index(d, "matchExpressions", i);
        if (!dec_requirement(d, json_array_get(exprs, i), req)) {
            return false;
        }
        dec_pop(d, mark);
    }
    return true;
}

static struct k8s_selector *
selector_create(void)
{
    struct k8s_selector *selector = xzalloc(sizeof *selector);

    smap_init(&selector->match_labels);
    return selector;
}

/* Decodes member 'key' of 'object', an optional selector, into '*selectorp'
 * (NULL if absent). */
static bool
dec_optional_selector(struct decoder *d, const json_t *object,
                      const char *key, struct k8s_selector **selectorp)
{
    const json_t *value;

    if (!dec_member(d, object, key, DEC_OBJECT, &value)) {
        return false;
    } else if (value) {
        *selectorp = selector_create();

        size_t mark = dec_push(d, key);
        if (!dec_selector_value(d, value, *selectorp)) {
            return false;
        }
        dec_pop(d, mark);
    }
    return true;
}

/* Metadata, common to every kind. */

/* The forms of DNS name the API server requires of object names. */
enum dns_name {
    DNS_1123_LABEL,             /* "a-b": [a-z0-9-], at most 63, starting
                                 * and ending with [a-z0-9]. */
    DNS_1035_LABEL,             /* The same, starting with [a-z]. */
    DNS_1123_SUBDOMAIN,         /* Labels joined by '.', at most 253. */
};

/* What the API server accepts as each kind's metadata.name (its
 * validation's NameIsDNSSubdomain, NameIsDNSLabel or
 * NameIsDNS1035Label). */
static const enum dns_name kind_name_forms[K8S_N_KINDS] = {
    [K8S_NODE] = DNS_1123_SUBDOMAIN,
    [K8S_NAMESPACE] = DNS_1123_LABEL,
    [K8S_POD] = DNS_1123_SUBDOMAIN,
    [K8S_SERVICE] = DNS_1035_LABEL,
    [K8S_ENDPOINT_SLICE] = DNS_1123_SUBDOMAIN,
    [K8S_NETWORK_POLICY] = DNS_1123_SUBDOMAIN,
};

static bool
dns_label_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

/* Returns NULL if 's' has the form 'form', otherwise what is wrong with
 * it.  Names that pass contain neither '/' nor white space, so
 * "namespace/name" keys built from them never collide. */
static const char *
dns_name_problem(const char *s, enum dns_name form)
{
    size_t len = strlen(s);
    size_t max = form == DNS_1123_SUBDOMAIN ? 253 : 63;

    if (len > max) {
        return (form == DNS_1123_SUBDOMAIN
                ? "is longer than 253 characters"
                : "is longer than 63 characters");
    }
    for (size_t start = 0; start <= len; ) {
        size_t n = 0;
        while (start + n < len && dns_label_char(s[start + n])) {
            n++;
        }
        const char *label = s + start;
        if (start + n < len
            && (s[start + n] != '.' || form != DNS_1123_SUBDOMAIN)) {
            return (form == DNS_1123_SUBDOMAIN
                    ? "must consist of lower case letters, digits, '-' "
                      "and '.'"
                    : "must consist of lower case letters, digits and '-'");
        } else if (!n || label[0] == '-' || label[n - 1] == '-') {
            return "must start and end each part with a letter or digit";
        } else if (form == DNS_1035_LABEL
                   && !(label[0] >= 'a' && label[0] <= 'z')) {
            return "must start with a lower case letter";
        }
        start += n + 1;
    }
    return NULL;
}

/* Checks that member 'key' of 'metadata', 's', has the form 'form'. */
static bool
dec_check_dns_name(struct decoder *d, const char *key, const char *s,
                   enum dns_name form)
{
    const char *problem = dns_name_problem(s, form);
    if (problem) {
        dec_push(d, key);
        return dec_error(d, "\"%s\" is not a valid name: it %s", s,
                         problem);
    }
    return true;
}

static bool
dec_metadata(struct decoder *d, const json_t *root, struct k8s_object *obj)
{
    const json_t *metadata;
    const char *name;

    if (!dec_member(d, root, "metadata", DEC_OBJECT, &metadata)) {
        return false;
    }
    size_t mark = dec_push(d, "metadata");

    if (!dec_string(d, metadata, "name", &name)) {
        return false;
    } else if (!name || !*name) {
        dec_push(d, "name");
        return dec_error(d, name ? "must not be empty" : "missing");
    }
    obj->name = xstrdup(name);
    if (!dec_check_dns_name(d, "name", name, kind_name_forms[obj->kind])) {
        return false;
    }

    if (k8s_kind_is_namespaced(obj->kind)) {
        const char *namespace;

        if (!dec_string(d, metadata, "namespace", &namespace)) {
            return false;
        } else if (!namespace || !*namespace) {
            dec_push(d, "namespace");
            return dec_error(d, namespace ? "must not be empty" : "missing");
        }
        if (!dec_check_dns_name(d, "namespace", namespace,
                                DNS_1123_LABEL)) {
            return false;
        }
        obj->namespace = xstrdup(namespace);
    } else {
        obj->namespace = xstrdup("");
    }

    if (!dec_labels(d, metadata, "labels", &obj->labels)
        || !dec_strdup(d, metadata, "uid", &obj->uid)
        || !dec_strdup(d, metadata, "resourceVersion",
                       &obj->resource_version)) {
        return false;
    }
    dec_pop(d, mark);
    return true;
}

/* Node. */

static bool
dec_node(struct decoder *d, const json_t *root, struct k8s_object *obj)
{
    struct k8s_node *node = CONTAINER_OF(obj, struct k8s_node, obj);
    const json_t *spec, *status, *cidrs, *addresses;

    if (!dec_member(d, root, "spec", DEC_OBJECT, &spec)
        || !dec_member(d, root, "status", DEC_OBJECT, &status)) {
        return false;
    }

    /* spec.podCIDRs, or the older spec.podCIDR. */
    size_t mark = dec_push(d, "spec");
    if (!dec_member(d, spec, "podCIDRs", DEC_ARRAY, &cidrs)) {
        return false;
    } else if (cidrs && json_array_size(cidrs)) {
        if (!dec_cidr_array(d, spec, "podCIDRs", CIDR_STRICT,
                            &node->pod_cidrs, &node->n_pod_cidrs)
            || !dec_check_one_per_family(d, "podCIDRs", node->pod_cidrs,
                                         sizeof *node->pod_cidrs,
                                         node->n_pod_cidrs, true)) {
            return false;
        }
    } else if (dec_get(spec, "podCIDR")) {
        node->pod_cidrs = xmalloc(sizeof *node->pod_cidrs);
        dec_push(d, "podCIDR");
        if (!dec_cidr_value(d, dec_get(spec, "podCIDR"), CIDR_STRICT,
                            node->pod_cidrs)) {
            return false;
        }
        node->n_pod_cidrs = 1;
    }
    dec_pop(d, mark);

    /* status.addresses[] of type InternalIP. */
    mark = dec_push(d, "status");
    if (!dec_member(d, status, "addresses", DEC_ARRAY, &addresses)) {
        return false;
    }
    size_t n = addresses ? json_array_size(addresses) : 0;
    node->internal_ips = xcalloc(n, sizeof *node->internal_ips);
    for (size_t i = 0; i < n; i++) {
        const json_t *address = json_array_get(addresses, i);
        const char *type;

        size_t inner_mark = dec_push_index(d, "addresses", i);
        if (!dec_check_type(d, address, DEC_OBJECT)
            || !dec_string(d, address, "type", &type)) {
            return false;
        }
        if (type && !strcmp(type, "InternalIP")) {
            struct in6_addr *ip = &node->internal_ips[node->n_internal_ips];

            dec_push(d, "address");
            if (!dec_ip_value(d, dec_get(address, "address"), IP_ANY, ip)) {
                return false;
            }
            node->n_internal_ips++;
        }
        dec_pop(d, inner_mark);
    }
    dec_pop(d, mark);
    return true;
}

/* Namespace. */

static bool
dec_namespace(struct decoder *d, const json_t *root, struct k8s_object *obj)
{
    struct k8s_namespace *ns = CONTAINER_OF(obj, struct k8s_namespace, obj);
    const json_t *metadata = dec_get(root, "metadata");
    const json_t *annotations;
    const char *value;

    /* The API server labels every namespace with its own name. */
    smap_replace(&obj->labels, "kubernetes.io/metadata.name", obj->name);

    /* The audit log of its pods' NetworkPolicy verdicts.  A value other
     * than "true" or "false" leaves it off, and is kept so that the flows
     * can say so. */
    size_t mark = dec_push(d, "metadata");
    if (!dec_member(d, metadata, "annotations", DEC_OBJECT, &annotations)) {
        return false;
    }
    if (annotations) {
        dec_push(d, "annotations");
        if (!dec_string(d, annotations, K8S_NP_LOGGING_ANNOTATION, &value)) {
            return false;
        }
        if (value && !strcmp(value, "true")) {
            ns->np_logging = true;
        } else if (value && strcmp(value, "false")) {
            ns->np_logging_value = xstrdup(value);
        }
    }
    dec_pop(d, mark);
    return true;
}

/* Pod. */

static bool
dec_container_ports(struct decoder *d, const json_t *container,
                    struct k8s_pod *pod, size_t *allocated)
{
    const json_t *ports;

    if (!dec_check_type(d, container, DEC_OBJECT)
        || !dec_member(d, container, "ports", DEC_ARRAY, &ports)) {
        return false;
    }
    for (size_t i = 0; ports && i < json_array_size(ports); i++) {
        const json_t *port = json_array_get(ports, i);

        if (pod->n_ports >= *allocated) {
            pod->ports = x2nrealloc(pod->ports, allocated, sizeof *pod->ports);
        }
        struct k8s_container_port *cp = &pod->ports[pod->n_ports++];
        cp->name = NULL;

        size_t mark = dec_push_index(d, "ports", i);
        if (!dec_check_type(d, port, DEC_OBJECT)
            || !dec_strdup(d, port, "name", &cp->name)
            || !dec_protocol(d, port, "protocol", &cp->protocol)
            || !dec_port(d, port, "containerPort", true, 1, &cp->port)) {
            return false;
        }
        dec_pop(d, mark);
    }
    return true;
}

static bool
dec_pod(struct decoder *d, const json_t *root, struct k8s_object *obj)
{
    struct k8s_pod *pod = CONTAINER_OF(obj, struct k8s_pod, obj);
    const json_t *metadata, *spec, *status, *containers, *pod_ips;

    /* dec_metadata() already checked the type of "metadata". */
    metadata = dec_get(root, "metadata");
    if (dec_get(metadata, "deletionTimestamp")) {
        const char *timestamp;

        size_t mark = dec_push(d, "metadata");
        if (!dec_string(d, metadata, "deletionTimestamp", &timestamp)) {
            return false;
        }
        dec_pop(d, mark);
        pod->terminating = true;
    }

    if (!dec_member(d, root, "spec", DEC_OBJECT, &spec)
        || !dec_member(d, root, "status", DEC_OBJECT, &status)) {
        return false;
    }

    size_t mark = dec_push(d, "spec");
    if (!dec_strdup(d, spec, "nodeName", &pod->node_name)
        || !dec_bool(d, spec, "hostNetwork", false, &pod->host_network)
        || !dec_member(d, spec, "containers", DEC_ARRAY, &containers)) {
        return false;
    }
    size_t allocated = 0;
    for (size_t i = 0; containers && i < json_array_size(containers); i++) {
        size_t inner_mark = dec_push_index(d, "containers", i);
        if (!dec_container_ports(d, json_array_get(containers, i), pod,
                                 &allocated)) {
            return false;
        }
        dec_pop(d, inner_mark);
    }
    dec_pop(d, mark);

    /* status.podIPs[].ip, or the older status.podIP. */
    mark = dec_push(d, "status");
    if (!dec_strdup(d, status, "phase", &pod->phase)
        || !dec_member(d, status, "podIPs", DEC_ARRAY, &pod_ips)) {
        return false;
    }
    if (pod_ips && json_array_size(pod_ips)) {
        pod->ips = xcalloc(json_array_size(pod_ips), sizeof *pod->ips);
        for (size_t i = 0; i < json_array_size(pod_ips); i++) {
            const json_t *pod_ip = json_array_get(pod_ips, i);

            size_t inner_mark = dec_push_index(d, "podIPs", i);
            if (!dec_check_type(d, pod_ip, DEC_OBJECT)) {
                return false;
            }
            dec_push(d, "ip");
            if (!dec_ip_value(d, dec_get(pod_ip, "ip"), IP_ANY,
                              &pod->ips[i])) {
                return false;
            }
            dec_pop(d, inner_mark);
            pod->n_ips++;
        }
        if (!dec_check_one_per_family(d, "podIPs", pod->ips, sizeof *pod->ips,
                                      pod->n_ips, false)) {
            return false;
        }
    } else {
        const char *pod_ip;

        if (!dec_string(d, status, "podIP", &pod_ip)) {
            return false;
        } else if (pod_ip && *pod_ip) {
            pod->ips = xmalloc(sizeof *pod->ips);
            dec_push(d, "podIP");
            if (!dec_ip_value(d, dec_get(status, "podIP"), IP_ANY,
                              pod->ips)) {
                return false;
            }
            pod->n_ips = 1;
        }
    }
    dec_pop(d, mark);
    return true;
}

/* Service. */

static const char *const service_type_names[] = {
    [K8S_SVC_CLUSTER_IP] = "ClusterIP",
    [K8S_SVC_NODE_PORT] = "NodePort",
    [K8S_SVC_LOAD_BALANCER] = "LoadBalancer",
    [K8S_SVC_EXTERNAL_NAME] = "ExternalName",
};

static const char *const traffic_policy_names[] = {
    [K8S_POLICY_CLUSTER] = "Cluster",
    [K8S_POLICY_LOCAL] = "Local",
};

static const char *const session_affinity_names[] = { "None", "ClientIP" };

static const char *const ip_mode_names[] = { "VIP", "Proxy" };

static bool
dec_service_port(struct decoder *d, const json_t *port,
                 struct k8s_service_port *sp)
{
    const json_t *target;

    if (!dec_check_type(d, port, DEC_OBJECT)
        || !dec_strdup(d, port, "name", &sp->name)
        || !dec_protocol(d, port, "protocol", &sp->protocol)
        || !dec_port(d, port, "port", true, 1, &sp->port)
        || !dec_port(d, port, "nodePort", false, 0, &sp->node_port)) {
        return false;
    }

    /* targetPort: a number or a container port name, defaulting to
     * 'port' (so do 0 and "", as in the API server). */
    sp->target_port = sp->port;
    target = dec_get(port, "targetPort");
    if (target && json_is_string(target)) {
        size_t mark = dec_push(d, "targetPort");
        if (!dec_check_type(d, target, DEC_STRING)) {
            return false;
        }
        dec_pop(d, mark);
        if (*json_string_value(target)) {
            sp->target_port = 0;
            sp->target_port_name = xstrdup(json_string_value(target));
        }
    } else if (target) {
        size_t mark = dec_push(d, "targetPort");
        if (!json_is_integer(target)) {
            return dec_error(d, "expected an integer or a string, got %s",
                             json_type_description(target));
        } else if (json_integer_value(target)) {
            if (!dec_check_range(d, json_integer_value(target), 1, 65535)) {
                return false;
            }
            sp->target_port = json_integer_value(target);
        }
        dec_pop(d, mark);
    }
    return true;
}

/* Decodes 'ip', the JSON at the current path, as one cluster IP of
 * 'svc': an address, "None" for a headless Service, or "" for none. */
static bool
dec_cluster_ip_value(struct decoder *d, const json_t *ip,
                     struct k8s_service *svc)
{
    if (!dec_check_type(d, ip, DEC_STRING)) {
        return false;
    }

    const char *s = json_string_value(ip);
    if (!strcmp(s, "None")) {
        svc->headless = true;
    } else if (*s) {
        if (!dec_ip_value(d, ip, IP_ANY,
                          &svc->cluster_ips[svc->n_cluster_ips])) {
            return false;
        }
        svc->n_cluster_ips++;
    }
    return true;
}

/* Decodes spec.clusterIPs, or the older spec.clusterIP, into 'svc'. */
static bool
dec_cluster_ips(struct decoder *d, const json_t *spec,
                struct k8s_service *svc)
{
    const json_t *ips, *ip;

    if (!dec_member(d, spec, "clusterIPs", DEC_ARRAY, &ips)) {
        return false;
    } else if (ips && json_array_size(ips)) {
        svc->cluster_ips = xcalloc(json_array_size(ips),
                                   sizeof *svc->cluster_ips);
        for (size_t i = 0; i < json_array_size(ips); i++) {
            size_t mark = dec_push_index(d, "clusterIPs", i);
            if (!dec_cluster_ip_value(d, json_array_get(ips, i), svc)) {
                return false;
            }
            dec_pop(d, mark);
        }
    } else if ((ip = dec_get(spec, "clusterIP")) != NULL) {
        svc->cluster_ips = xmalloc(sizeof *svc->cluster_ips);

        size_t mark = dec_push(d, "clusterIP");
        if (!dec_cluster_ip_value(d, ip, svc)) {
            return false;
        }
        dec_pop(d, mark);
    }

    if (svc->headless) {
        svc->n_cluster_ips = 0;
    }
    return true;
}

static const char *const ip_family_names[] = { "IPv6", "IPv4" };

static const char *const ip_family_policy_names[] = {
    [K8S_IPFP_SINGLE_STACK] = "SingleStack",
    [K8S_IPFP_PREFER_DUAL_STACK] = "PreferDualStack",
    [K8S_IPFP_REQUIRE_DUAL_STACK] = "RequireDualStack",
};

/* Decodes spec.ipFamilies and spec.ipFamilyPolicy into 'svc', whose
 * cluster IPs are already decoded, and checks them against each other and
 * against the cluster IPs, as the API server does.  Without ipFamilies,
 * the families are those of the cluster IPs. */
static bool
dec_ip_families(struct decoder *d, const json_t *spec,
                struct k8s_service *svc)
{
    const json_t *families;
    int policy;

    const json_t *policy_value = dec_get(spec, "ipFamilyPolicy");
    bool has_policy = (policy_value && json_is_string(policy_value)
                       && *json_string_value(policy_value));
    if (!dec_enum(d, spec, "ipFamilyPolicy", ip_family_policy_names,
                  ARRAY_SIZE(ip_family_policy_names), K8S_IPFP_SINGLE_STACK,
                  &policy)
        || !dec_member(d, spec, "ipFamilies", DEC_ARRAY, &families)) {
        return false;
    }
    svc->ip_family_policy = policy;

    size_t n = families ? json_array_size(families) : 0;
    for (size_t i = 0; i < n; i++) {
        int ipv4;

        size_t mark = dec_push_index(d, "ipFamilies", i);
        if (!dec_enum_value(d, json_array_get(families, i), ip_family_names,
                            ARRAY_SIZE(ip_family_names), -1, &ipv4)) {
            return false;
        } else if (i >= 2 || (i == 1 && svc->ip_families_ipv4[0] == ipv4)) {
            return dec_error(d, "\"%s\" is a second %s family (at most one "
                             "per family)", ip_family_names[ipv4],
                             ip_family_names[ipv4]);
        }
        dec_pop(d, mark);
        svc->ip_families_ipv4[svc->n_ip_families++] = ipv4;
    }

    if (!n) {
        /* The families of the cluster IPs, in their order.  (kovs has
         * always served every address of spec.clusterIPs, even two of one
         * family, which the API server would refuse; it still does.) */
        for (size_t i = 0; i < svc->n_cluster_ips; i++) {
            bool ipv4 = k8s_addr_is_ipv4(&svc->cluster_ips[i]);
            if (!svc->n_ip_families || svc->ip_families_ipv4[0] != ipv4) {
                svc->ip_families_ipv4[svc->n_ip_families++] = ipv4;
            }
            if (svc->n_ip_families == 2) {
                break;
            }
        }
    } else {
        /* Each cluster IP is of the family at the same index. */
        for (size_t i = 0; i < svc->n_cluster_ips; i++) {
            bool ipv4 = k8s_addr_is_ipv4(&svc->cluster_ips[i]);
            if (i >= svc->n_ip_families
                || ipv4 != svc->ip_families_ipv4[i]) {
                struct ds s = DS_EMPTY_INITIALIZER;
                ipv6_format_mapped(&svc->cluster_ips[i], &s);
                size_t mark = dec_push_index(d, "clusterIPs", i);
                dec_error(d, "\"%s\" is %s, but spec.ipFamilies%s",
                          ds_cstr(&s), ipv4 ? "IPv4" : "IPv6",
                          (i >= svc->n_ip_families ? " has no family for it"
                           : svc->ip_families_ipv4[i] ? " says IPv4"
                           : " says IPv6"));
                dec_pop(d, mark);
                ds_destroy(&s);
                return false;
            }
        }
    }

    if (!has_policy) {
        /* Absent: the API server makes a Service given two families
         * RequireDualStack, any other SingleStack. */
        svc->ip_family_policy = (svc->n_ip_families > 1
                                 ? K8S_IPFP_REQUIRE_DUAL_STACK
                                 : K8S_IPFP_SINGLE_STACK);
    } else if (svc->ip_family_policy == K8S_IPFP_SINGLE_STACK
        && (svc->n_ip_families > 1 || svc->n_cluster_ips > 1)) {
        size_t mark = dec_push(d, "ipFamilyPolicy");
        dec_error(d, "SingleStack, but the Service has two %s",
                  svc->n_cluster_ips > 1 ? "clusterIPs" : "ipFamilies");
        dec_pop(d, mark);
        return false;
    }
    return true;
}

static bool
dec_service_spec(struct decoder *d, const json_t *spec,
                 struct k8s_service *svc)
{
    const json_t *ports;
    int type, affinity, etp, itp;
    long long int timeout;

    if (!dec_enum(d, spec, "type", service_type_names,
                  ARRAY_SIZE(service_type_names), K8S_SVC_CLUSTER_IP, &type)
        || !dec_cluster_ips(d, spec, svc)
        || !dec_ip_families(d, spec, svc)
        || !dec_member(d, spec, "ports", DEC_ARRAY, &ports)) {
        return false;
    }
    svc->type = type;

    if (ports) {
        svc->ports = xcalloc(json_array_size(ports), sizeof *svc->ports);
        for (size_t i = 0; i < json_array_size(ports); i++) {
            size_t mark = dec_push_index(d, "ports", i);
            if (!dec_service_port(d, json_array_get(ports, i),
                                  &svc->ports[svc->n_ports++])) {
                return false;
            }
            dec_pop(d, mark);
        }
    }

    /* Session affinity, and its timeout when it is ClientIP. */
    if (!dec_enum(d, spec, "sessionAffinity", session_affinity_names,
                  ARRAY_SIZE(session_affinity_names), 0, &affinity)) {
        return false;
    }
    svc->affinity_client_ip = affinity == 1;
    svc->affinity_timeout = 10800;
    if (svc->affinity_client_ip) {
        const json_t *config, *client_ip;

        if (!dec_member(d, spec, "sessionAffinityConfig", DEC_OBJECT,
                        &config)) {
            return false;
        }
        size_t mark = dec_push(d, "sessionAffinityConfig");
        if (!dec_member(d, config, "clientIP", DEC_OBJECT, &client_ip)) {
            return false;
        }
        dec_push(d, "clientIP");
        if (!dec_integer(d, client_ip, "timeoutSeconds", false, 1, 86400,
                         10800, &timeout)) {
            return false;
        }
        dec_pop(d, mark);
        svc->affinity_timeout = timeout;
    }

    if (!dec_ip_array(d, spec, "externalIPs", IP_ANY, &svc->external_ips,
                      &svc->n_external_ips)
        || !dec_cidr_array(d, spec, "loadBalancerSourceRanges", CIDR_LENIENT,
                           &svc->lb_source_ranges,
                           &svc->n_lb_source_ranges)
        || !dec_enum(d, spec, "externalTrafficPolicy", traffic_policy_names,
                     ARRAY_SIZE(traffic_policy_names), K8S_POLICY_CLUSTER,
                     &etp)
        || !dec_enum(d, spec, "internalTrafficPolicy", traffic_policy_names,
                     ARRAY_SIZE(traffic_policy_names), K8S_POLICY_CLUSTER,
                     &itp)
        || !dec_port(d, spec, "healthCheckNodePort", false, 0,
                     &svc->health_check_node_port)) {
        return false;
    }
    svc->external_traffic_policy = etp;
    svc->internal_traffic_policy = itp;
    return true;
}

/* Decodes status.loadBalancer.ingress[] into 'svc', skipping the entries
 * without an IP (hostname only). */
static bool
dec_service_status(struct decoder *d, const json_t *status,
                   struct k8s_service *svc)
{
    const json_t *lb, *ingress;

    if (!dec_member(d, status, "loadBalancer", DEC_OBJECT, &lb)) {
        return false;
    }
    size_t mark = dec_push(d, "loadBalancer");
    if (!dec_member(d, lb, "ingress", DEC_ARRAY, &ingress)) {
        return false;
    }
    size_t n = ingress ? json_array_size(ingress) : 0;
    svc->lb_ingress = xcalloc(n, sizeof *svc->lb_ingress);
    for (size_t i = 0; i < n; i++) {
        const json_t *entry = json_array_get(ingress, i);
        struct k8s_lb_ingress *lbi = &svc->lb_ingress[svc->n_lb_ingress];
        const json_t *ip;
        int ip_mode;

        size_t inner_mark = dec_push_index(d, "ingress", i);
        if (!dec_check_type(d, entry, DEC_OBJECT)
            || !dec_enum(d, entry, "ipMode", ip_mode_names,
                         ARRAY_SIZE(ip_mode_names), 0, &ip_mode)
            || !dec_member(d, entry, "ip", DEC_STRING, &ip)) {
            return false;
        }
        if (ip && *json_string_value(ip)) {
            dec_push(d, "ip");
            if (!dec_ip_value(d, ip, IP_ANY, &lbi->ip)) {
                return false;
            }
            lbi->proxy_mode = ip_mode == 1;
            svc->n_lb_ingress++;
        }
        dec_pop(d, inner_mark);
    }
    dec_pop(d, mark);
    return true;
}

static bool
dec_service(struct decoder *d, const json_t *root, struct k8s_object *obj)
{
    struct k8s_service *svc = CONTAINER_OF(obj, struct k8s_service, obj);
    const json_t *spec, *status;

    if (!dec_member(d, root, "spec", DEC_OBJECT, &spec)
        || !dec_member(d, root, "status", DEC_OBJECT, &status)) {
        return false;
    }

    size_t mark = dec_push(d, "spec");
    if (!dec_service_spec(d, spec, svc)) {
        return false;
    }
    dec_pop(d, mark);

    mark = dec_push(d, "status");
    if (!dec_service_status(d, status, svc)) {
        return false;
    }
    dec_pop(d, mark);
    return true;
}

/* EndpointSlice. */

enum address_type {
    ADDRESS_IPV4,
    ADDRESS_IPV6,
    ADDRESS_FQDN,
};

static const char *const address_type_names[] = {
    [ADDRESS_IPV4] = "IPv4",
    [ADDRESS_IPV6] = "IPv6",
    [ADDRESS_FQDN] = "FQDN",
};

static bool
dec_endpoint(struct decoder *d, const json_t *endpoint,
             enum ip_family family, struct k8s_endpoint *ep)
{
    const json_t *addresses, *conditions, *target;

    if (!dec_check_type(d, endpoint, DEC_OBJECT)
        || !dec_required(d, endpoint, "addresses", DEC_ARRAY, &addresses)) {
        return false;
    } else if (!json_array_size(addresses)) {
        dec_push(d, "addresses");
        return dec_error(d, "must not be empty");
    } else if (!dec_ip_array(d, endpoint, "addresses", family,
                             &ep->addresses, &ep->n_addresses)) {
        return false;
    }

    if (!dec_member(d, endpoint, "conditions", DEC_OBJECT, &conditions)) {
        return false;
    }
    size_t mark = dec_push(d, "conditions");
    if (!dec_bool(d, conditions, "ready", true, &ep->ready)
        || !dec_bool(d, conditions, "serving", true, &ep->serving)
        || !dec_bool(d, conditions, "terminating", false,
                     &ep->terminating)) {
        return false;
    }
    dec_pop(d, mark);

    if (!dec_strdup(d, endpoint, "nodeName", &ep->node_name)
        || !dec_member(d, endpoint, "targetRef", DEC_OBJECT, &target)) {
        return false;
    }
    mark = dec_push(d, "targetRef");
    if (!dec_strdup(d, target, "namespace", &ep->target_namespace)
        || !dec_strdup(d, target, "name", &ep->target_name)) {
        return false;
    }
    dec_pop(d, mark);
    return true;
}

/* Parses RFC 3339 time 's' ("2026-12-06T01:20:00Z", with optional
 * fractional seconds and a numeric offset instead of "Z") into
 * milliseconds since the epoch.  Returns -1 if 's' is not such a time. */
static long long int
parse_rfc3339_msec(const char *s)
{
    struct tm tm;
    int n = 0;

    memset(&tm, 0, sizeof tm);
    if (sscanf(s, "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &tm.tm_year,
               &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec,
               &n) != 6 || !n) {
        return -1;
    }
    if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1
        || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59
        || tm.tm_sec > 60) {
        return -1;
    }
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;

    const char *p = s + n;
    long long int msec = 0;
    if (*p == '.') {
        int scale = 100;
        p++;
        if (*p < '0' || *p > '9') {
            return -1;
        }
        for (; *p >= '0' && *p <= '9'; p++) {
            msec += (*p - '0') * scale;
            scale /= 10;
        }
    }

    int offset_min = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int hh, mm, m = 0;
        if (sscanf(p + 1, "%2d:%2d%n", &hh, &mm, &m) != 2 || m != 5
            || hh > 23 || mm > 59) {
            return -1;
        }
        offset_min = (hh * 60 + mm) * (*p == '+' ? 1 : -1);
        p += 6;
    } else {
        return -1;
    }
    if (*p) {
        return -1;
    }

    time_t t = timegm(&tm);
    if (t == (time_t) -1) {
        return -1;
    }
    return ((long long int) t - offset_min * 60LL) * 1000 + msec;
}

/* Returns the value of annotation 'key' of object 'root', or NULL. */
static const char *
json_annotation(const json_t *root, const char *key)
{
    const json_t *metadata = json_object_get(root, "metadata");
    const json_t *annotations = (json_is_object(metadata)
                                 ? json_object_get(metadata, "annotations")
                                 : NULL);
    const json_t *value = (json_is_object(annotations)
                           ? json_object_get(annotations, key) : NULL);
    return json_is_string(value) ? json_string_value(value) : NULL;
}

static bool
dec_endpoint_slice(struct decoder *d, const json_t *root,
                   struct k8s_object *obj)
{
    struct k8s_endpoint_slice *slice
        = CONTAINER_OF(obj, struct k8s_endpoint_slice, obj);
    const json_t *ports, *endpoints;
    int address_type;

    const char *service = smap_get(&obj->labels,
                                   "kubernetes.io/service-name");
    slice->service_name = xstrdup(service ? service : "");

    const char *trigger = json_annotation(
        root, "endpoints.kubernetes.io/last-change-trigger-time");
    slice->trigger_time_msec = trigger ? parse_rfc3339_msec(trigger) : 0;

    if (!dec_enum(d, root, "addressType", address_type_names,
                  ARRAY_SIZE(address_type_names), -1, &address_type)
        || !dec_member(d, root, "ports", DEC_ARRAY, &ports)
        || !dec_member(d, root, "endpoints", DEC_ARRAY, &endpoints)) {
        return false;
    }
    slice->ipv6 = address_type == ADDRESS_IPV6;

    if (ports) {
        slice->ports = xcalloc(json_array_size(ports), sizeof *slice->ports);
        for (size_t i = 0; i < json_array_size(ports); i++) {
            const json_t *port = json_array_get(ports, i);
            struct k8s_endpoint_port *ep = &slice->ports[slice->n_ports++];

            size_t mark = dec_push_index(d, "ports", i);
            if (!dec_check_type(d, port, DEC_OBJECT)
                || !dec_strdup(d, port, "name", &ep->name)
                || !dec_protocol(d, port, "protocol", &ep->protocol)
                || !dec_port(d, port, "port", false, 0, &ep->port)) {
                return false;
            }
            dec_pop(d, mark);
        }
    }

    /* kovs has no use for FQDN endpoints: keep the slice, empty. */
    if (endpoints && address_type != ADDRESS_FQDN) {
        enum ip_family family = slice->ipv6 ? IP_V6 : IP_V4;

        slice->endpoints = xcalloc(json_array_size(endpoints),
                                   sizeof *slice->endpoints);
        for (size_t i = 0; i < json_array_size(endpoints); i++) {
            struct k8s_endpoint *ep = &slice->endpoints[slice->n_endpoints++];

            size_t mark = dec_push_index(d, "endpoints", i);
            if (!dec_endpoint(d, json_array_get(endpoints, i), family, ep)) {
                return false;
            }
            dec_pop(d, mark);
        }
    }
    return true;
}

/* NetworkPolicy. */

static const char *const policy_type_names[] = { "Ingress", "Egress" };

static bool
dec_ip_block(struct decoder *d, const json_t *value,
             struct k8s_ip_block *block)
{
    const json_t *except;

    if (!dec_check_type(d, value, DEC_OBJECT)) {
        return false;
    }

    size_t mark = dec_push(d, "cidr");
    if (!dec_cidr_value(d, dec_get(value, "cidr"), CIDR_LENIENT,
                        &block->cidr)) {
        return false;
    }
    dec_pop(d, mark);

    if (!dec_cidr_array(d, value, "except", CIDR_LENIENT, &block->except,
                        &block->n_except)) {
        return false;
    }
    for (size_t i = 0; i < block->n_except; i++) {
        if (!cidr_strictly_inside(&block->except[i], &block->cidr)) {
            except = dec_get(value, "except");
            dec_push_index(d, "except", i);
            return dec_error(d, "\"%s\" is not a strict subset of cidr "
                             "\"%s\"",
                             json_string_value(json_array_get(except, i)),
                             json_string_value(dec_get(value, "cidr")));
        }
    }
    return true;
}

static bool
dec_policy_peer(struct decoder *d, const json_t *value,
                struct k8s_policy_peer *peer)
{
    const json_t *ip_block;

    if (!dec_check_type(d, value, DEC_OBJECT)
        || !dec_optional_selector(d, value, "podSelector",
                                  &peer->pod_selector)
        || !dec_optional_selector(d, value, "namespaceSelector",
                                  &peer->namespace_selector)
        || !dec_member(d, value, "ipBlock", DEC_OBJECT, &ip_block)) {
        return false;
    }

    bool selectors = peer->pod_selector || peer->namespace_selector;
    if (ip_block && selectors) {
        return dec_error(d, "ipBlock may not be combined with podSelector "
                         "or namespaceSelector");
    } else if (!ip_block && !selectors) {
        return dec_error(d, "needs podSelector, namespaceSelector or "
                         "ipBlock");
    } else if (ip_block) {
        peer->ip_block = xzalloc(sizeof *peer->ip_block);

        size_t mark = dec_push(d, "ipBlock");
        if (!dec_ip_block(d, ip_block, peer->ip_block)) {
            return false;
        }
        dec_pop(d, mark);
    }
    return true;
}

static bool
dec_policy_port(struct decoder *d, const json_t *value,
                struct k8s_policy_port *pp)
{
    const json_t *port;

    if (!dec_check_type(d, value, DEC_OBJECT)
        || !dec_protocol(d, value, "protocol", &pp->protocol)) {
        return false;
    }

    port = dec_get(value, "port");
    if (port) {
        size_t mark = dec_push(d, "port");
        if (json_is_string(port)) {
            if (!dec_check_type(d, port, DEC_STRING)) {
                return false;
            } else if (!*json_string_value(port)) {
                return dec_error(d, "must not be empty");
            }
            pp->port_name = xstrdup(json_string_value(port));
        } else if (json_is_integer(port)) {
            if (!dec_check_range(d, json_integer_value(port), 1, 65535)) {
                return false;
            }
            pp->port = json_integer_value(port);
        } else {
            return dec_error(d, "expected an integer or a string, got %s",
                             json_type_description(port));
        }
        dec_pop(d, mark);
    }

    if (!dec_port(d, value, "endPort", false, 1, &pp->end_port)) {
        return false;
    } else if (pp->end_port && (!pp->port || pp->end_port < pp->port)) {
        dec_push(d, "endPort");
        if (!pp->port) {
            return dec_error(d, "requires a numeric port");
        }
        return dec_error(d, "%d is less than port %d",
                         pp->end_port, pp->port);
    }
    return true;
}

/* Decodes 'value', the JSON at the current path, as one ingress or egress
 * rule whose peers are in member 'peers_key' ("from" or "to"). */
static bool
dec_policy_rule(struct decoder *d, const json_t *value,
                const char *peers_key, struct k8s_policy_rule *rule)
{
    const json_t *peers, *ports;

    if (!dec_check_type(d, value, DEC_OBJECT)
        || !dec_member(d, value, peers_key, DEC_ARRAY, &peers)
        || !dec_member(d, value, "ports", DEC_ARRAY, &ports)) {
        return false;
    }

    if (peers) {
        rule->peers = xcalloc(json_array_size(peers), sizeof *rule->peers);
        for (size_t i = 0; i < json_array_size(peers); i++) {
            size_t mark = dec_push_index(d, peers_key, i);
            if (!dec_policy_peer(d, json_array_get(peers, i),
                                 &rule->peers[rule->n_peers++])) {
                return false;
            }
            dec_pop(d, mark);
        }
    }

    if (ports) {
        rule->ports = xcalloc(json_array_size(ports), sizeof *rule->ports);
        for (size_t i = 0; i < json_array_size(ports); i++) {
            size_t mark = dec_push_index(d, "ports", i);
            if (!dec_policy_port(d, json_array_get(ports, i),
                                 &rule->ports[rule->n_ports++])) {
                return false;
            }
            dec_pop(d, mark);
        }
    }
    return true;
}

/* Decodes member 'key' ("ingress" or "egress") of 'spec'. */
static bool
dec_policy_rules(struct decoder *d, const json_t *spec, const char *key,
                 const char *peers_key, struct k8s_policy_rule **rulesp,
                 size_t *n_rulesp)
{
    const json_t *rules;

    if (!dec_member(d, spec, key, DEC_ARRAY, &rules)) {
        return false;
    } else if (!rules) {
        return true;
    }

    *rulesp = xcalloc(json_array_size(rules), sizeof **rulesp);
    for (size_t i = 0; i < json_array_size(rules); i++) {
        size_t mark = dec_push_index(d, key, i);
        if (!dec_policy_rule(d, json_array_get(rules, i), peers_key,
                             &(*rulesp)[(*n_rulesp)++])) {
            return false;
        }
        dec_pop(d, mark);
    }
    return true;
}

static void
init_network_policy(struct k8s_object *obj)
{
    struct k8s_network_policy *np
        = CONTAINER_OF(obj, struct k8s_network_policy, obj);

    smap_init(&np->pod_selector.match_labels);
}

static bool
dec_network_policy(struct decoder *d, const json_t *root,
                   struct k8s_object *obj)
{
    struct k8s_network_policy *np
        = CONTAINER_OF(obj, struct k8s_network_policy, obj);
    const json_t *spec, *pod_selector, *types;

    if (!dec_member(d, root, "spec", DEC_OBJECT, &spec)) {
        return false;
    }
    size_t mark = dec_push(d, "spec");

    if (!dec_required(d, spec, "podSelector", DEC_OBJECT, &pod_selector)) {
        return false;
    }
    size_t inner_mark = dec_push(d, "podSelector");
    if (!dec_selector_value(d, pod_selector, &np->pod_selector)) {
        return false;
    }
    dec_pop(d, inner_mark);

    if (!dec_policy_rules(d, spec, "ingress", "from", &np->ingress,
                          &np->n_ingress)
        || !dec_policy_rules(d, spec, "egress", "to", &np->egress,
                             &np->n_egress)
        || !dec_member(d, spec, "policyTypes", DEC_ARRAY, &types)) {
        return false;
    }

    /* Without policyTypes, a policy always isolates for ingress, and for
     * egress only if it has egress rules. */
    if (types && json_array_size(types)) {
        for (size_t i = 0; i < json_array_size(types); i++) {
            int type;

            inner_mark = dec_push_index(d, "policyTypes", i);
            if (!dec_enum_value(d, json_array_get(types, i),
                                policy_type_names,
                                ARRAY_SIZE(policy_type_names), -1, &type)) {
                return false;
            }
            dec_pop(d, inner_mark);
            if (type == 0) {
                np->ingress_isolation = true;
            } else {
                np->egress_isolation = true;
            }
        }
    } else {
        const json_t *egress = dec_get(spec, "egress");

        np->ingress_isolation = true;
        np->egress_isolation = egress && json_array_size(egress) > 0;
    }
    dec_pop(d, mark);
    return true;
}

/* The decoders of the kinds. */

struct kind_decoder {
    size_t size;                /* Size of the typed object. */

    /* Optional: initializes what the destructor cannot take zeroed. */
    void (*init)(struct k8s_object *);

    /* Decodes the JSON object 'root' into 'obj', whose metadata is already
     * decoded. */
    bool (*decode)(struct decoder *, const json_t *root,
                   struct k8s_object *obj);
};

static const struct kind_decoder kind_decoders[K8S_N_KINDS] = {
    [K8S_NODE] = { sizeof(struct k8s_node), NULL, dec_node },
    [K8S_NAMESPACE] = { sizeof(struct k8s_namespace), NULL, dec_namespace },
    [K8S_POD] = { sizeof(struct k8s_pod), NULL, dec_pod },
    [K8S_SERVICE] = { sizeof(struct k8s_service), NULL, dec_service },
    [K8S_ENDPOINT_SLICE] = { sizeof(struct k8s_endpoint_slice), NULL,
                             dec_endpoint_slice },
    [K8S_NETWORK_POLICY] = { sizeof(struct k8s_network_policy),
                             init_network_policy, dec_network_policy },
};

/* Returns a hash of 'json''s content that does not depend on the order of
 * object members, computed by walking the tree (no serialization). */
static uint32_t
json_content_hash(const json_t *json, uint32_t basis)
{
    switch (json_typeof(json)) {
    case JSON_OBJECT: {
        /* Members combine by addition, which does not care about order. */
        uint32_t sum = 0;
        const char *key;
        const json_t *value;
        json_object_foreach (CONST_CAST(json_t *, json), key, value) {
            sum += hash_string(key, json_content_hash(value, 0x6f626a));
        }
        return hash_2words(basis ^ 1, sum);
    }
    case JSON_ARRAY: {
        uint32_t hash = hash_int(2, basis);
        size_t i;
        const json_t *value;
        json_array_foreach (json, i, value) {
            hash = json_content_hash(value, hash);
        }
        return hash;
    }
    case JSON_STRING:
        return hash_bytes(json_string_value(json), json_string_length(json),
                          basis ^ 3);
    case JSON_INTEGER:
        return hash_uint64_basis(json_integer_value(json), basis ^ 4);
    case JSON_REAL: {
        double d = json_real_value(json);
        uint64_t bits;
        memcpy(&bits, &d, sizeof bits);
        return hash_uint64_basis(bits, basis ^ 5);
    }
    case JSON_TRUE:
        return hash_int(6, basis);
    case JSON_FALSE:
        return hash_int(7, basis);
    case JSON_NULL:
    default:
        return hash_int(8, basis);
    }
}

static uint32_t
content_hash(const json_t *root)
{
    return json_content_hash(root, 0);
}

/* Decodes 'root' as an object of 'kind'.  'item' is its index in a List, or
 * -1 for a lone object.  Returns the object, or NULL with '*errorp' set to
 * a message that names the object and the field. */
static struct k8s_object *
decode_item(const json_t *root, enum k8s_kind kind, long long int item,
            char **errorp)
{
    const struct kind_decoder *kd = &kind_decoders[kind];
    struct k8s_object *obj = xzalloc(kd->size);
    struct decoder d;

    obj->kind = kind;
    smap_init(&obj->labels);
    if (kd->init) {
        kd->init(obj);
    }

    decoder_init(&d);
    if (dec_metadata(&d, root, obj) && kd->decode(&d, root, obj)) {
        decoder_destroy(&d);
        obj->content_hash = content_hash(root);
        *errorp = NULL;
        return obj;
    }

    struct ds s = DS_EMPTY_INITIALIZER;
    ds_put_format(&s, "%s ", k8s_kind_name(kind));
    if (!obj->name) {
        ds_put_cstr(&s, "(unnamed)");
        if (item >= 0) {
            ds_put_format(&s, " item %lld", item);
        }
    } else if (obj->namespace && obj->namespace[0]) {
        ds_put_format(&s, "%s/%s", obj->namespace, obj->name);
    } else {
        ds_put_cstr(&s, obj->name);
    }
    ds_put_format(&s, ": %s", d.error);
    *errorp = ds_steal_cstr(&s);

    decoder_destroy(&d);
    k8s_object_destroy(obj);
    return NULL;
}

struct k8s_object *
k8s_decode_json(const json_t *root, enum k8s_kind kind, char **errorp)
{
    if (!json_is_object(root)) {
        *errorp = xasprintf("%s: expected a JSON object, got %s",
                            k8s_kind_name(kind), json_type_description(root));
        return NULL;
    }
    return decode_item(root, kind, -1, errorp);
}

static char *
kind_list(void)
{
    struct ds s = DS_EMPTY_INITIALIZER;

    for (int i = 0; i < K8S_N_KINDS; i++) {
        ds_put_format(&s, "%s%s", i ? ", " : "", k8s_kind_name(i));
    }
    return ds_steal_cstr(&s);
}

static json_t *
parse_json(const char *json, size_t len, char **errorp)
{
    json_error_t error;
    json_t *root = json_loadb(json, len, JSON_ALLOW_NUL, &error);

    if (!root) {
        *errorp = xasprintf("not valid JSON: line %d, column %d: %s",
                            error.line, error.column, error.text);
    } else if (!json_is_object(root)) {
        *errorp = xasprintf("expected a JSON object, got %s",
                            json_type_description(root));
        json_decref(root);
        root = NULL;
    }
    return root;
}

struct k8s_object *
k8s_decode_object(const char *json, size_t len, char **errorp)
{
    struct k8s_object *obj = NULL;
    const json_t *kind_json;
    enum k8s_kind kind;

    json_t *root = parse_json(json, len, errorp);
    if (!root) {
        return NULL;
    }

    kind_json = json_object_get(root, "kind");
    if (!kind_json) {
        *errorp = xstrdup("kind: missing");
    } else if (!json_is_string(kind_json)) {
        *errorp = xasprintf("kind: expected a string, got %s",
                            json_type_description(kind_json));
    } else if (!k8s_kind_from_name(json_string_value(kind_json), &kind)) {
        char *kinds = kind_list();
        *errorp = xasprintf("kind: \"%s\" is not one of %s",
                            json_string_value(kind_json), kinds);
        free(kinds);
    } else {
        obj = decode_item(root, kind, -1, errorp);
    }
    json_decref(root);
    return obj;
}

/* Returns a copy of string member 'key' of 'object' (a JSON object or
 * NULL), or NULL if there is no such string. */
static char *
json_member_strdup(const json_t *object, const char *key)
{
    const json_t *value = json_is_object(object)
                          ? json_object_get(object, key) : NULL;
    return (json_is_string(value) && !json_string_has_nul(value)
            ? xstrdup(json_string_value(value)) : NULL);
}

/* Determines the kind of List item 'item' (number 'index').  Items from the
 * API server's typed lists ("PodList") have no "kind" of their own, so
 * 'list_kind' supplies it.  Returns false, adding a warning if the item is
 * malformed, if the item is not of one of the six kinds. */
static bool
list_item_kind(const json_t *item, size_t index, const char *list_kind,
               struct svec *warnings, enum k8s_kind *kindp)
{
    const json_t *kind = json_object_get(item, "kind");
    const char *name;

    if (!json_is_object(item)) {
        svec_add_nocopy(warnings,
                        xasprintf("item %"PRIuSIZE": expected an object, "
                                  "got %s", index,
                                  json_type_description(item)));
        return false;
    } else if (kind && !json_is_string(kind)) {
        svec_add_nocopy(warnings,
                        xasprintf("item %"PRIuSIZE": kind: expected a "
                                  "string, got %s", index,
                                  json_type_description(kind)));
        return false;
    }

    if (kind) {
        name = json_string_value(kind);
    } else if (list_kind) {
        name = list_kind;
    } else {
        svec_add_nocopy(warnings,
                        xasprintf("item %"PRIuSIZE": kind: missing", index));
        return false;
    }
    if (!k8s_kind_from_name(name, kindp)) {
        /* Not one of the six kinds: perhaps another kind from the same
         * "kubectl get", perhaps a typo ("Networkpolicy"). */
        const json_t *metadata = json_object_get(item, "metadata");
        char *ns = json_member_strdup(metadata, "namespace");
        char *obj_name = json_member_strdup(metadata, "name");
        char *kinds = kind_list();
        svec_add_nocopy(warnings,
                        xasprintf("%s %s%s%s (item %"PRIuSIZE"): kind: "
                                  "kovs reads only %s", name,
                                  ns ? ns : "", ns ? "/" : "",
                                  obj_name ? obj_name : "(unnamed)", index,
                                  kinds));
        free(kinds);
        free(ns);
        free(obj_name);
        return false;
    }
    return true;
}

/* Decoding a List one item at a time.
 *
 * A large List (tens of thousands of objects) parsed whole would hold the
 * tree of every item at once, many times the size of the text.  Instead,
 * jansson parses the List one value at a time (json_loadb() with
 * JSON_DISABLE_EOF_CHECK stops after one value and says how far it read):
 * each member of the List, and each item of its "items" array on its own,
 * decoded and freed before the next one is parsed.  Only the punctuation
 * between those values ('{', ':', ',', '[', ...) is read here.  An item
 * that jansson refuses (a number out of range, nesting too deep, invalid
 * UTF-8) costs that item only: it is skipped to its end by matching its
 * brackets outside strings, and the next item is parsed. */

/* An arena for jansson's values while a List is decoded.
 *
 * Parsing an item makes thousands of small blocks (every object, its hash
 * table, every string and number) that live only until the item is
 * decoded.  The system allocator spends about as long on those as jansson
 * spends parsing, so while a List is decoded jansson allocates from this
 * arena instead (json_set_alloc_funcs()): a bump pointer in a chunk, a free
 * that does nothing, and a reset after each item, when none of its values
 * is alive any more.  The chunk is reused from item to item; a chunk that
 * overflowed is replaced at the next reset by one large enough for the
 * whole item.  Under AddressSanitizer, memory is poisoned until handed out
 * and again at a reset, so a value used after its item is caught as a use
 * after free would be.  Nothing else uses jansson in between (only the
 * threads that decode the List, each with an arena of its own), so no
 * value allocated outside a List's decoding is freed inside it or the
 * other way round. */
struct json_arena_chunk {
    struct json_arena_chunk *next;
    size_t size, used;
    max_align_t data[];
};

#define JSON_ARENA_MIN_CHUNK (256 * 1024)

/* Each thread that decodes has an arena of its own (see "Decoding a large
 * List on two threads" below). */
static __thread struct json_arena_chunk *json_arena;
static __thread size_t json_arena_total;  /* Bytes in all chunks, this
                                           * item. */
static json_malloc_t json_arena_saved_malloc;
static json_free_t json_arena_saved_free;

static struct json_arena_chunk *
json_arena_chunk_new(size_t size, struct json_arena_chunk *next)
{
    struct json_arena_chunk *c = xmalloc(sizeof *c + size);
    c->next = next;
    c->size = size;
    c->used = 0;
    JSON_ARENA_POISON(c->data, size);
    return c;
}

static void *
json_arena_malloc(size_t n)
{
    const size_t align = sizeof(max_align_t);
    n = ROUND_UP(MAX(n, 1), align);
    if (n > json_arena->size - json_arena->used) {
        size_t size = MAX(n, JSON_ARENA_MIN_CHUNK);
        json_arena = json_arena_chunk_new(size, json_arena);
        json_arena_total += size;
    }
    void *p = (char *) json_arena->data + json_arena->used;
    json_arena->used += n;
    JSON_ARENA_UNPOISON(p, n);
    return p;
}

static void
json_arena_free(void *p OVS_UNUSED)
{
}

/* Forgets every value allocated since the last reset. */
static void
json_arena_reset(void)
{
    if (json_arena->next) {
        size_t total = json_arena_total;
        while (json_arena) {
            struct json_arena_chunk *next = json_arena->next;
            free(json_arena);
            json_arena = next;
        }
        json_arena = json_arena_chunk_new(total, NULL);
        json_arena_total = total;
    }
    JSON_ARENA_POISON(json_arena->data, json_arena->used);
    json_arena->used = 0;
}

/* Gives the calling thread its arena. */
static void
json_arena_thread_begin(void)
{
    ovs_assert(!json_arena);
    json_arena = json_arena_chunk_new(JSON_ARENA_MIN_CHUNK, NULL);
    json_arena_total = JSON_ARENA_MIN_CHUNK;
}

/* Frees the calling thread's arena. */
static void
json_arena_thread_end(void)
{
    while (json_arena) {
        struct json_arena_chunk *next = json_arena->next;
        JSON_ARENA_UNPOISON(json_arena->data, json_arena->size);
        free(json_arena);
        json_arena = next;
    }
}

static void
json_arena_begin(void)
{
    json_arena_thread_begin();
    json_get_alloc_funcs(&json_arena_saved_malloc, &json_arena_saved_free);
    json_set_alloc_funcs(json_arena_malloc, json_arena_free);
}

static void
json_arena_end(void)
{
    json_set_alloc_funcs(json_arena_saved_malloc, json_arena_saved_free);
    json_arena_thread_end();
}

/* The flags for parsing every JSON text: strings may hold "\u0000" (the
 * decoder then rejects the one field that does), and a lone value is a
 * document of its own. */
#define K8S_JSON_FLAGS (JSON_DECODE_ANY | JSON_ALLOW_NUL)

static const char *
skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) {
        p++;
    }
    return p;
}

/* Parses the JSON value that starts at 'p' (the text ends at 'end') and
 * stops after it.  Returns the value (the caller owns it) and stores the
 * position after it in '*nextp', or returns NULL and stores jansson's
 * message in '*errorp' (the caller frees it). */
static json_t *
parse_value(const char *p, const char *end, const char **nextp,
            char **errorp)
{
    json_error_t error;
    json_t *json = json_loadb(p, end - p,
                              K8S_JSON_FLAGS | JSON_DISABLE_EOF_CHECK,
                              &error);
    if (json) {
        *nextp = p + error.position;
        *errorp = NULL;
    } else {
        *errorp = xasprintf("not valid JSON: line %d, column %d: %s",
                            error.line, error.column, error.text);
    }
    return json;
}

/* Returns the position after the value at 'p' that jansson refused, found
 * by matching brackets outside strings, or NULL if the text ends first. */
static const char *
skip_refused_value(const char *p, const char *end)
{
    int depth = 0;

    for (; p < end; p++) {
        if (*p == '"') {
            for (p++; p < end && *p != '"'; p++) {
                if (*p == '\\') {
                    p++;
                }
            }
            if (p >= end) {
                return NULL;
            }
            if (!depth) {
                return p + 1;
            }
        } else if (*p == '{' || *p == '[') {
            depth++;
        } else if (*p == '}' || *p == ']') {
            if (!depth) {
                return p;           /* The end of the enclosing value. */
            } else if (!--depth) {
                return p + 1;
            }
        } else if (!depth && strchr(", \t\n\r", *p)) {
            return p;
        }
    }
    return depth ? NULL : p;
}

/* Parses the List item that starts at '*pp' (the text ends at 'end') and
 * moves '*pp' past it.  Stores in '*itemp' the item, or NULL and in
 * '*errorp' jansson's message about it (the caller frees it), a refused
 * item being skipped to its end.  Returns false if the item cannot even be
 * skipped: the text ends first. */
static bool
parse_list_item(const char **pp, const char *end, json_t **itemp,
                char **errorp)
{
    const char *start = *pp;
    *itemp = parse_value(start, end, pp, errorp);
    if (!*itemp) {
        *pp = skip_refused_value(start, end);
        if (!*pp || *pp == start) {
            free(*errorp);
            return false;
        }
    }
    return true;
}

/* One item of a List, parsed: 'json', or 'error' if jansson refused it. */
struct list_item {
    json_t *json;
    char *error;
};

/* A List being decoded. */
struct list_decoder {
    struct k8s_cluster *snapshot;
    struct svec *warnings;
    const char *item_kind;      /* The caller's, or NULL. */
    bool has_kind;              /* The List's "kind" member was read. */
    char *list_kind;            /* "Pod" from "PodList", or NULL. */
    size_t n_items;             /* Items read so far. */

    /* Items that need the List's "kind" (they have none of their own) and
     * come before it, with every item after the first of them so that
     * items are decoded in their order.  Rare: kubectl gives every item a
     * kind, and the API server's lists come with 'item_kind'. */
    struct list_item *deferred;
    size_t n_deferred, allocated_deferred;
};

/* Decodes List item number 'i' (its parsed 'json', which this function
 * frees, or jansson's 'error' about it), whose kind, if it has none of its
 * own, is 'list_kind' (or unknown, if NULL).  Returns the object, or adds
 * a warning to 'warnings' and returns NULL: one bad item, even one that is
 * not valid JSON, never costs the others. */
static struct k8s_object *
decode_list_item_object(const char *list_kind, size_t i, json_t *item,
                        const char *error_, struct svec *warnings)
{
    enum k8s_kind item_kind;
    char *error;

    if (!item) {
        svec_add_nocopy(warnings, xasprintf("item %"PRIuSIZE": %s", i,
                                            error_));
        return NULL;
    }
    if (!list_item_kind(item, i, list_kind, warnings, &item_kind)) {
        json_decref(item);
        return NULL;
    }

    struct k8s_object *obj = decode_item(item, item_kind, i, &error);
    json_decref(item);
    if (!obj) {
        svec_add_nocopy(warnings, error);
    }
    return obj;
}

/* Puts 'obj', from List item 'i', into 'd->snapshot'. */
static void
list_decoder_put(struct list_decoder *d, size_t i, struct k8s_object *obj)
{
    if (k8s_cluster_find(d->snapshot, obj->kind, obj->namespace,
                         obj->name)) {
        svec_add_nocopy(d->warnings,
                        xasprintf("%s %s%s%s: item %"PRIuSIZE" appears "
                                  "more than once; the last one wins",
                                  k8s_kind_name(obj->kind), obj->namespace,
                                  obj->namespace[0] ? "/" : "", obj->name,
                                  i));
    }
    k8s_cluster_put(d->snapshot, obj);
}

/* Decodes List item number 'i' (see decode_list_item_object()) into
 * 'd->snapshot'. */
static void
decode_list_item(struct list_decoder *d, size_t i, json_t *item,
                 const char *error)
{
    struct k8s_object *obj = decode_list_item_object(d->list_kind, i, item,
                                                     error, d->warnings);
    if (obj) {
        list_decoder_put(d, i, obj);
    }
}

/* Decodes the deferred items, in their order. */
static void
list_decoder_flush(struct list_decoder *d)
{
    size_t first = d->n_items - d->n_deferred;
    for (size_t i = 0; i < d->n_deferred; i++) {
        struct list_item *item = &d->deferred[i];
        decode_list_item(d, first + i, item->json, item->error);
        free(item->error);
    }
    d->n_deferred = 0;
}

/* Takes the next item of the List, 'json' or jansson's 'error' about it
 * (this function owns both), and decodes it at once unless it has to wait
 * for the List's "kind". */
static void
list_decoder_add(struct list_decoder *d, json_t *json, char *error)
{
    size_t i = d->n_items++;
    bool needs_list_kind = (json_is_object(json)
                            && !json_object_get(json, "kind"));

    if (d->item_kind || d->has_kind
        || (!d->n_deferred && !needs_list_kind)) {
        decode_list_item(d, i, json, error);
        free(error);
    } else {
        if (d->n_deferred >= d->allocated_deferred) {
            d->deferred = x2nrealloc(d->deferred, &d->allocated_deferred,
                                     sizeof *d->deferred);
        }
        d->deferred[d->n_deferred++] = (struct list_item) { json, error };
    }
}

/* The List's own "kind" member, 'kind': "PodList" gives its items without
 * a kind the kind "Pod" (unless the caller said what they are). */
static void
list_decoder_set_kind(struct list_decoder *d, const json_t *kind)
{
    if (d->has_kind) {
        return;                 /* The first one counts. */
    }
    d->has_kind = true;
    if (!d->item_kind && json_is_string(kind)) {
        const char *k = json_string_value(kind);
        size_t n = strlen(k);
        if (n > 4 && !strcmp(k + n - 4, "List")) {
            d->list_kind = xmemdup0(k, n - 4);
        }
    }
    list_decoder_flush(d);
}

static void
list_decoder_destroy(struct list_decoder *d)
{
    for (size_t i = 0; i < d->n_deferred; i++) {
        json_decref(d->deferred[i].json);
        free(d->deferred[i].error);
    }
    free(d->deferred);
    free(d->list_kind);
}

/* Decoding a large List on two threads.
 *
 * jansson's parser is most of a cold start's decoding (the large
 * benchmark's 56 MB of objects take more than a second), and meanwhile
 * nothing else can happen.  A List of at least LIST_HALF_MIN_BYTES of
 * items is split at an item boundary near the middle of its items (found
 * by matching brackets outside strings, which takes a small part of
 * parsing), and a thread decodes the second half while the caller's
 * thread decodes the first: each with an arena of its own (jansson's
 * allocation functions, global, are the arena's while the List is
 * decoded, and nothing else uses jansson then).  The second half's objects
 * and warnings are then taken in their order, exactly as one thread would
 * have: the same objects, the same warnings, the last of two items with
 * the same name winning.  If the second half has an item without a kind
 * while the List's kind is not known yet, or the first half ends with
 * items waiting for it, the second half's work is dropped and it is
 * decoded again after the first. */
#define LIST_HALF_MIN_BYTES (8 * 1024 * 1024)

struct list_half_item {
    struct k8s_object *obj;         /* Or NULL. */
    size_t n_warnings;              /* Warnings up to and with this item. */
};

struct list_half {
    pthread_t thread;

    /* Input. */
    const char *start, *end;        /* From its first item to the end. */
    size_t first_index;             /* The number of its first item. */
    const char *list_kind;          /* As known when it starts, or NULL. */

    /* Output. */
    struct list_half_item *items;
    size_t n_items, allocated_items;
    struct svec warnings;
    const char *next;               /* After the List's ']', or NULL if the
                                     * text is not an array. */
    bool needs_list_kind;           /* Gave up: see above. */
};

static void *
list_half_main(void *half_)
{
    struct list_half *half = half_;
    const char *p = half->start, *end = half->end;

    json_arena_thread_begin();
    half->next = NULL;
    for (;;) {
        json_t *item;
        char *error;
        if (!parse_list_item(&p, end, &item, &error)) {
            break;
        } else if (item && !half->list_kind && json_is_object(item)
                   && !json_object_get(item, "kind")) {
            json_decref(item);
            half->needs_list_kind = true;
            break;
        }
        size_t i = half->first_index + half->n_items;
        struct k8s_object *obj = decode_list_item_object(
            half->list_kind, i, item, error, &half->warnings);
        free(error);
        json_arena_reset();
        if (half->n_items >= half->allocated_items) {
            half->items = x2nrealloc(half->items, &half->allocated_items,
                                     sizeof *half->items);
        }
        half->items[half->n_items++] = (struct list_half_item) {
            .obj = obj,
            .n_warnings = half->warnings.n,
        };

        p = skip_ws(p, end);
        if (p < end && *p == ',') {
            p = skip_ws(p + 1, end);
        } else {
            if (p < end && *p == ']') {
                half->next = p + 1;
            }
            break;
        }
    }
    json_arena_thread_end();
    return NULL;
}

/* Returns the start of the first item of the array whose first item starts
 * at 'p' that begins after its middle (the array ends by 'end'), storing
 * in '*n_before' the number of items before it, or NULL if there is none
 * or the text does not look like an array. */
static const char *
list_find_half(const char *p, const char *end, size_t *n_before)
{
    const char *middle = p + (end - p) / 2;
    size_t n = 0;

    while (p < middle) {
        const char *q = skip_refused_value(p, end);
        if (!q || q == p) {
            return NULL;
        }
        n++;
        q = skip_ws(q, end);
        if (q >= end || *q != ',') {
            return NULL;
        }
        p = skip_ws(q + 1, end);
    }
    *n_before = n;
    return p;
}

static void
list_half_destroy(struct list_half *half)
{
    for (size_t i = 0; i < half->n_items; i++) {
        if (half->items[i].obj) {
            k8s_object_destroy(half->items[i].obj);
        }
    }
    free(half->items);
    svec_destroy(&half->warnings);
}

static unsigned int n_lists_halved;

unsigned int
k8s_decode_n_lists_halved(void)
{
    return n_lists_halved;
}

/* Takes the objects and warnings of 'half', in their order. */
static void
list_decoder_take_half(struct list_decoder *d, struct list_half *half)
{
    size_t w = 0;
    for (size_t i = 0; i < half->n_items; i++) {
        struct list_half_item *item = &half->items[i];
        for (; w < item->n_warnings; w++) {
            svec_add_nocopy(d->warnings, half->warnings.names[w]);
            half->warnings.names[w] = NULL;
        }
        if (item->obj) {
            list_decoder_put(d, d->n_items, item->obj);
            item->obj = NULL;
        }
        d->n_items++;
    }
}

/* Decodes the items of the array that starts after its '[' at 'p'.
 * Returns the position after its ']', or NULL if the text is not an
 * array. */
static const char *
list_decode_items(struct list_decoder *d, const char *p, const char *end)
{
    p = skip_ws(p, end);
    if (p < end && *p == ']') {
        return p + 1;
    }

    struct list_half half;
    memset(&half, 0, sizeof half);
    size_t n_before = SIZE_MAX;     /* Items before the half, if any. */
    if (end - p >= LIST_HALF_MIN_BYTES && !d->n_deferred) {
        const char *half_start = list_find_half(p, end, &n_before);
        if (half_start) {
            half.start = half_start;
            half.end = end;
            half.first_index = d->n_items + n_before;
            half.list_kind = d->list_kind;
            svec_init(&half.warnings);
            /* (jansson is thread-safe, its lazy seeding of hash tables
             * too where the compiler has atomic builtins, as Debian's
             * does.) */
            half.thread = ovs_thread_create("k8s-decode", list_half_main,
                                            &half);
        } else {
            n_before = SIZE_MAX;
        }
    }

    for (size_t k = 0; ; k++) {
        if (k == n_before) {
            /* The first half is done: 'p' is where the second begins. */
            xpthread_join(half.thread, NULL);
            n_before = SIZE_MAX;
            bool usable = (p == half.start && !half.needs_list_kind
                           && !d->n_deferred);
            if (usable) {
                list_decoder_take_half(d, &half);
                n_lists_halved++;
            }
            list_half_destroy(&half);
            if (usable) {
                return half.next;
            }
            /* Otherwise the second half again, here. */
        }

        json_t *item;
        char *error;
        if (!parse_list_item(&p, end, &item, &error)) {
            return NULL;
        }
        list_decoder_add(d, item, error);
        if (!d->n_deferred) {
            json_arena_reset();  /* The item's values are gone. */
        }

        p = skip_ws(p, end);
        if (p < end && *p == ',') {
            p = skip_ws(p + 1, end);
        } else {
            if (n_before != SIZE_MAX) {
                /* Cannot happen: the half starts after an item and a
                 * comma that this loop has not reached. */
                xpthread_join(half.thread, NULL);
                list_half_destroy(&half);
            }
            return p < end && *p == ']' ? p + 1 : NULL;
        }
    }
}

/* Decodes the List 'json' of 'len' bytes with 'd', storing its metadata in
 * 'meta' if nonnull.  Returns false if the text is not a JSON object with
 * an "items" array (some items may have been decoded by then). */
static bool
list_decode(struct list_decoder *d, const char *json, size_t len,
            struct k8s_list_meta *meta)
{
    const char *end = json + len;
    const char *p = skip_ws(json, end);
    bool has_items = false;

    if (p >= end || *p != '{') {
        return false;
    }
    p = skip_ws(p + 1, end);
    for (;;) {
        char *error;
        json_t *key = parse_value(p, end, &p, &error);
        if (!json_is_string(key)) {
            json_decref(key);
            free(error);
            return false;
        }
        bool is_items = !strcmp(json_string_value(key), "items");
        bool is_kind = !strcmp(json_string_value(key), "kind");
        bool is_metadata = !strcmp(json_string_value(key), "metadata");
        json_decref(key);

        p = skip_ws(p, end);
        if (p >= end || *p != ':') {
            return false;
        }
        p = skip_ws(p + 1, end);

        if (is_items && !has_items && p < end && *p == '[') {
            has_items = true;
            p = list_decode_items(d, p + 1, end);
            if (!p) {
                return false;
            }
        } else {
            const char *start = p;
            json_t *value = parse_value(start, end, &p, &error);
            if (!value) {
                /* A member that is not valid JSON counts as absent. */
                free(error);
                p = skip_refused_value(start, end);
                if (!p || p == start) {
                    return false;
                }
            } else if (is_kind) {
                list_decoder_set_kind(d, value);
            } else if (is_metadata && meta) {
                k8s_list_meta_destroy(meta);
                meta->resource_version = json_member_strdup(
                    value, "resourceVersion");
                meta->continue_token = json_member_strdup(value, "continue");
            }
            json_decref(value);
        }

        p = skip_ws(p, end);
        if (p < end && *p == ',') {
            p = skip_ws(p + 1, end);
        } else if (p < end && *p == '}') {
            p = skip_ws(p + 1, end);
            break;
        } else {
            return false;
        }
    }
    return p == end && has_items;
}

void
k8s_list_meta_destroy(struct k8s_list_meta *meta)
{
    if (meta) {
        free(meta->resource_version);
        free(meta->continue_token);
    }
}

int
k8s_decode_list_page(const char *json, size_t len, const char *item_kind,
                     struct k8s_cluster *snapshot, struct svec *warnings,
                     struct k8s_list_meta *meta, char **errorp)
{
    struct svec dropped = SVEC_EMPTY_INITIALIZER;

    *errorp = NULL;
    if (meta) {
        memset(meta, 0, sizeof *meta);
    }

    struct list_decoder d = {
        .snapshot = snapshot,
        .warnings = warnings ? warnings : &dropped,
        .item_kind = item_kind,
        .list_kind = item_kind ? xstrdup(item_kind) : NULL,
    };
    json_arena_begin();
    bool ok = list_decode(&d, json, len, meta);
    if (ok) {
        /* Items that waited for a "kind" that never came. */
        list_decoder_flush(&d);
    }
    list_decoder_destroy(&d);
    json_arena_end();
    svec_destroy(&dropped);
    if (ok) {
        return 0;
    }

    /* Not a JSON object with an "items" array: the whole-document parser
     * says precisely what is wrong. */
    if (meta) {
        k8s_list_meta_destroy(meta);
        memset(meta, 0, sizeof *meta);
    }
    json_error_t error;
    json_t *root = json_loadb(json, len, K8S_JSON_FLAGS, &error);
    if (!root) {
        *errorp = xasprintf("not valid JSON: line %d, column %d: %s",
                            error.line, error.column, error.text);
    } else {
        const json_t *kind = json_is_object(root)
                             ? json_object_get(root, "kind") : NULL;
        *errorp = (!json_is_object(root)
                   ? xasprintf("expected a JSON object, got %s",
                               json_type_description(root))
                   : json_is_string(kind)
                   ? xasprintf("document of kind \"%s\" has no "
                               "\"items\" array (expected a List)",
                               json_string_value(kind))
                   : xstrdup("document has no \"items\" array "
                             "(expected a List)"));
        json_decref(root);
    }
    return EINVAL;
}

int
k8s_decode_list(const char *json, size_t len, struct k8s_cluster *snapshot,
                struct svec *warnings, char **errorp)
{
    return k8s_decode_list_page(json, len, NULL, snapshot, warnings, NULL,
                                errorp);
}
