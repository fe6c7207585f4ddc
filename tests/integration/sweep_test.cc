// Debris of crashed uploads (issue 8, item 15): a worker killed with SIGKILL mid-upload leaves its
// temporary file; the restarted worker sweeps it at start-up although it is far younger than
// upload_temp_max_age (the start-up sweep needs only backup::kStartupGrace), while an upload that
// is still being written (by another worker sharing the storage) is never swept. Through the real
// nginx and worker.
#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sodium.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <ctime>
#include <filesystem>

#include "harness.h"
#include "http_client.h"

using namespace tessera::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// The temporary files in `dir`.
// The temporary files in `dir`; none while `dir` does not exist (data/xx/ is made by the first
// write into it).
std::vector<std::string> Temps(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code missing;
  fs::directory_iterator entries(dir, missing);
  if (missing) return out;
  for (const auto& e : entries) {
    std::string name = e.path().filename().string();
    if (name.starts_with(".tmp-")) out.push_back(name);
  }
  return out;
}

}  // namespace

TEST_CASE("a worker killed mid-upload leaves debris that the restarted worker sweeps", "[sweep]") {
  // The backup stack with the default max age for temporary files: an hour.
  std::string keys = MakeTempDir("tessera-sweep");
  MakeStorageDir(keys + "/repos");
  REQUIRE(Run({TESSERA_ADMIN_BIN, "keygen", "--out", keys + "/token.k4.secret"}).status == 0);
  std::string common = "server_id = backup-test\ntoken_key = " + keys + "/token.k4.secret\n";
  const std::string worker_config =
      common + "storage_dir = " + keys +
      "/repos\npassword_opslimit = 1\npassword_memlimit_kib = 8192\n" +
      "upload_temp_max_age = 3600\n";
  Stack stack(worker_config, keys + "/repos");
  WriteFile(keys + "/admin.conf", common + "database = '" + stack.pg().Conninfo() + "'\n");
  AddAccount(stack.pg().Conninfo(), "alice@pbs", "pw");
  RunResult minted = Run({TESSERA_ADMIN_BIN, "--config", keys + "/admin.conf", "token", "mint",
                          "--user", "alice@pbs", "--read", "--write"});
  REQUIRE(minted.status == 0);
  std::string token = minted.output.substr(0, minted.output.find('\n'));
  CheckedClient c = stack.Client();
  c.set_bearer_token_auth(token.c_str());
  REQUIRE(c.Post("/backup/laptop/?create=true", "", "application/octet-stream")->status == 200);
  std::string id = stack.pg().Sql("SELECT id FROM accounts WHERE userid = 'alice@pbs'");

  std::string blob(4 * 1024 * 1024, '\0');
  randombytes_buf(blob.data(), blob.size());
  std::string name = Sha256Hex(blob);
  std::string path = "/backup/laptop/data/" + name;
  std::string dir = keys + "/repos/" + id + "/laptop/data/" + name.substr(0, 2);

  // Headers and half the body, then silence: the worker is writing the temporary file.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(stack.port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  std::string head = "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                     token + "\r\nContent-Type: application/octet-stream\r\nContent-Length: " +
                     std::to_string(blob.size()) + "\r\n\r\n";
  REQUIRE(write(fd, head.data(), head.size()) == static_cast<ssize_t>(head.size()));
  REQUIRE(write(fd, blob.data(), blob.size() / 2) == static_cast<ssize_t>(blob.size() / 2));
  REQUIRE(Eventually([&] { return Temps(dir).size() == 1; }, 5s));
  std::string temp = Temps(dir).front();

  // Stalled: the upload is not swept, and listings never show it. Ten minutes old, past the
  // start-up grace, and beside debris of the same age that nobody holds: a second worker sharing
  // storage_dir starts and sweeps, removing the debris and leaving the upload, whose writer
  // holds its lock.
  timespec aged[2] = {{time(nullptr) - 600, 0}, {time(nullptr) - 600, 0}};
  REQUIRE(utimensat(AT_FDCWD, (dir + "/" + temp).c_str(), aged, AT_SYMLINK_NOFOLLOW) == 0);
  WriteFile(dir + "/.tmp-debris", "a crashed upload");
  REQUIRE(utimensat(AT_FDCWD, (dir + "/.tmp-debris").c_str(), aged, AT_SYMLINK_NOFOLLOW) == 0);
  const std::string second_dir = MakeTempDir("tessera-sweep-second");
  {
    Worker second(second_dir, stack.pg().Conninfo(), worker_config);
    second.Start();
    CHECK(Eventually(
        [&] {
          return second.Log().find(
                     "storage sweep: removed 1 stale temporary files, 1 still being written") !=
                 std::string::npos;
        },
        5s));
  }
  fs::remove_all(second_dir);
  CHECK(Temps(dir) == std::vector<std::string>{temp});
  CHECK(c.Get("/backup/laptop/data/")->body == "[]");

  // Killed mid-upload: the debris stays until a worker sweeps it.
  stack.worker().process().Signal(SIGKILL);
  REQUIRE(stack.worker().process().Wait(5s).has_value());
  close(fd);
  CHECK(Temps(dir) == std::vector<std::string>{temp});
  // Ten minutes old, as if the worker had stayed down that long: past the start-up grace (one
  // minute), far below the max age (an hour).
  timespec old[2] = {{time(nullptr) - 600, 0}, {time(nullptr) - 600, 0}};
  REQUIRE(utimensat(AT_FDCWD, (dir + "/" + temp).c_str(), old, AT_SYMLINK_NOFOLLOW) == 0);
  CHECK(Temps(dir) == std::vector<std::string>{temp});
  // Another worker sharing storage_dir is writing an upload of the same age: it holds the flock.
  std::string other = dir + "/.tmp-other-worker";
  WriteFile(other, "half an upload");
  REQUIRE(utimensat(AT_FDCWD, other.c_str(), old, AT_SYMLINK_NOFOLLOW) == 0);
  int live = open(other.c_str(), O_RDWR | O_CLOEXEC);
  REQUIRE(live >= 0);
  REQUIRE(flock(live, LOCK_EX) == 0);
  stack.worker().Start();
  CHECK(
      Eventually([&] { return Temps(dir) == std::vector<std::string>{".tmp-other-worker"}; }, 5s));
  // The sweeper logs once the sweep is done, a moment after the file went.
  CHECK(Eventually(
      [&] {
        return stack.worker().Log().find(
                   "storage sweep: removed 1 stale temporary files, 1 still being written") !=
               std::string::npos;
      },
      5s));
  close(live);  // that upload ends
  fs::remove(other);
  CHECK(c.Get("/backup/laptop/data/")->body == "[]");
  REQUIRE(c.Post(path, blob, "application/octet-stream")->status == 200);
  CHECK(c.Get(path)->body == blob);
  CHECK(Temps(dir).empty());

  std::error_code ec;
  fs::remove_all(keys, ec);
}
