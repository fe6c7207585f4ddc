#include "store/pg/connection.h"

#include <poll.h>

#include <cstring>

namespace tessera::store::pg {
namespace {
StoreError MapSqlState(const char* state) {
  if (state == nullptr) return StoreError::kUnavailable;
  std::string_view s(state);
  if (s == "23505") return StoreError::kConflict;
  if (s == "42501") return StoreError::kRefused;
  if (s == "P0002") return StoreError::kNotFound;
  if (s.starts_with("23") || s.starts_with("22")) return StoreError::kInvalid;
  // Lost connections, shutdowns, and what a retry may cure: serialization failures and
  // deadlocks (40xxx), a statement timeout or cancel (57014).
  if (s.starts_with("08") || s.starts_with("57P") || s.starts_with("40") || s == "57014")
    return StoreError::kUnavailable;
  return StoreError::kInvalid;
}

std::string FirstLine(const char* text) {
  std::string s = text ? text : "";
  if (auto nl = s.find('\n'); nl != std::string::npos) s.resize(nl);
  return s;
}
}  // namespace

std::expected<Connection, DbError> Connection::Open(const std::string& conninfo,
                                                    std::chrono::seconds timeout,
                                                    std::string_view application_name) {
  // Our defaults come first; the expanded conninfo (dbname, with expand_dbname) overrides them.
  std::string timeout_text = std::to_string(timeout.count());
  std::string app(application_name);
  const char* keys[] = {"connect_timeout", "application_name", "dbname", nullptr};
  const char* values[] = {timeout_text.c_str(), app.c_str(), conninfo.c_str(), nullptr};
  PGconn* raw = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  Connection conn(raw);
  if (raw == nullptr) return std::unexpected(DbError{StoreError::kUnavailable, "out of memory"});
  if (PQstatus(raw) != CONNECTION_OK) {
    return std::unexpected(DbError{StoreError::kUnavailable, FirstLine(PQerrorMessage(raw))});
  }
  return conn;
}

std::expected<Result, DbError> Connection::Check(PGresult* raw) {
  Result result(raw);
  ExecStatusType status = raw ? PQresultStatus(raw) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return result;
  if (PQstatus(conn_.get()) != CONNECTION_OK) {
    return std::unexpected(
        DbError{StoreError::kUnavailable, FirstLine(PQerrorMessage(conn_.get()))});
  }
  const char* state = raw ? PQresultErrorField(raw, PG_DIAG_SQLSTATE) : nullptr;
  return std::unexpected(DbError{MapSqlState(state), FirstLine(PQerrorMessage(conn_.get()))});
}

std::expected<Result, DbError> Connection::Exec(std::string_view sql) {
  std::string text(sql);
  return Check(PQexec(conn_.get(), text.c_str()));
}

std::expected<Result, DbError> Connection::Exec(
    std::string_view sql, const std::vector<std::optional<std::string>>& params) {
  std::string text(sql);
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  // PQsendQueryParams rather than PQexecParams, to know whether the statement left: on a
  // blocking connection it returns only once the whole message is flushed, and fails before.
  // The server runs nothing of a message that never arrived whole (it ends with Sync).
  if (!PQsendQueryParams(conn_.get(), text.c_str(), static_cast<int>(values.size()), nullptr,
                         values.data(), nullptr, nullptr, 0)) {
    return std::unexpected(
        DbError{StoreError::kUnavailable, FirstLine(PQerrorMessage(conn_.get())), false});
  }
  // The last result, as PQexecParams keeps it (one statement gives one result).
  Result last;
  while (PGresult* next = PQgetResult(conn_.get())) last.reset(next);
  return Check(last.release());
}

bool Connection::Healthy() const { return conn_ && PQstatus(conn_.get()) == CONNECTION_OK; }

bool Connection::Alive() {
  if (!Healthy()) return false;
  pollfd p{PQsocket(conn_.get()), POLLIN, 0};
  if (poll(&p, 1, 0) <= 0) return true;  // nothing arrived while idle
  // A server that shuts down sends its FATAL message and closes: reading it marks the
  // connection bad. A notice is read and dropped.
  if (!PQconsumeInput(conn_.get())) return false;
  return Healthy();
}

}  // namespace tessera::store::pg
