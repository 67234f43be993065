/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0.
 *
 * Unit tests of controller/metrics (the Prometheus text exposition
 * encoder) and of the metrics address parser of controller/http-server.
 * 'test-metrics NAME' runs one test; 'test-metrics --list' lists them. */

#include <config.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "controller/http-server.h"
#include "controller/metrics.h"
#include "openvswitch/dynamic-string.h"
#include "util.h"
#include "tests/unit-test.h"

/* Checks that 'm' formats as 'expected', showing both if not. */
static void
check_format(const struct metrics *m, const char *expected)
{
    struct ds ds = DS_EMPTY_INITIALIZER;
    metrics_format(m, &ds);
    CHECK(!strcmp(ds_cstr(&ds), expected),
          "expected:\n%s\nbut got:\n%s", expected, ds_cstr(&ds));
    ds_destroy(&ds);
}

static void
test_counter_and_gauge(void)
{
    struct metrics m;
    metrics_init(&m);
    struct metrics_family *objects = metrics_family(
        &m, "kovs_objects", METRICS_GAUGE, "Objects by kind.");
    struct metrics_family *bundles = metrics_family(
        &m, "kovs_bundles_total", METRICS_COUNTER, "Bundles sent.");
    metrics_add(objects, 3, "kind", "Pod", NULL);
    metrics_add(objects, 0, "kind", "Service", NULL);
    metrics_add(bundles, 12, NULL);
    /* The same labels again add to the sample. */
    metrics_add(objects, 2, "kind", "Pod", NULL);
    /* The same family again is the same family. */
    CHECK(metrics_family(&m, "kovs_objects", METRICS_GAUGE, "x") == objects,
          "a second metrics_family() call made a new family");
    /* A family with no sample is left out. */
    metrics_family(&m, "kovs_empty", METRICS_GAUGE, "Nothing.");

    check_format(&m,
                 "# HELP kovs_objects Objects by kind.\n"
                 "# TYPE kovs_objects gauge\n"
                 "kovs_objects{kind=\"Pod\"} 5\n"
                 "kovs_objects{kind=\"Service\"} 0\n"
                 "# HELP kovs_bundles_total Bundles sent.\n"
                 "# TYPE kovs_bundles_total counter\n"
                 "kovs_bundles_total 12\n");
    metrics_destroy(&m);
}

static void
test_label_escaping(void)
{
    struct metrics m;
    metrics_init(&m);
    struct metrics_family *f = metrics_family(
        &m, "kovs_test", METRICS_GAUGE, "Help with a \\ and a\nline feed.");
    metrics_add(f, 1, "a", "back\\slash", "b", "double \"quote\"",
                "c", "line\nfeed", "d", "", NULL);
    metrics_add(f, 2, "a", "unicode \xc3\xa9t\xc3\xa9 {x=1}", NULL);

    check_format(&m,
                 "# HELP kovs_test Help with a \\\\ and a\\nline feed.\n"
                 "# TYPE kovs_test gauge\n"
                 "kovs_test{a=\"back\\\\slash\",b=\"double \\\"quote\\\"\","
                 "c=\"line\\nfeed\",d=\"\"} 1\n"
                 "kovs_test{a=\"unicode \xc3\xa9t\xc3\xa9 {x=1}\"} 2\n");
    metrics_destroy(&m);
}

static void
test_histogram_buckets(void)
{
    static const double bounds[] = { 0.001, 0.25, 1, 60 };
    struct metrics_histogram h;
    metrics_histogram_init(&h, bounds, ARRAY_SIZE(bounds));
    metrics_histogram_observe(&h, 0.0005);
    metrics_histogram_observe(&h, 0.25);    /* On a bound: in it. */
    metrics_histogram_observe(&h, 0.5);
    metrics_histogram_observe(&h, 0.75);
    metrics_histogram_observe(&h, 3600);    /* Only in +Inf. */

    struct metrics m;
    metrics_init(&m);
    struct metrics_family *f = metrics_family(
        &m, "kubeproxy_sync_proxy_rules_duration_seconds",
        METRICS_HISTOGRAM, "Sync duration.");
    metrics_add_histogram(f, &h, NULL);
    struct metrics_family *g = metrics_family(
        &m, "kovs_latency_seconds", METRICS_HISTOGRAM, "Labelled.");
    struct metrics_histogram empty;
    metrics_histogram_init(&empty, bounds, 1);
    metrics_add_histogram(g, &empty, "bridge", "br-int", NULL);

    /* The copy in 'm' does not move with 'h'. */
    metrics_histogram_observe(&h, 1);

    check_format(&m,
                 "# HELP kubeproxy_sync_proxy_rules_duration_seconds "
                 "Sync duration.\n"
                 "# TYPE kubeproxy_sync_proxy_rules_duration_seconds "
                 "histogram\n"
                 "kubeproxy_sync_proxy_rules_duration_seconds_bucket"
                 "{le=\"0.001\"} 1\n"
                 "kubeproxy_sync_proxy_rules_duration_seconds_bucket"
                 "{le=\"0.25\"} 2\n"
                 "kubeproxy_sync_proxy_rules_duration_seconds_bucket"
                 "{le=\"1\"} 4\n"
                 "kubeproxy_sync_proxy_rules_duration_seconds_bucket"
                 "{le=\"60\"} 4\n"
                 "kubeproxy_sync_proxy_rules_duration_seconds_bucket"
                 "{le=\"+Inf\"} 5\n"
                 "kubeproxy_sync_proxy_rules_duration_seconds_sum "
                 "3601.5005\n"
                 "kubeproxy_sync_proxy_rules_duration_seconds_count 5\n"
                 "# HELP kovs_latency_seconds Labelled.\n"
                 "# TYPE kovs_latency_seconds histogram\n"
                 "kovs_latency_seconds_bucket{bridge=\"br-int\",le=\"0.001\"}"
                 " 0\n"
                 "kovs_latency_seconds_bucket{bridge=\"br-int\",le=\"+Inf\"}"
                 " 0\n"
                 "kovs_latency_seconds_sum{bridge=\"br-int\"} 0\n"
                 "kovs_latency_seconds_count{bridge=\"br-int\"} 0\n");
    metrics_destroy(&m);
    metrics_histogram_destroy(&h);
    metrics_histogram_destroy(&empty);
}

static void
test_values(void)
{
    static const struct {
        double value;
        const char *text;
    } cases[] = {
        { 0, "0" },
        { 42, "42" },
        { -7, "-7" },
        { 18446744073709551615.0, "1.8446744073709552e+19" },
        { 0.1, "0.1" },
        { 1.5e-9, "1.5e-09" },
        { 1.0 / 3, "0.3333333333333333" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct ds ds = DS_EMPTY_INITIALIZER;
        metrics_format_value(cases[i].value, &ds);
        CHECK(!strcmp(ds_cstr(&ds), cases[i].text),
              "%.17g: expected %s, got %s", cases[i].value, cases[i].text,
              ds_cstr(&ds));
        CHECK(strtod(ds_cstr(&ds), NULL) == cases[i].value,
              "%s does not read back as %.17g", ds_cstr(&ds),
              cases[i].value);
        ds_destroy(&ds);
    }

    struct ds ds = DS_EMPTY_INITIALIZER;
    metrics_format_value(INFINITY, &ds);
    ds_put_char(&ds, ' ');
    metrics_format_value(-INFINITY, &ds);
    ds_put_char(&ds, ' ');
    metrics_format_value(NAN, &ds);
    CHECK(!strcmp(ds_cstr(&ds), "+Inf -Inf NaN"), "got %s", ds_cstr(&ds));
    ds_destroy(&ds);
}

static void
test_address(void)
{
    static const struct {
        const char *address;
        const char *target;         /* NULL: an error. */
    } cases[] = {
        { "127.0.0.1:10266", "ptcp:10266:127.0.0.1" },
        { "0.0.0.0:9100", "ptcp:9100:0.0.0.0" },
        { "[::1]:10266", "ptcp:10266:[::1]" },
        { "127.0.0.1", NULL },
        { "127.0.0.1:0", NULL },
        { "127.0.0.1:65536", NULL },
        { ":10266", NULL },
        { "localhost:10266", NULL },
        { "::1:10266", NULL },
        { "[::1]:x", NULL },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char *error;
        char *target = http_server_parse_address(cases[i].address, &error);
        if (cases[i].target) {
            CHECK(target && !strcmp(target, cases[i].target),
                  "%s: expected %s, got %s (%s)", cases[i].address,
                  cases[i].target, target ? target : "an error",
                  error ? error : "");
        } else {
            CHECK(!target && error, "%s: expected an error, got %s",
                  cases[i].address, target ? target : "(null)");
        }
        free(target);
        free(error);
    }
}

static const struct unit_test tests[] = {
    { "counter-and-gauge", test_counter_and_gauge },
    { "label-escaping", test_label_escaping },
    { "histogram-buckets", test_histogram_buckets },
    { "values", test_values },
    { "address", test_address },
};

int
main(int argc, char *argv[])
{
    set_program_name(argv[0]);
    return unit_test_main(argc, argv, tests, ARRAY_SIZE(tests));
}
