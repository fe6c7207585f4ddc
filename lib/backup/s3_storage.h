// The S3 storage backend (issue 12): backup objects in one bucket of an S3-compatible store,
// under the prefix of `storage = s3://bucket/prefix`, keyed on the account's immutable id like
// the filesystem backend, in restic's own S3 layout below it:
//
//   <prefix>/<account id>/<repo>/config
//   <prefix>/<account id>/<repo>/data/<first two hex digits of name>/<name>
//   <prefix>/<account id>/<repo>/{keys,locks,snapshots,index}/<name>
//   <prefix>/<account id>/<repo>/keys/.tessera-repo    empty; made by CreateRepo, marks the repo
//
// Nothing about a repository lives in a worker: every worker sharing the bucket (and the
// database) sees the same repositories, locks and lock creators, so restic may back up through
// one worker and restore through another.
//
// * Writes are verified before they become visible. The PUT announces the object's name as its
//   payload hash (x-amz-content-sha256), so the store refuses a body that does not hash to it;
//   and the writer holds back the last piece it was given until Commit has checked the SHA-256
//   itself, so a mismatched or interrupted body never completes a PUT (the store drops a PUT cut
//   short). Objects are written once (If-None-Match: *; kExists when the key is taken). Memory
//   stays bounded: the body streams through as it arrives, one piece held back.
// * Locks are held whole (at most a few KiB) and written at Commit, with their creator in the
//   object's metadata (x-amz-meta-creator), so any worker can tell who may remove them. The
//   caps are counted by listing the repository's locks/ (and, once a grant could have reached
//   its cap, reading the creators): unlike the filesystem's mutex, workers racing to commit at
//   the same moment can each see room for one more and exceed a cap by those few.
// * Listings hold one page (up to 1000 keys) at a time. Usage walks the account's prefixes with
//   a delimiter to find repositories (a keys/ below a valid path), then lists each one whole.
// * A store that stays down after the client's retries is kUnavailable (503 to the client).
//
// Thread-safe; readers, writers and listers belong to one thread.
#pragma once

#include <memory>
#include <string>

#include "backup/s3_client.h"
#include "backup/storage.h"
#include "clock/clock.h"

namespace tessera::backup {

// `prefix` is a validated S3Location prefix (may be empty). `clock` dates the presigned download
// URLs and must outlive the storage.
std::unique_ptr<Storage> MakeS3Storage(std::shared_ptr<const S3Client> client, std::string prefix,
                                       const clock::Clock& clock);

}  // namespace tessera::backup
