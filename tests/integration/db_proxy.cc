#include "db_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

namespace tessera::testing {
namespace {

bool SendAll(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    ssize_t n = send(fd, data, size, MSG_NOSIGNAL);
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

// Whether `reply` ends with a ReadyForQuery message ('Z', length 5, a status byte): the server
// has finished the statement and committed or rolled back its implicit transaction.
bool EndsReady(const std::string& reply) {
  if (reply.size() < 6) return false;
  const char* z = reply.data() + reply.size() - 6;
  return z[0] == 'Z' && z[1] == 0 && z[2] == 0 && z[3] == 0 && z[4] == 5;
}

}  // namespace

DbProxy::DbProxy(std::string upstream) : upstream_(std::move(upstream)) {
  listener_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listener_ < 0) throw std::runtime_error("DbProxy: socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      listen(listener_, 64) != 0 ||
      getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(listener_);
    throw std::runtime_error("DbProxy: cannot listen on 127.0.0.1");
  }
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { Accept(); });
}

DbProxy::~DbProxy() {
  stopping_ = true;
  Release();
  shutdown(listener_, SHUT_RDWR);
  close(listener_);
  acceptor_.join();
  std::vector<std::thread> pipes;
  {
    std::lock_guard lock(mu_);
    pipes.swap(pipes_);
  }
  for (std::thread& t : pipes) t.join();
}

std::string DbProxy::Conninfo(const std::string& dbname) const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " user=postgres dbname=" + dbname;
}

void DbProxy::CutAfterAnswer(const std::string& marker) {
  std::lock_guard lock(mu_);
  cut_marker_ = marker;
}

void DbProxy::Stall(const std::string& marker) {
  std::lock_guard lock(mu_);
  stall_marker_ = marker;
  release_ = false;
}

void DbProxy::Release() {
  std::lock_guard lock(mu_);
  release_ = true;
  released_.notify_all();
}

void DbProxy::CutAll() {
  std::unique_lock lock(mu_);
  std::uint64_t now = ++epoch_;
  ++cuts_;
  released_.notify_all();
  // Returns once every older connection is closed on both sides.
  closed_.wait(lock, [&] {
    for (const auto& [born, open] : open_)
      if (born < now && open > 0) return false;
    return true;
  });
}

void DbProxy::Accept() {
  while (!stopping_) {
    int client = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) {
      if (stopping_) return;
      continue;
    }
    std::lock_guard lock(mu_);
    pipes_.emplace_back([this, client] { Pipe(client); });
  }
}

void DbProxy::Pipe(int client) {
  std::uint64_t born;
  {
    std::lock_guard lock(mu_);
    born = epoch_;
    ++open_[born];
  }
  struct Closed {
    DbProxy& proxy;
    std::uint64_t born;
    ~Closed() {
      std::lock_guard lock(proxy.mu_);
      --proxy.open_[born];
      proxy.closed_.notify_all();
    }
  } closed{*this, born};
  int server = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, upstream_.c_str(), sizeof addr.sun_path - 1);
  if (server < 0 || connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (server >= 0) close(server);
    close(client);
    return;
  }
  bool doomed = false;  // the armed statement went through: its answer is never passed on
  std::string held_reply;
  char buffer[64 * 1024];
  while (!stopping_ && epoch_ == born) {
    pollfd fds[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
    if (poll(fds, 2, 100) < 0) break;
    if (fds[0].revents) {
      ssize_t n = recv(client, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      std::string_view chunk(buffer, static_cast<std::size_t>(n));
      bool stall = false;
      {
        std::lock_guard lock(mu_);
        if (cut_marker_ && chunk.find(*cut_marker_) != std::string_view::npos) {
          cut_marker_.reset();
          doomed = true;
          ++matched_;
        }
        if (stall_marker_ && chunk.find(*stall_marker_) != std::string_view::npos) {
          stall_marker_.reset();
          stall = true;
          ++matched_;
        }
      }
      if (stall) {
        stalled_ = true;
        std::unique_lock lock(mu_);
        released_.wait(lock, [&] { return release_ || stopping_ || epoch_ != born; });
        stalled_ = false;
      }
      if (epoch_ != born || !SendAll(server, buffer, static_cast<std::size_t>(n))) break;
    }
    if (fds[1].revents) {
      ssize_t n = recv(server, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      if (doomed) {
        held_reply.append(buffer, static_cast<std::size_t>(n));
        if (EndsReady(held_reply)) {
          ++cuts_;
          break;
        }
        continue;
      }
      if (!SendAll(client, buffer, static_cast<std::size_t>(n))) break;
    }
  }
  close(server);
  close(client);
}

}  // namespace tessera::testing
