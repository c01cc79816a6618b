// libFuzzer target: the session decoder, the way a dissector drives it. The input chooses the
// options, the bytes of both directions, how they interleave, how each run of bytes is cut into
// feeds, capture gaps, known passwords and a point where the session is cloned.
//
// Input layout:
//   byte 0: options. bit 0 mid_stream; bit 1 implicit_tls; bits 2-3 max_line (65536, 64, 200,
//           1024); bits 4-5 max_pending (4096, 1, 3, 32); bit 6 drive the chunked run through
//           the C ABI (pop3d_session_*) instead of the C++ API.
//   then records separated by the two bytes FF FE. A record is one control byte and a payload:
//     control bit 0:     direction (0 client to server, 1 server to client)
//     control bits 1-3:  0-4 data; 5 a gap of (bits 4-7) + 1 bytes, then the data;
//                        6 a known password, payload "user" NUL "password";
//                        7 clone the session here, then the data
//     control bits 4-7:  for data, the feed size the payload is cut into (see chunk_sizes)
//
// Each input is decoded twice: once in the chosen chunks, once with every run of same-direction
// data fed whole. Both runs must give the same events (pop3test::dump_event, SKIPPED and TLS
// events merged as the test Recorder does). From the clone point on, the clone and the original
// are fed the same bytes and must give the same events. Every event is checked as it arrives:
// offsets within the bytes fed, line and data bytes equal to the stream bytes at their offsets,
// items inside their event and their buffers, parents before children. A violation aborts.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "pop3decode/pop3decode.h"
#include "pop3decode/session.hpp"
#include "session_fuzz.hpp"
#include "vector_runner.hpp"

namespace {

using namespace pop3decode;

using pop3fuzz::chunk_sizes;
using pop3fuzz::line_event;
using pop3fuzz::max_lines;
using pop3fuzz::max_pendings;
using pop3fuzz::separator;

enum class Kind { data, gap, password, clone };

struct Record {
  Kind kind = Kind::data;
  Direction direction = Direction::client_to_server;
  size_t chunk = 0;
  uint64_t gap = 0;
  std::string_view payload;
};

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "invariant violated: %s\n", what);
  std::abort();
}
#define CHECK(cond)           \
  do {                        \
    if (!(cond)) fail(#cond); \
  } while (0)

std::vector<Record> parse_records(std::string_view input) {
  std::vector<Record> records;
  while (!input.empty()) {
    const size_t end = input.find(separator);
    std::string_view body = input.substr(0, end);
    input = end == std::string_view::npos ? std::string_view{} : input.substr(end + 2);
    if (body.empty()) continue;
    const auto control = static_cast<uint8_t>(body[0]);
    Record r;
    r.direction = (control & 1) ? Direction::server_to_client : Direction::client_to_server;
    const unsigned kind = (control >> 1) & 7;
    r.kind = kind == 5   ? Kind::gap
             : kind == 6 ? Kind::password
             : kind == 7 ? Kind::clone
                         : Kind::data;
    r.chunk = chunk_sizes[control >> 4];
    if (r.kind == Kind::gap) {
      r.gap = (control >> 4) + 1u;
      r.chunk = 0;
    }
    r.payload = body.substr(1);
    records.push_back(r);
  }
  return records;
}

// The bytes of one direction as the decoder has been given them (gaps as zero bytes).
struct Stream {
  std::string bytes;
  std::vector<std::pair<uint64_t, uint64_t>> gaps;  // [start, end)
  bool readable(uint64_t offset, uint64_t length) const {
    if (offset > bytes.size() || length > bytes.size() - offset) return false;
    for (const auto& [start, end] : gaps)
      if (offset < end && start < offset + length) return false;
    return true;
  }
};

bool inside(std::string_view part, std::string_view whole) {
  return part.empty() ||
         (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

volatile uint8_t sink;
const bool verbose = std::getenv("POP3FUZZ_VERBOSE") != nullptr;

void touch(std::string_view text) {
  uint8_t x = 0;
  for (char c : text) x = uint8_t(x ^ static_cast<uint8_t>(c));
  sink = x;
}

// Checks each event against the streams, then records its dump.
class Checker final : public EventHandler {
 public:
  Checker(const std::array<Stream, 2>& streams, size_t max_line)
      : streams_(streams), max_line_(max_line) {}
  void also(pop3test::Recorder* extra) { extra_ = extra; }
  std::string str() { return recorder_.str(); }

  void on_event(const Event& e) override {
    if (verbose) {  // POP3FUZZ_VERBOSE=1: each event before it is checked
      std::ostringstream out;
      pop3test::dump_event(out, e);
      std::fputs(out.str().c_str(), stderr);
    }
    check(e);
    recorder_.on_event(e);
    if (extra_) extra_->on_event(e);
  }

 private:
  void check(const Event& e) {
    CHECK(static_cast<uint32_t>(e.kind) < POP3D_EVENT_KIND_COUNT);
    CHECK((e.kind == EventKind::transaction) == (e.transaction != nullptr));
    if (const Transaction* t = e.transaction) {
      // The command and its answer lie in what was fed of each direction.
      CHECK(t->request_id == e.request_id && t->command == e.command);
      CHECK(t->command_offset < streams_[0].bytes.size());
      CHECK(t->response_offset <= streams_[1].bytes.size());
      touch(t->argument);
      touch(t->code);
      touch(t->description);
      touch(t->mechanism);
      touch(t->authcid);
      touch(t->authzid);
    }
    CHECK(e.direction == Direction::client_to_server || e.direction == Direction::server_to_client);
    const Stream& s = streams_[static_cast<size_t>(e.direction)];
    const uint64_t fed = s.bytes.size();
    CHECK(!event_kind_name(e.kind).empty());
    CHECK(e.offset <= fed && e.length <= fed - e.offset);

    if (line_event(e.kind)) {
      CHECK(e.length > 0);
      CHECK(e.line.size() <= e.length && e.length - e.line.size() <= 2);
      CHECK(e.line.size() <= max_line_);
      CHECK(s.readable(e.offset, e.length));
      CHECK(e.line == std::string_view(s.bytes).substr(e.offset, e.line.size()));
      if (e.kind == EventKind::data_line) {
        // The unstuffed line and its line end: the wire bytes less at most a leading dot.
        CHECK(e.data.size() == e.length || e.data.size() + 1 == e.length);
        const uint64_t skip = e.length - e.data.size();
        CHECK(e.data == std::string_view(s.bytes).substr(e.offset + skip, e.data.size()));
      } else {
        CHECK(e.data.empty());
      }
    } else if (e.kind == EventKind::skipped || e.kind == EventKind::tls) {
      if (e.has_anomaly(Anomaly::GAP)) {
        CHECK(e.line.empty());
      } else {
        CHECK(e.line.size() == e.length && e.length > 0);
        CHECK(e.line == std::string_view(s.bytes).substr(e.offset, e.length));
      }
    } else {
      CHECK(e.length == 0 && e.line.empty() && e.data.empty());
    }

    for (const Buffer& b : e.buffers) {
      touch(b.data);
      CHECK(b.origin_offset <= fed && b.origin_length <= fed - b.origin_offset);
    }
    for (size_t i = 0; i < e.items.size(); ++i) {
      const Item& item = e.items[i];
      CHECK(item.parent >= -1 && item.parent < static_cast<int64_t>(i));
      CHECK(!field_name(item.field).empty());
      CHECK(item.type == field_type(item.field));
      touch(item.text);
      if (item.flags & item_generated) continue;
      const FieldType type = field_type(item.field);
      const bool textual = type == FieldType::string || type == FieldType::bytes;
      // A value may differ from the bytes at its position (a quoted or escaped value is
      // unquoted, a number is converted), but when it is a view of the line or of a buffer,
      // it lies within its item's position in that same source.
      if (item.source == 0) {
        CHECK(item.offset <= fed && item.length <= fed - item.offset);
        CHECK(s.readable(item.offset, item.length));
        if (line_event(e.kind))
          CHECK(item.offset >= e.offset && item.offset + item.length <= e.offset + e.length);
        if (textual && !item.text.empty() && inside(item.text, e.line)) {
          const uint64_t at = e.offset + uint64_t(item.text.data() - e.line.data());
          CHECK(at >= item.offset && at + item.text.size() <= item.offset + item.length);
        }
      } else {
        CHECK(item.source <= e.buffers.size());
        const std::string_view buffer = e.buffers[item.source - 1].data;
        CHECK(item.offset <= buffer.size() && item.length <= buffer.size() - item.offset);
        if (textual && !item.text.empty() && inside(item.text, buffer)) {
          const uint64_t at = uint64_t(item.text.data() - buffer.data());
          CHECK(at >= item.offset && at + item.text.size() <= item.offset + item.length);
        }
      }
      for (size_t b = 0; textual && b < e.buffers.size(); ++b)
        if (b + 1 != item.source && !item.text.empty() && inside(item.text, e.buffers[b].data))
          fail("an item's value points into another buffer than its source");
    }
    for (const AnomalyHit& hit : e.anomalies) {
      CHECK(!anomaly_name(hit.anomaly).empty());
      CHECK(hit.offset <= fed && hit.length <= fed - hit.offset);
    }
  }

  const std::array<Stream, 2>& streams_;
  size_t max_line_;
  pop3test::Recorder recorder_;
  pop3test::Recorder* extra_ = nullptr;
};

// The C ABI's events as C++ events, so that the same checks and dumps apply.
int c_callback(void* user, const pop3d_event* ev) {
  // Every id the C ABI hands out names a row of its tables.
  CHECK(pop3d_event_kind_name(ev->kind) != nullptr);
  CHECK(ev->command == 0 || pop3d_command_name(ev->command) != nullptr);
  for (size_t i = 0; i < ev->item_count; ++i) {
    const uint32_t field = ev->items[i].field;
    CHECK(pop3d_field_name(field) != nullptr && pop3d_field_description(field) != nullptr);
    CHECK(pop3d_field_type_of(field) >= 0);
  }
  for (size_t i = 0; i < ev->anomaly_count; ++i) {
    const uint32_t anomaly = ev->anomalies[i].anomaly;
    CHECK(pop3d_anomaly_name(anomaly) != nullptr && pop3d_anomaly_description(anomaly) != nullptr);
    CHECK(pop3d_anomaly_severity(anomaly) >= 0 && pop3d_anomaly_group_of(anomaly) >= 0);
  }
  if (const pop3d_transaction* t = ev->transaction) {
    CHECK(pop3d_indicator_name(t->indicator) != nullptr);
    CHECK(pop3d_response_code_name(t->response_code) != nullptr);
    CHECK(pop3d_auth_result_name(t->auth_result) != nullptr);
  }
  static thread_local pop3fuzz::CEventView view;
  static_cast<EventHandler*>(user)->on_event(view.convert(*ev));
  return 0;
}

// One decoder behind either API.
class Decoder {
 public:
  Decoder(const Options& options, bool c_api) {
    if (!c_api) {
      cpp_.emplace(options);
      return;
    }
    pop3d_options o;
    pop3d_options_init(&o);
    o.max_line = options.max_line;
    o.max_pending = options.max_pending;
    o.mid_stream = options.mid_stream;
    o.implicit_tls = options.implicit_tls;
    c_.reset(pop3d_session_new(&o));
    CHECK(c_ != nullptr);
  }
  Decoder clone() const {
    Decoder copy;
    if (cpp_) copy.cpp_.emplace(*cpp_);
    if (c_) copy.c_.reset(pop3d_session_clone(c_.get()));
    CHECK(copy.cpp_ || copy.c_);
    return copy;
  }
  void feed(Direction d, std::string_view bytes, EventHandler& h) {
    if (cpp_) {
      CHECK(cpp_->feed(d, bytes, h) == bytes.size());  // nothing asks to stop
      return;
    }
    CHECK(pop3d_session_feed(c_.get(), static_cast<uint32_t>(d),
                             reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(),
                             c_callback, &h) == POP3D_OK);
  }
  void gap(Direction d, uint64_t length, EventHandler& h) {
    if (cpp_) return cpp_->gap(d, length, h);
    CHECK(pop3d_session_gap(c_.get(), static_cast<uint32_t>(d), length, c_callback, &h) ==
          POP3D_OK);
  }
  void finish(EventHandler& h) {
    if (cpp_) return cpp_->finish(h);
    CHECK(pop3d_session_finish(c_.get(), c_callback, &h) == POP3D_OK);
  }
  void add_password(std::string_view user, std::string_view password) {
    if (cpp_) return cpp_->add_password(std::string(user), std::string(password));
    // The C ABI takes no NULL pointer here, even with length 0.
    CHECK(pop3d_session_add_password(c_.get(), user.empty() ? "" : user.data(), user.size(),
                                     password.empty() ? "" : password.data(),
                                     password.size()) == POP3D_OK);
  }
  uint64_t offset(Direction d) const {
    return cpp_ ? cpp_->offset(d) : pop3d_session_offset(c_.get(), static_cast<uint32_t>(d));
  }
  void check_state(const Options& options) const {
    if (cpp_) {
      CHECK(cpp_->pending_commands() <= std::max<size_t>(options.max_pending, 1));
      touch(cpp_->user());
      touch(cpp_->greeting_timestamp());
    } else {
      size_t length = 0;
      const char* user = pop3d_session_user(c_.get(), &length);
      CHECK(user != nullptr || length == 0);
      if (user) touch(std::string_view(user, length));
      CHECK(pop3d_session_state(c_.get()) <= POP3D_STATE_UPDATE);
      CHECK(pop3d_state_name(pop3d_session_state(c_.get())) != nullptr);
      const int tls = pop3d_session_tls(c_.get()), gave_up = pop3d_session_gave_up(c_.get());
      CHECK((tls == 0 || tls == 1) && (gave_up == 0 || gave_up == 1));
      // What CAPA advertised, per phase: names, then NULL past the end.
      for (int phase = -1; phase < 4; ++phase) {
        for (auto* lookup : {pop3d_session_capability, pop3d_session_sasl_mechanism}) {
          size_t index = 0;
          while (const char* name = lookup(c_.get(), phase, index, &length)) {
            touch(std::string_view(name, length));
            CHECK(++index <= 1024);
          }
        }
      }
    }
  }

 private:
  Decoder() = default;
  struct CFree {
    void operator()(pop3d_session* s) const { pop3d_session_free(s); }
  };
  std::optional<Session> cpp_;
  std::unique_ptr<pop3d_session, CFree> c_;
};

std::pair<std::string_view, std::string_view> split_password(std::string_view payload) {
  const size_t nul = payload.find('\0');
  if (nul == std::string_view::npos) return {payload, {}};
  return {payload.substr(0, nul), payload.substr(nul + 1)};
}

// Decodes the records; `whole` feeds every run of same-direction data at once.
std::string run(const Options& options, const std::vector<Record>& records, bool whole,
                bool c_api) {
  const size_t max_line = std::max<size_t>(options.max_line, 64);
  std::array<Stream, 2> streams;
  Checker checker(streams, max_line);
  Decoder decoder(options, c_api && !whole);

  std::optional<Decoder> clone;
  std::array<Stream, 2> clone_streams;
  std::optional<Checker> clone_checker;
  pop3test::Recorder original_tail;

  auto feed = [&](Direction d, std::string_view bytes) {
    Stream& s = streams[static_cast<size_t>(d)];
    s.bytes.append(bytes);
    decoder.feed(d, bytes, checker);
    CHECK(decoder.offset(d) == s.bytes.size());
    if (clone) {
      clone_streams[static_cast<size_t>(d)].bytes.append(bytes);
      clone->feed(d, bytes, *clone_checker);
    }
  };
  auto gap = [&](Direction d, uint64_t length) {
    for (auto* all : {&streams, &clone_streams}) {
      Stream& s = (*all)[static_cast<size_t>(d)];
      s.gaps.emplace_back(s.bytes.size(), s.bytes.size() + length);
      s.bytes.append(length, '\0');
    }
    decoder.gap(d, length, checker);
    if (clone) clone->gap(d, length, *clone_checker);
  };

  std::string pending;  // whole mode: the run of same-direction data not fed yet
  Direction pending_direction = Direction::client_to_server;
  auto flush = [&] {
    if (!pending.empty()) feed(pending_direction, pending);
    pending.clear();
  };

  for (const Record& r : records) {
    if (r.kind == Kind::password) {
      flush();
      const auto [user, password] = split_password(r.payload);
      decoder.add_password(user, password);
      if (clone) clone->add_password(user, password);
      continue;
    }
    if (r.kind == Kind::gap) {
      flush();
      gap(r.direction, r.gap);
    }
    if (r.kind == Kind::clone && !whole && !clone) {
      clone.emplace(decoder.clone());
      clone_streams = streams;
      clone_checker.emplace(clone_streams, max_line);
      checker.also(&original_tail);
    }
    if (whole) {
      if (r.direction != pending_direction) flush();
      pending_direction = r.direction;
      pending.append(r.payload);
      continue;
    }
    std::string_view bytes = r.payload;
    const size_t step = r.chunk ? r.chunk : bytes.size();
    while (!bytes.empty()) {
      feed(r.direction, bytes.substr(0, step));
      bytes.remove_prefix(std::min(step, bytes.size()));
    }
    decoder.check_state(options);
  }
  flush();
  decoder.finish(checker);
  decoder.check_state(options);
  if (clone) {
    clone->finish(*clone_checker);
    if (clone_checker->str() != original_tail.str()) fail("the clone decodes differently");
  }
  return checker.str();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto flags = static_cast<uint8_t>(input[0]);
  Options options;
  options.mid_stream = (flags & 1) != 0;
  options.implicit_tls = (flags & 2) != 0;
  options.max_line = max_lines[(flags >> 2) & 3];
  options.max_pending = max_pendings[(flags >> 4) & 3];
  const bool c_api = (flags & 0x40) != 0;

  const std::vector<Record> records = parse_records(input.substr(1));
  const std::string chunked = run(options, records, false, c_api);
  const std::string whole = run(options, records, true, false);
  if (chunked != whole) {
    std::fprintf(stderr, "--- whole\n%s\n--- chunked\n%s\n", whole.c_str(), chunked.c_str());
    fail("the events depend on how the input was cut");
  }
  return 0;
}
