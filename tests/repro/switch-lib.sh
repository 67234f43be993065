# Sourced by the scripts in tests/repro/: a private ovsdb-server and
# 'ovs-vswitchd --enable-dummy' in a temporary directory, $D, which the
# switch's files and the script's own live in, all removed on exit.
D=$(mktemp -d)
export OVS_RUNDIR=$D OVS_LOGDIR=$D OVS_DBDIR=$D OVS_SYSCONFDIR=$D
cleanup() {
    ovs-appctl -t ovs-vswitchd exit 2>/dev/null || true
    ovs-appctl -t ovsdb-server exit 2>/dev/null || true
    rm -rf "$D"
}
trap cleanup EXIT
ovsdb-tool create "$D/conf.db" /usr/share/openvswitch/vswitch.ovsschema
ovsdb-server --detach --no-chdir --pidfile --log-file \
    --remote="punix:$D/db.sock" "$D/conf.db" 2>/dev/null
ovs-vsctl --no-wait init
ovs-vswitchd --enable-dummy --disable-system --detach --no-chdir --pidfile \
    --log-file 2>/dev/null
