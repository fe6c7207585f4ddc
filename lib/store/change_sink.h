// What the change listener (lib/store/pg/listener) writes into: the workers' cache of accounts,
// token grants and ticket revocations. The cache holds only what it has read (store/auth_store.h,
// CacheSource), so the listener does not load accounts or grants: it tells the cache which ones
// changed, and the cache forgets them (and reads them again when next asked). Revocations are
// few (they live as long as a ticket), so they are loaded whole and added as they come. The
// listener also says whether it can hear PostgreSQL. auth::SessionCache implements this; tests
// may record the calls. This interface keeps store/ from depending on auth/.
//
// Implementations must be thread-safe: the listener thread writes while request threads read.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>

namespace tessera::store {

// Ticket revocations: ticket hash → expiry (Unix seconds).
using Revocations = std::unordered_map<std::string, std::int64_t>;

class ChangeSink {
 public:
  virtual ~ChangeSink() = default;
  // Starts over: forgets every account and grant held (after a (re)connect notifications may have
  // been missed; a '*' or a malformed payload does not say what changed), replaces the
  // revocations with `revoked`, and counts as hearing from PostgreSQL.
  virtual void Reset(Revocations revoked) = 0;
  // The account `userid` changed, appeared or went: forget what is held of it. Costs nothing
  // when nothing is held.
  virtual void ForgetAccount(const std::string& userid) = 0;
  // The grant `jti` changed, appeared or went: forget what is held of it, as above.
  virtual void ForgetGrant(const std::string& jti) = 0;
  // Records a revoked ticket until `expires_at`; `now` lets the sink forget expired ones.
  virtual void AddRevocation(const std::string& ticket_hash, std::int64_t expires_at,
                             std::int64_t now) = 0;
  // The listener heard from PostgreSQL now / lost it.
  virtual void MarkFresh() = 0;
  virtual void MarkLost() = 0;
};

}  // namespace tessera::store
