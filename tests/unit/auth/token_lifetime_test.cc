#include "auth/token_lifetime.h"

#include <catch2/catch.hpp>

#include "store/sql_text.h"

using namespace tessera;
using auth::GrantRefusal;
using std::chrono::seconds;

TEST_CASE("token lifetimes parse in seconds, minutes, hours and days, up to ten years") {
  struct Case {
    const char* text;
    std::optional<seconds> want;
  };
  const Case cases[] = {
      {"90", seconds(90)},
      {"90s", seconds(90)},
      {"15m", seconds(900)},
      {"12h", seconds(43200)},
      {"30d", seconds(2592000)},
      {"3660d", auth::kLongestTokenLifetime},
      {"3661d", std::nullopt},
      {"0", std::nullopt},
      {"-5m", std::nullopt},
      {"", std::nullopt},
      {"d", std::nullopt},
      {"1w", std::nullopt},
      {"1.5h", std::nullopt},
      {" 1h", std::nullopt},
      {"1h ", std::nullopt},
      {"99999999999999999999", std::nullopt},
      {"9223372036854775807s", std::nullopt},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    CHECK(auth::ParseLifetime(c.text) == c.want);
  }
}

TEST_CASE("a re-minted token lives as long as its grant has left, at most ten years") {
  constexpr std::int64_t kNow = 1800000000;
  CHECK(auth::LifetimeForGrant(false, kNow + 3600, kNow).value() == seconds(3600));
  CHECK(auth::LifetimeForGrant(false, kNow + 1, kNow).value() == seconds(1));
  CHECK(auth::LifetimeForGrant(false, store::kEndOfTime, kNow).value() ==
        auth::kLongestTokenLifetime);
  CHECK(auth::LifetimeForGrant(false, kNow + 20LL * 366 * 86400, kNow).value() ==
        auth::kLongestTokenLifetime);
}

TEST_CASE("no token is re-minted for a revoked or expired grant") {
  constexpr std::int64_t kNow = 1800000000;
  CHECK(auth::LifetimeForGrant(false, kNow, kNow).error() == GrantRefusal::kExpired);
  CHECK(auth::LifetimeForGrant(false, store::kBeginningOfTime, kNow).error() ==
        GrantRefusal::kExpired);
  CHECK(auth::LifetimeForGrant(true, kNow + 3600, kNow).error() == GrantRefusal::kRevoked);
  CHECK(auth::LifetimeForGrant(true, kNow - 1, kNow).error() == GrantRefusal::kRevoked);
}
