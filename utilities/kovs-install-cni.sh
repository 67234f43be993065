#!/bin/sh
# Copyright (c) 2026 The kovs authors.
#
# Licensed under the Apache License, Version 2.0.
#
# kovs-install-cni [DIR]: installs kovs-cni from the kovs image into DIR,
# the node's CNI binary directory as the container sees it (default
# /host/opt/cni/bin).  The DaemonSet's init container runs it.
#
# DIR/kovs-cni is a small wrapper that runs the program with the libraries
# and dynamic loader it was built with, from DIR/kovs-cni.d/ID (ID names the
# bundle's contents), so the plugin does not depend on the node's own
# libraries.  The bundle is copied first and the wrapper replaced by a
# rename, so a runtime calling kovs-cni meanwhile runs either the old or
# the new plugin, complete; older bundles are removed afterwards.
#
# The image's root filesystem has only a shell and cat, cp, ls, mkdir, mv
# and rm: keep to those.

set -eu

dest=${1:-/host/opt/cni/bin}
src=/usr/lib/kovs/cni

if [ ! -f "$src/files" ]; then
    echo "kovs-install-cni: this image has no kovs-cni" >&2
    exit 1
fi
if [ ! -d "$dest" ]; then
    echo "kovs-install-cni: $dest is not a directory (is the node's CNI" \
         "binary directory mounted there?)" >&2
    exit 1
fi
read -r id < "$src/id"
bundle=$dest/kovs-cni.d/$id

if [ ! -x "$bundle/kovs-cni" ]; then
    rm -rf "$bundle.new"
    mkdir -p "$bundle.new"
    while read -r file; do
        cp "$file" "$bundle.new/"
    done < "$src/files"
    rm -rf "$bundle"
    mv "$bundle.new" "$bundle"
fi
cp "$src/kovs-cni" "$dest/.kovs-cni.new"
mv -f "$dest/.kovs-cni.new" "$dest/kovs-cni"

for old in "$dest"/kovs-cni.d/*; do
    if [ "$old" != "$bundle" ]; then
        rm -rf "$old"
    fi
done
echo "kovs-install-cni: installed kovs-cni ($id) in $dest"
