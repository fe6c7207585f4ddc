// Incremental SHA-256 of uploaded objects (restic names every object by the SHA-256 of its
// content). This one hash uses OpenSSL's libcrypto rather than libsodium: on this hardware
// OpenSSL uses the CPU's SHA extensions (measured 1750 MB/s against libsodium's portable 307
// MB/s), and hashing is the largest cost of an upload. Everything secret stays on libsodium.
//
// Setting the hash up can fail (OpenSSL out of memory, or SHA-256 disabled by its
// configuration): Start() says so as a value, on the upload path, and never throws. One hash
// belongs to one thread at a time.
#pragma once

#include <cstddef>
#include <expected>
#include <memory>
#include <string>

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX, kept out of this header

namespace tessera::backup {

enum class ContentHashError {
  kUnavailable,  // OpenSSL could not set up a SHA-256 context
};

class ContentHash {
 public:
  // A hash of nothing yet, or kUnavailable.
  [[nodiscard]] static std::expected<ContentHash, ContentHashError> Start();

  ContentHash(ContentHash&&) noexcept = default;
  ContentHash& operator=(ContentHash&&) noexcept = default;

  void Update(const char* data, std::size_t size);
  // Lower-case hex digest; the object cannot be updated afterwards.
  std::string FinalHex();

 private:
  struct CtxFree {
    void operator()(evp_md_ctx_st* ctx) const;
  };
  explicit ContentHash(std::unique_ptr<evp_md_ctx_st, CtxFree> ctx) : ctx_(std::move(ctx)) {}

  std::unique_ptr<evp_md_ctx_st, CtxFree> ctx_;
};

}  // namespace tessera::backup
