// Builds the TokenFactory from the configuration: loads the bearer-token signing key and the
// older token keys that still verify from their files (crypto/keyring.h), and binds the factory
// to server_id and token_clock_skew. The token keys are loaded here and nowhere else, as the
// ticket keys are in auth/ticket_setup.h; the backup endpoints and tessera-admin receive the
// built factory.
#pragma once

#include <expected>
#include <memory>
#include <string>

#include "auth/token_factory.h"
#include "clock/clock.h"
#include "config/config.h"

namespace tessera::auth {

// nullptr (not an error) when token_key is not set: no bearer tokens. Fails with a message naming
// the unreadable or invalid key file. `clock` must outlive the factory.
[[nodiscard]] std::expected<std::unique_ptr<TokenFactory>, std::string> MakeTokenFactory(
    const config::Config& config, const clock::Clock& clock);

}  // namespace tessera::auth
