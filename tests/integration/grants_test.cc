// The workers' cached accounts, grants and revocations against real PostgreSQL, nginx and the
// worker (issue 8, items 2, 5, 6 and 7; issue 12, item 3): every change to a grant row applies
// within a second, malformed NOTIFY payloads never crash the worker or leave it stale, a renamed
// or deleted account's old name loses its trust, odd timestamps load and deny only their own row,
// and a statement that changes many rows sends one notification and still applies within a
// second.
#include <httplib.h>
#include <sodium.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cctype>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "http_client.h"

using namespace tessera::testing;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {
constexpr const char* kTicket = "/api2/json/access/ticket";
constexpr const char* kWhoami = "/api2/json/access/whoami";
constexpr const char* kOctets = "application/octet-stream";

int Whoami(CheckedClient& c, const std::string& ticket) {
  auto r = c.Get(kWhoami, {{"Cookie", "PBSAuthCookie=" + ticket}});
  REQUIRE(r);
  return r->status;
}

int Status(const CheckedResult& r) {
  REQUIRE(r);
  return r->status;
}

// The stack, with helpers to mint a token and learn its grant id.
struct Grants {
  explicit Grants(const std::string& extra_config = "") : b(extra_config) {}
  BackupStack b;
  PgCluster& pg() { return b.stack->pg(); }

  // Mints a token for `user`; returns {token, jti}.
  std::pair<std::string, std::string> Mint(const std::string& user,
                                           const std::vector<std::string>& flags) {
    std::string token = b.Mint(user, flags);
    std::string jti = pg().Sql("SELECT jti FROM api_tokens ORDER BY created_at DESC LIMIT 1");
    return {token, jti};
  }
  // GET of a repository's config: 200 (or 404 without the repository) when the token is honoured.
  int Read(const std::string& token, const std::string& repo = "laptop") {
    CheckedClient c = b.Client(token);
    return Status(c.Get("/backup/" + repo + "/config"));
  }
  // Uploads a fresh data object: 200 when the token may write.
  int Write(const std::string& token) {
    CheckedClient c = b.Client(token);
    std::string blob = RandomBytes(64);
    return Status(c.Post("/backup/laptop/data/" + Sha256Hex(blob), blob, kOctets));
  }
};
}  // namespace

// Each token is used twice before its grant changes: the first use puts it in the worker's memo of
// verified tokens (auth/token_factory.h), the second is answered from it. The change must still
// apply within a second to a token the worker remembers (one worker process, one memo).
TEST_CASE("every change to a grant row applies on the worker within a second", "[grants]") {
  Grants g;
  auto [setup, setup_jti] = g.Mint("alice@pbs", {"--read", "--write"});
  {
    CheckedClient c = g.b.Client(setup);
    REQUIRE(Status(c.Post("/backup/laptop/?create=true", "", kOctets)) == 200);
    REQUIRE(Status(c.Post("/backup/laptop/config", "config-bytes", kOctets)) == 200);
  }

  SECTION("rights narrowed: write = false refuses writes (403), reads go on") {
    auto [token, jti] = g.Mint("alice@pbs", {"--read", "--write"});
    REQUIRE(g.Write(token) == 200);
    REQUIRE(g.Write(token) == 200);
    g.pg().Sql("UPDATE api_tokens SET write = false WHERE jti = '" + jti + "'");
    CHECK(Eventually([&] { return g.Write(token) == 403; }));
    CHECK(g.Read(token) == 200);
  }

  SECTION("repository changed: the token is refused for the old one (403)") {
    auto [token, jti] = g.Mint("alice@pbs", {"--read"});
    REQUIRE(g.Read(token) == 200);
    REQUIRE(g.Read(token) == 200);
    g.pg().Sql("UPDATE api_tokens SET repo = 'other' WHERE jti = '" + jti + "'");
    CHECK(Eventually([&] { return g.Read(token) == 403; }));
  }

  SECTION("expiry moved into the past, revocation, deletion, a changed jti, TRUNCATE: 401") {
    std::vector<std::string> changes = {
        "UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE jti = '$'",
        "UPDATE api_tokens SET revoked_at = now() WHERE jti = '$'",
        "DELETE FROM api_tokens WHERE jti = '$'",
        "UPDATE api_tokens SET jti = 'renamed$' WHERE jti = '$'",
    };
    for (std::string change : changes) {
      auto [token, jti] = g.Mint("alice@pbs", {"--read"});
      REQUIRE(g.Read(token) == 200);
      REQUIRE(g.Read(token) == 200);
      for (std::size_t at; (at = change.find('$')) != std::string::npos;)
        change.replace(at, 1, jti);
      INFO(change);
      g.pg().Sql(change);
      CHECK(Eventually([&] { return g.Read(token) == 401; }));
    }
    auto [token, jti] = g.Mint("alice@pbs", {"--read"});
    REQUIRE(g.Read(token) == 200);
    REQUIRE(g.Read(token) == 200);
    g.pg().Sql("TRUNCATE api_tokens");
    CHECK(Eventually([&] { return g.Read(token) == 401; }));
  }

  SECTION("a grant made longer-lived or given back its rights applies too") {
    auto [token, jti] = g.Mint("alice@pbs", {"--read", "--write"});
    REQUIRE(g.Write(token) == 200);
    REQUIRE(g.Write(token) == 200);
    g.pg().Sql("UPDATE api_tokens SET write = false WHERE jti = '" + jti + "'");
    REQUIRE(Eventually([&] { return g.Write(token) == 403; }));
    g.pg().Sql("UPDATE api_tokens SET write = true, expires_at = 'infinity' WHERE jti = '" + jti +
               "'");
    CHECK(Eventually([&] { return g.Write(token) == 200; }));
  }
}

TEST_CASE("malformed NOTIFY payloads are logged and answered by a reload, never a crash",
          "[grants]") {
  Grants g;
  auto [stale, stale_jti] = g.Mint("alice@pbs", {"--read"});
  auto [later, later_jti] = g.Mint("bob@pbs", {"--read"});
  auto [barrier, barrier_jti] = g.Mint("bob@pbs", {"--read"});
  REQUIRE(g.Read(stale) == 404);  // honoured (no repository yet)
  REQUIRE(g.Read(later) == 404);
  REQUIRE(g.Read(barrier) == 404);

  // A revocation the worker never hears of (its trigger is off for the moment): only a start-over
  // can bring it in.
  g.pg().Sql(
      "ALTER TABLE api_tokens DISABLE TRIGGER api_tokens_notify_update; "
      "UPDATE api_tokens SET revoked_at = now() WHERE jti = '" +
      stale_jti +
      "'; "
      "ALTER TABLE api_tokens ENABLE TRIGGER api_tokens_notify_update");
  // A revocation that is notified, committed after the silent one: notifications arrive in
  // commit order, so once the worker has applied this one it has heard everything before it.
  g.pg().Sql("UPDATE api_tokens SET revoked_at = now() WHERE jti = '" + barrier_jti + "'");
  REQUIRE(Eventually([&] { return g.Read(barrier) == 401; }));
  REQUIRE(g.Read(stale) == 404);  // still believed: nothing told the worker

  const std::string hash(64, 'a');
  const std::string secretish = "TOPSECRETTOPSECRETTOPSECRETTOPSECRET";
  std::vector<std::pair<std::string, std::string>> junk = {
      {"tessera_revocations", "junk"},
      {"tessera_revocations", ""},
      {"tessera_revocations", hash},
      {"tessera_revocations", hash + " junk"},
      {"tessera_revocations", hash + " 99999999999999999999999"},
      {"tessera_revocations", hash + " 1.5"},
      {"tessera_revocations", "ZZ " + std::string(200, '9')},
      {"tessera_accounts", "no-realm"},
      {"tessera_accounts", ""},
      {"tessera_accounts", "a:b@pbs"},
      {"tessera_accounts", secretish + "@" + std::string(7000, 'r')},
      {"tessera_tokens", "not a jti"},
      {"tessera_tokens", std::string(65, 'j')},
      {"tessera_tokens", ""},
      {"tessera_tokens", secretish + "\x01"},
  };
  for (const auto& [channel, payload] : junk) {
    g.pg().Sql("SELECT pg_notify('" + channel + "', '" + payload + "')");
  }
  g.pg().Sql("NOTIFY tessera_revocations, 'junk'");

  // The start-over made the worker read the grant again: the silent revocation applies.
  CHECK(Eventually([&] { return g.Read(stale) == 401; }));
  // The worker is alive and serving.
  CHECK(g.b.stack->worker().process().Running());
  CheckedClient c = g.b.stack->Client();
  CHECK(Status(c.Get("/api2/json/version")) == 200);
  CHECK(g.Read(later) == 404);
  // A revocation made afterwards still applies within a second.
  g.pg().Sql("UPDATE api_tokens SET revoked_at = now() WHERE jti = '" + later_jti + "'");
  CHECK(Eventually([&] { return g.Read(later) == 401; }));

  std::string log = g.b.stack->worker().Log();
  CHECK(log.find("malformed notification") != std::string::npos);
  CHECK(log.find(secretish) == std::string::npos);  // never more than a short prefix
  CHECK(log.find(std::string(100, 'r')) == std::string::npos);
}

namespace {
// Logs `user` in and mints a read token, and uses each twice, so that the worker has remembered
// both (crypto/verify_memo.h): what the test changes next must apply to remembered credentials.
std::pair<PasswordLogin, std::string> LogInAndMint(Grants& g, CheckedClient& c,
                                                   const std::string& user) {
  PasswordLogin login = LogIn(c, user, "pw");
  REQUIRE(login.status == 200);
  std::string token = g.Mint(user, {"--read"}).first;
  for (int use = 0; use < 2; ++use) {
    REQUIRE(Whoami(c, login.ticket) == 200);
    REQUIRE(g.Read(token) == 404);
  }
  return {login, token};
}
}  // namespace

TEST_CASE("a renamed or deleted account's old name loses every ticket and token", "[grants]") {
  Grants g;
  CheckedClient c = g.b.stack->Client();

  SECTION("rename alice@pbs to alice2@pbs") {
    auto [alice, token] = LogInAndMint(g, c, "alice@pbs");

    g.pg().Sql("UPDATE accounts SET userid = 'alice2@pbs' WHERE userid = 'alice@pbs'");
    CHECK(Eventually([&] { return Whoami(c, alice.ticket) == 401; }));
    CHECK(Eventually([&] { return g.Read(token) == 401; }));
    // The account itself lives on under its new name.
    CHECK(Eventually([&] { return LogIn(c, "alice2@pbs", "pw").status == 200; }));
    // Renewing with the old name's ticket fails too.
    CHECK(LogIn(c, "alice@pbs", alice.ticket).status == 401);

    // A new account that takes the old name never honours the old name's ticket or token.
    AddAccount(g.pg().Conninfo(), "alice@pbs", "new");
    REQUIRE(Eventually([&] { return LogIn(c, "alice@pbs", "new").status == 200; }));
    CHECK(Whoami(c, alice.ticket) == 401);
    CHECK(g.Read(token) == 401);
    CHECK(LogIn(c, "alice@pbs", alice.ticket).status == 401);
  }

  SECTION("delete bob@pbs, then create bob@pbs again") {
    auto [bob, token] = LogInAndMint(g, c, "bob@pbs");

    g.pg().Sql("DELETE FROM accounts WHERE userid = 'bob@pbs'");
    CHECK(Eventually([&] { return Whoami(c, bob.ticket) == 401; }));
    CHECK(Eventually([&] { return g.Read(token) == 401; }));
    CHECK(g.pg().Sql("SELECT count(*) FROM api_tokens WHERE userid = 'bob@pbs'") ==
          "0");  // cascaded

    AddAccount(g.pg().Conninfo(), "bob@pbs", "new");
    REQUIRE(Eventually([&] { return LogIn(c, "bob@pbs", "new").status == 200; }));
    PasswordLogin fresh = LogIn(c, "bob@pbs", "new");
    REQUIRE(fresh.status == 200);
    CHECK(Whoami(c, fresh.ticket) == 200);
    CHECK(Whoami(c, bob.ticket) == 401);
    CHECK(LogIn(c, "bob@pbs", bob.ticket).status == 401);
    CHECK(g.Read(token) == 401);
  }
}

TEST_CASE("odd timestamps load in every column and deny only their own row", "[grants]") {
  Grants g;
  CheckedClient c = g.b.stack->Client();
  const std::string far_past = "'4713-01-01 00:00:00+00 BC'";
  const std::string far_future = "'294276-12-31 23:59:59+00'";

  // Accounts: one per odd expiry, each with a ticket and a token made while it was valid.
  struct Person {
    std::string userid, expires;
    bool honoured;
    PasswordLogin tickets;
    std::string token;
  };
  std::vector<Person> people = {{"inf@pbs", "'infinity'", true, {}, {}},
                                {"neginf@pbs", "'-infinity'", false, {}, {}},
                                {"past@pbs", far_past, false, {}, {}},
                                {"future@pbs", far_future, true, {}, {}}};
  for (Person& p : people) {
    AddAccount(g.pg().Conninfo(), p.userid, "pw");
    REQUIRE(Eventually([&] { return (p.tickets = LogIn(c, p.userid, "pw")).status == 200; }));
    p.token = g.Mint(p.userid, {"--read"}).first;
  }
  // Grants of alice: one per odd expiry.
  struct Grant {
    std::string expires;
    bool honoured;
    std::string token;
  };
  std::vector<Grant> grants = {{"'infinity'", true, {}},
                               {"'-infinity'", false, {}},
                               {far_past, false, {}},
                               {far_future, true, {}}};
  for (Grant& grant : grants) {
    auto [token, jti] = g.Mint("alice@pbs", {"--read"});
    grant.token = token;
    g.pg().Sql("UPDATE api_tokens SET expires_at = " + grant.expires + " WHERE jti = '" + jti +
               "'");
  }
  // Revocations: bob logs out one of two sessions; the revocation's expiry then takes odd values.
  // (A ticket is the user and the second it was issued, signed: a second login within the same
  // second is stamped another second, auth/ticket_service.cc Issue, so the tickets differ.)
  PasswordLogin bob_out = LogIn(c, "bob@pbs", "pw");
  PasswordLogin bob_in = LogIn(c, "bob@pbs", "pw");
  REQUIRE(bob_in.ticket != bob_out.ticket);
  REQUIRE(bob_out.status == 200);
  REQUIRE(bob_in.status == 200);
  REQUIRE(Status(c.Delete(kTicket, {{"Cookie", "PBSAuthCookie=" + bob_out.ticket},
                                    {"CSRFPreventionToken", bob_out.csrf}})) == 200);
  for (const std::string& odd :
       {std::string("'infinity'"), std::string("'-infinity'"), far_past, far_future}) {
    g.pg().Sql(
        "INSERT INTO revoked_tickets (ticket_hash, userid, expires_at) VALUES "
        "(encode(sha256(convert_to(" +
        odd + "::text, 'UTF8')), 'hex'), 'nobody@pbs', " + odd + ")");
  }
  for (Person& p : people) {
    g.pg().Sql("UPDATE accounts SET expires_at = " + p.expires + " WHERE userid = '" + p.userid +
               "'");
  }

  auto expect_all = [&](const char* when) {
    INFO(when);
    for (Person& p : people) {
      INFO(p.userid + " expires " + p.expires);
      int code = p.honoured ? 200 : 401;
      CHECK(Eventually([&] { return Whoami(c, p.tickets.ticket) == code; }));
      CHECK(LogIn(c, p.userid, "pw").status == code);
      CHECK(g.Read(p.token) == (p.honoured ? 404 : 401));
    }
    for (Grant& grant : grants) {
      INFO("grant expires " + grant.expires);
      CHECK(g.Read(grant.token) == (grant.honoured ? 404 : 401));
    }
    // Everyone else keeps working; the logged-out session stays out.
    CHECK(Whoami(c, bob_in.ticket) == 200);
    CHECK(Whoami(c, bob_out.ticket) == 401);
    CHECK(LogIn(c, "alice@pbs", "pw").status == 200);
  };
  expect_all("applied one notification at a time");

  // The revocation kept for good, or for as long as time goes: still refused after a reload.
  for (const std::string& odd : {std::string("'infinity'"), far_future}) {
    g.pg().Sql("UPDATE revoked_tickets SET expires_at = " + odd + " WHERE userid = 'bob@pbs'");
    g.pg().Sql("NOTIFY tessera_revocations, '*'");
    expect_all("after a full reload");
  }

  // A row written before sql/0004's constraints that the worker cannot read (a userid of more
  // than 64 bytes). No ticket or token can name such an account, but a grant moved to it can be
  // asked for: that grant is refused alone, and logged; everyone else goes on.
  const std::string odd_userid = "repeat('ü', 40) || '@pbs'";
  g.pg().Sql(
      "ALTER TABLE accounts DROP CONSTRAINT accounts_userid_bytes; "
      "INSERT INTO accounts (userid, password_hash) "
      "SELECT " +
      odd_userid +
      ", password_hash FROM accounts WHERE userid = 'alice@pbs'; "
      "ALTER TABLE accounts ADD CONSTRAINT accounts_userid_bytes "
      "CHECK (octet_length(userid) BETWEEN 3 AND 64) NOT VALID");
  auto [moved, moved_jti] = g.Mint("alice@pbs", {"--read"});
  REQUIRE(g.Read(moved) == 404);
  g.pg().Sql("UPDATE api_tokens SET userid = " + odd_userid + " WHERE jti = '" + moved_jti + "'");
  CHECK(Eventually([&] { return g.Read(moved) == 401; }));
  CHECK(Eventually([&] {
    return g.b.stack->worker().Log().find("refused: not a userid") != std::string::npos;
  }));
  g.pg().Sql("NOTIFY tessera_accounts, 'junk'");
  expect_all("after a start-over with an unreadable row");
  CHECK(g.Read(moved) == 401);
  // And the constraint refuses such a row now.
  CHECK_THROWS(
      g.pg().Sql("INSERT INTO accounts (userid, password_hash) "
                 "SELECT repeat('ü', 40) || '@pbs2', password_hash FROM accounts LIMIT 1"));
  CHECK(Status(c.Get("/api2/json/health")) == 200);
}

TEST_CASE("a flood of well-formed NOTIFYs neither delays a revocation nor causes a 503",
          "[grants]") {
  Grants g;
  auto [token, jti] = g.Mint("alice@pbs", {"--read"});
  REQUIRE(g.Read(token) == 404);  // honoured (no repository yet)
  // Any role may NOTIFY. 60000 account changes, then the revocation behind them: the worker must
  // not work through the flood one query at a time while the revocation waits and its state
  // goes stale (503).
  g.pg().Sql(
      "SELECT count(pg_notify('tessera_accounts', 'u' || n || '@pbs')) FROM generate_series(1, "
      "60000) n");
  g.pg().Sql("UPDATE api_tokens SET revoked_at = now() WHERE jti = '" + jti + "'");
  std::vector<int> seen;
  auto deadline = std::chrono::steady_clock::now() + 1s;
  int status = 0;
  do {
    status = g.Read(token);
    seen.push_back(status);
    if (status == 401) break;
    std::this_thread::sleep_for(20ms);
  } while (std::chrono::steady_clock::now() < deadline);
  INFO("statuses seen: " << nlohmann::json(seen).dump());
  CHECK(status == 401);
  CHECK(std::count(seen.begin(), seen.end(), 503) == 0);
  // Authentication stays up while the flood goes on being read: for longer than a worker that
  // stopped hearing PostgreSQL would keep answering (auth_max_staleness_ms, 1500), every answer
  // is the revocation's 401, never a 503. The time itself is what is tested here.
  seen.clear();
  bool never_stale = Throughout(
      [&] {
        seen.push_back(g.Read(token));
        return seen.back() == 401;
      },
      1600ms);
  INFO("statuses seen since: " << nlohmann::json(seen).dump());
  CHECK(never_stale);
  CHECK(g.Read(token) == 401);
  auto [fresh, fresh_jti] = g.Mint("bob@pbs", {"--read"});
  CHECK(Eventually([&] { return g.Read(fresh) == 404; }));
}

namespace {
// Runs `sql` in a session that LISTENs on `channel` first (a session hears its own notifications,
// as every worker does) and returns the payloads it was sent, in order.
std::vector<std::string> Notified(PgCluster& pg, const std::string& channel,
                                  const std::string& sql) {
  std::string out = pg.Sql("LISTEN " + channel + "; " + sql);
  std::vector<std::string> payloads;
  const std::string open = "Asynchronous notification \"" + channel + "\" with payload \"";
  const std::string close = "\" received from server process";
  for (std::size_t at = 0; (at = out.find(open, at)) != std::string::npos;) {
    at += open.size();
    std::size_t end = out.find(close, at);
    REQUIRE(end != std::string::npos);
    payloads.push_back(out.substr(at, end - at));
  }
  return payloads;
}

std::vector<std::string> Sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}
}  // namespace

TEST_CASE("a statement changing many grants sends one notification and applies within a second",
          "[grants]") {
  Grants g;
  std::vector<std::string> alices;
  for (int i = 0; i < 3; ++i) alices.push_back(g.Mint("alice@pbs", {"--read"}).first);
  auto [bobs, bobs_jti] = g.Mint("bob@pbs", {"--read"});
  for (const std::string& token : alices) {
    REQUIRE(g.Read(token) == 404);
    REQUIRE(g.Read(token) == 404);
  }
  REQUIRE(g.Read(bobs) == 404);

  // 100 000 more grants in one INSERT: one notification, not one a row.
  CHECK(Notified(g.pg(), "tessera_tokens",
                 "INSERT INTO api_tokens (jti, userid, read, expires_at) "
                 "SELECT 'bulk' || n, 'alice@pbs', true, now() + interval '1 day' "
                 "FROM generate_series(1, 100000) n") == std::vector<std::string>{"*"});
  REQUIRE(g.pg().Sql("SELECT count(*) FROM api_tokens") == "100004");
  for (const std::string& token : alices) CHECK(g.Read(token) == 404);

  // Every grant of alice's revoked by one UPDATE: one notification, applied within a second.
  CHECK(Notified(g.pg(), "tessera_tokens",
                 "UPDATE api_tokens SET revoked_at = now() WHERE userid = 'alice@pbs'") ==
        std::vector<std::string>{"*"});
  for (const std::string& token : alices) CHECK(Eventually([&] { return g.Read(token) == 401; }));
  CHECK(g.Read(bobs) == 404);

  // A statement of a few rows names each of them, under every name it had (0004); one that
  // changes nothing says nothing.
  CHECK(Sorted(Notified(g.pg(), "tessera_tokens",
                        "UPDATE api_tokens SET jti = 'moved' || jti "
                        "WHERE jti IN ('bulk1', 'bulk2')")) ==
        std::vector<std::string>{"bulk1", "bulk2", "movedbulk1", "movedbulk2"});
  CHECK(Notified(g.pg(), "tessera_tokens", "DELETE FROM api_tokens WHERE jti = 'bulk3'") ==
        std::vector<std::string>{"bulk3"});
  CHECK(
      Notified(g.pg(), "tessera_tokens", "UPDATE api_tokens SET read = true WHERE false").empty());
  // 64 rows are still named one by one; 65 are '*'.
  CHECK(Notified(g.pg(), "tessera_tokens",
                 "UPDATE api_tokens SET write = true WHERE jti IN "
                 "(SELECT 'bulk' || n FROM generate_series(10, 73) n)")
            .size() == 64);
  CHECK(Notified(g.pg(), "tessera_tokens",
                 "UPDATE api_tokens SET write = true WHERE jti IN "
                 "(SELECT 'bulk' || n FROM generate_series(10, 74) n)") ==
        std::vector<std::string>{"*"});
}

TEST_CASE("a token refused for want of its grant is honoured within a second of its insert",
          "[grants]") {
  Grants g;
  auto [token, jti] = g.Mint("alice@pbs", {"--read"});
  REQUIRE(g.Read(token) == 404);
  g.pg().Sql("CREATE TABLE saved AS SELECT * FROM api_tokens WHERE jti = '" + jti + "'");
  const std::string restore = "INSERT INTO api_tokens SELECT * FROM saved";

  // Deleted: the worker finds no row and remembers that; the insert of that jti (one row, its
  // own notification) makes it look again.
  g.pg().Sql("DELETE FROM api_tokens WHERE jti = '" + jti + "'");
  REQUIRE(Eventually([&] { return g.Read(token) == 401; }));
  REQUIRE(g.Read(token) == 401);
  CHECK(Notified(g.pg(), "tessera_tokens", restore) == std::vector<std::string>{jti});
  CHECK(Eventually([&] { return g.Read(token) == 404; }));

  // The same row inside a bulk insert, whose one '*' makes it look again too.
  g.pg().Sql("DELETE FROM api_tokens WHERE jti = '" + jti + "'");
  REQUIRE(Eventually([&] { return g.Read(token) == 401; }));
  REQUIRE(g.Read(token) == 401);
  CHECK(Notified(g.pg(), "tessera_tokens",
                 "INSERT INTO api_tokens (jti, userid, read, expires_at) "
                 "SELECT jti, userid, read, expires_at FROM saved UNION ALL "
                 "SELECT 'bulk' || n, 'bob@pbs', true, now() + interval '1 day' "
                 "FROM generate_series(1, 1000) n") == std::vector<std::string>{"*"});
  CHECK(Eventually([&] { return g.Read(token) == 404; }));
}

TEST_CASE("a statement changing many accounts sends one notification and ends their credentials",
          "[grants]") {
  Grants g;
  CheckedClient c = g.b.stack->Client();
  auto [alice, alice_token] = LogInAndMint(g, c, "alice@pbs");
  auto [bob, bob_token] = LogInAndMint(g, c, "bob@pbs");
  g.pg().Sql(
      "INSERT INTO accounts (userid, password_hash) SELECT 'user' || n || '@pbs', password_hash "
      "FROM accounts, generate_series(1, 100) n WHERE userid = 'alice@pbs'");

  // Everyone but bob disabled by one UPDATE: one notification on the accounts' channel.
  CHECK(Notified(g.pg(), "tessera_accounts",
                 "UPDATE accounts SET enabled = false WHERE userid <> 'bob@pbs'") ==
        std::vector<std::string>{"*"});
  CHECK(Eventually([&] { return Whoami(c, alice.ticket) == 401; }));
  CHECK(Eventually([&] { return g.Read(alice_token) == 401; }));
  CHECK(Whoami(c, bob.ticket) == 200);
  CHECK(g.Read(bob_token) == 404);
  // sql/0007 still ended the sessions of every account it disabled.
  CHECK(g.pg().Sql("SELECT count(*) FROM sessions s JOIN accounts a ON a.id = s.account_id "
                   "WHERE a.userid = 'alice@pbs' AND s.ended_at IS NULL") == "0");

  // Enabled again, by one statement: alice's token is honoured again (a grant does not end with
  // a session), her old ticket stays dead.
  CHECK(Notified(g.pg(), "tessera_accounts", "UPDATE accounts SET enabled = true") ==
        std::vector<std::string>{"*"});
  CHECK(Eventually([&] { return g.Read(alice_token) == 404; }));
  CHECK(Whoami(c, alice.ticket) == 401);
  CHECK(LogIn(c, "alice@pbs", "pw").status == 200);
}

TEST_CASE("with more grants in use than the cache holds, a revocation applies within a second",
          "[grants]") {
  // A worker that holds 8 grants (and 8 accounts) at most, 10 000 other grants in the table and
  // 20 tokens in use by turns: every round reads some grants again, none is ever stale.
  Grants g("auth_cache_entries = 8\n");
  g.pg().Sql(
      "INSERT INTO api_tokens (jti, userid, read, expires_at) "
      "SELECT 'other' || n, 'bob@pbs', true, now() + interval '1 day' "
      "FROM generate_series(1, 10000) n");
  std::vector<std::pair<std::string, std::string>> tokens;  // {token, jti}
  for (int i = 0; i < 20; ++i) tokens.push_back(g.Mint("alice@pbs", {"--read"}));
  for (int round = 0; round < 3; ++round) {
    for (const auto& [token, jti] : tokens) REQUIRE(g.Read(token) == 404);
  }
  // One token used long ago (not held any more) and the one used last (held) are revoked, each
  // by its own statement.
  const auto& [early, early_jti] = tokens.front();
  const auto& [recent, recent_jti] = tokens.back();
  REQUIRE(g.Read(recent) == 404);
  for (const std::string* jti : {&early_jti, &recent_jti}) {
    g.pg().Sql("UPDATE api_tokens SET revoked_at = now() WHERE jti = '" + *jti + "'");
  }
  CHECK(Eventually([&] { return g.Read(recent) == 401; }));
  CHECK(Eventually([&] { return g.Read(early) == 401; }));
  for (std::size_t i = 1; i + 1 < tokens.size(); ++i) {
    INFO(i);
    CHECK(g.Read(tokens[i].first) == 404);
  }
  // A rights change to a held grant applies too.
  const auto& [narrowed, narrowed_jti] = tokens[10];
  REQUIRE(g.Read(narrowed) == 404);
  g.pg().Sql("UPDATE api_tokens SET repo = 'other' WHERE jti = '" + narrowed_jti + "'");
  CHECK(Eventually([&] { return g.Read(narrowed) == 403; }));
}
