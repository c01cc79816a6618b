// SCRAM-SHA-1, SCRAM-SHA-256 and their -PLUS variants (RFC 5802, RFC 7677), and the older
// binary SCRAM-MD5 (draft-newman-auth-scram-03, named by RFC 2384's URL examples).
#include "sasl_internal.hpp"

namespace pop3decode::sasl::detail {

// saslname (RFC 5802 section 5.1): "," and "=" travel as "=2C" and "=3D"; any other "=" is an
// error. nullopt when malformed.
std::optional<std::string> decode_saslname(std::string_view text) {
  std::string name;
  name.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '=') {
      name.push_back(text[i]);
    } else if (text.substr(i, 3) == "=2C") {
      name.push_back(',');
      i += 2;
    } else if (text.substr(i, 3) == "=3D") {
      name.push_back('=');
      i += 2;
    } else {
      return std::nullopt;
    }
  }
  return name;
}

namespace {

bool is_alpha(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// One attr-val of RFC 5802 section 7, with its position in the payload.
struct Attribute {
  char key = 0;
  size_t offset = 0;  // the whole "k=value"
  size_t length = 0;
  size_t value_offset = 0;
  std::string_view value;
  bool well_formed = false;  // ALPHA "=" value
};

std::vector<Attribute> split_attributes(std::string_view payload, size_t start) {
  std::vector<Attribute> attributes;
  if (start >= payload.size()) return attributes;
  size_t pos = start;
  while (true) {
    size_t end = payload.find(',', pos);
    if (end == std::string_view::npos) end = payload.size();
    Attribute a;
    a.offset = pos;
    a.length = end - pos;
    const std::string_view text = payload.substr(pos, end - pos);
    a.well_formed = text.size() >= 3 && is_alpha(text[0]) && text[1] == '=';
    a.key = text.empty() ? '\0' : text[0];
    a.value_offset = std::min(pos + 2, end);
    a.value = payload.substr(a.value_offset, end - a.value_offset);
    attributes.push_back(a);
    if (end == payload.size()) break;
    pos = end + 1;
  }
  return attributes;
}

// printable = %x21-2B / %x2D-7E (RFC 5802 section 7)
bool is_printable_nonce(std::string_view nonce) noexcept {
  if (nonce.empty()) return false;
  for (char c : nonce) {
    const auto b = static_cast<uint8_t>(c);
    if (b < 0x21 || b > 0x7E || c == ',') return false;
  }
  return true;
}

// posit-number = %x31-39 *DIGIT, read as uint32 (larger counts are malformed, not wrapped).
std::optional<uint32_t> parse_iterations(std::string_view text) noexcept {
  if (text.empty() || text[0] == '0') return std::nullopt;
  return parse_u32(text);
}

Hash scram_hash(Mechanism mechanism) noexcept {
  return mechanism == Mechanism::scram_sha_256 || mechanism == Mechanism::scram_sha_256_plus
             ? Hash::sha256
             : Hash::sha1;
}

bool is_plus(Mechanism mechanism) noexcept {
  return mechanism == Mechanism::scram_sha_1_plus || mechanism == Mechanism::scram_sha_256_plus;
}

// A saslname attribute (a= or n=): the decoded name, plus the AUTH_* item at the same place.
std::optional<std::string> add_saslname(StepWriter& w, const Attribute& a, Field field,
                                        Field auth_field) {
  std::optional<std::string> name = decode_saslname(a.value);
  std::string shown = name ? *name : std::string(a.value);
  if (!name || a.value.empty() || !is_valid_utf8(shown)) w.malformed();
  w.add_value(field, a.value_offset, a.value.size(), shown);
  w.add_value(auth_field, a.value_offset, a.value.size(), shown);
  return name ? name : std::optional<std::string>(std::move(shown));
}

void add_extension(StepWriter& w, const Attribute& a) {
  w.add(Field::SASL_SCRAM_EXTENSION, a.offset, a.length);
  if (!a.well_formed) w.malformed();
}

// Base64 attribute value that must decode (to `size` bytes when size > 0).
bool check_base64(std::string_view value, size_t size) {
  const std::optional<std::string> bytes = decode_base64(value);
  return bytes && !bytes->empty() && (size == 0 || bytes->size() == size);
}

// The keys of `attributes` after an optional reserved "m=" must start with `expected`.
void check_order(StepWriter& w, const std::vector<Attribute>& attributes,
                 std::string_view expected) {
  size_t index = 0;
  if (!attributes.empty() && attributes[0].key == 'm') index = 1;
  for (char key : expected) {
    if (index >= attributes.size() || attributes[index].key != key) {
      w.malformed();
      return;
    }
    ++index;
  }
}

// RFC 5802 section 7: gs2-header client-first-message-bare.
void scram_client_first(ExchangeState& state, StepWriter& w) {
  const std::string_view p = w.payload();
  state.scram_client_first = p;
  const size_t flag_end = p.find(',');
  if (flag_end == std::string_view::npos) {
    w.malformed();
    w.add_unknown_payload();
    return;
  }
  const std::string_view flag = p.substr(0, flag_end);
  w.add(Field::SASL_SCRAM_GS2_FLAG, 0, flag.empty() ? 0 : 1);
  bool channel_bound = false;
  if (flag.size() > 2 && flag.substr(0, 2) == "p=") {
    channel_bound = true;
    const std::string_view cb_name = flag.substr(2);
    w.add(Field::SASL_SCRAM_CB_NAME, 2, cb_name.size());
    for (char c : cb_name)
      if (!is_alpha(c) && !(c >= '0' && c <= '9') && c != '.' && c != '-') w.malformed();
  } else if (flag != "n" && flag != "y") {
    w.malformed();
  }
  // -PLUS means channel binding is used; the plain mechanisms must not claim it.
  if (channel_bound != is_plus(state.mechanism)) w.malformed();

  const size_t authzid_start = flag_end + 1;
  const size_t header_end = p.find(',', authzid_start);
  if (header_end == std::string_view::npos) {
    w.malformed();
    return;
  }
  if (header_end > authzid_start) {
    const std::vector<Attribute> authzid = split_attributes(p.substr(0, header_end), authzid_start);
    if (authzid.size() == 1 && authzid[0].key == 'a' && authzid[0].well_formed) {
      if (auto name = add_saslname(w, authzid[0], Field::SASL_SCRAM_AUTHZID, Field::AUTH_AUTHZID))
        state.credentials.authzid = std::move(*name);
    } else {
      w.malformed();
    }
  }
  state.scram_gs2_header = p.substr(0, header_end + 1);

  const std::vector<Attribute> attributes = split_attributes(p, header_end + 1);
  for (const Attribute& a : attributes) {
    if (a.key == 'n' && a.well_formed) {
      if (auto name = add_saslname(w, a, Field::SASL_SCRAM_USERNAME, Field::AUTH_USERNAME))
        state.credentials.username = std::move(*name);
    } else if (a.key == 'r' && a.well_formed) {
      w.add(Field::SASL_SCRAM_NONCE, a.value_offset, a.value.size());
      state.scram_client_nonce = a.value;
      if (!is_printable_nonce(a.value)) w.malformed();
    } else {
      add_extension(w, a);
    }
  }
  check_order(w, attributes, "nr");
}

// RFC 5802 section 7: client-final-message-without-proof "," proof.
void scram_client_final(ExchangeState& state, StepWriter& w) {
  const std::string_view p = w.payload();
  state.scram_client_final = p;
  const std::vector<Attribute> attributes = split_attributes(p, 0);
  const size_t hash_length = hash_size(scram_hash(state.mechanism));
  for (const Attribute& a : attributes) {
    if (a.key == 'c' && a.well_formed) {
      w.add(Field::SASL_SCRAM_CHANNEL_BINDING, a.value_offset, a.value.size());
      // The channel binding repeats the GS2 header (followed by the binding data for "p=").
      const std::optional<std::string> binding = decode_base64(a.value);
      const std::string& header = state.scram_gs2_header;
      if (!binding || (!header.empty() && (binding->compare(0, header.size(), header) != 0 ||
                                           (header[0] != 'p' && binding->size() != header.size()))))
        w.malformed();
    } else if (a.key == 'r' && a.well_formed) {
      w.add(Field::SASL_SCRAM_NONCE, a.value_offset, a.value.size());
      if (!state.scram_server_nonce.empty() && a.value != state.scram_server_nonce) w.malformed();
    } else if (a.key == 'p' && a.well_formed) {
      w.add(Field::SASL_SCRAM_PROOF, a.value_offset, a.value.size());
      w.add(Field::AUTH_SECRET, a.value_offset, a.value.size());
      state.credentials.secret = a.value;
      if (!check_base64(a.value, hash_length)) w.malformed();
    } else {
      add_extension(w, a);
    }
  }
  check_order(w, attributes, "cr");
  if (attributes.empty() || attributes.back().key != 'p') w.malformed();
}

// RFC 5802 section 7: server-first-message.
void scram_server_first(ExchangeState& state, StepWriter& w) {
  const std::string_view p = w.payload();
  state.scram_server_first = p;
  const std::vector<Attribute> attributes = split_attributes(p, 0);
  for (const Attribute& a : attributes) {
    if (a.key == 'r' && a.well_formed) {
      w.add(Field::SASL_SCRAM_NONCE, a.value_offset, a.value.size());
      state.scram_server_nonce = a.value;
      // The server appends its part to the client's nonce.
      if (!is_printable_nonce(a.value) ||
          a.value.substr(0, state.scram_client_nonce.size()) != state.scram_client_nonce)
        w.malformed();
    } else if (a.key == 's' && a.well_formed) {
      w.add(Field::SASL_SCRAM_SALT, a.value_offset, a.value.size());
      if (!check_base64(a.value, 0)) w.malformed();
    } else if (a.key == 'i' && a.well_formed) {
      if (const std::optional<uint32_t> count = parse_iterations(a.value)) {
        w.add_number(Field::SASL_SCRAM_ITERATIONS, a.value_offset, a.value.size(), *count);
      } else {
        w.add(Field::SASL_SCRAM_EXTENSION, a.offset, a.length);
        w.malformed();
      }
    } else {
      add_extension(w, a);
    }
  }
  check_order(w, attributes, "rsi");
}

// RFC 5802 section 7: server-final-message = (server-error / verifier) ["," extensions].
void scram_server_final(ExchangeState& state, StepWriter& w) {
  const std::string_view p = w.payload();
  const std::vector<Attribute> attributes = split_attributes(p, 0);
  for (const Attribute& a : attributes) {
    if (a.key == 'v' && a.well_formed) {
      w.add(Field::SASL_SCRAM_VERIFIER, a.value_offset, a.value.size());
      if (!check_base64(a.value, hash_size(scram_hash(state.mechanism)))) w.malformed();
    } else if (a.key == 'e' && a.well_formed) {
      w.add(Field::SASL_SCRAM_ERROR, a.value_offset, a.value.size());
    } else {
      add_extension(w, a);
    }
  }
  if (attributes.empty() || (attributes[0].key != 'v' && attributes[0].key != 'e')) w.malformed();
}

}  // namespace

void scram_client(ExchangeState& state, StepWriter& w) {
  const std::string_view p = w.payload();
  if (p.empty()) {
    // Normal only as the answer to the server-final message.
    if (state.scram_client_final.empty()) w.malformed();
    return;
  }
  if (p.substr(0, 2) == "c=") {
    scram_client_final(state, w);
  } else if (state.scram_client_first.empty()) {
    scram_client_first(state, w);
  } else {
    w.malformed();
    w.add_unknown_payload();
  }
}

void scram_server(ExchangeState& state, StepWriter& w) {
  const std::string_view p = w.payload();
  if (p.empty()) {
    w.malformed();
    return;
  }
  if (p.substr(0, 2) == "v=" || p.substr(0, 2) == "e=")
    scram_server_final(state, w);
  else
    scram_server_first(state, w);
}

// ---- SCRAM-MD5 --------------------------------------------------------------------------------
//
// client-msg-1 = [authzid] NUL authcid NUL nonce
// server-msg-1 = salt(8) server-security-info(4: layer mask, 3-byte max buffer) service-id NUL
//                nonce
// client-msg-2 = client-security-info(4) client-proof(16)
// server-msg-2 = server-verifier(16)

namespace {

constexpr size_t scram_md5_salt_size = 8;
constexpr size_t scram_md5_layers_size = 4;
constexpr size_t scram_md5_digest_size = 16;

void scram_md5_client_first(ExchangeState& state, StepWriter& w) {
  const std::string_view p = w.payload();
  state.scram_md5_client_first = p;
  const size_t first = p.find('\0');
  const size_t second = first == std::string_view::npos ? first : p.find('\0', first + 1);
  if (second == std::string_view::npos) {
    w.malformed();
    w.add_unknown_payload();
    return;
  }
  if (first > 0) {
    w.add(Field::SASL_SCRAM_MD5_AUTHZID, 0, first);
    w.add(Field::AUTH_AUTHZID, 0, first);
    state.credentials.authzid = p.substr(0, first);
  }
  const std::string_view authcid = p.substr(first + 1, second - first - 1);
  w.add(Field::SASL_SCRAM_MD5_AUTHCID, first + 1, authcid.size());
  w.add(Field::AUTH_USERNAME, first + 1, authcid.size());
  state.credentials.username = authcid;
  const std::string_view nonce = p.substr(second + 1);
  w.add(Field::SASL_SCRAM_MD5_CLIENT_NONCE, second + 1, nonce.size());
  if (authcid.empty() || nonce.empty() || nonce.find('\0') != std::string_view::npos ||
      !is_valid_utf8(p.substr(0, second)))
    w.malformed();
}

void scram_md5_server_first(ExchangeState& state, StepWriter& w) {
  const std::string_view p = w.payload();
  state.scram_md5_server_first = p;
  constexpr size_t fixed = scram_md5_salt_size + scram_md5_layers_size;
  if (p.size() < fixed) {
    w.malformed();
    w.add_unknown_payload();
    return;
  }
  w.add(Field::SASL_SCRAM_MD5_SALT, 0, scram_md5_salt_size);
  w.add(Field::SASL_SCRAM_MD5_SERVER_LAYERS, scram_md5_salt_size, scram_md5_layers_size);
  const size_t nul = p.find('\0', fixed);
  if (nul == std::string_view::npos) {
    w.add(Field::SASL_SCRAM_MD5_SERVICE, fixed, p.size() - fixed);
    w.malformed();
    return;
  }
  w.add(Field::SASL_SCRAM_MD5_SERVICE, fixed, nul - fixed);
  w.add(Field::SASL_SCRAM_MD5_SERVER_NONCE, nul + 1, p.size() - nul - 1);
  // service-id is "service@host"; the nonce must be there too.
  const std::string_view service = p.substr(fixed, nul - fixed);
  if (service.find('@') == std::string_view::npos || nul + 1 >= p.size()) w.malformed();
}

void scram_md5_client_final(ExchangeState& state, StepWriter& w) {
  const std::string_view p = w.payload();
  state.scram_md5_client_final = p;
  if (p.size() != scram_md5_layers_size + scram_md5_digest_size) {
    w.malformed();
    w.add_unknown_payload();
    return;
  }
  w.add(Field::SASL_SCRAM_MD5_CLIENT_LAYERS, 0, scram_md5_layers_size);
  w.add(Field::SASL_SCRAM_MD5_PROOF, scram_md5_layers_size, scram_md5_digest_size);
  std::string proof_hex = to_hex(p.substr(scram_md5_layers_size));
  w.add_value(Field::AUTH_SECRET, scram_md5_layers_size, scram_md5_digest_size, proof_hex);
  state.credentials.secret = std::move(proof_hex);
}

void scram_md5_server_final(ExchangeState& state, StepWriter& w) {
  const std::string_view p = w.payload();
  state.scram_md5_server_final = p;
  if (p.size() != scram_md5_digest_size) {
    w.malformed();
    w.add_unknown_payload();
    return;
  }
  w.add(Field::SASL_SCRAM_MD5_VERIFIER, 0, p.size());
}

}  // namespace

void scram_md5_client(ExchangeState& state, StepWriter& w) {
  const std::string_view p = w.payload();
  if (state.scram_md5_client_first.empty()) {
    scram_md5_client_first(state, w);
  } else if (state.scram_md5_client_final.empty()) {
    scram_md5_client_final(state, w);
  } else if (!p.empty()) {  // the answer to the verifier is empty
    w.malformed();
    w.add_unknown_payload();
  }
}

void scram_md5_server(ExchangeState& state, StepWriter& w) {
  if (state.scram_md5_client_final.empty() && state.scram_md5_server_first.empty())
    scram_md5_server_first(state, w);
  else if (!state.scram_md5_client_final.empty() && state.scram_md5_server_final.empty())
    scram_md5_server_final(state, w);
  else {
    w.malformed();
    w.add_unknown_payload();
  }
}

// SaltedPassword = HMAC-MD5(password, salt); ClientKey = MD5(SaltedPassword);
// ClientVerifier = MD5(ClientKey); SharedKey = HMAC-MD5(ClientVerifier, server-msg-1 ||
// client-msg-1 || client-security-info); ClientProof = ClientKey XOR SharedKey.
std::optional<bool> verify_scram_md5(std::string_view client_first, std::string_view server_first,
                                     std::string_view client_final, std::string_view password) {
  if (server_first.size() < scram_md5_salt_size + scram_md5_layers_size || client_first.empty() ||
      client_final.size() != scram_md5_layers_size + scram_md5_digest_size)
    return std::nullopt;
  const std::string_view salt = server_first.substr(0, scram_md5_salt_size);
  const std::string_view client_layers = client_final.substr(0, scram_md5_layers_size);
  const std::string_view proof = client_final.substr(scram_md5_layers_size);
  const auto salted = hmac(Hash::md5, password, salt);
  if (!salted) return std::nullopt;
  const auto client_key = digest(Hash::md5, *salted);
  if (!client_key) return std::nullopt;
  const auto client_verifier = digest(Hash::md5, *client_key);
  if (!client_verifier) return std::nullopt;
  std::string signed_text;
  signed_text.append(server_first).append(client_first).append(client_layers);
  const auto shared_key = hmac(Hash::md5, *client_verifier, signed_text);
  if (!shared_key) return std::nullopt;
  std::string expected(scram_md5_digest_size, '\0');
  for (size_t i = 0; i < expected.size(); ++i)
    expected[i] = static_cast<char>((*client_key)[i] ^ (*shared_key)[i]);
  return equal_constant_time(expected, proof);
}

}  // namespace pop3decode::sasl::detail
