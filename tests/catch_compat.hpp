// catch_compat.hpp - the one Catch2 header the tests include: Catch2 v3's test macros, or
// Catch2 v2's single header (Debian 12). tests/CMakeLists.txt says which one was found.
#pragma once

#ifdef POP3DECODE_CATCH2_V3
#include <catch2/catch_test_macros.hpp>
#else
#include <catch2/catch.hpp>
#endif
