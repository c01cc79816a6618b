// libFuzzer target: POP URL parsing (RFC 2384) and the commands derived from it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "pop3decode/url.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto url = pop3decode::parse_pop_url(text);
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
