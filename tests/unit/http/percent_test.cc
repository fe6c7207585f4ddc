#include "http/percent.h"

#include <catch2/catch.hpp>

using tessera::http::PercentDecode;
using tessera::http::PercentEncode;
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

TEST_CASE("percent encoding escapes every byte not kept, in upper-case hex") {
  auto letters = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  CHECK(PercentEncode("abcXYZ", letters) == "abcXYZ");
  CHECK(PercentEncode("a b/c", letters) == "a%20b%2Fc");
  CHECK(PercentEncode("\xe2\x82\xac", letters) == "%E2%82%AC");
  CHECK(PercentEncode(std::string_view("\0\x7f\xff", 3), letters) == "%00%7F%FF");
  CHECK(PercentEncode("%", letters) == "%25");
  CHECK(PercentEncode("", letters).empty());
  // What it makes, PercentDecode takes back (but for NUL, which decoding refuses).
  std::string all;
  for (int b = 1; b < 256; ++b) all.push_back(static_cast<char>(b));
  CHECK(PercentDecode(PercentEncode(all, letters), false).value() == all);
}
