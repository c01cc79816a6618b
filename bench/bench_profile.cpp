// Replays one generated conversation a fixed number of times, for instruction counts that a
// shared machine cannot disturb:
//   valgrind --tool=callgrind --toggle-collect='*decode*' ./pop3decode_bench_profile lines 1
// Prints the bytes and lines processed so that instructions per byte / per line follow.
#include <pop3decode/pop3decode.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <pop3decode/session.hpp>
#include <string>

#include "streams.hpp"

namespace {

using pop3decode::Direction;

struct CountingHandler final : pop3decode::EventHandler {
  uint64_t events = 0, data = 0, items = 0;
  void on_event(const pop3decode::Event& e) override {
    ++events;
    data += e.data.size();
    items += e.items.size() + e.anomalies.size();
  }
};

// Kept out of line so callgrind shows the decoder and the ceiling as separate functions.
__attribute__((noinline)) uint64_t decode(const pop3bench::Conversation& c, size_t chunk) {
  CountingHandler h;
  std::optional<pop3decode::Session> s;
  for (const pop3bench::Turn& t : c.turns) {
    if (!s || t.new_session) {
      if (s) s->finish(h);
      s.emplace();
    }
    const std::string& buf = t.direction == Direction::client_to_server ? c.client : c.server;
    for (size_t pos = t.begin; pos < t.end;) {
      const size_t n = chunk ? std::min(chunk, t.end - pos) : t.end - pos;
      s->feed(t.direction, std::string_view(buf.data() + pos, n), h);
      pos += n;
    }
  }
  if (s) s->finish(h);
  return h.events + h.data + h.items;
}

int c_callback(void* user, const pop3d_event* e) {
  auto* h = static_cast<CountingHandler*>(user);
  ++h->events;
  h->data += e->data_length;
  h->items += e->item_count + e->anomaly_count;
  return 0;
}

// The same through the C ABI (what the Wireshark plugin uses).
__attribute__((noinline)) uint64_t decode_c(const pop3bench::Conversation& c, size_t chunk) {
  CountingHandler h;
  pop3d_session* s = nullptr;
  for (const pop3bench::Turn& t : c.turns) {
    if (!s || t.new_session) {
      if (s) {
        pop3d_session_finish(s, c_callback, &h);
        pop3d_session_free(s);
      }
      s = pop3d_session_new(nullptr);
    }
    const std::string& buf = t.direction == Direction::client_to_server ? c.client : c.server;
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

__attribute__((noinline)) uint64_t memchr_pass(const pop3bench::Conversation& c, size_t chunk) {
  uint64_t lines = 0;
  for (const pop3bench::Turn& t : c.turns) {
    const std::string& buf = t.direction == Direction::client_to_server ? c.client : c.server;
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

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: %s body|lines|listings|commands|sasl [reps] [chunk (0: whole turns)] "
                 "[decoder|capi|memchr]\n",
                 argv[0]);
    return 2;
  }
  const std::string which = argv[1];
  const int reps = argc > 2 ? std::atoi(argv[2]) : 1;
  const size_t chunk = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 1460;
  const std::string mode = argc > 4 ? argv[4] : "decoder";  // decoder, capi or memchr
  pop3bench::Conversation c = which == "body"       ? pop3bench::body_heavy(8, 8 << 20)
                              : which == "lines"    ? pop3bench::line_heavy(100000, 100000, 50)
                              : which == "listings" ? pop3bench::line_heavy(100000, 0, 50)
                              : which == "commands"
                                  ? pop3bench::line_heavy(100000, 100000, 50, false)
                                  : pop3bench::sasl_heavy(20000);
  uint64_t sink = 0;
  for (int i = 0; i < reps; ++i)
    sink += mode == "memchr" ? memchr_pass(c, chunk)
            : mode == "capi" ? decode_c(c, chunk)
                             : decode(c, chunk);
  std::printf("%s: %llu bytes, %llu lines, %d rep(s), chunk %zu, %s (%llu)\n", which.c_str(),
              static_cast<unsigned long long>(c.bytes()),
              static_cast<unsigned long long>(c.lines()), reps, chunk, mode.c_str(),
              static_cast<unsigned long long>(sink));
  return 0;
}
