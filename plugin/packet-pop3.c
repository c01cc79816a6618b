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
 * a compact per-call record (pop3_chunk, file scope): the events are serialised with variable-
 * length integers, and every byte string that can be found again in the frame's own tvb (the
 * line, and item values that are slices of it or of a decoded SASL buffer) is stored as a
 * reference, not a copy. A plain data line of a mail body costs about ten bytes. Every pass,
 * the first included, decodes that record and builds the tree from it, so the trees are
 * identical however often and in whatever order frames are dissected.
 *
 * The alternative, a pop3d_session_clone() saved before each frame and replayed in later
 * passes, costs a whole session state (buffers, capability list, pending commands, SASL state)
 * per frame; on a capture made of large RETR bodies that is several times what the events
 * take, and it cannot be skipped in tshark's single pass, which never tells a dissector whether
 * a later pass will come.
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
static int proto_tcp = -1;
static int proto_tls = -1;

static int hf_field[POP3D_FIELD_COUNT];
static int hf_response_in = -1;
static int hf_response_to = -1;
static int hf_time = -1;

static gint ett_pop3 = -1;
static gint ett_event = -1;
static gint ett_field[POP3D_FIELD_COUNT];

static expert_field ei_anomaly[POP3D_ANOMALY_COUNT];

static dissector_handle_t pop3_handle;
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
    nstime_t request_time;
} pop3_request;

typedef struct pop3_conv {
    pop3d_session *session; /* NULL once freed (end of file) or after a fatal library error */
    address server_addr;
    guint32 server_port;
    gboolean seq_known[2];
    guint32 next_seq[2];
    GByteArray *body;       /* multi-line response being accumulated (first pass) */
    wmem_array_t *requests; /* pop3_request, index request_id - 1 */
    gboolean failed;
} pop3_conv;

typedef struct pop3_message {
    guint8 *data; /* g_malloc'd; owned by `owned_messages` */
    guint32 length;
} pop3_message;

#define CHUNK_RETRANSMISSION 0x01u
#define CHUNK_FAILED 0x02u

/* What one call of the dissector on one frame produced (first pass), for every pass. */
typedef struct pop3_chunk {
    pop3_conv *conv;
    guint64 base;       /* stream offset of the tvb's byte 0 */
    guint32 fed_from;   /* tvb bytes before this one were a retransmission, not fed */
    guint32 fed_length; /* bytes fed */
    guint64 gap;        /* bytes reported lost just before this chunk */
    guint8 direction;
    guint8 flags;
    guint32 blob_length;
    guint8 *blob; /* serialised events */
    guint32 message_count;
    pop3_message *messages; /* the reassembled responses ending here, in DATA_END order */
} pop3_chunk;

static GPtrArray *all_convs = NULL;      /* pop3_conv *: sessions to free at cleanup */
static GPtrArray *owned_messages = NULL; /* g_malloc'd message bodies */

/* ---------------------------------------------------------------------------------------------
 * Serialisation of events (see the top of the file)
 * ------------------------------------------------------------------------------------------- */

/* A growable byte buffer for the encoding: its many small values cost a few stores each here,
 * where a GByteArray append was a library call for every one of them. */
typedef struct out_buf {
    guint8 *data;
    size_t len;
    size_t cap;
} out_buf;

/* Room for n more bytes at data + len; the caller writes them and advances len. */
static guint8 *
out_room(out_buf *b, size_t n)
{
    if (b->cap - b->len < n) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->len < n)
            cap *= 2;
        b->data = (guint8 *)g_realloc(b->data, cap);
        b->cap = cap;
    }
    return b->data + b->len;
}

static void
put_u8(out_buf *b, guint8 v)
{
    *out_room(b, 1) = v;
    b->len++;
}

static void
put_uv(out_buf *b, guint64 v)
{
    guint8 *p = out_room(b, 10);
    size_t n = 0;

    do {
        guint8 c = (guint8)(v & 0x7f);
        v >>= 7;
        if (v)
            c |= 0x80;
        p[n++] = c;
    } while (v);
    b->len += n;
}

static void
put_sv(out_buf *b, gint64 v)
{
    put_uv(b, ((guint64)v << 1) ^ (guint64)(v >> 63));
}

static void
put_bytes(out_buf *b, const guint8 *p, size_t n)
{
    put_uv(b, n);
    if (n) {
        memcpy(out_room(b, n), p, n);
        b->len += n;
    }
}

typedef struct reader {
    const guint8 *p;
    const guint8 *end;
    gboolean bad;
} reader;

static guint8
get_u8(reader *r)
{
    if (r->p >= r->end) {
        r->bad = TRUE;
        return 0;
    }
    return *r->p++;
}

static guint64
get_uv(reader *r)
{
    guint64 v = 0;
    guint shift = 0;

    for (;;) {
        guint8 c;
        if (r->p >= r->end || shift > 63) {
            r->bad = TRUE;
            return 0;
        }
        c = *r->p++;
        v |= (guint64)(c & 0x7f) << shift;
        if (!(c & 0x80))
            return v;
        shift += 7;
    }
}

static gint64
get_sv(reader *r)
{
    guint64 u = get_uv(r);
    return (gint64)(u >> 1) ^ -(gint64)(u & 1);
}

static const guint8 *
get_bytes(reader *r, size_t *n)
{
    guint64 len = get_uv(r);
    const guint8 *p = r->p;

    if (r->bad || len > (guint64)(r->end - r->p)) {
        r->bad = TRUE;
        *n = 0;
        return NULL;
    }
    r->p += len;
    *n = (size_t)len;
    return p;
}

/* Event flags (first byte) */
#define EF_LINE_MASK 0x03u
#define EF_LINE_NONE 0x00u   /* line_length == 0 */
#define EF_LINE_TVB 0x01u    /* the line is in the tvb at its offset */
#define EF_LINE_PREFIX 0x02u /* the line's start (before the tvb) is stored, the rest in it */
#define EF_LINE_LIT 0x03u    /* the line is stored */
#define EF_LEN_CRLF 0x04u    /* length == line_length + 2 */
#define EF_REQ_SAME 0x08u    /* request_id and command as the previous event */
#define EF_PIECE 0x10u
#define EF_ITEMS 0x20u
#define EF_ANOMALIES 0x40u
#define EF_EXT 0x80u
/* Event flags (second byte, present with EF_EXT) */
#define EF2_BUFFERS 0x01u
#define EF2_MESSAGE 0x02u /* a DATA_END that takes the chunk's next reassembled message */

/* Item flags */
#define IF_TEXT_MASK 0x03u
#define IF_TEXT_NONE 0x00u
#define IF_TEXT_SAME 0x01u /* text is the source bytes at the item's position */
#define IF_TEXT_LIT 0x02u
#define IF_NUMBER 0x04u
#define IF_PARENT 0x08u
#define IF_SOURCE 0x10u
#define IF_FLAGS 0x20u
#define IF_TEXTLEN 0x40u /* with IF_TEXT_SAME: text_length differs from length */

typedef struct encoder {
    out_buf *out;
    tvbuff_t *tvb;
    guint64 base;
    guint64 prev_end;
    guint64 prev_request;
    guint32 prev_command;
    gboolean first;
} encoder;

/* Are the n bytes at stream offset `offset` in the tvb and equal to p? */
static gboolean
tvb_holds(tvbuff_t *tvb, guint64 base, guint64 offset, const guint8 *p, size_t n)
{
    guint avail = tvb_captured_length(tvb);
    guint64 rel;

    if (offset < base)
        return FALSE;
    rel = offset - base;
    if (rel > avail || n > avail - rel)
        return FALSE;
    return n == 0 || memcmp(tvb_get_ptr(tvb, (gint)rel, (gint)n), p, n) == 0;
}

static void
encode_item(encoder *enc, const pop3d_event *ev, const pop3d_item *it)
{
    guint8 flags = 0;
    guint mode = IF_TEXT_NONE;

    if (it->text && it->text_length) {
        mode = IF_TEXT_LIT;
        if (it->source == 0) {
            if (it->offset >= ev->offset && it->offset - ev->offset <= ev->line_length &&
                it->text_length <= ev->line_length - (it->offset - ev->offset) &&
                memcmp(ev->line + (it->offset - ev->offset), it->text, it->text_length) == 0)
                mode = IF_TEXT_SAME;
        } else if (it->source <= ev->buffer_count) {
            const pop3d_buffer *buf = &ev->buffers[it->source - 1];
            if (it->offset <= buf->length && it->text_length <= buf->length - it->offset &&
                memcmp(buf->data + it->offset, it->text, it->text_length) == 0)
                mode = IF_TEXT_SAME;
        }
    }
    flags |= (guint8)mode;
    if (it->number)
        flags |= IF_NUMBER;
    if (it->parent >= 0)
        flags |= IF_PARENT;
    if (it->source)
        flags |= IF_SOURCE;
    if (it->flags)
        flags |= IF_FLAGS;
    if (mode == IF_TEXT_SAME && it->text_length != it->length)
        flags |= IF_TEXTLEN;

    put_uv(enc->out, it->field);
    put_u8(enc->out, flags);
    if (flags & IF_PARENT)
        put_uv(enc->out, (guint64)it->parent);
    if (flags & IF_SOURCE)
        put_uv(enc->out, it->source);
    if (flags & IF_FLAGS)
        put_uv(enc->out, it->flags);
    put_sv(enc->out, it->source == 0 ? (gint64)(it->offset - ev->offset) : (gint64)it->offset);
    put_uv(enc->out, it->length);
    if (flags & IF_NUMBER)
        put_uv(enc->out, it->number);
    if (mode == IF_TEXT_SAME && (flags & IF_TEXTLEN))
        put_uv(enc->out, it->text_length);
    if (mode == IF_TEXT_LIT)
        put_bytes(enc->out, it->text, it->text_length);
}

static void
encode_event(encoder *enc, const pop3d_event *ev, gboolean has_message)
{
    guint8 flags = 0;
    guint8 flags2 = 0;
    size_t i;

    if (ev->line_length == 0)
        flags |= EF_LINE_NONE;
    else if (tvb_holds(enc->tvb, enc->base, ev->offset, ev->line, ev->line_length))
        flags |= EF_LINE_TVB;
    else if (ev->offset < enc->base && enc->base - ev->offset < ev->line_length &&
             tvb_holds(enc->tvb, enc->base, enc->base, ev->line + (enc->base - ev->offset),
                       ev->line_length - (size_t)(enc->base - ev->offset)))
        flags |= EF_LINE_PREFIX;
    else
        flags |= EF_LINE_LIT;
    if (ev->length == (guint64)ev->line_length + 2)
        flags |= EF_LEN_CRLF;
    if (!enc->first && ev->request_id == enc->prev_request && ev->command == enc->prev_command)
        flags |= EF_REQ_SAME;
    if (ev->piece)
        flags |= EF_PIECE;
    if (ev->item_count)
        flags |= EF_ITEMS;
    if (ev->anomaly_count)
        flags |= EF_ANOMALIES;
    if (ev->buffer_count)
        flags2 |= EF2_BUFFERS;
    if (has_message)
        flags2 |= EF2_MESSAGE;
    if (flags2)
        flags |= EF_EXT;

    put_u8(enc->out, (guint8)((ev->kind & 0x7f) | ((ev->direction & 1) << 7)));
    put_u8(enc->out, flags);
    if (flags2)
        put_u8(enc->out, flags2);
    put_sv(enc->out, (gint64)(ev->offset - enc->prev_end));
    put_uv(enc->out, ev->line_length);
    if (!(flags & EF_LEN_CRLF))
        put_uv(enc->out, ev->length);
    switch (flags & EF_LINE_MASK) {
    case EF_LINE_PREFIX: put_bytes(enc->out, ev->line, (size_t)(enc->base - ev->offset)); break;
    case EF_LINE_LIT: put_bytes(enc->out, ev->line, ev->line_length); break;
    default: break;
    }
    if (!(flags & EF_REQ_SAME)) {
        put_uv(enc->out, ev->request_id);
        put_uv(enc->out, ev->command);
    }
    if (flags & EF_PIECE)
        put_uv(enc->out, ev->piece);
    if (flags & EF_ITEMS) {
        put_uv(enc->out, ev->item_count);
        for (i = 0; i < ev->item_count; i++)
            encode_item(enc, ev, &ev->items[i]);
    }
    if (flags & EF_ANOMALIES) {
        put_uv(enc->out, ev->anomaly_count);
        for (i = 0; i < ev->anomaly_count; i++) {
            put_uv(enc->out, ev->anomalies[i].anomaly);
            put_sv(enc->out, (gint64)(ev->anomalies[i].offset - ev->offset));
            put_uv(enc->out, ev->anomalies[i].length);
        }
    }
    if (flags2 & EF2_BUFFERS) {
        put_uv(enc->out, ev->buffer_count);
        for (i = 0; i < ev->buffer_count; i++) {
            put_bytes(enc->out, ev->buffers[i].data, ev->buffers[i].length);
            put_sv(enc->out, (gint64)(ev->buffers[i].origin_offset - ev->offset));
            put_uv(enc->out, ev->buffers[i].origin_length);
        }
    }

    enc->first = FALSE;
    enc->prev_end = ev->offset + ev->length;
    enc->prev_request = ev->request_id;
    enc->prev_command = ev->command;
}

/* A decoded event; everything it points to lives in pinfo->pool, the tvb or the chunk. */
typedef struct decoded_event {
    pop3d_event ev;
    gboolean has_message;
} decoded_event;

typedef struct decoder {
    reader r;
    packet_info *pinfo;
    tvbuff_t *tvb;
    guint64 base;
    guint64 prev_end;
    guint64 prev_request;
    guint32 prev_command;
} decoder;

/* Stands for "the text is the bytes at the item's position" until resolved. */
static const guint8 text_same_marker[1];

/* Returns FALSE at the end of the record or when it is damaged. */
static gboolean
decode_event(decoder *dec, decoded_event *out)
{
    reader *r = &dec->r;
    pop3d_event *ev = &out->ev;
    guint8 kd, flags, flags2 = 0;
    size_t n, i;
    const guint8 *p;

    memset(out, 0, sizeof *out);
    if (r->p >= r->end)
        return FALSE;
    kd = get_u8(r);
    ev->kind = kd & 0x7f;
    ev->direction = kd >> 7;
    flags = get_u8(r);
    if (flags & EF_EXT)
        flags2 = get_u8(r);
    ev->offset = dec->prev_end + (guint64)get_sv(r);
    ev->line_length = (size_t)get_uv(r);
    ev->length = (flags & EF_LEN_CRLF) ? (guint64)ev->line_length + 2 : get_uv(r);
    if (r->bad)
        return FALSE;

    switch (flags & EF_LINE_MASK) {
    case EF_LINE_TVB:
        if (ev->offset < dec->base || ev->offset - dec->base > G_MAXINT ||
            !tvb_bytes_exist(dec->tvb, (gint)(ev->offset - dec->base), (gint)ev->line_length))
            return FALSE;
        ev->line = tvb_get_ptr(dec->tvb, (gint)(ev->offset - dec->base), (gint)ev->line_length);
        break;
    case EF_LINE_PREFIX: {
        guint8 *line;
        p = get_bytes(r, &n);
        if (r->bad || n > ev->line_length ||
            !tvb_bytes_exist(dec->tvb, 0, (gint)(ev->line_length - n)))
            return FALSE;
        line = (guint8 *)wmem_alloc(dec->pinfo->pool, ev->line_length);
        memcpy(line, p, n);
        tvb_memcpy(dec->tvb, line + n, 0, ev->line_length - n);
        ev->line = line;
        break;
    }
    case EF_LINE_LIT:
        ev->line = get_bytes(r, &n);
        if (r->bad || n != ev->line_length)
            return FALSE;
        break;
    default: ev->line = NULL; break;
    }

    if (flags & EF_REQ_SAME) {
        ev->request_id = dec->prev_request;
        ev->command = dec->prev_command;
    } else {
        ev->request_id = get_uv(r);
        ev->command = (guint32)get_uv(r);
    }
    if (flags & EF_PIECE)
        ev->piece = (guint32)get_uv(r);

    if (flags & EF_ITEMS) {
        pop3d_item *items;
        guint64 count = get_uv(r);
        if (r->bad || count > (guint64)(r->end - r->p))
            return FALSE;
        items = wmem_alloc0_array(dec->pinfo->pool, pop3d_item, (size_t)count);
        for (i = 0; i < count; i++) {
            pop3d_item *it = &items[i];
            guint8 f;
            it->field = (guint32)get_uv(r);
            f = get_u8(r);
            it->parent = (f & IF_PARENT) ? (gint32)get_uv(r) : -1;
            it->source = (f & IF_SOURCE) ? (guint32)get_uv(r) : 0;
            it->flags = (f & IF_FLAGS) ? (guint32)get_uv(r) : 0;
            it->offset = (guint64)get_sv(r);
            if (it->source == 0)
                it->offset += ev->offset;
            it->length = get_uv(r);
            it->number = (f & IF_NUMBER) ? get_uv(r) : 0;
            switch (f & IF_TEXT_MASK) {
            case IF_TEXT_SAME:
                /* resolved below, once the buffers are known */
                it->text_length = (f & IF_TEXTLEN) ? (size_t)get_uv(r) : (size_t)it->length;
                it->text = text_same_marker;
                break;
            case IF_TEXT_LIT: it->text = get_bytes(r, &it->text_length); break;
            default:
                it->text = NULL;
                it->text_length = 0;
                break;
            }
            if (r->bad)
                return FALSE;
        }
        ev->items = items;
        ev->item_count = (size_t)count;
    }
    if (flags & EF_ANOMALIES) {
        pop3d_anomaly_hit *hits;
        guint64 count = get_uv(r);
        if (r->bad || count > (guint64)(r->end - r->p))
            return FALSE;
        hits = wmem_alloc0_array(dec->pinfo->pool, pop3d_anomaly_hit, (size_t)count);
        for (i = 0; i < count; i++) {
            hits[i].anomaly = (guint32)get_uv(r);
            hits[i].offset = ev->offset + (guint64)get_sv(r);
            hits[i].length = get_uv(r);
        }
        ev->anomalies = hits;
        ev->anomaly_count = (size_t)count;
    }
    if (flags2 & EF2_BUFFERS) {
        pop3d_buffer *bufs;
        guint64 count = get_uv(r);
        if (r->bad || count > (guint64)(r->end - r->p))
            return FALSE;
        bufs = wmem_alloc0_array(dec->pinfo->pool, pop3d_buffer, (size_t)count);
        for (i = 0; i < count; i++) {
            bufs[i].data = get_bytes(r, &bufs[i].length);
            bufs[i].origin_offset = ev->offset + (guint64)get_sv(r);
            bufs[i].origin_length = get_uv(r);
        }
        ev->buffers = bufs;
        ev->buffer_count = (size_t)count;
    }
    out->has_message = (flags2 & EF2_MESSAGE) != 0;
    if (r->bad)
        return FALSE;

    /* Item texts stored as references */
    for (i = 0; i < ev->item_count; i++) {
        pop3d_item *it = (pop3d_item *)&ev->items[i];
        if (it->text != text_same_marker)
            continue;
        if (it->text_length == 0) {
            it->text = NULL;
            continue;
        }
        if (it->source == 0) {
            guint64 rel = it->offset - ev->offset;
            if (it->offset < ev->offset || rel > ev->line_length ||
                it->text_length > ev->line_length - rel || !ev->line)
                return FALSE;
            it->text = ev->line + rel;
        } else {
            const pop3d_buffer *buf;
            if (it->source > ev->buffer_count)
                return FALSE;
            buf = &ev->buffers[it->source - 1];
            if (it->offset > buf->length || it->text_length > buf->length - it->offset)
                return FALSE;
            it->text = buf->data + it->offset;
        }
    }

    dec->prev_end = ev->offset + ev->length;
    dec->prev_request = ev->request_id;
    dec->prev_command = ev->command;
    return TRUE;
}

/* ---------------------------------------------------------------------------------------------
 * First pass: feeding the session
 * ------------------------------------------------------------------------------------------- */

typedef struct feed_ctx {
    pop3_conv *conv;
    packet_info *pinfo;
    encoder enc;
    GArray *messages; /* pop3_message */
    gboolean starttls;
} feed_ctx;

static pop3_request *
conv_request(pop3_conv *conv, guint64 request_id, gboolean create)
{
    guint count;

    if (request_id == 0 || request_id > G_MAXUINT32)
        return NULL;
    count = wmem_array_get_count(conv->requests);
    if (request_id > count) {
        pop3_request blank;
        if (!create)
            return NULL;
        memset(&blank, 0, sizeof blank);
        while (count < request_id) {
            wmem_array_append_one(conv->requests, blank);
            count++;
        }
    }
    return (pop3_request *)wmem_array_index(conv->requests, (guint)(request_id - 1));
}

static int
feed_callback(void *user_data, const pop3d_event *ev)
{
    feed_ctx *ctx = (feed_ctx *)user_data;
    pop3_conv *conv = ctx->conv;
    gboolean has_message = FALSE;
    size_t i;

    switch (ev->kind) {
    case POP3D_EVENT_COMMAND: {
        pop3_request *req = conv_request(conv, ev->request_id, TRUE);
        if (req && req->request_frame == 0) {
            req->request_frame = ctx->pinfo->num;
            req->request_time = ctx->pinfo->abs_ts;
        }
        break;
    }
    case POP3D_EVENT_STATUS: {
        pop3_request *req = conv_request(conv, ev->request_id, TRUE);
        if (req && req->response_frame == 0)
            req->response_frame = ctx->pinfo->num;
        if (conv->body) { /* a response that never ended */
            g_byte_array_free(conv->body, TRUE);
            conv->body = NULL;
        }
        break;
    }
    case POP3D_EVENT_DATA_LINE:
        if (pref_reassemble && ev->data_length) {
            if (!conv->body)
                conv->body = g_byte_array_new();
            if ((guint64)conv->body->len + ev->data_length < G_MAXUINT32)
                g_byte_array_append(conv->body, ev->data, (guint)ev->data_length);
        }
        break;
    case POP3D_EVENT_DATA_END:
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
    case POP3D_EVENT_STATE:
        for (i = 0; i < ev->item_count; i++)
            if (ev->items[i].field == POP3D_FIELD_SESSION_TLS && ev->items[i].number == 1)
                ctx->starttls = TRUE;
        break;
    default: break;
    }

    encode_event(&ctx->enc, ev, has_message);
    return 0;
}

static void
pop3_conv_free_session(pop3_conv *conv)
{
    if (conv->session) {
        pop3d_session_free(conv->session);
        conv->session = NULL;
    }
    if (conv->body) {
        g_byte_array_free(conv->body, TRUE);
        conv->body = NULL;
    }
}

/* The protocol that called this dissector, or -1. */
static int
calling_protocol(packet_info *pinfo)
{
    wmem_list_frame_t *tail = wmem_list_tail(pinfo->layers);
    wmem_list_frame_t *prev = tail ? wmem_list_frame_prev(tail) : NULL;

    return prev ? GPOINTER_TO_INT(wmem_list_frame_data(prev)) : -1;
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
    conv->requests = wmem_array_new(wmem_file_scope(), sizeof(pop3_request));

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

static pop3_chunk *
build_chunk(tvbuff_t *tvb, packet_info *pinfo, pop3_conv *conv, const struct tcpinfo *tcpi,
            gboolean from_tcp)
{
    pop3_chunk *chunk = wmem_new0(wmem_file_scope(), pop3_chunk);
    guint32 captured = tvb_captured_length(tvb);
    guint32 reported = tvb_reported_length(tvb);
    guint32 dir;
    guint32 skip = 0;
    guint64 gap = 0;
    feed_ctx ctx;
    out_buf encoded = {NULL, 0, 0};
    int rc = POP3D_OK;

    dir = (pinfo->srcport == conv->server_port && addresses_equal(&pinfo->src, &conv->server_addr))
              ? POP3D_SERVER_TO_CLIENT
              : POP3D_CLIENT_TO_SERVER;
    chunk->conv = conv;
    chunk->direction = (guint8)dir;

    if (tcpi && !tcpi->is_reassembled) {
        guint32 seq = tcpi->seq;
        guint32 nxt = seq + reported;
        if (conv->seq_known[dir]) {
            gint32 d = (gint32)(seq - conv->next_seq[dir]);
            if (d > 0) {
                gap = (guint64)d;
            } else if (d < 0) {
                guint32 overlap = (guint32)(-(gint64)d);
                skip = overlap >= reported ? reported : overlap;
            }
            if ((gint32)(nxt - conv->next_seq[dir]) > 0)
                conv->next_seq[dir] = nxt;
        } else {
            conv->seq_known[dir] = TRUE;
            conv->next_seq[dir] = nxt;
        }
    }
    if (skip > captured)
        skip = captured;
    if (reported > 0 && skip == reported)
        chunk->flags |= CHUNK_RETRANSMISSION;

    if (conv->failed || !conv->session) {
        chunk->flags |= CHUNK_FAILED;
        chunk->base = 0;
        return chunk;
    }

    memset(&ctx, 0, sizeof ctx);
    ctx.conv = conv;
    ctx.pinfo = pinfo;
    ctx.messages = g_array_new(FALSE, FALSE, sizeof(pop3_message));
    ctx.enc.out = &encoded;
    ctx.enc.tvb = tvb;
    ctx.enc.first = TRUE;

    chunk->gap = gap;
    chunk->base = pop3d_session_offset(conv->session, dir) + gap - skip;
    chunk->fed_from = skip;
    ctx.enc.base = chunk->base;
    ctx.enc.prev_end = chunk->base;

    if (gap)
        rc = pop3d_session_gap(conv->session, dir, gap, feed_callback, &ctx);
    if (rc == POP3D_OK && captured > skip) {
        chunk->fed_length = captured - skip;
        rc = pop3d_session_feed(conv->session, dir, tvb_get_ptr(tvb, skip, captured - skip),
                                captured - skip, feed_callback, &ctx);
    }
    if (rc == POP3D_OK && reported > captured && captured > skip)
        rc = pop3d_session_gap(conv->session, dir, reported - captured, feed_callback, &ctx);
    if (rc != POP3D_OK) {
        conv->failed = TRUE;
        chunk->flags |= CHUNK_FAILED;
        pop3_conv_free_session(conv);
    }

    if (encoded.len) {
        chunk->blob_length = (guint32)encoded.len;
        chunk->blob = (guint8 *)wmem_memdup(wmem_file_scope(), encoded.data, encoded.len);
    }
    g_free(encoded.data);
    if (ctx.messages->len) {
        chunk->message_count = ctx.messages->len;
        chunk->messages = (pop3_message *)wmem_memdup(wmem_file_scope(), ctx.messages->data,
                                                      ctx.messages->len * sizeof(pop3_message));
    }
    g_array_free(ctx.messages, TRUE);

    /* STLS accepted: TLS takes the conversation over after this frame. */
    if (ctx.starttls && from_tcp && tls_handle)
        ssl_starttls_ack(tls_handle, pinfo, pop3_handle);
    return chunk;
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
    gboolean info_added;
} show_ctx;

static const char *
dir_prefix(guint32 direction)
{
    return direction == POP3D_SERVER_TO_CLIENT ? "S" : "C";
}

static void
info_append(show_ctx *sc, const char *text)
{
    col_append_sep_str(sc->pinfo->cinfo, COL_INFO, " | ", text);
    sc->info_added = TRUE;
}

static void
info_flush_data(show_ctx *sc)
{
    if (sc->data_lines || sc->data_end) {
        char *s;
        if (sc->data_lines == 0)
            s = wmem_strdup_printf(sc->pinfo->pool, "%s: (data) end", dir_prefix(sc->data_dir));
        else
            s = wmem_strdup_printf(sc->pinfo->pool, "%s: (data) %u line%s%s",
                                   dir_prefix(sc->data_dir), sc->data_lines,
                                   plurality(sc->data_lines, "", "s"), sc->data_end ? ", end" : "");
        info_append(sc, s);
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

static void
info_event(show_ctx *sc, const pop3d_event *ev)
{
    switch (ev->kind) {
    case POP3D_EVENT_DATA_LINE:
        if ((sc->data_lines || sc->data_end) && sc->data_dir != ev->direction)
            info_flush_data(sc);
        sc->data_dir = ev->direction;
        if (ev->piece <= 1)
            sc->data_lines++;
        return;
    case POP3D_EVENT_DATA_END:
        if ((sc->data_lines || sc->data_end) && sc->data_dir != ev->direction)
            info_flush_data(sc);
        sc->data_dir = ev->direction;
        sc->data_end = TRUE;
        info_flush_data(sc);
        return;
    case POP3D_EVENT_STATE:
    case POP3D_EVENT_AUTH_RESULT:
    case POP3D_EVENT_END: return;
    default: break;
    }
    info_flush_data(sc);
    switch (ev->kind) {
    case POP3D_EVENT_SKIPPED:
        info_append(sc, wmem_strdup_printf(sc->pinfo->pool, "%s: (%" PRIu64 " bytes skipped)",
                                           dir_prefix(ev->direction), ev->length));
        break;
    case POP3D_EVENT_TLS:
        info_append(sc, wmem_strdup_printf(sc->pinfo->pool, "%s: (TLS, %" PRIu64 " bytes)",
                                           dir_prefix(ev->direction), ev->length));
        break;
    default:
        if (ev->piece > 1)
            return; /* a long line is listed once */
        info_append(sc, wmem_strdup_printf(sc->pinfo->pool, "%s: %s", dir_prefix(ev->direction),
                                           format_line(sc->pinfo, ev)));
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

static const pop3d_item *
find_item(const pop3d_event *ev, guint32 field)
{
    size_t i;

    for (i = 0; i < ev->item_count; i++)
        if (ev->items[i].field == field)
            return &ev->items[i];
    return NULL;
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

    /* OAUTHBEARER and EXTERNAL name the user only as the authorization identity */
    if (!user || user->text_length == 0)
        user = authzid;
    if (!user || user->text_length == 0 || credentials_tap < 0 ||
        !have_tap_listener(credentials_tap))
        return;
    auth = wmem_new0(pinfo->pool, tap_credential_t);
    req = conv_request(sc->chunk->conv, ev->request_id, FALSE);
    auth->num = pinfo->num;
    auth->username_num = req && req->request_frame ? req->request_frame : pinfo->num;
    auth->password_hf_id = pass ? (guint)hf_field[POP3D_FIELD_AUTH_PASSWORD] : 0;
    auth->username = item_string(pinfo, user);
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
    if (pref_imf && imf_handle && (ev->command == POP3D_CMD_RETR || ev->command == POP3D_CMD_TOP)) {
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

static void
show_event(show_ctx *sc, const decoded_event *de)
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
        add_new_data_source(pinfo, view.tvb, "Reassembled line");
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

    if (ev->item_count) {
        nodes = wmem_alloc0_array(pinfo->pool, proto_item *, ev->item_count);
        if (ev->buffer_count)
            buffer_tvbs = wmem_alloc0_array(pinfo->pool, tvbuff_t *, ev->buffer_count);
    }
    if (!sc->tree) {
        /* no tree: no labels to format */
    } else if (single_root < 0 && ev->kind == POP3D_EVENT_DATA_LINE &&
               field_valid(POP3D_FIELD_DATA) && !find_item(ev, POP3D_FIELD_DATA)) {
        /* a line of a message: the line itself is the event's item (pop3.data). Its UTF-8
         * copy is made only when the item can be seen (a plain pass over a large mail body
         * would otherwise spend a tenth of its time converting every line for nothing). */
        int hf = hf_field[POP3D_FIELD_DATA];
        const char *text = "";
        if (proto_field_is_referenced(sc->tree, hf))
            text = (const char *)get_utf_8_string(pinfo->pool,
                                                  ev->line ? ev->line : (const guint8 *)"",
                                                  (gint)MIN(ev->line_length, G_MAXINT));
        event_item = proto_tree_add_string(sc->tree, hf, view.tvb, view.start, view.length, text);
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

    for (i = 0; i < ev->item_count; i++) {
        const pop3d_item *it = &ev->items[i];
        proto_tree *parent = event_tree;
        if (!field_valid(it->field))
            continue;
        if (it->parent >= 0 && (size_t)it->parent < i && nodes[it->parent])
            parent =
                proto_item_add_subtree(nodes[it->parent], ett_field[ev->items[it->parent].field]);
        else if ((int)i == single_root)
            parent = sc->tree;
        nodes[i] = add_item(sc, parent, ev, it, &view, buffer_tvbs);
        if ((int)i == single_root && nodes[i]) {
            event_item = nodes[i];
            event_tree = proto_item_add_subtree(event_item, ett_field[it->field]);
            if (pop3d_field_type_of(it->field) == POP3D_TYPE_NONE && it->text_length == 0 &&
                ev->line_length)
                proto_item_append_text(event_item, ": %s", format_line(pinfo, ev));
        }
    }
    if (!event_tree)
        event_tree = sc->tree;

    /* Request/response linking */
    if (ev->request_id) {
        pop3_request *req = conv_request(chunk->conv, ev->request_id, FALSE);
        if (req && ev->kind == POP3D_EVENT_COMMAND && req->request_frame == pinfo->num &&
            req->response_frame) {
            proto_item *pi = proto_tree_add_uint(event_tree, hf_response_in, view.tvb, 0, 0,
                                                 req->response_frame);
            proto_item_set_generated(pi);
        } else if (req && ev->kind == POP3D_EVENT_STATUS && req->response_frame == pinfo->num &&
                   req->request_frame) {
            nstime_t delta;
            proto_item *pi =
                proto_tree_add_uint(event_tree, hf_response_to, view.tvb, 0, 0, req->request_frame);
            proto_item_set_generated(pi);
            nstime_delta(&delta, &pinfo->abs_ts, &req->request_time);
            pi = proto_tree_add_time(event_tree, hf_time, view.tvb, 0, 0, &delta);
            proto_item_set_generated(pi);
        }
    }

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

    if (ev->kind == POP3D_EVENT_AUTH_RESULT)
        tap_credentials(sc, ev);
    if (de->has_message)
        show_message(sc, ev, event_tree);
}

static void
show_chunk(show_ctx *sc)
{
    pop3_chunk *chunk = sc->chunk;
    decoder dec;
    decoded_event de;

    if (chunk->flags & CHUNK_RETRANSMISSION) {
        proto_tree_add_subtree(sc->tree, sc->tvb, 0, -1, ett_event, NULL,
                               "Retransmitted data (already decoded)");
        info_append(sc, wmem_strdup_printf(sc->pinfo->pool, "%s: (retransmission)",
                                           dir_prefix(chunk->direction)));
        return;
    }
    if (chunk->fed_from)
        proto_tree_add_subtree_format(sc->tree, sc->tvb, 0, chunk->fed_from, ett_event, NULL,
                                      "Retransmitted data (%u bytes, already decoded)",
                                      chunk->fed_from);

    memset(&dec, 0, sizeof dec);
    dec.r.p = chunk->blob;
    dec.r.end = chunk->blob + chunk->blob_length;
    dec.pinfo = sc->pinfo;
    dec.tvb = sc->tvb;
    dec.base = chunk->base;
    dec.prev_end = chunk->base;
    while (decode_event(&dec, &de))
        show_event(sc, &de);
    info_flush_data(sc);

    if (chunk->flags & CHUNK_FAILED)
        proto_tree_add_subtree(sc->tree, sc->tvb, 0, -1, ett_event, NULL,
                               "Not decoded (the decoder stopped on this conversation)");
    if (!sc->info_added)
        info_append(sc, wmem_strdup_printf(sc->pinfo->pool, "%s: (partial line, %u byte%s)",
                                           dir_prefix(chunk->direction), chunk->fed_length,
                                           plurality(chunk->fed_length, "", "s")));
}

#define KEY_CALL_COUNT 0

static int
dissect_pop3(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data)
{
    guint call_index;
    pop3_chunk *chunk;
    proto_item *ti;
    show_ctx sc;
    int caller = calling_protocol(pinfo);

    /* The n-th call of this dissector for this frame (TLS may call it once per record). */
    call_index = GPOINTER_TO_UINT(p_get_proto_data(pinfo->pool, pinfo, proto_pop3, KEY_CALL_COUNT));
    p_set_proto_data(pinfo->pool, pinfo, proto_pop3, KEY_CALL_COUNT,
                     GUINT_TO_POINTER(call_index + 1));

    col_set_str(pinfo->cinfo, COL_PROTOCOL, "POP3");
    if (call_index == 0)
        col_clear(pinfo->cinfo, COL_INFO);

    chunk = (pop3_chunk *)p_get_proto_data(wmem_file_scope(), pinfo, proto_pop3, call_index);
    if (!chunk && !PINFO_FD_VISITED(pinfo)) {
        gboolean from_tcp = caller == proto_tcp;
        pop3_conv *conv = get_conv(pinfo, caller == proto_tls);
        chunk =
            build_chunk(tvb, pinfo, conv, from_tcp ? (const struct tcpinfo *)data : NULL, from_tcp);
        p_add_proto_data(wmem_file_scope(), pinfo, proto_pop3, call_index, chunk);
    }

    ti = proto_tree_add_item(tree, proto_pop3, tvb, 0, -1, ENC_NA);
    memset(&sc, 0, sizeof sc);
    sc.pinfo = pinfo;
    sc.root = tree;
    sc.tree = proto_item_add_subtree(ti, ett_pop3);
    sc.tvb = tvb;
    sc.chunk = chunk;
    if (chunk) {
        show_chunk(&sc);
    } else {
        proto_tree_add_subtree(sc.tree, tvb, 0, -1, ett_event, NULL, "Not decoded");
        col_append_sep_str(pinfo->cinfo, COL_INFO, " | ", "(not decoded)");
    }
    return tvb_captured_length(tvb);
}

/* ---------------------------------------------------------------------------------------------
 * Registration
 * ------------------------------------------------------------------------------------------- */

static void
pop3_init(void)
{
    all_convs = g_ptr_array_new();
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
    pop3_handle = register_dissector("pop3", dissect_pop3, proto_pop3);

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

    pop3_module = prefs_register_protocol(proto_pop3, proto_reg_handoff_pop3);
    prefs_register_uint_preference(pop3_module, "tls_port", "POP3 over TLS port",
                                   "TCP port of POP3 over implicit TLS (POP3S); 0 for none", 10,
                                   &pref_tls_port);
    prefs_register_bool_preference(pop3_module, "reassemble", "Reassemble multi-line responses",
                                   "Collect the lines of each multi-line response (RETR, TOP, "
                                   "LIST, UIDL, CAPA...) into one buffer, shown when it ends",
                                   &pref_reassemble);
    prefs_register_bool_preference(pop3_module, "imf", "Dissect retrieved messages as IMF",
                                   "Hand the reassembled, dot-unstuffed message of each RETR and "
                                   "TOP response to the Internet Message Format dissector "
                                   "(needs reassembly)",
                                   &pref_imf);
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
}

void
proto_reg_handoff_pop3(void)
{
    static gboolean initialized = FALSE;

    if (!initialized) {
        dissector_add_uint_with_preference("tcp.port", POP3_TCP_PORT, pop3_handle);
        dissector_add_for_decode_as("tls.port", pop3_handle);
        tls_handle = find_dissector("tls");
        imf_handle = find_dissector_add_dependency("imf", proto_pop3);
        ntlmssp_handle = find_dissector_add_dependency("ntlmssp", proto_pop3);
        gssapi_handle = find_dissector_add_dependency("gssapi", proto_pop3);
        proto_tcp = proto_get_id_by_filter_name("tcp");
        proto_tls = proto_get_id_by_filter_name("tls");
        initialized = TRUE;
    } else if (registered_tls_port) {
        ssl_dissector_delete(registered_tls_port, pop3_handle);
    }
    if (pref_tls_port)
        ssl_dissector_add(pref_tls_port, pop3_handle);
    registered_tls_port = pref_tls_port;
}
