// Builds the TicketService from the configuration: loads the ticket signing key, older ticket
// keys and the CSRF key from their files, and the password and throttling policy. The bearer-token
// keys are loaded alike, by auth/token_setup.h.
#pragma once

#include <expected>
#include <memory>
#include <string>

#include "auth/session_cache.h"
#include "auth/ticket_service.h"
#include "clock/clock.h"
#include "config/config.h"

namespace tessera::auth {

// Fails with a message naming the missing setting or the unreadable or invalid key file.
[[nodiscard]] std::expected<std::unique_ptr<TicketService>, std::string> MakeTicketService(
    const config::Config& config, SessionCache& cache, const clock::Clock& clock);

}  // namespace tessera::auth
