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

# kovs-ctl: offline tools on a snapshot of the cluster.
bin_PROGRAMS += utilities/kovs-ctl
utilities_kovs_ctl_SOURCES = utilities/kovs-ctl.c \
	utilities/snapshot.c utilities/snapshot.h \
	utilities/trace.c utilities/trace.h \
	utilities/trace-switch.c utilities/trace-switch.h
utilities_kovs_ctl_LDADD = flows/libkovs-flows.a k8s/libkovs-k8s.a \
	$(OVS_LIBS) $(JANSSON_LIBS)

dist_man_MANS += utilities/kovs-ctl.8
