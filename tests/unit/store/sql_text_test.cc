#include "store/sql_text.h"

#include <catch2/catch.hpp>

using namespace tessera::store;

TEST_CASE("PostgreSQL booleans are exactly t or f") {
  CHECK(ParseSqlBool("t") == true);
  CHECK(ParseSqlBool("f") == false);
  CHECK(ParseSqlBool("").error() == TextError::kEmpty);
  for (const char* bad : {"true", "T", "1", "tt", " t", "f "}) {
    INFO(bad);
    CHECK(ParseSqlBool(bad).error() == TextError::kNotBoolean);
  }
}

TEST_CASE("bigints parse with from_chars, whole and in range, or not at all") {
  CHECK(ParseSqlInt64("0") == 0);
  CHECK(ParseSqlInt64("1700000000") == 1700000000);
  CHECK(ParseSqlInt64("-62135596800") == -62135596800);
  CHECK(ParseSqlInt64("9223372036854775807") == kEndOfTime);
  CHECK(ParseSqlInt64("-9223372036854775808") == kBeginningOfTime);
  CHECK(ParseSqlInt64("").error() == TextError::kEmpty);
  CHECK(ParseSqlInt64("123456789012345678901").error() == TextError::kTooLong);
  for (const char* bad : {"9223372036854775808", "-9223372036854775809", "+1", " 1", "1 ", "1.5",
                          "1e3", "-", "0x10", "abc", "12a", "Infinity"}) {
    INFO(bad);
    CHECK(ParseSqlInt64(bad).error() == TextError::kNotInteger);
  }
}

TEST_CASE("epoch seconds include PostgreSQL's infinities") {
  CHECK(ParseEpochSeconds("infinity") == kEndOfTime);
  CHECK(ParseEpochSeconds("-infinity") == kBeginningOfTime);
  CHECK(ParseEpochSeconds("9224318015999") == 9224318015999);  // 294276-12-31 23:59:59Z
  CHECK(ParseEpochSeconds("-210866803200") == -210866803200);  // about 4714 BC
  CHECK(ParseEpochSeconds("Infinity").error() == TextError::kNotInteger);
  CHECK(ParseEpochSeconds("+infinity").error() == TextError::kNotInteger);
  CHECK(ParseEpochSeconds("1700000000.5").error() == TextError::kNotInteger);
  CHECK(ParseEpochSeconds("").error() == TextError::kEmpty);
}
