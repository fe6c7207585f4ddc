#include "crypto/keys.h"

namespace tessera::crypto {

LocalKey LocalKey::Generate() {
  SecretBytes key(kSize);
  crypto_aead_xchacha20poly1305_ietf_keygen(key.data());  // 32 random bytes
  return LocalKey(std::move(key));
}

std::expected<LocalKey, KeyError> LocalKey::FromBytes(std::span<const std::uint8_t> bytes) {
  if (bytes.size() != kSize) return std::unexpected(KeyError::kWrongLength);
  return LocalKey(SecretBytes(bytes));
}

std::expected<PublicKey, KeyError> PublicKey::FromBytes(std::span<const std::uint8_t> bytes) {
  if (bytes.size() != kSize) return std::unexpected(KeyError::kWrongLength);
  PublicKey key;
  std::copy(bytes.begin(), bytes.end(), key.key_.begin());
  return key;
}

SecretKey SecretKey::Generate() {
  SecretBytes sk(kSize);
  std::array<std::uint8_t, PublicKey::kSize> pk{};
  crypto_sign_keypair(pk.data(), sk.data());
  return SecretKey(std::move(sk));
}

std::expected<SecretKey, KeyError> SecretKey::FromSeed(std::span<const std::uint8_t> seed) {
  if (seed.size() != kSeedSize) return std::unexpected(KeyError::kWrongLength);
  SecretBytes sk(kSize);
  std::array<std::uint8_t, PublicKey::kSize> pk{};
  crypto_sign_seed_keypair(pk.data(), sk.data(), seed.data());
  return SecretKey(std::move(sk));
}

std::expected<SecretKey, KeyError> SecretKey::FromBytes(std::span<const std::uint8_t> bytes) {
  if (bytes.size() != kSize) return std::unexpected(KeyError::kWrongLength);
  auto derived = FromSeed(bytes.first(kSeedSize));
  if (!derived->key_.Equals(bytes)) return std::unexpected(KeyError::kKeyMismatch);
  return derived;
}

PublicKey SecretKey::Public() const {
  return *PublicKey::FromBytes(key_.span().subspan(kSeedSize));
}

}  // namespace tessera::crypto
