#include "crypto/paserk.h"

#include <sodium.h>

#include "crypto/base64url.h"

namespace tessera::crypto {
namespace {
constexpr std::string_view kLocal = "k4.local.";
constexpr std::string_view kPublic = "k4.public.";
constexpr std::string_view kSecret = "k4.secret.";

std::string Id(std::string_view header, std::string_view paserk) {
  crypto_generichash_state state;
  std::uint8_t digest[33];
  crypto_generichash_init(&state, nullptr, 0, sizeof digest);
  crypto_generichash_update(&state, reinterpret_cast<const std::uint8_t*>(header.data()),
                            header.size());
  crypto_generichash_update(&state, reinterpret_cast<const std::uint8_t*>(paserk.data()),
                            paserk.size());
  crypto_generichash_final(&state, digest, sizeof digest);
  return std::string(header) + Base64Encode(std::span<const std::uint8_t>(digest));
}

// Strips the exact prefix and decodes the rest; the bytes are wiped when the caller is done.
std::expected<SecretBytes, PaserkError> Body(std::string_view text, std::string_view prefix,
                                             std::size_t size) {
  if (text.size() > kMaxPaserkBytes) return std::unexpected(PaserkError::kMalformed);
  if (!text.starts_with(prefix)) return std::unexpected(PaserkError::kWrongType);
  auto bytes = Base64Decode(text.substr(prefix.size()), kMaxPaserkBytes);
  if (!bytes) return std::unexpected(PaserkError::kMalformed);
  SecretBytes out(*bytes);
  sodium_memzero(bytes->data(), bytes->size());
  if (out.size() != size) return std::unexpected(PaserkError::kWrongLength);
  return out;
}
}  // namespace

std::string ToPaserk(const LocalKey& key) {
  return std::string(kLocal) + Base64Encode(key.bytes());
}
std::string ToPaserk(const PublicKey& key) {
  return std::string(kPublic) + Base64Encode(key.bytes());
}

SecretBytes ToPaserk(const SecretKey& key) {
  std::string text = std::string(kSecret) + Base64Encode(key.bytes());
  SecretBytes out(std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
  sodium_memzero(text.data(), text.size());
  return out;
}

std::expected<LocalKey, PaserkError> ParseLocalPaserk(std::string_view text) {
  auto body = Body(text, kLocal, LocalKey::kSize);
  if (!body) return std::unexpected(body.error());
  return *LocalKey::FromBytes(body->span());
}

std::expected<PublicKey, PaserkError> ParsePublicPaserk(std::string_view text) {
  auto body = Body(text, kPublic, PublicKey::kSize);
  if (!body) return std::unexpected(body.error());
  return *PublicKey::FromBytes(body->span());
}

std::expected<SecretKey, PaserkError> ParseSecretPaserk(std::string_view text) {
  auto body = Body(text, kSecret, SecretKey::kSize);
  if (!body) return std::unexpected(body.error());
  auto key = SecretKey::FromBytes(body->span());
  if (!key) return std::unexpected(PaserkError::kKeyMismatch);
  return std::move(*key);
}

std::string Lid(const LocalKey& key) {
  std::string paserk = ToPaserk(key);
  std::string id = Id("k4.lid.", paserk);
  sodium_memzero(paserk.data(), paserk.size());
  return id;
}

std::string Pid(const PublicKey& key) { return Id("k4.pid.", ToPaserk(key)); }

std::string Sid(const SecretKey& key) {
  SecretBytes paserk = ToPaserk(key);
  return Id("k4.sid.",
            std::string_view(reinterpret_cast<const char*>(paserk.data()), paserk.size()));
}

}  // namespace tessera::crypto
