// The database pool: calls reach a member, never two threads on one member at once, and a call
// that finds every member busy fails with kUnavailable after the bounded wait instead of hanging.
#include "store/pg/pool.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>
#include <vector>

using namespace tessera;
using namespace std::chrono_literals;

namespace {

// Answers Ping after `delay`, counting how many threads are inside it at once; FindGrant and
// FindAccountState name the member that answered.
class FakeDb final : public store::Database {
 public:
  FakeDb(int id, std::chrono::milliseconds delay, std::atomic<int>* inside, std::atomic<int>* most)
      : id_(id), delay_(delay), inside_(inside), most_(most) {}

  std::expected<void, store::StoreError> Ping() override {
    if (busy_.exchange(true)) shared_ = true;  // another thread is already on this member
    int now = ++*inside_;
    int seen = most_->load();
    while (now > seen && !most_->compare_exchange_weak(seen, now)) {
    }
    std::this_thread::sleep_for(delay_);
    --*inside_;
    busy_ = false;
    return {};
  }
  std::expected<std::optional<store::GrantRecord>, store::StoreError> FindGrant(
      std::string_view) override {
    store::GrantRecord g;
    g.account_id = id_;
    return g;
  }
  std::expected<std::optional<store::AccountState>, store::StoreError> FindAccountState(
      std::string_view) override {
    store::AccountState state;
    state.session_epoch = id_;
    return state;
  }
  std::expected<std::optional<store::AccountRecord>, store::StoreError> FindAccount(
      std::string_view) override {
    return std::unexpected(store::StoreError::kInvalid);
  }
  std::expected<void, store::StoreError> ReplacePasswordHash(std::string_view, std::string_view,
                                                             std::string_view) override {
    return std::unexpected(store::StoreError::kInvalid);
  }
  std::expected<std::optional<std::int64_t>, store::StoreError> ChangePassword(
      std::string_view, std::string_view, std::string_view) override {
    return std::unexpected(store::StoreError::kInvalid);
  }
  std::expected<std::vector<store::OwnGrant>, store::StoreError> ListOwnGrants(
      std::string_view, std::size_t) override {
    return std::unexpected(store::StoreError::kInvalid);
  }
  std::expected<store::OwnGrant, store::GrantRefusal> GrantOwn(std::string_view,
                                                               const store::GrantAsk&) override {
    return std::unexpected(store::GrantRefusal{store::StoreError::kInvalid, {}});
  }
  std::expected<std::optional<std::string>, store::StoreError> RevokeOwn(
      std::string_view, std::string_view) override {
    return std::unexpected(store::StoreError::kInvalid);
  }
  std::expected<bool, store::StoreError> ReserveUsage(const store::ReservationRow&,
                                                      std::uint64_t) override {
    return std::unexpected(store::StoreError::kInvalid);
  }
  std::expected<bool, store::StoreError> RenewUsage(std::string_view, std::int64_t, bool) override {
    return std::unexpected(store::StoreError::kInvalid);
  }
  std::expected<void, store::StoreError> ReleaseUsage(std::int64_t, std::string_view) override {
    return std::unexpected(store::StoreError::kInvalid);
  }
  std::expected<void, store::StoreError> CommitUsage(std::int64_t, std::string_view,
                                                     std::string_view, std::uint64_t) override {
    return std::unexpected(store::StoreError::kInvalid);
  }
  std::expected<std::vector<store::ReservationRow>, store::StoreError> ExpireUsage(
      std::int64_t, std::size_t) override {
    return std::unexpected(store::StoreError::kInvalid);
  }
  std::expected<bool, store::StoreError> SettleExpired(const store::ReservationRow&, std::int64_t,
                                                       bool) override {
    return std::unexpected(store::StoreError::kInvalid);
  }
  std::expected<bool, store::StoreError> ClaimRemoval(std::int64_t, std::string_view,
                                                      std::string_view, std::int64_t,
                                                      std::int64_t) override {
    return std::unexpected(store::StoreError::kInvalid);
  }
  std::expected<void, store::StoreError> DropRemoval(std::int64_t, std::string_view,
                                                     std::string_view) override {
    return std::unexpected(store::StoreError::kInvalid);
  }
  std::expected<void, store::StoreError> RemoveUsage(std::int64_t, std::string_view,
                                                     std::string_view, std::string_view,
                                                     std::uint64_t) override {
    return std::unexpected(store::StoreError::kInvalid);
  }
  std::expected<store::RepoClaim, store::StoreError> ClaimRepo(std::int64_t, std::string_view,
                                                               std::uint64_t) override {
    return std::unexpected(store::StoreError::kInvalid);
  }
  std::expected<void, store::StoreError> DropEmptyRepo(std::int64_t, std::string_view) override {
    return std::unexpected(store::StoreError::kInvalid);
  }
  std::expected<void, store::StoreError> NoteRepo(std::int64_t, std::string_view) override {
    return std::unexpected(store::StoreError::kInvalid);
  }
  std::expected<void, store::StoreError> CountSnapshot(std::int64_t, std::string_view,
                                                       bool) override {
    return std::unexpected(store::StoreError::kInvalid);
  }
  std::expected<std::vector<store::RepoRow>, store::StoreError> ListRepos(
      std::int64_t, const std::optional<std::string>&, std::size_t) override {
    return std::unexpected(store::StoreError::kInvalid);
  }
  std::expected<std::optional<store::AccountUse>, store::StoreError> ReadAccountUse(
      std::int64_t, std::uint64_t) override {
    return std::unexpected(store::StoreError::kInvalid);
  }
  std::expected<bool, store::StoreError> StartSession(std::string_view, const store::SessionTicket&,
                                                      int) override {
    return std::unexpected(store::StoreError::kInvalid);
  }
  std::expected<bool, store::StoreError> ContinueSession(std::string_view, std::string_view,
                                                         const store::SessionTicket&) override {
    return std::unexpected(store::StoreError::kInvalid);
  }
  std::expected<std::vector<store::SessionTicket>, store::StoreError> EndSession(
      const store::SessionTicket&, std::string_view) override {
    return std::unexpected(store::StoreError::kInvalid);
  }
  std::expected<store::ThrottleVerdict, store::StoreError> ReserveAttempt(
      std::string_view, std::string_view, const store::ThrottlePolicy&) override {
    return std::unexpected(store::StoreError::kInvalid);
  }
  std::expected<void, store::StoreError> ReleaseAttempt(std::string_view,
                                                        std::string_view) override {
    return std::unexpected(store::StoreError::kInvalid);
  }
  std::expected<std::int64_t, store::StoreError> Prune(const store::RetentionPolicy&) override {
    return std::unexpected(store::StoreError::kInvalid);
  }
  std::expected<void, store::StoreError> Audit(std::string_view, std::string_view, std::string_view,
                                               std::string_view) override {
    return std::unexpected(store::StoreError::kInvalid);
  }

  bool shared() const { return shared_; }

 private:
  int id_;
  std::chrono::milliseconds delay_;
  std::atomic<int>* inside_;
  std::atomic<int>* most_;
  std::atomic<bool> busy_{false};
  std::atomic<bool> shared_{false};
};

struct Members {
  std::atomic<int> inside{0};
  std::atomic<int> most{0};
  std::vector<FakeDb*> fakes;

  std::vector<std::unique_ptr<store::Database>> Make(int n, std::chrono::milliseconds delay) {
    std::vector<std::unique_ptr<store::Database>> out;
    for (int i = 0; i < n; ++i) {
      auto db = std::make_unique<FakeDb>(i + 1, delay, &inside, &most);
      fakes.push_back(db.get());
      out.push_back(std::move(db));
    }
    return out;
  }
};

}  // namespace

TEST_CASE("a pool call is answered by one of its members") {
  Members m;
  auto pool = store::pg::MakeDatabasePool(m.Make(1, 0ms), 100ms);
  auto grant = pool->FindGrant("jti");
  REQUIRE(grant);
  REQUIRE(grant->has_value());
  CHECK((*grant)->account_id == 1);
  auto state = pool->FindAccountState("alice@pbs");
  REQUIRE(state);
  REQUIRE(state->has_value());
  CHECK((*state)->session_epoch == 1);
  CHECK(pool->FindAccount("alice@pbs").error() ==
        store::StoreError::kInvalid);  // the member's own error
}

TEST_CASE("sixteen threads share three members, never two on one member") {
  Members m;
  auto pool = store::pg::MakeDatabasePool(m.Make(3, 5ms), 5s);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        if (pool->Ping()) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(ok == 160);
  CHECK(m.most == 3);
  for (auto* f : m.fakes) CHECK_FALSE(f->shared());
}

TEST_CASE("a call that finds every member busy fails with kUnavailable after the wait") {
  Members m;
  auto pool = store::pg::MakeDatabasePool(m.Make(1, 600ms), 100ms);
  std::thread holder([&] { CHECK(pool->Ping()); });
  while (m.inside == 0) std::this_thread::sleep_for(1ms);

  auto start = std::chrono::steady_clock::now();
  auto busy = pool->Ping();
  auto waited = std::chrono::steady_clock::now() - start;
  REQUIRE_FALSE(busy);
  CHECK(busy.error() == store::StoreError::kUnavailable);
  CHECK(waited >= 100ms);
  CHECK(waited < 500ms);
  holder.join();
  CHECK(pool->Ping());  // the member came back
}
