// What each account stores, tracked in PostgreSQL (sql/0013) so that every worker sharing the
// database enforces one quota: an upload reserves its length before its body is read, and the
// reservation becomes the object's usage when it is stored, or is given back when it is not.
// Each reservation is a row with its worker and a lease (sql/0016), so a dead worker's room comes
// back. Accounts are named by their immutable id (accounts.id). The PostgreSQL implementation
// serves one thread; the worker's pool of them (store/pg/pool.h) is thread-safe.
#pragma once

#include <algorithm>
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

// An upload's reservation (sql/0016): its id (unique, made by the worker), whose object it is
// for, and the worker that made it with the end of its lease (Unix seconds, from the worker's
// clock::Clock).
struct ReservationRow {
  std::string id;
  std::int64_t account = 0;
  std::string repo;
  std::string object;  // "<type>/<name>", or "config"
  std::uint64_t bytes = 0;
  std::string worker;
  std::int64_t lease_until = 0;
};

// What a recompute changed (or, checking only, would change) for one account: the usage before
// and after, per repository too (by name), and the reservations and claims it settled.
struct RecomputeChange {
  std::uint64_t bytes_before = 0, bytes_after = 0;
  std::vector<RepoBytes> repos_before, repos_after;
  std::uint64_t reservations_released = 0, reservations_counted = 0, claims_ended = 0;
  // Whether the books were right: nothing differs and nothing was settled.
  bool exact() const {
    auto same = [](const RepoBytes& a, const RepoBytes& b) {
      return a.repo == b.repo && a.bytes == b.bytes && a.objects == b.objects;
    };
    return bytes_before == bytes_after &&
           std::equal(repos_before.begin(), repos_before.end(), repos_after.begin(),
                      repos_after.end(), same) &&
           reservations_released + reservations_counted + claims_ended == 0;
  }
};

class UsageStore {
 public:
  virtual ~UsageStore() = default;
  // Adds `r.bytes` to the account's usage and records the reservation when the result stays
  // within its quota plus `grace` (always without a quota); false, and nothing changed, when it
  // would not. Atomic: parallel reservations on any number of workers never pass the quota
  // together. Not idempotent: sent at most once (a reservation whose answer was lost is given
  // back when its lease runs out).
  virtual std::expected<bool, StoreError> ReserveUsage(const ReservationRow& r,
                                                       std::uint64_t grace) = 0;
  // Extends reservation `id`'s lease to `lease_until`; with `storing`, also marks it as about to
  // become an object. False when it is gone (its lease ran out and another worker settled it).
  // Idempotent.
  virtual std::expected<bool, StoreError> RenewUsage(std::string_view id, std::int64_t lease_until,
                                                     bool storing) = 0;
  // Gives back reservation `id`, whose upload was not stored. Idempotent: nothing when it is
  // gone.
  virtual std::expected<void, StoreError> ReleaseUsage(std::int64_t account,
                                                       std::string_view id) = 0;
  // Counts reservation `id` as one object of `repo` of `bytes`. Idempotent: nothing when it is
  // gone (settled already).
  virtual std::expected<void, StoreError> CommitUsage(std::int64_t account, std::string_view id,
                                                      std::string_view repo,
                                                      std::uint64_t bytes) = 0;
  // Gives back every reservation whose lease ended before `now` and that was never marked
  // storing; returns (at most `limit` of) those that were, for the caller to settle by looking
  // at the storage (SettleExpired).
  virtual std::expected<std::vector<ReservationRow>, StoreError> ExpireUsage(std::int64_t now,
                                                                             std::size_t limit) = 0;
  // Settles an expired reservation: counted as an object when `stored`, given back otherwise.
  // Counting it unmarks the object's other expired marked reservations (only one upload made the
  // object), which are then given back with the unmarked ones. False, and nothing changed, when
  // it is gone, no longer marked, or its lease was renewed meanwhile.
  virtual std::expected<bool, StoreError> SettleExpired(const ReservationRow& r, std::int64_t now,
                                                        bool stored) = 0;
  // Claims the removal of `object` ("<repo>/<type>/<name>") for request `claimer` until
  // `lease_until`: false when another request holds a live claim (it removes the object and
  // counts it), true when this one may (also when it held it already: idempotent).
  virtual std::expected<bool, StoreError> ClaimRemoval(std::int64_t account,
                                                       std::string_view object,
                                                       std::string_view claimer, std::int64_t now,
                                                       std::int64_t lease_until) = 0;
  // Ends `claimer`'s claim without counting anything (nothing was removed, or the removal
  // failed).
  virtual std::expected<void, StoreError> DropRemoval(std::int64_t account, std::string_view object,
                                                      std::string_view claimer) = 0;
  // Ends `claimer`'s claim on `object` and takes its `bytes` off the account's and the
  // repository's usage; nothing when the claim is not held (any more): idempotent.
  virtual std::expected<void, StoreError> RemoveUsage(std::int64_t account, std::string_view repo,
                                                      std::string_view object,
                                                      std::string_view claimer,
                                                      std::uint64_t bytes) = 0;
};

}  // namespace tessera::store
