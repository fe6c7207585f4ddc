// Reading rows as the cache reads them (store/pg/connection.h) from PGresults built in memory
// with libpq's result constructors: no server needed.
#include <libpq-fe.h>

#include <catch2/catch.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/pg/connection.h"
#include "store/sql_text.h"

using namespace tessera::store;
using namespace tessera::store::pg;

namespace {
// One row of text values (nullopt = NULL).
Result Row(const std::vector<std::optional<std::string>>& values) {
  Result r(PQmakeEmptyPGresult(nullptr, PGRES_TUPLES_OK));
  std::vector<PGresAttDesc> attrs(values.size());
  std::vector<std::string> names;
  for (std::size_t i = 0; i < values.size(); ++i) names.push_back("c" + std::to_string(i));
  for (std::size_t i = 0; i < values.size(); ++i) {
    attrs[i] = PGresAttDesc{names[i].data(), 0, 0, 0, 25, -1, -1};
  }
  REQUIRE(PQsetResultAttrs(r.get(), static_cast<int>(attrs.size()), attrs.data()) == 1);
  for (std::size_t i = 0; i < values.size(); ++i) {
    const auto& v = values[i];
    REQUIRE(PQsetvalue(r.get(), 0, static_cast<int>(i), v ? const_cast<char*>(v->c_str()) : nullptr,
                       v ? static_cast<int>(v->size()) : -1) == 1);
  }
  return r;
}

using V = std::optional<std::string>;
const V kNull = std::nullopt;

// userid, account id, read, write, delete, repo, revoked, expires_at
std::vector<V> GoodGrant() {
  return {"alice@pbs", "7", "t", "f", "f", kNull, "f", "1800000000", "laptop-1"};
}
}  // namespace

TEST_CASE("account state rows: infinities, far times, and refusals") {
  auto state = StateFromRow(Row({"t", kNull, "5"}).get(), 0, 0);
  REQUIRE(state);
  CHECK(state->enabled);
  CHECK_FALSE(state->expires_at);
  CHECK(state->session_epoch == 5);
  CHECK(StateFromRow(Row({"t", "infinity", "0"}).get(), 0, 0)->expires_at == kEndOfTime);
  CHECK(StateFromRow(Row({"t", "-infinity", "0"}).get(), 0, 0)->expires_at == kBeginningOfTime);
  CHECK(StateFromRow(Row({"f", "-210863606400", "0"}).get(), 0, 0)->expires_at == -210863606400);
  CHECK(StateFromRow(Row({"t", "9224318015999", "0"}).get(), 0, 0)->expires_at == 9224318015999);

  CHECK(StateFromRow(Row({kNull, kNull, "0"}).get(), 0, 0).error() == RowError::kNull);
  CHECK(StateFromRow(Row({"yes", kNull, "0"}).get(), 0, 0).error() == RowError::kBadBool);
  CHECK(StateFromRow(Row({"t", "Infinity", "0"}).get(), 0, 0).error() == RowError::kBadTime);
  CHECK(StateFromRow(Row({"t", "1.5", "0"}).get(), 0, 0).error() == RowError::kBadTime);
  CHECK(StateFromRow(Row({"t", kNull, "junk"}).get(), 0, 0).error() == RowError::kBadInteger);
  CHECK(StateFromRow(Row({"t", kNull, "99999999999999999999"}).get(), 0, 0).error() ==
        RowError::kBadInteger);
  CHECK(StateFromRow(Row({"t", kNull, kNull}).get(), 0, 0).error() == RowError::kNull);
}

TEST_CASE("grant rows: every column read, odd values refused with a reason") {
  auto row = GoodGrant();
  row[5] = "laptop";
  auto grant = GrantFromRow(Row(row).get(), 0, 0);
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
  row[7] = "infinity";
  CHECK(GrantFromRow(Row(row).get(), 0, 0)->expires_at == kEndOfTime);
  row[7] = "-infinity";
  CHECK(GrantFromRow(Row(row).get(), 0, 0)->expires_at == kBeginningOfTime);

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
    row[c.column] = c.value;
    CHECK(GrantFromRow(Row(row).get(), 0, 0).error() == c.error);
  }
  // Read from an offset (a query that selects other columns first).
  row = GoodGrant();
  row.insert(row.begin(), "jti1");
  CHECK(GrantFromRow(Row(row).get(), 0, 1)->userid == "alice@pbs");
}
