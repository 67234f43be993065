# Copyright (c) 2026 The kovs authors.
#
# Licensed under the Apache License, Version 2.0.

# k8s/: the cluster model, its JSON decoders, the state-file source and the
# API server client.
noinst_LIBRARIES += k8s/libkovs-k8s.a
k8s_libkovs_k8s_a_SOURCES = \
	k8s/k8s-client.c \
	k8s/k8s-client.h \
	k8s/k8s-client-config.c \
	k8s/k8s-decode.c \
	k8s/k8s-decode.h \
	k8s/k8s-decode-private.h \
	k8s/heap-bytes.h \
	k8s/k8s-model.c \
	k8s/k8s-model.h \
	k8s/k8s-state.c \
	k8s/k8s-state.h
k8s_libkovs_k8s_a_CPPFLAGS = $(AM_CPPFLAGS) $(JANSSON_CFLAGS) \
	$(LIBCURL_CFLAGS) $(YAML_CFLAGS)

# The manifests that deploy kovs-controller in a cluster.
EXTRA_DIST += \
	k8s/deploy/kovs-daemonset.yaml \
	k8s/deploy/kovs-rbac.yaml
