/* packet-pop3.c - Post Office Protocol v3 (RFC 1939 and extensions), decoded by libpop3decode.
 *
 * This dissector does no POP3 parsing of its own. It feeds the TCP (or decrypted TLS) payload of
 * each conversation to a pop3d_session and turns the events that come back into fields, trees,
 * columns, expert items, request/response links, IMF hand-offs and credentials taps.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * How later passes see the same events as the first one
 * ----------------------------------------------------
 * Only the first (in-order) pass feeds the session. What each dissector call produced is kept in
 * a compact per-call record (pop3_record: one file-scope allocation per call, none for a call
 * that produced nothing): the events are serialised with variable-length integers, and every
 * byte string that can be found again in the frame's own tvb (the line, and item values that
 * are slices of it or of a decoded SASL buffer) is stored as a reference, not a copy. A plain
 * data line of a mail body costs about ten bytes. Every pass, the first included, decodes that
 * record and builds the tree from it, so the trees are identical however often and in whatever
 * order frames are dissected. The event format and its codec are in event-codec.c (plain C,
 * tested and fuzzed without Wireshark).
 *
 * The alternative, a pop3d_session_clone() saved before each frame and replayed in later
 * passes, costs a whole session state (buffers, capability list, pending commands, SASL state)
 * per frame; on a capture made of large RETR bodies that is several times what the events
 * take, and it cannot be skipped in tshark's single pass, which never tells a dissector whether
 * a later pass will come.
 *
 * TCP order: each conversation's segments go, in capture order, to a pop3d_tcp follower that
 * feeds the session in the conversation's order (retransmissions dropped, a segment held until
 * the bytes of the other direction it acknowledges came, holes as gaps). One dissector call can
 * therefore decode bytes of earlier frames, or none: its record is a list of parts, one per chunk
 * the follower delivered, each naming the frame whose bytes it holds (its tag). Requests and
 * answers are recorded as those frames, so links name the frames that carry the bytes; parts
 * of earlier frames are shown where they were decoded, on every pass alike. Segments TCP gives
 * no subdissector (bare ACK/FIN/RST, retransmissions) come from the postdissector in
 * pop3-end.c. Once the follower finishes the session, session and follower are freed.
 *
 * TLS order: decrypted bytes come without struct tcpinfo, in capture order. Each call gives
 * them to a pop3d_decrypted follower with the frame's TCP position (from the tree, where the
 * postdissector's wanted fields keep it), and the postdissector gives it every segment of the
 * conversation; bytes whose segment acknowledges bytes of the other direction not seen yet
 * wait, and are decoded as parts of the frame that brought those (its end record), exactly as
 * the TCP follower's. Several calls in one frame (several records) are all given before the
 * frame's segment, so what they release comes after all of them.
 *
 * Multi-line responses (when the "reassemble" preference is on) are accumulated from the
 * DATA_LINE events' unstuffed bytes into one growing buffer per conversation (append-only,
 * amortised linear), which becomes the message handed to IMF at DATA_END and is kept for later
 * passes, as the built-in dissector's reassembly keeps the fragments.
 */
#include <wireshark.h>

#include <string.h>

#include <epan/charsets.h>
#include <epan/column-utils.h>
#include <epan/conversation.h>
#include <epan/exceptions.h>
#include <epan/expert.h>
#include <epan/packet.h>
#include <epan/prefs.h>
#include <epan/proto_data.h>
#include <epan/show_exception.h>
#include <epan/tap.h>
#include <epan/uat.h>
#include <epan/dissectors/packet-tcp.h>
#include <epan/dissectors/packet-tls-utils.h>
#include <epan/dissectors/packet-tls.h>
#include <wsutil/utf8_entities.h>

#include <pop3decode/pop3decode.h>

#include "event-codec.h"
#include "packet-pop3.h"
#include "pop3-compat.h"

#define POP3_TCP_PORT 110
#define POP3_TLS_PORT 995

/* The credentials tap's record (ui/tap-credentials.h, not installed): layout of Wireshark 4.0. */
typedef struct tap_credential {
    guint num;
    guint username_num;
    guint password_hf_id;
    gchar *username;
    const gchar *proto;
    gchar *info;
} tap_credential_t;

static int proto_pop3 = -1;

static int hf_field[POP3D_FIELD_COUNT];
static int hf_response_in = -1;
static int hf_response_to = -1;
static int hf_time = -1;
static int hf_data_end_in = -1;
static int hf_octets_match = -1;
static int hf_reordered_from = -1;

static gint ett_pop3 = -1;
static gint ett_event = -1;
static gint ett_field[POP3D_FIELD_COUNT];

static expert_field ei_anomaly[POP3D_ANOMALY_COUNT];
static expert_field ei_octets_mismatch = EI_INIT;

static dissector_handle_t pop3_handle;     /* POP3 over TCP */
static dissector_handle_t pop3_tls_handle; /* POP3 inside TLS */
static dissector_handle_t tls_handle;
static dissector_handle_t imf_handle;
static dissector_handle_t ntlmssp_handle;
static dissector_handle_t gssapi_handle;

static int credentials_tap = -1;

/* Preferences */
static guint pref_tls_port = POP3_TLS_PORT;
static guint registered_tls_port = 0;
static pop3_pref_bool pref_reassemble = TRUE;
static pop3_pref_bool pref_imf = TRUE;
static pop3_pref_bool pref_imf_top = FALSE;
static guint pref_max_line = 65536;

/* Known passwords (UAT) */
typedef struct pop3_password {
    char *username;
    char *password;
} pop3_password_t;

static pop3_password_t *pop3_passwords = NULL;
static guint num_pop3_passwords = 0;

UAT_CSTRING_CB_DEF(pop3_passwords, username, pop3_password_t)
UAT_CSTRING_CB_DEF(pop3_passwords, password, pop3_password_t)

static void *
pop3_password_copy_cb(void *dest, const void *orig, size_t len _U_)
{
    pop3_password_t *d = (pop3_password_t *)dest;
    const pop3_password_t *o = (const pop3_password_t *)orig;

    d->username = g_strdup(o->username);
    d->password = g_strdup(o->password);
    return d;
}

static void
pop3_password_free_cb(void *r)
{
    pop3_password_t *rec = (pop3_password_t *)r;

    g_free(rec->username);
    g_free(rec->password);
}

/* ---------------------------------------------------------------------------------------------
 * Per-conversation and per-call state
 * ------------------------------------------------------------------------------------------- */

typedef struct pop3_request {
    guint32 request_frame;
    guint32 response_frame;
    guint32 data_end_frame; /* where the multi-line answer ends (0: not seen) */
    gboolean has_announced;
    nstime_t request_time;
    const char *label; /* the command as the Info column names it ("RETR 2"): file scope, or
                        * the library's static name of a command sent without argument */
    guint64 announced; /* the +OK's octet count */
} pop3_request;

typedef struct pop3_conv {
    pop3d_session *session; /* NULL once freed (conversation ended, end of file, fatal error) */
    pop3d_tcp *tcp;         /* puts TCP segments in the conversation's order; NULL when the
                             * payload comes from TLS or once freed */
    pop3d_decrypted *dec;   /* puts TLS payload in the conversation's order (from the TCP
                             * positions of the segments TLS handed it over on); NULL before
                             * TLS, without TCP positions, or once freed */
    gboolean direct;        /* TLS payload (or TCP without struct tcpinfo): the TCP follower is
                             * not used */
    gboolean has_tcp_next[2];
    guint32 tcp_next[2];  /* the TCP sequence number after the last byte seen (cleartext) */
    gboolean ended;       /* the session was finished and freed */
    guint32 finish_frame; /* the frame on which the session was finished (0: not yet) */
    gboolean fin_seen[2]; /* a FIN of that direction was fed */
    guint32 fin_seq[2];   /* its sequence number */
    guint32 fin_ack[2];   /* what it acknowledged */
    gboolean fin_has_ack[2];
    gboolean rst_seen, rst_from_server; /* the first RST fed */
    GHashTable *held_times; /* frame number -> nstime_t *, frames whose bytes may be waiting */
    guint32 last_tag[2];    /* the frame of the last bytes fed in each direction */
    gboolean has_ack[2];    /* a segment of that direction had ACK */
    guint32 ack_high[2];    /* the highest acknowledgement number of that direction */
    address server_addr;
    guint32 server_port;
    GByteArray *body;       /* multi-line response being accumulated (first pass) */
    pop3_request *requests; /* index request_id - 1; file scope, trimmed to request_count
                             * when the session ends */
    guint32 request_count;
    guint32 request_capacity;
    gboolean end_decided; /* pop3-end.c has recorded the connection's end */
    gboolean failed;
    guint32 data_lines;    /* lines of the multi-line answer in progress (first pass) */
    const char *last_user; /* file scope; shared by the chunks while it stays the same */
} pop3_conv;

typedef struct pop3_message {
    guint8 *data; /* g_malloc'd; owned by `owned_messages` */
    guint32 length;
} pop3_message;

#define CHUNK_RETRANSMISSION 0x01u
#define CHUNK_FAILED 0x02u
#define CHUNK_HELD 0x04u      /* the frame's bytes wait for bytes captured later */
#define CHUNK_AFTER_END 0x08u /* the conversation had ended */
#define CHUNK_FINISH 0x10u    /* what finishing the session produced */

/* What one call of the dissector on one frame produced: a list of parts, one per run of bytes
 * the session was fed (from this frame's bytes or, put back in order, from an earlier frame's),
 * lost run or end. Call-wide fields are on the first part. Built in the frame's pool on the first
 * pass and kept packed (pop3_record); every pass reads the parts back into this form. */
typedef struct pop3_chunk {
    struct pop3_chunk *next;
    pop3_conv *conv;
    guint64 base;       /* stream offset of the tvb's byte 0 (G_MAXUINT64: not in the tvb) */
    guint32 tag;        /* the frame whose bytes these are */
    guint32 fed_from;   /* first part: tvb bytes dropped as already decoded (retransmission) */
    guint32 fed_length; /* bytes fed */
    guint8 direction;
    guint8 flags;
    guint32 blob_offset; /* first pass: where its events start in the call's encoded bytes */
    guint32 blob_length;
    const guint8 *blob; /* serialised events (event-codec.h) */
    guint32 message_count;
    pop3_message *messages;    /* the reassembled responses ending here, in DATA_END order */
    guint32 data_lines_before; /* lines of the answer in progress when this chunk starts */
    const char *user;          /* the session user after this chunk (library's answer) */
} pop3_chunk;

/* The parts of one call as kept for the whole file: one allocation, the parts' fields as
 * variable-length integers (present only when not 0) followed by their events. A short
 * conversation's frames take a few bytes each beyond their events. */
typedef struct pop3_record {
    pop3_conv *conv;
    const char *user; /* the session user after this call (file scope, shared), or NULL */
    guint32 length;   /* bytes in `parts` */
    guint8 parts[];
} pop3_record;

static GPtrArray *all_convs = NULL;      /* pop3_conv *: sessions to free at cleanup */
static GPtrArray *owned_messages = NULL; /* g_malloc'd message bodies */

/* ---------------------------------------------------------------------------------------------
 * First pass: feeding the session
 * ------------------------------------------------------------------------------------------- */

typedef struct feed_ctx {
    pop3_conv *conv;
    packet_info *pinfo;
    pop3_codec_encoder enc;
    GArray *messages; /* pop3_message */
    gboolean starttls;
    /* the parts being built */
    tvbuff_t *tvb; /* this call's bytes (NULL: none) */
    guint32 tvb_dir;
    guint32 tvb_seq; /* TCP sequence number of the tvb's byte 0 */
    gboolean has_seq;
    gboolean has_tvb_offset; /* decrypted bytes: the stream offset the follower gave the tvb */
    guint64 tvb_offset;
    pop3_codec_buf encoded;
    pop3_chunk *head, *tail, *cur;
    guint32 tag;           /* the frame whose bytes are being fed */
    guint32 retransmitted; /* bytes of this frame dropped as already decoded */
    gboolean finishing;    /* events of pop3d_session_finish: a partial last line's bytes
                            * came with the last bytes fed in its direction */
} feed_ctx;

static void frame_view(tvbuff_t *tvb, guint64 base, pop3_codec_frame *frame);
static pop3d_decrypted *conv_decrypted(pop3_conv *conv, packet_info *pinfo);

/* The time of the frame whose bytes are being fed (a frame held earlier keeps its own). */
static nstime_t
tag_time(const feed_ctx *ctx)
{
    const nstime_t *t = NULL;

    if (ctx->tag != ctx->pinfo->num && ctx->conv->held_times)
        t = (const nstime_t *)g_hash_table_lookup(ctx->conv->held_times,
                                                  GUINT_TO_POINTER(ctx->tag));
    return t ? *t : ctx->pinfo->abs_ts;
}

/* Ends the part being built: its events are the encoded bytes since it began. */
static void
part_close(feed_ctx *ctx)
{
    pop3_chunk *part = ctx->cur;

    if (!part)
        return;
    part->blob_length = (guint32)(ctx->encoded.len - part->blob_offset);
    if (ctx->messages->len) {
        part->message_count = ctx->messages->len;
        part->messages = (pop3_message *)wmem_memdup(ctx->pinfo->pool, ctx->messages->data,
                                                     ctx->messages->len * sizeof(pop3_message));
        g_array_set_size(ctx->messages, 0);
    }
    ctx->cur = NULL;
}

/* Starts a part: events that follow are recorded in it. */
static pop3_chunk *
part_begin(feed_ctx *ctx, guint32 direction, guint64 base, guint32 tag)
{
    pop3_chunk *part = wmem_new0(ctx->pinfo->pool, pop3_chunk);
    pop3_codec_frame frame;

    part_close(ctx);
    part->blob_offset = (guint32)ctx->encoded.len;
    part->conv = ctx->conv;
    part->direction = (guint8)direction;
    part->base = base;
    part->tag = tag;
    part->data_lines_before = ctx->conv->data_lines;
    if (ctx->tail)
        ctx->tail->next = part;
    else
        ctx->head = part;
    ctx->tail = part;
    ctx->cur = part;
    ctx->tag = tag;
    frame_view(ctx->tvb, base, &frame);
    pop3_codec_encoder_init(&ctx->enc, &ctx->encoded, &frame);
    return part;
}

static pop3_request *
conv_request(pop3_conv *conv, guint64 request_id, gboolean create)
{
    if (request_id == 0 || request_id > G_MAXUINT32)
        return NULL;
    if (request_id > conv->request_count) {
        guint32 count = (guint32)request_id;
        if (!create)
            return NULL;
        if (count > conv->request_capacity) {
            guint32 capacity = conv->request_capacity ? conv->request_capacity : 8;
            while (capacity < count)
                capacity = capacity > G_MAXUINT32 / 2 ? count : capacity * 2;
            conv->requests = (pop3_request *)wmem_realloc(wmem_file_scope(), conv->requests,
                                                          (size_t)capacity * sizeof(pop3_request));
            conv->request_capacity = capacity;
        }
        memset(conv->requests + conv->request_count, 0,
               (size_t)(count - conv->request_count) * sizeof(pop3_request));
        conv->request_count = count;
    }
    return &conv->requests[request_id - 1];
}

/* Once no command can come: the requests take only the room they use. */
static void
conv_requests_trim(pop3_conv *conv)
{
    if (conv->request_capacity > conv->request_count) {
        /* size 0 frees it and gives NULL */
        conv->requests = (pop3_request *)wmem_realloc(
            wmem_file_scope(), conv->requests, (size_t)conv->request_count * sizeof(pop3_request));
        conv->request_capacity = conv->request_count;
    }
}

static const pop3d_item *
find_item(const pop3d_event *ev, guint32 field)
{
    size_t i;

    for (i = 0; i < ev->item_count; i++)
        if (ev->items[i].field == field)
            return &ev->items[i];
    return NULL;
}

/* Printable text of at most `max` bytes (cut with an ellipsis). */
static char *
item_text_cut(wmem_allocator_t *scope, const pop3d_item *it, size_t max)
{
    size_t n;

    if (!it || !it->text || !it->text_length)
        return NULL;
    n = it->text_length > max ? max : it->text_length;
    return n < it->text_length ? wmem_strdup_printf(scope, "%s" UTF8_HORIZONTAL_ELLIPSIS,
                                                    pop3_format_text(scope, it->text, n))
                               : pop3_format_text(scope, it->text, n);
}

/* How the Info column names a command: its verb and argument, without secrets (PASS's password,
 * APOP's digest, AUTH's initial response): "RETR 2", "APOP alice", "AUTH PLAIN". */
static char *
command_label(wmem_allocator_t *scope, const pop3d_event *ev)
{
    const pop3d_item *verb_item = find_item(ev, POP3D_FIELD_REQUEST_COMMAND);
    const pop3d_item *param_item = find_item(ev, POP3D_FIELD_REQUEST_PARAMETER);
    char *verb = item_text_cut(scope, verb_item, 16);
    char *param = item_text_cut(scope, param_item, 40);
    char *space;

    if (!verb)
        verb = wmem_strdup(scope, pop3d_command_name(ev->command));
    switch (ev->command) {
    case POP3D_CMD_PASS: param = NULL; break;
    case POP3D_CMD_APOP:
    case POP3D_CMD_AUTH:
        if (param && (space = strchr(param, ' ')) != NULL)
            *space = '\0';
        break;
    default: break;
    }
    return param ? wmem_strdup_printf(scope, "%s %s", verb, param) : verb;
}

/* The label kept with a request for the whole file: built in the frame's pool and copied at its
 * length, or the library's static name when that is what it is ("STAT", "QUIT"). */
static const char *
command_label_kept(packet_info *pinfo, const pop3d_event *ev)
{
    const char *label = command_label(pinfo->pool, ev);
    const char *name = pop3d_command_name(ev->command);

    return name && strcmp(label, name) == 0 ? name : wmem_strdup(wmem_file_scope(), label);
}

static int
feed_callback(void *user_data, const pop3d_event *ev)
{
    feed_ctx *ctx = (feed_ctx *)user_data;
    pop3_conv *conv = ctx->conv;
    gboolean has_message = FALSE;
    size_t i;

    if (ev->kind == POP3D_EVENT_TRANSACTION)
        return 0; /* the tree shows commands and responses where they are on the wire */

    if (ctx->finishing && ev->direction < 2 && conv->last_tag[ev->direction])
        ctx->tag = conv->last_tag[ev->direction];
    switch (ev->kind) {
    case POP3D_EVENT_COMMAND: {
        pop3_request *req = conv_request(conv, ev->request_id, TRUE);
        if (req && req->request_frame == 0) {
            req->request_frame = ctx->tag;
            req->request_time = tag_time(ctx);
            req->label = command_label_kept(ctx->pinfo, ev);
        }
        break;
    }
    case POP3D_EVENT_STATUS: {
        pop3_request *req = conv_request(conv, ev->request_id, TRUE);
        const pop3d_item *octets = find_item(ev, POP3D_FIELD_RESPONSE_OCTETS);
        if (req && req->response_frame == 0) {
            req->response_frame = ctx->tag;
            if (octets) {
                req->announced = octets->number;
                req->has_announced = TRUE;
            }
        }
        conv->data_lines = 0;
        if (conv->body) { /* a response that never ended */
            g_byte_array_free(conv->body, TRUE);
            conv->body = NULL;
        }
        break;
    }
    case POP3D_EVENT_DATA_LINE:
        if (ev->piece <= 1)
            conv->data_lines++;
        if (pref_reassemble && ev->data_length) {
            if (!conv->body)
                conv->body = g_byte_array_new();
            if ((guint64)conv->body->len + ev->data_length < G_MAXUINT32)
                g_byte_array_append(conv->body, ev->data, (guint)ev->data_length);
        }
        break;
    case POP3D_EVENT_DATA_END: {
        pop3_request *req = conv_request(conv, ev->request_id, FALSE);
        if (req && req->data_end_frame == 0)
            req->data_end_frame = ctx->tag;
        conv->data_lines = 0;
        if (conv->body) {
            pop3_message msg;
            msg.length = conv->body->len;
            msg.data = g_byte_array_free(conv->body, FALSE);
            conv->body = NULL;
            /* give back the growth slack; realloc shrinks in place */
            msg.data = (guint8 *)g_realloc(msg.data, msg.length ? msg.length : 1);
            g_ptr_array_add(owned_messages, msg.data);
            g_array_append_val(ctx->messages, msg);
            has_message = TRUE;
        }
        break;
    }
    case POP3D_EVENT_STATE:
        for (i = 0; i < ev->item_count; i++)
            if (ev->items[i].field == POP3D_FIELD_SESSION_TLS && ev->items[i].number == 1)
                ctx->starttls = TRUE;
        break;
    default: break;
    }

    if (!ctx->cur) /* events always follow a part's start; kept if that ever changes */
        part_begin(ctx, ev->direction, G_MAXUINT64, ctx->pinfo->num);
    pop3_codec_encode_event(&ctx->enc, ev, has_message);
    return 0;
}

static void
pop3_conv_free_session(pop3_conv *conv)
{
    if (conv->tcp) { /* before the session it borrows */
        pop3d_tcp_free(conv->tcp);
        conv->tcp = NULL;
    }
    if (conv->dec) {
        pop3d_decrypted_free(conv->dec);
        conv->dec = NULL;
    }
    if (conv->held_times) {
        g_hash_table_destroy(conv->held_times);
        conv->held_times = NULL;
    }
    if (conv->session) {
        pop3d_session_free(conv->session);
        conv->session = NULL;
    }
    if (conv->body) {
        g_byte_array_free(conv->body, TRUE);
        conv->body = NULL;
    }
}

static pop3_conv *
get_conv(packet_info *pinfo, gboolean from_tls)
{
    conversation_t *conversation = find_or_create_conversation(pinfo);
    pop3_conv *conv = (pop3_conv *)conversation_get_proto_data(conversation, proto_pop3);
    pop3d_options options;
    gboolean server_is_dst;
    guint i;

    if (conv)
        return conv;

    conv = wmem_new0(wmem_file_scope(), pop3_conv);
    /* The server is the side of the port we were called for (TCP's port table, Decode As, or
     * TLS, which sets match_uint to the server's port); failing that, the lower port. */
    if (pinfo->match_uint == pinfo->destport && pinfo->match_uint != pinfo->srcport)
        server_is_dst = TRUE;
    else if (pinfo->match_uint == pinfo->srcport && pinfo->match_uint != pinfo->destport)
        server_is_dst = FALSE;
    else
        server_is_dst = pinfo->destport <= pinfo->srcport;
    copy_address_wmem(wmem_file_scope(), &conv->server_addr,
                      server_is_dst ? &pinfo->dst : &pinfo->src);
    conv->server_port = server_is_dst ? pinfo->destport : pinfo->srcport;

    pop3d_options_init(&options);
    options.max_line = pref_max_line < 64 ? 64 : pref_max_line;
    options.implicit_tls = from_tls ? 1 : 0;
    conv->session = pop3d_session_new(&options);
    if (conv->session) {
        for (i = 0; i < num_pop3_passwords; i++) {
            const pop3_password_t *pw = &pop3_passwords[i];
            if (pw->username && pw->password)
                pop3d_session_add_password(conv->session, pw->username, strlen(pw->username),
                                           pw->password, strlen(pw->password));
        }
    } else {
        conv->failed = TRUE;
    }
    g_ptr_array_add(all_convs, conv);
    conversation_add_proto_data(conversation, proto_pop3, conv);
    return conv;
}

/* The tvb's bytes as the event codec sees them; byte 0 is at stream offset `base`. A base of
 * G_MAXUINT64 (or no tvb) means none of the bytes shown are in the tvb. */
static void
frame_view(tvbuff_t *tvb, guint64 base, pop3_codec_frame *frame)
{
    guint captured = tvb && base != G_MAXUINT64 ? tvb_captured_length(tvb) : 0;

    frame->base = base;
    frame->length = captured;
    frame->bytes = captured ? tvb_get_ptr(tvb, 0, (gint)captured) : NULL;
}

static void *
pool_alloc0(void *pool, size_t size)
{
    return wmem_alloc0((wmem_allocator_t *)pool, size);
}

static guint32
frame_direction(packet_info *pinfo, const pop3_conv *conv)
{
    return (pinfo->srcport == conv->server_port && addresses_equal(&pinfo->src, &conv->server_addr))
               ? POP3D_SERVER_TO_CLIENT
               : POP3D_CLIENT_TO_SERVER;
}

/* ---------------------------------------------------------------------------------------------
 * Records: the parts of one call, packed
 * ------------------------------------------------------------------------------------------- */

#define PART_BASE 0x01u       /* base follows (else none of its bytes are in the tvb) */
#define PART_FLAGS 0x02u      /* a flags byte follows */
#define PART_FED_LENGTH 0x04u /* fed_length follows */
#define PART_LINES 0x08u      /* data_lines_before follows */
#define PART_FED_FROM 0x10u   /* fed_from follows */
#define PART_MESSAGES 0x20u   /* message count, then each message's pointer and length */
#define PART_SERVER 0x40u     /* direction POP3D_SERVER_TO_CLIENT */
#define PART_DIRECTION 0x80u  /* another direction: its byte follows */
#define PART_MAX_HEADER 64u   /* 2 bytes, 6 integers of at most 10 bytes */

static guint8 *
put_uv(guint8 *p, guint64 v)
{
    do {
        guint8 c = (guint8)(v & 0x7f);
        v >>= 7;
        *p++ = (guint8)(v ? c | 0x80 : c);
    } while (v);
    return p;
}

static gboolean
get_uv(const guint8 **p, const guint8 *end, guint64 *v)
{
    unsigned shift = 0;

    *v = 0;
    while (*p < end && shift <= 63) {
        guint8 c = *(*p)++;
        *v |= (guint64)(c & 0x7f) << shift;
        if (!(c & 0x80))
            return TRUE;
        shift += 7;
    }
    return FALSE;
}

/* The frame a part's bytes came from, as its distance back from the frame that shows it. */
static guint64
tag_delta(guint32 num, guint32 tag)
{
    gint64 d = (gint64)num - (gint64)tag;
    return ((guint64)d << 1) ^ (guint64)(d >> 63);
}

/* One part's fields (the header) into out (room for PART_MAX_HEADER); returns the end. */
static guint8 *
part_header(guint8 *out, const pop3_chunk *part, guint32 num)
{
    guint8 *p = out + 1;
    guint8 bits = 0;

    if (part->direction == POP3D_SERVER_TO_CLIENT)
        bits |= PART_SERVER;
    else if (part->direction != POP3D_CLIENT_TO_SERVER) {
        bits |= PART_DIRECTION;
        *p++ = part->direction;
    }
    if (part->flags) {
        bits |= PART_FLAGS;
        *p++ = part->flags;
    }
    p = put_uv(p, tag_delta(num, part->tag));
    if (part->base != G_MAXUINT64) {
        bits |= PART_BASE;
        p = put_uv(p, part->base);
    }
    if (part->fed_length) {
        bits |= PART_FED_LENGTH;
        p = put_uv(p, part->fed_length);
    }
    if (part->data_lines_before) {
        bits |= PART_LINES;
        p = put_uv(p, part->data_lines_before);
    }
    if (part->fed_from) {
        bits |= PART_FED_FROM;
        p = put_uv(p, part->fed_from);
    }
    if (part->message_count)
        bits |= PART_MESSAGES;
    p = put_uv(p, part->message_count ? part->message_count : part->blob_length);
    out[0] = bits;
    return p;
}

/* Packs the parts from `head` on (their events are in `encoded`) into one file-scope record. */
static pop3_record *
record_pack(packet_info *pinfo, pop3_conv *conv, const pop3_chunk *head,
            const pop3_codec_buf *encoded)
{
    guint8 header[PART_MAX_HEADER];
    const pop3_chunk *part;
    size_t length = 0;
    pop3_record *rec;
    guint8 *p;
    guint32 i;

    for (part = head; part; part = part->next) {
        length += (size_t)(part_header(header, part, pinfo->num) - header) + part->blob_length;
        if (part->message_count) /* then: each message, and the events' length */
            length += part->message_count * (sizeof(guint8 *) + 5) + 5;
    }
    rec = (pop3_record *)wmem_alloc(wmem_file_scope(), offsetof(pop3_record, parts) + length);
    rec->conv = conv;
    rec->user = head->user;
    p = rec->parts;
    for (part = head; part; part = part->next) {
        p = part_header(p, part, pinfo->num);
        if (part->message_count) {
            for (i = 0; i < part->message_count; i++) {
                memcpy(p, &part->messages[i].data, sizeof(guint8 *));
                p = put_uv(p + sizeof(guint8 *), part->messages[i].length);
            }
            p = put_uv(p, part->blob_length);
        }
        if (part->blob_length) {
            memcpy(p, encoded->data + part->blob_offset, part->blob_length);
            p += part->blob_length;
        }
    }
    rec->length = (guint32)(p - rec->parts);
    /* the message lengths were counted at their largest: give back what they did not take */
    if (rec->length < length)
        rec = (pop3_record *)wmem_realloc(wmem_file_scope(), rec,
                                          offsetof(pop3_record, parts) + rec->length);
    return rec;
}

/* A record of a single part without events. */
static pop3_record *
record_single(packet_info *pinfo, pop3_conv *conv, guint32 direction, guint64 base, guint8 flags)
{
    pop3_chunk part;

    memset(&part, 0, sizeof part);
    part.conv = conv;
    part.direction = (guint8)direction;
    part.base = base;
    part.tag = pinfo->num;
    part.flags = flags;
    return record_pack(pinfo, conv, &part, NULL);
}

typedef struct record_reader {
    const pop3_record *rec;
    const guint8 *p;
    const guint8 *end;
} record_reader;

static void
record_reader_init(record_reader *rd, const pop3_record *rec)
{
    rd->rec = rec;
    rd->p = rec->parts;
    rd->end = rec->parts + rec->length;
}

/* The next part into *part (its messages in the frame's pool); FALSE after the last. */
static gboolean
record_next_part(record_reader *rd, packet_info *pinfo, pop3_chunk *part)
{
    const guint8 *p = rd->p, *end = rd->end;
    guint64 v, count = 0;
    guint8 bits;
    guint32 i;

    if (p >= end)
        return FALSE;
    memset(part, 0, sizeof *part);
    part->conv = rd->rec->conv;
    part->user = rd->rec->user;
    part->base = G_MAXUINT64;
    bits = *p++;
    part->direction = (bits & PART_SERVER) ? POP3D_SERVER_TO_CLIENT : POP3D_CLIENT_TO_SERVER;
    if ((bits & PART_DIRECTION) && p < end)
        part->direction = *p++;
    if ((bits & PART_FLAGS) && p < end)
        part->flags = *p++;
    if (!get_uv(&p, end, &v))
        goto bad;
    part->tag = (guint32)((gint64)pinfo->num - ((gint64)(v >> 1) ^ -(gint64)(v & 1)));
    if ((bits & PART_BASE) && !get_uv(&p, end, &part->base))
        goto bad;
    if ((bits & PART_FED_LENGTH) && get_uv(&p, end, &v))
        part->fed_length = (guint32)v;
    if ((bits & PART_LINES) && get_uv(&p, end, &v))
        part->data_lines_before = (guint32)v;
    if ((bits & PART_FED_FROM) && get_uv(&p, end, &v))
        part->fed_from = (guint32)v;
    if (!get_uv(&p, end, &v))
        goto bad;
    if (bits & PART_MESSAGES) {
        count = v;
        if (count > (guint64)(end - p) / sizeof(guint8 *))
            goto bad;
        part->messages = wmem_alloc_array(pinfo->pool, pop3_message, (gsize)count);
        for (i = 0; i < count; i++) {
            memcpy(&part->messages[i].data, p, sizeof(guint8 *));
            p += sizeof(guint8 *);
            if (!get_uv(&p, end, &v))
                goto bad;
            part->messages[i].length = (guint32)v;
        }
        part->message_count = (guint32)count;
        if (!get_uv(&p, end, &v))
            goto bad;
    }
    if (v > (guint64)(end - p))
        goto bad;
    part->blob_length = (guint32)v;
    part->blob = v ? p : NULL;
    rd->p = p + v;
    return TRUE;
bad: /* not written by record_pack: nothing more to read */
    rd->p = end;
    return FALSE;
}

static void
feed_ctx_init(feed_ctx *ctx, pop3_conv *conv, packet_info *pinfo, tvbuff_t *tvb)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->conv = conv;
    ctx->pinfo = pinfo;
    ctx->tvb = tvb;
    ctx->tag = pinfo->num;
    ctx->messages = g_array_new(FALSE, FALSE, sizeof(pop3_message));
}

/* A frame that gave no event: one part of it that says why (flags), none of it in the tvb. */
static void
empty_part(feed_ctx *ctx, guint32 direction, guint8 flags)
{
    pop3_chunk *part = wmem_new0(ctx->pinfo->pool, pop3_chunk);

    part->conv = ctx->conv;
    part->base = G_MAXUINT64;
    part->tag = ctx->pinfo->num;
    part->direction = (guint8)direction;
    part->flags = flags;
    ctx->head = ctx->tail = part;
}

/* After the library calls of one frame: the parts, the session user, failure and end. Without
 * `always`, a call that produced nothing (no part, no failure) leaves no record: NULL. */
static pop3_record *
feed_ctx_done(feed_ctx *ctx, int rc, gboolean from_tcp, gboolean always)
{
    pop3_conv *conv = ctx->conv;
    pop3_record *rec = NULL;
    pop3_chunk *head;

    part_close(ctx);
    g_array_free(ctx->messages, TRUE);
    if (!ctx->head && (always || rc != POP3D_OK))
        empty_part(ctx, frame_direction(ctx->pinfo, conv), 0);
    head = ctx->head;
    if (head)
        head->fed_from = ctx->retransmitted;
    if (head && rc == POP3D_OK && conv->session) {
        /* the session user as the library has it after this frame; one copy while unchanged */
        size_t user_length = 0;
        const char *user = pop3d_session_user(conv->session, &user_length);
        if (user && user_length) {
            if (!conv->last_user || strlen(conv->last_user) != user_length ||
                memcmp(conv->last_user, user, user_length) != 0)
                conv->last_user = (const char *)get_utf_8_string(
                    wmem_file_scope(), (const guint8 *)user, (gint)MIN(user_length, 1024));
            head->user = conv->last_user;
        }
    } else if (rc != POP3D_OK) {
        conv->failed = TRUE;
        head->flags |= CHUNK_FAILED;
        pop3_conv_free_session(conv);
    }

    /* STLS accepted: TLS takes the conversation over after this frame, and its payload comes
     * back decrypted: from now on the decrypted-payload follower orders it, from the TCP
     * positions of the segments it comes on, going on from where the TCP streams stand. */
    if (ctx->starttls && from_tcp && tls_handle) {
        ssl_starttls_ack(tls_handle, ctx->pinfo, pop3_tls_handle);
        if (conv->tcp) {
            pop3d_tcp_free(conv->tcp);
            conv->tcp = NULL;
        }
        conv->direct = TRUE;
        conv_decrypted(conv, ctx->pinfo);
    }
    /* Ended: only what later passes need stays (the per-frame records and the requests). */
    if (conv->finish_frame && !conv->ended) {
        conv->ended = TRUE;
        pop3_conv_free_session(conv);
        conv_requests_trim(conv);
    }
    if (head)
        rec = record_pack(ctx->pinfo, conv, head, &ctx->encoded);
    pop3_codec_buf_free(&ctx->encoded);
    return rec;
}

static int report_callback(void *user_data, const pop3d_tcp_report *report);

/* Frames whose decrypted bytes wait keep their time for the requests they carry. */
static void
note_held(pop3_conv *conv, packet_info *pinfo, gboolean has_bytes)
{
    if (!conv->held_times)
        return;
    if (!conv->dec || pop3d_decrypted_buffered_bytes(conv->dec) == 0) {
        g_hash_table_remove_all(conv->held_times);
    } else if (has_bytes) {
        nstime_t *t = g_new(nstime_t, 1);
        *t = pinfo->abs_ts;
        g_hash_table_insert(conv->held_times, GUINT_TO_POINTER(pinfo->num), t);
    }
}

/* TLS payload with the frame's TCP position: through the decrypted-payload follower. */
static pop3_record *
build_chunk_decrypted(tvbuff_t *tvb, packet_info *pinfo, pop3_conv *conv, guint32 flags,
                      guint32 seq, guint32 ack, guint32 length)
{
    guint32 captured = tvb_captured_length(tvb);
    pop3d_tcp_segment seg;
    feed_ctx ctx;
    int rc;

    feed_ctx_init(&ctx, conv, pinfo, tvb);
    ctx.tvb_dir = frame_direction(pinfo, conv);
    ctx.tvb_offset = pop3d_decrypted_offset(conv->dec, ctx.tvb_dir);
    ctx.has_tvb_offset = TRUE;
    memset(&seg, 0, sizeof seg);
    seg.direction = ctx.tvb_dir;
    seg.flags = flags & (POP3D_TCP_FIN | POP3D_TCP_ACK);
    seg.seq = seq;
    seg.ack = ack;
    seg.payload_length = length;
    seg.tag = pinfo->num;
    rc = pop3d_decrypted_add(conv->dec, &seg, captured ? tvb_get_ptr(tvb, 0, captured) : NULL,
                             captured, feed_callback, report_callback, &ctx);
    if (rc == POP3D_OK) {
        note_held(conv, pinfo, captured != 0);
        if (!ctx.head && captured)
            empty_part(&ctx, ctx.tvb_dir, CHUNK_HELD);
    }
    return feed_ctx_done(&ctx, rc, FALSE, TRUE);
}

/* TLS payload without the frame's TCP position (or TCP without struct tcpinfo): fed directly,
 * in the order it comes. */
static pop3_record *
build_chunk_direct(tvbuff_t *tvb, packet_info *pinfo, pop3_conv *conv, gboolean from_tcp)
{
    guint32 captured = tvb_captured_length(tvb);
    guint32 reported = tvb_reported_length(tvb);
    guint32 dir = frame_direction(pinfo, conv);
    feed_ctx ctx;
    int rc = POP3D_OK;

    if (conv->failed || !conv->session)
        return record_single(pinfo, conv, dir, 0, conv->ended ? CHUNK_AFTER_END : CHUNK_FAILED);
    conv->direct = TRUE;
    feed_ctx_init(&ctx, conv, pinfo, tvb);
    part_begin(&ctx, dir, pop3d_session_offset(conv->session, dir), pinfo->num);
    if (captured) {
        ctx.cur->fed_length = captured;
        rc = pop3d_session_feed(conv->session, dir, tvb_get_ptr(tvb, 0, captured), captured,
                                feed_callback, &ctx);
    }
    if (rc == POP3D_OK && reported > captured)
        rc = pop3d_session_gap(conv->session, dir, reported - captured, feed_callback, &ctx);
    return feed_ctx_done(&ctx, rc, from_tcp, TRUE);
}

static int
report_callback(void *user_data, const pop3d_tcp_report *report)
{
    feed_ctx *ctx = (feed_ctx *)user_data;
    pop3_chunk *part;
    guint64 base = G_MAXUINT64;
    guint64 start;

    switch (report->kind) {
    case POP3D_TCP_CHUNK:
        /* this frame's own bytes are shown where they are in its tvb */
        if (ctx->tvb && ctx->has_seq && report->tag == ctx->pinfo->num &&
            report->direction == ctx->tvb_dir &&
            pop3d_tcp_stream_offset(ctx->conv->tcp, report->direction, ctx->tvb_seq, &start) &&
            start <= report->offset &&
            report->offset + report->length <= start + tvb_captured_length(ctx->tvb))
            base = start;
        else if (ctx->tvb && ctx->has_tvb_offset && report->tag == ctx->pinfo->num &&
                 report->direction == ctx->tvb_dir && report->offset == ctx->tvb_offset &&
                 report->length <= tvb_captured_length(ctx->tvb))
            base = ctx->tvb_offset;
        part = part_begin(ctx, report->direction, base, (guint32)report->tag);
        part->fed_length = (guint32)MIN(report->length, G_MAXUINT32);
        if (report->direction < 2)
            ctx->conv->last_tag[report->direction] = (guint32)report->tag;
        break;
    case POP3D_TCP_GAP:
        /* the gap's event is what shows it */
        part_begin(ctx, report->direction, G_MAXUINT64, ctx->pinfo->num);
        break;
    case POP3D_TCP_FINISH:
        part =
            part_begin(ctx, frame_direction(ctx->pinfo, ctx->conv), G_MAXUINT64, ctx->pinfo->num);
        part->flags |= CHUNK_FINISH;
        ctx->conv->finish_frame = ctx->pinfo->num;
        ctx->finishing = TRUE;
        break;
    case POP3D_TCP_NOTICE:
        if (report->notice == POP3D_TCP_NOTICE_RETRANSMISSION && report->tag == ctx->pinfo->num)
            ctx->retransmitted += (guint32)MIN(report->length, G_MAXUINT32);
        break;
    default: break;
    }
    return 0;
}

/* The SYNs seen of TCP conversations (before POP3 was found on them): the follower then knows
 * where each direction's stream starts without waiting for more segments. */
typedef struct syn_record {
    gboolean seen[2];
    guint32 seq[2];
    guint32 frame[2];
    address src[2]; /* who sent each SYN */
    guint32 src_port[2];
    guint32 next[2]; /* the sequence number after the last byte seen (SYN included) */
} syn_record;

static wmem_map_t *syns = NULL; /* conversation_t * -> syn_record * */

/* The conversation's decrypted-payload follower, made when TLS takes over: each TCP stream
 * goes on from where it stands (the cleartext before STLS, or the SYN and the TLS handshake). */
static pop3d_decrypted *
conv_decrypted(pop3_conv *conv, packet_info *pinfo)
{
    conversation_t *conversation;
    const syn_record *rec;
    guint i;

    if (conv->dec || conv->ended || conv->failed || !conv->session)
        return conv->dec;
    conv->dec = pop3d_decrypted_new(conv->session, NULL);
    if (!conv->dec)
        return NULL;
    if (!conv->held_times)
        conv->held_times = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
    conversation = find_conversation_pinfo(pinfo, 0);
    rec = conversation && syns ? (const syn_record *)wmem_map_lookup(syns, conversation) : NULL;
    for (i = 0; i < 2; i++) {
        if (conv->has_tcp_next[i])
            pop3d_decrypted_start(conv->dec, i, conv->tcp_next[i]);
        else if (rec && rec->seen[i])
            pop3d_decrypted_start(conv->dec, i, rec->next[i]);
    }
    return conv->dec;
}

/* Where the stream of direction d stands after a cleartext segment. */
static void
note_tcp_next(pop3_conv *conv, guint32 d, guint32 end)
{
    if (d > 1)
        return;
    if (!conv->has_tcp_next[d] || (gint32)(end - conv->tcp_next[d]) > 0)
        conv->tcp_next[d] = end;
    conv->has_tcp_next[d] = TRUE;
}

static void
remember_flags(pop3_conv *conv, packet_info *pinfo, guint32 flags, guint32 fin_seq, guint32 ack)
{
    guint32 dir = frame_direction(pinfo, conv);
    gboolean from_server = dir == POP3D_SERVER_TO_CLIENT;

    if ((flags & POP3D_TCP_FIN) && !conv->fin_seen[dir]) {
        conv->fin_seen[dir] = TRUE;
        conv->fin_seq[dir] = fin_seq;
        conv->fin_ack[dir] = ack;
        conv->fin_has_ack[dir] = (flags & POP3D_TCP_ACK) != 0;
    }
    if ((flags & POP3D_TCP_RST) && !conv->rst_seen) {
        conv->rst_seen = TRUE;
        conv->rst_from_server = from_server;
    }
}

/* The conversation's follower, created with its first segment. */
static pop3d_tcp *
conv_follower(pop3_conv *conv, packet_info *pinfo)
{
    pop3d_tcp_options options;
    conversation_t *conversation;
    syn_record *syn;
    guint i;

    if (conv->tcp || conv->direct || conv->ended || !conv->session)
        return conv->tcp;
    pop3d_tcp_options_init(&options);
    /* Without a SYN, the first segment fixes a direction's origin: nothing is held back, so
     * a capture in order is shown frame by frame as it comes. */
    options.start_segments = 1;
    conv->tcp = pop3d_tcp_new(conv->session, &options);
    if (!conv->tcp)
        return NULL;
    conv->held_times = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
    conversation = find_conversation_pinfo(pinfo, 0);
    syn = conversation && syns ? (syn_record *)wmem_map_remove(syns, conversation) : NULL;
    for (i = 0; syn && i < 2; i++) {
        pop3d_tcp_segment seg;
        if (!syn->seen[i])
            continue;
        note_tcp_next(conv, i, syn->seq[i] + 1);
        memset(&seg, 0, sizeof seg);
        seg.direction = i;
        seg.flags = POP3D_TCP_SYN;
        seg.seq = syn->seq[i];
        seg.tag = syn->frame[i];
        pop3d_tcp_add(conv->tcp, &seg, NULL, NULL, NULL);
    }
    /* the follower has it now (it is created once per conversation) */
    if (syn)
        wmem_free(wmem_file_scope(), syn);
    return conv->tcp;
}

/* The FIN of direction d was acknowledged by the other side. */
static gboolean
fin_acknowledged(const pop3_conv *conv, guint32 d)
{
    return conv->fin_seen[d] && conv->has_ack[1 - d] &&
           (gint32)(conv->ack_high[1 - d] - (conv->fin_seq[d] + 1)) >= 0;
}

/* Feeds one TCP segment (this call's bytes, or none) to the conversation's follower. */
static int
feed_segment(feed_ctx *ctx, guint32 flags, guint32 seq, guint32 ack, const guint8 *payload,
             guint32 length)
{
    pop3_conv *conv = ctx->conv;
    pop3d_tcp_segment seg;
    int rc;

    memset(&seg, 0, sizeof seg);
    seg.direction = frame_direction(ctx->pinfo, conv);
    seg.flags = flags & (POP3D_TCP_FIN | POP3D_TCP_SYN | POP3D_TCP_RST | POP3D_TCP_ACK);
    seg.seq = seq;
    seg.ack = ack;
    seg.payload = payload;
    seg.payload_length = length;
    seg.tag = ctx->pinfo->num;
    remember_flags(conv, ctx->pinfo, flags, seq + length, ack);
    note_tcp_next(conv, seg.direction,
                  (flags & POP3D_TCP_SYN) ? seq + 1
                                          : seq + length + ((flags & POP3D_TCP_FIN) ? 1 : 0));
    if (flags & POP3D_TCP_ACK) {
        if (!conv->has_ack[seg.direction] || (gint32)(ack - conv->ack_high[seg.direction]) > 0)
            conv->ack_high[seg.direction] = ack;
        conv->has_ack[seg.direction] = TRUE;
    }
    rc = pop3d_tcp_add(conv->tcp, &seg, feed_callback, report_callback, ctx);
    /* Both FINs sent and each acknowledged by the other side: the connection is closed, and
     * bytes still missing were lost (a FIN captured before the last data is not enough: the
     * data still comes). What waits behind the holes is decoded now, the holes are gaps. */
    if (rc == POP3D_OK && conv->tcp && !pop3d_tcp_ended(conv->tcp) && fin_acknowledged(conv, 0) &&
        fin_acknowledged(conv, 1))
        rc = pop3d_tcp_end(conv->tcp, feed_callback, report_callback, ctx);
    /* frames whose bytes may still wait keep their time for the requests they carry */
    if (rc == POP3D_OK && conv->tcp && conv->held_times) {
        if (pop3d_tcp_buffered_bytes(conv->tcp) == 0) {
            g_hash_table_remove_all(conv->held_times);
        } else if (length) {
            nstime_t *t = g_new(nstime_t, 1);
            *t = ctx->pinfo->abs_ts;
            g_hash_table_insert(conv->held_times, GUINT_TO_POINTER(ctx->pinfo->num), t);
        }
    }
    return rc;
}

/* TCP payload with its struct tcpinfo: through the follower. */
static pop3_record *
build_chunk(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, pop3_conv *conv,
            const struct tcpinfo *tcpi, gboolean from_tcp)
{
    guint32 captured = tvb_captured_length(tvb);
    guint32 reported = tvb_reported_length(tvb);
    guint32 flags, seq, ack, length;
    feed_ctx ctx;
    int rc;

    if (!from_tcp && !conv->failed && conv->session) {
        conv->direct = TRUE;
        if (conv_decrypted(conv, pinfo) && pop3_frame_tcp(tree, &flags, &seq, &ack, &length))
            return build_chunk_decrypted(tvb, pinfo, conv, flags, seq, ack, length);
    }
    if (!tcpi || conv->direct)
        return build_chunk_direct(tvb, pinfo, conv, from_tcp);
    if (!conv->tcp && !conv->ended && conv->session && !conv_follower(conv, pinfo))
        conv->failed = TRUE;
    if (!conv->tcp)
        return record_single(pinfo, conv, frame_direction(pinfo, conv), G_MAXUINT64,
                             conv->ended ? CHUNK_AFTER_END : CHUNK_FAILED);

    feed_ctx_init(&ctx, conv, pinfo, tvb);
    ctx.tvb_dir = frame_direction(pinfo, conv);
    ctx.tvb_seq = tcpi->seq;
    ctx.has_seq = TRUE;
    flags = tcpi->flags;
    if (reported > captured) /* cut by the snapshot length: the rest is a hole, not the FIN's */
        flags &= ~(guint32)(POP3D_TCP_FIN | POP3D_TCP_RST);
    rc = feed_segment(&ctx, flags, tcpi->seq, tcpi->lastackseq,
                      captured ? tvb_get_ptr(tvb, 0, captured) : NULL, captured);
    if (rc == POP3D_OK && !ctx.head && captured > ctx.retransmitted)
        empty_part(&ctx, ctx.tvb_dir, CHUNK_HELD);
    else if (rc == POP3D_OK && !ctx.head && captured && ctx.retransmitted >= captured)
        empty_part(&ctx, ctx.tvb_dir, CHUNK_RETRANSMISSION);
    return feed_ctx_done(&ctx, rc, from_tcp, TRUE);
}

/* ---------------------------------------------------------------------------------------------
 * Every pass: showing a chunk
 * ------------------------------------------------------------------------------------------- */

typedef struct show_ctx {
    packet_info *pinfo;
    proto_tree *root; /* the top-level tree (for IMF) */
    proto_tree *tree; /* the pop3 tree */
    tvbuff_t *tvb;
    pop3_chunk *chunk;
    guint next_message;
    /* Info column: a run of data lines is summarised */
    guint data_lines;
    gboolean data_end;
    guint data_dir;
    guint64 data_request;
    guint32 data_first; /* line numbers (within the answer) of the run */
    guint32 data_last;
    guint32 answer_lines; /* lines of the answer in progress so far */
    gboolean info_added;
    /* Tree */
    guint64 linked_request; /* the answer whose context items this frame shows already */
    gboolean user_shown;
    gboolean reordered;     /* the part shown holds bytes of an earlier frame */
    gboolean any_reordered; /* a part of this frame's record did */
} show_ctx;

#define KEY_CALL_COUNT 0
#define KEY_INFO_STARTED 1

static const char *
dir_prefix(guint32 direction)
{
    return direction == POP3D_SERVER_TO_CLIENT ? "S" : "C";
}

/* Appends to the Info column; the separator only between this dissector's own entries (a
 * lower layer's fenced text, e.g. TCP's "[TCP Window Full] ", gets none). */
static void
info_append_pinfo(packet_info *pinfo, const char *text)
{
    if (p_get_proto_data(pinfo->pool, pinfo, proto_pop3, KEY_INFO_STARTED)) {
        col_append_sep_str(pinfo->cinfo, COL_INFO, " | ", text);
    } else {
        col_append_str(pinfo->cinfo, COL_INFO, text);
        p_set_proto_data(pinfo->pool, pinfo, proto_pop3, KEY_INFO_STARTED, GUINT_TO_POINTER(1));
    }
}

static void
info_append(show_ctx *sc, const char *text)
{
    info_append_pinfo(sc->pinfo, text);
    sc->info_added = TRUE;
}

/* 1234567 -> "1,234,567" */
static char *
format_count(wmem_allocator_t *scope, guint64 n)
{
    char digits[24];
    char out[32];
    size_t len, i, o = 0;

    g_snprintf(digits, sizeof digits, "%" PRIu64, n);
    len = strlen(digits);
    for (i = 0; i < len; i++) {
        if (i && (len - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = digits[i];
    }
    out[o] = '\0';
    return wmem_strdup(scope, out);
}

static pop3_request *conv_request(pop3_conv *conv, guint64 request_id, gboolean create);

/* The Info column's name of the command a request id stands for, or NULL. */
static const char *
request_label(show_ctx *sc, guint64 request_id)
{
    pop3_request *req = conv_request(sc->chunk->conv, request_id, FALSE);
    return req ? req->label : NULL;
}

static void
info_flush_data(show_ctx *sc)
{
    if (sc->data_lines || sc->data_end) {
        wmem_strbuf_t *s = wmem_strbuf_new(sc->pinfo->pool, dir_prefix(sc->data_dir));
        const char *label = request_label(sc, sc->data_request);
        wmem_strbuf_append(s, ": ");
        if (label)
            wmem_strbuf_append_printf(s, "%s ", label);
        wmem_strbuf_append(s, "(data");
        if (sc->data_lines == 1 || (sc->data_lines && sc->data_first == sc->data_last))
            wmem_strbuf_append_printf(s, ", line %s", format_count(sc->pinfo->pool, sc->data_last));
        else if (sc->data_lines)
            wmem_strbuf_append_printf(s, ", lines %s-%s",
                                      format_count(sc->pinfo->pool, sc->data_first),
                                      format_count(sc->pinfo->pool, sc->data_last));
        wmem_strbuf_append(s, sc->data_end ? ", end)" : ")");
        info_append(sc, wmem_strbuf_get_str(s));
    }
    sc->data_lines = 0;
    sc->data_end = FALSE;
}

/* Labels hold at most ITEM_LABEL_LENGTH (240) bytes and Wireshark 4.0 cuts them without
 * regard to UTF-8; format_text() may turn one byte into three (U+FFFD). Shown text is cut
 * here, on a character boundary, well below that. */
#define MAX_SHOWN_LINE 160
#define MAX_SHOWN_TEXT 180

static char *
format_bytes(packet_info *pinfo, const guint8 *p, size_t n)
{
    size_t take = n > MAX_SHOWN_LINE ? MAX_SHOWN_LINE : n;
    char *s = pop3_format_text(pinfo->pool, p ? p : (const guint8 *)"", take);
    size_t len = strlen(s);

    if (len > MAX_SHOWN_TEXT) {
        len = MAX_SHOWN_TEXT;
        while (len > 0 && ((guchar)s[len] & 0xC0) == 0x80)
            len--;
        s[len] = '\0';
        take = 0; /* cut: mark it */
    }
    return take < n ? wmem_strdup_printf(pinfo->pool, "%s" UTF8_HORIZONTAL_ELLIPSIS, s) : s;
}

static char *
format_line(packet_info *pinfo, const pop3d_event *ev)
{
    return format_bytes(pinfo, ev->line, ev->line_length);
}

/* What a SASL step carries, by the items the library found in it: "password",
 * "server-first"...; NULL when nothing tells. */
static const char *
sasl_step_name(const pop3d_event *ev)
{
    static const struct {
        guint32 field;
        const char *name;
    } names[] = {
        {POP3D_FIELD_SASL_CANCEL, "cancel"},
        {POP3D_FIELD_SASL_PLAIN_AUTHCID, "credentials"},
        {POP3D_FIELD_SASL_LOGIN_PASSWORD, "password"},
        {POP3D_FIELD_SASL_LOGIN_USERNAME, "user name"},
        {POP3D_FIELD_SASL_LOGIN_PROMPT, "prompt"},
        {POP3D_FIELD_SASL_CRAM_CHALLENGE, "challenge"},
        {POP3D_FIELD_SASL_CRAM_DIGEST, "response"},
        {POP3D_FIELD_SASL_DIGEST_RSPAUTH, "rspauth"},
        {POP3D_FIELD_SASL_DIGEST_RESPONSE, "response"},
        {POP3D_FIELD_SASL_DIGEST_NONCE, "challenge"},
        {POP3D_FIELD_SASL_SCRAM_ERROR, "server-final (error)"},
        {POP3D_FIELD_SASL_SCRAM_VERIFIER, "server-final"},
        {POP3D_FIELD_SASL_SCRAM_PROOF, "client-final"},
        {POP3D_FIELD_SASL_SCRAM_SALT, "server-first"},
        {POP3D_FIELD_SASL_SCRAM_USERNAME, "client-first"},
        {POP3D_FIELD_SASL_XOAUTH2_ERROR, "error"},
        {POP3D_FIELD_SASL_XOAUTH2_TOKEN, "token"},
        {POP3D_FIELD_SASL_OAUTH_HOST, "token"},
        {POP3D_FIELD_SASL_EMPTY, "(empty)"},
    };
    size_t i;

    for (i = 0; i < array_length(names); i++)
        if (find_item(ev, names[i].field))
            return names[i].name;
    return NULL;
}

/* "AUTH SCRAM-SHA-256 server-first", "AUTH LOGIN step 2": never the step's data. */
static char *
sasl_info(show_ctx *sc, const pop3d_event *ev)
{
    wmem_allocator_t *pool = sc->pinfo->pool;
    const pop3d_item *mech = find_item(ev, POP3D_FIELD_SASL_MECHANISM);
    const pop3d_item *step = find_item(ev, POP3D_FIELD_SASL_STEP);
    const char *name = sasl_step_name(ev);
    char *mech_text = item_text_cut(pool, mech, 40);
    wmem_strbuf_t *s = wmem_strbuf_new(pool, dir_prefix(ev->direction));

    wmem_strbuf_append(s, ": AUTH");
    if (mech_text)
        wmem_strbuf_append_printf(s, " %s", mech_text);
    if (name)
        wmem_strbuf_append_printf(s, " %s", name);
    else if (step)
        wmem_strbuf_append_printf(s, " step %" PRIu64, step->number);
    else
        wmem_strbuf_append(s, ev->line_length ? " step" : " (empty)");
    return wmem_strbuf_finalize(s);
}

static void
info_event(show_ctx *sc, const pop3d_event *ev)
{
    wmem_allocator_t *pool = sc->pinfo->pool;
    const char *label;

    switch (ev->kind) {
    case POP3D_EVENT_DATA_LINE:
        if ((sc->data_lines || sc->data_end) &&
            (sc->data_dir != ev->direction || sc->data_request != ev->request_id))
            info_flush_data(sc);
        sc->data_dir = ev->direction;
        sc->data_request = ev->request_id;
        if (ev->piece <= 1) {
            sc->answer_lines++;
            if (sc->data_lines++ == 0)
                sc->data_first = sc->answer_lines;
            sc->data_last = sc->answer_lines;
        }
        return;
    case POP3D_EVENT_DATA_END:
        if ((sc->data_lines || sc->data_end) &&
            (sc->data_dir != ev->direction || sc->data_request != ev->request_id))
            info_flush_data(sc);
        sc->data_dir = ev->direction;
        sc->data_request = ev->request_id;
        sc->data_end = TRUE;
        info_flush_data(sc);
        sc->answer_lines = 0;
        return;
    case POP3D_EVENT_STATE:
    case POP3D_EVENT_AUTH_RESULT:
    case POP3D_EVENT_END: return;
    default: break;
    }
    info_flush_data(sc);
    switch (ev->kind) {
    case POP3D_EVENT_SKIPPED:
        info_append(sc, wmem_strdup_printf(pool, "%s: (%" PRIu64 " bytes skipped)",
                                           dir_prefix(ev->direction), ev->length));
        break;
    case POP3D_EVENT_TLS:
        info_append(sc, wmem_strdup_printf(pool, "%s: (TLS, %" PRIu64 " bytes)",
                                           dir_prefix(ev->direction), ev->length));
        break;
    case POP3D_EVENT_SASL_CLIENT:
    case POP3D_EVENT_SASL_SERVER:
        if (ev->piece > 1)
            return;
        info_append(sc, sasl_info(sc, ev));
        break;
    case POP3D_EVENT_COMMAND:
        if (ev->piece > 1)
            return;
        if (ev->command == POP3D_CMD_AUTH) {
            /* the mechanism and what the initial response carries, never its data */
            const char *name = sasl_step_name(ev);
            gboolean initial = find_item(ev, POP3D_FIELD_SASL_INITIAL_RESPONSE) != NULL;
            info_append(sc, wmem_strdup_printf(pool, "%s: %s%s%s%s", dir_prefix(ev->direction),
                                               command_label(pool, ev), name ? " " : "",
                                               name ? name : "",
                                               !name && initial ? " (initial response)" : ""));
            break;
        }
        /* fall through */
    default:
        if (ev->piece > 1)
            return; /* a long line is listed once */
        if (ev->kind == POP3D_EVENT_STATUS)
            sc->answer_lines = 0;
        label = ev->kind == POP3D_EVENT_STATUS ? request_label(sc, ev->request_id) : NULL;
        info_append(sc,
                    wmem_strdup_printf(pool, "%s: %s%s%s%s", dir_prefix(ev->direction),
                                       ev->line_length ? format_line(sc->pinfo, ev) : "(empty)",
                                       label ? " (" : "", label ? label : "", label ? ")" : ""));
        break;
    }
}

static const char *
event_label(guint32 kind)
{
    switch (kind) {
    case POP3D_EVENT_GREETING: return "Greeting";
    case POP3D_EVENT_COMMAND: return "Request";
    case POP3D_EVENT_STATUS: return "Response";
    case POP3D_EVENT_DATA_LINE: return "Data line";
    case POP3D_EVENT_DATA_END: return "End of data";
    case POP3D_EVENT_SASL_SERVER: return "SASL challenge";
    case POP3D_EVENT_SASL_CLIENT: return "SASL response";
    case POP3D_EVENT_STATE: return "Session state";
    case POP3D_EVENT_AUTH_RESULT: return "Authentication";
    case POP3D_EVENT_UNPARSED: return "Unparsed line";
    case POP3D_EVENT_SKIPPED: return "Skipped bytes";
    case POP3D_EVENT_TLS: return "TLS data";
    case POP3D_EVENT_END: return "End of connection";
    default: return "Event";
    }
}

/* Where an event's bytes are shown: a tvb and the stream offset of its byte 0. */
typedef struct event_view {
    tvbuff_t *tvb;
    guint64 origin;
    gint start; /* the event's range in tvb */
    gint length;
} event_view;

/* Clamps a stream range to what `tvb` holds (origin = stream offset of tvb byte 0). */
static void
clamp_range(tvbuff_t *tvb, guint64 origin, guint64 offset, guint64 length, gint *start, gint *len)
{
    guint avail = tvb_captured_length(tvb);
    guint64 rel;

    if (offset < origin || offset - origin > avail) {
        *start = 0;
        *len = 0;
        return;
    }
    rel = offset - origin;
    *start = (gint)rel;
    *len = (gint)(length > avail - rel ? avail - rel : length);
}

static gboolean
field_valid(guint32 field)
{
    return field < POP3D_FIELD_COUNT && hf_field[field] > 0;
}

static void
call_sub_dissector(show_ctx *sc, dissector_handle_t handle, tvbuff_t *tvb, proto_tree *tree)
{
    /* Wireshark's exception macros, laid out as statements: */
    /* clang-format off */
    TRY {
        call_dissector(handle, tvb, sc->pinfo, tree);
    }
    CATCH_NONFATAL_ERRORS {
        show_exception(tvb, sc->pinfo, tree, EXCEPT_CODE, GET_MESSAGE);
    }
    ENDTRY;
    /* clang-format on */
}

static proto_item *
add_item(show_ctx *sc, proto_tree *parent, const pop3d_event *ev, const pop3d_item *it,
         const event_view *view, tvbuff_t **buffer_tvbs)
{
    packet_info *pinfo = sc->pinfo;
    int hf = hf_field[it->field];
    tvbuff_t *t = view->tvb;
    gint start = view->start, len = 0;
    proto_item *pi = NULL;
    const guint8 *text = it->text ? it->text : (const guint8 *)"";
    gint text_len = it->text_length > G_MAXINT ? G_MAXINT : (gint)it->text_length;
    gboolean token =
        it->field == POP3D_FIELD_SASL_NTLM_TOKEN || it->field == POP3D_FIELD_SASL_GSSAPI_TOKEN;

    if (!parent && !token)
        return NULL; /* no tree: nothing to build (the security tokens still go to their
                        dissectors, which keep state across frames) */

    if (it->source > 0 && it->source <= ev->buffer_count) {
        tvbuff_t **bt = &buffer_tvbs[it->source - 1];
        const pop3d_buffer *buf = &ev->buffers[it->source - 1];
        if (!*bt && buf->length > 0 && buf->length < G_MAXINT) {
            guint8 *copy = (guint8 *)wmem_memdup(pinfo->pool, buf->data, buf->length);
            *bt = tvb_new_child_real_data(sc->tvb, copy, (guint)buf->length, (gint)buf->length);
            add_new_data_source(pinfo, *bt, "Decoded SASL");
        }
        if (*bt) {
            t = *bt;
            if (!(it->flags & POP3D_ITEM_GENERATED))
                clamp_range(t, 0, it->offset, it->length, &start, &len);
            else
                start = 0;
        }
    } else if (!(it->flags & POP3D_ITEM_GENERATED) && it->source == 0) {
        clamp_range(t, view->origin, it->offset, it->length, &start, &len);
    }

    switch (pop3d_field_type_of(it->field)) {
    case POP3D_TYPE_NONE:
        pi = proto_tree_add_item(parent, hf, t, start, len, ENC_NA);
        if (it->text_length)
            proto_item_append_text(pi, ": %s", format_bytes(pinfo, text, (size_t)text_len));
        break;
    case POP3D_TYPE_STRING:
        pi = proto_tree_add_string(parent, hf, t, start, len,
                                   (const char *)get_utf_8_string(pinfo->pool, text, text_len));
        break;
    case POP3D_TYPE_UINT: pi = proto_tree_add_uint64(parent, hf, t, start, len, it->number); break;
    case POP3D_TYPE_BOOL:
        pi = proto_tree_add_boolean(parent, hf, t, start, len, it->number ? 1 : 0);
        break;
    case POP3D_TYPE_BYTES:
        pi = proto_tree_add_bytes_with_length(parent, hf, t, start, len, text, text_len);
        break;
    default: return NULL;
    }
    if (it->flags & POP3D_ITEM_GENERATED)
        proto_item_set_generated(pi);

    /* Security tokens go to their own dissectors. */
    if (token && it->text_length > 0 && text_len > 0) {
        dissector_handle_t h =
            it->field == POP3D_FIELD_SASL_NTLM_TOKEN ? ntlmssp_handle : gssapi_handle;
        if (h) {
            tvbuff_t *sub;
            if (t != view->tvb && len == text_len &&
                tvb_memeql(t, start, text, (size_t)text_len) == 0) {
                sub = tvb_new_subset_length(t, start, len);
            } else {
                guint8 *copy = (guint8 *)wmem_memdup(pinfo->pool, text, (size_t)text_len);
                sub = tvb_new_child_real_data(sc->tvb, copy, (guint)text_len, text_len);
                add_new_data_source(pinfo, sub, "Decoded SASL");
            }
            call_sub_dissector(sc, h, sub, proto_item_add_subtree(pi, ett_field[it->field]));
        }
    }
    return pi;
}

static char *
item_string(packet_info *pinfo, const pop3d_item *it)
{
    if (!it || !it->text)
        return NULL;
    return (char *)get_utf_8_string(pinfo->pool, it->text,
                                    it->text_length > G_MAXINT ? G_MAXINT : (gint)it->text_length);
}

static void
tap_credentials(show_ctx *sc, const pop3d_event *ev)
{
    packet_info *pinfo = sc->pinfo;
    const pop3d_item *user = find_item(ev, POP3D_FIELD_AUTH_USERNAME);
    const pop3d_item *pass = find_item(ev, POP3D_FIELD_AUTH_PASSWORD);
    const pop3d_item *method = find_item(ev, POP3D_FIELD_AUTH_METHOD);
    const pop3d_item *result = find_item(ev, POP3D_FIELD_AUTH_RESULT);
    const pop3d_item *verified = find_item(ev, POP3D_FIELD_AUTH_VERIFIED);
    const pop3d_item *authzid = find_item(ev, POP3D_FIELD_AUTH_AUTHZID);
    tap_credential_t *auth;
    pop3_request *req;
    GString *info;
    const char *name;

    if (credentials_tap < 0 || !have_tap_listener(credentials_tap))
        return;
    name = pop3_login_name(pinfo->pool, user && user->text_length ? item_string(pinfo, user) : NULL,
                           authzid && authzid->text_length ? item_string(pinfo, authzid) : NULL);
    if (!name)
        return;
    auth = wmem_new0(pinfo->pool, tap_credential_t);
    req = conv_request(sc->chunk->conv, ev->request_id, FALSE);
    auth->num = pinfo->num;
    auth->username_num = req && req->request_frame ? req->request_frame : pinfo->num;
    auth->password_hf_id = pass ? (guint)hf_field[POP3D_FIELD_AUTH_PASSWORD] : 0;
    auth->username = wmem_strdup(pinfo->pool, name);
    auth->proto = "POP3";
    info = g_string_new(NULL);
    g_string_append(info, method ? item_string(pinfo, method) : "login");
    if (pass)
        g_string_append_printf(info, ", password: %s", item_string(pinfo, pass));
    if (result)
        g_string_append_printf(info, ", %s", item_string(pinfo, result));
    if (verified)
        g_string_append(info, verified->number ? ", verified" : ", wrong password");
    auth->info = wmem_strdup(pinfo->pool, info->str);
    g_string_free(info, TRUE);
    tap_queue_packet(credentials_tap, pinfo, auth);
}

static void
show_message(show_ctx *sc, const pop3d_event *ev, proto_tree *event_tree)
{
    pop3_chunk *chunk = sc->chunk;
    pop3_message *msg;
    tvbuff_t *mtvb;
    gboolean writable;

    if (sc->next_message >= chunk->message_count)
        return;
    msg = &chunk->messages[sc->next_message++];
    if (msg->length == 0 || msg->length > G_MAXINT)
        return;
    mtvb = tvb_new_child_real_data(sc->tvb, msg->data, msg->length, (gint)msg->length);
    /* A TOP answer is the headers and a few lines, not the message: it goes to IMF (and to
     * --export-objects imf) only when asked for. */
    if (pref_imf && imf_handle &&
        (ev->command == POP3D_CMD_RETR || (ev->command == POP3D_CMD_TOP && pref_imf_top))) {
        add_new_data_source(sc->pinfo, mtvb, "Message");
        /* IMF would replace the summary in the Info column */
        writable = col_get_writable(sc->pinfo->cinfo, COL_INFO);
        col_set_writable(sc->pinfo->cinfo, COL_INFO, FALSE);
        call_sub_dissector(sc, imf_handle, mtvb, sc->root);
        col_set_writable(sc->pinfo->cinfo, COL_INFO, writable);
    } else {
        add_new_data_source(sc->pinfo, mtvb, "Reassembled data");
        (void)event_tree;
    }
}

/* A line of a message (no item of its own but the stuffing flag): shown as pop3.data with its
 * unstuffed text. */
static gboolean
data_line_is_item(const pop3d_event *ev)
{
    size_t i;

    if (ev->kind != POP3D_EVENT_DATA_LINE || !field_valid(POP3D_FIELD_DATA))
        return FALSE;
    for (i = 0; i < ev->item_count; i++) {
        if (ev->items[i].field == POP3D_FIELD_DATA)
            return FALSE;
        if (ev->items[i].parent < 0 && ev->items[i].field != POP3D_FIELD_DATA_STUFFED)
            return FALSE;
    }
    return TRUE;
}

static gboolean
same_place(const pop3d_item *a, const pop3d_item *b)
{
    return a->source == b->source && a->offset == b->offset && a->length == b->length;
}

static gboolean
same_text(const pop3d_item *a, const pop3d_item *b)
{
    return a->text_length == b->text_length &&
           (a->text_length == 0 || memcmp(a->text, b->text, a->text_length) == 0);
}

/* Generic fields that repeat a mechanism's (or a more precise) field at the same bytes: kept
 * for filters, hidden from the tree. */
static gboolean
generic_field(guint32 field)
{
    switch (field) {
    case POP3D_FIELD_AUTH_USERNAME:
    case POP3D_FIELD_AUTH_PASSWORD:
    case POP3D_FIELD_AUTH_SECRET:
    case POP3D_FIELD_AUTH_AUTHZID:
    case POP3D_FIELD_CAPA_VALUE: return TRUE;
    default: return FALSE;
    }
}

static gboolean
repeats_precise_item(const pop3d_event *ev, size_t index)
{
    const pop3d_item *it = &ev->items[index];
    size_t j;

    if (!generic_field(it->field) || !it->text_length)
        return FALSE;
    for (j = 0; j < ev->item_count; j++)
        if (j != index && !generic_field(ev->items[j].field) && field_valid(ev->items[j].field) &&
            same_place(it, &ev->items[j]) && same_text(it, &ev->items[j]))
            return TRUE;
    return FALSE;
}

/* The first item of each answer in a frame that does not hold its +OK: which command it
 * answers, and where the answer ends. */
static void
show_answer_context(show_ctx *sc, const pop3d_event *ev, tvbuff_t *tvb)
{
    packet_info *pinfo = sc->pinfo;
    pop3_request *req = conv_request(sc->chunk->conv, ev->request_id, FALSE);
    proto_item *pi;
    const char *verb = NULL;

    if (!req || req->response_frame == sc->chunk->tag)
        return;
    if (req->request_frame) {
        pi = proto_tree_add_uint(sc->tree, hf_response_to, tvb, 0, 0, req->request_frame);
        proto_item_set_generated(pi);
    }
    if (req->label) {
        const char *space = strchr(req->label, ' ');
        verb = space ? wmem_strndup(pinfo->pool, req->label, (size_t)(space - req->label))
                     : req->label;
    } else if (ev->command != POP3D_CMD_NONE) {
        verb = pop3d_command_name(ev->command);
    }
    if (verb && field_valid(POP3D_FIELD_RESPONSE_TO_COMMAND)) {
        pi = proto_tree_add_string(sc->tree, hf_field[POP3D_FIELD_RESPONSE_TO_COMMAND], tvb, 0, 0,
                                   verb);
        proto_item_set_generated(pi);
    }
    if (req->data_end_frame && req->data_end_frame != sc->chunk->tag) {
        pi = proto_tree_add_uint(sc->tree, hf_data_end_in, tvb, 0, 0, req->data_end_frame);
        proto_item_set_generated(pi);
    }
}

/* At the end of a RETR answer: the +OK's octet count beside the octets received. */
static void
show_answer_figures(show_ctx *sc, const pop3d_event *ev, proto_tree *tree, tvbuff_t *tvb)
{
    pop3_request *req = conv_request(sc->chunk->conv, ev->request_id, FALSE);
    const pop3d_item *octets = find_item(ev, POP3D_FIELD_DATA_OCTETS);
    proto_item *pi;
    gboolean match;

    if (!req || !req->has_announced || ev->command != POP3D_CMD_RETR || !octets)
        return;
    if (field_valid(POP3D_FIELD_RESPONSE_OCTETS)) {
        pi = proto_tree_add_uint64(tree, hf_field[POP3D_FIELD_RESPONSE_OCTETS], tvb, 0, 0,
                                   req->announced);
        proto_item_set_generated(pi);
    }
    match = octets->number == req->announced;
    pi = proto_tree_add_boolean(tree, hf_octets_match, tvb, 0, 0, match);
    proto_item_set_generated(pi);
    if (!match)
        expert_add_info_format(sc->pinfo, pi, &ei_octets_mismatch,
                               "The +OK announced %" PRIu64 " octets; the answer holds %" PRIu64,
                               req->announced, octets->number);
}

static void
show_event(show_ctx *sc, const pop3_codec_event *de)
{
    const pop3d_event *ev = &de->ev;
    packet_info *pinfo = sc->pinfo;
    pop3_chunk *chunk = sc->chunk;
    event_view view;
    proto_tree *event_tree = NULL;
    proto_item *event_item = NULL;
    proto_item **nodes = NULL;
    tvbuff_t **buffer_tvbs = NULL;
    int single_root = -1;
    size_t roots = 0, i;
    gboolean data_item;
    guint32 *children = NULL;

    info_event(sc, ev);

    /* Where the event's bytes are */
    view.tvb = sc->tvb;
    view.origin = chunk->base;
    view.start = 0;
    view.length = 0;
    if (ev->offset < chunk->base && ev->line_length > 0 && ev->line_length < G_MAXINT) {
        /* began in an earlier frame: show the whole line on its own */
        guint8 *copy = (guint8 *)wmem_memdup(pinfo->pool, ev->line, ev->line_length);
        view.tvb =
            tvb_new_child_real_data(sc->tvb, copy, (guint)ev->line_length, (gint)ev->line_length);
        add_new_data_source(pinfo, view.tvb,
                            sc->reordered ? "Reordered POP3 bytes" : "Reassembled line");
        view.origin = ev->offset;
        view.length = (gint)ev->line_length;
    } else if (ev->length > 0) {
        clamp_range(view.tvb, view.origin, ev->offset, ev->length, &view.start, &view.length);
    }

    /* One subtree per event: the library's root item when there is exactly one */
    for (i = 0; i < ev->item_count; i++) {
        if (ev->items[i].parent < 0) {
            roots++;
            single_root = (int)i;
        }
    }
    if (roots != 1 || !field_valid(ev->items[single_root].field))
        single_root = -1;
    data_item = data_line_is_item(ev);
    if (data_item)
        single_root = -1;

    if ((ev->kind == POP3D_EVENT_DATA_LINE || ev->kind == POP3D_EVENT_DATA_END) && ev->request_id &&
        ev->request_id != sc->linked_request) {
        sc->linked_request = ev->request_id;
        if (sc->tree)
            show_answer_context(sc, ev, view.tvb);
    }

    if (ev->item_count) {
        nodes = wmem_alloc0_array(pinfo->pool, proto_item *, ev->item_count);
        if (ev->buffer_count)
            buffer_tvbs = wmem_alloc0_array(pinfo->pool, tvbuff_t *, ev->buffer_count);
    }
    if (!sc->tree) {
        /* no tree: no labels to format */
    } else if (data_item) {
        /* a line of a message: the line itself, unstuffed, is the event's item (pop3.data);
         * the stuffing flag is its child. Its UTF-8 copy is made only when the item can be seen
         * (a plain pass over a large mail body would otherwise spend a tenth of its time
         * converting every line for nothing). */
        int hf = hf_field[POP3D_FIELD_DATA];
        const char *text = "";
        const guint8 *data = ev->data ? ev->data : ev->line;
        size_t data_length = ev->data ? ev->data_length : ev->line_length;
        if (proto_field_is_referenced(sc->tree, hf))
            text = (const char *)get_utf_8_string(pinfo->pool, data ? data : (const guint8 *)"",
                                                  (gint)MIN(data_length, G_MAXINT));
        event_item = proto_tree_add_string(sc->tree, hf, view.tvb, view.start, view.length, text);
        if (data_length == 0)
            proto_item_append_text(event_item, "(empty)");
        event_tree = proto_item_add_subtree(event_item, ett_field[POP3D_FIELD_DATA]);
    } else if (single_root < 0) {
        if (ev->line_length)
            event_tree = proto_tree_add_subtree_format(
                sc->tree, view.tvb, view.start, view.length, ett_event, &event_item, "%s: %s",
                event_label(ev->kind), format_line(pinfo, ev));
        else
            event_tree = proto_tree_add_subtree(sc->tree, view.tvb, view.start, view.length,
                                                ett_event, &event_item, event_label(ev->kind));
        if (ev->length == 0 && event_item)
            proto_item_set_generated(event_item);
    }

    if (sc->tree && ev->item_count) {
        children = wmem_alloc0_array(pinfo->pool, guint32, ev->item_count);
        for (i = 0; i < ev->item_count; i++)
            if (ev->items[i].parent >= 0 && (size_t)ev->items[i].parent < i &&
                field_valid(ev->items[i].field))
                children[ev->items[i].parent]++;
    }
    for (i = 0; i < ev->item_count; i++) {
        const pop3d_item *it = &ev->items[i];
        proto_tree *parent = event_tree;
        gboolean hide = FALSE;
        if (!field_valid(it->field))
            continue;
        if (it->parent >= 0 && (size_t)it->parent < i && nodes[it->parent]) {
            const pop3d_item *up = &ev->items[it->parent];
            if (children && children[it->parent] == 1 && up->field == it->field) {
                /* a twin of its parent (SASL step > SASL step): one node */
                nodes[i] = nodes[it->parent];
                continue;
            }
            if (children && children[it->parent] == 1 && same_place(it, up)) {
                /* the only child says what its parent says (Capability: TOP > Capability
                 * name: TOP): filterable, not shown */
                hide = children[i] == 0;
            }
            parent = proto_item_add_subtree(nodes[it->parent], ett_field[up->field]);
        } else if ((int)i == single_root) {
            parent = sc->tree;
        }
        nodes[i] = add_item(sc, parent, ev, it, &view, buffer_tvbs);
        if (it->field == POP3D_FIELD_SESSION_USER)
            sc->user_shown = TRUE;
        if (nodes[i] && (hide || repeats_precise_item(ev, i)))
            proto_item_set_hidden(nodes[i]);
        if ((int)i == single_root && nodes[i]) {
            event_item = nodes[i];
            event_tree = proto_item_add_subtree(event_item, ett_field[it->field]);
            if (pop3d_field_type_of(it->field) == POP3D_TYPE_NONE && it->text_length == 0 &&
                ev->line_length)
                proto_item_append_text(event_item, ": %s", format_line(pinfo, ev));
        }
    }
    if (event_item &&
        (ev->kind == POP3D_EVENT_SASL_CLIENT || ev->kind == POP3D_EVENT_SASL_SERVER) &&
        find_item(ev, POP3D_FIELD_SASL_EMPTY))
        proto_item_append_text(event_item, ev->line_length ? " (empty)" : ": (empty)");
    if (!event_tree)
        event_tree = sc->tree;

    /* Request/response linking */
    if (ev->request_id) {
        pop3_request *req = conv_request(chunk->conv, ev->request_id, FALSE);
        if (req && ev->kind == POP3D_EVENT_COMMAND && req->request_frame == sc->chunk->tag &&
            req->response_frame) {
            proto_item *pi = proto_tree_add_uint(event_tree, hf_response_in, view.tvb, 0, 0,
                                                 req->response_frame);
            proto_item_set_generated(pi);
        } else if (req && ev->kind == POP3D_EVENT_STATUS && req->response_frame == sc->chunk->tag &&
                   req->request_frame) {
            nstime_t delta;
            proto_item *pi =
                proto_tree_add_uint(event_tree, hf_response_to, view.tvb, 0, 0, req->request_frame);
            proto_item_set_generated(pi);
            nstime_delta(&delta, &pinfo->abs_ts, &req->request_time);
            pi = proto_tree_add_time(event_tree, hf_time, view.tvb, 0, 0, &delta);
            proto_item_set_generated(pi);
            if (req->data_end_frame && req->data_end_frame != sc->chunk->tag) {
                pi = proto_tree_add_uint(event_tree, hf_data_end_in, view.tvb, 0, 0,
                                         req->data_end_frame);
                proto_item_set_generated(pi);
            }
        }
        if (ev->kind == POP3D_EVENT_STATUS)
            sc->linked_request = ev->request_id;
    }
    if (ev->kind == POP3D_EVENT_DATA_END && sc->tree)
        show_answer_figures(sc, ev, event_tree, view.tvb);

    /* Anomalies */
    for (i = 0; i < ev->anomaly_count; i++) {
        const pop3d_anomaly_hit *hit = &ev->anomalies[i];
        gint start, len;
        if (hit->anomaly >= POP3D_ANOMALY_COUNT)
            continue;
        clamp_range(view.tvb, view.origin, hit->offset, hit->length, &start, &len);
        if (hit->offset < view.origin && view.tvb == sc->tvb)
            start = view.start, len = 0;
        proto_tree_add_expert(event_tree, pinfo, &ei_anomaly[hit->anomaly], view.tvb, start, len);
    }

    /* -- "pop3" tap and statistics (pop3-stats.c) -- */
    {
        pop3_request *req = conv_request(chunk->conv, ev->request_id, FALSE);
        gboolean answer =
            req && ev->kind == POP3D_EVENT_STATUS && req->response_frame == sc->chunk->tag;
        pop3_tap_queue(pinfo, ev, answer ? req->request_frame : 0,
                       answer ? &req->request_time : NULL);
    }
    /* -- end of "pop3" tap -- */

    if (ev->kind == POP3D_EVENT_AUTH_RESULT)
        tap_credentials(sc, ev);
    if (de->has_message)
        show_message(sc, ev, event_tree);
}

static void
show_part(show_ctx *sc)
{
    pop3_chunk *chunk = sc->chunk;
    pop3_codec_decoder dec;
    pop3_codec_frame frame;
    pop3_codec_event de;

    sc->reordered = chunk->tag != sc->pinfo->num;
    if (sc->reordered) {
        proto_item *pi =
            proto_tree_add_uint(sc->tree, hf_reordered_from, sc->tvb, 0, 0, chunk->tag);
        proto_item_set_generated(pi);
        proto_item_append_text(
            pi, " (captured out of order; decoded here, in the conversation's order)");
        sc->any_reordered = TRUE;
    } else if (sc->any_reordered) {
        /* this frame's own bytes after those of earlier frames: where they start */
        proto_item *pi = NULL;
        proto_tree_add_subtree(sc->tree, sc->tvb, 0, 0, ett_event, &pi, "Bytes of this frame");
        proto_item_set_generated(pi);
        sc->any_reordered = FALSE;
    }
    sc->answer_lines = chunk->data_lines_before;
    frame_view(sc->tvb, chunk->base, &frame);
    pop3_codec_decoder_init(&dec, chunk->blob, chunk->blob_length, &frame, pool_alloc0,
                            sc->pinfo->pool);
    sc->next_message = 0;
    while (pop3_codec_decode_event(&dec, &de))
        show_event(sc, &de);
    sc->reordered = FALSE;
}

/* Shows one call's record: sc->chunk is its first part (the call-wide fields), then each part. */
static void
show_record(show_ctx *sc, const pop3_record *rec)
{
    record_reader rd;
    pop3_chunk head_part, part;
    pop3_chunk *head = &head_part;
    guint32 fed = 0;

    record_reader_init(&rd, rec);
    if (!record_next_part(&rd, sc->pinfo, head))
        return; /* never: a record holds its first part */
    sc->chunk = head;

    if (head->flags & CHUNK_RETRANSMISSION) {
        proto_tree_add_subtree(sc->tree, sc->tvb, 0, -1, ett_event, NULL,
                               "Retransmitted data (already decoded)");
        info_append(sc, wmem_strdup_printf(sc->pinfo->pool, "%s: (retransmission)",
                                           dir_prefix(head->direction)));
        return;
    }
    if (head->flags & CHUNK_AFTER_END) {
        proto_tree_add_subtree(sc->tree, sc->tvb, 0, -1, ett_event, NULL,
                               "Data after the end of the conversation (not decoded)");
        info_append(sc, wmem_strdup_printf(sc->pinfo->pool, "%s: (after the end)",
                                           dir_prefix(head->direction)));
        return;
    }
    if (head->fed_from && head->fed_from <= tvb_captured_length(sc->tvb))
        proto_tree_add_subtree_format(sc->tree, sc->tvb, 0, head->fed_from, ett_event, NULL,
                                      "Retransmitted data (%u bytes, already decoded)",
                                      head->fed_from);
    if (head->flags & CHUNK_HELD) {
        proto_tree_add_subtree(sc->tree, sc->tvb, 0, -1, ett_event, NULL,
                               "Waiting for bytes captured later (decoded in a later frame)");
        info_append(sc, wmem_strdup_printf(sc->pinfo->pool, "%s: (out of order, decoded later)",
                                           dir_prefix(head->direction)));
    }

    part = head_part;
    do {
        sc->chunk = &part;
        show_part(sc);
        if (part.tag == sc->pinfo->num)
            fed += part.fed_length;
    } while (record_next_part(&rd, sc->pinfo, &part));
    sc->chunk = head;
    info_flush_data(sc);

    /* the session user on every frame from the login on (the library's session user) */
    if (head->user && !sc->user_shown && field_valid(POP3D_FIELD_SESSION_USER)) {
        proto_item *pi = proto_tree_add_string(sc->tree, hf_field[POP3D_FIELD_SESSION_USER],
                                               sc->tvb, 0, 0, head->user);
        proto_item_set_generated(pi);
    }

    if (head->flags & CHUNK_FAILED)
        proto_tree_add_subtree(sc->tree, sc->tvb, 0, -1, ett_event, NULL,
                               "Not decoded (the decoder stopped on this conversation)");
    if (!sc->info_added)
        info_append(sc,
                    wmem_strdup_printf(sc->pinfo->pool, "%s: (partial line, %u byte%s)",
                                       dir_prefix(head->direction), fed, plurality(fed, "", "s")));
}

/* The transport comes from the handle that was called: pop3_handle for TCP (port table,
 * Decode As, heuristic), pop3_tls_handle for the payload of TLS (implicit TLS port, Decode As on
 * tls.port, STLS). `data` is TCP's struct tcpinfo only when from_tcp. */
static int
dissect_pop3_transport(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data,
                       gboolean from_tcp)
{
    guint call_index;
    pop3_record *rec;
    proto_item *ti;
    show_ctx sc;

    /* The n-th call of this dissector for this frame (TLS may call it once per record). */
    call_index = GPOINTER_TO_UINT(p_get_proto_data(pinfo->pool, pinfo, proto_pop3, KEY_CALL_COUNT));
    p_set_proto_data(pinfo->pool, pinfo, proto_pop3, KEY_CALL_COUNT,
                     GUINT_TO_POINTER(call_index + 1));

    col_set_str(pinfo->cinfo, COL_PROTOCOL, "POP3");
    if (call_index == 0)
        col_clear(pinfo->cinfo, COL_INFO);

    rec = (pop3_record *)p_get_proto_data(wmem_file_scope(), pinfo, proto_pop3, call_index);
    if (!rec && !PINFO_FD_VISITED(pinfo)) {
        pop3_conv *conv = get_conv(pinfo, !from_tcp);
        rec = build_chunk(tvb, pinfo, tree, conv, from_tcp ? (const struct tcpinfo *)data : NULL,
                          from_tcp);
        p_add_proto_data(wmem_file_scope(), pinfo, proto_pop3, call_index, rec);
    }

    ti = proto_tree_add_item(tree, proto_pop3, tvb, 0, -1, ENC_NA);
    memset(&sc, 0, sizeof sc);
    sc.pinfo = pinfo;
    sc.root = tree;
    sc.tree = proto_item_add_subtree(ti, ett_pop3);
    sc.tvb = tvb;
    if (rec) {
        show_record(&sc, rec);
    } else {
        proto_tree_add_subtree(sc.tree, tvb, 0, -1, ett_event, NULL, "Not decoded");
        info_append_pinfo(pinfo, "(not decoded)");
    }
    return tvb_captured_length(tvb);
}

static int
dissect_pop3_tcp(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data)
{
    return dissect_pop3_transport(tvb, pinfo, tree, data, TRUE);
}

static int
dissect_pop3_tls(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data _U_)
{
    return dissect_pop3_transport(tvb, pinfo, tree, NULL, FALSE);
}

/* ---------------------------------------------------------------------------------------------
 * Connection end: the accessors pop3-end.c uses
 * ------------------------------------------------------------------------------------------- */

#define KEY_END 0x7fff0001u        /* per-frame record of the end of the connection (file scope) */
#define KEY_END_FINISH 0x7fff0003u /* what finishing a directly fed session gave (file scope) */

pop3_conv *
pop3_conv_of_frame(packet_info *pinfo)
{
    conversation_t *conversation = find_conversation_pinfo(pinfo, 0);

    return conversation ? (pop3_conv *)conversation_get_proto_data(conversation, proto_pop3) : NULL;
}

gboolean
pop3_conv_from_server(const pop3_conv *conv, const packet_info *pinfo)
{
    return pinfo->srcport == conv->server_port && addresses_equal(&pinfo->src, &conv->server_addr);
}

guint32
pop3_conv_unanswered(const pop3_conv *conv, guint32 *frames, guint32 max_frames)
{
    guint32 n = 0;
    guint32 i;

    for (i = 0; i < conv->request_count; i++) {
        const pop3_request *req = &conv->requests[i];
        if (req->request_frame && !req->response_frame) {
            if (n < max_frames)
                frames[n] = req->request_frame;
            n++;
        }
    }
    return n;
}

/* First pass: ends a conversation whose payload came from TLS. What still waits in the
 * decrypted-payload follower is decoded first; nothing of what finish reports is in this
 * frame's bytes (an unreachable base makes every line a "Reassembled line" of its own). */
static pop3_record *
finish_direct(pop3_conv *conv, packet_info *pinfo)
{
    pop3_record *rec;
    guint32 dir = frame_direction(pinfo, conv);
    pop3_chunk *part;
    feed_ctx ctx;
    int rc = POP3D_OK;

    feed_ctx_init(&ctx, conv, pinfo, NULL);
    if (conv->failed || !conv->session) {
        part = part_begin(&ctx, dir, G_MAXUINT64, pinfo->num);
        part->flags |= CHUNK_FAILED;
    } else {
        if (conv->dec)
            rc = pop3d_decrypted_flush(conv->dec, feed_callback, report_callback, &ctx);
        part = part_begin(&ctx, dir, G_MAXUINT64, pinfo->num);
        if (rc == POP3D_OK)
            rc = pop3d_session_finish(conv->session, feed_callback, &ctx);
        if (rc != POP3D_OK)
            ctx.cur->flags |= CHUNK_FAILED;
    }
    part_close(&ctx);
    g_array_free(ctx.messages, TRUE);
    rec = record_pack(pinfo, conv, ctx.head, &ctx.encoded);
    pop3_codec_buf_free(&ctx.encoded);
    return rec;
}

gboolean
pop3_conv_end(pop3_conv *conv, tvbuff_t *tvb, packet_info *pinfo, proto_tree *root,
              proto_tree *pop3_tree)
{
    pop3_record *rec =
        (pop3_record *)p_get_proto_data(wmem_file_scope(), pinfo, proto_pop3, KEY_END);
    pop3_record *finish =
        (pop3_record *)p_get_proto_data(wmem_file_scope(), pinfo, proto_pop3, KEY_END_FINISH);
    show_ctx sc;

    /* after what the segment itself released (pop3_tcp_segment_seen, KEY_END) */
    if (conv && conv->direct && !PINFO_FD_VISITED(pinfo)) {
        finish = finish_direct(conv, pinfo);
        p_add_proto_data(wmem_file_scope(), pinfo, proto_pop3, KEY_END_FINISH, finish);
    }
    if (!rec && !finish)
        return FALSE;

    memset(&sc, 0, sizeof sc);
    sc.pinfo = pinfo;
    sc.root = root;
    sc.tree = pop3_tree;
    sc.tvb = tvb;
    sc.info_added = TRUE; /* no "partial line" note: this frame carries no POP3 bytes */
    /* The Info column holds the TCP summary of this frame: what finish reports is set apart. */
    p_set_proto_data(pinfo->pool, pinfo, proto_pop3, KEY_INFO_STARTED, GUINT_TO_POINTER(1));
    if (rec)
        show_record(&sc, rec);
    if (finish)
        show_record(&sc, finish);
    return TRUE;
}

gboolean
pop3_conv_end_decided(const pop3_conv *conv)
{
    return conv->end_decided;
}

void
pop3_conv_set_end_decided(pop3_conv *conv)
{
    conv->end_decided = TRUE;
}

gboolean
pop3_conv_direct(const pop3_conv *conv)
{
    return conv->direct;
}

gboolean
pop3_conv_reached(const pop3_conv *conv, guint32 direction, guint32 seq)
{
    return !conv->dec || pop3d_decrypted_reached(conv->dec, direction, seq);
}

void
pop3_show_fin_from(proto_tree *tree, tvbuff_t *tvb, guint32 frame)
{
    proto_item *pi = proto_tree_add_uint(tree, hf_reordered_from, tvb, 0, 0, frame);
    proto_item_set_generated(pi);
    proto_item_append_text(pi, " (its FIN, captured before bytes it acknowledged; takes effect "
                               "here, in the conversation's order)");
}

guint32
pop3_conv_finish_frame(const pop3_conv *conv)
{
    return conv->finish_frame;
}

/* Who closed: the client when its FIN acknowledged exactly the server's bytes before the
 * server's FIN (it had every answer and the server had not closed yet) and no command waits;
 * otherwise the server (it closed first, or the client only half-closed with a command or an
 * answer still under way). Read from sequence numbers, so capture order does not matter. */
const char *
pop3_conv_end_reason(const pop3_conv *conv)
{
    const guint32 c = POP3D_CLIENT_TO_SERVER, s = POP3D_SERVER_TO_CLIENT;
    gboolean client;

    if (conv->rst_seen)
        return conv->rst_from_server ? "Reset by the server" : "Reset by the client";
    if (!conv->fin_seen[c] && !conv->fin_seen[s])
        return "Ended";
    if (!conv->fin_seen[s])
        client = TRUE;
    else if (!conv->fin_seen[c])
        client = FALSE;
    else
        client = conv->fin_has_ack[c] && conv->fin_ack[c] == conv->fin_seq[s] &&
                 pop3_conv_unanswered(conv, NULL, 0) == 0;
    return client ? "Closed by the client (FIN)" : "Closed by the server (FIN)";
}

void
pop3_tcp_segment_seen(packet_info *pinfo, guint32 flags, guint32 seq, guint32 ack, guint32 length,
                      const guint8 *payload)
{
    conversation_t *conversation;
    pop3_conv *conv;
    feed_ctx ctx;
    pop3_record *record;
    int rc;

    if (PINFO_FD_VISITED(pinfo))
        return;
    conversation = find_conversation_pinfo(pinfo, 0);
    if (!conversation)
        return;
    conv = (pop3_conv *)conversation_get_proto_data(conversation, proto_pop3);
    if (!conv) {
        /* perhaps POP3 later (after a TLS handshake): where each stream starts and stands */
        syn_record *rec = (syn_record *)wmem_map_lookup(syns, conversation);
        guint i;
        if (flags & POP3D_TCP_SYN) {
            i = (flags & POP3D_TCP_ACK) ? POP3D_SERVER_TO_CLIENT : POP3D_CLIENT_TO_SERVER;
            if (!rec) {
                rec = wmem_new0(wmem_file_scope(), syn_record);
                wmem_map_insert(syns, conversation, rec);
            }
            if (!rec->seen[i]) {
                rec->seen[i] = TRUE;
                rec->seq[i] = seq;
                rec->frame[i] = pinfo->num;
                rec->next[i] = seq + 1;
                copy_address_wmem(wmem_file_scope(), &rec->src[i], &pinfo->src);
                rec->src_port[i] = pinfo->srcport;
            }
        } else if (rec) {
            for (i = 0; i < 2; i++) {
                guint32 end = seq + length + ((flags & POP3D_TCP_FIN) ? 1 : 0);
                if (rec->seen[i] && rec->src_port[i] == pinfo->srcport &&
                    addresses_equal(&rec->src[i], &pinfo->src) && (gint32)(end - rec->next[i]) > 0)
                    rec->next[i] = end;
            }
        }
        return;
    }
    if (conv->dec) {
        /* every segment gives the decrypted-payload follower its TCP position; runs waiting
         * for the bytes it brought (or acknowledged) are decoded now */
        pop3d_tcp_segment seg;
        memset(&seg, 0, sizeof seg);
        seg.direction = frame_direction(pinfo, conv);
        seg.flags = flags & (POP3D_TCP_FIN | POP3D_TCP_SYN | POP3D_TCP_ACK);
        seg.seq = seq;
        seg.ack = ack;
        seg.payload_length = length;
        seg.tag = pinfo->num;
        remember_flags(conv, pinfo, flags, seq + length, ack);
        feed_ctx_init(&ctx, conv, pinfo, NULL);
        rc = pop3d_decrypted_segment(conv->dec, &seg, feed_callback, report_callback, &ctx);
        if (rc == POP3D_OK)
            note_held(conv, pinfo, FALSE);
        record = feed_ctx_done(&ctx, rc, FALSE, FALSE);
        if (record)
            p_add_proto_data(wmem_file_scope(), pinfo, proto_pop3, KEY_END, record);
        return;
    }
    if (!conv->tcp)
        return;
    /* the payload went to the dissector, which fed the segment (flags included) */
    if (GPOINTER_TO_UINT(p_get_proto_data(pinfo->pool, pinfo, proto_pop3, KEY_CALL_COUNT)))
        return;
    /* payload not at hand: only the flags count, after the payload's place */
    if (length && !payload && !(flags & (POP3D_TCP_FIN | POP3D_TCP_RST)))
        return;
    feed_ctx_init(&ctx, conv, pinfo, NULL);
    if (payload)
        rc = feed_segment(&ctx, flags, seq, ack, payload, length);
    else
        rc = feed_segment(&ctx, flags, seq + length, ack, NULL, 0);
    record = feed_ctx_done(&ctx, rc, TRUE, FALSE);
    if (record)
        p_add_proto_data(wmem_file_scope(), pinfo, proto_pop3, KEY_END, record);
}

gboolean
pop3_frame_has_end_record(packet_info *pinfo)
{
    return p_get_proto_data(wmem_file_scope(), pinfo, proto_pop3, KEY_END) != NULL;
}

/* ---------------------------------------------------------------------------------------------
 * Registration
 * ------------------------------------------------------------------------------------------- */

static void
pop3_init(void)
{
    all_convs = g_ptr_array_new();
    syns = wmem_map_new(wmem_file_scope(), g_direct_hash, g_direct_equal);
    owned_messages = g_ptr_array_new_with_free_func(g_free);
}

static void
pop3_cleanup(void)
{
    guint i;

    if (all_convs) {
        for (i = 0; i < all_convs->len; i++)
            pop3_conv_free_session((pop3_conv *)g_ptr_array_index(all_convs, i));
        g_ptr_array_free(all_convs, TRUE);
        all_convs = NULL;
    }
    if (owned_messages) {
        g_ptr_array_free(owned_messages, TRUE);
        owned_messages = NULL;
    }
}

static int
expert_group(int group)
{
    switch (group) {
    case POP3D_GROUP_MALFORMED: return PI_MALFORMED;
    case POP3D_GROUP_SEQUENCE: return PI_SEQUENCE;
    case POP3D_GROUP_PROTOCOL: return PI_PROTOCOL;
    case POP3D_GROUP_RESPONSE_CODE: return PI_RESPONSE_CODE;
    /* a rejected login is the server's answer, as FTP's 530 or IMAP's NO */
    case POP3D_GROUP_AUTH_FAILURE: return PI_RESPONSE_CODE;
    case POP3D_GROUP_SECURITY: return PI_SECURITY;
    case POP3D_GROUP_UNDECODED: return PI_UNDECODED;
    default: return PI_PROTOCOL;
    }
}

static int
expert_severity(int severity)
{
    switch (severity) {
    case POP3D_SEVERITY_CHAT: return PI_CHAT;
    case POP3D_SEVERITY_NOTE: return PI_NOTE;
    case POP3D_SEVERITY_WARN: return PI_WARN;
    case POP3D_SEVERITY_ERROR: return PI_ERROR;
    default: return PI_WARN;
    }
}

static enum ftenum
field_ftype(int type)
{
    switch (type) {
    case POP3D_TYPE_STRING: return FT_STRING;
    case POP3D_TYPE_UINT: return FT_UINT64;
    case POP3D_TYPE_BOOL: return FT_BOOLEAN;
    case POP3D_TYPE_BYTES: return FT_BYTES;
    default: return FT_NONE;
    }
}

void
proto_register_pop3(void)
{
    static hf_register_info hf_own[] = {
        {&hf_response_in,
         {"Response In", "pop3.response_in", FT_FRAMENUM, BASE_NONE,
          FRAMENUM_TYPE(FT_FRAMENUM_RESPONSE), 0x0, "The response to this request is in this frame",
          HFILL}},
        {&hf_response_to,
         {"Request In", "pop3.response_to", FT_FRAMENUM, BASE_NONE,
          FRAMENUM_TYPE(FT_FRAMENUM_REQUEST), 0x0,
          "This is a response to the request in this frame", HFILL}},
        {&hf_time,
         {"Response Time", "pop3.time", FT_RELATIVE_TIME, BASE_NONE, NULL, 0x0,
          "The time between the request and the response", HFILL}},
        {&hf_data_end_in,
         {"Answer ends in", "pop3.data.end_in", FT_FRAMENUM, BASE_NONE, NULL, 0x0,
          "The multi-line answer this frame belongs to ends in this frame", HFILL}},
        {&hf_octets_match,
         {"Octets as announced", "pop3.data.octets_match", FT_BOOLEAN, BASE_NONE, NULL, 0x0,
          "The unstuffed octets of a RETR answer equal the +OK's octet count", HFILL}},
        {&hf_reordered_from,
         {"Bytes of frame", "pop3.reordered_from", FT_FRAMENUM, BASE_NONE, NULL, 0x0,
          "What follows was decoded from bytes (or took effect from the FIN) of that frame, "
          "captured out of order and put back in the conversation's order (TCP sequence and "
          "acknowledgement numbers)",
          HFILL}},
    };
    static ei_register_info ei_own[] = {
        {&ei_octets_mismatch,
         {"pop3.data.octets_mismatch", PI_PROTOCOL, PI_NOTE,
          "The answer's octets differ from the +OK's octet count", EXPFILL}},
    };
    static const hf_register_info hf_template = {
        NULL, {NULL, NULL, FT_NONE, BASE_NONE, NULL, 0x0, NULL, HFILL}};
    static const ei_register_info ei_template = {NULL, {NULL, PI_PROTOCOL, PI_WARN, NULL, EXPFILL}};
    static gint *ett_own[] = {&ett_pop3, &ett_event};
    static uat_field_t password_fields[] = {
        UAT_FLD_CSTRING(pop3_passwords, username, "User name", "The user's login name"),
        UAT_FLD_CSTRING(pop3_passwords, password, "Password", "The user's password"),
        UAT_END_FIELDS};
    hf_register_info *hf;
    ei_register_info *ei;
    gint **ett;
    guint32 i;
    module_t *pop3_module;
    expert_module_t *expert_pop3;
    uat_t *password_uat;

    proto_pop3 = proto_register_protocol("Post Office Protocol v3", "POP3", "pop3");
    pop3_handle = register_dissector("pop3", dissect_pop3_tcp, proto_pop3);
    pop3_tls_handle = register_dissector("pop3.tls", dissect_pop3_tls, proto_pop3);

    /* One field per library field, from the library's table */
    hf = g_new0(hf_register_info, POP3D_FIELD_COUNT);
    ett = g_new0(gint *, POP3D_FIELD_COUNT);
    for (i = 0; i < POP3D_FIELD_COUNT; i++) {
        enum ftenum ft = field_ftype(pop3d_field_type_of(i));
        hf_field[i] = -1;
        ett_field[i] = -1;
        ett[i] = &ett_field[i];
        hf[i] = hf_template;
        hf[i].p_id = &hf_field[i];
        hf[i].hfinfo.name = pop3d_field_description(i);
        hf[i].hfinfo.abbrev = g_strdup_printf("pop3.%s", pop3d_field_name(i));
        hf[i].hfinfo.type = ft;
        hf[i].hfinfo.display = ft == FT_UINT64 ? BASE_DEC : BASE_NONE;
    }
    proto_register_field_array(proto_pop3, hf, POP3D_FIELD_COUNT);
    proto_register_field_array(proto_pop3, hf_own, array_length(hf_own));
    proto_register_subtree_array(ett, POP3D_FIELD_COUNT);
    proto_register_subtree_array(ett_own, array_length(ett_own));

    /* One expert item per library anomaly */
    ei = g_new0(ei_register_info, POP3D_ANOMALY_COUNT);
    for (i = 0; i < POP3D_ANOMALY_COUNT; i++) {
        ei_anomaly[i].ei = EI_INIT_EI;
        ei_anomaly[i].hf = EI_INIT_HF;
        ei[i] = ei_template;
        ei[i].ids = &ei_anomaly[i];
        ei[i].eiinfo.name = g_strdup_printf("pop3.anomaly.%s", pop3d_anomaly_name(i));
        ei[i].eiinfo.group = expert_group(pop3d_anomaly_group_of(i));
        ei[i].eiinfo.severity = expert_severity(pop3d_anomaly_severity(i));
        ei[i].eiinfo.summary = pop3d_anomaly_description(i);
    }
    expert_pop3 = expert_register_protocol(proto_pop3);
    expert_register_field_array(expert_pop3, ei, POP3D_ANOMALY_COUNT);
    expert_register_field_array(expert_pop3, ei_own, array_length(ei_own));

    pop3_module = prefs_register_protocol(proto_pop3, proto_reg_handoff_pop3);
    prefs_register_uint_preference(pop3_module, "tls_port", "POP3 over TLS port",
                                   "TCP port of POP3 over implicit TLS (POP3S); 0 for none", 10,
                                   &pref_tls_port);
    prefs_register_bool_preference(pop3_module, "reassemble", "Reassemble multi-line responses",
                                   "Collect the lines of each multi-line response (RETR, TOP, "
                                   "LIST, UIDL, CAPA...) into one buffer, shown when it ends",
                                   &pref_reassemble);
    prefs_register_bool_preference(pop3_module, "imf", "Dissect retrieved messages as IMF",
                                   "Hand the reassembled, dot-unstuffed message of each RETR "
                                   "response to the Internet Message Format dissector (needs "
                                   "reassembly; TOP answers: see imf_top)",
                                   &pref_imf);
    prefs_register_bool_preference(pop3_module, "imf_top", "Dissect TOP answers as IMF",
                                   "Also hand the answer of each TOP (headers and the first lines "
                                   "of a message, not the whole message) to the IMF dissector; "
                                   "it then appears in --export-objects imf like a message",
                                   &pref_imf_top);
    prefs_register_uint_preference(pop3_module, "max_line", "Longest line decoded whole",
                                   "Lines longer than this many bytes (at least 64) are decoded "
                                   "in pieces and flagged",
                                   10, &pref_max_line);
    password_uat =
        uat_new("POP3 passwords", sizeof(pop3_password_t), "pop3_passwords", TRUE, &pop3_passwords,
                &num_pop3_passwords, UAT_AFFECTS_DISSECTION, NULL, pop3_password_copy_cb, NULL,
                pop3_password_free_cb, NULL, NULL, password_fields);
    prefs_register_uat_preference(pop3_module, "passwords", "Known passwords",
                                  "User names and passwords used to check APOP, CRAM-MD5, "
                                  "DIGEST-MD5 and SCRAM logins (pop3.auth.verified)",
                                  password_uat);

    register_init_routine(pop3_init);
    register_cleanup_routine(pop3_cleanup);
    credentials_tap = register_tap("credentials");
    pop3_tap_register();            /* pop3-stats.c */
    pop3_end_register(proto_pop3);  /* pop3-end.c */
    pop3_heur_register(proto_pop3); /* pop3-heur.c */
}

void
proto_reg_handoff_pop3(void)
{
    static gboolean initialized = FALSE;

    if (!initialized) {
        dissector_add_uint_with_preference("tcp.port", POP3_TCP_PORT, pop3_handle);
        dissector_add_for_decode_as("tls.port", pop3_tls_handle);
        tls_handle = find_dissector("tls");
        imf_handle = find_dissector_add_dependency("imf", proto_pop3);
        ntlmssp_handle = find_dissector_add_dependency("ntlmssp", proto_pop3);
        gssapi_handle = find_dissector_add_dependency("gssapi", proto_pop3);
        pop3_end_handoff();             /* pop3-end.c */
        pop3_heur_handoff(pop3_handle); /* pop3-heur.c */
        initialized = TRUE;
    } else if (registered_tls_port) {
        ssl_dissector_delete(registered_tls_port, pop3_tls_handle);
    }
    if (pref_tls_port)
        ssl_dissector_add(pref_tls_port, pop3_tls_handle);
    registered_tls_port = pref_tls_port;
}
