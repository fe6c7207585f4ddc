// The books of an account's repositories in PostgreSQL (repo_usage, sql/0013 and sql/0014): a
// repository exists in them from its creation, which counts toward the account's repository cap
// (accounts.repo_max_count, else the worker's default), and its row carries what the overview
// shows (bytes, objects, snapshots, the newest snapshot's time), so that GET /api2/json/repos
// never walks the storage. Accounts are named by their immutable id (accounts.id). The
// PostgreSQL implementation serves one thread; the worker's pool of them is thread-safe.
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tessera::store {

enum class StoreError;

enum class RepoClaimOutcome {
  kCreated,  // the repository is new in the books and counts toward the cap now
  kExists,   // it was in the books already: not a new one
  kFull,     // the account holds its cap of repositories; nothing changed
  kNoAccount,
};

struct RepoClaim {
  RepoClaimOutcome outcome = RepoClaimOutcome::kNoAccount;
  std::uint64_t cap = 0;  // the cap in force for the account
};

// One repository's row, as the overview shows it.
struct RepoRow {
  std::string repo;
  std::uint64_t bytes = 0;
  std::uint64_t objects = 0;
  std::uint64_t snapshots = 0;
  std::optional<std::int64_t> last_snapshot;  // Unix seconds
};

// What an account uses against its bounds.
struct AccountUse {
  std::uint64_t bytes = 0;                   // stored plus uploads in flight
  std::optional<std::uint64_t> quota_bytes;  // nullopt: unlimited
  std::uint64_t repos = 0;
  std::uint64_t repo_cap = 0;
};

class RepoStore {
 public:
  virtual ~RepoStore() = default;
  // Enters `repo` in the account's books unless it would pass the cap (`default_cap` when the
  // account has none of its own). Atomic across workers: one statement under the account row's
  // lock.
  virtual std::expected<RepoClaim, StoreError> ClaimRepo(std::int64_t account,
                                                         std::string_view repo,
                                                         std::uint64_t default_cap) = 0;
  // Takes `repo` out of the books again if it is still empty (its creation failed in storage).
  virtual std::expected<void, StoreError> DropEmptyRepo(std::int64_t account,
                                                        std::string_view repo) = 0;
  // Enters `repo`, which exists in storage already, in the books without the cap (a repository
  // made before repositories were counted).
  virtual std::expected<void, StoreError> NoteRepo(std::int64_t account, std::string_view repo) = 0;
  // One snapshot of `repo` was stored now (`added`), or removed.
  virtual std::expected<void, StoreError> CountSnapshot(std::int64_t account, std::string_view repo,
                                                        bool added) = 0;
  // The account's repositories in path order, at most `limit`; only `only` when given.
  virtual std::expected<std::vector<RepoRow>, StoreError> ListRepos(
      std::int64_t account, const std::optional<std::string>& only, std::size_t limit) = 0;
  // The account's usage and bounds; nullopt for an unknown account.
  virtual std::expected<std::optional<AccountUse>, StoreError> ReadAccountUse(
      std::int64_t account, std::uint64_t default_cap) = 0;
};

}  // namespace tessera::store
