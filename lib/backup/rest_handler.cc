#include "backup/rest_handler.h"

#include <vector>

#include "auth/bearer.h"
#include "names/userid.h"
#include "backup/listing.h"
#include "backup/range.h"
#include "backup/repo_path.h"
#include "http/params.h"
#include "log/log.h"

namespace tessera::backup {
namespace {

using http::Method;
using http::Response;

Response Error(int status, std::string_view message) { return http::JsonError(status, message); }

Response Unauthorized() {
  Response r = Error(401, "authentication failure");
  r.AddHeader("WWW-Authenticate", "Basic realm=\"tessera\"");
  return r;
}

Response NotAllowed(std::string allow) {
  Response r = Error(405, "method not allowed");
  r.AddHeader("Allow", std::move(allow));
  return r;
}

Response FromStorage(StorageError e) {
  switch (e) {
    case StorageError::kNotFound: return Error(404, "not found");
    case StorageError::kExists: return Error(403, "object exists and is never overwritten");
    case StorageError::kHashMismatch: return Error(400, "content does not match its name (SHA-256)");
    case StorageError::kNoSpace: return Error(507, "insufficient storage");
    case StorageError::kTooMany: {
      // Clears as soon as a lock is removed; restic retries.
      Response r = Error(429, "too many locks in this repository");
      r.AddHeader("Retry-After", "30");
      return r;
    }
    case StorageError::kNotCreator:
      return Error(403, "the lock was created by another token; removing it needs the delete permission");
    case StorageError::kIo: break;
  }
  return Error(500, "storage error");
}

Response Ok() {
  Response r;
  r.status = 200;
  return r;
}

}  // namespace

RestHandler::RestHandler(Storage& storage, const auth::TokenFactory& tokens,
                         auth::SessionCache& accounts, const clock::Clock& clock,
                         std::uint64_t max_object_bytes)
    : storage_(storage), tokens_(tokens), accounts_(accounts), clock_(clock), max_object_bytes_(max_object_bytes) {}

Response RestHandler::Handle(http::Request& request, std::string_view rest, store::GrantStore& db) const {
  auto untrusted = auth::BearerFromRequest(request);
  if (!untrusted) return Unauthorized();
  auto token = tokens_.Verify(*untrusted);
  if (!token) {
    log::Debug(std::string("bearer token refused: ") + std::string(auth::Describe(token.error())));
    return Unauthorized();
  }
  // The grant must exist for this account, unrevoked and unexpired, and the account enabled:
  // all from the workers' memory, kept current by NOTIFY.
  // The grant must exist for this account, unrevoked and unexpired, and the account enabled: all
  // from the workers' memory, kept current by NOTIFY. A grant minted a moment ago may not have
  // reached this worker yet: the cache then asks the database once, and a change it hears while
  // asking wins over the fetched row. Only a token our key signed gets here, so strangers cannot
  // drive that lookup.
  auto grant = accounts_.CheckGrant(token->jti(), token->subject(), clock_.Now(),
                                    [&db](std::string_view jti) { return db.FindGrant(jti); });
  if (!grant) {
    if (grant.error() == auth::SessionCheck::kUnavailable) {
      return Error(503, "service unavailable, try again later");
    }
    return Unauthorized();
  }

  // Storage is keyed on the account's immutable id from the grant row (accounts.id), never on
  // the subject's name: a renamed account keeps its data, a re-created name starts empty. A
  // subject that is not a userid, or a row without an account id, reaches nothing.
  if (!names::IsValidUserid(token->subject())) return Unauthorized();
  if (grant->account_id <= 0) {
    log::Warning("grant of " + token->subject() + " has no account id; refused");
    return Unauthorized();
  }
  const AccountId owner{grant->account_id};

  auto target = ParseTarget(rest);
  if (!target) return Error(404, "no such resource");
  // The grant row decides; the token's claims can only narrow it. A repository named by either
  // must satisfy the path grammar: one that does not names nothing, so it reaches nothing.
  auto outside = [&](const std::optional<std::string>& scope) {
    return scope && (!IsRepoPath(*scope) || *scope != target->repo);
  };
  if (outside(token->repo()) || outside(grant->repo)) {
    return Error(403, "token is not valid for this repository");
  }
  const auth::Permissions& claimed = token->permissions();
  const auth::Permissions may{claimed.read && grant->read, claimed.write && grant->write,
                              claimed.del && grant->del};
  Method m = request.method;
  bool reading = m == Method::kGet || m == Method::kHead;
  auto forbidden = [] { return Error(403, "token lacks the permission"); };

  switch (target->kind) {
    case Kind::kRepo: {
      if (m != Method::kPost) return NotAllowed("POST");
      auto query = http::ParseForm(request.query);
      if (!query || !query->contains("create") || query->at("create") != "true") {
        return Error(400, "POST to a repository needs ?create=true");
      }
      if (!may.write) return forbidden();
      if (auto made = storage_.CreateRepo(owner, target->repo); !made) return FromStorage(made.error());
      return Ok();
    }
    case Kind::kConfig:
      if (reading) {
        if (!may.read) return forbidden();
        return Download(request, owner, target->repo, "config", "");
      }
      if (m == Method::kPost) {
        if (!may.write) return forbidden();
        return Upload(request, owner, target->repo, "config", "", "");
      }
      return NotAllowed("GET, HEAD, POST");
    case Kind::kList:
      if (!reading) return NotAllowed("GET, HEAD");
      if (!may.read) return forbidden();
      return ListObjects(request, owner, target->repo, target->type);
    case Kind::kObject: {
      bool lock = target->type == "locks";
      if (reading) {
        if (!may.read) return forbidden();
        return Download(request, owner, target->repo, target->type, target->name);
      }
      if (m == Method::kPost) {
        if (!(may.write || (lock && may.read))) return forbidden();
        return Upload(request, owner, target->repo, target->type, target->name, token->jti());
      }
      if (m == Method::kDelete) {
        std::expected<void, StorageError> gone;
        if (lock && !may.del) {
          // restic removes the locks it made with any token; another token's lock (a running
          // prune's exclusive lock) only goes with the delete right.
          if (!(may.read || may.write)) return forbidden();
          gone = storage_.RemoveLock(owner, target->repo, target->name, token->jti());
        } else {
          if (!may.del) return forbidden();
          gone = storage_.Remove(owner, target->repo, target->type, target->name);
        }
        if (!gone) return FromStorage(gone.error());
        return Ok();
      }
      return NotAllowed("GET, HEAD, POST, DELETE");
    }
  }
  return Error(404, "no such resource");
}

Response RestHandler::Download(const http::Request& request, AccountId owner, std::string_view repo,
                               std::string_view type, std::string_view name) const {
  auto object = storage_.Open(owner, repo, type, name);
  if (!object) return FromStorage(object.error());
  std::uint64_t size = (*object)->size();
  ByteRange range;
  RangeResult kind = ResolveRange(request.Header("range").value_or(""), size, &range);
  Response r;
  r.AddHeader("Content-Type", "application/octet-stream");
  r.AddHeader("Accept-Ranges", "bytes");
  if (kind == RangeResult::kUnsatisfiable) {
    Response bad = Error(416, "range not satisfiable");
    bad.AddHeader("Content-Range", "bytes */" + std::to_string(size));
    return bad;
  }
  if (kind == RangeResult::kPartial) {
    r.status = 206;
    r.AddHeader("Content-Range", "bytes " + std::to_string(range.offset) + "-" +
                                     std::to_string(range.offset + range.length - 1) + "/" + std::to_string(size));
  }
  r.stream = (*object)->Range(range.offset, range.length);
  r.stream_length = range.length;
  return r;
}

Response RestHandler::Upload(http::Request& request, AccountId owner, std::string_view repo,
                             std::string_view type, std::string_view name, std::string_view creator) const {
  if (!request.content_length) return Error(411, "Content-Length required");
  std::uint64_t length = *request.content_length;
  bool lock = type == "locks";
  if (length > (lock ? kMaxLockBytes : max_object_bytes_)) {
    return Error(413, lock ? "lock file too large" : "object too large");
  }
  auto writer = lock ? storage_.BeginLock(owner, repo, name, creator, kMaxLocksPerRepo)
                     : storage_.BeginWrite(owner, repo, type, name);
  if (!writer) return FromStorage(writer.error());
  std::vector<char> buffer(256 * 1024);
  std::uint64_t received = 0;
  while (request.body != nullptr) {
    std::ptrdiff_t n = request.body->Read(buffer.data(), buffer.size());
    if (n < 0) return Error(400, "upload interrupted");  // the writer's destructor drops the temp file
    if (n == 0) break;
    received += static_cast<std::uint64_t>(n);
    if (received > length) return Error(400, "body longer than Content-Length");
    if (auto w = (*writer)->Write(buffer.data(), static_cast<std::size_t>(n)); !w) return FromStorage(w.error());
  }
  if (received != length) return Error(400, "body shorter than Content-Length");
  std::optional<std::string_view> expected;
  if (type != "config") expected = name;
  if (auto done = (*writer)->Commit(expected); !done) return FromStorage(done.error());
  return Ok();
}

Response RestHandler::ListObjects(const http::Request& request, AccountId owner, std::string_view repo,
                                  std::string_view type) const {
  auto lister = storage_.List(owner, repo, type);
  if (!lister) return FromStorage(lister.error());
  // restic 0.14 sends the v2 media type without "+json"; the written spec has it. Accept both.
  std::string_view accept = request.Header("accept").value_or("");
  bool v2 = accept.find("application/vnd.x.restic.rest.v2") != std::string_view::npos;
  Response r;
  r.AddHeader("Content-Type", v2 ? "application/vnd.x.restic.rest.v2" : "application/vnd.x.restic.rest.v1");
  // Streamed as it is read, without Content-Length: memory stays flat whatever the repository holds.
  r.stream = std::make_shared<ListingSource>(std::move(*lister), v2 ? ListFormat::kV2 : ListFormat::kV1);
  return r;
}

}  // namespace tessera::backup
