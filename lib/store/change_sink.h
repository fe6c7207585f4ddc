// What the change listener (lib/store/pg/listener) writes into: the workers' in-memory view of
// accounts, ticket revocations and token grants. The listener loads everything, then applies one
// change per notification, and says whether it can hear PostgreSQL. auth::SessionCache implements
// it; tests may record the calls. This interface keeps store/ from depending on auth/.
//
// Implementations must be thread-safe: the listener thread writes while request threads read.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

#include "store/auth_store.h"

namespace tessera::store {

// Everything the workers keep, as loaded in one pass.
struct CacheSnapshot {
  std::unordered_map<std::string, AccountState> accounts;  // by userid
  std::unordered_map<std::string, std::int64_t> revoked;   // ticket hash → expiry (Unix seconds)
  std::unordered_map<std::string, GrantRecord> grants;     // by jti
};

class ChangeSink {
 public:
  virtual ~ChangeSink() = default;
  // Replaces everything (after a (re)connect, or when a notification could not be trusted), and
  // counts as hearing from PostgreSQL.
  virtual void Replace(CacheSnapshot snapshot) = 0;
  // Sets or (with nullopt) removes one account's state.
  virtual void SetAccount(const std::string& userid, std::optional<AccountState> state) = 0;
  // Sets or (with nullopt) removes one grant.
  virtual void SetGrant(const std::string& jti, std::optional<GrantRecord> grant) = 0;
  // Records a revoked ticket until `expires_at`; `now` lets the sink forget expired ones.
  virtual void AddRevocation(const std::string& ticket_hash, std::int64_t expires_at,
                             std::int64_t now) = 0;
  // The listener heard from PostgreSQL now / lost it.
  virtual void MarkFresh() = 0;
  virtual void MarkLost() = 0;
};

}  // namespace tessera::store
