#include "backup/usage_ledger.h"

#include "log/log.h"
#include "store/database.h"

namespace tessera::backup {
namespace {

std::string Who(AccountId owner, std::string_view repo) {
  return "account " + std::to_string(static_cast<std::int64_t>(owner)) + " repository " +
         std::string(repo);
}

}  // namespace

Reservation::Reservation(Reservation&& other) noexcept
    : ledger_(std::exchange(other.ledger_, nullptr)),
      owner_(other.owner_),
      repo_(std::move(other.repo_)),
      bytes_(other.bytes_) {}

Reservation::~Reservation() {
  if (ledger_) ledger_->Release(*this);
}

void Reservation::Commit() {
  if (!ledger_) return;
  std::exchange(ledger_, nullptr)->Count(*this);
}

std::expected<Reservation, StorageError> UsageLedger::Reserve(AccountId owner,
                                                              std::string_view repo,
                                                              std::string_view type,
                                                              std::uint64_t bytes) {
  std::uint64_t grace = type == "index" || type == "locks" ? kShrinkGraceBytes : 0;
  auto reserved = store_.ReserveUsage(static_cast<std::int64_t>(owner), bytes, grace);
  if (!reserved) return std::unexpected(StorageError::kUnavailable);
  if (!*reserved) return std::unexpected(StorageError::kQuota);
  return Reservation(this, owner, std::string(repo), bytes);
}

RemovalClaim::RemovalClaim(RemovalClaim&& other) noexcept
    : ledger_(std::exchange(other.ledger_, nullptr)),
      owner_(other.owner_),
      repo_(std::move(other.repo_)),
      object_(std::move(other.object_)) {}

RemovalClaim::~RemovalClaim() {
  if (ledger_) ledger_->Drop(*this);
}

void RemovalClaim::Removed(std::uint64_t bytes) {
  if (!ledger_) return;
  std::exchange(ledger_, nullptr)->CountRemoval(*this, bytes);
}

std::optional<RemovalClaim> UsageLedger::ClaimRemoval(AccountId owner, std::string_view repo,
                                                      std::string_view type,
                                                      std::string_view name) {
  std::string object = std::string(repo) + "/" + std::string(type) + "/" + std::string(name);
  auto claimed = store_.ClaimRemoval(static_cast<std::int64_t>(owner), object);
  if (!claimed) {
    log::Warning("the removal of an object of " + Who(owner, repo) +
                 " is not counted (database unavailable); the usage stays too high until "
                 "`tessera-admin usage recompute`");
    return std::nullopt;
  }
  if (!*claimed) return std::nullopt;
  return RemovalClaim(this, owner, std::string(repo), std::move(object));
}

void UsageLedger::Drop(const RemovalClaim& c) {
  // A claim that stays (database gone meanwhile) is taken over after 10 minutes (sql/0013).
  (void)store_.DropRemoval(static_cast<std::int64_t>(c.owner_), c.object_);
}

void UsageLedger::CountRemoval(const RemovalClaim& c, std::uint64_t bytes) {
  if (!store_.RemoveUsage(static_cast<std::int64_t>(c.owner_), c.repo_, c.object_, bytes)) {
    log::Warning("usage of " + Who(c.owner_, c.repo_) + " could not be lowered by " +
                 std::to_string(bytes) +
                 " bytes (database unavailable); it stays too high until `tessera-admin usage "
                 "recompute`");
  }
}

void UsageLedger::Release(const Reservation& r) {
  if (!store_.ReleaseUsage(static_cast<std::int64_t>(r.owner_), r.bytes_)) {
    log::Warning("a reservation of " + std::to_string(r.bytes_) + " bytes for " +
                 Who(r.owner_, r.repo_) +
                 " could not be given back (database unavailable); the usage stays too high "
                 "until `tessera-admin usage recompute`");
  }
}

void UsageLedger::Count(const Reservation& r) {
  if (!store_.CommitUsage(static_cast<std::int64_t>(r.owner_), r.repo_, r.bytes_)) {
    log::Warning("a stored object of " + std::to_string(r.bytes_) + " bytes of " +
                 Who(r.owner_, r.repo_) +
                 " is counted for the account but not for the repository (database "
                 "unavailable) until `tessera-admin usage recompute`");
  }
}

}  // namespace tessera::backup
