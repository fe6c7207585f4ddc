// The rows the session cache reads (auth/session_cache.h) through store/auth_store.h: a token
// grant and an account's state. Each is a column list for the SELECT, naming every column, and
// the reader of the row it returns, by those names (store/pg/rows.h): a new column is one line in
// each, here and in records.cc, plus its field in store/auth_store.h.
#pragma once

#include <expected>

#include "store/auth_store.h"
#include "store/pg/rows.h"

namespace tessera::store::pg {

// The columns of a grant row as GrantFromRow reads them, and the FROM clause they need.
inline constexpr const char* kGrantColumns =
    "t.userid, a.id AS account_id, t.read, t.write, t.delete, t.repo, t.name, "
    "t.revoked_at IS NOT NULL AS revoked, " TESSERA_EPOCH_SQL("t.expires_at") " AS expires_at";
inline constexpr const char* kGrantFrom = "api_tokens t JOIN accounts a ON a.userid = t.userid";
// Reads a grant from a row with kGrantColumns (other columns may come along). Fails with the
// first column it cannot read, or kBadUserid.
std::expected<GrantRecord, RowError> GrantFromRow(const RowReader::Row& row);

// The columns of an account's state as StateFromRow reads them (from `accounts`).
inline constexpr const char* kStateColumns =
    "enabled, " TESSERA_EPOCH_SQL("expires_at") " AS expires_at, session_epoch";
// Reads (enabled, expires_at as epoch text or NULL, session_epoch) from a row with kStateColumns.
std::expected<AccountState, RowError> StateFromRow(const RowReader::Row& row);

}  // namespace tessera::store::pg
