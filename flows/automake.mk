# Copyright (c) 2026 The kovs authors.
#
# Licensed under the Apache License, Version 2.0.

# flows/: pure translation of the cluster model into desired flows.
noinst_LIBRARIES += flows/libkovs-flows.a
flows_libkovs_flows_a_SOURCES = \
	flows/actions.h \
	flows/external.c \
	flows/flow-table.c \
	flows/flow-table.h \
	flows/flows.c \
	flows/flows.h \
	flows/node.c \
	flows/pipeline.c \
	flows/pipeline.h \
	flows/pinctrl-opcodes.h \
	flows/pod.c \
	flows/policy.c \
	flows/policy.h \
	flows/service.c \
	flows/service.h
