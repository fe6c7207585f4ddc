// The Cookie request header (RFC 6265 section 5.4 / 4.2.1): `name=value` pairs joined by "; ".
//
// Capped: at most kMaxCookieHeaderBytes of header and kMaxCookies pairs. A pair without '=' or
// with an empty name makes the header malformed. Values are returned as sent (quotes kept); a
// name may repeat (browsers send one per matching path) and the first one wins in FindCookie.
#pragma once

#include <cstddef>
#include <expected>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace tessera::http {

inline constexpr std::size_t kMaxCookieHeaderBytes = 8192;
inline constexpr std::size_t kMaxCookies = 64;

using Cookies = std::vector<std::pair<std::string_view, std::string_view>>;

enum class CookieError { kTooLarge, kMalformed };

// Parses the header; the views point into `header`. Thread-safe.
std::expected<Cookies, CookieError> ParseCookies(std::string_view header);
// The first cookie with this exact name.
std::optional<std::string_view> FindCookie(const Cookies& cookies, std::string_view name);

}  // namespace tessera::http
