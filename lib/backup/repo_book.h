// The books of an account's repositories (store/repo_store.h, sql/0014): creating a repository
// enters it there first, counted toward the account's repository cap (accounts.repo_max_count,
// else the worker's `repo_max_count`), and the snapshots stored and removed are counted there,
// so that the repository overview reads PostgreSQL and never walks the storage.
//
// Past the cap a creation is refused before anything is made in storage; PostgreSQL
// unreachable: refused as unavailable (503), since an uncounted repository could pass the cap.
// A snapshot count that cannot be updated is logged (`tessera-admin usage recompute` sets it
// from the storage). Thread-safe when the store is (the worker's pool).
#pragma once

#include <cstdint>
#include <expected>
#include <string_view>
#include <variant>

#include "backup/storage.h"
#include "store/repo_store.h"

namespace tessera::backup {

// The cap of an account that has none of its own, unless the config says otherwise.
inline constexpr std::uint64_t kDefaultRepoCap = 64;

enum class RepoRefusal {
  kFull,         // the account holds its cap of repositories
  kUnavailable,  // PostgreSQL does not answer
  kNoAccount,    // the account went away meanwhile
};

struct RepoRefused {
  RepoRefusal why;
  std::uint64_t cap = 0;  // for kFull: the cap in force
};

class RepoBook {
 public:
  // `store` must outlive the book and be thread-safe.
  RepoBook(store::RepoStore& store, std::uint64_t default_cap)
      : store_(store), default_cap_(default_cap) {}

  // Makes `repo` in `storage`, entered in the books first: within the cap, or already there.
  // A repository the storage holds already is not a new one and is never refused (entered in
  // the books if it was missing). Storage errors come back as they are.
  std::expected<void, std::variant<RepoRefused, StorageError>> Create(Storage& storage,
                                                                      AccountId owner,
                                                                      std::string_view repo);
  // One snapshot of `repo` was stored, or removed by this request.
  void SnapshotStored(AccountId owner, std::string_view repo);
  void SnapshotRemoved(AccountId owner, std::string_view repo);

  std::uint64_t default_cap() const { return default_cap_; }

 private:
  void Count(AccountId owner, std::string_view repo, bool added);

  store::RepoStore& store_;
  std::uint64_t default_cap_;
};

}  // namespace tessera::backup
