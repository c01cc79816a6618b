// Session decoder throughput on generated conversations, against a memchr('\n') pass over
// the same bytes in the same chunks (the ceiling: finding line ends and nothing else).
//
// Rates are computed from CPU time (Google Benchmark's default), which a shared machine
// disturbs less than wall time. The vs_memchr counter compares the decoder's CPU time with
// the fastest of several memchr passes timed in the same benchmark run.
#include <benchmark/benchmark.h>
#include <pop3decode/pop3decode.h>
#include <time.h>

#include <algorithm>

#include "replay.hpp"
#include "streams.hpp"

namespace {

using pop3bench::Conversation;

constexpr size_t mss = 1460;  // TCP payload per segment on Ethernet

double thread_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

// Fastest of `reps` memchr passes, in seconds of CPU time.
double memchr_seconds(const Conversation& c, size_t chunk, int reps) {
  double best = 1e30;
  for (int i = 0; i < reps; ++i) {
    const double t0 = thread_seconds();
    benchmark::DoNotOptimize(pop3bench::memchr_pass(c, chunk));
    best = std::min(best, thread_seconds() - t0);
  }
  return best;
}

enum class Api { cpp, c };

// What a transaction-only consumer asks for: one event per command and its answer.
constexpr uint32_t transactions_only = POP3D_EVENT_BIT(POP3D_EVENT_TRANSACTION);
// A consumer of the message bytes as one stream (DATA_CHUNK) and of the transactions.
constexpr uint32_t chunks_and_transactions =
    POP3D_EVENT_BIT(POP3D_EVENT_DATA_CHUNK) | POP3D_EVENT_BIT(POP3D_EVENT_TRANSACTION);

void run_decoder(benchmark::State& state, const Conversation& c, Api api, uint32_t wanted = 0) {
  const auto chunk = static_cast<size_t>(state.range(0));
  const uint64_t lines = c.lines();
  double memchr_best = memchr_seconds(c, chunk, 5);
  const double t0 = thread_seconds();
  for (auto _ : state) {
    benchmark::DoNotOptimize(api == Api::cpp ? pop3bench::decode(c, chunk, wanted)
                                             : pop3bench::decode_c(c, chunk, wanted));
  }
  const double decoder = (thread_seconds() - t0) / double(state.iterations());
  memchr_best = std::min(memchr_best, memchr_seconds(c, chunk, 5));
  const auto n = static_cast<int64_t>(state.iterations());
  state.SetBytesProcessed(n * static_cast<int64_t>(c.bytes()));
  state.counters["lines/s"] =
      benchmark::Counter(double(lines) * double(n), benchmark::Counter::kIsRate);
  state.counters["memchr_B/s"] = double(c.bytes()) / memchr_best;
  state.counters["vs_memchr"] = memchr_best / decoder;  // decoder speed / memchr speed
  state.counters["MB"] = double(c.bytes()) / 1e6;
  if (c.sessions > 1) {
    state.counters["sessions/s"] =
        benchmark::Counter(double(c.sessions) * double(n), benchmark::Counter::kIsRate);
  }
}

void run_memchr(benchmark::State& state, const Conversation& c) {
  const auto chunk = static_cast<size_t>(state.range(0));
  const uint64_t lines = c.lines();
  for (auto _ : state) benchmark::DoNotOptimize(pop3bench::memchr_pass(c, chunk));
  const auto n = static_cast<int64_t>(state.iterations());
  state.SetBytesProcessed(n * static_cast<int64_t>(c.bytes()));
  state.counters["lines/s"] =
      benchmark::Counter(double(lines) * double(n), benchmark::Counter::kIsRate);
}

// 64 MB of RETR bodies: 8 messages of 8 MB.
const Conversation& body() {
  static const Conversation c = pop3bench::body_heavy(8, 8 << 20);
  return c;
}
// LIST and UIDL of 100,000 messages, then 100,000 short commands pipelined 50 at a time.
const Conversation& lines() {
  static const Conversation c = pop3bench::line_heavy(100000, 100000, 50);
  return c;
}
// The two halves of lines(): the listings alone, the pipelined commands alone.
const Conversation& listings() {
  static const Conversation c = pop3bench::line_heavy(100000, 0, 50);
  return c;
}
const Conversation& commands() {
  static const Conversation c = pop3bench::line_heavy(100000, 100000, 50, false);
  return c;
}
// 20,000 sessions, half AUTH PLAIN, half SCRAM-SHA-256.
const Conversation& sasl() {
  static const Conversation c = pop3bench::sasl_heavy(20000);
  return c;
}

void BM_Body(benchmark::State& s) {
  run_decoder(s, body(), Api::cpp);
}
void BM_Body_CAbi(benchmark::State& s) {
  run_decoder(s, body(), Api::c);
}
void BM_Body_Memchr(benchmark::State& s) {
  run_memchr(s, body());
}
// The same conversations for a consumer that wants transactions only (sizes, results), not
// every line: the bodies' lines build no event.
void BM_Body_TransactionsOnly(benchmark::State& s) {
  run_decoder(s, body(), Api::cpp, transactions_only);
}
void BM_Body_TransactionsOnly_CAbi(benchmark::State& s) {
  run_decoder(s, body(), Api::c, transactions_only);
}
// The same for a consumer of the data as chunks of bytes (one event per answer per feed).
void BM_Body_Chunks(benchmark::State& s) {
  run_decoder(s, body(), Api::cpp, chunks_and_transactions);
}
void BM_Body_Chunks_CAbi(benchmark::State& s) {
  run_decoder(s, body(), Api::c, chunks_and_transactions);
}
void BM_Lines_Chunks(benchmark::State& s) {
  run_decoder(s, lines(), Api::cpp, chunks_and_transactions);
}
void BM_Lines_Chunks_CAbi(benchmark::State& s) {
  run_decoder(s, lines(), Api::c, chunks_and_transactions);
}
void BM_Lines_TransactionsOnly(benchmark::State& s) {
  run_decoder(s, lines(), Api::cpp, transactions_only);
}
void BM_Lines_TransactionsOnly_CAbi(benchmark::State& s) {
  run_decoder(s, lines(), Api::c, transactions_only);
}
void BM_Lines(benchmark::State& s) {
  run_decoder(s, lines(), Api::cpp);
}
void BM_Lines_CAbi(benchmark::State& s) {
  run_decoder(s, lines(), Api::c);
}
void BM_Lines_Memchr(benchmark::State& s) {
  run_memchr(s, lines());
}
void BM_Lines_ListingsOnly(benchmark::State& s) {
  run_decoder(s, listings(), Api::cpp);
}
void BM_Lines_CommandsOnly(benchmark::State& s) {
  run_decoder(s, commands(), Api::cpp);
}
void BM_Sasl(benchmark::State& s) {
  run_decoder(s, sasl(), Api::cpp);
}
void BM_Sasl_CAbi(benchmark::State& s) {
  run_decoder(s, sasl(), Api::c);
}
void BM_Sasl_Memchr(benchmark::State& s) {
  run_memchr(s, sasl());
}

// Argument: chunk size (1460: one TCP segment per feed; 0: each turn in one feed).
BENCHMARK(BM_Body)->ArgName("chunk")->Arg(mss)->Arg(0)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Body_CAbi)->ArgName("chunk")->Arg(mss)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Body_Memchr)->ArgName("chunk")->Arg(mss)->Arg(0)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Body_TransactionsOnly)->ArgName("chunk")->Arg(mss)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Body_TransactionsOnly_CAbi)->ArgName("chunk")->Arg(mss)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Body_Chunks)->ArgName("chunk")->Arg(mss)->Arg(0)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Body_Chunks_CAbi)->ArgName("chunk")->Arg(mss)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Lines_Chunks)->ArgName("chunk")->Arg(mss)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Lines_Chunks_CAbi)->ArgName("chunk")->Arg(mss)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Lines_TransactionsOnly)->ArgName("chunk")->Arg(mss)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Lines_TransactionsOnly_CAbi)
    ->ArgName("chunk")
    ->Arg(mss)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Lines)->ArgName("chunk")->Arg(mss)->Arg(0)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Lines_CAbi)->ArgName("chunk")->Arg(mss)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Lines_Memchr)->ArgName("chunk")->Arg(mss)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Lines_ListingsOnly)->ArgName("chunk")->Arg(mss)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Lines_CommandsOnly)->ArgName("chunk")->Arg(mss)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Sasl)->ArgName("chunk")->Arg(mss)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Sasl_CAbi)->ArgName("chunk")->Arg(mss)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Sasl_Memchr)->ArgName("chunk")->Arg(mss)->Unit(benchmark::kMillisecond);

}  // namespace
