#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "backup/content_hash.h"
#include "backup/lock_records.h"
#include "backup/repo_path.h"
#include "backup/storage.h"
#include "backup/unique_fd.h"
#include "store/notification.h"

namespace tessera::backup {
namespace {

// Group-readable: the storage root's group decides who else may read (storage.h).
constexpr mode_t kDirMode = 0750;
constexpr mode_t kFileMode = 0640;

constexpr std::string_view kTypes[] = {"data", "keys", "locks", "snapshots", "index"};

bool IsOwner(AccountId owner) { return static_cast<std::int64_t>(owner) > 0; }

using Fd = UniqueFd;

struct DirCloser {
  void operator()(DIR* d) const { closedir(d); }
};
using DirPtr = std::unique_ptr<DIR, DirCloser>;

class FileRange final : public http::BodySource {
 public:
  FileRange(std::shared_ptr<Fd> fd, std::uint64_t offset, std::uint64_t length)
      : fd_(std::move(fd)), offset_(offset), left_(length) {}
  std::ptrdiff_t Read(char* buffer, std::size_t size) override {
    if (left_ == 0) return 0;
    std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(size, left_));
    ssize_t n;
    do {
      n = pread(fd_->get(), buffer, want, static_cast<off_t>(offset_));
    } while (n < 0 && errno == EINTR);
    if (n <= 0) return -1;
    offset_ += static_cast<std::uint64_t>(n);
    left_ -= static_cast<std::uint64_t>(n);
    return n;
  }

 private:
  std::shared_ptr<Fd> fd_;
  std::uint64_t offset_, left_;
};

class FileReader final : public ObjectReader {
 public:
  FileReader(std::shared_ptr<Fd> fd, std::uint64_t size, LocalFile file)
      : fd_(std::move(fd)), size_(size), file_(std::move(file)) {}
  std::uint64_t size() const override { return size_; }
  std::optional<LocalFile> local_file() const override { return file_; }
  std::shared_ptr<http::BodySource> Range(std::uint64_t offset, std::uint64_t length) override {
    return std::make_shared<FileRange>(fd_, offset, length);
  }

 private:
  std::shared_ptr<Fd> fd_;
  std::uint64_t size_;
  LocalFile file_;
};

bool FsyncDir(const std::string& dir) {
  Fd fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  return fd.get() >= 0 && fsync(fd.get()) == 0;
}

// How many locks a locks directory holds, and how many of them `creator` made (by their
// records: a lock without one counts for nobody). Exact only under the locks mutex. kIo (or
// what the filesystem said) when the directory or a record cannot be read.
struct LockCount {
  std::size_t total = 0;
  std::size_t by_creator = 0;
};

std::expected<LockCount, StorageError> CountLocksOf(const std::string& locks_dir,
                                                    std::string_view creator) {
  DirPtr dir(opendir(locks_dir.c_str()));
  if (!dir) return std::unexpected(StorageErrorFromErrno(errno));
  LockCount count;
  errno = 0;
  while (dirent* e = readdir(dir.get())) {
    if (IsObjectName(e->d_name)) {
      ++count.total;
      auto recorded = ReadCreator(locks_dir, e->d_name);
      if (!recorded) return std::unexpected(recorded.error());
      if (*recorded && **recorded == creator) ++count.by_creator;
    }
    errno = 0;
  }
  if (errno != 0) return std::unexpected(StorageError::kIo);
  return count;
}

// Whether one more lock by `creator` stays within both caps (Storage::BeginLock).
std::expected<void, StorageError> CheckLockCaps(const std::string& locks_dir,
                                                std::string_view creator, std::size_t max_locks) {
  auto count = CountLocksOf(locks_dir, creator);
  if (!count) return std::unexpected(count.error());
  if (count->total >= max_locks || count->by_creator >= kMaxLocksPerCreator) {
    return std::unexpected(StorageError::kTooMany);
  }
  return {};
}

// What committing a lock adds to committing an object (backup/lock_records.h).
struct LockCommit {
  std::string name;
  std::string creator;
  std::size_t max_locks;
};

class FileWriter final : public ObjectWriter {
 public:
  FileWriter(std::string dir, std::string final_path, std::string temp_path, int fd,
             ContentHash hash, std::optional<LockCommit> lock = std::nullopt)
      : dir_(std::move(dir)),
        final_(std::move(final_path)),
        temp_(std::move(temp_path)),
        fd_(fd),
        lock_(std::move(lock)),
        hash_(std::move(hash)) {}
  ~FileWriter() override {
    if (!committed_) unlink(temp_.c_str());
  }
  std::expected<void, StorageError> Write(const char* data, std::size_t size) override {
    hash_.Update(data, size);
    while (size > 0) {
      ssize_t n = write(fd_.get(), data, size);
      if (n < 0) {
        if (errno == EINTR) continue;
        return std::unexpected(StorageErrorFromErrno(errno));
      }
      data += n;
      size -= static_cast<std::size_t>(n);
      written_ += static_cast<std::uint64_t>(n);
    }
    // Start writing back what has arrived while the rest is still coming, so that Commit's
    // fsync waits for the last few MiB of a pack instead of all of it. Only a hint: it neither
    // waits nor makes anything durable (fsync does), and a failure changes nothing.
    if (written_ - written_back_ >= kWritebackBytes) {
      sync_file_range(fd_.get(), static_cast<off_t>(written_back_),
                      static_cast<off_t>(written_ - written_back_), SYNC_FILE_RANGE_WRITE);
      written_back_ = written_;
    }
    return {};
  }
  std::expected<void, StorageError> Commit(std::optional<std::string_view> expected) override {
    std::string digest = hash_.FinalHex();
    if (expected && *expected != digest) return std::unexpected(StorageError::kHashMismatch);
    if (fsync(fd_.get()) != 0) return std::unexpected(StorageErrorFromErrno(errno));
    // A lock is counted, recorded and published under the locks mutex, so the cap is exact and
    // its creator record is durable before the lock is visible.
    std::optional<LocksMutex> mutex;
    if (lock_) {
      auto held = LocksMutex::Acquire(dir_);
      if (!held) return std::unexpected(held.error());
      mutex.emplace(std::move(*held));
      if (auto caps = CheckLockCaps(dir_, lock_->creator, lock_->max_locks); !caps) {
        return std::unexpected(caps.error());
      }
      struct stat st{};
      if (lstat(final_.c_str(), &st) == 0)
        return std::unexpected(StorageError::kExists);  // keep its record
      if (auto recorded = WriteCreator(dir_, lock_->name, lock_->creator); !recorded) {
        return std::unexpected(recorded.error());
      }
    }
    // RENAME_NOREPLACE: an object that appeared meanwhile is never replaced.
    if (renameat2(AT_FDCWD, temp_.c_str(), AT_FDCWD, final_.c_str(), RENAME_NOREPLACE) != 0) {
      StorageError e = StorageErrorFromErrno(errno);
      if (lock_) RemoveCreator(dir_, lock_->name);
      return std::unexpected(e);
    }
    committed_ = true;
    if (!FsyncDir(dir_)) return std::unexpected(StorageError::kIo);
    return {};
  }

 private:
  // Writeback is started in steps of this many bytes (restic's packs are about 16 MiB).
  static constexpr std::uint64_t kWritebackBytes = 4 << 20;

  std::string dir_, final_, temp_;
  Fd fd_;
  std::uint64_t written_ = 0;
  std::uint64_t written_back_ = 0;  // writeback has been started for the bytes before this
  std::optional<LockCommit> lock_;
  ContentHash hash_;
  bool committed_ = false;
};

// Walks <type>/ (or data/00 .. data/ff in order), holding one open directory and nothing else.
// Temporary files, dot files and anything that is not a regular file are skipped; so is an
// entry that vanishes between readdir and stat (deleted meanwhile).
class DirLister final : public ObjectLister {
 public:
  DirLister(std::string base, bool data) : base_(std::move(base)), data_(data) {}

  std::expected<std::optional<ObjectInfo>, StorageError> Next() override {
    while (true) {
      if (!dir_) {
        if (next_dir_ == (data_ ? 256 : 1)) return std::optional<ObjectInfo>{};
        std::string path = base_;
        if (data_) {
          char sub[4];
          std::snprintf(sub, sizeof sub, "/%02x", next_dir_);
          path += sub;
        }
        ++next_dir_;
        // O_NOFOLLOW: a symlink planted in the storage never lists what lies elsewhere.
        int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
          if (errno == ENOENT) continue;  // a data subfolder made by hand may be missing
          return std::unexpected(errno == ELOOP ? StorageError::kIo : StorageErrorFromErrno(errno));
        }
        dir_.reset(fdopendir(fd));
        if (!dir_) {
          close(fd);
          return std::unexpected(StorageError::kIo);
        }
      }
      errno = 0;
      dirent* e = readdir(dir_.get());
      if (e == nullptr) {
        if (errno != 0) return std::unexpected(StorageError::kIo);
        dir_.reset();
        continue;
      }
      std::string_view name = e->d_name;
      if (!IsObjectName(name)) continue;  // ., .., temporary files, lock owner records
      struct stat st{};
      if (fstatat(dirfd(dir_.get()), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) continue;
        return std::unexpected(StorageErrorFromErrno(errno));
      }
      if (!S_ISREG(st.st_mode)) continue;
      return std::optional<ObjectInfo>{
          ObjectInfo{std::string(name), static_cast<std::uint64_t>(st.st_size)}};
    }
  }

 private:
  std::string base_;
  bool data_;
  int next_dir_ = 0;
  DirPtr dir_;
};

class FilesystemStorage final : public Storage {
 public:
  explicit FilesystemStorage(std::string root)
      : root_(std::filesystem::absolute(root).lexically_normal().string()) {
    while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
  }

  std::expected<void, StorageError> CreateRepo(AccountId owner, std::string_view repo) override {
    if (!IsOwner(owner)) return std::unexpected(StorageError::kNotFound);
    std::string base = RepoDir(owner, repo);
    if (!MakeDirs(base)) return std::unexpected(StorageErrorFromErrno(errno));
    // data/00 .. data/ff are made by the first write into each (Begin): an empty repository
    // costs six directories, not 262.
    for (auto type : kTypes) {
      std::string dir = base + "/" + std::string(type);
      if (mkdir(dir.c_str(), kDirMode) != 0 && errno != EEXIST)
        return std::unexpected(StorageErrorFromErrno(errno));
    }
    return {};
  }

  bool RepoExists(AccountId owner, std::string_view repo) override {
    if (!IsOwner(owner)) return false;
    struct stat st{};
    return stat((RepoDir(owner, repo) + "/keys").c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  }

  std::expected<std::vector<RepoUsage>, StorageError> Usage(
      AccountId owner, std::size_t limit,
      const std::function<bool(std::string_view repo)>& include) override {
    std::vector<RepoUsage> repos;
    if (!IsOwner(owner)) return repos;
    std::string base = root_ + "/" + std::to_string(static_cast<std::int64_t>(owner));
    if (!FindRepos(base, "", 0, limit, include, repos)) return std::unexpected(StorageError::kIo);
    std::sort(repos.begin(), repos.end(),
              [](const RepoUsage& a, const RepoUsage& b) { return a.repo < b.repo; });
    for (RepoUsage& usage : repos) Measure(owner, usage);
    return repos;
  }

  std::expected<std::unique_ptr<ObjectReader>, StorageError> Open(AccountId owner,
                                                                  std::string_view repo,
                                                                  std::string_view type,
                                                                  std::string_view name) override {
    if (!IsOwner(owner)) return std::unexpected(StorageError::kNotFound);
    std::string path = ObjectPath(owner, repo, type, name);
    auto fd = std::make_shared<Fd>(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (fd->get() < 0) return std::unexpected(StorageErrorFromErrno(errno));
    struct stat st{};
    if (fstat(fd->get(), &st) != 0 || !S_ISREG(st.st_mode))
      return std::unexpected(StorageError::kNotFound);
    std::string relative = path.substr(root_.size() + 1);
    return std::make_unique<FileReader>(std::move(fd), static_cast<std::uint64_t>(st.st_size),
                                        LocalFile{std::move(path), std::move(relative)});
  }

  std::expected<std::unique_ptr<ObjectWriter>, StorageError> BeginWrite(
      AccountId owner, std::string_view repo, std::string_view type, std::string_view name,
      std::uint64_t /*size*/) override {
    if (type == "locks") return std::unexpected(StorageError::kIo);
    return Begin(owner, repo, type, name, std::nullopt);
  }

  std::expected<std::unique_ptr<ObjectWriter>, StorageError> BeginLock(
      AccountId owner, std::string_view repo, std::string_view name, std::uint64_t /*size*/,
      std::string_view creator, std::size_t max_locks) override {
    if (!store::IsValidJti(creator)) return std::unexpected(StorageError::kIo);
    if (!RepoExists(owner, repo)) return std::unexpected(StorageError::kNotFound);
    // Refused before the body is read when a cap is reached already; Commit checks exactly.
    if (auto caps = CheckLockCaps(RepoDir(owner, repo) + "/locks", creator, max_locks); !caps) {
      return std::unexpected(caps.error());
    }
    return Begin(owner, repo, "locks", name,
                 LockCommit{std::string(name), std::string(creator), max_locks});
  }

  std::expected<void, StorageError> RemoveLock(
      AccountId owner, std::string_view repo, std::string_view name,
      std::optional<std::string_view> only_creator) override {
    if (!IsOwner(owner)) return std::unexpected(StorageError::kNotFound);
    std::string dir = RepoDir(owner, repo) + "/locks";
    auto mutex = LocksMutex::Acquire(dir);
    if (!mutex) {
      if (mutex.error() == StorageError::kNotFound) return {};  // no repository: nothing to remove
      return std::unexpected(mutex.error());
    }
    std::string path = dir + "/" + std::string(name);
    struct stat st{};
    if (lstat(path.c_str(), &st) != 0) {
      if (errno != ENOENT) return std::unexpected(StorageErrorFromErrno(errno));
      RemoveCreator(dir, name);  // an orphaned record, if any
      return {};
    }
    if (only_creator) {
      auto creator = ReadCreator(dir, name);
      if (!creator) return std::unexpected(creator.error());
      if (!*creator || **creator != *only_creator)
        return std::unexpected(StorageError::kNotCreator);
    }
    if (unlink(path.c_str()) != 0 && errno != ENOENT)
      return std::unexpected(StorageErrorFromErrno(errno));
    RemoveCreator(dir, name);
    return {};
  }

  std::expected<std::unique_ptr<ObjectLister>, StorageError> List(AccountId owner,
                                                                  std::string_view repo,
                                                                  std::string_view type) override {
    if (!RepoExists(owner, repo)) return std::unexpected(StorageError::kNotFound);
    return std::make_unique<DirLister>(RepoDir(owner, repo) + "/" + std::string(type),
                                       type == "data");
  }

  std::expected<std::optional<std::uint64_t>, StorageError> Remove(AccountId owner,
                                                                   std::string_view repo,
                                                                   std::string_view type,
                                                                   std::string_view name) override {
    if (!IsOwner(owner)) return std::unexpected(StorageError::kNotFound);
    if (type == "locks") {
      if (auto gone = RemoveLock(owner, repo, name, std::nullopt); !gone)
        return std::unexpected(gone.error());
      return std::nullopt;
    }
    std::string path = ObjectPath(owner, repo, type, name);
    // Objects are never rewritten, so the size read before the unlink is the removed one's; of
    // two parallel removals only the one whose unlink succeeds reports it.
    struct stat st{};
    if (lstat(path.c_str(), &st) != 0) {
      if (errno == ENOENT) return std::nullopt;
      return std::unexpected(StorageErrorFromErrno(errno));
    }
    if (unlink(path.c_str()) != 0) {
      if (errno == ENOENT) return std::nullopt;
      return std::unexpected(StorageErrorFromErrno(errno));
    }
    return static_cast<std::uint64_t>(st.st_size);
  }

 private:
  std::expected<std::unique_ptr<ObjectWriter>, StorageError> Begin(AccountId owner,
                                                                   std::string_view repo,
                                                                   std::string_view type,
                                                                   std::string_view name,
                                                                   std::optional<LockCommit> lock) {
    if (!RepoExists(owner, repo)) return std::unexpected(StorageError::kNotFound);
    std::string path = ObjectPath(owner, repo, type, name);
    struct stat st{};
    if (lstat(path.c_str(), &st) == 0) return std::unexpected(StorageError::kExists);
    auto hash = ContentHash::Start();
    if (!hash) return std::unexpected(StorageError::kIo);
    std::string dir = path.substr(0, path.rfind('/'));
    std::string temp = dir + "/" + std::string(kTempPrefix) + "XXXXXX";
    int fd = mkostemp(temp.data(), O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && type == "data") {
      // The first pack of its data/xx subfolder: made now (CreateRepo does not). Parallel
      // first writes race harmlessly, EEXIST is the other one's directory.
      if (mkdir(dir.c_str(), kDirMode) != 0 && errno != EEXIST)
        return std::unexpected(StorageErrorFromErrno(errno));
      temp = dir + "/" + std::string(kTempPrefix) + "XXXXXX";
      fd = mkostemp(temp.data(), O_CLOEXEC);
    }
    if (fd < 0) return std::unexpected(StorageErrorFromErrno(errno));
    // mkostemp makes 0600; objects are readable by the storage root's group (see storage.h).
    if (fchmod(fd, kFileMode) != 0) {
      int e = errno;
      close(fd);
      unlink(temp.c_str());
      return std::unexpected(StorageErrorFromErrno(e));
    }
    // Held for as long as the writer lives (the kernel drops it if the worker dies): the sweep
    // (backup/temp_sweeper.h) never removes a temporary file somebody still writes. A new file
    // nobody else knows, so the lock is granted at once.
    flock(fd, LOCK_EX | LOCK_NB);
    return std::make_unique<FileWriter>(dir, path, temp, fd, std::move(*hash), std::move(lock));
  }

  // Collects the repositories at and below `dir` (repository path `repo`, `depth` segments):
  // directories with a keys/ subdirectory whose path is a valid repository path. Symbolic links
  // are never followed. False when the account's directory cannot be read (a missing one holds
  // no repository).
  static bool FindRepos(const std::string& dir, const std::string& repo, int depth,
                        std::size_t limit, const std::function<bool(std::string_view)>& include,
                        std::vector<RepoUsage>& found) {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::directory_iterator it(dir, ec);
    if (ec) return depth > 0 || ec == std::errc::no_such_file_or_directory;
    std::vector<std::string> children;
    for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
      if (it->symlink_status(ec).type() != fs::file_type::directory) continue;
      std::string name = it->path().filename().string();
      if (name == "keys" && depth > 0) {
        if (IsRepoPath(repo) && found.size() < limit && include(repo)) {
          RepoUsage usage;
          usage.repo = repo;
          found.push_back(std::move(usage));
        }
        continue;
      }
      children.push_back(std::move(name));
    }
    std::sort(children.begin(), children.end());
    for (const std::string& name : children) {
      if (depth == 4 || IsObjectType(name) || found.size() >= limit) continue;
      FindRepos(dir + "/" + name, repo.empty() ? name : repo + "/" + name, depth + 1, limit,
                include, found);
    }
    return true;
  }

  // Adds up the regular files of `usage.repo` whose names are object names (temporary files of
  // uploads in progress are not objects yet).
  void Measure(AccountId owner, RepoUsage& usage) const {
    namespace fs = std::filesystem;
    std::string base = RepoDir(owner, usage.repo);
    struct stat st{};
    if (lstat((base + "/config").c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      usage.bytes += static_cast<std::uint64_t>(st.st_size);
      ++usage.objects;
    }
    auto count = [&](const std::string& dir, bool snapshots) {
      std::error_code ec;
      for (fs::directory_iterator it(dir, ec); !ec && it != fs::directory_iterator();
           it.increment(ec)) {
        std::string name = it->path().filename().string();
        if (!IsObjectName(name) || lstat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode))
          continue;
        usage.bytes += static_cast<std::uint64_t>(st.st_size);
        ++usage.objects;
        if (!snapshots) continue;
        ++usage.snapshots;
        usage.last_snapshot = std::max<std::int64_t>(usage.last_snapshot.value_or(0), st.st_mtime);
      }
    };
    for (auto type : kTypes) {
      std::string dir = base + "/" + std::string(type);
      if (type != "data") {
        count(dir, type == "snapshots");
        continue;
      }
      char sub[3];
      for (int i = 0; i < 256; ++i) {
        std::snprintf(sub, sizeof sub, "%02x", i);
        count(dir + "/" + sub, false);
      }
    }
  }

  // The account's directory is its id in decimal: digits only, so it can never collide with a
  // userid-named directory of an older layout (a userid always holds '@').
  std::string RepoDir(AccountId owner, std::string_view repo) const {
    return root_ + "/" + std::to_string(static_cast<std::int64_t>(owner)) + "/" + std::string(repo);
  }
  std::string ObjectPath(AccountId owner, std::string_view repo, std::string_view type,
                         std::string_view name) const {
    return RepoDir(owner, repo) + "/" + ObjectRelativePath(type, name);
  }
  // mkdir -p below the root (which must exist).
  bool MakeDirs(const std::string& path) {
    for (std::size_t pos = root_.size() + 1; pos <= path.size(); ++pos) {
      if (pos == path.size() || path[pos] == '/') {
        std::string part = path.substr(0, pos);
        if (mkdir(part.c_str(), kDirMode) != 0 && errno != EEXIST) return false;
      }
    }
    return true;
  }
  std::string root_;
};

}  // namespace

std::unique_ptr<Storage> MakeFilesystemStorage(std::string root) {
  return std::make_unique<FilesystemStorage>(std::move(root));
}

}  // namespace tessera::backup
