// Test vectors as data: tests/vectors/*.vec hold client and server bytes in wire order and the
// expected event log. Each vector is replayed whole, split at every byte position, and one
// byte at a time; every replay must give the same log.
//
// File format (one directive per line):
//   # comment
//   option max_line=N | max_pending=N | mid_stream | implicit_tls
//   password USER PASSWORD   (escapes as below, e.g. \x20 for a space)
//   C: bytes      client-to-server chunk (escapes: \r \n \t \\ \xHH; nothing implicit)
//   S: bytes      server-to-client chunk
//   gap C N       N bytes of the client (or S: server) stream lost
//   --- events    the rest of the file is the expected log (see dump_event)
// Empty lines are allowed before "--- events". Any other line (an unknown directive or option,
// a typo, a missing "--- events") makes load_vector throw: a vector must not silently test
// less than it says.
#pragma once

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "pop3decode/pop3decode.h"
#include "pop3decode/session.hpp"

namespace pop3test {

struct Chunk {
  pop3decode::Direction direction;
  std::string bytes;
  uint64_t gap = 0;  // a gap instead of bytes when non-zero
};

struct Vector {
  std::string name;
  pop3decode::Options options;
  std::vector<std::pair<std::string, std::string>> passwords;
  std::vector<Chunk> chunks;
  std::string expected;
  std::string header;  // everything before "--- events", kept when rewriting
};

inline std::string unescape(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\' || i + 1 >= text.size()) {
      out += text[i];
      continue;
    }
    char c = text[++i];
    switch (c) {
      case 'r': out += '\r'; break;
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case '0': out += '\0'; break;
      case '\\': out += '\\'; break;
      case 'x':
        if (i + 2 < text.size()) {
          out += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
          i += 2;
        }
        break;
      default:
        out += '\\';
        out += c;
        break;
    }
  }
  return out;
}

inline std::string escape(std::string_view bytes) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (char ch : bytes) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\r')
      out += "\\r";
    else if (c == '\n')
      out += "\\n";
    else if (c == '\t')
      out += "\\t";
    else if (c < 0x20 || c >= 0x7f) {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else
      out += static_cast<char>(c);
  }
  return out;
}

inline Vector load_vector(const std::string& path) {
  Vector v;
  v.name = path;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot be read");
  std::string line;
  bool events = false;
  size_t line_number = 0;
  std::ostringstream expected, header;
  auto reject = [&](const std::string& why) {
    throw std::runtime_error(path + ":" + std::to_string(line_number) + ": " + why + ": " + line);
  };
  while (std::getline(in, line)) {
    ++line_number;
    if (events) {
      expected << line << "\n";
      continue;
    }
    header << line << "\n";
    if (line == "--- events") {
      events = true;
    } else if (line.rfind("C: ", 0) == 0 || line.rfind("S: ", 0) == 0) {
      v.chunks.push_back({line[0] == 'C' ? pop3decode::Direction::client_to_server
                                         : pop3decode::Direction::server_to_client,
                          unescape(line.substr(3)), 0});
    } else if (line.rfind("gap ", 0) == 0) {
      if (line.size() < 7 || (line[4] != 'C' && line[4] != 'S') || line[5] != ' ' ||
          line.find_first_not_of("0123456789", 6) != std::string::npos)
        reject("malformed gap (gap C N or gap S N)");
      v.chunks.push_back({line[4] == 'C' ? pop3decode::Direction::client_to_server
                                         : pop3decode::Direction::server_to_client,
                          {},
                          std::stoull(line.substr(6))});
    } else if (line.rfind("password ", 0) == 0) {
      std::istringstream words(line.substr(9));
      std::string user, password, extra;
      if (!(words >> user >> password) || (words >> extra)) reject("malformed password");
      v.passwords.emplace_back(unescape(user), unescape(password));
    } else if (line.rfind("option ", 0) == 0) {
      std::string opt = line.substr(7);
      if (opt == "mid_stream")
        v.options.mid_stream = true;
      else if (opt == "implicit_tls")
        v.options.implicit_tls = true;
      else if (opt.rfind("max_line=", 0) == 0)
        v.options.max_line = std::stoul(opt.substr(9));
      else if (opt.rfind("max_pending=", 0) == 0)
        v.options.max_pending = std::stoul(opt.substr(12));
      else
        reject("unknown option");
    } else if (!line.empty() && line[0] != '#') {
      reject("unknown directive");
    }
  }
  if (!events) throw std::runtime_error(path + ": no \"--- events\" line");
  v.expected = expected.str();
  v.header = header.str();
  return v;
}

// One event in a stable text form: offsets, kind, request, every item and anomaly.
inline void dump_event(std::ostringstream& out, const pop3decode::Event& e) {
  using namespace pop3decode;
  out << event_kind_name(e.kind) << ' ' << (e.direction == Direction::client_to_server ? 'C' : 'S')
      << " @" << e.offset << '+' << e.length;
  if (e.request_id) out << " req=" << e.request_id;
  if (e.command != Command::none) out << ' ' << command_name(e.command);
  if (e.piece) out << " piece=" << e.piece;
  if (e.kind == EventKind::data_line) out << " data=\"" << escape(e.data) << '"';
  out << '\n';
  for (size_t i = 0; i < e.items.size(); ++i) {
    const Item& item = e.items[i];
    int depth = 1;
    for (int32_t p = item.parent; p >= 0 && depth < 16; p = e.items[size_t(p)].parent) ++depth;
    out << std::string(size_t(depth) * 2, ' ') << field_name(item.field);
    if (item.flags & item_generated) {
      out << " gen";
    } else {
      if (item.source) out << " buf" << item.source;
      out << " @" << item.offset << '+' << item.length;
    }
    switch (field_type(item.field)) {
      case FieldType::string:
      case FieldType::bytes: out << " \"" << escape(item.text) << '"'; break;
      case FieldType::uint:
      case FieldType::boolean: out << ' ' << item.number; break;
      case FieldType::none: break;
    }
    out << '\n';
  }
  if (const Transaction* t = e.transaction) {
    out << "  = @" << t->command_offset;
    if (t->flags & transaction_unanswered) out << " unanswered";
    if (t->flags & transaction_cut) out << " cut";
    if (t->flags & transaction_answer_unknown) out << " answer_unknown";
    if (t->flags & transaction_message) out << " msg=" << t->message;
    if (t->flags & transaction_lines) out << " lines=" << t->lines;
    if (!t->argument.empty()) out << " arg=\"" << escape(t->argument) << '"';
    if (t->indicator != Indicator::none)
      out << " -> @" << t->response_offset << ' ' << indicator_name(t->indicator);
    if (t->response_code != ResponseCode::none)
      out << " [" << response_code_name(t->response_code) << " \"" << escape(t->code) << "\"]";
    if (!t->description.empty()) out << " \"" << escape(t->description) << '"';
    if (t->flags & transaction_octets) out << " octets=" << t->announced_octets;
    if (t->flags & transaction_multiline) out << " data=" << t->data_lines << '/' << t->data_octets;
    if (t->auth_result != AuthResult::none) {
      out << " auth=" << auth_result_name(t->auth_result) << " mech=\"" << escape(t->mechanism)
          << '"';
      if (!t->authcid.empty()) out << " authcid=\"" << escape(t->authcid) << '"';
      if (!t->authzid.empty()) out << " authzid=\"" << escape(t->authzid) << '"';
      if (t->sasl_steps) out << " steps=" << t->sasl_steps;
      if (t->flags & transaction_verified) out << " verified";
      if (t->flags & transaction_mismatch) out << " mismatch";
    }
    out << '\n';
  }
  if (e.flags & event_secret) out << "  secret\n";
  for (const AnomalyHit& hit : e.anomalies)
    out << "  ! " << anomaly_name(hit.anomaly) << " @" << hit.offset << '+' << hit.length << '\n';
}

// Records the dump of every event. SKIPPED and TLS events report bytes as they arrive, so
// their cuts follow the input's: contiguous ones are merged to compare replays.
class Recorder final : public pop3decode::EventHandler {
 public:
  void on_event(const pop3decode::Event& e) override {
    using pop3decode::EventKind;
    const bool raw = e.kind == EventKind::skipped || e.kind == EventKind::tls;
    if (raw && merging_ && e.kind == merged_.kind && e.direction == merged_.direction &&
        e.offset == merged_.offset + merged_.length && e.anomalies.empty()) {
      merged_.length += e.length;
      return;
    }
    flush();
    if (raw) {
      merged_ = e;
      merged_anomalies_.assign(e.anomalies.begin(), e.anomalies.end());
      merged_.anomalies = merged_anomalies_;
      merged_.items = {};
      merged_.buffers = {};
      merged_.line = {};
      merging_ = true;
      return;
    }
    dump_event(out_, e);
  }
  std::string str() {
    flush();
    return out_.str();
  }

 private:
  void flush() {
    if (merging_) dump_event(out_, merged_);
    merging_ = false;
  }
  std::ostringstream out_;
  pop3decode::Event merged_;
  std::vector<pop3decode::AnomalyHit> merged_anomalies_;
  bool merging_ = false;
};

// Feeds the vector's chunks to a session made with `options` (and the vector's passwords),
// each chunk cut at the given global byte positions (sorted), then finishes; events go to
// `handler`.
inline void replay_into(const Vector& v, const pop3decode::Options& options,
                        const std::vector<size_t>& cuts, pop3decode::EventHandler& handler) {
  pop3decode::Session session(options);
  for (const auto& [user, password] : v.passwords) session.add_password(user, password);
  size_t global = 0;
  size_t next_cut = 0;
  for (const Chunk& chunk : v.chunks) {
    if (chunk.gap) {
      session.gap(chunk.direction, chunk.gap, handler);
      continue;
    }
    size_t start = 0;
    while (next_cut < cuts.size() && cuts[next_cut] <= global) ++next_cut;
    while (next_cut < cuts.size() && cuts[next_cut] < global + chunk.bytes.size()) {
      size_t at = cuts[next_cut] - global;
      session.feed(chunk.direction, std::string_view(chunk.bytes).substr(start, at - start),
                   handler);
      start = at;
      ++next_cut;
    }
    session.feed(chunk.direction, std::string_view(chunk.bytes).substr(start), handler);
    global += chunk.bytes.size();
  }
  session.finish(handler);
}

// The vector's options for the C ABI.
inline pop3d_options c_options(const Vector& v) {
  pop3d_options options;
  pop3d_options_init(&options);
  options.max_line = v.options.max_line;
  options.max_pending = v.options.max_pending;
  options.mid_stream = v.options.mid_stream;
  options.implicit_tls = v.options.implicit_tls;
  return options;
}

// The event dump of a replay with the vector's own options.
inline std::string replay(const Vector& v, const std::vector<size_t>& cuts) {
  Recorder rec;
  replay_into(v, v.options, cuts, rec);
  return rec.str();
}

inline size_t total_bytes(const Vector& v) {
  size_t n = 0;
  for (const Chunk& c : v.chunks) n += c.bytes.size();
  return n;
}

}  // namespace pop3test
