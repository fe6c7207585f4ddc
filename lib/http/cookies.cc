#include "http/cookies.h"

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
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-':
    case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}
}  // namespace

std::expected<Cookies, CookieError> ParseCookies(std::string_view header) {
  if (header.size() > kMaxCookieHeaderBytes) return std::unexpected(CookieError::kTooLarge);
  Cookies cookies;
  while (!header.empty()) {
    std::size_t semi = header.find(';');
    std::string_view pair = TrimSpaces(header.substr(0, semi));
    header = semi == std::string_view::npos ? std::string_view{} : header.substr(semi + 1);
    if (pair.empty()) continue;
    std::size_t eq = pair.find('=');
    if (eq == std::string_view::npos || eq == 0) return std::unexpected(CookieError::kMalformed);
    std::string_view name = TrimSpaces(pair.substr(0, eq));
    std::string_view value = TrimSpaces(pair.substr(eq + 1));
    if (name.empty()) return std::unexpected(CookieError::kMalformed);
    for (char c : name) {
      if (!IsTokenChar(c)) return std::unexpected(CookieError::kMalformed);
    }
    for (char c : value) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
        return std::unexpected(CookieError::kMalformed);
      }
    }
    if (cookies.size() >= kMaxCookies) return std::unexpected(CookieError::kTooLarge);
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

}  // namespace tessera::http
