#include "log/log.h"

#include <unistd.h>

#include <atomic>
#include <string>

#include "encoding/hex.h"

namespace tessera::log {
namespace {
std::atomic<Level> g_level{Level::kInfo};

std::string_view Name(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarning:
      return "warning";
    case Level::kError:
      return "error";
  }
  return "?";
}
}  // namespace

void SetLevel(Level level) { g_level.store(level); }

bool ParseLevel(std::string_view text, Level* out) {
  for (Level l : {Level::kDebug, Level::kInfo, Level::kWarning, Level::kError}) {
    if (text == Name(l)) {
      *out = l;
      return true;
    }
  }
  return false;
}

void Write(Level level, std::string_view message) {
  if (level < g_level.load(std::memory_order_relaxed)) return;
  std::string line;
  line.reserve(message.size() + 16);
  line.append(Name(level)).append(": ");
  // Control characters would let a logged value forge extra lines; show them escaped.
  for (char c : message) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      line.append("\\x");
      encoding::AppendHex(line, std::string_view(&c, 1));
    } else {
      line.push_back(c);
    }
  }
  line.push_back('\n');
  ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

}  // namespace tessera::log
