#include "auth/authenticator.h"

#include <catch2/catch.hpp>
#include <map>

#include "crypto/base64url.h"
#include "crypto/keyring.h"
#include "http/cookies.h"
#include "store/database.h"

using namespace tessera;
using auth::AuthRefusal;

namespace {

// The database behind the session cache: grants by jti; no account but those the cache holds.
class FakeGrants final : public store::CacheSource {
 public:
  std::map<std::string, store::GrantRecord> grants;
  bool down = false;
  std::expected<std::optional<store::AccountState>, store::StoreError> FindAccountState(
      std::string_view) override {
    if (down) return std::unexpected(store::StoreError::kUnavailable);
    return std::optional<store::AccountState>{};
  }
  std::expected<std::optional<store::GrantRecord>, store::StoreError> FindGrant(
      std::string_view jti) override {
    if (down) return std::unexpected(store::StoreError::kUnavailable);
    auto it = grants.find(std::string(jti));
    if (it == grants.end()) return std::optional<store::GrantRecord>{};
    return it->second;
  }
};

constexpr std::int64_t kNow = 1800000000;

store::GrantRecord MakeGrant(std::string userid, auth::Permissions rights = {true, true, false},
                             std::optional<std::string> repo = std::nullopt) {
  store::GrantRecord g;
  g.userid = std::move(userid);
  g.account_id = 7;
  g.read = rights.read;
  g.write = rights.write;
  g.del = rights.del;
  g.repo = std::move(repo);
  g.expires_at = kNow + 3600;
  return g;
}

// A token door over a cache that knows alice (enabled), bob (disabled), carol (expired) and
// grants for each.
struct Fixture {
  clock::FixedClock clock{kNow};
  std::shared_ptr<crypto::Keyring> ring =
      std::make_shared<crypto::Keyring>(crypto::SecretKey::Generate());
  auth::TokenFactory tokens{"srv", ring, clock};
  FakeGrants db;
  auth::SessionCache cache{db, std::chrono::milliseconds(60000), 1024};
  auth::Authenticator door{tokens, cache, clock};

  Fixture() {
    store::GrantRecord revoked = MakeGrant("alice@pbs");
    revoked.revoked = true;
    store::GrantRecord expired = MakeGrant("alice@pbs");
    expired.expires_at = kNow;
    store::GrantRecord no_id = MakeGrant("alice@pbs");
    no_id.account_id = 0;
    cache.Load({{"alice@pbs", {true, std::nullopt, 0}},
                {"bob@pbs", {false, std::nullopt, 0}},
                {"carol@pbs", {true, kNow - 1, 0}},
                {"../eve@pbs", {true, std::nullopt, 0}}},
               {},
               {{"alice", MakeGrant("alice@pbs")},
                {"alice-ro-laptop", MakeGrant("alice@pbs", {true, false, false}, "laptop")},
                {"revoked", revoked},
                {"expired", expired},
                {"no-id", no_id},
                {"bob", MakeGrant("bob@pbs")},
                {"carol", MakeGrant("carol@pbs")},
                {"eve", MakeGrant("../eve@pbs")}});
  }

  std::string Token(std::string subject, std::string jti,
                    auth::Permissions claims = {true, true, true},
                    std::optional<std::string> repo = std::nullopt) {
    return *tokens.Create(
        {std::move(subject), claims, std::move(repo), std::chrono::hours(1), std::move(jti)});
  }

  std::expected<auth::Principal, AuthRefusal> With(
      std::optional<std::string> authorization, auth::Credential kind = auth::Credential::kToken) {
    http::Request r;
    r.method = http::Method::kGet;
    if (authorization) r.headers.emplace_back("authorization", *authorization);
    return door.Authenticate(r, kind);
  }
  AuthRefusal Refusal(std::optional<std::string> authorization) {
    auto p = With(std::move(authorization));
    REQUIRE_FALSE(p.has_value());
    return p.error();
  }
};

}  // namespace

TEST_CASE("a valid bearer token becomes a principal with the grant's account and rights") {
  Fixture f;
  auto p = f.With("Bearer " + f.Token("alice@pbs", "alice"));
  REQUIRE(p.has_value());
  CHECK(p->credential() == auth::Credential::kToken);
  CHECK(p->userid() == "alice@pbs");
  CHECK(p->account_id() == 7);
  CHECK(p->grant_id() == "alice");
  CHECK(p->ticket() == nullptr);
  // The grant row says read and write; the token claims all three: the row wins.
  CHECK(p->rights().read);
  CHECK(p->rights().write);
  CHECK_FALSE(p->rights().del);
  CHECK(p->Covers("laptop"));
  CHECK(p->Covers("anything/else"));
}

TEST_CASE("a token's claims only narrow its grant, and both scopes must name the repository") {
  Fixture f;
  auto narrowed =
      f.With("Bearer " + f.Token("alice@pbs", "alice", {true, false, false}, "desktop"));
  REQUIRE(narrowed.has_value());
  CHECK(narrowed->rights().read);
  CHECK_FALSE(narrowed->rights().write);
  CHECK(narrowed->Covers("desktop"));
  CHECK_FALSE(narrowed->Covers("laptop"));

  auto scoped = f.With("Bearer " + f.Token("alice@pbs", "alice-ro-laptop"));
  REQUIRE(scoped.has_value());
  CHECK_FALSE(scoped->rights().write);  // the row is read-only whatever the token claims
  CHECK(scoped->Covers("laptop"));
  CHECK_FALSE(scoped->Covers("desktop"));

  auto both =
      f.With("Bearer " + f.Token("alice@pbs", "alice-ro-laptop", {true, true, true}, "desktop"));
  REQUIRE(both.has_value());
  CHECK_FALSE(both->Covers("laptop"));
  CHECK_FALSE(both->Covers("desktop"));
}

TEST_CASE("restic's basic credentials carry the token as the password") {
  Fixture f;
  std::string basic = "Basic " + crypto::Base64Encode("restic:" + f.Token("alice@pbs", "alice"),
                                                      crypto::Base64Alphabet::kStandard);
  auto p = f.With(basic);
  REQUIRE(p.has_value());
  CHECK(p->userid() == "alice@pbs");
}

TEST_CASE("every refusal reason of a token, each answered 401") {
  Fixture f;
  auth::TokenFactory stranger(
      "srv", std::make_shared<crypto::Keyring>(crypto::SecretKey::Generate()), f.clock);
  auto other_key = *stranger.Create(
      {"alice@pbs", {true, true, true}, std::nullopt, std::chrono::hours(1), "alice"});
  clock::FixedClock past(kNow - 7200);
  auth::TokenFactory old_factory("srv", f.ring, past);
  auto expired_token = *old_factory.Create(
      {"alice@pbs", {true, true, true}, std::nullopt, std::chrono::hours(1), "alice"});

  struct Case {
    const char* name;
    std::optional<std::string> authorization;
    AuthRefusal want;
  };
  const Case cases[] = {
      {"no header", std::nullopt, AuthRefusal::kNoCredentials},
      {"unknown scheme", "Digest abc", AuthRefusal::kNoCredentials},
      {"basic without a colon",
       "Basic " + crypto::Base64Encode("nocolon", crypto::Base64Alphabet::kStandard),
       AuthRefusal::kNoCredentials},
      {"garbage token", "Bearer v4.public.garbage", AuthRefusal::kBadCredentials},
      {"another server's key", "Bearer " + other_key, AuthRefusal::kBadCredentials},
      {"expired token", "Bearer " + expired_token, AuthRefusal::kBadCredentials},
      {"unknown account", "Bearer " + f.Token("dave@pbs", "alice"), AuthRefusal::kUnknownAccount},
      {"disabled account", "Bearer " + f.Token("bob@pbs", "bob"), AuthRefusal::kDisabled},
      {"expired account", "Bearer " + f.Token("carol@pbs", "carol"), AuthRefusal::kAccountExpired},
      {"grant of nobody", "Bearer " + f.Token("alice@pbs", "missing"), AuthRefusal::kUnknownGrant},
      {"another account's grant", "Bearer " + f.Token("alice@pbs", "bob"),
       AuthRefusal::kUnknownGrant},
      {"revoked grant", "Bearer " + f.Token("alice@pbs", "revoked"), AuthRefusal::kRevoked},
      {"expired grant", "Bearer " + f.Token("alice@pbs", "expired"), AuthRefusal::kGrantExpired},
      {"subject not a userid", "Bearer " + f.Token("../eve@pbs", "eve"), AuthRefusal::kBadSubject},
      {"grant without account id", "Bearer " + f.Token("alice@pbs", "no-id"),
       AuthRefusal::kNoAccountId},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    AuthRefusal got = f.Refusal(c.authorization);
    CHECK(got == c.want);
    CHECK(auth::HttpStatus(got) == 401);
  }
}

TEST_CASE("503 comes only from a stale cache or an unreachable database") {
  Fixture f;
  f.db.down = true;
  // The database is asked only for a grant the cache does not hold.
  CHECK(f.With("Bearer " + f.Token("alice@pbs", "alice")).has_value());
  AuthRefusal down = f.Refusal("Bearer " + f.Token("alice@pbs", "just-minted"));
  CHECK(down == AuthRefusal::kUnavailable);
  CHECK(auth::HttpStatus(down) == 503);
  // Whatever the database: a stale cache answers for nothing.
  f.db.down = false;
  f.cache.MarkLost();
  CHECK(f.Refusal("Bearer " + f.Token("alice@pbs", "alice")) == AuthRefusal::kUnavailable);
  // A token that does not verify is refused before the cache is asked: 401, not 503.
  CHECK(f.Refusal("Bearer v4.public.garbage") == AuthRefusal::kBadCredentials);
  CHECK(f.Refusal(std::nullopt) == AuthRefusal::kNoCredentials);
}

TEST_CASE("a grant the cache does not hold is read from the database") {
  Fixture f;
  f.db.grants["fresh"] = MakeGrant("alice@pbs");
  auto p = f.With("Bearer " + f.Token("alice@pbs", "fresh"));
  REQUIRE(p.has_value());
  CHECK(p->grant_id() == "fresh");
}

TEST_CASE("a door refuses the credential kind it was not built for") {
  Fixture f;
  auto p = f.With("Bearer " + f.Token("alice@pbs", "alice"), auth::Credential::kTicket);
  REQUIRE_FALSE(p.has_value());
  CHECK(p.error() == AuthRefusal::kNoCredentials);
}

namespace {
// A ticket door over a cache that knows alice, and the keys to issue her tickets.
struct TicketFixture {
  clock::FixedClock clock{kNow};
  FakeGrants db;
  auth::SessionCache cache{db, std::chrono::milliseconds(60000), 1024};
  crypto::TicketKeys issuer{*crypto::SecretKey::FromSeed(std::vector<std::uint8_t>(32, 7)), {}};
  auth::TicketService tickets{
      crypto::TicketKeys(*crypto::SecretKey::FromSeed(std::vector<std::uint8_t>(32, 7)), {}),
      *crypto::CsrfKey::FromBytes(std::vector<std::uint8_t>(32, 8)), cache, clock,
      auth::TicketPolicy{crypto::PasswordCost{1, 8192 * 1024}, {}, {}, 60}};
  auth::Authenticator door{tickets};

  TicketFixture() { cache.Load({{"alice@pbs", {true, std::nullopt, 0}}}, {}); }

  std::expected<auth::Principal, AuthRefusal> With(
      std::optional<std::string> ticket, auth::Credential kind = auth::Credential::kTicket) {
    http::Request r;
    r.method = http::Method::kGet;
    if (ticket)
      r.headers.emplace_back("cookie", "__Host-PBSAuthCookie=" + http::EncodeCookieValue(*ticket));
    return door.Authenticate(r, kind);
  }
};
}  // namespace

TEST_CASE("a ticket cookie is the door's other credential kind") {
  TicketFixture f;
  auto p = f.With(f.issuer.Issue("alice@pbs", kNow));
  REQUIRE(p.has_value());
  CHECK(p->credential() == auth::Credential::kTicket);
  CHECK(p->userid() == "alice@pbs");
  REQUIRE(p->ticket() != nullptr);
  CHECK(p->ticket()->userid == "alice@pbs");
  // A ticket carries no token rights and names no grant or storage.
  CHECK_FALSE(p->rights().read);
  CHECK_FALSE(p->rights().write);
  CHECK_FALSE(p->rights().del);
  CHECK(p->grant_id().empty());
  CHECK(p->account_id() == 0);
  CHECK_FALSE(p->Covers("laptop"));

  CHECK(f.With(std::nullopt).error() == AuthRefusal::kNoCredentials);
  CHECK(f.With("PBS:alice@pbs:6B49D200::forged").error() == AuthRefusal::kBadCredentials);
  CHECK(f.With(f.issuer.Issue("bob@pbs", kNow)).error() ==
        AuthRefusal::kBadCredentials);  // unknown account
  CHECK(f.With(f.issuer.Issue("alice@pbs", kNow), auth::Credential::kToken).error() ==
        AuthRefusal::kNoCredentials);
  f.cache.MarkLost();
  AuthRefusal stale = f.With(f.issuer.Issue("alice@pbs", kNow)).error();
  CHECK(stale == AuthRefusal::kUnavailable);
  CHECK(auth::HttpStatus(stale) == 503);
}

TEST_CASE("a principal past its account's or token's share is refused with 429") {
  Fixture f;
  auth::FairShare shares(auth::ShareLimits{2, 1, 128, 16});
  auth::Authenticator door{f.tokens, f.cache, f.clock, &shares};
  auto request = [](std::string token) {
    http::Request r;
    r.headers.emplace_back("authorization", "Bearer " + token);
    return r;
  };
  http::Request first = request(f.Token("alice@pbs", "alice"));
  REQUIRE(door.Authenticate(first, auth::Credential::kToken).has_value());
  // The same token again: past its share of one.
  http::Request second = request(f.Token("alice@pbs", "alice"));
  auto refused = door.Authenticate(second, auth::Credential::kToken);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error() == AuthRefusal::kBusy);
  CHECK(auth::HttpStatus(refused.error()) == 429);
  CHECK_FALSE(second.hold);
  // Another token of the account gets in, then the account's share of two is taken.
  http::Request third = request(f.Token("alice@pbs", "alice-ro-laptop"));
  REQUIRE(door.Authenticate(third, auth::Credential::kToken).has_value());
  http::Request fourth = request(f.Token("alice@pbs", "alice-ro-laptop"));
  CHECK(door.Authenticate(fourth, auth::Credential::kToken).error() == AuthRefusal::kBusy);
  // A request that ends gives its share back.
  first = http::Request();
  CHECK(door.Authenticate(second, auth::Credential::kToken).has_value());
  // A refused credential takes no share.
  http::Request bad = request("v4.public.garbage");
  CHECK(door.Authenticate(bad, auth::Credential::kToken).error() == AuthRefusal::kBadCredentials);
  CHECK(shares.InFlight() == 2);
}
