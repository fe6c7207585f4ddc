// Per-account bounds (issue 21 item 2, DESIGN.md): sessions and login throttle rows each have a
// bound per account, and one account filling its own leaves another account working — through
// nginx, against a real PostgreSQL.
// (Metrics label sets and the workers' caches are bounded per account too; their tests are unit
// tests: tests/unit/metrics, tests/unit/auth, tests/unit/crypto.)
#include <httplib.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "harness.h"
#include "http_client.h"

using namespace tessera::testing;

namespace {

constexpr const char* kWhoami = "/api2/json/access/whoami";
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
