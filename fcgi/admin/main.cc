// tessera-admin: the operator's command-line tool.
//
//   tessera-admin [--config FILE] [--database CONNINFO] COMMAND ...   (see Usage())
//
// Settings come from the config file (default /etc/tessera/tessera.conf if it exists) and are
// overridden by the options. Exit status: 0 success, 1 failure, 2 usage.
#include <sodium.h>

#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "admin/commands.h"
#include "backup/s3_init.h"
#include "config/config.h"
#include "store/migrations.h"
#include "store/pg/migrator.h"

namespace tessera::admin {

int Usage() {
  std::cerr
      << "usage: tessera-admin [--config FILE] [--database CONNINFO] COMMAND\n"
         "commands:\n"
         "  init --out CONFIG --database CONNINFO --storage DIR [--server-id ID]\n"
         "       [--listen fd:0] [--sql-dir DIR] [--owner USER]\n"
         "                                         schema, keys, storage and config\n"
         "  migrate [--sql-dir DIR] [--site DIR]   apply schema then site migrations\n"
         "  keygen [--type secret|local] --out FILE  new key file (0600): signing or CSRF\n"
         "  keygen --public-of FILE                the k4.public of a signing key (rotation)\n"
         "  account add USERID [--expires TIME]    add an account (password from stdin/tty)\n"
         "  account passwd|disable|enable USERID   change an account (ends its tickets)\n"
         "  account list                           list accounts\n"
         "  hash-password                          print an Argon2id hash for site SQL\n"
         "  usage [USERID]                         quota and usage (per repository for one)\n"
         "  usage recompute [USERID]               set usage from what the storage holds\n"
         "  usage check [USERID]                   compare usage with the storage (exit 1: "
         "differ)\n"
         "  token verify                           check a token read from stdin\n"
         "  token mint --user NAME@REALM --name NAME [--read] [--write] [--delete]\n"
         "             [--repo PATH] [--lifetime 30d]  make a named grant, print its token\n"
         "  token mint --user NAME@REALM --name NAME  re-mint the token of a live named grant\n"
         "  token mint --user NAME@REALM [--read] [--write] [--delete] [--repo PATH]\n"
         "             [--lifetime 30d]            the same, the grant named after its id\n"
         "  token mint --jti ID                    re-mint the token of an existing grant\n"
         "  token list --user NAME@REALM           the account's grants (never a token)\n"
         "  token revoke --user NAME@REALM --name NAME | token revoke ID\n"
         "                                         revoke a grant on every worker\n";
  return 2;
}

int Migrate(config::Config& config, const Args& args) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--sql-dir" && i + 1 < args.size()) {
      config.schema_migrations = args[++i];
    } else if (args[i] == "--site" && i + 1 < args.size()) {
      config.site_migrations = args[++i];
    } else {
      return Usage();
    }
  }
  auto schema = store::LoadMigrations(config.schema_migrations);
  if (!schema) {
    std::cerr << "tessera-admin: " << schema.error() << "\n";
    return 1;
  }
  std::optional<std::vector<store::Migration>> site;
  if (!config.site_migrations.empty()) {
    auto loaded = store::LoadMigrations(config.site_migrations);
    if (!loaded) {
      std::cerr << "tessera-admin: " << loaded.error() << "\n";
      return 1;
    }
    site = std::move(*loaded);
  }
  auto report = store::pg::Migrate(config.database, *schema, site ? &*site : nullptr);
  if (!report) {
    std::cerr << "tessera-admin: migrate: " << report.error() << "\n";
    return 1;
  }
  for (const auto& name : report->applied) std::cout << "applied " << name << "\n";
  if (report->applied.empty()) std::cout << "database is up to date\n";
  return 0;
}

}  // namespace tessera::admin

using namespace tessera;
using admin::Usage;

int main(int argc, char** argv) {
  if (sodium_init() < 0) {
    std::cerr << "tessera-admin: libsodium failed to initialise\n";
    return 1;
  }
  if (!backup::InitS3Transport()) {  // `usage` may reach an S3 store
    std::cerr << "tessera-admin: libcurl failed to initialise\n";
    return 1;
  }
  std::vector<std::string_view> args(argv + 1, argv + argc);
  std::string config_path;
  std::optional<std::string> database;
  std::size_t i = 0;
  for (; i < args.size() && args[i].starts_with("--"); ++i) {
    if (args[i] == "--config" && i + 1 < args.size()) {
      config_path = args[++i];
    } else if (args[i] == "--database" && i + 1 < args.size()) {
      database = args[++i];
    } else {
      return Usage();
    }
  }
  if (i >= args.size()) return Usage();

  config::Config config;
  if (config_path.empty() && std::filesystem::exists("/etc/tessera/tessera.conf")) {
    config_path = "/etc/tessera/tessera.conf";
  }
  if (!config_path.empty()) {
    auto loaded = config::Load(config_path);
    if (!loaded) {
      std::cerr << "tessera-admin: config " << config_path;
      if (loaded.error().line) std::cerr << ":" << loaded.error().line;
      std::cerr << ": " << loaded.error().message << "\n";
      return 1;
    }
    config = std::move(*loaded);
  }
  if (database) config.database = *database;

  std::string_view command = args[i];
  admin::Args rest(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
  if (command == "migrate") return admin::Migrate(config, rest);
  if (command == "keygen") return admin::Keygen(config, rest);
  if (command == "token") return admin::Token(config, rest);
  if (command == "account") return admin::Account(config, rest);
  if (command == "hash-password") return admin::HashPassword(config, rest);
  if (command == "init") return admin::Init(config, rest);
  if (command == "usage") return admin::AccountUsage(config, rest);
  return Usage();
}
