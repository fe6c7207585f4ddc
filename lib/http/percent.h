// Percent-decoding (RFC 3986 section 2.1) for URL paths, queries and form bodies.
//
// Strict: a `%` must be followed by two hex digits. Decoding into a NUL byte is refused, because
// no value of ours may contain one and C APIs would truncate at it.
#pragma once

#include <expected>
#include <string>
#include <string_view>

namespace tessera::http {

enum class PercentError { kBadEscape, kNulByte };

// Decodes `%XX` escapes; when `plus_is_space` (form encoding) also turns `+` into a space.
// Thread-safe. Fails on a malformed escape or a decoded NUL.
std::expected<std::string, PercentError> PercentDecode(std::string_view text, bool plus_is_space);

}  // namespace tessera::http
