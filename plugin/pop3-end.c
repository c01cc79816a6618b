/* pop3-end.c - the end of a POP3 connection.
 *
 * TCP hands a subdissector no segment without payload, so the FIN or RST that ends a
 * connection never reaches the dissector. A postdissector watches tcp.flags instead and, on the
 * frame that ends a POP3 conversation, ends its session (pop3d_session_finish: a partial last
 * line is decoded, a multi-line answer or a SASL exchange cut short is flagged) and lists the
 * commands that never got an answer. The decision is taken on the first pass and kept per
 * frame, so every pass shows the same thing on the same frame.
 *
 * Which frame ends the conversation: the first RST from either side; a FIN from the server;
 * a FIN from the client when no command is waiting for its answer. A client may close its
 * side right after QUIT (or any command) and still read the answer: with a command pending,
 * its FIN only ends the conversation once the server's FIN or a RST follows. With TLS payload
 * put back in order, a client FIN that acknowledged server bytes not decoded yet (captured
 * after it) takes effect in the frame where they are, shown there as that FIN's
 * (pop3.reordered_from), if no command is left waiting then.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <wireshark.h>

#include <epan/conversation.h>
#include <epan/expert.h>
#include <epan/packet.h>
#include <epan/proto_data.h>
#include <wsutil/str_util.h>

#include "packet-pop3.h"
#include "pop3-compat.h"

#define TH_FIN 0x0001u
#define TH_RST 0x0004u
#define TH_ACK 0x0010u
#define MAX_LISTED 64 /* unanswered commands listed by frame (all are counted) */
#define KEY_END_RECORD 0x7fff0002u

static int proto_pop3 = -1;
static int hf_tcp_flags = -1;
static int hf_tcp_seq = -1;
static int hf_tcp_ack = -1;
static int hf_tcp_len = -1;
static int hf_tcp_payload = -1;
static int hf_end = -1;
static int hf_end_reason = -1;
static int hf_end_unanswered = -1;
static int hf_end_unanswered_in = -1;
static gint ett_end = -1;
static gint ett_end_pop3 = -1;
static expert_field ei_unanswered = EI_INIT;
static dissector_handle_t end_handle;

/* A client FIN that acknowledged server bytes not decoded yet (TLS payload captured out of
 * order): it takes effect once they are. pop3_conv * -> pending_fin * */
typedef struct pending_fin {
    guint32 frame;
    guint32 ack;
} pending_fin;
static wmem_map_t *pending_fins = NULL;

typedef struct end_record {
    guint32 fin_frame; /* the FIN that ended it, when it took effect in a later frame */
    const char *reason;
    guint32 unanswered;
    guint32 listed;
    guint32 *frames;
} end_record;

static const char *
end_reason(guint32 flags, gboolean from_server)
{
    if (flags & TH_RST)
        return from_server ? "Reset by the server" : "Reset by the client";
    return from_server ? "Closed by the server (FIN)" : "Closed by the client (FIN)";
}

/* A field of the frame's innermost TCP header (the one the conversation belongs to). */
static gboolean
tcp_field(proto_tree *tree, int hf, guint32 *value)
{
    GPtrArray *hits;

    if (!tree || hf < 0)
        return FALSE;
    hits = proto_get_finfo_ptr_array(tree, hf);
    if (!hits || hits->len == 0)
        return FALSE;
    *value = fvalue_get_uinteger(
        pop3_field_info_value((field_info *)g_ptr_array_index(hits, hits->len - 1)));
    return TRUE;
}

static gboolean
tcp_flags(proto_tree *tree, guint32 *flags)
{
    return tcp_field(tree, hf_tcp_flags, flags);
}

gboolean
pop3_frame_tcp(proto_tree *tree, guint32 *flags, guint32 *seq, guint32 *ack, guint32 *length)
{
    if (!tcp_flags(tree, flags) || !tcp_field(tree, hf_tcp_seq, seq) ||
        !tcp_field(tree, hf_tcp_len, length))
        return FALSE;
    if (!(*flags & TH_ACK) || !tcp_field(tree, hf_tcp_ack, ack)) {
        *flags &= ~TH_ACK;
        *ack = 0;
    }
    return TRUE;
}

/* First pass: the segment goes to the conversation's follower when the dissector did not get
 * it (a segment without payload: TCP hands those to no subdissector). */
static void
feed_segment(packet_info *pinfo, proto_tree *tree)
{
    guint32 flags = 0, seq = 0, ack = 0, len = 0;

    if (pinfo->ptype != PT_TCP || pinfo->flags.in_error_pkt || !tcp_flags(tree, &flags) ||
        !tcp_field(tree, hf_tcp_seq, &seq) || !tcp_field(tree, hf_tcp_len, &len))
        return;
    if (!(flags & TH_ACK) || !tcp_field(tree, hf_tcp_ack, &ack))
        flags &= ~TH_ACK;
    if (len) {
        /* payload TCP did not hand over (a retransmission, bytes kept for its reassembly) */
        GPtrArray *hits =
            hf_tcp_payload >= 0 ? proto_get_finfo_ptr_array(tree, hf_tcp_payload) : NULL;
        if (hits && hits->len) {
            field_info *fi = (field_info *)g_ptr_array_index(hits, hits->len - 1);
            guint32 captured = fi->ds_tvb && fi->length > 0
                                   ? (guint32)tvb_captured_length_remaining(fi->ds_tvb, fi->start)
                                   : 0;
            if (captured > (guint32)fi->length)
                captured = (guint32)fi->length;
            if (captured == len) {
                pop3_tcp_segment_seen(pinfo, flags, seq, ack, len,
                                      tvb_get_ptr(fi->ds_tvb, fi->start, (gint)captured));
                return;
            }
        }
    }
    pop3_tcp_segment_seen(pinfo, flags, seq, ack, len, NULL);
}

static end_record *
decide(packet_info *pinfo, proto_tree *tree, pop3_conv **conv_out)
{
    guint32 flags = 0;
    pop3_conv *conv;
    gboolean from_server;
    guint32 unanswered;
    guint32 ack = 0;
    pending_fin *pending;
    end_record *rec;

    if (pinfo->ptype != PT_TCP || pinfo->flags.in_error_pkt)
        return NULL;
    conv = pop3_conv_of_frame(pinfo);
    if (!conv || pop3_conv_end_decided(conv))
        return NULL;
    if (!pop3_conv_direct(conv)) {
        /* the follower finished the session when the conversation's end came in order */
        if (pop3_conv_finish_frame(conv) != pinfo->num)
            return NULL;
        pop3_conv_set_end_decided(conv);
        rec = wmem_new0(wmem_file_scope(), end_record);
        rec->reason = pop3_conv_end_reason(conv);
        *conv_out = conv;
        return rec;
    }
    pending = (pending_fin *)wmem_map_lookup(pending_fins, conv);
    if (pending && pop3_conv_reached(conv, POP3D_SERVER_TO_CLIENT, pending->ack)) {
        /* the answers the client had when it sent its FIN are decoded now */
        wmem_map_remove(pending_fins, conv);
        if (pop3_conv_unanswered(conv, NULL, 0) == 0) {
            pop3_conv_set_end_decided(conv);
            rec = wmem_new0(wmem_file_scope(), end_record);
            rec->reason = end_reason(TH_FIN, FALSE);
            rec->fin_frame = pending->frame;
            *conv_out = conv;
            return rec;
        }
    }
    if (!tcp_flags(tree, &flags) || !(flags & (TH_FIN | TH_RST)))
        return NULL;
    from_server = pop3_conv_from_server(conv, pinfo);
    unanswered = pop3_conv_unanswered(conv, NULL, 0);
    if (!(flags & TH_RST) && !from_server && unanswered) {
        /* half-close: the answers may still come. When the FIN acknowledged server bytes not
         * decoded yet (captured later), the client had those answers: it ends the conversation
         * once they are decoded, if no command is left waiting then. */
        if (!pending && (flags & TH_ACK) && tcp_field(tree, hf_tcp_ack, &ack) &&
            !pop3_conv_reached(conv, POP3D_SERVER_TO_CLIENT, ack)) {
            pending = wmem_new0(wmem_file_scope(), pending_fin);
            pending->frame = pinfo->num;
            pending->ack = ack;
            wmem_map_insert(pending_fins, conv, pending);
        }
        return NULL;
    }

    pop3_conv_set_end_decided(conv);
    rec = wmem_new0(wmem_file_scope(), end_record);
    rec->reason = end_reason(flags, from_server);
    *conv_out = conv;
    return rec;
}

/* After the session ended (a partial last command line is a command too). */
static void
count_unanswered(end_record *rec, const pop3_conv *conv)
{
    guint32 frames[MAX_LISTED];

    rec->unanswered = pop3_conv_unanswered(conv, frames, MAX_LISTED);
    rec->listed = MIN(rec->unanswered, MAX_LISTED);
    if (rec->listed)
        rec->frames =
            (guint32 *)wmem_memdup(wmem_file_scope(), frames, rec->listed * sizeof(guint32));
}

static int
dissect_pop3_end(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data _U_)
{
    end_record *rec =
        (end_record *)p_get_proto_data(wmem_file_scope(), pinfo, proto_pop3, KEY_END_RECORD);
    pop3_conv *conv = NULL;
    proto_item *ti, *end_item;
    proto_tree *pop3_tree, *end_tree;
    guint32 i;

    if (!rec && !PINFO_FD_VISITED(pinfo)) {
        feed_segment(pinfo, tree);
        rec = decide(pinfo, tree, &conv);
        if (rec)
            p_add_proto_data(wmem_file_scope(), pinfo, proto_pop3, KEY_END_RECORD, rec);
    }
    if (!rec) {
        /* a segment without payload that released bytes held until it came */
        if (!pop3_frame_has_end_record(pinfo))
            return 0;
        ti = proto_tree_add_item(tree, proto_pop3, tvb, 0, 0, ENC_NA);
        pop3_tree = proto_item_add_subtree(ti, ett_end_pop3);
        pop3_conv_end(NULL, tvb, pinfo, tree, pop3_tree);
        return tvb_captured_length(tvb);
    }

    ti = proto_tree_add_item(tree, proto_pop3, tvb, 0, 0, ENC_NA);
    pop3_tree = proto_item_add_subtree(ti, ett_end_pop3);
    if (rec->fin_frame && rec->fin_frame != pinfo->num)
        pop3_show_fin_from(pop3_tree, tvb, rec->fin_frame);
    /* the events that ending the session produced (first pass: ends it), then the end itself:
     * the tree's order is the order of the expert items on every Wireshark version */
    pop3_conv_end(conv, tvb, pinfo, tree, pop3_tree);
    if (conv)
        count_unanswered(rec, conv);
    end_item = proto_tree_add_string(pop3_tree, hf_end, tvb, 0, 0, rec->reason);
    proto_item_set_generated(end_item);
    end_tree = proto_item_add_subtree(end_item, ett_end);
    ti = proto_tree_add_string(end_tree, hf_end_reason, tvb, 0, 0, rec->reason);
    proto_item_set_generated(ti);

    ti = proto_tree_add_uint(end_tree, hf_end_unanswered, tvb, 0, 0, rec->unanswered);
    proto_item_set_generated(ti);
    if (rec->unanswered)
        expert_add_info_format(pinfo, ti, &ei_unanswered,
                               "%u command%s never answered before the connection ended",
                               rec->unanswered, plurality(rec->unanswered, "", "s"));
    for (i = 0; i < rec->listed; i++) {
        ti = proto_tree_add_uint(end_tree, hf_end_unanswered_in, tvb, 0, 0, rec->frames[i]);
        proto_item_set_generated(ti);
    }
    col_append_sep_fstr(
        pinfo->cinfo, COL_INFO, " | ", "POP3: %s%s", rec->reason,
        rec->unanswered ? wmem_strdup_printf(pinfo->pool, ", %u unanswered", rec->unanswered) : "");
    return tvb_captured_length(tvb);
}

static void
end_init(void)
{
    GArray *wanted = NULL;

    pending_fins = wmem_map_new(wmem_file_scope(), g_direct_hash, g_direct_equal);
    /* TCP's fields of every frame make tshark build a protocol tree for every frame, which costs
     * every dissector of the capture: asked for only while POP3 is enabled. Init routines run
     * when a file is opened or dissected again, before tshark and Wireshark decide on a tree. */
    if (proto_is_protocol_enabled(find_protocol_by_id(proto_pop3))) {
        wanted = g_array_sized_new(FALSE, FALSE, (guint)sizeof(int), 5);
        g_array_append_val(wanted, hf_tcp_flags);
        g_array_append_val(wanted, hf_tcp_seq);
        g_array_append_val(wanted, hf_tcp_ack);
        g_array_append_val(wanted, hf_tcp_len);
        if (hf_tcp_payload >= 0)
            g_array_append_val(wanted, hf_tcp_payload);
    }
    set_postdissector_wanted_hfids(end_handle, wanted);
}

void
pop3_end_register(int proto)
{
    static hf_register_info hf[] = {
        {&hf_end,
         {"Connection end", "pop3.end", FT_STRING, BASE_NONE, NULL, 0x0,
          "The TCP connection of this POP3 conversation ended in this frame", HFILL}},
        {&hf_end_reason,
         {"How it ended", "pop3.end.reason", FT_STRING, BASE_NONE, NULL, 0x0,
          "Which side closed (FIN) or reset (RST) the connection", HFILL}},
        {&hf_end_unanswered,
         {"Commands never answered", "pop3.end.unanswered", FT_UINT32, BASE_DEC, NULL, 0x0,
          "Commands of the conversation that got no answer before the connection ended", HFILL}},
        {&hf_end_unanswered_in,
         {"Unanswered request in", "pop3.end.unanswered_in", FT_FRAMENUM, BASE_NONE,
          FRAMENUM_TYPE(FT_FRAMENUM_REQUEST), 0x0, "Frame of a command that got no answer", HFILL}},
    };
    static ei_register_info ei[] = {
        {&ei_unanswered,
         {"pop3.end.never_answered", PI_SEQUENCE, PI_WARN,
          "Command never answered before the connection ended", EXPFILL}},
    };
    static gint *ett[] = {&ett_end, &ett_end_pop3};
    expert_module_t *expert;

    proto_pop3 = proto;
    proto_register_field_array(proto, hf, array_length(hf));
    proto_register_subtree_array(ett, array_length(ett));
    expert = expert_register_protocol(proto);
    expert_register_field_array(expert, ei, array_length(ei));
    end_handle = create_dissector_handle(dissect_pop3_end, proto);
    register_init_routine(end_init);
}

void
pop3_end_handoff(void)
{
    hf_tcp_flags = proto_registrar_get_id_byname("tcp.flags");
    hf_tcp_seq = proto_registrar_get_id_byname("tcp.seq");
    hf_tcp_ack = proto_registrar_get_id_byname("tcp.ack");
    hf_tcp_len = proto_registrar_get_id_byname("tcp.len");
    hf_tcp_payload = proto_registrar_get_id_byname("tcp.payload");
    /* the wanted TCP fields are set by end_init() */
    register_postdissector(end_handle);
}
