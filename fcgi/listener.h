// Opens the socket the worker accepts FastCGI connections on, as the config's `listen` says (see
// fcgi/listen_address.h for the grammar): a unix socket it creates, a socket inherited as fd:N,
// or a TCP socket it binds. An address other machines could reach is refused unless
// listen_insecure_remote is set, and then logged as a warning.
#pragma once

#include <expected>
#include <string>

#include "config/config.h"

namespace tessera::fcgi {

// The listening socket; closes it (and removes a unix socket it created) when destroyed.
class Listener {
 public:
  Listener(int fd, std::string unix_path) : fd_(fd), unix_path_(std::move(unix_path)) {}
  ~Listener();
  Listener(Listener&& other) noexcept;
  Listener& operator=(Listener&&) = delete;
  Listener(const Listener&) = delete;

  int fd() const { return fd_; }

 private:
  int fd_;
  std::string unix_path_;  // set when we created a unix socket
};

// Fails with a message saying what could not be opened, or, for an address beyond this machine
// without listen_insecure_remote = yes, a message naming that setting. Not thread-safe: call
// once at start-up.
std::expected<Listener, std::string> OpenListener(const config::Config& config);

}  // namespace tessera::fcgi
