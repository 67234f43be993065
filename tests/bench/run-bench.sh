#! /bin/bash
# Copyright (c) 2026 The kovs authors.
#
# Licensed under the Apache License, Version 2.0.
#
# The kovs scale benchmark.
#
#     tests/bench/run-bench.sh [-o FILE] [--dual-stack] [--apiserver]
#                              [--tunnel-ports=per-node|flow]
#                              [small|medium|large|all|huge]...
#
# (default: small and medium; 'all' is small, medium and large: huge, 5,000
# nodes and 150,000 pods, the largest cluster Kubernetes supports, runs
# only when named: with the defaults it takes about 40 minutes with
# per-node tunnel ports, 15 with --tunnel-ports=flow; KOVS_BENCH_RUNS=1
# and a few changes of each kind make that 15 to 20 and 5).  With --tunnel-ports=flow, kovs-controller
# and kovs-ctl use one flow-based tunnel port for all peers instead of one
# per peer (kovs-controller --tunnel-ports).  With --dual-stack, the clusters have both
# families (gen-cluster.py --dual-stack: every pod and Service also has an
# IPv6 address, every Service an IPv6 EndpointSlice) and the controller
# gets a cluster and a Service CIDR of each.  For each size it generates a synthetic
# cluster (tests/bench/gen-cluster.py), plays node-0 of it and measures, on
# this machine and in this run:
#
#   1. cold compute: 'kovs-ctl compute' from the state file to the desired
#      flows, no switch: CPU time (decode, compute), peak RSS and the heap
#      that the flows and each kind of object hold;
#   2. cold install: from kovs-controller's start to the barrier reply of a
#      fully installed br-int (every tunnel port made, every flow and group
#      installed) on a fresh 'ovs-vswitchd --enable-dummy', against
#      'ovs-ofctl -O OpenFlow15 bundle' installing the very same flows and
#      groups (dumped from the first run's switch) into a fresh ovs-vswitchd
#      with the same ports, in one atomic bundle; and against the fair
#      baseline, which also does kovs's OVSDB work: from the same switch
#      as kovs-controller starts on (br-int and the pods' ports, no
#      tunnels), one 'ovs-vsctl' transaction adding every tunnel port as
#      kovs makes them, then the same 'ovs-ofctl bundle'; and what the
#      tunnel ports cost the switch: ovsdb-server's and ovs-vswitchd's RSS
#      once installed, the time ovs-vsctl's transaction adding them takes
#      until ovs-vswitchd has them all, and the time a fresh ovsdb-server
#      and ovs-vswitchd take to start with them all (from the installed
#      database until every port is in ovs-vswitchd);
#   3. incremental: single-endpoint changes, pod label changes that
#      policies select on, policy edits, each written to the state file and
#      waited for (read, computed, installed): flow-mods and group-mods
#      sent, the controller's own install latency (bundle to barrier
#      reply), its computation time, and the wall time from the write to
#      the switch being in sync;
#   4. restart: kovs-controller restarted on the fully installed switch:
#      flow-mods sent and time to being in sync.
#
# With --apiserver, the cluster comes from the fake API server instead
# (tests/fake-apiserver.py: TLS, a bearer token, lists in pages of 500
# items, then watches with bookmarks), and for each size the benchmark
# measures, on a fresh switch like the cold install's:
#
#   a. kovs-controller's start (--kubeconfig) to the barrier reply of a
#      fully installed br-int, its CPU time and peak RSS then;
#   b. the server playing KOVS_BENCH_API_ENDPOINT_CHANGES (1000)
#      EndpointSlice changes, each removing one endpoint of a Service or
#      adding one back, then KOVS_BENCH_API_LABEL_CHANGES (100) pod label
#      changes that policies select on, each stream at
#      KOVS_BENCH_API_RATE (100) changes a second
#      (gen-cluster.py stream, fake-apiserver.py 'ctl play'): for each
#      change, the time from the server writing its watch event to the
#      first barrier reply that covers its resourceVersion (the
#      controller's sync_log debug lines); median, 99th percentile and
#      maximum per kind, and where the time went (the event on its way
#      to the controller's main loop, then receiving, decoding,
#      computing, putting, the bundle to its barrier reply, and the
#      rest).  A change that alters no flow is
#      covered when its computation finds nothing to send (and every
#      bundle sent before it is acknowledged);
#   c. the controller's CPU time per change of each stream (from
#      /proc/PID/stat; it includes bookmarks and the status polls), and
#      its peak RSS at the end.
#
# One table per size is appended to FILE.
#
# Cold compute, cold install, the baseline and restart run KOVS_BENCH_RUNS
# times (default 3) and report the median; incremental changes report the
# median (and 90th percentile, maximum) over the changes.  One markdown table
# per size is printed and written to FILE (default bench-results.md in the
# build directory); each measured number is also in the work directory's
# logs, kept with KOVS_BENCH_KEEP=1.
#
# Each change file is written with a modification time in the past: a fresh
# file is read a second time a second later (k8s/k8s-state.c), and each
# change is measured alone, without that second read.
#
# The binaries come from the build directory (KOVS_BUILDDIR, default
# _build): build first with 'make -C _build'.  The script uses a temporary
# directory under /tmp and stops every daemon it started, even when
# interrupted.  It needs ovsdb-server, ovs-vswitchd, ovs-vsctl, ovs-ofctl
# and ovs-appctl (Open vSwitch 3.1) and python3.
#
# Other knobs: KOVS_BENCH_SEED (default 1), KOVS_BENCH_ENDPOINT_CHANGES
# (100), KOVS_BENCH_LABEL_CHANGES (20), KOVS_BENCH_POLICY_CHANGES (10),
# KOVS_BENCH_TIMEOUT (seconds to wait for any one step, default 900),
# KOVS_BENCH_CONTROLLER_ARGS (more kovs-controller options, e.g. to log).

set -u

srcdir=$(cd "$(dirname "$0")/../.." && pwd)
builddir=${KOVS_BUILDDIR:-$srcdir/_build}
GEN=$srcdir/tests/bench/gen-cluster.py
KOVS_CTL=$builddir/utilities/kovs-ctl
KOVS_CONTROLLER=$builddir/controller/kovs-controller
RUNS=${KOVS_BENCH_RUNS:-3}
SEED=${KOVS_BENCH_SEED:-1}
N_ENDPOINT=${KOVS_BENCH_ENDPOINT_CHANGES:-100}
N_LABEL=${KOVS_BENCH_LABEL_CHANGES:-20}
N_POLICY=${KOVS_BENCH_POLICY_CHANGES:-10}
TIMEOUT=${KOVS_BENCH_TIMEOUT:-900}
NODE=node-0
CLUSTER_CIDR=10.244.0.0/14
SERVICE_CIDR=10.96.0.0/12
DUAL_STACK=
TUNNEL_PORTS=per-node
APISERVER=false
N_API_ENDPOINT=${KOVS_BENCH_API_ENDPOINT_CHANGES:-1000}
N_API_LABEL=${KOVS_BENCH_API_LABEL_CHANGES:-100}
API_RATE=${KOVS_BENCH_API_RATE:-100}
KUBECONFIG_FILE=

output=$builddir/bench-results.md
sizes=()
while [ $# -gt 0 ]; do
    case $1 in
    -o) output=$(realpath -m "$2"); shift 2 ;;
    -o*) output=$(realpath -m "${1#-o}"); shift ;;
    --dual-stack)
        DUAL_STACK=--dual-stack
        CLUSTER_CIDR=10.244.0.0/14,fd00:10::/32
        SERVICE_CIDR=10.96.0.0/12,fd00:10:96::/112
        shift ;;
    --apiserver) APISERVER=true; shift ;;
    --tunnel-ports=per-node|--tunnel-ports=flow)
        TUNNEL_PORTS=${1#--tunnel-ports=}; shift ;;
    -h|--help) sed -n '/^# The kovs/,/^$/s/^# \{0,1\}//p' "$0"; exit 0 ;;
    small|medium|large|huge) sizes+=("$1"); shift ;;
    all) sizes+=(small medium large); shift ;;
    *) echo "$0: unknown argument $1 (use --help)" >&2; exit 2 ;;
    esac
done
[ ${#sizes[@]} -gt 0 ] || sizes=(small medium)

for prog in "$KOVS_CTL" "$KOVS_CONTROLLER"; do
    if [ ! -x "$prog" ]; then
        echo "$0: $prog not found: build first (make -C $builddir)" >&2
        exit 1
    fi
done
for prog in ovsdb-tool ovsdb-server ovsdb-client ovs-vswitchd ovs-vsctl \
            ovs-ofctl ovs-appctl python3; do
    command -v $prog >/dev/null || { echo "$0: $prog not found" >&2; exit 1; }
done

. "$srcdir/tests/sandbox-lib.sh"
abs_top_srcdir=$srcdir
. "$srcdir/tests/apiserver-lib.sh"
KOVS_WAIT=$TIMEOUT

WORK=$(mktemp -d /tmp/kovs-bench.XXXXXX)
gen_pid=

# Run copies of the binaries, so that a rebuild during the run changes
# nothing.
mkdir -p "$WORK/bin"
cp -p "$KOVS_CTL" "$KOVS_CONTROLLER" "$WORK/bin/" || exit 1
KOVS_CTL=$WORK/bin/kovs-ctl
KOVS_CONTROLLER=$WORK/bin/kovs-controller

# Stops every daemon started from $WORK (each left its pidfile there), and
# the change generator.
cleanup () {
    local pidfile
    trap - EXIT INT TERM
    if [ -n "$gen_pid" ]; then
        kill "$gen_pid" 2>/dev/null
    fi
    for pidfile in $(find "$WORK" -name kovs-controller.pid) \
                   $(find "$WORK" -name fake-apiserver.pid) \
                   $(find "$WORK" -name ovs-vswitchd.pid) \
                   $(find "$WORK" -name ovsdb-server.pid); do
        kill_pidfile "$pidfile"
    done
    if [ "${KOVS_BENCH_KEEP:-0}" = 1 ]; then
        echo "work directory kept: $WORK" >&2
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'echo "interrupted" >&2; exit 130' INT TERM

log () {
    echo "[$(date +%T)] $*" >&2
}

die () {
    log "error: $*"
    exit 1
}

# Microseconds since the epoch, without forking.
now_us () {
    local t=$EPOCHREALTIME
    echo "${t/./}"
}

ms_between () {     # START-US END-US
    echo $(( ($2 - $1 + 500) / 1000 ))
}

# stats: reads numbers, one per line; prints "median p90 max" (median of an
# even count is the mean of the middle two, rounded).
stats () {
    sort -n | awk '{ v[NR] = $1 }
        END {
            if (!NR) { print "- - -"; exit }
            m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
            p = v[int((NR * 9 + 9) / 10)]
            printf "%s %s %s\n", fmt(m), fmt(p), fmt(v[NR])
        }
        function fmt(x) { return (x == int(x)) ? x : sprintf("%.1f", x) }'
}

median () {
    stats | cut -d' ' -f1
}

# Sandboxes: an ovsdb-server and ovs-vswitchd (dummy datapath, default log
# levels, so that logging costs nothing) in directory $1, which becomes
# the current directory and OVS_RUNDIR.  $2 is a database file to start
# from, or empty for a new one.
sandbox_up () {
    local dir=$1 db=${2:-}
    mkdir -p "$dir" && cd "$dir" || return 1
    sandbox_env
    if [ -n "$db" ]; then
        cp "$db" conf.db || return 1
    else
        ovsdb-tool create conf.db /usr/share/openvswitch/vswitch.ovsschema ||
            return 1
    fi
    ovsdb-server --detach --no-chdir --pidfile --log-file -vconsole:off \
        --remote=punix:"$PWD/db.sock" conf.db 2>>daemons.stderr || return 1
    [ -n "$db" ] || ovs-vsctl --no-wait init || return 1
    ovs-vswitchd --enable-dummy=override --disable-system --detach \
        --no-chdir --pidfile --log-file -vconsole:off 2>>daemons.stderr ||
        return 1
}

sandbox_down () {
    kill_pidfile "$PWD/kovs-controller.pid"
    kill_pidfile "$PWD/ovs-vswitchd.pid"
    kill_pidfile "$PWD/ovsdb-server.pid"
}

# The template switch of a size: br-int as kovs-controller configures it
# (from a start with an empty cluster: its datapath id, fail mode and
# gateway port kovs-gw0), with one dummy port per pod of node-0 as a CNI
# plugin plugs them; no tunnels.  Only the database is kept, so a switch
# started from it has no flows.
make_template () {
    local pods=$1 dir=$2 i=0 args=() key mac
    sandbox_up "$dir" || return 1
    echo '{"apiVersion":"v1","kind":"List","items":[]}' > empty.json
    STATE=$PWD/empty.json start_controller
    kovs_wait_until sh -c 'ovs-vsctl get bridge br-int \
        other_config:datapath-id >/dev/null 2>&1 &&
        ovs-vsctl get interface kovs-gw0 ofport >/dev/null 2>&1' ||
        return 1
    stop_controller
    # br-int as before any tunnel port, in either layout.
    ovs-vsctl --if-exists del-port br-int kovs-tun0 || return 1
    while read -r key mac; do
        args+=(-- add-port br-int "pod$i" -- set interface "pod$i" type=dummy
               "external_ids:iface-id=$key" "external_ids:attached-mac=$mac")
        i=$((i + 1))
        if [ ${#args[@]} -ge 800 ]; then
            ovs-vsctl "${args[@]}" || return 1
            args=()
        fi
    done < "$pods"
    if [ ${#args[@]} -gt 0 ]; then
        ovs-vsctl "${args[@]}" || return 1
    fi
    ovsdb-client backup unix:"$PWD/db.sock" > ../template.db || return 1
    sandbox_down
}

# Waits until br-int exists in ovs-vswitchd with at least $1 ports.
wait_ports () {
    kovs_wait_until sh -c "[ \$(ovs-ofctl -O OpenFlow15 dump-ports-desc \
        br-int 2>/dev/null | grep -c '^ *[0-9a-zA-Z-]*(') -ge $1 ]"
}

# status_read: reads kovs-controller's status into S_* variables; returns
# false if the controller does not answer.
status_read () {
    local out
    out=$(ovs-appctl -t kovs-controller status 2>/dev/null) || return 1
    eval "$(echo "$out" | awk -F': ' '
        /^state file:/ { s = $0; sub(/.*\(/, "", s); sub(/ reads\).*/, "", s)
                         print "S_READS=" s }
        $1 == "pod ports" { print "S_POD_PORTS=" $2 }
        $1 == "tunnel ports" { split($2, a, " ")
                               print "S_TUNNEL_PORTS=" a[1] }
        $1 == "tunnel peers" { print "S_TUNNEL_PEERS=" $2 }
        $1 == "desired flows" { print "S_DESIRED=" $2 }
        $1 == "installed flows" { print "S_INSTALLED=" $2 }
        $1 == "desired groups" { print "S_DESIRED_GROUPS=" $2 }
        $1 == "installed groups" { print "S_INSTALLED_GROUPS=" $2 }
        $1 == "switch" { print "S_CONNECTED=" ($2 == "connected") }
        $1 == "computations" { print "S_COMPUTATIONS=" $2 }
        $1 == "last computation" { split($2, a, " ")
                                   print "S_OWNERS=" a[1]
                                   print "S_COMPUTE_MS=" a[4] }
        $1 == "total flow-mods" { print "S_FLOW_MODS=" $2 }
        $1 == "total group-mods" { print "S_GROUP_MODS=" $2 }
        $1 == "bundles" { print "S_BUNDLES=" $2 }
        $1 == "full syncs" { print "S_FULL_SYNCS=" $2 }
        $1 == "install latency" { split($2, a, " ")
                                  print "S_LATENCY=" a[2]
                                  print "S_MAX_LATENCY=" a[5]
                                  print "S_IN_FLIGHT=" (index($0, "in flight") > 0) }')"
}

# True if the switch has what the controller wants and nothing is in
# flight.
status_in_sync () {
    [ "$S_CONNECTED" = 1 ] && [ "$S_IN_FLIGHT" = 0 ] &&
        [ "$S_DESIRED" -gt 0 ] && [ "$S_DESIRED" = "$S_INSTALLED" ] &&
        [ "$S_DESIRED_GROUPS" = "$S_INSTALLED_GROUPS" ]
}

controller_alive () {
    [ -f kovs-controller.pid ] && kill -0 "$(cat kovs-controller.pid)" 2>/dev/null
}

# wait_for CONDITION: polls the status every 10 ms until the shell function
# CONDITION (which reads S_*) is true.
wait_for () {
    local deadline=$(( $(date +%s) + TIMEOUT ))
    while :; do
        if status_read && "$1"; then
            return 0
        fi
        controller_alive || die "kovs-controller died; see $PWD/kovs-controller.log"
        [ "$(date +%s)" -lt "$deadline" ] ||
            die "timed out waiting for $1 in $PWD"
        sleep 0.01
    done
}

# The controller is fully installed: every peer has its tunnel (the
# shared flow-based one reaches them all), every pod
# its port, and the switch has all the flows and groups.
fully_installed () {
    [ "$S_TUNNEL_PEERS" = "$((N_NODES - 1))" ] &&
        [ "$S_TUNNEL_PORTS" = "$N_TUNNEL_PORTS" ] &&
        [ "$S_POD_PORTS" = "$N_LOCAL_PODS" ] && status_in_sync &&
        { [ -z "$EXPECT_FLOWS" ] || [ "$S_DESIRED" = "$EXPECT_FLOWS" ]; }
}

# Starts kovs-controller on the state file $STATE or, if KUBECONFIG_FILE is
# set, on the API server it names, with the sync log's debug lines.
start_controller () {
    local source=(--k8s-state="$STATE")
    if [ -n "$KUBECONFIG_FILE" ]; then
        source=(--kubeconfig="$KUBECONFIG_FILE" -vsync_log:file:dbg
                --metrics-address=off)
    fi
    api_env "$KOVS_CONTROLLER" --detach --no-chdir --pidfile --log-file \
        -vconsole:off --node-name=$NODE "${source[@]}" \
        --cluster-cidr=$CLUSTER_CIDR --service-cidr=$SERVICE_CIDR \
        --cni-conf-dir="$PWD/net.d" --tunnel-ports=$TUNNEL_PORTS \
        ${KOVS_BENCH_CONTROLLER_ARGS:-} 2>>daemons.stderr ||
        die "kovs-controller did not start"
}

stop_controller () {
    ovs-appctl -t kovs-controller exit >/dev/null 2>&1
    kovs_wait_until sh -c '! kill -0 $(cat kovs-controller.pid 2>/dev/null) 2>/dev/null' ||
        kill_pidfile "$PWD/kovs-controller.pid"
    rm -f kovs-controller.pid
}

# CPU time (ms) of process $1 so far, and its peak RSS (kB).
proc_cpu_ms () {
    awk -v hz="$(getconf CLK_TCK)" '{ print int(($14 + $15) * 1000 / hz) }' \
        "/proc/$1/stat"
}
proc_peak_rss_kb () {
    awk '$1 == "VmHWM:" { print $2 }' "/proc/$1/status"
}
proc_rss_kb () {
    awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status"
}

# The switch's tunnel ports (those kovs made, with external_ids:kovs-node,
# or the shared flow-based kovs-tun0)
# as 'ovs-vsctl' arguments, one per line, that add them all in one
# transaction.
tunnel_ports_vsctl () {
    ovs-vsctl --format=json --columns=name,type,options,external_ids \
        list Interface | python3 -c '
import json, sys
doc = json.load(sys.stdin)
for name, type_, options, ids in doc["data"]:
    ids = dict(ids[1])
    if "kovs-node" not in ids and name != "kovs-tun0":
        continue
    args = ["--", "add-port", "br-int", name, "--", "set", "interface", name,
            "type=" + type_]
    args += ["options:%s=%s" % tuple(kv) for kv in options[1]]
    args += ["external_ids:%s=\"%s\"" % kv for kv in ids.items()]
    print("\n".join(args))
'
}

# memory_parts FILE: the heap per part in FILE (what 'memory/show' printed),
# as "Pod 24.6 MB (833 B/object), ..., desired flows 87.1 MB (919 B/flow),
# ...".
memory_parts () {
    tr ' ' '\n' < "$1" | awk -F: '
        { v[$1] = $2 }
        END {
            n = split("Node Namespace Pod Service EndpointSlice NetworkPolicy", kinds, " ")
            for (i = 1; i <= n; i++) {
                part(kinds[i], v[kinds[i] "-bytes"], v[kinds[i]], "object")
            }
            part("desired flows", v["desired-flow-bytes"], v["desired-flows"], "flow")
            part("desired groups", v["desired-group-bytes"], v["desired-groups"], "group")
            part("installed flows", v["installed-flow-bytes"], v["installed-flows"], "flow")
            part("installed groups", v["installed-group-bytes"], v["installed-groups"], "group")
            print out
        }
        function part(name, bytes, n, unit) {
            out = out (out == "" ? "" : ", ") sprintf("%s %.1f MB", name, bytes / 1048576)
            if (n > 0) {
                out = out sprintf(" (%d B/%s)", bytes / n, unit)
            }
        }'
}

fmt_mb () {
    awk -v k="$1" 'BEGIN { printf "%.0f MB", k / 1024 }'
}

# Sets CLUSTER_CIDR for size $1: the huge size's 5,000 podCIDRs (/24) need
# a /11 (gen-cluster.py's POD_NET_OCTET).
size_cidrs () {
    local v4=10.244.0.0/14
    [ "$1" = huge ] && v4=10.128.0.0/11
    CLUSTER_CIDR=$v4${DUAL_STACK:+,fd00:10::/32}
}

# One size.
bench_size () {
    local size=$1 dir=$WORK/$size
    mkdir -p "$dir"
    local R=$dir/results
    : > "$R"

    log "$size: generating the cluster"
    STATE=$dir/state.json
    python3 "$GEN" --seed="$SEED" --local-pods="$dir/local-pods" $DUAL_STACK \
        "$size" "$STATE" || die "gen-cluster.py failed"
    N_LOCAL_PODS=$(wc -l < "$dir/local-pods")
    size_cidrs "$size"

    # 1. Cold compute.
    local i out
    for i in $(seq "$RUNS"); do
        log "$size: cold compute, run $i"
        out=$("$KOVS_CTL" compute --node=$NODE --all-local-ports \
              --cluster-cidr=$CLUSTER_CIDR --service-cidr=$SERVICE_CIDR \
              --tunnel-ports=$TUNNEL_PORTS \
              "$STATE") || die "kovs-ctl compute failed"
        echo "$out" > "$dir/compute.$i.out"
        echo "$out" | awk '
            /^decode:/ { print "decode_cpu " $2; print "decode_wall " $5 }
            /^compute:/ { print "compute_cpu " $2; print "compute_wall " $5 }
            /^total:/ { print "total_cpu " $2; print "total_wall " $5 }
            /^peak rss:/ { print "peak_rss " $3 }' >> "$R"
    done
    N_NODES=$(sed -n 's/^objects Node: //p' "$dir/compute.1.out")
    if [ "$TUNNEL_PORTS" = flow ]; then
        N_TUNNEL_PORTS=1
    else
        N_TUNNEL_PORTS=$((N_NODES - 1))
    fi
    local summary heap
    summary=$(awk '/^objects / { sub(/^objects /, ""); printf "%s%s", sep, $0; sep = ", " }' \
              "$dir/compute.1.out")
    # The heap that each part holds once computed (kovs-ctl frees them one
    # after the other): "flows and groups 85.2 MB (905 B/flow), Pod ...".
    heap=$(sed -n 's/^memory \([^:]*\): \([0-9.]* MB\)\( (\([0-9]*\) bytes per \([a-z]*\))\)\{0,1\}$/\1 \2 (\4 B\/\5)/p' \
           "$dir/compute.1.out" | sed 's/ ( B\/)//' | paste -sd, - |
           sed 's/,/, /g')

    # 2. Cold install by kovs-controller, each run on a fresh switch.
    log "$size: making the template switch"
    make_template "$dir/local-pods" "$dir/template" ||
        die "cannot make the template switch"
    EXPECT_FLOWS=
    local t0 t1 pid vs_pid vs_cpu0
    for i in $(seq "$RUNS"); do
        log "$size: cold install, run $i"
        sandbox_up "$dir/install-$i" "$dir/template.db" ||
            die "cannot start the switch"
        wait_ports "$((N_LOCAL_PODS + 2))" || die "ports did not appear"
        vs_pid=$(cat ovs-vswitchd.pid)
        vs_cpu0=$(proc_cpu_ms "$vs_pid")
        t0=$(now_us)
        start_controller
        wait_for fully_installed
        t1=$(now_us)
        pid=$(cat kovs-controller.pid)
        echo "install_ms $(ms_between "$t0" "$t1")" >> "$R"
        echo "install_ctl_cpu $(proc_cpu_ms "$pid")" >> "$R"
        echo "install_vs_cpu $(( $(proc_cpu_ms "$vs_pid") - vs_cpu0 ))" >> "$R"
        echo "install_ctl_rss $(proc_peak_rss_kb "$pid")" >> "$R"
        echo "install_flow_mods $S_FLOW_MODS" >> "$R"
        echo "install_group_mods $S_GROUP_MODS" >> "$R"
        echo "install_bundles $S_BUNDLES" >> "$R"
        echo "installed_ovsdb_rss $(proc_rss_kb "$(cat ovsdb-server.pid)")" >> "$R"
        echo "installed_vs_rss $(proc_rss_kb "$vs_pid")" >> "$R"
        if [ "$i" = 1 ]; then
            EXPECT_FLOWS=$S_DESIRED
            echo "flows $S_DESIRED" >> "$R"
            echo "groups $S_DESIRED_GROUPS" >> "$R"
            ovs-appctl -t kovs-controller memory/show > "$dir/memory-show" ||
                die "memory/show failed"
            dump_bundle > "$dir/baseline.bundle"
            tunnel_ports_vsctl > "$dir/tunnels.vsctl"
            ovsdb-client backup unix:"$PWD/db.sock" > "$dir/installed.db"

            # kovs-ctl, given this switch's ports, must want exactly what
            # the controller installed.
            local gw tun=()
            gw=$(ports_file "$dir/ports")
            if [ "$TUNNEL_PORTS" = flow ]; then
                tun=(--tunnel-ports=flow --tunnel-ofport="$(ovs-vsctl get \
                     interface kovs-tun0 ofport)")
            fi
            "$KOVS_CTL" compute --node=$NODE --ports="$dir/ports" \
                --gateway-ofport="$gw" --cluster-cidr=$CLUSTER_CIDR \
                --service-cidr=$SERVICE_CIDR "${tun[@]}" --dump "$STATE" \
                > "$dir/kovs-ctl.bundle" 2>/dev/null
            if cmp -s <(normalize_flows < "$dir/kovs-ctl.bundle") \
                      <(normalize_flows < "$dir/baseline.bundle"); then
                echo "ctl_matches yes" >> "$R"
            else
                echo "ctl_matches no" >> "$R"
                log "$size: kovs-ctl compute --dump differs from the switch" \
                    "(see $dir/*.bundle)"
            fi
        fi
        if [ "$i" != "$RUNS" ]; then
            sandbox_down
        fi
    done
    local live=$PWD

    # The baseline: the same flows and groups, one ovs-ofctl bundle, into a
    # fresh ovs-vswitchd with the same ports.
    local n_ports
    n_ports=$(( N_LOCAL_PODS + N_TUNNEL_PORTS + 2 ))
    for i in $(seq "$RUNS"); do
        log "$size: baseline (ovs-ofctl bundle), run $i"
        t0=$(now_us)
        sandbox_up "$dir/baseline-$i" "$dir/installed.db" ||
            die "cannot start the baseline switch"
        wait_ports "$n_ports" || die "baseline ports did not appear"
        t1=$(now_us)
        echo "vs_start_ms $(ms_between "$t0" "$t1")" >> "$R"
        ovs-ofctl -O OpenFlow15 del-flows br-int
        vs_pid=$(cat ovs-vswitchd.pid)
        vs_cpu0=$(proc_cpu_ms "$vs_pid")
        t0=$(now_us)
        ovs-ofctl -O OpenFlow15 bundle br-int "$dir/baseline.bundle" ||
            die "ovs-ofctl bundle failed"
        t1=$(now_us)
        echo "baseline_ms $(ms_between "$t0" "$t1")" >> "$R"
        echo "baseline_vs_cpu $(( $(proc_cpu_ms "$vs_pid") - vs_cpu0 ))" >> "$R"
        echo "baseline_vs_rss $(proc_rss_kb "$vs_pid")" >> "$R"
        local n
        n=$(ovs-ofctl -O OpenFlow15 dump-aggregate br-int |
            sed -n 's/.*flow_count=\([0-9]*\).*/\1/p')
        [ "$n" = "$EXPECT_FLOWS" ] ||
            log "$size: baseline switch has $n flows, not $EXPECT_FLOWS"
        sandbox_down
    done

    # The fair baseline: the tunnel ports in one OVSDB transaction, then
    # the same bundle, from the switch kovs-controller starts on.
    local args
    mapfile -t args < "$dir/tunnels.vsctl"
    for i in $(seq "$RUNS"); do
        log "$size: fair baseline (ovs-vsctl, then ovs-ofctl bundle), run $i"
        sandbox_up "$dir/fair-$i" "$dir/template.db" ||
            die "cannot start the fair baseline switch"
        wait_ports "$((N_LOCAL_PODS + 2))" || die "ports did not appear"
        ovs-ofctl -O OpenFlow15 del-flows br-int
        vs_pid=$(cat ovs-vswitchd.pid)
        vs_cpu0=$(proc_cpu_ms "$vs_pid")
        t0=$(now_us)
        if [ ${#args[@]} -gt 0 ]; then
            ovs-vsctl "${args[@]}" || die "ovs-vsctl failed"
        fi
        wait_ports "$n_ports" || die "fair baseline ports did not appear"
        echo "ports_txn_ms $(ms_between "$t0" "$(now_us)")" >> "$R"
        ovs-ofctl -O OpenFlow15 bundle br-int "$dir/baseline.bundle" ||
            die "ovs-ofctl bundle failed"
        t1=$(now_us)
        echo "fair_ms $(ms_between "$t0" "$t1")" >> "$R"
        echo "fair_vs_cpu $(( $(proc_cpu_ms "$vs_pid") - vs_cpu0 ))" >> "$R"
        sandbox_down
    done

    # 3. Incremental changes, on the last cold install's switch.
    cd "$live" && sandbox_env
    log "$size: incremental changes"
    local changes=$dir/changes
    : > "$changes"
    coproc GEN_PROC { exec python3 "$GEN" --seed="$SEED" $DUAL_STACK \
                           changes "$size" \
                           "$STATE"; }
    gen_pid=$GEN_PROC_PID
    local line
    read -r line <&"${GEN_PROC[0]}" || die "the change generator failed"
    local kind count n_done description
    for kind in endpoint label policy; do
        case $kind in
        endpoint) count=$N_ENDPOINT ;;
        label) count=$N_LABEL ;;
        policy) count=$N_POLICY ;;
        esac
        for n_done in $(seq "$count"); do
            if [ $kind = label ]; then
                dump_flows > "$dir/label-before" 2>/dev/null
            fi
            status_read || die "no status"
            local reads0=$S_READS fm0=$S_FLOW_MODS gm0=$S_GROUP_MODS
            local b0=$S_BUNDLES c0=$S_COMPUTATIONS
            echo "$kind" >&"${GEN_PROC[1]}"
            read -r description <&"${GEN_PROC[0]}" ||
                die "the change generator failed"
            t0=$(now_us)
            CHANGE_READS=$reads0 CHANGE_COMPUTATIONS=$c0
            wait_for change_installed
            t1=$(now_us)
            local latency=0
            if [ "$S_BUNDLES" -gt "$b0" ]; then
                latency=$S_LATENCY
            fi
            local extra=""
            if [ $kind = label ]; then
                extra=$(label_check "$description")
            fi
            echo "$kind flow_mods=$((S_FLOW_MODS - fm0)) group_mods=$((S_GROUP_MODS - gm0)) bundles=$((S_BUNDLES - b0)) latency=$latency compute=$S_COMPUTE_MS owners=$S_OWNERS wall=$(ms_between "$t0" "$t1") $extra| $description" >> "$changes"
        done
    done
    exec {GEN_PROC[1]}>&-
    wait "$gen_pid" 2>/dev/null
    gen_pid=

    # 4. Restart on the fully installed switch.
    status_read || die "no status"
    EXPECT_FLOWS=$S_DESIRED
    for i in $(seq "$RUNS"); do
        log "$size: restart, run $i"
        stop_controller
        t0=$(now_us)
        start_controller
        wait_for restarted
        t1=$(now_us)
        echo "restart_ms $(ms_between "$t0" "$t1")" >> "$R"
        echo "restart_mods $((S_FLOW_MODS + S_GROUP_MODS))" >> "$R"
    done
    sandbox_down
    cd "$WORK"

    report_size "$size" "$summary" >> "$output"
}

# The change has been read, computed and installed.
change_installed () {
    [ "$S_READS" -gt "$CHANGE_READS" ] &&
        [ "$S_COMPUTATIONS" -gt "$CHANGE_COMPUTATIONS" ] && status_in_sync
}

# A restarted controller has computed everything and synchronized with the
# switch.
restarted () {
    [ "$S_READS" -ge 1 ] && [ "$S_COMPUTATIONS" -ge 1 ] &&
        [ "$S_FULL_SYNCS" -ge 1 ] && [ "$S_DESIRED" = "$EXPECT_FLOWS" ] &&
        fully_installed
}

# label_check DESCRIPTION: after a pod label change, the owners (cookies) of
# the flows that changed on the switch: "changed_owners=N outside=M" where
# M counts owners that are not among the policies that select or reference
# the pod (the generator's "concerned=" list).
label_check () {
    dump_flows > "$dir/label-after" 2>/dev/null
    local concerned cookies name allowed="" outside=0 n=0 c
    concerned=$(echo "$1" | sed -n 's/.* concerned=\([^ ]*\).*/\1/p')
    for name in $(echo "$concerned" | tr , ' '); do
        [ "$name" = - ] && continue
        allowed="$allowed $(ovs-appctl -t kovs-controller cookie policy "$name")"
    done
    cookies=$(diff "$dir/label-before" "$dir/label-after" |
              sed -n 's/^[<>] *cookie=\(0x[0-9a-f]*\),.*/\1/p' | sort -u)
    for c in $cookies; do
        n=$((n + 1))
        case " $allowed " in
        *" $c "*) ;;
        *) outside=$((outside + 1)) ;;
        esac
    done
    echo "changed_owners=$n outside=$outside "
}

# Values of KEY in the results file, one per line.
values () {
    sed -n "s/^$1 //p" "$R"
}

# Values of FIELD for changes of KIND.
change_values () {
    grep "^$1 " "$changes" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

change_mods () {
    grep "^$1 " "$changes" | awk '{ split($2, f, "="); split($3, g, "=")
                                     print f[2] + g[2] }'
}

report_size () {
    local size=$1 summary=$2
    local flows groups cpu rss decode compute inst base ratio
    flows=$(values flows)
    groups=$(values groups)
    decode=$(values decode_cpu | median)
    compute=$(values compute_cpu | median)
    cpu=$(values total_cpu | median)
    local wall decode_wall compute_wall
    decode_wall=$(values decode_wall | median)
    compute_wall=$(values compute_wall | median)
    wall=$(values total_wall | median)
    rss=$(values peak_rss | median)
    inst=$(values install_ms | median)
    base=$(values baseline_ms | median)
    ratio=$(awk -v a="$inst" -v b="$base" 'BEGIN { printf "%.2f", a / b }')
    local fair fair_ratio
    fair=$(values fair_ms | median)
    fair_ratio=$(awk -v a="$inst" -v b="$fair" 'BEGIN { printf "%.2f", a / b }')

    local ep_mods ep_lat ep_wall ep_comp lb_mods lb_wall lb_comp lb_owners
    local np_mods np_lat np_wall np_comp lb_lat out_total changed
    ep_mods=$(change_mods endpoint | stats)
    ep_lat=$(change_values endpoint latency | stats)
    ep_comp=$(change_values endpoint compute | stats)
    ep_wall=$(change_values endpoint wall | stats)
    lb_mods=$(change_mods label | stats)
    lb_lat=$(change_values label latency | stats)
    lb_comp=$(change_values label compute | stats)
    lb_wall=$(change_values label wall | stats)
    lb_owners=$(change_values label owners | stats)
    changed=$(change_values label changed_owners | stats)
    out_total=$(change_values label outside | awk '{ s += $1 } END { print s + 0 }')
    np_mods=$(change_mods policy | stats)
    np_lat=$(change_values policy latency | stats)
    np_comp=$(change_values policy compute | stats)
    np_wall=$(change_values policy wall | stats)

    local triple="(median / p90 / max)"
    cat <<EOF

### $size${DUAL_STACK:+ (dual-stack)}, tunnel ports $TUNNEL_PORTS: $summary

Node $NODE: $N_LOCAL_PODS local pods, $((N_NODES - 1)) peers through $N_TUNNEL_PORTS tunnel port(s); $flows flows, $groups groups.
Medians of $RUNS runs; incremental figures over the changes $triple.

| measurement | result | target (large) |
| --- | --- | --- |
| cold compute, CPU (decode + compute) | $cpu ms ($decode + $compute) | < 1500 ms |
| cold compute, wall time (decode + compute; a large state file is decoded on two threads) | $wall ms ($decode_wall + $compute_wall) | |
| cold compute, peak RSS | $(fmt_mb "$rss") | < 300 MB |
| cold compute, heap held per part | $heap | |
| cold install, kovs-controller start to barrier reply | $inst ms | |
| cold install, ovs-ofctl bundle of the same flows and groups | $base ms | |
| cold install, ratio | $ratio | |
| cold install, fair baseline: ovs-vsctl adding the $N_TUNNEL_PORTS tunnel port(s) in one transaction, then the same bundle | $fair ms | |
| cold install, ratio to the fair baseline | $fair_ratio | <= 1.2 |
| ovs-vsctl transaction adding the $N_TUNNEL_PORTS tunnel port(s), until ovs-vswitchd has them | $(values ports_txn_ms | median) ms | |
| ovsdb-server and ovs-vswitchd starting with every port (from the installed database) | $(values vs_start_ms | median) ms | |
| RSS once installed: ovsdb-server / ovs-vswitchd (kovs) / ovs-vswitchd (baseline) | $(fmt_mb "$(values installed_ovsdb_rss | median)") / $(fmt_mb "$(values installed_vs_rss | median)") / $(fmt_mb "$(values baseline_vs_rss | median)") | |
| cold install, controller CPU / peak RSS | $(values install_ctl_cpu | median) ms / $(fmt_mb "$(values install_ctl_rss | median)") | |
| cold install, controller heap per part (memory/show, installed) | $(memory_parts "$dir/memory-show") | |
| cold install, ovs-vswitchd CPU: kovs / baseline / fair baseline | $(values install_vs_cpu | median) ms / $(values baseline_vs_cpu | median) ms / $(values fair_vs_cpu | median) ms | |
| cold install, flow-mods + group-mods (bundles) | $(values install_flow_mods | median) + $(values install_group_mods | median) ($(values install_bundles | median)) | |
| kovs-ctl compute --dump equals the installed flows | $(values ctl_matches | head -1) | |
| endpoint change ($N_ENDPOINT): flow-mods + group-mods $triple | ${ep_mods// / \/ } | <= 10 |
| endpoint change: install latency, ms $triple | ${ep_lat// / \/ } | < 5 ms median |
| endpoint change: computation, ms $triple | ${ep_comp// / \/ } | |
| endpoint change: file write to sync, ms $triple | ${ep_wall// / \/ } | |
| pod label change ($N_LABEL): flow-mods + group-mods $triple | ${lb_mods// / \/ } | |
| pod label change: owners recomputed $triple | ${lb_owners// / \/ } | |
| pod label change: owners whose flows changed $triple; outside the policies that select or reference the pod | ${changed// / \/ }; $out_total | 0 outside |
| pod label change: install latency / computation / write to sync, ms (median) | ${lb_lat%% *} / ${lb_comp%% *} / ${lb_wall%% *} | |
| policy edit ($N_POLICY): flow-mods + group-mods $triple | ${np_mods// / \/ } | |
| policy edit: install latency / computation / write to sync, ms (median) | ${np_lat%% *} / ${np_comp%% *} / ${np_wall%% *} | |
| restart: flow-mods + group-mods (each run) | $(values restart_mods | tr '\n' ' ' | sed 's/ $//') | 0 |
| restart: start to in sync | $(values restart_ms | median) ms | |
EOF
}

# The API server path of one size (--apiserver).
bench_api_size () {
    local size=$1 dir=$WORK/api-$size
    mkdir -p "$dir"
    local R=$dir/results
    : > "$R"

    log "$size: generating the cluster and the streams of changes"
    STATE=$dir/state.json
    python3 "$GEN" --seed="$SEED" --local-pods="$dir/local-pods" $DUAL_STACK \
        "$size" "$STATE" || die "gen-cluster.py failed"
    python3 "$GEN" --seed="$SEED" $DUAL_STACK stream "$size" \
        "$dir/endpoints.json" "$N_API_ENDPOINT" \
        "$dir/labels.json" "$N_API_LABEL" || die "gen-cluster.py failed"
    N_LOCAL_PODS=$(wc -l < "$dir/local-pods")
    local summary
    summary=$(python3 -c '
import collections, json, sys
items = json.load(open(sys.argv[1]))["items"]
kinds = collections.Counter(o["kind"] for o in items)
print(", ".join("%s: %d" % kv for kv in kinds.items()))' "$STATE")
    N_NODES=$(echo "$summary" | sed -n 's/.*Node: \([0-9]*\).*/\1/p')
    size_cidrs "$size"
    if [ "$TUNNEL_PORTS" = flow ]; then
        N_TUNNEL_PORTS=1
    else
        N_TUNNEL_PORTS=$((N_NODES - 1))
    fi

    log "$size: making the template switch"
    make_template "$dir/local-pods" "$dir/template" ||
        die "cannot make the template switch"

    log "$size: loading the fake API server"
    mkdir -p "$dir/api" && cd "$dir/api" || die "no $dir/api"
    api_start --max-page=500 || die "the fake API server did not start"
    api_ctl put < "$STATE" > /dev/null || die "cannot load the API server"
    api_ctl compact > /dev/null
    api_kubeconfig kubeconfig "    token: $(cat token)"
    KUBECONFIG_FILE=$dir/api/kubeconfig

    # What the server alone takes to serve the lists that the controller
    # makes at its start.
    log "$size: the same lists, read alone"
    local alone lists0
    alone=$(list_alone "$(api_url)" token ca.crt) || die "cannot read the lists"
    echo "api_lists_alone_ms $alone" >> "$R"
    lists0=$(api_stat lists)

    # a. Start to full sync.
    log "$size: kovs-controller start to full sync from the API server"
    sandbox_up "$dir/run" "$dir/template.db" || die "cannot start the switch"
    wait_ports "$((N_LOCAL_PODS + 2))" || die "ports did not appear"
    local t0 t1 pid
    EXPECT_FLOWS=
    t0=$(now_us)
    start_controller
    wait_for fully_installed
    t1=$(now_us)
    pid=$(cat kovs-controller.pid)
    echo "api_install_ms $(ms_between "$t0" "$t1")" >> "$R"
    echo "api_install_cpu $(proc_cpu_ms "$pid")" >> "$R"
    echo "api_install_rss $(proc_peak_rss_kb "$pid")" >> "$R"
    echo "flows $S_DESIRED" >> "$R"
    echo "groups $S_DESIRED_GROUPS" >> "$R"
    echo "lists $(( $(cd "$dir/api" && api_stat lists) - lists0 ))" >> "$R"
    local synced_rv
    synced_rv=$(cd "$dir/api" && api_stat rv)

    # b, c. The streams of changes.
    local cpu0 kind file out last
    for kind in endpoints labels; do
        cpu0=$(proc_cpu_ms "$pid")
        file=$dir/$kind.json
        log "$size: playing $(wc -l < "$file") $kind changes at $API_RATE/s"
        out=$(cd "$dir/api" && api_ctl play "$file" "$API_RATE") ||
            die "cannot play $file"
        last=${out##* }
        kovs_wait_until grep -q "resourceVersion $last in the switch at" \
            kovs-controller.log || die "resourceVersion $last never synced"
        wait_for status_in_sync
        echo "api_${kind}_cpu $(( $(proc_cpu_ms "$pid") - cpu0 ))" >> "$R"
    done
    echo "api_changes_rss $(proc_peak_rss_kb "$pid")" >> "$R"
    api_latencies "$dir/api/watch-events.log" kovs-controller.log \
        "$synced_rv" "$(wc -l < "$dir/endpoints.json")" >> "$R" ||
        die "cannot compute the latencies"
    sandbox_down
    kill_pidfile "$dir/api/fake-apiserver.pid"
    KUBECONFIG_FILE=
    cd "$WORK"

    report_api_size "$size" "$summary" >> "$output"
}

# list_alone URL TOKEN-FILE CA-FILE: reads from the API server at URL the
# lists that kovs-controller makes at its start, the six kinds at once and
# each kind's pages of 500 one after the other (as the controller does),
# with a client that only reads the bytes and finds the continue token;
# prints the milliseconds it took.
list_alone () {
    python3 -c "$_list_alone_py" "$@"
}
_list_alone_py='
import re, ssl, sys, threading, time, urllib.parse, urllib.request
url, token = sys.argv[1], open(sys.argv[2]).read().strip()
ctx = ssl.create_default_context(cafile=sys.argv[3])
paths = ["/api/v1/nodes", "/api/v1/namespaces", "/api/v1/pods",
         "/api/v1/services", "/apis/discovery.k8s.io/v1/endpointslices",
         "/apis/networking.k8s.io/v1/networkpolicies"]
cont_re = re.compile(rb"\"continue\":\"([^\"]+)\"")
failed = []
def read(path):
    cont = None
    while True:
        q = "?limit=500" + ("&continue=" + urllib.parse.quote(cont)
                            if cont else "")
        req = urllib.request.Request(url + path + q, headers={
            "Authorization": "Bearer " + token})
        try:
            body = urllib.request.urlopen(req, context=ctx).read()
        except Exception as e:
            failed.append(str(e))
            return
        m = cont_re.search(body)
        if not m:
            return
        cont = m.group(1).decode()
start = time.monotonic()
threads = [threading.Thread(target=read, args=(p,)) for p in paths]
for t in threads:
    t.start()
for t in threads:
    t.join()
if failed:
    sys.exit("list_alone: " + failed[0])
print(round((time.monotonic() - start) * 1000))
'

# api_latencies EVENTS-LOG CONTROLLER-LOG RV N: from the fake API server's
# log of the events it sent and the controller's sync log, for the events
# after resourceVersion RV, the first N of them ("endpoint") and the rest
# ("label"), prints: the latencies (from the server writing the event to
# the first barrier reply whose resourceVersion covers it) as
# "KIND-latency MEDIAN P99 MAX" in ms, how many events, how many of them
# altered no flow, in how many computations, and the median and 99th
# percentile over the events of each part of their latency, in ms: from
# the server writing the event to the main loop's pass that read it (or
# the first change of the same computation), then the parts of the
# computation that covered it, then the rest.
api_latencies () {
    python3 -c "$_api_latencies_py" "$@"
}
_api_latencies_py='
import re, sys
events_log, controller_log = sys.argv[1], sys.argv[2]
start_rv, n_first = int(sys.argv[3]), int(sys.argv[4])
line_re = re.compile(
    r"sync_log\|DBG\|resourceVersion (\d+) in the switch at ([\d.]+): "
    r"(no flow change|bundle \d+ [^;]*); read at ([\d.]+), receive (\d+) us, "
    r"decode (\d+) us, compute (\d+) us, put (\d+) us, "
    r"barrier reply (\d+) us")
synced = []
for line in open(controller_log):
    m = line_re.search(line)
    if m:
        synced.append((int(m.group(1)), float(m.group(2)),
                       m.group(3) == "no flow change", float(m.group(4)),
                       [int(m.group(i)) / 1000.0 for i in range(5, 10)]))
sent = {}
for line in open(events_log):
    t, rv, kind = line.split()
    sent.setdefault(int(rv), float(t))
played = sorted(rv for rv in sent if rv > start_rv)
groups = [("endpoint", played[:n_first]), ("label", played[n_first:])]

def pct(values, p):
    v = sorted(values)
    if not v:
        return float("nan")
    return v[min(len(v) - 1, max(0, -(-len(v) * p // 100) - 1))]

def median(values):
    v = sorted(values)
    n = len(v)
    if not n:
        return float("nan")
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2

parts = ["receive", "decode", "compute", "put", "barrier"]
all_parts = ["way"] + parts + ["other"]
for name, rvs in groups:
    lat, nochange, covering = [], 0, set()
    part_values = {p: [] for p in all_parts}
    i = 0
    for rv in rvs:
        while i < len(synced) and synced[i][0] < rv:
            i += 1
        if i == len(synced):
            sys.stderr.write("%s: resourceVersion %d never synced\n"
                             % (name, rv))
            sys.exit(1)
        srv, t, no_change, read_at, times = synced[i]
        latency = (t - sent[rv]) * 1000.0
        lat.append(latency)
        nochange += no_change
        covering.add(i)
        way = max(0.0, (read_at - sent[rv]) * 1000.0)
        part_values["way"].append(way)
        for p, v in zip(parts, times):
            part_values[p].append(v)
        part_values["other"].append(latency - way - sum(times))
    print("%s-latency %.1f %.1f %.1f" % (name, median(lat), pct(lat, 99),
                                         max(lat) if lat else float("nan")))
    print("%s-count %d" % (name, len(lat)))
    print("%s-nochange %d" % (name, nochange))
    print("%s-computations %d" % (name, len(covering)))
    for label, f in (("parts", median), ("parts-p99", lambda v: pct(v, 99))):
        print("%s-%s %s" % (name, label, " ".join(
            "%.2f" % f(part_values[p]) for p in all_parts)))
'

# per_change CPU-MS N: CPU-MS / N, in ms with two decimals.
per_change () {
    awk -v c="$1" -v n="$2" 'BEGIN { printf "%.2f", n ? c / n : 0 }'
}

# parts KEY: the parts of values KEY, " / "-separated.
parts () {
    values "$1" | sed 's| | / |g'
}

report_api_size () {
    local size=$1 summary=$2 ep_cpu lb_cpu
    ep_cpu=$(per_change "$(values api_endpoints_cpu)" "$(values endpoint-count)")
    lb_cpu=$(per_change "$(values api_labels_cpu)" "$(values label-count)")
    local ep lb
    ep=$(values endpoint-latency) lb=$(values label-latency)
    cat <<EOF

### $size${DUAL_STACK:+ (dual-stack)}, from the API server: $summary

Node $NODE: $N_LOCAL_PODS local pods, $((N_NODES - 1)) tunnels; $(values flows) flows, $(values groups) groups.
Lists in pages of 500 items ($(values lists) list requests); changes played at $API_RATE a second.
Latency: from the fake API server writing a watch event to the barrier reply
that covers its resourceVersion.  Parts of each change's latency: on its way
(from the server's write to the controller's main loop reading it, or the
first change of its computation) / then, of the computation that covered it,
receiving / decoding / computing / putting it into a bundle / the bundle to
the barrier reply / the rest (the main loop's other work), in ms.

| measurement | result | target |
| --- | --- | --- |
| start to full sync (barrier reply of the full br-int) | $(values api_install_ms) ms | |
| the same lists read alone from the server (six kinds at once, pages of 500; a client that only reads them) | $(values api_lists_alone_ms) ms | |
| controller CPU / peak RSS at full sync | $(values api_install_cpu) ms / $(fmt_mb "$(values api_install_rss)") | |
| endpoint change ($(values endpoint-count)): latency, ms (median / p99 / max) | ${ep// / \/ } | p99 < 20 ms |
| endpoint change: computations; changes that altered no flow | $(values endpoint-computations); $(values endpoint-nochange) | |
| endpoint change: parts, ms (median) | $(parts endpoint-parts) | |
| endpoint change: parts, ms (p99) | $(parts endpoint-parts-p99) | |
| pod label change ($(values label-count)): latency, ms (median / p99 / max) | ${lb// / \/ } | p99 < 20 ms |
| pod label change: computations; changes that altered no flow | $(values label-computations); $(values label-nochange) | |
| pod label change: parts, ms (median) | $(parts label-parts) | |
| pod label change: parts, ms (p99) | $(parts label-parts-p99) | |
| controller CPU per change: endpoint / pod label | $ep_cpu ms / $lb_cpu ms | |
| controller peak RSS at the end | $(fmt_mb "$(values api_changes_rss)") | |
EOF
}

machine () {
    local cpu mem
    cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
    mem=$(awk '/^MemTotal:/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo)
    echo "Machine: $cpu, $(nproc) cores, $mem RAM, Linux $(uname -r)," \
        "$(ovs-vswitchd --version | head -1 | sed 's/.*) //;s/^/Open vSwitch /');" \
        "$(date -u +%Y-%m-%d)."
    if git -C "$srcdir" rev-parse --short HEAD >/dev/null 2>&1; then
        echo "kovs $(git -C "$srcdir" rev-parse --short HEAD)$(git -C "$srcdir" \
            diff --quiet HEAD -- 2>/dev/null || echo ' (with local changes)')," \
            "binaries built $(date -u -r "$KOVS_CONTROLLER" '+%Y-%m-%d %H:%M UTC')."
    fi
}

if $APISERVER; then
    {
        echo
        echo "## kovs API server benchmark"
        echo
        machine
    } >> "$output"
    for size in "${sizes[@]}"; do
        bench_api_size "$size"
    done
else
    {
        echo "## kovs scale benchmark"
        echo
        machine
    } > "$output"
    for size in "${sizes[@]}"; do
        bench_size "$size"
    done
fi
cat "$output"
log "results written to $output"
