#include "http/percent.h"

#include <catch2/catch.hpp>

using tessera::http::PercentDecode;
using tessera::http::PercentError;

TEST_CASE("percent decoding turns escapes into bytes") {
  CHECK(PercentDecode("a%20b%2Fc", false).value() == "a b/c");
  CHECK(PercentDecode("a+b", false).value() == "a+b");
  CHECK(PercentDecode("a+b", true).value() == "a b");
  CHECK(PercentDecode("%e2%82%AC", false).value() == "\xe2\x82\xac");
  CHECK(PercentDecode("", false).value().empty());
}

TEST_CASE("percent decoding refuses malformed escapes and NUL") {
  for (const char* bad : {"%", "%2", "a%2", "%zz", "%g0", "%0g"}) {
    INFO(bad);
    auto r = PercentDecode(bad, false);
    REQUIRE_FALSE(r);
    CHECK(r.error() == PercentError::kBadEscape);
  }
  auto nul = PercentDecode("a%00b", false);
  REQUIRE_FALSE(nul);
  CHECK(nul.error() == PercentError::kNulByte);
  auto raw_nul = PercentDecode(std::string_view("a\0b", 3), false);
  REQUIRE_FALSE(raw_nul);
  CHECK(raw_nul.error() == PercentError::kNulByte);
}
