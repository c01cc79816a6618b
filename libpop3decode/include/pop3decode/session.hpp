// The streaming session decoder: one object per TCP conversation.
//
// The supported API: pop3decode.h (the C ABI), session.hpp (Session, Options, Capabilities),
// event.hpp (Event, Item, Transaction, the enums and table look-ups), url.hpp, tcp.hpp, and
// sasl.hpp (base64, mechanism names, verify_*). The line parsers, the event builder and the
// SASL mechanism decoders are internal and not installed.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "pop3decode/event.hpp"

namespace pop3decode {

struct Options {
  size_t max_line = 65536;    // longest line delivered whole; longer ones come in pieces
  size_t max_pending = 4096;  // most outstanding commands remembered for matching
  bool mid_stream = false;    // the capture starts mid-conversation: resync both directions
  bool implicit_tls = false;  // bytes fed are the plaintext inside TLS (POP3S, port 995)
  // Events the handler wants: event_bit(kind) ORed (0 means default_events: all but
  // data_chunk). Unwanted events are not built; decoding and state are the same whatever is
  // wanted. EventKind::data_chunk: see POP3D_EVENT_DATA_CHUNK in pop3decode.h.
  uint32_t wanted_events = default_events;
};

// What one CAPA response advertised.
struct POP3D_EXPORT Capabilities {
  bool seen = false;
  std::vector<std::string> names;            // upper-cased capability names
  std::vector<std::string> sasl_mechanisms;  // upper-cased
  bool has(std::string_view name) const noexcept;
  bool has_mechanism(std::string_view mechanism) const noexcept;
};

// When a CAPA answer was seen: before or after STLS, before or after login.
enum class CapaPhase : uint8_t {
  plain_unauthenticated = 0,
  tls_unauthenticated = 1,
  plain_authenticated = 2,
  tls_authenticated = 3,
};

// Feeds bytes per direction in capture order and any chunking; calls the handler with events
// whose offsets are absolute stream offsets, identical however the input is split.
// Copyable: a copy is an independent snapshot (used to replay a frame from saved state).
//
// Threads: a Session is used by one thread at a time; distinct sessions are independent and
// may be used in parallel. The free functions (names, tables, verification) may be called
// from any thread.
// Handlers: events are delivered synchronously, during feed/gap/finish. A handler must not
// call feed, gap or finish of the same session (the C ABI refuses it). An exception thrown by
// a handler propagates out of feed/gap/finish; the session may then only be destroyed or
// assigned to (its state is valid but unspecified, and its next events could refer to the
// bytes of the interrupted call).
class POP3D_EXPORT Session {
 public:
  explicit Session(Options options = {});
  Session(const Session&);
  Session& operator=(const Session&);
  ~Session();

  // Returns the number of bytes consumed: all of them, unless a handler called stop(). Then
  // decoding stops after the line that produced the event being handled (the rest of that
  // line's events are still delivered) and the bytes after that line are not consumed: feed
  // them again, in a later call, to go on exactly as if there had been no stop. (Bytes
  // reported as they arrive, TLS records or skipped non-POP3 traffic, are consumed whole.)
  size_t feed(Direction direction, std::string_view bytes, EventHandler& handler);
  // The acknowledgement hint (what TCP says about the peer): the bytes of `direction` fed from
  // now on were sent by a peer that had received `peer_offset` bytes of the OTHER direction
  // (its stream offset, as this session counts it: bytes fed plus gaps), or peer_ack_unknown.
  // Call it before each feed whose bytes came with a known acknowledgement (the TCP follower's
  // SessionSink does); it stays in effect until called again. Never more than what was fed of
  // the other direction, and never decreasing, when the hint is true.
  //
  // With hints, a server answer is paired only with a command it can answer: one that ended
  // before the client offset the server had acknowledged, and that was sent before the client
  // had received the answer. A capture that lost commands (a client-side gap) or answers (a
  // server-side gap) then never shifts the pairing; answers that cannot be paired with
  // certainty pair with nothing and carry response_to_lost_command or
  // response_pairing_uncertain, and commands whose answer cannot be told get a transaction
  // flagged transaction_answer_unknown. Without hints, see gap(). The rules are in README.md
  // ("Pairing under capture loss").
  void set_peer_acknowledged(Direction direction, uint64_t peer_offset) noexcept {
    peer_acked_[static_cast<size_t>(direction)] = peer_offset;
    if (peer_offset != peer_ack_unknown) hinted_ = true;
  }
  static constexpr uint64_t peer_ack_unknown = UINT64_MAX;
  // Called from a handler during feed: see feed. During gap and finish it has no effect (each
  // is one unit: all its events are delivered).
  void stop() noexcept { stop_requested_ = true; }
  // `length` bytes of `direction` were lost: resynchronise at the next line boundary.
  // A client-side gap may have held commands: it stands in the queue of pending commands as
  // one entry for "lost commands" (at least one, unless a SASL exchange was under way). The
  // first answer that reaches it answers a lost command (response_to_lost_command, paired
  // with nothing). Without hints, the answers that come while that entry has commands queued
  // behind it are uncertain (response_pairing_uncertain; each removes the oldest command
  // behind it with transaction_answer_unknown) until it is alone in the queue again, when it
  // is dropped. A server-side gap while a status line was expected holds the start of the
  // oldest pending command's answer: that command gets transaction_answer_unknown.
  void gap(Direction direction, uint64_t length, EventHandler& handler);
  // The connection ended: flush partial lines, close open exchanges, emit an END event.
  void finish(EventHandler& handler);

  // Known passwords make APOP, CRAM-MD5, DIGEST-MD5, SCRAM and USER/PASS checkable.
  void add_password(std::string user, std::string password);

  // Convenience: any callable taking const Event&.
  template <typename F>
  requires(!std::is_base_of_v<EventHandler, std::remove_cvref_t<F>>) size_t
      feed(Direction direction, std::string_view bytes, F&& on_event) {
    FunctionHandler<F> handler{on_event};
    return feed(direction, bytes, static_cast<EventHandler&>(handler));
  }
  template <typename F>
  requires(!std::is_base_of_v<EventHandler, std::remove_cvref_t<F>>) void gap(Direction direction,
                                                                              uint64_t length,
                                                                              F&& on_event) {
    FunctionHandler<F> handler{on_event};
    gap(direction, length, static_cast<EventHandler&>(handler));
  }
  template <typename F>
  requires(!std::is_base_of_v<EventHandler, std::remove_cvref_t<F>>) void finish(F&& on_event) {
    FunctionHandler<F> handler{on_event};
    finish(static_cast<EventHandler&>(handler));
  }

  State state() const noexcept { return state_; }
  bool tls() const noexcept { return tls_; }
  bool utf8() const noexcept { return utf8_; }
  bool gave_up() const noexcept { return gave_up_; }
  uint64_t offset(Direction d) const noexcept { return dir(d).offset; }
  // The user whose mailbox is open: the authorization identity when the login named one
  // (a PLAIN login with authzid alice by admin gives alice), else the authenticated user;
  // before a login succeeds, empty. Unchanged between logins, so a consumer can show it on
  // every event after the login at no cost.
  std::string_view user() const noexcept { return user_; }
  const Capabilities& capabilities(CapaPhase phase) const noexcept {
    return capabilities_[static_cast<size_t>(phase)];
  }
  // The most recent CAPA answer, whatever its phase (empty if none).
  const Capabilities& latest_capabilities() const noexcept;
  std::string_view greeting_timestamp() const noexcept { return greeting_timestamp_; }
  size_t pending_commands() const noexcept { return pending_.size(); }
  const Options& options() const noexcept { return options_; }

 private:
  template <typename F>
  struct FunctionHandler final : EventHandler {
    explicit FunctionHandler(F& f) : fn(f) {}
    void on_event(const Event& event) override { fn(event); }
    F& fn;
  };

  enum class Mode : uint8_t { lines, resync, tls };
  enum class ServerMode : uint8_t { greeting, status, data, unknown_data };

  struct DirectionState {
    uint64_t offset = 0;         // stream offset of the next byte fed
    std::string partial;         // the incomplete line at the end of what was fed
    uint64_t partial_start = 0;  // stream offset of partial[0]
    uint32_t piece = 0;          // pieces of the current over-long line delivered so far
    Mode mode = Mode::lines;
    bool tls_check = false;  // after STLS: the next byte tells TLS records from plaintext
    bool seen_line = false;
    bool announce_midstream = false;  // report MIDSTREAM with the first skipped bytes
    bool probe_status = false;  // after a gap where a status was expected: is the next a line?
  };

  struct Line {
    std::string_view raw;      // the bytes including the line end (if any)
    std::string_view content;  // without the line end
    uint64_t offset = 0;
    uint32_t piece = 0;  // 0 whole; 1.. pieces
    bool has_end = false;
    bool bare_lf = false;
    bool first_piece() const noexcept { return piece <= 1; }
  };

  struct Pending {
    uint64_t id = 0;
    Command command = Command::none;
    bool has_argument = false;
    bool sasl = false;     // AUTH with a mechanism
    std::string argument;  // USER/APOP name, PASS password, mechanism, LANG tag, unknown verb
    std::string digest;    // APOP digest
    uint64_t offset = 0;
    uint64_t message = 0;          // message number argument (transaction_message in flags)
    uint64_t lines = 0;            // TOP line count (transaction_lines in flags)
    uint32_t flags = 0;            // transaction_message, transaction_lines
    uint64_t unqueued_before = 0;  // overflowed commands sent just before this one
    // Pairing under loss (see set_peer_acknowledged).
    uint64_t end = 0;                          // client offset after the command line
    uint64_t server_acked = peer_ack_unknown;  // server offset the client had received
    bool lost = false;                         // stands for commands lost in a client gap
    uint32_t owed = 0;                         // lost: answers certainly still owed (0 or 1)
    uint64_t full_ack_end = 0;  // lost: end of an answer to them sent after all were received
  };

  // The transaction whose answer is being read (its strings owned here).
  struct OpenTransaction {
    Transaction t;
    std::string argument, code, description, mechanism, authcid, authzid;
    bool active = false;
  };

  // What the status line answering a command decided (see status_line; defined there).
  struct Answer;

  // The commands waiting for their answers, oldest first: a ring of reused slots (strings
  // included), so pipelined commands allocate nothing once the ring has grown.
  class PendingQueue {
   public:
    bool empty() const noexcept { return count_ == 0; }
    size_t size() const noexcept { return count_; }
    Pending& front() noexcept { return slots_[head_]; }
    Pending& at(size_t i) noexcept { return slots_[(head_ + i) % slots_.size()]; }
    Pending& back() noexcept { return at(count_ - 1); }
    // Removes the entry at position i (> 0), keeping the order of the others.
    void remove_at(size_t i) noexcept;
    // A slot at the back, reset. Invalidates references to slots (the ring may grow).
    Pending& push_back();
    // The answered command: its slot keeps its contents until the next push_back.
    const Pending& pop_front() noexcept;

   private:
    std::vector<Pending> slots_;
    size_t head_ = 0;
    size_t count_ = 0;
  };

  DirectionState& dir(Direction d) noexcept { return directions_[static_cast<size_t>(d)]; }
  const DirectionState& dir(Direction d) const noexcept {
    return directions_[static_cast<size_t>(d)];
  }

  // The data lines gathered for one DATA_CHUNK event (see pop3decode.h).
  struct Chunk {
    bool active = false;
    bool held = false;  // one line completed from bytes held by the session (not the input)
    uint64_t request_id = 0;
    Command command = Command::none;
    uint64_t offset = 0;  // wire range of the lines
    uint64_t end = 0;
    std::string_view view;  // the unstuffed bytes
  };

  size_t feed_bytes(Direction d, std::string_view bytes, EventHandler& h);
  void chunk_append(std::string_view data, uint64_t wire_offset, uint64_t wire_length,
                    uint64_t request_id, Command command, EventHandler& h);
  void flush_chunk(EventHandler& h) {
    if (chunk_.active) emit_chunk(h);
  }
  void emit_chunk(EventHandler& h);
  size_t feed_lines(Direction d, std::string_view bytes, EventHandler& h);
  void deliver(Direction d, const Line& line, EventHandler& h);
  void emit_bytes_event(EventKind kind, Direction d, uint64_t offset, std::string_view bytes,
                        EventHandler& h, bool with_item = true);
  void emit(EventKind kind, Direction d, const Line& line, EventHandler& h, uint64_t request_id = 0,
            Command command = Command::none, std::string_view data = {});
  void emit_generated(EventKind kind, Direction d, uint64_t offset, EventHandler& h,
                      uint64_t request_id = 0, Command command = Command::none);

  void client_line(const Line& line, EventHandler& h);
  void command_line(const Line& line, EventHandler& h);
  void sasl_client_line(const Line& line, EventHandler& h);
  void server_line(const Line& line, EventHandler& h);
  void greeting_line(const Line& line, EventHandler& h);
  void status_line(const Line& line, EventHandler& h);
  bool match_response(const Line& line, Answer& answer);
  bool excluded(const Pending& pending, const Line& line) const noexcept;
  void answer_to_lost(Pending& lost, const Line& line, Answer& answer);
  void drop_lonely_placeholder() noexcept;
  void emit_dropped(const Pending& pending, uint64_t at, EventHandler& h);
  void response_items(Answer& answer);
  void on_user(const Answer& answer);
  void on_login(const Line& line, Answer& answer, EventHandler& h);
  void on_sasl_end(const Line& line, Answer& answer, EventHandler& h);
  void on_quit(Answer& answer);
  void on_stls(const Line& line, Answer& answer);
  void on_utf8(Answer& answer);
  void on_stat(const Answer& answer);
  AuthResult login_result(const Answer& answer, const Line& line);
  void open_transaction(const Pending& pending);
  // `at`: where an unanswered or unknown answer's transaction stands (default: where the
  // server stream ended).
  void emit_transaction(EventHandler& h, uint32_t extra_flags = 0, uint64_t at = UINT64_MAX);
  bool wanted(EventKind kind) const noexcept { return (wanted_ & event_bit(kind)) != 0; }
  void sasl_server_line(const Line& line, EventHandler& h);
  void data_line(const Line& line, EventHandler& h);
  void unknown_data_line(const Line& line, EventHandler& h);
  void store_capabilities();
  void data_end_items(const Line& line);

  void check_line_bytes(const Line& line, bool server = false);
  void sasl_step(Direction d, std::string_view text, uint64_t text_offset, int32_t parent);
  void end_exchange(AuthResult result, const Line* line, EventHandler& h, uint64_t request_id);
  void auth_result(std::string_view method, std::string_view user, std::string_view password,
                   std::string_view secret, std::string_view authzid, AuthResult result,
                   std::optional<bool> verified, uint64_t steps, uint64_t offset,
                   uint64_t request_id, Command command, EventHandler& h);
  void state_changed(uint64_t offset, uint64_t request_id, EventHandler& h);
  void count_line(bool good);
  const std::string* password_for(std::string_view user) const noexcept;
  bool advertised(std::string_view capability) const noexcept;
  void give_up(Direction d, const Line& line);

  Options options_;
  uint32_t wanted_ = default_events;
  bool wanted_data_line_ = true;    // wanted(data_line), for the body fast path
  bool wanted_data_chunk_ = false;  // wanted(data_chunk)
  Chunk chunk_;
  std::string_view input_;  // the bytes of the feed call under way (chunks may point into them)
  std::array<DirectionState, 2> directions_{};
  // The state of internal types (the event builder, the SASL exchange): behind a pointer so
  // that their headers stay private. Copied deep: a copied Session is an independent snapshot.
  struct Internals;
  struct POP3D_EXPORT InternalsPtr {
    InternalsPtr();
    InternalsPtr(const InternalsPtr&);
    InternalsPtr& operator=(const InternalsPtr&);
    ~InternalsPtr();
    Internals* operator->() const noexcept { return p.get(); }
    std::unique_ptr<Internals> p;
  };
  InternalsPtr internals_;

  ServerMode server_mode_ = ServerMode::greeting;
  bool greeting_expected_ = true;
  bool resynchronising_ = false;  // after mid-stream start: responses may lack requests
  bool state_unknown_ = false;    // after mid-stream start: the login was not seen
  State state_ = State::authorization;
  bool tls_ = false;
  bool utf8_ = false;
  bool server_language_ = false;  // LANG accepted: server text may be UTF-8
  bool gave_up_ = false;
  bool stop_requested_ = false;  // a handler called stop(): feed returns after this line
  bool quit_sent_ = false;
  bool queue_overflowed_ = false;
  uint64_t unqueued_commands_ = 0;  // overflowed commands after the last queued one
  uint32_t good_lines_ = 0;
  uint32_t bad_lines_ = 0;

  PendingQueue pending_;
  uint64_t peer_acked_[2] = {peer_ack_unknown, peer_ack_unknown};
  bool client_gap_seen_ = false;
  uint32_t lost_challenges_ = 0;  // challenges of a lost AUTH the client has not answered
  bool hinted_ = false;           // a hint was ever given: the pairing rules with hints apply
  bool server_gap_ = false;       // answers may have been lost since the last sure pairing
  uint64_t server_gap_end_ = 0;   // server offset after which answers were not lost
  bool data_cut_ = false;         // the multi-line answer being read lost bytes in a gap
  uint64_t data_start_ = 0;       // server offset of its status line
  uint64_t next_request_id_ = 1;
  uint32_t pending_logins_ = 0;  // PASS/APOP/AUTH sent, not yet answered
  bool user_named_ = false;      // a USER was sent (PASS may follow)

  // The multi-line response being read.
  uint64_t data_request_id_ = 0;
  Command data_command_ = Command::none;
  uint64_t data_lines_ = 0;
  uint64_t data_octets_ = 0;
  Capabilities collecting_;
  OpenTransaction open_;

  // SASL exchange in progress (the exchange itself: internals_->exchange).
  std::string exchange_mechanism_;
  uint64_t exchange_request_id_ = 0;
  uint32_t exchange_steps_ = 0;
  uint32_t exchange_owed_ = 0;  // challenges the client has not answered yet
  bool exchange_cancelled_ = false;

  std::string user_;
  std::string pending_user_;  // named by USER, not yet authenticated
  std::string greeting_timestamp_;
  std::optional<uint64_t> maildrop_messages_;  // the largest count STAT gave
  std::array<Capabilities, 4> capabilities_{};
  int latest_capa_phase_ = -1;
  std::vector<std::pair<std::string, std::string>> passwords_;
};

}  // namespace pop3decode
