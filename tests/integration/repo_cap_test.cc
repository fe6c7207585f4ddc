// Repository caps and the repository overview (issue 21 items 2 and 3) with the real restic,
// PostgreSQL, nginx and worker: one account fills its cap (parallel creations never pass it),
// is refused with an error restic prints, and may still re-create what it has, while another
// account creates repositories and backs up; an admin's per-account cap applies at once; an
// empty repository costs a handful of inodes; and GET /api2/json/repos, read from PostgreSQL,
// equals a walk of the storage after a backup and `forget --prune` (on disk, and on S3 against
// the walk `tessera-admin usage recompute` makes).
#include <httplib.h>
#include <sys/stat.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "harness.h"

using namespace tessera::testing;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

RunResult Restic(const BackupStack& b, const std::string& user, const std::string& token,
                 const std::string& repo, std::vector<std::string> args) {
  std::string url = "rest:http://" + user + ":" + token +
                    "@127.0.0.1:" + std::to_string(b.stack->port()) + "/backup/" + repo + "/";
  std::vector<std::string> argv = {"timeout",
                                   "600",
                                   "restic",
                                   "-r",
                                   url,
                                   "--password-file",
                                   b.keys + "/pw",
                                   "--cache-dir",
                                   b.keys + "/cache-" + user,
                                   "-q"};
  argv.insert(argv.end(), args.begin(), args.end());
  return Run(argv);
}

std::string AccountId(const BackupStack& b, const std::string& userid) {
  return b.stack->pg().Sql("SELECT id FROM accounts WHERE userid = '" + userid + "'");
}

// The overview as a PBSAPIToken client reads it, by repository.
std::map<std::string, json> Overview(BackupStack& b, const std::string& api_token) {
  httplib::Client c = b.stack->Client();
  auto got = c.Get("/api2/json/repos", httplib::Headers{{"Authorization", api_token}});
  REQUIRE(got);
  INFO(got->body);
  REQUIRE(got->status == 200);
  std::map<std::string, json> repos;
  json answer = json::parse(got->body);
  for (const json& r : answer["data"]) repos[r["repo"].get<std::string>()] = r;
  return repos;
}

// What a repository directory holds: every object (no dot file, no lock record), its snapshots
// and the newest snapshot's modification time.
json WalkDisk(const std::string& dir) {
  std::uint64_t bytes = 0, objects = 0, snapshots = 0;
  std::int64_t last = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file() || e.path().filename().string().starts_with(".")) continue;
    bytes += e.file_size();
    ++objects;
    if (e.path().parent_path().filename() == "snapshots") {
      ++snapshots;
      struct stat st{};
      REQUIRE(stat(e.path().c_str(), &st) == 0);
      last = std::max<std::int64_t>(last, st.st_mtime);
    }
  }
  return {{"bytes", bytes},
          {"objects", objects},
          {"snapshots", snapshots},
          {"last_snapshot", last ? json(last) : json(nullptr)}};
}

// The overview's figures of one repository equal `walk`'s; the snapshot's time within the
// second or two between the object's write and its commit.
void SameFigures(const json& shown, const json& walk) {
  INFO("shown " << shown.dump() << " walk " << walk.dump());
  CHECK(shown["bytes"] == walk["bytes"]);
  CHECK(shown["objects"] == walk["objects"]);
  CHECK(shown["snapshots"] == walk["snapshots"]);
  REQUIRE(shown["last_snapshot"].is_null() == walk["last_snapshot"].is_null());
  if (!walk["last_snapshot"].is_null()) {
    CHECK(std::abs(shown["last_snapshot"].get<std::int64_t>() -
                   walk["last_snapshot"].get<std::int64_t>()) <= 2);
  }
}

// bob backs up twice into `laptop` and forgets the first snapshot with --prune; an empty
// `spare` is created beside it. Returns the API token that reads the overview.
std::string BackupAndPrune(BackupStack& b) {
  WriteFile(b.keys + "/pw", "repository password\n");
  std::string token = b.Mint("bob@pbs", {"--read", "--write", "--delete"});
  std::string api =
      "PBSAPIToken=bob@pbs!overview:" + b.Mint("bob@pbs", {"--name", "overview", "--read"});
  MakeRandomTree(b.keys + "/one", 6, 256 * 1024);
  MakeRandomTree(b.keys + "/two", 6, 256 * 1024);
  for (std::vector<std::string> args :
       {std::vector<std::string>{"init"},
        {"backup", b.keys + "/one"},
        {"backup", b.keys + "/two"},
        {"forget", "--group-by", "host", "--keep-last", "1", "--prune"}}) {
    RunResult r = Restic(b, "bob", token, "laptop", args);
    INFO(args[0] << ": " << r.output);
    REQUIRE(r.status == 0);
  }
  REQUIRE(b.Client(token).Post("/backup/spare/?create=true")->status == 200);
  return api;
}

}  // namespace

TEST_CASE("an account past its repository cap is refused clearly; another one backs up",
          "[repos]") {
  BackupStack b("repo_max_count = 3\n");
  WriteFile(b.keys + "/pw", "repository password\n");
  std::string alice = b.Mint("alice@pbs", {"--read", "--write"});
  std::string bob = b.Mint("bob@pbs", {"--read", "--write", "--delete"});

  // Eight creations at once on one worker (its threads, its pool of connections): exactly the
  // cap's three get in.
  std::atomic<int> made = 0, refused = 0, other = 0;
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      auto r = b.Client(alice).Post("/backup/r" + std::to_string(i) + "/?create=true");
      int status = r ? r->status : 0;
      (status == 200 ? made : status == 403 ? refused : other)++;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(made == 3);
  CHECK(refused == 5);
  CHECK(other == 0);
  CHECK(b.stack->pg().Sql("SELECT count(*) FROM repo_usage WHERE account_id = " +
                          AccountId(b, "alice@pbs")) == "3");

  // What the refused see: 403, the cap in the message and in the status line.
  auto past = b.Client(alice).Post("/backup/one-more/?create=true");
  REQUIRE(past);
  CHECK(past->status == 403);
  CHECK(past->reason == "Forbidden: repository limit of 3 reached");
  CHECK(json::parse(past->body)["message"].get<std::string>().find("limit of 3 repositories") !=
        std::string::npos);
  CHECK_FALSE(fs::exists(b.keys + "/repos/" + AccountId(b, "alice@pbs") + "/one-more"));
  // ... and restic says it too.
  RunResult init = Restic(b, "alice", alice, "one-more", {"init"});
  INFO(init.output);
  CHECK(init.status != 0);
  CHECK(init.output.find("repository limit of 3 reached") != std::string::npos);

  // What alice has she may create again, at the cap.
  std::string mine = b.stack->pg().Sql("SELECT repo FROM repo_usage WHERE account_id = " +
                                       AccountId(b, "alice@pbs") + " ORDER BY repo LIMIT 1");
  CHECK(b.Client(alice).Post("/backup/" + mine + "/?create=true")->status == 200);

  // bob is not touched by alice's cap: he creates repositories and backs up with restic.
  MakeRandomTree(b.keys + "/tree", 4, 128 * 1024);
  RunResult bob_init = Restic(b, "bob", bob, "laptop", {"init"});
  INFO(bob_init.output);
  REQUIRE(bob_init.status == 0);
  RunResult bob_backup = Restic(b, "bob", bob, "laptop", {"backup", b.keys + "/tree"});
  INFO(bob_backup.output);
  REQUIRE(bob_backup.status == 0);
  CHECK(b.Client(bob).Post("/backup/desktop/?create=true")->status == 200);
  RunResult bob_check = Restic(b, "bob", bob, "laptop", {"check"});
  INFO(bob_check.output);
  CHECK(bob_check.status == 0);

  // The admin raises alice's cap by one: one more fits, then 403 naming the new cap.
  b.stack->pg().Sql("SELECT tessera.set_repo_cap('alice@pbs', 4)");
  CHECK(b.Client(alice).Post("/backup/one-more/?create=true")->status == 200);
  auto again = b.Client(alice).Post("/backup/yet-another/?create=true");
  REQUIRE(again);
  CHECK(again->status == 403);
  CHECK(again->reason == "Forbidden: repository limit of 4 reached");
  RunResult report = Run({TESSERA_ADMIN_BIN, "--config", b.admin_conf, "usage", "alice@pbs"});
  INFO(report.output);
  CHECK(report.output.find("repos 4 of 4") != std::string::npos);
  // An unknown account or a negative cap is refused by the function.
  CHECK_THROWS(b.stack->pg().Sql("SELECT tessera.set_repo_cap('nobody@pbs', 4)"));
  CHECK_THROWS(b.stack->pg().Sql("SELECT tessera.set_repo_cap('alice@pbs', -1)"));

  // An empty repository's cost on disk: its directory and five type directories.
  std::string empty = b.keys + "/repos/" + AccountId(b, "alice@pbs") + "/one-more";
  std::size_t inodes = 1;
  for (const auto& e : fs::recursive_directory_iterator(empty)) (void)e, ++inodes;
  RunResult du = Run({"du", "-s", "--block-size=1", empty});
  std::cout << "an empty repository: " << inodes << " inodes, du " << du.output;
  CHECK(inodes == 6);
}

TEST_CASE("the repository overview equals the storage after a backup and forget --prune",
          "[repos]") {
  BackupStack b;
  std::string api = BackupAndPrune(b);
  std::string dir = b.keys + "/repos/" + AccountId(b, "bob@pbs");
  auto shown = Overview(b, api);
  REQUIRE(shown.size() == 2);
  SameFigures(shown["laptop"], WalkDisk(dir + "/laptop"));
  CHECK(shown["laptop"]["snapshots"] == 1);
  // Created, still empty: listed all the same.
  SameFigures(shown["spare"], WalkDisk(dir + "/spare"));
  CHECK(shown["spare"]["objects"] == 0);

  // The overview reads PostgreSQL: with the storage moved away it answers the same.
  fs::rename(dir, dir + ".away");
  CHECK(Overview(b, api) == shown);
  fs::rename(dir + ".away", dir);

  // A recompute from the storage changes nothing.
  RunResult recompute =
      Run({TESSERA_ADMIN_BIN, "--config", b.admin_conf, "usage", "recompute", "bob@pbs"});
  INFO(recompute.output);
  REQUIRE(recompute.status == 0);
  auto recomputed = Overview(b, api);
  REQUIRE(recomputed.size() == 2);
  for (const auto& [repo, figures] : recomputed) SameFigures(figures, WalkDisk(dir + "/" + repo));
}

TEST_CASE("the repository overview equals the storage walk on S3", "[repos_s3]") {
  BackupStack b("", Backend::kS3);
  std::string api = BackupAndPrune(b);
  auto shown = Overview(b, api);
  REQUIRE(shown.size() == 2);
  CHECK(shown["laptop"]["snapshots"] == 1);
  CHECK(shown["spare"]["objects"] == 0);
  // `usage recompute` walks the bucket: its figures are the storage's.
  RunResult recompute =
      Run({TESSERA_ADMIN_BIN, "--config", b.admin_conf, "usage", "recompute", "bob@pbs"});
  INFO(recompute.output);
  REQUIRE(recompute.status == 0);
  auto walked = Overview(b, api);
  REQUIRE(walked.size() == 2);
  for (const auto& [repo, figures] : walked) SameFigures(shown[repo], figures);
}
