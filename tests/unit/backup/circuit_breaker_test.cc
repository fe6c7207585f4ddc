#include "backup/circuit_breaker.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

using namespace tessera::backup;
using namespace std::chrono_literals;
using tessera::clock::ManualSteadyClock;

namespace {

// Standard error (where log lines go) into a file for the capture's life.
class StderrCapture {
 public:
  StderrCapture() {
    char name[] = "/tmp/tessera-breaker-log-XXXXXX";
    fd_ = mkstemp(name);
    REQUIRE(fd_ >= 0);
    path_ = name;
    saved_ = dup(STDERR_FILENO);
    dup2(fd_, STDERR_FILENO);
  }
  ~StderrCapture() {
    dup2(saved_, STDERR_FILENO);
    close(saved_);
    close(fd_);
    unlink(path_.c_str());
  }
  std::string Text() const {
    std::string text;
    char buffer[4096];
    for (off_t at = 0;;) {
      ssize_t n = pread(fd_, buffer, sizeof buffer, at);
      if (n <= 0) return text;
      text.append(buffer, static_cast<std::size_t>(n));
      at += n;
    }
  }
  std::size_t Lines() const {
    std::string text = Text();
    return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
  }

 private:
  int fd_ = -1, saved_ = -1;
  std::string path_;
};

CircuitBreakerOptions Options() {
  CircuitBreakerOptions o;
  o.threshold = 3;
  o.first_cooldown = 2s;
  o.max_cooldown = 10s;
  o.probe_patience = 30s;
  return o;
}

void Fail(CircuitBreaker& b, int times) {
  for (int i = 0; i < times; ++i) {
    auto pass = b.Admit();
    REQUIRE(pass);
    b.Failed(*pass, "503 ServiceUnavailable");
  }
}

}  // namespace

TEST_CASE("the breaker opens after threshold failures in a row and refuses at once") {
  ManualSteadyClock clock;
  StderrCapture log;
  CircuitBreaker b(Options(), clock, "S3 store http://s3.test");
  Fail(b, 2);
  CHECK_FALSE(b.open());
  CHECK(log.Lines() == 0);
  Fail(b, 1);
  CHECK(b.open());
  CHECK(b.openings() == 1);
  for (int i = 0; i < 100; ++i) CHECK_FALSE(b.Admit());
  CHECK(b.refusals() == 100);
  clock.Advance(1999ms);
  CHECK_FALSE(b.Admit());
  // One line for the opening, none for the refusals.
  CHECK(log.Lines() == 1);
  CHECK_THAT(log.Text(), Catch::Contains("S3 store http://s3.test is down: 3 requests in a row "
                                         "failed (503 ServiceUnavailable)"));
}

TEST_CASE("an answer between failures starts the count again") {
  ManualSteadyClock clock;
  CircuitBreaker b(Options(), clock, "store");
  Fail(b, 2);
  auto pass = b.Admit();
  REQUIRE(pass);
  b.Succeeded(*pass);
  Fail(b, 2);
  CHECK_FALSE(b.open());
  Fail(b, 1);
  CHECK(b.open());
}

TEST_CASE("after the cool-down one probe goes through, and its success closes the breaker") {
  ManualSteadyClock clock;
  StderrCapture log;
  CircuitBreaker b(Options(), clock, "store");
  Fail(b, 3);
  CHECK_FALSE(b.Admit());
  clock.Advance(2s);
  auto probe = b.Admit();
  REQUIRE(probe);
  CHECK(probe->probe());
  // While the probe is out, the others are still refused.
  CHECK_FALSE(b.Admit());
  CHECK_FALSE(b.Admit());
  CHECK(b.open());
  b.Succeeded(*probe);
  CHECK_FALSE(b.open());
  for (int i = 0; i < 10; ++i) {
    auto pass = b.Admit();
    REQUIRE(pass);
    CHECK_FALSE(pass->probe());
    b.Succeeded(*pass);
  }
  // One line when it opened, one when it closed.
  CHECK(log.Lines() == 2);
  CHECK_THAT(log.Text(), Catch::Contains("store answers again after 2.0 s; 3 requests were "
                                         "answered \"unavailable\" at once meanwhile"));
  // Closed again: it takes threshold failures in a row to open it anew.
  Fail(b, 2);
  CHECK_FALSE(b.open());
}

TEST_CASE("each failed probe doubles the cool-down, up to its ceiling") {
  ManualSteadyClock clock;
  StderrCapture log;
  CircuitBreaker b(Options(), clock, "store");
  Fail(b, 3);
  // Cool-downs: 2 s, then 4, 8, and 10 (the ceiling) from then on.
  for (auto cooldown : {2s, 4s, 8s, 10s, 10s}) {
    INFO(cooldown.count() << " s");
    clock.Advance(cooldown - 1ms);
    CHECK_FALSE(b.Admit());
    clock.Advance(1ms);
    auto probe = b.Admit();
    REQUIRE(probe);
    CHECK(probe->probe());
    b.Failed(*probe, "timeout");
    CHECK(b.open());
  }
  CHECK(b.openings() == 1);
  CHECK(log.Lines() == 1);  // failed probes are not logged
  // Its success brings the cool-down back to the first.
  clock.Advance(10s);
  auto probe = b.Admit();
  REQUIRE(probe);
  b.Succeeded(*probe);
  Fail(b, 3);
  clock.Advance(2s);
  CHECK(b.Admit());
}

TEST_CASE("a probe dropped without a report, or one that takes too long, frees its place") {
  ManualSteadyClock clock;
  CircuitBreaker b(Options(), clock, "store");
  Fail(b, 3);
  clock.Advance(2s);
  {
    auto probe = b.Admit();
    REQUIRE(probe);
    CHECK_FALSE(b.Admit());
  }
  auto slow = b.Admit();
  REQUIRE(slow);
  CHECK(slow->probe());
  clock.Advance(29s);
  CHECK_FALSE(b.Admit());
  clock.Advance(1s);
  auto next = b.Admit();
  REQUIRE(next);
  CHECK(next->probe());
  b.Succeeded(*next);
  CHECK_FALSE(b.open());
  // The slow probe failing late does not open it again by itself.
  b.Failed(*slow, "timeout");
  CHECK_FALSE(b.open());
}

TEST_CASE("requests let through before the breaker opened do not hold it open or shut") {
  ManualSteadyClock clock;
  CircuitBreaker b(Options(), clock, "store");
  auto early = b.Admit();
  auto late = b.Admit();
  REQUIRE(early);
  REQUIRE(late);
  Fail(b, 3);
  // A failure that was in flight does not extend the cool-down.
  b.Failed(*early, "timeout");
  clock.Advance(2s);
  auto probe = b.Admit();
  REQUIRE(probe);
  // An answer of the store, whoever got it, shows it is back.
  b.Succeeded(*late);
  CHECK_FALSE(b.open());
}

TEST_CASE("a breaker with threshold 0 never opens") {
  ManualSteadyClock clock;
  CircuitBreakerOptions o = Options();
  o.threshold = 0;
  CircuitBreaker b(o, clock, "store");
  Fail(b, 50);
  CHECK_FALSE(b.open());
}

TEST_CASE("threads sharing a breaker open it once and close it once") {
  // The real clock does not move in this test's time frame beyond the 60 s cool-down.
  const auto& clock = tessera::clock::RealSteadyClock();
  CircuitBreakerOptions o = Options();
  o.first_cooldown = 60s;
  StderrCapture log;
  CircuitBreaker b(o, clock, "store");
  std::vector<std::thread> threads;
  std::atomic<int> refused = 0;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        if (auto pass = b.Admit()) {
          b.Failed(*pass, "timeout");
        } else {
          ++refused;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(b.openings() == 1);
  CHECK(b.open());
  CHECK(refused == static_cast<int>(b.refusals()));
  CHECK(refused >= 8000 - 3 - 8);  // at most the threshold, and one in flight per thread, went
  CHECK(log.Lines() == 1);
}
