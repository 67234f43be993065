# Copyright (c) 2026 The kovs authors.
#
# Licensed under the Apache License, Version 2.0.
#
# Shell helpers for the end-to-end tests (tests/e2e.at) and the demo: real
# servers in pods of a tests/cluster-lib.sh cluster.  nginx (Debian's
# nginx-light) as an Ingress controller would configure it, dnsmasq
# (Debian's dnsmasq-base) as the cluster DNS server, and an HTTP backend
# that speaks HTTP/1.1 keep-alive.  Each server runs with its own files in
# the cluster's work directory, started with cl_bg, so that cl_cleanup
# stops it.
#
#   e2e_echo_serve WHO PORT               keep-alive HTTP backend
#   e2e_echo_stop WHO PORT                stops it
#   e2e_http_many FROM URL COUNT          COUNT GETs, one answer per line
#   e2e_nginx_ingress WHO HOST=IP:PORT... nginx virtual hosts to Services
#   e2e_dnsmasq_serve WHO NAME=IP...      dnsmasq answering NAMEs
#   e2e_manifest FILE                     a YAML manifest as one JSON line

# The backend of e2e_echo_serve.  Every GET is answered with one line,
# "NAME FORWARDED-FOR REQUEST": the server's name, the X-Forwarded-For
# header it got ("-" without one) and the number of this request on its
# connection (1 for a new connection), so that a test sees where a request
# went, what the proxy passed on and whether the proxy reused a connection.
# HTTP/1.1: connections stay open between requests unless the client asks
# otherwise.
_e2e_py_echo='
import http.server, sys
name, port, ready = sys.argv[1], int(sys.argv[2]), sys.argv[3]
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def setup(self):
        super().setup()
        self.requests = 0
    def do_GET(self):
        self.requests += 1
        xff = self.headers.get("X-Forwarded-For", "-")
        body = ("%s %s %d\n" % (name, xff, self.requests)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, fmt, *args):
        sys.stderr.write("%s:%d %s\n" % (self.client_address[0],
                                        self.client_address[1], fmt % args))
        sys.stderr.flush()
http.server.ThreadingHTTPServer.allow_reuse_address = True
http.server.ThreadingHTTPServer.daemon_threads = True
server = http.server.ThreadingHTTPServer(("0.0.0.0", port), Handler)
open(ready, "w").close()
server.serve_forever()
'

# e2e_echo_serve WHO PORT: starts the keep-alive HTTP backend on TCP PORT
# in WHO (answers "NAME FORWARDED-FOR REQUEST", NAME being a pod's name
# without namespace).  Returns once it listens.  Stop it with e2e_echo_stop
# or cl_cleanup.
e2e_echo_serve() {
    _cl_serve echo "$_e2e_py_echo" "$1" "$2"
}

# e2e_echo_stop WHO PORT: stops the backend that e2e_echo_serve started
# (SIGTERM): its connections close, as a pod's do when the kubelet
# terminates its containers.
e2e_echo_stop() {
    cl_bg_stop "echo-$(_cl_key "$1")-$2"
}

# e2e_http_many FROM URL COUNT: COUNT HTTP GETs of URL from FROM, one after
# the other, each on a new connection, within CL_TIMEOUT seconds each.
# Prints one line per request: the body's first line for a 2xx answer,
# "error STATUS-OR-REASON" otherwise.  Resolves URL's host name with FROM's
# resolver (its /etc/hosts, resolv.conf).
e2e_http_many() {
    local ns t="${CL_TIMEOUT:-3}"
    ns=$(_cl_ns "$1") || return 1
    timeout $(( (t + 1) * $3 + 5 )) ip netns exec "$ns" python3 -I -S -c '
import sys, urllib.error, urllib.request
url, count, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
for _ in range(count):
    try:
        body = opener.open(url, timeout=timeout).read().decode()
        print(body.splitlines()[0] if body else "")
    except urllib.error.HTTPError as e:
        print("error %d" % e.code)
    except Exception as e:
        print("error %s" % e)
    sys.stdout.flush()
' "$2" "$3" "$t"
}

# e2e_nginx_ingress WHO HOST=IP:PORT...: starts nginx in pod WHO listening
# on port 80 as an Ingress controller configures it for rules "host HOST,
# path /, backend the Service at IP:PORT" (its ClusterIP): one virtual host
# per HOST proxying to an upstream that holds the ClusterIP with up to 8
# idle keep-alive connections, each used for at most 2 requests (so that
# new connections, load-balanced anew by the Service, keep coming), HTTP/1.1
# to the upstream, the request's Host and X-Forwarded-For (the client's
# address appended) passed on; any other host gets 404.  Its files (the
# configuration, logs, pid file, temporary files) are in
# WORKDIR/nginx-WHO; access.log has one line per request, "CLIENT HOST
# STATUS UPSTREAM".  Returns once nginx listens.
e2e_nginx_ingress() {
    local who="$1" dir tag arg host backend n=0
    shift
    tag=nginx-$(_cl_key "$who")
    dir=$CL_WORKDIR/$tag
    rm -rf "$dir" && mkdir -p "$dir" || return 1
    {
        cat <<EOF
user root;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log info;
events { worker_connections 256; }
http {
    log_format ingress '\$remote_addr \$host \$status \$upstream_addr';
    access_log $dir/access.log ingress;
    client_body_temp_path $dir/client-body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    server {
        listen 80 default_server;
        return 404;
    }
EOF
        for arg in "$@"; do
            n=$((n + 1))
            host=${arg%%=*}
            backend=${arg#*=}
            cat <<EOF
    upstream backend-$n {
        server $backend;
        keepalive 8;
        keepalive_requests 2;
    }
    server {
        listen 80;
        server_name $host;
        location / {
            proxy_pass http://backend-$n;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$host;
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
        }
    }
EOF
        done
        echo "}"
    } >"$dir/nginx.conf" || return 1
    cl_bg "$who" "$tag" nginx -p "$dir" -c "$dir/nginx.conf" \
        -e "$dir/error.log" -g 'daemon off;' || return 1
    cl_wait_until 5 cl_exec "$who" sh -c "ss -ltn | grep -q ':80 '" || {
        cat "$CL_WORKDIR/cl-state/bg/$tag.log" "$dir/error.log" >&2
        return 1
    }
}

# e2e_dnsmasq_serve WHO NAME=IP...: starts dnsmasq in pod WHO as a cluster
# DNS server on the pod's address, port 53, UDP and TCP: it answers each
# NAME with IP, "whoami.cluster.local" with the pod's own address (so that
# a client sees which DNS pod answered) and any other name under
# cluster.local with NXDOMAIN; it forwards nothing.  Queries are logged in
# cl-state/bg/dnsmasq-WHO.log.  Returns once it listens on UDP and TCP.
e2e_dnsmasq_serve() {
    local who="$1" ip tag arg
    shift
    ip=$(cl_ip "$who") || return 1
    tag=dnsmasq-$(_cl_key "$who")
    set -- "$@" "whoami.cluster.local=$ip"
    for arg in "$@"; do
        shift
        set -- "$@" "--host-record=${arg%%=*},${arg#*=}"
    done
    cl_bg "$who" "$tag" dnsmasq --keep-in-foreground --conf-file=/dev/null \
        --no-resolv --no-hosts --pid-file= --user=root \
        --listen-address="$ip" --bind-interfaces --local=/cluster.local/ \
        --log-queries --log-facility=- "$@" || return 1
    cl_wait_until 5 cl_exec "$who" sh -c \
        "ss -lun | grep -q '$ip:53 ' && ss -ltn | grep -q '$ip:53 '" || {
        cat "$CL_WORKDIR/cl-state/bg/$tag.log" >&2
        return 1
    }
}

# e2e_manifest FILE: prints the Kubernetes object of YAML FILE as one line
# of JSON, for write_state and cluster_write_state.
e2e_manifest() {
    python3 -I -c '
import json, sys, yaml
print(json.dumps(yaml.safe_load(open(sys.argv[1])), separators=(",", ":")))
' "$1"
}
