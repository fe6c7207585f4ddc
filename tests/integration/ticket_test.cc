// The ticket API through real nginx and the worker: both login flows, renewal, cookies, CSRF,
// forged and stale tickets, account state, logout seen by a second worker, throttling, rehash.
#include "crypto/ticket.h"

#include <httplib.h>
#include <sodium.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "crypto/base64url.h"
#include "crypto/csrf.h"
#include "crypto/keyring.h"
#include "crypto/paserk.h"
#include "harness.h"
#include "http_client.h"

using namespace tessera;
using namespace tessera::testing;
using namespace std::chrono_literals;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {
constexpr const char* kTicket = "/api2/json/access/ticket";
constexpr const char* kWhoami = "/api2/json/access/whoami";
constexpr const char* kForm = "application/x-www-form-urlencoded";
const std::string kConfig =
    "password_opslimit = 1\npassword_memlimit_kib = 8192\n"
    "login_max_user_failures = 3\nlogin_failure_window = 3\n";

json Body(const CheckedResult& r) { return json::parse(r->body); }
std::int64_t Now() { return static_cast<std::int64_t>(std::time(nullptr)); }

httplib::Headers CookieHeaders(const std::string& ticket, const std::string& csrf = "",
                               const std::string& name = "__Host-PBSAuthCookie") {
  httplib::Headers h = {{"Cookie", name + "=" + ticket}};
  if (!csrf.empty()) h.emplace("CSRFPreventionToken", csrf);
  return h;
}

// The service's own keys, read from the files the harness made, to forge tickets in tests.
struct Keys {
  explicit Keys(const std::string& dir)
      : ticket(*crypto::ParseSecretPaserk(Text(dir + "/ticket.k4.secret")), {}),
        csrf(*crypto::CsrfKey::FromBytes(
            crypto::ParseLocalPaserk(Text(dir + "/csrf.k4.local"))->bytes())) {}
  static std::string Text(const std::string& path) {
    std::string s = ReadFile(path);
    while (!s.empty() && s.back() == '\n') s.pop_back();
    return s;
  }
  crypto::TicketKeys ticket;
  crypto::CsrfKey csrf;
};

struct Login {
  int status;
  json data;
  std::string set_cookie;
};

Login DoLogin(CheckedClient& c, const std::string& body, const std::string& type = kForm,
              const httplib::Headers& headers = {}) {
  auto r = c.Post(kTicket, headers, body, type.c_str());
  REQUIRE(r);
  Login out{r->status, json::parse(r->body)["data"], r->get_header_value("Set-Cookie")};
  return out;
}

}  // namespace

TEST_CASE("login flows, cookies, renewal, CSRF and forged tickets", "[ticket]") {
  Stack stack(kConfig);
  AddAccount(stack.pg().Conninfo(), "alice@pbs", "correct horse");
  CheckedClient c = stack.Client();
  Keys keys(stack.dir());

  SECTION("legacy flow returns the ticket in the body and sets no cookie") {
    for (std::string flag :
         {"", "&http-only=0", "&http-only=false", "&http-only=no", "&http-only=off"}) {
      INFO(flag);
      Login l = DoLogin(c, "username=alice%40pbs&password=correct+horse" + flag);
      REQUIRE(l.status == 200);
      CHECK(l.data["username"] == "alice@pbs");
      CHECK(l.data["ticket"].get<std::string>().rfind("PBS:alice@pbs:", 0) == 0);
      CHECK(l.data["CSRFPreventionToken"].is_string());
      CHECK_FALSE(l.data.contains("ticket-info"));
      CHECK(l.set_cookie.empty());
    }
    Login j = DoLogin(c, R"({"username":"alice@pbs","password":"correct horse","http-only":false})",
                      "application/json");
    CHECK(j.status == 200);
    CHECK(j.data.contains("ticket"));
  }

  SECTION("HttpOnly flow sets exactly the cookie and returns ticket-info, not the ticket") {
    for (std::string flag : {"1", "true", "yes", "on", "TRUE"}) {
      INFO(flag);
      Login l = DoLogin(c, "username=alice%40pbs&password=correct+horse&http-only=" + flag);
      REQUIRE(l.status == 200);
      CHECK_FALSE(l.data.contains("ticket"));
      std::string info = l.data["ticket-info"];
      CHECK(info.ends_with("::ticketinfo"));
      std::string prefix = info.substr(0, info.size() - std::string("ticketinfo").size());
      REQUIRE(l.set_cookie.rfind("__Host-PBSAuthCookie=" + prefix, 0) == 0);
      CHECK(l.set_cookie.ends_with("; Secure; SameSite=Lax; HttpOnly; Path=/"));
      CHECK(l.set_cookie.find("Expires") == std::string::npos);
    }
    Login j = DoLogin(c, R"({"username":"alice@pbs","password":"correct horse","http-only":true})",
                      "application/json");
    CHECK(j.status == 200);
    CHECK(j.data.contains("ticket-info"));
    CHECK(DoLogin(c, "username=alice%40pbs&password=correct+horse&http-only=maybe").status == 400);
  }

  Login legacy = DoLogin(c, "username=alice%40pbs&password=correct+horse");
  REQUIRE(legacy.status == 200);
  std::string ticket = legacy.data["ticket"];
  std::string csrf = legacy.data["CSRFPreventionToken"];

  SECTION("later requests authenticate by either cookie name") {
    auto host = c.Get(kWhoami, CookieHeaders(ticket));
    REQUIRE(host->status == 200);
    CHECK(Body(host)["data"]["userid"] == "alice@pbs");
    CHECK(Body(host)["data"]["auth"] == "cookie");
    CHECK(c.Get(kWhoami, CookieHeaders(ticket, "", "PBSAuthCookie"))->status == 200);
    // Proxmox clients percent-encode the cookie value.
    std::string encoded = ticket;
    for (std::size_t p; (p = encoded.find(':')) != std::string::npos;) encoded.replace(p, 1, "%3A");
    CHECK(c.Get(kWhoami, CookieHeaders(encoded))->status == 200);
    CHECK(c.Get(kWhoami)->status == 401);
  }

  SECTION("renewal by body and by cookie, and the stale-cookie fallback") {
    Login renewed = DoLogin(c, "username=alice%40pbs&password=" + FormEncode(ticket));
    CHECK(renewed.status == 200);
    CHECK(renewed.data["ticket"].get<std::string>().rfind("PBS:alice@pbs:", 0) == 0);
    // Someone else's ticket does not renew as alice... nor as anyone else.
    CHECK(DoLogin(c, "username=bob%40pbs&password=" + FormEncode(ticket)).status == 401);

    // HttpOnly renewal reads the cookie; the body's password is then irrelevant.
    Login by_cookie =
        DoLogin(c, "username=alice%40pbs&password=wrong&http-only=1", kForm, CookieHeaders(ticket));
    CHECK(by_cookie.status == 200);
    // A stale cookie does not block a password login...
    std::string stale = keys.ticket.Issue("alice@pbs", Now() - 8000);
    Login fallback = DoLogin(c, "username=alice%40pbs&password=correct+horse&http-only=1", kForm,
                             CookieHeaders(stale));
    CHECK(fallback.status == 200);
    // ...but in that retry a ticket in the body is never accepted.
    Login body_ticket =
        DoLogin(c, "username=alice%40pbs&http-only=1&password=" + FormEncode(ticket), kForm,
                CookieHeaders(stale));
    CHECK(body_ticket.status == 401);
    CHECK(stack.pg().Sql("SELECT count(*) FROM auth_audit WHERE reason LIKE "
                         "'%the body''s ticket is not accepted in the HttpOnly flow'") == "1");
  }

  SECTION("logout by cookie needs alice's own, current CSRF token") {
    // Logout (DELETE) is the cookie-authenticated route that accepts a non-GET method, so only the
    // CSRF check stands between these tokens and a 200 that ends the session.
    AddAccount(stack.pg().Conninfo(), "bob@pbs", "pw");
    Login bob = DoLogin(c, "username=bob%40pbs&password=pw");
    REQUIRE(bob.status == 200);
    std::string bobs = bob.data["CSRFPreventionToken"];
    // Made with the service's own key: only the time (past the 7200 s window) or the user is wrong.
    std::string expired = keys.csrf.Make("alice@pbs", Now() - 7300);
    std::string wrong_mac = csrf;
    char& flipped = wrong_mac[csrf.find(':') + 5];
    flipped = flipped == 'A' ? 'B' : 'A';
    struct Case {
      const char* what;
      std::string token;
    };
    for (const Case& bad :
         {Case{"missing", ""}, Case{"malformed", "0000:abc"}, Case{"wrong MAC", wrong_mac},
          Case{"expired", expired}, Case{"another user's", bobs}}) {
      INFO(bad.what << ": " << bad.token);
      auto out = c.Delete(kTicket, CookieHeaders(ticket, bad.token));
      REQUIRE(out);
      CHECK(out->status == 401);
      CHECK(Body(out)["message"] == "authentication failure");
      CHECK(out->get_header_value("Set-Cookie").empty());
      auto alive = c.Get(kWhoami, CookieHeaders(ticket));  // nothing was logged out
      REQUIRE(alive);
      CHECK(alive->status == 200);
    }
    CHECK(stack.pg().Sql("SELECT count(*) FROM revoked_tickets") == "0");
    // The same request with the right token does log out.
    auto out = c.Delete(kTicket, CookieHeaders(ticket, csrf));
    REQUIRE(out);
    CHECK(out->status == 200);
    auto dead = c.Get(kWhoami, CookieHeaders(ticket));
    REQUIRE(dead);
    CHECK(dead->status == 401);
  }

  SECTION("forged, stale and malformed tickets are refused") {
    std::string future = keys.ticket.Issue("alice@pbs", Now() + 600);
    std::string old = keys.ticket.Issue("alice@pbs", Now() - 7300);
    std::string recent = keys.ticket.Issue("alice@pbs", Now() - 7000);
    std::string skewed = keys.ticket.Issue("alice@pbs", Now() + 200);
    CHECK(c.Get(kWhoami, CookieHeaders(recent))->status == 200);
    CHECK(c.Get(kWhoami, CookieHeaders(skewed))->status == 200);
    std::string tampered = ticket;
    tampered[tampered.size() - 5] = tampered[tampered.size() - 5] == 'A' ? 'B' : 'A';
    std::string other_key =
        crypto::TicketKeys(crypto::SecretKey::Generate(), {}).Issue("alice@pbs", Now());
    std::string text = ticket.substr(0, ticket.find("::"));
    std::string prefix_swapped = "PMX" + ticket.substr(3);
    for (const std::string& bad : {future, old, tampered, other_key, ticket + "==", prefix_swapped,
                                   text, text + "::", std::string("PBS:alice@pbs:1::x")}) {
      INFO(bad);
      CHECK(c.Get(kWhoami, CookieHeaders(bad))->status == 401);
    }
  }

  SECTION("logout expires the cookie and kills the ticket") {
    auto out = c.Delete(kTicket, CookieHeaders(ticket, csrf));
    REQUIRE(out->status == 200);
    CHECK(Body(out)["data"] == json::object());
    CHECK(out->get_header_value("Set-Cookie") ==
          "__Host-PBSAuthCookie=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Secure; SameSite=Lax; "
          "HttpOnly; Path=/");
    CHECK(c.Get(kWhoami, CookieHeaders(ticket))->status == 401);
    CHECK(DoLogin(c, "username=alice%40pbs&password=" + FormEncode(ticket)).status == 401);
    CHECK(stack.pg().Sql("SELECT count(*) FROM revoked_tickets") == "1");
    CHECK(stack.pg().Sql("SELECT count(*) FROM revoked_tickets WHERE ticket_hash LIKE 'PBS%'") ==
          "0");
  }
}

TEST_CASE("a logout on one worker is seen by another worker process", "[ticket]") {
  Stack stack(kConfig);
  AddAccount(stack.pg().Conninfo(), "alice@pbs", "pw");
  std::string dir2 = MakeTempDir("tessera-worker2");
  for (const char* f : {"/ticket.k4.secret", "/csrf.k4.local"}) {
    fs::copy_file(stack.dir() + f, dir2 + f);
  }
  Worker worker2(dir2, stack.pg().Conninfo(), kConfig);
  worker2.Start();
  Nginx nginx2(dir2, worker2.socket());
  CheckedClient c1 = stack.Client();
  CheckedClient c2("127.0.0.1", nginx2.port());

  Login l = DoLogin(c1, "username=alice%40pbs&password=pw");
  REQUIRE(l.status == 200);
  std::string ticket = l.data["ticket"];
  CHECK(c2.Get(kWhoami, CookieHeaders(ticket))->status == 200);
  REQUIRE(c1.Delete(kTicket, CookieHeaders(ticket, l.data["CSRFPreventionToken"]))->status == 200);
  CHECK(Eventually([&] { return c2.Get(kWhoami, CookieHeaders(ticket))->status == 401; }));
  fs::remove_all(dir2);
}

TEST_CASE("disabled, expired and re-passworded accounts lose their tickets; failures are audited",
          "[ticket]") {
  Stack stack(kConfig);
  std::string db = stack.pg().Conninfo();
  AddAccount(db, "alice@pbs", "pw");
  AddAccount(db, "carol@pbs", "pw");
  CheckedClient c = stack.Client();
  std::string alice = DoLogin(c, "username=alice%40pbs&password=pw").data["ticket"];
  std::string carol = DoLogin(c, "username=carol%40pbs&password=pw").data["ticket"];

  REQUIRE(Run({TESSERA_ADMIN_BIN, "--database", db, "account", "disable", "alice@pbs"}).status ==
          0);
  CHECK(Eventually([&] { return c.Get(kWhoami, CookieHeaders(alice))->status == 401; }));
  CHECK(DoLogin(c, "username=alice%40pbs&password=pw").status == 401);
  REQUIRE(Run({TESSERA_ADMIN_BIN, "--database", db, "account", "enable", "alice@pbs"}).status == 0);
  CHECK(Eventually([&] { return DoLogin(c, "username=alice%40pbs&password=pw").status == 200; }));
  CHECK(c.Get(kWhoami, CookieHeaders(alice))->status == 401);  // the old ticket stays dead

  REQUIRE(
      RunWithInput({TESSERA_ADMIN_BIN, "--database", db, "account", "passwd", "carol@pbs"}, "new\n")
          .status == 0);
  CHECK(Eventually([&] { return c.Get(kWhoami, CookieHeaders(carol))->status == 401; }));
  CHECK(DoLogin(c, "username=carol%40pbs&password=pw").status == 401);
  CHECK(DoLogin(c, "username=carol%40pbs&password=new").status == 200);

  stack.pg().Sql(
      "UPDATE accounts SET expires_at = now() - interval '1 minute' WHERE userid = 'carol@pbs'");
  CHECK(DoLogin(c, "username=carol%40pbs&password=new").status == 401);

  Login unknown = DoLogin(c, "username=nobody%40pbs&password=x");
  CHECK(unknown.status == 401);
  CHECK(stack.pg().Sql("SELECT reason FROM auth_audit WHERE userid = 'nobody@pbs'") ==
        "unknown user");
  CHECK(stack.pg().Sql("SELECT count(*) FROM auth_audit WHERE userid = 'alice@pbs' AND reason = "
                       "'account disabled'") == "1");
  CHECK(stack.pg().Sql("SELECT count(*) FROM auth_audit WHERE userid = 'carol@pbs' AND reason = "
                       "'account expired'") == "1");
  CHECK(stack.pg().Sql("SELECT count(*) FROM auth_audit WHERE userid = 'carol@pbs' AND reason = "
                       "'wrong password'") == "1");
  // Every failure answered the same.
  auto r = c.Post(kTicket, "username=nobody%40pbs&password=x", kForm);
  CHECK(Body(r)["message"] == "authentication failure");
}

TEST_CASE("failed logins are throttled per account and address, and the throttle expires",
          "[ticket]") {
  Stack stack(kConfig);
  AddAccount(stack.pg().Conninfo(), "alice@pbs", "pw");
  CheckedClient c = stack.Client();
  for (int i = 0; i < 3; ++i) CHECK(DoLogin(c, "username=alice%40pbs&password=bad").status == 401);
  auto start = std::chrono::steady_clock::now();
  auto r = c.Post(kTicket, "username=alice%40pbs&password=pw", kForm);  // right password, throttled
  CHECK(std::chrono::steady_clock::now() - start < 1s);                 // answered at once
  REQUIRE(r);
  CHECK(r->status == 429);
  CHECK(Body(r)["message"] == "too many failed logins, try again later");
  // Seconds left of the 3 s window that began at the first failure, rounded up.
  std::string retry = r->get_header_value("Retry-After");
  REQUIRE(retry.size() == 1);
  CHECK(retry[0] >= '1');
  CHECK(retry[0] <= '3');
  CHECK(stack.pg().Sql("SELECT count(*) FROM auth_audit WHERE event = 'login-throttled'") == "1");
  // The 3 s window passes. It is timed by PostgreSQL's clock (window_start against now(), in
  // the throttle's statement), so the window's start is moved back instead of waiting.
  stack.pg().Sql("UPDATE login_failures SET window_start = window_start - interval '3200 ms'");
  CHECK(DoLogin(c, "username=alice%40pbs&password=pw").status == 200);
  CHECK(stack.pg().Sql(
            "SELECT count(*) FROM login_failures WHERE subject = 'pair:127.0.0.1 alice@pbs'") ==
        "0");
}

TEST_CASE("a hash made with another cost is upgraded at login", "[ticket]") {
  Stack stack(
      kConfig);  // the worker hashes at t=1, m=8 MiB; tessera-admin's default is t=2, m=64 MiB
  AddAccount(stack.pg().Conninfo(), "alice@pbs", "pw");
  CHECK(stack.pg().Sql("SELECT password_hash LIKE '$argon2id$v=19$m=65536,t=2,%' FROM accounts") ==
        "t");
  CheckedClient c = stack.Client();
  REQUIRE(DoLogin(c, "username=alice%40pbs&password=pw").status == 200);
  CHECK(stack.pg().Sql("SELECT password_hash LIKE '$argon2id$v=19$m=8192,t=1,%' FROM accounts") ==
        "t");
  CHECK(DoLogin(c, "username=alice%40pbs&password=pw").status == 200);
}
