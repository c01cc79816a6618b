// The session decoder, driven by the data vectors in tests/vectors and by direct checks.
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>

#include "catch_compat.hpp"
#include "pop3decode/session.hpp"
#include "vector_runner.hpp"

using namespace pop3decode;
using pop3test::replay;

namespace {

std::vector<std::string> vector_files() {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(POP3DECODE_VECTORS_DIR))
    if (entry.path().extension() == ".vec") files.push_back(entry.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

TEST_CASE("every vector gives its expected events at every split point", "[session][vectors]") {
  const bool update = std::getenv("POP3DECODE_UPDATE_VECTORS") != nullptr;
  const auto files = vector_files();
  REQUIRE(files.size() >= 10);
  for (const std::string& file : files) {
    pop3test::Vector v = pop3test::load_vector(file);
    INFO("vector " << file);
    const std::string whole = replay(v, {});
    if (update) {
      std::ofstream(file, std::ios::binary) << v.header << whole;
      continue;
    }
    REQUIRE(!v.expected.empty());
    CHECK(whole == v.expected);
    const size_t total = pop3test::total_bytes(v);
    // Every split point; sanitizer builds, ten times slower, take an even sample of them.
    size_t stride = 1;
#ifdef POP3DECODE_SAMPLED_SPLITS
    stride = std::max<size_t>(1, total / POP3DECODE_SAMPLED_SPLITS);
#endif
    for (size_t cut = 1; cut < total; cut += stride) {
      INFO("split at byte " << cut);
      const std::string split = replay(v, {cut});
      if (split != whole) {
        CHECK(split == whole);
        break;
      }
    }
    std::vector<size_t> every;
    for (size_t cut = 1; cut < total; ++cut) every.push_back(cut);
    INFO("one byte at a time");
    CHECK(replay(v, every) == whole);
  }
}

TEST_CASE("a clone continues exactly like the original", "[session]") {
  Session original;
  pop3test::Recorder ignore;
  original.feed(Direction::server_to_client, "+OK ready <1.2@x>\r\n", ignore);
  original.feed(Direction::client_to_server, "USER a\r\nPASS b\r\nRETR 1\r\n", ignore);
  original.feed(Direction::server_to_client, "+OK\r\n+OK\r\n+OK\r\nline one\r\n..dot", ignore);
  Session copy = original;
  pop3test::Recorder a, b;
  const std::string rest = " line\r\n.\r\n";
  original.feed(Direction::server_to_client, rest, a);
  copy.feed(Direction::server_to_client, rest, b);
  CHECK(a.str() == b.str());
  CHECK(a.str().find("data=\".dot line\\r\\n\"") != std::string::npos);
  CHECK(copy.state() == State::transaction);
  CHECK(copy.user() == "a");
}

TEST_CASE("a line that never ends keeps memory at the bound", "[session][limits]") {
  Options options;
  options.max_line = 1024;
  Session session(options);
  pop3test::Recorder rec;
  session.feed(Direction::server_to_client, "+OK hi\r\n", rec);
  session.feed(Direction::client_to_server, "NOOP\r\n", rec);
  std::string junk(4096, 'x');
  size_t pieces = 0;
  auto count = [&](const Event& e) {
    if (e.piece) ++pieces;
    CHECK(e.line.size() <= 1024);
  };
  for (int i = 0; i < 1000; ++i) session.feed(Direction::client_to_server, junk, count);
  CHECK(pieces == 3999);  // the last 1024 bytes wait: the line may still end there
}

TEST_CASE("a million pipelined commands keep the queue bounded", "[session][limits]") {
  Options options;
  options.max_pending = 128;
  Session session(options);
  pop3test::Recorder rec;
  session.feed(Direction::server_to_client, "+OK\r\n", rec);
  session.feed(Direction::client_to_server, "USER a\r\nPASS b\r\n", rec);
  session.feed(Direction::server_to_client, "+OK\r\n+OK\r\n", rec);
  std::string burst;
  for (int i = 0; i < 1000; ++i) burst += "NOOP\r\n";
  size_t overflows = 0;
  auto count = [&](const Event& e) { overflows += e.has_anomaly(Anomaly::QUEUE_OVERFLOW); };
  for (int i = 0; i < 1000; ++i) session.feed(Direction::client_to_server, burst, count);
  CHECK(session.pending_commands() == 128);
  CHECK(overflows == 1);
  // Responses come in order: the oldest commands keep their place and are matched; the rest
  // are read without a request and without a flood of anomalies.
  uint64_t last_request = 0;
  size_t anomalies = 0;
  auto last = [&](const Event& e) {
    if (e.request_id) last_request = e.request_id;
    anomalies += e.anomalies.size();
  };
  for (int i = 0; i < 128; ++i) session.feed(Direction::server_to_client, "+OK\r\n", last);
  CHECK(last_request == 130);
  CHECK(session.pending_commands() == 0);
  for (int i = 0; i < 10000; ++i) session.feed(Direction::server_to_client, "+OK\r\n", last);
  CHECK(anomalies == 0);
  // Once the backlog is answered, matching starts again.
  session.feed(Direction::client_to_server, "STAT\r\n", last);
  for (int i = 0; i < 1000 * 1000 - 128 - 10000; ++i)
    session.feed(Direction::server_to_client, "+OK\r\n", last);
  session.feed(Direction::server_to_client, "+OK 0 0\r\n", last);
  CHECK(last_request == 1000u * 1000u + 3u);
  CHECK(anomalies == 0);
}

TEST_CASE("answers find their commands in order while the queue grows, wraps and shrinks",
          "[session][limits]") {
  Session session;
  session.feed(Direction::server_to_client, "+OK\r\n", [](const Event&) {});
  session.feed(Direction::client_to_server, "USER a\r\nPASS b\r\n", [](const Event&) {});
  session.feed(Direction::server_to_client, "+OK\r\n+OK\r\n", [](const Event&) {});
  struct Sent {
    uint64_t id;
    Command command;
    std::string name;  // what the answer's response.command says
  };
  std::deque<Sent> waiting;
  uint32_t random = 12345;
  auto next = [&](uint32_t bound) {
    random = random * 1103515245u + 12345u;
    return (random >> 8) % bound;
  };
  size_t answers = 0, mismatches = 0;
  auto check = [&](const Event& e) {
    if (e.kind == EventKind::command) {
      Sent& sent = waiting.back();
      sent.id = e.request_id;
      return;
    }
    if (e.kind != EventKind::status) return;
    ++answers;
    const Item* to = e.find(Field::RESPONSE_TO_COMMAND);
    const bool same = !waiting.empty() && e.request_id == waiting.front().id &&
                      e.command == waiting.front().command && to &&
                      to->text == waiting.front().name;
    if (!same) ++mismatches;
    if (!waiting.empty()) waiting.pop_front();
  };
  for (int round = 0; round < 400; ++round) {
    // Bursts of up to 300 commands (the ring grows past what it keeps once empty), answered
    // in pieces, so the front and back wrap around at every size.
    const uint32_t burst = 1 + next(round % 50 == 0 ? 300 : 40);
    for (uint32_t i = 0; i < burst; ++i) {
      std::string line;
      switch (next(4)) {
        case 0:
          waiting.push_back({0, Command::noop, "NOOP"});
          line = "NOOP";
          break;
        case 1:
          waiting.push_back({0, Command::dele, "DELE"});
          line = "DELE 1";
          break;
        case 2: {
          const std::string user = "name" + std::to_string(next(100000));
          waiting.push_back({0, Command::user, "USER"});
          line = "USER " + user;
          break;
        }
        default: {
          const std::string verb = "xq" + std::to_string(next(1000));
          std::string upper = verb;
          for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
          waiting.push_back({0, Command::unknown, upper});
          line = verb + " arg";
          break;
        }
      }
      session.feed(Direction::client_to_server, line + "\r\n", check);
    }
    const size_t answer = round % 7 == 0 ? waiting.size() : next(uint32_t(waiting.size()) + 1);
    std::string replies;
    for (size_t i = 0; i < answer; ++i) replies += "+OK\r\n";
    session.feed(Direction::server_to_client, replies, check);
    CHECK(session.pending_commands() == waiting.size());
  }
  CHECK(answers > 1000);
  CHECK(mismatches == 0);
}

TEST_CASE("every anomaly of the table is triggered by some vector", "[session][vectors]") {
  std::string all;
  for (const std::string& file : vector_files()) all += pop3test::load_vector(file).expected;
  for (uint32_t a = 0; a < POP3D_ANOMALY_COUNT; ++a) {
    const std::string name(anomaly_name(static_cast<Anomaly>(a)));
    INFO("anomaly " << name);
    CHECK(all.find("! " + name + " @") != std::string::npos);
  }
}

TEST_CASE("CAPA is remembered per phase: before and after STLS and login", "[session]") {
  Session session;
  pop3test::Recorder rec;
  session.feed(Direction::server_to_client, "+OK\r\n", rec);
  session.feed(Direction::client_to_server, "CAPA\r\nSTLS\r\n", rec);
  session.feed(Direction::server_to_client, "+OK\r\nSTLS\r\nUSER\r\n.\r\n+OK go\r\n", rec);
  session.feed(Direction::client_to_server, "CAPA\r\nUSER a\r\nPASS b\r\nCAPA\r\n", rec);
  session.feed(Direction::server_to_client,
               "+OK\r\nSASL PLAIN\r\nUSER\r\n.\r\n+OK\r\n+OK\r\n+OK\r\nTOP\r\nUIDL\r\n.\r\n", rec);
  CHECK(session.capabilities(CapaPhase::plain_unauthenticated).has("STLS"));
  CHECK_FALSE(session.capabilities(CapaPhase::plain_unauthenticated).has("TOP"));
  CHECK(session.capabilities(CapaPhase::tls_unauthenticated).has_mechanism("plain"));
  CHECK_FALSE(session.capabilities(CapaPhase::tls_unauthenticated).has("STLS"));
  CHECK(session.capabilities(CapaPhase::tls_authenticated).has("UIDL"));
  CHECK_FALSE(session.capabilities(CapaPhase::plain_authenticated).seen);
  CHECK(session.latest_capabilities().has("TOP"));
  CHECK(session.tls());
  CHECK(session.user() == "a");
}

TEST_CASE("skipped, TLS and unparsed bytes are items too", "[session]") {
  Session session;
  std::vector<std::pair<Field, std::string>> seen;
  auto record = [&](const Event& e) {
    for (const Item& item : e.items)
      if (item.field == Field::SKIPPED || item.field == Field::TLS_DATA ||
          item.field == Field::UNPARSED)
        seen.emplace_back(item.field, std::string(item.text));
  };
  session.feed(Direction::client_to_server, "TAT\r\n", record);  // mid-stream tail
  Session fresh;
  fresh.feed(Direction::server_to_client, "+OK hi\r\nJUNK\r\n", record);
  session.feed(Direction::client_to_server, "STLS\r\n", record);
  session.feed(Direction::server_to_client, "+OK\r\n", record);
  session.feed(Direction::client_to_server, std::string_view("\x16\x03\x01", 3), record);
  REQUIRE(seen.size() == 3);
  CHECK(seen[0] == std::pair<Field, std::string>{Field::SKIPPED, "TAT\r\n"});
  CHECK(seen[1] == std::pair<Field, std::string>{Field::UNPARSED, "JUNK"});
  CHECK(seen[2] == std::pair<Field, std::string>{Field::TLS_DATA, "\x16\x03\x01"});
}
