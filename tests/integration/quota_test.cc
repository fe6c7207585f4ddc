// Per-account quotas (issue 13 item 4) with the real restic, PostgreSQL, nginx and workers:
// usage in PostgreSQL equals what the storage holds after every step; the backup that crosses
// the quota fails with 507 and restic says so; `forget --prune` frees room on the full account
// and the next backup fits; `tessera-admin usage recompute` repairs a wrong figure; and two
// workers racing on one account never let it past its quota.
#include <httplib.h>
#include <sodium.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "harness.h"

using namespace tessera::testing;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t kMiB = 1024 * 1024;

// What a repository directory holds on disk, locks not counted (as the quota counts).
struct Held {
  std::uint64_t bytes = 0, objects = 0;
};
Held OnDisk(const std::string& repo_dir) {
  Held held;
  for (const auto& e : fs::recursive_directory_iterator(repo_dir)) {
    if (!e.is_regular_file()) continue;
    std::string rel = fs::relative(e.path(), repo_dir).string();
    if (rel.starts_with("locks/")) continue;
    held.bytes += e.file_size();
    ++held.objects;
  }
  return held;
}

struct Quota {
  BackupStack& b;
  std::string AccountId() const {
    return b.stack->pg().Sql("SELECT id FROM accounts WHERE userid = 'alice@pbs'");
  }
  std::string RepoDir() const { return b.keys + "/repos/" + AccountId() + "/laptop"; }
  void Set(std::uint64_t bytes) const {
    b.stack->pg().Sql("UPDATE accounts SET quota_bytes = " + std::to_string(bytes) +
                      " WHERE userid = 'alice@pbs'");
  }
  std::uint64_t Used() const {
    std::string v = b.stack->pg().Sql(
        "SELECT COALESCE((SELECT bytes FROM account_usage WHERE account_id = " + AccountId() +
        "), 0)");
    return std::stoull(v);
  }
  Held Repo() const {
    std::string v = b.stack->pg().Sql(
        "SELECT bytes || ' ' || objects FROM repo_usage WHERE account_id = " + AccountId() +
        " AND repo = 'laptop'");
    Held h;
    std::istringstream(v) >> h.bytes >> h.objects;
    return h;
  }
  // PostgreSQL's figures equal the storage's (no upload in flight).
  void MatchesDisk() const {
    Held disk = OnDisk(RepoDir());
    INFO("disk " << disk.bytes << " bytes in " << disk.objects << " objects");
    CHECK(Used() == disk.bytes);
    CHECK(Repo().bytes == disk.bytes);
    CHECK(Repo().objects == disk.objects);
  }
};

RunResult Restic(const BackupStack& b, const std::string& token, std::vector<std::string> args) {
  std::string url = "rest:http://alice:" + token + "@127.0.0.1:" + std::to_string(b.stack->port()) +
                    "/backup/laptop/";
  std::vector<std::string> argv = {
      "timeout",      "600",         "restic",          "-r", url, "--password-file",
      b.keys + "/pw", "--cache-dir", b.keys + "/cache", "-q"};
  argv.insert(argv.end(), args.begin(), args.end());
  return Run(argv);
}

}  // namespace

TEST_CASE("restic on an account with a quota: 507 past it, prune frees room, recompute",
          "[quota]") {
  BackupStack b;
  Quota quota{b};
  WriteFile(b.keys + "/pw", "repository password\n");
  std::string token = b.Mint("alice@pbs", {"--read", "--write", "--delete", "--repo", "laptop"});
  quota.Set(12 * kMiB);

  std::string small = b.keys + "/small", big = b.keys + "/big";
  MakeRandomTree(small, 8, 512 * 1024);  // 4 MiB
  MakeRandomTree(big, 20, 512 * 1024);   // 10 MiB: fits alone, not beside the 4
  RunResult init = Restic(b, token, {"init"});
  INFO(init.output);
  REQUIRE(init.status == 0);
  RunResult first = Restic(b, token, {"backup", small});
  INFO(first.output);
  REQUIRE(first.status == 0);
  quota.MatchesDisk();
  std::uint64_t after_first = quota.Used();
  CHECK(after_first > 4 * kMiB);

  RunResult crossing = Restic(b, token, {"backup", big});
  INFO(crossing.output);
  CHECK(crossing.status != 0);
  CHECK(crossing.output.find("507") != std::string::npos);
  CHECK(quota.Used() <= 12 * kMiB);
  quota.MatchesDisk();

  // The full account can still forget and prune (locks and the new index need room).
  RunResult listed = Restic(b, token, {"snapshots", "--json"});
  INFO(listed.output);
  REQUIRE(listed.status == 0);
  json snapshots = json::parse(listed.output, nullptr, /*allow_exceptions=*/false);
  REQUIRE(snapshots.is_array());
  REQUIRE(snapshots.size() == 1);  // the crossing backup made none
  RunResult forget =
      Restic(b, token, {"forget", snapshots[0].value("id", std::string()), "--prune"});
  INFO(forget.output);
  REQUIRE(forget.status == 0);
  quota.MatchesDisk();
  CHECK(quota.Used() < after_first);

  RunResult fits = Restic(b, token, {"backup", big});
  INFO(fits.output);
  REQUIRE(fits.status == 0);
  quota.MatchesDisk();
  RunResult check = Restic(b, token, {"check", "--read-data"});
  INFO(check.output);
  CHECK(check.status == 0);

  // A wrong figure (a worker killed between storing and counting) is set right from the disk.
  std::uint64_t right = quota.Used();
  b.stack->pg().Sql("UPDATE account_usage SET bytes = 1; UPDATE repo_usage SET objects = 0");
  RunResult recompute =
      Run({TESSERA_ADMIN_BIN, "--config", b.admin_conf, "usage", "recompute", "alice@pbs"});
  INFO(recompute.output);
  REQUIRE(recompute.status == 0);
  CHECK(quota.Used() == right);
  quota.MatchesDisk();
  RunResult report = Run({TESSERA_ADMIN_BIN, "--config", b.admin_conf, "usage", "alice@pbs"});
  INFO(report.output);
  CHECK(report.status == 0);
  CHECK(report.output.find("quota " + std::to_string(12 * kMiB)) != std::string::npos);
  CHECK(report.output.find("laptop\t" + std::to_string(right) + " bytes") != std::string::npos);
}

TEST_CASE("two workers racing on one account never let it past its quota", "[quota]") {
  // All 24 uploads race at once with one token: its fair share of each worker's threads (8 by
  // default, auth/fair_share.h) is raised so that the quota alone decides.
  BackupStack b("max_requests_per_account = 64\nmax_requests_per_token = 64\n");
  Quota quota{b};
  std::string token = b.Mint("alice@pbs", {"--read", "--write", "--delete", "--repo", "laptop"});
  std::string dir = MakeTempDir("tessera-quota-second");
  Worker second(dir, b.stack->pg().Conninfo(), b.worker_config);
  second.Start();
  Nginx second_front(dir, second.socket(), b.keys + "/repos");

  REQUIRE(b.Client(token).Post("/backup/laptop/?create=true", "", "text/plain")->status == 200);
  constexpr std::size_t kObject = 100 * 1024;
  constexpr int kFits = 10, kTries = 24;
  quota.Set(kFits * kObject + kObject / 2);

  std::vector<std::string> bodies(kTries);
  for (std::string& body : bodies) {
    body.resize(kObject);
    randombytes_buf(body.data(), body.size());
  }
  std::atomic<int> stored{0}, full{0}, other{0};
  std::vector<std::thread> racers;
  for (int i = 0; i < kTries; ++i) {
    racers.emplace_back([&, i] {
      httplib::Client client("127.0.0.1", i % 2 ? second_front.port() : b.stack->port());
      client.set_bearer_token_auth(token);
      std::string name = Sha256Hex(bodies[i]);
      auto answer =
          client.Post("/backup/laptop/data/" + name, bodies[i], "application/octet-stream");
      int status = answer ? answer->status : 0;
      (status == 200 ? stored : status == 507 ? full : other)++;
    });
  }
  for (std::thread& t : racers) t.join();
  CHECK(other == 0);
  CHECK(stored == kFits);
  CHECK(full == kTries - kFits);
  CHECK(quota.Used() == kFits * kObject);
  quota.MatchesDisk();
  std::error_code ec;
  fs::remove_all(dir, ec);
}
