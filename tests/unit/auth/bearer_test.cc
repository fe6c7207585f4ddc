#include "auth/bearer.h"

#include <catch2/catch.hpp>

#include "crypto/base64url.h"

using namespace tessera;

namespace {
std::optional<std::string> From(const std::string& header) {
  http::Request r;
  r.headers.emplace_back("authorization", header);
  return auth::BearerFromRequest(r);
}
std::string Basic(const std::string& credentials) {
  std::string b64 = crypto::Base64Encode(credentials, crypto::Base64Alphabet::kStandard);
  while (b64.size() % 4) b64 += '=';
  return "Basic " + b64;
}
}  // namespace

TEST_CASE("bearer and basic credentials yield the token") {
  CHECK(From("Bearer v4.public.abc") == "v4.public.abc");
  CHECK(From("bearer v4.public.abc") == "v4.public.abc");
  CHECK(From(Basic("alice:v4.public.xyz")) == "v4.public.xyz");
  CHECK(From(Basic("alice:pass:with:colons")) == "pass:with:colons");
  CHECK(From(Basic(":tok")) == "tok");
}

TEST_CASE("other or malformed authorization headers yield nothing") {
  http::Request none;
  CHECK_FALSE(auth::BearerFromRequest(none));
  for (const std::string& bad :
       {std::string("Bearer"), std::string("Basic"), std::string("Digest x"),
        std::string("Basic !!!"), Basic("no-colon"), std::string("Bearerx y"),
        std::string(13000, 'B')}) {
    INFO(bad.substr(0, 40));
    CHECK_FALSE(From(bad));
  }
}
