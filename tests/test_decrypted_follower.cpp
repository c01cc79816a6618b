// The decrypted-payload follower: real conversations (the client and server bytes of
// tests/vectors/real-*.vec) carried as TLS would carry them (a handshake without plaintext,
// records of random sizes with their overhead, records split over two segments and handed over
// on the second, several records in one segment), with real sequence and acknowledgement
// numbers; then captured with answers before their commands. The Session's events must equal the
// natural-order decode exactly.
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "catch_compat.hpp"
#include "pop3decode/pop3decode.h"
#include "pop3decode/session.hpp"
#include "pop3decode/tcp.hpp"
#include "vector_runner.hpp"

using namespace pop3decode;

namespace {

using Rng = std::mt19937;
constexpr Direction C = Direction::client_to_server;
constexpr Direction S = Direction::server_to_client;
size_t index_of(Direction d) {
  return static_cast<size_t>(d);
}
constexpr uint32_t record_overhead = 22;

// One TCP segment: its place in the encrypted stream and the plaintext TLS hands over on it.
struct Seg {
  Direction d{};
  uint64_t offset = 0;  // TCP stream offset of the payload
  uint32_t length = 0;  // TCP payload length
  uint64_t acked = 0;   // TCP bytes of the other direction the sender had received
  bool syn = false;
  std::vector<std::string> runs;
  uint64_t tag = 0;
};

struct Conversation {
  pop3test::Vector vector;
  std::vector<Seg> segments;                 // natural order
  uint32_t isn[2] = {0x1000u, 0xfffff000u};  // the server's wraps
  // Per direction: TCP offset after each segment that completed records -> plaintext so far.
  std::map<uint64_t, uint64_t> plaintext_at[2];
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

Conversation build(const pop3test::Vector& v, Rng& rng, size_t max_record) {
  Conversation conv;
  conv.vector = v;
  uint64_t tcp[2] = {0, 0};
  uint64_t plain[2] = {0, 0};
  auto push = [&](Direction d, uint32_t length, std::vector<std::string> runs) {
    Seg seg;
    seg.d = d;
    seg.offset = tcp[index_of(d)];
    seg.length = length;
    seg.acked = tcp[1 - index_of(d)];
    for (const std::string& r : runs) plain[index_of(d)] += r.size();
    seg.runs = std::move(runs);
    tcp[index_of(d)] += length;
    if (!seg.runs.empty()) conv.plaintext_at[index_of(d)][tcp[index_of(d)]] = plain[index_of(d)];
    conv.segments.push_back(std::move(seg));
  };
  Seg syn;
  syn.syn = true;
  syn.d = C;
  conv.segments.push_back(syn);
  syn.d = S;
  conv.segments.push_back(syn);
  // The handshake: records without plaintext.
  push(C, 517, {});
  push(S, 1460, {});
  push(S, 300, {});
  push(C, 80, {});
  for (const pop3test::Chunk& chunk : v.chunks) {
    REQUIRE(chunk.gap == 0);
    size_t at = 0;
    while (at < chunk.bytes.size()) {
      const size_t size = std::min<size_t>(
          chunk.bytes.size() - at, std::uniform_int_distribution<size_t>(1, max_record)(rng));
      const std::string record = chunk.bytes.substr(at, size);
      at += size;
      const uint32_t length = static_cast<uint32_t>(record.size()) + record_overhead;
      const int shape = std::uniform_int_distribution<int>(0, 3)(rng);
      if (shape == 0 && length > 2) {  // split over two segments, handed over on the second
        const uint32_t first = std::uniform_int_distribution<uint32_t>(1, length - 1)(rng);
        push(chunk.direction, first, {});
        push(chunk.direction, length - first, {record});
      } else if (shape == 1 && at < chunk.bytes.size()) {  // two records in one segment
        const size_t more = std::min<size_t>(chunk.bytes.size() - at, max_record);
        const std::string second = chunk.bytes.substr(at, more);
        at += more;
        push(chunk.direction, length + static_cast<uint32_t>(second.size()) + record_overhead,
             {record, second});
      } else {
        push(chunk.direction, length, {record});
      }
    }
  }
  for (size_t i = 0; i < conv.segments.size(); ++i) conv.segments[i].tag = 1000 + i;
  return conv;
}

TcpPosition to_position(const Conversation& conv, const Seg& seg) {
  TcpPosition p;
  p.direction = seg.d;
  const uint32_t isn = conv.isn[index_of(seg.d)];
  const uint32_t peer_isn = conv.isn[1 - index_of(seg.d)];
  p.seq = seg.syn ? isn : isn + 1 + static_cast<uint32_t>(seg.offset);
  p.length = seg.length;
  p.ack = peer_isn + 1 + static_cast<uint32_t>(seg.acked);
  p.has_ack = !(seg.syn && seg.d == C);
  p.syn = seg.syn;
  p.tag = seg.tag;
  return p;
}

// Forwards to a SessionSink and checks what every sink may rely on.
class CheckingSink final : public TcpSink {
 public:
  CheckingSink(Session& session, EventHandler& handler, uint64_t client_base = 0,
               uint64_t server_base = 0)
      : inner_(session, handler) {
    offset_[index_of(C)] = client_base;
    offset_[index_of(S)] = server_base;
  }
  void feed(const TcpChunk& chunk) override {
    const size_t d = index_of(chunk.direction);
    REQUIRE(chunk.offset == offset_[d]);
    REQUIRE(!chunk.bytes.empty());
    if (chunk.peer_acked != tcp_ack_unknown) {
      REQUIRE(chunk.peer_acked <= offset_[1 - d]);
      if (hint_[d] != tcp_ack_unknown) REQUIRE(chunk.peer_acked >= hint_[d]);
      hint_[d] = chunk.peer_acked;
    }
    hints.push_back({chunk.tag, chunk.peer_acked});
    offset_[d] += chunk.bytes.size();
    inner_.feed(chunk);
  }
  void gap(Direction, uint64_t, uint64_t) override { FAIL("the follower gives no gaps"); }
  void finish() override { inner_.finish(); }
  void notice(const TcpNotice& n) override { notices.push_back(n); }
  uint64_t offset(Direction d) const { return offset_[index_of(d)]; }

  std::vector<TcpNotice> notices;
  std::vector<std::pair<uint64_t, uint64_t>> hints;  // tag, peer_acked

 private:
  SessionSink inner_;
  uint64_t offset_[2] = {0, 0};
  uint64_t hint_[2] = {tcp_ack_unknown, tcp_ack_unknown};
};

struct Result {
  std::string events;
  std::vector<TcpNotice> notices;
  std::vector<std::pair<uint64_t, uint64_t>> hints;
};

Result follow(const Conversation& conv, const std::vector<Seg>& capture, TcpOptions options = {}) {
  Session session(conv.vector.options);
  for (const auto& [user, password] : conv.vector.passwords) session.add_password(user, password);
  pop3test::Recorder recorder;
  CheckingSink sink(session, recorder);
  DecryptedFollower follower(options);
  for (const Seg& seg : capture) {
    const TcpPosition p = to_position(conv, seg);
    for (const std::string& run : seg.runs) follower.decrypted(p, run, sink);
    follower.segment(p, sink);
    REQUIRE(follower.buffered_bytes() <= options.max_buffered_bytes);
    REQUIRE(follower.buffered_runs() <= options.max_buffered_segments);
  }
  follower.flush(sink);
  REQUIRE(follower.buffered_bytes() == 0);
  sink.finish();
  return Result{recorder.str(), sink.notices, sink.hints};
}

// Answers captured before their commands, as from two one-way taps: a segment moves before
// 1-6 segments of the other direction that preceded it (TLS hands each direction's plaintext
// over in stream order, so a direction's own segments keep their order).
void move_across(std::vector<Seg>& segs, Rng& rng, int count) {
  constexpr size_t handshake = 2;
  for (int n = 0; n < count; ++n) {
    const size_t i = std::uniform_int_distribution<size_t>(handshake + 1, segs.size() - 1)(rng);
    size_t j = i;
    const size_t back = std::uniform_int_distribution<size_t>(1, 6)(rng);
    for (size_t k = 0; k < back && j > handshake && segs[j - 1].d != segs[i].d; ++k) --j;
    Seg moved = segs[i];
    segs.erase(segs.begin() + static_cast<std::ptrdiff_t>(i));
    segs.insert(segs.begin() + static_cast<std::ptrdiff_t>(j), moved);
  }
}

}  // namespace

TEST_CASE("decrypted runs in natural order decode as the byte stream does", "[decrypted]") {
  for (const std::string& path : real_vectors()) {
    const pop3test::Vector v = pop3test::load_vector(path);
    Rng rng(3);
    const Conversation conv = build(v, rng, 300);
    INFO(path);
    const Result result = follow(conv, conv.segments);
    CHECK(result.events == pop3test::replay(v, {}));
    CHECK(result.notices.empty());
    // Each chunk's hint is the plaintext of the records its segment acknowledged whole.
    std::map<uint64_t, const Seg*> by_tag;
    for (const Seg& s : conv.segments) by_tag[s.tag] = &s;
    for (const auto& [tag, hint] : result.hints) {
      const Seg& seg = *by_tag[tag];
      const auto& peer = conv.plaintext_at[1 - index_of(seg.d)];
      auto it = peer.upper_bound(seg.acked);
      const uint64_t expected = it == peer.begin() ? 0 : std::prev(it)->second;
      CHECK(hint == expected);
    }
  }
}

TEST_CASE("answers decrypted before their commands decode as in the natural order", "[decrypted]") {
  const auto paths = real_vectors();
  REQUIRE(paths.size() > 10);
  for (const std::string& path : paths) {
    const pop3test::Vector v = pop3test::load_vector(path);
    const std::string expected = pop3test::replay(v, {});
    for (int seed = 0; seed < 6; ++seed) {
      Rng rng(static_cast<uint32_t>(seed * 7919 + 5));
      const Conversation conv = build(v, rng, seed % 2 ? 2000 : 30);
      std::vector<Seg> capture = conv.segments;
      move_across(capture, rng, 3 + seed * 3);
      INFO(path << " seed " << seed);
      const Result result = follow(conv, capture);
      CHECK(result.events == expected);
      CHECK(result.notices.empty());
    }
  }
}

TEST_CASE("the decrypted-payload follower stays within its bounds", "[decrypted][hostile]") {
  const auto paths = real_vectors();
  REQUIRE(!paths.empty());
  const pop3test::Vector v = pop3test::load_vector(paths.front());
  Rng rng(11);
  const Conversation conv = build(v, rng, 40);
  // Every server segment first, so the server's runs wait for the client's.
  std::vector<Seg> capture(conv.segments.begin(), conv.segments.begin() + 2);
  for (const Seg& s : conv.segments)
    if (!s.syn && s.d == S) capture.push_back(s);
  for (const Seg& s : conv.segments)
    if (!s.syn && s.d == C) capture.push_back(s);
  TcpOptions tight;
  tight.max_buffered_bytes = 64;
  tight.max_buffered_segments = 3;
  const Result result = follow(conv, capture, tight);  // checks the bounds after every call
  CHECK(!result.notices.empty());
  for (const TcpNotice& n : result.notices) CHECK(n.kind == TcpNoticeKind::ack_unmet);

  // Acknowledgements of bytes never sent wait only until the bounds or the end.
  Session session(v.options);
  pop3test::Recorder recorder;
  CheckingSink sink(session, recorder);
  DecryptedFollower follower(tight);
  follower.start(C, 100);
  follower.start(S, 5000);
  TcpPosition p;
  p.direction = S;
  p.seq = 5000;
  p.length = 30;
  p.ack = 100 + 50;
  p.has_ack = true;
  follower.decrypted(p, "+OK ready\r\n", sink);
  follower.segment(p, sink);
  CHECK(sink.offset(S) == 0);
  CHECK(follower.buffered_bytes() == 11);
  CHECK(!follower.reached(S, 5030));
  CHECK(follower.reached(S, 5000));
  p.ack = 100 + (1u << 31);  // garbage: far beyond anything the client sent
  p.seq = 5030;
  follower.decrypted(p, "+OK again\r\n", sink);
  follower.flush(sink);
  CHECK(sink.offset(S) == 22);
  CHECK(follower.buffered_bytes() == 0);
}

TEST_CASE("decrypted stream offsets go on from the cleartext before STARTTLS", "[decrypted]") {
  pop3decode::Options options;
  Session session(options);
  pop3test::Recorder recorder;
  session.feed(S, "+OK ready\r\n", recorder);
  session.feed(C, "STLS\r\n", recorder);
  session.feed(S, "+OK Begin TLS\r\n", recorder);
  CheckingSink sink(session, recorder, 6, 26);
  DecryptedFollower follower({}, 6, 26);
  follower.start(C, 1006);
  follower.start(S, 2026);
  // The handshake, then the answer to CAPA captured before CAPA.
  TcpPosition hello{C, 1006, 300, 2026, true, false, false, 1};
  follower.segment(hello, sink);
  TcpPosition server_hello{S, 2026, 900, 1306, true, false, false, 2};
  follower.segment(server_hello, sink);
  TcpPosition answer{S, 2926, 40, 1306 + 28, true, false, false, 4};
  follower.decrypted(answer, "+OK\r\nTOP\r\n.\r\n", sink);
  follower.segment(answer, sink);
  CHECK(sink.offset(S) == 26);  // waits for CAPA
  TcpPosition capa{C, 1306, 28, 2926, true, false, false, 3};
  follower.decrypted(capa, "CAPA\r\n", sink);
  follower.segment(capa, sink);
  CHECK(sink.offset(C) == 12);
  CHECK(sink.offset(S) == 39);
  REQUIRE(sink.hints.size() == 2);
  CHECK(sink.hints[0] == std::make_pair(uint64_t{3}, uint64_t{26}));  // CAPA: all the server's
  CHECK(sink.hints[1] == std::make_pair(uint64_t{4}, uint64_t{12}));  // its answer: CAPA's
  const std::string events = recorder.str();
  CHECK(events.find("CAPA") < events.find("TOP"));
}

TEST_CASE("the C ABI orders decrypted runs like the C++ follower", "[decrypted]") {
  pop3d_options options;
  pop3d_options_init(&options);
  options.implicit_tls = 1;
  pop3d_session* session = pop3d_session_new(&options);
  REQUIRE(session != nullptr);
  pop3d_decrypted* dec = pop3d_decrypted_new(session, nullptr);
  REQUIRE(dec != nullptr);
  CHECK(pop3d_decrypted_start(dec, POP3D_CLIENT_TO_SERVER, 100) == POP3D_OK);
  CHECK(pop3d_decrypted_start(dec, POP3D_SERVER_TO_CLIENT, 500) == POP3D_OK);
  CHECK(pop3d_decrypted_start(dec, 2, 0) == POP3D_ERR_INVALID_ARGUMENT);

  struct Log {
    std::vector<uint32_t> kinds;
    std::vector<uint64_t> tags;
  } log;
  auto on_event = [](void* user, const pop3d_event* ev) -> int {
    static_cast<Log*>(user)->kinds.push_back(ev->kind);
    return 0;
  };
  auto on_report = [](void* user, const pop3d_tcp_report* r) -> int {
    if (r->kind == POP3D_TCP_CHUNK) static_cast<Log*>(user)->tags.push_back(r->tag);
    return 0;
  };
  const char greeting[] = "+OK ready\r\n";
  const char stat[] = "STAT\r\n";
  const char answer[] = "+OK 1 10\r\n";
  pop3d_tcp_segment seg;
  std::memset(&seg, 0, sizeof seg);
  seg.direction = POP3D_SERVER_TO_CLIENT;
  seg.flags = POP3D_TCP_ACK;
  seg.seq = 500;
  seg.payload_length = 33;
  seg.ack = 100;
  seg.tag = 1;
  CHECK(pop3d_decrypted_add(dec, &seg, reinterpret_cast<const uint8_t*>(greeting),
                            sizeof greeting - 1, on_event, on_report, &log) == POP3D_OK);
  CHECK(pop3d_decrypted_segment(dec, &seg, on_event, on_report, &log) == POP3D_OK);
  // The answer to STAT, captured before STAT.
  seg.seq = 533;
  seg.payload_length = 32;
  seg.ack = 128;
  seg.tag = 3;
  CHECK(pop3d_decrypted_add(dec, &seg, reinterpret_cast<const uint8_t*>(answer), sizeof answer - 1,
                            on_event, on_report, &log) == POP3D_OK);
  CHECK(pop3d_decrypted_segment(dec, &seg, on_event, on_report, &log) == POP3D_OK);
  CHECK(pop3d_decrypted_buffered_bytes(dec) == sizeof answer - 1);
  CHECK(pop3d_decrypted_reached(dec, POP3D_SERVER_TO_CLIENT, 533) == 1);
  CHECK(pop3d_decrypted_reached(dec, POP3D_SERVER_TO_CLIENT, 565) == 0);
  CHECK(pop3d_decrypted_offset(dec, POP3D_SERVER_TO_CLIENT) == 21);
  seg.direction = POP3D_CLIENT_TO_SERVER;
  seg.seq = 100;
  seg.payload_length = 28;
  seg.ack = 533;
  seg.tag = 2;
  CHECK(pop3d_decrypted_add(dec, &seg, reinterpret_cast<const uint8_t*>(stat), sizeof stat - 1,
                            on_event, on_report, &log) == POP3D_OK);
  CHECK(pop3d_decrypted_segment(dec, &seg, on_event, on_report, &log) == POP3D_OK);
  CHECK(pop3d_decrypted_buffered_bytes(dec) == 0);
  CHECK(log.tags == std::vector<uint64_t>{1, 2, 3});
  const auto command = std::find(log.kinds.begin(), log.kinds.end(), POP3D_EVENT_COMMAND);
  REQUIRE(command != log.kinds.end());
  CHECK(std::count(command, log.kinds.end(), POP3D_EVENT_STATUS) == 1);
  CHECK(pop3d_decrypted_add(dec, nullptr, nullptr, 0, nullptr, nullptr, nullptr) ==
        POP3D_ERR_INVALID_ARGUMENT);
  CHECK(pop3d_decrypted_flush(nullptr, nullptr, nullptr, nullptr) == POP3D_ERR_INVALID_ARGUMENT);
  pop3d_decrypted_free(dec);
  pop3d_session_free(session);
}
