#include "backup/circuit_breaker.h"

#include <algorithm>

#include "log/log.h"

namespace tessera::backup {

namespace {

std::string Seconds(std::chrono::steady_clock::duration d) {
  auto tenths = std::chrono::duration_cast<std::chrono::milliseconds>(d).count() / 100;
  return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + " s";
}

}  // namespace

CircuitBreaker::Pass::Pass(Pass&& other) noexcept : owner_(other.owner_), probe_(other.probe_) {
  other.owner_ = nullptr;
}

CircuitBreaker::Pass& CircuitBreaker::Pass::operator=(Pass&& other) noexcept {
  if (this == &other) return *this;
  if (owner_) owner_->Abandon(*this);
  owner_ = other.owner_;
  probe_ = other.probe_;
  other.owner_ = nullptr;
  return *this;
}

CircuitBreaker::Pass::~Pass() {
  if (owner_) owner_->Abandon(*this);
}

CircuitBreaker::CircuitBreaker(CircuitBreakerOptions options, const clock::SteadyClock& clock,
                               std::string what)
    : options_(options), clock_(clock), what_(std::move(what)) {}

std::optional<CircuitBreaker::Pass> CircuitBreaker::Admit() {
  if (!tripped_.load(std::memory_order_acquire)) return Pass(this, false);
  // In a cool-down: refused without the lock.
  auto now = clock_.Now();
  if (now.time_since_epoch().count() < retry_at_.load(std::memory_order_acquire)) {
    refusals_.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  if (!tripped_.load(std::memory_order_relaxed)) return Pass(this, false);
  if ((probe_out_ && now < probe_expires_) ||
      now.time_since_epoch().count() < retry_at_.load(std::memory_order_relaxed)) {
    refusals_.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
  }
  probe_out_ = true;
  probe_expires_ = now + options_.probe_patience;
  return Pass(this, true);
}

void CircuitBreaker::Succeeded(Pass& pass) {
  bool probe = pass.probe_;
  pass.owner_ = nullptr;
  // The common case: closed, nothing failed lately. No lock.
  if (!probe && !tripped_.load(std::memory_order_acquire) &&
      failures_.load(std::memory_order_relaxed) == 0)
    return;
  std::lock_guard<std::mutex> lock(mutex_);
  failures_.store(0, std::memory_order_relaxed);
  if (probe) probe_out_ = false;
  // Any answer proves the store is back, also one to a request let through before it opened.
  if (!tripped_.load(std::memory_order_relaxed)) return;
  tripped_.store(false, std::memory_order_release);
  std::uint64_t refused = refusals_.load(std::memory_order_relaxed) - refusals_at_opening_;
  log::Info(what_ + " answers again after " + Seconds(clock_.Now() - opened_at_) + "; " +
            std::to_string(refused) + " requests were answered \"unavailable\" at once meanwhile");
  failed_probes_ = 0;
}

void CircuitBreaker::Failed(Pass& pass, std::string_view detail) {
  bool probe = pass.probe_;
  pass.owner_ = nullptr;
  std::lock_guard<std::mutex> lock(mutex_);
  auto now = clock_.Now();
  if (probe) probe_out_ = false;
  if (tripped_.load(std::memory_order_relaxed)) {
    // A failed probe: still down, and the next probe waits longer. Silent, the opening said
    // it all. (Other failures here are of requests let through before it opened.)
    if (probe) {
      ++failed_probes_;
      SetRetryAt(now + Cooldown());
    }
    return;
  }
  int failures = failures_.load(std::memory_order_relaxed) + 1;
  failures_.store(failures, std::memory_order_relaxed);
  if (options_.threshold <= 0 || failures < options_.threshold) return;
  failures_.store(0, std::memory_order_relaxed);
  failed_probes_ = 0;
  refusals_at_opening_ = refusals_.load(std::memory_order_relaxed);
  opened_at_ = now;
  SetRetryAt(now + Cooldown());
  ++openings_;
  tripped_.store(true, std::memory_order_release);
  log::Warning(what_ + " is down: " + std::to_string(failures) + " requests in a row failed (" +
               std::string(detail) + "); requests are answered \"unavailable\" at once, and one " +
               "tries it again every " + Seconds(Cooldown()) + " or more until it answers");
}

void CircuitBreaker::SetRetryAt(clock::SteadyClock::TimePoint at) {
  retry_at_.store(at.time_since_epoch().count(), std::memory_order_release);
}

void CircuitBreaker::Abandon(Pass& pass) {
  pass.owner_ = nullptr;
  if (!pass.probe_) return;
  std::lock_guard<std::mutex> lock(mutex_);
  probe_out_ = false;
}

std::uint64_t CircuitBreaker::openings() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return openings_;
}

std::uint64_t CircuitBreaker::refusals() const { return refusals_.load(std::memory_order_relaxed); }

std::chrono::milliseconds CircuitBreaker::Cooldown() const {
  auto cooldown = options_.first_cooldown;
  for (int i = 0; i < failed_probes_ && cooldown < options_.max_cooldown; ++i) cooldown *= 2;
  return std::min(cooldown, options_.max_cooldown);
}

}  // namespace tessera::backup
