#! /usr/bin/env python3
# Copyright (c) 2026 The kovs authors.
#
# Licensed under the Apache License, Version 2.0.

"""Checks the deployment manifests in k8s/deploy/.

    check-manifests.py DIR

Parses every *.yaml file in DIR and checks that together they deploy
kovs-controller as the project means: a DaemonSet on the host network,
privileged, with the OVS run directory mounted and the node name from the
downward API, running as a ServiceAccount bound to a ClusterRole that may
list and watch exactly the six kinds kovs reads, and nothing else.

Prints one line per problem and exits 1 if there is any."""

import glob
import os
import sys

import yaml

EXPECTED_RULES = {
    ("", "nodes"), ("", "namespaces"), ("", "pods"), ("", "services"),
    ("discovery.k8s.io", "endpointslices"),
    ("networking.k8s.io", "networkpolicies"),
}

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

    volumes = {v.get("name"): v for v in pod.get("volumes") or []}
    mounted = {m.get("mountPath"): volumes.get(m.get("name"))
               for m in c.get("volumeMounts") or []}
    run = mounted.get("/var/run/openvswitch")
    if not run or (run.get("hostPath") or {}).get("path") != \
            "/var/run/openvswitch":
        problem("DaemonSet: /var/run/openvswitch is not mounted from the "
                "host")


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: %s DIR\n" % sys.argv[0])
        return 2
    objects = load(sys.argv[1])
    sa = check_rbac(objects)
    check_daemonset(objects, sa)
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
