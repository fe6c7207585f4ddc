// The worker's in-memory view of account state, revoked tickets and token grants, so that
// authenticating a request costs no database round trip. A listener thread (lib/store/pg/listener)
// fills it through the store::ChangeSink interface from PostgreSQL and keeps it current through
// LISTEN/NOTIFY; when the listener has not heard from PostgreSQL for longer than `max_staleness`
// (measured on the injected steady clock), every check answers kUnavailable (503): the cache
// fails closed rather than trusting state that may be old.
//
// A grant minted a moment ago may not have been notified yet, so CheckGrant can fetch a missing
// grant from the database. Such a fetch races the listener: a revocation applied while the row
// was being read must win over the (older) row read. The cache therefore tracks fetches in flight
// and keeps a fetched row only if no change to that grant, and no full reload, was applied while it
// was fetched. Thread-safe (readers share a lock).
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <list>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "clock/clock.h"
#include "store/auth_store.h"
#include "store/change_sink.h"
#include "store/database.h"

namespace tessera::auth {

// A bearer-token grant as the workers remember it.
using Grant = store::GrantRecord;

enum class SessionCheck {
  kOk,
  kUnknownAccount,
  kDisabled,
  kAccountExpired,
  kGrantExpired,  // the token's grant (not the account) has expired
  kSessionEnded,  // ticket older than the account's session epoch (password change, disable)
  kRevoked,       // logged out, or the grant was revoked
  kUnknownGrant,  // no api_tokens row for the token's jti (or it names another account)
  kUnavailable,   // the cache is stale, or the database could not be asked
};

class SessionCache final : public store::ChangeSink {
 public:
  // Reads the grant `jti` from the database: the row, nullopt when there is none, or the error.
  using GrantFetcher =
      std::function<std::expected<std::optional<Grant>, store::StoreError>(std::string_view jti)>;

  // `clock` must outlive the cache.
  explicit SessionCache(std::chrono::milliseconds max_staleness,
                        const clock::SteadyClock& clock = clock::RealSteadyClock())
      : max_staleness_(max_staleness), clock_(clock) {}

  // Replaces everything and marks the cache fresh. `revoked` maps revocation id → expiry.
  void Load(std::unordered_map<std::string, store::AccountState> accounts,
            std::unordered_map<std::string, std::int64_t> revoked,
            std::unordered_map<std::string, Grant> grants = {});

  // store::ChangeSink.
  void Replace(store::CacheSnapshot snapshot) override;
  void SetGrant(const std::string& jti, std::optional<Grant> grant) override;
  void SetAccount(const std::string& userid, std::optional<store::AccountState> state) override;
  void AddRevocation(const std::string& revocation_id, std::int64_t expires_at,
                     std::int64_t now) override;
  void MarkFresh() override;
  void MarkLost() override;

  // Whether the state was loaded and heard from within the staleness bound.
  bool IsFresh() const;

  // Whether the account exists, is enabled and unexpired at `now` (for bearer tokens, which
  // are grants of their own and do not end with the account's sessions).
  SessionCheck CheckAccount(std::string_view userid, std::int64_t now) const;
  // CheckAccount, and the grant `jti` exists for `userid`, is unrevoked and unexpired. Returns a
  // copy of the grant (its rights, repository and account id), or why it is refused.
  std::expected<Grant, SessionCheck> CheckGrant(std::string_view jti, std::string_view userid,
                                                std::int64_t now) const;
  // The same, but a grant the cache does not hold is read with `fetch_on_miss` (called without
  // any lock held) and remembered if nothing changed that grant while it was read; if something
  // did, the cache's newer state decides (a grant that vanished meanwhile is read once more).
  // Returns kUnavailable when the fetch fails. `fetch_on_miss` must not throw (errors are values).
  std::expected<Grant, SessionCheck> CheckGrant(std::string_view jti, std::string_view userid,
                                                std::int64_t now,
                                                const GrantFetcher& fetch_on_miss);
  // Whether a ticket of `userid` stamped `ticket_time` with `revocation_id` is still good at `now`:
  // the account checks of CheckAccount, then the session epoch and the revocations.
  SessionCheck CheckTicket(std::string_view userid, std::int64_t ticket_time,
                           std::string_view revocation_id, std::int64_t now) const;

 private:
  // A grant being read from the database; `changed` is set when a change to it (or a full
  // reload) is applied meanwhile.
  struct Fetch {
    std::string jti;
    bool changed = false;
  };
  // The one freshness check, then the account's: exists, enabled, unexpired at `now`. Returns
  // the account or why not. The caller holds mutex_ (either mode).
  std::expected<const store::AccountState*, SessionCheck> AccountLocked(std::string_view userid,
                                                                        std::int64_t now) const;
  std::expected<Grant, SessionCheck> GrantLocked(std::string_view jti, std::string_view userid,
                                                 std::int64_t now) const;
  bool FreshLocked() const;

  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, store::AccountState> accounts_;
  std::unordered_map<std::string, std::int64_t> revoked_;
  std::unordered_map<std::string, Grant> grants_;
  std::list<Fetch> fetches_;  // at most one per request thread
  std::optional<clock::SteadyClock::TimePoint> fresh_at_;
  std::chrono::milliseconds max_staleness_;
  const clock::SteadyClock& clock_;
};

}  // namespace tessera::auth
