// The test worker's movable wall clock: the system clock plus the offset in a file, and the
// system clock alone when the file says nothing usable.
#include "fcgi/test_clock.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

using tessera::fcgi::OffsetFileClock;

namespace {

struct OffsetFile {
  OffsetFile() {
    char name[] = "/tmp/tessera-clock-XXXXXX";
    int fd = mkstemp(name);
    REQUIRE(fd >= 0);
    close(fd);
    path = name;
  }
  ~OffsetFile() { std::remove(path.c_str()); }
  void Write(const std::string& text) const { std::ofstream(path, std::ios::trunc) << text; }
  std::string path;
};

// The clock's offset, measured against the system clock (read on both sides, so a second that
// turns between the reads is no failure).
bool OffsetIs(const OffsetFileClock& clock, std::int64_t offset) {
  tessera::clock::SystemClock system;
  std::int64_t before = system.Now();
  std::int64_t moved = clock.Now();
  std::int64_t after = system.Now();
  return moved >= before + offset && moved <= after + offset;
}

}  // namespace

TEST_CASE("the test clock adds the file's offset, read again on every call") {
  OffsetFile file;
  OffsetFileClock clock(file.path);
  file.Write("3600\n");
  CHECK(OffsetIs(clock, 3600));
  file.Write("-120");
  CHECK(OffsetIs(clock, -120));
  file.Write("0");
  CHECK(OffsetIs(clock, 0));
}

TEST_CASE("the test clock is the system clock when the file says nothing usable") {
  OffsetFile file;
  OffsetFileClock clock(file.path);
  for (const char* junk : {"", "\n", "soon", "12s", "1.5", "0x10", " 5", "99999999999999999999"}) {
    INFO("'" << junk << "'");
    file.Write(junk);
    CHECK(OffsetIs(clock, 0));
  }
  CHECK(OffsetIs(OffsetFileClock(file.path + ".missing"), 0));
  CHECK(OffsetIs(OffsetFileClock(""), 0));
}
