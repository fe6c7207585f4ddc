// An in-memory store::RepoStore for handler tests: the repository books with the same rules as
// sql/0014 (a creation passes while the account holds fewer rows than its cap, an existing row is
// never refused), per-account caps, and a switch that makes it unreachable.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "store/database.h"

namespace tessera::testing {

class FakeRepoStore final : public store::RepoStore {
 public:
  std::map<std::int64_t, std::uint64_t> caps;  // absent: the default
  // (account, repo): (snapshots, last snapshot); the row's presence is the repository's.
  std::map<std::pair<std::int64_t, std::string>, std::pair<std::uint64_t, std::int64_t>> rows;
  bool down = false;
  std::int64_t now = 1800000000;

  std::uint64_t Held(std::int64_t account) const {
    return static_cast<std::uint64_t>(std::count_if(
        rows.begin(), rows.end(), [&](const auto& r) { return r.first.first == account; }));
  }

  std::expected<store::RepoClaim, store::StoreError> ClaimRepo(std::int64_t account,
                                                               std::string_view repo,
                                                               std::uint64_t default_cap) override {
    if (down) return std::unexpected(store::StoreError::kUnavailable);
    std::uint64_t cap = caps.contains(account) ? caps.at(account) : default_cap;
    if (rows.contains({account, std::string(repo)}))
      return store::RepoClaim{store::RepoClaimOutcome::kExists, cap};
    if (Held(account) >= cap) return store::RepoClaim{store::RepoClaimOutcome::kFull, cap};
    rows[{account, std::string(repo)}] = {0, 0};
    return store::RepoClaim{store::RepoClaimOutcome::kCreated, cap};
  }
  std::expected<void, store::StoreError> DropEmptyRepo(std::int64_t account,
                                                       std::string_view repo) override {
    if (down) return std::unexpected(store::StoreError::kUnavailable);
    rows.erase({account, std::string(repo)});
    return {};
  }
  std::expected<void, store::StoreError> NoteRepo(std::int64_t account,
                                                  std::string_view repo) override {
    if (down) return std::unexpected(store::StoreError::kUnavailable);
    rows.try_emplace({account, std::string(repo)}, 0, 0);
    return {};
  }
  std::expected<void, store::StoreError> CountSnapshot(std::int64_t account, std::string_view repo,
                                                       bool added) override {
    if (down) return std::unexpected(store::StoreError::kUnavailable);
    auto& [count, last] = rows[{account, std::string(repo)}];
    if (added) {
      ++count;
      last = now;
    } else if (count > 0 && --count == 0) {
      last = 0;
    }
    return {};
  }
  std::expected<std::vector<store::RepoRow>, store::StoreError> ListRepos(
      std::int64_t account, const std::optional<std::string>& only, std::size_t limit) override {
    if (down) return std::unexpected(store::StoreError::kUnavailable);
    std::vector<store::RepoRow> list;
    for (const auto& [key, value] : rows) {
      if (key.first != account || (only && key.second != *only) || list.size() >= limit) continue;
      store::RepoRow row;
      row.repo = key.second;
      row.snapshots = value.first;
      if (value.second != 0) row.last_snapshot = value.second;
      list.push_back(std::move(row));
    }
    return list;
  }
  std::expected<std::optional<store::AccountUse>, store::StoreError> ReadAccountUse(
      std::int64_t account, std::uint64_t default_cap) override {
    if (down) return std::unexpected(store::StoreError::kUnavailable);
    store::AccountUse use;
    use.repos = Held(account);
    use.repo_cap = caps.contains(account) ? caps.at(account) : default_cap;
    return std::optional<store::AccountUse>(use);
  }
};

}  // namespace tessera::testing
