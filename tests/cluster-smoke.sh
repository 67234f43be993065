#!/bin/bash
# cluster-smoke.sh -- proves tests/cluster-lib.sh with real traffic, without
# kovs-controller.
#
# Usage: tests/cluster-smoke.sh [-v] [PREFIX [WORKDIR]]
#   -v       also print each node's flows, tunnel neighbours and routes
#   PREFIX   namespace prefix (default "s" + this process's id), so that
#            several copies can run at once
#   WORKDIR  cluster files (default a fresh directory under /tmp, removed on
#            success, kept with the daemons' logs on failure)
#
# Builds two nodes (198.18.0.11 and .12 on the underlay) with two pods each
# (10.244.1.0/24 on node1, 10.244.2.0/24 on node2), then programs br-int on
# each node by hand, standing in for the controller: a gateway port kovs-gw0
# with the podCIDR's .1, a VXLAN port to the peer node, and a few flows
# (NORMAL switching within the node, an IP route to the peer's podCIDR over
# the tunnel with MAC rewrites).  Then checks pod-to-pod traffic on one node
# and across nodes (ping, full-MTU ping, HTTP, TCP, UDP), tears the cluster
# down and checks that no namespace, process or interface is left.
#
# Exit status: 0 only if every check passed and the cleanup was complete.

set -u

verbose=false
if [ "${1:-}" = -v ]; then
    verbose=true
    shift
fi
prefix=${1:-s$(($$ % 100000))}
if [ -n "${2:-}" ]; then
    workdir=$2
else
    workdir=$(mktemp -d /tmp/kovs-smoke.XXXXXX) || exit 1
fi

. "$(dirname "$0")/cluster-lib.sh"

failures=0

# check DESCRIPTION CMD...: runs CMD, reports ok (with its duration) or
# FAIL.
check() {
    local desc=$1 t0
    shift
    t0=$(date +%s%N)
    if "$@"; then
        echo "ok    $desc ($(( ($(date +%s%N) - t0) / 1000000 )) ms)"
    else
        echo "FAIL  $desc"
        failures=$((failures + 1))
    fi
}

# check_output DESCRIPTION EXPECTED CMD...: runs CMD, whose standard output
# must be EXPECTED.
check_output() {
    local desc=$1 expected=$2 out t0
    shift 2
    t0=$(date +%s%N)
    out=$("$@")
    if [ "$out" = "$expected" ]; then
        echo "ok    $desc ($(( ($(date +%s%N) - t0) / 1000000 )) ms)"
    else
        echo "FAIL  $desc: expected '$expected', got '$out'"
        failures=$((failures + 1))
    fi
}

# die MESSAGE: set-up failed; nothing can be checked.
die() {
    echo "FAIL  $*" >&2
    exit 1
}

# setup_br_int NODE GATEWAY_IP PEER: adds to NODE's br-int the gateway port
# kovs-gw0 (GATEWAY_IP/24) and a VXLAN port, named after PEER, to PEER's
# node IP.
setup_br_int() {
    local node=$1 gw=$2 peer=$3
    cl_node_exec "$node" ovs-vsctl --timeout=10 \
        -- --may-exist add-br br-int \
        -- set bridge br-int datapath_type=netdev \
        -- add-port br-int kovs-gw0 \
        -- set interface kovs-gw0 type=internal mtu_request=1450 \
        -- add-port br-int "$peer" \
        -- set interface "$peer" type=vxlan \
           options:remote_ip="$(cl_node_ip "$peer")" options:key=flow \
           external_ids:kovs-node="$peer" &&
    cl_node_exec "$node" ip addr add "$gw/24" dev kovs-gw0 &&
    cl_node_exec "$node" ip link set kovs-gw0 up
}

# ofport NODE IFACE: prints IFACE's OpenFlow port number on NODE.
ofport() {
    cl_node_exec "$1" ovs-vsctl get interface "$2" ofport
}

# gw_mac NODE: prints the MAC of NODE's kovs-gw0.
gw_mac() {
    cl_node_exec "$1" cat /sys/class/net/kovs-gw0/address
}

# program_flows NODE PEER PEER_CIDR POD...: installs NODE's br-int flows:
# everything is switched by NORMAL, except IP to PEER_CIDR, which is routed
# into the tunnel to PEER, and IP from the tunnel, which is routed to the
# local POD it is addressed to.  The tunnel port is excluded from NORMAL's
# flooding, so each node stays its own L2 segment.
program_flows() {
    local node=$1 peer=$2 peer_cidr=$3 tun mac peer_mac pod flows
    shift 3
    tun=$(ofport "$node" "$peer") && mac=$(gw_mac "$node") &&
    peer_mac=$(gw_mac "$peer") || return 1
    flows="priority=0 actions=NORMAL
priority=1,in_port=$tun actions=drop
priority=100,ip,nw_dst=$peer_cidr actions=dec_ttl,mod_dl_src:$mac,\
mod_dl_dst:$peer_mac,set_field:1->tun_id,output:$tun"
    for pod in "$@"; do
        flows="$flows
priority=100,in_port=$tun,tun_id=1,ip,nw_dst=$(cl_pod_ip "$pod") \
actions=dec_ttl,mod_dl_src:$mac,mod_dl_dst:$(cl_pod_mac "$pod"),\
output:$(ofport "$node" "$(cl_pod_port "$pod")")"
    done
    echo "$flows" >"$workdir/$node/smoke.flows"
    cl_node_exec "$node" ovs-ofctl del-flows br-int &&
    cl_node_exec "$node" ovs-ofctl add-flows br-int \
        "$workdir/$node/smoke.flows" &&
    cl_node_exec "$node" ovs-ofctl mod-port br-int "$peer" no-flood
}

# ping_mtu NAMESPACE NAME IP SIZE: pings IP from the pod with a SIZE-byte
# IP packet that may not be fragmented.
ping_mtu() {
    cl_pod_exec "$1" "$2" ping -q -n -c 1 -W 1 -M do -s $(($4 - 28)) "$3" \
        >/dev/null
}

# set_pod_mtu NAMESPACE NAME MTU: sets the MTU of both ends of a pod's veth.
set_pod_mtu() {
    cl_pod_exec "$1" "$2" ip link set eth0 mtu "$3" &&
    cl_node_exec "$(cl_pod_node "$1/$2")" \
        ip link set "$(cl_pod_port "$1/$2")" mtu "$3"
}

# flush_tnl_neigh: makes both nodes forget their tunnel neighbours.
flush_tnl_neigh() {
    cl_node_exec node1 ovs-appctl tnl/neigh/flush >/dev/null &&
    cl_node_exec node2 ovs-appctl tnl/neigh/flush >/dev/null
}

# ping_once FROM IP: cl_ping with a single try.
ping_once() {
    CL_PING_TRIES=1 cl_ping "$@"
}

# tcp_state_1s FROM IP PORT: cl_tcp_state with a 1 s timeout.
tcp_state_1s() {
    CL_TIMEOUT=1 cl_tcp_state "$@"
}

# show_node NODE: prints what a human looks at first on NODE.
show_node() {
    local cmd
    for cmd in "ovs-ofctl dump-flows br-int" "ovs-appctl tnl/neigh/show" \
               "ovs-appctl ovs/route/show" "ovs-appctl tnl/ports/show"; do
        echo "--- $1: $cmd"
        # shellcheck disable=SC2086
        cl_node_exec "$1" $cmd
    done
}

start=$(date +%s%N)
step() {
    echo "      $1 ($(( ($(date +%s%N) - start) / 1000000 )) ms since start)"
}
# root_links: prints the names of the root namespace's interfaces.
root_links() {
    ip -o link show | awk -F': ' '{print $2}' | sort
}
root_links_before=$(root_links)

cl_init "$workdir" "$prefix" || die "cl_init"
cl_node_add node1 198.18.0.11/24 || die "node1"
cl_node_add node2 198.18.0.12/24 || die "node2"
step "2 nodes up"
cl_pod_add node1 default a1 10.244.1.2/24 10.244.1.1 0a:58:0a:f4:01:02 &&
cl_pod_add node1 default a2 10.244.1.3/24 10.244.1.1 0a:58:0a:f4:01:03 &&
cl_pod_add node2 default b1 10.244.2.2/24 10.244.2.1 0a:58:0a:f4:02:02 &&
cl_pod_add node2 other b2 10.244.2.3/24 10.244.2.1 0a:58:0a:f4:02:03 ||
    die "pods"
cl_ext_add ext1 198.18.0.100/24 || die "external host"
step "4 pods and 1 external host plugged"

setup_br_int node1 10.244.1.1 node2 &&
setup_br_int node2 10.244.2.1 node1 || die "br-int ports"
program_flows node1 node2 10.244.2.0/24 default/a1 default/a2 &&
program_flows node2 node1 10.244.1.0/24 default/b1 other/b2 || die "flows"
step "br-int programmed by hand"

cl_http_serve default/a1 8080 &&
cl_http_serve default/b1 8080 || die "HTTP servers"
cl_udp_serve other/b2 5353 || die "UDP server"
step "servers listening"

check "pod to its gateway (kovs-gw0)" cl_ping default/a1 10.244.1.1
check "pod to pod, same node" cl_ping default/a1 10.244.1.3
check "pod to pod, across nodes" cl_ping default/a1 10.244.2.2
check "pod to pod, across nodes, other way" cl_ping other/b2 10.244.1.3
check "1450-byte packet with DF across nodes (MTU 1450 fits VXLAN)" \
    ping_mtu default a2 10.244.2.3 1450
check_output "HTTP GET across nodes" b1 \
    cl_http_get default/a2 http://10.244.2.2:8080/
check_output "HTTP server across nodes sees the pod IP" 10.244.1.3 \
    cl_http_get default/a2 http://10.244.2.2:8080/clientip
check_output "HTTP GET across nodes, other way" a1 \
    cl_http_get other/b2 http://10.244.1.2:8080/
check_output "HTTP GET same node" a1 \
    cl_http_get default/a2 http://10.244.1.2:8080/
check "TCP connect across nodes" cl_tcp_probe other/b2 10.244.1.2 8080
check_output "TCP connect to a closed port is refused" refused \
    cl_tcp_state default/a1 10.244.2.2 9999
check_output "UDP across nodes" b2 cl_udp_get default/a1 10.244.2.3 5353
check_output "reachability matrix of all pods" "$(cat <<EOF
default/a1 -> default/a2 ok
default/a1 -> default/b1 ok
default/a1 -> other/b2 ok
default/a2 -> default/a1 ok
default/a2 -> default/b1 ok
default/a2 -> other/b2 ok
default/b1 -> default/a1 ok
default/b1 -> default/a2 ok
default/b1 -> other/b2 ok
other/b2 -> default/a1 ok
other/b2 -> default/a2 ok
other/b2 -> default/b1 ok
EOF
)" cl_ping_matrix default/a1 default/a2 default/b1 other/b2
cl_http_stop default/b1 8080
check_output "TCP connect to a stopped HTTP server is refused" refused \
    cl_tcp_state default/a1 10.244.2.2 8080
check "external host to node IP on br-ex" cl_ping ext1 198.18.0.12

# The requirements cluster-lib.sh documents, shown by breaking them.
cl_pod_exec other b2 ethtool -K eth0 tx on >/dev/null
check_output "requirement: with tx checksum offload on, TCP is lost..." \
    timeout tcp_state_1s other/b2 10.244.1.2 8080
check "...while ping still works" cl_ping other/b2 10.244.1.2
cl_pod_exec other b2 ethtool -K eth0 tx off >/dev/null
check "...and with it off again, TCP works" \
    cl_tcp_probe other/b2 10.244.1.2 8080
set_pod_mtu default a2 1500
check "requirement: a 1500-byte packet does not fit VXLAN on a 1500 underlay" \
    eval '! ping_mtu default a2 10.244.2.3 1500'
check "...and ovs-vswitchd says so only in its log" \
    grep -q "error sending Ethernet packet on eth0: Message too long" \
    "$workdir/node1/ovs-vswitchd.log"
set_pod_mtu default a2 1450
flush_tnl_neigh
check "requirement: the first packet to a peer is lost while OVS resolves" \
    eval '! ping_once default/a1 10.244.2.2 2>/dev/null'
flush_tnl_neigh
cl_tnl_neigh_prime
check "...unless cl_tnl_neigh_prime told it the peers' MACs" \
    ping_once default/a1 10.244.2.2
check "node1's tunnel routing table has the underlay route via br-ex" \
    eval 'cl_node_exec node1 ovs-appctl ovs/route/show |
          grep -q "198.18.0.0/24 dev br-ex SRC 198.18.0.11"'
check "node1 resolved node2's MAC for the tunnel" \
    eval 'cl_node_exec node1 ovs-appctl tnl/neigh/show |
          grep -q "^198.18.0.12 .* br-ex"'

if $verbose || [ $failures -gt 0 ]; then
    show_node node1
    show_node node2
    cl_node_inspect node1
fi

step "checks done"
pids=$(pgrep -f "$workdir/")
if [ -z "$pids" ]; then
    echo "FAIL  no cluster process found before cleanup"
    failures=$((failures + 1))
fi
cl_cleanup
step "cleaned up"
cl_cleanup
check "cleanup: no namespace left" \
    eval '! ip netns list | grep "^$prefix-"'
check "cleanup: no process left" eval '! pgrep -f "$workdir/"'
check "cleanup: root namespace interfaces unchanged" \
    eval '[ "$(root_links)" = "$root_links_before" ]'

echo "$failures failure(s), $(( ($(date +%s%N) - start) / 1000000 )) ms"
if [ $failures -eq 0 ]; then
    [ -n "${2:-}" ] || rm -rf "$workdir"
    exit 0
fi
echo "cluster files and logs kept in $workdir"
exit 1
