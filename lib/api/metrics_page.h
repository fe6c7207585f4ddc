// GET /metrics (DESIGN.md, "Metrics"): the worker's counters (metrics/metrics.h) and a few
// gauges read at scrape time, in Prometheus text format, for loopback clients and the config's
// `metrics_allow` ranges only; anyone else gets 403. The shipped web server snippets never pass
// /metrics on (conf/nginx, conf/apache): behind a proxy on the same machine every client would
// look like loopback, so the address check is the second fence, not the only one.
//
// Gauges: tessera_auth_cache_accounts and tessera_auth_cache_grants (entries the session cache
// holds, negative ones included), tessera_auth_cache_fresh (1 while the cache hears from
// PostgreSQL, else authentication answers 503) and tessera_database_up (1 when PostgreSQL
// answered a trivial query during this scrape: one query per scrape, never more).
#pragma once

#include <expected>
#include <string>
#include <vector>

#include "auth/session_cache.h"
#include "http/address_range.h"
#include "http/request.h"
#include "http/response.h"
#include "store/database.h"

namespace tessera::api {

class MetricsPage {
 public:
  // Parses `allow` (config metrics_allow: addresses and CIDR ranges). Returns a message naming
  // the first entry that is neither.
  static std::expected<MetricsPage, std::string> Make(const std::vector<std::string>& allow);

  // Whether REMOTE_ADDR `remote_addr` may read the page: loopback or in an allowed range.
  bool Allows(std::string_view remote_addr) const;
  // The page for `request` (403 when it may not read it). `sessions` may be null (no gauges for
  // it). Thread-safe when `db` is.
  http::Response Serve(const http::Request& request, store::Database& db,
                       const auth::SessionCache* sessions) const;

 private:
  std::vector<http::AddressRange> allow_;
};

}  // namespace tessera::api
