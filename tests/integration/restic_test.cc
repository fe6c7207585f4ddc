// The real restic client (Debian's) backing up through nginx, and through Apache, to Tessera with
// bearer tokens, on the filesystem and on S3:
// init, backup, snapshots, restore with a byte-for-byte comparison, check --read-data, forget
// --prune; an append-only token whose prune fails with nothing lost; a read-only token restoring
// and checking (it may make and remove its own locks, issue 8 item 9).
#include <sodium.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "harness.h"

using namespace tessera::testing;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// A few thousand files, over 100 MB, half random and half compressible, in nested folders.
void MakeTree(const std::string& root, int files, std::size_t file_bytes) {
  std::string text;
  while (text.size() < file_bytes)
    text += "the quick brown fox jumps over the lazy dog 0123456789\n";
  std::string random(file_bytes, '\0');
  for (int i = 0; i < files; ++i) {
    std::string dir = root + "/d" + std::to_string(i % 20) + "/e" + std::to_string(i % 7);
    fs::create_directories(dir);
    std::ofstream out(dir + "/f" + std::to_string(i), std::ios::binary);
    if (i % 2 == 0) {
      randombytes_buf(random.data(), random.size());
      out.write(random.data(),
                static_cast<std::streamsize>(file_bytes - static_cast<std::size_t>(i % 97)));
    } else {
      out << i << "\n";
      out.write(text.data(),
                static_cast<std::streamsize>(file_bytes - static_cast<std::size_t>(i % 89)));
    }
  }
}

// What restic wrote to stdout (where --json output goes) and to stderr (its messages), apart.
struct ResticRun {
  int status;
  std::string out, err;
};

struct Restic {
  std::string url, password_file, cache;
  // Runs restic under `timeout` (which exits 124 when restic overruns). restic itself exits 0 on
  // success and 1 on a fatal error.
  ResticRun operator()(std::vector<std::string> args, int timeout_s = 300) const {
    const std::string err_path = cache + ".stderr";
    std::vector<std::string> argv = {"sh",
                                     "-c",
                                     "exec \"$@\" 2>\"$0\"",
                                     err_path,
                                     "timeout",
                                     std::to_string(timeout_s),
                                     "restic",
                                     "-r",
                                     url,
                                     "--password-file",
                                     password_file,
                                     "--cache-dir",
                                     cache,
                                     "-q"};
    argv.insert(argv.end(), args.begin(), args.end());
    RunResult r = Run(argv);
    return {r.status, r.output, ReadFile(err_path)};
  }
  // The snapshot ids `snapshots --json` lists, oldest first. Fails the test unless restic
  // succeeds and prints a JSON array of snapshots.
  std::vector<std::string> Snapshots(const std::string& expected_path) const {
    ResticRun run = (*this)({"snapshots", "--json"});
    INFO(run.err);
    REQUIRE(run.status == 0);
    json list = json::parse(run.out, nullptr, /*allow_exceptions=*/false);
    INFO(run.out);
    REQUIRE(list.is_array());
    std::vector<std::string> ids;
    for (const json& snap : list) {
      REQUIRE(snap.is_object());
      CHECK(snap.value("paths", json()) == json::array({expected_path}));
      REQUIRE(snap.contains("id"));
      ids.push_back(snap["id"].get<std::string>());
    }
    return ids;
  }
};

// The whole suite against the web server on `port` in front of `b`'s worker.
void ResticSuite(BackupStack& b, int port) {
  const std::string& keys = b.keys;
  auto mint = [&](std::vector<std::string> flags) {
    flags.insert(flags.end(), {"--repo", "laptop"});
    return b.Mint("alice@pbs", flags);
  };
  WriteFile(keys + "/restic-password", "repository password\n");
  auto restic = [&](const std::string& token) {
    return Restic{
        "rest:http://alice:" + token + "@127.0.0.1:" + std::to_string(port) + "/backup/laptop/",
        keys + "/restic-password", keys + "/cache"};
  };
  Restic full = restic(mint({"--read", "--write", "--delete"}));
  Restic append_only = restic(mint({"--read", "--write"}));
  Restic read_only = restic(mint({"--read"}));

  std::string src = keys + "/src";
  MakeTree(src, 2000, 56 * 1024);  // ~110 MB

  ResticRun init = full({"init"});
  INFO(init.err);
  REQUIRE(init.status == 0);
  ResticRun first = full({"backup", src});
  INFO(first.err);
  REQUIRE(first.status == 0);

  // The append-only client backs up too.
  std::ofstream(src + "/d0/e0/new-file") << "added later\n";
  ResticRun second = append_only({"backup", src});
  INFO(second.err);
  REQUIRE(second.status == 0);
  std::vector<std::string> snapshots = read_only.Snapshots(src);
  REQUIRE(snapshots.size() == 2);

  // Read-only restore, compared byte for byte.
  ResticRun restore = read_only({"restore", "latest", "--target", keys + "/restore"});
  INFO(restore.err);
  REQUIRE(restore.status == 0);
  RunResult diff = Run({"diff", "-r", "-q", src, keys + "/restore" + src});
  INFO(diff.output);
  CHECK(diff.status == 0);
  // Read-only check: restic locks the repository and removes its own lock afterwards.
  ResticRun ro_check = read_only({"check"});
  INFO(ro_check.err);
  CHECK(ro_check.status == 0);
  ResticRun locks = read_only({"list", "locks"});
  CHECK(locks.status == 0);
  CHECK(locks.out.empty());

  // Append-only cannot forget/prune: restic retries the older snapshot's removal, gives up on
  // the server's 403 and exits 1 (not 124: no timeout), and nothing is lost.
  ResticRun refused = append_only({"forget", "--keep-last", "1", "--prune"}, 180);
  INFO(refused.out);
  INFO(refused.err);
  CHECK(refused.status == 1);
  CHECK(refused.err.find(
            "unable to remove <snapshot/" + snapshots.front().substr(0, 10) +
            "> from the repository\nblob not removed, server response: 403 Forbidden (403)") !=
        std::string::npos);
  CHECK(full.Snapshots(src) == snapshots);
  ResticRun check1 = full({"check", "--read-data"});
  INFO(check1.err);
  CHECK(check1.status == 0);

  // The full token prunes: only the latest snapshot is left, and the repository still checks.
  ResticRun prune = full({"forget", "--keep-last", "1", "--prune"});
  INFO(prune.err);
  CHECK(prune.status == 0);
  CHECK(full.Snapshots(src) == std::vector<std::string>{snapshots.back()});
  ResticRun check2 = full({"check", "--read-data"});
  INFO(check2.err);
  CHECK(check2.status == 0);
}

}  // namespace

TEST_CASE("restic backs up, restores, checks and prunes through nginx", "[restic]") {
  BackupStack b;
  ResticSuite(b, b.stack->port());
}

// Downloads take another path behind Apache (X-Sendfile), so the whole suite runs there too.
TEST_CASE("restic backs up, restores, checks and prunes through Apache", "[restic_apache]") {
  BackupStack b;
  Apache apache(b.stack->dir(), b.stack->worker().socket(), b.stack->storage_dir());
  ResticSuite(b, apache.port());
}

// The S3 backend (a bucket of a throwaway Ceph RGW): downloads are streamed by the worker.
TEST_CASE("restic backs up, restores, checks and prunes on S3 through nginx", "[restic_s3]") {
  BackupStack b("", Backend::kS3);
  ResticSuite(b, b.stack->port());
}
