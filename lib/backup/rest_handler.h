// The restic REST protocol (v1 and v2) behind bearer tokens: DESIGN.md, "Backup API", and
// restic's REST backend protocol (doc/REST_backend.rst) for what clients send and expect.
//
// Order of checks: the request authenticates as a token principal (auth/authenticator.h; else
// 401 with WWW-Authenticate, or 503 when the session state is unavailable), path well-formed
// (404), the principal's repository scope (403), its rights for the method (403): read for
// HEAD/GET, write for POST, delete for DELETE — except locks, because restic writes one for
// every command, restore and check included: any token with read or write
// may create a lock (at most kMaxLockBytes, at most kMaxLocksPerRepo per repository: 413, 429)
// and remove a lock it created (its grant's jti is recorded with the lock, see
// backup/lock_records.h); removing another token's lock needs delete (403), so a read-only or
// append-only token can never break a running prune's exclusive lock.
// Uploads reserve their length in the account's quota before their body is read (507 when it
// has no room; locks and index files with a grace, backup/usage_ledger.h); removals give the
// room back, once per object. Creating a repository counts toward the account's repository cap
// (backup/repo_book.h): past it 403, naming the cap; creating an existing one always succeeds.
// Objects live under the grant's immutable account id (never the account's name), so no URL can
// reach another account's data, a renamed account keeps its own and a re-created name inherits
// nothing.
// Thread-safe: shared by all worker threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "auth/authenticator.h"
#include "backup/repo_book.h"
#include "backup/repo_path.h"
#include "backup/storage.h"
#include "backup/usage_ledger.h"
#include "http/request.h"
#include "http/response.h"

namespace tessera::backup {

// restic's lock files are encrypted JSON (time, hostname, username, pid, uid, gid, exclusive)
// well under 1 KiB; 64 KiB leaves room for long host and user names and any future field while
// 256 of them per repository still cost at most 16 MiB of disk.
inline constexpr std::uint64_t kMaxLockBytes = 64 * 1024;
// restic holds one lock per running command (plus one briefly while it refreshes); 256 covers
// hundreds of concurrent clients on one repository.
inline constexpr std::size_t kMaxLocksPerRepo = 256;

class RestHandler {
 public:
  // `storage`, `authenticator`, `usage` and `repos` must outlive the handler.
  RestHandler(Storage& storage, const auth::Authenticator& authenticator, UsageLedger& usage,
              RepoBook& repos, std::uint64_t max_object_bytes);

  // `rest` is the decoded path after "/backup/".
  http::Response Handle(http::Request& request, std::string_view rest) const;

 private:
  // The routes, once the principal is known and its scope covers the target's repository.
  http::Response CreateRepo(const http::Request& request, const auth::Principal& who,
                            const Target& target) const;
  http::Response Config(http::Request& request, const auth::Principal& who,
                        const Target& target) const;
  http::Response List(const http::Request& request, const auth::Principal& who,
                      const Target& target) const;
  http::Response Object(http::Request& request, const auth::Principal& who,
                        const Target& target) const;
  // `creator` (the token's jti) is recorded with a lock.
  http::Response Upload(http::Request& request, AccountId owner, std::string_view repo,
                        std::string_view type, std::string_view name,
                        std::string_view creator) const;
  // An upload whose object exists already: 200 when the body hashes to `name` (the same bytes:
  // a retry converges), 403 when it does not.
  http::Response UploadExisting(http::Request& request, std::uint64_t length,
                                std::string_view name) const;
  http::Response Download(const http::Request& request, AccountId owner, std::string_view repo,
                          std::string_view type, std::string_view name) const;
  http::Response ListObjects(const http::Request& request, AccountId owner, std::string_view repo,
                             std::string_view type) const;

  Storage& storage_;
  UsageLedger& usage_;
  RepoBook& repos_;
  const auth::Authenticator& authenticator_;
  std::uint64_t max_object_bytes_;
};

}  // namespace tessera::backup
