// tessera-admin keygen and token mint/verify, as an operator runs them.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "harness.h"

using namespace tessera::testing;
namespace fs = std::filesystem;

namespace {
RunResult Admin(const std::string& config, std::vector<std::string> args,
                const std::string& stdin_text = "") {
  std::vector<std::string> argv = {
      "sh", "-c", "printf '%s' \"$0\" | \"$@\"", stdin_text, TESSERA_ADMIN_BIN, "--config", config};
  argv.insert(argv.end(), args.begin(), args.end());
  return Run(argv);
}
std::string FirstLine(const std::string& s) { return s.substr(0, s.find('\n')); }
}  // namespace

TEST_CASE("keygen writes a 0600 k4.secret, prints its public key and id, never overwrites",
          "[admin]") {
  std::string dir = MakeTempDir("tessera-admin");
  std::string config = dir + "/tessera.conf";
  PgCluster pg;
  MigrateOrThrow(pg.Conninfo());
  AddAccount(pg.Conninfo(), "alice@pbs", "pw");
  WriteFile(config, "server_id = backup.example\ntoken_key = " + dir + "/token.k4.secret\n" +
                        "database = '" + pg.Conninfo() + "'\n");
  RunResult made = Admin(config, {"keygen", "--out", dir + "/token.k4.secret"});
  INFO(made.output);
  REQUIRE(made.status == 0);
  CHECK(made.output.rfind("k4.public.", 0) == 0);
  CHECK(made.output.find("\nk4.pid.") != std::string::npos);
  struct stat st{};
  REQUIRE(stat((dir + "/token.k4.secret").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(ReadFile(dir + "/token.k4.secret").rfind("k4.secret.", 0) == 0);

  RunResult again = Admin(config, {"keygen", "--out", dir + "/token.k4.secret"});
  CHECK(again.status == 1);
  CHECK(again.output.find("refusing to overwrite") != std::string::npos);

  SECTION("a password the login page would refuse is refused when an account is made") {
    for (std::string bad : {std::string("tab\tinside"), std::string("bell\x07"),
                            std::string("\xff\xfe"), std::string(4097, 'x')}) {
      RunResult refused = Admin(config, {"account", "add", "carol@pbs"}, bad + "\n");
      CHECK(refused.status == 1);
      CHECK(refused.output.find("tessera-admin: password") != std::string::npos);
    }
    CHECK(pg.Sql("SELECT count(*) FROM accounts WHERE userid = 'carol@pbs'") == "0");
    RunResult good = Admin(config, {"account", "add", "carol@pbs"}, "r\xc3\xa9sum\xc3\xa9 pass\n");
    INFO(good.output);
    CHECK(good.status == 0);
  }
  SECTION("mint then verify round-trips the grant") {
    RunResult minted = Admin(config, {"token", "mint", "--user", "alice@pbs", "--read", "--repo",
                                      "alice/laptop", "--lifetime", "2h"});
    INFO(minted.output);
    REQUIRE(minted.status == 0);
    std::string token = FirstLine(minted.output);
    std::string jti = pg.Sql("SELECT jti FROM api_tokens");
    CHECK(
        pg.Sql(
            "SELECT read AND NOT write AND NOT delete AND repo = 'alice/laptop' "
            "AND expires_at BETWEEN now() + interval '119 minutes' AND now() + interval '2 hours' "
            "FROM api_tokens") == "t");
    CHECK(Admin(config, {"token", "mint", "--user", "ghost@pbs", "--read"}).status ==
          1);  // no such account
    // A repository path the backup endpoints could never serve is refused by the schema.
    for (const char* repo : {"r1/keys/0123", "../etc", "a/b/c/d/e", "laptop/", ".hidden"}) {
      RunResult refused =
          Admin(config, {"token", "mint", "--user", "alice@pbs", "--read", "--repo", repo});
      INFO(repo << ": " << refused.output);
      CHECK(refused.status == 1);
      CHECK(refused.output.find("api_tokens_repo_path") != std::string::npos);
    }
    CHECK(pg.Sql("SELECT count(*) FROM api_tokens") == "1");
    CHECK(token.rfind("v4.public.", 0) == 0);
    RunResult ok = Admin(config, {"token", "verify"}, token + "\n");
    INFO(ok.output);
    CHECK(ok.status == 0);
    CHECK(ok.output.find("\"sub\": \"alice@pbs\"") != std::string::npos);
    CHECK(ok.output.find("\"jti\": \"" + jti + "\"") != std::string::npos);
    CHECK(ok.output.find("\"read\": true") != std::string::npos);
    CHECK(ok.output.find("\"write\": false") != std::string::npos);

    std::string tampered = token;
    tampered[20] = tampered[20] == 'A' ? 'B' : 'A';
    RunResult bad = Admin(config, {"token", "verify"}, tampered);
    CHECK(bad.status == 1);
    CHECK(bad.output.find("invalid: signature does not verify") != std::string::npos);

    // Another server's id: the audience does not match.
    std::string other = dir + "/other.conf";
    WriteFile(other, "server_id = elsewhere\ntoken_key = " + dir + "/token.k4.secret\n");
    RunResult wrong = Admin(other, {"token", "verify"}, token);
    CHECK(wrong.status == 1);
    CHECK(wrong.output.find("invalid: issuer is not this server") != std::string::npos);
  }
  SECTION("a key file readable by others is refused") {
    chmod((dir + "/token.k4.secret").c_str(), 0640);
    RunResult refused = Admin(config, {"token", "mint", "--user", "alice@pbs", "--read"});
    CHECK(refused.status == 1);
    CHECK(refused.output.find("accessible by group or others") != std::string::npos);
  }
  fs::remove_all(dir);
}
