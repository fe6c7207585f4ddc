#include "api/app.h"

#include <algorithm>

#include "api/console.h"
#include "auth/login_request.h"
#include "http/client_address.h"
#include "http/cookies.h"
#include "http/params.h"

namespace tessera::api {

using http::Method;
using http::PathParams;
using http::Request;
using http::Response;

namespace {
using auth::kCookieAttributes;

Response Denied() { return http::AuthenticationRefused(401); }
Response Unavailable() { return http::AuthenticationRefused(503); }
Response FromFailure(auth::AuthFailure f, std::int64_t retry_after = 1) {
  switch (f) {
    case auth::AuthFailure::kDenied:
      return Denied();
    case auth::AuthFailure::kThrottled: {
      Response r = http::JsonError(429, "too many failed logins, try again later");
      r.AddHeader("Retry-After", std::to_string(std::max<std::int64_t>(retry_after, 1)));
      return r;
    }
    case auth::AuthFailure::kUnavailable:
      return Unavailable();
    case auth::AuthFailure::kInternal:
      return http::JsonError(500, "internal error");
  }
  return Denied();
}

// REMOTE_ADDR keys the login throttle and goes into the audit log: it must be an IP address.
std::expected<http::ClientAddress, Response> Client(const Request& request) {
  auto client = http::ParseClientAddress(request.remote_addr);
  if (!client)
    return std::unexpected(
        http::JsonError(400, "client address (REMOTE_ADDR) is not an IP address"));
  return std::move(*client);
}
}  // namespace

App::App(const config::Config& config, store::Database& db, Services services,
         const clock::Clock& clock)
    : config_(config),
      db_(db),
      services_(services),
      self_(services.tickets, services.tokens, services.storage, clock, config.max_body_bytes,
            config.repo_max_count) {
  if (services_.tickets != nullptr) tickets_door_.emplace(*services_.tickets, services_.shares);
  version_body_ =
      http::JsonData({{"version", kVersion}, {"release", "0"}, {"repoid", "tessera"}}).body;
  auto bind = [this](Response (App::*method)(Request&) const) {
    return [this, method](Request& r, const PathParams&) { return (this->*method)(r); };
  };
  router_.Add(Method::kGet, "/api2/json/version",
              [this](Request&, const PathParams&) { return Version(); });
  router_.Add(Method::kGet, "/api2/json/health",
              [this](Request&, const PathParams&) { return Health(); });
  // Outside /api2/, which the web server snippets pass on: they never pass /metrics.
  router_.Add(Method::kGet, "/metrics", [this](Request& r, const PathParams&) {
    if (services_.metrics == nullptr) return http::JsonError(404, "not found");
    return services_.metrics->Serve(r, db_, services_.sessions);
  });
  router_.Add(Method::kPost, "/api2/json/access/ticket", bind(&App::Login));
  router_.Add(Method::kDelete, "/api2/json/access/ticket", bind(&App::Logout));
  router_.Add(Method::kGet, "/api2/json/access/whoami", bind(&App::Whoami));
  // What a person does for themselves: changes need a ticket (and its CSRF token).
  auto as_person = [this](auto call) {
    return [this, call](Request& r, const PathParams& p) -> Response {
      auto who = ByTicket(r);
      if (!who) return who.error();
      return call(r, p, *who);
    };
  };
  router_.Add(Method::kGet, "/api2/json/access/tokens",
              as_person([this](Request&, const PathParams&, const auth::Principal& who) {
                return self_.ListTokens(who, db_);
              }));
  router_.Add(Method::kPost, "/api2/json/access/tokens",
              as_person([this](Request& r, const PathParams&, const auth::Principal& who) {
                return self_.MintToken(r, who, db_);
              }));
  router_.Add(Method::kDelete, "/api2/json/access/tokens/{name}",
              as_person([this](Request&, const PathParams& p, const auth::Principal& who) {
                return self_.RevokeToken(p.at("name"), who, db_);
              }));
  router_.Add(Method::kPut, "/api2/json/access/password",
              as_person([this](Request& r, const PathParams&, const auth::Principal& who) {
                return self_.ChangePassword(r, who, db_);
              }));
  router_.Add(Method::kGet, "/api2/json/repos", [this](Request& r, const PathParams&) {
    auto who = ByTicketOrApiToken(r);
    if (!who) return who.error();
    return self_.Repos(*who, db_);
  });
  router_.Add(Method::kGet, "/api2/json/usage", [this](Request& r, const PathParams&) {
    auto who = ByTicketOrApiToken(r);
    if (!who) return who.error();
    return self_.Usage(*who, db_);
  });
  // The browser console (api/console.h); HEAD falls back to these GET routes.
  router_.Add(Method::kGet, "/",
              [](Request&, const PathParams&) { return ServeConsole("index.html"); });
  router_.Add(Method::kGet, "/console/{file}",
              [](Request&, const PathParams& p) { return ServeConsole(p.at("file")); });
  auto backup = [this](Request& r, const PathParams& p) { return Backup(r, p); };
  for (Method m : {Method::kGet, Method::kHead, Method::kPost, Method::kDelete}) {
    router_.Add(m, "/backup/{rest*}", backup);
  }
}

Response App::Backup(Request& request, const PathParams& params) const {
  if (services_.backup == nullptr)
    return http::JsonError(503, "backup endpoints are not configured");
  return services_.backup->Handle(request, params.at("rest"));
}

Response App::Version() const {
  Response response;
  response.AddHeader("Content-Type", "application/json");
  response.body = version_body_;
  return response;
}

Response App::Health() const {
  if (!db_.Ping()) return http::JsonError(503, "database unavailable");
  return http::JsonData({{"database", "ok"}});
}

Response App::Login(Request& request) const {
  if (auto origin = auth::CheckLoginOrigin(request); !origin) {
    return http::JsonError(origin.error().status, origin.error().message);
  }
  auto client = Client(request);
  if (!client) return client.error();
  // The body is read before anyone is known: a client address (IPv6 by /64, as the throttle
  // counts it) holds at most a tenant's share of the threads while its logins are read.
  if (services_.shares != nullptr) {
    if (auto admitted = services_.shares->Admit(request, "client:" + client->network, "");
        !admitted) {
      return http::AuthenticationRefused(429);
    }
  }
  auto params = http::ReadBodyParams(request, config_.max_body_bytes);
  if (!params) return http::JsonError(params.error().status, params.error().message);
  auto login = auth::ParseLoginRequest(*params);
  if (!login) return http::JsonError(login.error().status, login.error().message);
  if (services_.tickets == nullptr) return Unavailable();

  std::optional<std::string> cookie;
  if (login->http_only) cookie = auth::TicketService::CookieTicket(request);
  auto result = services_.tickets->Login(db_, *login, cookie, *client);
  if (!result) return FromFailure(result.error().kind, result.error().retry_after);
  request.access.account = result->userid;

  if (!login->http_only) {
    return http::JsonData({{"username", result->userid},
                           {"ticket", result->ticket},
                           {"CSRFPreventionToken", result->csrf_token}});
  }
  Response response = http::JsonData({{"username", result->userid},
                                      {"ticket-info", crypto::TicketInfo(result->ticket)},
                                      {"CSRFPreventionToken", result->csrf_token}});
  // Percent-encoded as Proxmox clients expect, and as CookieTicket decodes it: a userid may hold
  // ';', '%' or other bytes a raw cookie value cannot carry.
  response.AddHeader("Set-Cookie", std::string(auth::kHostCookie) + "=" +
                                       http::EncodeCookieValue(result->ticket) +
                                       std::string(kCookieAttributes));
  return response;
}

Response App::Logout(Request& request) const {
  if (services_.tickets == nullptr) return Unavailable();
  auto client = Client(request);
  if (!client) return client.error();
  auto who = ByTicket(request);
  if (!who) return who.error();
  if (auto done = services_.tickets->Logout(db_, *who->ticket(), client->address); !done) {
    return FromFailure(done.error());
  }
  Response response = http::JsonData(nlohmann::json::object());
  response.AddHeader("Set-Cookie", std::string(auth::kHostCookie) +
                                       "=; Expires=Thu, 01 Jan 1970 00:00:00 GMT" +
                                       std::string(kCookieAttributes));
  return response;
}

Response App::Whoami(Request& request) const {
  auto who = ByTicketOrApiToken(request);
  if (!who) return who.error();
  if (who->credential() == auth::Credential::kTicket)
    return http::JsonData({{"userid", who->userid()}, {"auth", "cookie"}});
  return http::JsonData({{"userid", who->userid()},
                         {"auth", "token"},
                         {"tokenid", who->userid() + "!" + who->grant_name()}});
}

std::expected<auth::Principal, Response> App::ByTicket(const Request& request) const {
  if (!tickets_door_) return std::unexpected(Unavailable());
  auto who = tickets_door_->Authenticate(request, auth::Credential::kTicket);
  if (!who) return std::unexpected(http::AuthenticationRefused(auth::HttpStatus(who.error())));
  return std::move(*who);
}

std::expected<auth::Principal, Response> App::ByTicketOrApiToken(const Request& request) const {
  auto header = request.Header("authorization");
  if (!header || !header->starts_with("PBSAPIToken=")) return ByTicket(request);
  if (services_.token_door == nullptr) return std::unexpected(Unavailable());
  auto who = services_.token_door->Authenticate(request, auth::Credential::kApiToken);
  if (!who) return std::unexpected(http::AuthenticationRefused(auth::HttpStatus(who.error())));
  return std::move(*who);
}

}  // namespace tessera::api
