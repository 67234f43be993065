#! /usr/bin/env python3
# Copyright (c) 2026 The kovs authors.
#
# Licensed under the Apache License, Version 2.0.

"""Checks the deployment manifests in k8s/deploy/.

    check-manifests.py [--source=TOP] DIR

Parses every *.yaml file in DIR and checks that together they deploy
kovs-controller as the project means: a DaemonSet on the host network and
the host's process IDs, privileged, with the OVS run directory mounted and
the node name from the downward API, running as a ServiceAccount bound to a
ClusterRole that may list and watch exactly the six kinds kovs reads, and
nothing else; an init container that installs kovs-cni into the node's
CNI binary directory; the CNI configuration and state directories mounted
from the node; a liveness probe that is an HTTP GET of /healthz on
kovs-controller's --metrics-address.  It also checks what the API server
would check of the pod template: names, that each volumeMount names a
volume that exists, that hostPath volumes have an absolute path and a
valid type.  The default
--metrics-address is read from kovs's source in TOP (by default, two
directories above DIR, where k8s/deploy is).

Prints one line per problem and exits 1 if there is any."""

import glob
import os
import re
import sys

import yaml

EXPECTED_RULES = {
    ("", "nodes"), ("", "namespaces"), ("", "pods"), ("", "services"),
    ("discovery.k8s.io", "endpointslices"),
    ("networking.k8s.io", "networkpolicies"),
}

# The valid values of a hostPath volume's type ("" is the default).
HOSTPATH_TYPES = {"", "DirectoryOrCreate", "Directory", "FileOrCreate",
                  "File", "Socket", "CharDevice", "BlockDevice"}

# Host directories of the CNI: where the runtime finds plugins, where it
# reads network configurations, and the state plugins keep.
CNI_BIN_DIR = "/opt/cni/bin"
CNI_CONF_DIR = "/etc/cni/net.d"
CNI_STATE_DIR = "/var/lib/cni"

# Where kovs-install-cni installs without an argument.
INSTALL_CNI_DEFAULT = "/host/opt/cni/bin"

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")

problems = []


def problem(msg):
    problems.append(msg)


def load(directory):
    """Returns {(kind, namespace, name): object} for every document."""
    objects = {}
    files = sorted(glob.glob(os.path.join(directory, "*.yaml")))
    if not files:
        problem("%s: no *.yaml files" % directory)
    for path in files:
        with open(path) as f:
            try:
                docs = list(yaml.safe_load_all(f))
            except yaml.YAMLError as e:
                problem("%s: not valid YAML: %s" % (path, e))
                continue
        for i, doc in enumerate(docs):
            if doc is None:
                continue
            where = "%s: document %d" % (path, i)
            if not isinstance(doc, dict):
                problem("%s: not a mapping" % where)
                continue
            for field in ("apiVersion", "kind", "metadata"):
                if field not in doc:
                    problem("%s: no %s" % (where, field))
            md = doc.get("metadata") or {}
            if not md.get("name"):
                problem("%s: no metadata.name" % where)
            key = (doc.get("kind"), md.get("namespace", ""), md.get("name"))
            if key in objects:
                problem("%s: %s %s/%s defined twice" % ((where,) + key))
            objects[key] = doc
    return objects


def find(objects, kind):
    found = [o for (k, _, _), o in objects.items() if k == kind]
    if len(found) != 1:
        problem("expected one %s, found %d" % (kind, len(found)))
        return None
    return found[0]


def check_rbac(objects):
    sa = find(objects, "ServiceAccount")
    role = find(objects, "ClusterRole")
    binding = find(objects, "ClusterRoleBinding")
    if not (sa and role and binding):
        return None

    granted = set()
    for rule in role.get("rules") or []:
        verbs = set(rule.get("verbs") or [])
        if verbs != {"list", "watch"}:
            problem("ClusterRole rule %r: verbs must be exactly list and "
                    "watch" % rule)
        if rule.get("resourceNames") or rule.get("nonResourceURLs"):
            problem("ClusterRole rule %r: unexpected restriction" % rule)
        for group in rule.get("apiGroups") or []:
            for resource in rule.get("resources") or []:
                granted.add((group, resource))
    if granted != EXPECTED_RULES:
        problem("ClusterRole grants %s; expected exactly %s"
                % (sorted(granted), sorted(EXPECTED_RULES)))

    ref = binding.get("roleRef") or {}
    if (ref.get("kind"), ref.get("name"),
            ref.get("apiGroup")) != ("ClusterRole", role["metadata"]["name"],
                                     "rbac.authorization.k8s.io"):
        problem("ClusterRoleBinding does not refer to the ClusterRole")
    subjects = [(s.get("kind"), s.get("namespace"), s.get("name"))
                for s in binding.get("subjects") or []]
    expected = ("ServiceAccount", sa["metadata"].get("namespace"),
                sa["metadata"]["name"])
    if subjects != [expected]:
        problem("ClusterRoleBinding subjects %s; expected [%s]"
                % (subjects, expected))
    return sa


def check_daemonset(objects, sa):
    ds = find(objects, "DaemonSet")
    if not ds:
        return
    if ds.get("apiVersion") != "apps/v1":
        problem("DaemonSet: apiVersion must be apps/v1")
    spec = ds.get("spec") or {}
    template = spec.get("template") or {}
    labels = (template.get("metadata") or {}).get("labels") or {}
    selector = (spec.get("selector") or {}).get("matchLabels") or {}
    if not selector or any(labels.get(k) != v for k, v in selector.items()):
        problem("DaemonSet: selector does not match the template's labels")

    pod = template.get("spec") or {}
    if sa and pod.get("serviceAccountName") != sa["metadata"]["name"]:
        problem("DaemonSet: serviceAccountName is not the ServiceAccount")
    if sa and ds["metadata"].get("namespace") != \
            sa["metadata"].get("namespace"):
        problem("DaemonSet and ServiceAccount are in different namespaces")
    if pod.get("hostNetwork") is not True:
        problem("DaemonSet: hostNetwork must be true")

    if pod.get("hostPID") is not True:
        problem("DaemonSet: hostPID must be true (kovs-controller's pidfile "
                "and unixctl socket in the host's OVS run directory must "
                "name the pid the node sees)")

    volumes = check_pod_volumes(pod)
    containers = pod.get("containers") or []
    if len(containers) != 1:
        problem("DaemonSet: expected one container")
        return
    c = containers[0]
    if (c.get("securityContext") or {}).get("privileged") is not True:
        problem("DaemonSet: the container must be privileged")

    cmdline = (c.get("command") or []) + (c.get("args") or [])
    if not cmdline or cmdline[0] != "kovs-controller":
        problem("DaemonSet: the container does not run kovs-controller")
    env = {e.get("name"): e for e in c.get("env") or []}
    node_env = [name for name, e in env.items()
                if ((e.get("valueFrom") or {}).get("fieldRef") or {})
                .get("fieldPath") == "spec.nodeName"]
    if not any("--node-name=$(%s)" % name in cmdline for name in node_env):
        problem("DaemonSet: --node-name does not come from spec.nodeName")
    for e in env.values():
        ref = (e.get("valueFrom") or {}).get("configMapKeyRef")
        if ref:
            cm = objects.get(("ConfigMap", ds["metadata"].get("namespace"),
                              ref.get("name")))
            if not cm or ref.get("key") not in (cm.get("data") or {}):
                problem("DaemonSet: env %s refers to a missing ConfigMap "
                        "key" % e.get("name"))

    check_host_mount(c, volumes, "/var/run/openvswitch",
                     "/var/run/openvswitch")
    conf_dir = option(cmdline, "--cni-conf-dir") or CNI_CONF_DIR
    check_host_mount(c, volumes, conf_dir, CNI_CONF_DIR, writable=True)
    check_host_mount(c, volumes, CNI_STATE_DIR, CNI_STATE_DIR, writable=True)
    check_liveness_probe(pod, c, cmdline)
    if not any(arg == "--pidfile" or arg.startswith("--pidfile=")
               for arg in cmdline):
        problem("DaemonSet: ovs-appctl -t kovs-controller and kovs-cni "
                "need kovs-controller's --pidfile")
    check_install_cni(pod, c, volumes)


def option(cmdline, name):
    """Returns the value of the last --name=VALUE in cmdline (the one that
    counts), or None."""
    value = None
    for arg in cmdline:
        if arg.startswith(name + "="):
            value = arg[len(name) + 1:]
    return value


def check_pod_volumes(pod):
    """Checks the pod template's containers, volumes and mounts as the API
    server would, and returns {name: volume}."""
    volumes = {}
    for v in pod.get("volumes") or []:
        name = v.get("name")
        if not name or not DNS1123_LABEL.match(name):
            problem("DaemonSet: volume name %r is not a DNS label" % name)
        if name in volumes:
            problem("DaemonSet: volume %s defined twice" % name)
        volumes[name] = v
        if "hostPath" in v:
            hp = v["hostPath"] or {}
            if not str(hp.get("path", "")).startswith("/"):
                problem("DaemonSet: volume %s: hostPath.path %r is not "
                        "absolute" % (name, hp.get("path")))
            if hp.get("type", "") not in HOSTPATH_TYPES:
                problem("DaemonSet: volume %s: hostPath.type %r is not one "
                        "of %s" % (name, hp.get("type"),
                                   sorted(HOSTPATH_TYPES)))

    used = set()
    names = set()
    for c in (pod.get("initContainers") or []) + \
            (pod.get("containers") or []):
        cname = c.get("name")
        if not cname or not DNS1123_LABEL.match(cname):
            problem("DaemonSet: container name %r is not a DNS label"
                    % cname)
        if cname in names:
            problem("DaemonSet: container %s defined twice" % cname)
        names.add(cname)
        if not c.get("image"):
            problem("DaemonSet: container %s has no image" % cname)
        paths = set()
        for m in c.get("volumeMounts") or []:
            if m.get("name") not in volumes:
                problem("DaemonSet: container %s mounts volume %r, which "
                        "does not exist" % (cname, m.get("name")))
            used.add(m.get("name"))
            path = m.get("mountPath")
            if not str(path or "").startswith("/"):
                problem("DaemonSet: container %s: mountPath %r is not "
                        "absolute" % (cname, path))
            if path in paths:
                problem("DaemonSet: container %s mounts %s twice"
                        % (cname, path))
            paths.add(path)
    for name in volumes:
        if name not in used:
            problem("DaemonSet: volume %s is not mounted by any container"
                    % name)
    return volumes


def host_mount(c, volumes, path):
    """Returns the mount of container c at path and its hostPath volume's
    source, or (None, None)."""
    for m in c.get("volumeMounts") or []:
        if m.get("mountPath") == path:
            v = volumes.get(m.get("name")) or {}
            return m, (v.get("hostPath") or {}).get("path")
    return None, None


def check_host_mount(c, volumes, path, host_path, writable=False):
    """Checks that container c has the node's host_path at path."""
    m, source = host_mount(c, volumes, path)
    if source != host_path:
        problem("DaemonSet: container %s: %s is not mounted from the "
                "host's %s" % (c.get("name"), path, host_path))
    elif writable and m.get("readOnly"):
        problem("DaemonSet: container %s: %s must be writable"
                % (c.get("name"), path))


source_top = None

# kovs-controller's --metrics-address when the command line has none, as
# controller/controller-metrics.h says, if that is at hand.
DEFAULT_METRICS_ADDRESS = "127.0.0.1:10266"


def default_metrics_address():
    path = os.path.join(source_top or "", "controller",
                        "controller-metrics.h")
    try:
        with open(path) as f:
            m = re.search(r'#define CONTROLLER_METRICS_DEFAULT_ADDRESS '
                          r'"([^"]+)"', f.read())
    except OSError:
        m = None
    return m.group(1) if m else DEFAULT_METRICS_ADDRESS


def check_liveness_probe(pod, c, cmdline):
    probe = c.get("livenessProbe")
    if not probe:
        return
    http = probe.get("httpGet")
    if not http or http.get("path") != "/healthz":
        problem("DaemonSet: the liveness probe must be an httpGet of "
                "/healthz on kovs-controller's --metrics-address, not %r"
                % probe)
        return
    address = option(cmdline, "--metrics-address")
    if address is None:
        address = default_metrics_address()
    if address in ("", "off"):
        problem("DaemonSet: --metrics-address is off: nothing answers the "
                "liveness probe")
        return
    host, _, port = address.rpartition(":")
    host = host.strip("[]")
    if str(http.get("port")) != port:
        problem("DaemonSet: the liveness probe asks port %s, but "
                "kovs-controller serves /healthz on %s (--metrics-address)"
                % (http.get("port"), address))
    if (http.get("scheme") or "HTTP") != "HTTP":
        problem("DaemonSet: the liveness probe must use HTTP, not %s"
                % http.get("scheme"))
    # The kubelet asks the pod's IP, the node's under hostNetwork, unless
    # the probe names a host.
    probe_host = http.get("host")
    if host not in ("0.0.0.0", "::") and probe_host != host:
        problem("DaemonSet: the liveness probe asks %s, but kovs-controller "
                "listens on %s only (--metrics-address)"
                % (probe_host or "the pod's IP", host))
    elif probe_host in ("127.0.0.1", "::1") and not pod.get("hostNetwork"):
        problem("DaemonSet: the liveness probe asks the loopback address, "
                "which the kubelet shares only with a hostNetwork pod")


def check_install_cni(pod, c, volumes):
    inits = pod.get("initContainers") or []
    installers = [i for i in inits
                  if ((i.get("command") or []) + (i.get("args") or []))[:1]
                  == ["kovs-install-cni"]]
    if len(installers) != 1:
        problem("DaemonSet: expected one init container running "
                "kovs-install-cni, found %d" % len(installers))
        return
    i = installers[0]
    if i.get("image") != c.get("image"):
        problem("DaemonSet: init container %s runs image %r, the controller "
                "%r: kovs-cni must come from the controller's image"
                % (i.get("name"), i.get("image"), c.get("image")))
    cmdline = (i.get("command") or []) + (i.get("args") or [])
    dest = cmdline[1] if len(cmdline) > 1 else INSTALL_CNI_DEFAULT
    m, source = host_mount(i, volumes, dest)
    if source != CNI_BIN_DIR:
        problem("DaemonSet: init container %s installs into %s, which is "
                "not mounted from the host's %s"
                % (i.get("name"), dest, CNI_BIN_DIR))
    elif m.get("readOnly"):
        problem("DaemonSet: init container %s: %s must be writable"
                % (i.get("name"), dest))


def main():
    global source_top
    args = sys.argv[1:]
    if args and args[0].startswith("--source="):
        source_top = args.pop(0)[len("--source="):]
    if len(args) != 1:
        sys.stderr.write("usage: %s [--source=TOP] DIR\n" % sys.argv[0])
        return 2
    if source_top is None:
        source_top = os.path.dirname(os.path.dirname(
            os.path.abspath(args[0])))
    objects = load(args[0])
    sa = check_rbac(objects)
    check_daemonset(objects, sa)
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
