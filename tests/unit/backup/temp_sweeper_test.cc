// The sweep of crashed uploads' debris against a real temporary directory (issue 8, item 15).
#include "backup/temp_sweeper.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <thread>

#include "backup/storage.h"
#include "backup/unique_fd.h"
#include "config/config.h"

using namespace tessera;
namespace fs = std::filesystem;

namespace {

constexpr std::int64_t kNow = 1800000000;

struct TempDir {
  std::string path;
  TempDir() {
    std::string templ = (fs::temp_directory_path() / "tessera-sweep-XXXXXX").string();
    REQUIRE(mkdtemp(templ.data()) != nullptr);
    path = templ;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// Writes a file whose mtime is `age` seconds before kNow.
void Aged(const std::string& path, std::int64_t age) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << "x";
  timespec times[2] = {{kNow - age, 0}, {kNow - age, 0}};
  REQUIRE(utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) == 0);
}

}  // namespace

TEST_CASE("the sweep removes old temporary files nobody holds, and nothing else") {
  TempDir root;
  clock::FixedClock clock(kNow);
  const std::string repo = root.path + "/7/a/b/c/d";  // the deepest repository path
  const std::string obj(64, 'e');
  Aged(repo + "/data/ee/.tmp-crash1", 7200);  // a crashed upload
  Aged(repo + "/.tmp-config", 7200);          // a crashed config upload
  Aged(repo + "/locks/.tmp-record", 7200);    // a crashed lock record
  Aged(repo + "/data/ee/.tmp-young", 10);     // maybe just created: too young
  Aged(repo + "/data/ee/.tmp-live", 7200);    // old, but a live writer holds it
  Aged(repo + "/data/ee/" + obj, 7200);       // an object
  Aged(repo + "/keys/" + obj, 7200);
  Aged(repo + "/locks/.mutex", 7200);
  Aged(repo + "/locks/" + obj, 7200);  // a lock and its record
  Aged(repo + "/locks/.creator-" + obj, 7200);
  const std::string orphan(64, 'f');
  Aged(repo + "/locks/.creator-" + orphan, 7200);              // a record whose lock is gone
  Aged(repo + "/locks/.creator-" + std::string(64, 'c'), 10);  // maybe being committed: young
  Aged(root.path + "/alice@pbs/laptop/data/00/.tmp-oldlayout", 7200);  // the old layout too
  // Symlinks are never followed out of the storage.
  TempDir outside;
  Aged(outside.path + "/.tmp-not-ours", 7200);
  fs::create_directory_symlink(outside.path, repo + "/data/ab");
  // Far too deep to be a repository: not walked.
  Aged(root.path + "/1/a/b/c/d/e/f/g/h/.tmp-deep", 7200);

  backup::UniqueFd live(open((repo + "/data/ee/.tmp-live").c_str(), O_RDWR | O_CLOEXEC));
  REQUIRE(flock(live.get(), LOCK_EX) == 0);

  backup::SweepStats stats =
      backup::SweepTemporaryFiles(root.path, std::chrono::seconds(3600), clock);
  CHECK(stats.removed == 5);
  CHECK(stats.skipped_live == 1);
  CHECK(stats.errors == 0);
  CHECK_FALSE(fs::exists(repo + "/data/ee/.tmp-crash1"));
  CHECK_FALSE(fs::exists(repo + "/.tmp-config"));
  CHECK_FALSE(fs::exists(repo + "/locks/.tmp-record"));
  CHECK_FALSE(fs::exists(repo + "/locks/.creator-" + orphan));
  CHECK_FALSE(fs::exists(root.path + "/alice@pbs/laptop/data/00/.tmp-oldlayout"));
  CHECK(fs::exists(repo + "/data/ee/.tmp-young"));
  CHECK(fs::exists(repo + "/data/ee/.tmp-live"));
  CHECK(fs::exists(repo + "/data/ee/" + obj));
  CHECK(fs::exists(repo + "/keys/" + obj));
  CHECK(fs::exists(repo + "/locks/" + obj));
  CHECK(fs::exists(repo + "/locks/.creator-" + obj));
  CHECK(fs::exists(repo + "/locks/.creator-" + std::string(64, 'c')));
  CHECK(fs::exists(repo + "/locks/.mutex"));
  CHECK(fs::exists(outside.path + "/.tmp-not-ours"));
  CHECK(fs::exists(root.path + "/1/a/b/c/d/e/f/g/h/.tmp-deep"));

  // Once its writer is gone (killed: the kernel drops the lock), the next sweep takes it.
  live = backup::UniqueFd();
  stats = backup::SweepTemporaryFiles(root.path, std::chrono::seconds(3600), clock);
  CHECK(stats.removed == 1);
  CHECK_FALSE(fs::exists(repo + "/data/ee/.tmp-live"));
  // The young one goes when it is old enough.
  clock.Set(kNow + 3600);
  stats = backup::SweepTemporaryFiles(root.path, std::chrono::seconds(3600), clock);
  CHECK(stats.removed == 2);  // .tmp-young and the young orphaned record
  CHECK_FALSE(fs::exists(repo + "/data/ee/.tmp-young"));
}

TEST_CASE("an upload in progress is never swept, however long it stalls") {
  TempDir root;
  clock::FixedClock clock(kNow);
  auto storage = backup::MakeFilesystemStorage(root.path);
  REQUIRE(storage->CreateRepo(backup::AccountId{1}, "laptop"));
  auto writer =
      storage->BeginWrite(backup::AccountId{1}, "laptop", "data", std::string(64, '0'), 0);
  REQUIRE(writer);
  REQUIRE((*writer)->Write("half", 4));
  std::vector<fs::path> temps;
  for (const auto& e : fs::directory_iterator(root.path + "/1/laptop/data/00"))
    temps.push_back(e.path());
  REQUIRE(temps.size() == 1);
  clock.Set(kNow + 365 * 86400);  // "a year later", as far as the sweep can tell
  timespec old[2] = {{kNow - 7200, 0}, {kNow - 7200, 0}};
  REQUIRE(utimensat(AT_FDCWD, temps[0].c_str(), old, 0) == 0);
  auto stats = backup::SweepTemporaryFiles(root.path, std::chrono::seconds(1), clock);
  CHECK(stats.removed == 0);
  CHECK(stats.skipped_live == 1);
  CHECK(fs::exists(temps[0]));
  writer->reset();  // the upload is abandoned: its temporary file goes with it
  CHECK_FALSE(fs::exists(temps[0]));
}

TEST_CASE("upload_temp_max_age is read from the config, in seconds, 1 s to 7 days") {
  CHECK(config::Parse("").value().upload_temp_max_age == std::chrono::seconds(3600));
  CHECK(config::Parse("upload_temp_max_age = 5\n").value().upload_temp_max_age ==
        std::chrono::seconds(5));
  for (const char* bad : {"upload_temp_max_age = 0\n", "upload_temp_max_age = 604801\n",
                          "upload_temp_max_age = 1h\n", "upload_temp_max_age = -5\n"}) {
    INFO(bad);
    CHECK_FALSE(config::Parse(bad));
  }
}

TEST_CASE(
    "a sweep stops when told to, and the sweeper thread sweeps at start and stops with its owner") {
  TempDir root;
  clock::FixedClock clock(kNow);
  Aged(root.path + "/1/laptop/data/00/.tmp-crash", 7200);
  std::atomic<bool> stop{true};
  CHECK(backup::SweepTemporaryFiles(root.path, std::chrono::seconds(60), clock, &stop).removed ==
        0);
  CHECK(fs::exists(root.path + "/1/laptop/data/00/.tmp-crash"));

  auto started = std::chrono::steady_clock::now();
  {
    backup::TempSweeper sweeper(root.path, std::chrono::seconds(60), std::chrono::seconds(3600),
                                clock);
    for (int i = 0; i < 200 && fs::exists(root.path + "/1/laptop/data/00/.tmp-crash"); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    CHECK_FALSE(fs::exists(root.path + "/1/laptop/data/00/.tmp-crash"));
  }  // the destructor does not wait for the hour's interval
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(10));
}

TEST_CASE("the start-up sweep removes debris younger than the max age, never a live upload") {
  TempDir root;
  clock::FixedClock clock(kNow);
  const std::string dir = root.path + "/1/laptop/data/00";
  static_assert(backup::kStartupGrace < std::chrono::seconds(600));
  Aged(dir + "/.tmp-crash", 600);  // a worker killed ten minutes ago: far below the max age
  Aged(dir + "/.tmp-live", 600);   // another worker's upload, still written
  Aged(dir + "/.tmp-young", 10);   // within the grace: maybe not locked yet
  backup::UniqueFd live(open((dir + "/.tmp-live").c_str(), O_RDWR | O_CLOEXEC));
  REQUIRE(flock(live.get(), LOCK_EX) == 0);
  {
    backup::TempSweeper sweeper(root.path, std::chrono::seconds(3600), std::chrono::seconds(3600),
                                clock);
    for (int i = 0; i < 200 && fs::exists(dir + "/.tmp-crash"); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    CHECK_FALSE(fs::exists(dir + "/.tmp-crash"));
  }
  CHECK(fs::exists(dir + "/.tmp-live"));
  CHECK(fs::exists(dir + "/.tmp-young"));
  // The periodic sweeps keep the max age: the same debris survives them.
  Aged(dir + "/.tmp-crash", 600);
  CHECK(backup::SweepTemporaryFiles(root.path, std::chrono::seconds(3600), clock).removed == 0);
}

namespace {

// The sweeper reads the clock once at the start of each pass. This clock says kNow to the first
// pass and `later` to every other, and notes whether `watched` still existed when the second
// pass began: so the test knows what the first pass did without guessing how long it takes.
class PassClock final : public clock::Clock {
 public:
  PassClock(std::int64_t later, std::string watched)
      : later_(later), watched_(std::move(watched)) {}
  std::int64_t Now() const override {
    int pass = passes_.fetch_add(1);
    if (pass == 1) watched_at_second_ = fs::exists(watched_) ? 1 : 0;
    return pass == 0 ? kNow : later_;
  }
  int passes() const { return passes_.load(); }
  // 1 or 0 once the second pass began (-1 before).
  int watched_at_second() const { return watched_at_second_.load(); }

 private:
  const std::int64_t later_;
  const std::string watched_;
  mutable std::atomic<int> passes_{0};
  mutable std::atomic<int> watched_at_second_{-1};
};

}  // namespace

TEST_CASE("debris too young at start-up goes once the grace has passed, not a max age later") {
  TempDir root;
  const std::string debris = root.path + "/1/laptop/data/00/.tmp-killed-just-now";
  // The second pass comes 2 s after the first (the grace and a second); its clock says so.
  PassClock clock(kNow + 2, debris);
  Aged(debris, 0);  // written the second this worker starts: its writer was killed a moment ago
  auto started = std::chrono::steady_clock::now();
  backup::TempSweeper sweeper(root.path, std::chrono::seconds(3600), std::chrono::seconds(3600),
                              clock, std::chrono::seconds(1));
  for (int i = 0; i < 500 && (clock.passes() < 2 || fs::exists(debris)); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CHECK(clock.watched_at_second() == 1);  // within the grace at the first pass: kept
  CHECK_FALSE(fs::exists(debris));        // past it at the second: gone
  CHECK(clock.passes() == 2);             // by the start-up sweep, not a max-age pass
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(5));
}
