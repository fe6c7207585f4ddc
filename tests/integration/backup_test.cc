// The backup endpoints: the restic REST protocol through real nginx and the worker, with bearer
// tokens, exercised by cpp-httplib for every route and edge case and by the real restic client.
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sodium.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "fcgi_client.h"
#include "harness.h"
#include "http_client.h"

using namespace tessera::testing;
using namespace std::chrono_literals;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// Where `user`'s repositories live: <storage_dir>/<accounts.id>.
std::string AccountDir(BackupStack& b, const std::string& user) {
  std::string id = b.stack->pg().Sql("SELECT id FROM accounts WHERE userid = '" + user + "'");
  if (id.empty()) throw std::runtime_error("no account " + user);
  return b.keys + "/repos/" + id;
}

// A client of `b`'s nginx sending `token` as a bearer token.
CheckedClient TokenClient(BackupStack& b, const std::string& token) { return b.Client(token); }

// How many temporary files (.tmp-*) `dir` holds; none while it does not exist (data/xx/ is made
// by the first write into it).
std::size_t Temps(const std::string& dir) {
  std::error_code missing;
  std::size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir, missing))
    if (e.path().filename().string().starts_with(".tmp-")) ++n;
  return n;
}

// Repeats `request` while it answers 401 (a worker learns of an account or grant change through
// NOTIFY, within a second), then returns its answer.
template <typename F>
auto AfterNotify(F request) {
  auto r = request();
  for (int i = 0; i < 100 && r && r->status == 401; ++i) {
    std::this_thread::sleep_for(20ms);
    r = request();
  }
  return r;
}

}  // namespace

TEST_CASE("restic REST routes, list versions, ranges and errors", "[backup]") {
  BackupStack b;
  std::string all = b.Mint("alice@pbs", {"--read", "--write", "--delete"});
  CheckedClient c = TokenClient(b, all);
  const std::string repo = "/backup/laptop";

  CHECK(c.Get(repo + "/config")->status == 404);  // no repository yet
  CHECK(c.Get(repo + "/keys/")->status == 404);
  CHECK(c.Post(repo + "/", "", "application/octet-stream")->status == 400);  // no ?create=true
  REQUIRE(c.Post(repo + "/?create=true", "", "application/octet-stream")->status == 200);
  CHECK(c.Post(repo + "/?create=true", "", "application/octet-stream")->status ==
        200);  // again: fine
  CHECK(fs::is_directory(AccountDir(b, "alice@pbs") + "/laptop/data"));
  // A data/xx subfolder is made by the first object written into it, not up front.
  CHECK_FALSE(fs::exists(AccountDir(b, "alice@pbs") + "/laptop/data/ff"));

  CHECK(c.Head(repo + "/config")->status == 404);
  REQUIRE(c.Post(repo + "/config", "config-bytes", "application/octet-stream")->status == 200);
  CHECK(c.Post(repo + "/config", "other", "application/octet-stream")->status ==
        403);  // never overwritten
  auto head = c.Head(repo + "/config");
  CHECK(head->status == 200);
  CHECK(head->get_header_value("Content-Length") == "12");
  CHECK(c.Get(repo + "/config")->body == "config-bytes");

  std::string blob = RandomBytes(100000);
  std::string name = Sha256Hex(blob);
  std::string path = repo + "/data/" + name;
  CHECK(c.Head(path)->status == 404);
  REQUIRE(c.Post(path, blob, "application/octet-stream")->status == 200);
  CHECK(fs::exists(AccountDir(b, "alice@pbs") + "/laptop/data/" + name.substr(0, 2) + "/" + name));
  // Sent again (a retry after a lost answer): the same bytes converge, other bytes never
  // overwrite it.
  CHECK(c.Post(path, blob, "application/octet-stream")->status == 200);
  CHECK(c.Post(path, RandomBytes(100000), "application/octet-stream")->status == 403);
  CHECK(c.Head(path)->get_header_value("Content-Length") == "100000");
  CHECK(c.Get(path)->body == blob);

  SECTION("hash mismatch and short bodies leave nothing") {
    std::string other = RandomBytes(5000);
    std::string wrong = repo + "/index/" + Sha256Hex("something else");
    CHECK(c.Post(wrong, other, "application/octet-stream")->status == 400);
    CHECK(c.Head(wrong)->status == 404);
    std::string lock = repo + "/locks/" + Sha256Hex("not this");
    CHECK(c.Post(lock, "lock body", "application/octet-stream")->status ==
          400);  // locks are hashed too
    CHECK(c.Get(repo + "/locks/")->body == "[]");
  }

  SECTION("lists: v1 names, v2 names and sizes, data flat across subfolders") {
    std::string small = "tiny", small_name = Sha256Hex(small);
    REQUIRE(c.Post(repo + "/data/" + small_name, small, "application/octet-stream")->status == 200);
    auto v1 = c.Get(repo + "/data/");
    CHECK(v1->get_header_value("Content-Type") == "application/vnd.x.restic.rest.v1");
    json names = json::parse(v1->body);
    CHECK(names.size() == 2);
    CHECK(std::find(names.begin(), names.end(), name) != names.end());
    for (const char* accept :
         {"application/vnd.x.restic.rest.v2", "application/vnd.x.restic.rest.v2+json"}) {
      auto v2 = c.Get(repo + "/data/", {{"Accept", accept}});
      CHECK(v2->get_header_value("Content-Type") == "application/vnd.x.restic.rest.v2");
      json entries = json::parse(v2->body);
      REQUIRE(entries.size() == 2);
      for (const auto& e : entries) CHECK(e["size"] == (e["name"] == name ? 100000 : 4));
    }
    CHECK(c.Get(repo + "/snapshots/")->body == "[]");
  }

  SECTION("ranges") {
    auto whole = c.Get(path, {{"Range", "bytes=0-"}});
    CHECK(whole->status == 206);
    CHECK(whole->body == blob);
    CHECK(whole->get_header_value("Content-Range") == "bytes 0-99999/100000");
    auto inner = c.Get(path, {{"Range", "bytes=10-19"}});
    CHECK(inner->status == 206);
    CHECK(inner->body == blob.substr(10, 10));
    auto suffix = c.Get(path, {{"Range", "bytes=-5"}});
    CHECK(suffix->body == blob.substr(99995));
    auto past_end = c.Get(path, {{"Range", "bytes=99990-200000"}});
    CHECK(past_end->body == blob.substr(99990));
    auto unsatisfiable = c.Get(path, {{"Range", "bytes=100000-"}});
    CHECK(unsatisfiable->status == 416);
    CHECK(unsatisfiable->get_header_value("Content-Range") == "bytes */100000");
    auto multi = c.Get(path, {{"Range", "bytes=0-1,5-6"}});
    CHECK(multi->status == 200);
    CHECK(multi->body.size() == 100000);
    CHECK(c.Get(path)->status == 200);
  }

  SECTION("delete, twice") {
    CHECK(c.Delete(path)->status == 200);
    CHECK(c.Head(path)->status == 404);
    CHECK(c.Delete(path)->status == 200);
  }

  SECTION("malformed paths never reach the filesystem") {
    // Each path has one answer through nginx and one from the worker itself (straight to its
    // FastCGI socket, as nginx would pass it): where nginx refuses first, the worker must too.
    // 404: the router matched /backup/, the handler found no repository object (after the token).
    // 400: the router refused the raw path itself (over 4096 bytes, an encoded '/' or NUL).
    // nginx: 414 for a request line over its buffers, 400 for an encoded NUL, and its own 404
    // when "/backup/.." resolves to a path outside /backup/.
    struct Case {
      std::string path;
      int via_nginx;
      int worker;
    };
    const Case cases[] = {
        {repo + "/data/" + name.substr(1), 404, 404},
        {repo + "/data/" + name + "0", 404, 404},
        {repo + "/data/" + std::string(64, 'G'), 404, 404},
        {repo + "/blobs/" + name, 404, 404},
        {"/backup/.hidden/config", 404, 404},
        {"/backup/a/b/c/d/e/config", 404, 404},
        {"/backup//etc/passwd", 404, 404},
        {repo + "/data/" + std::string(70000, 'a'), 414, 400},
        {"/backup/..%2Fbob@pbs/laptop/config", 404, 400},
        {"/backup/laptop%2F..%2F..%2Fbob@pbs/config", 404, 400},
        {"/backup/laptop/%00/config", 400, 400},
        {"/backup/%2Fetc/config", 400, 400},
    };
    for (const Case& t : cases) {
      INFO(t.path.substr(0, 120));
      auto r = c.Get(t.path);
      REQUIRE(r);
      CHECK(r->status == t.via_nginx);
      FcgiClient worker(b.stack->worker().socket());
      worker.SetReadTimeout(5000);
      CHECK(worker.Status({{"REQUEST_METHOD", "GET"},
                           {"REQUEST_URI", t.path},
                           {"HTTP_AUTHORIZATION", "Bearer " + all},
                           {"REMOTE_ADDR", "127.0.0.1"}}) == t.worker);
    }
    CHECK(c.Put(repo + "/config", "x", "application/octet-stream")->status == 405);
  }
}

TEST_CASE("tokens: missing, invalid, scoped, and each permission", "[backup]") {
  BackupStack b;
  std::string all = b.Mint("alice@pbs", {"--read", "--write", "--delete"});
  CheckedClient admin = TokenClient(b, all);
  REQUIRE(admin.Post("/backup/laptop/?create=true", "", "application/octet-stream")->status == 200);
  std::string blob = "object", name = Sha256Hex(blob);
  REQUIRE(admin.Post("/backup/laptop/keys/" + name, blob, "application/octet-stream")->status ==
          200);

  CheckedClient anonymous = b.stack->Client();
  auto none = anonymous.Get("/backup/laptop/keys/");
  CHECK(none->status == 401);
  CHECK(none->get_header_value("WWW-Authenticate") == "Basic realm=\"tessera\"");
  CHECK(TokenClient(b, all + "x").Get("/backup/laptop/keys/")->status == 401);

  // Basic auth with the token as password, as restic sends it.
  CheckedClient basic = b.stack->Client();
  basic.set_basic_auth("alice", all.c_str());
  CHECK(basic.Get("/backup/laptop/keys/")->status == 200);

  std::string read_only = b.Mint("alice@pbs", {"--read"});
  CheckedClient ro = TokenClient(b, read_only);
  CHECK(ro.Get("/backup/laptop/keys/" + name)->status == 200);
  CHECK(ro.Post("/backup/laptop/data/" + Sha256Hex("new"), "new", "application/octet-stream")
            ->status == 403);
  CHECK(ro.Delete("/backup/laptop/keys/" + name)->status == 403);
  std::string lock = "lock", lock_name = Sha256Hex(lock);
  CHECK(ro.Post("/backup/laptop/locks/" + lock_name, lock, "application/octet-stream")->status ==
        200);
  CHECK(ro.Delete("/backup/laptop/locks/" + lock_name)->status == 200);  // its own lock

  std::string append = b.Mint("alice@pbs", {"--read", "--write"});
  CheckedClient ao = TokenClient(b, append);
  CHECK(ao.Post("/backup/laptop/data/" + Sha256Hex("new"), "new", "application/octet-stream")
            ->status == 200);
  CHECK(ao.Delete("/backup/laptop/data/" + Sha256Hex("new"))->status == 403);
  CHECK(ao.Head("/backup/laptop/data/" + Sha256Hex("new"))->status == 200);

  std::string write_only = b.Mint("alice@pbs", {"--write"});
  CHECK(TokenClient(b, write_only).Get("/backup/laptop/keys/")->status == 403);

  std::string scoped = b.Mint("alice@pbs", {"--read", "--repo", "desktop"});
  CHECK(TokenClient(b, scoped).Get("/backup/laptop/keys/")->status == 403);

  // Bob's token names the same path but reaches only bob's namespace.
  std::string bob = b.Mint("bob@pbs", {"--read", "--write", "--delete"});
  CHECK(TokenClient(b, bob).Get("/backup/laptop/keys/" + name)->status == 404);
  CHECK(TokenClient(b, bob).Delete("/backup/laptop/keys/" + name)->status == 200);
  CHECK(admin.Head("/backup/laptop/keys/" + name)->status == 200);  // alice's object is untouched

  // A token whose grant is revoked stops working on every worker within a second; its grant can
  // be re-minted from the row only while it is live.
  std::string revocable = b.Mint("alice@pbs", {"--read"});
  std::string jti =
      b.stack->pg().Sql("SELECT jti FROM api_tokens ORDER BY created_at DESC, jti LIMIT 1");
  CheckedClient rc = TokenClient(b, revocable);
  REQUIRE(rc.Get("/backup/laptop/keys/")->status == 200);
  RunResult again =
      Run({TESSERA_ADMIN_BIN, "--config", b.admin_conf, "token", "mint", "--jti", jti});
  REQUIRE(again.status == 0);
  CHECK(TokenClient(b, again.output.substr(0, again.output.find('\n')))
            .Get("/backup/laptop/keys/")
            ->status == 200);
  REQUIRE(Run({TESSERA_ADMIN_BIN, "--config", b.admin_conf, "token", "revoke", jti}).status == 0);
  bool dead = false;
  for (int i = 0; i < 50 && !dead; ++i) {
    dead = rc.Get("/backup/laptop/keys/")->status == 401;
    if (!dead) std::this_thread::sleep_for(20ms);
  }
  CHECK(dead);
  CHECK(Run({TESSERA_ADMIN_BIN, "--config", b.admin_conf, "token", "mint", "--jti", jti}).status ==
        1);
  // A correctly signed token without a grant row is refused.
  std::string rowless = b.Mint("alice@pbs", {"--read"});
  b.stack->pg().Sql(
      "DELETE FROM api_tokens WHERE jti = (SELECT jti FROM api_tokens ORDER BY created_at DESC "
      "LIMIT 1)");
  bool gone = false;
  for (int i = 0; i < 50 && !gone; ++i) {
    gone = TokenClient(b, rowless).Get("/backup/laptop/keys/")->status == 401;
    if (!gone) std::this_thread::sleep_for(20ms);
  }
  CHECK(gone);

  // A disabled account.
  REQUIRE(Run({TESSERA_ADMIN_BIN, "--database", b.stack->pg().Conninfo(), "account", "disable",
               "alice@pbs"})
              .status == 0);
  bool refused = false;
  for (int i = 0; i < 50 && !refused; ++i) {
    refused = admin.Get("/backup/laptop/keys/")->status == 401;
    if (!refused) std::this_thread::sleep_for(20ms);
  }
  CHECK(refused);
}

TEST_CASE("an upload cut off mid-body, or a worker killed during one, leaves nothing visible",
          "[backup]") {
  BackupStack b;
  std::string all = b.Mint("alice@pbs", {"--read", "--write", "--delete"});
  CheckedClient c = TokenClient(b, all);
  REQUIRE(c.Post("/backup/laptop/?create=true", "", "application/octet-stream")->status == 200);
  std::string blob = RandomBytes(4 * 1024 * 1024);
  std::string name = Sha256Hex(blob);
  std::string path = "/backup/laptop/data/" + name;
  std::string dir = AccountDir(b, "alice@pbs") + "/laptop/data/" + name.substr(0, 2);

  auto send_half = [&](bool kill_worker) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(b.stack->port()));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    std::string head = "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                       all + "\r\nContent-Type: application/octet-stream\r\nContent-Length: " +
                       std::to_string(blob.size()) + "\r\n\r\n";
    REQUIRE(write(fd, head.data(), head.size()) == static_cast<ssize_t>(head.size()));
    REQUIRE(write(fd, blob.data(), blob.size() / 2) == static_cast<ssize_t>(blob.size() / 2));
    // The worker is writing the upload's temporary file.
    REQUIRE(Eventually([&] { return Temps(dir) == 1; }, 5s));
    if (kill_worker) b.stack->worker().process().Signal(SIGKILL);
    close(fd);
  };

  send_half(false);
  // The worker sees the client go and removes what it wrote.
  CHECK(Eventually([&] { return Temps(dir) == 0; }, 5s));
  CHECK(c.Head(path)->status == 404);
  std::size_t leftovers = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    (void)e;
    ++leftovers;
  }
  CHECK(leftovers == 0);  // the temporary file went with the request

  send_half(true);
  CHECK(b.stack->worker().process().Wait(5s).has_value());
  b.stack->worker().Start();
  CHECK(c.Head(path)->status == 404);
  CHECK(c.Get("/backup/laptop/data/")->body ==
        "[]");  // a temp file may remain, but is never listed
  REQUIRE(c.Post(path, blob, "application/octet-stream")->status == 200);
  CHECK(c.Get(path)->body == blob);
}

TEST_CASE("storage follows the account id: a rename keeps the data, a re-created name starts empty",
          "[backup]") {
  BackupStack b;
  std::string blob = "alice's key", name = Sha256Hex(blob);
  {
    CheckedClient alice = TokenClient(b, b.Mint("alice@pbs", {"--read", "--write"}));
    REQUIRE(alice.Post("/backup/laptop/?create=true", "", "application/octet-stream")->status ==
            200);
    REQUIRE(alice.Post("/backup/laptop/keys/" + name, blob, "application/octet-stream")->status ==
            200);
  }
  std::string alice_dir = AccountDir(b, "alice@pbs");

  // Renamed: a token of the new name reaches the same repository and its objects.
  b.stack->pg().Sql("UPDATE accounts SET userid = 'alice.renamed@pbs' WHERE userid = 'alice@pbs'");
  CheckedClient renamed = TokenClient(b, b.Mint("alice.renamed@pbs", {"--read", "--write"}));
  auto got = AfterNotify([&] { return renamed.Get("/backup/laptop/keys/" + name); });
  REQUIRE(got);
  CHECK(got->status == 200);
  CHECK(got->body == blob);
  CHECK(json::parse(renamed.Get("/backup/laptop/keys/")->body) == json::array({name}));
  CHECK(AccountDir(b, "alice.renamed@pbs") == alice_dir);

  // Deleted and re-created: the newcomer sees no repository of the old bob, and the old data
  // stays on disk under the old id, unreachable.
  std::string bob_blob = "old bob's key", bob_name = Sha256Hex(bob_blob);
  {
    CheckedClient old_bob = TokenClient(b, b.Mint("bob@pbs", {"--read", "--write", "--delete"}));
    REQUIRE(old_bob.Post("/backup/laptop/?create=true", "", "application/octet-stream")->status ==
            200);
    REQUIRE(old_bob.Post("/backup/laptop/keys/" + bob_name, bob_blob, "application/octet-stream")
                ->status == 200);
  }
  std::string old_bob_dir = AccountDir(b, "bob@pbs");
  b.stack->pg().Sql("DELETE FROM accounts WHERE userid = 'bob@pbs'");
  AddAccount(b.stack->pg().Conninfo(), "bob@pbs", "pw");
  CHECK(AccountDir(b, "bob@pbs") != old_bob_dir);
  CheckedClient new_bob = TokenClient(b, b.Mint("bob@pbs", {"--read", "--write", "--delete"}));
  auto config = AfterNotify([&] { return new_bob.Get("/backup/laptop/config"); });
  REQUIRE(config);
  CHECK(config->status == 404);
  CHECK(new_bob.Get("/backup/laptop/keys/")->status == 404);
  CHECK(new_bob.Get("/backup/laptop/keys/" + bob_name)->status == 404);
  REQUIRE(new_bob.Post("/backup/laptop/?create=true", "", "application/octet-stream")->status ==
          200);
  CHECK(new_bob.Get("/backup/laptop/keys/")->body == "[]");
  CHECK(new_bob.Get("/backup/laptop/keys/" + bob_name)->status == 404);
  CHECK(fs::exists(old_bob_dir + "/laptop/keys/" + bob_name));
}

TEST_CASE(
    "locks: any token removes its own, another's only with delete, within size and count caps",
    "[backup]") {
  BackupStack b;
  CheckedClient admin = TokenClient(b, b.Mint("alice@pbs", {"--read", "--write", "--delete"}));
  REQUIRE(admin.Post("/backup/laptop/?create=true", "", "application/octet-stream")->status == 200);
  CheckedClient ro1 = TokenClient(b, b.Mint("alice@pbs", {"--read"}));
  CheckedClient ro2 = TokenClient(b, b.Mint("alice@pbs", {"--read"}));
  CheckedClient append = TokenClient(b, b.Mint("alice@pbs", {"--read", "--write"}));
  const std::string locks = "/backup/laptop/locks/";

  // The exclusive lock of a running prune (made with the delete right) survives read-only and
  // append-only tokens.
  std::string prune = "{\"exclusive\":true,\"hostname\":\"admin\"}", prune_name = Sha256Hex(prune);
  REQUIRE(admin.Post(locks + prune_name, prune, "application/octet-stream")->status == 200);
  CHECK(ro1.Delete(locks + prune_name)->status == 403);
  CHECK(append.Delete(locks + prune_name)->status == 403);
  CHECK(admin.Head(locks + prune_name)->status == 200);

  // A read-only token's own lock: its creator is known to a restarted worker too.
  std::string mine = "{\"exclusive\":false,\"hostname\":\"ro1\"}", mine_name = Sha256Hex(mine);
  REQUIRE(ro1.Post(locks + mine_name, mine, "application/octet-stream")->status == 200);
  CHECK(ro2.Delete(locks + mine_name)->status == 403);
  b.stack->worker().process().Signal(SIGTERM);
  REQUIRE(b.stack->worker().process().Wait(10s).has_value());
  b.stack->worker().Start();
  CHECK(ro2.Delete(locks + mine_name)->status == 403);
  CHECK(ro1.Delete(locks + mine_name)->status == 200);
  CHECK(ro1.Head(locks + mine_name)->status == 404);

  // Size: 64 KiB at most.
  std::string big(64 * 1024 + 1, 'x');
  CHECK(ro1.Post(locks + Sha256Hex(big), big, "application/octet-stream")->status == 413);
  CHECK(ro1.Head(locks + Sha256Hex(big))->status == 404);

  // Count: a grant holds at most 8 locks of a repository, so one token (a read-only one too)
  // cannot take the capacity every other client needs. Beyond it: the repository cap's 429.
  for (int i = 1; i <= 8; ++i) {
    std::string lock = "lock " + std::to_string(i);
    REQUIRE(ro1.Post(locks + Sha256Hex(lock), lock, "application/octet-stream")->status == 200);
  }
  auto beyond = ro1.Post(locks + Sha256Hex("ro1 beyond"), "ro1 beyond", "application/octet-stream");
  CHECK(beyond->status == 429);
  CHECK(beyond->get_header_value("Retry-After") == "30");
  CHECK(ro1.Head(locks + Sha256Hex("ro1 beyond"))->status == 404);
  CHECK(ro2.Post(locks + Sha256Hex("ro2 lock"), "ro2 lock", "application/octet-stream")->status ==
        200);
  CHECK(append.Post(locks + Sha256Hex("backup lock"), "backup lock", "application/octet-stream")
            ->status == 200);

  // And 256 per repository (prune, ro1's 8, ro2's and append's are 11 of them), filled by many
  // grants; the listing shows exactly them.
  int held = 11;
  for (int grant = 0; held < 256; ++grant) {
    auto other = b.Client(b.Mint("alice@pbs", {"--read"}));
    for (int i = 0; i < 8 && held < 256; ++i, ++held) {
      std::string lock = "grant " + std::to_string(grant) + " lock " + std::to_string(i);
      REQUIRE(other.Post(locks + Sha256Hex(lock), lock, "application/octet-stream")->status == 200);
    }
  }
  auto refused =
      ro2.Post(locks + Sha256Hex("one too many"), "one too many", "application/octet-stream");
  CHECK(refused->status == 429);
  CHECK(refused->get_header_value("Retry-After") == "30");
  json listed = json::parse(ro1.Get(locks)->body);
  CHECK(listed.size() == 256);
  CHECK(admin.Delete(locks + prune_name)->status == 200);
  CHECK(ro2.Post(locks + Sha256Hex("one too many"), "one too many", "application/octet-stream")
            ->status == 200);
}
