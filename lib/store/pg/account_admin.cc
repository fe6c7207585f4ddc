#include "store/pg/account_admin.h"

#include "store/pg/connection.h"
#include "store/pg/rows.h"

namespace tessera::store::pg {
namespace {
using Params = std::vector<std::optional<std::string>>;

std::expected<Result, std::string> Exec(const std::string& conninfo, const char* sql,
                                        const Params& params) {
  auto conn = Connection::Open(conninfo, std::chrono::seconds(10), "tessera-admin");
  if (!conn) return std::unexpected("cannot connect to PostgreSQL: " + conn.error().message);
  auto result = conn->Exec(sql, params);
  if (!result) {
    if (result.error().kind == StoreError::kConflict)
      return std::unexpected("the account exists already");
    return std::unexpected(result.error().message);
  }
  return std::move(*result);
}

std::expected<void, std::string> ExecOne(const std::string& conninfo, const char* sql,
                                         const Params& params) {
  auto result = Exec(conninfo, sql, params);
  if (!result) return std::unexpected(result.error());
  if (std::string_view(PQcmdTuples(result->get())) == "0")
    return std::unexpected("no such account");
  return {};
}
}  // namespace

std::expected<void, std::string> AddAccount(const std::string& conninfo, const std::string& userid,
                                            const std::string& hash,
                                            const std::optional<std::string>& expires_at) {
  return ExecOne(
      conninfo,
      "INSERT INTO accounts (userid, password_hash, expires_at) VALUES ($1, $2, $3::timestamptz)",
      {userid, hash, expires_at});
}

std::expected<void, std::string> SetPassword(const std::string& conninfo, const std::string& userid,
                                             const std::string& hash) {
  return ExecOne(conninfo,
                 "UPDATE accounts SET password_hash = $2, "
                 "session_epoch = extract(epoch FROM now())::bigint + 1 WHERE userid = $1",
                 {userid, hash});
}

std::expected<void, std::string> SetEnabled(const std::string& conninfo, const std::string& userid,
                                            bool enabled) {
  return ExecOne(conninfo,
                 enabled
                     ? "UPDATE accounts SET enabled = true WHERE userid = $1"
                     : "UPDATE accounts SET enabled = false, "
                       "session_epoch = extract(epoch FROM now())::bigint + 1 WHERE userid = $1",
                 {userid});
}

std::expected<std::vector<AccountRow>, std::string> ListAccounts(const std::string& conninfo) {
  auto result = Exec(
      conninfo, "SELECT userid, enabled, expires_at, created_at FROM accounts ORDER BY userid", {});
  if (!result) return std::unexpected(result.error());
  std::vector<AccountRow> rows;
  RowReader reader(result->get());
  for (int i = 0; i < reader.size(); ++i) {
    AccountRow row{};
    RowFields f;
    f.Take(reader.row(i).Text("userid"), row.userid);
    f.Take(reader.row(i).Bool("enabled"), row.enabled);
    f.Take(reader.row(i).OptionalText("expires_at"), row.expires_at);
    f.Take(reader.row(i).Text("created_at"), row.created_at);
    if (f.error())
      return std::unexpected("accounts row unreadable: " + std::string(Describe(*f.error())));
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace tessera::store::pg
