// libFuzzer target: the SASL decoders of every mechanism, fed client and server steps, plus
// base64 and the verification functions.
//
// Input: one byte choosing the mechanism, then steps. Each step is a header byte (bit 0: 1 for
// a server step; bits 1-7: payload length) followed by the payload.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "pop3decode/event.hpp"
#include "pop3decode/pop3decode.h"
#include "pop3decode/sasl.hpp"
#include "pop3decode/sasl_exchange.hpp"

namespace {

namespace sasl = pop3decode::sasl;

constexpr std::string_view mechanism_names[] = {
    "PLAIN",         "LOGIN",
    "CRAM-MD5",      "DIGEST-MD5",
    "SCRAM-SHA-1",   "SCRAM-SHA-1-PLUS",
    "SCRAM-SHA-256", "SCRAM-SHA-256-PLUS",
    "SCRAM-MD5",     "XOAUTH2",
    "OAUTHBEARER",   "EXTERNAL",
    "ANONYMOUS",     "NTLM",
    "GSSAPI",        "X-UNKNOWN",
};

constexpr uint64_t origin_offset = 7;
constexpr uint64_t origin_length = 11;

// What every step must satisfy whatever the bytes; a violation is a bug worth a crash.
void check_step(const pop3decode::EventBuilder& out, uint32_t source, int32_t parent) {
  const std::string_view payload = out.buffer(source);
  for (const pop3decode::Item& item : out.items()) {
    if (item.field == pop3decode::Field::SASL) continue;
    if (item.parent != parent) std::abort();
    if ((item.flags & pop3decode::item_generated) != 0) continue;
    if (item.source != source) std::abort();
    if (item.offset > payload.size() || item.length > payload.size() - item.offset) std::abort();
  }
  for (const pop3decode::AnomalyHit& hit : out.anomalies())
    if (hit.offset != origin_offset || hit.length != origin_length) std::abort();
}

void check_base64(std::string_view bytes) {
  const std::string encoded = sasl::encode_base64(bytes);
  const auto decoded = sasl::decode_base64(encoded);
  if (!decoded || *decoded != bytes) std::abort();
  if (const auto strict = sasl::decode_base64(bytes)) {
    // Valid text re-encodes to the same length (pad bits aside).
    if (sasl::encode_base64(*strict).size() != bytes.size()) std::abort();
  }
}

// The C ABI answers as the C++ function does: 1 or 0, or a negative status where C++ gives no
// answer. (A null pointer is an invalid argument there: empty views pass "".)
void check_same(int c_result, std::optional<bool> cpp_result) {
  if (cpp_result ? c_result != int(*cpp_result) : c_result >= 0) std::abort();
}
const char* pointer(std::string_view text) {
  return text.empty() ? "" : text.data();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::string_view mechanism = mechanism_names[data[0] % std::size(mechanism_names)];
  sasl::Exchange exchange(mechanism);
  pop3decode::EventBuilder out;

  size_t pos = 1;
  std::string_view last_client, last_server;
  while (pos < size) {
    const auto header = static_cast<uint8_t>(input[pos++]);
    const bool from_server = (header & 1) != 0;
    const size_t length = std::min<size_t>(header >> 1, size - pos);
    const std::string_view payload = input.substr(pos, length);
    pos += length;

    out.clear();
    const int32_t parent = out.add(pop3decode::Field::SASL, -1, 0, origin_offset, origin_length);
    const uint32_t source = out.add_buffer(std::string(payload), origin_offset, origin_length);
    const sasl::Step step{out, source, parent, origin_offset, origin_length};
    if (from_server) {
      exchange.server_step(out.buffer(source), step);
      last_server = payload;
    } else {
      exchange.client_step(out.buffer(source), step);
      last_client = payload;
    }
    check_step(out, source, parent);
  }

  check_base64(input.substr(1));
  // SCRAM-SHA proofs cost up to a million PBKDF2 rounds; the rest is cheap.
  const sasl::Mechanism kind = exchange.mechanism();
  if (kind != sasl::Mechanism::scram_sha_1 && kind != sasl::Mechanism::scram_sha_1_plus &&
      kind != sasl::Mechanism::scram_sha_256 && kind != sasl::Mechanism::scram_sha_256_plus)
    (void)exchange.verify(last_client);
  check_same(pop3d_verify_apop(pointer(last_server), last_server.size(), pointer(last_client),
                               last_client.size(), pointer(last_client), last_client.size()),
             sasl::verify_apop(last_server, last_client, last_client));
  check_same(pop3d_verify_cram_md5(pointer(last_server), last_server.size(), pointer(last_client),
                                   last_client.size(), pointer(last_server), last_server.size()),
             sasl::verify_cram_md5(last_server, last_client, last_server));
  check_same(pop3d_verify_digest_md5(pointer(last_client), last_client.size(), pointer(last_server),
                                     last_server.size()),
             sasl::verify_digest_md5(last_client, last_server));
  (void)sasl::verify_digest_md5(last_client, last_server);
  (void)exchange.credentials();
  return 0;
}
