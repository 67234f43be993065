/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#ifndef CONTROLLER_DPCACHE_H
#define CONTROLLER_DPCACHE_H 1

/* The datapath flow cache of the local ovs-vswitchd.
 *
 * ovs-vswitchd caches the result of its OpenFlow tables in datapath flows
 * (megaflows); after the tables change, its revalidator threads check every
 * cached flow again and fix or delete it.  Open vSwitch 3.1.0 (Debian 12),
 * userspace datapath, gets that wrong now and then: when a revalidator
 * changes the actions of a megaflow in place, the datapath finds the
 * megaflow to change by looking up the flow's key in its classifier
 * instead of by the flow's UFID, and megaflows may overlap, so the new
 * actions can go to another megaflow.  The first keeps the old actions,
 * while the revalidator's record of it says it has the new ones, so no
 * later round touches it again: a connection that a deleted NetworkPolicy
 * dropped stays dropped (or one that a new policy denies stays allowed)
 * for as long as packets keep that megaflow alive.  Upstream fixed it in
 * "dpif-netdev: Fix dpif_netdev_flow_put." (Open vSwitch 3.1.3, 3.2.0 and
 * later); tests/repro/stale-megaflow.sh reproduces it with ovs-ofctl and
 * ovs-appctl alone.
 *
 * Revalidating again cannot help, since the switch believes the flow is
 * right; emptying the cache does.  dpcache_purge() asks ovs-vswitchd, over
 * its unixctl socket (found through $OVS_RUNDIR/ovs-vswitchd.pid), to
 * pause its revalidators, delete every datapath flow ("revalidator/purge")
 * and resume them.  The pause is there because 3.1.0's purge skips any
 * flow a revalidator holds at that moment, and a revalidator is busy with
 * exactly those flows right after a table change; from 3.1.4 on, the purge
 * pauses them itself and the extra pause is harmless.  The next packet of
 * each connection is then looked up in the new tables.
 *
 * A purge costs one extra lookup in the OpenFlow tables per active flow,
 * so kovs asks for one only after a bundle that changed a NetworkPolicy
 * table (flows_table_change_purges_datapath()) has been acknowledged by
 * its barrier reply.  Requests made while a purge is in progress are
 * merged into one more purge after it.
 *
 * The module runs in the caller's poll loop. */

#include <stdbool.h>
#include <stdint.h>

struct ds;

/* Asks for a purge of the datapath flow cache, as soon as possible. */
void dpcache_purge(void);

/* Starts a requested purge and processes replies. */
void dpcache_run(void);
void dpcache_wait(void);

/* Returns true while a purge is requested or in progress. */
bool dpcache_is_busy(void);

/* Appends a line to 'ds' for the status command. */
void dpcache_format_status(struct ds *);

/* Closes the connection of a purge in progress. */
void dpcache_destroy(void);

#endif /* controller/dpcache.h */
