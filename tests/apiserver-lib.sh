# Copyright (c) 2026 The kovs authors.
#
# Licensed under the Apache License, Version 2.0.
#
# Shell helpers for the tests against the fake API server
# (tests/fake-apiserver.py): certificates, the server itself, changes and
# faults through its control port, and kovs-controller connected to it.
# Sourced by tests/apiserver.at after tests/sandbox-lib.sh and
# tests/cluster-lib.sh, whose helpers (kovs_on_exit, kovs_wait_until,
# kill_pidfile, k8s_* generators, cl_node_exec) these use.  Everything
# works in the current directory; the server listens on 127.0.0.1 (api_start)
# or on an address of a cluster's underlay (api_start_in_netns).

# api_certs [ADDRESS]: a test CA (ca.crt), a server certificate for
# 127.0.0.1 (and ADDRESS, if given) signed by it (server.crt, server.key), a
# client certificate signed by it (client.crt, client.key) and an unrelated
# CA (other-ca.crt).
api_certs () {
    local ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
    {
        openssl req -x509 $ec -keyout ca.key -out ca.crt -days 2 \
            -subj /CN=kovs-test-ca &&
        openssl req -x509 $ec -keyout other-ca.key -out other-ca.crt \
            -days 2 -subj /CN=kovs-other-ca &&
        openssl req $ec -keyout server.key -out server.csr \
            -subj /CN=127.0.0.1 &&
        printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost${1:+,IP:$1}" \
            'basicConstraints=CA:FALSE' \
            'extendedKeyUsage=serverAuth' > server.ext &&
        openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key \
            -CAcreateserial -out server.crt -days 2 -extfile server.ext &&
        openssl req $ec -keyout client.key -out client.csr \
            -subj /CN=kovs-node/O=system:nodes &&
        printf '%s\n' 'basicConstraints=CA:FALSE' \
            'extendedKeyUsage=clientAuth' > client.ext &&
        openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key \
            -CAcreateserial -out client.crt -days 2 -extfile client.ext
    } > openssl.log 2>&1 || { cat openssl.log >&2; return 1; }
}

# api_start [OPTION...]: generates the certificates and a token and starts
# the fake API server (pages of at most 2 items, a bookmark a second),
# stopped when the test ends.  The server accepts the token in
# ./api-token and client certificates signed by ca.crt; ./token is the
# controller's copy of the token.
api_start () {
    api_certs && _api_serve "" 127.0.0.1 "$@"
}

# api_start_in_netns NETNS ADDRESS [OPTION...]: api_start, with the server
# in network namespace NETNS serving the API on ADDRESS (an address of
# NETNS, which the server's certificate names too).  Its control port
# stays on NETNS's loopback; api_ctl goes there.
api_start_in_netns () {
    api_certs "$2" && _api_serve "$@"
}

# _api_serve NETNS ADDRESS [OPTION...]: the rest of api_start and
# api_start_in_netns: the token, then the server in the background, in
# NETNS unless it is empty.
_api_serve () {
    local netns="$1" address="$2"
    shift 2
    printf '%s' "$netns" > api-netns
    echo "$address" > api-address
    echo "kovs-test-token-$$" > api-token
    cp api-token token
    set -- serve "$PWD" --token-file="$PWD/api-token" --cert=server.crt \
        --key=server.key --client-ca=ca.crt --max-page=2 \
        --bookmark-interval=1 "$@"
    if [ -n "$netns" ]; then
        ip netns exec "$netns" python3 -c "$_api_py_bind" "$address" \
            "$abs_top_srcdir/tests/fake-apiserver.py" "$@" \
            > fake-apiserver.stderr 2>&1 &
    else
        python3 "$abs_top_srcdir/tests/fake-apiserver.py" "$@" \
            > fake-apiserver.stderr 2>&1 &
    fi
    echo $! > fake-apiserver.pid
    kovs_on_exit "kill_pidfile '$PWD/fake-apiserver.pid'"
    kovs_wait_until test -s api-port ||
        { cat fake-apiserver.stderr >&2; return 1; }
}

# tests/fake-apiserver.py with its API port bound to the address argv[1]
# instead of 127.0.0.1; argv[2] is the script, the rest its arguments.
_api_py_bind='
import importlib.util, socketserver, sys
address, path = sys.argv[1], sys.argv[2]
spec = importlib.util.spec_from_file_location("fake_apiserver", path)
fake = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fake)
def server_bind(self):
    self.server_address = (address, 0)
    socketserver.TCPServer.server_bind(self)
    self.server_name, self.server_port = self.server_address
fake.ApiServer.server_bind = server_bind
sys.argv = sys.argv[2:]
sys.exit(fake.main())
'

# api_url: the fake API server's URL.
api_url () {
    echo "https://$(cat api-address):$(cat api-port)"
}

# api_ctl COMMAND [ARG...]: a command to the fake API server (see
# tests/fake-apiserver.py), through its control port, in the server's
# network namespace.
api_ctl () {
    local netns
    netns=$(cat api-netns)
    if [ -n "$netns" ]; then
        ip netns exec "$netns" \
            python3 "$abs_top_srcdir/tests/fake-apiserver.py" ctl "$PWD" "$@"
    else
        python3 "$abs_top_srcdir/tests/fake-apiserver.py" ctl "$PWD" "$@"
    fi
}

# api_put OBJ...: adds or replaces objects (from the k8s_* generators).
api_put () {
    k8s_list "$@" | api_ctl put > /dev/null
}

# api_delete KIND [NAMESPACE/]NAME: deletes an object.
api_delete () {
    api_ctl delete "$1" "$2" > /dev/null
}

# api_stat NAME: one of the fake API server's counters.
api_stat () {
    api_ctl stats | python3 -c \
        'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

# api_wait_watches N: waits until N watches are open.
api_wait_watches () {
    kovs_wait_until api_has_watches "$1"
}
api_has_watches () {
    [ "$(api_stat open_watches)" -ge "$1" ]
}

# api_env CMD...: runs CMD without the environment variables that would
# send its requests to a proxy or make it think it runs in a pod.
api_env () {
    env $_api_env_unset "$@"
}
_api_env_unset="-u KUBERNETES_SERVICE_HOST -u KUBERNETES_SERVICE_PORT
    -u https_proxy -u HTTPS_PROXY -u http_proxy -u HTTP_PROXY
    -u all_proxy -u ALL_PROXY"

# api_kovs_start NODE [OPTION...]: starts kovs-controller for NODE with
# OPTIONs (which say how to reach the fake API server), watches renewed
# every 2 to 3 seconds, and debug logs of the API client.
api_kovs_start () {
    local node=$1
    shift
    api_env kovs-controller --detach --no-chdir --pidfile --log-file \
        --node-name="$node" --k8s-watch-timeout=2 \
        --cni-conf-dir="$PWD/net.d" --metrics-address=off \
        --cluster-cidr=10.244.0.0/16 --service-cidr=10.96.0.0/12 \
        -vofctrl:file:dbg -vk8s_client:file:dbg -vkovs_controller:file:dbg \
        -vconsole:warn \
        "$@" 2>>kovs-controller.stderr ||
        { cat kovs-controller.stderr >&2; return 1; }
    kovs_register "${OVS_RUNDIR:-$PWD}" api
    kovs_on_exit "kill_pidfile '$PWD/kovs-controller.pid'"
}

# api_kovs_start_direct NODE [OPTION...]: api_kovs_start with --k8s-api,
# --k8s-token-file=token and --k8s-ca-file=ca.crt.
api_kovs_start_direct () {
    local node=$1
    shift
    api_kovs_start "$node" --k8s-api="$(api_url)" \
        --k8s-token-file="$PWD/token" --k8s-ca-file="$PWD/ca.crt" "$@"
}

# api_kubeconfig FILE USER-YAML [CA-FILE]: writes a kubeconfig for the fake
# API server whose user is USER-YAML (indented by 4) and whose cluster
# trusts CA-FILE (default ca.crt), embedded as certificate-authority-data.
api_kubeconfig () {
    cat > "$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster:
    server: $(api_url)
    certificate-authority-data: $(base64 -w0 < "${3:-ca.crt}")
users:
- name: kovs
  user:
$2
contexts:
- name: kovs@fake
  context:
    cluster: fake
    user: kovs
current-context: kovs@fake
EOF
}

# kovs_api_status: the API part of the controller's status.
kovs_api_status () {
    ovs-appctl -t kovs-controller status | grep '^api '
}

# kovs_api_synced: true once the controller has listed every kind.
kovs_api_synced () {
    ovs-appctl -t kovs-controller status 2>/dev/null |
        grep -q '^api server: .* (synced)$'
}

# kovs_api_count KIND WHAT: one of the client's counters for KIND ("Pod")
# (WHAT: events, bookmarks, lists, relists or errors).
kovs_api_count () {
    ovs-appctl -t kovs-controller status |
        sed -n "s/^api $1: .*[:,] \([0-9]*\) $2\(,.*\)*\$/\1/p"
}

# kovs_api_count_above KIND WHAT N: true if that counter is above N.
kovs_api_count_above () {
    local n
    n=$(kovs_api_count "$1" "$2")
    [ -n "$n" ] && [ "$n" -gt "$3" ]
}

# kovs_api_sum WHAT: the sum of the client's counter WHAT over all kinds.
kovs_api_sum () {
    local kind total=0 n
    for kind in Node Namespace Pod Service EndpointSlice NetworkPolicy; do
        n=$(kovs_api_count $kind "$1")
        total=$((total + ${n:-0}))
    done
    echo $total
}

# kovs_status_is FIELD VALUE: true if the status command's FIELD is VALUE,
# for kovs_wait_until.
kovs_status_is () {
    [ "$(kovs_status_field "$1")" = "$2" ]
}

# trace_is FLOW EXPECTED: true if trace_output FLOW prints EXPECTED, for
# kovs_wait_until.
trace_is () {
    [ "$(trace_output "$1" 2>/dev/null)" = "$2" ]
}

# api_plug PORT NAMESPACE/POD MAC: plugs a dummy port for a pod.
api_plug () {
    ovs-vsctl add-port br-int "$1" -- set interface "$1" type=dummy \
        external_ids:iface-id="$2" external_ids:attached-mac="$3"
}

# The netns cluster (tests/cluster-lib.sh) against the fake API server,
# started by api_start_in_netns in the cluster's underlay.

# api_cluster_kovs_start NODE: starts kovs-controller in NODE's namespace
# like cluster_kovs_start, but reading the cluster from the fake API server
# (with --k8s-api, the token file and the CA), its watches renewed every 2
# to 3 seconds, with debug logs of the API client.
api_cluster_kovs_start () {
    cl_node_exec "$1" env $_api_env_unset kovs-controller --detach \
        --no-chdir --pidfile -vconsole:off --log-file --node-name="$1" \
        --k8s-api="$(api_url)" --k8s-token-file="$PWD/token" \
        --k8s-ca-file="$PWD/ca.crt" --k8s-watch-timeout=2 \
        --datapath-type=netdev --cni-conf-dir="$CL_WORKDIR/$1/net.d" \
        --cluster-cidr=10.244.0.0/16 --service-cidr=10.96.0.0/12 \
        -vofctrl:file:dbg -vk8s_client:file:dbg &&
        kovs_register "$CL_WORKDIR/$1" api
}

# api_dump_objects FILE: fetches every object of the fake API server over
# its API, as a client would (a List per kind, page by page, with the
# token), and writes them to FILE as one List, each item with its kind, as
# a state file holds them.  Prints the highest resourceVersion of the
# lists.
api_dump_objects () {
    local netns
    netns=$(cat api-netns)
    ${netns:+ip netns exec "$netns"} python3 -c "$_api_dump_py" \
        "$abs_top_srcdir/tests/fake-apiserver.py" "$(api_url)" \
        "$PWD/ca.crt" "$PWD/api-token" "$1"
}
_api_dump_py='
import importlib.util, json, ssl, sys, urllib.parse, urllib.request
path, url, ca, token_file, out = sys.argv[1:6]
spec = importlib.util.spec_from_file_location("fake_apiserver", path)
fake = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fake)
token = open(token_file).read().strip()
opener = urllib.request.build_opener(
    urllib.request.ProxyHandler({}),
    urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=ca)))
items, rv = [], 0
for kind, (kpath, _, api_version, _) in fake.RESOURCES.items():
    cont = ""
    while True:
        query = "?limit=500" + ("&continue=" + urllib.parse.quote(cont)
                                if cont else "")
        req = urllib.request.Request(url + kpath + query, headers={
            "Authorization": "Bearer " + token})
        with opener.open(req, timeout=10) as reply:
            doc = json.load(reply)
        for item in doc.get("items") or []:
            item.setdefault("kind", kind)
            item.setdefault("apiVersion", api_version)
            items.append(item)
        meta = doc.get("metadata") or {}
        rv = max(rv, int(meta.get("resourceVersion") or 0))
        cont = meta.get("continue")
        if not cont:
            break
with open(out, "w") as f:
    json.dump({"apiVersion": "v1", "kind": "List", "items": items}, f)
print(rv)
'

# kovs_api_caught_up RV: true if every kind's watch of kovs-controller is
# at resourceVersion RV or later (asking the fake API server for a
# bookmark, which brings a quiet kind's watch there).
kovs_api_caught_up () {
    local status rvs rv
    api_ctl bookmark > /dev/null 2>&1
    status=$(ovs-appctl -t kovs-controller status) || return 1
    rvs=$(echo "$status" |
          sed -n 's/^api [A-Za-z]*: .* at resourceVersion "\([0-9]*\)".*/\1/p')
    [ "$(echo "$rvs" | grep -c .)" -eq 6 ] || return 1
    for rv in $rvs; do
        [ "$rv" -ge "$1" ] || return 1
    done
}

# api_on_node NODE CMD...: runs CMD (a function of this file or of
# tests/sandbox-lib.sh, e.g. kovs_api_synced or dump_flows) against NODE's
# kovs-controller and switch.
api_on_node () {
    (
        OVS_RUNDIR=$CL_WORKDIR/$1
        export OVS_RUNDIR
        shift
        "$@"
    )
}

# api_cluster_wait FIELD VALUE: waits until the status FIELD (e.g.
# "objects Pod") of every node's kovs-controller is VALUE and its switch has
# the flows computed from that.
api_cluster_wait () {
    local f
    for f in "$CL_WORKDIR"/cl-state/nodes/*; do
        api_on_node "${f##*/}" kovs_wait_until kovs_status_is "$1" "$2" &&
            api_on_node "${f##*/}" kovs_wait_until kovs_in_sync || return 1
    done
}

# kovs_api_failing KIND: true if the status shows the requests for KIND
# ("Pod") failing, that is, their last error, shown until one succeeds.
kovs_api_failing () {
    ovs-appctl -t kovs-controller status | grep -q "^api $1: last error: "
}

# kovs_api_working: true if the status shows no kind's requests failing.
kovs_api_working () {
    local status
    status=$(ovs-appctl -t kovs-controller status) &&
        ! echo "$status" | grep -q '^api [A-Za-z]*: last error: '
}

# http_answers FROM URL COUNT [NAME...]: fetches URL from FROM (see
# cl_http_get) COUNT times, a new connection each time, or with NAMEs until
# each NAME has answered (at most COUNT times), and prints the answers,
# sorted and without repeats; a fetch that fails answers "no answer".
# Unlike http_names (tests/sandbox-lib.sh), a failed fetch shows, and the
# usual case takes a few fetches, not COUNT.
http_answers () {
    local from="$1" url="$2" count="$3" want seen="" body _
    shift 3
    want=$(printf '%s\n' "$@" | sort -u)
    for _ in $(seq "$count"); do
        body=$(cl_http_get "$from" "$url" 2>/dev/null) || body="no answer"
        seen=$(printf '%s\n%s\n' "$seen" "$body" | sed '/^$/d' | sort -u)
        [ $# -gt 0 ] && [ "$seen" = "$want" ] && break
    done
    echo "$seen"
}
