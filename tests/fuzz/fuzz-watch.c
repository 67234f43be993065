/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0.
 *
 * libFuzzer target: the body of a watch (one JSON event per line) through
 * the API client's watch decoder, applied to one cluster as a watch of each
 * of the six kinds in turn.  Built by 'make fuzz' (see tests/automake.mk)
 * and run by tests/fuzz/run.sh. */

#include <config.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include "k8s/k8s-client.h"
#include "k8s/k8s-model.h"
#include "openvswitch/vlog.h"
#include "util.h"

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
    struct k8s_cluster cluster;

    k8s_cluster_init(&cluster);
    for (int kind = 0; kind < K8S_N_KINDS; kind++) {
        char *resource_version, *end;
        k8s_client_apply_watch_stream(&cluster, kind, (const char *) data,
                                      size, &resource_version, &end);
        free(resource_version);
        free(end);
    }
    k8s_cluster_destroy(&cluster);
    return 0;
}
