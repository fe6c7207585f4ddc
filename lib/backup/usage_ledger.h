// Per-account quotas (accounts.quota_bytes, sql/0013): every upload reserves its length in
// PostgreSQL before a byte of its body is read, so any number of workers sharing the database
// keep an account within its quota together; the reservation becomes the object's usage when
// the object is stored, and is given back when it is not. A removal takes the removed object's
// size off again.
//
// What counts: every object, locks included. Locks and index files may pass the quota by
// kShrinkGraceBytes: every restic command writes a lock, and `restic prune` writes the new index
// before it deletes the packs it frees, so `forget --prune` must be able to do both on a full
// account to bring it back under. The grace is a bound, not a hole: the account's total never
// passes quota + grace.
//
// A removal is counted by the one request that claimed it (store::UsageStore::ClaimRemoval), so
// parallel DELETEs of one object lower the usage once whatever the backend tells each of them.
//
// PostgreSQL unreachable: uploads answer 503 (nothing is stored unaccounted); a removal still
// removes and logs that the usage is now too high (`tessera-admin usage recompute` sets it from
// the storage). Thread-safe when the store is (the worker's pool).
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

#include "backup/storage.h"
#include "store/usage_store.h"

namespace tessera::backup {

// How far locks and index files may take an account past its quota: a few of restic's index
// files (each well under 8 MiB for a repository of millions of blobs) and its locks (under 1 KiB).
inline constexpr std::uint64_t kShrinkGraceBytes = 64ull * 1024 * 1024;

class UsageLedger;

// An upload's reserved room: Commit() when its object is stored; dropped without, it gives the
// room back. Move-only; one thread.
class Reservation {
 public:
  Reservation(Reservation&& other) noexcept;
  Reservation& operator=(Reservation&&) = delete;
  ~Reservation();

  void Commit();

 private:
  friend class UsageLedger;
  Reservation(UsageLedger* ledger, AccountId owner, std::string repo, std::uint64_t bytes)
      : ledger_(ledger), owner_(owner), repo_(std::move(repo)), bytes_(bytes) {}

  UsageLedger* ledger_ = nullptr;  // null: nothing reserved, or committed
  AccountId owner_{};
  std::string repo_;
  std::uint64_t bytes_ = 0;
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
  RemovalClaim(UsageLedger* ledger, AccountId owner, std::string repo, std::string object)
      : ledger_(ledger), owner_(owner), repo_(std::move(repo)), object_(std::move(object)) {}

  UsageLedger* ledger_ = nullptr;  // null: ended
  AccountId owner_{};
  std::string repo_, object_;
};

class UsageLedger {
 public:
  // `store` must outlive the ledger and be thread-safe.
  explicit UsageLedger(store::UsageStore& store) : store_(store) {}

  // Room for an upload of `bytes` to object type `type` of `repo`: kQuota when it would pass the
  // owner's quota, kUnavailable when PostgreSQL does not answer.
  std::expected<Reservation, StorageError> Reserve(AccountId owner, std::string_view repo,
                                                   std::string_view type, std::uint64_t bytes);
  // This request's claim on removing `name` of `type` from `repo`, or nullopt when another
  // request holds it (that one counts the removal) or PostgreSQL does not answer (logged: the
  // usage stays too high).
  std::optional<RemovalClaim> ClaimRemoval(AccountId owner, std::string_view repo,
                                           std::string_view type, std::string_view name);

 private:
  friend class Reservation;
  friend class RemovalClaim;
  void Release(const Reservation& r);
  void Count(const Reservation& r);
  void Drop(const RemovalClaim& c);
  void CountRemoval(const RemovalClaim& c, std::uint64_t bytes);

  store::UsageStore& store_;
};

}  // namespace tessera::backup
