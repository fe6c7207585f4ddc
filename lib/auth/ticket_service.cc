#include "auth/ticket_service.h"

#include <algorithm>

#include "names/userid.h"
#include "http/cookies.h"
#include "http/percent.h"
#include "log/log.h"
#include "store/database.h"

namespace tessera::auth {
namespace {

std::string_view Describe(SessionCheck c) {
  switch (c) {
    case SessionCheck::kOk: return "ok";
    case SessionCheck::kUnknownAccount: return "unknown account";
    case SessionCheck::kDisabled: return "account disabled";
    case SessionCheck::kAccountExpired: return "account expired";
    case SessionCheck::kGrantExpired: return "token grant expired";
    case SessionCheck::kSessionEnded: return "session ended by password change or disable";
    case SessionCheck::kRevoked: return "ticket was logged out";
    case SessionCheck::kUnknownGrant: return "no such token grant";
    case SessionCheck::kUnavailable: return "session state unavailable";
  }
  return "?";
}

std::string_view Describe(crypto::TicketError e) {
  switch (e) {
    case crypto::TicketError::kTooLong: return "ticket too long";
    case crypto::TicketError::kMalformed: return "malformed ticket";
    case crypto::TicketError::kWrongPrefix: return "ticket prefix is not PBS";
    case crypto::TicketError::kBadUserid: return "ticket userid invalid";
    case crypto::TicketError::kBadSignature: return "ticket signature invalid";
    case crypto::TicketError::kExpired: return "ticket expired";
    case crypto::TicketError::kFromFuture: return "ticket from the future";
  }
  return "?";
}

bool IsTicket(std::string_view s) { return s.starts_with("PBS:"); }

}  // namespace

TicketService::TicketService(crypto::TicketKeys keys, crypto::CsrfKey csrf, SessionCache& cache,
                             const clock::Clock& clock, TicketPolicy policy)
    : keys_(std::move(keys)), csrf_(std::move(csrf)), cache_(cache), clock_(clock), policy_(policy) {}

const std::string& TicketService::DummyHash() const {
  std::call_once(dummy_once_, [this] {
    auto dummy = crypto::HashPassword("tessera dummy password for unknown users", policy_.password_cost);
    // Without memory for it, fall back to a fixed hash of the same algorithm (never matches).
    dummy_hash_ = dummy ? *dummy : "$argon2id$v=19$m=8,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
  });
  return dummy_hash_;
}

std::optional<std::string> TicketService::CookieTicket(const http::Request& request) {
  auto header = request.Header("cookie");
  if (!header) return std::nullopt;
  auto cookies = http::ParseCookies(*header);
  if (!cookies) return std::nullopt;
  auto value = http::FindCookie(*cookies, kHostCookie);
  if (!value) value = http::FindCookie(*cookies, kLegacyCookie);
  if (!value || value->empty()) return std::nullopt;
  // Proxmox clients store the ticket percent-encoded; a raw ticket has no '%', so decoding is safe.
  auto decoded = http::PercentDecode(*value, false);
  if (!decoded) return std::nullopt;
  return *decoded;
}

AuthFailure TicketService::Fail(store::AuthStore& store, std::string_view userid,
                                std::string_view client, std::string_view reason) const {
  auto recorded = store.RecordFailure(userid, client, policy_.throttle);
  (void)store.Audit("login-failed", userid, client, reason);
  return recorded ? AuthFailure::kDenied
                  : (recorded.error() == store::StoreError::kUnavailable ? AuthFailure::kUnavailable
                                                                           : AuthFailure::kDenied);
}

std::expected<LoginResult, AuthFailure> TicketService::Issue(std::string_view userid,
                                                             std::int64_t not_before) const {
  std::int64_t now = std::max(clock_.Now(), std::min(not_before, clock_.Now() + 60));
  return LoginResult{std::string(userid), keys_.Issue(userid, now), csrf_.Make(userid, now)};
}

std::expected<LoginResult, AuthFailure> TicketService::Renew(store::AuthStore&, std::string_view username,
                                                             std::string_view ticket, std::string_view,
                                                             std::string* reason) const {
  std::int64_t now = clock_.Now();
  auto verified = keys_.Verify(ticket, now);
  if (!verified) {
    *reason = Describe(verified.error());
    return std::unexpected(AuthFailure::kDenied);
  }
  if (verified->userid() != username) {
    *reason = "ticket belongs to another user";
    return std::unexpected(AuthFailure::kDenied);
  }
  SessionCheck check = cache_.Check(verified->userid(), verified->time(), verified->revocation_id(), now);
  if (check == SessionCheck::kUnavailable) return std::unexpected(AuthFailure::kUnavailable);
  if (check != SessionCheck::kOk) {
    *reason = Describe(check);
    return std::unexpected(AuthFailure::kDenied);
  }
  return Issue(username, 0);
}

std::expected<LoginResult, AuthFailure> TicketService::WithPassword(store::AuthStore& store,
                                                                    std::string_view username,
                                                                    std::string_view password,
                                                                    std::string_view client,
                                                                    std::string* reason) const {
  auto account = store.FindAccount(username);
  if (!account) return std::unexpected(AuthFailure::kUnavailable);
  if (!*account) {
    (void)crypto::VerifyPassword(DummyHash(), password);  // same cost as a wrong password
    *reason = "unknown user";
    return std::unexpected(AuthFailure::kDenied);
  }
  const store::AccountRecord& rec = **account;
  if (!crypto::VerifyPassword(rec.password_hash, password)) {
    *reason = "wrong password";
    return std::unexpected(AuthFailure::kDenied);
  }
  std::int64_t now = clock_.Now();
  if (!rec.state.enabled) {
    *reason = "account disabled";
    return std::unexpected(AuthFailure::kDenied);
  }
  if (rec.state.expires_at && *rec.state.expires_at <= now) {
    *reason = "account expired";
    return std::unexpected(AuthFailure::kDenied);
  }
  if (crypto::NeedsRehash(rec.password_hash, policy_.password_cost)) {
    if (auto fresh = crypto::HashPassword(password, policy_.password_cost)) {
      if (store.ReplacePasswordHash(username, rec.password_hash, *fresh)) {
        (void)store.Audit("rehash", username, client, "password hash updated to the configured cost");
      }
    }
  }
  return Issue(username, rec.state.session_epoch);
}

std::expected<LoginResult, AuthFailure> TicketService::Login(store::AuthStore& store,
                                                             const LoginRequest& request,
                                                             std::optional<std::string_view> cookie_ticket,
                                                             std::string_view client) const {
  const std::string& username = request.username;
  if (!names::IsValidUserid(username)) {
    return std::unexpected(Fail(store, "", client, "malformed userid"));
  }
  auto throttled = store.IsThrottled(username, client, policy_.throttle);
  if (!throttled) return std::unexpected(AuthFailure::kUnavailable);
  if (*throttled) {
    (void)store.Audit("login-throttled", username, client, "too many failed logins");
    return std::unexpected(AuthFailure::kDenied);
  }

  std::string reason;
  std::expected<LoginResult, AuthFailure> result = std::unexpected(AuthFailure::kDenied);
  if (request.http_only) {
    // HttpOnly flow: renew from the cookie; if that fails, the body's password is tried as a
    // password — never as a ticket.
    reason = cookie_ticket ? "" : "no cookie to renew, and the body holds a ticket";
    if (cookie_ticket) result = Renew(store, username, *cookie_ticket, client, &reason);
    if (!result && result.error() == AuthFailure::kDenied) {
      if (IsTicket(request.password)) {
        if (cookie_ticket) reason += "; the body's ticket is not accepted in the HttpOnly flow";
      } else {
        result = WithPassword(store, username, request.password, client, &reason);
      }
    }
  } else if (IsTicket(request.password)) {
    result = Renew(store, username, request.password, client, &reason);
  } else {
    result = WithPassword(store, username, request.password, client, &reason);
  }
  if (!result) {
    if (result.error() == AuthFailure::kUnavailable) return result;
    return std::unexpected(Fail(store, username, client, reason));
  }
  (void)store.ClearFailures(username);
  (void)store.Audit("login", username, client, request.http_only ? "httponly" : "legacy");
  return result;
}

std::expected<Identity, AuthFailure> TicketService::Authenticate(const http::Request& request) const {
  auto ticket = CookieTicket(request);
  if (!ticket) return std::unexpected(AuthFailure::kDenied);
  std::int64_t now = clock_.Now();
  auto verified = keys_.Verify(*ticket, now);
  if (!verified) {
    log::Debug(std::string("ticket refused: ") + std::string(Describe(verified.error())));
    return std::unexpected(AuthFailure::kDenied);
  }
  SessionCheck check = cache_.Check(verified->userid(), verified->time(), verified->revocation_id(), now);
  if (check == SessionCheck::kUnavailable) return std::unexpected(AuthFailure::kUnavailable);
  if (check != SessionCheck::kOk) return std::unexpected(AuthFailure::kDenied);
  if (request.method != http::Method::kGet && request.method != http::Method::kHead) {
    auto token = request.Header("csrfpreventiontoken");
    if (!token || !csrf_.Verify(*token, verified->userid(), now)) {
      return std::unexpected(AuthFailure::kDenied);
    }
  }
  return Identity{verified->userid(), "cookie", verified->revocation_id(), verified->expires_at()};
}

std::expected<void, AuthFailure> TicketService::Logout(store::AuthStore& store, const Identity& identity,
                                                       std::string_view client) const {
  auto revoked = store.RevokeTicket(identity.revocation_id, identity.userid, identity.ticket_expires_at);
  if (!revoked) return std::unexpected(AuthFailure::kUnavailable);
  // This worker knows at once; the others hear it through NOTIFY.
  cache_.AddRevocation(identity.revocation_id, identity.ticket_expires_at, clock_.Now());
  (void)store.Audit("logout", identity.userid, client, "");
  return {};
}

}  // namespace tessera::auth
