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
/* Who logged in, as the credentials tap and the statistics name them: the authentication
 * identity, "admin as alice" when it opened another user's mailbox (authorization identity
 * alice), or only the authorization identity (OAUTHBEARER, EXTERNAL); NULL when neither is
 * known. Empty strings count as unknown. */
const char *pop3_login_name(wmem_allocator_t *scope, const char *authcid, const char *authzid);

/* pop3-end.c: the end of the connection (postdissector on TCP FIN/RST) */
void pop3_end_register(int proto_pop3);
void pop3_end_handoff(void);

/* The frame's innermost TCP header (its fields are kept in the tree for the postdissector, so
 * they are there while TLS hands the dissector decrypted bytes): FALSE when absent. Without the
 * ACK flag, *ack is 0. */
gboolean pop3_frame_tcp(proto_tree *tree, guint32 *flags, guint32 *seq, guint32 *ack,
                        guint32 *length);

/* pop3-heur.c: the "pop3_tcp" heuristic (a server greeting on any TCP port) */
void pop3_heur_register(int proto_pop3);
void pop3_heur_handoff(dissector_handle_t pop3_tcp_handle);

/* packet-pop3.c, for pop3-end.c: a conversation's decoding state */
typedef struct pop3_conv pop3_conv;
/* The POP3 state of the frame's conversation (the one TCP set up), or NULL. */
pop3_conv *pop3_conv_of_frame(packet_info *pinfo);
gboolean pop3_conv_from_server(const pop3_conv *conv, const packet_info *pinfo);
/* Commands seen without an answer; the first max_frames of their frames go to frames. */
guint32 pop3_conv_unanswered(const pop3_conv *conv, guint32 *frames, guint32 max_frames);
/* First pass, conv not NULL: ends the conversation's session (pop3d_session_finish) and keeps
 * what that produced as this frame's record. Every pass: shows the record's events in
 * pop3_tree (Info column, expert items, taps) as the dissector shows any frame's. Returns
 * FALSE when the frame has no record. */
gboolean pop3_conv_end(pop3_conv *conv, tvbuff_t *tvb, packet_info *pinfo, proto_tree *root,
                       proto_tree *pop3_tree);

/* pop3-end.c has recorded the end of the connection (first pass): once per conversation. */
gboolean pop3_conv_end_decided(const pop3_conv *conv);
void pop3_conv_set_end_decided(pop3_conv *conv);
/* TLS payload (no TCP follower): the connection end is decided from TCP's flags. */
gboolean pop3_conv_direct(const pop3_conv *conv);
/* Whether the TLS payload the direction sent before TCP sequence number seq was all decoded
 * (TRUE without a decrypted-payload follower). */
gboolean pop3_conv_reached(const pop3_conv *conv, guint32 direction, guint32 seq);
/* Shows that what follows (the connection end) is the FIN of frame `frame`, taking effect
 * here in the conversation's order (pop3.reordered_from). */
void pop3_show_fin_from(proto_tree *tree, tvbuff_t *tvb, guint32 frame);
/* The frame on which the follower finished the session (0: not yet). */
guint32 pop3_conv_finish_frame(const pop3_conv *conv);
/* Who ended it: the first RST, else the first FIN, as fed. */
const char *pop3_conv_end_reason(const pop3_conv *conv);
/* First pass, every TCP frame (postdissector): where each stream stands (SYN and the segments
 * after it) is remembered for conversations not known as POP3 yet; every segment of a
 * conversation whose TLS payload is decoded goes to its decrypted-payload follower; a segment whose
 * payload the dissector did not get (a bare ACK, FIN or RST; a retransmission TCP kept back;
 * payload TCP keeps for its reassembly) goes to the conversation's follower, with its payload when
 * known (`payload`: `length` bytes, else only its flags at the sequence number after the payload),
 * and what that decodes is kept as the frame's record (pop3_conv_end shows it). */
void pop3_tcp_segment_seen(packet_info *pinfo, guint32 flags, guint32 seq, guint32 ack,
                           guint32 length, const guint8 *payload);
gboolean pop3_frame_has_end_record(packet_info *pinfo);

#endif /* PACKET_POP3_H */
