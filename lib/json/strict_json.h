// Strict JSON parsing for untrusted input, on nlohmann/json in its no-throw mode.
//
// Beyond RFC 8259 syntax it refuses what an attacker could use to make two readers disagree:
// duplicate keys in any object (RFC 8259 section 4 leaves their meaning open) and nesting deeper
// than a cap. Size is the caller's to cap before calling.
#pragma once

#include <expected>
#include <nlohmann/json.hpp>
#include <string_view>

namespace tessera::json {

enum class JsonError { kSyntax, kDuplicateKey, kTooDeep };

// Parses `text`. Thread-safe. Fails with kSyntax for malformed JSON, kDuplicateKey when an object
// repeats a key, kTooDeep when arrays/objects nest deeper than `max_depth`.
std::expected<nlohmann::json, JsonError> ParseStrict(std::string_view text, int max_depth = 16);

}  // namespace tessera::json
