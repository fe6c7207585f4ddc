// The transfer deadline: a stall is cut after `timeout`, a trickle below the minimum rate once
// its credit is spent, and a transfer at a real link's speed never.
#include "fcgi/transfer_deadline.h"

#include <catch2/catch.hpp>

using namespace tessera::fcgi;
using namespace std::chrono_literals;
using Clock = TransferDeadline::Clock;

TEST_CASE("a transfer with no byte at all is too slow after the timeout") {
  Clock::time_point t0{};
  TransferDeadline d({30s, 4096}, t0);
  CHECK(d.Remaining(t0) == 30s);
  CHECK(d.Remaining(t0 + 29s) == 1s);
  CHECK(d.Remaining(t0 + 30s).count() <= 0);
}

TEST_CASE("a burst banks at most the timeout: a stall after it is cut 30 s later") {
  Clock::time_point t0{};
  TransferDeadline d({30s, 4096}, t0);
  d.Progress(64ull << 20, t0 + 1s);  // 64 MiB at once would earn hours at 4 KiB/s
  CHECK(d.Remaining(t0 + 1s) == 30s);
  CHECK(d.Remaining(t0 + 31s).count() <= 0);
}

TEST_CASE("a trickle of one byte every few seconds is cut within the timeout") {
  Clock::time_point t0{};
  TransferDeadline d({30s, 4096}, t0);
  Clock::time_point t = t0;
  bool cut = false;
  for (int i = 0; i < 100 && !cut; ++i) {
    t += 3s;
    if (d.Remaining(t).count() <= 0) {
      cut = true;
      break;
    }
    d.Progress(1, t);
  }
  CHECK(cut);
  CHECK(t - t0 == 33s);  // the first look after the 30 s (plus 10 bytes' worth) ran out
}

TEST_CASE("a trickle just below the minimum rate is cut, one at the rate never") {
  Clock::time_point t0{};
  TransferDeadline slow({30s, 4096}, t0);
  TransferDeadline steady({30s, 4096}, t0);
  Clock::time_point cut_at{};
  for (int s = 1; s <= 3600; ++s) {
    Clock::time_point t = t0 + std::chrono::seconds(s);
    if (cut_at == Clock::time_point{} && slow.Remaining(t).count() <= 0) cut_at = t;
    slow.Progress(3000, t);
    REQUIRE(steady.Remaining(t).count() > 0);
    steady.Progress(4096, t);
  }
  CHECK(cut_at != Clock::time_point{});
  CHECK(cut_at - t0 < 200s);  // 30 s of credit lost at 1096/4096 s per second
}

TEST_CASE("a 128 MiB restic pack at 1 Mbit/s in 64 KiB reads is never cut") {
  Clock::time_point t0{};
  TransferDeadline d({30s, 4096}, t0);
  const std::uint64_t total = 128ull << 20, piece = 64 * 1024;
  const auto per_piece = std::chrono::microseconds(piece * 8);  // 1 Mbit/s: 8 us per byte
  Clock::time_point t = t0;
  for (std::uint64_t sent = 0; sent < total; sent += piece) {
    t += per_piece;
    REQUIRE(d.Remaining(t).count() > 0);
    d.Progress(piece, t);
  }
  CHECK(d.Remaining(t) == 30s);
}

TEST_CASE("min_rate 0 leaves only the timeout between bytes") {
  Clock::time_point t0{};
  TransferDeadline d({5s, 0}, t0);
  for (int i = 1; i <= 100; ++i) {
    Clock::time_point t = t0 + std::chrono::seconds(4 * i);
    REQUIRE(d.Remaining(t).count() > 0);
    d.Progress(1, t);
  }
}
