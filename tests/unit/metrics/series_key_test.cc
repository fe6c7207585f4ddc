// Series keys (metrics/series_key.h): values round-trip, whatever bytes they hold, and decoding
// refuses every malformed key with its own error instead of throwing.
#include "metrics/series_key.h"

#include <catch2/catch.hpp>
#include <string>
#include <string_view>
#include <vector>

using namespace tessera::metrics;

TEST_CASE("series keys give back the values they were made of") {
  const std::vector<std::vector<std::string_view>> cases = {
      {},
      {""},
      {"", ""},
      {"alice@pbs", "laptop", "data"},
      {"1:x", ""},
      {"1", "x"},
      {std::string_view("a\0b", 3), "10:", ":"},
  };
  for (const auto& values : cases) {
    std::string key = EncodeSeriesKey(values);
    INFO(key);
    auto decoded = DecodeSeriesKey(key);
    REQUIRE(decoded);
    CHECK(*decoded == std::vector<std::string>(values.begin(), values.end()));
  }
  std::vector<std::string_view> a = {"1:x", ""}, b = {"1", "x"};
  CHECK(EncodeSeriesKey(a) == "3:1:x0:");
  CHECK(EncodeSeriesKey(b) == "1:11:x");
}

TEST_CASE("a malformed series key is refused, never thrown on") {
  struct Case {
    std::string_view key;
    SeriesKeyError error;
  };
  const Case cases[] = {
      {"5", SeriesKeyError::kNoColon},
      {"1:a2", SeriesKeyError::kNoColon},
      {":", SeriesKeyError::kBadLength},
      {"x:", SeriesKeyError::kBadLength},
      {"-1:", SeriesKeyError::kBadLength},
      {"+1:a", SeriesKeyError::kBadLength},
      {" 1:a", SeriesKeyError::kBadLength},
      {"01:a", SeriesKeyError::kBadLength},
      {"99999999999999999999999:a", SeriesKeyError::kBadLength},
      {"2:a", SeriesKeyError::kTooShort},
      {"1:a5:abc", SeriesKeyError::kTooShort},
  };
  for (const auto& c : cases) {
    INFO(c.key);
    auto decoded = DecodeSeriesKey(c.key);
    REQUIRE_FALSE(decoded);
    CHECK(decoded.error() == c.error);
  }
}
