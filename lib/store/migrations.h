// Schema and site migrations: ordered SQL files, each applied once, recorded with its checksum.
//
// A migration file is named `NNNN_name.sql` (four digits, then letters, digits, '_' or '-').
// This part is pure: it reads the files and decides what to apply; lib/store/pg/migrator applies
// the plan inside PostgreSQL. An applied migration whose file changed, an applied migration whose
// file is gone, and a new file that sorts before an applied one are all refused, because each
// means the database and the files no longer describe the same history.
#pragma once

#include <expected>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tessera::store {

struct Migration {
  std::string name;  // file name, e.g. "0001_accounts.sql"
  std::string sql;
  std::string checksum;  // lower-case hex SHA-256 of the file's bytes
};

struct AppliedMigration {
  std::string name;
  std::string checksum;
};

// The schema migrations this build was compiled with (names and checksums of sql/*.sql).
struct ManifestEntry {
  std::string_view name;
  std::string_view checksum;
};
std::span<const ManifestEntry> SchemaManifest();

// Lower-case hex SHA-256.
std::string Sha256Hex(std::string_view data);

// Whether `name` is a valid migration file name.
bool IsMigrationName(std::string_view name);

// Reads every *.sql file of `dir`, sorted by name. Fails (with a message naming the file) on an
// unreadable directory or file, or a *.sql file whose name is not NNNN_name.sql.
std::expected<std::vector<Migration>, std::string> LoadMigrations(const std::filesystem::path& dir);

// Decides which of `files` still need applying, given what the database recorded. Returns their
// indexes in order, or a message saying why the history does not match.
std::expected<std::vector<std::size_t>, std::string> PlanMigrations(
    const std::vector<Migration>& files, const std::vector<AppliedMigration>& applied);

// Whether every manifest entry is applied with the same checksum. Fails with a message naming the
// first migration that is missing or differs.
std::expected<void, std::string> CheckSchema(std::span<const ManifestEntry> manifest,
                                             const std::vector<AppliedMigration>& applied);

}  // namespace tessera::store
