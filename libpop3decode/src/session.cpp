// The session decoder: line framing per direction, the queue of pending commands that decides
// how each response is read (RFC 2449 pipelining), multi-line data, SASL exchanges, state.
#include "pop3decode/session.hpp"

#include <algorithm>
#include <cstring>

#include "pop3decode/event_builder.hpp"
#include "pop3decode/parse.hpp"
#include "pop3decode/sasl_exchange.hpp"
#include "scan.hpp"

namespace pop3decode {

struct Session::Internals {
  EventBuilder builder;
  std::optional<sasl::Exchange> exchange;
};

struct Session::Answer {
  Pending pending;  // a copy: the queue slot may be reused
  bool matched = false;
  ParsedStatus status;
  int32_t response = -1;
  bool multiline = false;
  bool state_change = false;
  bool login = false;              // AUTH_RESULT is emitted (PASS, APOP, end of SASL)
  bool loss = false;               // not paired because of capture loss (lost or uncertain)
  std::optional<Pending> dropped;  // a command whose answer can no longer be told
};

Session::InternalsPtr::InternalsPtr() : p(std::make_unique<Internals>()) {}
Session::InternalsPtr::InternalsPtr(const InternalsPtr& other)
    : p(std::make_unique<Internals>(*other.p)) {}
Session::InternalsPtr& Session::InternalsPtr::operator=(const InternalsPtr& other) {
  if (this != &other) p = std::make_unique<Internals>(*other.p);
  return *this;
}
Session::InternalsPtr::~InternalsPtr() = default;

Session::Session(const Session&) = default;
Session& Session::operator=(const Session&) = default;
Session::~Session() = default;
namespace {

void make_upper(std::string& s) noexcept {
  for (char& c : s)
    if (c >= 'a' && c <= 'z') c = char(c - 32);
}

std::string upper(std::string_view s) {
  std::string out(s);
  make_upper(out);
  return out;
}

// Slots of the pending-command ring kept once it is empty again (a pipelining burst may have
// grown it up to max_pending).
constexpr size_t retained_pending_slots = 64;

// Whether bytes begin like a command line: a known verb then a space or the line end (1 yes,
// -1 no, 0 not enough bytes to tell).
int command_prefix(std::string_view bytes) noexcept {
  const size_t end = bytes.substr(0, 5).find_first_of(" \r\n");
  if (end == std::string_view::npos) return bytes.size() < 5 ? 0 : -1;
  const Command c = command_from_verb(bytes.substr(0, end));
  return c == Command::unknown || c == Command::none ? -1 : 1;
}

// Whether bytes begin like a status line, "+OK" or "-ERR" (any case): 1 yes, -1 no, 0 not
// enough bytes to tell.
int status_prefix(std::string_view bytes) noexcept {
  const std::string_view word = !bytes.empty() && bytes[0] == '-' ? "-ERR" : "+OK";
  const size_t n = std::min(bytes.size(), word.size());
  if (!iequals(bytes.substr(0, n), word.substr(0, n))) return -1;
  return n == word.size() ? 1 : 0;
}

bool contains_upper(const std::vector<std::string>& list, std::string_view name) noexcept {
  return std::any_of(list.begin(), list.end(),
                     [&](const std::string& entry) { return iequals(entry, name); });
}

const Item* find_item(std::span<const Item> items, Field field) noexcept {
  for (const Item& item : items)
    if (item.field == field) return &item;
  return nullptr;
}

// Thresholds for deciding a conversation is not POP3 (see count_line).
constexpr uint32_t not_pop3_min_bad_lines = 6;

// Capability names, and SASL mechanisms, kept of one CAPA answer (its lines are all reported).
constexpr size_t max_capabilities = 256;

}  // namespace

bool Capabilities::has(std::string_view name) const noexcept {
  return contains_upper(names, name);
}
bool Capabilities::has_mechanism(std::string_view mechanism) const noexcept {
  return contains_upper(sasl_mechanisms, mechanism);
}

Session::Session(Options options) : options_(options) {
  wanted_ = options_.wanted_events == 0 ? default_events : options_.wanted_events;
  wanted_data_line_ = wanted(EventKind::data_line);
  wanted_data_chunk_ = wanted(EventKind::data_chunk);
  options_.max_line = std::max<size_t>(options_.max_line, 64);
  options_.max_pending = std::max<size_t>(options_.max_pending, 1);
  tls_ = options_.implicit_tls;
  if (options_.mid_stream) {
    for (auto& d : directions_) {
      d.mode = Mode::resync;
      d.announce_midstream = true;
    }
    greeting_expected_ = false;
    resynchronising_ = true;
    state_unknown_ = true;
    server_mode_ = ServerMode::unknown_data;
  }
}

void Session::add_password(std::string user, std::string password) {
  for (auto& entry : passwords_) {
    if (entry.first == user) {
      entry.second = std::move(password);
      return;
    }
  }
  passwords_.emplace_back(std::move(user), std::move(password));
}

const std::string* Session::password_for(std::string_view user) const noexcept {
  for (const auto& entry : passwords_)
    if (entry.first == user) return &entry.second;
  return nullptr;
}

const Capabilities& Session::latest_capabilities() const noexcept {
  static const Capabilities none;
  return latest_capa_phase_ < 0 ? none : capabilities_[static_cast<size_t>(latest_capa_phase_)];
}

Session::Pending& Session::PendingQueue::push_back() {
  // An emptied ring that a burst made large goes back to a small one.
  if (count_ == 0 && slots_.size() > retained_pending_slots) {
    slots_.clear();
    slots_.shrink_to_fit();
    head_ = 0;
  }
  size_t index = head_ + count_;
  if (count_ == slots_.size()) {
    std::rotate(slots_.begin(), slots_.begin() + static_cast<std::ptrdiff_t>(head_), slots_.end());
    head_ = 0;
    slots_.emplace_back();
    index = count_;
  } else if (index >= slots_.size()) {
    index -= slots_.size();
  }
  ++count_;
  Pending& slot = slots_[index];
  slot.id = 0;
  slot.command = Command::none;
  slot.has_argument = false;
  slot.sasl = false;
  slot.argument.clear();
  slot.digest.clear();
  slot.offset = 0;
  slot.unqueued_before = 0;
  slot.end = 0;
  slot.server_acked = peer_ack_unknown;
  slot.lost = false;
  slot.owed = 0;
  slot.full_ack_end = 0;
  return slot;
}

void Session::PendingQueue::remove_at(size_t i) noexcept {
  for (; i + 1 < count_; ++i) std::swap(at(i), at(i + 1));
  --count_;
}

const Session::Pending& Session::PendingQueue::pop_front() noexcept {
  const Pending& slot = slots_[head_];
  if (++head_ == slots_.size()) head_ = 0;
  --count_;
  return slot;
}

bool Session::advertised(std::string_view capability) const noexcept {
  const Capabilities& caps = latest_capabilities();
  return !caps.seen || caps.has(capability);
}

// ---- framing ------------------------------------------------------------------------------

size_t Session::feed(Direction d, std::string_view bytes, EventHandler& h) {
  input_ = bytes;
  const size_t consumed = feed_bytes(d, bytes, h);
  // A chunk never outlives the call whose bytes it may point into.
  flush_chunk(h);
  input_ = {};
  return consumed;
}

void Session::chunk_append(std::string_view data, uint64_t wire_offset, uint64_t wire_length,
                           uint64_t request_id, Command command, EventHandler& h) {
  Chunk& c = chunk_;
  const auto input = reinterpret_cast<uintptr_t>(input_.data());
  const auto at = reinterpret_cast<uintptr_t>(data.data());
  const bool in_input = at >= input && at + data.size() <= input + input_.size();
  // A chunk is a run of bytes that follow each other in the caller's input: it never copies.
  if (c.active && (c.held || !in_input || c.request_id != request_id || c.command != command ||
                   c.end != wire_offset || data.data() != c.view.data() + c.view.size()))
    emit_chunk(h);
  if (!c.active) {
    c.active = true;
    // A line completed from bytes held since an earlier call points into the session's
    // buffer: data_line delivers it alone, right after its DATA_LINE event.
    c.held = !in_input;
    c.request_id = request_id;
    c.command = command;
    c.offset = wire_offset;
    c.end = wire_offset;
    c.view = data;
  } else {
    c.view = std::string_view(c.view.data(), c.view.size() + data.size());
  }
  c.end += wire_length;
}

void Session::emit_chunk(EventHandler& h) {
  Chunk& c = chunk_;
  c.active = false;
  Event ev;
  ev.kind = EventKind::data_chunk;
  ev.direction = Direction::server_to_client;
  ev.offset = c.offset;
  ev.length = c.end - c.offset;
  ev.data = c.view;
  ev.request_id = c.request_id;
  ev.command = c.command;
  c.view = {};
  h.on_event(ev);
}

size_t Session::feed_bytes(Direction d, std::string_view bytes, EventHandler& h) {
  DirectionState& ds = dir(d);
  // Also reached from feed_lines for the rest of a chunk, never with a stop pending.
  stop_requested_ = false;
  while (!bytes.empty()) {
    if (gave_up_) {
      // Not POP3: the bytes are accounted for, but make no items (no flood in a tree).
      emit_bytes_event(EventKind::skipped, d, ds.offset, bytes, h, false);
      ds.offset += bytes.size();
      return bytes.size();
    }
    if (ds.tls_check) {
      ds.tls_check = false;
      auto first = static_cast<unsigned char>(bytes[0]);
      // TLS record content types 20..23; no POP3 line starts with these control bytes.
      if (ds.partial.empty() && first >= 0x14 && first <= 0x17) ds.mode = Mode::tls;
    }
    if (ds.mode == Mode::tls) {
      emit_bytes_event(EventKind::tls, d, ds.offset, bytes, h);
      ds.offset += bytes.size();
      return bytes.size();
    }
    return feed_lines(d, bytes, h);
  }
  return 0;
}

void Session::emit_bytes_event(EventKind kind, Direction d, uint64_t offset, std::string_view bytes,
                               EventHandler& h, bool with_item) {
  flush_chunk(h);
  if (!wanted(kind)) {
    internals_->builder.clear();
    return;
  }
  Event ev;
  ev.kind = kind;
  ev.direction = d;
  ev.offset = offset;
  ev.length = bytes.size();
  ev.line = bytes;
  if (with_item)
    internals_->builder.add(kind == EventKind::tls ? Field::TLS_DATA : Field::SKIPPED, -1, 0,
                            offset, bytes.size(), bytes);
  ev.items = internals_->builder.items();
  ev.anomalies = internals_->builder.anomalies();
  ev.buffers = internals_->builder.buffers();
  h.on_event(ev);
  internals_->builder.clear();
}

size_t Session::feed_lines(Direction d, std::string_view bytes, EventHandler& h) {
  DirectionState& ds = dir(d);
  const size_t max_line = options_.max_line;
  size_t pos = 0;
  while (pos < bytes.size()) {
    // Between lines: a handler asked to stop; the caller feeds the rest later.
    if (stop_requested_) return pos;
    // A mode change inside this chunk (STLS answered, decoding given up) sends the rest on.
    if (gave_up_ || ds.tls_check || ds.mode == Mode::tls) {
      return pos + feed_bytes(d, bytes.substr(pos), h);
    }
    const char* start = bytes.data() + pos;
    const size_t avail = bytes.size() - pos;
    const void* found = std::memchr(start, '\n', avail);
    const size_t segment = found ? size_t(static_cast<const char*>(found) - start) : avail;

    // Fast path for the bulk of any capture: a whole CRLF line of a RETR/TOP body that does not
    // start with "." (so neither the terminator nor dot-stuffed). It gets exactly what
    // deliver() -> server_line() -> data_line() give such a line, without the detours; any
    // other line (a piece, a continuation of a partial line, a bare LF, a listing) takes the
    // general path below.
    if (found && d == Direction::server_to_client && ds.mode == Mode::lines &&
        server_mode_ == ServerMode::data &&
        (data_command_ == Command::retr || data_command_ == Command::top) && ds.partial.empty() &&
        ds.piece == 0 && !data_cut_ && segment >= 2 && segment <= max_line &&
        start[segment - 1] == '\r' && start[0] != '.') {
      Line line;
      line.raw = std::string_view(start, segment + 1);
      line.content = std::string_view(start, segment - 1);
      line.offset = ds.offset;
      line.has_end = true;
      ds.offset += segment + 1;
      pos += segment + 1;
      ds.seen_line = true;
      ++data_lines_;
      data_octets_ += line.raw.size();
      if (wanted_data_chunk_) {
        Chunk& c = chunk_;
        // The common case inline: the line follows the chunk's bytes in the input.
        if (c.active && !c.held && c.end == line.offset && c.request_id == data_request_id_ &&
            c.view.data() + c.view.size() == start) {
          c.view = std::string_view(c.view.data(), c.view.size() + line.raw.size());
          c.end += line.raw.size();
        } else {
          chunk_append(line.raw, line.offset, line.raw.size(), data_request_id_, data_command_, h);
        }
      }
      if (wanted_data_line_)
        emit(EventKind::data_line, Direction::server_to_client, line, h, data_request_id_,
             data_command_, line.raw);
      continue;
    }

    if (ds.mode == Mode::resync && ds.probe_status) {
      // Where a status line is expected, bytes after a gap that start like one ("+OK",
      // "-ERR") are one: the gap ended at a line boundary (a line's tail does not start so).
      // Up to 4 bytes are held to decide, whatever the split.
      const bool client = d == Direction::client_to_server;
      size_t take = std::min(found ? segment + 1 : avail,
                             (client ? size_t{5} : size_t{4}) - ds.partial.size());
      if (ds.partial.empty()) ds.partial_start = ds.offset;
      ds.partial.append(start, take);
      ds.offset += take;
      pos += take;
      const int verdict = client ? command_prefix(ds.partial) : status_prefix(ds.partial);
      if (verdict == 0) continue;
      ds.probe_status = false;
      if (verdict > 0) {
        ds.mode = Mode::lines;
        continue;
      }
      const std::string held = std::move(ds.partial);
      ds.partial.clear();
      emit_bytes_event(EventKind::skipped, d, ds.partial_start, held, h);
      if (held.back() == '\n') {
        ds.mode = Mode::lines;
        if (!client && server_gap_) server_gap_end_ = ds.offset;
      }
      continue;
    }
    if (ds.mode == Mode::resync) {
      // The tail of a line whose start we never saw: reported, not decoded.
      const size_t skip = found ? segment + 1 : avail;
      if (ds.announce_midstream) {
        internals_->builder.anomaly(Anomaly::MIDSTREAM, ds.offset, 0);  // where decoding starts
        ds.announce_midstream = false;
      }
      emit_bytes_event(EventKind::skipped, d, ds.offset, bytes.substr(pos, skip), h);
      ds.offset += skip;
      pos += skip;
      if (found) {
        ds.mode = Mode::lines;
        // Answers lost in a gap may include one in this tail.
        if (d == Direction::server_to_client && server_gap_) server_gap_end_ = ds.offset;
      }
      continue;
    }

    // Over-long line: cut pieces of exactly max_line bytes counted from the line start, so
    // the pieces are the same however the input was split.
    size_t consumed = 0;
    bool mode_changed = false;
    while (ds.partial.size() + (segment - consumed) > max_line) {
      if (ds.partial.empty()) ds.partial_start = ds.offset + consumed;
      const size_t room = max_line - ds.partial.size();
      ds.partial.append(start + consumed, room);
      consumed += room;
      Line piece;
      piece.raw = ds.partial;
      piece.content = ds.partial;
      piece.offset = ds.partial_start;
      piece.piece = ++ds.piece;
      deliver(d, piece, h);
      ds.partial_start += ds.partial.size();
      ds.partial.clear();
      if (gave_up_ || ds.mode != Mode::lines || ds.tls_check) {
        mode_changed = true;
        break;
      }
    }
    if (mode_changed) {
      ds.offset += consumed;
      pos += consumed;
      continue;
    }
    if (!found) {
      if (ds.partial.empty()) ds.partial_start = ds.offset + consumed;
      ds.partial.append(start + consumed, segment - consumed);
      ds.offset += avail;
      return bytes.size();
    }
    Line line;
    const size_t line_bytes = segment + 1 - consumed;  // through the LF
    if (ds.partial.empty()) {
      line.raw = std::string_view(start + consumed, line_bytes);
      line.offset = ds.offset + consumed;
    } else {
      ds.partial.append(start + consumed, line_bytes);
      line.raw = ds.partial;
      line.offset = ds.partial_start;
    }
    line.has_end = true;
    line.piece = ds.piece ? ds.piece + 1 : 0;
    size_t content_length = line.raw.size() - 1;
    if (content_length > 0 && line.raw[content_length - 1] == '\r') {
      --content_length;
    } else {
      line.bare_lf = true;
    }
    line.content = line.raw.substr(0, content_length);
    ds.offset += segment + 1;
    pos += segment + 1;
    ds.piece = 0;
    if (line.piece == 0 && !line.bare_lf && d == Direction::server_to_client &&
        server_mode_ == ServerMode::data) {
      // A whole line of a listing (or a body line the fast path above left): what deliver()
      // -> server_line() would do with it, without the detour.
      ds.seen_line = true;
      data_line(line, h);
    } else {
      deliver(d, line, h);
    }
    ds.partial.clear();
  }
  return pos;
}

void Session::gap(Direction d, uint64_t length, EventHandler& h) {
  DirectionState& ds = dir(d);
  flush_chunk(h);
  internals_->builder.anomaly(Anomaly::GAP, ds.offset, length);
  Event ev;
  ev.kind = EventKind::skipped;
  ev.direction = d;
  ev.offset = ds.offset;
  ev.length = length;
  // A gap inside multi-line data cuts that command's answer: it names the command.
  if (d == Direction::server_to_client && server_mode_ == ServerMode::data) {
    ev.request_id = data_request_id_;
    ev.command = data_command_;
    if (open_.active) open_.t.flags |= transaction_cut;
  }
  if (d == Direction::server_to_client && server_mode_ == ServerMode::data) data_cut_ = true;
  if (ds.probe_status && !ds.partial.empty()) {
    // Bytes held to tell a status line from a line's tail: the tail of a line after all.
    internals_->builder.clear();
    emit_bytes_event(EventKind::skipped, d, ds.partial_start, ds.partial, h);
    ds.partial.clear();
    internals_->builder.anomaly(Anomaly::GAP, ds.offset, length);
  }
  ev.anomalies = internals_->builder.anomalies();
  if (wanted(EventKind::skipped)) h.on_event(ev);
  internals_->builder.clear();
  const bool lines = ds.mode == Mode::lines || ds.mode == Mode::resync;
  // Where the line the first lost byte belongs to starts.
  const uint64_t line_start = ds.partial.empty() ? ds.offset : ds.partial_start;
  ds.partial.clear();
  ds.piece = 0;
  ds.offset += length;
  if (ds.mode == Mode::lines) ds.mode = Mode::resync;
  // A gap before the greeting was complete lost (the rest of) it: statuses come next.
  const bool greeting_lost = d == Direction::server_to_client &&
                             server_mode_ == ServerMode::greeting && greeting_expected_ &&
                             ds.mode == Mode::resync;
  if (greeting_lost) {
    greeting_expected_ = false;
    server_mode_ = ServerMode::status;
  }
  // Where a line was expected, the bytes after the gap may start one (see feed_lines).
  ds.probe_status = ds.mode == Mode::resync && !ds.announce_midstream &&
                    (d == Direction::server_to_client ? server_mode_ == ServerMode::status
                                                      : !internals_->exchange);
  if (!lines || gave_up_ || length == 0) return;
  if (d == Direction::client_to_server) {
    client_gap_seen_ = true;
    // The lost bytes may have held commands: one entry stands for them (see gap()).
    if (!pending_.empty() && pending_.back().lost) {
      pending_.back().end = ds.offset;
      pending_.back().full_ack_end = 0;
      return;
    }
    if (pending_.size() >= options_.max_pending) {
      // No room for the marker: the lost commands are read like overflowed ones.
      if (!internals_->exchange) ++unqueued_commands_;
      queue_overflowed_ = true;
      return;
    }
    Pending& lost = pending_.push_back();
    lost.lost = true;
    lost.offset = line_start;
    lost.end = ds.offset;
    // A line was cut: a command, unless a SASL exchange may have been answering.
    lost.owed = internals_->exchange ? 0 : 1;
    return;
  }
  // Server side. In status mode the first lost byte starts (or is in) the next status line:
  // the answer to the oldest command, unless that command was sent after the client had
  // received that byte.
  std::optional<Pending> dropped;
  if (server_mode_ == ServerMode::status && !internals_->exchange && !greeting_lost &&
      !pending_.empty() && !pending_.front().lost && pending_.front().unqueued_before == 0) {
    const Pending& front = pending_.front();
    if (front.server_acked == peer_ack_unknown || front.server_acked <= line_start)
      dropped = pending_.pop_front();
  }
  server_gap_ = true;
  server_gap_end_ = ds.offset;
  if (dropped) emit_dropped(*dropped, ds.offset, h);
}

// A command whose answer can no longer be told gets its transaction now, at `at` (the line or
// gap that made it unknowable: never where a feed happened to end).
void Session::emit_dropped(const Pending& pending, uint64_t at, EventHandler& h) {
  if (pending.command == Command::pass || pending.command == Command::apop || pending.sasl)
    pending_logins_ -= pending_logins_ > 0 ? 1 : 0;
  open_transaction(pending);
  emit_transaction(h, transaction_answer_unknown, at);
}

void Session::emit(EventKind kind, Direction d, const Line& line, EventHandler& h,
                   uint64_t request_id, Command command, std::string_view data) {
  // The item first: with it between the Event's initialisation and its use, the compiler no
  // longer drops the default initialisation it overwrites (every line paid for it).
  if (kind != EventKind::data_line) flush_chunk(h);
  if (!wanted(kind)) {
    internals_->builder.clear();
    return;
  }
  if (kind == EventKind::unparsed)
    internals_->builder.add(Field::UNPARSED, -1, 0, line.offset, line.content.size(), line.content);
  Event ev;
  ev.kind = kind;
  ev.direction = d;
  ev.offset = line.offset;
  ev.length = line.raw.size();
  ev.line = line.content;
  ev.data = data;
  ev.request_id = request_id;
  ev.command = command;
  ev.piece = line.piece;
  ev.flags = internals_->builder.has_secret() ? event_secret : 0;
  ev.items = internals_->builder.items();
  ev.buffers = internals_->builder.buffers();
  ev.anomalies = internals_->builder.anomalies();
  h.on_event(ev);
  internals_->builder.clear();
}

void Session::emit_generated(EventKind kind, Direction d, uint64_t offset, EventHandler& h,
                             uint64_t request_id, Command command) {
  flush_chunk(h);
  if (!wanted(kind)) {
    internals_->builder.clear();
    return;
  }
  Event ev;
  ev.kind = kind;
  ev.direction = d;
  ev.offset = offset;
  ev.request_id = request_id;
  ev.command = command;
  ev.items = internals_->builder.items();
  ev.buffers = internals_->builder.buffers();
  ev.anomalies = internals_->builder.anomalies();
  h.on_event(ev);
  internals_->builder.clear();
}

void Session::deliver(Direction d, const Line& line, EventHandler& h) {
  if (line.bare_lf)
    internals_->builder.anomaly(Anomaly::LINE_BARE_LF, line.offset + line.content.size(), 1);
  if (line.piece == 1)
    internals_->builder.anomaly(Anomaly::LINE_TOO_LONG, line.offset, line.raw.size());
  dir(d).seen_line = true;
  if (d == Direction::client_to_server) {
    client_line(line, h);
  } else {
    server_line(line, h);
  }
}

void Session::check_line_bytes(const Line& line, bool server) {
  if (!scan::has_unusual(line.content)) return;
  const auto [cr, nul, high] = scan::classify(line.content);
  if (cr) internals_->builder.anomaly(Anomaly::LINE_BARE_CR, line.offset, line.content.size());
  if (nul) internals_->builder.anomaly(Anomaly::LINE_NUL, line.offset, line.content.size());
  if (high && !utf8_ && !(server && server_language_))
    internals_->builder.anomaly(Anomaly::LINE_8BIT, line.offset, line.content.size());
}

void Session::count_line(bool good) {
  if (good) {
    ++good_lines_;
  } else {
    ++bad_lines_;
  }
}

void Session::give_up(Direction, const Line& line) {
  // Once a login succeeded the peer is POP3 whatever it sends later.
  if (gave_up_ || state_ != State::authorization) return;
  if (bad_lines_ >= not_pop3_min_bad_lines && bad_lines_ > 2 * good_lines_) {
    gave_up_ = true;
    internals_->builder.anomaly(Anomaly::NOT_POP3, line.offset, line.raw.size());
  }
}

// ---- client side --------------------------------------------------------------------------

void Session::client_line(const Line& line, EventHandler& h) {
  if (greeting_expected_ && server_mode_ == ServerMode::greeting &&
      !dir(Direction::server_to_client).seen_line && dir(Direction::server_to_client).offset == 0) {
    // POP3 clients wait for the greeting: a client that speaks first was captured mid-way.
    greeting_expected_ = false;
    resynchronising_ = true;
    state_unknown_ = true;
    server_mode_ = ServerMode::status;
    internals_->builder.anomaly(Anomaly::MIDSTREAM, line.offset, line.raw.size());
    // A first line that is no command is the tail of one (or a SASL answer): its response
    // went by before the capture started, so it must not wait in the queue.
    const std::string_view verb = line.content.substr(0, line.content.find(' '));
    const Command c = command_from_verb(verb);
    if (c == Command::unknown || c == Command::none) {
      emit_bytes_event(EventKind::skipped, Direction::client_to_server, line.offset, line.raw, h);
      return;
    }
  }
  if (!line.first_piece()) {
    emit(EventKind::unparsed, Direction::client_to_server, line, h);
    return;
  }
  // A client line belongs to the SASL exchange only when it answers a challenge: the client
  // cannot answer before the server asks, and a client that pipelines after an AUTH with an
  // initial response sends commands. After "*", stray non-commands are still the exchange's.
  bool sasl_line = internals_->exchange && exchange_owed_ > 0;
  if (internals_->exchange && !sasl_line && exchange_cancelled_) {
    std::string_view verb = line.content.substr(0, line.content.find(' '));
    const Command c = command_from_verb(verb);
    sasl_line = c == Command::unknown || c == Command::none;
  }
  if (!internals_->exchange && lost_challenges_ > 0) {
    // Answers the challenge of an AUTH the capture lost: shown, not decodable.
    --lost_challenges_;
    check_line_bytes(line);
    internals_->builder.add(Field::SASL, -1, 0, line.offset, line.content.size(), line.content);
    emit(EventKind::sasl_client, Direction::client_to_server, line, h, 0, Command::auth);
    return;
  }
  if (sasl_line) {
    if (exchange_owed_ > 0) --exchange_owed_;
    sasl_client_line(line, h);
  } else {
    command_line(line, h);
  }
}

void Session::command_line(const Line& line, EventHandler& h) {
  check_line_bytes(line);
  // The tail of a line cut by a gap, skipped up to here, belonged to the lost commands.
  if (!pending_.empty() && pending_.back().lost && pending_.back().end < line.offset) {
    pending_.back().end = line.offset;
    pending_.back().full_ack_end = 0;  // an answer to all of them is still to be seen
  }
  if (line.raw.size() > max_command_line && line.piece == 0)
    internals_->builder.anomaly(Anomaly::COMMAND_TOO_LONG, line.offset, line.raw.size());
  if (line.piece == 1)
    internals_->builder.anomaly(Anomaly::COMMAND_TOO_LONG, line.offset, line.raw.size());

  int32_t request = -1;
  ParsedCommand cmd = parse_command(line.content, line.offset, internals_->builder, &request);
  const bool known = cmd.command != Command::unknown && cmd.command != Command::none;
  count_line(known);

  if (quit_sent_)
    internals_->builder.anomaly(Anomaly::COMMAND_AFTER_QUIT, line.offset, line.raw.size());

  // The state the command will meet, assuming the logins already sent succeed (pipelining).
  State effective = state_;
  if (effective == State::authorization && pending_logins_ > 0) effective = State::transaction;
  const CommandInfo* info = command_info(cmd.command);
  const uint32_t effective_bit = effective == State::authorization ? POP3D_STATES_AUTHORIZATION
                                 : effective == State::transaction ? POP3D_STATES_TRANSACTION
                                                                   : 0;
  bool allowed = !info || (info->states & effective_bit) != 0;
  if (cmd.command == Command::pass) allowed = allowed && user_named_;
  // RFC 1939 section 5: message numbers run from 1 to the count STAT gave.
  if (cmd.has_message && maildrop_messages_ && cmd.message > *maildrop_messages_) {
    const Item* number = find_item(internals_->builder.items(), Field::MSG_NUMBER);
    internals_->builder.anomaly(Anomaly::COMMAND_ARG_RANGE, number ? number->offset : line.offset,
                                number ? number->length : line.raw.size());
  }
  if (!allowed && !quit_sent_ && !state_unknown_)
    internals_->builder.anomaly(Anomaly::COMMAND_WRONG_STATE, line.offset, line.raw.size());

  std::string_view needs = info ? info->capability : std::string_view{};
  // A command sent before the previous one was answered is pipelined (RFC 2449 section 6.6).
  if (!pending_.empty() && needs.empty()) needs = "PIPELINING";
  if (!needs.empty() && !advertised(needs))
    internals_->builder.anomaly(Anomaly::COMMAND_NOT_ADVERTISED, line.offset, line.raw.size());
  if (cmd.command == Command::stls && tls_)
    internals_->builder.anomaly(Anomaly::TLS_ANOMALY, line.offset, line.raw.size());

  // What the queue keeps of the command; the views are copied into its slot.
  const uint64_t id = next_request_id_++;
  bool sasl_login = false;
  std::string_view argument;
  std::string_view digest;
  // An unknown command is named as sent (keywords are 3 or 4 characters: keep a few more).
  if (cmd.command == Command::unknown) argument = cmd.verb.substr(0, 32);

  switch (cmd.command) {
    case Command::user:
      argument = cmd.name;
      user_named_ = true;
      break;
    case Command::pass:
      argument = cmd.password;
      ++pending_logins_;
      if (!tls_)
        internals_->builder.anomaly(Anomaly::CLEARTEXT_PASSWORD, cmd.password_offset,
                                    cmd.password.size());
      break;
    case Command::apop:
      argument = cmd.name;
      digest = cmd.digest;
      ++pending_logins_;
      if (greeting_timestamp_.empty()) {
        internals_->builder.anomaly(Anomaly::APOP_NO_TIMESTAMP, line.offset, line.raw.size());
      } else {
        internals_->builder.add_generated(Field::APOP_TIMESTAMP, request, greeting_timestamp_);
      }
      break;
    case Command::auth:
      if (!cmd.mechanism.empty()) {
        sasl_login = true;
        argument = cmd.mechanism;
        ++pending_logins_;
        internals_->exchange.emplace(cmd.mechanism);
        exchange_mechanism_ = upper(cmd.mechanism);
        exchange_request_id_ = id;
        exchange_steps_ = 0;
        exchange_owed_ = 0;
        exchange_cancelled_ = false;
        const Capabilities& caps = latest_capabilities();
        if (caps.seen && !caps.sasl_mechanisms.empty() && !caps.has_mechanism(cmd.mechanism))
          internals_->builder.anomaly(Anomaly::SASL_MECH_NOT_ADVERTISED, cmd.mechanism_offset,
                                      cmd.mechanism.size());
        if (internals_->exchange->mechanism() == sasl::Mechanism::unknown)
          internals_->builder.anomaly(Anomaly::SASL_UNKNOWN_MECHANISM, cmd.mechanism_offset,
                                      cmd.mechanism.size());
        if (cmd.has_initial_response) {
          internals_->builder.add(Field::SASL_INITIAL_RESPONSE, request, 0,
                                  cmd.initial_response_offset, cmd.initial_response.size(),
                                  cmd.initial_response);
          // RFC 5034 section 4: "=" stands for an empty initial response.
          std::string_view text =
              cmd.initial_response == "=" ? std::string_view{} : cmd.initial_response;
          sasl_step(Direction::client_to_server, text, cmd.initial_response_offset, request);
        }
      }
      break;
    case Command::quit: quit_sent_ = true; break;
    case Command::lang: argument = cmd.language; break;
    case Command::xtnd: argument = cmd.text; break;
    default: break;
  }

  const Command command = cmd.command;
  if (pending_.size() >= options_.max_pending) {
    // Responses come in order, so the oldest commands keep their place for matching; the
    // newest is not queued and its response will be read without knowing its command.
    if (!queue_overflowed_)
      internals_->builder.anomaly(Anomaly::QUEUE_OVERFLOW, line.offset, line.raw.size());
    queue_overflowed_ = true;
    ++unqueued_commands_;
    if (command == Command::pass || command == Command::apop || sasl_login)
      pending_logins_ -= pending_logins_ > 0 ? 1 : 0;
  } else {
    Pending& pending = pending_.push_back();
    pending.id = id;
    pending.command = command;
    pending.has_argument = cmd.argument_count > 0;
    pending.sasl = sasl_login;
    pending.argument.assign(argument);
    if (command == Command::unknown) make_upper(pending.argument);
    pending.digest.assign(digest);
    pending.offset = line.offset;
    pending.message = cmd.message;
    pending.lines = cmd.lines;
    pending.flags =
        (cmd.has_message ? transaction_message : 0u) | (cmd.has_lines ? transaction_lines : 0u);
    pending.unqueued_before = unqueued_commands_;
    unqueued_commands_ = 0;
    pending.end = line.offset + line.raw.size();
    pending.server_acked = peer_acked_[static_cast<size_t>(Direction::client_to_server)];
  }
  give_up(Direction::client_to_server, line);
  emit(EventKind::command, Direction::client_to_server, line, h, id, command);
}

// One SASL step's text (base64 or empty), from either side: the step subtree, the decoded
// buffer, and the mechanism's own decode.
void Session::sasl_step(Direction d, std::string_view text, uint64_t text_offset, int32_t parent) {
  ++exchange_steps_;
  const int32_t step = internals_->builder.add(Field::SASL, parent, 0, text_offset, text.size());
  internals_->builder.add_generated(Field::SASL_MECHANISM, step, exchange_mechanism_);
  internals_->builder.add_generated(Field::SASL_STEP, step, {}, exchange_steps_);
  const bool client = d == Direction::client_to_server;
  if (text.empty()) {
    internals_->builder.add_generated(Field::SASL_EMPTY, step, {}, 1);
    sasl::Step ctx{internals_->builder, 0, step, text_offset, 0};
    if (client) {
      internals_->exchange->client_step({}, ctx);
    } else {
      internals_->exchange->server_step({}, ctx);
    }
    return;
  }
  internals_->builder.add(Field::SASL_BASE64, step, 0, text_offset, text.size(), text);
  auto decoded = sasl::decode_base64(text);
  if (!decoded) {
    internals_->builder.anomaly(Anomaly::SASL_BAD_BASE64, text_offset, text.size());
    return;
  }
  const size_t items_before = internals_->builder.items().size();
  const size_t decoded_size = decoded->size();
  const uint32_t source =
      internals_->builder.add_buffer(std::move(*decoded), text_offset, text.size());
  internals_->builder.add(Field::SASL_DECODED, step, source, 0, decoded_size,
                          internals_->builder.buffer(source));
  sasl::Step ctx{internals_->builder, source, step, text_offset, text.size()};
  if (client) {
    internals_->exchange->client_step(internals_->builder.buffer(source), ctx);
  } else {
    internals_->exchange->server_step(internals_->builder.buffer(source), ctx);
  }
  // The step that carries a password in clear (PLAIN's response, LOGIN's password line) is
  // where the cleartext password is reported.
  if (client && !tls_) {
    const auto items = internals_->builder.items().subspan(items_before);
    if (find_item(items, Field::AUTH_PASSWORD))
      internals_->builder.anomaly(Anomaly::CLEARTEXT_PASSWORD, text_offset, text.size());
  }
}

void Session::sasl_client_line(const Line& line, EventHandler& h) {
  check_line_bytes(line);
  const int32_t top =
      internals_->builder.add(Field::SASL, -1, 0, line.offset, line.content.size(), line.content);
  if (exchange_cancelled_) {
    internals_->builder.anomaly(Anomaly::SASL_DATA_AFTER_CANCEL, line.offset, line.raw.size());
  } else if (line.content == "*") {
    // RFC 5034 section 4: "*" cancels; the server answers -ERR.
    exchange_cancelled_ = true;
    internals_->builder.add_number(Field::SASL_CANCEL, top, 0, line.offset, 1, 1);
    internals_->builder.anomaly(Anomaly::SASL_CANCELLED, line.offset, 1);
  } else {
    sasl_step(Direction::client_to_server, line.content, line.offset, top);
  }
  emit(EventKind::sasl_client, Direction::client_to_server, line, h, exchange_request_id_,
       Command::auth);
}

// ---- server side --------------------------------------------------------------------------

void Session::server_line(const Line& line, EventHandler& h) {
  if (!line.first_piece() && server_mode_ != ServerMode::data &&
      server_mode_ != ServerMode::unknown_data) {
    emit(EventKind::unparsed, Direction::server_to_client, line, h);
    return;
  }
  switch (server_mode_) {
    case ServerMode::greeting:
      if (!greeting_expected_) {
        server_mode_ = ServerMode::status;
        status_line(line, h);
        return;
      }
      greeting_line(line, h);
      return;
    case ServerMode::status: status_line(line, h); return;
    case ServerMode::data: data_line(line, h); return;
    case ServerMode::unknown_data: unknown_data_line(line, h); return;
  }
}

void Session::greeting_line(const Line& line, EventHandler& h) {
  if (!looks_like_status(line.content)) {
    // No greeting: the capture starts after it, probably inside a response.
    internals_->builder.anomaly(Anomaly::MIDSTREAM, line.offset, line.raw.size());
    greeting_expected_ = false;
    resynchronising_ = true;
    state_unknown_ = true;
    server_mode_ = ServerMode::unknown_data;
    unknown_data_line(line, h);
    return;
  }
  check_line_bytes(line, true);
  server_mode_ = ServerMode::status;
  greeting_expected_ = false;
  if (line.raw.size() > max_first_response_line)
    internals_->builder.anomaly(Anomaly::RESPONSE_TOO_LONG, line.offset, line.raw.size());
  int32_t response = -1;
  ParsedStatus status = parse_status(line.content, line.offset, internals_->builder, &response);
  count_line(status.valid);
  GreetingTimestamp ts = find_greeting_timestamp(line.content, line.offset);
  if (ts.found) {
    greeting_timestamp_ = std::string(ts.text);
    internals_->builder.add(Field::GREETING_TIMESTAMP, response, 0, ts.offset, ts.text.size(),
                            ts.text);
  } else if (ts.malformed) {
    internals_->builder.anomaly(Anomaly::GREETING_TIMESTAMP_MALFORMED, line.offset,
                                line.raw.size());
  }
  emit(EventKind::greeting, Direction::server_to_client, line, h);
}

void Session::status_line(const Line& line, EventHandler& h) {
  // During AUTH a "+" that is not "+OK" is a continuation (RFC 5034 section 4).
  if (internals_->exchange && !line.content.empty() && line.content[0] == '+' &&
      !(line.content.size() >= 3 && iequals(line.content.substr(0, 3), "+OK"))) {
    sasl_server_line(line, h);
    return;
  }
  // A continuation while the oldest pending entry stands for lost commands: the challenge of
  // an AUTH the capture lost; the client's answer to it is no command.
  if (!internals_->exchange && client_gap_seen_ && (pending_.empty() || pending_.front().lost) &&
      !line.content.empty() && line.content[0] == '+' &&
      (line.content.size() == 1 || line.content[1] == ' ')) {
    check_line_bytes(line, true);
    internals_->builder.add(Field::SASL, -1, 0, line.offset, line.content.size(), line.content);
    ++lost_challenges_;
    emit(EventKind::sasl_server, Direction::server_to_client, line, h, 0, Command::auth);
    return;
  }
  if (resynchronising_ && !looks_like_status(line.content)) {
    unknown_data_line(line, h);
    return;
  }
  // RFC 6856 section 3: once LANG picks a language, responses (this one included) may be
  // UTF-8 text in it.
  if (!pending_.empty() && pending_.front().command == Command::lang &&
      pending_.front().has_argument && looks_like_status(line.content) &&
      iequals(line.content.substr(0, 3), "+OK"))
    server_language_ = true;
  check_line_bytes(line, true);
  if (line.raw.size() > max_first_response_line)
    internals_->builder.anomaly(Anomaly::RESPONSE_TOO_LONG, line.offset, line.raw.size());
  int32_t response = -1;
  ParsedStatus status = parse_status(line.content, line.offset, internals_->builder, &response);
  count_line(status.valid);

  if (!status.valid) {
    // Not a status: no command is answered by it. Keep it verbatim.
    give_up(Direction::server_to_client, line);
    emit(EventKind::unparsed, Direction::server_to_client, line, h);
    return;
  }

  Answer answer;
  answer.status = status;
  answer.response = response;
  answer.matched = match_response(line, answer);
  const Command command = answer.pending.command;
  const uint64_t id = answer.pending.id;
  if (answer.matched) {
    open_transaction(answer.pending);
    open_.t.response_offset = line.offset;
    open_.t.indicator = status.ok ? Indicator::ok : Indicator::err;
    open_.t.response_code = status.response_code;
    open_.code.assign(status.code);
    open_.description.assign(status.description);
  }
  response_items(answer);
  if (answer.multiline && open_.active) open_.t.flags |= transaction_multiline;

  // Outcomes and state: one small handler per command that changes the session.
  switch (command) {
    case Command::user: on_user(answer); break;
    case Command::pass:
    case Command::apop: on_login(line, answer, h); break;
    case Command::auth:
      if (answer.pending.sasl) on_sasl_end(line, answer, h);
      break;
    case Command::quit: on_quit(answer); break;
    case Command::stls: on_stls(line, answer); break;
    case Command::utf8: on_utf8(answer); break;
    case Command::stat: on_stat(answer); break;
    default: break;
  }

  if (answer.multiline) {
    server_mode_ = ServerMode::data;
    data_cut_ = false;
    data_start_ = line.offset;
    data_request_id_ = id;
    data_command_ = command;
    data_lines_ = 0;
    data_octets_ = 0;
    if (command == Command::capa) collecting_ = Capabilities{};
  }
  // After a mid-stream start, a transaction command that succeeds tells the state.
  const CommandInfo* info = command_info(command);
  if (status.ok && state_unknown_ && state_ == State::authorization && info &&
      info->states == POP3D_STATES_TRANSACTION) {
    state_ = State::transaction;
    answer.state_change = true;
  }
  if (answer.matched && answer.state_change) state_unknown_ = false;
  // The documented order: STATUS, AUTH_RESULT, STATE, TRANSACTION (on_login and on_sasl_end
  // emitted the first two).
  if (!answer.login) emit(EventKind::status, Direction::server_to_client, line, h, id, command);
  if (answer.state_change) state_changed(line.offset, id, h);
  if (answer.matched && !answer.multiline) emit_transaction(h);
  // An answer to a command not known may be followed by data: read it as such until a status.
  if (answer.loss && status.ok) {
    server_mode_ = ServerMode::unknown_data;
    data_lines_ = data_octets_ = 0;
  }
  if (answer.dropped) emit_dropped(*answer.dropped, line.offset + line.raw.size(), h);
}

// Whether the hints prove that this status line does not answer `pending`: the server had not
// received the whole command when it sent the line, or the client had already received the
// line when it sent the command.
bool Session::excluded(const Pending& pending, const Line& line) const noexcept {
  const uint64_t acked = peer_acked_[static_cast<size_t>(Direction::server_to_client)];
  if (acked != peer_ack_unknown && pending.end > acked) return true;
  return pending.server_acked != peer_ack_unknown && line.offset < pending.server_acked;
}

// The status line answers one of the lost commands that `lost` stands for.
void Session::answer_to_lost(Pending& lost, const Line& line, Answer& answer) {
  const uint64_t acked = peer_acked_[static_cast<size_t>(Direction::server_to_client)];
  if (lost.owed > 0) --lost.owed;
  if (acked != peer_ack_unknown && acked >= lost.end)
    lost.full_ack_end = line.offset + line.raw.size();
  internals_->builder.anomaly(Anomaly::RESPONSE_TO_LOST_COMMAND, line.offset, line.raw.size());
  answer.loss = true;
  drop_lonely_placeholder();
}

// Without hints nothing tells how many commands a gap held: once its entry is alone in the
// queue with no answer certainly owed, the queue is taken as empty again.
void Session::drop_lonely_placeholder() noexcept {
  if (!hinted_ && pending_.size() == 1 && pending_.front().lost && pending_.front().owed == 0)
    pending_.pop_front();
}

// Pairs a status line with the command it answers (RFC 2449 section 6.6: in order), or with
// none when capture loss leaves it unknown (see Session::gap and set_peer_acknowledged).
bool Session::match_response(const Line& line, Answer& answer) {
  answer.pending = Pending{};
  const uint64_t line_end = line.offset + line.raw.size();
  // Commands lost in a client-side gap come before the rest of the queue.
  while (!pending_.empty() && pending_.front().lost) {
    Pending& lost = pending_.front();
    if (lost.owed > 0 || pending_.size() == 1) {
      answer_to_lost(lost, line, answer);
      return false;
    }
    Pending& next = pending_.at(1);  // entries for lost commands are never adjacent
    if (excluded(next, line)) {
      answer_to_lost(lost, line, answer);
      return false;
    }
    // An answer to the lost commands came after the server had received all of them, and the
    // client received it before sending the next command: the lost commands are taken as
    // answered (a server answers what it received before it receives what the client sent
    // after reading that answer).
    if (lost.full_ack_end > 0 && next.server_acked != peer_ack_unknown &&
        next.server_acked >= lost.full_ack_end) {
      pending_.pop_front();
      continue;
    }
    // It answers a lost command or the next one: the next one's answer cannot be told; if it
    // was not this one it is owed like a lost command's.
    internals_->builder.anomaly(Anomaly::RESPONSE_PAIRING_UNCERTAIN, line.offset, line.raw.size());
    answer.loss = true;
    answer.dropped = next;
    lost.end = std::max(lost.end, next.end);
    lost.full_ack_end = 0;
    pending_.remove_at(1);
    drop_lonely_placeholder();
    return false;
  }
  bool matched = false;
  uint64_t* unqueued = pending_.empty() ? &unqueued_commands_ : &pending_.front().unqueued_before;
  if (*unqueued > 0) {
    // Answers a command that overflowed the queue (reported once, at the overflow).
    --*unqueued;
    resynchronising_ = true;
  } else if (!pending_.empty() && hinted_ && server_gap_) {
    // Answers may have been lost since the last sure pairing: the candidates are the oldest
    // commands this line can answer, up to the first whose answer surely came after the gap.
    size_t candidates = 0;
    for (size_t i = 0; i < pending_.size(); ++i) {
      const Pending& p = pending_.at(i);
      if (!p.lost && excluded(p, line)) break;
      ++candidates;
      if (!p.lost && p.server_acked != peer_ack_unknown && p.server_acked >= server_gap_end_) break;
    }
    if (candidates == 0) {
      internals_->builder.anomaly(Anomaly::RESPONSE_TO_LOST_COMMAND, line.offset, line.raw.size());
      answer.loss = true;
    } else if (candidates == 1) {
      answer.pending = pending_.pop_front();
      matched = true;
      server_gap_ = false;
    } else {
      // The oldest candidate is answered by this line or its answer was lost.
      internals_->builder.anomaly(Anomaly::RESPONSE_PAIRING_UNCERTAIN, line.offset,
                                  line.raw.size());
      answer.loss = true;
      answer.dropped = pending_.pop_front();
      server_gap_end_ = line_end;
    }
  } else if (!pending_.empty() && hinted_ && excluded(pending_.front(), line)) {
    // Answers a command the capture never showed.
    internals_->builder.anomaly(Anomaly::RESPONSE_TO_LOST_COMMAND, line.offset, line.raw.size());
    answer.loss = true;
  } else if (!pending_.empty()) {
    answer.pending = pending_.pop_front();  // nothing below queues a command
    matched = true;
    server_gap_ = false;
  } else if (!resynchronising_) {
    internals_->builder.anomaly(Anomaly::RESPONSE_WITHOUT_REQUEST, line.offset, line.raw.size());
  }
  if (matched) resynchronising_ = false;
  if (pending_.empty() && unqueued_commands_ == 0) queue_overflowed_ = false;
  if (!matched) answer.pending = Pending{};
  return matched;
}

// The items every answer gets: the command answered, whether data follows, and the typed
// values of single-line answers.
void Session::response_items(Answer& answer) {
  const Pending& pending = answer.pending;
  const Command command = pending.command;
  const ParsedStatus& status = answer.status;
  const int32_t response = answer.response;
  // The command's name; an unknown one as sent; none for an empty command line.
  if (answer.matched && command == Command::unknown) {
    internals_->builder.add_generated(Field::RESPONSE_TO_COMMAND, response,
                                      internals_->builder.own(pending.argument));
  } else if (answer.matched && command != Command::none) {
    internals_->builder.add_generated(Field::RESPONSE_TO_COMMAND, response, command_name(command));
  }
  if (command == Command::pass || command == Command::apop || pending.sasl)
    pending_logins_ -= pending_logins_ > 0 ? 1 : 0;

  answer.multiline = status.ok && command_multiline(command, pending.has_argument ? 1 : 0);
  if (answer.multiline) {
    internals_->builder.add_generated(Field::RESPONSE_MULTILINE, response, {}, 1);
  } else if (status.ok && command == Command::list) {
    parse_scan_listing(status.description, status.description_offset, internals_->builder,
                       response);
  } else if (status.ok && command == Command::uidl) {
    parse_uidl_listing(status.description, status.description_offset, internals_->builder,
                       response);
  }
  if (status.ok && (command == Command::retr || command == Command::top)) {
    if (auto octets = parse_octets(status.description)) {
      size_t digits = status.description.find(' ');
      internals_->builder.add_number(Field::RESPONSE_OCTETS, response, 0, status.description_offset,
                                     digits, *octets);
      if (open_.active) {
        open_.t.announced_octets = *octets;
        open_.t.flags |= transaction_octets;
      }
    }
  }
}

void Session::on_user(const Answer& answer) {
  if (answer.status.ok) {
    pending_user_ = answer.pending.argument;
  } else {
    user_named_ = false;
  }
}

void Session::on_stat(const Answer& answer) {
  if (!answer.status.ok) return;
  const ParsedStatus& status = answer.status;
  if (!parse_stat(status.description, status.description_offset, internals_->builder,
                  answer.response))
    return;
  // STAT leaves out deleted messages, whose numbers stay valid: keep the largest.
  if (const Item* count = find_item(internals_->builder.items(), Field::STAT_MESSAGES))
    maildrop_messages_ = std::max(maildrop_messages_.value_or(0), count->number);
  if (const Item* octets = find_item(internals_->builder.items(), Field::STAT_OCTETS)) {
    if (open_.active) {
      open_.t.announced_octets = octets->number;
      open_.t.flags |= transaction_octets;
    }
  }
}

// How a login ended, from its status line (RFC 2449 section 8, RFC 3206): the credentials
// were rejected ([AUTH] or no code), or the server named another reason. Raises the one
// anomaly the outcome deserves.
AuthResult Session::login_result(const Answer& answer, const Line& line) {
  if (answer.status.ok) return AuthResult::success;
  if (answer.pending.sasl && exchange_cancelled_) return AuthResult::cancelled;
  const ResponseCode code = answer.status.response_code;
  if (code == ResponseCode::none || code == ResponseCode::auth) {
    // auth_failed says it all: the [AUTH] note would repeat it.
    internals_->builder.remove_anomaly(Anomaly::RESPONSE_CODE_AUTH);
    internals_->builder.anomaly(Anomaly::AUTH_FAILED, line.offset, line.raw.size());
    return AuthResult::failure;
  }
  // Refused for a reason the response code names; its anomaly is the one raised.
  return AuthResult::refused;
}

void Session::on_login(const Line& line, Answer& answer, EventHandler& h) {
  const Pending& pending = answer.pending;
  const bool apop = pending.command == Command::apop;
  const uint64_t id = pending.id;
  std::string name = apop ? pending.argument : pending_user_;
  const AuthResult result = login_result(answer, line);
  std::optional<bool> verified;
  const std::string* known = password_for(name);
  if (known && (!apop || !greeting_timestamp_.empty())) {
    verified = apop ? sasl::verify_apop(greeting_timestamp_, *known, pending.digest)
                    : std::optional<bool>(*known == pending.argument);
    if (verified && !*verified)
      internals_->builder.anomaly(Anomaly::PASSWORD_MISMATCH, line.offset, line.raw.size());
  }
  emit(EventKind::status, Direction::server_to_client, line, h, id, pending.command);
  auth_result(apop ? "APOP" : "USER/PASS", name, apop ? std::string_view{} : pending.argument,
              apop ? std::string_view(pending.digest) : std::string_view{}, {}, result, verified, 0,
              line.offset, id, pending.command, h);
  answer.login = true;
  if (result == AuthResult::success) {
    state_ = State::transaction;
    user_ = name;
    answer.state_change = true;
  }
  user_named_ = false;
}

void Session::on_sasl_end(const Line& line, Answer& answer, EventHandler& h) {
  const AuthResult result = login_result(answer, line);
  emit(EventKind::status, Direction::server_to_client, line, h, answer.pending.id, Command::auth);
  end_exchange(result, &line, h, answer.pending.id);
  answer.login = true;
  answer.state_change = result == AuthResult::success;
}

void Session::on_quit(Answer& answer) {
  if (answer.status.ok && state_ == State::transaction) {
    state_ = State::update;
    answer.state_change = true;
  }
}

void Session::on_stls(const Line& line, Answer& answer) {
  if (answer.status.ok && !tls_) {
    tls_ = true;
    answer.state_change = true;
    dir(Direction::client_to_server).tls_check = true;
    dir(Direction::server_to_client).tls_check = true;
  } else if (!answer.status.ok) {
    internals_->builder.anomaly(Anomaly::TLS_ANOMALY, line.offset, line.raw.size());
  }
}

void Session::on_utf8(Answer& answer) {
  if (answer.status.ok && !utf8_) {
    utf8_ = true;
    answer.state_change = true;
  }
}

// The answered command becomes the open transaction; its answer fills it in.
void Session::open_transaction(const Pending& pending) {
  OpenTransaction& o = open_;
  o.active = true;
  o.t = Transaction{};
  o.t.request_id = pending.id;
  o.t.command = pending.command;
  o.t.flags = pending.flags;
  o.t.command_offset = pending.offset;
  o.t.message = pending.message;
  o.t.lines = pending.lines;
  // PASS's argument is the password: a transaction carries no secret.
  if (pending.command == Command::pass) {
    o.argument.clear();
  } else {
    o.argument.assign(pending.argument);
  }
  o.code.clear();
  o.description.clear();
  o.mechanism.clear();
  o.authcid.clear();
  o.authzid.clear();
}

void Session::emit_transaction(EventHandler& h, uint32_t extra_flags, uint64_t at) {
  flush_chunk(h);
  if (!open_.active) return;
  open_.active = false;
  if (!wanted(EventKind::transaction)) return;
  Transaction& t = open_.t;
  t.flags |= extra_flags;
  t.argument = open_.argument;
  t.code = open_.code;
  t.description = open_.description;
  t.mechanism = open_.mechanism;
  t.authcid = open_.authcid;
  t.authzid = open_.authzid;
  if (t.flags & transaction_multiline) {
    t.data_lines = data_lines_;
    t.data_octets = data_octets_;
  }
  Event ev;
  ev.kind = EventKind::transaction;
  ev.direction = Direction::server_to_client;
  // An unanswered command's transaction stands where the server stream ended.
  ev.offset = !(t.flags & (transaction_unanswered | transaction_answer_unknown)) ? t.response_offset
              : at != UINT64_MAX                                                 ? at
                                 : dir(Direction::server_to_client).offset;
  ev.request_id = t.request_id;
  ev.command = t.command;
  ev.transaction = &t;
  ev.items = internals_->builder.items();
  ev.buffers = internals_->builder.buffers();
  ev.anomalies = internals_->builder.anomalies();
  h.on_event(ev);
  internals_->builder.clear();
}

void Session::state_changed(uint64_t offset, uint64_t request_id, EventHandler& h) {
  internals_->builder.add_generated(Field::SESSION_STATE, -1, state_name(state_),
                                    static_cast<uint64_t>(state_));
  if (!user_.empty()) internals_->builder.add_generated(Field::SESSION_USER, -1, user_);
  internals_->builder.add_generated(Field::SESSION_TLS, -1, {}, tls_ ? 1 : 0);
  internals_->builder.add_generated(Field::SESSION_UTF8, -1, {}, utf8_ ? 1 : 0);
  emit_generated(EventKind::state, Direction::server_to_client, offset, h, request_id);
}

void Session::auth_result(std::string_view method, std::string_view user, std::string_view password,
                          std::string_view secret, std::string_view authzid, AuthResult result,
                          std::optional<bool> verified, uint64_t steps, uint64_t offset,
                          uint64_t request_id, Command command, EventHandler& h) {
  if (open_.active && open_.t.request_id == request_id) {
    Transaction& t = open_.t;
    t.auth_result = result;
    t.sasl_steps = static_cast<uint32_t>(steps);
    if (verified) t.flags |= *verified ? transaction_verified : transaction_mismatch;
    open_.mechanism.assign(method);
    open_.authcid.assign(user);
    open_.authzid.assign(authzid);
  }
  if (!wanted(EventKind::auth_result)) {
    internals_->builder.clear();
    return;
  }
  const int32_t auth = internals_->builder.add_generated(Field::AUTH, -1, {});
  internals_->builder.add_generated(Field::AUTH_METHOD, auth, method);
  if (!user.empty()) internals_->builder.add_generated(Field::AUTH_USERNAME, auth, user);
  if (!authzid.empty()) internals_->builder.add_generated(Field::AUTH_AUTHZID, auth, authzid);
  if (!password.empty())
    internals_->builder.add_generated(Field::AUTH_PASSWORD, auth, password, 0, item_secret);
  if (!secret.empty())
    internals_->builder.add_generated(Field::AUTH_SECRET, auth, secret, 0, item_secret);
  // The name as text (the plugin's pop3.auth.result), the enum value as the number.
  internals_->builder.add_generated(Field::AUTH_RESULT, auth, auth_result_name(result),
                                    static_cast<uint64_t>(result));
  if (steps) internals_->builder.add_generated(Field::AUTH_STEPS, auth, {}, steps);
  if (verified)
    internals_->builder.add_generated(Field::AUTH_VERIFIED, auth, {}, *verified ? 1 : 0);
  emit_generated(EventKind::auth_result, Direction::server_to_client, offset, h, request_id,
                 command);
}

// Ends the SASL exchange with `result`; `line` is the final status (null when the connection
// ended first).
void Session::end_exchange(AuthResult result, const Line* line, EventHandler& h,
                           uint64_t request_id) {
  if (!internals_->exchange) return;
  sasl::Exchange exchange = std::move(*internals_->exchange);
  internals_->exchange.reset();
  const sasl::Credentials& creds = exchange.credentials();
  std::optional<bool> verified;
  if (const std::string* known = password_for(creds.username)) {
    verified = exchange.verify(*known);  // nullopt for mechanisms without a checkable proof
    if (!verified && !creds.password.empty()) verified = *known == creds.password;
  }
  const uint64_t offset = line ? line->offset : dir(Direction::server_to_client).offset;
  if (verified && !*verified)
    internals_->builder.anomaly(Anomaly::PASSWORD_MISMATCH, offset, line ? line->raw.size() : 0);
  // OAUTHBEARER and EXTERNAL name the user only as the authorization identity.
  std::string user = creds.username.empty() ? creds.authzid : creds.username;
  auth_result(exchange_mechanism_, user, creds.password, creds.secret, creds.authzid, result,
              verified, exchange_steps_, offset, request_id, Command::auth, h);
  if (result == AuthResult::success) {
    state_ = State::transaction;
    // The mailbox opened is the authorization identity's when one was given (a master user
    // logging in for alice opens alice's mailbox).
    user_ = creds.authzid.empty() ? user : creds.authzid;
  }
}

void Session::sasl_server_line(const Line& line, EventHandler& h) {
  check_line_bytes(line, true);
  const int32_t top =
      internals_->builder.add(Field::SASL, -1, 0, line.offset, line.content.size(), line.content);
  ++exchange_owed_;
  // "+" then optionally one space, then base64 (possibly empty).
  size_t start = 1;
  if (start < line.content.size() && line.content[start] == ' ') ++start;
  sasl_step(Direction::server_to_client, line.content.substr(start), line.offset + start, top);
  emit(EventKind::sasl_server, Direction::server_to_client, line, h, exchange_request_id_,
       Command::auth);
}

void Session::data_line(const Line& line, EventHandler& h) {
  std::string_view content = line.content;
  if (line.piece == 0 && content.size() == 1 && content[0] == '.') {
    if (data_command_ == Command::capa) store_capabilities();
    data_end_items(line);
    emit(EventKind::data_end, Direction::server_to_client, line, h, data_request_id_,
         data_command_);
    server_mode_ = ServerMode::status;
    data_command_ = Command::none;
    emit_transaction(h);
    return;
  }
  // After a gap cut this answer, its end may have been lost: a status line that answers the
  // next command (sent after the client had received the start of this answer, and received
  // by the server before it sent the line) ends it.
  if (data_cut_ && hinted_ && line.piece == 0 && !pending_.empty() && !pending_.front().lost &&
      looks_like_status(content) &&
      peer_acked_[static_cast<size_t>(Direction::server_to_client)] != peer_ack_unknown &&
      pending_.front().server_acked != peer_ack_unknown &&
      pending_.front().server_acked > data_start_ && !excluded(pending_.front(), line)) {
    if (data_command_ == Command::capa) store_capabilities();
    server_mode_ = ServerMode::status;
    data_command_ = Command::none;
    emit_transaction(h);
    status_line(line, h);
    return;
  }
  // A listing never has a line that starts like a status; if one comes while another command
  // waits, the server forgot the terminating "." (mail bodies are exempt: any text may occur).
  const bool listing = data_command_ != Command::retr && data_command_ != Command::top;
  if (listing && line.piece == 0 && !pending_.empty() && looks_like_status(content)) {
    if (data_command_ == Command::capa) store_capabilities();
    server_mode_ = ServerMode::status;
    data_command_ = Command::none;
    emit_transaction(h, transaction_cut);  // before the anomaly: it goes on the status line
    internals_->builder.anomaly(Anomaly::DATA_UNTERMINATED, line.offset, 0);
    status_line(line, h);
    return;
  }
  // RFC 1939 section 3: a leading termination octet followed by more is removed.
  std::string_view data = line.raw;
  if (line.first_piece() && !content.empty() && content[0] == '.') {
    data.remove_prefix(1);
    content.remove_prefix(1);
    internals_->builder.add_generated(Field::DATA_STUFFED, -1, {}, 1);
    if (content.empty() || content[0] != '.')
      internals_->builder.anomaly(Anomaly::DATA_UNSTUFFED_DOT, line.offset, line.raw.size());
  }
  if (line.piece <= 1) ++data_lines_;
  data_octets_ += data.size();
  const uint64_t content_offset = line.offset + (line.content.size() - content.size());
  if (line.first_piece()) {
    switch (data_command_) {
      case Command::list:
        parse_scan_listing(content, content_offset, internals_->builder, -1);
        break;
      case Command::uidl:
        parse_uidl_listing(content, content_offset, internals_->builder, -1);
        break;
      case Command::capa: {
        ParsedCapability capa = parse_capability(content, content_offset, internals_->builder);
        // A hostile server may announce without end: the first max_capabilities are kept.
        if (!capa.name.empty() && collecting_.names.size() < max_capabilities)
          collecting_.names.push_back(upper(capa.name));
        if (iequals(capa.name, "SASL")) {
          for (const Item& item : internals_->builder.items())
            if (item.field == Field::CAPA_SASL_MECHANISM &&
                collecting_.sasl_mechanisms.size() < max_capabilities)
              collecting_.sasl_mechanisms.push_back(upper(item.text));
        }
        break;
      }
      case Command::auth:
        if (!content.empty())
          internals_->builder.add(Field::SASL_MECHANISM, -1, 0, content_offset, content.size(),
                                  content);
        break;
      default: break;
    }
  }
  if (wanted_data_chunk_)
    chunk_append(data, line.offset, line.raw.size(), data_request_id_, data_command_, h);
  if (wanted_data_line_)
    emit(EventKind::data_line, Direction::server_to_client, line, h, data_request_id_,
         data_command_, data);
  else
    internals_->builder.clear();
  if (chunk_.active && chunk_.held) emit_chunk(h);
}

void Session::data_end_items(const Line& line) {
  const int32_t end =
      internals_->builder.add(Field::DATA_END, -1, 0, line.offset, line.content.size());
  internals_->builder.add_generated(Field::DATA_LINES, end, {}, data_lines_);
  internals_->builder.add_generated(Field::DATA_OCTETS, end, {}, data_octets_);
}

void Session::store_capabilities() {
  const auto phase = static_cast<size_t>((tls_ ? 1 : 0) + (state_ == State::transaction ? 2 : 0));
  collecting_.seen = true;
  capabilities_[phase] = std::move(collecting_);
  collecting_ = Capabilities{};
  latest_capa_phase_ = static_cast<int>(phase);
}

void Session::unknown_data_line(const Line& line, EventHandler& h) {
  // After a mid-stream start: data of a response whose command we never saw, until its end.
  if (line.piece == 0 && line.content == ".") {
    data_end_items(line);
    emit(EventKind::data_end, Direction::server_to_client, line, h);
    server_mode_ = ServerMode::status;
    data_lines_ = data_octets_ = 0;
    return;
  }
  // A status line ends the unknown data when a known command waits for it (or nothing came
  // before it): the data was the tail of an answer the capture missed the start of.
  if (line.first_piece() && looks_like_status(line.content) &&
      server_mode_ == ServerMode::unknown_data && (!pending_.empty() || data_lines_ == 0)) {
    data_lines_ = data_octets_ = 0;
    server_mode_ = ServerMode::status;
    status_line(line, h);
    return;
  }
  if (server_mode_ != ServerMode::unknown_data) {
    server_mode_ = ServerMode::unknown_data;
    data_lines_ = data_octets_ = 0;
  }
  std::string_view data = line.raw;
  if (line.first_piece() && !line.content.empty() && line.content[0] == '.') data.remove_prefix(1);
  ++data_lines_;
  data_octets_ += data.size();
  if (wanted_data_chunk_) chunk_append(data, line.offset, line.raw.size(), 0, Command::none, h);
  emit(EventKind::data_line, Direction::server_to_client, line, h, 0, Command::none, data);
  if (chunk_.active && chunk_.held) emit_chunk(h);
}

void Session::finish(EventHandler& h) {
  for (size_t i = 0; i < directions_.size(); ++i) {
    const auto d = static_cast<Direction>(i);
    DirectionState& ds = directions_[i];
    if (ds.probe_status && !ds.partial.empty()) {
      emit_bytes_event(EventKind::skipped, d, ds.partial_start, ds.partial, h);
      ds.partial.clear();
    }
    if (ds.partial.empty() || gave_up_ || ds.mode != Mode::lines) continue;
    std::string rest = std::move(ds.partial);
    ds.partial.clear();
    Line line;
    line.raw = rest;
    line.content = rest;
    line.offset = ds.partial_start;
    line.piece = ds.piece ? ds.piece + 1 : 0;
    ds.piece = 0;
    deliver(d, line, h);
  }
  const uint64_t end_offset = dir(Direction::server_to_client).offset;
  uint64_t cut_request = 0;
  Command cut_command = Command::none;
  if (!gave_up_) {
    if (internals_->exchange) {
      internals_->builder.anomaly(Anomaly::SASL_ABORTED, end_offset, 0);
      end_exchange(AuthResult::aborted, nullptr, h, exchange_request_id_);
    }
    if (server_mode_ == ServerMode::data) {
      cut_request = data_request_id_;
      cut_command = data_command_;
      emit_transaction(h, transaction_cut);
    }
    // Every command still waiting gets its transaction, marked unanswered.
    while (!pending_.empty()) {
      const Pending& pending = pending_.pop_front();
      if (pending.lost) continue;  // commands the capture lost have no transaction
      open_transaction(pending);
      if (pending.command == Command::pass || pending.command == Command::apop || pending.sasl) {
        open_.t.auth_result = AuthResult::aborted;
        open_.mechanism.assign(pending.command == Command::pass   ? "USER/PASS"
                               : pending.command == Command::apop ? "APOP"
                                                                  : pending.argument);
      }
      emit_transaction(h, transaction_unanswered);
    }
    // The anomaly that cut an answer names the command whose answer it cut.
    if (cut_request) internals_->builder.anomaly(Anomaly::DATA_UNTERMINATED, end_offset, 0);
  }
  emit_generated(EventKind::end, Direction::server_to_client, end_offset, h, cut_request,
                 cut_command);
}

}  // namespace pop3decode
