// Lock files through the REST handler over the real filesystem backend in a temporary directory:
// who may create and remove which lock, and the caps (issue 8, item 9).
#include <sodium.h>
#include <stdlib.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <unordered_map>

#include "backup/lock_records.h"
#include "backup/rest_handler.h"
#include "crypto/keyring.h"
#include "fake_repo_store.h"
#include "fake_usage_store.h"
#include "handler_fixture.h"
#include "store/database.h"

using namespace tessera;
using testing::NoStore;
using testing::Sha256Hex;
using testing::StringBody;
namespace fs = std::filesystem;

namespace {

store::GrantRecord Grant(bool read, bool write, bool del) {
  return testing::Grant("alice@pbs", 3, read, write, del);
}

struct Fixture : testing::HandlerStack {
  Fixture() : HandlerStack("locks") {
    std::unordered_map<std::string, store::GrantRecord> grants{
        {"ro1", Grant(true, false, false)},  {"ro2", Grant(true, false, false)},
        {"wo", Grant(false, true, false)},   {"append", Grant(true, true, false)},
        {"admin", Grant(true, true, true)},  {"del-only", Grant(false, false, true)},
        {"none", Grant(false, false, false)}};
    // Read-only grants "r0" .. "r63": enough creators to fill a repository.
    for (int i = 0; i < 64; ++i) grants.emplace("r" + std::to_string(i), Grant(true, false, false));
    cache.Load({{"alice@pbs", {true, std::nullopt, 0}}}, {}, std::move(grants));
    REQUIRE(Call(http::Method::kPost, "admin", "laptop/", "", "create=true").status == 200);
  }
  http::Response Call(http::Method m, const char* jti, const std::string& path,
                      std::string body = "", std::string query = "") {
    return Send("alice@pbs", jti, m, path, std::move(body), std::move(query));
  }
  // Uploads `content` as a lock with `jti`; returns the status and the lock's name.
  std::pair<int, std::string> Lock(const char* jti, const std::string& content) {
    std::string name = Sha256Hex(content);
    return {Call(http::Method::kPost, jti, "laptop/locks/" + name, content).status, name};
  }
  int Delete(const char* jti, const std::string& name) {
    return Call(http::Method::kDelete, jti, "laptop/locks/" + name).status;
  }
  int Head(const std::string& name) {
    return Call(http::Method::kHead, "admin", "laptop/locks/" + name).status;
  }
  std::string LocksDir() const { return root + "/3/laptop/locks"; }
};

std::string ReadAll(http::BodySource& s) {
  std::string out;
  char buffer[4096];
  std::ptrdiff_t n;
  while ((n = s.Read(buffer, sizeof buffer)) > 0) out.append(buffer, static_cast<std::size_t>(n));
  return out;
}

}  // namespace

TEST_CASE("a read-only token removes the locks it created and no other") {
  Fixture f;
  auto [made, theirs] = f.Lock("ro2", "exclusive lock of a running prune");
  REQUIRE(made == 200);
  CHECK(f.Delete("ro1", theirs) == 403);
  CHECK(f.Delete("wo", theirs) == 403);
  CHECK(f.Delete("append", theirs) == 403);
  CHECK(f.Delete("none", theirs) == 403);
  CHECK(f.Head(theirs) == 200);

  auto [mine_made, mine] = f.Lock("ro1", "ro1's own lock");
  REQUIRE(mine_made == 200);
  CHECK(f.Delete("ro1", mine) == 200);
  CHECK(f.Head(mine) == 404);
  CHECK(f.Delete("ro1", mine) == 200);  // already gone: fine, clients retry

  auto [w_made, wlock] = f.Lock("wo", "write-only client's lock");
  REQUIRE(w_made == 200);
  CHECK(f.Delete("wo", wlock) == 200);

  // Their creator, or anyone with delete.
  CHECK(f.Delete("ro2", theirs) == 200);
  auto [again, other] = f.Lock("ro2", "another lock");
  REQUIRE(again == 200);
  CHECK(f.Delete("admin", other) == 200);
  auto [third, del_only] = f.Lock("ro2", "one more lock");
  REQUIRE(third == 200);
  CHECK(f.Delete("del-only", del_only) == 200);
  CHECK(f.Lock("none", "no rights").first == 403);
  CHECK(f.Lock("del-only", "delete alone").first == 403);
}

TEST_CASE("a lock's creator is recorded in the storage and survives a restart") {
  Fixture f;
  auto [made, name] = f.Lock("ro1", "lock before restart");
  REQUIRE(made == 200);
  f.Restart();
  CHECK(f.Delete("ro2", name) == 403);
  CHECK(f.Delete("ro1", name) == 200);
  // Nothing is left beside the locks: no record, no temporary file (only the mutex).
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(f.LocksDir()))
    left.push_back(e.path().filename().string());
  CHECK(left == std::vector<std::string>{".mutex"});
}

TEST_CASE("a lock without a record (made before records existed) needs delete") {
  Fixture f;
  std::string content = "legacy lock", name = Sha256Hex(content);
  std::ofstream(f.LocksDir() + "/" + name) << content;
  CHECK(f.Delete("ro1", name) == 403);
  CHECK(f.Delete("append", name) == 403);
  CHECK(f.Delete("admin", name) == 200);
  CHECK_FALSE(fs::exists(f.LocksDir() + "/" + name));
}

TEST_CASE("lock records are never listed and never downloadable") {
  Fixture f;
  auto [a, first] = f.Lock("ro1", "lock one");
  auto [b, second] = f.Lock("ro2", "lock two");
  REQUIRE((a == 200 && b == 200));
  auto list = f.Call(http::Method::kGet, "ro1", "laptop/locks/");
  REQUIRE(list.stream);
  std::string json = ReadAll(*list.stream);
  bool order = json == "[\"" + first + "\",\"" + second + "\"]" ||
               json == "[\"" + second + "\",\"" + first + "\"]";
  INFO(json);
  CHECK(order);
  CHECK(fs::exists(f.LocksDir() + "/.creator-" + first));
  CHECK(f.Call(http::Method::kGet, "ro1", "laptop/locks/.creator-" + first).status == 404);
}

TEST_CASE("lock files are capped in size") {
  Fixture f;
  std::string big(backup::kMaxLockBytes + 1, 'x');
  auto too_big = f.Lock("ro1", big);
  CHECK(too_big.first == 413);
  CHECK(f.Head(too_big.second) == 404);
  std::string largest(backup::kMaxLockBytes, 'y');
  CHECK(f.Lock("ro1", largest).first == 200);
  // Other objects keep the object cap.
  CHECK(f.Call(http::Method::kPost, "append", "laptop/keys/" + Sha256Hex(big), big).status == 200);
}

TEST_CASE("lock files are capped in number per repository") {
  Fixture f;
  // Filled by many grants, none beyond its own cap.
  auto creator = [](std::size_t i) {
    return "r" + std::to_string(i / backup::kMaxLocksPerCreator);
  };
  STATIC_REQUIRE(backup::kMaxLocksPerRepo / backup::kMaxLocksPerCreator < 64);
  std::vector<std::string> names;
  for (std::size_t i = 0; i < backup::kMaxLocksPerRepo; ++i) {
    auto [status, name] = f.Lock(creator(i).c_str(), "lock " + std::to_string(i));
    REQUIRE(status == 200);
    names.push_back(name);
  }
  auto refused = f.Call(http::Method::kPost, "ro1", "laptop/locks/" + Sha256Hex("one too many"),
                        "one too many");
  CHECK(refused.status == 429);
  bool retry_after = false;
  for (const auto& [k, v] : refused.headers) retry_after |= k == "Retry-After" && v == "30";
  CHECK(retry_after);
  CHECK(f.Head(Sha256Hex("one too many")) == 404);
  CHECK(f.Lock("admin", "even with every right").first == 429);
  // Other objects are not locks.
  CHECK(f.Call(http::Method::kPost, "append", "laptop/index/" + Sha256Hex("idx"), "idx").status ==
        200);
  CHECK(f.Delete(creator(1).c_str(), names[1]) == 200);
  CHECK(f.Lock("ro1", "one too many").first == 200);
  CHECK(f.Lock("ro2", "and now one more").first == 429);
}

TEST_CASE("one grant cannot take a repository's locks: it is capped, others are not") {
  Fixture f;
  std::vector<std::string> mine;
  for (std::size_t i = 0; i < backup::kMaxLocksPerCreator; ++i) {
    auto [status, name] = f.Lock("ro1", "ro1 lock " + std::to_string(i));
    REQUIRE(status == 200);
    mine.push_back(name);
  }
  // Beyond its own cap: the repository's cap status, and nothing is left behind.
  auto refused =
      f.Call(http::Method::kPost, "ro1", "laptop/locks/" + Sha256Hex("ro1 beyond"), "ro1 beyond");
  CHECK(refused.status == 429);
  CHECK(f.Head(Sha256Hex("ro1 beyond")) == 404);
  CHECK_FALSE(fs::exists(f.LocksDir() + "/.creator-" + Sha256Hex("ro1 beyond")));
  // Every other grant still locks: another read-only one, backup, prune.
  CHECK(f.Lock("ro2", "ro2 lock").first == 200);
  CHECK(f.Lock("append", "backup lock").first == 200);
  CHECK(f.Lock("admin", "prune lock").first == 200);
  // ro1 is still at its cap: the others' locks changed nothing for it.
  CHECK(f.Lock("ro1", "ro1 beyond").first == 429);
  // Removing one of its own makes room again, after a restart as well.
  CHECK(f.Delete("ro1", mine[0]) == 200);
  f.Restart();
  CHECK(f.Lock("ro1", "ro1 beyond").first == 200);
  CHECK(f.Lock("ro1", "ro1 beyond again").first == 429);
}

TEST_CASE("the per-grant lock cap is exact when locks are committed concurrently") {
  Fixture f;
  for (std::size_t i = 0; i + 1 < backup::kMaxLocksPerCreator; ++i) {
    REQUIRE(f.Lock("ro1", "ro1 lock " + std::to_string(i)).first == 200);
  }
  // Two uploads begun while one more fits: only the first to commit is taken.
  std::string a = "last one", b = "racing one";
  auto first = f.storage->BeginLock(backup::AccountId{3}, "laptop", Sha256Hex(a), a.size(), "ro1",
                                    backup::kMaxLocksPerRepo);
  auto second = f.storage->BeginLock(backup::AccountId{3}, "laptop", Sha256Hex(b), b.size(), "ro1",
                                     backup::kMaxLocksPerRepo);
  REQUIRE((first && second));
  REQUIRE((*first)->Write(a.data(), a.size()));
  REQUIRE((*second)->Write(b.data(), b.size()));
  CHECK((*first)->Commit(Sha256Hex(a)));
  auto late = (*second)->Commit(Sha256Hex(b));
  REQUIRE_FALSE(late);
  CHECK(late.error() == backup::StorageError::kTooMany);
  CHECK(f.Head(Sha256Hex(b)) == 404);
  // Another grant is still free to lock.
  CHECK(f.storage->BeginLock(backup::AccountId{3}, "laptop", Sha256Hex(b), b.size(), "ro2",
                             backup::kMaxLocksPerRepo));
}
