// Removes what crashed uploads leave behind in the filesystem storage (DESIGN.md, "Downloads" ...
// "Temporary files left by a crash are swept at start-up and by age").
//
// An upload streams into `.tmp-XXXXXX` next to its final name and is renamed into place when
// verified; a worker killed mid-upload leaves that file forever (listings never show it). The
// sweep walks the storage tree (bounded depth, never following symlinks) and removes a
// temporary file only when both hold:
//   * it is older than `max_age` (its mtime, which every write moves), and
//   * no process holds it: every writer keeps an exclusive flock(2) on its temporary file for as
//     long as it writes, and the kernel drops it when the writer dies (kill -9 included). The
//     sweep takes the same lock without waiting and skips the file when it cannot.
// So several workers, on one machine or on several sharing the directory (NFS forwards flock as
// a POSIX lock), never remove each other's live uploads, whoever sweeps. The age test alone
// covers the moment between a writer creating its file and locking it: writers call mkostemp(3)
// and then flock(2), two calls, so the lock is not taken atomically at creation.
//
// At start-up the age needed is only kStartupGrace, not max_age: whatever no process holds and
// was created before that is debris of a dead writer (README: "removed at start-up"), however
// young. The grace is far longer than the create-to-lock gap and than the clock skew between
// hosts sharing the storage (the mtime comes from the file server's clock); a file the sweep
// took too early would only fail its upload (the rename finds nothing), never lose data.
//
// Lock creator records (`locks/.creator-<name>`) whose lock is gone (a crash between removing a
// lock and its record) are removed by the same rule, under the repository's lock mutex.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "clock/clock.h"

namespace tessera::backup {

// The age a temporary file nobody holds must reach before the start-up sweep removes it.
inline constexpr std::chrono::seconds kStartupGrace{60};

struct SweepStats {
  std::uint64_t removed = 0;       // temporary files and orphaned lock records removed
  std::uint64_t skipped_live = 0;  // old enough, but a live writer holds them
  std::uint64_t errors = 0;        // directories or files that could not be read or removed
};

// One pass over `root` (the storage_dir). Never throws; errors are counted and the walk goes on.
// It ends early once `*stop` is true (checked at every directory entry). Thread-safe (it touches
// only the filesystem), and safe to run in several processes at once.
SweepStats SweepTemporaryFiles(const std::string& root, std::chrono::seconds max_age,
                               const clock::Clock& clock, const std::atomic<bool>* stop = nullptr);

// Runs SweepTemporaryFiles on a thread of its own. First the start-up sweep, with the age
// min(startup_grace, max_age): at once, and again once that age has passed, so that the debris of
// a worker killed just before this one started (too young at first) goes then, not max_age later.
// Then every `interval` with max_age. The destructor stops and joins the thread, cutting a sweep
// in progress short (a large storage does not hold up SIGTERM). Not copyable.
class TempSweeper {
 public:
  TempSweeper(std::string root, std::chrono::seconds max_age, std::chrono::seconds interval,
              const clock::Clock& clock, std::chrono::seconds startup_grace = kStartupGrace);
  ~TempSweeper();
  TempSweeper(const TempSweeper&) = delete;
  TempSweeper& operator=(const TempSweeper&) = delete;

 private:
  void Run();

  std::string root_;
  std::chrono::seconds max_age_, interval_, startup_grace_;
  const clock::Clock& clock_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace tessera::backup
