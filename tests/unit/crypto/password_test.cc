#include "crypto/password.h"

#include <catch2/catch.hpp>

using namespace tessera::crypto;

TEST_CASE("passwords hash with Argon2id and verify") {
  PasswordCost cheap{1, 8 * 1024 * 1024};
  auto hash = HashPassword("correct horse", cheap);
  REQUIRE(hash);
  CHECK(hash->rfind("$argon2id$v=19$m=8192,t=1,", 0) == 0);
  CHECK(VerifyPassword(*hash, "correct horse"));
  CHECK_FALSE(VerifyPassword(*hash, "correct horsE"));
  CHECK_FALSE(VerifyPassword(*hash, ""));
  CHECK_FALSE(VerifyPassword("not a hash", "correct horse"));
  CHECK_FALSE(VerifyPassword(std::string(200, '$'), "x"));
  CHECK(HashPassword("correct horse", cheap) != hash);  // salted
}

TEST_CASE("a hash of another cost needs rehashing") {
  PasswordCost a{1, 8 * 1024 * 1024}, b{2, 8 * 1024 * 1024};
  auto hash = HashPassword("pw", a);
  REQUIRE(hash);
  CHECK_FALSE(NeedsRehash(*hash, a));
  CHECK(NeedsRehash(*hash, b));
  CHECK(NeedsRehash("garbage", a));
  CHECK(HashPassword("pw", {0, 8192}).error() == PasswordError::kBadCost);
}
