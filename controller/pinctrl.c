/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#include <config.h>

#include "controller/pinctrl.h"

#include <string.h>
#include "controller/neighbor.h"
#include "csum.h"
#include "dp-packet.h"
#include "flow.h"
#include "flows/actions.h"
#include "flows/pinctrl-opcodes.h"
#include "flows/pipeline.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/match.h"
#include "openvswitch/meta-flow.h"
#include "openvswitch/ofp-errors.h"
#include "openvswitch/ofp-msgs.h"
#include "openvswitch/ofp-packet.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/vlog.h"
#include "packets.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(pinctrl);

/* ICMP destination unreachable code (RFC 792). */
#define PINCTRL_ICMP4_PORT_UNREACH 3

/* The TTL of the packets pinctrl composes. */
#define PINCTRL_TTL 64

/* ICMPv6 destination unreachable, and its code for an unreachable port
 * (RFC 4443, 3.1). */
#define PINCTRL_ICMP6_DST_UNREACH 1
#define PINCTRL_ICMP6_PORT_UNREACH 4

/* The most an ICMPv6 error may be: it quotes as much of the packet it
 * answers as fits in the IPv6 minimum MTU (RFC 4443, 2.4 (c)). */
#define PINCTRL_ICMP6_MAX_LEN 1280

/* ICMP "fragmentation needed and DF set" (RFC 792, RFC 1191), a code of
 * destination unreachable; ICMPv6 "packet too big" (RFC 4443, 3.2). */
#define PINCTRL_ICMP4_FRAG_NEEDED 4
#define PINCTRL_ICMP6_PACKET_TOO_BIG 2

/* The most an ICMP error may be: it quotes as much of the packet it
 * answers as fits in 576 bytes (RFC 1812, 4.3.2.3). */
#define PINCTRL_ICMP4_MAX_LEN 576

static struct pinctrl_stats stats;

/* A packet-in being handled. */
struct pinctrl_packet_in {
    const struct ofputil_packet_in *pin;    /* The decoded message. */
    enum ofputil_protocol protocol;         /* For the replies. */
    ofp_port_t in_port;                     /* Where the packet came in. */
    struct neighbor_table *neighbors;       /* For RESOLVE and NEIGHBOR,
                                             * or NULL. */

    /* The userdata after the opcode, for opcodes that take arguments. */
    const uint8_t *args;
    size_t args_len;

    /* The packet, pointing into the message, with its header offsets and
     * headers as flow_extract() found them.  Only the headers that
     * flow_extract() found are known to be within the packet; a handler
     * checks anything else it reads. */
    struct dp_packet packet;
    struct flow flow;
};

/* An opcode's handler handles 'pi', appending any packet-outs to 'replies',
 * and returns true, or returns false (after saying why, through
 * pinctrl_ignore()) if it cannot handle the packet. */
struct pinctrl_handler {
    enum pinctrl_opcode opcode;
    bool (*handle)(const struct pinctrl_packet_in *pi,
                   struct ovs_list *replies);
};

static bool pinctrl_reject(const struct pinctrl_packet_in *,
                           struct ovs_list *replies);
static bool pinctrl_resolve(const struct pinctrl_packet_in *,
                            struct ovs_list *replies);
static bool pinctrl_neighbor(const struct pinctrl_packet_in *,
                             struct ovs_list *replies);
static bool pinctrl_np_log(const struct pinctrl_packet_in *,
                           struct ovs_list *replies);
static bool pinctrl_too_big(const struct pinctrl_packet_in *,
                            struct ovs_list *replies);
static bool pinctrl_too_big_pod(const struct pinctrl_packet_in *,
                                struct ovs_list *replies);
static bool pinctrl_icmp6_stash(const struct pinctrl_packet_in *,
                                struct ovs_list *replies);
static bool pinctrl_icmp6_restore(const struct pinctrl_packet_in *,
                                  struct ovs_list *replies);

static const struct pinctrl_handler handlers[] = {
    { PINCTRL_OP_REJECT, pinctrl_reject },
    { PINCTRL_OP_RESOLVE, pinctrl_resolve },
    { PINCTRL_OP_NEIGHBOR, pinctrl_neighbor },
    { PINCTRL_OP_NP_LOG, pinctrl_np_log },
    { PINCTRL_OP_TOO_BIG, pinctrl_too_big },
    { PINCTRL_OP_TOO_BIG_POD, pinctrl_too_big_pod },
    { PINCTRL_OP_ICMP6_STASH, pinctrl_icmp6_stash },
    { PINCTRL_OP_ICMP6_RESTORE, pinctrl_icmp6_restore },
};

/* The audit log's handler of NP_LOG, and its argument. */
static pinctrl_np_log_cb *np_log_cb;
static void *np_log_aux;

static const struct pinctrl_handler *
pinctrl_find_handler(uint8_t opcode)
{
    for (size_t i = 0; i < ARRAY_SIZE(handlers); i++) {
        if (handlers[i].opcode == opcode) {
            return &handlers[i];
        }
    }
    return NULL;
}

/* Logs, at debug level and rate-limited, that the packet in 'pi' gets no
 * answer because 'reason'.  Returns false, for handlers to return. */
static bool
pinctrl_ignore(const struct pinctrl_packet_in *pi, const char *reason)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(10, 20);

    if (!VLOG_DROP_DBG(&rl)) {
        struct ds s = DS_EMPTY_INITIALIZER;

        flow_format(&s, &pi->flow, NULL);
        VLOG_DBG("%s: no answer to packet from table %"PRIu8" (cookie %#"
                 PRIx64"), %s: %s", pinctrl_opcode_name(pi->pin->userdata[0]),
                 pi->pin->table_id, ntohll(pi->pin->cookie), reason,
                 ds_cstr(&s));
        ds_destroy(&s);
    }
    return false;
}

/* Appends to 'replies' a packet-out, for 'pi''s connection, of 'packet'
 * with the metadata 'md' (in_port, registers, tunnel fields), with
 * 'ofpacts'.  Frees 'packet'. */
static void
pinctrl_put_packet_out_md(const struct pinctrl_packet_in *pi,
                          struct dp_packet *packet, const struct match *md,
                          const struct ofpbuf *ofpacts,
                          struct ovs_list *replies)
{
    struct ofputil_packet_out po;
    memset(&po, 0, sizeof po);
    po.packet = dp_packet_data(packet);
    po.packet_len = dp_packet_size(packet);
    po.buffer_id = UINT32_MAX;
    po.flow_metadata = *md;
    po.ofpacts = ofpacts->data;
    po.ofpacts_len = ofpacts->size;

    struct ofpbuf *msg = ofputil_encode_packet_out(&po, pi->protocol);
    ovs_list_push_back(replies, &msg->list_node);
    dp_packet_delete(packet);
}

/* Appends to 'replies' a packet-out, for 'pi''s connection, of 'packet'
 * as if it entered on 'in_port', with 'ofpacts'.  Frees 'packet'. */
static void
pinctrl_put_packet_out__(const struct pinctrl_packet_in *pi,
                         struct dp_packet *packet, ofp_port_t in_port,
                         const struct ofpbuf *ofpacts,
                         struct ovs_list *replies)
{
    struct match md;
    match_init_catchall(&md);
    match_set_in_port(&md, in_port);
    pinctrl_put_packet_out_md(pi, packet, &md, ofpacts, replies);
}

/* Appends to 'replies' a packet-out that sends 'packet' out of 'port'
 * without going through the pipeline.  Frees 'packet'. */
static void
pinctrl_put_packet_out(const struct pinctrl_packet_in *pi,
                       struct dp_packet *packet, ofp_port_t port,
                       struct ovs_list *replies)
{
    uint64_t ofpacts_stub[64 / 8];
    struct ofpbuf ofpacts = OFPBUF_STUB_INITIALIZER(ofpacts_stub);
    flows_put_output(&ofpacts, port);
    pinctrl_put_packet_out__(pi, packet, OFPP_CONTROLLER, &ofpacts, replies);
    ofpbuf_uninit(&ofpacts);
}

/* Decodes packet-in 'oh' and runs its opcode's handler.  Returns true if the
 * handler handled it. */
static bool
pinctrl_dispatch(const struct ofp_header *oh, enum ofp_version version,
                 struct neighbor_table *neighbors, struct ovs_list *replies)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
    struct ofputil_packet_in pin;
    size_t total_len;
    uint32_t buffer_id;

    enum ofperr error = ofputil_decode_packet_in(oh, true, NULL, NULL, &pin,
                                                 &total_len, &buffer_id,
                                                 NULL);
    if (error) {
        VLOG_WARN_RL(&rl, "cannot decode packet-in: %s",
                     ofperr_to_string(error));
        return false;
    }

    if (!pin.userdata_len) {
        enum ofpraw raw;
        if (!ofpraw_decode(&raw, oh) && raw != OFPRAW_NXT_PACKET_IN2) {
            /* Other formats drop the userdata, and with it the opcode. */
            VLOG_WARN_RL(&rl, "ignoring packet-in in a format without "
                         "userdata: the connection must ask for "
                         "NXT_PACKET_IN2");
        } else {
            /* Not from a kovs controller action: for example, a packet
             * whose TTL expired in dec_ttl. */
            char reason[OFPUTIL_PACKET_IN_REASON_BUFSIZE];
            VLOG_DBG_RL(&rl, "ignoring packet-in without userdata (reason "
                        "%s, table %"PRIu8")",
                        ofputil_packet_in_reason_to_string(
                            pin.reason, reason, sizeof reason),
                        pin.table_id);
        }
        return false;
    }

    uint8_t opcode = pin.userdata[0];
    const struct pinctrl_handler *handler = pinctrl_find_handler(opcode);
    if (!handler) {
        VLOG_WARN_RL(&rl, "ignoring packet-in with unknown opcode %"PRIu8" "
                     "(table %"PRIu8", cookie %#"PRIx64")",
                     opcode, pin.table_id, ntohll(pin.cookie));
        return false;
    }

    /* Every kovs controller action asks for the whole packet. */
    if (buffer_id != UINT32_MAX || total_len != pin.packet_len) {
        VLOG_WARN_RL(&rl, "%s: ignoring packet-in with %"PRIuSIZE" of "
                     "%"PRIuSIZE" bytes of the packet",
                     pinctrl_opcode_name(opcode), pin.packet_len, total_len);
        return false;
    }

    enum ofputil_protocol protocol = ofputil_protocol_from_ofp_version(
        version);
    if (!protocol) {
        VLOG_WARN_RL(&rl, "cannot reply in OpenFlow version %#x", version);
        return false;
    }

    /* kovs's pipeline handles only Ethernet packets. */
    if (pin.flow_metadata.flow.packet_type != htonl(PT_ETH)) {
        VLOG_DBG_RL(&rl, "%s: ignoring packet-in of a non-Ethernet packet",
                    pinctrl_opcode_name(opcode));
        return false;
    }

    struct pinctrl_packet_in pi = {
        .pin = &pin,
        .protocol = protocol,
        .in_port = pin.flow_metadata.flow.in_port.ofp_port,
        .neighbors = neighbors,
        .args = pin.userdata + 1,
        .args_len = pin.userdata_len - 1,
    };
    dp_packet_use_const(&pi.packet, pin.packet, pin.packet_len);
    pi.packet.md.in_port.ofp_port = pi.in_port;
    flow_extract(&pi.packet, &pi.flow);

    bool handled = handler->handle(&pi, replies);
    dp_packet_uninit(&pi.packet);
    return handled;
}

void
pinctrl_handle_packet_in(const struct ofp_header *oh, enum ofp_version version,
                         struct ovs_list *replies, void *neighbors)
{
    stats.n_packet_ins++;
    if (!pinctrl_dispatch(oh, version, neighbors, replies)) {
        stats.n_ignored++;
    }
}

void
pinctrl_get_stats(struct pinctrl_stats *s)
{
    *s = stats;
}

/* REJECT. */

/* Returns true if 'pi''s packet is IPv6 (else it is IPv4). */
static bool
pinctrl_is_ipv6(const struct pinctrl_packet_in *pi)
{
    return pi->flow.dl_type == htons(ETH_TYPE_IPV6);
}

/* Returns a new packet that answers 'pi''s IPv4 or IPv6 packet: its L2
 * headers with the Ethernet addresses swapped, then an IP header of the
 * same family, without options or extension headers, from the packet's
 * destination to its source, for an 'l4_len'-byte payload of protocol
 * 'proto' (IPv4's header checksum included).  The caller appends the
 * 'l4_len' bytes, for which the packet has room, and fills in their
 * checksum (pinctrl_l4_csum()). */
static struct dp_packet *
pinctrl_compose_reply(const struct pinctrl_packet_in *pi,
                      uint8_t proto, size_t l4_len)
{
    const struct dp_packet *request = &pi->packet;
    size_t l2_len = (char *) dp_packet_l3(request)
                    - (char *) dp_packet_data(request);
    size_t l3_len = pinctrl_is_ipv6(pi) ? IPV6_HEADER_LEN : IP_HEADER_LEN;
    struct dp_packet *reply = dp_packet_new(l2_len + l3_len + l4_len);

    /* Keeps any VLAN headers, and the Ethertype, as they are. */
    struct eth_header *eth = dp_packet_put(reply, dp_packet_data(request),
                                           l2_len);
    eth->eth_dst = pi->flow.dl_src;
    eth->eth_src = pi->flow.dl_dst;

    void *l3 = dp_packet_put_zeros(reply, l3_len);
    if (pinctrl_is_ipv6(pi)) {
        struct ovs_16aligned_ip6_hdr *ip6 = l3;
        put_16aligned_be32(&ip6->ip6_flow, htonl(6 << 28));
        ip6->ip6_plen = htons(l4_len);
        ip6->ip6_nxt = proto;
        ip6->ip6_hlim = PINCTRL_TTL;
        memcpy(&ip6->ip6_src, &pi->flow.ipv6_dst, sizeof ip6->ip6_src);
        memcpy(&ip6->ip6_dst, &pi->flow.ipv6_src, sizeof ip6->ip6_dst);
    } else {
        struct ip_header *ip = l3;
        ip->ip_ihl_ver = IP_IHL_VER(IP_HEADER_LEN / 4, IP_VERSION);
        ip->ip_tot_len = htons(IP_HEADER_LEN + l4_len);
        ip->ip_frag_off = htons(IP_DONT_FRAGMENT);
        ip->ip_ttl = PINCTRL_TTL;
        ip->ip_proto = proto;
        put_16aligned_be32(&ip->ip_src, pi->flow.nw_dst);
        put_16aligned_be32(&ip->ip_dst, pi->flow.nw_src);
        ip->ip_csum = csum(ip, IP_HEADER_LEN);
    }

    dp_packet_set_l3(reply, l3);
    dp_packet_set_l4(reply, dp_packet_tail(reply));
    return reply;
}

/* Returns the checksum of the 'l4_len' bytes of 'reply''s L4 payload, with
 * the pseudo-header of 'reply''s IP header if the protocol has one (TCP,
 * ICMPv6) and without one for ICMP. */
static ovs_be16
pinctrl_l4_csum(const struct pinctrl_packet_in *pi,
                const struct dp_packet *reply, size_t l4_len)
{
    const void *l3 = dp_packet_l3(reply);
    const void *l4 = dp_packet_l4(reply);
    uint32_t partial = 0;
    if (pinctrl_is_ipv6(pi)) {
        partial = packet_csum_pseudoheader6(l3);
    } else if (((const struct ip_header *) l3)->ip_proto != IPPROTO_ICMP) {
        partial = packet_csum_pseudoheader(l3);
    }
    return csum_finish(csum_continue(partial, l4, l4_len));
}

/* Appends "SRC:PORT -> DST:PORT" of 'pi''s packet to 's', IPv6 addresses
 * in brackets. */
static void
pinctrl_format_endpoints(const struct pinctrl_packet_in *pi, struct ds *s)
{
    if (pinctrl_is_ipv6(pi)) {
        ds_put_char(s, '[');
        ipv6_format_addr(&pi->flow.ipv6_src, s);
        ds_put_format(s, "]:%"PRIu16" -> [", ntohs(pi->flow.tp_src));
        ipv6_format_addr(&pi->flow.ipv6_dst, s);
        ds_put_format(s, "]:%"PRIu16, ntohs(pi->flow.tp_dst));
    } else {
        ds_put_format(s, IP_FMT":%"PRIu16" -> "IP_FMT":%"PRIu16,
                      IP_ARGS(pi->flow.nw_src), ntohs(pi->flow.tp_src),
                      IP_ARGS(pi->flow.nw_dst), ntohs(pi->flow.tp_dst));
    }
}

/* Answers a TCP segment with a RST that refuses the connection. */
static bool
pinctrl_reject_tcp(const struct pinctrl_packet_in *pi,
                   struct ovs_list *replies)
{
    const struct dp_packet *request = &pi->packet;
    const struct tcp_header *th = dp_packet_l4(request);
    size_t l4_size = dp_packet_l4_size(request);

    if (pi->flow.nw_frag) {
        return pinctrl_ignore(pi, "fragmented TCP segment");
    }
    if (l4_size < TCP_HEADER_LEN) {
        return pinctrl_ignore(pi, "truncated TCP header");
    }
    size_t th_len = TCP_OFFSET(th->tcp_ctl) * 4;
    if (th_len < TCP_HEADER_LEN || th_len > l4_size) {
        return pinctrl_ignore(pi, "bad TCP header length");
    }
    uint16_t flags = TCP_FLAGS(th->tcp_ctl);
    if (flags & TCP_RST) {
        return pinctrl_ignore(pi, "a RST is never answered");
    }

    /* RFC 793, "Reset Generation": the RST takes its sequence number from
     * the segment's acknowledgment, if any, and acknowledges everything the
     * segment occupies in sequence space. */
    uint32_t seq = (flags & TCP_ACK
                    ? ntohl(get_16aligned_be32(&th->tcp_ack))
                    : 0);
    uint32_t ack = (ntohl(get_16aligned_be32(&th->tcp_seq))
                    + (l4_size - th_len)
                    + (flags & TCP_SYN ? 1 : 0)
                    + (flags & TCP_FIN ? 1 : 0));

    struct dp_packet *reply = pinctrl_compose_reply(pi, IPPROTO_TCP,
                                                    TCP_HEADER_LEN);
    struct tcp_header *rth = dp_packet_put_zeros(reply, TCP_HEADER_LEN);
    rth->tcp_src = th->tcp_dst;
    rth->tcp_dst = th->tcp_src;
    put_16aligned_be32(&rth->tcp_seq, htonl(seq));
    put_16aligned_be32(&rth->tcp_ack, htonl(ack));
    rth->tcp_ctl = TCP_CTL(TCP_RST | TCP_ACK, TCP_HEADER_LEN / 4);
    rth->tcp_csum = pinctrl_l4_csum(pi, reply, TCP_HEADER_LEN);

    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(10, 20);
    if (!VLOG_DROP_DBG(&rl)) {
        struct ds s = DS_EMPTY_INITIALIZER;
        ds_put_cstr(&s, "reject: TCP ");
        pinctrl_format_endpoints(pi, &s);
        VLOG_DBG("%s refused with a RST out of port %"PRIu16, ds_cstr(&s),
                 ofp_to_u16(pi->in_port));
        ds_destroy(&s);
    }

    pinctrl_put_packet_out(pi, reply, pi->in_port, replies);
    stats.n_tcp_resets++;
    return true;
}

/* Answers a UDP, SCTP or other IP packet with a port unreachable from the
 * address it was sent to: for IPv4 an ICMP message quoting its IP header
 * and the first 8 bytes of its payload (RFC 792), for IPv6 an ICMPv6
 * message quoting as much of the packet as fits in the minimum MTU
 * (RFC 4443). */
static bool
pinctrl_reject_icmp(const struct pinctrl_packet_in *pi,
                    struct ovs_list *replies)
{
    const struct dp_packet *request = &pi->packet;
    uint8_t proto = pi->flow.nw_proto;
    size_t l4_size = dp_packet_l4_size(request);

    if ((proto == IPPROTO_UDP && l4_size < UDP_HEADER_LEN)
        || (proto == IPPROTO_SCTP && l4_size < SCTP_HEADER_LEN)) {
        return pinctrl_ignore(pi, "truncated L4 header");
    }

    size_t ip_len = (char *) dp_packet_l4(request)
                    - (char *) dp_packet_l3(request);
    bool ipv6 = pinctrl_is_ipv6(pi);
    size_t quote_len;
    if (ipv6) {
        /* ICMPv6's header and "unused" word are 8 bytes in all, the size of
         * struct icmp_header. */
        quote_len = MIN(ip_len + l4_size, (PINCTRL_ICMP6_MAX_LEN
                                           - IPV6_HEADER_LEN
                                           - ICMP_HEADER_LEN));
    } else {
        quote_len = ip_len + MIN(l4_size, ICMP_ERROR_DATA_L4_LEN);
    }
    size_t l4_len = ICMP_HEADER_LEN + quote_len;
    struct dp_packet *reply = pinctrl_compose_reply(
        pi, ipv6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP, l4_len);

    struct icmp_header *icmp = dp_packet_put_zeros(reply, ICMP_HEADER_LEN);
    icmp->icmp_type = ipv6 ? PINCTRL_ICMP6_DST_UNREACH : ICMP4_DST_UNREACH;
    icmp->icmp_code = (ipv6 ? PINCTRL_ICMP6_PORT_UNREACH
                       : PINCTRL_ICMP4_PORT_UNREACH);
    dp_packet_put(reply, dp_packet_l3(request), quote_len);
    icmp = dp_packet_l4(reply);
    icmp->icmp_csum = pinctrl_l4_csum(pi, reply, l4_len);

    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(10, 20);
    if (!VLOG_DROP_DBG(&rl)) {
        struct ds s = DS_EMPTY_INITIALIZER;
        ds_put_format(&s, "reject: IP protocol %"PRIu8" ", proto);
        pinctrl_format_endpoints(pi, &s);
        VLOG_DBG("%s refused with %s port unreachable out of port %"PRIu16,
                 ds_cstr(&s), ipv6 ? "ICMPv6" : "ICMP",
                 ofp_to_u16(pi->in_port));
        ds_destroy(&s);
    }

    pinctrl_put_packet_out(pi, reply, pi->in_port, replies);
    stats.n_icmp_unreachables++;
    return true;
}

/* Returns NULL if 'pi''s packet is one that may be answered with an error
 * (a TCP RST or an ICMP or ICMPv6 message), otherwise why not. */
static const char *
pinctrl_unanswerable(const struct pinctrl_packet_in *pi)
{
    const struct flow *flow = &pi->flow;

    if (flow->dl_type == htons(ETH_TYPE_IPV6)) {
        /* flow_extract() sets the L4 offset only past a complete IPv6
         * header and its extension headers. */
        if (!dp_packet_l4(&pi->packet)) {
            return "malformed IPv6 header";
        }
        /* RFC 4443 (2.4 (e)): never answer a packet sent to a multicast
         * address, or from anything but a single host. */
        if (eth_addr_is_multicast(flow->dl_src)
            || eth_addr_is_multicast(flow->dl_dst)
            || ipv6_addr_is_multicast(&flow->ipv6_src)
            || ipv6_addr_is_multicast(&flow->ipv6_dst)
            || !ipv6_addr_is_set(&flow->ipv6_src)) {
            return "multicast or no source";
        }
    } else if (flow->dl_type == htons(ETH_TYPE_IP)) {
        /* flow_extract() sets the L4 offset only if the IPv4 header is
         * complete and its lengths are consistent. */
        const struct ip_header *ip = dp_packet_l3(&pi->packet);
        if (!dp_packet_l4(&pi->packet)
            || IP_VER(ip->ip_ihl_ver) != IP_VERSION) {
            return "malformed IPv4 header";
        }
        /* RFC 1122 (3.2.2 and 4.2.3.10): never answer a packet sent to a
         * broadcast or multicast address, or from anything but a single
         * host. */
        if (eth_addr_is_multicast(flow->dl_src)
            || eth_addr_is_multicast(flow->dl_dst)
            || ip_is_multicast(flow->nw_src)
            || ip_is_multicast(flow->nw_dst)
            || flow->nw_src == htonl(INADDR_ANY)
            || flow->nw_src == htonl(INADDR_BROADCAST)
            || flow->nw_dst == htonl(INADDR_BROADCAST)) {
            return "broadcast, multicast or no source";
        }
    } else {
        return "not an IP packet";
    }
    if (flow->nw_frag & FLOW_NW_FRAG_LATER) {
        return "not the first fragment";
    }
    return NULL;
}

/* Rejects the first packet of a connection to a Service without usable
 * endpoints, sending the answer back out of the port it came in on. */
static bool
pinctrl_reject(const struct pinctrl_packet_in *pi, struct ovs_list *replies)
{
    const struct flow *flow = &pi->flow;
    const char *reason = pinctrl_unanswerable(pi);

    if (reason) {
        return pinctrl_ignore(pi, reason);
    }

    if (ofp_to_u16(pi->in_port) >= ofp_to_u16(OFPP_MAX)
        && pi->in_port != OFPP_LOCAL) {
        return pinctrl_ignore(pi, "no port to answer through");
    }

    if (flow->nw_proto == IPPROTO_TCP) {
        return pinctrl_reject_tcp(pi, replies);
    } else if (flow->nw_proto == IPPROTO_ICMP
               || flow->nw_proto == IPPROTO_ICMPV6) {
        return pinctrl_ignore(pi, "ICMP is never answered with ICMP");
    } else {
        return pinctrl_reject_icmp(pi, replies);
    }
}

/* TOO_BIG. */

/* Returns true if 'flow' is an ICMP or ICMPv6 error message, which no
 * ICMP error ever answers (RFC 1122, 3.2.2; RFC 4443, 2.4 (e.1)). */
static bool
pinctrl_is_icmp_error(const struct flow *flow)
{
    uint8_t type = ntohs(flow->tp_src);

    if (flow->nw_proto == IPPROTO_ICMP) {
        return (type == ICMP4_DST_UNREACH || type == ICMP4_SOURCEQUENCH
                || type == ICMP4_REDIRECT || type == ICMP4_TIME_EXCEEDED
                || type == ICMP4_PARAM_PROB);
    }
    return flow->nw_proto == IPPROTO_ICMPV6 && type < 128;
}

/* Answers a packet that is larger than the tunnel it was to go into
 * carries, or than the local pod it was to go to takes ('to_pod'), (the
 * MTU in the arguments; the port in OUT_PORT) with ICMP "fragmentation
 * needed" naming the MTU as the next hop's (IPv4 with DF set), or ICMPv6
 * "packet too big" (IPv6), from its destination to its source, quoting as
 * much of it as an ICMP error may.  The answer enters the pipeline as if
 * from that tunnel, or from that pod, so that conntrack finds it related to
 * the packet's connection and un-NATs it on its way to the sender: a
 * client of a NodePort, say, gets it from the NodePort's address, about
 * the packet it sent.  An IPv4 packet without DF is dropped: neither kovs
 * nor the switch fragments it. */
static bool
pinctrl_too_big__(const struct pinctrl_packet_in *pi, bool to_pod,
                  struct ovs_list *replies)
{
    const struct flow *flow = &pi->flow;
    struct pinctrl_too_big_args args;

    if (pi->args_len != sizeof args) {
        return pinctrl_ignore(pi, "bad too-big arguments");
    }
    memcpy(&args, pi->args, sizeof args);
    uint16_t mtu = ntohs(args.mtu);

    uint32_t out_port = kovs_field_get(&pi->pin->flow_metadata.flow,
                                       KOVS_F_OUT_PORT);
    if (!out_port || out_port >= ofp_to_u16(OFPP_MAX)) {
        return pinctrl_ignore(pi, "no port in OUT_PORT");
    }

    const char *reason = pinctrl_unanswerable(pi);
    if (reason) {
        return pinctrl_ignore(pi, reason);
    }
    if (pinctrl_is_icmp_error(flow)) {
        return pinctrl_ignore(pi, "an ICMP error is never answered with "
                              "ICMP");
    }

    const struct dp_packet *request = &pi->packet;
    bool ipv6 = pinctrl_is_ipv6(pi);
    size_t ip_len = (char *) dp_packet_l4(request)
                    - (char *) dp_packet_l3(request);
    size_t packet_len = ip_len + dp_packet_l4_size(request);
    if (packet_len <= mtu) {
        return pinctrl_ignore(pi, "not larger than the MTU");
    }
    if (!ipv6) {
        const struct ip_header *ip = dp_packet_l3(request);
        if (!(ip->ip_frag_off & htons(IP_DONT_FRAGMENT))) {
            stats.n_too_big_dropped++;
            return pinctrl_ignore(pi, "IPv4 without DF, dropped: nothing "
                                  "fragments it");
        }
    }

    /* ICMP's and ICMPv6's headers, with the MTU field, are 8 bytes. */
    size_t max_len = (ipv6
                      ? PINCTRL_ICMP6_MAX_LEN - IPV6_HEADER_LEN
                      : PINCTRL_ICMP4_MAX_LEN - IP_HEADER_LEN);
    size_t quote_len = MIN(packet_len, max_len - ICMP_HEADER_LEN);
    size_t l4_len = ICMP_HEADER_LEN + quote_len;
    struct dp_packet *reply = pinctrl_compose_reply(
        pi, ipv6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP, l4_len);

    struct icmp_header *icmp = dp_packet_put_zeros(reply, ICMP_HEADER_LEN);
    if (ipv6) {
        icmp->icmp_type = PINCTRL_ICMP6_PACKET_TOO_BIG;
        icmp->icmp_code = 0;
        put_16aligned_be32(&icmp->icmp_fields.gateway, htonl(mtu));
    } else {
        icmp->icmp_type = ICMP4_DST_UNREACH;
        icmp->icmp_code = PINCTRL_ICMP4_FRAG_NEEDED;
        icmp->icmp_fields.frag.mtu = htons(mtu);
    }
    dp_packet_put(reply, dp_packet_l3(request), quote_len);
    icmp = dp_packet_l4(reply);
    icmp->icmp_csum = pinctrl_l4_csum(pi, reply, l4_len);

    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(10, 20);
    if (!VLOG_DROP_DBG(&rl)) {
        struct ds s = DS_EMPTY_INITIALIZER;
        ds_put_format(&s, "too-big: %"PRIuSIZE"-byte IP protocol %"PRIu8" ",
                      packet_len, flow->nw_proto);
        pinctrl_format_endpoints(pi, &s);
        VLOG_DBG("%s answered with %s MTU %"PRIu16" through %s port "
                 "%"PRIu32, ds_cstr(&s),
                 ipv6 ? "ICMPv6 packet too big" : "ICMP fragmentation needed",
                 mtu, to_pod ? "pod" : "tunnel", out_port);
        ds_destroy(&s);
    }

    /* The answer goes through br-int's pipeline from its first table as
     * if it came out of the tunnel port, with the cluster's VNI, or out
     * of the pod's port.  Through the shared flow-based tunnel port,
     * L3_FORWARDING set the peer's underlay address as the packet's tunnel
     * destination, and CLASSIFIER knows the peer by its tunnel source: the
     * answer carries that address as tun_src (or tun_ipv6_src).  An ICMPv6
     * answer comes with its MTU stashed, as CT_ZONE would stash it, for
     * OUTPUT to restore once conntrack has un-NATed it. */
    const struct flow_tnl *tnl = &pi->pin->flow_metadata.flow.tunnel;
    uint64_t ofpacts_stub[256 / 8];
    struct ofpbuf ofpacts = OFPBUF_STUB_INITIALIZER(ofpacts_stub);
    if (ipv6) {
        flows_put_load_field(&ofpacts, KOVS_F_ICMP6_STASH, mtu);
        flows_put_load_field(&ofpacts, KOVS_F_FLAG_ICMP6_STASHED, 1);
    }
    if (!to_pod) {
        flows_put_load(&ofpacts, MFF_TUN_ID, KOVS_TUNNEL_VNI);
        if (tnl->ip_dst) {
            flows_put_load(&ofpacts, MFF_TUN_SRC, ntohl(tnl->ip_dst));
        } else if (ipv6_addr_is_set(&tnl->ipv6_dst)) {
            union mf_value value;
            memcpy(&value.ipv6, &tnl->ipv6_dst, sizeof value.ipv6);
            flows_put_set_field(&ofpacts, mf_from_id(MFF_TUN_IPV6_SRC),
                                &value, NULL);
        }
    }
    flows_put_resubmit(&ofpacts, KOVS_T_CLASSIFIER);
    pinctrl_put_packet_out__(pi, reply, u16_to_ofp(out_port), &ofpacts,
                             replies);
    ofpbuf_uninit(&ofpacts);
    stats.n_too_big++;
    return true;
}

static bool
pinctrl_too_big(const struct pinctrl_packet_in *pi, struct ovs_list *replies)
{
    return pinctrl_too_big__(pi, false, replies);
}

static bool
pinctrl_too_big_pod(const struct pinctrl_packet_in *pi,
                    struct ovs_list *replies)
{
    return pinctrl_too_big__(pi, true, replies);
}


/* ICMP6_STASH and ICMP6_RESTORE. */

/* Stores in 'md' the pipeline fields of 'pi''s packet-in metadata (its
 * in_port, registers and tunnel fields), which a packet-out carries so
 * that the packet goes on where it left the pipeline. */
static void
pinctrl_pipeline_metadata(const struct pinctrl_packet_in *pi,
                          struct match *md)
{
    const struct match *pin_md = &pi->pin->flow_metadata;

    match_init_catchall(md);
    for (enum mf_field_id id = 0; id < MFF_N_IDS; id++) {
        const struct mf_field *mf = mf_from_id(id);
        if (mf_is_pipeline_field(mf) && !mf_is_tun_metadata(mf)
            && !mf_is_all_wild(mf, &pin_md->wc)) {
            union mf_value value, mask;
            mf_get(mf, pin_md, &value, &mask);
            mf_set(mf, &value, &mask, md, NULL);
        }
    }
}

/* Returns the ICMPv6 header of 'packet', an ICMPv6 message at least as
 * long as ICMPv6's 8-byte header, or NULL. */
static uint8_t *
pinctrl_icmp6_header(const struct pinctrl_packet_in *pi,
                     const struct dp_packet *packet)
{
    if (!pinctrl_is_ipv6(pi) || pi->flow.nw_proto != IPPROTO_ICMPV6
        || !dp_packet_l4(packet) || dp_packet_l4_size(packet) < 8) {
        return NULL;
    }
    return dp_packet_l4(packet);
}

/* Keeps the second word of an ICMPv6 error's header in ICMP6_STASH, with
 * FLAG_ICMP6_STASHED, and sends the error on into CT_ZONE.  Conntrack may
 * damage it there (see PINCTRL_OP_ICMP6_STASH); ICMP6_RESTORE mends it. */
static bool
pinctrl_icmp6_stash(const struct pinctrl_packet_in *pi,
                    struct ovs_list *replies)
{
    const uint8_t *icmp6 = pinctrl_icmp6_header(pi, &pi->packet);
    if (!icmp6) {
        return pinctrl_ignore(pi, "not an ICMPv6 message");
    }
    ovs_be32 word;
    memcpy(&word, icmp6 + 4, sizeof word);

    struct pinctrl_icmp6_stash_args args = { .from_patch = 0 };
    if (pi->args_len == sizeof args) {
        memcpy(&args, pi->args, sizeof args);
    } else if (pi->args_len) {
        return pinctrl_ignore(pi, "bad icmp6-stash arguments");
    }

    struct match md;
    pinctrl_pipeline_metadata(pi, &md);
    if (args.from_patch) {
        match_set_in_port(&md, OFPP_LOCAL);
    }
    uint64_t ofpacts_stub[128 / 8];
    struct ofpbuf ofpacts = OFPBUF_STUB_INITIALIZER(ofpacts_stub);
    flows_put_load_field(&ofpacts, KOVS_F_ICMP6_STASH, ntohl(word));
    flows_put_load_field(&ofpacts, KOVS_F_FLAG_ICMP6_STASHED, 1);
    flows_put_resubmit(&ofpacts, KOVS_T_CT_ZONE);
    pinctrl_put_packet_out_md(pi, dp_packet_clone(&pi->packet), &md,
                              &ofpacts, replies);
    ofpbuf_uninit(&ofpacts);
    return true;
}

/* Mends an ICMPv6 error that conntrack may have damaged while it NATed it
 * (tests/repro/icmp6-related-nat.sh): the second word of its header is
 * ICMP6_STASH's again, and the quoted packet's source address is the
 * error's destination, since an ICMP error goes to the sender of the
 * packet it quotes (and conntrack NATs the two alike).  The checksum is
 * recomputed, and the error goes on from OUTPUT. */
static bool
pinctrl_icmp6_restore(const struct pinctrl_packet_in *pi,
                      struct ovs_list *replies)
{
    if (!pinctrl_icmp6_header(pi, &pi->packet)) {
        return pinctrl_ignore(pi, "not an ICMPv6 message");
    }
    struct dp_packet *packet = dp_packet_clone(&pi->packet);
    struct ovs_16aligned_ip6_hdr *ip6 = dp_packet_l3(packet);
    uint8_t *icmp6 = dp_packet_l4(packet);
    size_t l4_len = dp_packet_l4_size(packet);

    ovs_be32 word = htonl(kovs_field_get(&pi->pin->flow_metadata.flow,
                                         KOVS_F_ICMP6_STASH));
    memcpy(icmp6 + 4, &word, sizeof word);
    if (l4_len >= 8 + IPV6_HEADER_LEN && icmp6[8] >> 4 == 6) {
        struct ovs_16aligned_ip6_hdr *quoted = (void *) (icmp6 + 8);
        memcpy(&quoted->ip6_src, &ip6->ip6_dst, sizeof quoted->ip6_src);
    }
    struct icmp6_header *h = (struct icmp6_header *) icmp6;
    h->icmp6_cksum = 0;
    h->icmp6_cksum = csum_finish(csum_continue(packet_csum_pseudoheader6(ip6),
                                               icmp6, l4_len));

    struct match md;
    pinctrl_pipeline_metadata(pi, &md);
    uint64_t ofpacts_stub[64 / 8];
    struct ofpbuf ofpacts = OFPBUF_STUB_INITIALIZER(ofpacts_stub);
    flows_put_load_field(&ofpacts, KOVS_F_FLAG_ICMP6_STASHED, 0);
    flows_put_resubmit(&ofpacts, KOVS_T_OUTPUT);
    pinctrl_put_packet_out_md(pi, packet, &md, &ofpacts, replies);
    ofpbuf_uninit(&ofpacts);
    return true;
}

/* RESOLVE. */

/* Hands the next hop of a packet leaving through br-ex (NEXTHOP, or for an
 * IPv6 packet KOVS_NEXTHOP6_FIELD) to the neighbor table, whose ARP
 * request or Neighbor Solicitation, if any, goes back to br-int. */
static bool
pinctrl_resolve(const struct pinctrl_packet_in *pi, struct ovs_list *replies)
{
    const struct flow *md = &pi->pin->flow_metadata.flow;
    struct in6_addr next_hop;

    if (pi->flow.dl_type == htons(ETH_TYPE_IPV6)) {
        next_hop = kovs_ip6_field_get(md, KOVS_NEXTHOP6_FIELD);
    } else {
        in6_addr_set_mapped_ipv4(&next_hop,
                                 htonl(kovs_field_get(md, KOVS_F_NEXTHOP)));
    }
    if (!pi->neighbors
        || !neighbor_resolve(pi->neighbors, &next_hop,
                             ofputil_protocol_to_ofp_version(pi->protocol),
                             replies)) {
        return pinctrl_ignore(pi, "next hop not resolvable (none, "
                              "broadcast, multicast or the node IP), or "
                              "neighbor table disabled or full");
    }
    stats.n_resolves++;
    return true;
}

/* NEIGHBOR. */

/* Hands the sender of an ARP packet about the node IP, or the target of a
 * Neighbor Advertisement to it, to the neighbor table. */
static bool
pinctrl_neighbor(const struct pinctrl_packet_in *pi, struct ovs_list *replies)
{
    const struct flow *flow = &pi->flow;
    struct in6_addr ip;
    struct eth_addr mac;

    if (flow->dl_type == htons(ETH_TYPE_IPV6)
        && flow->nw_proto == IPPROTO_ICMPV6
        && flow->tp_src == htons(ND_NEIGHBOR_ADVERT)) {
        /* flow_extract() puts the advertisement's target in nd_target and
         * its target link-layer address option, if any, in arp_tha; an
         * advertisement without one comes from the target's MAC. */
        ip = flow->nd_target;
        mac = eth_addr_is_zero(flow->arp_tha) ? flow->dl_src : flow->arp_tha;
    } else if (flow->dl_type == htons(ETH_TYPE_ARP)
               && (flow->nw_proto == ARP_OP_REPLY
                   || flow->nw_proto == ARP_OP_REQUEST)) {
        /* flow_extract() fills in the ARP fields only for Ethernet and
         * IPv4 addresses; its nw_proto is the ARP opcode. */
        in6_addr_set_mapped_ipv4(&ip, flow->nw_src);
        mac = flow->arp_sha;
    } else {
        return pinctrl_ignore(pi, "neither an Ethernet IPv4 ARP packet nor "
                              "a Neighbor Advertisement");
    }
    if (!pi->neighbors || !neighbor_learn(pi->neighbors, &ip, mac)) {
        return pinctrl_ignore(pi, "unsolicited or bogus ARP sender");
    }
    stats.n_arp_learned++;
    return true;
}

/* NP_LOG. */

void
pinctrl_set_np_log_handler(pinctrl_np_log_cb *cb, void *aux)
{
    np_log_cb = cb;
    np_log_aux = aux;
}

/* Hands a NetworkPolicy verdict to the audit log. */
static bool
pinctrl_np_log(const struct pinctrl_packet_in *pi,
               struct ovs_list *replies OVS_UNUSED)
{
    struct pinctrl_np_log_args args;

    if (pi->args_len != sizeof args) {
        return pinctrl_ignore(pi, "bad np-log arguments");
    }
    memcpy(&args, pi->args, sizeof args);
    if (args.verdict > PINCTRL_NP_LOG_DROP
        || args.direction > PINCTRL_NP_LOG_EGRESS) {
        return pinctrl_ignore(pi, "unknown np-log verdict or direction");
    }
    if (!np_log_cb) {
        return pinctrl_ignore(pi, "no audit log");
    }
    np_log_cb(&pi->flow, ntohll(pi->pin->cookie), &args, np_log_aux);
    stats.n_np_logs++;
    return true;
}
