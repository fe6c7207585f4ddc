#include "store/pg/token_admin.h"

#include "store/pg/connection.h"

namespace tessera::store::pg {
namespace {
constexpr const char* kColumns = "jti, userid, read, write, delete, repo, " TESSERA_EPOCH_SQL(
    "expires_at") ", revoked_at IS NOT NULL";

std::expected<GrantRow, std::string> Query(const std::string& conninfo, const std::string& sql,
                                           const std::vector<std::optional<std::string>>& params) {
  auto conn = Connection::Open(conninfo, std::chrono::seconds(10), "tessera-admin");
  if (!conn) return std::unexpected("cannot connect to PostgreSQL: " + conn.error().message);
  auto result = conn->Exec(sql, params);
  if (!result) return std::unexpected(result.error().message);
  PGresult* r = result->get();
  if (PQntuples(r) == 0) return std::unexpected("no such grant");
  auto t = [&](int c) { return std::string_view(PQgetvalue(r, 0, c)) == "t"; };
  auto expires = EpochFromRow(r, 0, 6);
  if (!expires)
    return std::unexpected("grant row unreadable: " + std::string(Describe(expires.error())));
  GrantRow row{
      PQgetvalue(r, 0, 0),
      PQgetvalue(r, 0, 1),
      t(2),
      t(3),
      t(4),
      PQgetisnull(r, 0, 5) ? std::nullopt : std::optional<std::string>(PQgetvalue(r, 0, 5)),
      *expires,
      t(7)};
  return row;
}
}  // namespace

std::expected<GrantRow, std::string> CreateGrant(const std::string& conninfo,
                                                 const std::string& userid, bool read, bool write,
                                                 bool del, const std::optional<std::string>& repo,
                                                 std::int64_t lifetime_seconds) {
  auto b = [](bool v) { return std::optional<std::string>(v ? "true" : "false"); };
  // Two statements: a query does not see rows its own function call inserts.
  auto conn = Connection::Open(conninfo, std::chrono::seconds(10), "tessera-admin");
  if (!conn) return std::unexpected("cannot connect to PostgreSQL: " + conn.error().message);
  auto made =
      conn->Exec("SELECT tessera_grant_token($1, $2, $3, $4, $5, make_interval(secs => $6))",
                 {userid, b(read), b(write), b(del), repo, std::to_string(lifetime_seconds)});
  if (!made) return std::unexpected(made.error().message);
  return ReadGrant(conninfo, PQgetvalue(made->get(), 0, 0));
}

std::expected<GrantRow, std::string> ReadGrant(const std::string& conninfo,
                                               const std::string& jti) {
  return Query(conninfo, std::string("SELECT ") + kColumns + " FROM api_tokens WHERE jti = $1",
               {jti});
}

std::expected<void, std::string> RevokeGrant(const std::string& conninfo, const std::string& jti) {
  auto row = Query(
      conninfo,
      std::string("UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, now()) WHERE jti = $1 "
                  "RETURNING ") +
          kColumns,
      {jti});
  if (!row) return std::unexpected(row.error());
  return {};
}

}  // namespace tessera::store::pg
