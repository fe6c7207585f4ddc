#include "auth/login_request.h"

#include <sodium.h>

#include <array>
#include <charconv>
#include <optional>
#include <string_view>

#include "crypto/secret_bytes.h"
#include "names/userid.h"
#include "names/utf8.h"

namespace tessera::auth {
namespace {
constexpr std::array<std::string_view, 8> kKnown = {
    "username", "password", "http-only", "realm", "path", "privs", "port", "tfa-challenge"};

http::Problem Bad(std::string message) { return http::Problem{400, std::move(message)}; }
http::Problem CrossSite() { return http::Problem{403, "cross-site login refused"}; }

// A parameter's value as text: UTF-8 (checked again here: a caller may build Params by hand),
// no control character, at most `cap` bytes. The message names the field, never the value.
std::optional<http::Problem> CheckText(std::string_view name, std::string_view value,
                                       std::size_t cap) {
  std::string field = "parameter '" + std::string(name) + "'";
  if (value.size() > cap) return Bad(field + " is too long");
  if (!names::IsValidUtf8(value)) return Bad(field + " is not valid UTF-8");
  if (names::HasControlCharacter(value)) return Bad(field + " contains a control character");
  return std::nullopt;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

struct Authority {
  std::string host;  // lower case; an IPv6 literal keeps its brackets
  std::optional<unsigned> port;
};

// host [ ":" port ], where host may be a bracketed IPv6 literal (RFC 3986 section 3.2).
std::optional<Authority> ParseAuthority(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::string_view host = text;
  std::string_view port;
  if (text.front() == '[') {
    std::size_t close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = text.substr(0, close + 1);
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return std::nullopt;
      port = rest.substr(1);
      if (port.empty()) return std::nullopt;
    }
  } else if (std::size_t colon = text.rfind(':'); colon != std::string_view::npos) {
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (port.empty()) return std::nullopt;
  }
  if (host.empty()) return std::nullopt;
  for (char c : host) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '/' || c == '?' || c == '#' || c == '@' || c == '\\') {
      return std::nullopt;
    }
  }
  Authority out{Lower(host), std::nullopt};
  if (!port.empty()) {
    unsigned n = 0;
    auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
    if (ec != std::errc() || p != port.data() + port.size() || n == 0 || n > 65535)
      return std::nullopt;
    out.port = n;
  }
  return out;
}

// Whether the serialized origin (RFC 6454 section 6.1: scheme "://" host [ ":" port ]) is the
// site the request was sent to, as its Host header names it.
bool SameOrigin(std::string_view origin, std::optional<std::string_view> host_header) {
  if (!host_header) return false;
  std::string lower = Lower(origin);
  unsigned default_port = 0;
  std::string_view rest = lower;
  if (rest.starts_with("https://")) {
    default_port = 443;
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    default_port = 80;
    rest.remove_prefix(7);
  } else {
    return false;
  }
  auto from = ParseAuthority(rest);
  auto to = ParseAuthority(*host_header);
  if (!from || !to || from->host != to->host) return false;
  // With a port in Host, the ports must agree. Without one, any port passes: nginx as Debian
  // ships it passes HTTP_HOST as $host, which drops the port, so a same-origin page on :8007
  // would be refused otherwise. Another port of the same host is then not told apart by Origin,
  // but a browser that sends Fetch metadata marks it "same-site", which is refused above.
  if (!to->port) return true;
  return *to->port == from->port.value_or(default_port);
}

}  // namespace

LoginRequest::~LoginRequest() { crypto::WipeString(password); }

std::expected<LoginRequest, http::Problem> ParseLoginRequest(http::Params& params) {
  for (const auto& [name, value] : params) {
    bool known = false;
    for (auto k : kKnown) known = known || name == k;
    if (!known) return std::unexpected(http::UnknownParameter(name));
    if (name == "username" || name == "password") continue;  // checked below, with their own rules
    if (auto problem = CheckText(name, value, kMaxOtherParamBytes))
      return std::unexpected(*problem);
  }
  LoginRequest request;
  auto user = params.find("username");
  if (user == params.end() || user->second.empty()) {
    return std::unexpected(Bad("parameter 'username' is required"));
  }
  if (auto problem = CheckText("username", user->second, kMaxUsernameBytes)) {
    return std::unexpected(*problem);
  }
  if (!names::IsValidUserid(user->second)) {
    return std::unexpected(Bad("parameter 'username' is not a valid userid (name@realm)"));
  }
  request.username = user->second;
  auto pass = params.find("password");
  if (pass == params.end() || pass->second.empty()) {
    return std::unexpected(Bad("parameter 'password' is required"));
  }
  if (auto problem = CheckText("password", pass->second, kMaxPasswordBytes)) {
    crypto::WipeString(pass->second);
    return std::unexpected(*problem);
  }
  // A copy, then a wipe of the whole source buffer: a move would leave a short password in the
  // moved-from string's inline bytes, where a wipe of its (then zero) size clears nothing.
  request.password = pass->second;
  crypto::WipeString(pass->second);
  if (auto flag = params.find("http-only"); flag != params.end()) {
    auto value = http::ParseBool(flag->second);
    if (!value) return std::unexpected(Bad("parameter 'http-only' must be a boolean"));
    request.http_only = *value;
  }
  return request;
}

std::expected<void, http::Problem> CheckLoginOrigin(const http::Request& request) {
  // Fetch metadata (W3C "Fetch Metadata Request Headers"): "none" is a navigation the user made
  // (typed URL, bookmark); "same-site" is refused too, since a sibling subdomain is another party.
  if (auto site = request.Header("sec-fetch-site")) {
    std::string value = Lower(*site);
    if (value != "same-origin" && value != "none") return std::unexpected(CrossSite());
  }
  // RFC 6454 section 7: browsers send Origin on every POST; "null" comes from sandboxed frames,
  // data: URLs and redirects across origins, none of which may log anyone in.
  if (auto origin = request.Header("origin")) {
    if (!SameOrigin(*origin, request.Header("host"))) return std::unexpected(CrossSite());
  }
  return {};
}

}  // namespace tessera::auth
