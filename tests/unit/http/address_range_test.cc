// Address ranges of the config (metrics_allow): CIDR and single addresses, strictly parsed, and
// matched against canonical client addresses.
#include "http/address_range.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using namespace tessera::http;

namespace {

bool In(std::string_view range, std::string_view client) {
  auto r = ParseAddressRange(range);
  auto c = ParseClientAddress(client);
  REQUIRE(r);
  REQUIRE(c);
  return r->Contains(*c);
}

}  // namespace

TEST_CASE("an address range holds the addresses under its prefix") {
  CHECK(In("192.0.2.0/24", "192.0.2.7"));
  CHECK(In("192.0.2.0/24", "192.0.2.255"));
  CHECK_FALSE(In("192.0.2.0/24", "192.0.3.0"));
  CHECK(In("10.0.0.0/9", "10.127.1.1"));
  CHECK_FALSE(In("10.0.0.0/9", "10.128.0.0"));
  CHECK(In("192.0.2.7", "192.0.2.7"));
  CHECK_FALSE(In("192.0.2.7", "192.0.2.8"));
  CHECK(In("0.0.0.0/0", "203.0.113.9"));
  CHECK(In("2001:db8::/32", "2001:db8:ffff::1"));
  CHECK_FALSE(In("2001:db8::/32", "2001:db9::1"));
  CHECK(In("::1", "::1"));
  CHECK(In("::/0", "2001:db8::1"));
  // An IPv4-mapped client is its IPv4 address; IPv4 and IPv6 ranges never mix.
  CHECK(In("192.0.2.0/24", "::ffff:192.0.2.7"));
  CHECK_FALSE(In("::/0", "192.0.2.7"));
  CHECK_FALSE(In("0.0.0.0/0", "::1"));
}

TEST_CASE("an address range is refused unless it is an address with a plain prefix") {
  for (std::string bad : std::vector<std::string>{
           "", "/24", "192.0.2.0/", "192.0.2.0/33", "2001:db8::/129", "192.0.2.0/024",
           "192.0.2.0/+24", "192.0.2.0/-1", "192.0.2.0/24 ", "192.0.2.7/24", "2001:db8::1/32",
           "fe80::1%eth0", "localhost", "192.0.2", "192.0.2.0/2x"}) {
    INFO(bad);
    CHECK_FALSE(ParseAddressRange(bad));
  }
  CHECK(ParseAddressRange("192.0.2.0/0") == std::nullopt);  // host bits set under /0
  CHECK(ParseAddressRange("0.0.0.0/0"));
  CHECK(ParseAddressRange("192.0.2.0/24"));
}

TEST_CASE("loopback is 127.0.0.0/8 and ::1") {
  for (std::string yes : {"127.0.0.1", "127.255.0.9", "::1", "::ffff:127.0.0.1"}) {
    INFO(yes);
    CHECK(IsLoopback(*ParseClientAddress(yes)));
  }
  for (std::string no : {"128.0.0.1", "::2", "10.0.0.1", "2001:db8::1"}) {
    INFO(no);
    CHECK_FALSE(IsLoopback(*ParseClientAddress(no)));
  }
}

TEST_CASE("an IPv4-mapped range is the IPv4 range it maps, so it matches") {
  // Clients are matched in canonical form (a mapped client is its IPv4 address): as an IPv6
  // range these never matched anything.
  CHECK(In("::ffff:1.2.3.0/120", "1.2.3.4"));
  CHECK(In("::ffff:1.2.3.0/120", "::ffff:1.2.3.200"));
  CHECK_FALSE(In("::ffff:1.2.3.0/120", "1.2.4.0"));
  CHECK(In("::ffff:192.0.2.7", "192.0.2.7"));
  CHECK_FALSE(In("::ffff:192.0.2.7", "192.0.2.8"));
  CHECK(In("::ffff:0.0.0.0/96", "203.0.113.9"));
  CHECK_FALSE(In("::ffff:1.2.3.0/120", "::1"));
  // Host bits stay refused in the mapped form too.
  CHECK_FALSE(ParseAddressRange("::ffff:1.2.3.4/120"));
}
