// The core's view of the database: a small interface, so handlers are testable with fakes and the
// PostgreSQL implementation (lib/store/pg/) is tested against a real server.
//
// A PgDatabase serves one thread at a time (not thread-safe); the worker shares one thread-safe
// pool of them (store/pg/pool.h) between all its threads, each call borrowing one connection.
#pragma once

#include <expected>

#include "store/auth_store.h"
#include "store/own_grants.h"
#include "store/repo_store.h"
#include "store/usage_store.h"

namespace tessera::store {

enum class StoreError {
  kUnavailable,  // PostgreSQL cannot be reached or the schema is behind: answer 503
  kConflict,     // a unique constraint refused the write (SQLSTATE 23505)
  kNotFound,
  kInvalid,  // the database refused the data (constraint, type): a bug or bad input
  kRefused,  // a rule in the schema said no (SQLSTATE 42501, e.g. a token ceiling)
};

// The per-thread database handle: every store interface of the core, plus a health check.
class Database : public AuthStore, public OwnGrantStore, public UsageStore, public RepoStore {
 public:
  // Whether PostgreSQL answers a trivial query now. kUnavailable when it does not.
  virtual std::expected<void, StoreError> Ping() = 0;
};

}  // namespace tessera::store
