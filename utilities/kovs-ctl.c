/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0.
 *
 * kovs-ctl: offline tools on a snapshot of the cluster.
 *
 *     kovs-ctl compute --node=NAME [OPTIONS] STATE.json
 *     kovs-ctl trace --from SOURCE --to DESTINATION [OPTIONS] STATE.json
 *
 * decodes STATE.json (a List as 'kubectl get ... -o json' prints it), builds
 * the flows that kovs-controller on node NAME would want on br-int, and
 * prints how many flows and groups that is, the time taken by decoding and
 * by computing, and the peak memory.  With --dump it also prints the flows
 * and groups as 'ovs-ofctl -O OpenFlow15 bundle' input, so that the very
 * same flows can be installed without kovs, or compared with a switch's.
 * "trace" is in utilities/trace-offline.h. */

#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include "command-line.h"
#include "flow.h"
#include "flows/flow-table.h"
#include "flows/flows.h"
#include "flows/pipeline.h"
#include "k8s/k8s-decode.h"
#include "k8s/k8s-model.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/match.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/shash.h"
#include "openvswitch/vlog.h"
#include "packets.h"
#include "sset.h"
#include "svec.h"
#include "util.h"
#include "utilities/snapshot.h"
#include "utilities/trace-offline.h"

/* Options of "compute". */
struct compute_options {
    const char *node_name;
    struct k8s_dual_cidr cluster_cidr;
    struct k8s_dual_cidr service_cidr;
    const char *ports_file;
    bool all_local_ports;
    int gateway_ofport;
    enum flows_tunnel_ports tunnel_ports;
    enum flows_tunnel_mode tunnel_mode;
    int mtu;                        /* --mtu, or 0 for the mode's. */
    int tunnel_ofport;              /* --tunnel-ofport, for
                                     * --tunnel-ports=flow. */
    bool dump;
    const char *dump_flows_file;
    const char *dump_groups_file;
    const char *state_file;
};

/* Time and memory. */

struct usage_mark {
    double cpu_ms;                  /* User plus system CPU time. */
    double wall_ms;
};

static double
timespec_ms(const struct timespec *ts)
{
    return ts->tv_sec * 1000.0 + ts->tv_nsec / 1e6;
}

static void
usage_mark_take(struct usage_mark *m)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    m->cpu_ms = timespec_ms(&ts);
    clock_gettime(CLOCK_MONOTONIC, &ts);
    m->wall_ms = timespec_ms(&ts);
}

/* Returns the peak resident set size so far, in kB. */
static long
peak_rss_kb(void)
{
    struct rusage ru;
    return getrusage(RUSAGE_SELF, &ru) ? -1 : ru.ru_maxrss;
}

/* Input. */

/* Reads a ports file: "NAMESPACE/NAME OFPORT MAC" for a pod's port,
 * "NODE OFPORT" for the tunnel port to peer NODE.  Blank lines and lines
 * starting with '#' are ignored. */
static void
read_ports_file(const char *path, struct shash *pods, struct shash *tunnels)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        ovs_fatal(errno, "%s: cannot open", path);
    }

    struct ds line = DS_EMPTY_INITIALIZER;
    int line_number = 0;
    while (!ds_get_line(&line, f)) {
        line_number++;
        char *save_ptr = NULL;
        char *key = strtok_r(ds_cstr(&line), " \t", &save_ptr);
        if (!key || key[0] == '#') {
            continue;
        }
        char *ofport_s = strtok_r(NULL, " \t", &save_ptr);
        char *mac_s = strtok_r(NULL, " \t", &save_ptr);
        int ofport;
        if (!ofport_s || !str_to_int(ofport_s, 10, &ofport)
            || ofport <= 0 || ofport >= ofp_to_u16(OFPP_MAX)) {
            ovs_fatal(0, "%s:%d: bad or missing OpenFlow port number",
                      path, line_number);
        }
        if (strchr(key, '/')) {
            struct eth_addr mac;
            if (!mac_s || !eth_addr_from_string(mac_s, &mac)) {
                ovs_fatal(0, "%s:%d: pod port %s: bad or missing MAC",
                          path, line_number, key);
            }
            snapshot_add_port(pods, key, ofport, &mac);
        } else {
            snapshot_add_port(tunnels, key, ofport, NULL);
        }
    }
    ds_destroy(&line);
    fclose(f);
}

/* Output. */

static void
write_lines(const char *path, const struct svec *lines)
{
    FILE *f = !strcmp(path, "-") ? stdout : fopen(path, "w");
    if (!f) {
        ovs_fatal(errno, "%s: cannot create", path);
    }
    for (size_t i = 0; i < lines->n; i++) {
        fputs(lines->names[i], f);
        fputc('\n', f);
    }
    if (f == stdout ? fflush(f) : fclose(f)) {
        ovs_fatal(errno, "%s: write error", path);
    }
}

/* "compute". */

OVS_NO_RETURN static void compute_usage(void);

static void
compute_usage(void)
{
    printf("usage: %s compute --node=NAME [OPTIONS] STATE.json\n"
           "\n"
           "Computes the flows kovs-controller on node NAME wants from the\n"
           "cluster in STATE.json, with no switch, and prints their number,\n"
           "the time taken and the peak memory.\n"
           "\n"
           "Options:\n"
           "  --node=NAME             the node kovs-controller runs on\n"
           "  --cluster-cidr=CIDR[,CIDR]  the cluster's pod network, one"
           " prefix per\n"
           "                          family\n"
           "  --service-cidr=CIDR[,CIDR]  the cluster's Service network,"
           " one prefix\n"
           "                          per family\n"
           "  --ports=FILE            br-int's ports: \"NAMESPACE/POD OFPORT"
           " MAC\" for\n"
           "                          a pod, \"NODE OFPORT\" for the tunnel"
           " to a peer\n"
           "  --all-local-ports       give every pod of the node a port\n"
           "  --gateway-ofport=N      kovs-gw0's OpenFlow port (default 1)\n"
           "  --tunnel-type=TYPE      vxlan (default) or geneve, as"
           " kovs-controller's\n"
           "  --mtu=N                 the pods' MTU, as kovs-controller's"
           " (default:\n"
           "                          1450 for vxlan, 1400 for geneve)\n"
           "  --tunnel-ports=LAYOUT   per-node (default) or flow: one"
           " tunnel port\n"
           "                          (remote_ip=flow) for every peer, as"
           " kovs-controller\n"
           "                          --tunnel-ports=flow makes it\n"
           "  --tunnel-ofport=N       with --tunnel-ports=flow, that port's"
           " OpenFlow\n"
           "                          port (default %d)\n"
           "  --dump                  print the flows and groups as"
           " 'ovs-ofctl -O\n"
           "                          OpenFlow15 bundle' input (the"
           " summary goes\n"
           "                          to stderr)\n"
           "  --dump-flows=FILE       write the flows in add-flows syntax\n"
           "  --dump-groups=FILE      write the groups in add-groups syntax\n"
           "\n"
           "Without tunnel ports in --ports, every peer node gets one"
           " (OpenFlow\n"
           "ports from %d up, by node name); --all-local-ports numbers pod"
           " ports\n"
           "from %d up, by NAMESPACE/NAME.\n",
           program_name, SNAPSHOT_FIRST_TUNNEL_OFPORT,
           SNAPSHOT_FIRST_TUNNEL_OFPORT, SNAPSHOT_FIRST_POD_OFPORT);
    exit(EXIT_SUCCESS);
}

static void
parse_cidr_option(const char *option, const char *arg,
                  struct k8s_dual_cidr *c)
{
    char *error = k8s_parse_dual_cidr_option(option, arg, c);
    if (error) {
        ovs_fatal(0, "%s", error);
    }
}

static void
compute_parse_options(int argc, char *argv[], struct compute_options *o)
{
    enum {
        OPT_NODE = UCHAR_MAX + 1,
        OPT_CLUSTER_CIDR,
        OPT_SERVICE_CIDR,
        OPT_PORTS,
        OPT_ALL_LOCAL_PORTS,
        OPT_GATEWAY_OFPORT,
        OPT_TUNNEL_TYPE,
        OPT_MTU,
        OPT_TUNNEL_PORTS,
        OPT_TUNNEL_OFPORT,
        OPT_DUMP,
        OPT_DUMP_FLOWS,
        OPT_DUMP_GROUPS,
    };
    static const struct option long_options[] = {
        {"node", required_argument, NULL, OPT_NODE},
        {"cluster-cidr", required_argument, NULL, OPT_CLUSTER_CIDR},
        {"service-cidr", required_argument, NULL, OPT_SERVICE_CIDR},
        {"ports", required_argument, NULL, OPT_PORTS},
        {"all-local-ports", no_argument, NULL, OPT_ALL_LOCAL_PORTS},
        {"gateway-ofport", required_argument, NULL, OPT_GATEWAY_OFPORT},
        {"tunnel-type", required_argument, NULL, OPT_TUNNEL_TYPE},
        {"mtu", required_argument, NULL, OPT_MTU},
        {"tunnel-ports", required_argument, NULL, OPT_TUNNEL_PORTS},
        {"tunnel-ofport", required_argument, NULL, OPT_TUNNEL_OFPORT},
        {"dump", no_argument, NULL, OPT_DUMP},
        {"dump-flows", required_argument, NULL, OPT_DUMP_FLOWS},
        {"dump-groups", required_argument, NULL, OPT_DUMP_GROUPS},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };

    memset(o, 0, sizeof *o);
    o->gateway_ofport = 1;
    o->tunnel_ofport = SNAPSHOT_FIRST_TUNNEL_OFPORT;
    optind = 1;
    for (;;) {
        int c = getopt_long(argc, argv, "h", long_options, NULL);
        if (c == -1) {
            break;
        }
        switch (c) {
        case OPT_NODE:
            o->node_name = optarg;
            break;
        case OPT_CLUSTER_CIDR:
            parse_cidr_option("cluster-cidr", optarg, &o->cluster_cidr);
            break;
        case OPT_SERVICE_CIDR:
            parse_cidr_option("service-cidr", optarg, &o->service_cidr);
            break;
        case OPT_PORTS:
            o->ports_file = optarg;
            break;
        case OPT_ALL_LOCAL_PORTS:
            o->all_local_ports = true;
            break;
        case OPT_GATEWAY_OFPORT:
            if (!str_to_int(optarg, 10, &o->gateway_ofport)
                || o->gateway_ofport <= 0
                || o->gateway_ofport >= ofp_to_u16(OFPP_MAX)) {
                ovs_fatal(0, "--gateway-ofport=%s: not a port number",
                          optarg);
            }
            break;
        case OPT_TUNNEL_TYPE:
            if (!flows_tunnel_mode_from_name(optarg, &o->tunnel_mode)
                || o->tunnel_mode == FLOWS_TUNNEL_NONE) {
                ovs_fatal(0, "--tunnel-type=%s: must be vxlan or geneve "
                          "(routed mode needs br-ex, which compute does not "
                          "model)", optarg);
            }
            break;
        case OPT_MTU:
            if (!flows_mtu_from_string(optarg, &o->mtu)) {
                ovs_fatal(0, "--mtu=%s: expected a number from 576 to 65535",
                          optarg);
            }
            break;
        case OPT_TUNNEL_PORTS:
            if (!flows_tunnel_ports_from_name(optarg, &o->tunnel_ports)) {
                ovs_fatal(0, "--tunnel-ports=%s: must be per-node or flow",
                          optarg);
            }
            break;
        case OPT_TUNNEL_OFPORT:
            if (!str_to_int(optarg, 10, &o->tunnel_ofport)
                || o->tunnel_ofport <= 0
                || o->tunnel_ofport >= ofp_to_u16(OFPP_MAX)) {
                ovs_fatal(0, "--tunnel-ofport=%s: not a port number",
                          optarg);
            }
            break;
        case OPT_DUMP:
            o->dump = true;
            break;
        case OPT_DUMP_FLOWS:
            o->dump_flows_file = optarg;
            break;
        case OPT_DUMP_GROUPS:
            o->dump_groups_file = optarg;
            break;
        case 'h':
            compute_usage();
        case '?':
            exit(EXIT_FAILURE);
        default:
            OVS_NOT_REACHED();
        }
    }
    if (optind != argc - 1) {
        ovs_fatal(0, "compute: exactly one state file is required "
                  "(use --help for usage)");
    }
    o->state_file = argv[optind];
    if (!o->node_name) {
        ovs_fatal(0, "compute: --node is required");
    }
    if (o->ports_file && o->all_local_ports) {
        ovs_fatal(0, "compute: --ports and --all-local-ports are exclusive");
    }
}

static void
print_summary(FILE *out, const struct compute_options *o,
              const struct k8s_cluster *cluster, const struct flow_table *ft,
              size_t file_size, size_t n_warnings,
              const struct usage_mark marks[3], long rss_decoded,
              const struct shash *pods, const struct shash *tunnels)
{
    fprintf(out, "state file: %s (%"PRIuSIZE" bytes)\n", o->state_file,
            file_size);
    for (int kind = 0; kind < K8S_N_KINDS; kind++) {
        fprintf(out, "objects %s: %"PRIuSIZE"\n", k8s_kind_name(kind),
                k8s_cluster_count(cluster, kind));
    }
    if (n_warnings) {
        fprintf(out, "skipped objects: %"PRIuSIZE"\n", n_warnings);
    }
    if (o->tunnel_ports == FLOWS_TUNNEL_PORTS_FLOW) {
        fprintf(out, "node: %s, pod ports: %"PRIuSIZE", tunnel ports: 1 "
                "(flow-based, port %d, for %"PRIuSIZE" peers)\n",
                o->node_name, shash_count(pods), o->tunnel_ofport,
                shash_count(tunnels));
    } else {
        fprintf(out, "node: %s, pod ports: %"PRIuSIZE", tunnel ports: "
                "%"PRIuSIZE"\n", o->node_name, shash_count(pods),
                shash_count(tunnels));
    }

    /* The addressing, per family. */
    struct ds s = DS_EMPTY_INITIALIZER;
    ds_put_cstr(&s, "cluster CIDR: ");
    k8s_dual_cidr_format(&o->cluster_cidr, &s);
    ds_put_cstr(&s, ", service CIDR: ");
    k8s_dual_cidr_format(&o->service_cidr, &s);
    fprintf(out, "%s\n", ds_cstr(&s));

    struct flows_input in = { .cluster = cluster, .node_name = o->node_name };
    struct flows_local local;
    flows_local_init(&in, &local);
    ds_clear(&s);
    if (local.valid4) {
        ds_put_cstr(&s, "IPv4 ");
        k8s_cidr_format(&local.pod_cidr, &s);
        ds_put_format(&s, " gateway "IP_FMT, IP_ARGS(local.gateway_ip));
    }
    if (local.valid6) {
        ds_put_cstr(&s, local.valid4 ? ", IPv6 " : "IPv6 ");
        k8s_cidr_format(&local.pod_cidr6, &s);
        ds_put_cstr(&s, " gateway ");
        ipv6_format_addr(&local.gateway_ip6, &s);
    }
    fprintf(out, "pod network: %s\n", s.length ? ds_cstr(&s) : "none");
    ds_destroy(&s);

    struct ds summary = DS_EMPTY_INITIALIZER;
    kovs_pipeline_summary(ft, NULL, &summary);
    fputs(ds_cstr(&summary), out);
    ds_destroy(&summary);

    size_t n_buckets = 0;
    const struct desired_group *g;
    FLOW_TABLE_FOR_EACH_GROUP (g, ft) {
        n_buckets += g->n_buckets;
    }
    fprintf(out, "flows: %"PRIuSIZE"\n", flow_table_count(ft));
    fprintf(out, "groups: %"PRIuSIZE" (%"PRIuSIZE" buckets)\n",
            hmap_count(&ft->groups), n_buckets);
    fprintf(out, "decode: %.0f ms cpu, %.0f ms wall\n",
            marks[1].cpu_ms - marks[0].cpu_ms,
            marks[1].wall_ms - marks[0].wall_ms);
    fprintf(out, "compute: %.0f ms cpu, %.0f ms wall\n",
            marks[2].cpu_ms - marks[1].cpu_ms,
            marks[2].wall_ms - marks[1].wall_ms);
    fprintf(out, "total: %.0f ms cpu, %.0f ms wall\n",
            marks[2].cpu_ms - marks[0].cpu_ms,
            marks[2].wall_ms - marks[0].wall_ms);
    fprintf(out, "peak rss: %ld kB (after decode: %ld kB)\n", peak_rss_kb(),
            rss_decoded);
}

/* The heap bytes in use: what malloc handed out and the program has not
 * freed yet (glibc's count; 0 under an allocator that does not keep it). */
static size_t
heap_in_use(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

static void
print_memory_line(FILE *out, const char *what, size_t bytes, size_t n,
                  const char *unit)
{
    fprintf(out, "memory %s: %.1f MB", what, bytes / 1048576.0);
    if (n) {
        fprintf(out, " (%"PRIuSIZE" bytes per %s)", bytes / n, unit);
    }
    fputc('\n', out);
}

/* Prints what the desired flows and groups, and each kind of object, hold
 * of the heap, by freeing them one after the other: 'ft' is destroyed and
 * 'cluster' emptied. */
static void
print_memory_by_part(FILE *out, struct k8s_cluster *cluster,
                     struct flow_table *ft)
{
    size_t before = heap_in_use();
    if (!before) {
        flow_table_destroy(ft);
        return;
    }

    size_t n_flows = flow_table_count(ft);
    flow_table_destroy(ft);
    size_t now = heap_in_use();
    print_memory_line(out, "flows and groups", before - MIN(before, now),
                      n_flows, "flow");

    struct k8s_cluster empty;
    k8s_cluster_init(&empty);
    for (int kind = 0; kind < K8S_N_KINDS; kind++) {
        size_t n = k8s_cluster_count(cluster, kind);
        before = heap_in_use();
        k8s_cluster_replace_kind(cluster, &empty, kind, NULL);
        k8s_cluster_clear_changes(cluster);
        now = heap_in_use();
        print_memory_line(out, k8s_kind_name(kind), before - MIN(before, now),
                          n, "object");
    }
    k8s_cluster_destroy(&empty);
}

static int
cmd_compute(int argc, char *argv[])
{
    struct compute_options o;
    compute_parse_options(argc, argv, &o);

    /* Decode: from the file on disk to the cluster model. */
    struct usage_mark marks[3];
    usage_mark_take(&marks[0]);

    size_t len;
    struct k8s_cluster cluster;
    k8s_cluster_init(&cluster);
    size_t n_skipped = snapshot_load(o.state_file, &cluster, &len);

    long rss_decoded = peak_rss_kb();

    /* This node's ports, as the switch would report them. */
    struct shash pods = SHASH_INITIALIZER(&pods);
    struct shash tunnels = SHASH_INITIALIZER(&tunnels);
    if (o.ports_file) {
        read_ports_file(o.ports_file, &pods, &tunnels);
    } else if (o.all_local_ports) {
        snapshot_pod_ports(&cluster, o.node_name, &pods);
    }
    bool flow_tunnel = o.tunnel_ports == FLOWS_TUNNEL_PORTS_FLOW;
    if (flow_tunnel) {
        shash_clear_free_data(&tunnels);
        snapshot_flow_tunnel_ports(&cluster, o.node_name, o.tunnel_ofport,
                                   &tunnels);
    } else if (shash_is_empty(&tunnels)) {
        snapshot_tunnel_ports(&cluster, o.node_name, &tunnels);
    }

    struct flows_input in = {
        .cluster = &cluster,
        .node_name = o.node_name,
        .cluster_cidr = o.cluster_cidr,
        .service_cidr = o.service_cidr,
        .gateway_ofport = u16_to_ofp(o.gateway_ofport),
        .pod_ports = &pods,
        .tunnel_ports = &tunnels,
        .tunnel_mode = o.tunnel_mode,
        .mtu = o.mtu,
        .tunnel_port_mode = o.tunnel_ports,
        .tunnel_ofport = flow_tunnel ? u16_to_ofp(o.tunnel_ofport) : 0,
    };

    /* Compute: from the model to the desired flows. */
    usage_mark_take(&marks[1]);
    struct flow_table ft;
    flow_table_init(&ft);
    flows_compute_all(&in, &ft, NULL);
    flow_table_clear_tracked(&ft);
    usage_mark_take(&marks[2]);
    const char **ft_warnings = sset_sort(&ft.warnings);
    for (size_t i = 0; i < sset_count(&ft.warnings); i++) {
        fprintf(stderr, "%s: %s\n", o.state_file, ft_warnings[i]);
    }
    free(ft_warnings);

    print_summary(o.dump ? stderr : stdout, &o, &cluster, &ft, len,
                  n_skipped, marks, rss_decoded, &pods, &tunnels);

    if (o.dump || o.dump_flows_file || o.dump_groups_file) {
        struct svec groups = SVEC_EMPTY_INITIALIZER;
        struct svec flows = SVEC_EMPTY_INITIALIZER;
        if (o.dump_groups_file) {
            snapshot_format_groups(&ft, "", &groups);
            svec_sort(&groups);
            write_lines(o.dump_groups_file, &groups);
            svec_clear(&groups);
        }
        if (o.dump_flows_file) {
            snapshot_format_flows(&ft, "", &flows);
            svec_sort(&flows);
            write_lines(o.dump_flows_file, &flows);
            svec_clear(&flows);
        }
        if (o.dump) {
            /* One atomic bundle, groups first as kovs-controller sends
             * them. */
            snapshot_format_groups(&ft, "group add ", &groups);
            svec_sort(&groups);
            write_lines("-", &groups);
            snapshot_format_flows(&ft, "flow add ", &flows);
            svec_sort(&flows);
            write_lines("-", &flows);
        }
        svec_destroy(&groups);
        svec_destroy(&flows);
    }

    print_memory_by_part(o.dump ? stderr : stdout, &cluster, &ft);
    shash_destroy_free_data(&pods);
    shash_destroy_free_data(&tunnels);
    k8s_cluster_destroy(&cluster);
    return 0;
}

OVS_NO_RETURN static void usage(void);

static void
usage(void)
{
    printf("%s: offline tools for kovs\n"
           "usage: %s COMMAND [OPTIONS] [ARGS]\n"
           "\n"
           "Commands:\n"
           "  compute --node=NAME [OPTIONS] STATE.json\n"
           "      the flows kovs-controller on NAME wants for the cluster"
           " in\n"
           "      STATE.json, with no switch ('compute --help' for more)\n"
           "  trace --from SOURCE --to DESTINATION [OPTIONS] STATE.json\n"
           "      the path of one packet through the flows of the nodes it"
           " crosses,\n"
           "      in Kubernetes terms ('trace --help' for more)\n"
           "\n"
           "Options:\n"
           "  -h, --help              display this help message\n"
           "  -V, --version           display version information\n",
           program_name, program_name);
    exit(EXIT_SUCCESS);
}

int
main(int argc, char *argv[])
{
    ovs_set_program_name(argv[0], PACKAGE_VERSION);
    vlog_set_levels(NULL, VLF_CONSOLE, VLL_WARN);

    if (argc < 2) {
        ovs_fatal(0, "missing command name; use --help for help");
    }
    const char *command = argv[1];
    if (!strcmp(command, "-h") || !strcmp(command, "--help")) {
        usage();
    } else if (!strcmp(command, "-V") || !strcmp(command, "--version")) {
        ovs_print_version(0, 0);
        return 0;
    } else if (!strcmp(command, "compute")) {
        return cmd_compute(argc - 1, argv + 1);
    } else if (!strcmp(command, "trace")) {
        return trace_command(argc - 1, argv + 1);
    }
    ovs_fatal(0, "unknown command \"%s\"; use --help for help", command);
}
