#include "backup/backup_service.h"

#include <algorithm>
#include <filesystem>

#include "crypto/keyring.h"

namespace tessera::backup {

std::expected<std::unique_ptr<BackupService>, std::string> MakeBackupService(
    const config::Config& config, auth::SessionCache& sessions, const clock::Clock& clock) {
  if (config.token_key.empty() || config.storage_dir.empty())
    return std::unique_ptr<BackupService>();
  std::error_code ec;
  if (!std::filesystem::is_directory(config.storage_dir, ec)) {
    return std::unexpected("storage_dir " + config.storage_dir + " is not a directory");
  }
  std::vector<std::filesystem::path> older(config.token_verify_keys.begin(),
                                           config.token_verify_keys.end());
  auto ring = crypto::Keyring::Load(config.token_key, older);
  if (!ring) return std::unexpected(ring.error());
  auto service = std::make_unique<BackupService>();
  service->tokens = std::make_unique<auth::TokenFactory>(
      config.server_id, std::make_shared<const crypto::Keyring>(std::move(*ring)), clock,
      config.token_clock_skew);
  service->storage = MakeFilesystemStorage(config.storage_dir);
  service->authenticator = std::make_unique<auth::Authenticator>(*service->tokens, sessions, clock);
  service->handler = std::make_unique<RestHandler>(*service->storage, *service->authenticator,
                                                   config.max_object_bytes);
  // Sweep at start-up (debris of a worker that was killed) and then every half max age, so
  // nothing stale lives longer than 1.5 max ages; at most hourly, since a sweep reads every
  // directory of the storage.
  std::chrono::seconds interval = std::clamp(config.upload_temp_max_age / 2,
                                             std::chrono::seconds(1), std::chrono::seconds(3600));
  service->sweeper = std::make_unique<TempSweeper>(config.storage_dir, config.upload_temp_max_age,
                                                   interval, clock);
  return service;
}

}  // namespace tessera::backup
