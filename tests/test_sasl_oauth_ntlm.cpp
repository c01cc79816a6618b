// XOAUTH2, OAUTHBEARER (RFC 7628) and NTLM ([MS-NLMP]) decoding.
#include "test_sasl_support.hpp"

using namespace sasl_test;
using pop3decode::item_secret;

namespace {

size_t at(std::string_view text, std::string_view part) {
  const size_t position = text.find(part);
  REQUIRE(position != std::string_view::npos);
  return position;
}

const std::string google_error =
    "{\"status\":\"401\",\"schemes\":\"bearer mac\",\"scope\":\"https://mail.google.com/\"}";

}  // namespace

TEST_CASE("XOAUTH2: token, error challenge, empty answer", "[sasl]") {
  Harness h("XOAUTH2");
  const std::string token = "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg";
  const std::string initial =
      "user=someuser@example.com\x01"
      "auth=Bearer " +
      token + "\x01\x01";
  h.client(initial);
  CHECK(h.clean());
  h.expect(Field::SASL_XOAUTH2_USER, "someuser@example.com", 5, 20);
  h.expect(Field::AUTH_USERNAME, "someuser@example.com", 5, 20);
  h.expect(Field::SASL_XOAUTH2_TOKEN, token, 38, token.size(), item_secret);
  h.expect(Field::AUTH_SECRET, token, 38, token.size(), item_secret);
  CHECK(h.exchange.credentials().username == "someuser@example.com");
  CHECK(h.exchange.credentials().secret == token);
  CHECK_FALSE(h.exchange.verify("x").has_value());

  h.server(google_error);
  CHECK(h.clean());
  h.expect(Field::SASL_XOAUTH2_ERROR, google_error, 0, google_error.size());
  h.client("");
  CHECK(h.clean());
  CHECK(h.items().empty());
}

TEST_CASE("XOAUTH2: after an empty challenge, malformed variants", "[sasl]") {
  {
    Harness h("XOAUTH2");
    h.server("");
    CHECK(h.clean());
    h.client(
        "user=u\x01"
        "auth=bearer t0k3n==\x01\x01");  // scheme is case-insensitive
    CHECK(h.clean());
    h.expect(Field::SASL_XOAUTH2_TOKEN, "t0k3n==", 19, 7, item_secret);
  }
  const std::string cases[] = {
      "user=u\x01"
      "auth=Bearer t\x01",  // no final ^A
      "user=u\x01"
      "auth=Bearer t",          // no separators at the end
      "auth=Bearer t\x01\x01",  // no user
      "user=u\x01\x01",         // no token
      "user=u\x01"
      "auth=Basic dTpw\x01\x01",  // not a bearer token
      "user=u\x01"
      "auth=Bearer \x01\x01",  // empty token
      "user=u\x01"
      "auth=Bearer a b\x01\x01",  // not a b64token
      "user=u\x01"
      "auth=Bearer t\x01\x01junk",
      "user=\x01"
      "auth=Bearer t\x01\x01",
      "user=u\x01garbage\x01"
      "auth=Bearer t\x01\x01",
      "user=\xff\x01"
      "auth=Bearer t\x01\x01",
  };
  for (const std::string& payload : cases) {
    INFO(payload);
    Harness h("XOAUTH2");
    h.client(payload);
    CHECK(h.anomaly_count(Anomaly::SASL_MALFORMED) == 1);
  }
  {
    Harness h("XOAUTH2");
    h.client("");  // an empty first message
    CHECK(h.has(Anomaly::SASL_MALFORMED));
  }
  {
    Harness h("XOAUTH2");
    h.client(
        "user=u\x01"
        "auth=Bearer t\x01\x01");
    h.server("not json");
    CHECK(h.has(Anomaly::SASL_MALFORMED));
    h.expect(Field::SASL_XOAUTH2_ERROR, "not json", 0, 8);
  }
}

TEST_CASE("OAUTHBEARER: RFC 7628 section 4.1 and 4.3 examples", "[sasl]") {
  Harness h("OAUTHBEARER");
  const std::string token = "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==";
  const std::string initial =
      "n,a=user@example.com,\x01host=server.example.com\x01port=143\x01"
      "auth=Bearer " +
      token + "\x01\x01";
  h.client(initial);
  CHECK(h.clean());
  h.expect(Field::SASL_OAUTH_GS2_HEADER, "n,a=user@example.com,", 0, 21);
  h.expect(Field::SASL_OAUTH_AUTHZID, "user@example.com", 4, 16);
  h.expect(Field::AUTH_AUTHZID, "user@example.com", 4, 16);
  h.expect(Field::SASL_OAUTH_HOST, "server.example.com", 27, 18);
  h.expect_number(Field::SASL_OAUTH_PORT, 143, 51, 3);
  h.expect(Field::SASL_OAUTH_AUTH, "Bearer " + token, 60, 7 + token.size(), item_secret);
  h.expect(Field::AUTH_SECRET, token, 67, token.size(), item_secret);
  CHECK(h.find(Field::SASL_OAUTH_KVPAIR) == nullptr);
  CHECK(h.exchange.credentials().authzid == "user@example.com");
  CHECK(h.exchange.credentials().secret == token);

  const std::string error =
      "{\"status\":\"invalid_token\",\"scope\":\"example_scope\","
      "\"openid-configuration\":\"https://example.com/.well-known/openid-configuration\"}";
  h.server(error);
  CHECK(h.clean());
  h.expect(Field::SASL_OAUTH_ERROR, error, 0, error.size());
  h.client("\x01");  // section 3.2.3: the client acknowledges with a lone ^A
  CHECK(h.clean());
  CHECK(h.items().empty());
}

TEST_CASE("OAUTHBEARER: without authzid, other keys, malformed variants", "[sasl]") {
  {
    Harness h("OAUTHBEARER");
    const std::string message =
        "y,,\x01"
        "auth=Bearer abc\x01mfa=otp-123\x01\x01";
    h.client(message);
    CHECK(h.clean());
    h.expect(Field::SASL_OAUTH_GS2_HEADER, "y,,", 0, 3);
    CHECK(h.find(Field::SASL_OAUTH_AUTHZID) == nullptr);
    h.expect(Field::SASL_OAUTH_KVPAIR, "mfa=otp-123", at(message, "mfa"), 11);
  }
  const std::string cases[] = {
      "n,a=user@example.com,\x01host=h\x01\x01",  // no auth
      "n,a=user@example.com,\x01"
      "auth=Bearer t\x01",                           // unterminated
      "n,a=user@example.com,auth=Bearer t\x01\x01",  // no ^A after the header
      "p=tls-unique,,\x01"
      "auth=Bearer t\x01\x01",  // channel binding
      "x,,\x01"
      "auth=Bearer t\x01\x01",  // bad flag
      "n,user,\x01"
      "auth=Bearer t\x01\x01",  // authzid without a=
      "n,a=us=er,\x01"
      "auth=Bearer t\x01\x01",  // bad saslname
      "n,a=,\x01"
      "auth=Bearer t\x01\x01",  // empty authzid
      "n,,\x01port=http\x01"
      "auth=Bearer t\x01\x01",  // port not a number
      "n,,\x01port=65536\x01"
      "auth=Bearer t\x01\x01",  // port too large
      "n,,\x01port=99999999999999999999\x01"
      "auth=Bearer t\x01\x01",
      "n,,\x01"
      "auth=Bearer t\x01noequals\x01\x01",
      "n,,\x01"
      "auth=Bearer t\x01k3y=v\x01\x01",  // key not ALPHA
      "n,,\x01"
      "auth=MAC t\x01\x01",
      "n,,",  // nothing after the header
  };
  for (const std::string& payload : cases) {
    INFO(payload);
    Harness h("OAUTHBEARER");
    h.client(payload);
    CHECK(h.anomaly_count(Anomaly::SASL_MALFORMED) == 1);
  }
  Harness h("OAUTHBEARER");
  h.client("n");
  CHECK(h.has(Anomaly::SASL_MALFORMED));
  h.expect(Field::SASL_UNKNOWN_PAYLOAD, "n", 0, 1);
}

namespace {

void put_u16(std::string& out, size_t at_offset, uint32_t value) {
  out[at_offset] = static_cast<char>(value & 0xFF);
  out[at_offset + 1] = static_cast<char>((value >> 8) & 0xFF);
}
void put_u32(std::string& out, size_t at_offset, uint32_t value) {
  put_u16(out, at_offset, value & 0xFFFF);
  put_u16(out, at_offset + 2, value >> 16);
}

// An NTLMSSP message: header of `header_size` bytes, then the buffers, each descriptor
// (Len, MaxLen, Offset) written at its position in the header.
std::string ntlm_message(uint32_t type, size_t header_size, uint32_t flags, size_t flags_at,
                         const std::vector<std::pair<size_t, std::string>>& buffers) {
  std::string message(header_size, '\0');
  message.replace(0, 8, std::string("NTLMSSP\0", 8));
  put_u32(message, 8, type);
  put_u32(message, flags_at, flags);
  for (const auto& [descriptor, data] : buffers) {
    put_u16(message, descriptor, static_cast<uint32_t>(data.size()));
    put_u16(message, descriptor + 2, static_cast<uint32_t>(data.size()));
    put_u32(message, descriptor + 4, static_cast<uint32_t>(message.size()));
    message += data;
  }
  return message;
}

std::string utf16(std::string_view ascii) {
  std::string out;
  for (char c : ascii) {
    out.push_back(c);
    out.push_back('\0');
  }
  return out;
}

}  // namespace

TEST_CASE("NTLM: negotiate, challenge, authenticate", "[sasl]") {
  Harness h("NTLM");
  h.server("");
  CHECK(h.clean());

  const std::string negotiate = ntlm_message(1, 32, 0x00003207, 12, {{16, "DOMAIN"}, {24, "WKS"}});
  h.client(negotiate);
  CHECK(h.clean());
  h.expect(Field::SASL_NTLM_TOKEN, negotiate, 0, negotiate.size());
  h.expect_number(Field::SASL_NTLM_MESSAGE_TYPE, 1, 8, 4);
  h.expect(Field::SASL_NTLM_DOMAIN, "DOMAIN", 32, 6);
  h.expect(Field::SASL_NTLM_WORKSTATION, "WKS", 38, 3);

  std::string challenge = ntlm_message(2, 48, 0x00000001, 20, {{12, utf16("DOMAIN")}});
  challenge.replace(24, 8, "\x01\x23\x45\x67\x89\xab\xcd\xef");
  h.server(challenge);
  CHECK(h.clean());
  h.expect_number(Field::SASL_NTLM_MESSAGE_TYPE, 2, 8, 4);
  h.expect(Field::SASL_NTLM_DOMAIN, "DOMAIN", 48, 12);

  const std::string nt_response(24, '\x5a');
  const std::string authenticate = ntlm_message(3, 64, 0x00000001, 60,
                                                {{12, std::string(24, '\0')},
                                                 {20, nt_response},
                                                 {28, utf16("DOMAIN")},
                                                 {36, utf16("User\xe9")},
                                                 {44, utf16("COMPUTER")}});
  h.client(authenticate);
  CHECK(h.clean());
  h.expect(Field::SASL_NTLM_TOKEN, authenticate, 0, authenticate.size());
  h.expect_number(Field::SASL_NTLM_MESSAGE_TYPE, 3, 8, 4);
  h.expect(Field::SASL_NTLM_DOMAIN, "DOMAIN", 112, 12);
  h.expect(Field::SASL_NTLM_USER, "User\xc3\xa9", 124, 10);  // UTF-16LE to UTF-8
  h.expect(Field::AUTH_USERNAME, "User\xc3\xa9", 124, 10);
  h.expect(Field::SASL_NTLM_WORKSTATION, "COMPUTER", 134, 16);
  std::string nt_response_hex;
  for (int i = 0; i < 24; ++i) nt_response_hex += "5a";
  h.expect(Field::AUTH_SECRET, nt_response_hex, 88, 24);
  CHECK(h.exchange.credentials().username == "User\xc3\xa9");
  CHECK_FALSE(h.exchange.verify("x").has_value());
}

TEST_CASE("NTLM: OEM names and malformed messages", "[sasl]") {
  {
    Harness h("NTLM");
    const std::string authenticate =
        ntlm_message(3, 64, 0x00000002, 60, {{28, "DOM"}, {36, "j\xfcrgen"}, {44, "PC"}});
    h.client(authenticate);
    CHECK(h.clean());
    h.expect(Field::SASL_NTLM_USER, "j\xc3\xbcrgen", 67, 6);  // OEM shown as ISO 8859-1
    CHECK(h.find(Field::AUTH_SECRET) == nullptr);             // no NT response
  }
  std::string out_of_bounds = ntlm_message(3, 64, 1, 60, {{36, utf16("user")}});
  put_u32(out_of_bounds, 36 + 4, 0xFFFFFFF0u);
  std::string odd_unicode = ntlm_message(3, 64, 1, 60, {{36, "abc"}});
  const std::pair<bool, std::string> cases[] = {
      {true, "NTLMSSP"},                               // truncated signature
      {true, std::string("NTLMSSQ\0\x01\0\0\0", 12)},  // wrong signature
      {true, std::string("NTLMSSP\0\x01\0\0\0", 12)},  // negotiate too short
      {true, std::string("NTLMSSP\0\x02\0\0\0", 12)},  // challenge from client
      {true, std::string("NTLMSSP\0\x07\0\0\0", 12) + std::string(60, '\0')},  // unknown type
      {true, ntlm_message(3, 64, 1, 60, {}).substr(0, 63)},  // authenticate too short
      {true, out_of_bounds},
      {true, odd_unicode},
      {false, ntlm_message(1, 32, 0, 12, {})},  // negotiate from server
      {false, std::string("NTLMSSP\0\x02\0\0\0", 12) + std::string(8, '\0')},  // short challenge
  };
  for (const auto& [from_client, payload] : cases) {
    Harness h("NTLM");
    if (from_client)
      h.client(payload);
    else
      h.server(payload);
    CHECK(h.anomaly_count(Anomaly::SASL_MALFORMED) == 1);
  }
  Harness h("NTLM");
  h.client("TlRMTVNTUAAB");  // still base64: the session decodes once only
  CHECK(h.has(Anomaly::SASL_MALFORMED));
  h.expect(Field::SASL_UNKNOWN_PAYLOAD, "TlRMTVNTUAAB", 0, 12);
  CHECK(h.find(Field::SASL_NTLM_TOKEN) == nullptr);
}
