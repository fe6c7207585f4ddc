// Values as PostgreSQL writes them in its text result format, parsed strictly: booleans ("t",
// "f"), bigints, and timestamps rendered as Unix seconds (see pg::EpochSql). A timestamptz may be
// 'infinity' or '-infinity'; they map to kEndOfTime ("never") and kBeginningOfTime ("already"),
// so `expires_at <= now` reads right for every value the column can hold.
//
// Pure functions over text, no libpq: the row readers and the NOTIFY parser share them, and unit
// tests and the fuzz target call them directly. Thread-safe.
#pragma once

#include <cstdint>
#include <expected>
#include <limits>
#include <string_view>

namespace tessera::store {

inline constexpr std::int64_t kEndOfTime = std::numeric_limits<std::int64_t>::max();
inline constexpr std::int64_t kBeginningOfTime = std::numeric_limits<std::int64_t>::min();

enum class TextError {
  kEmpty,
  kTooLong,
  kNotBoolean,
  kNotInteger,  // not [-]digits, or out of the int64 range
};

// "t" or "f". kEmpty / kNotBoolean otherwise.
std::expected<bool, TextError> ParseSqlBool(std::string_view text);
// Decimal [-]digits (at most 20 characters) that fit an int64, nothing else: no '+', no space,
// no fraction. kEmpty / kTooLong / kNotInteger otherwise.
std::expected<std::int64_t, TextError> ParseSqlInt64(std::string_view text);
// ParseSqlInt64, or "infinity" (kEndOfTime) or "-infinity" (kBeginningOfTime).
std::expected<std::int64_t, TextError> ParseEpochSeconds(std::string_view text);

}  // namespace tessera::store
