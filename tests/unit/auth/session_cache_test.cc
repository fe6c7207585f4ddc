#include "auth/session_cache.h"

#include <catch2/catch.hpp>

#include "store/sql_text.h"

using namespace tessera;
using auth::SessionCheck;

TEST_CASE("session cache answers from loaded state") {
  auth::SessionCache cache(std::chrono::milliseconds(1000));
  CHECK(cache.CheckTicket("alice@pbs", 100, "r", 100) ==
        SessionCheck::kUnavailable);  // never loaded
  cache.Load({{"alice@pbs", {true, std::nullopt, 50}},
              {"bob@pbs", {false, std::nullopt, 0}},
              {"carol@pbs", {true, 90, 0}}},
             {{"revoked", 9999}});
  CHECK(cache.CheckTicket("alice@pbs", 100, "x", 100) == SessionCheck::kOk);
  CHECK(cache.CheckTicket("alice@pbs", 49, "x", 100) == SessionCheck::kSessionEnded);
  CHECK(cache.CheckTicket("alice@pbs", 100, "revoked", 100) == SessionCheck::kRevoked);
  CHECK(cache.CheckTicket("bob@pbs", 100, "x", 100) == SessionCheck::kDisabled);
  CHECK(cache.CheckTicket("carol@pbs", 100, "x", 100) == SessionCheck::kAccountExpired);
  CHECK(cache.CheckTicket("dave@pbs", 100, "x", 100) == SessionCheck::kUnknownAccount);
  cache.SetAccount("alice@pbs", std::nullopt);
  CHECK(cache.CheckTicket("alice@pbs", 100, "x", 100) == SessionCheck::kUnknownAccount);
  cache.AddRevocation("later", 9999, 100);
  CHECK(cache.CheckTicket("carol@pbs", 100, "later", 80) == SessionCheck::kRevoked);
}

TEST_CASE("session cache fails closed when the listener is lost or stale") {
  clock::ManualSteadyClock steady;
  auth::SessionCache cache(std::chrono::milliseconds(50), steady);
  cache.Load({{"alice@pbs", {true, std::nullopt, 0}}}, {},
             {{"g1", store::GrantRecord{"alice@pbs", 7, true, false, false, std::nullopt, false,
                                        500, "g1"}}});
  CHECK(cache.CheckTicket("alice@pbs", 100, "x", 100) == SessionCheck::kOk);
  steady.Advance(std::chrono::milliseconds(50));  // exactly the bound: still fresh
  CHECK(cache.IsFresh());
  CHECK(cache.CheckTicket("alice@pbs", 100, "x", 100) == SessionCheck::kOk);
  steady.Advance(std::chrono::milliseconds(1));
  CHECK_FALSE(cache.IsFresh());
  // Every kind of check answers from the one freshness check.
  CHECK(cache.CheckTicket("alice@pbs", 100, "x", 100) == SessionCheck::kUnavailable);
  CHECK(cache.CheckAccount("alice@pbs", 100) == SessionCheck::kUnavailable);
  CHECK(cache.CheckGrant("g1", "alice@pbs", 100).error() == SessionCheck::kUnavailable);
  cache.MarkFresh();
  CHECK(cache.CheckTicket("alice@pbs", 100, "x", 100) == SessionCheck::kOk);
  CHECK(cache.CheckGrant("g1", "alice@pbs", 100).has_value());
  cache.MarkLost();
  CHECK(cache.CheckTicket("alice@pbs", 100, "x", 100) == SessionCheck::kUnavailable);
  CHECK(cache.CheckAccount("alice@pbs", 100) == SessionCheck::kUnavailable);
}

namespace {
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
}  // namespace

TEST_CASE("token grants: present for the account, unrevoked, unexpired") {
  auth::SessionCache cache(std::chrono::milliseconds(1000));
  cache.Load({{"alice@pbs", {true, std::nullopt, 0}}, {"bob@pbs", {false, std::nullopt, 0}}}, {},
             {{"g1", MakeGrant("alice@pbs", false, 500)},
              {"g2", MakeGrant("alice@pbs", true, 500)},
              {"g3", MakeGrant("bob@pbs", false, 500)}});
  auto ok = cache.CheckGrant("g1", "alice@pbs", 100);
  REQUIRE(ok);
  CHECK(ok->account_id == 7);
  CHECK(ok->read);
  CHECK_FALSE(ok->write);
  CHECK(Refusal(cache.CheckGrant("g1", "alice@pbs", 500)) == SessionCheck::kGrantExpired);
  CHECK(Refusal(cache.CheckGrant("g1", "bob@pbs", 100)) == SessionCheck::kDisabled);
  CHECK(Refusal(cache.CheckGrant("g1", "carol@pbs", 100)) == SessionCheck::kUnknownAccount);
  CHECK(Refusal(cache.CheckGrant("g2", "alice@pbs", 100)) == SessionCheck::kRevoked);
  CHECK(Refusal(cache.CheckGrant("g3", "alice@pbs", 100)) == SessionCheck::kUnknownGrant);  // bob's
  CHECK(Refusal(cache.CheckGrant("nope", "alice@pbs", 100)) == SessionCheck::kUnknownGrant);
  cache.SetGrant("g1", MakeGrant("alice@pbs", true, 500));
  CHECK(Refusal(cache.CheckGrant("g1", "alice@pbs", 100)) == SessionCheck::kRevoked);
  cache.SetGrant("g1", std::nullopt);
  CHECK(Refusal(cache.CheckGrant("g1", "alice@pbs", 100)) == SessionCheck::kUnknownGrant);
}

namespace {
using Fetched = std::expected<std::optional<auth::Grant>, store::StoreError>;
constexpr std::int64_t kNow = 100;

void LoadAlice(auth::SessionCache& cache) {
  cache.Load({{"alice@pbs", {true, std::nullopt, 0}}}, {});
}
}  // namespace

TEST_CASE("a grant missing from the cache is fetched once, then remembered") {
  auth::SessionCache cache(std::chrono::milliseconds(60000));
  cache.Load({{"alice@pbs", {true, std::nullopt, 0}}}, {});
  int fetches = 0;
  auto fetch = [&](std::string_view jti) -> Fetched {
    ++fetches;
    CHECK(jti == "g1");
    return MakeGrant("alice@pbs", false, 500);
  };
  auto first = cache.CheckGrant("g1", "alice@pbs", kNow, fetch);
  REQUIRE(first);
  CHECK(first->read);
  CHECK(cache.CheckGrant("g1", "alice@pbs", kNow, fetch));
  CHECK(fetches == 1);

  // No row: unknown, and asked again next time (a grant may be minted at any moment).
  auto none = [&](std::string_view) -> Fetched {
    ++fetches;
    return std::optional<auth::Grant>{};
  };
  CHECK(Refusal(cache.CheckGrant("g2", "alice@pbs", kNow, none)) == SessionCheck::kUnknownGrant);
  CHECK(Refusal(cache.CheckGrant("g2", "alice@pbs", kNow, none)) == SessionCheck::kUnknownGrant);
  CHECK(fetches == 3);

  // The database cannot be asked: 503, not 401.
  auto down = [](std::string_view) -> Fetched {
    return std::unexpected(store::StoreError::kUnavailable);
  };
  CHECK(Refusal(cache.CheckGrant("g3", "alice@pbs", kNow, down)) == SessionCheck::kUnavailable);

  // A row of another account is never honoured, and an unknown account is never fetched for.
  auto bobs = [&](std::string_view) -> Fetched {
    ++fetches;
    return MakeGrant("bob@pbs", false, 500);
  };
  CHECK(Refusal(cache.CheckGrant("g4", "alice@pbs", kNow, bobs)) == SessionCheck::kUnknownGrant);
  CHECK(Refusal(cache.CheckGrant("g5", "carol@pbs", kNow, bobs)) == SessionCheck::kUnknownAccount);
  CHECK(fetches == 4);
}

TEST_CASE("a revocation applied while a grant is fetched wins over the row fetched before it") {
  auth::SessionCache cache(std::chrono::milliseconds(60000));
  LoadAlice(cache);
  // The fetcher read the row before the revocation committed; the listener applies the
  // revocation before the fetcher returns.
  auto racing = [&](std::string_view) -> Fetched {
    cache.SetGrant("g1", MakeGrant("alice@pbs", true, 500));
    return MakeGrant("alice@pbs", false, 500);
  };
  CHECK(Refusal(cache.CheckGrant("g1", "alice@pbs", kNow, racing)) == SessionCheck::kRevoked);
  CHECK(Refusal(cache.CheckGrant("g1", "alice@pbs", kNow)) == SessionCheck::kRevoked);
}

TEST_CASE("a grant deleted while it is fetched is read again, not put back") {
  auth::SessionCache cache(std::chrono::milliseconds(60000));
  LoadAlice(cache);
  int fetches = 0;
  // First read: the row as it was; meanwhile the listener applies its deletion. Second read: gone.
  auto racing = [&](std::string_view) -> Fetched {
    if (++fetches == 1) {
      cache.SetGrant("g1", std::nullopt);
      return MakeGrant("alice@pbs", false, 500);
    }
    return std::optional<auth::Grant>{};
  };
  CHECK(Refusal(cache.CheckGrant("g1", "alice@pbs", kNow, racing)) == SessionCheck::kUnknownGrant);
  CHECK(fetches == 2);
  CHECK(Refusal(cache.CheckGrant("g1", "alice@pbs", kNow)) == SessionCheck::kUnknownGrant);
}

TEST_CASE("a full reload during a fetch makes the fetched row stale") {
  auth::SessionCache cache(std::chrono::milliseconds(60000));
  LoadAlice(cache);
  int fetches = 0;
  // Each read races a reload that does not hold the grant: nothing read is ever kept.
  auto racing = [&](std::string_view) -> Fetched {
    ++fetches;
    cache.Load({{"alice@pbs", {true, std::nullopt, 0}}}, {});
    return MakeGrant("alice@pbs", false, 500);
  };
  CHECK(Refusal(cache.CheckGrant("g1", "alice@pbs", kNow, racing)) == SessionCheck::kUnknownGrant);
  CHECK(fetches == 2);
  CHECK(Refusal(cache.CheckGrant("g1", "alice@pbs", kNow)) == SessionCheck::kUnknownGrant);

  // A reload that holds the revoked grant decides.
  auto reloaded = [&](std::string_view) -> Fetched {
    cache.Load({{"alice@pbs", {true, std::nullopt, 0}}}, {},
               {{"g2", MakeGrant("alice@pbs", true, 500)}});
    return MakeGrant("alice@pbs", false, 500);
  };
  CHECK(Refusal(cache.CheckGrant("g2", "alice@pbs", kNow, reloaded)) == SessionCheck::kRevoked);
}

TEST_CASE("a change to another grant during a fetch does not spoil it") {
  auth::SessionCache cache(std::chrono::milliseconds(60000));
  LoadAlice(cache);
  auto busy = [&](std::string_view) -> Fetched {
    cache.SetGrant("other", MakeGrant("alice@pbs", true, 500));
    return MakeGrant("alice@pbs", false, 500);
  };
  CHECK(cache.CheckGrant("g1", "alice@pbs", kNow, busy));
  CHECK(cache.CheckGrant("g1", "alice@pbs", kNow));
}

TEST_CASE("grant and account edits apply: rights, repository, expiry, infinities") {
  auth::SessionCache cache(std::chrono::milliseconds(60000));
  LoadAlice(cache);
  auth::Grant g = MakeGrant("alice@pbs", false, store::kEndOfTime);
  g.write = true;
  cache.SetGrant("g1", g);
  CHECK(cache.CheckGrant("g1", "alice@pbs", kNow)->write);
  g.write = false;
  g.repo = "other";
  cache.SetGrant("g1", g);
  auto narrowed = cache.CheckGrant("g1", "alice@pbs", kNow);
  REQUIRE(narrowed);
  CHECK_FALSE(narrowed->write);
  CHECK(narrowed->repo == "other");
  g.expires_at = store::kBeginningOfTime;
  cache.SetGrant("g1", g);
  CHECK(Refusal(cache.CheckGrant("g1", "alice@pbs", kNow)) == SessionCheck::kGrantExpired);

  cache.SetAccount("alice@pbs", store::AccountState{true, store::kEndOfTime, 0});
  CHECK(cache.CheckAccount("alice@pbs", kNow) == SessionCheck::kOk);
  cache.SetAccount("alice@pbs", store::AccountState{true, store::kBeginningOfTime, 0});
  CHECK(cache.CheckAccount("alice@pbs", kNow) == SessionCheck::kAccountExpired);
  cache.AddRevocation("forever", store::kEndOfTime, kNow);
  cache.SetAccount("alice@pbs", store::AccountState{true, std::nullopt, 0});
  CHECK(cache.CheckTicket("alice@pbs", kNow, "forever", kNow) == SessionCheck::kRevoked);
}
