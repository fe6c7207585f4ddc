// Builds the backup endpoints from the configuration: the token keyring and factory (bound to
// server_id), the storage backend and the restic REST handler. Owned by main, shared by threads.
#pragma once

#include <expected>
#include <memory>
#include <string>

#include "auth/session_cache.h"
#include "auth/token_factory.h"
#include "backup/rest_handler.h"
#include "backup/storage.h"
#include "clock/clock.h"
#include "config/config.h"

namespace tessera::backup {

struct BackupService {
  std::unique_ptr<auth::TokenFactory> tokens;
  std::unique_ptr<Storage> storage;
  std::unique_ptr<RestHandler> handler;
};

// nullptr (not an error) when token_key or storage_dir is not set: the backup endpoints then
// answer 503. Fails with a message for an unreadable key or a storage_dir that is not a directory.
std::expected<std::unique_ptr<BackupService>, std::string> MakeBackupService(
    const config::Config& config, auth::SessionCache& accounts, const clock::Clock& clock);

}  // namespace tessera::backup
