// The one door of authentication: turns a request's credentials into a verified Principal.
//
// Credential kinds: a bearer token, sent as `Authorization: Bearer <token>` or, because restic
// only speaks basic auth, as the password of `Authorization: Basic` (auth/bearer.h), or by Proxmox
// API clients as `Authorization: PBSAPIToken=<userid>!<name>:<token>`; and a
// Proxmox-style ticket cookie (auth/ticket_service.h, with CSRF for non-GET requests). Each
// route says which kinds it accepts; the backup API accepts tokens only.
//
// A token is accepted when it verifies (auth/token_factory.h), its grant (jti) exists for its
// subject in the session cache (which reads it from the database when it does not hold it),
// unrevoked and unexpired, its account is enabled and unexpired, its subject is a valid userid and
// the grant row carries an account id. The Principal then carries the account, the effective rights
// (the grant row's AND the token's claims: the row decides, the claims only narrow) and the
// repository scopes of both. Only the Authenticator makes a Principal, so a handler that takes
// one cannot skip a check.
//
// With a FairShare, a principal is admitted only while its account and token hold less than
// their share of the worker's threads (auth/fair_share.h): else kBusy (429), before anything
// of the request's body is read; the request holds its share until it is answered.
//
// Every refusal but kUnavailable (the session cache is stale or the database could not be
// asked: 503) and kBusy (429) is an authentication failure (401); the reason is for the log,
// never the client.
// Thread-safe: immutable after construction (the cache it consults is thread-safe).
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

#include "auth/bearer.h"
#include "auth/fair_share.h"
#include "auth/session_cache.h"
#include "auth/ticket_service.h"
#include "auth/token_factory.h"
#include "clock/clock.h"
#include "http/request.h"

namespace tessera::auth {

enum class Credential {
  kToken,     // bearer or basic
  kTicket,    // cookie ticket
  kApiToken,  // `PBSAPIToken=<userid>!<name>:<token>`: a token whose subject and grant name match
};

enum class AuthRefusal {
  kNoCredentials,   // none of the accepted kind, or a malformed Authorization header
  kBadCredentials,  // the token or ticket did not verify (signature, claims, expiry, CSRF)
  kUnknownAccount,
  kDisabled,
  kAccountExpired,
  kUnknownGrant,  // no grant row for the token's jti, or it belongs to another account
  kRevoked,
  kGrantExpired,
  kBadSubject,   // the token's subject is not a userid
  kNoAccountId,  // the grant row has no account id (it could key no storage)
  kUnavailable,  // 503: the session cache is stale or the database could not be asked
  kBusy,         // 429: authenticated, but the account or token holds its share of the threads
};

// A short English reason, for logs — never for clients.
std::string_view Describe(AuthRefusal refusal);
// The HTTP status a refusal is answered with: 503 for kUnavailable, 429 for kBusy, 401 for every
// other.
int HttpStatus(AuthRefusal refusal);

// Who a request is, once its credentials checked out.
class Principal {
 public:
  Credential credential() const { return credential_; }
  const std::string& userid() const { return userid_; }
  // accounts.id, immutable: keys the account's storage. Set for tokens; 0 for tickets.
  std::int64_t account_id() const { return account_id_; }
  // The token's grant id (jti) and name; empty for tickets.
  const std::string& grant_id() const { return grant_id_; }
  const std::string& grant_name() const { return grant_name_; }
  // What the principal may do: the grant row AND the token's claims. None for tickets.
  const Permissions& rights() const { return rights_; }
  // Whether `repo` lies in the principal's repository scope: every scope set (the grant row's,
  // the token's) names exactly `repo`. A ticket covers no repository.
  bool Covers(std::string_view repo) const;
  // The ticket's session (for logout); null for tokens.
  const Identity* ticket() const { return ticket_ ? &*ticket_ : nullptr; }

 private:
  friend class Authenticator;
  Principal() = default;

  Credential credential_ = Credential::kTicket;
  std::string userid_;
  std::int64_t account_id_ = 0;
  std::string grant_id_;
  std::string grant_name_;
  Permissions rights_;
  std::optional<std::string> grant_repo_, token_repo_;
  std::optional<Identity> ticket_;
};

class Authenticator {
 public:
  // A door for tokens only, or for tickets only; a kind it was not built for is refused with
  // kNoCredentials. With `shares`, every principal is admitted to its fair share (above).
  // Everything given must outlive the Authenticator.
  Authenticator(const TokenFactory& tokens, SessionCache& cache, const clock::Clock& clock,
                FairShare* shares = nullptr);
  explicit Authenticator(const TicketService& tickets, FairShare* shares = nullptr);

  // Authenticates `request` by a credential of kind `accepted`. Fails with the first check that
  // does not pass (see AuthRefusal).
  std::expected<Principal, AuthRefusal> Authenticate(const http::Request& request,
                                                     Credential accepted) const;

 private:
  // `untrusted` is the token text; with `claimed`, the token's subject and its grant's name must
  // be those (PBSAPIToken).
  std::expected<Principal, AuthRefusal> ByToken(std::string_view untrusted,
                                                const ApiTokenCredential* claimed) const;
  std::expected<Principal, AuthRefusal> ByTicket(const http::Request& request) const;

  const TokenFactory* tokens_ = nullptr;
  SessionCache* cache_ = nullptr;
  const clock::Clock* clock_ = nullptr;
  const TicketService* tickets_ = nullptr;
  FairShare* shares_ = nullptr;
};

}  // namespace tessera::auth
