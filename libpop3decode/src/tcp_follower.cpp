// The TCP conversation follower (see tcp.hpp for what it guarantees).
#include <algorithm>
#include <utility>

#include "pop3decode/session.hpp"
#include "pop3decode/tcp.hpp"

namespace pop3decode {

namespace {
// Farther than this ahead of the next expected byte, a sequence or acknowledgement number is
// taken as garbage rather than as a hole to wait for.
constexpr int64_t far_ahead = int64_t{1} << 30;
}  // namespace

std::string_view tcp_notice_name(TcpNoticeKind kind) noexcept {
  switch (kind) {
    case TcpNoticeKind::retransmission: return "tcp_retransmission";
    case TcpNoticeKind::overlap_conflict: return "tcp_overlap_conflict";
    case TcpNoticeKind::out_of_window: return "tcp_out_of_window";
    case TcpNoticeKind::before_start: return "tcp_before_start";
    case TcpNoticeKind::data_after_fin: return "tcp_data_after_fin";
    case TcpNoticeKind::after_end: return "tcp_after_end";
    case TcpNoticeKind::ack_unmet: return "tcp_ack_unmet";
    case TcpNoticeKind::ack_out_of_window: return "tcp_ack_out_of_window";
    case TcpNoticeKind::syn_mismatch: return "tcp_syn_mismatch";
  }
  return "";
}

TcpFollower::TcpFollower(TcpOptions options) : options_(options) {}

// The stream offset of `seq`, read as the nearest one to the next expected byte (so that the
// 32-bit sequence space may wrap any number of times). Negative: before the origin.
int64_t TcpFollower::position(const Side& s, uint32_t seq) noexcept {
  const uint32_t next_seq = s.origin + static_cast<uint32_t>(s.next);
  return static_cast<int64_t>(s.next) + static_cast<int32_t>(seq - next_seq);
}

bool TcpFollower::stream_offset(Direction d, uint32_t seq, uint64_t* offset) const noexcept {
  const Side& s = side(d);
  if (!s.has_origin) return false;
  const int64_t p = position(s, seq);
  if (p < 0) return false;
  if (offset != nullptr) *offset = static_cast<uint64_t>(p);
  return true;
}

void TcpFollower::add(const TcpSegment& segment, TcpSink& sink) {
  const Direction d = segment.direction;
  Side& s = side(d);
  if (ended_) {
    sink.notice({TcpNoticeKind::after_end, d, s.next, segment.payload.size(), segment.tag});
    return;
  }
  const uint64_t arrival = arrivals_++;
  uint32_t data_seq = segment.seq;
  if (segment.syn) {
    data_seq = segment.seq + 1;
    if (!s.has_origin) {
      s.has_origin = true;
      s.syn = true;
      s.origin = data_seq;
      std::vector<StartSegment> start = std::move(s.start);
      s.start.clear();
      for (StartSegment& st : start) {
        buffered_bytes_ -= st.bytes.size();
        --buffered_segments_;
        place(d, st.seq, st.bytes, st.fin, st.rst, st.tag, st.arrival, st.ack, st.has_ack, sink);
      }
    } else if (s.origin == data_seq) {
      s.syn = true;  // a SYN captured after the data that fixed the same origin
    } else {
      sink.notice({TcpNoticeKind::syn_mismatch, d, s.next, 0, segment.tag});
    }
  }
  if (deliver_directly(segment, data_seq, arrival, sink)) {
    // In order and nothing waits: the common case costs no copy.
  } else if (!segment.payload.empty() || segment.fin || segment.rst || !s.has_origin) {
    // A segment without payload of a direction whose origin is not fixed yet counts too: its
    // sequence number is the next byte its sender will send, so bytes the other direction
    // acknowledges beyond it were not seen yet (a capture that starts mid-stream with an ACK).
    if (!s.has_origin) {
      s.start.push_back(StartSegment{data_seq, std::string(segment.payload), segment.fin,
                                     segment.rst, segment.tag, arrival, segment.ack,
                                     segment.has_ack});
      buffered_bytes_ += segment.payload.size();
      ++buffered_segments_;
      if (s.start.size() >= options_.start_segments || segment.rst) settle(d, sink);
    } else {
      place(d, data_seq, segment.payload, segment.fin, segment.rst, segment.tag, arrival,
            segment.ack, segment.has_ack, sink);
    }
  }
  note_ack(segment);
  pump(sink);
  while (give_lost(sink)) pump(sink);
  enforce_bounds(sink);
  check_end(sink);
}

// Keeps the furthest acknowledgement each direction got from the other side.
void TcpFollower::note_ack(const TcpSegment& segment) {
  if (!segment.has_ack) return;
  Side& acked = side(other(segment.direction));
  if (!acked.has_origin) return;
  const int64_t p = position(acked, segment.ack);
  if (p > acked.peer_acked && p - static_cast<int64_t>(acked.next) <= far_ahead)
    acked.peer_acked = p;
}

// Bytes the other side acknowledged, missing while something waits for them: after the grace
// they are taken as lost by the capture and given as a gap (the hole up to the next waiting piece
// of that direction, or what the other side acknowledged). Returns true when it gave one.
bool TcpFollower::give_lost(TcpSink& sink) {
  bool gave = false;
  for (Direction d : {Direction::client_to_server, Direction::server_to_client}) {
    Side& s = side(d);
    const bool waiting = !s.pieces.empty() || !side(other(d)).pieces.empty();
    if (ended_ || options_.loss_grace_segments == 0 || !waiting ||
        s.peer_acked <= static_cast<int64_t>(s.next)) {
      s.loss_watch = no_watch;
      continue;
    }
    if (s.loss_watch == no_watch) {
      s.loss_watch = arrivals_;
      continue;
    }
    if (arrivals_ - s.loss_watch < options_.loss_grace_segments) continue;
    s.loss_watch = no_watch;
    gave = give_gap_up_to(d, static_cast<uint64_t>(s.peer_acked), sink) || gave;
  }
  return gave;
}

bool TcpFollower::deliver_directly(const TcpSegment& segment, uint32_t data_seq, uint64_t arrival,
                                   TcpSink& sink) {
  Side& s = side(segment.direction);
  const Side& peer = side(other(segment.direction));
  if (segment.payload.empty() || segment.fin || segment.rst || !s.has_origin || !s.pieces.empty() ||
      (!peer.has_origin && !peer.start.empty()) ||
      position(s, data_seq) != static_cast<int64_t>(s.next) ||
      (s.has_fin && s.next + segment.payload.size() > s.fin))
    return false;
  Piece probe;
  probe.tag = segment.tag;
  probe.arrival = arrival;
  probe.ack = segment.ack;
  probe.has_ack = segment.has_ack;
  uint64_t hint = tcp_ack_unknown;
  uint64_t needed = 0;
  if (readiness(segment.direction, probe, sink, &hint, &needed) != Readiness::ready) return false;
  const uint64_t offset = s.next;
  s.next += segment.payload.size();
  if (hint != tcp_ack_unknown) s.hint = s.hint == tcp_ack_unknown ? hint : std::max(s.hint, hint);
  sink.feed(TcpChunk{segment.direction, offset, segment.payload, s.hint, segment.tag});
  return true;
}

void TcpFollower::end(TcpSink& sink) {
  if (!ended_) drain_and_finish(sink);
}

// Fixes the origin of a direction seen without SYN: the lowest sequence number among its held
// first segments (within the byte bound below the first one seen).
void TcpFollower::settle(Direction d, TcpSink& sink) {
  Side& s = side(d);
  if (s.has_origin || s.start.empty()) return;
  const uint32_t first = s.start.front().seq;
  int64_t lowest = 0;
  for (const StartSegment& st : s.start) {
    const int64_t diff = static_cast<int32_t>(st.seq - first);
    if (diff < lowest && -diff <= static_cast<int64_t>(options_.max_buffered_bytes)) lowest = diff;
  }
  s.origin = first + static_cast<uint32_t>(lowest);
  s.has_origin = true;
  std::vector<StartSegment> start = std::move(s.start);
  s.start.clear();
  for (StartSegment& st : start) {
    buffered_bytes_ -= st.bytes.size();
    --buffered_segments_;
    place(d, st.seq, st.bytes, st.fin, st.rst, st.tag, st.arrival, st.ack, st.has_ack, sink);
  }
}

void TcpFollower::place(Direction d, uint32_t seq, std::string_view payload, bool fin, bool rst,
                        uint64_t tag, uint64_t arrival, uint32_t ack, bool has_ack, TcpSink& sink) {
  Side& s = side(d);
  const int64_t next = static_cast<int64_t>(s.next);
  const int64_t begin = position(s, seq);
  int64_t end = begin + static_cast<int64_t>(payload.size());
  if (fin && !s.has_fin && end >= 0) {
    s.has_fin = true;
    s.fin = static_cast<uint64_t>(std::max(end, next));
    // Pieces already waiting beyond the FIN cannot be part of the stream.
    while (!s.pieces.empty()) {
      auto last = std::prev(s.pieces.end());
      const uint64_t last_end = last->first + last->second.bytes.size();
      if (last_end <= s.fin) break;
      const uint64_t cut = std::max(last->first, s.fin);
      sink.notice({TcpNoticeKind::data_after_fin, d, cut, last_end - cut, last->second.tag});
      if (last->first >= s.fin) {
        drop_piece(s, last);
      } else {
        buffered_bytes_ -= last_end - cut;
        last->second.bytes.resize(cut - last->first);
      }
    }
  }
  if (rst && !s.has_rst) {
    s.has_rst = true;
    // An RST far ahead of the stream is not waited for.
    s.rst = begin <= next || begin - next > static_cast<int64_t>(options_.max_buffered_bytes)
                ? s.next
                : static_cast<uint64_t>(begin);
    s.rst_has_ack = has_ack;
    s.rst_ack = ack;
  }
  if (payload.empty()) return;
  if (end <= 0) {
    sink.notice({TcpNoticeKind::before_start, d, 0, payload.size(), tag});
    return;
  }
  if (end <= next) {
    sink.notice({TcpNoticeKind::retransmission, d,
                 static_cast<uint64_t>(std::max<int64_t>(begin, 0)), payload.size(), tag});
    return;
  }
  if (begin - next > far_ahead) {
    sink.notice({TcpNoticeKind::out_of_window, d, s.next, payload.size(), tag});
    return;
  }
  int64_t start = begin;
  if (start < 0) {
    sink.notice({TcpNoticeKind::before_start, d, 0, static_cast<uint64_t>(-start), tag});
    start = 0;
  }
  if (start < next) {
    sink.notice({TcpNoticeKind::retransmission, d, static_cast<uint64_t>(start),
                 static_cast<uint64_t>(next - start), tag});
    start = next;
  }
  if (s.has_fin && end > static_cast<int64_t>(s.fin)) {
    const int64_t fin_at = std::max(static_cast<int64_t>(s.fin), start);
    sink.notice({TcpNoticeKind::data_after_fin, d, static_cast<uint64_t>(fin_at),
                 static_cast<uint64_t>(end - fin_at), tag});
    end = fin_at;
  }
  if (end <= start) return;
  Piece model;
  model.tag = tag;
  model.arrival = arrival;
  model.ack = ack;
  model.has_ack = has_ack;
  insert(d, static_cast<uint64_t>(start),
         payload.substr(static_cast<size_t>(start - begin), static_cast<size_t>(end - start)),
         model, sink);
}

// Adds the bytes not yet waiting; where they overlap waiting bytes, the first copy stays and a
// difference is reported.
void TcpFollower::insert(Direction d, uint64_t start, std::string_view bytes, const Piece& model,
                         TcpSink& sink) {
  Side& s = side(d);
  const uint64_t end = start + bytes.size();
  auto compare = [&](uint64_t at, uint64_t stop, const std::map<uint64_t, Piece>::iterator& it) {
    const std::string_view old = std::string_view(it->second.bytes).substr(at - it->first);
    const std::string_view now = bytes.substr(at - start, stop - at);
    for (size_t i = 0; i < now.size(); ++i) {
      if (old[i] != now[i]) {
        sink.notice({TcpNoticeKind::overlap_conflict, d, at + i, stop - at - i, model.tag});
        return;
      }
    }
  };
  uint64_t cur = start;
  while (cur < end) {
    auto it = s.pieces.upper_bound(cur);
    if (it != s.pieces.begin()) {
      auto prev = std::prev(it);
      const uint64_t prev_end = prev->first + prev->second.bytes.size();
      if (prev_end > cur) {
        const uint64_t stop = std::min(prev_end, end);
        compare(cur, stop, prev);
        cur = stop;
        continue;
      }
    }
    const uint64_t stop = it == s.pieces.end() ? end : std::min(it->first, end);
    Piece piece = model;
    piece.bytes.assign(bytes.substr(cur - start, stop - cur));
    buffered_bytes_ += piece.bytes.size();
    ++buffered_segments_;
    s.pieces.emplace(cur, std::move(piece));
    cur = stop;
  }
}

TcpFollower::Readiness TcpFollower::readiness(Direction d, const Piece& piece, TcpSink& sink,
                                              uint64_t* hint, uint64_t* needed) {
  const Direction o = other(d);
  Side& peer = side(o);
  *hint = tcp_ack_unknown;
  if (piece.forced) {
    *hint = peer.next;
    return Readiness::ready;
  }
  if (!piece.has_ack) return Readiness::ready;
  // Offsets of the other direction mean nothing until its origin is fixed.
  if (!peer.has_origin && !peer.start.empty()) settle(o, sink);
  if (!peer.has_origin) return Readiness::ready;
  const int64_t acked = position(peer, piece.ack);
  const int64_t done = static_cast<int64_t>(peer.next) + (peer.closed() ? 1 : 0);
  if (acked <= done) {
    *hint = acked <= 0 ? 0 : std::min(static_cast<uint64_t>(acked), peer.next);
    return Readiness::ready;
  }
  if (acked - static_cast<int64_t>(peer.next) > far_ahead) {
    sink.notice({TcpNoticeKind::ack_out_of_window, d, side(d).next, piece.bytes.size(), piece.tag});
    return Readiness::ready;
  }
  *needed = static_cast<uint64_t>(acked);
  return Readiness::held;
}

// Delivers every piece that can go, the one that arrived first among those ready first.
void TcpFollower::pump(TcpSink& sink) {
  while (!ended_) {
    bool found = false;
    Direction best{};
    uint64_t best_arrival = 0;
    uint64_t best_hint = tcp_ack_unknown;
    for (Direction d : {Direction::client_to_server, Direction::server_to_client}) {
      Side& s = side(d);
      if (!s.has_origin || s.pieces.empty() || s.pieces.begin()->first != s.next) continue;
      uint64_t hint = tcp_ack_unknown;
      uint64_t needed = 0;
      // readiness() may fix the other direction's origin; the head is read again after it.
      if (readiness(d, s.pieces.begin()->second, sink, &hint, &needed) != Readiness::ready)
        continue;
      if (s.pieces.empty() || s.pieces.begin()->first != s.next) continue;
      const uint64_t arrival = s.pieces.begin()->second.arrival;
      if (!found || arrival < best_arrival) {
        found = true;
        best = d;
        best_arrival = arrival;
        best_hint = hint;
      }
    }
    if (!found) return;
    Side& s = side(best);
    auto head = s.pieces.begin();
    Piece piece = std::move(head->second);
    const uint64_t offset = head->first;
    buffered_bytes_ -= piece.bytes.size();
    --buffered_segments_;
    s.pieces.erase(head);
    s.next += piece.bytes.size();
    if (best_hint != tcp_ack_unknown)
      s.hint = s.hint == tcp_ack_unknown ? best_hint : std::max(s.hint, best_hint);
    sink.feed(TcpChunk{best, offset, piece.bytes, s.hint, piece.tag});
  }
}

// Unblocks the oldest waiting thing: fixes an origin, gives a hole as a gap, gives the bytes a
// held segment acknowledges as a gap of the other direction, or (when both directions wait for
// each other) releases the held segment. Returns false when nothing waits.
bool TcpFollower::force_one(TcpSink& sink) {
  for (Direction d : {Direction::client_to_server, Direction::server_to_client}) {
    if (!side(d).has_origin && !side(d).start.empty()) {
      settle(d, sink);
      return true;
    }
  }
  bool found = false;
  Direction oldest{};
  uint64_t oldest_arrival = 0;
  for (Direction d : {Direction::client_to_server, Direction::server_to_client}) {
    const Side& s = side(d);
    if (s.pieces.empty()) continue;
    const uint64_t arrival = s.pieces.begin()->second.arrival;
    if (!found || arrival < oldest_arrival) {
      found = true;
      oldest = d;
      oldest_arrival = arrival;
    }
  }
  if (!found) return false;
  Side& s = side(oldest);
  auto head = s.pieces.begin();
  if (head->first > s.next) {
    give_gap(oldest, head->first - s.next, sink);
    return true;
  }
  uint64_t hint = 0;
  uint64_t needed = 0;
  if (readiness(oldest, head->second, sink, &hint, &needed) == Readiness::ready) return true;
  if (give_gap_up_to(other(oldest), needed, sink)) return true;
  // The bytes it acknowledges cannot come before it: release it as it is.
  s.pieces.begin()->second.forced = true;
  sink.notice({TcpNoticeKind::ack_unmet, oldest, s.next, s.pieces.begin()->second.bytes.size(),
               s.pieces.begin()->second.tag});
  return true;
}

// Gives the bytes of `d` missing before `target` as a gap, stopping at its next waiting piece
// and at its FIN. Returns false when none are missing there.
bool TcpFollower::give_gap_up_to(Direction d, uint64_t target, TcpSink& sink) {
  const Side& s = side(d);
  if (!s.pieces.empty()) target = std::min(target, s.pieces.begin()->first);
  if (s.has_fin) target = std::min(target, s.fin);
  if (target <= s.next) return false;
  give_gap(d, target - s.next, sink);
  return true;
}

void TcpFollower::give_gap(Direction d, uint64_t length, TcpSink& sink) {
  Side& s = side(d);
  const uint64_t offset = s.next;
  s.next += length;
  sink.gap(d, offset, length);
}

void TcpFollower::enforce_bounds(TcpSink& sink) {
  while (!ended_ && (buffered_bytes_ > options_.max_buffered_bytes ||
                     buffered_segments_ > options_.max_buffered_segments)) {
    if (!force_one(sink)) break;
    pump(sink);
  }
}

void TcpFollower::check_end(TcpSink& sink) {
  if (ended_) return;
  const bool closed =
      side(Direction::client_to_server).closed() && side(Direction::server_to_client).closed();
  if (closed || reset_reached(Direction::client_to_server) ||
      reset_reached(Direction::server_to_client))
    drain_and_finish(sink);
}

// The stream of `d` is complete up to its RST, and the other direction up to what the RST
// acknowledged (bytes still in flight towards the side that reset are not cut off).
bool TcpFollower::reset_reached(Direction d) const noexcept {
  const Side& s = side(d);
  if (!s.has_rst || s.next < s.rst) return false;
  const Side& peer = side(other(d));
  if (!s.rst_has_ack || !peer.has_origin) return true;
  const int64_t acked = position(peer, s.rst_ack);
  const int64_t done = static_cast<int64_t>(peer.next) + (peer.closed() ? 1 : 0);
  return acked <= done || acked - static_cast<int64_t>(peer.next) > far_ahead;
}

void TcpFollower::drain_and_finish(TcpSink& sink) {
  for (;;) {
    pump(sink);
    if (!force_one(sink)) break;
  }
  for (Direction d : {Direction::client_to_server, Direction::server_to_client}) {
    const Side& s = side(d);
    if (s.has_fin && s.next < s.fin) give_gap(d, s.fin - s.next, sink);
  }
  ended_ = true;
  sink.finish();
}

void TcpFollower::drop_piece(Side& s, std::map<uint64_t, Piece>::iterator it) {
  buffered_bytes_ -= it->second.bytes.size();
  --buffered_segments_;
  s.pieces.erase(it);
}

void SessionSink::feed(const TcpChunk& chunk) {
  current_tag_ = chunk.tag;
  auto& history = history_[static_cast<size_t>(chunk.direction)];
  const uint64_t end = chunk.offset + chunk.bytes.size();
  if (!history.empty() && history.back().tag == chunk.tag && history.back().end == chunk.offset)
    history.back().end = end;
  else
    history.push_back(Span{chunk.offset, end, chunk.tag});
  while (history.size() > history_chunks ||
         (!history.empty() && history.front().end + history_bytes < end))
    history.pop_front();
  session_.set_peer_acknowledged(chunk.direction, chunk.peer_acked);
  session_.feed(chunk.direction, chunk.bytes, handler_);
}

void SessionSink::gap(Direction direction, uint64_t, uint64_t length) {
  session_.gap(direction, length, handler_);
}

void SessionSink::finish() {
  session_.finish(handler_);
}

bool SessionSink::tag_at(Direction direction, uint64_t offset, uint64_t* tag) const noexcept {
  const auto& history = history_[static_cast<size_t>(direction)];
  auto it = std::upper_bound(history.begin(), history.end(), offset,
                             [](uint64_t at, const Span& span) { return at < span.end; });
  if (it == history.end() || it->offset > offset) return false;
  if (tag) *tag = it->tag;
  return true;
}

}  // namespace pop3decode
