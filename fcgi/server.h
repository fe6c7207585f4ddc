// The worker's accept loop and its threads.
//
// One thread at a time waits in accept(2) (the leader); when it gets a connection it hands the
// leadership to an idle thread, or starts a new one if none is idle and fewer than max_threads
// run, and then serves the connection itself. So a connection never waits for a thread while
// fewer than max_threads are busy, and however many slow clients hold threads, the next
// connection is accepted at once. `min_threads` threads are kept; a thread beyond them that
// has been idle for `idle_exit` ends. Every socket wait is bounded (fcgi/adapter.h), so a thread
// held by a slow client is freed within io_timeout plus what min_transfer_rate allows, and no
// thread waits for a body its request did not read: what is already there is drained, the rest
// is left to the one lingering thread (fcgi/lingerer.h). How many threads one account's slow
// clients may hold at all is its fair share (auth/fair_share.h).
//
// The worker, not libfcgi, accepts: libfcgi's accept path waits (up to 2 s, or indefinitely with a
// trickle) inside the accept lock and uses select(2), which breaks past 1024 descriptors.
#pragma once

#include <fcgiapp.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "api/app.h"
#include "fcgi/adapter.h"
#include "fcgi/lingerer.h"
#include "fcgi/transfer_deadline.h"

namespace tessera::fcgi {

struct ServerOptions {
  int min_threads = 4;
  int max_threads = 128;
  TransferLimits io;
  std::chrono::milliseconds idle_exit{30'000};
  bool access_log = true;  // one line per request (log/access_log.h)
};

class Server {
 public:
  // `listen_fd` (a listening socket) must outlive the server; `app` is shared with it.
  Server(int listen_fd, std::shared_ptr<const api::App> app, ServerOptions options);
  ~Server();  // Stop()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Starts min_threads threads. Returns false (logged) if not even one could be started.
  bool Start();

  // Serves every request that starts from now on with `app` (a configuration reload); requests
  // in flight finish with the App they started with, which goes when the last of them ends.
  // Thread-safe.
  void Replace(std::shared_ptr<const api::App> app) { app_.store(std::move(app)); }

  // Stops accepting (shutdown(2) on the listening socket wakes the leader), lets every request
  // in flight finish, and joins every thread. Idempotent; call from one thread only.
  void Stop();

 private:
  void ThreadMain();
  // Waits to lead, accepts, serves; returns when this thread should end (stopping, or surplus
  // and idle), having already taken itself out of threads_.
  void Loop();
  int AcceptConnection();
  void ServeConnection(int fd);
  // Serves the request just read; returns false when the connection must not be reused.
  bool ServeRequest(FCGX_Request& raw, SocketTimeouts& timeouts);
  bool SpawnLocked();  // mutex_ held

  const int listen_fd_;
  std::atomic<std::shared_ptr<const api::App>> app_;
  const ServerOptions options_;
  std::atomic<bool> stopping_{false};

  std::mutex mutex_;
  std::condition_variable lead_;    // leadership is free, or stopping
  std::condition_variable exited_;  // a thread ended
  int threads_ = 0;                 // running (including ones about to end)
  int waiting_ = 0;                 // waiting to lead
  bool accepting_ = false;          // a leader is in accept
  std::vector<std::thread> running_;
  std::vector<std::thread::id> ended_;  // threads that returned, not yet joined
  bool stopped_ = false;
  std::chrono::steady_clock::time_point last_full_warning_{};
  Lingerer lingerer_;  // declared last: connections it holds are closed first
};

}  // namespace tessera::fcgi
