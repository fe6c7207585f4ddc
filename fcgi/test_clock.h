// The worker's wall clock in the integration tests: the system clock plus an offset in seconds
// read from a file, so a test moves the worker's time (ticket windows, the pruning interval) by
// writing a number, instead of sleeping until it has passed.
//
// Only tessera-fcgi-testclock includes this header: the same sources as tessera-fcgi, compiled
// with TESSERA_TEST_CLOCK (CMakeLists.txt; built with the tests, never installed). tessera-fcgi
// is compiled without it and has no code that reads the file or the environment variable naming
// it, so no configuration or environment can move a production worker's clock. The steady clock
// (intervals, I/O deadlines) is never moved: only what is compared with timestamps.
#pragma once

#include <charconv>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>

#include "clock/clock.h"

namespace tessera::fcgi {

// The variable that names the offset file (tests/integration/harness.h, Worker::MoveClock).
inline constexpr const char* kTestClockOffsetFileVariable = "TESSERA_TEST_CLOCK_OFFSET_FILE";

class OffsetFileClock final : public clock::Clock {
 public:
  // `path` holds a decimal number of seconds (it may be negative); a missing file, an empty one
  // or one that is not a number counts as 0.
  explicit OffsetFileClock(std::string path) : path_(std::move(path)) {}

  // The system clock plus the file's offset, read on every call (tests only: no cache to go
  // stale). Thread-safe.
  std::int64_t Now() const override { return system_.Now() + Offset(); }

 private:
  std::int64_t Offset() const {
    if (path_.empty()) return 0;
    std::ifstream in(path_);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    std::int64_t offset = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), offset);
    if (error != std::errc() || end != text.data() + text.size()) return 0;
    return offset;
  }

  std::string path_;
  clock::SystemClock system_;
};

}  // namespace tessera::fcgi
