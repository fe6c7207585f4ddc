// One tenant never stalls the others (issue 21, item 1; DESIGN.md "Fair share"). Behind nginx
// and behind Apache, while one account keeps 150 uploads trickling (through three read-write
// tokens), or one read-only token 150 lock uploads, a second account's restic backup and
// restore complete and every probe of its requests answers within a second. The first account
// holds no more than its share of the worker's threads: the rest of its uploads are answered
// 429 (with Retry-After) at once, before their bodies arrive.
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "fair_share_clients.h"
#include "harness.h"
#include "http_client.h"

using namespace tessera::testing;
using namespace std::chrono_literals;

namespace {

constexpr int kAccountShare = 16;  // the worker's default max_requests_per_account
constexpr int kTokenShare = 8;     // and max_requests_per_token

// The second account's whole restic round through the web server on `port`: init, backup,
// restore, and the restored tree equals the source.
void BobBacksUpAndRestores(BackupStack& b, int port, const std::string& token) {
  WriteFile(b.keys + "/bob-restic", "bob's restic password\n");
  std::string url =
      "rest:http://bob:" + token + "@127.0.0.1:" + std::to_string(port) + "/backup/bob/";
  std::string source = b.keys + "/bob-source";
  MakeRandomTree(source, 24, 200 * 1024);
  RunResult init = BobsRestic(b.keys, url, {"init"});
  INFO(init.output);
  REQUIRE(init.status == 0);
  Probe probe(port, token, "bob");
  RunResult backup = BobsRestic(b.keys, url, {"backup", source});
  INFO(backup.output);
  REQUIRE(backup.status == 0);
  std::string target = b.keys + "/bob-restore";
  RunResult restore = BobsRestic(b.keys, url, {"restore", "latest", "--target", target});
  INFO(restore.output);
  REQUIRE(restore.status == 0);
  probe.Stop();
  for (const auto& entry : std::filesystem::recursive_directory_iterator(source)) {
    if (!entry.is_regular_file()) continue;
    CHECK(ReadFile(target + entry.path().string()) == ReadFile(entry.path().string()));
  }
  INFO("probes: " << probe.count());
  CHECK(probe.failures() == 0);
  CHECK(probe.Worst() < 1s);
}

// Account alice holds 150 trickling uploads against the web server on `port` (data through three
// read-write tokens, or locks through one read-only token) while bob backs up and restores.
void OneTenantTrickles(BackupStack& b, int port, bool locks) {
  std::vector<std::string> tokens;
  if (locks) {
    tokens.push_back(b.Mint("alice@pbs", {"--read"}));
  } else {
    for (int i = 0; i < 3; ++i) tokens.push_back(b.Mint("alice@pbs", {"--read", "--write"}));
  }
  std::string writer = b.Mint("alice@pbs", {"--read", "--write"});
  REQUIRE(b.Client(writer).Post("/backup/laptop/?create=true", "", "text/plain")->status == 200);
  std::string bob = b.Mint("bob@pbs", {"--read", "--write"});

  auto path = [locks](int i) {
    return std::string("/backup/laptop/") + (locks ? "locks/" : "data/") +
           Sha256Hex("upload " + std::to_string(i));
  };
  // A lock is at most 64 KiB: at 1 KiB/s it still takes a minute.
  Trickles trickles(port, tokens, path, locks ? 64 * 1024 : 64 << 20);
  int share = locks ? kTokenShare : kAccountShare;
  // Everything past alice's share is refused at once, before its body arrives.
  bool refused = Eventually([&] { return trickles.Answered(429) == kTrickles - share; }, 20s);
  INFO("statuses: " << trickles.Statuses() << "; first answer: " << trickles.FirstAnswer());
  CHECK(refused);
  CHECK(trickles.Answered(429) == kTrickles - share);
  CHECK(trickles.Unanswered() == share);
  CHECK(trickles.FirstAnswer().find("Retry-After: 2") != std::string::npos);

  BobBacksUpAndRestores(b, port, bob);
  // Alice's admitted uploads were never cut: they still hold their threads.
  CHECK(trickles.Unanswered() == share);
}

}  // namespace

TEST_CASE("one account's trickling uploads leave another's restic run unhurt behind nginx",
          "[fair_share]") {
  BackupStack b(kTrickleWorkerConfig);
  SECTION("data uploads through three tokens") { OneTenantTrickles(b, b.stack->port(), false); }
  SECTION("lock uploads through one read-only token") {
    OneTenantTrickles(b, b.stack->port(), true);
  }
}

TEST_CASE("one account's trickling uploads leave another's restic run unhurt behind Apache",
          "[fair_share]") {
  BackupStack b(kTrickleWorkerConfig);
  Apache apache(b.stack->dir(), b.stack->worker().socket(), b.stack->storage_dir());
  SECTION("data uploads through three tokens") { OneTenantTrickles(b, apache.port(), false); }
  SECTION("lock uploads through one read-only token") { OneTenantTrickles(b, apache.port(), true); }
}
