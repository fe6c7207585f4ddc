// The S3 backend while its store is down or stalls (issue 21), on a real store (a throwaway Ceph
// RGW, tests/rgw) behind nginx and the worker: once the S3 client's circuit breaker has opened,
// requests that need the store are answered 503 at once instead of holding worker threads;
// requests that need no store (/version, logins) go on; backups go on once the store is back.
// The figures are printed for the record (lines starting "s3_outage:").
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdio>
#include <thread>

#include "harness.h"

using namespace tessera::testing;
using namespace std::chrono_literals;

namespace {

using Steady = std::chrono::steady_clock;

double SecondsSince(Steady::time_point start) {
  return std::chrono::duration<double>(Steady::now() - start).count();
}

std::string ResticUrl(const std::string& token, int port) {
  return "rest:http://alice:" + token + "@127.0.0.1:" + std::to_string(port) + "/backup/laptop/";
}

RunResult Restic(const BackupStack& b, const std::string& url, std::vector<std::string> args) {
  std::vector<std::string> argv = {
      "timeout",      "600",         "restic",          "-r", url, "--password-file",
      b.keys + "/pw", "--cache-dir", b.keys + "/cache", "-q"};
  argv.insert(argv.end(), args.begin(), args.end());
  return Run(argv);
}

// An upload of a fresh data blob, as restic sends it; the status (0: no answer) and how long.
std::pair<int, double> Upload(httplib::Client& c) {
  std::string body = RandomBytes(4096);
  auto start = Steady::now();
  auto r = c.Post("/backup/laptop/data/" + Sha256Hex(body), body, "application/octet-stream");
  return {r ? r->status : 0, SecondsSince(start)};
}

// /version and a password login: status and seconds of each.
struct NoStoreProbe {
  int version_status = 0, login_status = 0;
  double version_seconds = 0, login_seconds = 0;
};
NoStoreProbe AskWithoutStore(BackupStack& b, bool login = true) {
  httplib::Client c = b.stack->Client();
  NoStoreProbe p;
  auto start = Steady::now();
  auto v = c.Get("/api2/json/version");
  p.version_seconds = SecondsSince(start);
  p.version_status = v ? v->status : 0;
  if (!login) return p;
  start = Steady::now();
  auto l = c.Post("/api2/json/access/ticket", "username=alice%40pbs&password=pw",
                  "application/x-www-form-urlencoded");
  p.login_seconds = SecondsSince(start);
  p.login_status = l ? l->status : 0;
  return p;
}

std::size_t Count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Brings the gateway back whatever happens in the test.
struct GatewayBack {
  bool frozen = false;
  ~GatewayBack() {
    try {
      if (frozen) SharedRgw().ThawGateway();
      SharedRgw().StartGateway();
    } catch (...) {
    }
  }
};

}  // namespace

TEST_CASE("a stopped store: uploads get 503 at once, logins and /version go on, backups resume",
          "[s3_outage]") {
  BackupStack b("", Backend::kS3);
  WriteFile(b.keys + "/pw", "repository password\n");
  std::string token = b.Mint("alice@pbs", {"--read", "--write", "--delete", "--repo", "laptop"});
  std::string url = ResticUrl(token, b.stack->port());
  REQUIRE(Restic(b, url, {"init"}).status == 0);
  httplib::Client c = b.Client(token);
  c.set_read_timeout(120, 0);
  auto [up_status, up_seconds] = Upload(c);
  CHECK(up_status == 200);
  std::printf("s3_outage: store up: upload %.3f s\n", up_seconds);

  GatewayBack back;
  SharedRgw().StopGateway();
  std::vector<double> took;
  for (int i = 0; i < 10; ++i) {
    auto [status, seconds] = Upload(c);
    CHECK(status == 503);
    took.push_back(seconds);
  }
  std::printf("s3_outage: store stopped: uploads answered 503 in");
  for (double t : took) std::printf(" %.3f", t);
  std::printf(" s\n");
  // The first uploads try the store (with backoff) until the breaker opens; the rest are
  // answered without it.
  CHECK(took.front() > 1.0);
  for (std::size_t i = 5; i < took.size(); ++i) {
    INFO("upload " << i);
    CHECK(took[i] < 0.1);
  }
  NoStoreProbe during = AskWithoutStore(b);
  std::printf("s3_outage: store stopped: /version %.3f s, login %.3f s\n", during.version_seconds,
              during.login_seconds);
  CHECK(during.version_status == 200);
  CHECK(during.login_status == 200);
  CHECK(during.version_seconds < 1.0);
  CHECK(during.login_seconds < 1.0);
  std::string log = b.stack->worker().Log();
  CHECK(Count(log, " is down: ") == 1);
  CHECK(Count(log, "answers again") == 0);

  SharedRgw().StartGateway();
  auto back_at = Steady::now();
  // The next probe (at most the cool-down later) finds it, and uploads go through again.
  CHECK(Eventually([&] { return Upload(c).first == 200; }, 60s));
  std::printf("s3_outage: store back: uploads succeed again after %.3f s\n", SecondsSince(back_at));
  WriteFile(b.keys + "/src", RandomBytes(3 << 20));
  RunResult backup = Restic(b, url, {"backup", b.keys + "/src"});
  INFO(backup.output);
  CHECK(backup.status == 0);
  RunResult check = Restic(b, url, {"check", "--read-data"});
  INFO(check.output);
  CHECK(check.status == 0);
  log = b.stack->worker().Log();
  CHECK(Count(log, " is down: ") == 1);
  CHECK(Count(log, "answers again") == 1);
}

TEST_CASE("a stalled store holds threads for the stall timeout at most, then 503 at once",
          "[s3_outage]") {
  // Six uploads, more than the harness worker's 4 threads (it grows more up to max_threads).
  BackupStack b("", Backend::kS3);
  WriteFile(b.keys + "/pw", "repository password\n");
  std::string token = b.Mint("alice@pbs", {"--read", "--write", "--delete", "--repo", "laptop"});
  std::string url = ResticUrl(token, b.stack->port());
  REQUIRE(Restic(b, url, {"init"}).status == 0);

  GatewayBack back;
  SharedRgw().FreezeGateway();
  back.frozen = true;
  auto frozen_at = Steady::now();
  std::vector<std::pair<int, double>> results(6);
  std::atomic<int> finished = 0;
  std::vector<std::thread> uploads;
  for (auto& result : results) {
    uploads.emplace_back([&] {
      httplib::Client c = b.Client(token);
      c.set_read_timeout(600, 0);
      result = Upload(c);
      ++finished;
    });
  }
  // /version and logins while the uploads wait on the store.
  double version_worst = 0, login_worst = 0;
  int asked = 0;
  auto last_login = Steady::now() - 1h;
  Eventually(
      [&] {
        // A login every 5 s (more often, one address would meet the login throttle).
        bool login = SecondsSince(last_login) > 5;
        if (login) last_login = Steady::now();
        NoStoreProbe p = AskWithoutStore(b, login);
        CHECK(p.version_status == 200);
        if (login) CHECK(p.login_status == 200);
        version_worst = std::max(version_worst, p.version_seconds);
        login_worst = std::max(login_worst, p.login_seconds);
        ++asked;
        return finished == 6;
      },
      600s);
  for (auto& t : uploads) t.join();
  std::printf(
      "s3_outage: store stalled, uploads waiting on it: /version worst %.3f s, login "
      "worst %.3f s (%d asked)\n",
      version_worst, login_worst, asked);
  CHECK(version_worst < 1.0);
  CHECK(login_worst < 1.0);
  std::printf("s3_outage: store stalled: six parallel uploads answered");
  double longest = 0;
  for (auto [status, seconds] : results) {
    std::printf(" %d in %.1f s,", status, seconds);
    longest = std::max(longest, seconds);
    CHECK((status == 503 || status == 429));
  }
  std::printf(" all in %.1f s\n", SecondsSince(frozen_at));
  // Each waits at most the 30 s stall timeout plus, for a retry, what is left of the 45 s
  // budget (and a request the fair share kept waiting, its wait); before: 4 x 120 s + backoff.
  CHECK(longest < 100);

  // The breaker is open now: the store is not asked, nothing waits.
  httplib::Client c = b.Client(token);
  auto [status, seconds] = Upload(c);
  std::printf("s3_outage: store stalled, breaker open: upload %d in %.3f s\n", status, seconds);
  CHECK(status == 503);
  CHECK(seconds < 0.1);
  NoStoreProbe open = AskWithoutStore(b);
  std::printf("s3_outage: store stalled, breaker open: /version %.3f s, login %.3f s\n",
              open.version_seconds, open.login_seconds);
  CHECK(open.version_status == 200);
  CHECK(open.login_status == 200);
  CHECK(open.version_seconds < 1.0);
  CHECK(open.login_seconds < 1.0);
  CHECK(Count(b.stack->worker().Log(), " is down: ") == 1);

  SharedRgw().ThawGateway();
  back.frozen = false;
  auto back_at = Steady::now();
  c.set_read_timeout(120, 0);
  CHECK(Eventually([&] { return Upload(c).first == 200; }, 120s));
  std::printf("s3_outage: store thawed: uploads succeed again after %.3f s\n",
              SecondsSince(back_at));
}
