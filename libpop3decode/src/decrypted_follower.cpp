// The follower of decrypted TLS payload (see tcp.hpp for what it guarantees).
#include <algorithm>
#include <utility>

#include "pop3decode/tcp.hpp"

namespace pop3decode {

namespace {
// Sequence numbers compared as the nearest ones (they wrap).
bool seq_before(uint32_t a, uint32_t b) noexcept {
  return static_cast<int32_t>(a - b) < 0;
}
bool seq_at_or_before(uint32_t a, uint32_t b) noexcept {
  return static_cast<int32_t>(a - b) <= 0;
}
// An acknowledgement this far beyond what the other direction sent is garbage, not a reason to
// wait.
constexpr uint32_t far_ahead = uint32_t{1} << 30;
constexpr Direction directions[2] = {Direction::client_to_server, Direction::server_to_client};
}  // namespace

DecryptedFollower::DecryptedFollower(TcpOptions options, uint64_t client_offset,
                                     uint64_t server_offset)
    : options_(options) {
  given_[index(Direction::client_to_server)] = client_offset;
  delivered_[index(Direction::client_to_server)] = client_offset;
  given_[index(Direction::server_to_client)] = server_offset;
  delivered_[index(Direction::server_to_client)] = server_offset;
}

void DecryptedFollower::start(Direction d, uint32_t next_seq) {
  Position& p = position_[index(d)];
  if (p.known) return;
  p.known = true;
  p.next = next_seq;
  mark(d, next_seq, given_[index(d)]);
}

// Every byte before `next` was seen; ranges beyond a hole wait in `ahead` until it fills.
void DecryptedFollower::advance(Direction d, uint32_t seq, uint32_t end) {
  Position& p = position_[index(d)];
  if (!p.known) {
    p.known = true;
    p.next = end;
    return;
  }
  if (!seq_before(seq, end)) return;  // no payload, no FIN
  if (seq_at_or_before(seq, p.next)) {
    if (seq_before(p.next, end)) p.next = end;
  } else if (seq - p.next < far_ahead) {
    if (p.ahead.size() >= max_holes) {
      // the oldest hole is taken as lost: the stream goes on from the nearest range beyond it
      auto nearest = std::min_element(
          p.ahead.begin(), p.ahead.end(),
          [&](const auto& a, const auto& b) { return a.first - p.next < b.first - p.next; });
      p.next = nearest->first;
    }
    p.ahead.emplace_back(seq, end);
  }
  for (bool merged = true; merged;) {
    merged = false;
    for (auto it = p.ahead.begin(); it != p.ahead.end(); ++it) {
      if (seq_at_or_before(it->first, p.next)) {
        if (seq_before(p.next, it->second)) p.next = it->second;
        p.ahead.erase(it);
        merged = true;
        break;
      }
    }
  }
}

// After the TCP bytes before `end`, the plaintext had reached `offset`.
void DecryptedFollower::mark(Direction d, uint32_t end, uint64_t offset) {
  auto& marks = marks_[index(d)];
  if (!marks.empty() && seq_at_or_before(end, marks.back().end)) {
    if (end == marks.back().end) marks.back().offset = std::max(marks.back().offset, offset);
    return;
  }
  marks.push_back(Mark{end, offset});
  if (marks.size() > max_marks) marks.pop_front();
}

DecryptedFollower::Wait DecryptedFollower::waits(Direction d, const Run& run) const noexcept {
  if (!run.has_ack) return Wait::none;
  const Direction peer = other(d);
  const Position& p = position_[index(peer)];
  if (!p.known) return Wait::none;
  if (seq_before(p.next, run.ack)) return run.ack - p.next < far_ahead ? Wait::tcp : Wait::none;
  const auto& peer_held = held_[index(peer)];
  if (!peer_held.empty() && seq_at_or_before(peer_held.front().end, run.ack)) return Wait::held;
  return Wait::none;
}

bool DecryptedFollower::reached(Direction d, uint32_t seq) const noexcept {
  const Position& p = position_[index(d)];
  if (!p.known) return true;
  if (seq_before(p.next, seq)) return false;
  const auto& held = held_[index(d)];
  return held.empty() || seq_before(seq, held.front().end);
}

// The other direction's plaintext offset that the run's acknowledgement covers.
uint64_t DecryptedFollower::hint(Direction d, const Run& run) {
  const size_t i = index(d);
  if (!run.has_ack) return last_hint_[i];
  const size_t peer = index(other(d));
  uint64_t found = tcp_ack_unknown;
  const auto& marks = marks_[peer];
  for (auto it = marks.rbegin(); it != marks.rend(); ++it) {
    if (seq_at_or_before(it->end, run.ack)) {
      found = it->offset;
      break;
    }
  }
  if (found == tcp_ack_unknown) return last_hint_[i];
  found = std::min(found, delivered_[peer]);
  if (last_hint_[i] != tcp_ack_unknown) found = std::max(found, last_hint_[i]);
  last_hint_[i] = found;
  return found;
}

void DecryptedFollower::feed(Direction d, const Run& run, std::string_view bytes, TcpSink& sink) {
  TcpChunk chunk;
  chunk.direction = d;
  chunk.offset = run.offset;
  chunk.bytes = bytes;
  chunk.peer_acked = hint(d, run);
  chunk.tag = run.tag;
  delivered_[index(d)] = run.offset + bytes.size();
  sink.feed(chunk);
}

void DecryptedFollower::deliver(Direction d, TcpSink& sink, bool forced) {
  auto& held = held_[index(d)];
  Run run = std::move(held.front());
  held.pop_front();
  buffered_bytes_ -= run.bytes.size();
  if (forced)
    sink.notice(TcpNotice{TcpNoticeKind::ack_unmet, d, run.offset, run.bytes.size(), run.tag});
  feed(d, run, run.bytes, sink);
}

// The direction whose first held run came first (one that holds runs).
Direction DecryptedFollower::oldest() const noexcept {
  const auto& c = held_[index(Direction::client_to_server)];
  const auto& s = held_[index(Direction::server_to_client)];
  if (c.empty()) return Direction::server_to_client;
  if (s.empty()) return Direction::client_to_server;
  return c.front().arrival < s.front().arrival ? Direction::client_to_server
                                               : Direction::server_to_client;
}

void DecryptedFollower::pump(TcpSink& sink) {
  for (;;) {
    bool progress = false;
    for (Direction d : directions) {
      auto& held = held_[index(d)];
      while (!held.empty() && waits(d, held.front()) == Wait::none) {
        deliver(d, sink, false);
        progress = true;
      }
    }
    if (progress) continue;
    // Each side's first run acknowledges the other's: no real exchange does that; the older
    // one goes first.
    const auto& c = held_[index(Direction::client_to_server)];
    const auto& s = held_[index(Direction::server_to_client)];
    if (!c.empty() && !s.empty() && waits(Direction::client_to_server, c.front()) == Wait::held &&
        waits(Direction::server_to_client, s.front()) == Wait::held) {
      deliver(oldest(), sink, true);
      continue;
    }
    return;
  }
}

void DecryptedFollower::enforce_bounds(TcpSink& sink) {
  while (buffered_runs() > 0 && (buffered_bytes_ > options_.max_buffered_bytes ||
                                 buffered_runs() > options_.max_buffered_segments)) {
    deliver(oldest(), sink, true);
    pump(sink);
  }
}

void DecryptedFollower::decrypted(const TcpPosition& segment, std::string_view bytes,
                                  TcpSink& sink) {
  const Direction d = segment.direction;
  const size_t i = index(d);
  const uint32_t end = segment.seq + segment.length + (segment.fin ? 1 : 0);
  // TLS hands plaintext over once its records are complete: the stream is whole up to here.
  advance(d, segment.seq, end);
  const uint32_t reached = position_[i].next;
  if (bytes.empty()) return;
  Run run;
  run.offset = given_[i];
  run.end = seq_before(reached, end) ? end : reached;
  run.ack = segment.ack;
  run.has_ack = segment.has_ack;
  run.tag = segment.tag;
  run.arrival = arrivals_++;
  given_[i] += bytes.size();
  mark(d, reached, given_[i]);
  if (held_[i].empty() && waits(d, run) == Wait::none) {
    feed(d, run, bytes, sink);
    return;
  }
  run.bytes.assign(bytes);
  buffered_bytes_ += bytes.size();
  held_[i].push_back(std::move(run));
  enforce_bounds(sink);
}

void DecryptedFollower::segment(const TcpPosition& segment, TcpSink& sink) {
  const Direction d = segment.direction;
  if (segment.syn) {
    start(d, segment.seq + 1);
  } else {
    advance(d, segment.seq, segment.seq + segment.length + (segment.fin ? 1 : 0));
    mark(d, position_[index(d)].next, given_[index(d)]);
  }
  pump(sink);
}

void DecryptedFollower::flush(TcpSink& sink) {
  while (buffered_runs() > 0) {
    pump(sink);
    if (buffered_runs() > 0) deliver(oldest(), sink, true);
  }
}

}  // namespace pop3decode
