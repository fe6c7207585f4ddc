#include "auth/fair_share.h"

#include <algorithm>
#include <memory>
#include <utility>

namespace tessera::auth {

// The share a request holds: given back to its FairShare when the request (and every copy of
// it) goes.
class FairShare::Hold final : public http::RequestHold {
 public:
  Hold(FairShare& owner, std::string tenant, std::string grant)
      : owner_(owner), tenant_(std::move(tenant)), grant_(std::move(grant)) {}
  ~Hold() override { owner_.Release(tenant_, grant_); }
  Hold(const Hold&) = delete;
  Hold& operator=(const Hold&) = delete;

 private:
  FairShare& owner_;
  std::string tenant_;
  std::string grant_;
};

ShareLimits SharesFor(int max_threads, int per_account, int per_grant) {
  ShareLimits limits;
  limits.per_account = per_account;
  limits.per_grant = per_grant;
  limits.total = max_threads;
  limits.reserve = std::clamp(max_threads / 8, std::min(4, max_threads / 2), max_threads / 2);
  return limits;
}

std::string_view Describe(ShareRefusal refusal) {
  switch (refusal) {
    case ShareRefusal::kAccount:
      return "the account has as many requests in flight as it may";
    case ShareRefusal::kGrant:
      return "the token has as many requests in flight as it may";
    case ShareRefusal::kFull:
      return "the worker's threads are nearly all held and the account holds its share";
  }
  return "?";
}

FairShare::FairShare(ShareLimits limits) : limits_(limits) {}

void FairShare::SetLimits(ShareLimits limits) {
  std::lock_guard lock(mutex_);
  limits_ = limits;
}

std::expected<void, ShareRefusal> FairShare::Admit(const http::Request& request,
                                                   std::string_view tenant,
                                                   std::string_view grant) {
  if (request.hold) return {};
  std::string tenant_key(tenant);
  std::string grant_key(grant);
  {
    std::lock_guard lock(mutex_);
    auto held = tenants_.find(tenant_key);
    int mine = held == tenants_.end() ? 0 : held->second;
    if (mine >= limits_.per_account) return std::unexpected(ShareRefusal::kAccount);
    if (!grant_key.empty()) {
      auto g = grants_.find(grant_key);
      if (g != grants_.end() && g->second >= limits_.per_grant)
        return std::unexpected(ShareRefusal::kGrant);
    }
    if (total_ >= limits_.total - limits_.reserve) {
      // Nearly full: an equal split of the shared threads among the tenants holding any (this
      // one included). A tenant under it gets in (from the reserve); one at or over it waits.
      int tenants = static_cast<int>(tenants_.size()) + (mine == 0 ? 1 : 0);
      int split = std::max(1, (limits_.total - limits_.reserve) / tenants);
      if (mine >= split) return std::unexpected(ShareRefusal::kFull);
    }
    ++tenants_[tenant_key];
    if (!grant_key.empty()) ++grants_[grant_key];
    ++total_;
  }
  request.hold = std::make_shared<const Hold>(*this, std::move(tenant_key), std::move(grant_key));
  return {};
}

void FairShare::Release(const std::string& tenant, const std::string& grant) {
  std::lock_guard lock(mutex_);
  if (auto t = tenants_.find(tenant); t != tenants_.end() && --t->second <= 0) tenants_.erase(t);
  if (!grant.empty()) {
    if (auto g = grants_.find(grant); g != grants_.end() && --g->second <= 0) grants_.erase(g);
  }
  --total_;
}

int FairShare::InFlight(std::string_view tenant) const {
  std::lock_guard lock(mutex_);
  auto t = tenants_.find(std::string(tenant));
  return t == tenants_.end() ? 0 : t->second;
}

int FairShare::InFlight() const {
  std::lock_guard lock(mutex_);
  return total_;
}

}  // namespace tessera::auth
