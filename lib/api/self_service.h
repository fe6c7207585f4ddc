// What a signed-in person does for themselves (DESIGN.md, "Ticket-authenticated API"): their
// token grants (list, make within the account's ceiling, revoke by name), their password, and an
// overview of their repositories. The App authenticates first and passes the Principal; every
// change arrives with a ticket whose CSRF token checked out (auth/ticket_service.h).
// Thread-safe: shared and immutable; each call gets the calling thread's database.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "auth/authenticator.h"
#include "auth/ticket_service.h"
#include "auth/token_factory.h"
#include "backup/storage.h"
#include "clock/clock.h"
#include "http/request.h"
#include "http/response.h"
#include "store/database.h"

namespace tessera::api {

// At most this many grants are listed, and repositories shown.
inline constexpr std::size_t kMaxListed = 1000;

class SelfService {
 public:
  // Any of them may be null: the routes that need it answer 503. All must outlive the service.
  SelfService(const auth::TicketService* tickets, const auth::TokenFactory* tokens,
              backup::Storage* storage, const clock::Clock& clock, std::size_t max_body_bytes,
              std::uint64_t default_repo_cap);

  // GET /api2/json/access/tokens: the person's grants, newest first, never a token.
  http::Response ListTokens(const auth::Principal& who, store::Database& db) const;
  // POST /api2/json/access/tokens {name, read, write, delete, repo, expire}: a new grant and its
  // token, shown once. 403 beyond the ceiling, 409 for a live grant of that name.
  http::Response MintToken(http::Request& request, const auth::Principal& who,
                           store::Database& db) const;
  // DELETE /api2/json/access/tokens/{name}: revokes the live grant; 404 when there is none.
  http::Response RevokeToken(std::string_view name, const auth::Principal& who,
                             store::Database& db) const;
  // PUT /api2/json/access/password {userid, password (new), confirmation-password (current)}:
  // ends every session of the account and answers a fresh ticket for this one.
  http::Response ChangePassword(http::Request& request, const auth::Principal& who,
                                store::Database& db) const;
  // GET /api2/json/repos: the repositories the principal reaches, with what they hold, from the
  // books in PostgreSQL (store/repo_store.h): a repository is listed from its creation on.
  http::Response Repos(const auth::Principal& who, store::Database& db) const;
  // GET /api2/json/usage: the account's bytes against its quota and its repositories against
  // its cap ({bytes, quota_bytes (null: unlimited), repos, repo_max_count}). Tickets, and
  // tokens with read and no repository scope.
  http::Response Usage(const auth::Principal& who, store::Database& db) const;

 private:
  const auth::TicketService* tickets_;
  const auth::TokenFactory* tokens_;
  backup::Storage* storage_;
  const clock::Clock& clock_;
  std::size_t max_body_bytes_;
  std::uint64_t default_repo_cap_;
};

}  // namespace tessera::api
