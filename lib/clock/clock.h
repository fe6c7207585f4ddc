// Time as the core reads it: through an interface, so tests pin it (token vectors expire in 2022,
// tickets have windows of seconds).
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

}  // namespace tessera::clock
