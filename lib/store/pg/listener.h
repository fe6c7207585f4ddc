// The change listener: one thread per worker process with its own PostgreSQL connection that
// loads account state, live ticket revocations and token grants into a store::ChangeSink (the
// workers' auth::SessionCache), then LISTENs on `tessera_accounts`, `tessera_revocations` and
// `tessera_tokens` (store/notification.h) and applies each change as it is notified.
//
// Payloads are untrusted: any role can NOTIFY. A malformed one is logged (a short, sanitized
// prefix) and answered by a full reload (at most four a second, however many arrive), so the
// cache is never left silently stale. A row that cannot be read (store/pg/connection.h, RowError)
// is logged and denies only itself: an account or grant is left out, a revocation is kept for
// good. It checks the connection twice a second and marks the sink fresh each time; when
// PostgreSQL goes away it marks the sink lost and reconnects with backoff (this thread may sleep;
// request threads never do). No libpq type in this header.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "clock/clock.h"
#include "store/change_sink.h"

namespace tessera::store::pg {

class ChangeListener {
 public:
  // `sink` and `clock` must outlive the listener.
  ChangeListener(std::string conninfo, ChangeSink& sink, const clock::Clock& clock);
  ~ChangeListener();  // stops and joins
  ChangeListener(const ChangeListener&) = delete;
  ChangeListener& operator=(const ChangeListener&) = delete;

  // Starts the thread. Not thread-safe against Stop(); call both from one thread.
  void Start();
  void Stop();

 private:
  void Run();
  std::string conninfo_;
  ChangeSink& sink_;
  const clock::Clock& clock_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace tessera::store::pg
