// The access log: one line per request, in logfmt after the word `access:`, on standard error
// like every other log line (journald and logfmt readers take it as it is):
//
//   access: time=2026-12-02T10:00:00.123Z method=GET route=/api2/json/access/whoami status=200
//     account=alice@pbs in=0 out=61 ms=0.4
//
// account and token are left out when nobody authenticated (or no token did). A value is written
// bare when it holds only printable ASCII other than space, '"', '=' and '\';
// otherwise (and when empty) it is quoted, with '"' and '\' escaped and control bytes as \xNN,
// so no value can forge a field or a line. Callers pass names and numbers, never a credential.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace tessera::log {

struct AccessEntry {
  std::chrono::system_clock::time_point time;  // when the request arrived
  std::string_view method;
  std::string_view route;  // the route's pattern, not the raw path
  int status = 0;
  std::string_view account;     // empty when nobody authenticated
  std::string_view token;       // the grant's name, when a token authenticated
  std::uint64_t bytes_in = 0;   // request body bytes read
  std::uint64_t bytes_out = 0;  // response body bytes written by the worker
  std::chrono::microseconds duration{0};
};

// The line for `entry`, without the trailing newline. Thread-safe.
std::string FormatAccess(const AccessEntry& entry);
// Writes it to standard error in one write(2). Thread-safe.
void WriteAccess(const AccessEntry& entry);

}  // namespace tessera::log
