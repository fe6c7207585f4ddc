// The Cookie request header (RFC 6265 section 5.4 / 4.2.1): `name=value` pairs joined by "; ",
// and the encoding of our own cookie values.
//
// The header carries cookies of every application on the site, so one malformed pair that is not
// ours must not cost us ours: a pair without '=', with an empty name, a name that is not an RFC
// 7230 token, or a control character in its value is skipped, not an error. Capped: a header of
// more than kMaxCookieHeaderBytes is refused whole (kTooLarge), and only the first kMaxCookies
// well-formed pairs are kept. Values are returned as sent (quotes kept); a name may repeat
// (browsers send one per matching path) and the first one wins in FindCookie.
//
// Our values (the ticket) are written with EncodeCookieValue and read with DecodeCookieValue,
// the same percent-encoding both ways, so any byte a userid may hold (';', '%', '"', ',',
// non-ASCII) survives the round trip; Proxmox clients percent-encode the cookie they send the same
// way.
#pragma once

#include <cstddef>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tessera::http {

inline constexpr std::size_t kMaxCookieHeaderBytes = 8192;
inline constexpr std::size_t kMaxCookies = 256;

using Cookies = std::vector<std::pair<std::string_view, std::string_view>>;

enum class CookieError { kTooLarge };

// Parses the header, skipping malformed pairs; the views point into `header`. Fails only when the
// header is over the byte cap. Thread-safe.
std::expected<Cookies, CookieError> ParseCookies(std::string_view header);
// The first cookie with this exact name.
std::optional<std::string_view> FindCookie(const Cookies& cookies, std::string_view name);

// Percent-encodes a value for Set-Cookie: every byte that is not an RFC 6265 cookie-octet
// (section 4.1.1: printable ASCII except space, '"', ',', ';' and '\'), and '%' itself, becomes
// %XX (upper-case hex). Thread-safe; cannot fail.
std::string EncodeCookieValue(std::string_view value);
// The inverse: nullopt when the value holds a byte that is not a cookie-octet, a malformed %XX
// escape, or an escape that decodes to NUL. Thread-safe.
std::optional<std::string> DecodeCookieValue(std::string_view value);

}  // namespace tessera::http
