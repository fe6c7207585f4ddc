#include "fcgi/transfer_deadline.h"

#include <algorithm>

namespace tessera::fcgi {

void TransferDeadline::Progress(std::uint64_t bytes, Clock::time_point now) {
  Clock::time_point cap = now + limits_.timeout;
  if (limits_.min_rate == 0) {
    deadline_ = cap;
    return;
  }
  // Credit in microseconds; capped before multiplying so no byte count can overflow it.
  std::uint64_t capped = std::min<std::uint64_t>(bytes, limits_.min_rate * 3600);
  auto earned = std::chrono::microseconds(capped * 1'000'000 / limits_.min_rate);
  deadline_ = std::min(deadline_ + earned, cap);
}

}  // namespace tessera::fcgi
