#include "crypto/keyring.h"

#include "crypto/key_file.h"
#include "crypto/paserk.h"

namespace tessera::crypto {

Keyring::Keyring(SecretKey signing_key)
    : signing_public_(signing_key.Public()),
      signing_kid_(Pid(signing_public_)),
      signer_(std::move(signing_key)) {
  AddVerificationKey(signing_public_);
}

void Keyring::AddVerificationKey(const PublicKey& key) {
  verifiers_.try_emplace(Pid(key), PublicVerifier(key));
}

const PublicVerifier* Keyring::Find(std::string_view kid) const {
  auto it = verifiers_.find(kid);
  return it == verifiers_.end() ? nullptr : &it->second;
}

std::expected<Keyring, std::string> Keyring::Load(
    const std::filesystem::path& secret_file,
    const std::vector<std::filesystem::path>& public_files) {
  auto key = LoadSecretKey(secret_file);
  if (!key) return std::unexpected(key.error());
  auto older = LoadPublicKeys(public_files);
  if (!older) return std::unexpected(older.error());
  Keyring ring(std::move(*key));
  for (const PublicKey& k : *older) ring.AddVerificationKey(k);
  return ring;
}

}  // namespace tessera::crypto
