#include "http/cookies.h"

#include "http/percent.h"

namespace tessera::http {
namespace {
std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IsTokenChar(char c) {
  // RFC 7230 tchar.
  if (c >= '0' && c <= '9') return true;
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

// RFC 6265 section 4.1.1: cookie-octet = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E.
bool IsCookieOctet(char ch) {
  auto c = static_cast<unsigned char>(ch);
  return c == 0x21 || (c >= 0x23 && c <= 0x2B) || (c >= 0x2D && c <= 0x3A) ||
         (c >= 0x3C && c <= 0x5B) || (c >= 0x5D && c <= 0x7E);
}

bool WellFormed(std::string_view name, std::string_view value) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!IsTokenChar(c)) return false;
  }
  for (char c : value) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  }
  return true;
}
}  // namespace

std::expected<Cookies, CookieError> ParseCookies(std::string_view header) {
  if (header.size() > kMaxCookieHeaderBytes) return std::unexpected(CookieError::kTooLarge);
  Cookies cookies;
  while (!header.empty() && cookies.size() < kMaxCookies) {
    std::size_t semi = header.find(';');
    std::string_view pair = TrimSpaces(header.substr(0, semi));
    header = semi == std::string_view::npos ? std::string_view{} : header.substr(semi + 1);
    std::size_t eq = pair.find('=');
    if (eq == std::string_view::npos) continue;  // empty or malformed: not a cookie, skipped
    std::string_view name = TrimSpaces(pair.substr(0, eq));
    std::string_view value = TrimSpaces(pair.substr(eq + 1));
    if (!WellFormed(name, value)) continue;
    cookies.emplace_back(name, value);
  }
  return cookies;
}

std::optional<std::string_view> FindCookie(const Cookies& cookies, std::string_view name) {
  for (const auto& [n, v] : cookies) {
    if (n == name) return v;
  }
  return std::nullopt;
}

std::string EncodeCookieValue(std::string_view value) {
  // '%' is a cookie octet, but it starts an escape.
  return PercentEncode(value, [](char c) { return IsCookieOctet(c) && c != '%'; });
}

std::optional<std::string> DecodeCookieValue(std::string_view value) {
  for (char c : value) {
    if (!IsCookieOctet(c)) return std::nullopt;
  }
  auto decoded = PercentDecode(value, /*plus_is_space=*/false);
  if (!decoded) return std::nullopt;
  return std::move(*decoded);
}

}  // namespace tessera::http
