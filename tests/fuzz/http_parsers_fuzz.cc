// Fuzz target for every parser of network input in lib/http, lib/json and the login request:
// request paths, percent-encoding, form and JSON parameters (UTF-8 checks included) and the
// login parameter check, the Cookie header and our cookie encoding, REMOTE_ADDR, and the
// login-CSRF Origin check, and the web server's download handoff parameter. The first byte picks
// the parser so one corpus serves all. Crashes, leaks, sanitizer reports and broken round trips
// (abort) are bugs.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "auth/login_request.h"
#include "http/client_address.h"
#include "http/cookies.h"
#include "http/download_handoff.h"
#include "http/params.h"
#include "http/percent.h"
#include "http/request.h"
#include "http/router.h"
#include "json/strict_json.h"
#include "names/utf8.h"

namespace {
using namespace tessera;

// The Cookie header as the worker reads it: every kept pair is well-formed, our value decodes
// only from cookie-octets, and what we encode decodes back to itself.
void Cookies(std::string_view input) {
  auto cookies = http::ParseCookies(input);
  if (!cookies) {
    if (input.size() <= http::kMaxCookieHeaderBytes) std::abort();  // only the byte cap fails
    return;
  }
  if (cookies->size() > http::kMaxCookies) std::abort();
  for (const auto& [name, value] : *cookies) {
    if (name.empty()) std::abort();
    for (char c : value) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) std::abort();
    }
  }
  if (auto ours = http::FindCookie(*cookies, "__Host-PBSAuthCookie"))
    (void)http::DecodeCookieValue(*ours);
  std::string encoded = http::EncodeCookieValue(input);
  auto decoded = http::DecodeCookieValue(encoded);
  if (input.find('\0') == std::string_view::npos && (!decoded || *decoded != input)) std::abort();
}

// A login request's Origin against its Host, split at the first newline.
void Origin(std::string_view input) {
  std::size_t nl = input.find('\n');
  http::Request request;
  request.headers.emplace_back("origin", std::string(input.substr(0, nl)));
  if (nl != std::string_view::npos)
    request.headers.emplace_back("host", std::string(input.substr(nl + 1)));
  (void)auth::CheckLoginOrigin(request);
  request.headers.emplace_back("sec-fetch-site", std::string(input));
  (void)auth::CheckLoginOrigin(request);
}

// A handoff location that parses is safe to prefix a path with: absolute, ending in '/', no
// '.' or '..' segment, nothing to escape.
void Handoff(std::string_view input) {
  auto handoff = http::ParseDownloadHandoff(input);
  if (!handoff || handoff->kind != http::HandoffKind::kAccelRedirect) return;
  const std::string& l = handoff->location;
  if (l.size() < 3 || l.front() != '/' || l.back() != '/') std::abort();
  if (l.find("//") != std::string::npos || l.find("/./") != std::string::npos ||
      l.find("/../") != std::string::npos)
    std::abort();
  for (char c : l) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '/' && c != '.' && c != '-' &&
        c != '_')
      std::abort();
  }
}

// Parameters that parse are text: no handler ever sees malformed UTF-8.
void CheckText(const std::expected<http::Params, http::Problem>& params) {
  if (!params) return;
  for (const auto& [name, value] : *params) {
    if (!names::IsValidUtf8(name) || !names::IsValidUtf8(value)) std::abort();
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 9) {
    case 0: {
      std::vector<std::string> segments;
      (void)http::SplitPath(input, &segments);
      break;
    }
    case 1:
      (void)http::PercentDecode(input, data[0] & 0x80);
      break;
    case 2: {
      auto params = http::ParseForm(input);
      CheckText(params);
      if (params) (void)auth::ParseLoginRequest(*params);
      break;
    }
    case 3: {
      auto params = http::ParseJsonParams(input);
      CheckText(params);
      if (params) (void)auth::ParseLoginRequest(*params);
      break;
    }
    case 4:
      Cookies(input);
      break;
    case 5:
      (void)json::ParseStrict(input);
      break;
    case 6: {
      auto address = http::ParseClientAddress(input);
      // A canonical address parses to itself.
      if (address) {
        auto again = http::ParseClientAddress(address->address);
        if (!again || again->address != address->address || again->network != address->network)
          std::abort();
      }
      break;
    }
    case 7:
      Origin(input);
      break;
    case 8:
      Handoff(input);
      break;
  }
  return 0;
}
