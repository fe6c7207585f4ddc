#include "crypto/claims.h"

#include "crypto/rfc3339.h"
#include "json/strict_json.h"

namespace tessera::crypto {

std::expected<Claims, ClaimsError> ParseClaims(std::string_view payload) {
  auto parsed = json::ParseStrict(payload, 8);
  if (!parsed) {
    return std::unexpected(parsed.error() == json::JsonError::kDuplicateKey
                               ? ClaimsError::kDuplicateKey
                               : ClaimsError::kNotJson);
  }
  if (!parsed->is_object()) return std::unexpected(ClaimsError::kNotObject);
  Claims claims;
  for (auto& [key, value] : parsed->items()) {
    std::optional<std::string>* text = key == "iss"   ? &claims.iss
                                       : key == "sub" ? &claims.sub
                                       : key == "aud" ? &claims.aud
                                       : key == "jti" ? &claims.jti
                                                      : nullptr;
    std::optional<std::int64_t>* time = key == "exp"   ? &claims.exp
                                        : key == "nbf" ? &claims.nbf
                                        : key == "iat" ? &claims.iat
                                                       : nullptr;
    if (text != nullptr || time != nullptr) {
      if (!value.is_string()) return std::unexpected(ClaimsError::kWrongType);
      const auto& s = value.get_ref<const std::string&>();
      if (text != nullptr) {
        *text = s;
      } else {
        auto t = ParseRfc3339(s);
        if (!t) return std::unexpected(ClaimsError::kBadTime);
        *time = *t;
      }
    } else {
      claims.custom[key] = std::move(value);
    }
  }
  return claims;
}

std::string SerializeClaims(const Claims& claims) {
  nlohmann::json out = claims.custom.is_object() ? claims.custom : nlohmann::json::object();
  auto put = [&](const char* key, const std::optional<std::string>& v) {
    if (v) out[key] = *v;
  };
  auto put_time = [&](const char* key, const std::optional<std::int64_t>& v) {
    if (v) out[key] = FormatRfc3339(*v);
  };
  put("iss", claims.iss);
  put("sub", claims.sub);
  put("aud", claims.aud);
  put("jti", claims.jti);
  put_time("exp", claims.exp);
  put_time("nbf", claims.nbf);
  put_time("iat", claims.iat);
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace tessera::crypto
