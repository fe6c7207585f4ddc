// The same worker behind Apache's mod_proxy_fcgi, through the shipped conf/apache snippet: the
// paths the worker sees, Authorization passed through, and a login with its cookie.
#include <httplib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "fcgi_client.h"
#include "harness.h"
#include "http_client.h"

using namespace tessera::testing;
using nlohmann::json;
namespace fs = std::filesystem;

TEST_CASE("behind Apache the worker answers exactly as behind nginx", "[apache]") {
  BackupStack b;
  Stack& stack = *b.stack;
  Apache apache(stack.dir(), stack.worker().socket(), stack.storage_dir());
  CheckedClient a("127.0.0.1", apache.port());
  CheckedClient n = stack.Client();

  for (const char* path :
       {"/api2/json/version", "/api2/json/health", "/api2/json/nothing", "/api2/json/a%20b"}) {
    INFO(path);
    auto via_apache = a.Get(path);
    auto via_nginx = n.Get(path);
    REQUIRE(via_apache);
    REQUIRE(via_nginx);
    CHECK(via_apache->status == via_nginx->status);
    CHECK(via_apache->body == via_nginx->body);
  }
  // An encoded slash never reaches a handler: Apache refuses it itself with 404
  // (AllowEncodedSlashes Off), and the worker, asked directly, refuses the raw path with 400.
  const std::string encoded = "/api2/json/%2e%2e%2fx";
  auto refused = a.Get(encoded);
  REQUIRE(refused);
  CHECK(refused->status == 404);
  FcgiClient worker(stack.worker().socket());
  worker.SetReadTimeout(5000);
  CHECK(worker.Status(
            {{"REQUEST_METHOD", "GET"}, {"REQUEST_URI", encoded}, {"REMOTE_ADDR", "127.0.0.1"}}) ==
        400);

  auto login = a.Post("/api2/json/access/ticket", "username=alice%40pbs&password=pw&http-only=1",
                      "application/x-www-form-urlencoded");
  REQUIRE(login->status == 200);
  std::string cookie = login->get_header_value("Set-Cookie");
  std::string ticket =
      cookie.substr(std::string("__Host-PBSAuthCookie=").size(),
                    cookie.find(';') - std::string("__Host-PBSAuthCookie=").size());
  auto who = a.Get("/api2/json/access/whoami", {{"Cookie", "__Host-PBSAuthCookie=" + ticket}});
  CHECK(who->status == 200);
  CHECK(json::parse(who->body)["data"]["userid"] == "alice@pbs");

  // Authorization reaches the worker (CGIPassAuth On): a bearer token works for /backup/.
  std::string token = b.Mint("alice@pbs", {"--read", "--write"});
  a.set_bearer_token_auth(token.c_str());
  CHECK(a.Post("/backup/laptop/?create=true", "", "application/octet-stream")->status == 200);
  CHECK(a.Get("/backup/laptop/keys/")->body == "[]");
}
