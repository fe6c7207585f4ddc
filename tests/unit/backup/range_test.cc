#include "backup/range.h"

#include <catch2/catch.hpp>

using namespace tessera::backup;

TEST_CASE("single byte ranges resolve against the object size") {
  struct Case {
    const char* header;
    std::uint64_t size;
    RangeResult result;
    std::uint64_t offset, length;
  };
  const Case cases[] = {
      {"", 100, RangeResult::kWhole, 0, 100},
      {"bytes=0-", 100, RangeResult::kPartial, 0, 100},
      {"bytes=0-9", 100, RangeResult::kPartial, 0, 10},
      {"bytes=90-200", 100, RangeResult::kPartial, 90, 10},
      {"bytes=-10", 100, RangeResult::kPartial, 90, 10},
      {"bytes=-1000", 100, RangeResult::kPartial, 0, 100},
      {"bytes=99-99", 100, RangeResult::kPartial, 99, 1},
      {"bytes=100-", 100, RangeResult::kUnsatisfiable, 0, 0},
      {"bytes=-0", 100, RangeResult::kUnsatisfiable, 0, 0},
      {"bytes=0-", 0, RangeResult::kUnsatisfiable, 0, 0},
      {"bytes=0-1,4-5", 100, RangeResult::kWhole, 0, 100},
      {"items=0-1", 100, RangeResult::kWhole, 0, 100},
      {"bytes=5-1", 100, RangeResult::kWhole, 0, 100},
      {"bytes=a-b", 100, RangeResult::kWhole, 0, 100},
      {"bytes=1", 100, RangeResult::kWhole, 0, 100},
      {"bytes=99999999999999999999-", 100, RangeResult::kWhole, 0, 100},
  };
  for (const auto& c : cases) {
    INFO(c.header);
    ByteRange r;
    RangeResult result = ResolveRange(c.header, c.size, &r);
    CHECK(result == c.result);
    if (result != RangeResult::kUnsatisfiable) {
      CHECK(r.offset == c.offset);
      CHECK(r.length == c.length);
    }
  }
}
