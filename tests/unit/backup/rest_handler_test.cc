#include "backup/rest_handler.h"

#include <catch2/catch.hpp>

#include "crypto/keyring.h"

using namespace tessera;

namespace {
// Storage that only counts: the test is about what never reaches it.
class CountingStorage final : public backup::Storage {
 public:
  int calls = 0;
  std::expected<void, backup::StorageError> CreateRepo(std::string_view, std::string_view) override {
    ++calls;
    return {};
  }
  bool RepoExists(std::string_view, std::string_view) override { return ++calls, true; }
  std::expected<std::unique_ptr<backup::ObjectReader>, backup::StorageError> Open(
      std::string_view, std::string_view, std::string_view, std::string_view) override {
    ++calls;
    return std::unexpected(backup::StorageError::kNotFound);
  }
  std::expected<std::unique_ptr<backup::ObjectWriter>, backup::StorageError> BeginWrite(
      std::string_view, std::string_view, std::string_view, std::string_view) override {
    ++calls;
    return std::unexpected(backup::StorageError::kIo);
  }
  std::expected<std::vector<backup::ObjectInfo>, backup::StorageError> List(
      std::string_view, std::string_view, std::string_view) override {
    ++calls;
    return std::vector<backup::ObjectInfo>{};
  }
  std::expected<void, backup::StorageError> Remove(std::string_view, std::string_view, std::string_view,
                                                   std::string_view) override {
    ++calls;
    return {};
  }
};

http::Response Get(const backup::RestHandler& h, const std::string& token) {
  http::Request r;
  r.method = http::Method::kGet;
  r.headers.emplace_back("authorization", "Bearer " + token);
  return h.Handle(r, "laptop/keys/");
}
}  // namespace

TEST_CASE("a token whose subject is not a userid never reaches storage") {
  clock::FixedClock clock(1800000000);
  auto ring = std::make_shared<crypto::Keyring>(crypto::SecretKey::Generate());
  auth::TokenFactory tokens("srv", ring, clock);
  auth::SessionCache cache(std::chrono::milliseconds(60000));
  // Even if the account and grant tables held such a name (their SQL CHECK forbids it).
  cache.Load({{"alice@pbs", {true, std::nullopt, 0}}, {"../bob@pbs", {true, std::nullopt, 0}}}, {},
             {{"g1", {"alice@pbs", false, 1900000000}}, {"g2", {"../bob@pbs", false, 1900000000}}});
  CountingStorage storage;
  backup::RestHandler handler(storage, tokens, cache, clock, 1 << 20);

  auto good = tokens.Create({"alice@pbs", {true, false, false}, std::nullopt, std::chrono::hours(1), "g1"});
  CHECK(Get(handler, *good).status == 200);
  CHECK(storage.calls == 1);

  auto bad = tokens.Create({"../bob@pbs", {true, false, false}, std::nullopt, std::chrono::hours(1), "g2"});
  CHECK(Get(handler, *bad).status == 401);
  CHECK(storage.calls == 1);
}
