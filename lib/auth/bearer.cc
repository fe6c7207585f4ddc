#include "auth/bearer.h"

#include <sodium.h>

#include "crypto/base64url.h"

namespace tessera::auth {

std::optional<std::string> BearerFromRequest(const http::Request& request) {
  auto header = request.Header("authorization");
  if (!header || header->size() > 12000) return std::nullopt;
  std::string_view h = *header;
  auto scheme_is = [&](std::string_view scheme) {
    if (h.size() <= scheme.size() || h[scheme.size()] != ' ') return false;
    for (std::size_t i = 0; i < scheme.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(h[i])) != scheme[i]) return false;
    }
    return true;
  };
  if (scheme_is("bearer")) return std::string(h.substr(7));
  if (!scheme_is("basic")) return std::nullopt;
  std::string_view b64 = h.substr(6);
  // Basic credentials are padded standard base64 (RFC 7617); strip the padding for the strict
  // unpadded decoder.
  while (!b64.empty() && b64.back() == '=') b64.remove_suffix(1);
  auto decoded = crypto::Base64Decode(b64, 12000, crypto::Base64Alphabet::kStandard);
  if (!decoded) return std::nullopt;
  std::string text(decoded->begin(), decoded->end());
  sodium_memzero(decoded->data(), decoded->size());
  std::size_t colon = text.find(':');
  if (colon == std::string::npos) return std::nullopt;
  std::string token = text.substr(colon + 1);
  sodium_memzero(text.data(), text.size());
  return token;
}

std::optional<ApiTokenCredential> ApiTokenFromRequest(const http::Request& request) {
  constexpr std::string_view kScheme = "PBSAPIToken=";
  auto header = request.Header("authorization");
  if (!header || header->size() > 12000 || !header->starts_with(kScheme)) return std::nullopt;
  std::string_view rest = std::string_view(*header).substr(kScheme.size());
  std::size_t colon = rest.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view who = rest.substr(0, colon);
  std::size_t bang = who.rfind('!');
  if (bang == std::string_view::npos || bang == 0 || bang + 1 == who.size()) return std::nullopt;
  if (colon + 1 == rest.size()) return std::nullopt;
  return ApiTokenCredential{std::string(who.substr(0, bang)), std::string(who.substr(bang + 1)),
                            std::string(rest.substr(colon + 1))};
}

}  // namespace tessera::auth
