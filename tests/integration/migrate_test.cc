// tessera-admin migrate and the worker's schema check against a real PostgreSQL.
#include <catch2/catch.hpp>
#include <filesystem>
#include <future>

#include "harness.h"

using namespace tessera::testing;
namespace fs = std::filesystem;

namespace {
RunResult Migrate(PgCluster& pg, const std::string& sql_dir, const std::string& site = "") {
  std::vector<std::string> argv = {TESSERA_ADMIN_BIN, "--database", pg.Conninfo(),
                                   "migrate",         "--sql-dir",  sql_dir};
  if (!site.empty()) {
    argv.push_back("--site");
    argv.push_back(site);
  }
  return Run(argv);
}

std::size_t SqlFileCount() {
  std::size_t n = 0;
  for (const auto& e : fs::directory_iterator(TESSERA_SOURCE_DIR "/sql")) {
    n += e.path().extension() == ".sql";
  }
  return n;
}
}  // namespace

TEST_CASE("migrate applies every migration once, then does nothing", "[migrate]") {
  PgCluster pg;
  RunResult fresh = Migrate(pg, TESSERA_SOURCE_DIR "/sql");
  INFO(fresh.output);
  REQUIRE(fresh.status == 0);
  CHECK(fresh.output.find("applied schema/0001_accounts.sql") != std::string::npos);
  CHECK(pg.Sql("SELECT count(*) FROM schema_migrations") == std::to_string(SqlFileCount()));
  CHECK(pg.Sql("SELECT to_regclass('accounts') IS NOT NULL") == "t");

  RunResult again = Migrate(pg, TESSERA_SOURCE_DIR "/sql");
  REQUIRE(again.status == 0);
  CHECK(again.output.find("database is up to date") != std::string::npos);
  CHECK(pg.Sql("SELECT count(*) FROM schema_migrations") == std::to_string(SqlFileCount()));
}

TEST_CASE("concurrent migrate runs apply each migration exactly once", "[migrate]") {
  PgCluster pg;
  std::vector<std::future<RunResult>> runs;
  for (int i = 0; i < 4; ++i) {
    runs.push_back(
        std::async(std::launch::async, [&] { return Migrate(pg, TESSERA_SOURCE_DIR "/sql"); }));
  }
  std::size_t applied_lines = 0;
  for (auto& r : runs) {
    RunResult result = r.get();
    INFO(result.output);
    CHECK(result.status == 0);
    for (std::size_t p = 0; (p = result.output.find("applied schema/", p)) != std::string::npos;
         ++p) {
      ++applied_lines;
    }
  }
  CHECK(applied_lines == SqlFileCount());
  CHECK(pg.Sql("SELECT count(*) FROM schema_migrations") == std::to_string(SqlFileCount()));
}

TEST_CASE("an edited applied migration is refused with a clear message", "[migrate]") {
  PgCluster pg;
  std::string dir = MakeTempDir("tessera-sql");
  fs::copy(TESSERA_SOURCE_DIR "/sql", dir, fs::copy_options::recursive);
  REQUIRE(Migrate(pg, dir).status == 0);
  WriteFile(dir + "/0001_accounts.sql", ReadFile(dir + "/0001_accounts.sql") + "\n-- edited\n");
  RunResult tampered = Migrate(pg, dir);
  CHECK(tampered.status == 1);
  CHECK(tampered.output.find("0001_accounts.sql was changed after it was applied") !=
        std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("site migrations run after the schema, and a failing one leaves nothing", "[migrate]") {
  PgCluster pg;
  std::string site = MakeTempDir("tessera-site");
  WriteFile(
      site + "/0001_people.sql",
      "INSERT INTO accounts (userid, password_hash) VALUES ('alice@pbs', '$argon2id$v=19$x');\n");
  RunResult ok = Migrate(pg, TESSERA_SOURCE_DIR "/sql", site);
  INFO(ok.output);
  REQUIRE(ok.status == 0);
  CHECK(ok.output.find("applied site/0001_people.sql") != std::string::npos);
  CHECK(pg.Sql("SELECT userid FROM accounts") == "alice@pbs");

  // A bad userid violates the schema's check: the whole file is rolled back.
  WriteFile(
      site + "/0002_bad.sql",
      "INSERT INTO accounts (userid, password_hash) VALUES ('bob@pbs', '$argon2id$v=19$x');\n"
      "INSERT INTO accounts (userid, password_hash) VALUES ('no realm', '$argon2id$v=19$x');\n");
  RunResult bad = Migrate(pg, TESSERA_SOURCE_DIR "/sql", site);
  CHECK(bad.status == 1);
  CHECK(bad.output.find("site/0002_bad.sql failed") != std::string::npos);
  CHECK(pg.Sql("SELECT count(*) FROM accounts") == "1");
  CHECK(pg.Sql("SELECT count(*) FROM schema_migrations WHERE source = 'site'") == "1");

  WriteFile(site + "/notes.sql", "SELECT 1;");
  RunResult misnamed = Migrate(pg, TESSERA_SOURCE_DIR "/sql", site);
  CHECK(misnamed.status == 1);
  CHECK(misnamed.output.find("notes.sql is not named NNNN_name.sql") != std::string::npos);
  fs::remove_all(site);
}

TEST_CASE("a migration with its own COMMIT is refused before anything is applied", "[migrate]") {
  PgCluster pg;
  MigrateOrThrow(pg.Conninfo());
  std::string site = MakeTempDir("tessera-site");
  // Two pending files; the second would commit its first half outside the migrator's
  // transaction. Neither may run, and the database must be as it was.
  WriteFile(
      site + "/0001_people.sql",
      "INSERT INTO accounts (userid, password_hash) VALUES ('alice@pbs', '$argon2id$v=19$x');\n");
  WriteFile(
      site + "/0002_half.sql",
      "INSERT INTO accounts (userid, password_hash) VALUES ('bob@pbs', '$argon2id$v=19$x');\n"
      "COMMIT;\n"
      "INSERT INTO accounts (userid, password_hash) VALUES ('no realm', '$argon2id$v=19$x');\n");
  RunResult bad = Migrate(pg, TESSERA_SOURCE_DIR "/sql", site);
  INFO(bad.output);
  CHECK(bad.status == 1);
  CHECK(bad.output.find("site/0002_half.sql line 2: COMMIT is not allowed in a migration") !=
        std::string::npos);
  CHECK(pg.Sql("SELECT count(*) FROM accounts") == "0");
  CHECK(pg.Sql("SELECT count(*) FROM schema_migrations WHERE source = 'site'") == "0");

  // Without the COMMIT line the same files apply, and a later run has nothing left to do.
  WriteFile(
      site + "/0002_half.sql",
      "INSERT INTO accounts (userid, password_hash) VALUES ('bob@pbs', '$argon2id$v=19$x');\n");
  RunResult good = Migrate(pg, TESSERA_SOURCE_DIR "/sql", site);
  INFO(good.output);
  CHECK(good.status == 0);
  CHECK(pg.Sql("SELECT string_agg(userid, ',' ORDER BY userid) FROM accounts") ==
        "alice@pbs,bob@pbs");
  fs::remove_all(site);
}

TEST_CASE("no trick gets a COMMIT past the migrator", "[migrate]") {
  PgCluster pg;
  MigrateOrThrow(pg.Conninfo());
  // Each file would commit its CREATE TABLE and then fail, if the migrator ran it as PostgreSQL
  // reads it while the scan read it otherwise. Each must fail with nothing committed.
  const std::vector<std::pair<std::string, std::string>> tricks = {
      {"begin atomic outside a routine",
       "CREATE TABLE half (x int);\nSELECT begin atomic FROM (VALUES (1)) AS "
       "v(begin);\nCOMMIT;\nSELECT 1/0;\n"},
      {"backslash quotes with standard_conforming_strings off",
       "SET standard_conforming_strings = off;\nCREATE TABLE half (x int);\nSELECT "
       "'x\\'';\nCOMMIT;\n"
       "SELECT 1/0; -- '\n"},
      {"commit in a DO block", "CREATE TABLE half (x int);\nDO $$ BEGIN COMMIT; END $$;\n"},
  };
  for (const auto& [what, sql] : tricks) {
    INFO(what);
    std::string site = MakeTempDir("tessera-site");
    WriteFile(site + "/0001_trick.sql", sql);
    RunResult run = Migrate(pg, TESSERA_SOURCE_DIR "/sql", site);
    INFO(run.output);
    CHECK(run.status == 1);
    CHECK(pg.Sql("SELECT to_regclass('half') IS NULL") == "t");
    CHECK(pg.Sql("SELECT count(*) FROM schema_migrations WHERE source = 'site'") == "0");
    fs::remove_all(site);
  }
  // A file that turns standard_conforming_strings off does not change how the next one is read:
  // with standard strings, the second file is a table and one SELECT of an odd string, applied
  // whole and recorded (the COMMIT is inside that string for PostgreSQL and the scan alike).
  std::string site = MakeTempDir("tessera-site");
  WriteFile(site + "/0001_off.sql", "SET standard_conforming_strings = off;\n");
  WriteFile(site + "/0002_next.sql",
            "CREATE TABLE half (x int);\nSELECT 'x\\'';\nCOMMIT;\nSELECT 1/0; -- '\n");
  RunResult run = Migrate(pg, TESSERA_SOURCE_DIR "/sql", site);
  INFO(run.output);
  CHECK(run.status == 0);
  CHECK(pg.Sql("SELECT to_regclass('half') IS NOT NULL") == "t");
  CHECK(pg.Sql("SELECT count(*) FROM schema_migrations WHERE source = 'site'") == "2");
  fs::remove_all(site);
}

TEST_CASE("the worker refuses to start against a database whose migrations are behind",
          "[migrate]") {
  PgCluster pg;
  std::string dir = MakeTempDir("tessera-worker");
  Worker worker(dir, pg.Conninfo());
  CHECK_THROWS_WITH(worker.Start(), Catch::Contains("0001_accounts.sql is not applied"));
  CHECK(worker.process().Wait(std::chrono::seconds(5)) == 1);
  fs::remove_all(dir);
}
