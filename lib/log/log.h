// Logging: one line per event on standard error, prefixed with the level.
//
// Callers pass only facts that are safe to read in a log file: never a password, ticket, token or
// key. Thread-safe: each line is written with a single write(2).
#pragma once

#include <string_view>

namespace tessera::log {

enum class Level { kDebug, kInfo, kWarning, kError };

// Sets the lowest level that is written (default kInfo). Call before threads start.
void SetLevel(Level level);
// Parses "debug", "info", "warning", "error"; returns false for anything else.
bool ParseLevel(std::string_view text, Level* out);

void Write(Level level, std::string_view message);
inline void Debug(std::string_view m) { Write(Level::kDebug, m); }
inline void Info(std::string_view m) { Write(Level::kInfo, m); }
inline void Warning(std::string_view m) { Write(Level::kWarning, m); }
inline void Error(std::string_view m) { Write(Level::kError, m); }

}  // namespace tessera::log
