// Applies schema and site migrations to PostgreSQL (DESIGN.md, "PostgreSQL").
//
// Under a session advisory lock (so concurrent runs queue instead of racing), it creates the
// bookkeeping table if needed, plans with store::PlanMigrations, and applies each pending file in
// its own transaction together with its row in schema_migrations: a failing file leaves nothing
// behind. A pending file that contains its own transaction control (BEGIN, COMMIT, ...) is
// refused before any file runs.
#pragma once

#include <expected>
#include <string>
#include <vector>

#include "store/migrations.h"

namespace tessera::store::pg {

class Connection;

// The migrations recorded for "schema" (the project's) in schema_migrations; empty when the table
// does not exist yet. Fails with libpq's message.
std::expected<std::vector<AppliedMigration>, std::string> ReadApplied(
    Connection& conn, std::string_view source = "schema");

struct MigrateReport {
  std::vector<std::string> applied;  // "schema/0001_x.sql", "site/0001_y.sql" in order
};

// Applies the pending schema migrations, then the pending site migrations (if `site` is given).
// Fails with a message naming the migration and PostgreSQL's error; what was applied before the
// failure stays applied.
std::expected<MigrateReport, std::string> Migrate(const std::string& conninfo,
                                                  const std::vector<Migration>& schema,
                                                  const std::vector<Migration>* site);

}  // namespace tessera::store::pg
