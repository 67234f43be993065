#! /usr/bin/env python3
# Copyright (c) 2026 The kovs authors.
#
# Licensed under the Apache License, Version 2.0.

"""The model cluster of the NetworkPolicy tests (tests/policy.at) and its
reachability probes.

The model: nodes n1 (198.18.0.11, podCIDR 10.244.1.0/24) and n2
(198.18.0.12, 10.244.2.0/24); namespaces x, y and z, labelled
kubernetes.io/metadata.name=NS and ns=NS; pods a, b and c in each, labelled
pod=NAME, with container ports serve-80-tcp (TCP 80), serve-81-tcp (TCP 81)
and serve-80-udp (UDP 80).  Namespace number i (x=0, y=1, z=2) and pod
number j (a=0, b=1, c=2) place pod NS/NAME on n1 when i + j is even and on
n2 otherwise, at 10.244.<node>.<10 (i + 1) + j>.  Every pod has a ClusterIP
Service of its own, NS/svc-NAME at 10.96.1.<10 (i + 1) + j> with the same
three ports and the pod as its one endpoint.

With NETPOL_DUAL_STACK=1 in the environment the model is dual-stack: node
n<k> has the IPv6 podCIDR fd00:10:244:<k>::/64 as well (gateway ::1), and
each pod the IPv6 address fd00:10:244:<node>::<10 (i + 1) + j, in hex>
(x/a fd00:10:244:1::a); its servers answer on both families.  Each
Service is dual-stack too (RequireDualStack), with the IPv6 ClusterIP
fd00:10:96::<10 (i + 1) + j, in hex> beside its IPv4 one and an IPv6
EndpointSlice beside its IPv4 one.

With NETPOL_IPV6_ONLY=1 the model is IPv6-only: the same IPv6 podCIDRs,
pod addresses and ClusterIPs, and no IPv4 at all but the nodes'
InternalIPs (the underlay stays IPv4).

    netpol-probe.py pods
        One line per pod, "NODE NAMESPACE NAME IP/LEN GATEWAY MAC", the
        arguments of cl_pod_add (tests/cluster-lib.sh), followed in the
        dual-stack model by "IPV6/64 IPV6-GATEWAY".  In the IPv6-only model
        IP/LEN and GATEWAY are the IPv6 ones, and nothing follows.

    netpol-probe.py state [FILE...]
        Prints the state file (a List, as kubectl prints it) of the model
        plus the objects described in each FILE.  A FILE holds YAML
        documents separated by "---", in the subset of YAML that the
        function parse_yaml() below documents.  Each is a manifest whose
        apiVersion may be left out:
          - kind NetworkPolicy: added as is (metadata.namespace and
            metadata.name are required);
          - kind Namespace or Pod naming an object of the model: its
            metadata.labels replace the model's labels (a Namespace keeps
            kubernetes.io/metadata.name, as the API server does) and, for a
            Pod, spec.containers replace the model's containers.

    netpol-probe.py serve NAMESPACE/NAME READY-FILE
        Run in a pod: answers every line received on TCP 80 and TCP 81 and
        every datagram on UDP 80 with NAMESPACE/NAME.  Creates READY-FILE
        once all three sockets are bound.

    netpol-probe.py matrix NETNS-FILE PROTO PORT [--service | --ipv6]
                  [--from WHO,...]
        Probes, in parallel, from every pod (or from each WHO, a pod
        NAMESPACE/NAME or a node) to every pod on PROTO (tcp or udp) PORT,
        by pod IP or, with --service, by the ClusterIP of the destination
        pod's Service; with --ipv6 (the dual-stack and IPv6-only models;
        the IPv6-only one requires it), by their IPv6 addresses.  NETNS-FILE has a line "WHO NETNS" for each pod and
        node: the network namespace it lives in.  Prints the grid: one
        row per source, one column per destination, "." for a connection
        answered by the right pod, "X" for one that timed out or was
        refused (a denied connection), "?" for anything else (a wrong
        answer, a connection that opened but never answered), "-" for a
        pair not probed (a pod to itself through its Service, a node to a
        pod on another node).  A pod reaches itself by its own IP through
        its loopback, so the diagonal of a grid by pod IP is always ".".
        Each probe is a thread of this process that enters its source's
        network namespace, and gets NETPOL_PROBE_TIMEOUT seconds (default
        1); a grid takes about that long.  Every probe binds a source port
        of its own, never used before in the test's directory (the count
        is kept in ./netpol-probe.runs), so that no probe meets the
        conntrack entry of an earlier one.

    netpol-probe.py traffic NETNS-FILE
        Until killed: from every pod to every other pod by pod IP, a TCP
        connection attempt to port 80 about every half second (each from a
        new source port the kernel picks, given up after 0.3 s), as busy
        clients do.  It keeps the switches' datapath flows of every pair
        alive across policy changes.  Prints nothing.
"""

import ctypes
import errno
import json
import os
import re
import socket
import sys
import threading
import time

NODES = [
    # name, InternalIP, podCIDR, gateway
    ("n1", "198.18.0.11", "10.244.1.0/24", "10.244.1.1"),
    ("n2", "198.18.0.12", "10.244.2.0/24", "10.244.2.1"),
]
IPV6_ONLY = os.environ.get("NETPOL_IPV6_ONLY") == "1"
DUAL_STACK = os.environ.get("NETPOL_DUAL_STACK") == "1" and not IPV6_ONLY
HAS_IPV6 = DUAL_STACK or IPV6_ONLY
NAMESPACES = ["x", "y", "z"]
POD_NAMES = ["a", "b", "c"]
SERVE_PORTS = [
    # name, port, protocol
    ("serve-80-tcp", 80, "TCP"),
    ("serve-81-tcp", 81, "TCP"),
    ("serve-80-udp", 80, "UDP"),
]


class Pod:
    def __init__(self, ns, name):
        i, j = NAMESPACES.index(ns), POD_NAMES.index(name)
        node = (i + j) % 2
        octet = 10 * (i + 1) + j
        self.ns, self.name = ns, name
        self.who = "%s/%s" % (ns, name)
        self.node = NODES[node][0]
        self.gateway = NODES[node][3]
        self.ip = (None if IPV6_ONLY
                   else "10.244.%d.%d" % (node + 1, octet))
        self.ip6 = (HAS_IPV6 or None) and "fd00:10:244:%d::%x" % (
            node + 1, octet)
        self.gateway6 = "fd00:10:244:%d::1" % (node + 1)
        self.mac = "0a:58:0a:f4:%02x:%02x" % (node + 1, octet)
        self.vip = None if IPV6_ONLY else "10.96.1.%d" % octet
        self.vip6 = (HAS_IPV6 or None) and "fd00:10:96::%x" % octet
        self.service = "svc-" + name


PODS = [Pod(ns, name) for ns in NAMESPACES for name in POD_NAMES]


def fail(msg):
    sys.stderr.write("netpol-probe: %s\n" % msg)
    sys.exit(1)


# ---------------------------------------------------------------------------
# A subset of YAML, enough for Kubernetes manifests and free of square
# brackets (the test files are m4, where brackets are quotes):
#   - documents separated by lines "---";
#   - "#" comments (at the start of a line or after a blank);
#   - block mappings "key: value" and "key:" followed by a more indented
#     block, or by a block sequence at the key's own indentation;
#   - block sequences "- item", where an item may itself start a mapping
#     ("- key: value" with more keys below, aligned with the first);
#   - flow mappings "{key: value, ...}" and flow sequences "[a, b]", nested;
#   - scalars: integers, true, false, null, 'single' or "double" quoted
#     strings, and plain strings.

class YamlError(Exception):
    pass


def _strip_comment(line):
    quote = None
    for k, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (k == 0 or line[k - 1] in " \t"):
            return line[:k]
    return line


def _scalar(text):
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    if re.fullmatch(r"-?[0-9]+", text):
        return int(text)
    return {"true": True, "false": False, "null": None, "~": None,
            "": None}.get(text, text)


def _flow(text, k=0):
    """Parses the flow value that starts at text[k]; returns (value, next
    index)."""
    while k < len(text) and text[k] == " ":
        k += 1
    if k < len(text) and text[k] in "{[":
        closing = "}" if text[k] == "{" else "]"
        result = {} if closing == "}" else []
        k += 1
        while True:
            while k < len(text) and text[k] in " ,":
                k += 1
            if k >= len(text):
                raise YamlError("unterminated flow collection: %s" % text)
            if text[k] == closing:
                return result, k + 1
            if closing == "]":
                value, k = _flow(text, k)
                result.append(value)
                continue
            m = re.compile(r"\s*([^:,{}\[\]]+?)\s*:(\s|$)").match(text, k)
            if not m:
                raise YamlError("bad flow mapping: %s" % text)
            key = _scalar(m.group(1))
            value, k = _flow(text, m.end())
            result[key] = value
    m = re.compile(r"""('[^']*'|"[^"]*"|[^,{}\[\]]*)""").match(text, k)
    return _scalar(m.group(1)), m.end()


def _value(text):
    value, k = _flow(text)
    if text[k:].strip():
        raise YamlError("trailing text after value: %s" % text)
    return value


_KEY = re.compile(r"""("[^"]*"|'[^']*'|[^\s:{}\[\]'"#-][^:]*?|-[^\s:][^:]*?)"""
                  r""":(\s+|$)(.*)$""")


def _block(lines, i, indent):
    """Parses the block at lines[i], whose lines have 'indent' spaces;
    returns (value, index of the first line after it)."""
    if lines[i][1] == "-" or lines[i][1].startswith("- "):
        return _sequence(lines, i, indent)
    return _mapping(lines, i, indent)


def _sequence(lines, i, indent):
    result = []
    while (i < len(lines) and lines[i][0] == indent
           and (lines[i][1] == "-" or lines[i][1].startswith("- "))):
        rest = lines[i][1][1:]
        item = rest.lstrip()
        if not item:
            i += 1
            if i < len(lines) and lines[i][0] > indent:
                value, i = _block(lines, i, lines[i][0])
            else:
                value = None
        elif _KEY.match(item) and item[0] not in "{[":
            # "- key: value": a mapping whose keys line up with "key".
            lines[i] = (indent + 1 + len(rest) - len(item), item)
            value, i = _mapping(lines, i, lines[i][0])
        else:
            value = _value(item)
            i += 1
        result.append(value)
    return result, i


def _mapping(lines, i, indent):
    result = {}
    while i < len(lines) and lines[i][0] == indent:
        text = lines[i][1]
        if text == "-" or text.startswith("- "):
            break
        m = _KEY.match(text)
        if not m:
            raise YamlError("expected 'key: value': %s" % text)
        key = _scalar(m.group(1))
        if key in result:
            raise YamlError("duplicate key %s" % key)
        i += 1
        if m.group(3).strip():
            result[key] = _value(m.group(3))
        elif i < len(lines) and lines[i][0] > indent:
            result[key], i = _block(lines, i, lines[i][0])
        elif (i < len(lines) and lines[i][0] == indent
              and (lines[i][1] == "-" or lines[i][1].startswith("- "))):
            result[key], i = _sequence(lines, i, indent)
        else:
            result[key] = None
    return result, i


def parse_yaml(text):
    """Returns the list of documents in 'text' (see the subset above)."""
    docs = []
    for chunk in re.split(r"^---[ \t]*$", text, flags=re.M):
        lines = []
        for raw in chunk.split("\n"):
            if "\t" in raw[:len(raw) - len(raw.lstrip())]:
                raise YamlError("tab in indentation: %s" % raw)
            line = _strip_comment(raw).rstrip()
            if line.strip():
                lines.append((len(line) - len(line.lstrip()), line.strip()))
        if not lines:
            continue
        value, i = _block(lines, 0, lines[0][0])
        if i != len(lines):
            raise YamlError("unexpected indentation: %s" % lines[i][1])
        docs.append(value)
    return docs


# ---------------------------------------------------------------------------
# The state file.

def k8s_node(name, ip, cidr):
    cidrs = [] if IPV6_ONLY else [cidr]
    if HAS_IPV6:
        cidrs.append("fd00:10:244:%s::/64" % name[1:])
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name},
            "spec": {"podCIDR": cidrs[0], "podCIDRs": cidrs},
            "status": {"addresses": [{"type": "InternalIP", "address": ip},
                                     {"type": "Hostname", "address": name}]}}


def k8s_namespace(name, labels=None):
    labels = dict(labels if labels is not None else {"ns": name})
    labels["kubernetes.io/metadata.name"] = name
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "labels": labels}}


def k8s_pod(pod):
    ports = [{"name": n, "containerPort": p, "protocol": proto}
             for n, p, proto in SERVE_PORTS]
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"namespace": pod.ns, "name": pod.name,
                         "labels": {"pod": pod.name}},
            "spec": {"nodeName": pod.node,
                     "containers": [{"name": "server", "image": "server",
                                     "ports": ports}]},
            "status": {"phase": "Running", "podIP": pod.ip or pod.ip6,
                       "podIPs": [{"ip": ip} for ip in (pod.ip, pod.ip6)
                                  if ip]}}


def k8s_service(pod):
    ports = [{"name": n, "port": p, "targetPort": p, "protocol": proto}
             for n, p, proto in SERVE_PORTS]
    vips = [vip for vip in (pod.vip, pod.vip6) if vip]
    families = [family for family, vip in (("IPv4", pod.vip),
                                           ("IPv6", pod.vip6)) if vip]
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"namespace": pod.ns, "name": pod.service},
            "spec": {"type": "ClusterIP", "clusterIP": vips[0],
                     "clusterIPs": vips, "ipFamilies": families,
                     "ipFamilyPolicy": ("RequireDualStack" if DUAL_STACK
                                        else "SingleStack"),
                     "ports": ports}}


def k8s_slices(pod):
    """The Service's EndpointSlices: one per family, as the EndpointSlice
    controller makes them."""
    return [k8s_slice(pod, "IPv4", pod.ip, "-1"),
            k8s_slice(pod, "IPv6", pod.ip6, "-6")]


def k8s_slice(pod, family, ip, suffix):
    if not ip:
        return None
    ports = [{"name": n, "port": p, "protocol": proto}
             for n, p, proto in SERVE_PORTS]
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"namespace": pod.ns, "name": pod.service + suffix,
                         "labels": {"kubernetes.io/service-name":
                                    pod.service}},
            "addressType": family, "ports": ports,
            "endpoints": [{"addresses": [ip],
                           "conditions": {"ready": True},
                           "nodeName": pod.node,
                           "targetRef": {"kind": "Pod", "namespace": pod.ns,
                                         "name": pod.name}}]}


def state(files):
    namespaces = {ns: k8s_namespace(ns) for ns in NAMESPACES}
    pods = {pod.who: k8s_pod(pod) for pod in PODS}
    policies = []
    for path in files:
        try:
            with open(path) as f:
                docs = parse_yaml(f.read())
        except (OSError, YamlError) as e:
            fail("%s: %s" % (path, e))
        for doc in docs:
            if not isinstance(doc, dict):
                fail("%s: a document is not a mapping" % path)
            kind = doc.get("kind")
            meta = doc.get("metadata") or {}
            if kind == "NetworkPolicy":
                if not meta.get("namespace") or not meta.get("name"):
                    fail("%s: NetworkPolicy without namespace and name"
                         % path)
                doc.setdefault("apiVersion", "networking.k8s.io/v1")
                policies.append(doc)
            elif kind == "Namespace" and meta.get("name") in namespaces:
                namespaces[meta["name"]] = k8s_namespace(
                    meta["name"], meta.get("labels") or {})
            elif (kind == "Pod"
                  and "%s/%s" % (meta.get("namespace"), meta.get("name"))
                  in pods):
                pod = pods["%s/%s" % (meta["namespace"], meta["name"])]
                if "labels" in meta:
                    pod["metadata"]["labels"] = meta["labels"] or {}
                containers = (doc.get("spec") or {}).get("containers")
                if containers is not None:
                    pod["spec"]["containers"] = containers
            else:
                fail("%s: %s %s/%s is not something the model can change"
                     % (path, kind, meta.get("namespace"), meta.get("name")))
    items = [k8s_node(n, ip, cidr) for n, ip, cidr, _ in NODES]
    items += list(namespaces.values()) + list(pods.values())
    for pod in PODS:
        items.append(k8s_service(pod))
        items += [s for s in k8s_slices(pod) if s]
    items += policies
    return {"apiVersion": "v1", "kind": "List", "items": items,
            "metadata": {"resourceVersion": ""}}


# ---------------------------------------------------------------------------
# Servers.

def serve(who, ready):
    answer = (who + "\n").encode()

    def session(conn):
        with conn:
            for _ in conn.makefile("rb"):
                conn.sendall(answer)

    def tcp(listener):
        while True:
            conn, _ = listener.accept()
            threading.Thread(target=session, args=(conn,),
                             daemon=True).start()

    # With IPv6: one IPv6 socket per port serves both families.
    family = socket.AF_INET6 if HAS_IPV6 else socket.AF_INET
    anywhere = "::" if HAS_IPV6 else "0.0.0.0"

    def bound(kind, port):
        s = socket.socket(family, kind)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if HAS_IPV6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.bind((anywhere, port))
        return s

    for port in (80, 81):
        listener = bound(socket.SOCK_STREAM, port)
        listener.listen(64)
        threading.Thread(target=tcp, args=(listener,), daemon=True).start()
    udp = bound(socket.SOCK_DGRAM, 80)
    open(ready, "w").close()
    while True:
        _, peer = udp.recvfrom(2048)
        udp.sendto(answer, peer)


# ---------------------------------------------------------------------------
# Probes.

DENIED_ERRNOS = (errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH,
                 errno.ETIMEDOUT)


def _bound_socket(kind, sport, ip):
    ipv6 = ":" in ip
    anywhere = "::" if ipv6 else "0.0.0.0"
    s = socket.socket(socket.AF_INET6 if ipv6 else socket.AF_INET, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind((anywhere, sport))
    except OSError:
        s.bind((anywhere, 0))
    return s


def probe_tcp(ip, port, sport, expected, timeout):
    deadline = time.monotonic() + timeout
    s = _bound_socket(socket.SOCK_STREAM, sport, ip)
    try:
        s.settimeout(timeout)
        try:
            s.connect((ip, port))
        except socket.timeout:
            return "X"
        except OSError as e:
            return "X" if e.errno in DENIED_ERRNOS else "?"
        # Connected: the right pod must answer, in the time left (and at
        # least a little more, so that a slow answer shows as "?").
        s.settimeout(max(deadline - time.monotonic(), 0.5))
        try:
            s.sendall(b"probe\n")
            line = s.makefile("rb").readline().decode().strip()
        except OSError:
            return "?"
        return "." if line == expected else "?"
    finally:
        s.close()


def probe_udp(ip, port, sport, expected, timeout):
    deadline = time.monotonic() + timeout
    s = _bound_socket(socket.SOCK_DGRAM, sport, ip)
    try:
        s.connect((ip, port))
        # Three tries within the timeout: a datagram, unlike a TCP SYN, is
        # not retransmitted by the kernel.
        for k in range(3):
            try:
                s.send(b"probe\n")
            except OSError as e:
                return "X" if e.errno in DENIED_ERRNOS else "?"
            end = min(deadline, time.monotonic() + timeout / 3)
            if k == 2:
                end = deadline
            while True:
                left = end - time.monotonic()
                if left <= 0:
                    break
                s.settimeout(left)
                try:
                    data = s.recv(2048)
                except socket.timeout:
                    break
                except OSError as e:
                    return "X" if e.errno in DENIED_ERRNOS else "?"
                return "." if data.decode().strip() == expected else "?"
        return "X"
    finally:
        s.close()


_libc = None


def enter_netns(netns):
    """Moves the calling thread (only it) into network namespace 'netns',
    as "ip netns exec" would."""
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(os.path.join("/run/netns", netns), os.O_RDONLY)
    try:
        if _libc.setns(fd, 0x40000000) != 0:     # CLONE_NEWNET
            raise OSError(ctypes.get_errno(), "setns %s" % netns)
    finally:
        os.close(fd)


def next_source_ports(count):
    """Returns the first of 'count' (at most 100) source ports never used
    before in the current directory.  Ports come from 10000...29999, below
    Linux's ephemeral range, and wrap after 200 grids."""
    assert count <= 100
    path = "netpol-probe.runs"
    try:
        with open(path) as f:
            runs = int(f.read().strip() or 0)
    except OSError:
        runs = 0
    with open(path + ".tmp", "w") as f:
        f.write("%d\n" % (runs + 1))
    os.rename(path + ".tmp", path)
    return 10000 + (runs % 200) * 100


def matrix(netns_file, proto, port, via_service, ipv6, sources):
    if proto not in ("tcp", "udp"):
        fail("protocol must be tcp or udp, not %s" % proto)
    if ipv6 and not HAS_IPV6:
        fail("--ipv6 needs the dual-stack or the IPv6-only model")
    if IPV6_ONLY and not ipv6:
        fail("the IPv6-only model has no IPv4 addresses: add --ipv6")
    timeout = float(os.environ.get("NETPOL_PROBE_TIMEOUT", "1"))
    with open(netns_file) as f:
        netns = dict(line.split() for line in f if line.strip())
    sources = sources or [pod.who for pod in PODS]
    for src in sources:
        if src not in netns:
            fail("%s: no network namespace for %s" % (netns_file, src))
    sport = next_source_ports(len(sources) * len(PODS))
    probe = probe_tcp if proto == "tcp" else probe_udp
    grid = {}

    def run(src, col, src_netns, ip, sport, expected):
        try:
            enter_netns(src_netns)
            grid[src, col] = probe(ip, port, sport, expected, timeout)
        except Exception as e:
            sys.stderr.write("netpol-probe: %s -> %s: %s\n"
                             % (src, expected, e))
            grid[src, col] = "?"

    threads = []
    for src in sources:
        src_node = None if "/" in src else src
        for col, dst in enumerate(PODS):
            if src_node is not None and dst.node != src_node:
                grid[src, col] = "-"
            elif via_service and src == dst.who:
                grid[src, col] = "-"
            else:
                if via_service:
                    ip = dst.vip6 if ipv6 else dst.vip
                else:
                    ip = dst.ip6 if ipv6 else dst.ip
                threads.append(threading.Thread(
                    target=run, daemon=True,
                    args=(src, col, netns[src], ip, sport, dst.who)))
            sport += 1
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout + 5)

    corner = "%s/%d%s%s" % (proto, port, " svc" if via_service else "",
                            " ipv6" if ipv6 else "")
    width = max(len(corner), max(len(s) for s in sources)) + 1
    print((corner.ljust(width) + " ".join(p.who for p in PODS)).rstrip())
    for src in sources:
        cells = " ".join(" %s " % grid.get((src, col), "?")
                         for col in range(len(PODS)))
        print((src.ljust(width) + cells).rstrip())


def traffic(netns_file):
    with open(netns_file) as f:
        netns = dict(line.split() for line in f if line.strip())

    def client(src):
        enter_netns(netns[src.who])
        dsts = [(dst.ip or dst.ip6, 80) for dst in PODS if dst is not src]
        while True:
            start = time.monotonic()
            socks = []
            for addr in dsts:
                s = socket.socket(socket.AF_INET6 if ":" in addr[0]
                                  else socket.AF_INET)
                s.setblocking(False)
                s.connect_ex(addr)
                socks.append(s)
            time.sleep(0.3)
            for s in socks:
                s.close()
            time.sleep(max(0.5 - (time.monotonic() - start), 0.05))

    threads = [threading.Thread(target=client, args=(pod,), daemon=True)
               for pod in PODS]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def main(argv):
    if not argv:
        fail("usage: see the comment at the top of %s" % __file__)
    cmd, args = argv[0], argv[1:]
    if cmd == "pods":
        for pod in PODS:
            if IPV6_ONLY:
                print(pod.node, pod.ns, pod.name, pod.ip6 + "/64",
                      pod.gateway6, pod.mac)
            else:
                print(pod.node, pod.ns, pod.name, pod.ip + "/24",
                      pod.gateway, pod.mac,
                      *((pod.ip6 + "/64", pod.gateway6) if pod.ip6
                        else ()))
    elif cmd == "state":
        json.dump(state(args), sys.stdout, indent=1, sort_keys=True)
        sys.stdout.write("\n")
    elif cmd == "serve" and len(args) == 2:
        serve(args[0], args[1])
    elif cmd == "traffic" and len(args) == 1:
        traffic(args[0])
    elif cmd == "matrix" and len(args) >= 3:
        netns_file, proto, port = args[0], args[1], int(args[2])
        via_service, ipv6, sources = False, False, []
        rest = args[3:]
        while rest:
            opt = rest.pop(0)
            if opt == "--service":
                via_service = True
            elif opt == "--ipv6":
                ipv6 = True
            elif opt == "--from" and rest:
                sources = rest.pop(0).split(",")
            else:
                fail("unknown option %s" % opt)
        matrix(netns_file, proto, port, via_service, ipv6, sources)
    else:
        fail("bad command line: %s" % " ".join(argv))


if __name__ == "__main__":
    main(sys.argv[1:])
