// Downloads handed to the web server (http/download_handoff.h): nginx X-Accel-Redirect and
// Apache X-Sendfile through the shipped snippets, against the worker's own streamed answer. The
// same object, ranges and errors must look the same through all three; the internal location is
// never reachable by a client; only an authorized request for a validated name is handed over.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <map>

#include "fcgi_client.h"
#include "harness.h"
#include "http_client.h"

using namespace tessera::testing;
namespace fs = std::filesystem;

namespace {

RawAnswer AskWorker(Stack& stack, const std::string& method, const std::string& uri,
                    const std::string& token,
                    const std::vector<std::pair<std::string, std::string>>& extra = {}) {
  return tessera::testing::AskWorker(stack.worker().socket(), method, uri, token, extra);
}

}  // namespace

TEST_CASE("downloads are the same through nginx, Apache and the worker's own stream",
          "[download]") {
  BackupStack b;
  Stack& stack = *b.stack;
  Apache apache(stack.dir(), stack.worker().socket(), stack.storage_dir());
  std::string token = b.Mint("alice@pbs", {"--read", "--write"});
  CheckedClient n = b.Client(token);
  CheckedClient a("127.0.0.1", apache.port());
  a.set_bearer_token_auth(token.c_str());

  REQUIRE(n.Post("/backup/laptop/?create=true", "", "application/octet-stream")->status == 200);
  const std::string blob = RandomBytes(300000);
  const std::string name = Sha256Hex(blob);
  const std::string path = "/backup/laptop/data/" + name;
  REQUIRE(n.Post(path, blob, "application/octet-stream")->status == 200);
  REQUIRE(n.Post("/backup/laptop/config", "cfg", "application/octet-stream")->status == 200);

  // What the web servers are told to send: exactly the object's file, from validated names.
  std::string id = stack.pg().Sql("SELECT id FROM accounts WHERE userid = 'alice@pbs'");
  const std::string relative = id + "/laptop/data/" + name.substr(0, 2) + "/" + name;
  RawAnswer accel =
      AskWorker(stack, "GET", path, token,
                {{"TESSERA_DOWNLOAD_HANDOFF", "x-accel-redirect /_tessera/objects/"}});
  CHECK(accel.status == 200);
  CHECK(accel.headers["x-accel-redirect"] == "/_tessera/objects/" + relative);
  CHECK(accel.body.empty());
  RawAnswer sendfile =
      AskWorker(stack, "GET", path, token, {{"TESSERA_DOWNLOAD_HANDOFF", "x-sendfile"}});
  CHECK(sendfile.headers["x-sendfile"] == stack.storage_dir() + "/" + relative);
  CHECK(sendfile.body.empty());
  // A small object (the config, keys, locks, snapshots) the worker sends itself: that is
  // cheaper than the web server's internal redirect.
  RawAnswer small =
      AskWorker(stack, "GET", "/backup/laptop/config", token,
                {{"TESSERA_DOWNLOAD_HANDOFF", "x-accel-redirect /_tessera/objects/"}});
  CHECK(small.status == 200);
  CHECK(small.headers.count("x-accel-redirect") == 0);
  CHECK(small.body == "cfg");
  // No handoff declared, or one the worker cannot read: the worker streams the object itself.
  for (const char* declared : {"", "x-accel-redirect ../", "x-accel-redirect /a/../b/",
                               "x-accel-redirect /x", "X-Sendfile", "x-sendfile on"}) {
    INFO(declared);
    std::vector<std::pair<std::string, std::string>> extra;
    if (*declared != '\0') extra.emplace_back("TESSERA_DOWNLOAD_HANDOFF", declared);
    RawAnswer streamed = AskWorker(stack, "GET", path, token, extra);
    CHECK(streamed.status == 200);
    CHECK(streamed.body == blob);
    CHECK_FALSE(streamed.headers.contains("x-accel-redirect"));
    CHECK_FALSE(streamed.headers.contains("x-sendfile"));
  }

  // The same answers through all three. The worker's stream is read over FastCGI with the range
  // as a header, as a web server passes it.
  struct Case {
    const char* range;
    int status;
    std::string body;
    const char* content_range;
  };
  const std::vector<Case> cases = {
      {"", 200, blob, ""},
      {"bytes=0-", 206, blob, "bytes 0-299999/300000"},
      {"bytes=10-19", 206, blob.substr(10, 10), "bytes 10-19/300000"},
      {"bytes=-5", 206, blob.substr(299995), "bytes 299995-299999/300000"},
      {"bytes=299990-900000", 206, blob.substr(299990), "bytes 299990-299999/300000"},
      {"bytes=0-1,5-6", 200, blob, ""},  // one range per request: several get the whole object
  };
  for (const Case& c : cases) {
    INFO("Range: " << c.range);
    httplib::Headers headers;
    std::vector<std::pair<std::string, std::string>> extra;
    if (*c.range != '\0') {
      headers.emplace("Range", c.range);
      extra.emplace_back("HTTP_RANGE", c.range);
    }
    auto via_nginx = n.Get(path, headers);
    auto via_apache = a.Get(path, headers);
    RawAnswer direct = AskWorker(stack, "GET", path, token, extra);
    CHECK(via_nginx->status == c.status);
    CHECK(via_apache->status == c.status);
    CHECK(direct.status == c.status);
    CHECK(via_nginx->body == c.body);
    CHECK(via_apache->body == c.body);
    CHECK(direct.body == c.body);
    CHECK(via_nginx->get_header_value("Content-Range") == c.content_range);
    CHECK(via_apache->get_header_value("Content-Range") == c.content_range);
    CHECK(direct.headers["content-range"] == c.content_range);
    // restic reads Content-Length (a chunked answer is "negative content length" to it).
    const std::string length = std::to_string(c.body.size());
    CHECK(via_nginx->get_header_value("Content-Length") == length);
    CHECK(via_apache->get_header_value("Content-Length") == length);
    // Never leaked to the client.
    CHECK_FALSE(via_nginx->has_header("X-Accel-Redirect"));
    CHECK_FALSE(via_apache->has_header("X-Sendfile"));
  }
  for (CheckedClient* client : {&n, &a}) {
    auto past_end = client->Get(path, {{"Range", "bytes=300000-"}});
    CHECK(past_end->status == 416);
    auto head = client->Head(path);
    CHECK(head->status == 200);
    CHECK(head->get_header_value("Content-Length") == "300000");
    auto config = client->Get("/backup/laptop/config");
    CHECK(config->status == 200);
    CHECK(config->body == "cfg");
    CHECK(config->get_header_value("Content-Type") == "application/octet-stream");
    CHECK(config->get_header_value("Content-Length") == "3");  // restic needs it (see above)
    // Refused requests are never handed over.
    CHECK(client->Get("/backup/laptop/data/" + std::string(64, 'a'))->status == 404);
    CHECK(client->Get("/backup/other/config")->status == 404);
  }
  RawAnswer direct_416 = AskWorker(stack, "GET", path, token, {{"HTTP_RANGE", "bytes=300000-"}});
  CHECK(direct_416.status == 416);

  // A token without read, another account's token and no token get no handoff.
  std::string write_only = b.Mint("alice@pbs", {"--write"});
  std::string bobs = b.Mint("bob@pbs", {"--read", "--write", "--delete"});
  const std::vector<std::pair<std::string, std::string>> both = {
      {"TESSERA_DOWNLOAD_HANDOFF", "x-accel-redirect /_tessera/objects/"}};
  RawAnswer refused = AskWorker(stack, "GET", path, write_only, both);
  CHECK(refused.status == 403);
  CHECK_FALSE(refused.headers.contains("x-accel-redirect"));
  RawAnswer foreign = AskWorker(stack, "GET", path, bobs, both);
  CHECK(foreign.status == 404);
  CHECK_FALSE(foreign.headers.contains("x-accel-redirect"));
  RawAnswer anonymous = AskWorker(stack, "GET", path, "", both);
  CHECK(anonymous.status == 401);
  CHECK_FALSE(anonymous.headers.contains("x-accel-redirect"));
}

TEST_CASE("the objects' internal location is never reachable by a client", "[download]") {
  BackupStack b;
  Stack& stack = *b.stack;
  std::string token = b.Mint("alice@pbs", {"--read", "--write"});
  CheckedClient n = b.Client(token);
  REQUIRE(n.Post("/backup/laptop/?create=true", "", "application/octet-stream")->status == 200);
  REQUIRE(n.Post("/backup/laptop/config", "secret", "application/octet-stream")->status == 200);
  std::string id = stack.pg().Sql("SELECT id FROM accounts WHERE userid = 'alice@pbs'");
  REQUIRE(n.Get("/backup/laptop/config")->body == "secret");

  CheckedClient anyone = stack.Client();
  for (const std::string& uri :
       {"/_tessera/objects/" + id + "/laptop/config", std::string("/_tessera/objects/"),
        "/%5Ftessera/objects/" + id + "/laptop/config",
        "/_tessera/objects/" + id + "%2Flaptop%2Fconfig",
        "/backup/../_tessera/objects/" + id + "/laptop/config",
        "/api2/../_tessera/objects/" + id + "/laptop/config",
        "//_tessera//objects/" + id + "/laptop/config"}) {
    INFO(uri);
    for (CheckedClient* client : {&anyone, &n}) {
      auto r = client->Get(uri);
      CHECK(r->status == 404);
      CHECK(r->get_header_value("Content-Type") == "application/json");
      CHECK(r->body.find("secret") == std::string::npos);
    }
  }
}

TEST_CASE("objects are group-readable below a setgid storage root, and nothing else",
          "[download]") {
  BackupStack b;
  std::string token = b.Mint("alice@pbs", {"--read", "--write"});
  CheckedClient n = b.Client(token);
  REQUIRE(n.Post("/backup/laptop/?create=true", "", "application/octet-stream")->status == 200);
  // Large enough to be handed to the web server (smaller objects the worker sends itself).
  const std::string blob = RandomBytes(100000);
  REQUIRE(
      n.Post("/backup/laptop/keys/" + Sha256Hex(blob), blob, "application/octet-stream")->status ==
      200);
  // A data object: its data/xx/ directory is made by its first write, with the same modes.
  const std::string pack = RandomBytes(100000);
  const std::string pack_name = Sha256Hex(pack);
  REQUIRE(n.Post("/backup/laptop/data/" + pack_name, pack, "application/octet-stream")->status ==
          200);
  std::string id = b.stack->pg().Sql("SELECT id FROM accounts WHERE userid = 'alice@pbs'");
  const std::string root = b.stack->storage_dir();
  const std::string repo = root + "/" + id + "/laptop";
  struct stat top{};
  REQUIRE(stat(root.c_str(), &top) == 0);
  for (const std::string& path :
       {root + "/" + id, repo, repo + "/data", repo + "/data/" + pack_name.substr(0, 2),
        repo + "/data/" + pack_name.substr(0, 2) + "/" + pack_name, repo + "/keys",
        repo + "/keys/" + Sha256Hex(blob)}) {
    INFO(path);
    struct stat st{};
    REQUIRE(stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0007) == 0);  // nothing for others
    CHECK((st.st_mode & 0020) == 0);  // the group never writes
    CHECK((st.st_mode & 0040) != 0);  // the group reads
    CHECK(st.st_gid == top.st_gid);   // inherited from the setgid root
    if (S_ISDIR(st.st_mode)) CHECK((st.st_mode & 0010) != 0);
  }

  // An object the web server may not read (its permissions changed by hand) is the server's
  // fault: nginx answers the worker's JSON 500, never its own 403 page or the bytes.
  if (geteuid() == 0) {
    const std::string key = root + "/" + id + "/laptop/keys/" + Sha256Hex(blob);
    REQUIRE(chmod(key.c_str(), 0600) == 0);
    auto unreadable = n.Get("/backup/laptop/keys/" + Sha256Hex(blob));
    CHECK(unreadable->status == 500);
    CHECK(unreadable->body.find("\"storage error\"") != std::string::npos);
  }
}

// Apache's mod_proxy_fcgi sends FastCGI answers chunked, without the worker's Content-Length,
// which restic refuses: the shipped snippet requires mod_xsendfile and says so at start-up.
TEST_CASE("the Apache snippet refuses to load without mod_xsendfile", "[download]") {
  std::string dir = MakeTempDir("tessera-noxsendfile");
  try {
    Apache apache(dir, dir + "/no.sock", dir, /*xsendfile=*/false);
    FAIL("Apache started without mod_xsendfile");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()).find("XSendFile") != std::string::npos);
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
}
