#include "store/pg/usage_admin.h"

#include <algorithm>
#include <map>
#include <set>

#include "store/database.h"
#include "store/pg/connection.h"
#include "store/sql_text.h"

namespace tessera::store::pg {
namespace {

std::expected<Connection, std::string> Open(const std::string& conninfo) {
  auto conn = Connection::Open(conninfo, std::chrono::seconds(10), "tessera-admin");
  if (!conn) return std::unexpected("cannot connect to PostgreSQL: " + conn.error().message);
  return std::move(*conn);
}

std::expected<std::uint64_t, std::string> Count(PGresult* r, int row, int column) {
  auto value = ParseSqlInt64(PQgetvalue(r, row, column));
  if (!value || *value < 0) return std::unexpected("PostgreSQL sent a count that is not one");
  return static_cast<std::uint64_t>(*value);
}

}  // namespace

std::expected<std::vector<QuotaRow>, std::string> ReadQuotas(
    const std::string& conninfo, const std::optional<std::string>& userid) {
  auto conn = Open(conninfo);
  if (!conn) return std::unexpected(conn.error());
  auto accounts = conn->Exec(
      "SELECT a.id, a.userid, a.quota_bytes, COALESCE(u.bytes, 0), a.repo_max_count "
      "FROM accounts a LEFT JOIN account_usage u ON u.account_id = a.id "
      "WHERE $1::text IS NULL OR a.userid = $1 ORDER BY a.userid",
      {userid});
  if (!accounts) return std::unexpected(accounts.error().message);
  PGresult* r = accounts->get();
  if (userid && PQntuples(r) == 0) return std::unexpected("no such account");
  std::vector<QuotaRow> rows;
  std::map<std::int64_t, std::size_t> by_id;
  for (int i = 0; i < PQntuples(r); ++i) {
    QuotaRow row;
    auto id = ParseSqlInt64(PQgetvalue(r, i, 0));
    auto used = Count(r, i, 3);
    if (!id || !used) return std::unexpected("PostgreSQL sent an account row that is not one");
    row.account_id = *id;
    row.userid = PQgetvalue(r, i, 1);
    if (!PQgetisnull(r, i, 2)) {
      auto quota = Count(r, i, 2);
      if (!quota) return std::unexpected(quota.error());
      row.quota_bytes = *quota;
    }
    row.used_bytes = *used;
    if (!PQgetisnull(r, i, 4)) {
      auto cap = Count(r, i, 4);
      if (!cap) return std::unexpected(cap.error());
      row.repo_cap = *cap;
    }
    by_id[row.account_id] = rows.size();
    rows.push_back(std::move(row));
  }
  auto repos = conn->Exec(
      "SELECT r.account_id, r.repo, r.bytes, r.objects, r.snapshots FROM repo_usage r "
      "JOIN accounts a ON a.id = r.account_id "
      "WHERE $1::text IS NULL OR a.userid = $1 ORDER BY r.account_id, r.repo",
      {userid});
  if (!repos) return std::unexpected(repos.error().message);
  r = repos->get();
  for (int i = 0; i < PQntuples(r); ++i) {
    auto id = ParseSqlInt64(PQgetvalue(r, i, 0));
    auto bytes = Count(r, i, 2);
    auto objects = Count(r, i, 3);
    auto snapshots = Count(r, i, 4);
    if (!id || !bytes || !objects || !snapshots || !by_id.contains(*id))
      return std::unexpected("PostgreSQL sent a repo_usage row that is not one");
    rows[by_id[*id]].repos.push_back({PQgetvalue(r, i, 1), *bytes, *objects, *snapshots, {}});
  }
  return rows;
}

std::expected<RecomputeChange, std::string> Recompute(const std::string& conninfo,
                                                      std::int64_t account_id, std::int64_t now,
                                                      const StorageWalk& walk, bool apply) {
  auto conn = Open(conninfo);
  if (!conn) return std::unexpected(conn.error());
  std::string id = std::to_string(account_id);
  auto run = [&](std::string_view sql, const std::vector<std::optional<std::string>>& params)
      -> std::expected<Result, std::string> {
    auto done = conn->Exec(sql, params);
    if (!done) return std::unexpected(done.error().message);
    return std::move(*done);
  };
  // Anything that fails before COMMIT leaves the connection to close: PostgreSQL rolls back.
  if (auto begun = run("BEGIN", {}); !begun) return std::unexpected(begun.error());
  if (auto made = run("INSERT INTO account_usage (account_id, bytes) VALUES ($1, 0) "
                      "ON CONFLICT (account_id) DO NOTHING",
                      {id});
      !made)
    return std::unexpected(made.error());
  auto before = run("SELECT bytes FROM account_usage WHERE account_id = $1 FOR UPDATE", {id});
  if (!before) return std::unexpected(before.error());
  RecomputeChange change;
  auto was = Count(before->get(), 0, 0);
  if (!was) return std::unexpected(was.error());
  change.bytes_before = *was;
  auto repos =
      run("SELECT repo, bytes, objects FROM repo_usage WHERE account_id = $1 "
          "AND (bytes > 0 OR objects > 0) ORDER BY repo",
          {id});
  if (!repos) return std::unexpected(repos.error());
  for (int i = 0; i < PQntuples(repos->get()); ++i) {
    auto bytes = Count(repos->get(), i, 1);
    auto objects = Count(repos->get(), i, 2);
    if (!bytes || !objects)
      return std::unexpected("PostgreSQL sent a repo_usage row that is not one");
    change.repos_before.push_back(
        {PQgetvalue(repos->get(), i, 0), *bytes, *objects, 0, std::nullopt});
  }
  // What is in flight, now that nothing of the account can change any more.
  auto held =
      run("SELECT id, repo || '/' || object, bytes, storing, "
          "       lease_until < to_timestamp($2) "
          "FROM usage_reservations WHERE account_id = $1",
          {id, std::to_string(now)});
  if (!held) return std::unexpected(held.error());
  auto claims = run("SELECT object, claimer FROM usage_removals WHERE account_id = $1", {id});
  if (!claims) return std::unexpected(claims.error());
  std::vector<std::string> watch;
  PGresult* h = held->get();
  for (int i = 0; i < PQntuples(h); ++i)
    if (std::string_view(PQgetvalue(h, i, 3)) == "t") watch.push_back(PQgetvalue(h, i, 1));
  PGresult* c = claims->get();
  for (int i = 0; i < PQntuples(c); ++i) watch.push_back(PQgetvalue(c, i, 0));
  auto walked = walk(watch);
  if (!walked) return std::unexpected(walked.error());
  std::set<std::string> seen(walked->seen.begin(), walked->seen.end());

  std::uint64_t total = 0;
  for (const RepoBytes& r : walked->repos) total += r.bytes;
  for (int i = 0; i < PQntuples(h); ++i) {
    auto bytes = Count(h, i, 2);
    if (!bytes) return std::unexpected(bytes.error());
    bool storing = std::string_view(PQgetvalue(h, i, 3)) == "t";
    bool expired = std::string_view(PQgetvalue(h, i, 4)) == "t";
    bool stored = storing && seen.contains(PQgetvalue(h, i, 1));
    if (!stored && !expired) {
      total += *bytes;  // still in flight: its request commits or releases it
      continue;
    }
    if (auto gone = run("DELETE FROM usage_reservations WHERE id = $1", {PQgetvalue(h, i, 0)});
        !gone)
      return std::unexpected(gone.error());
    ++(stored ? change.reservations_counted : change.reservations_released);
  }
  for (int i = 0; i < PQntuples(c); ++i) {
    if (seen.contains(PQgetvalue(c, i, 0))) continue;  // its holder removes it and counts
    if (auto gone = run("DELETE FROM usage_removals WHERE account_id = $1 AND object = $2 "
                        "AND claimer = $3",
                        {id, PQgetvalue(c, i, 0), PQgetvalue(c, i, 1)});
        !gone)
      return std::unexpected(gone.error());
    ++change.claims_ended;
  }
  if (auto set = run("UPDATE account_usage SET bytes = $2 WHERE account_id = $1",
                     {id, std::to_string(total)});
      !set)
    return std::unexpected(set.error());
  if (auto cleared = run("DELETE FROM repo_usage WHERE account_id = $1", {id}); !cleared)
    return std::unexpected(cleared.error());
  for (const RepoBytes& r : walked->repos) {
    std::optional<std::string> last;
    if (r.last_snapshot) last = std::to_string(*r.last_snapshot);
    if (auto added = run("INSERT INTO repo_usage (account_id, repo, bytes, objects, snapshots, "
                         "last_snapshot) VALUES ($1, $2, $3, $4, $5, to_timestamp($6))",
                         {id, r.repo, std::to_string(r.bytes), std::to_string(r.objects),
                          std::to_string(r.snapshots), last});
        !added)
      return std::unexpected(added.error());
  }
  if (auto done = run(apply ? "COMMIT" : "ROLLBACK", {}); !done)
    return std::unexpected(done.error());
  change.bytes_after = total;
  for (const RepoBytes& r : walked->repos)
    if (r.bytes > 0 || r.objects > 0) change.repos_after.push_back(r);
  std::sort(change.repos_after.begin(), change.repos_after.end(),
            [](const RepoBytes& a, const RepoBytes& b) { return a.repo < b.repo; });
  return change;
}

}  // namespace tessera::store::pg
