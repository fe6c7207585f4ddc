// Opens the socket the worker accepts FastCGI connections on, as the config's `listen` says:
// "fd:0" (inherited from spawn-fcgi or systemd), a unix socket path, or "127.0.0.1:PORT".
#pragma once

#include <expected>
#include <string>

#include "config/config.h"

namespace tessera::fcgi {

struct Listener {
  int fd = -1;
  std::string unix_path;  // set when we created a unix socket (removed at shutdown)
};

// Fails with a message saying what could not be opened.
std::expected<Listener, std::string> OpenListener(const config::Config& config);

}  // namespace tessera::fcgi
