// Server-side sessions, the login throttle and retention, through real nginx, PostgreSQL and
// workers: logout ends the whole renewal chain on every worker (and only that session); failed
// password logins are counted per (account, address) and per address, atomically; tables that
// grow with logins are pruned.
#include <httplib.h>

#include <array>
#include <atomic>
#include <catch2/catch.hpp>
#include <ctime>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>
#include <vector>

#include "harness.h"
#include "http_client.h"

using namespace tessera::testing;
using namespace std::chrono_literals;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {
constexpr const char* kTicket = "/api2/json/access/ticket";
constexpr const char* kWhoami = "/api2/json/access/whoami";
constexpr const char* kForm = "application/x-www-form-urlencoded";

httplib::Headers CookieHeaders(const std::string& ticket, const std::string& csrf = "") {
  httplib::Headers h = {{"Cookie", "__Host-PBSAuthCookie=" + FormEncode(ticket)}};
  if (!csrf.empty()) h.emplace("CSRFPreventionToken", csrf);
  return h;
}

int Whoami(CheckedClient& c, const std::string& ticket) {
  auto r = c.Get(kWhoami, CookieHeaders(ticket));
  REQUIRE(r);
  return r->status;
}

// A client of `port` whose connections come from the loopback address `source` (nginx passes
// it to the worker as REMOTE_ADDR).
CheckedClient From(const std::string& source, int port) {
  CheckedClient c("127.0.0.1", port);
  c.set_interface(source);
  c.set_read_timeout(30, 0);
  return c;
}

const std::string kCheapHash = "password_opslimit = 1\npassword_memlimit_kib = 8192\n";
}  // namespace

TEST_CASE("logout ends every ticket of the session on every worker; other sessions live on",
          "[session]") {
  Stack stack(kCheapHash);
  AddAccount(stack.pg().Conninfo(), "alice@pbs", "pw");
  std::string dir2 = MakeTempDir("tessera-worker2");
  for (const char* f : {"/ticket.k4.secret", "/csrf.k4.local"})
    fs::copy_file(stack.dir() + f, dir2 + f);
  Worker worker2(dir2, stack.pg().Conninfo(), kCheapHash);
  worker2.Start();
  Nginx nginx2(dir2, worker2.socket());
  CheckedClient c1 = stack.Client();
  CheckedClient c2("127.0.0.1", nginx2.port());

  PasswordLogin t0 = LogIn(c1, "alice@pbs", "pw");
  REQUIRE(t0.status == 200);
  PasswordLogin other = LogIn(c1, "alice@pbs", "pw");  // another browser, before the logout
  REQUIRE(other.status == 200);
  PasswordLogin t1 = LogIn(c1, "alice@pbs", t0.ticket);  // renewal
  REQUIRE(t1.status == 200);
  PasswordLogin t2 = LogIn(c2, "alice@pbs", t1.ticket);  // renewal on the other worker
  REQUIRE(t2.status == 200);
  CHECK(std::set<std::string>{t0.ticket, t1.ticket, t2.ticket, other.ticket}.size() == 4);
  for (const auto& t : {t0.ticket, t1.ticket, t2.ticket, other.ticket}) {
    CHECK(Whoami(c1, t) == 200);
    CHECK(Whoami(c2, t) == 200);
  }

  auto out = c1.Delete(kTicket, CookieHeaders(t2.ticket, t2.csrf));
  REQUIRE(out);
  REQUIRE(out->status == 200);

  for (const auto& t : {t0.ticket, t1.ticket, t2.ticket}) {
    CHECK(Whoami(c1, t) == 401);
    CHECK(Eventually([&] { return Whoami(c2, t) == 401; }));
    CHECK(LogIn(c1, "alice@pbs", t).status == 401);
    CHECK(LogIn(c2, "alice@pbs", t).status == 401);
  }
  CHECK(stack.pg().Sql("SELECT count(*) FROM revoked_tickets") == "3");
  CHECK(stack.pg().Sql("SELECT count(*) FROM sessions WHERE ended_at IS NOT NULL") == "1");
  // The other browser's session is untouched, and it still renews.
  CHECK(Whoami(c1, other.ticket) == 200);
  CHECK(Whoami(c2, other.ticket) == 200);
  PasswordLogin renewed = LogIn(c2, "alice@pbs", other.ticket);
  CHECK(renewed.status == 200);
  CHECK(Whoami(c1, renewed.ticket) == 200);
  fs::remove_all(dir2);
}

TEST_CASE("a renewal racing a logout never leaves a live ticket", "[session]") {
  Stack stack(kCheapHash);
  AddAccount(stack.pg().Conninfo(), "alice@pbs", "pw");
  CheckedClient c = stack.Client();
  PasswordLogin first = LogIn(c, "alice@pbs", "pw");
  REQUIRE(first.status == 200);

  std::mutex mutex;
  std::vector<std::string> issued;
  std::atomic<bool> stop{false};
  std::vector<std::thread> renewers;
  constexpr int kChains = 4;
  std::array<std::atomic<int>, kChains> attempts{};  // renewals each chain has finished
  // Four chains renewing every 100 ms, each with tickets of its own (a second renewal within one
  // second is stamped another second: auth/ticket_service.cc, Issue).
  for (int i = 0; i < kChains; ++i) {
    renewers.emplace_back([&, i] {
      CheckedClient mine = stack.Client();
      std::string current = first.ticket;
      while (!stop.load()) {
        auto r = mine.Post(kTicket, "username=alice%40pbs&password=" + FormEncode(current), kForm);
        if (const httplib::Response* answer = r.get(); answer && answer->status == 200) {
          current = json::parse(answer->body)["data"]["ticket"];
          std::lock_guard lock(mutex);
          issued.push_back(current);
        }  // after the logout: keeps trying the last one
        ++attempts[i];
        std::this_thread::sleep_for(100ms);
      }
    });
  }
  // The logout comes while every chain is renewing: each has made three attempts.
  auto each_chain_at = [&](const std::array<int, kChains>& least) {
    for (int i = 0; i < kChains; ++i)
      if (attempts[i].load() < least[i]) return false;
    return true;
  };
  REQUIRE(Eventually([&] { return each_chain_at({3, 3, 3, 3}); }, 10s));
  auto out = c.Delete(kTicket, CookieHeaders(first.ticket, first.csrf));
  REQUIRE(out);
  CHECK(out->status == 200);
  // Each chain tries again after the logout: two more attempts, so one began after it.
  std::array<int, kChains> after_logout;
  for (int i = 0; i < kChains; ++i) after_logout[i] = attempts[i].load() + 2;
  CHECK(Eventually([&] { return each_chain_at(after_logout); }, 10s));
  stop.store(true);
  for (auto& t : renewers) t.join();

  REQUIRE(issued.size() > 0);
  INFO(issued.size() << " tickets renewed");
  std::size_t live = 0;
  for (const auto& t : issued) live += Whoami(c, t) == 200 ? 1 : 0;
  CHECK(live == 0);
  CHECK(LogIn(c, "alice@pbs", issued.back()).status == 401);
}

TEST_CASE("failed logins are throttled per (account, address) and per address, atomically",
          "[session]") {
  Stack stack(
      kCheapHash +
      "login_max_user_failures = 5\nlogin_max_addr_failures = 8\nlogin_failure_window = 60\n");
  AddAccount(stack.pg().Conninfo(), "alice@pbs", "pw");
  CheckedClient local = From("127.0.0.1", stack.port());
  PasswordLogin before =
      LogIn(local, "alice@pbs", "pw");  // a ticket from this address, for renewal
  REQUIRE(before.status == 200);

  // 30 parallel wrong passwords: exactly 5 are verified, the others refused before hashing.
  std::vector<int> statuses(30);
  std::vector<std::thread> guessers;
  for (int i = 0; i < 30; ++i) {
    guessers.emplace_back([&, i] {
      CheckedClient mine = From("127.0.0.1", stack.port());
      auto r = mine.Post(kTicket, "username=alice%40pbs&password=guess" + std::to_string(i), kForm);
      statuses[i] = r.get() ? r.get()->status : -1;
    });
  }
  for (auto& t : guessers) t.join();
  CHECK(std::count(statuses.begin(), statuses.end(), 401) == 5);
  CHECK(std::count(statuses.begin(), statuses.end(), 429) == 25);
  CHECK(stack.pg().Sql("SELECT count(*) FROM auth_audit WHERE reason = 'wrong password'") == "5");
  // One audit row per throttled window, not per refusal: the (account, address) window at its
  // 6th attempt and the address window at its 21st.
  CHECK(stack.pg().Sql("SELECT count(*) FROM auth_audit WHERE event = 'login-throttled'") == "2");

  // The right password from the flooded address: 429, answered at once, with Retry-After.
  auto start = std::chrono::steady_clock::now();
  PasswordLogin throttled = LogIn(local, "alice@pbs", "pw");
  CHECK(std::chrono::steady_clock::now() - start < 1s);
  CHECK(throttled.status == 429);
  int retry = std::stoi(throttled.retry_after.empty() ? "0" : throttled.retry_after);
  CHECK(retry >= 1);
  CHECK(retry <= 60);

  // The owner logs in from another address; renewal works from the flooded one.
  CheckedClient elsewhere = From("127.0.0.2", stack.port());
  CHECK(LogIn(elsewhere, "alice@pbs", "pw").status == 200);
  PasswordLogin renewed = LogIn(local, "alice@pbs", before.ticket);
  CHECK(renewed.status == 200);
  CHECK(Whoami(local, renewed.ticket) == 200);

  // Per address: 8 attempts from 127.0.0.3 spread over other names exhaust the address...
  CheckedClient spray = From("127.0.0.3", stack.port());
  for (int i = 0; i < 8; ++i)
    CHECK(LogIn(spray, "user" + std::to_string(i) + "@pbs", "x").status == 401);
  CHECK(LogIn(spray, "alice@pbs", "pw").status == 429);
  // ...and nobody else.
  CHECK(LogIn(elsewhere, "alice@pbs", "pw").status == 200);
  CHECK(stack.pg().Sql(
            "SELECT client FROM auth_audit WHERE event = 'login' ORDER BY id DESC LIMIT 1") ==
        "127.0.0.2");
}

TEST_CASE("a successful login forgives its address's failures for the account", "[session]") {
  Stack stack(kCheapHash + "login_max_user_failures = 3\nlogin_failure_window = 60\n");
  AddAccount(stack.pg().Conninfo(), "alice@pbs", "pw");
  CheckedClient c = stack.Client();
  for (int round = 0; round < 3; ++round) {
    INFO(round);
    CHECK(LogIn(c, "alice@pbs", "bad").status == 401);
    CHECK(LogIn(c, "alice@pbs", "bad").status == 401);
    CHECK(LogIn(c, "alice@pbs", "pw").status == 200);
  }
  CHECK(stack.pg().Sql("SELECT count(*) FROM login_failures WHERE subject LIKE 'pair:%'") == "0");
}

TEST_CASE("audit rows, throttle windows, sessions and revocations are pruned by retention",
          "[session]") {
  Stack stack(
      kCheapHash + "audit_retention_days = 1\nprune_interval = 3\nlogin_failure_window = 60\n", "",
      false, /*movable_clock=*/true);
  auto& pg = stack.pg();
  AddAccount(pg.Conninfo(), "alice@pbs", "pw");
  CheckedClient c = stack.Client();
  REQUIRE(LogIn(c, "alice@pbs", "pw").status == 200);  // the first pass of this worker

  pg.Sql(
      "INSERT INTO auth_audit (at, event, reason) VALUES "
      "(now() - interval '2 days', 'old', 'a'), (now() - interval '25 hours', 'old', 'b'), "
      "(now() - interval '23 hours', 'recent', 'c')");
  pg.Sql(
      "INSERT INTO login_failures (subject, failures, window_start) VALUES "
      "('addr:192.0.2.1', 3, now() - interval '61 seconds'), ('addr:192.0.2.2', 3, now())");
  pg.Sql(
      "INSERT INTO sessions (account_id, renewed_at) SELECT id, now() - interval '3 hours' FROM "
      "accounts");
  pg.Sql(
      "INSERT INTO session_tickets (ticket_hash, session_id, expires_at) "
      "SELECT repeat('a', 64), max(id), now() - interval '1 hour' FROM sessions");
  pg.Sql(
      "INSERT INTO revoked_tickets (ticket_hash, userid, expires_at) VALUES "
      "(repeat('b', 64), 'alice@pbs', now() - interval '1 minute'), "
      "(repeat('c', 64), 'alice@pbs', now() + interval '1 hour')");

  // Within the interval nothing is pruned...
  REQUIRE(LogIn(c, "alice@pbs", "pw").status == 200);
  CHECK(pg.Sql("SELECT count(*) FROM auth_audit WHERE event = 'old'") == "2");
  // ...once it has passed (the worker's clock moved past it), the next login prunes what
  // outlived its retention, and only that.
  stack.worker().MoveClock(4s);
  REQUIRE(LogIn(c, "alice@pbs", "pw").status == 200);
  CHECK(pg.Sql("SELECT count(*) FROM auth_audit WHERE event = 'old'") == "0");
  CHECK(pg.Sql("SELECT count(*) FROM auth_audit WHERE event = 'recent'") == "1");
  CHECK(pg.Sql("SELECT count(*) FROM auth_audit WHERE event = 'login'") == "3");
  CHECK(pg.Sql("SELECT subject FROM login_failures WHERE subject LIKE 'addr:192.0.2.%'") ==
        "addr:192.0.2.2");
  CHECK(pg.Sql("SELECT count(*) FROM sessions WHERE renewed_at < now() - interval '1 hour'") ==
        "0");
  CHECK(pg.Sql("SELECT count(*) FROM sessions") == "3");  // the three logins'
  CHECK(pg.Sql("SELECT count(*) FROM session_tickets WHERE ticket_hash = repeat('a', 64)") == "0");
  CHECK(pg.Sql("SELECT ticket_hash FROM revoked_tickets") == std::string(64, 'c'));
}

TEST_CASE("no ticket is stamped ahead of the clock, however many logins collide", "[session]") {
  // More parallel attempts than the default throttle lets through from one address.
  Stack stack(kCheapHash + "login_max_user_failures = 50\nlogin_max_addr_failures = 100\n");
  AddAccount(stack.pg().Conninfo(), "alice@pbs", "pw");
  // Parallel logins in the same second would get identical tickets; the ones that collide must
  // take another stamp — never a future one, which would outlive a password change made now.
  std::vector<std::string> tickets(14);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < tickets.size(); ++i) {
    threads.emplace_back([&, i] {
      CheckedClient c = stack.Client();
      auto r = c.Post(kTicket, "username=alice%40pbs&password=pw", kForm);
      if (const httplib::Response* answer = r.get(); answer && answer->status == 200) {
        tickets[i] = json::parse(answer->body)["data"]["ticket"];
      }
    });
  }
  for (auto& t : threads) t.join();
  std::int64_t after = static_cast<std::int64_t>(std::time(nullptr));
  std::set<std::string> distinct;
  for (const std::string& t : tickets) {
    REQUIRE_FALSE(t.empty());
    distinct.insert(t);
    // PBS:alice@pbs:<TIME>::<SIG>
    std::size_t start = t.find(':', 4) + 1;
    std::int64_t stamp = std::stoll(t.substr(start, t.find("::") - start), nullptr, 16);
    CHECK(stamp <= after);
  }
  CHECK(distinct.size() == tickets.size());
}

TEST_CASE("an account change ends every session, whatever its tickets' stamps", "[session]") {
  Stack stack(kCheapHash);
  AddAccount(stack.pg().Conninfo(), "alice@pbs", "pw");
  AddAccount(stack.pg().Conninfo(), "dave@pbs", "pw");
  CheckedClient c = stack.Client();
  PasswordLogin a1 = LogIn(c, "alice@pbs", "pw");
  PasswordLogin a2 = LogIn(c, "alice@pbs", "pw");
  PasswordLogin d = LogIn(c, "dave@pbs", "pw");
  REQUIRE(a1.status == 200);
  REQUIRE(a2.status == 200);
  REQUIRE(d.status == 200);

  // Disabled and enabled again by SQL, without touching the epoch: the old tickets stay dead.
  stack.pg().Sql("UPDATE accounts SET enabled = false WHERE userid = 'alice@pbs'");
  stack.pg().Sql("UPDATE accounts SET enabled = true WHERE userid = 'alice@pbs'");
  for (const auto& t : {a1.ticket, a2.ticket}) {
    CHECK(Eventually([&] { return Whoami(c, t) == 401; }));
    CHECK(LogIn(c, "alice@pbs", t).status == 401);
  }
  CHECK(stack.pg().Sql("SELECT count(*) FROM sessions s JOIN accounts a ON a.id = s.account_id "
                       "WHERE a.userid = 'alice@pbs' AND s.ended_at IS NULL") == "0");
  CHECK(LogIn(c, "alice@pbs", "pw").status == 200);  // a new login works at once

  // Deleted and made again for someone else: the old holder's ticket is revoked, not merely old.
  std::string hash = stack.pg().Sql("SELECT encode(sha256(decode(split_part('" + d.ticket +
                                    "', '::', 2) || '==', 'base64')), 'hex')");
  stack.pg().Sql("DELETE FROM accounts WHERE userid = 'dave@pbs'");
  AddAccount(stack.pg().Conninfo(), "dave@pbs", "another");
  CHECK(Eventually([&] { return Whoami(c, d.ticket) == 401; }));
  CHECK(stack.pg().Sql("SELECT count(*) FROM revoked_tickets WHERE ticket_hash = '" + hash + "'") ==
        "1");
}

TEST_CASE("a spray of user names from one address stops adding rows once the address is throttled",
          "[session]") {
  Stack stack(kCheapHash);
  AddAccount(stack.pg().Conninfo(), "alice@pbs", "pw");
  CheckedClient spray = From("127.0.0.4", stack.port());
  int refused = 0;
  for (int i = 0; i < 120; ++i) {
    PasswordLogin l = LogIn(spray, "user" + std::to_string(i) + "@pbs", "guess");
    if (l.status == 429) ++refused;
  }
  CHECK(refused == 100);  // the default allows 20 attempts per address and window
  // One row for the address and one per name tried while it was within its limit — not one per
  // request; and one audit row for the throttled window, not one per refusal.
  CHECK(stack.pg().Sql("SELECT count(*) FROM login_failures WHERE subject LIKE '%127.0.0.4%'") ==
        "21");
  CHECK(stack.pg().Sql("SELECT count(*) FROM auth_audit WHERE event = 'login-throttled'") == "1");
  // The owner, elsewhere, is untouched.
  CheckedClient owner = From("127.0.0.5", stack.port());
  CHECK(LogIn(owner, "alice@pbs", "pw").status == 200);
}
