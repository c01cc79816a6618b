// libFuzzer target: the decrypted-payload follower (DecryptedFollower, and pop3d_decrypted_* on
// odd inputs) given any sequence of TCP positions and decrypted runs, in any order, with any
// sequence and acknowledgement numbers.
//
// Input: byte 0: bounds (bits 0-1: roomy, default, 64 B / 3 runs, 1024 B / 16 runs), whether
// each direction is started (bits 2-3), C ABI (bit 4). Bytes 1-8: the two initial sequence
// numbers. Then operations, each: a control byte (bit 0: direction; bits 1-2: a run of
// decrypted bytes, the segment's position, both, or a flush; bit 3 ACK, bit 4 SYN, bit 5 FIN),
// 2 bytes sequence step (signed, from where that direction's cursor is), 2 bytes TCP length,
// 2 bytes acknowledgement step (signed, from the other direction's cursor), 1 byte run length,
// and the run's bytes.
//
// Checked: each direction's chunks are contiguous from the follower's starting offset and
// their bytes are that direction's runs, in the order given (none lost, none twice, none
// reordered); a chunk's hint never exceeds the other direction's offset fed and never
// decreases; the bytes and runs held stay within the bounds after every call; after a flush
// nothing is held and every run was fed; the follower's offsets are the bytes given.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "pop3decode/pop3decode.h"
#include "pop3decode/tcp.hpp"

using namespace pop3decode;

namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant failed: %s\n", what);
    std::abort();
  }
}

constexpr uint64_t base[2] = {17, 1000};

struct Checker {
  std::string given[2];  // every run given, per direction
  uint64_t fed[2] = {0, 0};
  uint64_t hint[2] = {tcp_ack_unknown, tcp_ack_unknown};

  void chunk(Direction direction, uint64_t offset, std::string_view bytes, uint64_t peer_acked) {
    const size_t d = static_cast<size_t>(direction);
    check(offset == base[d] + fed[d], "chunk not where the last one ended");
    check(!bytes.empty(), "empty chunk");
    check(fed[d] + bytes.size() <= given[d].size(), "more bytes fed than given");
    check(given[d].compare(fed[d], bytes.size(), bytes) == 0, "chunk bytes differ from the runs");
    if (peer_acked != tcp_ack_unknown) {
      check(peer_acked <= base[1 - d] + fed[1 - d], "hint beyond the other direction");
      check(hint[d] == tcp_ack_unknown || peer_acked >= hint[d], "hint decreased");
      hint[d] = peer_acked;
    }
    fed[d] += bytes.size();
  }
  bool all_fed() const { return fed[0] == given[0].size() && fed[1] == given[1].size(); }
};

class CheckingSink final : public TcpSink {
 public:
  explicit CheckingSink(Checker& checker) : checker_(checker) {}
  void feed(const TcpChunk& c) override {
    checker_.chunk(c.direction, c.offset, c.bytes, c.peer_acked);
  }
  void gap(Direction, uint64_t, uint64_t) override { check(false, "a gap"); }
  void finish() override { check(false, "finished"); }
  void notice(const TcpNotice& n) override {
    check(n.kind == TcpNoticeKind::ack_unmet, "unexpected notice");
  }

 private:
  Checker& checker_;
};

int on_report(void* user, const pop3d_tcp_report* r) {
  auto* checker = static_cast<Checker*>(user);
  if (r->kind == POP3D_TCP_CHUNK) {
    check(r->direction < 2, "bad direction");
    // The bytes themselves go to the session; check their place and hint here.
    const size_t d = r->direction;
    check(r->offset == base[d] + checker->fed[d], "C chunk not where the last one ended");
    check(checker->fed[d] + r->length <= checker->given[d].size(), "C: more bytes than given");
    if (r->peer_acked != POP3D_TCP_ACK_UNKNOWN) {
      check(r->peer_acked <= base[1 - d] + checker->fed[1 - d], "C hint beyond the other side");
      check(checker->hint[d] == tcp_ack_unknown || r->peer_acked >= checker->hint[d],
            "C hint decreased");
      checker->hint[d] = r->peer_acked;
    }
    checker->fed[d] += r->length;
  } else {
    check(r->kind == POP3D_TCP_NOTICE && r->notice == POP3D_TCP_NOTICE_ACK_UNMET,
          "unexpected C report");
  }
  return 0;
}

struct Reader {
  const uint8_t* data;
  size_t size;
  size_t at = 0;
  bool more() const { return at < size; }
  uint8_t byte() { return at < size ? data[at++] : 0; }
  uint16_t u16() {
    const uint16_t hi = byte();
    return static_cast<uint16_t>(hi << 8 | byte());
  }
  uint32_t u32() {
    const uint32_t hi = u16();
    return hi << 16 | u16();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Reader in{data, size};
  const uint8_t mode = in.byte();
  TcpOptions options;
  switch (mode & 3) {
    case 0:
      options.max_buffered_bytes = size_t{1} << 24;
      options.max_buffered_segments = 1 << 20;
      break;
    case 1: break;
    case 2:
      options.max_buffered_bytes = 64;
      options.max_buffered_segments = 3;
      break;
    default:
      options.max_buffered_bytes = 1024;
      options.max_buffered_segments = 16;
      break;
  }
  const bool c_abi = (mode & 0x10) != 0;
  uint32_t cursor[2] = {in.u32(), in.u32()};

  Checker checker;
  CheckingSink sink(checker);
  DecryptedFollower follower(options, base[0], base[1]);
  pop3d_session* session = nullptr;
  pop3d_decrypted* dec = nullptr;
  if (c_abi) {
    session = pop3d_session_new(nullptr);
    check(session != nullptr, "no session");
    // The session's offsets are where the follower starts: feed it base[] bytes first.
    const std::string client(base[0], 'x'), server(base[1], 'y');
    pop3d_session_feed(session, POP3D_CLIENT_TO_SERVER,
                       reinterpret_cast<const uint8_t*>(client.data()), client.size(), nullptr,
                       nullptr);
    pop3d_session_feed(session, POP3D_SERVER_TO_CLIENT,
                       reinterpret_cast<const uint8_t*>(server.data()), server.size(), nullptr,
                       nullptr);
    pop3d_tcp_options c_options;
    pop3d_tcp_options_init(&c_options);
    c_options.max_buffered_bytes = options.max_buffered_bytes;
    c_options.max_buffered_segments = options.max_buffered_segments;
    dec = pop3d_decrypted_new(session, &c_options);
    check(dec != nullptr, "no follower");
  }
  for (size_t d = 0; d < 2; ++d) {
    if (!(mode & (4u << d))) continue;
    if (c_abi)
      check(pop3d_decrypted_start(dec, static_cast<uint32_t>(d), cursor[d]) == POP3D_OK, "start");
    else
      follower.start(static_cast<Direction>(d), cursor[d]);
  }

  while (in.more()) {
    const uint8_t control = in.byte();
    const size_t d = control & 1;
    const int kind = (control >> 1) & 3;
    TcpPosition p;
    p.direction = static_cast<Direction>(d);
    p.seq = cursor[d] + static_cast<uint32_t>(static_cast<int16_t>(in.u16()));
    p.length = in.u16();
    p.ack = cursor[1 - d] + static_cast<uint32_t>(static_cast<int16_t>(in.u16()));
    p.has_ack = (control & 8) != 0;
    p.syn = (control & 16) != 0;
    p.fin = (control & 32) != 0;
    p.tag = in.at;
    const size_t run_length = std::min<size_t>(in.byte(), in.size - in.at);
    const std::string_view run(reinterpret_cast<const char*>(in.data + in.at), run_length);
    in.at += run_length;
    cursor[d] = p.seq + p.length;
    pop3d_tcp_segment seg;
    std::memset(&seg, 0, sizeof seg);
    seg.direction = static_cast<uint32_t>(d);
    seg.flags =
        (p.has_ack ? POP3D_TCP_ACK : 0) | (p.syn ? POP3D_TCP_SYN : 0) | (p.fin ? POP3D_TCP_FIN : 0);
    seg.seq = p.seq;
    seg.ack = p.ack;
    seg.payload_length = p.length;
    seg.tag = p.tag;
    if ((kind == 0 || kind == 2) && !run.empty()) {
      checker.given[d].append(run);
      if (c_abi)
        check(pop3d_decrypted_add(dec, &seg, reinterpret_cast<const uint8_t*>(run.data()),
                                  run.size(), nullptr, on_report, &checker) == POP3D_OK,
              "add failed");
      else
        follower.decrypted(p, run, sink);
    }
    if (kind == 1 || kind == 2) {
      if (c_abi)
        check(pop3d_decrypted_segment(dec, &seg, nullptr, on_report, &checker) == POP3D_OK,
              "segment failed");
      else
        follower.segment(p, sink);
    }
    if (kind == 3) {
      if (c_abi)
        check(pop3d_decrypted_flush(dec, nullptr, on_report, &checker) == POP3D_OK, "flush");
      else
        follower.flush(sink);
      check(checker.all_fed(), "a flush left runs held");
    }
    if (c_abi) {
      check(pop3d_decrypted_buffered_bytes(dec) <= options.max_buffered_bytes, "bytes over bound");
      pop3d_decrypted_reached(dec, static_cast<uint32_t>(d), p.seq);
      check(pop3d_decrypted_offset(dec, static_cast<uint32_t>(d)) ==
                base[d] + checker.given[d].size(),
            "C offset is not the bytes given");
    } else {
      check(follower.buffered_bytes() <= options.max_buffered_bytes, "bytes over bound");
      check(follower.buffered_runs() <= options.max_buffered_segments, "runs over bound");
      follower.reached(p.direction, p.ack);
      check(follower.offset(p.direction) == base[d] + checker.given[d].size(),
            "offset is not the bytes given");
    }
  }
  if (c_abi) {
    check(pop3d_decrypted_flush(dec, nullptr, on_report, &checker) == POP3D_OK, "final flush");
    check(pop3d_decrypted_buffered_bytes(dec) == 0, "held after the flush");
    pop3d_decrypted_free(dec);
    pop3d_session_free(session);
  } else {
    follower.flush(sink);
    check(follower.buffered_bytes() == 0 && follower.buffered_runs() == 0, "held after flush");
  }
  check(checker.all_fed(), "runs never fed");
  return 0;
}
