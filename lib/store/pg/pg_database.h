// The PostgreSQL implementation of store::Database, one per worker thread.
//
// It connects lazily, checks on every new connection that the schema is up to date, and after a
// lost connection retries with exponential backoff (50 ms doubling up to a configured bound)
// without ever sleeping: while a retry is not yet due, calls fail at once with kUnavailable, so a
// request gets its 503 immediately and the thread stays free. No libpq type in this header.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "store/database.h"

namespace tessera::store::pg {

struct PgOptions {
  std::string conninfo;
  std::chrono::seconds connect_timeout{2};
  std::chrono::milliseconds retry_max{2000};
  bool check_schema = true;
};

// Creates the database object; it does not connect until first used. Not thread-safe.
std::unique_ptr<Database> OpenPgDatabase(PgOptions options);

// Connects once and checks the schema against the compiled-in manifest. Returns an error naming
// what is wrong: unreachable (kUnavailable) or behind (kInvalid, message names the migration).
std::expected<void, std::pair<StoreError, std::string>> VerifySchema(const PgOptions& options);

}  // namespace tessera::store::pg
