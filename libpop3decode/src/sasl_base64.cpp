// Base64 (RFC 4648 section 4) as SASL uses it on the wire (RFC 4422 section 3, RFC 5034).
#include <array>

#include "pop3decode/sasl.hpp"

namespace pop3decode::sasl {

namespace {

constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<int8_t, 256> make_decode_table() {
  std::array<int8_t, 256> table{};
  for (auto& entry : table) entry = -1;
  for (int i = 0; i < 64; ++i) table[static_cast<uint8_t>(alphabet[i])] = static_cast<int8_t>(i);
  return table;
}

constexpr std::array<int8_t, 256> decode_table = make_decode_table();

}  // namespace

// Strict: length a multiple of 4, only the alphabet, '=' only as one or two final pad
// characters, no whitespace. Non-zero pad bits (RFC 4648 section 3.5) are accepted: some
// encoders produce them and the data is still unambiguous.
std::optional<std::string> decode_base64(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  size_t padding = 0;
  if (!text.empty() && text.back() == '=')
    padding = text.size() >= 2 && text[text.size() - 2] == '=' ? 2 : 1;
  std::string bytes;
  bytes.reserve(text.size() / 4 * 3);
  const size_t data_length = text.size() - padding;
  uint32_t accumulator = 0;
  int bits = 0;
  for (size_t i = 0; i < data_length; ++i) {
    const int8_t value = decode_table[static_cast<uint8_t>(text[i])];
    if (value < 0) return std::nullopt;  // includes '=' before the end and whitespace
    accumulator = (accumulator << 6) | static_cast<uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes.push_back(static_cast<char>((accumulator >> bits) & 0xFF));
    }
  }
  return bytes;
}

std::string encode_base64(std::string_view bytes) {
  std::string text;
  text.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  auto byte_at = [&](size_t k) { return static_cast<uint32_t>(static_cast<uint8_t>(bytes[k])); };
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t group = (byte_at(i) << 16) | (byte_at(i + 1) << 8) | byte_at(i + 2);
    text.push_back(alphabet[(group >> 18) & 63]);
    text.push_back(alphabet[(group >> 12) & 63]);
    text.push_back(alphabet[(group >> 6) & 63]);
    text.push_back(alphabet[group & 63]);
  }
  const size_t rest = bytes.size() - i;
  if (rest > 0) {
    const uint32_t group = (byte_at(i) << 16) | (rest == 2 ? byte_at(i + 1) << 8 : 0);
    text.push_back(alphabet[(group >> 18) & 63]);
    text.push_back(alphabet[(group >> 12) & 63]);
    text.push_back(rest == 2 ? alphabet[(group >> 6) & 63] : '=');
    text.push_back('=');
  }
  return text;
}

}  // namespace pop3decode::sasl
