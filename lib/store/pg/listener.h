// The change listener: one thread per worker process with its own PostgreSQL connection that
// LISTENs on `tessera_accounts`, `tessera_revocations` and `tessera_tokens`
// (store/notification.h) and tells a store::ChangeSink (the workers' auth::SessionCache) what
// changed. It reads no account or grant: the cache forgets what it is told changed and reads it
// again when next asked, so a notification for something the cache does not hold costs nothing;
// a statement that changed many rows says '*' once (sql/0012). On (re)connect, on '*' and on junk,
// the cache starts over (forgets every account and grant) and the live ticket revocations are
// loaded whole; revocations notified later are added as they come.
//
// Payloads are untrusted: any role can NOTIFY. A malformed one is logged (a short, sanitized
// prefix) and answered by a start-over (at most four a second, however many arrive), so the
// cache is never left silently stale. A revocation whose expiry cannot be read (store/pg/
// connection.h, RowError) is logged and kept for good. It checks the connection twice a second
// and marks the sink fresh each time; when PostgreSQL goes away it marks the sink lost and
// reconnects with backoff (this thread may sleep; request threads never do). No libpq type in
// this header.
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
