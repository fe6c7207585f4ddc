// The README's "Deploy" walk, step by step, with what `cmake --install` put in place: install
// into a prefix, `tessera-admin init` (schema, keys, storage, config), the installed worker behind
// nginx, an account and a token from the installed admin tool, and restic backing up and
// restoring through it. What only a real machine has (the tessera user, systemd) is replaced:
// the worker runs as the test's user on a unix socket.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "harness.h"
#include "http_client.h"

using namespace tessera::testing;
namespace fs = std::filesystem;

TEST_CASE("the Deploy walk: install, init, worker behind nginx, restic backs up", "[deploy]") {
  std::string dir = MakeTempDir("tessera-deploy");
  fs::permissions(dir, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
  std::string prefix = dir + "/usr";
  RunResult installed = Run({"cmake", "--install", TESSERA_BUILD_DIR, "--prefix", prefix});
  INFO(installed.output);
  REQUIRE(installed.status == 0);
  const std::string admin = prefix + "/bin/tessera-admin";
  const std::string fcgi = prefix + "/bin/tessera-fcgi";
  for (const std::string& file : {admin, fcgi, prefix + "/share/tessera/sql/0001_accounts.sql",
                                  prefix + "/share/doc/tessera/examples/nginx/tessera.conf",
                                  prefix + "/share/doc/tessera/examples/apache/tessera.conf",
                                  prefix + "/share/doc/tessera/examples/tessera.conf.example",
                                  prefix + "/lib/systemd/system/tessera-fcgi.service",
                                  prefix + "/lib/systemd/system/tessera-fcgi.socket"}) {
    INFO(file);
    CHECK(fs::exists(file));
  }

  PgCluster pg;
  const std::string etc = dir + "/etc/tessera";
  const std::string conf = etc + "/tessera.conf";
  const std::string storage = dir + "/var/lib/tessera/repos";
  const std::string socket = dir + "/fcgi.sock";
  RunResult init = Run({admin, "init", "--out", conf, "--database", pg.Conninfo(), "--storage",
                        storage, "--server-id", "deploy-test", "--listen", socket, "--sql-dir",
                        prefix + "/share/tessera/sql"});
  INFO(init.output);
  REQUIRE(init.status == 0);
  CHECK(init.output.find("applied schema/0001_accounts.sql") != std::string::npos);
  // Keys 0600, config 0640, storage 2750 (group www-data where it exists).
  auto mode = [](const std::string& path) {
    struct stat st{};
    REQUIRE(stat(path.c_str(), &st) == 0);
    return st.st_mode & 07777;
  };
  CHECK(mode(etc + "/ticket.k4.secret") == 0600);
  CHECK(mode(etc + "/token.k4.secret") == 0600);
  CHECK(mode(etc + "/csrf.k4.local") == 0600);
  CHECK(mode(conf) == 0640);
  CHECK(mode(storage) == 02750);
  // Never over an existing installation.
  RunResult again = Run({admin, "init", "--out", conf, "--database", pg.Conninfo(), "--storage",
                         storage, "--sql-dir", prefix + "/share/tessera/sql"});
  CHECK(again.status == 1);
  CHECK(again.output.find("init never replaces a config") != std::string::npos);
  // A database that cannot be reached leaves nothing behind.
  RunResult down = Run({admin, "init", "--out", dir + "/other/tessera.conf", "--database",
                        "host=/nonexistent dbname=x connect_timeout=1", "--storage",
                        dir + "/other/repos", "--sql-dir", prefix + "/share/tessera/sql"});
  CHECK(down.status == 1);
  CHECK_FALSE(fs::exists(dir + "/other"));

  // On a real machine the socket unit hands the worker a socket nginx's group may use; here the
  // worker makes it, and nginx (www-data) needs it open to others.
  WriteFile(conf, ReadFile(conf) + "socket_mode = 0666\n");
  Process worker({fcgi, "--config", conf}, dir + "/worker.log");
  REQUIRE(Eventually(
      [&] { return ReadFile(dir + "/worker.log").find("listening on") != std::string::npos; },
      std::chrono::seconds(10)));
  Nginx nginx(dir, socket, storage);
  REQUIRE(RunWithInput({admin, "--config", conf, "account", "add", "alice@pbs"}, "pw\n").status ==
          0);
  RunResult minted = Run({admin, "--config", conf, "token", "mint", "--user", "alice@pbs", "--name",
                          "laptop", "--read", "--write"});
  INFO(minted.output);
  REQUIRE(minted.status == 0);
  std::string token = minted.output.substr(0, minted.output.find('\n'));

  WriteFile(dir + "/restic-password", "deploy walk\n");
  fs::create_directories(dir + "/src/sub");
  WriteFile(dir + "/src/a.txt", "backed up by the deploy walk\n");
  WriteFile(dir + "/src/sub/b.bin", std::string(300000, 'x'));
  auto restic = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {"timeout",
                                     "120",
                                     "restic",
                                     "-r",
                                     "rest:http://alice:" + token + "@127.0.0.1:" +
                                         std::to_string(nginx.port()) + "/backup/laptop/",
                                     "--password-file",
                                     dir + "/restic-password",
                                     "--cache-dir",
                                     dir + "/cache",
                                     "-q"};
    argv.insert(argv.end(), args.begin(), args.end());
    return Run(argv);
  };
  RunResult made = restic({"init"});
  INFO(made.output);
  REQUIRE(made.status == 0);
  RunResult backup = restic({"backup", dir + "/src"});
  INFO(backup.output);
  REQUIRE(backup.status == 0);
  RunResult restore = restic({"restore", "latest", "--target", dir + "/restored"});
  INFO(restore.output);
  REQUIRE(restore.status == 0);
  RunResult same = Run({"diff", "-r", dir + "/src", dir + "/restored" + dir + "/src"});
  INFO(same.output);
  CHECK(same.status == 0);
}
