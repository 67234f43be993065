# Copyright (c) 2026 The kovs authors.
#
# Licensed under the Apache License, Version 2.0.

# Unit-test programs.
noinst_PROGRAMS += tests/test-k8s tests/test-flows tests/test-pinctrl \
	tests/test-policy tests/test-k8s-client tests/test-healthcheck \
	tests/test-cni tests/test-metrics
tests_test_metrics_SOURCES = tests/test-metrics.c \
	controller/http-server.c controller/http-server.h \
	controller/metrics.c controller/metrics.h
tests_test_metrics_LDADD = $(OVS_LIBS)
tests_test_cni_SOURCES = tests/test-cni.c \
	controller/cni.c controller/cni.h \
	controller/ipam.c controller/ipam.h
tests_test_cni_LDADD = $(OVS_LIBS)
tests_test_k8s_SOURCES = tests/test-k8s.c
tests_test_k8s_CPPFLAGS = $(AM_CPPFLAGS) $(JANSSON_CFLAGS)
tests_test_k8s_LDADD = k8s/libkovs-k8s.a $(OVS_LIBS) $(JANSSON_LIBS)
tests_test_k8s_client_SOURCES = tests/test-k8s-client.c
tests_test_k8s_client_LDADD = k8s/libkovs-k8s.a $(OVS_LIBS) \
	$(JANSSON_LIBS) $(LIBCURL_LIBS) $(YAML_LIBS)
tests_test_pinctrl_SOURCES = tests/test-pinctrl.c \
	controller/neighbor.c controller/neighbor.h \
	controller/pinctrl.c controller/pinctrl.h
tests_test_pinctrl_LDADD = $(OVS_LIBS)
tests_test_healthcheck_SOURCES = tests/test-healthcheck.c \
	controller/healthcheck.c controller/healthcheck.h \
	controller/http-server.c controller/http-server.h
tests_test_healthcheck_LDADD = $(OVS_LIBS)
tests_test_policy_SOURCES = tests/test-policy.c
tests_test_policy_LDADD = flows/libkovs-flows.a k8s/libkovs-k8s.a \
	$(OVS_LIBS) $(JANSSON_LIBS)
tests_test_flows_SOURCES = tests/test-flows.c
tests_test_flows_LDADD = flows/libkovs-flows.a k8s/libkovs-k8s.a \
	$(OVS_LIBS) $(JANSSON_LIBS)

# The autotest suite: unit, sandbox and cluster tests.
TESTSUITE_AT = \
	tests/testsuite.at \
	tests/kovs-macros.at \
	tests/k8s.at \
	tests/flows.at \
	tests/pinctrl.at \
	tests/healthcheck.at \
	tests/metrics.at \
	tests/policy-unit.at \
	tests/sandbox.at \
	tests/service-sandbox.at \
	tests/cluster.at \
	tests/service.at \
	tests/external.at \
	tests/e2e.at \
	tests/policy.at \
	tests/audit-log.at \
	tests/trace.at \
	tests/faults.at \
	tests/apiserver.at \
	tests/cni.at \
	tests/image.at
TESTSUITE = $(srcdir)/tests/testsuite
noinst_HEADERS += tests/unit-test.h tests/unit-test-main.h tests/fatal-check.h
EXTRA_DIST += $(TESTSUITE_AT) $(TESTSUITE) tests/atlocal.in \
	tests/package.m4 tests/cluster-lib.sh tests/sandbox-lib.sh \
	tests/apiserver-lib.sh tests/fake-apiserver.py tests/check-manifests.py \
	tests/policy-lib.sh tests/netpol-probe.py tests/deploy-lib.sh \
	tests/repro/stale-megaflow.sh tests/repro/icmp6-related-nat.sh \
	tests/repro/packet-out-patch-recirc.sh tests/repro/switch-lib.sh \
	tests/cni-runtime.go tests/cni-lib.sh \
	tests/e2e-lib.sh tests/metrics-http-probe.py
DISTCLEANFILES += tests/atconfig tests/atlocal

AUTOM4TE = autom4te
AUTOTEST = $(AUTOM4TE) -l autotest
AUTOTEST_PATH = $(abs_top_builddir)/controller:$(abs_top_builddir)/tests:$(abs_top_builddir)/utilities

$(TESTSUITE): $(TESTSUITE_AT) $(srcdir)/tests/package.m4
	$(AM_V_GEN)$(AUTOTEST) -I '$(srcdir)' -I '$(srcdir)/tests' \
		-o $@.tmp $@.at && mv $@.tmp $@

$(srcdir)/tests/package.m4: $(top_srcdir)/configure.ac
	$(AM_V_GEN){ \
	  echo 'm4_define([AT_PACKAGE_NAME], [$(PACKAGE_NAME)])'; \
	  echo 'm4_define([AT_PACKAGE_TARNAME], [$(PACKAGE_TARNAME)])'; \
	  echo 'm4_define([AT_PACKAGE_VERSION], [$(PACKAGE_VERSION)])'; \
	  echo 'm4_define([AT_PACKAGE_STRING], [$(PACKAGE_STRING)])'; \
	  echo 'm4_define([AT_PACKAGE_BUGREPORT], [$(PACKAGE_BUGREPORT)])'; \
	} > $@

# 'make check' runs the whole suite; TESTSUITEFLAGS adds options, for
# example TESTSUITEFLAGS='-j2' or TESTSUITEFLAGS='-k cluster'.
check-local: tests/atconfig tests/atlocal $(TESTSUITE) $(noinst_PROGRAMS) \
		$(bin_PROGRAMS) tests/cni-runtime
	$(SHELL) '$(TESTSUITE)' -C tests AUTOTEST_PATH='$(AUTOTEST_PATH)' \
		$(TESTSUITEFLAGS)

clean-local:
	test ! -f '$(TESTSUITE)' || $(SHELL) '$(TESTSUITE)' -C tests --clean
	rm -rf tests/go-cache
dist_noinst_SCRIPTS += tests/bench/gen-cluster.py tests/bench/run-bench.sh \
	tests/bench/cni-bench.sh

# The CNI runtime client of the cluster tests, in Go against Debian's libcni
# (golang-github-appc-cni-dev), built offline.  Without Go, the tests that
# need it are skipped.
all-local: tests/cni-runtime
tests/cni-runtime: $(srcdir)/tests/cni-runtime.go
	$(AM_V_GEN)if command -v go >/dev/null 2>&1; then \
	  GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= \
	  GOCACHE='$(abs_builddir)/tests/go-cache' \
	  go build -o $@ $(srcdir)/tests/cni-runtime.go; \
	else \
	  echo "go not found: the CNI cluster tests will be skipped" >&2; \
	fi
CLEANFILES += tests/cni-runtime

# Fuzz targets (libFuzzer), built with clang apart from everything else by
# 'make fuzz' and run by tests/fuzz/run.sh (utilities/quickstart.sh check
# runs each for a minute).  kovs's sources are compiled again with the
# fuzzer's instrumentation; libopenvswitch is the same static library.
FUZZ_CC = clang
FUZZ_CFLAGS = $(KOVS_WARNING_CFLAGS) -g -O1 -fno-omit-frame-pointer \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_CPPFLAGS = $(DEFS) $(DEFAULT_INCLUDES) $(AM_CPPFLAGS) \
	$(JANSSON_CFLAGS) $(LIBCURL_CFLAGS) $(YAML_CFLAGS)
FUZZ_K8S_SRC = $(addprefix $(srcdir)/, \
	$(filter %.c,$(k8s_libkovs_k8s_a_SOURCES)))
FUZZ_FLOWS_SRC = $(addprefix $(srcdir)/, \
	$(filter %.c,$(flows_libkovs_flows_a_SOURCES)) utilities/snapshot.c)
FUZZ_LIBS = $(OVS_LIBS) $(JANSSON_LIBS) $(LIBCURL_LIBS) $(YAML_LIBS)
FUZZ_TARGETS = tests/fuzz/fuzz-state tests/fuzz/fuzz-watch

fuzz: $(FUZZ_TARGETS)
.PHONY: fuzz
tests/fuzz/fuzz-state: $(srcdir)/tests/fuzz/fuzz-state.c \
		$(FUZZ_K8S_SRC) $(FUZZ_FLOWS_SRC) config.h
	@$(MKDIR_P) tests/fuzz
	$(AM_V_CCLD)$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_CPPFLAGS) -o $@ \
		$(filter %.c,$^) $(FUZZ_LIBS)
tests/fuzz/fuzz-watch: $(srcdir)/tests/fuzz/fuzz-watch.c \
		$(FUZZ_K8S_SRC) config.h
	@$(MKDIR_P) tests/fuzz
	$(AM_V_CCLD)$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_CPPFLAGS) -o $@ \
		$(filter %.c,$^) $(FUZZ_LIBS)
CLEANFILES += $(FUZZ_TARGETS)
EXTRA_DIST += tests/fuzz/fuzz-state.c tests/fuzz/fuzz-watch.c \
	tests/fuzz/run.sh tests/fuzz/k8s.dict tests/fuzz/corpus-state \
	tests/fuzz/corpus-watch
