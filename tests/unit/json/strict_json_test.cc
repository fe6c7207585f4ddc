#include "json/strict_json.h"

#include <catch2/catch.hpp>

using tessera::json::JsonError;
using tessera::json::ParseStrict;

TEST_CASE("strict JSON parses ordinary documents") {
  auto j = ParseStrict(R"({"a":[1,{"b":2}],"c":"d"})");
  REQUIRE(j);
  CHECK((*j)["c"] == "d");
}

TEST_CASE("strict JSON refuses duplicate keys at any depth") {
  CHECK(ParseStrict(R"({"a":1,"a":1})").error() == JsonError::kDuplicateKey);
  CHECK(ParseStrict(R"({"x":{"a":1,"a":2}})").error() == JsonError::kDuplicateKey);
  CHECK(ParseStrict(R"([{"a":1},{"a":2}])").has_value());
}

TEST_CASE("strict JSON refuses bad syntax and deep nesting") {
  CHECK(ParseStrict("{\"a\":}").error() == JsonError::kSyntax);
  CHECK(ParseStrict("").error() == JsonError::kSyntax);
  CHECK(ParseStrict("{} x").error() == JsonError::kSyntax);
  CHECK(ParseStrict(std::string(20, '[') + std::string(20, ']'), 16).error() ==
        JsonError::kTooDeep);
  CHECK(ParseStrict(std::string(5, '[') + std::string(5, ']'), 16).has_value());
}
