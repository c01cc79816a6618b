/* event-codec.c - compact serialisation of libpop3decode events (see event-codec.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "event-codec.h"

#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------------
 * Output buffer and variable-length integers
 * ------------------------------------------------------------------------------------------- */

void
pop3_codec_buf_free(pop3_codec_buf *buf)
{
    free(buf->data);
    buf->data = NULL;
    buf->len = 0;
    buf->cap = 0;
}

/* Room for n more bytes at data + len; the caller writes them and advances len. The many small
 * values cost a few stores each here, where a library call per value was measurably slower. */
static uint8_t *
out_room(pop3_codec_buf *b, size_t n)
{
    if (b->cap - b->len < n) {
        size_t cap = b->cap ? b->cap : 256;
        uint8_t *data;
        while (cap - b->len < n)
            cap *= 2;
        data = (uint8_t *)realloc(b->data, cap);
        if (!data)
            abort();
        b->data = data;
        b->cap = cap;
    }
    return b->data + b->len;
}

static void
put_u8(pop3_codec_buf *b, uint8_t v)
{
    *out_room(b, 1) = v;
    b->len++;
}

static void
put_uv(pop3_codec_buf *b, uint64_t v)
{
    uint8_t *p = out_room(b, 10);
    size_t n = 0;

    do {
        uint8_t c = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v)
            c |= 0x80;
        p[n++] = c;
    } while (v);
    b->len += n;
}

static void
put_sv(pop3_codec_buf *b, int64_t v)
{
    put_uv(b, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

static void
put_bytes(pop3_codec_buf *b, const uint8_t *p, size_t n)
{
    put_uv(b, n);
    if (n) {
        memcpy(out_room(b, n), p, n);
        b->len += n;
    }
}

static uint8_t
get_u8(pop3_codec_decoder *r)
{
    if (r->p >= r->end) {
        r->bad = 1;
        return 0;
    }
    return *r->p++;
}

static uint64_t
get_uv(pop3_codec_decoder *r)
{
    uint64_t v = 0;
    unsigned shift = 0;

    for (;;) {
        uint8_t c;
        if (r->p >= r->end || shift > 63) {
            r->bad = 1;
            return 0;
        }
        c = *r->p++;
        v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80))
            return v;
        shift += 7;
    }
}

static int64_t
get_sv(pop3_codec_decoder *r)
{
    uint64_t u = get_uv(r);
    return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

static const uint8_t *
get_bytes(pop3_codec_decoder *r, size_t *n)
{
    uint64_t len = get_uv(r);
    const uint8_t *p = r->p;

    if (r->bad || len > (uint64_t)(r->end - r->p)) {
        r->bad = 1;
        *n = 0;
        return NULL;
    }
    r->p += len;
    *n = (size_t)len;
    return p;
}

/* Zeroed room for count elements of size bytes; NULL (with *ok cleared) when it fails. */
static void *
alloc_array(pop3_codec_decoder *dec, uint64_t count, size_t size, int *ok)
{
    void *p;

    if (count == 0)
        return NULL;
    if (count > SIZE_MAX / size) {
        *ok = 0;
        return NULL;
    }
    p = dec->alloc(dec->alloc_ctx, (size_t)count * size);
    if (!p)
        *ok = 0;
    return p;
}

/* ---------------------------------------------------------------------------------------------
 * Record layout
 * ------------------------------------------------------------------------------------------- */

/* Event flags (first byte) */
#define EF_LINE_MASK 0x03u
#define EF_LINE_NONE 0x00u   /* line_length == 0 */
#define EF_LINE_TVB 0x01u    /* the line is in the frame at its offset */
#define EF_LINE_PREFIX 0x02u /* the line's start (before the frame) is stored, the rest in it */
#define EF_LINE_LIT 0x03u    /* the line is stored */
#define EF_LEN_CRLF 0x04u    /* length == line_length + 2 */
#define EF_REQ_SAME 0x08u    /* request_id and command as the previous event */
#define EF_PIECE 0x10u
#define EF_ITEMS 0x20u
#define EF_ANOMALIES 0x40u
#define EF_EXT 0x80u
/* Event flags (second byte, present with EF_EXT) */
#define EF2_BUFFERS 0x01u
#define EF2_MESSAGE 0x02u  /* a DATA_END that takes the chunk's next reassembled message */
#define EF2_DATA_REF 0x04u /* data: the line from a byte (0 or 1: the stuffed dot) on */
#define EF2_DATA_LIT 0x08u /* data: stored */
#define EF2_DATA_NONE                                                                              \
    0x10u /* DATA_LINE without data (otherwise a DATA_LINE with none of the                        \
           * EF2_DATA_ flags has the line as its data: the common case) */

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

/* ---------------------------------------------------------------------------------------------
 * Encoding
 * ------------------------------------------------------------------------------------------- */

void
pop3_codec_encoder_init(pop3_codec_encoder *enc, pop3_codec_buf *out, const pop3_codec_frame *frame)
{
    memset(enc, 0, sizeof *enc);
    enc->out = out;
    enc->frame = *frame;
    enc->prev_end = frame->base;
    enc->first = 1;
}

/* Are the n bytes at stream offset `offset` in the frame and equal to p? */
static int
frame_holds(const pop3_codec_frame *frame, uint64_t offset, const uint8_t *p, size_t n)
{
    uint64_t rel;

    if (offset < frame->base)
        return 0;
    rel = offset - frame->base;
    if (rel > frame->length || n > frame->length - rel)
        return 0;
    return n == 0 || memcmp(frame->bytes + rel, p, n) == 0;
}

static void
encode_item(pop3_codec_encoder *enc, const pop3d_event *ev, const pop3d_item *it)
{
    uint8_t flags = 0;
    unsigned mode = IF_TEXT_NONE;

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
    flags |= (uint8_t)mode;
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
        put_uv(enc->out, (uint64_t)it->parent);
    if (flags & IF_SOURCE)
        put_uv(enc->out, it->source);
    if (flags & IF_FLAGS)
        put_uv(enc->out, it->flags);
    put_sv(enc->out, it->source == 0 ? (int64_t)(it->offset - ev->offset) : (int64_t)it->offset);
    put_uv(enc->out, it->length);
    if (flags & IF_NUMBER)
        put_uv(enc->out, it->number);
    if (mode == IF_TEXT_SAME && (flags & IF_TEXTLEN))
        put_uv(enc->out, it->text_length);
    if (mode == IF_TEXT_LIT)
        put_bytes(enc->out, it->text, it->text_length);
}

/* Is the event's data the line from byte 0 or 1 on, followed by nothing but a line end? Returns
 * that byte (what the codec stores instead of the data), or -1. */
static int
data_in_line(const pop3d_event *ev)
{
    size_t skip, take, i;

    for (skip = 0; skip <= 1 && skip <= ev->line_length; skip++) {
        take = ev->line_length - skip;
        if (take > ev->data_length || ev->data_length - take > 2)
            continue;
        if (take && memcmp(ev->data, ev->line + skip, take) != 0)
            continue;
        for (i = take; i < ev->data_length; i++)
            if (ev->data[i] != '\r' && ev->data[i] != '\n')
                break;
        if (i == ev->data_length)
            return (int)skip;
    }
    return -1;
}

void
pop3_codec_encode_event(pop3_codec_encoder *enc, const pop3d_event *ev, int has_message)
{
    const pop3_codec_frame *frame = &enc->frame;
    uint8_t flags = 0;
    uint8_t flags2 = 0;
    int data_skip = -1;
    size_t i;

    if (ev->line_length == 0)
        flags |= EF_LINE_NONE;
    else if (frame_holds(frame, ev->offset, ev->line, ev->line_length))
        flags |= EF_LINE_TVB;
    else if (ev->offset < frame->base && frame->base - ev->offset < ev->line_length &&
             frame_holds(frame, frame->base, ev->line + (frame->base - ev->offset),
                         ev->line_length - (size_t)(frame->base - ev->offset)))
        flags |= EF_LINE_PREFIX;
    else
        flags |= EF_LINE_LIT;
    if (ev->length == (uint64_t)ev->line_length + 2)
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
    if (ev->data_length)
        data_skip = data_in_line(ev);
    if (ev->kind == POP3D_EVENT_DATA_LINE && data_skip == 0)
        ; /* implicit: the data is the line */
    else if (data_skip >= 0)
        flags2 |= EF2_DATA_REF;
    else if (ev->data_length)
        flags2 |= EF2_DATA_LIT;
    else if (ev->kind == POP3D_EVENT_DATA_LINE)
        flags2 |= EF2_DATA_NONE;
    if (flags2)
        flags |= EF_EXT;

    put_u8(enc->out, (uint8_t)((ev->kind & 0x7f) | ((ev->direction & 1) << 7)));
    put_u8(enc->out, flags);
    if (flags2)
        put_u8(enc->out, flags2);
    put_sv(enc->out, (int64_t)(ev->offset - enc->prev_end));
    put_uv(enc->out, ev->line_length);
    if (!(flags & EF_LEN_CRLF))
        put_uv(enc->out, ev->length);
    switch (flags & EF_LINE_MASK) {
    case EF_LINE_PREFIX: put_bytes(enc->out, ev->line, (size_t)(frame->base - ev->offset)); break;
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
            put_sv(enc->out, (int64_t)(ev->anomalies[i].offset - ev->offset));
            put_uv(enc->out, ev->anomalies[i].length);
        }
    }
    if (flags2 & EF2_BUFFERS) {
        put_uv(enc->out, ev->buffer_count);
        for (i = 0; i < ev->buffer_count; i++) {
            put_bytes(enc->out, ev->buffers[i].data, ev->buffers[i].length);
            put_sv(enc->out, (int64_t)(ev->buffers[i].origin_offset - ev->offset));
            put_uv(enc->out, ev->buffers[i].origin_length);
        }
    }
    if (flags2 & EF2_DATA_REF)
        put_u8(enc->out, (uint8_t)data_skip);
    else if (flags2 & EF2_DATA_LIT)
        put_bytes(enc->out, ev->data, ev->data_length);

    enc->first = 0;
    enc->prev_end = ev->offset + ev->length;
    enc->prev_request = ev->request_id;
    enc->prev_command = ev->command;
}

/* ---------------------------------------------------------------------------------------------
 * Decoding
 * ------------------------------------------------------------------------------------------- */

void
pop3_codec_decoder_init(pop3_codec_decoder *dec, const uint8_t *blob, size_t length,
                        const pop3_codec_frame *frame, pop3_codec_alloc_fn alloc, void *alloc_ctx)
{
    memset(dec, 0, sizeof *dec);
    dec->p = blob;
    dec->end = blob ? blob + length : blob;
    dec->frame = *frame;
    if (!dec->frame.bytes)
        dec->frame.length = 0;
    dec->alloc = alloc;
    dec->alloc_ctx = alloc_ctx;
    dec->prev_end = frame->base;
}

/* Does the frame hold `length` bytes from its byte `rel`? */
static int
frame_has(const pop3_codec_frame *frame, uint64_t rel, uint64_t length)
{
    return rel <= frame->length && length <= frame->length - rel;
}

/* Stands for "the text is the bytes at the item's position" until resolved. */
static const uint8_t text_same_marker[1];

static int
decode_one(pop3_codec_decoder *dec, pop3_codec_event *out)
{
    const pop3_codec_frame *frame = &dec->frame;
    pop3d_event *ev = &out->ev;
    uint8_t kd, flags, flags2 = 0;
    size_t n, i;
    const uint8_t *p;
    int ok = 1;

    kd = get_u8(dec);
    ev->kind = kd & 0x7f;
    ev->direction = kd >> 7;
    flags = get_u8(dec);
    if (flags & EF_EXT)
        flags2 = get_u8(dec);
    ev->offset = dec->prev_end + (uint64_t)get_sv(dec);
    ev->line_length = (size_t)get_uv(dec);
    ev->length = (flags & EF_LEN_CRLF) ? (uint64_t)ev->line_length + 2 : get_uv(dec);
    if (dec->bad)
        return 0;

    switch (flags & EF_LINE_MASK) {
    case EF_LINE_TVB:
        if (ev->offset < frame->base ||
            !frame_has(frame, ev->offset - frame->base, ev->line_length))
            return 0;
        /* A frame of no bytes may have no buffer: NULL + 0 is undefined in C. */
        ev->line = frame->bytes ? frame->bytes + (ev->offset - frame->base) : NULL;
        break;
    case EF_LINE_PREFIX: {
        uint8_t *line;
        p = get_bytes(dec, &n);
        if (dec->bad || n > ev->line_length || !frame_has(frame, 0, ev->line_length - n))
            return 0;
        line = (uint8_t *)alloc_array(dec, ev->line_length, 1, &ok);
        if (!ok)
            return 0;
        if (n)
            memcpy(line, p, n);
        if (ev->line_length - n)
            memcpy(line + n, frame->bytes, ev->line_length - n);
        ev->line = line;
        break;
    }
    case EF_LINE_LIT:
        ev->line = get_bytes(dec, &n);
        if (dec->bad || n != ev->line_length)
            return 0;
        break;
    default:
        /* the encoder writes no line only for lines of no bytes */
        if (ev->line_length)
            return 0;
        ev->line = NULL;
        break;
    }

    if (flags & EF_REQ_SAME) {
        ev->request_id = dec->prev_request;
        ev->command = dec->prev_command;
    } else {
        ev->request_id = get_uv(dec);
        ev->command = (uint32_t)get_uv(dec);
    }
    if (flags & EF_PIECE)
        ev->piece = (uint32_t)get_uv(dec);

    if (flags & EF_ITEMS) {
        pop3d_item *items;
        uint64_t count = get_uv(dec);
        if (dec->bad || count > (uint64_t)(dec->end - dec->p))
            return 0;
        items = (pop3d_item *)alloc_array(dec, count, sizeof *items, &ok);
        if (!ok)
            return 0;
        for (i = 0; i < count; i++) {
            pop3d_item *it = &items[i];
            uint8_t f;
            it->field = (uint32_t)get_uv(dec);
            f = get_u8(dec);
            it->parent = (f & IF_PARENT) ? (int32_t)get_uv(dec) : -1;
            it->source = (f & IF_SOURCE) ? (uint32_t)get_uv(dec) : 0;
            it->flags = (f & IF_FLAGS) ? (uint32_t)get_uv(dec) : 0;
            it->offset = (uint64_t)get_sv(dec);
            if (it->source == 0)
                it->offset += ev->offset;
            it->length = get_uv(dec);
            it->number = (f & IF_NUMBER) ? get_uv(dec) : 0;
            switch (f & IF_TEXT_MASK) {
            case IF_TEXT_SAME:
                /* resolved below, once the buffers are known */
                it->text_length = (f & IF_TEXTLEN) ? (size_t)get_uv(dec) : (size_t)it->length;
                it->text = text_same_marker;
                break;
            case IF_TEXT_LIT: it->text = get_bytes(dec, &it->text_length); break;
            default:
                it->text = NULL;
                it->text_length = 0;
                break;
            }
            if (dec->bad)
                return 0;
        }
        ev->items = items;
        ev->item_count = (size_t)count;
    }
    if (flags & EF_ANOMALIES) {
        pop3d_anomaly_hit *hits;
        uint64_t count = get_uv(dec);
        if (dec->bad || count > (uint64_t)(dec->end - dec->p))
            return 0;
        hits = (pop3d_anomaly_hit *)alloc_array(dec, count, sizeof *hits, &ok);
        if (!ok)
            return 0;
        for (i = 0; i < count; i++) {
            hits[i].anomaly = (uint32_t)get_uv(dec);
            hits[i].offset = ev->offset + (uint64_t)get_sv(dec);
            hits[i].length = get_uv(dec);
        }
        ev->anomalies = hits;
        ev->anomaly_count = (size_t)count;
    }
    if (flags2 & EF2_BUFFERS) {
        pop3d_buffer *bufs;
        uint64_t count = get_uv(dec);
        if (dec->bad || count > (uint64_t)(dec->end - dec->p))
            return 0;
        bufs = (pop3d_buffer *)alloc_array(dec, count, sizeof *bufs, &ok);
        if (!ok)
            return 0;
        for (i = 0; i < count; i++) {
            bufs[i].data = get_bytes(dec, &bufs[i].length);
            bufs[i].origin_offset = ev->offset + (uint64_t)get_sv(dec);
            bufs[i].origin_length = get_uv(dec);
        }
        ev->buffers = bufs;
        ev->buffer_count = (size_t)count;
    }
    if (flags2 & EF2_DATA_REF) {
        size_t skip = get_u8(dec);
        if (dec->bad || skip > ev->line_length || (skip && !ev->line))
            return 0;
        ev->data = ev->line ? ev->line + skip : NULL;
        ev->data_length = ev->line_length - skip;
    } else if (flags2 & EF2_DATA_LIT) {
        ev->data = get_bytes(dec, &ev->data_length);
    } else if (ev->kind == POP3D_EVENT_DATA_LINE && !(flags2 & EF2_DATA_NONE)) {
        ev->data = ev->line;
        ev->data_length = ev->line_length;
    }
    out->has_message = (flags2 & EF2_MESSAGE) != 0;
    if (dec->bad)
        return 0;

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
            uint64_t rel = it->offset - ev->offset;
            if (it->offset < ev->offset || rel > ev->line_length ||
                it->text_length > ev->line_length - rel || !ev->line)
                return 0;
            it->text = ev->line + rel;
        } else {
            const pop3d_buffer *buf;
            if (it->source > ev->buffer_count)
                return 0;
            buf = &ev->buffers[it->source - 1];
            if (it->offset > buf->length || it->text_length > buf->length - it->offset)
                return 0;
            it->text = buf->data + it->offset;
        }
    }

    dec->prev_end = ev->offset + ev->length;
    dec->prev_request = ev->request_id;
    dec->prev_command = ev->command;
    return 1;
}

int
pop3_codec_decode_event(pop3_codec_decoder *dec, pop3_codec_event *out)
{
    memset(out, 0, sizeof *out);
    if (dec->bad || dec->p >= dec->end)
        return 0;
    if (!decode_one(dec, out)) {
        /* a damaged record ends here: nothing after it is trusted */
        dec->bad = 1;
        memset(out, 0, sizeof *out);
        return 0;
    }
    return 1;
}
