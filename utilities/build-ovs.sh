#!/bin/bash
# Copyright (c) 2026 The kovs authors.
#
# Licensed under the Apache License, Version 2.0.
#
# Builds libopenvswitch from Debian's openvswitch-source package, outside the
# kovs tree, once.  Prints the two directories to pass to configure:
#
#     OVS_SOURCE=<dir>
#     OVS_BUILD=<dir>
#
# The cache lives in $KOVS_OVS_CACHE (default /var/cache/kovs), keyed by the
# source tarball's checksum, so a rebuild of kovs never rebuilds OVS and a new
# openvswitch-source package gets a fresh build.

set -eu

tarball=${KOVS_OVS_TARBALL:-/usr/src/openvswitch/openvswitch.tar.gz}
cache=${KOVS_OVS_CACHE:-/var/cache/kovs}
jobs=${KOVS_JOBS:-$(nproc)}

if [ ! -f "$tarball" ]; then
    echo "build-ovs.sh: $tarball not found (apt-get install openvswitch-source)" >&2
    exit 1
fi

sum=$(sha256sum "$tarball" | cut -c1-12)
top=$cache/ovs-$sum
src=$top/openvswitch
build=$top/build
stamp=$build/.kovs-built

if [ ! -f "$stamp" ]; then
    echo "build-ovs.sh: building libopenvswitch in $top" >&2
    rm -rf "$top"
    mkdir -p "$top" "$build"
    tar -xzf "$tarball" -C "$top"
    (
        cd "$build"
        "$src/configure" --enable-silent-rules > configure.log 2>&1 ||
            { tail -20 configure.log >&2; exit 1; }
        # The generated headers (odp-netlink.h and friends) come first: the
        # library's own rules do not depend on them.
        make -j"$jobs" \
            -f Makefile -f <(printf 'kovs-built-sources: $(BUILT_SOURCES)\n') \
            kovs-built-sources > make.log 2>&1 &&
        make -j"$jobs" lib/libopenvswitch.la lib/libopenvswitchavx512.la \
            >> make.log 2>&1 ||
            { tail -30 make.log >&2; exit 1; }
    )
    touch "$stamp"
fi

echo "OVS_SOURCE=$src"
echo "OVS_BUILD=$build"
