// tessera-fcgi: the FastCGI worker.
//
// Start-up: read the config, initialise libsodium, block the signals, open the socket, check the
// schema, start the process-wide services (account state kept current by LISTEN/NOTIFY, tickets,
// backup), then the threads (fcgi/server.h), which share one App and one pool of PostgreSQL
// connections. SIGHUP reloads the config: new keys and settings serve the requests that start
// after it, requests in flight finish with what they started with. Shutdown on SIGTERM/SIGINT:
// stop accepting, let every request in flight finish (each socket wait is bounded by
// io_timeout), exit 0.
#include <fcgiapp.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "api/app.h"
#include "auth/fair_share.h"
#include "auth/session_cache.h"
#include "auth/ticket_setup.h"
#include "auth/token_setup.h"
#include "backup/backup_service.h"
#include "backup/s3_init.h"
#include "clock/clock.h"
#include "config/config.h"
#include "fcgi/listener.h"
#include "fcgi/server.h"
#include "log/log.h"
#include "store/pg/listener.h"
#include "store/pg/pg_database.h"
#include "store/pg/pool.h"
#ifdef TESSERA_TEST_CLOCK
#include "fcgi/test_clock.h"
#endif

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

// Waits for a signal: returns true for SIGHUP (reload), false for SIGTERM or SIGINT (stop).
bool WaitForSignal(const sigset_t& signals) {
  int sig = 0;
  sigwait(&signals, &sig);
  if (sig == SIGHUP) return true;
  log::Info(std::string("received ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") +
            ", finishing requests in flight");
  return false;
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

// The wall clock every service reads. Only the integration tests' build (TESSERA_TEST_CLOCK,
// fcgi/test_clock.h) lets a file named in the environment move it; tessera-fcgi reads the
// system clock and nothing else.
const clock::Clock& WorkerClock() {
#ifdef TESSERA_TEST_CLOCK
  static const fcgi::OffsetFileClock clock = [] {
    const char* path = std::getenv(fcgi::kTestClockOffsetFileVariable);
    log::Warning(std::string("test build: the wall clock is moved by the offset in ") +
                 (path ? path : "(no file named: offset 0)"));
    return fcgi::OffsetFileClock(path ? path : "");
  }();
#else
  static const clock::SystemClock clock;
#endif
  return clock;
}

// What lives as long as the process: the pool of database connections, the cache of account
// state and grants (which reads what it does not hold through the pool) with the listener that
// keeps it current, and the clock. In start order; members are destroyed in reverse.
struct Core {
  explicit Core(const config::Config& config)
      : db(store::pg::OpenPgPool(DatabaseOptions(config),
                                 config::EffectiveDatabaseConnections(config),
                                 config.database_connect_timeout)),
        sessions(*db, config.auth_max_staleness, config.auth_cache_entries),
        changes(config.database, sessions, clock),
        shares(SharesFrom(config)) {}

  static auth::ShareLimits SharesFrom(const config::Config& config) {
    return auth::SharesFor(config::EffectiveMaxThreads(config), config.max_requests_per_account,
                           config.max_requests_per_token);
  }

  const clock::Clock& clock = WorkerClock();
  std::unique_ptr<store::Database> db;
  auth::SessionCache sessions;
  store::pg::ChangeListener changes;
  // Requests in flight per account, token and client: kept across reloads, which only change
  // the limits.
  auth::FairShare shares;
};

// What a configuration reload replaces: the keys and everything built on them, and the App. The
// requests that started under a generation keep it alive until they are answered.
struct Generation {
  config::Config config;
  std::unique_ptr<auth::TicketService> tickets;
  std::unique_ptr<backup::BackupService> backup;
  std::optional<api::MetricsPage> metrics;
  std::unique_ptr<api::App> app;
};

// Builds the services and the App from `config`; a message on error (a key file unreadable,
// storage_dir not a directory, ...).
std::expected<std::shared_ptr<const api::App>, std::string> BuildApp(config::Config config,
                                                                     Core& core) {
  auto made = std::make_shared<Generation>();
  made->config = std::move(config);
  const config::Config& c = made->config;
  auto tickets = auth::MakeTicketService(c, core.sessions, core.clock);
  if (!tickets) return std::unexpected(tickets.error());
  made->tickets = std::move(*tickets);
  auto tokens = auth::MakeTokenFactory(c, core.clock);
  if (!tokens) return std::unexpected(tokens.error());
  auto backup = backup::MakeBackupService(c, std::move(*tokens), core.sessions, *core.db, *core.db,
                                          core.clock, &core.shares);
  if (!backup) return std::unexpected(backup.error());
  made->backup = std::move(*backup);
  if (!made->backup)
    log::Info("backup endpoints off: set token_key and storage_dir (or storage) to serve restic");
  auto metrics = api::MetricsPage::Make(c.metrics_allow);
  if (!metrics) return std::unexpected(metrics.error());
  made->metrics = std::move(*metrics);
  api::Services services{made->tickets.get()};
  services.metrics = &*made->metrics;
  services.sessions = &core.sessions;
  services.shares = &core.shares;
  if (made->backup) {
    services.backup = made->backup->handler.get();
    services.tokens = made->backup->tokens.get();
    services.token_door = made->backup->authenticator.get();
    services.storage = made->backup->storage.get();
  }
  made->app = std::make_unique<api::App>(c, *core.db, services, core.clock);
  const api::App* app = made->app.get();
  return std::shared_ptr<const api::App>(std::move(made), app);  // owns the whole generation
}

// The keys a reload cannot change: the socket, the threads, the database and the cache over it.
// Returns the first one that differs, or an empty view.
std::string_view RestartOnlyChange(const config::Config& running, const config::Config& next) {
  if (next.listen != running.listen || next.socket_mode != running.socket_mode ||
      next.backlog != running.backlog ||
      next.listen_insecure_remote != running.listen_insecure_remote)
    return "listen";
  if (next.threads != running.threads || next.max_threads != running.max_threads) return "threads";
  if (next.database != running.database ||
      next.database_connections != running.database_connections ||
      next.database_connect_timeout != running.database_connect_timeout ||
      next.database_retry_max != running.database_retry_max ||
      next.auth_max_staleness != running.auth_max_staleness ||
      next.auth_cache_entries != running.auth_cache_entries)
    return "database";
  if (next.io_timeout != running.io_timeout ||
      next.min_transfer_rate != running.min_transfer_rate || next.access_log != running.access_log)
    return "io_timeout, min_transfer_rate or access_log";
  return {};
}

// SIGHUP: reads the config again and serves new requests with keys and settings built from it
// (a new signing key takes over; the old ones, listed as verify keys, still verify). A config or
// key that fails keeps the running generation, and so does a change only a restart can make.
void Reload(const std::string& path, const config::Config& running, Core& core,
            fcgi::Server& server) {
  log::Info("SIGHUP: reloading " + path);
  auto next = config::Load(path);
  if (!next) {
    log::Error("reload: config " + path +
               (next.error().line ? ":" + std::to_string(next.error().line) : "") + ": " +
               next.error().message + "; still serving the previous configuration");
    return;
  }
  if (auto key = RestartOnlyChange(running, *next); !key.empty()) {
    log::Error("reload: " + std::string(key) +
               " changed, which needs a restart; still serving the previous configuration");
    return;
  }
  // The new log level, like every other setting, applies only once the reload is made.
  log::Level level = log::Level::kInfo;
  bool level_given = log::ParseLevel(next->log_level, &level);
  auth::ShareLimits shares = Core::SharesFrom(*next);
  auto app = BuildApp(std::move(*next), core);
  if (!app) {
    log::Error("reload: " + app.error() + "; still serving the previous configuration");
    return;
  }
  if (level_given) log::SetLevel(level);
  core.shares.SetLimits(shares);
  server.Replace(std::move(*app));
  log::Info("reloaded " + path + ": new requests use its keys and settings");
}

fcgi::ServerOptions ServerOptionsFrom(const config::Config& config) {
  fcgi::ServerOptions options;
  options.min_threads = config.threads;
  options.max_threads = config::EffectiveMaxThreads(config);
  options.io.timeout = config.io_timeout;
  options.io.min_rate = config.min_transfer_rate;
  options.access_log = config.access_log;
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
  // Before any thread: a reload may build the first S3 client while requests run.
  if (!backup::InitS3Transport()) {
    log::Error("libcurl failed to initialise");
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
  auto core = std::make_unique<Core>(*config);
  core->changes.Start();
  // Give the listener a moment to connect (LISTEN, load the revocations), so the first requests
  // after a (re)start are not answered 503; if PostgreSQL is down we start anyway and answer 503
  // until it is back.
  for (int i = 0; i < 300 && !core->sessions.IsFresh(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  auto app = BuildApp(*config, *core);
  if (!app) {
    log::Error(app.error());
    return 1;
  }

  fcgi::Server server(listener->fd(), std::move(*app), ServerOptionsFrom(*config));
  if (!server.Start()) return 1;
  log::Info("tessera-fcgi " + std::string(api::kVersion) + " listening on " + config->listen +
            " with " + std::to_string(config->threads) + " to " +
            std::to_string(config::EffectiveMaxThreads(*config)) + " threads and " +
            std::to_string(config::EffectiveDatabaseConnections(*config)) +
            " database connections");
  while (WaitForSignal(signals)) Reload(*config_path, *config, *core, server);
  server.Stop();  // drains: every request in flight finishes
  core->changes.Stop();
  log::Info("stopped");
  return 0;
}
