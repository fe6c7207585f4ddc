#include "auth/token_lifetime.h"

#include <algorithm>
#include <charconv>

namespace tessera::auth {

std::optional<std::chrono::seconds> ParseLifetime(std::string_view text) {
  std::int64_t unit = 1;
  if (!text.empty()) {
    switch (text.back()) {
      case 's':
        unit = 1;
        break;
      case 'm':
        unit = 60;
        break;
      case 'h':
        unit = 3600;
        break;
      case 'd':
        unit = 86400;
        break;
      default:
        unit = 0;
        break;
    }
    if (unit != 0) {
      text.remove_suffix(1);
    } else {
      unit = 1;  // a bare number is seconds
    }
  }
  std::int64_t n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || p != text.data() + text.size() || n <= 0) return std::nullopt;
  // Compared before multiplying, so no product can overflow.
  if (n > kLongestTokenLifetime.count() / unit) return std::nullopt;
  return std::chrono::seconds(n * unit);
}

std::expected<std::chrono::seconds, GrantRefusal> LifetimeForGrant(bool grant_revoked,
                                                                   std::int64_t grant_expires_at,
                                                                   std::int64_t now) {
  if (grant_revoked) return std::unexpected(GrantRefusal::kRevoked);
  if (grant_expires_at <= now) return std::unexpected(GrantRefusal::kExpired);
  // Subtracting a positive `now` from any expiry (kEndOfTime included) cannot overflow.
  return std::chrono::seconds(std::min(grant_expires_at - now, kLongestTokenLifetime.count()));
}

}  // namespace tessera::auth
