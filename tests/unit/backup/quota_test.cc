// Quotas at the restic handler (backup/usage_ledger.h) over a real storage directory and an
// in-memory usage store: an upload that would pass the quota is refused before its body is
// read and stores nothing; every failed upload gives its reservation back; removals lower the
// usage once, also when two requests remove one object; locks and index files have their grace;
// a database that does not answer refuses uploads with 503 and still lets a client delete.
#include <sodium.h>
#include <stdlib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "backup/rest_handler.h"
#include "crypto/keyring.h"
#include "fake_repo_store.h"
#include "fake_usage_store.h"
#include "handler_fixture.h"
#include "store/database.h"

using namespace tessera;
using testing::NoStore;
using testing::Sha256Hex;
using testing::StringBody;
namespace fs = std::filesystem;

namespace {

constexpr std::int64_t kAccount = 5;

store::GrantRecord Grant(bool read, bool write, bool del) {
  return testing::Grant("carol@pbs", kAccount, read, write, del);
}

struct Fixture : testing::HandlerStack {
  Fixture() : HandlerStack("quota") {
    cache.Load({{"carol@pbs", {true, std::nullopt, 0}}}, {},
               {{"admin", Grant(true, true, true)}, {"reader", Grant(true, false, false)}});
    REQUIRE(Call(http::Method::kPost, "laptop/", "", "create=true").status == 200);
  }
  http::Response Call(http::Method m, const std::string& path, std::string body = "",
                      std::string query = "", const char* jti = "admin",
                      std::optional<std::size_t> cut = std::nullopt) {
    return Send("carol@pbs", jti, m, path, std::move(body), std::move(query), cut);
  }
  // Uploads `content` as an object of `type` named after its hash; returns status and name.
  std::pair<int, std::string> Put(const std::string& type, const std::string& content,
                                  const char* jti = "admin") {
    std::string name = Sha256Hex(content);
    return {Call(http::Method::kPost, "laptop/" + type + "/" + name, content, "", jti).status,
            name};
  }
  bool Stored(const std::string& type, const std::string& name) const {
    std::string dir = root + "/" + std::to_string(kAccount) + "/laptop/" + type + "/";
    if (type == "data") dir += name.substr(0, 2) + "/";
    return fs::exists(dir + name);
  }
  std::uint64_t Used() { return usage_db.used[kAccount]; }
  std::pair<std::uint64_t, std::uint64_t> Repo() { return usage_db.repos[{kAccount, "laptop"}]; }
};

}  // namespace

TEST_CASE("an upload is counted once stored, and one past the quota is refused unread") {
  Fixture f;
  f.usage_db.quota[kAccount] = 1000;
  std::string first(600, 'a');
  auto [ok, name] = f.Put("data", first);
  CHECK(ok == 200);
  CHECK(f.Used() == 600);
  CHECK(f.Repo() == std::pair<std::uint64_t, std::uint64_t>{600, 1});

  std::string second(401, 'b');
  auto [refused, over] = f.Put("data", second);
  CHECK(refused == 507);
  CHECK(f.last_read == 0);  // refused before the body
  CHECK_FALSE(f.Stored("data", over));
  CHECK(f.Used() == 600);

  std::string exact(400, 'c');  // exactly to the quota
  CHECK(f.Put("snapshots", exact).first == 200);
  CHECK(f.Used() == 1000);
  CHECK(f.Repo() == std::pair<std::uint64_t, std::uint64_t>{1000, 2});
}

TEST_CASE("a failed upload gives its reservation back") {
  Fixture f;
  f.usage_db.quota[kAccount] = 1000;
  std::string content(700, 'x');
  std::string wrong_name = Sha256Hex("something else");
  CHECK(f.Call(http::Method::kPost, "laptop/data/" + wrong_name, content).status == 400);
  CHECK(f.Used() == 0);
  CHECK(f.Call(http::Method::kPost, "laptop/data/" + Sha256Hex(content), content, "", "admin", 300)
            .status == 400);  // the client went away mid-body
  CHECK(f.Used() == 0);
  CHECK(f.Repo().second == 0);
  // The room is there again: the same upload, whole, fits.
  CHECK(f.Put("data", content).first == 200);
  CHECK(f.Used() == 700);
}

TEST_CASE("removing an object lowers the usage once; prune makes room on a full account") {
  Fixture f;
  f.usage_db.quota[kAccount] = 1000;
  auto [ok, name] = f.Put("data", std::string(1000, 'p'));
  REQUIRE(ok == 200);
  CHECK(f.Put("data", "one byte more").first == 507);
  CHECK(f.Call(http::Method::kDelete, "laptop/data/" + name).status == 200);
  CHECK(f.Used() == 0);
  CHECK(f.Repo() == std::pair<std::uint64_t, std::uint64_t>{0, 0});
  CHECK(f.Call(http::Method::kDelete, "laptop/data/" + name).status == 200);  // a retry
  CHECK(f.Used() == 0);
  CHECK(f.Put("data", "one byte more").first == 200);
}

TEST_CASE("locks and index files fit on a full account within the grace, and count") {
  Fixture f;
  f.usage_db.quota[kAccount] = 100;
  REQUIRE(f.Put("data", std::string(100, 'f')).first == 200);
  std::string lock_content = "the lock of a prune on a full account";
  auto [locked, lock] = f.Put("locks", lock_content);
  CHECK(locked == 200);
  CHECK(f.Used() == 100 + lock_content.size());
  CHECK(f.Call(http::Method::kDelete, "laptop/locks/" + lock).status == 200);
  CHECK(f.Used() == 100);

  CHECK(f.Put("snapshots", "a snapshot past the quota").first == 507);
  std::string index(5000, 'i');
  CHECK(f.Put("index", index).first == 200);  // prune's new index, before it deletes packs
  CHECK(f.Used() == 5100);
  // The grace is a bound, not a hole: for locks as for index files.
  f.usage_db.used[kAccount] = 100 + backup::kShrinkGraceBytes;
  CHECK(f.Put("index", "one index too many").first == 507);
  CHECK(f.Put("locks", "one lock too many").first == 507);
}

TEST_CASE("only the request holding a removal's claim removes the object and counts it") {
  Fixture f;
  f.usage_db.quota[kAccount] = 1000;
  auto [ok, name] = f.Put("data", std::string(600, 'd'));
  REQUIRE(ok == 200);
  // A parallel DELETE of the same object holds the claim: this one removes nothing and is told
  // to try again (restic retries a 503), so the usage still equals the storage.
  std::pair<std::int64_t, std::string> key{kAccount, "laptop/data/" + name};
  f.usage_db.claims[key] = {"the other request", f.clock.Now() + backup::kLeaseSeconds};
  auto refused = f.Call(http::Method::kDelete, "laptop/data/" + name);
  CHECK(refused.status == 503);
  CHECK(f.Stored("data", name));
  CHECK(f.Used() == 600);
  CHECK(f.Repo() == std::pair<std::uint64_t, std::uint64_t>{600, 1});
  // The other request ended without removing it (it failed): the retry removes and counts.
  f.usage_db.claims.clear();
  CHECK(f.Call(http::Method::kDelete, "laptop/data/" + name).status == 200);
  CHECK_FALSE(f.Stored("data", name));
  CHECK(f.Used() == 0);
  CHECK(f.Repo() == std::pair<std::uint64_t, std::uint64_t>{0, 0});
  CHECK(f.usage_db.claims.empty());
}

TEST_CASE("a claim whose request died is taken over once its lease has run out") {
  Fixture f;
  auto [ok, name] = f.Put("data", std::string(600, 'd'));
  REQUIRE(ok == 200);
  std::pair<std::int64_t, std::string> key{kAccount, "laptop/data/" + name};
  f.usage_db.claims[key] = {"a dead worker's request", f.clock.Now() + backup::kLeaseSeconds};
  CHECK(f.Call(http::Method::kDelete, "laptop/data/" + name).status == 503);
  f.clock.Set(f.clock.Now() + backup::kLeaseSeconds + 1);
  CHECK(f.Call(http::Method::kDelete, "laptop/data/" + name).status == 200);
  CHECK_FALSE(f.Stored("data", name));
  CHECK(f.Used() == 0);
}

TEST_CASE("without the usage database uploads (locks too) and deletes get 503") {
  Fixture f;
  auto [ok, name] = f.Put("data", "stored while the database answered");
  REQUIRE(ok == 200);
  std::uint64_t used = f.Used();
  f.usage_db.down = true;
  auto [refused, other] = f.Put("data", "sent while it does not");
  CHECK(refused == 503);
  CHECK(f.last_read == 0);
  CHECK_FALSE(f.Stored("data", other));
  // Nothing is removed unaccounted either.
  CHECK(f.Call(http::Method::kDelete, "laptop/data/" + name).status == 503);
  CHECK(f.Stored("data", name));
  // Locks count too: nothing is stored unaccounted.
  auto [lock_refused, lock] = f.Put("locks", "a lock while the database does not answer");
  CHECK(lock_refused == 503);
  CHECK_FALSE(f.Stored("locks", lock));
  f.usage_db.down = false;
  CHECK(f.Used() == used);
  CHECK(f.Call(http::Method::kDelete, "laptop/data/" + name).status == 200);
  CHECK(f.Used() == 0);
}

TEST_CASE("a retried upload of an object that is stored converges to 200, counted once") {
  Fixture f;
  std::string content(500, 'r');
  auto [ok, name] = f.Put("data", content);
  REQUIRE(ok == 200);
  // The answer was lost; restic sends it again (with a read-write or an append-only token).
  CHECK(f.Put("data", content).first == 200);
  CHECK(f.last_read == content.size());  // read and hashed
  CHECK(f.Used() == 500);
  CHECK(f.Repo() == std::pair<std::uint64_t, std::uint64_t>{500, 1});
  CHECK(f.usage_db.reservations.empty());
  // Other bytes under that name are never written over it.
  CHECK(f.Call(http::Method::kPost, "laptop/data/" + name, std::string(500, 'X')).status == 403);
  CHECK(f.Used() == 500);
  // A lock too (restic's lock names are content hashes as well).
  auto [locked, lock] = f.Put("locks", "a lock whose answer was lost");
  REQUIRE(locked == 200);
  CHECK(f.Put("locks", "a lock whose answer was lost").first == 200);
  CHECK(f.Repo().second == 2);
  // config is not content-addressed: never overwritten, even with the same bytes.
  REQUIRE(f.Call(http::Method::kPost, "laptop/config", "the config").status == 200);
  CHECK(f.Call(http::Method::kPost, "laptop/config", "the config").status == 403);
  CHECK(f.Repo().second == 3);
}

TEST_CASE("a dead worker's reservations come back when their lease runs out") {
  Fixture f;
  f.usage_db.quota[kAccount] = 1000;
  std::int64_t now = f.clock.Now();
  // A worker died mid-body (never marked) and one died after marking, before storing.
  store::ReservationRow unmarked{"r1",
                                 kAccount,
                                 "laptop",
                                 "data/" + std::string(64, 'a'),
                                 400,
                                 "dead:1",
                                 now + backup::kLeaseSeconds};
  store::ReservationRow marked{"r2",
                               kAccount,
                               "laptop",
                               "data/" + std::string(64, 'b'),
                               300,
                               "dead:1",
                               now + backup::kLeaseSeconds};
  REQUIRE(*f.usage_db.ReserveUsage(unmarked, 0));
  REQUIRE(*f.usage_db.ReserveUsage(marked, 0));
  REQUIRE(*f.usage_db.RenewUsage("r2", now + backup::kLeaseSeconds, true));
  // And one died after the store committed its object, before counting it.
  std::string content(200, 's');
  std::string stored_name = Sha256Hex(content);
  store::ReservationRow counted{"r3",
                                kAccount,
                                "laptop",
                                "snapshots/" + stored_name,
                                200,
                                "dead:1",
                                now + backup::kLeaseSeconds};
  REQUIRE(*f.usage_db.ReserveUsage(counted, 0));
  REQUIRE(*f.usage_db.RenewUsage("r3", now + backup::kLeaseSeconds, true));
  {
    auto w = f.storage->BeginWrite(backup::AccountId{kAccount}, "laptop", "snapshots", stored_name,
                                   content.size());
    REQUIRE(w);
    REQUIRE((*w)->Write(content.data(), content.size()));
    REQUIRE((*w)->Commit(stored_name));
  }
  CHECK(f.Used() == 900);
  CHECK(f.Put("data", std::string(101, 'n')).first == 507);
  // Within the lease nothing is settled.
  f.clock.Set(now + backup::kLeaseSeconds);
  CHECK(f.usage->SettleExpired() == 0);
  CHECK(f.Used() == 900);
  // Past it, another worker's next upload settles them: 400 and 300 back, 200 counted.
  f.clock.Set(now + backup::kLeaseSeconds + 1);
  CHECK(f.Put("data", std::string(101, 'n')).first == 200);
  CHECK(f.Used() == 301);
  CHECK(f.Repo() == std::pair<std::uint64_t, std::uint64_t>{301, 2});
  CHECK(f.usage_db.reservations.empty());
}

namespace {

// A body that arrives slowly: before each of its 256 KiB pieces the clock moves `step` seconds
// and another worker settles the reservations whose lease has run out.
class SlowBody final : public http::BodyReader {
 public:
  SlowBody(std::string data, clock::FixedClock& clock, std::int64_t step,
           backup::UsageLedger& other)
      : data_(std::move(data)), clock_(clock), step_(step), other_(other) {}
  std::ptrdiff_t Read(char* buffer, std::size_t size) override {
    std::size_t n = std::min({size, data_.size() - read_, std::size_t{256 * 1024}});
    if (n == 0) return 0;
    clock_.Set(clock_.Now() + step_);
    (void)other_.SettleExpired();
    std::copy_n(data_.data() + read_, n, buffer);
    read_ += n;
    return static_cast<std::ptrdiff_t>(n);
  }

 private:
  std::string data_;
  std::size_t read_ = 0;
  clock::FixedClock& clock_;
  std::int64_t step_;
  backup::UsageLedger& other_;
};

}  // namespace

TEST_CASE("a long upload keeps its reservation alive past the lease") {
  Fixture f;
  std::string content(1 << 20, 'l');  // four pieces, a minute apart: past one lease
  backup::UsageLedger other(f.usage_db, *f.storage, f.clock, "another worker");
  auto token = f.tokens.Create(
      {"carol@pbs", {true, true, true}, std::nullopt, std::chrono::hours(1), "admin"});
  http::Request r;
  r.method = http::Method::kPost;
  r.headers.emplace_back("authorization", "Bearer " + *token);
  SlowBody body(content, f.clock, 60, other);
  r.content_length = content.size();
  r.body = &body;
  auto answer = f.handler->Handle(r, "laptop/data/" + Sha256Hex(content));
  CHECK(answer.status == 200);
  CHECK(f.Used() == content.size());
  CHECK(f.Repo() == std::pair<std::uint64_t, std::uint64_t>{content.size(), 1});
}

TEST_CASE("removing an object its dead worker stored but never counted keeps the books exact") {
  Fixture f;
  std::int64_t now = f.clock.Now();
  std::string content(700, 'u');
  std::string name = Sha256Hex(content);
  store::ReservationRow r{
      "r1", kAccount, "laptop", "data/" + name, 700, "dead:1", now + backup::kLeaseSeconds};
  REQUIRE(*f.usage_db.ReserveUsage(r, 0));
  REQUIRE(*f.usage_db.RenewUsage("r1", now + backup::kLeaseSeconds, true));
  {
    auto w = f.storage->BeginWrite(backup::AccountId{kAccount}, "laptop", "data", name, 700);
    REQUIRE(w);
    REQUIRE((*w)->Write(content.data(), content.size()));
    REQUIRE((*w)->Commit(name));
  }
  // The client's retry converged (200, nothing reserved); then prune removes the object before
  // the dead worker's lease runs out.
  CHECK(f.Put("data", content).first == 200);
  CHECK(f.Call(http::Method::kDelete, "laptop/data/" + name).status == 200);
  CHECK(f.Used() == 0);
  CHECK(f.Repo() == std::pair<std::uint64_t, std::uint64_t>{0, 0});
  f.clock.Set(now + backup::kLeaseSeconds + 1);
  CHECK(f.usage->SettleExpired() == 0);
  CHECK(f.Used() == 0);
}

TEST_CASE("a dead worker's marked reservation is given back once a retry stored its object") {
  // The worker died between marking the reservation and the store's commit; restic's retry
  // then stored the object and counted it. Settling the dead one finds the object stored, but
  // it was not its own: counting it again would put the usage one object above the storage.
  Fixture f;
  std::int64_t now = f.clock.Now();
  std::string content(700, 'm');
  std::string name = Sha256Hex(content);
  store::ReservationRow r{
      "r1", kAccount, "laptop", "data/" + name, 700, "dead:1", now + backup::kLeaseSeconds};
  REQUIRE(*f.usage_db.ReserveUsage(r, 0));
  REQUIRE(*f.usage_db.RenewUsage("r1", now + backup::kLeaseSeconds, true));
  CHECK(f.Put("data", content).first == 200);
  CHECK(f.Used() == 1400);  // the dead reservation's room until its lease runs out
  f.clock.Set(now + backup::kLeaseSeconds + 1);
  (void)f.usage->SettleExpired();
  CHECK(f.Used() == 700);
  CHECK(f.Repo() == std::pair<std::uint64_t, std::uint64_t>{700, 1});
  CHECK(f.usage_db.reservations.empty());
}

TEST_CASE("two dead workers' marked reservations of one stored object count it once") {
  Fixture f;
  std::int64_t now = f.clock.Now();
  std::string content(500, 'w');
  std::string name = Sha256Hex(content);
  for (const char* id : {"r1", "r2"}) {
    store::ReservationRow r{
        id, kAccount, "laptop", "data/" + name, 500, "dead:1", now + backup::kLeaseSeconds};
    REQUIRE(*f.usage_db.ReserveUsage(r, 0));
    REQUIRE(*f.usage_db.RenewUsage(id, now + backup::kLeaseSeconds, true));
  }
  {
    auto w = f.storage->BeginWrite(backup::AccountId{kAccount}, "laptop", "data", name, 500);
    REQUIRE(w);
    REQUIRE((*w)->Write(content.data(), content.size()));
    REQUIRE((*w)->Commit(name));
  }
  f.clock.Set(now + backup::kLeaseSeconds + 1);
  CHECK(f.usage->SettleExpired() == 1);  // one counted; the other, unmarked, ...
  CHECK(f.Repo() == std::pair<std::uint64_t, std::uint64_t>{500, 1});
  (void)f.usage->SettleExpired();  // ... given back with the unmarked ones
  CHECK(f.Used() == 500);
  CHECK(f.usage_db.reservations.empty());
}
