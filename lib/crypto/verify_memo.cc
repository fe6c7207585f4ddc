#include "crypto/verify_memo.h"

namespace tessera::crypto {

MemoHasher::MemoHasher() : key_(crypto_generichash_KEYBYTES) {
  randombytes_buf(key_.data(), key_.size());
}

MemoDigest MemoHasher::Digest(std::string_view credential) const {
  MemoDigest digest;
  crypto_generichash(digest.data(), digest.size(),
                     reinterpret_cast<const unsigned char*>(credential.data()), credential.size(),
                     key_.data(), key_.size());
  return digest;
}

}  // namespace tessera::crypto
