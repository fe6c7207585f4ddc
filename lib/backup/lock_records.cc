#include "backup/lock_records.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <cerrno>
#include <memory>

#include "backup/repo_path.h"

namespace tessera::backup {
namespace {

StorageError FromErrno(int e) {
  switch (e) {
    case ENOENT:
    case ENOTDIR:
      return StorageError::kNotFound;
    case ENOSPC:
    case EDQUOT:
      return StorageError::kNoSpace;
    default:
      return StorageError::kIo;
  }
}

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
  if (!fd.valid()) return std::unexpected(FromErrno(errno));
  int rc;
  do {
    rc = flock(fd.get(), LOCK_EX);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) return std::unexpected(StorageError::kIo);
  return LocksMutex(std::move(fd));
}

bool IsCreator(std::string_view creator) {
  if (creator.empty() || creator.size() > kMaxCreatorBytes) return false;
  for (char c : creator) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::expected<std::size_t, StorageError> CountLocks(const std::string& locks_dir) {
  std::unique_ptr<DIR, int (*)(DIR*)> dir(opendir(locks_dir.c_str()), closedir);
  if (!dir) return std::unexpected(FromErrno(errno));
  std::size_t count = 0;
  errno = 0;
  while (dirent* e = readdir(dir.get())) {
    if (IsObjectName(e->d_name)) ++count;
    errno = 0;
  }
  if (errno != 0) return std::unexpected(StorageError::kIo);
  return count;
}

std::expected<std::optional<std::string>, StorageError> ReadCreator(const std::string& locks_dir,
                                                                    std::string_view name) {
  UniqueFd fd(open(RecordPath(locks_dir, name).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) {
    if (errno == ENOENT) return std::optional<std::string>{};
    return std::unexpected(FromErrno(errno));
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
  if (!IsCreator(creator)) return std::optional<std::string>{};  // too long or not a jti: no owner
  return std::optional<std::string>{std::string(creator)};
}

std::expected<void, StorageError> WriteCreator(const std::string& locks_dir, std::string_view name,
                                               std::string_view creator) {
  if (!IsCreator(creator)) return std::unexpected(StorageError::kIo);
  std::string temp = locks_dir + "/" + std::string(kTempPrefix) + "XXXXXX";
  UniqueFd fd(mkostemp(temp.data(), O_CLOEXEC));
  if (!fd.valid()) return std::unexpected(FromErrno(errno));
  // Held while it is written, like every temporary file, so a sweep never takes it.
  flock(fd.get(), LOCK_EX | LOCK_NB);
  bool ok = WriteAll(fd.get(), creator) && fsync(fd.get()) == 0 &&
            rename(temp.c_str(), RecordPath(locks_dir, name).c_str()) == 0;
  if (!ok) {
    StorageError e = FromErrno(errno);
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
