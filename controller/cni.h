/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#ifndef CONTROLLER_CNI_H
#define CONTROLLER_CNI_H 1

/* The Container Network Interface protocol, as kovs-cni speaks it.
 *
 * A runtime runs the plugin with the verb and the container's identity in
 * the environment and the network configuration on stdin; the plugin
 * answers with a result, an error object or nothing on stdout.  This module
 * is the pure part of that: it parses the environment (including
 * CNI_ARGS) and the configuration, and encodes results and errors in the
 * format of each supported version of the specification (0.4.0, 1.0.0,
 * 1.1.0).  It does no I/O, so the unit tests (tests/test-cni.c) check it
 * directly.  JSON is OVS's (openvswitch/json.h). */

#include <stdbool.h>
#include <stddef.h>
#include "openvswitch/types.h"
#include "packets.h"
#include "svec.h"

struct json;
struct smap;

/* The versions of the specification kovs-cni implements, oldest first. */
extern const char *const cni_supported_versions[];
extern const size_t cni_n_supported_versions;
#define CNI_LATEST_VERSION "1.1.0"

/* The plugin's name in a configuration's "type". */
#define CNI_PLUGIN_TYPE "kovs-cni"

enum cni_command {
    CNI_ADD,
    CNI_DEL,
    CNI_CHECK,
    CNI_STATUS,
    CNI_GC,
    CNI_VERSION,
};

const char *cni_command_name(enum cni_command);

/* The specification's well-known error codes; 100 and up are kovs's. */
enum cni_error_code {
    CNI_ERR_INCOMPATIBLE_VERSION = 1,
    CNI_ERR_UNSUPPORTED_FIELD = 2,
    CNI_ERR_UNKNOWN_CONTAINER = 3,
    CNI_ERR_INVALID_ENV = 4,
    CNI_ERR_IO = 5,
    CNI_ERR_DECODE = 6,
    CNI_ERR_INVALID_CONFIG = 7,
    CNI_ERR_TRY_AGAIN = 11,
    CNI_ERR_NOT_AVAILABLE = 50,
    CNI_ERR_LIMITED_CONNECTIVITY = 51,
    CNI_ERR_CONTROLLER = 100,       /* kovs-controller refused. */
    CNI_ERR_NETNS = 101,            /* Configuring the interfaces failed. */
    CNI_ERR_FLOWS_TIMEOUT = 102,    /* The pod's flows were not installed
                                     * in time. */
    CNI_ERR_CHECK_FAILED = 103,     /* CHECK found something missing. */
};

/* An error to report.  'msg' is short, 'details' optional. */
struct cni_error {
    int code;                       /* 0: no error. */
    char *msg;
    char *details;
};

void cni_error_set(struct cni_error *, int code, const char *details_fmt,
                   ...) OVS_PRINTF_FORMAT(3, 4);
void cni_error_destroy(struct cni_error *);

/* The error object of 'error' for configuration version 'version' (NULL:
 * the latest), as a JSON text the caller frees. */
char *cni_error_to_json(const struct cni_error *, const char *version);

/* What the environment says. */
struct cni_env {
    enum cni_command command;
    char *container_id;             /* CNI_CONTAINERID. */
    char *netns;                    /* CNI_NETNS, may be NULL for DEL. */
    char *ifname;                   /* CNI_IFNAME. */
    char *path;                     /* CNI_PATH, may be NULL. */

    /* From CNI_ARGS. */
    char *pod_namespace;            /* K8S_POD_NAMESPACE. */
    char *pod_name;                 /* K8S_POD_NAME. */
    char *infra_container_id;       /* K8S_POD_INFRA_CONTAINER_ID. */
};

/* Parses the CNI_* variables of 'env' into 'e'.  Returns true on success;
 * otherwise fills 'error' (code 4, invalid environment variables) and
 * 'e' is to be destroyed anyway. */
bool cni_env_parse(const struct smap *env, struct cni_env *e,
                   struct cni_error *error);
void cni_env_destroy(struct cni_env *);

/* Returns true if 'name' is a valid container ID (letters, digits, '_',
 * '.', '-', starting with a letter or digit). */
bool cni_container_id_is_valid(const char *name);

/* Returns true if 'name' is a valid interface name for CNI_IFNAME. */
bool cni_ifname_is_valid(const char *name);

/* A network configuration as kovs-cni receives it: one entry of the list
 * that kovs-controller writes, with the list's name and version. */
struct cni_config {
    char *cni_version;              /* The version in effect. */
    char *name;
    char *type;

    /* Where kovs-controller is: its control socket, or its run directory
     * (whose kovs-controller.pid names the socket). */
    char *socket;
    char *run_dir;
    int mtu;                        /* 0: not given. */
    bool userspace_datapath;        /* br-int's datapath is "netdev". */
    int install_timeout_ms;         /* How long ADD waits for the flows. */
    struct json *dns;               /* "dns", or NULL. */
    struct json *prev_result;       /* "prevResult", or NULL. */

    /* GC: "containerID/ifname" of every valid attachment. */
    struct svec valid_attachments;
};

/* Parses 'text', the configuration on stdin, for 'command'.  Returns true
 * on success; otherwise fills 'error' (codes 1, 6 or 7) and 'c' is to be
 * destroyed anyway.  For VERSION only the version is looked at. */
bool cni_config_parse(const char *text, enum cni_command command,
                      struct cni_config *c, struct cni_error *error);
void cni_config_destroy(struct cni_config *);

/* Returns the index of 'version' in cni_supported_versions[], or -1. */
int cni_version_index(const char *version);

/* What ADD gives a pod. */
struct cni_result {
    char *host_ifname;              /* The host end of the veth. */
    struct eth_addr host_mac;
    char *ifname;                   /* The pod's end, CNI_IFNAME. */
    struct eth_addr mac;
    char *sandbox;                  /* CNI_NETNS. */
    int mtu;
    ovs_be32 ip;                    /* 0 on an IPv6-only node. */
    unsigned int plen;
    ovs_be32 gateway;
    bool has_ip6;                   /* On a node with an IPv6 podCIDR: */
    struct in6_addr ip6;            /* The IPv6 address, */
    unsigned int plen6;             /* its prefix length */
    struct in6_addr gateway6;       /* and gateway. */
    const struct json *dns;         /* NULL for none. */
};

/* The result 'r' for configuration version 'version', as a JSON text the
 * caller frees. */
char *cni_result_to_json(const struct cni_result *r, const char *version);

/* Reads from 'prev_result' (a result of any supported version) the IPv4
 * address, prefix length and gateway of the interface called 'ifname' in a
 * sandbox.  Returns false if it has none. */
bool cni_result_find_ipv4(const struct json *prev_result, const char *ifname,
                          ovs_be32 *ip, unsigned int *plen,
                          ovs_be32 *gateway);

/* The same for the IPv6 address. */
bool cni_result_find_ipv6(const struct json *prev_result, const char *ifname,
                          struct in6_addr *ip6, unsigned int *plen,
                          struct in6_addr *gateway6);

/* The answer to VERSION for a configuration of 'version' (NULL: none). */
char *cni_version_to_json(const char *version);

#endif /* controller/cni.h */
