// Tessera's metrics (DESIGN.md, "Metrics"): what the layers count into the process's one
// registry (metrics/registry.h), and the names /metrics shows them under.
//
//   tessera_http_requests_total{route,method,status}         counter, one per request answered
//   tessera_http_request_duration_seconds{route}              histogram, arrival to last byte
//   tessera_blob_{read,write,delete}_total{account,repo,type} counters (after restic's
//   tessera_blob_{read,write,delete}_bytes_total{...}           rest-server), on success only
//   tessera_authentications_total{kind,outcome}               counter, one per credential checked
//
// The route is the access log's (the router's pattern, or the backup route with its object
// type), so no name of an object ever becomes a label; account is the userid, repo the
// repository path. Series of accounts and repositories are capped and shared fairly among
// accounts: each account admits at most kMaxBlobSeriesPerAccount label sets, past which its new
// repositories are counted as repo="other" under its own account label; at most kMaxBlobAccounts
// accounts are kept apart (later ones are account="other", repo="other"); kMaxBlobSeries bounds
// the whole group. Every other group is capped too.
// Gauges (cache sizes, database reachability) are read at scrape time by lib/api, not counted.
// Thread-safe: every function may be called from any request thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "metrics/registry.h"

namespace tessera::metrics {

// Distinct (account, repository, type) label sets kept apart: with restic's six object types,
// about 680 repositories. Each costs a few hundred bytes in each thread that counted it.
inline constexpr std::size_t kMaxBlobSeries = 4096;
// One account's share of them: about 85 repositories with all six types, so at least eight
// accounts fill the group before any account's new repositories must fold; an account past its
// share folds into account="<its name>", repo="other".
inline constexpr std::size_t kMaxBlobSeriesPerAccount = 512;
// Accounts kept apart: each costs at most its share plus its own "other" series (one per type).
inline constexpr std::size_t kMaxBlobAccounts = 1024;

enum class BlobOp { kRead, kWrite, kDelete };

// One request answered with `status` after `duration`. `route` empty (no route matched) is
// counted as route="unmatched".
void CountRequest(std::string_view route, std::string_view method, int status,
                  std::chrono::microseconds duration);
// One object of `type` ("config" for the repository's config) read, written or deleted, and its
// bytes (a read: the bytes the answer carries, a range's length for a ranged read).
void CountBlob(BlobOp op, std::string_view account, std::string_view repo, std::string_view type,
               std::uint64_t bytes);
// One authentication of credential `kind` (token, ticket, api_token) ending in `outcome` (ok,
// or the refusal's name).
void CountAuthentication(std::string_view kind, std::string_view outcome);

// Writes every counter and histogram above.
void Render(TextWriter& out);

}  // namespace tessera::metrics
