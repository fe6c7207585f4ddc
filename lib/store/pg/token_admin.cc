#include "store/pg/token_admin.h"

#include "store/pg/connection.h"
#include "store/pg/rows.h"

namespace tessera::store::pg {
namespace {
using Params = std::vector<std::optional<std::string>>;

// The columns RowAt reads.
constexpr const char* kColumns = "jti, userid, name, read, write, delete, repo, " TESSERA_EPOCH_SQL(
    "expires_at") " AS expires_at, " TESSERA_EPOCH_SQL(
    "created_at") " AS created_at, revoked_at IS NOT NULL AS revoked";

// PostgreSQL's message without the severity libpq puts before it ("ERROR:  "): the schema's
// functions word their errors for the admin, who reads them as they are.
std::string Message(const DbError& error) {
  constexpr std::string_view kSeverity = "ERROR:  ";
  std::string_view text = error.message;
  if (text.starts_with(kSeverity)) text.remove_prefix(kSeverity.size());
  return std::string(text);
}

std::expected<Connection, std::string> Open(const std::string& conninfo) {
  auto conn = Connection::Open(conninfo, std::chrono::seconds(10), "tessera-admin");
  if (!conn) return std::unexpected("cannot connect to PostgreSQL: " + conn.error().message);
  return std::move(*conn);
}

std::expected<GrantRow, std::string> RowAt(const RowReader::Row& row) {
  GrantRow g;
  RowFields f;
  f.Take(row.Text("jti"), g.jti);
  f.Take(row.Text("userid"), g.userid);
  f.Take(row.Text("name"), g.name);
  f.Take(row.Bool("read"), g.read);
  f.Take(row.Bool("write"), g.write);
  f.Take(row.Bool("delete"), g.del);
  f.Take(row.OptionalText("repo"), g.repo);
  f.Take(row.Time("expires_at"), g.expires_at);
  f.Take(row.Time("created_at"), g.created_at);
  f.Take(row.Bool("revoked"), g.revoked);
  if (f.error())
    return std::unexpected("grant row unreadable: " + std::string(Describe(*f.error())));
  return g;
}

// The grants a query over kColumns returns.
std::expected<std::vector<GrantRow>, std::string> Rows(Connection& conn, const std::string& sql,
                                                       const Params& params) {
  auto result = conn.Exec(sql, params);
  if (!result) return std::unexpected(Message(result.error()));
  std::vector<GrantRow> rows;
  RowReader reader(result->get());
  for (int i = 0; i < reader.size(); ++i) {
    auto row = RowAt(reader.row(i));
    if (!row) return std::unexpected(row.error());
    rows.push_back(std::move(*row));
  }
  return rows;
}

std::expected<GrantRow, std::string> One(Connection& conn, const std::string& sql,
                                         const Params& params, const std::string& none) {
  auto rows = Rows(conn, sql, params);
  if (!rows) return std::unexpected(rows.error());
  if (rows->empty()) return std::unexpected(none);
  return std::move(rows->front());
}

// Fails with the schema's own message for an account that does not exist.
std::expected<void, std::string> CheckAccount(Connection& conn, const std::string& userid) {
  auto found = conn.Exec("SELECT tessera.account_row($1)", {userid});
  if (!found) return std::unexpected(Message(found.error()));
  return {};
}

std::string Quoted(const std::string& name) { return "'" + name + "'"; }
}  // namespace

std::expected<GrantRow, std::string> CreateGrant(const std::string& conninfo,
                                                 const GrantSpec& spec) {
  auto b = [](bool v) { return std::optional<std::string>(v ? "true" : "false"); };
  auto conn = Open(conninfo);
  if (!conn) return std::unexpected(conn.error());
  Params shape = {b(spec.read), b(spec.write), b(spec.del), spec.repo,
                  std::to_string(spec.lifetime_seconds)};
  Params params = {spec.userid};
  if (spec.name) params.push_back(spec.name);
  params.insert(params.end(), shape.begin(), shape.end());
  // Two statements: a query does not see rows its own function call inserts.
  auto made = conn->Exec(
      spec.name
          ? "SELECT tessera.grant_token(account => $1, name => $2, read => $3, write => $4, "
            "delete => $5, repo => $6, valid_for => make_interval(secs => $7)) AS jti"
          : "SELECT tessera_grant_token($1, $2, $3, $4, $5, make_interval(secs => $6)) AS jti",
      params);
  if (!made) return std::unexpected(Message(made.error()));
  RowReader rows(made->get());
  auto jti = rows.size() == 1
                 ? rows.row(0).Text("jti")
                 : std::expected<std::string, RowError>(std::unexpected(RowError::kNull));
  if (!jti) return std::unexpected("grant row unreadable: " + std::string(Describe(jti.error())));
  return One(*conn, std::string("SELECT ") + kColumns + " FROM api_tokens WHERE jti = $1", {*jti},
             "no such grant");
}

std::expected<GrantRow, std::string> ReadGrant(const std::string& conninfo,
                                               const std::string& jti) {
  auto conn = Open(conninfo);
  if (!conn) return std::unexpected(conn.error());
  return One(*conn, std::string("SELECT ") + kColumns + " FROM api_tokens WHERE jti = $1", {jti},
             "no such grant");
}

std::expected<GrantRow, std::string> ReadNamedGrant(const std::string& conninfo,
                                                    const std::string& userid,
                                                    const std::string& name) {
  auto conn = Open(conninfo);
  if (!conn) return std::unexpected(conn.error());
  if (auto known = CheckAccount(*conn, userid); !known) return std::unexpected(known.error());
  // A name is unique among live grants only: a revoked one may have had it before.
  return One(*conn,
             std::string("SELECT ") + kColumns +
                 " FROM api_tokens WHERE userid = $1 AND name = $2"
                 " ORDER BY revoked_at IS NULL DESC, created_at DESC LIMIT 1",
             {userid, name}, userid + " has no token named " + Quoted(name));
}

std::expected<std::vector<GrantRow>, std::string> ListGrants(const std::string& conninfo,
                                                             const std::string& userid) {
  auto conn = Open(conninfo);
  if (!conn) return std::unexpected(conn.error());
  if (auto known = CheckAccount(*conn, userid); !known) return std::unexpected(known.error());
  return Rows(*conn,
              std::string("SELECT ") + kColumns +
                  " FROM api_tokens WHERE userid = $1 ORDER BY created_at, name, jti",
              {userid});
}

std::expected<void, std::string> RevokeGrant(const std::string& conninfo, const std::string& jti) {
  auto conn = Open(conninfo);
  if (!conn) return std::unexpected(conn.error());
  auto row = One(*conn,
                 std::string("UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, now()) "
                             "WHERE jti = $1 RETURNING ") +
                     kColumns,
                 {jti}, "no such grant");
  if (!row) return std::unexpected(row.error());
  return {};
}

std::expected<std::string, std::string> RevokeNamedGrant(const std::string& conninfo,
                                                         const std::string& userid,
                                                         const std::string& name) {
  auto conn = Open(conninfo);
  if (!conn) return std::unexpected(conn.error());
  auto gone =
      conn->Exec("SELECT tessera.revoke_token(account => $1, name => $2) AS jti", {userid, name});
  if (!gone) return std::unexpected(Message(gone.error()));
  RowReader rows(gone->get());
  auto jti = rows.size() == 1
                 ? rows.row(0).Text("jti")
                 : std::expected<std::string, RowError>(std::unexpected(RowError::kNull));
  if (!jti) return std::unexpected("grant row unreadable: " + std::string(Describe(jti.error())));
  return std::move(*jti);
}

}  // namespace tessera::store::pg
