// libFuzzer target: POP URL parsing (RFC 2384) and the commands derived from it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "pop3decode/pop3decode.h"
#include "pop3decode/url.hpp"

namespace {

// The C ABI accepts exactly what the C++ parser accepts and gives the same parts.
void check_c_abi(std::string_view text, const std::optional<pop3decode::PopUrl>& url) {
  pop3d_url* c_url = nullptr;
  const int status = pop3d_url_parse(text.empty() ? "" : text.data(), text.size(), &c_url);
  if ((status == POP3D_OK) != url.has_value() || (c_url != nullptr) != url.has_value())
    std::abort();
  if (!c_url) return;
  std::string commands;
  for (const std::string& command : url->commands()) commands += command + "\r\n";
  if (url->user != pop3d_url_user(c_url) || url->auth != pop3d_url_auth(c_url) ||
      url->host != pop3d_url_host(c_url) || url->port != pop3d_url_port(c_url) ||
      commands != pop3d_url_commands(c_url))
    std::abort();
  pop3d_url_free(c_url);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto url = pop3decode::parse_pop_url(text);
  check_c_abi(text, url);
  if (!url) return 0;

  // Properties every accepted URL has (see url.hpp); a violation is a bug worth a crash.
  if (url->host.empty()) std::abort();
  if (url->has_user != !url->user.empty() || url->has_auth != !url->auth.empty()) std::abort();
  for (const std::string& command : url->commands()) {
    // A control character would end or split the command line on the wire.
    for (const char c : command) {
      const auto byte = static_cast<unsigned char>(c);
      if (byte < 0x20 || byte == 0x7F) std::abort();
    }
  }
  return 0;
}
