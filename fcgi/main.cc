// tessera-fcgi: the FastCGI worker.
//
// Start-up: read the config, initialise libsodium, block the signals, open the socket, check the
// schema, start the process-wide services (account state kept current by LISTEN/NOTIFY, tickets,
// backup), then the threads (fcgi/server.h), which share one App and one pool of PostgreSQL
// connections. Shutdown on SIGTERM/SIGINT: stop accepting, let every request in flight finish
// (each socket wait is bounded by io_timeout), exit 0.
#include <fcgiapp.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>

#include <chrono>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "api/app.h"
#include "auth/session_cache.h"
#include "auth/ticket_setup.h"
#include "backup/backup_service.h"
#include "clock/clock.h"
#include "config/config.h"
#include "fcgi/listener.h"
#include "fcgi/server.h"
#include "log/log.h"
#include "store/pg/listener.h"
#include "store/pg/pg_database.h"
#include "store/pg/pool.h"

namespace {

using namespace tessera;

// Returns the config path, or the exit code when there is nothing to run.
std::expected<std::string, int> ParseArgs(int argc, char** argv) {
  std::string config_path;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--config" && i + 1 < argc) {
      config_path = argv[++i];
    } else if (arg == "--version") {
      std::cout << "tessera-fcgi " << api::kVersion << "\n";
      return std::unexpected(0);
    } else {
      config_path.clear();
      break;
    }
  }
  if (config_path.empty()) {
    std::cerr << "usage: tessera-fcgi --config FILE\n";
    return std::unexpected(2);
  }
  return config_path;
}

// Reads the config and applies its log level; logs and returns nullopt on error.
std::optional<config::Config> ReadConfig(const std::string& path) {
  auto config = config::Load(path);
  if (!config) {
    log::Error("config " + path +
               (config.error().line ? ":" + std::to_string(config.error().line) : "") + ": " +
               config.error().message);
    return std::nullopt;
  }
  log::Level level;
  if (log::ParseLevel(config->log_level, &level)) log::SetLevel(level);
  return std::move(*config);
}

// Signals are taken by the main thread with sigwait; threads started later inherit the mask.
sigset_t BlockSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return signals;
}

// Returns once SIGTERM or SIGINT arrives.
void WaitForStopSignal(const sigset_t& signals) {
  for (;;) {
    int sig = 0;
    sigwait(&signals, &sig);
    if (sig == SIGHUP) {
      log::Info("SIGHUP ignored: restart the worker to reload its configuration");
      continue;
    }
    log::Info(std::string("received ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") +
              ", finishing requests in flight");
    return;
  }
}

store::pg::PgOptions DatabaseOptions(const config::Config& config) {
  return {config.database, config.database_connect_timeout, config.database_retry_max,
          /*check_schema=*/true};
}

// A database that is behind the schema stops the start; one that is down only warns (503 until
// it is back).
bool CheckSchema(const config::Config& config) {
  auto schema = store::pg::VerifySchema(DatabaseOptions(config));
  if (schema) return true;
  if (schema.error().first != store::StoreError::kUnavailable) {
    log::Error(schema.error().second);
    return false;
  }
  log::Warning("database not reachable at start-up (" + schema.error().second +
               "); answering 503 until it is");
  return true;
}

// What every thread shares, in start order; members are destroyed in reverse.
struct Core {
  explicit Core(const config::Config& config)
      : sessions(config.auth_max_staleness), changes(config.database, sessions, clock) {}

  const clock::SystemClock clock;
  auth::SessionCache sessions;
  store::pg::ChangeListener changes;
  std::unique_ptr<auth::TicketService> tickets;
  std::unique_ptr<backup::BackupService> backup;
  std::unique_ptr<store::Database> db;
  std::unique_ptr<api::App> app;
};

// Starts the services and builds the App; logs and returns null on error.
std::unique_ptr<Core> StartCore(const config::Config& config) {
  auto core = std::make_unique<Core>(config);
  auto tickets = auth::MakeTicketService(config, core->sessions, core->clock);
  if (!tickets) {
    log::Error(tickets.error());
    return nullptr;
  }
  core->tickets = std::move(*tickets);
  core->changes.Start();
  // Give the listener a moment to load accounts, so the first requests after a (re)start are not
  // answered 503; if PostgreSQL is down we start anyway and answer 503 until it is back.
  for (int i = 0; i < 300 && !core->sessions.IsFresh(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  auto backup = backup::MakeBackupService(config, core->sessions, core->clock);
  if (!backup) {
    log::Error(backup.error());
    return nullptr;
  }
  core->backup = std::move(*backup);
  if (!core->backup)
    log::Info("backup endpoints off: set token_key and storage_dir (or storage) to serve restic");
  // Housekeeping threads and other process-wide services start here, before the App.
  core->db =
      store::pg::OpenPgPool(DatabaseOptions(config), config::EffectiveDatabaseConnections(config),
                            config.database_connect_timeout);
  api::Services services{core->tickets.get()};
  if (core->backup) {
    services.backup = core->backup->handler.get();
    services.tokens = core->backup->tokens.get();
    services.token_door = core->backup->authenticator.get();
    services.storage = core->backup->storage.get();
  }
  core->app = std::make_unique<api::App>(config, *core->db, services, core->clock);
  return core;
}

fcgi::ServerOptions ServerOptionsFrom(const config::Config& config) {
  fcgi::ServerOptions options;
  options.min_threads = config.threads;
  options.max_threads = config::EffectiveMaxThreads(config);
  options.io.timeout = config.io_timeout;
  options.io.min_rate = config.min_transfer_rate;
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  auto config_path = ParseArgs(argc, argv);
  if (!config_path) return config_path.error();
  if (sodium_init() < 0) {
    log::Error("libsodium failed to initialise");
    return 1;
  }
  auto config = ReadConfig(*config_path);
  if (!config) return 1;
  sigset_t signals = BlockSignals();
  if (FCGX_Init() != 0) {
    log::Error("libfcgi failed to initialise");
    return 1;
  }
  auto listener = fcgi::OpenListener(*config);
  if (!listener) {
    log::Error(listener.error());
    return 1;
  }
  if (!CheckSchema(*config)) return 1;
  auto core = StartCore(*config);
  if (!core) return 1;

  fcgi::Server server(listener->fd(), *core->app, ServerOptionsFrom(*config));
  if (!server.Start()) return 1;
  log::Info("tessera-fcgi " + std::string(api::kVersion) + " listening on " + config->listen +
            " with " + std::to_string(config->threads) + " to " +
            std::to_string(config::EffectiveMaxThreads(*config)) + " threads and " +
            std::to_string(config::EffectiveDatabaseConnections(*config)) +
            " database connections");
  WaitForStopSignal(signals);
  server.Stop();  // drains: every request in flight finishes
  core->changes.Stop();
  log::Info("stopped");
  return 0;
}
