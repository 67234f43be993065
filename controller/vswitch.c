/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#include <config.h>

#include "controller/vswitch.h"

#include "controller/engine.h"

#include <net/if.h>
#include "flow.h"
#include "flows/flows.h"
#include "hash.h"
#include "k8s/k8s-model.h"
#include "lib/vswitch-idl.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/vlog.h"
#include "ovsdb-idl.h"
#include "packets.h"
#include "smap.h"
#include "sset.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(vswitch);

struct vswitch {
    struct ovsdb_idl_loop idl_loop;
    struct vswitch_ports ports;

    /* What the last full pass of vswitch_run() saw. */
    bool done_once;
    unsigned int last_seqno;        /* Of the database. */
    uint64_t last_cni_seqno;
    bool last_local_valid;
    struct eth_addr last_gateway_mac;
};

/* The columns kovs reads or writes: the database's other tables and
 * columns are not monitored. */
static const struct ovsdb_idl_column *const monitored_columns[] = {
    &ovsrec_open_vswitch_col_bridges,

    &ovsrec_bridge_col_name,
    &ovsrec_bridge_col_ports,
    &ovsrec_bridge_col_fail_mode,
    &ovsrec_bridge_col_other_config,
    &ovsrec_bridge_col_datapath_type,

    &ovsrec_port_col_name,
    &ovsrec_port_col_interfaces,

    &ovsrec_interface_col_name,
    &ovsrec_interface_col_type,
    &ovsrec_interface_col_options,
    &ovsrec_interface_col_external_ids,
    &ovsrec_interface_col_ofport,
    &ovsrec_interface_col_ifindex,
    &ovsrec_interface_col_mac,
    &ovsrec_interface_col_mac_in_use,
    &ovsrec_interface_col_mtu_request,
};

struct vswitch *
vswitch_create(const char *remote)
{
    struct vswitch *vs = xzalloc(sizeof *vs);
    struct ovsdb_idl *idl = ovsdb_idl_create(remote, &ovsrec_idl_class,
                                             false, true);
    for (size_t i = 0; i < ARRAY_SIZE(monitored_columns); i++) {
        ovsdb_idl_add_column(idl, monitored_columns[i]);
    }
    vs->idl_loop = (struct ovsdb_idl_loop) OVSDB_IDL_LOOP_INITIALIZER(idl);
    shash_init(&vs->ports.pods);
    shash_init(&vs->ports.pod_ifaces);
    shash_init(&vs->ports.tunnels);
    vs->ports.datapath_type = xstrdup("");
    return vs;
}

static void
pod_iface_free(void *iface_)
{
    struct vswitch_pod_iface *iface = iface_;
    if (iface) {
        free(iface->name);
        free(iface);
    }
}

static void
pod_ifaces_clear(struct shash *ifaces)
{
    struct shash_node *node;
    SHASH_FOR_EACH_SAFE (node, ifaces) {
        pod_iface_free(node->data);
        shash_delete(ifaces, node);
    }
}

void
vswitch_destroy(struct vswitch *vs)
{
    if (vs) {
        ovsdb_idl_loop_destroy(&vs->idl_loop);
        shash_destroy_free_data(&vs->ports.pods);
        pod_ifaces_clear(&vs->ports.pod_ifaces);
        shash_destroy(&vs->ports.pod_ifaces);
        shash_destroy_free_data(&vs->ports.tunnels);
        free(vs->ports.datapath_type);
        free(vs);
    }
}

bool
vswitch_is_ready(const struct vswitch *vs)
{
    return ovsdb_idl_has_ever_connected(vs->idl_loop.idl);
}

bool
vswitch_is_connected(const struct vswitch *vs)
{
    return ovsdb_idl_is_connected(vs->idl_loop.idl);
}

const struct vswitch_ports *
vswitch_get_ports(const struct vswitch *vs)
{
    return &vs->ports;
}

void
vswitch_wait(struct vswitch *vs)
{
    ovsdb_idl_wait(vs->idl_loop.idl);
}

static const struct ovsrec_bridge *
find_bridge(struct vswitch *vs, const char *name)
{
    const struct ovsrec_bridge *br;
    OVSREC_BRIDGE_FOR_EACH (br, vs->idl_loop.idl) {
        if (!strcmp(br->name, name)) {
            return br;
        }
    }
    return NULL;
}

/* Returns a datapath id for the node's bridge that stays the same across
 * restarts: a hash of the node and bridge names, as 16 hex digits. */
static char *
stable_datapath_id(const struct vswitch_config *cfg)
{
    uint32_t h = hash_string(cfg->node_name, 0);
    uint32_t l = hash_string(cfg->bridge, h);
    uint64_t dpid = ((((uint64_t) h << 32) | l) & UINT64_C(0xffffffffffff))
                    | (UINT64_C(0x6b6f) << 48);
    return xasprintf("%016"PRIx64, dpid);
}

static const struct ovsrec_port *
add_port(struct ovsdb_idl_txn *txn, const struct ovsrec_bridge *br,
         const char *name, const char *type)
{
    struct ovsrec_interface *iface = ovsrec_interface_insert(txn);
    ovsrec_interface_set_name(iface, name);
    ovsrec_interface_set_type(iface, type);

    struct ovsrec_port *port = ovsrec_port_insert(txn);
    ovsrec_port_set_name(port, name);
    ovsrec_port_set_interfaces(port, &iface, 1);
    if (br) {
        ovsrec_bridge_update_ports_addvalue(br, port);
    }
    return port;
}

/* Creates the bridge, or makes its settings what kovs needs. */
static const struct ovsrec_bridge *
ensure_bridge(struct vswitch *vs, struct ovsdb_idl_txn *txn,
              const struct vswitch_config *cfg)
{
    const struct ovsrec_open_vswitch *ovs
        = ovsrec_open_vswitch_first(vs->idl_loop.idl);
    if (!ovs) {
        return NULL;
    }

    char *dpid = stable_datapath_id(cfg);
    const struct ovsrec_bridge *br = find_bridge(vs, cfg->bridge);
    if (!br) {
        VLOG_INFO("creating bridge %s", cfg->bridge);
        const struct ovsrec_port *local = add_port(txn, NULL, cfg->bridge,
                                                   "internal");
        struct ovsrec_bridge *nbr = ovsrec_bridge_insert(txn);
        ovsrec_bridge_set_name(nbr, cfg->bridge);
        struct ovsrec_port *local_port = CONST_CAST(struct ovsrec_port *,
                                                    local);
        ovsrec_bridge_set_ports(nbr, &local_port, 1);
        if (cfg->datapath_type) {
            ovsrec_bridge_set_datapath_type(nbr, cfg->datapath_type);
        }
        ovsrec_open_vswitch_update_bridges_addvalue(ovs, nbr);
        br = nbr;
    }

    if (!br->fail_mode || strcmp(br->fail_mode, "secure")) {
        ovsrec_bridge_set_fail_mode(br, "secure");
    }
    if (!smap_get(&br->other_config, "datapath-id")
        || strcmp(smap_get(&br->other_config, "datapath-id"), dpid)) {
        ovsrec_bridge_update_other_config_setkey(br, "datapath-id", dpid);
    }
    if (!smap_get_bool(&br->other_config, "disable-in-band", false)) {
        ovsrec_bridge_update_other_config_setkey(br, "disable-in-band",
                                                 "true");
    }
    free(dpid);
    return br;
}

static const struct ovsrec_interface *
port_iface(const struct ovsrec_port *port)
{
    return port->n_interfaces == 1 ? port->interfaces[0] : NULL;
}

/* The gateway port: an internal port whose MAC is the one the flows use
 * for the gateway. */
static void
ensure_gateway(const struct ovsrec_bridge *br, struct ovsdb_idl_txn *txn,
               const struct vswitch_config *cfg,
               const struct flows_local *local)
{
    const struct ovsrec_interface *iface = NULL;
    for (size_t i = 0; i < br->n_ports; i++) {
        if (!strcmp(br->ports[i]->name, VSWITCH_GATEWAY_NAME)) {
            iface = port_iface(br->ports[i]);
            break;
        }
    }
    if (!iface) {
        VLOG_INFO("adding gateway port %s", VSWITCH_GATEWAY_NAME);
        const struct ovsrec_port *port = add_port(txn, br,
                                                  VSWITCH_GATEWAY_NAME,
                                                  "internal");
        iface = port_iface(port);
    } else if (strcmp(iface->type, "internal")) {
        ovsrec_interface_set_type(iface, "internal");
    }

    if (local->valid) {
        char mac[ETH_ADDR_STRLEN + 1];
        snprintf(mac, sizeof mac, ETH_ADDR_FMT,
                 ETH_ADDR_ARGS(local->gateway_mac));
        if (!iface->mac || strcmp(iface->mac, mac)) {
            ovsrec_interface_set_mac(iface, mac);
        }
    }
    int64_t mtu = cfg->mtu;
    if (!iface->n_mtu_request || iface->mtu_request[0] != mtu) {
        ovsrec_interface_set_mtu_request(iface, &mtu, 1);
    }
}

/* Returns the name of the tunnel port for peer node 'node': the node's
 * name if it is a usable interface name, otherwise one derived from its
 * hash.  The caller frees it. */
static char *
tunnel_port_name(const char *node)
{
    size_t len = strlen(node);
    bool usable = len > 0 && len < IFNAMSIZ
                  && strcmp(node, VSWITCH_GATEWAY_NAME)
                  && strncmp(node, "br-", 3)
                  && strspn(node, "abcdefghijklmnopqrstuvwxyz"
                                  "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                  "0123456789-_.") == len;
    return usable ? xstrdup(node)
                  : xasprintf("kovs-%08"PRIx32, hash_string(node, 0));
}

/* With 'cfg->flow_tunnel', makes sure the shared tunnel port exists, of
 * 'cfg->tunnel_type', with remote_ip=flow and key=flow; otherwise removes
 * it. */
static void
ensure_flow_tunnel(const struct ovsrec_bridge *br, struct ovsdb_idl_txn *txn,
                   const struct vswitch_config *cfg)
{
    bool want = cfg->tunnel_type && cfg->flow_tunnel;
    const struct ovsrec_interface *iface = NULL;

    for (size_t i = 0; i < br->n_ports; i++) {
        const struct ovsrec_port *port = br->ports[i];
        if (strcmp(port->name, VSWITCH_FLOW_TUNNEL_NAME)) {
            continue;
        }
        if (!want) {
            VLOG_INFO("removing the flow-based tunnel port %s", port->name);
            ovsrec_bridge_update_ports_delvalue(br, port);
            return;
        }
        iface = port_iface(port);
        break;
    }
    if (!want) {
        return;
    }
    if (!iface) {
        VLOG_INFO("adding the flow-based %s tunnel port %s (remote_ip=flow)",
                  cfg->tunnel_type, VSWITCH_FLOW_TUNNEL_NAME);
        iface = port_iface(add_port(txn, br, VSWITCH_FLOW_TUNNEL_NAME,
                                    cfg->tunnel_type));
    } else if (strcmp(iface->type, cfg->tunnel_type)) {
        ovsrec_interface_set_type(iface, cfg->tunnel_type);
    }
    const char *remote = smap_get(&iface->options, "remote_ip");
    const char *key = smap_get(&iface->options, "key");
    if (!remote || strcmp(remote, "flow") || !key || strcmp(key, "flow")
        || smap_count(&iface->options) != 2) {
        struct smap options = SMAP_INITIALIZER(&options);
        smap_add(&options, "remote_ip", "flow");
        smap_add(&options, "key", "flow");
        ovsrec_interface_set_options(iface, &options);
        smap_destroy(&options);
    }
}

/* One tunnel port per peer node with an InternalIP, whose remote_ip is the
 * peer's underlay address (its first InternalIP, IPv4 or IPv6: see
 * k8s_node_underlay_ip()); ports of nodes that are gone (or of this node)
 * are removed, and in routed mode (no 'cfg->tunnel_type') or with the
 * shared flow-based port ('cfg->flow_tunnel') all of them. */
static void
ensure_tunnels(const struct ovsrec_bridge *br, struct ovsdb_idl_txn *txn,
               const struct vswitch_config *cfg,
               const struct k8s_cluster *cluster)
{
    struct sset seen = SSET_INITIALIZER(&seen);
    const char *tunnel_type = cfg->flow_tunnel ? NULL : cfg->tunnel_type;

    ensure_flow_tunnel(br, txn, cfg);
    for (size_t i = 0; i < br->n_ports; i++) {
        const struct ovsrec_port *port = br->ports[i];
        const struct ovsrec_interface *iface = port_iface(port);
        const char *node_name = iface ? smap_get(&iface->external_ids,
                                                 "kovs-node") : NULL;
        if (!node_name) {
            continue;
        }
        const struct k8s_object *obj = k8s_cluster_find(cluster, K8S_NODE,
                                                        "", node_name);
        const struct in6_addr *ip
            = obj ? k8s_node_underlay_ip(k8s_node_cast(obj)) : NULL;
        if (!ip || !tunnel_type || !strcmp(node_name, cfg->node_name)
            || !sset_add(&seen, node_name)) {
            VLOG_INFO("removing tunnel port %s of node %s", port->name,
                      node_name);
            ovsrec_bridge_update_ports_delvalue(br, port);
            continue;
        }

        char remote[INET6_ADDRSTRLEN];
        ipv6_string_mapped(remote, ip);
        if (strcmp(iface->type, tunnel_type)) {
            ovsrec_interface_set_type(iface, tunnel_type);
        }
        const char *cur = smap_get(&iface->options, "remote_ip");
        if (!cur || strcmp(cur, remote)
            || !smap_get(&iface->options, "key")) {
            VLOG_INFO("tunnel port %s of node %s: remote_ip=%s",
                      port->name, node_name, remote);
            struct smap options = SMAP_INITIALIZER(&options);
            smap_add(&options, "remote_ip", remote);
            smap_add(&options, "key", "flow");
            ovsrec_interface_set_options(iface, &options);
            smap_destroy(&options);
        }
    }

    const struct k8s_object *obj;
    K8S_CLUSTER_FOR_EACH (obj, K8S_NODE, cluster) {
        const struct in6_addr *ip
            = k8s_node_underlay_ip(k8s_node_cast(obj));
        if (!ip || !tunnel_type || !strcmp(obj->name, cfg->node_name)
            || sset_contains(&seen, obj->name)) {
            continue;
        }
        char *name = tunnel_port_name(obj->name);
        char remote[INET6_ADDRSTRLEN];
        ipv6_string_mapped(remote, ip);
        VLOG_INFO("adding tunnel port %s to node %s (%s)", name, obj->name,
                  remote);

        const struct ovsrec_port *port = add_port(txn, br, name,
                                                  tunnel_type);
        const struct ovsrec_interface *iface = port_iface(port);
        struct smap options = SMAP_INITIALIZER(&options);
        smap_add(&options, "remote_ip", remote);
        smap_add(&options, "key", "flow");
        ovsrec_interface_set_options(iface, &options);
        smap_destroy(&options);
        ovsrec_interface_update_external_ids_setkey(iface, "kovs-node",
                                                    obj->name);
        free(name);
    }
    sset_destroy(&seen);
}

/* Makes sure a patch port 'name' to 'peer' exists on 'br'. */
static void
ensure_patch_port(const struct ovsrec_bridge *br, struct ovsdb_idl_txn *txn,
                  const char *name, const char *peer)
{
    const struct ovsrec_interface *iface = NULL;
    for (size_t i = 0; i < br->n_ports; i++) {
        if (!strcmp(br->ports[i]->name, name)) {
            iface = port_iface(br->ports[i]);
            break;
        }
    }
    if (!iface) {
        VLOG_INFO("adding patch port %s to bridge %s", name, br->name);
        iface = port_iface(add_port(txn, br, name, "patch"));
    } else if (strcmp(iface->type, "patch")) {
        ovsrec_interface_set_type(iface, "patch");
    }
    const char *cur = smap_get(&iface->options, "peer");
    if (!cur || strcmp(cur, peer)) {
        struct smap options = SMAP_INITIALIZER(&options);
        smap_add(&options, "peer", peer);
        ovsrec_interface_set_options(iface, &options);
        smap_destroy(&options);
    }
}

/* The patch ports between br-int and the external bridge, which the
 * operator must have created. */
static void
ensure_external(struct vswitch *vs, const struct ovsrec_bridge *br,
                struct ovsdb_idl_txn *txn,
                const struct vswitch_config *cfg)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
    const struct ovsrec_bridge *ex = find_bridge(vs, cfg->external_bridge);
    if (!ex) {
        VLOG_WARN_RL(&rl, "external bridge %s does not exist: no SNAT, "
                     "NodePorts or external addresses until it does (create "
                     "it with the uplink and the node IP)",
                     cfg->external_bridge);
        return;
    }
    ensure_patch_port(br, txn, VSWITCH_PATCH_INT_NAME, VSWITCH_PATCH_EX_NAME);
    ensure_patch_port(ex, txn, VSWITCH_PATCH_EX_NAME, VSWITCH_PATCH_INT_NAME);
}

/* Sets external_ids key 'key' of 'iface' to 'value' (NULL: removes it),
 * if it is not that already. */
static void
iface_set_external_id(const struct ovsrec_interface *iface, const char *key,
                      const char *value)
{
    const char *cur = smap_get(&iface->external_ids, key);
    if (value && (!cur || strcmp(cur, value))) {
        ovsrec_interface_update_external_ids_setkey(iface, key, value);
    } else if (!value && cur) {
        ovsrec_interface_update_external_ids_delkey(iface, key);
    }
}

/* Gives the pod interface 'iface' of kovs-cni what 'cp' says. */
static void
set_cni_iface(const struct ovsrec_interface *iface,
              const struct vswitch_cni_port *cp)
{
    char mac[ETH_ADDR_STRLEN + 1];
    snprintf(mac, sizeof mac, ETH_ADDR_FMT, ETH_ADDR_ARGS(cp->mac));
    iface_set_external_id(iface, "iface-id", cp->iface_id);
    iface_set_external_id(iface, "attached-mac", mac);
    iface_set_external_id(iface, "ip-addresses", cp->ip_addresses);
    iface_set_external_id(iface, "kovs-cni-attachment", cp->attachment);
}

/* The ports of kovs-cni's pods: exactly those of 'cfg->cni_ports' among
 * the ports tagged as kovs-cni's. */
static void
ensure_cni_ports(const struct ovsrec_bridge *br, struct ovsdb_idl_txn *txn,
                 const struct vswitch_config *cfg)
{
    struct sset present = SSET_INITIALIZER(&present);

    for (size_t i = 0; i < br->n_ports; i++) {
        const struct ovsrec_port *port = br->ports[i];
        const struct ovsrec_interface *iface = port_iface(port);
        if (!iface) {
            continue;
        }
        const struct vswitch_cni_port *cp
            = shash_find_data(cfg->cni_ports, iface->name);
        if (cp) {
            set_cni_iface(iface, cp);
            sset_add(&present, iface->name);
        } else if (smap_get(&iface->external_ids, "kovs-cni-attachment")) {
            VLOG_INFO("removing port %s of pod %s (kovs-cni attachment %s)",
                      port->name,
                      smap_get_def(&iface->external_ids, "iface-id", "?"),
                      smap_get(&iface->external_ids, "kovs-cni-attachment"));
            ovsrec_bridge_update_ports_delvalue(br, port);
        }
    }

    struct shash_node *node;
    SHASH_FOR_EACH (node, cfg->cni_ports) {
        const struct vswitch_cni_port *cp = node->data;
        if (sset_contains(&present, node->name)) {
            continue;
        }
        VLOG_INFO("adding port %s of pod %s (%s)", node->name, cp->iface_id,
                  cp->ip_addresses);
        const struct ovsrec_port *port = add_port(txn, br, node->name, "");
        set_cni_iface(port_iface(port), cp);
    }
    sset_destroy(&present);
}

/* Marks each pod interface of 'br' whose name is in 'installed' with
 * external_ids:kovs-installed=true, and unmarks the others. */
static void
mark_installed(const struct ovsrec_bridge *br, const struct sset *installed)
{
    for (size_t i = 0; i < br->n_ports; i++) {
        const struct ovsrec_interface *iface = port_iface(br->ports[i]);
        if (!iface || !smap_get(&iface->external_ids, "iface-id")) {
            continue;
        }
        iface_set_external_id(iface, "kovs-installed",
                              sset_contains(installed, iface->name)
                              ? "true" : NULL);
    }
}

static ofp_port_t
iface_ofport(const struct ovsrec_interface *iface)
{
    return (iface->n_ofport && iface->ofport[0] > 0
            && iface->ofport[0] < ofp_to_u16(OFPP_MAX)
            ? u16_to_ofp(iface->ofport[0]) : 0);
}

static bool
flows_port_equal(const struct flows_port *a, const struct flows_port *b)
{
    return (a->ofport == b->ofport && eth_addr_equals(a->mac, b->mac)
            && a->ip == b->ip && ipv6_addr_equals(&a->ip6, &b->ip6));
}

/* Returns the first IPv6 address in 'ip_addresses' (as for first_ipv4()),
 * or all-zeros. */
static struct in6_addr
first_ipv6(const char *ip_addresses)
{
    struct in6_addr ip6 = in6addr_any;
    if (ip_addresses) {
        char *copy = xstrdup(ip_addresses);
        char *save = NULL;
        for (char *tok = strtok_r(copy, ", ", &save); tok;
             tok = strtok_r(NULL, ", ", &save)) {
            char *slash = strchr(tok, '/');
            if (slash) {
                *slash = '\0';
            }
            if (strchr(tok, ':') && ipv6_parse(tok, &ip6)
                && !IN6_IS_ADDR_V4MAPPED(&ip6)) {
                break;
            }
            ip6 = in6addr_any;
        }
        free(copy);
    }
    return ip6;
}

/* Returns the first IPv4 address in 'ip_addresses', a comma-separated list
 * of "IP/LEN" or "IP" (external_ids:ip-addresses), or 0. */
static ovs_be32
first_ipv4(const char *ip_addresses)
{
    ovs_be32 ip = 0;
    if (ip_addresses) {
        char *copy = xstrdup(ip_addresses);
        char *save = NULL;
        for (char *tok = strtok_r(copy, ", ", &save); tok && !ip;
             tok = strtok_r(NULL, ", ", &save)) {
            char *slash = strchr(tok, '/');
            if (slash) {
                *slash = '\0';
            }
            if (!ip_parse(tok, &ip)) {
                ip = 0;
            }
        }
        free(copy);
    }
    return ip;
}

/* Adds to 'set' the key of the object of kind 'kind' (K8S_POD or
 * K8S_NODE) whose port is keyed 'name' in a table of ports: "namespace/name"
 * for a pod, the name for a node. */
static void
port_key_add(struct k8s_key_set *set, enum k8s_kind kind, const char *name)
{
    struct k8s_key key;
    if (k8s_key_parse(&key, kind, name)) {
        k8s_key_set_add(set, kind, key.namespace, key.name);
    }
    k8s_key_destroy(&key);
}

/* Replaces 'old' by 'new', adding to 'changed' every key whose port
 * differs. */
static void
swap_ports(struct shash *old, struct shash *new, enum k8s_kind kind,
           struct k8s_key_set *changed)
{
    struct shash_node *node;
    SHASH_FOR_EACH (node, new) {
        const struct flows_port *o = shash_find_data(old, node->name);
        if (!o || !flows_port_equal(o, node->data)) {
            port_key_add(changed, kind, node->name);
        }
    }
    SHASH_FOR_EACH (node, old) {
        if (!shash_find(new, node->name)) {
            port_key_add(changed, kind, node->name);
        }
    }
    shash_destroy_free_data(old);
    shash_swap(old, new);
}

/* Reads what kovs needs of the external bridge 'ex' (NULL if it does not
 * exist) and its patch port on br-int, 'patch_ofport'. */
static void
read_external(struct vswitch *vs, const struct ovsrec_bridge *ex,
              ofp_port_t patch_ofport,
              struct engine_ports_change *changes)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
    struct vswitch_external e = { .patch_ofport = patch_ofport };
    size_t n_uplinks = 0;

    for (size_t i = 0; ex && i < ex->n_ports; i++) {
        const struct ovsrec_interface *iface = port_iface(ex->ports[i]);
        if (!iface) {
            continue;
        }
        if (!strcmp(iface->name, ex->name)) {
            if (iface->mac_in_use) {
                eth_addr_from_string(iface->mac_in_use, &e.mac);
            }
        } else if (!strcmp(iface->name, VSWITCH_PATCH_EX_NAME)) {
            e.ex_patch_ofport = iface_ofport(iface);
        } else if (!strcmp(iface->type, "") || !strcmp(iface->type, "system")
                   || !strcmp(iface->type, "dpdk")
                   || !strcmp(iface->type, "afxdp")) {
            e.uplink_ofport = iface_ofport(iface);
            n_uplinks++;
        }
    }
    if (ex && n_uplinks != 1) {
        VLOG_WARN_RL(&rl, "external bridge %s has %"PRIuSIZE" uplinks (ports "
                     "other than its own, internal ports and patch ports); "
                     "kovs needs exactly one", ex->name, n_uplinks);
        e.uplink_ofport = 0;
    }
    e.ready = (e.patch_ofport && e.ex_patch_ofport && e.uplink_ofport
               && !eth_addr_is_zero(e.mac));
    const struct vswitch_external *old = &vs->ports.external;
    if (e.ready != old->ready || e.patch_ofport != old->patch_ofport
        || e.ex_patch_ofport != old->ex_patch_ofport
        || e.uplink_ofport != old->uplink_ofport
        || !eth_addr_equals(e.mac, old->mac)) {
        if (e.ready) {
            VLOG_INFO("external bridge %s: uplink port %d, patch port %d "
                      "(br-int's %d), MAC "ETH_ADDR_FMT, ex->name,
                      ofp_to_u16(e.uplink_ofport),
                      ofp_to_u16(e.ex_patch_ofport),
                      ofp_to_u16(e.patch_ofport), ETH_ADDR_ARGS(e.mac));
        }
        changes->all = true;
        vs->ports.external = e;
    }
}

/* Reads the ports of 'br' into 'ports', recording what changed.  With the
 * shared flow-based tunnel port, every peer Node in 'cluster' with an
 * underlay address is reached through it. */
static void
read_ports(struct vswitch *vs, const struct ovsrec_bridge *br,
           const struct vswitch_config *cfg,
           const struct k8s_cluster *cluster,
           struct engine_ports_change *changes)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);
    struct shash pods = SHASH_INITIALIZER(&pods);
    struct shash pod_ifaces = SHASH_INITIALIZER(&pod_ifaces);
    struct shash tunnels = SHASH_INITIALIZER(&tunnels);
    ofp_port_t gateway_ofport = 0;
    ofp_port_t patch_ofport = 0;
    ofp_port_t flow_tunnel_ofport = 0;
    int gateway_ifindex = 0;

    for (size_t i = 0; br && i < br->n_ports; i++) {
        const struct ovsrec_interface *iface = port_iface(br->ports[i]);
        if (!iface) {
            continue;
        }
        ofp_port_t ofport = iface_ofport(iface);
        const char *iface_id = smap_get(&iface->external_ids, "iface-id");
        const char *node = smap_get(&iface->external_ids, "kovs-node");

        if (!strcmp(iface->name, VSWITCH_GATEWAY_NAME)) {
            gateway_ofport = ofport;
            gateway_ifindex = iface->n_ifindex ? iface->ifindex[0] : 0;
        } else if (!strcmp(iface->name, VSWITCH_PATCH_INT_NAME)) {
            patch_ofport = ofport;
        } else if (!strcmp(iface->name, VSWITCH_FLOW_TUNNEL_NAME)) {
            flow_tunnel_ofport = cfg->flow_tunnel ? ofport : 0;
        } else if (iface_id && ofport) {
            const char *mac_s = smap_get(&iface->external_ids,
                                         "attached-mac");
            struct eth_addr mac;
            if (!mac_s || !eth_addr_from_string(mac_s, &mac)
                || eth_addr_is_multicast(mac) || eth_addr_is_zero(mac)) {
                VLOG_WARN_RL(&rl, "interface %s (iface-id %s): "
                             "external_ids:attached-mac: %s: the pod gets "
                             "no flows until it is a unicast MAC",
                             iface->name, iface_id,
                             mac_s ? mac_s : "missing");
                continue;
            }
            struct k8s_key key;
            bool valid = k8s_key_parse(&key, K8S_POD, iface_id);
            k8s_key_destroy(&key);
            if (!valid) {
                VLOG_WARN_RL(&rl, "interface %s: external_ids:iface-id "
                             "\"%s\" is not \"namespace/name\"",
                             iface->name, iface_id);
                continue;
            }
            const char *ips = smap_get(&iface->external_ids,
                                       "ip-addresses");
            struct flows_port *p = xmalloc(sizeof *p);
            p->ofport = ofport;
            p->mac = mac;
            p->ip = first_ipv4(ips);
            p->ip6 = first_ipv6(ips);
            if (ips && !p->ip && !ipv6_addr_is_set(&p->ip6)) {
                VLOG_WARN_RL(&rl, "interface %s (iface-id %s): "
                             "external_ids:ip-addresses: \"%s\" has no "
                             "address; the Pod object's are used",
                             iface->name, iface_id, ips);
            }
            if (!shash_add_once(&pods, iface_id, p)) {
                VLOG_WARN_RL(&rl, "interface %s: iface-id %s is used by "
                             "another interface too", iface->name, iface_id);
                free(p);
            } else {
                struct vswitch_pod_iface *pi = xmalloc(sizeof *pi);
                pi->name = xstrdup(iface->name);
                pi->installed = smap_get_bool(&iface->external_ids,
                                              "kovs-installed", false);
                pi->has_ip = p->ip || ipv6_addr_is_set(&p->ip6);
                shash_add(&pod_ifaces, iface_id, pi);
            }
        } else if (node && ofport && !cfg->flow_tunnel) {
            struct flows_port *p = xzalloc(sizeof *p);
            p->ofport = ofport;
            if (!shash_add_once(&tunnels, node, p)) {
                free(p);
            }
        }
    }

    if (flow_tunnel_ofport) {
        const struct k8s_object *obj;
        K8S_CLUSTER_FOR_EACH (obj, K8S_NODE, cluster) {
            if (strcmp(obj->name, cfg->node_name)
                && k8s_node_underlay_ip(k8s_node_cast(obj))) {
                struct flows_port *p = xzalloc(sizeof *p);
                p->ofport = flow_tunnel_ofport;
                shash_add(&tunnels, obj->name, p);
            }
        }
    }
    if (gateway_ofport != vs->ports.gateway_ofport) {
        changes->all = true;
    }
    if (flow_tunnel_ofport != vs->ports.flow_tunnel_ofport) {
        /* Every peer's entry changed with it (swap_ports() below). */
        changes->pipeline = true;
    }
    vs->ports.flow_tunnel_ofport = flow_tunnel_ofport;
    vs->ports.gateway_ofport = gateway_ofport;
    vs->ports.gateway_ifindex = gateway_ifindex;
    swap_ports(&vs->ports.pods, &pods, K8S_POD, &changes->pods);
    pod_ifaces_clear(&vs->ports.pod_ifaces);
    shash_swap(&vs->ports.pod_ifaces, &pod_ifaces);
    shash_destroy(&pod_ifaces);
    free(vs->ports.datapath_type);
    vs->ports.datapath_type = xstrdup(br && br->datapath_type
                                  ? br->datapath_type : "");
    swap_ports(&vs->ports.tunnels, &tunnels, K8S_NODE,
               &changes->nodes);
    if (cfg->external_bridge) {
        read_external(vs, find_bridge(vs, cfg->external_bridge),
                      patch_ofport,
                      changes);
    }
}

void
vswitch_run(struct vswitch *vs, const struct vswitch_config *cfg,
            const struct k8s_cluster *cluster,
            const struct flows_local *local,
            bool nodes_changed, struct engine_ports_change *changes)
{
    struct ovsdb_idl_txn *txn = ovsdb_idl_loop_run(&vs->idl_loop);

    /* Nothing to do unless the database, the Nodes or this node's
     * addressing changed since the last pass: walking a thousand ports on
     * every wake-up of the main loop is not free. */
    unsigned int seqno = ovsdb_idl_get_seqno(vs->idl_loop.idl);
    if (vs->done_once && seqno == vs->last_seqno && !nodes_changed
        && cfg->cni_seqno == vs->last_cni_seqno
        && local->valid == vs->last_local_valid
        && eth_addr_equals(local->gateway_mac, vs->last_gateway_mac)) {
        ovsdb_idl_loop_commit_and_wait(&vs->idl_loop);
        return;
    }

    if (txn) {
        ovsdb_idl_txn_add_comment(txn, "kovs-controller: node %s",
                                  cfg->node_name);
        const struct ovsrec_bridge *br = ensure_bridge(vs, txn, cfg);
        if (br && find_bridge(vs, cfg->bridge)) {
            ensure_gateway(br, txn, cfg, local);
            ensure_tunnels(br, txn, cfg, cluster);
            if (cfg->external_bridge) {
                ensure_external(vs, br, txn, cfg);
            }
            if (cfg->cni_ports) {
                ensure_cni_ports(br, txn, cfg);
            }
            if (cfg->installed) {
                mark_installed(br, cfg->installed);
            }
        }
    }
    read_ports(vs, find_bridge(vs, cfg->bridge), cfg, cluster, changes);
    ovsdb_idl_loop_commit_and_wait(&vs->idl_loop);
    vs->last_seqno = ovsdb_idl_get_seqno(vs->idl_loop.idl);
    if (txn) {
        vs->last_cni_seqno = cfg->cni_seqno;
    }
    vs->last_local_valid = local->valid;
    vs->last_gateway_mac = local->gateway_mac;
    vs->done_once = true;
}
