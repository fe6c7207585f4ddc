// A pool of database connections shared by every worker thread.
//
// The worker's threads come and go with the load (fcgi/server.h), so they cannot each own a
// PostgreSQL connection: a thread held by a slow upload would hold its connection too, and a
// burst of threads would exhaust max_connections. DatabasePool is a store::Database that lends
// one of a fixed set of members for the duration of each call, waits a bounded time for a free
// one, and fails with kUnavailable (answered 503) rather than queueing a request forever. The
// members are any Database (PgDatabase in the worker, fakes in tests); each is used by one
// thread at a time, as their contract requires.
#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include "store/database.h"
#include "store/pg/pg_database.h"

namespace tessera::store::pg {

// Builds a pool over `members` (at least one). A call that finds every member busy waits up to
// `wait` for one and then fails with kUnavailable. The returned object is thread-safe; the
// members must not be used elsewhere.
std::unique_ptr<Database> MakeDatabasePool(std::vector<std::unique_ptr<Database>> members,
                                           std::chrono::milliseconds wait);

// A pool of `connections` PostgreSQL databases opened with `options` (they connect lazily,
// see OpenPgDatabase). Thread-safe.
std::unique_ptr<Database> OpenPgPool(const PgOptions& options, int connections,
                                     std::chrono::milliseconds wait);

}  // namespace tessera::store::pg
