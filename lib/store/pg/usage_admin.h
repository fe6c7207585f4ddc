// Quotas and usage for tessera-admin, straight to PostgreSQL (sql/0013): the report of every
// account's quota beside its usage, and the replacement of an account's usage with what its
// storage really holds (`tessera-admin usage recompute`). Each call opens its own connection;
// no libpq type here.
#pragma once

#include <cstdint>
#include <expected>
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

// Sets the account's usage to `repos` (and its total to their sum) in one transaction. An upload
// in flight meanwhile is missed by the total: run it while the account's backups are quiet.
std::expected<void, std::string> ReplaceUsage(const std::string& conninfo, std::int64_t account_id,
                                              const std::vector<RepoBytes>& repos);

}  // namespace tessera::store::pg
