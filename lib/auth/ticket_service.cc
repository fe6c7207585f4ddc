#include "auth/ticket_service.h"

#include <sodium.h>

#include <algorithm>

#include "http/cookies.h"
#include "log/log.h"
#include "names/userid.h"
#include "store/database.h"

namespace tessera::auth {
namespace {

std::string_view Describe(SessionCheck c) {
  switch (c) {
    case SessionCheck::kOk:
      return "ok";
    case SessionCheck::kUnknownAccount:
      return "unknown account";
    case SessionCheck::kDisabled:
      return "account disabled";
    case SessionCheck::kAccountExpired:
      return "account expired";
    case SessionCheck::kGrantExpired:
      return "token grant expired";
    case SessionCheck::kSessionEnded:
      return "session ended by password change or disable";
    case SessionCheck::kRevoked:
      return "ticket was logged out";
    case SessionCheck::kUnknownGrant:
      return "no such token grant";
    case SessionCheck::kUnavailable:
      return "session state unavailable";
  }
  return "?";
}

std::string_view Describe(crypto::TicketError e) {
  switch (e) {
    case crypto::TicketError::kTooLong:
      return "ticket too long";
    case crypto::TicketError::kMalformed:
      return "malformed ticket";
    case crypto::TicketError::kWrongPrefix:
      return "ticket prefix is not PBS";
    case crypto::TicketError::kBadUserid:
      return "ticket userid invalid";
    case crypto::TicketError::kBadSignature:
      return "ticket signature invalid";
    case crypto::TicketError::kExpired:
      return "ticket expired";
    case crypto::TicketError::kFromFuture:
      return "ticket from the future";
  }
  return "?";
}

bool IsTicket(std::string_view s) { return s.starts_with("PBS:"); }

// When a ticket turns out identical to one already issued (same user, same stamp), another stamp
// is tried: up to kStampAttempts, picked at random ever further back (at most kMaxStampBack
// seconds, which only shortens the ticket's 7200 s life) — not ahead, so tickets do not outlive
// an epoch set to "now" by their stamp (every session ticket is also revoked by row when the
// account changes, sql/0007). A user who has used up the stamps of the last two minutes is told
// to slow down.
constexpr int kStampAttempts = 12;
constexpr std::uint32_t kMaxStampBack = 120;

std::int64_t StampOffset(int attempt) {
  if (attempt == 0) return 0;
  auto spread = std::min<std::uint32_t>(kMaxStampBack, 10u * static_cast<std::uint32_t>(attempt));
  return -1 - static_cast<std::int64_t>(randombytes_uniform(spread));
}

AuthFailure FromStore(store::StoreError e) {
  if (e == store::StoreError::kUnavailable) return AuthFailure::kUnavailable;
  log::Error("database refused an authentication query");
  return AuthFailure::kInternal;
}

}  // namespace

TicketService::TicketService(crypto::TicketKeys keys, crypto::CsrfKey csrf, SessionCache& cache,
                             const clock::Clock& clock, TicketPolicy policy)
    : keys_(std::move(keys)),
      csrf_(std::move(csrf)),
      cache_(cache),
      clock_(clock),
      policy_(policy) {}

const std::string& TicketService::DummyHash() const {
  std::call_once(dummy_once_, [this] {
    auto dummy =
        crypto::HashPassword("tessera dummy password for unknown users", policy_.password_cost);
    // Without memory for it, fall back to a fixed hash of the same algorithm (never matches).
    dummy_hash_ = dummy ? *dummy
                        : "$argon2id$v=19$m=8,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$"
                          "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
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
  // Written with EncodeCookieValue (the Set-Cookie in api/app.cc); Proxmox clients
  // percent-encode the cookie they send the same way; a raw ticket of an ordinary userid has no
  // '%' and decodes to itself.
  return http::DecodeCookieValue(*value);
}

void TicketService::MaybePrune(store::AuthStore& store) const {
  std::int64_t now = clock_.Now();
  std::int64_t due = next_prune_.load();
  if (now < due) return;
  if (!next_prune_.compare_exchange_strong(due, now + policy_.prune_interval_seconds)) return;
  auto pruned = store.Prune(policy_.retention);
  if (!pruned) {
    log::Warning(
        "pruning the audit log, login failures and sessions failed; retried next interval");
  } else if (*pruned > 0) {
    log::Info("pruned " + std::to_string(*pruned) + " rows past their retention");
  }
}

std::expected<LoginResult, AuthFailure> TicketService::Issue(
    store::AuthStore& store, std::string_view userid, std::int64_t not_before,
    std::optional<std::string_view> presented, std::string* reason) const {
  std::int64_t now = clock_.Now();
  std::int64_t base = std::max(now, std::min(not_before, now + 60));
  // An identical ticket (same user, same second) is refused by session_tickets' key: stamp
  // another second instead, so each session's tickets are its own.
  for (int attempt = 0; attempt < kStampAttempts; ++attempt) {
    std::int64_t stamp = base + StampOffset(attempt);
    // Right after an epoch (a password change, a re-created name) nothing before it is valid:
    // step forward from the epoch instead. Such a ticket is recorded in its session like any
    // other, so the next account change revokes it whatever its stamp (sql/0007).
    if (stamp < not_before) stamp = not_before + (not_before - stamp);
    // Never more than a minute ahead (well inside every verifier's skew): renewals chained
    // within seconds of each other run out of stamps and are throttled instead.
    if (stamp > now + 60) continue;
    std::string ticket = keys_.Issue(userid, stamp);
    auto verified = keys_.Verify(ticket, now);  // for its revocation id
    if (!verified) {
      log::Error("a ticket just issued does not verify");
      return std::unexpected(AuthFailure::kInternal);
    }
    store::SessionTicket recorded{verified->revocation_id(), verified->expires_at()};
    auto done = presented ? store.ContinueSession(*presented, userid, recorded)
                          : store.StartSession(userid, recorded, policy_.max_sessions);
    if (!done) {
      if (done.error() == store::StoreError::kConflict) continue;
      return std::unexpected(FromStore(done.error()));
    }
    if (!*done) {
      *reason = presented ? "ticket has no live session (logged out, or issued before sessions)"
                          : "account vanished during login";
      return std::unexpected(AuthFailure::kDenied);
    }
    return LoginResult{std::string(userid), std::move(ticket), csrf_.Make(userid, stamp)};
  }
  log::Warning("no unused ticket stamp left for " + std::string(userid) + ": logins too frequent");
  return std::unexpected(AuthFailure::kThrottled);
}

std::expected<LoginResult, AuthFailure> TicketService::Renew(store::AuthStore& store,
                                                             std::string_view username,
                                                             std::string_view ticket,
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
  SessionCheck check =
      cache_.CheckTicket(verified->userid(), verified->time(), verified->revocation_id(), now);
  if (check == SessionCheck::kUnavailable) return std::unexpected(AuthFailure::kUnavailable);
  if (check != SessionCheck::kOk) {
    *reason = Describe(check);
    return std::unexpected(AuthFailure::kDenied);
  }
  // Never stamped before the presented ticket: that one passed the session epoch, which may be
  // a second ahead of the clock right after a password change (a renewal then would be dead).
  return Issue(store, username, verified->time(), verified->revocation_id(), reason);
}

std::expected<LoginResult, AuthFailure> TicketService::WithPassword(store::AuthStore& store,
                                                                    std::string_view username,
                                                                    std::string_view password,
                                                                    std::string_view client,
                                                                    std::string* reason) const {
  auto account = store.FindAccount(username);
  if (!account) return std::unexpected(FromStore(account.error()));
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
        (void)store.Audit("rehash", username, client,
                          "password hash updated to the configured cost");
      }
    }
  }
  return Issue(store, username, rec.state.session_epoch, std::nullopt, reason);
}

std::expected<void, LoginFailure> TicketService::Reserve(store::AuthStore& store,
                                                         std::string_view username,
                                                         const http::ClientAddress& client,
                                                         std::string_view audit_event,
                                                         std::string_view audit_reason) const {
  // Reserved before hashing: the attempt counts whatever happens next.
  auto verdict = store.ReserveAttempt(username, client.network, policy_.throttle);
  if (!verdict) return std::unexpected(LoginFailure{FromStore(verdict.error())});
  if (verdict->retry_after > 0) {
    // One audit row per window, not one per refused request: a flood must not fill the log.
    if (verdict->first_refusal)
      (void)store.Audit(audit_event, username, client.address, audit_reason);
    return std::unexpected(LoginFailure{AuthFailure::kThrottled, verdict->retry_after});
  }
  return {};
}

std::expected<LoginResult, LoginFailure> TicketService::Throttled(store::AuthStore& store,
                                                                  std::string_view username,
                                                                  std::string_view password,
                                                                  const http::ClientAddress& client,
                                                                  std::string* reason) const {
  if (auto reserved = Reserve(store, username, client, "login-throttled", "too many failed logins");
      !reserved) {
    return std::unexpected(reserved.error());
  }
  auto result = WithPassword(store, username, password, client.address, reason);
  // Only a failure to authenticate keeps the attempt; a right password (even if no ticket could
  // be recorded) gives it back.
  if (result || result.error() == AuthFailure::kThrottled) {
    (void)store.ReleaseAttempt(username, client.network);
  }
  if (!result) return std::unexpected(LoginFailure{result.error(), 1});
  return std::move(*result);
}

std::expected<LoginResult, LoginFailure> TicketService::ChangePassword(
    store::AuthStore& store, const Identity& who, std::string_view current, std::string_view next,
    const http::ClientAddress& client) const {
  const std::string& userid = who.userid;
  if (auto reserved =
          Reserve(store, userid, client, "password-throttled", "too many failed attempts");
      !reserved) {
    return std::unexpected(reserved.error());
  }
  auto account = store.FindAccount(userid);
  if (!account) return std::unexpected(LoginFailure{FromStore(account.error())});
  if (!*account || !crypto::VerifyPassword((*account)->password_hash, current)) {
    (void)store.Audit("password-change-failed", userid, client.address,
                      *account ? "wrong current password" : "account vanished");
    return std::unexpected(LoginFailure{AuthFailure::kDenied});
  }
  (void)store.ReleaseAttempt(userid, client.network);
  auto hash = crypto::HashPassword(next, policy_.password_cost);
  if (!hash) {
    log::Error("password change for " + userid + ": the new password could not be hashed");
    return std::unexpected(LoginFailure{AuthFailure::kInternal});
  }
  auto epoch = store.ChangePassword(userid, (*account)->password_hash, *hash);
  crypto::WipeString(*hash);
  if (!epoch) return std::unexpected(LoginFailure{FromStore(epoch.error())});
  if (!*epoch) {
    (void)store.Audit("password-change-failed", userid, client.address, "changed meanwhile");
    return std::unexpected(LoginFailure{AuthFailure::kDenied});
  }
  (void)store.Audit("password-change", userid, client.address, "every session ended");
  std::string reason;
  auto issued = Issue(store, userid, **epoch, std::nullopt, &reason);
  if (!issued) {
    log::Warning("password changed for " + userid + " but no new ticket: " + reason);
    return std::unexpected(LoginFailure{issued.error()});
  }
  return std::move(*issued);
}

std::expected<LoginResult, LoginFailure> TicketService::Login(
    store::AuthStore& store, const LoginRequest& request,
    std::optional<std::string_view> cookie_ticket, const http::ClientAddress& client) const {
  const std::string& username = request.username;
  if (!names::IsValidUserid(username)) {  // ParseLoginRequest checked it; never trust a caller
    return std::unexpected(LoginFailure{AuthFailure::kDenied});
  }
  MaybePrune(store);

  std::string reason;
  std::expected<LoginResult, LoginFailure> result = std::unexpected(LoginFailure{});
  auto renew = [&](std::string_view ticket) -> std::expected<LoginResult, LoginFailure> {
    auto renewed = Renew(store, username, ticket, &reason);
    if (!renewed) return std::unexpected(LoginFailure{renewed.error()});
    return std::move(*renewed);
  };
  if (request.http_only) {
    // HttpOnly flow: renew from the cookie; if that fails, the body's password is tried as a
    // password — never as a ticket.
    reason = cookie_ticket ? "" : "no cookie to renew, and the body holds a ticket";
    if (cookie_ticket) result = renew(*cookie_ticket);
    if (!result && result.error().kind == AuthFailure::kDenied) {
      if (IsTicket(request.password)) {
        if (cookie_ticket) reason += "; the body's ticket is not accepted in the HttpOnly flow";
      } else {
        result = Throttled(store, username, request.password, client, &reason);
      }
    }
  } else if (IsTicket(request.password)) {
    result = renew(request.password);
  } else {
    result = Throttled(store, username, request.password, client, &reason);
  }
  if (!result) {
    if (result.error().kind == AuthFailure::kDenied) {
      (void)store.Audit("login-failed", username, client.address, reason);
    }
    return result;
  }
  (void)store.Audit("login", username, client.address, request.http_only ? "httponly" : "legacy");
  return result;
}

std::expected<Identity, AuthFailure> TicketService::Authenticate(
    const http::Request& request) const {
  auto ticket = CookieTicket(request);
  if (!ticket) return std::unexpected(AuthFailure::kDenied);
  std::int64_t now = clock_.Now();
  auto verified = keys_.Verify(*ticket, now);
  if (!verified) {
    log::Debug(std::string("ticket refused: ") + std::string(Describe(verified.error())));
    return std::unexpected(AuthFailure::kDenied);
  }
  SessionCheck check =
      cache_.CheckTicket(verified->userid(), verified->time(), verified->revocation_id(), now);
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

std::expected<void, AuthFailure> TicketService::Logout(store::AuthStore& store,
                                                       const Identity& identity,
                                                       std::string_view client) const {
  auto revoked =
      store.EndSession({identity.revocation_id, identity.ticket_expires_at}, identity.userid);
  if (!revoked) return std::unexpected(FromStore(revoked.error()));
  // This worker knows at once; the others hear it through NOTIFY.
  std::int64_t now = clock_.Now();
  for (const auto& ticket : *revoked)
    cache_.AddRevocation(ticket.revocation_id, ticket.expires_at, now);
  (void)store.Audit("logout", identity.userid, client, "");
  return {};
}

}  // namespace tessera::auth
