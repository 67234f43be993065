/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#ifndef TESTS_FATAL_CHECK_H
#define TESTS_FATAL_CHECK_H 1

/* Checks for the unit-test programs that stop at the first failure
 * (test-k8s, test-k8s-client): each prints where it failed, what it
 * expected and what it got, and exits with status 1.  Include it once, in
 * the program's only source file. */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "openvswitch/compiler.h"
#include "tests/unit-test-main.h"

static void OVS_NO_RETURN OVS_PRINTF_FORMAT(3, 4)
fail_at(const char *file, int line, const char *format, ...)
{
    va_list args;

    fprintf(stderr, "%s:%d: ", file, line);
    va_start(args, format);
    vfprintf(stderr, format, args);
    va_end(args);
    putc('\n', stderr);
    exit(1);
}

#define FAIL(...) fail_at(__FILE__, __LINE__, __VA_ARGS__)

#define CHECK(COND)                                                     \
    do {                                                                \
        if (!(COND)) {                                                  \
            FAIL("check failed: %s", #COND);                            \
        }                                                               \
    } while (0)

#define CHECK_INT(GOT, EXPECTED)                                        \
    check_int(__FILE__, __LINE__, #GOT, (GOT), (EXPECTED))
#define CHECK_STR(GOT, EXPECTED)                                        \
    check_str(__FILE__, __LINE__, #GOT, (GOT), (EXPECTED))
#define CHECK_CONTAINS(GOT, EXPECTED)                                   \
    check_contains(__FILE__, __LINE__, #GOT, (GOT), (EXPECTED))

static void
check_int(const char *file, int line, const char *what,
          long long int got, long long int expected)
{
    if (got != expected) {
        fail_at(file, line, "%s: expected %lld, got %lld",
                what, expected, got);
    }
}

static void
check_str(const char *file, int line, const char *what,
          const char *got, const char *expected)
{
    if (!got || !expected ? got != expected : strcmp(got, expected)) {
        fail_at(file, line, "%s:\n  expected: %s%s%s\n  got:      %s%s%s",
                what, expected ? "\"" : "", expected ? expected : "NULL",
                expected ? "\"" : "", got ? "\"" : "", got ? got : "NULL",
                got ? "\"" : "");
    }
}

static void
check_contains(const char *file, int line, const char *what,
               const char *got, const char *expected)
{
    if (!got || !strstr(got, expected)) {
        fail_at(file, line, "%s:\n  expected a message containing: %s\n"
                "  got: %s", what, expected, got ? got : "(no message)");
    }
}

/* See unit_test_run(). */
static inline int
unit_test_main(int argc, char *argv[], const struct unit_test *tests,
               size_t n_tests)
{
    return unit_test_run(argc, argv, tests, n_tests, NULL);
}

#endif /* tests/fatal-check.h */
