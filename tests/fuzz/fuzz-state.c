/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0.
 *
 * libFuzzer target: a state file (a JSON List, as 'kubectl get ... -o json'
 * prints it) through the Kubernetes decoder, then every flow of node "n1"
 * with a port for each of its pods, as 'kovs-ctl compute --node=n1
 * --all-local-ports' computes them.  Built by 'make fuzz' (see
 * tests/automake.mk) and run by tests/fuzz/run.sh. */

#include <config.h>

#include <stddef.h>
#include <stdint.h>
#include "flow.h"
#include "flows/flow-table.h"
#include "flows/flows.h"
#include "k8s/k8s-decode.h"
#include "k8s/k8s-model.h"
#include "openvswitch/shash.h"
#include "openvswitch/vlog.h"
#include "svec.h"
#include "util.h"
#include "utilities/snapshot.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc OVS_UNUSED, char ***argv)
{
    set_program_name((*argv)[0]);
    vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_OFF);
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char node_name[] = "n1";
    struct k8s_cluster cluster;
    struct svec warnings = SVEC_EMPTY_INITIALIZER;
    char *error = NULL;

    k8s_cluster_init(&cluster);
    if (!k8s_decode_list((const char *) data, size, &cluster, &warnings,
                         &error)) {
        k8s_cluster_clear_changes(&cluster);

        struct shash pods = SHASH_INITIALIZER(&pods);
        struct shash tunnels = SHASH_INITIALIZER(&tunnels);
        snapshot_pod_ports(&cluster, node_name, &pods);
        snapshot_tunnel_ports(&cluster, node_name, &tunnels);
        struct flows_input in = {
            .cluster = &cluster,
            .node_name = node_name,
            .gateway_ofport = u16_to_ofp(1),
            .pod_ports = &pods,
            .tunnel_ports = &tunnels,
        };
        struct flow_table ft;
        flow_table_init(&ft);
        flows_compute_all(&in, &ft, NULL);
        flow_table_destroy(&ft);
        shash_destroy_free_data(&pods);
        shash_destroy_free_data(&tunnels);
    }
    free(error);
    svec_destroy(&warnings);
    k8s_cluster_destroy(&cluster);
    return 0;
}
