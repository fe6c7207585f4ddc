#include "store/pg/migrator.h"

#include "store/pg/connection.h"

namespace tessera::store::pg {
namespace {

// "tessera migrate" in ASCII: the advisory lock key every runner agrees on.
constexpr const char* kLockKey = "7310582960118751085";

constexpr const char* kCreateTable = R"sql(
CREATE TABLE IF NOT EXISTS schema_migrations (
  source     text        NOT NULL CHECK (source IN ('schema', 'site')),
  name       text        NOT NULL,
  checksum   text        NOT NULL CHECK (checksum ~ '^[0-9a-f]{64}$'),
  applied_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (source, name)
))sql";

std::expected<void, std::string> ApplySet(Connection& conn, std::string_view source,
                                          const std::vector<Migration>& files,
                                          MigrateReport& report) {
  auto applied = ReadApplied(conn, source);
  if (!applied) return std::unexpected(applied.error());
  auto plan = PlanMigrations(files, *applied);
  if (!plan) return std::unexpected(std::string(source) + ": " + plan.error());
  for (std::size_t index : *plan) {
    const Migration& m = files[index];
    auto fail = [&](const std::string& why) {
      (void)conn.Exec("ROLLBACK");
      return std::unexpected(std::string(source) + "/" + m.name + " failed: " + why);
    };
    if (auto r = conn.Exec("BEGIN"); !r) return fail(r.error().message);
    if (auto r = conn.Exec(m.sql); !r) return fail(r.error().message);
    if (auto r = conn.Exec(
            "INSERT INTO schema_migrations (source, name, checksum) VALUES ($1, $2, $3)",
            {std::string(source), m.name, m.checksum});
        !r) {
      return fail(r.error().message);
    }
    if (auto r = conn.Exec("COMMIT"); !r) return fail(r.error().message);
    report.applied.push_back(std::string(source) + "/" + m.name);
  }
  return {};
}

}  // namespace

std::expected<std::vector<AppliedMigration>, std::string> ReadApplied(Connection& conn,
                                                                      std::string_view source) {
  auto exists = conn.Exec("SELECT to_regclass('schema_migrations') IS NOT NULL");
  if (!exists) return std::unexpected(exists.error().message);
  if (std::string_view(PQgetvalue(exists->get(), 0, 0)) != "t") {
    return std::vector<AppliedMigration>{};
  }
  auto rows = conn.Exec("SELECT name, checksum FROM schema_migrations WHERE source = $1 ORDER BY name",
                        {std::string(source)});
  if (!rows) return std::unexpected(rows.error().message);
  std::vector<AppliedMigration> out;
  for (int i = 0; i < PQntuples(rows->get()); ++i) {
    out.push_back({PQgetvalue(rows->get(), i, 0), PQgetvalue(rows->get(), i, 1)});
  }
  return out;
}

std::expected<MigrateReport, std::string> Migrate(const std::string& conninfo,
                                                  const std::vector<Migration>& schema,
                                                  const std::vector<Migration>* site) {
  auto conn = Connection::Open(conninfo, std::chrono::seconds(10), "tessera-admin");
  if (!conn) return std::unexpected("cannot connect to PostgreSQL: " + conn.error().message);
  // Quiet NOTICEs such as "relation already exists, skipping".
  (void)conn->Exec("SET client_min_messages = warning");
  if (auto r = conn->Exec(std::string("SELECT pg_advisory_lock(") + kLockKey + ")"); !r) {
    return std::unexpected("cannot take the migration lock: " + r.error().message);
  }
  MigrateReport report;
  auto result = [&]() -> std::expected<void, std::string> {
    if (auto r = conn->Exec(kCreateTable); !r) return std::unexpected(r.error().message);
    if (auto ok = ApplySet(*conn, "schema", schema, report); !ok) return ok;
    if (site != nullptr) return ApplySet(*conn, "site", *site, report);
    return {};
  }();
  (void)conn->Exec(std::string("SELECT pg_advisory_unlock(") + kLockKey + ")");
  if (!result) return std::unexpected(result.error());
  return report;
}

}  // namespace tessera::store::pg
