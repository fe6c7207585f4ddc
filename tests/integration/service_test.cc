// The running service through real nginx: envelope, errors, health, database outage and recovery,
// and graceful shutdown with a request in flight.
#include <httplib.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>

#include "fcgi_client.h"
#include "harness.h"
#include "http_client.h"

using namespace tessera::testing;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

// Connections waiting to be accepted on the unix socket `path`, as ss(8) reports a listening
// socket's queue; nullopt when nothing listens there.
std::optional<int> AcceptQueue(const std::string& path) {
  RunResult ss = Run({"ss", "-xlnH", "src", path});
  if (ss.status != 0) throw std::runtime_error("ss failed: " + ss.output);
  std::istringstream fields(ss.output);
  std::string netid, state;
  int queue = 0;
  if (!(fields >> netid >> state >> queue) || state != "LISTEN") return std::nullopt;
  return queue;
}

// Whether a connection to the unix socket `path` is accepted into its queue; the probe closes
// at once, so a worker that takes it reads an empty connection and drops it.
bool Connects(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  path.copy(addr.sun_path, sizeof addr.sun_path - 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  bool connected = connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return connected;
}

json Body(const CheckedResult& r) { return json::parse(r->body); }
}  // namespace

TEST_CASE("version and health answer through nginx in the envelope", "[service]") {
  Stack stack;
  CheckedClient client = stack.Client();

  auto version = client.Get("/api2/json/version");
  REQUIRE(version);
  CHECK(version->status == 200);
  CHECK(version->get_header_value("Content-Type") == "application/json");
  json v = Body(version);
  CHECK(v["success"] == true);
  CHECK(v["status"] == 200);
  CHECK(v["data"]["version"].is_string());

  auto head = client.Head("/api2/json/version");
  REQUIRE(head);
  CHECK(head->status == 200);
  CHECK(head->body.empty());

  auto health = client.Get("/api2/json/health");
  REQUIRE(health);
  CHECK(health->status == 200);
  CHECK(Body(health)["data"]["database"] == "ok");
}

TEST_CASE("bad requests get JSON errors with meaningful codes", "[service]") {
  Stack stack;
  CheckedClient client = stack.Client();

  auto missing = client.Get("/api2/json/nothing-here");
  REQUIRE(missing);
  CHECK(missing->status == 404);
  CHECK(Body(missing)["success"] == false);
  CHECK(Body(missing)["data"].is_null());

  auto wrong = client.Post("/api2/json/version", "", "application/json");
  REQUIRE(wrong);
  CHECK(wrong->status == 405);
  CHECK(wrong->get_header_value("Allow") == "GET, HEAD");

  auto traversal = client.Get("/api2/json/%2e%2e%2fetc");
  REQUIRE(traversal);
  CHECK(traversal->status == 400);

  const char* ticket = "/api2/json/access/ticket";
  auto type = client.Post(ticket, "username=a@pam", "text/plain");
  REQUIRE(type);
  CHECK(type->status == 415);
  CHECK(Body(type)["status"] == 415);

  auto malformed = client.Post(ticket, "{\"username\":", "application/json");
  REQUIRE(malformed);
  CHECK(malformed->status == 400);
  CHECK(Body(malformed)["message"].get<std::string>().find("malformed JSON") != std::string::npos);

  auto form = client.Post(ticket, "username=a%zz", "application/x-www-form-urlencoded");
  REQUIRE(form);
  CHECK(form->status == 400);
  CHECK(Body(form)["message"].get<std::string>().find("'username'") != std::string::npos);

  auto unknown = client.Post(ticket, "username=a@pam&password=x&colour=blue",
                             "application/x-www-form-urlencoded");
  REQUIRE(unknown);
  CHECK(unknown->status == 400);
  CHECK(Body(unknown)["message"].get<std::string>().find("colour") != std::string::npos);

  // Over the worker's cap but under nginx's: the worker's JSON 413.
  auto big = client.Post(ticket, "username=" + std::string(70 * 1024, 'a'),
                         "application/x-www-form-urlencoded");
  REQUIRE(big);
  CHECK(big->status == 413);
  CHECK(Body(big)["status"] == 413);
  // Over nginx's cap: nginx answers, still in JSON.
  auto huge =
      client.Post(ticket, std::string(2 * 1024 * 1024, 'a'), "application/x-www-form-urlencoded");
  REQUIRE(huge);
  CHECK(huge->status == 413);
  CHECK(Body(huge)["success"] == false);
}

TEST_CASE("database down gives 503 and the worker recovers without restart", "[service]") {
  Stack stack;
  CheckedClient client = stack.Client();
  REQUIRE(client.Get("/api2/json/health")->status == 200);

  stack.pg().Stop();
  for (int i = 0; i < 3; ++i) {
    auto down = client.Get("/api2/json/health");
    REQUIRE(down);
    CHECK(down->status == 503);
    CHECK(Body(down)["success"] == false);
  }
  // Requests that need no database keep working.
  CHECK(client.Get("/api2/json/version")->status == 200);
  CHECK(stack.worker().process().Running());

  stack.pg().Start();
  CHECK(Eventually([&] { return client.Get("/api2/json/health")->status == 200; }, 10s));
  CHECK(stack.worker().Log().find("database connection re-established") != std::string::npos);
}

TEST_CASE("SIGTERM finishes the request in flight, then exits 0", "[service]") {
  Stack stack;
  Worker& worker = stack.worker();
  std::string body = "username=alice%40pam&password=not-the-password";

  FcgiClient inflight(worker.socket());
  inflight.Begin({{"REQUEST_METHOD", "POST"},
                  {"REQUEST_URI", "/api2/json/access/ticket"},
                  {"CONTENT_TYPE", "application/x-www-form-urlencoded"},
                  {"CONTENT_LENGTH", std::to_string(body.size())},
                  {"REMOTE_ADDR", "127.0.0.1"}});
  inflight.Stdin(body.substr(0, 10));
  // The worker has taken the connection (none waits to be accepted) and is reading the body.
  REQUIRE(Eventually([&] { return AcceptQueue(worker.socket()) == 0; }, 5s));

  worker.process().Signal(SIGTERM);
  // It has heard the signal and stopped accepting (the listening socket is shut down, so a
  // connection is refused)...
  REQUIRE(Eventually([&] { return !Connects(worker.socket()); }, 5s));
  REQUIRE(worker.process().Running());  // ...still serving the request in flight
  CHECK_THROWS(FcgiClient(worker.socket()).ReadResponse());  // no new requests

  inflight.Stdin(body.substr(10));
  inflight.Stdin("");
  std::string response = inflight.ReadResponse();
  CHECK(response.rfind("Status: 401", 0) == 0);
  CHECK(worker.process().Wait(10s) == 0);
  CHECK(worker.Log().find("finishing requests in flight") != std::string::npos);
}

// Issue 8, item 13: FastCGI has no authentication, so the worker listens beyond this machine
// only when the config says so explicitly, and then warns.
TEST_CASE("the worker refuses a non-loopback FastCGI address unless told, then warns",
          "[service]") {
  PgCluster pg;
  MigrateOrThrow(pg.Conninfo());
  std::string dir = MakeTempDir("tessera-listen");
  const char* kWarning = "accepts FastCGI from other machines";

  {
    Worker refused(dir, pg.Conninfo(), "listen = 0.0.0.0:" + std::to_string(FreePort()) + "\n");
    CHECK_THROWS(refused.Start());
    CHECK_FALSE(refused.process().Running());
    CHECK(refused.Log().find("listen_insecure_remote = yes") != std::string::npos);
  }
  {
    Worker wildcard(dir, pg.Conninfo(), "listen = :" + std::to_string(FreePort()) + "\n");
    CHECK_THROWS(wildcard.Start());
    CHECK(wildcard.Log().find("listen_insecure_remote") != std::string::npos);
  }
  {
    int port = FreePort();
    Worker allowed(dir, pg.Conninfo(),
                   "listen = 0.0.0.0:" + std::to_string(port) + "\nlisten_insecure_remote = yes\n");
    allowed.Start();
    CHECK(allowed.process().Running());
    std::string log = allowed.Log();
    CHECK(log.find(std::string("warning: listen = 0.0.0.0:") + std::to_string(port) + " " +
                   kWarning) != std::string::npos);
  }
  {
    std::size_t before = ReadFile(dir + "/worker.log").size();
    Worker loopback(dir, pg.Conninfo(), "listen = 127.0.0.1:" + std::to_string(FreePort()) + "\n");
    loopback.Start();
    CHECK(loopback.process().Running());
    CHECK(loopback.Log().find(kWarning, before) == std::string::npos);
  }
  std::filesystem::remove_all(dir);
}

// A persistent FastCGI connection (nginx fastcgi_keep_conn, Apache enablereuse) carries one
// request after another; the worker reads each with its own deadlines.
TEST_CASE("a kept FastCGI connection serves several requests in turn", "[service]") {
  Stack stack;
  FcgiClient client(stack.worker().socket());
  client.SetReadTimeout(5000);
  for (int i = 0; i < 3; ++i) {
    INFO("request " << i);
    client.Begin({{"REQUEST_METHOD", "GET"},
                  {"REQUEST_URI", "/api2/json/version"},
                  {"REMOTE_ADDR", "127.0.0.1"}},
                 /*keep_connection=*/true);
    client.Stdin("");
    std::string response = client.ReadResponse();
    CHECK(response.rfind("Status: 200", 0) == 0);
    CHECK(response.find("\"version\"") != std::string::npos);
  }
}
