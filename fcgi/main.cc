// tessera-fcgi: the FastCGI worker.
//
// Start-up: read the config, initialise libsodium, open the socket, check the schema, start N
// threads, each with its own PostgreSQL connection and App. Shutdown on SIGTERM/SIGINT: stop
// accepting (shutdown(2) on the listening socket wakes the thread blocked in accept), let every
// request in flight finish, exit 0.
#include <fcgiapp.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "api/app.h"
#include "auth/session_cache.h"
#include "auth/ticket_setup.h"
#include "backup/backup_service.h"
#include "clock/clock.h"
#include "config/config.h"
#include "fcgi/adapter.h"
#include "fcgi/listener.h"
#include "log/log.h"
#include "store/pg/listener.h"
#include "store/pg/pg_database.h"

namespace {

using namespace tessera;

std::atomic<bool> g_stopping{false};
std::mutex g_accept_mutex;  // one thread in accept at a time: no thundering herd

void Serve(FCGX_Request& raw, const api::App& app) {
  fcgi::FcgiBody body(raw.in);
  http::Request request;
  http::Response response;
  bool ok = fcgi::ToRequest(raw, &body, &request);
  try {
    response = ok ? app.Handle(request) : http::JsonError(400, "malformed request headers");
  } catch (const std::exception& e) {
    log::Error(std::string("unhandled exception: ") + e.what());
    response = http::JsonError(500, "internal error");
  } catch (...) {
    log::Error("unhandled exception");
    response = http::JsonError(500, "internal error");
  }
  fcgi::WriteResponse(raw, response, request.method == http::Method::kHead);
}

void WorkerThread(int listen_fd, const config::Config& config, api::Services services) {
  auto db = store::pg::OpenPgDatabase({config.database, config.database_connect_timeout,
                                       config.database_retry_max, /*check_schema=*/true});
  api::App app(config, *db, services);
  FCGX_Request raw;
  FCGX_InitRequest(&raw, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR);
  while (!g_stopping.load()) {
    int rc;
    {
      std::lock_guard lock(g_accept_mutex);
      if (g_stopping.load()) break;
      rc = FCGX_Accept_r(&raw);
    }
    if (rc < 0) break;
    Serve(raw, app);
    FCGX_Finish_r(&raw);
  }
  FCGX_Free(&raw, /*close=*/0);
}

int Usage() {
  std::cerr << "usage: tessera-fcgi --config FILE\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--config" && i + 1 < argc) {
      config_path = argv[++i];
    } else if (arg == "--version") {
      std::cout << "tessera-fcgi " << api::kVersion << "\n";
      return 0;
    } else {
      return Usage();
    }
  }
  if (config_path.empty()) return Usage();

  if (sodium_init() < 0) {
    log::Error("libsodium failed to initialise");
    return 1;
  }
  auto config = config::Load(config_path);
  if (!config) {
    log::Error("config " + config_path + (config.error().line ? ":" + std::to_string(config.error().line) : "") +
               ": " + config.error().message);
    return 1;
  }
  log::Level level;
  if (log::ParseLevel(config->log_level, &level)) log::SetLevel(level);

  // Signals are taken by the main thread with sigwait; the workers never see them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  if (FCGX_Init() != 0) {
    log::Error("libfcgi failed to initialise");
    return 1;
  }
  auto listener = fcgi::OpenListener(*config);
  if (!listener) {
    log::Error(listener.error());
    return 1;
  }

  auto schema = store::pg::VerifySchema({config->database, config->database_connect_timeout,
                                         config->database_retry_max, true});
  if (!schema) {
    if (schema.error().first != store::StoreError::kUnavailable) {
      log::Error(schema.error().second);
      return 1;
    }
    log::Warning("database not reachable at start-up (" + schema.error().second +
                 "); answering 503 until it is");
  }

  static const clock::SystemClock kClock;
  auth::SessionCache sessions(config->auth_max_staleness);
  auto tickets = auth::MakeTicketService(*config, sessions, kClock);
  if (!tickets) {
    log::Error(tickets.error());
    return 1;
  }
  store::pg::ChangeListener changes(config->database, sessions, kClock);
  changes.Start();
  // Give the listener a moment to load accounts, so the first requests after a (re)start are not
  // answered 503; if PostgreSQL is down we start anyway and answer 503 until it is back.
  for (int i = 0; i < 300 && !sessions.IsFresh(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  auto backup = backup::MakeBackupService(*config, sessions, kClock);
  if (!backup) {
    log::Error(backup.error());
    return 1;
  }
  if (!*backup) log::Info("backup endpoints off: set token_key and storage_dir to serve restic");
  api::Services services{tickets->get(), *backup ? (*backup)->handler.get() : nullptr};

  std::vector<std::thread> threads;
  for (int i = 0; i < config->threads; ++i) {
    threads.emplace_back(WorkerThread, listener->fd(), std::cref(*config), services);
  }
  log::Info("tessera-fcgi " + std::string(api::kVersion) + " listening on " + config->listen +
            " with " + std::to_string(config->threads) + " threads");

  for (;;) {
    int sig = 0;
    sigwait(&signals, &sig);
    if (sig == SIGHUP) {
      log::Info("SIGHUP ignored: restart the worker to reload its configuration");
      continue;
    }
    log::Info(std::string("received ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") +
              ", finishing requests in flight");
    break;
  }
  g_stopping.store(true);
  FCGX_ShutdownPending();
  shutdown(listener->fd(), SHUT_RDWR);
  for (auto& t : threads) t.join();
  changes.Stop();
  log::Info("stopped");
  return 0;
}
