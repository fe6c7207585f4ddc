// What the worker logs: one access line per request naming who asked (account, token name), what
// (method, route) and how it went (status, bytes, duration) — and, at the most talkative level,
// never a password, ticket, CSRF token, bearer token or cookie, whatever the request did: logins
// right and wrong, renewal, minting, restic's requests by Bearer and Basic, PBSAPIToken, a
// password change, logout.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "harness.h"
#include "http_client.h"

using namespace tessera::testing;
using nlohmann::json;

namespace {

// The access lines of `log` that contain every one of `parts`.
std::vector<std::string> AccessLines(const std::string& log,
                                     const std::vector<std::string>& parts) {
  std::vector<std::string> found;
  std::size_t at = 0;
  while (at < log.size()) {
    std::size_t end = log.find('\n', at);
    if (end == std::string::npos) end = log.size();
    std::string line = log.substr(at, end - at);
    at = end + 1;
    if (!line.starts_with("access: ")) continue;
    bool all = true;
    for (const std::string& p : parts) all = all && line.find(p) != std::string::npos;
    if (all) found.push_back(line);
  }
  return found;
}

}  // namespace

TEST_CASE("no secret reaches a log, and every request leaves one access line", "[logs]") {
  BackupStack b("log_level = debug\n");
  const std::string user = "carol@pbs";
  const std::string password = "Secret-Pa55word-only-in-this-test";
  const std::string wrong = "Wrong-Pa55word-only-in-this-test";
  const std::string changed = "Changed-Pa55word-only-in-this-test";
  AddAccount(b.stack->pg().Conninfo(), user, password);
  CheckedClient c = b.stack->Client();
  std::vector<std::string> secrets = {password, wrong, changed};

  CHECK(LogIn(c, user, wrong).status == 401);
  PasswordLogin legacy = LogIn(c, user, password);
  REQUIRE(legacy.status == 200);
  secrets.push_back(legacy.ticket);
  secrets.push_back(legacy.ticket.substr(legacy.ticket.rfind("::") + 2));  // the signature
  secrets.push_back(legacy.csrf);
  httplib::Headers cookie = {{"Cookie", "PBSAuthCookie=" + FormEncode(legacy.ticket)},
                             {"CSRFPreventionToken", legacy.csrf}};
  REQUIRE(c.Get("/api2/json/access/whoami", cookie)->status == 200);
  // A renewal: the ticket as the password.
  REQUIRE(LogIn(c, user, legacy.ticket).status == 200);

  auto minted =
      c.Post("/api2/json/access/tokens", cookie,
             json{{"name", "laptop"}, {"read", true}, {"write", true}}.dump(), "application/json");
  REQUIRE(minted->status == 200);
  std::string token = json::parse(minted->body)["data"]["token"];
  secrets.push_back(token);
  secrets.push_back(token.substr(10, 60));                // inside the payload
  secrets.push_back(token.substr(token.rfind('.') + 1));  // the footer

  CheckedClient bearer = b.Client(token);
  REQUIRE(bearer.Post("/backup/laptop/?create=true", "", "application/octet-stream")->status ==
          200);
  REQUIRE(
      bearer.Post("/backup/laptop/config", "config bytes", "application/octet-stream")->status ==
      200);
  REQUIRE(bearer.Get("/backup/laptop/config")->status == 200);
  CheckedClient basic = b.stack->Client();
  basic.set_basic_auth("carol", token);
  REQUIRE(basic.Get("/backup/laptop/config")->status == 200);
  REQUIRE(basic.Get("/backup/laptop/keys/")->status == 200);
  CHECK(b.Client(token + "x").Get("/backup/laptop/config")->status == 401);
  auto api = c.Get("/api2/json/access/whoami",
                   {{"Authorization", "PBSAPIToken=" + user + "!laptop:" + token}});
  REQUIRE(api->status == 200);

  auto change = c.Put(
      "/api2/json/access/password", cookie,
      json{{"userid", user}, {"password", changed}, {"confirmation-password", password}}.dump(),
      "application/json");
  REQUIRE(change->status == 200);
  std::string fresh = json::parse(change->body)["data"]["ticket"];
  std::string fresh_csrf = json::parse(change->body)["data"]["CSRFPreventionToken"];
  secrets.push_back(fresh);
  secrets.push_back(fresh_csrf);
  auto out = c.Delete("/api2/json/access/ticket", {{"Cookie", "PBSAuthCookie=" + FormEncode(fresh)},
                                                   {"CSRFPreventionToken", fresh_csrf}});
  REQUIRE(out->status == 200);

  std::string worker_log = b.stack->worker().Log();
  std::string nginx_log = ReadFile(b.stack->dir() + "/nginx/logs/error.log");
  for (const std::string& secret : secrets) {
    INFO(secret.substr(0, 12) << "...");
    REQUIRE(secret.size() >= 12);  // long enough that a match is no accident
    CHECK(worker_log.find(secret) == std::string::npos);
    CHECK(nginx_log.find(secret) == std::string::npos);
  }
  // The debug level was really on: the wrong password's refusal was written down.
  CHECK(worker_log.find("debug: ") != std::string::npos);

  // One access line per request, naming who and what, never the path's names.
  CHECK(AccessLines(worker_log, {"method=POST route=/api2/json/access/ticket status=401"}).size() ==
        1);
  CHECK(AccessLines(worker_log,
                    {"method=POST route=/api2/json/access/ticket status=200 account=carol@pbs "})
            .size() == 2);
  auto config_reads = AccessLines(worker_log, {"method=GET route=/backup/{repo}/config status=200 "
                                               "account=carol@pbs token=laptop in=0 out=12 ms="});
  CHECK(config_reads.size() == 2);
  CHECK(AccessLines(worker_log, {"method=POST route=/backup/{repo}/config status=200 "
                                 "account=carol@pbs token=laptop in=12 out=0 ms="})
            .size() == 1);
  CHECK(AccessLines(worker_log, {"method=GET route=/backup/{repo}/keys/ status=200"}).size() == 1);
  CHECK(AccessLines(worker_log, {"route=/api2/json/access/whoami status=200 account=carol@pbs "
                                 "token=laptop "})
            .size() == 1);
  auto refused = AccessLines(worker_log, {"method=GET route=/backup/{rest*} status=401 in=0"});
  CHECK(refused.size() == 1);
  for (const std::string& line : AccessLines(worker_log, {})) {
    INFO(line);
    CHECK(line.find("laptop/config") == std::string::npos);
    CHECK(std::regex_search(
        line, std::regex(R"(^access: time=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z )")));
  }
}

TEST_CASE("access_log = no writes no access line", "[logs]") {
  BackupStack b("access_log = no\n");
  CheckedClient c = b.stack->Client();
  REQUIRE(c.Get("/api2/json/version")->status == 200);
  CHECK(AccessLines(b.stack->worker().Log(), {}).empty());
}
