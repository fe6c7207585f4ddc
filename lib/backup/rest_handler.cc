#include "backup/rest_handler.h"

#include <string>
#include <variant>
#include <vector>

#include "backup/content_hash.h"
#include "backup/listing.h"
#include "backup/range.h"
#include "backup/repo_path.h"
#include "http/params.h"
#include "metrics/metrics.h"

namespace tessera::backup {
namespace {

using http::Method;
using http::Response;

Response Error(int status, std::string_view message) { return http::JsonError(status, message); }

// restic speaks basic auth only: the challenge makes it send its credentials.
constexpr std::string_view kChallenge = "Basic realm=\"tessera\"";

Response Forbidden() { return Error(403, "token lacks the permission"); }

Response NotAllowed(std::string allow) {
  Response r = Error(405, "method not allowed");
  r.AddHeader("Allow", std::move(allow));
  return r;
}

Response FromStorage(StorageError e) {
  switch (e) {
    case StorageError::kNotFound:
      return Error(404, "not found");
    case StorageError::kExists:
      return Error(403, "object exists and is never overwritten");
    case StorageError::kHashMismatch:
      return Error(400, "content does not match its name (SHA-256)");
    case StorageError::kNoSpace:
      return Error(507, "insufficient storage");
    case StorageError::kQuota:
      // restic reports the answer and stops; deleting (forget --prune) makes room again.
      return Error(507, "the account's storage quota has no room for this object");
    case StorageError::kTooMany: {
      // Clears as soon as a lock is removed; restic retries.
      Response r = Error(429, "too many locks in this repository, or held by this token");
      r.AddHeader("Retry-After", "30");
      return r;
    }
    case StorageError::kNotCreator:
      return Error(
          403, "the lock was created by another token; removing it needs the delete permission");
    case StorageError::kUnavailable: {
      // The store is down or overloaded (after the worker's own retries); restic retries.
      Response r = Error(503, "storage unavailable, try again later");
      r.AddHeader("Retry-After", "10");
      return r;
    }
    case StorageError::kIo:
      break;
  }
  return Error(500, "storage error");
}

// A creation the repository books refused. Past the cap: 403, not 507 or 429, because nothing
// the client can do clears it (the REST protocol cannot remove a repository, and freeing bytes
// does not help): only an administrator raising the cap does, so retrying would only delay the
// message. restic 0.14 prints the status line of a refused creation and not the body, so the
// reason phrase carries the cap too.
Response FromRepoBook(const RepoRefused& refused) {
  switch (refused.why) {
    case RepoRefusal::kFull: {
      std::string cap = std::to_string(refused.cap);
      Response r = Error(403, "the account has reached its limit of " + cap +
                                  " repositories; an administrator can raise it");
      r.reason = "Forbidden: repository limit of " + cap + " reached";
      return r;
    }
    case RepoRefusal::kNoAccount:
      return Error(403, "token lacks the permission");
    case RepoRefusal::kUnavailable:
      break;
  }
  Response r = Error(503, "database unavailable, try again later");
  r.AddHeader("Retry-After", "10");
  return r;
}

constexpr std::size_t kUploadChunkBytes = 256 * 1024;

// An upload whose body did not arrive whole; `refused` is the storage's error for kSinkFailed.
Response FromBody(http::BodyError e, std::optional<StorageError> refused) {
  switch (e) {
    case http::BodyError::kSinkFailed:
      return FromStorage(refused.value_or(StorageError::kIo));
    case http::BodyError::kInterrupted:
      return Error(400, "upload interrupted");
    // The cap is the Content-Length itself (checked against the size limits before), so a body
    // over it is one longer than it said.
    case http::BodyError::kTooLarge:
    case http::BodyError::kLonger:
      return Error(400, "body longer than Content-Length");
    case http::BodyError::kShorter:
      return Error(400, "body shorter than Content-Length");
  }
  return Error(500, "storage error");
}

Response Ok() {
  Response r;
  r.status = 200;
  return r;
}

// Behind nginx, objects smaller than this are sent by the worker: reading a few KiB it has open
// already costs less than nginx's internal redirect, its own open and the second pass through its
// phases (measured by tests/bench/data-path on restic's config, keys, locks and snapshots). Not
// behind Apache: mod_proxy_fcgi drops the worker's Content-Length (the answer goes chunked) and
// restic refuses a body without one, so X-Sendfile takes every object there.
constexpr std::uint64_t kStreamBelowBytes = 64 * 1024;

// The answer that lets the web server send `object` itself (http/download_handoff.h), or nullopt
// when it cannot (no handoff declared, or the object is not a local file). The web server
// answers Range and HEAD on its own, exactly as for a static file.
std::optional<Response> HandOff(const http::Request& request, const ObjectReader& object) {
  const http::DownloadHandoff& handoff = request.handoff;
  if (handoff.kind == http::HandoffKind::kNone) return std::nullopt;
  if (handoff.kind == http::HandoffKind::kAccelRedirect && object.size() < kStreamBelowBytes)
    return std::nullopt;
  Response r;
  auto file = object.local_file();
  if (!file) {
    // A remote object, fetched by nginx from a presigned URL: for GET only, since the URL is
    // signed for GET (the store answers Range itself). A HEAD is answered by the worker.
    if (handoff.remote_location.empty() || request.method != Method::kGet) return std::nullopt;
    auto url = object.remote_url();
    if (!url) return std::nullopt;
    r.AddHeader("X-Accel-Redirect", handoff.remote_location);
    r.AddHeader(std::string(http::kRemoteUrlHeader), std::move(*url));
    return r;
  }
  r.AddHeader("Content-Type", "application/octet-stream");
  if (handoff.kind == http::HandoffKind::kAccelRedirect) {
    // The relative path holds only repository-grammar bytes, types and hex names: nothing a URI
    // needs escaped, no '.' or '..' segment, so nginx maps it below the location's alias as is.
    r.AddHeader("X-Accel-Redirect", handoff.location + file->relative);
  } else {
    r.AddHeader("X-Sendfile", file->absolute);
  }
  return r;
}

bool IsReading(Method m) { return m == Method::kGet || m == Method::kHead; }

// The access log's route: the object type (one of a fixed few) is kept, names are not.
std::string AccessRoute(const Target& target) {
  switch (target.kind) {
    case Kind::kRepo:
      return "/backup/{repo}/";
    case Kind::kConfig:
      return "/backup/{repo}/config";
    case Kind::kList:
      return "/backup/{repo}/" + std::string(target.type) + "/";
    case Kind::kObject:
      return "/backup/{repo}/" + std::string(target.type) + "/{name}";
  }
  return "/backup/{rest*}";
}

// tessera_blob_* (metrics/metrics.h), counted on success only, labelled with the authenticated
// account's userid (the access note's, which the authenticator wrote before any handler ran).
void CountBlob(metrics::BlobOp op, const http::Request& request, std::string_view repo,
               std::string_view type, std::uint64_t bytes) {
  metrics::CountBlob(op, request.access.account, repo, type, bytes);
}

// Storage is keyed on the account's immutable id from the grant row (accounts.id), never on the
// subject's name: a renamed account keeps its data, a re-created name starts empty.
AccountId Owner(const auth::Principal& who) { return AccountId{who.account_id()}; }

}  // namespace

RestHandler::RestHandler(Storage& storage, const auth::Authenticator& authenticator,
                         UsageLedger& usage, RepoBook& repos, std::uint64_t max_object_bytes)
    : storage_(storage),
      usage_(usage),
      repos_(repos),
      authenticator_(authenticator),
      max_object_bytes_(max_object_bytes) {}

Response RestHandler::Handle(http::Request& request, std::string_view rest) const {
  auto principal = authenticator_.Authenticate(request, auth::Credential::kToken);
  if (!principal)
    return http::AuthenticationRefused(auth::HttpStatus(principal.error()), kChallenge);
  auto target = ParseTarget(rest);
  if (!target) return Error(404, "no such resource");
  request.access.route = AccessRoute(*target);
  // ParseTarget's repository satisfies the path grammar, so a scope (grant row's or token's) that
  // does not reaches nothing: Covers compares exactly.
  if (!principal->Covers(target->repo)) return Error(403, "token is not valid for this repository");
  switch (target->kind) {
    case Kind::kRepo:
      return CreateRepo(request, *principal, *target);
    case Kind::kConfig:
      return Config(request, *principal, *target);
    case Kind::kList:
      return List(request, *principal, *target);
    case Kind::kObject:
      return Object(request, *principal, *target);
  }
  return Error(404, "no such resource");
}

Response RestHandler::CreateRepo(const http::Request& request, const auth::Principal& who,
                                 const Target& target) const {
  if (request.method != Method::kPost) return NotAllowed("POST");
  auto query = http::ParseForm(request.query);
  if (!query || !query->contains("create") || query->at("create") != "true") {
    return Error(400, "POST to a repository needs ?create=true");
  }
  if (!who.rights().write) return Forbidden();
  auto made = repos_.Create(storage_, Owner(who), target.repo);
  if (!made) {
    if (auto* e = std::get_if<StorageError>(&made.error())) return FromStorage(*e);
    return FromRepoBook(std::get<RepoRefused>(made.error()));
  }
  return Ok();
}

Response RestHandler::Config(http::Request& request, const auth::Principal& who,
                             const Target& target) const {
  if (IsReading(request.method)) {
    if (!who.rights().read) return Forbidden();
    return Download(request, Owner(who), target.repo, "config", "");
  }
  if (request.method == Method::kPost) {
    if (!who.rights().write) return Forbidden();
    return Upload(request, Owner(who), target.repo, "config", "", "");
  }
  return NotAllowed("GET, HEAD, POST");
}

Response RestHandler::List(const http::Request& request, const auth::Principal& who,
                           const Target& target) const {
  if (!IsReading(request.method)) return NotAllowed("GET, HEAD");
  if (!who.rights().read) return Forbidden();
  return ListObjects(request, Owner(who), target.repo, target.type);
}

Response RestHandler::Object(http::Request& request, const auth::Principal& who,
                             const Target& target) const {
  const auth::Permissions& may = who.rights();
  bool lock = target.type == "locks";
  if (IsReading(request.method)) {
    if (!may.read) return Forbidden();
    return Download(request, Owner(who), target.repo, target.type, target.name);
  }
  if (request.method == Method::kPost) {
    // restic writes a lock for every command, restore and check included.
    if (!(may.write || (lock && may.read))) return Forbidden();
    return Upload(request, Owner(who), target.repo, target.type, target.name, who.grant_id());
  }
  if (request.method != Method::kDelete) return NotAllowed("GET, HEAD, POST, DELETE");
  // restic removes the locks it made with any token; another token's lock (a running prune's
  // exclusive lock) only goes with the delete right.
  if (lock ? !(may.read || may.write || may.del) : !may.del) return Forbidden();
  // Only the request holding the removal's claim removes the object and counts it, so the
  // usage always equals what the storage holds. Another request holding it is removing the same
  // object right now (restic's own retry of a DELETE whose answer it did not get): this one is
  // answered 503, and restic's retry then finds the object gone and gets 200. Without the
  // database nothing is removed: it would not be counted.
  auto claim = usage_.ClaimRemoval(Owner(who), target.repo, target.type, target.name);
  if (!claim) {
    Response r = claim.error() == ClaimRefusal::kHeld
                     ? Error(503, "another request is removing this object; try again")
                     : Error(503, "storage unavailable, try again later");
    r.AddHeader("Retry-After", "1");
    return r;
  }
  std::optional<std::uint64_t> removed;
  if (lock) {
    std::optional<std::string_view> only_creator;
    if (!may.del) only_creator = who.grant_id();
    // RemoveLock succeeds also when the lock is gone already: its size is read first (under
    // the claim nobody else removes it meanwhile).
    auto doomed = storage_.Open(Owner(who), target.repo, "locks", target.name);
    auto gone = storage_.RemoveLock(Owner(who), target.repo, target.name, only_creator);
    if (!gone) return FromStorage(gone.error());
    if (doomed) removed = (*doomed)->size();
  } else {
    auto gone = storage_.Remove(Owner(who), target.repo, target.type, target.name);
    if (!gone) return FromStorage(gone.error());
    removed = *gone;
  }
  // An object that was gone already was not removed by this request: neither counted nor taken
  // off the usage (the claim's destructor ends it).
  if (removed) {
    CountBlob(metrics::BlobOp::kDelete, request, target.repo, target.type, *removed);
    claim->Removed(*removed);
    if (target.type == "snapshots") repos_.SnapshotRemoved(Owner(who), target.repo);
  }
  return Ok();
}

Response RestHandler::Download(const http::Request& request, AccountId owner, std::string_view repo,
                               std::string_view type, std::string_view name) const {
  auto object = storage_.Open(owner, repo, type, name);
  if (!object) return FromStorage(object.error());
  std::uint64_t size = (*object)->size();
  auto resolved = ResolveRange(request.Header("range").value_or(""), size);
  // A GET reads the bytes its answer carries; the web server answers a handed-off Range the same
  // way (one range, else the whole object; 416 is not a read). A HEAD reads nothing.
  if (resolved && request.method == Method::kGet)
    CountBlob(metrics::BlobOp::kRead, request, repo, type, resolved->bytes.length);
  if (auto handed = HandOff(request, **object)) return std::move(*handed);
  if (!resolved) {
    Response bad = Error(416, "range not satisfiable");
    bad.AddHeader("Content-Range", "bytes */" + std::to_string(size));
    return bad;
  }
  const ByteRange& range = resolved->bytes;
  Response r;
  r.AddHeader("Content-Type", "application/octet-stream");
  r.AddHeader("Accept-Ranges", "bytes");
  if (resolved->partial) {
    r.status = 206;
    r.AddHeader("Content-Range", "bytes " + std::to_string(range.offset) + "-" +
                                     std::to_string(range.offset + range.length - 1) + "/" +
                                     std::to_string(size));
  }
  r.stream = (*object)->Range(range.offset, range.length);
  r.stream_length = range.length;
  return r;
}

Response RestHandler::Upload(http::Request& request, AccountId owner, std::string_view repo,
                             std::string_view type, std::string_view name,
                             std::string_view creator) const {
  if (!request.content_length) return Error(411, "Content-Length required");
  std::uint64_t length = *request.content_length;
  bool lock = type == "locks";
  if (length > (lock ? kMaxLockBytes : max_object_bytes_)) {
    return Error(413, lock ? "lock file too large" : "object too large");
  }
  auto writer = lock ? storage_.BeginLock(owner, repo, name, length, creator, kMaxLocksPerRepo)
                     : storage_.BeginWrite(owner, repo, type, name, length);
  // A retry of an upload that was stored but not answered (the worker died, the answer was
  // lost): the same bytes under a content-addressed name converge to 200, counted once.
  if (!writer && writer.error() == StorageError::kExists && type != "config")
    return UploadExisting(request, length, name);
  if (!writer) return FromStorage(writer.error());
  // Before a byte of the body is read: a full account stores nothing of it.
  auto room = usage_.Reserve(owner, repo, type, name, length);
  if (!room) return FromStorage(room.error());
  std::optional<StorageError> refused;
  auto written = http::StreamBody(
      request, length,
      [&](std::span<const char> chunk) {
        if (!room->KeepAlive()) {
          refused = StorageError::kUnavailable;
          return false;
        }
        auto w = (*writer)->Write(chunk.data(), chunk.size());
        if (!w) refused = w.error();
        return w.has_value();
      },
      kUploadChunkBytes);
  // On any failure the writer's destructor drops the temporary file, and the reservation's
  // destructor gives the room back.
  if (!written) return FromBody(written.error(), refused);
  std::optional<std::string_view> expected;
  if (type != "config") expected = name;
  if (auto marked = room->Storing(); !marked) return FromStorage(marked.error());
  if (auto done = (*writer)->Commit(expected); !done) {
    // Commit checks the hash first: kExists with a name means the same bytes are stored (a
    // parallel retry won); they are counted there, this reservation is given back.
    if (done.error() == StorageError::kExists && expected) return Ok();
    // Other bytes under the name of an object that exists (a store that checks existence only
    // when it commits, S3): never overwritten, as when it was found at the start.
    if (done.error() == StorageError::kHashMismatch &&
        storage_.Open(owner, repo, type, name).has_value())
      return FromStorage(StorageError::kExists);
    return FromStorage(done.error());
  }
  room->Commit();
  if (type == "snapshots") repos_.SnapshotStored(owner, repo);
  CountBlob(metrics::BlobOp::kWrite, request, repo, type, length);
  return Ok();
}

Response RestHandler::UploadExisting(http::Request& request, std::uint64_t length,
                                     std::string_view name) const {
  // The body is read and hashed only: nothing is stored or reserved, the object is counted
  // already. Different bytes under the name are refused as before: never overwritten.
  auto hash = ContentHash::Start();
  if (!hash) return FromStorage(StorageError::kIo);
  auto read = http::StreamBody(
      request, length,
      [&](std::span<const char> chunk) {
        hash->Update(chunk.data(), chunk.size());
        return true;
      },
      kUploadChunkBytes);
  if (!read) return FromBody(read.error(), std::nullopt);
  if (hash->FinalHex() != name) return FromStorage(StorageError::kExists);
  return Ok();
}

Response RestHandler::ListObjects(const http::Request& request, AccountId owner,
                                  std::string_view repo, std::string_view type) const {
  auto lister = storage_.List(owner, repo, type);
  if (!lister) return FromStorage(lister.error());
  // restic 0.14 sends the v2 media type without "+json"; the written spec has it. Accept both.
  std::string_view accept = request.Header("accept").value_or("");
  bool v2 = accept.find("application/vnd.x.restic.rest.v2") != std::string_view::npos;
  Response r;
  r.AddHeader("Content-Type",
              v2 ? "application/vnd.x.restic.rest.v2" : "application/vnd.x.restic.rest.v1");
  // Streamed as it is read, without Content-Length: memory stays flat whatever the repository
  // holds.
  r.stream =
      std::make_shared<ListingSource>(std::move(*lister), v2 ? ListFormat::kV2 : ListFormat::kV1);
  return r;
}

}  // namespace tessera::backup
