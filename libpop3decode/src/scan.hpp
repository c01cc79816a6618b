// Byte scans eight bytes at a time (SWAR) for the per-line hot paths. They only read inside the
// given range: a range of 8 bytes or more ends with a load of its last 8 bytes (overlapping the
// previous one), a shorter one is read byte by byte.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace pop3decode::scan {

inline constexpr uint64_t ones = 0x0101010101010101ULL;
inline constexpr uint64_t lows = 0x7F7F7F7F7F7F7F7FULL;
inline constexpr uint64_t highs = 0x8080808080808080ULL;

// 0x80 in exactly the bytes of w that are 0 (no carry crosses bytes, so no false positives).
constexpr uint64_t zero_bytes(uint64_t w) noexcept {
  return ~(((w & lows) + lows) | w) & highs;
}
constexpr uint64_t bytes_equal(uint64_t w, unsigned char c) noexcept {
  return zero_bytes(w ^ (ones * c));
}
// 0x80 in exactly the bytes of w outside 0x21..0x7E.
constexpr uint64_t invisible_bytes(uint64_t w) noexcept {
  const uint64_t x = w & lows;
  const uint64_t at_least_21 = x + ones * (0x80 - 0x21);  // high bit set iff x >= 0x21
  const uint64_t at_least_7f = x + ones * (0x80 - 0x7F);  // high bit set iff x >= 0x7F
  return (~at_least_21 | at_least_7f | w) & highs;
}

inline uint64_t load(const char* p) noexcept {
  uint64_t w;
  std::memcpy(&w, p, sizeof w);
  return w;
}

inline constexpr bool little_endian = __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__;

// Index of the first byte equal to c at or after pos, or s.size().
inline size_t find(std::string_view s, size_t pos, unsigned char c) noexcept {
  const char* p = s.data();
  const size_t n = s.size();
  if (little_endian && n >= 8 && pos < n) {
    for (; pos + 8 <= n; pos += 8)
      if (const uint64_t hit = bytes_equal(load(p + pos), c))
        return pos + size_t(__builtin_ctzll(hit) >> 3);
    if (pos == n) return n;
    // The last 8 bytes, without those before pos (already searched).
    const size_t skip = pos - (n - 8);
    if (const uint64_t hit = bytes_equal(load(p + n - 8), c) >> (8 * skip))
      return pos + size_t(__builtin_ctzll(hit) >> 3);
    return n;
  }
  while (pos < n && static_cast<unsigned char>(p[pos]) != c) ++pos;
  return pos;
}

// The N < 8 bytes at p as a little-endian number with 'a'..'z' upper-cased, and N in the top
// byte: equal keys mean equal strings ignoring ASCII case.
template <size_t N>
inline uint64_t upper_key(const char* p) noexcept {
  static_assert(N < 8);
  uint64_t w = 0;
  if constexpr (little_endian) {
    std::memcpy(&w, p, N);
  } else {
    for (size_t i = 0; i < N; ++i) w |= uint64_t(static_cast<unsigned char>(p[i])) << (8 * i);
  }
  const uint64_t x = w & lows;
  const uint64_t at_least_a = x + ones * (0x80 - 'a');        // high bit set iff x >= 'a'
  const uint64_t above_z = x + ones * (0x80 - 'z' - 1);       // high bit set iff x > 'z'
  const uint64_t lower = at_least_a & ~above_z & ~w & highs;  // 'a'..'z' (not 8-bit bytes)
  return (w - (lower >> 2)) | (uint64_t(N) << 56);            // minus 0x20 in those bytes
}

// 0x80 in exactly the bytes of w outside 0x20..0x7F (controls and 8-bit bytes).
constexpr uint64_t unusual_bytes(uint64_t w) noexcept {
  return (~((w & lows) + ones * (0x80 - 0x20)) | w) & highs;
}

// True iff s holds a control byte or a byte >= 0x80: lines nearly never do, so this one test
// spares them the search for which.
inline bool has_unusual(std::string_view s) noexcept {
  const char* p = s.data();
  const size_t n = s.size();
#if defined(__SSE2__)
  if (n >= 16) {
    // Signed bytes below 0x20: the controls and every byte from 0x80.
    const __m128i limit = _mm_set1_epi8(0x20);
    auto unusual16 = [&](const char* q) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q));
      return _mm_movemask_epi8(_mm_cmplt_epi8(v, limit));
    };
    int unusual = 0;
    for (size_t i = 0; i + 16 <= n; i += 16) unusual |= unusual16(p + i);
    if (n % 16) unusual |= unusual16(p + n - 16);
    return unusual != 0;
  }
#endif
  if (n >= 8) {
    uint64_t unusual = 0;
    for (size_t i = 0; i + 8 <= n; i += 8) unusual |= unusual_bytes(load(p + i));
    if (n % 8) unusual |= unusual_bytes(load(p + n - 8));
    return unusual != 0;
  }
  if (n >= 4) {  // two overlapping 4-byte loads cover 4 to 7 bytes
    uint32_t first, last;
    std::memcpy(&first, p, 4);
    std::memcpy(&last, p + n - 4, 4);
    return unusual_bytes(uint64_t(first) | uint64_t(last) << 32) != 0;
  }
  bool unusual = false;
  for (size_t i = 0; i < n; ++i) {
    const auto u = static_cast<unsigned char>(p[i]);
    unusual |= u < 0x20 || u >= 0x80;
  }
  return unusual;
}

// Which of CR, NUL and bytes >= 0x80 occur in s.
struct Classes {
  bool cr = false, nul = false, high = false;
};
inline Classes classify(std::string_view s) noexcept {
  if (!has_unusual(s)) return Classes{};
  const char* p = s.data();
  const size_t n = s.size();
  Classes c;
  for (size_t i = 0; i < n; ++i) {
    const auto u = static_cast<unsigned char>(p[i]);
    c.cr |= u == '\r';
    c.nul |= u == 0;
    c.high |= u >= 0x80;
  }
  return c;
}

// True iff every byte of s is in 0x21..0x7E (visible ASCII).
inline bool all_visible(std::string_view s) noexcept {
  const char* p = s.data();
  const size_t n = s.size();
  if (n < 8) {
    for (size_t i = 0; i < n; ++i) {
      const auto u = static_cast<unsigned char>(p[i]);
      if (u < 0x21 || u > 0x7E) return false;
    }
    return true;
  }
  uint64_t bad = 0;
  for (size_t i = 0; i + 8 <= n; i += 8) bad |= invisible_bytes(load(p + i));
  if (n % 8) bad |= invisible_bytes(load(p + n - 8));
  return bad == 0;
}

}  // namespace pop3decode::scan
