// Generated POP3 conversations for the benchmarks: deterministic (fixed seeds), realistic
// enough to exercise the decoder's real paths (MIME bodies with 76-character base64 lines and
// dot-stuffed text, LIST/UIDL listings, pipelined commands, SASL exchanges).
#pragma once

#include <cstddef>
#include <cstdint>
#include <pop3decode/event.hpp>
#include <string>
#include <vector>

namespace pop3bench {

// One direction's turn: bytes [begin, end) of that direction's buffer, sent before the next
// turn. A new_session turn starts a new TCP connection (a fresh Session).
struct Turn {
  pop3decode::Direction direction;
  size_t begin = 0;
  size_t end = 0;
  bool new_session = false;
};

struct Conversation {
  std::string client;  // every client byte, all sessions back to back
  std::string server;
  std::vector<Turn> turns;
  size_t sessions = 0;
  uint64_t bytes() const noexcept { return client.size() + server.size(); }
  uint64_t lines() const noexcept;  // LF count over both directions
};

// A small deterministic generator (xorshift64*).
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed ? seed : 1) {}
  uint64_t next() noexcept {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return state_ * 0x2545F4914F6CDD1DULL;
  }
  uint32_t below(uint32_t n) noexcept { return static_cast<uint32_t>(next() % n); }

 private:
  uint64_t state_;
};

// Appends an RFC 5322 / MIME message of about `size` bytes (CRLF lines, not yet
// dot-stuffed): headers, then repeated parts of text/plain prose (some lines start with ".")
// and base64 attachments in 76-character lines, about 15% text and 85% base64.
void append_message(std::string& out, size_t size, Rng& rng);
// Dot-stuffs `message` (RFC 1939 section 3) onto `out`; returns the number of lines.
size_t append_dot_stuffed(std::string& out, const std::string& message);

// Body-heavy: one session that logs in and RETRs `messages` messages of `message_size` bytes.
Conversation body_heavy(size_t messages, size_t message_size, uint64_t seed = 1);
// Line-heavy: one session: LIST and UIDL of `mailbox` messages (unless !listings), then
// `commands` short commands (DELE, LIST n, UIDL n, NOOP, STAT) pipelined in batches of `batch`.
Conversation line_heavy(size_t mailbox, size_t commands, size_t batch, bool listings = true,
                        uint64_t seed = 2);
// SASL-heavy: `sessions` sessions, each: greeting, CAPA, one AUTH (alternately PLAIN with an
// initial response and SCRAM-SHA-256 with RFC 7677-shaped messages), STAT, QUIT.
Conversation sasl_heavy(size_t sessions, uint64_t seed = 3);

}  // namespace pop3bench
