#include "log/access_log.h"

#include <unistd.h>

#include <cstdio>
#include <ctime>

#include "encoding/hex.h"

namespace tessera::log {
namespace {

bool IsBare(std::string_view value) {
  if (value.empty()) return false;
  for (char c : value) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '"' || c == '=' || c == '\\') return false;
  }
  return true;
}

void AppendValue(std::string& line, std::string_view value) {
  if (IsBare(value)) {
    line.append(value);
    return;
  }
  line.push_back('"');
  for (char c : value) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      line.push_back('\\');
      line.push_back(c);
    } else if (u < 0x20 || u == 0x7f) {
      line.append("\\x");
      encoding::AppendHex(line, std::string_view(&c, 1));
    } else {
      line.push_back(c);  // UTF-8 (validated where it entered) stays readable
    }
  }
  line.push_back('"');
}

void AppendField(std::string& line, std::string_view key, std::string_view value) {
  line.push_back(' ');
  line.append(key).push_back('=');
  AppendValue(line, value);
}

// RFC 3339 in UTC with milliseconds.
std::string Timestamp(std::chrono::system_clock::time_point t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[48];
  std::size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(text + n, sizeof text - n, ".%03dZ", static_cast<int>(ms % 1000));
  return text;
}

}  // namespace

std::string FormatAccess(const AccessEntry& entry) {
  std::string line;
  line.reserve(192);
  line.append("access: time=").append(Timestamp(entry.time));
  AppendField(line, "method", entry.method);
  AppendField(line, "route", entry.route);
  line.append(" status=").append(std::to_string(entry.status));
  if (!entry.account.empty()) AppendField(line, "account", entry.account);
  if (!entry.token.empty()) AppendField(line, "token", entry.token);
  line.append(" in=").append(std::to_string(entry.bytes_in));
  line.append(" out=").append(std::to_string(entry.bytes_out));
  char ms[32];
  std::snprintf(ms, sizeof ms, " ms=%.1f", static_cast<double>(entry.duration.count()) / 1000.0);
  line.append(ms);
  return line;
}

void WriteAccess(const AccessEntry& entry) {
  std::string line = FormatAccess(entry);
  line.push_back('\n');
  ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

}  // namespace tessera::log
