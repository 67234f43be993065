#!/bin/bash
# Copyright (c) 2026 The kovs authors.
#
# Licensed under the Apache License, Version 2.0.
#
# Builds the kovs container image, offline, with podman.
#
#   utilities/build-image.sh [--build-dir=DIR] [--tag=NAME] [--output=FILE]
#   utilities/build-image.sh [--build-dir=DIR] --rootfs=DIR
#
#   --build-dir=DIR  the kovs build (default: _build beside this script's
#                    directory, or $KOVS_BUILD_DIR)
#   --tag=NAME       the image's name (default: localhost/kovs:VERSION)
#   --output=FILE    also save the image to FILE, a docker-archive that
#                    "ctr -n k8s.io images import" and "podman load" read
#   --rootfs=DIR     only assemble the image's root filesystem in DIR
#
# The image starts FROM scratch.  Its root filesystem holds kovs-controller,
# kovs-ctl, kovs-cni (when the build has it), kovs-install-cni, the OVS
# command-line tools of this machine's Debian packages (ovs-vsctl, ovs-ofctl,
# ovs-appctl, ovs-dpctl, ovsdb-client), a shell and the few file tools
# kovs-install-cni uses, and exactly the shared libraries all of them load
# (found with ldd), taken from the installed Debian packages.  Nothing is
# pulled from a registry or downloaded.  The Debian package and version of
# every file taken from the system is listed in /usr/share/kovs/packages,
# and each package's copyright file is in /usr/share/doc.
#
# kovs-cni runs on the node itself, not in the image, so it is also
# packaged with its libraries and dynamic loader in /usr/lib/kovs/cni:
# kovs-install-cni (the DaemonSet's init container) copies that bundle into
# the node's CNI binary directory, where it does not depend on the node's
# own libraries.

set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=${KOVS_BUILD_DIR:-$top/_build}
tag=
output=
rootfs_only=

usage() {
    sed -n '6,17p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 1
}

die() {
    echo "build-image: $*" >&2
    exit 1
}

for arg; do
    case $arg in
    --build-dir=*) build=${arg#*=} ;;
    --tag=*) tag=${arg#*=} ;;
    --output=*) output=${arg#*=} ;;
    --rootfs=*) rootfs_only=${arg#*=} ;;
    *) usage ;;
    esac
done

# The programs of the image: kovs's own from the build, the rest from the
# system's Debian packages.
kovs_programs="controller/kovs-controller utilities/kovs-ctl"
optional_programs="controller/kovs-cni"
ovs_tools="ovs-vsctl ovs-ofctl ovs-appctl ovs-dpctl ovsdb-client"
shell_tools="sh cat cp ls mkdir mv rm"

for p in $kovs_programs; do
    [ -x "$build/$p" ] ||
        die "$build/$p is missing (utilities/quickstart.sh build)"
done
version=$("$build/controller/kovs-controller" --version | sed -n '1s/^.* //p')
[ -n "$version" ] || die "kovs-controller --version printed no version"
tag=${tag:-localhost/kovs:$version}

if [ -z "$rootfs_only" ]; then
    command -v podman >/dev/null ||
        die "podman is needed (apt-get install podman runc)"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/kovs-image.XXXXXX")
trap 'rm -rf "$work"' EXIT
if [ -n "$rootfs_only" ]; then
    mkdir -p "$rootfs_only"
    root=$(cd "$rootfs_only" && pwd)
else
    root=$work/rootfs
    mkdir "$root"
fi

# Debian's merged /usr layout, so that the paths ldd prints (/lib/...,
# /lib64/...) resolve inside the image as they do here.
for d in bin sbin lib lib64; do
    mkdir -p "$root/usr/$d"
    ln -sfn "usr/$d" "$root/$d"
done
mkdir -p "$root/tmp" "$root/etc" "$root/var/run/openvswitch" \
    "$root/var/log/openvswitch" "$root/usr/lib/kovs/cni" \
    "$root/usr/share/kovs" "$root/usr/share/doc"
chmod 1777 "$root/tmp"

# shared_objects PROGRAM: prints the absolute path of every shared object
# PROGRAM loads, the dynamic loader included; nothing for a static program.
shared_objects() {
    local out
    if ! out=$(ldd "$1" 2>&1); then
        case $out in
        *"not a dynamic executable"*) return 0 ;;
        esac
        die "ldd $1: $out"
    fi
    if echo "$out" | grep -q "not found"; then
        die "$1 needs libraries that are not installed: $out"
    fi
    echo "$out" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }
                       $1 ~ /^\// { print $1 }'
}

# debian_program NAME: prints the path of program NAME where Debian's
# packages install it, whatever $PATH says.
debian_program() {
    local d
    for d in /usr/bin /usr/sbin /bin /sbin; do
        if [ -x "$d/$1" ]; then
            echo "$d/$1"
            return 0
        fi
    done
    return 1
}

# Every file taken from the system, at the path it has here (ldd prints
# absolute paths): the OVS tools, the shell tools and the shared objects
# of every program.
system_files=$work/system-files
: > "$system_files"
for t in $ovs_tools $shell_tools; do
    path=$(debian_program "$t") ||
        die "$t is missing (apt-get install openvswitch-switch)"
    echo "$path" >> "$system_files"
    shared_objects "$path" >> "$system_files"
done
for p in $kovs_programs $optional_programs; do
    if [ -x "$build/$p" ]; then
        # Debugging information is most of a kovs program's size; the
        # symbols stay, for backtraces.
        strip --strip-debug -o "$root/usr/bin/${p##*/}" "$build/$p"
        shared_objects "$build/$p" >> "$system_files"
    fi
done
sort -u -o "$system_files" "$system_files"
xargs cp -L --parents -t "$root" < "$system_files"
install -m 755 "$top/utilities/kovs-install-cni.sh" \
    "$root/usr/bin/kovs-install-cni"

# The kovs-cni bundle for the node: the files kovs-install-cni copies (the
# program, its libraries and the dynamic loader), and the wrapper that runs
# the program with them, found beside the wrapper wherever the node's CNI
# binary directory is.
if [ -x "$root/usr/bin/kovs-cni" ]; then
    cni_dir=$root/usr/lib/kovs/cni
    echo /usr/bin/kovs-cni > "$cni_dir/files"
    shared_objects "$build/controller/kovs-cni" >> "$cni_dir/files"
    loader=$(readelf -l "$build/controller/kovs-cni" |
             sed -n 's/.*program interpreter: \(.*\)]$/\1/p')
    id=$(cd "$root" && sed 's|^/||' "$cni_dir/files" | xargs cat |
         sha256sum | cut -c1-12)
    echo "$id" > "$cni_dir/id"
    {
        echo '#!/bin/sh'
        echo "# kovs-cni $version, run with the libraries it was built"
        echo '# with, which kovs-install-cni put in kovs-cni.d beside it.'
        echo 'case $0 in */*) here=${0%/*} ;; *) here=. ;; esac'
        echo "bundle=\$here/kovs-cni.d/$id"
        if [ -n "$loader" ]; then
            echo "exec \"\$bundle/${loader##*/}\" \\"
            echo '    --library-path "$bundle" --argv0 "$0" \'
            echo '    "$bundle/kovs-cni" "$@"'
        else
            echo 'exec "$bundle/kovs-cni" "$@"'
        fi
    } > "$cni_dir/kovs-cni"
    chmod 755 "$cni_dir/kovs-cni"
fi

# Where each system file comes from, and the copyright of each package.
# dpkg knows a file by the path its package ships, which with merged /usr
# may be the file's alias under / or /usr: ask once for every alias.
while read -r f; do
    echo "$f ${f#/usr} /usr$f $(readlink -f "$f")"
done < "$system_files" > "$work/aliases"
tr ' ' '\n' < "$work/aliases" | sort -u |
    xargs dpkg -S 2>/dev/null | sed '/^diversion/d' > "$work/owners" || true
awk 'NR == FNR { i = index($0, ": "); pkg = substr($0, 1, i - 1)
                sub(/,.*/, "", pkg); sub(/:.*/, "", pkg)
                owner[substr($0, i + 2)] = pkg; next }
     { pkg = ""
       for (i = 1; i <= NF && pkg == ""; i++) { pkg = owner[$i] }
       print $1, (pkg == "" ? "-" : pkg) }' \
    "$work/owners" "$work/aliases" > "$work/file-packages"
packages=$(awk '$2 != "-" { print $2 }' "$work/file-packages" | sort -u)
dpkg-query -W -f='${Package} ${Version}\n' $packages > "$work/versions"
awk 'NR == FNR { version[$1] = $2; next }
     { print $1, $2, ($2 in version ? version[$2] : "") }' \
    "$work/versions" "$work/file-packages" > "$root/usr/share/kovs/packages"
for pkg in $packages; do
    if [ -f "/usr/share/doc/$pkg/copyright" ]; then
        mkdir -p "$root/usr/share/doc/$pkg"
        cp "/usr/share/doc/$pkg/copyright" "$root/usr/share/doc/$pkg/"
    fi
done

if [ -n "$rootfs_only" ]; then
    echo "build-image: root filesystem in $root" >&2
    exit 0
fi

revision=$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo unknown)
cat > "$work/Containerfile" <<EOF
FROM scratch
COPY rootfs/ /
ENV PATH=/usr/sbin:/usr/bin OVS_RUNDIR=/var/run/openvswitch
LABEL org.opencontainers.image.title="kovs" \\
      org.opencontainers.image.description="kovs and the Open vSwitch tools" \\
      org.opencontainers.image.version="$version" \\
      org.opencontainers.image.revision="$revision"
CMD ["kovs-controller", "--help"]
EOF
podman build --quiet --format oci --pull=never --tag "$tag" \
    --file "$work/Containerfile" "$work" >/dev/null ||
    die "podman build failed"
echo "build-image: built $tag" >&2
if [ -n "$output" ]; then
    rm -f "$output"
    podman save --quiet --format docker-archive --output "$output" "$tag" ||
        die "podman save failed"
    echo "build-image: saved $tag to $output" >&2
fi
