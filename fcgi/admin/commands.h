// The subcommands of tessera-admin. Each takes the loaded configuration and its own arguments and
// returns the process exit status: 0 success, 1 failure (message on stderr), 2 usage.
#pragma once

#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace tessera::admin {

using Args = std::vector<std::string_view>;

int Usage();
int Migrate(config::Config& config, const Args& args);
int Keygen(const config::Config& config, const Args& args);
int Token(const config::Config& config, const Args& args);
int Account(const config::Config& config, const Args& args);
int HashPassword(const config::Config& config, const Args& args);
int Init(const config::Config& config, const Args& args);
int AccountUsage(const config::Config& config, const Args& args);

enum class KeyType { kSecret, kLocal };
// Writes a new key to a new file of mode 0600 at `path` (never replacing one): a k4.secret
// signing key, or a k4.local symmetric key. Returns the signing key's k4.public and k4.pid
// lines (nullopt for a local key), or why it failed (nothing left behind).
std::expected<std::optional<std::string>, std::string> WriteNewKey(const std::string& path,
                                                                   KeyType type);

}  // namespace tessera::admin
