// Single-message mechanisms: PLAIN (RFC 4616), LOGIN (draft-murchison-sasl-login),
// CRAM-MD5 (RFC 2195), EXTERNAL (RFC 4422 appendix A), ANONYMOUS (RFC 4505), GSSAPI (RFC 4752).
#include <algorithm>

#include "sasl_internal.hpp"

namespace pop3decode::sasl::detail {

// PLAIN, EXTERNAL, ANONYMOUS: the server's challenge is empty; anything else is shown as bytes.
void empty_challenge_server(ExchangeState&, StepWriter& w) {
  if (w.payload().empty()) return;
  w.malformed();
  w.add_unknown_payload();
}

namespace {

bool contains_ci(std::string_view text, std::string_view word) noexcept {
  for (size_t i = 0; i + word.size() <= text.size(); ++i)
    if (iequals(text.substr(i, word.size()), word)) return true;
  return false;
}

}  // namespace

// RFC 4616 section 2: message = [authzid] UTF8NUL authcid UTF8NUL passwd, each UTF-8 without
// NUL; authcid and passwd are not empty.
void plain_client(ExchangeState& state, StepWriter& w) {
  const std::string_view p = w.payload();
  std::vector<size_t> nuls;
  for (size_t i = 0; i < p.size() && nuls.size() < 3; ++i)
    if (p[i] == '\0') nuls.push_back(i);
  if (nuls.size() != 2) w.anomaly(Anomaly::SASL_PLAIN_NUL_COUNT);
  if (nuls.empty()) {
    w.add_unknown_payload();
    return;
  }
  // One NUL: the usual mistake is a missing authzid, so read "authcid NUL passwd".
  // Three or more: the password keeps the extra NULs.
  size_t authcid_start = 0;
  if (nuls.size() >= 2) {
    const std::string_view authzid = p.substr(0, nuls[0]);
    if (!authzid.empty()) {
      w.add(Field::SASL_PLAIN_AUTHZID, 0, authzid.size());
      w.add(Field::AUTH_AUTHZID, 0, authzid.size());
      state.credentials.authzid = authzid;
    }
    if (!is_valid_utf8(authzid)) w.malformed();
    authcid_start = nuls[0] + 1;
  }
  const size_t authcid_end = nuls.size() >= 2 ? nuls[1] : nuls[0];
  const std::string_view authcid = p.substr(authcid_start, authcid_end - authcid_start);
  const size_t password_start = authcid_end + 1;
  const std::string_view password = p.substr(password_start);

  w.add(Field::SASL_PLAIN_AUTHCID, authcid_start, authcid.size());
  w.add(Field::AUTH_USERNAME, authcid_start, authcid.size());
  w.add(Field::SASL_PLAIN_PASSWORD, password_start, password.size(), item_secret);
  w.add(Field::AUTH_PASSWORD, password_start, password.size(), item_secret);
  state.credentials.username = authcid;
  state.credentials.password = password;
  state.password_seen = true;

  if (authcid.empty() || password.empty() || !is_valid_utf8(authcid) || !is_valid_utf8(password))
    w.malformed();
}

// LOGIN: the server prompts (conventionally "Username:" then "Password:"), the client answers
// with the bare user name and password. Clients may send the user name as initial response.
void login_server(ExchangeState& state, StepWriter& w) {
  const std::string_view p = w.payload();
  if (p.empty()) return;
  w.add(Field::SASL_LOGIN_PROMPT, 0, p.size());
  if (contains_ci(p, "pass"))
    state.login_expect = LoginExpect::password;
  else if (contains_ci(p, "user") || contains_ci(p, "name"))
    state.login_expect = LoginExpect::username;
}

void login_client(ExchangeState& state, StepWriter& w) {
  const std::string_view p = w.payload();
  switch (state.login_expect) {
    case LoginExpect::username:
      w.add(Field::SASL_LOGIN_USERNAME, 0, p.size());
      w.add(Field::AUTH_USERNAME, 0, p.size());
      state.credentials.username = p;
      state.login_expect = LoginExpect::password;
      break;
    case LoginExpect::password:
      w.add(Field::SASL_LOGIN_PASSWORD, 0, p.size(), item_secret);
      w.add(Field::AUTH_PASSWORD, 0, p.size(), item_secret);
      state.credentials.password = p;
      state.password_seen = true;
      state.login_expect = LoginExpect::nothing;
      break;
    case LoginExpect::nothing: w.add_unknown_payload(); break;
  }
}

// RFC 2195 section 2: the challenge is a msg-id such as "<1896.697170952@postoffice.example>".
void cram_md5_server(ExchangeState& state, StepWriter& w) {
  const std::string_view p = w.payload();
  if (p.empty()) {
    w.malformed();
    return;
  }
  w.add(Field::SASL_CRAM_CHALLENGE, 0, p.size());
  state.cram_challenge = p;
  state.cram_challenge_seen = true;
}

// RFC 2195 section 2: user name, a space, 32 lower-case hex digits. The name may itself hold
// spaces, so the digest starts after the last one.
void cram_md5_client(ExchangeState& state, StepWriter& w) {
  const std::string_view p = w.payload();
  const size_t space = p.rfind(' ');
  if (space == std::string_view::npos) {
    w.malformed();
    w.add_unknown_payload();
    return;
  }
  const std::string_view user = p.substr(0, space);
  const std::string_view digest = p.substr(space + 1);
  w.add(Field::SASL_CRAM_USERNAME, 0, user.size());
  w.add(Field::AUTH_USERNAME, 0, user.size());
  w.add(Field::SASL_CRAM_DIGEST, space + 1, digest.size());
  w.add(Field::AUTH_SECRET, space + 1, digest.size());
  state.credentials.username = user;
  state.credentials.secret = digest;
  if (user.empty() || digest.size() != 32 || !is_hex(digest)) w.malformed();
}

// RFC 4422 appendix A.1: the client's message is the (possibly empty) authorization identity.
void external_client(ExchangeState& state, StepWriter& w) {
  const std::string_view p = w.payload();
  if (p.empty()) return;
  w.add(Field::SASL_EXTERNAL_AUTHZID, 0, p.size());
  w.add(Field::AUTH_AUTHZID, 0, p.size());
  state.credentials.authzid = p;
  if (!is_valid_utf8(p)) w.malformed();
}

// RFC 4505 section 3: optional trace information, 1 to 255 UTF-8 characters.
void anonymous_client(ExchangeState&, StepWriter& w) {
  const std::string_view p = w.payload();
  if (p.empty()) return;
  w.add(Field::SASL_ANONYMOUS_TRACE, 0, p.size());
  if (!is_valid_utf8(p) || utf8_length(p) > 255) w.malformed();
}

// RFC 4752: GSS-API tokens (and the wrapped security-layer messages) are opaque here; the
// plug-in hands them to Wireshark's GSS-API dissector.
void gssapi_step(ExchangeState&, StepWriter& w) {
  if (!w.payload().empty()) w.add(Field::SASL_GSSAPI_TOKEN, 0, w.payload().size());
}

}  // namespace pop3decode::sasl::detail
