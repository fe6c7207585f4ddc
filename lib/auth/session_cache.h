// The worker's cache of account state, token grants and revoked tickets, so that authenticating
// a request usually costs no database round trip, and whose memory does not grow with the number
// of accounts and grants in PostgreSQL.
//
// Accounts and grants are read on a miss from a store::CacheSource (the worker's pool) and kept,
// at most `entries` of each (auth/recent_map.h: the entries in use stay, the others make room).
// Grants are shared fairly: one account holds at most GrantShare(entries) of them (1/16), and
// a new grant of an account at its share replaces that account's oldest, so an account cycling
// through thousands of grants never pushes out another account's (an account is one entry). A
// row that is not there is remembered too (a negative entry), so a deleted grant's token does not
// cost a query per request. A listener thread (lib/store/pg/listener) writes into the cache
// through store::ChangeSink: a notified change makes the cache forget that one account or grant
// (a negative entry included: a grant inserted after its jti was looked up is read again), which
// costs nothing when it is not held; a reconnect, a '*' or a malformed payload makes it forget
// all of them. Revocations are held whole (they live as long as a ticket).
//
// A read races the listener: a change applied while a row was being read may be newer than the
// row read. The cache therefore tracks reads in flight and keeps a row only if nothing changed
// that key, and nothing made the cache forget everything, while it was read; otherwise the key
// is read once more, and that second row answers the request but is not kept if it raced too.
//
// When the listener has not heard from PostgreSQL for longer than `max_staleness` (measured on the
// injected steady clock), every check answers kUnavailable (503): the cache fails closed rather
// than trusting state that may be old. Thread-safe (lookups that hit share a lock).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <list>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "auth/recent_map.h"
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

// One account's share of the grant entries: 1/kGrantShareDivisor of them, at least one.
inline constexpr std::size_t kGrantShareDivisor = 16;
std::size_t GrantShare(std::size_t entries);

class SessionCache final : public store::ChangeSink {
 public:
  // `source` (thread-safe) and `clock` must outlive the cache. Holds at most `entries` accounts
  // and `entries` grants, negative entries included.
  SessionCache(store::CacheSource& source, std::chrono::milliseconds max_staleness,
               std::size_t entries, const clock::SteadyClock& clock = clock::RealSteadyClock());

  // Starts over holding these, as if each had been read, and marks the cache fresh. For tests;
  // the listener calls Reset().
  void Load(const std::unordered_map<std::string, store::AccountState>& accounts,
            store::Revocations revoked, const std::unordered_map<std::string, Grant>& grants = {});

  // store::ChangeSink.
  void Reset(store::Revocations revoked) override;
  void ForgetAccount(const std::string& userid) override;
  void ForgetGrant(const std::string& jti) override;
  void AddRevocation(const std::string& revocation_id, std::int64_t expires_at,
                     std::int64_t now) override;
  void MarkFresh() override;
  void MarkLost() override;

  // Whether the state was loaded and heard from within the staleness bound.
  bool IsFresh() const;

  // Whether the account exists, is enabled and unexpired at `now` (for bearer tokens, which
  // are grants of their own and do not end with the account's sessions). An account the cache
  // does not hold is read from the source; kUnavailable when that fails.
  SessionCheck CheckAccount(std::string_view userid, std::int64_t now);
  // CheckAccount, and the grant `jti` exists for `userid`, is unrevoked and unexpired. Returns a
  // copy of the grant (its rights, repository and account id), or why it is refused. A grant the
  // cache does not hold is read from the source (only after the account passed).
  std::expected<Grant, SessionCheck> CheckGrant(std::string_view jti, std::string_view userid,
                                                std::int64_t now);
  // Whether a ticket of `userid` stamped `ticket_time` with `revocation_id` is still good at `now`:
  // the account checks of CheckAccount, then the session epoch and the revocations.
  SessionCheck CheckTicket(std::string_view userid, std::int64_t ticket_time,
                           std::string_view revocation_id, std::int64_t now);

  // How many accounts and grants are held now, negative entries included (tests, metrics).
  std::size_t accounts_held() const;
  std::size_t grants_held() const;

 private:
  enum class Kind { kAccount, kGrant };
  // A key being read from the source; `changed` is set when a change to it (or a reset) is
  // applied meanwhile.
  struct Read {
    Kind kind;
    std::string key;
    bool changed = false;
  };
  template <typename T>
  using Rows = RecentMap<std::optional<T>>;
  template <typename T>
  using Found = std::expected<std::optional<T>, store::StoreError>;

  // What `map` holds for `key`, else what `read` (called without a lock) returns, kept (in
  // `partition`'s share, empty: none) if no change raced it. kUnavailable when the cache is stale
  // or `read` fails.
  template <typename T, typename ReadRow>
  std::expected<std::optional<T>, SessionCheck> Lookup(Rows<T>& map, Kind kind,
                                                       std::string_view key,
                                                       std::string_view partition, ReadRow read);
  // The account `userid` if it exists, is enabled and unexpired at `now`; else why not.
  std::expected<store::AccountState, SessionCheck> Account(std::string_view userid,
                                                           std::int64_t now);
  // Marks the reads of `key` (of every key when `kind` is nullopt) as raced. Holds mutex_.
  void RacedLocked(std::optional<Kind> kind, std::string_view key);
  bool FreshLocked() const;

  store::CacheSource& source_;
  mutable std::shared_mutex mutex_;
  Rows<store::AccountState> accounts_;
  Rows<Grant> grants_;
  store::Revocations revoked_;
  std::list<Read> reads_;  // at most one per request thread
  std::optional<clock::SteadyClock::TimePoint> fresh_at_;
  std::chrono::milliseconds max_staleness_;
  const clock::SteadyClock& clock_;
};

}  // namespace tessera::auth
