#include "fcgi/server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

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

// A request whose body was not read to its end may still have bytes coming. Closing a TCP
// socket with unread data sends a reset that can destroy the response in flight, so after the
// response we stop sending and read what still comes — for at most this long (libfcgi's own
// lingering close has no total bound).
constexpr auto kLingerBudget = 2s;
// How much of an unread body is read to keep a persistent connection usable.
constexpr std::uint64_t kReuseDrain = 64 * 1024;

void LingeringClose(int fd) {
  shutdown(fd, SHUT_WR);
  auto deadline = Clock::now() + kLingerBudget;
  char scratch[16 * 1024];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) return;
    if (read(fd, scratch, sizeof scratch) <= 0) return;
  }
}

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
  Written written =
      WriteResponse(raw, response, request.method == http::Method::kHead, options_.io, timeouts);
  // One access line and one count per request, with the same route, status and duration.
  auto took = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started);
  metrics::CountRequest(request.access.route, http::MethodName(request.method), response.status,
                        took);
  if (options_.access_log) {
    log::WriteAccess({arrived, http::MethodName(request.method), request.access.route,
                      response.status, request.access.account, request.access.token,
                      body.received(), written.body_bytes, took});
  }
  if (!written.complete) {
    // The web server must see a cut response, not a complete one: the final records fail at once.
    shutdown(raw.ipcFd, SHUT_RDWR);
    return false;
  }
  bool finished = body.Finished() || (raw.keepConnection && body.DrainUpTo(kReuseDrain));
  // A body the handler did not read may still be on its way: linger so that the answer is not
  // lost to a reset. Not for a peer that already failed or was too slow: it gets no more time.
  if (!finished && !body.Failed()) {
    FCGX_FClose(raw.err);  // idempotent: FCGX_Finish_r's own close then writes nothing
    FCGX_FClose(raw.out);
    LingeringClose(raw.ipcFd);
  }
  return finished;
}

}  // namespace tessera::fcgi
