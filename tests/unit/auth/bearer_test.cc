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

TEST_CASE("a PBSAPIToken header yields its userid, grant name and token") {
  auto from = [](const std::string& header) {
    http::Request r;
    r.headers.emplace_back("authorization", header);
    return auth::ApiTokenFromRequest(r);
  };
  auto api = from("PBSAPIToken=alice@pbs!laptop:v4.public.abc");
  REQUIRE(api);
  CHECK(api->userid == "alice@pbs");
  CHECK(api->name == "laptop");
  CHECK(api->token == "v4.public.abc");
  // A userid may hold '!'; the grant name may not: the last '!' before the first ':' splits.
  api = from("PBSAPIToken=a!b@pbs!n:t:u");
  REQUIRE(api);
  CHECK(api->userid == "a!b@pbs");
  CHECK(api->name == "n");
  CHECK(api->token == "t:u");
  // Bearer and Basic are not API tokens, and an API token is not a bearer token.
  CHECK_FALSE(from("Bearer v4.public.abc"));
  CHECK_FALSE(From("PBSAPIToken=alice@pbs!laptop:v4.public.abc"));
  for (const std::string& bad :
       {std::string("PBSAPIToken=alice@pbs:tok"), std::string("PBSAPIToken=!n:tok"),
        std::string("PBSAPIToken=alice@pbs!:tok"), std::string("PBSAPIToken=alice@pbs!n:"),
        std::string("PBSAPIToken alice@pbs!n:tok"), std::string("pbsapitoken=alice@pbs!n:tok"),
        std::string("PBSAPIToken="), "PBSAPIToken=a@pbs!n:" + std::string(13000, 't')}) {
    INFO(bad.substr(0, 40));
    CHECK_FALSE(from(bad));
  }
}
