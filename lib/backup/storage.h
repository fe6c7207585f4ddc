// Where backup objects live, behind an interface so the protocol handler is testable: the
// filesystem backend below, and S3 (backup/s3_storage.h). Paths given here are already validated
// (backup/repo_path.h). Each account has its own namespace keyed on its immutable id (accounts.id,
// an identity column that is never reused), never on its name: a renamed account keeps its
// repositories, and an account created later under a deleted account's name starts empty. One
// account can never name another's objects.
//
// Writes are atomic: an ObjectWriter streams into a temporary file, verifies the SHA-256 the
// caller expects, flushes, and only then makes the object visible without ever replacing an
// existing one. A writer that is dropped without Commit() leaves nothing behind; a writer whose
// process dies leaves a temporary file that backup/temp_sweeper.h removes. Locks carry the grant
// that created them (backup/lock_records.h). Listings are walked one object at a time.
// Implementations are thread-safe; readers, writers and listers belong to one thread.
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/response.h"

namespace tessera::backup {

enum class StorageError {
  kNotFound,      // no such object (or repository)
  kExists,        // the object exists already: never overwritten
  kHashMismatch,  // the content does not hash to the name
  kNoSpace,       // disk full
  kQuota,         // the account's quota (backup/usage_ledger.h) has no room for it
  kIo,            // anything else the filesystem said
  kTooMany,       // the repository, or the creating grant, holds as many locks as it may
  kNotCreator,    // the lock was not recorded as created by the one removing it
  kUnavailable,   // a remote store did not answer (after retries): try again later
};

// The StorageError a filesystem errno means (kIo for anything unexpected). Thread-safe.
inline StorageError StorageErrorFromErrno(int e) {
  switch (e) {
    case ENOENT:
    case ENOTDIR:
      return StorageError::kNotFound;
    case EEXIST:
      return StorageError::kExists;
    case ENOSPC:
    case EDQUOT:
      return StorageError::kNoSpace;
    default:
      return StorageError::kIo;
  }
}

// The immutable id of the account that owns a repository (accounts.id, always > 0). A type of
// its own so that nobody passes a user name or a count where an owner is meant.
enum class AccountId : std::int64_t {};

// How many locks of one repository a single grant (by its jti) may hold at once. restic holds
// one per command and two for a moment while refreshing it; 8 leaves room for a few commands at
// once and for stale locks of killed runs (`restic unlock` removes them), while a repository's
// 256 locks take 32 different grants to fill.
inline constexpr std::size_t kMaxLocksPerCreator = 8;

struct ObjectInfo {
  std::string name;
  std::uint64_t size;
};

// Where an object lies on a local filesystem the web server can read (http/download_handoff.h):
// the absolute path, and the path below the storage root (no leading '/'). Both are built from
// validated names only.
struct LocalFile {
  std::string absolute;
  std::string relative;
};

// An open object: its size, and a source for a byte range of it.
class ObjectReader {
 public:
  virtual ~ObjectReader() = default;
  virtual std::uint64_t size() const = 0;
  // The object's file, when the backend keeps it in one (nullopt for a remote store).
  virtual std::optional<LocalFile> local_file() const { return std::nullopt; }
  // A short-lived URL that reads the object without credentials, when the backend is a remote
  // store that has them (a presigned GET); nullopt otherwise.
  virtual std::optional<std::string> remote_url() const { return std::nullopt; }
  // A body source for [offset, offset + length). The reader must outlive nothing: the source
  // keeps what it needs.
  virtual std::shared_ptr<http::BodySource> Range(std::uint64_t offset, std::uint64_t length) = 0;
};

class ObjectWriter {
 public:
  virtual ~ObjectWriter() = default;  // aborts when not committed
  virtual std::expected<void, StorageError> Write(const char* data, std::size_t size) = 0;
  // Verifies that the content's SHA-256 is `expected_sha256_hex` (when given), makes the data
  // durable and the object visible. kExists if it appeared meanwhile.
  virtual std::expected<void, StorageError> Commit(
      std::optional<std::string_view> expected_sha256_hex) = 0;
};

// The objects of one type in a repository, produced one at a time so that a listing of a million
// objects never sits in memory: an implementation holds at most one directory handle (or one page
// of a remote listing) and one entry. Order is the backend's. Not thread-safe: one reader.
class ObjectLister {
 public:
  virtual ~ObjectLister() = default;
  // The next object (its name is always a valid object name), nullopt at the end, or kIo.
  virtual std::expected<std::optional<ObjectInfo>, StorageError> Next() = 0;
};

// What one repository holds (GET /api2/json/repos).
struct RepoUsage {
  std::string repo;
  std::uint64_t bytes = 0;    // every object, the config and locks included
  std::uint64_t objects = 0;  // the same, counted
  std::uint64_t snapshots = 0;
  std::optional<std::int64_t> last_snapshot;  // Unix seconds when the newest snapshot was stored
};

class Storage {
 public:
  virtual ~Storage() = default;
  // Creates the repository's layout; succeeds when it exists already.
  virtual std::expected<void, StorageError> CreateRepo(AccountId owner, std::string_view repo) = 0;
  virtual bool RepoExists(AccountId owner, std::string_view repo) = 0;
  // `type` is "config" (with an empty name) or an object type.
  virtual std::expected<std::unique_ptr<ObjectReader>, StorageError> Open(
      AccountId owner, std::string_view repo, std::string_view type, std::string_view name) = 0;
  // `type` is never "locks" (kIo): locks are written with BeginLock. `size` is the length of the
  // content the writer will be given (a remote store announces it before the first byte).
  virtual std::expected<std::unique_ptr<ObjectWriter>, StorageError> BeginWrite(
      AccountId owner, std::string_view repo, std::string_view type, std::string_view name,
      std::uint64_t size) = 0;
  // Begins writing lock `name`, created by `creator` (the grant's jti). The creator is recorded
  // durably before the lock becomes visible, survives restarts, and is seen by every worker
  // sharing the storage. kTooMany when the repository holds `max_locks` locks already, or when
  // `creator` made kMaxLocksPerCreator of them already (so that no single grant, read-only ones
  // included, can take the capacity every other client of the repository needs); both checked
  // now and again, exactly, when the writer commits.
  virtual std::expected<std::unique_ptr<ObjectWriter>, StorageError> BeginLock(
      AccountId owner, std::string_view repo, std::string_view name, std::uint64_t size,
      std::string_view creator, std::size_t max_locks) = 0;
  // Removes lock `name` and its record. With `only_creator`, only a lock recorded as created by
  // it (kNotCreator otherwise, also for a lock without a record). Succeeds when it is gone.
  virtual std::expected<void, StorageError> RemoveLock(
      AccountId owner, std::string_view repo, std::string_view name,
      std::optional<std::string_view> only_creator) = 0;
  // A walk over the objects of one type (every data/xx subfolder for data), one at a time;
  // kNotFound when the repository does not exist.
  virtual std::expected<std::unique_ptr<ObjectLister>, StorageError> List(
      AccountId owner, std::string_view repo, std::string_view type) = 0;
  // The repositories of `owner` that `include` accepts, in path order, at most `limit`, and what
  // each holds. Visits every object of them: for an overview, not for a hot path.
  virtual std::expected<std::vector<RepoUsage>, StorageError> Usage(
      AccountId owner, std::size_t limit,
      const std::function<bool(std::string_view repo)>& include) = 0;
  // Succeeds when the object is already gone (clients retry). Returns the size of the object
  // this call removed, nullopt when there was none (or when it was a lock: for "locks",
  // RemoveLock(nullopt)), so that a removal is taken off the account's usage once.
  virtual std::expected<std::optional<std::uint64_t>, StorageError> Remove(
      AccountId owner, std::string_view repo, std::string_view type, std::string_view name) = 0;
};

// The filesystem backend: <root>/<account
// id>/<repo>/{config,data/00..ff/,keys/,locks/,snapshots/,index/}, the account id in decimal
// ("<root>/42/laptop/"). An owner id <= 0 names nothing (kNotFound). A relative root is taken
// from the current directory at construction. CreateRepo makes the repository's directory and
// its five type directories only; each data/xx subfolder is made by the first write into it
// (repositories made by older releases have all 256 already: both read the same).
//
// Directories are made 0750 (the process umask may take more away) and objects 0640 (set with
// fchmod, whatever the umask), so that the storage root's group decides who else reads objects:
// the web server's group, with the setgid bit on the root so that everything below inherits it,
// when the web server serves downloads itself (http/download_handoff.h); a root of mode 0700
// keeps everyone else out.
std::unique_ptr<Storage> MakeFilesystemStorage(std::string root);

}  // namespace tessera::backup
