#include "auth/fair_share.h"

#include <catch2/catch.hpp>
#include <deque>
#include <optional>
#include <string>

using namespace tessera;
using auth::ShareRefusal;

namespace {

auth::ShareLimits Limits(int per_account, int per_grant, int total, int reserve) {
  return {per_account, per_grant, total, reserve};
}

// Requests in flight: each admitted one is kept here until the test lets it go.
struct InFlight {
  explicit InFlight(auth::FairShare& s) : shares(s) {}
  auth::FairShare& shares;
  std::deque<http::Request> requests;

  std::optional<ShareRefusal> Admit(std::string tenant, std::string grant = "") {
    requests.emplace_back();
    auto admitted = shares.Admit(requests.back(), tenant, grant);
    if (admitted) return std::nullopt;
    requests.pop_back();
    return admitted.error();
  }
};

}  // namespace

TEST_CASE("an account holds at most its share of requests in flight") {
  auth::FairShare shares(Limits(3, 100, 128, 16));
  InFlight f(shares);
  for (int i = 0; i < 3; ++i) CHECK_FALSE(f.Admit("alice").has_value());
  CHECK(f.Admit("alice") == ShareRefusal::kAccount);
  CHECK(shares.InFlight("alice") == 3);
  // Another account is not touched by alice's share.
  CHECK_FALSE(f.Admit("bob").has_value());
  // A request that ends gives its share back.
  f.requests.pop_front();
  CHECK(shares.InFlight("alice") == 2);
  CHECK_FALSE(f.Admit("alice").has_value());
}

TEST_CASE("a token holds at most its own share, within its account's") {
  auth::FairShare shares(Limits(4, 2, 128, 16));
  InFlight f(shares);
  CHECK_FALSE(f.Admit("alice", "laptop").has_value());
  CHECK_FALSE(f.Admit("alice", "laptop").has_value());
  CHECK(f.Admit("alice", "laptop") == ShareRefusal::kGrant);
  // The account's other token still gets in, up to the account's share.
  CHECK_FALSE(f.Admit("alice", "desktop").has_value());
  CHECK_FALSE(f.Admit("alice", "desktop").has_value());
  CHECK(f.Admit("alice", "server") == ShareRefusal::kAccount);
  CHECK(shares.InFlight() == 4);
}

TEST_CASE("near the worker's last threads an account over an equal split waits") {
  // 10 threads, 2 of them the reserve: 8 shared. Two accounts of 5 each could take 10.
  auth::FairShare shares(Limits(5, 5, 10, 2));
  InFlight f(shares);
  for (int i = 0; i < 5; ++i) REQUIRE_FALSE(f.Admit("alice").has_value());
  for (int i = 0; i < 3; ++i) REQUIRE_FALSE(f.Admit("bob").has_value());
  // 8 in flight: the reserve starts. The split among alice and bob is 4: bob (3) is under it.
  CHECK_FALSE(f.Admit("bob").has_value());
  CHECK(f.Admit("bob") == ShareRefusal::kFull);
  // carol holds nothing: the split of three is 2, so she gets in where alice and bob do not.
  CHECK(f.Admit("alice") == ShareRefusal::kAccount);
  CHECK_FALSE(f.Admit("carol").has_value());
  CHECK(shares.InFlight() == 10);
}

TEST_CASE("a request authenticated twice holds one share") {
  auth::FairShare shares(Limits(1, 1, 128, 16));
  http::Request request;
  REQUIRE(shares.Admit(request, "alice", "laptop").has_value());
  CHECK(shares.Admit(request, "alice", "laptop").has_value());
  CHECK(shares.InFlight("alice") == 1);
}

TEST_CASE("a share lives as long as the last copy of its request") {
  auth::FairShare shares(Limits(1, 1, 128, 16));
  {
    http::Request request;
    REQUIRE(shares.Admit(request, "alice", "").has_value());
    http::Request copy = request;
    request = http::Request();
    CHECK(shares.InFlight("alice") == 1);
  }
  CHECK(shares.InFlight("alice") == 0);
  CHECK(shares.InFlight() == 0);
}

TEST_CASE("new limits apply to the requests admitted after them") {
  auth::FairShare shares(Limits(2, 2, 128, 16));
  InFlight f(shares);
  REQUIRE_FALSE(f.Admit("alice").has_value());
  REQUIRE_FALSE(f.Admit("alice").has_value());
  shares.SetLimits(Limits(1, 1, 128, 16));
  CHECK(shares.InFlight("alice") == 2);  // nothing in flight is cut
  f.requests.pop_front();
  CHECK(f.Admit("alice") == ShareRefusal::kAccount);
  shares.SetLimits(Limits(3, 3, 128, 16));
  CHECK_FALSE(f.Admit("alice").has_value());
}

TEST_CASE("the reserve is an eighth of the threads, at least 4, at most half") {
  CHECK(auth::SharesFor(128, 16, 8).reserve == 16);
  CHECK(auth::SharesFor(128, 16, 8).total == 128);
  CHECK(auth::SharesFor(16, 16, 8).reserve == 4);
  CHECK(auth::SharesFor(4, 16, 8).reserve == 2);
  CHECK(auth::SharesFor(1, 16, 8).reserve == 0);
  CHECK(auth::SharesFor(1024, 16, 8).reserve == 128);
}
