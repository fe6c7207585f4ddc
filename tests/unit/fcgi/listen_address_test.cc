// The `listen` grammar and how far each address reaches: only unix sockets, inherited sockets
// and loopback are local; everything else needs listen_insecure_remote.
#include "fcgi/listen_address.h"

#include <arpa/inet.h>
#include <sys/un.h>

#include <catch2/catch.hpp>
#include <cstring>

using namespace tessera::fcgi;

TEST_CASE("local listen addresses are classified local") {
  struct Case {
    const char* text;
    ListenAddress::Kind kind;
  };
  for (const Case& c : {Case{"/run/tessera/fcgi.sock", ListenAddress::Kind::kUnixPath},
                        Case{"fd:0", ListenAddress::Kind::kInheritedFd},
                        Case{"fd:3", ListenAddress::Kind::kInheritedFd},
                        Case{"127.0.0.1:9000", ListenAddress::Kind::kTcp},
                        Case{"127.1.2.3:1", ListenAddress::Kind::kTcp},
                        Case{"localhost:65535", ListenAddress::Kind::kTcp},
                        Case{"[::1]:9000", ListenAddress::Kind::kTcp},
                        Case{"[::ffff:127.0.0.1]:9000", ListenAddress::Kind::kTcp}}) {
    INFO(c.text);
    auto a = ParseListenAddress(c.text);
    REQUIRE(a);
    CHECK(a->kind == c.kind);
    CHECK(a->reach == Reach::kLocal);
  }
  CHECK(ParseListenAddress("fd:3")->fd == 3);
  CHECK(ParseListenAddress("/a.sock")->path == "/a.sock");
  auto localhost = ParseListenAddress("localhost:9000");
  sockaddr_in v4;
  std::memcpy(&v4, &localhost->tcp, sizeof v4);
  CHECK(ntohl(v4.sin_addr.s_addr) == 0x7f000001);
  CHECK(ntohs(v4.sin_port) == 9000);
}

TEST_CASE("addresses other machines can reach are classified remote") {
  for (const char* text :
       {":9000", "*:9000", "0.0.0.0:9000", "10.0.0.5:9000", "192.168.1.1:80", "128.0.0.1:9000",
        "[::]:9000", "[2001:db8::1]:9000", "[::ffff:10.0.0.1]:9000"}) {
    INFO(text);
    auto a = ParseListenAddress(text);
    REQUIRE(a);
    CHECK(a->kind == ListenAddress::Kind::kTcp);
    CHECK(a->reach == Reach::kRemote);
  }
}

TEST_CASE("malformed listen addresses are refused with their reason") {
  struct Case {
    const char* text;
    ListenError error;
  };
  for (const Case& c : {Case{"", ListenError::kEmpty},
                        Case{"fd:", ListenError::kBadFd},
                        Case{"fd:x", ListenError::kBadFd},
                        Case{"fd:-1", ListenError::kBadFd},
                        Case{"fd:3x", ListenError::kBadFd},
                        Case{"fd:99999999999", ListenError::kBadFd},
                        Case{"run/fcgi.sock", ListenError::kRelativePath},
                        Case{"./fcgi.sock", ListenError::kRelativePath},
                        Case{"9000", ListenError::kNoPort},
                        Case{"[::1]", ListenError::kNoPort},
                        Case{"127.0.0.1:", ListenError::kBadPort},
                        Case{"127.0.0.1:0", ListenError::kBadPort},
                        Case{"127.0.0.1:65536", ListenError::kBadPort},
                        Case{"127.0.0.1:+80", ListenError::kBadPort},
                        Case{"127.0.0.1:80 ", ListenError::kBadPort},
                        Case{"myhost:9000", ListenError::kBadHost},
                        Case{"::1:9000", ListenError::kBadHost},
                        Case{"[::1:9000", ListenError::kBadHost},
                        Case{"[localhost]:9000", ListenError::kBadHost},
                        Case{"127.0.0.256:9000", ListenError::kBadHost}}) {
    INFO(c.text);
    auto a = ParseListenAddress(c.text);
    REQUIRE_FALSE(a);
    CHECK(a.error() == c.error);
    CHECK_FALSE(Describe(a.error()).empty());
  }
}

TEST_CASE("bound socket addresses: unix and loopback are local, the rest remote") {
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  CHECK(ClassifyBound(reinterpret_cast<sockaddr*>(&un), sizeof un) == Reach::kLocal);

  sockaddr_in v4{};
  v4.sin_family = AF_INET;
  inet_pton(AF_INET, "127.0.0.53", &v4.sin_addr);
  CHECK(ClassifyBound(reinterpret_cast<sockaddr*>(&v4), sizeof v4) == Reach::kLocal);
  v4.sin_addr.s_addr = htonl(INADDR_ANY);
  CHECK(ClassifyBound(reinterpret_cast<sockaddr*>(&v4), sizeof v4) == Reach::kRemote);
  CHECK(ClassifyBound(reinterpret_cast<sockaddr*>(&v4), 4) == Reach::kRemote);  // truncated

  sockaddr_in6 v6{};
  v6.sin6_family = AF_INET6;
  v6.sin6_addr = in6addr_loopback;
  CHECK(ClassifyBound(reinterpret_cast<sockaddr*>(&v6), sizeof v6) == Reach::kLocal);
  v6.sin6_addr = in6addr_any;
  CHECK(ClassifyBound(reinterpret_cast<sockaddr*>(&v6), sizeof v6) == Reach::kRemote);
  CHECK(ClassifyBound(nullptr, 0) == Reach::kRemote);
}
