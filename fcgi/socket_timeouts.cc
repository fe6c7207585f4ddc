#include "fcgi/socket_timeouts.h"

#include <sys/time.h>

#include <algorithm>

namespace tessera::fcgi {

bool SocketTimeouts::Set(int option, std::chrono::milliseconds timeout,
                         std::chrono::milliseconds& armed) {
  timeout = std::max(timeout, std::chrono::milliseconds(1));
  if (armed.count() >= 0 && timeout <= armed && armed - timeout <= kSlack) return true;
  auto ms = timeout.count();
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms % 1000) * 1000);
  if (setsockopt(fd_, SOL_SOCKET, option, &tv, sizeof tv) != 0) {
    armed = std::chrono::milliseconds(-1);
    return false;
  }
  armed = timeout;
  return true;
}

}  // namespace tessera::fcgi
