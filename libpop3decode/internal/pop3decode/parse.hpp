// Internal (not installed). Stand-alone parsers of single POP3 lines.
// Each takes the line without its line end and the absolute stream offset of its first byte,
// adds items (under `parent`) and anomalies to `out`, and returns what the session needs. They
// never read outside `line`.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "pop3decode/event_builder.hpp"

namespace pop3decode {

// RFC 2449 section 4: limits including the CRLF.
inline constexpr size_t max_command_line = 255;
inline constexpr size_t max_first_response_line = 512;

struct ParsedCommand {
  Command command = Command::none;
  std::string_view verb;
  std::string_view parameter;  // everything after the first space
  uint32_t argument_count = 0;
  uint64_t message = 0;  // LIST/UIDL/RETR/DELE/TOP message number when valid
  bool has_message = false;
  uint64_t lines = 0;  // TOP line count
  bool has_lines = false;
  std::string_view language;          // LANG tag
  std::string_view text;              // XTND text
  std::string_view name;              // USER / APOP name
  std::string_view password;          // PASS argument
  std::string_view digest;            // APOP digest
  std::string_view mechanism;         // AUTH mechanism
  std::string_view initial_response;  // AUTH initial response (may be "=")
  bool has_initial_response = false;
  uint64_t name_offset = 0, password_offset = 0, digest_offset = 0, mechanism_offset = 0,
           initial_response_offset = 0;
};

// RFC 1939 section 3 / RFC 2449 / RFC 5034 / RFC 6856: verb, typed arguments, argument checks.
// Adds REQUEST (subtree), REQUEST_COMMAND, REQUEST_PARAMETER and typed items; returns the
// index of the REQUEST item through *request_item when not null.
ParsedCommand parse_command(std::string_view line, uint64_t offset, EventBuilder& out,
                            int32_t* request_item = nullptr);

Command command_from_verb(std::string_view verb) noexcept;

struct ParsedStatus {
  bool valid = false;  // +OK or -ERR (possibly non-standard)
  bool ok = false;
  bool nonstandard = false;
  std::string_view indicator;
  std::string_view code;  // response code without brackets, empty if none
  ResponseCode response_code = ResponseCode::none;
  std::string_view description;
  uint64_t description_offset = 0;
};

// RFC 1939 section 3 and RFC 2449 section 8: indicator, response code (split into its levels),
// description. Adds RESPONSE (subtree) and its children; *response_item receives its index.
ParsedStatus parse_status(std::string_view line, uint64_t offset, EventBuilder& out,
                          int32_t* response_item = nullptr);

// Only recognises the indicator (no items); for deciding what a server line is.
bool looks_like_status(std::string_view line) noexcept;

// RFC 2449 section 8 code text (between the brackets) at stream offset `offset`.
// Returns the code's kind (OTHER for unknown and malformed codes).
ResponseCode parse_response_code(std::string_view code, uint64_t offset, EventBuilder& out,
                                 int32_t parent);

// RFC 1939 section 7: the APOP timestamp <...@...> anywhere in the greeting.
struct GreetingTimestamp {
  std::string_view text;  // including the angle brackets
  uint64_t offset = 0;
  bool found = false;
  bool malformed = false;
};
GreetingTimestamp find_greeting_timestamp(std::string_view line, uint64_t offset) noexcept;

// STAT answer "nn mm" in the description of a +OK.
bool parse_stat(std::string_view description, uint64_t offset, EventBuilder& out, int32_t parent);
// Scan listing "n size" (LIST) and unique-id listing "n uid" (UIDL), single-line (in the
// description of a +OK) or multi-line (a data line).
bool parse_scan_listing(std::string_view text, uint64_t offset, EventBuilder& out, int32_t parent);
bool parse_uidl_listing(std::string_view text, uint64_t offset, EventBuilder& out, int32_t parent);
// "+OK 1234 octets" (RETR/TOP): the count when present.
std::optional<uint64_t> parse_octets(std::string_view description) noexcept;

// RFC 2449 section 6 and the IANA POP3 extension registry: one CAPA response line.
struct ParsedCapability {
  std::string_view name;
  bool known = false;
};
ParsedCapability parse_capability(std::string_view line, uint64_t offset, EventBuilder& out);

// Numbers as RFC 1939 writes them: 1*DIGIT, no sign, no overflow.
std::optional<uint64_t> parse_decimal(std::string_view digits) noexcept;
bool iequals(std::string_view a, std::string_view b) noexcept;

}  // namespace pop3decode
