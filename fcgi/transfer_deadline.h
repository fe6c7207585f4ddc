// How long a transfer on a FastCGI connection may still wait before it counts as too slow.
//
// A leaky bucket of time, like Apache's mod_reqtimeout: a transfer starts with `timeout` of
// credit; every byte moved earns 1/min_rate seconds more, but never more than `timeout` ahead
// of now. So a stalled peer is cut `timeout` after its last byte, one that trickles below
// min_rate on average is cut once its credit runs out (a burst cannot buy hours of trickle),
// and any transfer at or above min_rate goes on for as long as it needs: a 128 MiB restic pack
// on a slow 1 Mbit/s line moves 30 times faster than the default 4096 bytes/s.
#pragma once

#include <chrono>
#include <cstdint>

namespace tessera::fcgi {

struct TransferLimits {
  std::chrono::milliseconds timeout{30'000};  // longest wait for one byte; the most credit banked
  std::uint64_t min_rate = 4096;              // bytes per second; 0: only `timeout` applies
};

// Not thread-safe: one per transfer, used by the thread serving it.
class TransferDeadline {
 public:
  using Clock = std::chrono::steady_clock;

  TransferDeadline(TransferLimits limits, Clock::time_point start)
      : limits_(limits), deadline_(start + limits.timeout) {}

  // Records `bytes` moved at `now`.
  void Progress(std::uint64_t bytes, Clock::time_point now);

  // The time left before the transfer is too slow; zero or negative when it already is.
  std::chrono::milliseconds Remaining(Clock::time_point now) const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - now);
  }

 private:
  TransferLimits limits_;
  Clock::time_point deadline_;
};

}  // namespace tessera::fcgi
