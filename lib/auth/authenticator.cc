#include "auth/authenticator.h"

#include "log/log.h"
#include "metrics/metrics.h"
#include "names/userid.h"

namespace tessera::auth {
namespace {

AuthRefusal FromCache(SessionCheck check) {
  switch (check) {
    case SessionCheck::kUnknownAccount:
      return AuthRefusal::kUnknownAccount;
    case SessionCheck::kDisabled:
      return AuthRefusal::kDisabled;
    case SessionCheck::kAccountExpired:
      return AuthRefusal::kAccountExpired;
    case SessionCheck::kGrantExpired:
      return AuthRefusal::kGrantExpired;
    case SessionCheck::kRevoked:
      return AuthRefusal::kRevoked;
    case SessionCheck::kUnavailable:
      return AuthRefusal::kUnavailable;
    case SessionCheck::kUnknownGrant:
      return AuthRefusal::kUnknownGrant;
    case SessionCheck::kSessionEnded:  // tickets only
    case SessionCheck::kOk:
      break;
  }
  return AuthRefusal::kBadCredentials;
}

// The names of tessera_authentications_total's labels (metrics/metrics.h).
std::string_view KindLabel(Credential kind) {
  switch (kind) {
    case Credential::kToken:
      return "token";
    case Credential::kTicket:
      return "ticket";
    case Credential::kApiToken:
      return "api_token";
  }
  return "?";
}

std::string_view OutcomeLabel(AuthRefusal refusal) {
  switch (refusal) {
    case AuthRefusal::kNoCredentials:
      return "no_credentials";
    case AuthRefusal::kBadCredentials:
      return "bad_credentials";
    case AuthRefusal::kUnknownAccount:
      return "unknown_account";
    case AuthRefusal::kDisabled:
      return "disabled";
    case AuthRefusal::kAccountExpired:
      return "account_expired";
    case AuthRefusal::kUnknownGrant:
      return "unknown_grant";
    case AuthRefusal::kRevoked:
      return "revoked";
    case AuthRefusal::kGrantExpired:
      return "grant_expired";
    case AuthRefusal::kBadSubject:
      return "bad_subject";
    case AuthRefusal::kNoAccountId:
      return "no_account_id";
    case AuthRefusal::kUnavailable:
      return "unavailable";
    case AuthRefusal::kBusy:
      return "busy";
  }
  return "?";
}

std::expected<Principal, AuthRefusal> Refuse(AuthRefusal refusal) {
  log::Debug("credentials refused: " + std::string(Describe(refusal)));
  return std::unexpected(refusal);
}

}  // namespace

std::string_view Describe(AuthRefusal refusal) {
  switch (refusal) {
    case AuthRefusal::kNoCredentials:
      return "no credentials of the accepted kind";
    case AuthRefusal::kBadCredentials:
      return "credentials do not verify";
    case AuthRefusal::kUnknownAccount:
      return "unknown account";
    case AuthRefusal::kDisabled:
      return "account disabled";
    case AuthRefusal::kAccountExpired:
      return "account expired";
    case AuthRefusal::kUnknownGrant:
      return "no such token grant for this account";
    case AuthRefusal::kRevoked:
      return "token grant revoked";
    case AuthRefusal::kGrantExpired:
      return "token grant expired";
    case AuthRefusal::kBadSubject:
      return "token subject is not a userid";
    case AuthRefusal::kNoAccountId:
      return "grant has no account id";
    case AuthRefusal::kUnavailable:
      return "session state unavailable";
    case AuthRefusal::kBusy:
      return "no share of the worker's threads left";
  }
  return "?";
}

int HttpStatus(AuthRefusal refusal) {
  switch (refusal) {
    case AuthRefusal::kUnavailable:
      return 503;
    case AuthRefusal::kBusy:
      return 429;
    default:
      return 401;
  }
}

bool Principal::Covers(std::string_view repo) const {
  if (credential_ != Credential::kToken) return false;
  return (!grant_repo_ || *grant_repo_ == repo) && (!token_repo_ || *token_repo_ == repo);
}

Authenticator::Authenticator(const TokenFactory& tokens, SessionCache& cache,
                             const clock::Clock& clock, FairShare* shares)
    : tokens_(&tokens), cache_(&cache), clock_(&clock), shares_(shares) {}

Authenticator::Authenticator(const TicketService& tickets, FairShare* shares)
    : tickets_(&tickets), shares_(shares) {}

std::expected<Principal, AuthRefusal> Authenticator::Authenticate(const http::Request& request,
                                                                  Credential accepted) const {
  // Who it was goes into the request's access note (names only), how it went into the metrics.
  auto noted = [this, &request, accepted](std::expected<Principal, AuthRefusal> who) {
    if (who) {
      request.access.account = who->userid();
      if (who->credential() != Credential::kTicket) request.access.token = who->grant_name();
    }
    // The account (all its credentials together) and the token each hold at most their share of
    // the threads; the request keeps its share until it is answered.
    if (who && shares_ != nullptr) {
      if (auto admitted = shares_->Admit(request, "account:" + who->userid(), who->grant_id());
          !admitted) {
        log::Debug("request of " + who->userid() +
                   " refused: " + std::string(Describe(admitted.error())));
        who = std::unexpected(AuthRefusal::kBusy);
      }
    }
    metrics::CountAuthentication(KindLabel(accepted), who ? "ok" : OutcomeLabel(who.error()));
    return who;
  };
  switch (accepted) {
    case Credential::kToken:
      if (tokens_ == nullptr) break;
      if (auto untrusted = BearerFromRequest(request)) return noted(ByToken(*untrusted, nullptr));
      break;
    case Credential::kApiToken:
      if (tokens_ == nullptr) break;
      if (auto claimed = ApiTokenFromRequest(request)) {
        return noted(ByToken(claimed->token, &*claimed));
      }
      break;
    case Credential::kTicket:
      if (tickets_ != nullptr) return noted(ByTicket(request));
      break;
  }
  return noted(std::unexpected(AuthRefusal::kNoCredentials));
}

std::expected<Principal, AuthRefusal> Authenticator::ByToken(
    std::string_view untrusted, const ApiTokenCredential* claimed) const {
  auto token = tokens_->Verify(untrusted);
  if (!token) {
    log::Debug("bearer token refused: " + std::string(Describe(token.error())));
    return std::unexpected(AuthRefusal::kBadCredentials);
  }
  // The grant must exist for this account, unrevoked and unexpired, and the account enabled: from
  // the worker's cache, kept current by NOTIFY, which reads from the database what it does not
  // hold (a token used for the first time, or since its grant changed) and remembers it. Only a
  // token our key signed gets here, so strangers cannot drive those reads or fill the cache.
  auto grant = cache_->CheckGrant(token->jti(), token->subject(), clock_->Now());
  if (!grant) return Refuse(FromCache(grant.error()));
  if (claimed != nullptr && (claimed->userid != token->subject() || claimed->name != grant->name)) {
    return Refuse(AuthRefusal::kBadCredentials);
  }
  // Storage is keyed on the account's immutable id from the grant row, never on the subject's
  // name: a subject that is not a userid, or a row without an account id, reaches nothing.
  if (!names::IsValidUserid(token->subject())) return Refuse(AuthRefusal::kBadSubject);
  if (grant->account_id <= 0) {
    log::Warning("grant of " + token->subject() + " has no account id; refused");
    return std::unexpected(AuthRefusal::kNoAccountId);
  }
  Principal p;
  p.credential_ = Credential::kToken;
  p.userid_ = token->subject();
  p.account_id_ = grant->account_id;
  p.grant_id_ = token->jti();
  p.grant_name_ = grant->name;
  const Permissions& signed_rights = token->permissions();
  p.rights_ = {signed_rights.read && grant->read, signed_rights.write && grant->write,
               signed_rights.del && grant->del};
  p.grant_repo_ = grant->repo;
  p.token_repo_ = token->repo();
  return p;
}

std::expected<Principal, AuthRefusal> Authenticator::ByTicket(const http::Request& request) const {
  if (!TicketService::CookieTicket(request)) return std::unexpected(AuthRefusal::kNoCredentials);
  auto identity = tickets_->Authenticate(request);
  if (!identity) {
    // TicketService logs the reason; it tells only denied from unavailable.
    return std::unexpected(identity.error() == AuthFailure::kUnavailable
                               ? AuthRefusal::kUnavailable
                               : AuthRefusal::kBadCredentials);
  }
  Principal p;
  p.credential_ = Credential::kTicket;
  p.userid_ = identity->userid;
  p.ticket_ = std::move(*identity);
  return p;
}

}  // namespace tessera::auth
