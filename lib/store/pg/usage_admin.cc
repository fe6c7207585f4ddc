#include "store/pg/usage_admin.h"

#include <map>

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

std::expected<void, std::string> ReplaceUsage(const std::string& conninfo, std::int64_t account_id,
                                              const std::vector<RepoBytes>& repos) {
  auto conn = Open(conninfo);
  if (!conn) return std::unexpected(conn.error());
  std::string id = std::to_string(account_id);
  std::uint64_t total = 0;
  for (const RepoBytes& r : repos) total += r.bytes;
  auto run = [&](std::string_view sql, const std::vector<std::optional<std::string>>& params)
      -> std::expected<void, std::string> {
    auto done = conn->Exec(sql, params);
    if (!done) return std::unexpected(done.error().message);
    return {};
  };
  if (auto begun = run("BEGIN", {}); !begun) return begun;
  // The account's row first: uploads that reserve meanwhile wait for this transaction.
  if (auto set = run("INSERT INTO account_usage (account_id, bytes) VALUES ($1, $2) "
                     "ON CONFLICT (account_id) DO UPDATE SET bytes = excluded.bytes",
                     {id, std::to_string(total)});
      !set)
    return set;
  if (auto cleared = run("DELETE FROM repo_usage WHERE account_id = $1", {id}); !cleared)
    return cleared;
  for (const RepoBytes& r : repos) {
    std::optional<std::string> last;
    if (r.last_snapshot) last = std::to_string(*r.last_snapshot);
    if (auto added = run("INSERT INTO repo_usage (account_id, repo, bytes, objects, snapshots, "
                         "last_snapshot) VALUES ($1, $2, $3, $4, $5, to_timestamp($6))",
                         {id, r.repo, std::to_string(r.bytes), std::to_string(r.objects),
                          std::to_string(r.snapshots), last});
        !added)
      return added;
  }
  return run("COMMIT", {});
}

}  // namespace tessera::store::pg
