#include "auth/session_cache.h"

#include <catch2/catch.hpp>
#include <thread>

using namespace tessera;
using auth::SessionCheck;

TEST_CASE("session cache answers from loaded state") {
  auth::SessionCache cache(std::chrono::milliseconds(1000));
  CHECK(cache.Check("alice@pbs", 100, "r", 100) == SessionCheck::kUnavailable);  // never loaded
  cache.Load({{"alice@pbs", {true, std::nullopt, 50}}, {"bob@pbs", {false, std::nullopt, 0}},
              {"carol@pbs", {true, 90, 0}}},
             {{"revoked", 9999}});
  CHECK(cache.Check("alice@pbs", 100, "x", 100) == SessionCheck::kOk);
  CHECK(cache.Check("alice@pbs", 49, "x", 100) == SessionCheck::kSessionEnded);
  CHECK(cache.Check("alice@pbs", 100, "revoked", 100) == SessionCheck::kRevoked);
  CHECK(cache.Check("bob@pbs", 100, "x", 100) == SessionCheck::kDisabled);
  CHECK(cache.Check("carol@pbs", 100, "x", 100) == SessionCheck::kAccountExpired);
  CHECK(cache.Check("dave@pbs", 100, "x", 100) == SessionCheck::kUnknownAccount);
  cache.SetAccount("alice@pbs", std::nullopt);
  CHECK(cache.Check("alice@pbs", 100, "x", 100) == SessionCheck::kUnknownAccount);
  cache.AddRevocation("later", 9999, 100);
  CHECK(cache.Check("carol@pbs", 100, "later", 80) == SessionCheck::kRevoked);
}

TEST_CASE("session cache fails closed when the listener is lost or stale") {
  auth::SessionCache cache(std::chrono::milliseconds(50));
  cache.Load({{"alice@pbs", {true, std::nullopt, 0}}}, {});
  CHECK(cache.Check("alice@pbs", 100, "x", 100) == SessionCheck::kOk);
  std::this_thread::sleep_for(std::chrono::milliseconds(80));
  CHECK(cache.Check("alice@pbs", 100, "x", 100) == SessionCheck::kUnavailable);
  cache.MarkFresh();
  CHECK(cache.Check("alice@pbs", 100, "x", 100) == SessionCheck::kOk);
  cache.MarkLost();
  CHECK(cache.Check("alice@pbs", 100, "x", 100) == SessionCheck::kUnavailable);
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
             {{"g1", MakeGrant("alice@pbs", false, 500)}, {"g2", MakeGrant("alice@pbs", true, 500)},
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
