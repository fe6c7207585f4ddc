// Builds the backup endpoints from the configuration around a token factory built by
// auth/token_setup.h: the token authenticator over the session cache, the storage backend (a
// directory, or an S3 bucket: backup/s3_storage.h), the restic REST handler, and for a directory
// the sweeper that removes crashed uploads' temporary files (at once, then every
// upload_temp_max_age / 2, at most hourly, on a thread of its own that stops when the service
// goes). Owned by main, shared by threads.
#pragma once

#include <expected>
#include <memory>
#include <string>

#include "auth/authenticator.h"
#include "auth/fair_share.h"
#include "auth/session_cache.h"
#include "auth/token_factory.h"
#include "backup/repo_book.h"
#include "backup/rest_handler.h"
#include "backup/storage.h"
#include "backup/temp_sweeper.h"
#include "backup/usage_ledger.h"
#include "clock/clock.h"
#include "config/config.h"

namespace tessera::backup {

struct BackupService {
  std::unique_ptr<auth::TokenFactory> tokens;
  std::unique_ptr<auth::Authenticator> authenticator;  // tokens only
  std::unique_ptr<Storage> storage;
  std::unique_ptr<UsageLedger> usage;
  std::unique_ptr<RepoBook> repos;
  std::unique_ptr<RestHandler> handler;
  std::unique_ptr<TempSweeper> sweeper;  // declared last: stops first
};

// nullptr (not an error) when there is no token factory (token_key is not set), or both
// storage_dir and storage are not set: the backup endpoints then answer 503. The service owns
// `tokens`. Fails with a message for a storage_dir
// that is not a directory, or S3 settings that cannot work: a malformed location or endpoint,
// missing or too widely readable credentials, credentials the store refuses, a missing bucket
// (a store that does not answer at all only logs a warning).
// Quotas are kept in `usage`, repositories counted in `repos` (the worker's thread-safe pool,
// both), which must outlive the service, and so must `shares` (may be null: no fair share),
// which every authenticated request is admitted to.
[[nodiscard]] std::expected<std::unique_ptr<BackupService>, std::string> MakeBackupService(
    const config::Config& config, std::unique_ptr<auth::TokenFactory> tokens,
    auth::SessionCache& sessions, store::UsageStore& usage, store::RepoStore& repos,
    const clock::Clock& clock, auth::FairShare* shares = nullptr);

// The storage backend the configuration names (storage_dir or storage), nullptr when it names
// none; the same checks as above. For the admin tool's usage recompute. `clock` must outlive the
// storage.
std::expected<std::unique_ptr<Storage>, std::string> OpenStorage(const config::Config& config,
                                                                 const clock::Clock& clock);

}  // namespace tessera::backup
