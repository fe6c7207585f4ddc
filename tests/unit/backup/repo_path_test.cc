#include "backup/repo_path.h"

#include <catch2/catch.hpp>

using namespace tessera::backup;

namespace {
const std::string kName(64, 'a');
}

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
  auto config = ParseTarget("a/b/c/config");
  REQUIRE(config);
  CHECK(config->kind == Kind::kConfig);
  CHECK(config->repo == "a/b/c");
  auto repo = ParseTarget("laptop/");
  REQUIRE(repo);
  CHECK(repo->kind == Kind::kRepo);
  // A repository may be called like a type; its objects still parse.
  auto tricky = ParseTarget("data/keys/" + kName);
  REQUIRE(tricky);
  CHECK(tricky->repo == "data");
  CHECK(tricky->type == "keys");
}

TEST_CASE("malformed backup paths are refused") {
  for (const std::string& bad :
       {std::string(""), std::string("laptop"), std::string("/laptop/config"), std::string("../config"),
        std::string("./config"), std::string(".hidden/config"), std::string("a//config"),
        std::string("laptop/data/") + kName.substr(1), std::string("laptop/data/") + std::string(64, 'A'),
        std::string("laptop/blobs/") + kName, std::string("a/b/c/d/e/config"),
        std::string("lap top/config"),
        std::string(65, 'x') + "/config", std::string("laptop/data/") + kName + "/extra",
        std::string(600, 'a')}) {
    INFO(bad.substr(0, 100));
    CHECK_FALSE(ParseTarget(bad));
  }
  CHECK_FALSE(IsObjectName(std::string(63, 'a') + "g"));
  CHECK(IsRepoPath("alice/laptop"));
  CHECK_FALSE(IsRepoPath("alice/../bob"));
}
