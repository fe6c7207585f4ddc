// A PostgreSQL connection and its results as move-only RAII types over libpq.
//
// The only place outside lib/store/pg/*.cc that sees libpq. Not thread-safe: one connection per
// thread (libpq connections must not be shared without locking).
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/database.h"

namespace tessera::store::pg {

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

struct DbError {
  StoreError kind;
  std::string message;  // libpq's text: for logs, never for clients
  // Whether the statement may have reached the server: false only when the connection failed
  // before the whole statement was handed to it, so the server cannot have run it.
  bool sent = true;
};

class Connection {
 public:
  // Opens a connection. `conninfo` is a libpq connection string; `timeout` bounds the attempt.
  // Fails with kUnavailable and libpq's message.
  static std::expected<Connection, DbError> Open(const std::string& conninfo,
                                                 std::chrono::seconds timeout,
                                                 std::string_view application_name);

  // Runs SQL (several statements allowed when there are no parameters). Returns the last result
  // when it is a success; otherwise the error mapped from SQLSTATE (class 08 and a broken
  // connection → kUnavailable, 23505 → kConflict, other 23xxx/22xxx → kInvalid).
  std::expected<Result, DbError> Exec(std::string_view sql);
  std::expected<Result, DbError> Exec(std::string_view sql,
                                      const std::vector<std::optional<std::string>>& params);

  // Whether the connection is still usable.
  bool Healthy() const;
  // Whether it is still usable and the server has not closed it meanwhile (a restart, an idle
  // timeout): reads what the server sent while the connection was idle, without blocking.
  bool Alive();
  // The libpq handle, for LISTEN/NOTIFY polling in this directory only.
  PGconn* raw() const { return conn_.get(); }

 private:
  struct ConnDeleter {
    void operator()(PGconn* c) const { PQfinish(c); }
  };
  explicit Connection(PGconn* conn) : conn_(conn) {}
  std::expected<Result, DbError> Check(PGresult* raw);
  std::unique_ptr<PGconn, ConnDeleter> conn_;
};

// A timestamptz column as text for ParseEpochSeconds (store/sql_text.h): whole Unix seconds
// (floored), 'infinity' or '-infinity', NULL stays NULL. extract(epoch ...)::bigint would fail on
// the infinities, and one such row would fail the whole query.
#define TESSERA_EPOCH_SQL(c)                                                          \
  "CASE WHEN " c " IS NULL THEN NULL WHEN " c " = 'infinity' THEN 'infinity' WHEN " c \
  " = '-infinity' THEN '-infinity' ELSE floor(extract(epoch FROM " c "))::bigint::text END"

// Why a row could not be read; the row then denies only itself.
enum class RowError {
  kNull,  // NULL where the schema says NOT NULL
  kBadBool,
  kBadInteger,
  kBadTime,
  kBadUserid,  // not names/userid.h
};
std::string_view Describe(RowError error);

// The columns of a grant row as GrantFromRow reads them, and the FROM clause they need.
inline constexpr const char* kGrantColumns =
    "t.userid, a.id, t.read, t.write, t.delete, t.repo, t.revoked_at IS NOT "
    "NULL, " TESSERA_EPOCH_SQL("t.expires_at") ", t.name";
inline constexpr const char* kGrantFrom = "api_tokens t JOIN accounts a ON a.userid = t.userid";
std::expected<GrantRecord, RowError> GrantFromRow(PGresult* result, int row, int first_column);

// The columns of an account's state as StateFromRow reads them (from `accounts`).
inline constexpr const char* kStateColumns =
    "enabled, " TESSERA_EPOCH_SQL("expires_at") ", session_epoch";
// Reads (enabled, expires_at as epoch text or NULL, session_epoch) starting at `first_column`.
std::expected<AccountState, RowError> StateFromRow(PGresult* result, int row, int first_column);

// Reads a bigint column (from_chars; kNull / kBadInteger).
std::expected<std::int64_t, RowError> Int64FromRow(PGresult* result, int row, int column);
// Reads a column written by TESSERA_EPOCH_SQL that the schema declares NOT NULL.
std::expected<std::int64_t, RowError> EpochFromRow(PGresult* result, int row, int column);

}  // namespace tessera::store::pg
