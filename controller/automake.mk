# Copyright (c) 2026 The kovs authors.
#
# Licensed under the Apache License, Version 2.0.

bin_PROGRAMS += controller/kovs-controller controller/kovs-cni
controller_kovs_controller_SOURCES = \
	controller/cni.c \
	controller/cni.h \
	controller/cniserver.c \
	controller/cniserver.h \
	controller/commands.c \
	controller/controller.h \
	controller/controller-metrics.c \
	controller/controller-metrics.h \
	controller/dpcache.c \
	controller/dpcache.h \
	controller/engine.c \
	controller/engine.h \
	controller/external-bridge.c \
	controller/external-bridge.h \
	controller/gateway.c \
	controller/gateway.h \
	controller/healthcheck.c \
	controller/healthcheck.h \
	controller/http-server.c \
	controller/http-server.h \
	controller/ipam.c \
	controller/ipam.h \
	controller/kovs-controller.c \
	controller/metrics.c \
	controller/metrics.h \
	controller/neighbor.c \
	controller/neighbor.h \
	controller/np-log.c \
	controller/np-log.h \
	controller/ofctrl.c \
	controller/ofctrl.h \
	controller/options.c \
	controller/options.h \
	controller/pinctrl.c \
	controller/pinctrl.h \
	controller/policy-stats.c \
	controller/policy-stats.h \
	controller/recompute-check.c \
	controller/recompute-check.h \
	controller/sync-log.c \
	controller/sync-log.h \
	controller/trace-live.c \
	controller/trace-live.h \
	controller/uplink.c \
	controller/uplink.h \
	controller/vswitch.c \
	controller/vswitch.h \
	controller/vswitchd-ctl.c \
	controller/vswitchd-ctl.h
controller_kovs_controller_LDADD = \
	utilities/libkovs-trace.a \
	flows/libkovs-flows.a \
	k8s/libkovs-k8s.a \
	$(OVS_LIBS) \
	$(JANSSON_LIBS) \
	$(LIBCURL_LIBS) \
	$(YAML_LIBS)

# The CNI plugin.
controller_kovs_cni_SOURCES = \
	controller/cni.c \
	controller/cni.h \
	controller/ipam.c \
	controller/ipam.h \
	controller/kovs-cni.c
controller_kovs_cni_LDADD = $(OVS_LIBS)

dist_man_MANS += controller/kovs-controller.8 controller/kovs-cni.8
