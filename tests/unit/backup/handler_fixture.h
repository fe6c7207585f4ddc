// What the tests of the restic handler over a real storage directory share: SHA-256 names, a
// request body from a string, a cache source with no database behind it, grants, and the handler
// itself with everything it stands on (HandlerStack).
#pragma once

#include <sodium.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "auth/authenticator.h"
#include "auth/session_cache.h"
#include "auth/token_factory.h"
#include "backup/repo_book.h"
#include "backup/rest_handler.h"
#include "backup/usage_ledger.h"
#include "clock/clock.h"
#include "crypto/keyring.h"
#include "fake_repo_store.h"
#include "fake_usage_store.h"
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

// The restic handler over a storage directory of its own (removed at the end), with a token door
// over a cache the test loads, fake usage and repository books and a fixed clock. Restart()
// builds the storage, the ledger and the handler anew, as a worker restart would.
struct HandlerStack {
  // `name` goes into the storage directory's name; `repo_cap` is the default repository cap.
  explicit HandlerStack(const std::string& name, std::uint64_t repo_cap = backup::kDefaultRepoCap)
      : repos{repo_db, repo_cap} {
    std::string templ =
        (std::filesystem::temp_directory_path() / ("tessera-" + name + "-XXXXXX")).string();
    if (mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    root = templ;
    Restart();
  }
  ~HandlerStack() {
    handler.reset();
    usage.reset();
    storage.reset();
    std::error_code ec;
    std::filesystem::remove_all(root, ec);
  }
  HandlerStack(const HandlerStack&) = delete;
  HandlerStack& operator=(const HandlerStack&) = delete;

  void Restart() {
    handler.reset();
    usage.reset();
    storage = backup::MakeFilesystemStorage(root);
    usage = std::make_unique<backup::UsageLedger>(usage_db, *storage, clock, "test");
    handler =
        std::make_unique<backup::RestHandler>(*storage, authenticator, *usage, repos, 1 << 20);
  }

  // `path` (below /backup/) as a token of grant `jti` of `userid` that claims every right (the
  // grant row decides). A POST carries `body`, cut after `cut` bytes when given; last_read says
  // how much of it the handler read.
  http::Response Send(const std::string& userid, const std::string& jti, http::Method m,
                      const std::string& path, std::string body = "", std::string query = "",
                      std::optional<std::size_t> cut = std::nullopt) {
    auto token =
        tokens.Create({userid, {true, true, true}, std::nullopt, std::chrono::hours(1), jti});
    http::Request r;
    r.method = m;
    r.query = std::move(query);
    r.headers.emplace_back("authorization", "Bearer " + *token);
    StringBody reader(body, cut.value_or(std::string::npos));
    if (m == http::Method::kPost) {
      r.content_length = body.size();
      r.body = &reader;
    }
    auto answer = handler->Handle(r, path);
    last_read = reader.read;
    return answer;
  }

  std::string root;
  clock::FixedClock clock{1800000000};
  std::shared_ptr<crypto::Keyring> ring =
      std::make_shared<crypto::Keyring>(crypto::SecretKey::Generate());
  auth::TokenFactory tokens{"srv", ring, clock};
  NoStore db;
  auth::SessionCache cache{db, std::chrono::milliseconds(60000), 1024};
  auth::Authenticator authenticator{tokens, cache, clock};
  FakeUsageStore usage_db;
  FakeRepoStore repo_db;
  backup::RepoBook repos;
  std::unique_ptr<backup::Storage> storage;
  std::unique_ptr<backup::UsageLedger> usage;
  std::unique_ptr<backup::RestHandler> handler;
  std::size_t last_read = 0;  // body bytes the last request's handler read
};

}  // namespace tessera::testing
