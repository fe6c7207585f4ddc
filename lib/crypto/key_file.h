// Key files: the one place the server and tessera-admin read PASERK keys from disk (the token
// keyring, the ticket keys, the CSRF key). A file holds one PASERK string and may end in one
// newline. Secret keys (k4.secret, k4.local) must not be accessible by group or others; every
// buffer that held key text is wiped. Each function fails with a message naming the file and
// what is wrong with it (for start-up logs and the admin tool). Thread-safe (no shared state).
#pragma once

#include <expected>
#include <filesystem>
#include <string>
#include <vector>

#include "crypto/keys.h"
#include "crypto/secret_bytes.h"

namespace tessera::crypto {

// Reads a key file: its text with one trailing newline removed, in a wiped buffer. Fails when the
// file is unreadable, not a regular file (symlinks are not followed), larger than a PASERK can
// be, or (with `secret`) group/world accessible.
std::expected<SecretBytes, std::string> ReadKeyFile(const std::filesystem::path& path, bool secret);

// A `k4.secret` file (a signing key).
std::expected<SecretKey, std::string> LoadSecretKey(const std::filesystem::path& path);
// `k4.public` files (older keys that still verify), in order.
std::expected<std::vector<PublicKey>, std::string> LoadPublicKeys(
    const std::vector<std::filesystem::path>& paths);
// A `k4.local` file (a symmetric key).
std::expected<LocalKey, std::string> LoadLocalKey(const std::filesystem::path& path);

}  // namespace tessera::crypto
