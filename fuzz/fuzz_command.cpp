// libFuzzer target: parse_command (RFC 1939 / 2449 / 5034 / 6856 command lines) and
// command_from_verb. The input is one line without its line end.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "item_checks.hpp"
#include "pop3decode/parse.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pop3decode;
  using pop3fuzz::at;
  using pop3fuzz::base_offset;
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  EventBuilder out;
  int32_t request = -2;
  const ParsedCommand cmd = parse_command(line, base_offset, out, &request);
  pop3fuzz::check_items(out, line);

  POP3FUZZ_CHECK(request == 0 && !out.items().empty() && out.items()[0].field == Field::REQUEST);
  POP3FUZZ_CHECK(command_from_verb(cmd.verb) == cmd.command);
  POP3FUZZ_CHECK(cmd.command != Command::none || out.anomalies().size() == 1);
  POP3FUZZ_CHECK(pop3fuzz::inside(cmd.verb, line) && pop3fuzz::inside(cmd.parameter, line));
  POP3FUZZ_CHECK(at(cmd.name, line, cmd.name_offset));
  POP3FUZZ_CHECK(at(cmd.password, line, cmd.password_offset));
  POP3FUZZ_CHECK(at(cmd.digest, line, cmd.digest_offset));
  POP3FUZZ_CHECK(at(cmd.mechanism, line, cmd.mechanism_offset));
  POP3FUZZ_CHECK(at(cmd.initial_response, line, cmd.initial_response_offset));
  POP3FUZZ_CHECK(cmd.has_initial_response == !cmd.initial_response.empty());
  POP3FUZZ_CHECK(!cmd.has_message || cmd.message > 0);
  POP3FUZZ_CHECK(cmd.verb.find(' ') == std::string_view::npos);
  POP3FUZZ_CHECK(command_name(cmd.command).empty() == (cmd.command == Command::none));
  // The same verb in another case is the same command.
  std::string upper(cmd.verb);
  for (char& c : upper)
    if (c >= 'a' && c <= 'z') c = char(c - 32);
  POP3FUZZ_CHECK(command_from_verb(upper) == cmd.command);
  return 0;
}
