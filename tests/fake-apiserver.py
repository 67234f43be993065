#! /usr/bin/env python3
# Copyright (c) 2026 The kovs authors.
#
# Licensed under the Apache License, Version 2.0.

"""A fake Kubernetes API server for the tests.

It serves the six collections kovs watches over HTTPS with a bearer token
(or a client certificate), in the API server's wire format: List responses
with metadata.resourceVersion and metadata.continue (pagination with limit
and continue), watch streams of newline-delimited {"type", "object"} events
with bookmarks, and Status objects for errors.  A control port (plain HTTP,
loopback only) changes objects and injects faults.

    fake-apiserver.py serve DIR [--token-file F] [--cert F --key F]
                      [--client-ca F] [--max-page N] [--bookmark-interval S]
        Serves until killed.  Writes DIR/api-port and DIR/control-port once
        listening; logs to DIR/fake-apiserver.log.

    fake-apiserver.py ctl DIR COMMAND [ARG...]
        Sends COMMAND to the server whose files are in DIR and prints the
        answer.  Commands:

        put [-]              add or replace the objects (one object or a
                             List) read from stdin
        delete KIND NAME     delete an object; NAME is NAMESPACE/NAME for
                             namespaced kinds
        compact              forget the history so far: watches from an
                             older resourceVersion and older continue tokens
                             get 410
        expire-watches       compact, and end every open watch with an
                             ERROR event whose Status has code 410
        expired-watch-mode M how a watch from a forgotten resourceVersion is
                             refused: "event" (200 and an ERROR event, the
                             default) or "http" (HTTP 410)
        drop                 cut every connection, open watches in the
                             middle of an event
        down / up            refuse connections / accept them again
        stall                make every open watch go silent, forever
        malformed-event      send every open watch a line that is not JSON
        unknown-event        send every open watch an event of an unknown
                             type
        malformed-list N     answer the next N lists with broken JSON
        expire-continue N    answer the next N continued lists with 410
        bookmark             send every open watch a bookmark now
        play FILE RATE       put the objects in FILE (one JSON object a
                             line), in order, at RATE objects a second,
                             paced by the monotonic clock; answers, once
                             the last is put, how many it put and the last
                             resourceVersion
        stats                print counters as JSON

    Every ADDED, MODIFIED and DELETED event written to a watch is logged to
    DIR/watch-events.log as "TIME RESOURCEVERSION KIND", TIME being the
    wall clock (seconds, with microseconds) right before the event's bytes
    were written (and flushed, before the line is logged).  ResourceVersions come from one counter
    for all kinds, as etcd's do.
"""

import argparse
import base64
import copy
import json
import os
import random
import select
import socket
import ssl
import sys
import threading
import time
import urllib.parse
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


# The collections served: kind -> (path, list kind, apiVersion, namespaced).
RESOURCES = {
    "Node": ("/api/v1/nodes", "NodeList", "v1", False),
    "Namespace": ("/api/v1/namespaces", "NamespaceList", "v1", False),
    "Pod": ("/api/v1/pods", "PodList", "v1", True),
    "Service": ("/api/v1/services", "ServiceList", "v1", True),
    "EndpointSlice": ("/apis/discovery.k8s.io/v1/endpointslices",
                      "EndpointSliceList", "discovery.k8s.io/v1", True),
    "NetworkPolicy": ("/apis/networking.k8s.io/v1/networkpolicies",
                      "NetworkPolicyList", "networking.k8s.io/v1", True),
}
KIND_BY_PATH = {v[0]: k for k, v in RESOURCES.items()}


def status(code, reason, message):
    """A metav1.Status object."""
    return {"kind": "Status", "apiVersion": "v1", "metadata": {},
            "status": "Failure", "message": message, "reason": reason,
            "code": code}


def dumps(obj):
    return json.dumps(obj, separators=(",", ":"))


def obj_key(obj):
    md = obj.get("metadata", {})
    return (md.get("namespace", ""), md.get("name", ""))


class Watch:
    """One open watch stream."""

    def __init__(self, kind, sent_rv):
        self.kind = kind
        self.sent_rv = sent_rv      # Events up to this one were sent.
        self.inject = []            # Raw lines to send.
        self.expire = False         # Send an ERROR 410 and end.
        self.stall = False          # Go silent.
        self.drop = False           # Cut the connection mid-event.
        self.bookmark = False       # Send a bookmark now.


class State:
    """Everything the API server knows, behind one lock."""

    def __init__(self, args):
        self.lock = threading.Condition()
        self.args = args
        self.rv = 1
        self.objects = {kind: {} for kind in RESOURCES}
        self.history = []           # (rv, kind, type, object)
        self.compacted_rv = 0       # Older resourceVersions are gone.
        self.snapshots = {}         # Continue id -> (rv, items).
        self.watches = set()
        self.conns = set()
        self.down = False
        self.expired_watch_mode = "event"
        self.malformed_lists = 0
        self.expire_continues = 0
        self.stats = {"requests": 0, "lists": 0, "watches": 0,
                      "unauthorized": 0, "expired": 0, "refused": 0}

    def token(self):
        if not self.args.token_file:
            return None
        with open(self.args.token_file) as f:
            return f.read().strip()

    # Changes, with the lock held.

    def record(self, kind, type_, obj):
        self.history.append((self.rv, kind, type_, copy.deepcopy(obj)))
        self.lock.notify_all()

    def put(self, obj):
        kind = obj.get("kind")
        if kind not in RESOURCES:
            raise ValueError("unknown kind %r" % kind)
        path, _, api_version, namespaced = RESOURCES[kind]
        obj = copy.deepcopy(obj)
        obj["apiVersion"] = api_version
        md = obj.setdefault("metadata", {})
        if not namespaced:
            md.pop("namespace", None)
        elif not md.get("namespace"):
            md["namespace"] = "default"
        key = obj_key(obj)
        old = self.objects[kind].get(key)
        md["uid"] = (old["metadata"]["uid"] if old
                     else md.get("uid") or str(uuid.uuid4()))
        self.rv += 1
        md["resourceVersion"] = str(self.rv)
        self.objects[kind][key] = obj
        self.record(kind, "MODIFIED" if old else "ADDED", obj)
        return self.rv

    def delete(self, kind, name):
        if kind not in RESOURCES:
            raise ValueError("unknown kind %r" % kind)
        ns, _, n = name.rpartition("/")
        key = (ns if RESOURCES[kind][3] else "", n)
        obj = self.objects[kind].pop(key, None)
        if obj is None:
            raise KeyError("%s %s not found" % (kind, name))
        self.rv += 1
        obj = copy.deepcopy(obj)
        obj["metadata"]["resourceVersion"] = str(self.rv)
        self.record(kind, "DELETED", obj)
        return self.rv

    def compact(self):
        self.compacted_rv = self.rv
        self.history = []
        self.snapshots = {}


def list_item(obj):
    """An object as a List shows it: without kind and apiVersion."""
    item = copy.deepcopy(obj)
    item.pop("kind", None)
    item.pop("apiVersion", None)
    return item


class ApiHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-apiserver/1"

    def log_message(self, format, *args):
        self.server.log("%s %s" % (self.client_address[1], format % args))

    def setup(self):
        super().setup()
        with self.server.state.lock:
            self.server.state.conns.add(self.connection)

    def finish(self):
        with self.server.state.lock:
            self.server.state.conns.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def send_json(self, code, obj, raw=None):
        body = raw if raw is not None else (dumps(obj) + "\n").encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def authorized(self):
        st = self.server.state
        token = st.token()
        header = self.headers.get("Authorization", "")
        if token and header == "Bearer " + token:
            return True
        if self.server.args.client_ca:
            try:
                if self.connection.getpeercert():
                    return True
            except (ValueError, OSError):
                pass
        return False

    def do_GET(self):
        st = self.server.state
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        with st.lock:
            st.stats["requests"] += 1
        if not self.authorized():
            with st.lock:
                st.stats["unauthorized"] += 1
            self.send_json(401, status(401, "Unauthorized", "Unauthorized"))
            return
        kind = KIND_BY_PATH.get(url.path)
        if kind is None:
            self.send_json(404, status(404, "NotFound",
                                       "the server could not find the "
                                       "requested resource"))
            return
        if query.get("watch", [""])[0] in ("1", "true"):
            self.watch(kind, query)
        else:
            self.list(kind, query)

    def list(self, kind, query):
        st = self.server.state
        path, list_kind, api_version, _ = RESOURCES[kind]
        try:
            limit = int(query.get("limit", ["0"])[0])
        except ValueError:
            limit = 0
        limit = min(limit or 1 << 30, self.server.args.max_page)
        token = query.get("continue", [""])[0]

        with st.lock:
            st.stats["lists"] += 1
            if st.malformed_lists > 0:
                st.malformed_lists -= 1
                raw = ('{"kind":"%s","apiVersion":"%s","metadata":'
                       '{"resourceVersion":"%d"},"items":[{"metadata":'
                       % (list_kind, api_version, st.rv)).encode()
                self.send_json(200, None, raw=raw)
                return
            if token:
                try:
                    c = json.loads(base64.b64decode(token))
                    snap_id, offset = c["id"], int(c["offset"])
                    snap = st.snapshots.get(snap_id)
                except (ValueError, KeyError, TypeError):
                    self.send_json(400, status(400, "BadRequest",
                                               "invalid continue token"))
                    return
                if snap is None or st.expire_continues > 0:
                    st.expire_continues = max(0, st.expire_continues - 1)
                    st.stats["expired"] += 1
                    self.send_json(410, status(
                        410, "Expired",
                        "The provided continue parameter is too old to "
                        "display a consistent list result. You can start "
                        "a new list without the continue parameter."))
                    return
                rv, items = snap
            else:
                offset = 0
                rv = st.rv
                items = [list_item(o) for _, o in
                         sorted(st.objects[kind].items())]
                snap_id = uuid.uuid4().hex
                st.snapshots[snap_id] = (rv, items)

        page = items[offset:offset + limit]
        metadata = {"resourceVersion": str(rv)}
        if offset + limit < len(items):
            metadata["continue"] = base64.b64encode(dumps(
                {"id": snap_id, "offset": offset + limit,
                 "rv": rv}).encode()).decode()
        self.send_json(200, {"kind": list_kind, "apiVersion": api_version,
                             "metadata": metadata, "items": page})

    def write_chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def write_lines(self, lines):
        """Writes 'lines' as chunks, each line split at a random point so
        that the client has to put lines together again."""
        for line in lines:
            data = line.encode() + b"\n"
            cut = random.randint(1, len(data))
            self.write_chunk(data[:cut])
            if cut < len(data):
                self.write_chunk(data[cut:])

    def event(self, type_, obj):
        return dumps({"type": type_, "object": obj})

    def watch(self, kind, query):
        st = self.server.state
        args = self.server.args
        rv_param = query.get("resourceVersion", [""])[0]
        bookmarks = query.get("allowWatchBookmarks", [""])[0] == "true"
        try:
            timeout = int(query.get("timeoutSeconds", ["1800"])[0])
        except ValueError:
            timeout = 1800
        deadline = time.monotonic() + timeout

        initial = []
        with st.lock:
            st.stats["watches"] += 1
            if rv_param in ("", "0"):
                start_rv = st.rv
                initial = [self.event("ADDED", o) for _, o in
                           sorted(st.objects[kind].items())]
            else:
                try:
                    start_rv = int(rv_param)
                except ValueError:
                    self.send_json(400, status(400, "BadRequest",
                                               "invalid resourceVersion"))
                    return
                if start_rv < st.compacted_rv:
                    st.stats["expired"] += 1
                    gone = status(410, "Expired",
                                  "too old resource version: %d (%d)"
                                  % (start_rv, st.compacted_rv))
                    if st.expired_watch_mode == "http":
                        self.send_json(410, gone)
                        return
                    initial = [self.event("ERROR", gone)]
                    start_rv = None
            w = Watch(kind, start_rv)
            if start_rv is not None:
                st.watches.add(w)

        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            self.write_lines(initial)
            if start_rv is not None:
                self.stream(w, deadline, bookmarks)
            self.wfile.write(b"0\r\n\r\n")
        except OSError:
            self.close_connection = True
        finally:
            with st.lock:
                st.watches.discard(w)

    def stream(self, w, deadline, bookmarks):
        st = self.server.state
        args = self.server.args
        next_bookmark = time.monotonic() + args.bookmark_interval
        while True:
            lines = []
            sent_rvs = []
            end = False
            with st.lock:
                while True:
                    now = time.monotonic()
                    if (w.drop or w.stall or w.expire or w.inject
                            or w.bookmark or now >= deadline
                            or (bookmarks and now >= next_bookmark)
                            or any(e[0] > w.sent_rv and e[1] == w.kind
                                   for e in st.history)):
                        break
                    wake = min(deadline, next_bookmark) if bookmarks \
                        else deadline
                    st.lock.wait(max(0.01, wake - now))
                if w.drop or w.stall:
                    st.watches.discard(w)
                else:
                    lines.extend(w.inject)
                    w.inject = []
                    for rv, kind, type_, obj in st.history:
                        if rv > w.sent_rv and kind == w.kind:
                            lines.append(self.event(type_, obj))
                            sent_rvs.append(rv)
                    w.sent_rv = max(w.sent_rv, st.rv)
                    if w.expire:
                        lines.append(self.event("ERROR", status(
                            410, "Expired", "too old resource version")))
                        end = True
                    if bookmarks and (w.bookmark or now >= next_bookmark):
                        lines.append(self.event("BOOKMARK", {
                            "kind": w.kind,
                            "apiVersion": RESOURCES[w.kind][2],
                            "metadata": {"resourceVersion": str(st.rv)}}))
                        next_bookmark = now + args.bookmark_interval
                    w.bookmark = False
                    if now >= deadline:
                        end = True
            if w.drop:
                self.drop_mid_event()
                raise OSError("dropped")
            if w.stall:
                self.stall()
                raise OSError("stalled")
            # The time the events leave is taken just before their first
            # byte is written: taken after the write, it can be later than
            # the client's reaction to them, when this thread waits for
            # the interpreter while the client reads, computes and is done.
            sent_time = time.time()
            self.write_lines(lines)
            if sent_rvs:
                self.wfile.flush()
                self.server.log_events(sent_time, sent_rvs, w.kind)
            if end:
                return

    def drop_mid_event(self):
        """Sends half an event, then cuts the connection."""
        half = self.event("MODIFIED", {"metadata": {"name": "x"}})
        self.write_chunk(half[:len(half) // 2].encode())
        self.abort()

    def abort(self):
        self.close_connection = True
        try:
            raw = socket.socket(fileno=os.dup(self.connection.fileno()))
            raw.shutdown(socket.SHUT_RDWR)
            raw.close()
        except OSError:
            pass

    def stall(self):
        """Holds the connection without a word until the client goes."""
        fd = self.connection.fileno()
        while not self.server.stopping:
            readable, _, _ = select.select([fd], [], [], 0.5)
            if readable:
                try:
                    if not os.read(fd, 4096):
                        break
                except OSError:
                    break
        self.abort()


class ApiServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, state, args, log):
        self.state = state
        self.args = args
        self.log = log
        self.stopping = False
        self.event_log = open(os.path.join(args.dir, "watch-events.log"),
                              "a", buffering=1)
        self.event_log_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), ApiHandler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
        if args.client_ca:
            ctx.load_verify_locations(args.client_ca)
            ctx.verify_mode = ssl.CERT_OPTIONAL
        self.ssl_context = ctx

    def get_request(self):
        sock, addr = self.socket.accept()
        # The handshake happens in the connection's thread, so that a client
        # that stalls or fails it holds up nobody else.
        return (self.ssl_context.wrap_socket(
            sock, server_side=True, do_handshake_on_connect=False), addr)

    def verify_request(self, request, client_address):
        with self.state.lock:
            if self.state.down:
                self.state.stats["refused"] += 1
                return False
        return True

    def log_events(self, t, rvs, kind):
        """Logs that the events with resourceVersions 'rvs', of 'kind',
        were written to a watch at wall clock time 't'."""
        text = "".join("%.6f %d %s\n" % (t, rv, kind) for rv in rvs)
        with self.event_log_lock:
            self.event_log.write(text)

    def handle_error(self, request, client_address):
        self.log("connection from port %d: %s"
                 % (client_address[1], sys.exc_info()[1]))


class ControlHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, format, *args):
        self.server.log("control: " + format % args)

    def reply(self, code, text):
        body = (text + "\n").encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        request = json.loads(self.rfile.read(length) or b"{}")
        try:
            self.reply(200, self.server.command(request["command"],
                                                request.get("args", []),
                                                request.get("input", "")))
        except (ValueError, KeyError, IndexError, OSError) as e:
            self.reply(400, "error: %s" % e)


class ControlServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state, api, log):
        self.state = state
        self.api = api
        self.log = log
        super().__init__(("127.0.0.1", 0), ControlHandler)

    def each_watch(self, f):
        for w in list(self.state.watches):
            f(w)
        self.state.lock.notify_all()

    def play(self, path, rate):
        """Puts the objects in the file at 'path', one JSON object a line,
        at 'rate' a second: the i-th (from 0) at i / rate seconds after the
        first, by the monotonic clock.  Returns how many it put and the
        last resourceVersion."""
        rate = float(rate)
        if rate <= 0:
            raise ValueError("rate must be positive")
        with open(path) as f:
            objs = [json.loads(line) for line in f if line.strip()]
        st = self.state
        start = time.monotonic()
        rv = 0
        for i, obj in enumerate(objs):
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            with st.lock:
                rv = st.put(obj)
        self.log("control: played %d objects from %s at %g/s in %.3f s"
                 % (len(objs), path, rate, time.monotonic() - start))
        return "played %d objects, last resourceVersion %d" % (len(objs), rv)

    def command(self, cmd, args, input_):
        st = self.state
        if cmd == "play":
            return self.play(args[0], args[1])
        with st.lock:
            if cmd == "put":
                doc = json.loads(input_)
                objs = doc["items"] if doc.get("kind") == "List" else [doc]
                rv = 0
                for obj in objs:
                    rv = st.put(obj)
                return str(rv)
            elif cmd == "delete":
                return str(st.delete(args[0], args[1]))
            elif cmd == "compact":
                st.compact()
            elif cmd == "expire-watches":
                st.compact()
                self.each_watch(lambda w: setattr(w, "expire", True))
            elif cmd == "expired-watch-mode":
                if args[0] not in ("event", "http"):
                    raise ValueError("mode must be event or http")
                st.expired_watch_mode = args[0]
            elif cmd in ("drop", "down"):
                if cmd == "down":
                    st.down = True
                # Watches cut themselves, in the middle of an event; what is
                # left (idle connections, stalled watches) is cut here.
                self.each_watch(lambda w: setattr(w, "drop", True))
                st.lock.wait(0.2)
                for conn in list(st.conns):
                    try:
                        raw = socket.socket(fileno=os.dup(conn.fileno()))
                        raw.shutdown(socket.SHUT_RDWR)
                        raw.close()
                    except OSError:
                        pass
            elif cmd == "up":
                st.down = False
            elif cmd == "stall":
                self.each_watch(lambda w: setattr(w, "stall", True))
            elif cmd == "malformed-event":
                self.each_watch(lambda w: w.inject.append(
                    '{"type":"MODIFIED","object":{"metadata":'))
            elif cmd == "unknown-event":
                self.each_watch(lambda w: w.inject.append(dumps(
                    {"type": "REARRANGED",
                     "object": {"kind": w.kind, "metadata": {
                         "name": "x", "resourceVersion": str(st.rv)}}})))
            elif cmd == "malformed-list":
                st.malformed_lists = int(args[0])
            elif cmd == "expire-continue":
                st.expire_continues = int(args[0])
            elif cmd == "bookmark":
                self.each_watch(lambda w: setattr(w, "bookmark", True))
            elif cmd == "stats":
                stats = dict(st.stats)
                stats["rv"] = st.rv
                stats["open_watches"] = len(st.watches)
                stats["connections"] = len(st.conns)
                return dumps(stats)
            else:
                raise ValueError("unknown command %r" % cmd)
        return "ok"


def serve(args):
    log_file = open(os.path.join(args.dir, "fake-apiserver.log"), "a",
                    buffering=1)
    log_lock = threading.Lock()

    def log(msg):
        with log_lock:
            log_file.write("%.3f %s\n" % (time.time(), msg))

    state = State(args)
    api = ApiServer(state, args, log)
    control = ControlServer(state, api, log)
    threading.Thread(target=control.serve_forever, daemon=True).start()

    # Publish the ports atomically: tests wait for the files.
    for name, server in (("control-port", control), ("api-port", api)):
        path = os.path.join(args.dir, name)
        with open(path + ".tmp", "w") as f:
            f.write("%d\n" % server.server_address[1])
        os.rename(path + ".tmp", path)
    log("listening on port %d (API), %d (control)"
        % (api.server_address[1], control.server_address[1]))
    try:
        api.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    api.stopping = True


def ctl(args):
    with open(os.path.join(args.dir, "control-port")) as f:
        port = int(f.read())
    input_ = sys.stdin.read() if args.command == "put" else ""
    if args.command == "play" and args.args:
        # The server's working directory is not ours.
        args.args[0] = os.path.abspath(args.args[0])
    request = json.dumps({"command": args.command, "args": args.args,
                          "input": input_}).encode()
    req = urllib.request.Request("http://127.0.0.1:%d/" % port,
                                 data=request, method="POST")
    # The control port is on the loopback: never through a proxy.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    # A play takes as long as its objects at their rate, and a put as long
    # as the server takes to parse and store them (tens of seconds for the
    # benchmark's large cluster on a busy machine).
    timeout = None if args.command in ("play", "put") else 10
    try:
        with opener.open(req, timeout=timeout) as resp:
            sys.stdout.write(resp.read().decode())
            return 0
    except urllib.error.HTTPError as e:
        sys.stderr.write(e.read().decode())
        return 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    p = sub.add_parser("serve")
    p.add_argument("dir")
    p.add_argument("--token-file")
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--client-ca")
    p.add_argument("--max-page", type=int, default=500)
    p.add_argument("--bookmark-interval", type=float, default=1.0)
    p = sub.add_parser("ctl")
    p.add_argument("dir")
    p.add_argument("command")
    p.add_argument("args", nargs="*")
    args = parser.parse_args()
    if args.mode == "serve":
        serve(args)
        return 0
    return ctl(args)


if __name__ == "__main__":
    sys.exit(main())
