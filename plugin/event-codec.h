/* event-codec.h - compact serialisation of libpop3decode events for later dissection passes.
 *
 * The dissector feeds each conversation once (first pass) and keeps, per dissector call, a
 * record of the events that call produced; every pass decodes that record to build the tree.
 * Events are written with variable-length integers, offsets relative to the previous event,
 * and every byte string that can be found again in the frame's own bytes (the line, item
 * texts that are slices of the line or of a decoded SASL buffer) as a reference, not a copy.
 *
 * Plain C (C11 and libpop3decode's C header): no Wireshark or GLib dependency, so that the
 * codec is tested and fuzzed on its own. The frame is passed as a plain view (the stream
 * offset of its first byte, its bytes and their number); the decoder takes its memory from a
 * caller-supplied allocator (the dissector passes pinfo->pool).
 *
 * The `data` of an event (DATA_LINE's unstuffed line) comes back without its line end when it
 * is the line, or the line after its first byte (the stuffed dot), followed by a line end:
 * then only that byte's number is recorded (nothing at all for a DATA_LINE whose data is its
 * whole line, the common case). Any other data comes back as it was.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef POP3_EVENT_CODEC_H
#define POP3_EVENT_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include <pop3decode/pop3decode.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The bytes one dissector call was given: `bytes[0]` is at stream offset `base`. `bytes` may be
 * NULL when `length` is 0. Borrowed: must stay valid while an encoder or decoder uses it, and
 * the decoder must be given the same bytes the encoder saw. */
typedef struct pop3_codec_frame {
    uint64_t base;
    const uint8_t *bytes;
    size_t length;
} pop3_codec_frame;

/* A growable output buffer. Start from {NULL, 0, 0}; free `data` with pop3_codec_buf_free.
 * Growth aborts the process when out of memory (as GLib's allocator does). */
typedef struct pop3_codec_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
} pop3_codec_buf;

void pop3_codec_buf_free(pop3_codec_buf *buf);

typedef struct pop3_codec_encoder {
    pop3_codec_buf *out;
    pop3_codec_frame frame;
    uint64_t prev_end;
    uint64_t prev_request;
    uint32_t prev_command;
    int first;
} pop3_codec_encoder;

/* Starts a record for one frame; events are appended to *out. */
void pop3_codec_encoder_init(pop3_codec_encoder *enc, pop3_codec_buf *out,
                             const pop3_codec_frame *frame);

/* Appends one event. `has_message`: a DATA_END that takes the chunk's next reassembled
 * message. Events must come in the order the session produced them. */
void pop3_codec_encode_event(pop3_codec_encoder *enc, const pop3d_event *ev, int has_message);

/* Returns `size` bytes of zeroed memory that stays valid as long as the decoded events are
 * used, or NULL (the decoder then stops). Never called with size 0. */
typedef void *(*pop3_codec_alloc_fn)(void *ctx, size_t size);

typedef struct pop3_codec_decoder {
    const uint8_t *p;
    const uint8_t *end;
    int bad;
    pop3_codec_frame frame;
    pop3_codec_alloc_fn alloc;
    void *alloc_ctx;
    uint64_t prev_end;
    uint64_t prev_request;
    uint32_t prev_command;
} pop3_codec_decoder;

/* A decoded event. Its pointers point into the record, the frame's bytes, or memory from the
 * decoder's allocator. `data` is as described at the top of this file. */
typedef struct pop3_codec_event {
    pop3d_event ev;
    int has_message;
} pop3_codec_event;

/* Reads the record blob[0..length) written for `frame` (both borrowed). */
void pop3_codec_decoder_init(pop3_codec_decoder *dec, const uint8_t *blob, size_t length,
                             const pop3_codec_frame *frame, pop3_codec_alloc_fn alloc,
                             void *alloc_ctx);

/* Decodes the next event into *out. Returns 0 at the end of the record or when it is damaged
 * (any byte string is accepted: reads stay within the record and the frame). */
int pop3_codec_decode_event(pop3_codec_decoder *dec, pop3_codec_event *out);

#ifdef __cplusplus
}
#endif

#endif /* POP3_EVENT_CODEC_H */
