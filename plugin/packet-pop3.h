/* packet-pop3.h - entry points of the POP3 dissector and of its companion files.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef PACKET_POP3_H
#define PACKET_POP3_H

#include <wireshark.h>

#include <epan/packet.h>

#include <pop3decode/pop3decode.h>

/* packet-pop3.c */
void proto_register_pop3(void);
void proto_reg_handoff_pop3(void);

/* pop3-stats.c: the "pop3" tap (pop3-tap.h) and the statistics tree */
void pop3_tap_register(void);
/* Queues the tap record of one shown event. request_frame/request_time: for the first answer
 * to a command seen in the capture, that command's frame and time; 0/NULL otherwise. */
void pop3_tap_queue(packet_info *pinfo, const pop3d_event *ev, guint32 request_frame,
                    const nstime_t *request_time);
void pop3_stats_tree_register(void);

#endif /* PACKET_POP3_H */
