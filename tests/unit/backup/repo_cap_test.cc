// Repository caps at the restic handler (backup/repo_book.h) over a real storage directory and
// in-memory books: creations count toward the account's cap (the default, or the account's own),
// the one past it is refused with 403 naming the cap and makes nothing in storage, creating an
// existing repository always succeeds, a database that does not answer refuses with 503, a
// failed storage creation gives its slot back, and snapshots are counted as they come and go.
#include <sodium.h>
#include <stdlib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

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

constexpr std::int64_t kCarol = 5;
constexpr std::int64_t kDave = 6;
constexpr std::uint64_t kCap = 3;

struct Fixture : testing::HandlerStack {
  Fixture() : HandlerStack("repocap", kCap) {
    cache.Load({{"carol@pbs", {true, std::nullopt, 0}}, {"dave@pbs", {true, std::nullopt, 0}}}, {},
               {{"carol", testing::Grant("carol@pbs", kCarol, true, true, true)},
                {"dave", testing::Grant("dave@pbs", kDave, true, true, true)}});
  }
  http::Response Call(http::Method m, const std::string& path, std::string body = "",
                      std::string query = "", const char* jti = "carol") {
    return Send(std::string(jti) + "@pbs", jti, m, path, std::move(body), std::move(query));
  }
  http::Response Create(const std::string& repo, const char* jti = "carol") {
    return Call(http::Method::kPost, repo + "/", "", "create=true", jti);
  }
  bool OnDisk(std::int64_t account, const std::string& repo) const {
    return fs::is_directory(root + "/" + std::to_string(account) + "/" + repo + "/keys");
  }
};

}  // namespace

TEST_CASE("repository creations count toward the cap; the one past it is refused with 403") {
  Fixture f;
  for (int i = 0; i < static_cast<int>(kCap); ++i) {
    CHECK(f.Create("r" + std::to_string(i)).status == 200);
  }
  CHECK(f.repo_db.Held(kCarol) == kCap);
  http::Response refused = f.Create("one-more");
  CHECK(refused.status == 403);
  CHECK(refused.body.find("limit of 3 repositories") != std::string::npos);
  CHECK(refused.reason == "Forbidden: repository limit of 3 reached");
  CHECK(http::ReasonPhraseOf(refused) == "Forbidden: repository limit of 3 reached");
  CHECK_FALSE(f.OnDisk(kCarol, "one-more"));
  CHECK(f.repo_db.Held(kCarol) == kCap);
  // Another account's cap is its own.
  CHECK(f.Create("one-more", "dave").status == 200);
  CHECK(f.OnDisk(kDave, "one-more"));
}

TEST_CASE("creating an existing repository again always succeeds, also at the cap") {
  Fixture f;
  for (int i = 0; i < static_cast<int>(kCap); ++i)
    REQUIRE(f.Create("r" + std::to_string(i)).status == 200);
  CHECK(f.Create("r1").status == 200);
  CHECK(f.repo_db.Held(kCarol) == kCap);
  // A repository made before repositories were counted (in storage, not in the books) is not a
  // new one either: it is entered in the books, past the cap.
  REQUIRE(f.storage->CreateRepo(backup::AccountId{kCarol}, "old"));
  CHECK(f.Create("old").status == 200);
  CHECK(f.repo_db.rows.contains({kCarol, "old"}));
  // In the books but gone from storage: made again, not counted again.
  fs::remove_all(f.root + "/5/r2");
  CHECK(f.Create("r2").status == 200);
  CHECK(f.OnDisk(kCarol, "r2"));
  CHECK(f.repo_db.Held(kCarol) == kCap + 1);
}

TEST_CASE("an account's own repository cap overrides the default, both ways") {
  Fixture f;
  f.repo_db.caps[kCarol] = 5;
  f.repo_db.caps[kDave] = 0;
  for (int i = 0; i < 5; ++i) CHECK(f.Create("r" + std::to_string(i)).status == 200);
  http::Response refused = f.Create("r5");
  CHECK(refused.status == 403);
  CHECK(refused.body.find("limit of 5 repositories") != std::string::npos);
  CHECK(f.Create("r0", "dave").status == 403);
  CHECK_FALSE(f.OnDisk(kDave, "r0"));
}

TEST_CASE("a database that does not answer refuses a new repository with 503") {
  Fixture f;
  REQUIRE(f.Create("laptop").status == 200);
  f.repo_db.down = true;
  http::Response refused = f.Create("desktop");
  CHECK(refused.status == 503);
  CHECK(refused.body.find("database unavailable") != std::string::npos);
  bool retry_after = false;
  for (const auto& [name, value] : refused.headers) retry_after |= name == "Retry-After";
  CHECK(retry_after);
  CHECK_FALSE(f.OnDisk(kCarol, "desktop"));
  // An existing one is no new repository: still fine.
  CHECK(f.Create("laptop").status == 200);
  f.repo_db.down = false;
  CHECK(f.Create("desktop").status == 200);
}

TEST_CASE("a creation the storage refuses gives its slot back") {
  Fixture f;
  // A file where the account's directory would go: mkdir fails below it.
  {
    std::ofstream(f.root + "/5") << "x";
  }
  CHECK(f.Create("laptop").status != 200);
  CHECK(f.repo_db.Held(kCarol) == 0);
}

TEST_CASE("snapshots are counted in the books as they are stored and removed") {
  Fixture f;
  REQUIRE(f.Create("laptop").status == 200);
  std::string first = "snapshot one", second = "snapshot two";
  CHECK(f.Call(http::Method::kPost, "laptop/snapshots/" + Sha256Hex(first), first).status == 200);
  f.repo_db.now += 60;
  CHECK(f.Call(http::Method::kPost, "laptop/snapshots/" + Sha256Hex(second), second).status == 200);
  // Other objects are not snapshots.
  CHECK(f.Call(http::Method::kPost, "laptop/index/" + Sha256Hex(first), first).status == 200);
  auto row = f.repo_db.rows.at({kCarol, "laptop"});
  CHECK(row.first == 2);
  CHECK(row.second == 1800000060);
  CHECK(f.Call(http::Method::kDelete, "laptop/snapshots/" + Sha256Hex(first)).status == 200);
  // A second DELETE of the same snapshot removes nothing and counts nothing.
  CHECK(f.Call(http::Method::kDelete, "laptop/snapshots/" + Sha256Hex(first)).status == 200);
  row = f.repo_db.rows.at({kCarol, "laptop"});
  CHECK(row.first == 1);
  CHECK(row.second == 1800000060);
  CHECK(f.Call(http::Method::kDelete, "laptop/snapshots/" + Sha256Hex(second)).status == 200);
  CHECK(f.repo_db.rows.at({kCarol, "laptop"}).first == 0);
  CHECK(f.repo_db.rows.at({kCarol, "laptop"}).second == 0);
}
