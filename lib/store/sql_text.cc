#include "store/sql_text.h"

#include <charconv>

namespace tessera::store {
namespace {
// "-9223372036854775808" is the longest int64.
constexpr std::size_t kMaxIntegerText = 20;
}  // namespace

std::expected<bool, TextError> ParseSqlBool(std::string_view text) {
  if (text.empty()) return std::unexpected(TextError::kEmpty);
  if (text == "t") return true;
  if (text == "f") return false;
  return std::unexpected(TextError::kNotBoolean);
}

std::expected<std::int64_t, TextError> ParseSqlInt64(std::string_view text) {
  if (text.empty()) return std::unexpected(TextError::kEmpty);
  if (text.size() > kMaxIntegerText) return std::unexpected(TextError::kTooLong);
  // from_chars takes a '-' but no '+' and no space; the digits must be all of it.
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, 10);
  if (ec != std::errc() || end != text.data() + text.size())
    return std::unexpected(TextError::kNotInteger);
  return value;
}

std::expected<std::int64_t, TextError> ParseEpochSeconds(std::string_view text) {
  if (text == "infinity") return kEndOfTime;
  if (text == "-infinity") return kBeginningOfTime;
  return ParseSqlInt64(text);
}

}  // namespace tessera::store
