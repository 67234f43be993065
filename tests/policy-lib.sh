# Copyright (c) 2026 The kovs authors.
#
# Licensed under the Apache License, Version 2.0.
#
# Shell helpers for the NetworkPolicy tests (tests/policy.at), on top of
# tests/cluster-lib.sh and tests/sandbox-lib.sh.  The model cluster (nodes
# n1 and n2; namespaces x, y, z; pods a, b, c in each, each with servers on
# TCP 80, TCP 81 and UDP 80 and a ClusterIP Service of its own) and the
# reachability probes live in tests/netpol-probe.py, whose comment
# describes them.
#
# A reachability grid, as policy_matrix prints it and the tests expect it:
#
#     tcp/80 x/a x/b x/c y/a y/b y/c z/a z/b z/c
#     x/a     .   .   X   .   .   .   .   .   .
#     ...
#
# one row per source, one column per destination: "." the connection was
# answered by the destination pod, "X" it was denied (timed out or
# refused), "?" anything else, "-" not probed.

NETPOL_PROBE=$abs_top_srcdir/tests/netpol-probe.py

# netpol_probe ARG...: runs tests/netpol-probe.py.
netpol_probe () {
    python3 -I -S "$NETPOL_PROBE" "$@"
}

# policy_cluster_start: builds the model cluster in the cluster that
# cl_init/cl_use attached this shell to: the two nodes with kovs-controller,
# the nine pods plugged in, their servers listening, both switches in sync,
# the tunnel neighbours primed.  The state file state.json holds the model
# and no NetworkPolicy; netns.txt says in which network namespace each pod
# and node is ("WHO NETNS" lines, for policy_matrix).  With
# NETPOL_DUAL_STACK=1 (and CL_IPV6=1, for cl_init) the model is dual-stack
# (see tests/netpol-probe.py): the controllers get IPv6 cluster and Service
# CIDRs too, and each pod its IPv6 address (without duplicate address
# detection, as a CNI plugin sets it) and an IPv6 default route.  With
# NETPOL_IPV6_ONLY=1 (and CL_IPV6=1) it is IPv6-only: the controllers get
# IPv6 CIDRs only, and the pods IPv6 addresses only.
policy_cluster_start () {
    local node ns name cidr gw mac cidr6 gw6 tag opts=
    if [ "${NETPOL_IPV6_ONLY:-0}" = 1 ]; then
        opts="--cluster-cidr=fd00:10:244::/56 --service-cidr=fd00:10:96::/112"
    elif [ "${NETPOL_DUAL_STACK:-0}" = 1 ]; then
        opts="--cluster-cidr=10.244.0.0/16,fd00:10:244::/56
              --service-cidr=10.96.0.0/12,fd00:10:96::/112"
    fi
    cl_node_add n1 198.18.0.11/24 && cl_node_add n2 198.18.0.12/24 &&
        policy_write_state &&
        cluster_kovs_start n1 $opts && cluster_kovs_start n2 $opts ||
        return 1
    netpol_probe pods > pods.txt || return 1
    printf 'n1 %s-n1\nn2 %s-n2\n' "$CL_PREFIX" "$CL_PREFIX" > netns.txt
    while read -r node ns name cidr gw mac cidr6 gw6; do
        cl_pod_add "$node" "$ns" "$name" "$cidr" "$gw" "$mac" &&
            echo "$ns/$name $(cl_pod_netns "$ns/$name")" >> netns.txt ||
            return 1
        if [ -n "$cidr6" ]; then
            cl_pod_exec "$ns" "$name" \
                ip -6 addr add "$cidr6" dev eth0 nodad &&
                cl_pod_exec "$ns" "$name" \
                    ip -6 route add default via "$gw6" dev eth0 || return 1
        fi
    done < pods.txt
    while read -r node ns name cidr gw mac cidr6 gw6; do
        tag=netpol-${ns}_$name
        rm -f "$tag.ready"
        cl_bg "$ns/$name" "$tag" python3 -I -S "$NETPOL_PROBE" serve \
            "$ns/$name" "$PWD/$tag.ready" || return 1
    done < pods.txt
    while read -r node ns name cidr gw mac cidr6 gw6; do
        tag=netpol-${ns}_$name
        cl_wait_until 5 test -e "$tag.ready" ||
            { cat "$CL_WORKDIR/cl-state/bg/$tag.log" >&2; return 1; }
    done < pods.txt
    cluster_wait_sync n1 && cluster_wait_sync n2 && cl_tnl_neigh_prime
}

# policy_write_state [FILE...]: replaces state.json, atomically, with the
# model plus the objects that the FILEs describe.  (kovs-controller's read
# count moves only for new contents, so a re-read of the previous file
# never passes for the read of this one.)
policy_write_state () {
    netpol_probe state "$@" > state.json.tmp &&
        mv state.json.tmp state.json
}

# policy_apply [FILE...]: replaces state.json with the model plus the
# objects that the FILEs describe (NetworkPolicies, and Pod and Namespace
# label changes; see "netpol-probe.py state"), then waits until both
# controllers have read it and their switches are in sync.  Without FILE,
# back to the model alone.  Saves each node's policy tables (50 and 70) in
# policy-flows.NODE for a failing test's directory.
#
# Nothing is done to the switches' datapath flow caches: once kovs says it
# is in sync, every packet must see the new policy, whatever flows the
# datapath cached from earlier ones.
policy_apply () {
    local r1 r2 node table
    r1=$(cluster_reads n1) && r2=$(cluster_reads n2) || return 1
    netpol_probe state "$@" > state.json.tmp || return 1
    if cmp -s state.json.tmp state.json; then
        # The same state again: no read to wait for.
        rm -f state.json.tmp
        r1= r2=
    else
        mv state.json.tmp state.json || return 1
    fi
    cluster_wait_sync n1 $r1 && cluster_wait_sync n2 $r2 || return 1
    for node in n1 n2; do
        for table in 50 70; do
            cl_node_exec $node ovs-ofctl -O OpenFlow15 --no-stats \
                dump-flows br-int table=$table
        done > policy-flows.$node 2>&1
    done
    return 0
}

# policy_traffic_start: from now until the test ends, every pod tries a TCP
# connection to port 80 of every other pod about twice a second ("traffic"
# in tests/netpol-probe.py), so that the datapath flows of every pair live
# on from one policy to the next, as on a busy cluster.
policy_traffic_start () {
    cl_bg n1 netpol-traffic python3 -I -S "$NETPOL_PROBE" traffic \
        "$PWD/netns.txt"
}

# policy_cases_run CASE...: for each CASE in turn, applies the objects in
# CASE.yaml (none if there is no such file) with policy_apply, probes the
# TCP 80 grid by pod IP and compares it with CASE.grid.  For each case whose
# grid differs, prints the case, what it expected and what it saw, and
# keeps both nodes' datapath flows in CASE-N.dpflows.NODE (N: the case's
# position in the list).  Prints nothing when every grid is as expected.
policy_cases_run () {
    local case n=0 node prev=
    for case in "$@"; do
        n=$((n + 1))
        if [ -e "$case.yaml" ]; then
            policy_apply "$case.yaml"
        else
            policy_apply
        fi || { echo "case $n ($case): policy_apply failed"; continue; }
        policy_matrix tcp 80 > "$case-$n.seen" 2>&1
        if ! cmp -s "$case.grid" "$case-$n.seen"; then
            echo "case $n ($case), after ${prev:-the start}: expected"
            cat "$case.grid"
            echo "but saw"
            cat "$case-$n.seen"
            for node in n1 n2; do
                cl_node_exec $node ovs-appctl dpctl/dump-flows -m \
                    > "$case-$n.dpflows.$node" 2>&1
            done
        fi
        prev=$case
    done
}

# policy_matrix PROTO PORT [--service | --ipv6] [--from WHO,...]: the
# reachability grid on PROTO (tcp or udp) PORT, from every pod (or from
# each WHO, a pod or a node) to every pod, by pod IP (with --ipv6, by the
# pods' IPv6 addresses, in the dual-stack model) or, with --service, by
# the ClusterIP of the destination pod's Service.
policy_matrix () {
    netpol_probe matrix netns.txt "$@"
}

# policy_session_start FROM TO TAG: a long-lived TCP connection from pod
# FROM to port 80 of pod TO (by pod IP) that sends a line every 0.2 s and
# logs each answer in TAG.log (see tcp_session_start in
# tests/sandbox-lib.sh).  Returns once the first answer is logged.
policy_session_start () {
    tcp_session_start "$1" "$(cl_ip "$2")" 80 "$3" &&
        cl_wait_until 5 test -s "$3.log"
}

# policy_session_alive TAG: waits until TAG's connection has logged three
# more answers than it had, and succeeds if it never broke; otherwise
# prints its log.
policy_session_alive () {
    local n
    n=$(tcp_session_answers "$1")
    if cl_wait_until 5 sh -c "test \$(grep -c . '$1.log') -ge $((n + 3))" \
            2>/dev/null &&
       ! grep -q -e closed -e error "$1.log"; then
        return 0
    fi
    echo "connection $1 broke or stalled after $n answers; its log:"
    cat "$1.log"
    return 1
}
