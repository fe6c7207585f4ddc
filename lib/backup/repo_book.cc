#include "backup/repo_book.h"

#include <string>

#include "log/log.h"
#include "store/database.h"

namespace tessera::backup {

std::expected<void, std::variant<RepoRefused, StorageError>> RepoBook::Create(
    Storage& storage, AccountId owner, std::string_view repo) {
  using Failure = std::variant<RepoRefused, StorageError>;
  auto id = static_cast<std::int64_t>(owner);
  if (storage.RepoExists(owner, repo)) {
    // Made before repositories were counted, or its row was lost: never refused, and entered
    // now so that the overview lists it (a failure here only delays that to a recompute).
    if (!store_.NoteRepo(id, repo))
      log::Warning("repository " + std::string(repo) + " of account " + std::to_string(id) +
                   " exists but could not be entered in the books (database unavailable)");
    if (auto made = storage.CreateRepo(owner, repo); !made)
      return std::unexpected(Failure(made.error()));
    return {};
  }
  auto claim = store_.ClaimRepo(id, repo, default_cap_);
  if (!claim) return std::unexpected(Failure(RepoRefused{RepoRefusal::kUnavailable}));
  switch (claim->outcome) {
    case store::RepoClaimOutcome::kFull:
      return std::unexpected(Failure(RepoRefused{RepoRefusal::kFull, claim->cap}));
    case store::RepoClaimOutcome::kNoAccount:
      return std::unexpected(Failure(RepoRefused{RepoRefusal::kNoAccount}));
    case store::RepoClaimOutcome::kCreated:
    case store::RepoClaimOutcome::kExists:
      break;
  }
  if (auto made = storage.CreateRepo(owner, repo); !made) {
    // A row entered for nothing would count toward the cap: it goes again while still empty.
    if (claim->outcome == store::RepoClaimOutcome::kCreated) (void)store_.DropEmptyRepo(id, repo);
    return std::unexpected(Failure(made.error()));
  }
  return {};
}

void RepoBook::SnapshotStored(AccountId owner, std::string_view repo) { Count(owner, repo, true); }

void RepoBook::SnapshotRemoved(AccountId owner, std::string_view repo) {
  Count(owner, repo, false);
}

void RepoBook::Count(AccountId owner, std::string_view repo, bool added) {
  if (!store_.CountSnapshot(static_cast<std::int64_t>(owner), repo, added)) {
    log::Warning("the snapshot count of account " +
                 std::to_string(static_cast<std::int64_t>(owner)) + " repository " +
                 std::string(repo) +
                 " could not be updated (database unavailable) until `tessera-admin usage "
                 "recompute`");
  }
}

}  // namespace tessera::backup
