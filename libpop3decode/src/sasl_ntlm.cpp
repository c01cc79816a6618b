// NTLM over SASL-style AUTH (RFC 1734 framing): NTLMSSP messages as laid out in [MS-NLMP]
// section 2.2.1. The whole message is also given as SASL_NTLM_TOKEN for Wireshark's NTLMSSP
// dissector; here only the names are read.
#include "sasl_internal.hpp"

namespace pop3decode::sasl::detail {

namespace {

constexpr std::string_view ntlmssp_signature{"NTLMSSP\0", 8};

// NegotiateFlags bits ([MS-NLMP] section 2.2.2.5)
constexpr uint32_t negotiate_unicode = 0x00000001;
constexpr uint32_t negotiate_oem_domain_supplied = 0x00001000;
constexpr uint32_t negotiate_oem_workstation_supplied = 0x00002000;

uint32_t read_u16(std::string_view p, size_t at) noexcept {
  return static_cast<uint32_t>(static_cast<uint8_t>(p[at])) |
         (static_cast<uint32_t>(static_cast<uint8_t>(p[at + 1])) << 8);
}

uint32_t read_u32(std::string_view p, size_t at) noexcept {
  return read_u16(p, at) | (read_u16(p, at + 2) << 16);
}

// A security buffer descriptor (Len, MaxLen, BufferOffset) at `at`, resolved against the
// message. False when it points outside the message.
struct BufferRange {
  size_t offset = 0;
  size_t length = 0;
};

bool read_buffer(std::string_view p, size_t at, BufferRange& range) noexcept {
  if (at + 8 > p.size()) return false;
  const uint64_t length = read_u16(p, at);
  const uint64_t offset = read_u32(p, at + 4);
  if (length == 0) {
    range = {};
    return true;
  }
  if (offset > p.size() || length > p.size() - offset) return false;
  range.offset = static_cast<size_t>(offset);
  range.length = static_cast<size_t>(length);
  return true;
}

// Adds a name field from a security buffer, converted to UTF-8: UTF-16LE with
// NEGOTIATE_UNICODE, else the OEM code page (shown as ISO 8859-1 unless it is UTF-8 already).
// Returns the name; false in `ok` when the buffer is out of bounds or has an odd length.
std::string add_name(StepWriter& w, size_t descriptor_at, bool unicode, Field field, bool& ok) {
  const std::string_view p = w.payload();
  BufferRange range;
  if (!read_buffer(p, descriptor_at, range)) {
    ok = false;
    return {};
  }
  if (range.length == 0) return {};
  const std::string_view raw = p.substr(range.offset, range.length);
  std::string name;
  if (unicode) {
    std::optional<std::string> converted = utf16le_to_utf8(raw);
    if (!converted) {
      ok = false;
      return {};
    }
    name = std::move(*converted);
  } else {
    name = is_valid_utf8(raw) ? std::string(raw) : latin1_to_utf8(raw);
  }
  w.add_value(field, range.offset, range.length, name);
  return name;
}

void decode_negotiate(StepWriter& w, bool& ok) {
  const std::string_view p = w.payload();
  if (p.size() < 16) {
    ok = false;
    return;
  }
  const uint32_t flags = read_u32(p, 12);
  if (p.size() < 32) return;  // early clients end after the flags
  // Names in a NEGOTIATE_MESSAGE are always OEM.
  if (flags & negotiate_oem_domain_supplied) add_name(w, 16, false, Field::SASL_NTLM_DOMAIN, ok);
  if (flags & negotiate_oem_workstation_supplied)
    add_name(w, 24, false, Field::SASL_NTLM_WORKSTATION, ok);
}

void decode_challenge(StepWriter& w, bool& ok) {
  const std::string_view p = w.payload();
  if (p.size() < 32) {
    ok = false;
    return;
  }
  const uint32_t flags = read_u32(p, 20);
  add_name(w, 12, (flags & negotiate_unicode) != 0, Field::SASL_NTLM_DOMAIN, ok);  // TargetName
}

void decode_authenticate(ExchangeState& state, StepWriter& w, bool& ok) {
  const std::string_view p = w.payload();
  if (p.size() < 64) {
    ok = false;
    return;
  }
  const bool unicode = (read_u32(p, 60) & negotiate_unicode) != 0;
  add_name(w, 28, unicode, Field::SASL_NTLM_DOMAIN, ok);
  BufferRange user_range;
  const std::string user = add_name(w, 36, unicode, Field::SASL_NTLM_USER, ok);
  if (read_buffer(p, 36, user_range) && user_range.length > 0 && !user.empty()) {
    w.add_value(Field::AUTH_USERNAME, user_range.offset, user_range.length, user);
    state.credentials.username = user;
  }
  add_name(w, 44, unicode, Field::SASL_NTLM_WORKSTATION, ok);
  BufferRange nt_response;
  if (!read_buffer(p, 20, nt_response)) {
    ok = false;
  } else if (nt_response.length > 0) {
    std::string hex = to_hex(p.substr(nt_response.offset, nt_response.length));
    w.add_value(Field::AUTH_SECRET, nt_response.offset, nt_response.length, hex);
    state.credentials.secret = std::move(hex);
  }
  BufferRange other;
  if (!read_buffer(p, 12, other) || !read_buffer(p, 52, other)) ok = false;
}

// Clients send NEGOTIATE (1) and AUTHENTICATE (3); servers send CHALLENGE (2).
void ntlm_message(ExchangeState& state, StepWriter& w, bool from_client) {
  const std::string_view p = w.payload();
  if (p.empty()) return;
  if (p.size() < 12 || p.substr(0, 8) != ntlmssp_signature) {
    w.malformed();
    w.add_unknown_payload();
    return;
  }
  w.add(Field::SASL_NTLM_TOKEN, 0, p.size());
  const uint32_t type = read_u32(p, 8);
  w.add_number(Field::SASL_NTLM_MESSAGE_TYPE, 8, 4, type);
  bool ok = true;
  if (from_client && type == 1)
    decode_negotiate(w, ok);
  else if (!from_client && type == 2)
    decode_challenge(w, ok);
  else if (from_client && type == 3)
    decode_authenticate(state, w, ok);
  else
    ok = false;
  if (!ok) w.malformed();
}

}  // namespace

void ntlm_client(ExchangeState& state, StepWriter& w) {
  ntlm_message(state, w, true);
}
void ntlm_server(ExchangeState& state, StepWriter& w) {
  ntlm_message(state, w, false);
}

}  // namespace pop3decode::sasl::detail
