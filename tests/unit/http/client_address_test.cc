#include "http/client_address.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using namespace tessera::http;

TEST_CASE("client addresses are canonical; IPv6 is throttled per /64") {
  struct Case {
    std::string in, address, network;
  };
  const std::vector<Case> cases = {
      {"127.0.0.1", "127.0.0.1", "127.0.0.1"},
      {"192.0.2.7", "192.0.2.7", "192.0.2.7"},
      {"::1", "::1", "::/64"},
      {"0:0:0:0:0:0:0:1", "::1", "::/64"},
      {"2001:DB8:1:2:3:4:5:6", "2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
      {"2001:db8:1:2::ffff", "2001:db8:1:2::ffff", "2001:db8:1:2::/64"},
      {"::ffff:192.0.2.9", "192.0.2.9", "192.0.2.9"},
  };
  for (const auto& c : cases) {
    INFO(c.in);
    auto a = ParseClientAddress(c.in);
    REQUIRE(a);
    CHECK(a->address == c.address);
    CHECK(a->network == c.network);
  }
}

TEST_CASE("anything but an IP address is refused") {
  for (const std::string& bad :
       {std::string(""), std::string("unix:"), std::string("localhost"), std::string("1.2.3.4:80"),
        std::string("1.2.3"), std::string("256.1.1.1"), std::string("fe80::1%eth0"),
        std::string("1.2.3.4\n"), std::string(" 1.2.3.4"), std::string("1.2.3.4' OR '1'='1"),
        std::string("1.2.3.4\0", 8), std::string("\xff\xfe"), std::string(46, '1')}) {
    INFO(bad);
    CHECK_FALSE(ParseClientAddress(bad));
  }
}
