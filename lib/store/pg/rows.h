// Reading result rows by column name. A RowReader over a PGresult finds each column by its name
// (the query's own name or alias for it) the first time it is asked for, with PQfnumber, and
// reads it with the strict text parsers of store/sql_text.h: a query and its reader agree on
// names, never on positions, so a new column is one line in the query and one in the reader.
//
// Every read fails with a RowError: kMissingColumn when the result has no column of that name
// (the query and its reader disagree: a bug, logged once per reader and name; callers answer
// StoreError::kInvalid), kNull for NULL where the reader needs a value, else the parser's
// complaint. Not thread-safe: one reader per result, on the thread that reads it; the result
// must outlive the reader.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tessera::store::pg {

// A timestamptz column as text for RowReader::Row::Time (store/sql_text.h ParseEpochSeconds):
// whole Unix seconds (floored), 'infinity' or '-infinity', NULL stays NULL. extract(epoch
// ...)::bigint would fail on the infinities, and one such row would fail the whole query. Name it
// with AS: the expression has no name of its own.
#define TESSERA_EPOCH_SQL(c)                                                          \
  "CASE WHEN " c " IS NULL THEN NULL WHEN " c " = 'infinity' THEN 'infinity' WHEN " c \
  " = '-infinity' THEN '-infinity' ELSE floor(extract(epoch FROM " c "))::bigint::text END"

// Why a row could not be read; the row then denies only itself (kMissingColumn: every row).
enum class RowError {
  kMissingColumn,  // the result has no column of that name
  kNull,           // NULL where the schema says NOT NULL
  kBadBool,
  kBadInteger,
  kBadTime,
  kBadUserid,  // not names/userid.h
};
std::string_view Describe(RowError error);

class RowReader {
 public:
  explicit RowReader(const PGresult* result) : result_(result) {}

  // One row of the result; valid while its reader is.
  class Row {
   public:
    // A NOT NULL text column.
    [[nodiscard]] std::expected<std::string, RowError> Text(std::string_view column) const;
    // A text column; nullopt for NULL.
    [[nodiscard]] std::expected<std::optional<std::string>, RowError> OptionalText(
        std::string_view column) const;
    // "t" or "f" (kBadBool).
    [[nodiscard]] std::expected<bool, RowError> Bool(std::string_view column) const;
    // A bigint (or integer) column (kBadInteger).
    [[nodiscard]] std::expected<std::int64_t, RowError> Int64(std::string_view column) const;
    [[nodiscard]] std::expected<std::optional<std::int64_t>, RowError> OptionalInt64(
        std::string_view column) const;
    // A column written by TESSERA_EPOCH_SQL, as Unix seconds (kBadTime).
    [[nodiscard]] std::expected<std::int64_t, RowError> Time(std::string_view column) const;
    [[nodiscard]] std::expected<std::optional<std::int64_t>, RowError> OptionalTime(
        std::string_view column) const;

   private:
    friend class RowReader;
    Row(const RowReader& reader, int row) : reader_(reader), row_(row) {}
    // The column's text, nullopt for NULL.
    std::expected<std::optional<std::string_view>, RowError> Value(std::string_view column) const;

    const RowReader& reader_;
    int row_;
  };

  // The number of rows.
  int size() const { return PQntuples(result_); }
  // Row `i`, 0 <= i < size(). Not of a temporary reader: the row would outlive it.
  Row row(int i) const& { return Row(*this, i); }
  Row row(int i) const&& = delete;

 private:
  // The column's number, looked up once per name (a missing one is logged that once).
  std::expected<int, RowError> Column(std::string_view name) const;

  const PGresult* result_;
  mutable std::vector<std::pair<std::string, int>> columns_;  // name -> number, -1: missing
};

// Reads a row's fields one line each and keeps the first failure, so a reader checks once:
//   RowFields f;
//   f.Take(row.Bool("read"), g.read);
//   if (f.error()) return std::unexpected(*f.error());
class RowFields {
 public:
  template <typename T, typename Out>
  void Take(std::expected<T, RowError> value, Out& out) {
    if (value) {
      out = std::move(*value);
    } else if (!error_) {
      error_ = value.error();
    }
  }
  const std::optional<RowError>& error() const { return error_; }

 private:
  std::optional<RowError> error_;
};

}  // namespace tessera::store::pg
