// The subcommands of tessera-admin. Each takes the loaded configuration and its own arguments and
// returns the process exit status: 0 success, 1 failure (message on stderr), 2 usage.
#pragma once

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

}  // namespace tessera::admin
