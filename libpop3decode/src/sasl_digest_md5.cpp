// DIGEST-MD5 (RFC 2831): directive lists of the challenge, the response and rspauth.
#include "sasl_internal.hpp"

namespace pop3decode::sasl::detail {

namespace {

bool is_lws(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// RFC 2616 section 2.2 token characters, which RFC 2831 section 7.1 uses.
bool is_token_char(char c) noexcept {
  const auto b = static_cast<uint8_t>(c);
  if (b <= 31 || b >= 127) return false;
  constexpr std::string_view separators = "()<>@,;:\\\"/[]?={} \t";
  return separators.find(c) == std::string_view::npos;
}

size_t skip_lws(std::string_view text, size_t pos) noexcept {
  while (pos < text.size() && is_lws(text[pos])) ++pos;
  return pos;
}

}  // namespace

// RFC 2831 section 7.1: #rule lists (empty elements allowed) of token "=" (token |
// quoted-string), with LWS around the separators; quoted-pair is "\" CHAR. Unquoted values
// are read up to the next separator without insisting on token characters: implementations
// send e.g. digest-uri=pop/host unquoted.
DirectiveList parse_directives(std::string_view text) {
  DirectiveList list;
  size_t pos = 0;
  const size_t n = text.size();
  while (true) {
    while (pos < n && (is_lws(text[pos]) || text[pos] == ',')) ++pos;
    if (pos >= n) break;
    Directive directive;
    directive.offset = pos;
    while (pos < n && is_token_char(text[pos])) ++pos;
    directive.name = text.substr(directive.offset, pos - directive.offset);
    pos = skip_lws(text, pos);
    if (directive.name.empty() || pos >= n || text[pos] != '=') {
      list.well_formed = false;
      break;
    }
    pos = skip_lws(text, pos + 1);
    directive.value_offset = pos;
    if (pos < n && text[pos] == '"') {
      directive.quoted = true;
      ++pos;
      bool closed = false;
      while (pos < n) {
        const char c = text[pos];
        if (c == '\\' && pos + 1 < n) {
          directive.value.push_back(text[pos + 1]);
          pos += 2;
        } else if (c == '"') {
          ++pos;
          closed = true;
          break;
        } else {
          directive.value.push_back(c);
          ++pos;
        }
      }
      if (!closed) {
        list.well_formed = false;
        break;
      }
    } else {
      while (pos < n && text[pos] != ',' && text[pos] != '"' && !is_lws(text[pos])) ++pos;
      directive.value = text.substr(directive.value_offset, pos - directive.value_offset);
      if (directive.value.empty()) {
        list.well_formed = false;
        break;
      }
    }
    directive.value_length = pos - directive.value_offset;
    directive.length = pos - directive.offset;
    list.directives.push_back(std::move(directive));
    pos = skip_lws(text, pos);
    if (pos < n && text[pos] != ',') {
      list.well_formed = false;
      break;
    }
  }
  return list;
}

const Directive* find_directive(const DirectiveList& list, std::string_view name) noexcept {
  for (const Directive& directive : list.directives)
    if (iequals(directive.name, name)) return &directive;
  return nullptr;
}

namespace {

size_t count_directive(const DirectiveList& list, std::string_view name) noexcept {
  size_t count = 0;
  for (const Directive& directive : list.directives)
    if (iequals(directive.name, name)) ++count;
  return count;
}

// Items shared by challenge and response: returns false for directives it does not know.
bool add_common_directive(const Directive& d, StepWriter& w) {
  const auto add_value = [&](Field field) {
    w.add_value(field, d.value_offset, d.value_length, d.value);
  };
  if (iequals(d.name, "realm")) {
    add_value(Field::SASL_DIGEST_REALM);
  } else if (iequals(d.name, "nonce")) {
    add_value(Field::SASL_DIGEST_NONCE);
  } else if (iequals(d.name, "qop")) {
    add_value(Field::SASL_DIGEST_QOP);
  } else if (iequals(d.name, "charset")) {
    add_value(Field::SASL_DIGEST_CHARSET);
    if (!iequals(d.value, "utf-8")) w.malformed();  // the only value defined
  } else if (iequals(d.name, "cipher")) {
    add_value(Field::SASL_DIGEST_CIPHER);
  } else if (iequals(d.name, "maxbuf")) {
    // RFC 2831 section 2.1.1: a decimal number from 16 to 16777215.
    const std::optional<uint32_t> maxbuf = parse_u32(d.value);
    if (maxbuf)
      w.add_number(Field::SASL_DIGEST_MAXBUF, d.value_offset, d.value_length, *maxbuf);
    else
      w.add(Field::SASL_DIGEST_DIRECTIVE, d.offset, d.length);
    if (!maxbuf || *maxbuf < 16 || *maxbuf > 16777215) w.malformed();
  } else {
    return false;
  }
  return true;
}

}  // namespace

// RFC 2831 section 2.1.1 (digest-challenge) and 2.1.3 (response-auth).
void digest_md5_server(ExchangeState&, StepWriter& w) {
  const std::string_view p = w.payload();
  const DirectiveList list = parse_directives(p);
  if (!list.well_formed || p.size() >= 2048 || list.directives.empty()) w.malformed();
  for (const Directive& d : list.directives) {
    if (add_common_directive(d, w)) continue;
    if (iequals(d.name, "algorithm")) {
      w.add_value(Field::SASL_DIGEST_ALGORITHM, d.value_offset, d.value_length, d.value);
      if (!iequals(d.value, "md5-sess")) w.malformed();
    } else if (iequals(d.name, "stale")) {
      w.add_value(Field::SASL_DIGEST_STALE, d.value_offset, d.value_length, d.value);
    } else if (iequals(d.name, "rspauth")) {
      w.add_value(Field::SASL_DIGEST_RSPAUTH, d.value_offset, d.value_length, d.value);
      if (d.value.size() != 32 || !is_hex(d.value)) w.malformed();
    } else {
      w.add(Field::SASL_DIGEST_DIRECTIVE, d.offset, d.length);  // kept as it is
    }
  }
  if (find_directive(list, "rspauth") != nullptr) {
    if (list.directives.size() != 1 || !list.well_formed) w.malformed();
    return;
  }
  // A challenge: nonce and algorithm are required and, like most directives, single.
  if (count_directive(list, "nonce") != 1 || count_directive(list, "algorithm") != 1) w.malformed();
  for (std::string_view single : {"qop", "stale", "maxbuf", "charset", "cipher"})
    if (count_directive(list, single) > 1) w.malformed();
}

// RFC 2831 section 2.1.2 (digest-response). An empty client step is the acknowledgement of
// rspauth.
void digest_md5_client(ExchangeState& state, StepWriter& w) {
  const std::string_view p = w.payload();
  if (p.empty()) return;
  state.digest_response = p;
  const DirectiveList list = parse_directives(p);
  if (!list.well_formed || p.size() >= 4096) w.malformed();
  const Directive* charset = find_directive(list, "charset");
  const bool utf8 = charset != nullptr && iequals(charset->value, "utf-8");
  // Without charset=utf-8 the user name and realm are ISO 8859-1 (section 2.1.2).
  const auto text_value = [&](const Directive& d) {
    if (utf8) {
      if (!is_valid_utf8(d.value)) w.malformed();
      return d.value;
    }
    return latin1_to_utf8(d.value);
  };
  for (const Directive& d : list.directives) {
    if (iequals(d.name, "realm")) {
      w.add_value(Field::SASL_DIGEST_REALM, d.value_offset, d.value_length, text_value(d));
    } else if (add_common_directive(d, w)) {
      if (iequals(d.name, "qop") && !iequals(d.value, "auth") && !iequals(d.value, "auth-int") &&
          !iequals(d.value, "auth-conf"))
        w.malformed();
    } else if (iequals(d.name, "username")) {
      std::string user = text_value(d);
      w.add_value(Field::SASL_DIGEST_USERNAME, d.value_offset, d.value_length, user);
      w.add_value(Field::AUTH_USERNAME, d.value_offset, d.value_length, user);
      state.credentials.username = std::move(user);
    } else if (iequals(d.name, "cnonce")) {
      w.add_value(Field::SASL_DIGEST_CNONCE, d.value_offset, d.value_length, d.value);
    } else if (iequals(d.name, "nc")) {
      w.add_value(Field::SASL_DIGEST_NC, d.value_offset, d.value_length, d.value);
      if (d.value.size() != 8 || !is_hex(d.value)) w.malformed();
    } else if (iequals(d.name, "digest-uri")) {
      w.add_value(Field::SASL_DIGEST_URI, d.value_offset, d.value_length, d.value);
    } else if (iequals(d.name, "response")) {
      w.add_value(Field::SASL_DIGEST_RESPONSE, d.value_offset, d.value_length, d.value);
      w.add_value(Field::AUTH_SECRET, d.value_offset, d.value_length, d.value);
      state.credentials.secret = d.value;
      if (d.value.size() != 32 || !is_hex(d.value)) w.malformed();
    } else if (iequals(d.name, "authzid")) {
      w.add_value(Field::SASL_DIGEST_AUTHZID, d.value_offset, d.value_length, d.value);
      w.add_value(Field::AUTH_AUTHZID, d.value_offset, d.value_length, d.value);
      state.credentials.authzid = d.value;
      if (!is_valid_utf8(d.value)) w.malformed();
    } else {
      w.add(Field::SASL_DIGEST_DIRECTIVE, d.offset, d.length);  // kept as it is
    }
  }
  for (std::string_view required : {"username", "nonce", "cnonce", "nc", "digest-uri", "response"})
    if (count_directive(list, required) != 1) w.malformed();
  for (std::string_view single : {"realm", "qop", "maxbuf", "charset", "cipher", "authzid"})
    if (count_directive(list, single) > 1) w.malformed();
}

}  // namespace pop3decode::sasl::detail
