#!/bin/bash
# Open vSwitch 3.1.0 (Debian 12), userspace datapath: conntrack corrupts an
# ICMPv6 error that it NATs as related to a connection.
#
# Cause (lib/conntrack.c, nat_packet() and nat_packet_ipv6()): for a
# related ICMPv6 error the outer IPv6 address is rewritten with
# packet_set_ipv6_addr(pkt, key->nw_proto, ...), where key->nw_proto is
# the protocol of the connection (UDP or TCP), not ICMPv6.  The checksum
# "update" of packet_update_csum128() then lands where a UDP or TCP
# checksum would be, inside the ICMPv6 message: for a UDP connection at
# offset 6 of the ICMPv6 header, the low half of the "packet too big" MTU
# (or of a parameter problem's pointer); for TCP at offset 16, the first
# two bytes of the quoted packet's source address, which nothing rewrites
# again when the connection was only DNATed.  The ICMPv6 checksum is
# recomputed afterwards over the damage, so the receiver takes the error
# and believes it.  IPv4 is not affected (packet_set_ipv4_addr() reads the
# protocol from the IP header).  Upstream's lib/conntrack.c still does this
# (checked on the main branch of July 2026).
#
# The steps: a UDP datagram from fd00::1 to fd00::10 is DNATed to fd00::20
# (committed); fd00::20's "packet too big" (MTU 1450) about the datagram as
# it left comes back and is un-NATed as related.  The answer should come
# from fd00::10 with MTU 1450; the MTU arrives changed by the difference of
# the two addresses.  Then the same with a TCP SYN, where the quoted source
# address is damaged instead.
#
# usage: icmp6-related-nat.sh
# Needs only Debian's openvswitch-switch and python3; touches nothing
# outside a temporary directory.  Exits 1 if either answer is damaged (the
# bug), 0 if both are intact.
set -eu
. "$(dirname "$0")/switch-lib.sh"
ovs-vsctl add-br br0 -- set bridge br0 datapath_type=dummy \
    -- add-port br0 p1 -- set interface p1 type=dummy ofport_request=1 \
       options:tx_pcap="$D/p1.pcap" \
    -- add-port br0 p2 -- set interface p2 type=dummy ofport_request=2
ovs-ofctl add-flows br0 - <<'EOF'
table=0,priority=10,ipv6,in_port=1,actions=ct(commit,zone=1,nat(dst=fd00::20),table=1)
table=1,in_port=1,actions=output:2
table=0,priority=10,icmp6,in_port=2,actions=ct(zone=1,nat,table=2)
table=2,ct_state=+rel+trk,actions=output:1
EOF

# packet.py KIND...: the hex of a frame.
cat > "$D/packet.py" <<'EOF'
import socket, struct, sys

def a6(s):
    return socket.inet_pton(socket.AF_INET6, s)

def csum(data):
    data += b"\0" * (len(data) % 2)
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

def ip6(src, dst, proto, l4):
    pseudo = a6(src) + a6(dst) + struct.pack("!IxxxB", len(l4), proto)
    off = {17: 6, 6: 16, 58: 2}[proto]
    l4 = l4[:off] + struct.pack("!H", csum(pseudo + l4)) + l4[off + 2:]
    return (struct.pack("!IHBB", 6 << 28, len(l4), proto, 64)
            + a6(src) + a6(dst) + l4)

def l4(proto):
    if proto == "udp":
        return 17, struct.pack("!HHHH", 40000, 5000, 8 + 100, 0) + b"x" * 100
    return 6, struct.pack("!HHIIBBHHH", 40000, 80, 1, 0, 5 << 4, 2,
                          65535, 0, 0)

def frame(ip):
    return (bytes.fromhex("000000000002" "000000000001" "86dd") + ip).hex()

kind, proto = sys.argv[1:3]
p, payload = l4(proto)
if kind == "request":
    print(frame(ip6("fd00::1", "fd00::10", p, payload)))
else:
    quoted = ip6("fd00::1", "fd00::20", p, payload)
    icmp = struct.pack("!BBHI", 2, 0, 0, 1450) + quoted
    print(frame(ip6("fd00::20", "fd00::1", 58, icmp)))
EOF

# check.py PCAP N: says what the Nth ICMPv6 error in PCAP carries; exits 1
# if it is damaged.
cat > "$D/check.py" <<'EOF'
import socket, struct, sys
data = open(sys.argv[1], "rb").read()[24:]
frames = []
while data:
    n = struct.unpack("<I", data[8:12])[0]
    frames.append(data[16:16 + n])
    data = data[16 + n:]
f = frames[int(sys.argv[2]) - 1][14:]
src = socket.inet_ntop(socket.AF_INET6, f[8:24])
mtu = struct.unpack("!I", f[44:48])[0]
qsrc = socket.inet_ntop(socket.AF_INET6, f[48 + 8:48 + 24])
qdst = socket.inet_ntop(socket.AF_INET6, f[48 + 24:48 + 40])
print("    from %s, mtu %d, quoting %s > %s" % (src, mtu, qsrc, qdst))
sys.exit(0 if (src, mtu, qsrc, qdst) == ("fd00::10", 1450, "fd00::1",
                                         "fd00::10") else 1)
EOF

status=0
n=0
for proto in udp tcp; do
    n=$((n + 1))
    echo "$n. $proto from fd00::1 to fd00::10, DNATed to fd00::20;" \
         "packet too big (MTU 1450) back"
    ovs-appctl netdev-dummy/receive p1 \
        "$(python3 "$D/packet.py" request $proto)" >/dev/null
    ovs-appctl netdev-dummy/receive p2 \
        "$(python3 "$D/packet.py" error $proto)" >/dev/null
    sleep 0.5
    if python3 "$D/check.py" "$D/p1.pcap" $n; then
        echo "    intact"
    else
        echo "    DAMAGED (expected from fd00::10, mtu 1450, quoting" \
             "fd00::1 > fd00::10)"
        status=1
    fi
done
exit $status
