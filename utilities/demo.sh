#!/bin/bash
# Copyright (c) 2026 The kovs authors.
#
# Licensed under the Apache License, Version 2.0.
#
# The kovs demo: a two-node cluster of network namespaces, each node with its
# own ovsdb-server, userspace-datapath ovs-vswitchd and kovs-controller, two
# pods per node, from utilities/demo-cluster.json.
#
#   utilities/demo.sh start BUILDDIR    start it (replacing a running demo)
#   utilities/demo.sh stop BUILDDIR     tear it down completely
#
# Run through utilities/quickstart.sh, which builds kovs first.

set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=${2:-$top/_build}
workdir=${KOVS_DEMO_DIR:-/var/tmp/kovs-demo}
prefix=kdemo
state=$workdir/cluster-state.json

export CL_NO_TRAP=1
. "$top/tests/cluster-lib.sh"
. "$top/tests/sandbox-lib.sh"
export PATH=$build/controller:$build/utilities:$PATH

# Pods of the demo: node, namespace/name, address, MAC.
pods="node1 demo/web-1 10.244.1.10 0a:00:00:00:01:0a
node1 demo/client-1 10.244.1.11 0a:00:00:00:01:0b
node2 demo/web-2 10.244.2.10 0a:00:00:00:02:0a
node2 demo/client-2 10.244.2.11 0a:00:00:00:02:0b"

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
    cp "$top/utilities/demo-cluster.json" "$state"
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
            --cluster-cidr=10.244.0.0/16 --service-cidr=10.96.0.0/12 \
            --external-bridge=br-ex
        echo "kovs-controller running on $node"
    done
    cl_ext_add outside 198.18.0.100/24
    echo "external host outside: 198.18.0.100 on the underlay, not a node"

    say "Plugging in pods (what a CNI plugin does)"
    echo "$pods" | while read -r node pod ip mac; do
        gw=${ip%.*}.1
        cl_pod_add "$node" "${pod%/*}" "${pod#*/}" "$ip/24" "$gw" "$mac"
        echo "$pod on $node: $ip/24 via $gw, MAC $mac"
    done

    for node in node1 node2; do
        cluster_wait_sync "$node" >/dev/null
    done
    echo "both switches hold the flows their controller wants"

    say "Ping between every pair of pods"
    cl_ping_matrix demo/web-1 demo/client-1 demo/web-2 demo/client-2

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

    for node in node1 node2; do
        say "Flows on $node (ovs-appctl -t kovs-controller flow-summary)"
        (OVS_RUNDIR=$workdir/$node; export OVS_RUNDIR
         ovs-appctl -t kovs-controller flow-summary
         ovs-appctl -t kovs-controller status | grep -E \
             '^(desired|installed) flows|^gateway|^tunnel ports|^pod ports')
    done

    say "How to inspect"
    for node in node1 node2; do
        cl_node_inspect "$node"
        echo "ip netns exec $prefix-$node ovs-appctl -t kovs-controller status"
        echo "ip netns exec $prefix-$node ovs-appctl -t kovs-controller flow-summary"
        echo "ip netns exec $prefix-$node ovs-ofctl -O OpenFlow15 dump-flows br-ex"
        echo "ip netns exec $prefix-$node ovs-appctl -t kovs-controller neighbors"
        echo "ip netns exec $prefix-$node ovs-appctl dpctl/dump-conntrack zone=2"
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
