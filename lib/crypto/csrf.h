// CSRF prevention tokens (DESIGN.md; Proxmox's CSRFPreventionToken):
//
//   <TIME as 8+ upper-case hex digits>:<base64 nopad HMAC-SHA256(csrf_key, "<TIME>:<userid>:")>
//
// Sent back by browsers in the `CSRFPreventionToken` header on every non-GET request that a
// cookie authenticates; valid in the same window as tickets. The MAC is checked in constant time.
#pragma once

#include <cstdint>
#include <expected>
#include <span>
#include <string>
#include <string_view>

#include "crypto/secret_bytes.h"

namespace tessera::crypto {

enum class CsrfError { kMalformed, kMismatch, kExpired, kFromFuture };

class CsrfKey {
 public:
  static constexpr std::size_t kSize = 32;
  // Fails (nullopt-like) unless 32 bytes.
  static std::expected<CsrfKey, CsrfError> FromBytes(std::span<const std::uint8_t> bytes);

  std::string Make(std::string_view userid, std::int64_t now) const;
  // Checks `token` for `userid` at `now`. Thread-safe.
  std::expected<void, CsrfError> Verify(std::string_view token, std::string_view userid,
                                        std::int64_t now) const;

 private:
  explicit CsrfKey(SecretBytes key) : key_(std::move(key)) {}
  SecretBytes key_;
};

}  // namespace tessera::crypto
