/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#ifndef TESTS_UNIT_TEST_H
#define TESTS_UNIT_TEST_H 1

/* What every unit-test program of kovs shares: checks that say what they
 * expected and what they saw, and a main() that runs one named test
 * ('PROGRAM NAME') or lists them ('PROGRAM --list').  Include it once, in
 * the program's only source file. */

#include <stdio.h>
#include <string.h>
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

struct unit_test {
    const char *name;
    void (*function)(void);
};

/* Runs the test named by argv[1], or lists them all for "--list".  Returns
 * the exit status: 0 if it passed, 1 if a check failed, 2 for bad usage. */
static inline int
unit_test_main(int argc, char *argv[], const struct unit_test *tests,
               size_t n_tests)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s NAME|--list\n", argv[0]);
        return 2;
    }
    for (size_t i = 0; i < n_tests; i++) {
        if (!strcmp(argv[1], "--list")) {
            puts(tests[i].name);
        } else if (!strcmp(argv[1], tests[i].name)) {
            tests[i].function();
            return n_failures ? 1 : 0;
        }
    }
    if (strcmp(argv[1], "--list")) {
        fprintf(stderr, "%s: unknown test\n", argv[1]);
        return 2;
    }
    return 0;
}

#endif /* tests/unit-test.h */
