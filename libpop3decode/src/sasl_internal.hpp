// Shared pieces of the SASL decoders (not installed): text helpers, hashing through OpenSSL,
// the per-step item writer, the exchange state and the per-mechanism decoders.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pop3decode/event_builder.hpp"
#include "pop3decode/sasl_exchange.hpp"

namespace pop3decode::sasl::detail {

// ---- text -----------------------------------------------------------------------------------

bool is_valid_utf8(std::string_view bytes) noexcept;
bool is_hex(std::string_view text) noexcept;
bool iequals(std::string_view a, std::string_view b) noexcept;
bool istarts_with(std::string_view text, std::string_view prefix) noexcept;
// Non-empty run of ASCII digits that fits in uint32_t; nullopt otherwise (no overflow).
std::optional<uint32_t> parse_u32(std::string_view digits) noexcept;
std::string to_hex(std::string_view bytes);
// Lower-case hex text to bytes; nullopt on odd length or a non-hex digit.
std::optional<std::string> from_hex(std::string_view hex);
std::string latin1_to_utf8(std::string_view bytes);
// UTF-16LE to UTF-8; unpaired surrogates become U+FFFD. nullopt on odd length.
std::optional<std::string> utf16le_to_utf8(std::string_view bytes);
// UTF-8 to ISO 8859-1 when every character fits (RFC 2831 section 2.1.2.1); nullopt otherwise.
std::optional<std::string> utf8_to_latin1(std::string_view utf8);
// Number of UTF-8 characters (assumes valid UTF-8).
size_t utf8_length(std::string_view utf8) noexcept;

// ---- hashing (OpenSSL libcrypto) -------------------------------------------------------------

enum class Hash : uint8_t { md5, sha1, sha224, sha256, sha384, sha512 };
size_t hash_size(Hash hash) noexcept;
// Each gives nullopt only when libcrypto fails (e.g. out of memory, algorithm unavailable).
std::optional<std::string> digest(Hash hash, std::string_view data);
std::optional<std::string> hmac(Hash hash, std::string_view key, std::string_view data);
std::optional<std::string> pbkdf2(Hash hash, std::string_view password, std::string_view salt,
                                  uint32_t iterations);
bool equal_constant_time(std::string_view a, std::string_view b) noexcept;

// ---- items of one step ------------------------------------------------------------------------

// Adds the items of one step: positions are offsets in the decoded payload, and values are
// views into the step's buffer (or into strings the builder owns).
class StepWriter {
 public:
  StepWriter(const Step& step, std::string_view payload);

  std::string_view payload() const noexcept { return payload_; }
  EventBuilder& out() const noexcept { return step_.out; }

  // An item whose value is the payload bytes at that position.
  int32_t add(Field field, size_t offset, size_t length, uint32_t flags = 0);
  // An item at a position whose value differs from the bytes there (unquoted, decoded, hex).
  int32_t add_value(Field field, size_t offset, size_t length, std::string value,
                    uint32_t flags = 0);
  int32_t add_number(Field field, size_t offset, size_t length, uint64_t number);
  // The whole payload as SASL_UNKNOWN_PAYLOAD (nothing when empty).
  void add_unknown_payload();

  // SASL_MALFORMED, at most once per step: every anomaly points at the same base64 text.
  void malformed();
  void anomaly(Anomaly anomaly);

 private:
  uint64_t position(size_t offset) const noexcept;

  const Step& step_;
  std::string_view payload_;
  bool malformed_reported_ = false;
};

// ---- exchange state ---------------------------------------------------------------------------

enum class LoginExpect : uint8_t { username, password, nothing };

struct ExchangeState {
  Mechanism mechanism = Mechanism::unknown;
  Credentials credentials;
  uint32_t client_steps = 0;  // including the current one while it is decoded
  uint32_t server_steps = 0;
  bool client_spoke_first = false;  // an initial response (or the first step came from the client)

  // PLAIN, LOGIN: a clear-text password was seen.
  bool password_seen = false;
  LoginExpect login_expect = LoginExpect::username;

  // CRAM-MD5 (RFC 2195)
  std::string cram_challenge;
  bool cram_challenge_seen = false;

  // DIGEST-MD5 (RFC 2831): the decoded client response, kept for verification.
  std::string digest_response;

  // SCRAM-SHA-* (RFC 5802): the messages the proof covers.
  std::string scram_gs2_header;
  std::string scram_client_first;
  std::string scram_client_nonce;
  std::string scram_server_first;
  std::string scram_server_nonce;
  std::string scram_client_final;

  // SCRAM-MD5 (draft-newman-auth-scram-03)
  std::string scram_md5_client_first;
  std::string scram_md5_server_first;
  std::string scram_md5_client_final;
  std::string scram_md5_server_final;
};

// ---- mechanisms (one pair per mechanism; each decodes one step's payload) ----------------------

void empty_challenge_server(ExchangeState& state, StepWriter& w);
void plain_client(ExchangeState& state, StepWriter& w);
void login_client(ExchangeState& state, StepWriter& w);
void login_server(ExchangeState& state, StepWriter& w);
void cram_md5_client(ExchangeState& state, StepWriter& w);
void cram_md5_server(ExchangeState& state, StepWriter& w);
void external_client(ExchangeState& state, StepWriter& w);
void anonymous_client(ExchangeState& state, StepWriter& w);
void digest_md5_client(ExchangeState& state, StepWriter& w);
void digest_md5_server(ExchangeState& state, StepWriter& w);
void scram_client(ExchangeState& state, StepWriter& w);
void scram_server(ExchangeState& state, StepWriter& w);
void scram_md5_client(ExchangeState& state, StepWriter& w);
void scram_md5_server(ExchangeState& state, StepWriter& w);
void xoauth2_client(ExchangeState& state, StepWriter& w);
void xoauth2_server(ExchangeState& state, StepWriter& w);
void oauthbearer_client(ExchangeState& state, StepWriter& w);
void oauthbearer_server(ExchangeState& state, StepWriter& w);
void ntlm_client(ExchangeState& state, StepWriter& w);
void ntlm_server(ExchangeState& state, StepWriter& w);
void gssapi_step(ExchangeState& state, StepWriter& w);

// ---- DIGEST-MD5 directive lists (RFC 2831 section 7.1), shared with verification --------------

struct Directive {
  std::string_view name;
  std::string value;  // unquoted and unescaped
  size_t offset = 0;  // the whole "name=value"
  size_t length = 0;
  size_t value_offset = 0;  // the value as on the wire (with its quotes)
  size_t value_length = 0;
  bool quoted = false;
};

struct DirectiveList {
  std::vector<Directive> directives;
  bool well_formed = true;  // false: parsing stopped at a syntax error
};

DirectiveList parse_directives(std::string_view text);
const Directive* find_directive(const DirectiveList& list, std::string_view name) noexcept;

// saslname (RFC 5802 section 5.1): "=2C" and "=3D" decoded; nullopt for any other "=".
std::optional<std::string> decode_saslname(std::string_view text);

// SCRAM-MD5 verification of the client proof.
std::optional<bool> verify_scram_md5(std::string_view client_first, std::string_view server_first,
                                     std::string_view client_final, std::string_view password);

}  // namespace pop3decode::sasl::detail
