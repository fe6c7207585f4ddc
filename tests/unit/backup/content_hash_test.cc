// The upload hash (backup/content_hash.h): SHA-256 in lower-case hex, and a set-up OpenSSL
// refuses is an error value, not an exception, with nothing leaked. This test binary interposes
// EVP_DigestInit_ex (to make it fail on demand) and EVP_MD_CTX_new/free (to see the context freed);
// each hands on to OpenSSL's own.
#include "backup/content_hash.h"

#include <dlfcn.h>
#include <openssl/evp.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <string>

namespace {
std::atomic<bool> g_fail_init{false};
std::atomic<EVP_MD_CTX*> g_last_new{nullptr};
std::atomic<EVP_MD_CTX*> g_last_free{nullptr};

template <typename F>
F Real(const char* name) {
  return reinterpret_cast<F>(dlsym(RTLD_NEXT, name));
}
}  // namespace

extern "C" EVP_MD_CTX* EVP_MD_CTX_new(void) {
  static auto real = Real<EVP_MD_CTX* (*)()>("EVP_MD_CTX_new");
  EVP_MD_CTX* ctx = real();
  g_last_new = ctx;
  return ctx;
}

extern "C" void EVP_MD_CTX_free(EVP_MD_CTX* ctx) {
  static auto real = Real<void (*)(EVP_MD_CTX*)>("EVP_MD_CTX_free");
  if (ctx != nullptr) g_last_free = ctx;
  real(ctx);
}

extern "C" int EVP_DigestInit_ex(EVP_MD_CTX* ctx, const EVP_MD* type, ENGINE* impl) {
  static auto real = Real<int (*)(EVP_MD_CTX*, const EVP_MD*, ENGINE*)>("EVP_DigestInit_ex");
  if (g_fail_init) return 0;
  return real(ctx, type, impl);
}

using tessera::backup::ContentHash;
using tessera::backup::ContentHashError;

TEST_CASE("the upload hash is SHA-256 in lower-case hex, fed in pieces or whole") {
  auto whole = ContentHash::Start();
  REQUIRE(whole);
  whole->Update("abc", 3);
  CHECK(whole->FinalHex() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  auto pieces = ContentHash::Start();
  REQUIRE(pieces);
  pieces->Update("a", 1);
  pieces->Update("", 0);
  pieces->Update("bc", 2);
  CHECK(pieces->FinalHex() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  auto empty = ContentHash::Start();
  REQUIRE(empty);
  CHECK(empty->FinalHex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("a hash OpenSSL cannot set up is an error value, and its context is freed") {
  g_fail_init = true;
  g_last_new = nullptr;
  g_last_free = nullptr;
  auto refused = ContentHash::Start();
  g_fail_init = false;
  REQUIRE_FALSE(refused);
  CHECK(refused.error() == ContentHashError::kUnavailable);
  REQUIRE(g_last_new.load() != nullptr);
  CHECK(g_last_free.load() == g_last_new.load());
  // The next one works.
  auto next = ContentHash::Start();
  REQUIRE(next);
  next->Update("abc", 3);
  CHECK(next->FinalHex() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
