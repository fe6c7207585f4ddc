#include "crypto/paseto.h"

#include <sodium.h>

#include <algorithm>

#include "crypto/base64url.h"
#include "crypto/pae.h"
#include "crypto/secret_bytes.h"

namespace tessera::crypto {
namespace {

constexpr std::size_t kSigBytes = crypto_sign_BYTES;
constexpr std::size_t kNonceBytes = 32;
constexpr std::size_t kTagBytes = 32;

std::string_view AsText(std::span<const std::uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}
const std::uint8_t* AsBytes(std::string_view s) {
  return reinterpret_cast<const std::uint8_t*>(s.data());
}

std::string Assemble(std::string_view header, std::span<const std::uint8_t> body,
                     std::string_view footer) {
  std::string token(header);
  token += Base64Encode(body);
  if (!footer.empty()) token += "." + Base64Encode(footer);
  return token;
}

// Ek || n2 and Ak for one nonce (Version4.md, Encrypt steps 4-5).
struct LocalKeys {
  SecretBytes ek{32}, n2{24}, ak{32};
};
LocalKeys DeriveLocalKeys(std::span<const std::uint8_t> key, std::span<const std::uint8_t> nonce) {
  LocalKeys out;
  SecretBytes tmp(56);
  std::string msg = "paseto-encryption-key";
  msg.append(AsText(nonce));
  crypto_generichash(tmp.data(), tmp.size(), AsBytes(msg), msg.size(), key.data(), key.size());
  std::copy_n(tmp.data(), 32, out.ek.data());
  std::copy_n(tmp.data() + 32, 24, out.n2.data());
  msg = "paseto-auth-key-for-aead";
  msg.append(AsText(nonce));
  crypto_generichash(out.ak.data(), out.ak.size(), AsBytes(msg), msg.size(), key.data(),
                     key.size());
  return out;
}

}  // namespace

std::expected<UntrustedToken, PasetoError> UntrustedToken::Parse(std::string_view token,
                                                                 std::string_view header) {
  if (token.size() > kMaxTokenBytes) return std::unexpected(PasetoError::kTooLong);
  if (!token.starts_with(header)) return std::unexpected(PasetoError::kWrongHeader);
  std::string_view rest = token.substr(header.size());
  std::string_view body = rest.substr(0, rest.find('.'));
  std::string_view footer;
  if (body.size() < rest.size()) {
    footer = rest.substr(body.size() + 1);
    // An empty footer is written without its '.', so "x." is not canonical.
    if (footer.empty() || footer.find('.') != std::string_view::npos) {
      return std::unexpected(PasetoError::kMalformed);
    }
  }
  UntrustedToken out;
  auto body_bytes = Base64Decode(body, kMaxTokenBytes);
  auto footer_bytes = Base64Decode(footer, kMaxTokenBytes);
  if (!body_bytes || !footer_bytes) return std::unexpected(PasetoError::kMalformed);
  out.body_ = std::move(*body_bytes);
  out.footer_.assign(footer_bytes->begin(), footer_bytes->end());
  return out;
}

std::string PublicSigner::Sign(std::string_view payload, std::string_view footer,
                               std::string_view implicit) const {
  std::string m2 = Pae({PublicVerifier::kHeader, payload, footer, implicit});
  std::vector<std::uint8_t> body(payload.begin(), payload.end());
  body.resize(payload.size() + kSigBytes);
  crypto_sign_detached(body.data() + payload.size(), nullptr, AsBytes(m2), m2.size(),
                       key_.bytes().data());
  return Assemble(PublicVerifier::kHeader, body, footer);
}

std::expected<TrustedToken, PasetoError> PublicVerifier::Verify(const UntrustedToken& token,
                                                                std::string_view implicit) const {
  if (token.body_.size() < kSigBytes) return std::unexpected(PasetoError::kMalformed);
  std::size_t mlen = token.body_.size() - kSigBytes;
  std::string_view message = AsText(std::span(token.body_).first(mlen));
  std::string m2 = Pae({kHeader, message, token.footer_, implicit});
  if (crypto_sign_verify_detached(token.body_.data() + mlen, AsBytes(m2), m2.size(),
                                  key_.bytes().data()) != 0) {
    return std::unexpected(PasetoError::kBadSignature);
  }
  return TrustedToken(std::string(message), token.footer_);
}

std::expected<TrustedToken, PasetoError> PublicVerifier::Verify(std::string_view token,
                                                                std::string_view implicit) const {
  auto parsed = UntrustedToken::Parse(token, kHeader);
  if (!parsed) return std::unexpected(parsed.error());
  return Verify(*parsed, implicit);
}

std::string LocalCipher::Encrypt(std::string_view payload, std::string_view footer,
                                 std::string_view implicit) const {
  std::uint8_t nonce[kNonceBytes];
  randombytes_buf(nonce, sizeof nonce);
  return EncryptWithNonce(nonce, payload, footer, implicit);
}

std::string LocalCipher::EncryptWithNonce(std::span<const std::uint8_t> nonce,
                                          std::string_view payload, std::string_view footer,
                                          std::string_view implicit) const {
  LocalKeys keys = DeriveLocalKeys(key_.bytes(), nonce);
  std::vector<std::uint8_t> body(nonce.begin(), nonce.end());
  body.resize(kNonceBytes + payload.size() + kTagBytes);
  std::uint8_t* c = body.data() + kNonceBytes;
  crypto_stream_xchacha20_xor(c, AsBytes(payload), payload.size(), keys.n2.data(), keys.ek.data());
  std::string pre = Pae({kHeader, AsText(nonce), AsText({c, payload.size()}), footer, implicit});
  crypto_generichash(c + payload.size(), kTagBytes, AsBytes(pre), pre.size(), keys.ak.data(),
                     keys.ak.size());
  return Assemble(kHeader, body, footer);
}

std::expected<TrustedToken, PasetoError> LocalCipher::Decrypt(std::string_view token,
                                                              std::string_view implicit) const {
  auto parsed = UntrustedToken::Parse(token, kHeader);
  if (!parsed) return std::unexpected(parsed.error());
  const auto& body = parsed->body_;
  if (body.size() < kNonceBytes + kTagBytes) return std::unexpected(PasetoError::kMalformed);
  std::span<const std::uint8_t> nonce(body.data(), kNonceBytes);
  std::span<const std::uint8_t> c(body.data() + kNonceBytes, body.size() - kNonceBytes - kTagBytes);
  std::span<const std::uint8_t> tag(body.data() + body.size() - kTagBytes, kTagBytes);
  LocalKeys keys = DeriveLocalKeys(key_.bytes(), nonce);
  std::string pre = Pae({kHeader, AsText(nonce), AsText(c), parsed->footer_, implicit});
  std::uint8_t expected[kTagBytes];
  crypto_generichash(expected, kTagBytes, AsBytes(pre), pre.size(), keys.ak.data(), keys.ak.size());
  if (sodium_memcmp(expected, tag.data(), kTagBytes) != 0) {
    return std::unexpected(PasetoError::kBadTag);
  }
  std::string payload(c.size(), '\0');
  crypto_stream_xchacha20_xor(reinterpret_cast<std::uint8_t*>(payload.data()), c.data(), c.size(),
                              keys.n2.data(), keys.ek.data());
  return TrustedToken(std::move(payload), parsed->footer_);
}

}  // namespace tessera::crypto
