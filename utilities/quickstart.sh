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
#   utilities/quickstart.sh check   build and run the whole test suite
#   utilities/quickstart.sh stop    tear the demo down
#   utilities/quickstart.sh build   only build
#
# Missing Debian packages are installed with apt-get.  libopenvswitch is
# built once, outside the tree (utilities/build-ovs.sh).

set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=${KOVS_BUILD_DIR:-$top/_build}
jobs=$(nproc)

# Debian packages kovs needs to build, test and demo.
packages="autoconf automake make gcc pkg-config
          libjansson-dev libcurl4-openssl-dev libyaml-dev libssl-dev
          libcap-ng-dev libunbound-dev
          openvswitch-source openvswitch-switch
          iproute2 iputils-ping ethtool procps python3 python3-yaml
          openssl kmod
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
        # The packaged switch must not start its own daemons: kovs's tests
        # and demo run their own, one set per node.
        apt-get install -y -q --no-install-recommends $missing >/dev/null
    fi
}

do_build() {
    install_packages
    local ovs
    ovs=$("$top/utilities/build-ovs.sh")
    local ovs_source ovs_build
    ovs_source=$(echo "$ovs" | sed -n 's/^OVS_SOURCE=//p')
    ovs_build=$(echo "$ovs" | sed -n 's/^OVS_BUILD=//p')

    if [ ! -x "$top/configure" ]; then
        (cd "$top" && ./boot.sh >/dev/null 2>&1) ||
            { echo "quickstart: boot.sh failed" >&2; exit 1; }
    fi
    mkdir -p "$build"
    local want="--with-ovs-source=$ovs_source --with-ovs-build=$ovs_build"
    if [ ! -f "$build/Makefile" ] ||
           [ "$(cat "$build/.configure-args" 2>/dev/null)" != "$want" ]; then
        (cd "$build" && "$top/configure" $want > configure.log 2>&1) ||
            { tail -20 "$build/configure.log" >&2; exit 1; }
        echo "$want" > "$build/.configure-args"
    fi
    make -C "$build" -j"$jobs" >"$build/make.log" 2>&1 ||
        { grep -E "error|Error" "$build/make.log" | head -30 >&2; exit 1; }
    echo "quickstart: built kovs in $build" >&2
}

do_check() {
    do_build
    local log=$build/check.log
    set +e
    make -C "$build" check TESTSUITEFLAGS="-j$jobs ${TESTSUITEFLAGS:-}" \
        2>&1 | tee "$log"
    set -e
    local passed failed skipped
    passed=$(grep -cE '^ *[0-9]+: .*(ok|expected failure)$' "$log" || true)
    failed=$(grep -cE '^ *[0-9]+: .*(FAILED \(|UNEXPECTED PASS)' "$log" ||
             true)
    skipped=$(grep -cE '^ *[0-9]+: .* skipped \([^)]*\)$' "$log" || true)
    if [ "$passed" -eq 0 ] && [ "$failed" -eq 0 ]; then
        # The suite did not run at all (a build or generation failure).
        failed=1
    fi
    if [ "$failed" -gt 0 ] && [ -f "$build/tests/testsuite.log" ]; then
        echo "quickstart: failed tests' logs are in $build/tests/testsuite.dir"
    fi
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
