#include "crypto/paserk.h"

#include <catch2/catch.hpp>

#include "crypto/base64url.h"
#include "vectors.h"

using namespace tessera::crypto;
using tessera::testing::Hex;
using tessera::testing::LoadTests;

namespace {
std::string AsString(const SecretBytes& b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}
}  // namespace

TEST_CASE("PASERK k4.local vectors") {
  for (const auto& v : LoadTests("PASERK/k4.local.json", 5)) {
    INFO(v["name"].get<std::string>());
    if (v["expect-fail"]) {
      REQUIRE(v["paserk"].is_string());
      CHECK_FALSE(ParseLocalPaserk(v["paserk"].get<std::string>()));
      continue;
    }
    auto key = LocalKey::FromBytes(Hex(v["key"]));
    REQUIRE(key);
    CHECK(ToPaserk(*key) == v["paserk"]);
    auto parsed = ParseLocalPaserk(v["paserk"].get<std::string>());
    REQUIRE(parsed);
    CHECK(ToPaserk(*parsed) == v["paserk"]);
  }
}

TEST_CASE("PASERK k4.public vectors") {
  for (const auto& v : LoadTests("PASERK/k4.public.json", 4)) {
    INFO(v["name"].get<std::string>());
    auto key = PublicKey::FromBytes(Hex(v["key"]));
    if (v["expect-fail"]) {
      CHECK_FALSE(key);
      continue;
    }
    REQUIRE(key);
    CHECK(ToPaserk(*key) == v["paserk"]);
    CHECK(ParsePublicPaserk(v["paserk"].get<std::string>()).value() == *key);
  }
}

TEST_CASE("PASERK k4.secret vectors, including a public half that does not match") {
  for (const auto& v : LoadTests("PASERK/k4.secret.json", 5)) {
    INFO(v["name"].get<std::string>());
    auto key = SecretKey::FromBytes(Hex(v["key"]));
    if (v["expect-fail"]) {
      CHECK_FALSE(key);
      continue;
    }
    REQUIRE(key);
    CHECK(AsString(ToPaserk(*key)) == v["paserk"]);
    auto parsed = ParseSecretPaserk(v["paserk"].get<std::string>());
    REQUIRE(parsed);
    CHECK(parsed->Public() == *PublicKey::FromBytes(Hex(v["public-key"])));
    CHECK(SecretKey::FromSeed(Hex(v["secret-key-seed"]))->Public() == parsed->Public());
  }
}

TEST_CASE("PASERK ids: k4.lid, k4.pid, k4.sid vectors") {
  for (const auto& v : LoadTests("PASERK/k4.lid.json", 4)) {
    INFO(v["name"].get<std::string>());
    auto key = LocalKey::FromBytes(Hex(v["key"]));
    if (v["expect-fail"]) {
      CHECK_FALSE(key);
    } else {
      CHECK(Lid(*key) == v["paserk"]);
    }
  }
  for (const auto& v : LoadTests("PASERK/k4.pid.json", 5)) {
    INFO(v["name"].get<std::string>());
    auto key = PublicKey::FromBytes(Hex(v["key"]));
    if (v["expect-fail"]) {
      CHECK_FALSE(key);
    } else {
      CHECK(Pid(*key) == v["paserk"]);
    }
  }
  for (const auto& v : LoadTests("PASERK/k4.sid.json", 4)) {
    INFO(v["name"].get<std::string>());
    auto key = SecretKey::FromBytes(Hex(v["key"]));
    if (v["expect-fail"]) {
      CHECK_FALSE(key);
    } else {
      REQUIRE(key);
      CHECK(Sid(*key) == v["paserk"]);
    }
  }
}

TEST_CASE("PASERK parsing refuses other types, versions, encodings and lengths") {
  SecretKey sk = SecretKey::Generate();
  std::string pub = ToPaserk(sk.Public());
  std::string sec = AsString(ToPaserk(sk));
  CHECK(ParseLocalPaserk(pub).error() == PaserkError::kWrongType);
  CHECK(ParsePublicPaserk(sec).error() == PaserkError::kWrongType);
  CHECK(ParseSecretPaserk(pub).error() == PaserkError::kWrongType);
  CHECK(ParsePublicPaserk("k3" + pub.substr(2)).error() == PaserkError::kWrongType);
  CHECK(ParsePublicPaserk(pub + "=").error() == PaserkError::kMalformed);
  CHECK(ParsePublicPaserk("k4.public." + Base64Encode(std::vector<std::uint8_t>(31))).error() ==
        PaserkError::kWrongLength);
  CHECK(ParsePublicPaserk(pub.substr(0, pub.size() - 2)).error() == PaserkError::kMalformed);
  CHECK(ParsePublicPaserk(pub + std::string(200, 'A')).error() == PaserkError::kMalformed);
  // A secret key whose public half was swapped for another key's.
  std::vector<std::uint8_t> forged(sk.bytes().begin(), sk.bytes().end());
  auto other = SecretKey::Generate().Public();
  std::copy(other.bytes().begin(), other.bytes().end(), forged.begin() + 32);
  CHECK(SecretKey::FromBytes(forged).error() == KeyError::kKeyMismatch);
}
