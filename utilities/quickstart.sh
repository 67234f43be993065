#!/bin/bash
# Copyright (c) 2026 The kovs authors.
#
# Licensed under the Apache License, Version 2.0.
#
# kovs quick start, for a Debian 12 machine as root.
#
#   utilities/quickstart.sh demo    build, start a two-node cluster of network
#                                   namespaces running kovs-controller, show
#                                   pods reaching each other, leave it up
#   utilities/quickstart.sh check   build and run the whole test suite, the
#                                   unit and sandbox tests again with
#                                   AddressSanitizer and UBSan, and the fuzz
#                                   targets for a minute each
#   utilities/quickstart.sh stop    tear the demo down
#   utilities/quickstart.sh build   only build
#
# Missing Debian packages are installed with apt-get.  libopenvswitch is
# built once, outside the tree (utilities/build-ovs.sh).

set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=${KOVS_BUILD_DIR:-$top/_build}
asan_build=${KOVS_ASAN_BUILD_DIR:-$top/_build-asan}
fuzz_seconds=${KOVS_FUZZ_SECONDS:-60}
jobs=$(nproc)

# The sanitizer build: kovs only (libopenvswitch is the same cached build).
asan_cflags="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer
             -fno-sanitize-recover=undefined"
asan_ldflags="-fsanitize=address,undefined"

# Debian packages kovs needs to build, test and demo.
packages="autoconf automake make gcc pkg-config
          libjansson-dev libcurl4-openssl-dev libyaml-dev libssl-dev
          libcap-ng-dev libunbound-dev
          openvswitch-source openvswitch-switch
          iproute2 iputils-ping ethtool procps python3 python3-yaml
          openssl kmod clang libclang-rt-14-dev nginx-light dnsmasq-base
          podman runc binutils curl prometheus iptables
          golang-go golang-github-appc-cni-dev containernetworking-plugins"

install_packages() {
    local missing=""
    for p in $packages; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
                grep -q "install ok installed"; then
            missing="$missing $p"
        fi
    done
    if [ -n "$missing" ]; then
        echo "quickstart: installing$missing" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -q >/dev/null
        # The packaged switch, nginx (nginx-light depends on it),
        # Prometheus (the metrics tests start their own server) and their
        # like must not start host-wide daemons: kovs's tests and demo run
        # their own, one set per node or pod.  A policy-rc.d that refuses
        # every start holds while the packages install, and the services
        # of nginx and Prometheus, if this install brought them, are then
        # disabled, so that no boot starts them either.
        local policy=/usr/sbin/policy-rc.d own_policy=false
        local services="" pkg_service
        for pkg_service in nginx-common:nginx prometheus:prometheus; do
            if ! dpkg-query -W -f='${Status}' "${pkg_service%%:*}" \
                    2>/dev/null | grep -q "install ok installed"; then
                services="$services ${pkg_service#*:}"
            fi
        done
        if [ ! -e "$policy" ]; then
            printf '#!/bin/sh\nexit 101\n' > "$policy"
            chmod 755 "$policy"
            own_policy=true
        fi
        apt-get install -y -q --no-install-recommends $missing >/dev/null ||
            { $own_policy && rm -f "$policy"; return 1; }
        $own_policy && rm -f "$policy"
        local service
        for service in $services; do
            if command -v systemctl >/dev/null &&
                   systemctl is-enabled -q "$service.service" 2>/dev/null
            then
                systemctl disable -q "$service.service" || true
            fi
        done
    fi
}

# configure_and_make DIR [VAR=VALUE...]: configures kovs in DIR (again
# only if the arguments changed) and builds it.
configure_and_make() {
    local dir=$1
    shift
    mkdir -p "$dir"
    local want="--with-ovs-source=$ovs_source --with-ovs-build=$ovs_build"
    local arg
    for arg in "$@"; do
        want="$want '$arg'"
    done
    if [ ! -f "$dir/Makefile" ] ||
           [ "$(cat "$dir/.configure-args" 2>/dev/null)" != "$want" ]; then
        (cd "$dir" && eval "\"$top/configure\" $want" > configure.log 2>&1) ||
            { tail -20 "$dir/configure.log" >&2; return 1; }
        echo "$want" > "$dir/.configure-args"
    fi
    make -C "$dir" -j"$jobs" >"$dir/make.log" 2>&1 ||
        { grep -E "error|Error" "$dir/make.log" | head -30 >&2; return 1; }
}

do_build() {
    install_packages
    local ovs
    ovs=$("$top/utilities/build-ovs.sh")
    ovs_source=$(echo "$ovs" | sed -n 's/^OVS_SOURCE=//p')
    ovs_build=$(echo "$ovs" | sed -n 's/^OVS_BUILD=//p')

    if [ ! -x "$top/configure" ]; then
        (cd "$top" && ./boot.sh >/dev/null 2>&1) ||
            { echo "quickstart: boot.sh failed" >&2; exit 1; }
    fi
    configure_and_make "$build" || exit 1
    echo "quickstart: built kovs in $build" >&2
}

# count_results LOG: prints "PASSED FAILED SKIPPED" for an autotest log.
count_results() {
    local passed failed skipped
    passed=$(grep -cE '^ *[0-9]+: .*(ok|expected failure)$' "$1" || true)
    failed=$(grep -cE '^ *[0-9]+: .*(FAILED \(|UNEXPECTED PASS)' "$1" ||
             true)
    skipped=$(grep -cE '^ *[0-9]+: .* skipped \([^)]*\)$' "$1" || true)
    if [ "$passed" -eq 0 ] && [ "$failed" -eq 0 ]; then
        # The suite did not run at all (a build or generation failure).
        failed=1
    fi
    echo "$passed $failed $skipped"
}

do_check() {
    do_build
    local log=$build/check.log
    local passed failed skipped p f k start
    set +e
    make -C "$build" check TESTSUITEFLAGS="-j$jobs ${TESTSUITEFLAGS:-}" \
        2>&1 | tee "$log"
    set -e
    set -- $(count_results "$log")
    passed=$1 failed=$2 skipped=$3
    if [ "$failed" -gt 0 ] && [ -f "$build/tests/testsuite.log" ]; then
        echo "quickstart: failed tests' logs are in $build/tests/testsuite.dir"
    fi

    # The unit and sandbox tests again, built with AddressSanitizer and
    # UBSan: the first error stops the program.  A daemon's stderr is gone
    # once it detaches, so every report goes to a file; one from a program
    # other than a unit test (kovs-controller above all), whose test may
    # not notice, counts as one more failure.
    start=$(date +%s)
    local reports=$asan_build/sanitizer
    local asan_log=$asan_build/check.log
    if configure_and_make "$asan_build" "CFLAGS=$(echo $asan_cflags)" \
            "LDFLAGS=$asan_ldflags"; then
        rm -rf "$reports"
        mkdir -p "$reports"
        local opts="halt_on_error=1:log_exe_name=1:log_path=$reports/report"
        set +e
        ASAN_OPTIONS="$opts:detect_leaks=1" \
        UBSAN_OPTIONS="$opts:print_stacktrace=1" \
            make -C "$asan_build" check \
                TESTSUITEFLAGS="-j$jobs -k unit -k sandbox" 2>&1 |
            sed 's/^\( *[0-9]*:\) /\1 [sanitizers] /' | tee "$asan_log"
        set -e
        set -- $(count_results "$asan_log")
        p=$1 f=$2 k=$3
        local report
        for report in "$reports"/report.*; do
            [ -f "$report" ] || continue
            echo "quickstart: sanitizer report $report:"
            head -30 "$report" | sed 's/^/    /'
            case ${report##*/} in
            report.test-*) ;;
            *) f=$((f + 1)) ;;
            esac
        done
        if [ "$f" -gt 0 ]; then
            echo "quickstart: the sanitizer build's failed tests' logs are" \
                 "in $asan_build/tests/testsuite.dir"
        fi
    else
        echo "quickstart: the sanitizer build failed"
        p=0 f=1 k=0
    fi
    passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + k))
    echo "quickstart: sanitizer build and tests: $(( $(date +%s) - start )) s"

    # The fuzz targets, built with clang, each for $fuzz_seconds seconds;
    # a crash is a failure.
    start=$(date +%s)
    local fuzz_log=$build/fuzz.log
    if make -C "$build" fuzz > "$build/fuzz-make.log" 2>&1; then
        set +e
        "$top/tests/fuzz/run.sh" "$build" "$fuzz_seconds" | tee "$fuzz_log"
        set -e
        p=$(grep -c '^fuzz .*: ok' "$fuzz_log" || true)
        f=$(grep -c '^fuzz .*: FAILED' "$fuzz_log" || true)
        if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
            f=1
        fi
    else
        grep -E "error" "$build/fuzz-make.log" | head -20
        echo "quickstart: building the fuzz targets failed"
        p=0 f=1
    fi
    passed=$((passed + p)) failed=$((failed + f))
    echo "quickstart: fuzz targets: $(( $(date +%s) - start )) s"

    echo "$passed passed, $failed failed, $skipped skipped"
    [ "$failed" -eq 0 ]
}

case ${1:-help} in
build)
    do_build
    ;;
check)
    do_check
    ;;
demo)
    do_build
    exec "$top/utilities/demo.sh" start "$build"
    ;;
stop)
    exec "$top/utilities/demo.sh" stop "$build"
    ;;
*)
    sed -n '5,14p' "$0" | sed 's/^# \{0,1\}//'
    exit 1
    ;;
esac
