// catch_compat.hpp - the one Catch2 header the tests include: Catch2 v3's test macros and
// string matchers, or Catch2 v2's single header (Debian 12). tests/CMakeLists.txt says which
// one was found. pop3test::Contains is the substring matcher under either name.
#pragma once

#ifdef POP3DECODE_CATCH2_V3
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>
#include <string>
namespace pop3test {
using Catch::Matchers::ContainsSubstring;
inline auto Contains(const std::string& text) {
  return ContainsSubstring(text);
}
}  // namespace pop3test
#else
#include <catch2/catch.hpp>
namespace pop3test {
using Catch::Matchers::Contains;
}  // namespace pop3test
#endif
