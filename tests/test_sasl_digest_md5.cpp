// DIGEST-MD5 (RFC 2831) decoding.
#include "test_sasl_support.hpp"

using namespace sasl_test;

namespace {

size_t at(const std::string& text, std::string_view part) {
  const size_t position = text.find(part);
  REQUIRE(position != std::string::npos);
  return position;
}

// RFC 2831 section 4.
const std::string challenge =
    "realm=\"elwood.innosoft.com\",nonce=\"OA6MG9tEQGm2hh\",qop=\"auth\",algorithm=md5-sess,"
    "charset=utf-8";
const std::string response =
    "charset=utf-8,username=\"chris\",realm=\"elwood.innosoft.com\",nonce=\"OA6MG9tEQGm2hh\","
    "nc=00000001,cnonce=\"OA6MHXh6VqTrRk\",digest-uri=\"imap/elwood.innosoft.com\","
    "response=d388dad90d4bbd760a152321f2143af7,qop=auth";
const std::string rspauth = "rspauth=ea40f60335c427b5527b84dbabcdfffd";

}  // namespace

TEST_CASE("DIGEST-MD5: RFC 2831 section 4 exchange", "[sasl]") {
  Harness h("DIGEST-MD5");
  h.server(challenge);
  CHECK(h.clean());
  h.expect(Field::SASL_DIGEST_REALM, "elwood.innosoft.com", 6, 21);
  h.expect(Field::SASL_DIGEST_NONCE, "OA6MG9tEQGm2hh", at(challenge, "\"OA6MG"), 16);
  h.expect(Field::SASL_DIGEST_QOP, "auth", at(challenge, "\"auth\""), 6);
  h.expect(Field::SASL_DIGEST_ALGORITHM, "md5-sess", at(challenge, "md5-sess"), 8);
  h.expect(Field::SASL_DIGEST_CHARSET, "utf-8", at(challenge, "utf-8"), 5);
  CHECK(h.items().size() == 5);

  h.client(response);
  CHECK(h.clean());
  h.expect(Field::SASL_DIGEST_CHARSET, "utf-8", 8, 5);
  h.expect(Field::SASL_DIGEST_USERNAME, "chris", at(response, "\"chris\""), 7);
  h.expect(Field::AUTH_USERNAME, "chris", at(response, "\"chris\""), 7);
  h.expect(Field::SASL_DIGEST_REALM, "elwood.innosoft.com", at(response, "\"elwood"), 21);
  h.expect(Field::SASL_DIGEST_NONCE, "OA6MG9tEQGm2hh", at(response, "\"OA6MG"), 16);
  h.expect(Field::SASL_DIGEST_NC, "00000001", at(response, "00000001"), 8);
  h.expect(Field::SASL_DIGEST_CNONCE, "OA6MHXh6VqTrRk", at(response, "\"OA6MH"), 16);
  h.expect(Field::SASL_DIGEST_URI, "imap/elwood.innosoft.com", at(response, "\"imap/"), 26);
  h.expect(Field::SASL_DIGEST_RESPONSE, "d388dad90d4bbd760a152321f2143af7", at(response, "d388"),
           32);
  h.expect(Field::AUTH_SECRET, "d388dad90d4bbd760a152321f2143af7", at(response, "d388"), 32);
  h.expect(Field::SASL_DIGEST_QOP, "auth", at(response, "qop=auth") + 4, 4);
  CHECK(h.find(Field::AUTH_AUTHZID) == nullptr);
  CHECK(h.find(Field::SASL_DIGEST_DIRECTIVE) == nullptr);
  CHECK(h.exchange.credentials().username == "chris");
  CHECK(h.exchange.credentials().secret == "d388dad90d4bbd760a152321f2143af7");

  h.server(rspauth);
  CHECK(h.clean());
  h.expect(Field::SASL_DIGEST_RSPAUTH, "ea40f60335c427b5527b84dbabcdfffd", 8, 32);
  h.client("");
  CHECK(h.clean());
  CHECK(h.items().empty());

  CHECK(h.exchange.verify("secret") == true);
  CHECK(h.exchange.verify("secreT") == false);
  CHECK(h.exchange.client_steps() == 2);
  CHECK(h.exchange.server_steps() == 2);
}

TEST_CASE("DIGEST-MD5: curl-style response with authzid, escapes and unknown directives",
          "[sasl]") {
  Harness h("DIGEST-MD5");
  const std::string server_challenge =
      "realm=\"one.example\",realm=\"two.example\",nonce=\"6Zk+3w==\",qop=\"auth,auth-int\","
      "charset=utf-8,algorithm=md5-sess,maxbuf=65536,cipher=\"rc4,des\",stale=true,"
      "x-vendor=\"a \\\"b\\\"\"";
  h.server(server_challenge);
  CHECK(h.clean());
  h.expect(Field::SASL_DIGEST_REALM, "one.example", 6, 13, 0, 0);
  h.expect(Field::SASL_DIGEST_REALM, "two.example", at(server_challenge, "\"two"), 13, 0, 1);
  h.expect(Field::SASL_DIGEST_QOP, "auth,auth-int", at(server_challenge, "\"auth,"), 15);
  h.expect_number(Field::SASL_DIGEST_MAXBUF, 65536, at(server_challenge, "65536"), 5);
  h.expect(Field::SASL_DIGEST_CIPHER, "rc4,des", at(server_challenge, "\"rc4"), 9);
  h.expect(Field::SASL_DIGEST_STALE, "true", at(server_challenge, "true"), 4);
  // Unknown directives are kept whole, as on the wire.
  h.expect(Field::SASL_DIGEST_DIRECTIVE, "x-vendor=\"a \\\"b\\\"\"",
           at(server_challenge, "x-vendor"), 18);

  const std::string client_response =
      "username=\"ali\\\\ce\", realm=\"one.example\" ,nonce=\"6Zk+3w==\",cnonce=\"cn0\","
      "nc=0000000a,qop=auth-int,digest-uri=\"pop/mail.one.example\",maxbuf=4096,"
      "response=0123456789abcdef0123456789ABCDEF,authzid=\"boss\",future=1";
  h.client(client_response);
  CHECK(h.clean());
  // The escaped backslash is shown unescaped; the position still covers the quoted text.
  h.expect(Field::SASL_DIGEST_USERNAME, "ali\\ce", 9, 9);
  h.expect(Field::AUTH_USERNAME, "ali\\ce", 9, 9);
  h.expect(Field::SASL_DIGEST_AUTHZID, "boss", at(client_response, "\"boss\""), 6);
  h.expect(Field::AUTH_AUTHZID, "boss", at(client_response, "\"boss\""), 6);
  h.expect_number(Field::SASL_DIGEST_MAXBUF, 4096, at(client_response, "4096"), 4);
  h.expect(Field::SASL_DIGEST_DIRECTIVE, "future=1", at(client_response, "future"), 8);
  CHECK(h.exchange.credentials().username == "ali\\ce");
  CHECK(h.exchange.credentials().authzid == "boss");
  CHECK(h.exchange.verify("x") == false);
}

TEST_CASE("DIGEST-MD5: ISO 8859-1 user name without charset is shown as UTF-8", "[sasl]") {
  Harness h("DIGEST-MD5");
  const std::string client_response =
      "username=\"j\xfcrgen\",nonce=\"n\",cnonce=\"c\",nc=00000001,digest-uri=\"pop/h\","
      "response=6aac13a3c2edb4fb81a887b656c96468";
  h.client(client_response);
  CHECK(h.clean());
  h.expect(Field::SASL_DIGEST_USERNAME, "j\xc3\xbcrgen", 9, 8);
  CHECK(h.exchange.credentials().username == "j\xc3\xbcrgen");
}

TEST_CASE("DIGEST-MD5: malformed challenges", "[sasl]") {
  const std::string cases[] = {
      "realm=\"x\",qop=\"auth\",algorithm=md5-sess",                 // no nonce
      "nonce=\"a\",qop=\"auth\"",                                    // no algorithm
      "nonce=\"a\",nonce=\"b\",algorithm=md5-sess",                  // two nonces
      "nonce=\"a\",algorithm=md5",                                   // wrong algorithm
      "nonce=\"a,algorithm=md5-sess",                                // unterminated quote
      "nonce=\"a\" algorithm=md5-sess",                              // missing comma
      "nonce\"a\",algorithm=md5-sess",                               // missing '='
      "=\"a\",algorithm=md5-sess",                                   // missing name
      "nonce=,algorithm=md5-sess",                                   // empty value
      "nonce=\"a\",algorithm=md5-sess,maxbuf=abc",                   // bad number
      "nonce=\"a\",algorithm=md5-sess,maxbuf=99999999999999999999",  // overflow
      "nonce=\"a\",algorithm=md5-sess,maxbuf=8",                     // below 16
      "nonce=\"a\",algorithm=md5-sess,charset=latin1",               // unknown charset
      "nonce=\"a\",algorithm=md5-sess,qop=auth,qop=auth",            // repeated qop
      "nonce=\"a\",algorithm=md5-sess,realm=\"" + std::string(2100, 'r') + "\"",  // over 2048
      "rspauth=ea40f60335c427b5527b84dbabcdfff",                                  // 31 digits
      "rspauth=ea40f60335c427b5527b84dbabcdfffd,nonce=\"a\"",                     // extra directive
      "\xff\xfe",  // not a list at all
  };
  for (const std::string& payload : cases) {
    INFO(payload.substr(0, 80));
    Harness h("DIGEST-MD5");
    h.server(payload);
    CHECK(h.anomaly_count(Anomaly::SASL_MALFORMED) == 1);
  }
  {
    Harness h("DIGEST-MD5");
    h.server("");  // the first challenge must carry data
    CHECK(h.has(Anomaly::SASL_MALFORMED));
  }
  {
    // Parsing stops at the error; what came before is still shown.
    Harness h("DIGEST-MD5");
    h.server("nonce=\"abc\",algorithm=md5-sess,qop=\"auth");
    CHECK(h.has(Anomaly::SASL_MALFORMED));
    h.expect(Field::SASL_DIGEST_NONCE, "abc", 6, 5);
    h.expect(Field::SASL_DIGEST_ALGORITHM, "md5-sess", 22, 8);
    CHECK(h.find(Field::SASL_DIGEST_QOP) == nullptr);
  }
}

TEST_CASE("DIGEST-MD5: malformed responses", "[sasl]") {
  const auto replace = [](std::string text, std::string_view from, std::string_view to) {
    const size_t position = text.find(from);
    REQUIRE(position != std::string::npos);
    return text.replace(position, from.size(), to);
  };
  const std::string cases[] = {
      replace(response, "username=\"chris\",", ""),
      replace(response, "cnonce=\"OA6MHXh6VqTrRk\",", ""),
      replace(response, "nc=00000001,", ""),
      replace(response, "digest-uri=\"imap/elwood.innosoft.com\",", ""),
      replace(response, ",response=d388dad90d4bbd760a152321f2143af7", ""),
      replace(response, "nc=00000001", "nc=1"),
      replace(response, "nc=00000001", "nc=0000000g"),
      replace(response, "d388dad90d4bbd760a152321f2143af7", "d388dad90d4bbd760a152321f2143af"),
      replace(response, "d388dad90d4bbd760a152321f2143af7", "z388dad90d4bbd760a152321f2143af7"),
      replace(response, "qop=auth", "qop=auth-everything"),
      replace(response, "\"chris\"", "\"chr\xffis\""),  // not UTF-8 under charset=utf-8
      replace(response, "\"chris\"", "\"chris"),
      response + ",username=\"other\"",
      response + ",realm=\"again\"",
      response + ",authzid=\"\xc3\"",
      response + ",x=\"" + std::string(4100, 'x') + "\"",
  };
  for (const std::string& payload : cases) {
    INFO(payload.substr(0, 120));
    Harness h("DIGEST-MD5");
    h.client(payload);
    CHECK(h.anomaly_count(Anomaly::SASL_MALFORMED) == 1);
  }
}

TEST_CASE("DIGEST-MD5: subsequent authentication and step limits", "[sasl]") {
  // RFC 2831 section 2.2: the client starts with a response; the server may refuse it with a
  // fresh challenge, so one more client step is allowed.
  Harness h("DIGEST-MD5");
  h.client(response);
  CHECK(h.clean());
  h.server(challenge);
  h.client(response);
  h.server(rspauth);
  h.client("");
  CHECK(h.clean());
  h.client("");
  CHECK(h.has(Anomaly::SASL_STEP_COUNT));
  h.server(rspauth);
  CHECK(h.has(Anomaly::SASL_STEP_COUNT));
  h.expect(Field::SASL_UNKNOWN_PAYLOAD, rspauth, 0, rspauth.size());
}
