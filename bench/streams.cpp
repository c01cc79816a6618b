#include "streams.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <pop3decode/sasl.hpp>
#include <string_view>

namespace pop3bench {
namespace {

using pop3decode::Direction;

constexpr std::string_view base64_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<std::string_view, 48> words{
    {"the",      "message", "server",   "mailbox",  "attached", "report", "meeting", "please",
     "review",   "quarter", "budget",   "and",      "of",       "to",     "in",      "for",
     "with",     "regards", "thanks",   "update",   "project",  "draft",  "final",   "numbers",
     "schedule", "team",    "customer", "invoice",  "delivery", "office", "monday",  "friday",
     "agenda",   "minutes", "notes",    "question", "answer",   "week",   "month",   "year",
     "is",       "are",     "was",      "will",     "be",       "a",      "an",      "this"}};

// Lines that start with "." in real mail: quoted signatures, ellipses, "." alone in prose.
constexpr std::array<std::string_view, 4> dot_starts{{".", "...", ".signature", ".."}};

void crlf(std::string& out) {
  out.append("\r\n");
}

void text_line(std::string& out, Rng& rng) {
  const size_t target = 40 + rng.below(37);  // 40..76 characters
  const size_t start = out.size();
  if (rng.below(100) == 0) out.append(dot_starts[rng.below(dot_starts.size())]);
  while (out.size() - start < target) {
    if (out.size() != start && out.back() != '.') out.push_back(' ');
    out.append(words[rng.below(words.size())]);
  }
  if (rng.below(6) == 0) out.push_back('.');
  crlf(out);
}

void base64_lines(std::string& out, size_t bytes, Rng& rng) {
  // `bytes` of decoded attachment: 57 bytes per 76-character line.
  size_t chars = (bytes + 2) / 3 * 4;
  while (chars > 0) {
    const size_t n = std::min<size_t>(chars, 76);
    for (size_t i = 0; i < n; ++i) out.push_back(base64_alphabet[rng.below(64)]);
    if (n < 76 && n >= 2) {
      out[out.size() - 1] = '=';
    }
    chars -= n;
    crlf(out);
  }
}

void header(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append(": ").append(value);
  crlf(out);
}

std::string nonce(Rng& rng, size_t n) {
  // SCRAM nonces: printable ASCII except ","; most clients use base64-ish characters.
  std::string s;
  for (size_t i = 0; i < n; ++i) s.push_back(base64_alphabet[rng.below(64)]);
  return s;
}

std::string random_bytes(Rng& rng, size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s.push_back(static_cast<char>(rng.below(256)));
  return s;
}

class Builder {
 public:
  explicit Builder(Conversation& c) : c_(c) {}
  void session() {
    pending_new_ = true;
    ++c_.sessions;
  }
  void client(std::string_view bytes) { add(Direction::client_to_server, c_.client, bytes); }
  void server(std::string_view bytes) { add(Direction::server_to_client, c_.server, bytes); }

 private:
  void add(Direction d, std::string& buffer, std::string_view bytes) {
    Turn t{d, buffer.size(), buffer.size() + bytes.size(), pending_new_};
    pending_new_ = false;
    buffer.append(bytes);
    c_.turns.push_back(t);
  }
  Conversation& c_;
  bool pending_new_ = false;
};

}  // namespace

uint64_t Conversation::lines() const noexcept {
  return static_cast<uint64_t>(std::count(client.begin(), client.end(), '\n') +
                               std::count(server.begin(), server.end(), '\n'));
}

void append_message(std::string& out, size_t size, Rng& rng) {
  const size_t start = out.size();
  header(out, "Return-Path", "<alice@example.org>");
  header(out, "Received",
         "from mx1.example.org (mx1.example.org [192.0.2.25])\r\n\tby mail.example.net "
         "(Postfix) with ESMTPS id 4T2kQ71xZ3z9sV\r\n\tfor <bob@example.net>; Mon, 1 Jan 2024 "
         "09:00:00 +0000 (UTC)");
  header(out, "From", "Alice Example <alice@example.org>");
  header(out, "To", "Bob Example <bob@example.net>");
  header(out, "Subject", "Quarterly report and attachments");
  header(out, "Date", "Mon, 1 Jan 2024 09:00:00 +0000");
  header(out, "Message-ID", "<20240101090000.4T2kQ71xZ3z9sV@mx1.example.org>");
  header(out, "MIME-Version", "1.0");
  header(out, "Content-Type", "multipart/mixed; boundary=\"=_boundary_7f3a\"");
  crlf(out);
  out.append("This is a multi-part message in MIME format.\r\n");
  size_t part = 0;
  while (out.size() - start < size) {
    const size_t left = size - (out.size() - start);
    out.append("\r\n--=_boundary_7f3a\r\n");
    if (part % 2 == 0) {
      out.append("Content-Type: text/plain; charset=utf-8\r\n\r\n");
      const size_t text = std::min<size_t>(left, 4096 + rng.below(8192));
      const size_t text_start = out.size();
      while (out.size() - text_start < text) text_line(out, rng);
    } else {
      out.append("Content-Type: application/pdf; name=\"report.pdf\"\r\n");
      out.append("Content-Transfer-Encoding: base64\r\n");
      out.append("Content-Disposition: attachment; filename=\"report.pdf\"\r\n\r\n");
      const size_t attachment = std::min<size_t>(left, 48 * 1024 + rng.below(32 * 1024));
      base64_lines(out, attachment * 3 / 4, rng);
    }
    ++part;
  }
  out.append("\r\n--=_boundary_7f3a--\r\n");
}

size_t append_dot_stuffed(std::string& out, const std::string& message) {
  size_t lines = 0;
  size_t pos = 0;
  while (pos < message.size()) {
    size_t end = message.find('\n', pos);
    end = end == std::string::npos ? message.size() : end + 1;
    if (message[pos] == '.') out.push_back('.');
    out.append(message, pos, end - pos);
    ++lines;
    pos = end;
  }
  return lines;
}

Conversation body_heavy(size_t messages, size_t message_size, uint64_t seed) {
  Conversation c;
  Builder b(c);
  Rng rng(seed);
  b.session();
  b.server("+OK Dovecot (Debian) ready. <64f3.24.6b0836bd.lHP2Zn/unPV4umsSurLbTg==@vm>\r\n");
  b.client("USER bob\r\n");
  b.server("+OK\r\n");
  b.client("PASS builder42\r\n");
  b.server("+OK Logged in.\r\n");
  b.client("STAT\r\n");
  b.server("+OK " + std::to_string(messages) + " " + std::to_string(messages * message_size) +
           "\r\n");
  for (size_t i = 1; i <= messages; ++i) {
    std::string message;
    append_message(message, message_size, rng);
    b.client("RETR " + std::to_string(i) + "\r\n");
    std::string response = "+OK " + std::to_string(message.size()) + " octets\r\n";
    append_dot_stuffed(response, message);
    response.append(".\r\n");
    b.server(response);
  }
  b.client("QUIT\r\n");
  b.server("+OK Logging out.\r\n");
  return c;
}

Conversation line_heavy(size_t mailbox, size_t commands, size_t batch, bool listings,
                        uint64_t seed) {
  Conversation c;
  Builder b(c);
  Rng rng(seed);
  std::vector<uint32_t> sizes(mailbox + 1);
  uint64_t total = 0;
  for (size_t i = 1; i <= mailbox; ++i) total += sizes[i] = 600 + rng.below(200000);
  auto uid = [](size_t i) {
    return std::to_string(1704000000 + 60 * i) + ".M" + std::to_string(i) +
           "P4217.mail,S=" + std::to_string(i * 7 % 99991);
  };
  b.session();
  b.server("+OK Dovecot (Debian) ready.\r\n");
  b.client("USER bob\r\nPASS builder42\r\n");  // pipelined login
  b.server("+OK\r\n+OK Logged in.\r\n");
  if (listings) {
    b.client("LIST\r\n");
    std::string listing = "+OK " + std::to_string(mailbox) + " messages:\r\n";
    for (size_t i = 1; i <= mailbox; ++i)
      listing.append(std::to_string(i) + " " + std::to_string(sizes[i]) + "\r\n");
    listing.append(".\r\n");
    b.server(listing);
    b.client("UIDL\r\n");
    listing = "+OK\r\n";
    for (size_t i = 1; i <= mailbox; ++i) listing.append(std::to_string(i) + " " + uid(i) + "\r\n");
    listing.append(".\r\n");
    b.server(listing);
  }
  size_t done = 0;
  while (done < commands) {
    std::string requests, responses;
    for (size_t k = 0; k < batch && done < commands; ++k, ++done) {
      const size_t n = 1 + rng.below(static_cast<uint32_t>(mailbox));
      switch (rng.below(5)) {
        case 0:
          requests += "DELE " + std::to_string(n) + "\r\n";
          responses += "+OK Marked to be deleted.\r\n";
          break;
        case 1:
          requests += "LIST " + std::to_string(n) + "\r\n";
          responses += "+OK " + std::to_string(n) + " " + std::to_string(sizes[n]) + "\r\n";
          break;
        case 2:
          requests += "UIDL " + std::to_string(n) + "\r\n";
          responses += "+OK " + std::to_string(n) + " " + uid(n) + "\r\n";
          break;
        case 3:
          requests += "NOOP\r\n";
          responses += "+OK\r\n";
          break;
        default:
          requests += "STAT\r\n";
          responses += "+OK " + std::to_string(mailbox) + " " + std::to_string(total) + "\r\n";
          break;
      }
    }
    b.client(requests);
    b.server(responses);
  }
  b.client("QUIT\r\n");
  b.server("+OK Logging out, messages deleted.\r\n");
  return c;
}

Conversation sasl_heavy(size_t sessions, uint64_t seed) {
  using pop3decode::sasl::encode_base64;
  Conversation c;
  Builder b(c);
  Rng rng(seed);
  for (size_t s = 0; s < sessions; ++s) {
    const std::string user = "user" + std::to_string(s) + "@example.net";
    b.session();
    b.server("+OK Dovecot (Debian) ready. <" + std::to_string(1000 + s) + "." +
             std::to_string(rng.below(1000000)) + "@mail.example.net>\r\n");
    b.client("CAPA\r\n");
    b.server(
        "+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\nUSER\r\n"
        "SASL PLAIN LOGIN SCRAM-SHA-1 SCRAM-SHA-256 OAUTHBEARER XOAUTH2\r\n.\r\n");
    if (s % 2 == 0) {
      const std::string password = nonce(rng, 16);
      b.client("AUTH PLAIN " +
               encode_base64(std::string("\0", 1) + user + std::string("\0", 1) + password) +
               "\r\n");
    } else {
      // RFC 7677 shapes: 24-character client nonce, 16-byte salt, 32-byte proof/signature.
      const std::string cnonce = nonce(rng, 24);
      const std::string snonce = cnonce + nonce(rng, 18);
      const std::string client_first = "n,,n=" + user + ",r=" + cnonce;
      const std::string server_first =
          "r=" + snonce + ",s=" + encode_base64(random_bytes(rng, 16)) + ",i=4096";
      const std::string client_final =
          "c=biws,r=" + snonce + ",p=" + encode_base64(random_bytes(rng, 32));
      const std::string server_final = "v=" + encode_base64(random_bytes(rng, 32));
      b.client("AUTH SCRAM-SHA-256\r\n");
      b.server("+ \r\n");
      b.client(encode_base64(client_first) + "\r\n");
      b.server("+ " + encode_base64(server_first) + "\r\n");
      b.client(encode_base64(client_final) + "\r\n");
      b.server("+ " + encode_base64(server_final) + "\r\n");
      b.client("\r\n");
    }
    b.server("+OK Logged in.\r\n");
    b.client("STAT\r\n");
    b.server("+OK " + std::to_string(rng.below(500)) + " " + std::to_string(rng.below(1u << 30)) +
             "\r\n");
    b.client("QUIT\r\n");
    b.server("+OK Logging out.\r\n");
  }
  return c;
}

}  // namespace pop3bench
