// DATA_CHUNK: multi-line data as one stream of bytes. Concatenated, the chunks of each answer
// are its concatenated DATA_LINE data at every split point of every vector, and choosing
// chunks changes no transaction.
#include <algorithm>
#include <filesystem>
#include <map>
#include <sstream>

#include "catch_compat.hpp"
#include "pop3decode/session.hpp"
#include "vector_runner.hpp"

using namespace pop3decode;

namespace {

constexpr Direction C = Direction::client_to_server;
constexpr Direction S = Direction::server_to_client;

// Per request id, in order: the data (of DATA_LINE or DATA_CHUNK events), the wire bytes
// they cover, and the transactions' dumps. Checks each chunk's own promises as it goes.
class DataRecorder final : public EventHandler {
 public:
  void on_event(const Event& e) override {
    switch (e.kind) {
      case EventKind::data_line:
        lines[e.request_id] += e.data;
        line_wire[e.request_id] += e.length;
        since_chunk[e.request_id] += e.data;
        last_line_end = e.offset + e.length;
        break;
      case EventKind::data_chunk: {
        ++chunk_count;
        CHECK(e.direction == S);
        CHECK(e.line.empty());
        CHECK(e.items.empty());
        CHECK(e.anomalies.empty());
        CHECK(e.length >= e.data.size());
        CHECK(!e.data.empty());
        chunks[e.request_id] += e.data;
        chunk_wire[e.request_id] += e.length;
        // Contiguous with the previous chunk of the same answer unless bytes were lost.
        auto previous = chunk_end.find(e.request_id);
        if (previous != chunk_end.end() && !gap_since_chunk) CHECK(previous->second == e.offset);
        chunk_end[e.request_id] = e.offset + e.length;
        gap_since_chunk = false;
        if (with_lines) {
          // The chunk comes after the DATA_LINE events of its lines, and holds their data.
          CHECK(since_chunk[e.request_id] == std::string(e.data));
          CHECK(last_line_end == e.offset + e.length);
          since_chunk[e.request_id].clear();
        }
        break;
      }
      case EventKind::skipped: gap_since_chunk = true; break;
      case EventKind::transaction: pop3test::dump_event(transactions, e); break;
      default: break;
    }
  }
  bool with_lines = false;
  bool gap_since_chunk = false;
  size_t chunk_count = 0;
  uint64_t last_line_end = 0;
  std::map<uint64_t, std::string> lines, chunks, since_chunk;
  std::map<uint64_t, uint64_t> line_wire, chunk_wire, chunk_end;
  std::ostringstream transactions;
};

void replay(const pop3test::Vector& v, const std::vector<size_t>& cuts, uint32_t wanted,
            DataRecorder& rec) {
  Options options = v.options;
  options.wanted_events = wanted;
  pop3test::replay_into(v, options, cuts, rec);
}

constexpr uint32_t chunks_only = event_bit(EventKind::data_chunk) |
                                 event_bit(EventKind::transaction) | event_bit(EventKind::skipped);

}  // namespace

TEST_CASE("data chunks concatenate to the data lines at every split of every vector",
          "[chunk][vectors]") {
  size_t vectors = 0, with_data = 0;
  for (const auto& entry : std::filesystem::directory_iterator(POP3DECODE_VECTORS_DIR)) {
    if (entry.path().extension() != ".vec") continue;
    const pop3test::Vector v = pop3test::load_vector(entry.path().string());
    INFO("vector " << v.name);
    DataRecorder reference;
    replay(v, {}, default_events, reference);
    CHECK(reference.chunk_count == 0);  // not delivered unless asked for
    if (!reference.lines.empty()) ++with_data;

    const size_t total = pop3test::total_bytes(v);
    size_t stride = 1;
#ifdef POP3DECODE_SAMPLED_SPLITS
    stride = std::max<size_t>(1, total / POP3DECODE_SAMPLED_SPLITS);
#endif
    for (size_t cut = 0; cut < total; cut += stride) {
      INFO("split at byte " << cut);
      const std::vector<size_t> cuts = cut == 0 ? std::vector<size_t>{} : std::vector{cut};
      DataRecorder chunked;
      replay(v, cuts, chunks_only, chunked);
      DataRecorder both;
      both.with_lines = true;
      replay(v, cuts, all_events, both);
      const bool same = chunked.chunks == reference.lines &&
                        chunked.chunk_wire == reference.line_wire &&
                        chunked.transactions.str() == reference.transactions.str() &&
                        both.chunks == reference.lines && both.lines == reference.lines &&
                        both.transactions.str() == reference.transactions.str();
      if (!same) {
        CHECK(chunked.chunks == reference.lines);
        CHECK(chunked.chunk_wire == reference.line_wire);
        CHECK(chunked.transactions.str() == reference.transactions.str());
        CHECK(both.chunks == reference.lines);
        CHECK(both.lines == reference.lines);
        CHECK(both.transactions.str() == reference.transactions.str());
        break;
      }
    }
    ++vectors;
  }
  CHECK(vectors >= 10);
  CHECK(with_data >= 5);
}

TEST_CASE("a chunk is a contiguous run of one feed call, a cut line goes to the call completing it",
          "[chunk]") {
  Options options;
  options.wanted_events = event_bit(EventKind::data_chunk) | event_bit(EventKind::data_end);
  Session session(options);
  struct Got {
    EventKind kind;
    uint64_t offset, length, request_id;
    Command command;
    std::string data;
  };
  std::vector<Got> got;
  auto keep = [&](const Event& e) {
    got.push_back({e.kind, e.offset, e.length, e.request_id, e.command, std::string(e.data)});
  };
  const std::string greeting = "+OK\r\n";
  session.feed(S, greeting, keep);
  session.feed(C, "RETR 1\r\nLIST\r\n", keep);
  const std::string status = "+OK 30 octets\r\n";
  // Three lines, the second dot-stuffed, the third cut after "ta".
  const std::string first = status + "Subject: x\r\n..dotted\r\nda";
  session.feed(S, first, keep);
  // The removed stuffing dot cuts the run: two chunks, with contiguous wire ranges.
  REQUIRE(got.size() == 2);
  CHECK(got[0].kind == EventKind::data_chunk);
  CHECK(got[0].request_id == 1);
  CHECK(got[0].command == Command::retr);
  CHECK(got[0].offset == greeting.size() + status.size());
  CHECK(got[0].length == std::string("Subject: x\r\n").size());
  CHECK(got[0].data == "Subject: x\r\n");
  CHECK(got[1].offset == got[0].offset + got[0].length);
  CHECK(got[1].length == std::string("..dotted\r\n").size());
  CHECK(got[1].data == ".dotted\r\n");
  // The rest of the cut line (a chunk of its own), the end, and a whole listing in one call.
  session.feed(S, "ta\r\nmore\r\n.\r\n+OK\r\n1 30\r\n2 40\r\n.\r\n", keep);
  REQUIRE(got.size() == 7);
  CHECK(got[2].kind == EventKind::data_chunk);
  CHECK(got[2].offset == got[1].offset + got[1].length);
  CHECK(got[2].data == "data\r\n");
  CHECK(got[3].kind == EventKind::data_chunk);
  CHECK(got[3].offset == got[2].offset + got[2].length);
  CHECK(got[3].data == "more\r\n");
  CHECK(got[4].kind == EventKind::data_end);
  CHECK(got[5].kind == EventKind::data_chunk);
  CHECK(got[5].request_id == 2);
  CHECK(got[5].command == Command::list);
  CHECK(got[5].data == "1 30\r\n2 40\r\n");
  CHECK(got[6].kind == EventKind::data_end);
  CHECK(got[6].request_id == 2);
}

TEST_CASE("a chunk ends where a gap cuts the data, and at finish", "[chunk]") {
  Options options;
  options.wanted_events =
      event_bit(EventKind::data_chunk) | event_bit(EventKind::skipped) | event_bit(EventKind::end);
  Session session(options);
  struct Keep final : EventHandler {
    std::vector<std::pair<EventKind, std::string>> got;
    void on_event(const Event& e) override { got.emplace_back(e.kind, std::string(e.data)); }
  } keep;
  session.feed(S, "+OK\r\n", keep);
  session.feed(C, "RETR 1\r\n", keep);
  session.feed(S, "+OK\r\nline one\r\n", keep);
  session.gap(S, 10, keep);
  session.feed(S, "lost\r\nline three\r\ncut", keep);
  session.finish(keep);
  const std::vector<std::pair<EventKind, std::string>> expected{
      {EventKind::data_chunk, "line one\r\n"},
      {EventKind::skipped, ""},
      {EventKind::skipped, "" /* the tail of the line the gap cut */},
      {EventKind::data_chunk, "line three\r\n"},
      {EventKind::data_chunk, "cut"},
      {EventKind::end, ""}};
  CHECK(keep.got == expected);
}
