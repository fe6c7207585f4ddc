#include "backup/content_hash.h"

#include <openssl/evp.h>

#include <span>

#include "encoding/hex.h"

namespace tessera::backup {

void ContentHash::CtxFree::operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }

std::expected<ContentHash, ContentHashError> ContentHash::Start() {
  // Owned from the moment it exists, so a failed init below frees it too.
  std::unique_ptr<EVP_MD_CTX, CtxFree> ctx(EVP_MD_CTX_new());
  if (ctx == nullptr || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
    return std::unexpected(ContentHashError::kUnavailable);
  return ContentHash(std::move(ctx));
}

void ContentHash::Update(const char* data, std::size_t size) {
  EVP_DigestUpdate(ctx_.get(), data, size);
}

std::string ContentHash::FinalHex() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_.get(), digest, &len);
  return encoding::Hex(std::span<const unsigned char>(digest, len));
}

}  // namespace tessera::backup
