/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0.
 *
 * Unit tests of controller/pinctrl and the neighbor table behind it
 * (controller/neighbor): packet-in messages as the switch sends them for
 * the pipeline's controller actions, and the packet-outs pinctrl answers
 * with, with no switch and a clock the tests set.  'test-pinctrl NAME'
 * runs one test; 'test-pinctrl --list' lists them. */

#include <config.h>

#include <limits.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "controller/neighbor.h"
#include "controller/pinctrl.h"
#include "csum.h"
#include "dp-packet.h"
#include "flow.h"
#include "flows/flows.h"
#include "flows/pinctrl-opcodes.h"
#include "flows/pipeline.h"
#include "netlink.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/match.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofp-msgs.h"
#include "openvswitch/ofp-packet.h"
#include "openvswitch/ofp-print.h"
#include "openvswitch/ofp-prop.h"
#include "openvswitch/ofp-protocol.h"
#include "openvswitch/ofpbuf.h"
#include "packets.h"
#include "timeval.h"
#include "util.h"
#include "tests/unit-test.h"


/* The neighbor table that RESOLVE and NEIGHBOR packet-ins go to. */
static struct neighbor_table nt = {
    .entries = HMAP_INITIALIZER(&nt.entries),
    .clock = time_msec,
};

/* Whether decode_reply() keeps quiet about the replies it decodes. */
static bool quiet;

/* Reports a failed check of 'WHAT' at the caller's line. */
#define FAIL(WHAT, ...)                                                 \
    do {                                                                \
        fprintf(stderr, "%s:%d: %s: ", __FILE__, __LINE__, WHAT);       \
        fprintf(stderr, __VA_ARGS__);                                   \
        fputc('\n', stderr);                                            \
        n_failures++;                                                   \
    } while (0)

/* Checks that integer 'GOT' is 'EXPECTED', naming it 'WHAT'. */
#define CHECK_EQ(WHAT, EXPECTED, GOT)                                   \
    do {                                                                \
        unsigned long long int expected__ = (EXPECTED);                 \
        unsigned long long int got__ = (GOT);                           \
        if (expected__ != got__) {                                      \
            FAIL(WHAT, "expected %llu (%#llx), got %llu (%#llx)",       \
                 expected__, expected__, got__, got__);                 \
        }                                                               \
    } while (0)

#define CHECK_IP(WHAT, EXPECTED, GOT)                                   \
    do {                                                                \
        ovs_be32 expected__ = (EXPECTED);                               \
        ovs_be32 got__ = (GOT);                                         \
        if (expected__ != got__) {                                      \
            FAIL(WHAT, "expected "IP_FMT", got "IP_FMT,                 \
                 IP_ARGS(expected__), IP_ARGS(got__));                  \
        }                                                               \
    } while (0)

#define CHECK_MAC(WHAT, EXPECTED, GOT)                                  \
    do {                                                                \
        struct eth_addr expected__ = (EXPECTED);                        \
        struct eth_addr got__ = (GOT);                                  \
        if (!eth_addr_equals(expected__, got__)) {                      \
            FAIL(WHAT, "expected "ETH_ADDR_FMT", got "ETH_ADDR_FMT,     \
                 ETH_ADDR_ARGS(expected__), ETH_ADDR_ARGS(got__));      \
        }                                                               \
    } while (0)

/* The packets' cast: a client pod behind port 7 connects to a Service VIP,
 * through the gateway's MAC. */
#define IN_PORT 7
#define CLIENT_MAC ((struct eth_addr) ETH_ADDR_C(0a,58,0a,f4,01,0a))
#define ROUTER_MAC ((struct eth_addr) ETH_ADDR_C(0a,58,0a,f4,01,01))
#define CLIENT_IP  htonl(0x0af4010a)   /* 10.244.1.10 */
#define VIP        htonl(0x0a60000a)   /* 10.96.0.10 */
#define CLIENT_PORT 33000
#define SERVICE_PORT 80

/* Composing requests. */

/* How to compose a request packet.  request_ipv4() gives the defaults: an
 * IPv4 packet from the client to the VIP; a test changes what it is
 * about. */
struct request {
    struct eth_addr eth_src, eth_dst;
    uint16_t vlan;              /* 802.1Q VID + 1, 0 for none. */
    ovs_be16 dl_type;
    ovs_be32 nw_src, nw_dst;    /* IPv4 only. */
    uint8_t proto;
    ovs_be16 frag_off;
    const void *ip_options;     /* Multiple of 4 bytes. */
    size_t ip_options_len;
    const void *payload;        /* After the IPv4 header, or, for other
                                 * Ethertypes, after the Ethernet header. */
    size_t payload_len;
    size_t eth_pad;             /* Bytes of Ethernet padding at the end. */
};

static struct request
request_ipv4(uint8_t proto, const void *payload, size_t payload_len)
{
    return (struct request) {
        .eth_src = CLIENT_MAC,
        .eth_dst = ROUTER_MAC,
        .dl_type = htons(ETH_TYPE_IP),
        .nw_src = CLIENT_IP,
        .nw_dst = VIP,
        .proto = proto,
        .payload = payload,
        .payload_len = payload_len,
    };
}

/* Composes 'r' as an Ethernet frame, with a correct IP checksum. */
static struct dp_packet *
compose_request(const struct request *r)
{
    struct dp_packet *p = dp_packet_new(256);

    dp_packet_put(p, &r->eth_dst, sizeof r->eth_dst);
    dp_packet_put(p, &r->eth_src, sizeof r->eth_src);
    if (r->vlan) {
        ovs_be16 tpid = htons(ETH_TYPE_VLAN_8021Q);
        ovs_be16 tci = htons(r->vlan - 1);
        dp_packet_put(p, &tpid, sizeof tpid);
        dp_packet_put(p, &tci, sizeof tci);
    }
    dp_packet_put(p, &r->dl_type, sizeof r->dl_type);

    if (r->dl_type == htons(ETH_TYPE_IP)) {
        size_t ip_ofs = dp_packet_size(p);
        size_t ip_len = IP_HEADER_LEN + r->ip_options_len;
        struct ip_header *ip = dp_packet_put_zeros(p, IP_HEADER_LEN);
        ip->ip_ihl_ver = IP_IHL_VER(ip_len / 4, IP_VERSION);
        ip->ip_tot_len = htons(ip_len + r->payload_len);
        ip->ip_id = htons(0x1234);
        ip->ip_frag_off = r->frag_off;
        ip->ip_ttl = 63;
        ip->ip_proto = r->proto;
        put_16aligned_be32(&ip->ip_src, r->nw_src);
        put_16aligned_be32(&ip->ip_dst, r->nw_dst);
        if (r->ip_options_len) {
            dp_packet_put(p, r->ip_options, r->ip_options_len);
        }
        ip = dp_packet_at_assert(p, ip_ofs, ip_len);
        ip->ip_csum = csum(ip, ip_len);
    }
    if (r->payload_len) {
        dp_packet_put(p, r->payload, r->payload_len);
    }
    dp_packet_put_zeros(p, r->eth_pad);
    return p;
}

/* Returns the pseudo-header checksum for 'l4_len' bytes of 'proto' from the
 * client to the VIP. */
static uint32_t
request_pseudoheader(uint8_t proto, size_t l4_len)
{
    struct ip_header ip;

    memset(&ip, 0, sizeof ip);
    ip.ip_ihl_ver = IP_IHL_VER(5, IP_VERSION);
    ip.ip_tot_len = htons(IP_HEADER_LEN + l4_len);
    ip.ip_proto = proto;
    put_16aligned_be32(&ip.ip_src, CLIENT_IP);
    put_16aligned_be32(&ip.ip_dst, VIP);
    return packet_csum_pseudoheader(&ip);
}

/* Writes into 'buf' a TCP segment from the client to the Service with
 * 'flags', 'seq', 'ack', 'options_len' bytes of options (NOPs) and
 * 'payload_len' bytes of payload, with a correct checksum.  Returns its
 * length. */
static size_t
compose_tcp(uint8_t *buf, size_t size, uint16_t flags, uint32_t seq,
            uint32_t ack, size_t options_len, size_t payload_len)
{
    size_t len = TCP_HEADER_LEN + options_len + payload_len;
    ovs_assert(len <= size && options_len % 4 == 0);

    struct tcp_header *th = (struct tcp_header *) buf;
    memset(buf, 0, len);
    th->tcp_src = htons(CLIENT_PORT);
    th->tcp_dst = htons(SERVICE_PORT);
    put_16aligned_be32(&th->tcp_seq, htonl(seq));
    put_16aligned_be32(&th->tcp_ack, htonl(ack));
    th->tcp_ctl = TCP_CTL(flags, (TCP_HEADER_LEN + options_len) / 4);
    th->tcp_winsz = htons(64240);
    memset(buf + TCP_HEADER_LEN, 1, options_len);   /* NOP options. */
    for (size_t i = 0; i < payload_len; i++) {
        buf[TCP_HEADER_LEN + options_len + i] = 'a' + i % 26;
    }
    th->tcp_csum = csum_finish(csum_continue(
                                   request_pseudoheader(IPPROTO_TCP, len),
                                   buf, len));
    return len;
}

/* Writes into 'buf' a UDP datagram from the client to the Service with
 * 'payload_len' bytes of payload.  Returns its length. */
static size_t
compose_udp(uint8_t *buf, size_t size, size_t payload_len)
{
    size_t len = UDP_HEADER_LEN + payload_len;
    ovs_assert(len <= size);

    struct udp_header *uh = (struct udp_header *) buf;
    memset(buf, 0, len);
    uh->udp_src = htons(CLIENT_PORT);
    uh->udp_dst = htons(SERVICE_PORT);
    uh->udp_len = htons(len);
    for (size_t i = 0; i < payload_len; i++) {
        buf[UDP_HEADER_LEN + i] = 'A' + i % 26;
    }
    uh->udp_csum = csum_finish(csum_continue(
                                   request_pseudoheader(IPPROTO_UDP, len),
                                   buf, len));
    return len;
}

/* The test's usual request: a TCP SYN with sequence number 1000 from the
 * client to the Service, composed in 'buf'. */
#define SYN_BUF_SIZE 64
static struct request
request_syn(uint8_t buf[SYN_BUF_SIZE])
{
    return request_ipv4(IPPROTO_TCP, buf,
                        compose_tcp(buf, SYN_BUF_SIZE, TCP_SYN, 1000, 0, 0,
                                    0));
}

/* The userdata of the pipeline's controller action for 'op', taken from
 * the action itself. */
static void
opcode_userdata(enum pinctrl_opcode op, uint8_t *userdata,
                size_t *userdata_len)
{
    uint64_t stub[64 / 8];
    struct ofpbuf ofpacts = OFPBUF_STUB_INITIALIZER(stub);

    flows_put_controller(&ofpacts, op);
    const struct ofpact_controller *oc = ofpact_get_CONTROLLER(ofpacts.data);
    ovs_assert(oc->userdata_len <= 8);
    memcpy(userdata, oc->userdata, oc->userdata_len);
    *userdata_len = oc->userdata_len;
    ofpbuf_uninit(&ofpacts);
}

static void
reject_userdata(uint8_t *userdata, size_t *userdata_len)
{
    opcode_userdata(PINCTRL_OP_REJECT, userdata, userdata_len);
}

/* Returns a packet-in in 'format' for 'version' as the switch sends it when
 * a flow in table 'table_id' sends 'packet', with 'metadata' (in_port,
 * registers), to the controller with 'userdata'. */
static struct ofpbuf *
encode_packet_in__(const void *packet, size_t packet_len,
                   const uint8_t *userdata, size_t userdata_len,
                   const struct match *metadata, uint8_t table_id,
                   enum ofp_version version,
                   enum ofputil_packet_in_format format)
{
    struct ofputil_packet_in_private pin;

    memset(&pin, 0, sizeof pin);
    pin.base.packet = CONST_CAST(void *, packet);
    pin.base.packet_len = packet_len;
    pin.base.flow_metadata = *metadata;
    pin.base.reason = OFPR_ACTION;
    pin.base.table_id = table_id;
    pin.base.cookie = htonll(0x0400000000001234ULL);
    pin.base.userdata = CONST_CAST(uint8_t *, userdata);
    pin.base.userdata_len = userdata_len;
    return ofputil_encode_packet_in_private(
        &pin, ofputil_protocol_from_ofp_version(version), format);
}

/* Returns a packet-in in 'format' for 'version' as the switch sends it when
 * a flow in table 40 sends 'packet', received on 'in_port', to the
 * controller with 'userdata'. */
static struct ofpbuf *
encode_packet_in_format(const void *packet, size_t packet_len,
                        const uint8_t *userdata, size_t userdata_len,
                        ofp_port_t in_port, enum ofp_version version,
                        enum ofputil_packet_in_format format)
{
    struct match metadata;

    match_init_catchall(&metadata);
    match_set_in_port(&metadata, in_port);
    return encode_packet_in__(packet, packet_len, userdata, userdata_len,
                              &metadata, 40, version, format);
}

/* The same, as an NXT_PACKET_IN2, the format that carries userdata. */
static struct ofpbuf *
encode_packet_in(const void *packet, size_t packet_len,
                 const uint8_t *userdata, size_t userdata_len,
                 ofp_port_t in_port, enum ofp_version version)
{
    return encode_packet_in_format(packet, packet_len, userdata,
                                   userdata_len, in_port, version,
                                   OFPUTIL_PACKET_IN_NXT2);
}

/* Runs pinctrl on packet-in 'msg' (and frees it), received on a connection
 * that speaks 'version'.  Returns the number of replies, which it moves to
 * 'replies'. */
static size_t
run_pinctrl(struct ofpbuf *msg, enum ofp_version version,
            struct ovs_list *replies)
{
    enum ofptype type;

    ovs_list_init(replies);
    ovs_assert(!ofptype_decode(&type, msg->data)
               && type == OFPTYPE_PACKET_IN);
    pinctrl_handle_packet_in(msg->data, version, replies, &nt);
    ofpbuf_delete(msg);
    return ovs_list_size(replies);
}

/* Hands 'packet' to pinctrl with the REJECT opcode, as a packet-in on
 * 'in_port' over OpenFlow 1.5.  Returns the number of replies, which it
 * moves to 'replies'. */
static size_t
reject_on_port(const struct dp_packet *packet, ofp_port_t in_port,
               enum ofp_version version, struct ovs_list *replies)
{
    uint8_t userdata[8];
    size_t userdata_len;

    reject_userdata(userdata, &userdata_len);
    return run_pinctrl(encode_packet_in(dp_packet_data(packet),
                                        dp_packet_size(packet), userdata,
                                        userdata_len, in_port, version),
                       version, replies);
}

static size_t
reject(const struct dp_packet *packet, struct ovs_list *replies)
{
    return reject_on_port(packet, u16_to_ofp(IN_PORT), OFP15_VERSION,
                          replies);
}

static void
free_replies(struct ovs_list *replies)
{
    struct ofpbuf *msg;

    LIST_FOR_EACH_POP (msg, list_node, replies) {
        ofpbuf_delete(msg);
    }
}

/* Checking replies. */

/* A packet-out pinctrl sent, decoded. */
struct reply {
    struct ofpbuf *msg;
    struct ofputil_packet_out po;
    uint64_t ofpacts_stub[128 / 8];
    struct ofpbuf ofpacts;
    struct dp_packet packet;    /* Points into 'msg'. */
    struct flow flow;
};

/* Decodes 'msg' into 'r', checking that it is a packet-out for 'version'
 * that sends its packet, from the controller and unbuffered, out of
 * 'out_port' and nowhere else.  Prints the message, so that a failure
 * shows it.  Returns false if 'msg' cannot be decoded at all. */
static bool
decode_reply(struct ofpbuf *msg, enum ofp_version version,
             ofp_port_t out_port, struct reply *r)
{
    const struct ofp_header *oh = msg->data;
    enum ofptype type;

    if (!quiet) {
        char *s = ofp_to_string(oh, msg->size, NULL, NULL, 2);
        printf("reply: %s\n", s);
        free(s);
    }

    memset(r, 0, sizeof *r);
    r->msg = msg;
    ofpbuf_use_stub(&r->ofpacts, r->ofpacts_stub, sizeof r->ofpacts_stub);
    CHECK_EQ("reply OpenFlow version", version, oh->version);
    CHECK(!ofptype_decode(&type, oh) && type == OFPTYPE_PACKET_OUT,
          "reply is not a packet-out");
    enum ofperr error = ofputil_decode_packet_out(&r->po, oh, NULL,
                                                  &r->ofpacts);
    if (error) {
        CHECK(!error, "cannot decode packet-out: %s",
              ofperr_to_string(error));
        ofpbuf_uninit(&r->ofpacts);
        return false;
    }
    CHECK_EQ("packet-out buffer_id", UINT32_MAX, r->po.buffer_id);
    CHECK_EQ("packet-out in_port", ofp_to_u16(OFPP_CONTROLLER),
             ofp_to_u16(r->po.flow_metadata.flow.in_port.ofp_port));

    const struct ofpact *a = r->po.ofpacts;
    CHECK(r->po.ofpacts_len && a->type == OFPACT_OUTPUT
          && ofpact_next(a) == ofpact_end(r->po.ofpacts, r->po.ofpacts_len),
          "actions are not exactly one output");
    if (r->po.ofpacts_len && a->type == OFPACT_OUTPUT) {
        CHECK_EQ("output port", ofp_to_u16(out_port),
                 ofp_to_u16(ofpact_get_OUTPUT(a)->port));
    }

    dp_packet_use_const(&r->packet, r->po.packet, r->po.packet_len);
    flow_extract(&r->packet, &r->flow);
    return true;
}

static void
reply_uninit(struct reply *r)
{
    ofpbuf_uninit(&r->ofpacts);
    dp_packet_uninit(&r->packet);
    ofpbuf_delete(r->msg);
}

/* Expects 'replies' to hold exactly one message and decodes it into 'r', as
 * decode_reply() does, taking it from 'replies'.  Returns false (after
 * reporting the failure) if there is no such reply; otherwise the caller
 * checks 'r' and then frees it with reply_uninit(). */
static bool
expect_one_reply(struct ovs_list *replies, enum ofp_version version,
                 ofp_port_t out_port, struct reply *r)
{
    size_t n = ovs_list_size(replies);

    CHECK_EQ("number of replies", 1, n);
    if (n != 1) {
        free_replies(replies);
        return false;
    }
    struct ofpbuf *msg = CONTAINER_OF(ovs_list_pop_front(replies),
                                      struct ofpbuf, list_node);
    if (!decode_reply(msg, version, out_port, r)) {
        ofpbuf_delete(msg);
        return false;
    }
    return true;
}

/* Expects 'replies' to be empty, saying that 'what' gets no answer. */
static void
expect_no_reply(struct ovs_list *replies, const char *what)
{
    size_t n = ovs_list_size(replies);

    CHECK(!n, "%s: expected no reply, got %"PRIuSIZE, what, n);
    if (n) {
        struct ofpbuf *msg;
        LIST_FOR_EACH (msg, list_node, replies) {
            char *s = ofp_to_string(msg->data, msg->size, NULL, NULL, 2);
            fprintf(stderr, "  unexpected reply: %s\n", s);
            free(s);
        }
    }
    free_replies(replies);
}

/* Checks the Ethernet and IPv4 headers of reply 'r': from the router to the
 * client (or 'vlan', as in struct request), from the VIP to the client
 * with TTL 64, protocol 'proto', 'l4_len' bytes of payload and a valid
 * checksum. */
static void
check_reply_ipv4(const struct reply *r, uint16_t vlan, uint8_t proto,
                 size_t l4_len)
{
    const struct flow *f = &r->flow;

    CHECK_MAC("reply eth_src", ROUTER_MAC, f->dl_src);
    CHECK_MAC("reply eth_dst", CLIENT_MAC, f->dl_dst);
    CHECK_EQ("reply dl_type", ETH_TYPE_IP, ntohs(f->dl_type));
    CHECK_EQ("reply vlan", vlan ? (vlan - 1) | VLAN_CFI : 0,
             ntohs(f->vlans[0].tci));
    CHECK_IP("reply ip_src", VIP, f->nw_src);
    CHECK_IP("reply ip_dst", CLIENT_IP, f->nw_dst);
    CHECK_EQ("reply ip proto", proto, f->nw_proto);
    CHECK_EQ("reply ttl", 64, f->nw_ttl);
    CHECK_EQ("reply fragment", 0, f->nw_frag);

    const struct ip_header *ip = dp_packet_l3(&r->packet);
    CHECK(ip && dp_packet_l4(&r->packet), "reply has no IPv4 payload");
    if (!ip || !dp_packet_l4(&r->packet)) {
        return;
    }
    CHECK_EQ("reply ip header length", 5, IP_IHL(ip->ip_ihl_ver));
    CHECK_EQ("reply ip tot_len", IP_HEADER_LEN + l4_len,
             ntohs(ip->ip_tot_len));
    CHECK_EQ("reply packet size",
             (char *) ip - (char *) dp_packet_data(&r->packet)
             + IP_HEADER_LEN + l4_len, dp_packet_size(&r->packet));
    CHECK_EQ("reply ip checksum (0 if valid)", 0, csum(ip, IP_HEADER_LEN));
}

/* Checks that reply 'r' is a TCP RST|ACK from the Service to the client
 * with 'seq' and 'ack'. */
static void
check_reply_rst(const struct reply *r, uint16_t vlan, uint32_t seq,
                uint32_t ack)
{
    check_reply_ipv4(r, vlan, IPPROTO_TCP, TCP_HEADER_LEN);

    const struct tcp_header *th = dp_packet_l4(&r->packet);
    if (!th || dp_packet_l4_size(&r->packet) != TCP_HEADER_LEN) {
        CHECK(false, "reply has no TCP header");
        return;
    }
    CHECK_EQ("reply tcp_src", SERVICE_PORT, ntohs(th->tcp_src));
    CHECK_EQ("reply tcp_dst", CLIENT_PORT, ntohs(th->tcp_dst));
    CHECK_EQ("reply tcp flags", TCP_RST | TCP_ACK, TCP_FLAGS(th->tcp_ctl));
    CHECK_EQ("reply tcp header length", TCP_HEADER_LEN,
             TCP_OFFSET(th->tcp_ctl) * 4);
    CHECK_EQ("reply tcp seq", seq, ntohl(get_16aligned_be32(&th->tcp_seq)));
    CHECK_EQ("reply tcp ack", ack, ntohl(get_16aligned_be32(&th->tcp_ack)));
    CHECK_EQ("reply tcp window", 0, ntohs(th->tcp_winsz));
    uint32_t partial = packet_csum_pseudoheader(dp_packet_l3(&r->packet));
    CHECK_EQ("reply tcp checksum (0 if valid)", 0,
             ntohs(csum_finish(csum_continue(partial, th, TCP_HEADER_LEN))));
}

/* Checks that reply 'r' is an ICMP port unreachable from the VIP to the
 * client that quotes the first 'quote_len' bytes of 'request''s IP
 * packet. */
static void
check_reply_unreachable(const struct reply *r, uint16_t vlan,
                        const struct dp_packet *request, size_t quote_len)
{
    check_reply_ipv4(r, vlan, IPPROTO_ICMP, ICMP_HEADER_LEN + quote_len);

    const struct icmp_header *icmp = dp_packet_l4(&r->packet);
    size_t l4_size = dp_packet_l4_size(&r->packet);
    if (!icmp || l4_size != ICMP_HEADER_LEN + quote_len) {
        CHECK(false, "reply's ICMP message has %"PRIuSIZE" bytes, "
              "expected %"PRIuSIZE, l4_size, ICMP_HEADER_LEN + quote_len);
        return;
    }
    CHECK_EQ("reply icmp type", ICMP4_DST_UNREACH, icmp->icmp_type);
    CHECK_EQ("reply icmp code (port unreachable)", 3, icmp->icmp_code);
    CHECK_EQ("reply icmp unused field", 0,
             ntohl(get_16aligned_be32(&icmp->icmp_fields.gateway)));
    CHECK_EQ("reply icmp checksum (0 if valid)", 0, csum(icmp, l4_size));

    const uint8_t *quote = (const uint8_t *) (icmp + 1);
    const uint8_t *orig = dp_packet_l3(request);
    ovs_assert(orig);
    for (size_t i = 0; i < quote_len; i++) {
        if (quote[i] != orig[i]) {
            CHECK(false, "quoted packet differs at byte %"PRIuSIZE": "
                  "expected %#04x, got %#04x", i, orig[i], quote[i]);
            break;
        }
    }
}

/* Checks pinctrl's statistics. */
static void
check_stats(uint64_t n_packet_ins, uint64_t n_tcp_resets,
            uint64_t n_icmp_unreachables, uint64_t n_ignored)
{
    struct pinctrl_stats s;

    pinctrl_get_stats(&s);
    CHECK_EQ("packet-ins", n_packet_ins, s.n_packet_ins);
    CHECK_EQ("TCP resets", n_tcp_resets, s.n_tcp_resets);
    CHECK_EQ("ICMP port unreachables", n_icmp_unreachables,
             s.n_icmp_unreachables);
    CHECK_EQ("ignored packet-ins", n_ignored, s.n_ignored);
}


/* Rejects 'req' and checks that the answer is a RST with 'seq' and 'ack'
 * out of the port the request came in on. */
static void
check_rst(const struct request *req, uint32_t seq, uint32_t ack)
{
    struct dp_packet *packet = compose_request(req);
    struct ovs_list replies;
    struct reply r;

    reject(packet, &replies);
    if (expect_one_reply(&replies, OFP15_VERSION, u16_to_ofp(IN_PORT), &r)) {
        check_reply_rst(&r, req->vlan, seq, ack);
        reply_uninit(&r);
    }
    dp_packet_delete(packet);
}

/* Rejects 'req' and checks that the answer is an ICMP port unreachable
 * that quotes 'quote_len' bytes of it. */
static void
check_unreachable(const struct request *req, size_t quote_len)
{
    struct dp_packet *packet = compose_request(req);
    struct ovs_list replies;
    struct reply r;
    struct flow flow;

    flow_extract(packet, &flow);    /* Finds the request's IP header. */
    reject(packet, &replies);
    if (expect_one_reply(&replies, OFP15_VERSION, u16_to_ofp(IN_PORT), &r)) {
        check_reply_unreachable(&r, req->vlan, packet, quote_len);
        reply_uninit(&r);
    }
    dp_packet_delete(packet);
}

/* Hands 'packet' to REJECT, checks that it gets no answer, and frees it. */
static void
check_packet_ignored(struct dp_packet *packet, const char *what)
{
    struct ovs_list replies;

    reject(packet, &replies);
    expect_no_reply(&replies, what);
    dp_packet_delete(packet);
}

static void
check_ignored(const struct request *req, const char *what)
{
    check_packet_ignored(compose_request(req), what);
}

/* Returns the IPv4 header of 'packet', an untagged Ethernet frame. */
static struct ip_header *
packet_ip(struct dp_packet *packet)
{
    return dp_packet_at_assert(packet, ETH_HEADER_LEN, IP_HEADER_LEN);
}

/* Tests. */

static void
test_tcp_syn_refused(void)
{
    uint8_t tcp[SYN_BUF_SIZE];
    struct request req = request_syn(tcp);

    check_rst(&req, 0, 1001);
    check_stats(1, 1, 0, 0);
}

static void
test_tcp_sequence_space(void)
{
    static const struct {
        const char *what;
        uint16_t flags;
        uint32_t seq, ack;
        size_t options_len, payload_len;
        uint32_t rst_seq, rst_ack;
    } cases[] = {
        { "SYN", TCP_SYN, 1000, 0, 0, 0, 0, 1001 },
        { "SYN with options", TCP_SYN, 1000, 0, 20, 0, 0, 1001 },
        { "SYN with data", TCP_SYN, 1000, 0, 0, 10, 0, 1011 },
        { "SYN at the end of sequence space", TCP_SYN, UINT32_MAX, 0, 0, 0,
          0, 0 },
        { "bare ACK", TCP_ACK, 42, 4242, 0, 0, 4242, 42 },
        { "data with ACK", TCP_ACK | TCP_PSH, 5000, 7000, 0, 100, 7000,
          5100 },
        { "data with options and ACK", TCP_ACK | TCP_PSH, 5000, 7000, 12,
          100, 7000, 5100 },
        { "FIN with ACK", TCP_FIN | TCP_ACK, 9, 77, 0, 0, 77, 10 },
        { "FIN with data and ACK", TCP_FIN | TCP_ACK | TCP_PSH, 9, 77, 0, 30,
          77, 40 },
        { "no flags, with data", 0, 42, 4242, 0, 5, 0, 47 },
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        uint8_t tcp[256];
        size_t tcp_len = compose_tcp(tcp, sizeof tcp, cases[i].flags,
                                     cases[i].seq, cases[i].ack,
                                     cases[i].options_len,
                                     cases[i].payload_len);
        struct request req = request_ipv4(IPPROTO_TCP, tcp, tcp_len);
        int n = n_failures;

        check_rst(&req, cases[i].rst_seq, cases[i].rst_ack);
        if (n_failures != n) {
            fprintf(stderr, "  in case: %s\n", cases[i].what);
        }
    }
    check_stats(ARRAY_SIZE(cases), ARRAY_SIZE(cases), 0, 0);
}

static void
test_tcp_rst_not_answered(void)
{
    uint8_t tcp[64];
    struct request req;

    req = request_ipv4(IPPROTO_TCP, tcp,
                       compose_tcp(tcp, sizeof tcp, TCP_RST, 1, 0, 0, 0));
    check_ignored(&req, "RST");
    req = request_ipv4(IPPROTO_TCP, tcp, compose_tcp(tcp, sizeof tcp,
                                                     TCP_RST | TCP_ACK,
                                                     1, 2, 0, 0));
    check_ignored(&req, "RST|ACK");
    check_stats(2, 0, 0, 2);
}

static void
test_udp_port_unreachable(void)
{
    uint8_t udp[64];
    struct request req = request_ipv4(IPPROTO_UDP, udp,
                                      compose_udp(udp, sizeof udp, 40));

    /* The IP header and the UDP header. */
    check_unreachable(&req, IP_HEADER_LEN + 8);
    check_stats(1, 0, 1, 0);
}

static void
test_udp_empty_datagram(void)
{
    uint8_t udp[8];
    struct request req = request_ipv4(IPPROTO_UDP, udp,
                                      compose_udp(udp, sizeof udp, 0));

    check_unreachable(&req, IP_HEADER_LEN + UDP_HEADER_LEN);
    check_stats(1, 0, 1, 0);
}

static void
test_sctp_port_unreachable(void)
{
    uint8_t sctp[SCTP_HEADER_LEN + 20] = { 0 };
    struct request req = request_ipv4(IPPROTO_SCTP, sctp, sizeof sctp);

    for (size_t i = 0; i < sizeof sctp; i++) {
        sctp[i] = i + 1;
    }
    check_unreachable(&req, IP_HEADER_LEN + 8);
    check_stats(1, 0, 1, 0);
}

static void
test_other_protocol_unreachable(void)
{
    uint8_t gre[4] = { 0, 0, 0x65, 0x58 };
    struct request req = request_ipv4(IPPROTO_GRE, gre, sizeof gre);

    /* All there is, when the payload is shorter than 8 bytes. */
    check_unreachable(&req, IP_HEADER_LEN + sizeof gre);

    req = request_ipv4(253, NULL, 0);
    check_unreachable(&req, IP_HEADER_LEN);
    check_stats(2, 0, 2, 0);
}

static void
test_ip_options_quoted(void)
{
    static const uint8_t options[8] = { 1, 1, 1, 1, 1, 1, 1, 0 };
    uint8_t udp[64];
    struct request req = request_ipv4(IPPROTO_UDP, udp,
                                      compose_udp(udp, sizeof udp, 20));

    req.ip_options = options;
    req.ip_options_len = sizeof options;
    check_unreachable(&req, IP_HEADER_LEN + sizeof options + 8);

    /* The RST does not carry the options. */
    uint8_t tcp[64];
    req = request_ipv4(IPPROTO_TCP, tcp,
                       compose_tcp(tcp, sizeof tcp, TCP_SYN, 7, 0, 0, 0));
    req.ip_options = options;
    req.ip_options_len = sizeof options;
    check_rst(&req, 0, 8);
    check_stats(2, 1, 1, 0);
}

static void
test_icmp_not_answered(void)
{
    uint8_t icmp[16] = { 0 };
    struct request req = request_ipv4(IPPROTO_ICMP, icmp, sizeof icmp);

    icmp[0] = ICMP4_ECHO_REQUEST;
    check_ignored(&req, "ICMP echo request");
    icmp[0] = ICMP4_DST_UNREACH;
    icmp[1] = 3;
    check_ignored(&req, "ICMP port unreachable");
    check_stats(2, 0, 0, 2);
}

/* The client and the VIP of the IPv6 tests: fd00:10:244:1::a and
 * fd00:10:96::a. */
static struct in6_addr
client_ip6(void)
{
    struct in6_addr a = IN6ADDR_ANY_INIT;
    a.s6_addr[0] = 0xfd;
    a.s6_addr[3] = 0x10;
    a.s6_addr[4] = 0x02;
    a.s6_addr[5] = 0x44;
    a.s6_addr[7] = 0x01;
    a.s6_addr[15] = 0x0a;
    return a;
}

static struct in6_addr
vip6(void)
{
    struct in6_addr a = IN6ADDR_ANY_INIT;
    a.s6_addr[0] = 0xfd;
    a.s6_addr[3] = 0x10;
    a.s6_addr[5] = 0x96;
    a.s6_addr[15] = 0x0a;
    return a;
}

/* Writes into 'buf' an IPv6 packet from 'src' to 'dst' whose payload is
 * 'l4' ('l4_len' bytes of protocol 'proto'), with the L4 checksum at byte
 * 'csum_ofs' of 'l4' filled in.  Returns its length; a struct request
 * with dl_type IPv6 carries it as its payload. */
static size_t
compose_ip6_packet(uint8_t *buf, size_t size, const struct in6_addr *src,
                   const struct in6_addr *dst, uint8_t proto,
                   const void *l4, size_t l4_len, size_t csum_ofs)
{
    ovs_assert(IPV6_HEADER_LEN + l4_len <= size);
    struct ovs_16aligned_ip6_hdr *nh = (void *) buf;
    memset(nh, 0, IPV6_HEADER_LEN);
    put_16aligned_be32(&nh->ip6_flow, htonl(6 << 28));
    nh->ip6_plen = htons(l4_len);
    nh->ip6_nxt = proto;
    nh->ip6_hlim = 64;
    memcpy(&nh->ip6_src, src, sizeof nh->ip6_src);
    memcpy(&nh->ip6_dst, dst, sizeof nh->ip6_dst);
    uint8_t *payload = buf + IPV6_HEADER_LEN;
    memcpy(payload, l4, l4_len);
    memset(payload + csum_ofs, 0, 2);
    ovs_be16 sum = packet_csum_upperlayer6(nh, payload, proto, l4_len);
    memcpy(payload + csum_ofs, &sum, sizeof sum);
    return IPV6_HEADER_LEN + l4_len;
}

/* A request that carries the IPv6 packet 'buf' of 'len' bytes. */
static struct request
request_ipv6(const uint8_t *buf, size_t len)
{
    struct request req = request_ipv4(0, buf, len);
    req.dl_type = htons(ETH_TYPE_IPV6);
    return req;
}

/* Checks the Ethernet and IPv6 headers of reply 'r': from the router to the
 * client, from the IPv6 VIP to the client with hop limit 64, next header
 * 'proto' and 'l4_len' bytes of payload. */
static void
check_reply_ipv6(const struct reply *r, uint8_t proto, size_t l4_len)
{
    const struct flow *f = &r->flow;
    struct in6_addr vip = vip6(), client = client_ip6();

    CHECK_MAC("reply eth_src", ROUTER_MAC, f->dl_src);
    CHECK_MAC("reply eth_dst", CLIENT_MAC, f->dl_dst);
    CHECK_EQ("reply dl_type", ETH_TYPE_IPV6, ntohs(f->dl_type));
    CHECK(ipv6_addr_equals(&f->ipv6_src, &vip), "reply ipv6_src is not "
          "the VIP");
    CHECK(ipv6_addr_equals(&f->ipv6_dst, &client), "reply ipv6_dst is not "
          "the client");
    CHECK_EQ("reply next header", proto, f->nw_proto);
    CHECK_EQ("reply hop limit", 64, f->nw_ttl);
    const struct ovs_16aligned_ip6_hdr *nh = dp_packet_l3(&r->packet);
    CHECK(nh && dp_packet_l4(&r->packet), "reply has no IPv6 payload");
    if (!nh || !dp_packet_l4(&r->packet)) {
        return;
    }
    CHECK_EQ("reply payload length", l4_len, ntohs(nh->ip6_plen));
    CHECK_EQ("reply packet size", ETH_HEADER_LEN + IPV6_HEADER_LEN + l4_len,
             dp_packet_size(&r->packet));
    CHECK_EQ("reply L4 checksum (0 if valid)", 0,
             ntohs(packet_csum_upperlayer6(nh, dp_packet_l4(&r->packet),
                                           proto, l4_len)));
}

static void
test_ipv6_tcp_syn_refused(void)
{
    struct in6_addr client = client_ip6(), vip = vip6();
    uint8_t tcp[TCP_HEADER_LEN];
    compose_tcp(tcp, sizeof tcp, TCP_SYN, 1000, 0, 0, 0);
    uint8_t buf[IPV6_HEADER_LEN + TCP_HEADER_LEN];
    size_t len = compose_ip6_packet(buf, sizeof buf, &client, &vip,
                                    IPPROTO_TCP, tcp, sizeof tcp,
                                    offsetof(struct tcp_header, tcp_csum));
    struct request req = request_ipv6(buf, len);

    struct dp_packet *packet = compose_request(&req);
    struct ovs_list replies;
    struct reply r;
    reject(packet, &replies);
    if (expect_one_reply(&replies, OFP15_VERSION, u16_to_ofp(IN_PORT), &r)) {
        check_reply_ipv6(&r, IPPROTO_TCP, TCP_HEADER_LEN);
        const struct tcp_header *th = dp_packet_l4(&r.packet);
        if (th && dp_packet_l4_size(&r.packet) == TCP_HEADER_LEN) {
            CHECK_EQ("reply tcp_src", SERVICE_PORT, ntohs(th->tcp_src));
            CHECK_EQ("reply tcp_dst", CLIENT_PORT, ntohs(th->tcp_dst));
            CHECK_EQ("reply tcp flags", TCP_RST | TCP_ACK,
                     TCP_FLAGS(th->tcp_ctl));
            CHECK_EQ("reply tcp seq", 0,
                     ntohl(get_16aligned_be32(&th->tcp_seq)));
            CHECK_EQ("reply tcp ack", 1001,
                     ntohl(get_16aligned_be32(&th->tcp_ack)));
        } else {
            CHECK(false, "reply has no TCP header");
        }
        reply_uninit(&r);
    }
    dp_packet_delete(packet);
    check_stats(1, 1, 0, 0);
}

/* Rejects an IPv6 UDP datagram with 'payload_len' bytes of payload and
 * checks that it gets an ICMPv6 port unreachable from the VIP quoting the
 * first 'quote_len' bytes of its IPv6 packet. */
static void
check_ipv6_unreachable(size_t payload_len, size_t quote_len)
{
    struct in6_addr client = client_ip6(), vip = vip6();
    uint8_t udp[UDP_HEADER_LEN + 1500];
    size_t udp_len = compose_udp(udp, sizeof udp, payload_len);
    static uint8_t buf[IPV6_HEADER_LEN + UDP_HEADER_LEN + 1500];
    size_t len = compose_ip6_packet(buf, sizeof buf, &client, &vip,
                                    IPPROTO_UDP, udp, udp_len,
                                    offsetof(struct udp_header, udp_csum));
    struct request req = request_ipv6(buf, len);

    struct dp_packet *packet = compose_request(&req);
    struct ovs_list replies;
    struct reply r;
    reject(packet, &replies);
    if (expect_one_reply(&replies, OFP15_VERSION, u16_to_ofp(IN_PORT), &r)) {
        check_reply_ipv6(&r, IPPROTO_ICMPV6, ICMP_HEADER_LEN + quote_len);
        const struct icmp6_data_header *icmp6 = dp_packet_l4(&r.packet);
        if (icmp6 && (dp_packet_l4_size(&r.packet)
                      == ICMP_HEADER_LEN + quote_len)) {
            CHECK_EQ("reply icmpv6 type (destination unreachable)", 1,
                     icmp6->icmp6_base.icmp6_type);
            CHECK_EQ("reply icmpv6 code (port unreachable)", 4,
                     icmp6->icmp6_base.icmp6_code);
            CHECK_EQ("reply icmpv6 unused field", 0,
                     ntohl(get_16aligned_be32(&icmp6->icmp6_data.be32[0])));
            CHECK(!memcmp(icmp6 + 1, buf, quote_len),
                  "the ICMPv6 message does not quote the datagram");
        } else {
            CHECK(false, "reply's ICMPv6 message has %"PRIuSIZE" bytes, "
                  "expected %"PRIuSIZE, dp_packet_l4_size(&r.packet),
                  ICMP_HEADER_LEN + quote_len);
        }
        reply_uninit(&r);
    }
    dp_packet_delete(packet);
}

static void
test_ipv6_udp_port_unreachable(void)
{
    /* A small datagram is quoted whole... */
    check_ipv6_unreachable(8, IPV6_HEADER_LEN + UDP_HEADER_LEN + 8);
    /* ...a big one as far as the reply fits in 1280 bytes. */
    check_ipv6_unreachable(1400, 1280 - IPV6_HEADER_LEN - ICMP_HEADER_LEN);
    check_stats(2, 0, 2, 0);
}

static void
test_ipv6_not_answered(void)
{
    struct in6_addr client = client_ip6(), vip = vip6();
    uint8_t buf[IPV6_HEADER_LEN + UDP_HEADER_LEN + 8];
    uint8_t l4[UDP_HEADER_LEN + 8];
    struct request req;

    /* ICMPv6 (an echo request) is never answered. */
    memset(l4, 0, sizeof l4);
    l4[0] = 128;
    size_t len = compose_ip6_packet(buf, sizeof buf, &client, &vip,
                                    IPPROTO_ICMPV6, l4, sizeof l4, 2);
    req = request_ipv6(buf, len);
    check_ignored(&req, "ICMPv6 echo request");

    /* Nor a datagram to a multicast address or from ::. */
    size_t udp_len = compose_udp(l4, sizeof l4, 8);
    struct in6_addr mcast = IN6ADDR_ANY_INIT;
    mcast.s6_addr[0] = 0xff;
    mcast.s6_addr[1] = 0x02;
    mcast.s6_addr[15] = 1;
    len = compose_ip6_packet(buf, sizeof buf, &client, &mcast, IPPROTO_UDP,
                             l4, udp_len,
                             offsetof(struct udp_header, udp_csum));
    req = request_ipv6(buf, len);
    check_ignored(&req, "UDP to ff02::1");
    len = compose_ip6_packet(buf, sizeof buf, &in6addr_any, &vip,
                             IPPROTO_UDP, l4, udp_len,
                             offsetof(struct udp_header, udp_csum));
    req = request_ipv6(buf, len);
    check_ignored(&req, "UDP from ::");

    /* A truncated IPv6 header. */
    req = request_ipv6(buf, IPV6_HEADER_LEN - 8);
    check_ignored(&req, "truncated IPv6 header");

    /* Nor anything that is not IP. */
    req.dl_type = htons(ETH_TYPE_ARP);
    check_ignored(&req, "ARP");
    check_stats(5, 0, 0, 5);
}

static void
test_broadcast_not_answered(void)
{
    uint8_t udp[16];
    size_t udp_len = compose_udp(udp, sizeof udp, 8);
    struct request req;

    req = request_ipv4(IPPROTO_UDP, udp, udp_len);
    req.eth_dst = eth_addr_broadcast;
    check_ignored(&req, "Ethernet broadcast");

    req = request_ipv4(IPPROTO_UDP, udp, udp_len);
    req.eth_src = (struct eth_addr) ETH_ADDR_C(01,00,5e,00,00,fb);
    check_ignored(&req, "Ethernet multicast source");

    req = request_ipv4(IPPROTO_UDP, udp, udp_len);
    req.nw_dst = htonl(0xffffffff);
    check_ignored(&req, "IP broadcast");

    req = request_ipv4(IPPROTO_UDP, udp, udp_len);
    req.nw_dst = htonl(0xe00000fb);
    check_ignored(&req, "IP multicast destination");

    req = request_ipv4(IPPROTO_UDP, udp, udp_len);
    req.nw_src = htonl(0xe0000001);
    check_ignored(&req, "IP multicast source");

    req = request_ipv4(IPPROTO_UDP, udp, udp_len);
    req.nw_src = htonl(0);
    check_ignored(&req, "no IP source");

    check_stats(6, 0, 0, 6);
}

static void
test_fragments(void)
{
    uint8_t udp[64];
    size_t udp_len = compose_udp(udp, sizeof udp, 40);
    struct request req;

    req = request_ipv4(IPPROTO_UDP, udp, udp_len);
    req.frag_off = htons(IP_MORE_FRAGMENTS);
    check_unreachable(&req, IP_HEADER_LEN + 8);

    req = request_ipv4(IPPROTO_UDP, udp, udp_len);
    req.frag_off = htons(IP_DONT_FRAGMENT);
    check_unreachable(&req, IP_HEADER_LEN + 8);

    req = request_ipv4(IPPROTO_UDP, udp, udp_len);
    req.frag_off = htons(185);
    check_ignored(&req, "last fragment");

    req = request_ipv4(IPPROTO_UDP, udp, udp_len);
    req.frag_off = htons(IP_MORE_FRAGMENTS | 185);
    check_ignored(&req, "middle fragment");

    uint8_t tcp[64];
    req = request_ipv4(IPPROTO_TCP, tcp,
                       compose_tcp(tcp, sizeof tcp, TCP_SYN, 1, 0, 0, 8));
    req.frag_off = htons(IP_MORE_FRAGMENTS);
    check_ignored(&req, "first fragment of a TCP segment");

    check_stats(5, 0, 2, 3);
}

static void
test_malformed_not_answered(void)
{
    uint8_t tcp[64], udp[64];
    size_t tcp_len = compose_tcp(tcp, sizeof tcp, TCP_SYN, 1, 0, 0, 0);
    size_t udp_len = compose_udp(udp, sizeof udp, 20);
    struct request tcp_req = request_ipv4(IPPROTO_TCP, tcp, tcp_len);
    struct request udp_req = request_ipv4(IPPROTO_UDP, udp, udp_len);
    struct dp_packet *p;
    size_t n = 0;

    p = compose_request(&udp_req);
    dp_packet_set_size(p, 10);
    check_packet_ignored(p, "10 bytes");
    n++;

    p = compose_request(&udp_req);
    dp_packet_set_size(p, ETH_HEADER_LEN);
    check_packet_ignored(p, "Ethernet header only");
    n++;

    p = compose_request(&udp_req);
    dp_packet_set_size(p, ETH_HEADER_LEN + 12);
    check_packet_ignored(p, "truncated IPv4 header");
    n++;

    p = compose_request(&udp_req);
    packet_ip(p)->ip_ihl_ver = IP_IHL_VER(4, IP_VERSION);
    check_packet_ignored(p, "IPv4 header length 16");
    n++;

    p = compose_request(&udp_req);
    packet_ip(p)->ip_ihl_ver = IP_IHL_VER(15, IP_VERSION);
    check_packet_ignored(p, "IPv4 header length 60, longer than packet");
    n++;

    p = compose_request(&udp_req);
    packet_ip(p)->ip_ihl_ver = IP_IHL_VER(5, 6);
    check_packet_ignored(p, "IP version 6 in an IPv4 frame");
    n++;

    p = compose_request(&udp_req);
    packet_ip(p)->ip_tot_len = htons(IP_HEADER_LEN + udp_len + 1);
    check_packet_ignored(p, "IPv4 total length longer than packet");
    n++;

    p = compose_request(&udp_req);
    packet_ip(p)->ip_tot_len = htons(IP_HEADER_LEN - 1);
    check_packet_ignored(p, "IPv4 total length shorter than header");
    n++;

    p = compose_request(&tcp_req);
    packet_ip(p)->ip_tot_len = htons(IP_HEADER_LEN + 10);
    check_packet_ignored(p, "truncated TCP header");
    n++;

    p = compose_request(&tcp_req);
    struct tcp_header *th = dp_packet_at_assert(
        p, ETH_HEADER_LEN + IP_HEADER_LEN, TCP_HEADER_LEN);
    th->tcp_ctl = TCP_CTL(TCP_SYN, 4);
    check_packet_ignored(p, "TCP header length 16");
    n++;

    p = compose_request(&tcp_req);
    th = dp_packet_at_assert(p, ETH_HEADER_LEN + IP_HEADER_LEN,
                             TCP_HEADER_LEN);
    th->tcp_ctl = TCP_CTL(TCP_SYN, 6);
    check_packet_ignored(p, "TCP header longer than segment");
    n++;

    p = compose_request(&udp_req);
    packet_ip(p)->ip_tot_len = htons(IP_HEADER_LEN + 4);
    check_packet_ignored(p, "truncated UDP header");
    n++;

    uint8_t sctp[8] = { 0 };
    struct request sctp_req = request_ipv4(IPPROTO_SCTP, sctp, sizeof sctp);
    check_ignored(&sctp_req, "truncated SCTP header");
    n++;

    check_stats(n, 0, 0, n);
}

static void
test_ethernet_padding(void)
{
    uint8_t tcp[SYN_BUF_SIZE];
    struct request req = request_syn(tcp);

    /* 54 bytes, padded to the 60-byte minimum: the padding is not data. */
    req.eth_pad = 6;
    check_rst(&req, 0, 1001);

    uint8_t udp[8];
    req = request_ipv4(IPPROTO_UDP, udp, compose_udp(udp, sizeof udp, 0));
    req.eth_pad = 18;
    check_unreachable(&req, IP_HEADER_LEN + UDP_HEADER_LEN);
    check_stats(2, 1, 1, 0);
}

static void
test_vlan_kept(void)
{
    uint8_t tcp[SYN_BUF_SIZE];
    struct request req = request_syn(tcp);

    req.vlan = 100 + 1;
    check_rst(&req, 0, 1001);

    uint8_t udp[16];
    req = request_ipv4(IPPROTO_UDP, udp, compose_udp(udp, sizeof udp, 8));
    req.vlan = 4094 + 1;
    check_unreachable(&req, IP_HEADER_LEN + 8);
}

static void
test_in_port(void)
{
    uint8_t tcp[SYN_BUF_SIZE];
    struct request req = request_syn(tcp);
    struct dp_packet *packet = compose_request(&req);
    struct ovs_list replies;
    struct reply r;

    /* Answered through the port the packet came in on, even the bridge's
     * own. */
    reject_on_port(packet, OFPP_LOCAL, OFP15_VERSION, &replies);
    if (expect_one_reply(&replies, OFP15_VERSION, OFPP_LOCAL, &r)) {
        check_reply_rst(&r, 0, 0, 1001);
        reply_uninit(&r);
    }
    reject_on_port(packet, u16_to_ofp(1), OFP15_VERSION, &replies);
    if (expect_one_reply(&replies, OFP15_VERSION, u16_to_ofp(1), &r)) {
        reply_uninit(&r);
    }

    reject_on_port(packet, OFPP_CONTROLLER, OFP15_VERSION, &replies);
    expect_no_reply(&replies, "in_port CONTROLLER");
    reject_on_port(packet, OFPP_NONE, OFP15_VERSION, &replies);
    expect_no_reply(&replies, "in_port NONE");
    dp_packet_delete(packet);
    check_stats(4, 2, 0, 2);
}

static void
test_openflow_versions(void)
{
    static const enum ofp_version versions[] = {
        OFP10_VERSION, OFP11_VERSION, OFP12_VERSION, OFP13_VERSION,
        OFP14_VERSION, OFP15_VERSION,
    };
    uint8_t tcp[SYN_BUF_SIZE];
    struct request req = request_syn(tcp);
    struct dp_packet *packet = compose_request(&req);

    for (size_t i = 0; i < ARRAY_SIZE(versions); i++) {
        struct ovs_list replies;
        struct reply r;
        int n = n_failures;

        reject_on_port(packet, u16_to_ofp(IN_PORT), versions[i], &replies);
        if (expect_one_reply(&replies, versions[i], u16_to_ofp(IN_PORT),
                             &r)) {
            check_reply_rst(&r, 0, 0, 1001);
            reply_uninit(&r);
        }
        if (n_failures != n) {
            fprintf(stderr, "  in OpenFlow version %#x\n", versions[i]);
        }
    }
    dp_packet_delete(packet);
    check_stats(ARRAY_SIZE(versions), ARRAY_SIZE(versions), 0, 0);
}

static void
test_opcodes(void)
{
    uint8_t tcp[SYN_BUF_SIZE];
    struct request req = request_syn(tcp);
    struct dp_packet *packet = compose_request(&req);
    const void *data = dp_packet_data(packet);
    size_t size = dp_packet_size(packet);
    ofp_port_t in_port = u16_to_ofp(IN_PORT);
    struct ovs_list replies;
    struct reply r;

    /* No userdata: not from a kovs controller action. */
    run_pinctrl(encode_packet_in(data, size, NULL, 0, in_port,
                                 OFP15_VERSION), OFP15_VERSION, &replies);
    expect_no_reply(&replies, "no userdata");

    static const uint8_t unknown[] = { 0 }, unknown2[] = { 0xff, 1 };
    run_pinctrl(encode_packet_in(data, size, unknown, sizeof unknown,
                                 in_port, OFP15_VERSION),
                OFP15_VERSION, &replies);
    expect_no_reply(&replies, "opcode 0");
    run_pinctrl(encode_packet_in(data, size, unknown2, sizeof unknown2,
                                 in_port, OFP15_VERSION),
                OFP15_VERSION, &replies);
    expect_no_reply(&replies, "opcode 255");

    /* The standard packet-in formats drop the userdata. */
    uint8_t userdata[8];
    size_t userdata_len;
    reject_userdata(userdata, &userdata_len);
    run_pinctrl(encode_packet_in_format(data, size, userdata, userdata_len,
                                        in_port, OFP15_VERSION,
                                        OFPUTIL_PACKET_IN_STD),
                OFP15_VERSION, &replies);
    expect_no_reply(&replies, "OpenFlow 1.5 standard packet-in");
    run_pinctrl(encode_packet_in_format(data, size, userdata, userdata_len,
                                        in_port, OFP10_VERSION,
                                        OFPUTIL_PACKET_IN_NXT),
                OFP10_VERSION, &replies);
    expect_no_reply(&replies, "NXT_PACKET_IN");

    /* Bytes after the opcode do not change REJECT. */
    static const uint8_t reject_args[] = { PINCTRL_OP_REJECT, 1, 2, 3 };
    run_pinctrl(encode_packet_in(data, size, reject_args, sizeof reject_args,
                                 in_port, OFP15_VERSION),
                OFP15_VERSION, &replies);
    if (expect_one_reply(&replies, OFP15_VERSION, in_port, &r)) {
        check_reply_rst(&r, 0, 0, 1001);
        reply_uninit(&r);
    }

    dp_packet_delete(packet);
    check_stats(6, 1, 0, 5);
}

static void
test_truncated_packet_in(void)
{
    uint8_t tcp[SYN_BUF_SIZE];
    struct request req = request_syn(tcp);
    struct dp_packet *packet = compose_request(&req);
    uint8_t userdata[8];
    size_t userdata_len;
    struct ovs_list replies;

    reject_userdata(userdata, &userdata_len);

    /* The switch says that the packet had more bytes than it sent. */
    struct ofpbuf *msg = encode_packet_in(dp_packet_data(packet),
                                          dp_packet_size(packet), userdata,
                                          userdata_len, u16_to_ofp(IN_PORT),
                                          OFP15_VERSION);
    ofpprop_put_u32(msg, NXPINT_FULL_LEN, dp_packet_size(packet) + 100);
    ofpmsg_update_length(msg);
    run_pinctrl(msg, OFP15_VERSION, &replies);
    expect_no_reply(&replies, "truncated packet-in");

    /* A packet-in without a packet does not decode. */
    msg = encode_packet_in(dp_packet_data(packet), 0, userdata, userdata_len,
                           u16_to_ofp(IN_PORT), OFP15_VERSION);
    run_pinctrl(msg, OFP15_VERSION, &replies);
    expect_no_reply(&replies, "empty packet");

    dp_packet_delete(packet);
    check_stats(2, 0, 0, 2);
}

/* Checks the checksums of reply 'r', whatever it answers. */
static void
check_reply_checksums(const struct reply *r)
{
    const struct ip_header *ip = dp_packet_l3(&r->packet);
    const void *l4 = dp_packet_l4(&r->packet);
    size_t l4_size = dp_packet_l4_size(&r->packet);

    CHECK(ip && l4, "reply is not IPv4");
    if (!ip || !l4) {
        return;
    }
    CHECK_EQ("reply ip checksum (0 if valid)", 0, csum(ip, IP_HEADER_LEN));
    CHECK_EQ("reply ttl", 64, ip->ip_ttl);
    if (ip->ip_proto == IPPROTO_TCP) {
        uint32_t partial = packet_csum_pseudoheader(ip);
        CHECK_EQ("reply tcp checksum (0 if valid)", 0,
                 ntohs(csum_finish(csum_continue(partial, l4, l4_size))));
    } else {
        CHECK_EQ("reply ip proto", IPPROTO_ICMP, ip->ip_proto);
        CHECK_EQ("reply icmp checksum (0 if valid)", 0, csum(l4, l4_size));
    }
}

/* Hands pinctrl 'packet' as a REJECT packet-in and, if it answers, checks
 * the answer's checksums.  Returns the number of answers. */
static size_t
reject_any(const struct dp_packet *packet)
{
    struct ovs_list replies;
    struct reply r;
    size_t n = reject(packet, &replies);

    CHECK(n <= 1, "%"PRIuSIZE" replies", n);
    if (n == 1) {
        if (expect_one_reply(&replies, OFP15_VERSION, u16_to_ofp(IN_PORT),
                             &r)) {
            check_reply_checksums(&r);
            reply_uninit(&r);
        }
    } else {
        free_replies(&replies);
    }
    return n;
}

static void
test_packets_never_crash(void)
{
    static const uint8_t options[4] = { 1, 1, 1, 0 };
    uint8_t tcp[128], udp[64], other[6] = { 1, 2, 3, 4, 5, 6 };
    struct request reqs[4];

    reqs[0] = request_ipv4(IPPROTO_TCP, tcp,
                           compose_tcp(tcp, sizeof tcp, TCP_SYN | TCP_ACK,
                                       1000, 2000, 8, 16));
    reqs[1] = request_ipv4(IPPROTO_UDP, udp,
                           compose_udp(udp, sizeof udp, 12));
    reqs[1].ip_options = options;
    reqs[1].ip_options_len = sizeof options;
    reqs[2] = request_ipv4(IPPROTO_SCTP, other, sizeof other);
    reqs[3] = request_ipv4(IPPROTO_UDP, udp, compose_udp(udp, sizeof udp, 12));
    reqs[3].vlan = 10;

    static const uint8_t values[] = { 0x00, 0xff, 0x01, 0x45, 0x80, 0x0f };
    size_t n_packets = 0, n_answers = 0;

    quiet = true;
    for (size_t i = 0; i < ARRAY_SIZE(reqs); i++) {
        struct dp_packet *base = compose_request(&reqs[i]);
        size_t size = dp_packet_size(base);

        /* Every truncation. */
        for (size_t len = 1; len <= size; len++) {
            struct dp_packet *p = dp_packet_clone(base);
            dp_packet_set_size(p, len);
            n_answers += reject_any(p);
            n_packets++;
            dp_packet_delete(p);
        }

        /* Every byte replaced by a few interesting values. */
        for (size_t ofs = 0; ofs < size; ofs++) {
            for (size_t v = 0; v < ARRAY_SIZE(values); v++) {
                struct dp_packet *p = dp_packet_clone(base);
                uint8_t *byte = dp_packet_at_assert(p, ofs, 1);
                *byte = values[v];
                n_answers += reject_any(p);
                n_packets++;
                dp_packet_delete(p);
            }
        }
        dp_packet_delete(base);
    }
    printf("%"PRIuSIZE" packets, %"PRIuSIZE" answered\n",
           n_packets, n_answers);
    CHECK(n_answers > 0 && n_answers < n_packets,
          "%"PRIuSIZE" of %"PRIuSIZE" packets answered", n_answers,
          n_packets);

    struct pinctrl_stats s;
    pinctrl_get_stats(&s);
    CHECK_EQ("packet-ins", n_packets, s.n_packet_ins);
    CHECK_EQ("answered plus ignored", n_packets,
             s.n_tcp_resets + s.n_icmp_unreachables + s.n_ignored);
}

/* The neighbor table: RESOLVE and NEIGHBOR. */

/* The external network's cast: the node on br-ex, behind br-int's patch
 * port; its default gateway; another host on its subnet; and a server
 * beyond the gateway that pods talk to. */
#define PATCH_PORT 2
#define NODE_IP     htonl(0xc0a8010a)   /* 192.168.1.10 */
#define BREX_MAC    ((struct eth_addr) ETH_ADDR_C(52,54,00,00,01,0a))
#define GATEWAY_IP  htonl(0xc0a80101)   /* 192.168.1.1 */
#define GATEWAY_MAC ((struct eth_addr) ETH_ADDR_C(52,54,00,00,01,01))
#define GATEWAY_MAC2 ((struct eth_addr) ETH_ADDR_C(52,54,00,00,01,fe))
#define HOST_IP     htonl(0xc0a80114)   /* 192.168.1.20 */
#define HOST_MAC    ((struct eth_addr) ETH_ADDR_C(52,54,00,00,01,14))
#define SERVER_IP   htonl(0x08080808)   /* 8.8.8.8 */

/* The neighbor table's clock, in milliseconds: tests set it.  It starts at
 * T0. */
#define T0 1000000
static long long int now_ms;

static long long int
test_clock(void)
{
    return now_ms;
}

/* The header line of /proc/net/arp. */
#define ARP_FILE_HEADER "IP address       HW type     Flags       "     \
    "HW address            Mask     Device\n"

/* Sets up the neighbor table for the node on br-ex, at time T0, with
 * 'kernel_entries' (lines in /proc/net/arp format, or "") as the kernel's
 * neighbour table. */
static void
neighbor_setup(const char *kernel_entries)
{
    FILE *stream = fopen("arp", "w");
    ovs_assert(stream);
    fputs(ARP_FILE_HEADER, stream);
    fputs(kernel_entries, stream);
    ovs_assert(!fclose(stream));

    now_ms = T0;
    neighbor_set_clock(&nt, test_clock);
    neighbor_set_arp_file(&nt, "arp");

    struct neighbor_config cfg = {
        .node_ip = NODE_IP,
        .mac = BREX_MAC,
        .out_port = u16_to_ofp(PATCH_PORT),
        .kernel_dev = "br-ex",
    };
    neighbor_configure(&nt, &cfg);
}

/* Hands pinctrl a RESOLVE packet-in, as NEIGHBOR's table miss sends it,
 * of 'req' from IN_PORT with the next hop field set in 'metadata', over
 * 'version'.  Returns the number of replies, which it moves to
 * 'replies'. */
static size_t
resolve_packet_in(const struct request *req, struct match *metadata,
                  enum ofp_version version, struct ovs_list *replies)
{
    struct dp_packet *packet = compose_request(req);
    uint8_t userdata[8];
    size_t userdata_len;
    opcode_userdata(PINCTRL_OP_RESOLVE, userdata, &userdata_len);
    match_set_in_port(metadata, u16_to_ofp(IN_PORT));

    struct ofpbuf *msg = encode_packet_in__(
        dp_packet_data(packet), dp_packet_size(packet), userdata,
        userdata_len, metadata, KOVS_T_NEIGHBOR, version,
        OFPUTIL_PACKET_IN_NXT2);
    dp_packet_delete(packet);
    return run_pinctrl(msg, version, replies);
}

/* Hands pinctrl a RESOLVE packet-in, as NEIGHBOR's table miss sends it: a
 * pod's TCP SYN to the server, with 'next_hop' in REG_NEXTHOP, over
 * 'version'.  Returns the number of replies, which it moves to
 * 'replies'. */
static size_t
resolve_on(ovs_be32 next_hop, enum ofp_version version,
           struct ovs_list *replies)
{
    uint8_t tcp[SYN_BUF_SIZE];
    struct request req = request_syn(tcp);
    req.nw_dst = SERVER_IP;
    struct match metadata;
    match_init_catchall(&metadata);
    kovs_match_field(&metadata, KOVS_F_NEXTHOP, ntohl(next_hop));
    return resolve_packet_in(&req, &metadata, version, replies);
}

static size_t
resolve(ovs_be32 next_hop, struct ovs_list *replies)
{
    return resolve_on(next_hop, OFP15_VERSION, replies);
}

/* Hands pinctrl a NEIGHBOR packet-in for 'packet', an ARP packet that came
 * from br-ex.  Returns the number of replies, which it moves to 'replies',
 * and frees 'packet'. */
static size_t
neighbor_packet_in(struct dp_packet *packet, struct ovs_list *replies)
{
    uint8_t userdata[8];
    size_t userdata_len;
    opcode_userdata(PINCTRL_OP_NEIGHBOR, userdata, &userdata_len);

    struct match metadata;
    match_init_catchall(&metadata);
    match_set_in_port(&metadata, u16_to_ofp(PATCH_PORT));

    struct ofpbuf *msg = encode_packet_in__(
        dp_packet_data(packet), dp_packet_size(packet), userdata,
        userdata_len, &metadata, KOVS_T_CLASSIFIER, OFP15_VERSION,
        OFPUTIL_PACKET_IN_NXT2);
    dp_packet_delete(packet);
    return run_pinctrl(msg, OFP15_VERSION, replies);
}

/* Returns a new ARP packet 'op' from 'spa' at 'sha': a reply to the node,
 * or a broadcast request for the node IP. */
static struct dp_packet *
compose_arp_packet(uint16_t op, ovs_be32 spa, struct eth_addr sha)
{
    struct dp_packet *packet = dp_packet_new(0);

    compose_arp(packet, op, sha,
                op == ARP_OP_REPLY ? BREX_MAC : eth_addr_zero,
                op == ARP_OP_REQUEST, spa, NODE_IP);
    return packet;
}

/* Hands pinctrl an ARP reply from 'ip' at 'mac' to the node, and checks
 * that pinctrl does not answer it. */
static void
arp_reply(ovs_be32 ip, struct eth_addr mac)
{
    struct ovs_list replies;

    neighbor_packet_in(compose_arp_packet(ARP_OP_REPLY, ip, mac), &replies);
    expect_no_reply(&replies, "ARP reply");
}

/* Checks that 'r' is an ARP request for 'ip' from the node. */
static void
check_arp_request(const struct reply *r, ovs_be32 ip)
{
    const struct flow *f = &r->flow;

    CHECK_MAC("request eth_dst", eth_addr_broadcast, f->dl_dst);
    CHECK_MAC("request eth_src", BREX_MAC, f->dl_src);
    CHECK_EQ("request dl_type", ETH_TYPE_ARP, ntohs(f->dl_type));
    CHECK_EQ("request vlan", 0, ntohs(f->vlans[0].tci));
    CHECK_EQ("request size", ETH_HEADER_LEN + ARP_ETH_HEADER_LEN,
             dp_packet_size(&r->packet));

    const struct arp_eth_header *arp = dp_packet_l3(&r->packet);
    CHECK(arp, "request has no ARP header");
    if (!arp) {
        return;
    }
    CHECK_EQ("request ar_hrd", ARP_HRD_ETHERNET, ntohs(arp->ar_hrd));
    CHECK_EQ("request ar_pro", ETH_TYPE_IP, ntohs(arp->ar_pro));
    CHECK_EQ("request ar_hln", ETH_ADDR_LEN, arp->ar_hln);
    CHECK_EQ("request ar_pln", 4, arp->ar_pln);
    CHECK_EQ("request ar_op", ARP_OP_REQUEST, ntohs(arp->ar_op));
    CHECK_MAC("request ar_sha", BREX_MAC, arp->ar_sha);
    CHECK_IP("request ar_spa", NODE_IP, get_16aligned_be32(&arp->ar_spa));
    CHECK_MAC("request ar_tha", eth_addr_zero, arp->ar_tha);
    CHECK_IP("request ar_tpa", ip, get_16aligned_be32(&arp->ar_tpa));
}

/* Expects 'replies' to be exactly one ARP request for 'ip', in 'version',
 * out of 'port'.  Frees 'replies'. */
static void
expect_arp_request_on(struct ovs_list *replies, ovs_be32 ip,
                      enum ofp_version version, ofp_port_t port)
{
    struct reply r;

    if (expect_one_reply(replies, version, port, &r)) {
        check_arp_request(&r, ip);
        reply_uninit(&r);
    }
}

static void
expect_arp_request(struct ovs_list *replies, ovs_be32 ip)
{
    expect_arp_request_on(replies, ip, OFP15_VERSION,
                          u16_to_ofp(PATCH_PORT));
}

/* Sets the clock to T0 + 'ms' and runs the neighbor table's timers, moving
 * the requests they send to 'msgs'. */
static void
run_timers_at(long long int ms, struct ovs_list *msgs)
{
    now_ms = T0 + ms;
    ovs_list_init(msgs);
    neighbor_run(&nt, OFP15_VERSION, msgs);
}

/* At T0 + 'ms', expects the timers to send nothing. */
static void
expect_quiet_at(long long int ms)
{
    struct ovs_list msgs;
    char what[64];

    run_timers_at(ms, &msgs);
    snprintf(what, sizeof what, "timers at T0 + %lld ms", ms);
    expect_no_reply(&msgs, what);
}

/* At T0 + 'ms', expects the timers to send one request, for 'ip'. */
static void
expect_request_at(long long int ms, ovs_be32 ip)
{
    struct ovs_list msgs;
    int n = n_failures;

    run_timers_at(ms, &msgs);
    expect_arp_request(&msgs, ip);
    if (n_failures != n) {
        fprintf(stderr, "  in the timers at T0 + %lld ms\n", ms);
    }
}

/* Checks that the timers next have work at T0 + 'ms', or never if 'ms' is
 * LLONG_MAX. */
static void
expect_next_run(long long int ms)
{
    long long int next = neighbor_next_run(&nt);

    CHECK_EQ("next run (ms after T0, or LLONG_MAX)", ms,
             next == LLONG_MAX ? LLONG_MAX : next - T0);
}

/* An IPv4 neighbor that a test expects. */
struct test_neighbor {
    ovs_be32 ip;
    struct eth_addr mac;
};

/* Checks that neighbor_get(&nt) returns exactly the 'n' IPv4 pairs in
 * 'expected'. */
static void
check_neighbors(const struct test_neighbor *expected, size_t n)
{
    struct flows_neighbor *got;
    size_t n_got = neighbor_get(&nt, &got);

    CHECK_EQ("number of resolved neighbors", n, n_got);
    for (size_t i = 0; i < MIN(n, n_got); i++) {
        CHECK(IN6_IS_ADDR_V4MAPPED(&got[i].ip),
              "neighbor %"PRIuSIZE" is not IPv4", i);
        CHECK_IP("neighbor ip", expected[i].ip,
                 in6_addr_get_mapped_ipv4(&got[i].ip));
        CHECK_MAC("neighbor mac", expected[i].mac, got[i].mac);
    }
    free(got);
}

static void
check_no_neighbors(void)
{
    check_neighbors(NULL, 0);
}

/* Checks that neighbor_format(&nt) prints 'expected'. */
static void
check_format(const char *expected)
{
    struct ds s = DS_EMPTY_INITIALIZER;

    neighbor_format(&nt, &s);
    CHECK(!strcmp(ds_cstr(&s), expected),
          "neighbor table:\nexpected:\n%sgot:\n%s", expected, ds_cstr(&s));
    ds_destroy(&s);
}

/* Checks pinctrl's statistics for the neighbor opcodes. */
static void
check_neighbor_stats(uint64_t n_packet_ins, uint64_t n_resolves,
                     uint64_t n_arp_learned, uint64_t n_ignored)
{
    struct pinctrl_stats s;

    pinctrl_get_stats(&s);
    CHECK_EQ("packet-ins", n_packet_ins, s.n_packet_ins);
    CHECK_EQ("resolves", n_resolves, s.n_resolves);
    CHECK_EQ("ARP packets learned", n_arp_learned, s.n_arp_learned);
    CHECK_EQ("ignored packet-ins", n_ignored, s.n_ignored);
    CHECK_EQ("TCP resets", 0, s.n_tcp_resets);
    CHECK_EQ("ICMP port unreachables", 0, s.n_icmp_unreachables);
}

static void
test_resolve_sends_arp_request(void)
{
    struct ovs_list replies;

    neighbor_setup("");
    uint64_t seqno = neighbor_seqno(&nt);

    resolve(GATEWAY_IP, &replies);
    expect_arp_request(&replies, GATEWAY_IP);
    check_no_neighbors();
    CHECK_EQ("seqno after an incomplete entry", seqno, neighbor_seqno(&nt));
    check_format("192.168.1.1     incomplete        incomplete age 0.000s, "
                 "1 request unanswered\n");
    check_neighbor_stats(1, 1, 0, 0);

    /* The request speaks the connection's OpenFlow version. */
    static const enum ofp_version versions[] = {
        OFP10_VERSION, OFP13_VERSION, OFP15_VERSION,
    };
    for (size_t i = 0; i < ARRAY_SIZE(versions); i++) {
        ovs_be32 ip = htonl(ntohl(HOST_IP) + i);
        int n = n_failures;

        resolve_on(ip, versions[i], &replies);
        expect_arp_request_on(&replies, ip, versions[i],
                              u16_to_ofp(PATCH_PORT));
        if (n_failures != n) {
            fprintf(stderr, "  in OpenFlow version %#x\n", versions[i]);
        }
    }
    check_neighbor_stats(4, 4, 0, 0);
    neighbor_destroy(&nt);
}

static void
test_resolve_rate_limited(void)
{
    struct ovs_list replies;

    neighbor_setup("");
    resolve(GATEWAY_IP, &replies);
    expect_arp_request(&replies, GATEWAY_IP);

    /* More packets to the same next hop within the second: no request,
     * however many. */
    for (int i = 0; i < 10; i++) {
        now_ms = T0 + i * 100 + 99;
        resolve(GATEWAY_IP, &replies);
        expect_no_reply(&replies, "another miss within 1 s");
    }
    expect_quiet_at(999);

    /* Another next hop gets its own request. */
    resolve(HOST_IP, &replies);
    expect_arp_request(&replies, HOST_IP);

    /* The retry is the timers' job: a miss at 1 s still sends nothing
     * itself, the timers send one request. */
    now_ms = T0 + 1000;
    resolve(GATEWAY_IP, &replies);
    expect_no_reply(&replies, "a miss at 1 s");
    expect_request_at(1000, GATEWAY_IP);
    expect_quiet_at(1000);
    check_neighbor_stats(13, 13, 0, 0);
    neighbor_destroy(&nt);
}

static void
test_arp_reply_resolves(void)
{
    struct ovs_list replies;

    neighbor_setup("");
    resolve(GATEWAY_IP, &replies);
    expect_arp_request(&replies, GATEWAY_IP);
    uint64_t seqno = neighbor_seqno(&nt);

    now_ms = T0 + 250;
    arp_reply(GATEWAY_IP, GATEWAY_MAC);
    CHECK(neighbor_seqno(&nt) != seqno, "seqno unchanged by a resolution");
    check_neighbors(&(struct test_neighbor) { GATEWAY_IP, GATEWAY_MAC }, 1);
    now_ms = T0 + 1250;
    check_format("192.168.1.1     52:54:00:00:01:01 resolved   age 1.000s\n");
    check_neighbor_stats(2, 1, 1, 0);

    /* No retry once resolved, and no request for a miss. */
    expect_quiet_at(1250);
    expect_quiet_at(5000);
    resolve(GATEWAY_IP, &replies);
    expect_no_reply(&replies, "a miss of a resolved next hop");

    /* The same MAC again confirms without changing the pairs. */
    seqno = neighbor_seqno(&nt);
    arp_reply(GATEWAY_IP, GATEWAY_MAC);
    CHECK_EQ("seqno after a confirmation", seqno, neighbor_seqno(&nt));

    /* A new MAC replaces the old one; an ARP request from the neighbor for
     * the node IP says so as well as a reply. */
    neighbor_packet_in(compose_arp_packet(ARP_OP_REQUEST, GATEWAY_IP,
                                          GATEWAY_MAC2), &replies);
    expect_no_reply(&replies, "ARP request for the node IP");
    CHECK(neighbor_seqno(&nt) != seqno, "seqno unchanged by a new MAC");
    check_neighbors(&(struct test_neighbor) { GATEWAY_IP, GATEWAY_MAC2 },
                    1);

    /* Entries come sorted by IP. */
    resolve(SERVER_IP, &replies);
    expect_arp_request(&replies, SERVER_IP);
    resolve(HOST_IP, &replies);
    expect_arp_request(&replies, HOST_IP);
    arp_reply(HOST_IP, HOST_MAC);
    arp_reply(SERVER_IP, GATEWAY_MAC);
    struct test_neighbor expected[] = {
        { SERVER_IP, GATEWAY_MAC },
        { GATEWAY_IP, GATEWAY_MAC2 },
        { HOST_IP, HOST_MAC },
    };
    check_neighbors(expected, ARRAY_SIZE(expected));
    check_neighbor_stats(9, 4, 5, 0);
    neighbor_destroy(&nt);
}

static void
test_unsolicited_arp_ignored(void)
{
    struct ovs_list replies;

    neighbor_setup("");
    uint64_t seqno = neighbor_seqno(&nt);

    /* A reply, or a request, from an address kovs did not ask for. */
    arp_reply(GATEWAY_IP, GATEWAY_MAC);
    neighbor_packet_in(compose_arp_packet(ARP_OP_REQUEST, HOST_IP, HOST_MAC),
                       &replies);
    expect_no_reply(&replies, "unsolicited ARP request");
    check_no_neighbors();
    check_format("");
    CHECK_EQ("seqno after unsolicited ARP", seqno, neighbor_seqno(&nt));
    check_neighbor_stats(2, 0, 0, 2);

    /* It stays unknown: a later miss asks for it. */
    resolve(GATEWAY_IP, &replies);
    expect_arp_request(&replies, GATEWAY_IP);
    check_no_neighbors();

    /* Asked for, but with a MAC no neighbor has, or not ARP at all. */
    arp_reply(GATEWAY_IP, eth_addr_zero);
    arp_reply(GATEWAY_IP, eth_addr_broadcast);
    arp_reply(GATEWAY_IP, (struct eth_addr) ETH_ADDR_C(01,00,5e,00,00,01));

    struct dp_packet *packet = compose_arp_packet(ARP_OP_REPLY, GATEWAY_IP,
                                                  GATEWAY_MAC);
    struct arp_eth_header *arp = dp_packet_l3(packet);
    arp->ar_op = htons(3);          /* RARP request. */
    neighbor_packet_in(packet, &replies);
    expect_no_reply(&replies, "ARP opcode 3");

    packet = compose_arp_packet(ARP_OP_REPLY, GATEWAY_IP, GATEWAY_MAC);
    arp = dp_packet_l3(packet);
    arp->ar_pro = htons(ETH_TYPE_IPV6);
    neighbor_packet_in(packet, &replies);
    expect_no_reply(&replies, "ARP for another protocol");

    uint8_t tcp[SYN_BUF_SIZE];
    struct request req = request_syn(tcp);
    req.nw_src = GATEWAY_IP;
    req.eth_src = GATEWAY_MAC;
    neighbor_packet_in(compose_request(&req), &replies);
    expect_no_reply(&replies, "IPv4 packet");

    check_no_neighbors();
    CHECK_EQ("seqno after bogus ARP", seqno, neighbor_seqno(&nt));
    check_neighbor_stats(9, 1, 0, 8);
    neighbor_destroy(&nt);
}

static void
test_resolve_ignored_addresses(void)
{
    const struct {
        const char *what;
        ovs_be32 ip;
    } cases[] = {
        { "no next hop", htonl(0) },
        { "broadcast", htonl(0xffffffff) },
        { "multicast", htonl(0xe0000001) },
        { "the node IP", NODE_IP },
    };
    struct ovs_list replies;

    neighbor_setup("");
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        resolve(cases[i].ip, &replies);
        expect_no_reply(&replies, cases[i].what);
    }
    check_format("");
    check_neighbor_stats(ARRAY_SIZE(cases), 0, 0, ARRAY_SIZE(cases));

    /* Without a node IP, the table does nothing. */
    struct neighbor_config cfg = { .out_port = u16_to_ofp(PATCH_PORT) };
    neighbor_configure(&nt, &cfg);
    resolve(GATEWAY_IP, &replies);
    expect_no_reply(&replies, "a miss while disabled");
    check_format("");
    neighbor_destroy(&nt);
}

static void
test_resolve_retries_give_up(void)
{
    struct ovs_list replies;

    neighbor_setup("");
    resolve(GATEWAY_IP, &replies);
    expect_arp_request(&replies, GATEWAY_IP);
    expect_next_run(1000);

    expect_quiet_at(999);
    expect_request_at(1000, GATEWAY_IP);
    expect_next_run(2000);
    expect_quiet_at(1500);
    now_ms = T0 + 1500;
    check_format("192.168.1.1     incomplete        incomplete age 1.500s, "
                 "2 requests unanswered\n");

    /* Late timers send one request, not the ones they missed. */
    expect_request_at(2400, GATEWAY_IP);
    expect_next_run(3400);

    /* Three requests unanswered: given up. */
    expect_quiet_at(3399);
    check_format("192.168.1.1     incomplete        incomplete age 3.399s, "
                 "3 requests unanswered\n");
    uint64_t seqno = neighbor_seqno(&nt);
    expect_quiet_at(3400);
    check_format("");
    expect_next_run(LLONG_MAX);
    CHECK_EQ("seqno after an incomplete entry went", seqno,
             neighbor_seqno(&nt));

    /* A reply after that is unsolicited. */
    arp_reply(GATEWAY_IP, GATEWAY_MAC);
    check_no_neighbors();

    /* A later miss starts again. */
    resolve(GATEWAY_IP, &replies);
    expect_arp_request(&replies, GATEWAY_IP);
    expect_next_run(4400);
    check_neighbor_stats(3, 2, 0, 1);
    neighbor_destroy(&nt);
}

static void
test_refresh_and_expiry(void)
{
    struct ovs_list replies;

    neighbor_setup("");
    resolve(GATEWAY_IP, &replies);
    expect_arp_request(&replies, GATEWAY_IP);
    now_ms = T0 + 100;
    arp_reply(GATEWAY_IP, GATEWAY_MAC);
    expect_next_run(100 + NEIGHBOR_REFRESH_MSEC);

    /* Refreshed 30 s after the confirmation, then every second up to three
     * requests; usable meanwhile. */
    expect_quiet_at(30099);
    expect_request_at(30100, GATEWAY_IP);
    expect_next_run(31100);
    expect_quiet_at(31099);
    expect_request_at(31100, GATEWAY_IP);
    expect_request_at(32100, GATEWAY_IP);
    expect_next_run(100 + NEIGHBOR_EXPIRY_MSEC);
    expect_quiet_at(33100);
    expect_quiet_at(60100);
    check_neighbors(&(struct test_neighbor) { GATEWAY_IP, GATEWAY_MAC }, 1);
    now_ms = T0 + 50100;
    check_format("192.168.1.1     52:54:00:00:01:01 resolved   age 50.000s, "
                 "3 requests unanswered\n");

    /* Expires 90 s after the confirmation. */
    uint64_t seqno = neighbor_seqno(&nt);
    expect_quiet_at(90099);
    check_neighbors(&(struct test_neighbor) { GATEWAY_IP, GATEWAY_MAC }, 1);
    CHECK_EQ("seqno before expiry", seqno, neighbor_seqno(&nt));
    expect_quiet_at(90100);
    check_no_neighbors();
    check_format("");
    CHECK(neighbor_seqno(&nt) != seqno, "seqno unchanged by expiry");
    expect_next_run(LLONG_MAX);

    /* A refresh that is answered pushes both back. */
    now_ms = T0 + 100000;
    resolve(GATEWAY_IP, &replies);
    expect_arp_request(&replies, GATEWAY_IP);
    arp_reply(GATEWAY_IP, GATEWAY_MAC);
    expect_request_at(130000, GATEWAY_IP);
    now_ms = T0 + 130500;
    seqno = neighbor_seqno(&nt);
    arp_reply(GATEWAY_IP, GATEWAY_MAC);
    CHECK_EQ("seqno after a refresh", seqno, neighbor_seqno(&nt));
    expect_next_run(160500);
    expect_quiet_at(131000);
    expect_quiet_at(160499);
    expect_request_at(160500, GATEWAY_IP);
    expect_quiet_at(161499);
    expect_request_at(161500, GATEWAY_IP);
    check_neighbors(&(struct test_neighbor) { GATEWAY_IP, GATEWAY_MAC }, 1);
    neighbor_destroy(&nt);
}

static void
test_kernel_first_guess(void)
{
    struct ovs_list replies;

    neighbor_setup(
        "192.168.1.1      0x1         0x2         52:54:00:00:01:01     "
        "*        br-ex\n"
        "192.168.1.20     0x1         0x2         52:54:00:00:01:14     "
        "*        eth1\n"
        "192.168.1.21     0x1         0x0         00:00:00:00:00:00     "
        "*        br-ex\n"
        "192.168.1.22     0x1         0xa         52:54:00:00:01:16     "
        "*        br-ex\n"
        "192.168.1.23     0x1         0x6         52:54:00:00:01:17     "
        "*        br-ex\n");
    uint64_t seqno = neighbor_seqno(&nt);

    /* A complete entry on br-ex is used at once, and confirmed. */
    resolve(GATEWAY_IP, &replies);
    expect_arp_request(&replies, GATEWAY_IP);
    check_neighbors(&(struct test_neighbor) { GATEWAY_IP, GATEWAY_MAC }, 1);
    CHECK(neighbor_seqno(&nt) != seqno, "seqno unchanged by a guess");
    check_format("192.168.1.1     52:54:00:00:01:01 guessed    age 0.000s, "
                 "1 request unanswered\n");

    /* A permanent entry is complete too. */
    ovs_be32 perm_ip = htonl(0xc0a80117);
    resolve(perm_ip, &replies);
    expect_arp_request(&replies, perm_ip);
    struct test_neighbor guessed[] = {
        { GATEWAY_IP, GATEWAY_MAC },
        { perm_ip, (struct eth_addr) ETH_ADDR_C(52,54,00,00,01,17) },
    };
    check_neighbors(guessed, ARRAY_SIZE(guessed));

    /* Another device's entry, an incomplete entry, a published (proxy)
     * entry, and no entry at all are no guess. */
    const ovs_be32 unguessed[] = {
        HOST_IP, htonl(0xc0a80115), htonl(0xc0a80116), SERVER_IP,
    };
    for (size_t i = 0; i < ARRAY_SIZE(unguessed); i++) {
        resolve(unguessed[i], &replies);
        expect_arp_request(&replies, unguessed[i]);
    }
    check_neighbors(guessed, ARRAY_SIZE(guessed));

    /* The reply confirms the guess, or corrects it. */
    seqno = neighbor_seqno(&nt);
    arp_reply(perm_ip, guessed[1].mac);
    CHECK_EQ("seqno after a confirmed guess", seqno, neighbor_seqno(&nt));
    now_ms = T0 + 500;
    arp_reply(GATEWAY_IP, GATEWAY_MAC2);
    CHECK(neighbor_seqno(&nt) != seqno,
          "seqno unchanged by a corrected guess");
    guessed[0].mac = GATEWAY_MAC2;
    check_neighbors(guessed, ARRAY_SIZE(guessed));
    check_format(
        "8.8.8.8         incomplete        incomplete age 0.500s, "
        "1 request unanswered\n"
        "192.168.1.1     52:54:00:00:01:fe resolved   age 0.000s\n"
        "192.168.1.20    incomplete        incomplete age 0.500s, "
        "1 request unanswered\n"
        "192.168.1.21    incomplete        incomplete age 0.500s, "
        "1 request unanswered\n"
        "192.168.1.22    incomplete        incomplete age 0.500s, "
        "1 request unanswered\n"
        "192.168.1.23    52:54:00:00:01:17 resolved   age 0.500s\n");
    neighbor_destroy(&nt);

    /* A guess that no reply confirms is dropped like an incomplete
     * entry. */
    neighbor_setup("192.168.1.1 0x1 0x2 52:54:00:00:01:01 * br-ex\n");
    resolve(GATEWAY_IP, &replies);
    expect_arp_request(&replies, GATEWAY_IP);
    expect_request_at(1000, GATEWAY_IP);
    expect_request_at(2000, GATEWAY_IP);
    check_neighbors(&(struct test_neighbor) { GATEWAY_IP, GATEWAY_MAC }, 1);
    seqno = neighbor_seqno(&nt);
    expect_quiet_at(3000);
    check_no_neighbors();
    CHECK(neighbor_seqno(&nt) != seqno, "seqno unchanged by a dropped guess");

    /* Without a kernel device, or a readable table, no guess. */
    struct neighbor_config cfg = {
        .node_ip = NODE_IP,
        .mac = BREX_MAC,
        .out_port = u16_to_ofp(PATCH_PORT),
    };
    neighbor_configure(&nt, &cfg);
    resolve(GATEWAY_IP, &replies);
    expect_arp_request(&replies, GATEWAY_IP);
    check_no_neighbors();
    neighbor_destroy(&nt);

    neighbor_setup("");
    neighbor_set_arp_file(&nt, "no-such-file");
    resolve(GATEWAY_IP, &replies);
    expect_arp_request(&replies, GATEWAY_IP);
    check_no_neighbors();
    neighbor_destroy(&nt);
}

/* Builds in 'msg' (initialized here) one message of an RTM_GETNEIGH dump:
 * neighbour 'ip' (IPv6 unless 'family' says otherwise) on 'ifindex' in
 * 'state' with 'flags', at link-layer address 'lladdr' ('lladdr_len'
 * bytes of it, none if 0). */
static void
rtnl_neigh_msg(struct ofpbuf *msg, uint16_t type, uint8_t family,
               int ifindex, uint16_t state, uint8_t flags, const char *ip,
               const struct eth_addr *lladdr, size_t lladdr_len)
{
    ofpbuf_init(msg, 0);
    nl_msg_put_nlmsghdr(msg, sizeof(struct ndmsg), type, NLM_F_MULTI);
    struct ndmsg *ndm = ofpbuf_put_zeros(msg, sizeof *ndm);
    ndm->ndm_family = family;
    ndm->ndm_ifindex = ifindex;
    ndm->ndm_state = state;
    ndm->ndm_flags = flags;
    if (family == AF_INET6) {
        struct in6_addr addr;
        ovs_assert(ipv6_parse(ip, &addr));
        nl_msg_put_unspec(msg, NDA_DST, &addr, sizeof addr);
    } else {
        ovs_be32 addr;
        ovs_assert(ip_parse(ip, &addr));
        nl_msg_put_be32(msg, NDA_DST, addr);
    }
    if (lladdr_len) {
        nl_msg_put_unspec(msg, NDA_LLADDR, lladdr, lladdr_len);
    }
    nl_msg_nlmsghdr(msg)->nlmsg_len = msg->size;
}

/* The kernel's IPv6 neighbours, from an RTM_GETNEIGH dump, are a first
 * guess only for an entry of br-ex (its ifindex) for the address asked
 * for, in a state with a usable MAC (reachable, stale, delay, probe,
 * permanent), not a proxy entry, with an Ethernet address that is neither
 * zero nor multicast. */
static void
test_kernel_ipv6_neighbor(void)
{
    static const struct eth_addr mac = ETH_ADDR_C(52,54,00,00,06,01);
    static const struct eth_addr zero = ETH_ADDR_C(00,00,00,00,00,00);
    static const struct eth_addr mcast = ETH_ADDR_C(33,33,00,00,00,01);
    struct in6_addr ip;
    ovs_assert(ipv6_parse("2001:db8:1::1", &ip));

    static const struct {
        const char *what;
        uint16_t type;
        uint8_t family;
        int ifindex;
        uint16_t state;
        uint8_t flags;
        const char *ip;
        const struct eth_addr *lladdr;
        size_t lladdr_len;
        bool usable;
    } cases[] = {
        { "reachable", RTM_NEWNEIGH, AF_INET6, 7, NUD_REACHABLE, 0,
          "2001:db8:1::1", &mac, ETH_ADDR_LEN, true },
        { "stale", RTM_NEWNEIGH, AF_INET6, 7, NUD_STALE, 0,
          "2001:db8:1::1", &mac, ETH_ADDR_LEN, true },
        { "delay", RTM_NEWNEIGH, AF_INET6, 7, NUD_DELAY, 0,
          "2001:db8:1::1", &mac, ETH_ADDR_LEN, true },
        { "probe", RTM_NEWNEIGH, AF_INET6, 7, NUD_PROBE, 0,
          "2001:db8:1::1", &mac, ETH_ADDR_LEN, true },
        { "permanent", RTM_NEWNEIGH, AF_INET6, 7, NUD_PERMANENT, 0,
          "2001:db8:1::1", &mac, ETH_ADDR_LEN, true },
        { "incomplete", RTM_NEWNEIGH, AF_INET6, 7, NUD_INCOMPLETE, 0,
          "2001:db8:1::1", &mac, ETH_ADDR_LEN, false },
        { "failed", RTM_NEWNEIGH, AF_INET6, 7, NUD_FAILED, 0,
          "2001:db8:1::1", NULL, 0, false },
        { "noarp", RTM_NEWNEIGH, AF_INET6, 7, NUD_NOARP, 0,
          "2001:db8:1::1", &mac, ETH_ADDR_LEN, false },
        { "proxy", RTM_NEWNEIGH, AF_INET6, 7, NUD_PERMANENT, NTF_PROXY,
          "2001:db8:1::1", &mac, ETH_ADDR_LEN, false },
        { "another device", RTM_NEWNEIGH, AF_INET6, 8, NUD_REACHABLE, 0,
          "2001:db8:1::1", &mac, ETH_ADDR_LEN, false },
        { "another address", RTM_NEWNEIGH, AF_INET6, 7, NUD_REACHABLE, 0,
          "2001:db8:1::2", &mac, ETH_ADDR_LEN, false },
        { "IPv4", RTM_NEWNEIGH, AF_INET, 7, NUD_REACHABLE, 0,
          "192.168.1.1", &mac, ETH_ADDR_LEN, false },
        { "a deletion", RTM_DELNEIGH, AF_INET6, 7, NUD_REACHABLE, 0,
          "2001:db8:1::1", &mac, ETH_ADDR_LEN, false },
        { "no link-layer address", RTM_NEWNEIGH, AF_INET6, 7, NUD_STALE, 0,
          "2001:db8:1::1", NULL, 0, false },
        { "a short link-layer address", RTM_NEWNEIGH, AF_INET6, 7,
          NUD_STALE, 0, "2001:db8:1::1", &mac, 4, false },
        { "a zero MAC", RTM_NEWNEIGH, AF_INET6, 7, NUD_PERMANENT, 0,
          "2001:db8:1::1", &zero, ETH_ADDR_LEN, false },
        { "a multicast MAC", RTM_NEWNEIGH, AF_INET6, 7, NUD_PERMANENT, 0,
          "2001:db8:1::1", &mcast, ETH_ADDR_LEN, false },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct ofpbuf msg;
        struct eth_addr got = eth_addr_zero;
        rtnl_neigh_msg(&msg, cases[i].type, cases[i].family,
                       cases[i].ifindex, cases[i].state, cases[i].flags,
                       cases[i].ip, cases[i].lladdr, cases[i].lladdr_len);
        bool usable = neighbor_parse_rtnl(&msg, 7, &ip, &got);
        CHECK(usable == cases[i].usable, "%s entry: %s, expected %s",
              cases[i].what, usable ? "usable" : "not usable",
              cases[i].usable ? "usable" : "not usable");
        if (usable && cases[i].usable) {
            CHECK(eth_addr_equals(got, mac), "%s entry: MAC "ETH_ADDR_FMT,
                  cases[i].what, ETH_ADDR_ARGS(got));
        }
        ofpbuf_uninit(&msg);
    }
}

static void
test_configure_flushes(void)
{
    struct ovs_list replies;

    neighbor_setup("");
    resolve(GATEWAY_IP, &replies);
    expect_arp_request(&replies, GATEWAY_IP);
    arp_reply(GATEWAY_IP, GATEWAY_MAC);
    resolve(HOST_IP, &replies);
    expect_arp_request(&replies, HOST_IP);

    /* The same configuration, or another kernel device, keeps the table. */
    struct neighbor_config cfg = {
        .node_ip = NODE_IP,
        .mac = BREX_MAC,
        .out_port = u16_to_ofp(PATCH_PORT),
        .kernel_dev = "br-ex",
    };
    uint64_t seqno = neighbor_seqno(&nt);
    neighbor_configure(&nt, &cfg);
    cfg.kernel_dev = "br-ex2";
    neighbor_configure(&nt, &cfg);
    check_neighbors(&(struct test_neighbor) { GATEWAY_IP, GATEWAY_MAC }, 1);
    CHECK_EQ("seqno after the same configuration", seqno, neighbor_seqno(&nt));

    /* A new port flushes it; requests go to the new port. */
    cfg.out_port = u16_to_ofp(PATCH_PORT + 1);
    neighbor_configure(&nt, &cfg);
    check_no_neighbors();
    check_format("");
    CHECK(neighbor_seqno(&nt) != seqno, "seqno unchanged by a flush");
    expect_next_run(LLONG_MAX);
    resolve(GATEWAY_IP, &replies);
    expect_arp_request_on(&replies, GATEWAY_IP, OFP15_VERSION,
                          u16_to_ofp(PATCH_PORT + 1));
    arp_reply(GATEWAY_IP, GATEWAY_MAC);

    /* So do a new MAC and a new node IP. */
    cfg.mac = GATEWAY_MAC2;
    neighbor_configure(&nt, &cfg);
    check_no_neighbors();
    resolve(GATEWAY_IP, &replies);
    free_replies(&replies);
    arp_reply(GATEWAY_IP, GATEWAY_MAC);
    check_neighbors(&(struct test_neighbor) { GATEWAY_IP, GATEWAY_MAC }, 1);
    cfg.node_ip = htonl(ntohl(NODE_IP) + 1);
    neighbor_configure(&nt, &cfg);
    check_no_neighbors();
    neighbor_destroy(&nt);
}

static void
test_table_full(void)
{
    struct ovs_list msgs;

    neighbor_setup("");
    ovs_list_init(&msgs);
    for (uint32_t i = 0; i < NEIGHBOR_MAX_ENTRIES; i++) {
        struct in6_addr ip;
        in6_addr_set_mapped_ipv4(&ip, htonl(0x0a000001 + i));
        CHECK(neighbor_resolve(&nt, &ip, OFP15_VERSION, &msgs),
              "cannot add neighbor %"PRIu32, i);
    }
    CHECK_EQ("requests", NEIGHBOR_MAX_ENTRIES, ovs_list_size(&msgs));
    free_replies(&msgs);

    /* Full: a new next hop is ignored, a known one still learns. */
    struct ovs_list replies;
    resolve(GATEWAY_IP, &replies);
    expect_no_reply(&replies, "a miss when the table is full");
    arp_reply(htonl(0x0a000001), GATEWAY_MAC);
    check_neighbors(&(struct test_neighbor) { htonl(0x0a000001),
                                               GATEWAY_MAC }, 1);
    check_neighbor_stats(2, 0, 1, 1);

    /* Once the incomplete ones are given up, there is room again. */
    run_timers_at(1000, &msgs);
    CHECK_EQ("retries", NEIGHBOR_MAX_ENTRIES - 1, ovs_list_size(&msgs));
    free_replies(&msgs);
    run_timers_at(2000, &msgs);
    free_replies(&msgs);
    expect_quiet_at(3000);
    resolve(GATEWAY_IP, &replies);
    expect_arp_request(&replies, GATEWAY_IP);
    neighbor_destroy(&nt);
}

/* Returns the OpenFlow 1.5 encoding of 'ofpacts'.  The caller frees it. */
static struct ofpbuf *
actions_to_wire(const struct ofpbuf *ofpacts)
{
    struct ofpbuf *wire = ofpbuf_new(64);

    ofpacts_put_openflow_actions(ofpacts->data, ofpacts->size, wire,
                                 OFP15_VERSION);
    return wire;
}

static void
test_controller_action(void)
{
    /* The same action is the same bytes, whatever the buffer held before,
     * also when the buffer has to grow while the action is put. */
    uint64_t stub_a[256 / 8], stub_b[16 / 8];
    struct ofpbuf a, b;

    memset(stub_a, 0xa5, sizeof stub_a);
    memset(stub_b, 0x5a, sizeof stub_b);
    ofpbuf_use_stub(&a, stub_a, sizeof stub_a);
    ofpbuf_use_stub(&b, stub_b, sizeof stub_b);
    flows_put_controller(&a, PINCTRL_OP_REJECT);
    flows_put_controller(&b, PINCTRL_OP_REJECT);
    CHECK(a.size == b.size && !memcmp(a.data, b.data, a.size),
          "the same controller action differs in its bytes");

    /* It is what operators see and write. */
    struct ds s = DS_EMPTY_INITIALIZER;
    struct ofpact_format_params fp = { .s = &s };
    ofpacts_format(a.data, a.size, &fp);
    CHECK(!strcmp(ds_cstr(&s), "controller(userdata=01,meter_id=1)"),
          "expected \"controller(userdata=01,meter_id=1)\", got \"%s\"",
          ds_cstr(&s));
    ds_destroy(&s);

    uint64_t parsed_stub[256 / 8];
    struct ofpbuf parsed = OFPBUF_STUB_INITIALIZER(parsed_stub);
    enum ofputil_protocol usable = OFPUTIL_P_ANY;
    struct ofpact_parse_params pp = {
        .ofpacts = &parsed,
        .usable_protocols = &usable,
    };
    char *error = ofpacts_parse_actions(
        "controller(userdata=01,meter_id=1)", &pp);
    CHECK(!error, "cannot parse: %s", error);
    free(error);

    struct ofpbuf *wire_a = actions_to_wire(&a);
    struct ofpbuf *wire_parsed = actions_to_wire(&parsed);
    CHECK(wire_a->size == wire_parsed->size
          && !memcmp(wire_a->data, wire_parsed->data, wire_a->size),
          "the action differs on the wire from "
          "controller(userdata=01,meter_id=1)");

    ofpbuf_delete(wire_a);
    ofpbuf_delete(wire_parsed);
    ofpbuf_uninit(&parsed);
    ofpbuf_uninit(&a);
    ofpbuf_uninit(&b);

    CHECK(!strcmp(pinctrl_opcode_name(PINCTRL_OP_REJECT), "reject"),
          "opcode name");
    CHECK(!strcmp(pinctrl_opcode_name(PINCTRL_OP_RESOLVE), "resolve"),
          "opcode name");
    CHECK(!strcmp(pinctrl_opcode_name(PINCTRL_OP_NEIGHBOR), "neighbor"),
          "opcode name");

    /* The neighbor opcodes' userdata is their number. */
    uint8_t userdata[8];
    size_t userdata_len;
    opcode_userdata(PINCTRL_OP_RESOLVE, userdata, &userdata_len);
    CHECK(userdata_len == 1 && userdata[0] == 2, "RESOLVE userdata");
    opcode_userdata(PINCTRL_OP_NEIGHBOR, userdata, &userdata_len);
    CHECK(userdata_len == 1 && userdata[0] == 3, "NEIGHBOR userdata");
    CHECK(!pinctrl_opcode_name(0), "opcode 0 has a name");
}

/* The node's IPv6 address on br-ex, 2001:db8:1::a, and an IPv6 next hop
 * on its subnet, 2001:db8:1::1. */
static struct in6_addr
node_ip6(void)
{
    struct in6_addr a;
    ovs_assert(ipv6_parse("2001:db8:1::a", &a));
    return a;
}

static struct in6_addr
gateway_ip6(void)
{
    struct in6_addr a;
    ovs_assert(ipv6_parse("2001:db8:1::1", &a));
    return a;
}

/* Hands pinctrl a RESOLVE packet-in of a pod's IPv6 TCP SYN to the server
 * with 'next_hop' in the IPv6 next hop field. */
static size_t
resolve6(const struct in6_addr *next_hop, struct ovs_list *replies)
{
    struct in6_addr client = client_ip6(), server;
    ovs_assert(ipv6_parse("2001:db8:9::9", &server));
    uint8_t tcp[TCP_HEADER_LEN];
    compose_tcp(tcp, sizeof tcp, TCP_SYN, 1000, 0, 0, 0);
    uint8_t buf[IPV6_HEADER_LEN + TCP_HEADER_LEN];
    size_t len = compose_ip6_packet(buf, sizeof buf, &client, &server,
                                    IPPROTO_TCP, tcp, sizeof tcp,
                                    offsetof(struct tcp_header, tcp_csum));
    struct request req = request_ipv6(buf, len);
    struct match metadata;
    match_init_catchall(&metadata);
    kovs_match_ip6_field(&metadata, KOVS_NEXTHOP6_FIELD, next_hop);
    return resolve_packet_in(&req, &metadata, OFP15_VERSION, replies);
}

/* Expects 'replies' to be one Neighbor Solicitation for 'target' to its
 * solicited-node multicast address, from br-ex's MAC and the node's IPv6
 * address, with br-ex's MAC as source link-layer address, out to br-ex. */
static void
expect_nd_ns(struct ovs_list *replies, const struct in6_addr *target)
{
    struct in6_addr src = node_ip6(), sn;
    struct eth_addr sn_mac;
    struct reply r;

    in6_addr_solicited_node(&sn, target);
    ipv6_multicast_to_ethernet(&sn_mac, &sn);
    if (!expect_one_reply(replies, OFP15_VERSION, u16_to_ofp(PATCH_PORT),
                          &r)) {
        return;
    }
    const struct flow *f = &r.flow;
    CHECK_MAC("NS eth_dst", sn_mac, f->dl_dst);
    CHECK_MAC("NS eth_src", BREX_MAC, f->dl_src);
    CHECK_EQ("NS dl_type", ETH_TYPE_IPV6, ntohs(f->dl_type));
    CHECK(ipv6_addr_equals(&f->ipv6_src, &src), "NS not from the node");
    CHECK(ipv6_addr_equals(&f->ipv6_dst, &sn), "NS not to the "
          "solicited-node address");
    CHECK_EQ("NS hop limit", 255, f->nw_ttl);
    CHECK_EQ("NS type", ND_NEIGHBOR_SOLICIT, ntohs(f->tp_src));
    CHECK(ipv6_addr_equals(&f->nd_target, target), "NS for another "
          "target");
    CHECK_MAC("NS source link-layer address", BREX_MAC, f->arp_sha);
    reply_uninit(&r);
}

/* Hands pinctrl a solicited Neighbor Advertisement for 'ip', sent from
 * 'mac' to the node's IPv6 address with 'tll' as its target link-layer
 * address, and checks that pinctrl does not answer it. */
static void
nd_na(const struct in6_addr *ip, struct eth_addr mac, struct eth_addr tll)
{
    struct in6_addr dst = node_ip6();
    struct dp_packet *packet = dp_packet_new(0);
    compose_nd_na(packet, mac, BREX_MAC, ip, &dst,
                  htonl(ND_RSO_SOLICITED | ND_RSO_OVERRIDE));
    if (!eth_addr_equals(tll, mac)) {
        packet_set_nd(packet, ip, eth_addr_zero, tll);
    }

    struct ovs_list replies;
    neighbor_packet_in(packet, &replies);
    expect_no_reply(&replies, "Neighbor Advertisement");
}

/* An IPv6 next hop is resolved with a Neighbor Solicitation, the answering
 * advertisement resolves it, and the table lists it after the IPv4
 * ones. */
static void
test_resolve_ipv6(void)
{
    struct ovs_list replies;
    struct in6_addr gw6 = gateway_ip6(), node6 = node_ip6();

    neighbor_setup("");
    /* Without an IPv6 address, IPv6 next hops are not resolved. */
    resolve6(&gw6, &replies);
    expect_no_reply(&replies, "an IPv6 next hop without an IPv6 address");

    struct neighbor_config cfg = {
        .node_ip = NODE_IP,
        .node_ip6 = node6,
        .mac = BREX_MAC,
        .out_port = u16_to_ofp(PATCH_PORT),
        .kernel_dev = "br-ex",
    };
    neighbor_configure(&nt, &cfg);
    resolve6(&gw6, &replies);
    expect_nd_ns(&replies, &gw6);
    resolve6(&node6, &replies);
    expect_no_reply(&replies, "the node's own IPv6 address");
    check_no_neighbors();

    /* The advertisement's target link-layer address says where the
     * target is, whatever the frame's source. */
    uint64_t seqno = neighbor_seqno(&nt);
    nd_na(&gw6, GATEWAY_MAC, GATEWAY_MAC);
    CHECK(neighbor_seqno(&nt) != seqno, "seqno unchanged by a resolution");
    nd_na(&gw6, GATEWAY_MAC, GATEWAY_MAC2);
    resolve(GATEWAY_IP, &replies);
    expect_arp_request(&replies, GATEWAY_IP);
    arp_reply(GATEWAY_IP, GATEWAY_MAC);

    struct flows_neighbor *got;
    size_t n = neighbor_get(&nt, &got);
    CHECK_EQ("resolved neighbors", 2, n);
    if (n == 2) {
        CHECK(IN6_IS_ADDR_V4MAPPED(&got[0].ip)
              && in6_addr_get_mapped_ipv4(&got[0].ip) == GATEWAY_IP,
              "the IPv4 neighbor is not first");
        CHECK(ipv6_addr_equals(&got[1].ip, &gw6), "the IPv6 neighbor is "
              "not second");
        CHECK_MAC("IPv6 neighbor's MAC", GATEWAY_MAC2, got[1].mac);
    }
    free(got);
    check_format("192.168.1.1     52:54:00:00:01:01 resolved   age 0.000s\n"
                 "2001:db8:1::1   52:54:00:00:01:fe resolved   age 0.000s\n");

    /* An unsolicited advertisement adds nothing. */
    struct in6_addr other;
    ovs_assert(ipv6_parse("2001:db8:1::77", &other));
    nd_na(&other, HOST_MAC, HOST_MAC);
    n = neighbor_get(&nt, &got);
    CHECK_EQ("neighbors after an unsolicited advertisement", 2, n);
    free(got);
    neighbor_destroy(&nt);
}

/* TOO_BIG. */

/* The tunnel port that OUTPUT was to send the packet to, in OUT_PORT, and
 * the MTU of the tunnel. */
#define TUNNEL_PORT 3
#define TUNNEL_MTU 1450

/* Hands pinctrl a TOO_BIG packet-in of 'packet', received on IN_PORT, as
 * OUTPUT's flow sends it with 'out_port' in OUT_PORT and 'mtu' in the
 * userdata.  Returns the number of replies, which it moves to
 * 'replies'. */
static size_t
too_big_packet_in(const struct dp_packet *packet, uint32_t out_port,
                  uint16_t mtu, struct ovs_list *replies)
{
    uint64_t stub[64 / 8];
    struct ofpbuf ofpacts = OFPBUF_STUB_INITIALIZER(stub);
    struct pinctrl_too_big_args args = { .mtu = htons(mtu) };
    flows_put_controller_args(&ofpacts, PINCTRL_OP_TOO_BIG, &args,
                              sizeof args);
    const struct ofpact_controller *oc = ofpact_get_CONTROLLER(ofpacts.data);

    struct match metadata;
    match_init_catchall(&metadata);
    match_set_in_port(&metadata, u16_to_ofp(IN_PORT));
    kovs_match_field(&metadata, KOVS_F_FLAG_PKT_LARGER, 1);
    if (out_port) {
        kovs_match_field(&metadata, KOVS_F_OUT_PORT, out_port);
    }
    struct ofpbuf *msg = encode_packet_in__(
        dp_packet_data(packet), dp_packet_size(packet), oc->userdata,
        oc->userdata_len, &metadata, KOVS_T_OUTPUT, OFP15_VERSION,
        OFPUTIL_PACKET_IN_NXT2);
    ofpbuf_uninit(&ofpacts);
    return run_pinctrl(msg, OFP15_VERSION, replies);
}

/* Expects 'replies' to hold exactly one message, a packet-out that sends
 * its packet into br-int's pipeline as if from the tunnel: in_port
 * TUNNEL_PORT, actions "set_field:1->tun_id,resubmit(,0)", for ICMPv6
 * ('ipv6') after stashing the MTU 1450 (0x5aa) for OUTPUT to restore.
 * Decodes it into 'r' (the caller frees it with reply_uninit()) and
 * returns true, or reports the failure and returns false. */
static bool
expect_reply_from_tunnel(struct ovs_list *replies, bool ipv6, struct reply *r)
{
    size_t n = ovs_list_size(replies);
    CHECK_EQ("number of replies", 1, n);
    if (n != 1) {
        free_replies(replies);
        return false;
    }
    struct ofpbuf *msg = CONTAINER_OF(ovs_list_pop_front(replies),
                                      struct ofpbuf, list_node);
    char *text = ofp_to_string(msg->data, msg->size, NULL, NULL, 2);
    printf("reply: %s\n", text);

    memset(r, 0, sizeof *r);
    r->msg = msg;
    ofpbuf_use_stub(&r->ofpacts, r->ofpacts_stub, sizeof r->ofpacts_stub);
    enum ofperr error = ofputil_decode_packet_out(&r->po, msg->data, NULL,
                                                  &r->ofpacts);
    if (error) {
        CHECK(!error, "cannot decode packet-out: %s",
              ofperr_to_string(error));
        free(text);
        ofpbuf_uninit(&r->ofpacts);
        ofpbuf_delete(msg);
        return false;
    }
    CHECK_EQ("packet-out in_port (the tunnel)", TUNNEL_PORT,
             ofp_to_u16(r->po.flow_metadata.flow.in_port.ofp_port));
    struct ds actions = DS_EMPTY_INITIALIZER;
    struct ofpact_format_params fp = { .s = &actions };
    ofpacts_format(r->po.ofpacts, r->po.ofpacts_len, &fp);
    const char *expected = (ipv6
                            ? "set_field:0x5aa->reg6,"
                              "set_field:0x800/0x800->reg0,"
                              "set_field:0x1->tun_id,resubmit(,0)"
                            : "set_field:0x1->tun_id,resubmit(,0)");
    CHECK(!strcmp(ds_cstr(&actions), expected),
          "packet-out actions: expected \"%s\", got \"%s\"",
          expected, ds_cstr(&actions));
    ds_destroy(&actions);
    free(text);

    dp_packet_use_const(&r->packet, r->po.packet, r->po.packet_len);
    flow_extract(&r->packet, &r->flow);
    return true;
}

/* Checks pinctrl's TOO_BIG statistics. */
static void
check_too_big_stats(uint64_t n_too_big, uint64_t n_dropped,
                    uint64_t n_ignored)
{
    struct pinctrl_stats s;

    pinctrl_get_stats(&s);
    CHECK_EQ("too big answered", n_too_big, s.n_too_big);
    CHECK_EQ("too big dropped without DF", n_dropped, s.n_too_big_dropped);
    CHECK_EQ("ignored packet-ins", n_ignored, s.n_ignored);
}

/* Composes a 'len'-byte IPv4 TCP segment (an ACK with data) from the
 * client to the VIP, with 'frag_off' in its IP header. */
static struct dp_packet *
compose_big_ipv4(size_t len, ovs_be16 frag_off)
{
    static uint8_t tcp[2048];
    size_t l4_len = len - IP_HEADER_LEN;
    ovs_assert(l4_len <= sizeof tcp);
    compose_tcp(tcp, sizeof tcp, TCP_ACK, 1000, 2000, 0,
                l4_len - TCP_HEADER_LEN);
    struct request req = request_ipv4(IPPROTO_TCP, tcp, l4_len);
    req.frag_off = frag_off;
    return compose_request(&req);
}

/* A 1500-byte IPv4 segment with DF set, too large for a 1450-byte tunnel,
 * gets ICMP "fragmentation needed" with next-hop MTU 1450, from its
 * destination to its sender, quoting as much of it as fits in 576 bytes,
 * and the answer enters the pipeline as if from the tunnel. */
static void
test_too_big_ipv4(void)
{
    struct dp_packet *packet = compose_big_ipv4(1500,
                                                htons(IP_DONT_FRAGMENT));
    struct ovs_list replies;
    struct reply r;
    struct flow flow;

    flow_extract(packet, &flow);    /* Finds the request's IP header. */
    too_big_packet_in(packet, TUNNEL_PORT, TUNNEL_MTU, &replies);
    if (expect_reply_from_tunnel(&replies, false, &r)) {
        size_t quote_len = 576 - IP_HEADER_LEN - ICMP_HEADER_LEN;
        check_reply_ipv4(&r, 0, IPPROTO_ICMP, ICMP_HEADER_LEN + quote_len);
        const struct icmp_header *icmp = dp_packet_l4(&r.packet);
        size_t l4_size = dp_packet_l4_size(&r.packet);
        if (icmp && l4_size == ICMP_HEADER_LEN + quote_len) {
            CHECK_EQ("icmp type (destination unreachable)", 3,
                     icmp->icmp_type);
            CHECK_EQ("icmp code (fragmentation needed)", 4,
                     icmp->icmp_code);
            CHECK_EQ("icmp unused field", 0,
                     ntohs(icmp->icmp_fields.frag.empty));
            CHECK_EQ("icmp next-hop MTU", TUNNEL_MTU,
                     ntohs(icmp->icmp_fields.frag.mtu));
            CHECK_EQ("icmp checksum (0 if valid)", 0, csum(icmp, l4_size));
            CHECK(!memcmp(icmp + 1, dp_packet_l3(packet), quote_len),
                  "the ICMP message does not quote the segment");
        } else {
            CHECK(false, "reply's ICMP message has %"PRIuSIZE" bytes, "
                  "expected %"PRIuSIZE, l4_size, ICMP_HEADER_LEN + quote_len);
        }
        reply_uninit(&r);
    }
    dp_packet_delete(packet);

    /* --mtu's value is what the answer names. */
    packet = compose_big_ipv4(1300, htons(IP_DONT_FRAGMENT));
    flow_extract(packet, &flow);
    too_big_packet_in(packet, TUNNEL_PORT, 1280, &replies);
    if (expect_reply_from_tunnel(&replies, false, &r)) {
        const struct icmp_header *icmp = dp_packet_l4(&r.packet);
        CHECK(icmp && ntohs(icmp->icmp_fields.frag.mtu) == 1280,
              "the answer does not name MTU 1280");
        reply_uninit(&r);
    }
    dp_packet_delete(packet);
    check_too_big_stats(2, 0, 0);
}

/* A 1500-byte IPv6 packet gets ICMPv6 "packet too big" with MTU 1450,
 * quoting as much of it as fits in 1280 bytes. */
static void
test_too_big_ipv6(void)
{
    struct in6_addr client = client_ip6(), vip = vip6();
    static uint8_t udp[UDP_HEADER_LEN + 1452];
    size_t udp_len = compose_udp(udp, sizeof udp, 1452);
    static uint8_t buf[IPV6_HEADER_LEN + sizeof udp];
    size_t len = compose_ip6_packet(buf, sizeof buf, &client, &vip,
                                    IPPROTO_UDP, udp, udp_len,
                                    offsetof(struct udp_header, udp_csum));
    ovs_assert(len == 1500);
    struct request req = request_ipv6(buf, len);
    struct dp_packet *packet = compose_request(&req);
    struct ovs_list replies;
    struct reply r;

    too_big_packet_in(packet, TUNNEL_PORT, TUNNEL_MTU, &replies);
    if (expect_reply_from_tunnel(&replies, true, &r)) {
        size_t quote_len = 1280 - IPV6_HEADER_LEN - ICMP_HEADER_LEN;
        check_reply_ipv6(&r, IPPROTO_ICMPV6, ICMP_HEADER_LEN + quote_len);
        const struct icmp6_data_header *icmp6 = dp_packet_l4(&r.packet);
        if (icmp6 && (dp_packet_l4_size(&r.packet)
                      == ICMP_HEADER_LEN + quote_len)) {
            CHECK_EQ("icmpv6 type (packet too big)", 2,
                     icmp6->icmp6_base.icmp6_type);
            CHECK_EQ("icmpv6 code", 0, icmp6->icmp6_base.icmp6_code);
            CHECK_EQ("icmpv6 MTU", TUNNEL_MTU,
                     ntohl(get_16aligned_be32(&icmp6->icmp6_data.be32[0])));
            CHECK(!memcmp(icmp6 + 1, buf, quote_len),
                  "the ICMPv6 message does not quote the packet");
        } else {
            CHECK(false, "reply's ICMPv6 message has %"PRIuSIZE" bytes, "
                  "expected %"PRIuSIZE, dp_packet_l4_size(&r.packet),
                  ICMP_HEADER_LEN + quote_len);
        }
        reply_uninit(&r);
    }
    dp_packet_delete(packet);
    check_too_big_stats(1, 0, 0);
}

/* Hands 'packet' to TOO_BIG, checks that it gets no answer, and frees
 * it. */
static void
check_too_big_ignored(struct dp_packet *packet, uint32_t out_port,
                      const char *what)
{
    struct ovs_list replies;

    too_big_packet_in(packet, out_port, TUNNEL_MTU, &replies);
    expect_no_reply(&replies, what);
    dp_packet_delete(packet);
}

/* What TOO_BIG never answers: IPv4 without DF (dropped, counted), a
 * packet no larger than the MTU, a later fragment, an ICMP error, and a
 * packet-in without the tunnel port. */
static void
test_too_big_not_answered(void)
{
    check_too_big_ignored(compose_big_ipv4(1500, 0), TUNNEL_PORT,
                          "IPv4 without DF");
    check_too_big_ignored(compose_big_ipv4(TUNNEL_MTU,
                                           htons(IP_DONT_FRAGMENT)),
                          TUNNEL_PORT, "a packet of the MTU");
    check_too_big_ignored(compose_big_ipv4(1500, htons(IP_DONT_FRAGMENT)),
                          0, "no OUT_PORT");
    check_too_big_ignored(compose_big_ipv4(1500, htons(185)), TUNNEL_PORT,
                          "a later fragment");

    /* An ICMP error (fragmentation needed itself, say) is never answered;
     * an echo request is. */
    static uint8_t icmp[1480];
    struct icmp_header *ih = (struct icmp_header *) icmp;
    ih->icmp_type = ICMP4_DST_UNREACH;
    ih->icmp_code = 4;
    ih->icmp_csum = csum(icmp, sizeof icmp);
    struct request req = request_ipv4(IPPROTO_ICMP, icmp, sizeof icmp);
    req.frag_off = htons(IP_DONT_FRAGMENT);
    check_too_big_ignored(compose_request(&req), TUNNEL_PORT,
                          "an ICMP error");
    check_too_big_stats(0, 1, 5);

    ih->icmp_type = ICMP4_ECHO_REQUEST;
    ih->icmp_code = 0;
    ih->icmp_csum = 0;
    ih->icmp_csum = csum(icmp, sizeof icmp);
    struct dp_packet *packet = compose_request(&req);
    struct ovs_list replies;
    struct reply r;
    too_big_packet_in(packet, TUNNEL_PORT, TUNNEL_MTU, &replies);
    if (expect_reply_from_tunnel(&replies, false, &r)) {
        reply_uninit(&r);
    }
    dp_packet_delete(packet);
    check_too_big_stats(1, 1, 5);
}

static const struct unit_test tests[] = {
    { "tcp-syn-refused", test_tcp_syn_refused },
    { "tcp-sequence-space", test_tcp_sequence_space },
    { "tcp-rst-not-answered", test_tcp_rst_not_answered },
    { "udp-port-unreachable", test_udp_port_unreachable },
    { "udp-empty-datagram", test_udp_empty_datagram },
    { "sctp-port-unreachable", test_sctp_port_unreachable },
    { "other-protocol-unreachable", test_other_protocol_unreachable },
    { "ip-options-quoted", test_ip_options_quoted },
    { "icmp-not-answered", test_icmp_not_answered },
    { "ipv6-not-answered", test_ipv6_not_answered },
    { "resolve-ipv6", test_resolve_ipv6 },
    { "ipv6-tcp-syn-refused", test_ipv6_tcp_syn_refused },
    { "ipv6-udp-port-unreachable", test_ipv6_udp_port_unreachable },
    { "broadcast-not-answered", test_broadcast_not_answered },
    { "fragments", test_fragments },
    { "malformed-not-answered", test_malformed_not_answered },
    { "ethernet-padding", test_ethernet_padding },
    { "vlan-kept", test_vlan_kept },
    { "in-port", test_in_port },
    { "openflow-versions", test_openflow_versions },
    { "opcodes", test_opcodes },
    { "truncated-packet-in", test_truncated_packet_in },
    { "packets-never-crash", test_packets_never_crash },
    { "controller-action", test_controller_action },
    { "resolve-sends-arp-request", test_resolve_sends_arp_request },
    { "resolve-rate-limited", test_resolve_rate_limited },
    { "arp-reply-resolves", test_arp_reply_resolves },
    { "unsolicited-arp-ignored", test_unsolicited_arp_ignored },
    { "resolve-ignored-addresses", test_resolve_ignored_addresses },
    { "resolve-retries-give-up", test_resolve_retries_give_up },
    { "refresh-and-expiry", test_refresh_and_expiry },
    { "kernel-first-guess", test_kernel_first_guess },
    { "kernel-ipv6-neighbor", test_kernel_ipv6_neighbor },
    { "configure-flushes", test_configure_flushes },
    { "table-full", test_table_full },
    { "too-big-ipv4", test_too_big_ipv4 },
    { "too-big-ipv6", test_too_big_ipv6 },
    { "too-big-not-answered", test_too_big_not_answered },
};

int
main(int argc, char *argv[])
{
    return unit_test_main(argc, argv, tests, ARRAY_SIZE(tests));
}
