#include "auth/token_factory.h"

#include <algorithm>

#include "crypto/claims.h"
#include "crypto/paseto.h"
#include "json/strict_json.h"

namespace tessera::auth {

std::string_view Describe(TokenError error) {
  switch (error) {
    case TokenError::kTooLong:
      return "token is too long";
    case TokenError::kWrongHeader:
      return "not a v4.public token";
    case TokenError::kMalformed:
      return "token is not well-formed base64url";
    case TokenError::kBadFooter:
      return "footer is missing or has no kid";
    case TokenError::kUnknownKey:
      return "token was signed by a key this server does not know";
    case TokenError::kBadSignature:
      return "signature does not verify";
    case TokenError::kBadClaims:
      return "claims are not a valid JSON object";
    case TokenError::kWrongIssuer:
      return "issuer is not this server";
    case TokenError::kWrongAudience:
      return "audience is not this server";
    case TokenError::kMissingExpiry:
      return "token has no expiry";
    case TokenError::kExpired:
      return "token has expired";
    case TokenError::kNotYetValid:
      return "token is not valid yet (nbf)";
    case TokenError::kIssuedInFuture:
      return "token was issued in the future (iat)";
    case TokenError::kMissingSubject:
      return "token has no subject";
    case TokenError::kMissingJti:
      return "token has no grant id (jti)";
    case TokenError::kInvalidRequest:
      return "invalid token request";
  }
  return "invalid token";
}

namespace {
// The kid of a footer `{"kid":"..."}`. The exact form Create() writes is read directly; any other
// spelling goes through the strict JSON parser. Either way only a string kid is accepted.
std::optional<std::string> FooterKid(std::string_view footer) {
  constexpr std::string_view kOpen = R"({"kid":")";
  constexpr std::string_view kClose = R"("})";
  if (footer.starts_with(kOpen) && footer.ends_with(kClose) &&
      footer.size() >= kOpen.size() + kClose.size()) {
    std::string_view kid =
        footer.substr(kOpen.size(), footer.size() - kOpen.size() - kClose.size());
    bool plain = std::all_of(kid.begin(), kid.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '.' || c == '-' || c == '_';
    });
    if (plain) return std::string(kid);
  }
  auto parsed = json::ParseStrict(footer, 2);
  if (!parsed || !parsed->is_object()) return std::nullopt;
  auto it = parsed->find("kid");
  if (it == parsed->end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}
}  // namespace

TokenFactory::TokenFactory(std::string server_id, std::shared_ptr<const crypto::Keyring> keyring,
                           const clock::Clock& clock, std::chrono::seconds skew)
    : server_id_(std::move(server_id)),
      keyring_(std::move(keyring)),
      clock_(clock),
      skew_(skew.count()) {}

std::expected<std::string, TokenError> TokenFactory::Create(const TokenRequest& request) const {
  if (request.subject.empty() || request.jti.empty() || request.lifetime.count() <= 0 ||
      (request.repo && request.repo->empty())) {
    return std::unexpected(TokenError::kInvalidRequest);
  }
  std::int64_t now = clock_.Now();
  crypto::Claims claims;
  claims.iss = server_id_;
  claims.aud = server_id_;
  claims.sub = request.subject;
  claims.jti = request.jti;
  claims.iat = now;
  claims.nbf = now;
  claims.exp = now + request.lifetime.count();
  if (request.permissions.read) claims.custom["read"] = true;
  if (request.permissions.write) claims.custom["write"] = true;
  if (request.permissions.del) claims.custom["delete"] = true;
  if (request.repo) claims.custom["repo"] = *request.repo;
  nlohmann::json footer = {{"kid", keyring_->signing_kid()}};
  return keyring_->signer().Sign(crypto::SerializeClaims(claims), footer.dump());
}

std::expected<BearerToken, TokenError> TokenFactory::Verify(std::string_view untrusted) const {
  using crypto::PasetoError;
  auto token = crypto::UntrustedToken::Parse(untrusted, crypto::PublicVerifier::kHeader);
  if (!token) {
    switch (token.error()) {
      case PasetoError::kTooLong:
        return std::unexpected(TokenError::kTooLong);
      case PasetoError::kWrongHeader:
        return std::unexpected(TokenError::kWrongHeader);
      default:
        return std::unexpected(TokenError::kMalformed);
    }
  }
  // The footer is untrusted until the signature checks; it only picks the key.
  const std::string& raw_footer = token->untrusted_footer();
  if (raw_footer.empty() || raw_footer.size() > kMaxFooterBytes) {
    return std::unexpected(TokenError::kBadFooter);
  }
  auto kid = FooterKid(raw_footer);
  if (!kid) return std::unexpected(TokenError::kBadFooter);
  const crypto::PublicVerifier* verifier = keyring_->Find(*kid);
  if (verifier == nullptr) return std::unexpected(TokenError::kUnknownKey);
  auto trusted = verifier->Verify(*token);
  if (!trusted) return std::unexpected(TokenError::kBadSignature);

  auto claims = crypto::ParseClaims(trusted->payload());
  if (!claims) return std::unexpected(TokenError::kBadClaims);
  if (claims->iss != server_id_) return std::unexpected(TokenError::kWrongIssuer);
  if (claims->aud != server_id_) return std::unexpected(TokenError::kWrongAudience);
  if (!claims->exp) return std::unexpected(TokenError::kMissingExpiry);
  std::int64_t now = clock_.Now();
  if (now >= *claims->exp) return std::unexpected(TokenError::kExpired);
  if (claims->nbf && *claims->nbf > now + skew_) return std::unexpected(TokenError::kNotYetValid);
  if (claims->iat && *claims->iat > now + skew_)
    return std::unexpected(TokenError::kIssuedInFuture);
  if (!claims->sub || claims->sub->empty()) return std::unexpected(TokenError::kMissingSubject);
  if (!claims->jti || claims->jti->empty()) return std::unexpected(TokenError::kMissingJti);

  BearerToken out;
  const nlohmann::json& custom = claims->custom;
  auto flag = [&](const char* name, bool* value) {
    auto it = custom.find(name);
    if (it == custom.end()) return true;
    if (!it->is_boolean()) return false;
    *value = it->get<bool>();
    return true;
  };
  if (!flag("read", &out.permissions_.read) || !flag("write", &out.permissions_.write) ||
      !flag("delete", &out.permissions_.del)) {
    return std::unexpected(TokenError::kBadClaims);
  }
  if (auto it = custom.find("repo"); it != custom.end()) {
    if (!it->is_string() || it->get_ref<const std::string&>().empty()) {
      return std::unexpected(TokenError::kBadClaims);
    }
    out.repo_ = it->get<std::string>();
  }
  out.subject_ = std::move(*claims->sub);
  out.jti_ = std::move(*claims->jti);
  out.expires_at_ = *claims->exp;
  return out;
}

}  // namespace tessera::auth
