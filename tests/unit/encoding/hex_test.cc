// The one hex encoder (encoding/hex.h): every byte value, both cases, appending after what is
// there, and nothing for nothing.
#include "encoding/hex.h"

#include <array>
#include <catch2/catch.hpp>
#include <cstdio>
#include <string>

using namespace tessera::encoding;

TEST_CASE("every byte is two hex digits, lower case unless upper is asked for") {
  for (int b = 0; b < 256; ++b) {
    char lower[3], upper[3];
    std::snprintf(lower, sizeof lower, "%02x", b);
    std::snprintf(upper, sizeof upper, "%02X", b);
    const unsigned char byte = static_cast<unsigned char>(b);
    INFO(b);
    CHECK(Hex(std::span<const unsigned char>(&byte, 1)) == lower);
    CHECK(Hex(std::span<const unsigned char>(&byte, 1), HexCase::kUpper) == upper);
  }
  const std::array<unsigned char, 4> digest = {0xde, 0xad, 0x0b, 0xef};
  CHECK(Hex(digest) == "dead0bef");
  CHECK(Hex(std::string_view("\x00\x7f\x80\xff", 4)) == "007f80ff");
  CHECK(Hex(std::string_view("\x00\x7f\x80\xff", 4), HexCase::kUpper) == "007F80FF");
  CHECK(Hex(std::string_view()).empty());
}

TEST_CASE("appending keeps what the string held") {
  std::string line = "\\x";
  AppendHex(line, std::string_view("\n", 1));
  CHECK(line == "\\x0a");
  AppendHex(line, std::string_view());
  CHECK(line == "\\x0a");
  AppendHex(line, "Az", HexCase::kUpper);
  CHECK(line == "\\x0a417A");
}
