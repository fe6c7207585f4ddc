// What the login endpoint does with odd input, through real nginx, the worker and PostgreSQL:
// cookies written and read with one encoding (a userid with '%' and ';'), unrelated malformed
// cookie pairs ignored, malformed text refused with a 400 naming the field (never a 503), and
// logins from another site refused (login CSRF).
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "harness.h"
#include "http_client.h"

using namespace tessera::testing;
using nlohmann::json;

namespace {
constexpr const char* kTicket = "/api2/json/access/ticket";
constexpr const char* kWhoami = "/api2/json/access/whoami";
constexpr const char* kForm = "application/x-www-form-urlencoded";
const std::string kConfig = "password_opslimit = 1\npassword_memlimit_kib = 8192\n";

// The cookie a browser stores from a Set-Cookie header: `name=value`, attributes dropped.
std::string CookieOf(const std::string& set_cookie) {
  return set_cookie.substr(0, set_cookie.find(';'));
}

// The Set-Cookie header of a form POST, read off the wire: cpp-httplib 0.11 percent-decodes the
// header values it parses, which would hide the very encoding under test.
std::string RawSetCookie(int port, const std::string& path, const std::string& body) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  std::string request = "POST " + path +
                        " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                        "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: " +
                        std::to_string(body.size()) + "\r\n\r\n" + body;
  REQUIRE(write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size()));
  std::string response;
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;)
    response.append(buf, static_cast<std::size_t>(n));
  close(fd);
  std::size_t at = response.find("\r\nSet-Cookie: ");
  if (at == std::string::npos) return "";
  at += 14;
  return response.substr(at, response.find("\r\n", at) - at);
}
}  // namespace

TEST_CASE("a userid with '%' and ';' logs in by cookie; unrelated malformed pairs are ignored",
          "[login_input]") {
  Stack stack(kConfig);
  const std::string odd = "a%;b@pbs";
  AddAccount(stack.pg().Conninfo(), odd, "pw");
  AddAccount(stack.pg().Conninfo(), "alice@pbs", "pw");
  CheckedClient c = stack.Client();

  std::string set_cookie = RawSetCookie(stack.port(), kTicket,
                                        "username=" + FormEncode(odd) + "&password=pw&http-only=1");
  std::string cookie = CookieOf(set_cookie);
  INFO(set_cookie);
  // The value is percent-encoded where a cookie needs it, and nowhere else.
  REQUIRE(cookie.rfind("__Host-PBSAuthCookie=PBS:a%25%3Bb@pbs:", 0) == 0);
  CHECK(set_cookie.ends_with("; Secure; SameSite=Lax; HttpOnly; Path=/"));
  auto r = c.Post(kTicket, {{"Cookie", cookie}},
                  "username=" + FormEncode(odd) + "&password=x&http-only=1", kForm);
  REQUIRE(r);
  REQUIRE(r->status == 200);  // renewed by the cookie
  std::string csrf = json::parse(r->body)["data"]["CSRFPreventionToken"];

  auto who = c.Get(kWhoami, {{"Cookie", cookie}});
  REQUIRE(who);
  REQUIRE(who->status == 200);
  CHECK(json::parse(who->body)["data"]["userid"] == odd);

  // Malformed pairs of other applications around ours do not cost us ours.
  for (const std::string& header :
       {"novalue; " + cookie, "a b=1; " + cookie + "; =x", "x=\"unterminated; " + cookie,
        cookie + "; tracker=%zz; (odd)=1"}) {
    INFO(header);
    auto ok = c.Get(kWhoami, {{"Cookie", header}});
    REQUIRE(ok);
    CHECK(ok->status == 200);
  }
  auto legacy = c.Post(kTicket, "username=alice%40pbs&password=pw", kForm);
  REQUIRE(legacy);
  std::string ticket = json::parse(legacy->body)["data"]["ticket"];
  auto alice = c.Get(kWhoami, {{"Cookie", "junk; PBSAuthCookie=" + ticket + "; a b=c"}});
  REQUIRE(alice);
  CHECK(alice->status == 200);
  // Ours malformed is absent: not a 400, just not authenticated.
  auto bad = c.Get(kWhoami, {{"Cookie", "__Host-PBSAuthCookie=PBS%3"}});
  REQUIRE(bad);
  CHECK(bad->status == 401);
  // Logout by the encoded cookie ends the session.
  auto out = c.Delete(kTicket, {{"Cookie", cookie}, {"CSRFPreventionToken", csrf}});
  REQUIRE(out);
  CHECK(out->status == 200);
  CHECK(c.Get(kWhoami, {{"Cookie", cookie}})->status == 401);
}

TEST_CASE("malformed text in any login parameter is a 400 naming it, never a 503",
          "[login_input]") {
  Stack stack(kConfig);
  AddAccount(stack.pg().Conninfo(), "alice@pbs", "pw");
  CheckedClient c = stack.Client();
  struct Case {
    std::string body;
    std::string message;
  };
  const std::vector<Case> form = {
      {"username=al%FFice%40pbs&password=pw", "parameter 'username' is not valid UTF-8"},
      {"username=al%C0%AFice%40pbs&password=pw",
       "parameter 'username' is not valid UTF-8"},  // overlong '/'
      {"username=%ED%A0%80%40pbs&password=pw",
       "parameter 'username' is not valid UTF-8"},  // surrogate
      {"username=al%01ice%40pbs&password=pw", "parameter 'username' contains a control character"},
      {"username=al%C2%85ice%40pbs&password=pw",
       "parameter 'username' contains a control character"},
      {"username=" + std::string(70, 'a') + "%40pbs&password=pw",
       "parameter 'username' is too long"},
      {"username=alice&password=pw", "parameter 'username' is not a valid userid (name@realm)"},
      {"username=alice%40pbs&password=p%FFw", "parameter 'password' is not valid UTF-8"},
      {"username=alice%40pbs&password=p%E0%80%AFw", "parameter 'password' is not valid UTF-8"},
      {"username=alice%40pbs&password=p%0Aw", "parameter 'password' contains a control character"},
      {"username=alice%40pbs&password=" + std::string(5000, 'p'),
       "parameter 'password' is too long"},
      {"username=alice%40pbs&password=pw&realm=p%FF", "parameter 'realm' is not valid UTF-8"},
      {"username=alice%40pbs&password=pw&path=%1B%5B",
       "parameter 'path' contains a control character"},
      {"username=alice%40pbs&password=pw&privs=" + std::string(300, 'x'),
       "parameter 'privs' is too long"},
      {"username=alice%40pbs&password=pw&port=8%FF", "parameter 'port' is not valid UTF-8"},
      {"username=alice%40pbs&password=pw&tfa-challenge=%F4%90%80%80",
       "parameter 'tfa-challenge' is not valid UTF-8"},
      {"username=alice%40pbs&password=pw&http-only=%FF",
       "parameter 'http-only' is not valid UTF-8"},
      {"username=alice%40pbs&password=pw&%FF=1", "malformed parameter name"},
  };
  for (const auto& t : form) {
    INFO(t.body.substr(0, 120));
    auto r = c.Post(kTicket, t.body, kForm);
    REQUIRE(r);
    CHECK(r->status == 400);
    CHECK(json::parse(r->body)["message"] == t.message);
  }
  const std::vector<Case> json_bodies = {
      {"{\"username\":\"al\xff"
       "ice@pbs\",\"password\":\"pw\"}",
       "malformed JSON body"},
      {R"({"username":"\ud800@pbs","password":"pw"})", "malformed JSON body"},
      {R"({"username":"al\u0001ice@pbs","password":"pw"})",
       "parameter 'username' contains a control character"},
      {R"({"username":"alice@pbs","password":"p\u0085w"})",
       "parameter 'password' contains a control character"},
  };
  for (const auto& t : json_bodies) {
    INFO(t.body);
    auto r = c.Post(kTicket, t.body, "application/json");
    REQUIRE(r);
    CHECK(r->status == 400);
    CHECK(json::parse(r->body)["message"] == t.message);
  }
  // Nothing of it reached the database or the audit log, and the service is fine.
  CHECK(stack.pg().Sql("SELECT count(*) FROM auth_audit") == "0");
  CHECK(c.Post(kTicket, "username=alice%40pbs&password=pw", kForm)->status == 200);
}

TEST_CASE("a login from another site is refused; same-origin and header-less logins work",
          "[login_input]") {
  Stack stack(kConfig);
  AddAccount(stack.pg().Conninfo(), "alice@pbs", "pw");
  CheckedClient c = stack.Client();
  const std::string self = "http://127.0.0.1:" + std::to_string(stack.port());
  const std::string body = "username=alice%40pbs&password=pw&http-only=1";
  struct Case {
    httplib::Headers headers;
    int status;
  };
  const std::vector<Case> cases = {
      {{}, 200},
      {{{"Origin", self}}, 200},
      {{{"Origin", self}, {"Sec-Fetch-Site", "same-origin"}}, 200},
      {{{"Sec-Fetch-Site", "same-origin"}}, 200},
      {{{"Sec-Fetch-Site", "none"}}, 200},
      {{{"Origin", "https://evil.example"}}, 403},
      {{{"Origin", "null"}}, 403},
      {{{"Origin", self + "0"}}, 403},
      {{{"Origin", "http://127.0.0.2:" + std::to_string(stack.port())}}, 403},
      {{{"Origin", "http://localhost:" + std::to_string(stack.port())}}, 403},
      {{{"Sec-Fetch-Site", "cross-site"}}, 403},
      {{{"Sec-Fetch-Site", "same-site"}}, 403},
      {{{"Origin", self}, {"Sec-Fetch-Site", "cross-site"}}, 403},
  };
  for (const auto& t : cases) {
    std::string shown;
    for (const auto& [k, v] : t.headers) shown += k + ": " + v + "; ";
    INFO(shown);
    auto r = c.Post(kTicket, t.headers, body, kForm);
    REQUIRE(r);
    CHECK(r->status == t.status);
    if (t.status == 403) {
      CHECK(json::parse(r->body)["message"] == "cross-site login refused");
      CHECK(r->get_header_value("Set-Cookie").empty());
    }
  }
  CHECK(stack.pg().Sql("SELECT count(*) FROM auth_audit WHERE event = 'login'") == "5");
}
