#include "backup/temp_sweeper.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <memory>

#include "backup/lock_records.h"
#include "backup/repo_path.h"
#include "backup/unique_fd.h"
#include "log/log.h"

namespace tessera::backup {
namespace {

// <root>/<account>/<repo: up to 4 levels>/data/<xx>/ is 7 levels below the root; one to spare.
constexpr int kMaxDepth = 8;

struct Sweep {
  std::int64_t cutoff;  // files last modified before this (Unix seconds) are old enough
  const std::atomic<bool>* stop;
  SweepStats stats;

  bool Old(const struct stat& st) const { return st.st_mtim.tv_sec < cutoff; }

  // A temporary file: removed when old and nobody holds its flock.
  void Temp(int dfd, const char* name) {
    struct stat st{};
    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode) || !Old(st))
      return;
    UniqueFd fd(openat(dfd, name, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    if (!fd.valid()) {
      if (errno != ENOENT) ++stats.errors;
      return;
    }
    if (flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
      if (errno == EWOULDBLOCK)
        ++stats.skipped_live;
      else
        ++stats.errors;
      return;
    }
    // Still the file we locked (not replaced meanwhile by another sweeper's removal and a new
    // upload, which would be young and locked anyway)?
    struct stat now{}, held{};
    if (fstat(fd.get(), &held) != 0 || fstatat(dfd, name, &now, AT_SYMLINK_NOFOLLOW) != 0 ||
        now.st_ino != held.st_ino || now.st_dev != held.st_dev) {
      return;
    }
    if (unlinkat(dfd, name, 0) == 0)
      ++stats.removed;
    else if (errno != ENOENT)
      ++stats.errors;
  }

  // A lock creator record whose lock is gone: removed when old, under the locks mutex.
  void Record(int dfd, const std::string& dir, std::string_view name) {
    std::string_view lock = name.substr(kCreatorPrefix.size());
    if (!IsObjectName(lock)) return;
    std::string lock_name(lock);
    struct stat st{};
    if (fstatat(dfd, name.data(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !Old(st)) return;
    if (fstatat(dfd, lock_name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) return;  // its lock lives
    auto mutex = LocksMutex::Acquire(dir);
    if (!mutex) {
      ++stats.errors;
      return;
    }
    if (fstatat(dfd, lock_name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) return;  // made meanwhile
    if (unlinkat(dfd, name.data(), 0) == 0)
      ++stats.removed;
    else if (errno != ENOENT)
      ++stats.errors;
  }

  void Walk(int dfd, const std::string& path, int depth) {
    std::unique_ptr<DIR, int (*)(DIR*)> dir(fdopendir(dfd), closedir);
    if (!dir) {
      close(dfd);
      ++stats.errors;
      return;
    }
    int fd = dirfd(dir.get());
    while (stop == nullptr || !stop->load(std::memory_order_relaxed)) {
      errno = 0;
      dirent* e = readdir(dir.get());
      if (e == nullptr) {
        if (errno != 0) ++stats.errors;
        return;
      }
      std::string_view name = e->d_name;
      // Objects are most of what there is: nothing to do with them, not even a stat.
      if (name == "." || name == ".." || IsObjectName(name)) continue;
      if (name.starts_with(kTempPrefix)) {
        Temp(fd, e->d_name);
        continue;
      }
      if (name.starts_with(kCreatorPrefix)) {
        Record(fd, path, name);
        continue;
      }
      if (name.front() == '.') continue;  // .mutex and whatever else is not ours to judge
      bool is_dir = e->d_type == DT_DIR;
      if (e->d_type == DT_UNKNOWN) {
        struct stat st{};
        is_dir = fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
      }
      if (!is_dir || depth >= kMaxDepth) continue;
      int child = openat(fd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (child < 0) {
        if (errno != ENOENT) ++stats.errors;
        continue;
      }
      Walk(child, path + "/" + std::string(name), depth + 1);
    }
  }
};

}  // namespace

SweepStats SweepTemporaryFiles(const std::string& root, std::chrono::seconds max_age,
                               const clock::Clock& clock, const std::atomic<bool>* stop) {
  Sweep sweep{clock.Now() - max_age.count(), stop, {}};
  int fd = open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    ++sweep.stats.errors;
    return sweep.stats;
  }
  sweep.Walk(fd, root, 0);
  return sweep.stats;
}

TempSweeper::TempSweeper(std::string root, std::chrono::seconds max_age,
                         std::chrono::seconds interval, const clock::Clock& clock,
                         std::chrono::seconds startup_grace)
    : root_(std::move(root)),
      max_age_(max_age),
      interval_(interval),
      startup_grace_(startup_grace),
      clock_(clock) {
  // The thread's fence: an exception (a bug, or memory running out) must not terminate the
  // worker; sweeping is housekeeping, so it is logged and sweeping stops.
  thread_ = std::thread([this] {
    try {
      Run();
    } catch (const std::exception& e) {
      log::Error(std::string("temporary-file sweeper stopped: ") + e.what());
    } catch (...) {
      log::Error("temporary-file sweeper stopped");
    }
  });
}

TempSweeper::~TempSweeper() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_.store(true);
  }
  wake_.notify_all();
  thread_.join();
}

void TempSweeper::Run() {
  // Passes 0 and 1 are the start-up sweep. Pass 1 comes a second after the start-up age has
  // passed (mtimes are compared in whole seconds), when everything written before we started is
  // old enough.
  const std::chrono::seconds startup_age = std::min(startup_grace_, max_age_);
  std::unique_lock<std::mutex> lock(mutex_);
  for (int pass = 0; !stopping_.load(); pass = std::min(pass + 1, 2)) {
    lock.unlock();
    SweepStats stats =
        SweepTemporaryFiles(root_, pass < 2 ? startup_age : max_age_, clock_, &stopping_);
    if (stats.removed > 0 || stats.errors > 0) {
      log::Info("storage sweep: removed " + std::to_string(stats.removed) +
                " stale temporary files, " + std::to_string(stats.skipped_live) +
                " still being written, " + std::to_string(stats.errors) + " errors");
    }
    lock.lock();
    std::chrono::seconds wait = pass == 0 ? startup_age + std::chrono::seconds(1) : interval_;
    wake_.wait_for(lock, wait, [this] { return stopping_.load(); });
  }
}

}  // namespace tessera::backup
