// Percent-encoding (RFC 3986 section 2.1) for URL paths, queries, form bodies and cookie values.
//
// Decoding is strict: a `%` must be followed by two hex digits. Decoding into a NUL byte is
// refused, because no value of ours may contain one and C APIs would truncate at it.
//
// Encoding is the one percent-encoder of Tessera: the caller says which bytes stay as they are
// (the cookie octets, SigV4's unreserved set); every other byte becomes %XX in upper-case hex, as
// RFC 3986 recommends and AWS SigV4 requires.
#pragma once

#include <expected>
#include <string>
#include <string_view>

namespace tessera::http {

enum class PercentError { kBadEscape, kNulByte };

// Decodes `%XX` escapes; when `plus_is_space` (form encoding) also turns `+` into a space.
// Thread-safe. Fails on a malformed escape or a decoded NUL.
std::expected<std::string, PercentError> PercentDecode(std::string_view text, bool plus_is_space);

// `text` with every byte for which `keep` is false written as %XX. Thread-safe.
std::string PercentEncode(std::string_view text, bool (*keep)(char));

}  // namespace tessera::http
