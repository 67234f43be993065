#!/bin/bash
# Copyright (c) 2026 The kovs authors.
#
# Licensed under the Apache License, Version 2.0.
#
# kovs-cni latency: on one node of a netns cluster (tests/cluster-lib.sh)
# with kovs-controller, N pods (default 100) plugged one after another by
# executing kovs-cni ADD as a runtime does, then unplugged with DEL.  Each
# time is from the plugin's exec to its exit, so ADD includes the wait for
# the pod's flows to be confirmed by the switch.  Prints the median, p90,
# p99 and maximum of each.  Not part of the pass/fail suite.
#
#   tests/bench/cni-bench.sh [BUILDDIR] [N]
#
# Runs as root; its namespaces are named "${KOVS_CL_TAG:-k}cb-...".

set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$top/_build}" && pwd)
n_pods=${2:-100}
work=$(mktemp -d /tmp/kovs-cni-bench.XXXXXX)

export PATH=$build/controller:$build/tests:$PATH
. "$top/tests/sandbox-lib.sh"
. "$top/tests/cluster-lib.sh"
. "$top/tests/cni-lib.sh"

cd "$work"
cl_init "$work/cluster" "${KOVS_CL_TAG:-k}cb"
cl_node_add n1 198.18.0.11/24
pods=""
for i in $(seq "$n_pods"); do
    pods="$pods $(k8s_pod_pending default p$i n1)"
done
# shellcheck disable=SC2086
write_state state.json "$(k8s_node n1 198.18.0.11 10.244.0.0/22)" \
    "$(k8s_namespace default)" $pods
cluster_kovs_start n1 -vofctrl:file:info
cl_wait_until 20 cni_node_ready n1

# The configuration of the plugin as a runtime passes it: the list's entry
# with the list's name and version.
conf=$(python3 - "$work/cluster/n1/net.d/10-kovs.conflist" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
p = dict(c["plugins"][0], name=c["name"], cniVersion=c["cniVersion"])
print(json.dumps(p))
EOF
)

# run_plugin VERB N: runs kovs-cni VERB for pod pN in node n1's namespace
# and prints the milliseconds from exec to exit.
run_plugin () {
    local netns
    netns=$(cl_pod_netns default/p$2)
    echo "$conf" | ip netns exec "$CL_PREFIX-n1" python3 -I -S -c '
import os, subprocess, sys, time
env = dict(os.environ, CNI_COMMAND=sys.argv[1], CNI_CONTAINERID=sys.argv[2],
           CNI_NETNS=sys.argv[3], CNI_IFNAME="eth0", CNI_PATH="/usr/lib/cni",
           CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME="
                    + sys.argv[4])
conf = sys.stdin.buffer.read()
start = time.monotonic()
p = subprocess.run(["kovs-cni"], input=conf, env=env, capture_output=True)
elapsed = (time.monotonic() - start) * 1000
if p.returncode:
    sys.exit("kovs-cni %s p%s: %s" % (sys.argv[1], sys.argv[4], p.stdout))
print("%.1f" % elapsed)
' "$1" "bench$2" "/run/netns/$netns" "p$2"
}

for i in $(seq "$n_pods"); do
    cl_pod_sandbox n1 default p$i
done
for i in $(seq "$n_pods"); do
    run_plugin ADD $i
done > add.ms
for i in $(seq "$n_pods"); do
    run_plugin DEL $i
done > del.ms

summary () {
    sort -n "$1" | awk '{v[NR] = $1} END {
        printf "%.1f | %.1f | %.1f | %.1f", v[int((NR + 1) / 2)],
               v[int(NR * 0.9 + 0.999)], v[int(NR * 0.99 + 0.999)], v[NR]}'
}

cat <<EOF

kovs-cni on one node, $n_pods pods one after another, milliseconds from
the plugin's exec to its exit ($(date -u '+%Y-%m-%d'), $(nproc) cores):

| verb | median | p90 | p99 | max |
| --- | --- | --- | --- | --- |
| ADD (incl. the wait for the flows) | $(summary add.ms) |
| DEL | $(summary del.ms) |
EOF
cl_cleanup
rm -rf "$work"
