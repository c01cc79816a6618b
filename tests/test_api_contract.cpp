// What the API headers promise beyond decoding: stopping and resuming through the C ABI,
// exceptions (from C++ handlers, and mapped to status codes by the C ABI), threads, and the
// test-vector loader's strictness.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <new>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "catch_compat.hpp"
#include "pop3decode/pop3decode.h"
#include "pop3decode/session.hpp"
#include "vector_runner.hpp"

using namespace pop3decode;

namespace {

std::vector<pop3test::Vector> all_vectors() {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(POP3DECODE_VECTORS_DIR))
    if (entry.path().extension() == ".vec") files.push_back(entry.path().string());
  std::sort(files.begin(), files.end());
  std::vector<pop3test::Vector> vectors;
  for (const auto& file : files) vectors.push_back(pop3test::load_vector(file));
  return vectors;
}

// Every field of a C event, bytes included.
void log_event(std::string& log, const pop3d_event& e) {
  auto bytes = [&](const uint8_t* p, size_t n) {
    log += std::to_string(n) + ':';
    if (n) log.append(reinterpret_cast<const char*>(p), n);
    log += ' ';
  };
  auto number = [&](uint64_t n) { log += std::to_string(n) + ' '; };
  number(e.kind);
  number(e.direction);
  number(e.offset);
  number(e.length);
  bytes(e.line, e.line_length);
  bytes(e.data, e.data_length);
  number(e.request_id);
  number(e.command);
  number(e.piece);
  for (size_t i = 0; i < e.item_count; ++i) {
    const pop3d_item& item = e.items[i];
    log += "[";
    for (uint64_t n : {uint64_t(item.field), uint64_t(item.parent + 1), uint64_t(item.source),
                       uint64_t(item.flags), item.offset, item.length, item.number})
      number(n);
    bytes(item.text, item.text_length);
    log += "]";
  }
  for (size_t i = 0; i < e.buffer_count; ++i) {
    bytes(e.buffers[i].data, e.buffers[i].length);
    number(e.buffers[i].origin_offset);
    number(e.buffers[i].origin_length);
  }
  for (size_t i = 0; i < e.anomaly_count; ++i) {
    number(e.anomalies[i].anomaly);
    number(e.anomalies[i].offset);
    number(e.anomalies[i].length);
  }
  log += '\n';
}

struct StopRun {
  std::string log;
  size_t events = 0;
  size_t stop_from = 0, stop_to = 0;  // 1-based event numbers whose callback stops
  size_t stops = 0;
};

int stopping_callback(void* user_data, const pop3d_event* event) {
  auto& run = *static_cast<StopRun*>(user_data);
  log_event(run.log, *event);
  ++run.events;
  if (run.events >= run.stop_from && run.events <= run.stop_to) {
    ++run.stops;
    return 1;
  }
  return 0;
}

// Replays a vector through the C ABI, going on after every stop as pop3decode.h says.
// Returns false when a call returned something else than OK or CALLBACK.
bool replay_c(const pop3test::Vector& v, StopRun& run) {
  const pop3d_options options = pop3test::c_options(v);
  pop3d_session* session = pop3d_session_new(&options);
  bool ok = session != nullptr;
  for (const auto& [user, password] : v.passwords)
    ok &= pop3d_session_add_password(session, user.data(), user.size(), password.data(),
                                     password.size()) == POP3D_OK;
  auto drain = [&](int rc) {
    while (rc == POP3D_ERR_CALLBACK) rc = pop3d_session_resume(session, stopping_callback, &run);
    ok &= rc == POP3D_OK;
  };
  for (const auto& chunk : v.chunks) {
    const auto direction = static_cast<uint32_t>(chunk.direction);
    if (chunk.gap) {
      drain(pop3d_session_gap(session, direction, chunk.gap, stopping_callback, &run));
      continue;
    }
    auto data = reinterpret_cast<const uint8_t*>(chunk.bytes.data());
    size_t left = chunk.bytes.size();
    for (int rounds = 0; left > 0 && rounds < 100000; ++rounds) {
      size_t consumed = 0;
      const int rc =
          pop3d_session_feed2(session, direction, data, left, stopping_callback, &run, &consumed);
      if (rc != POP3D_OK && rc != POP3D_ERR_CALLBACK) ok = false;
      data += consumed;
      left -= consumed;
      if (left == 0) drain(rc);
    }
    ok &= left == 0;
  }
  drain(pop3d_session_finish(session, stopping_callback, &run));
  ok &= pop3d_session_held_events(session) == 0;
  pop3d_session_free(session);
  return ok;
}

}  // namespace

TEST_CASE("stopping the C ABI at any event of any vector changes no event", "[c_api][vectors]") {
  for (const auto& v : all_vectors()) {
    INFO(v.name);
    StopRun reference;
    REQUIRE(replay_c(v, reference));
    REQUIRE(reference.events > 0);
    size_t differing = 0, failed = 0;
    for (size_t index = 1; index <= reference.events; ++index) {
      StopRun run;
      run.stop_from = run.stop_to = index;
      failed += !replay_c(v, run) || run.stops != 1;
      if (run.log != reference.log) {
        UNSCOPED_INFO("stopped at event " << index);
        ++differing;
      }
    }
    StopRun every;
    every.stop_from = 1;
    every.stop_to = reference.events;
    CHECK(replay_c(v, every));
    CHECK(every.stops == reference.events);
    CHECK(every.log == reference.log);
    CHECK(failed == 0);
    CHECK(differing == 0);
  }
}

TEST_CASE("Session::stop ends feed after the line and reports the bytes consumed", "[session]") {
  Session session;
  session.feed(Direction::server_to_client, "+OK\r\n", [](const Event&) {});
  std::vector<EventKind> kinds;
  auto stop_at_first = [&](const Event& e) {
    kinds.push_back(e.kind);
    if (kinds.size() == 1) session.stop();
  };
  const std::string_view client = "NOOP\r\nSTAT\r\n";
  CHECK(session.feed(Direction::client_to_server, client, stop_at_first) == 6);
  CHECK(kinds == std::vector<EventKind>{EventKind::command});
  CHECK(session.feed(Direction::client_to_server, client.substr(6), stop_at_first) == 6);
  CHECK(kinds.size() == 2);
  CHECK(session.offset(Direction::client_to_server) == client.size());
}

TEST_CASE("an exception thrown by a C++ handler propagates out of feed", "[session]") {
  Session session;
  int events = 0;
  auto throw_at_second = [&](const Event&) {
    if (++events == 2) throw std::runtime_error("handler failed");
  };
  session.feed(Direction::server_to_client, "+OK hi\r\n", throw_at_second);
  CHECK_THROWS_WITH(session.feed(Direction::client_to_server, "NOOP\r\nSTAT\r\n", throw_at_second),
                    "handler failed");
  CHECK(events == 2);
  // Afterwards the session may be destroyed or assigned to (as session.hpp says); a new one
  // decodes as usual.
  session = Session();
  int commands = 0;
  session.feed(Direction::server_to_client, "+OK\r\n", [](const Event&) {});
  session.feed(Direction::client_to_server, "NOOP\r\n",
               [&](const Event& e) { commands += e.kind == EventKind::command; });
  CHECK(commands == 1);
}

namespace {
int throw_bad_alloc(void*, const pop3d_event*) {
  throw std::bad_alloc();
}
int throw_runtime_error(void*, const pop3d_event*) {
  throw std::runtime_error("callback failed");
}
int count_events(void* user_data, const pop3d_event*) {
  ++*static_cast<int*>(user_data);
  return 0;
}
}  // namespace

TEST_CASE("the C ABI reports exceptions as status codes and fails the session", "[c_api]") {
  const auto* line = reinterpret_cast<const uint8_t*>("+OK\r\n");
  const std::pair<pop3d_event_callback, int> cases[] = {{throw_bad_alloc, POP3D_ERR_NO_MEMORY},
                                                        {throw_runtime_error, POP3D_ERR_INTERNAL}};
  for (const auto& [callback, status] : cases) {
    pop3d_session* session = pop3d_session_new(nullptr);
    REQUIRE(session != nullptr);
    CHECK(pop3d_session_feed(session, POP3D_SERVER_TO_CLIENT, line, 5, callback, nullptr) ==
          status);
    // Failed: every decoding call gives the same code and delivers nothing.
    int events = 0;
    size_t consumed = 7;
    CHECK(pop3d_session_feed2(session, POP3D_CLIENT_TO_SERVER,
                              reinterpret_cast<const uint8_t*>("NOOP\r\n"), 6, count_events,
                              &events, &consumed) == status);
    CHECK(consumed == 0);
    CHECK(pop3d_session_gap(session, 0, 3, count_events, &events) == status);
    CHECK(pop3d_session_resume(session, count_events, &events) == status);
    pop3d_session* copy = pop3d_session_clone(session);
    REQUIRE(copy != nullptr);
    CHECK(pop3d_session_finish(copy, count_events, &events) == status);
    CHECK(pop3d_session_finish(session, count_events, &events) == status);
    CHECK(events == 0);
    CHECK(pop3d_session_offset(session, POP3D_CLIENT_TO_SERVER) == 0);
    pop3d_session_free(copy);
    pop3d_session_free(session);
  }
}

TEST_CASE("distinct sessions decode in parallel on several threads", "[c_api][session][threads]") {
  const auto vectors = all_vectors();
  // References computed on this thread first.
  std::vector<std::string> c_logs;
  for (const auto& v : vectors) {
    StopRun run;
    REQUIRE(replay_c(v, run));
    c_logs.push_back(run.log);
  }
  std::atomic<int> mismatches{0}, runs{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 3; ++round) {
        for (size_t i = 0; i < vectors.size(); ++i) {
          const auto& v = vectors[(i + size_t(t) * 17) % vectors.size()];
          const size_t index = (i + size_t(t) * 17) % vectors.size();
          if (pop3test::replay(v, {}) != v.expected) ++mismatches;
          StopRun run;
          run.stop_from = run.stop_to = size_t(t) + 1;  // stops too, on every thread
          if (!replay_c(v, run) || run.log != c_logs[index]) ++mismatches;
          // Table functions from every thread.
          if (pop3d_anomaly_name(POP3D_ANOMALY_GAP) == nullptr) ++mismatches;
          ++runs;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(runs == int(4 * 3 * vectors.size()));
  CHECK(mismatches == 0);
}

TEST_CASE("the vector loader rejects what it does not know", "[vectors]") {
  const auto dir =
      std::filesystem::temp_directory_path() / ("pop3decode-loader-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto write = [&](const std::string& name, const std::string& text) {
    const auto path = (dir / name).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  };
  const std::string events = "--- events\ngreeting S @0+5\n";
  const auto good = write("good.vec",
                          "# a comment\n\noption max_line=100\npassword a b\n"
                          "S: +OK\\r\\n\ngap C 3\n" +
                              events);
  const pop3test::Vector v = pop3test::load_vector(good);
  CHECK(v.options.max_line == 100);
  CHECK(v.chunks.size() == 2);
  CHECK(v.passwords.size() == 1);
  using pop3test::Contains;
  CHECK_THROWS_WITH(pop3test::load_vector(write("directive.vec", "X: +OK\\r\\n\n" + events)),
                    Contains("unknown directive"));
  CHECK_THROWS_WITH(pop3test::load_vector(write("typo.vec", "S:+OK\\r\\n\n" + events)),
                    Contains("unknown directive"));
  CHECK_THROWS_WITH(pop3test::load_vector(write("option.vec", "option max_lines=5\n" + events)),
                    Contains("unknown option"));
  CHECK_THROWS_WITH(pop3test::load_vector(write("gap.vec", "gap X 5\n" + events)),
                    Contains("malformed gap"));
  CHECK_THROWS_WITH(pop3test::load_vector(write("password.vec", "password a\n" + events)),
                    Contains("malformed password"));
  CHECK_THROWS_WITH(pop3test::load_vector(write("noevents.vec", "S: +OK\\r\\n\n")),
                    Contains("--- events"));
  CHECK_THROWS_WITH(pop3test::load_vector((dir / "absent.vec").string()),
                    Contains("cannot be read"));
  std::filesystem::remove_all(dir);
}
