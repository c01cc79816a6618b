// Replays one generated conversation a fixed number of times, for instruction counts that a
// shared machine cannot disturb:
//   valgrind --tool=callgrind --toggle-collect='*decode(pop3bench*' ./pop3decode_bench_profile
//   lines 1
// Prints the bytes and lines processed so that instructions per byte / per line follow.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "replay.hpp"
#include "streams.hpp"

using pop3bench::decode;
using pop3bench::decode_c;
using pop3bench::memchr_pass;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: %s body|lines|listings|commands|sasl [reps] [chunk (0: whole turns)] "
                 "[decoder|capi|memchr] [lines|transactions|chunks]\n",
                 argv[0]);
    return 2;
  }
  const std::string which = argv[1];
  const int reps = argc > 2 ? std::atoi(argv[2]) : 1;
  const size_t chunk = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 1460;
  const std::string mode = argc > 4 ? argv[4] : "decoder";  // decoder, capi or memchr
  // The events wanted: the default (every line), transactions only, or DATA_CHUNK + transactions.
  const std::string events = argc > 5 ? argv[5] : "lines";
  const uint32_t wanted = events == "transactions" ? POP3D_EVENT_BIT(POP3D_EVENT_TRANSACTION)
                          : events == "chunks"     ? POP3D_EVENT_BIT(POP3D_EVENT_DATA_CHUNK) |
                                                     POP3D_EVENT_BIT(POP3D_EVENT_TRANSACTION)
                                               : 0;
  pop3bench::Conversation c = which == "body"       ? pop3bench::body_heavy(8, 8 << 20)
                              : which == "lines"    ? pop3bench::line_heavy(100000, 100000, 50)
                              : which == "listings" ? pop3bench::line_heavy(100000, 0, 50)
                              : which == "commands"
                                  ? pop3bench::line_heavy(100000, 100000, 50, false)
                                  : pop3bench::sasl_heavy(20000);
  uint64_t sink = 0;
  for (int i = 0; i < reps; ++i)
    sink += mode == "memchr" ? memchr_pass(c, chunk)
            : mode == "capi" ? decode_c(c, chunk, wanted)
                             : decode(c, chunk, wanted);
  std::printf("%s: %llu bytes, %llu lines, %d rep(s), chunk %zu, %s, %s (%llu)\n", which.c_str(),
              static_cast<unsigned long long>(c.bytes()),
              static_cast<unsigned long long>(c.lines()), reps, chunk, mode.c_str(), events.c_str(),
              static_cast<unsigned long long>(sink));
  return 0;
}
