# Copyright (c) 2026 The kovs authors.
#
# Licensed under the Apache License, Version 2.0.
#
# Shell helpers for the tests against the fake API server
# (tests/fake-apiserver.py): certificates, the server itself, changes and
# faults through its control port, and kovs-controller connected to it.
# Sourced by tests/apiserver.at after tests/sandbox-lib.sh, whose helpers
# (kovs_on_exit, kovs_wait_until, kill_pidfile, k8s_* generators) these
# use.  Everything works in the current directory, on 127.0.0.1 only.

# api_certs: a test CA (ca.crt), a server certificate for 127.0.0.1 signed
# by it (server.crt, server.key), a client certificate signed by it
# (client.crt, client.key) and an unrelated CA (other-ca.crt).
api_certs () {
    local ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
    {
        openssl req -x509 $ec -keyout ca.key -out ca.crt -days 2 \
            -subj /CN=kovs-test-ca &&
        openssl req -x509 $ec -keyout other-ca.key -out other-ca.crt \
            -days 2 -subj /CN=kovs-other-ca &&
        openssl req $ec -keyout server.key -out server.csr \
            -subj /CN=127.0.0.1 &&
        printf '%s\n' 'subjectAltName=IP:127.0.0.1,DNS:localhost' \
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
    api_certs || return 1
    echo "kovs-test-token-$$" > api-token
    cp api-token token
    python3 "$abs_top_srcdir/tests/fake-apiserver.py" serve "$PWD" \
        --token-file="$PWD/api-token" --cert=server.crt --key=server.key \
        --client-ca=ca.crt --max-page=2 --bookmark-interval=1 "$@" \
        > fake-apiserver.stderr 2>&1 &
    echo $! > fake-apiserver.pid
    kovs_on_exit "kill_pidfile '$PWD/fake-apiserver.pid'"
    kovs_wait_until test -s api-port ||
        { cat fake-apiserver.stderr >&2; return 1; }
}

# api_url: the fake API server's URL.
api_url () {
    echo "https://127.0.0.1:$(cat api-port)"
}

# api_ctl COMMAND [ARG...]: a command to the fake API server (see
# tests/fake-apiserver.py).
api_ctl () {
    python3 "$abs_top_srcdir/tests/fake-apiserver.py" ctl "$PWD" "$@"
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
    env -u KUBERNETES_SERVICE_HOST -u KUBERNETES_SERVICE_PORT \
        -u https_proxy -u HTTPS_PROXY -u http_proxy -u HTTP_PROXY \
        -u all_proxy -u ALL_PROXY "$@"
}

# api_kovs_start NODE [OPTION...]: starts kovs-controller for NODE with
# OPTIONs (which say how to reach the fake API server), watches renewed
# every 2 to 3 seconds, and debug logs of the API client.
api_kovs_start () {
    local node=$1
    shift
    api_env kovs-controller --detach --no-chdir --pidfile --log-file \
        --node-name="$node" --k8s-watch-timeout=2 \
        --cluster-cidr=10.244.0.0/16 --service-cidr=10.96.0.0/12 \
        -vofctrl:file:dbg -vk8s_client:file:dbg -vkovs_controller:file:dbg \
        -vconsole:warn \
        "$@" 2>>kovs-controller.stderr ||
        { cat kovs-controller.stderr >&2; return 1; }
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
