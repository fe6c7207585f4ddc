// Builds the backup endpoints from the configuration: the token keyring and factory (bound to
// server_id), the token authenticator over the session cache, the storage backend, the restic
// REST handler, and the sweeper that removes crashed uploads' temporary files (at once, then
// every upload_temp_max_age / 2, at most hourly, on a thread of its own that stops when the
// service goes). Owned by main, shared by threads.
#pragma once

#include <expected>
#include <memory>
#include <string>

#include "auth/authenticator.h"
#include "auth/session_cache.h"
#include "auth/token_factory.h"
#include "backup/rest_handler.h"
#include "backup/storage.h"
#include "backup/temp_sweeper.h"
#include "clock/clock.h"
#include "config/config.h"

namespace tessera::backup {

struct BackupService {
  std::unique_ptr<auth::TokenFactory> tokens;
  std::unique_ptr<auth::Authenticator> authenticator;  // tokens only
  std::unique_ptr<Storage> storage;
  std::unique_ptr<RestHandler> handler;
  std::unique_ptr<TempSweeper> sweeper;  // declared last: stops first
};

// nullptr (not an error) when token_key or storage_dir is not set: the backup endpoints then
// answer 503. Fails with a message for an unreadable key or a storage_dir that is not a directory.
std::expected<std::unique_ptr<BackupService>, std::string> MakeBackupService(
    const config::Config& config, auth::SessionCache& sessions, const clock::Clock& clock);

}  // namespace tessera::backup
