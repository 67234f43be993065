# Copyright (c) 2026 The kovs authors.
#
# Licensed under the Apache License, Version 2.0.
#
# Shell helpers for the sandbox tests: a real ovsdb-server and ovs-vswitchd
# (dummy datapath) in the test's own directory, kovs-controller connected
# to them, and small generators for state files.  Sourced by the test suite
# (tests/kovs-macros.at); every function is safe under 'set -u'.

# kovs_test_init: prepares the current shell (a test's own shell, not an
# AT_CHECK subshell) to run ./cleanup when the test ends, pass or fail.
kovs_test_init () {
    : > cleanup
    trap '. ./cleanup' EXIT
}

# kovs_on_exit CMD: adds CMD to ./cleanup, most recent first.  Safe to call
# from a subshell.
kovs_on_exit () {
    { echo "$1"; cat cleanup 2>/dev/null; } > cleanup.tmp &&
        mv cleanup.tmp cleanup
}

# sandbox_env [RUNDIR]: points the OVS tools at the current directory, the
# sockets and pidfiles at RUNDIR (default: the current directory too).
# Must run in the test's own shell.
sandbox_env () {
    OVS_RUNDIR=${1:-$PWD} OVS_LOGDIR=$PWD OVS_DBDIR=$PWD OVS_SYSCONFDIR=$PWD
    export OVS_RUNDIR OVS_LOGDIR OVS_DBDIR OVS_SYSCONFDIR
}

# kovs_wait_until CMD...: retries CMD for up to KOVS_WAIT seconds (default
# 15), returning its status.
kovs_wait_until () {
    local deadline=$(( $(date +%s) + ${KOVS_WAIT:-15} ))
    while :; do
        if "$@"; then
            return 0
        fi
        if [ "$(date +%s)" -ge "$deadline" ]; then
            echo "timed out waiting for: $*" >&2
            return 1
        fi
        sleep 0.1
    done
}

# kill_pidfile FILE: stops the daemon whose pid FILE holds, if running.
kill_pidfile () {
    if [ -f "$1" ]; then
        local pid
        pid=$(cat "$1")
        kill "$pid" 2>/dev/null
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null
        rm -f "$1"
    fi
    return 0
}

# sandbox_start [RUNDIR]: ovsdb-server and ovs-vswitchd
# --enable-dummy=override in the current directory, with their sockets and
# pidfiles in RUNDIR (default: the current directory), stopped when the
# test ends.
sandbox_start () {
    sandbox_env "$@"
    ovsdb-tool create conf.db /usr/share/openvswitch/vswitch.ovsschema ||
        return 1
    ovsdb-server --detach --no-chdir --pidfile --log-file \
        --remote=punix:"$OVS_RUNDIR/db.sock" conf.db || return 1
    kovs_on_exit "kill_pidfile '$OVS_RUNDIR/ovsdb-server.pid'"
    ovs-vsctl --no-wait init || return 1
    sandbox_start_vswitchd
}

sandbox_start_vswitchd () {
    ovs-vswitchd --enable-dummy=override --disable-system --detach \
        --no-chdir --pidfile --log-file -vvconn -vofproto_dpif \
        -vunixctl || return 1
    kovs_on_exit "kill_pidfile '$OVS_RUNDIR/ovs-vswitchd.pid'"
}

# kovs_start NODE STATE-FILE [OPTION...]: starts kovs-controller for NODE
# (in network namespace KOVS_NETNS if set: there it finds a kernel device
# that stands for the external bridge, with the node's addresses and
# routes).  Its metrics endpoint is off (the default address is the
# host's, which tests running side by side would share) unless an OPTION
# sets one.
kovs_start () {
    local node=$1 state=$2
    shift 2
    ${KOVS_NETNS:+ip netns exec "$KOVS_NETNS"} \
    kovs-controller --detach --no-chdir --pidfile --log-file \
        --node-name="$node" --k8s-state="$state" \
        --cluster-cidr=10.244.0.0/16 --service-cidr=10.96.0.0/12 \
        --cni-conf-dir="$PWD/net.d" --metrics-address=off \
        -vofctrl:file:dbg -vconsole:warn "$@" 2>>kovs-controller.stderr ||
        { cat kovs-controller.stderr >&2; return 1; }
    kovs_register "$OVS_RUNDIR" state
    # Asked to exit, it frees everything, so that a build with
    # AddressSanitizer checks it for leaks; killed if it does not.
    kovs_on_exit "KOVS_WAIT=5 kovs_stop; kill_pidfile '$PWD/kovs-controller.pid'"
}

# kovs_register RUNDIR SOURCE: records that a kovs-controller runs with its
# control socket in RUNDIR, reading SOURCE ("state" for a state file, "api"
# for the fake API server), so that kovs_check_recompute_all checks it when
# the test ends.
kovs_register () {
    grep -qx "$1 $2" "$PWD/kovs-controllers" 2>/dev/null ||
        echo "$1 $2" >> "$PWD/kovs-controllers"
}

# kovs_check_recompute RUNDIR [FILE]: runs check-recompute [FILE] on the
# kovs-controller of RUNDIR, asking again while it answers that it is busy
# (a change still being computed or installed), for up to KOVS_WAIT
# seconds.  Prints the differences, if any, and then fails.
kovs_check_recompute () {
    local rundir=$1 file=${2:-} out
    local deadline=$(( $(date +%s) + ${KOVS_WAIT:-15} ))
    while :; do
        if out=$(OVS_RUNDIR=$rundir ovs-appctl -t kovs-controller \
                     check-recompute ${file:+"$file"} 2>&1); then
            return 0
        fi
        case $out in
        busy:*)
            if [ "$(date +%s)" -ge "$deadline" ]; then
                echo "check-recompute in $rundir: still $out"
                return 1
            fi
            sleep 0.1
            ;;
        *)
            echo "check-recompute${file:+ $file} in $rundir:"
            echo "$out"
            return 1
            ;;
        esac
    done
}

# kovs_check_recompute_all: checks every kovs-controller that the test
# started and that still runs (kovs_register) with kovs_check_recompute:
# the ones that read a state file against that file, the ones that read
# the fake API server against its objects fetched over its API (see
# api_dump_objects).  A controller that the test stopped is not checked;
# one that died is a failure.  Prints nothing if all is well.
kovs_check_recompute_all () {
    local rundir source file status=0 api_rv=
    [ -f "$PWD/kovs-controllers" ] || return 0
    while read -r rundir source; do
        [ -f "$rundir/kovs-controller.pid" ] || continue
        if ! kill -0 "$(cat "$rundir/kovs-controller.pid")" 2>/dev/null; then
            echo "kovs-controller in $rundir is not running"
            status=1
            continue
        fi
        file=
        if [ "$source" = api ]; then
            if [ -z "$api_rv" ]; then
                if ! api_rv=$(api_dump_objects "$PWD/api-objects.json")
                then
                    echo "cannot fetch the fake API server's objects"
                    return 1
                fi
            fi
            file=$PWD/api-objects.json
            if ! (OVS_RUNDIR=$rundir; export OVS_RUNDIR
                  kovs_wait_until kovs_api_caught_up "$api_rv"); then
                echo "kovs-controller in $rundir never reached" \
                     "resourceVersion $api_rv"
                status=1
                continue
            fi
        fi
        kovs_check_recompute "$rundir" $file || status=1
    done < "$PWD/kovs-controllers"
    return $status
}

# kovs_stop: stops kovs-controller.
kovs_stop () {
    ovs-appctl -t kovs-controller exit 2>/dev/null
    kovs_wait_until sh -c '! kill -0 $(cat kovs-controller.pid 2>/dev/null) 2>/dev/null'
    rm -f kovs-controller.pid
}

# kovs_status_field NAME: prints one field of the status command.
kovs_status_field () {
    ovs-appctl -t kovs-controller status | sed -n "s/^$1: //p"
}

# kovs_in_sync: true when the switch has exactly what kovs wants and no
# bundle is in flight.
kovs_in_sync () {
    local status
    status=$(ovs-appctl -t kovs-controller status 2>/dev/null) || return 1
    local desired installed
    desired=$(echo "$status" | sed -n 's/^desired flows: //p')
    installed=$(echo "$status" | sed -n 's/^installed flows: //p')
    [ -n "$desired" ] && [ "$desired" = "$installed" ] &&
        [ "$desired" -gt 0 ] &&
        echo "$status" | grep -q '^switch: connected' &&
        ! echo "$status" | grep -q 'in flight'
}

# kovs_wait_sync: waits for kovs_in_sync, after the state file's changes
# have been read (reads counter moved past $1 if given).
kovs_wait_sync () {
    if [ $# -gt 0 ]; then
        kovs_wait_until sh -c "[ \$(ovs-appctl -t kovs-controller status | sed -n 's/^state file: .* (\([0-9]*\) reads)/\1/p') -gt $1 ]" ||
            return 1
    fi
    kovs_wait_until kovs_in_sync
}

# kovs_reads: the number of state-file reads so far.
kovs_reads () {
    ovs-appctl -t kovs-controller status |
        sed -n 's/^state file: .* (\([0-9]*\) reads)/\1/p'
}

# dump_flows [BRIDGE] [SPEC]: br-int's flows without statistics, sorted.
dump_flows () {
    ovs-ofctl -O OpenFlow15 --no-stats dump-flows "${1:-br-int}" ${2:+"$2"} |
        sed -e 's/ *reset_counts//' | sort
}

# flows_same_as FILE: true if br-int's flows are those saved in FILE by
# dump_flows.
flows_same_as () {
    dump_flows > flows.now 2>/dev/null && cmp -s "$1" flows.now
}

# ofport NAME: the OpenFlow port number of interface NAME.
ofport () {
    ovs-vsctl get Interface "$1" ofport
}

# State-file generators.  Each prints one object; k8s_list wraps objects
# into a List.  Write the result with write_state for an atomic update.
# k8s_node NAME INTERNAL-IP POD-CIDR: POD-CIDR is one prefix or, on a
# dual-stack node, one per family, comma-separated (spec.podCIDR is the
# first); so is INTERNAL-IP, one InternalIP address each.
k8s_node () {
    local addrs="" ip
    for ip in $(echo "$2" | tr , ' '); do
        addrs="$addrs{\"type\":\"InternalIP\",\"address\":\"$ip\"},"
    done
    printf '{"apiVersion":"v1","kind":"Node","metadata":{"name":"%s"},"spec":{"podCIDR":"%s","podCIDRs":%s},"status":{"addresses":[%s{"type":"Hostname","address":"%s"}]}}' \
        "$1" "${3%%,*}" "$(IFS=,; json_strings $3)" "$addrs" "$1"
}

k8s_namespace () {   # NAME [LABELS-JSON [ANNOTATIONS-JSON]]
    printf '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"%s","labels":%s,"annotations":%s}}' \
        "$1" "${2:-{\}}" "${3:-{\}}"
}

# k8s_pod NAMESPACE NAME NODE IP [LABELS-JSON]: IP is one address or, for
# a dual-stack pod, one per family, comma-separated (status.podIP is the
# first).
k8s_pod () {
    local ips="" ip sep=""
    for ip in $(echo "$4" | tr , ' '); do
        ips="$ips$sep{\"ip\":\"$ip\"}"
        sep=,
    done
    printf '{"apiVersion":"v1","kind":"Pod","metadata":{"namespace":"%s","name":"%s","labels":%s},"spec":{"nodeName":"%s","containers":[{"name":"c","image":"x","ports":[{"name":"http","containerPort":80}]}]},"status":{"phase":"Running","podIP":"%s","podIPs":[%s]}}' \
        "$1" "$2" "${5:-{\}}" "$3" "${4%%,*}" "$ips"
}

k8s_pod_pending () {   # NAMESPACE NAME NODE [LABELS-JSON]
    # A Pod as it is when the CNI plugin plugs it: scheduled, without
    # addresses yet (the kubelet reports them after ADD).
    printf '{"apiVersion":"v1","kind":"Pod","metadata":{"namespace":"%s","name":"%s","labels":%s},"spec":{"nodeName":"%s","containers":[{"name":"c","image":"x","ports":[{"name":"http","containerPort":80}]}]},"status":{"phase":"Pending"}}' \
        "$1" "$2" "${4:-{\}}" "$3"
}

# ports_json KIND SPEC: a JSON list of ports from a compact SPEC of
# comma-separated entries.  KIND "service":
# NAME:PORT:TARGET[:PROTOCOL[:NODEPORT]]; KIND "slice": NAME:PORT[:PROTOCOL].
# (Test files are m4: JSON lists would lose their brackets there, hence
# this.)
ports_json () {
    local kind=$1 sep="" entry name port target proto IFS_save=$IFS
    printf '['
    IFS=,
    for entry in $2; do
        IFS=:
        set -- $entry
        IFS=,
        name=$1 port=$2
        if [ "$kind" = service ]; then
            target=$3 proto=${4:-TCP}
            printf '%s{"name":"%s","port":%s,"targetPort":%s,"protocol":"%s"%s}' \
                "$sep" "$name" "$port" "$target" "$proto" \
                "${5:+,\"nodePort\":$5}"
        else
            proto=${3:-TCP}
            printf '%s{"name":"%s","port":%s,"protocol":"%s"}' \
                "$sep" "$name" "$port" "$proto"
        fi
        sep=","
    done
    IFS=$IFS_save
    printf ']'
}

# k8s_service NAMESPACE NAME CLUSTER-IP PORTS [EXTRA-SPEC-MEMBERS]: PORTS as
# for ports_json service; EXTRA-SPEC-MEMBERS are JSON members added to spec,
# e.g. '"sessionAffinity":"ClientIP"'.  CLUSTER-IP is one address or, for a
# dual-stack Service, one per family, comma-separated (spec.clusterIP is
# the first).
k8s_service () {
    printf '{"apiVersion":"v1","kind":"Service","metadata":{"namespace":"%s","name":"%s"},"spec":{"type":"ClusterIP","clusterIP":"%s","clusterIPs":%s,"ports":%s%s}}' \
        "$1" "$2" "${3%%,*}" "$(IFS=,; json_strings $3)" \
        "$(ports_json service "$4")" "${5:+,$5}"
}

# k8s_service_ext NAMESPACE NAME TYPE CLUSTER-IP PORTS [EXTRA-SPEC-MEMBERS
# [STATUS]]: a Service of TYPE (NodePort, LoadBalancer); CLUSTER-IP is one
# address or, for a dual-stack Service, one per family, comma-separated;
# PORTS as for ports_json service, usually with nodePorts; STATUS is the
# JSON of its status.
k8s_service_ext () {
    printf '{"apiVersion":"v1","kind":"Service","metadata":{"namespace":"%s","name":"%s"},"spec":{"type":"%s","clusterIP":"%s","clusterIPs":%s,"ports":%s%s},"status":%s}' \
        "$1" "$2" "$3" "${4%%,*}" "$(IFS=,; json_strings $4)" \
        "$(ports_json service "$5")" "${6:+,$6}" "${7:-{\}}"
}

# json_strings WORD...: a JSON list of the WORDs as strings.
json_strings () {
    local sep=""
    printf '['
    for w in "$@"; do
        printf '%s"%s"' "$sep" "$w"
        sep=","
    done
    printf ']'
}

# k8s_slice NAMESPACE NAME SERVICE PORTS ENDPOINT...: an EndpointSlice;
# PORTS as for ports_json slice; each ENDPOINT is
# "IP[,NODE[,CONDITIONS-JSON]]".  The slice's addressType is IPv6 if the
# first endpoint's address is, else IPv4.
k8s_slice () {
    local ns=$1 name=$2 svc=$3 ports=$4 sep="" ep ip node cond type=IPv4
    shift 4
    case ${1%%,*} in *:*) type=IPv6 ;; esac
    printf '{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"namespace":"%s","name":"%s","labels":{"kubernetes.io/service-name":"%s"}},"addressType":"%s","ports":%s,"endpoints":[' \
        "$ns" "$name" "$svc" "$type" "$(ports_json slice "$ports")"
    for ep in "$@"; do
        ip=${ep%%,*}
        node=""
        cond='{"ready":true}'
        case $ep in
        *,*,*) node=${ep#*,}; node=${node%%,*}; cond=${ep#*,*,} ;;
        *,*) node=${ep#*,} ;;
        esac
        printf '%s{"addresses":["%s"],"conditions":%s%s}' "$sep" "$ip" \
            "$cond" "${node:+,\"nodeName\":\"$node\"}"
        sep=","
    done
    printf ']}'
}

k8s_list () {
    local sep=""
    printf '{"apiVersion":"v1","kind":"List","items":['
    for obj in "$@"; do
        printf '%s%s' "$sep" "$obj"
        sep=","
    done
    printf '],"metadata":{"resourceVersion":""}}\n'
}

# write_state FILE OBJ...: replaces FILE atomically with a List of OBJs.
write_state () {
    local file=$1
    shift
    k8s_list "$@" > "$file.tmp" && mv "$file.tmp" "$file"
}

# The switch's flows and groups in 'ovs-ofctl bundle' syntax.
dump_bundle () {
    ovs-ofctl -O OpenFlow15 dump-groups br-int |
        sed -n 's/^ *\(group_id=.*\)/group add \1/p'
    ovs-ofctl -O OpenFlow15 --no-stats dump-flows br-int |
        sed -n 's/ reset_counts,/ /; s/, reset_counts / /; s/^ *\(cookie=.*\)/flow add \1/p'
}

# br-int's ports as a kovs-ctl ports file (and kovs-gw0's port on stdout).
ports_file () {
    ovs-vsctl --format=json --columns=name,ofport,external_ids \
        list Interface | python3 -c '
import json, sys
doc = json.load(sys.stdin)
out = open(sys.argv[1], "w")
for name, ofport, ids in doc["data"]:
    ids = dict(ids[1])
    if name == "kovs-gw0":
        print(ofport)
    elif "iface-id" in ids and "attached-mac" in ids:
        out.write("%s %d %s\n" % (ids["iface-id"], ofport, ids["attached-mac"]))
    elif "kovs-node" in ids:
        out.write("%s %d\n" % (ids["kovs-node"], ofport))
' "$1"
}

# Flows and groups as one normalized line each, sorted, for comparisons
# (ovs-ofctl leaves out "table=0").
normalize_flows () {
    sed -e 's/^flow add //; s/ reset_counts,/ /; s/, reset_counts / /' \
        -e 's/^ *//; s/, table=0,/,/' | sort
}

# write_state_many_services FILE N: writes to FILE the state of
# KOVS_SANDBOX_TWO_NODES plus node n3 (10.244.3.0/24) and N Services
# ns-K/svc-I (100 namespaces ns-K, ClusterIPs in 10.96.0.0/12, ports 80
# and 8080/UDP), each with an EndpointSlice of two endpoints, on n2 and
# n3, and pod default/a for every tenth: a cluster whose first install is
# a bundle of several megabytes.
write_state_many_services () {
    python3 - "$1" "$2" <<'PYEOF'
import json, sys
path, n = sys.argv[1], int(sys.argv[2])
def node(name, ip, cidr):
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name},
            "spec": {"podCIDR": cidr, "podCIDRs": [cidr]},
            "status": {"addresses": [{"type": "InternalIP", "address": ip}]}}
def namespace(name):
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name}}
def pod(name, node, ip):
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"namespace": "default", "name": name, "labels": {}},
            "spec": {"nodeName": node, "containers": [
                {"name": "c", "image": "x",
                 "ports": [{"name": "http", "containerPort": 80}]}]},
            "status": {"phase": "Running", "podIP": ip,
                       "podIPs": [{"ip": ip}]}}
items = [node("n1", "198.18.0.11", "10.244.1.0/24"),
         node("n2", "198.18.0.12", "10.244.2.0/24"),
         node("n3", "198.18.0.13", "10.244.3.0/24"),
         namespace("default"),
         pod("a", "n1", "10.244.1.10"), pod("b", "n1", "10.244.1.11"),
         pod("c", "n2", "10.244.2.10")]
items += [namespace("ns-%d" % k) for k in range(100)]
ports = [("http", 80, "TCP"), ("dns", 8080, "UDP")]
for i in range(n):
    ns, name = "ns-%d" % (i % 100), "svc-%d" % i
    ip = "10.96.%d.%d" % (i // 250, i % 250 + 1)
    endpoints = [("10.244.2.%d" % (i % 250 + 1), "n2"),
                 ("10.244.3.%d" % (i // 250 + 1), "n3")]
    if i % 10 == 0:
        endpoints.append(("10.244.1.10", "n1"))
    items.append({"apiVersion": "v1", "kind": "Service",
                  "metadata": {"namespace": ns, "name": name},
                  "spec": {"type": "ClusterIP", "clusterIP": ip,
                           "clusterIPs": [ip],
                           "ports": [{"name": pn, "port": pp,
                                      "targetPort": pp, "protocol": pr}
                                     for pn, pp, pr in ports]}})
    items.append({"apiVersion": "discovery.k8s.io/v1",
                  "kind": "EndpointSlice",
                  "metadata": {"namespace": ns, "name": name + "-1",
                               "labels": {"kubernetes.io/service-name":
                                          name}},
                  "addressType": "IPv4",
                  "ports": [{"name": pn, "port": pp, "protocol": pr}
                            for pn, pp, pr in ports],
                  "endpoints": [{"addresses": [a], "nodeName": node,
                                 "conditions": {"ready": True}}
                                for a, node in endpoints]})
with open(path + ".tmp", "w") as f:
    json.dump({"apiVersion": "v1", "kind": "List", "items": items,
               "metadata": {"resourceVersion": ""}}, f)
PYEOF
    mv "$1.tmp" "$1"
}

# trace FLOW: ofproto/trace of FLOW through br-int, kept in trace.out so a
# failing test shows it.
trace () {
    ovs-appctl ofproto/trace br-int "$1" > trace.out 2>&1
    local status=$?
    cat trace.out >> traces.log
    return $status
}

# trace_packet FLOW HEX: ofproto/trace through br-int of the packet HEX
# (an Ethernet frame in hex, see udp_packet_hex) with metadata FLOW
# ("in_port=p1"), kept in trace.out as by trace.
trace_packet () {
    ovs-appctl ofproto/trace br-int "$1" "$2" > trace.out 2>&1
    local status=$?
    cat trace.out >> traces.log
    return $status
}

# trace_output FLOW: the OpenFlow ports the packet leaves through, one per
# line ("drop" if none).
trace_output () {
    trace "$1" || return 1
    if grep -q '^Datapath actions: drop' trace.out; then
        echo drop
    else
        sed -n 's/.*-> output port is \([0-9]*\).*/\1/p; s/^ *IN_PORT$/in_port/p' \
            trace.out
    fi
}

# trace_final_field FLOW FIELD: the value of FIELD in the trace's final
# flow (after the last recirculation, when conntrack recirculates).
trace_final_field () {
    trace "$1" || return 1
    sed -n "s/^Final flow: .*[,:]$2=\([^,]*\).*/\1/p" trace.out | tail -1
}

# Cluster tests (with tests/cluster-lib.sh): kovs-controller on each node of
# a netns cluster, all reading the test's state.json.

# cluster_kovs_start NODE [OPTION...]: starts kovs-controller in NODE's
# namespace, in the cluster's tunnel mode (CL_TUNNEL, see cl_tunnel in
# tests/cluster-lib.sh) and, if CL_TUNNEL_PORTS is set (per-node or flow),
# with that --tunnel-ports except in routed mode, which has no tunnel
# ports; routed mode adds --external-bridge=br-ex, which it needs, unless
# OPTIONs have it.
cluster_kovs_start () {
    local node=$1 tunnel ex= ports=
    shift
    tunnel=$(cl_tunnel) || return 1
    case "$tunnel $*" in
        *--external-bridge*) ;;
        none*) ex=--external-bridge=br-ex ;;
    esac
    if [ -n "${CL_TUNNEL_PORTS:-}" ] && [ "$tunnel" != none ]; then
        ports=--tunnel-ports=$CL_TUNNEL_PORTS
    fi
    cl_node_exec "$node" kovs-controller --detach --no-chdir --pidfile \
        -vconsole:off --log-file --node-name="$node" \
        --k8s-state="$PWD/state.json" --datapath-type=netdev \
        --cluster-cidr=10.244.0.0/16 --service-cidr=10.96.0.0/12 \
        --tunnel-type="$tunnel" $ex \
        $ports \
        --cni-conf-dir="$CL_WORKDIR/$node/net.d" -vofctrl:file:dbg "$@" &&
        kovs_register "$CL_WORKDIR/$node" state
}

# cluster_kovs_restart NODE [OPTION...]: stops NODE's kovs-controller and
# starts it again with OPTIONs (see cluster_kovs_start).
cluster_kovs_restart () {
    local node=$1 pid
    shift
    pid=$(cat "$CL_WORKDIR/$node/kovs-controller.pid") || return 1
    cl_node_exec "$node" ovs-appctl -t kovs-controller exit || return 1
    cl_wait_until 10 sh -c "! kill -0 $pid 2>/dev/null" || return 1
    cluster_kovs_start "$node" "$@"
}

# cluster_brex_has_ipv6 NODE ADDRESS/LEN: true once NODE's kovs-controller
# took ADDRESS/LEN as br-ex's node IPv6 address (its status says so).
cluster_brex_has_ipv6 () {
    cl_node_exec "$1" ovs-appctl -t kovs-controller status |
        grep -q "node IPv6 address $2,"
}

# cluster_wait_sync NODE [READS]: kovs_wait_sync for NODE's controller.
cluster_wait_sync () {
    (
        OVS_RUNDIR=$CL_WORKDIR/$1
        export OVS_RUNDIR
        shift
        kovs_wait_sync "$@"
    )
}

# cluster_reads NODE: kovs_reads for NODE's controller.
cluster_reads () {
    (OVS_RUNDIR=$CL_WORKDIR/$1; export OVS_RUNDIR; kovs_reads)
}

# cluster_write_state OBJ...: write_state for state.json, then waits until
# every node's controller has read it and its switch is in sync.
cluster_write_state () {
    local node reads_n1 reads_n2
    reads_n1=$(cluster_reads n1)
    reads_n2=$(cluster_reads n2)
    write_state state.json "$@" &&
        cluster_wait_sync n1 "$reads_n1" && cluster_wait_sync n2 "$reads_n2"
}

# cluster_http_matrix WHO...: fetches http://<ip>:80/ from every WHO to
# every other WHO; prints "FROM -> TO ok" when the answer names TO.
cluster_http_matrix () {
    local from to body
    for from in "$@"; do
        for to in "$@"; do
            [ "$from" = "$to" ] && continue
            body=$(cl_http_get "$from" "http://$(cl_ip "$to"):80/" 2>/dev/null)
            if [ "$body" = "${to#*/}" ]; then
                echo "$from -> $to ok"
            else
                echo "$from -> $to fail"
            fi
        done
    done
}

# expected_matrix RESULT WHO...: prints the matrix of cluster_*_matrix with
# every pair RESULT.
expected_matrix () {
    local result=$1 from to
    shift
    for from in "$@"; do
        for to in "$@"; do
            [ "$from" = "$to" ] || echo "$from -> $to $result"
        done
    done
}

# cluster_has_tunnel NODE PEER: true if NODE's br-int has a tunnel port to
# PEER; cluster_has_no_tunnel is its negation, for waiting.
cluster_has_tunnel () {
    cl_node_exec "$1" ovs-vsctl --bare --columns=name find interface \
        external_ids:kovs-node="$2" | grep -q .
}
cluster_has_no_tunnel () {
    ! cluster_has_tunnel "$@"
}

# udp_state FROM IP PORT [SPORT]: sends one datagram from FROM (see
# cl_exec), from source port SPORT if given, to IP:PORT (IPv4 or IPv6) on
# a connected socket and prints "answered NAME", "refused" (an ICMP port unreachable
# came back) or "timeout" (nothing in 2 s).
udp_state () {
    cl_exec "$1" python3 -I -S -c '
import socket, sys
ipv6 = ":" in sys.argv[1]
s = socket.socket(socket.AF_INET6 if ipv6 else socket.AF_INET,
                  socket.SOCK_DGRAM)
s.settimeout(2)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::" if ipv6 else "0.0.0.0", int(sys.argv[3])))
s.connect((sys.argv[1], int(sys.argv[2])))
try:
    s.send(b"hello")
    print("answered " + s.recv(2048).decode().strip())
except ConnectionRefusedError:
    print("refused")
except socket.timeout:
    print("timeout")
' "$2" "$3" "${4:-0}"
}

# udp_spread FROM IP PORT N: sends a datagram from FROM (see cl_exec) to
# IP:PORT on each of N new sockets, so each from a new source port (each
# retried up to 3 times, 1 s apart, on its own socket), and prints how many
# each server answered, "NAME COUNT" sorted by name, and "none COUNT" for
# the sockets that got no answer.
udp_spread () {
    cl_exec "$1" python3 -I -S -c '
import collections, socket, sys
ip, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
counts = collections.Counter()
for _ in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1)
    s.connect((ip, port))
    name = "none"
    for _ in range(3):
        try:
            s.send(b"hello")
            name = s.recv(2048).decode().strip()
            break
        except OSError:
            pass
    s.close()
    counts[name] += 1
for name in sorted(counts):
    print(name, counts[name])
' "$2" "$3" "$4"
}

# http_names FROM URL COUNT: fetches URL COUNT times from FROM (new
# connection each time) and prints the distinct answers, sorted.
http_names () {
    local i
    for i in $(seq "$3"); do
        cl_http_get "$1" "$2" 2>/dev/null
    done | sort -u
}

# line_serve WHO PORT: a TCP server in WHO that answers every line it reads
# with WHO's pod name, on every connection, until stopped.
line_serve () {
    cl_bg "$1" "line-$(echo "$1" | tr / _)-$2" python3 -I -S -c '
import socket, sys, threading
name = sys.argv[2]
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("0.0.0.0", int(sys.argv[1])))
srv.listen(16)
def serve(c):
    f = c.makefile("rwb", buffering=0)
    for line in f:
        f.write(name.encode() + b"\n")
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
' "$2" "${1#*/}"
    cl_wait_until 5 cl_exec "$1" sh -c "ss -ltn | grep -q ':$2 '"
}

# tcp_session_start FROM IP PORT TAG: one long-lived TCP connection from FROM
# to IP:PORT that sends a line every 0.2 s and logs each answer (the
# server's name) to the file TAG.log in the current directory, or "closed"
# when the connection breaks.
tcp_session_start () {
    cl_bg "$1" "$4" python3 -I -S -c '
import socket, sys, time
log = open(sys.argv[3], "a", buffering=1)
try:
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
    f = s.makefile("rwb", buffering=0)
    while True:
        f.write(b"ping\n")
        line = f.readline()
        if not line:
            break
        log.write(line.decode())
        time.sleep(0.2)
except OSError as e:
    log.write("error %s\n" % e)
log.write("closed\n")
' "$2" "$3" "$PWD/$4.log"
}

# tcp_session_answers TAG: the number of answers logged so far.
tcp_session_answers () {
    grep -vc -e closed -e error "$1.log" 2>/dev/null || echo 0
}

# line_once FROM IP PORT: one short TCP connection from FROM to IP:PORT that
# sends one line and prints the answer (the server's name).
line_once () {
    cl_exec "$1" python3 -I -S -c '
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
s.sendall(b"ping\n")
print(s.makefile("rb").readline().decode().strip())
' "$2" "$3"
}

# The Python that builds test frames: Ethernet addresses and the Internet
# checksum, for the *_hex functions below.
_sandbox_py_frames='
import socket, struct, sys
def mac(s):
    return bytes(int(x, 16) for x in s.split(":"))
def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
'

# udp_packet_hex SRC-MAC DST-MAC SRC-IP DST-IP SPORT DPORT SIZE [DF]: the
# hex of an Ethernet frame carrying a UDP datagram from SRC-IP to DST-IP
# (both IPv4 or both IPv6) whose IP packet is SIZE bytes long, with valid
# checksums; an IPv4 one has DF set if DF is "df".  For
# "netdev-dummy/receive PORT HEX", whose flow syntax can neither set DF
# nor make a packet this large.
udp_packet_hex () {
    python3 -I -S -c "$_sandbox_py_frames"'
smac, dmac, src, dst, sport, dport, size = sys.argv[1:8]
df = len(sys.argv) > 8 and sys.argv[8] == "df"
sport, dport, size = int(sport), int(dport), int(size)
v6 = ":" in src
fam = socket.AF_INET6 if v6 else socket.AF_INET
s, d = socket.inet_pton(fam, src), socket.inet_pton(fam, dst)
ip_len = 40 if v6 else 20
udp_len = size - ip_len
payload = bytes(i % 256 for i in range(udp_len - 8))
udp = struct.pack("!HHHH", sport, dport, udp_len, 0) + payload
pseudo = s + d + (struct.pack("!IxxxB", udp_len, 17) if v6
                  else struct.pack("!xBH", 17, udp_len))
udp = udp[:6] + struct.pack("!H", csum(pseudo + udp) or 0xffff) + udp[8:]
if v6:
    ip = struct.pack("!IHBB", 6 << 28, udp_len, 17, 64) + s + d
    ethertype = 0x86dd
else:
    ip = struct.pack("!BBHHHBBH", 0x45, 0, size, 0x1234,
                     0x4000 if df else 0, 64, 17, 0) + s + d
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    ethertype = 0x0800
frame = mac(dmac) + mac(smac) + struct.pack("!H", ethertype) + ip + udp
print(frame.hex())
' "$@"
}

# icmp6_error_hex SRC-MAC DST-MAC SRC-IP DST-IP TYPE CODE WORD QSRC QDST
#                 QPROTO QSPORT QDPORT: the hex of an Ethernet frame carrying
# an ICMPv6 error (TYPE, CODE, WORD the second 32-bit word of its header,
# the MTU of a "packet too big") from SRC-IP to DST-IP, quoting a whole
# packet from QSRC to QDST: a 200-byte UDP datagram (QPROTO udp) or a TCP
# SYN (tcp) between ports QSPORT and QDPORT, with valid checksums.
icmp6_error_hex () {
    python3 -I -S -c "$_sandbox_py_frames"'
(smac, dmac, src, dst, typ, code, word, qsrc, qdst, qproto, qsport,
 qdport) = sys.argv[1:13]
def a6(s):
    return socket.inet_pton(socket.AF_INET6, s)
def ip6(s, d, proto, l4, csum_ofs):
    pseudo = a6(s) + a6(d) + struct.pack("!IxxxB", len(l4), proto)
    l4 = (l4[:csum_ofs] + struct.pack("!H", csum(pseudo + l4) or 0xffff)
          + l4[csum_ofs + 2:])
    return struct.pack("!IHBB", 6 << 28, len(l4), proto, 64) + a6(s) + a6(d) + l4
sport, dport = int(qsport), int(qdport)
if qproto == "udp":
    l4 = struct.pack("!HHHH", sport, dport, 160, 0) + bytes(152)
    quoted = ip6(qsrc, qdst, 17, l4, 6)
else:
    l4 = struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 5 << 4, 2, 65535, 0, 0)
    quoted = ip6(qsrc, qdst, 6, l4, 16)
icmp = struct.pack("!BBHI", int(typ), int(code), 0, int(word)) + quoted
frame = mac(dmac) + mac(smac) + b"\x86\xdd" + ip6(src, dst, 58, icmp, 2)
print(frame.hex())
' "$@"
}

# icmp_error_summary PCAP: one line per ICMP or ICMPv6 error in PCAP: its
# addresses, type, code, the MTU field (of "fragmentation needed" and
# "packet too big"), its IP length, and the addresses, ports and length of
# the UDP or TCP packet it quotes.
icmp_error_summary () {
    python3 -I -S -c '
import socket, struct, sys
def addr(b):
    return socket.inet_ntop(socket.AF_INET6 if len(b) == 16 else
                            socket.AF_INET, b)
def ip_header(p):
    if p[0] >> 4 == 6:
        return p[6], 40, addr(p[8:24]), addr(p[24:40]), 40 + struct.unpack("!H", p[4:6])[0]
    ihl = (p[0] & 15) * 4
    return p[9], ihl, addr(p[12:16]), addr(p[16:20]), struct.unpack("!H", p[2:4])[0]
data = open(sys.argv[1], "rb").read()
ofs = 24
while ofs + 16 <= len(data):
    caplen = struct.unpack("<I", data[ofs + 8:ofs + 12])[0]
    frame = data[ofs + 16:ofs + 16 + caplen]
    ofs += 16 + caplen
    ethertype = struct.unpack("!H", frame[12:14])[0]
    if ethertype not in (0x0800, 0x86dd):
        continue
    p = frame[14:]
    proto, hlen, src, dst, length = ip_header(p)
    if proto not in (1, 58):
        continue
    icmp = p[hlen:]
    mtu = (struct.unpack("!H", icmp[6:8])[0] if proto == 1
           else struct.unpack("!I", icmp[4:8])[0])
    q = icmp[8:]
    qproto, qhlen, qsrc, qdst, qlen = ip_header(q)
    sport, dport = struct.unpack("!HH", q[qhlen:qhlen + 4])
    print("%s %s > %s type %d code %d mtu %d len %d quoting %s %s:%d > %s:%d "
          "len %d" % ("ICMP" if proto == 1 else "ICMPv6", src, dst, icmp[0],
                      icmp[1], mtu, length,
                      {6: "TCP", 17: "UDP"}.get(qproto, str(qproto)),
                      qsrc, sport, qdst, dport, qlen))
' "$1"
}
