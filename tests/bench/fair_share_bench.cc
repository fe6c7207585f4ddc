// Fair share under a trickling tenant (issue 21): the second account's request latency and its
// restic backup and restore, quiet and while account alice holds 150 uploads that trickle at
// 1 KiB/s each (through three read-write tokens), behind nginx and behind Apache, rounds
// alternating quiet and trickling. A last run lifts the per-account and per-token caps (4096):
// the reserve alone then keeps room for the second account. Prints medians and worst cases and the
// ratio of each trickling figure to the quiet one measured in the same run (goal: backup
// within 1.2x, every request of the second account under 1 s). Built into integration_tests for its
// harness; run by tests/bench/fair-share.
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "integration/fair_share_clients.h"
#include "integration/harness.h"
#include "integration/http_client.h"

using namespace tessera::testing;
using namespace std::chrono_literals;

namespace {

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::atoi(v) : fallback;
}

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

struct Round {
  double backup = 0, restore = 0;  // seconds
  double probe_median = 0, probe_worst = 0;
  int probe_failures = 0;
  bool ok = false;
};

// One backup of a fresh `mib` MiB tree and its restore by bob, timed, with the probe running.
Round BobRound(BackupStack& b, int port, const std::string& token, int n, int mib) {
  std::string dir = b.keys + "/round" + std::to_string(n);
  std::string url = "rest:http://bob:" + token + "@127.0.0.1:" + std::to_string(port) +
                    "/backup/bob" + std::to_string(port) + "/";
  auto restic = [&](std::vector<std::string> args) {
    return BobsRestic(b.keys, url, std::move(args), 180);
  };
  if (n == 0) {
    WriteFile(b.keys + "/bob-restic", "bob's restic password\n");
    restic({"init"});
  }
  MakeRandomTree(dir + "/src", 4 * mib, 256 * 1024);
  Round r;
  Probe probe(port, token, "bob" + std::to_string(port));
  auto start = std::chrono::steady_clock::now();
  bool backed_up = restic({"backup", dir + "/src"}).status == 0;
  r.backup = Seconds(std::chrono::steady_clock::now() - start);
  start = std::chrono::steady_clock::now();
  bool restored = restic({"restore", "latest", "--target", dir + "/dst"}).status == 0;
  r.restore = Seconds(std::chrono::steady_clock::now() - start);
  probe.Stop();
  r.probe_median = Seconds(probe.Median());
  r.probe_worst = Seconds(probe.Worst());
  r.probe_failures = probe.failures();
  r.ok = backed_up && restored;
  std::filesystem::remove_all(dir);
  return r;
}

void Print(const char* server, const char* what, const std::vector<Round>& quiet,
           const std::vector<Round>& busy) {
  auto col = [](const std::vector<Round>& rs, double Round::* field) {
    std::vector<double> v;
    for (const Round& r : rs) v.push_back(r.*field);
    return Median(v);
  };
  auto worst = [](const std::vector<Round>& rs) {
    double w = 0;
    int failures = 0;
    for (const Round& r : rs) {
      w = std::max(w, r.probe_worst);
      failures += r.probe_failures + (r.ok ? 0 : 1);
    }
    return std::pair(w, failures);
  };
  auto [qw, qf] = worst(quiet);
  auto [bw, bf] = worst(busy);
  double qb = col(quiet, &Round::backup), bb = col(busy, &Round::backup);
  double qr = col(quiet, &Round::restore), br = col(busy, &Round::restore);
  std::printf(
      "%-7s %-22s backup %6.2fs vs quiet %6.2fs = %.2fx | restore %6.2fs vs %6.2fs = %.2fx\n",
      server, what, bb, qb, bb / qb, br, qr, br / qr);
  std::printf(
      "%-7s %-22s bob's requests: median %.1f ms (quiet %.1f ms), worst %.1f ms (quiet "
      "%.1f ms), failed %d (quiet %d)\n",
      server, what, 1000 * col(busy, &Round::probe_median), 1000 * col(quiet, &Round::probe_median),
      1000 * bw, 1000 * qw, bf, qf);
  std::fflush(stdout);
}

std::vector<std::string> AliceTokens(BackupStack& b) {
  std::vector<std::string> tokens;
  for (int i = 0; i < 3; ++i) tokens.push_back(b.Mint("alice@pbs", {"--read", "--write"}));
  std::string writer = tokens[0];
  b.Client(writer).Post("/backup/laptop/?create=true", "", "text/plain");
  return tokens;
}

auto AlicePath = [](int i) {
  return "/backup/laptop/data/" + Sha256Hex("bench " + std::to_string(i));
};

void Bench(const char* server, BackupStack& b, int port, int mib, int rounds) {
  std::string bob = b.Mint("bob@pbs", {"--read", "--write"});
  std::vector<std::string> alice = AliceTokens(b);
  std::vector<Round> quiet, busy;
  int n = 0;
  for (int round = 0; round < rounds; ++round) {
    // Alternate which goes first, so that drift of the machine favours neither.
    for (int k = 0; k < 2; ++k) {
      bool trickling = (round + k) % 2 == 1;
      if (trickling) {
        Trickles t(port, alice, AlicePath, 64 << 20);
        Eventually([&] { return t.Unanswered() <= 16; }, 20s);
        busy.push_back(BobRound(b, port, bob, n++, mib));
      } else {
        quiet.push_back(BobRound(b, port, bob, n++, mib));
      }
    }
  }
  Print(server, "150 trickles", quiet, busy);
}

}  // namespace

TEST_CASE("fair share: another account's restic and requests beside 150 trickling uploads",
          "[.bench_fair_share]") {
  const int mib = EnvInt("FAIR_SHARE_BENCH_MIB", 32);
  const int rounds = EnvInt("FAIR_SHARE_BENCH_ROUNDS", 3);
  std::printf("fair share: %d MiB per backup, %d rounds of quiet and trickling each\n", mib,
              rounds);
  {
    BackupStack b(kTrickleWorkerConfig);
    Bench("nginx", b, b.stack->port(), mib, rounds);
  }
  {
    BackupStack b(kTrickleWorkerConfig);
    Apache apache(b.stack->dir(), b.stack->worker().socket(), b.stack->storage_dir());
    Bench("Apache", b, apache.port(), mib, rounds);
  }
  {
    // The per-account and per-token caps lifted (4096): what is left is the reserve, which alone
    // keeps an eighth of the threads for the accounts under their equal split.
    BackupStack b(std::string(kTrickleWorkerConfig) +
                  "max_requests_per_account = 4096\nmax_requests_per_token = 4096\n");
    std::string bob = b.Mint("bob@pbs", {"--read", "--write"});
    std::vector<std::string> alice = AliceTokens(b);
    std::vector<Round> quiet{BobRound(b, b.stack->port(), bob, 0, mib)};
    Trickles t(b.stack->port(), alice, AlicePath, 64 << 20);
    std::this_thread::sleep_for(5s);  // let the trickles take the threads
    std::vector<Round> busy{BobRound(b, b.stack->port(), bob, 1, mib)};
    Print("nginx", "caps lifted, reserve", quiet, busy);
    std::printf("nginx   caps lifted, reserve   trickles by status after the run (0: held): %s\n",
                t.Statuses().c_str());
    std::string log = b.stack->worker().Log();
    std::printf("nginx   caps lifted, reserve   worker said all its threads were busy: %s\n",
                log.find("worker threads are busy") != std::string::npos ? "yes" : "no");
  }
}
