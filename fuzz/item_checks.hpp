// Checks shared by the line-parser fuzz targets: what the items and anomalies a parser adds
// must satisfy whatever the line. A violation aborts (libFuzzer reports it as a crash).
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "pop3decode/event_builder.hpp"
#include "pop3decode/parse.hpp"

namespace pop3fuzz {

[[noreturn]] inline void fail(const char* what) {
  std::fprintf(stderr, "invariant violated: %s\n", what);
  std::abort();
}
#define POP3FUZZ_CHECK(cond)            \
  do {                                  \
    if (!(cond)) pop3fuzz::fail(#cond); \
  } while (0)

// The stream offset parsers are given: far from 0 so that offset arithmetic is exercised.
inline constexpr uint64_t base_offset = 1'000'000'007;

// `part` is a view into `line` (or empty).
inline bool inside(std::string_view part, std::string_view line) {
  return part.empty() ||
         (part.data() >= line.data() && part.data() + part.size() <= line.data() + line.size());
}

// Parsed text `part` of `line` reported at stream offset `offset`.
inline bool at(std::string_view part, std::string_view line, uint64_t offset) {
  return part.empty() ||
         (inside(part, line) && offset == base_offset + uint64_t(part.data() - line.data()));
}

// Every item of `out` lies in `line` (at base_offset), names a parent added before it (or
// `outer_parent`), and holds the bytes at its position; every anomaly lies in `line`.
inline void check_items(const pop3decode::EventBuilder& out, std::string_view line,
                        int32_t outer_parent = -1) {
  using namespace pop3decode;
  const auto items = out.items();
  for (size_t i = 0; i < items.size(); ++i) {
    const Item& item = items[i];
    POP3FUZZ_CHECK(item.parent >= outer_parent && item.parent < static_cast<int64_t>(i));
    POP3FUZZ_CHECK(item.source == 0);
    POP3FUZZ_CHECK(!field_name(item.field).empty());
    if (item.flags & item_generated) continue;
    POP3FUZZ_CHECK(item.offset >= base_offset);
    const uint64_t start = item.offset - base_offset;
    POP3FUZZ_CHECK(start <= line.size() && item.length <= line.size() - start);
    const FieldType type = field_type(item.field);
    // A known verb is named in upper case whatever case the client sent; the item still
    // covers the bytes as sent.
    if (item.field == Field::REQUEST_COMMAND)
      POP3FUZZ_CHECK(iequals(item.text, line.substr(start, item.length)));
    else if (type == FieldType::string || type == FieldType::bytes)
      POP3FUZZ_CHECK(item.text == line.substr(start, item.length));
  }
  for (const AnomalyHit& hit : out.anomalies()) {
    POP3FUZZ_CHECK(!anomaly_name(hit.anomaly).empty());
    POP3FUZZ_CHECK(hit.offset >= base_offset);
    const uint64_t start = hit.offset - base_offset;
    POP3FUZZ_CHECK(start <= line.size() && hit.length <= line.size() - start);
  }
}

}  // namespace pop3fuzz
