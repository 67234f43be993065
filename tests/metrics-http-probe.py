# Copyright (c) 2026 The kovs authors.
#
# Licensed under the Apache License, Version 2.0.
#
# Talks raw HTTP to kovs-controller's metrics endpoint at 127.0.0.1:PORT
# (tests/metrics.at) and prints one line per check, what a client sees:
#
#     python3 metrics-http-probe.py PORT
#
# - a client that sends half a request and waits does not hold up others,
#   and is answered once it sends the rest;
# - a request sent a byte at a time is answered;
# - at the connection limit, idle connections do not keep a new client out;
# - HEAD gets the headers of GET and no body;
# - an unknown path gets 404, a POST 405, garbage 400, a request head that
#   fills 8 KB without ending 431.

import socket
import sys
import time

PORT = int(sys.argv[1])


def connect():
    return socket.create_connection(("127.0.0.1", PORT), timeout=5)


def read_all(s):
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            return data
        data += chunk


def answer(s):
    """The status line, the Content-Length and the body's length."""
    data = read_all(s)
    s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    length = [l.split(":", 1)[1].strip() for l in lines
              if l.lower().startswith("content-length:")]
    return "%s (Content-Length %s, body %d bytes)" % (
        lines[0], length[0] if length else "none", len(body))


def request(data):
    s = connect()
    s.sendall(data)
    return answer(s)


def status(data):
    return request(data).split(" (")[0]


slow = connect()
slow.sendall(b"GET /heal")
time.sleep(0.3)
print("while a client waits: %s" % status(b"GET /healthz HTTP/1.1\r\n\r\n"))
slow.sendall(b"thz HTTP/1.1\r\nHost: x\r\n\r\n")
print("the waiting client: %s" % answer(slow).split(" (")[0])

s = connect()
for byte in b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n":
    s.sendall(bytes([byte]))
    time.sleep(0.005)
print("a byte at a time: %s" % answer(s).split(" (")[0])

idle = [connect() for _ in range(100)]
time.sleep(0.3)
print("beside 100 idle connections: %s"
      % status(b"GET /healthz HTTP/1.0\r\n\r\n"))
for s in idle:
    s.close()

get = request(b"GET /metrics?x=1 HTTP/1.1\r\n\r\n")
head = request(b"HEAD /metrics HTTP/1.1\r\n\r\n")
get_length = get.split("Content-Length ")[1].split(",")[0]
head_length = head.split("Content-Length ")[1].split(",")[0]
print("GET /metrics: %s, body as long as said: %s"
      % (get.split(" (")[0], get.endswith("body %s bytes)" % get_length)))
print("HEAD /metrics: %s, %s" % (head.split(" (")[0],
                                 head.split(", ")[1].rstrip(")")))
print("HEAD Content-Length as GET's, give or take: %s"
      % (abs(int(head_length) - int(get_length)) < 200))
print("unknown path: %s" % status(b"GET /nope HTTP/1.1\r\n\r\n"))
print("POST: %s" % status(b"POST /metrics HTTP/1.1\r\n"
                          b"Content-Length: 0\r\n\r\n"))
print("garbage: %s" % status(b"hello\r\n\r\n"))
print("no version: %s" % status(b"GET /metrics\r\n\r\n"))
big = b"GET /metrics HTTP/1.1\r\nX-Filler: "
big += b"a" * (8192 - len(big))
print("8 KB head without its end: %s" % status(big))
print("after all that: %s" % status(b"GET /healthz HTTP/1.1\r\n\r\n"))
