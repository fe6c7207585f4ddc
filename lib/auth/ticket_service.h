// The people-facing half of authentication (DESIGN.md, "Ticket API"): password login with
// throttling and audit, ticket renewal (by body or cookie), authentication of later requests by
// cookie with CSRF protection, and logout that revokes the ticket server-side.
//
// Every failure the client sees is the same generic one; the reason goes to the audit log. An
// unknown user costs one Argon2id verification like a wrong password. Throttled attempts are
// refused at once, without hashing and without a sleeping thread. Thread-safe: the service is
// shared and immutable; each call gets the calling thread's AuthStore.
#pragma once

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
#include "http/request.h"
#include "store/auth_store.h"

namespace tessera::auth {

inline constexpr std::string_view kHostCookie = "__Host-PBSAuthCookie";
inline constexpr std::string_view kLegacyCookie = "PBSAuthCookie";

struct TicketPolicy {
  crypto::PasswordCost password_cost;
  store::ThrottlePolicy throttle;
};

enum class AuthFailure {
  kDenied,       // 401, whatever the reason
  kUnavailable,  // 503: the database or the session cache cannot answer
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

  // Logs in (legacy or HttpOnly flow per `request.http_only`). `cookie_ticket` is the auth
  // cookie's value, used for renewal in the HttpOnly flow only.
  std::expected<LoginResult, AuthFailure> Login(store::AuthStore& store, const LoginRequest& request,
                                                std::optional<std::string_view> cookie_ticket,
                                                std::string_view client) const;

  // Authenticates a request by its cookie; non-GET/HEAD requests also need a valid
  // CSRFPreventionToken header.
  std::expected<Identity, AuthFailure> Authenticate(const http::Request& request) const;

  // Revokes the identity's ticket everywhere.
  std::expected<void, AuthFailure> Logout(store::AuthStore& store, const Identity& identity,
                                          std::string_view client) const;

  // The auth cookie of a request (host-only cookie first), percent-decoded; nullopt if none.
  static std::optional<std::string> CookieTicket(const http::Request& request);

 private:
  // Stamps the ticket at `now`, or at the account's session epoch if that is later (at most a
  // second ahead, well inside the 300 s skew every verifier allows).
  std::expected<LoginResult, AuthFailure> Issue(std::string_view userid, std::int64_t not_before) const;
  std::expected<LoginResult, AuthFailure> Renew(store::AuthStore& store, std::string_view username,
                                                std::string_view ticket, std::string_view client,
                                                std::string* reason) const;
  std::expected<LoginResult, AuthFailure> WithPassword(store::AuthStore& store,
                                                       std::string_view username,
                                                       std::string_view password,
                                                       std::string_view client,
                                                       std::string* reason) const;
  AuthFailure Fail(store::AuthStore& store, std::string_view userid, std::string_view client,
                   std::string_view reason) const;

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
};

}  // namespace tessera::auth
