/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#ifndef TESTS_UNIT_TEST_H
#define TESTS_UNIT_TEST_H 1

/* Checks that say what they expected and what they saw, and go on after a
 * failure, counting it; and the main() of a program that uses them
 * (tests/unit-test-main.h).  Include it once, in the program's only source
 * file. */

#include <stdio.h>
#include <string.h>
#include "tests/unit-test-main.h"
#include "util.h"

static int n_failures;

/* Checks COND; if it does not hold, prints where and the message (printf
 * arguments) and counts a failure.  The test goes on. */
#define CHECK(COND, ...)                                        \
    do {                                                        \
        if (!(COND)) {                                          \
            fprintf(stderr, "%s:%d: check failed: %s\n  ",      \
                    __FILE__, __LINE__, #COND);                 \
            fprintf(stderr, __VA_ARGS__);                       \
            fputc('\n', stderr);                                \
            n_failures++;                                       \
        }                                                       \
    } while (0)

/* See unit_test_run(). */
static inline int
unit_test_main(int argc, char *argv[], const struct unit_test *tests,
               size_t n_tests)
{
    return unit_test_run(argc, argv, tests, n_tests, &n_failures);
}

#endif /* tests/unit-test.h */
