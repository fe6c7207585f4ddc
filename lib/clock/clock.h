// Time as the core reads it: through interfaces, so tests pin it (token vectors expire in 2022,
// tickets have windows of seconds). Clock is wall-clock seconds, for what is compared with
// timestamps; SteadyClock is monotonic, for intervals (how long since the cache last heard from
// PostgreSQL) that must not jump when the wall clock is set.
#pragma once

#include <chrono>
#include <cstdint>

namespace tessera::clock {

class Clock {
 public:
  virtual ~Clock() = default;
  // Seconds since the Unix epoch. Thread-safe in every implementation.
  virtual std::int64_t Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  std::int64_t Now() const override {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

// A clock that says what it is told. Not thread-safe against Set().
class FixedClock final : public Clock {
 public:
  explicit FixedClock(std::int64_t now) : now_(now) {}
  std::int64_t Now() const override { return now_; }
  void Set(std::int64_t now) { now_ = now; }

 private:
  std::int64_t now_;
};

class SteadyClock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  virtual ~SteadyClock() = default;
  // Monotonic time. Thread-safe in every implementation.
  virtual TimePoint Now() const = 0;
};

// std::chrono::steady_clock.
class SystemSteadyClock final : public SteadyClock {
 public:
  TimePoint Now() const override { return std::chrono::steady_clock::now(); }
};

// The process's one SystemSteadyClock (stateless; lives as long as the program).
inline const SteadyClock& RealSteadyClock() {
  static const SystemSteadyClock clock;
  return clock;
}

// A steady clock that moves only when told. Not thread-safe against Advance().
class ManualSteadyClock final : public SteadyClock {
 public:
  TimePoint Now() const override { return now_; }
  void Advance(std::chrono::steady_clock::duration by) { now_ += by; }

 private:
  TimePoint now_{};
};

}  // namespace tessera::clock
