// Typed PASETO v4 keys: a LocalKey (v4.local, 32 symmetric bytes), a SecretKey (v4.public
// signing, Ed25519 seed || public key, 64 bytes) and a PublicKey (v4.public verification, 32
// bytes). Each purpose is its own type, so a key can never be used for another purpose; secret
// material lives in SecretBytes (wiped, move-only) and has no way to be printed.
#pragma once

#include <sodium.h>

#include <array>
#include <cstdint>
#include <expected>
#include <span>

#include "crypto/secret_bytes.h"

namespace tessera::crypto {

enum class KeyError { kWrongLength, kKeyMismatch };

class LocalKey {
 public:
  static constexpr std::size_t kSize = 32;
  // A fresh random key. Thread-safe (libsodium's CSPRNG).
  static LocalKey Generate();
  // Fails with kWrongLength unless `bytes` is 32 bytes.
  static std::expected<LocalKey, KeyError> FromBytes(std::span<const std::uint8_t> bytes);
  std::span<const std::uint8_t> bytes() const { return key_.span(); }

 private:
  explicit LocalKey(SecretBytes key) : key_(std::move(key)) {}
  SecretBytes key_;
};

class PublicKey {
 public:
  static constexpr std::size_t kSize = crypto_sign_PUBLICKEYBYTES;
  static std::expected<PublicKey, KeyError> FromBytes(std::span<const std::uint8_t> bytes);
  std::span<const std::uint8_t> bytes() const { return key_; }
  bool operator==(const PublicKey&) const = default;  // public data: plain comparison is fine

 private:
  PublicKey() = default;
  std::array<std::uint8_t, kSize> key_{};
};

class SecretKey {
 public:
  static constexpr std::size_t kSize = crypto_sign_SECRETKEYBYTES;  // seed || public key
  static constexpr std::size_t kSeedSize = crypto_sign_SEEDBYTES;
  static SecretKey Generate();
  static std::expected<SecretKey, KeyError> FromSeed(std::span<const std::uint8_t> seed);
  // Fails with kWrongLength unless 64 bytes, kKeyMismatch when the public half is not the one
  // the seed derives (a corrupted or forged key file).
  static std::expected<SecretKey, KeyError> FromBytes(std::span<const std::uint8_t> bytes);
  PublicKey Public() const;
  std::span<const std::uint8_t> bytes() const { return key_.span(); }

 private:
  explicit SecretKey(SecretBytes key) : key_(std::move(key)) {}
  SecretBytes key_;
};

}  // namespace tessera::crypto
