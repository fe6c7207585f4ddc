// tessera-admin usage [recompute] [USERID]: what accounts store against their quotas
// (accounts.quota_bytes, sql/0013), and the recompute that sets the usage PostgreSQL tracks from
// what the storage really holds — once after upgrading to a version with quotas, and whenever a
// worker died between storing an object and counting it (the log says so).
#include <iostream>
#include <limits>
#include <optional>
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

int Recompute(const config::Config& config, const std::optional<std::string>& userid) {
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
  for (const store::pg::QuotaRow& account : *accounts) {
    auto held = (*storage)->Usage(backup::AccountId{account.account_id},
                                  std::numeric_limits<std::size_t>::max(),
                                  [](std::string_view) { return true; });
    if (!held) {
      std::cerr << "tessera-admin: the storage of " << account.userid
                << " cannot be read; its usage is unchanged\n";
      return 1;
    }
    std::vector<store::RepoBytes> repos;
    for (const backup::RepoUsage& r : *held)
      repos.push_back({r.repo, r.bytes, r.objects, r.snapshots, r.last_snapshot});
    if (auto set = store::pg::ReplaceUsage(config.database, account.account_id, repos); !set) {
      std::cerr << "tessera-admin: " << account.userid << ": " << set.error() << "\n";
      return 1;
    }
    std::uint64_t total = 0;
    for (const store::RepoBytes& r : repos) total += r.bytes;
    std::cout << account.userid << "\tused " << total << " (was " << account.used_bytes << ")\n";
  }
  return 0;
}

}  // namespace

int AccountUsage(const config::Config& config, const Args& args) {
  bool recompute = !args.empty() && args[0] == "recompute";
  Args rest(args.begin() + (recompute ? 1 : 0), args.end());
  if (rest.size() > 1) return Usage();
  std::optional<std::string> userid;
  if (!rest.empty()) {
    if (!names::IsValidUserid(rest[0])) {
      std::cerr << "tessera-admin: " << rest[0] << " is not a NAME@REALM\n";
      return 2;
    }
    userid = std::string(rest[0]);
  }
  if (recompute) return Recompute(config, userid);
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
