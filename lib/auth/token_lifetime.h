// How long a bearer token may live: the operator's lifetime syntax for `tessera-admin token mint`
// and the lifetime a token (re-)minted for an existing grant gets — never past the grant's expiry,
// never for a grant that is revoked or has expired. The grant row is the authority (DESIGN.md,
// "Bearer tokens"); these decisions live here so the admin tool only translates. Pure functions,
// thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <optional>
#include <string_view>

namespace tessera::auth {

// The longest lifetime a token can have: ten years (an infinite grant gets this).
inline constexpr std::chrono::seconds kLongestTokenLifetime{10LL * 366 * 86400};

// "90", "90s", "15m", "12h", "30d" → that many seconds. nullopt for anything else, for zero or
// less, and for more than kLongestTokenLifetime.
std::optional<std::chrono::seconds> ParseLifetime(std::string_view text);

enum class GrantRefusal {
  kRevoked,
  kExpired,  // the grant's expiry is at or before now
};

// The lifetime of a token minted at `now` for a grant that expires at `grant_expires_at` (Unix
// seconds; store::kEndOfTime for never): the time the grant has left, at most
// kLongestTokenLifetime. Fails with kRevoked for a revoked grant, else kExpired for an expired one.
std::expected<std::chrono::seconds, GrantRefusal> LifetimeForGrant(bool grant_revoked,
                                                                   std::int64_t grant_expires_at,
                                                                   std::int64_t now);

}  // namespace tessera::auth
