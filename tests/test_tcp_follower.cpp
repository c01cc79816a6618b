// The TCP conversation follower: real conversations (the client and server bytes of
// tests/vectors/real-*.vec) cut into segments with real sequence and acknowledgement numbers,
// then mangled as taps and merged captures mangle them. Without loss, the Session's events must
// equal the natural-order decode exactly; with loss, the gaps must sit where the bytes were.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "catch_compat.hpp"
#include "pop3decode/pop3decode.h"
#include "pop3decode/session.hpp"
#include "pop3decode/tcp.hpp"
#include "vector_runner.hpp"

using namespace pop3decode;

namespace {

// 32-bit outputs, so sequence numbers take them without conversions.
using Rng = std::mt19937;
uint32_t next32(Rng& rng) {
  return static_cast<uint32_t>(rng());
}

constexpr Direction C = Direction::client_to_server;
constexpr Direction S = Direction::server_to_client;
size_t index_of(Direction d) {
  return static_cast<size_t>(d);
}

// A segment in stream terms; turned into sequence numbers with the conversation's ISNs.
struct Seg {
  Direction d{};
  uint64_t offset = 0;  // stream offset of the payload (or of the FIN)
  std::string bytes;
  uint64_t acked = 0;  // bytes of the other direction the sender had received
  bool peer_fin_seen = false;
  bool has_ack = true;
  bool syn = false;
  bool fin = false;
  bool rst = false;
  uint64_t tag = 0;
};

struct Conversation {
  pop3test::Vector vector;
  std::string stream[2];
  std::vector<Seg> segments;  // natural order
  uint32_t isn[2] = {0, 0};
};

std::vector<std::string> real_vectors() {
  std::vector<std::string> paths;
  for (const auto& entry : std::filesystem::directory_iterator(POP3DECODE_VECTORS_DIR)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("real-", 0) == 0 && entry.path().extension() == ".vec")
      paths.push_back(entry.path().string());
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

// Cuts each chunk of the vector into segments of 1..max_segment bytes; every segment
// acknowledges all the other direction sent before it. Handshake first, FINs last (server,
// then client).
Conversation build(const pop3test::Vector& v, Rng& rng, size_t max_segment, uint32_t isn_client,
                   uint32_t isn_server) {
  Conversation conv;
  conv.vector = v;
  conv.isn[index_of(C)] = isn_client;
  conv.isn[index_of(S)] = isn_server;
  Seg syn;
  syn.d = C;
  syn.syn = true;
  syn.has_ack = false;
  conv.segments.push_back(syn);
  syn.d = S;
  syn.has_ack = true;
  conv.segments.push_back(syn);
  for (const pop3test::Chunk& chunk : v.chunks) {
    REQUIRE(chunk.gap == 0);
    size_t at = 0;
    while (at < chunk.bytes.size()) {
      const size_t size = std::min<size_t>(
          chunk.bytes.size() - at, std::uniform_int_distribution<size_t>(1, max_segment)(rng));
      Seg seg;
      seg.d = chunk.direction;
      seg.offset = conv.stream[index_of(seg.d)].size();
      seg.bytes = chunk.bytes.substr(at, size);
      seg.acked = conv.stream[1 - index_of(seg.d)].size();
      conv.segments.push_back(seg);
      conv.stream[index_of(seg.d)] += seg.bytes;
      at += size;
    }
  }
  Seg fin;
  fin.d = S;
  fin.fin = true;
  fin.offset = conv.stream[index_of(S)].size();
  fin.acked = conv.stream[index_of(C)].size();
  conv.segments.push_back(fin);
  fin.d = C;
  fin.offset = conv.stream[index_of(C)].size();
  fin.acked = conv.stream[index_of(S)].size();
  fin.peer_fin_seen = true;
  conv.segments.push_back(fin);
  for (size_t i = 0; i < conv.segments.size(); ++i) conv.segments[i].tag = 1000 + i;
  return conv;
}

TcpSegment to_tcp(const Conversation& conv, const Seg& seg) {
  TcpSegment t;
  t.direction = seg.d;
  const uint32_t isn = conv.isn[index_of(seg.d)];
  const uint32_t peer_isn = conv.isn[1 - index_of(seg.d)];
  t.seq = seg.syn ? isn : isn + 1 + static_cast<uint32_t>(seg.offset);
  t.ack = peer_isn + 1 + static_cast<uint32_t>(seg.acked) + (seg.peer_fin_seen ? 1 : 0);
  t.has_ack = seg.has_ack;
  t.syn = seg.syn;
  t.fin = seg.fin;
  t.rst = seg.rst;
  t.payload = seg.bytes;
  t.tag = seg.tag;
  return t;
}

struct Gap {
  Direction d;
  uint64_t offset;
  uint64_t length;
};

// Forwards to a SessionSink and checks what every sink may rely on.
class CheckingSink final : public TcpSink {
 public:
  CheckingSink(Session& session, EventHandler& handler, const Conversation& conv)
      : inner_(session, handler), conv_(conv) {
    for (const Seg& seg : conv.segments) by_tag_[seg.tag] = &seg;
  }
  void add_tags(const std::vector<Seg>& segments) {
    for (const Seg& seg : segments) by_tag_[seg.tag] = &seg;
  }
  void feed(const TcpChunk& chunk) override {
    const size_t d = index_of(chunk.direction);
    REQUIRE(!finished_);
    REQUIRE(chunk.offset == offset_[d]);
    REQUIRE(!chunk.bytes.empty());
    REQUIRE(chunk.offset + chunk.bytes.size() <= conv_.stream[d].size());
    REQUIRE(conv_.stream[d].compare(chunk.offset, chunk.bytes.size(), chunk.bytes) == 0);
    // The tag names a segment of this direction whose bytes hold the chunk.
    auto it = by_tag_.find(chunk.tag);
    REQUIRE(it != by_tag_.end());
    const Seg& seg = *it->second;
    REQUIRE(seg.d == chunk.direction);
    REQUIRE(seg.offset <= chunk.offset);
    REQUIRE(chunk.offset + chunk.bytes.size() <= seg.offset + seg.bytes.size());
    // The hint: never beyond the other direction's offset, never decreasing.
    if (chunk.peer_acked != tcp_ack_unknown) {
      REQUIRE(chunk.peer_acked <= offset_[1 - d]);
      if (hint_[d] != tcp_ack_unknown) REQUIRE(chunk.peer_acked >= hint_[d]);
      hint_[d] = chunk.peer_acked;
    }
    hints.push_back({chunk.tag, chunk.peer_acked});
    offset_[d] += chunk.bytes.size();
    inner_.feed(chunk);
    uint64_t tag = 0;
    REQUIRE(inner_.tag_at(chunk.direction, chunk.offset, &tag));
    REQUIRE(tag == chunk.tag);
  }
  void gap(Direction direction, uint64_t offset, uint64_t length) override {
    const size_t d = index_of(direction);
    REQUIRE(!finished_);
    REQUIRE(offset == offset_[d]);
    REQUIRE(length > 0);
    offset_[d] += length;
    if (!gaps.empty() && gaps.back().d == direction &&
        gaps.back().offset + gaps.back().length == offset)
      gaps.back().length += length;
    else
      gaps.push_back({direction, offset, length});
    inner_.gap(direction, offset, length);
  }
  void finish() override {
    REQUIRE(!finished_);
    finished_ = true;
    inner_.finish();
  }
  void notice(const TcpNotice& n) override { notices.push_back(n); }

  uint64_t offset(Direction d) const { return offset_[index_of(d)]; }
  bool finished() const { return finished_; }

  std::vector<Gap> gaps;
  std::vector<TcpNotice> notices;
  std::vector<std::pair<uint64_t, uint64_t>> hints;  // tag, peer_acked

 private:
  SessionSink inner_;
  const Conversation& conv_;
  std::map<uint64_t, const Seg*> by_tag_;
  uint64_t offset_[2] = {0, 0};
  uint64_t hint_[2] = {tcp_ack_unknown, tcp_ack_unknown};
  bool finished_ = false;
};

struct Result {
  std::string events;
  std::vector<Gap> gaps;
  std::vector<TcpNotice> notices;
  std::vector<std::pair<uint64_t, uint64_t>> hints;
  uint64_t offsets[2] = {0, 0};
  bool finished_by_segments = false;
};

Result follow(const Conversation& conv, const std::vector<Seg>& capture, TcpOptions options = {},
              const pop3decode::Options* session_options = nullptr) {
  Session session(session_options ? *session_options : conv.vector.options);
  for (const auto& [user, password] : conv.vector.passwords) session.add_password(user, password);
  pop3test::Recorder recorder;
  CheckingSink sink(session, recorder, conv);
  sink.add_tags(capture);
  TcpFollower follower(options);
  for (const Seg& seg : capture) {
    follower.add(to_tcp(conv, seg), sink);
    REQUIRE(follower.buffered_bytes() <= options.max_buffered_bytes);
    REQUIRE(follower.buffered_segments() <= options.max_buffered_segments);
  }
  Result result;
  result.finished_by_segments = sink.finished();
  follower.end(sink);
  REQUIRE(sink.finished());
  REQUIRE(follower.buffered_bytes() == 0);
  REQUIRE(follower.buffered_segments() == 0);
  result.events = recorder.str();
  result.gaps = sink.gaps;
  result.notices = sink.notices;
  result.hints = sink.hints;
  result.offsets[0] = sink.offset(C);
  result.offsets[1] = sink.offset(S);
  return result;
}

bool is_data(const Seg& seg) {
  return !seg.bytes.empty();
}

// --- Mangles. Each keeps the handshake first (the origins come from the SYNs). ---

constexpr size_t handshake = 2;

void swap_same_direction(std::vector<Seg>& segs, Rng& rng, int count) {
  for (int n = 0; n < count; ++n) {
    const size_t i = std::uniform_int_distribution<size_t>(handshake, segs.size() - 1)(rng);
    for (size_t j = i + 1; j < segs.size(); ++j) {
      if (segs[j].d == segs[i].d) {
        std::swap(segs[i], segs[j]);
        break;
      }
    }
  }
}

// A segment captured before segments of the other direction that preceded it: an answer
// before its command.
void move_across(std::vector<Seg>& segs, Rng& rng, int count) {
  for (int n = 0; n < count; ++n) {
    const size_t i = std::uniform_int_distribution<size_t>(handshake + 1, segs.size() - 1)(rng);
    size_t j = i;
    const size_t back = std::uniform_int_distribution<size_t>(1, 6)(rng);
    for (size_t k = 0; k < back && j > handshake; ++k) --j;
    Seg moved = segs[i];
    segs.erase(segs.begin() + static_cast<std::ptrdiff_t>(i));
    segs.insert(segs.begin() + static_cast<std::ptrdiff_t>(j), moved);
  }
}

void repeat(std::vector<Seg>& segs, Rng& rng, int count) {
  for (int n = 0; n < count; ++n) {
    const size_t i = std::uniform_int_distribution<size_t>(handshake, segs.size() - 1)(rng);
    const size_t j = std::uniform_int_distribution<size_t>(handshake, segs.size())(rng);
    Seg copy = segs[i];
    segs.insert(segs.begin() + static_cast<std::ptrdiff_t>(j), copy);
  }
}

// Retransmissions that cover parts of several segments, captured after the last segment they
// cover (as a sender's retransmission is), with that one's acknowledgement.
void overlap(const Conversation& conv, std::vector<Seg>& segs, Rng& rng, int count,
             uint64_t& next_tag) {
  for (int n = 0; n < count; ++n) {
    const size_t i = std::uniform_int_distribution<size_t>(handshake, segs.size() - 1)(rng);
    if (!is_data(segs[i])) continue;
    const Seg& first = segs[i];
    const std::string& stream = conv.stream[index_of(first.d)];
    const uint64_t begin =
        first.offset + std::uniform_int_distribution<uint64_t>(0, first.bytes.size() - 1)(rng);
    const uint64_t end = std::min<uint64_t>(
        stream.size(), begin + std::uniform_int_distribution<uint64_t>(1, 300)(rng));
    Seg copy;
    copy.d = first.d;
    copy.offset = begin;
    copy.bytes = stream.substr(begin, end - begin);
    copy.tag = next_tag++;
    size_t last = i;
    for (size_t k = 0; k < segs.size(); ++k) {
      const Seg& s = segs[k];
      if (s.d == copy.d && is_data(s) && s.offset < end && s.offset + s.bytes.size() > begin) {
        copy.acked = std::max(copy.acked, s.acked);
        last = std::max(last, k);
      }
    }
    const size_t at = std::uniform_int_distribution<size_t>(last + 1, segs.size())(rng);
    segs.insert(segs.begin() + static_cast<std::ptrdiff_t>(at), copy);
  }
}

void shuffle_all(std::vector<Seg>& segs, Rng& rng) {
  std::shuffle(segs.begin() + handshake, segs.end(), rng);
}

// The FIN of each direction captured before that direction's last data segments.
void fin_first(std::vector<Seg>& segs) {
  for (Direction d : {C, S}) {
    auto fin =
        std::find_if(segs.begin(), segs.end(), [&](const Seg& s) { return s.d == d && s.fin; });
    auto last = std::find_if(segs.rbegin(), segs.rend(),
                             [&](const Seg& s) { return s.d == d && is_data(s); });
    if (fin == segs.end() || last == segs.rend()) continue;
    Seg moved = *fin;
    segs.erase(fin);
    auto last_it = std::find_if(segs.begin(), segs.end(), [&](const Seg& s) {
      return s.d == d && is_data(s) && s.offset + s.bytes.size() == moved.offset;
    });
    segs.insert(last_it, moved);
  }
}

std::string natural_decode(const Conversation& conv) {
  return pop3test::replay(conv.vector, {});
}

int seeds() {
#ifdef POP3DECODE_SAMPLED_SPLITS
  return 2;
#else
  return 6;
#endif
}

}  // namespace

TEST_CASE("segments in natural order decode as the byte stream does", "[tcp]") {
  for (const std::string& path : real_vectors()) {
    const pop3test::Vector v = pop3test::load_vector(path);
    Rng rng(1);
    const Conversation conv = build(v, rng, 1460, 0x12345678u, 0x9abcdef0u);
    INFO(path);
    const Result result = follow(conv, conv.segments);
    CHECK(result.events == natural_decode(conv));
    CHECK(result.gaps.empty());
    CHECK(result.notices.empty());
    CHECK(result.finished_by_segments);
    // Each chunk's hint is what its segment acknowledged.
    std::map<uint64_t, uint64_t> acked;
    for (const Seg& s : conv.segments) acked[s.tag] = s.acked;
    for (const auto& [tag, hint] : result.hints) CHECK(hint == acked[tag]);
  }
}

TEST_CASE("mangled captures without loss decode exactly as the natural order", "[tcp]") {
  const auto paths = real_vectors();
  REQUIRE(paths.size() > 10);
  for (const std::string& path : paths) {
    const pop3test::Vector v = pop3test::load_vector(path);
    for (int seed = 0; seed < seeds(); ++seed) {
      Rng rng(static_cast<uint32_t>(seed * 7919 + 17));
      // Sequence numbers that wrap inside the conversation in some runs.
      const uint32_t isn_c = seed % 2 ? 0xffffff00u - static_cast<uint32_t>(seed) : next32(rng);
      const uint32_t isn_s = seed % 3 ? 0xfffffff0u : next32(rng);
      const size_t max_segment = seed % 2 ? 1460 : 40;
      const Conversation conv = build(v, rng, max_segment, isn_c, isn_s);
      const std::string expected = natural_decode(conv);
      uint64_t next_tag = 100000;
      std::map<uint64_t, uint64_t> acked;
      for (const Seg& s : conv.segments) acked[s.tag] = s.acked;
      TcpOptions roomy;
      roomy.max_buffered_segments = 1 << 20;
      roomy.max_buffered_bytes = 1 << 24;
      roomy.loss_grace_segments = 0;  // any reordering distance: nothing is taken as lost

      struct Case {
        const char* name;
        std::vector<Seg> capture;
      };
      std::vector<Case> cases;
      auto add = [&](const char* name, auto&& mangle) {
        std::vector<Seg> capture = conv.segments;
        mangle(capture);
        cases.push_back({name, std::move(capture)});
      };
      add("same-direction swaps", [&](auto& s) { swap_same_direction(s, rng, 8); });
      add("repeats", [&](auto& s) { repeat(s, rng, 8); });
      add("overlaps", [&](auto& s) { overlap(conv, s, rng, 8, next_tag); });
      add("response before command", [&](auto& s) { move_across(s, rng, 8); });
      add("FIN before data", [&](auto& s) { fin_first(s); });
      add("all of them", [&](auto& s) {
        repeat(s, rng, 4);
        move_across(s, rng, 4);
        swap_same_direction(s, rng, 4);
        fin_first(s);
        overlap(conv, s, rng, 4, next_tag);
      });
      add("any order", [&](auto& s) {
        repeat(s, rng, 4);
        shuffle_all(s, rng);
      });
      for (const Case& c : cases) {
        INFO(path << " seed " << seed << ": " << c.name);
        const Result result = follow(conv, c.capture, roomy);
        CHECK(result.events == expected);
        CHECK(result.gaps.empty());
        CHECK(result.finished_by_segments);
        // Copies are dropped as retransmissions (or after the end, when captured after both
        // FINs); nothing else is met.
        for (const TcpNotice& n : result.notices)
          CHECK((n.kind == TcpNoticeKind::retransmission || n.kind == TcpNoticeKind::after_end));
        for (const auto& [tag, hint] : result.hints)
          if (acked.count(tag)) CHECK(hint == acked[tag]);
      }
      // With the default bounds, the mild mangles never need them. (repeat() may put a copy
      // anywhere, even long before its original: no loss grace covers that, so it is off.)
      {
        INFO(path << " seed " << seed << ": default bounds");
        TcpOptions bounds;
        bounds.loss_grace_segments = 0;
        CHECK(follow(conv, cases[5].capture, bounds).events == expected);
      }
    }
  }
}

TEST_CASE("bytes acknowledged but never captured become a gap without waiting for the end",
          "[tcp]") {
  // A capture that misses one segment and ends without FIN (cut short): the other side
  // acknowledged the missing bytes, so once loss_grace_segments more segments came they are a
  // gap and what waited behind them is decoded, though the conversation never ends.
  size_t runs = 0;
  for (const std::string& path : real_vectors()) {
    const pop3test::Vector v = pop3test::load_vector(path);
    for (Direction lost_direction : {C, S}) {
      Rng rng(7);
      const Conversation conv = build(v, rng, 20, next32(rng), next32(rng));
      std::vector<Seg> capture(conv.segments.begin(), conv.segments.end() - 2);  // no FINs
      // The first data segment of that direction after the first third whose acknowledgement
      // by the other side is followed by 70 more segments.
      size_t drop = capture.size();
      for (size_t i = capture.size() / 3; i < capture.size() && drop == capture.size(); ++i) {
        if (capture[i].d != lost_direction || !is_data(capture[i])) continue;
        for (size_t j = i + 1; j < capture.size(); ++j) {
          if (capture[j].d != lost_direction && capture[j].acked > capture[i].offset) {
            if (j + 70 < capture.size()) drop = i;
            break;
          }
        }
      }
      if (drop == capture.size()) continue;
      const Seg lost = capture[drop];
      capture.erase(capture.begin() + static_cast<std::ptrdiff_t>(drop));
      struct GapSink final : TcpSink {
        void feed(const TcpChunk& chunk) override {
          offset[index_of(chunk.direction)] = chunk.offset + chunk.bytes.size();
        }
        void gap(Direction d, uint64_t at, uint64_t length) override {
          gaps.push_back(Gap{d, at, length});
          offset[index_of(d)] = at + length;
        }
        void finish() override { finished = true; }
        uint64_t offset[2] = {0, 0};
        std::vector<Gap> gaps;
        bool finished = false;
      } sink;
      TcpFollower follower;
      for (const Seg& seg : capture) follower.add(to_tcp(conv, seg), sink);
      INFO(path << (lost_direction == C ? " client" : " server") << " segment at " << lost.offset
                << "+" << lost.bytes.size());
      CHECK(!sink.finished);
      REQUIRE(sink.gaps.size() == 1);
      CHECK(sink.gaps[0].d == lost_direction);
      CHECK(sink.gaps[0].offset == lost.offset);
      CHECK(sink.gaps[0].length == lost.bytes.size());
      // Everything captured was decoded: both directions reached the end of their streams.
      CHECK(sink.offset[0] == conv.stream[0].size());
      CHECK(sink.offset[1] == conv.stream[1].size());
      CHECK(follower.buffered_segments() == 0);
      ++runs;
    }
  }
  CHECK(runs > 10);
}

TEST_CASE("lost segments become gaps at their offsets and decoding goes on", "[tcp]") {
  for (const std::string& path : real_vectors()) {
    const pop3test::Vector v = pop3test::load_vector(path);
    for (int seed = 0; seed < seeds(); ++seed) {
      Rng rng(static_cast<uint32_t>(seed * 104729 + 3));
      const Conversation conv = build(v, rng, seed % 2 ? 1460 : 60, next32(rng), next32(rng));
      std::vector<Seg> capture;
      // The bytes lost per direction: offset -> end.
      std::map<uint64_t, uint64_t> lost[2];
      bool kept_one = false;
      for (const Seg& s : conv.segments) {
        if (is_data(s) && kept_one && std::uniform_int_distribution<int>(0, 9)(rng) == 0) {
          lost[index_of(s.d)][s.offset] = s.offset + s.bytes.size();
          continue;
        }
        kept_one = kept_one || is_data(s);
        capture.push_back(s);
      }
      if (seed % 2) move_across(capture, rng, 4);
      std::vector<Gap> expected;
      for (Direction d : {C, S}) {
        for (const auto& [begin, end] : lost[index_of(d)]) {
          if (!expected.empty() && expected.back().d == d &&
              expected.back().offset + expected.back().length == begin)
            expected.back().length += end - begin;
          else
            expected.push_back({d, begin, end - begin});
        }
      }
      INFO(path << " seed " << seed);
      for (const TcpOptions& options : {TcpOptions{}, TcpOptions{512, 8, 4}}) {
        Result result = follow(conv, capture, options);
        // Everything of both streams was delivered or given as a gap.
        CHECK(result.offsets[0] == conv.stream[0].size());
        CHECK(result.offsets[1] == conv.stream[1].size());
        // Tight bounds with reordering give up on holes that a later segment would have
        // filled: the gaps then cover more than the loss.
        if (options.max_buffered_segments < 64 && seed % 2) continue;
        std::sort(result.gaps.begin(), result.gaps.end(), [](const Gap& a, const Gap& b) {
          return a.d != b.d ? a.d < b.d : a.offset < b.offset;
        });
        // Adjacent holes may be given in several calls.
        std::vector<Gap> merged;
        for (const Gap& g : result.gaps) {
          if (!merged.empty() && merged.back().d == g.d &&
              merged.back().offset + merged.back().length == g.offset)
            merged.back().length += g.length;
          else
            merged.push_back(g);
        }
        result.gaps = merged;
        std::string got_text, expected_text;
        for (const Gap& g : result.gaps)
          got_text += std::to_string(index_of(g.d)) + "@" + std::to_string(g.offset) + "+" +
                      std::to_string(g.length) + " ";
        for (const Gap& g : expected)
          expected_text += std::to_string(index_of(g.d)) + "@" + std::to_string(g.offset) + "+" +
                           std::to_string(g.length) + " ";
        CHECK(got_text == expected_text);
        // Decoding went on to the end of the conversation.
        CHECK(result.events.find("end ") != std::string::npos);
      }
    }
  }
}

TEST_CASE("a capture without the handshake finds each origin despite a reordered start", "[tcp]") {
  for (const std::string& path : real_vectors()) {
    const pop3test::Vector v = pop3test::load_vector(path);
    Rng rng(5);
    const Conversation conv = build(v, rng, 30, 0xfffffff8u, 77);
    std::vector<Seg> capture(conv.segments.begin() + handshake, conv.segments.end());
    // The first two segments of the server swapped.
    auto first =
        std::find_if(capture.begin(), capture.end(), [](const Seg& s) { return s.d == S; });
    auto second = std::find_if(first + 1, capture.end(), [](const Seg& s) { return s.d == S; });
    REQUIRE(second != capture.end());
    std::iter_swap(first, second);
    INFO(path);
    const Result result = follow(conv, capture);
    CHECK(result.events == natural_decode(conv));
    CHECK(result.gaps.empty());
  }
}

TEST_CASE("a segment from before a settled origin is reported, not decoded", "[tcp]") {
  struct NoticeSink final : TcpSink {
    void feed(const TcpChunk& chunk) override { bytes[index_of(chunk.direction)] += chunk.bytes; }
    void gap(Direction, uint64_t, uint64_t) override {}
    void finish() override {}
    void notice(const TcpNotice& n) override { notices.push_back(n); }
    std::string bytes[2];
    std::vector<TcpNotice> notices;
  } sink;
  TcpFollower follower;
  TcpSegment syn;
  syn.direction = C;
  syn.syn = true;
  syn.seq = 999;
  follower.add(syn, sink);
  TcpSegment b;  // the server's second segment, seen first (no SYN seen for the server)
  b.direction = S;
  b.seq = 5011;
  b.payload = "+OK\r\n";
  follower.add(b, sink);
  TcpSegment c;  // the client's command: its delivery fixes the server's origin at b
  c.direction = C;
  c.seq = 1000;
  c.has_ack = true;
  c.ack = 5016;
  c.payload = "NOOP\r\n";
  follower.add(c, sink);
  CHECK(sink.bytes[index_of(C)] == "NOOP\r\n");
  TcpSegment a;  // the server's first segment, from before that origin
  a.direction = S;
  a.seq = 5000;
  a.payload = "+OK ready\r\n";
  follower.add(a, sink);
  follower.end(sink);
  CHECK(sink.bytes[index_of(S)] == "+OK\r\n");
  bool before_start = false;
  for (const TcpNotice& n : sink.notices)
    before_start = before_start || (n.kind == TcpNoticeKind::before_start && n.length == 11);
  CHECK(before_start);
}

namespace {

// A segment with the ACK flag.
TcpSegment acking(Direction d, uint32_t seq, uint32_t ack, std::string_view payload) {
  TcpSegment segment;
  segment.direction = d;
  segment.seq = seq;
  segment.has_ack = true;
  segment.ack = ack;
  segment.payload = payload;
  return segment;
}

}  // namespace

TEST_CASE("a bare ACK starting a direction holds the answers to its unseen bytes", "[tcp]") {
  // A capture that starts mid-stream: the client's first segment is a bare ACK, then the server
  // answers a command captured only after that answer (merged one-way taps). The ACK's sequence
  // number fixes the client's origin, so the answer waits for the command.
  for (uint32_t start_segments : {1u, 4u}) {
    struct OrderSink final : TcpSink {
      void feed(const TcpChunk& chunk) override {
        order += (chunk.direction == C ? "C:" : "S:") + std::string(chunk.bytes);
      }
      void gap(Direction, uint64_t, uint64_t) override { order += "gap "; }
      void finish() override {}
      void notice(const TcpNotice&) override {}
      std::string order;
    } sink;
    TcpOptions options;
    options.start_segments = start_segments;
    TcpFollower follower(options);
    // The end of an earlier answer; the client acknowledges it (a bare ACK: it stands at
    // 2000); the answer to DELE 1, captured before it; the command.
    follower.add(acking(S, 7000, 2000, ".\r\n"), sink);
    follower.add(acking(C, 2000, 7003, ""), sink);
    follower.add(acking(S, 7003, 2008, "+OK\r\n"), sink);
    follower.add(acking(C, 2000, 7003, "DELE 1\r\n"), sink);
    follower.end(sink);
    INFO("start_segments " << start_segments);
    CHECK(sink.order == "S:.\r\nC:DELE 1\r\nS:+OK\r\n");
  }
}

TEST_CASE("RST ends the conversation at its sequence position", "[tcp]") {
  const pop3test::Vector v = pop3test::load_vector(real_vectors().front());
  Rng rng(9);
  Conversation conv = build(v, rng, 100, 1, 2);
  conv.segments.pop_back();
  conv.segments.pop_back();
  Seg rst;
  rst.d = C;
  rst.rst = true;
  rst.offset = conv.stream[index_of(C)].size();
  rst.acked = conv.stream[index_of(S)].size();
  rst.tag = 99;
  conv.segments.push_back(rst);
  // The RST captured before the client's last data.
  std::vector<Seg> capture = conv.segments;
  auto last = std::find_if(capture.rbegin() + 1, capture.rend(),
                           [](const Seg& s) { return s.d == C && !s.bytes.empty(); });
  Seg moved = capture.back();
  capture.pop_back();
  capture.insert(last.base() - 1, moved);
  const Result result = follow(conv, capture);
  CHECK(result.finished_by_segments);
  CHECK(result.events == natural_decode(conv));
}

TEST_CASE("a hostile stream keeps the follower within its bounds", "[tcp][hostile]") {
  Rng rng(42);
  TcpOptions options;
  options.max_buffered_bytes = 64 * 1024;
  options.max_buffered_segments = 64;
  TcpFollower follower(options);
  Session session;
  struct CountingHandler final : EventHandler {
    void on_event(const Event&) override { ++events; }
    size_t events = 0;
  } handler;
  SessionSink sink(session, handler);
  std::string payload(1400, 'A');
  uint64_t last_offset[2] = {0, 0};
  for (int i = 0; i < 200000 && !follower.ended(); ++i) {
    TcpSegment seg;
    seg.direction = (i & 1) ? C : S;
    // Sequence numbers anywhere, acknowledgements of bytes never sent, holes never filled.
    seg.seq = next32(rng);
    if (i % 3) seg.seq = static_cast<uint32_t>(i) * 997u;
    seg.ack = next32(rng);
    seg.has_ack = (i % 5) != 0;
    seg.syn = i % 1000 == 0;
    seg.payload = std::string_view(payload).substr(0, rng() % payload.size());
    seg.tag = static_cast<uint64_t>(i);
    follower.add(seg, sink);
    REQUIRE(follower.buffered_bytes() <= options.max_buffered_bytes);
    REQUIRE(follower.buffered_segments() <= options.max_buffered_segments);
    for (Direction d : {C, S}) {
      REQUIRE(follower.offset(d) >= last_offset[index_of(d)]);
      last_offset[index_of(d)] = follower.offset(d);
    }
  }
  follower.end(sink);
  CHECK(follower.ended());
  CHECK(follower.buffered_bytes() == 0);
}

TEST_CASE("the C ABI follows a mangled conversation like the C++ follower", "[tcp]") {
  const pop3test::Vector v = pop3test::load_vector(real_vectors().front());
  Rng rng(3);
  const Conversation conv = build(v, rng, 20, 0xfffffff0u, 123);
  std::vector<Seg> capture = conv.segments;
  move_across(capture, rng, 10);
  repeat(capture, rng, 5);
  swap_same_direction(capture, rng, 5);

  struct Log {
    std::string text;
    uint64_t chunks = 0;
    uint64_t notices = 0;
    bool finished = false;
    pop3d_tcp_report chunk{};  // the last chunk reported: the events that follow are its
    uint64_t commands_attributed = 0;
    uint64_t commands_misattributed = 0;
  } log;
  pop3d_event_callback on_event = [](void* user, const pop3d_event* e) {
    auto* l = static_cast<Log*>(user);
    // A command line ends inside the client chunk being fed when it is reported.
    if (e->kind == POP3D_EVENT_COMMAND && l->chunks > 0) {
      const bool inside = l->chunk.direction == e->direction &&
                          e->offset + e->length > l->chunk.offset &&
                          e->offset + e->length <= l->chunk.offset + l->chunk.length;
      ++(inside ? l->commands_attributed : l->commands_misattributed);
    }
    l->text += std::to_string(e->kind) + ' ' + std::to_string(e->direction) + " @" +
               std::to_string(e->offset) + '+' + std::to_string(e->length) +
               " req=" + std::to_string(e->request_id) + '\n';
    return 0;
  };
  pop3d_tcp_report_callback on_report = [](void* user, const pop3d_tcp_report* r) {
    auto* l = static_cast<Log*>(user);
    if (r->kind == POP3D_TCP_CHUNK) {
      ++l->chunks;
      l->chunk = *r;
    }
    if (r->kind == POP3D_TCP_NOTICE) {
      ++l->notices;
      if (pop3d_tcp_notice_name(r->notice) == nullptr) return 1;
    }
    if (r->kind == POP3D_TCP_FINISH) l->finished = true;
    return 0;
  };
  pop3d_session* session = pop3d_session_new(nullptr);
  pop3d_tcp_options options;
  pop3d_tcp_options_init(&options);
  CHECK(options.max_buffered_bytes == TcpOptions{}.max_buffered_bytes);
  pop3d_tcp* tcp = pop3d_tcp_new(session, &options);
  REQUIRE(tcp != nullptr);
  CHECK(pop3d_tcp_new(nullptr, nullptr) == nullptr);
  for (const Seg& seg : capture) {
    const TcpSegment t = to_tcp(conv, seg);
    pop3d_tcp_segment c{};
    c.direction = static_cast<uint32_t>(t.direction);
    c.flags = (t.syn ? POP3D_TCP_SYN : 0u) | (t.fin ? POP3D_TCP_FIN : 0u) |
              (t.rst ? POP3D_TCP_RST : 0u) | (t.has_ack ? POP3D_TCP_ACK : 0u);
    c.seq = t.seq;
    c.ack = t.ack;
    c.payload = reinterpret_cast<const uint8_t*>(t.payload.data());
    c.payload_length = t.payload.size();
    c.tag = t.tag;
    REQUIRE(pop3d_tcp_add(tcp, &c, on_event, on_report, &log) == POP3D_OK);
  }
  CHECK(pop3d_tcp_ended(tcp) == 1);
  CHECK(pop3d_tcp_end(tcp, on_event, on_report, &log) == POP3D_OK);
  CHECK(log.finished);
  CHECK(pop3d_tcp_offset(tcp, POP3D_SERVER_TO_CLIENT) == conv.stream[index_of(S)].size());
  CHECK(pop3d_tcp_buffered_bytes(tcp) == 0);
  CHECK(pop3d_tcp_add(tcp, nullptr, nullptr, nullptr, nullptr) == POP3D_ERR_INVALID_ARGUMENT);
  pop3d_tcp_free(tcp);

  // The same events as a plain session fed in the natural order.
  Log plain;
  pop3d_session* reference = pop3d_session_new(nullptr);
  for (const pop3test::Chunk& chunk : v.chunks)
    pop3d_session_feed(reference, static_cast<uint32_t>(chunk.direction),
                       reinterpret_cast<const uint8_t*>(chunk.bytes.data()), chunk.bytes.size(),
                       on_event, &plain);
  pop3d_session_finish(reference, on_event, &plain);
  CHECK(log.text == plain.text);
  CHECK(log.notices > 0);
  CHECK(log.commands_attributed > 0);
  CHECK(log.commands_misattributed == 0);

  // A report callback that asks to stop: the call says so.
  pop3d_session* stopped_session = pop3d_session_new(nullptr);
  pop3d_tcp* stopped = pop3d_tcp_new(stopped_session, nullptr);
  pop3d_tcp_report_callback stop = [](void*, const pop3d_tcp_report*) { return 1; };
  int status = POP3D_OK;
  for (const Seg& seg : conv.segments) {
    const TcpSegment t = to_tcp(conv, seg);
    pop3d_tcp_segment c{};
    c.direction = static_cast<uint32_t>(t.direction);
    c.flags = (t.syn ? POP3D_TCP_SYN : 0u) | (t.has_ack ? POP3D_TCP_ACK : 0u);
    c.seq = t.seq;
    c.ack = t.ack;
    c.payload = reinterpret_cast<const uint8_t*>(t.payload.data());
    c.payload_length = t.payload.size();
    status = pop3d_tcp_add(stopped, &c, nullptr, stop, nullptr);
    if (status != POP3D_OK) break;
  }
  CHECK(status == POP3D_ERR_CALLBACK);
  pop3d_tcp_free(stopped);
  pop3d_session_free(stopped_session);
  pop3d_session_free(reference);
  pop3d_session_free(session);
  CHECK(std::string(pop3d_tcp_notice_name(POP3D_TCP_NOTICE_OVERLAP_CONFLICT)) ==
        "tcp_overlap_conflict");
}

TEST_CASE("conflicting overlapping bytes are reported and the first copy is kept", "[tcp]") {
  Conversation conv;
  conv.isn[0] = 10;
  conv.isn[1] = 20;
  conv.stream[index_of(S)] = "+OK hello\r\n";
  Seg later{S, 4, "jello", 0, false, true, false, false, false, 2};
  // Now "first" waits behind a hole when "later" comes: the overlap is compared.
  Seg hole_first{S, 4, "hello\r\n", 0, false, true, false, false, false, 4};
  Seg head{S, 0, "+OK ", 0, false, true, false, false, false, 5};
  conv.segments = {hole_first, later, head};
  const Result result = follow(conv, conv.segments);
  bool conflict = false;
  for (const TcpNotice& n : result.notices) {
    if (n.kind == TcpNoticeKind::overlap_conflict) {
      conflict = true;
      CHECK(n.offset == 4);
      CHECK(n.tag == 2);
    }
  }
  CHECK(conflict);
  CHECK(result.events.find("hello") != std::string::npos);
  CHECK(result.events.find("jello") == std::string::npos);
}

// --- Pairing under loss: an answer is paired with the command it answers, or with none. ---

namespace {

// What a decode paired: server offset of each status line -> client offset of its command;
// the gaps the Session reported; the answers paired with none because of loss.
struct Pairings {
  std::map<uint64_t, uint64_t> answers;
  std::vector<Gap> gaps;
  size_t unpaired_by_loss = 0;
};

// POP3D_PAIRING_DEBUG=<part of a run's name> prints that run's lossy decode.
bool debug_pairing = false;
bool debug_run(const std::string& what) {
  const char* filter = std::getenv("POP3D_PAIRING_DEBUG");
  return filter != nullptr && what.find(filter) != std::string::npos;
}

class PairingRecorder final : public EventHandler {
 public:
  void on_event(const Event& e) override {
    if (debug_pairing) {
      std::ostringstream out;
      pop3test::dump_event(out, e);
      std::string text = out.str();
      fprintf(stderr, "%s", text.substr(0, text.find('\n') + 1).c_str());
      for (const AnomalyHit& a : e.anomalies)
        fprintf(stderr, "   ! %s\n", std::string(anomaly_name(a.anomaly)).c_str());
    }
    if (e.kind == EventKind::command) commands_[e.request_id] = e.offset;
    if (e.kind == EventKind::status && e.request_id != 0) {
      REQUIRE(commands_.count(e.request_id) == 1);
      result.answers[e.offset] = commands_[e.request_id];
    }
    if (e.kind == EventKind::status && (e.has_anomaly(Anomaly::RESPONSE_TO_LOST_COMMAND) ||
                                        e.has_anomaly(Anomaly::RESPONSE_PAIRING_UNCERTAIN)))
      ++result.unpaired_by_loss;
    if (e.kind == EventKind::skipped && e.has_anomaly(Anomaly::GAP)) {
      Gap g{e.direction, e.offset, e.length};
      if (!result.gaps.empty() && result.gaps.back().d == g.d &&
          result.gaps.back().offset + result.gaps.back().length == g.offset)
        result.gaps.back().length += g.length;
      else
        result.gaps.push_back(g);
    }
  }
  Pairings result;

 private:
  std::map<uint64_t, uint64_t> commands_;
};

// Feeds the Session without the acknowledgement hint (the plain feed API).
class HintlessSink final : public TcpSink {
 public:
  HintlessSink(Session& session, EventHandler& handler) : session_(session), handler_(handler) {}
  void feed(const TcpChunk& chunk) override {
    session_.feed(chunk.direction, chunk.bytes, handler_);
  }
  void gap(Direction d, uint64_t, uint64_t length) override { session_.gap(d, length, handler_); }
  void finish() override { session_.finish(handler_); }

 private:
  Session& session_;
  EventHandler& handler_;
};

Pairings pair_up(const Conversation& conv, const std::vector<Seg>& capture, bool hints) {
  Session session(conv.vector.options);
  for (const auto& [user, password] : conv.vector.passwords) session.add_password(user, password);
  PairingRecorder recorder;
  SessionSink with(session, recorder);
  HintlessSink without(session, recorder);
  TcpSink& sink = hints ? static_cast<TcpSink&>(with) : static_cast<TcpSink&>(without);
  TcpFollower follower;
  for (const Seg& s : capture) follower.add(to_tcp(conv, s), sink);
  follower.end(sink);
  return recorder.result;
}

std::vector<Gap> merged_losses(const std::map<uint64_t, uint64_t> (&lost)[2]) {
  std::vector<Gap> expected;
  for (Direction d : {C, S}) {
    for (const auto& [begin, end] : lost[index_of(d)]) {
      if (!expected.empty() && expected.back().d == d &&
          expected.back().offset + expected.back().length == begin)
        expected.back().length += end - begin;
      else
        expected.push_back({d, begin, end - begin});
    }
  }
  return expected;
}

std::vector<Gap> sorted_gaps(std::vector<Gap> gaps) {
  std::stable_sort(gaps.begin(), gaps.end(), [](const Gap& a, const Gap& b) {
    return index_of(a.d) != index_of(b.d) ? index_of(a.d) < index_of(b.d) : a.offset < b.offset;
  });
  std::vector<Gap> merged;
  for (const Gap& g : gaps) {
    if (!merged.empty() && merged.back().d == g.d &&
        merged.back().offset + merged.back().length == g.offset)
      merged.back().length += g.length;
    else
      merged.push_back(g);
  }
  return merged;
}

struct PairingTally {
  size_t wrong = 0;
  size_t kept = 0;      // lossless pairings still made
  size_t possible = 0;  // lossless pairings whose status line was not lost
};

// Every pairing of the lossy decode must be the lossless decode's.
void compare(const Pairings& truth, const Pairings& lossy, const std::map<uint64_t, uint64_t>& lost,
             PairingTally& tally, const std::string& what) {
  for (const auto& [answer, command] : lossy.answers) {
    INFO(what << ": answer at server offset " << answer);
    const auto it = truth.answers.find(answer);
    const bool right = it != truth.answers.end() && it->second == command;
    CHECK(right);
    tally.wrong += right ? 0 : 1;
  }
  for (const auto& [answer, command] : truth.answers) {
    const auto after = lost.upper_bound(answer);
    const bool answer_lost = after != lost.begin() && std::prev(after)->second > answer;
    if (answer_lost) continue;
    ++tally.possible;
    const auto it = lossy.answers.find(answer);
    tally.kept += it != lossy.answers.end() && it->second == command ? 1 : 0;
  }
}

}  // namespace

TEST_CASE("capture loss never pairs an answer with another command", "[tcp][pairing]") {
  PairingTally tally;
  size_t runs = 0;
  for (const std::string& path : real_vectors()) {
    const pop3test::Vector v = pop3test::load_vector(path);
    for (int seed = 0; seed < seeds() * 4; ++seed) {
      Rng rng(static_cast<uint32_t>(seed * 7919 + 11));
      const Conversation conv = build(v, rng, seed % 2 ? 1460 : 40, next32(rng), next32(rng));
      const Pairings truth = pair_up(conv, conv.segments, true);
      const int percent = 1 + seed % 5;
      std::vector<Seg> capture;
      std::map<uint64_t, uint64_t> lost[2];
      bool kept_one = false;
      for (const Seg& s : conv.segments) {
        if (is_data(s) && kept_one && std::uniform_int_distribution<int>(1, 100)(rng) <= percent) {
          lost[index_of(s.d)][s.offset] = s.offset + s.bytes.size();
          continue;
        }
        kept_one = kept_one || is_data(s);
        capture.push_back(s);
      }
      if (seed % 3 == 2) move_across(capture, rng, 4);
      const std::string what = path + " seed " + std::to_string(seed);
      debug_pairing = debug_run(what);
      const Pairings lossy = pair_up(conv, capture, true);
      debug_pairing = false;
      ++runs;
      compare(truth, lossy, lost[index_of(S)], tally, what);
      // Every loss is reported where it is.
      const std::vector<Gap> expected = merged_losses(lost);
      const std::vector<Gap> got = sorted_gaps(lossy.gaps);
      INFO(what);
      REQUIRE(got.size() == expected.size());
      for (size_t i = 0; i < got.size(); ++i) {
        CHECK(got[i].d == expected[i].d);
        CHECK(got[i].offset == expected[i].offset);
        CHECK(got[i].length == expected[i].length);
      }
    }
  }
  CHECK(tally.wrong == 0);
  const double kept = tally.possible ? double(tally.kept) / double(tally.possible) : 0;
  WARN("pairing under 1-5 % loss, with hints: " << tally.kept << " of " << tally.possible
                                                << " kept (" << kept * 100 << " %), " << runs
                                                << " runs");
  CHECK(kept > 0.8);
}

TEST_CASE("a lost server segment inside a pipelined burst shifts no pairing", "[tcp][pairing]") {
  PairingTally tally;
  size_t runs = 0;
  for (const std::string& path : real_vectors()) {
    if (path.find("pipelining") == std::string::npos) continue;
    const pop3test::Vector v = pop3test::load_vector(path);
    for (size_t max_segment : {20, 60, 1460}) {
      Rng rng(static_cast<uint32_t>(max_segment));
      const Conversation conv = build(v, rng, max_segment, next32(rng), next32(rng));
      const Pairings truth = pair_up(conv, conv.segments, true);
      // Each server data segment in turn (past the greeting), alone, is lost.
      for (size_t drop = handshake; drop < conv.segments.size(); ++drop) {
        const Seg& gone = conv.segments[drop];
        if (gone.d != S || !is_data(gone) || gone.offset == 0) continue;
        std::vector<Seg> capture = conv.segments;
        capture.erase(capture.begin() + static_cast<std::ptrdiff_t>(drop));
        std::map<uint64_t, uint64_t> lost{{gone.offset, gone.offset + gone.bytes.size()}};
        const std::string what = path + " without segment " + std::to_string(drop);
        debug_pairing = debug_run(what);
        const Pairings lossy = pair_up(conv, capture, true);
        debug_pairing = false;
        ++runs;
        compare(truth, lossy, lost, tally, what);
      }
    }
  }
  REQUIRE(runs > 0);
  CHECK(tally.wrong == 0);
  WARN("one server segment lost in pipelined captures: " << tally.kept << " of " << tally.possible
                                                         << " pairings kept, " << runs << " runs");
}

TEST_CASE("without hints, a lost client segment never shifts the pairing", "[tcp][pairing]") {
  PairingTally tally;
  size_t runs = 0;
  for (const std::string& path : real_vectors()) {
    const pop3test::Vector v = pop3test::load_vector(path);
    for (int seed = 0; seed < seeds() * 2; ++seed) {
      Rng rng(static_cast<uint32_t>(seed * 15485863 + 5));
      const Conversation conv = build(v, rng, seed % 2 ? 1460 : 40, next32(rng), next32(rng));
      const Pairings truth = pair_up(conv, conv.segments, false);
      // One client data segment, past the first, is lost.
      std::vector<size_t> client;
      for (size_t i = handshake; i < conv.segments.size(); ++i)
        if (conv.segments[i].d == C && is_data(conv.segments[i])) client.push_back(i);
      if (client.size() < 2) continue;
      const size_t drop = client[std::uniform_int_distribution<size_t>(1, client.size() - 1)(rng)];
      std::vector<Seg> capture = conv.segments;
      capture.erase(capture.begin() + static_cast<std::ptrdiff_t>(drop));
      const std::string what = path + " seed " + std::to_string(seed);
      debug_pairing = debug_run(what);
      const Pairings lossy = pair_up(conv, capture, false);
      debug_pairing = false;
      ++runs;
      compare(truth, lossy, {}, tally, what);
    }
  }
  REQUIRE(runs > 0);
  CHECK(tally.wrong == 0);
  WARN("one client segment lost, no hints: " << tally.kept << " of " << tally.possible
                                             << " pairings kept, " << runs << " runs");
}
