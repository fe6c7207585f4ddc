// A range of client addresses, as the config names them (`metrics_allow`): an IPv4 or IPv6
// network in CIDR form ("192.0.2.0/24", "2001:db8::/48") or a single address ("192.0.2.7" is
// its /32, "::1" its /128). Bits below the prefix must be zero ("192.0.2.7/24" is refused as
// the typo it likely is). A client address is matched in the canonical form of
// http/client_address.h, in which an IPv4-mapped IPv6 address is its IPv4 address, so
// "::ffff:192.0.2.7" is inside "192.0.2.0/24"; an IPv4-mapped range of prefix 96 or more is the
// IPv4 range it maps ("::ffff:192.0.2.0/120" is "192.0.2.0/24").
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "http/client_address.h"

namespace tessera::http {

class AddressRange {
 public:
  // Whether `client` lies in the range (an IPv4 address never lies in an IPv6 range, nor the
  // reverse). Thread-safe.
  bool Contains(const ClientAddress& client) const;

 private:
  friend std::optional<AddressRange> ParseAddressRange(std::string_view text);
  bool v6_ = false;
  std::array<std::uint8_t, 16> bytes_{};  // IPv4 in the first 4
  int prefix_ = 0;
};

// Parses one range. Returns nullopt for anything but the forms above: no address, a prefix
// longer than the address or with a sign or leading zero, set host bits, a zone index.
// Thread-safe.
std::optional<AddressRange> ParseAddressRange(std::string_view text);

// Whether `client` is a loopback address: 127.0.0.0/8 or ::1. Thread-safe.
bool IsLoopback(const ClientAddress& client);

}  // namespace tessera::http
