// What each account stores, tracked in PostgreSQL (sql/0013) so that every worker sharing the
// database enforces one quota: an upload reserves its length before its body is read, and the
// reservation becomes the object's usage when it is stored, or is given back when it is not.
// Accounts are named by their immutable id (accounts.id). The PostgreSQL implementation serves
// one thread; the worker's pool of them (store/pg/pool.h) is thread-safe.
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tessera::store {

enum class StoreError;

// What one repository's committed objects hold.
struct RepoBytes {
  std::string repo;
  std::uint64_t bytes = 0;
  std::uint64_t objects = 0;
  // Its snapshots and when the newest was stored (Unix seconds), for the overview (sql/0014).
  std::uint64_t snapshots = 0;
  std::optional<std::int64_t> last_snapshot;
};

class UsageStore {
 public:
  virtual ~UsageStore() = default;
  // Adds `bytes` to the account's usage when the result stays within its quota plus `grace`
  // (always without a quota); false, and nothing changed, when it would not. Atomic: parallel
  // reservations on any number of workers never pass the quota together.
  virtual std::expected<bool, StoreError> ReserveUsage(std::int64_t account, std::uint64_t bytes,
                                                       std::uint64_t grace) = 0;
  // Gives back a reservation whose upload was not stored.
  virtual std::expected<void, StoreError> ReleaseUsage(std::int64_t account,
                                                       std::uint64_t bytes) = 0;
  // Counts a reserved upload of `bytes` as one object of `repo`.
  virtual std::expected<void, StoreError> CommitUsage(std::int64_t account, std::string_view repo,
                                                      std::uint64_t bytes) = 0;
  // Claims the removal of `object` ("<repo>/<type>/<name>") for this request: false when another
  // request holds the claim (it will count the removal), true when this one may.
  virtual std::expected<bool, StoreError> ClaimRemoval(std::int64_t account,
                                                       std::string_view object) = 0;
  // Ends a claim without counting anything (nothing was removed, or the removal failed).
  virtual std::expected<void, StoreError> DropRemoval(std::int64_t account,
                                                      std::string_view object) = 0;
  // Ends the claim on `object` and takes its `bytes` off the account's and the repository's
  // usage; nothing when the claim is not held (any more).
  virtual std::expected<void, StoreError> RemoveUsage(std::int64_t account, std::string_view repo,
                                                      std::string_view object,
                                                      std::uint64_t bytes) = 0;
};

}  // namespace tessera::store
