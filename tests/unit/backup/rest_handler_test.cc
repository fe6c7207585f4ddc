#include "backup/rest_handler.h"

#include <catch2/catch.hpp>
#include <map>

#include "crypto/keyring.h"
#include "store/database.h"

using namespace tessera;

namespace {
// Storage that only counts: the test is about what never reaches it.
class CountingStorage final : public backup::Storage {
 public:
  int calls = 0;
  std::expected<void, backup::StorageError> CreateRepo(std::string_view, std::string_view) override {
    ++calls;
    return {};
  }
  bool RepoExists(std::string_view, std::string_view) override { return ++calls, true; }
  std::expected<std::unique_ptr<backup::ObjectReader>, backup::StorageError> Open(
      std::string_view, std::string_view, std::string_view, std::string_view) override {
    ++calls;
    return std::unexpected(backup::StorageError::kNotFound);
  }
  std::expected<std::unique_ptr<backup::ObjectWriter>, backup::StorageError> BeginWrite(
      std::string_view, std::string_view, std::string_view, std::string_view) override {
    ++calls;
    return std::unexpected(backup::StorageError::kIo);
  }
  std::expected<std::vector<backup::ObjectInfo>, backup::StorageError> List(
      std::string_view, std::string_view, std::string_view) override {
    ++calls;
    return std::vector<backup::ObjectInfo>{};
  }
  std::expected<void, backup::StorageError> Remove(std::string_view, std::string_view, std::string_view,
                                                   std::string_view) override {
    ++calls;
    return {};
  }
};

// An AuthStore that knows only grants (and can be down); the handler needs nothing else.
class GrantStore final : public store::AuthStore {
 public:
  std::map<std::string, store::GrantRecord> grants;
  bool down = false;
  int lookups = 0;
  std::expected<std::optional<store::GrantRecord>, store::StoreError> FindGrant(std::string_view jti) override {
    ++lookups;
    if (down) return std::unexpected(store::StoreError::kUnavailable);
    auto it = grants.find(std::string(jti));
    if (it == grants.end()) return std::optional<store::GrantRecord>{};
    return it->second;
  }
  std::expected<std::optional<store::AccountRecord>, store::StoreError> FindAccount(std::string_view) override {
    return std::unexpected(store::StoreError::kUnavailable);
  }
  std::expected<void, store::StoreError> ReplacePasswordHash(std::string_view, std::string_view,
                                                             std::string_view) override {
    return {};
  }
  std::expected<std::int64_t, store::StoreError> ReserveAttempt(std::string_view, std::string_view,
                                                                const store::ThrottlePolicy&) override {
    return 0;
  }
  std::expected<void, store::StoreError> ReleaseAttempt(std::string_view, std::string_view) override {
    return {};
  }
  std::expected<void, store::StoreError> Audit(std::string_view, std::string_view, std::string_view,
                                               std::string_view) override {
    return {};
  }
  std::expected<bool, store::StoreError> StartSession(std::string_view, const store::SessionTicket&) override {
    return false;
  }
  std::expected<bool, store::StoreError> ContinueSession(std::string_view, std::string_view,
                                                         const store::SessionTicket&) override {
    return false;
  }
  std::expected<std::vector<store::SessionTicket>, store::StoreError> EndSession(const store::SessionTicket&,
                                                                                 std::string_view) override {
    return std::vector<store::SessionTicket>{};
  }
  std::expected<std::int64_t, store::StoreError> Prune(const store::RetentionPolicy&) override { return 0; }
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

http::Response Get(const backup::RestHandler& h, const std::string& token, store::AuthStore& db) {
  http::Request r;
  r.method = http::Method::kGet;
  r.headers.emplace_back("authorization", "Bearer " + token);
  return h.Handle(r, "laptop/keys/", db);
}
}  // namespace

TEST_CASE("a token whose subject is not a userid never reaches storage") {
  clock::FixedClock clock(1800000000);
  auto ring = std::make_shared<crypto::Keyring>(crypto::SecretKey::Generate());
  auth::TokenFactory tokens("srv", ring, clock);
  auth::SessionCache cache(std::chrono::milliseconds(60000));
  // Even if the account and grant tables held such a name (their SQL CHECK forbids it).
  cache.Load({{"alice@pbs", {true, std::nullopt, 0}}, {"../bob@pbs", {true, std::nullopt, 0}}}, {},
             {{"g1", ReadGrant("alice@pbs", false)}, {"g2", ReadGrant("../bob@pbs", false)}});
  CountingStorage storage;
  GrantStore db;
  backup::RestHandler handler(storage, tokens, cache, clock, 1 << 20);

  auto good = tokens.Create({"alice@pbs", {true, false, false}, std::nullopt, std::chrono::hours(1), "g1"});
  CHECK(Get(handler, *good, db).status == 200);
  CHECK(storage.calls == 1);

  auto bad = tokens.Create({"../bob@pbs", {true, false, false}, std::nullopt, std::chrono::hours(1), "g2"});
  CHECK(Get(handler, *bad, db).status == 401);
  CHECK(storage.calls == 1);
}

TEST_CASE("a grant the cache has not heard of yet is looked up once, then remembered") {
  clock::FixedClock clock(1800000000);
  auto ring = std::make_shared<crypto::Keyring>(crypto::SecretKey::Generate());
  auth::TokenFactory tokens("srv", ring, clock);
  auth::SessionCache cache(std::chrono::milliseconds(60000));
  cache.Load({{"alice@pbs", {true, std::nullopt, 0}}}, {});
  CountingStorage storage;
  GrantStore db;
  backup::RestHandler handler(storage, tokens, cache, clock, 1 << 20);
  auto token = [&](const char* jti) {
    return *tokens.Create({"alice@pbs", {true, false, false}, std::nullopt, std::chrono::hours(1), jti});
  };

  db.grants["fresh"] = ReadGrant("alice@pbs", false);
  CHECK(Get(handler, token("fresh"), db).status == 200);
  CHECK(Get(handler, token("fresh"), db).status == 200);
  CHECK(db.lookups == 1);  // the second request was answered from memory

  CHECK(Get(handler, token("missing"), db).status == 401);
  db.grants["bobs"] = ReadGrant("bob@pbs", false);
  CHECK(Get(handler, token("bobs"), db).status == 401);      // another account's grant
  db.grants["revoked"] = ReadGrant("alice@pbs", true);
  CHECK(Get(handler, token("revoked"), db).status == 401);
  db.down = true;
  CHECK(Get(handler, token("unknown-while-down"), db).status == 503);
  CHECK(storage.calls == 2);
}
