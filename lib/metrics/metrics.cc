#include "metrics/metrics.h"

#include <string>

namespace tessera::metrics {
namespace {

// Routes are the router's patterns and the backup routes (a few dozen), methods and statuses a
// few each: the caps are never reached by what the worker answers, they only bound a bug.
constexpr std::size_t kMaxRequestSeries = 1024;
constexpr std::size_t kMaxDurationSeries = 256;
constexpr std::size_t kMaxAuthSeries = 256;

// From a millisecond (version, a cached token check) to minutes (a 128 MiB pack on a slow link).
const std::vector<double> kDurationBounds = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                             0.5,   1,      2.5,   5,    10,    30,   60,  300};

struct Metrics {
  Registry registry;
  Group requests = registry.AddCounters(
      {{"tessera_http_requests_total", "Requests answered, by route, method and status."}},
      {{"route", false}, {"method", true}, {"status", true}}, kMaxRequestSeries);
  Group duration =
      registry.AddHistogram({"tessera_http_request_duration_seconds",
                             "Time from a request's arrival to its answer's last byte, by route."},
                            {{"route", false}}, kDurationBounds, kMaxDurationSeries);
  // In BlobOp order, each a count and its bytes: Add() starts at 2 * op.
  Group blobs = registry.AddCounters(
      {{"tessera_blob_read_total", "Objects read, by account, repository and type."},
       {"tessera_blob_read_bytes_total", "Bytes of objects read."},
       {"tessera_blob_write_total", "Objects written."},
       {"tessera_blob_write_bytes_total", "Bytes of objects written."},
       {"tessera_blob_delete_total", "Objects deleted."},
       {"tessera_blob_delete_bytes_total", "Bytes of objects deleted."}},
      {{"account", false}, {"repo", false}, {"type", true}}, kMaxBlobSeries,
      Partition{0, kMaxBlobSeriesPerAccount, kMaxBlobAccounts});
  Group authentications = registry.AddCounters(
      {{"tessera_authentications_total",
        "Credentials checked, by kind (token, ticket, api_token) and outcome."}},
      {{"kind", true}, {"outcome", true}}, kMaxAuthSeries);
};

Metrics& Process() {
  static Metrics metrics;
  return metrics;
}

}  // namespace

void CountRequest(std::string_view route, std::string_view method, int status,
                  std::chrono::microseconds duration) {
  Metrics& m = Process();
  if (route.empty()) route = "unmatched";  // an empty label value would read as no label at all
  std::string code = std::to_string(status);
  m.registry.Add(m.requests, {route, method, code}, 0, {1});
  m.registry.Observe(m.duration, {route}, static_cast<double>(duration.count()) / 1e6);
}

void CountBlob(BlobOp op, std::string_view account, std::string_view repo, std::string_view type,
               std::uint64_t bytes) {
  Metrics& m = Process();
  m.registry.Add(m.blobs, {account, repo, type}, 2 * static_cast<std::size_t>(op), {1, bytes});
}

void CountAuthentication(std::string_view kind, std::string_view outcome) {
  Metrics& m = Process();
  m.registry.Add(m.authentications, {kind, outcome}, 0, {1});
}

void Render(TextWriter& out) { Process().registry.Render(out); }

}  // namespace tessera::metrics
