#!/bin/bash
# Copyright (c) 2026 The kovs authors.
#
# Licensed under the Apache License, Version 2.0.
#
# The kovs demo: a two-node cluster of network namespaces, each node with its
# own ovsdb-server, userspace-datapath ovs-vswitchd and kovs-controller, and
# the pods of utilities/demo-cluster.json (among them nginx as an Ingress
# controller), plugged through kovs-cni by a CNI runtime client
# (tests/cni-runtime, on libcni).
#
#   utilities/demo.sh start BUILDDIR    start it (replacing a running demo)
#   utilities/demo.sh stop BUILDDIR     tear it down completely
#
# Run through utilities/quickstart.sh, which builds kovs first.

set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=${2:-$top/_build}
workdir=${KOVS_DEMO_DIR:-/var/tmp/kovs-demo}
prefix=${KOVS_DEMO_PREFIX:-kdemo}
state=$workdir/cluster-state.json

export CL_NO_TRAP=1
# Dual-stack pods: namespaces keep IPv6 (tests/cluster-lib.sh).
export CL_IPV6=1
. "$top/tests/cluster-lib.sh"
. "$top/tests/sandbox-lib.sh"
. "$top/tests/e2e-lib.sh"
export PATH=$build/controller:$build/utilities:$build/tests:$PATH

# Pods of the demo: node, namespace/name.
pods="node1 demo/web-1
node1 demo/client-1
node2 demo/web-2
node2 demo/client-2
node1 demo/api-1
node2 demo/api-2
node1 demo/ingress"

# set_addresses IN OUT [NAMESPACE/NAME=IP[,IP6]]...: writes OUT, the state
# file IN with each Pod's addresses as given (none for the others, as
# before the CNI plugin ran) and the EndpointSlices' endpoints at the
# address of their pods of the slice's family (those without one left
# out): what the kubelet and the endpoint controller publish once pods are
# plugged.
set_addresses() {
    python3 - "$@" <<'EOF'
import json, sys
state = json.load(open(sys.argv[1]))
ips = {}
for a in sys.argv[3:]:
    key, value = a.split("=")
    ips[key] = value.split(",")
for item in state["items"]:
    if item["kind"] == "Pod":
        key = "%s/%s" % (item["metadata"]["namespace"],
                         item["metadata"]["name"])
        status = item.setdefault("status", {})
        status.pop("podIP", None)
        status.pop("podIPs", None)
        if key in ips:
            status["podIP"] = ips[key][0]
            status["podIPs"] = [{"ip": ip} for ip in ips[key]]
    elif item["kind"] == "EndpointSlice":
        ipv6 = item["addressType"] == "IPv6"
        endpoints = []
        for e in item["endpoints"]:
            ref = e.get("targetRef", {})
            key = "%s/%s" % (ref.get("namespace"), ref.get("name"))
            family = [ip for ip in ips.get(key, []) if (":" in ip) == ipv6]
            if family:
                e["addresses"] = family[:1]
                endpoints.append(e)
        item["endpoints"] = endpoints
json.dump(state, open(sys.argv[2] + ".tmp", "w"), indent=1)
EOF
    mv "$2.tmp" "$2"
}

say() {
    printf '\n== %s\n' "$*"
}

stop() {
    if [ -d "$workdir" ]; then
        cl_cleanup "$workdir"
        rm -rf "$workdir"
        echo "demo: stopped and removed $workdir"
    else
        echo "demo: not running"
    fi
}

start() {
    [ -x "$build/controller/kovs-controller" ] ||
        { echo "demo: $build/controller/kovs-controller not built" >&2; exit 1; }
    if [ -d "$workdir" ]; then
        stop >/dev/null
    fi

    say "Starting two nodes (network namespaces $prefix-node1, $prefix-node2)"
    mkdir -p "$workdir"
    command -v cni-runtime >/dev/null ||
        { echo "demo: $build/tests/cni-runtime not built (needs golang-go)" >&2
          exit 1; }
    set_addresses "$top/utilities/demo-cluster.json" "$state"
    if ! cl_init "$workdir" "$prefix" ||
       ! cl_node_add node1 198.18.0.11/24 ||
       ! cl_node_add node2 198.18.0.12/24; then
        cl_cleanup "$workdir"
        exit 1
    fi
    trap 'echo "demo: failed; cleaning up" >&2; cl_cleanup "$workdir"' ERR

    for node in node1 node2; do
        cl_node_exec "$node" kovs-controller --detach --no-chdir --pidfile \
            -vconsole:off --log-file --node-name="$node" \
            --k8s-state="$state" --datapath-type=netdev \
            --cluster-cidr=10.244.0.0/16,fd00:10:244::/56 \
            --service-cidr=10.96.0.0/12,fd00:10:96::/112 \
            --external-bridge=br-ex --cni-conf-dir="$workdir/$node/net.d"
        echo "kovs-controller running on $node"
    done
    for node in node1 node2; do
        cl_wait_until 10 test -s "$workdir/$node/net.d/10-kovs.conflist"
        echo "$node ready for pods: $workdir/$node/net.d/10-kovs.conflist"
    done
    cl_ext_add outside 198.18.0.100/24
    echo "external host outside: 198.18.0.100 on the underlay, not a node"

    say "Plugging in pods through kovs-cni (CNI ADD, as a container runtime does)"
    local assigned=""
    while read -r node pod; do
        cl_pod_cni_add "$node" "${pod%/*}" "${pod#*/}"
        echo "$pod on $node: $(cl_pod_ip "$pod") and $(cl_pod_ip6 "$pod")" \
             "via $(_cl_pod_field "$pod" gw), MAC $(cl_pod_mac "$pod")," \
             "port $(cl_pod_port "$pod")"
        assigned="$assigned $pod=$(cl_pod_ip "$pod"),$(cl_pod_ip6 "$pod")"
    done <<EOT
$pods
EOT
    local reads1 reads2
    reads1=$(cluster_reads node1)
    reads2=$(cluster_reads node2)
    # shellcheck disable=SC2086
    set_addresses "$top/utilities/demo-cluster.json" "$state" $assigned
    echo "pod addresses and the Service's endpoints published in $state"

    cluster_wait_sync node1 "$reads1" >/dev/null
    cluster_wait_sync node2 "$reads2" >/dev/null
    echo "both switches hold the flows their controller wants"

    say "Ping between every pair of pods"
    cl_ping_matrix demo/web-1 demo/client-1 demo/web-2 demo/client-2

    say "IPv6: every pod has an address of each family (dual-stack nodes)"
    for client in demo/client-1 demo/client-2; do
        for web in demo/web-1 demo/web-2; do
            ip6=$(cl_pod_ip6 "$web")
            if cl_ping "$client" "$ip6" >/dev/null 2>&1; then
                echo "$client -> $ip6 ($web): ping ok"
            else
                echo "$client -> $ip6 ($web): ping failed"
            fi
        done
    done

    say "HTTP: clients fetch from both web pods (same node and across VXLAN)"
    cl_http_serve demo/web-1 80
    cl_http_serve demo/web-2 80
    for client in demo/client-1 demo/client-2; do
        for web in demo/web-1 demo/web-2; do
            ip=$(cl_ip "$web")
            body=$(cl_http_get "$client" "http://$ip/" || echo "(failed)")
            echo "$client -> http://$ip/ ($web): $body"
        done
    done

    say "HTTP through the Service demo/web (ClusterIP 10.96.0.100), load-balanced"
    for client in demo/client-1 demo/client-2; do
        answers=$(for i in 1 2 3 4 5 6 7 8 9 10; do
                      cl_http_get "$client" http://10.96.0.100/ || echo failed
                  done | sort | uniq -c | awk '{printf "%s x%s  ", $2, $1}')
        echo "$client -> http://10.96.0.100/ 10 times: $answers"
    done

    say "The same Service on its IPv6 ClusterIP fd00:10:96::100 (dual-stack)"
    for client in demo/client-1 demo/client-2; do
        answers=$(for i in 1 2 3 4 5 6 7 8 9 10; do
                      cl_http_get "$client" "http://[fd00:10:96::100]/" ||
                          echo failed
                  done | sort | uniq -c | awk '{printf "%s x%s  ", $2, $1}')
        echo "$client -> http://[fd00:10:96::100]/ 10 times: $answers"
    done

    say "Out of the cluster and in: SNAT to the node IP, the NodePort 30080"
    cl_http_serve outside 8080
    for client in demo/client-1 demo/client-2; do
        body=$(cl_http_get "$client" http://198.18.0.100:8080/clientip ||
               echo "(failed)")
        echo "$client -> http://198.18.0.100:8080/ (outside): it sees $body"
    done
    for ip in 198.18.0.11 198.18.0.12; do
        answers=$(for i in 1 2 3 4 5 6; do
                      cl_http_get outside "http://$ip:30080/" || echo failed
                  done | sort | uniq -c | awk '{printf "%s x%s  ", $2, $1}')
        echo "outside -> http://$ip:30080/ 6 times: $answers"
    done

    say "Ingress: nginx (demo/ingress) at the LoadBalancer IP 203.0.113.10"
    # As an Ingress controller configures it: a.example to the Service web,
    # b.example to the Service api, whose pods echo X-Forwarded-For.  The
    # outside host resolves both names to the LoadBalancer IP, which its
    # router sends to node1 (externalTrafficPolicy Local: nginx's node).
    e2e_echo_serve demo/api-1 80
    e2e_echo_serve demo/api-2 80
    e2e_nginx_ingress demo/ingress a.example=10.96.0.100:80 \
        b.example=10.96.0.101:80
    cl_exec outside ip route add 203.0.113.0/24 via 198.18.0.11
    printf '127.0.0.1 localhost\n203.0.113.10 a.example b.example\n' |
        cl_etc_file outside hosts
    for host in a.example b.example; do
        answers=$(e2e_http_many outside "http://$host/" 10 |
                  awk '{ print $1 }' | sort | uniq -c |
                  awk '{ printf "%s x%s  ", $2, $1 }')
        echo "outside -> http://$host/ 10 times: $answers"
    done
    echo "demo/api got X-Forwarded-For:" \
         "$(e2e_http_many outside http://b.example/ 1 | awk '{ print $2 }')"
    echo "nginx's configuration: $workdir/nginx-demo_ingress/nginx.conf"

    for node in node1 node2; do
        say "Flows on $node (ovs-appctl -t kovs-controller flow-summary)"
        (OVS_RUNDIR=$workdir/$node; export OVS_RUNDIR
         ovs-appctl -t kovs-controller flow-summary
         ovs-appctl -t kovs-controller status | grep -E \
             '^(desired|installed) flows|^gateway|^tunnel ports|^pod ports|^cni')
    done

    say "How to inspect"
    for node in node1 node2; do
        cl_node_inspect "$node"
        echo "ip netns exec $prefix-$node ovs-appctl -t kovs-controller status"
        echo "ip netns exec $prefix-$node ovs-appctl -t kovs-controller flow-summary"
        echo "ip netns exec $prefix-$node ovs-ofctl -O OpenFlow15 dump-flows br-ex"
        echo "ip netns exec $prefix-$node ovs-appctl -t kovs-controller neighbors"
        echo "ip netns exec $prefix-$node ovs-appctl dpctl/dump-conntrack zone=2"
        echo "cat $workdir/$node/net.d/10-kovs.conflist   # kovs-cni's configuration"
        echo "ip netns exec $prefix-$node ovs-ofctl dump-flows br-int cookie=\$(ip netns exec $prefix-$node ovs-appctl -t kovs-controller cookie pod demo/web-1)/-1"
        echo
    done
    cat <<EOT
# The cluster state is $state: edit it (kubectl List format) and both
# controllers apply the difference.  Pods: ip netns exec $(cl_pod_netns demo/client-1) bash
# Tear down: utilities/quickstart.sh stop
EOT
    trap - ERR
}

case ${1:-} in
start) start ;;
stop) stop ;;
*) sed -n '5,13p' "$0" | sed 's/^# \{0,1\}//'; exit 1 ;;
esac
