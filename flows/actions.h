/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#ifndef FLOWS_ACTIONS_H
#define FLOWS_ACTIONS_H 1

/* Small builders for the actions the pipeline stages use, on top of the
 * OVS library's ofpact encoders.  They keep the stages readable: a stage
 * says "load the port kind, go to SPOOFGUARD", not how an ofpact is laid
 * out. */

#include <stdint.h>
#include "openvswitch/meta-flow.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofpbuf.h"
#include "flow.h"
#include "flows/pipeline.h"
#include "openvswitch/types.h"
#include "packets.h"

/* goto_table:TABLE. */
static inline void
flows_put_goto(struct ofpbuf *ofpacts, uint8_t table)
{
    ofpact_put_GOTO_TABLE(ofpacts)->table_id = table;
}

/* set_field:VALUE/MASK->FIELD ('mask' NULL for all ones).  Unlike the
 * library's ofpact_put_set_field(), never leaves padding bytes
 * uninitialized, so that the same actions are always the same bytes: that
 * is how ofctrl tells that a recomputed flow did not change. */
static inline void
flows_put_set_field(struct ofpbuf *ofpacts, const struct mf_field *mf,
                    const union mf_value *value, const union mf_value *mask)
{
    struct ofpact_set_field *sf = ofpact_put_set_field(ofpacts, mf, NULL,
                                                       NULL);
    memcpy(sf->value, value, mf->n_bytes);
    if (mask) {
        memcpy(ofpact_set_field_mask(sf), mask, mf->n_bytes);
    } else {
        memset(ofpact_set_field_mask(sf), 0xff, mf->n_bytes);
    }
}

/* set_field:VALUE->FIELD, for a field of at most 64 bits. */
static inline void
flows_put_load(struct ofpbuf *ofpacts, enum mf_field_id field, uint32_t value)
{
    const struct mf_field *mf = mf_from_id(field);
    union mf_value v;

    memset(&v, 0, sizeof v);
    switch (mf->n_bytes) {
    case 1:
        v.u8 = value;
        break;
    case 2:
        v.be16 = htons(value);
        break;
    case 4:
        v.be32 = htonl(value);
        break;
    case 8:
        v.be64 = htonll(value);
        break;
    default:
        OVS_NOT_REACHED();
    }
    flows_put_set_field(ofpacts, mf, &v, NULL);
}

/* set_field:VALUE->F, for the pipeline field 'f' (flows/pipeline.h): only
 * the field's bits of its register change. */
static inline void
flows_put_load_field(struct ofpbuf *ofpacts, enum kovs_field f,
                     uint32_t value)
{
    struct kovs_field_def def = kovs_field_def(f);
    const struct mf_field *mf = mf_from_id(def.id);
    uint32_t mask = kovs_field_mask(f);
    union mf_value v, m;

    ovs_assert(mf->n_bytes == 4 && !(value & ~(mask >> def.ofs)));
    memset(&v, 0, sizeof v);
    memset(&m, 0, sizeof m);
    v.be32 = htonl(value << def.ofs);
    m.be32 = htonl(mask);
    flows_put_set_field(ofpacts, mf, &v, &m);
}

/* set_field:MAC->FIELD (eth_src, eth_dst, arp_sha, arp_tha). */
static inline void
flows_put_set_mac(struct ofpbuf *ofpacts, enum mf_field_id field,
                  struct eth_addr mac)
{
    union mf_value v;

    memset(&v, 0, sizeof v);
    v.mac = mac;
    flows_put_set_field(ofpacts, mf_from_id(field), &v, NULL);
}

/* Returns the whole of field 'id' as a subfield. */
static inline struct mf_subfield
flows_whole_field(enum mf_field_id id)
{
    const struct mf_field *mf = mf_from_id(id);
    return (struct mf_subfield) { .field = mf, .ofs = 0,
                                  .n_bits = mf->n_bits };
}

/* Returns the pipeline field 'f' (flows/pipeline.h) as a subfield. */
static inline struct mf_subfield
flows_field(enum kovs_field f)
{
    struct mf_subfield sf;
    kovs_field_subfield(f, &sf);
    return sf;
}

/* move:SRC->DST, subfields of equal width. */
static inline void
flows_put_move_subfield(struct ofpbuf *ofpacts, struct mf_subfield src,
                        struct mf_subfield dst)
{
    struct ofpact_reg_move *move = ofpact_put_REG_MOVE(ofpacts);

    ovs_assert(src.n_bits == dst.n_bits);
    move->src = src;
    move->dst = dst;
}

/* move:SRC[]->DST[], whole fields of equal width. */
static inline void
flows_put_move(struct ofpbuf *ofpacts, enum mf_field_id src,
               enum mf_field_id dst)
{
    flows_put_move_subfield(ofpacts, flows_whole_field(src),
                            flows_whole_field(dst));
}

/* output:PORT. */
static inline void
flows_put_output(struct ofpbuf *ofpacts, ofp_port_t port)
{
    struct ofpact_output *output = ofpact_put_OUTPUT(ofpacts);

    output->port = port;
    output->max_len = 0;
}

/* output:F, the port number held in the pipeline field 'f'. */
static inline void
flows_put_output_field(struct ofpbuf *ofpacts, enum kovs_field f)
{
    struct ofpact_output_reg *output = ofpact_put_OUTPUT_REG(ofpacts);

    output->max_len = 0;
    output->src = flows_field(f);
}

/* check_pkt_larger(LEN)->F: sets the one-bit pipeline field 'f' to 1 if
 * the packet, its Ethernet header included, is longer than 'len' bytes,
 * and to 0 otherwise. */
static inline void
flows_put_check_pkt_larger(struct ofpbuf *ofpacts, uint16_t len,
                           enum kovs_field f)
{
    struct ofpact_check_pkt_larger *check
        = ofpact_put_CHECK_PKT_LARGER(ofpacts);

    ovs_assert(kovs_field_def(f).n_bits == 1);
    check->dst = flows_field(f);
    check->pkt_len = len;
}

/* dec_ttl, telling the controller (id 0) when the TTL expires. */
static inline void
flows_put_dec_ttl(struct ofpbuf *ofpacts)
{
    struct ofpact_cnt_ids *ids = ofpact_put_DEC_TTL(ofpacts);
    uint16_t id = 0;

    ofpbuf_put(ofpacts, &id, sizeof id);
    ids = ofpacts->header;
    ids->n_controllers = 1;
    ofpact_finish_DEC_TTL(ofpacts, &ids);
}

/* The actions that turn an ARP request into a reply saying that the
 * requested address is at 'mac', sent back where the request came from.
 * The address is taken from the request itself, so one flow can answer for
 * a whole prefix.  Uses the ARP_SCRATCH field to swap the sender and
 * target addresses. */
static inline void
flows_put_arp_reply(struct ofpbuf *ofpacts, struct eth_addr mac)
{
    const struct mf_subfield scratch = flows_field(KOVS_F_ARP_SCRATCH);

    flows_put_move(ofpacts, MFF_ETH_SRC, MFF_ETH_DST);
    flows_put_set_mac(ofpacts, MFF_ETH_SRC, mac);
    flows_put_load(ofpacts, MFF_ARP_OP, ARP_OP_REPLY);
    flows_put_move(ofpacts, MFF_ARP_SHA, MFF_ARP_THA);
    flows_put_set_mac(ofpacts, MFF_ARP_SHA, mac);
    flows_put_move_subfield(ofpacts, flows_whole_field(MFF_ARP_TPA),
                            scratch);
    flows_put_move(ofpacts, MFF_ARP_SPA, MFF_ARP_TPA);
    flows_put_move_subfield(ofpacts, scratch,
                            flows_whole_field(MFF_ARP_SPA));
    flows_put_output(ofpacts, OFPP_IN_PORT);
}

/* resubmit(,TABLE). */
static inline void
flows_put_resubmit(struct ofpbuf *ofpacts, uint8_t table)
{
    struct ofpact_resubmit *resubmit = ofpact_put_RESUBMIT(ofpacts);

    resubmit->in_port = OFPP_IN_PORT;
    resubmit->table_id = table;
}

/* The Neighbor Advertisement flags: Router, Solicited, Override (RFC 4861,
 * the first bits of the field after the ICMPv6 header, nd_reserved). */
#define FLOWS_ND_FLAG_ROUTER    0x80000000
#define FLOWS_ND_FLAG_SOLICITED 0x40000000
#define FLOWS_ND_FLAG_OVERRIDE  0x20000000

/* The actions that turn a Neighbor Solicitation into the solicited
 * Neighbor Advertisement saying that its target is at 'mac', to be sent
 * back where the solicitation came from: the target becomes the source
 * address and the solicitor the destination, the message type becomes 136
 * with the Solicited and Override flags (and Router if 'router'), and the
 * option that carried the solicitor's link-layer address becomes a target
 * link-layer address option.  The target is taken from the solicitation,
 * so one flow can answer for a whole prefix.
 *
 * The switch accepts setting the target link-layer address only in a flow
 * that matches an advertisement, so these actions end by flagging the
 * packet (FLAG_ND_REPLY) and resubmitting it to ARP, where the pipeline's
 * flow for flagged advertisements (flows_put_nd_na_finish()) copies 'mac',
 * by then the Ethernet source, into the option and sends the packet back
 * out of its in_port.  The switch rewrites the option's type before its
 * address, and fixes the ICMPv6 checksum. */
static inline void
flows_put_nd_na(struct ofpbuf *ofpacts, struct eth_addr mac, bool router)
{
    flows_put_move(ofpacts, MFF_ETH_SRC, MFF_ETH_DST);
    flows_put_set_mac(ofpacts, MFF_ETH_SRC, mac);
    flows_put_move(ofpacts, MFF_IPV6_SRC, MFF_IPV6_DST);
    flows_put_move(ofpacts, MFF_ND_TARGET, MFF_IPV6_SRC);
    flows_put_load(ofpacts, MFF_ICMPV6_TYPE, ND_NEIGHBOR_ADVERT);
    flows_put_load(ofpacts, MFF_ND_RESERVED,
                   (FLOWS_ND_FLAG_SOLICITED | FLOWS_ND_FLAG_OVERRIDE
                    | (router ? FLOWS_ND_FLAG_ROUTER : 0)));
    flows_put_load(ofpacts, MFF_ND_OPTIONS_TYPE, ND_OPT_TARGET_LINKADDR);
    flows_put_load_field(ofpacts, KOVS_F_FLAG_ND_REPLY, 1);
    flows_put_resubmit(ofpacts, KOVS_T_ARP);
}

/* The actions that complete an advertisement flows_put_nd_na() built: its
 * target link-layer address is its Ethernet source, and it goes back out
 * of its in_port. */
static inline void
flows_put_nd_na_finish(struct ofpbuf *ofpacts)
{
    flows_put_move(ofpacts, MFF_ETH_SRC, MFF_ND_TLL);
    flows_put_output(ofpacts, OFPP_IN_PORT);
}

/* group:GROUP_ID. */
static inline void
flows_put_group(struct ofpbuf *ofpacts, uint32_t group_id)
{
    ofpact_put_GROUP(ofpacts)->group_id = group_id;
}

/* Starts a ct action in 'zone' ('commit' for ct(commit)) that continues in
 * 'table' (NX_CT_RECIRC_NONE for none).  Nested actions (nat, exec's
 * set_field) follow; flows_put_ct_end() closes it.  Returns the offset to
 * pass to flows_put_ct_end(). */
static inline size_t
flows_put_ct_start(struct ofpbuf *ofpacts, uint16_t zone, bool commit,
                   uint8_t table)
{
    size_t ofs = ofpacts->size;
    struct ofpact_conntrack *ct = ofpact_put_CT(ofpacts);

    ct->flags = commit ? NX_CT_F_COMMIT : 0;
    ct->zone_imm = zone;
    ct->zone_src.field = NULL;
    ct->alg = 0;
    ct->recirc_table = table;
    return ofs;
}

static inline void
flows_put_ct_end(struct ofpbuf *ofpacts, size_t ofs)
{
    struct ofpact_conntrack *ct = ofpbuf_at_assert(ofpacts, ofs, sizeof *ct);

    ofpacts->header = ct;
    ofpact_finish_CT(ofpacts, &ct);
}

/* nat, inside a ct action: with 'flags' 0, applies the connection's
 * existing NAT (un-NATs replies); with NX_NAT_F_SRC or NX_NAT_F_DST,
 * translates to 'ip' and, if nonzero, 'port'. */
static inline struct ofpact_nat *
flows_put_nat(struct ofpbuf *ofpacts, uint16_t flags, ovs_be32 ip,
              uint16_t port)
{
    struct ofpact_nat *nat = ofpact_put_NAT(ofpacts);

    nat->flags = flags;
    if (flags & (NX_NAT_F_SRC | NX_NAT_F_DST)) {
        nat->range_af = AF_INET;
        nat->range.addr.ipv4.min = ip;
        if (port) {
            nat->range.proto.min = port;
        }
    } else {
        nat->range_af = AF_UNSPEC;
    }
    return nat;
}

/* nat(src=IP6) or nat(dst=[IP6]:PORT), inside a ct action: flows_put_nat()
 * for an IPv6 address ('flags' NX_NAT_F_SRC or NX_NAT_F_DST). */
static inline struct ofpact_nat *
flows_put_nat6(struct ofpbuf *ofpacts, uint16_t flags,
               const struct in6_addr *ip6, uint16_t port)
{
    struct ofpact_nat *nat = ofpact_put_NAT(ofpacts);

    nat->flags = flags;
    nat->range_af = AF_INET6;
    nat->range.addr.ipv6.min = *ip6;
    if (port) {
        nat->range.proto.min = port;
    }
    return nat;
}

/* ct(zone=ZONE,nat,table=TABLE): sends an IP packet through conntrack,
 * un-NATing replies, and continues in TABLE. */
static inline void
flows_put_ct_nat(struct ofpbuf *ofpacts, uint16_t zone, uint8_t table)
{
    size_t ofs = flows_put_ct_start(ofpacts, zone, false, table);
    flows_put_nat(ofpacts, 0, 0, 0);
    flows_put_ct_end(ofpacts, ofs);
}

/* ct(zone=ZONE,table=TABLE): looks an IP packet up in conntrack, changing
 * nothing, and continues in TABLE with its state. */
static inline void
flows_put_ct_lookup(struct ofpbuf *ofpacts, uint16_t zone, uint8_t table)
{
    size_t ofs = flows_put_ct_start(ofpacts, zone, false, table);
    flows_put_ct_end(ofpacts, ofs);
}

/* ct(commit,zone=SNAT,nat(src=IP:MIN-MAX),table=TABLE): masquerades a new
 * connection to the node IP 'ip' (IPv4 mapped for IPv4), with a source
 * port of the SNAT range (pipeline.h), and continues in TABLE. */
static inline void
flows_put_snat_to_node(struct ofpbuf *ofpacts, const struct in6_addr *ip,
                       uint8_t table)
{
    size_t ofs = flows_put_ct_start(ofpacts, KOVS_CT_ZONE_SNAT, true, table);
    struct ofpact_nat *nat;
    if (IN6_IS_ADDR_V4MAPPED(ip)) {
        nat = flows_put_nat(ofpacts, NX_NAT_F_SRC,
                            in6_addr_get_mapped_ipv4(ip), KOVS_SNAT_PORT_MIN);
    } else {
        nat = flows_put_nat6(ofpacts, NX_NAT_F_SRC, ip, KOVS_SNAT_PORT_MIN);
    }
    nat->range.proto.max = KOVS_SNAT_PORT_MAX;
    flows_put_ct_end(ofpacts, ofs);
}

/* learn(table=TABLE,priority=PRIORITY,idle_timeout=IDLE,cookie=COOKIE,...):
 * starts a learn action; the flows_put_learn_*() calls that follow say
 * what the learned flow matches and loads, and flows_put_learn_end()
 * closes it.  Returns the offset to pass to flows_put_learn_end(). */
static inline size_t
flows_put_learn_start(struct ofpbuf *ofpacts, uint8_t table,
                      uint16_t priority, uint16_t idle_timeout,
                      uint64_t cookie)
{
    size_t ofs = ofpacts->size;
    struct ofpact_learn *learn = ofpact_put_LEARN(ofpacts);

    learn->idle_timeout = idle_timeout;
    learn->hard_timeout = OFP_FLOW_PERMANENT;
    learn->priority = priority;
    learn->table_id = table;
    learn->cookie = htonll(cookie);
    return ofs;
}

/* Appends a spec to the learn action being built: with 'src' nonnull, the
 * packet's 'src' goes to the learned flow's 'dst'; otherwise the
 * immediate 'value' does.  'dst_type' is NX_LEARN_DST_MATCH or
 * NX_LEARN_DST_LOAD. */
static inline void
flows_put_learn_spec__(struct ofpbuf *ofpacts, const struct mf_subfield *src,
                       struct mf_subfield dst, uint16_t dst_type,
                       uint64_t value)
{
    struct ofpact_learn_spec *spec = ofpbuf_put_zeros(ofpacts, sizeof *spec);

    spec->dst = dst;
    spec->dst_type = dst_type;
    spec->n_bits = dst.n_bits;
    if (src) {
        ovs_assert(src->n_bits == dst.n_bits);
        spec->src = *src;
        spec->src_type = NX_LEARN_SRC_FIELD;
    } else {
        /* The immediate follows the spec: the value's low bytes, as many as
         * the width needs, most significant first. */
        unsigned int n_bytes = DIV_ROUND_UP(dst.n_bits, 8);
        ovs_assert(n_bytes <= sizeof value);
        spec->src_type = NX_LEARN_SRC_IMMEDIATE;
        uint8_t *imm = ofpbuf_put_zeros(ofpacts, OFPACT_ALIGN(n_bytes));
        for (unsigned int i = 0; i < n_bytes; i++) {
            imm[i] = value >> (8 * (n_bytes - 1 - i));
        }
    }
}

/* The learned flow matches 'sf' as the packet has it ("NXM_OF_IP_SRC[]"). */
static inline void
flows_put_learn_match(struct ofpbuf *ofpacts, struct mf_subfield sf)
{
    flows_put_learn_spec__(ofpacts, &sf, sf, NX_LEARN_DST_MATCH, 0);
}

/* The learned flow matches field 'id' equal to 'value' ("eth_type=0x800"). */
static inline void
flows_put_learn_match_value(struct ofpbuf *ofpacts, enum mf_field_id id,
                            uint64_t value)
{
    flows_put_learn_spec__(ofpacts, NULL, flows_whole_field(id),
                           NX_LEARN_DST_MATCH, value);
}

/* The learned flow loads the packet's 'src' into 'dst'
 * ("load:SRC->DST"). */
static inline void
flows_put_learn_load(struct ofpbuf *ofpacts, struct mf_subfield src,
                     struct mf_subfield dst)
{
    flows_put_learn_spec__(ofpacts, &src, dst, NX_LEARN_DST_LOAD, 0);
}

/* The learned flow loads 'value' into 'dst' ("load:VALUE->DST"). */
static inline void
flows_put_learn_load_value(struct ofpbuf *ofpacts, struct mf_subfield dst,
                           uint64_t value)
{
    flows_put_learn_spec__(ofpacts, NULL, dst, NX_LEARN_DST_LOAD, value);
}

static inline void
flows_put_learn_end(struct ofpbuf *ofpacts, size_t ofs)
{
    struct ofpact_learn *learn = ofpbuf_at_assert(ofpacts, ofs,
                                                  sizeof *learn);

    ofpacts->header = learn;
    ofpact_finish_LEARN(ofpacts, &learn);
}

#endif /* flows/actions.h */
