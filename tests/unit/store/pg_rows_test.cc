// Reading rows by column name as the store reads them (store/pg/rows.h, store/pg/records.h) from
// PGresults built in memory with libpq's result constructors: no server needed.
#include <libpq-fe.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "store/pg/connection.h"
#include "store/pg/records.h"
#include "store/pg/rows.h"
#include "store/sql_text.h"

using namespace tessera::store;
using namespace tessera::store::pg;

namespace {
using V = std::optional<std::string>;
const V kNull = std::nullopt;

// A result with the named columns and one row of text values per entry of `rows` (nullopt =
// NULL).
Result Rows(const std::vector<std::string>& names, const std::vector<std::vector<V>>& rows) {
  Result r(PQmakeEmptyPGresult(nullptr, PGRES_TUPLES_OK));
  std::vector<std::string> copies = names;
  std::vector<PGresAttDesc> attrs(names.size());
  for (std::size_t i = 0; i < names.size(); ++i) {
    attrs[i] = PGresAttDesc{copies[i].data(), 0, 0, 0, 25, -1, -1};
  }
  REQUIRE(PQsetResultAttrs(r.get(), static_cast<int>(attrs.size()), attrs.data()) == 1);
  for (std::size_t row = 0; row < rows.size(); ++row) {
    REQUIRE(rows[row].size() == names.size());
    for (std::size_t i = 0; i < names.size(); ++i) {
      const auto& v = rows[row][i];
      REQUIRE(PQsetvalue(r.get(), static_cast<int>(row), static_cast<int>(i),
                         v ? const_cast<char*>(v->c_str()) : nullptr,
                         v ? static_cast<int>(v->size()) : -1) == 1);
    }
  }
  return r;
}

// One row: (name, value) pairs in the result's column order.
Result Row(const std::vector<std::pair<std::string, V>>& columns) {
  std::vector<std::string> names;
  std::vector<V> values;
  for (const auto& [name, value] : columns) {
    names.push_back(name);
    values.push_back(value);
  }
  return Rows(names, {values});
}

std::vector<std::pair<std::string, V>> GoodGrant() {
  return {
      {"userid", "alice@pbs"}, {"account_id", "7"}, {"read", "t"},    {"write", "f"},
      {"delete", "f"},         {"repo", kNull},     {"revoked", "f"}, {"expires_at", "1800000000"},
      {"name", "laptop-1"}};
}

std::vector<std::pair<std::string, V>> State(V enabled, V expires_at, V epoch) {
  return {{"enabled", enabled}, {"expires_at", expires_at}, {"session_epoch", epoch}};
}

std::expected<AccountState, RowError> ReadState(V enabled, V expires_at, V epoch) {
  Result r = Row(State(std::move(enabled), std::move(expires_at), std::move(epoch)));
  RowReader rows(r.get());
  return StateFromRow(rows.row(0));
}

std::expected<GrantRecord, RowError> ReadGrant(const std::vector<std::pair<std::string, V>>& row) {
  Result r = Row(row);
  RowReader rows(r.get());
  return GrantFromRow(rows.row(0));
}
}  // namespace

TEST_CASE("row reader: each getter reads its column by name") {
  Result r = Row(
      {{"n", "-42"}, {"b", "t"}, {"s", "text with spaces"}, {"at", "infinity"}, {"none", kNull}});
  RowReader rows(r.get());
  REQUIRE(rows.size() == 1);
  auto row = rows.row(0);
  CHECK(row.Int64("n") == -42);
  CHECK(row.OptionalInt64("n").value() == -42);
  CHECK(row.Bool("b") == true);
  CHECK(row.Text("s") == "text with spaces");
  CHECK(row.OptionalText("s").value() == "text with spaces");
  CHECK(row.Time("at") == kEndOfTime);
  CHECK(row.Time("n") == -42);
  CHECK(row.OptionalTime("at").value() == kEndOfTime);
  // NULL where it may be.
  CHECK_FALSE(row.OptionalText("none").value().has_value());
  CHECK_FALSE(row.OptionalInt64("none").value().has_value());
  CHECK_FALSE(row.OptionalTime("none").value().has_value());
  // Unquoted names are folded to lower case, as PQfnumber reads SQL identifiers.
  CHECK(row.Int64("N") == -42);
}

TEST_CASE("row reader: columns are found by name in any order, in every row") {
  Result r = Rows({"b", "a"}, {{"2", "1"}, {"4", "3"}, {"6", "5"}});
  RowReader rows(r.get());
  REQUIRE(rows.size() == 3);
  for (int i = 0; i < rows.size(); ++i) {
    CHECK(rows.row(i).Int64("a") == 2 * i + 1);
    CHECK(rows.row(i).Int64("b") == 2 * i + 2);
  }
}

TEST_CASE("row reader: a column the result does not have fails every getter and every row") {
  Result r = Rows({"a"}, {{"1"}, {"2"}});
  RowReader rows(r.get());
  for (int i = 0; i < rows.size(); ++i) {
    auto row = rows.row(i);
    CHECK(row.Text("b").error() == RowError::kMissingColumn);
    CHECK(row.OptionalText("b").error() == RowError::kMissingColumn);
    CHECK(row.Bool("b").error() == RowError::kMissingColumn);
    CHECK(row.Int64("b").error() == RowError::kMissingColumn);
    CHECK(row.OptionalInt64("b").error() == RowError::kMissingColumn);
    CHECK(row.Time("b").error() == RowError::kMissingColumn);
    CHECK(row.OptionalTime("b").error() == RowError::kMissingColumn);
    CHECK(row.Int64("a") == i + 1);  // the columns it has still read
  }
  // A prefix or a longer name is not the column.
  CHECK(rows.row(0).Int64("").error() == RowError::kMissingColumn);
  CHECK(rows.row(0).Int64("ab").error() == RowError::kMissingColumn);
  CHECK(Describe(RowError::kMissingColumn) == "no such column in the result");
}

TEST_CASE("row reader: NULL where a value is needed is refused") {
  Result r = Row({{"x", kNull}});
  RowReader rows(r.get());
  auto row = rows.row(0);
  CHECK(row.Text("x").error() == RowError::kNull);
  CHECK(row.Bool("x").error() == RowError::kNull);
  CHECK(row.Int64("x").error() == RowError::kNull);
  CHECK(row.Time("x").error() == RowError::kNull);
}

TEST_CASE("row reader: values the strict parsers refuse") {
  struct Case {
    V value;
    RowError as_bool, as_int, as_time;
  };
  for (const Case& c : {
           Case{"", RowError::kBadBool, RowError::kBadInteger, RowError::kBadTime},
           Case{"true", RowError::kBadBool, RowError::kBadInteger, RowError::kBadTime},
           Case{"1.5", RowError::kBadBool, RowError::kBadInteger, RowError::kBadTime},
           Case{" 1", RowError::kBadBool, RowError::kBadInteger, RowError::kBadTime},
           Case{"+1", RowError::kBadBool, RowError::kBadInteger, RowError::kBadTime},
           Case{"Infinity", RowError::kBadBool, RowError::kBadInteger, RowError::kBadTime},
           Case{"99999999999999999999", RowError::kBadBool, RowError::kBadInteger,
                RowError::kBadTime},
       }) {
    INFO(*c.value);
    Result r = Row({{"x", c.value}});
    RowReader rows(r.get());
    auto row = rows.row(0);
    CHECK(row.Bool("x").error() == c.as_bool);
    CHECK(row.Int64("x").error() == c.as_int);
    CHECK(row.OptionalInt64("x").error() == c.as_int);
    CHECK(row.Time("x").error() == c.as_time);
    CHECK(row.OptionalTime("x").error() == c.as_time);
  }
  // 'infinity' is a time, not a bigint; "f" is a boolean, not a number.
  Result r = Row({{"inf", "infinity"}, {"f", "f"}});
  RowReader rows(r.get());
  auto row = rows.row(0);
  CHECK(row.Int64("inf").error() == RowError::kBadInteger);
  CHECK(row.Int64("f").error() == RowError::kBadInteger);
  CHECK(row.Bool("f") == false);
}

TEST_CASE("row fields keep the first failure and every value before it") {
  Result r = Row({{"a", "1"}, {"b", "x"}, {"c", kNull}, {"d", "4"}});
  RowReader rows(r.get());
  auto row = rows.row(0);
  std::int64_t a = 0, b = 0, c = 0, d = 0;
  RowFields f;
  f.Take(row.Int64("a"), a);
  CHECK_FALSE(f.error());
  f.Take(row.Int64("b"), b);
  f.Take(row.Int64("c"), c);
  f.Take(row.Int64("d"), d);
  CHECK(f.error() == RowError::kBadInteger);
  CHECK(a == 1);
  CHECK(b == 0);  // left as it was
  CHECK(d == 4);
}

TEST_CASE("account state rows: infinities, far times, and refusals") {
  auto state = ReadState("t", kNull, "5");
  REQUIRE(state);
  CHECK(state->enabled);
  CHECK_FALSE(state->expires_at);
  CHECK(state->session_epoch == 5);
  CHECK(ReadState("t", "infinity", "0")->expires_at == kEndOfTime);
  CHECK(ReadState("t", "-infinity", "0")->expires_at == kBeginningOfTime);
  CHECK(ReadState("f", "-210863606400", "0")->expires_at == -210863606400);
  CHECK(ReadState("t", "9224318015999", "0")->expires_at == 9224318015999);

  CHECK(ReadState(kNull, kNull, "0").error() == RowError::kNull);
  CHECK(ReadState("yes", kNull, "0").error() == RowError::kBadBool);
  CHECK(ReadState("t", "Infinity", "0").error() == RowError::kBadTime);
  CHECK(ReadState("t", "1.5", "0").error() == RowError::kBadTime);
  CHECK(ReadState("t", kNull, "junk").error() == RowError::kBadInteger);
  CHECK(ReadState("t", kNull, "99999999999999999999").error() == RowError::kBadInteger);
  CHECK(ReadState("t", kNull, kNull).error() == RowError::kNull);

  // Without one of its columns (the query and the reader disagree) no state is read.
  for (std::size_t drop = 0; drop < 3; ++drop) {
    auto columns = State("t", kNull, "5");
    INFO(columns[drop].first);
    columns.erase(columns.begin() + static_cast<std::ptrdiff_t>(drop));
    Result r = Row(columns);
    RowReader rows(r.get());
    CHECK(StateFromRow(rows.row(0)).error() == RowError::kMissingColumn);
  }
}

TEST_CASE("grant rows: every column read, odd values refused with a reason") {
  auto row = GoodGrant();
  row[5].second = "laptop";
  auto grant = ReadGrant(row);
  REQUIRE(grant);
  CHECK(grant->userid == "alice@pbs");
  CHECK(grant->account_id == 7);
  CHECK(grant->read);
  CHECK_FALSE(grant->write);
  CHECK(grant->repo == "laptop");
  CHECK_FALSE(grant->revoked);
  CHECK(grant->expires_at == 1800000000);
  CHECK(grant->name == "laptop-1");

  row = GoodGrant();
  row[7].second = "infinity";
  CHECK(ReadGrant(row)->expires_at == kEndOfTime);
  row[7].second = "-infinity";
  CHECK(ReadGrant(row)->expires_at == kBeginningOfTime);

  struct Case {
    int column;
    V value;
    RowError error;
  };
  for (const Case& c : {Case{0, kNull, RowError::kNull}, Case{0, "alice", RowError::kBadUserid},
                        Case{0, "../x@pbs/", RowError::kBadUserid},
                        Case{1, "x", RowError::kBadInteger}, Case{1, kNull, RowError::kNull},
                        Case{2, "true", RowError::kBadBool}, Case{4, kNull, RowError::kNull},
                        Case{6, "", RowError::kBadBool}, Case{7, "soon", RowError::kBadTime},
                        Case{7, kNull, RowError::kNull}, Case{8, kNull, RowError::kNull}}) {
    INFO(c.column);
    row = GoodGrant();
    row[c.column].second = c.value;
    CHECK(ReadGrant(row).error() == c.error);
  }
  // Read among other columns (a query that selects others first), in any order.
  row = GoodGrant();
  row.insert(row.begin(), {"jti", "jti1"});
  CHECK(ReadGrant(row)->userid == "alice@pbs");
  row = GoodGrant();
  std::reverse(row.begin(), row.end());
  grant = ReadGrant(row);
  REQUIRE(grant);
  CHECK(grant->userid == "alice@pbs");
  CHECK(grant->account_id == 7);
  CHECK(grant->name == "laptop-1");
  CHECK(grant->expires_at == 1800000000);
}

TEST_CASE("grant rows: a column the query does not name refuses the grant") {
  for (std::size_t drop = 0; drop < GoodGrant().size(); ++drop) {
    auto row = GoodGrant();
    INFO(row[drop].first);
    row.erase(row.begin() + static_cast<std::ptrdiff_t>(drop));
    CHECK(ReadGrant(row).error() == RowError::kMissingColumn);
  }
  // A column named otherwise (the offset of a select list without its alias) is not read.
  auto row = GoodGrant();
  row[1].first = "id";
  CHECK(ReadGrant(row).error() == RowError::kMissingColumn);
}
