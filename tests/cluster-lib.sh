# cluster-lib.sh -- a Kubernetes-like cluster of network namespaces.
#
# Sourced by the autotest cluster tests (tests/*.at), by tests/cluster-smoke.sh
# and by the demo.  It builds the plumbing of DESIGN.md "Node topology" on one
# machine; kovs-controller (or a script standing in for it) programs br-int.
#
#   netns PREFIX-ul:   Linux bridge br-ul, the underlay "L2 network"
#        |  (one veth per node and per external host)
#   netns PREFIX-NODE: ovsdb-server + ovs-vswitchd (userspace datapath)
#        br-ex (node IP) -- eth0 (uplink veth to br-ul)
#        br-int          -- one veth per pod (host end)
#   netns PREFIX-pN_NAME: a pod, eth0 = pod end of the veth
#   netns PREFIX-NAME:  an external host on the underlay (cl_ext_add)
#
# Usage:
#     . tests/cluster-lib.sh
#     cl_init "$PWD/cluster" k12      # in the calling shell, not a subshell
#     cl_node_add node1 198.18.0.11/24
#     cl_pod_add node1 default web1 10.244.1.2/24 10.244.1.1 0a:58:0a:f4:01:02
#     cl_ping default/web1 10.244.1.1
#     cl_cleanup                     # also run from the EXIT trap
#
# Functions (each documented where it is defined):
#   cluster   cl_init WORKDIR PREFIX, cl_use WORKDIR, cl_cleanup [WORKDIR]
#   nodes     cl_node_add NODE IP/LEN, cl_node_exec NODE CMD...,
#             cl_node_kill NODE DAEMON, cl_node_vswitchd_start NODE,
#             cl_node_ovsdb_start NODE,
#             cl_node_ip NODE, cl_node_inspect NODE, cl_tnl_neigh_prime,
#             cl_node_kill NODE DAEMON, cl_node_vswitchd_start NODE
#   tunnel    cl_tunnel, cl_tunnel_mtu (CL_TUNNEL=vxlan|geneve|none)
#   external  cl_ext_add NAME IP/LEN
#   pods      cl_pod_add NODE NAMESPACE NAME IP/LEN GATEWAY_IP MAC,
#             cl_pod_del NODE NAMESPACE NAME,
#   CNI pods  cl_pod_sandbox NODE NAMESPACE NAME,
#             cl_pod_cni_add NODE NAMESPACE NAME,
#             cl_pod_cni_del NODE NAMESPACE NAME, cl_cni NODE VERB ARG...,
#             cl_pod_cid NAMESPACE/NAME
#             cl_pod_exec NAMESPACE NAME CMD...,
#             cl_pod_ip|cl_pod_mac|cl_pod_port|cl_pod_netns|cl_pod_node NS/NAME
#   anywhere  cl_exec WHO CMD..., cl_ip WHO, cl_bg WHO TAG CMD...,
#             cl_bg_stop TAG, cl_wait_until SECONDS CMD...
#   /etc      cl_etc_file WHO FILE, cl_resolv_conf WHO NAMESERVER [SEARCH...]
#   probes    cl_ping FROM IP, cl_ping_matrix WHO...,
#             cl_http_serve WHO PORT, cl_http_stop WHO PORT,
#             cl_http_get FROM URL,
#             cl_tcp_probe FROM IP PORT, cl_tcp_state FROM IP PORT,
#             cl_udp_serve WHO PORT, cl_udp_stop WHO PORT,
#             cl_udp_get FROM IP PORT [MESSAGE],
#             cl_bulk_serve WHO PORT, cl_bulk_stop WHO PORT,
#             cl_bulk_xfer FROM IP PORT BYTES
#
# Conventions:
#   - POSIX sh plus "local": works in bash and in dash (Debian's /bin/sh,
#     which autotest uses).  Needs root.
#   - Safe under "set -u"; does not rely on "set -e" either way.  Functions
#     return 0 on success and non-zero with a message on stderr on failure.
#   - cl_init sets CL_WORKDIR and CL_PREFIX in the calling shell.  Everything
#     else is kept in files under CL_WORKDIR, so the other functions also work
#     from subshells (autotest runs each AT_CHECK in one).  cl_use WORKDIR
#     re-attaches another shell to an existing cluster.
#   - A "WHO" argument names where a command runs: "NAMESPACE/NAME" is a pod,
#     anything else is a node or an external host.
#   - Nothing is configured in the root namespace: every veth is created
#     directly inside its two namespaces ("ip -n A link add ... peer ...
#     netns B"), so root never sees it and names only need to be unique
#     inside one namespace (at most 15 characters, IFNAMSIZ - 1).
#   - Every wait is bounded.  CL_TIMEOUT (seconds, default 3) bounds each TCP,
#     HTTP and UDP probe; CL_PING_TRIES (default 3) bounds cl_ping, each try
#     waiting 1 s.
#
# Requirements for OVS userspace (datapath_type=netdev) VXLAN between network
# namespaces, found with tests/cluster-smoke.sh; each is noted again where it
# is handled below:
#   1. /dev/net/tun: every internal port (br-ex, br-int, kovs-gw0) of the
#      userspace datapath is a tap device.
#   2. One ovs-vswitchd and one ovsdb-server per node, started inside the
#      node's namespace with their own OVS_RUNDIR/OVS_DBDIR/OVS_LOGDIR/
#      OVS_SYSCONFDIR: ovs-vswitchd learns its tunnel routing table
#      (ovs-appctl ovs/route/show) from the kernel routes of the namespace it
#      runs in, and creates its taps there.  --disable-system: no kernel
#      datapath, the openvswitch module is not needed (its absence is only
#      noted in ovs-vswitchd.log).
#   3. The node IP must be on an internal port of the bridge that holds the
#      uplink; here, as in DESIGN.md, on br-ex's own port.  To send, the
#      switch looks the remote IP up in its routing table, finds the OVS port
#      named like the route's device, uses that port's IP as outer source
#      and translates the encapsulated packet as if that port had sent it
#      into its bridge (br-ex's NORMAL then sends it out of eth0): datapath
#      action "tnl_push(...),<eth0>".  With no such route, ofproto/trace
#      says "native tunnel routing failed".  On receive, a VXLAN packet to
#      the node IP is decapsulated where br-ex would deliver it to that port
#      (datapath action tnl_pop; ovs-appctl tnl/ports/show lists the UDP
#      port, vxlan_sys_4789).
#   4. The MAC of the remote node is resolved by ovs-vswitchd, not by the
#      kernel: ovs-appctl tnl/neigh/show.  While it is unknown, the packet to
#      tunnel is dropped and the switch sends an ARP request out of br-ex.
#      Once a bridge has a tunnel port, the switch fills that table by
#      snooping ARP replies addressed to one of its ports' IPs (so pods
#      answering kovs-gw0 show up there too, on br-int, harmlessly) and
#      gratuitous ARP, and from the source of every tunnel packet it
#      receives.  The first packet to a new peer is therefore lost: probes
#      retry (cl_ping, cl_udp_get) or rely on TCP's retransmission, and
#      cl_tnl_neigh_prime fills the table in advance for tests that must
#      not lose it.
#   5. Checksum offload must be off ("ethtool -K IF tx off") on every veth
#      whose kernel side originates traffic (pod eth0, external hosts).
#      ovs-vswitchd 3.1 reads veths with plain AF_PACKET sockets (no
#      virtio-net header unless userspace-tso is enabled), so a packet with a
#      CHECKSUM_PARTIAL TCP/UDP checksum is forwarded with a wrong checksum
#      and the receiver drops it.  ICMP is always checksummed in software,
#      so ping works without it and TCP does not.  Turning tx checksumming
#      off also turns TSO off, which keeps segments within the MTU.
#   6. MTU 1450 in pods, on both ends of their veths (a veth drops what is
#      larger than its peer's MTU) and on kovs-gw0: VXLAN over IPv4 adds 50
#      bytes and the underlay is 1500 (Geneve: 1400, routed: 1500; see
#      CL_TUNNEL below).  The userspace datapath neither
#      fragments nor answers "fragmentation needed": an oversized
#      encapsulated packet is dropped with only "netdev_linux|WARN|error
#      sending Ethernet packet on eth0: Message too long" in the node's
#      ovs-vswitchd.log.
#   7. IPv6 is disabled in every namespace (unless CL_IPV6=1): otherwise
#      router solicitations, MLD and DAD packets from every interface go
#      through the bridges and show up in flow statistics and traces.
#   8. The host end of a pod's veth stays a live interface of the node's
#      stack (the userspace datapath reads it with a packet socket), so the
#      node must not answer ARP on it: arp_ignore=8.  Otherwise a pod may
#      learn the veth's MAC for its gateway address and its replies to the
#      node bypass br-int (and conntrack's un-DNAT).  The same holds for a
#      node's uplink eth0: answering ARP for the node IP there would make
#      the underlay send the node IP's traffic to eth0's MAC, which the
#      node's stack takes directly (a NodePort's SYN would get the stack's
#      RST) instead of br-ex.
#   9. A node does not forward IP packets (net.ipv4.ip_forward=0) unless a
#      test turns it on.  A new namespace inherits the host's setting, which
#      other software on the machine changes; a packet kovs leaves to the
#      node's stack (to an address the node does not own) would then be
#      dropped or answered with an ICMP error depending on the host.

# ---------------------------------------------------------------------------
# Internal helpers.

CL_SCHEMA=${CL_SCHEMA:-/usr/share/openvswitch/vswitch.ovsschema}
# Where "ip netns exec" looks for a namespace's own /etc files.
CL_ETC_NETNS=/etc/netns

# _cl_err MESSAGE...: prints MESSAGE on stderr and returns 1.
_cl_err() {
    echo "cluster-lib: $*" >&2
    return 1
}

# _cl_need_init: fails unless cl_init or cl_use has run in this shell.
_cl_need_init() {
    if [ -z "${CL_WORKDIR:-}" ] || [ -z "${CL_PREFIX:-}" ]; then
        _cl_err "no cluster: call cl_init WORKDIR PREFIX first"
        return 1
    fi
}

# _cl_check_name KIND NAME: NAME must be a DNS-1123 subdomain (what
# Kubernetes allows for node, namespace and pod names), so it cannot contain
# "/" or "_", which this library uses as separators.
_cl_check_name() {
    case $2 in
        "" | *[!a-z0-9.-]* | [.-]* | *[.-])
            _cl_err "invalid $1 name '$2'" \
                    "(lowercase letters, digits, '-' and '.')"
            return 1 ;;
    esac
}

# _cl_seq: prints the next number of this cluster's counter (1, 2, ...),
# used to derive short unique namespace and interface names.
_cl_seq() {
    local f="$CL_WORKDIR/cl-state/seq" n=0
    [ -r "$f" ] && read -r n <"$f"
    n=$((n + 1))
    echo "$n" >"$f"
    echo "$n"
}

# _cl_ifname TAG NAME: prints "TAG-NAME" cut to 15 characters.
_cl_ifname() {
    printf '%.15s\n' "$1-$2"
}

# _cl_alive PID: true if PID is a running (not zombie) process.
_cl_alive() {
    local st
    st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
    case $st in
        "" | Z*) return 1 ;;
    esac
    return 0
}

# _cl_stop_pids PID...: SIGTERM, then SIGKILL whatever is still alive after
# about 2 s.
_cl_stop_pids() {
    local pid _ left
    [ $# -gt 0 ] || return 0
    kill -TERM "$@" 2>/dev/null
    for _ in $(seq 20); do
        left=
        for pid in "$@"; do
            _cl_alive "$pid" && left="$left $pid"
        done
        [ -z "$left" ] && return 0
        sleep 0.1
    done
    # shellcheck disable=SC2086
    kill -KILL $left 2>/dev/null
    return 0
}

# _cl_pidfile_pid FILE NETNS: prints the pid in pidfile FILE if that
# process runs and is in NETNS (a stale pidfile's pid may belong to someone
# else by now).
_cl_pidfile_pid() {
    local pid=
    [ -r "$1" ] && read -r pid <"$1" 2>/dev/null
    if [ -n "$pid" ] && _cl_alive "$pid" &&
       [ "$(ip netns identify "$pid" 2>/dev/null)" = "$2" ]; then
        echo "$pid"
    fi
}

# _cl_stop_pidfile FILE NETNS: stops the process named by pidfile FILE if it
# runs in NETNS, then removes FILE.
_cl_stop_pidfile() {
    # shellcheck disable=SC2046
    _cl_stop_pids $(_cl_pidfile_pid "$1" "$2")
    rm -f "$1"
}

# _cl_netns_del NETNS: kills every process left in NETNS and deletes it,
# which also deletes its interfaces and the veth peers of those.
_cl_netns_del() {
    local pids
    _cl_etc_del "$1"
    ip netns list 2>/dev/null | awk '{print $1}' | grep -qxF "$1" || return 0
    pids=$(ip netns pids "$1" 2>/dev/null)
    # shellcheck disable=SC2086
    _cl_stop_pids $pids
    ip netns del "$1" 2>/dev/null || _cl_err "could not delete netns $1"
}

# _cl_netns_add NETNS: creates NETNS with lo up, records it for cl_cleanup.
_cl_netns_add() {
    ip netns add "$1" || return 1
    echo "$1" >>"$CL_WORKDIR/cl-state/netns"
    ip -n "$1" link set lo up || return 1
    if [ "${CL_IPV6:-0}" != 1 ]; then
        # Requirement 7: no IPv6 chatter.  "default" first, so that every
        # interface created later in this namespace (veths, OVS taps)
        # inherits it.
        ip netns exec "$1" sysctl -q -w net.ipv6.conf.default.disable_ipv6=1 \
            net.ipv6.conf.all.disable_ipv6=1 >/dev/null || return 1
    fi
}

# _cl_veth NS1 IF1 NS2 IF2: creates a veth pair with IF1 in NS1 and IF2 in
# NS2, both up, both with transmit checksum offload off (requirement 5).
_cl_veth() {
    ip -n "$1" link add "$2" type veth peer name "$4" netns "$3" || return 1
    ip netns exec "$1" ethtool -K "$2" tx off >/dev/null 2>&1 &&
    ip netns exec "$3" ethtool -K "$4" tx off >/dev/null 2>&1 ||
        { _cl_err "ethtool -K tx off failed on $2/$4"; return 1; }
    ip -n "$1" link set "$2" up && ip -n "$3" link set "$4" up
}

# _cl_is_node WHO: true if WHO is a node.
_cl_is_node() {
    [ -r "$CL_WORKDIR/cl-state/nodes/$1" ]
}

# _cl_put_host KIND NAME NETNS IP/LEN ULIF: records node or external host
# (KIND "nodes" or "ext") NAME, for _cl_get.
_cl_put_host() {
    cat >"$CL_WORKDIR/cl-state/$1/$2" <<EOF
netns=$3
ip=${4%/*}
cidr=$4
ulif=$5
EOF
}

# _cl_get KIND KEY FIELD: prints FIELD of the state file of a node, an
# external host or a pod (KIND nodes, ext or pods).  Fails if it is unknown.
_cl_get() {
    local f="$CL_WORKDIR/cl-state/$1/$2"
    [ -r "$f" ] || return 1
    sed -n "s/^$3=//p" "$f"
}

# _cl_kind WHO: prints the KIND and KEY of WHO's state file.
_cl_kind() {
    case $1 in
        */*) echo "pods ${1%%/*}_${1#*/}"; return ;;
    esac
    if [ -r "$CL_WORKDIR/cl-state/nodes/$1" ]; then
        echo "nodes $1"
    elif [ -r "$CL_WORKDIR/cl-state/ext/$1" ]; then
        echo "ext $1"
    else
        return 1
    fi
}

# _cl_field WHO FIELD: prints FIELD (netns, ip, cidr, ...) of WHO.
_cl_field() {
    local kind
    _cl_need_init || return 1
    # shellcheck disable=SC2086
    kind=$(_cl_kind "$1") && _cl_get $kind "$2" ||
        _cl_err "unknown pod, node or external host '$1'"
}

# _cl_ns WHO: prints the netns of WHO ("NAMESPACE/NAME" for a pod, else a
# node or external host name).
_cl_ns() {
    _cl_field "$1" netns
}

# _cl_exec WHO CMD...: runs CMD in WHO's namespace; on a node, with the
# node's OVS environment.
_cl_exec() {
    local who="$1" ns d
    ns=$(_cl_ns "$who") || return 1
    shift
    if _cl_is_node "$who"; then
        d=$CL_WORKDIR/$who
        ip netns exec "$ns" env OVS_RUNDIR="$d" OVS_DBDIR="$d" \
            OVS_LOGDIR="$d" OVS_SYSCONFDIR="$d" "$@"
    else
        ip netns exec "$ns" "$@"
    fi
}

# _cl_key WHO: prints WHO made safe for a file name.
_cl_key() {
    echo "$1" | tr / _
}

# ---------------------------------------------------------------------------
# Cluster.

# cl_init WORKDIR PREFIX: starts a cluster whose files live in WORKDIR
# (created if needed) and whose namespaces are all named "PREFIX-...".
# PREFIX is 1 to 6 letters or digits and must differ between clusters that
# exist at the same time (e.g. "k" plus the autotest test number).  Removes
# what a crashed earlier run with the same PREFIX left behind and creates
# the underlay namespace PREFIX-ul with the Linux bridge br-ul.  Must run in
# the calling shell, not a subshell: it sets CL_WORKDIR and CL_PREFIX.
#
# In bash, it also chains cl_cleanup in front of the shell's EXIT trap, and
# makes SIGINT and SIGTERM exit (so the trap runs) if nothing handles them
# yet; CL_NO_TRAP=1 prevents that.  Other shells cannot read the current
# trap, so there nothing is installed: register "cl_cleanup WORKDIR" in the
# caller's own cleanup hook (harmless in bash too, cl_cleanup is
# idempotent).
cl_init() {
    local dir="$1" prefix="$2" cmd old
    case $prefix in
        "" | *[!a-zA-Z0-9]*) _cl_err "invalid prefix '$prefix'"; return 1 ;;
    esac
    if [ ${#prefix} -gt 6 ]; then
        _cl_err "prefix '$prefix' is longer than 6 characters"
        return 1
    fi
    [ "$(id -u)" = 0 ] || { _cl_err "must run as root"; return 1; }
    for cmd in ip ethtool python3 ovsdb-tool ovsdb-server ovs-vswitchd \
               ovs-vsctl ovs-appctl ovs-ofctl; do
        command -v "$cmd" >/dev/null || { _cl_err "$cmd not found"; return 1; }
    done
    # Requirement 1: OVS userspace internal ports are taps.
    if [ ! -c /dev/net/tun ]; then
        _cl_err "/dev/net/tun missing (mknod /dev/net/tun c 10 200)"
        return 1
    fi
    [ -r "$CL_SCHEMA" ] || { _cl_err "$CL_SCHEMA not found"; return 1; }

    mkdir -p "$dir" || return 1
    CL_WORKDIR=$(cd "$dir" && pwd) || return 1
    CL_PREFIX=$prefix
    _cl_sweep_prefix
    rm -rf "$CL_WORKDIR/cl-state"
    mkdir -p "$CL_WORKDIR"/cl-state/nodes "$CL_WORKDIR"/cl-state/ext \
             "$CL_WORKDIR"/cl-state/pods "$CL_WORKDIR"/cl-state/bg || return 1
    echo "CL_PREFIX=$CL_PREFIX" >"$CL_WORKDIR/cl-state/cluster"

    if [ "${CL_NO_TRAP:-0}" != 1 ] && [ -n "${BASH_VERSION:-}" ]; then
        # shellcheck disable=SC3045
        old=$(trap -p EXIT)
        case $old in
            *cl_cleanup*) ;;
            "") trap cl_cleanup EXIT ;;
            *) eval "set -- $old"; trap "cl_cleanup; $3" EXIT ;;
        esac
        # Turn SIGINT/SIGTERM into an exit, so the EXIT trap runs, unless
        # the caller already handles them.
        # shellcheck disable=SC3045
        [ -n "$(trap -p INT)" ] || trap 'exit 130' INT
        # shellcheck disable=SC3045
        [ -n "$(trap -p TERM)" ] || trap 'exit 143' TERM
    fi

    _cl_netns_add "$CL_PREFIX-ul" &&
    ip -n "$CL_PREFIX-ul" link add br-ul type bridge &&
    ip -n "$CL_PREFIX-ul" link set br-ul up
}

# cl_use WORKDIR: attaches this shell to the cluster that cl_init created in
# WORKDIR (for another shell, e.g. a human's or a demo step).  No trap.
cl_use() {
    [ -r "$1/cl-state/cluster" ] || { _cl_err "no cluster in $1"; return 1; }
    CL_WORKDIR=$(cd "$1" && pwd) || return 1
    CL_PREFIX=$(sed -n 's/^CL_PREFIX=//p' "$CL_WORKDIR/cl-state/cluster")
}

# _cl_sweep_prefix: kills and deletes every namespace named "$CL_PREFIX-*",
# whether or not this shell created it.
_cl_sweep_prefix() {
    local ns d
    for ns in $(ip netns list 2>/dev/null | awk '{print $1}' |
                grep "^$CL_PREFIX-"); do
        _cl_netns_del "$ns"
    done
    for d in "$CL_ETC_NETNS/$CL_PREFIX"-*; do
        [ -d "$d" ] && _cl_etc_del "${d##*/}"
    done
    return 0
}

# cl_cleanup: removes everything the cluster created: the processes of
# cl_bg and the servers, every daemon with a pidfile in a node's OVS_RUNDIR
# (ovsdb-server, ovs-vswitchd, and e.g. kovs-controller started there with
# --pidfile), then every namespace with whatever still runs in it (which
# removes all veths, taps and bridges).  Leaves CL_WORKDIR and its logs.
# With WORKDIR, first attaches to that cluster (cl_use), for cleanup hooks
# that run where cl_init's variables are not set.  Idempotent, never fails,
# safe to call before or without cl_init.
cl_cleanup() {
    local f node ns pids=
    if [ -n "${1:-}" ]; then
        cl_use "$1" 2>/dev/null || return 0
    fi
    [ -n "${CL_WORKDIR:-}" ] && [ -n "${CL_PREFIX:-}" ] || return 0
    # Every pidfile's process, if it still runs in the namespace it was
    # started in: background processes, then each node's daemons (OVS and
    # any other, such as kovs-controller, that wrote a pidfile in the node's
    # OVS_RUNDIR).  All are stopped at once: quicker than one by one, and a
    # switch that loses its database or controller while dying does no harm.
    for f in "$CL_WORKDIR"/cl-state/bg/*.pid; do
        [ -e "$f" ] || continue
        ns=
        read -r ns <"${f%.pid}.netns" 2>/dev/null
        pids="$pids $(_cl_pidfile_pid "$f" "$ns")"
    done
    for node in "$CL_WORKDIR"/cl-state/nodes/*; do
        [ -e "$node" ] || continue
        node=${node##*/}
        for f in "$CL_WORKDIR/$node"/*.pid; do
            [ -e "$f" ] || continue
            pids="$pids $(_cl_pidfile_pid "$f" "$CL_PREFIX-$node")"
        done
    done
    # shellcheck disable=SC2086
    _cl_stop_pids $pids
    rm -f "$CL_WORKDIR"/cl-state/bg/*.pid
    # Then the namespaces, with whatever still runs in them.
    if [ -r "$CL_WORKDIR/cl-state/netns" ]; then
        while read -r ns; do
            _cl_netns_del "$ns"
        done <"$CL_WORKDIR/cl-state/netns"
        rm -f "$CL_WORKDIR/cl-state/netns"
    fi
    _cl_sweep_prefix
    return 0
}

# ---------------------------------------------------------------------------
# Nodes.

# cl_node_add NODE NODE_IP/LEN: creates node NODE: namespace PREFIX-NODE
# running its own ovsdb-server (fresh database) and ovs-vswitchd, both with
# OVS_RUNDIR=OVS_DBDIR=OVS_LOGDIR=OVS_SYSCONFDIR=WORKDIR/NODE (sockets,
# pidfiles, logs and conf.db are all there); bridge br-ex (userspace
# datapath, fail_mode standalone, i.e. NORMAL switching) with uplink eth0, a
# veth to the underlay bridge; NODE_IP/LEN on br-ex (IPv4, or IPv6 for an
# IPv6 underlay, which needs CL_IPV6=1).  br-int is created by the first
# cl_pod_add or by the controller.
cl_node_add() {
    local node="$1" cidr="$2" dir netns ulif n
    _cl_need_init || return 1
    _cl_check_name node "$node" || return 1
    [ "$node" != ul ] && [ "$node" != cl-state ] ||
        { _cl_err "node name '$node' is reserved"; return 1; }
    if [ -e "$CL_WORKDIR/cl-state/nodes/$node" ] ||
       [ -e "$CL_WORKDIR/cl-state/ext/$node" ]; then
        _cl_err "node or external host '$node' already exists"
        return 1
    fi
    netns=$CL_PREFIX-$node
    dir=$CL_WORKDIR/$node
    n=$(_cl_seq)
    ulif=$(_cl_ifname "n$n" "$node")
    rm -rf "$dir" && mkdir -p "$dir" || return 1
    _cl_netns_add "$netns" || return 1
    _cl_put_host nodes "$node" "$netns" "$cidr" "$ulif"

    # Requirement 2: the daemons run inside the node namespace.
    ovsdb-tool create "$dir/conf.db" "$CL_SCHEMA" || return 1
    # Their logs go to files only, so that callers' stderr stays empty
    # (autotest compares it); -vconsole:off must come before --log-file, or
    # "opened log file" still reaches stderr.
    _cl_exec "$node" ovsdb-server "$dir/conf.db" \
        --remote="punix:$dir/db.sock" --no-chdir \
        -vconsole:off --detach --pidfile --log-file ||
        { _cl_err "ovsdb-server failed, see $dir/ovsdb-server.log"; return 1; }
    _cl_exec "$node" ovs-vsctl --no-wait init >/dev/null || return 1
    _cl_exec "$node" ovs-vswitchd "unix:$dir/db.sock" --disable-system \
        --no-chdir -vconsole:off --detach --pidfile --log-file ||
        { _cl_err "ovs-vswitchd failed, see $dir/ovs-vswitchd.log"; return 1; }

    _cl_veth "$CL_PREFIX-ul" "$ulif" "$netns" eth0 &&
    ip -n "$CL_PREFIX-ul" link set "$ulif" master br-ul || return 1
    # Requirement 8, for the uplink; requirement 9.
    ip netns exec "$netns" sysctl -qw net.ipv4.conf.eth0.arp_ignore=8 \
        net.ipv4.ip_forward=0 || return 1

    # Requirement 3: the node IP is on br-ex, the bridge's own port.  Without
    # --no-wait, ovs-vsctl returns once ovs-vswitchd has created the tap.
    _cl_exec "$node" ovs-vsctl --timeout=10 \
        -- add-br br-ex \
        -- set bridge br-ex datapath_type=netdev fail_mode=standalone \
        -- add-port br-ex eth0 || return 1
    # An IPv6 node IP (an IPv6 underlay, with CL_IPV6=1) is usable at once,
    # without duplicate address detection.
    case $cidr in
    *:*) ip -n "$netns" addr add "$cidr" dev br-ex nodad ;;
    *) ip -n "$netns" addr add "$cidr" dev br-ex ;;
    esac &&
    ip -n "$netns" link set br-ex up
}

# cl_tnl_neigh_prime: gives every node's ovs-vswitchd the br-ex MAC of
# every other node ("ovs-appctl tnl/neigh/set"), so that the first packet
# tunnelled to a peer is not lost to neighbour resolution (requirement 4).
# For tests that count packets or send a single datagram.  The entries age
# out after 15 minutes like learned ones.
cl_tnl_neigh_prime() {
    local f a b
    _cl_need_init || return 1
    for f in "$CL_WORKDIR"/cl-state/nodes/*; do
        [ -e "$f" ] || continue
        a=${f##*/}
        for b in "$CL_WORKDIR"/cl-state/nodes/*; do
            b=${b##*/}
            [ "$a" = "$b" ] && continue
            cl_node_exec "$a" ovs-appctl tnl/neigh/set br-ex \
                "$(cl_node_ip "$b")" \
                "$(cl_node_exec "$b" cat /sys/class/net/br-ex/address)" \
                >/dev/null || return 1
        done
    done
}

# cl_node_exec NODE CMD...: runs CMD in NODE's namespace with NODE's OVS
# environment, e.g. "cl_node_exec node1 ovs-ofctl dump-flows br-int".
cl_node_exec() {
    local node="$1"
    shift
    [ -r "${CL_WORKDIR:-}/cl-state/nodes/$node" ] ||
        { _cl_err "unknown node '$node'"; return 1; }
    _cl_exec "$node" "$@"
}

# cl_node_kill NODE DAEMON: kills NODE's DAEMON (ovs-vswitchd, ovsdb-server
# or kovs-controller) with SIGKILL, as a crash would, and waits until it is
# gone.
cl_node_kill() {
    local netns pid _
    _cl_need_init || return 1
    netns=$(_cl_ns "$1") || return 1
    pid=$(_cl_pidfile_pid "$CL_WORKDIR/$1/$2.pid" "$netns")
    [ -n "$pid" ] || { _cl_err "$2 does not run on $1"; return 1; }
    kill -KILL "$pid"
    for _ in $(seq 50); do
        _cl_alive "$pid" || return 0
        sleep 0.1
    done
    _cl_err "$2 ($pid) on $1 did not die"
}

# cl_node_vswitchd_start NODE: starts NODE's ovs-vswitchd again, as
# cl_node_add did, and puts the node IP back on br-ex, whose tap device
# went with the previous ovs-vswitchd (as the node's network configuration
# would when the interface reappears).
cl_node_vswitchd_start() {
    local dir="$CL_WORKDIR/$1" netns cidr _
    netns=$(_cl_ns "$1") && cidr=$(_cl_get nodes "$1" cidr) || return 1
    _cl_exec "$1" ovs-vswitchd "unix:$dir/db.sock" --disable-system \
        --no-chdir -vconsole:off --detach --pidfile --log-file ||
        { _cl_err "ovs-vswitchd failed, see $dir/ovs-vswitchd.log"; return 1; }
    for _ in $(seq 100); do
        ip -n "$netns" link show br-ex >/dev/null 2>&1 && break
        sleep 0.1
    done
    ip -n "$netns" addr replace "$cidr" dev br-ex &&
        ip -n "$netns" link set br-ex up
}

# cl_node_ovsdb_start NODE: starts NODE's ovsdb-server again on the
# database it had, as cl_node_add did.
cl_node_ovsdb_start() {
    local dir="$CL_WORKDIR/$1"
    _cl_exec "$1" ovsdb-server "$dir/conf.db" \
        --remote="punix:$dir/db.sock" --no-chdir \
        -vconsole:off --detach --pidfile --log-file ||
        { _cl_err "ovsdb-server failed, see $dir/ovsdb-server.log"; return 1; }
}

# cl_node_ip NODE: prints NODE's IP (without length).
cl_node_ip() {
    _cl_need_init || return 1
    _cl_get nodes "$1" ip || _cl_err "unknown node '$1'"
}

# cl_node_inspect NODE: prints the shell lines a human pastes to look at
# NODE's switch.
cl_node_inspect() {
    local netns cidr
    _cl_need_init || return 1
    netns=$(_cl_get nodes "$1" netns) ||
        { _cl_err "unknown node '$1'"; return 1; }
    cidr=$(_cl_get nodes "$1" cidr)
    cat <<EOF
# node $1: netns $netns, node IP $cidr on br-ex
export OVS_RUNDIR='$CL_WORKDIR/$1' OVS_DBDIR='$CL_WORKDIR/$1' \\
       OVS_LOGDIR='$CL_WORKDIR/$1' OVS_SYSCONFDIR='$CL_WORKDIR/$1'
ip netns exec $netns ovs-vsctl show
ip netns exec $netns ovs-ofctl -O OpenFlow15 dump-flows br-int
ip netns exec $netns ovs-appctl tnl/neigh/show
ip netns exec $netns ovs-appctl ovs/route/show
ip netns exec $netns ovs-appctl dpctl/dump-flows
ip netns exec $netns bash    # a shell on the node
EOF
}

# ---------------------------------------------------------------------------
# External hosts.

# cl_ext_add NAME IP/LEN: creates an external host: namespace PREFIX-NAME on
# the underlay with eth0 at IP/LEN (checksum offload off, requirement 5).
# Add routes with "cl_exec NAME ip route add ...".
cl_ext_add() {
    local name="$1" cidr="$2" netns ulif n
    _cl_need_init || return 1
    _cl_check_name "external host" "$name" || return 1
    [ "$name" != ul ] || { _cl_err "name 'ul' is reserved"; return 1; }
    if [ -e "$CL_WORKDIR/cl-state/nodes/$name" ] ||
       [ -e "$CL_WORKDIR/cl-state/ext/$name" ]; then
        _cl_err "node or external host '$name' already exists"
        return 1
    fi
    netns=$CL_PREFIX-$name
    n=$(_cl_seq)
    ulif=$(_cl_ifname "x$n" "$name")
    _cl_netns_add "$netns" || return 1
    _cl_put_host ext "$name" "$netns" "$cidr" "$ulif"
    _cl_veth "$CL_PREFIX-ul" "$ulif" "$netns" eth0 &&
    ip -n "$CL_PREFIX-ul" link set "$ulif" master br-ul || return 1
    # An IPv6 address (with CL_IPV6=1) is usable at once, without duplicate
    # address detection.
    case $cidr in
    *:*) ip -n "$netns" addr add "$cidr" dev eth0 nodad ;;
    *) ip -n "$netns" addr add "$cidr" dev eth0 ;;
    esac
}

# ---------------------------------------------------------------------------
# The tunnel mode of the cluster: CL_TUNNEL=vxlan (the default), geneve or
# none (routed through br-ex), which the controllers that tests start on
# the nodes follow (cluster_kovs_start in tests/sandbox-lib.sh), and so do
# the pods' MTUs.

# cl_tunnel: prints the cluster's tunnel mode.
cl_tunnel() {
    case ${CL_TUNNEL:-vxlan} in
        vxlan|geneve|none) echo "${CL_TUNNEL:-vxlan}" ;;
        *) _cl_err "CL_TUNNEL=$CL_TUNNEL: must be vxlan, geneve or none"
           return 1 ;;
    esac
}

# cl_tunnel_mtu: prints the pod MTU of the cluster's tunnel mode, as
# kovs-controller gives it (requirement 6).
cl_tunnel_mtu() {
    case $(cl_tunnel) in
        vxlan) echo 1450 ;;
        geneve) echo 1400 ;;
        none) echo 1500 ;;
        *) return 1 ;;
    esac
}

# Pods.

# cl_pod_add NODE NAMESPACE NAME IP/LEN GATEWAY_IP MAC: plugs pod
# NAMESPACE/NAME into NODE the way DESIGN.md "Node topology" says a CNI
# plugin does: namespace PREFIX-pN_NAME (N makes it unique) with eth0 (MAC,
# MTU of the tunnel mode (cl_tunnel_mtu), IP/LEN, default route via
# GATEWAY_IP), the host end of the veth (same MTU, named vN-NAME, see
# cl_pod_port) on br-int with
# external_ids:iface-id="NAMESPACE/NAME" and external_ids:attached-mac=MAC.
# Creates br-int (userspace datapath) if it does not exist yet.
cl_pod_add() {
    local node="$1" ns="$2" name="$3" cidr="$4" gw="$5" mac="$6"
    local key netns hostif n nodens mtu dad
    _cl_need_init || return 1
    _cl_check_name namespace "$ns" && _cl_check_name pod "$name" || return 1
    nodens=$(_cl_get nodes "$node" netns) ||
        { _cl_err "unknown node '$node'"; return 1; }
    key=${ns}_$name
    [ ! -e "$CL_WORKDIR/cl-state/pods/$key" ] ||
        { _cl_err "pod $ns/$name already exists"; return 1; }
    n=$(_cl_seq)
    netns=$CL_PREFIX-p${n}_$(printf %.24s "$name")
    hostif=$(_cl_ifname "v$n" "$name")
    _cl_netns_add "$netns" || return 1
    cat >"$CL_WORKDIR/cl-state/pods/$key" <<EOF
netns=$netns
node=$node
hostif=$hostif
ip=${cidr%/*}
cidr=$cidr
gw=$gw
mac=$mac
EOF
    # Requirements 5 and 6: checksum offload off on both ends (_cl_veth),
    # the tunnel mode's MTU on both ends.
    mtu=$(cl_tunnel_mtu) || return 1
    _cl_veth "$netns" eth0 "$nodens" "$hostif" || return 1
    # An IPv6 address goes in without duplicate address detection, as a
    # CNI plugin sets it.
    case $cidr in *:*) dad=nodad ;; *) dad= ;; esac
    ip -n "$netns" link set eth0 address "$mac" mtu "$mtu" &&
    ip -n "$netns" addr add "$cidr" dev eth0 $dad &&
    ip -n "$netns" route add default via "$gw" dev eth0 &&
    ip -n "$nodens" link set "$hostif" mtu "$mtu" || return 1
    # Requirement 8: the userspace datapath reads the host end with a
    # packet socket, so the node's own stack sees the pod's frames too.  It
    # must not answer the pod's ARP for the gateway address (which it owns,
    # on kovs-gw0) with this veth's MAC: the pod would then send to the
    # node's stack directly, around br-int and its conntrack.
    ip netns exec "$nodens" sysctl -qw \
        "net.ipv4.conf.$hostif.arp_ignore=8" || return 1
    cl_node_exec "$node" ovs-vsctl --timeout=10 \
        -- --may-exist add-br br-int \
        -- set bridge br-int datapath_type=netdev \
        -- add-port br-int "$hostif" \
        -- set interface "$hostif" external_ids:iface-id="$ns/$name" \
           external_ids:attached-mac="$mac"
}

# cl_pod_del NODE NAMESPACE NAME: unplugs the pod: removes its port from
# br-int, kills whatever runs in it, deletes its namespace (and veth).
cl_pod_del() {
    local node="$1" ns="$2" name="$3" netns hostif podnode
    _cl_need_init || return 1
    podnode=$(_cl_get pods "${ns}_$name" node) ||
        { _cl_err "unknown pod $ns/$name"; return 1; }
    [ "$podnode" = "$node" ] ||
        { _cl_err "pod $ns/$name is on $podnode, not $node"; return 1; }
    netns=$(_cl_get pods "${ns}_$name" netns)
    hostif=$(_cl_get pods "${ns}_$name" hostif)
    cl_node_exec "$node" ovs-vsctl --timeout=10 --if-exists \
        del-port br-int "$hostif"
    _cl_netns_del "$netns"
    rm -f "$CL_WORKDIR/cl-state/pods/${ns}_$name"
}

# Pods plugged through kovs-cni, driven by a CNI runtime client
# (tests/cni-runtime, libcni) from the configuration list kovs-controller
# wrote in WORKDIR/NODE/net.d, as containerd would: the pod's namespace is
# its sandbox, created first, and ADD gives it its interface and address.
# The plugins are found in CL_CNI_PATH (default: the directory of the
# kovs-cni in PATH, then /usr/lib/cni, for the chained loopback plugin).

# cl_cni NODE VERB ARG...: runs the CNI runtime client on NODE (in its
# namespace, as the node's container runtime) with VERB (add, check, del,
# gc, status, version) and ARGs; CL_CNI_CONF names another configuration
# list file in WORKDIR/NODE/net.d.
cl_cni() {
    local node="$1" plugin_dir
    shift
    _cl_need_init || return 1
    plugin_dir=$(dirname "$(command -v kovs-cni)") ||
        { _cl_err "kovs-cni not found in PATH"; return 1; }
    cl_node_exec "$node" cni-runtime \
        -conf-dir="$CL_WORKDIR/$node/net.d" \
        -conf="${CL_CNI_CONF:-10-kovs.conflist}" \
        -path="${CL_CNI_PATH:-$plugin_dir:/usr/lib/cni}" \
        -cache-dir="$CL_WORKDIR/$node/cni-cache" "$@"
}

# cl_pod_sandbox NODE NAMESPACE NAME: creates the pod's sandbox, a network
# namespace PREFIX-pN_NAME with only lo, so that processes can start in it
# (cl_pod_exec, cl_bg) before it has an interface.  Its container ID
# (cl_pod_cid) is "cN-NAME".
cl_pod_sandbox() {
    local node="$1" ns="$2" name="$3" key n netns
    _cl_need_init || return 1
    _cl_check_name namespace "$ns" && _cl_check_name pod "$name" || return 1
    _cl_is_node "$node" || { _cl_err "unknown node '$node'"; return 1; }
    key=${ns}_$name
    [ ! -e "$CL_WORKDIR/cl-state/pods/$key" ] ||
        { _cl_err "pod $ns/$name already exists"; return 1; }
    n=$(_cl_seq)
    netns=$CL_PREFIX-p${n}_$(printf %.24s "$name")
    _cl_netns_add "$netns" || return 1
    printf 'netns=%s\nnode=%s\ncid=c%s-%s\n' "$netns" "$node" "$n" "$name" \
        >"$CL_WORKDIR/cl-state/pods/$key"
}

# The fields of a pod that an ADD result gives, for _cl_get.
_cl_py_cni_result='
import json, sys
r = json.load(open(sys.argv[1]))
ip = r["ips"][0]
pod = r["interfaces"][ip["interface"]]
print("ip=%s\ncidr=%s\ngw=%s\nmac=%s\nhostif=%s" % (
    ip["address"].split("/")[0], ip["address"], ip["gateway"], pod["mac"],
    r["interfaces"][0]["name"]))
for ip6 in r["ips"][1:]:
    if ":" in ip6["address"]:
        print("ip6=%s" % ip6["address"].split("/")[0])
'

# cl_pod_cni_add NODE NAMESPACE NAME: plugs pod NAMESPACE/NAME into NODE
# through kovs-cni (ADD), creating its sandbox first unless
# cl_pod_sandbox did.  Records what the result says (address, gateway,
# MAC, host interface) for cl_pod_ip and the others, and keeps the result
# in WORKDIR/cl-state/pods/NAMESPACE_NAME.result.  Fails, with the
# runtime's error on stderr, if ADD does.
cl_pod_cni_add() {
    local node="$1" ns="$2" name="$3" key f netns cid
    _cl_need_init || return 1
    key=${ns}_$name
    f=$CL_WORKDIR/cl-state/pods/$key
    [ -e "$f" ] || cl_pod_sandbox "$node" "$ns" "$name" || return 1
    [ "$(_cl_get pods "$key" node)" = "$node" ] ||
        { _cl_err "pod $ns/$name is not on $node"; return 1; }
    netns=$(_cl_get pods "$key" netns)
    cid=$(_cl_get pods "$key" cid)
    cl_cni "$node" add "$cid" "/run/netns/$netns" "$ns" "$name" \
        >"$f.result" || return 1
    python3 -I -S -c "$_cl_py_cni_result" "$f.result" >>"$f" ||
        { _cl_err "cannot read the result of ADD"; return 1; }
}

# cl_pod_cni_del NODE NAMESPACE NAME: unplugs the pod through kovs-cni
# (DEL), then removes its sandbox.
cl_pod_cni_del() {
    local node="$1" ns="$2" name="$3" key netns cid
    _cl_need_init || return 1
    key=${ns}_$name
    netns=$(_cl_get pods "$key" netns) ||
        { _cl_err "unknown pod $ns/$name"; return 1; }
    cid=$(_cl_get pods "$key" cid)
    cl_cni "$node" del "$cid" "/run/netns/$netns" || return 1
    _cl_netns_del "$netns"
    rm -f "$CL_WORKDIR/cl-state/pods/$key" \
          "$CL_WORKDIR/cl-state/pods/$key.result"
}

# cl_pod_cid NAMESPACE/NAME: prints the container ID of a pod plugged
# through kovs-cni.
cl_pod_cid() { _cl_pod_field "$1" cid; }

# cl_pod_exec NAMESPACE NAME CMD...: runs CMD in the pod's namespace.
cl_pod_exec() {
    local who="$1/$2"
    shift 2
    _cl_exec "$who" "$@"
}

# cl_pod_ip NAMESPACE/NAME: prints the pod's IP (without length).
# cl_pod_ip6 NAMESPACE/NAME: prints the IPv6 address kovs-cni gave it on a
# dual-stack node (fails if it has none).
# cl_pod_mac NAMESPACE/NAME: prints its MAC.
# cl_pod_port NAMESPACE/NAME: prints the name of its port on br-int.
# cl_pod_netns NAMESPACE/NAME: prints its namespace.
# cl_pod_node NAMESPACE/NAME: prints the node it is on.
cl_pod_ip() { _cl_pod_field "$1" ip; }
cl_pod_ip6() { _cl_pod_field "$1" ip6; }
cl_pod_mac() { _cl_pod_field "$1" mac; }
cl_pod_port() { _cl_pod_field "$1" hostif; }
cl_pod_netns() { _cl_pod_field "$1" netns; }
cl_pod_node() { _cl_pod_field "$1" node; }

_cl_pod_field() {
    case $1 in
        */*) _cl_field "$1" "$2" ;;
        *) _cl_err "'$1' is not NAMESPACE/NAME" ;;
    esac
}

# cl_ip WHO: prints the IP (without length) of a pod ("NAMESPACE/NAME"),
# node or external host.
cl_ip() {
    _cl_field "$1" ip
}

# cl_exec WHO CMD...: runs CMD in the namespace of a pod, node (with its OVS
# environment) or external host.
cl_exec() {
    _cl_exec "$@"
}

# ---------------------------------------------------------------------------
# Files in /etc per namespace.  "ip netns exec NETNS" (and so cl_exec,
# cl_bg and every probe) bind-mounts each file of /etc/netns/NETNS over the
# file of the same name in /etc, for the command it runs: a pod gets its own
# resolv.conf (pointing at a cluster DNS Service), an external host its own
# hosts.  Processes started before the file was written keep the host's.
# The directory goes with its namespace (_cl_netns_del, cl_cleanup), and
# cl_init removes those that a crashed run of the same PREFIX left.

# _cl_etc_del NETNS: removes /etc/netns/NETNS if it exists.
_cl_etc_del() {
    case $1 in
        "" | */* | . | ..) return 0 ;;
    esac
    [ -e "$CL_ETC_NETNS/$1" ] || return 0
    rm -rf "${CL_ETC_NETNS:?}/$1" ||
        _cl_err "could not remove $CL_ETC_NETNS/$1"
}

# cl_etc_file WHO FILE: writes standard input to /etc/netns/NETNS/FILE, the
# file that commands run in WHO (a pod, node or external host) see as
# /etc/FILE.  /etc/FILE must exist on the host.
cl_etc_file() {
    local ns d
    ns=$(_cl_ns "$1") || return 1
    case $2 in
        "" | */* | . | ..) _cl_err "invalid file name '$2'"; return 1 ;;
    esac
    [ -e "/etc/$2" ] ||
        { _cl_err "/etc/$2 does not exist, nothing to mount over"; return 1; }
    d=$CL_ETC_NETNS/$ns
    # Written beside the directory, then renamed into it: an "ip netns
    # exec" running meanwhile mounts every file it finds there.
    mkdir -p "$d" && cat >"$CL_ETC_NETNS/.$ns.$2.tmp" &&
        mv "$CL_ETC_NETNS/.$ns.$2.tmp" "$d/$2"
}

# cl_resolv_conf WHO NAMESERVER [SEARCH...]: gives WHO a resolv.conf with
# NAMESERVER (a cluster DNS Service's ClusterIP) and the SEARCH domains,
# with the kubelet's ndots:5 and short timeouts (1 s, 2 attempts) so that a
# query that gets no answer fails within seconds.
cl_resolv_conf() {
    local who="$1" server="$2"
    shift 2
    {
        echo "nameserver $server"
        [ $# -eq 0 ] || echo "search $*"
        echo "options ndots:5 timeout:1 attempts:2"
    } | cl_etc_file "$who" resolv.conf
}

# ---------------------------------------------------------------------------
# Background processes.

# cl_bg WHO TAG CMD...: starts CMD in the background in WHO's namespace,
# detached from the caller's standard streams (autotest waits for those to
# close), output in WORKDIR/cl-state/bg/TAG.log.  cl_cleanup (or cl_bg_stop)
# stops it.  Prints nothing.
cl_bg() {
    local who="$1" tag="$2" ns f d
    shift 2
    ns=$(_cl_ns "$who") || return 1
    f=$CL_WORKDIR/cl-state/bg/$tag
    _cl_stop_pidfile "$f.pid" "$ns"
    echo "$ns" >"$f.netns"
    if _cl_is_node "$who"; then
        d=$CL_WORKDIR/$who
        set -- env OVS_RUNDIR="$d" OVS_DBDIR="$d" OVS_LOGDIR="$d" \
            OVS_SYSCONFDIR="$d" "$@"
    fi
    # "ip netns exec" is started as a simple command, not through a shell
    # function, so that $! is its pid, which is CMD's once it has execed.
    # The subshell exits at once, so CMD is not the caller's child: no
    # zombie, nothing for the caller to wait for.
    ( ip netns exec "$ns" "$@" </dev/null >"$f.log" 2>&1 &
      echo $! >"$f.pid" )
}

# cl_bg_stop TAG: stops what cl_bg started as TAG.
cl_bg_stop() {
    local f="${CL_WORKDIR:-}/cl-state/bg/$1" ns=
    [ -r "$f.pid" ] || { _cl_err "no background process '$1'"; return 1; }
    read -r ns <"$f.netns"
    _cl_stop_pidfile "$f.pid" "$ns"
}

# _cl_bg_ready TAG READYFILE: waits up to 5 s for READYFILE to exist.
_cl_bg_ready() {
    local f="$CL_WORKDIR/cl-state/bg/$1" _ pid=
    for _ in $(seq 100); do
        [ -e "$2" ] && return 0
        read -r pid <"$f.pid" 2>/dev/null
        if [ -n "$pid" ] && ! _cl_alive "$pid"; then
            break
        fi
        sleep 0.05
    done
    _cl_err "$1 did not start; its log says:"
    cat "$f.log" >&2
    return 1
}

# ---------------------------------------------------------------------------
# Probes.  All of them are bounded in time; none prints anything on success
# except the data asked for.

# cl_ping FROM IP: succeeds if FROM (pod, node or external host) gets an
# ICMP echo reply from IP within CL_PING_TRIES tries of 1 s.  The retries
# absorb the first packet to a new tunnel peer being dropped while
# ovs-vswitchd resolves its MAC (requirement 4).
cl_ping() {
    local ns _ tries="${CL_PING_TRIES:-3}"
    ns=$(_cl_ns "$1") || return 1
    for _ in $(seq "$tries"); do
        ip netns exec "$ns" ping -q -n -c 1 -W 1 "$2" >/dev/null 2>&1 &&
            return 0
    done
    echo "cl_ping: $1 -> $2: no reply in $tries tries" >&2
    return 1
}

# cl_ping_matrix WHO...: pings every WHO from every other WHO (by their
# cl_ip) and prints one line "FROM -> TO ok" or "FROM -> TO fail" per pair,
# for comparison with an expected matrix.
cl_ping_matrix() {
    local from to ip
    for from in "$@"; do
        for to in "$@"; do
            [ "$from" = "$to" ] && continue
            ip=$(cl_ip "$to") || return 1
            if cl_ping "$from" "$ip" 2>/dev/null; then
                echo "$from -> $to ok"
            else
                echo "$from -> $to fail"
            fi
        done
    done
}

# The HTTP server of cl_http_serve.  "GET /clientip" answers with the
# client's address as the server sees it (to check SNAT and source IP
# preservation), any other GET with the server's name.
_cl_py_http='
import http.server, socket, sys
name, port, ready = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def client(address):
    # An IPv4 client of the dual-stack socket, as itself.
    return address[7:] if address.startswith("::ffff:") else address
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        text = (client(self.client_address[0]) if self.path == "/clientip"
                else name)
        body = (text + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (client(self.client_address[0]),
                                      fmt % args))
        sys.stderr.flush()
class DualStackServer(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6
    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()
http.server.ThreadingHTTPServer.allow_reuse_address = True
try:
    server = DualStackServer(("::", port), Handler)
except OSError:
    # No IPv6 in this namespace: IPv4 only.
    server = http.server.ThreadingHTTPServer(("0.0.0.0", port), Handler)
open(ready, "w").close()
server.serve_forever()
'

# cl_http_serve WHO PORT: starts an HTTP server on TCP PORT in WHO that
# answers every GET with WHO's name (a pod's NAME, without namespace) and
# "GET /clientip" with the client's address, on both families where the
# namespace has IPv6 (IPv4 only otherwise).  Returns once it listens (at
# most 5 s).  Stop it with cl_http_stop or cl_cleanup.
cl_http_serve() {
    _cl_serve http "$_cl_py_http" "$1" "$2"
}

# cl_http_stop WHO PORT: stops the server cl_http_serve started.
cl_http_stop() {
    cl_bg_stop "http-$(_cl_key "$1")-$2"
}

# _cl_serve KIND SCRIPT WHO PORT: starts the python3 server SCRIPT, with
# arguments WHO's name, PORT and a file to create once it serves, in WHO
# in the background (tagged KIND-WHO-PORT), and waits for that file.
_cl_serve() {
    local kind="$1" script="$2" who="$3" port="$4" tag ready
    tag=$kind-$(_cl_key "$who")-$port
    ready=$CL_WORKDIR/cl-state/bg/$tag.ready
    rm -f "$ready"
    cl_bg "$who" "$tag" python3 -I -S -c "$script" "${who#*/}" "$port" \
        "$ready" || return 1
    _cl_bg_ready "$tag" "$ready"
}

# _cl_http FROM URL MODE: HTTP GET of URL from FROM within CL_TIMEOUT
# seconds.  MODE "body": prints the body, succeeds on a 2xx answer; MODE
# "status": prints the status code, then the body, whatever the status.
# Uses python3 (curl is not always installed) and ignores any http_proxy
# setting.
_cl_http() {
    local ns t="${CL_TIMEOUT:-3}"
    ns=$(_cl_ns "$1") || return 1
    # As in cl_tcp_state, the outer bound leaves python time to start.
    timeout $((t + 10)) ip netns exec "$ns" python3 -I -S -c '
import sys, urllib.error, urllib.request
url, timeout, mode = sys.argv[1], float(sys.argv[2]), sys.argv[3]
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
try:
    r = opener.open(url, timeout=timeout)
except urllib.error.HTTPError as e:
    if mode != "status":
        sys.stderr.write("cl_http_get: %s: %s\n" % (url, e))
        sys.exit(1)
    r = e
except Exception as e:
    sys.stderr.write("cl_http_%s: %s: %s\n" % (mode, url, e))
    sys.exit(1)
body = r.read().decode()
if mode == "status":
    sys.stdout.write("%d\n%s\n" % (r.status, body))
else:
    sys.stdout.write(body)
' "$2" "$t" "$3"
}

# cl_http_get FROM URL: HTTP GET of URL from FROM; prints the body and
# succeeds on a 2xx answer within CL_TIMEOUT seconds.
cl_http_get() {
    _cl_http "$1" "$2" body
}

# cl_http_status FROM URL: HTTP GET of URL from FROM; prints the status
# code, then the body, whatever the status; fails only if no answer came
# within CL_TIMEOUT seconds.
cl_http_status() {
    _cl_http "$1" "$2" status
}

# cl_lose_syns WHO on|off: from now on, WHO (a node, pod or external host)
# loses every TCP SYN it receives, or no longer does, so that its clients
# retransmit their SYNs.  (A netfilter rule in WHO's own namespace: the
# switch's datapath never sees it.)
cl_lose_syns() {
    local ns op
    ns=$(_cl_ns "$1") || return 1
    case $2 in
    on) op=-A ;;
    off) op=-D ;;
    *) _cl_err "cl_lose_syns: '$2' is neither on nor off"; return 1 ;;
    esac
    ip netns exec "$ns" iptables -w $op INPUT -p tcp \
        --tcp-flags SYN,ACK SYN -j DROP
}

# cl_tcp_state FROM IP PORT: tries a TCP connection from FROM to IP:PORT
# and prints how it ended: "connected", "refused" (a TCP RST, e.g. a
# Service without endpoints), "unreachable" (ICMP error) or "timeout" (no
# answer in CL_TIMEOUT seconds, e.g. dropped by a policy).
cl_tcp_state() {
    local ns t="${CL_TIMEOUT:-3}" state
    ns=$(_cl_ns "$1") || return 1
    # The outer bound only stops a probe that hangs: on a loaded machine
    # python's start alone can take seconds, and the probe's own timeout
    # is what decides "timeout".  A probe stopped after it printed its
    # answer still gives one line.
    state=$(timeout $((t + 10)) ip netns exec "$ns" python3 -I -S -c '
import errno, socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])),
                             timeout=float(sys.argv[3])).close()
    print("connected")
except ConnectionRefusedError:
    print("refused")
except socket.timeout:
    print("timeout")
except OSError as e:
    print("unreachable" if e.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH)
          else "error: %s" % e)
' "$2" "$3" "$t")
    echo "${state:-timeout}"
}

# cl_syn_retrans POD: prints how many TCP SYNs POD's network namespace has
# retransmitted so far (the kernel's TcpExtTCPSynRetrans).
cl_syn_retrans() {
    local ns
    ns=$(_cl_ns "$1") || return 1
    ip netns exec "$ns" nstat -asz TcpExtTCPSynRetrans |
        awk '$1 == "TcpExtTCPSynRetrans" { n = $2 } END { print n + 0 }'
}

# cl_tcp_probe FROM IP PORT: succeeds if FROM can open a TCP connection to
# IP:PORT within CL_TIMEOUT seconds.  Prints nothing.
cl_tcp_probe() {
    [ "$(cl_tcp_state "$@")" = connected ]
}

# The UDP server of cl_udp_serve: answers every datagram with its name.
_cl_py_udp='
import socket, sys
name, port, ready = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", port))
open(ready, "w").close()
while True:
    data, peer = s.recvfrom(2048)
    text = peer[0] if data.strip() == b"clientip" else name
    s.sendto((text + "\n").encode(), peer)
'

# cl_udp_serve WHO PORT: starts a UDP server on PORT in WHO that answers each
# datagram with WHO's name, or with the client's address if the datagram is
# "clientip".  Returns once it is bound.  Stop with cl_udp_stop.
cl_udp_serve() {
    _cl_serve udp "$_cl_py_udp" "$1" "$2"
}

# cl_udp_stop WHO PORT: stops the server cl_udp_serve started.
cl_udp_stop() {
    cl_bg_stop "udp-$(_cl_key "$1")-$2"
}

# cl_udp_get FROM IP PORT [MESSAGE]: sends MESSAGE (default "hello") from
# FROM to IP:PORT, up to CL_PING_TRIES times 1 s apart, and prints the first
# answer.  Fails if none comes.
cl_udp_get() {
    local ns tries="${CL_PING_TRIES:-3}"
    ns=$(_cl_ns "$1") || return 1
    timeout $((tries + 2)) ip netns exec "$ns" python3 -I -S -c '
import socket, sys
ip, port, msg, tries = sys.argv[1], int(sys.argv[2]), sys.argv[3], \
    int(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1)
for _ in range(tries):
    try:
        s.sendto(msg.encode(), (ip, port))
        sys.stdout.write(s.recv(2048).decode())
        sys.exit(0)
    except OSError:
        pass
sys.stderr.write("cl_udp_get: %s:%d: no answer\n" % (ip, port))
sys.exit(1)
' "$2" "$3" "${4:-hello}" "$tries"
}

# The bulk server of cl_bulk_serve: reads what a client sends until the
# client shuts its side down, then sends back as many bytes and closes.
_cl_py_bulk='
import socket, sys, threading
name, port, ready = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def serve(conn):
    n = 0
    while True:
        data = conn.recv(65536)
        if not data:
            break
        n += len(data)
    conn.sendall(bytes(i % 251 for i in range(n)))
    conn.close()
try:
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("::", port))
except OSError:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
s.listen(16)
open(ready, "w").close()
while True:
    conn, _ = s.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
'

# cl_bulk_serve WHO PORT: starts a TCP server on PORT in WHO (both families
# where WHO has IPv6) that reads everything a client sends and then sends
# back as many bytes.  Stop it with cl_bulk_stop or cl_cleanup.
cl_bulk_serve() {
    _cl_serve bulk "$_cl_py_bulk" "$1" "$2"
}

# cl_bulk_stop WHO PORT: stops the server cl_bulk_serve started.
cl_bulk_stop() {
    cl_bg_stop "bulk-$(_cl_key "$1")-$2"
}

# cl_bulk_xfer FROM IP PORT BYTES: connects from FROM to the cl_bulk_serve
# server at IP:PORT, sends BYTES bytes, and reads what comes back, all
# within CL_TIMEOUT seconds; prints "sent N received M" and succeeds if M
# is BYTES.
cl_bulk_xfer() {
    local ns t="${CL_TIMEOUT:-3}"
    ns=$(_cl_ns "$1") || return 1
    timeout $((t + 10)) ip netns exec "$ns" python3 -I -S -c '
import socket, sys, time
ip, port, size, timeout = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), \
    float(sys.argv[4])
deadline = time.monotonic() + timeout
sent = received = 0
try:
    s = socket.create_connection((ip, port), timeout=timeout)
    data = bytes(i % 253 for i in range(size))
    while sent < size:
        s.settimeout(max(deadline - time.monotonic(), 0.01))
        sent += s.send(data[sent:])
    s.shutdown(socket.SHUT_WR)
    while True:
        s.settimeout(max(deadline - time.monotonic(), 0.01))
        chunk = s.recv(65536)
        if not chunk:
            break
        received += len(chunk)
except OSError as e:
    sys.stderr.write("cl_bulk_xfer: %s:%d: %s\n" % (ip, port, e))
print("sent %d received %d" % (sent, received))
sys.exit(0 if received == size else 1)
' "$2" "$3" "$4" "$t"
}

# cl_wait_until SECONDS CMD...: runs CMD every 0.1 s until it succeeds
# (returns 0) or SECONDS have passed (returns 1).
cl_wait_until() {
    local end=$(( $(date +%s) + $1 ))
    shift
    while :; do
        "$@" && return 0
        [ "$(date +%s)" -lt "$end" ] || break
        sleep 0.1
    done
    _cl_err "timed out after waiting for: $*"
}
