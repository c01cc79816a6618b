// libFuzzer target: the server's first lines. parse_status (with its response code, RFC 2449
// section 8), looks_like_status, parse_response_code on its own, find_greeting_timestamp
// (RFC 1939 section 7) and parse_octets. The input is one line without its line end.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "item_checks.hpp"
#include "pop3decode/parse.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pop3decode;
  using pop3fuzz::at;
  using pop3fuzz::base_offset;
  using pop3fuzz::inside;
  const std::string_view line(reinterpret_cast<const char*>(data), size);

  {
    EventBuilder out;
    int32_t response = -2;
    const ParsedStatus status = parse_status(line, base_offset, out, &response);
    pop3fuzz::check_items(out, line);
    POP3FUZZ_CHECK(response == 0 && out.items()[0].field == Field::RESPONSE);
    POP3FUZZ_CHECK(status.valid == looks_like_status(line));
    POP3FUZZ_CHECK(!status.ok || status.valid);
    POP3FUZZ_CHECK(inside(status.indicator, line) && inside(status.code, line));
    POP3FUZZ_CHECK(status.valid == !status.indicator.empty());
    POP3FUZZ_CHECK(at(status.description, line, status.description_offset));
    POP3FUZZ_CHECK(status.code.find(']') == std::string_view::npos);
    (void)parse_octets(status.description);
  }
  {
    EventBuilder out;
    const int32_t parent = out.add(Field::RESPONSE_CODE, -1, 0, base_offset, line.size(), line);
    parse_response_code(line, base_offset, out, parent);
    pop3fuzz::check_items(out, line);
    // One notice or one malformed/unknown anomaly for the code as a whole.
    POP3FUZZ_CHECK(out.anomalies().size() == 1);
  }
  {
    const GreetingTimestamp ts = find_greeting_timestamp(line, base_offset);
    POP3FUZZ_CHECK(!(ts.found && ts.malformed));
    POP3FUZZ_CHECK(ts.found == !ts.text.empty());
    if (ts.found) {
      POP3FUZZ_CHECK(at(ts.text, line, ts.offset));
      POP3FUZZ_CHECK(ts.text.size() >= 5 && ts.text.front() == '<' && ts.text.back() == '>');
      POP3FUZZ_CHECK(ts.text.find('@') != std::string_view::npos);
    }
  }
  (void)parse_octets(line);
  return 0;
}
