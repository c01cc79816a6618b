// SCRAM-SHA-1/256 (RFC 5802, RFC 7677), -PLUS, and SCRAM-MD5 (the draft-newman-auth-scram example
// exchange).
#include "test_sasl_support.hpp"

using namespace sasl_test;

namespace {

size_t at(std::string_view text, std::string_view part) {
  const size_t position = text.find(part);
  REQUIRE(position != std::string_view::npos);
  return position;
}

// RFC 5802 section 5.
const std::string client_first = "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL";
const std::string server_first =
    "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096";
const std::string client_final =
    "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=";
const std::string server_final = "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=";

}  // namespace

TEST_CASE("SCRAM-SHA-1: RFC 5802 section 5 exchange without initial response", "[sasl]") {
  Harness h("SCRAM-SHA-1");
  h.server("");
  CHECK(h.clean());
  CHECK(h.items().empty());

  h.client(client_first);
  CHECK(h.clean());
  h.expect(Field::SASL_SCRAM_GS2_FLAG, "n", 0, 1);
  h.expect(Field::SASL_SCRAM_USERNAME, "user", 5, 4);
  h.expect(Field::AUTH_USERNAME, "user", 5, 4);
  h.expect(Field::SASL_SCRAM_NONCE, "fyko+d2lbbFgONRv9qkxdawL", 12, 24);
  CHECK(h.find(Field::SASL_SCRAM_AUTHZID) == nullptr);
  CHECK(h.items().size() == 4);

  h.server(server_first);
  CHECK(h.clean());
  h.expect(Field::SASL_SCRAM_NONCE, "fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j", 2, 42);
  h.expect(Field::SASL_SCRAM_SALT, "QSXCR+Q6sek8bf92", at(server_first, "QSX"), 16);
  h.expect_number(Field::SASL_SCRAM_ITERATIONS, 4096, at(server_first, "4096"), 4);

  h.client(client_final);
  CHECK(h.clean());
  h.expect(Field::SASL_SCRAM_CHANNEL_BINDING, "biws", 2, 4);
  h.expect(Field::SASL_SCRAM_NONCE, "fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j", 9, 42);
  h.expect(Field::SASL_SCRAM_PROOF, "v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=", at(client_final, "v0X"), 28);
  h.expect(Field::AUTH_SECRET, "v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=", at(client_final, "v0X"), 28);

  h.server(server_final);
  CHECK(h.clean());
  h.expect(Field::SASL_SCRAM_VERIFIER, "rmF9pqV8S7suAoZWja4dJRkFsKQ=", 2, 28);
  h.client("");  // the normal answer to the final challenge
  CHECK(h.clean());

  CHECK(h.exchange.credentials().username == "user");
  CHECK(h.exchange.credentials().secret == "v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=");
  CHECK(h.exchange.verify("pencil") == true);
  CHECK(h.exchange.verify("pencil2") == false);
}

TEST_CASE("SCRAM-SHA-256: RFC 7677 section 3 exchange with initial response", "[sasl]") {
  Harness h("SCRAM-SHA-256");
  h.client("n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
  CHECK(h.clean());
  CHECK_FALSE(h.exchange.verify("pencil").has_value());
  const std::string first =
      "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
  h.server(first);
  CHECK(h.clean());
  h.expect(Field::SASL_SCRAM_SALT, "W22ZaJ0SNY7soEsUEjb6gQ==", at(first, "W22"), 24);
  const std::string final_message =
      "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
      "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
  h.client(final_message);
  CHECK(h.clean());
  h.expect(Field::SASL_SCRAM_PROOF,
           "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", at(final_message, "dHz"), 44);
  h.server("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
  CHECK(h.clean());
  h.client("");
  CHECK(h.clean());
  CHECK(h.exchange.verify("pencil") == true);
  CHECK(h.exchange.verify("Pencil") == false);
  h.client("");
  CHECK(h.has(Anomaly::SASL_STEP_COUNT));
}

TEST_CASE("SCRAM-SHA-256-PLUS: channel binding, authzid and escaped names", "[sasl]") {
  Harness h("SCRAM-SHA-256-PLUS");
  const std::string first = "p=tls-unique,a=adm=2Cin,n=us=3Der,r=abcdef,x=ext";
  h.client(first);
  CHECK(h.clean());
  h.expect(Field::SASL_SCRAM_GS2_FLAG, "p", 0, 1);
  h.expect(Field::SASL_SCRAM_CB_NAME, "tls-unique", 2, 10);
  h.expect(Field::SASL_SCRAM_AUTHZID, "adm,in", 15, 8);
  h.expect(Field::AUTH_AUTHZID, "adm,in", 15, 8);
  h.expect(Field::SASL_SCRAM_USERNAME, "us=er", 26, 7);
  h.expect(Field::AUTH_USERNAME, "us=er", 26, 7);
  h.expect(Field::SASL_SCRAM_EXTENSION, "x=ext", at(first, "x=ext"), 5);
  CHECK(h.exchange.credentials().authzid == "adm,in");
  CHECK(h.exchange.credentials().username == "us=er");

  h.server("r=abcdefXYZ,s=c2FsdA==,i=10000,y=later");
  CHECK(h.clean());
  h.expect(Field::SASL_SCRAM_EXTENSION, "y=later", 31, 7);
  // c= is base64 of the GS2 header followed by the binding data.
  const std::string binding = sasl::encode_base64("p=tls-unique,a=adm=2Cin,\x01\x02\x03");
  const std::string proof = sasl::encode_base64(std::string(32, 'P'));
  h.client("c=" + binding + ",r=abcdefXYZ,p=" + proof);
  CHECK(h.clean());
  h.expect(Field::SASL_SCRAM_CHANNEL_BINDING, binding, 2, binding.size());
  CHECK(h.exchange.verify("anything") == false);
  h.server("e=channel-bindings-dont-match");
  CHECK(h.clean());
  h.expect(Field::SASL_SCRAM_ERROR, "channel-bindings-dont-match", 2, 27);
}

TEST_CASE("SCRAM: malformed client-first messages", "[sasl]") {
  const std::pair<const char*, std::string> cases[] = {
      {"SCRAM-SHA-1", "x,,n=user,r=abc"},
      {"SCRAM-SHA-1", "n,,r=abc,n=user"},
      {"SCRAM-SHA-1", "n,,n=user"},
      {"SCRAM-SHA-1", "n,,n=us=er,r=abc"},
      {"SCRAM-SHA-1", "n,,n=us=2c,r=abc"},
      {"SCRAM-SHA-1", "n,,n=,r=abc"},
      {"SCRAM-SHA-1", "n,,n=\xff\xfe,r=abc"},
      {"SCRAM-SHA-1",
       "n,,n=user,r=a\x7f"
       "b"},
      {"SCRAM-SHA-1", "n,,n=user,r=abc,,"},
      {"SCRAM-SHA-1", "n,,n=user,r=abc,1=x"},
      {"SCRAM-SHA-1", "n,x=y,n=user,r=abc"},
      {"SCRAM-SHA-1", "n,user,n=user,r=abc"},
      {"SCRAM-SHA-1", "n,,"},
      {"SCRAM-SHA-1", "n,"},
      {"SCRAM-SHA-1", "p=tls-unique,,n=user,r=abc"},  // channel binding without -PLUS
      {"SCRAM-SHA-1-PLUS", "n,,n=user,r=abc"},        // -PLUS without channel binding
      {"SCRAM-SHA-1-PLUS", "p=tls unique,,n=user,r=abc"},
  };
  for (const auto& [mechanism, payload] : cases) {
    INFO(mechanism << " " << payload);
    Harness h(mechanism);
    h.client(payload);
    CHECK(h.anomaly_count(Anomaly::SASL_MALFORMED) == 1);
  }
  Harness h("SCRAM-SHA-1");
  h.client("n");
  CHECK(h.has(Anomaly::SASL_MALFORMED));
  h.expect(Field::SASL_UNKNOWN_PAYLOAD, "n", 0, 1);
  Harness reserved("SCRAM-SHA-1");  // "m=" is grammatical; the server decides
  reserved.client("n,,m=ext,n=user,r=abc");
  CHECK(reserved.clean());
  reserved.expect(Field::SASL_SCRAM_EXTENSION, "m=ext", 3, 5);
}

TEST_CASE("SCRAM: malformed server-first messages", "[sasl]") {
  const std::string cases[] = {
      "r=other,s=QSXCR+Q6sek8bf92,i=4096",  // does not extend the client nonce
      "r=fyko+d2lbbFgONRv9qkxdawLxyz,s=QSXCR+Q6sek8bf92,i=0",
      "r=fyko+d2lbbFgONRv9qkxdawLxyz,s=QSXCR+Q6sek8bf92,i=04096",
      "r=fyko+d2lbbFgONRv9qkxdawLxyz,s=QSXCR+Q6sek8bf92,i=abc",
      "r=fyko+d2lbbFgONRv9qkxdawLxyz,s=QSXCR+Q6sek8bf92,i=-1",
      "r=fyko+d2lbbFgONRv9qkxdawLxyz,s=QSXCR+Q6sek8bf92,i=4294967296",
      "r=fyko+d2lbbFgONRv9qkxdawLxyz,s=QSXCR+Q6sek8bf92,i=99999999999999999999999999",
      "r=fyko+d2lbbFgONRv9qkxdawLxyz,i=4096",
      "r=fyko+d2lbbFgONRv9qkxdawLxyz,s=,i=4096",
      "r=fyko+d2lbbFgONRv9qkxdawLxyz,s=QSXCR+Q6sek8bf9,i=4096",
      "s=QSXCR+Q6sek8bf92,r=fyko+d2lbbFgONRv9qkxdawLxyz,i=4096",
      "garbage",
  };
  for (const std::string& payload : cases) {
    INFO(payload);
    Harness h("SCRAM-SHA-1");
    h.client(client_first);
    h.server(payload);
    CHECK(h.anomaly_count(Anomaly::SASL_MALFORMED) == 1);
  }
  // The largest count is decoded as a number, without overflow.
  Harness h("SCRAM-SHA-1");
  h.client(client_first);
  h.server("r=fyko+d2lbbFgONRv9qkxdawLxyz,s=QSXCR+Q6sek8bf92,i=4294967295");
  CHECK(h.clean());
  h.expect_number(Field::SASL_SCRAM_ITERATIONS, 4294967295u, 51, 10);
}

TEST_CASE("SCRAM: malformed client-final and server-final messages", "[sasl]") {
  const std::string final_cases[] = {
      "c=!!!!,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
      "c=eSws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
      "c=biws,r=fyko+d2lbbFgONRv9qkxdawL,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
      "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI",
      "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j",
      "c=biws,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j",
      "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=,x=1",
  };
  for (const std::string& payload : final_cases) {
    INFO(payload);
    Harness h("SCRAM-SHA-1");
    h.client(client_first);
    h.server(server_first);
    h.client(payload);
    CHECK(h.anomaly_count(Anomaly::SASL_MALFORMED) == 1);
  }
  const std::string server_final_cases[] = {"v=bad!", "v=cm1GOXBxVjhTN3N1", "x=1", "v"};
  for (const std::string& payload : server_final_cases) {
    INFO(payload);
    Harness h("SCRAM-SHA-1");
    h.client(client_first);
    h.server(server_first);
    h.client(client_final);
    h.server(payload);
    CHECK(h.anomaly_count(Anomaly::SASL_MALFORMED) == 1);
  }
  {
    Harness h("SCRAM-SHA-1");  // an empty answer is only right after the final challenge
    h.client("");
    CHECK(h.has(Anomaly::SASL_MALFORMED));
  }
  {
    Harness h("SCRAM-SHA-1");  // a second client-first
    h.client(client_first);
    h.client(client_first);
    CHECK(h.has(Anomaly::SASL_MALFORMED));
    h.expect(Field::SASL_UNKNOWN_PAYLOAD, client_first, 0, client_first.size());
  }
}

namespace {

// The example exchange of draft-newman-auth-scram, the SCRAM-MD5 that RFC 2384 names in its
// URL examples (the password is "secret stuff").
std::string decoded(std::string_view base64) {
  auto bytes = sasl::decode_base64(base64);
  REQUIRE(bytes.has_value());
  return *bytes;
}

}  // namespace

TEST_CASE("SCRAM-MD5: the draft's example exchange", "[sasl]") {
  const std::string md5_client_first =
      decoded("AGNocmlzADx0NG40UGFiOUhCMEFtL1FMWEI3MmVnQGVsZWFub3IuaW5ub3NvZnQuY29tPg==");
  const std::string md5_server_first =
      decoded("dGVzdHNhbHQBAAAAaW1hcEBlbGVhbm9yLmlubm9zb2Z0LmNvbQBqaGNOWmxSdVBiemlGcCt2TFYrTkN3");
  const std::string md5_client_final = decoded("AQAAAMg9jU8CeB4KOfk7sUhSQPs=");
  const std::string md5_server_final = decoded("U0odqYw3B7XIIW0oSz65OQ==");

  Harness h("SCRAM-MD5");
  h.client(md5_client_first);
  CHECK(h.clean());
  CHECK(h.find(Field::SASL_SCRAM_MD5_AUTHZID) == nullptr);
  h.expect(Field::SASL_SCRAM_MD5_AUTHCID, "chris", 1, 5);
  h.expect(Field::AUTH_USERNAME, "chris", 1, 5);
  h.expect(Field::SASL_SCRAM_MD5_CLIENT_NONCE, "<t4n4Pab9HB0Am/QLXB72eg@eleanor.innosoft.com>", 7,
           45);

  h.server(md5_server_first);
  CHECK(h.clean());
  h.expect(Field::SASL_SCRAM_MD5_SALT, "testsalt", 0, 8);
  h.expect(Field::SASL_SCRAM_MD5_SERVER_LAYERS, bytes("\x01\0\0\0", 4), 8, 4);
  h.expect(Field::SASL_SCRAM_MD5_SERVICE, "imap@eleanor.innosoft.com", 12, 25);
  h.expect(Field::SASL_SCRAM_MD5_SERVER_NONCE, "jhcNZlRuPbziFp+vLV+NCw", 38, 22);

  h.client(md5_client_final);
  CHECK(h.clean());
  h.expect(Field::SASL_SCRAM_MD5_CLIENT_LAYERS, bytes("\x01\0\0\0", 4), 0, 4);
  h.expect(Field::SASL_SCRAM_MD5_PROOF, md5_client_final.substr(4), 4, 16);
  h.expect(Field::AUTH_SECRET, "c83d8d4f02781e0a39f93bb1485240fb", 4, 16);

  h.server(md5_server_final);
  CHECK(h.clean());
  h.expect(Field::SASL_SCRAM_MD5_VERIFIER, md5_server_final, 0, 16);
  h.client("");
  CHECK(h.clean());

  CHECK(h.exchange.credentials().username == "chris");
  CHECK(h.exchange.credentials().secret == "c83d8d4f02781e0a39f93bb1485240fb");
  CHECK(h.exchange.verify("secret stuff") == true);
  CHECK(h.exchange.verify("secret") == false);
}

TEST_CASE("SCRAM-MD5: authzid and malformed messages", "[sasl]") {
  {
    Harness h("SCRAM-MD5");
    h.client(bytes("boss\0chris\0<n@h>", 16));
    CHECK(h.clean());
    h.expect(Field::SASL_SCRAM_MD5_AUTHZID, "boss", 0, 4);
    h.expect(Field::AUTH_AUTHZID, "boss", 0, 4);
    CHECK(h.exchange.credentials().authzid == "boss");
  }
  const std::string client_cases[] = {bytes("chris\0<n@h>", 11), bytes("\0\0<n@h>", 7),
                                      bytes("\0chris\0", 7), bytes("\0chris\0n\0x", 10),
                                      bytes("\0ch\xffris\0n", 9)};
  for (const std::string& payload : client_cases) {
    Harness h("SCRAM-MD5");
    h.client(payload);
    CHECK(h.anomaly_count(Anomaly::SASL_MALFORMED) == 1);
  }
  const std::string server_cases[] = {"short", bytes("testsalt\x01\0\0\0imap@host", 21),
                                      bytes("testsalt\x01\0\0\0imaphost\0nonce", 26),
                                      bytes("testsalt\x01\0\0\0imap@host\0", 22)};
  for (const std::string& payload : server_cases) {
    Harness h("SCRAM-MD5");
    h.client(bytes("\0chris\0<n@h>", 12));
    h.server(payload);
    CHECK(h.anomaly_count(Anomaly::SASL_MALFORMED) == 1);
    CHECK_FALSE(h.exchange.verify("x").has_value());
  }
  {
    Harness h("SCRAM-MD5");
    h.client(bytes("\0chris\0<n@h>", 12));
    h.server(bytes("testsalt\x01\0\0\0imap@host\0nonce", 27));
    CHECK(h.clean());
    h.client(std::string(19, 'x'));  // proof one byte short
    CHECK(h.has(Anomaly::SASL_MALFORMED));
    CHECK_FALSE(h.exchange.verify("x").has_value());
    h.server(std::string(17, 'v'));
    CHECK(h.has(Anomaly::SASL_MALFORMED));
  }
}
