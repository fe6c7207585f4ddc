#include "crypto/csrf.h"

#include <sodium.h>

#include <cstdio>

#include "crypto/base64url.h"
#include "crypto/ticket.h"

namespace tessera::crypto {
std::expected<CsrfKey, CsrfError> CsrfKey::FromBytes(std::span<const std::uint8_t> bytes) {
  if (bytes.size() != kSize) return std::unexpected(CsrfError::kMalformed);
  return CsrfKey(SecretBytes(bytes));
}

std::string CsrfKey::Make(std::string_view userid, std::int64_t now) const {
  std::string time = FormatTicketTime(now);
  std::string msg = time + ":" + std::string(userid) + ":";
  std::uint8_t mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256(mac, reinterpret_cast<const std::uint8_t*>(msg.data()), msg.size(),
                         key_.data());
  return time + ":" + Base64Encode(std::span<const std::uint8_t>(mac), Base64Alphabet::kStandard);
}

std::expected<void, CsrfError> CsrfKey::Verify(std::string_view token, std::string_view userid,
                                               std::int64_t now) const {
  if (token.size() > 128) return std::unexpected(CsrfError::kMalformed);
  std::size_t colon = token.find(':');
  if (colon == std::string_view::npos) return std::unexpected(CsrfError::kMalformed);
  std::string_view time_text = token.substr(0, colon);
  std::int64_t time = 0;
  if (!ParseTicketTime(time_text, &time)) return std::unexpected(CsrfError::kMalformed);
  auto mac = Base64Decode(token.substr(colon + 1), 64, Base64Alphabet::kStandard);
  if (!mac || mac->size() != crypto_auth_hmacsha256_BYTES) {
    return std::unexpected(CsrfError::kMalformed);
  }
  std::string msg = std::string(time_text) + ":" + std::string(userid) + ":";
  if (crypto_auth_hmacsha256_verify(mac->data(), reinterpret_cast<const std::uint8_t*>(msg.data()),
                                    msg.size(), key_.data()) != 0) {
    return std::unexpected(CsrfError::kMismatch);
  }
  if (now > time + kTicketMaxAge) return std::unexpected(CsrfError::kExpired);
  if (now < time - kTicketMaxSkew) return std::unexpected(CsrfError::kFromFuture);
  return {};
}

}  // namespace tessera::crypto
