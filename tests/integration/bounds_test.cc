// Per-account bounds (issue 21 item 2, DESIGN.md): sessions, login throttle rows, locks and
// tokens each have a bound per account, and one account filling its own leaves another account
// working — through nginx, against a real PostgreSQL, and for locks with the real restic.
// (Metrics label sets and the workers' caches are bounded per account too; their tests are unit
// tests: tests/unit/metrics, tests/unit/auth, tests/unit/crypto.)
#include <httplib.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "http_client.h"

using namespace tessera::testing;
using nlohmann::json;

namespace {

constexpr const char* kWhoami = "/api2/json/access/whoami";
constexpr const char* kTokens = "/api2/json/access/tokens";
const std::string kCheapHash = "password_opslimit = 1\npassword_memlimit_kib = 8192\n";

int Whoami(CheckedClient& c, const std::string& ticket) {
  return c.Get(kWhoami, {{"Cookie", "__Host-PBSAuthCookie=" + FormEncode(ticket)}})->status;
}

// A client whose connections come from the loopback address `source` (REMOTE_ADDR).
CheckedClient From(const std::string& source, int port) {
  CheckedClient c("127.0.0.1", port);
  c.set_interface(source);
  return c;
}

std::string Sessions(PgCluster& pg, const std::string& userid) {
  return pg.Sql(
      "SELECT count(*) FROM sessions s JOIN accounts a ON a.id = s.account_id "
      "WHERE a.userid = '" +
      userid + "'");
}

}  // namespace

TEST_CASE("logins in a loop keep an account's sessions to its bound, ending the least recent",
          "[bounds]") {
  Stack stack(kCheapHash + "max_sessions_per_account = 3\n");
  PgCluster& pg = stack.pg();
  AddAccount(pg.Conninfo(), "alice@pbs", "pw");
  AddAccount(pg.Conninfo(), "bob@pbs", "pw");
  CheckedClient c = stack.Client();
  PasswordLogin bob = LogIn(c, "bob@pbs", "pw");
  REQUIRE(bob.status == 200);

  PasswordLogin s1 = LogIn(c, "alice@pbs", "pw");
  PasswordLogin s2 = LogIn(c, "alice@pbs", "pw");
  PasswordLogin s3 = LogIn(c, "alice@pbs", "pw");
  REQUIRE(s3.status == 200);
  PasswordLogin r1 = LogIn(c, "alice@pbs", s1.ticket);  // s1 is in use: renewed
  REQUIRE(r1.status == 200);
  // A fourth login ends the session renewed least recently (s2), not the oldest one in use.
  PasswordLogin s4 = LogIn(c, "alice@pbs", "pw");
  REQUIRE(s4.status == 200);
  CHECK(Eventually([&] { return Whoami(c, s2.ticket) == 401; }));
  CHECK(LogIn(c, "alice@pbs", s2.ticket).status == 401);  // nor can it be renewed
  for (const auto& t : {s1.ticket, r1.ticket, s3.ticket, s4.ticket}) CHECK(Whoami(c, t) == 200);
  CHECK(Sessions(pg, "alice@pbs") == "3");

  // Logins in a loop (and logouts among them) never hold more rows than the bound.
  std::vector<PasswordLogin> loop;
  for (int i = 0; i < 20; ++i) {
    loop.push_back(LogIn(c, "alice@pbs", "pw"));
    REQUIRE(loop.back().status == 200);
    // Never a ticket born revoked (an ended session's stamp taken again).
    REQUIRE(Whoami(c, loop.back().ticket) == 200);
    if (i % 5 == 4) {
      auto out = c.Delete("/api2/json/access/ticket",
                          {{"Cookie", "__Host-PBSAuthCookie=" + FormEncode(loop.back().ticket)},
                           {"CSRFPreventionToken", loop.back().csrf}});
      CHECK(out->status == 200);
    }
    REQUIRE(std::stoi(Sessions(pg, "alice@pbs")) <= 3);
  }
  // Every ticket outside the last three sessions is revoked on the worker...
  CHECK(Eventually([&] { return Whoami(c, loop[15].ticket) == 401; }));
  CHECK(Whoami(c, s4.ticket) == 401);
  CHECK(Whoami(c, loop[18].ticket) == 200);
  // ...and bob, who logged in before all of it, was never touched.
  CHECK(Whoami(c, bob.ticket) == 200);
  CHECK(Sessions(pg, "bob@pbs") == "1");
  CHECK(LogIn(c, "bob@pbs", bob.ticket).status == 200);
}

TEST_CASE("failed logins from many networks add a bounded number of rows per account", "[bounds]") {
  Stack stack(kCheapHash +
              "login_max_account_networks = 4\nlogin_max_user_failures = 2\n"
              "login_failure_window = 60\n");
  PgCluster& pg = stack.pg();
  AddAccount(pg.Conninfo(), "alice@pbs", "pw");
  AddAccount(pg.Conninfo(), "bob@pbs", "pw");

  // An attacker with 12 networks (on the internet: 12 IPv6 /64s, a sliver of one /48) guesses
  // alice's password three times from each.
  for (int n = 0; n < 12; ++n) {
    std::string source = "127.0.0." + std::to_string(10 + n);
    INFO(source);
    CheckedClient attacker = From(source, stack.port());
    CHECK(LogIn(attacker, "alice@pbs", "guess1").status == 401);
    CHECK(LogIn(attacker, "alice@pbs", "guess2").status == 401);
    // Held to the pair limit whether its network got a row for alice or not.
    CHECK(LogIn(attacker, "alice@pbs", "guess3").status == 429);
  }
  // Four (network, alice) rows, however many networks tried; one row per network.
  CHECK(pg.Sql("SELECT count(*) FROM login_failures WHERE account_key = 'alice@pbs'") == "4");
  CHECK(pg.Sql("SELECT count(*) FROM login_failures WHERE subject LIKE 'pair:%'") == "4");
  CHECK(pg.Sql("SELECT count(*) FROM login_failures") == "16");
  CHECK(pg.Sql("SELECT count(*) FROM auth_audit WHERE reason = 'wrong password'") == "24");

  // The owner, from a network of her own, logs in; so does bob, even from the attacker's last
  // network, which stays held to two attempts against alice.
  CheckedClient owner = From("127.0.0.60", stack.port());
  CHECK(LogIn(owner, "alice@pbs", "pw").status == 200);
  CheckedClient shared = From("127.0.0.21", stack.port());
  CHECK(LogIn(shared, "bob@pbs", "pw").status == 200);
  CHECK(LogIn(shared, "alice@pbs", "pw").status == 429);
}

TEST_CASE("one account at its lock caps leaves another account's restic backup working",
          "[bounds]") {
  BackupStack b;
  // alice fills her repository's 256 locks with 32 grants of 8 locks each (the per-grant cap).
  std::vector<std::string> tokens;
  for (int g = 0; g < 33; ++g)
    tokens.push_back(b.Mint("alice@pbs", {"--read", "--write", "--repo", "laptop"}));
  CheckedClient first = b.Client(tokens[0]);
  REQUIRE(first.Post("/backup/laptop/?create=true")->status == 200);
  auto lock = [&](const std::string& token, int i) {
    std::string body = RandomBytes(200) + std::to_string(i);
    CheckedClient c = b.Client(token);
    auto r = c.Post("/backup/laptop/locks/" + Sha256Hex(body), body, "application/octet-stream");
    return r.get() ? r.get()->status : -1;
  };
  // Four clients at once (each lock is flushed to disk: one by one this takes seconds).
  std::vector<int> statuses(256);
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&, w] {
      for (int g = w; g < 32; g += 4)
        for (int i = 0; i < 8; ++i) statuses[g * 8 + i] = lock(tokens[g], i);
    });
  }
  for (auto& t : writers) t.join();
  CHECK(std::count(statuses.begin(), statuses.end(), 200) == 256);
  CHECK(lock(tokens[0], 8) == 429);   // the grant's own cap
  CHECK(lock(tokens[32], 0) == 429);  // the repository's

  // bob's restic run takes and releases its locks as if nothing happened.
  std::string bob = b.Mint("bob@pbs", {"--read", "--write", "--delete", "--repo", "home"});
  WriteFile(b.keys + "/pw", "repository password\n");
  std::string tree = b.keys + "/tree";
  MakeRandomTree(tree, 4, 64 * 1024);
  auto restic = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {"timeout",
                                     "120",
                                     "restic",
                                     "-r",
                                     "rest:http://bob:" + bob + "@127.0.0.1:" +
                                         std::to_string(b.stack->port()) + "/backup/home/",
                                     "--password-file",
                                     b.keys + "/pw",
                                     "--cache-dir",
                                     b.keys + "/cache",
                                     "-q"};
    argv.insert(argv.end(), args.begin(), args.end());
    return Run(argv);
  };
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"init"}, {"backup", tree}, {"restore", "latest", "--target", b.keys + "/out"}}) {
    RunResult r = restic(args);
    INFO(args[0] << ": " << r.output);
    CHECK(r.status == 0);
  }
  RunResult same = Run({"diff", "-r", tree, b.keys + "/out" + tree});
  INFO(same.output);
  CHECK(same.status == 0);
}

TEST_CASE("one account at its token ceilings leaves another minting", "[bounds]") {
  BackupStack b;
  PgCluster& pg = b.stack->pg();
  pg.Sql("UPDATE accounts SET token_max_count = 2 WHERE userid = 'alice@pbs'");
  CheckedClient c = b.stack->Client();
  PasswordLogin alice = LogIn(c, "alice@pbs", "pw");
  PasswordLogin bob = LogIn(c, "bob@pbs", "pw");
  REQUIRE(alice.status == 200);
  REQUIRE(bob.status == 200);
  auto mint = [&](const PasswordLogin& who, const std::string& name) {
    return c.Post(kTokens,
                  {{"Cookie", "__Host-PBSAuthCookie=" + FormEncode(who.ticket)},
                   {"CSRFPreventionToken", who.csrf}},
                  json{{"name", name}, {"read", true}, {"write", true}}.dump(), "application/json");
  };
  auto message = [](const CheckedResult& r) {
    return json::parse(r->body)["message"].get<std::string>();
  };
  CHECK(mint(alice, "a1")->status == 200);
  CHECK(mint(alice, "a2")->status == 200);
  auto count = mint(alice, "a3");
  CHECK(count->status == 403);
  CHECK(message(count).find("live tokens") != std::string::npos);
  // bob mints as usual, and his token works.
  auto made = mint(bob, "b1");
  REQUIRE(made->status == 200);
  std::string token = json::parse(made->body)["data"]["token"];
  CheckedClient restic = b.Client(token);
  CHECK(restic.Post("/backup/b1/?create=true")->status == 200);
  CHECK(mint(bob, "b2")->status == 200);

  // The per-day ceiling: alice revokes to make room but has made her day's two.
  pg.Sql(
      "UPDATE accounts SET token_max_count = 10, token_max_per_day = 2 "
      "WHERE userid = 'alice@pbs'");
  auto day = mint(alice, "a4");
  CHECK(day->status == 403);
  CHECK(message(day).find("today") != std::string::npos);
  CHECK(mint(bob, "b3")->status == 200);
  CHECK(pg.Sql("SELECT count(*) FROM api_tokens WHERE userid = 'bob@pbs'") == "3");
}
