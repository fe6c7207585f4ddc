#include "store/pg/usage_admin.h"

#include <algorithm>
#include <map>
#include <set>

#include "store/database.h"
#include "store/pg/connection.h"
#include "store/pg/rows.h"

namespace tessera::store::pg {
namespace {

std::expected<Connection, std::string> Open(const std::string& conninfo) {
  auto conn = Connection::Open(conninfo, std::chrono::seconds(10), "tessera-admin");
  if (!conn) return std::unexpected("cannot connect to PostgreSQL: " + conn.error().message);
  return std::move(*conn);
}

std::expected<std::uint64_t, std::string> Count(const RowReader::Row& row,
                                                std::string_view column) {
  auto value = row.Int64(column);
  if (!value || *value < 0) return std::unexpected("PostgreSQL sent a count that is not one");
  return static_cast<std::uint64_t>(*value);
}

// A column that may be NULL, else a count.
std::expected<std::optional<std::uint64_t>, std::string> OptionalCount(const RowReader::Row& row,
                                                                       std::string_view column) {
  auto value = row.OptionalInt64(column);
  if (!value || (*value && **value < 0))
    return std::unexpected("PostgreSQL sent a count that is not one");
  if (!*value) return std::optional<std::uint64_t>{};
  return std::optional<std::uint64_t>(static_cast<std::uint64_t>(**value));
}

// A reservation in flight, as a recompute reads it.
struct Held {
  std::string id;
  std::string path;  // "<repo>/<object>"
  std::uint64_t bytes = 0;
  bool storing = false;
  bool expired = false;
};

}  // namespace

std::expected<std::vector<QuotaRow>, std::string> ReadQuotas(
    const std::string& conninfo, const std::optional<std::string>& userid) {
  auto conn = Open(conninfo);
  if (!conn) return std::unexpected(conn.error());
  auto accounts = conn->Exec(
      "SELECT a.id, a.userid, a.quota_bytes, COALESCE(u.bytes, 0) AS used_bytes, "
      "       a.repo_max_count "
      "FROM accounts a LEFT JOIN account_usage u ON u.account_id = a.id "
      "WHERE $1::text IS NULL OR a.userid = $1 ORDER BY a.userid",
      {userid});
  if (!accounts) return std::unexpected(accounts.error().message);
  RowReader account_rows(accounts->get());
  if (userid && account_rows.size() == 0) return std::unexpected("no such account");
  std::vector<QuotaRow> rows;
  std::map<std::int64_t, std::size_t> by_id;
  for (int i = 0; i < account_rows.size(); ++i) {
    RowReader::Row r = account_rows.row(i);
    QuotaRow row;
    auto id = r.Int64("id");
    auto name = r.Text("userid");
    auto used = Count(r, "used_bytes");
    if (!id || !name || !used)
      return std::unexpected("PostgreSQL sent an account row that is not one");
    row.account_id = *id;
    row.userid = std::move(*name);
    auto quota = OptionalCount(r, "quota_bytes");
    if (!quota) return std::unexpected(quota.error());
    row.quota_bytes = *quota;
    row.used_bytes = *used;
    auto cap = OptionalCount(r, "repo_max_count");
    if (!cap) return std::unexpected(cap.error());
    row.repo_cap = *cap;
    by_id[row.account_id] = rows.size();
    rows.push_back(std::move(row));
  }
  auto repos = conn->Exec(
      "SELECT r.account_id, r.repo, r.bytes, r.objects, r.snapshots FROM repo_usage r "
      "JOIN accounts a ON a.id = r.account_id "
      "WHERE $1::text IS NULL OR a.userid = $1 ORDER BY r.account_id, r.repo",
      {userid});
  if (!repos) return std::unexpected(repos.error().message);
  RowReader repo_rows(repos->get());
  for (int i = 0; i < repo_rows.size(); ++i) {
    RowReader::Row r = repo_rows.row(i);
    auto id = r.Int64("account_id");
    auto repo = r.Text("repo");
    auto bytes = Count(r, "bytes");
    auto objects = Count(r, "objects");
    auto snapshots = Count(r, "snapshots");
    if (!id || !repo || !bytes || !objects || !snapshots || !by_id.contains(*id))
      return std::unexpected("PostgreSQL sent a repo_usage row that is not one");
    rows[by_id[*id]].repos.push_back({std::move(*repo), *bytes, *objects, *snapshots, {}});
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
  RowReader before_rows(before->get());
  if (before_rows.size() != 1) return std::unexpected("PostgreSQL sent a count that is not one");
  auto was = Count(before_rows.row(0), "bytes");
  if (!was) return std::unexpected(was.error());
  change.bytes_before = *was;
  auto repos =
      run("SELECT repo, bytes, objects FROM repo_usage WHERE account_id = $1 "
          "AND (bytes > 0 OR objects > 0) ORDER BY repo",
          {id});
  if (!repos) return std::unexpected(repos.error());
  RowReader repo_rows(repos->get());
  for (int i = 0; i < repo_rows.size(); ++i) {
    auto repo = repo_rows.row(i).Text("repo");
    auto bytes = Count(repo_rows.row(i), "bytes");
    auto objects = Count(repo_rows.row(i), "objects");
    if (!repo || !bytes || !objects)
      return std::unexpected("PostgreSQL sent a repo_usage row that is not one");
    change.repos_before.push_back({std::move(*repo), *bytes, *objects, 0, std::nullopt});
  }
  // What is in flight, now that nothing of the account can change any more.
  auto held =
      run("SELECT id, repo || '/' || object AS path, bytes, storing, "
          "       lease_until < to_timestamp($2) AS expired "
          "FROM usage_reservations WHERE account_id = $1",
          {id, std::to_string(now)});
  if (!held) return std::unexpected(held.error());
  auto claims = run("SELECT object, claimer FROM usage_removals WHERE account_id = $1", {id});
  if (!claims) return std::unexpected(claims.error());
  std::vector<Held> in_flight;
  RowReader held_rows(held->get());
  for (int i = 0; i < held_rows.size(); ++i) {
    RowReader::Row r = held_rows.row(i);
    Held row;
    RowFields f;
    f.Take(r.Text("id"), row.id);
    f.Take(r.Text("path"), row.path);
    f.Take(r.Bool("storing"), row.storing);
    f.Take(r.Bool("expired"), row.expired);
    auto bytes = Count(r, "bytes");
    if (!bytes) return std::unexpected(bytes.error());
    if (f.error())
      return std::unexpected("PostgreSQL sent a usage_reservations row that is not one");
    row.bytes = *bytes;
    in_flight.push_back(std::move(row));
  }
  struct Claim {
    std::string object, claimer;
  };
  std::vector<Claim> claimed;
  RowReader claim_rows(claims->get());
  for (int i = 0; i < claim_rows.size(); ++i) {
    Claim claim;
    RowFields f;
    f.Take(claim_rows.row(i).Text("object"), claim.object);
    f.Take(claim_rows.row(i).Text("claimer"), claim.claimer);
    if (f.error()) return std::unexpected("PostgreSQL sent a usage_removals row that is not one");
    claimed.push_back(std::move(claim));
  }
  std::vector<std::string> watch;
  for (const Held& h : in_flight)
    if (h.storing) watch.push_back(h.path);
  for (const Claim& c : claimed) watch.push_back(c.object);
  auto walked = walk(watch);
  if (!walked) return std::unexpected(walked.error());
  std::set<std::string> seen(walked->seen.begin(), walked->seen.end());

  std::uint64_t total = 0;
  for (const RepoBytes& r : walked->repos) total += r.bytes;
  for (const Held& h : in_flight) {
    bool stored = h.storing && seen.contains(h.path);
    if (!stored && !h.expired) {
      total += h.bytes;  // still in flight: its request commits or releases it
      continue;
    }
    if (auto gone = run("DELETE FROM usage_reservations WHERE id = $1", {h.id}); !gone)
      return std::unexpected(gone.error());
    ++(stored ? change.reservations_counted : change.reservations_released);
  }
  for (const Claim& c : claimed) {
    if (seen.contains(c.object)) continue;  // its holder removes it and counts
    if (auto gone = run("DELETE FROM usage_removals WHERE account_id = $1 AND object = $2 "
                        "AND claimer = $3",
                        {id, c.object, c.claimer});
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
