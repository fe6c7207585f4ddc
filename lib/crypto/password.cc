#include "crypto/password.h"

#include <sodium.h>

namespace tessera::crypto {

std::expected<std::string, PasswordError> HashPassword(std::string_view password,
                                                       PasswordCost cost) {
  if (cost.opslimit < crypto_pwhash_OPSLIMIT_MIN || cost.memlimit < crypto_pwhash_MEMLIMIT_MIN) {
    return std::unexpected(PasswordError::kBadCost);
  }
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), cost.opslimit, cost.memlimit,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return std::unexpected(PasswordError::kOutOfMemory);
  }
  return std::string(out);
}

bool VerifyPassword(std::string_view hash, std::string_view password) {
  if (hash.size() >= crypto_pwhash_STRBYTES) return false;
  char buf[crypto_pwhash_STRBYTES] = {};
  hash.copy(buf, hash.size());
  return crypto_pwhash_str_verify(buf, password.data(), password.size()) == 0;
}

bool NeedsRehash(std::string_view hash, PasswordCost cost) {
  if (hash.size() >= crypto_pwhash_STRBYTES) return true;
  char buf[crypto_pwhash_STRBYTES] = {};
  hash.copy(buf, hash.size());
  return crypto_pwhash_str_needs_rehash(buf, cost.opslimit, cost.memlimit) != 0;
}

}  // namespace tessera::crypto
