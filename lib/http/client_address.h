// The client's address as the web server reports it (REMOTE_ADDR), checked before it is used:
// it goes into the audit log and keys the login throttle in PostgreSQL, so it must be an IP
// address and nothing else.
//
// The text is canonical (inet_ntop), so one address has one spelling ("::1" and "0::1" are
// the same client); an IPv4-mapped IPv6 address is its IPv4 address. `network` is what the
// login throttle counts per: the address itself for IPv4, its /64 for IPv6, because one IPv6
// client commonly holds a whole /64 and could otherwise spread guesses over 2^64 addresses.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tessera::http {

struct ClientAddress {
  std::string address;  // canonical text, e.g. "192.0.2.7" or "2001:db8::1"
  std::string network;  // "192.0.2.7" or "2001:db8::/64"
};

// Parses REMOTE_ADDR. Returns nullopt when it is not an IPv4 or IPv6 address in text form
// (no zone index, no port, at most 45 bytes). Thread-safe.
std::optional<ClientAddress> ParseClientAddress(std::string_view remote_addr);

}  // namespace tessera::http
