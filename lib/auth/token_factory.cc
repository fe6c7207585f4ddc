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

// The checks that depend on the clock, in the order a full verification makes them. Made on every
// Verify(), remembered token or not.
std::optional<TokenError> TimeError(std::int64_t now, std::int64_t skew, std::int64_t exp,
                                    std::optional<std::int64_t> nbf,
                                    std::optional<std::int64_t> iat) {
  if (now >= exp) return TokenError::kExpired;
  if (nbf && *nbf > now + skew) return TokenError::kNotYetValid;
  if (iat && *iat > now + skew) return TokenError::kIssuedInFuture;
  return std::nullopt;
}
}  // namespace

TokenFactory::TokenFactory(std::string server_id, std::shared_ptr<const crypto::Keyring> keyring,
                           const clock::Clock& clock, std::chrono::seconds skew)
    : server_id_(std::move(server_id)),
      keyring_(std::move(keyring)),
      clock_(clock),
      skew_(skew.count()),
      memo_(std::make_unique<crypto::VerifyMemo<Verified>>(kMemoPerGeneration)) {}

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
  // Length and header first, as UntrustedToken::Parse makes them: junk is refused before it costs
  // a hash, and answers with the same errors as without the memo.
  if (untrusted.size() > crypto::kMaxTokenBytes) return std::unexpected(TokenError::kTooLong);
  if (!untrusted.starts_with(crypto::PublicVerifier::kHeader)) {
    return std::unexpected(TokenError::kWrongHeader);
  }
  const crypto::MemoDigest key = memo_->Key(untrusted);
  if (auto seen = memo_->Find(key)) {
    if (auto error = TimeError(clock_.Now(), skew_, seen->token.expires_at(), seen->nbf, seen->iat))
      return std::unexpected(*error);
    return std::move(seen->token);
  }
  auto verified = VerifyFully(untrusted);
  if (!verified) return std::unexpected(verified.error());
  memo_->Insert(key, *verified);  // successes only: a failure is never remembered
  return std::move(verified->token);
}

std::expected<TokenFactory::Verified, TokenError> TokenFactory::VerifyFully(
    std::string_view untrusted) const {
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
  if (auto error = TimeError(clock_.Now(), skew_, *claims->exp, claims->nbf, claims->iat))
    return std::unexpected(*error);
  if (!claims->sub || claims->sub->empty()) return std::unexpected(TokenError::kMissingSubject);
  if (!claims->jti || claims->jti->empty()) return std::unexpected(TokenError::kMissingJti);

  Verified verified{BearerToken(), claims->nbf, claims->iat};
  BearerToken& out = verified.token;
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
  return verified;
}

}  // namespace tessera::auth
