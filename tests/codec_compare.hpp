// Field-by-field comparison of events before and after the plugin's event codec
// (plugin/event-codec.h), shared by tests/plugin_codec_test.cpp and fuzz/fuzz_event_codec.cpp.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "event-codec.h"
#include "pop3decode/pop3decode.h"
#include "vector_runner.hpp"

namespace codectest {

inline int failures = 0;

inline void fail(const std::string& where, const std::string& what) {
  if (++failures <= 20) std::fprintf(stderr, "FAIL %s: %s\n", where.c_str(), what.c_str());
}

// Zeroed memory that lives as long as the arena.
struct Arena {
  std::vector<std::unique_ptr<uint8_t[]>> blocks;
  static void* alloc(void* ctx, size_t size) {
    auto* self = static_cast<Arena*>(ctx);
    self->blocks.emplace_back(new uint8_t[size]());
    return self->blocks.back().get();
  }
};

// An event with copies of everything it points to.
struct OwnedEvent {
  pop3d_event ev{};
  int has_message = 0;
  std::string line;
  std::vector<pop3d_item> items;
  std::vector<std::string> texts;
  std::vector<int> text_null;
  std::vector<pop3d_buffer> buffers;
  std::vector<std::string> buffer_data;
  std::vector<pop3d_anomaly_hit> anomalies;
  std::string data;

  OwnedEvent(const pop3d_event& e, int message) : ev(e), has_message(message) {
    if (e.line) line.assign(reinterpret_cast<const char*>(e.line), e.line_length);
    items.assign(e.items, e.items + e.item_count);
    for (const pop3d_item& it : items) {
      texts.emplace_back(it.text
                             ? std::string(reinterpret_cast<const char*>(it.text), it.text_length)
                             : std::string());
      text_null.push_back(it.text == nullptr);
    }
    buffers.assign(e.buffers, e.buffers + e.buffer_count);
    for (const pop3d_buffer& b : buffers)
      buffer_data.emplace_back(reinterpret_cast<const char*>(b.data), b.length);
    anomalies.assign(e.anomalies, e.anomalies + e.anomaly_count);
    if (e.data) data.assign(reinterpret_cast<const char*>(e.data), e.data_length);
  }
};

inline std::string bytes(const uint8_t* p, size_t n) {
  return p ? std::string(reinterpret_cast<const char*>(p), n) : std::string();
}

#define CHECK_EQ(a, b)                                                                    \
  do {                                                                                    \
    if (!((a) == (b))) {                                                                  \
      fail(where, std::string(#a " != " #b " (") + std::to_string(uint64_t(a)) + " vs " + \
                      std::to_string(uint64_t(b)) + ")");                                 \
      return false;                                                                       \
    }                                                                                     \
  } while (0)

#define CHECK_BYTES(a, b)                                                             \
  do {                                                                                \
    if ((a) != (b)) {                                                                 \
      fail(where, std::string(#a " differs: \"") + pop3test::escape(a) + "\" vs \"" + \
                      pop3test::escape(b) + "\"");                                    \
      return false;                                                                   \
    }                                                                                 \
  } while (0)

inline bool same_event(const std::string& where, const OwnedEvent& want,
                       const pop3_codec_event& got) {
  const pop3d_event& a = want.ev;
  const pop3d_event& b = got.ev;
  CHECK_EQ(a.kind, b.kind);
  CHECK_EQ(a.direction, b.direction);
  CHECK_EQ(a.offset, b.offset);
  CHECK_EQ(a.length, b.length);
  CHECK_EQ(a.line_length, b.line_length);
  CHECK_BYTES(want.line, bytes(b.line, b.line_length));
  CHECK_EQ(a.request_id, b.request_id);
  CHECK_EQ(a.command, b.command);
  CHECK_EQ(a.piece, b.piece);
  CHECK_EQ(want.has_message, got.has_message);
  CHECK_EQ(a.item_count, b.item_count);
  for (size_t i = 0; i < a.item_count; i++) {
    const pop3d_item& x = want.items[i];
    const pop3d_item& y = b.items[i];
    CHECK_EQ(x.field, y.field);
    CHECK_EQ(int64_t(x.parent), int64_t(y.parent));
    CHECK_EQ(x.source, y.source);
    CHECK_EQ(x.flags, y.flags);
    CHECK_EQ(x.offset, y.offset);
    CHECK_EQ(x.length, y.length);
    CHECK_EQ(x.number, y.number);
    // A text of no bytes is the same as no text.
    CHECK_EQ(want.text_null[i] ? 0 : x.text_length, y.text ? y.text_length : 0);
    CHECK_BYTES(want.texts[i], bytes(y.text, y.text_length));
  }
  CHECK_EQ(a.anomaly_count, b.anomaly_count);
  for (size_t i = 0; i < a.anomaly_count; i++) {
    CHECK_EQ(want.anomalies[i].anomaly, b.anomalies[i].anomaly);
    CHECK_EQ(want.anomalies[i].offset, b.anomalies[i].offset);
    CHECK_EQ(want.anomalies[i].length, b.anomalies[i].length);
  }
  CHECK_EQ(a.buffer_count, b.buffer_count);
  for (size_t i = 0; i < a.buffer_count; i++) {
    CHECK_BYTES(want.buffer_data[i], bytes(b.buffers[i].data, b.buffers[i].length));
    CHECK_EQ(want.buffers[i].origin_offset, b.buffers[i].origin_offset);
    CHECK_EQ(want.buffers[i].origin_length, b.buffers[i].origin_length);
  }
  // The data comes back whole, or without the line end that follows the line in it.
  {
    std::string got_data = bytes(b.data, b.data_length);
    CHECK_EQ(got_data.size() <= want.data.size(), true);
    CHECK_BYTES(want.data.substr(0, got_data.size()), got_data);
    CHECK_EQ(want.data.find_first_not_of("\r\n", got_data.size()) == std::string::npos, true);
  }
  return true;
}

}  // namespace codectest
