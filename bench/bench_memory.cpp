// Memory use of a session: sizeof(Session), and the heap it holds while decoding a 200 MB
// RETR body (fed in 1460-byte segments and in 1 MB pieces), an over-long line with no line
// end, and the generated body/line/SASL conversations. Counts every operator new/delete in
// the process (a replacement global allocator), so the figures include the library's
// std::string/vector/deque growth and nothing is missed.
#include <malloc.h>

#include <cstdio>
#include <cstdlib>
#include <new>
#include <optional>
#include <pop3decode/session.hpp>
#include <string>

#include "streams.hpp"

namespace {

size_t live = 0, peak = 0, allocations = 0;

void* counted(size_t n) {
  void* p = std::malloc(n ? n : 1);
  if (!p) throw std::bad_alloc();
  live += malloc_usable_size(p);
  peak = std::max(peak, live);
  ++allocations;
  return p;
}
void uncounted(void* p) noexcept {
  if (!p) return;
  live -= malloc_usable_size(p);
  std::free(p);
}

}  // namespace

void* operator new(size_t n) {
  return counted(n);
}
void* operator new[](size_t n) {
  return counted(n);
}
void* operator new(size_t n, const std::nothrow_t&) noexcept {
  try {
    return counted(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](size_t n, const std::nothrow_t& t) noexcept {
  return operator new(n, t);
}
void operator delete(void* p) noexcept {
  uncounted(p);
}
void operator delete[](void* p) noexcept {
  uncounted(p);
}
void operator delete(void* p, size_t) noexcept {
  uncounted(p);
}
void operator delete[](void* p, size_t) noexcept {
  uncounted(p);
}

namespace {

using pop3decode::Direction;

struct Nothing final : pop3decode::EventHandler {
  uint64_t events = 0, data = 0;
  void on_event(const pop3decode::Event& e) override {
    ++events;
    data += e.data.size();
  }
};

struct Measure {
  size_t base_live, base_allocations;
  Measure() : base_live(live), base_allocations(allocations) { peak = live; }
  size_t peak_bytes() const { return peak - base_live; }
  size_t count() const { return allocations - base_allocations; }
};

void feed_chunks(pop3decode::Session& s, Direction d, std::string_view bytes, size_t chunk,
                 Nothing& h) {
  for (size_t pos = 0; pos < bytes.size(); pos += chunk)
    s.feed(d, bytes.substr(pos, std::min(chunk, bytes.size() - pos)), h);
}

// One RETR of `total` bytes built from a 1 MB block of dot-stuffed message lines.
void big_body(size_t total, size_t chunk) {
  pop3bench::Rng rng(7);
  std::string message;
  pop3bench::append_message(message, 1 << 20, rng);
  std::string block;
  pop3bench::append_dot_stuffed(block, message);
  const size_t blocks = total / block.size();

  Nothing h;
  Measure m;
  pop3decode::Session s;
  const Direction C = Direction::client_to_server, S = Direction::server_to_client;
  s.feed(S, "+OK POP3 ready <1896.697170952@dbc>\r\n", h);
  s.feed(C, "USER bob\r\nPASS builder42\r\n", h);
  s.feed(S, "+OK\r\n+OK Logged in.\r\n", h);
  s.feed(C, "RETR 1\r\n", h);
  s.feed(S, "+OK " + std::to_string(blocks * block.size()) + " octets\r\n", h);
  const size_t after_start = m.peak_bytes();
  size_t count_before_body = m.count();
  for (size_t i = 0; i < blocks; ++i) feed_chunks(s, S, block, chunk, h);
  const size_t body_allocations = m.count() - count_before_body;
  s.feed(S, ".\r\n", h);
  s.feed(C, "QUIT\r\n", h);
  s.feed(S, "+OK bye\r\n", h);
  s.finish(h);
  std::printf(
      "RETR body of %6.1f MB in %7zu-byte feeds: peak heap %7zu bytes (%zu before the body), "
      "%zu allocations during the body, %llu events\n",
      double(blocks * block.size()) / 1e6, chunk, m.peak_bytes(), after_start, body_allocations,
      static_cast<unsigned long long>(h.events));
}

// A server that never ends its line: the partial line stays bounded by max_line.
void endless_line(size_t total) {
  std::string junk(1460, 'x');
  Nothing h;
  Measure m;
  pop3decode::Session s;
  s.feed(Direction::server_to_client, "+OK ready\r\n", h);
  s.feed(Direction::client_to_server, "RETR 1\r\n", h);  // answered: data mode
  s.feed(Direction::server_to_client, "+OK\r\n", h);
  for (size_t fed = 0; fed < total; fed += junk.size())
    s.feed(Direction::server_to_client, junk, h);
  std::printf("%6.1f MB line without LF in 1460-byte feeds: peak heap %zu bytes (max_line %zu)\n",
              double(total) / 1e6, m.peak_bytes(), s.options().max_line);
}

void conversation(const char* name, const pop3bench::Conversation& c) {
  Nothing h;
  Measure m;
  size_t worst_session = 0;
  std::optional<pop3decode::Session> s;
  size_t session_base = live;
  for (const pop3bench::Turn& t : c.turns) {
    if (!s || t.new_session) {
      if (s) s->finish(h);
      s.reset();
      session_base = live;
      peak = live;
      s.emplace();
    }
    const std::string& buf = t.direction == Direction::client_to_server ? c.client : c.server;
    feed_chunks(*s, t.direction, std::string_view(buf).substr(t.begin, t.end - t.begin), 1460, h);
    worst_session = std::max(worst_session, peak - session_base);
  }
  s->finish(h);
  std::printf("%-34s %8.1f MB, %6zu session(s): peak heap of one session %zu bytes\n", name,
              double(c.bytes()) / 1e6, c.sessions, worst_session);
}

}  // namespace

int main(int argc, char** argv) {
  const size_t mb = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 200;
  std::printf("sizeof(pop3decode::Session) = %zu bytes\n", sizeof(pop3decode::Session));
  big_body(mb << 20, 1460);
  big_body(mb << 20, 1 << 20);
  endless_line(64 << 20);
  conversation("line-heavy (LIST/UIDL 100k, 100k cmds)", pop3bench::line_heavy(100000, 100000, 50));
  conversation("SASL-heavy (PLAIN/SCRAM-SHA-256)", pop3bench::sasl_heavy(2000));
  return 0;
}
