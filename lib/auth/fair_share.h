// Fair shares of the worker's threads between tenants (DESIGN.md, "Fair share").
//
// A request holds a worker thread from the moment its parameters arrive until its answer is
// written, for as long as its client takes to send the body or the web server to take the
// answer (behind Apache, a slow reader's pace). Threads are few and every account shares them,
// so each tenant may hold only its share: at most `per_account` requests in flight for one
// account (tokens, tickets and API tokens of it together) and `per_grant` for one token. And
// once the requests in flight come within `reserve` of the worker's `total` threads, a tenant
// that holds as many as an equal split among the tenants holding any is refused too (max-min
// fairness): one that holds fewer still gets in, so the reserve goes to the tenants under
// their share, never to the one over it. A refusal happens before the request's body is read
// and costs its client a moment of one thread: the answer is 429 with Retry-After, which restic
// retries.
//
// Requests that read a body before anyone is authenticated (a login) are shared the same way
// per client address: the caller names the tenant (auth/authenticator.h, api/app.h).
//
// A share is held by the request (http::Request::hold) and given back when the request goes,
// after its answer is written. Counts exist only for requests in flight, so memory is bounded by
// the worker's threads. Thread-safe: one FairShare serves every thread for the life of the
// process, across configuration reloads (which may change the limits).
#pragma once

#include <cstdint>
#include <expected>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "http/request.h"

namespace tessera::auth {

struct ShareLimits {
  int per_account = 16;  // requests in flight of one tenant; restic opens 5 connections
  int per_grant = 8;     // requests in flight of one token
  int total = 128;       // the worker's threads (max_threads)
  int reserve = 16;      // threads past which tenants over an equal split are refused
};

// The share limits a worker with `max_threads` threads uses: `reserve` is an eighth of them, at
// least 4 and never more than half.
ShareLimits SharesFor(int max_threads, int per_account, int per_grant);

enum class ShareRefusal {
  kAccount,  // the tenant holds per_account requests already
  kGrant,    // the token holds per_grant requests already
  kFull,     // the threads are nearly all held and this tenant holds its equal split or more
};

// A short English reason, for logs.
std::string_view Describe(ShareRefusal refusal);

class FairShare {
 public:
  explicit FairShare(ShareLimits limits);
  FairShare(const FairShare&) = delete;
  FairShare& operator=(const FairShare&) = delete;

  // Takes a share for `request` on behalf of `tenant` (and of `grant`, when not empty), held by
  // the request until it goes. A request that holds a share already keeps it and is admitted
  // again (one request authenticated twice counts once). Fails, and changes nothing, when the
  // tenant or the grant has no share left.
  [[nodiscard]] std::expected<void, ShareRefusal> Admit(const http::Request& request,
                                                        std::string_view tenant,
                                                        std::string_view grant);

  // New limits, for the requests admitted from now on (a configuration reload).
  void SetLimits(ShareLimits limits);

  // Requests in flight of `tenant`, and of all tenants (tests, metrics).
  int InFlight(std::string_view tenant) const;
  int InFlight() const;

 private:
  class Hold;
  void Release(const std::string& tenant, const std::string& grant);

  mutable std::mutex mutex_;
  ShareLimits limits_;
  std::unordered_map<std::string, int> tenants_;  // only tenants with requests in flight
  std::unordered_map<std::string, int> grants_;
  int total_ = 0;
};

}  // namespace tessera::auth
