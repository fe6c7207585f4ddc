#include "auth/session_cache.h"

#include <algorithm>
#include <mutex>

#include "names/userid.h"
#include "store/notification.h"

namespace tessera::auth {
namespace {
// Reads of one key: a second only when a change raced the first.
constexpr int kMaxReads = 2;
}  // namespace

std::size_t GrantShare(std::size_t entries) {
  return std::max<std::size_t>(1, entries / kGrantShareDivisor);
}

SessionCache::SessionCache(store::CacheSource& source, std::chrono::milliseconds max_staleness,
                           std::size_t entries, const clock::SteadyClock& clock)
    : source_(source),
      accounts_(entries),
      grants_(entries, GrantShare(entries)),
      max_staleness_(max_staleness),
      clock_(clock) {}

void SessionCache::Load(const std::unordered_map<std::string, store::AccountState>& accounts,
                        store::Revocations revoked,
                        const std::unordered_map<std::string, Grant>& grants) {
  Reset(std::move(revoked));
  std::unique_lock lock(mutex_);
  for (const auto& [userid, state] : accounts) accounts_.Put(userid, state);
  for (const auto& [jti, grant] : grants) grants_.Put(jti, grant, grant.userid);
}

void SessionCache::Reset(store::Revocations revoked) {
  std::unique_lock lock(mutex_);
  accounts_.Clear();
  grants_.Clear();
  revoked_ = std::move(revoked);
  // A row read before this point may be older than a change that was never heard.
  RacedLocked(std::nullopt, {});
  fresh_at_ = clock_.Now();
}

void SessionCache::RacedLocked(std::optional<Kind> kind, std::string_view key) {
  for (Read& r : reads_) {
    if (!kind || (r.kind == *kind && r.key == key)) r.changed = true;
  }
}

void SessionCache::ForgetAccount(const std::string& userid) {
  std::unique_lock lock(mutex_);
  accounts_.Erase(userid);
  RacedLocked(Kind::kAccount, userid);
}

void SessionCache::ForgetGrant(const std::string& jti) {
  std::unique_lock lock(mutex_);
  grants_.Erase(jti);
  RacedLocked(Kind::kGrant, jti);
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

std::size_t SessionCache::accounts_held() const {
  std::shared_lock lock(mutex_);
  return accounts_.size();
}

std::size_t SessionCache::grants_held() const {
  std::shared_lock lock(mutex_);
  return grants_.size();
}

template <typename T, typename ReadRow>
std::expected<std::optional<T>, SessionCheck> SessionCache::Lookup(Rows<T>& map, Kind kind,
                                                                   std::string_view key,
                                                                   std::string_view partition,
                                                                   ReadRow read) {
  {
    std::shared_lock lock(mutex_);
    if (!FreshLocked()) return std::unexpected(SessionCheck::kUnavailable);
    if (const std::optional<T>* held = map.Find(key)) return *held;
  }
  Found<T> row;
  for (int attempt = 0; attempt < kMaxReads; ++attempt) {
    std::list<Read>::iterator mine;
    {
      std::unique_lock lock(mutex_);
      mine = reads_.insert(reads_.end(), Read{kind, std::string(key)});
    }
    row = read(key);
    std::unique_lock lock(mutex_);
    bool changed = mine->changed;
    reads_.erase(mine);
    if (!row) return std::unexpected(SessionCheck::kUnavailable);
    if (!changed) {
      map.Put(key, *row, partition);
      break;
    }
    // Whatever the listener applied meanwhile may be newer than the row just read: read again.
    // The last read began after that change was heard, so it answers this request either way.
  }
  return std::move(*row);
}

std::expected<store::AccountState, SessionCheck> SessionCache::Account(std::string_view userid,
                                                                       std::int64_t now) {
  auto state = Lookup(accounts_, Kind::kAccount, userid, {},
                      [this](std::string_view key) -> Found<store::AccountState> {
                        // Not a userid: no row can match, so none is asked for.
                        if (!names::IsValidUserid(key)) return std::nullopt;
                        return source_.FindAccountState(key);
                      });
  if (!state) return std::unexpected(state.error());
  if (!*state) return std::unexpected(SessionCheck::kUnknownAccount);
  const store::AccountState& s = **state;
  if (!s.enabled) return std::unexpected(SessionCheck::kDisabled);
  if (s.expires_at && *s.expires_at <= now) return std::unexpected(SessionCheck::kAccountExpired);
  return s;
}

SessionCheck SessionCache::CheckAccount(std::string_view userid, std::int64_t now) {
  auto account = Account(userid, now);
  return account ? SessionCheck::kOk : account.error();
}

std::expected<Grant, SessionCheck> SessionCache::CheckGrant(std::string_view jti,
                                                            std::string_view userid,
                                                            std::int64_t now) {
  if (auto account = Account(userid, now); !account) return std::unexpected(account.error());
  // Kept in the share of the account the verified token names (auth/recent_map.h).
  auto grant =
      Lookup(grants_, Kind::kGrant, jti, userid, [this](std::string_view key) -> Found<Grant> {
        if (!store::IsValidJti(key)) return std::nullopt;
        return source_.FindGrant(key);
      });
  if (!grant) return std::unexpected(grant.error());
  // A row of another account is never honoured (it is kept: the next such request asks nothing).
  if (!*grant || (*grant)->userid != userid) return std::unexpected(SessionCheck::kUnknownGrant);
  if ((*grant)->revoked) return std::unexpected(SessionCheck::kRevoked);
  if ((*grant)->expires_at <= now) return std::unexpected(SessionCheck::kGrantExpired);
  return std::move(**grant);
}

SessionCheck SessionCache::CheckTicket(std::string_view userid, std::int64_t ticket_time,
                                       std::string_view revocation_id, std::int64_t now) {
  auto account = Account(userid, now);
  if (!account) return account.error();
  if (ticket_time < account->session_epoch) return SessionCheck::kSessionEnded;
  std::shared_lock lock(mutex_);
  if (revoked_.contains(std::string(revocation_id))) return SessionCheck::kRevoked;
  return SessionCheck::kOk;
}

}  // namespace tessera::auth
