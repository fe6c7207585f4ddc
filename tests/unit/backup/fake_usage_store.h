// An in-memory store::UsageStore for handler tests: per-account quotas, usage, reservations with
// leases and removal claims with the same rules as sql/0013 and sql/0016 (a reservation passes
// when usage + bytes <= quota + grace; a removal counts only under its claimer's claim; commits
// and releases of a settled reservation do nothing), and a switch that makes it unreachable.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "store/database.h"

namespace tessera::testing {

class FakeUsageStore final : public store::UsageStore {
 public:
  struct Claim {
    std::string claimer;
    std::int64_t lease_until;
  };
  struct Held {
    store::ReservationRow row;
    bool storing = false;
  };
  std::map<std::int64_t, std::uint64_t> quota;  // absent: unlimited
  std::map<std::int64_t, std::uint64_t> used;   // account: bytes reserved or stored
  std::map<std::pair<std::int64_t, std::string>, std::pair<std::uint64_t, std::uint64_t>>
      repos;  // (account, repo): (bytes, objects)
  std::map<std::pair<std::int64_t, std::string>, Claim> claims;  // removals in progress
  std::map<std::string, Held> reservations;                      // by id
  bool down = false;

  std::expected<bool, store::StoreError> ReserveUsage(const store::ReservationRow& r,
                                                      std::uint64_t grace) override {
    if (down) return std::unexpected(store::StoreError::kUnavailable);
    auto q = quota.find(r.account);
    if (q != quota.end() && used[r.account] + r.bytes > q->second + grace) return false;
    used[r.account] += r.bytes;
    reservations[r.id] = {r, false};
    return true;
  }
  std::expected<bool, store::StoreError> RenewUsage(std::string_view id, std::int64_t lease_until,
                                                    bool storing) override {
    if (down) return std::unexpected(store::StoreError::kUnavailable);
    auto it = reservations.find(std::string(id));
    if (it == reservations.end()) return false;
    it->second.row.lease_until = lease_until;
    it->second.storing = it->second.storing || storing;
    return true;
  }
  std::expected<void, store::StoreError> ReleaseUsage(std::int64_t account,
                                                      std::string_view id) override {
    if (down) return std::unexpected(store::StoreError::kUnavailable);
    auto it = reservations.find(std::string(id));
    if (it == reservations.end()) return {};
    used[account] -= std::min(used[account], it->second.row.bytes);
    reservations.erase(it);
    return {};
  }
  std::expected<void, store::StoreError> CommitUsage(std::int64_t account, std::string_view id,
                                                     std::string_view repo,
                                                     std::uint64_t bytes) override {
    if (down) return std::unexpected(store::StoreError::kUnavailable);
    auto it = reservations.find(std::string(id));
    if (it == reservations.end()) return {};
    // This upload made the object: its other marked reservations did not (as in PostgreSQL).
    Unmark(it->second.row, std::nullopt);
    reservations.erase(it);
    auto& r = repos[{account, std::string(repo)}];
    r.first += bytes;
    r.second += 1;
    return {};
  }
  std::expected<std::vector<store::ReservationRow>, store::StoreError> ExpireUsage(
      std::int64_t now, std::size_t limit) override {
    if (down) return std::unexpected(store::StoreError::kUnavailable);
    std::vector<store::ReservationRow> marked;
    for (auto it = reservations.begin(); it != reservations.end();) {
      const Held& h = it->second;
      if (h.row.lease_until >= now) {
        ++it;
      } else if (!h.storing) {
        used[h.row.account] -= std::min(used[h.row.account], h.row.bytes);
        it = reservations.erase(it);
      } else {
        if (marked.size() < limit) marked.push_back(h.row);
        ++it;
      }
    }
    return marked;
  }
  std::expected<bool, store::StoreError> SettleExpired(const store::ReservationRow& row,
                                                       std::int64_t now, bool stored) override {
    if (down) return std::unexpected(store::StoreError::kUnavailable);
    auto it = reservations.find(row.id);
    if (it == reservations.end() || !it->second.storing || it->second.row.lease_until >= now)
      return false;
    if (stored) {
      Unmark(it->second.row, now);
      auto& r = repos[{row.account, row.repo}];
      r.first += row.bytes;
      r.second += 1;
    } else {
      used[row.account] -= std::min(used[row.account], row.bytes);
    }
    reservations.erase(it);
    return true;
  }
  // Clears the mark of the other reservations of `row`'s object (only those expired before
  // `expired_before`, when given).
  void Unmark(const store::ReservationRow& row, std::optional<std::int64_t> expired_before) {
    for (auto& [id, h] : reservations) {
      if (id == row.id || h.row.account != row.account || h.row.repo != row.repo ||
          h.row.object != row.object)
        continue;
      if (!expired_before || h.row.lease_until < *expired_before) h.storing = false;
    }
  }
  std::expected<bool, store::StoreError> ClaimRemoval(std::int64_t account, std::string_view object,
                                                      std::string_view claimer, std::int64_t now,
                                                      std::int64_t lease_until) override {
    if (down) return std::unexpected(store::StoreError::kUnavailable);
    auto [it, made] = claims.try_emplace({account, std::string(object)},
                                         Claim{std::string(claimer), lease_until});
    if (made) return true;
    if (it->second.claimer != claimer && it->second.lease_until >= now) return false;
    it->second = Claim{std::string(claimer), lease_until};
    return true;
  }
  std::expected<void, store::StoreError> DropRemoval(std::int64_t account, std::string_view object,
                                                     std::string_view claimer) override {
    if (down) return std::unexpected(store::StoreError::kUnavailable);
    auto it = claims.find({account, std::string(object)});
    if (it != claims.end() && it->second.claimer == claimer) claims.erase(it);
    return {};
  }
  std::expected<void, store::StoreError> RemoveUsage(std::int64_t account, std::string_view repo,
                                                     std::string_view object,
                                                     std::string_view claimer,
                                                     std::uint64_t bytes) override {
    if (down) return std::unexpected(store::StoreError::kUnavailable);
    auto it = claims.find({account, std::string(object)});
    if (it == claims.end() || it->second.claimer != claimer) return {};
    claims.erase(it);
    used[account] -= std::min(used[account], bytes);
    // An object stored under a reservation not yet counted ends that reservation instead.
    bool pending = false;
    for (auto h = reservations.begin(); h != reservations.end();) {
      const store::ReservationRow& row = h->second.row;
      if (h->second.storing && row.account == account && row.repo + "/" + row.object == object) {
        h = reservations.erase(h);
        pending = true;
      } else {
        ++h;
      }
    }
    if (pending) return {};
    auto& r = repos[{account, std::string(repo)}];
    r.first -= std::min(r.first, bytes);
    r.second -= std::min<std::uint64_t>(r.second, 1);
    return {};
  }
};

}  // namespace tessera::testing
