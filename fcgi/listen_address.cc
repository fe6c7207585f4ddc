#include "fcgi/listen_address.h"

#include <arpa/inet.h>

#include <charconv>
#include <climits>
#include <cstring>

namespace tessera::fcgi {
namespace {

bool ParseDecimal(std::string_view text, long long min, long long max, long long* out) {
  long long n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || n < min || n > max) {
    return false;
  }
  *out = n;
  return true;
}

std::expected<ListenAddress, ListenError> ParseTcp(std::string_view text) {
  std::string_view host;
  std::string_view port_text;
  if (text.starts_with('[')) {
    std::size_t close = text.find(']');
    if (close == std::string_view::npos) return std::unexpected(ListenError::kBadHost);
    host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (!rest.starts_with(':')) return std::unexpected(ListenError::kNoPort);
    port_text = rest.substr(1);
  } else {
    std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::unexpected(ListenError::kNoPort);
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return std::unexpected(ListenError::kBadHost);
  }
  long long port = 0;
  if (!ParseDecimal(port_text, 1, 65535, &port)) return std::unexpected(ListenError::kBadPort);

  ListenAddress out;
  out.kind = ListenAddress::Kind::kTcp;
  std::string host_z(host);
  bool bracketed = text.starts_with('[');
  if (!bracketed && (host.empty() || host == "*")) host_z = "0.0.0.0";
  if (!bracketed && host == "localhost") host_z = "127.0.0.1";
  if (!bracketed) {
    sockaddr_in v4{};
    v4.sin_family = AF_INET;
    v4.sin_port = htons(static_cast<std::uint16_t>(port));
    if (inet_pton(AF_INET, host_z.c_str(), &v4.sin_addr) != 1)
      return std::unexpected(ListenError::kBadHost);
    std::memcpy(&out.tcp, &v4, sizeof v4);
    out.tcp_length = sizeof v4;
  } else {
    sockaddr_in6 v6{};
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(static_cast<std::uint16_t>(port));
    if (inet_pton(AF_INET6, host_z.c_str(), &v6.sin6_addr) != 1)
      return std::unexpected(ListenError::kBadHost);
    std::memcpy(&out.tcp, &v6, sizeof v6);
    out.tcp_length = sizeof v6;
  }
  out.reach = ClassifyBound(reinterpret_cast<const sockaddr*>(&out.tcp), out.tcp_length);
  return out;
}

}  // namespace

std::expected<ListenAddress, ListenError> ParseListenAddress(std::string_view text) {
  if (text.empty()) return std::unexpected(ListenError::kEmpty);
  if (text.starts_with("fd:")) {
    long long fd = 0;
    if (!ParseDecimal(text.substr(3), 0, INT_MAX, &fd)) return std::unexpected(ListenError::kBadFd);
    ListenAddress out;
    out.kind = ListenAddress::Kind::kInheritedFd;
    out.fd = static_cast<int>(fd);
    return out;
  }
  if (text.front() == '/') {
    ListenAddress out;
    out.kind = ListenAddress::Kind::kUnixPath;
    out.path = text;
    return out;
  }
  if (text.front() == '.' || text.find('/') != std::string_view::npos) {
    return std::unexpected(ListenError::kRelativePath);
  }
  return ParseTcp(text);
}

std::string_view Describe(ListenError error) {
  switch (error) {
    case ListenError::kEmpty:
      return "empty";
    case ListenError::kBadFd:
      return "fd: must be followed by a file descriptor number";
    case ListenError::kRelativePath:
      return "a unix socket path must be absolute";
    case ListenError::kNoPort:
      return "expected /path.sock, fd:N, IP:PORT, [IPv6]:PORT or localhost:PORT";
    case ListenError::kBadPort:
      return "the port must be a number from 1 to 65535";
    case ListenError::kBadHost:
      return "the host must be an IPv4 address, a bracketed IPv6 address or localhost";
  }
  return "invalid";
}

Reach ClassifyBound(const sockaddr* address, socklen_t length) {
  if (address == nullptr) return Reach::kRemote;
  if (address->sa_family == AF_UNIX) return Reach::kLocal;
  if (address->sa_family == AF_INET && length >= sizeof(sockaddr_in)) {
    sockaddr_in v4;
    std::memcpy(&v4, address, sizeof v4);
    return (ntohl(v4.sin_addr.s_addr) >> 24) == 127 ? Reach::kLocal : Reach::kRemote;
  }
  if (address->sa_family == AF_INET6 && length >= sizeof(sockaddr_in6)) {
    sockaddr_in6 v6;
    std::memcpy(&v6, address, sizeof v6);
    if (IN6_IS_ADDR_LOOPBACK(&v6.sin6_addr)) return Reach::kLocal;
    if (IN6_IS_ADDR_V4MAPPED(&v6.sin6_addr) && v6.sin6_addr.s6_addr[12] == 127)
      return Reach::kLocal;
    return Reach::kRemote;
  }
  return Reach::kRemote;
}

}  // namespace tessera::fcgi
