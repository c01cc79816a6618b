// Base64 as SASL carries it (RFC 4648 section 4) and mechanism names.
#include <string>

#include "catch_compat.hpp"
#include "pop3decode/sasl.hpp"
#include "pop3decode/sasl_exchange.hpp"

namespace sasl = pop3decode::sasl;

TEST_CASE("base64: RFC 4648 section 10 test vectors", "[sasl]") {
  const std::pair<std::string, std::string> vectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : vectors) {
    INFO(plain);
    CHECK(sasl::encode_base64(plain) == encoded);
    const auto decoded = sasl::decode_base64(encoded);
    REQUIRE(decoded.has_value());
    CHECK(*decoded == plain);
  }
}

TEST_CASE("base64: binary round trip", "[sasl]") {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (size_t length = 0; length <= all.size(); length += 37) {
    const std::string bytes = all.substr(0, length);
    const auto decoded = sasl::decode_base64(sasl::encode_base64(bytes));
    REQUIRE(decoded.has_value());
    CHECK(*decoded == bytes);
  }
  CHECK(sasl::decode_base64("AGNocmlz") == std::string("\0chris", 6));
  CHECK(sasl::decode_base64("+/+/") == std::string("\xfb\xff\xbf", 3));
}

TEST_CASE("base64: invalid input gives nullopt", "[sasl]") {
  const char* invalid[] = {
      "Zg",            // no padding
      "Zg=",           // short padding
      "Zg===",         // too much padding
      "Z===",          // three pad characters
      "====",          // padding only
      "=",             // RFC 5034's empty-response marker is not base64
      "Zm=v",          // padding inside
      "Zm9v=",         // length not a multiple of 4
      "Zm9v\r\n",      // line end
      "Zm 9v",         // space inside
      " Zm9v",         // leading space
      "Zm9v\t",        // tab
      "Zm9-",          // base64url alphabet
      "Zm9_",          // base64url alphabet
      "Zm9vYmFy!",     // punctuation
      "Zm9v\xc3\xa9",  // 8-bit bytes
  };
  for (const char* text : invalid) {
    INFO(text);
    CHECK_FALSE(sasl::decode_base64(text).has_value());
  }
  CHECK_FALSE(sasl::decode_base64(std::string("Zm9v\0\0\0\0", 8)).has_value());
}

TEST_CASE("base64: non-zero pad bits are accepted", "[sasl]") {
  // RFC 4648 section 3.5 lets decoders accept them; the data is unambiguous.
  CHECK(sasl::decode_base64("Zh==") == std::string("f"));
  CHECK(sasl::decode_base64("Zm9=") == std::string("fo"));
}

TEST_CASE("mechanism names", "[sasl]") {
  using M = sasl::Mechanism;
  CHECK(sasl::mechanism_from_name("PLAIN") == M::plain);
  CHECK(sasl::mechanism_from_name("plain") == M::plain);
  CHECK(sasl::mechanism_from_name("Cram-Md5") == M::cram_md5);
  CHECK(sasl::mechanism_from_name("SCRAM-SHA-1") == M::scram_sha_1);
  CHECK(sasl::mechanism_from_name("SCRAM-SHA-1-PLUS") == M::scram_sha_1_plus);
  CHECK(sasl::mechanism_from_name("scram-sha-256") == M::scram_sha_256);
  CHECK(sasl::mechanism_from_name("SCRAM-SHA-256-PLUS") == M::scram_sha_256_plus);
  CHECK(sasl::mechanism_from_name("SCRAM-MD5") == M::scram_md5);
  CHECK(sasl::mechanism_from_name("xoauth2") == M::xoauth2);
  CHECK(sasl::mechanism_from_name("OAUTHBEARER") == M::oauthbearer);
  CHECK(sasl::mechanism_from_name("NTLM") == M::ntlm);
  CHECK(sasl::mechanism_from_name("GSSAPI") == M::gssapi);
  CHECK(sasl::mechanism_from_name("EXTERNAL") == M::external);
  CHECK(sasl::mechanism_from_name("ANONYMOUS") == M::anonymous);
  CHECK(sasl::mechanism_from_name("DIGEST-MD5") == M::digest_md5);
  CHECK(sasl::mechanism_from_name("LOGIN") == M::login);
  CHECK(sasl::mechanism_from_name("KERBEROS_V4") == M::unknown);
  CHECK(sasl::mechanism_from_name("") == M::unknown);
  CHECK(sasl::mechanism_from_name("PLAIN ") == M::unknown);
  CHECK(sasl::mechanism_name(M::scram_sha_256_plus) == "SCRAM-SHA-256-PLUS");
  CHECK(sasl::mechanism_name(M::cram_md5) == "CRAM-MD5");
  CHECK(sasl::mechanism_name(M::unknown).empty());
  CHECK(sasl::Exchange("digest-md5").mechanism() == M::digest_md5);
}
