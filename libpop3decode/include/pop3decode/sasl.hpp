// SASL (RFC 4422) as used by POP3 AUTH (RFC 5034, RFC 1734): base64, mechanism names, and
// credential verification against a known password. (The per-mechanism payload decoders the
// session drives are internal.)
#pragma once

#include <cstdint>
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
