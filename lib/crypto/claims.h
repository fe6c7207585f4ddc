// PASETO claims (paseto-spec, docs/02-Implementation-Guide/04-Claims.md): the payload as a JSON
// object whose registered claims have fixed types — iss, sub, aud, jti strings; exp, nbf, iat
// RFC 3339 date-times. Other claims are kept as JSON for the caller. This is data only; what
// makes a token acceptable is the token factory's policy.
#pragma once

#include <cstdint>
#include <expected>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace tessera::crypto {

enum class ClaimsError {
  kNotJson,       // not JSON, or nested too deeply
  kDuplicateKey,  // some object repeats a key
  kNotObject,     // the payload is not a JSON object
  kWrongType,     // a registered claim has the wrong JSON type
  kBadTime,       // exp, nbf or iat is not an RFC 3339 date-time
};

struct Claims {
  std::optional<std::string> iss, sub, aud, jti;
  std::optional<std::int64_t> exp, nbf, iat;         // Unix seconds
  nlohmann::json custom = nlohmann::json::object();  // every other claim
};

// Parses a payload. Thread-safe.
std::expected<Claims, ClaimsError> ParseClaims(std::string_view payload);
// Serialises registered claims (times as whole-second UTC) and custom claims into one object.
std::string SerializeClaims(const Claims& claims);

}  // namespace tessera::crypto
