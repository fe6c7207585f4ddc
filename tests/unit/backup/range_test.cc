#include "backup/range.h"

#include <catch2/catch.hpp>

using namespace tessera::backup;

namespace {
// What the handler sends for a case: the whole object (200), a part (206), or 416.
enum Sent { kWhole, kPartial, kUnsatisfiable };
}  // namespace

TEST_CASE("single byte ranges resolve against the object size") {
  struct Case {
    const char* header;
    std::uint64_t size;
    Sent sent;
    std::uint64_t offset, length;
  };
  const Case cases[] = {
      {"", 100, kWhole, 0, 100},
      {"bytes=0-", 100, kPartial, 0, 100},
      {"bytes=0-9", 100, kPartial, 0, 10},
      {"bytes=90-200", 100, kPartial, 90, 10},
      {"bytes=-10", 100, kPartial, 90, 10},
      {"bytes=-1000", 100, kPartial, 0, 100},
      {"bytes=99-99", 100, kPartial, 99, 1},
      {"bytes=100-", 100, kUnsatisfiable, 0, 0},
      {"bytes=-0", 100, kUnsatisfiable, 0, 0},
      {"bytes=0-", 0, kUnsatisfiable, 0, 0},
      {"bytes=0-1,4-5", 100, kWhole, 0, 100},
      {"items=0-1", 100, kWhole, 0, 100},
      {"bytes=5-1", 100, kWhole, 0, 100},
      {"bytes=a-b", 100, kWhole, 0, 100},
      {"bytes=1", 100, kWhole, 0, 100},
      {"bytes=99999999999999999999-", 100, kWhole, 0, 100},
  };
  for (const auto& c : cases) {
    INFO(c.header);
    auto r = ResolveRange(c.header, c.size);
    if (c.sent == kUnsatisfiable) {
      REQUIRE_FALSE(r.has_value());
      CHECK(r.error() == RangeError::kUnsatisfiable);
      continue;
    }
    REQUIRE(r.has_value());
    CHECK(r->partial == (c.sent == kPartial));
    CHECK(r->bytes.offset == c.offset);
    CHECK(r->bytes.length == c.length);
  }
}
