// Fuzz target for the bearer-token path: the token factory's Verify (length cap, header, base64url,
// footer JSON, kid lookup, signature, claims), v4.local decryption, PASERK parsing and RFC 3339.
// The first byte picks the parser. A fixed keyring keeps runs reproducible.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "auth/token_factory.h"
#include "crypto/claims.h"
#include "crypto/paserk.h"
#include "crypto/paseto.h"
#include "crypto/rfc3339.h"

namespace {
using namespace tessera;

struct State {
  clock::FixedClock clock{1800000000};
  std::shared_ptr<crypto::Keyring> ring;
  std::unique_ptr<auth::TokenFactory> factory;
  std::unique_ptr<crypto::LocalCipher> cipher;
  State() {
    std::uint8_t seed[32] = {1};
    ring = std::make_shared<crypto::Keyring>(*crypto::SecretKey::FromSeed(seed));
    factory = std::make_unique<auth::TokenFactory>("fuzz", ring, clock);
    cipher = std::make_unique<crypto::LocalCipher>(*crypto::LocalKey::FromBytes(seed));
  }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static State state;
  if (size == 0) return 0;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 5) {
    case 0:
      (void)state.factory->Verify(input);
      break;
    case 1:
      (void)state.cipher->Decrypt(input);
      break;
    case 2:
      (void)crypto::ParseSecretPaserk(input);
      (void)crypto::ParsePublicPaserk(input);
      (void)crypto::ParseLocalPaserk(input);
      break;
    case 3:
      (void)crypto::ParseRfc3339(input);
      break;
    case 4:
      (void)crypto::ParseClaims(input);
      break;
  }
  return 0;
}
