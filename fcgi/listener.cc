#include "fcgi/listener.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "fcgi/listen_address.h"
#include "log/log.h"

namespace tessera::fcgi {
namespace {

std::string Errno() { return std::strerror(errno); }

std::expected<int, std::string> BindTcp(const ListenAddress& address, int backlog,
                                        const std::string& text) {
  int family = address.tcp.ss_family;
  int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::unexpected("cannot create a socket for " + text + ": " + Errno());
  int on = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  // [::1] means IPv6 loopback only; never let a v6 socket take IPv4 traffic implicitly.
  if (family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
  if (bind(fd, reinterpret_cast<const sockaddr*>(&address.tcp), address.tcp_length) != 0 ||
      listen(fd, backlog) != 0) {
    std::string why = Errno();
    close(fd);
    return std::unexpected("cannot listen on " + text + ": " + why);
  }
  return fd;
}

// Creates the unix socket `path` with `mode`, replacing a stale socket (never another file).
std::expected<int, std::string> BindUnix(const std::string& path, unsigned mode, int backlog) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path)
    return std::unexpected("listen = " + path + ": path too long");
  path.copy(addr.sun_path, sizeof addr.sun_path - 1);
  struct stat st{};
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode))
      return std::unexpected("listen = " + path + ": exists and is not a socket");
    unlink(path.c_str());
  }
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::unexpected("cannot create a socket for " + path + ": " + Errno());
  // Permissions before listen(): no connection is ever accepted under the umask's mode.
  if (bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
      chmod(path.c_str(), mode) != 0 || listen(fd, backlog) != 0) {
    std::string why = Errno();
    close(fd);
    return std::unexpected("cannot listen on " + path + ": " + why);
  }
  return fd;
}

// How far an inherited socket reaches, from the address it is bound to.
std::expected<Reach, std::string> InheritedReach(int fd, const std::string& text) {
  int type = 0;
  socklen_t len = sizeof type;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0) {
    return std::unexpected("listen = " + text + ": not a socket (start the worker from " +
                           "spawn-fcgi or a systemd socket, or set listen)");
  }
  sockaddr_storage bound{};
  socklen_t bound_len = sizeof bound;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_len) != 0) {
    return std::unexpected("listen = " + text + ": cannot read the socket's address: " + Errno());
  }
  return ClassifyBound(reinterpret_cast<const sockaddr*>(&bound), bound_len);
}

}  // namespace

Listener::~Listener() {
  if (fd_ >= 0) close(fd_);
  if (!unix_path_.empty()) unlink(unix_path_.c_str());
}

Listener::Listener(Listener&& other) noexcept
    : fd_(other.fd_), unix_path_(std::move(other.unix_path_)) {
  other.fd_ = -1;
  other.unix_path_.clear();
}

std::expected<Listener, std::string> OpenListener(const config::Config& config) {
  const std::string& text = config.listen;
  auto address = ParseListenAddress(text);
  if (!address)
    return std::unexpected("listen = " + text + ": " + std::string(Describe(address.error())));

  Reach reach = address->reach;
  if (address->kind == ListenAddress::Kind::kInheritedFd) {
    auto inherited = InheritedReach(address->fd, text);
    if (!inherited) return std::unexpected(inherited.error());
    reach = *inherited;
  }
  if (reach == Reach::kRemote) {
    if (!config.listen_insecure_remote) {
      return std::unexpected(
          "listen = " + text +
          " accepts FastCGI from other machines, and FastCGI has no authentication "
          "(anyone who connects can claim any client address or HTTPS): use a unix "
          "socket or a loopback address, or set listen_insecure_remote = yes if a "
          "firewall guards the port");
    }
    log::Warning("listen = " + text +
                 " accepts FastCGI from other machines (listen_insecure_remote = yes): " +
                 "anyone who reaches it can claim any client address; keep it behind a firewall");
  }

  switch (address->kind) {
    case ListenAddress::Kind::kInheritedFd:
      return Listener(address->fd, "");
    case ListenAddress::Kind::kTcp: {
      auto fd = BindTcp(*address, config.backlog, text);
      if (!fd) return std::unexpected(fd.error());
      return Listener(*fd, "");
    }
    case ListenAddress::Kind::kUnixPath:
      break;
  }
  auto fd = BindUnix(address->path, config.socket_mode, config.backlog);
  if (!fd) return std::unexpected(fd.error());
  return Listener(*fd, address->path);
}

}  // namespace tessera::fcgi
