// One SASL exchange (RFC 4422 section 3, carried by POP3 AUTH per RFC 5034): mechanism names,
// step limits, dispatch of each step to its mechanism's decoder, and verification.
#include <iterator>

#include "sasl_internal.hpp"

namespace pop3decode::sasl {

namespace {

constexpr uint32_t unlimited = UINT32_MAX;

struct MechanismInfo {
  Mechanism mechanism;
  std::string_view name;
  // Most steps of each side, counting the empty initial challenge a server sends when the
  // client gave no initial response (RFC 5034 section 4) and the client's empty answer to a
  // final server challenge (RFC 4422 section 3.6: POP3 has no "success with data").
  uint32_t max_client_steps;
  uint32_t max_server_steps;
};

constexpr MechanismInfo mechanisms[] = {
    {Mechanism::plain, "PLAIN", 1, 1},
    {Mechanism::login, "LOGIN", 2, 2},
    {Mechanism::cram_md5, "CRAM-MD5", 1, 1},
    // challenge, response, rspauth, empty; one more response when an initial response
    // (subsequent authentication, RFC 2831 section 2.2) was refused with a fresh challenge.
    {Mechanism::digest_md5, "DIGEST-MD5", 2, 2},
    // empty, client-first, server-first, client-final, server-final, empty
    {Mechanism::scram_sha_1, "SCRAM-SHA-1", 3, 3},
    {Mechanism::scram_sha_1_plus, "SCRAM-SHA-1-PLUS", 3, 3},
    {Mechanism::scram_sha_256, "SCRAM-SHA-256", 3, 3},
    {Mechanism::scram_sha_256_plus, "SCRAM-SHA-256-PLUS", 3, 3},
    {Mechanism::scram_md5, "SCRAM-MD5", 3, 3},
    // empty, token, error, empty
    {Mechanism::xoauth2, "XOAUTH2", 2, 2},
    {Mechanism::oauthbearer, "OAUTHBEARER", 2, 2},
    {Mechanism::external, "EXTERNAL", 1, 1},
    {Mechanism::anonymous, "ANONYMOUS", 1, 1},
    // empty, negotiate, challenge, authenticate
    {Mechanism::ntlm, "NTLM", 2, 2},
    // empty, token, token, empty, security layer, security layer; one extra context round
    {Mechanism::gssapi, "GSSAPI", 4, 4},
    {Mechanism::unknown, "", unlimited, unlimited},
};

const MechanismInfo& info(Mechanism mechanism) noexcept {
  for (const MechanismInfo& entry : mechanisms)
    if (entry.mechanism == mechanism) return entry;
  return mechanisms[std::size(mechanisms) - 1];
}

uint32_t max_client_steps(const detail::ExchangeState& state) noexcept {
  uint32_t limit = info(state.mechanism).max_client_steps;
  if (state.mechanism == Mechanism::digest_md5 && state.client_spoke_first) ++limit;
  return limit;
}

bool is_scram_sha(Mechanism mechanism) noexcept {
  return mechanism == Mechanism::scram_sha_1 || mechanism == Mechanism::scram_sha_1_plus ||
         mechanism == Mechanism::scram_sha_256 || mechanism == Mechanism::scram_sha_256_plus;
}

const Credentials no_credentials{};

}  // namespace

Mechanism mechanism_from_name(std::string_view name) noexcept {
  if (name.empty()) return Mechanism::unknown;
  for (const MechanismInfo& entry : mechanisms)
    if (detail::iequals(entry.name, name)) return entry.mechanism;
  return Mechanism::unknown;
}

std::string_view mechanism_name(Mechanism mechanism) noexcept {
  return info(mechanism).name;
}

struct Exchange::Impl {
  detail::ExchangeState state;
};

Exchange::Exchange(std::string_view mechanism_name) : impl_(std::make_unique<Impl>()) {
  impl_->state.mechanism = mechanism_from_name(mechanism_name);
}

Exchange::~Exchange() = default;

Exchange::Exchange(const Exchange& other)
    : impl_(other.impl_ ? std::make_unique<Impl>(*other.impl_) : nullptr) {}

Exchange& Exchange::operator=(const Exchange& other) {
  if (this != &other) impl_ = other.impl_ ? std::make_unique<Impl>(*other.impl_) : nullptr;
  return *this;
}

Exchange::Exchange(Exchange&&) noexcept = default;
Exchange& Exchange::operator=(Exchange&&) noexcept = default;

// A moved-from exchange behaves as an unknown mechanism that ignores its steps.
Mechanism Exchange::mechanism() const noexcept {
  return impl_ ? impl_->state.mechanism : Mechanism::unknown;
}

const Credentials& Exchange::credentials() const noexcept {
  return impl_ ? impl_->state.credentials : no_credentials;
}

uint32_t Exchange::client_steps() const noexcept {
  return impl_ ? impl_->state.client_steps : 0;
}
uint32_t Exchange::server_steps() const noexcept {
  return impl_ ? impl_->state.server_steps : 0;
}

void Exchange::client_step(std::string_view payload, const Step& step) {
  if (!impl_) return;
  detail::ExchangeState& state = impl_->state;
  if (state.client_steps == 0 && state.server_steps == 0) state.client_spoke_first = true;
  if (state.client_steps < UINT32_MAX) ++state.client_steps;
  detail::StepWriter w(step, payload);
  if (state.client_steps > max_client_steps(state)) {
    w.anomaly(Anomaly::SASL_STEP_COUNT);
    w.add_unknown_payload();
    return;
  }
  switch (state.mechanism) {
    case Mechanism::plain: detail::plain_client(state, w); break;
    case Mechanism::login: detail::login_client(state, w); break;
    case Mechanism::cram_md5: detail::cram_md5_client(state, w); break;
    case Mechanism::digest_md5: detail::digest_md5_client(state, w); break;
    case Mechanism::scram_sha_1:
    case Mechanism::scram_sha_1_plus:
    case Mechanism::scram_sha_256:
    case Mechanism::scram_sha_256_plus: detail::scram_client(state, w); break;
    case Mechanism::scram_md5: detail::scram_md5_client(state, w); break;
    case Mechanism::xoauth2: detail::xoauth2_client(state, w); break;
    case Mechanism::oauthbearer: detail::oauthbearer_client(state, w); break;
    case Mechanism::external: detail::external_client(state, w); break;
    case Mechanism::anonymous: detail::anonymous_client(state, w); break;
    case Mechanism::ntlm: detail::ntlm_client(state, w); break;
    case Mechanism::gssapi: detail::gssapi_step(state, w); break;
    case Mechanism::unknown: w.add_unknown_payload(); break;
  }
}

void Exchange::server_step(std::string_view payload, const Step& step) {
  if (!impl_) return;
  detail::ExchangeState& state = impl_->state;
  if (state.server_steps < UINT32_MAX) ++state.server_steps;
  detail::StepWriter w(step, payload);
  if (state.server_steps > info(state.mechanism).max_server_steps) {
    w.anomaly(Anomaly::SASL_STEP_COUNT);
    w.add_unknown_payload();
    return;
  }
  // The empty challenge that invites the client's first message is never malformed (but
  // CRAM-MD5 and DIGEST-MD5 start with a challenge that carries data).
  if (payload.empty() && state.client_steps == 0 && state.mechanism != Mechanism::cram_md5 &&
      state.mechanism != Mechanism::digest_md5)
    return;
  switch (state.mechanism) {
    case Mechanism::plain:
    case Mechanism::external:
    case Mechanism::anonymous: detail::empty_challenge_server(state, w); break;
    case Mechanism::login: detail::login_server(state, w); break;
    case Mechanism::cram_md5: detail::cram_md5_server(state, w); break;
    case Mechanism::digest_md5: detail::digest_md5_server(state, w); break;
    case Mechanism::scram_sha_1:
    case Mechanism::scram_sha_1_plus:
    case Mechanism::scram_sha_256:
    case Mechanism::scram_sha_256_plus: detail::scram_server(state, w); break;
    case Mechanism::scram_md5: detail::scram_md5_server(state, w); break;
    case Mechanism::xoauth2: detail::xoauth2_server(state, w); break;
    case Mechanism::oauthbearer: detail::oauthbearer_server(state, w); break;
    case Mechanism::ntlm: detail::ntlm_server(state, w); break;
    case Mechanism::gssapi: detail::gssapi_step(state, w); break;
    case Mechanism::unknown: w.add_unknown_payload(); break;
  }
}

std::optional<bool> Exchange::verify(std::string_view password) const {
  if (!impl_) return std::nullopt;
  const detail::ExchangeState& state = impl_->state;
  switch (state.mechanism) {
    case Mechanism::plain:
    case Mechanism::login:
      if (!state.password_seen) return std::nullopt;
      return detail::equal_constant_time(state.credentials.password, password);
    case Mechanism::cram_md5:
      if (!state.cram_challenge_seen || state.credentials.secret.empty()) return std::nullopt;
      return verify_cram_md5(state.cram_challenge, password, state.credentials.secret);
    case Mechanism::digest_md5:
      if (state.digest_response.empty()) return std::nullopt;
      return verify_digest_md5(state.digest_response, password);
    case Mechanism::scram_md5:
      if (state.scram_md5_client_final.empty()) return std::nullopt;
      return detail::verify_scram_md5(state.scram_md5_client_first, state.scram_md5_server_first,
                                      state.scram_md5_client_final, password);
    default: break;
  }
  if (is_scram_sha(state.mechanism)) {
    if (state.scram_client_first.empty() || state.scram_server_first.empty() ||
        state.scram_client_final.empty())
      return std::nullopt;
    return verify_scram(mechanism_name(state.mechanism), state.scram_client_first,
                        state.scram_server_first, state.scram_client_final, password);
  }
  return std::nullopt;
}

}  // namespace pop3decode::sasl
