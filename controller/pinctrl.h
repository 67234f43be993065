/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#ifndef CONTROLLER_PINCTRL_H
#define CONTROLLER_PINCTRL_H 1

/* Packet-in handling.
 *
 * Some packets need an answer that flows cannot give.  The pipeline sends
 * them to the controller with a controller action whose userdata names what
 * to do (flows/pinctrl-opcodes.h); pinctrl decodes the packet-in, runs the
 * handler for its opcode and returns the answer as packet-outs.
 *
 * The opcodes:
 *
 *   - REJECT: the first packet of a connection to a Service without usable
 *     endpoints gets a TCP RST (connection refused), or an ICMP port
 *     unreachable for UDP, SCTP and other IP protocols, sent back out of the
 *     port the packet came in on.  IPv4 only for now.
 *
 *   - RESOLVE: a packet leaving through br-ex whose next hop (REG_NEXTHOP,
 *     in the packet-in's metadata) has no MAC yet.  pinctrl hands the next
 *     hop to the neighbor table (controller/neighbor.h), which answers with
 *     an ARP request, a packet-out on br-int, the bridge the packet-in came
 *     from; the packet itself is dropped.
 *
 *   - NEIGHBOR: an ARP packet from the external network about the node IP.
 *     pinctrl hands its sender's IP and MAC to the neighbor table, which
 *     learns them if it asked for them.  No answer.
 *
 *   - TOO_BIG: a packet larger than the tunnel it was to go into (the
 *     tunnel port in OUT_PORT, the MTU in the userdata).  Its sender gets
 *     ICMP "fragmentation needed" (IPv4 with DF) or ICMPv6 "packet too
 *     big", naming the MTU, which enters br-int's pipeline as if from that
 *     tunnel, so that conntrack un-NATs it as related to the packet's
 *     connection.  The packet itself is dropped, IPv4 without DF too.
 *
 *   - NP_LOG: a NetworkPolicy verdict of a pod whose verdicts are logged
 *     (flows/policy.h).  pinctrl decodes its arguments and hands the
 *     packet's headers, the cookie of the flow that decided and the
 *     arguments to the audit log's handler (pinctrl_set_np_log_handler(),
 *     controller/np-log.h).  No answer: an allowed packet went on through
 *     the pipeline on the switch, a dropped one is dropped.
 *
 * pinctrl does no I/O itself: the owner of the OpenFlow connection passes it
 * each packet-in and sends what it returns.  It keeps only statistics; the
 * neighbor table keeps what RESOLVE and NEIGHBOR find out. */

#include <stdint.h>
#include "openvswitch/list.h"
#include "openvswitch/ofp-protocol.h"

struct flow;
struct ofp_header;
struct pinctrl_np_log_args;

/* Handles packet-in message 'oh' (whose type is OFPTYPE_PACKET_IN), received
 * on a connection that speaks 'version'.  Appends the messages to send back
 * on that connection, zero or more packet-outs as struct ofpbufs linked
 * through 'list_node', to 'replies'; the caller owns and sends them.
 * RESOLVE and NEIGHBOR go to the neighbor table 'neighbors' (a "struct
 * neighbor_table *", or NULL for none: they are then not handled); its
 * type is that of an ofctrl's packet-in handler's argument.
 *
 * Only NXT_PACKET_IN2 messages carry the userdata with the opcode: the
 * connection must ask for that format (NXT_SET_PACKET_IN_FORMAT); other
 * formats are ignored with a warning.  A packet-in that cannot be decoded,
 * that carries no or an unknown opcode, or whose packet the opcode's handler
 * cannot handle gets no reply and a rate-limited log message. */
void pinctrl_handle_packet_in(const struct ofp_header *oh,
                              enum ofp_version version,
                              struct ovs_list *replies, void *neighbors);

/* Statistics, for the status command. */
/* Handles an NP_LOG packet-in: 'flow' holds the packet's headers,
 * 'cookie' is the cookie of the flow that sent it, 'args' its arguments
 * (flows/pinctrl-opcodes.h). */
typedef void pinctrl_np_log_cb(const struct flow *flow, uint64_t cookie,
                               const struct pinctrl_np_log_args *args,
                               void *aux);

/* Makes 'cb' (NULL: nobody) handle NP_LOG packet-ins, with 'aux'. */
void pinctrl_set_np_log_handler(pinctrl_np_log_cb *cb, void *aux);

struct pinctrl_stats {
    uint64_t n_packet_ins;          /* Packet-ins handled. */
    uint64_t n_tcp_resets;          /* Rejected with a TCP RST. */
    uint64_t n_icmp_unreachables;   /* Rejected with ICMP port unreachable
                                     * (UDP, SCTP, other IP protocols). */
    uint64_t n_resolves;            /* Next hops handed to the neighbor
                                     * table (RESOLVE). */
    uint64_t n_arp_learned;         /* ARP packets that resolved or
                                     * confirmed a neighbor (NEIGHBOR). */
    uint64_t n_np_logs;             /* Verdicts handed to the audit log
                                     * (NP_LOG). */
    uint64_t n_too_big;             /* Packets too large for a tunnel,
                                     * answered with ICMP fragmentation
                                     * needed or ICMPv6 packet too big
                                     * (TOO_BIG). */
    uint64_t n_too_big_dropped;     /* IPv4 packets too large for a tunnel
                                     * without DF, dropped (also counted
                                     * as ignored). */
    uint64_t n_ignored;             /* Packet-ins not handled: malformed,
                                     * not answerable, or unsolicited. */
};
void pinctrl_get_stats(struct pinctrl_stats *);

#endif /* controller/pinctrl.h */
