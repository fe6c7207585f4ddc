// A connection's socket timeouts are set when they change: always when they grow, when they
// shrink only by more than the slack — and the kernel holds what was asked for.
#include "fcgi/socket_timeouts.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <catch2/catch.hpp>

using namespace tessera::fcgi;
using namespace std::chrono_literals;

namespace {

struct SocketPair {
  int fds[2] = {-1, -1};
  SocketPair() { REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0); }
  ~SocketPair() {
    close(fds[0]);
    close(fds[1]);
  }
};

std::chrono::milliseconds Kernel(int fd, int option) {
  timeval tv{};
  socklen_t size = sizeof tv;
  REQUIRE(getsockopt(fd, SOL_SOCKET, option, &tv, &size) == 0);
  return std::chrono::milliseconds(tv.tv_sec * 1000 + tv.tv_usec / 1000);
}

// The kernel keeps socket timeouts in jiffies, rounding up: what it holds is at least what was
// set and less than 10 ms more.
bool Holds(int fd, int option, std::chrono::milliseconds want) {
  auto held = Kernel(fd, option);
  return held >= want && held < want + 10ms;
}

}  // namespace

TEST_CASE("a socket timeout is set at once, grown always, shrunk beyond the slack only") {
  SocketPair pair;
  int fd = pair.fds[0];
  SocketTimeouts timeouts(fd);
  REQUIRE(timeouts.Receive(30s));
  CHECK(Holds(fd, SO_RCVTIMEO, 30s));
  CHECK(Holds(fd, SO_SNDTIMEO, 0ms));  // the other one is its own

  // Shorter by at most the slack: no system call, the kernel keeps 30 s.
  REQUIRE(timeouts.Receive(30s - SocketTimeouts::kSlack));
  CHECK(Holds(fd, SO_RCVTIMEO, 30s));
  // Shorter by more: set.
  REQUIRE(timeouts.Receive(29s));
  CHECK(Holds(fd, SO_RCVTIMEO, 29s));
  // Longer, by however little: set, so that no wait is cut before its time.
  REQUIRE(timeouts.Receive(29'001ms));
  CHECK(Holds(fd, SO_RCVTIMEO, 29'001ms));
  // Zero or negative would mean "wait forever" to the kernel: it is 1 ms.
  REQUIRE(timeouts.Receive(0ms));
  CHECK(Holds(fd, SO_RCVTIMEO, 1ms));

  REQUIRE(timeouts.Send(5s));
  CHECK(Holds(fd, SO_SNDTIMEO, 5s));
  CHECK(Holds(fd, SO_RCVTIMEO, 1ms));
}

TEST_CASE("a socket timeout the kernel refuses is reported, and tried again next time") {
  SocketTimeouts closed(-1);
  CHECK_FALSE(closed.Receive(30s));
  CHECK_FALSE(closed.Receive(30s));  // not remembered as set
}
