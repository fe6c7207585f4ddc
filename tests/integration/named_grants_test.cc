// Named grants end to end (issue 11, item 1), against real PostgreSQL, the worker, nginx and
// restic: the shipped example site migrations (conf/site-migrations) apply; a grant they make by
// name is minted by name and backs up; a later site migration revoking it ends it on the worker
// within a second; `token list` names the grants and never prints a token; a site migration with
// a duplicate name, an unknown account or a bad repository path fails saying so; an expired
// grant's name can be used again; and nobody mints another account's grant by its name.
#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "harness.h"
#include "http_client.h"

using namespace tessera::testing;
namespace fs = std::filesystem;

namespace {

// A BackupStack and a copy of the example site migrations, to which a test adds files.
struct Site {
  BackupStack b;
  std::string dir = b.keys + "/site";

  Site() { fs::copy(TESSERA_SOURCE_DIR "/conf/site-migrations", dir); }

  RunResult Admin(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {TESSERA_ADMIN_BIN, "--config", b.admin_conf};
    argv.insert(argv.end(), args.begin(), args.end());
    return Run(argv);
  }
  RunResult Migrate() {
    return Admin({"migrate", "--sql-dir", TESSERA_SOURCE_DIR "/sql", "--site", dir});
  }
  // Adds a site migration and applies it; returns the result of `migrate`.
  RunResult Apply(const std::string& file, const std::string& sql) {
    WriteFile(dir + "/" + file, sql);
    return Migrate();
  }
  // The token of the account's grant of that name, or fails the test.
  std::string MintByName(const std::string& user, const std::string& name) {
    RunResult minted = Admin({"token", "mint", "--user", user, "--name", name});
    INFO(minted.output);
    REQUIRE(minted.status == 0);
    return minted.output.substr(0, minted.output.find('\n'));
  }
  // GET of a repository's config: 200 (or 404 without the repository) when the token is
  // honoured, 401 when it is not.
  int Read(const std::string& token, const std::string& repo) {
    CheckedClient c = b.Client(token);
    return c.Get("/backup/" + repo + "/config")->status;
  }
};

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("a grant made by name in a site migration backs up, and a later one revokes it",
          "[named_grants]") {
  Site s;
  RunResult applied = s.Migrate();
  INFO(applied.output);
  REQUIRE(applied.status == 0);
  CHECK(Contains(applied.output, "applied site/0001_accounts.sql"));
  CHECK(Contains(applied.output, "applied site/0002_grants.sql"));

  std::string token = s.MintByName("alice@example", "laptop");
  REQUIRE(token.rfind("v4.public.", 0) == 0);
  const std::string& keys = s.b.keys;
  WriteFile(keys + "/restic-password", "repository password\n");
  fs::create_directories(keys + "/src");
  WriteFile(keys + "/src/hello.txt", "hello from a named grant\n");
  auto restic = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {"timeout",
                                     "120",
                                     "restic",
                                     "-r",
                                     "rest:http://alice:" + token +
                                         "@127.0.0.1:" + std::to_string(s.b.stack->port()) +
                                         "/backup/alice/laptop/",
                                     "--password-file",
                                     keys + "/restic-password",
                                     "--cache-dir",
                                     keys + "/cache",
                                     "-q"};
    argv.insert(argv.end(), args.begin(), args.end());
    return Run(argv);
  };
  RunResult init = restic({"init"});
  INFO(init.output);
  REQUIRE(init.status == 0);
  RunResult backup = restic({"backup", keys + "/src"});
  INFO(backup.output);
  REQUIRE(backup.status == 0);
  // Twice: the second use is answered from the worker's memo of verified tokens, which the
  // revocation must reach too.
  REQUIRE(s.Read(token, "alice/laptop") == 200);
  REQUIRE(s.Read(token, "alice/laptop") == 200);

  RunResult listed = s.Admin({"token", "list", "--user", "alice@example"});
  INFO(listed.output);
  REQUIRE(listed.status == 0);
  CHECK(Contains(listed.output, "laptop\tread,write\talice/laptop\t"));
  CHECK(Contains(listed.output, "restore\tread\talice/laptop\t"));
  CHECK(Contains(listed.output, "\tlive\n"));
  CHECK_FALSE(Contains(listed.output, "v4.public."));
  CHECK_FALSE(Contains(listed.output, token.substr(10, 40)));

  RunResult revoked = s.Apply("0003_revoke_laptop.sql",
                              "SELECT tessera.revoke_token('alice@example', 'laptop');\n");
  INFO(revoked.output);
  REQUIRE(revoked.status == 0);
  CHECK(Eventually([&] { return s.Read(token, "alice/laptop") == 401; }));
  RunResult refused = restic({"snapshots"});
  CHECK(refused.status != 0);

  RunResult after = s.Admin({"token", "list", "--user", "alice@example"});
  INFO(after.output);
  CHECK(Contains(after.output, "laptop\tread,write\talice/laptop\t"));
  CHECK(Contains(after.output, "\trevoked\n"));
  CHECK_FALSE(Contains(after.output, "v4.public."));
  RunResult remint = s.Admin({"token", "mint", "--user", "alice@example", "--name", "laptop"});
  CHECK(remint.status == 1);
  CHECK(Contains(remint.output, "'laptop') is revoked"));

  // The other grant lives on, and restores.
  std::string restore = s.MintByName("alice@example", "restore");
  CHECK(s.Read(restore, "alice/laptop") == 200);
}

TEST_CASE(
    "a site migration with a duplicate name, an unknown account or a bad repository fails "
    "saying so",
    "[named_grants]") {
  Site s;
  REQUIRE(s.Migrate().status == 0);
  struct Bad {
    std::string sql, message;
  };
  std::vector<Bad> cases = {
      {"SELECT tessera.grant_token('alice@example', 'laptop', read => true);",
       "alice@example already has a live token named 'laptop'"},
      {"SELECT tessera.grant_token('ghost@example', 'laptop', read => true);",
       "unknown account 'ghost@example'"},
      {"SELECT tessera.grant_token('alice@example', 'keys', read => true, repo => 'alice/keys');",
       "bad repository path 'alice/keys'"},
      {"SELECT tessera.revoke_token('alice@example', 'phone');",
       "alice@example has no live token named 'phone'"},
  };
  for (const Bad& bad : cases) {
    RunResult failed = s.Apply("0003_bad.sql", bad.sql + "\n");
    INFO(failed.output);
    CHECK(failed.status == 1);
    CHECK(Contains(failed.output, "0003_bad.sql"));
    CHECK(Contains(failed.output, bad.message));
    fs::remove(s.dir + "/0003_bad.sql");  // never applied: rolled back with its checksum row
  }
  CHECK(s.b.stack->pg().Sql("SELECT count(*) FROM api_tokens") == "2");

  // The same refusals from the command line, as PostgreSQL words them.
  RunResult dup =
      s.Admin({"token", "mint", "--user", "alice@example", "--name", "laptop", "--read"});
  CHECK(dup.status == 1);
  CHECK(Contains(dup.output,
                 "tessera-admin: alice@example already has a live token named 'laptop'\n"));
  RunResult ghost =
      s.Admin({"token", "mint", "--user", "ghost@example", "--name", "laptop", "--read"});
  CHECK(ghost.status == 1);
  CHECK(Contains(ghost.output, "tessera-admin: unknown account 'ghost@example'\n"));
  RunResult list_ghost = s.Admin({"token", "list", "--user", "ghost@example"});
  CHECK(list_ghost.status == 1);
  CHECK(Contains(list_ghost.output, "tessera-admin: unknown account 'ghost@example'\n"));

  // A grant name is its account's: bob cannot mint alice's laptop token.
  RunResult other = s.Admin({"token", "mint", "--user", "bob@pbs", "--name", "laptop"});
  CHECK(other.status == 1);
  CHECK(Contains(other.output, "tessera-admin: bob@pbs has no token named 'laptop'\n"));
  CHECK_FALSE(Contains(other.output, "v4.public."));
}

TEST_CASE("an expired grant's name can be used again", "[named_grants]") {
  Site s;
  REQUIRE(s.Migrate().status == 0);
  REQUIRE(s.Apply("0003_short.sql",
                  "SELECT tessera.grant_token('alice@example', 'short', read => true, "
                  "repo => 'alice/laptop', valid_for => '1 hour');\n")
              .status == 0);
  std::string first = s.MintByName("alice@example", "short");
  CHECK(s.Read(first, "alice/laptop") == 404);  // honoured; no repository yet
  s.b.stack->pg().Sql(
      "UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE name = 'short'");
  CHECK(Eventually([&] { return s.Read(first, "alice/laptop") == 401; }));
  RunResult expired = s.Admin({"token", "mint", "--user", "alice@example", "--name", "short"});
  CHECK(expired.status == 1);
  CHECK(Contains(expired.output, "'short') is expired"));

  RunResult again = s.Apply("0004_short_again.sql",
                            "SELECT tessera.grant_token('alice@example', 'short', read => true, "
                            "repo => 'alice/laptop');\n");
  INFO(again.output);
  REQUIRE(again.status == 0);
  std::string second = s.MintByName("alice@example", "short");
  CHECK(s.Read(second, "alice/laptop") == 404);
  CHECK(s.Read(first, "alice/laptop") == 401);
  RunResult listed = s.Admin({"token", "list", "--user", "alice@example"});
  INFO(listed.output);
  CHECK(Contains(listed.output, "short\tread\talice/laptop\t"));
  CHECK(Contains(listed.output, "\trevoked\n"));  // the expired one, marked so by grant_token
}

// 0009: a grant named after its jti (every grant made before names existed) is well named even
// when the jti starts with '-', which a chosen name may not: it can still be revoked.
TEST_CASE("a grant whose jti starts with '-' is named after it and can be revoked",
          "[named_grants]") {
  Site s;
  REQUIRE(s.Migrate().status == 0);
  s.b.stack->pg().Sql(
      "INSERT INTO api_tokens (jti, userid, read, expires_at) "
      "VALUES ('-old', 'alice@pbs', true, now() + interval '1 day')");
  RunResult minted = s.Admin({"token", "mint", "--jti", "-old"});
  INFO(minted.output);
  REQUIRE(minted.status == 0);
  std::string token = minted.output.substr(0, minted.output.find('\n'));
  CHECK(s.Read(token, "laptop") == 404);
  RunResult revoked = s.Admin({"token", "revoke", "--user", "alice@pbs", "--name", "-old"});
  INFO(revoked.output);
  CHECK(revoked.status == 0);
  CHECK(Eventually([&] { return s.Read(token, "laptop") == 401; }));
  // A name chosen for a grant still keeps to the grammar.
  RunResult bad = s.Admin({"token", "mint", "--user", "alice@pbs", "--name", "-new", "--read"});
  CHECK(bad.status == 1);
  CHECK(Contains(bad.output, "tessera-admin: bad token name '-new'"));
}

// The account functions an admin keeps in site migrations: disabling ends the account's tokens
// on the worker within a second and enabling brings them back; an expiry in the past does the
// same as disabling; the ceiling's every bound is set by name, the daily one included.
TEST_CASE("site migrations disable, enable, expire and bound an account", "[named_grants]") {
  Site s;
  REQUIRE(s.Migrate().status == 0);
  std::string token = s.MintByName("alice@example", "restore");
  REQUIRE(s.Read(token, "alice/laptop") == 404);  // honoured; no repository yet

  REQUIRE(
      s.Apply("0003_disable.sql", "SELECT tessera.disable_account('alice@example');\n").status ==
      0);
  CHECK(Eventually([&] { return s.Read(token, "alice/laptop") == 401; }));
  REQUIRE(s.Apply("0004_enable.sql", "SELECT tessera.enable_account('alice@example');\n").status ==
          0);
  CHECK(Eventually([&] { return s.Read(token, "alice/laptop") == 404; }));

  REQUIRE(s.Apply("0005_expire.sql",
                  "SELECT tessera.set_account_expiry('alice@example', now() - interval '1 s');\n")
              .status == 0);
  CHECK(Eventually([&] { return s.Read(token, "alice/laptop") == 401; }));
  REQUIRE(
      s.Apply("0006_unexpire.sql", "SELECT tessera.set_account_expiry('alice@example', NULL);\n")
          .status == 0);
  CHECK(Eventually([&] { return s.Read(token, "alice/laptop") == 404; }));

  REQUIRE(s.Apply("0007_ceiling.sql",
                  "SELECT tessera.set_token_ceiling('alice@example', max_per_day => 3, "
                  "max_count => 7);\n")
              .status == 0);
  CHECK(s.b.stack->pg().Sql("SELECT token_max_per_day || ' ' || token_max_count || ' ' || "
                            "token_max_lifetime FROM accounts WHERE userid = 'alice@example'") ==
        "3 7 30 days");  // the lifetime set by 0001 stays: an argument left out changes nothing
  RunResult ghost = s.Apply("0008_ghost.sql", "SELECT tessera.disable_account('ghost@example');\n");
  CHECK(ghost.status == 1);
  CHECK(Contains(ghost.output, "unknown account 'ghost@example'"));
}
