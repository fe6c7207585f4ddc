#include "fcgi/listener.h"

#include <fcgiapp.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace tessera::fcgi {

std::expected<Listener, std::string> OpenListener(const config::Config& config) {
  const std::string& listen = config.listen;
  if (listen.starts_with("fd:")) {
    int fd = 0;
    try {
      fd = std::stoi(listen.substr(3));
    } catch (...) {
      return std::unexpected("listen = " + listen + ": not a file descriptor number");
    }
    int type = 0;
    socklen_t len = sizeof type;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0) {
      return std::unexpected("listen = " + listen + ": not a socket (start the worker from " +
                             "spawn-fcgi or a systemd socket, or set listen)");
    }
    return Listener{fd, ""};
  }
  bool is_unix = listen.front() == '/';
  if (!is_unix && listen.find(':') == std::string::npos) {
    return std::unexpected("listen = " + listen + ": expected /path.sock, HOST:PORT or fd:N");
  }
  int fd = FCGX_OpenSocket(listen.c_str(), config.backlog);
  if (fd < 0) return std::unexpected("cannot listen on " + listen + ": " + std::strerror(errno));
  if (is_unix && chmod(listen.c_str(), config.socket_mode) != 0) {
    return std::unexpected("cannot chmod " + listen + ": " + std::strerror(errno));
  }
  return Listener{fd, is_unix ? listen : ""};
}

}  // namespace tessera::fcgi
