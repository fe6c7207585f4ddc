// Who created each restic lock, so that a token may remove the locks it made and nothing else
// without the delete right (DESIGN.md, "Backup API"; issue 8, item 9).
//
// Next to `locks/<name>` the filesystem backend keeps `locks/.creator-<name>` holding the
// creating grant's jti. The record is written (temporary file, fsync, rename, fsync of the
// directory) before the lock is renamed into place, so a visible lock always has its record,
// also after a crash; it is removed after the lock. Listings never show it (not an object name).
// Creating, removing and counting locks happen under `locks/.mutex`, an flock(2) shared by every
// worker process using the storage, so the count cap is exact and a record always describes the
// lock that carries its name. It lives in the storage, so it survives restarts of the workers.
//
// The functions here take the locks directory's path; they are thread-safe and process-safe
// in the sense above.
#pragma once

#include <cstddef>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

#include "backup/storage.h"
#include "backup/unique_fd.h"

namespace tessera::backup {

// Prefixes of what the storage writes beside objects. None is an object name.
inline constexpr std::string_view kTempPrefix = ".tmp-";
inline constexpr std::string_view kCreatorPrefix = ".creator-";
inline constexpr std::string_view kLocksMutex = ".mutex";
// A jti is [A-Za-z0-9_-]{1,64} (sql/0003); a record holding anything else is not trusted.
inline constexpr std::size_t kMaxCreatorBytes = 64;

// Holds the exclusive flock on <locks_dir>/.mutex until destroyed.
class LocksMutex {
 public:
  // Waits for the lock. kNotFound if the directory does not exist, kIo otherwise.
  static std::expected<LocksMutex, StorageError> Acquire(const std::string& locks_dir);

 private:
  explicit LocksMutex(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;  // closing it releases the lock
};

// The creator recorded for lock `name`, nullopt when there is no (well-formed) record.
std::expected<std::optional<std::string>, StorageError> ReadCreator(const std::string& locks_dir,
                                                                    std::string_view name);

// Durably records `creator` for lock `name`, replacing an orphaned record. Call under the mutex.
std::expected<void, StorageError> WriteCreator(const std::string& locks_dir, std::string_view name,
                                               std::string_view creator);

// Removes the record of lock `name` (fine when there is none).
void RemoveCreator(const std::string& locks_dir, std::string_view name);

}  // namespace tessera::backup
