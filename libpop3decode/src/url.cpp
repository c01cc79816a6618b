// POP URL parsing (RFC 2384) and the login commands a URL implies.
#include "pop3decode/url.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pop3decode {
namespace {

constexpr std::string_view pop_scheme_prefix = "pop://";
constexpr std::string_view auth_prefix = ";AUTH=";
constexpr std::string_view user_placeholder = "<user>";
constexpr uint16_t default_pop_port = 110;        // RFC 2384 section 3
constexpr size_t max_mechanism_name_length = 20;  // RFC 4422 section 3.1
constexpr size_t max_dns_label_length = 63;       // RFC 1035 section 2.3.4
constexpr size_t max_dns_name_length = 253;       // 255 octets on the wire, less length bytes

bool is_ascii_alpha(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_ascii_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}
bool is_ascii_alnum(char c) noexcept {
  return is_ascii_alpha(c) || is_ascii_digit(c);
}

char ascii_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool equals_ignoring_ascii_case(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

bool starts_with_ignoring_ascii_case(std::string_view text, std::string_view prefix) noexcept {
  return text.size() >= prefix.size() &&
         equals_ignoring_ascii_case(text.substr(0, prefix.size()), prefix);
}

std::optional<uint8_t> hex_digit_value(char c) noexcept {
  if (c >= '0' && c <= '9') return static_cast<uint8_t>(c - '0');
  if (c >= 'a' && c <= 'f') return static_cast<uint8_t>(c - 'a' + 10);
  if (c >= 'A' && c <= 'F') return static_cast<uint8_t>(c - 'A' + 10);
  return std::nullopt;
}

// achar (RFC 2384 section 8) = uchar / "&" / "=" / "~", where RFC 1738 section 5 gives
// uchar = unreserved / escape, unreserved = alpha / digit / safe / extra,
// safe = "$" / "-" / "_" / "." / "+", extra = "!" / "*" / "'" / "(" / ")" / ",".
// The escape ("%" hex hex) is handled by the decoder.
bool is_unescaped_achar(char c) noexcept {
  if (is_ascii_alnum(c)) return true;
  constexpr std::string_view safe_extra_and_achar_additions = "$-_.+!*'(),&=~";
  return safe_extra_and_achar_additions.find(c) != std::string_view::npos;
}

// Decodes 1*achar text; nullopt on a character outside achar or a malformed escape.
std::optional<std::string> decode_achars(std::string_view encoded) {
  std::string decoded;
  decoded.reserve(encoded.size());
  for (size_t i = 0; i < encoded.size(); ++i) {
    const char c = encoded[i];
    if (c == '%') {
      if (encoded.size() - i < 3) return std::nullopt;
      const auto high = hex_digit_value(encoded[i + 1]);
      const auto low = hex_digit_value(encoded[i + 2]);
      if (!high || !low) return std::nullopt;
      decoded.push_back(static_cast<char>((*high << 4) | *low));
      i += 2;
    } else if (is_unescaped_achar(c)) {
      decoded.push_back(c);
    } else {
      return std::nullopt;
    }
  }
  return decoded;
}

// Control characters would end or split the POP3 command line the value goes into
// (RFC 1939 section 3: a command is one line ending in CRLF).
bool contains_control_character(std::string_view text) noexcept {
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7F) return true;
  }
  return false;
}

// RFC 4422 section 3.1 mechanism name characters (upper case there; lower case allowed here).
bool is_mechanism_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > max_mechanism_name_length) return false;
  for (const char c : name) {
    if (!is_ascii_alnum(c) && c != '-' && c != '_') return false;
  }
  return true;
}

// What follows ";AUTH=", decoded: "*" / "+" ("APOP" / extension) / SASL name (section 8).
bool is_valid_auth(std::string_view auth) noexcept {
  if (auth == "*") return true;
  if (!auth.empty() && auth.front() == '+') return is_mechanism_name(auth.substr(1));
  return is_mechanism_name(auth);
}

// 1*DIGIT with an upper bound; no sign, no spaces.
std::optional<uint32_t> parse_bounded_decimal(std::string_view digits,
                                              uint32_t max_value) noexcept {
  if (digits.empty()) return std::nullopt;
  uint32_t value = 0;
  for (const char c : digits) {
    if (!is_ascii_digit(c)) return std::nullopt;
    value = value * 10 + static_cast<uint32_t>(c - '0');
    if (value > max_value) return std::nullopt;  // also keeps long digit runs from overflowing
  }
  return value;
}

// Dotted-quad IPv4 (RFC 1738 hostnumber, with RFC 3986 dec-octet's 0-255 and no leading
// zeros: "010" is octal to inet_aton and decimal to others).
bool is_ipv4_address(std::string_view text) noexcept {
  int octet_count = 0;
  size_t start = 0;
  while (true) {
    const size_t dot = text.find('.', start);
    const std::string_view octet =
        text.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (octet.empty() || octet.size() > 3 || (octet.size() > 1 && octet.front() == '0'))
      return false;
    if (!parse_bounded_decimal(octet, 255)) return false;
    ++octet_count;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return octet_count == 4;
}

// Counts the 16-bit groups of a ":"-separated run of an IPv6 address; an IPv4 address may end
// the run when `may_end_in_ipv4` (it counts as two groups). nullopt when malformed.
std::optional<int> count_ipv6_groups(std::string_view run, bool may_end_in_ipv4) noexcept {
  if (run.empty()) return 0;
  int group_count = 0;
  size_t start = 0;
  while (true) {
    const size_t colon = run.find(':', start);
    const bool is_last = colon == std::string_view::npos;
    const std::string_view group =
        run.substr(start, is_last ? std::string_view::npos : colon - start);
    if (is_last && may_end_in_ipv4 && group.find('.') != std::string_view::npos) {
      if (!is_ipv4_address(group)) return std::nullopt;
      group_count += 2;
    } else {
      if (group.empty() || group.size() > 4) return std::nullopt;
      for (const char c : group) {
        if (!hex_digit_value(c)) return std::nullopt;
      }
      ++group_count;
    }
    if (is_last) break;
    start = colon + 1;
  }
  return group_count;
}

// RFC 4291 section 2.2 text forms: eight groups, or fewer around one "::" standing for one or
// more zero groups, optionally ending in a dotted-quad IPv4 address.
bool is_ipv6_address(std::string_view text) noexcept {
  constexpr int groups_in_address = 8;
  const size_t double_colon = text.find("::");
  if (double_colon == std::string_view::npos) {
    const auto groups = count_ipv6_groups(text, true);
    return groups && *groups == groups_in_address;
  }
  // A second "::" (including ":::") is ambiguous.
  if (text.find("::", double_colon + 1) != std::string_view::npos) return false;
  const auto groups_before = count_ipv6_groups(text.substr(0, double_colon), false);
  const auto groups_after = count_ipv6_groups(text.substr(double_colon + 2), true);
  return groups_before && groups_after && *groups_before + *groups_after < groups_in_address;
}

// RFC 1738 section 3.1: hostname = *(domainlabel ".") toplabel; labels are letters, digits and
// "-" neither first nor last; the toplabel starts with a letter.
bool is_hostname(std::string_view text) noexcept {
  if (text.empty() || text.size() > max_dns_name_length) return false;
  size_t start = 0;
  while (true) {
    const size_t dot = text.find('.', start);
    const bool is_top_label = dot == std::string_view::npos;
    const std::string_view label =
        text.substr(start, is_top_label ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > max_dns_label_length) return false;
    if (label.front() == '-' || label.back() == '-') return false;
    for (const char c : label) {
      if (!is_ascii_alnum(c) && c != '-') return false;
    }
    if (is_top_label) return is_ascii_alpha(label.front());
    start = dot + 1;
  }
}

// hostport (RFC 1738 section 3.1), plus a bracketed IPv6 literal (RFC 3986 section 3.2.2).
bool parse_host_and_port(std::string_view hostport, PopUrl& url) {
  std::string_view host;
  std::string_view after_host;
  if (!hostport.empty() && hostport.front() == '[') {
    const size_t close = hostport.find(']');
    if (close == std::string_view::npos) return false;
    host = hostport.substr(1, close - 1);
    if (!is_ipv6_address(host)) return false;
    after_host = hostport.substr(close + 1);
  } else {
    const size_t colon = hostport.find(':');
    host = hostport.substr(0, colon);
    if (!is_ipv4_address(host) && !is_hostname(host)) return false;
    after_host = colon == std::string_view::npos ? std::string_view{} : hostport.substr(colon);
  }
  if (!after_host.empty()) {
    if (after_host.front() != ':') return false;  // a path, query or stray character
    const auto port = parse_bounded_decimal(after_host.substr(1), UINT16_MAX);
    if (!port) return false;
    url.port = static_cast<uint16_t>(*port);
  } else {
    url.port = default_pop_port;
  }
  url.host.assign(host);
  return true;
}

// user-auth (RFC 2384 section 8): enc-user [";AUTH=" ("*" / enc-auth-type)], the user
// optional when ";AUTH=" is present (see url.hpp).
bool parse_user_and_auth(std::string_view user_auth, PopUrl& url) {
  const size_t semicolon = user_auth.find(';');
  const std::string_view encoded_user = user_auth.substr(0, semicolon);
  if (semicolon == std::string_view::npos) {
    if (encoded_user.empty()) return false;  // "pop://@host": enc-user is 1*achar
  } else {
    const std::string_view auth_part = user_auth.substr(semicolon);
    // ABNF literals are case-insensitive (RFC 2234 section 2.3), so ";auth=" is accepted.
    if (!starts_with_ignoring_ascii_case(auth_part, auth_prefix)) return false;
    const std::string_view encoded_auth = auth_part.substr(auth_prefix.size());
    auto auth = decode_achars(encoded_auth);
    if (!auth || !is_valid_auth(*auth)) return false;
    url.auth = std::move(*auth);
    url.has_auth = true;
  }
  if (!encoded_user.empty()) {
    auto user = decode_achars(encoded_user);
    if (!user || contains_control_character(*user)) return false;
    url.user = std::move(*user);
    url.has_user = true;
  }
  return true;
}

}  // namespace

std::optional<PopUrl> parse_pop_url(std::string_view url) {
  // The scheme name is case-insensitive (RFC 1738 section 2.1).
  if (!starts_with_ignoring_ascii_case(url, pop_scheme_prefix)) return std::nullopt;
  const std::string_view server = url.substr(pop_scheme_prefix.size());

  PopUrl parsed;
  // "@" is not an achar, so the first "@" ends the user-auth part (section 8).
  const size_t at = server.find('@');
  std::string_view hostport = server;
  if (at != std::string_view::npos) {
    if (!parse_user_and_auth(server.substr(0, at), parsed)) return std::nullopt;
    hostport = server.substr(at + 1);
  }
  if (!parse_host_and_port(hostport, parsed)) return std::nullopt;
  return parsed;
}

std::vector<std::string> PopUrl::commands() const {
  const std::string user_name = has_user ? user : std::string(user_placeholder);
  // No mechanism, or "*" (the client may pick any, section 4): the basic USER/PASS login of
  // RFC 1939 section 7. An empty auth only comes from a hand-built PopUrl; treat it as none.
  if (!has_auth || auth.empty() || auth == "*") return {"USER " + user_name, "PASS <password>"};
  if (auth.front() == '+') {
    // "+" marks APOP or an extension mechanism (section 4); "APOP" is a case-insensitive
    // ABNF literal (section 8).
    if (equals_ignoring_ascii_case(std::string_view(auth).substr(1), "APOP")) {
      return {"APOP " + user_name + " <digest>"};
    }
    return {};  // an extension whose command is not known here
  }
  return {"AUTH " + auth};  // a SASL mechanism, RFC 5034
}

}  // namespace pop3decode
