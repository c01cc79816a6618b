// Bearer-token mechanisms: XOAUTH2 (Google's "XOAUTH2 protocol" page) and OAUTHBEARER
// (RFC 7628). Both carry ^A-separated key=value pairs ended by ^A^A, and a failing server
// answers with a JSON error as a challenge, which the client acknowledges.
#include "sasl_internal.hpp"

namespace pop3decode::sasl::detail {

namespace {

constexpr char kvsep = '\x01';

struct KeyValue {
  std::string_view key;
  std::string_view value;
  size_t offset = 0;  // the whole "key=value"
  size_t length = 0;
  size_t value_offset = 0;
  bool has_equals = false;
};

// RFC 7628 section 3.1: kvpairs = *kvpair, each followed by kvsep; the message ends with one
// more kvsep. Calls `on_pair` for each pair; returns false when the terminator is missing or
// bytes follow it.
template <typename OnPair>
bool for_each_kvpair(std::string_view p, size_t pos, OnPair&& on_pair) {
  while (pos < p.size()) {
    size_t end = p.find(kvsep, pos);
    const bool terminated = end != std::string_view::npos;
    if (!terminated) end = p.size();
    if (terminated && end == pos) return end + 1 == p.size();  // the final empty pair
    KeyValue kv;
    kv.offset = pos;
    kv.length = end - pos;
    const std::string_view text = p.substr(pos, end - pos);
    const size_t equals = text.find('=');
    kv.has_equals = equals != std::string_view::npos;
    kv.key = text.substr(0, kv.has_equals ? equals : text.size());
    kv.value_offset = kv.has_equals ? pos + equals + 1 : end;
    kv.value = kv.has_equals ? text.substr(equals + 1) : std::string_view{};
    on_pair(kv);
    if (!terminated) return false;
    pos = end + 1;
  }
  return false;
}

bool is_b64token(std::string_view token) noexcept {
  size_t i = 0;
  for (; i < token.size(); ++i) {
    const char c = token[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
    if (!ok) break;
  }
  if (i == 0) return false;
  for (; i < token.size(); ++i)
    if (token[i] != '=') return false;
  return true;
}

// "Bearer" SP token (RFC 6750 section 2.1): adds the token as AUTH_SECRET; false if malformed.
bool add_bearer_token(ExchangeState& state, StepWriter& w, const KeyValue& kv, Field token_field) {
  constexpr std::string_view scheme = "Bearer ";
  const bool bearer = istarts_with(kv.value, scheme);
  const size_t skip = bearer ? scheme.size() : 0;
  const std::string_view token = kv.value.substr(skip);
  if (token_field != Field::AUTH_SECRET)
    w.add(token_field, kv.value_offset + skip, token.size(), item_secret);
  w.add(Field::AUTH_SECRET, kv.value_offset + skip, token.size(), item_secret);
  state.credentials.secret = token;
  return bearer && is_b64token(token);
}

// The error a failing server sends: a JSON object (RFC 7628 section 3.2.2).
void json_error(StepWriter& w, Field field) {
  const std::string_view p = w.payload();
  if (p.empty()) return;
  w.add(field, 0, p.size());
  const size_t first = p.find_first_not_of(" \t\r\n");
  const size_t last = p.find_last_not_of(" \t\r\n");
  if (first == std::string_view::npos || p[first] != '{' || p[last] != '}' || !is_valid_utf8(p))
    w.malformed();
}

bool is_alpha_key(std::string_view key) noexcept {
  if (key.empty()) return false;
  for (char c : key)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) return false;
  return true;
}

}  // namespace

// "user=" user ^A "auth=Bearer " token ^A ^A
void xoauth2_client(ExchangeState& state, StepWriter& w) {
  const std::string_view p = w.payload();
  if (p.empty()) {
    // The acknowledgement of an error; never the first message.
    if (state.client_steps <= 1) w.malformed();
    return;
  }
  bool user_seen = false, auth_seen = false, well_formed = true;
  const bool terminated = for_each_kvpair(p, 0, [&](const KeyValue& kv) {
    if (kv.has_equals && kv.key == "user") {
      user_seen = true;
      w.add(Field::SASL_XOAUTH2_USER, kv.value_offset, kv.value.size());
      w.add(Field::AUTH_USERNAME, kv.value_offset, kv.value.size());
      state.credentials.username = kv.value;
      if (kv.value.empty() || !is_valid_utf8(kv.value)) well_formed = false;
    } else if (kv.has_equals && kv.key == "auth") {
      auth_seen = true;
      if (!add_bearer_token(state, w, kv, Field::SASL_XOAUTH2_TOKEN)) well_formed = false;
    } else {
      w.add(Field::SASL_OAUTH_KVPAIR, kv.offset, kv.length);
      if (!kv.has_equals) well_formed = false;
    }
  });
  if (!terminated || !user_seen || !auth_seen || !well_formed) w.malformed();
}

void xoauth2_server(ExchangeState&, StepWriter& w) {
  json_error(w, Field::SASL_XOAUTH2_ERROR);
}

// RFC 7628 section 3.1: gs2-header kvsep *kvpair kvsep.
void oauthbearer_client(ExchangeState& state, StepWriter& w) {
  const std::string_view p = w.payload();
  // The acknowledgement of an error is a lone kvsep (section 3.2.3); tolerate an empty line.
  if (p.empty() || p == std::string_view("\x01", 1)) {
    if (state.client_steps <= 1) w.malformed();
    return;
  }
  const size_t flag_end = p.find(',');
  const size_t header_end =
      flag_end == std::string_view::npos ? flag_end : p.find(',', flag_end + 1);
  if (header_end == std::string_view::npos) {
    w.malformed();
    w.add_unknown_payload();
    return;
  }
  w.add(Field::SASL_OAUTH_GS2_HEADER, 0, header_end + 1);
  bool well_formed = true;
  // Channel binding is not defined for OAUTHBEARER: the flag is "n" or "y".
  const std::string_view flag = p.substr(0, flag_end);
  if (flag != "n" && flag != "y") well_formed = false;
  const std::string_view authzid = p.substr(flag_end + 1, header_end - flag_end - 1);
  if (!authzid.empty()) {
    const bool prefixed = authzid.substr(0, 2) == "a=";
    const size_t skip = prefixed ? 2 : 0;
    const size_t value_offset = flag_end + 1 + skip;
    const std::string_view raw = authzid.substr(skip);
    const std::optional<std::string> name = prefixed ? decode_saslname(raw) : std::nullopt;
    std::string shown = name ? *name : std::string(raw);
    if (!name || shown.empty() || !is_valid_utf8(shown)) well_formed = false;
    w.add_value(Field::SASL_OAUTH_AUTHZID, value_offset, raw.size(), shown);
    w.add_value(Field::AUTH_AUTHZID, value_offset, raw.size(), shown);
    state.credentials.authzid = std::move(shown);
  }
  if (header_end + 1 >= p.size() || p[header_end + 1] != kvsep) {
    w.malformed();
    return;
  }
  bool auth_seen = false;
  const bool terminated = for_each_kvpair(p, header_end + 2, [&](const KeyValue& kv) {
    if (!kv.has_equals || !is_alpha_key(kv.key)) {
      w.add(Field::SASL_OAUTH_KVPAIR, kv.offset, kv.length);
      well_formed = false;
    } else if (kv.key == "host") {
      w.add(Field::SASL_OAUTH_HOST, kv.value_offset, kv.value.size());
    } else if (kv.key == "port") {
      const std::optional<uint32_t> port = parse_u32(kv.value);
      if (port && *port <= 65535) {
        w.add_number(Field::SASL_OAUTH_PORT, kv.value_offset, kv.value.size(), *port);
      } else {
        w.add(Field::SASL_OAUTH_KVPAIR, kv.offset, kv.length);
        well_formed = false;
      }
    } else if (kv.key == "auth") {
      auth_seen = true;
      w.add(Field::SASL_OAUTH_AUTH, kv.value_offset, kv.value.size(), item_secret);
      if (!add_bearer_token(state, w, kv, Field::AUTH_SECRET)) well_formed = false;
    } else {
      w.add(Field::SASL_OAUTH_KVPAIR, kv.offset, kv.length);
    }
  });
  if (!terminated || !auth_seen || !well_formed) w.malformed();
}

void oauthbearer_server(ExchangeState&, StepWriter& w) {
  json_error(w, Field::SASL_OAUTH_ERROR);
}

}  // namespace pop3decode::sasl::detail
