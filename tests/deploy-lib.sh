# Copyright (c) 2026 The kovs authors.
#
# Licensed under the Apache License, Version 2.0.
#
# Shell helpers of the deployment tests: the container image (tests/image.at)
# under podman with the test's own configuration and storage, what the
# DaemonSet says, and broken copies of the manifests (tests/apiserver.at).

# image_podman_init: points podman at the test's own configuration and
# storage (settings this machine needs, nothing in /etc touched) and checks
# that podman works at all.  Prints why not and fails if it does not.  Must
# run in the test's own shell.
image_podman_init () {
    local tmp
    # conmon's sockets live under the run root: keep its path short.
    tmp=$(mktemp -d /tmp/kovs-podman.XXXXXX) || return 1
    kovs_on_exit "rm -rf '$tmp'"
    mkdir cni-net
    # Without CAP_SYS_RESOURCE no ulimit or pids limit can be set, and the
    # systemd cgroup manager needs systemd; runc, unlike crun, copes with
    # hybrid cgroups.
    cat > containers.conf <<EOF
[containers]
default_ulimits = []
pids_limit = 0

[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
events_logger = "none"
tmp_dir = "$tmp/tmp"

[network]
network_config_dir = "$PWD/cni-net"
EOF
    # vfs needs no mounts, so the storage is plain files in the test's
    # directory, wherever that is.
    cat > storage.conf <<EOF
[storage]
driver = "vfs"
graphroot = "$PWD/storage"
runroot = "$tmp/run"
EOF
    CONTAINERS_CONF=$PWD/containers.conf
    CONTAINERS_STORAGE_CONF=$PWD/storage.conf
    export CONTAINERS_CONF CONTAINERS_STORAGE_CONF
    kovs_on_exit "image_podman_clean '$PWD'"
    if ! podman info > podman-info.txt 2>&1; then
        echo "podman is unusable here: podman info says:"
        cat podman-info.txt
        return 1
    fi
}

# image_podman_clean DIR: removes every container and image of the test's
# own storage in DIR, and the saved image.
image_podman_clean () {
    CONTAINERS_CONF=$1/containers.conf \
    CONTAINERS_STORAGE_CONF=$1/storage.conf \
        podman rm --all --force --time 0 >/dev/null 2>&1
    CONTAINERS_CONF=$1/containers.conf \
    CONTAINERS_STORAGE_CONF=$1/storage.conf \
        podman rmi --all --force >/dev/null 2>&1
    rm -rf "$1/storage" "$1/kovs.tar"
}

# image_run IMAGE-AND-COMMAND...: runs a container once, offline.
image_run () {
    podman run --rm --network none --pull never "$@"
}

# image_manifest WHAT: prints what the DaemonSet of k8s/deploy says about
# WHAT: "host-pid" (true or false), "liveness-probe" (the URL it gets),
# "metrics-address" (the controller's --metrics-address option), "cni-bin"
# (where the init container mounts the node's /opt/cni/bin) or
# "install-cni" (the init container's command).
image_manifest () {
    python3 - "$abs_top_srcdir/k8s/deploy/kovs-daemonset.yaml" "$1" <<'EOF'
import sys
import yaml

ds = [d for d in yaml.safe_load_all(open(sys.argv[1]))
      if d and d.get("kind") == "DaemonSet"][0]
pod = ds["spec"]["template"]["spec"]
init = [c for c in pod.get("initContainers", [])
        if "kovs-install-cni" in c.get("command", [])][0]
what = sys.argv[2]
if what == "host-pid":
    print("true" if pod.get("hostPID") else "false")
elif what == "liveness-probe":
    get = pod["containers"][0]["livenessProbe"]["httpGet"]
    print("http://%s:%s%s" % (get["host"], get["port"], get["path"]))
elif what == "metrics-address":
    print([a for a in pod["containers"][0]["args"]
           if a.startswith("--metrics-address=")][-1])
elif what == "cni-bin":
    volumes = {v["name"]: v for v in pod["volumes"]}
    print([m["mountPath"] for m in init["volumeMounts"]
           if volumes[m["name"]].get("hostPath", {}).get("path")
           == "/opt/cni/bin"][0])
elif what == "install-cni":
    print(" ".join(init["command"] + init.get("args", [])))
EOF
}

# image_cni_versions_ok: reads a CNI VERSION result and checks that it
# lists every version kovs-cni accepts.
image_cni_versions_ok () {
    python3 -c '
import json, sys
versions = json.load(sys.stdin)["supportedVersions"]
missing = {"0.4.0", "1.0.0", "1.1.0"} - set(versions)
if missing:
    sys.exit("supportedVersions %s lacks %s" % (versions, sorted(missing)))'
}

# image_mini_rootfs DIR: a root filesystem of a shell and the C library
# alone, like a node that has none of kovs's libraries.
image_mini_rootfs () {
    local d
    for d in bin lib lib64; do
        mkdir -p "$1/usr/$d" && ln -s "usr/$d" "$1/$d" || return 1
    done
    cp -L --parents /bin/sh $(ldd /bin/sh |
        awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }') \
        "$1/"
}

# deploy_broken_manifests DEFECT: copies k8s/deploy into directory DEFECT
# with that one defect in the DaemonSet.
deploy_broken_manifests () {
    mkdir "$1" && cp "$abs_top_srcdir"/k8s/deploy/*.yaml "$1/" &&
    python3 - "$1/kovs-daemonset.yaml" "$1" <<'EOF'
import sys
import yaml

path, defect = sys.argv[1], sys.argv[2]
docs = list(yaml.safe_load_all(open(path)))
ds = [d for d in docs if d and d.get("kind") == "DaemonSet"][0]
pod = ds["spec"]["template"]["spec"]
c = pod["containers"][0]
init = pod["initContainers"][0]
volumes = {v["name"]: v for v in pod["volumes"]}
if defect == "mount-of-missing-volume":
    init["volumeMounts"][0]["name"] = "cni-binaries"
elif defect == "bad-hostpath-type":
    volumes["cni-conf"]["hostPath"]["type"] = "Dir"
elif defect == "relative-hostpath":
    volumes["cni-state"]["hostPath"]["path"] = "var/lib/cni"
elif defect == "no-init-container":
    del pod["initContainers"]
    pod["volumes"].remove(volumes["cni-bin"])
elif defect == "init-container-elsewhere":
    init["command"] = ["kovs-install-cni", "/opt/cni/bin"]
elif defect == "no-cni-conf-mount":
    c["volumeMounts"] = [m for m in c["volumeMounts"]
                         if m["mountPath"] != "/etc/cni/net.d"]
    pod["volumes"].remove(volumes["cni-conf"])
elif defect == "cni-conf-dir-not-mounted":
    c["args"].append("--cni-conf-dir=/etc/kovs/net.d")
elif defect == "read-only-cni-state":
    [m for m in c["volumeMounts"]
     if m["mountPath"] == "/var/lib/cni"][0]["readOnly"] = True
elif defect == "probe-of-other-port":
    c["livenessProbe"]["httpGet"]["port"] = 8080
elif defect == "probe-of-pod-ip":
    del c["livenessProbe"]["httpGet"]["host"]
elif defect == "metrics-off":
    c["args"].append("--metrics-address=off")
elif defect == "exec-probe":
    c["livenessProbe"] = {"exec": {"command": [
        "ovs-appctl", "-t", "kovs-controller", "version"]}}
elif defect == "no-host-pid":
    del pod["hostPID"]
else:
    sys.exit("unknown defect " + defect)
yaml.safe_dump_all(docs, open(path, "w"))
EOF
}
