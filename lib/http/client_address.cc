#include "http/client_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <array>
#include <cstring>

namespace tessera::http {
namespace {
constexpr std::size_t kMaxAddressBytes = 45;  // INET6_ADDRSTRLEN - 1

std::string Ntop(int family, const void* bytes) {
  std::array<char, INET6_ADDRSTRLEN> buf{};
  if (inet_ntop(family, bytes, buf.data(), buf.size()) == nullptr) return {};
  return buf.data();
}
}  // namespace

std::optional<ClientAddress> ParseClientAddress(std::string_view remote_addr) {
  if (remote_addr.empty() || remote_addr.size() > kMaxAddressBytes) return std::nullopt;
  std::string text(remote_addr);  // NUL-terminated for inet_pton
  if (text.find('\0') != std::string::npos) return std::nullopt;
  in_addr v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    std::string canonical = Ntop(AF_INET, &v4);
    return ClientAddress{canonical, canonical};
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, text.c_str(), &v6) != 1) return std::nullopt;
  if (IN6_IS_ADDR_V4MAPPED(&v6)) {
    std::memcpy(&v4, v6.s6_addr + 12, 4);
    std::string canonical = Ntop(AF_INET, &v4);
    return ClientAddress{canonical, canonical};
  }
  std::string canonical = Ntop(AF_INET6, &v6);
  in6_addr prefix{};
  std::memcpy(prefix.s6_addr, v6.s6_addr, 8);
  return ClientAddress{canonical, Ntop(AF_INET6, &prefix) + "/64"};
}

}  // namespace tessera::http
