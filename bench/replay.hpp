// Replaying a generated conversation through the decoder (C++ API or C ABI) or through a
// memchr('\n') pass, fed per direction in the capture's order, each turn cut into `chunk`-byte
// pieces (0: each turn in one feed). Shared by the benchmark and the callgrind driver; kept out
// of line so callgrind shows the decoder and the ceiling as separate functions
// (run-benchmarks.sh collects '*decode(pop3bench*', '*decode_c(pop3bench*' and
// '*memchr_pass(pop3bench*').
#pragma once

#include <cstddef>
#include <cstdint>

#include "streams.hpp"

namespace pop3bench {

// Each returns a sum of what it saw (events, data bytes, items; or lines), so that the work
// cannot be optimised away. The event handler does what a consumer minimally does: look at
// every event.
// `wanted` is the sessions' wanted_events (POP3D_EVENT_BIT(kind) ORed; 0 is all of them).
uint64_t decode(const Conversation& c, size_t chunk, uint32_t wanted = 0);
uint64_t decode_c(const Conversation& c, size_t chunk, uint32_t wanted = 0);
uint64_t memchr_pass(const Conversation& c, size_t chunk);

}  // namespace pop3bench
