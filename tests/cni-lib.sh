# Copyright (c) 2026 The kovs authors.
#
# Licensed under the Apache License, Version 2.0.
#
# Shell helpers for the kovs-cni cluster tests (tests/cni.at), on top of
# tests/cluster-lib.sh (which plugs pods through the CNI runtime client:
# cl_pod_cni_add and the others) and tests/sandbox-lib.sh.

# cni_cluster_start OBJ...: the two-node cluster (n1 198.18.0.11 with
# 10.244.1.0/24, n2 198.18.0.12 with 10.244.2.0/24) with kovs-controller on
# each node, the state file holding the nodes, namespace default and the
# OBJs, and both nodes ready for pods (their CNI configuration written).
# No pod is plugged yet.  With CL_IPV6=1 the nodes are dual-stack: n1 has
# fd00:10:244:1::/64 as well, n2 fd00:10:244:2::/64.  With CNI_IPV6_ONLY=1
# too they are IPv6-only, on an IPv6 underlay: n1 fd00:198:18::11 with
# fd00:10:244:1::/64, n2 fd00:198:18::12 with fd00:10:244:2::/64.
cni_cluster_start () {
    # shellcheck disable=SC2046
    cl_node_add n1 "$(cni_node_ip 1)/$(cni_node_plen)" &&
        cl_node_add n2 "$(cni_node_ip 2)/$(cni_node_plen)" &&
        cni_write_state "$@" &&
        cluster_kovs_start n1 $(cni_kovs_options) &&
        cluster_kovs_start n2 $(cni_kovs_options) &&
        cl_wait_until 10 cni_node_ready n1 &&
        cl_wait_until 10 cni_node_ready n2 &&
        cl_tnl_neigh_prime
}

# cni_kovs_options: the options kovs-controller needs beyond
# cluster_kovs_start's: with CL_IPV6=1, the dual-stack cluster and Service
# CIDRs.
cni_kovs_options () {
    if [ "${CNI_IPV6_ONLY:-0}" = 1 ]; then
        echo --cluster-cidr=fd00:10:244::/56 --service-cidr=fd00:10:96::/112
    elif [ "${CL_IPV6:-0}" = 1 ]; then
        echo --cluster-cidr=10.244.0.0/16,fd00:10:244::/56 \
             --service-cidr=10.96.0.0/12,fd00:10:96::/112
    fi
}

# cni_write_state OBJ...: state.json with the two nodes (dual-stack with
# CL_IPV6=1), namespace default and the OBJs.
cni_write_state () {
    local cidrs_1=10.244.1.0/24 cidrs_2=10.244.2.0/24
    if [ "${CNI_IPV6_ONLY:-0}" = 1 ]; then
        cidrs_1=fd00:10:244:1::/64
        cidrs_2=fd00:10:244:2::/64
    elif [ "${CL_IPV6:-0}" = 1 ]; then
        cidrs_1=$cidrs_1,fd00:10:244:1::/64
        cidrs_2=$cidrs_2,fd00:10:244:2::/64
    fi
    write_state state.json "$(k8s_node n1 "$(cni_node_ip 1)" $cidrs_1)" \
        "$(k8s_node n2 "$(cni_node_ip 2)" $cidrs_2)" \
        "$(k8s_namespace default)" "$@"
}

# cni_node_ip N: node nN's underlay address (198.18.0.1N, or
# fd00:198:18::1N with CNI_IPV6_ONLY=1); cni_node_plen: its prefix length.
cni_node_ip () {
    if [ "${CNI_IPV6_ONLY:-0}" = 1 ]; then
        echo "fd00:198:18::1$1"
    else
        echo "198.18.0.1$1"
    fi
}
cni_node_plen () {
    if [ "${CNI_IPV6_ONLY:-0}" = 1 ]; then echo 64; else echo 24; fi
}

# cni_node_ready NODE: true once NODE's kovs-controller wrote its CNI
# configuration list.
cni_node_ready () {
    test -s "$CL_WORKDIR/$1/net.d/10-kovs.conflist"
}

# cni_status NODE: kovs-cni's line of kovs-controller's status on NODE.
cni_status () {
    cl_node_exec "$1" ovs-appctl -t kovs-controller status |
        sed -n 's/^cni: //p'
}

# cni_attachments NODE: the number of attachments (allocated addresses) of
# NODE's kovs-controller.
cni_attachments () {
    cni_status "$1" | sed 's/ attachments.*//'
}

# cni_port_ids NODE NAMESPACE/NAME: the external_ids of the pod's port on
# NODE's br-int (nothing if it has none).
cni_port_ids () {
    cl_node_exec "$1" ovs-vsctl --bare --columns=external_ids find \
        interface external_ids:iface-id="$2"
}

# cni_status_fails NODE: true if STATUS of NODE's kovs-cni fails.
cni_status_fails () {
    ! cl_cni "$1" status 2>/dev/null
}

# cni_no_port NODE NAMESPACE/NAME: true if the pod has no port on NODE's
# br-int.
cni_no_port () {
    test -z "$(cni_port_ids "$1" "$2")"
}

# cni_restart NODE: stops NODE's kovs-controller and starts it again.
cni_restart () {
    # shellcheck disable=SC2046
    cluster_kovs_restart "$1" $(cni_kovs_options)
}

# cni_result_ips NAMESPACE/NAME: the addresses and default routes of the
# pod's ADD result, one a line: "ip ADDRESS/LEN via GATEWAY" for each of
# "ips", then "route DST via GW" for each of "routes".
cni_result_ips () {
    python3 -I -S -c '
import json, sys
r = json.load(open(sys.argv[1]))
for ip in r["ips"]:
    print("ip %s via %s" % (ip["address"], ip["gateway"]))
for route in r["routes"]:
    print("route %s via %s" % (route["dst"], route["gw"]))' \
        "$CL_WORKDIR/cl-state/pods/$(echo "$1" | tr / _).result"
}

# k8s_deny_ingress NAMESPACE NAME APP: a NetworkPolicy that isolates the
# pods labelled app=APP for ingress, allowing nothing.
k8s_deny_ingress () {
    printf '{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"namespace":"%s","name":"%s"},"spec":{"podSelector":{"matchLabels":{"app":"%s"}},"policyTypes":["Ingress"]}}' \
        "$1" "$2" "$3"
}

# The prober of cni_probe_start: tries, over and over, a TCP connection to
# port PORT of every address of FIRST..LAST (the last octet), all at once
# with non-blocking sockets, each try lasting at most 50 ms, and appends
# every address that answered to OUT (once each).  Runs until killed.
_cni_py_prober='
import select, socket, sys, time
prefix, first, last, port, out = sys.argv[1], int(sys.argv[2]), \
    int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
seen = set()
open(out, "w").close()
open(out + ".ready", "w").close()
while True:
    socks = {}
    for i in range(first, last + 1):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.connect_ex(("%s.%d" % (prefix, i), port))
        socks[s.fileno()] = (s, "%s.%d" % (prefix, i))
    deadline = time.time() + 0.05
    while socks and time.time() < deadline:
        _, w, _ = select.select([], [s for s, _ in socks.values()], [],
                                max(0, deadline - time.time()))
        for s in w:
            sock, ip = socks.pop(s.fileno())
            if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                if ip not in seen:
                    seen.add(ip)
                    with open(out, "a") as f:
                        f.write(ip + "\n")
            sock.close()
    for s, _ in socks.values():
        s.close()
'

# cni_probe_start WHO PREFIX FIRST LAST PORT OUT: starts the prober in WHO
# (in the background, tagged "prober"), probing PREFIX.FIRST to PREFIX.LAST
# on TCP PORT and writing to OUT each address that ever answered.
cni_probe_start () {
    rm -f "$6" "$6.ready"
    cl_bg "$1" prober python3 -I -S -c "$_cni_py_prober" "$2" "$3" "$4" \
        "$5" "$6" && _cl_bg_ready prober "$6.ready"
}
