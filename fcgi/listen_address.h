// The worker's `listen` setting, parsed and classified by how far it reaches.
//
// FastCGI has no authentication: whoever can connect to the worker's socket can claim any
// REMOTE_ADDR or HTTPS and speak for any client. So the worker listens, by default, only where
// nothing beyond this machine can reach it: a unix socket, a socket inherited from its parent
// (fd:N; checked once open, see ClassifyBound), or a loopback address. Any other address is
// kRemote, which the worker refuses unless listen_insecure_remote says otherwise.
//
// Grammar (no name resolution: a host name could resolve anywhere):
//   /absolute/path.sock
//   fd:N                  N decimal, 0..INT_MAX
//   IPV4:PORT             dotted quad, e.g. 127.0.0.1:9000; `:PORT` and `*:PORT` mean 0.0.0.0
//   [IPV6]:PORT           e.g. [::1]:9000
//   localhost:PORT        127.0.0.1
// PORT is decimal 1..65535.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <expected>
#include <string>
#include <string_view>

namespace tessera::fcgi {

enum class Reach {
  kLocal,   // unix socket or loopback: only this machine can connect
  kRemote,  // any other address: other machines may connect
};

struct ListenAddress {
  enum class Kind { kUnixPath, kInheritedFd, kTcp } kind = Kind::kUnixPath;
  std::string path;        // kUnixPath
  int fd = -1;             // kInheritedFd
  sockaddr_storage tcp{};  // kTcp: an AF_INET or AF_INET6 address with its port
  socklen_t tcp_length = 0;
  // For kTcp, from the address; kUnixPath is kLocal; kInheritedFd is kLocal until the bound
  // socket has been looked at (ClassifyBound).
  Reach reach = Reach::kLocal;
};

enum class ListenError {
  kEmpty,
  kBadFd,         // fd: not followed by a decimal number in range
  kRelativePath,  // looks like a path but is not absolute
  kNoPort,        // no `:PORT`
  kBadPort,       // PORT not decimal 1..65535
  kBadHost,       // not an IPv4 or bracketed IPv6 literal, nor localhost
};

// Parses `listen`. Thread-safe (pure).
std::expected<ListenAddress, ListenError> ParseListenAddress(std::string_view text);

// A short description of `error` for the start-up message.
std::string_view Describe(ListenError error);

// How far a bound socket address reaches: AF_UNIX and loopback (127.0.0.0/8, ::1, and
// ::ffff:127.0.0.0/104) are kLocal, everything else (wildcards included) kRemote.
Reach ClassifyBound(const sockaddr* address, socklen_t length);

}  // namespace tessera::fcgi
