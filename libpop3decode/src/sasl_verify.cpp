// Checking a captured credential against a known password: APOP (RFC 1939 section 7),
// CRAM-MD5 (RFC 2195), DIGEST-MD5 (RFC 2831 section 2.1.2.1), SCRAM (RFC 5802 section 3).
#include <algorithm>

#include "sasl_internal.hpp"

namespace pop3decode::sasl {

namespace {

using detail::Hash;

// PBKDF2 cost grows linearly with the count a (possibly hostile) server chose; above this the
// proof is reported as not checkable rather than stalling the caller.
constexpr uint32_t max_scram_iterations = 1'000'000;

std::string ascii_lower(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; });
  return lower;
}

bool is_hex_digest(std::string_view hex, size_t bytes) noexcept {
  return hex.size() == bytes * 2 && detail::is_hex(hex);
}

std::optional<std::string> hex_digest(Hash hash, std::string_view data) {
  auto bytes = detail::digest(hash, data);
  if (!bytes) return std::nullopt;
  return detail::to_hex(*bytes);
}

// RFC 2831 section 2.1.2.1: with charset=utf-8, values whose characters all fit ISO 8859-1 are
// hashed in ISO 8859-1.
std::string digest_md5_text(std::string_view value, bool utf8) {
  if (utf8)
    if (std::optional<std::string> latin1 = detail::utf8_to_latin1(value)) return *latin1;
  return std::string(value);
}

std::optional<Hash> scram_hash_from_name(std::string_view mechanism) noexcept {
  constexpr std::string_view plus = "-PLUS";
  if (mechanism.size() > plus.size() &&
      detail::iequals(mechanism.substr(mechanism.size() - plus.size()), plus))
    mechanism.remove_suffix(plus.size());
  struct Name {
    std::string_view name;
    Hash hash;
  };
  constexpr Name names[] = {{"SCRAM-SHA-1", Hash::sha1},
                            {"SCRAM-SHA-224", Hash::sha224},
                            {"SCRAM-SHA-256", Hash::sha256},
                            {"SCRAM-SHA-384", Hash::sha384},
                            {"SCRAM-SHA-512", Hash::sha512}};
  for (const Name& entry : names)
    if (detail::iequals(entry.name, mechanism)) return entry.hash;
  return std::nullopt;
}

// The value of attribute `key` in a SCRAM message ("k=value,k=value").
std::optional<std::string_view> scram_attribute(std::string_view message, char key) noexcept {
  size_t pos = 0;
  while (pos <= message.size()) {
    size_t end = message.find(',', pos);
    if (end == std::string_view::npos) end = message.size();
    const std::string_view attribute = message.substr(pos, end - pos);
    if (attribute.size() >= 2 && attribute[0] == key && attribute[1] == '=')
      return attribute.substr(2);
    pos = end + 1;
  }
  return std::nullopt;
}

}  // namespace

std::optional<bool> verify_apop(std::string_view timestamp, std::string_view password,
                                std::string_view hex) {
  if (!is_hex_digest(hex, 16)) return std::nullopt;
  std::string text(timestamp);
  text.append(password);
  const auto expected = hex_digest(Hash::md5, text);
  if (!expected) return std::nullopt;
  return detail::equal_constant_time(*expected, ascii_lower(hex));
}

std::optional<bool> verify_cram_md5(std::string_view challenge, std::string_view password,
                                    std::string_view hex) {
  if (!is_hex_digest(hex, 16)) return std::nullopt;
  const auto mac = detail::hmac(Hash::md5, password, challenge);
  if (!mac) return std::nullopt;
  return detail::equal_constant_time(detail::to_hex(*mac), ascii_lower(hex));
}

// response = HEX(KD(HEX(H(A1)), nonce ":" nc ":" cnonce ":" qop ":" HEX(H(A2)))) with
// A1 = H(user ":" realm ":" password) ":" nonce ":" cnonce [":" authzid],
// A2 = "AUTHENTICATE:" digest-uri [":00000000000000000000000000000000" for auth-int/conf].
std::optional<bool> verify_digest_md5(std::string_view client_response, std::string_view password) {
  const detail::DirectiveList list = detail::parse_directives(client_response);
  if (!list.well_formed) return std::nullopt;
  const auto value = [&](std::string_view name) -> const std::string* {
    const detail::Directive* d = detail::find_directive(list, name);
    return d ? &d->value : nullptr;
  };
  const std::string* user = value("username");
  const std::string* nonce = value("nonce");
  const std::string* cnonce = value("cnonce");
  const std::string* nc = value("nc");
  const std::string* uri = value("digest-uri");
  const std::string* response = value("response");
  if (!user || !nonce || !cnonce || !nc || !uri || !response || !is_hex_digest(*response, 16))
    return std::nullopt;
  const std::string* realm = value("realm");
  const std::string* qop_value = value("qop");
  const std::string* authzid = value("authzid");
  const std::string* charset = value("charset");
  const bool utf8 = charset != nullptr && detail::iequals(*charset, "utf-8");
  const std::string qop = qop_value ? ascii_lower(*qop_value) : std::string("auth");
  if (qop != "auth" && qop != "auth-int" && qop != "auth-conf") return std::nullopt;

  std::string secret = digest_md5_text(*user, utf8);
  secret.append(":").append(realm ? digest_md5_text(*realm, utf8) : std::string());
  secret.append(":").append(digest_md5_text(password, utf8));
  const auto user_hash = detail::digest(Hash::md5, secret);
  if (!user_hash) return std::nullopt;
  std::string a1 = *user_hash;
  a1.append(":").append(*nonce).append(":").append(*cnonce);
  if (authzid) a1.append(":").append(*authzid);
  std::string a2 = "AUTHENTICATE:" + *uri;
  if (qop != "auth") a2.append(":00000000000000000000000000000000");
  const auto ha1 = hex_digest(Hash::md5, a1);
  const auto ha2 = hex_digest(Hash::md5, a2);
  if (!ha1 || !ha2) return std::nullopt;
  std::string kd = *ha1;
  kd.append(":").append(*nonce).append(":").append(*nc).append(":").append(*cnonce);
  kd.append(":").append(qop).append(":").append(*ha2);
  const auto expected = hex_digest(Hash::md5, kd);
  if (!expected) return std::nullopt;
  return detail::equal_constant_time(*expected, ascii_lower(*response));
}

// SaltedPassword = Hi(password, salt, i) (PBKDF2 with HMAC-H); ClientKey = HMAC(SaltedPassword,
// "Client Key"); StoredKey = H(ClientKey); AuthMessage = client-first-message-bare ","
// server-first-message "," client-final-message-without-proof; ClientSignature =
// HMAC(StoredKey, AuthMessage); ClientProof = ClientKey XOR ClientSignature.
// The password is used as given (no SASLprep).
std::optional<bool> verify_scram(std::string_view mechanism, std::string_view client_first,
                                 std::string_view server_first, std::string_view client_final,
                                 std::string_view password) {
  const std::optional<Hash> hash = scram_hash_from_name(mechanism);
  if (!hash) return std::nullopt;
  const size_t hash_length = detail::hash_size(*hash);

  // client-first-message-bare follows the gs2-header's second comma.
  const size_t flag_end = client_first.find(',');
  if (flag_end == std::string_view::npos) return std::nullopt;
  const size_t header_end = client_first.find(',', flag_end + 1);
  if (header_end == std::string_view::npos) return std::nullopt;
  const std::string_view client_first_bare = client_first.substr(header_end + 1);

  const auto salt_text = scram_attribute(server_first, 's');
  const auto iterations_text = scram_attribute(server_first, 'i');
  if (!salt_text || !iterations_text || iterations_text->empty() || (*iterations_text)[0] == '0')
    return std::nullopt;
  const std::optional<std::string> salt = decode_base64(*salt_text);
  const std::optional<uint32_t> iterations = detail::parse_u32(*iterations_text);
  if (!salt || !iterations || *iterations > max_scram_iterations) return std::nullopt;

  // The proof is the last attribute of the client-final message.
  const size_t proof_at = client_final.rfind(",p=");
  if (proof_at == std::string_view::npos) return std::nullopt;
  const std::string_view without_proof = client_final.substr(0, proof_at);
  const std::optional<std::string> proof = decode_base64(client_final.substr(proof_at + 3));
  if (!proof || proof->size() != hash_length) return std::nullopt;

  std::string auth_message(client_first_bare);
  auth_message.append(",").append(server_first).append(",").append(without_proof);

  const auto salted = detail::pbkdf2(*hash, password, *salt, *iterations);
  if (!salted) return std::nullopt;
  const auto client_key = detail::hmac(*hash, *salted, "Client Key");
  if (!client_key) return std::nullopt;
  const auto stored_key = detail::digest(*hash, *client_key);
  if (!stored_key) return std::nullopt;
  const auto signature = detail::hmac(*hash, *stored_key, auth_message);
  if (!signature || signature->size() != hash_length || client_key->size() != hash_length)
    return std::nullopt;
  std::string expected(hash_length, '\0');
  for (size_t i = 0; i < hash_length; ++i)
    expected[i] = static_cast<char>((*client_key)[i] ^ (*signature)[i]);
  return detail::equal_constant_time(expected, *proof);
}

}  // namespace pop3decode::sasl
