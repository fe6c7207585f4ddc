// TicketService against a fake AuthStore: the order of throttle, hashing and sessions, what
// renewal may skip, restamping of identical tickets, pruning once per interval, and which store
// errors become which failures.
#include "auth/ticket_service.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <set>
#include <vector>

#include "http/cookies.h"
#include "store/database.h"

using namespace tessera;

namespace {
constexpr std::int64_t kNow = 1800000000;
const crypto::PasswordCost kCost{1, 8192 * 1024};

class FakeStore final : public store::AuthStore {
 public:
  std::optional<store::AccountRecord> account;
  std::optional<store::StoreError> account_error;
  store::ThrottleVerdict reserve_answer;
  int reserves = 0, releases = 0, lookups = 0, prunes = 0, conflicts_left = 0;
  std::set<std::string> tickets;          // every recorded revocation id
  std::map<std::string, int> session_of;  // revocation id → session
  std::set<int> ended;
  int sessions = 0;
  int max_sessions = 0;  // what the last StartSession was asked to keep
  std::vector<std::string> audit;

  std::expected<std::optional<store::AccountRecord>, store::StoreError> FindAccount(
      std::string_view) override {
    ++lookups;
    if (account_error) return std::unexpected(*account_error);
    return account;
  }
  std::expected<void, store::StoreError> ReplacePasswordHash(std::string_view, std::string_view,
                                                             std::string_view) override {
    return {};
  }
  std::expected<std::optional<std::int64_t>, store::StoreError> ChangePassword(
      std::string_view, std::string_view old_hash, std::string_view new_hash) override {
    if (!account || account->password_hash != old_hash) return std::optional<std::int64_t>{};
    account->password_hash = new_hash;
    account->state.session_epoch = std::max(account->state.session_epoch + 1, kNow + 1);
    return std::optional<std::int64_t>(account->state.session_epoch);
  }
  std::expected<bool, store::StoreError> StartSession(std::string_view,
                                                      const store::SessionTicket& t,
                                                      int max) override {
    max_sessions = max;
    if (!Record(t)) return std::unexpected(store::StoreError::kConflict);
    session_of[t.revocation_id] = ++sessions;
    return true;
  }
  std::expected<bool, store::StoreError> ContinueSession(std::string_view presented,
                                                         std::string_view,
                                                         const store::SessionTicket& t) override {
    auto s = session_of.find(std::string(presented));
    if (s == session_of.end() || ended.contains(s->second)) return false;
    if (!Record(t)) return std::unexpected(store::StoreError::kConflict);
    session_of[t.revocation_id] = s->second;
    return true;
  }
  std::expected<std::vector<store::SessionTicket>, store::StoreError> EndSession(
      const store::SessionTicket& t, std::string_view) override {
    std::vector<store::SessionTicket> out{t};
    if (auto s = session_of.find(t.revocation_id); s != session_of.end()) {
      ended.insert(s->second);
      for (const auto& [id, session] : session_of) {
        if (session == s->second && id != t.revocation_id) out.push_back({id, kNow + 7200});
      }
    }
    return out;
  }
  std::expected<store::ThrottleVerdict, store::StoreError> ReserveAttempt(
      std::string_view, std::string_view, const store::ThrottlePolicy&) override {
    ++reserves;
    return reserve_answer;
  }
  std::expected<void, store::StoreError> ReleaseAttempt(std::string_view,
                                                        std::string_view) override {
    ++releases;
    return {};
  }
  std::expected<void, store::StoreError> Audit(std::string_view event, std::string_view,
                                               std::string_view, std::string_view reason) override {
    audit.push_back(std::string(event) + ": " + std::string(reason));
    return {};
  }
  std::expected<std::int64_t, store::StoreError> Prune(const store::RetentionPolicy&) override {
    ++prunes;
    return 0;
  }
  std::expected<std::optional<store::AccountState>, store::StoreError> FindAccountState(
      std::string_view userid) override {
    if (account_error) return std::unexpected(*account_error);
    if (!account || account->userid != userid) return std::optional<store::AccountState>{};
    return account->state;
  }
  std::expected<std::optional<store::GrantRecord>, store::StoreError> FindGrant(
      std::string_view) override {
    return std::optional<store::GrantRecord>{};
  }

 private:
  bool Record(const store::SessionTicket& t) {
    if (conflicts_left > 0) {
      --conflicts_left;
      return false;
    }
    return tickets.insert(t.revocation_id).second;
  }
};

struct Fixture {
  clock::FixedClock clock{kNow};
  FakeStore store;
  auth::SessionCache cache{store, std::chrono::milliseconds(60000), 1024};
  auth::TicketService service{
      crypto::TicketKeys(*crypto::SecretKey::FromSeed(std::vector<std::uint8_t>(32, 7)), {}),
      *crypto::CsrfKey::FromBytes(std::vector<std::uint8_t>(32, 8)), cache, clock,
      auth::TicketPolicy{kCost, store::ThrottlePolicy{}, store::RetentionPolicy{}, 60}};
  http::ClientAddress client{"192.0.2.1", "192.0.2.1"};

  Fixture() {
    store::AccountState state;
    state.enabled = true;
    cache.Load({{"alice@pbs", state}}, {});
    store.account = store::AccountRecord{"alice@pbs", *crypto::HashPassword("pw", kCost), state};
  }
  std::expected<auth::LoginResult, auth::LoginFailure> Login(const std::string& password) {
    auth::LoginRequest request;
    request.username = "alice@pbs";
    request.password = password;
    return service.Login(store, request, std::nullopt, client);
  }
};
}  // namespace

TEST_CASE("a throttled password login is refused before the account is looked up or hashed") {
  Fixture f;
  f.store.reserve_answer = {42, true};
  auto r = f.Login("pw");
  REQUIRE_FALSE(r);
  CHECK(r.error().kind == auth::AuthFailure::kThrottled);
  CHECK(r.error().retry_after == 42);
  CHECK(f.store.reserves == 1);
  CHECK(f.store.lookups == 0);
  CHECK(f.store.releases == 0);
}

TEST_CASE("a throttled window is audited once, at its first refusal, not per request") {
  Fixture f;
  auto throttled = [&] {
    return std::count(f.store.audit.begin(), f.store.audit.end(),
                      "login-throttled: too many failed logins");
  };
  f.store.reserve_answer = {30, true};
  CHECK(f.Login("pw").error().kind == auth::AuthFailure::kThrottled);
  CHECK(throttled() == 1);
  f.store.reserve_answer = {29, false};
  for (int i = 0; i < 5; ++i) CHECK(f.Login("pw").error().kind == auth::AuthFailure::kThrottled);
  CHECK(throttled() == 1);
}

TEST_CASE("a failed password keeps its attempt; a right one gives it back") {
  Fixture f;
  CHECK(f.Login("wrong").error().kind == auth::AuthFailure::kDenied);
  CHECK(f.store.releases == 0);
  CHECK(f.Login("pw").has_value());
  CHECK(f.store.reserves == 2);
  CHECK(f.store.releases == 1);
}

TEST_CASE("renewal with a ticket never touches the throttle, even when it is full") {
  Fixture f;
  auto first = f.Login("pw");
  REQUIRE(first);
  f.store.reserve_answer = {300, false};
  int reserves = f.store.reserves;
  auto renewed = f.Login(first->ticket);
  REQUIRE(renewed);
  CHECK(f.store.reserves == reserves);
  CHECK(renewed->ticket != first->ticket);
}

TEST_CASE("identical tickets are restamped; a ticket without a live session does not renew") {
  Fixture f;
  auto a = f.Login("pw");
  auto b = f.Login("pw");  // same second: the same ticket text would collide
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->ticket != b->ticket);
  CHECK(f.store.sessions == 2);

  // A ticket the store knows no session of (issued before sessions existed).
  crypto::TicketKeys keys(*crypto::SecretKey::FromSeed(std::vector<std::uint8_t>(32, 7)), {});
  auto orphan = f.Login(keys.Issue("alice@pbs", kNow - 10));
  REQUIRE_FALSE(orphan);
  CHECK(orphan.error().kind == auth::AuthFailure::kDenied);
  CHECK(f.store.audit.back() ==
        "login-failed: ticket has no live session (logged out, or issued before sessions)");
}

TEST_CASE("logout ends the session: no ticket of the chain renews, another session does") {
  Fixture f;
  auto t0 = f.Login("pw");
  auto other = f.Login("pw");
  REQUIRE(t0);
  REQUIRE(other);
  auto t1 = f.Login(t0->ticket);
  REQUIRE(t1);
  http::Request request;
  request.headers.emplace_back("cookie",
                               "__Host-PBSAuthCookie=" + http::EncodeCookieValue(t1->ticket));
  request.headers.emplace_back("csrfpreventiontoken", t1->csrf_token);
  request.method = http::Method::kDelete;
  auto identity = f.service.Authenticate(request);
  REQUIRE(identity);
  REQUIRE(f.service.Logout(f.store, *identity, "192.0.2.1"));
  CHECK_FALSE(f.Login(t0->ticket));
  CHECK_FALSE(f.Login(t1->ticket));
  CHECK(f.Login(other->ticket).has_value());
}

TEST_CASE("pruning runs on the login path at most once per interval") {
  Fixture f;
  REQUIRE(f.Login("pw"));
  REQUIRE(f.Login("pw"));
  CHECK(f.store.prunes == 1);
  f.clock.Set(kNow + 59);
  REQUIRE(f.Login("pw"));
  CHECK(f.store.prunes == 1);
  f.clock.Set(kNow + 60);
  REQUIRE(f.Login("pw"));
  CHECK(f.store.prunes == 2);
}

TEST_CASE("only an unreachable database is a 503; anything else it refuses is internal") {
  Fixture f;
  f.store.account_error = store::StoreError::kUnavailable;
  CHECK(f.Login("pw").error().kind == auth::AuthFailure::kUnavailable);
  f.store.account_error = store::StoreError::kInvalid;
  CHECK(f.Login("pw").error().kind == auth::AuthFailure::kInternal);
}

TEST_CASE("a user who used up every stamp is throttled, not failed") {
  Fixture f;
  f.store.conflicts_left = 1000;
  auto r = f.Login("pw");
  REQUIRE_FALSE(r);
  CHECK(r.error().kind == auth::AuthFailure::kThrottled);
  CHECK(f.store.releases == 1);  // the right password gave its attempt back
}

TEST_CASE("a password login asks the store to keep the account's sessions to the bound") {
  Fixture f;
  REQUIRE(f.Login("pw"));
  CHECK(f.store.max_sessions == auth::TicketPolicy{}.max_sessions);
  CHECK(auth::TicketPolicy{}.max_sessions == 64);
}
