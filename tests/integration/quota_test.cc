// Per-account quotas (issue 13 item 4) with the real restic, PostgreSQL, nginx and workers:
// usage in PostgreSQL equals what the storage holds after every step; the backup that crosses
// the quota fails with 507 and restic says so; `forget --prune` frees room on the full account
// and the next backup fits; `tessera-admin usage recompute` repairs a wrong figure; and two
// workers racing on one account never let it past its quota.
#include <httplib.h>
#include <signal.h>
#include <sodium.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
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
    // A killed worker's temporary files are debris, not objects (the sweeper removes them).
    if (e.path().filename().string().starts_with(".tmp-")) continue;
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
  // `tessera-admin usage check alice@pbs`: the books against a walk of the storage.
  RunResult Check() const {
    return Run({TESSERA_ADMIN_BIN, "--config", b.admin_conf, "usage", "check", "alice@pbs"});
  }
  // PostgreSQL's figures equal the storage's (no upload in flight), by the test's own walk of
  // the disk and by `usage check`.
  void MatchesDisk() const {
    Held disk = OnDisk(RepoDir());
    INFO("disk " << disk.bytes << " bytes in " << disk.objects << " objects");
    CHECK(Used() == disk.bytes);
    CHECK(Repo().bytes == disk.bytes);
    CHECK(Repo().objects == disk.objects);
    RunResult checked = Check();
    INFO(checked.output);
    CHECK(checked.status == 0);
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

// Holds the lock of alice's repo_usage rows from psql (every count of an upload waits on it),
// until Release(): a worker is then stopped right after the store's commit, before its answer.
struct CountBlocker {
  BackupStack& b;
  std::unique_ptr<Process> psql;
  explicit CountBlocker(BackupStack& stack, const std::string& account_id) : b(stack) {
    psql = std::make_unique<Process>(
        std::vector<std::string>{
            "psql", "-X", "-q", "-d", b.stack->pg().Conninfo(), "-c",
            "BEGIN; SELECT 1 FROM repo_usage WHERE account_id = " + account_id +
                " FOR UPDATE; SELECT pg_sleep(600) /* tessera-holder */;"},
        b.keys + "/holder.log");
    if (!Eventually(
            [&] {
              return b.stack->pg().Sql(
                         "SELECT count(*) FROM pg_stat_activity WHERE query LIKE "
                         "'%tessera-holder%' AND wait_event = 'PgSleep'") == "1";
            },
            std::chrono::seconds(10)))
      throw std::runtime_error("psql did not take the lock");
  }
  // The objects ("<type>/<name>") whose reservation is marked storing and that are stored:
  // `stored` is given the object's path below the repository (data/xx/<name> for packs).
  template <typename Stored>
  std::vector<std::string> StoredUncounted(Stored stored) const {
    std::vector<std::string> found;
    std::istringstream rows(
        b.stack->pg().Sql("SELECT object FROM usage_reservations WHERE storing"));
    for (std::string object; std::getline(rows, object);) {
      std::string path = object;
      if (object.starts_with("data/"))
        path = "data/" + object.substr(5, 2) + "/" + object.substr(5);
      if (stored(path)) found.push_back(object);
    }
    return found;
  }
  std::vector<std::string> StoredUncounted(const std::string& repo_dir) const {
    return StoredUncounted(
        [&](const std::string& path) { return fs::exists(repo_dir + "/" + path); });
  }
  // Kills the worker where it waits, ends its statements that wait too (so none of them runs
  // after its death), lets go of the lock and starts the worker again.
  void KillWorkerAndRelease() {
    b.stack->worker().process().Signal(SIGKILL);
    b.stack->worker().process().Wait(std::chrono::seconds(10));
    // The dead worker's backends first, each waited for until it has exited (PostgreSQL 14's
    // timeout argument): were the holder to go first, a statement waiting on its lock could get
    // the lock and commit before its own termination is processed.
    b.stack->pg().Sql(
        "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity "
        "WHERE pid <> pg_backend_pid() AND application_name = 'tessera-fcgi'");
    b.stack->pg().Sql(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
        "AND query LIKE '%tessera-holder%'");
    b.stack->worker().Start();
  }
};

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
  RunResult exact = quota.Check();
  INFO(exact.output);
  CHECK(exact.status == 0);
  CHECK(exact.output == "alice@pbs\tbooks exact: " + std::to_string(right) + " bytes\n");
  b.stack->pg().Sql("UPDATE account_usage SET bytes = 1; UPDATE repo_usage SET objects = 0");
  // The check says so and changes nothing.
  RunResult differ = quota.Check();
  INFO(differ.output);
  CHECK(differ.status == 1);
  CHECK(differ.output.find("books differ: used 1, storage and uploads in flight " +
                           std::to_string(right)) != std::string::npos);
  CHECK(differ.output.find("laptop\tbooks " + std::to_string(right) + " bytes 0 objects") !=
        std::string::npos);
  CHECK(quota.Used() == 1);
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

TEST_CASE("uploads and deletes of the same names from six threads keep the books exact",
          "[quota]") {
  // Issue 22: a DELETE that lost the removal claim still deleted and counted nothing, so the
  // usage drifted above the storage under a normal prune.
  BackupStack b;
  Quota quota{b};
  std::string token = b.Mint("alice@pbs", {"--read", "--write", "--delete", "--repo", "laptop"});
  REQUIRE(b.Client(token).Post("/backup/laptop/?create=true", "", "text/plain")->status == 200);
  std::vector<std::string> bodies(4);
  for (std::string& body : bodies) body = RandomBytes(20 * 1024);
  std::atomic<int> unexpected{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      httplib::Client client("127.0.0.1", b.stack->port());
      client.set_bearer_token_auth(token);
      for (int round = 0; round < 30; ++round) {
        const std::string& body = bodies[static_cast<std::size_t>((t + round) % 4)];
        std::string path = "/backup/laptop/data/" + Sha256Hex(body);
        auto answer = (t + round) % 2 ? client.Delete(path)
                                      : client.Post(path, body, "application/octet-stream");
        // 503: another request held the removal's claim (restic retries).
        if (!answer || (answer->status != 200 && answer->status != 503)) ++unexpected;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  CHECK(unexpected == 0);
  quota.MatchesDisk();
}

TEST_CASE("a worker killed between the store's commit and its answer: the retry gets 200",
          "[quota]") {
  BackupStack b;
  Quota quota{b};
  // An append-only token: restic cannot delete and upload again, so the retry must converge.
  std::string token = b.Mint("alice@pbs", {"--read", "--write", "--repo", "laptop"});
  REQUIRE(b.Client(token).Post("/backup/laptop/?create=true", "", "text/plain")->status == 200);
  std::string first = RandomBytes(1000);
  REQUIRE(b.Client(token)
              .Post("/backup/laptop/data/" + Sha256Hex(first), first, "application/octet-stream")
              ->status == 200);
  // Stop the worker right after the store's commit, then kill it there.
  CountBlocker blocker(b, quota.AccountId());
  std::string body = RandomBytes(50 * 1024);
  std::string name = Sha256Hex(body);
  std::thread upload([&] {
    httplib::Client client("127.0.0.1", b.stack->port());
    client.set_bearer_token_auth(token);
    (void)client.Post("/backup/laptop/data/" + name, body, "application/octet-stream");
  });
  CHECK(Eventually([&] { return blocker.StoredUncounted(quota.RepoDir()).size() == 1; },
                   std::chrono::seconds(10)));
  blocker.KillWorkerAndRelease();
  upload.join();
  // restic's retry of the unanswered upload: the same bytes, stored already.
  auto retry =
      b.Client(token).Post("/backup/laptop/data/" + name, body, "application/octet-stream");
  REQUIRE(retry);
  CHECK(retry->status == 200);
  // Other bytes under that name stay refused.
  CHECK(b.Client(token)
            .Post("/backup/laptop/data/" + name, RandomBytes(100), "application/octet-stream")
            ->status == 403);
  // The account's total holds the dead worker's reservation; the recompute counts its object
  // (the lease has not run out: it was marked storing and the object is there).
  CHECK(quota.Used() == OnDisk(quota.RepoDir()).bytes);
  auto recomputed =
      Run({TESSERA_ADMIN_BIN, "--config", b.admin_conf, "usage", "recompute", "alice@pbs"});
  INFO(recomputed.output);
  CHECK(recomputed.status == 0);
  CHECK(recomputed.output.find("stored objects counted 1") != std::string::npos);
  quota.MatchesDisk();
  CHECK(b.stack->pg().Sql("SELECT count(*) FROM usage_reservations") == "0");
}

TEST_CASE("restic with an append-only token finishes its backup after a worker died mid-commit",
          "[quota]") {
  // Issue 22: the retry of an upload the store had committed got 403 ("exists"), and restic,
  // which may not delete with an append-only token, could never finish.
  BackupStack b;
  Quota quota{b};
  WriteFile(b.keys + "/pw", "repository password\n");
  std::string token = b.Mint("alice@pbs", {"--read", "--write", "--repo", "laptop"});
  RunResult init = Restic(b, token, {"init"});
  INFO(init.output);
  REQUIRE(init.status == 0);
  std::string tree = b.keys + "/tree";
  MakeRandomTree(tree, 128, 256 * 1024);  // 32 MiB: several packs
  std::string url = "rest:http://alice:" + token + "@127.0.0.1:" + std::to_string(b.stack->port()) +
                    "/backup/laptop/";
  Process backup({"timeout", "300", "restic", "-r", url, "--password-file", b.keys + "/pw",
                  "--cache-dir", b.keys + "/cache", "-q", "backup", tree},
                 b.keys + "/backup.log");
  // Once restic holds its lock, every count waits: the worker is stopped right after the store
  // committed one of restic's objects (a pack, its index or its snapshot), and killed there.
  REQUIRE(Eventually(
      [&] {
        return !fs::is_empty(quota.RepoDir() + "/locks") &&
               b.stack->pg().Sql("SELECT count(*) FROM usage_reservations") == "0";
      },
      std::chrono::seconds(30)));
  CountBlocker blocker(b, quota.AccountId());
  REQUIRE(Eventually([&] { return !blocker.StoredUncounted(quota.RepoDir()).empty(); },
                     std::chrono::seconds(60)));
  blocker.KillWorkerAndRelease();
  auto done = backup.Wait(std::chrono::seconds(300));
  INFO(ReadFile(b.keys + "/backup.log"));
  REQUIRE(done);
  CHECK(*done == 0);
  RunResult check = Restic(b, token, {"check", "--read-data"});
  INFO(check.output);
  CHECK(check.status == 0);
  // The dead worker's reservations lapse (their lease, moved here rather than waited for): the
  // recompute counts those whose object is stored and gives back the rest.
  b.stack->pg().Sql("UPDATE usage_reservations SET lease_until = now() - interval '1 second'");
  RunResult recomputed =
      Run({TESSERA_ADMIN_BIN, "--config", b.admin_conf, "usage", "recompute", "alice@pbs"});
  INFO(recomputed.output);
  CHECK(recomputed.status == 0);
  quota.MatchesDisk();
  CHECK(b.stack->pg().Sql("SELECT count(*) FROM usage_reservations") == "0");
}

TEST_CASE(
    "on S3 too, a worker killed between the store's commit and its answer: the retry "
    "gets 200 and the books stay exact",
    "[quota]") {
  BackupStack b("", Backend::kS3);
  std::string id = b.stack->pg().Sql("SELECT id FROM accounts WHERE userid = 'alice@pbs'");
  std::string prefix = "tessera/" + id + "/laptop/";
  std::string token = b.Mint("alice@pbs", {"--read", "--write", "--repo", "laptop"});
  REQUIRE(b.Client(token).Post("/backup/laptop/?create=true", "", "text/plain")->status == 200);
  std::string first = RandomBytes(1000);
  REQUIRE(b.Client(token)
              .Post("/backup/laptop/data/" + Sha256Hex(first), first, "application/octet-stream")
              ->status == 200);
  CountBlocker blocker(b, id);
  std::string body = RandomBytes(70 * 1024);
  std::string name = Sha256Hex(body);
  std::thread upload([&] {
    httplib::Client client("127.0.0.1", b.stack->port());
    client.set_bearer_token_auth(token);
    (void)client.Post("/backup/laptop/data/" + name, body, "application/octet-stream");
  });
  CHECK(Eventually(
      [&] {
        return blocker
                   .StoredUncounted([&](const std::string& path) {
                     return !SharedRgw().Keys(b.bucket, prefix + path).empty();
                   })
                   .size() == 1;
      },
      std::chrono::seconds(20)));
  blocker.KillWorkerAndRelease();
  upload.join();
  auto retry =
      b.Client(token).Post("/backup/laptop/data/" + name, body, "application/octet-stream");
  REQUIRE(retry);
  CHECK(retry->status == 200);
  CHECK(b.Client(token)
            .Post("/backup/laptop/data/" + name, RandomBytes(100), "application/octet-stream")
            ->status == 403);
  auto recompute = [&] {
    return Run({TESSERA_ADMIN_BIN, "--config", b.admin_conf, "usage", "recompute", "alice@pbs"});
  };
  RunResult counted = recompute();
  INFO(counted.output);
  CHECK(counted.status == 0);
  CHECK(counted.output.find("stored objects counted 1") != std::string::npos);
  // A second walk finds the books equal to the bucket: nothing to change.
  RunResult again = recompute();
  INFO(again.output);
  std::string used = b.stack->pg().Sql("SELECT bytes FROM account_usage WHERE account_id = " + id);
  CHECK(again.output == "alice@pbs\tused " + used + " (was " + used + ")\n");
  // The repository holds the two packs (its keys/ holds only the repository's marker).
  CHECK(SharedRgw().Keys(b.bucket, prefix + "data/").size() == 2);
  CHECK(b.stack->pg().Sql("SELECT objects FROM repo_usage WHERE account_id = " + id) == "2");
  CHECK(b.stack->pg().Sql("SELECT count(*) FROM usage_reservations") == "0");
}

TEST_CASE("a dead worker's marked reservation is not counted again once a retry stored its object",
          "[quota]") {
  // Found by the chaos run (seed 2): a worker killed after marking its reservation storing and
  // before the store's commit left it marked; restic's retry stored and counted the object on
  // another worker; and when the dead one's lease ran out the settling found the object stored
  // and counted it a second time.
  BackupStack b("", Backend::kFilesystem, /*db_proxy=*/true);
  Quota quota{b};
  std::string token = b.Mint("alice@pbs", {"--read", "--write", "--repo", "laptop"});
  REQUIRE(b.Client(token).Post("/backup/laptop/?create=true", "", "text/plain")->status == 200);
  std::string body = RandomBytes(40 * 1024), name = Sha256Hex(body);
  auto upload = [&](const std::string& bytes) {
    auto r = b.Client(token).Post("/backup/laptop/data/" + Sha256Hex(bytes), bytes,
                                  "application/octet-stream");
    return r ? r->status : -1;
  };
  // The worker is held where it marks the reservation, before the store commits, and killed
  // there; the mark reaches PostgreSQL after its death.
  b.stack->db_proxy().Stall("storing = true");
  std::thread first([&] { (void)upload(body); });
  REQUIRE(Eventually([&] { return b.stack->db_proxy().stalled(); }, std::chrono::seconds(10)));
  b.stack->worker().process().Signal(SIGKILL);
  REQUIRE(b.stack->worker().process().Wait(std::chrono::seconds(10)));
  first.join();
  b.stack->db_proxy().Release();
  REQUIRE(Eventually(
      [&] {
        return b.stack->pg().Sql("SELECT count(*) FROM usage_reservations WHERE storing") == "1";
      },
      std::chrono::seconds(10)));
  CHECK(!fs::exists(quota.RepoDir() + "/data/" + name.substr(0, 2) + "/" + name));
  // restic's retry, on the worker started again: stored and counted.
  b.stack->worker().Start();
  REQUIRE(upload(body) == 200);
  // The dead worker's lease runs out (moved rather than waited for); a worker's first upload
  // after its start settles it.
  b.stack->pg().Sql("UPDATE usage_reservations SET lease_until = now() - interval '1 second'");
  b.stack->worker().process().Signal(SIGTERM);
  REQUIRE(b.stack->worker().process().Wait(std::chrono::seconds(10)));
  b.stack->worker().Start();
  REQUIRE(upload(RandomBytes(1000)) == 200);
  CHECK(Eventually(
      [&] { return b.stack->pg().Sql("SELECT count(*) FROM usage_reservations") == "0"; }));
  quota.MatchesDisk();
}
