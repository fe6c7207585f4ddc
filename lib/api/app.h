// The HTTP API: the routes of DESIGN.md bound to their handlers.
//
// One App shared by all worker threads; Handle() is thread-safe when `db` is (the worker passes
// the database pool).
// Handle() never throws for bad input (that is an error answer); exceptions only escape for
// bugs, which the adapter's fence turns into a 500.
#pragma once

#include <expected>
#include <optional>
#include <string>

#include "api/metrics_page.h"
#include "api/self_service.h"
#include "auth/authenticator.h"
#include "auth/ticket_service.h"
#include "backup/rest_handler.h"
#include "config/config.h"
#include "http/request.h"
#include "http/response.h"
#include "http/router.h"
#include "store/database.h"

namespace tessera::api {

inline constexpr std::string_view kVersion = "0.1.0";

// What every thread shares; owned by main, immutable while threads run.
struct Services {
  const auth::TicketService* tickets = nullptr;
  const backup::RestHandler* backup = nullptr;  // null: backup endpoints off (503)
  // Set with `backup`: minting tokens, PBSAPIToken on the JSON API, the repository overview.
  const auth::TokenFactory* tokens = nullptr;
  const auth::Authenticator* token_door = nullptr;
  backup::Storage* storage = nullptr;
  // GET /metrics; null: 404. `sessions` (may be null) gives its cache gauges.
  const MetricsPage* metrics = nullptr;
  const auth::SessionCache* sessions = nullptr;
  // Every authenticated request, and every login by its client address, is admitted to its
  // share of the worker's threads (auth/fair_share.h); null: no shares.
  auth::FairShare* shares = nullptr;
};

class App {
 public:
  // `db` and everything in `services` must outlive the App.
  App(const config::Config& config, store::Database& db, Services services,
      const clock::Clock& clock);

  http::Response Handle(http::Request& request) const { return router_.Dispatch(request); }

 private:
  http::Response Version() const;
  http::Response Health() const;
  http::Response Login(http::Request& request) const;
  http::Response Logout(http::Request& request) const;
  http::Response Whoami(http::Request& request) const;
  http::Response Backup(http::Request& request, const http::PathParams& params) const;
  // The request's ticket principal, or the answer to a refusal (401, 503).
  std::expected<auth::Principal, http::Response> ByTicket(const http::Request& request) const;
  // The same, or a PBSAPIToken principal when the request sends one (read-only routes).
  std::expected<auth::Principal, http::Response> ByTicketOrApiToken(
      const http::Request& request) const;

  const config::Config& config_;
  store::Database& db_;
  Services services_;
  std::optional<auth::Authenticator> tickets_door_;  // set when services_.tickets is
  SelfService self_;
  http::Router router_;
  std::string version_body_;  // /version never changes: rendered once
};

}  // namespace tessera::api
