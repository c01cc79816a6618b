/* pop3-heur.c - the "pop3_tcp" heuristic: POP3 on TCP ports the dissector is not registered for.
 *
 * A POP3 server speaks first: the first bytes of a connection are its greeting, a "+OK" status
 * line (RFC 1939 section 4). The heuristic accepts a TCP conversation only when
 *   - TCP saw its handshake (so the server side is known: the port the SYN went to),
 *   - this segment comes from the server and is the first payload of the connection in either
 *     direction (the client has sent nothing yet),
 *   - it starts with "+OK" followed by a space or the line end, and its first line ends with
 *     CRLF within 512 octets (RFC 2449 section 4) and is printable text.
 * A Redis server also answers "+OK\r\n", but only after the client sent a command, so it fails
 * the second rule. Captures that start after the greeting are not detected (Decode As is the
 * way there). On a match the conversation is handed to the POP3 dissector for good
 * (conversation_set_dissector).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <wireshark.h>

#include <string.h>

#include <epan/conversation.h>
#include <epan/packet.h>
#include <epan/dissectors/packet-tcp.h>

#include "packet-pop3.h"
#include "pop3-compat.h"

#define MAX_GREETING 512

static dissector_handle_t pop3_tcp_handle;
static int proto_pop3 = -1;
static wmem_map_t *seen = NULL; /* conversation_t * that already carried payload */

static gboolean
looks_like_greeting(tvbuff_t *tvb)
{
    guint avail = MIN(tvb_captured_length(tvb), MAX_GREETING);
    const guint8 *p;
    const guint8 *lf;
    guint eol, i;

    if (avail < 5)
        return FALSE;
    p = tvb_get_ptr(tvb, 0, (gint)avail);
    if (memcmp(p, "+OK", 3) != 0)
        return FALSE;
    lf = (const guint8 *)memchr(p, '\n', avail);
    eol = lf ? (guint)(lf - p) : 0;
    if (eol < 4 || p[eol - 1] != '\r')
        return FALSE;
    if (eol > 4 && p[3] != ' ')
        return FALSE;
    for (i = 0; i < eol - 1; i++) {
        if ((p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f)
            return FALSE;
    }
    return TRUE;
}

static pop3_heur_result
dissect_pop3_heur(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data)
{
    struct tcpinfo *tcpinfo = (struct tcpinfo *)data;
    conversation_t *conversation;
    struct tcp_analysis *tcpd;
    gboolean first;

    /* Only the first pass decides: once claimed, TCP calls the POP3 dissector directly. */
    if (PINFO_FD_VISITED(pinfo) || !tcpinfo || tcpinfo->is_reassembled ||
        tvb_captured_length(tvb) == 0)
        return FALSE;
    conversation = find_conversation_pinfo(pinfo, 0);
    if (!conversation)
        return FALSE;
    first = !wmem_map_contains(seen, conversation);
    wmem_map_insert(seen, conversation, conversation);
    if (!first)
        return FALSE;
    tcpd = get_tcp_conversation_data(conversation, pinfo);
    if (!tcpd || tcpd->server_port == 0 || pinfo->srcport != tcpd->server_port ||
        pinfo->srcport == pinfo->destport)
        return FALSE;
    if (!looks_like_greeting(tvb))
        return FALSE;

    conversation_set_dissector(conversation, pop3_tcp_handle);
    /* the POP3 dissector takes the side of pinfo->match_uint as the server */
    pinfo->match_uint = pinfo->srcport;
    call_dissector_only(pop3_tcp_handle, tvb, pinfo, tree, data);
    return TRUE;
}

static void
heur_init(void)
{
    seen = wmem_map_new(wmem_file_scope(), g_direct_hash, g_direct_equal);
}

void
pop3_heur_register(int proto)
{
    proto_pop3 = proto;
    register_init_routine(heur_init);
}

void
pop3_heur_handoff(dissector_handle_t pop3_handle)
{
    pop3_tcp_handle = pop3_handle;
    heur_dissector_add("tcp", dissect_pop3_heur, "POP3 over TCP (server greeting)", "pop3_tcp",
                       proto_pop3, HEURISTIC_ENABLE);
}
