#include "auth/session_cache.h"

#include <mutex>

namespace tessera::auth {

void SessionCache::Load(std::unordered_map<std::string, store::AccountState> accounts,
                        std::unordered_map<std::string, std::int64_t> revoked,
                        std::unordered_map<std::string, Grant> grants) {
  Replace({std::move(accounts), std::move(revoked), std::move(grants)});
}

void SessionCache::Replace(store::CacheSnapshot snapshot) {
  std::unique_lock lock(mutex_);
  accounts_ = std::move(snapshot.accounts);
  revoked_ = std::move(snapshot.revoked);
  grants_ = std::move(snapshot.grants);
  // A row fetched before this load may be older than it.
  for (Fetch& f : fetches_) f.changed = true;
  fresh_at_ = clock_.Now();
}

void SessionCache::SetAccount(const std::string& userid, std::optional<store::AccountState> state) {
  std::unique_lock lock(mutex_);
  if (state) {
    accounts_[userid] = *state;
  } else {
    accounts_.erase(userid);
  }
}

void SessionCache::SetGrant(const std::string& jti, std::optional<Grant> grant) {
  std::unique_lock lock(mutex_);
  if (grant) {
    grants_[jti] = std::move(*grant);
  } else {
    grants_.erase(jti);
  }
  for (Fetch& f : fetches_) {
    if (f.jti == jti) f.changed = true;
  }
}

void SessionCache::AddRevocation(const std::string& revocation_id, std::int64_t expires_at,
                                 std::int64_t now) {
  std::unique_lock lock(mutex_);
  revoked_[revocation_id] = expires_at;
  // Forget revocations of tickets that have expired anyway, now and then.
  if (revoked_.size() % 256 == 0)
    std::erase_if(revoked_, [&](const auto& e) { return e.second < now; });
}

void SessionCache::MarkFresh() {
  std::unique_lock lock(mutex_);
  fresh_at_ = clock_.Now();
}

void SessionCache::MarkLost() {
  std::unique_lock lock(mutex_);
  fresh_at_.reset();
}

bool SessionCache::FreshLocked() const {
  return fresh_at_ && clock_.Now() - *fresh_at_ <= max_staleness_;
}

bool SessionCache::IsFresh() const {
  std::shared_lock lock(mutex_);
  return FreshLocked();
}

std::expected<const store::AccountState*, SessionCheck> SessionCache::AccountLocked(
    std::string_view userid, std::int64_t now) const {
  if (!FreshLocked()) return std::unexpected(SessionCheck::kUnavailable);
  auto account = accounts_.find(std::string(userid));
  if (account == accounts_.end()) return std::unexpected(SessionCheck::kUnknownAccount);
  const store::AccountState& s = account->second;
  if (!s.enabled) return std::unexpected(SessionCheck::kDisabled);
  if (s.expires_at && *s.expires_at <= now) return std::unexpected(SessionCheck::kAccountExpired);
  return &s;
}

SessionCheck SessionCache::CheckAccount(std::string_view userid, std::int64_t now) const {
  std::shared_lock lock(mutex_);
  auto account = AccountLocked(userid, now);
  return account ? SessionCheck::kOk : account.error();
}

std::expected<Grant, SessionCheck> SessionCache::GrantLocked(std::string_view jti,
                                                             std::string_view userid,
                                                             std::int64_t now) const {
  if (auto account = AccountLocked(userid, now); !account) return std::unexpected(account.error());
  auto grant = grants_.find(std::string(jti));
  if (grant == grants_.end() || grant->second.userid != userid) {
    return std::unexpected(SessionCheck::kUnknownGrant);
  }
  if (grant->second.revoked) return std::unexpected(SessionCheck::kRevoked);
  if (grant->second.expires_at <= now) return std::unexpected(SessionCheck::kGrantExpired);
  return grant->second;
}

std::expected<Grant, SessionCheck> SessionCache::CheckGrant(std::string_view jti,
                                                            std::string_view userid,
                                                            std::int64_t now) const {
  std::shared_lock lock(mutex_);
  return GrantLocked(jti, userid, now);
}

std::expected<Grant, SessionCheck> SessionCache::CheckGrant(std::string_view jti,
                                                            std::string_view userid,
                                                            std::int64_t now,
                                                            const GrantFetcher& fetch_on_miss) {
  {
    std::shared_lock lock(mutex_);
    auto cached = GrantLocked(jti, userid, now);
    if (cached || cached.error() != SessionCheck::kUnknownGrant) return cached;
    // The cache holds the grant (for another account): nothing to fetch.
    if (grants_.contains(std::string(jti))) return cached;
  }
  // Two reads at most: a second one only when the grant changed during the first and the cache
  // no longer holds it (it may have been deleted, or a reload may have raced it).
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::list<Fetch>::iterator mine;
    {
      std::unique_lock lock(mutex_);
      mine = fetches_.insert(fetches_.end(), Fetch{std::string(jti)});
    }
    auto row = fetch_on_miss(jti);
    std::unique_lock lock(mutex_);
    bool changed = mine->changed;
    fetches_.erase(mine);
    if (!row) return std::unexpected(SessionCheck::kUnavailable);
    if (!changed) {
      if (*row) grants_[std::string(jti)] = std::move(**row);
      break;
    }
    // Whatever the listener applied meanwhile is newer than the row just read.
    if (grants_.contains(std::string(jti))) break;
  }
  return CheckGrant(jti, userid, now);
}

SessionCheck SessionCache::CheckTicket(std::string_view userid, std::int64_t ticket_time,
                                       std::string_view revocation_id, std::int64_t now) const {
  std::shared_lock lock(mutex_);
  auto account = AccountLocked(userid, now);
  if (!account) return account.error();
  if (ticket_time < (*account)->session_epoch) return SessionCheck::kSessionEnded;
  if (revoked_.contains(std::string(revocation_id))) return SessionCheck::kRevoked;
  return SessionCheck::kOk;
}

}  // namespace tessera::auth
