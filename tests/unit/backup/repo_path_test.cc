#include "backup/repo_path.h"

#include <catch2/catch.hpp>

using namespace tessera::backup;

namespace {
const std::string kName(64, 'a');
const std::string kSeg64(64, 's');
}  // namespace

TEST_CASE("backup paths parse into what they name") {
  auto obj = ParseTarget("alice/laptop/data/" + kName);
  REQUIRE(obj);
  CHECK(obj->kind == Kind::kObject);
  CHECK(obj->repo == "alice/laptop");
  CHECK(obj->type == "data");
  CHECK(obj->name == kName);
  auto list = ParseTarget("laptop/snapshots/");
  REQUIRE(list);
  CHECK(list->kind == Kind::kList);
  CHECK(list->repo == "laptop");
  CHECK(list->type == "snapshots");
  auto config = ParseTarget("a/b/c/config");
  REQUIRE(config);
  CHECK(config->kind == Kind::kConfig);
  CHECK(config->repo == "a/b/c");
  auto repo = ParseTarget("laptop/");
  REQUIRE(repo);
  CHECK(repo->kind == Kind::kRepo);
  CHECK(repo->repo == "laptop");
  auto deepest = ParseTarget("a/b/c/d/locks/" + kName);
  REQUIRE(deepest);
  CHECK(deepest->repo == "a/b/c/d");
  CHECK(deepest->type == "locks");
}

TEST_CASE("repository path grammar: one accepted and one refused input per rule") {
  struct Case {
    std::string path;
    bool valid;
    const char* rule;
  };
  const std::string longest = kSeg64 + "/" + kSeg64 + "/" + kSeg64 + "/" + std::string(63 - 3, 't');
  const Case cases[] = {
      {"laptop", true, "one segment"},
      {"a/b/c/d", true, "four segments"},
      {"a/b/c/d/e", false, "at most four segments"},
      {"", false, "at least one segment"},
      {"a//b", false, "no empty segment"},
      {"/a", false, "no leading slash"},
      {"a/", false, "no trailing slash"},
      {kSeg64, true, "a segment of 64 bytes"},
      {kSeg64 + "s", false, "a segment of 65 bytes"},
      {"A-Z_a-z.0-9", true, "letters, digits, '_', '-', '.'"},
      {"_x", true, "may start with '_'"},
      {"-x", true, "may start with '-'"},
      {".x", false, "may not start with '.'"},
      {".", false, "not '.'"},
      {"..", false, "not '..'"},
      {"a/../b", false, "no '..' segment"},
      {"lap top", false, "no space"},
      {"lap%2Ftop", false, "no '%'"},
      {"caf\xc3\xa9", false, "ASCII only"},
      {std::string("a\0b", 3), false, "no NUL"},
      {"a\\b", false, "no backslash"},
      {"config", false, "reserved: config"},
      {"data", false, "reserved: data"},
      {"keys", false, "reserved: keys"},
      {"locks", false, "reserved: locks"},
      {"snapshots", false, "reserved: snapshots"},
      {"index", false, "reserved: index"},
      {"r1/keys", false, "reserved in any position"},
      {"r1/data/x", false, "reserved in the middle"},
      {"Data", true, "reserved words are exact (case matters)"},
      {"datas", true, "reserved words are whole segments"},
      {"config.old", true, "reserved words are whole segments"},
      {longest, true, "255 bytes in all"},
      {longest + "t", false, "at most 255 bytes in all"},
  };
  for (const Case& c : cases) {
    INFO(c.rule << ": " << c.path.substr(0, 80));
    CHECK(IsRepoPath(c.path) == c.valid);
    // A repository's config URL parses exactly when its path is valid.
    auto t = ParseTarget(c.path + "/config");
    CHECK(t.has_value() == c.valid);
    if (t) CHECK(t->repo == c.path);
  }
}

TEST_CASE("a repository path can never name another repository's objects") {
  // Before the reserved words, "r1/keys/<hex>/config" was the config of repository
  // "r1/keys/<hex>", whose directory is r1's key object.
  CHECK_FALSE(ParseTarget("r1/keys/" + kName + "/config"));
  CHECK_FALSE(ParseTarget("r1/keys/" + kName + "/"));
  CHECK_FALSE(ParseTarget("r1/data/" + kName + "/keys/" + kName));
  CHECK_FALSE(ParseTarget("data/keys/" + kName));
  CHECK_FALSE(ParseTarget("r1/config/"));
  CHECK_FALSE(ParseTarget("r1/config/config"));
  auto keys = ParseTarget("r1/keys/" + kName);
  REQUIRE(keys);
  CHECK(keys->repo == "r1");
}

TEST_CASE("malformed backup paths are refused") {
  for (const std::string& bad : {std::string(""),
                                 std::string("laptop"),
                                 std::string("/laptop/config"),
                                 std::string("../config"),
                                 std::string("./config"),
                                 std::string(".hidden/config"),
                                 std::string("a//config"),
                                 std::string("/"),
                                 std::string("config"),
                                 std::string("laptop/data/") + kName.substr(1),
                                 std::string("laptop/data/") + std::string(64, 'A'),
                                 std::string("laptop/blobs/") + kName,
                                 std::string("laptop/data"),
                                 std::string("laptop/config/"),
                                 std::string("a/b/c/d/e/config"),
                                 std::string("a/b/c/d/e/data/") + kName,
                                 std::string("lap top/config"),
                                 std::string(65, 'x') + "/config",
                                 std::string("laptop/data/") + kName + "/extra",
                                 std::string("laptop/data/") + kName + "/",
                                 std::string(600, 'a')}) {
    INFO(bad.substr(0, 100));
    CHECK_FALSE(ParseTarget(bad));
  }
  CHECK_FALSE(IsObjectName(std::string(63, 'a') + "g"));
  CHECK_FALSE(IsObjectName(std::string(63, 'a')));
  CHECK_FALSE(IsObjectType("config"));
  CHECK(IsRepoPath("alice/laptop"));
  CHECK_FALSE(IsRepoPath("alice/../bob"));
}

TEST_CASE("objects lie below their repository in restic's layout") {
  const std::string name(64, 'a');
  CHECK(ObjectRelativePath("config", "") == "config");
  CHECK(ObjectRelativePath("data", "ab" + name.substr(2)) == "data/ab/ab" + name.substr(2));
  CHECK(ObjectRelativePath("keys", name) == "keys/" + name);
  CHECK(ObjectRelativePath("locks", name) == "locks/" + name);
}
