// libFuzzer target: the TCP conversation follower driving a Session. The input is a clean
// conversation (the bytes of each direction in their natural order, cut into segments with
// real sequence and acknowledgement numbers) and a program that mangles its capture: swaps,
// repeats, moves, overlapping retransmissions, losses, and hostile segments.
//
// Input layout:
//   byte 0: mode. bit 0: no handshake (the capture starts mid-stream, no SYN);
//           bits 1-2: bounds (roomy, default, 4096 bytes / 32 segments, 256 / 4);
//           bit 3: start_segments 1 instead of 4;
//           bit 4: loss_grace_segments 2 instead of 64 (roomy bounds: 0, never).
//   bytes 1-8: the initial sequence numbers of the client and the server (little endian).
//   then records separated by FF FE, up to FF FD: a control byte (bit 0 direction; bits 4-7 the
//   segment size, see segment_sizes) and the bytes that direction sends next.
//   after FF FD: the mangling program, three bytes per operation (see mangle()).
//
// Checked: every chunk and gap starts where the previous one of its direction ended; chunk
// bytes equal the clean stream at their offsets and lie inside the segment their tag names
// (when the origins come from SYNs and no foreign segment was injected); the acknowledgement
// hint never exceeds the other direction's offset and never decreases; buffered bytes and
// segments stay within the bounds after every segment; the sink is finished exactly once; a
// direction whose FIN was kept is covered entirely by chunks and gaps. When the capture is a
// permutation, with repeats and overlapping retransmissions but without loss or hostile
// segments, of a conversation with its handshake first, under roomy bounds, the Session's
// events equal the decode of the clean conversation (fed with the acknowledgement hints of
// its natural order) exactly.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "pop3decode/session.hpp"
#include "pop3decode/tcp.hpp"
#include "vector_runner.hpp"

namespace {

using namespace pop3decode;

constexpr std::array<size_t, 16> segment_sizes{1,  2,  3,   5,   8,   13,  16,   31,
                                               64, 99, 128, 255, 536, 999, 1460, 65535};

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "invariant violated: %s\n", what);
  std::abort();
}
void check(bool ok, const char* what) {
  if (!ok) fail(what);
}

size_t index_of(Direction d) {
  return static_cast<size_t>(d);
}

struct Seg {
  Direction d{};
  uint64_t offset = 0;
  std::string bytes;
  uint64_t acked = 0;
  bool peer_fin = false;  // the other direction's FIN was sent before this segment
  bool syn = false;
  bool fin = false;
  bool rst = false;
  bool has_ack = true;
  bool foreign = false;  // injected: its sequence and acknowledgement numbers are raw
  uint32_t raw_seq = 0;
  uint32_t raw_ack = 0;
  uint64_t tag = 0;
};

struct Conversation {
  std::string stream[2];
  std::vector<Seg> segments;  // natural order
  std::vector<std::pair<Direction, std::string>> chunks;
  uint32_t isn[2] = {0, 0};
};

TcpSegment to_tcp(const Conversation& conv, const Seg& seg) {
  TcpSegment t;
  t.direction = seg.d;
  const uint32_t isn = conv.isn[index_of(seg.d)];
  const uint32_t peer_isn = conv.isn[1 - index_of(seg.d)];
  t.seq = seg.foreign ? seg.raw_seq : seg.syn ? isn : isn + 1 + static_cast<uint32_t>(seg.offset);
  t.ack = seg.foreign ? seg.raw_ack
                      : peer_isn + 1 + static_cast<uint32_t>(seg.acked) + (seg.peer_fin ? 1 : 0);
  t.has_ack = seg.has_ack;
  t.syn = seg.syn;
  t.fin = seg.fin;
  t.rst = seg.rst;
  t.payload = seg.bytes;
  t.tag = seg.tag;
  return t;
}

class CheckingSink final : public TcpSink {
 public:
  CheckingSink(Session& session, EventHandler& handler, const Conversation& conv,
               const std::vector<Seg>& capture, bool exact_offsets)
      : inner_(session, handler), conv_(conv), capture_(capture), exact_(exact_offsets) {}

  void feed(const TcpChunk& chunk) override {
    const size_t d = index_of(chunk.direction);
    check(!finished_, "feed after finish");
    check(!chunk.bytes.empty(), "empty chunk");
    check(chunk.offset == offset_[d], "chunk not at the direction's offset");
    if (chunk.peer_acked != tcp_ack_unknown) {
      check(chunk.peer_acked <= offset_[1 - d], "hint beyond the other direction's offset");
      check(hint_[d] == tcp_ack_unknown || chunk.peer_acked >= hint_[d], "hint decreased");
      hint_[d] = chunk.peer_acked;
    }
    check(chunk.tag < capture_.size(), "unknown tag");
    const Seg& seg = capture_[chunk.tag];
    check(seg.d == chunk.direction, "tag of the other direction");
    if (exact_) {
      const std::string& stream = conv_.stream[d];
      check(chunk.offset + chunk.bytes.size() <= stream.size(), "chunk beyond the stream");
      check(stream.compare(chunk.offset, chunk.bytes.size(), chunk.bytes) == 0,
            "chunk bytes differ from the stream");
      check(seg.offset <= chunk.offset &&
                chunk.offset + chunk.bytes.size() <= seg.offset + seg.bytes.size(),
            "chunk outside its segment");
    }
    offset_[d] += chunk.bytes.size();
    inner_.feed(chunk);
  }
  void gap(Direction direction, uint64_t offset, uint64_t length) override {
    const size_t d = index_of(direction);
    check(!finished_, "gap after finish");
    check(length > 0, "empty gap");
    check(offset == offset_[d], "gap not at the direction's offset");
    offset_[d] += length;
    gaps_ += 1;
    inner_.gap(direction, offset, length);
  }
  void finish() override {
    check(!finished_, "finished twice");
    finished_ = true;
    inner_.finish();
  }

  uint64_t offset(size_t d) const { return offset_[d]; }
  bool finished() const { return finished_; }
  size_t gaps() const { return gaps_; }

 private:
  SessionSink inner_;
  const Conversation& conv_;
  const std::vector<Seg>& capture_;
  bool exact_;
  uint64_t offset_[2] = {0, 0};
  uint64_t hint_[2] = {tcp_ack_unknown, tcp_ack_unknown};
  bool finished_ = false;
  size_t gaps_ = 0;
};

uint32_t read32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

struct Program {
  bool lossless = true;    // no segment dropped, no hostile segment
  bool foreign = false;    // a segment with raw sequence numbers was injected
  bool bogus_ack = false;  // an acknowledgement of bytes never sent
};

// The mangling program: three bytes (op, a, b) per operation; indices are taken modulo the
// segment count (the handshake, when present, stays first). Overlapping retransmissions are
// added after the other operations, each after the last segment it covers, as a sender sends
// them.
Program mangle(const Conversation& conv, std::vector<Seg>& segs, std::string_view program,
               size_t fixed) {
  Program result;
  std::vector<std::array<uint8_t, 3>> overlaps;
  for (size_t i = 0; i + 3 <= program.size() && segs.size() > fixed; i += 3) {
    const auto op = static_cast<uint8_t>(program[i]);
    const auto a = static_cast<uint8_t>(program[i + 1]);
    const auto b = static_cast<uint8_t>(program[i + 2]);
    const size_t movable = segs.size() - fixed;
    const size_t x = fixed + a % movable;
    const size_t y = fixed + b % movable;
    switch (op % 8) {
      case 0: std::swap(segs[x], segs[y]); break;
      case 1: segs.insert(segs.begin() + static_cast<std::ptrdiff_t>(y), Seg(segs[x])); break;
      case 2: {  // move back by b (a response before its command)
        Seg moved = segs[x];
        segs.erase(segs.begin() + static_cast<std::ptrdiff_t>(x));
        const size_t to = x >= fixed + b ? x - b : fixed;
        segs.insert(segs.begin() + static_cast<std::ptrdiff_t>(to), moved);
        break;
      }
      case 3: overlaps.push_back({a, b, static_cast<uint8_t>(op >> 3)}); break;
      case 4:  // loss
        segs.erase(segs.begin() + static_cast<std::ptrdiff_t>(x));
        result.lossless = false;
        break;
      case 5:  // a wrong acknowledgement, or none
        if (op & 0x80) {
          segs[x].has_ack = !segs[x].has_ack;
        } else {
          segs[x].acked += b;
          result.bogus_ack = true;
        }
        result.lossless = false;
        break;
      case 6: {  // an RST, or a segment with raw numbers
        Seg injected;
        injected.d = a & 1 ? Direction::server_to_client : Direction::client_to_server;
        injected.tag = 0;
        if (op & 0x80) {
          injected.rst = true;
          injected.offset = conv.stream[index_of(injected.d)].size() * b / 255;
        } else {
          injected.foreign = true;
          injected.raw_seq = static_cast<uint32_t>(a) << 24 | static_cast<uint32_t>(b) << 3;
          injected.raw_ack = conv.isn[0] ^ conv.isn[1] ^ static_cast<uint32_t>(op) << 16;
          injected.bytes.assign(static_cast<size_t>(b) * 4 + 1, static_cast<char>(a));
          result.foreign = true;
        }
        segs.insert(segs.begin() + static_cast<std::ptrdiff_t>(y), injected);
        result.lossless = false;
        break;
      }
      case 7:  // more loss
        segs.erase(segs.begin() + static_cast<std::ptrdiff_t>(x));
        result.lossless = false;
        break;
    }
  }
  for (const auto& [a, b, c] : overlaps) {
    if (segs.size() <= fixed) break;
    const size_t i = fixed + a % (segs.size() - fixed);
    const Seg& first = segs[i];
    if (first.bytes.empty() || first.foreign) continue;
    const std::string& stream = conv.stream[index_of(first.d)];
    const uint64_t begin = first.offset + b % first.bytes.size();
    const uint64_t end = std::min<uint64_t>(stream.size(), begin + 1 + c * 97u);
    Seg copy;
    copy.d = first.d;
    copy.offset = begin;
    copy.bytes = stream.substr(begin, end - begin);
    size_t last = i;
    bool peer_fin = false;
    for (size_t k = 0; k < segs.size(); ++k) {
      const Seg& s = segs[k];
      if (s.d == copy.d && !s.foreign && !s.bytes.empty() && s.offset < end &&
          s.offset + s.bytes.size() > begin) {
        copy.acked = std::max(copy.acked, s.acked);
        peer_fin = peer_fin || s.peer_fin;
        last = std::max(last, k);
      }
    }
    copy.peer_fin = peer_fin;
    segs.insert(segs.begin() + static_cast<std::ptrdiff_t>(last + 1), copy);
  }
  return result;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 9) return 0;
  const uint8_t mode = data[0];
  const bool handshake = (mode & 1) == 0;
  Conversation conv;
  conv.isn[0] = read32(data + 1);
  conv.isn[1] = read32(data + 5);
  const std::string_view input(reinterpret_cast<const char*>(data) + 9, size - 9);
  const size_t program_at = input.find("\xff\xfd");
  const std::string_view records = input.substr(0, program_at);
  const std::string_view program =
      program_at == std::string_view::npos ? std::string_view{} : input.substr(program_at + 2);

  if (handshake) {
    Seg syn;
    syn.syn = true;
    syn.has_ack = false;
    conv.segments.push_back(syn);
    syn.d = Direction::server_to_client;
    syn.has_ack = true;
    conv.segments.push_back(syn);
  }
  size_t at = 0;
  while (at < records.size()) {
    size_t end = records.find("\xff\xfe", at);
    if (end == std::string_view::npos) end = records.size();
    const std::string_view record = records.substr(at, end - at);
    at = end + 2;
    if (record.empty()) continue;
    const auto control = static_cast<uint8_t>(record[0]);
    const Direction d = control & 1 ? Direction::server_to_client : Direction::client_to_server;
    const std::string_view bytes = record.substr(1);
    if (bytes.empty()) continue;
    conv.chunks.emplace_back(d, std::string(bytes));
    const size_t cut = segment_sizes[control >> 4];
    for (size_t from = 0; from < bytes.size(); from += cut) {
      Seg seg;
      seg.d = d;
      seg.offset = conv.stream[index_of(d)].size();
      seg.bytes = std::string(bytes.substr(from, cut));
      seg.acked = conv.stream[1 - index_of(d)].size();
      conv.stream[index_of(d)] += seg.bytes;
      conv.segments.push_back(std::move(seg));
    }
  }
  for (Direction d : {Direction::server_to_client, Direction::client_to_server}) {
    Seg fin;
    fin.d = d;
    fin.fin = true;
    fin.offset = conv.stream[index_of(d)].size();
    fin.acked = conv.stream[1 - index_of(d)].size();
    fin.peer_fin = d == Direction::client_to_server;
    conv.segments.push_back(fin);
  }

  std::vector<Seg> capture = conv.segments;
  const Program mangled = mangle(conv, capture, program, handshake ? 2 : 0);
  for (size_t i = 0; i < capture.size(); ++i) capture[i].tag = i;

  TcpOptions options;
  switch ((mode >> 1) & 3) {
    case 0:
      options.max_buffered_bytes = size_t{1} << 26;
      options.max_buffered_segments = size_t{1} << 22;
      break;
    case 1: break;
    case 2:
      options.max_buffered_bytes = 4096;
      options.max_buffered_segments = 32;
      break;
    case 3:
      options.max_buffered_bytes = 256;
      options.max_buffered_segments = 4;
      break;
  }
  if (mode & 8) options.start_segments = 1;
  const bool roomy = ((mode >> 1) & 3) == 0;
  // Roomy: any reordering distance decodes exactly, so nothing is taken as lost early.
  if (roomy)
    options.loss_grace_segments = 0;
  else if (mode & 16)
    options.loss_grace_segments = 2;
  const bool exact_offsets = handshake && !mangled.foreign && !mangled.bogus_ack;

  Session session;
  pop3test::Recorder recorder;
  CheckingSink sink(session, recorder, conv, capture, exact_offsets);
  TcpFollower follower(options);
  bool fin_kept[2] = {false, false};
  bool rst_seen = false;
  for (const Seg& seg : capture) {
    if (seg.fin) fin_kept[index_of(seg.d)] = true;
    rst_seen = rst_seen || seg.rst;
    follower.add(to_tcp(conv, seg), sink);
    check(follower.buffered_bytes() <= options.max_buffered_bytes, "buffered bytes over bound");
    check(follower.buffered_segments() <= options.max_buffered_segments,
          "buffered segments over bound");
    for (size_t d = 0; d < 2; ++d)
      check(follower.offset(static_cast<Direction>(d)) == sink.offset(d),
            "follower and sink offsets differ");
  }
  follower.end(sink);
  check(sink.finished(), "not finished after end()");
  check(follower.buffered_bytes() == 0 && follower.buffered_segments() == 0,
        "bytes left after end()");
  if (exact_offsets && !rst_seen) {
    for (size_t d = 0; d < 2; ++d) {
      check(sink.offset(d) <= conv.stream[d].size(), "offset beyond the stream");
      if (fin_kept[d])
        check(sink.offset(d) == conv.stream[d].size(), "stream not covered up to its FIN");
    }
  }
  if (handshake && roomy && mangled.lossless) {
    check(sink.gaps() == 0, "a gap without loss");
    Session clean;
    pop3test::Recorder expected;
    // With the hints the natural order gives: what the other direction had sent before.
    uint64_t sent[2] = {0, 0};
    for (const auto& [d, bytes] : conv.chunks) {
      clean.set_peer_acknowledged(d, sent[1 - index_of(d)]);
      clean.feed(d, bytes, expected);
      sent[index_of(d)] += bytes.size();
    }
    clean.finish(expected);
    const std::string want = expected.str();
    const std::string got = recorder.str();
    if (want != got) {
      if (std::getenv("POP3FUZZ_VERBOSE"))
        std::fprintf(stderr, "--- clean\n%s--- followed\n%s", want.c_str(), got.c_str());
      fail("events differ from the clean decode");
    }
  }
  return 0;
}
