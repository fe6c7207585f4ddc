// What a person may choose as a new password (PUT /api2/json/access/password), after NIST SP
// 800-63B section 5.1.1.2: a length floor and ceiling, no composition rules, and a refusal of
// what an attacker tries first — the passwords every list of leaked passwords starts with, runs
// and repeats of a few characters ("aaaaaaaa", "12345678", "abcabcabc"), the account's own name,
// and the current password again.
//
// The admin tool's `account add` is not held to it: an admin may set a one-time password.
#pragma once

#include <cstddef>
#include <expected>
#include <string_view>

namespace tessera::auth {

// At least this many characters (code points); at most kMaxPasswordBytes (login_request.h) bytes.
inline constexpr std::size_t kMinPasswordChars = 8;

enum class PasswordWeakness {
  kTooShort,      // fewer than kMinPasswordChars code points
  kTooLong,       // more than kMaxPasswordBytes bytes
  kNotText,       // not UTF-8, or holds a control character
  kCommon,        // one of the most used passwords (case does not matter)
  kRepetitive,    // few distinct characters, or one run up or down ("abcdefgh", "98765432")
  kHoldsName,     // holds the user name (the userid's part before '@'), in any case
  kSameAsBefore,  // equals the current password
};

// Whether `password` may replace `current` as the password of `userid`; the weakness found first
// otherwise. Compares `current` in constant time. Thread-safe.
std::expected<void, PasswordWeakness> CheckNewPassword(std::string_view password,
                                                       std::string_view userid,
                                                       std::string_view current);

// A sentence for the person, naming what to change. Thread-safe.
std::string_view Describe(PasswordWeakness weakness);

}  // namespace tessera::auth
