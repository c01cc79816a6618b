// What the two session fuzz targets (fuzz_session, fuzz_session_fast) share: the input
// layout's tables, which events are lines, and the C ABI's events as C++ events.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "pop3decode/pop3decode.h"
#include "pop3decode/session.hpp"

namespace pop3fuzz {

// The input layout (fuzz/README.md): records separated by FF FE; the first byte of the input
// chooses max_line and max_pending, a record's control byte the feed size.
constexpr std::string_view separator = "\xff\xfe";
constexpr std::array<size_t, 4> max_lines{65536, 64, 200, 1024};
constexpr std::array<size_t, 4> max_pendings{4096, 1, 3, 32};
constexpr std::array<size_t, 16> chunk_sizes{
    0, 1, 2, 3, 4, 5, 7, 8, 13, 16, 31, 64, 100, 255, 256, 1460};  // 0: the whole payload at once

// Events that stand for one line of the stream.
inline bool line_event(pop3decode::EventKind k) {
  using pop3decode::EventKind;
  switch (k) {
    case EventKind::greeting:
    case EventKind::command:
    case EventKind::status:
    case EventKind::data_line:
    case EventKind::data_end:
    case EventKind::sasl_server:
    case EventKind::sasl_client:
    case EventKind::unparsed: return true;
    default: return false;
  }
}

// The C ABI's event as the C++ Event it stands for, so that one set of checks applies to both
// APIs. The Event's items, buffers, anomalies and transaction are views into the CEventView and
// into the C event: valid until the view's next convert() or the end of the callback.
class CEventView {
 public:
  const pop3decode::Event& convert(const pop3d_event& ev) {
    using namespace pop3decode;
    items_.resize(ev.item_count);
    for (size_t i = 0; i < ev.item_count; ++i) {
      const pop3d_item& it = ev.items[i];
      items_[i] = Item{static_cast<Field>(it.field),
                       it.parent,
                       it.source,
                       it.flags,
                       it.offset,
                       it.length,
                       it.number,
                       text(it.text, it.text_length),
                       static_cast<FieldType>(it.type)};
    }
    buffers_.resize(ev.buffer_count);
    for (size_t i = 0; i < ev.buffer_count; ++i) {
      const pop3d_buffer& b = ev.buffers[i];
      buffers_[i] = Buffer{text(b.data, b.length), b.origin_offset, b.origin_length};
    }
    hits_.resize(ev.anomaly_count);
    for (size_t i = 0; i < ev.anomaly_count; ++i)
      hits_[i] = AnomalyHit{static_cast<Anomaly>(ev.anomalies[i].anomaly), ev.anomalies[i].offset,
                            ev.anomalies[i].length};
    event_ = Event{};
    event_.kind = static_cast<EventKind>(ev.kind);
    event_.direction = static_cast<Direction>(ev.direction);
    event_.offset = ev.offset;
    event_.length = ev.length;
    event_.line = text(ev.line, ev.line_length);
    event_.data = text(ev.data, ev.data_length);
    event_.request_id = ev.request_id;
    event_.command = static_cast<Command>(ev.command);
    event_.piece = ev.piece;
    event_.items = items_;
    event_.buffers = buffers_;
    event_.anomalies = hits_;
    event_.flags = ev.flags;
    if (const pop3d_transaction* c = ev.transaction) {
      Transaction& t = transaction_;
      t.request_id = c->request_id;
      t.command = static_cast<Command>(c->command);
      t.flags = c->flags;
      t.command_offset = c->command_offset;
      t.response_offset = c->response_offset;
      t.message = c->message;
      t.lines = c->lines;
      t.argument = text(c->argument, c->argument_length);
      t.indicator = static_cast<Indicator>(c->indicator);
      t.response_code = static_cast<ResponseCode>(c->response_code);
      t.code = text(c->code, c->code_length);
      t.description = text(c->description, c->description_length);
      t.announced_octets = c->announced_octets;
      t.data_octets = c->data_octets;
      t.data_lines = c->data_lines;
      t.auth_result = static_cast<AuthResult>(c->auth_result);
      t.sasl_steps = c->sasl_steps;
      t.mechanism = text(c->mechanism, c->mechanism_length);
      t.authcid = text(c->authcid, c->authcid_length);
      t.authzid = text(c->authzid, c->authzid_length);
      event_.transaction = &t;
    }
    return event_;
  }

 private:
  static std::string_view text(const uint8_t* p, size_t n) {
    return {reinterpret_cast<const char*>(p), n};
  }

  std::vector<pop3decode::Item> items_;
  std::vector<pop3decode::Buffer> buffers_;
  std::vector<pop3decode::AnomalyHit> hits_;
  pop3decode::Transaction transaction_;
  pop3decode::Event event_;
};

}  // namespace pop3fuzz
