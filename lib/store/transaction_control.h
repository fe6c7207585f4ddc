// Transaction control inside a migration file.
//
// The migrator wraps each migration in its own transaction. A file that says COMMIT (or BEGIN,
// ROLLBACK, SAVEPOINT, ...) itself would break that wrapper: everything before its COMMIT would
// be committed, recorded nowhere, and every later `migrate` would stumble over it. So such a file
// is refused before anything runs.
//
// The scan follows PostgreSQL's lexical rules (PostgreSQL documentation, "SQL Syntax", section
// 4.1): `--` line comments, nested `/* */` block comments, '...' strings (with '' inside, and
// backslash escapes in E'...' strings), "..." identifiers and $tag$...$tag$ dollar quotes are
// skipped, so a function body's BEGIN ... END (plpgsql blocks) or a COMMIT in a comment or string
// is not taken for transaction control. Statements are split at top-level ';' and each is
// judged by its first keyword(s): BEGIN, START TRANSACTION, COMMIT, END, ROLLBACK, ABORT,
// SAVEPOINT, RELEASE, PREPARE TRANSACTION. Only inside CREATE [OR REPLACE] FUNCTION|PROCEDURE
// does BEGIN ATOMIC open a body whose ';' split nothing. A COMMIT inside a DO block or a
// procedure is not found here; PostgreSQL itself refuses it inside the migrator's transaction.
//
// The scan cannot know every setting that changes PostgreSQL's lexing (standard_conforming_strings
// = off makes a backslash escape a quote), so the migrator never trusts it alone: it runs the
// statements SplitStatements found one at a time through the extended protocol, which refuses a
// text holding more than one command. Where this scan and PostgreSQL could disagree about where a
// statement ends, the migration fails; it never half-commits.
#pragma once

#include <cstddef>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tessera::store {

struct TransactionControl {
  std::size_t line = 0;   // 1-based line where the statement starts
  std::string statement;  // the keyword(s) found, upper case, e.g. "COMMIT"
};

// One statement of a migration file: its text (without the ';'), the line it starts on, and its
// first few words in upper case (an empty entry for a token that is not a word).
struct SqlStatement {
  std::string text;
  std::size_t line = 0;
  std::vector<std::string> head;
};

enum class SqlScanError {
  kUnterminated,  // a string, identifier, comment or dollar quote never ends
  kTooLarge,      // more than kMaxMigrationBytes
};

inline constexpr std::size_t kMaxMigrationBytes = 16 * 1024 * 1024;

// Splits `sql` into its top-level statements (comments and empty statements dropped). Fails
// when the text cannot be scanned. Thread-safe.
std::expected<std::vector<SqlStatement>, SqlScanError> SplitStatements(std::string_view sql);

// Whether `statement` is transaction control, and which.
std::optional<TransactionControl> TransactionControlOf(const SqlStatement& statement);

// The first statement of `sql` that is transaction control, or nullopt when there is none. Fails
// when the text cannot be scanned (it would not run either). Thread-safe.
std::expected<std::optional<TransactionControl>, SqlScanError> FindTransactionControl(
    std::string_view sql);

}  // namespace tessera::store
