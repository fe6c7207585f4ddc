// The real restic client (Debian's) backing up through nginx and Tessera with bearer tokens:
// init, backup, snapshots, restore with a byte-for-byte comparison, check --read-data, forget
// --prune; an append-only token whose prune fails with nothing lost; a read-only token restoring
// and checking (it may make and remove its own locks, issue 8 item 9).
#include <sodium.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "harness.h"

using namespace tessera::testing;
namespace fs = std::filesystem;

namespace {

// A few thousand files, over 100 MB, half random and half compressible, in nested folders.
void MakeTree(const std::string& root, int files, std::size_t file_bytes) {
  std::string text;
  while (text.size() < file_bytes) text += "the quick brown fox jumps over the lazy dog 0123456789\n";
  std::string random(file_bytes, '\0');
  for (int i = 0; i < files; ++i) {
    std::string dir = root + "/d" + std::to_string(i % 20) + "/e" + std::to_string(i % 7);
    fs::create_directories(dir);
    std::ofstream out(dir + "/f" + std::to_string(i), std::ios::binary);
    if (i % 2 == 0) {
      randombytes_buf(random.data(), random.size());
      out.write(random.data(), static_cast<std::streamsize>(file_bytes - static_cast<std::size_t>(i % 97)));
    } else {
      out << i << "\n";
      out.write(text.data(), static_cast<std::streamsize>(file_bytes - static_cast<std::size_t>(i % 89)));
    }
  }
}

struct Restic {
  std::string url, password_file, cache;
  RunResult operator()(std::vector<std::string> args, int timeout_s = 300) const {
    std::vector<std::string> argv = {"timeout", std::to_string(timeout_s), "restic", "-r", url,
                                     "--password-file", password_file, "--cache-dir", cache, "-q"};
    argv.insert(argv.end(), args.begin(), args.end());
    return Run(argv);
  }
};

}  // namespace

TEST_CASE("restic backs up, restores, checks and prunes through Tessera", "[restic]") {
  BackupStack b;
  const std::string& keys = b.keys;
  auto mint = [&](std::vector<std::string> flags) {
    flags.insert(flags.end(), {"--repo", "laptop"});
    return b.Mint("alice@pbs", flags);
  };
  WriteFile(keys + "/restic-password", "repository password\n");
  auto restic = [&](const std::string& token) {
    return Restic{"rest:http://alice:" + token + "@127.0.0.1:" + std::to_string(b.stack->port()) + "/backup/laptop/",
                  keys + "/restic-password", keys + "/cache"};
  };
  Restic full = restic(mint({"--read", "--write", "--delete"}));
  Restic append_only = restic(mint({"--read", "--write"}));
  Restic read_only = restic(mint({"--read"}));

  std::string src = keys + "/src";
  MakeTree(src, 2000, 56 * 1024);  // ~110 MB

  RunResult init = full({"init"});
  INFO(init.output);
  REQUIRE(init.status == 0);
  RunResult first = full({"backup", src});
  INFO(first.output);
  REQUIRE(first.status == 0);

  // The append-only client backs up too.
  std::ofstream(src + "/d0/e0/new-file") << "added later\n";
  RunResult second = append_only({"backup", src});
  INFO(second.output);
  REQUIRE(second.status == 0);
  RunResult snaps = read_only({"snapshots", "--json"});
  REQUIRE(snaps.status == 0);
  CHECK(std::count(snaps.output.begin(), snaps.output.end(), '{') >= 2);

  // Read-only restore, compared byte for byte.
  RunResult restore = read_only({"restore", "latest", "--target", keys + "/restore"});
  INFO(restore.output);
  REQUIRE(restore.status == 0);
  RunResult diff = Run({"diff", "-r", "-q", src, keys + "/restore" + src});
  INFO(diff.output);
  CHECK(diff.status == 0);
  // Read-only check: restic locks the repository and removes its own lock afterwards.
  RunResult ro_check = read_only({"check"});
  INFO(ro_check.output);
  CHECK(ro_check.status == 0);
  CHECK(read_only({"list", "locks"}).output.empty());

  // Append-only cannot forget/prune: restic gives up, and nothing is lost.
  RunResult refused = append_only({"forget", "--keep-last", "1", "--prune"}, 180);
  CHECK(refused.status != 0);
  RunResult still = full({"snapshots", "--json"});
  CHECK(std::count(still.output.begin(), still.output.end(), '{') >= 2);
  RunResult check1 = full({"check", "--read-data"});
  INFO(check1.output);
  CHECK(check1.status == 0);

  // The full token prunes; the repository still checks.
  RunResult prune = full({"forget", "--keep-last", "1", "--prune"});
  INFO(prune.output);
  CHECK(prune.status == 0);
  RunResult check2 = full({"check", "--read-data"});
  INFO(check2.output);
  CHECK(check2.status == 0);
}
