# Copyright (c) 2026 The kovs authors.
#
# Licensed under the Apache License, Version 2.0.

dist_noinst_SCRIPTS += \
	utilities/build-image.sh \
	utilities/build-ovs.sh \
	utilities/demo.sh \
	utilities/kovs-install-cni.sh \
	utilities/quickstart.sh
EXTRA_DIST += utilities/demo-cluster.json

# The trace of a packet in Kubernetes terms, shared by "kovs-ctl trace"
# (offline, on a private switch) and kovs-controller's "trace" command
# (live, on br-int).
noinst_LIBRARIES += utilities/libkovs-trace.a
utilities_libkovs_trace_a_SOURCES = utilities/trace.c utilities/trace.h

# kovs-ctl: offline tools on a snapshot of the cluster.
bin_PROGRAMS += utilities/kovs-ctl
utilities_kovs_ctl_SOURCES = utilities/kovs-ctl.c \
	utilities/snapshot.c utilities/snapshot.h \
	utilities/trace-offline.c utilities/trace-offline.h \
	utilities/trace-switch.c utilities/trace-switch.h
utilities_kovs_ctl_LDADD = utilities/libkovs-trace.a \
	flows/libkovs-flows.a k8s/libkovs-k8s.a \
	$(OVS_LIBS) $(JANSSON_LIBS)

dist_man_MANS += utilities/kovs-ctl.8
