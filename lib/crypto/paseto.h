// PASETO version 4 (paseto-spec, docs/01-Protocol-Versions/Version4.md): `v4.public` (Ed25519
// signatures) and `v4.local` (XChaCha20 + keyed BLAKE2b), with footer and implicit assertion.
//
//   v4.public: h = "v4.public."; sig = Ed25519(PAE(h, m, f, i)); token = h || b64(m || sig) [.
//   b64(f)] v4.local:  h = "v4.local.";  n random (32); Ek || n2 = BLAKE2b-448(key=k,
//   "paseto-encryption-key" || n)
//              Ak = BLAKE2b-256(key=k, "paseto-auth-key-for-aead" || n); c = XChaCha20(m, Ek, n2)
//              t = BLAKE2b-256(key=Ak, PAE(h, n, c, f, i)); token = h || b64(n || c || t) [.
//              b64(f)]
//
// An UntrustedToken is a token split into its parts with nothing believed; only a verifier (one
// object per version and purpose, holding its key) makes a TrustedToken, after the signature or
// tag checks. Any other header is an error. The tag is compared in constant time before anything
// is decrypted. Thread-safe: the objects are immutable after construction.
#pragma once

#include <cstdint>
#include <expected>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/keys.h"

namespace tessera::crypto {

enum class PasetoError {
  kTooLong,       // over kMaxTokenBytes, refused before decoding
  kWrongHeader,   // not the version and purpose this verifier handles
  kMalformed,     // bad base64url, stray '.', or too short to hold a signature or tag
  kBadSignature,  // v4.public signature does not verify
  kBadTag,        // v4.local authentication tag does not match
};

inline constexpr std::size_t kMaxTokenBytes = 8192;

class UntrustedToken {
 public:
  // Splits `token` after checking its length and exact `header`; decodes body and footer.
  static std::expected<UntrustedToken, PasetoError> Parse(std::string_view token,
                                                          std::string_view header);
  // The footer, decoded but not authenticated: only fit for choosing a key.
  const std::string& untrusted_footer() const { return footer_; }

 private:
  friend class PublicVerifier;
  friend class LocalCipher;
  UntrustedToken() = default;
  std::vector<std::uint8_t> body_;
  std::string footer_;
};

class TrustedToken {
 public:
  const std::string& payload() const { return payload_; }
  const std::string& footer() const { return footer_; }

 private:
  friend class PublicVerifier;
  friend class LocalCipher;
  TrustedToken(std::string payload, std::string footer)
      : payload_(std::move(payload)), footer_(std::move(footer)) {}
  std::string payload_;
  std::string footer_;
};

class PublicSigner {
 public:
  explicit PublicSigner(SecretKey key) : key_(std::move(key)) {}
  std::string Sign(std::string_view payload, std::string_view footer = "",
                   std::string_view implicit = "") const;

 private:
  SecretKey key_;
};

class PublicVerifier {
 public:
  static constexpr std::string_view kHeader = "v4.public.";
  explicit PublicVerifier(PublicKey key) : key_(key) {}
  std::expected<TrustedToken, PasetoError> Verify(const UntrustedToken& token,
                                                  std::string_view implicit = "") const;
  std::expected<TrustedToken, PasetoError> Verify(std::string_view token,
                                                  std::string_view implicit = "") const;

 private:
  PublicKey key_;
};

class LocalCipher {
 public:
  static constexpr std::string_view kHeader = "v4.local.";
  explicit LocalCipher(LocalKey key) : key_(std::move(key)) {}
  std::string Encrypt(std::string_view payload, std::string_view footer = "",
                      std::string_view implicit = "") const;
  // Encrypt with a chosen nonce: only for reproducing the official test vectors. A repeated
  // nonce under one key breaks confidentiality.
  std::string EncryptWithNonce(std::span<const std::uint8_t> nonce, std::string_view payload,
                               std::string_view footer, std::string_view implicit) const;
  std::expected<TrustedToken, PasetoError> Decrypt(std::string_view token,
                                                   std::string_view implicit = "") const;

 private:
  LocalKey key_;
};

}  // namespace tessera::crypto
