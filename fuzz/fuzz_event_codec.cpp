// libFuzzer target: the plugin's event codec (plugin/event-codec.h).
//
// Byte 0 chooses the mode:
//   even: the rest is cut in two at byte 1's value: a "frame" (the bytes a dissector call was
//         given) and a record; decoding the record must never read outside the record or the
//         frame (checked by the sanitizers: every byte of every decoded string is read) and
//         every decoded item's text must lie in its line or buffer when it claims to.
//   odd:  the rest is a POP3 conversation, decoded by the library through the C ABI: records
//         separated by FF FE alternate client and server, each cut into frames of a size
//         chosen by bits 1-4 of byte 0. The events of each frame are encoded and decoded
//         back; every field must come back the same (tests/codec_compare.hpp).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "codec_compare.hpp"
#include "event-codec.h"
#include "pop3decode/pop3decode.h"

namespace {

using namespace codectest;

volatile uint8_t sink;

void touch(const uint8_t* p, size_t n) {
  uint8_t x = 0;
  for (size_t i = 0; i < n; i++) x = static_cast<uint8_t>(x ^ p[i]);
  sink = x;
}

[[noreturn]] void invariant(const char* what) {
  std::fprintf(stderr, "invariant violated: %s\n", what);
  std::abort();
}

void decode_arbitrary(const uint8_t* data, size_t size) {
  if (size < 2) return;
  size_t frame_length = data[1];
  data += 2;
  size -= 2;
  if (frame_length > size) frame_length = size;
  // Copies of exactly the right size, so that the sanitizers see any read beyond them.
  std::vector<uint8_t> frame_bytes(data, data + frame_length);
  std::vector<uint8_t> record(data + frame_length, data + size);
  pop3_codec_frame frame{1000, frame_bytes.empty() ? nullptr : frame_bytes.data(),
                         frame_bytes.size()};
  Arena arena;
  pop3_codec_decoder dec;
  pop3_codec_decoder_init(&dec, record.empty() ? nullptr : record.data(), record.size(), &frame,
                          Arena::alloc, &arena);
  pop3_codec_event out;
  size_t events = 0;
  while (pop3_codec_decode_event(&dec, &out)) {
    const pop3d_event& ev = out.ev;
    if (++events > record.size()) invariant("more events than record bytes");
    touch(ev.line, ev.line_length);
    for (size_t i = 0; i < ev.buffer_count; i++) touch(ev.buffers[i].data, ev.buffers[i].length);
    for (size_t i = 0; i < ev.item_count; i++) touch(ev.items[i].text, ev.items[i].text_length);
    if (ev.line_length && !ev.line) invariant("line length without a line");
  }
}

struct Ctx {
  std::vector<OwnedEvent> events;
  pop3_codec_encoder* enc;
};

int on_event(void* user, const pop3d_event* ev) {
  auto* ctx = static_cast<Ctx*>(user);
  int message = ev->kind == POP3D_EVENT_DATA_END && (ctx->events.size() & 1);
  pop3_codec_encode_event(ctx->enc, ev, message);
  ctx->events.emplace_back(*ev, message);
  return 0;
}

constexpr size_t frame_sizes[16] = {0, 1, 2, 3, 4, 5, 7, 8, 13, 16, 31, 64, 100, 255, 256, 1460};

void round_trip_session(const uint8_t* data, size_t size) {
  size_t piece = frame_sizes[(data[0] >> 1) & 15];
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  pop3d_session* session = pop3d_session_new(nullptr);
  if (!session) return;
  uint32_t dir = POP3D_SERVER_TO_CLIENT;
  for (;;) {
    size_t sep = rest.find("\xff\xfe");
    std::string_view record = rest.substr(0, sep);
    size_t step = piece ? piece : (record.empty() ? 1 : record.size());
    for (size_t at = 0; at < record.size(); at += step) {
      size_t n = std::min(step, record.size() - at);
      std::vector<uint8_t> bytes(record.begin() + static_cast<ptrdiff_t>(at),
                                 record.begin() + static_cast<ptrdiff_t>(at + n));
      pop3_codec_frame frame{pop3d_session_offset(session, dir), bytes.data(), bytes.size()};
      pop3_codec_buf buf{nullptr, 0, 0};
      pop3_codec_encoder enc;
      pop3_codec_encoder_init(&enc, &buf, &frame);
      Ctx ctx{{}, &enc};
      pop3d_session_feed(session, dir, bytes.data(), bytes.size(), on_event, &ctx);
      Arena arena;
      pop3_codec_decoder dec;
      pop3_codec_decoder_init(&dec, buf.data, buf.len, &frame, Arena::alloc, &arena);
      pop3_codec_event got;
      size_t i = 0;
      while (pop3_codec_decode_event(&dec, &got)) {
        if (i >= ctx.events.size()) invariant("more events decoded than encoded");
        if (!same_event("event", ctx.events[i], got)) invariant("event differs after round trip");
        i++;
      }
      if (i != ctx.events.size()) invariant("fewer events decoded than encoded");
      pop3_codec_buf_free(&buf);
    }
    if (sep == std::string_view::npos) break;
    rest.remove_prefix(sep + 2);
    dir ^= 1;
  }
  pop3d_session_free(session);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  if (data[0] & 1)
    round_trip_session(data, size);
  else
    decode_arbitrary(data, size);
  return 0;
}
