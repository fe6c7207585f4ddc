#include "http/cookies.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

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

TEST_CASE("malformed pairs are skipped, the well-formed ones around them kept") {
  struct Case {
    std::string header;
    std::vector<std::pair<std::string, std::string>> kept;
  };
  const std::vector<Case> cases = {
      {"novalue; t=1", {{"t", "1"}}},           // no '='
      {"=x; t=1", {{"t", "1"}}},                // empty name
      {" =x ;t=1", {{"t", "1"}}},               // name of spaces only
      {"a b=1; t=1", {{"t", "1"}}},             // space inside the name
      {"a(b)=1; t=1", {{"t", "1"}}},            // separators in the name
      {"a=\x01; t=1", {{"t", "1"}}},            // control character in the value
      {"a=x\x7fy; t=1", {{"t", "1"}}},          // DEL in the value
      {"t=1; ;=2; x", {{"t", "1"}}},            // trailing junk
      {"a=1;;;b=2", {{"a", "1"}, {"b", "2"}}},  // empty pairs
      {"t=1; bad\x80name=2; u=3", {{"t", "1"}, {"u", "3"}}},
  };
  for (const auto& c : cases) {
    INFO(c.header);
    auto parsed = ParseCookies(c.header);
    REQUIRE(parsed);
    REQUIRE(parsed->size() == c.kept.size());
    for (std::size_t i = 0; i < c.kept.size(); ++i) {
      CHECK((*parsed)[i].first == c.kept[i].first);
      CHECK((*parsed)[i].second == c.kept[i].second);
    }
  }
}

TEST_CASE("a malformed pair of our own name is absent, not an error") {
  auto c = ParseCookies("__Host-PBSAuthCookie=\x02x; other=1");
  REQUIRE(c);
  CHECK_FALSE(FindCookie(*c, "__Host-PBSAuthCookie"));
  CHECK(FindCookie(*c, "other") == "1");
}

TEST_CASE("oversized cookie headers are refused; the pair count is capped") {
  CHECK(ParseCookies(std::string(kMaxCookieHeaderBytes + 1, 'a')).error() ==
        CookieError::kTooLarge);
  std::string many;
  for (std::size_t i = 0; i < kMaxCookies + 10; ++i) many += "c" + std::to_string(i) + "=1; ";
  REQUIRE(many.size() <= kMaxCookieHeaderBytes);
  auto c = ParseCookies(many);
  REQUIRE(c);
  CHECK(c->size() == kMaxCookies);
  CHECK(FindCookie(*c, "c0") == "1");
  CHECK_FALSE(FindCookie(*c, "c" + std::to_string(kMaxCookies)));
}

TEST_CASE("cookie values are percent-encoded exactly where RFC 6265 needs it") {
  struct Case {
    std::string raw, encoded;
  };
  const std::vector<Case> cases = {
      {"PBS:alice@pbs:65A1B2C3::abc+/def", "PBS:alice@pbs:65A1B2C3::abc+/def"},
      {"PBS:a%;b@pbs:65A1B2C3::s", "PBS:a%25%3Bb@pbs:65A1B2C3::s"},
      {"a b,c\"d\\e", "a%20b%2Cc%22d%5Ce"},
      {"\xc3\xbc", "%C3%BC"},
      {"\x01\x7f", "%01%7F"},
      {"", ""},
  };
  for (const auto& c : cases) {
    INFO(c.raw);
    CHECK(EncodeCookieValue(c.raw) == c.encoded);
    CHECK(DecodeCookieValue(c.encoded) == c.raw);
  }
  // What Proxmox clients send (':' and '@' escaped as well) decodes too.
  CHECK(DecodeCookieValue("PBS%3Aroot%40pam%3A65A1B2C3%3A%3Asig") == "PBS:root@pam:65A1B2C3::sig");
}

TEST_CASE("cookie values that are not cookie-octets or hold bad escapes do not decode") {
  for (std::string bad :
       {"a b", "a;b", "a,b", "\"q\"", "a\\b", "%", "%4", "%zz", "%00", "\xc3\xbc"}) {
    INFO(bad);
    CHECK_FALSE(DecodeCookieValue(bad));
  }
}
