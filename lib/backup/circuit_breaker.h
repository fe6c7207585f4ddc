// A circuit breaker in front of a remote store (the S3 client's, backup/s3_client.h): while the
// store is down, requests fail at once instead of each holding a worker thread for its timeouts
// and backoff, so threads stay free for the requests that need no store (logins, /version).
//
// Closed, every request goes through. After `threshold` transient failures in a row (timeouts,
// refused connections, 5xx) it opens: requests are refused at once for a cool-down
// (`first_cooldown`). Past the cool-down it lets one request through as a probe, the others are
// still refused (for `probe_patience` at most); the probe's success closes it, its failure opens
// it again for a cool-down twice as long (at most `max_cooldown`). Any answer of the store that is
// not a transient failure (2xx, 404, 403, ...) counts as success: the store is there. It logs one
// line when it opens and one when it closes, never one per request.
//
// Thread-safe, and shared by every thread of a worker. While closed and without failures, asking
// for a pass and reporting a success are atomic loads, and so is a refusal during a cool-down;
// the mutex is taken only to count a failure, to hand out the probe and to close. Time is read from
// a SteadyClock, so tests move it instead of sleeping.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "clock/clock.h"

namespace tessera::backup {

struct CircuitBreakerOptions {
  // Transient failures in a row that open the breaker; 0 never opens it.
  int threshold = 5;
  // The first cool-down, doubled after each failed probe up to max_cooldown.
  std::chrono::milliseconds first_cooldown{2000};
  std::chrono::milliseconds max_cooldown{30000};
  // A probe that has not reported after this long (a slow upload) no longer holds back the next.
  std::chrono::milliseconds probe_patience{30000};
};

class CircuitBreaker {
 public:
  // `what` names the store in the log lines (never a secret). `clock` must outlive the breaker.
  CircuitBreaker(CircuitBreakerOptions options, const clock::SteadyClock& clock, std::string what);
  CircuitBreaker(const CircuitBreaker&) = delete;
  CircuitBreaker& operator=(const CircuitBreaker&) = delete;

  // Leave to send one request; report how it went with Succeeded or Failed. A pass dropped
  // without a report (the request was abandoned) tells nothing, and frees the probe's place.
  class Pass {
   public:
    Pass(Pass&& other) noexcept;
    Pass& operator=(Pass&& other) noexcept;
    Pass(const Pass&) = delete;
    ~Pass();
    bool probe() const { return probe_; }

   private:
    friend class CircuitBreaker;
    Pass(CircuitBreaker* owner, bool probe) : owner_(owner), probe_(probe) {}
    CircuitBreaker* owner_;  // null once reported or moved from
    bool probe_;
  };

  // A pass, or nullopt while the breaker is open (answer "unavailable" at once).
  [[nodiscard]] std::optional<Pass> Admit();
  // The store answered (anything but a transient failure).
  void Succeeded(Pass& pass);
  // The request failed transiently; `detail` (for the log) says how.
  void Failed(Pass& pass, std::string_view detail);

  // Whether requests are being refused (open, or waiting for its probe).
  bool open() const { return tripped_.load(std::memory_order_acquire); }
  // How many times it opened, and how many requests it refused, since it was made.
  std::uint64_t openings() const;
  std::uint64_t refusals() const;

 private:
  void Abandon(Pass& pass);
  std::chrono::milliseconds Cooldown() const;  // under mutex_
  void SetRetryAt(clock::SteadyClock::TimePoint at);

  const CircuitBreakerOptions options_;
  const clock::SteadyClock& clock_;
  const std::string what_;
  std::atomic<bool> tripped_{false};
  std::atomic<int> failures_{0};  // transient failures in a row while closed
  // While tripped: when the next probe may go (the clock's ticks since its epoch).
  std::atomic<std::chrono::steady_clock::rep> retry_at_{0};
  std::atomic<std::uint64_t> refusals_{0};
  mutable std::mutex mutex_;
  // Under mutex_:
  clock::SteadyClock::TimePoint opened_at_{}, probe_expires_{};
  int failed_probes_ = 0;
  bool probe_out_ = false;
  std::uint64_t openings_ = 0, refusals_at_opening_ = 0;
};

}  // namespace tessera::backup
