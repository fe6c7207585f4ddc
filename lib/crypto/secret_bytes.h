// SecretBytes: key material and other secrets in a move-only buffer that is wiped with
// sodium_memzero when it goes, and compared only in constant time.
#pragma once

#include <sodium.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace tessera::crypto {

class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(std::size_t size) : bytes_(size) {}
  SecretBytes(std::span<const std::uint8_t> data) : bytes_(data.begin(), data.end()) {}
  ~SecretBytes() { Wipe(); }
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  SecretBytes(SecretBytes&& other) noexcept : bytes_(std::move(other.bytes_)) {
    other.bytes_.clear();
  }
  SecretBytes& operator=(SecretBytes&& other) noexcept {
    if (this != &other) {
      Wipe();
      bytes_ = std::move(other.bytes_);
      other.bytes_.clear();
    }
    return *this;
  }

  std::uint8_t* data() { return bytes_.data(); }
  const std::uint8_t* data() const { return bytes_.data(); }
  std::size_t size() const { return bytes_.size(); }
  std::span<const std::uint8_t> span() const { return bytes_; }

  // Constant-time equality: lengths first (not secret), then sodium_memcmp.
  bool Equals(std::span<const std::uint8_t> other) const {
    return other.size() == bytes_.size() &&
           (bytes_.empty() || sodium_memcmp(bytes_.data(), other.data(), bytes_.size()) == 0);
  }

 private:
  void Wipe() {
    if (!bytes_.empty()) sodium_memzero(bytes_.data(), bytes_.size());
  }
  std::vector<std::uint8_t> bytes_;
};

// Wipes a string that held a secret: its whole buffer, not just its current size, so the short
// string's inline bytes of a moved-from or shortened string are cleared too. Leaves it empty.
inline void WipeString(std::string& text) {
  sodium_memzero(text.data(), text.capacity());
  text.clear();
}

}  // namespace tessera::crypto
