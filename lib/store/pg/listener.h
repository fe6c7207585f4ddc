// The change listener: one thread per worker process with its own PostgreSQL connection that
// loads account state, live ticket revocations and token grants into the SessionCache, then
// LISTENs on `tessera_accounts`, `tessera_revocations` (sql/0002) and `tessera_tokens` (sql/0003)
// and applies each change as
// it is notified. It checks the connection twice a second and marks the cache fresh each time;
// when PostgreSQL goes away it marks the cache lost and reconnects with backoff (this thread may
// sleep; request threads never do). No libpq type in this header.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "auth/session_cache.h"
#include "clock/clock.h"

namespace tessera::store::pg {

class ChangeListener {
 public:
  ChangeListener(std::string conninfo, auth::SessionCache& cache, const clock::Clock& clock);
  ~ChangeListener();  // stops and joins
  ChangeListener(const ChangeListener&) = delete;
  ChangeListener& operator=(const ChangeListener&) = delete;

  void Start();
  void Stop();

 private:
  void Run();
  std::string conninfo_;
  auth::SessionCache& cache_;
  const clock::Clock& clock_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace tessera::store::pg
