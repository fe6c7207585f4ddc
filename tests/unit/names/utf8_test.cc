#include "names/utf8.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using namespace tessera::names;

TEST_CASE("well-formed UTF-8 is accepted") {
  for (const std::string& ok :
       {std::string(""), std::string("plain"), std::string("\xc2\x80"), std::string("\xdf\xbf"),
        std::string("\xe0\xa0\x80"), std::string("\xed\x9f\xbf"), std::string("\xee\x80\x80"),
        std::string("\xef\xbf\xbf"), std::string("\xf0\x90\x80\x80"),
        std::string("\xf4\x8f\xbf\xbf")}) {
    INFO(ok);
    CHECK(IsValidUtf8(ok));
  }
}

TEST_CASE("malformed UTF-8 is refused") {
  for (const std::string& bad : {
           std::string("\x80"),              // lone continuation
           std::string("\xc0\x80"),          // overlong NUL
           std::string("\xc1\xbf"),          // overlong
           std::string("\xe0\x80\xaf"),      // overlong 3-byte
           std::string("\xf0\x80\x80\xaf"),  // overlong 4-byte
           std::string("\xed\xa0\x80"),      // surrogate U+D800
           std::string("\xed\xbf\xbf"),      // surrogate U+DFFF
           std::string("\xf4\x90\x80\x80"),  // U+110000
           std::string("\xf5\x80\x80\x80"),  // F5
           std::string("\xff"),              // FF
           std::string("a\xc3"),             // truncated 2-byte
           std::string("\xe2\x82"),          // truncated 3-byte
           std::string("\xf0\x9f\x94"),      // truncated 4-byte
           std::string("\xc3\x28"),          // bad continuation
       }) {
    INFO(bad);
    CHECK_FALSE(IsValidUtf8(bad));
  }
}

TEST_CASE("control characters: C0, DEL and C1") {
  for (const std::string& bad :
       {std::string("\x01"), std::string("a\tb"), std::string("\n"), std::string("x\x7f"),
        std::string("\xc2\x80"), std::string("\xc2\x9f")}) {
    INFO(bad);
    CHECK(HasControlCharacter(bad));
  }
  for (const std::string& ok :
       {std::string("a b~"), std::string("\xc2\xa0"), std::string("\xc3\xbc")}) {
    CHECK_FALSE(HasControlCharacter(ok));
  }
}
