// An in-memory store::UsageStore for handler tests: per-account quotas, usage and removal claims
// with the same rules as sql/0013 (a reservation passes when usage + bytes <= quota + grace; a
// removal counts only under its claim), and a switch that makes it unreachable.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "store/database.h"

namespace tessera::testing {

class FakeUsageStore final : public store::UsageStore {
 public:
  std::map<std::int64_t, std::uint64_t> quota;  // absent: unlimited
  std::map<std::int64_t, std::uint64_t> used;   // account: bytes reserved or stored
  std::map<std::pair<std::int64_t, std::string>, std::pair<std::uint64_t, std::uint64_t>>
      repos;                                              // (account, repo): (bytes, objects)
  std::set<std::pair<std::int64_t, std::string>> claims;  // removals in progress
  bool down = false;

  std::expected<bool, store::StoreError> ReserveUsage(std::int64_t account, std::uint64_t bytes,
                                                      std::uint64_t grace) override {
    if (down) return std::unexpected(store::StoreError::kUnavailable);
    auto q = quota.find(account);
    if (q != quota.end() && used[account] + bytes > q->second + grace) return false;
    used[account] += bytes;
    return true;
  }
  std::expected<void, store::StoreError> ReleaseUsage(std::int64_t account,
                                                      std::uint64_t bytes) override {
    if (down) return std::unexpected(store::StoreError::kUnavailable);
    used[account] -= std::min(used[account], bytes);
    return {};
  }
  std::expected<void, store::StoreError> CommitUsage(std::int64_t account, std::string_view repo,
                                                     std::uint64_t bytes) override {
    if (down) return std::unexpected(store::StoreError::kUnavailable);
    auto& r = repos[{account, std::string(repo)}];
    r.first += bytes;
    r.second += 1;
    return {};
  }
  std::expected<bool, store::StoreError> ClaimRemoval(std::int64_t account,
                                                      std::string_view object) override {
    if (down) return std::unexpected(store::StoreError::kUnavailable);
    return claims.insert({account, std::string(object)}).second;
  }
  std::expected<void, store::StoreError> DropRemoval(std::int64_t account,
                                                     std::string_view object) override {
    if (down) return std::unexpected(store::StoreError::kUnavailable);
    claims.erase({account, std::string(object)});
    return {};
  }
  std::expected<void, store::StoreError> RemoveUsage(std::int64_t account, std::string_view repo,
                                                     std::string_view object,
                                                     std::uint64_t bytes) override {
    if (down) return std::unexpected(store::StoreError::kUnavailable);
    if (claims.erase({account, std::string(object)}) == 0) return {};
    used[account] -= std::min(used[account], bytes);
    auto& r = repos[{account, std::string(repo)}];
    r.first -= std::min(r.first, bytes);
    r.second -= std::min<std::uint64_t>(r.second, 1);
    return {};
  }
};

}  // namespace tessera::testing
