// The token factory: bearer tokens for batch backup clients (DESIGN.md, "Bearer tokens"),
// PASETO v4.public, bound to this server's id.
//
// Create() always sets iss = aud = server id, iat, nbf, exp, jti, sub, the permission booleans,
// the optional repo, and the footer {"kid": "<k4.pid of the signing key>"}. Verify() checks, in
// this order: length cap, `v4.public.` header, strict base64url, footer kid (exact match in the
// keyring), the signature — and only then parses the claims: duplicate keys refused, iss and aud
// exact, exp required and in the future, nbf and iat not in the future (beyond `skew`, 60 s by
// default), sub and jti present, permissions booleans. Only Verify() makes a BearerToken, so a
// handler that takes one cannot skip a check. Whether the grant (jti) still exists and is unrevoked
// is the caller's next check.
//
// A client sends the same token with every request, so Verify() remembers the tokens that passed
// (crypto/verify_memo.h: keyed hash of the token text, bounded). A token seen before skips the
// decoding, the signature and the claims parsing — never the length and header checks and never
// the time checks (exp, nbf, iat), which are made against the clock on every call. Only tokens
// that verified completely are remembered, so only tokens our keys signed get in. The keyring only
// ever grows (crypto/keyring.h), so a remembered token's key is still known; removing a key means
// a new keyring, a new factory and an empty memo. Thread-safe: the memo locks itself; the rest is
// immutable after construction.
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "clock/clock.h"
#include "crypto/keyring.h"
#include "crypto/verify_memo.h"

namespace tessera::auth {

struct Permissions {
  bool read = false;
  bool write = false;
  bool del = false;  // the `delete` claim
};

struct TokenRequest {
  std::string subject;  // the account, name@realm
  Permissions permissions;
  std::optional<std::string> repo;  // limits the token to one repository
  std::chrono::seconds lifetime{0};
  std::string jti;  // the grant id
};

enum class TokenError {
  kTooLong,
  kWrongHeader,
  kMalformed,   // base64url, structure
  kBadFooter,   // footer missing, not JSON, or without a string kid
  kUnknownKey,  // kid is not in the keyring
  kBadSignature,
  kBadClaims,  // not a JSON object, duplicate keys, wrong claim types
  kWrongIssuer,
  kWrongAudience,
  kMissingExpiry,
  kExpired,
  kNotYetValid,     // nbf in the future
  kIssuedInFuture,  // iat in the future
  kMissingSubject,
  kMissingJti,
  kInvalidRequest,  // Create(): empty subject or jti, lifetime not positive
};

// A short English reason, for operators (tessera-admin) and logs — never for clients.
std::string_view Describe(TokenError error);

class BearerToken {
 public:
  const std::string& subject() const { return subject_; }
  const std::string& jti() const { return jti_; }
  const std::optional<std::string>& repo() const { return repo_; }
  const Permissions& permissions() const { return permissions_; }
  std::int64_t expires_at() const { return expires_at_; }

 private:
  friend class TokenFactory;
  BearerToken() = default;
  std::string subject_, jti_;
  std::optional<std::string> repo_;
  Permissions permissions_;
  std::int64_t expires_at_ = 0;
};

class TokenFactory {
 public:
  static constexpr std::size_t kMaxFooterBytes = 256;

  TokenFactory(std::string server_id, std::shared_ptr<const crypto::Keyring> keyring,
               const clock::Clock& clock, std::chrono::seconds skew = std::chrono::seconds(60));

  // Mints a token with the keyring's signing key. Fails only with kInvalidRequest.
  std::expected<std::string, TokenError> Create(const TokenRequest& request) const;
  // Verifies an untrusted token string. Fails with the first check that does not pass.
  // Thread-safe.
  std::expected<BearerToken, TokenError> Verify(std::string_view untrusted) const;

  // Verify() calls answered from the memo / that had to check the signature (past the length and
  // header checks). Monotonic; for metrics.
  std::uint64_t memo_hits() const { return memo_->hits(); }
  std::uint64_t memo_misses() const { return memo_->misses(); }

 private:
  // What a full verification produced: the token and the claims that are checked against the clock
  // on every call (exp is the token's expires_at()).
  struct Verified {
    BearerToken token;
    std::optional<std::int64_t> nbf, iat;
  };
  // Tokens per memo generation. An entry (digest, subject, a 32-hex-digit jti, a short repo, hash
  // map node and bucket) takes about 300 bytes, so two generations take about 2.5 MiB, and about
  // 5 MiB with the longest userid (64 bytes) and repository path (255) we sign. 2 × 4096 tokens
  // in steady use is far more than one server's backup clients; a token beyond that costs one
  // signature check, as before the memo.
  static constexpr std::size_t kMemoPerGeneration = 4096;

  std::expected<Verified, TokenError> VerifyFully(std::string_view untrusted) const;

  std::string server_id_;
  std::shared_ptr<const crypto::Keyring> keyring_;
  const clock::Clock& clock_;
  std::int64_t skew_;
  // Behind a pointer so the factory stays movable and Verify() const.
  std::unique_ptr<crypto::VerifyMemo<Verified>> memo_;
};

}  // namespace tessera::auth
