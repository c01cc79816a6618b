// The C ABI of the TCP conversation follower. It drives the borrowed pop3d_session through the
// session's own C functions, so events reach C exactly as they do from pop3d_session_feed.
#include <new>

#include "pop3decode/pop3decode.h"
#include "pop3decode/tcp.hpp"

struct pop3d_tcp {
  pop3decode::TcpFollower follower;
  pop3d_session* session;
};

struct pop3d_decrypted {
  pop3decode::DecryptedFollower follower;
  pop3d_session* session;
};

namespace {

using pop3decode::Direction;

// Reports to the C callback, then feeds the session; remembers the first failure.
class CallbackSink final : public pop3decode::TcpSink {
 public:
  CallbackSink(pop3d_session* session, pop3d_event_callback events,
               pop3d_tcp_report_callback reports, void* user_data)
      : session_(session), events_(events), reports_(reports), user_data_(user_data) {}

  void feed(const pop3decode::TcpChunk& chunk) override {
    if (!report(POP3D_TCP_CHUNK, chunk.direction, chunk.offset, chunk.bytes.size(),
                chunk.peer_acked, chunk.tag, 0))
      return;
    keep(pop3d_session_set_peer_acked(session_, static_cast<uint32_t>(chunk.direction),
                                      chunk.peer_acked));
    keep(pop3d_session_feed(session_, static_cast<uint32_t>(chunk.direction),
                            reinterpret_cast<const uint8_t*>(chunk.bytes.data()),
                            chunk.bytes.size(), events_, user_data_));
  }
  void gap(Direction direction, uint64_t offset, uint64_t length) override {
    if (!report(POP3D_TCP_GAP, direction, offset, length, POP3D_TCP_ACK_UNKNOWN, 0, 0)) return;
    keep(
        pop3d_session_gap(session_, static_cast<uint32_t>(direction), length, events_, user_data_));
  }
  void finish() override {
    if (!report(POP3D_TCP_FINISH, Direction::client_to_server, 0, 0, POP3D_TCP_ACK_UNKNOWN, 0, 0))
      return;
    keep(pop3d_session_finish(session_, events_, user_data_));
  }
  void notice(const pop3decode::TcpNotice& n) override {
    report(POP3D_TCP_NOTICE, n.direction, n.offset, n.length, POP3D_TCP_ACK_UNKNOWN, n.tag,
           static_cast<uint32_t>(n.kind));
  }

  int status() const noexcept { return status_; }

 private:
  bool report(uint32_t kind, Direction direction, uint64_t offset, uint64_t length,
              uint64_t peer_acked, uint64_t tag, uint32_t notice) {
    if (status_ != POP3D_OK) return false;
    if (reports_ == nullptr) return true;
    const pop3d_tcp_report r{
        kind, static_cast<uint32_t>(direction), offset, length, peer_acked, tag, notice};
    if (reports_(user_data_, &r) != 0) status_ = POP3D_ERR_CALLBACK;
    return status_ == POP3D_OK;
  }
  void keep(int status) noexcept {
    if (status_ == POP3D_OK) status_ = status;
  }

  pop3d_session* session_;
  pop3d_event_callback events_;
  pop3d_tcp_report_callback reports_;
  void* user_data_;
  int status_ = POP3D_OK;
};

template <typename Body>
int guarded(Body&& body) noexcept {
  try {
    return body();
  } catch (...) {
    // Only allocation can fail in the follower.
    return POP3D_ERR_NO_MEMORY;
  }
}

pop3decode::TcpPosition position_of(const pop3d_tcp_segment& segment) noexcept {
  pop3decode::TcpPosition p;
  p.direction = static_cast<Direction>(segment.direction);
  p.seq = segment.seq;
  p.length = static_cast<uint32_t>(segment.payload_length);
  p.ack = segment.ack;
  p.has_ack = (segment.flags & POP3D_TCP_ACK) != 0;
  p.syn = (segment.flags & POP3D_TCP_SYN) != 0;
  p.fin = (segment.flags & POP3D_TCP_FIN) != 0;
  p.tag = segment.tag;
  return p;
}

}  // namespace

extern "C" {

POP3D_EXPORT void pop3d_tcp_options_init(pop3d_tcp_options* options) noexcept {
  if (options == nullptr) return;
  const pop3decode::TcpOptions defaults;
  options->max_buffered_bytes = defaults.max_buffered_bytes;
  options->max_buffered_segments = defaults.max_buffered_segments;
  options->start_segments = defaults.start_segments;
}

POP3D_EXPORT pop3d_tcp* pop3d_tcp_new(pop3d_session* session,
                                      const pop3d_tcp_options* options) noexcept {
  if (session == nullptr) return nullptr;
  pop3decode::TcpOptions tcp_options;
  if (options != nullptr) {
    tcp_options.max_buffered_bytes = options->max_buffered_bytes;
    tcp_options.max_buffered_segments = options->max_buffered_segments;
    tcp_options.start_segments = options->start_segments;
  }
  try {
    return new pop3d_tcp{pop3decode::TcpFollower(tcp_options), session};
  } catch (...) {
    return nullptr;
  }
}

POP3D_EXPORT void pop3d_tcp_free(pop3d_tcp* tcp) noexcept {
  delete tcp;
}

POP3D_EXPORT int pop3d_tcp_add(pop3d_tcp* tcp, const pop3d_tcp_segment* segment,
                               pop3d_event_callback event_callback,
                               pop3d_tcp_report_callback report_callback,
                               void* user_data) noexcept {
  if (tcp == nullptr || segment == nullptr || segment->direction > 1 ||
      (segment->payload == nullptr && segment->payload_length > 0))
    return POP3D_ERR_INVALID_ARGUMENT;
  return guarded([&] {
    pop3decode::TcpSegment s;
    s.direction = static_cast<Direction>(segment->direction);
    s.seq = segment->seq;
    s.ack = segment->ack;
    s.has_ack = (segment->flags & POP3D_TCP_ACK) != 0;
    s.syn = (segment->flags & POP3D_TCP_SYN) != 0;
    s.fin = (segment->flags & POP3D_TCP_FIN) != 0;
    s.rst = (segment->flags & POP3D_TCP_RST) != 0;
    s.payload =
        std::string_view(reinterpret_cast<const char*>(segment->payload), segment->payload_length);
    s.tag = segment->tag;
    CallbackSink sink(tcp->session, event_callback, report_callback, user_data);
    tcp->follower.add(s, sink);
    return sink.status();
  });
}

POP3D_EXPORT int pop3d_tcp_end(pop3d_tcp* tcp, pop3d_event_callback event_callback,
                               pop3d_tcp_report_callback report_callback,
                               void* user_data) noexcept {
  if (tcp == nullptr) return POP3D_ERR_INVALID_ARGUMENT;
  return guarded([&] {
    CallbackSink sink(tcp->session, event_callback, report_callback, user_data);
    tcp->follower.end(sink);
    return sink.status();
  });
}

POP3D_EXPORT int pop3d_tcp_ended(const pop3d_tcp* tcp) noexcept {
  return tcp && tcp->follower.ended() ? 1 : 0;
}

POP3D_EXPORT uint64_t pop3d_tcp_offset(const pop3d_tcp* tcp, uint32_t direction) noexcept {
  if (tcp == nullptr || direction > 1) return 0;
  return tcp->follower.offset(static_cast<Direction>(direction));
}

POP3D_EXPORT int pop3d_tcp_stream_offset(const pop3d_tcp* tcp, uint32_t direction, uint32_t seq,
                                         uint64_t* offset) noexcept {
  if (tcp == nullptr || direction > 1) return 0;
  return tcp->follower.stream_offset(static_cast<Direction>(direction), seq, offset) ? 1 : 0;
}

POP3D_EXPORT size_t pop3d_tcp_buffered_bytes(const pop3d_tcp* tcp) noexcept {
  return tcp ? tcp->follower.buffered_bytes() : 0;
}

POP3D_EXPORT pop3d_decrypted* pop3d_decrypted_new(pop3d_session* session,
                                                  const pop3d_tcp_options* options) noexcept {
  if (session == nullptr) return nullptr;
  pop3decode::TcpOptions tcp_options;
  if (options != nullptr) {
    tcp_options.max_buffered_bytes = options->max_buffered_bytes;
    tcp_options.max_buffered_segments = options->max_buffered_segments;
  }
  try {
    return new pop3d_decrypted{
        pop3decode::DecryptedFollower(tcp_options,
                                      pop3d_session_offset(session, POP3D_CLIENT_TO_SERVER),
                                      pop3d_session_offset(session, POP3D_SERVER_TO_CLIENT)),
        session};
  } catch (...) {
    return nullptr;
  }
}

POP3D_EXPORT void pop3d_decrypted_free(pop3d_decrypted* decrypted) noexcept {
  delete decrypted;
}

POP3D_EXPORT int pop3d_decrypted_start(pop3d_decrypted* decrypted, uint32_t direction,
                                       uint32_t next_seq) noexcept {
  if (decrypted == nullptr || direction > 1) return POP3D_ERR_INVALID_ARGUMENT;
  return guarded([&] {
    decrypted->follower.start(static_cast<Direction>(direction), next_seq);
    return POP3D_OK;
  });
}

POP3D_EXPORT int pop3d_decrypted_add(pop3d_decrypted* decrypted, const pop3d_tcp_segment* segment,
                                     const uint8_t* bytes, size_t length,
                                     pop3d_event_callback event_callback,
                                     pop3d_tcp_report_callback report_callback,
                                     void* user_data) noexcept {
  if (decrypted == nullptr || segment == nullptr || segment->direction > 1 ||
      segment->payload_length > UINT32_MAX || (bytes == nullptr && length > 0))
    return POP3D_ERR_INVALID_ARGUMENT;
  return guarded([&] {
    CallbackSink sink(decrypted->session, event_callback, report_callback, user_data);
    decrypted->follower.decrypted(position_of(*segment),
                                  std::string_view(reinterpret_cast<const char*>(bytes), length),
                                  sink);
    return sink.status();
  });
}

POP3D_EXPORT int pop3d_decrypted_segment(pop3d_decrypted* decrypted,
                                         const pop3d_tcp_segment* segment,
                                         pop3d_event_callback event_callback,
                                         pop3d_tcp_report_callback report_callback,
                                         void* user_data) noexcept {
  if (decrypted == nullptr || segment == nullptr || segment->direction > 1 ||
      segment->payload_length > UINT32_MAX)
    return POP3D_ERR_INVALID_ARGUMENT;
  return guarded([&] {
    CallbackSink sink(decrypted->session, event_callback, report_callback, user_data);
    decrypted->follower.segment(position_of(*segment), sink);
    return sink.status();
  });
}

POP3D_EXPORT int pop3d_decrypted_flush(pop3d_decrypted* decrypted,
                                       pop3d_event_callback event_callback,
                                       pop3d_tcp_report_callback report_callback,
                                       void* user_data) noexcept {
  if (decrypted == nullptr) return POP3D_ERR_INVALID_ARGUMENT;
  return guarded([&] {
    CallbackSink sink(decrypted->session, event_callback, report_callback, user_data);
    decrypted->follower.flush(sink);
    return sink.status();
  });
}

POP3D_EXPORT uint64_t pop3d_decrypted_offset(const pop3d_decrypted* decrypted,
                                             uint32_t direction) noexcept {
  if (decrypted == nullptr || direction > 1) return 0;
  return decrypted->follower.offset(static_cast<Direction>(direction));
}

POP3D_EXPORT int pop3d_decrypted_reached(const pop3d_decrypted* decrypted, uint32_t direction,
                                         uint32_t seq) noexcept {
  if (decrypted == nullptr || direction > 1) return 0;
  return decrypted->follower.reached(static_cast<Direction>(direction), seq) ? 1 : 0;
}

POP3D_EXPORT size_t pop3d_decrypted_buffered_bytes(const pop3d_decrypted* decrypted) noexcept {
  return decrypted ? decrypted->follower.buffered_bytes() : 0;
}

POP3D_EXPORT const char* pop3d_tcp_notice_name(uint32_t notice) noexcept {
  if (notice > POP3D_TCP_NOTICE_SYN_MISMATCH) return nullptr;
  return pop3decode::tcp_notice_name(static_cast<pop3decode::TcpNoticeKind>(notice)).data();
}

}  // extern "C"
