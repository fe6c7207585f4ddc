#include "store/pg/rows.h"

#include "log/log.h"
#include "store/sql_text.h"

namespace tessera::store::pg {

std::string_view Describe(RowError error) {
  switch (error) {
    case RowError::kMissingColumn:
      return "no such column in the result";
    case RowError::kNull:
      return "NULL in a NOT NULL column";
    case RowError::kBadBool:
      return "not a boolean";
    case RowError::kBadInteger:
      return "not a bigint";
    case RowError::kBadTime:
      return "not a time";
    case RowError::kBadUserid:
      return "not a userid";
  }
  return "unreadable";
}

std::expected<int, RowError> RowReader::Column(std::string_view name) const {
  for (const auto& [known, number] : columns_) {
    if (known == name) {
      if (number < 0) return std::unexpected(RowError::kMissingColumn);
      return number;
    }
  }
  std::string key(name);
  int number = PQfnumber(result_, key.c_str());
  columns_.emplace_back(key, number);
  if (number < 0) {
    // The query and its reader disagree: every row of this result fails alike, so say it once.
    log::Error("database: the result has no column '" + key + "'");
    return std::unexpected(RowError::kMissingColumn);
  }
  return number;
}

std::expected<std::optional<std::string_view>, RowError> RowReader::Row::Value(
    std::string_view column) const {
  auto number = reader_.Column(column);
  if (!number) return std::unexpected(number.error());
  if (PQgetisnull(reader_.result_, row_, *number)) return std::optional<std::string_view>{};
  return std::optional<std::string_view>(
      std::string_view(PQgetvalue(reader_.result_, row_, *number),
                       static_cast<std::size_t>(PQgetlength(reader_.result_, row_, *number))));
}

std::expected<std::string, RowError> RowReader::Row::Text(std::string_view column) const {
  auto value = Value(column);
  if (!value) return std::unexpected(value.error());
  if (!*value) return std::unexpected(RowError::kNull);
  return std::string(**value);
}

std::expected<std::optional<std::string>, RowError> RowReader::Row::OptionalText(
    std::string_view column) const {
  auto value = Value(column);
  if (!value) return std::unexpected(value.error());
  if (!*value) return std::optional<std::string>{};
  return std::optional<std::string>(std::string(**value));
}

std::expected<bool, RowError> RowReader::Row::Bool(std::string_view column) const {
  auto value = Value(column);
  if (!value) return std::unexpected(value.error());
  if (!*value) return std::unexpected(RowError::kNull);
  auto parsed = ParseSqlBool(**value);
  if (!parsed) return std::unexpected(RowError::kBadBool);
  return *parsed;
}

std::expected<std::optional<std::int64_t>, RowError> RowReader::Row::OptionalInt64(
    std::string_view column) const {
  auto value = Value(column);
  if (!value) return std::unexpected(value.error());
  if (!*value) return std::optional<std::int64_t>{};
  auto parsed = ParseSqlInt64(**value);
  if (!parsed) return std::unexpected(RowError::kBadInteger);
  return std::optional<std::int64_t>(*parsed);
}

std::expected<std::int64_t, RowError> RowReader::Row::Int64(std::string_view column) const {
  auto value = OptionalInt64(column);
  if (!value) return std::unexpected(value.error());
  if (!*value) return std::unexpected(RowError::kNull);
  return **value;
}

std::expected<std::optional<std::int64_t>, RowError> RowReader::Row::OptionalTime(
    std::string_view column) const {
  auto value = Value(column);
  if (!value) return std::unexpected(value.error());
  if (!*value) return std::optional<std::int64_t>{};
  auto parsed = ParseEpochSeconds(**value);
  if (!parsed) return std::unexpected(RowError::kBadTime);
  return std::optional<std::int64_t>(*parsed);
}

std::expected<std::int64_t, RowError> RowReader::Row::Time(std::string_view column) const {
  auto value = OptionalTime(column);
  if (!value) return std::unexpected(value.error());
  if (!*value) return std::unexpected(RowError::kNull);
  return **value;
}

}  // namespace tessera::store::pg
