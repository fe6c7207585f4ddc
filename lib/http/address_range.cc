#include "http/address_range.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>
#include <string>

namespace tessera::http {
namespace {

// The address's bytes and whether it is IPv6; nullopt for anything inet_pton refuses.
std::optional<std::pair<bool, std::array<std::uint8_t, 16>>> Bytes(std::string_view text) {
  if (text.empty() || text.size() > 45) return std::nullopt;
  std::string z(text);  // NUL-terminated for inet_pton
  if (z.find('\0') != std::string::npos) return std::nullopt;
  std::array<std::uint8_t, 16> bytes{};
  in_addr v4{};
  if (inet_pton(AF_INET, z.c_str(), &v4) == 1) {
    std::memcpy(bytes.data(), &v4, 4);
    return std::pair{false, bytes};
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, z.c_str(), &v6) != 1) return std::nullopt;
  std::memcpy(bytes.data(), v6.s6_addr, 16);
  return std::pair{true, bytes};
}

// Whether the first `prefix` bits of `a` and `b` are equal.
bool SamePrefix(const std::array<std::uint8_t, 16>& a, const std::array<std::uint8_t, 16>& b,
                int prefix) {
  int whole = prefix / 8;
  if (std::memcmp(a.data(), b.data(), static_cast<std::size_t>(whole)) != 0) return false;
  int rest = prefix % 8;
  if (rest == 0) return true;
  auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (a[static_cast<std::size_t>(whole)] & mask) == (b[static_cast<std::size_t>(whole)] & mask);
}

}  // namespace

std::optional<AddressRange> ParseAddressRange(std::string_view text) {
  std::size_t slash = text.find('/');
  auto address = Bytes(text.substr(0, slash));
  if (!address) return std::nullopt;
  AddressRange range;
  range.v6_ = address->first;
  range.bytes_ = address->second;
  int bits = range.v6_ ? 128 : 32;
  range.prefix_ = bits;
  if (slash != std::string_view::npos) {
    std::string_view digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 3 || (digits.size() > 1 && digits[0] == '0'))
      return std::nullopt;
    int prefix = -1;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (ec != std::errc() || end != digits.data() + digits.size() || prefix < 0 || prefix > bits)
      return std::nullopt;
    range.prefix_ = prefix;
  }
  // Host bits must be zero: the range with them cleared must equal the address given.
  std::array<std::uint8_t, 16> host = range.bytes_;
  for (int bit = range.prefix_; bit < bits; ++bit) {
    host[static_cast<std::size_t>(bit / 8)] &= static_cast<std::uint8_t>(~(0x80 >> (bit % 8)));
  }
  if (host != range.bytes_) return std::nullopt;
  // An IPv4-mapped range (::ffff:192.0.2.0/120) is the IPv4 range it maps: clients are matched
  // in canonical form, where a mapped address is its IPv4 address, so as IPv6 it never matched.
  static constexpr std::array<std::uint8_t, 12> kMapped = {0, 0, 0, 0, 0,    0,
                                                           0, 0, 0, 0, 0xff, 0xff};
  if (range.v6_ && range.prefix_ >= 96 &&
      std::memcmp(range.bytes_.data(), kMapped.data(), kMapped.size()) == 0) {
    std::array<std::uint8_t, 16> v4{};
    std::memcpy(v4.data(), range.bytes_.data() + 12, 4);
    range.v6_ = false;
    range.bytes_ = v4;
    range.prefix_ -= 96;
  }
  return range;
}

bool AddressRange::Contains(const ClientAddress& client) const {
  auto address = Bytes(client.address);
  if (!address || address->first != v6_) return false;
  return SamePrefix(address->second, bytes_, prefix_);
}

bool IsLoopback(const ClientAddress& client) {
  static const AddressRange v4 = *ParseAddressRange("127.0.0.0/8");
  static const AddressRange v6 = *ParseAddressRange("::1");
  return v4.Contains(client) || v6.Contains(client);
}

}  // namespace tessera::http
