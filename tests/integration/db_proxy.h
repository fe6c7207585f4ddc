// A TCP proxy between the worker and PostgreSQL that breaks connections on purpose, for the
// tests of at-most-once statements (issue 22) and for the chaos run: the worker connects to
// 127.0.0.1:port() and the proxy passes every byte on to the cluster's unix socket, until a cut
// is armed. CutAfterAnswer(marker) lets the next statement whose text holds `marker` reach the
// server and run to its end (the server's ReadyForQuery: it has committed), then closes both
// sides without passing the answer on: exactly "the server ran it, the client never heard".
// Stall(marker) holds such a statement (and everything after it on that connection) until
// Release(). CutAll() drops every connection at once. Thread-safe; the destructor closes
// everything and joins its threads.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace tessera::testing {

class DbProxy {
 public:
  // Proxies to the PostgreSQL unix socket at `upstream` (<dir>/.s.PGSQL.<port>). Throws when it
  // cannot listen.
  explicit DbProxy(std::string upstream);
  ~DbProxy();
  DbProxy(const DbProxy&) = delete;
  DbProxy& operator=(const DbProxy&) = delete;

  int port() const { return port_; }
  // A libpq connection string through the proxy.
  std::string Conninfo(const std::string& dbname = "tessera") const;

  // Arms one cut after the answer of the next statement holding `marker`.
  void CutAfterAnswer(const std::string& marker);
  // Arms one stall of the next statement holding `marker`; Release() lets it through.
  void Stall(const std::string& marker);
  void Release();
  // Whether an armed stall holds a statement now.
  bool stalled() const { return stalled_; }
  // Drops every connection now (the worker sees its connections die) and returns once they are
  // closed.
  void CutAll();
  // Cuts made so far (by CutAfterAnswer and CutAll), and statements that held an armed marker.
  int cuts() const { return cuts_; }
  int matched() const { return matched_; }

 private:
  void Accept();
  void Pipe(int client);

  std::string upstream_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> cuts_{0}, matched_{0};
  std::atomic<bool> stalled_{false};
  std::atomic<std::uint64_t> epoch_{0};  // CutAll() moves it: connections older than it end

  mutable std::mutex mu_;
  std::condition_variable released_, closed_;
  std::map<std::uint64_t, int> open_;  // connections open, by the epoch they were born in
  std::optional<std::string> cut_marker_, stall_marker_;
  bool release_ = false;
  std::thread acceptor_;
  std::vector<std::thread> pipes_;
};

}  // namespace tessera::testing
