/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#include <config.h>

#include "controller/cniserver.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "controller/cni.h"
#include "controller/ipam.h"
#include "controller/ofctrl.h"
#include "controller/vswitch.h"
#include "flows/flow-table.h"
#include "flows/flows.h"
#include "flows/pipeline.h"
#include "k8s/k8s-model.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/shash.h"
#include "openvswitch/vlog.h"
#include "sset.h"
#include "svec.h"
#include "timeval.h"
#include "unixctl.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(cniserver);

/* The name of the configuration list kovs-controller writes. */
#define CNISERVER_CONFLIST "10-kovs.conflist"

/* The longest a "cni/attach" waits for the pod's flows, whatever the
 * plugin asks. */
#define CNISERVER_MAX_WAIT_MS (10 * 60 * 1000)

static struct {
    char *conf_dir;
    char *run_dir;
    char *control_socket;
    int mtu;
} cfg;

static struct ipam ipam;

/* The ports of kovs-cni's pods, as vswitch wants them, rebuilt from 'ipam'
 * whenever it changes. */
static struct shash cni_ports;
static uint64_t cni_ports_ipam_seqno = UINT64_MAX;
static unsigned int cni_ports_plen;
static struct k8s_cidr cni_ports_cidr6; /* Zeros on an IPv4-only node. */

/* Interfaces marked as installed, and for the pods whose flows are in the
 * desired table but not yet confirmed, the bundle that confirms them. */
static struct sset installed;
static struct shash pending_marks;  /* Interface name -> uint64_t *. */
static uint64_t seqno;              /* Changes with 'cni_ports' and
                                     * 'installed'. */
static bool marks_computed;         /* 'installed' is up to date. */

/* "cni/attach" requests waiting for their pod's flows. */
struct attach_waiter {
    struct ovs_list list_node;
    struct unixctl_conn *conn;
    char *container_id;
    char *ifname;
    long long int deadline;
};
static struct ovs_list waiters = OVS_LIST_INITIALIZER(&waiters);

/* What the last cniserver_run() saw; the objects pointed to belong to the
 * main loop and live as long as it runs. */
static struct cniserver_input last;
static const char *node_name;
static bool ready;                  /* The node can take pods. */

static char *conflist_written;      /* What the file holds, if kovs wrote
                                     * it. */
static struct sset mismatches_logged;

static void register_commands(void);

static void
cni_port_free(void *cp_)
{
    struct vswitch_cni_port *cp = cp_;
    if (cp) {
        free(cp->iface_id);
        free(cp->ip_addresses);
        free(cp->attachment);
        free(cp);
    }
}

static void
cni_ports_clear(void)
{
    struct shash_node *node;
    SHASH_FOR_EACH_SAFE (node, &cni_ports) {
        cni_port_free(node->data);
        shash_delete(&cni_ports, node);
    }
}

void
cniserver_init(const struct cniserver_config *c)
{
    cfg.conf_dir = c->conf_dir && c->conf_dir[0] ? xstrdup(c->conf_dir)
                                                 : NULL;
    cfg.run_dir = xstrdup(c->run_dir);
    cfg.control_socket = nullable_xstrdup(c->control_socket);
    cfg.mtu = c->mtu;
    shash_init(&cni_ports);
    sset_init(&installed);
    shash_init(&pending_marks);
    sset_init(&mismatches_logged);

    char *error = ipam_init(&ipam, c->ipam_file);
    if (error) {
        VLOG_ERR("pod address allocations: %s", error);
        free(error);
    } else {
        VLOG_INFO("pod address allocations in %s: %"PRIuSIZE, c->ipam_file,
                  hmap_count(&ipam.attachments));
    }
    register_commands();
}

void
cniserver_destroy(void)
{
    struct attach_waiter *w;
    LIST_FOR_EACH_POP (w, list_node, &waiters) {
        unixctl_command_reply_error(w->conn, "code 11: kovs-controller is "
                                    "exiting");
        free(w->container_id);
        free(w->ifname);
        free(w);
    }
    cni_ports_clear();
    shash_destroy(&cni_ports);
    sset_destroy(&installed);
    shash_destroy_free_data(&pending_marks);
    sset_destroy(&mismatches_logged);
    ipam_destroy(&ipam);
    free(cfg.conf_dir);
    free(cfg.run_dir);
    free(cfg.control_socket);
    free(conflist_written);
}

const struct shash *
cniserver_ports(void)
{
    /* Until they are known (after a restart, that takes the node's
     * podCIDR), the ports on br-int stay as they are. */
    return cni_ports_ipam_seqno != UINT64_MAX ? &cni_ports : NULL;
}

const struct sset *
cniserver_installed(void)
{
    /* Until the marks are computed, the ones in the database (from before
     * a restart) stay as they are. */
    return marks_computed ? &installed : NULL;
}

uint64_t
cniserver_seqno(void)
{
    return seqno;
}

/* Returns true if 'att' has an IPv6 address of this node's IPv6 podCIDR:
 * one the pod is told about and the port carries. */
static bool
attachment_has_local_ip6(const struct ipam_attachment *att)
{
    return (att->has_ip6 && last.local->valid6
            && flows_local_has_ipv6(last.local, &att->ip6));
}

/* The ports of kovs-cni's pods follow the allocations: one per attachment
 * whose veth exists. */
static void
update_cni_ports(void)
{
    if (!last.local || !last.local->valid) {
        return;
    }
    unsigned int plen = last.local->pod_cidr.plen;
    struct k8s_cidr cidr6;
    memset(&cidr6, 0, sizeof cidr6);
    if (last.local->valid6) {
        cidr6 = last.local->pod_cidr6;
    }
    if (ipam.seqno == cni_ports_ipam_seqno && plen == cni_ports_plen
        && cidr6.plen == cni_ports_cidr6.plen
        && ipv6_addr_equals(&cidr6.addr, &cni_ports_cidr6.addr)) {
        return;
    }
    cni_ports_ipam_seqno = ipam.seqno;
    cni_ports_plen = plen;
    cni_ports_cidr6 = cidr6;
    cni_ports_clear();

    const struct ipam_attachment *att;
    HMAP_FOR_EACH (att, key_node, &ipam.attachments) {
        if (!att->attached) {
            continue;
        }
        struct vswitch_cni_port *cp = xzalloc(sizeof *cp);
        cp->iface_id = xstrdup(att->pod);
        cp->mac = att->mac;
        struct ds ips = DS_EMPTY_INITIALIZER;
        if (att->ip && last.local->valid4) {
            ds_put_format(&ips, IP_FMT"/%u", IP_ARGS(att->ip), plen);
        }
        if (attachment_has_local_ip6(att)) {
            if (ips.length) {
                ds_put_char(&ips, ',');
            }
            ipv6_format_addr(&att->ip6, &ips);
            ds_put_format(&ips, "/%u", cidr6.plen);
        }
        cp->ip_addresses = ds_steal_cstr(&ips);
        cp->attachment = xstrdup(att->key);
        if (!shash_add_once(&cni_ports, att->host_ifname, cp)) {
            cni_port_free(cp);
        }
    }
    seqno++;
    poll_immediate_wake();
}

/* Returns true if pod 'name' ("namespace/name") has flows in the desired
 * table. */
static bool
pod_has_flows(const struct flow_table *flows, const char *name)
{
    struct k8s_key key;
    bool has_flows = (k8s_key_parse(&key, K8S_POD, name)
                      && flow_table_owner_count(
                             flows, kovs_cookie(KOVS_OWNER_POD, key.namespace,
                                                key.name)) > 0);
    k8s_key_destroy(&key);
    return has_flows;
}

/* Brings the set of interfaces marked as installed up to date: a pod's
 * interface is marked once the bundle that carried the desired table
 * holding its flows (and so the flows of the policies that select it,
 * which are computed with them) is acknowledged. */
static void
update_marks(const struct cniserver_input *in)
{
    uint64_t sent = ofctrl_get_sent_seqno(in->br_int);
    uint64_t acked = ofctrl_get_acked_seqno(in->br_int);
    struct sset new_installed = SSET_INITIALIZER(&new_installed);
    struct shash new_pending = SHASH_INITIALIZER(&new_pending);

    struct shash_node *node;
    SHASH_FOR_EACH (node, &in->ports->pod_ifaces) {
        const struct vswitch_pod_iface *pi = node->data;
        if (!pod_has_flows(in->flows, node->name)) {
            continue;
        }
        if (sset_contains(&installed, pi->name)) {
            sset_add(&new_installed, pi->name);
            continue;
        }
        uint64_t *seq = shash_find_and_delete(&pending_marks, pi->name);
        if (!seq) {
            seq = xmalloc(sizeof *seq);
            *seq = sent;
        }
        if (acked >= *seq) {
            sset_add(&new_installed, pi->name);
            free(seq);
        } else {
            shash_add(&new_pending, pi->name, seq);
        }
    }
    shash_clear_free_data(&pending_marks);
    shash_swap(&pending_marks, &new_pending);
    shash_destroy(&new_pending);

    if (!marks_computed || !sset_equals(&installed, &new_installed)) {
        sset_swap(&installed, &new_installed);
        marks_computed = true;
        seqno++;
        poll_immediate_wake();
    }
    sset_destroy(&new_installed);
}

/* Logs, once for each disagreement, a pod whose port carries another
 * address than its Pod object: the port's is the one kovs uses. */
static void
log_mismatches(const struct cniserver_input *in)
{
    struct shash_node *node;
    SHASH_FOR_EACH (node, &in->ports->pods) {
        const struct flows_port *port = node->data;
        if (!port->ip) {
            continue;
        }
        const struct k8s_object *obj = k8s_cluster_find_named(in->cluster,
                                                              K8S_POD,
                                                              node->name);
        ovs_be32 pod_ip = obj ? flows_pod_object_ipv4(k8s_pod_cast(obj)) : 0;
        if (!pod_ip || pod_ip == port->ip) {
            continue;
        }
        char *key = xasprintf("%s "IP_FMT" "IP_FMT, node->name,
                              IP_ARGS(port->ip), IP_ARGS(pod_ip));
        if (sset_add(&mismatches_logged, key)) {
            const struct vswitch_pod_iface *pi
                = shash_find_data(&in->ports->pod_ifaces, node->name);
            VLOG_WARN("pod %s: its port %s says its address is "IP_FMT", "
                      "the Pod object's status says "IP_FMT"; the port's "
                      "address is used", node->name, pi ? pi->name : "?",
                      IP_ARGS(port->ip), IP_ARGS(pod_ip));
        }
        free(key);
    }
}

/* Creates 'dir' and its missing parents. */
static int
make_dirs(const char *dir)
{
    if (!mkdir(dir, 0755) || errno == EEXIST) {
        return 0;
    }
    if (errno != ENOENT) {
        return errno;
    }
    char *parent = dir_name(dir);
    int error = strcmp(parent, dir) ? make_dirs(parent) : ENOENT;
    free(parent);
    if (!error && mkdir(dir, 0755) && errno != EEXIST) {
        error = errno;
    }
    return error;
}

/* The configuration list of kovs-cni for this node, as JSON text. */
static char *
conflist_text(void)
{
    struct json *plugin = json_object_create();
    json_object_put_string(plugin, "type", CNI_PLUGIN_TYPE);
    json_object_put_string(plugin, "runDir", cfg.run_dir);
    if (cfg.control_socket) {
        json_object_put_string(plugin, "controlSocket", cfg.control_socket);
    }
    json_object_put(plugin, "mtu", json_integer_create(cfg.mtu));
    if (last.ports->datapath_type[0]) {
        json_object_put_string(plugin, "datapathType",
                               last.ports->datapath_type);
    }

    struct json *j = json_object_create();
    json_object_put_string(j, "cniVersion", "1.0.0");
    json_object_put(j, "cniVersions",
                    json_array_create_2(json_string_create("1.0.0"),
                                        json_string_create("1.1.0")));
    json_object_put_string(j, "name", "kovs");
    json_object_put(j, "plugins", json_array_create_1(plugin));
    char *s = json_to_string(j, JSSF_SORT | JSSF_PRETTY);
    json_destroy(j);
    char *text = xasprintf("%s\n", s);
    free(s);
    return text;
}

/* Writes the configuration list, if it changed, atomically: the container
 * runtime may read it at any moment. */
static void
write_conflist(void)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
    if (!cfg.conf_dir) {
        return;
    }
    char *text = conflist_text();
    if (conflist_written && !strcmp(text, conflist_written)) {
        free(text);
        return;
    }

    char *file = xasprintf("%s/%s", cfg.conf_dir, CNISERVER_CONFLIST);
    char *tmp = xasprintf("%s/.%s.tmp", cfg.conf_dir, CNISERVER_CONFLIST);
    int error = make_dirs(cfg.conf_dir);
    FILE *stream = error ? NULL : fopen(tmp, "w");
    if (!error && !stream) {
        error = errno;
    }
    if (stream) {
        fputs(text, stream);
        if (fflush(stream) || fsync(fileno(stream))) {
            error = errno;
        }
        if (fclose(stream) && !error) {
            error = errno;
        }
        if (!error && rename(tmp, file)) {
            error = errno;
        }
        if (error) {
            unlink(tmp);
        }
    }
    if (error) {
        VLOG_WARN_RL(&rl, "%s: could not write the CNI configuration: %s",
                     file, ovs_strerror(error));
        free(text);
    } else {
        VLOG_INFO("wrote the CNI configuration %s", file);
        free(conflist_written);
        conflist_written = text;
    }
    free(file);
    free(tmp);
}

/* Returns why the node cannot take pods, or NULL if it can. */
static const char *
not_ready_reason(const struct cniserver_input *in)
{
    if (!in->ovsdb_connected) {
        return "not connected to the switch's database";
    }
    if (!in->switch_connected) {
        return "not connected to the switch (OpenFlow)";
    }
    if (!in->k8s_ready) {
        return "the Kubernetes state is not complete yet";
    }
    if (!in->local->valid) {
        return "this node has no podCIDR yet";
    }
    return NULL;
}

/* Explains why the flows of attachment 'att' are not installed. */
static char *
explain_not_installed(const struct ipam_attachment *att)
{
    const struct k8s_object *obj = k8s_cluster_find_named(last.cluster,
                                                          K8S_POD, att->pod);
    const struct vswitch_pod_iface *pi
        = shash_find_data(&last.ports->pod_ifaces, att->pod);
    const char *reason = not_ready_reason(&last);

    if (reason) {
        return xstrdup(reason);
    } else if (!obj) {
        return xasprintf("kovs-controller has no Pod %s", att->pod);
    } else if (strcmp(k8s_pod_cast(obj)->node_name, node_name)) {
        return xasprintf("Pod %s is scheduled on node \"%s\", not on %s",
                         att->pod, k8s_pod_cast(obj)->node_name, node_name);
    } else if (!pi || strcmp(pi->name, att->host_ifname)) {
        return xasprintf("interface %s of pod %s is not on br-int with an "
                         "OpenFlow port", att->host_ifname, att->pod);
    } else if (!pod_has_flows(last.flows, att->pod)) {
        return xasprintf("Pod %s gets no flows (host network, or an address "
                         "outside the podCIDR)", att->pod);
    } else {
        return xasprintf("the switch has not confirmed the flows of pod %s",
                         att->pod);
    }
}

static void
waiter_free(struct attach_waiter *w)
{
    ovs_list_remove(&w->list_node);
    free(w->container_id);
    free(w->ifname);
    free(w);
}

/* Answers the "cni/attach" requests whose pod's interface is marked, or
 * whose time is up. */
static void
run_waiters(void)
{
    struct attach_waiter *w;
    LIST_FOR_EACH_SAFE (w, list_node, &waiters) {
        const struct ipam_attachment *att = ipam_find(&ipam, w->container_id,
                                                      w->ifname);
        if (!att) {
            unixctl_command_reply_error(w->conn, "code 11: the attachment "
                                        "was deleted while waiting for its "
                                        "flows");
            waiter_free(w);
            continue;
        }
        const struct vswitch_pod_iface *pi
            = shash_find_data(&last.ports->pod_ifaces, att->pod);
        if (pi && !strcmp(pi->name, att->host_ifname) && pi->installed) {
            unixctl_command_reply(w->conn, "installed");
            waiter_free(w);
        } else if (time_msec() >= w->deadline) {
            char *why = explain_not_installed(att);
            char *msg = xasprintf("code %d: the flows of pod %s (%s) were "
                                  "not installed in time: %s",
                                  CNI_ERR_FLOWS_TIMEOUT, att->pod,
                                  att->host_ifname, why);
            VLOG_WARN("%s", msg + strlen("code 102: "));
            unixctl_command_reply_error(w->conn, msg);
            free(msg);
            free(why);
            waiter_free(w);
        }
    }
}

void
cniserver_run(const struct cniserver_input *in)
{
    last = *in;
    node_name = in->node_name;
    update_cni_ports();
    if (in->put_done) {
        update_marks(in);
        log_mismatches(in);
    }
    ready = !not_ready_reason(in) && in->put_done;
    if (ready) {
        write_conflist();
    }
    run_waiters();
}

void
cniserver_wait(void)
{
    const struct attach_waiter *w;
    LIST_FOR_EACH (w, list_node, &waiters) {
        poll_timer_wait_until(w->deadline);
    }
}

void
cniserver_format_status(struct ds *ds)
{
    ds_put_format(ds, "cni: %"PRIuSIZE" attachments, %"PRIuSIZE" ports, "
                  "%"PRIuSIZE" installed, %"PRIuSIZE" waiting; "
                  "configuration %s/%s %s\n",
                  hmap_count(&ipam.attachments), shash_count(&cni_ports),
                  sset_count(&installed), ovs_list_size(&waiters),
                  cfg.conf_dir ? cfg.conf_dir : "(none)", CNISERVER_CONFLIST,
                  conflist_written ? "written" : "not written");
}

/* unixctl commands. */

/* Replies to 'conn' with error code 'code' and a message. */
static void OVS_PRINTF_FORMAT(3, 4)
reply_error(struct unixctl_conn *conn, int code, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    char *msg = xvasprintf(format, args);
    va_end(args);
    char *text = xasprintf("code %d: %s", code, msg);
    unixctl_command_reply_error(conn, text);
    free(text);
    free(msg);
}

static bool
check_attachment_args(struct unixctl_conn *conn, const char *container_id,
                      const char *ifname)
{
    if (!cni_container_id_is_valid(container_id)) {
        reply_error(conn, CNI_ERR_INVALID_ENV, "invalid container ID \"%s\"",
                    container_id);
        return false;
    }
    if (!cni_ifname_is_valid(ifname)) {
        reply_error(conn, CNI_ERR_INVALID_ENV, "invalid interface name "
                    "\"%s\"", ifname);
        return false;
    }
    return true;
}

/* Puts the description of 'att' that the plugin reads.  On a dual-stack
 * node it has "ip6" and "gateway6" too. */
static void
format_attachment(const struct ipam_attachment *att, struct ds *ds)
{
    if (att->ip && last.local->valid4) {
        ds_put_format(ds, "ip="IP_FMT"/%u gateway="IP_FMT" ",
                      IP_ARGS(att->ip), last.local->pod_cidr.plen,
                      IP_ARGS(last.local->gateway_ip));
    }
    ds_put_format(ds, "mac="ETH_ADDR_FMT" host-ifname=%s mtu=%d pod=%s",
                  ETH_ADDR_ARGS(att->mac), att->host_ifname, cfg.mtu,
                  att->pod);
    if (attachment_has_local_ip6(att)) {
        ds_put_cstr(ds, " ip6=");
        ipv6_format_addr(&att->ip6, ds);
        ds_put_format(ds, "/%u gateway6=", last.local->pod_cidr6.plen);
        ipv6_format_addr(&last.local->gateway_ip6, ds);
    }
    ds_put_char(ds, '\n');
}

/* Puts the addresses of 'att' into 'ds', for log messages. */
static void
format_addresses(const struct ipam_attachment *att, struct ds *ds)
{
    if (att->ip) {
        ds_put_format(ds, IP_FMT, IP_ARGS(att->ip));
    }
    if (att->has_ip6) {
        ds_put_cstr(ds, att->ip ? " and " : "");
        ipv6_format_addr(&att->ip6, ds);
    }
}

/* "cni/add CONTAINERID IFNAME NAMESPACE/NAME": allocates the attachment's
 * address (or returns the one it has). */
static void
cni_unixctl_add(struct unixctl_conn *conn, int argc OVS_UNUSED,
                const char *argv[], void *aux OVS_UNUSED)
{
    const char *container_id = argv[1], *ifname = argv[2], *pod = argv[3];
    if (!check_attachment_args(conn, container_id, ifname)) {
        return;
    }
    struct k8s_key key;
    bool valid = k8s_key_parse(&key, K8S_POD, pod);
    k8s_key_destroy(&key);
    if (!valid) {
        reply_error(conn, CNI_ERR_INVALID_ENV, "\"%s\" is not "
                    "NAMESPACE/NAME", pod);
        return;
    }
    const char *reason = last.local ? not_ready_reason(&last)
                                    : "kovs-controller is starting";
    if (reason) {
        reply_error(conn, CNI_ERR_TRY_AGAIN, "node %s cannot take pods yet: "
                    "%s", node_name ? node_name : "?", reason);
        return;
    }

    struct ipam_attachment *att = ipam_find(&ipam, container_id, ifname);
    if (att && strcmp(att->pod, pod)) {
        reply_error(conn, CNI_ERR_INVALID_ENV, "attachment %s/%s belongs to "
                    "pod %s, not %s", container_id, ifname, att->pod, pod);
        return;
    }
    struct ipam_range range = {
        .has_ip = last.local->valid4,
        .net = last.local->pod_net,
        .plen = last.local->pod_cidr.plen,
        .has_ip6 = last.local->valid6,
        .net6 = last.local->pod_cidr6.addr,
        .plen6 = last.local->pod_cidr6.plen,
    };
    char *error = ipam_allocate(&ipam, container_id, ifname, pod, &range,
                                &att);
    if (error) {
        VLOG_WARN("pod %s: no address: %s", pod, error);
        reply_error(conn, CNI_ERR_IO, "%s", error);
        free(error);
        return;
    }
    struct ds ds = DS_EMPTY_INITIALIZER;
    format_addresses(att, &ds);
    VLOG_INFO("pod %s: attachment %s has address %s", pod, att->key,
              ds_cstr(&ds));

    ds_clear(&ds);
    format_attachment(att, &ds);
    unixctl_command_reply(conn, ds_cstr(&ds));
    ds_destroy(&ds);
}

/* "cni/attach CONTAINERID IFNAME TIMEOUT_MS": the attachment's veth
 * exists; puts its port on br-int and answers once the pod's flows are
 * installed, or with an error after TIMEOUT_MS. */
static void
cni_unixctl_attach(struct unixctl_conn *conn, int argc OVS_UNUSED,
                   const char *argv[], void *aux OVS_UNUSED)
{
    const char *container_id = argv[1], *ifname = argv[2];
    int timeout;
    if (!check_attachment_args(conn, container_id, ifname)) {
        return;
    }
    if (!str_to_int(argv[3], 10, &timeout) || timeout < 0) {
        reply_error(conn, CNI_ERR_INVALID_CONFIG, "\"%s\" is not a timeout "
                    "in milliseconds", argv[3]);
        return;
    }
    struct ipam_attachment *att = ipam_find(&ipam, container_id, ifname);
    if (!att) {
        reply_error(conn, CNI_ERR_UNKNOWN_CONTAINER, "attachment %s/%s has "
                    "no address", container_id, ifname);
        return;
    }
    char *error = ipam_set_attached(&ipam, att);
    if (error) {
        reply_error(conn, CNI_ERR_IO, "%s", error);
        free(error);
        return;
    }

    struct attach_waiter *w = xmalloc(sizeof *w);
    w->conn = conn;
    w->container_id = xstrdup(container_id);
    w->ifname = xstrdup(ifname);
    w->deadline = time_msec() + MIN(timeout, CNISERVER_MAX_WAIT_MS);
    ovs_list_push_back(&waiters, &w->list_node);
    poll_immediate_wake();
}

/* "cni/del CONTAINERID IFNAME": releases the attachment's address and
 * removes its port.  Nothing to release is not an error. */
static void
cni_unixctl_del(struct unixctl_conn *conn, int argc OVS_UNUSED,
                const char *argv[], void *aux OVS_UNUSED)
{
    const char *container_id = argv[1], *ifname = argv[2];
    if (!check_attachment_args(conn, container_id, ifname)) {
        return;
    }
    const struct ipam_attachment *att = ipam_find(&ipam, container_id,
                                                  ifname);
    if (!att) {
        unixctl_command_reply(conn, "nothing to release");
        return;
    }
    char *pod = xstrdup(att->pod);
    struct ds addresses = DS_EMPTY_INITIALIZER;
    format_addresses(att, &addresses);
    char *error = ipam_release(&ipam, container_id, ifname);
    if (error) {
        reply_error(conn, CNI_ERR_IO, "%s", error);
        free(error);
    } else {
        VLOG_INFO("pod %s: released attachment %s/%s (%s)", pod,
                  container_id, ifname, ds_cstr(&addresses));
        unixctl_command_reply(conn, "released");
        poll_immediate_wake();
    }
    ds_destroy(&addresses);
    free(pod);
}

/* "cni/check CONTAINERID IFNAME": what the attachment has, or an error if
 * its address, port or flows are missing. */
static void
cni_unixctl_check(struct unixctl_conn *conn, int argc OVS_UNUSED,
                  const char *argv[], void *aux OVS_UNUSED)
{
    const char *container_id = argv[1], *ifname = argv[2];
    if (!check_attachment_args(conn, container_id, ifname)) {
        return;
    }
    const struct ipam_attachment *att = ipam_find(&ipam, container_id,
                                                  ifname);
    if (!att || !att->attached) {
        reply_error(conn, CNI_ERR_UNKNOWN_CONTAINER, "attachment %s/%s has "
                    "%s", container_id, ifname,
                    att ? "no port" : "no address");
        return;
    }
    if (!last.local || !last.local->valid) {
        reply_error(conn, CNI_ERR_TRY_AGAIN, "this node has no podCIDR");
        return;
    }
    const struct vswitch_pod_iface *pi
        = shash_find_data(&last.ports->pod_ifaces, att->pod);
    if (!pi || strcmp(pi->name, att->host_ifname) || !pi->installed) {
        char *why = explain_not_installed(att);
        reply_error(conn, CNI_ERR_CHECK_FAILED, "pod %s: %s", att->pod, why);
        free(why);
        return;
    }
    struct ds ds = DS_EMPTY_INITIALIZER;
    format_attachment(att, &ds);
    unixctl_command_reply(conn, ds_cstr(&ds));
    ds_destroy(&ds);
}

/* "cni/gc [CONTAINERID/IFNAME]...": releases every attachment not listed,
 * with its port. */
static void
cni_unixctl_gc(struct unixctl_conn *conn, int argc, const char *argv[],
               void *aux OVS_UNUSED)
{
    struct sset valid = SSET_INITIALIZER(&valid);
    for (int i = 1; i < argc; i++) {
        sset_add(&valid, argv[i]);
    }
    struct svec released = SVEC_EMPTY_INITIALIZER;
    char *error = ipam_gc(&ipam, &valid, &released);
    if (error) {
        reply_error(conn, CNI_ERR_IO, "%s", error);
        free(error);
    } else {
        struct ds ds = DS_EMPTY_INITIALIZER;
        ds_put_format(&ds, "released %"PRIuSIZE"\n", released.n);
        for (size_t i = 0; i < released.n; i++) {
            VLOG_INFO("released attachment %s: not among the runtime's "
                      "valid attachments", released.names[i]);
            ds_put_format(&ds, "%s\n", released.names[i]);
        }
        unixctl_command_reply(conn, ds_cstr(&ds));
        ds_destroy(&ds);
        poll_immediate_wake();
    }
    svec_destroy(&released);
    sset_destroy(&valid);
}

/* "cni/status": whether this node can take pods. */
static void
cni_unixctl_status(struct unixctl_conn *conn, int argc OVS_UNUSED,
                   const char *argv[] OVS_UNUSED, void *aux OVS_UNUSED)
{
    const char *reason = last.local ? not_ready_reason(&last)
                                    : "kovs-controller is starting";
    if (reason) {
        reply_error(conn, CNI_ERR_NOT_AVAILABLE, "%s", reason);
    } else {
        unixctl_command_reply(conn, "ready");
    }
}

static void
register_commands(void)
{
    unixctl_command_register("cni/add", "CONTAINERID IFNAME NAMESPACE/NAME",
                             3, 3, cni_unixctl_add, NULL);
    unixctl_command_register("cni/attach", "CONTAINERID IFNAME TIMEOUT_MS",
                             3, 3, cni_unixctl_attach, NULL);
    unixctl_command_register("cni/del", "CONTAINERID IFNAME", 2, 2,
                             cni_unixctl_del, NULL);
    unixctl_command_register("cni/check", "CONTAINERID IFNAME", 2, 2,
                             cni_unixctl_check, NULL);
    unixctl_command_register("cni/gc", "[CONTAINERID/IFNAME]...", 0, INT_MAX,
                             cni_unixctl_gc, NULL);
    unixctl_command_register("cni/status", "", 0, 0, cni_unixctl_status,
                             NULL);
}
