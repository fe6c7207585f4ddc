#include "backup/backup_service.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "backup/s3_client.h"
#include "backup/s3_storage.h"
#include "log/log.h"

namespace tessera::backup {

namespace {

// The S3 backend of `storage = s3://...`, once the bucket answered the credentials; a store that
// does not answer at all only warns (the backup endpoints answer 503 until it does).
std::expected<std::unique_ptr<Storage>, std::string> MakeS3Backend(const config::Config& config,
                                                                   const clock::Clock& clock) {
  auto location = ParseS3Location(config.storage);
  if (!location) {
    return std::unexpected("storage = " + config.storage +
                           " is not s3://<bucket>[/<prefix>] (bucket: 3 to 63 of a-z 0-9 . -; "
                           "prefix: segments of A-Z a-z 0-9 . _ -)");
  }
  auto endpoint = ParseS3Endpoint(config.s3_endpoint);
  if (!endpoint) {
    return std::unexpected("s3_endpoint = " + config.s3_endpoint +
                           " is not http(s)://<host>[:<port>] without a path");
  }
  auto credentials = config.s3_credentials.empty() ? S3CredentialsFromEnvironment()
                                                   : LoadS3Credentials(config.s3_credentials);
  if (!credentials) return std::unexpected(credentials.error());
  S3ClientOptions options;
  options.endpoint = std::move(*endpoint);
  options.addressing = config.s3_virtual_hosted ? S3Addressing::kVirtual : S3Addressing::kPath;
  options.region = config.s3_region;
  options.bucket = location->bucket;
  // A streamed transfer pauses while its client is slow, for up to io_timeout.
  options.stream_stall_timeout =
      std::max(options.stream_stall_timeout, config.io_timeout + std::chrono::seconds(30));
  auto client = std::make_shared<const S3Client>(std::move(options), std::move(*credentials));
  if (auto checked = client->CheckBucket(location->prefix); !checked) {
    if (checked.error().first != S3Error::kUnavailable)
      return std::unexpected(checked.error().second);
    log::Warning(checked.error().second + "; backup requests get 503 until it does");
  }
  return MakeS3Storage(std::move(client), location->prefix, clock);
}

}  // namespace

std::expected<std::unique_ptr<Storage>, std::string> OpenStorage(const config::Config& config,
                                                                 const clock::Clock& clock) {
  if (!config.storage.empty()) return MakeS3Backend(config, clock);
  if (config.storage_dir.empty()) return std::unique_ptr<Storage>();
  std::error_code ec;
  if (!std::filesystem::is_directory(config.storage_dir, ec))
    return std::unexpected("storage_dir " + config.storage_dir + " is not a directory");
  return MakeFilesystemStorage(config.storage_dir);
}

// This process as its reservations name it (sql/0016): host and pid.
std::string WorkerName() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  return std::string(host) + ":" + std::to_string(getpid());
}

std::expected<std::unique_ptr<BackupService>, std::string> MakeBackupService(
    const config::Config& config, std::unique_ptr<auth::TokenFactory> tokens,
    auth::SessionCache& sessions, store::UsageStore& usage, store::RepoStore& repos,
    const clock::Clock& clock, auth::FairShare* shares) {
  bool s3 = !config.storage.empty();
  if (!tokens || (config.storage_dir.empty() && !s3)) return std::unique_ptr<BackupService>();
  auto storage = OpenStorage(config, clock);
  if (!storage) return std::unexpected(storage.error());
  auto service = std::make_unique<BackupService>();
  service->tokens = std::move(tokens);
  service->storage = std::move(*storage);
  service->usage = std::make_unique<UsageLedger>(usage, *service->storage, clock, WorkerName());
  service->repos = std::make_unique<RepoBook>(repos, config.repo_max_count);
  service->authenticator =
      std::make_unique<auth::Authenticator>(*service->tokens, sessions, clock, shares);
  service->handler =
      std::make_unique<RestHandler>(*service->storage, *service->authenticator, *service->usage,
                                    *service->repos, config.max_object_bytes);
  // An S3 store keeps no temporary files: a PUT cut short leaves nothing.
  if (s3) return service;
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
