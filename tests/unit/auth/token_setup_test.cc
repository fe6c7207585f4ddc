// The token factory as the configuration builds it (auth/token_setup.h), from key files in a
// temporary directory.
#include "auth/token_setup.h"

#include <catch2/catch.hpp>
#include <string>

#include "crypto/keyring.h"
#include "crypto/paserk.h"
#include "tests/unit/temp_dir.h"

using namespace tessera;
using testing::TempDir;

namespace {
constexpr std::int64_t kNow = 1800000000;

// The key's PASERK text, as a key file holds it.
std::string SecretText(const crypto::SecretKey& key) {
  const crypto::SecretBytes text = crypto::ToPaserk(key);
  return std::string(reinterpret_cast<const char*>(text.data()), text.size()) + "\n";
}

auth::TokenRequest Request() {
  return {"alice@pbs", {true, false, false}, std::nullopt, std::chrono::hours(1), "42"};
}

// A token signed with `key` by a server named `server_id` whose clock reads `now`.
std::string MintWith(const crypto::SecretKey& key, const std::string& server_id, std::int64_t now) {
  clock::FixedClock clock{now};
  auth::TokenFactory other(
      server_id,
      std::make_shared<const crypto::Keyring>(crypto::SecretKey::FromBytes(key.bytes()).value()),
      clock);
  return other.Create(Request()).value();
}
}  // namespace

TEST_CASE("without token_key there is no token factory, and no error") {
  config::Config config;
  clock::FixedClock clock{kNow};
  auto made = auth::MakeTokenFactory(config, clock);
  REQUIRE(made.has_value());
  CHECK(*made == nullptr);
}

TEST_CASE("the token factory signs with token_key, verifies token_verify_keys, as server_id") {
  TempDir dir;
  crypto::SecretKey current = crypto::SecretKey::Generate();
  crypto::SecretKey older = crypto::SecretKey::Generate();
  crypto::SecretKey stranger = crypto::SecretKey::Generate();
  config::Config config;
  config.server_id = "backup.example";
  config.token_key = dir.Write("token.k4.secret", SecretText(current), 0600).string();
  config.token_verify_keys = {
      dir.Write("old.k4.public", crypto::ToPaserk(older.Public()) + "\n", 0644).string()};
  config.token_clock_skew = std::chrono::seconds(10);
  clock::FixedClock clock{kNow};
  auto made = auth::MakeTokenFactory(config, clock);
  REQUIRE(made.has_value());
  REQUIRE(*made != nullptr);
  auth::TokenFactory& factory = **made;

  auto own = factory.Create(Request());
  REQUIRE(own.has_value());
  CHECK(factory.Verify(*own).value().subject() == "alice@pbs");
  CHECK(factory.Verify(MintWith(current, "backup.example", kNow)).has_value());
  CHECK(factory.Verify(MintWith(older, "backup.example", kNow)).has_value());
  CHECK(factory.Verify(MintWith(stranger, "backup.example", kNow)).error() ==
        auth::TokenError::kUnknownKey);
  CHECK(factory.Verify(MintWith(current, "elsewhere", kNow)).error() ==
        auth::TokenError::kWrongIssuer);
  // token_clock_skew: a token stamped 5 s ahead passes, 30 s ahead does not.
  CHECK(factory.Verify(MintWith(current, "backup.example", kNow + 5)).has_value());
  CHECK_FALSE(factory.Verify(MintWith(current, "backup.example", kNow + 30)).has_value());
}

TEST_CASE("a token key that cannot be loaded fails with a message naming its file") {
  TempDir dir;
  crypto::SecretKey key = crypto::SecretKey::Generate();
  clock::FixedClock clock{kNow};
  config::Config config;
  config.token_key = (dir.path / "missing.k4.secret").string();
  auto made = auth::MakeTokenFactory(config, clock);
  REQUIRE_FALSE(made.has_value());
  CHECK(made.error().find("missing.k4.secret") != std::string::npos);

  config.token_key =
      dir.Write("open.k4.secret", SecretText(key), 0644).string();  // readable by all
  made = auth::MakeTokenFactory(config, clock);
  REQUIRE_FALSE(made.has_value());
  CHECK(made.error().find("open.k4.secret") != std::string::npos);

  config.token_key = dir.Write("token.k4.secret", SecretText(key), 0600).string();
  config.token_verify_keys = {(dir.path / "gone.k4.public").string()};
  made = auth::MakeTokenFactory(config, clock);
  REQUIRE_FALSE(made.has_value());
  CHECK(made.error().find("gone.k4.public") != std::string::npos);
}
