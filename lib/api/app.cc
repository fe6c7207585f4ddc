#include "api/app.h"

#include "auth/login_request.h"
#include "http/params.h"

namespace tessera::api {

using http::Method;
using http::PathParams;
using http::Request;
using http::Response;

App::App(const config::Config& config, store::Database& db) : config_(config), db_(db) {
  version_body_ = http::JsonData({{"version", kVersion}, {"release", "0"}, {"repoid", "tessera"}}).body;
  router_.Add(Method::kGet, "/api2/json/version",
              [this](Request&, const PathParams&) { return Version(); });
  router_.Add(Method::kGet, "/api2/json/health",
              [this](Request&, const PathParams&) { return Health(); });
  router_.Add(Method::kPost, "/api2/json/access/ticket",
              [this](Request& r, const PathParams&) { return Login(r); });
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
  // Ticket issuing is not built yet: every login fails closed with the generic answer.
  return http::JsonError(401, "authentication failure");
}

}  // namespace tessera::api
