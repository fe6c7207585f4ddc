// Per-account quotas (accounts.quota_bytes, sql/0013) and usage that equals the storage
// (sql/0016): every upload reserves its length in PostgreSQL before a byte of its body is read,
// so any number of workers sharing the database keep an account within its quota together; the
// reservation becomes the object's usage when the object is stored, and is given back when it
// is not. A removal takes the removed object's size off again.
//
// Each reservation is a row naming the worker that made it, with a lease (kLeaseSeconds) the
// worker renews while a long upload streams. Just before the store commits the object the
// reservation is marked `storing`. A worker that dies leaves its reservations to lapse: once the
// lease has run out, any other worker (SettleExpired, run from Reserve at most every
// kSettleEverySeconds) gives back those never marked, and settles the marked ones by looking at
// the storage: an object that is there is counted, one that is not is given back. So a crash
// costs nothing visible and its room comes back within the lease.
//
// What counts: every object, locks included. Locks and index files may pass the quota by
// kShrinkGraceBytes: every restic command writes a lock, and `restic prune` writes the new index
// before it deletes the packs it frees, so `forget --prune` must be able to do both on a full
// account to bring it back under. The grace is a bound, not a hole: the account's total never
// passes quota + grace.
//
// A removal is made and counted only by the one request that claimed it
// (store::UsageStore::ClaimRemoval): parallel DELETEs of one object remove it once and lower the
// usage once. PostgreSQL unreachable: uploads and removals answer 503, so nothing is stored or
// removed unaccounted. Time is read through clock::Clock. Thread-safe when the store is (the
// worker's pool).
#pragma once

#include <atomic>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

#include "backup/storage.h"
#include "clock/clock.h"
#include "store/usage_store.h"

namespace tessera::backup {

// How far locks and index files may take an account past its quota: a few of restic's index
// files (each well under 8 MiB for a repository of millions of blobs) and its locks (under 1 KiB).
inline constexpr std::uint64_t kShrinkGraceBytes = 64ull * 1024 * 1024;
// How long a reservation or a removal claim outlives its worker. A live worker renews a
// reservation when a third of it has passed, so only a worker that stalls for two minutes
// between two pieces of a body loses one (its upload then fails with 503).
inline constexpr std::int64_t kLeaseSeconds = 180;
inline constexpr std::int64_t kSettleEverySeconds = 30;

class UsageLedger;

// An upload's reserved room. KeepAlive() while the body streams, Storing() just before the
// store commits, Commit() once it has; dropped without, it gives the room back. Move-only; one
// thread.
class Reservation {
 public:
  Reservation(Reservation&& other) noexcept;
  Reservation& operator=(Reservation&&) = delete;
  ~Reservation();

  // Renews the lease when a third of it has passed; false when the reservation was lost (its
  // lease ran out and another worker settled it) or the database did not answer the renewal.
  [[nodiscard]] bool KeepAlive();
  // Marks the reservation as about to become an object (and renews it): kUnavailable when it
  // was lost or the database does not answer; the upload must then not be stored.
  [[nodiscard]] std::expected<void, StorageError> Storing();
  void Commit();
  const std::string& id() const { return row_.id; }

 private:
  friend class UsageLedger;
  Reservation(UsageLedger* ledger, store::ReservationRow row, std::int64_t renewed)
      : ledger_(ledger), row_(std::move(row)), renewed_(renewed) {}

  UsageLedger* ledger_ = nullptr;  // null: nothing reserved, or committed
  store::ReservationRow row_;
  std::int64_t renewed_ = 0;  // when the lease was last set (the clock's seconds)
};

// The claim on one object's removal (UsageLedger::ClaimRemoval). Removed() counts it; dropped
// without, the claim ends and nothing is counted. Move-only; one thread.
class RemovalClaim {
 public:
  RemovalClaim(RemovalClaim&& other) noexcept;
  RemovalClaim& operator=(RemovalClaim&&) = delete;
  ~RemovalClaim();

  // The object was removed by this request and held `bytes`.
  void Removed(std::uint64_t bytes);

 private:
  friend class UsageLedger;
  RemovalClaim(UsageLedger* ledger, AccountId owner, std::string repo, std::string object,
               std::string claimer)
      : ledger_(ledger),
        owner_(owner),
        repo_(std::move(repo)),
        object_(std::move(object)),
        claimer_(std::move(claimer)) {}

  UsageLedger* ledger_ = nullptr;  // null: ended
  AccountId owner_{};
  std::string repo_, object_, claimer_;
};

// Why a removal may not go ahead now.
enum class ClaimRefusal {
  kHeld,         // another request holds the claim: it removes the object and counts it
  kUnavailable,  // PostgreSQL does not answer
};

class UsageLedger {
 public:
  // `store` and `storage` must outlive the ledger and be thread-safe; `worker` names this
  // process in the reservations it makes (host and pid).
  UsageLedger(store::UsageStore& store, Storage& storage, const clock::Clock& clock,
              std::string worker);

  // Room for an upload of `bytes` to object `name` of type `type` of `repo` (type "config" with
  // an empty name): kQuota when it would pass the owner's quota, kUnavailable when PostgreSQL
  // does not answer.
  std::expected<Reservation, StorageError> Reserve(AccountId owner, std::string_view repo,
                                                   std::string_view type, std::string_view name,
                                                   std::uint64_t bytes);
  // This request's claim on removing `name` of `type` from `repo`.
  std::expected<RemovalClaim, ClaimRefusal> ClaimRemoval(AccountId owner, std::string_view repo,
                                                         std::string_view type,
                                                         std::string_view name);
  // Settles the reservations whose lease has run out (module comment); returns how many were
  // settled by looking at the storage. Any worker may run it at any time.
  std::size_t SettleExpired();

  // A random 128-bit id in hex, for reservations and claims.
  static std::string NewId();

 private:
  friend class Reservation;
  friend class RemovalClaim;
  void Release(const Reservation& r);
  void Count(const Reservation& r);
  void Drop(const RemovalClaim& c);
  void CountRemoval(const RemovalClaim& c, std::uint64_t bytes);
  void MaybeSettle();

  store::UsageStore& store_;
  Storage& storage_;
  const clock::Clock& clock_;
  std::string worker_;
  std::atomic<std::int64_t> next_settle_{0};
};

}  // namespace tessera::backup
