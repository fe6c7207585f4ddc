// Password hashing with Argon2id through libsodium's crypto_pwhash_str (the hash string carries
// its own salt and cost), with rehash-on-login when the configured cost changes.
//
// Thread-safe. Hashing is deliberately slow (tens to hundreds of milliseconds at the default
// cost); callers verify a dummy hash for unknown users so timing does not reveal who exists.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

namespace tessera::crypto {

struct PasswordCost {
  unsigned long long opslimit = 2;             // crypto_pwhash_OPSLIMIT_INTERACTIVE
  std::size_t memlimit = 64ull * 1024 * 1024;  // crypto_pwhash_MEMLIMIT_INTERACTIVE
};

enum class PasswordError { kOutOfMemory, kBadCost };

// A new `$argon2id$...` string. Fails when libsodium cannot allocate the memory.
std::expected<std::string, PasswordError> HashPassword(std::string_view password,
                                                       PasswordCost cost);
// Whether `password` matches `hash` (constant time in the password).
bool VerifyPassword(std::string_view hash, std::string_view password);
// Whether `hash` was made with another cost (or algorithm) than `cost`.
bool NeedsRehash(std::string_view hash, PasswordCost cost);

}  // namespace tessera::crypto
