/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0.
 *
 * Unit tests of controller/healthcheck: the server listens on 127.0.0.1 and
 * the tests talk HTTP to it over real TCP connections, running the server
 * in a poll loop of their own.  Each test takes ports that are free when it
 * starts, so that tests can run in parallel.  'test-healthcheck NAME' runs
 * one test; 'test-healthcheck --list' lists them. */

#include <config.h>

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "controller/healthcheck.h"
#include "fatal-signal.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/poll-loop.h"
#include "socket-util.h"
#include "timeval.h"
#include "util.h"
#include "tests/unit-test.h"

/* The server under test: each test starts it and destroys it. */
static struct healthcheck hc = {
    .services = HMAP_INITIALIZER(&hc.services),
};

/* How long a test waits for an answer that should come at once.  Shorter
 * than the server's request timeout, so that a request that the server
 * missed is not mistaken for one it closed. */
#define ANSWER_WAIT_MS 3000

/* The whole answer, status line, headers and 'body', that a Service with
 * 'n' local endpoints gives with 'status'.  The caller frees it. */
static char *
expected_answer(const char *status, const char *body, size_t n)
{
    return xasprintf("HTTP/1.1 %s\r\n"
                     "Content-Type: application/json\r\n"
                     "X-Content-Type-Options: nosniff\r\n"
                     "X-Load-Balancing-Endpoint-Weight: %"PRIuSIZE"\r\n"
                     "Content-Length: %"PRIuSIZE"\r\n"
                     "Connection: close\r\n"
                     "\r\n"
                     "%s", status, n, strlen(body), body);
}

/* Checks that 'got' is 'expected', showing both if not. */
#define CHECK_TEXT(WHAT, EXPECTED, GOT)                                 \
    do {                                                                \
        const char *expected__ = (EXPECTED);                            \
        const char *got__ = (GOT);                                      \
        CHECK(!strcmp(expected__, got__),                               \
              "%s:\n--- expected ---\n%s\n--- got ---\n%s\n---",        \
              WHAT, expected__, got__);                                 \
    } while (0)

/* Sockets. */

/* Returns a TCP socket bound to 127.0.0.1:'port' (0 for any port), not
 * listening. */
static int
bound_socket(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        ovs_fatal(errno, "socket");
    }

    struct sockaddr_in sin = {
        .sin_family = AF_INET,
        .sin_port = htons(port),
        .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
    };
    if (bind(fd, (struct sockaddr *) &sin, sizeof sin) < 0) {
        ovs_fatal(errno, "bind to 127.0.0.1:%"PRIu16, port);
    }
    return fd;
}

/* Returns the local port of socket 'fd'. */
static uint16_t
socket_port(int fd)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof sin;

    if (getsockname(fd, (struct sockaddr *) &sin, &len) < 0) {
        ovs_fatal(errno, "getsockname");
    }
    return ntohs(sin.sin_port);
}

/* Returns a port of 127.0.0.1 that is free now. */
static uint16_t
free_port(void)
{
    int fd = bound_socket(0);
    uint16_t port = socket_port(fd);
    close(fd);
    return port;
}

/* Connects to 'ip' (host byte order), port 'port'.  Returns the connected
 * socket, in non-blocking mode, or a negative errno value. */
static int
client_connect_to(uint32_t ip, uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        ovs_fatal(errno, "socket");
    }

    struct sockaddr_in sin = {
        .sin_family = AF_INET,
        .sin_port = htons(port),
        .sin_addr.s_addr = htonl(ip),
    };
    if (connect(fd, (struct sockaddr *) &sin, sizeof sin) < 0) {
        int error = errno;
        close(fd);
        return -error;
    }
    set_nonblocking(fd);
    return fd;
}

/* Connects to [::1]:'port', like client_connect_to(). */
static int
client_connect6(uint16_t port)
{
    int fd = socket(AF_INET6, SOCK_STREAM, 0);
    if (fd < 0) {
        ovs_fatal(errno, "socket");
    }

    struct sockaddr_in6 sin6 = {
        .sin6_family = AF_INET6,
        .sin6_port = htons(port),
        .sin6_addr = IN6ADDR_LOOPBACK_INIT,
    };
    if (connect(fd, (struct sockaddr *) &sin6, sizeof sin6) < 0) {
        int error = errno;
        close(fd);
        return -error;
    }
    set_nonblocking(fd);
    return fd;
}

/* Connects to 127.0.0.1:'port', like client_connect_to(). */
static int
client_connect(uint16_t port)
{
    return client_connect_to(INADDR_LOOPBACK, port);
}

/* Like client_connect(), but a failure to connect fails the test. */
static int
client_connect_or_die(uint16_t port)
{
    int fd = client_connect(port);
    if (fd < 0) {
        ovs_fatal(-fd, "connect to 127.0.0.1:%"PRIu16, port);
    }
    return fd;
}

/* Sends all of 's' on 'fd', running the server while the socket buffers
 * are full.  Returns 0 or an errno value. */
static int
client_send(int fd, const char *s, size_t n)
{
    while (n) {
        ssize_t retval = send(fd, s, n, MSG_NOSIGNAL);
        if (retval > 0) {
            s += retval;
            n -= retval;
        } else if (errno == EAGAIN) {
            healthcheck_run(&hc);
            healthcheck_wait(&hc);
            poll_fd_wait(fd, POLLOUT);
            poll_block();
        } else {
            return errno;
        }
    }
    return 0;
}

/* Reads what there is on 'fd' (a socket or a pipe, in non-blocking mode)
 * into 'got'.  Returns 0 if 'fd' is still open, EOF if the other end closed
 * it, or an errno value (such as ECONNRESET) if the connection failed. */
static int
client_recv(int fd, struct ds *got)
{
    for (;;) {
        char buf[4096];
        ssize_t retval = read(fd, buf, sizeof buf);
        if (retval > 0) {
            ds_put_buffer(got, buf, retval);
        } else if (!retval) {
            return EOF;
        } else {
            return errno == EAGAIN ? 0 : errno;
        }
    }
}

/* The server's poll loop. */

/* Runs the server until it closes 'fd' or until 'ms' milliseconds have
 * passed.  Appends what arrives on 'fd' to 'got'.  Returns EOF or an errno
 * value if the connection was closed, 0 if time ran out first.
 *
 * The loop wakes up only when the server or 'fd' asks it to, so a server
 * that forgets to wait for something runs out the time. */
static int
run_until_closed(int fd, struct ds *got, long long int ms)
{
    long long int deadline = time_msec() + ms;

    for (;;) {
        healthcheck_run(&hc);
        int error = client_recv(fd, got);
        if (error) {
            return error;
        }
        if (time_msec() >= deadline) {
            return 0;
        }
        healthcheck_wait(&hc);
        poll_fd_wait(fd, POLLIN);
        poll_timer_wait_until(deadline);
        poll_block();
    }
}

/* Runs the server for 'ms' milliseconds. */
static void
run_for(long long int ms)
{
    long long int deadline = time_msec() + ms;

    while (time_msec() < deadline) {
        healthcheck_run(&hc);
        healthcheck_wait(&hc);
        poll_timer_wait_until(deadline);
        poll_block();
    }
}

/* Sends 'request' to 127.0.0.1:'port' on a new connection and returns
 * everything the server sends back before closing the connection, or a
 * description of what went wrong.  The caller frees the result. */
static char *
http_request(uint16_t port, const char *request)
{
    int fd = client_connect(port);
    if (fd < 0) {
        return xasprintf("(cannot connect: %s)", ovs_strerror(-fd));
    }

    struct ds got = DS_EMPTY_INITIALIZER;
    int error = client_send(fd, request, strlen(request));
    if (error) {
        ds_put_format(&got, "(cannot send: %s)", ovs_strerror(error));
    } else {
        error = run_until_closed(fd, &got, ANSWER_WAIT_MS);
        if (!error) {
            ds_put_format(&got, "(still open after %d ms)", ANSWER_WAIT_MS);
        } else if (error != EOF) {
            ds_put_format(&got, "(%s)", ovs_strerror(error));
        }
    }
    close(fd);
    return ds_steal_cstr(&got);
}

/* Returns true if 'got', from http_request(), says that the server closed
 * the connection without an answer. */
static bool
is_unanswered(const char *got)
{
    return (!strcmp(got, "")
            || !strcmp(got, "(Connection reset by peer)")
            || !strncmp(got, "(cannot send: ", 14));
}

static char *
http_get(uint16_t port)
{
    return http_request(port, "GET /healthz HTTP/1.1\r\n"
                              "Host: 127.0.0.1\r\n"
                              "User-Agent: test-healthcheck\r\n"
                              "\r\n");
}

/* A client in a child process.  It acts while the server's poll loop
 * sleeps, so the server sees the client's connection and each piece of its
 * request only if it waits for them. */
struct forked_client {
    pid_t pid;
    int fd;         /* Pipe: what the client received, then EOF. */
};

/* In the child: reports 's' to the parent through 'pipe_fd' and exits. */
static void OVS_NO_RETURN
forked_client_exit(int pipe_fd, const char *s)
{
    size_t n = strlen(s);
    while (n) {
        ssize_t retval = write(pipe_fd, s, n);
        if (retval <= 0) {
            break;
        }
        s += retval;
        n -= retval;
    }
    _exit(0);
}

/* Starts a client that, 'gap_ms' apart, connects to 127.0.0.1:'port' and
 * sends each of the 'n' 'pieces'.  If an answer comes before the last piece
 * is sent, the client reports it, in parentheses; otherwise it reports what
 * the server sends until it closes the connection. */
static struct forked_client
fork_client(uint16_t port, const char *pieces[], size_t n, int gap_ms)
{
    int fds[2];
    if (pipe(fds) < 0) {
        ovs_fatal(errno, "pipe");
    }

    pid_t pid = fork();
    if (pid < 0) {
        ovs_fatal(errno, "fork");
    } else if (!pid) {
        close(fds[0]);
        usleep(gap_ms * 1000);
        int fd = client_connect(port);
        if (fd < 0) {
            forked_client_exit(fds[1], "(cannot connect)");
        }

        struct ds got = DS_EMPTY_INITIALIZER;
        for (size_t i = 0; i < n; i++) {
            usleep(gap_ms * 1000);
            int error = client_recv(fd, &got);
            if (error || got.length) {
                forked_client_exit(fds[1], xasprintf(
                                       "(answered before piece %"PRIuSIZE
                                       ": \"%s\", %s)", i + 1,
                                       ds_cstr(&got),
                                       ovs_retval_to_string(error)));
            }
            if (send(fd, pieces[i], strlen(pieces[i]), MSG_NOSIGNAL)
                != strlen(pieces[i])) {
                forked_client_exit(fds[1], "(cannot send)");
            }
        }

        int error;
        do {
            struct pollfd pfd = { .fd = fd, .events = POLLIN };
            poll(&pfd, 1, 10000);
            error = client_recv(fd, &got);
        } while (!error);
        if (error != EOF) {
            ds_put_format(&got, "(%s)", ovs_strerror(error));
        }
        forked_client_exit(fds[1], ds_cstr(&got));
    }

    close(fds[1]);
    set_nonblocking(fds[0]);
    return (struct forked_client) { .pid = pid, .fd = fds[0] };
}

/* Runs the server until 'client' is done or 'ms' milliseconds have passed,
 * and returns what it reported.  The caller frees the result. */
static char *
forked_client_finish(struct forked_client *client, long long int ms)
{
    struct ds got = DS_EMPTY_INITIALIZER;
    if (!run_until_closed(client->fd, &got, ms)) {
        ds_put_format(&got, "(client not done after %lld ms)", ms);
        kill(client->pid, SIGKILL);
    }
    close(client->fd);
    waitpid(client->pid, NULL, 0);
    return ds_steal_cstr(&got);
}

/* Checks that a GET on 'port' gets the answer 'status', 'body' and weight
 * 'n'. */
#define CHECK_GET(PORT, STATUS, BODY, N)                                \
    do {                                                                \
        char *expected = expected_answer(STATUS, BODY, N);              \
        char *got = http_get(PORT);                                     \
        CHECK_TEXT("answer to GET", expected, got);                     \
        free(expected);                                                 \
        free(got);                                                      \
    } while (0)

/* Checks that healthcheck_format() gives 'EXPECTED'. */
#define CHECK_FORMAT(EXPECTED)                                          \
    do {                                                                \
        struct ds s = DS_EMPTY_INITIALIZER;                             \
        healthcheck_format(&hc, &s);                                         \
        CHECK_TEXT("healthcheck_format()", EXPECTED, ds_cstr(&s));      \
        ds_destroy(&s);                                                 \
    } while (0)

/* Makes 'web' in 'default', with 'n' local endpoints, the only Service
 * with a health check port, 'port'. */
static void
set_web(uint16_t port, size_t n)
{
    healthcheck_start_update(&hc);
    healthcheck_set(&hc, port, "default", "web", n);
    healthcheck_finish_update(&hc);
}

#define WEB_BODY(N)                                                     \
    "{\"service\":{\"namespace\":\"default\",\"name\":\"web\"},"        \
    "\"localEndpoints\":" #N ",\"serviceProxyHealthy\":true}"

/* Tests. */

static void
test_local_endpoints_ok(void)
{
    uint16_t port = free_port();
    healthcheck_start(&hc, "127.0.0.1");
    set_web(port, 2);

    CHECK_GET(port, "200 OK", WEB_BODY(2), 2);

    /* Any path, any method. */
    char *expected = expected_answer("200 OK", WEB_BODY(2), 2);
    char *got = http_request(port, "GET / HTTP/1.0\r\n\r\n");
    CHECK_TEXT("answer to GET /", expected, got);
    free(got);
    got = http_request(port, "POST /x?y=z HTTP/1.1\n\n");
    CHECK_TEXT("answer to POST with bare line feeds", expected, got);
    free(got);
    free(expected);

    char *format = xasprintf("port %"PRIu16": default/web, 2 local "
                             "endpoints, listening\n", port);
    CHECK_FORMAT(format);
    free(format);

    healthcheck_destroy(&hc);
}

static void
test_no_endpoints_unavailable(void)
{
    uint16_t port = free_port();
    healthcheck_start(&hc, "127.0.0.1");
    set_web(port, 0);

    CHECK_GET(port, "503 Service Unavailable", WEB_BODY(0), 0);

    char *format = xasprintf("port %"PRIu16": default/web, 0 local "
                             "endpoints, listening\n", port);
    CHECK_FORMAT(format);
    free(format);

    healthcheck_destroy(&hc);
}

static void
test_request_forms(void)
{
    uint16_t port = free_port();
    healthcheck_start(&hc, "127.0.0.1");
    set_web(port, 1);

    /* HEAD gets the headers without the body. */
    char *expected = expected_answer("200 OK", WEB_BODY(1), 1);
    *strstr(expected, "\r\n\r\n{") = '\0';
    char *head = xasprintf("%s\r\n\r\n", expected);
    char *got = http_request(port, "HEAD /healthz HTTP/1.1\r\n\r\n");
    CHECK_TEXT("answer to HEAD", head, got);
    free(got);
    free(head);
    free(expected);

    /* What is not HTTP gets 400. */
    static const char *bad_requests[] = {
        "hello\r\n\r\n",
        "GET /\r\n\r\n",
        "GET  HTTP/1.1\r\n\r\n",
        " / HTTP/1.1\r\n\r\n",
        "GET / FTP/1.0\r\n\r\n",
        "\r\n\r\n",
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad_requests); i++) {
        got = http_request(port, bad_requests[i]);
        CHECK_TEXT(bad_requests[i],
                   "HTTP/1.1 400 Bad Request\r\n"
                   "Content-Length: 0\r\n"
                   "Connection: close\r\n"
                   "\r\n", got);
        free(got);
    }

    /* The Service still answers.  Each answer was counted by its code. */
    CHECK_GET(port, "200 OK", WEB_BODY(1), 1);
    CHECK(hc.n_ok == 2 && !hc.n_unavailable
          && hc.n_bad_requests == ARRAY_SIZE(bad_requests),
          "counted %"PRIu64" 200s, %"PRIu64" 503s, %"PRIu64" 400s; expected "
          "2, 0, %"PRIuSIZE, hc.n_ok, hc.n_unavailable, hc.n_bad_requests,
          ARRAY_SIZE(bad_requests));

    healthcheck_destroy(&hc);
}

static void
test_count_change_keeps_listener(void)
{
    uint16_t port = free_port();
    healthcheck_start(&hc, "127.0.0.1");
    set_web(port, 1);

    /* A connection accepted before the update, still waiting for its
     * request.  Reopening the listener would close it. */
    int fd = client_connect_or_die(port);
    healthcheck_run(&hc);

    set_web(port, 0);
    static const char request[] = "GET /healthz HTTP/1.1\r\n\r\n";
    CHECK(!client_send(fd, request, strlen(request)), "send failed");
    struct ds got = DS_EMPTY_INITIALIZER;
    int error = run_until_closed(fd, &got, ANSWER_WAIT_MS);
    CHECK(error == EOF, "connection not closed cleanly: %s",
          ovs_retval_to_string(error));
    char *expected = expected_answer("503 Service Unavailable", WEB_BODY(0),
                                     0);
    CHECK_TEXT("answer on the connection opened before the update",
               expected, ds_cstr(&got));
    free(expected);
    ds_destroy(&got);
    close(fd);

    set_web(port, 3);
    CHECK_GET(port, "200 OK", WEB_BODY(3), 3);

    char *format = xasprintf("port %"PRIu16": default/web, 3 local "
                             "endpoints, listening\n", port);
    CHECK_FORMAT(format);
    free(format);

    healthcheck_destroy(&hc);
}

static void
test_two_services(void)
{
    uint16_t web_port = free_port();
    uint16_t db_port = free_port();
    healthcheck_start(&hc, "127.0.0.1");

    healthcheck_start_update(&hc);
    healthcheck_set(&hc, web_port, "default", "web", 1);
    healthcheck_set(&hc, db_port, "prod", "db", 0);
    healthcheck_finish_update(&hc);

    CHECK_GET(web_port, "200 OK", WEB_BODY(1), 1);
    CHECK_GET(db_port, "503 Service Unavailable",
              "{\"service\":{\"namespace\":\"prod\",\"name\":\"db\"},"
              "\"localEndpoints\":0,\"serviceProxyHealthy\":true}", 0);

    uint16_t lo = MIN(web_port, db_port), hi = MAX(web_port, db_port);
    const char *lo_line = lo == web_port ? "default/web, 1 local endpoint"
                                         : "prod/db, 0 local endpoints";
    const char *hi_line = hi == web_port ? "default/web, 1 local endpoint"
                                         : "prod/db, 0 local endpoints";
    char *format = xasprintf("port %"PRIu16": %s, listening\n"
                             "port %"PRIu16": %s, listening\n",
                             lo, lo_line, hi, hi_line);
    CHECK_FORMAT(format);
    free(format);

    healthcheck_destroy(&hc);
}

static void
test_removal_closes_listener(void)
{
    uint16_t port = free_port();
    healthcheck_start(&hc, "127.0.0.1");
    set_web(port, 1);
    CHECK_GET(port, "200 OK", WEB_BODY(1), 1);

    /* An idle connection, accepted. */
    int fd = client_connect_or_die(port);
    healthcheck_run(&hc);

    healthcheck_start_update(&hc);
    healthcheck_finish_update(&hc);

    int error = client_connect(port);
    CHECK(error == -ECONNREFUSED, "connect after removal: expected %s, "
          "got %s", ovs_strerror(ECONNREFUSED),
          error >= 0 ? "success" : ovs_strerror(-error));
    if (error >= 0) {
        close(error);
    }

    struct ds got = DS_EMPTY_INITIALIZER;
    error = run_until_closed(fd, &got, ANSWER_WAIT_MS);
    CHECK(error == EOF || error == ECONNRESET,
          "connection open when its Service was removed: %s",
          ovs_retval_to_string(error));
    CHECK_TEXT("answer on the removed Service's connection", "",
               ds_cstr(&got));
    ds_destroy(&got);
    close(fd);

    CHECK_FORMAT("");
    healthcheck_destroy(&hc);
}

static void
test_port_conflict_retries(void)
{
    /* Another process holds the port. */
    int blocker = bound_socket(0);
    uint16_t port = socket_port(blocker);
    if (listen(blocker, 1) < 0) {
        ovs_fatal(errno, "listen");
    }

    healthcheck_start(&hc, "127.0.0.1");
    long long int start = time_msec();
    set_web(port, 1);
    char *format = xasprintf("port %"PRIu16": default/web, 1 local "
                             "endpoint, cannot bind (%s), retrying\n",
                             port, ovs_strerror(EADDRINUSE));
    CHECK_FORMAT(format);
    free(format);

    /* Updates and the poll loop go on meanwhile. */
    run_for(200);
    set_web(port, 2);

    /* Once the port is free, the next retry binds it: the server wakes up
     * for it. */
    close(blocker);
    long long int deadline = start + HEALTHCHECK_BIND_RETRY_MS + 3000;
    struct ds s = DS_EMPTY_INITIALIZER;
    while (time_msec() < deadline) {
        ds_clear(&s);
        healthcheck_format(&hc, &s);
        if (strstr(ds_cstr(&s), "listening")) {
            break;
        }
        healthcheck_wait(&hc);
        poll_timer_wait_until(deadline);
        poll_block();
        healthcheck_run(&hc);
    }
    ds_destroy(&s);

    format = xasprintf("port %"PRIu16": default/web, 2 local endpoints, "
                       "listening\n", port);
    CHECK_FORMAT(format);
    long long int elapsed = time_msec() - start;
    CHECK(elapsed >= HEALTHCHECK_BIND_RETRY_MS - 500
          && elapsed <= HEALTHCHECK_BIND_RETRY_MS + 1000,
          "bound after %lld ms, expected %d ms", elapsed,
          HEALTHCHECK_BIND_RETRY_MS);
    free(format);
    CHECK_GET(port, "200 OK", WEB_BODY(2), 2);

    healthcheck_destroy(&hc);
}

static void
test_duplicate_port(void)
{
    uint16_t port = free_port();
    healthcheck_start(&hc, "127.0.0.1");

    healthcheck_start_update(&hc);
    healthcheck_set(&hc, port, "default", "web", 1);
    healthcheck_set(&hc, port, "other", "api", 0);
    healthcheck_finish_update(&hc);

    CHECK_GET(port, "200 OK", WEB_BODY(1), 1);
    char *format = xasprintf("port %"PRIu16": default/web, 1 local "
                             "endpoint, listening; also claimed by "
                             "other/api, not served\n", port);
    CHECK_FORMAT(format);
    free(format);

    /* Once the first Service is gone, the port passes to the other. */
    healthcheck_start_update(&hc);
    healthcheck_set(&hc, port, "other", "api", 0);
    healthcheck_finish_update(&hc);

    CHECK_GET(port, "503 Service Unavailable",
              "{\"service\":{\"namespace\":\"other\",\"name\":\"api\"},"
              "\"localEndpoints\":0,\"serviceProxyHealthy\":true}", 0);
    format = xasprintf("port %"PRIu16": other/api, 0 local endpoints, "
                       "listening\n", port);
    CHECK_FORMAT(format);
    free(format);

    healthcheck_destroy(&hc);
}

static void
test_oversized_request_closed(void)
{
    uint16_t port = free_port();
    healthcheck_start(&hc, "127.0.0.1");
    set_web(port, 1);

    /* A head of exactly the limit is answered. */
    struct ds request = DS_EMPTY_INITIALIZER;
    ds_put_cstr(&request, "GET /healthz HTTP/1.1\r\nX-Filler: ");
    while (request.length < HEALTHCHECK_MAX_REQUEST - 4) {
        ds_put_char(&request, 'x');
    }
    ds_put_cstr(&request, "\r\n\r\n");
    CHECK(request.length == HEALTHCHECK_MAX_REQUEST, "request of %"PRIuSIZE
          " bytes", request.length);
    char *expected = expected_answer("200 OK", WEB_BODY(1), 1);
    char *got = http_request(port, ds_cstr(&request));
    CHECK_TEXT("answer to a request of the maximum size", expected, got);
    free(got);

    /* One byte more is not. */
    ds_truncate(&request, request.length - 4);
    ds_put_cstr(&request, "y\r\n\r\n");
    got = http_request(port, ds_cstr(&request));
    CHECK(is_unanswered(got), "answer to a request one byte too long: "
          "expected none, got %s", got);
    free(got);

    /* Nor is a head that never ends. */
    ds_clear(&request);
    ds_put_cstr(&request, "GET /healthz HTTP/1.1\r\n");
    while (request.length < 4 * HEALTHCHECK_MAX_REQUEST) {
        ds_put_cstr(&request, "X-Filler: xxxxxxxxxxxxxxxxxxxxxxxxxx\r\n");
    }
    got = http_request(port, ds_cstr(&request));
    CHECK(is_unanswered(got), "answer to an endless request: expected "
          "none, got %s", got);
    free(got);
    ds_destroy(&request);

    /* The server goes on. */
    got = http_get(port);
    CHECK_TEXT("answer after the oversized requests", expected, got);
    free(got);
    free(expected);

    healthcheck_destroy(&hc);
}

static void
test_trickled_request_answered(void)
{
    uint16_t port = free_port();
    healthcheck_start(&hc, "127.0.0.1");
    set_web(port, 1);

    static const char *pieces[] = {
        "GE", "T /healthz HTTP/1.1\r", "\nHost: 127.0.0.1\r\n", "\r",
        "\n",
    };
    int fd = client_connect_or_die(port);
    struct ds got = DS_EMPTY_INITIALIZER;
    for (size_t i = 0; i < ARRAY_SIZE(pieces); i++) {
        CHECK(!client_send(fd, pieces[i], strlen(pieces[i])),
              "send failed");
        if (i < ARRAY_SIZE(pieces) - 1) {
            run_for(50);
            int error = client_recv(fd, &got);
            CHECK(!error && !got.length, "after %"PRIuSIZE" pieces: "
                  "expected nothing, got \"%s\" (%s)", i + 1, ds_cstr(&got),
                  ovs_retval_to_string(error));
        }
    }

    int error = run_until_closed(fd, &got, ANSWER_WAIT_MS);
    CHECK(error == EOF, "connection not closed cleanly: %s",
          ovs_retval_to_string(error));
    char *expected = expected_answer("200 OK", WEB_BODY(1), 1);
    CHECK_TEXT("answer to the trickled request", expected, ds_cstr(&got));
    free(expected);
    ds_destroy(&got);
    close(fd);

    healthcheck_destroy(&hc);
}

static void
test_server_wakes_for_client(void)
{
    uint16_t port = free_port();
    healthcheck_start(&hc, "127.0.0.1");
    set_web(port, 1);

    static const char *pieces[] = {
        "GET /healthz HTTP/1.1\r\n", "Host: 127.0.0.1\r\n", "\r\n",
    };
    struct forked_client client = fork_client(port, pieces,
                                              ARRAY_SIZE(pieces), 100);
    char *got = forked_client_finish(&client, ANSWER_WAIT_MS);
    char *expected = expected_answer("200 OK", WEB_BODY(1), 1);
    CHECK_TEXT("answer to a client in another process", expected, got);
    free(expected);
    free(got);

    healthcheck_destroy(&hc);
}

static void
test_request_timeout(void)
{
    uint16_t port = free_port();
    healthcheck_start(&hc, "127.0.0.1");
    set_web(port, 1);

    int fd = client_connect_or_die(port);
    static const char request[] = "GET /healthz HTTP/1.1\r\n";
    CHECK(!client_send(fd, request, strlen(request)), "send failed");

    long long int start = time_msec();
    struct ds got = DS_EMPTY_INITIALIZER;
    int error = run_until_closed(fd, &got,
                                 HEALTHCHECK_REQUEST_TIMEOUT_MS + 3000);
    long long int elapsed = time_msec() - start;
    CHECK(error == EOF || error == ECONNRESET,
          "incomplete request still open after %lld ms", elapsed);
    CHECK(elapsed >= HEALTHCHECK_REQUEST_TIMEOUT_MS - 500
          && elapsed <= HEALTHCHECK_REQUEST_TIMEOUT_MS + 1000,
          "incomplete request closed after %lld ms, expected %d ms",
          elapsed, HEALTHCHECK_REQUEST_TIMEOUT_MS);
    CHECK_TEXT("answer to an incomplete request", "", ds_cstr(&got));
    ds_destroy(&got);
    close(fd);

    CHECK_GET(port, "200 OK", WEB_BODY(1), 1);
    healthcheck_destroy(&hc);
}

static void
test_connection_limit(void)
{
    uint16_t port = free_port();
    healthcheck_start(&hc, "127.0.0.1");
    set_web(port, 1);

    /* Idle connections, up to the limit, each accepted before the next
     * connects so that the accept queue never fills. */
    int idle[HEALTHCHECK_MAX_CONNS];
    for (size_t i = 0; i < ARRAY_SIZE(idle); i++) {
        idle[i] = client_connect_or_die(port);
        healthcheck_run(&hc);
    }

    /* One more is answered at once... */
    int fd = client_connect_or_die(port);
    static const char request[] = "GET /healthz HTTP/1.1\r\n\r\n";
    CHECK(!client_send(fd, request, strlen(request)), "send failed");
    struct ds got = DS_EMPTY_INITIALIZER;
    int error = run_until_closed(fd, &got, ANSWER_WAIT_MS);
    CHECK(error == EOF, "over the limit: connection not closed cleanly: %s",
          ovs_retval_to_string(error));
    char *expected = expected_answer("200 OK", WEB_BODY(1), 1);
    CHECK_TEXT("answer over the limit", expected, ds_cstr(&got));
    ds_destroy(&got);
    close(fd);

    /* ...in place of the oldest idle connection, which the server closed
     * unanswered, while the next oldest is still served. */
    ds_init(&got);
    error = client_recv(idle[0], &got);
    CHECK((error == EOF || error == ECONNRESET) && !got.length,
          "oldest idle connection: expected it closed unanswered, got "
          "\"%s\" (%s)", ds_cstr(&got), ovs_retval_to_string(error));
    ds_destroy(&got);

    ds_init(&got);
    CHECK(!client_send(idle[1], request, strlen(request)), "send failed");
    error = run_until_closed(idle[1], &got, ANSWER_WAIT_MS);
    CHECK(error == EOF, "second oldest idle connection not closed cleanly: "
          "%s", ovs_retval_to_string(error));
    CHECK_TEXT("answer on the second oldest idle connection", expected,
               ds_cstr(&got));
    ds_destroy(&got);
    free(expected);

    for (size_t i = 0; i < ARRAY_SIZE(idle); i++) {
        close(idle[i]);
    }
    healthcheck_destroy(&hc);
}

/* Starts connecting to 127.0.0.1:'port' without waiting for the connection
 * to be established.  Returns the socket, in non-blocking mode. */
static int
client_connect_nonblocking(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        ovs_fatal(errno, "socket");
    }
    set_nonblocking(fd);

    struct sockaddr_in sin = {
        .sin_family = AF_INET,
        .sin_port = htons(port),
        .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
    };
    if (connect(fd, (struct sockaddr *) &sin, sizeof sin) < 0
        && errno != EINPROGRESS) {
        ovs_fatal(errno, "connect to 127.0.0.1:%"PRIu16, port);
    }
    return fd;
}

/* Runs the server until 'fd', connecting, is connected or 'ms' milliseconds
 * have passed.  Returns true if it is connected. */
static bool
run_until_connected(int fd, long long int ms)
{
    long long int deadline = time_msec() + ms;

    for (;;) {
        healthcheck_run(&hc);
        struct pollfd pfd = { .fd = fd, .events = POLLOUT };
        if (poll(&pfd, 1, 0) > 0) {
            return check_connection_completion(fd) == 0;
        }
        if (time_msec() >= deadline) {
            return false;
        }
        healthcheck_wait(&hc);
        poll_fd_wait(fd, POLLOUT);
        poll_timer_wait_until(deadline);
        poll_block();
    }
}

static void
test_idle_connections_do_not_starve(void)
{
    uint16_t port = free_port();
    healthcheck_start(&hc, "127.0.0.1");
    set_web(port, 1);

    /* Far more clients than the server serves at once: half of them
     * connect and say nothing, the other half send the start of a request
     * and never finish it.  They connect as fast as they can, with the
     * server running in between. */
    enum { N_IDLE = 200 };
    static const char partial[] = "GET /healthz HTTP/1.1\r\n";
    int idle[N_IDLE];
    for (size_t i = 0; i < N_IDLE; i++) {
        idle[i] = client_connect_nonblocking(port);
        if (i % 2) {
            CHECK(run_until_connected(idle[i], ANSWER_WAIT_MS)
                  && !client_send(idle[i], partial, strlen(partial)),
                  "idle client %"PRIuSIZE" cannot connect and send", i);
        }
        healthcheck_run(&hc);
    }

    /* A load balancer's probe is answered well before the idle clients
     * time out. */
    long long int start = time_msec();
    int fd = client_connect_nonblocking(port);
    struct ds got = DS_EMPTY_INITIALIZER;
    int error = ETIMEDOUT;
    if (run_until_connected(fd, ANSWER_WAIT_MS)) {
        static const char request[] = "GET /healthz HTTP/1.1\r\n"
                                      "Host: 127.0.0.1\r\n\r\n";
        error = client_send(fd, request, strlen(request));
        if (!error) {
            error = run_until_closed(fd, &got,
                                     ANSWER_WAIT_MS - (time_msec() - start));
        }
    }
    long long int elapsed = time_msec() - start;
    char *expected = expected_answer("200 OK", WEB_BODY(1), 1);
    CHECK(error == EOF, "probe with %d idle clients: %s after %lld ms",
          N_IDLE, !error ? "no answer" : ovs_retval_to_string(error),
          elapsed);
    CHECK_TEXT("answer to the probe", expected, ds_cstr(&got));
    CHECK(elapsed < HEALTHCHECK_REQUEST_TIMEOUT_MS,
          "probe answered after %lld ms, not before the %d ms the idle "
          "clients may take", elapsed, HEALTHCHECK_REQUEST_TIMEOUT_MS);
    ds_destroy(&got);
    close(fd);

    /* The newest of the idle clients is still connected and is answered
     * once it finishes its request. */
    ds_init(&got);
    int newest = idle[N_IDLE - 1];
    error = client_send(newest, "\r\n", 2);
    if (!error) {
        error = run_until_closed(newest, &got, ANSWER_WAIT_MS);
    }
    CHECK(error == EOF, "newest idle client: %s",
          !error ? "no answer" : ovs_retval_to_string(error));
    CHECK_TEXT("answer to the newest idle client", expected, ds_cstr(&got));
    ds_destroy(&got);
    free(expected);

    for (size_t i = 0; i < N_IDLE; i++) {
        close(idle[i]);
    }
    healthcheck_destroy(&hc);
}

static void
test_set_before_init(void)
{
    uint16_t port = free_port();

    /* Not serving yet: nothing listens. */
    set_web(port, 1);
    healthcheck_run(&hc);
    int error = client_connect(port);
    CHECK(error == -ECONNREFUSED, "connect before init: expected %s, got %s",
          ovs_strerror(ECONNREFUSED),
          error >= 0 ? "success" : ovs_strerror(-error));
    if (error >= 0) {
        close(error);
    }
    char *format = xasprintf("port %"PRIu16": default/web, 1 local "
                             "endpoint, not serving\n", port);
    CHECK_FORMAT(format);
    free(format);

    healthcheck_start(&hc, "127.0.0.1");
    CHECK_GET(port, "200 OK", WEB_BODY(1), 1);

    /* Reinitializing with the same address keeps the listener. */
    int fd = client_connect_or_die(port);
    healthcheck_run(&hc);
    healthcheck_start(&hc, "127.0.0.1");
    static const char request[] = "GET / HTTP/1.1\r\n\r\n";
    CHECK(!client_send(fd, request, strlen(request)), "send failed");
    struct ds got = DS_EMPTY_INITIALIZER;
    run_until_closed(fd, &got, ANSWER_WAIT_MS);
    char *expected = expected_answer("200 OK", WEB_BODY(1), 1);
    CHECK_TEXT("answer across a second init", expected, ds_cstr(&got));
    free(expected);
    ds_destroy(&got);
    close(fd);

    healthcheck_destroy(&hc);
    error = client_connect(port);
    CHECK(error == -ECONNREFUSED, "connect after destroy: expected %s, "
          "got %s", ovs_strerror(ECONNREFUSED),
          error >= 0 ? "success" : ovs_strerror(-error));
    if (error >= 0) {
        close(error);
    }
    CHECK_FORMAT("");
}

static void
test_bind_address_change(void)
{
    static const uint32_t lo1 = 0x7f000001;     /* 127.0.0.1 */
    static const uint32_t lo2 = 0x7f000002;     /* 127.0.0.2 */
    uint16_t port = free_port();

    healthcheck_start(&hc, "127.0.0.1");
    set_web(port, 1);
    int fd = client_connect_to(lo2, port);
    CHECK(fd == -ECONNREFUSED, "connect to 127.0.0.2 while bound to "
          "127.0.0.1: expected %s, got %s", ovs_strerror(ECONNREFUSED),
          fd >= 0 ? "success" : ovs_strerror(-fd));
    if (fd >= 0) {
        close(fd);
    }

    /* A new address moves the listener. */
    healthcheck_start(&hc, "127.0.0.2");
    fd = client_connect_to(lo1, port);
    CHECK(fd == -ECONNREFUSED, "connect to 127.0.0.1 after moving to "
          "127.0.0.2: expected %s, got %s", ovs_strerror(ECONNREFUSED),
          fd >= 0 ? "success" : ovs_strerror(-fd));
    if (fd >= 0) {
        close(fd);
    }

    fd = client_connect_to(lo2, port);
    CHECK(fd >= 0, "connect to 127.0.0.2: %s", ovs_strerror(-fd));
    if (fd >= 0) {
        static const char request[] = "GET / HTTP/1.1\r\n\r\n";
        CHECK(!client_send(fd, request, strlen(request)), "send failed");
        struct ds got = DS_EMPTY_INITIALIZER;
        run_until_closed(fd, &got, ANSWER_WAIT_MS);
        char *expected = expected_answer("200 OK", WEB_BODY(1), 1);
        CHECK_TEXT("answer on 127.0.0.2", expected, ds_cstr(&got));
        free(expected);
        ds_destroy(&got);
        close(fd);
    }

    healthcheck_destroy(&hc);
}

/* Sends a GET on 'fd' (connected, or a negative errno value) and checks
 * that 'what' is answered 200 for one local endpoint. */
static void
check_get_on(int fd, const char *what)
{
    CHECK(fd >= 0, "connect to %s: %s", what, ovs_strerror(-fd));
    if (fd < 0) {
        return;
    }
    static const char request[] = "GET / HTTP/1.1\r\n\r\n";
    CHECK(!client_send(fd, request, strlen(request)), "send failed");
    struct ds got = DS_EMPTY_INITIALIZER;
    run_until_closed(fd, &got, ANSWER_WAIT_MS);
    char *expected = expected_answer("200 OK", WEB_BODY(1), 1);
    CHECK_TEXT(what, expected, ds_cstr(&got));
    free(expected);
    ds_destroy(&got);
    close(fd);
}

/* Without a bind address, as kovs-controller starts it, a health check
 * port answers over both families. */
static void
test_default_address_both_families(void)
{
    uint16_t port = free_port();

    healthcheck_start(&hc, NULL);
    set_web(port, 1);
    check_get_on(client_connect(port), "127.0.0.1");
    check_get_on(client_connect6(port), "::1");
    healthcheck_destroy(&hc);
}

static const struct unit_test tests[] = {
    { "local-endpoints-ok", test_local_endpoints_ok },
    { "no-endpoints-unavailable", test_no_endpoints_unavailable },
    { "request-forms", test_request_forms },
    { "count-change-keeps-listener", test_count_change_keeps_listener },
    { "two-services", test_two_services },
    { "removal-closes-listener", test_removal_closes_listener },
    { "port-conflict-retries", test_port_conflict_retries },
    { "duplicate-port", test_duplicate_port },
    { "oversized-request-closed", test_oversized_request_closed },
    { "trickled-request-answered", test_trickled_request_answered },
    { "server-wakes-for-client", test_server_wakes_for_client },
    { "request-timeout", test_request_timeout },
    { "connection-limit", test_connection_limit },
    { "idle-connections-do-not-starve",
      test_idle_connections_do_not_starve },
    { "set-before-init", test_set_before_init },
    { "bind-address-change", test_bind_address_change },
    { "default-address-both-families",
      test_default_address_both_families },
};

int
main(int argc, char *argv[])
{
    set_program_name(argv[0]);
    fatal_ignore_sigpipe();
    return unit_test_main(argc, argv, tests, ARRAY_SIZE(tests));
}
