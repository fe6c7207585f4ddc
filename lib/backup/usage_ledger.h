// Per-account quotas (accounts.quota_bytes, sql/0013): every upload reserves its length in
// PostgreSQL before a byte of its body is read, so any number of workers sharing the database
// keep an account within its quota together; the reservation becomes the object's usage when
// the object is stored, and is given back when it is not. A removal takes the removed object's
// size off again.
//
// What counts: every object but locks (small, capped per repository by the lock rules, and
// needed by every restic command, `forget --prune` on a full account included). Index files may
// pass the quota by kIndexGraceBytes: `restic prune` writes the new index before it deletes the
// packs it frees, and must be able to do so on a full account to bring it back under.
//
// PostgreSQL unreachable: uploads answer 503 (nothing is stored unaccounted); a removal still
// removes and logs that the usage is now too high (`tessera-admin usage recompute` sets it from
// the storage). Thread-safe when the store is (the worker's pool).
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

#include "backup/storage.h"
#include "store/usage_store.h"

namespace tessera::backup {

// How far index files may pass an account's quota: a few of restic's index files (each well
// under 8 MiB for a repository of millions of blobs).
inline constexpr std::uint64_t kIndexGraceBytes = 64ull * 1024 * 1024;

class UsageLedger;

// An upload's reserved room: Commit() when its object is stored; dropped without, it gives the
// room back. Move-only; one thread.
class Reservation {
 public:
  Reservation() = default;  // reserves nothing (a lock)
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

class UsageLedger {
 public:
  // `store` must outlive the ledger and be thread-safe.
  explicit UsageLedger(store::UsageStore& store) : store_(store) {}

  // Room for an upload of `bytes` to object type `type` of `repo`: kQuota when it would pass the
  // owner's quota, kUnavailable when PostgreSQL does not answer.
  std::expected<Reservation, StorageError> Reserve(AccountId owner, std::string_view repo,
                                                   std::string_view type, std::uint64_t bytes);
  // An object of `bytes` was removed from `repo`.
  void Removed(AccountId owner, std::string_view repo, std::uint64_t bytes);

 private:
  friend class Reservation;
  void Release(const Reservation& r);
  void Count(const Reservation& r);

  store::UsageStore& store_;
};

}  // namespace tessera::backup
