#!/bin/bash
# Open vSwitch 3.1.0 (Debian 12), userspace datapath: a packet-out whose
# in_port is a patch port is lost once a ct action in its actions
# recirculates it.  A patch port has no datapath port, so the packet
# re-enters the datapath after conntrack from nowhere.  The same
# packet-out from the bridge's LOCAL port comes out.
#
# kovs sends ICMPv6 errors from br-ex's patch port on from br-int's LOCAL
# port for this reason (see struct pinctrl_icmp6_stash_args).
#
# usage: packet-out-patch-recirc.sh
# Needs only Debian's openvswitch-switch; touches nothing outside a
# temporary directory.  Exits 1 if the packet-out from the patch port is
# lost (the bug), 0 if it comes out.
set -eu
. "$(dirname "$0")/switch-lib.sh"
ovs-vsctl add-br br0 -- set bridge br0 datapath_type=dummy \
  -- add-br br1 -- set bridge br1 datapath_type=dummy \
  -- add-port br0 p2 -- set interface p2 type=dummy ofport_request=2 options:tx_pcap=$D/p2.pcap \
  -- add-port br0 patch0 -- set interface patch0 type=patch options:peer=patch1 ofport_request=1 \
  -- add-port br1 patch1 -- set interface patch1 type=patch options:peer=patch0
ovs-ofctl add-flows br0 - <<'F'
table=0,ip,actions=ct(zone=1,table=1)
table=1,ip,actions=output:2
F
# A UDP datagram 10.0.0.1:1 -> 10.0.0.2:2 (checksums valid: the IP one
# computed, UDP's 0).
pkt=00000000000200000000000108004500002000004000401126cb0a0000010a00000200010002000c00000000
out() { ovs-ofctl parse-pcap "$D/p2.pcap" 2>/dev/null | wc -l; }
status=0
for port in LOCAL 1; do
  before=$(out)
  ovs-ofctl -O OpenFlow15 packet-out br0 \
      "in_port=$port packet=$pkt actions=resubmit(,0)"
  sleep 0.5
  if [ "$(out)" -gt "$before" ]; then
    echo "packet-out from in_port=$port through ct: out of p2"
  else
    echo "packet-out from in_port=$port through ct: LOST"
    status=1
  fi
done
exit $status
