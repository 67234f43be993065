#!/bin/bash
# Open vSwitch 3.1.0 (Debian 12), userspace datapath: after the OpenFlow
# tables change, a datapath megaflow can keep the actions of the old tables
# for as long as traffic keeps it alive, although every revalidator round
# since has "updated" it.  Only "ovs-appctl revalidator/purge" (or 10 s
# without a packet) removes it.
#
# Cause (lib/dpif-netdev.c, flow_put_on_pmd()): when a revalidator changes
# the actions of a megaflow in place, the userspace datapath finds the
# megaflow to change by a classifier lookup of the flow's unmasked key, not
# by its UFID.  Megaflows may overlap: a revalidator keeps a megaflow whose
# mask is narrower than the new tables need and only changes its actions,
# and a later packet outside it gets a wider megaflow that covers it.  The
# lookup then returns whichever of the two the datapath classifier tries
# first, so the new actions go to the wider megaflow, the narrow one keeps
# the old actions, and its revalidator record (ukey) says it has the new
# ones, so no later round, and no later table change that leaves its
# actions alone, touches it again.  Once the wider megaflow goes, the
# packets it used to take meet the stale one.  Upstream fixed it in
# "dpif-netdev: Fix dpif_netdev_flow_put." (v3.1.3; also 2.17.8, 3.0.5,
# 3.2.0); Debian 12's 3.1.0 lacks it.
#
# The datapath classifier tries its subtables (one per mask) in the order
# they were made, unless a PMD thread sorts them by hits; the dummy ports
# here, like the veths of a netdev bridge, are polled by the main thread,
# which never sorts.  A /16 megaflow of 10.3.0.1, kept throughout, makes
# the /16 subtable the first.  The steps, as with NetworkPolicy: 10.1.2.0/24
# allowed; 10.1.0.0/16 denied (10.1.2.2's /24 megaflow is kept, dropping;
# 10.1.0.2 gets a /16 one); the deny deleted (10.1.2.2 should pass again);
# a rule that changes nothing for 10.1.2.2.  10.1.2.2 stays dropped.
#
# usage: stale-megaflow.sh
# Needs only Debian's openvswitch-switch; touches nothing outside a
# temporary directory.  Exits 1 if 10.1.2.2's packets are dropped after
# step 4 (the bug), 0 if they are delivered.
set -eu
. "$(dirname "$0")/switch-lib.sh"
ovs-vsctl add-br br0 -- set bridge br0 datapath_type=dummy \
    -- add-port br0 p1 -- set interface p1 type=dummy ofport_request=1 \
    -- add-port br0 p2 -- set interface p2 type=dummy ofport_request=2

send() {    # send SRC [COUNT]: COUNT TCP packets from SRC to 10.0.0.9:80.
    for _ in $(seq 1 "${2:-1}"); do
        ovs-appctl netdev-dummy/receive p1 "in_port(1),\
eth(src=50:54:00:00:00:01,dst=50:54:00:00:00:02),eth_type(0x0800),\
ipv4(src=$1,dst=10.0.0.9,proto=6,tos=0,ttl=64,frag=no),\
tcp(src=40000,dst=80),tcp_flags(syn)" >/dev/null
    done
}
tables() {  # tables FLOW...: the OpenFlow table becomes FLOWs, atomically.
    printf '%s\n' "$@" | ovs-ofctl --bundle replace-flows br0 -
    ovs-appctl revalidator/wait
    ovs-appctl revalidator/wait
}
megaflows() {
    ovs-appctl dpctl/dump-flows | sed -n 's/.*ipv4(\(src=[^,]*\).*\(actions:.*\)/    \1 \2/p' | sort
}
delivered() {
    ovs-ofctl dump-ports br0 2 | sed -n 's/.*tx pkts=\([0-9]*\).*/\1/p'
}

echo "1. 10.1.2.0/24 and 10.3.0.0/16 allowed; packets from 10.3.0.1, 10.1.2.2"
tables "priority=10,ip,in_port=1,nw_src=10.1.2.0/24,actions=output:2" \
       "priority=10,ip,in_port=1,nw_src=10.3.0.0/16,actions=output:2" \
       "priority=0,actions=drop"
send 10.3.0.1
send 10.1.2.2
megaflows
echo "2. 10.1.0.0/16 denied, everything else allowed: the /24 megaflow of"
echo "   10.1.2.2 is kept, now dropping; 10.1.0.2 gets a /16 megaflow"
tables "priority=10,ip,in_port=1,nw_src=10.1.0.0/16,actions=drop" \
       "priority=10,ip,in_port=1,nw_src=10.3.0.0/16,actions=output:2" \
       "priority=0,actions=output:2"
send 10.3.0.1
send 10.1.2.2
send 10.1.0.2
megaflows
echo "3. the deny deleted: everything allowed.  The revalidator's change for"
echo "   10.1.2.2 lands on the /16 megaflow of 10.1.0.2, tried first"
tables "priority=10,ip,in_port=1,nw_src=10.3.0.0/16,actions=output:2" \
       "priority=0,actions=output:2"
send 10.3.0.1
send 10.1.2.2
megaflows
echo "4. 10.1.0.0/24 allowed by a rule of its own (nothing changes for"
echo "   10.1.2.2): 10.1.0.2 needs a narrower megaflow, so the /16 one goes,"
echo "   and 10.1.2.2 keeps sending"
tables "priority=10,ip,in_port=1,nw_src=10.1.0.0/24,actions=output:2" \
       "priority=10,ip,in_port=1,nw_src=10.3.0.0/16,actions=output:2" \
       "priority=0,actions=output:2"
before=$(delivered)
for _ in 1 2 3; do
    send 10.1.2.2
    ovs-appctl revalidator/wait
done
delivered_before_purge=$(( $(delivered) - before ))
megaflows
echo "   10.1.2.2 -> p2: $delivered_before_purge of 3 packets delivered"
ovs-appctl revalidator/purge
before=$(delivered)
send 10.1.2.2
echo "5. after revalidator/purge: $(( $(delivered) - before )) of 1 delivered"
megaflows
[ "$delivered_before_purge" = 3 ]
