// The shipped systemd units (conf/systemd/): they verify without a warning, the service's
// hardening keeps its exposure at or below 2.0 as `systemd-analyze security` rates it, and the
// worker runs the way the socket unit starts it — a listening socket on standard input
// (`listen = fd:0`), served through nginx, drained by SIGTERM, and the socket left to its owner.
// The test machine has no systemd running, so the socket is handed over as systemd does it.
#include <signal.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <regex>
#include <string>

#include "harness.h"
#include "http_client.h"

using namespace tessera::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

constexpr const char* kUnits = TESSERA_SOURCE_DIR "/conf/systemd";

// The units copied into `dir`, the service's ExecStart pointing at the worker this build made
// (verify checks that the program exists and is executable).
void CopyUnits(const std::string& dir) {
  fs::copy_file(std::string(kUnits) + "/tessera-fcgi.socket", dir + "/tessera-fcgi.socket");
  std::string service = ReadFile(std::string(kUnits) + "/tessera-fcgi.service");
  const std::string shipped = "ExecStart=/usr/bin/tessera-fcgi ";
  std::size_t at = service.find(shipped);
  REQUIRE(at != std::string::npos);
  service.replace(at, shipped.size(), std::string("ExecStart=") + TESSERA_FCGI_BIN + " ");
  WriteFile(dir + "/tessera-fcgi.service", service);
}

}  // namespace

TEST_CASE("the systemd units verify cleanly and the service's exposure is at most 2.0",
          "[systemd]") {
  std::string dir = MakeTempDir("tessera-units");
  CopyUnits(dir);
  // verify exits 0 even when it ignores a line it cannot read: its output must be empty.
  RunResult verified = Run({"systemd-analyze", "verify", "--man=no", dir + "/tessera-fcgi.socket",
                            dir + "/tessera-fcgi.service"});
  INFO(verified.output);
  CHECK(verified.status == 0);
  CHECK(verified.output.empty());

  // A misspelt key is what verify reports: the check above can fail.
  WriteFile(dir + "/broken.service",
            ReadFile(dir + "/tessera-fcgi.service") + "\n[Service]\nNoNewPrivilegs=yes\n");
  RunResult broken = Run({"systemd-analyze", "verify", "--man=no", dir + "/broken.service"});
  CHECK(broken.output.find("Unknown key") != std::string::npos);

  RunResult security = Run({"systemd-analyze", "security", "--offline=true", "--no-pager",
                            dir + "/tessera-fcgi.service"});
  INFO(security.output);
  REQUIRE(security.status == 0);
  std::smatch level;
  std::regex overall(R"(Overall exposure level for tessera-fcgi\.service: ([0-9]+\.[0-9]+))");
  REQUIRE(std::regex_search(security.output, level, overall));
  double exposure = std::stod(level[1]);
  CHECK(exposure <= 2.0);
  // The settings the issue names are each in force (a ✓ line, not ✗).
  for (const char* setting : {"NoNewPrivileges=", "ProtectSystem=", "ProtectHome=", "PrivateTmp=",
                              "SystemCallFilter=~@", "RestrictAddressFamilies=~"}) {
    INFO(setting);
    std::regex passed(std::string("✓ ") + setting);
    CHECK(std::regex_search(security.output, passed));
  }
  fs::remove_all(dir);
}

TEST_CASE("the worker serves on a socket handed over on standard input, as the socket unit does",
          "[systemd]") {
  PgCluster pg;
  MigrateOrThrow(pg.Conninfo());
  std::string dir = MakeTempDir("tessera-socket-unit");
  Worker worker(dir, pg.Conninfo(), "listen = fd:0\n");
  worker.StartOnInheritedSocket();
  CHECK(worker.Log().find("listening on fd:0") != std::string::npos);
  {
    Nginx nginx(dir, worker.socket());
    CheckedClient client("127.0.0.1", nginx.port());
    auto version = client.Get("/api2/json/version");
    REQUIRE(version);
    CHECK(version->status == 200);
  }
  worker.process().Signal(SIGTERM);
  CHECK(worker.process().Wait(10s) == 0);
  // The socket belongs to systemd: the worker leaves it where it was.
  CHECK(fs::exists(worker.socket()));

  // Started with no socket on standard input (the unit without its socket), it says so and stops.
  fs::create_directories(dir + "/lonely");
  Worker lonely(dir + "/lonely", pg.Conninfo(), "listen = fd:0\n");
  CHECK_THROWS_WITH(lonely.Start(), Catch::Contains("not a socket"));
  fs::remove_all(dir);
}
