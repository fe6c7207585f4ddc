#include "api/self_service.h"

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>

#include "auth/login_request.h"
#include "auth/password_policy.h"
#include "auth/token_lifetime.h"
#include "backup/repo_path.h"
#include "crypto/secret_bytes.h"
#include "crypto/ticket.h"
#include "http/client_address.h"
#include "http/cookies.h"
#include "http/params.h"
#include "log/log.h"
#include "store/notification.h"

namespace tessera::api {
namespace {

using http::JsonError;
using http::Response;

// Proxmox's token-name grammar, bounded as sql/0008 bounds it.
bool IsGrantName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && c != '_' && (i == 0 || (c != '.' && c != '-'))) return false;
  }
  return true;
}

// The longest a grant may live: PostgreSQL's interval '10 years' (3600 days), which
// tessera.check_grant_shape holds every grant to.
constexpr std::int64_t kLongestGrantSeconds = 3600LL * 86400;

nlohmann::json Nullable(const std::optional<std::int64_t>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}
nlohmann::json Nullable(const std::optional<std::string>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

Response NoStore(Response response) {
  response.AddHeader("Cache-Control", "no-store");
  return response;
}

Response Unavailable() { return JsonError(503, "service unavailable, try again"); }

// The parameters of a new grant, or the 400 that names the bad one.
std::expected<store::GrantAsk, Response> ParseGrantAsk(const http::Params& params,
                                                       std::int64_t now) {
  static constexpr std::string_view kKnown[] = {"name",   "read", "write",
                                                "delete", "repo", "expire"};
  if (auto known = http::RequireKnownParams(params, kKnown); !known)
    return std::unexpected(JsonError(known.error().status, known.error().message));
  store::GrantAsk ask;
  auto name = params.find("name");
  if (name == params.end() || !IsGrantName(name->second)) {
    return std::unexpected(
        JsonError(400, "parameter 'name': 1 to 64 of A-Z a-z 0-9 _ . -, not starting with . or -"));
  }
  ask.name = name->second;
  for (auto [key, flag] : {std::pair{"read", &ask.read}, std::pair{"write", &ask.write},
                           std::pair{"delete", &ask.del}}) {
    auto it = params.find(key);
    if (it == params.end()) continue;
    auto value = http::ParseBool(it->second);
    if (!value)
      return std::unexpected(
          JsonError(400, std::string("parameter '") + key + "' must be a boolean"));
    *flag = *value;
  }
  if (!ask.read && !ask.write && !ask.del)
    return std::unexpected(JsonError(400, "a token needs at least one of read, write, delete"));
  if (auto repo = params.find("repo"); repo != params.end() && !repo->second.empty()) {
    if (!backup::IsRepoPath(repo->second))
      return std::unexpected(JsonError(400, "parameter 'repo' is not a repository path"));
    ask.repo = repo->second;
  }
  if (auto expire = params.find("expire"); expire != params.end() && expire->second != "0") {
    std::int64_t at = 0;
    auto [end, ec] =
        std::from_chars(expire->second.data(), expire->second.data() + expire->second.size(), at);
    if (ec != std::errc() || end != expire->second.data() + expire->second.size() || at <= now ||
        at - now > kLongestGrantSeconds) {
      return std::unexpected(JsonError(
          400, "parameter 'expire' must be a Unix time in the future, at most ten years ahead"));
    }
    ask.valid_for = at - now;
  }
  return ask;
}

}  // namespace

SelfService::SelfService(const auth::TicketService* tickets, const auth::TokenFactory* tokens,
                         backup::Storage* storage, const clock::Clock& clock,
                         std::size_t max_body_bytes, std::uint64_t default_repo_cap)
    : tickets_(tickets),
      tokens_(tokens),
      storage_(storage),
      clock_(clock),
      max_body_bytes_(max_body_bytes),
      default_repo_cap_(default_repo_cap) {}

Response SelfService::ListTokens(const auth::Principal& who, store::Database& db) const {
  auto grants = db.ListOwnGrants(who.userid(), kMaxListed);
  if (!grants) return Unavailable();
  nlohmann::json list = nlohmann::json::array();
  for (const store::OwnGrant& g : *grants) {
    list.push_back({{"name", g.name},
                    {"read", g.read},
                    {"write", g.write},
                    {"delete", g.del},
                    {"repo", Nullable(g.repo)},
                    {"created", g.created_at},
                    {"expire", g.expires_at},
                    {"revoked", Nullable(g.revoked_at)}});
  }
  return NoStore(http::JsonData(list));
}

Response SelfService::MintToken(http::Request& request, const auth::Principal& who,
                                store::Database& db) const {
  if (tokens_ == nullptr) return JsonError(503, "tokens are not configured (token_key)");
  auto params = http::ReadBodyParams(request, max_body_bytes_);
  if (!params) return JsonError(params.error().status, params.error().message);
  std::int64_t now = clock_.Now();
  auto ask = ParseGrantAsk(*params, now);
  if (!ask) return ask.error();
  auto grant = db.GrantOwn(who.userid(), *ask);
  if (!grant) {
    switch (grant.error().error) {
      case store::StoreError::kRefused:
        return JsonError(403, grant.error().message);
      case store::StoreError::kConflict:
        return JsonError(409, grant.error().message);
      case store::StoreError::kInvalid:
        return JsonError(400, grant.error().message);
      case store::StoreError::kNotFound:
        return http::AuthenticationRefused(401);  // the account went away meanwhile
      case store::StoreError::kUnavailable:
        break;
    }
    return Unavailable();
  }
  auto lifetime = auth::LifetimeForGrant(false, grant->expires_at, now);
  auto token = lifetime ? tokens_->Create({who.userid(),
                                           {grant->read, grant->write, grant->del},
                                           grant->repo,
                                           *lifetime,
                                           grant->jti})
                        : std::unexpected(auth::TokenError::kInvalidRequest);
  if (!token) {
    log::Error("grant " + grant->name + " of " + who.userid() + " made but not minted");
    return JsonError(500, "internal error");
  }
  Response response = http::JsonData({{"name", grant->name},
                                      {"token", *token},
                                      {"read", grant->read},
                                      {"write", grant->write},
                                      {"delete", grant->del},
                                      {"repo", Nullable(grant->repo)},
                                      {"expire", grant->expires_at}});
  crypto::WipeString(*token);
  return NoStore(std::move(response));
}

Response SelfService::RevokeToken(std::string_view name, const auth::Principal& who,
                                  store::Database& db) const {
  // Grants made before names existed are named after their jti, which may start with '-'.
  if (!IsGrantName(name) && !store::IsValidJti(name))
    return JsonError(404, "no live token of that name");
  auto revoked = db.RevokeOwn(who.userid(), name);
  if (!revoked) return Unavailable();
  if (!*revoked) return JsonError(404, "no live token of that name");
  return http::JsonData(nullptr);
}

Response SelfService::ChangePassword(http::Request& request, const auth::Principal& who,
                                     store::Database& db) const {
  if (tickets_ == nullptr || who.ticket() == nullptr) return Unavailable();
  auto client = http::ParseClientAddress(request.remote_addr);
  if (!client) return JsonError(400, "client address (REMOTE_ADDR) is not an IP address");
  auto params = http::ReadBodyParams(request, max_body_bytes_);
  if (!params) return JsonError(params.error().status, params.error().message);
  // Every secret in the parameters is wiped when they go, whatever the answer.
  struct Wipe {
    http::Params& p;
    ~Wipe() {
      for (auto& [key, value] : p) crypto::WipeString(value);
    }
  } wipe{*params};
  static constexpr std::string_view kKnown[] = {"userid", "password", "confirmation-password"};
  if (auto known = http::RequireKnownParams(*params, kKnown); !known)
    return JsonError(known.error().status, known.error().message);
  auto userid = params->find("userid");
  auto next = params->find("password");
  auto current = params->find("confirmation-password");
  if (userid == params->end()) return JsonError(400, "parameter 'userid' is required");
  if (userid->second != who.userid())
    return JsonError(403, "a person can change only their own password");
  if (current == params->end() || current->second.empty())
    return JsonError(400, "parameter 'confirmation-password' (the current password) is required");
  if (next == params->end()) return JsonError(400, "parameter 'password' is required");
  if (current->second.size() > auth::kMaxPasswordBytes)
    return JsonError(400, "parameter 'confirmation-password': at most 4096 bytes");
  if (auto strong = auth::CheckNewPassword(next->second, who.userid(), current->second); !strong)
    return JsonError(400, "parameter 'password': " + std::string(auth::Describe(strong.error())));

  auto changed =
      tickets_->ChangePassword(db, *who.ticket(), current->second, next->second, *client);
  if (!changed) {
    switch (changed.error().kind) {
      case auth::AuthFailure::kDenied:
        return JsonError(403, "the current password is wrong");
      case auth::AuthFailure::kThrottled: {
        Response r = JsonError(429, "too many failed attempts, try again later");
        r.AddHeader("Retry-After",
                    std::to_string(std::max<std::int64_t>(changed.error().retry_after, 1)));
        return r;
      }
      case auth::AuthFailure::kUnavailable:
        return Unavailable();
      case auth::AuthFailure::kInternal:
        break;
    }
    return JsonError(500, "internal error");
  }
  nlohmann::json data = {{"username", changed->userid},
                         {"ticket-info", crypto::TicketInfo(changed->ticket)},
                         {"CSRFPreventionToken", changed->csrf_token}};
  // A client that authenticated by the legacy cookie reads its ticket from the body.
  auto cookies = http::ParseCookies(request.Header("cookie").value_or(""));
  if (!cookies || !http::FindCookie(*cookies, auth::kHostCookie)) data["ticket"] = changed->ticket;
  Response response = http::JsonData(data);
  response.AddHeader("Set-Cookie", std::string(auth::kHostCookie) + "=" +
                                       http::EncodeCookieValue(changed->ticket) +
                                       std::string(auth::kCookieAttributes));
  crypto::WipeString(changed->ticket);
  return NoStore(std::move(response));
}

namespace {

// The account a ticket or token principal acts for (a ticket carries its userid only), or the
// answer to a failure.
std::expected<std::int64_t, Response> AccountOf(const auth::Principal& who, store::Database& db) {
  if (who.credential() != auth::Credential::kTicket) return who.account_id();
  auto found = db.FindAccount(who.userid());
  if (!found) return std::unexpected(Unavailable());
  if (!*found) return std::unexpected(http::AuthenticationRefused(401));
  return (*found)->id;
}

}  // namespace

Response SelfService::Repos(const auth::Principal& who, store::Database& db) const {
  if (storage_ == nullptr) return JsonError(503, "backup endpoints are not configured");
  auto account = AccountOf(who, db);
  if (!account) return account.error();
  std::optional<std::string> only;
  if (who.credential() != auth::Credential::kTicket) {
    if (!who.rights().read) return JsonError(403, "token has no read permission");
    // "" is no repository path, so only a principal without any scope covers it. A scoped
    // token reaches one repository, the grant row's when it names one.
    if (!who.Covers("")) {
      auto grant = db.FindGrant(who.grant_id());
      if (!grant) return Unavailable();
      if (*grant && (*grant)->repo) only = (*grant)->repo;
    }
  }
  // The books (repo_usage), never the storage: the cost does not grow with what is stored.
  auto repos = db.ListRepos(*account, only, kMaxListed);
  if (!repos) return Unavailable();
  nlohmann::json list = nlohmann::json::array();
  for (const store::RepoRow& r : *repos) {
    // A token lists only what it reaches: never the account's other repositories.
    if (who.credential() != auth::Credential::kTicket && !who.Covers(r.repo)) continue;
    list.push_back({{"repo", r.repo},
                    {"bytes", r.bytes},
                    {"objects", r.objects},
                    {"snapshots", r.snapshots},
                    {"last_snapshot", Nullable(r.last_snapshot)}});
  }
  return NoStore(http::JsonData(list));
}

Response SelfService::Usage(const auth::Principal& who, store::Database& db) const {
  auto account = AccountOf(who, db);
  if (!account) return account.error();
  if (who.credential() != auth::Credential::kTicket) {
    if (!who.rights().read) return JsonError(403, "token has no read permission");
    // The account's totals cover every repository: not for a token that reaches one.
    if (!who.Covers("")) return JsonError(403, "token is limited to one repository");
  }
  auto use = db.ReadAccountUse(*account, default_repo_cap_);
  if (!use) return Unavailable();
  if (!*use) return http::AuthenticationRefused(401);
  const store::AccountUse& u = **use;
  return NoStore(http::JsonData(
      {{"bytes", u.bytes},
       {"quota_bytes", u.quota_bytes ? nlohmann::json(*u.quota_bytes) : nlohmann::json(nullptr)},
       {"repos", u.repos},
       {"repo_max_count", u.repo_cap}}));
}

}  // namespace tessera::api
