#include "backup/lock_records.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <cerrno>
#include <memory>

#include "backup/repo_path.h"
#include "store/notification.h"

namespace tessera::backup {
namespace {

std::string RecordPath(const std::string& locks_dir, std::string_view name) {
  return locks_dir + "/" + std::string(kCreatorPrefix) + std::string(name);
}

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

std::expected<LocksMutex, StorageError> LocksMutex::Acquire(const std::string& locks_dir) {
  std::string path = locks_dir + "/" + std::string(kLocksMutex);
  UniqueFd fd(open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd.valid()) return std::unexpected(StorageErrorFromErrno(errno));
  int rc;
  do {
    rc = flock(fd.get(), LOCK_EX);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) return std::unexpected(StorageError::kIo);
  return LocksMutex(std::move(fd));
}

std::expected<std::optional<std::string>, StorageError> ReadCreator(const std::string& locks_dir,
                                                                    std::string_view name) {
  UniqueFd fd(open(RecordPath(locks_dir, name).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) {
    if (errno == ENOENT) return std::optional<std::string>{};
    return std::unexpected(StorageErrorFromErrno(errno));
  }
  char buffer[kMaxCreatorBytes + 1];
  std::size_t got = 0;
  while (got < sizeof buffer) {
    ssize_t n = read(fd.get(), buffer + got, sizeof buffer - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::unexpected(StorageError::kIo);
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  std::string_view creator(buffer, got);
  if (!store::IsValidJti(creator))
    return std::optional<std::string>{};  // too long or not a jti: no owner
  return std::optional<std::string>{std::string(creator)};
}

std::expected<void, StorageError> WriteCreator(const std::string& locks_dir, std::string_view name,
                                               std::string_view creator) {
  if (!store::IsValidJti(creator)) return std::unexpected(StorageError::kIo);
  std::string temp = locks_dir + "/" + std::string(kTempPrefix) + "XXXXXX";
  UniqueFd fd(mkostemp(temp.data(), O_CLOEXEC));
  if (!fd.valid()) return std::unexpected(StorageErrorFromErrno(errno));
  // Held while it is written, like every temporary file, so a sweep never takes it.
  flock(fd.get(), LOCK_EX | LOCK_NB);
  bool ok = WriteAll(fd.get(), creator) && fsync(fd.get()) == 0 &&
            rename(temp.c_str(), RecordPath(locks_dir, name).c_str()) == 0;
  if (!ok) {
    StorageError e = StorageErrorFromErrno(errno);
    unlink(temp.c_str());
    return std::unexpected(e);
  }
  UniqueFd dir(open(locks_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid() || fsync(dir.get()) != 0) return std::unexpected(StorageError::kIo);
  return {};
}

void RemoveCreator(const std::string& locks_dir, std::string_view name) {
  unlink(RecordPath(locks_dir, name).c_str());
}

}  // namespace tessera::backup
