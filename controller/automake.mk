# Copyright (c) 2026 The kovs authors.
#
# Licensed under the Apache License, Version 2.0.

bin_PROGRAMS += controller/kovs-controller
controller_kovs_controller_SOURCES = \
	controller/dpcache.c \
	controller/dpcache.h \
	controller/gateway.c \
	controller/gateway.h \
	controller/healthcheck.c \
	controller/healthcheck.h \
	controller/kovs-controller.c \
	controller/neighbor.c \
	controller/neighbor.h \
	controller/ofctrl.c \
	controller/ofctrl.h \
	controller/pinctrl.c \
	controller/pinctrl.h \
	controller/uplink.c \
	controller/uplink.h \
	controller/vswitch.c \
	controller/vswitch.h
controller_kovs_controller_LDADD = \
	flows/libkovs-flows.a \
	k8s/libkovs-k8s.a \
	$(OVS_LIBS) \
	$(JANSSON_LIBS) \
	$(LIBCURL_LIBS) \
	$(YAML_LIBS)

dist_man_MANS += controller/kovs-controller.8
