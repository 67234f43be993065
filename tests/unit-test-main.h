/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#ifndef TESTS_UNIT_TEST_MAIN_H
#define TESTS_UNIT_TEST_MAIN_H 1

/* The main() of every unit-test program of kovs: runs one named test
 * ('PROGRAM NAME') or lists them ('PROGRAM --list').  The checks come from
 * tests/unit-test.h (which go on after a failure and count it) or
 * tests/fatal-check.h (which stop at the first one); each defines
 * unit_test_main() on top of unit_test_run(). */

#include <stdio.h>
#include <string.h>

struct unit_test {
    const char *name;
    void (*function)(void);
};

/* Runs the test named by argv[1], or lists them all for "--list".  Returns
 * the exit status: 0 if it passed, 1 if a check failed ('*n_failures' is
 * nonzero afterwards; NULL if failed checks exit by themselves), 2 for bad
 * usage. */
static inline int
unit_test_run(int argc, char *argv[], const struct unit_test *tests,
              size_t n_tests, const int *n_failures)
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
            return n_failures && *n_failures ? 1 : 0;
        }
    }
    if (strcmp(argv[1], "--list")) {
        fprintf(stderr, "%s: unknown test\n", argv[1]);
        return 2;
    }
    return 0;
}

#endif /* tests/unit-test-main.h */
