// The worker's in-memory view of account state and revoked tickets, so that authenticating a
// request costs no database round trip. A listener thread (lib/store/pg/listener) fills it from
// PostgreSQL and keeps it current through LISTEN/NOTIFY; when the listener has not heard from
// PostgreSQL for longer than `max_staleness`, every check answers kUnavailable (503): the cache
// fails closed rather than trusting state that may be old. Thread-safe (readers share a lock).
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <map>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "store/auth_store.h"

namespace tessera::auth {

// A bearer-token grant as the workers remember it.
using Grant = store::GrantRecord;

enum class SessionCheck {
  kOk,
  kUnknownAccount,
  kDisabled,
  kAccountExpired,
  kGrantExpired,
  kSessionEnded,  // ticket older than the account's session epoch (password change, disable)
  kRevoked,       // logged out, or the grant was revoked
  kUnknownGrant,  // no api_tokens row for the token's jti (or it names another account)
  kUnavailable,   // the cache is stale: PostgreSQL has not been heard from
};

class SessionCache {
 public:
  using SteadyClock = std::chrono::steady_clock;
  explicit SessionCache(std::chrono::milliseconds max_staleness) : max_staleness_(max_staleness) {}

  // Replaces everything (after a (re)connect). `revoked` maps revocation id → expiry.
  void Load(std::unordered_map<std::string, store::AccountState> accounts,
            std::unordered_map<std::string, std::int64_t> revoked,
            std::unordered_map<std::string, Grant> grants = {});
  // Sets or (with nullopt) removes one grant.
  void SetGrant(const std::string& jti, std::optional<Grant> grant);
  // Sets or (with nullopt) removes one account's state.
  void SetAccount(const std::string& userid, std::optional<store::AccountState> state);
  void AddRevocation(const std::string& revocation_id, std::int64_t expires_at, std::int64_t now);
  // The listener calls these: it heard from PostgreSQL now / lost it.
  void MarkFresh();
  void MarkLost();
  // Whether the state was loaded and heard from within the staleness bound.
  bool IsFresh() const;

  // Whether the account exists, is enabled and unexpired at `now` (for bearer tokens, which
  // are grants of their own and do not end with the account's sessions).
  SessionCheck CheckAccount(std::string_view userid, std::int64_t now) const;
  // CheckAccount, and the grant `jti` exists for `userid`, is unrevoked and unexpired. Returns a
  // copy of the grant (its rights, repository and account id), or why it is refused.
  std::expected<Grant, SessionCheck> CheckGrant(std::string_view jti, std::string_view userid,
                                                std::int64_t now) const;
  // Whether a ticket of `userid` stamped `ticket_time` with `revocation_id` is still good at `now`.
  SessionCheck Check(std::string_view userid, std::int64_t ticket_time, std::string_view revocation_id,
                     std::int64_t now) const;

 private:
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, store::AccountState> accounts_;
  std::unordered_map<std::string, std::int64_t> revoked_;
  std::unordered_map<std::string, Grant> grants_;
  std::optional<SteadyClock::time_point> fresh_at_;
  std::chrono::milliseconds max_staleness_;
};

}  // namespace tessera::auth
