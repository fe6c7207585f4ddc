// The server's PASETO v4.public keys: one signing key and any number of older public keys that
// still verify (key rotation). Keys are named by their PASERK id (`k4.pid.…`), which tokens carry
// in their footer as `kid`; lookup is by exact match only, and an unknown kid finds nothing.
// Immutable after loading, so one Keyring is shared by every worker thread.
#pragma once

#include <expected>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/keys.h"
#include "crypto/paseto.h"

namespace tessera::crypto {

class Keyring {
 public:
  explicit Keyring(SecretKey signing_key);

  // Adds an older public key that still verifies. Adding a key twice is harmless.
  void AddVerificationKey(const PublicKey& key);

  const std::string& signing_kid() const { return signing_kid_; }
  const PublicSigner& signer() const { return signer_; }
  // The verifier for `kid`, or nullptr when the kid is not one of ours.
  const PublicVerifier* Find(std::string_view kid) const;

  // Loads the signing key from a `k4.secret` file (which must not be readable by group or
  // others) and the public keys from `k4.public` files, through crypto/key_file.h. Fails with a
  // message naming the file.
  static std::expected<Keyring, std::string> Load(
      const std::filesystem::path& secret_file,
      const std::vector<std::filesystem::path>& public_files);

 private:
  PublicKey signing_public_;
  std::string signing_kid_;
  PublicSigner signer_;
  std::map<std::string, PublicVerifier, std::less<>> verifiers_;
};

}  // namespace tessera::crypto
