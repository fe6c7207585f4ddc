#include "crypto/claims.h"

#include <catch2/catch.hpp>

#include "crypto/rfc3339.h"

using namespace tessera::crypto;

TEST_CASE("RFC 3339 times parse with Z, offsets and fractions") {
  CHECK(ParseRfc3339("1970-01-01T00:00:00Z").value() == 0);
  CHECK(ParseRfc3339("2022-01-01T00:00:00+00:00").value() == 1640995200);
  CHECK(ParseRfc3339("2022-01-01T01:00:00+01:00").value() == 1640995200);
  CHECK(ParseRfc3339("2021-12-31T23:30:00-00:30").value() == 1640995200);
  CHECK(ParseRfc3339("2022-01-01t00:00:00.999z").value() == 1640995200);
  CHECK(ParseRfc3339("2024-02-29T12:00:00Z").has_value());
}

TEST_CASE("RFC 3339 times that are not valid are refused") {
  for (const char* bad :
       {"2022-01-01", "2022-01-01 00:00:00Z", "2022-01-01T00:00:00", "2022-13-01T00:00:00Z",
        "2023-02-29T00:00:00Z", "2022-04-31T00:00:00Z", "2022-01-01T24:00:00Z",
        "2022-01-01T00:60:00Z", "2022-01-01T00:00:00.Z", "2022-01-01T00:00:00+0100",
        "2022-01-01T00:00:00+24:00", "2022-01-01T00:00:00Zx", "+2022-01-01T00:00:00Z",
        "１９７０-01-01T00:00:00Z"}) {
    INFO(bad);
    CHECK_FALSE(ParseRfc3339(bad));
  }
}

TEST_CASE("RFC 3339 formatting emits whole seconds in UTC and round-trips") {
  CHECK(FormatRfc3339(0) == "1970-01-01T00:00:00Z");
  CHECK(FormatRfc3339(1640995200) == "2022-01-01T00:00:00Z");
  for (std::int64_t t : {951782400LL, 1709208000LL, 4102444799LL}) {
    CHECK(ParseRfc3339(FormatRfc3339(t)).value() == t);
  }
}

TEST_CASE("claims parse registered claims with their types and keep the rest") {
  auto c = ParseClaims(
      R"({"iss":"s","sub":"alice@pbs","aud":"s","jti":"7","exp":"2022-01-01T00:00:00Z","read":true})");
  REQUIRE(c);
  CHECK(c->sub == "alice@pbs");
  CHECK(c->exp == 1640995200);
  CHECK(c->custom["read"] == true);
  CHECK_FALSE(c->custom.contains("sub"));
}

TEST_CASE("claims errors") {
  CHECK(ParseClaims("not json").error() == ClaimsError::kNotJson);
  CHECK(ParseClaims(R"({"sub":"a","sub":"b"})").error() == ClaimsError::kDuplicateKey);
  CHECK(ParseClaims(R"(["sub"])").error() == ClaimsError::kNotObject);
  CHECK(ParseClaims(R"("x")").error() == ClaimsError::kNotObject);
  CHECK(ParseClaims(R"({"sub":1})").error() == ClaimsError::kWrongType);
  CHECK(ParseClaims(R"({"exp":1700000000})").error() == ClaimsError::kWrongType);
  CHECK(ParseClaims(R"({"exp":"tomorrow"})").error() == ClaimsError::kBadTime);
}

TEST_CASE("claims serialise and parse back") {
  Claims c;
  c.iss = "srv";
  c.exp = 1640995200;
  c.custom["write"] = true;
  auto back = ParseClaims(SerializeClaims(c));
  REQUIRE(back);
  CHECK(back->iss == "srv");
  CHECK(back->exp == 1640995200);
  CHECK(back->custom["write"] == true);
  CHECK(SerializeClaims(c).find("\"exp\":\"2022-01-01T00:00:00Z\"") != std::string::npos);
}
