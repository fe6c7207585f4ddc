#include "store/migrations.h"

#include <catch2/catch.hpp>

using namespace tessera::store;

namespace {
Migration M(std::string name, std::string sql) {
  Migration m{std::move(name), std::move(sql), ""};
  m.checksum = Sha256Hex(m.sql);
  return m;
}
}  // namespace

TEST_CASE("SHA-256 hex matches the standard value") {
  CHECK(Sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("migration names follow NNNN_name.sql") {
  CHECK(IsMigrationName("0001_accounts.sql"));
  CHECK(IsMigrationName("0042_add-tokens.sql"));
  for (const char* bad : {"1_x.sql", "0001accounts.sql", "0001_.sql", "0001_a b.sql", "0001_x.SQL",
                          "abcd_x.sql", "0001_../x.sql"}) {
    INFO(bad);
    CHECK_FALSE(IsMigrationName(bad));
  }
}

TEST_CASE("planning applies only what is new, in order") {
  std::vector<Migration> files = {M("0001_a.sql", "a"), M("0002_b.sql", "b"), M("0003_c.sql", "c")};
  auto plan = PlanMigrations(files, {{"0001_a.sql", files[0].checksum}});
  REQUIRE(plan);
  CHECK(*plan == std::vector<std::size_t>{1, 2});
  CHECK(PlanMigrations(files, {})->size() == 3);
}

TEST_CASE("planning refuses an edited, missing or out-of-order migration") {
  std::vector<Migration> files = {M("0001_a.sql", "a"), M("0002_b.sql", "b edited")};
  auto edited =
      PlanMigrations(files, {{"0002_b.sql", Sha256Hex("b")}, {"0001_a.sql", files[0].checksum}});
  REQUIRE_FALSE(edited);
  CHECK(edited.error().find("0002_b.sql was changed") != std::string::npos);

  auto missing = PlanMigrations(files, {{"0000_gone.sql", Sha256Hex("x")}});
  REQUIRE_FALSE(missing);
  CHECK(missing.error().find("0000_gone.sql") != std::string::npos);

  auto late = PlanMigrations(files, {{"0002_b.sql", files[1].checksum}});
  REQUIRE_FALSE(late);
  CHECK(late.error().find("0001_a.sql sorts before") != std::string::npos);
}

TEST_CASE("schema check names the first missing or different migration") {
  const ManifestEntry manifest[] = {{"0001_a.sql", "aa"}, {"0002_b.sql", "bb"}};
  CHECK(CheckSchema(manifest, {{"0001_a.sql", "aa"}, {"0002_b.sql", "bb"}}).has_value());
  auto behind = CheckSchema(manifest, {{"0001_a.sql", "aa"}});
  REQUIRE_FALSE(behind);
  CHECK(behind.error().find("0002_b.sql is not applied") != std::string::npos);
  auto differs = CheckSchema(manifest, {{"0001_a.sql", "zz"}, {"0002_b.sql", "bb"}});
  REQUIRE_FALSE(differs);
  CHECK(differs.error().find("0001_a.sql was applied from a different file") != std::string::npos);
}

TEST_CASE("the compiled-in manifest lists the project's sql files") {
  auto loaded = LoadMigrations(TESSERA_SOURCE_DIR "/sql");
  REQUIRE(loaded);
  auto manifest = SchemaManifest();
  REQUIRE(manifest.size() == loaded->size());
  for (std::size_t i = 0; i < manifest.size(); ++i) {
    CHECK(manifest[i].name == (*loaded)[i].name);
    CHECK(manifest[i].checksum == (*loaded)[i].checksum);
  }
}
