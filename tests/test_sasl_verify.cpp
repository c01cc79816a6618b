// Credential verification against RFC examples, right and wrong passwords, malformed input.
#include <string>

#include "catch_compat.hpp"
#include "pop3decode/sasl.hpp"

namespace sasl = pop3decode::sasl;

TEST_CASE("verify APOP: RFC 1939 section 7 example", "[sasl]") {
  const std::string timestamp = "<1896.697170952@dbc.mtview.ca.us>";
  CHECK(sasl::verify_apop(timestamp, "tanstaaf", "c4c9334bac560ecc979e58001b3e22fb") == true);
  CHECK(sasl::verify_apop(timestamp, "tanstaaf", "C4C9334BAC560ECC979E58001B3E22FB") == true);
  CHECK(sasl::verify_apop(timestamp, "tanstaaF", "c4c9334bac560ecc979e58001b3e22fb") == false);
  CHECK(sasl::verify_apop(timestamp, "", "c4c9334bac560ecc979e58001b3e22fb") == false);
  CHECK(sasl::verify_apop("<other@host>", "tanstaaf", "c4c9334bac560ecc979e58001b3e22fb") == false);
  CHECK_FALSE(
      sasl::verify_apop(timestamp, "tanstaaf", "c4c9334bac560ecc979e58001b3e22f").has_value());
  CHECK_FALSE(
      sasl::verify_apop(timestamp, "tanstaaf", "c4c9334bac560ecc979e58001b3e22fbb").has_value());
  CHECK_FALSE(
      sasl::verify_apop(timestamp, "tanstaaf", "x4c9334bac560ecc979e58001b3e22fb").has_value());
  CHECK_FALSE(sasl::verify_apop(timestamp, "tanstaaf", "").has_value());
}

TEST_CASE("verify CRAM-MD5: RFC 2195 section 2 example", "[sasl]") {
  const std::string challenge = "<1896.697170952@postoffice.reston.mci.net>";
  CHECK(sasl::verify_cram_md5(challenge, "tanstaaftanstaaf", "b913a602c7eda7a495b4e6e7334d3890") ==
        true);
  CHECK(sasl::verify_cram_md5(challenge, "tanstaaf", "b913a602c7eda7a495b4e6e7334d3890") == false);
  CHECK(sasl::verify_cram_md5(challenge + " ", "tanstaaftanstaaf",
                              "b913a602c7eda7a495b4e6e7334d3890") == false);
  CHECK_FALSE(
      sasl::verify_cram_md5(challenge, "tanstaaftanstaaf", "b913a602c7eda7a495b4e6e7334d389")
          .has_value());
  CHECK_FALSE(
      sasl::verify_cram_md5(challenge, "tanstaaftanstaaf", "tim b913a602c7eda7a495b4e6e7334d3890")
          .has_value());
  // A key longer than the HMAC block is hashed first (RFC 2104); still checkable.
  CHECK(sasl::verify_cram_md5(challenge, std::string(100, 'k'),
                              "b913a602c7eda7a495b4e6e7334d3890") == false);
}

namespace {

// RFC 2831 section 4 (an IMAP example; the digest-uri says "imap").
const std::string rfc2831_response =
    "charset=utf-8,username=\"chris\",realm=\"elwood.innosoft.com\",nonce=\"OA6MG9tEQGm2hh\","
    "nc=00000001,cnonce=\"OA6MHXh6VqTrRk\",digest-uri=\"imap/elwood.innosoft.com\","
    "response=d388dad90d4bbd760a152321f2143af7,qop=auth";

}  // namespace

TEST_CASE("verify DIGEST-MD5: RFC 2831 section 4 example", "[sasl]") {
  CHECK(sasl::verify_digest_md5(rfc2831_response, "secret") == true);
  CHECK(sasl::verify_digest_md5(rfc2831_response, "Secret") == false);
  CHECK(sasl::verify_digest_md5(rfc2831_response, "") == false);
  // Directive order, spacing and empty list elements do not matter.
  const std::string reordered =
      " qop=auth , "
      "response=D388DAD90D4BBD760A152321F2143AF7,,digest-uri=\"imap/elwood.innosoft.com\","
      "cnonce=\"OA6MHXh6VqTrRk\",nc=00000001,nonce=\"OA6MG9tEQGm2hh\",realm=\"elwood.innosoft."
      "com\","
      "username=\"ch\\ris\",charset=utf-8";
  CHECK(sasl::verify_digest_md5(reordered, "secret") == true);
}

TEST_CASE("verify DIGEST-MD5: qop auth-int, authzid, ISO 8859-1 user name", "[sasl]") {
  // Computed independently (Python hashlib) from RFC 2831 section 2.1.2.1.
  const std::string auth_int =
      "username=\"alice\",realm=\"example.org\",nonce=\"abc123\",cnonce=\"xyz789\",nc=00000001,"
      "qop=auth-int,digest-uri=\"pop/mail.example.org\",authzid=\"bob\","
      "response=57dbebb4955861559082d2e726292b96";
  CHECK(sasl::verify_digest_md5(auth_int, "wonderland") == true);
  CHECK(sasl::verify_digest_md5(auth_int, "wonderlan") == false);
  // With charset=utf-8, a name that fits ISO 8859-1 is hashed in ISO 8859-1.
  const std::string utf8_user =
      "charset=utf-8,username=\"j\xc3\xbcrgen\",realm=\"example.org\",nonce=\"abc123\","
      "cnonce=\"xyz789\",nc=00000001,qop=auth,digest-uri=\"pop/mail.example.org\","
      "response=6aac13a3c2edb4fb81a887b656c96468";
  CHECK(sasl::verify_digest_md5(utf8_user, "geheim") == true);
  // Without charset the bytes are ISO 8859-1 already.
  const std::string latin1_user =
      "username=\"j\xfcrgen\",realm=\"example.org\",nonce=\"abc123\",cnonce=\"xyz789\","
      "nc=00000001,qop=auth,digest-uri=\"pop/mail.example.org\","
      "response=6aac13a3c2edb4fb81a887b656c96468";
  CHECK(sasl::verify_digest_md5(latin1_user, "geheim") == true);
}

TEST_CASE("verify DIGEST-MD5: uncheckable responses", "[sasl]") {
  const auto without = [](const std::string& directive) {
    std::string text = rfc2831_response;
    const size_t at = text.find(directive);
    REQUIRE(at != std::string::npos);
    const size_t value = at + directive.size();
    const size_t end =
        text[value] == '"' ? text.find(',', text.find('"', value + 1)) : text.find(',', value);
    text.erase(at, end == std::string::npos ? std::string::npos : end - at + 1);
    return text;
  };
  for (const char* required :
       {"username=", "nonce=", "cnonce=", "nc=", "digest-uri=", "response="}) {
    INFO(required);
    CHECK_FALSE(sasl::verify_digest_md5(without(required), "secret").has_value());
  }
  CHECK_FALSE(sasl::verify_digest_md5("", "secret").has_value());
  CHECK_FALSE(sasl::verify_digest_md5("username=\"chris", "secret").has_value());
  std::string bad_qop = rfc2831_response;
  bad_qop.replace(bad_qop.find("qop=auth"), 8, "qop=nonsense");
  CHECK_FALSE(sasl::verify_digest_md5(bad_qop, "secret").has_value());
  std::string short_response = rfc2831_response;
  short_response.replace(short_response.find("d388"), 4, "d38");
  CHECK_FALSE(sasl::verify_digest_md5(short_response, "secret").has_value());
}

namespace {

// RFC 5802 section 5 and RFC 7677 section 3.
const std::string sha1_client_first = "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL";
const std::string sha1_server_first =
    "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096";
const std::string sha1_client_final =
    "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=";
const std::string sha256_client_first = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
const std::string sha256_server_first =
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
const std::string sha256_client_final =
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
    "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";

}  // namespace

TEST_CASE("verify SCRAM-SHA-1: RFC 5802 section 5 example", "[sasl]") {
  CHECK(sasl::verify_scram("SCRAM-SHA-1", sha1_client_first, sha1_server_first, sha1_client_final,
                           "pencil") == true);
  CHECK(sasl::verify_scram("scram-sha-1", sha1_client_first, sha1_server_first, sha1_client_final,
                           "pencil") == true);
  CHECK(sasl::verify_scram("SCRAM-SHA-1", sha1_client_first, sha1_server_first, sha1_client_final,
                           "pencl") == false);
  // The same messages under SHA-256 give a proof of the wrong size: not checkable.
  CHECK_FALSE(sasl::verify_scram("SCRAM-SHA-256", sha1_client_first, sha1_server_first,
                                 sha1_client_final, "pencil")
                  .has_value());
  // Any change to the signed messages breaks the proof.
  CHECK(sasl::verify_scram("SCRAM-SHA-1", "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawM", sha1_server_first,
                           sha1_client_final, "pencil") == false);
}

TEST_CASE("verify SCRAM-SHA-256: RFC 7677 section 3 example", "[sasl]") {
  CHECK(sasl::verify_scram("SCRAM-SHA-256", sha256_client_first, sha256_server_first,
                           sha256_client_final, "pencil") == true);
  CHECK(sasl::verify_scram("SCRAM-SHA-256", sha256_client_first, sha256_server_first,
                           sha256_client_final, "pencil ") == false);
  CHECK_FALSE(sasl::verify_scram("SCRAM-SHA-1", sha256_client_first, sha256_server_first,
                                 sha256_client_final, "pencil")
                  .has_value());
}

TEST_CASE("verify SCRAM: uncheckable input", "[sasl]") {
  const auto check = [](std::string mechanism, std::string first, std::string server,
                        std::string final_message) {
    INFO(mechanism << " | " << first << " | " << server << " | " << final_message);
    CHECK_FALSE(sasl::verify_scram(mechanism, first, server, final_message, "pencil").has_value());
  };
  check("SCRAM-MD4", sha1_client_first, sha1_server_first, sha1_client_final);
  check("PLAIN", sha1_client_first, sha1_server_first, sha1_client_final);
  check("SCRAM-SHA-1", "n=user,r=abc", sha1_server_first, sha1_client_final);   // no GS2 header
  check("SCRAM-SHA-1", sha1_client_first, "r=fyko,i=4096", sha1_client_final);  // no salt
  check("SCRAM-SHA-1", sha1_client_first, "r=fyko,s=QSXCR+Q6sek8bf92", sha1_client_final);
  check("SCRAM-SHA-1", sha1_client_first, "r=fyko,s=QSXCR+Q6sek8bf9,i=4096", sha1_client_final);
  check("SCRAM-SHA-1", sha1_client_first, "r=x,s=QSXCR+Q6sek8bf92,i=0", sha1_client_final);
  check("SCRAM-SHA-1", sha1_client_first, "r=x,s=QSXCR+Q6sek8bf92,i=04096", sha1_client_final);
  check("SCRAM-SHA-1", sha1_client_first, "r=x,s=QSXCR+Q6sek8bf92,i=-1", sha1_client_final);
  check("SCRAM-SHA-1", sha1_client_first, "r=x,s=QSXCR+Q6sek8bf92,i=4294967296", sha1_client_final);
  // Counts that fit uint32 but would take minutes of PBKDF2 are not run.
  check("SCRAM-SHA-1", sha1_client_first, "r=x,s=QSXCR+Q6sek8bf92,i=4294967295", sha1_client_final);
  check("SCRAM-SHA-1", sha1_client_first, sha1_server_first, "c=biws,r=x");  // no proof
  check("SCRAM-SHA-1", sha1_client_first, sha1_server_first, "c=biws,r=x,p=v0X8v3Bz2T0C");
  check("SCRAM-SHA-1", sha1_client_first, sha1_server_first, "c=biws,r=x,p=!!!!");
  check("SCRAM-SHA-1", "", "", "");
}
