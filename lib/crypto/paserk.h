// PASERK serialisation of v4 keys and their ids (PASERK spec: types `local`, `public`, `secret`,
// `lid`, `pid`, `sid`).
//
//   k4.local.<b64url(32 bytes)>   k4.public.<b64url(32 bytes)>   k4.secret.<b64url(64 bytes)>
//   id = h || b64url(BLAKE2b-264(h || paserk))  with h = "k4.lid." / "k4.pid." / "k4.sid."
//
// Parsing is strict: exact prefix (another version or type is kWrongType), canonical unpadded
// base64url, exact length, and for k4.secret a public half that matches the seed.
#pragma once

#include <expected>
#include <string>
#include <string_view>

#include "crypto/keys.h"
#include "crypto/secret_bytes.h"

namespace tessera::crypto {

enum class PaserkError { kWrongType, kMalformed, kWrongLength, kKeyMismatch };

inline constexpr std::size_t kMaxPaserkBytes = 160;

std::string ToPaserk(const LocalKey& key);
std::string ToPaserk(const PublicKey& key);
// The secret PASERK, in a wiped buffer (its text is the key).
SecretBytes ToPaserk(const SecretKey& key);

std::expected<LocalKey, PaserkError> ParseLocalPaserk(std::string_view text);
std::expected<PublicKey, PaserkError> ParsePublicPaserk(std::string_view text);
std::expected<SecretKey, PaserkError> ParseSecretPaserk(std::string_view text);

std::string Lid(const LocalKey& key);
std::string Pid(const PublicKey& key);
std::string Sid(const SecretKey& key);

}  // namespace tessera::crypto
