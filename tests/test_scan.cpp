// The word-at-a-time byte scans (src/scan.hpp) against byte-by-byte definitions, for every
// length up to 40 and every position of one special byte, so each load width and the
// overlapping tail loads are covered.
#include <string>

#include "../libpop3decode/src/scan.hpp"
#include "catch_compat.hpp"

namespace scan = pop3decode::scan;

namespace {

bool unusual_reference(std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x80) return true;
  }
  return false;
}

bool visible_reference(std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x21 || u > 0x7E) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("scan: has_unusual, classify, all_visible and find agree with byte loops", "[scan]") {
  const unsigned char specials[] = {0x00, 0x09, '\r', '\n', 0x1F, ' ',
                                    0x7E, 0x7F, 0x80, 0xC3, 0xFF};
  // Padding around the range: a scan that reads outside it would see these bytes.
  const std::string padding(24, '\0');
  for (size_t n = 0; n <= 40; ++n) {
    for (size_t at = 0; at <= n; ++at) {
      for (unsigned char special : specials) {
        std::string body(n, 'a');
        if (at < n) body[at] = static_cast<char>(special);
        const std::string buffer = padding + body + padding;
        const std::string_view s(buffer.data() + padding.size(), n);
        INFO("length " << n << ", byte 0x" << std::hex << int(special) << " at " << std::dec << at);
        CHECK(scan::has_unusual(s) == unusual_reference(s));
        const auto classes = scan::classify(s);
        CHECK(classes.cr == (s.find('\r') != std::string_view::npos));
        CHECK(classes.nul == (s.find('\0') != std::string_view::npos));
        bool high = false;
        for (char c : s) high = high || static_cast<unsigned char>(c) >= 0x80;
        CHECK(classes.high == high);
        CHECK(scan::all_visible(s) == visible_reference(s));
        for (size_t from = 0; from <= n; ++from) {
          const size_t expected = std::min(s.find(static_cast<char>(special), from), n);
          CHECK(scan::find(s, from, special) == expected);
        }
        if (at == n) break;  // no special byte: one pass is enough
      }
    }
  }
}
