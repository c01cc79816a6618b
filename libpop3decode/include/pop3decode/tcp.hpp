// The TCP conversation follower: turns the segments of one TCP conversation, in capture order,
// into each direction's byte stream in the conversation's true order, and drives a sink (a
// Session through SessionSink) with it.
//
// Captures from taps, SPAN ports and merged files hold segments out of order, twice, overlapping
// or not at all, and a capture merged from two one-way taps can hold an answer before the command
// it answers. The follower puts them back:
//
// - Same direction: sequence numbers place each payload in its stream. Bytes already delivered
//   are dropped (retransmission); where a segment overlaps bytes still buffered, the FIRST copy
//   wins and differing bytes are reported (TcpNoticeKind::overlap_conflict). Bytes already
//   delivered are not kept, so a copy of them is dropped as a retransmission without being
//   compared. Segments after a hole wait until the hole fills.
// - Across directions: a segment's acknowledgement number says which bytes of the other
//   direction its sender had received. A segment that acknowledges bytes of the other direction
//   not delivered yet is held until they are, so an answer captured before its command is
//   decoded after it, exactly as in the natural order.
// - FIN and RST take effect at their sequence position: data captured after the FIN that ends it
//   is still delivered. The sink is finished when both directions are closed, when the stream of
//   a direction that sent RST is complete up to the RST (and the other direction up to what the
//   RST acknowledged, when it has ACK), or when end() is called.
// - Bounds: the bytes and segments buffered (both directions together) are bounded
//   (TcpOptions). When a bound is hit, or the conversation ends with holes, the oldest waiting
//   hole is given to the sink as a gap at its exact offset (or the bytes a held segment
//   acknowledges are given as a gap of the other direction) and decoding goes on.
// - Origins: stream offset 0 of a direction is the byte after its SYN. Without a SYN (a capture
//   that starts mid-stream) the first segments of that direction, a bare ACK included (its
//   sequence number is the next byte its sender will send), are held until either
//   `start_segments` segments of it were seen, or a segment of the other direction is about to
//   be delivered, or a bound or the end is reached; the origin is then the lowest sequence
//   number among them. This is the bounded look-back: a segment that comes later from before
//   the origin is reported (before_start) and not decoded.
// - Loss: bytes of a direction that the other side acknowledged but that were never captured
//   (the receiver had them: the capture missed them) are given as a gap once
//   `loss_grace_segments` more segments were captured without them, so that an ACK captured
//   before the data it acknowledges (cross-direction reordering) still finds the data. Holes
//   nobody acknowledged wait for a retransmission, up to the bounds or the end.
// - Sequence numbers are 32-bit and wrap: each is read relative to the next expected byte, so a
//   stream may be any length.
//
// Every chunk handed to the sink comes from exactly one input segment, whose tag (an opaque
// number the caller chose, such as a frame number) it carries, along with the hint: the offset
// of the OTHER direction's stream that its sender had acknowledged when sending it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "pop3decode/event.hpp"

namespace pop3decode {

class Session;

// One TCP segment of the conversation, as captured. `payload` is only read during the call.
struct TcpSegment {
  Direction direction{};
  uint32_t seq = 0;
  uint32_t ack = 0;      // meaningful only when has_ack
  bool has_ack = false;  // the ACK flag
  bool syn = false;
  bool fin = false;
  bool rst = false;
  std::string_view payload;
  uint64_t tag = 0;  // the caller's name for this segment (frame number, record index)
};

struct TcpOptions {
  size_t max_buffered_bytes = 1 << 20;  // payload bytes waiting, both directions together
  size_t max_buffered_segments = 1024;  // pieces of segments waiting, both directions together
  uint32_t start_segments = 4;  // without SYN: segments of a direction held to find its origin
  // Segments captured after an acknowledgement of bytes never seen, before those bytes are taken
  // as lost (0: only the bounds and the end decide). The C ABI uses the default.
  uint32_t loss_grace_segments = 64;
};

// Peer offset unknown: the segment had no ACK flag, or the other direction was never seen.
inline constexpr uint64_t tcp_ack_unknown = UINT64_MAX;

// A run of bytes of one direction, in stream order, from one input segment.
struct TcpChunk {
  Direction direction{};
  uint64_t offset = 0;     // stream offset of bytes[0]
  std::string_view bytes;  // borrowed for the call
  // The offset of the other direction's stream up to which the sender had acknowledged when it
  // sent these bytes (the peer bytes it had seen), or tcp_ack_unknown. Never more than the
  // other direction's offset in the sink at this call (bytes delivered plus gaps), and never
  // decreasing within a direction. A sender that acknowledged bytes that were never delivered
  // (they are reported as a gap first) still gets the offset after the gap.
  uint64_t peer_acked = tcp_ack_unknown;
  uint64_t tag = 0;  // the input segment these bytes came from
};

// What the follower met that the sink may want to show. Names are stable (tcp_notice_name).
enum class TcpNoticeKind : uint32_t {
  retransmission = 0,     // bytes already delivered came again (dropped)
  overlap_conflict = 1,   // an overlapping copy differs from the first one (first copy kept)
  out_of_window = 2,      // a segment too far ahead of its stream to be placed (dropped)
  before_start = 3,       // a segment before the origin of a stream started without SYN
  data_after_fin = 4,     // payload beyond the FIN of its direction (dropped)
  after_end = 5,          // a segment after the conversation ended (dropped)
  ack_unmet = 6,          // a held segment released although the bytes it acknowledges never came
  ack_out_of_window = 7,  // an acknowledgement far beyond anything the other direction sent
  syn_mismatch = 8,       // a SYN that disagrees with the origin already fixed (ignored)
};
std::string_view tcp_notice_name(TcpNoticeKind kind) noexcept;

struct TcpNotice {
  TcpNoticeKind kind{};
  Direction direction{};
  uint64_t offset = 0;  // stream offset in `direction` where it happened (0 when before origin)
  uint64_t length = 0;  // bytes concerned
  uint64_t tag = 0;     // the input segment
};

// Receives the streams in order. Calls come in the conversation's order across directions.
class TcpSink {
 public:
  virtual ~TcpSink() = default;
  virtual void feed(const TcpChunk& chunk) = 0;
  // `length` bytes of `direction` starting at `offset` were lost.
  virtual void gap(Direction direction, uint64_t offset, uint64_t length) = 0;
  // The conversation ended; called once.
  virtual void finish() = 0;
  virtual void notice(const TcpNotice&) {}
};

class TcpFollower {
 public:
  explicit TcpFollower(TcpOptions options = {});

  // One segment, in capture order. The sink may be called any number of times (or not at all).
  void add(const TcpSegment& segment, TcpSink& sink);
  // The caller ends the conversation (end of capture, timeout): what is still waiting is
  // delivered, holes become gaps, and the sink is finished (unless it already was).
  void end(TcpSink& sink);

  bool ended() const noexcept { return ended_; }
  // Stream offset of the next byte the sink will get in a direction (bytes fed plus gaps).
  uint64_t offset(Direction d) const noexcept { return side(d).next; }
  size_t buffered_bytes() const noexcept { return buffered_bytes_; }
  size_t buffered_segments() const noexcept { return buffered_segments_; }
  bool saw_syn(Direction d) const noexcept { return side(d).syn; }
  // The stream offset of sequence number `seq` of a direction, read relative to the next
  // expected byte (within 2^31 of it). False while the direction's origin is not fixed, or
  // when `seq` lies before the origin.
  bool stream_offset(Direction d, uint32_t seq, uint64_t* offset) const noexcept;
  const TcpOptions& options() const noexcept { return options_; }

 private:
  struct Piece {
    std::string bytes;
    uint64_t tag = 0;
    uint64_t arrival = 0;
    uint32_t ack = 0;
    bool has_ack = false;
    bool forced = false;  // released without the acknowledged bytes
  };
  struct StartSegment {
    uint32_t seq = 0;
    std::string bytes;
    bool fin = false;
    bool rst = false;
    uint64_t tag = 0;
    uint64_t arrival = 0;
    uint32_t ack = 0;
    bool has_ack = false;
  };
  struct Side {
    bool has_origin = false;
    bool syn = false;
    uint32_t origin = 0;  // sequence number of stream offset 0
    uint64_t next = 0;    // offset of the next byte for the sink
    uint64_t hint = tcp_ack_unknown;
    bool has_fin = false;
    uint64_t fin = 0;  // offset of the FIN
    bool has_rst = false;
    uint64_t rst = 0;
    bool rst_has_ack = false;
    uint32_t rst_ack = 0;              // what the RST acknowledged of the other direction
    std::map<uint64_t, Piece> pieces;  // by offset, never overlapping, all at or after `next`
    std::vector<StartSegment> start;   // before the origin is fixed
    int64_t peer_acked = 0;            // the furthest offset the other side acknowledged
    uint64_t loss_watch = no_watch;    // arrival from which bytes acknowledged are missing
    bool closed() const noexcept { return has_fin && next >= fin; }
  };
  static constexpr uint64_t no_watch = UINT64_MAX;
  enum class Readiness { ready, held };

  Side& side(Direction d) noexcept { return sides_[static_cast<size_t>(d)]; }
  const Side& side(Direction d) const noexcept { return sides_[static_cast<size_t>(d)]; }
  static Direction other(Direction d) noexcept {
    return d == Direction::client_to_server ? Direction::server_to_client
                                            : Direction::client_to_server;
  }
  static int64_t position(const Side& s, uint32_t seq) noexcept;

  bool deliver_directly(const TcpSegment& segment, uint32_t data_seq, uint64_t arrival,
                        TcpSink& sink);
  void settle(Direction d, TcpSink& sink);
  void place(Direction d, uint32_t seq, std::string_view payload, bool fin, bool rst, uint64_t tag,
             uint64_t arrival, uint32_t ack, bool has_ack, TcpSink& sink);
  void insert(Direction d, uint64_t start, std::string_view bytes, const Piece& model,
              TcpSink& sink);
  Readiness readiness(Direction d, const Piece& piece, TcpSink& sink, uint64_t* hint,
                      uint64_t* needed);
  void pump(TcpSink& sink);
  bool force_one(TcpSink& sink);
  void give_gap(Direction d, uint64_t length, TcpSink& sink);
  bool give_gap_up_to(Direction d, uint64_t target, TcpSink& sink);
  void note_ack(const TcpSegment& segment);
  bool give_lost(TcpSink& sink);
  void enforce_bounds(TcpSink& sink);
  void check_end(TcpSink& sink);
  bool reset_reached(Direction d) const noexcept;
  void drain_and_finish(TcpSink& sink);
  void drop_piece(Side& s, std::map<uint64_t, Piece>::iterator it);

  TcpOptions options_;
  Side sides_[2];
  uint64_t arrivals_ = 0;
  size_t buffered_bytes_ = 0;
  size_t buffered_segments_ = 0;
  bool ended_ = false;
};

// The decrypted payload of a TCP conversation protected by TLS (implicit TLS, or after
// STARTTLS), put in the conversation's order across directions.
//
// TLS decrypts each direction's records in stream order (they are numbered), so each
// direction's plaintext already comes in order; but it is handed over in capture order, and a
// capture merged from two one-way taps can hold an answer before the command it answers. The
// caller gives this follower every TCP segment of the conversation, in capture order, by its
// position only (sequence number, payload length, acknowledgement, flags; segment()), and each
// run of decrypted bytes with the TCP segment on which TLS handed it over (the one that
// completed its record; decrypted(), called before segment() for that segment). A run is fed to
// the sink at once, unless its segment acknowledges TCP bytes of the other direction not seen
// yet, or decrypted bytes of the other direction that are still held, or an earlier run of its
// own direction is held: then it waits, and is fed when those came (in the call that brought
// them), so an answer captured before its command is decoded after it.
//
// - Offsets: the sink gets stream offsets that go on from the offsets given to the constructor
//   (what the session had before TLS, e.g. the cleartext up to STARTTLS).
// - Hints: each chunk's peer_acked is the other direction's plaintext offset that its segment's
//   acknowledgement covers (the plaintext of every segment ending at or before it), read from
//   where each TCP segment ended and how much plaintext had come by then; never more than the
//   other direction's offset in the sink, never decreasing within a direction.
// - Start: start() gives a direction's next TCP sequence number when following begins
//   (segments seen earlier: the TLS handshake, the cleartext before STARTTLS). A direction
//   neither started nor seen waits for nothing.
// - Bounds: the decrypted bytes and runs held (both directions together) are bounded
//   (TcpOptions::max_buffered_bytes and max_buffered_segments); past them the oldest run is fed
//   without the bytes it acknowledges (TcpNoticeKind::ack_unmet). Holes of one direction's TCP
//   stream are remembered up to a fixed count, then the oldest is taken as lost. flush() feeds
//   everything held (the conversation ends). No gaps: TLS cannot decrypt past a lost record.
// - The sink is never finished here: the caller decides when the conversation ends.
//
// Every chunk carries the tag of the segment given to decrypted(), and is one whole run.
struct TcpPosition {
  Direction direction{};
  uint32_t seq = 0;     // sequence number of the first payload byte (of the SYN, with syn)
  uint32_t length = 0;  // TCP payload length (the encrypted bytes)
  uint32_t ack = 0;     // meaningful only when has_ack
  bool has_ack = false;
  bool syn = false;
  bool fin = false;
  uint64_t tag = 0;
};

class DecryptedFollower {
 public:
  explicit DecryptedFollower(TcpOptions options = {}, uint64_t client_offset = 0,
                             uint64_t server_offset = 0);

  // Where direction d's TCP stream stands as following begins: the sequence number of its
  // next byte. Ignored once the direction was seen.
  void start(Direction d, uint32_t next_seq);
  // Decrypted bytes that TLS handed over on TCP segment `segment` (any number of runs per
  // segment, in TLS's order). `bytes` is only read during the call.
  void decrypted(const TcpPosition& segment, std::string_view bytes, TcpSink& sink);
  // A TCP segment of the conversation, in capture order, after its decrypted runs (every
  // segment: handshake records, alerts, bare ACKs, FIN and RST segments too).
  void segment(const TcpPosition& segment, TcpSink& sink);
  // Feeds every held run (oldest first where both directions hold some).
  void flush(TcpSink& sink);

  // Stream offset of the next decrypted byte given to decrypted() in a direction.
  uint64_t offset(Direction d) const noexcept { return given_[index(d)]; }
  // Whether what direction d sent before TCP sequence number `seq` was all seen and its
  // decrypted runs fed to the sink (a peer that acknowledged `seq` got nothing not decoded yet).
  // True for a direction neither started nor seen.
  bool reached(Direction d, uint32_t seq) const noexcept;
  size_t buffered_bytes() const noexcept { return buffered_bytes_; }
  size_t buffered_runs() const noexcept { return held_[0].size() + held_[1].size(); }

  // Holes of one direction's TCP stream remembered before the oldest is taken as lost.
  static constexpr size_t max_holes = 64;
  // Marks (TCP position -> plaintext offset) kept per direction for the hints.
  static constexpr size_t max_marks = 4096;

 private:
  struct Run {
    std::string bytes;
    uint64_t offset = 0;
    uint32_t end = 0;  // TCP sequence number after the segment that brought it
    uint32_t ack = 0;
    bool has_ack = false;
    uint64_t tag = 0;
    uint64_t arrival = 0;
  };
  struct Mark {
    uint32_t end = 0;     // TCP sequence number after a segment
    uint64_t offset = 0;  // plaintext offset reached by then
  };
  struct Position {
    bool known = false;
    uint32_t next = 0;                                 // every byte before it was seen
    std::vector<std::pair<uint32_t, uint32_t>> ahead;  // [start, end) seen beyond a hole
  };
  enum class Wait { none, tcp, held };

  static size_t index(Direction d) noexcept { return static_cast<size_t>(d); }
  static Direction other(Direction d) noexcept {
    return d == Direction::client_to_server ? Direction::server_to_client
                                            : Direction::client_to_server;
  }
  void advance(Direction d, uint32_t seq, uint32_t end);
  void mark(Direction d, uint32_t end, uint64_t offset);
  Wait waits(Direction d, const Run& run) const noexcept;
  uint64_t hint(Direction d, const Run& run);
  void feed(Direction d, const Run& run, std::string_view bytes, TcpSink& sink);
  void deliver(Direction d, TcpSink& sink, bool forced);
  Direction oldest() const noexcept;
  void pump(TcpSink& sink);
  void enforce_bounds(TcpSink& sink);

  TcpOptions options_;
  Position position_[2];
  std::deque<Run> held_[2];
  std::deque<Mark> marks_[2];
  uint64_t given_[2] = {0, 0};      // plaintext offset after every run given
  uint64_t delivered_[2] = {0, 0};  // plaintext offset after every run fed to the sink
  uint64_t last_hint_[2] = {tcp_ack_unknown, tcp_ack_unknown};
  uint64_t arrivals_ = 0;
  size_t buffered_bytes_ = 0;
};

// Drives a Session: chunks become Session::feed, gaps Session::gap, the end Session::finish.
// Events reach `handler`. Each chunk's acknowledgement hint is given to the Session
// (Session::set_peer_acknowledged) before its bytes, so capture loss never shifts which command
// an answer is paired with. While a chunk is
// fed, current_tag() names its segment; tag_at() names the segment that carried any recent byte
// (for an event's offset), so each event can be attributed to the frame its bytes came from.
class SessionSink final : public TcpSink {
 public:
  SessionSink(Session& session, EventHandler& handler) : session_(session), handler_(handler) {}

  void feed(const TcpChunk& chunk) override;
  void gap(Direction direction, uint64_t offset, uint64_t length) override;
  void finish() override;

  uint64_t current_tag() const noexcept { return current_tag_; }
  // The tag of the chunk that carried the byte at `offset` of `direction`, if it is among the
  // last `history_bytes` bytes (and `history_chunks` chunks) of that direction; else false.
  bool tag_at(Direction direction, uint64_t offset, uint64_t* tag) const noexcept;

  static constexpr uint64_t history_bytes = 1 << 18;
  static constexpr size_t history_chunks = 8192;

 private:
  struct Span {
    uint64_t offset = 0;
    uint64_t end = 0;
    uint64_t tag = 0;
  };
  Session& session_;
  EventHandler& handler_;
  uint64_t current_tag_ = 0;
  std::deque<Span> history_[2];
};

}  // namespace pop3decode
