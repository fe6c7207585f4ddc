#include "auth/password_policy.h"

#include <catch2/catch.hpp>
#include <optional>
#include <string>

using namespace tessera;
using auth::PasswordWeakness;

TEST_CASE("a new password is refused for each weakness, and accepted without one") {
  struct Case {
    std::string password;
    std::optional<PasswordWeakness> want;
  };
  const std::string current = "the current one 42";
  const Case cases[] = {
      {"correct horse battery staple", std::nullopt},
      {"Tr0ub4dor&3", std::nullopt},
      {"zebra-7-lamp", std::nullopt},
      {"äöüß€漢字ok", std::nullopt},               // 8 code points, more bytes
      {"äöüß€漢字", PasswordWeakness::kTooShort},  // 7 code points, 17 bytes
      {"", PasswordWeakness::kTooShort},
      {"abc1234", PasswordWeakness::kTooShort},
      {std::string(4097, 'x'), PasswordWeakness::kTooLong},
      {std::string("a b c d e\x01"
                   "f"),
       PasswordWeakness::kNotText},
      {std::string("valid\xC3(pass"), PasswordWeakness::kNotText},
      {"long enough\x7F", PasswordWeakness::kNotText},
      {"password", PasswordWeakness::kCommon},
      {"PassWord1", PasswordWeakness::kCommon},
      {"qwertyuiop", PasswordWeakness::kCommon},
      {"aaaaaaaaaaaa", PasswordWeakness::kRepetitive},
      {"abcabcabcabc", PasswordWeakness::kRepetitive},
      {"12345678", PasswordWeakness::kRepetitive},
      {"98765432", PasswordWeakness::kRepetitive},
      {"abcdefghij", PasswordWeakness::kRepetitive},
      {"my alice password", PasswordWeakness::kHoldsName},
      {"My-ALICE-2026!", PasswordWeakness::kHoldsName},
      {current, PasswordWeakness::kSameAsBefore},
  };
  for (const Case& c : cases) {
    INFO(c.password.substr(0, 40));
    auto got = auth::CheckNewPassword(c.password, "alice@pbs", current);
    if (c.want) {
      REQUIRE_FALSE(got);
      CHECK(got.error() == *c.want);
      CHECK_FALSE(auth::Describe(got.error()).empty());
    } else {
      CHECK(got);
    }
  }
}

TEST_CASE("a short user name is not held against a password") {
  // "al" would refuse every password with "al" in it: names under three characters are not
  // looked for.
  CHECK(auth::CheckNewPassword("a calm long walk", "al@pbs", "before it"));
  CHECK_FALSE(auth::CheckNewPassword("a calm long walk", "calm@pbs", "before it"));
}

TEST_CASE("a password that only differs in case from the current one is accepted") {
  CHECK(auth::CheckNewPassword("The Current One 42", "bob@pbs", "the current one 42"));
}
