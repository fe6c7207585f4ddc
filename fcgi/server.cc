#include "fcgi/server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <string>
#include <system_error>

#include "fcgi/adapter.h"
#include "log/access_log.h"
#include "log/log.h"
#include "metrics/metrics.h"

namespace tessera::fcgi {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// How much of an unread body that has already arrived is drained to keep a persistent
// connection usable (what is still on its way is never waited for).
constexpr std::uint64_t kReuseDrain = 64 * 1024;

std::string What(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (...) {
    return "unknown exception";
  }
}

}  // namespace

Server::Server(int listen_fd, std::shared_ptr<const api::App> app, ServerOptions options)
    : listen_fd_(listen_fd), app_(std::move(app)), options_(options) {}

Server::~Server() { Stop(); }

bool Server::Start() {
  std::lock_guard lock(mutex_);
  for (int i = 0; i < std::max(options_.min_threads, 1); ++i) SpawnLocked();
  if (threads_ == 0) log::Error("could not start any worker thread");
  return threads_ > 0;
}

void Server::Stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    stopped_ = true;
    stopping_ = true;
  }
  lead_.notify_all();
  shutdown(listen_fd_, SHUT_RDWR);  // wakes the leader in accept(2) with EINVAL
  std::unique_lock lock(mutex_);
  exited_.wait(lock, [&] { return threads_ == 0; });
  for (auto& t : running_) {
    if (t.joinable()) t.join();
  }
  running_.clear();
  ended_.clear();
}

bool Server::SpawnLocked() {
  if (stopping_ || threads_ >= options_.max_threads) return false;
  // Join the threads that ended since the last spawn (they hold no lock any more).
  for (auto id : ended_) {
    auto it =
        std::find_if(running_.begin(), running_.end(), [&](auto& t) { return t.get_id() == id; });
    if (it != running_.end()) {
      it->join();
      running_.erase(it);
    }
  }
  ended_.clear();
  try {
    running_.emplace_back([this] { ThreadMain(); });
  } catch (const std::system_error& e) {
    log::Error(std::string("cannot start a worker thread: ") + e.what());
    return false;
  }
  ++threads_;
  return true;
}

void Server::ThreadMain() {
  try {
    Loop();
    return;
  } catch (...) {
    log::Error("worker thread ended by an exception: " + What(std::current_exception()));
  }
  // Loop leaves only by returning (accounted) or by an exception outside any request, which
  // never happens while leading (accept and its bookkeeping do not throw).
  {
    std::lock_guard lock(mutex_);
    --threads_;
    if (!accepting_ && waiting_ == 0) SpawnLocked();  // someone must go on accepting
    ended_.push_back(std::this_thread::get_id());     // after SpawnLocked, which joins ended_
  }
  exited_.notify_all();
  lead_.notify_one();
}

void Server::Loop() {
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      ++waiting_;
      bool lead =
          lead_.wait_for(lock, options_.idle_exit, [&] { return stopping_.load() || !accepting_; });
      --waiting_;
      if (stopping_ || (!lead && threads_ > options_.min_threads)) {
        --threads_;
        ended_.push_back(std::this_thread::get_id());
        exited_.notify_all();
        return;
      }
      if (!lead) continue;
      accepting_ = true;
    }
    int fd = AcceptConnection();
    {
      std::lock_guard lock(mutex_);
      accepting_ = false;
      // Keep a thread ready to accept while this one serves.
      if (fd >= 0 && waiting_ == 0 && !SpawnLocked() && !stopping_) {
        auto now = Clock::now();
        if (now - last_full_warning_ > 10s) {
          last_full_warning_ = now;
          log::Warning("all " + std::to_string(threads_) +
                       " worker threads are busy (max_threads): new connections wait");
        }
      }
    }
    lead_.notify_one();
    if (fd < 0) continue;
    try {
      ServeConnection(fd);
    } catch (...) {
      log::Error("connection ended by an exception: " + What(std::current_exception()));
    }
  }
}

int Server::AcceptConnection() {
  for (;;) {
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) return fd;
    int error = errno;
    if (stopping_) return -1;
    switch (error) {
      case EINTR:
      case ECONNABORTED:
      case EPROTO:
      case EPERM:
        continue;
      case EMFILE:
      case ENFILE:
      case ENOBUFS:
      case ENOMEM:
        log::Error(std::string("accept: ") + std::strerror(error) + "; retrying in 100 ms");
        std::this_thread::sleep_for(100ms);
        continue;
      default:
        log::Error(std::string("accept on the listening socket failed: ") + std::strerror(error));
        std::this_thread::sleep_for(1s);
        return -1;
    }
  }
}

void Server::ServeConnection(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // fails harmlessly on unix sockets
  // Bounds the wait for the request's parameters; FcgiBody and WriteResponse re-arm per wait.
  SocketTimeouts timeouts(fd);
  timeouts.Receive(options_.io.timeout);
  timeouts.Send(options_.io.timeout);

  // libfcgi reads the request from the connection this thread accepted: no listening socket
  // (so it can never accept by itself), "keep" so that FCGX_Accept_r's opening finish does not
  // close the fresh connection, and detached so that its close is a plain close(2). These
  // FCGX_Request fields are public in fcgiapp.h and stable since libfcgi 2.4.0.
  FCGX_Request raw;
  FCGX_InitRequest(&raw, /*sock=*/-1, 0);
  raw.ipcFd = fd;
  raw.keepConnection = 1;
  raw.detached = 1;
  struct Release {
    FCGX_Request& raw;
    ~Release() { FCGX_Free(&raw, /*close=*/1); }
  } release{raw};

  while (FCGX_Accept_r(&raw) >= 0) {  // on failure it has closed the connection
    bool reusable = ServeRequest(raw, timeouts);
    if (!reusable || stopping_) raw.keepConnection = 0;
    FCGX_Finish_r(&raw);
    if (raw.ipcFd < 0) return;
    timeouts.Receive(options_.io.timeout);  // idle wait for the next request
  }
}

bool Server::ServeRequest(FCGX_Request& raw, SocketTimeouts& timeouts) {
  auto arrived = std::chrono::system_clock::now();
  auto started = Clock::now();
  FcgiBody body(raw, options_.io, timeouts);
  http::Request request;
  http::Response response;
  bool ok = ToRequest(raw, &body, &request);
  // The App of this request, kept alive until it is answered even if a reload replaces it.
  std::shared_ptr<const api::App> app = app_.load();
  try {
    response = ok ? app->Handle(request) : http::JsonError(400, "malformed request headers");
  } catch (...) {
    log::Error("unhandled exception: " + What(std::current_exception()));
    response = http::JsonError(500, "internal error");
  }
  std::uint64_t received = body.received();
  // What of the body has arrived already is drained now; one still on its way when the answer is
  // ready (a refusal before the body was read) ends the connection. The web server then sends
  // the answer without reading the rest first (Apache would otherwise discard the whole body,
  // at the client's pace, before it answers; nginx forwards at once either way), and no thread
  // of ours waits for the rest.
  bool finished = body.Finished() || (!body.Failed() && body.DrainArrived(kReuseDrain));
  if (!finished) response.AddHeader("Connection", "close");
  Written written =
      WriteResponse(raw, response, request.method == http::Method::kHead, options_.io, timeouts);
  // One access line and one count per request, with the same route, status and duration.
  auto took = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started);
  metrics::CountRequest(request.access.route, http::MethodName(request.method), response.status,
                        took);
  if (options_.access_log) {
    log::WriteAccess({arrived, http::MethodName(request.method), request.access.route,
                      response.status, request.access.account, request.access.token, received,
                      written.body_bytes, took});
  }
  if (!written.complete) {
    // The web server must see a cut response, not a complete one: the final records fail at once.
    shutdown(raw.ipcFd, SHUT_RDWR);
    return false;
  }
  if (finished) return true;
  // The peer failed or was too slow: it gets nothing more, not even a lingering close.
  if (body.Failed()) return false;
  // The rest of the body may still be on its way: the answer must not be lost to a reset, yet
  // no thread waits for a client that may trickle. The end records go out now (FCGX_Finish_r
  // then writes nothing) and the lingering thread takes the connection.
  FCGX_FClose(raw.err);
  FCGX_FClose(raw.out);
  lingerer_.Take(raw.ipcFd);
  raw.ipcFd = -1;  // libfcgi's close then closes nothing
  return false;
}

}  // namespace tessera::fcgi
