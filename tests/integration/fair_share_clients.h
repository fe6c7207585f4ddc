// Clients for fair-share tests and benchmarks (tests/integration/fair_share_test.cc,
// tests/bench/fair_share_bench.cc): one account's uploads that trickle through a web server, and a
// probe that times another account's requests.
#pragma once

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "raw_connection.h"

namespace tessera::testing {

using namespace std::chrono_literals;

inline constexpr int kTrickles = 150;
// Slow enough to hold a thread for the whole run, fast enough for every deadline in the way
// (the worker's min_transfer_rate lowered to 256 bytes/s by kTrickleWorkerConfig; Apache's
// mod_reqtimeout wants 500).
inline constexpr std::size_t kTrickleBytes = 128;  // every 125 ms: 1 KiB/s per upload
// The worker's own trickle rule is not what is measured: its deadline stays far away.
inline constexpr const char* kTrickleWorkerConfig = "min_transfer_rate = 256\n";

// Runs restic as bob against `url` (his password and cache under `dir`), under `timeout`.
inline RunResult BobsRestic(const std::string& dir, const std::string& url,
                            std::vector<std::string> args, int timeout_s = 300) {
  std::vector<std::string> argv = {"timeout",
                                   std::to_string(timeout_s),
                                   "restic",
                                   "-r",
                                   url,
                                   "--password-file",
                                   dir + "/bob-restic",
                                   "--cache-dir",
                                   dir + "/bob-cache",
                                   "-q"};
  argv.insert(argv.end(), args.begin(), args.end());
  return Run(argv);
}

inline std::string UploadHead(const std::string& path, std::size_t length,
                              const std::string& token) {
  return "POST " + path +
         " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n"
         "Content-Length: " +
         std::to_string(length) + "\r\nAuthorization: Bearer " + token + "\r\n\r\n";
}

// `kTrickles` uploads that send kTrickleBytes every 125 ms from a thread of their own until the
// object goes, each closing its connection once it has an answer (as a client that tries again
// does: so the web server's own threads, Apache's one per connection, go back to work too).
class Trickles {
 public:
  // The i-th upload goes to paths(i) with tokens[i % tokens.size()], `length` bytes announced.
  template <typename Path>
  Trickles(int port, const std::vector<std::string>& tokens, Path paths, std::size_t length) {
    for (int i = 0; i < kTrickles; ++i) {
      auto c = std::make_unique<RawConnection>(port);
      c->Send(UploadHead(paths(i), length, tokens[i % tokens.size()]) +
              std::string(kTrickleBytes, 'x'));
      connections_.push_back(std::move(c));
    }
    thread_ = std::thread([this] {
      while (!stop_) {
        {
          std::lock_guard lock(mutex_);
          for (auto& c : connections_) {
            if (c->Receive().empty()) {
              c->Send(std::string(kTrickleBytes, 'x'));
            } else {
              c->Close();
            }
          }
        }
        std::this_thread::sleep_for(125ms);
      }
    });
  }
  ~Trickles() {
    stop_ = true;
    thread_.join();
  }

  // How many uploads have an answer with `status`, and how many have none yet.
  int Answered(int status) {
    std::lock_guard lock(mutex_);
    return static_cast<int>(std::count_if(connections_.begin(), connections_.end(),
                                          [&](auto& c) { return c->Status() == status; }));
  }
  int Unanswered() {
    std::lock_guard lock(mutex_);
    return static_cast<int>(std::count_if(connections_.begin(), connections_.end(),
                                          [](auto& c) { return c->received().empty(); }));
  }
  // How many uploads got each status (0: none yet), e.g. "0:16 429:134", for messages.
  std::string Statuses() {
    std::lock_guard lock(mutex_);
    std::map<int, int> counts;
    for (auto& c : connections_) ++counts[c->Status()];
    std::string out;
    for (auto [status, n] : counts) out += std::to_string(status) + ":" + std::to_string(n) + " ";
    return out;
  }
  // The first answer that arrived, for a message when a check fails.
  std::string FirstAnswer() {
    std::lock_guard lock(mutex_);
    for (auto& c : connections_) {
      if (!c->received().empty()) return c->received().substr(0, 400);
    }
    return "";
  }

 private:
  std::mutex mutex_;
  std::vector<std::unique_ptr<RawConnection>> connections_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Probes the second account's requests through the web server every 100 ms until it goes: the
// version, and its repository's config with its token (authenticated, admitted to its share).
class Probe {
 public:
  Probe(int port, const std::string& token, const std::string& repo) {
    thread_ = std::thread([this, port, token, repo] {
      httplib::Client c("127.0.0.1", port);
      c.set_read_timeout(10, 0);
      c.set_bearer_token_auth(token.c_str());
      while (!stop_) {
        for (const std::string& path :
             {std::string("/api2/json/version"), "/backup/" + repo + "/config"}) {
          auto start = std::chrono::steady_clock::now();
          auto r = c.Get(path);
          auto took = std::chrono::steady_clock::now() - start;
          std::lock_guard lock(mutex_);
          times_.push_back(took);
          if (!r || r->status != 200) ++failures_;
        }
        std::this_thread::sleep_for(100ms);
      }
    });
  }
  ~Probe() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::chrono::steady_clock::duration Worst() const {
    std::lock_guard lock(mutex_);
    return times_.empty() ? std::chrono::steady_clock::duration::max()
                          : *std::max_element(times_.begin(), times_.end());
  }
  // The median time, and how many probes ran; call after Stop().
  std::chrono::steady_clock::duration Median() const {
    std::lock_guard lock(mutex_);
    if (times_.empty()) return std::chrono::steady_clock::duration::max();
    std::vector<std::chrono::steady_clock::duration> sorted = times_;
    std::sort(sorted.begin(), sorted.end());
    return sorted[sorted.size() / 2];
  }
  std::size_t count() const {
    std::lock_guard lock(mutex_);
    return times_.size();
  }
  int failures() const {
    std::lock_guard lock(mutex_);
    return failures_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::chrono::steady_clock::duration> times_;
  int failures_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace tessera::testing
