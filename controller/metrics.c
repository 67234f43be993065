/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#include <config.h>

#include "controller/metrics.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "openvswitch/dynamic-string.h"
#include "util.h"

/* One sample of a family: its labels, already formatted as the text format
 * writes them between braces ("" for none), and its value or histogram. */
struct metrics_sample {
    char *labels;
    double value;
    struct metrics_histogram h;     /* For a histogram family. */
};

struct metrics_family {
    char *name;
    enum metrics_type type;
    const char *help;
    struct shash by_labels;         /* "struct metrics_sample"s by labels. */
    struct metrics_sample **samples;    /* The same, in order of addition. */
    size_t n, allocated;
};

void
metrics_histogram_init(struct metrics_histogram *h, const double *bounds,
                       size_t n)
{
    for (size_t i = 1; i < n; i++) {
        ovs_assert(bounds[i - 1] < bounds[i]);
    }
    h->bounds = bounds;
    h->n_bounds = n;
    h->counts = xcalloc(n + 1, sizeof *h->counts);
    h->count = 0;
    h->sum = 0;
}

void
metrics_histogram_destroy(struct metrics_histogram *h)
{
    if (h) {
        free(h->counts);
        h->counts = NULL;
    }
}

void
metrics_histogram_observe(struct metrics_histogram *h, double value)
{
    size_t i = 0;
    while (i < h->n_bounds && value > h->bounds[i]) {
        i++;
    }
    h->counts[i]++;
    h->count++;
    h->sum += value;
}

void
metrics_init(struct metrics *m)
{
    shash_init(&m->families);
    m->order = NULL;
    m->n = m->allocated = 0;
}

static void
metrics_family_destroy(struct metrics_family *f)
{
    for (size_t i = 0; i < f->n; i++) {
        struct metrics_sample *s = f->samples[i];
        free(s->labels);
        metrics_histogram_destroy(&s->h);
        free(s);
    }
    free(f->samples);
    shash_destroy(&f->by_labels);
    free(f->name);
    free(f);
}

void
metrics_destroy(struct metrics *m)
{
    if (m) {
        for (size_t i = 0; i < m->n; i++) {
            metrics_family_destroy(m->order[i]);
        }
        free(m->order);
        shash_destroy(&m->families);
    }
}

/* Returns true if 's' is a valid metric name ('colons' true) or label name
 * (false). */
static bool
metrics_name_is_valid(const char *s, bool colons)
{
    if (!s[0] || (s[0] >= '0' && s[0] <= '9')) {
        return false;
    }
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '_'
              || (colons && c == ':'))) {
            return false;
        }
    }
    return true;
}

struct metrics_family *
metrics_family(struct metrics *m, const char *name, enum metrics_type type,
               const char *help)
{
    struct metrics_family *f = shash_find_data(&m->families, name);
    if (f) {
        ovs_assert(f->type == type);
        return f;
    }

    ovs_assert(metrics_name_is_valid(name, true));
    f = xzalloc(sizeof *f);
    f->name = xstrdup(name);
    f->type = type;
    f->help = help;
    shash_init(&f->by_labels);
    shash_add(&m->families, name, f);
    if (m->n >= m->allocated) {
        m->order = x2nrealloc(m->order, &m->allocated, sizeof *m->order);
    }
    m->order[m->n++] = f;
    return f;
}

/* Appends 's' to 'ds' escaped as a label value. */
static void
metrics_escape_label_value(const char *s, struct ds *ds)
{
    for (; *s; s++) {
        switch (*s) {
        case '\\':
            ds_put_cstr(ds, "\\\\");
            break;
        case '"':
            ds_put_cstr(ds, "\\\"");
            break;
        case '\n':
            ds_put_cstr(ds, "\\n");
            break;
        default:
            ds_put_char(ds, *s);
            break;
        }
    }
}

/* Returns the label pairs in 'args' formatted as 'name="value",...', in
 * memory the caller frees. */
static char *
metrics_format_labels(va_list args)
{
    struct ds ds = DS_EMPTY_INITIALIZER;
    const char *name;

    while ((name = va_arg(args, const char *)) != NULL) {
        const char *value = va_arg(args, const char *);
        ovs_assert(metrics_name_is_valid(name, false));
        ovs_assert(strcmp(name, "le"));
        ds_put_format(&ds, "%s%s=\"", ds.length ? "," : "", name);
        metrics_escape_label_value(value ? value : "", &ds);
        ds_put_char(&ds, '"');
    }
    return ds_steal_cstr(&ds);
}

/* Returns the sample of 'f' with 'labels', which it takes, creating it with
 * a zero value if there is none. */
static struct metrics_sample *
metrics_sample(struct metrics_family *f, char *labels, bool *is_new)
{
    struct metrics_sample *s = shash_find_data(&f->by_labels, labels);
    if (s) {
        free(labels);
        *is_new = false;
        return s;
    }

    s = xzalloc(sizeof *s);
    s->labels = labels;
    shash_add(&f->by_labels, labels, s);
    if (f->n >= f->allocated) {
        f->samples = x2nrealloc(f->samples, &f->allocated,
                                sizeof *f->samples);
    }
    f->samples[f->n++] = s;
    *is_new = true;
    return s;
}

void
metrics_add(struct metrics_family *f, double value, ...)
{
    va_list args;
    bool is_new;

    ovs_assert(f->type != METRICS_HISTOGRAM);
    va_start(args, value);
    struct metrics_sample *s = metrics_sample(f, metrics_format_labels(args),
                                              &is_new);
    va_end(args);
    s->value += value;
}

void
metrics_add_histogram(struct metrics_family *f,
                      const struct metrics_histogram *h, ...)
{
    va_list args;
    bool is_new;

    ovs_assert(f->type == METRICS_HISTOGRAM);
    va_start(args, h);
    struct metrics_sample *s = metrics_sample(f, metrics_format_labels(args),
                                              &is_new);
    va_end(args);
    ovs_assert(is_new);
    s->h = *h;
    s->h.counts = xmemdup(h->counts, (h->n_bounds + 1) * sizeof *h->counts);
}

void
metrics_format_value(double value, struct ds *ds)
{
    if (isnan(value)) {
        ds_put_cstr(ds, "NaN");
    } else if (isinf(value)) {
        ds_put_cstr(ds, value > 0 ? "+Inf" : "-Inf");
    } else if (value == floor(value) && fabs(value) < 1e15) {
        ds_put_format(ds, "%.0f", value);
    } else {
        /* The shortest of %.15g, %.16g, %.17g that reads back exactly. */
        for (int precision = 15; ; precision++) {
            char buf[64];
            snprintf(buf, sizeof buf, "%.*g", precision, value);
            if (precision == 17 || strtod(buf, NULL) == value) {
                ds_put_cstr(ds, buf);
                break;
            }
        }
    }
}

/* Appends 'help' to 'ds' escaped as a HELP line's text. */
static void
metrics_escape_help(const char *help, struct ds *ds)
{
    for (const char *p = help; *p; p++) {
        if (*p == '\\') {
            ds_put_cstr(ds, "\\\\");
        } else if (*p == '\n') {
            ds_put_cstr(ds, "\\n");
        } else {
            ds_put_char(ds, *p);
        }
    }
}

/* Appends one sample line: 'name''suffix'{'labels'[,'extra']} 'value'. */
static void
metrics_put_line(struct ds *ds, const char *name, const char *suffix,
                 const char *labels, const char *extra, double value)
{
    ds_put_format(ds, "%s%s", name, suffix);
    if (labels[0] || extra) {
        ds_put_format(ds, "{%s%s%s}", labels,
                      labels[0] && extra ? "," : "", extra ? extra : "");
    }
    ds_put_char(ds, ' ');
    metrics_format_value(value, ds);
    ds_put_char(ds, '\n');
}

static void
metrics_format_histogram(const struct metrics_family *f,
                         const struct metrics_sample *s, struct ds *ds)
{
    const struct metrics_histogram *h = &s->h;
    struct ds le = DS_EMPTY_INITIALIZER;
    uint64_t cumulative = 0;

    for (size_t i = 0; i <= h->n_bounds; i++) {
        cumulative += h->counts[i];
        ds_clear(&le);
        ds_put_cstr(&le, "le=\"");
        metrics_format_value(i < h->n_bounds ? h->bounds[i] : INFINITY, &le);
        ds_put_char(&le, '"');
        metrics_put_line(ds, f->name, "_bucket", s->labels, ds_cstr(&le),
                         cumulative);
    }
    ds_destroy(&le);
    metrics_put_line(ds, f->name, "_sum", s->labels, NULL, h->sum);
    metrics_put_line(ds, f->name, "_count", s->labels, NULL, h->count);
}

void
metrics_format(const struct metrics *m, struct ds *ds)
{
    static const char *const type_names[] = {
        [METRICS_COUNTER] = "counter",
        [METRICS_GAUGE] = "gauge",
        [METRICS_HISTOGRAM] = "histogram",
    };

    for (size_t i = 0; i < m->n; i++) {
        const struct metrics_family *f = m->order[i];
        if (!f->n) {
            continue;
        }

        ds_put_format(ds, "# HELP %s ", f->name);
        metrics_escape_help(f->help, ds);
        ds_put_format(ds, "\n# TYPE %s %s\n", f->name, type_names[f->type]);
        for (size_t j = 0; j < f->n; j++) {
            const struct metrics_sample *s = f->samples[j];
            if (f->type == METRICS_HISTOGRAM) {
                metrics_format_histogram(f, s, ds);
            } else {
                metrics_put_line(ds, f->name, "", s->labels, NULL,
                                 s->value);
            }
        }
    }
}
