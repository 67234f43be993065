/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0.
 *
 * kovs-cni: the CNI plugin that plugs pods into br-int.
 *
 * The container runtime runs it with the verb and the container in the
 * environment and the network configuration (written by kovs-controller)
 * on stdin.  The plugin does in the pod's network namespace what only it
 * can do there: the veth pair, the pod's MAC, address, default route and
 * MTU.  Everything else it asks of kovs-controller over the controller's
 * unixctl socket: the address (cni/add), the port on br-int and the wait
 * for the pod's flows (cni/attach), its removal (cni/del), CHECK, GC and
 * STATUS.  Every failure is a CNI error object on stdout and a non-zero
 * exit, and a failed ADD undoes what it did. */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <linux/veth.h>
#include <net/if.h>
#include <net/route.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include "controller/cni.h"
#include "controller/ipam.h"
#include "daemon.h"
#include "jsonrpc.h"
#include "netlink-socket.h"
#include "netlink.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "packets.h"
#include "smap.h"
#include "timeval.h"
#include "unixctl.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(kovs_cni);

extern char **environ;

/* How long a request to kovs-controller other than the wait for the flows
 * may take. */
#define CONTROLLER_TIMEOUT_MS 10000

/* What the runtime asked for. */
struct request {
    struct cni_env env;
    struct cni_config conf;
};

/* What kovs-controller allocated to an attachment ("cni/add" and
 * "cni/check" replies). */
struct attachment {
    ovs_be32 ip;                    /* 0 on an IPv6-only node. */
    unsigned int plen;
    ovs_be32 gateway;
    bool has_ip6;                   /* On a node with an IPv6 podCIDR: */
    struct in6_addr ip6;            /* the IPv6 address, */
    unsigned int plen6;             /* its prefix length */
    struct in6_addr gateway6;       /* and gateway. */
    struct eth_addr mac;
    char *host_ifname;
    int mtu;
};

static void
attachment_destroy(struct attachment *a)
{
    free(a->host_ifname);
    memset(a, 0, sizeof *a);
}

/* Talking to kovs-controller. */

/* Returns the control socket of kovs-controller that 'conf' names, or
 * NULL (with 'error' set) if it is not running. */
static char *
controller_socket(const struct cni_config *conf, struct cni_error *error)
{
    if (conf->socket) {
        return xstrdup(conf->socket);
    }
    char *pidfile = xasprintf("%s/kovs-controller.pid", conf->run_dir);
    pid_t pid = read_pidfile(pidfile);
    if (pid <= 0) {
        cni_error_set(error, CNI_ERR_TRY_AGAIN, "kovs-controller is not "
                      "running: %s: %s", pidfile,
                      ovs_retval_to_string(-pid));
        free(pidfile);
        return NULL;
    }
    free(pidfile);
    return xasprintf("%s/kovs-controller.%ld.ctl", conf->run_dir,
                     (long int) pid);
}

/* Runs unixctl command 'command' with 'argc' arguments 'argv' in
 * kovs-controller and waits for the answer until 'deadline'.  On success
 * stores the reply in '*reply' (the caller frees it) and returns true.
 * Otherwise sets 'error': an error reply "code N: MESSAGE" becomes CNI
 * error N, others 'fail_code'. */
static bool
controller_call(const struct cni_config *conf, const char *command,
                int argc, const char *argv[], long long int deadline,
                int fail_code, char **reply, struct cni_error *error)
{
    *reply = NULL;
    char *path = controller_socket(conf, error);
    if (!path) {
        return false;
    }

    struct jsonrpc *rpc;
    int retval = unixctl_client_create(path, &rpc);
    if (retval) {
        cni_error_set(error, fail_code, "cannot reach kovs-controller at "
                      "%s: %s", path, ovs_strerror(retval));
        free(path);
        return false;
    }

    struct json **args = xmalloc((argc + 1) * sizeof *args);
    for (int i = 0; i < argc; i++) {
        args[i] = json_string_create(argv[i]);
    }
    struct jsonrpc_msg *request = jsonrpc_create_request(
        command, json_array_create(args, argc), NULL);
    struct json *id = json_clone(request->id);
    struct jsonrpc_msg *msg = NULL;
    retval = jsonrpc_send(rpc, request);
    while (!retval) {
        jsonrpc_run(rpc);
        retval = jsonrpc_recv(rpc, &msg);
        if (!retval) {
            if (json_equal(msg->id, id)) {
                break;
            }
            jsonrpc_msg_destroy(msg);
            msg = NULL;
        } else if (retval == EAGAIN) {
            if (time_msec() >= deadline) {
                retval = ETIMEDOUT;
                break;
            }
            retval = 0;
            jsonrpc_wait(rpc);
            jsonrpc_recv_wait(rpc);
            poll_timer_wait_until(deadline);
            poll_block();
        }
    }
    json_destroy(id);
    jsonrpc_close(rpc);

    bool ok = false;
    if (retval) {
        cni_error_set(error, retval == ETIMEDOUT ? CNI_ERR_FLOWS_TIMEOUT
                      : fail_code, "kovs-controller (%s) did not answer "
                      "\"%s\": %s", path, command,
                      retval == ETIMEDOUT ? "timed out"
                      : ovs_retval_to_string(retval));
    } else if (msg->error) {
        const char *text = (msg->error->type == JSON_STRING
                            ? json_string(msg->error) : "(no message)");
        int code = 0, n = 0;
        if (sscanf(text, "code %d: %n", &code, &n) == 1 && n > 0) {
            text += n;
        } else {
            code = fail_code;
        }
        cni_error_set(error, code, "kovs-controller: %.*s",
                      (int) strcspn(text, "\n"), text);
    } else if (msg->result && msg->result->type == JSON_STRING) {
        *reply = xstrdup(json_string(msg->result));
        ok = true;
    } else {
        *reply = xstrdup("");
        ok = true;
    }
    jsonrpc_msg_destroy(msg);
    free(path);
    return ok;
}

/* Parses the "key=value ..." description of an attachment that
 * kovs-controller sends; on a dual-stack node it has "ip6" and "gateway6"
 * too. */
static bool
parse_attachment(const char *reply, struct attachment *a,
                 struct cni_error *error)
{
    struct smap kv = SMAP_INITIALIZER(&kv);
    char *copy = xstrdup(reply);
    char *save = NULL;
    for (char *tok = strtok_r(copy, " \n", &save); tok;
         tok = strtok_r(NULL, " \n", &save)) {
        char *eq = strchr(tok, '=');
        if (eq) {
            *eq = '\0';
            smap_replace(&kv, tok, eq + 1);
        }
    }
    free(copy);

    memset(a, 0, sizeof *a);
    const char *ip = smap_get(&kv, "ip");
    const char *gw = smap_get(&kv, "gateway");
    const char *mac = smap_get(&kv, "mac");
    const char *host = smap_get(&kv, "host-ifname");
    ovs_be32 mask = 0;
    char *err = ip ? ip_parse_masked(ip, &a->ip, &mask) : NULL;
    bool ok = (!err && (!ip || (gw && ip_parse(gw, &a->gateway) && a->ip))
               && mac && eth_addr_from_string(mac, &a->mac)
               && host && cni_ifname_is_valid(host)
               && smap_get_int(&kv, "mtu", 0) > 0);
    free(err);
    const char *ip6 = smap_get(&kv, "ip6");
    const char *gw6 = smap_get(&kv, "gateway6");
    if (ok && (ip6 || gw6)) {
        err = ip6 ? ipv6_parse_cidr(ip6, &a->ip6, &a->plen6)
                  : xstrdup("none");
        ok = !err && gw6 && ipv6_parse(gw6, &a->gateway6);
        a->has_ip6 = ok;
        free(err);
    }
    if (ok && !ip && !a->has_ip6) {
        ok = false;             /* Neither an IPv4 nor an IPv6 address. */
    }
    if (ok) {
        a->plen = ip_count_cidr_bits(mask);
        a->host_ifname = xstrdup(host);
        a->mtu = smap_get_int(&kv, "mtu", 0);
    } else {
        cni_error_set(error, CNI_ERR_DECODE, "kovs-controller's answer "
                      "\"%s\" is not what kovs-cni expects", reply);
    }
    smap_destroy(&kv);
    return ok;
}

/* Network namespaces. */

/* The host's and the pod's network namespaces, as file descriptors. */
struct netns {
    int host_fd;
    int pod_fd;                     /* -1 if the pod's is gone. */
};

static bool
netns_open(const char *path, bool must_exist, struct netns *ns,
           struct cni_error *error)
{
    ns->host_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (ns->host_fd < 0) {
        cni_error_set(error, CNI_ERR_IO, "/proc/self/ns/net: %s",
                      ovs_strerror(errno));
        return false;
    }
    ns->pod_fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    if (ns->pod_fd < 0 && must_exist) {
        cni_error_set(error, CNI_ERR_UNKNOWN_CONTAINER,
                      "network namespace %s: %s", path ? path : "(none)",
                      path ? ovs_strerror(errno) : "not given");
        close(ns->host_fd);
        return false;
    }
    return true;
}

static void
netns_close(struct netns *ns)
{
    close(ns->host_fd);
    if (ns->pod_fd >= 0) {
        close(ns->pod_fd);
    }
}

/* Makes the calling process work in network namespace 'fd'. */
static int
netns_enter(int fd)
{
    return setns(fd, CLONE_NEWNET) ? errno : 0;
}

/* Sends rtnetlink request 'req' in the current network namespace. */
static int
rtnl_transact(const struct ofpbuf *req)
{
    /* A socket of its own, not one of libopenvswitch's pooled ones: a
     * socket belongs to the namespace it was created in. */
    struct nl_sock *sock;
    int error = nl_sock_create(NETLINK_ROUTE, &sock);
    if (error) {
        return error;
    }
    error = nl_sock_send(sock, req, true);
    if (!error) {
        struct ofpbuf reply;
        ofpbuf_init(&reply, 4096);
        for (;;) {
            error = nl_sock_recv(sock, &reply, NULL, true);
            if (error || nl_msg_nlmsgerr(&reply, &error, NULL)) {
                break;
            }
        }
        ofpbuf_uninit(&reply);
    }
    nl_sock_destroy(sock);
    return error;
}

/* Creates veth pair 'host' (here) and 'peer' (in network namespace
 * 'peer_ns_fd', with MAC 'peer_mac'), both with MTU 'mtu'. */
static int
veth_create(const char *host, const char *peer, int peer_ns_fd,
            struct eth_addr peer_mac, int mtu)
{
    struct ofpbuf req;
    ofpbuf_init(&req, 512);
    nl_msg_put_nlmsghdr(&req, sizeof(struct ifinfomsg), RTM_NEWLINK,
                        NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE
                        | NLM_F_EXCL);
    struct ifinfomsg *ifi = ofpbuf_put_zeros(&req, sizeof *ifi);
    ifi->ifi_family = AF_UNSPEC;
    nl_msg_put_string(&req, IFLA_IFNAME, host);
    nl_msg_put_u32(&req, IFLA_MTU, mtu);
    size_t linkinfo = nl_msg_start_nested(&req, IFLA_LINKINFO);
    nl_msg_put_string(&req, IFLA_INFO_KIND, "veth");
    size_t data = nl_msg_start_nested(&req, IFLA_INFO_DATA);
    size_t peer_info = nl_msg_start_nested(&req, VETH_INFO_PEER);
    struct ifinfomsg *pifi = ofpbuf_put_zeros(&req, sizeof *pifi);
    pifi->ifi_family = AF_UNSPEC;
    nl_msg_put_string(&req, IFLA_IFNAME, peer);
    nl_msg_put_unspec(&req, IFLA_ADDRESS, &peer_mac, sizeof peer_mac);
    nl_msg_put_u32(&req, IFLA_MTU, mtu);
    nl_msg_put_u32(&req, IFLA_NET_NS_FD, peer_ns_fd);
    nl_msg_end_nested(&req, peer_info);
    nl_msg_end_nested(&req, data);
    nl_msg_end_nested(&req, linkinfo);
    int error = rtnl_transact(&req);
    ofpbuf_uninit(&req);
    return error;
}

/* Deletes interface 'name' of the current network namespace.  An interface
 * that does not exist is not an error. */
static int
link_delete(const char *name)
{
    struct ofpbuf req;
    ofpbuf_init(&req, 128);
    nl_msg_put_nlmsghdr(&req, sizeof(struct ifinfomsg), RTM_DELLINK,
                        NLM_F_REQUEST | NLM_F_ACK);
    struct ifinfomsg *ifi = ofpbuf_put_zeros(&req, sizeof *ifi);
    ifi->ifi_family = AF_UNSPEC;
    nl_msg_put_string(&req, IFLA_IFNAME, name);
    int error = rtnl_transact(&req);
    ofpbuf_uninit(&req);
    return error == ENODEV ? 0 : error;
}

/* An AF_INET socket in the current network namespace, for ioctls. */
static int
inet_socket(void)
{
    return socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
}

static int
ifreq_ioctl(int sock, const char *name, unsigned long int cmd,
            struct ifreq *ifr)
{
    ovs_strzcpy(ifr->ifr_name, name, sizeof ifr->ifr_name);
    return ioctl(sock, cmd, ifr) ? errno : 0;
}

/* Turns transmit checksum offload off on 'name' (which also turns off the
 * segmentation offloads that depend on it): the userspace datapath reads
 * veths with packet sockets and would forward partial checksums as they
 * are. */
static int
tx_checksum_off(int sock, const char *name)
{
    struct ethtool_value ev = { .cmd = ETHTOOL_STXCSUM, .data = 0 };
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_data = (void *) &ev;
    return ifreq_ioctl(sock, name, SIOCETHTOOL, &ifr);
}

static int
link_up(int sock, const char *name)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    int error = ifreq_ioctl(sock, name, SIOCGIFFLAGS, &ifr);
    if (!error && !(ifr.ifr_flags & IFF_UP)) {
        ifr.ifr_flags |= IFF_UP;
        error = ifreq_ioctl(sock, name, SIOCSIFFLAGS, &ifr);
    }
    return error;
}

static void
put_sockaddr_in(struct sockaddr *sa, ovs_be32 ip)
{
    struct sockaddr_in sin = { .sin_family = AF_INET,
                               .sin_addr.s_addr = ip };
    memcpy(sa, &sin, sizeof sin);
}

static ovs_be32
get_sockaddr_in(const struct sockaddr *sa)
{
    struct sockaddr_in sin;
    memcpy(&sin, sa, sizeof sin);
    return sin.sin_family == AF_INET ? sin.sin_addr.s_addr : 0;
}

/* Gives 'name' the address 'ip'/'plen'. */
static int
set_address(int sock, const char *name, ovs_be32 ip, unsigned int plen)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    put_sockaddr_in(&ifr.ifr_addr, ip);
    int error = ifreq_ioctl(sock, name, SIOCSIFADDR, &ifr);
    if (!error) {
        memset(&ifr, 0, sizeof ifr);
        put_sockaddr_in(&ifr.ifr_netmask, be32_prefix_mask(plen));
        error = ifreq_ioctl(sock, name, SIOCSIFNETMASK, &ifr);
    }
    return error;
}

static int
add_default_route(int sock, const char *name, ovs_be32 gateway)
{
    struct rtentry rt;
    memset(&rt, 0, sizeof rt);
    put_sockaddr_in(&rt.rt_dst, 0);
    put_sockaddr_in(&rt.rt_genmask, 0);
    put_sockaddr_in(&rt.rt_gateway, gateway);
    rt.rt_flags = RTF_UP | RTF_GATEWAY;
    rt.rt_dev = CONST_CAST(char *, name);
    return ioctl(sock, SIOCADDRT, &rt) && errno != EEXIST ? errno : 0;
}

/* Gives interface 'ifindex' of the current network namespace the IPv6
 * address 'ip6'/'plen', usable at once: without duplicate address
 * detection, which a fresh address of kovs's allocation does not need. */
static int
set_address6(int ifindex, const struct in6_addr *ip6, unsigned int plen)
{
    struct ofpbuf req;
    ofpbuf_init(&req, 128);
    nl_msg_put_nlmsghdr(&req, sizeof(struct ifaddrmsg), RTM_NEWADDR,
                        NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE
                        | NLM_F_REPLACE);
    struct ifaddrmsg *ifa = ofpbuf_put_zeros(&req, sizeof *ifa);
    ifa->ifa_family = AF_INET6;
    ifa->ifa_prefixlen = plen;
    ifa->ifa_flags = IFA_F_NODAD;
    ifa->ifa_scope = RT_SCOPE_UNIVERSE;
    ifa->ifa_index = ifindex;
    nl_msg_put_unspec(&req, IFA_LOCAL, ip6, sizeof *ip6);
    nl_msg_put_unspec(&req, IFA_ADDRESS, ip6, sizeof *ip6);
    int error = rtnl_transact(&req);
    ofpbuf_uninit(&req);
    return error;
}

/* Adds an IPv6 default route via 'gateway6' on interface 'ifindex' of the
 * current network namespace. */
static int
add_default_route6(int ifindex, const struct in6_addr *gateway6)
{
    struct ofpbuf req;
    ofpbuf_init(&req, 128);
    nl_msg_put_nlmsghdr(&req, sizeof(struct rtmsg), RTM_NEWROUTE,
                        NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE
                        | NLM_F_REPLACE);
    struct rtmsg *rtm = ofpbuf_put_zeros(&req, sizeof *rtm);
    rtm->rtm_family = AF_INET6;
    rtm->rtm_dst_len = 0;
    rtm->rtm_table = RT_TABLE_MAIN;
    rtm->rtm_protocol = RTPROT_STATIC;
    rtm->rtm_scope = RT_SCOPE_UNIVERSE;
    rtm->rtm_type = RTN_UNICAST;
    nl_msg_put_unspec(&req, RTA_GATEWAY, gateway6, sizeof *gateway6);
    nl_msg_put_u32(&req, RTA_OIF, ifindex);
    int error = rtnl_transact(&req);
    ofpbuf_uninit(&req);
    return error;
}

/* Writes 'value' to sysctl file 'path' (under /proc/sys) of the current
 * network namespace. */
static int
write_sysctl(const char *path, const char *value)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        return errno;
    }
    int error = write(fd, value, strlen(value)) < 0 ? errno : 0;
    close(fd);
    return error;
}

/* Configures the host end 'name' of a pod's veth: it must not answer ARP
 * (with the userspace datapath it stays a live interface of the node's
 * stack, and a pod that learned its MAC for the gateway would bypass
 * br-int), and with the userspace datapath it must not leave checksums to
 * offload. */
static bool
configure_host_end(const char *name, const struct cni_config *conf,
                   struct cni_error *error)
{
    int sock = inet_socket();
    char *sysctl = xasprintf("/proc/sys/net/ipv4/conf/%s/arp_ignore", name);
    const char *step = "arp_ignore";
    int retval = write_sysctl(sysctl, "8");
    if (!retval && conf->userspace_datapath) {
        step = "checksum offload";
        retval = tx_checksum_off(sock, name);
    }
    if (!retval) {
        step = "link up";
        retval = link_up(sock, name);
    }
    free(sysctl);
    close(sock);
    if (retval) {
        cni_error_set(error, CNI_ERR_NETNS, "host interface %s: %s: %s",
                      name, step, ovs_strerror(retval));
        return false;
    }
    return true;
}

/* Configures the pod's end 'name' in the current network namespace. */
static bool
configure_pod_end(const char *name, const struct attachment *a,
                  const struct cni_config *conf, struct cni_error *error)
{
    int sock = inet_socket();
    const char *step = "checksum offload";
    int retval = conf->userspace_datapath ? tx_checksum_off(sock, name) : 0;
    if (!retval && a->ip) {
        step = "address";
        retval = set_address(sock, name, a->ip, a->plen);
    }
    if (!retval) {
        step = "link up";
        retval = link_up(sock, name);
    }
    if (!retval && a->ip) {
        step = "default route";
        retval = add_default_route(sock, name, a->gateway);
    }
    if (!retval && a->has_ip6) {
        /* A runtime may have left IPv6 off in the pod's namespace. */
        char *sysctl = xasprintf("/proc/sys/net/ipv6/conf/%s/disable_ipv6",
                                 name);
        write_sysctl(sysctl, "0");
        free(sysctl);

        int ifindex = if_nametoindex(name);
        step = "IPv6 address";
        retval = ifindex ? set_address6(ifindex, &a->ip6, a->plen6) : errno;
        if (!retval) {
            step = "IPv6 default route";
            retval = add_default_route6(ifindex, &a->gateway6);
        }
    }
    close(sock);
    if (retval) {
        cni_error_set(error, CNI_ERR_NETNS, "pod interface %s: %s: %s",
                      name, step, ovs_strerror(retval));
        return false;
    }
    return true;
}

static bool
get_mac(const char *name, struct eth_addr *mac)
{
    int sock = inet_socket();
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    int error = ifreq_ioctl(sock, name, SIOCGIFHWADDR, &ifr);
    close(sock);
    if (!error) {
        memcpy(mac->ea, ifr.ifr_hwaddr.sa_data, ETH_ADDR_LEN);
    }
    return !error;
}

/* Returns true if the current network namespace has a default route via
 * 'gateway' on 'name'. */
static bool
has_default_route(const char *name, ovs_be32 gateway)
{
    FILE *stream = fopen("/proc/net/route", "r");
    if (!stream) {
        return false;
    }
    char line[256];
    bool found = false;
    while (!found && fgets(line, sizeof line, stream)) {
        char ifname[IFNAMSIZ + 1];
        unsigned int dst, gw, mask;
        if (sscanf(line, "%16s %x %x %*x %*d %*d %*d %x", ifname, &dst, &gw,
                   &mask) == 4) {
            found = (!strcmp(ifname, name) && !dst && !mask
                     && gw == (OVS_FORCE uint32_t) gateway);
        }
    }
    fclose(stream);
    return found;
}

/* Parses 'hex', 32 hexadecimal digits as /proc/net/if_inet6 and
 * /proc/net/ipv6_route write them, into '*ip6'. */
static bool
parse_hex_in6(const char *hex, struct in6_addr *ip6)
{
    if (strlen(hex) != 32) {
        return false;
    }
    for (int i = 0; i < 16; i++) {
        unsigned int byte;
        if (sscanf(hex + 2 * i, "%2x", &byte) != 1) {
            return false;
        }
        ip6->s6_addr[i] = byte;
    }
    return true;
}

/* Returns true if 'name', in the current network namespace, has IPv6
 * address 'ip6'/'plen'. */
static bool
has_address6(const char *name, const struct in6_addr *ip6, unsigned int plen)
{
    FILE *stream = fopen("/proc/net/if_inet6", "r");
    if (!stream) {
        return false;
    }
    char line[256];
    bool found = false;
    while (!found && fgets(line, sizeof line, stream)) {
        char hex[33], ifname[IFNAMSIZ + 1];
        unsigned int line_plen;
        struct in6_addr addr;
        if (sscanf(line, "%32s %*x %x %*x %*x %16s", hex, &line_plen,
                   ifname) == 3 && parse_hex_in6(hex, &addr)) {
            found = (!strcmp(ifname, name) && line_plen == plen
                     && ipv6_addr_equals(&addr, ip6));
        }
    }
    fclose(stream);
    return found;
}

/* Returns true if the current network namespace has an IPv6 default route
 * via 'gateway6' on 'name'. */
static bool
has_default_route6(const char *name, const struct in6_addr *gateway6)
{
    FILE *stream = fopen("/proc/net/ipv6_route", "r");
    if (!stream) {
        return false;
    }
    char line[256];
    bool found = false;
    while (!found && fgets(line, sizeof line, stream)) {
        char dst[33], gw[33], ifname[IFNAMSIZ + 1];
        unsigned int dst_len;
        struct in6_addr dst6, gw6;
        if (sscanf(line, "%32s %x %*s %*x %32s %*x %*x %*x %*x %16s", dst,
                   &dst_len, gw, ifname) == 4
            && parse_hex_in6(dst, &dst6) && parse_hex_in6(gw, &gw6)) {
            found = (!strcmp(ifname, name) && !dst_len
                     && !ipv6_addr_is_set(&dst6)
                     && ipv6_addr_equals(&gw6, gateway6));
        }
    }
    fclose(stream);
    return found;
}

/* Verifies, in the current network namespace, that 'name' is as ADD left
 * it for attachment 'a'. */
static bool
check_pod_end(const char *name, const struct attachment *a,
              struct cni_error *error)
{
    int sock = inet_socket();
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    int retval = ifreq_ioctl(sock, name, SIOCGIFFLAGS, &ifr);
    const char *what = NULL;
    if (retval) {
        what = "does not exist";
    } else if (!(ifr.ifr_flags & IFF_UP)) {
        what = "is down";
    }
    struct eth_addr mac;
    if (!what && (!get_mac(name, &mac) || !eth_addr_equals(mac, a->mac))) {
        what = "has another MAC";
    }
    if (!what && a->ip) {
        memset(&ifr, 0, sizeof ifr);
        if (ifreq_ioctl(sock, name, SIOCGIFADDR, &ifr)
            || get_sockaddr_in(&ifr.ifr_addr) != a->ip) {
            what = "does not have its address";
        } else {
            memset(&ifr, 0, sizeof ifr);
            if (ifreq_ioctl(sock, name, SIOCGIFNETMASK, &ifr)
                || (get_sockaddr_in(&ifr.ifr_netmask)
                    != be32_prefix_mask(a->plen))) {
                what = "does not have its prefix length";
            }
        }
    }
    if (!what && a->ip && !has_default_route(name, a->gateway)) {
        what = "is not the default route's interface";
    }
    if (!what && a->has_ip6) {
        if (!has_address6(name, &a->ip6, a->plen6)) {
            what = "does not have its IPv6 address";
        } else if (!has_default_route6(name, &a->gateway6)) {
            what = "is not the IPv6 default route's interface";
        }
    }
    close(sock);
    if (what) {
        cni_error_set(error, CNI_ERR_CHECK_FAILED, "pod interface %s %s "
                      "(expected "IP_FMT"/%u, MAC "ETH_ADDR_FMT", default "
                      "route via "IP_FMT")", name, what, IP_ARGS(a->ip),
                      a->plen, ETH_ADDR_ARGS(a->mac), IP_ARGS(a->gateway));
        if (a->has_ip6) {
            struct ds ds = DS_EMPTY_INITIALIZER;
            ds_put_format(&ds, "%s; and ", error->details);
            ipv6_format_addr(&a->ip6, &ds);
            ds_put_format(&ds, "/%u, IPv6 default route via ", a->plen6);
            ipv6_format_addr(&a->gateway6, &ds);
            free(error->details);
            error->details = ds_steal_cstr(&ds);
        }
        return false;
    }
    return true;
}

/* The verbs. */

static char *
attachment_key_arg(const struct request *r)
{
    return xasprintf("%s/%s", r->env.pod_namespace, r->env.pod_name);
}

/* Undoes a failed ADD: the veth (both ends go with the host's) and the
 * allocation with the port. */
static void
add_undo(const struct request *r, const struct attachment *a,
         const struct netns *ns)
{
    struct cni_error ignore = { 0 };
    char *reply;
    const char *argv[] = { r->env.container_id, r->env.ifname };
    if (a->host_ifname) {
        netns_enter(ns->host_fd);
        link_delete(a->host_ifname);
    }
    controller_call(&r->conf, "cni/del", 2, argv,
                    time_msec() + CONTROLLER_TIMEOUT_MS, CNI_ERR_CONTROLLER,
                    &reply, &ignore);
    free(reply);
    cni_error_destroy(&ignore);
}

static bool
cmd_add(const struct request *r, struct cni_error *error)
{
    struct netns ns;
    if (!netns_open(r->env.netns, true, &ns, error)) {
        return false;
    }

    struct attachment a;
    memset(&a, 0, sizeof a);
    char *pod = attachment_key_arg(r);
    const char *add_argv[] = { r->env.container_id, r->env.ifname, pod };
    char *reply = NULL;
    bool ok = (controller_call(&r->conf, "cni/add", 3, add_argv,
                               time_msec() + CONTROLLER_TIMEOUT_MS,
                               CNI_ERR_TRY_AGAIN, &reply, error)
               && parse_attachment(reply, &a, error));
    free(reply);
    if (!ok) {
        if (error->code != CNI_ERR_TRY_AGAIN) {
            add_undo(r, &a, &ns);
        }
        goto out;
    }
    if (r->conf.mtu && r->conf.mtu != a.mtu) {
        VLOG_WARN("the configuration's MTU %d differs from "
                  "kovs-controller's %d; using the latter", r->conf.mtu,
                  a.mtu);
    }

    /* A veth left by an earlier ADD of the same attachment goes first. */
    link_delete(a.host_ifname);
    int retval = veth_create(a.host_ifname, r->env.ifname, ns.pod_fd, a.mac,
                             a.mtu);
    if (retval) {
        cni_error_set(error, CNI_ERR_NETNS, "creating veth %s with %s in "
                      "%s: %s", a.host_ifname, r->env.ifname, r->env.netns,
                      ovs_strerror(retval));
        free(a.host_ifname);
        a.host_ifname = NULL;   /* Not ours to delete. */
        add_undo(r, &a, &ns);
        ok = false;
        goto out;
    }
    ok = configure_host_end(a.host_ifname, &r->conf, error);
    if (ok) {
        retval = netns_enter(ns.pod_fd);
        if (retval) {
            cni_error_set(error, CNI_ERR_IO, "entering %s: %s", r->env.netns,
                          ovs_strerror(retval));
            ok = false;
        } else {
            ok = configure_pod_end(r->env.ifname, &a, &r->conf, error);
            netns_enter(ns.host_fd);
        }
    }
    if (ok) {
        char *timeout = xasprintf("%d", r->conf.install_timeout_ms);
        const char *attach_argv[] = { r->env.container_id, r->env.ifname,
                                      timeout };
        ok = controller_call(&r->conf, "cni/attach", 3, attach_argv,
                             time_msec() + r->conf.install_timeout_ms + 2000,
                             CNI_ERR_CONTROLLER, &reply, error);
        free(reply);
        free(timeout);
    }
    if (!ok) {
        add_undo(r, &a, &ns);
        goto out;
    }

    struct cni_result result = {
        .host_ifname = a.host_ifname,
        .ifname = r->env.ifname,
        .mac = a.mac,
        .sandbox = r->env.netns,
        .mtu = a.mtu,
        .ip = a.ip,
        .plen = a.plen,
        .gateway = a.gateway,
        .has_ip6 = a.has_ip6,
        .ip6 = a.ip6,
        .plen6 = a.plen6,
        .gateway6 = a.gateway6,
        .dns = r->conf.dns,
    };
    get_mac(a.host_ifname, &result.host_mac);
    char *json = cni_result_to_json(&result, r->conf.cni_version);
    puts(json);
    free(json);

out:
    attachment_destroy(&a);
    free(pod);
    netns_close(&ns);
    return ok;
}

static bool
cmd_del(const struct request *r, struct cni_error *error)
{
    struct netns ns;
    if (!netns_open(r->env.netns, false, &ns, error)) {
        return false;
    }

    /* The pod's end, if its namespace is still there; then the host's,
     * which takes the pod's end with it if that was not possible. */
    int retval = 0;
    if (ns.pod_fd >= 0 && !netns_enter(ns.pod_fd)) {
        retval = link_delete(r->env.ifname);
        netns_enter(ns.host_fd);
    }
    char *host = ipam_host_ifname(r->env.container_id, r->env.ifname);
    if (!retval) {
        retval = link_delete(host);
    }
    if (retval) {
        cni_error_set(error, CNI_ERR_NETNS, "deleting the veth %s/%s: %s",
                      host, r->env.ifname, ovs_strerror(retval));
    }
    free(host);
    netns_close(&ns);
    if (retval) {
        return false;
    }

    const char *argv[] = { r->env.container_id, r->env.ifname };
    char *reply;
    bool ok = controller_call(&r->conf, "cni/del", 2, argv,
                              time_msec() + CONTROLLER_TIMEOUT_MS,
                              CNI_ERR_TRY_AGAIN, &reply, error);
    free(reply);
    return ok;
}

static bool
cmd_check(const struct request *r, struct cni_error *error)
{
    struct netns ns;
    if (!netns_open(r->env.netns, true, &ns, error)) {
        return false;
    }

    const char *argv[] = { r->env.container_id, r->env.ifname };
    char *reply = NULL;
    struct attachment a;
    memset(&a, 0, sizeof a);
    bool ok = (controller_call(&r->conf, "cni/check", 2, argv,
                               time_msec() + CONTROLLER_TIMEOUT_MS,
                               CNI_ERR_TRY_AGAIN, &reply, error)
               && parse_attachment(reply, &a, error));
    free(reply);

    ovs_be32 prev_ip, prev_gw;
    unsigned int prev_plen;
    if (ok && r->conf.prev_result
        && cni_result_find_ipv4(r->conf.prev_result, r->env.ifname,
                                &prev_ip, &prev_plen, &prev_gw)
        && (prev_ip != a.ip || prev_plen != a.plen)) {
        cni_error_set(error, CNI_ERR_CHECK_FAILED, "the previous result "
                      "gave %s "IP_FMT"/%u, kovs-controller has "IP_FMT"/%u",
                      r->env.ifname, IP_ARGS(prev_ip), prev_plen,
                      IP_ARGS(a.ip), a.plen);
        ok = false;
    }
    struct in6_addr prev_ip6, prev_gw6;
    if (ok && r->conf.prev_result
        && cni_result_find_ipv6(r->conf.prev_result, r->env.ifname,
                                &prev_ip6, &prev_plen, &prev_gw6)
        && (!a.has_ip6 || !ipv6_addr_equals(&prev_ip6, &a.ip6)
            || prev_plen != a.plen6)) {
        struct ds ds = DS_EMPTY_INITIALIZER;
        ipv6_format_addr(&prev_ip6, &ds);
        ds_put_format(&ds, "/%u, kovs-controller has ", prev_plen);
        if (a.has_ip6) {
            ipv6_format_addr(&a.ip6, &ds);
            ds_put_format(&ds, "/%u", a.plen6);
        } else {
            ds_put_cstr(&ds, "no IPv6 address");
        }
        cni_error_set(error, CNI_ERR_CHECK_FAILED, "the previous result "
                      "gave %s %s", r->env.ifname, ds_cstr(&ds));
        ds_destroy(&ds);
        ok = false;
    }
    if (ok) {
        int sock = inet_socket();
        struct ifreq ifr;
        memset(&ifr, 0, sizeof ifr);
        if (ifreq_ioctl(sock, a.host_ifname, SIOCGIFFLAGS, &ifr)) {
            cni_error_set(error, CNI_ERR_CHECK_FAILED, "host interface %s "
                          "does not exist", a.host_ifname);
            ok = false;
        }
        close(sock);
    }
    if (ok) {
        int retval = netns_enter(ns.pod_fd);
        if (retval) {
            cni_error_set(error, CNI_ERR_IO, "entering %s: %s", r->env.netns,
                          ovs_strerror(retval));
            ok = false;
        } else {
            ok = check_pod_end(r->env.ifname, &a, error);
            netns_enter(ns.host_fd);
        }
    }
    attachment_destroy(&a);
    netns_close(&ns);
    return ok;
}

static bool
cmd_status(const struct request *r, struct cni_error *error)
{
    char *reply;
    bool ok = controller_call(&r->conf, "cni/status", 0, NULL,
                              time_msec() + CONTROLLER_TIMEOUT_MS,
                              CNI_ERR_NOT_AVAILABLE, &reply, error);
    free(reply);
    if (!ok && error->code != CNI_ERR_NOT_AVAILABLE) {
        /* Whatever went wrong, the plugin cannot take pods. */
        char *details = error->details ? xstrdup(error->details) : NULL;
        cni_error_set(error, CNI_ERR_NOT_AVAILABLE, "%s",
                      details ? details : "kovs-controller is not ready");
        free(details);
    }
    return ok;
}

static bool
cmd_gc(const struct request *r, struct cni_error *error)
{
    const struct svec *valid = &r->conf.valid_attachments;
    char *reply;
    bool ok = controller_call(&r->conf, "cni/gc", valid->n,
                              (const char **) valid->names,
                              time_msec() + CONTROLLER_TIMEOUT_MS,
                              CNI_ERR_TRY_AGAIN, &reply, error);
    free(reply);
    return ok;
}

/* Reads all of stdin. */
static char *
read_stdin(void)
{
    struct ds ds = DS_EMPTY_INITIALIZER;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, stdin)) > 0) {
        ds_put_buffer(&ds, buf, n);
    }
    return ds_steal_cstr(&ds);
}

int
main(int argc OVS_UNUSED, char *argv[])
{
    set_program_name(argv[0]);
    vlog_set_levels(NULL, VLF_CONSOLE, VLL_WARN);
    vlog_set_levels(NULL, VLF_SYSLOG, VLL_OFF);
    /* Waiting for kovs-controller is the plugin's job, not a stall. */
    vlog_set_levels(vlog_module_from_name("timeval"), VLF_ANY_DESTINATION,
                    VLL_OFF);

    struct smap envmap = SMAP_INITIALIZER(&envmap);
    for (char **e = environ; *e; e++) {
        const char *eq = strchr(*e, '=');
        if (eq) {
            char *key = xmemdup0(*e, eq - *e);
            smap_replace(&envmap, key, eq + 1);
            free(key);
        }
    }

    struct request r;
    struct cni_error error = { 0 };
    memset(&r, 0, sizeof r);
    char *input = NULL;
    bool ok = cni_env_parse(&envmap, &r.env, &error);
    if (ok) {
        input = read_stdin();
        ok = cni_config_parse(input, r.env.command, &r.conf, &error);
        if (!ok && r.env.command == CNI_VERSION
            && error.code != CNI_ERR_INCOMPATIBLE_VERSION) {
            /* VERSION answers even without a usable configuration. */
            cni_error_destroy(&error);
            ok = true;
        }
    }
    if (ok) {
        switch (r.env.command) {
        case CNI_ADD:
            ok = cmd_add(&r, &error);
            break;
        case CNI_DEL:
            ok = cmd_del(&r, &error);
            break;
        case CNI_CHECK:
            ok = cmd_check(&r, &error);
            break;
        case CNI_STATUS:
            ok = cmd_status(&r, &error);
            break;
        case CNI_GC:
            ok = cmd_gc(&r, &error);
            break;
        case CNI_VERSION: {
            char *json = cni_version_to_json(r.conf.cni_version);
            puts(json);
            free(json);
            break;
        }
        }
    }

    if (!ok) {
        char *json = cni_error_to_json(&error, r.conf.cni_version);
        puts(json);
        free(json);
    }
    fflush(stdout);

    cni_error_destroy(&error);
    cni_config_destroy(&r.conf);
    cni_env_destroy(&r.env);
    smap_destroy(&envmap);
    free(input);
    return ok ? 0 : 1;
}
