#include "backup/rest_handler.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <map>

#include "crypto/keyring.h"
#include "fake_repo_store.h"
#include "fake_usage_store.h"
#include "store/database.h"

using namespace tessera;

namespace {
// Storage that only counts: the test is about what never reaches it.
class EmptyLister final : public backup::ObjectLister {
 public:
  std::expected<std::optional<backup::ObjectInfo>, backup::StorageError> Next() override {
    return std::optional<backup::ObjectInfo>{};
  }
};

// Storage that only counts, and remembers which owner and repository it was last asked about.
class CountingStorage final : public backup::Storage {
 public:
  int calls = 0;
  std::int64_t last_owner = 0;
  std::string last_repo;
  backup::StorageError open_error = backup::StorageError::kNotFound;  // what Open answers
  std::expected<void, backup::StorageError> CreateRepo(backup::AccountId owner,
                                                       std::string_view repo) override {
    Note(owner, repo);
    return {};
  }
  bool RepoExists(backup::AccountId owner, std::string_view repo) override {
    return Note(owner, repo), true;
  }
  std::expected<std::unique_ptr<backup::ObjectReader>, backup::StorageError> Open(
      backup::AccountId owner, std::string_view repo, std::string_view, std::string_view) override {
    Note(owner, repo);
    return std::unexpected(open_error);
  }
  std::expected<std::unique_ptr<backup::ObjectWriter>, backup::StorageError> BeginWrite(
      backup::AccountId owner, std::string_view repo, std::string_view, std::string_view,
      std::uint64_t) override {
    Note(owner, repo);
    return std::unexpected(backup::StorageError::kIo);
  }
  std::expected<std::unique_ptr<backup::ObjectWriter>, backup::StorageError> BeginLock(
      backup::AccountId owner, std::string_view repo, std::string_view, std::uint64_t,
      std::string_view, std::size_t) override {
    Note(owner, repo);
    return std::unexpected(backup::StorageError::kIo);
  }
  std::expected<void, backup::StorageError> RemoveLock(backup::AccountId owner,
                                                       std::string_view repo, std::string_view,
                                                       std::optional<std::string_view>) override {
    Note(owner, repo);
    return {};
  }
  std::expected<std::vector<backup::RepoUsage>, backup::StorageError> Usage(
      backup::AccountId, std::size_t, const std::function<bool(std::string_view)>&) override {
    return std::vector<backup::RepoUsage>{};
  }
  std::expected<std::unique_ptr<backup::ObjectLister>, backup::StorageError> List(
      backup::AccountId owner, std::string_view repo, std::string_view) override {
    Note(owner, repo);
    return std::make_unique<EmptyLister>();
  }
  std::expected<std::optional<std::uint64_t>, backup::StorageError> Remove(
      backup::AccountId owner, std::string_view repo, std::string_view, std::string_view) override {
    Note(owner, repo);
    return std::nullopt;
  }

 private:
  void Note(backup::AccountId owner, std::string_view repo) {
    ++calls;
    last_owner = static_cast<std::int64_t>(owner);
    last_repo = repo;
  }
};

// Grants only (and a database that can be down): what the session cache reads from PostgreSQL
// for the handler. No account but those the cache holds.
class FakeGrants final : public store::CacheSource {
 public:
  std::map<std::string, store::GrantRecord> grants;
  bool down = false;
  int lookups = 0;
  std::expected<std::optional<store::AccountState>, store::StoreError> FindAccountState(
      std::string_view) override {
    if (down) return std::unexpected(store::StoreError::kUnavailable);
    return std::optional<store::AccountState>{};
  }
  std::expected<std::optional<store::GrantRecord>, store::StoreError> FindGrant(
      std::string_view jti) override {
    ++lookups;
    if (down) return std::unexpected(store::StoreError::kUnavailable);
    auto it = grants.find(std::string(jti));
    if (it == grants.end()) return std::optional<store::GrantRecord>{};
    return it->second;
  }
};

// A read-only grant of `userid` until 1900000000.
store::GrantRecord ReadGrant(std::string userid, bool revoked) {
  store::GrantRecord g;
  g.userid = std::move(userid);
  g.account_id = 1;
  g.read = true;
  g.revoked = revoked;
  g.expires_at = 1900000000;
  return g;
}

http::Response Get(const backup::RestHandler& h, const std::string& token,
                   std::string_view path = "laptop/keys/") {
  http::Request r;
  r.method = http::Method::kGet;
  r.headers.emplace_back("authorization", "Bearer " + token);
  return h.Handle(r, path);
}

// A handler over a cache that knows alice@pbs (account id 7) and the given grants.
struct Fixture {
  clock::FixedClock clock{1800000000};
  std::shared_ptr<crypto::Keyring> ring =
      std::make_shared<crypto::Keyring>(crypto::SecretKey::Generate());
  auth::TokenFactory tokens{"srv", ring, clock};
  FakeGrants db;
  auth::SessionCache cache{db, std::chrono::milliseconds(60000), 1024};
  CountingStorage storage;
  auth::Authenticator authenticator{tokens, cache, clock};
  testing::FakeUsageStore usage_db;
  backup::UsageLedger usage{usage_db, storage, clock, "test"};
  testing::FakeRepoStore repo_db;
  backup::RepoBook repos{repo_db, backup::kDefaultRepoCap};
  backup::RestHandler handler{storage, authenticator, usage, repos, 1 << 20};

  std::string Token(const char* jti, std::optional<std::string> repo = std::nullopt) {
    return *tokens.Create(
        {"alice@pbs", {true, false, false}, std::move(repo), std::chrono::hours(1), jti});
  }
};
}  // namespace

TEST_CASE("a token whose subject is not a userid never reaches storage") {
  clock::FixedClock clock(1800000000);
  auto ring = std::make_shared<crypto::Keyring>(crypto::SecretKey::Generate());
  auth::TokenFactory tokens("srv", ring, clock);
  FakeGrants db;
  auth::SessionCache cache(db, std::chrono::milliseconds(60000), 1024);
  // Even if the account and grant tables held such a name (their SQL CHECK forbids it).
  cache.Load({{"alice@pbs", {true, std::nullopt, 0}}, {"../bob@pbs", {true, std::nullopt, 0}}}, {},
             {{"g1", ReadGrant("alice@pbs", false)}, {"g2", ReadGrant("../bob@pbs", false)}});
  CountingStorage storage;
  auth::Authenticator authenticator(tokens, cache, clock);
  testing::FakeUsageStore usage_db;
  backup::UsageLedger usage(usage_db, storage, clock, "test");
  testing::FakeRepoStore repo_db;
  backup::RepoBook repos(repo_db, backup::kDefaultRepoCap);
  backup::RestHandler handler(storage, authenticator, usage, repos, 1 << 20);

  auto good =
      tokens.Create({"alice@pbs", {true, false, false}, std::nullopt, std::chrono::hours(1), "g1"});
  CHECK(Get(handler, *good).status == 200);
  CHECK(storage.calls == 1);

  auto bad = tokens.Create(
      {"../bob@pbs", {true, false, false}, std::nullopt, std::chrono::hours(1), "g2"});
  CHECK(Get(handler, *bad).status == 401);
  CHECK(storage.calls == 1);
}

TEST_CASE("a grant the cache does not hold is looked up once, then remembered") {
  clock::FixedClock clock(1800000000);
  auto ring = std::make_shared<crypto::Keyring>(crypto::SecretKey::Generate());
  auth::TokenFactory tokens("srv", ring, clock);
  FakeGrants db;
  auth::SessionCache cache(db, std::chrono::milliseconds(60000), 1024);
  cache.Load({{"alice@pbs", {true, std::nullopt, 0}}}, {});
  CountingStorage storage;
  auth::Authenticator authenticator(tokens, cache, clock);
  testing::FakeUsageStore usage_db;
  backup::UsageLedger usage(usage_db, storage, clock, "test");
  testing::FakeRepoStore repo_db;
  backup::RepoBook repos(repo_db, backup::kDefaultRepoCap);
  backup::RestHandler handler(storage, authenticator, usage, repos, 1 << 20);
  auto token = [&](const char* jti) {
    return *tokens.Create(
        {"alice@pbs", {true, false, false}, std::nullopt, std::chrono::hours(1), jti});
  };

  db.grants["fresh"] = ReadGrant("alice@pbs", false);
  CHECK(Get(handler, token("fresh")).status == 200);
  CHECK(Get(handler, token("fresh")).status == 200);
  CHECK(db.lookups == 1);  // the second request was answered from memory

  CHECK(Get(handler, token("missing")).status == 401);
  db.grants["bobs"] = ReadGrant("bob@pbs", false);
  CHECK(Get(handler, token("bobs")).status == 401);  // another account's grant
  db.grants["revoked"] = ReadGrant("alice@pbs", true);
  CHECK(Get(handler, token("revoked")).status == 401);
  db.down = true;
  CHECK(Get(handler, token("unknown-while-down")).status == 503);
  CHECK(storage.calls == 2);
}

TEST_CASE("storage is keyed on the grant's account id, never the token's subject") {
  Fixture f;
  store::GrantRecord g = ReadGrant("alice@pbs", false);
  g.account_id = 7;
  store::GrantRecord no_id = ReadGrant("alice@pbs", false);
  no_id.account_id = 0;
  f.cache.Load({{"alice@pbs", {true, std::nullopt, 0}}}, {}, {{"g", g}, {"no-id", no_id}});
  CHECK(Get(f.handler, f.Token("g")).status == 200);
  CHECK(f.storage.last_owner == 7);
  CHECK(f.storage.last_repo == "laptop");
  // A row without an account id reaches nothing.
  CHECK(Get(f.handler, f.Token("no-id")).status == 401);
  CHECK(f.storage.calls == 1);
}

TEST_CASE("a token or grant whose repository is not a valid path reaches nothing") {
  Fixture f;
  const std::string hex(64, 'a');
  auto scoped = [&](std::optional<std::string> repo) {
    store::GrantRecord g = ReadGrant("alice@pbs", false);
    g.repo = std::move(repo);
    return g;
  };
  // Before the reserved words, a grant for "r1/keys/<hex>" opened "r1/keys/<hex>/config": the
  // config of a repository that lives inside r1's key object.
  f.cache.Load({{"alice@pbs", {true, std::nullopt, 0}}}, {},
               {{"shadow", scoped("r1/keys/" + hex)},
                {"dots", scoped("..")},
                {"any", scoped(std::nullopt)},
                {"laptop", scoped("laptop")}});
  for (const std::string& path :
       {"r1/keys/" + hex + "/config", "r1/keys/" + hex + "/keys/", "r1/keys/" + hex + "/"}) {
    INFO(path);
    CHECK(Get(f.handler, f.Token("shadow"), path).status == 404);
    CHECK(Get(f.handler, f.Token("shadow"), "laptop/keys/").status == 403);
    CHECK(Get(f.handler, f.Token("any", "r1/keys/" + hex), path).status == 404);
  }
  CHECK(Get(f.handler, f.Token("dots"), "laptop/keys/").status == 403);
  CHECK(Get(f.handler, f.Token("any", ".."), "laptop/keys/").status == 403);
  CHECK(Get(f.handler, f.Token("any", "data"), "laptop/keys/").status == 403);
  CHECK(f.storage.calls == 0);
  // The same grant and token with a valid repository reach it.
  CHECK(Get(f.handler, f.Token("laptop", "laptop"), "laptop/keys/").status == 200);
  CHECK(f.storage.calls == 1);
}

TEST_CASE("a store that is down is 503 with Retry-After, any other storage failure 500") {
  Fixture f;
  f.cache.Load({{"alice@pbs", {true, std::nullopt, 0}}}, {},
               {{"g", ReadGrant("alice@pbs", false)}});
  f.storage.open_error = backup::StorageError::kUnavailable;
  http::Response down = Get(f.handler, f.Token("g"), "laptop/config");
  CHECK(down.status == 503);
  auto retry = std::find_if(down.headers.begin(), down.headers.end(),
                            [](const auto& h) { return h.first == "Retry-After"; });
  REQUIRE(retry != down.headers.end());
  CHECK(retry->second == "10");
  f.storage.open_error = backup::StorageError::kIo;
  CHECK(Get(f.handler, f.Token("g"), "laptop/config").status == 500);
  f.storage.open_error = backup::StorageError::kNotFound;
  CHECK(Get(f.handler, f.Token("g"), "laptop/config").status == 404);
}
