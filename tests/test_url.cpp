// POP URL parsing (RFC 2384) and the commands a URL implies.
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "catch_compat.hpp"
#include "pop3decode/url.hpp"

using pop3decode::parse_pop_url;
using pop3decode::PopUrl;
using Commands = std::vector<std::string>;

namespace {

bool parses(std::string_view text) {
  return parse_pop_url(text).has_value();
}

PopUrl parse_valid(std::string_view text) {
  INFO("url: " << text);
  auto parsed = parse_pop_url(text);
  REQUIRE(parsed);
  return *parsed;
}

// What every accepted URL must satisfy, whatever the input was.
void check_invariants(const PopUrl& url) {
  CHECK(!url.host.empty());
  CHECK(url.has_user == !url.user.empty());
  CHECK(url.has_auth == !url.auth.empty());
  for (const std::string& command : url.commands()) {
    for (const char c : command) {
      const auto byte = static_cast<unsigned char>(c);
      CHECK(byte >= 0x20);
      CHECK(byte != 0x7F);
    }
  }
}

}  // namespace

TEST_CASE("RFC 2384 section 7 examples", "[url]") {
  SECTION("user name only: USER/PASS on the default port") {
    const PopUrl url = parse_valid("pop://rg@mailsrv.qualcomm.com");
    CHECK(url.user == "rg");
    CHECK(url.has_user);
    CHECK_FALSE(url.has_auth);
    CHECK(url.auth.empty());
    CHECK(url.host == "mailsrv.qualcomm.com");
    CHECK(url.port == 110);
    CHECK(url.commands() == Commands{"USER rg", "PASS <password>"});
  }
  SECTION("APOP on port 8110") {
    const PopUrl url = parse_valid("pop://rg;AUTH=+APOP@mail.eudora.com:8110");
    CHECK(url.user == "rg");
    CHECK(url.auth == "+APOP");
    CHECK(url.has_auth);
    CHECK(url.host == "mail.eudora.com");
    CHECK(url.port == 8110);
    CHECK(url.commands() == Commands{"APOP rg <digest>"});
  }
  SECTION("a SASL mechanism") {
    const PopUrl url = parse_valid("pop://baz;AUTH=SCRAM-MD5@foo.bar");
    CHECK(url.user == "baz");
    CHECK(url.auth == "SCRAM-MD5");
    CHECK(url.host == "foo.bar");
    CHECK(url.port == 110);
    CHECK(url.commands() == Commands{"AUTH SCRAM-MD5"});
  }
}

TEST_CASE("POP URL scheme name", "[url]") {
  CHECK(parses("pop://host"));
  CHECK(parses("POP://host"));
  CHECK(parses("Pop://host"));
  CHECK_FALSE(parses(""));
  CHECK_FALSE(parses("pop"));
  CHECK_FALSE(parses("pop:"));
  CHECK_FALSE(parses("pop:/host"));
  CHECK_FALSE(parses("pop:host"));
  CHECK_FALSE(parses("pops://host"));
  CHECK_FALSE(parses("imap://host"));
  CHECK_FALSE(parses("http://host"));
  CHECK_FALSE(parses(" pop://host"));
  CHECK_FALSE(parses("pop://host "));
  CHECK_FALSE(parses("pop:\\\\host"));
}

TEST_CASE("POP URL without user or mechanism", "[url]") {
  const PopUrl url = parse_valid("pop://pop.example.net");
  CHECK_FALSE(url.has_user);
  CHECK_FALSE(url.has_auth);
  CHECK(url.host == "pop.example.net");
  CHECK(url.port == 110);
  // The client has to ask for the user name (RFC 2384 section 4): the placeholder stays.
  CHECK(url.commands() == Commands{"USER <user>", "PASS <password>"});
}

TEST_CASE("POP URL ports", "[url]") {
  CHECK(parse_valid("pop://h:110").port == 110);
  CHECK(parse_valid("pop://h:995").port == 995);
  CHECK(parse_valid("pop://h:0").port == 0);
  CHECK(parse_valid("pop://h:65535").port == 65535);
  CHECK(parse_valid("pop://h:00110").port == 110);
  CHECK(parse_valid("pop://u@h:1").port == 1);
  CHECK_FALSE(parses("pop://h:65536"));
  CHECK_FALSE(parses("pop://h:99999"));
  CHECK_FALSE(parses("pop://h:18446744073709551727"));  // 2^64 + 111: no wrap-around
  CHECK_FALSE(parses("pop://h:4294967406"));            // 2^32 + 110
  CHECK_FALSE(parses("pop://h:"));
  CHECK_FALSE(parses("pop://h:-1"));
  CHECK_FALSE(parses("pop://h:+110"));
  CHECK_FALSE(parses("pop://h:11a"));
  CHECK_FALSE(parses("pop://h:0x6e"));
  CHECK_FALSE(parses("pop://h: 110"));
  CHECK_FALSE(parses("pop://h:110:110"));
  CHECK_FALSE(parses("pop://h::110"));
}

TEST_CASE("POP URL AUTH= parameter", "[url]") {
  SECTION("the parameter name is case-insensitive") {
    CHECK(parse_valid("pop://u;auth=PLAIN@h").auth == "PLAIN");
    CHECK(parse_valid("pop://u;Auth=PLAIN@h").auth == "PLAIN");
    CHECK(parse_valid("pop://u;aUtH=PLAIN@h").auth == "PLAIN");
  }
  SECTION("* lets the client choose: USER/PASS is given") {
    const PopUrl url = parse_valid("pop://joe;AUTH=*@h");
    CHECK(url.auth == "*");
    CHECK(url.has_auth);
    CHECK(url.commands() == Commands{"USER joe", "PASS <password>"});
    // An escaped "*" decodes to the same thing and means the same.
    CHECK(parse_valid("pop://joe;AUTH=%2A@h").auth == "*");
    CHECK(parse_valid("pop://joe;AUTH=%2A@h").commands() ==
          Commands{"USER joe", "PASS <password>"});
  }
  SECTION("+APOP in any case") {
    const PopUrl url = parse_valid("pop://joe;auth=+apop@h");
    CHECK(url.auth == "+apop");
    CHECK(url.commands() == Commands{"APOP joe <digest>"});
    CHECK(parse_valid("pop://joe;AUTH=%2BAPOP@h").commands() == Commands{"APOP joe <digest>"});
  }
  SECTION("an extension mechanism other than APOP: its command is unknown") {
    const PopUrl url = parse_valid("pop://joe;AUTH=+X-TOKEN@h");
    CHECK(url.auth == "+X-TOKEN");
    CHECK(url.commands().empty());
  }
  SECTION("SASL mechanisms are sent as given") {
    CHECK(parse_valid("pop://u;AUTH=CRAM-MD5@h").commands() == Commands{"AUTH CRAM-MD5"});
    CHECK(parse_valid("pop://u;AUTH=scram-sha-256@h").commands() == Commands{"AUTH scram-sha-256"});
    CHECK(parse_valid("pop://u;AUTH=X_OAUTH2@h").commands() == Commands{"AUTH X_OAUTH2"});
    CHECK(parse_valid("pop://u;AUTH=SCRAM%2DSHA%2D1@h").auth == "SCRAM-SHA-1");
    CHECK(parses("pop://u;AUTH=ABCDEFGHIJKLMNOPQRST@h"));  // 20 characters
    CHECK_FALSE(parses("pop://u;AUTH=ABCDEFGHIJKLMNOPQRSTU@h"));
  }
  SECTION("malformed parameters") {
    CHECK_FALSE(parses("pop://u;AUTH=@h"));
    CHECK_FALSE(parses("pop://u;AUTH@h"));
    CHECK_FALSE(parses("pop://u;AUTH=+@h"));
    CHECK_FALSE(parses("pop://u;AUTH=++APOP@h"));
    CHECK_FALSE(parses("pop://u;AUTH=**@h"));
    CHECK_FALSE(parses("pop://u;@h"));
    CHECK_FALSE(parses("pop://u;;AUTH=PLAIN@h"));
    CHECK_FALSE(parses("pop://u;TYPE=PLAIN@h"));
    CHECK_FALSE(parses("pop://u;AUTH=PLAIN;AUTH=LOGIN@h"));
    CHECK_FALSE(parses("pop://u;AUTH =PLAIN@h"));
    CHECK_FALSE(parses("pop://u;AUTH=PLAIN%20X@h"));        // not a mechanism name
    CHECK_FALSE(parses("pop://u;AUTH=PLAIN%0D%0AQUIT@h"));  // command injection
    CHECK_FALSE(parses("pop://u;AUTH=PL.AIN@h"));
    CHECK_FALSE(parses("pop://u;AUTH=PLAIN%@h"));
    CHECK_FALSE(parses("pop://u%3BAUTH=PLAIN;AUTH=%@h"));
  }
}

TEST_CASE("POP URL without user but with a mechanism", "[url]") {
  const PopUrl apop = parse_valid("pop://;AUTH=+APOP@h");
  CHECK_FALSE(apop.has_user);
  CHECK(apop.auth == "+APOP");
  CHECK(apop.commands() == Commands{"APOP <user> <digest>"});
  CHECK(parse_valid("pop://;AUTH=*@h").commands() == Commands{"USER <user>", "PASS <password>"});
  CHECK(parse_valid("pop://;AUTH=GSSAPI@h").commands() == Commands{"AUTH GSSAPI"});
  CHECK_FALSE(parses("pop://@h"));  // enc-user is 1*achar
  CHECK_FALSE(parses("pop://;@h"));
}

TEST_CASE("POP URL percent-encoding of the user", "[url]") {
  SECTION("escapes decode, hex digits in either case") {
    CHECK(parse_valid("pop://fred%40example.com@h").user == "fred@example.com");
    CHECK(parse_valid("pop://a%3bb@h").user == "a;b");
    CHECK(parse_valid("pop://a%3Ab@h").user == "a:b");
    CHECK(parse_valid("pop://a%2fb@h").user == "a/b");
    CHECK(parse_valid("pop://%25@h").user == "%");
    CHECK(parse_valid("pop://%2541@h").user == "%41");  // decoded once only
    CHECK(parse_valid("pop://John%20Smith@h").user == "John Smith");
    CHECK(parse_valid("pop://%C3%A9t%C3%A9@h").user == "\xC3\xA9t\xC3\xA9");  // UTF-8, sec. 6
    CHECK(parse_valid("pop://fred%40example.com;AUTH=+APOP@h").commands() ==
          Commands{"APOP fred@example.com <digest>"});
  }
  SECTION("every achar is allowed unescaped") {
    const PopUrl url = parse_valid("pop://aZ09$-_.+!*'(),&=~@h");
    CHECK(url.user == "aZ09$-_.+!*'(),&=~");
    CHECK(url.commands() == Commands{"USER aZ09$-_.+!*'(),&=~", "PASS <password>"});
  }
  SECTION("malformed escapes") {
    CHECK_FALSE(parses("pop://%@h"));
    CHECK_FALSE(parses("pop://a%@h"));
    CHECK_FALSE(parses("pop://a%4@h"));
    CHECK_FALSE(parses("pop://a%4g@h"));
    CHECK_FALSE(parses("pop://a%G4@h"));
    CHECK_FALSE(parses("pop://a%%41@h"));
    CHECK_FALSE(parses("pop://a%-1@h"));
    CHECK_FALSE(parses("pop://a% 41@h"));
  }
  SECTION("characters outside achar must be escaped") {
    CHECK_FALSE(parses("pop://user:secret@h"));  // clear text password, RFC 2384 section 3
    CHECK_FALSE(parses("pop://user:@h"));
    CHECK_FALSE(parses("pop://a b@h"));
    CHECK_FALSE(parses("pop://a/b@h"));
    CHECK_FALSE(parses("pop://a?b@h"));
    CHECK_FALSE(parses("pop://a#b@h"));
    CHECK_FALSE(parses("pop://a\"b@h"));
    CHECK_FALSE(parses("pop://a<b@h"));
    CHECK_FALSE(parses("pop://a[b@h"));
    CHECK_FALSE(parses("pop://a@b@h"));
    CHECK_FALSE(parses("pop://\xC3\xA9@h"));  // raw 8-bit bytes
    CHECK_FALSE(parses(std::string_view("pop://a\0b@h", 12)));
  }
  SECTION("decoded control characters would break the command line") {
    CHECK_FALSE(parses("pop://joe%0D%0ADELE%201@h"));
    CHECK_FALSE(parses("pop://joe%0A@h"));
    CHECK_FALSE(parses("pop://joe%00@h"));
    CHECK_FALSE(parses("pop://joe%09@h"));
    CHECK_FALSE(parses("pop://joe%7F@h"));
    CHECK_FALSE(parses("pop://joe%1f@h"));
  }
}

TEST_CASE("POP URL host names and IPv4 addresses", "[url]") {
  CHECK(parse_valid("pop://localhost").host == "localhost");
  CHECK(parse_valid("pop://a").host == "a");
  CHECK(parse_valid("pop://Mail.Example.COM").host == "Mail.Example.COM");  // kept as written
  CHECK(parse_valid("pop://mail-1.x-y.example").host == "mail-1.x-y.example");
  CHECK(parse_valid("pop://1mail.example").host == "1mail.example");
  CHECK(parse_valid("pop://192.0.2.1").host == "192.0.2.1");
  CHECK(parse_valid("pop://0.0.0.0:1").host == "0.0.0.0");
  CHECK(parse_valid("pop://255.255.255.255").host == "255.255.255.255");
  CHECK(parse_valid("pop://u@198.51.100.7:8110").port == 8110);

  CHECK_FALSE(parses("pop://"));
  CHECK_FALSE(parses("pop://:110"));
  CHECK_FALSE(parses("pop://rg@"));
  CHECK_FALSE(parses("pop://rg@:110"));
  CHECK_FALSE(parses("pop://rg;AUTH=*@"));
  CHECK_FALSE(parses("pop://example.com."));  // RFC 1738 has no trailing dot
  CHECK_FALSE(parses("pop://.example.com"));
  CHECK_FALSE(parses("pop://a..b"));
  CHECK_FALSE(parses("pop://-a.example"));
  CHECK_FALSE(parses("pop://a-.example"));
  CHECK_FALSE(parses("pop://a.-b"));
  CHECK_FALSE(parses("pop://a_b.example"));
  CHECK_FALSE(parses("pop://a%2Eb"));  // no escapes in the host
  CHECK_FALSE(parses("pop://ex ample.com"));
  CHECK_FALSE(parses("pop://3com"));  // a toplabel starts with a letter (RFC 1738)
  CHECK_FALSE(parses("pop://example.123"));
  CHECK_FALSE(parses("pop://256.1.1.1"));
  CHECK_FALSE(parses("pop://1.2.3.256"));
  CHECK_FALSE(parses("pop://1.2.3"));
  CHECK_FALSE(parses("pop://1.2.3.4.5"));
  CHECK_FALSE(parses("pop://010.0.0.1"));  // octal to some resolvers
  CHECK_FALSE(parses("pop://1.2.3.04"));
  CHECK_FALSE(parses("pop://1.2.3.4."));
  CHECK_FALSE(parses("pop://0x7f.0.0.1"));

  const std::string label_63(63, 'a');
  const std::string label_64(64, 'a');
  CHECK(parses("pop://" + label_63 + ".example"));
  CHECK_FALSE(parses("pop://" + label_64 + ".example"));
  std::string name_253 = label_63 + "." + label_63 + "." + label_63 + "." + std::string(61, 'b');
  REQUIRE(name_253.size() == 253);
  CHECK(parses("pop://" + name_253));
  CHECK_FALSE(parses("pop://" + name_253 + "b"));
}

TEST_CASE("POP URL IPv6 literals", "[url]") {
  SECTION("accepted forms; the host is stored without brackets") {
    const PopUrl loopback = parse_valid("pop://[::1]");
    CHECK(loopback.host == "::1");
    CHECK(loopback.port == 110);
    const PopUrl with_port = parse_valid("pop://rg;AUTH=+APOP@[2001:db8::7]:8110");
    CHECK(with_port.host == "2001:db8::7");
    CHECK(with_port.port == 8110);
    CHECK(with_port.commands() == Commands{"APOP rg <digest>"});
    CHECK(parse_valid("pop://[::]").host == "::");
    CHECK(parse_valid("pop://[1:2:3:4:5:6:7:8]").host == "1:2:3:4:5:6:7:8");
    CHECK(parse_valid("pop://[1:2:3:4:5:6:7::]").host == "1:2:3:4:5:6:7::");
    CHECK(parse_valid("pop://[::2:3:4:5:6:7:8]").host == "::2:3:4:5:6:7:8");
    CHECK(parse_valid("pop://[FE80::ABCD:ef01]").host == "FE80::ABCD:ef01");
    CHECK(parse_valid("pop://[::ffff:192.0.2.1]").host == "::ffff:192.0.2.1");
    CHECK(parse_valid("pop://[1:2:3:4:5:6:192.0.2.1]").host == "1:2:3:4:5:6:192.0.2.1");
    CHECK(parse_valid("pop://[0000:0000:0000:0000:0000:0000:0000:0001]:995").port == 995);
  }
  SECTION("rejected forms") {
    CHECK_FALSE(parses("pop://::1"));  // brackets are required
    CHECK_FALSE(parses("pop://[]"));
    CHECK_FALSE(parses("pop://[::1"));
    CHECK_FALSE(parses("pop://::1]"));
    CHECK_FALSE(parses("pop://[::1]]"));
    CHECK_FALSE(parses("pop://[[::1]]"));
    CHECK_FALSE(parses("pop://[::1]x"));
    CHECK_FALSE(parses("pop://[::1]:"));
    CHECK_FALSE(parses("pop://[::1]:65536"));
    CHECK_FALSE(parses("pop://[::1]/"));
    CHECK_FALSE(parses("pop://[:]"));
    CHECK_FALSE(parses("pop://[:::]"));
    CHECK_FALSE(parses("pop://[:1]"));
    CHECK_FALSE(parses("pop://[1:]"));
    CHECK_FALSE(parses("pop://[1::2::3]"));
    CHECK_FALSE(parses("pop://[1:2:3:4:5:6:7]"));
    CHECK_FALSE(parses("pop://[1:2:3:4:5:6:7:8:9]"));
    CHECK_FALSE(parses("pop://[1:2:3:4:5:6:7:8::]"));
    CHECK_FALSE(parses("pop://[::1:2:3:4:5:6:7:8]"));
    CHECK_FALSE(parses("pop://[12345::]"));
    CHECK_FALSE(parses("pop://[g::]"));
    CHECK_FALSE(parses("pop://[::1%25eth0]"));  // zone identifiers are not accepted
    CHECK_FALSE(parses("pop://[v1.fe]"));       // nor IPvFuture
    CHECK_FALSE(parses("pop://[192.0.2.1]"));
    CHECK_FALSE(parses("pop://[192.0.2.1::]"));
    CHECK_FALSE(parses("pop://[::192.0.2.1:1]"));
    CHECK_FALSE(parses("pop://[::ffff:192.0.2.256]"));
    CHECK_FALSE(parses("pop://[1:2:3:4:5:6:7:192.0.2.1]"));
    CHECK_FALSE(parses("pop://[ ::1]"));
  }
}

TEST_CASE("POP URL with anything after the host and port", "[url]") {
  CHECK_FALSE(parses("pop://host/"));
  CHECK_FALSE(parses("pop://host/INBOX"));
  CHECK_FALSE(parses("pop://host:110/"));
  CHECK_FALSE(parses("pop://rg@host/x"));
  CHECK_FALSE(parses("pop://host?x=1"));
  CHECK_FALSE(parses("pop://host#frag"));
  CHECK_FALSE(parses("pop://host;AUTH=*"));
  CHECK_FALSE(parses("pop://host\r\n"));
  CHECK_FALSE(parses("pop://host/a@b"));
}

TEST_CASE("PopUrl::commands on hand-built values", "[url]") {
  PopUrl url;
  url.host = "h";
  CHECK(url.commands() == Commands{"USER <user>", "PASS <password>"});
  url.has_auth = true;  // inconsistent: has_auth without a mechanism counts as none
  CHECK(url.commands() == Commands{"USER <user>", "PASS <password>"});
  url.auth = "EXTERNAL";
  CHECK(url.commands() == Commands{"AUTH EXTERNAL"});
}

TEST_CASE("POP URL parsing never fails badly on short inputs", "[url]") {
  SECTION("every string up to 4 characters from the significant characters, after pop://") {
    constexpr std::string_view alphabet = "a1%;=@:[].*+/-A";
    std::size_t accepted = 0;
    std::string suffix;
    for (std::size_t length = 0; length <= 4; ++length) {
      std::vector<std::size_t> digits(length, 0);
      while (true) {
        suffix.clear();
        for (const std::size_t digit : digits) suffix.push_back(alphabet[digit]);
        const std::string text = "pop://" + suffix;
        if (const auto parsed = parse_pop_url(text)) {
          ++accepted;
          INFO("url: " << text);
          check_invariants(*parsed);
        }
        std::size_t position = 0;
        while (position < length && ++digits[position] == alphabet.size()) {
          digits[position++] = 0;
        }
        if (position == length) break;
      }
    }
    CHECK(accepted > 0);
  }
  SECTION("random short inputs, arbitrary bytes and URL-like text") {
    std::mt19937 random(2384);
    constexpr std::string_view url_characters = "aZ09%;=@:[].*+/-~_AUTHapo";
    std::uniform_int_distribution<int> any_byte(0, 255);
    std::uniform_int_distribution<std::size_t> pick_url_character(0, url_characters.size() - 1);
    std::uniform_int_distribution<std::size_t> pick_length(0, 24);
    for (int round = 0; round < 200000; ++round) {
      std::string text = (round % 2 == 0) ? "pop://" : "";
      const std::size_t length = pick_length(random);
      const bool url_like = round % 4 < 2;
      for (std::size_t i = 0; i < length; ++i) {
        text.push_back(url_like ? url_characters[pick_url_character(random)]
                                : static_cast<char>(any_byte(random)));
      }
      if (const auto parsed = parse_pop_url(text)) {
        INFO("url: " << text);
        check_invariants(*parsed);
      }
    }
  }
}
