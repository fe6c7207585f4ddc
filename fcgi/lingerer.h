// Lingering closes, done by one thread for every connection instead of by the request's own.
//
// A request answered before its body was read (a refusal: 401, 413, 429, ...) may still have
// bytes of the body coming. Closing a TCP socket with unread data sends a reset that can destroy
// the answer in flight, so the connection is not closed at once: its sending side is shut down,
// and what still comes is read and dropped until the web server closes its side, or for at most
// `budget`. A client that trickles its body would keep a thread that did this itself for the
// whole budget — enough, with enough such clients, to take every thread — so the request's
// thread hands the connection over and goes back to work, and this thread lingers on all of
// them at once with poll(2).
//
// At most `max_connections` linger at a time; past that, a connection is closed at once (it
// may then lose its answer, never a thread). Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <thread>
#include <vector>

namespace tessera::fcgi {

class Lingerer {
 public:
  using Clock = std::chrono::steady_clock;

  explicit Lingerer(std::chrono::milliseconds budget = std::chrono::seconds(2),
                    std::size_t max_connections = 4096);
  ~Lingerer();  // closes every connection still lingering
  Lingerer(const Lingerer&) = delete;
  Lingerer& operator=(const Lingerer&) = delete;

  // Takes over `fd` (a connected socket whose answer has been written): shuts down its sending
  // side and closes it once the peer has closed, or after the budget. Never blocks.
  void Take(int fd);

  // Connections lingering now (tests).
  std::size_t lingering() const;

 private:
  struct Entry {
    int fd;
    Clock::time_point deadline;
  };
  void Run();
  void Wake();

  const std::chrono::milliseconds budget_;
  const std::size_t max_connections_;
  int wake_fd_ = -1;  // an eventfd: a new connection, or stopping
  mutable std::mutex mutex_;
  std::vector<Entry> incoming_;  // taken, not yet seen by the thread
  std::size_t count_ = 0;        // incoming_ and those the thread holds
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace tessera::fcgi
