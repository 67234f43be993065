#! /usr/bin/env python3
# Copyright (c) 2026 The kovs authors.
#
# Licensed under the Apache License, Version 2.0.

"""Synthetic Kubernetes clusters for the kovs scale benchmark.

    gen-cluster.py [--seed=N] [--local-pods=FILE] [--dual-stack] SIZE STATE.json

writes a cluster of SIZE (small, medium, large or huge) as a state file: a List
as 'kubectl get nodes,namespaces,pods,services,endpointslices,
networkpolicies -A -o json' prints it.  The same seed gives the same file.
With --local-pods, also writes the pods of node-0 (the node the benchmark's
controller plays), one "NAMESPACE/NAME MAC" line each, for plugging their
ports into br-int.

    gen-cluster.py changes [--seed=N] SIZE STATE.json

generates the same cluster in memory and then, for each line read from
standard input ("endpoint", "label" or "policy"), makes one change of that
kind, rewrites STATE.json (atomically) and prints one line that describes
the change: which object changed, and for a pod label change how many
NetworkPolicies select or reference the pod.  Changes accumulate; a
different Service, pod or policy is picked each time.

    gen-cluster.py stream [--seed=N] [--dual-stack] SIZE ENDPOINTS N LABELS M

generates the same cluster in memory and writes streams of changes for the
fake API server to play (tests/fake-apiserver.py 'ctl play'): N
EndpointSlice changes to file ENDPOINTS, each of which removes one
endpoint of a Service or adds back one removed before (about half each),
and M pod label changes, as the 'label' change above, to file LABELS, one
changed object (JSON) a line.  The pods' labels change after all the
endpoint changes, and the Services cycle through, so that N may exceed
their number.

The cluster (node-N has podCIDR 10.(244+N/256).(N%256).0/24, so the cluster
CIDR is 10.244.0.0/14; at the huge size, whose 5,000 nodes need more than
a /14's 1,024 podCIDRs, node-N has 10.(128+N/256).(N%256).0/24 in cluster
CIDR 10.128.0.0/11; Services are in 10.96.0.0/12):

- Nodes with podCIDRs and InternalIPs (198.18.0.0/15), a hostNetwork
  DaemonSet pod on each;
- namespaces ns-NNN labelled with a team and an environment, plus
  kube-system (two DNS pods), monitoring (two Prometheus pods) and default;
- apps of 10 replicas spread over the nodes (exactly as many pods per node,
  at random), each pod with labels app, role and pod-template-hash, named
  container ports (http, metrics, and stats/UDP on every fifth app);
- Services with two or three ports (http by port name), ClusterIPs in
  10.96.0.0/12, some with sessionAffinity ClientIP or
  internalTrafficPolicy Local, each with an EndpointSlice of its app's pods
  (ready conditions, nodeName, targetRef), a few endpoints not ready;
- with --dual-stack, the same cluster with both families: each node also
  has podCIDR fd00:10:A:B::/64 for its 10.A.B.0/24 (cluster CIDR
  fd00:10::/32), each pod fd00:10:A:B::C besides 10.A.B.C, each app
  Service and kube-dns a PreferDualStack IPv6 ClusterIP in
  fd00:10:96::/112 and an IPv6 EndpointSlice beside the IPv4 one (the
  IPv4 one is the one that changes); the underlay stays IPv4;
- NetworkPolicies of three shapes: per-app ingress (pod, namespace and
  ipBlock peers, named ports, a port range), per-namespace default policies
  (ingress and egress, DNS, an ipBlock with except), per-app egress (named
  ports towards another app, a port range towards gateways anywhere).
"""

import argparse
import json
import os
import random
import sys
import time

SIZES = {
    #          nodes  apps   services  policies  namespaces
    "small":  (10,    30,    100,      10,       5),
    "medium": (100,   300,   1000,     100,      20),
    "large":  (1000,  3000,  10000,    1000,     100),
    # The largest cluster Kubernetes supports (its scalability thresholds:
    # 5,000 nodes, 150,000 pods, 10,000 Services).  Pods per node (30),
    # apps per namespace (30) and policies per app (one per three) stay
    # as at the large size, so that a namespace or team selector picks as
    # many pods as there; Services stay at 10,000, Kubernetes' limit and
    # already the large size's (so a third of the apps have none).
    "huge":   (5000,  15000, 10000,    5000,     500),
}
# The second octet of node-0's podCIDR 10.X.0.0/24, per size (the default
# for sizes not named): the podCIDRs must fit in the cluster CIDR
# (run-bench.sh's CLUSTER_CIDR), 10.244.0.0/14 or, for huge, 10.128.0.0/11.
POD_NET_OCTET = {"huge": 128}
REPLICAS = 10
LOCAL_NODE = "node-0"
MANAGED_BY = "endpointslice-controller.k8s.io"


def ip_str(n):
    return "%d.%d.%d.%d" % (n >> 24, (n >> 16) & 255, (n >> 8) & 255, n & 255)


def ip_int(s):
    a, b, c, d = (int(x) for x in s.split("."))
    return (a << 24) | (b << 16) | (c << 8) | d


def pod_mac(ip):
    """The MAC the benchmark gives a pod's port: 0a:58 and its address."""
    return "0a:58:" + ":".join("%02x" % int(x) for x in ip.split("."))


def selector_matches(selector, labels):
    """True if the LabelSelector 'selector' matches 'labels'."""
    for key, value in selector.get("matchLabels", {}).items():
        if labels.get(key) != value:
            return False
    for req in selector.get("matchExpressions", []):
        key, op = req["key"], req["operator"]
        values = req.get("values", [])
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


class Cluster:
    """A synthetic cluster: its objects in List order, each also kept
    serialized so that rewriting the file after a change re-encodes only
    the objects that changed."""

    def __init__(self, size, seed):
        (self.n_nodes, self.n_apps, self.n_services, self.n_policies,
         self.n_namespaces) = SIZES[size]
        self.pod_net_octet = POD_NET_OCTET.get(size, 244)
        self.rng = random.Random("%s/%d" % (size, seed))
        self.items = []
        self.encoded = []
        self.index = {}             # (kind, namespace, name) -> position
        self.rv = 1000
        self.generate()

    # Objects.

    def uid(self):
        r = self.rng.getrandbits(128)
        h = "%032x" % r
        return "%s-%s-4%s-8%s-%s" % (h[:8], h[8:12], h[13:16], h[17:20],
                                     h[20:])

    def metadata(self, name, namespace=None, labels=None):
        self.rv += 1
        md = {"name": name}
        if namespace is not None:
            md["namespace"] = namespace
        md["uid"] = self.uid()
        md["resourceVersion"] = str(self.rv)
        md["creationTimestamp"] = "2026-01-01T00:00:00Z"
        if labels:
            md["labels"] = labels
        return md

    def add(self, obj):
        md = obj["metadata"]
        key = (obj["kind"], md.get("namespace", ""), md["name"])
        self.index[key] = len(self.items)
        self.items.append(obj)
        self.encoded.append(None)

    def touch(self, obj):
        """Marks 'obj' changed: a new resourceVersion, encoded again."""
        md = obj["metadata"]
        self.rv += 1
        md["resourceVersion"] = str(self.rv)
        key = (obj["kind"], md.get("namespace", ""), md["name"])
        self.encoded[self.index[key]] = None

    def suffix(self, n=5):
        alphabet = "bcdfghjklmnpqrstvwxz2456789"
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def generate(self):
        rng = self.rng

        # Nodes.
        self.nodes = []
        for i in range(self.n_nodes):
            name = "node-%d" % i
            cidr = "10.%d.%d.0/24" % (self.pod_net_octet + i // 256,
                                      i % 256)
            ip = ip_str(ip_int("198.18.0.0") + 10 + i)
            self.nodes.append({"name": name, "cidr": cidr, "ip": ip,
                               "next": 2})
            self.add({
                "apiVersion": "v1", "kind": "Node",
                "metadata": self.metadata(name, labels={
                    "kubernetes.io/hostname": name,
                    "kubernetes.io/os": "linux",
                    "topology.kubernetes.io/zone": "zone-%d" % (i % 3)}),
                "spec": {"podCIDR": cidr, "podCIDRs": [cidr]},
                "status": {
                    "addresses": [{"type": "InternalIP", "address": ip},
                                  {"type": "Hostname", "address": name}],
                    "conditions": [{"type": "Ready", "status": "True"}]}})

        # Namespaces.
        self.n_teams = max(2, self.n_namespaces // 10)
        self.namespaces = []
        for i in range(self.n_namespaces):
            name = "ns-%03d" % i
            self.namespaces.append(name)
            self.add({
                "apiVersion": "v1", "kind": "Namespace",
                "metadata": self.metadata(name, labels={
                    "kubernetes.io/metadata.name": name,
                    "team": "team-%d" % (i % self.n_teams),
                    "env": ("prod", "staging", "dev")[i % 3]}),
                "spec": {"finalizers": ["kubernetes"]},
                "status": {"phase": "Active"}})
        for name, extra in (("default", {}), ("kube-system", {}),
                            ("monitoring", {"purpose": "monitoring"})):
            labels = {"kubernetes.io/metadata.name": name}
            labels.update(extra)
            self.add({"apiVersion": "v1", "kind": "Namespace",
                      "metadata": self.metadata(name, labels=labels),
                      "spec": {"finalizers": ["kubernetes"]},
                      "status": {"phase": "Active"}})

        # Pods: every node gets the same number of app pods, at random.
        n_pods = self.n_apps * REPLICAS
        placement = [i % self.n_nodes for i in range(n_pods)]
        rng.shuffle(placement)
        apps_per_ns = max(1, self.n_apps // self.n_namespaces)
        self.apps = []
        self.pods = []          # Every app pod, as its object.
        for a in range(self.n_apps):
            ns = self.namespaces[min(a // apps_per_ns,
                                     self.n_namespaces - 1)]
            app = {
                "name": "app-%04d" % a,
                "namespace": ns,
                "role": ("gateway" if a % 30 == 2 else
                         "frontend" if a % 3 == 0 else "backend"),
                "http": 8000 if a % 7 == 0 else 8080,
                "stats": a % 5 == 0,
                "hash": "".join(rng.choice("0123456789abcdef")
                                for _ in range(10)),
                "pods": [],
            }
            self.apps.append(app)
            for j in range(REPLICAS):
                node = self.nodes[placement[a * REPLICAS + j]]
                pod = self.app_pod(app, node)
                app["pods"].append(pod)
                self.pods.append(pod)
        self.system_pods()

        # Services and their EndpointSlices.
        self.services = []
        for s in range(self.n_services):
            self.service(s, self.apps[s % self.n_apps])

        # NetworkPolicies.
        self.policies = []
        n_default = max(1, self.n_namespaces // 5)
        for p in range(self.n_policies):
            if p < n_default:
                self.policy_namespace_default(self.namespaces[p])
            elif rng.random() < 0.75:
                self.policy_app_ingress(rng.choice(self.apps))
            else:
                self.policy_app_egress(rng.choice(self.apps))

    def next_pod_ip(self, node):
        net = ip_int(node["cidr"].split("/")[0])
        ip = ip_str(net + node["next"])
        node["next"] += 1
        return ip

    def app_pod(self, app, node):
        ip = self.next_pod_ip(node)
        name = "%s-%s-%s" % (app["name"], app["hash"], self.suffix())
        ports = [{"name": "http", "containerPort": app["http"],
                  "protocol": "TCP"},
                 {"name": "metrics", "containerPort": 9090,
                  "protocol": "TCP"}]
        if app["stats"]:
            ports.append({"name": "stats", "containerPort": 8125,
                          "protocol": "UDP"})
        pod = {
            "apiVersion": "v1", "kind": "Pod",
            "metadata": self.metadata(name, app["namespace"], {
                "app": app["name"], "role": app["role"],
                "pod-template-hash": app["hash"]}),
            "spec": {
                "nodeName": node["name"],
                "containers": [{"name": "main",
                                "image": "registry.example/%s:1.0"
                                % app["name"],
                                "ports": ports}]},
            "status": {"phase": "Running", "hostIP": node["ip"],
                       "podIP": ip, "podIPs": [{"ip": ip}]}}
        self.add(pod)
        return pod

    def system_pods(self):
        # A hostNetwork DaemonSet: one pod per node, never given flows.
        # Names are drawn again on a collision (5,000 suffixes of five
        # letters collide now and then; the smaller sizes never did).
        for node in self.nodes:
            name = "node-exporter-" + self.suffix()
            while ("Pod", "kube-system", name) in self.index:
                name = "node-exporter-" + self.suffix()
            self.add({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": self.metadata(
                    name, "kube-system",
                    {"app": "node-exporter"}),
                "spec": {"nodeName": node["name"], "hostNetwork": True,
                         "containers": [{"name": "exporter",
                                         "image": "node-exporter:1",
                                         "ports": [{"name": "metrics",
                                                    "containerPort": 9100,
                                                    "protocol": "TCP"}]}]},
                "status": {"phase": "Running", "hostIP": node["ip"],
                           "podIP": node["ip"],
                           "podIPs": [{"ip": node["ip"]}]}})

        self.dns_pods = []
        for ns, app, labels, ports in (
                ("kube-system", "coredns", {"k8s-app": "kube-dns"},
                 [{"name": "dns", "containerPort": 53, "protocol": "UDP"},
                  {"name": "dns-tcp", "containerPort": 53,
                   "protocol": "TCP"},
                  {"name": "metrics", "containerPort": 9153,
                   "protocol": "TCP"}]),
                ("monitoring", "prometheus", {"app": "prometheus"},
                 [{"name": "web", "containerPort": 9090,
                   "protocol": "TCP"}])):
            for j in range(2):
                node = self.nodes[(j + 1) % self.n_nodes]
                ip = self.next_pod_ip(node)
                pod = {
                    "apiVersion": "v1", "kind": "Pod",
                    "metadata": self.metadata(
                        "%s-%s" % (app, self.suffix()), ns, labels),
                    "spec": {"nodeName": node["name"],
                             "containers": [{"name": app, "image": app,
                                             "ports": ports}]},
                    "status": {"phase": "Running", "hostIP": node["ip"],
                               "podIP": ip, "podIPs": [{"ip": ip}]}}
                self.add(pod)
                if app == "coredns":
                    self.dns_pods.append(pod)

        # kube-dns and the API server's Service.
        self.add({
            "apiVersion": "v1", "kind": "Service",
            "metadata": self.metadata("kube-dns", "kube-system",
                                      {"k8s-app": "kube-dns"}),
            "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.10",
                     "clusterIPs": ["10.96.0.10"],
                     "selector": {"k8s-app": "kube-dns"},
                     "ports": [{"name": "dns", "port": 53,
                                "targetPort": 53, "protocol": "UDP"},
                               {"name": "dns-tcp", "port": 53,
                                "targetPort": 53, "protocol": "TCP"},
                               {"name": "metrics", "port": 9153,
                                "targetPort": 9153, "protocol": "TCP"}]}})
        self.add({
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": self.metadata(
                "kube-dns-" + self.suffix(), "kube-system",
                {"kubernetes.io/service-name": "kube-dns",
                 "endpointslice.kubernetes.io/managed-by": MANAGED_BY}),
            "addressType": "IPv4",
            "ports": [{"name": "dns", "port": 53, "protocol": "UDP"},
                      {"name": "dns-tcp", "port": 53, "protocol": "TCP"},
                      {"name": "metrics", "port": 9153, "protocol": "TCP"}],
            "endpoints": [self.endpoint(p, True) for p in self.dns_pods]})
        self.add({
            "apiVersion": "v1", "kind": "Service",
            "metadata": self.metadata("kubernetes", "default",
                                      {"component": "apiserver"}),
            "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.1",
                     "clusterIPs": ["10.96.0.1"],
                     "ports": [{"name": "https", "port": 443,
                                "targetPort": 6443, "protocol": "TCP"}]}})
        masters = self.nodes[:min(3, self.n_nodes)]
        self.add({
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": self.metadata(
                "kubernetes", "default",
                {"kubernetes.io/service-name": "kubernetes"}),
            "addressType": "IPv4",
            "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}],
            "endpoints": [{"addresses": [n["ip"]],
                           "conditions": {"ready": True}}
                          for n in masters]})

    def make_dual_stack(self):
        """Gives every pod network, pod and Service an IPv6 twin of its
        IPv4 address (see the module's description)."""
        def v6(ip):
            a, b, c, d = (int(x) for x in ip.split("."))
            if (a, b) == (10, 96):
                return "fd00:10:96::%x" % ((c << 8) + d)
            return "fd00:10:%x:%x::%x" % (b, c, d)

        slices = []
        for obj in self.items:
            kind, spec = obj["kind"], obj.get("spec", {})
            if kind == "Node":
                cidr = spec["podCIDR"]
                _, b, c, _ = (int(x) for x in cidr.split("/")[0]
                              .split("."))
                spec["podCIDRs"] = [cidr, "fd00:10:%x:%x::/64" % (b, c)]
            elif kind == "Pod" and not spec.get("hostNetwork"):
                status = obj["status"]
                status["podIPs"] = [{"ip": status["podIP"]},
                                    {"ip": v6(status["podIP"])}]
            elif kind == "Service" and obj["metadata"]["name"] != \
                    "kubernetes":
                spec["clusterIPs"] = [spec["clusterIP"],
                                      v6(spec["clusterIP"])]
                spec["ipFamilies"] = ["IPv4", "IPv6"]
                spec["ipFamilyPolicy"] = "PreferDualStack"
            elif kind == "EndpointSlice" and \
                    obj["metadata"]["name"] != "kubernetes":
                slices.append(obj)
        for eps in slices:
            twin = json.loads(json.dumps(eps))
            twin["metadata"] = self.metadata(
                eps["metadata"]["name"] + "-v6",
                eps["metadata"]["namespace"], eps["metadata"]["labels"])
            twin["addressType"] = "IPv6"
            for ep in twin["endpoints"]:
                ep["addresses"] = [v6(a) for a in ep["addresses"]]
            self.add(twin)

    def endpoint(self, pod, ready):
        md = pod["metadata"]
        return {"addresses": [pod["status"]["podIP"]],
                "conditions": {"ready": ready, "serving": ready,
                               "terminating": False},
                "nodeName": pod["spec"]["nodeName"],
                "targetRef": {"kind": "Pod", "namespace": md["namespace"],
                              "name": md["name"], "uid": md["uid"]}}

    def service(self, s, app):
        rng = self.rng
        n = s // self.n_apps
        name = app["name"] if not n else "%s-%d" % (app["name"], n)
        ns = app["namespace"]
        cluster_ip = ip_str(ip_int("10.96.0.0") + 100 + s)
        ports = [{"name": "http", "port": 80, "targetPort": "http",
                  "protocol": "TCP"},
                 {"name": "metrics", "port": 9090, "targetPort": 9090,
                  "protocol": "TCP"}]
        slice_ports = [{"name": "http", "port": app["http"],
                        "protocol": "TCP"},
                       {"name": "metrics", "port": 9090, "protocol": "TCP"}]
        if app["stats"]:
            ports.append({"name": "stats", "port": 8125, "targetPort": 8125,
                          "protocol": "UDP"})
            slice_ports.append({"name": "stats", "port": 8125,
                                "protocol": "UDP"})
        spec = {"type": "ClusterIP", "clusterIP": cluster_ip,
                "clusterIPs": [cluster_ip], "ipFamilies": ["IPv4"],
                "selector": {"app": app["name"]}, "ports": ports,
                "sessionAffinity": "None"}
        if s % 20 == 7:
            spec["sessionAffinity"] = "ClientIP"
            spec["sessionAffinityConfig"] = {
                "clientIP": {"timeoutSeconds": 3600}}
        if s % 50 == 13:
            spec["internalTrafficPolicy"] = "Local"
        svc = {"apiVersion": "v1", "kind": "Service",
               "metadata": self.metadata(name, ns, {"app": app["name"]}),
               "spec": spec}
        self.add(svc)

        endpoints = [self.endpoint(p, rng.random() >= 0.02)
                     for p in app["pods"]]
        eps = {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
               "metadata": self.metadata(
                   "%s-%s" % (name, self.suffix()), ns,
                   {"kubernetes.io/service-name": name,
                    "endpointslice.kubernetes.io/managed-by": MANAGED_BY}),
               "addressType": "IPv4", "ports": slice_ports,
               "endpoints": endpoints}
        self.add(eps)
        self.services.append((svc, eps))

    # NetworkPolicies.

    def add_policy(self, name, ns, spec):
        np = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
              "metadata": self.metadata(name, ns), "spec": spec}
        self.add(np)
        self.policies.append(np)

    def unique_name(self, ns, name):
        base, n = name, 1
        while ("NetworkPolicy", ns, name) in self.index:
            n += 1
            name = "%s-%d" % (base, n)
        return name

    def policy_app_ingress(self, app):
        ns = app["namespace"]
        team = "team-%d" % (self.namespaces.index(ns) % self.n_teams)
        rules = [
            {"from": [{"podSelector": {"matchLabels": {"role": "frontend"}}},
                      {"namespaceSelector": {"matchLabels": {"team": team}},
                       "podSelector": {"matchLabels": {"role": "gateway"}}}],
             "ports": [{"protocol": "TCP", "port": "http"},
                       {"protocol": "TCP", "port": 8443}]},
            {"from": [{"namespaceSelector": {
                "matchLabels": {"purpose": "monitoring"}}}],
             "ports": [{"protocol": "TCP", "port": 9090}]},
        ]
        if self.rng.random() < 0.5:
            rules.append(
                {"from": [{"ipBlock": {"cidr": "198.18.0.0/15",
                                       "except": ["198.18.0.0/24"]}}],
                 "ports": [{"protocol": "TCP", "port": 30000,
                            "endPort": 32767}]})
        name = self.unique_name(ns, "allow-%s" % app["name"])
        self.add_policy(name, ns, {
            "podSelector": {"matchLabels": {"app": app["name"]}},
            "policyTypes": ["Ingress"], "ingress": rules})

    def policy_namespace_default(self, ns):
        self.add_policy("default", ns, {
            "podSelector": {},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [{"from": [{"podSelector": {}}]}],
            "egress": [
                {"to": [{"namespaceSelector": {"matchLabels": {
                    "kubernetes.io/metadata.name": "kube-system"}},
                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
                 "ports": [{"protocol": "UDP", "port": 53},
                           {"protocol": "TCP", "port": 53}]},
                {"to": [{"podSelector": {}}]},
                {"to": [{"ipBlock": {"cidr": "0.0.0.0/0",
                                     "except": ["10.0.0.0/8",
                                                "172.16.0.0/12",
                                                "192.168.0.0/16"]}}],
                 "ports": [{"protocol": "TCP", "port": 443}]}]})

    def policy_app_egress(self, app):
        ns = app["namespace"]
        peers = [a for a in self.apps if a["namespace"] == ns and a != app]
        target = self.rng.choice(peers) if peers else app
        name = self.unique_name(ns, "egress-%s" % app["name"])
        self.add_policy(name, ns, {
            "podSelector": {"matchLabels": {"app": app["name"]}},
            "policyTypes": ["Egress"],
            "egress": [
                {"to": [{"podSelector": {"matchLabels": {
                    "app": target["name"]}}}],
                 "ports": [{"protocol": "TCP", "port": "http"}]},
                {"to": [{"namespaceSelector": {},
                         "podSelector": {"matchLabels": {
                             "role": "gateway"}}}],
                 "ports": [{"protocol": "TCP", "port": 8000,
                            "endPort": 8999}]}]})

    def namespace_labels(self, ns):
        md = self.items[self.index[("Namespace", "", ns)]]["metadata"]
        return md["labels"]

    def peer_selects(self, policy_ns, peer, pod):
        if "ipBlock" in peer:
            return False
        md = pod["metadata"]
        if "namespaceSelector" in peer:
            if not selector_matches(peer["namespaceSelector"],
                                    self.namespace_labels(md["namespace"])):
                return False
        elif md["namespace"] != policy_ns:
            return False
        return selector_matches(peer.get("podSelector", {}),
                                md.get("labels", {}))

    def policy_concerns(self, np, pod):
        """True if 'np' selects 'pod' or has it as a peer."""
        ns = np["metadata"]["namespace"]
        spec = np["spec"]
        md = pod["metadata"]
        if (md["namespace"] == ns
                and selector_matches(spec["podSelector"], md["labels"])):
            return True
        for rule in spec.get("ingress", []):
            if any(self.peer_selects(ns, p, pod) for p in rule.get("from",
                                                                   [])):
                return True
        for rule in spec.get("egress", []):
            if any(self.peer_selects(ns, p, pod) for p in rule.get("to",
                                                                   [])):
                return True
        return False

    def policies_selecting_local(self):
        local = [p for p in self.pods if p["spec"]["nodeName"] == LOCAL_NODE]
        return [np for np in self.policies
                if any(np["metadata"]["namespace"] == p["metadata"]
                       ["namespace"]
                       and selector_matches(np["spec"]["podSelector"],
                                            p["metadata"]["labels"])
                       for p in local)]

    # Output.

    def write(self, path, backdate=False):
        for i, obj in enumerate(self.items):
            if self.encoded[i] is None:
                self.encoded[i] = json.dumps(obj, separators=(",", ":"),
                                             sort_keys=True)
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write('{"apiVersion":"v1","kind":"List","items":[\n')
            f.write(",\n".join(self.encoded))
            f.write('\n],"metadata":{"resourceVersion":""}}\n')
        if backdate:
            # A file older than a second is read once; a fresher one is
            # read once more a second later, in case a further write within
            # the same timestamp went unnoticed.  Each change is measured
            # alone, without that second read of the whole file.
            t = time.time_ns() - 5 * 10**9
            os.utime(tmp, ns=(t, t))
        os.replace(tmp, path)

    def write_local_pods(self, path):
        with open(path, "w") as f:
            for pod in self.pods + self.dns_pods:
                md = pod["metadata"]
                if pod["spec"]["nodeName"] == LOCAL_NODE:
                    f.write("%s/%s %s\n" % (md["namespace"], md["name"],
                                            pod_mac(pod["status"]["podIP"])))

    # Changes.

    def change_endpoint(self):
        svc, eps = self.changed_services.pop()
        ep = self.rng.choice(eps["endpoints"])
        ready = not ep["conditions"]["ready"]
        ep["conditions"]["ready"] = ready
        ep["conditions"]["serving"] = ready
        self.touch(eps)
        return "endpoint %s/%s %s ready=%s" % (
            eps["metadata"]["namespace"], eps["metadata"]["name"],
            ep["addresses"][0], "true" if ready else "false")

    def change_label(self):
        pod = self.labelled_pods.pop()
        labels = pod["metadata"]["labels"]
        before = [np for np in self.policies if self.policy_concerns(np, pod)]
        old = labels["role"]
        labels["role"] = "frontend" if old != "frontend" else "backend"
        self.last_labelled = pod
        after = [np for np in self.policies if self.policy_concerns(np, pod)]
        self.touch(pod)
        names = set("%s/%s" % (np["metadata"]["namespace"],
                               np["metadata"]["name"]) for np in before + after)
        active = set("%s/%s" % (np["metadata"]["namespace"],
                                np["metadata"]["name"])
                     for np in self.active_policies)
        return ("label %s/%s on %s role=%s->%s policies=%d "
                "policies-with-local-pods=%d concerned=%s" % (
                    pod["metadata"]["namespace"], pod["metadata"]["name"],
                    pod["spec"]["nodeName"], old, labels["role"],
                    len(names), len(names & active),
                    ",".join(sorted(names)) or "-"))

    def change_policy(self):
        np = self.edited_policies.pop()
        spec = np["spec"]
        rules = spec.get("ingress") or spec.get("egress")
        rule = rules[0]
        ports = rule.setdefault("ports", [])
        extra = {"protocol": "TCP", "port": 9443}
        if extra in ports:
            ports.remove(extra)
            what = "-port 9443"
        else:
            ports.append(extra)
            what = "+port 9443"
        self.touch(np)
        return "policy %s/%s %s" % (np["metadata"]["namespace"],
                                   np["metadata"]["name"], what)

    def stream_endpoint_changes(self, n):
        """Yields 'n' EndpointSlices, each changed from what it was by one
        endpoint, removed or added back."""
        rng = random.Random(self.rng.random())
        services = [s for s in self.services if len(s[1]["endpoints"]) > 1]
        rng.shuffle(services)
        removed = []            # (slice, endpoint)
        next_service = 0
        for _ in range(n):
            if removed and rng.random() < 0.5:
                eps, ep = removed.pop(rng.randrange(len(removed)))
                eps["endpoints"].append(ep)
            else:
                while True:
                    _, eps = services[next_service % len(services)]
                    next_service += 1
                    if len(eps["endpoints"]) > 1:
                        break
                ep = eps["endpoints"].pop(
                    rng.randrange(len(eps["endpoints"])))
                removed.append((eps, ep))
            self.touch(eps)
            yield eps

    def prepare_changes(self):
        rng = random.Random(self.rng.random())
        services = [s for s in self.services]
        rng.shuffle(services)
        self.changed_services = services

        # Label changes on pods that policies with pods on this node select
        # or have as peers (role is what their peers select on), so that
        # they change flows here; other pods if there are none.
        self.active_policies = self.policies_selecting_local()
        concerned = [p for p in self.pods
                     if any(self.policy_concerns(np, p)
                            for np in self.active_policies)]
        others = [p for p in self.pods if p not in concerned] \
            if len(concerned) < 20 else []
        rng.shuffle(concerned)
        rng.shuffle(others)
        self.labelled_pods = others + concerned

        # Policy edits: policies with pods on this node first.
        active = list(self.active_policies)
        rest = [np for np in self.policies if np not in active]
        rng.shuffle(active)
        rng.shuffle(rest)
        self.edited_policies = rest + active


def main():
    parser = argparse.ArgumentParser(
        description="Writes a synthetic cluster as a kovs state file.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--local-pods", metavar="FILE",
                        help="write node-0's pods as NAMESPACE/NAME MAC")
    parser.add_argument("--dual-stack", action="store_true",
                        help="give pods and Services IPv6 addresses too")
    parser.add_argument("args", nargs="+",
                        help="[changes] SIZE STATE.json")
    opts = parser.parse_args()

    args = opts.args
    if args and args[0] == "stream":
        if len(args) != 6 or args[1] not in SIZES:
            parser.error("expected stream {%s} ENDPOINTS N LABELS M"
                         % ",".join(SIZES))
        cluster = Cluster(args[1], opts.seed)
        if opts.dual_stack:
            cluster.make_dual_stack()
        cluster.prepare_changes()
        with open(args[2], "w") as f:
            for eps in cluster.stream_endpoint_changes(int(args[3])):
                f.write(json.dumps(eps, separators=(",", ":")) + "\n")
        with open(args[4], "w") as f:
            for _ in range(int(args[5])):
                cluster.change_label()
                f.write(json.dumps(cluster.last_labelled,
                                   separators=(",", ":")) + "\n")
        return 0
    changes = args and args[0] == "changes"
    if changes:
        args = args[1:]
    if len(args) != 2 or args[0] not in SIZES:
        parser.error("expected [changes] {%s} STATE.json"
                     % ",".join(SIZES))
    size, path = args

    cluster = Cluster(size, opts.seed)
    if opts.dual_stack:
        cluster.make_dual_stack()
    if not changes:
        cluster.write(path)
        if opts.local_pods:
            cluster.write_local_pods(opts.local_pods)
        return 0

    cluster.prepare_changes()
    handlers = {"endpoint": cluster.change_endpoint,
                "label": cluster.change_label,
                "policy": cluster.change_policy}
    print("ready", flush=True)
    for line in sys.stdin:
        kind = line.strip()
        if not kind:
            continue
        if kind not in handlers:
            print("error unknown change %s" % kind, flush=True)
            continue
        description = handlers[kind]()
        cluster.write(path, backdate=True)
        print(description, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
