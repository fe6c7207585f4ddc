#include "auth/session_cache.h"

#include <mutex>

namespace tessera::auth {

void SessionCache::Load(std::unordered_map<std::string, store::AccountState> accounts,
                        std::unordered_map<std::string, std::int64_t> revoked,
                        std::unordered_map<std::string, Grant> grants) {
  std::unique_lock lock(mutex_);
  accounts_ = std::move(accounts);
  revoked_ = std::move(revoked);
  grants_ = std::move(grants);
  fresh_at_ = SteadyClock::now();
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
}

void SessionCache::AddRevocation(const std::string& revocation_id, std::int64_t expires_at,
                                 std::int64_t now) {
  std::unique_lock lock(mutex_);
  revoked_[revocation_id] = expires_at;
  // Forget revocations of tickets that have expired anyway, now and then.
  if (revoked_.size() % 256 == 0) std::erase_if(revoked_, [&](const auto& e) { return e.second < now; });
}

void SessionCache::MarkFresh() {
  std::unique_lock lock(mutex_);
  fresh_at_ = SteadyClock::now();
}

void SessionCache::MarkLost() {
  std::unique_lock lock(mutex_);
  fresh_at_.reset();
}

bool SessionCache::IsFresh() const {
  std::shared_lock lock(mutex_);
  return fresh_at_ && SteadyClock::now() - *fresh_at_ <= max_staleness_;
}

SessionCheck SessionCache::CheckAccount(std::string_view userid, std::int64_t now) const {
  std::shared_lock lock(mutex_);
  if (!fresh_at_ || SteadyClock::now() - *fresh_at_ > max_staleness_) return SessionCheck::kUnavailable;
  auto account = accounts_.find(std::string(userid));
  if (account == accounts_.end()) return SessionCheck::kUnknownAccount;
  if (!account->second.enabled) return SessionCheck::kDisabled;
  if (account->second.expires_at && *account->second.expires_at <= now) return SessionCheck::kAccountExpired;
  return SessionCheck::kOk;
}

std::expected<Grant, SessionCheck> SessionCache::CheckGrant(std::string_view jti, std::string_view userid,
                                                           std::int64_t now) const {
  SessionCheck account = CheckAccount(userid, now);
  if (account != SessionCheck::kOk) return std::unexpected(account);
  std::shared_lock lock(mutex_);
  auto grant = grants_.find(std::string(jti));
  if (grant == grants_.end() || grant->second.userid != userid) {
    return std::unexpected(SessionCheck::kUnknownGrant);
  }
  if (grant->second.revoked) return std::unexpected(SessionCheck::kRevoked);
  if (grant->second.expires_at <= now) return std::unexpected(SessionCheck::kGrantExpired);
  return grant->second;
}

SessionCheck SessionCache::Check(std::string_view userid, std::int64_t ticket_time,
                                 std::string_view revocation_id, std::int64_t now) const {
  std::shared_lock lock(mutex_);
  if (!fresh_at_ || SteadyClock::now() - *fresh_at_ > max_staleness_) return SessionCheck::kUnavailable;
  auto account = accounts_.find(std::string(userid));
  if (account == accounts_.end()) return SessionCheck::kUnknownAccount;
  const store::AccountState& s = account->second;
  if (!s.enabled) return SessionCheck::kDisabled;
  if (s.expires_at && *s.expires_at <= now) return SessionCheck::kAccountExpired;
  if (ticket_time < s.session_epoch) return SessionCheck::kSessionEnded;
  if (revoked_.contains(std::string(revocation_id))) return SessionCheck::kRevoked;
  return SessionCheck::kOk;
}

}  // namespace tessera::auth
