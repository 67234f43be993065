/* Copyright (c) 2026 The kovs authors.
 *
 * Licensed under the Apache License, Version 2.0. */

#ifndef FLOWS_PINCTRL_OPCODES_H
#define FLOWS_PINCTRL_OPCODES_H 1

/* The contract between the pipeline and kovs-controller's packet-in handler
 * (controller/pinctrl.h).
 *
 * A flow that needs the controller to act on a packet sends it there with a
 * controller action whose userdata begins with a one-byte opcode that says
 * what to do, and goes through the meter of that opcode (pipeline.h), which
 * bounds how many such packets a second reach the controller.  The
 * pipeline puts such actions with flows_put_controller(); pinctrl decodes
 * the opcode and dispatches on it.  Opcode values are part of the flows on
 * the switch ('ovs-ofctl dump-flows' shows them as
 * "controller(userdata=01,meter_id=1)"), so they never change.
 *
 *     PINCTRL_OPCODE(ENUM, VALUE, NAME, METER) */

#include <stdint.h>
#include "flows/pipeline.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofpbuf.h"
#include "util.h"

#define PINCTRL_OPCODES                                                 \
    /* The packet is the first of a connection to a Service without    \
     * usable endpoints: answer it the way kube-proxy does, with a TCP  \
     * RST, or an ICMP port unreachable for UDP, SCTP and the rest. */  \
    PINCTRL_OPCODE(REJECT, 1, "reject", KOVS_METER_REJECT)              \
    /* The packet leaves through br-ex, but the MAC of its next hop (the   \
     * IPv4 address in NEXTHOP, or for an IPv6 packet the IPv6 address in  \
     * KOVS_NEXTHOP6_FIELD) is not known: resolve it with ARP or a         \
     * Neighbor Solicitation.  The packet itself is dropped. */            \
    PINCTRL_OPCODE(RESOLVE, 2, "resolve", KOVS_METER_RESOLVE)           \
    /* An ARP packet from the external network about the node IP, or a     \
     * Neighbor Advertisement to its IPv6 address: learn the MAC of its    \
     * sender (the advertisement's target) if kovs asked for it. */        \
    PINCTRL_OPCODE(NEIGHBOR, 3, "neighbor", KOVS_METER_NEIGHBOR)     \
    /* A NetworkPolicy allowed a new connection, or dropped a packet, of   \
     * a pod whose verdicts are logged: write it to the audit log.  The    \
     * userdata's arguments are a "struct pinctrl_np_log_args"; the        \
     * packet-in's cookie is the owner of the flow that decided.  An       \
     * allowed packet goes on through the pipeline. */                     \
    PINCTRL_OPCODE(NP_LOG, 4, "np-log", KOVS_METER_NP_LOG)           \
    /* The packet is larger than the tunnel it was to go into (OUT_PORT)   \
     * carries: answer its sender, through the pipeline as if the answer   \
     * came out of that tunnel (so that conntrack un-NATs it as related    \
     * to the connection), with ICMP "fragmentation needed" (IPv4 with     \
     * DF) or ICMPv6 "packet too big", naming the MTU in the userdata's    \
     * "struct pinctrl_too_big_args".  The packet itself is dropped. */    \
    PINCTRL_OPCODE(TOO_BIG, 5, "too-big", KOVS_METER_TOO_BIG)          \
    /* As TOO_BIG, for a packet larger than the local pod it goes to      \
     * (OUT_PORT) takes: the answer enters the pipeline as if that pod     \
     * had sent it. */                                                     \
    PINCTRL_OPCODE(TOO_BIG_POD, 6, "too-big-pod", KOVS_METER_TOO_BIG)  \
    /* An ICMPv6 error (types 1 to 4) about to go through conntrack.       \
     * Open vSwitch 3.1's userspace conntrack damages an ICMPv6 error it   \
     * NATs as related to a connection (tests/repro/icmp6-related-nat.sh): \
     * the second word of the ICMPv6 header (a "packet too big" MTU) for   \
     * a UDP connection, the quoted packet's source address for TCP.  The  \
     * controller keeps the word in ICMP6_STASH, sets FLAG_ICMP6_STASHED   \
     * and sends the packet on from CT_ZONE. */                            \
    PINCTRL_OPCODE(ICMP6_STASH, 7, "icmp6-stash", KOVS_METER_ICMP6)     \
    /* An ICMPv6 error with FLAG_ICMP6_STASHED, about to leave: the        \
     * controller puts ICMP6_STASH back, makes the quoted source address   \
     * the error's destination (which is whom an ICMP error is for),       \
     * recomputes the checksum and sends it on from OUTPUT. */             \
    PINCTRL_OPCODE(ICMP6_RESTORE, 8, "icmp6-restore", KOVS_METER_ICMP6)

enum pinctrl_opcode {
#define PINCTRL_OPCODE(ENUM, VALUE, NAME, METER) PINCTRL_OP_##ENUM = VALUE,
    PINCTRL_OPCODES
#undef PINCTRL_OPCODE
};

/* Returns the name of 'op' ("reject"), or NULL if 'op' is not an opcode. */
static inline const char *
pinctrl_opcode_name(unsigned int op)
{
    switch (op) {
#define PINCTRL_OPCODE(ENUM, VALUE, NAME, METER) case VALUE: return NAME;
    PINCTRL_OPCODES
#undef PINCTRL_OPCODE
    }
    return NULL;
}

/* Returns the id of the meter that the packets of 'op' go through. */
static inline uint32_t
pinctrl_opcode_meter(enum pinctrl_opcode op)
{
    switch (op) {
#define PINCTRL_OPCODE(ENUM, VALUE, NAME, METER) case VALUE: return METER;
    PINCTRL_OPCODES
#undef PINCTRL_OPCODE
    }
    OVS_NOT_REACHED();
}

/* The arguments of NP_LOG, after the opcode in the userdata. */
enum pinctrl_np_log_verdict {
    PINCTRL_NP_LOG_ALLOW = 0,       /* A rule allowed the connection. */
    PINCTRL_NP_LOG_DROP = 1,        /* The pod is isolated and no rule
                                     * allowed the packet. */
};
enum pinctrl_np_log_direction {
    PINCTRL_NP_LOG_INGRESS = 0,     /* The destination pod's policies. */
    PINCTRL_NP_LOG_EGRESS = 1,      /* The source pod's policies. */
};
#define PINCTRL_NP_LOG_NO_RULE 0xffff
struct pinctrl_np_log_args {
    uint8_t verdict;                /* enum pinctrl_np_log_verdict. */
    uint8_t direction;              /* enum pinctrl_np_log_direction. */
    ovs_be16 rule;                  /* The index of the rule that allowed,
                                     * in its direction's list, or
                                     * PINCTRL_NP_LOG_NO_RULE for a drop. */
};
BUILD_ASSERT_DECL(sizeof(struct pinctrl_np_log_args) == 4);

/* The arguments of ICMP6_STASH, if any, after the opcode in the userdata:
 * the packet came from br-ex's patch port, and goes on from br-int's LOCAL
 * port.  (ovs-vswitchd 3.1's userspace datapath loses a packet-out whose
 * in_port is a patch port once a ct action recirculates it: a patch port
 * has no datapath port; tests/repro/packet-out-patch-recirc.sh shows it.
 * After CT_ZONE nothing that an ICMPv6 error from br-ex meets matches the
 * patch port as in_port.) */
struct pinctrl_icmp6_stash_args {
    uint8_t from_patch;             /* 1. */
};

/* The arguments of TOO_BIG, after the opcode in the userdata. */
struct pinctrl_too_big_args {
    ovs_be16 mtu;                   /* The largest IP packet (without its
                                     * Ethernet header) the tunnel
                                     * carries. */
};
BUILD_ASSERT_DECL(sizeof(struct pinctrl_too_big_args) == 2);

/* controller(userdata=OP ARGS,meter_id=M): as flows_put_controller(), with
 * 'args_len' bytes of 'args' after the opcode in the userdata. */
static inline void
flows_put_controller_args(struct ofpbuf *ofpacts, enum pinctrl_opcode op,
                          const void *args, size_t args_len)
{
    struct ofpact_controller *oc = ofpact_put_CONTROLLER(ofpacts);
    uint8_t opcode = op;

    oc->max_len = UINT16_MAX;
    oc->controller_id = 0;
    oc->reason = OFPR_ACTION;
    oc->pause = false;
    oc->meter_id = pinctrl_opcode_meter(op);
    oc->provider_meter_id = 0;
    oc->userdata_len = sizeof opcode + args_len;
    ofpbuf_put(ofpacts, &opcode, sizeof opcode);
    if (args_len) {
        ofpbuf_put(ofpacts, args, args_len);
    }
    oc = ofpacts->header;       /* ofpbuf_put() may have moved it. */
    ofpact_finish_CONTROLLER(ofpacts, &oc);
}

/* controller(userdata=OP,meter_id=M): sends the packet, whole, to
 * controller 0 with reason "action" and 'op' as userdata, through 'op''s
 * meter M.  Every byte of the ofpact is initialized, so that the same
 * action is always the same bytes. */
static inline void
flows_put_controller(struct ofpbuf *ofpacts, enum pinctrl_opcode op)
{
    flows_put_controller_args(ofpacts, op, NULL, 0);
}

#endif /* flows/pinctrl-opcodes.h */
