// The people-facing half of authentication (DESIGN.md, "Ticket API"): password login with
// throttling and audit, ticket renewal (by body or cookie), authentication of later requests by
// cookie with CSRF protection, and logout that ends the session server-side.
//
// Sessions: a password login starts a server-side session (sql/0005) holding its ticket; each
// renewal adds the new ticket to the presented ticket's session, if that session is still live;
// logout ends the session and revokes every ticket of it, so no ticket of the renewal chain
// survives it, on any worker. A ticket that no session knows (issued before sessions existed)
// still authenticates until it expires but cannot be renewed. Every ticket is unique: two
// tickets of one user stamped in the same second would be identical (Ed25519 is deterministic),
// so the second is stamped a few seconds earlier (at most 120 s, which only shortens its life);
// right after a session epoch, when nothing earlier is valid, later than the epoch instead. A
// stamp is otherwise never ahead of the clock (at most at the epoch, itself at most 60 s ahead,
// inside the 300 s skew every verifier allows). A user logging in faster than that for minutes
// gets 429. Whatever a ticket's stamp, an account change revokes it by row (sql/0007).
//
// Throttling: a password attempt is reserved in PostgreSQL per (account, client network) and per
// client network before anything is hashed, so no more Argon2id verifications than the limits
// happen whatever the parallelism; a refused attempt is answered at once (429, Retry-After),
// without a sleeping thread. Renewal with a ticket is never throttled (it costs no hashing and
// a forged ticket cannot pass).
//
// Every authentication failure the client sees is the same generic one; the reason goes to the
// audit log. An unknown user costs one Argon2id verification like a wrong password. Tables that
// grow with logins are pruned on the login path, at most once per interval per process.
// Thread-safe: the service is shared and immutable (but for its pruning clock, an atomic); each
// call gets the calling thread's AuthStore.
#pragma once

#include <atomic>
#include <cstdint>
#include <expected>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "auth/login_request.h"
#include "auth/session_cache.h"
#include "clock/clock.h"
#include "crypto/csrf.h"
#include "crypto/password.h"
#include "crypto/ticket.h"
#include "http/client_address.h"
#include "http/request.h"
#include "store/auth_store.h"

namespace tessera::auth {

inline constexpr std::string_view kHostCookie = "__Host-PBSAuthCookie";
// What follows the value of every auth cookie the worker sets (DESIGN.md, "Ticket API").
inline constexpr std::string_view kCookieAttributes = "; Secure; SameSite=Lax; HttpOnly; Path=/";
inline constexpr std::string_view kLegacyCookie = "PBSAuthCookie";

struct TicketPolicy {
  crypto::PasswordCost password_cost;
  store::ThrottlePolicy throttle;
  store::RetentionPolicy retention;
  std::int64_t prune_interval_seconds = 60;
  // Live sessions per account: a login beyond them ends the account's session renewed least
  // recently (store::SessionStore::StartSession).
  int max_sessions = 64;
};

enum class AuthFailure {
  kDenied,     // 401, whatever the reason
  kThrottled,  // 429: too many failed password logins from this client (LoginFailure says how long)
  kUnavailable,  // 503: the database or the session cache cannot answer
  kInternal,     // 500: the database refused what we sent (a bug); logged
};

struct LoginFailure {
  AuthFailure kind = AuthFailure::kDenied;
  std::int64_t retry_after = 0;  // seconds, for kThrottled
};

struct LoginResult {
  std::string userid;
  std::string ticket;
  std::string csrf_token;
};

// Who a request is, once its ticket (and CSRF token, for non-GET requests) checked out.
struct Identity {
  std::string userid;
  std::string method;  // "cookie"
  std::string revocation_id;
  std::int64_t ticket_expires_at = 0;
};

class TicketService {
 public:
  TicketService(crypto::TicketKeys keys, crypto::CsrfKey csrf, SessionCache& cache,
                const clock::Clock& clock, TicketPolicy policy);

  // Logs in (legacy or HttpOnly flow per `request.http_only`): renews a ticket, or checks a
  // password and starts a session. `cookie_ticket` is the auth cookie's value, used for renewal
  // in the HttpOnly flow only. Fails with kDenied (any authentication failure), kThrottled (with
  // the seconds to wait), kUnavailable or kInternal.
  std::expected<LoginResult, LoginFailure> Login(store::AuthStore& store,
                                                 const LoginRequest& request,
                                                 std::optional<std::string_view> cookie_ticket,
                                                 const http::ClientAddress& client) const;

  // Authenticates a request by its cookie; non-GET/HEAD requests also need a valid
  // CSRFPreventionToken header.
  std::expected<Identity, AuthFailure> Authenticate(const http::Request& request) const;

  // Ends the identity's session: every ticket of its renewal chain is revoked everywhere (this
  // worker at once, the others through NOTIFY). Fails with kUnavailable or kInternal.
  std::expected<void, AuthFailure> Logout(store::AuthStore& store, const Identity& identity,
                                          std::string_view client) const;

  // Changes the password of `who`'s account when `current` is its password: throttled like a
  // password login (the attempt is reserved before hashing), the new one hashed at the configured
  // cost, the session epoch moved past every ticket issued so far, which ends every session of the
  // account on every worker (sql/0007), and a fresh ticket issued in a new session for the caller.
  // Fails with kDenied (wrong current password, or the hash changed meanwhile), kThrottled (with
  // the seconds to wait), kUnavailable or kInternal. `next` must already satisfy the caller's
  // strength rules.
  std::expected<LoginResult, LoginFailure> ChangePassword(store::AuthStore& store,
                                                          const Identity& who,
                                                          std::string_view current,
                                                          std::string_view next,
                                                          const http::ClientAddress& client) const;

  // The auth cookie of a request (host-only cookie first), percent-decoded; nullopt if none or
  // if the one found is malformed (it is not skipped in favour of the other name).
  static std::optional<std::string> CookieTicket(const http::Request& request);

 private:
  // Issues a ticket stamped at `now`, or at the account's session epoch if that is later (at most
  // 60 s ahead), and records it: in the session of `presented` (renewal) or in a new session.
  std::expected<LoginResult, AuthFailure> Issue(store::AuthStore& store, std::string_view userid,
                                                std::int64_t not_before,
                                                std::optional<std::string_view> presented,
                                                std::string* reason) const;
  std::expected<LoginResult, AuthFailure> Renew(store::AuthStore& store, std::string_view username,
                                                std::string_view ticket, std::string* reason) const;
  std::expected<LoginResult, AuthFailure> WithPassword(store::AuthStore& store,
                                                       std::string_view username,
                                                       std::string_view password,
                                                       std::string_view client,
                                                       std::string* reason) const;
  // Reserves one password attempt for `username` from `client` (auth_store.h, LoginThrottle);
  // kThrottled with the seconds to wait when over a limit, audited once per window as
  // `audit_event`.
  std::expected<void, LoginFailure> Reserve(store::AuthStore& store, std::string_view username,
                                            const http::ClientAddress& client,
                                            std::string_view audit_event,
                                            std::string_view audit_reason) const;
  // Password login behind the throttle.
  std::expected<LoginResult, LoginFailure> Throttled(store::AuthStore& store,
                                                     std::string_view username,
                                                     std::string_view password,
                                                     const http::ClientAddress& client,
                                                     std::string* reason) const;
  // Prunes what outlived its retention if the interval has passed since the last pass.
  void MaybePrune(store::AuthStore& store) const;

  crypto::TicketKeys keys_;
  crypto::CsrfKey csrf_;
  SessionCache& cache_;
  const clock::Clock& clock_;
  TicketPolicy policy_;
  // Verified for unknown users so they cost the same time. Made at the first unknown-user login,
  // not at start-up: an Argon2id hash at the configured cost briefly takes its whole memlimit.
  const std::string& DummyHash() const;
  mutable std::once_flag dummy_once_;
  mutable std::string dummy_hash_;
  mutable std::atomic<std::int64_t> next_prune_{0};  // Unix seconds
};

}  // namespace tessera::auth
