#include "fcgi/lingerer.h"

#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <thread>

using namespace tessera;
using namespace std::chrono_literals;

namespace {

// Polls until `check` holds, for at most `limit`.
template <typename F>
bool Eventually(F check, std::chrono::milliseconds limit) {
  for (auto end = std::chrono::steady_clock::now() + limit;
       std::chrono::steady_clock::now() < end;) {
    if (check()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return check();
}

struct Pair {
  int ours = -1, theirs = -1;
  Pair() {
    int fds[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
    ours = fds[0];
    theirs = fds[1];
  }
  ~Pair() { close(theirs); }
};

}  // namespace

TEST_CASE("a lingering connection is closed once the peer closes, its answer intact") {
  fcgi::Lingerer lingerer(10s);
  Pair pair;
  REQUIRE(write(pair.ours, "answer", 6) == 6);
  lingerer.Take(pair.ours);
  // Our side is shut for writing at once: the peer reads the answer, then the end.
  char buffer[16];
  REQUIRE(read(pair.theirs, buffer, sizeof buffer) == 6);
  CHECK(std::string(buffer, 6) == "answer");
  CHECK(read(pair.theirs, buffer, sizeof buffer) == 0);
  // What the peer still sends is read and dropped; the connection stays until the peer closes.
  REQUIRE(write(pair.theirs, "more body", 9) == 9);
  CHECK(lingerer.lingering() == 1);
  shutdown(pair.theirs, SHUT_WR);
  CHECK(Eventually([&] { return lingerer.lingering() == 0; }, 5s));
}

TEST_CASE("a peer that keeps sending is cut off after the budget, without a thread of its own") {
  fcgi::Lingerer lingerer(200ms);
  Pair a, b;
  lingerer.Take(a.ours);
  lingerer.Take(b.ours);
  CHECK(lingerer.lingering() == 2);
  auto start = std::chrono::steady_clock::now();
  // A trickle: one byte every 20 ms, never an end.
  bool cut = false;
  while (!cut && std::chrono::steady_clock::now() - start < 5s) {
    cut = send(a.theirs, "x", 1, MSG_NOSIGNAL) != 1;
    std::this_thread::sleep_for(20ms);
  }
  CHECK(cut);
  CHECK(std::chrono::steady_clock::now() - start < 2s);
  CHECK(Eventually([&] { return lingerer.lingering() == 0; }, 2s));
}

TEST_CASE("past its capacity the lingerer closes a connection at once") {
  fcgi::Lingerer lingerer(10s, 1);
  Pair a, b;
  lingerer.Take(a.ours);
  lingerer.Take(b.ours);
  CHECK(lingerer.lingering() == 1);
  char buffer[4];
  CHECK(read(b.theirs, buffer, sizeof buffer) == 0);  // closed
}
