// Text helpers of the SASL decoders and the per-step item writer.
#include <algorithm>

#include "sasl_internal.hpp"

namespace pop3decode::sasl::detail {

namespace {

char lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
}

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_utf8(std::string& out, uint32_t code_point) {
  if (code_point < 0x80) {
    out.push_back(static_cast<char>(code_point));
  } else if (code_point < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (code_point >> 6)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else if (code_point < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (code_point >> 12)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (code_point >> 18)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  }
}

}  // namespace

// RFC 3629 section 4: rejects overlong forms, surrogates and code points above U+10FFFF.
bool is_valid_utf8(std::string_view bytes) noexcept {
  size_t i = 0;
  const size_t n = bytes.size();
  while (i < n) {
    const auto b0 = static_cast<uint8_t>(bytes[i]);
    if (b0 < 0x80) {
      ++i;
      continue;
    }
    size_t extra = 0;
    uint8_t low = 0x80, high = 0xBF;  // allowed range of the second byte
    if (b0 >= 0xC2 && b0 <= 0xDF) {
      extra = 1;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      extra = 2;
      if (b0 == 0xE0) low = 0xA0;
      if (b0 == 0xED) high = 0x9F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      extra = 3;
      if (b0 == 0xF0) low = 0x90;
      if (b0 == 0xF4) high = 0x8F;
    } else {
      return false;
    }
    if (n - i <= extra) return false;
    const auto b1 = static_cast<uint8_t>(bytes[i + 1]);
    if (b1 < low || b1 > high) return false;
    for (size_t k = 2; k <= extra; ++k) {
      const auto b = static_cast<uint8_t>(bytes[i + k]);
      if (b < 0x80 || b > 0xBF) return false;
    }
    i += extra + 1;
  }
  return true;
}

size_t utf8_length(std::string_view utf8) noexcept {
  return static_cast<size_t>(std::count_if(
      utf8.begin(), utf8.end(), [](char c) { return (static_cast<uint8_t>(c) & 0xC0) != 0x80; }));
}

bool is_hex(std::string_view text) noexcept {
  return std::all_of(text.begin(), text.end(), [](char c) { return hex_value(c) >= 0; });
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

bool istarts_with(std::string_view text, std::string_view prefix) noexcept {
  return text.size() >= prefix.size() && iequals(text.substr(0, prefix.size()), prefix);
}

std::optional<uint32_t> parse_u32(std::string_view digits) noexcept {
  if (digits.empty()) return std::nullopt;
  uint64_t value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<uint64_t>(c - '0');
    if (value > UINT32_MAX) return std::nullopt;  // checked every digit: no overflow
  }
  return static_cast<uint32_t>(value);
}

std::string to_hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (char c : bytes) {
    const auto b = static_cast<uint8_t>(c);
    hex.push_back(digits[b >> 4]);
    hex.push_back(digits[b & 0x0F]);
  }
  return hex;
}

std::optional<std::string> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string bytes;
  bytes.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int high = hex_value(hex[i]), low = hex_value(hex[i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    bytes.push_back(static_cast<char>(high * 16 + low));
  }
  return bytes;
}

std::string latin1_to_utf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (char c : bytes) append_utf8(out, static_cast<uint8_t>(c));
  return out;
}

std::optional<std::string> utf16le_to_utf8(std::string_view bytes) {
  if (bytes.size() % 2 != 0) return std::nullopt;
  std::string out;
  out.reserve(bytes.size());
  const size_t units = bytes.size() / 2;
  auto unit_at = [&](size_t k) -> uint32_t {
    return static_cast<uint8_t>(bytes[2 * k]) |
           (static_cast<uint32_t>(static_cast<uint8_t>(bytes[2 * k + 1])) << 8);
  };
  for (size_t k = 0; k < units; ++k) {
    uint32_t unit = unit_at(k);
    if (unit >= 0xD800 && unit <= 0xDBFF && k + 1 < units) {
      const uint32_t next = unit_at(k + 1);
      if (next >= 0xDC00 && next <= 0xDFFF) {
        append_utf8(out, 0x10000 + ((unit - 0xD800) << 10) + (next - 0xDC00));
        ++k;
        continue;
      }
    }
    if (unit >= 0xD800 && unit <= 0xDFFF) unit = 0xFFFD;
    append_utf8(out, unit);
  }
  return out;
}

std::optional<std::string> utf8_to_latin1(std::string_view utf8) {
  std::string out;
  out.reserve(utf8.size());
  for (size_t i = 0; i < utf8.size(); ++i) {
    const auto b = static_cast<uint8_t>(utf8[i]);
    if (b < 0x80) {
      out.push_back(static_cast<char>(b));
    } else if ((b == 0xC2 || b == 0xC3) && i + 1 < utf8.size() &&
               (static_cast<uint8_t>(utf8[i + 1]) & 0xC0) == 0x80) {
      out.push_back(
          static_cast<char>(((b & 0x03) << 6) | (static_cast<uint8_t>(utf8[i + 1]) & 0x3F)));
      ++i;
    } else {
      return std::nullopt;
    }
  }
  return out;
}

// ---- StepWriter -------------------------------------------------------------------------------

StepWriter::StepWriter(const Step& step, std::string_view payload) : step_(step) {
  // Items must point at stable bytes: the step's buffer when it holds this payload, else a copy.
  std::string_view buffer = step.out.buffer(step.source);
  payload_ = buffer == payload ? buffer : step.out.own(std::string(payload));
}

// Items of a step without a buffer (source 0: an empty payload) are placed in the stream, at
// the step's text, not at the start of the stream.
uint64_t StepWriter::position(size_t offset) const noexcept {
  return step_.source == 0 ? step_.origin_offset + offset : offset;
}

int32_t StepWriter::add(Field field, size_t offset, size_t length, uint32_t flags) {
  offset = std::min(offset, payload_.size());
  length = std::min(length, payload_.size() - offset);
  return step_.out.add(field, step_.parent, step_.source, position(offset), length,
                       payload_.substr(offset, length), 0, flags);
}

int32_t StepWriter::add_value(Field field, size_t offset, size_t length, std::string value,
                              uint32_t flags) {
  offset = std::min(offset, payload_.size());
  length = std::min(length, payload_.size() - offset);
  std::string_view raw = payload_.substr(offset, length);
  std::string_view text = raw == value ? raw : step_.out.own(std::move(value));
  return step_.out.add(field, step_.parent, step_.source, position(offset), length, text, 0, flags);
}

int32_t StepWriter::add_number(Field field, size_t offset, size_t length, uint64_t number) {
  offset = std::min(offset, payload_.size());
  length = std::min(length, payload_.size() - offset);
  return step_.out.add_number(field, step_.parent, step_.source, position(offset), length, number);
}

void StepWriter::add_unknown_payload() {
  if (!payload_.empty()) add(Field::SASL_UNKNOWN_PAYLOAD, 0, payload_.size());
}

void StepWriter::malformed() {
  if (malformed_reported_) return;
  malformed_reported_ = true;
  anomaly(Anomaly::SASL_MALFORMED);
}

void StepWriter::anomaly(Anomaly anomaly) {
  step_.out.anomaly(anomaly, step_.origin_offset, step_.origin_length);
}

}  // namespace pop3decode::sasl::detail
