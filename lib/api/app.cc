#include "api/app.h"

#include "auth/login_request.h"
#include "http/params.h"

namespace tessera::api {

using http::Method;
using http::PathParams;
using http::Request;
using http::Response;

namespace {
constexpr std::string_view kCookieAttributes = "; Secure; SameSite=Lax; HttpOnly; Path=/";

Response Denied() { return http::JsonError(401, "authentication failure"); }
Response Unavailable() { return http::JsonError(503, "service unavailable, try again later"); }
Response FromFailure(auth::AuthFailure f) {
  return f == auth::AuthFailure::kUnavailable ? Unavailable() : Denied();
}
}  // namespace

App::App(const config::Config& config, store::Database& db, Services services)
    : config_(config), db_(db), services_(services) {
  version_body_ =
      http::JsonData({{"version", kVersion}, {"release", "0"}, {"repoid", "tessera"}}).body;
  auto bind = [this](Response (App::*method)(Request&) const) {
    return [this, method](Request& r, const PathParams&) { return (this->*method)(r); };
  };
  router_.Add(Method::kGet, "/api2/json/version", [this](Request&, const PathParams&) { return Version(); });
  router_.Add(Method::kGet, "/api2/json/health", [this](Request&, const PathParams&) { return Health(); });
  router_.Add(Method::kPost, "/api2/json/access/ticket", bind(&App::Login));
  router_.Add(Method::kDelete, "/api2/json/access/ticket", bind(&App::Logout));
  router_.Add(Method::kGet, "/api2/json/access/whoami", bind(&App::Whoami));
  auto backup = [this](Request& r, const PathParams& p) { return Backup(r, p); };
  for (Method m : {Method::kGet, Method::kHead, Method::kPost, Method::kDelete}) {
    router_.Add(m, "/backup/{rest*}", backup);
  }
}

Response App::Backup(Request& request, const PathParams& params) const {
  if (services_.backup == nullptr) return http::JsonError(503, "backup endpoints are not configured");
  return services_.backup->Handle(request, params.at("rest"), db_);
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
  auto params = http::ReadBodyParams(request, config_.max_body_bytes);
  if (!params) return http::JsonError(params.error().status, params.error().message);
  auto login = auth::ParseLoginRequest(*params);
  if (!login) return http::JsonError(login.error().status, login.error().message);
  if (services_.tickets == nullptr) return Unavailable();

  std::optional<std::string> cookie;
  if (login->http_only) cookie = auth::TicketService::CookieTicket(request);
  auto result = services_.tickets->Login(db_, *login, cookie, request.remote_addr);
  if (!result) return FromFailure(result.error());

  if (!login->http_only) {
    return http::JsonData({{"username", result->userid},
                           {"ticket", result->ticket},
                           {"CSRFPreventionToken", result->csrf_token}});
  }
  Response response = http::JsonData({{"username", result->userid},
                                       {"ticket-info", crypto::TicketInfo(result->ticket)},
                                       {"CSRFPreventionToken", result->csrf_token}});
  response.AddHeader("Set-Cookie",
                     std::string(auth::kHostCookie) + "=" + result->ticket + std::string(kCookieAttributes));
  return response;
}

Response App::Logout(Request& request) const {
  if (services_.tickets == nullptr) return Unavailable();
  auto identity = services_.tickets->Authenticate(request);
  if (!identity) return FromFailure(identity.error());
  if (auto done = services_.tickets->Logout(db_, *identity, request.remote_addr); !done) {
    return FromFailure(done.error());
  }
  Response response = http::JsonData(nlohmann::json::object());
  response.AddHeader("Set-Cookie", std::string(auth::kHostCookie) +
                                       "=; Expires=Thu, 01 Jan 1970 00:00:00 GMT" +
                                       std::string(kCookieAttributes));
  return response;
}

Response App::Whoami(Request& request) const {
  if (services_.tickets == nullptr) return Unavailable();
  auto identity = services_.tickets->Authenticate(request);
  if (!identity) return FromFailure(identity.error());
  return http::JsonData({{"userid", identity->userid}, {"auth", identity->method}});
}

}  // namespace tessera::api
