// POP URLs (RFC 2384): pop://<user>;auth=<auth>@<host>:<port>
//
// Accepted syntax (RFC 2384 section 8, with RFC 1738 section 3.1 for the host and port):
//
//   pop-url   = "pop://" [user-auth "@"] host [":" port]     ; "pop" in any case
//   user-auth = enc-user [auth] / auth                        ; see "no user" below
//   auth      = ";AUTH=" ("*" / enc-auth-type)                ; ";AUTH=" in any case
//   enc-user, enc-auth-type = 1*achar, achar = RFC 1738 uchar / "&" / "=" / "~"
//
// Details, and where this parser is stricter or more lenient than the RFC text:
// - Percent-escapes ("%" 2HEXDIG, either case) are decoded in the user and the mechanism; a
//   "%" without two hex digits, or any character outside achar (":", "@", "/", ";", space,
//   8-bit bytes...), rejects the URL. A ":" before "@" is thus rejected: RFC 2384 section 3
//   forbids clear text passwords in POP URLs.
// - The decoded user may hold any byte (UTF-8 per RFC 2384 section 6) except control
//   characters (0x00-0x1F, 0x7F): those would cut or split the command line the user goes
//   into (RFC 1939 section 3), so they reject the URL.
// - The mechanism, once decoded, is "*", or "+" followed by "APOP" or an extension name, or
//   a SASL mechanism name. Mechanism and extension names must be 1 to 20 letters, digits,
//   "-" or "_" (the RFC 4422 section 3.1 character set, lower case letters accepted too).
//   "%2A" decodes to "*" and means the same as "*".
// - No user: RFC 2384 section 3 lets every element but "pop://" and the host be omitted and
//   section 4 has the user name obtained from the mechanism or the user, so "pop://;AUTH=x@h"
//   is accepted (has_user false, has_auth true). An empty user before "@" ("pop://@h") is not.
// - Host: an RFC 1738 hostname (dot-separated labels of letters, digits and inner "-", the
//   last label starting with a letter, no trailing dot; RFC 1035 section 2.3.4 limits of 63
//   characters a label and 253 in all), a dotted-quad IPv4 address (four decimal numbers
//   0-255 without leading zeros, which some resolvers would read as octal), or, as modern
//   clients accept (RFC 3986 section 3.2.2), an IPv6 address in brackets (RFC 4291 section
//   2.2 text forms, no zone identifier). `host` holds the text as written, not case-folded;
//   for IPv6 it holds the address without the brackets (it then contains ":").
// - Port: one or more decimal digits, value 0-65535; 110 when absent (RFC 2384 section 3).
//   "host:" with no digits is rejected.
// - Nothing may follow the host and port: a path, even a lone "/", a query or a fragment
//   rejects the URL (the pop-url grammar has none; relative POP URLs are not permitted
//   either, RFC 2384 section 5).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pop3decode/pop3decode.h"

namespace pop3decode {

struct POP3D_EXPORT PopUrl {
  std::string user;  // percent-decoded; empty when absent
  std::string auth;  // percent-decoded: "*", "+APOP", "+<extension>", a SASL mechanism name,
                     // or empty when absent
  std::string host;  // as written; an IPv6 address without its brackets
  uint16_t port = 110;
  bool has_user = false;
  bool has_auth = false;

  // The commands (without CRLF) a client sends for this URL after the greeting, per RFC 2384
  // section 4. Passwords and digests are never in URLs, so they appear as placeholder text:
  // - no ";AUTH=" or ";AUTH=*": {"USER <user>", "PASS <password>"}. With "*" the client may
  //   select any mechanism; this gives the basic USER/PASS login of RFC 1939 section 7.
  // - ";AUTH=+APOP" ("APOP" in any case): {"APOP <user> <digest>"}.
  // - ";AUTH=<SASL mechanism>": {"AUTH <mechanism>"} (RFC 5034), the name as decoded.
  // - ";AUTH=+<other extension>": {} (the extension's command is not known here).
  // The user name is put in place of "<user>"; without a user in the URL the client asks the
  // user for one (RFC 2384 section 4), and the literal placeholder "<user>" stays.
  std::vector<std::string> commands() const;
};

// nullopt when the text is not a POP URL as described above (wrong scheme, bad
// percent-encoding, bad host or port, trailing path...). Throws nothing but std::bad_alloc.
POP3D_EXPORT std::optional<PopUrl> parse_pop_url(std::string_view url);

}  // namespace pop3decode
