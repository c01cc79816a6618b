// libFuzzer target: the parsers of multi-line data and of single-line listings: scan listings
// (LIST), unique-id listings (UIDL), the STAT answer, CAPA lines (RFC 2449 section 6) and
// parse_decimal. The input is one line without its line end.
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "item_checks.hpp"
#include "pop3decode/parse.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pop3decode;
  using pop3fuzz::base_offset;
  const std::string_view line(reinterpret_cast<const char*>(data), size);

  for (int which = 0; which < 3; ++which) {
    EventBuilder out;
    const int32_t parent = out.add(Field::RESPONSE, -1, 0, base_offset, line.size(), line);
    const bool ok = which == 0   ? parse_scan_listing(line, base_offset, out, parent)
                    : which == 1 ? parse_uidl_listing(line, base_offset, out, parent)
                                 : parse_stat(line, base_offset, out, parent);
    pop3fuzz::check_items(out, line);
    // A line that does not parse adds nothing but its anomaly.
    if (!ok) POP3FUZZ_CHECK(out.items().size() == 1 && out.anomalies().size() == 1);
    for (const Item& item : out.items())
      if (item.field == Field::MSG_NUMBER) POP3FUZZ_CHECK(item.number > 0);
  }
  {
    EventBuilder out;
    const ParsedCapability capa = parse_capability(line, base_offset, out);
    pop3fuzz::check_items(out, line);
    POP3FUZZ_CHECK(pop3fuzz::inside(capa.name, line));
    POP3FUZZ_CHECK(!capa.known || !capa.name.empty());
  }
  {
    // parse_decimal agrees with std::from_chars on plain digit strings of up to 19 digits.
    const auto value = parse_decimal(line);
    uint64_t expected = 0;
    const auto [end, error] = std::from_chars(line.data(), line.data() + line.size(), expected);
    const bool digits_only = !line.empty() && line.size() <= 19 && error == std::errc() &&
                             end == line.data() + line.size() && line[0] != '-' && line[0] != '+';
    POP3FUZZ_CHECK(value.has_value() == digits_only);
    if (value) POP3FUZZ_CHECK(*value == expected);
  }
  return 0;
}
