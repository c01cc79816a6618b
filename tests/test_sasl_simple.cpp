// PLAIN, LOGIN, CRAM-MD5, EXTERNAL, ANONYMOUS, GSSAPI, unknown mechanisms and step limits.
#include "test_sasl_support.hpp"

using namespace sasl_test;
using pop3decode::item_secret;

TEST_CASE("PLAIN: curl-style initial response", "[sasl]") {
  Harness h("PLAIN");
  h.client(bytes("\0user\0secret", 12));
  CHECK(h.clean());
  CHECK(h.find(Field::SASL_PLAIN_AUTHZID) == nullptr);
  CHECK(h.find(Field::AUTH_AUTHZID) == nullptr);
  h.expect(Field::SASL_PLAIN_AUTHCID, "user", 1, 4);
  h.expect(Field::AUTH_USERNAME, "user", 1, 4);
  h.expect(Field::SASL_PLAIN_PASSWORD, "secret", 6, 6, item_secret);
  h.expect(Field::AUTH_PASSWORD, "secret", 6, 6, item_secret);
  CHECK(h.items().size() == 4);
  CHECK(h.exchange.credentials().username == "user");
  CHECK(h.exchange.credentials().password == "secret");
  CHECK(h.exchange.credentials().authzid.empty());
  CHECK(h.exchange.verify("secret") == true);
  CHECK(h.exchange.verify("Secret") == false);
  CHECK(h.exchange.client_steps() == 1);
}

TEST_CASE("PLAIN: empty challenge first, then authzid, authcid and password", "[sasl]") {
  Harness h("PLAIN");
  CHECK_FALSE(h.exchange.verify("x").has_value());
  h.server("");
  CHECK(h.clean());
  CHECK(h.items().empty());
  h.client(bytes("admin\0tim\0tanstaaf", 18));
  CHECK(h.clean());
  h.expect(Field::SASL_PLAIN_AUTHZID, "admin", 0, 5);
  h.expect(Field::AUTH_AUTHZID, "admin", 0, 5);
  h.expect(Field::SASL_PLAIN_AUTHCID, "tim", 6, 3);
  h.expect(Field::SASL_PLAIN_PASSWORD, "tanstaaf", 10, 8, item_secret);
  CHECK(h.exchange.credentials().authzid == "admin");
  CHECK(h.exchange.server_steps() == 1);
}

TEST_CASE("PLAIN: wrong NUL counts", "[sasl]") {
  SECTION("one NUL: authcid and password") {
    Harness h("PLAIN");
    h.client(bytes("user\0secret", 11));
    CHECK(h.anomaly_count(Anomaly::SASL_PLAIN_NUL_COUNT) == 1);
    h.expect(Field::SASL_PLAIN_AUTHCID, "user", 0, 4);
    h.expect(Field::SASL_PLAIN_PASSWORD, "secret", 5, 6, item_secret);
    CHECK(h.exchange.credentials().password == "secret");
  }
  SECTION("no NUL: shown as bytes") {
    Harness h("PLAIN");
    h.client("usersecret");
    CHECK(h.has(Anomaly::SASL_PLAIN_NUL_COUNT));
    h.expect(Field::SASL_UNKNOWN_PAYLOAD, "usersecret", 0, 10);
    CHECK(h.find(Field::AUTH_USERNAME) == nullptr);
    CHECK_FALSE(h.exchange.verify("secret").has_value());
  }
  SECTION("three NULs: the password keeps the rest") {
    Harness h("PLAIN");
    h.client(bytes("\0user\0pass\0word", 15));
    CHECK(h.has(Anomaly::SASL_PLAIN_NUL_COUNT));
    h.expect(Field::SASL_PLAIN_AUTHCID, "user", 1, 4);
    h.expect(Field::SASL_PLAIN_PASSWORD, bytes("pass\0word", 9), 6, 9, item_secret);
  }
  SECTION("empty payload") {
    Harness h("PLAIN");
    h.client("");
    CHECK(h.has(Anomaly::SASL_PLAIN_NUL_COUNT));
    CHECK(h.items().empty());
  }
}

TEST_CASE("PLAIN: malformed fields", "[sasl]") {
  const std::string cases[] = {
      bytes("\0\0secret", 8),  // empty authcid
      bytes("\0user\0", 6),    // empty password
      bytes("\0us\xff"
            "er\0secret",
            13),                        // not UTF-8
      bytes("\0user\0se\xc3", 9),       // truncated UTF-8 sequence
      bytes("\xc0\xaf\0user\0pw", 10),  // overlong form in authzid
  };
  for (const std::string& payload : cases) {
    Harness h("PLAIN");
    h.client(payload);
    CHECK(h.anomaly_count(Anomaly::SASL_MALFORMED) == 1);
    CHECK_FALSE(h.has(Anomaly::SASL_PLAIN_NUL_COUNT));
    CHECK(h.find(Field::SASL_PLAIN_AUTHCID) != nullptr);
  }
  Harness h("PLAIN");
  h.server("unexpected");
  CHECK(h.has(Anomaly::SASL_MALFORMED));
  h.expect(Field::SASL_UNKNOWN_PAYLOAD, "unexpected", 0, 10);
}

TEST_CASE("PLAIN: long values are decoded, not truncated", "[sasl]") {
  Harness h("PLAIN");
  const std::string user(300, 'u'), password(5000, 'p');
  h.client(std::string(1, '\0') + user + std::string(1, '\0') + password);
  CHECK(h.clean());
  h.expect(Field::AUTH_USERNAME, user, 1, 300);
  h.expect(Field::AUTH_PASSWORD, password, 302, 5000, item_secret);
}

TEST_CASE("LOGIN: prompts, user name, password", "[sasl]") {
  Harness h("LOGIN");
  h.server("Username:");
  h.expect(Field::SASL_LOGIN_PROMPT, "Username:", 0, 9);
  h.client("tim");
  h.expect(Field::SASL_LOGIN_USERNAME, "tim", 0, 3);
  h.expect(Field::AUTH_USERNAME, "tim", 0, 3);
  CHECK(h.find(Field::AUTH_PASSWORD) == nullptr);
  h.server("Password:");
  h.expect(Field::SASL_LOGIN_PROMPT, "Password:", 0, 9);
  h.client("tanstaaf");
  h.expect(Field::SASL_LOGIN_PASSWORD, "tanstaaf", 0, 8, item_secret);
  h.expect(Field::AUTH_PASSWORD, "tanstaaf", 0, 8, item_secret);
  CHECK(h.clean());
  CHECK(h.exchange.credentials().username == "tim");
  CHECK(h.exchange.credentials().password == "tanstaaf");
  CHECK(h.exchange.verify("tanstaaf") == true);
  CHECK(h.exchange.verify("tanstaa") == false);
}

TEST_CASE("LOGIN: user name as initial response, Microsoft-style prompts", "[sasl]") {
  Harness h("LOGIN");
  h.client("tim");
  h.expect(Field::SASL_LOGIN_USERNAME, "tim", 0, 3);
  h.server(bytes("Password\0", 9));
  h.expect(Field::SASL_LOGIN_PROMPT, bytes("Password\0", 9), 0, 9);
  h.client("pw");
  h.expect(Field::SASL_LOGIN_PASSWORD, "pw", 0, 2, item_secret);
  CHECK(h.clean());
}

TEST_CASE("LOGIN: the prompt decides what the answer is", "[sasl]") {
  Harness h("LOGIN");
  h.server("Password:");  // a server that asks for the password first
  h.client("pw");
  h.expect(Field::SASL_LOGIN_PASSWORD, "pw", 0, 2, item_secret);
  h.server("User Name");
  h.client("tim");
  h.expect(Field::SASL_LOGIN_USERNAME, "tim", 0, 3);
  CHECK(h.clean());
  h.client("more");
  CHECK(h.anomaly_count(Anomaly::SASL_STEP_COUNT) == 1);
  h.expect(Field::SASL_UNKNOWN_PAYLOAD, "more", 0, 4);
}

TEST_CASE("CRAM-MD5: RFC 2195 section 2 example", "[sasl]") {
  Harness h("CRAM-MD5");
  h.server("<1896.697170952@postoffice.reston.mci.net>");
  h.expect(Field::SASL_CRAM_CHALLENGE, "<1896.697170952@postoffice.reston.mci.net>", 0, 42);
  CHECK_FALSE(h.exchange.verify("tanstaaftanstaaf").has_value());
  h.client("tim b913a602c7eda7a495b4e6e7334d3890");
  CHECK(h.clean());
  h.expect(Field::SASL_CRAM_USERNAME, "tim", 0, 3);
  h.expect(Field::AUTH_USERNAME, "tim", 0, 3);
  h.expect(Field::SASL_CRAM_DIGEST, "b913a602c7eda7a495b4e6e7334d3890", 4, 32);
  h.expect(Field::AUTH_SECRET, "b913a602c7eda7a495b4e6e7334d3890", 4, 32);
  CHECK(h.exchange.credentials().username == "tim");
  CHECK(h.exchange.credentials().secret == "b913a602c7eda7a495b4e6e7334d3890");
  CHECK(h.exchange.verify("tanstaaftanstaaf") == true);
  CHECK(h.exchange.verify("tanstaaf") == false);
}

TEST_CASE("CRAM-MD5: user names with spaces and malformed answers", "[sasl]") {
  {
    Harness h("CRAM-MD5");
    h.server("<1.2@host>");
    h.client("Tim Smith b913a602c7eda7a495b4e6e7334d3890");
    CHECK(h.clean());
    h.expect(Field::SASL_CRAM_USERNAME, "Tim Smith", 0, 9);
    h.expect(Field::SASL_CRAM_DIGEST, "b913a602c7eda7a495b4e6e7334d3890", 10, 32);
  }
  const char* malformed[] = {
      "tim b913a602c7eda7a495b4e6e7334d389",    // 31 digits
      "tim b913a602c7eda7a495b4e6e7334d38900",  // 33 digits
      "tim b913a602c7eda7a495b4e6e7334d389g",   // not hex
      " b913a602c7eda7a495b4e6e7334d3890",      // no user
      "tim ",                                   // no digest
  };
  for (const char* payload : malformed) {
    INFO(payload);
    Harness h("CRAM-MD5");
    h.server("<1.2@host>");
    h.client(payload);
    CHECK(h.anomaly_count(Anomaly::SASL_MALFORMED) == 1);
    CHECK(h.find(Field::SASL_CRAM_DIGEST) != nullptr);
  }
  {
    Harness h("CRAM-MD5");
    h.server("<1.2@host>");
    h.client("b913a602c7eda7a495b4e6e7334d3890");  // no space
    CHECK(h.has(Anomaly::SASL_MALFORMED));
    h.expect(Field::SASL_UNKNOWN_PAYLOAD, "b913a602c7eda7a495b4e6e7334d3890", 0, 32);
    CHECK_FALSE(h.exchange.verify("x").has_value());
  }
  {
    Harness h("CRAM-MD5");
    h.server("");  // the challenge must carry data
    CHECK(h.has(Anomaly::SASL_MALFORMED));
  }
  {
    Harness h("CRAM-MD5");  // no challenge seen: the digest cannot be checked
    h.client("tim b913a602c7eda7a495b4e6e7334d3890");
    CHECK_FALSE(h.exchange.verify("tanstaaftanstaaf").has_value());
  }
}

TEST_CASE("EXTERNAL: authorization identity, possibly empty", "[sasl]") {
  {
    Harness h("EXTERNAL");
    h.client("user");
    CHECK(h.clean());
    h.expect(Field::SASL_EXTERNAL_AUTHZID, "user", 0, 4);
    h.expect(Field::AUTH_AUTHZID, "user", 0, 4);
    CHECK(h.exchange.credentials().authzid == "user");
    CHECK_FALSE(h.exchange.verify("x").has_value());
  }
  {
    Harness h("EXTERNAL");
    h.server("");
    h.client("");
    CHECK(h.clean());
    CHECK(h.items().empty());
  }
  {
    Harness h("EXTERNAL");
    h.client(
        "us\xfe"
        "er");
    CHECK(h.has(Anomaly::SASL_MALFORMED));
  }
}

TEST_CASE("ANONYMOUS: RFC 4505 trace", "[sasl]") {
  {
    Harness h("ANONYMOUS");
    h.server("");
    h.client("sirhc");
    CHECK(h.clean());
    h.expect(Field::SASL_ANONYMOUS_TRACE, "sirhc", 0, 5);
    CHECK(h.find(Field::AUTH_USERNAME) == nullptr);
  }
  {
    Harness h("ANONYMOUS");
    h.client(std::string(255, 'a'));
    CHECK(h.clean());
    h.client("x");
    CHECK(h.has(Anomaly::SASL_STEP_COUNT));
  }
  {
    Harness h("ANONYMOUS");
    h.client(std::string(256, 'a'));
    CHECK(h.has(Anomaly::SASL_MALFORMED));
  }
  {
    Harness h("ANONYMOUS");
    std::string trace;
    for (int i = 0; i < 255; ++i) trace += "\xc3\xa9";  // 255 characters, 510 octets
    h.client(trace);
    CHECK(h.clean());
  }
}

TEST_CASE("GSSAPI: tokens as bytes", "[sasl]") {
  Harness h("GSSAPI");
  h.server("");
  CHECK(h.items().empty());
  const std::string token =
      bytes("\x60\x82\x02\x10\x06\x09\x2a\x86\x48\x86\xf7\x12\x01\x02\x02", 15);
  h.client(token);
  h.expect(Field::SASL_GSSAPI_TOKEN, token, 0, token.size());
  h.server(bytes("\x60\x0b\x06\x09", 4));
  h.expect(Field::SASL_GSSAPI_TOKEN, bytes("\x60\x0b\x06\x09", 4), 0, 4);
  h.client("");
  CHECK(h.items().empty());
  CHECK(h.clean());
  CHECK_FALSE(h.exchange.verify("x").has_value());
}

TEST_CASE("unknown mechanism: payloads as bytes, any number of steps", "[sasl]") {
  Harness h("X-FANCY");
  CHECK(h.exchange.mechanism() == sasl::Mechanism::unknown);
  for (int i = 0; i < 20; ++i) {
    h.server("challenge");
    h.expect(Field::SASL_UNKNOWN_PAYLOAD, "challenge", 0, 9);
    h.client(bytes("resp\0onse", 9));
    h.expect(Field::SASL_UNKNOWN_PAYLOAD, bytes("resp\0onse", 9), 0, 9);
    CHECK(h.clean());
  }
  h.client("");
  CHECK(h.items().empty());
  CHECK(h.exchange.client_steps() == 21);
  CHECK(h.exchange.server_steps() == 20);
  CHECK_FALSE(h.exchange.verify("x").has_value());
}

TEST_CASE("step limits: each extra step reported once", "[sasl]") {
  Harness h("PLAIN");
  h.client(bytes("\0u\0p", 4));
  CHECK(h.clean());
  h.client("again");
  CHECK(h.anomaly_count(Anomaly::SASL_STEP_COUNT) == 1);
  h.expect(Field::SASL_UNKNOWN_PAYLOAD, "again", 0, 5);
  h.client("");
  CHECK(h.anomaly_count(Anomaly::SASL_STEP_COUNT) == 1);
  CHECK(h.items().empty());
  h.server("");
  CHECK(h.clean());  // the empty challenge: one server step is allowed
  h.server("x");
  CHECK(h.anomaly_count(Anomaly::SASL_STEP_COUNT) == 1);
  CHECK(h.exchange.client_steps() == 3);
  CHECK(h.exchange.server_steps() == 2);
  // The credentials of the real step stay.
  CHECK(h.exchange.credentials().username == "u");
}

TEST_CASE("exchange: copies are independent, moved-from exchanges are inert", "[sasl]") {
  Harness h("LOGIN");
  h.client("tim");
  sasl::Exchange copy = h.exchange;
  h.client("pw1");
  CHECK(h.exchange.credentials().password == "pw1");
  CHECK(copy.credentials().password.empty());
  CHECK(copy.client_steps() == 1);
  copy = h.exchange;
  CHECK(copy.credentials().password == "pw1");
  sasl::Exchange moved = std::move(copy);
  CHECK(moved.credentials().username == "tim");
  CHECK(moved.mechanism() == sasl::Mechanism::login);
  // A moved-from exchange must stay safe to use.
  CHECK(copy.mechanism() == sasl::Mechanism::unknown);  // NOLINT(bugprone-use-after-move)
  CHECK(copy.credentials().username.empty());
  CHECK_FALSE(copy.verify("pw1").has_value());
  EventBuilder out;
  const uint32_t source = out.add_buffer("x", 0, 1);
  copy.client_step("x", sasl::Step{out, source, -1, 0, 1});
  CHECK(out.items().empty());
}

TEST_CASE("exchange: payload not in the step's buffer is copied", "[sasl]") {
  sasl::Exchange exchange("PLAIN");
  EventBuilder out;
  const std::string payload("\0u\0p", 4);
  {
    std::string temporary = payload;
    exchange.client_step(temporary, sasl::Step{out, 0, -1, 5, 8});
    temporary.assign(4, 'x');  // the items must not point here
  }
  const pop3decode::Item* user = nullptr;
  for (const auto& item : out.items())
    if (item.field == Field::AUTH_USERNAME) user = &item;
  REQUIRE(user != nullptr);
  CHECK(user->text == "u");
}
