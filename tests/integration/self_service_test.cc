// The ticket-authenticated self-service API (DESIGN.md, "Ticket-authenticated API"): token
// grants within the account's ceiling, CSRF on every change, one account never reaching
// another's grants, the password change ending the other sessions, the repository overview, and
// PBSAPIToken on the read-only routes — through nginx, against a real PostgreSQL.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <ctime>
#include <nlohmann/json.hpp>
#include <tuple>

#include "harness.h"
#include "http_client.h"

using namespace tessera::testing;
using nlohmann::json;

namespace {

constexpr const char* kTokens = "/api2/json/access/tokens";

httplib::Headers Cookie(const PasswordLogin& who, bool csrf = true) {
  httplib::Headers h = {{"Cookie", "__Host-PBSAuthCookie=" + FormEncode(who.ticket)}};
  if (csrf) h.emplace("CSRFPreventionToken", who.csrf);
  return h;
}

json Data(const CheckedResult& r) { return json::parse(r->body)["data"]; }

CheckedResult MintOwn(CheckedClient& c, const PasswordLogin& who, const json& body,
                      bool csrf = true) {
  return c.Post(kTokens, Cookie(who, csrf), body.dump(), "application/json");
}

}  // namespace

TEST_CASE("a person lists, mints and revokes their own tokens, within their ceiling",
          "[self_service]") {
  BackupStack b;
  CheckedClient c = b.stack->Client();
  PasswordLogin alice = LogIn(c, "alice@pbs", "pw");
  PasswordLogin bob = LogIn(c, "bob@pbs", "pw");
  REQUIRE(alice.status == 200);
  REQUIRE(bob.status == 200);

  // Every change needs the CSRF token; nothing is made without it.
  CHECK(MintOwn(c, alice, {{"name", "laptop"}, {"read", true}}, false)->status == 401);
  CHECK(c.Post(kTokens, R"({"name":"x","read":true})", "application/json")->status == 401);

  // Within the default ceiling (read and write, 90 days).
  auto made =
      MintOwn(c, alice, {{"name", "laptop"}, {"read", true}, {"write", true}, {"repo", "laptop"}});
  REQUIRE(made->status == 200);
  CHECK(made->get_header_value("Cache-Control") == "no-store");
  json token = Data(made);
  CHECK(token["name"] == "laptop");
  CHECK(token["repo"] == "laptop");
  std::string secret = token["token"];
  CHECK(secret.starts_with("v4.public."));

  // The token works for restic's endpoints at once, and only for its repository.
  auto restic = b.Client(secret);
  CHECK(restic.Post("/backup/laptop/?create=true")->status == 200);
  CHECK(restic.Post("/backup/desktop/?create=true")->status == 403);

  // Beyond the ceiling: delete, a long life, a duplicate live name.
  CHECK(MintOwn(c, alice, {{"name", "d"}, {"read", true}, {"delete", true}})->status == 403);
  auto too_long = MintOwn(
      c, alice, {{"name", "l"}, {"read", true}, {"expire", std::time(nullptr) + 200 * 86400}});
  CHECK(too_long->status == 403);
  CHECK(json::parse(too_long->body)["message"].get<std::string>().find("lifetime") !=
        std::string::npos);
  CHECK(MintOwn(c, alice, {{"name", "laptop"}, {"read", true}})->status == 409);
  // Bad fields are 400s that name them.
  for (const json& bad : {json{{"read", true}}, json{{"name", "-x"}, {"read", true}},
                          json{{"name", "x"}}, json{{"name", "x"}, {"read", "maybe"}},
                          json{{"name", "x"}, {"read", true}, {"repo", "a/config"}},
                          json{{"name", "x"}, {"read", true}, {"expire", 5}},
                          json{{"name", "x"}, {"read", true}, {"colour", "red"}}}) {
    INFO(bad.dump());
    CHECK(MintOwn(c, alice, bad)->status == 400);
  }

  // The admin lowers the ceiling: repositories and count.
  b.stack->pg().Sql(
      "SELECT tessera.set_token_ceiling('alice@pbs', repos => '{laptop}', "
      "max_count => 2)");
  CHECK(MintOwn(c, alice, {{"name", "all"}, {"read", true}})->status == 403);
  CHECK(MintOwn(c, alice, {{"name", "second"}, {"read", true}, {"repo", "laptop"}})->status == 200);
  CHECK(MintOwn(c, alice, {{"name", "third"}, {"read", true}, {"repo", "laptop"}})->status == 403);

  // A NULL among the repositories would lift the bound: refused however it is written.
  CHECK_THROWS(b.stack->pg().Sql(
      "SELECT tessera.set_token_ceiling('alice@pbs', repos => ARRAY['laptop', NULL])"));
  CHECK_THROWS(b.stack->pg().Sql(
      "UPDATE accounts SET token_repos = ARRAY['laptop', NULL] WHERE userid = 'alice@pbs'"));
  CHECK(MintOwn(c, alice, {{"name", "other"}, {"read", true}, {"repo", "other"}})->status == 403);
  // Past ten years is the API's own 400, not the database's words.
  auto far = MintOwn(c, alice,
                     {{"name", "far"},
                      {"read", true},
                      {"repo", "laptop"},
                      {"expire", std::time(nullptr) + 3601LL * 86400}});
  CHECK(far->status == 400);
  CHECK(json::parse(far->body)["message"].get<std::string>().find("'expire'") != std::string::npos);

  // The list never holds a token; bob sees none of alice's grants and cannot revoke them.
  auto listed = c.Get(kTokens, Cookie(alice, false));
  REQUIRE(listed->status == 200);
  CHECK(listed->body.find(secret) == std::string::npos);
  CHECK(listed->body.find("v4.public.") == std::string::npos);
  CHECK(Data(listed).size() == 2);
  CHECK(Data(listed)[0]["name"] == "second");
  CHECK(Data(listed)[1]["revoked"].is_null());
  CHECK(Data(c.Get(kTokens, Cookie(bob, false))).empty());
  CHECK(c.Delete(std::string(kTokens) + "/laptop", Cookie(bob))->status == 404);
  CHECK(c.Delete(std::string(kTokens) + "/laptop", Cookie(alice, false))->status == 401);
  CHECK(restic.Get("/backup/laptop/config")->status == 404);  // alive: no config yet

  // Revoked by its owner: dead within a second, and shown as revoked.
  CHECK(c.Delete(std::string(kTokens) + "/laptop", Cookie(alice))->status == 200);
  CHECK(Eventually([&] { return restic.Get("/backup/laptop/config")->status == 401; }));
  CHECK(c.Delete(std::string(kTokens) + "/laptop", Cookie(alice))->status == 404);
  json after = Data(c.Get(kTokens, Cookie(alice, false)));
  CHECK(after[1]["name"] == "laptop");
  CHECK(after[1]["revoked"].is_number());

  // Minting and revoking in a loop stays within a day's budget of new grants.
  b.stack->pg().Sql(
      "SELECT tessera.set_token_ceiling('alice@pbs', max_count => 100, max_per_day => 5)");
  int made_today = 2;  // laptop and second; a refused mint makes no row
  for (int i = 0; made_today < 5; ++i, ++made_today) {
    std::string name = "loop" + std::to_string(i);
    REQUIRE(MintOwn(c, alice, {{"name", name}, {"read", true}, {"repo", "laptop"}})->status == 200);
    REQUIRE(c.Delete(std::string(kTokens) + "/" + name, Cookie(alice))->status == 200);
  }
  auto spent = MintOwn(c, alice, {{"name", "one-more"}, {"read", true}, {"repo", "laptop"}});
  CHECK(spent->status == 403);
  CHECK(json::parse(spent->body)["message"].get<std::string>().find("today") != std::string::npos);

  // A grant made before names existed is named after its jti, which may start with '-': its
  // owner can still revoke it.
  b.stack->pg().Sql(
      "INSERT INTO api_tokens (jti, userid, read, expires_at) "
      "VALUES ('-legacy', 'alice@pbs', true, now() + interval '1 day')");
  CHECK(c.Delete(std::string(kTokens) + "/-legacy", Cookie(alice))->status == 200);
}

TEST_CASE("a password change ends every other session and renews this one", "[self_service]") {
  BackupStack b;
  CheckedClient c = b.stack->Client();
  PasswordLogin here = LogIn(c, "alice@pbs", "pw");
  PasswordLogin there = LogIn(c, "alice@pbs", "pw");
  REQUIRE(here.status == 200);
  REQUIRE(there.status == 200);
  auto change = [&](const PasswordLogin& who, const std::string& userid, const std::string& next,
                    const std::string& current, bool csrf = true) {
    json body = {{"userid", userid}, {"password", next}, {"confirmation-password", current}};
    return c.Put("/api2/json/access/password", Cookie(who, csrf), body.dump(), "application/json");
  };
  CHECK(change(here, "alice@pbs", "a new long password", "pw", false)->status == 401);
  CHECK(change(here, "bob@pbs", "a new long password", "pw")->status == 403);
  CHECK(change(here, "alice@pbs", "short", "pw")->status == 400);
  CHECK(change(here, "alice@pbs", "a new long password", "wrong")->status == 403);
  CHECK(LogIn(c, "alice@pbs", "pw").status == 200);  // a wrong current password changed nothing

  auto changed = change(here, "alice@pbs", "a new long password", "pw");
  REQUIRE(changed->status == 200);
  std::string cookie = changed->get_header_value("Set-Cookie");
  CHECK(cookie.starts_with("__Host-PBSAuthCookie="));
  json data = Data(changed);
  CHECK_FALSE(data.contains("ticket"));  // this client holds the HttpOnly cookie
  PasswordLogin renewed{200, "", data["CSRFPreventionToken"], ""};
  {
    std::string value = cookie.substr(cookie.find('=') + 1);
    value.resize(value.find(';'));
    std::string decoded;
    for (std::size_t i = 0; i < value.size(); ++i) {
      if (value[i] == '%' && i + 2 < value.size()) {
        decoded += static_cast<char>(std::stoi(value.substr(i + 1, 2), nullptr, 16));
        i += 2;
      } else {
        decoded += value[i];
      }
    }
    renewed.ticket = decoded;
  }

  // The other session and the old ticket die; the fresh ticket lives; only the new password logs
  // in.
  auto alive = [&](const PasswordLogin& who) {
    return c.Get("/api2/json/access/whoami", Cookie(who, false))->status == 200;
  };
  CHECK(Eventually([&] { return !alive(there) && !alive(here); }));
  CHECK(alive(renewed));
  // Renewed at once (the new session epoch may be a second ahead), the ticket still lives.
  auto again = c.Post("/api2/json/access/ticket", Cookie(renewed, false),
                      "username=alice%40pbs&http-only=1&password=" +
                          FormEncode(data["ticket-info"].get<std::string>()),
                      "application/x-www-form-urlencoded");
  REQUIRE(again->status == 200);
  std::string next = again->get_header_value("Set-Cookie");
  next = next.substr(next.find('=') + 1);
  next.resize(next.find(';'));
  CHECK(c.Get("/api2/json/access/whoami",
              httplib::Headers{{"Cookie", "__Host-PBSAuthCookie=" + next}})
            ->status == 200);
  // Renewals chained within seconds never stamp more than a minute ahead: each one is stamped
  // at least a second after the ticket it renews (auth/ticket_service.cc, Issue), so the chain
  // runs out of stamps after at most about 60 renewals, plus one per second it takes, and is
  // then throttled (429); until then every renewal is answered (200), never with a ticket that
  // fails to verify (500), and the last ticket still works.
  std::string chained = next;
  int renewals = 0;
  int last_status = 0;
  for (int i = 0; i < 400; ++i) {
    auto r = c.Post("/api2/json/access/ticket",
                    httplib::Headers{{"Cookie", "__Host-PBSAuthCookie=" + chained}},
                    "username=alice%40pbs&http-only=1&password=" +
                        FormEncode(data["ticket-info"].get<std::string>()),
                    "application/x-www-form-urlencoded");
    INFO(i << ": " << r->body);
    last_status = r->status;
    if (r->status == 429) break;
    REQUIRE(r->status == 200);
    ++renewals;
    chained = r->get_header_value("Set-Cookie").substr(std::string("__Host-PBSAuthCookie=").size());
    chained.resize(chained.find(';'));
  }
  CHECK(last_status == 429);
  CHECK(renewals >= 1);
  CHECK(c.Get("/api2/json/access/whoami",
              httplib::Headers{{"Cookie", "__Host-PBSAuthCookie=" + chained}})
            ->status == 200);
  CHECK(LogIn(c, "alice@pbs", "pw").status == 401);
  CHECK(LogIn(c, "alice@pbs", "a new long password").status == 200);
  CHECK(MintOwn(c, renewed, {{"name", "after"}, {"read", true}})->status == 200);
}

TEST_CASE("repositories are listed with their usage; PBSAPIToken reads, never changes",
          "[self_service]") {
  BackupStack b;
  CheckedClient c = b.stack->Client();
  PasswordLogin alice = LogIn(c, "alice@pbs", "pw");
  REQUIRE(alice.status == 200);
  json made =
      Data(MintOwn(c, alice, {{"name", "nas"}, {"read", true}, {"write", true}, {"repo", "nas"}}));
  std::string token = made["token"];
  auto restic = b.Client(token);
  REQUIRE(restic.Post("/backup/nas/?create=true")->status == 200);
  std::string config = "some config bytes";
  REQUIRE(restic.Post("/backup/nas/config", config, "application/octet-stream")->status == 200);
  std::string snapshot = RandomBytes(100);
  REQUIRE(restic
              .Post("/backup/nas/snapshots/" + Sha256Hex(snapshot), snapshot,
                    "application/octet-stream")
              ->status == 200);
  // Another account's repository never shows.
  auto bob = b.Client(b.Mint("bob@pbs", {"--read", "--write"}));
  REQUIRE(bob.Post("/backup/bobs/?create=true")->status == 200);

  // A second repository of alice's, which the nas token does not reach.
  json other = Data(
      MintOwn(c, alice, {{"name", "home"}, {"read", true}, {"write", true}, {"repo", "home"}}));
  REQUIRE(b.Client(other["token"]).Post("/backup/home/?create=true")->status == 200);

  auto repos = c.Get("/api2/json/repos", Cookie(alice, false));
  REQUIRE(repos->status == 200);
  json both = Data(repos);
  REQUIRE(both.size() == 2);
  CHECK(both[0]["repo"] == "home");
  CHECK(both[0]["objects"] == 0);
  json list = json::array({both[1]});
  CHECK(list[0]["repo"] == "nas");
  CHECK(list[0]["bytes"] == config.size() + snapshot.size());
  CHECK(list[0]["objects"] == 2);
  CHECK(list[0]["snapshots"] == 1);
  CHECK(list[0]["last_snapshot"].get<std::int64_t>() >= std::time(nullptr) - 60);
  CHECK(c.Get("/api2/json/repos")->status == 401);

  // Proxmox API clients: PBSAPIToken=<userid>!<name>:<token> on read-only calls.
  httplib::Headers api = {{"Authorization", "PBSAPIToken=alice@pbs!nas:" + token}};
  auto whoami = c.Get("/api2/json/access/whoami", api);
  REQUIRE(whoami->status == 200);
  CHECK(Data(whoami)["tokenid"] == "alice@pbs!nas");
  CHECK(Data(c.Get("/api2/json/repos", api)).size() == 1);
  for (const std::string& wrong :
       {"PBSAPIToken=alice@pbs!other:" + token, "PBSAPIToken=bob@pbs!nas:" + token,
        "PBSAPIToken=alice@pbs!nas:" + token + "x", "PBSAPIToken=alice@pbs:" + token,
        std::string("PBSAPIToken=alice@pbs!nas:"), "PBSAPIToken=!nas:" + token}) {
    INFO(wrong);
    CHECK(c.Get("/api2/json/access/whoami", httplib::Headers{{"Authorization", wrong}})->status ==
          401);
  }
  // The same through python3-proxmoxer, as a Proxmox API client would: its own Authorization
  // header. The harness speaks plain HTTP, so only the base URL proxmoxer builds is changed.
  static constexpr const char* kProxmoxer = R"(
import sys
from proxmoxer import ProxmoxAPI
port, token = sys.argv[1], sys.argv[2]
api = ProxmoxAPI("127.0.0.1", port=port, user="alice@pbs", token_name="nas", token_value=token,
                 service="PBS", verify_ssl=False)
api._store["base_url"] = "http://127.0.0.1:%s/api2/json" % port
who = api.access.whoami.get()
assert who["userid"] == "alice@pbs" and who["tokenid"] == "alice@pbs!nas", who
repos = api.repos.get()
assert [r["repo"] for r in repos] == ["nas"], repos
try:
    api.access.tokens.post(name="x", read=1)
    sys.exit("an API token minted a token")
except Exception as e:
    assert "401" in str(e), e
print("proxmoxer ok")
)";
  auto proxmoxer =
      Run({"/usr/bin/python3", "-c", kProxmoxer, std::to_string(b.stack->port()), token});
  INFO(proxmoxer.output);
  CHECK(proxmoxer.status == 0);
  CHECK(proxmoxer.output.find("proxmoxer ok") != std::string::npos);

  // Changing tokens or the password needs a ticket: an API token is refused, also with a CSRF
  // token that is valid for its account, and nothing changes.
  httplib::Headers api_csrf = api;
  api_csrf.emplace("CSRFPreventionToken", alice.csrf);
  const json change = {{"userid", "alice@pbs"},
                       {"password", "a token's new password"},
                       {"confirmation-password", "pw"}};
  for (const httplib::Headers& h : {api, api_csrf}) {
    INFO("with CSRF: " << h.count("CSRFPreventionToken"));
    CHECK(c.Post(kTokens, h, R"({"name":"x","read":true})", "application/json")->status == 401);
    CHECK(c.Post(kTokens, h, "name=x&read=1", "application/x-www-form-urlencoded")->status == 401);
    CHECK(c.Get(kTokens, h)->status == 401);
    CHECK(c.Delete(std::string(kTokens) + "/nas", h)->status == 401);
    CHECK(c.Put("/api2/json/access/password", h, change.dump(), "application/json")->status == 401);
  }
  json grants = Data(c.Get(kTokens, Cookie(alice, false)));
  REQUIRE(grants.size() == 2);  // home and nas, both live; no "x"
  for (const json& g : grants) {
    INFO(g.dump());
    CHECK((g["name"] == "home" || g["name"] == "nas"));
    CHECK(g["revoked"].is_null());
  }
  b.AwaitNotifications();  // had anything been revoked, the worker would know by now
  CHECK(c.Get("/api2/json/access/whoami", api)->status == 200);
  CHECK(restic.Get("/backup/nas/config")->status == 200);
  CHECK(c.Get("/api2/json/access/whoami", Cookie(alice, false))->status == 200);
  CHECK(LogIn(c, "alice@pbs", "a token's new password").status == 401);
  CHECK(LogIn(c, "alice@pbs", "pw").status == 200);
}

TEST_CASE("form-encoded bodies mint a token and change the password as JSON does",
          "[self_service]") {
  BackupStack b;
  CheckedClient c = b.stack->Client();
  PasswordLogin alice = LogIn(c, "alice@pbs", "pw");
  REQUIRE(alice.status == 200);
  constexpr const char* kForm = "application/x-www-form-urlencoded";

  // Booleans the Proxmox way (1, on, 0), a percent-encoded repository path, a Unix-time expiry.
  // delete=0 must read as false: the default ceiling refuses delete with 403.
  const std::int64_t expire = std::time(nullptr) + 7 * 86400;
  auto made = c.Post(
      kTokens, Cookie(alice),
      "name=form.made&read=1&write=on&delete=0&repo=box%2Fdaily&expire=" + std::to_string(expire),
      kForm);
  INFO(made->body);
  REQUIRE(made->status == 200);
  CHECK(made->get_header_value("Cache-Control") == "no-store");
  json token = Data(made);
  CHECK(token["name"] == "form.made");
  CHECK(token["read"] == true);
  CHECK(token["write"] == true);
  CHECK(token["delete"] == false);
  CHECK(token["repo"] == "box/daily");
  CHECK(std::abs(token["expire"].get<std::int64_t>() - expire) <= 2);
  auto restic = b.Client(token["token"]);
  CHECK(restic.Post("/backup/box/daily/?create=true")->status == 200);
  CHECK(restic.Post("/backup/box/weekly/?create=true")->status == 403);
  json listed = Data(c.Get(kTokens, Cookie(alice, false)));
  REQUIRE(listed.size() == 1);
  CHECK(listed[0]["name"] == "form.made");
  CHECK(listed[0]["repo"] == "box/daily");

  // The same refusals as JSON: without CSRF, a bad boolean, an unknown field, beyond the ceiling.
  CHECK(c.Post(kTokens, Cookie(alice, false), "name=nocsrf&read=1", kForm)->status == 401);
  CHECK(c.Post(kTokens, Cookie(alice), "name=bad&read=maybe", kForm)->status == 400);
  CHECK(c.Post(kTokens, Cookie(alice), "name=bad&read=1&colour=red", kForm)->status == 400);
  CHECK(c.Post(kTokens, Cookie(alice), "name=del&read=1&delete=1", kForm)->status == 403);
  CHECK(Data(c.Get(kTokens, Cookie(alice, false))).size() == 1);

  // The password as a browser form sends it: '+' is a space, %XX a UTF-8 byte. A wrong current
  // password is read from the form too, and changes nothing.
  const std::string next = "a form+password \xC3\xBC";
  const std::string next_form = "a+form%2Bpassword+%C3%BC";
  auto wrong =
      c.Put("/api2/json/access/password", Cookie(alice),
            "userid=alice%40pbs&password=" + next_form + "&confirmation-password=nope", kForm);
  CHECK(wrong->status == 403);
  auto changed =
      c.Put("/api2/json/access/password", Cookie(alice),
            "userid=alice%40pbs&password=" + next_form + "&confirmation-password=pw", kForm);
  INFO(changed->body);
  REQUIRE(changed->status == 200);
  CHECK(Data(changed)["CSRFPreventionToken"].is_string());
  CHECK(changed->get_header_value("Set-Cookie").starts_with("__Host-PBSAuthCookie="));
  CHECK(LogIn(c, "alice@pbs", next).status == 200);
  CHECK(LogIn(c, "alice@pbs", "pw").status == 401);
}

TEST_CASE("two accounts' grants of the same name stay apart", "[self_service]") {
  BackupStack b;
  CheckedClient c = b.stack->Client();
  PasswordLogin alice = LogIn(c, "alice@pbs", "pw");
  PasswordLogin bob = LogIn(c, "bob@pbs", "pw");
  REQUIRE(alice.status == 200);
  REQUIRE(bob.status == 200);

  // The same name for each, told apart by their repositories: a name is unique per account only.
  auto alices = MintOwn(
      c, alice, {{"name", "laptop"}, {"read", true}, {"write", true}, {"repo", "alice-laptop"}});
  auto bobs = MintOwn(
      c, bob, {{"name", "laptop"}, {"read", true}, {"write", true}, {"repo", "bob-laptop"}});
  REQUIRE(alices->status == 200);
  REQUIRE(bobs->status == 200);
  auto alice_restic = b.Client(Data(alices)["token"]);
  auto bob_restic = b.Client(Data(bobs)["token"]);
  REQUIRE(alice_restic.Post("/backup/alice-laptop/?create=true")->status == 200);
  REQUIRE(bob_restic.Post("/backup/bob-laptop/?create=true")->status == 200);

  auto own = [&](const PasswordLogin& who) {
    auto r = c.Get(kTokens, Cookie(who, false));
    REQUIRE(r->status == 200);
    return Data(r);
  };
  json alice_list = own(alice);
  json bob_list = own(bob);
  REQUIRE(alice_list.size() == 1);
  REQUIRE(bob_list.size() == 1);
  CHECK(alice_list[0]["repo"] == "alice-laptop");
  CHECK(bob_list[0]["repo"] == "bob-laptop");

  // Alice revokes her "laptop": hers dies, bob's lives on and still writes.
  REQUIRE(c.Delete(std::string(kTokens) + "/laptop", Cookie(alice))->status == 200);
  CHECK(Eventually([&] { return alice_restic.Get("/backup/alice-laptop/config")->status == 401; }));
  // Had alice's revocation touched bob's grant, the worker would know by now.
  b.AwaitNotifications();
  CHECK(bob_restic.Post("/backup/bob-laptop/config", "bob's config", "application/octet-stream")
            ->status == 200);
  CHECK(bob_restic.Get("/backup/bob-laptop/config")->status == 200);
  CHECK(own(alice)[0]["revoked"].is_number());
  CHECK(own(bob)[0]["revoked"].is_null());

  // Alice has no live "laptop" left; bob's is still his to revoke.
  CHECK(c.Delete(std::string(kTokens) + "/laptop", Cookie(alice))->status == 404);
  CHECK(bob_restic.Get("/backup/bob-laptop/config")->status == 200);
  CHECK(c.Delete(std::string(kTokens) + "/laptop", Cookie(bob))->status == 200);
  CHECK(Eventually([&] { return bob_restic.Get("/backup/bob-laptop/config")->status == 401; }));
}

TEST_CASE("a CSRF token valid for another account changes nothing", "[self_service]") {
  BackupStack b;
  CheckedClient c = b.stack->Client();
  PasswordLogin alice = LogIn(c, "alice@pbs", "pw");
  PasswordLogin bob = LogIn(c, "bob@pbs", "pw");
  REQUIRE(alice.status == 200);
  REQUIRE(bob.status == 200);
  json kept = Data(MintOwn(c, alice, {{"name", "keep"}, {"read", true}, {"repo", "keep"}}));
  auto keep = b.Client(kept["token"]);
  REQUIRE(keep.Get("/backup/keep/config")->status == 404);  // alive: no repository yet

  // One account's ticket with the other's CSRF token, both ways round.
  auto crossed = [](const PasswordLogin& ticket, const PasswordLogin& csrf) {
    httplib::Headers h = Cookie(ticket, false);
    h.emplace("CSRFPreventionToken", csrf.csrf);
    return h;
  };
  // The CSRF token is checked with the ticket, before any handler runs
  // (auth/ticket_service.cc, Authenticate): a mismatch is an authentication failure, 401.
  auto check_refused = [](const char* request, const CheckedResult& r) {
    INFO(request << " answered " << r->status << ": " << r->body);
    CHECK(r->status == 401);
  };
  for (auto [ticket, csrf, userid] :
       {std::tuple{&alice, &bob, "alice@pbs"}, std::tuple{&bob, &alice, "bob@pbs"}}) {
    INFO("ticket of " << userid);
    httplib::Headers h = crossed(*ticket, *csrf);
    check_refused("POST tokens",
                  c.Post(kTokens, h, R"({"name":"crossed","read":true})", "application/json"));
    check_refused("DELETE tokens/keep", c.Delete(std::string(kTokens) + "/keep", h));
    json change = {{"userid", userid},
                   {"password", "a crossed new password"},
                   {"confirmation-password", "pw"}};
    check_refused("PUT password",
                  c.Put("/api2/json/access/password", h, change.dump(), "application/json"));
  }

  // Nothing changed: no new grant, alice's "keep" lives, both passwords and sessions stand.
  json alice_list = Data(c.Get(kTokens, Cookie(alice, false)));
  REQUIRE(alice_list.size() == 1);
  CHECK(alice_list[0]["name"] == "keep");
  CHECK(alice_list[0]["revoked"].is_null());
  CHECK(Data(c.Get(kTokens, Cookie(bob, false))).empty());
  b.AwaitNotifications();  // had anything been revoked, the worker would know by now
  CHECK(keep.Get("/backup/keep/config")->status == 404);
  CHECK(c.Get("/api2/json/access/whoami", Cookie(alice, false))->status == 200);
  CHECK(c.Get("/api2/json/access/whoami", Cookie(bob, false))->status == 200);
  CHECK(LogIn(c, "alice@pbs", "pw").status == 200);
  CHECK(LogIn(c, "bob@pbs", "pw").status == 200);
  // The same requests with each account's own CSRF token are answered: the refusals above were
  // for the crossed token, not for the request.
  CHECK(MintOwn(c, bob, {{"name", "crossed"}, {"read", true}})->status == 200);
  CHECK(c.Delete(std::string(kTokens) + "/keep", Cookie(alice))->status == 200);
}
