#include "auth/session_cache.h"

#include <catch2/catch.hpp>
#include <functional>
#include <string>
#include <unordered_map>

#include "store/sql_text.h"

using namespace tessera;
using auth::SessionCheck;
using namespace std::chrono_literals;

namespace {
constexpr std::int64_t kNow = 100;

// PostgreSQL as the cache sees it: rows by key, counted reads, and a hook that runs after a row
// was read and before it is returned (where the listener applies a change that raced the read).
class FakeSource final : public store::CacheSource {
 public:
  std::unordered_map<std::string, store::AccountState> accounts;
  std::unordered_map<std::string, auth::Grant> grants;
  int account_reads = 0;
  int grant_reads = 0;
  bool down = false;
  std::function<void()> after_grant_read;
  std::function<void()> after_account_read;

  std::expected<std::optional<store::AccountState>, store::StoreError> FindAccountState(
      std::string_view userid) override {
    ++account_reads;
    if (down) return std::unexpected(store::StoreError::kUnavailable);
    std::optional<store::AccountState> row;
    if (auto it = accounts.find(std::string(userid)); it != accounts.end()) row = it->second;
    if (after_account_read) after_account_read();
    return row;
  }
  std::expected<std::optional<auth::Grant>, store::StoreError> FindGrant(
      std::string_view jti) override {
    ++grant_reads;
    if (down) return std::unexpected(store::StoreError::kUnavailable);
    std::optional<auth::Grant> row;
    if (auto it = grants.find(std::string(jti)); it != grants.end()) row = it->second;
    if (after_grant_read) after_grant_read();
    return row;
  }
};

auth::Grant MakeGrant(std::string userid, bool revoked, std::int64_t expires_at) {
  auth::Grant g;
  g.userid = std::move(userid);
  g.account_id = 7;
  g.read = true;
  g.revoked = revoked;
  g.expires_at = expires_at;
  return g;
}

SessionCheck Refusal(const std::expected<auth::Grant, SessionCheck>& r) {
  return r ? SessionCheck::kOk : r.error();
}

// A cache over `source` whose listener has connected (nothing held yet).
struct Fixture {
  explicit Fixture(std::size_t entries = 1024, std::chrono::milliseconds staleness = 60000ms)
      : cache(source, staleness, entries, steady) {
    source.accounts["alice@pbs"] = {true, std::nullopt, 0};
    cache.Reset({});
  }
  FakeSource source;
  clock::ManualSteadyClock steady;
  auth::SessionCache cache;
};
}  // namespace

TEST_CASE("session cache answers ticket checks from what it reads") {
  Fixture f;
  f.source.accounts = {{"alice@pbs", {true, std::nullopt, 50}},
                       {"bob@pbs", {false, std::nullopt, 0}},
                       {"carol@pbs", {true, 90, 0}}};
  f.cache.Reset({{"revoked", 9999}});
  CHECK(f.cache.CheckTicket("alice@pbs", 100, "x", 100) == SessionCheck::kOk);
  CHECK(f.cache.CheckTicket("alice@pbs", 49, "x", 100) == SessionCheck::kSessionEnded);
  CHECK(f.cache.CheckTicket("alice@pbs", 100, "revoked", 100) == SessionCheck::kRevoked);
  CHECK(f.cache.CheckTicket("bob@pbs", 100, "x", 100) == SessionCheck::kDisabled);
  CHECK(f.cache.CheckTicket("carol@pbs", 100, "x", 100) == SessionCheck::kAccountExpired);
  CHECK(f.cache.CheckTicket("dave@pbs", 100, "x", 100) == SessionCheck::kUnknownAccount);
  CHECK(f.source.account_reads == 4);  // each account once
  f.source.accounts.erase("alice@pbs");
  CHECK(f.cache.CheckTicket("alice@pbs", 100, "x", 100) == SessionCheck::kOk);  // not told yet
  f.cache.ForgetAccount("alice@pbs");
  CHECK(f.cache.CheckTicket("alice@pbs", 100, "x", 100) == SessionCheck::kUnknownAccount);
  f.cache.AddRevocation("later", 9999, 100);
  CHECK(f.cache.CheckTicket("carol@pbs", 100, "later", 80) == SessionCheck::kRevoked);
}

TEST_CASE("session cache fails closed when the listener is lost or stale") {
  Fixture f(1024, 50ms);
  f.source.grants["g1"] = MakeGrant("alice@pbs", false, 500);
  f.source.accounts["bob@pbs"] = {true, std::nullopt, 0};
  CHECK(f.cache.CheckTicket("alice@pbs", 100, "x", 100) == SessionCheck::kOk);
  CHECK(f.cache.CheckGrant("g1", "alice@pbs", 100).has_value());
  f.steady.Advance(50ms);  // exactly the bound: still fresh
  CHECK(f.cache.IsFresh());
  CHECK(f.cache.CheckTicket("alice@pbs", 100, "x", 100) == SessionCheck::kOk);
  f.steady.Advance(1ms);
  CHECK_FALSE(f.cache.IsFresh());
  int reads = f.source.account_reads + f.source.grant_reads;
  // Every kind of check answers from the one freshness check, held entries and misses alike;
  // a stale cache reads nothing either.
  CHECK(f.cache.CheckTicket("alice@pbs", 100, "x", 100) == SessionCheck::kUnavailable);
  CHECK(f.cache.CheckAccount("alice@pbs", 100) == SessionCheck::kUnavailable);
  CHECK(f.cache.CheckAccount("bob@pbs", 100) == SessionCheck::kUnavailable);
  CHECK(f.cache.CheckGrant("g1", "alice@pbs", 100).error() == SessionCheck::kUnavailable);
  CHECK(f.source.account_reads + f.source.grant_reads == reads);
  f.cache.MarkFresh();
  CHECK(f.cache.CheckTicket("alice@pbs", 100, "x", 100) == SessionCheck::kOk);
  CHECK(f.cache.CheckGrant("g1", "alice@pbs", 100).has_value());
  f.cache.MarkLost();
  CHECK(f.cache.CheckTicket("alice@pbs", 100, "x", 100) == SessionCheck::kUnavailable);
  CHECK(f.cache.CheckAccount("alice@pbs", 100) == SessionCheck::kUnavailable);
  CHECK(f.cache.CheckGrant("g1", "alice@pbs", 100).error() == SessionCheck::kUnavailable);

  // Never started: unavailable.
  FakeSource source;
  auth::SessionCache never(source, 1000ms, 16);
  CHECK(never.CheckTicket("alice@pbs", 100, "r", 100) == SessionCheck::kUnavailable);
  CHECK(source.account_reads == 0);
}

TEST_CASE("token grants: present for the account, unrevoked, unexpired") {
  Fixture f;
  f.source.accounts["bob@pbs"] = {false, std::nullopt, 0};
  f.source.grants = {{"g1", MakeGrant("alice@pbs", false, 500)},
                     {"g2", MakeGrant("alice@pbs", true, 500)},
                     {"g3", MakeGrant("bob@pbs", false, 500)}};
  auto ok = f.cache.CheckGrant("g1", "alice@pbs", 100);
  REQUIRE(ok);
  CHECK(ok->account_id == 7);
  CHECK(ok->read);
  CHECK_FALSE(ok->write);
  CHECK(Refusal(f.cache.CheckGrant("g1", "alice@pbs", 500)) == SessionCheck::kGrantExpired);
  CHECK(Refusal(f.cache.CheckGrant("g1", "bob@pbs", 100)) == SessionCheck::kDisabled);
  CHECK(Refusal(f.cache.CheckGrant("g1", "carol@pbs", 100)) == SessionCheck::kUnknownAccount);
  CHECK(Refusal(f.cache.CheckGrant("g2", "alice@pbs", 100)) == SessionCheck::kRevoked);
  CHECK(Refusal(f.cache.CheckGrant("g3", "alice@pbs", 100)) == SessionCheck::kUnknownGrant);
  CHECK(Refusal(f.cache.CheckGrant("nope", "alice@pbs", 100)) == SessionCheck::kUnknownGrant);
  f.source.grants["g1"].revoked = true;
  f.cache.ForgetGrant("g1");
  CHECK(Refusal(f.cache.CheckGrant("g1", "alice@pbs", 100)) == SessionCheck::kRevoked);
  f.source.grants.erase("g1");
  f.cache.ForgetGrant("g1");
  CHECK(Refusal(f.cache.CheckGrant("g1", "alice@pbs", 100)) == SessionCheck::kUnknownGrant);
}

TEST_CASE("a held grant costs no read; a missing one is read once, then held") {
  Fixture f;
  f.source.grants["g1"] = MakeGrant("alice@pbs", false, 500);
  auto first = f.cache.CheckGrant("g1", "alice@pbs", kNow);
  REQUIRE(first);
  CHECK(first->read);
  CHECK(f.source.grant_reads == 1);
  CHECK(f.source.account_reads == 1);
  for (int i = 0; i < 100; ++i) REQUIRE(f.cache.CheckGrant("g1", "alice@pbs", kNow));
  CHECK(f.source.grant_reads == 1);
  CHECK(f.source.account_reads == 1);
  CHECK(f.cache.grants_held() == 1);
  CHECK(f.cache.accounts_held() == 1);
  // What the source answers later does not matter until the listener says the row changed.
  f.source.grants["g1"].revoked = true;
  CHECK(f.cache.CheckGrant("g1", "alice@pbs", kNow));
  CHECK(f.source.grant_reads == 1);
}

TEST_CASE("a grant with no row is remembered until its jti is notified") {
  Fixture f;
  for (int i = 0; i < 5; ++i) {
    CHECK(Refusal(f.cache.CheckGrant("g2", "alice@pbs", kNow)) == SessionCheck::kUnknownGrant);
  }
  CHECK(f.source.grant_reads == 1);  // a deleted grant's token does not cost a query a request
  CHECK(f.cache.grants_held() == 1);
  // The grant is inserted: its notification makes the cache read it again.
  f.source.grants["g2"] = MakeGrant("alice@pbs", false, 500);
  f.cache.ForgetGrant("g2");
  CHECK(f.cache.CheckGrant("g2", "alice@pbs", kNow));
  CHECK(f.source.grant_reads == 2);
  // A notification of another jti leaves it alone.
  f.cache.ForgetGrant("g3");
  CHECK(f.cache.CheckGrant("g2", "alice@pbs", kNow));
  CHECK(f.source.grant_reads == 2);
  // Not a jti: nothing is asked, nothing honoured.
  CHECK(Refusal(f.cache.CheckGrant("no jti", "alice@pbs", kNow)) == SessionCheck::kUnknownGrant);
  CHECK(f.source.grant_reads == 2);
}

TEST_CASE("an account with no row is remembered until it is notified") {
  Fixture f;
  CHECK(f.cache.CheckAccount("dave@pbs", kNow) == SessionCheck::kUnknownAccount);
  CHECK(f.cache.CheckTicket("dave@pbs", kNow, "x", kNow) == SessionCheck::kUnknownAccount);
  CHECK(f.source.account_reads == 1);
  f.source.accounts["dave@pbs"] = {true, std::nullopt, 0};
  f.cache.ForgetAccount("dave@pbs");
  CHECK(f.cache.CheckAccount("dave@pbs", kNow) == SessionCheck::kOk);
  CHECK(f.source.account_reads == 2);
  // Not a userid: nothing is asked.
  CHECK(f.cache.CheckAccount("no-realm", kNow) == SessionCheck::kUnknownAccount);
  CHECK(f.source.account_reads == 2);
}

TEST_CASE("a read that fails answers unavailable and leaves nothing behind") {
  Fixture f;
  f.source.grants["g3"] = MakeGrant("alice@pbs", false, 500);
  f.source.down = true;
  CHECK(f.cache.CheckAccount("alice@pbs", kNow) == SessionCheck::kUnavailable);
  CHECK(f.cache.accounts_held() == 0);
  f.source.down = false;
  REQUIRE(f.cache.CheckAccount("alice@pbs", kNow) == SessionCheck::kOk);
  f.source.down = true;
  CHECK(Refusal(f.cache.CheckGrant("g3", "alice@pbs", kNow)) == SessionCheck::kUnavailable);
  CHECK(f.cache.grants_held() == 0);
  f.source.down = false;
  CHECK(f.cache.CheckGrant("g3", "alice@pbs", kNow));
}

TEST_CASE("a grant of another account is never honoured, nor read for an unknown account") {
  Fixture f;
  f.source.grants["g4"] = MakeGrant("bob@pbs", false, 500);
  CHECK(Refusal(f.cache.CheckGrant("g4", "alice@pbs", kNow)) == SessionCheck::kUnknownGrant);
  CHECK(Refusal(f.cache.CheckGrant("g4", "alice@pbs", kNow)) == SessionCheck::kUnknownGrant);
  CHECK(f.source.grant_reads == 1);
  CHECK(Refusal(f.cache.CheckGrant("g5", "carol@pbs", kNow)) == SessionCheck::kUnknownAccount);
  CHECK(f.source.grant_reads == 1);
}

TEST_CASE("a revocation applied while a grant is read wins over the row read before it") {
  Fixture f;
  f.source.grants["g1"] = MakeGrant("alice@pbs", false, 500);
  // The read saw the row before the revocation committed; the listener hears of the revocation
  // before the read returns.
  f.source.after_grant_read = [&] {
    f.source.after_grant_read = nullptr;
    f.source.grants["g1"].revoked = true;
    f.cache.ForgetGrant("g1");
  };
  CHECK(Refusal(f.cache.CheckGrant("g1", "alice@pbs", kNow)) == SessionCheck::kRevoked);
  CHECK(f.source.grant_reads == 2);
  CHECK(Refusal(f.cache.CheckGrant("g1", "alice@pbs", kNow)) == SessionCheck::kRevoked);
  CHECK(f.source.grant_reads == 2);  // the second row was kept
}

TEST_CASE("a grant deleted while it is read is read again, not put back") {
  Fixture f;
  f.source.grants["g1"] = MakeGrant("alice@pbs", false, 500);
  f.source.after_grant_read = [&] {
    f.source.after_grant_read = nullptr;
    f.source.grants.erase("g1");
    f.cache.ForgetGrant("g1");
  };
  CHECK(Refusal(f.cache.CheckGrant("g1", "alice@pbs", kNow)) == SessionCheck::kUnknownGrant);
  CHECK(f.source.grant_reads == 2);
  CHECK(Refusal(f.cache.CheckGrant("g1", "alice@pbs", kNow)) == SessionCheck::kUnknownGrant);
}

TEST_CASE("an account disabled while it is read is read again") {
  Fixture f;
  f.source.accounts["bob@pbs"] = {true, std::nullopt, 0};
  f.source.after_account_read = [&] {
    f.source.after_account_read = nullptr;
    f.source.accounts["bob@pbs"].enabled = false;
    f.cache.ForgetAccount("bob@pbs");
  };
  CHECK(f.cache.CheckAccount("bob@pbs", kNow) == SessionCheck::kDisabled);
  CHECK(f.source.account_reads == 2);
  CHECK(f.cache.CheckAccount("bob@pbs", kNow) == SessionCheck::kDisabled);
  CHECK(f.source.account_reads == 2);
}

TEST_CASE("a start-over during a read keeps the row read out of the cache") {
  Fixture f;
  REQUIRE(f.cache.CheckAccount("alice@pbs", kNow) == SessionCheck::kOk);
  f.source.grants["g1"] = MakeGrant("alice@pbs", false, 500);
  // Each read races a start-over (a reconnect, or a '*'): nothing read is kept. The last read
  // began after the first start-over and answers the request.
  f.source.after_grant_read = [&] { f.cache.Reset({}); };
  CHECK(f.cache.CheckGrant("g1", "alice@pbs", kNow));
  CHECK(f.source.grant_reads == 2);
  CHECK(f.cache.grants_held() == 0);
  // The row that a start-over raced is not trusted from the cache later: it is read again.
  f.source.after_grant_read = nullptr;
  f.source.grants["g1"].revoked = true;
  CHECK(Refusal(f.cache.CheckGrant("g1", "alice@pbs", kNow)) == SessionCheck::kRevoked);
  CHECK(f.source.grant_reads == 3);
}

TEST_CASE("a change to another grant during a read does not spoil it") {
  Fixture f;
  f.source.grants["g1"] = MakeGrant("alice@pbs", false, 500);
  f.source.after_grant_read = [&] { f.cache.ForgetGrant("other"); };
  CHECK(f.cache.CheckGrant("g1", "alice@pbs", kNow));
  CHECK(f.source.grant_reads == 1);
  CHECK(f.cache.CheckGrant("g1", "alice@pbs", kNow));
  CHECK(f.source.grant_reads == 1);
}

TEST_CASE("a reconnect forgets every account and grant and replaces the revocations") {
  Fixture f;
  f.source.grants["g1"] = MakeGrant("alice@pbs", false, 500);
  f.cache.AddRevocation("old", 9999, kNow);
  REQUIRE(f.cache.CheckGrant("g1", "alice@pbs", kNow));
  REQUIRE(f.cache.CheckGrant("gone", "alice@pbs", kNow).error() == SessionCheck::kUnknownGrant);
  REQUIRE(f.cache.CheckTicket("alice@pbs", kNow, "old", kNow) == SessionCheck::kRevoked);
  CHECK(f.cache.grants_held() == 2);
  CHECK(f.cache.accounts_held() == 1);
  // While the listener was away, the grant was revoked and the other one inserted.
  f.cache.MarkLost();
  f.source.grants["g1"].revoked = true;
  f.source.grants["gone"] = MakeGrant("alice@pbs", false, 500);
  f.cache.Reset({{"new", 9999}});
  CHECK(f.cache.grants_held() == 0);
  CHECK(f.cache.accounts_held() == 0);
  CHECK(Refusal(f.cache.CheckGrant("g1", "alice@pbs", kNow)) == SessionCheck::kRevoked);
  CHECK(f.cache.CheckGrant("gone", "alice@pbs", kNow));
  CHECK(f.cache.CheckTicket("alice@pbs", kNow, "old", kNow) == SessionCheck::kOk);
  CHECK(f.cache.CheckTicket("alice@pbs", kNow, "new", kNow) == SessionCheck::kRevoked);
}

TEST_CASE("the cache holds no more than its bound, and keeps the entries in use") {
  constexpr std::size_t kEntries = 16;
  Fixture f(kEntries);
  for (int i = 0; i < 200; ++i) {
    std::string user = "user" + std::to_string(i) + "@pbs";
    std::string jti = "g" + std::to_string(i);
    f.source.accounts[user] = {true, std::nullopt, 0};
    f.source.grants[jti] = MakeGrant(user, false, 500);
  }
  // A working set of 4 accounts and grants in steady use, and 200 others used once each.
  auto working_set = [&] {
    for (int i = 0; i < 4; ++i) {
      std::string user = "user" + std::to_string(i) + "@pbs";
      REQUIRE(f.cache.CheckGrant("g" + std::to_string(i), user, kNow));
    }
  };
  working_set();
  int reads = f.source.grant_reads;
  for (int i = 4; i < 200; ++i) {
    std::string user = "user" + std::to_string(i) + "@pbs";
    REQUIRE(f.cache.CheckGrant("g" + std::to_string(i), user, kNow));
    REQUIRE(f.cache.grants_held() <= kEntries);
    REQUIRE(f.cache.accounts_held() <= kEntries);
    if (i % 4 == 0) working_set();
  }
  CHECK(f.source.grant_reads == reads + 196);  // the working set was never read again
  CHECK(f.cache.grants_held() == kEntries);
  // Negative entries count against the same bound.
  for (int i = 0; i < 100; ++i) {
    (void)f.cache.CheckGrant("missing" + std::to_string(i), "user0@pbs", kNow);
    REQUIRE(f.cache.grants_held() <= kEntries);
  }
}

TEST_CASE("grant and account edits apply: rights, repository, expiry, infinities") {
  Fixture f;
  auth::Grant& g = f.source.grants["g1"] = MakeGrant("alice@pbs", false, store::kEndOfTime);
  g.write = true;
  CHECK(f.cache.CheckGrant("g1", "alice@pbs", kNow)->write);
  g.write = false;
  g.repo = "other";
  f.cache.ForgetGrant("g1");
  auto narrowed = f.cache.CheckGrant("g1", "alice@pbs", kNow);
  REQUIRE(narrowed);
  CHECK_FALSE(narrowed->write);
  CHECK(narrowed->repo == "other");
  g.expires_at = store::kBeginningOfTime;
  f.cache.ForgetGrant("g1");
  CHECK(Refusal(f.cache.CheckGrant("g1", "alice@pbs", kNow)) == SessionCheck::kGrantExpired);

  f.source.accounts["alice@pbs"] = {true, store::kEndOfTime, 0};
  f.cache.ForgetAccount("alice@pbs");
  CHECK(f.cache.CheckAccount("alice@pbs", kNow) == SessionCheck::kOk);
  f.source.accounts["alice@pbs"] = {true, store::kBeginningOfTime, 0};
  f.cache.ForgetAccount("alice@pbs");
  CHECK(f.cache.CheckAccount("alice@pbs", kNow) == SessionCheck::kAccountExpired);
  f.cache.AddRevocation("forever", store::kEndOfTime, kNow);
  f.source.accounts["alice@pbs"] = {true, std::nullopt, 0};
  f.cache.ForgetAccount("alice@pbs");
  CHECK(f.cache.CheckTicket("alice@pbs", kNow, "forever", kNow) == SessionCheck::kRevoked);
}

TEST_CASE("load holds what it is given without reading") {
  FakeSource source;
  auth::SessionCache cache(source, 60000ms, 64);
  cache.Load({{"alice@pbs", {true, std::nullopt, 0}}}, {{"r", 9999}},
             {{"g1", MakeGrant("alice@pbs", false, 500)}});
  CHECK(cache.CheckGrant("g1", "alice@pbs", kNow));
  CHECK(cache.CheckTicket("alice@pbs", kNow, "r", kNow) == SessionCheck::kRevoked);
  CHECK(source.account_reads + source.grant_reads == 0);
}

TEST_CASE("one account cycling through many grants never pushes out another account's") {
  constexpr std::size_t kEntries = 1024;  // an account's share: 64
  Fixture f(kEntries);
  f.source.accounts["bob@pbs"] = {true, std::nullopt, 0};
  for (int i = 0; i < 3; ++i)
    f.source.grants["b" + std::to_string(i)] = MakeGrant("bob@pbs", false, 500);
  for (int i = 0; i < 5000; ++i)
    f.source.grants["a" + std::to_string(i)] = MakeGrant("alice@pbs", false, 500);
  // bob's grants are read once and then left idle (a nightly backup's tokens).
  for (int i = 0; i < 3; ++i) REQUIRE(f.cache.CheckGrant("b" + std::to_string(i), "bob@pbs", kNow));
  const int bob_reads = f.source.grant_reads;
  // alice uses 5000 grants (and tokens naming grants that do not exist) in a loop, twice.
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 5000; ++i) {
      REQUIRE(f.cache.CheckGrant("a" + std::to_string(i), "alice@pbs", kNow));
      (void)f.cache.CheckGrant("nothing" + std::to_string(i), "alice@pbs", kNow);
      REQUIRE(f.cache.grants_held() <= auth::GrantShare(kEntries) + 3);
    }
  }
  CHECK(auth::GrantShare(kEntries) == 64);
  CHECK(f.cache.grants_held() == 64 + 3);
  CHECK(f.source.grant_reads == bob_reads + 4 * 5000);  // every one of alice's was a miss
  // bob's are all still held: checking them reads nothing.
  for (int i = 0; i < 3; ++i) CHECK(f.cache.CheckGrant("b" + std::to_string(i), "bob@pbs", kNow));
  CHECK(f.source.grant_reads == bob_reads + 4 * 5000);
}
