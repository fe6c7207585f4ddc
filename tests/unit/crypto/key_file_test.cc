#include "crypto/key_file.h"

#include <catch2/catch.hpp>

#include "crypto/paserk.h"
#include "tests/unit/temp_dir.h"

using namespace tessera;
using testing::TempDir;
namespace fs = std::filesystem;

namespace {
std::string Text(const crypto::SecretBytes& b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}
}  // namespace

TEST_CASE("key files load each kind of key, with or without a trailing newline") {
  TempDir dir;
  crypto::SecretKey secret = crypto::SecretKey::Generate();
  std::string public_text = crypto::ToPaserk(secret.Public());
  auto sec = dir.Write("sec", Text(crypto::ToPaserk(secret)) + "\n", 0600);
  auto pub = dir.Write("pub", public_text, 0644);
  auto local = dir.Write("local", crypto::ToPaserk(crypto::LocalKey::Generate()) + "\n", 0600);

  auto loaded = crypto::LoadSecretKey(sec);
  REQUIRE(loaded.has_value());
  CHECK(loaded->Public() == secret.Public());
  auto publics = crypto::LoadPublicKeys({pub, pub});
  REQUIRE(publics.has_value());
  REQUIRE(publics->size() == 2);
  CHECK(publics->front() == secret.Public());
  CHECK(crypto::LoadLocalKey(local).has_value());
  CHECK(crypto::LoadPublicKeys({}).value().empty());
}

TEST_CASE("key files are refused with a message naming the file") {
  TempDir dir;
  crypto::SecretKey secret = crypto::SecretKey::Generate();
  auto open_secret = dir.Write("open", Text(crypto::ToPaserk(secret)), 0640);
  auto pub = dir.Write("pub", crypto::ToPaserk(secret.Public()), 0644);
  auto junk = dir.Write("junk", "k4.secret.not-a-key", 0600);
  auto big = dir.Write("big", std::string(crypto::kMaxPaserkBytes + 5, 'A'), 0600);
  fs::create_symlink(pub, dir.path / "link");

  auto refused = [](const auto& result, const fs::path& file, std::string_view why) {
    REQUIRE_FALSE(result.has_value());
    INFO(result.error());
    CHECK(result.error().find(file.string()) != std::string::npos);
    CHECK(result.error().find(why) != std::string::npos);
  };
  refused(crypto::LoadSecretKey(open_secret), open_secret, "group or others");
  refused(crypto::LoadSecretKey(dir.path / "missing"), dir.path / "missing", "cannot open");
  refused(crypto::LoadSecretKey(junk), junk, "k4.secret");
  refused(crypto::LoadSecretKey(big), big, "too large");
  refused(crypto::LoadLocalKey(junk), junk, "k4.local");
  refused(crypto::LoadPublicKeys({pub, junk}), junk, "k4.public");
  refused(crypto::LoadPublicKeys({dir.path / "link"}), dir.path / "link",
          "cannot open");  // not followed
  refused(crypto::LoadPublicKeys({dir.path}), dir.path, "not a regular file");
}
