// RFC 3339 date-times (section 5.6), the time format of PASETO's registered claims.
//
// Accepted: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)`, 'T' and 'Z' in either case, the
// fraction truncated toward the past. Emitted: whole seconds in UTC with 'Z'. Dates are checked
// (no 31 April); years 0000-9999 only.
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

namespace tessera::crypto {

enum class TimeError { kMalformed };

// Unix seconds for a date-time. Thread-safe.
std::expected<std::int64_t, TimeError> ParseRfc3339(std::string_view text);
std::string FormatRfc3339(std::int64_t unix_seconds);

}  // namespace tessera::crypto
