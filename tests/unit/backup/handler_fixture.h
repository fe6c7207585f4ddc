// What the tests of the restic handler over a real storage directory share: SHA-256 names, a
// request body from a string, a cache source with no database behind it, and grants.
#pragma once

#include <sodium.h>

#include <algorithm>
#include <cstddef>
#include <string>

#include "http/request.h"
#include "store/database.h"

namespace tessera::testing {

inline std::string Sha256Hex(const std::string& data) {
  unsigned char d[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(d, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  char hex[sizeof d * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, d, sizeof d);
  return hex;
}

// A body from a string that counts the bytes read from it and can end after `cut` bytes (a
// client that went away).
class StringBody final : public http::BodyReader {
 public:
  explicit StringBody(std::string data, std::size_t cut = std::string::npos)
      : data_(std::move(data)), end_(std::min(cut, data_.size())) {}
  std::ptrdiff_t Read(char* buffer, std::size_t size) override {
    std::size_t n = std::min(size, end_ - read);
    std::copy_n(data_.data() + read, n, buffer);
    read += n;
    return static_cast<std::ptrdiff_t>(n);
  }
  std::size_t read = 0;

 private:
  std::string data_;
  std::size_t end_;
};

// No database: every grant a test uses is in the cache.
class NoStore final : public store::CacheSource {
 public:
  std::expected<std::optional<store::AccountState>, store::StoreError> FindAccountState(
      std::string_view) override {
    return std::optional<store::AccountState>{};
  }
  std::expected<std::optional<store::GrantRecord>, store::StoreError> FindGrant(
      std::string_view) override {
    return std::optional<store::GrantRecord>{};
  }
};

// A grant of `userid` (account `account_id`) until 1900000000.
inline store::GrantRecord Grant(std::string userid, std::int64_t account_id, bool read, bool write,
                                bool del) {
  store::GrantRecord g;
  g.userid = std::move(userid);
  g.account_id = account_id;
  g.read = read;
  g.write = write;
  g.del = del;
  g.expires_at = 1900000000;
  return g;
}

}  // namespace tessera::testing
