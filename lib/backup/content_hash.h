// Incremental SHA-256 of uploaded objects (restic names every object by the SHA-256 of its
// content). This one hash uses OpenSSL's libcrypto rather than libsodium: on this hardware
// OpenSSL uses the CPU's SHA extensions (measured 1750 MB/s against libsodium's portable 307
// MB/s), and hashing is the largest cost of an upload. Everything secret stays on libsodium.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

namespace tessera::backup {

class ContentHash {
 public:
  ContentHash();
  ~ContentHash();
  ContentHash(const ContentHash&) = delete;
  ContentHash& operator=(const ContentHash&) = delete;

  void Update(const char* data, std::size_t size);
  // Lower-case hex digest; the object cannot be updated afterwards.
  std::string FinalHex();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace tessera::backup
