// SASL (RFC 4422) as used by POP3 AUTH (RFC 5034, RFC 1734): base64, per-mechanism payload
// decoders, and credential verification against a known password.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "pop3decode/event.hpp"

namespace pop3decode::sasl {

// Strict base64 (RFC 4648 section 4, padding required, no whitespace). nullopt when invalid.
POP3D_EXPORT std::optional<std::string> decode_base64(std::string_view text);
POP3D_EXPORT std::string encode_base64(std::string_view bytes);

enum class Mechanism : uint8_t {
  plain,
  login,
  cram_md5,
  digest_md5,
  scram_sha_1,
  scram_sha_1_plus,
  scram_sha_256,
  scram_sha_256_plus,
  scram_md5,
  xoauth2,
  oauthbearer,
  external,
  anonymous,
  ntlm,
  gssapi,
  unknown,
};

// Case-insensitive; unknown names give Mechanism::unknown.
POP3D_EXPORT Mechanism mechanism_from_name(std::string_view name) noexcept;
POP3D_EXPORT std::string_view mechanism_name(Mechanism) noexcept;

// Where the decoded payload of one step lives, for items and anomalies.
struct Step {
  EventBuilder& out;
  uint32_t source;         // buffer id of the decoded payload in `out` (items use it)
  int32_t parent;          // the step's subtree item; mechanism fields go under it
  uint64_t origin_offset;  // stream range of the base64 text (anomalies point here)
  uint64_t origin_length;
};

// What an exchange revealed about who logged in and with what.
struct Credentials {
  std::string authzid;
  std::string username;
  std::string password;  // only when the mechanism carries it in clear (PLAIN, LOGIN)
  std::string secret;    // digest, proof or token as text (hex for binary values)
};

// One AUTH exchange. The session decodes base64 and calls the steps in wire order; the
// exchange decodes each payload for its mechanism, adds the mechanism's items under
// step.parent (and AUTH_USERNAME / AUTH_PASSWORD items, the password flagged item_secret,
// wherever a user name or password appears), and reports SASL_MALFORMED,
// SASL_PLAIN_NUL_COUNT and SASL_STEP_COUNT anomalies.
class POP3D_EXPORT Exchange {
 public:
  explicit Exchange(std::string_view mechanism_name);
  ~Exchange();
  Exchange(const Exchange&);
  Exchange& operator=(const Exchange&);
  Exchange(Exchange&&) noexcept;
  Exchange& operator=(Exchange&&) noexcept;

  Mechanism mechanism() const noexcept;
  void client_step(std::string_view payload, const Step& step);
  void server_step(std::string_view payload, const Step& step);
  const Credentials& credentials() const noexcept;
  uint32_t client_steps() const noexcept;
  uint32_t server_steps() const noexcept;

  // With the user's password: true if the exchange's digest/proof matches, false if not,
  // nullopt when this mechanism or this exchange cannot be checked (missing messages).
  std::optional<bool> verify(std::string_view password) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Pure verification functions (nullopt: the input cannot be checked, e.g. malformed digest).
POP3D_EXPORT std::optional<bool> verify_apop(std::string_view timestamp, std::string_view password,
                                             std::string_view hex_digest);
POP3D_EXPORT std::optional<bool> verify_cram_md5(std::string_view challenge,
                                                 std::string_view password,
                                                 std::string_view hex_digest);
POP3D_EXPORT std::optional<bool> verify_digest_md5(std::string_view client_response,
                                                   std::string_view password);
POP3D_EXPORT std::optional<bool> verify_scram(std::string_view mechanism,
                                              std::string_view client_first,
                                              std::string_view server_first,
                                              std::string_view client_final,
                                              std::string_view password);

}  // namespace pop3decode::sasl
