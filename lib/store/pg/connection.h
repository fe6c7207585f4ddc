// A PostgreSQL connection and its results as move-only RAII types over libpq.
//
// The only place outside lib/store/pg/*.cc that sees libpq. Not thread-safe: one connection per
// thread (libpq connections must not be shared without locking). Rows of a result are read by
// column name (store/pg/rows.h).
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

}  // namespace tessera::store::pg
