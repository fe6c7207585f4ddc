#include "http/cookies.h"

#include <catch2/catch.hpp>

using namespace tessera::http;

TEST_CASE("cookie header splits into name/value pairs") {
  auto c = ParseCookies("a=1; __Host-PBSAuthCookie=PBS%3Aroot%40pam%3A1234::sig;b=\"q\"");
  REQUIRE(c);
  REQUIRE(c->size() == 3);
  CHECK(FindCookie(*c, "__Host-PBSAuthCookie") == "PBS%3Aroot%40pam%3A1234::sig");
  CHECK(FindCookie(*c, "b") == "\"q\"");
  CHECK_FALSE(FindCookie(*c, "missing"));
  CHECK(ParseCookies("")->empty());
}

TEST_CASE("the first of repeated cookies wins") {
  auto c = ParseCookies("t=first; t=second");
  REQUIRE(c);
  CHECK(FindCookie(*c, "t") == "first");
}

TEST_CASE("malformed and oversized cookie headers are refused") {
  for (const char* bad : {"novalue", "=x", "a b=1", "a=1; ;=2", "a=\x01"}) {
    INFO(bad);
    auto r = ParseCookies(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error() == CookieError::kMalformed);
  }
  CHECK(ParseCookies(std::string(kMaxCookieHeaderBytes + 1, 'a')).error() == CookieError::kTooLarge);
  std::string many;
  for (int i = 0; i < 65; ++i) many += "c" + std::to_string(i) + "=1; ";
  CHECK(ParseCookies(many).error() == CookieError::kTooLarge);
}
