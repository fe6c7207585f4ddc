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

// The columns of a grant row as GrantFromRow reads them, and the FROM clause they need.
inline constexpr const char* kGrantColumns =
    "t.userid, a.id, t.read, t.write, t.delete, t.repo, t.revoked_at IS NOT NULL, "
    "extract(epoch FROM t.expires_at)::bigint";
inline constexpr const char* kGrantFrom = "api_tokens t JOIN accounts a ON a.userid = t.userid";
GrantRecord GrantFromRow(PGresult* result, int row, int first_column);

// Reads (enabled, expires_at as epoch seconds or NULL, session_epoch) starting at `first_column`.
AccountState StateFromRow(PGresult* result, int row, int first_column);

}  // namespace tessera::store::pg
