#include "backup/content_hash.h"

#include <openssl/evp.h>

#include <stdexcept>

namespace tessera::backup {

struct ContentHash::State {
  EVP_MD_CTX* ctx = nullptr;
};

ContentHash::ContentHash() : state_(std::make_unique<State>()) {
  state_->ctx = EVP_MD_CTX_new();
  if (state_->ctx == nullptr || EVP_DigestInit_ex(state_->ctx, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("OpenSSL SHA-256 unavailable");
  }
}

ContentHash::~ContentHash() { EVP_MD_CTX_free(state_->ctx); }

void ContentHash::Update(const char* data, std::size_t size) {
  EVP_DigestUpdate(state_->ctx, data, size);
}

std::string ContentHash::FinalHex() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(state_->ctx, digest, &len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xf]);
  }
  return out;
}

}  // namespace tessera::backup
