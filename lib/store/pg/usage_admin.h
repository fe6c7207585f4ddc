// Quotas and usage for tessera-admin, straight to PostgreSQL (sql/0013): the report of every
// account's quota beside its usage, and the replacement of an account's usage with what its
// storage really holds (`tessera-admin usage recompute`, consistent with the workers' changes while
// it runs). Each call opens its own connection; no libpq type here.
#pragma once

#include <cstdint>
#include <expected>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "store/usage_store.h"

namespace tessera::store::pg {

struct QuotaRow {
  std::int64_t account_id = 0;
  std::string userid;
  std::optional<std::uint64_t> quota_bytes;  // nullopt: unlimited
  std::uint64_t used_bytes = 0;              // stored plus uploads in flight
  std::optional<std::uint64_t> repo_cap;     // accounts.repo_max_count; nullopt: the default
  std::vector<RepoBytes> repos;              // what each repository's objects hold
};

// Every account (or the one named), by userid, with its repositories. Fails with a message
// (PostgreSQL's, or "no such account").
std::expected<std::vector<QuotaRow>, std::string> ReadQuotas(
    const std::string& conninfo, const std::optional<std::string>& userid);

// What a storage walk found: each repository's bytes and objects, and which of the watched
// objects ("<repo>/<type>/<name>", or "<repo>/config") it saw.
struct Walked {
  std::vector<RepoBytes> repos;
  std::vector<std::string> seen;
};
using StorageWalk =
    std::function<std::expected<Walked, std::string>(const std::vector<std::string>& watch)>;

// Sets the account's usage from a walk of its storage, in one transaction that holds the
// account's usage row for the whole walk: every usage change of the account waits meanwhile
// (sql/0016), so none made while it ran is undone. The objects of the reservations marked
// storing and of the removal claims that were in flight when it began are watched: a watched
// object the walk saw is counted by the walk (its reservation ends; its claim stays, and its
// holder takes it off), one it did not see is left to its request (the reservation stays in the
// total; the claim ends). Reservations never marked stay in the total unless their lease ran out
// before `now`; expired marked ones end either way. With `apply` false nothing is changed: the
// result says what would be (`usage check`). Fails with a message (PostgreSQL's, or the walk's;
// nothing is changed then).
std::expected<RecomputeChange, std::string> Recompute(const std::string& conninfo,
                                                      std::int64_t account_id, std::int64_t now,
                                                      const StorageWalk& walk, bool apply);

}  // namespace tessera::store::pg
