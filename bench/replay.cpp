#include "replay.hpp"

#include <pop3decode/pop3decode.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <pop3decode/session.hpp>
#include <string>

namespace pop3bench {
namespace {

using pop3decode::Direction;

struct CountingHandler final : pop3decode::EventHandler {
  uint64_t events = 0, data = 0, items = 0;
  void on_event(const pop3decode::Event& e) override {
    ++events;
    data += e.data.size();
    items += e.items.size() + e.anomalies.size();
    if (e.transaction) data += e.transaction->data_octets;
  }
};

int c_callback(void* user, const pop3d_event* e) {
  auto* h = static_cast<CountingHandler*>(user);
  ++h->events;
  h->data += e->data_length;
  h->items += e->item_count + e->anomaly_count;
  if (e->transaction) h->data += e->transaction->data_octets;
  return 0;
}

const std::string& bytes_of(const Conversation& c, Direction d) {
  return d == Direction::client_to_server ? c.client : c.server;
}

}  // namespace

__attribute__((noinline)) uint64_t decode(const Conversation& c, size_t chunk, uint32_t wanted) {
  CountingHandler h;
  pop3decode::Options options;
  options.wanted_events = wanted;
  std::optional<pop3decode::Session> s;
  for (const Turn& t : c.turns) {
    if (!s || t.new_session) {
      if (s) s->finish(h);
      s.emplace(options);
    }
    const std::string& buf = bytes_of(c, t.direction);
    for (size_t pos = t.begin; pos < t.end;) {
      const size_t n = chunk ? std::min(chunk, t.end - pos) : t.end - pos;
      s->feed(t.direction, std::string_view(buf.data() + pos, n), h);
      pos += n;
    }
  }
  if (s) s->finish(h);
  return h.events + h.data + h.items;
}

// The same through the C ABI (what the Wireshark plugin uses).
__attribute__((noinline)) uint64_t decode_c(const Conversation& c, size_t chunk, uint32_t wanted) {
  CountingHandler h;
  pop3d_options options;
  pop3d_options_init(&options);
  options.wanted_events = wanted;
  pop3d_session* s = nullptr;
  for (const Turn& t : c.turns) {
    if (!s || t.new_session) {
      if (s) {
        pop3d_session_finish(s, c_callback, &h);
        pop3d_session_free(s);
      }
      s = pop3d_session_new(&options);
    }
    const std::string& buf = bytes_of(c, t.direction);
    for (size_t pos = t.begin; pos < t.end;) {
      const size_t n = chunk ? std::min(chunk, t.end - pos) : t.end - pos;
      pop3d_session_feed(s, static_cast<uint32_t>(t.direction),
                         reinterpret_cast<const uint8_t*>(buf.data() + pos), n, c_callback, &h);
      pos += n;
    }
  }
  if (s) {
    pop3d_session_finish(s, c_callback, &h);
    pop3d_session_free(s);
  }
  return h.events + h.data + h.items;
}

__attribute__((noinline)) uint64_t memchr_pass(const Conversation& c, size_t chunk) {
  uint64_t lines = 0;
  for (const Turn& t : c.turns) {
    const std::string& buf = bytes_of(c, t.direction);
    for (size_t pos = t.begin; pos < t.end;) {
      const size_t n = chunk ? std::min(chunk, t.end - pos) : t.end - pos;
      const char* p = buf.data() + pos;
      const char* end = p + n;
      while (const void* lf = std::memchr(p, '\n', size_t(end - p))) {
        ++lines;
        p = static_cast<const char*>(lf) + 1;
      }
      pos += n;
    }
  }
  return lines;
}

}  // namespace pop3bench
