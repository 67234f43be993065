/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#include <config.h>

#include "utilities/trace-switch.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "fatal-signal.h"
#include "openvswitch/dynamic-string.h"
#include "util.h"

/* The schema of the switch's database, as Debian installs it. */
#define TRACE_SWITCH_SCHEMA "/usr/share/openvswitch/vswitch.ovsschema"

struct trace_switch {
    char *dir;
    bool stopped;
    pid_t child;                /* The command trace_switch_run() runs, or
                                 * 0. */
};

/* The daemons, in the order they start (and the reverse of the order they
 * stop). */
static const char *const daemons[] = { "ovsdb-server", "ovs-vswitchd" };

const char *
trace_switch_dir(const struct trace_switch *sw)
{
    return sw->dir;
}

/* Returns the pid in 'dir''s pidfile of 'daemon', or 0. */
static pid_t
read_pidfile(const char *dir, const char *daemon)
{
    char *path = xasprintf("%s/%s.pid", dir, daemon);
    FILE *f = fopen(path, "r");
    free(path);
    long int pid = 0;
    if (f) {
        if (fscanf(f, "%ld", &pid) != 1) {
            pid = 0;
        }
        fclose(f);
    }
    return pid;
}

/* Stops the daemons and removes the directory.  Called directly, at exit
 * and from fatal_signal_run() after a fatal signal. */
static void
trace_switch_stop(struct trace_switch *sw)
{
    if (!sw || sw->stopped) {
        return;
    }
    sw->stopped = true;

    if (sw->child > 0) {
        kill(sw->child, SIGTERM);
    }

    for (int i = ARRAY_SIZE(daemons) - 1; i >= 0; i--) {
        pid_t pid = read_pidfile(sw->dir, daemons[i]);
        if (pid <= 0) {
            continue;
        }
        /* A daemon removes its pidfile as it exits (a zombie that no one
         * reaps would still pass kill(pid, 0)). */
        char *pidfile = xasprintf("%s/%s.pid", sw->dir, daemons[i]);
        kill(pid, SIGTERM);
        for (int j = 0; j < 200 && !access(pidfile, F_OK)
                 && !kill(pid, 0); j++) {
            struct timespec ts = { .tv_nsec = 5 * 1000 * 1000 };
            nanosleep(&ts, NULL);
        }
        if (!access(pidfile, F_OK)) {
            kill(pid, SIGKILL);
        }
        free(pidfile);
    }

    DIR *d = opendir(sw->dir);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
                char *path = xasprintf("%s/%s", sw->dir, de->d_name);
                unlink(path);
                free(path);
            }
        }
        closedir(d);
    }
    rmdir(sw->dir);
}

static void
trace_switch_hook(void *sw_)
{
    trace_switch_stop(sw_);
}

int
trace_switch_run(struct trace_switch *sw,
                 const char *const argv[], struct ds *output)
{
    int fds[2];
    if (pipe(fds)) {
        ds_put_format(output, "%s: pipe failed (%s)\n", argv[0],
                      ovs_strerror(errno));
        return -1;
    }

    pid_t pid = fork();
    if (pid < 0) {
        ds_put_format(output, "%s: fork failed (%s)\n", argv[0],
                      ovs_strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return -1;
    } else if (!pid) {
        /* The child: both outputs into the pipe. */
        dup2(fds[1], STDOUT_FILENO);
        dup2(fds[1], STDERR_FILENO);
        close(fds[0]);
        close(fds[1]);
        execvp(argv[0], (char **) argv);
        fprintf(stderr, "%s: cannot run (%s)\n", argv[0],
                ovs_strerror(errno));
        _exit(127);
    }

    close(fds[1]);
    sw->child = pid;
    char buf[4096];
    for (;;) {
        /* A fatal signal is acted upon here, within a tenth of a second,
         * even while the command runs: fatal_signal_run() stops the
         * command and the switch and ends kovs-ctl. */
        struct pollfd pfd = { .fd = fds[0], .events = POLLIN };
        fatal_signal_run();
        if (poll(&pfd, 1, 100) <= 0) {
            continue;
        }
        ssize_t n = read(fds[0], buf, sizeof buf);
        if (n > 0) {
            ds_put_buffer(output, buf, n);
        } else if (!n || errno != EINTR) {
            break;
        }
    }
    close(fds[0]);

    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            sw->child = 0;
            return -1;
        }
    }
    sw->child = 0;

    /* A fatal signal that came meanwhile stops the switch and kovs-ctl
     * now. */
    fatal_signal_run();
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Runs 'argv' and, if it fails, stores a message with its output in
 * '*errorp'.  Returns true on success. */
static bool
run_or_error(struct trace_switch *sw, const char *const argv[],
             char **errorp)
{
    struct ds output = DS_EMPTY_INITIALIZER;
    int status = trace_switch_run(sw, argv, &output);
    if (status) {
        ds_chomp(&output, '\n');
        *errorp = xasprintf("%s failed: %s", argv[0], ds_cstr(&output));
    }
    ds_destroy(&output);
    return !status;
}

struct trace_switch *
trace_switch_start(char **errorp)
{
    const char *tmpdir = getenv("TMPDIR");
    char *dir = xasprintf("%s/kovs-trace.XXXXXX",
                          tmpdir && tmpdir[0] ? tmpdir : "/tmp");
    if (!mkdtemp(dir)) {
        *errorp = xasprintf("%s: cannot create directory (%s)", dir,
                            ovs_strerror(errno));
        free(dir);
        return NULL;
    }

    struct trace_switch *sw = xzalloc(sizeof *sw);
    sw->dir = dir;
    /* From here on, whatever happens, the directory and the daemons go. */
    fatal_signal_add_hook(trace_switch_hook, NULL, sw, true);

    static const char *const env[] = {
        "OVS_RUNDIR", "OVS_DBDIR", "OVS_LOGDIR", "OVS_SYSCONFDIR",
    };
    for (size_t i = 0; i < ARRAY_SIZE(env); i++) {
        setenv(env[i], dir, 1);
    }

    char *db = xasprintf("%s/conf.db", dir);
    char *remote = xasprintf("--remote=punix:%s/db.sock", dir);
    char *db_sock = xasprintf("unix:%s/db.sock", dir);
    const char *const create[] = {
        "ovsdb-tool", "create", db, TRACE_SWITCH_SCHEMA, NULL,
    };
    const char *const ovsdb_server[] = {
        "ovsdb-server", "--detach", "--no-chdir", "--pidfile", "--log-file",
        "-vconsole:off", remote, db, NULL,
    };
    const char *const init[] = {
        "ovs-vsctl", "--no-wait", "init", NULL,
    };
    const char *const vswitchd[] = {
        "ovs-vswitchd", "--detach", "--no-chdir", "--pidfile", "--log-file",
        "-vconsole:off", "--enable-dummy=override", "--disable-system",
        db_sock, NULL,
    };
    bool ok = (run_or_error(sw, create, errorp)
               && run_or_error(sw, ovsdb_server, errorp)
               && run_or_error(sw, init, errorp)
               && run_or_error(sw, vswitchd, errorp));
    free(db);
    free(remote);
    free(db_sock);
    if (!ok) {
        trace_switch_stop(sw);
        /* The hook still points to 'sw': keep it, stopped. */
        return NULL;
    }
    return sw;
}

void
trace_switch_destroy(struct trace_switch *sw)
{
    /* The fatal-signal hook keeps a pointer to 'sw', so 'sw' itself stays
     * allocated (stopped) until the program exits. */
    trace_switch_stop(sw);
}
