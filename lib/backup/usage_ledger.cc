#include "backup/usage_ledger.h"

#include <sodium.h>

#include "log/log.h"
#include "store/database.h"

namespace tessera::backup {
namespace {

std::string Who(AccountId owner, std::string_view repo) {
  return "account " + std::to_string(static_cast<std::int64_t>(owner)) + " repository " +
         std::string(repo);
}

std::string Who(const store::ReservationRow& r) { return Who(AccountId{r.account}, r.repo); }

// "<type>/<name>" or "config" (a reservation's object) -> (type, name).
std::pair<std::string_view, std::string_view> SplitObject(std::string_view object) {
  auto slash = object.find('/');
  if (slash == std::string_view::npos) return {object, {}};
  return {object.substr(0, slash), object.substr(slash + 1)};
}

}  // namespace

UsageLedger::UsageLedger(store::UsageStore& store, Storage& storage, const clock::Clock& clock,
                         std::string worker)
    : store_(store), storage_(storage), clock_(clock), worker_(std::move(worker)) {}

std::string UsageLedger::NewId() {
  unsigned char bytes[16];
  randombytes_buf(bytes, sizeof bytes);
  char hex[2 * sizeof bytes + 1];
  sodium_bin2hex(hex, sizeof hex, bytes, sizeof bytes);
  return hex;
}

Reservation::Reservation(Reservation&& other) noexcept
    : ledger_(std::exchange(other.ledger_, nullptr)),
      row_(std::move(other.row_)),
      renewed_(other.renewed_) {}

Reservation::~Reservation() {
  if (ledger_) ledger_->Release(*this);
}

bool Reservation::KeepAlive() {
  if (!ledger_) return false;
  std::int64_t now = ledger_->clock_.Now();
  if (now - renewed_ < kLeaseSeconds / 3) return true;
  auto renewed = ledger_->store_.RenewUsage(row_.id, now + kLeaseSeconds, false);
  if (!renewed || !*renewed) return false;
  renewed_ = now;
  return true;
}

std::expected<void, StorageError> Reservation::Storing() {
  if (!ledger_) return std::unexpected(StorageError::kUnavailable);
  std::int64_t now = ledger_->clock_.Now();
  auto marked = ledger_->store_.RenewUsage(row_.id, now + kLeaseSeconds, true);
  if (!marked || !*marked) {
    log::Warning("a reservation of " + Who(row_) +
                 " was lost before its object was stored; the upload is refused");
    return std::unexpected(StorageError::kUnavailable);
  }
  renewed_ = now;
  return {};
}

void Reservation::Commit() {
  if (!ledger_) return;
  std::exchange(ledger_, nullptr)->Count(*this);
}

std::expected<Reservation, StorageError> UsageLedger::Reserve(AccountId owner,
                                                              std::string_view repo,
                                                              std::string_view type,
                                                              std::string_view name,
                                                              std::uint64_t bytes) {
  MaybeSettle();
  std::uint64_t grace = type == "index" || type == "locks" ? kShrinkGraceBytes : 0;
  std::int64_t now = clock_.Now();
  store::ReservationRow row{
      NewId(),
      static_cast<std::int64_t>(owner),
      std::string(repo),
      name.empty() ? std::string(type) : std::string(type) + "/" + std::string(name),
      bytes,
      worker_,
      now + kLeaseSeconds};
  auto reserved = store_.ReserveUsage(row, grace);
  if (!reserved) return std::unexpected(StorageError::kUnavailable);
  if (!*reserved) return std::unexpected(StorageError::kQuota);
  return Reservation(this, std::move(row), now);
}

void UsageLedger::MaybeSettle() {
  std::int64_t now = clock_.Now();
  std::int64_t due = next_settle_.load();
  if (now < due || !next_settle_.compare_exchange_strong(due, now + kSettleEverySeconds)) return;
  SettleExpired();
}

std::size_t UsageLedger::SettleExpired() {
  std::int64_t now = clock_.Now();
  auto marked = store_.ExpireUsage(now, 100);
  if (!marked) return 0;
  std::size_t settled = 0;
  for (const store::ReservationRow& r : *marked) {
    auto [type, name] = SplitObject(r.object);
    auto object = storage_.Open(AccountId{r.account}, r.repo, type, name);
    if (!object && object.error() != StorageError::kNotFound) continue;  // ask again later
    bool stored = object.has_value();
    auto done = store_.SettleExpired(r, now, stored);
    if (!done || !*done) continue;
    log::Info("a reservation of " + std::to_string(r.bytes) + " bytes of " + Who(r) + " made by " +
              r.worker + " ran out of its lease and was " +
              (stored ? "counted (its object is stored)" : "given back"));
    ++settled;
  }
  return settled;
}

RemovalClaim::RemovalClaim(RemovalClaim&& other) noexcept
    : ledger_(std::exchange(other.ledger_, nullptr)),
      owner_(other.owner_),
      repo_(std::move(other.repo_)),
      object_(std::move(other.object_)),
      claimer_(std::move(other.claimer_)) {}

RemovalClaim::~RemovalClaim() {
  if (ledger_) ledger_->Drop(*this);
}

void RemovalClaim::Removed(std::uint64_t bytes) {
  if (!ledger_) return;
  std::exchange(ledger_, nullptr)->CountRemoval(*this, bytes);
}

std::expected<RemovalClaim, ClaimRefusal> UsageLedger::ClaimRemoval(AccountId owner,
                                                                    std::string_view repo,
                                                                    std::string_view type,
                                                                    std::string_view name) {
  std::string object = std::string(repo) + "/" + std::string(type) + "/" + std::string(name);
  std::string claimer = NewId();
  std::int64_t now = clock_.Now();
  auto claimed = store_.ClaimRemoval(static_cast<std::int64_t>(owner), object, claimer, now,
                                     now + kLeaseSeconds);
  if (!claimed) return std::unexpected(ClaimRefusal::kUnavailable);
  if (!*claimed) return std::unexpected(ClaimRefusal::kHeld);
  return RemovalClaim(this, owner, std::string(repo), std::move(object), std::move(claimer));
}

void UsageLedger::Drop(const RemovalClaim& c) {
  // A claim that stays (database gone meanwhile) is taken over when its lease runs out.
  (void)store_.DropRemoval(static_cast<std::int64_t>(c.owner_), c.object_, c.claimer_);
}

void UsageLedger::CountRemoval(const RemovalClaim& c, std::uint64_t bytes) {
  if (!store_.RemoveUsage(static_cast<std::int64_t>(c.owner_), c.repo_, c.object_, c.claimer_,
                          bytes)) {
    log::Warning("usage of " + Who(c.owner_, c.repo_) + " could not be lowered by " +
                 std::to_string(bytes) +
                 " bytes (database unavailable); it stays too high until `tessera-admin usage "
                 "recompute`");
  }
}

void UsageLedger::Release(const Reservation& r) {
  if (!store_.ReleaseUsage(r.row_.account, r.row_.id)) {
    log::Warning("a reservation of " + std::to_string(r.row_.bytes) + " bytes for " + Who(r.row_) +
                 " could not be given back now (database unavailable); it is when its lease "
                 "runs out");
  }
}

void UsageLedger::Count(const Reservation& r) {
  if (!store_.CommitUsage(r.row_.account, r.row_.id, r.row_.repo, r.row_.bytes)) {
    log::Warning("a stored object of " + std::to_string(r.row_.bytes) + " bytes of " + Who(r.row_) +
                 " could not be counted now (database unavailable); it is when its lease runs "
                 "out");
  }
}

}  // namespace tessera::backup
