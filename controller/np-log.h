/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#ifndef CONTROLLER_NP_LOG_H
#define CONTROLLER_NP_LOG_H 1

/* The NetworkPolicy audit log.
 *
 * The flows of the policies of logged namespaces (flows/policy.h) send the
 * first packet of each connection a rule allows, and each packet their
 * isolation drops, to the controller through the NP_LOG meter, which
 * bounds how many a second reach it and drops the rest in the switch.
 * pinctrl hands each such packet here (np_log_packet()), and np-log
 * writes one line for it to its own file:
 *
 *     2026-12-06T10:15:02.123Z node=n1 verdict=allow direction=ingress
 *     policy=x/allow-web rule=0 proto=tcp src=10.244.1.10:43512
 *     src_pod=x/a dst=10.244.2.11:80 dst_pod=x/b
 *
 * (one line in the file).  The keys come always in that order; a value that
 * is not known is "-".  'policy' is the policy whose rule 'rule' (its index
 * in the direction's list) allowed, or, for a drop, the policies that
 * isolate the pod in that direction, comma-separated.  'src' and 'dst' are
 * IP:PORT for TCP, UDP and SCTP, the IP alone otherwise.
 *
 * A 5-tuple with the same verdict and direction as one logged in the last
 * NP_LOG_REPEAT_MSEC (counting from its last packet) is not logged again:
 * the retransmissions of a dropped connection make one line, not one per
 * try.  What the meter dropped is read from the switch's meter statistics
 * every second and written as a line of its own:
 *
 *     2026-12-06T10:15:03.000Z node=n1 suppressed=1234
 *
 * the number of verdicts the rate limit suppressed since the last such
 * line.
 *
 * Writes never block the main loop for long: the file is opened
 * nonblocking and each line is one write() of at most a few hundred bytes,
 * at most the meter's rate a second; a line that cannot be written whole
 * (a full disk) is counted and dropped.  The file is reopened by the
 * "np-log/reopen" command, and whenever its name stops naming the open
 * file (checked every second), so that logrotate works with or without a
 * postrotate command. */

#include <stdbool.h>
#include <stdint.h>

struct ds;
struct flow;
struct flows_input;
struct k8s_cluster;
struct ofctrl;
struct pinctrl_np_log_args;

/* A verdict seen again within this long of its last packet is a repeat. */
#define NP_LOG_REPEAT_MSEC 10000

/* How many recent verdicts np-log remembers to tell repeats apart; beyond
 * that the oldest is forgotten. */
#define NP_LOG_MAX_RECENT 10000

/* Creates the audit log writing to 'file_name' for node 'node_name',
 * naming pods and policies from 'in' (which must outlive it), and
 * registers its unixctl commands.  'mode' and 'rate' are only shown by
 * "np-log/show".  The caller frees the result with np_log_destroy(). */
struct np_log *np_log_create(const char *file_name, const char *node_name,
                             const struct flows_input *in,
                             const char *mode, unsigned int rate);
void np_log_destroy(struct np_log *);

/* Writes the line for one verdict (see above); for pinctrl's NP_LOG
 * handler (pinctrl_set_np_log_handler()), with 'aux' the np_log. */
void np_log_packet(const struct flow *, uint64_t cookie,
                   const struct pinctrl_np_log_args *, void *aux);

/* Asks 'br_int' for the NP_LOG meter's statistics every second and writes
 * the suppressed count; reopens the file if it was renamed. */
void np_log_run(struct np_log *, struct ofctrl *br_int);
void np_log_wait(struct np_log *);

/* Statistics, for "np-log/show". */
struct np_log_stats {
    uint64_t n_lines;               /* Verdict lines written. */
    uint64_t n_allowed;             /* ...of which allows. */
    uint64_t n_dropped;             /* ...of which drops. */
    uint64_t n_repeats;             /* Verdicts not logged as repeats. */
    uint64_t n_suppressed;          /* Verdicts the meter dropped, as far
                                     * as suppressed= lines said. */
    uint64_t n_write_errors;        /* Lines lost: not written whole. */
    uint64_t n_reopens;
};
void np_log_get_stats(const struct np_log *, struct np_log_stats *);

#endif /* controller/np-log.h */
