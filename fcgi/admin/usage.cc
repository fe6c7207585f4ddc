// tessera-admin usage [recompute|check] [USERID]: what accounts store against their quotas
// (accounts.quota_bytes, sql/0013), and the recompute that sets the usage PostgreSQL tracks from
// what the storage really holds (once after upgrading to a version with quotas), and the check
// that compares the two without changing anything (exit 1 when they differ: the chaos run's
// test of the books). Both may run while backups do: the account's usage changes wait for them
// (store/pg/usage_admin.h).
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "admin/commands.h"
#include "backup/backup_service.h"
#include "clock/clock.h"
#include "names/userid.h"
#include "store/pg/usage_admin.h"

namespace tessera::admin {
namespace {

void Print(const store::pg::QuotaRow& row, bool with_repos, std::uint64_t default_cap) {
  std::cout << row.userid << "\tused " << row.used_bytes << "\tquota "
            << (row.quota_bytes ? std::to_string(*row.quota_bytes) : "unlimited") << "\trepos "
            << row.repos.size() << " of " << row.repo_cap.value_or(default_cap)
            << (row.repo_cap ? "" : " (default)") << "\n";
  if (!with_repos) return;
  for (const store::RepoBytes& r : row.repos)
    std::cout << "  " << r.repo << "\t" << r.bytes << " bytes\t" << r.objects << " objects\t"
              << r.snapshots << " snapshots\n";
}

// Walks every object of `owner` (its repositories, each object type) and notes which of `watch`
// it saw; on a terminal, shows how far it has come every second.
std::expected<store::pg::Walked, std::string> Walk(backup::Storage& storage,
                                                   backup::AccountId owner,
                                                   const std::string& userid,
                                                   const std::vector<std::string>& watch) {
  auto repos = storage.Usage(owner, std::numeric_limits<std::size_t>::max(),
                             [](std::string_view) { return true; });
  if (!repos) return std::unexpected("the storage of " + userid + " cannot be read");
  std::set<std::string> watched(watch.begin(), watch.end());
  store::pg::Walked walked;
  bool terminal = isatty(STDERR_FILENO) == 1;
  auto shown = std::chrono::steady_clock::now();
  std::uint64_t objects = 0, bytes = 0;
  auto note = [&](const std::string& object, std::uint64_t size, store::RepoBytes& into) {
    into.bytes += size;
    ++into.objects;
    bytes += size;
    ++objects;
    if (watched.contains(object)) walked.seen.push_back(object);
    if (terminal && std::chrono::steady_clock::now() - shown >= std::chrono::seconds(1)) {
      shown = std::chrono::steady_clock::now();
      std::cerr << "\r" << userid << ": " << objects << " objects, " << bytes << " bytes walked"
                << std::flush;
    }
  };
  for (const backup::RepoUsage& repo : *repos) {
    // Snapshots are counted (and the newest dated) by the storage's own measure.
    store::RepoBytes into{repo.repo, 0, 0, repo.snapshots, repo.last_snapshot};
    if (auto config = storage.Open(owner, repo.repo, "config", ""); config) {
      note(repo.repo + "/config", (*config)->size(), into);
    } else if (config.error() != backup::StorageError::kNotFound) {
      return std::unexpected("the config of " + repo.repo + " cannot be read");
    }
    for (std::string_view type : {"data", "index", "keys", "locks", "snapshots"}) {
      auto lister = storage.List(owner, repo.repo, type);
      if (!lister) return std::unexpected("repository " + repo.repo + " cannot be listed");
      while (true) {
        auto next = (*lister)->Next();
        if (!next) return std::unexpected("repository " + repo.repo + " cannot be listed");
        if (!*next) break;
        note(repo.repo + "/" + std::string(type) + "/" + (*next)->name, (*next)->size, into);
      }
    }
    walked.repos.push_back(std::move(into));
  }
  if (terminal && objects > 0) std::cerr << "\r\033[K";
  return walked;
}

// Prints what differs between the books and the walk, one line each.
void PrintDifferences(const store::RecomputeChange& c) {
  std::map<std::string, std::pair<store::RepoBytes, store::RepoBytes>> repos;
  for (const store::RepoBytes& r : c.repos_before) repos[r.repo].first = r;
  for (const store::RepoBytes& r : c.repos_after) repos[r.repo].second = r;
  for (const auto& [name, pair] : repos) {
    const auto& [books, walk] = pair;
    if (books.bytes == walk.bytes && books.objects == walk.objects) continue;
    std::cout << "  " << name << "\tbooks " << books.bytes << " bytes " << books.objects
              << " objects\tstorage " << walk.bytes << " bytes " << walk.objects << " objects\n";
  }
}

// `usage recompute` (apply) or `usage check` (compare only: exit 1 when the books differ).
int Recompute(const config::Config& config, const std::optional<std::string>& userid, bool apply) {
  const clock::SystemClock clock;
  auto storage = backup::OpenStorage(config, clock);
  if (!storage) {
    std::cerr << "tessera-admin: " << storage.error() << "\n";
    return 1;
  }
  if (!*storage) {
    std::cerr << "tessera-admin: the config names no storage (storage_dir or storage)\n";
    return 1;
  }
  auto accounts = store::pg::ReadQuotas(config.database, userid);
  if (!accounts) {
    std::cerr << "tessera-admin: " << accounts.error() << "\n";
    return 1;
  }
  bool differ = false;
  for (const store::pg::QuotaRow& account : *accounts) {
    backup::AccountId owner{account.account_id};
    auto changed = store::pg::Recompute(
        config.database, account.account_id, clock.Now(),
        [&](const std::vector<std::string>& watch) {
          return Walk(**storage, owner, account.userid, watch);
        },
        apply);
    if (!changed) {
      std::cerr << "tessera-admin: " << account.userid << ": " << changed.error()
                << "; its usage is unchanged\n";
      return 1;
    }
    if (!apply) {
      if (changed->exact()) {
        std::cout << account.userid << "\tbooks exact: " << changed->bytes_after << " bytes\n";
        continue;
      }
      differ = true;
      std::cout << account.userid << "\tbooks differ: used " << changed->bytes_before
                << ", storage and uploads in flight " << changed->bytes_after << "\n";
      PrintDifferences(*changed);
    } else {
      std::cout << account.userid << "\tused " << changed->bytes_after << " (was "
                << changed->bytes_before << ")";
    }
    if (changed->reservations_released + changed->reservations_counted + changed->claims_ended)
      std::cout << (apply ? "; " : "  ") << "expired reservations given back "
                << changed->reservations_released << ", stored objects counted "
                << changed->reservations_counted << ", removal claims ended "
                << changed->claims_ended;
    std::cout << "\n";
  }
  return differ ? 1 : 0;
}

}  // namespace

int AccountUsage(const config::Config& config, const Args& args) {
  bool recompute = !args.empty() && args[0] == "recompute";
  bool check = !args.empty() && args[0] == "check";
  Args rest(args.begin() + (recompute || check ? 1 : 0), args.end());
  if (rest.size() > 1) return Usage();
  std::optional<std::string> userid;
  if (!rest.empty()) {
    if (!names::IsValidUserid(rest[0])) {
      std::cerr << "tessera-admin: " << rest[0] << " is not a NAME@REALM\n";
      return 2;
    }
    userid = std::string(rest[0]);
  }
  if (recompute || check) return Recompute(config, userid, recompute);
  auto rows = store::pg::ReadQuotas(config.database, userid);
  if (!rows) {
    std::cerr << "tessera-admin: " << rows.error() << "\n";
    return 1;
  }
  for (const store::pg::QuotaRow& row : *rows)
    Print(row, userid.has_value(), config.repo_max_count);
  return 0;
}

}  // namespace tessera::admin
