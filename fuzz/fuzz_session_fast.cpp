// libFuzzer target: the session decoder driven once per input, for many executions. It takes
// the same input layout as fuzz_session.cpp (so each target's corpus seeds the other) but decodes
// each input once, in the chunks it chooses, and checks only what is cheap per event: offsets and
// lengths within the bytes fed, the line equal to the stream bytes at its offset, the unstuffed
// data a suffix of the wire bytes, items inside their event or buffer, parents before children,
// anomalies within the bytes fed, and the decoder's offset equal to the bytes fed. It is built
// with UndefinedBehaviorSanitizer only (no AddressSanitizer); fuzz_session.cpp keeps the three
// decodes, the event-dump comparisons and ASan. See fuzz/README.md.
//
// Input layout (as fuzz_session.cpp):
//   byte 0: options. bit 0 mid_stream; bit 1 implicit_tls; bits 2-3 max_line (65536, 64, 200,
//           1024); bits 4-5 max_pending (4096, 1, 3, 32); bit 6 the C ABI instead of C++.
//   then records separated by FF FE: a control byte (bit 0 direction; bits 1-3: 0-4 data,
//   5 a gap of (bits 4-7) + 1 bytes then the data, 6 a known password "user" NUL "password",
//   7 a clone point, here a copy of the session that is dropped at once; bits 4-7 the feed size)
//   and the payload. The first 128 bytes of a record are fed in the chosen size, the rest in
//   1460-byte feeds.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pop3decode/pop3decode.h"
#include "pop3decode/session.hpp"
#include "session_fuzz.hpp"

namespace {

using namespace pop3decode;

using pop3fuzz::chunk_sizes;
using pop3fuzz::line_event;
using pop3fuzz::max_lines;
using pop3fuzz::max_pendings;
using pop3fuzz::separator;

constexpr size_t small_chunks_up_to = 128;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "invariant violated: %s\n", what);
  std::abort();
}
#define CHECK(cond)           \
  do {                        \
    if (!(cond)) fail(#cond); \
  } while (0)

// The bytes of one direction as fed (gaps as zero bytes), and the end of the last gap: bytes
// before it may be gap filler, so line bytes are compared only past it.
struct Stream {
  std::string bytes;
  uint64_t gap_end = 0;
};

class Checker final : public EventHandler {
 public:
  Checker(const std::array<Stream, 2>& streams, size_t max_line)
      : streams_(streams), max_line_(max_line) {}

  void on_event(const Event& e) override {
    CHECK(static_cast<uint32_t>(e.kind) < POP3D_EVENT_KIND_COUNT);
    CHECK(e.direction == Direction::client_to_server || e.direction == Direction::server_to_client);
    const Stream& s = streams_[static_cast<size_t>(e.direction)];
    const uint64_t fed = s.bytes.size();
    CHECK(e.offset <= fed && e.length <= fed - e.offset);
    const std::string_view stream(s.bytes);
    if (line_event(e.kind)) {
      CHECK(e.length > 0);
      CHECK(e.line.size() <= e.length && e.length - e.line.size() <= 2);
      CHECK(e.line.size() <= max_line_);
      if (e.offset >= s.gap_end) {
        CHECK(e.line == stream.substr(e.offset, e.line.size()));
        if (e.kind == EventKind::data_line) {
          CHECK(e.data.size() == e.length || e.data.size() + 1 == e.length);
          CHECK(e.data == stream.substr(e.offset + (e.length - e.data.size()), e.data.size()));
        }
      }
      if (e.kind != EventKind::data_line) CHECK(e.data.empty());
    } else if ((e.kind == EventKind::skipped || e.kind == EventKind::tls) &&
               !e.has_anomaly(Anomaly::GAP)) {
      CHECK(e.line.size() == e.length && e.length > 0);
      if (e.offset >= s.gap_end) CHECK(e.line == stream.substr(e.offset, e.length));
    }
    for (const Buffer& b : e.buffers)
      CHECK(b.origin_offset <= fed && b.origin_length <= fed - b.origin_offset);
    for (size_t i = 0; i < e.items.size(); ++i) {
      const Item& item = e.items[i];
      CHECK(item.parent >= -1 && item.parent < static_cast<int64_t>(i));
      if (item.flags & item_generated) continue;
      if (item.source == 0) {
        CHECK(item.offset <= fed && item.length <= fed - item.offset);
        if (line_event(e.kind))
          CHECK(item.offset >= e.offset && item.offset + item.length <= e.offset + e.length);
      } else {
        CHECK(item.source <= e.buffers.size());
        const std::string_view buffer = e.buffers[item.source - 1].data;
        CHECK(item.offset <= buffer.size() && item.length <= buffer.size() - item.offset);
      }
    }
    for (const AnomalyHit& hit : e.anomalies)
      CHECK(hit.offset <= fed && hit.length <= fed - hit.offset);
  }

 private:
  const std::array<Stream, 2>& streams_;
  size_t max_line_;
};

int c_callback(void* user, const pop3d_event* ev) {
  // The C ABI's event, checked through the same C++ view.
  static thread_local pop3fuzz::CEventView view;
  static_cast<EventHandler*>(user)->on_event(view.convert(*ev));
  return 0;
}

struct CFree {
  void operator()(pop3d_session* s) const { pop3d_session_free(s); }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto flags = static_cast<uint8_t>(input[0]);
  input.remove_prefix(1);
  Options options;
  options.mid_stream = (flags & 1) != 0;
  options.implicit_tls = (flags & 2) != 0;
  options.max_line = max_lines[(flags >> 2) & 3];
  options.max_pending = max_pendings[(flags >> 4) & 3];
  const bool c_api = (flags & 0x40) != 0;

  std::array<Stream, 2> streams;
  Checker checker(streams, std::max<size_t>(options.max_line, 64));
  std::optional<Session> cpp;
  std::unique_ptr<pop3d_session, CFree> c;
  if (c_api) {
    pop3d_options o;
    pop3d_options_init(&o);
    o.max_line = options.max_line;
    o.max_pending = options.max_pending;
    o.mid_stream = options.mid_stream;
    o.implicit_tls = options.implicit_tls;
    c.reset(pop3d_session_new(&o));
    CHECK(c != nullptr);
  } else {
    cpp.emplace(options);
  }

  while (!input.empty()) {
    const size_t end = input.find(separator);
    std::string_view body = input.substr(0, end);
    input = end == std::string_view::npos ? std::string_view{} : input.substr(end + 2);
    if (body.empty()) continue;
    const auto control = static_cast<uint8_t>(body[0]);
    body.remove_prefix(1);
    const auto d = (control & 1) ? Direction::server_to_client : Direction::client_to_server;
    Stream& s = streams[static_cast<size_t>(d)];
    const unsigned kind = (control >> 1) & 7;
    size_t chunk = chunk_sizes[control >> 4];
    if (kind == 6) {  // a known password
      const size_t nul = body.find('\0');
      const std::string_view user = body.substr(0, nul);
      const std::string_view password =
          nul == std::string_view::npos ? std::string_view{} : body.substr(nul + 1);
      if (cpp) {
        cpp->add_password(std::string(user), std::string(password));
      } else {
        CHECK(pop3d_session_add_password(c.get(), user.empty() ? "" : user.data(), user.size(),
                                         password.empty() ? "" : password.data(),
                                         password.size()) == POP3D_OK);
      }
      continue;
    }
    if (kind == 5) {  // a gap, then the data
      const uint64_t length = (control >> 4) + 1u;
      s.bytes.append(length, '\0');
      s.gap_end = s.bytes.size();
      if (cpp) {
        cpp->gap(d, length, checker);
      } else {
        CHECK(pop3d_session_gap(c.get(), static_cast<uint32_t>(d), length, c_callback, &checker) ==
              POP3D_OK);
      }
      chunk = 0;
    }
    if (kind == 7) {  // a copy of the session made and dropped mid-stream
      if (cpp) {
        Session copy(*cpp);
        (void)copy;
      } else {
        std::unique_ptr<pop3d_session, CFree> copy(pop3d_session_clone(c.get()));
        CHECK(copy != nullptr);
      }
    }
    // The record's first bytes in the chosen feed size, the rest in 1460-byte feeds: a long
    // record cut into bytes costs a feed call per byte, and the split-point coverage lies in
    // the first lines (the deep target feeds whole records in the chosen size).
    size_t small_left = small_chunks_up_to;
    while (!body.empty()) {
      const size_t step = chunk == 0       ? body.size()
                          : small_left > 0 ? chunk
                                           : std::max<size_t>(chunk, 1460);
      const std::string_view piece = body.substr(0, step);
      small_left -= std::min(small_left, piece.size());
      s.bytes.append(piece);
      if (cpp) {
        cpp->feed(d, piece, checker);
        CHECK(cpp->offset(d) == s.bytes.size());
      } else {
        CHECK(pop3d_session_feed(c.get(), static_cast<uint32_t>(d),
                                 reinterpret_cast<const uint8_t*>(piece.data()), piece.size(),
                                 c_callback, &checker) == POP3D_OK);
        CHECK(pop3d_session_offset(c.get(), static_cast<uint32_t>(d)) == s.bytes.size());
      }
      body.remove_prefix(piece.size());
    }
  }
  if (cpp) {
    cpp->finish(checker);
    CHECK(cpp->pending_commands() <= std::max<size_t>(options.max_pending, 1));
  } else {
    CHECK(pop3d_session_finish(c.get(), c_callback, &checker) == POP3D_OK);
  }
  return 0;
}
