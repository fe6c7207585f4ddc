#include "api/metrics_page.h"

#include <algorithm>

#include "metrics/metrics.h"
#include "metrics/text_format.h"

namespace tessera::api {

std::expected<MetricsPage, std::string> MetricsPage::Make(const std::vector<std::string>& allow) {
  MetricsPage page;
  for (const std::string& entry : allow) {
    auto range = http::ParseAddressRange(entry);
    if (!range)
      return std::unexpected("metrics_allow: `" + entry +
                             "` is not an IP address or a CIDR range without host bits");
    page.allow_.push_back(*range);
  }
  return page;
}

bool MetricsPage::Allows(std::string_view remote_addr) const {
  auto client = http::ParseClientAddress(remote_addr);
  if (!client) return false;
  return http::IsLoopback(*client) ||
         std::any_of(allow_.begin(), allow_.end(),
                     [&](const http::AddressRange& range) { return range.Contains(*client); });
}

http::Response MetricsPage::Serve(const http::Request& request, store::Database& db,
                                  const auth::SessionCache* sessions) const {
  if (!Allows(request.remote_addr))
    return http::JsonError(403, "metrics are served to loopback and metrics_allow addresses only");
  metrics::TextWriter out;
  metrics::Render(out);
  auto gauge = [&out](std::string_view name, std::string_view help, double value) {
    out.Family(name, "gauge", help);
    out.Sample(name, {}, value);
  };
  if (sessions != nullptr) {
    gauge("tessera_auth_cache_accounts",
          "Accounts the session cache holds, negative entries included.",
          static_cast<double>(sessions->accounts_held()));
    gauge("tessera_auth_cache_grants", "Token grants the session cache holds, negative included.",
          static_cast<double>(sessions->grants_held()));
    gauge("tessera_auth_cache_fresh",
          "1 while the session cache hears from PostgreSQL; 0: authentication answers 503.",
          sessions->IsFresh() ? 1 : 0);
  }
  gauge("tessera_database_up", "1 when PostgreSQL answered a trivial query during this scrape.",
        db.Ping() ? 1 : 0);
  http::Response response;
  response.AddHeader("Content-Type", std::string(metrics::kContentType));
  response.AddHeader("Cache-Control", "no-store");
  response.body = out.text();
  return response;
}

}  // namespace tessera::api
