/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#ifndef CONTROLLER_METRICS_H
#define CONTROLLER_METRICS_H 1

/* Prometheus metrics in the text exposition format, version 0.0.4.
 *
 * A "struct metrics" is one scrape's worth of metrics: families (a name, a
 * type and a help text), each with its samples, one per set of label
 * values.  The caller fills one in from whatever it counts, formats it with
 * metrics_format() and destroys it; nothing here does I/O or keeps state
 * between scrapes, except the histograms, which the caller keeps and
 * observes into as things happen:
 *
 *     struct metrics m;
 *     metrics_init(&m);
 *     struct metrics_family *f = metrics_family(
 *         &m, "kovs_objects", METRICS_GAUGE, "Objects in the model.");
 *     metrics_add(f, 12, "kind", "Pod", NULL);
 *     metrics_format(&m, &ds);
 *     metrics_destroy(&m);
 *
 * prints
 *
 *     # HELP kovs_objects Objects in the model.
 *     # TYPE kovs_objects gauge
 *     kovs_objects{kind="Pod"} 12
 *
 * Label values are escaped as the format asks (backslash, double quote and
 * line feed); names are the caller's constants and are checked with
 * ovs_assert(). */

#include <stddef.h>
#include <stdint.h>
#include "openvswitch/shash.h"

struct ds;

#ifdef __GNUC__
#define METRICS_SENTINEL __attribute__((__sentinel__))
#else
#define METRICS_SENTINEL
#endif

enum metrics_type {
    METRICS_COUNTER,
    METRICS_GAUGE,
    METRICS_HISTOGRAM,
};

/* A histogram with fixed bucket upper bounds (an implicit "+Inf" bucket
 * follows the last). */
struct metrics_histogram {
    const double *bounds;           /* Increasing; not owned. */
    size_t n_bounds;
    uint64_t *counts;               /* Per bucket, not cumulative; one more
                                     * than 'n_bounds'. */
    uint64_t count;
    double sum;
};

/* Initializes 'h' with the 'n' increasing upper bounds in 'bounds', which
 * must outlive 'h'. */
void metrics_histogram_init(struct metrics_histogram *h,
                            const double *bounds, size_t n);
void metrics_histogram_destroy(struct metrics_histogram *h);
void metrics_histogram_observe(struct metrics_histogram *h, double value);

/* One scrape's metrics. */
struct metrics {
    struct shash families;          /* "struct metrics_family"s by name. */
    struct metrics_family **order;  /* The same, in order of creation. */
    size_t n, allocated;
};

struct metrics_family;

void metrics_init(struct metrics *);
void metrics_destroy(struct metrics *);

/* Returns the family 'name' of 'm', creating it with 'type' and 'help' (a
 * constant string) if it does not exist yet. */
struct metrics_family *metrics_family(struct metrics *m, const char *name,
                                      enum metrics_type type,
                                      const char *help);

/* Adds a sample of 'value' to counter or gauge family 'f', with the labels
 * that follow as name and value pairs (copied), ended by a NULL name.  A
 * second sample with the same labels adds to the first. */
void metrics_add(struct metrics_family *f, double value, ...)
    METRICS_SENTINEL;

/* Adds a copy of histogram 'h' to histogram family 'f', with the labels
 * that follow as in metrics_add(). */
void metrics_add_histogram(struct metrics_family *f,
                           const struct metrics_histogram *h, ...)
    METRICS_SENTINEL;

/* Appends 'm' to 'ds' in the text exposition format: each family, in the
 * order of creation, with its HELP and TYPE lines and its samples in the
 * order they were added.  A family without samples is left out. */
void metrics_format(const struct metrics *m, struct ds *ds);

/* Appends 'value' to 'ds' as the format writes sample values: an integer
 * without a decimal point, "+Inf", "-Inf", "NaN", or the shortest decimal
 * that reads back as 'value'. */
void metrics_format_value(double value, struct ds *ds);

/* The content type of metrics_format()'s output. */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif /* controller/metrics.h */
