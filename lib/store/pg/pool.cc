#include "store/pg/pool.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <string>
#include <utility>

#include "log/log.h"

namespace tessera::store::pg {
namespace {

class DatabasePool final : public Database {
 public:
  DatabasePool(std::vector<std::unique_ptr<Database>> members, std::chrono::milliseconds wait)
      : members_(std::move(members)), wait_(wait) {
    for (auto& m : members_) idle_.push_back(m.get());
  }

  std::expected<void, StoreError> Ping() override {
    return With([&](Database& db) { return db.Ping(); });
  }
  std::expected<std::optional<AccountRecord>, StoreError> FindAccount(
      std::string_view userid) override {
    return With([&](Database& db) { return db.FindAccount(userid); });
  }
  std::expected<void, StoreError> ReplacePasswordHash(std::string_view userid,
                                                      std::string_view old_hash,
                                                      std::string_view new_hash) override {
    return With([&](Database& db) { return db.ReplacePasswordHash(userid, old_hash, new_hash); });
  }
  std::expected<std::optional<std::int64_t>, StoreError> ChangePassword(
      std::string_view userid, std::string_view old_hash, std::string_view new_hash) override {
    return With([&](Database& db) { return db.ChangePassword(userid, old_hash, new_hash); });
  }
  std::expected<std::vector<OwnGrant>, StoreError> ListOwnGrants(std::string_view userid,
                                                                 std::size_t limit) override {
    return With([&](Database& db) { return db.ListOwnGrants(userid, limit); });
  }
  std::expected<OwnGrant, GrantRefusal> GrantOwn(std::string_view userid,
                                                 const GrantAsk& ask) override {
    auto made = With([&](Database& db) {
      return std::expected<std::expected<OwnGrant, GrantRefusal>, StoreError>(
          db.GrantOwn(userid, ask));
    });
    if (!made) return std::unexpected(GrantRefusal{made.error(), {}});
    return std::move(*made);
  }
  std::expected<std::optional<std::string>, StoreError> RevokeOwn(std::string_view userid,
                                                                  std::string_view name) override {
    return With([&](Database& db) { return db.RevokeOwn(userid, name); });
  }
  std::expected<bool, StoreError> StartSession(std::string_view userid, const SessionTicket& first,
                                               int max_sessions) override {
    return With([&](Database& db) { return db.StartSession(userid, first, max_sessions); });
  }
  std::expected<bool, StoreError> ContinueSession(std::string_view presented,
                                                  std::string_view userid,
                                                  const SessionTicket& next) override {
    return With([&](Database& db) { return db.ContinueSession(presented, userid, next); });
  }
  std::expected<std::vector<SessionTicket>, StoreError> EndSession(
      const SessionTicket& presented, std::string_view userid) override {
    return With([&](Database& db) { return db.EndSession(presented, userid); });
  }
  std::expected<ThrottleVerdict, StoreError> ReserveAttempt(std::string_view account_key,
                                                            std::string_view network,
                                                            const ThrottlePolicy& policy) override {
    return With([&](Database& db) { return db.ReserveAttempt(account_key, network, policy); });
  }
  std::expected<void, StoreError> ReleaseAttempt(std::string_view account_key,
                                                 std::string_view network) override {
    return With([&](Database& db) { return db.ReleaseAttempt(account_key, network); });
  }
  std::expected<std::int64_t, StoreError> Prune(const RetentionPolicy& policy) override {
    return With([&](Database& db) { return db.Prune(policy); });
  }
  std::expected<void, StoreError> Audit(std::string_view event, std::string_view userid,
                                        std::string_view client, std::string_view reason) override {
    return With([&](Database& db) { return db.Audit(event, userid, client, reason); });
  }
  std::expected<std::optional<AccountState>, StoreError> FindAccountState(
      std::string_view userid) override {
    return With([&](Database& db) { return db.FindAccountState(userid); });
  }
  std::expected<bool, StoreError> ReserveUsage(const ReservationRow& r,
                                               std::uint64_t grace) override {
    return With([&](Database& db) { return db.ReserveUsage(r, grace); });
  }
  std::expected<bool, StoreError> RenewUsage(std::string_view id, std::int64_t lease_until,
                                             bool storing) override {
    return With([&](Database& db) { return db.RenewUsage(id, lease_until, storing); });
  }
  std::expected<void, StoreError> ReleaseUsage(std::int64_t account, std::string_view id) override {
    return With([&](Database& db) { return db.ReleaseUsage(account, id); });
  }
  std::expected<void, StoreError> CommitUsage(std::int64_t account, std::string_view id,
                                              std::string_view repo, std::uint64_t bytes) override {
    return With([&](Database& db) { return db.CommitUsage(account, id, repo, bytes); });
  }
  std::expected<std::vector<ReservationRow>, StoreError> ExpireUsage(std::int64_t now,
                                                                     std::size_t limit) override {
    return With([&](Database& db) { return db.ExpireUsage(now, limit); });
  }
  std::expected<bool, StoreError> SettleExpired(const ReservationRow& r, std::int64_t now,
                                                bool stored) override {
    return With([&](Database& db) { return db.SettleExpired(r, now, stored); });
  }
  std::expected<bool, StoreError> ClaimRemoval(std::int64_t account, std::string_view object,
                                               std::string_view claimer, std::int64_t now,
                                               std::int64_t lease_until) override {
    return With(
        [&](Database& db) { return db.ClaimRemoval(account, object, claimer, now, lease_until); });
  }
  std::expected<void, StoreError> DropRemoval(std::int64_t account, std::string_view object,
                                              std::string_view claimer) override {
    return With([&](Database& db) { return db.DropRemoval(account, object, claimer); });
  }
  std::expected<void, StoreError> RemoveUsage(std::int64_t account, std::string_view repo,
                                              std::string_view object, std::string_view claimer,
                                              std::uint64_t bytes) override {
    return With(
        [&](Database& db) { return db.RemoveUsage(account, repo, object, claimer, bytes); });
  }
  std::expected<RepoClaim, StoreError> ClaimRepo(std::int64_t account, std::string_view repo,
                                                 std::uint64_t default_cap) override {
    return With([&](Database& db) { return db.ClaimRepo(account, repo, default_cap); });
  }
  std::expected<void, StoreError> DropEmptyRepo(std::int64_t account,
                                                std::string_view repo) override {
    return With([&](Database& db) { return db.DropEmptyRepo(account, repo); });
  }
  std::expected<void, StoreError> NoteRepo(std::int64_t account, std::string_view repo) override {
    return With([&](Database& db) { return db.NoteRepo(account, repo); });
  }
  std::expected<void, StoreError> CountSnapshot(std::int64_t account, std::string_view repo,
                                                bool added) override {
    return With([&](Database& db) { return db.CountSnapshot(account, repo, added); });
  }
  std::expected<std::vector<RepoRow>, StoreError> ListRepos(std::int64_t account,
                                                            const std::optional<std::string>& only,
                                                            std::size_t limit) override {
    return With([&](Database& db) { return db.ListRepos(account, only, limit); });
  }
  std::expected<std::optional<AccountUse>, StoreError> ReadAccountUse(
      std::int64_t account, std::uint64_t default_cap) override {
    return With([&](Database& db) { return db.ReadAccountUse(account, default_cap); });
  }
  std::expected<std::optional<GrantRecord>, StoreError> FindGrant(std::string_view jti) override {
    return With([&](Database& db) { return db.FindGrant(jti); });
  }

 private:
  // Runs `call` on a borrowed member, or fails with kUnavailable when none frees up in time.
  // The member goes back to the pool even if `call` throws (a bug the request fence reports).
  template <typename Call>
  auto With(Call call) -> decltype(call(std::declval<Database&>())) {
    Database* db = Borrow();
    if (db == nullptr) return std::unexpected(StoreError::kUnavailable);
    struct Return {
      DatabasePool* pool;
      Database* db;
      ~Return() { pool->GiveBack(db); }
    } give_back{this, db};
    return call(*db);
  }

  Database* Borrow() {
    std::unique_lock lock(mutex_);
    if (!available_.wait_for(lock, wait_, [&] { return !idle_.empty(); })) {
      log::Warning("database: every connection busy for " + std::to_string(wait_.count()) +
                   " ms; answering 503 (raise database_connections?)");
      return nullptr;
    }
    Database* db = idle_.back();
    idle_.pop_back();
    return db;
  }

  void GiveBack(Database* db) {
    {
      std::lock_guard lock(mutex_);
      idle_.push_back(db);
    }
    available_.notify_one();
  }

  const std::vector<std::unique_ptr<Database>> members_;
  const std::chrono::milliseconds wait_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<Database*> idle_;  // guarded by mutex_; LIFO keeps the warm connections busy
};

}  // namespace

std::unique_ptr<Database> MakeDatabasePool(std::vector<std::unique_ptr<Database>> members,
                                           std::chrono::milliseconds wait) {
  return std::make_unique<DatabasePool>(std::move(members), wait);
}

std::unique_ptr<Database> OpenPgPool(const PgOptions& options, int connections,
                                     std::chrono::milliseconds wait) {
  std::vector<std::unique_ptr<Database>> members;
  for (int i = 0; i < std::max(connections, 1); ++i) members.push_back(OpenPgDatabase(options));
  return MakeDatabasePool(std::move(members), wait);
}

}  // namespace tessera::store::pg
