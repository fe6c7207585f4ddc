#include "config/config.h"

#include <catch2/catch.hpp>

using tessera::config::Parse;

TEST_CASE("config reads keys, comments and quoted values") {
  auto c = Parse(
      "# a comment\n"
      "listen = /run/tessera.sock   # trailing comment\n"
      "threads=8\n"
      "\n"
      "database = 'host=/tmp dbname=x # not a comment'\n"
      "socket_mode = 0666\n");
  REQUIRE(c);
  CHECK(c->listen == "/run/tessera.sock");
  CHECK(c->threads == 8);
  CHECK(c->database == "host=/tmp dbname=x # not a comment");
  CHECK(c->socket_mode == 0666u);
}

TEST_CASE("config defaults apply to keys not given") {
  auto c = Parse("");
  REQUIRE(c);
  CHECK(c->listen == "fd:0");
  CHECK(c->threads == 4);
  CHECK(c->auth_cache_entries == 32768);
}

TEST_CASE("config bounds the session cache by entries") {
  auto c = Parse("auth_cache_entries = 100\n");
  REQUIRE(c);
  CHECK(c->auth_cache_entries == 100);
  CHECK_FALSE(Parse("auth_cache_entries = 0\n"));
  CHECK_FALSE(Parse("auth_cache_entries = 16777217\n"));
  CHECK(Parse("auth_cache_entries = 16777216\n"));
}

TEST_CASE("config errors name the line") {
  struct Case {
    const char* text;
    int line;
    const char* fragment;
  };
  const Case cases[] = {
      {"threads = 4\nbogus = 1\n", 2, "unknown key"},
      {"threads = 4\nthreads = 5\n", 2, "set twice"},
      {"threads = many\n", 1, "invalid value"},
      {"threads = 0\n", 1, "invalid value"},
      {"threads = 4x\n", 1, "invalid value"},
      {"just words\n", 1, "key = value"},
      {"database = 'open\n", 1, "unterminated"},
      {"database = 'a' b\n", 1, "after a quoted"},
      {"socket_mode = 0999\n", 1, "invalid value"},
      {"log_level = loud\n", 1, "invalid value"},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    auto r = Parse(c.text);
    REQUIRE_FALSE(r);
    CHECK(r.error().line == c.line);
    CHECK(r.error().message.find(c.fragment) != std::string::npos);
  }
}
