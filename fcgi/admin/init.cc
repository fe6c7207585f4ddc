// tessera-admin init: a new installation in one step (README, "Deploy").
//
//   tessera-admin init --out /etc/tessera/tessera.conf --database 'dbname=tessera'
//                      --storage /var/lib/tessera/repos [--server-id ID] [--listen fd:0]
//                      [--sql-dir /usr/share/tessera/sql] [--owner tessera]
//
// Applies the schema to the database first (nothing is written when that fails), then makes the
// three keys beside the config (ticket and token signing keys, the CSRF key; mode 0600), the
// storage directory unless it exists (mode 2750, group www-data when that group exists, so the
// web server can send downloads itself) and the config (mode 0640) naming them. Run it as the
// worker's user (who owns the database and must read the keys), or as root with --owner to give
// that user the keys, config and storage. It never replaces a file: a config or key that exists
// already stops it.
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "admin/commands.h"
#include "store/migrations.h"
#include "store/pg/migrator.h"

namespace tessera::admin {
namespace {

namespace fs = std::filesystem;

struct InitOptions {
  std::string out, database, storage, server_id = "tessera", listen = "fd:0", sql_dir, owner;
};

std::expected<InitOptions, int> Parse(const config::Config& config, const Args& args) {
  InitOptions o;
  o.sql_dir = config.schema_migrations;
  for (std::size_t i = 0; i + 1 < args.size(); i += 2) {
    std::string_view key = args[i], value = args[i + 1];
    if (key == "--out") {
      o.out = value;
    } else if (key == "--database") {
      o.database = value;
    } else if (key == "--storage") {
      o.storage = value;
    } else if (key == "--server-id") {
      o.server_id = value;
    } else if (key == "--listen") {
      o.listen = value;
    } else if (key == "--sql-dir") {
      o.sql_dir = value;
    } else if (key == "--owner") {
      o.owner = value;
    } else {
      return std::unexpected(Usage());
    }
  }
  if (args.size() % 2 != 0 || o.out.empty() || o.database.empty() || o.storage.empty())
    return std::unexpected(Usage());
  return o;
}

// A config value, quoted when it holds what the format would read otherwise. Single quotes
// cannot be written inside a quoted value: refused.
std::expected<std::string, std::string> Value(std::string_view key, const std::string& value) {
  if (value.find('\'') != std::string::npos || value.find('\n') != std::string::npos)
    return std::unexpected(std::string(key) + " must not hold a quote or a newline");
  bool plain = value.find_first_of(" #\t") == std::string::npos && !value.empty();
  return plain ? value : "'" + value + "'";
}

bool Chown(const std::string& path, const passwd* owner, gid_t group) {
  if (owner == nullptr && group == static_cast<gid_t>(-1)) return true;
  return chown(path.c_str(), owner ? owner->pw_uid : static_cast<uid_t>(-1), group) == 0;
}

}  // namespace

int Init(const config::Config& config, const Args& args) {
  auto parsed = Parse(config, args);
  if (!parsed) return parsed.error();
  const InitOptions& o = *parsed;
  auto fail = [](const std::string& why) {
    std::cerr << "tessera-admin: init: " << why << "\n";
    return 1;
  };
  if (fs::exists(o.out)) return fail(o.out + " exists: init never replaces a config");
  const passwd* owner = nullptr;
  if (!o.owner.empty() && (owner = getpwnam(o.owner.c_str())) == nullptr)
    return fail("no user " + o.owner);
  for (auto [key, value] : {std::pair{"--database", &o.database},
                            {"--storage", &o.storage},
                            {"--server-id", &o.server_id},
                            {"--listen", &o.listen}}) {
    if (auto ok = Value(key, *value); !ok) return fail(ok.error());
  }

  // The schema first: a database that cannot be reached leaves nothing behind.
  auto schema = store::LoadMigrations(o.sql_dir);
  if (!schema) return fail(schema.error());
  auto report = store::pg::Migrate(o.database, *schema, nullptr);
  if (!report) return fail("migrate: " + report.error());
  for (const auto& name : report->applied) std::cout << "applied " << name << "\n";

  fs::path dir = fs::absolute(o.out).parent_path();
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return fail("cannot create " + dir.string() + ": " + ec.message());
  const std::string ticket = (dir / "ticket.k4.secret").string();
  const std::string token = (dir / "token.k4.secret").string();
  const std::string csrf = (dir / "csrf.k4.local").string();
  for (auto [path, type] : {std::pair{&ticket, KeyType::kSecret},
                            {&token, KeyType::kSecret},
                            {&csrf, KeyType::kLocal}}) {
    auto written = WriteNewKey(*path, type);
    if (!written) return fail(written.error());
    if (!Chown(*path, owner, static_cast<gid_t>(-1))) return fail("cannot chown " + *path);
    std::cout << "wrote " << *path << "\n";
  }

  // Objects are read by the web server: its group, setgid so everything below inherits it. A
  // storage directory that exists (made by root for a worker user that runs init) is kept as is.
  std::string storage = fs::absolute(o.storage).string();
  if (fs::is_directory(storage, ec)) {
    std::cout << "storage " << storage << " exists: kept as it is\n";
  } else {
    fs::create_directories(storage, ec);
    if (ec) return fail("cannot create " + storage + ": " + ec.message());
    const group* web = getgrnam("www-data");
    if (!Chown(storage, owner, web ? web->gr_gid : static_cast<gid_t>(-1)) ||
        chmod(storage.c_str(), 02750) != 0)
      return fail("cannot set the owner and mode of " + storage + ": " + std::strerror(errno));
    std::cout << "storage " << storage << (web ? " (group www-data, 2750)" : " (2750)") << "\n";
  }

  std::string text =
      "# Written by tessera-admin init; every key is documented in tessera.conf.example.\n"
      "listen = " +
      *Value("listen", o.listen) + "\n" + "database = " + *Value("database", o.database) + "\n" +
      "server_id = " + *Value("server_id", o.server_id) + "\n" +
      "ticket_key = " + *Value("ticket_key", ticket) + "\n" +
      "csrf_key = " + *Value("csrf_key", csrf) + "\n" +
      "token_key = " + *Value("token_key", token) + "\n" +
      "storage_dir = " + *Value("storage_dir", storage) + "\n" +
      "schema_migrations = " + *Value("schema_migrations", o.sql_dir) + "\n";
  // 0640 from the start: the database string may hold a password.
  int fd = open(o.out.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (fd < 0) return fail("cannot create " + o.out + ": " + std::strerror(errno));
  bool written = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  written = close(fd) == 0 && written;
  if (!written) return fail("cannot write " + o.out);
  if (!Chown(o.out, owner, static_cast<gid_t>(-1))) return fail("cannot chown " + o.out);
  std::cout << "wrote " << o.out << "\n"
            << "next: start tessera-fcgi --config " << o.out
            << ", add an account (tessera-admin --config " << o.out
            << " account add NAME@pbs) and mint a token (token mint --user NAME@pbs --name N "
               "--read --write)\n";
  return 0;
}

}  // namespace tessera::admin
