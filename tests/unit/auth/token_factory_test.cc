#include "auth/token_factory.h"

#include <catch2/catch.hpp>

#include "crypto/base64url.h"
#include "crypto/paserk.h"
#include "crypto/rfc3339.h"

using namespace tessera;
using auth::TokenError;
using auth::TokenFactory;
using auth::TokenRequest;

namespace {
constexpr std::int64_t kNow = 1800000000;

struct Fixture {
  clock::FixedClock clock{kNow};
  std::shared_ptr<crypto::Keyring> ring =
      std::make_shared<crypto::Keyring>(crypto::SecretKey::Generate());
  TokenFactory factory{"backup.example", ring, clock, std::chrono::seconds(60)};

  TokenRequest Request() const {
    return {"alice@pbs", {true, true, false}, "alice/laptop", std::chrono::hours(1), "42"};
  }
  // Signs arbitrary claims with the keyring's key and a correct footer.
  std::string Forge(const std::string& payload) const {
    return ring->signer().Sign(payload, R"({"kid":")" + ring->signing_kid() + R"("})");
  }
  std::string Claims(const std::string& extra_or_override) const {
    std::string t = crypto::FormatRfc3339(kNow);
    std::string e = crypto::FormatRfc3339(kNow + 3600);
    return R"({"iss":"backup.example","aud":"backup.example","sub":"alice@pbs","jti":"42","iat":")" +
           t + R"(","nbf":")" + t + R"(","exp":")" + e + "\"" + extra_or_override + "}";
  }
};
}  // namespace

TEST_CASE("a created token verifies and carries exactly its grant") {
  Fixture f;
  auto token = f.factory.Create(f.Request());
  REQUIRE(token);
  CHECK(token->starts_with("v4.public."));
  auto verified = f.factory.Verify(*token);
  REQUIRE(verified);
  CHECK(verified->subject() == "alice@pbs");
  CHECK(verified->jti() == "42");
  CHECK(verified->repo() == "alice/laptop");
  CHECK(verified->permissions().read);
  CHECK(verified->permissions().write);
  CHECK_FALSE(verified->permissions().del);
  CHECK(verified->expires_at() == kNow + 3600);
}

TEST_CASE("after rotation, tokens of the old key verify only while it stays in the ring") {
  clock::FixedClock clock(kNow);
  crypto::SecretKey old_key = crypto::SecretKey::Generate();
  crypto::PublicKey old_public = old_key.Public();
  auto old_ring = std::make_shared<crypto::Keyring>(std::move(old_key));
  TokenRequest request{"alice@pbs", {true, false, false}, std::nullopt, std::chrono::hours(1), "1"};
  std::string old_token = TokenFactory("srv", old_ring, clock).Create(request).value();

  auto rotated = std::make_shared<crypto::Keyring>(crypto::SecretKey::Generate());
  TokenFactory without_old("srv", rotated, clock);
  CHECK(without_old.Verify(old_token).error() == TokenError::kUnknownKey);

  rotated->AddVerificationKey(old_public);
  TokenFactory with_old("srv", rotated, clock);
  CHECK(with_old.Verify(old_token).has_value());
  // New tokens are signed with the new key.
  std::string new_token = with_old.Create(request).value();
  CHECK(TokenFactory("srv", old_ring, clock).Verify(new_token).error() == TokenError::kUnknownKey);
  CHECK(with_old.Verify(new_token).has_value());
}

TEST_CASE("token verification: one negative test per error") {
  Fixture f;
  std::string good = f.factory.Create(f.Request()).value();

  SECTION("kTooLong") {
    CHECK(f.factory.Verify(std::string(9000, 'a')).error() == TokenError::kTooLong);
  }
  SECTION("kWrongHeader") {
    CHECK(f.factory.Verify("v4.local." + good.substr(10)).error() == TokenError::kWrongHeader);
    CHECK(f.factory.Verify("v3.public." + good.substr(10)).error() == TokenError::kWrongHeader);
  }
  SECTION("kMalformed") {
    CHECK(f.factory.Verify("v4.public.!!!").error() == TokenError::kMalformed);
  }
  SECTION("kBadFooter") {
    CHECK(f.factory.Verify(f.ring->signer().Sign(f.Claims(""))).error() == TokenError::kBadFooter);
    CHECK(f.factory.Verify(f.ring->signer().Sign(f.Claims(""), "not json")).error() ==
          TokenError::kBadFooter);
    CHECK(f.factory.Verify(f.ring->signer().Sign(f.Claims(""), R"({"kid":1})")).error() ==
          TokenError::kBadFooter);
    CHECK(
        f.factory.Verify(f.ring->signer().Sign(f.Claims(""), R"({"kid":"a","kid":"b"})")).error() ==
        TokenError::kBadFooter);
  }
  SECTION("kUnknownKey") {
    crypto::Keyring other(crypto::SecretKey::Generate());
    std::string t =
        other.signer().Sign(f.Claims(""), R"({"kid":")" + other.signing_kid() + R"("})");
    CHECK(f.factory.Verify(t).error() == TokenError::kUnknownKey);
    // A kid that is a prefix or a case variant of ours is not ours.
    std::string kid = f.ring->signing_kid();
    std::string upper = kid;
    upper[8] = static_cast<char>(std::toupper(upper[8])) == upper[8]
                   ? 'a'
                   : static_cast<char>(std::toupper(upper[8]));
    for (const std::string& k : {kid.substr(0, kid.size() - 1), upper}) {
      CHECK(f.factory.Verify(f.ring->signer().Sign(f.Claims(""), R"({"kid":")" + k + R"("})"))
                .error() == TokenError::kUnknownKey);
    }
  }
  SECTION("kBadSignature: payload, footer or signature tampered") {
    std::size_t dot = good.rfind('.');
    auto body = crypto::Base64Decode(good.substr(10, dot - 10), 9000).value();
    for (std::size_t i : {std::size_t{0}, body.size() / 2, body.size() - 1}) {
      auto copy = body;
      copy[i] ^= 0x20;
      CHECK(
          f.factory.Verify("v4.public." + crypto::Base64Encode(copy) + good.substr(dot)).error() ==
          TokenError::kBadSignature);
    }
    std::string footer = R"({"kid":")" + f.ring->signing_kid() + R"(" })";
    CHECK(f.factory.Verify(good.substr(0, dot + 1) + crypto::Base64Encode(footer)).error() ==
          TokenError::kBadSignature);
  }
  SECTION("kBadClaims") {
    CHECK(f.factory.Verify(f.Forge("[]")).error() == TokenError::kBadClaims);
    CHECK(f.factory.Verify(f.Forge(f.Claims(R"(,"sub":"mallory@pbs")"))).error() ==
          TokenError::kBadClaims);
    CHECK(f.factory.Verify(f.Forge(f.Claims(R"(,"read":"yes")"))).error() ==
          TokenError::kBadClaims);
    CHECK(f.factory.Verify(f.Forge(f.Claims(R"(,"repo":7)"))).error() == TokenError::kBadClaims);
  }
  SECTION("kWrongIssuer and kWrongAudience") {
    std::string c = f.Claims("");
    std::string iss = c, aud = c;
    iss.replace(iss.find("backup.example"), 14, "backup.exampl3");
    aud.replace(aud.rfind("backup.example"), 14, "other");
    CHECK(f.factory.Verify(f.Forge(iss)).error() == TokenError::kWrongIssuer);
    CHECK(f.factory.Verify(f.Forge(aud)).error() == TokenError::kWrongAudience);
  }
  SECTION("kMissingExpiry and kExpired") {
    std::string c = f.Claims("");
    std::string no_exp = c.substr(0, c.find(",\"exp\"")) + "}";
    CHECK(f.factory.Verify(f.Forge(no_exp)).error() == TokenError::kMissingExpiry);
    f.clock.Set(kNow + 3600);
    CHECK(f.factory.Verify(good).error() == TokenError::kExpired);
  }
  SECTION("kNotYetValid and kIssuedInFuture, with the skew allowed") {
    f.clock.Set(kNow - 30);  // within 60 s of skew
    CHECK(f.factory.Verify(good).has_value());
    f.clock.Set(kNow - 61);
    CHECK(f.factory.Verify(good).error() == TokenError::kNotYetValid);
    std::string c = f.Claims("");
    std::string no_nbf = c;
    no_nbf.erase(no_nbf.find(",\"nbf\""), 29);
    CHECK(f.factory.Verify(f.Forge(no_nbf)).error() == TokenError::kIssuedInFuture);
  }
  SECTION("kMissingSubject and kMissingJti") {
    std::string c = f.Claims("");
    std::string no_sub = c, no_jti = c;
    no_sub.erase(no_sub.find(",\"sub\""), 18);
    no_jti.erase(no_jti.find(",\"jti\""), 11);
    CHECK(f.factory.Verify(f.Forge(no_sub)).error() == TokenError::kMissingSubject);
    CHECK(f.factory.Verify(f.Forge(no_jti)).error() == TokenError::kMissingJti);
  }
  SECTION("kInvalidRequest") {
    TokenRequest r = f.Request();
    r.lifetime = std::chrono::seconds(0);
    CHECK(f.factory.Create(r).error() == TokenError::kInvalidRequest);
    r = f.Request();
    r.subject.clear();
    CHECK(f.factory.Create(r).error() == TokenError::kInvalidRequest);
  }
}

TEST_CASE("a token seen before is answered from the memo, with the same grant") {
  Fixture f;
  std::string good = f.factory.Create(f.Request()).value();
  REQUIRE(f.factory.Verify(good));
  CHECK(f.factory.memo_hits() == 0);
  CHECK(f.factory.memo_misses() == 1);
  auto again = f.factory.Verify(good);
  REQUIRE(again);
  CHECK(f.factory.memo_hits() == 1);
  CHECK(again->subject() == "alice@pbs");
  CHECK(again->jti() == "42");
  CHECK(again->repo() == "alice/laptop");
  CHECK(again->permissions().write);
  CHECK_FALSE(again->permissions().del);
  CHECK(again->expires_at() == kNow + 3600);
  // Length and header are checked before the memo is asked.
  CHECK(f.factory.Verify(std::string(9000, 'a')).error() == TokenError::kTooLong);
  CHECK(f.factory.Verify("v4.local." + good.substr(10)).error() == TokenError::kWrongHeader);
  CHECK(f.factory.memo_hits() + f.factory.memo_misses() == 2);
}

TEST_CASE("a remembered token still expires, and is still not valid before nbf or iat") {
  Fixture f;
  std::string good = f.factory.Create(f.Request()).value();
  std::string c = f.Claims("");
  std::string no_nbf = f.Forge(c.erase(c.find(",\"nbf\""), 29));  // only iat limits the start
  REQUIRE(f.factory.Verify(good));
  REQUIRE(f.factory.Verify(no_nbf));
  REQUIRE(f.factory.Verify(good));  // now remembered
  std::uint64_t hits = f.factory.memo_hits();
  REQUIRE(hits == 1);

  f.clock.Set(kNow + 3599);
  CHECK(f.factory.Verify(good).has_value());
  f.clock.Set(kNow + 3600);
  CHECK(f.factory.Verify(good).error() == TokenError::kExpired);
  CHECK(f.factory.Verify(no_nbf).error() == TokenError::kExpired);
  f.clock.Set(kNow - 61);
  CHECK(f.factory.Verify(good).error() == TokenError::kNotYetValid);
  CHECK(f.factory.Verify(no_nbf).error() == TokenError::kIssuedInFuture);
  f.clock.Set(kNow - 60);
  CHECK(f.factory.Verify(good).has_value());
  // Every one of these was a memo hit: the time checks ran on remembered tokens.
  CHECK(f.factory.memo_hits() == hits + 6);
}

TEST_CASE("a refused token is never remembered") {
  Fixture f;
  std::string good = f.factory.Create(f.Request()).value();
  REQUIRE(f.factory.Verify(good));
  REQUIRE(f.factory.Verify(good));
  std::uint64_t hits = f.factory.memo_hits();

  SECTION("a flipped signature byte is refused after the good token was remembered") {
    std::size_t dot = good.rfind('.');
    auto body = crypto::Base64Decode(good.substr(10, dot - 10), 9000).value();
    body.back() ^= 0x01;
    std::string flipped = "v4.public." + crypto::Base64Encode(body) + good.substr(dot);
    for (int i = 0; i < 3; ++i)
      CHECK(f.factory.Verify(flipped).error() == TokenError::kBadSignature);
    CHECK(f.factory.memo_hits() == hits);
    CHECK(f.factory.Verify(good).has_value());
  }
  SECTION("a token whose nbf is ahead is refused until then, then remembered") {
    std::string start = crypto::FormatRfc3339(kNow + 600);
    std::string c = f.Claims("");
    c.replace(c.find(crypto::FormatRfc3339(kNow), c.find("\"nbf\"")), start.size(), start);
    std::string later = f.Forge(c);
    CHECK(f.factory.Verify(later).error() == TokenError::kNotYetValid);
    CHECK(f.factory.Verify(later).error() == TokenError::kNotYetValid);
    CHECK(f.factory.memo_hits() == hits);
    f.clock.Set(kNow + 600);
    CHECK(f.factory.Verify(later).has_value());
    CHECK(f.factory.Verify(later).has_value());
    CHECK(f.factory.memo_hits() == hits + 1);
  }
}
