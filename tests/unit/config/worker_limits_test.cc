// The worker's thread, connection, deadline and listen-reach settings.
#include <catch2/catch.hpp>

#include "config/config.h"

using namespace tessera::config;
using namespace std::chrono_literals;

TEST_CASE("thread, connection and deadline settings have safe defaults") {
  auto c = Parse("");
  REQUIRE(c);
  CHECK(c->max_threads == 128);
  CHECK(EffectiveMaxThreads(*c) == 128);
  CHECK(EffectiveDatabaseConnections(*c) == c->threads);
  CHECK(c->io_timeout == 30s);
  CHECK(c->min_transfer_rate == 4096);
  CHECK_FALSE(c->listen_insecure_remote);
}

TEST_CASE("thread, connection and deadline settings are read and bounded") {
  auto c = Parse(
      "threads = 8\nmax_threads = 4\ndatabase_connections = 3\nio_timeout = 5\n"
      "min_transfer_rate = 0\nlisten_insecure_remote = yes\n");
  REQUIRE(c);
  CHECK(EffectiveMaxThreads(*c) == 8);  // never below threads
  CHECK(EffectiveDatabaseConnections(*c) == 3);
  CHECK(c->io_timeout == 5s);
  CHECK(c->min_transfer_rate == 0);
  CHECK(c->listen_insecure_remote);
  CHECK(EffectiveDatabaseConnections(*Parse("threads = 6\ndatabase_connections =\n")) == 6);

  for (const char* bad : {"max_threads = 0", "max_threads = 5000", "database_connections = 0",
                          "io_timeout = 0", "io_timeout = 3601", "min_transfer_rate = -1",
                          "listen_insecure_remote = maybe", "listen_insecure_remote = 1"}) {
    INFO(bad);
    auto r = Parse(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().line == 1);
  }
}
