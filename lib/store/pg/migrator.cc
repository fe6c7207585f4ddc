#include "store/pg/migrator.h"

#include "store/pg/connection.h"
#include "store/pg/rows.h"
#include "store/transaction_control.h"

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

// A pending migration: its file and its statements, as store/transaction_control.h splits them.
struct PendingFile {
  const Migration* file;
  std::vector<SqlStatement> statements;
};

// The pending migrations of one source, in order.
struct Pending {
  std::string_view source;
  std::vector<PendingFile> files;
};

std::expected<Pending, std::string> PlanSet(Connection& conn, std::string_view source,
                                            const std::vector<Migration>& files) {
  auto applied = ReadApplied(conn, source);
  if (!applied) return std::unexpected(applied.error());
  auto plan = PlanMigrations(files, *applied);
  if (!plan) return std::unexpected(std::string(source) + ": " + plan.error());
  Pending pending{source, {}};
  for (std::size_t index : *plan) pending.files.push_back({&files[index], {}});
  return pending;
}

// Splits every pending file into statements and refuses one that holds its own transaction
// control: its COMMIT would commit half of it outside the transaction that records it.
std::expected<void, std::string> CheckPending(Pending& pending) {
  for (PendingFile& p : pending.files) {
    std::string where = std::string(pending.source) + "/" + p.file->name;
    auto statements = SplitStatements(p.file->sql);
    if (!statements) {
      return std::unexpected(
          where + ": " +
          (statements.error() == SqlScanError::kTooLarge
               ? "larger than 16 MiB"
               : "unterminated string, quoted identifier, comment or dollar quote"));
    }
    for (const SqlStatement& statement : *statements) {
      if (auto control = TransactionControlOf(statement)) {
        return std::unexpected(where + " line " + std::to_string(control->line) + ": " +
                               control->statement +
                               " is not allowed in a migration: each migration runs in its own "
                               "transaction, which the migrator begins and commits");
      }
    }
    p.statements = std::move(*statements);
  }
  return {};
}

// Runs one file inside the migrator's transaction, a statement at a time through the extended
// protocol (PQexecParams), which refuses a text of more than one command: where the scan and
// PostgreSQL could disagree about a statement's end, the file fails instead of half-committing.
std::expected<void, std::string> RunFile(Connection& conn, const PendingFile& p) {
  // A file before may have turned this off for the session; the scan assumes it on.
  if (auto r = conn.Exec("SET standard_conforming_strings = on", {}); !r)
    return std::unexpected(r.error().message);
  for (const SqlStatement& statement : p.statements) {
    if (auto r = conn.Exec(statement.text, {}); !r) {
      return std::unexpected("line " + std::to_string(statement.line) + ": " + r.error().message);
    }
    if (PQtransactionStatus(conn.raw()) != PQTRANS_INTRANS) {
      return std::unexpected("line " + std::to_string(statement.line) +
                             ": the statement ended the migrator's transaction");
    }
  }
  return {};
}

std::expected<void, std::string> ApplySet(Connection& conn, const Pending& pending,
                                          MigrateReport& report) {
  for (const PendingFile& p : pending.files) {
    const Migration* m = p.file;
    auto fail = [&](const std::string& why) {
      (void)conn.Exec("ROLLBACK");
      return std::unexpected(std::string(pending.source) + "/" + m->name + " failed: " + why);
    };
    if (auto r = conn.Exec("BEGIN"); !r) return fail(r.error().message);
    if (auto ran = RunFile(conn, p); !ran) return fail(ran.error());
    if (auto r =
            conn.Exec("INSERT INTO schema_migrations (source, name, checksum) VALUES ($1, $2, $3)",
                      {std::string(pending.source), m->name, m->checksum});
        !r) {
      return fail(r.error().message);
    }
    if (auto r = conn.Exec("COMMIT"); !r) return fail(r.error().message);
    report.applied.push_back(std::string(pending.source) + "/" + m->name);
  }
  return {};
}

}  // namespace

std::expected<std::vector<AppliedMigration>, std::string> ReadApplied(Connection& conn,
                                                                      std::string_view source) {
  auto exists = conn.Exec("SELECT to_regclass('schema_migrations') IS NOT NULL AS present");
  if (!exists) return std::unexpected(exists.error().message);
  RowReader found(exists->get());
  auto present = found.size() == 1
                     ? found.row(0).Bool("present")
                     : std::expected<bool, RowError>(std::unexpected(RowError::kNull));
  if (!present)
    return std::unexpected("schema_migrations check unreadable: " +
                           std::string(Describe(present.error())));
  if (!*present) return std::vector<AppliedMigration>{};
  auto rows =
      conn.Exec("SELECT name, checksum FROM schema_migrations WHERE source = $1 ORDER BY name",
                {std::string(source)});
  if (!rows) return std::unexpected(rows.error().message);
  std::vector<AppliedMigration> out;
  RowReader applied(rows->get());
  for (int i = 0; i < applied.size(); ++i) {
    AppliedMigration m;
    RowFields f;
    f.Take(applied.row(i).Text("name"), m.name);
    f.Take(applied.row(i).Text("checksum"), m.checksum);
    if (f.error()) {
      return std::unexpected("schema_migrations row unreadable: " +
                             std::string(Describe(*f.error())));
    }
    out.push_back(std::move(m));
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
    auto schema_plan = PlanSet(*conn, "schema", schema);
    if (!schema_plan) return std::unexpected(schema_plan.error());
    std::optional<Pending> site_plan;
    if (site != nullptr) {
      auto planned = PlanSet(*conn, "site", *site);
      if (!planned) return std::unexpected(planned.error());
      site_plan = std::move(*planned);
    }
    // Every pending file is checked before the first one runs.
    if (auto ok = CheckPending(*schema_plan); !ok) return ok;
    if (site_plan) {
      if (auto ok = CheckPending(*site_plan); !ok) return ok;
    }
    if (auto ok = ApplySet(*conn, *schema_plan, report); !ok) return ok;
    if (site_plan) return ApplySet(*conn, *site_plan, report);
    return {};
  }();
  (void)conn->Exec(std::string("SELECT pg_advisory_unlock(") + kLockKey + ")");
  if (!result) return std::unexpected(result.error());
  return report;
}

}  // namespace tessera::store::pg
