// At most once, every statement (issue 22): the worker reaches PostgreSQL through a DbProxy that
// lets one chosen statement run on the server, to its commit, and then cuts the connection before
// the answer comes back. Whatever the request answers, the statement has applied once: a login,
// a renewal, a throttle count, a logout, an audit row, a mint, and the usage reserve, commit,
// release and remove. Usage writes that act on a row the first run removed are sent again (their
// request still succeeds); the others are not (their request answers 503).
#include <httplib.h>

#include <catch2/catch.hpp>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "harness.h"
#include "http_client.h"

using namespace tessera::testing;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr const char* kTicket = "/api2/json/access/ticket";

httplib::Headers CookieHeaders(const PasswordLogin& who) {
  return {{"Cookie", "__Host-PBSAuthCookie=" + FormEncode(who.ticket)},
          {"CSRFPreventionToken", who.csrf}};
}

struct Cut {
  BackupStack& b;
  std::string Sql(const std::string& sql) { return b.stack->pg().Sql(sql); }
  // Arms the cut for the statement holding `marker`; Done() says whether it happened.
  void Arm(const std::string& marker) {
    before_ = b.stack->db_proxy().cuts();
    b.stack->db_proxy().CutAfterAnswer(marker);
  }
  bool Done() { return b.stack->db_proxy().cuts() == before_ + 1; }
  int before_ = 0;
};

std::string AccountId(BackupStack& b) {
  return b.stack->pg().Sql("SELECT id FROM accounts WHERE userid = 'alice@pbs'");
}

// (bytes, objects) on disk below alice's repository `laptop`.
std::pair<std::uint64_t, std::uint64_t> OnDisk(BackupStack& b) {
  std::uint64_t bytes = 0, objects = 0;
  for (const auto& e :
       fs::recursive_directory_iterator(b.keys + "/repos/" + AccountId(b) + "/laptop")) {
    if (!e.is_regular_file()) continue;
    if (fs::relative(e.path(), b.keys + "/repos/" + AccountId(b) + "/laptop")
            .string()
            .starts_with("locks/") ||
        e.path().filename().string().starts_with(".tmp-"))
      continue;
    bytes += e.file_size();
    ++objects;
  }
  return {bytes, objects};
}

std::string Books(BackupStack& b) {
  std::string id = AccountId(b);
  return b.stack->pg().Sql("SELECT (SELECT bytes FROM account_usage WHERE account_id = " + id +
                           ") || ' ' || COALESCE((SELECT bytes || ' ' || objects FROM repo_usage "
                           "WHERE account_id = " +
                           id + " AND repo = 'laptop'), '0 0')");
}

std::string Disk(BackupStack& b) {
  auto [bytes, objects] = OnDisk(b);
  return std::to_string(bytes) + " " + std::to_string(bytes) + " " + std::to_string(objects);
}

}  // namespace

TEST_CASE("a cut after the server ran it: logins, renewals, logouts, throttling count once",
          "[once]") {
  BackupStack b("", Backend::kFilesystem, /*db_proxy=*/true);
  Cut cut{b};
  CheckedClient c = b.stack->Client();

  SECTION("a login's session") {
    cut.Arm("tessera_start_session");
    PasswordLogin in = LogIn(c, "alice@pbs", "pw");
    REQUIRE(cut.Done());
    CHECK(in.status == 503);
    CHECK(cut.Sql("SELECT count(*) FROM sessions") == "1");
  }
  SECTION("a renewal") {
    PasswordLogin in = LogIn(c, "alice@pbs", "pw");
    REQUIRE(in.status == 200);
    // A renewal in the login's second would first try the login's own stamp (and be refused by
    // the ticket's key, rolled back): renew in the next one.
    std::time_t login = std::time(nullptr);
    REQUIRE(Eventually([&] { return std::time(nullptr) > login; }, std::chrono::seconds(2)));
    cut.Arm("UPDATE sessions s SET renewed_at");
    PasswordLogin renewed = LogIn(c, "alice@pbs", in.ticket);
    REQUIRE(cut.Done());
    CHECK(renewed.status == 503);
    CHECK(cut.Sql("SELECT count(*) FROM session_tickets") == "2");
    // The next renewal goes through.
    CHECK(LogIn(c, "alice@pbs", in.ticket).status == 200);
  }
  SECTION("a failed login's throttle count") {
    cut.Arm("WITH addr AS");
    PasswordLogin wrong = LogIn(c, "alice@pbs", "not the password");
    REQUIRE(cut.Done());
    CHECK(wrong.status == 503);
    CHECK(cut.Sql("SELECT failures FROM login_failures WHERE subject LIKE 'addr:%'") == "1");
  }
  SECTION("a login's audit row") {
    cut.Arm("INSERT INTO auth_audit");
    PasswordLogin in = LogIn(c, "alice@pbs", "pw");
    REQUIRE(cut.Done());
    CHECK(in.status == 200);  // the audit row is not worth failing a login for
    // Each event once (the cut one is the password's rehash, then the login).
    CHECK(cut.Sql("SELECT count(*) FROM auth_audit") == "2");
    CHECK(cut.Sql("SELECT count(DISTINCT event) FROM auth_audit") == "2");
  }
  SECTION("a logout") {
    PasswordLogin in = LogIn(c, "alice@pbs", "pw");
    REQUIRE(in.status == 200);
    cut.Arm("tessera_end_session");
    auto out = c.Delete(kTicket, CookieHeaders(in));
    REQUIRE(cut.Done());
    REQUIRE(out);
    CHECK(out->status == 503);
    CHECK(cut.Sql("SELECT count(*) FROM sessions WHERE ended_at IS NOT NULL") == "1");
    CHECK(cut.Sql("SELECT count(*) FROM revoked_tickets") == "1");
  }
  SECTION("a self-service mint") {
    PasswordLogin in = LogIn(c, "alice@pbs", "pw");
    REQUIRE(in.status == 200);
    cut.Arm("grant_own_token");
    auto made = c.Post("/api2/json/access/tokens", CookieHeaders(in),
                       json{{"name", "laptop"}, {"read", true}}.dump(), "application/json");
    REQUIRE(cut.Done());
    REQUIRE(made);
    CHECK(made->status == 503);  // sent again, it was answered 409 ("the name exists")
    CHECK(cut.Sql("SELECT count(*) FROM api_tokens WHERE name = 'laptop'") == "1");
  }
}

TEST_CASE("a cut after the server ran it: the usage books stay exact", "[once]") {
  BackupStack b("", Backend::kFilesystem, /*db_proxy=*/true);
  Cut cut{b};
  std::string token = b.Mint("alice@pbs", {"--read", "--write", "--delete", "--repo", "laptop"});
  REQUIRE(b.Client(token).Post("/backup/laptop/?create=true", "", "text/plain")->status == 200);
  auto put = [&](const std::string& body, const std::string& name) {
    auto r = b.Client(token).Post("/backup/laptop/data/" + name, body, "application/octet-stream");
    REQUIRE(r);
    return r->status;
  };
  std::string first = RandomBytes(3000);
  REQUIRE(put(first, Sha256Hex(first)) == 200);

  SECTION("a commit is sent again and counts once") {
    std::string body = RandomBytes(5000);
    cut.Arm("INSERT INTO repo_usage");
    CHECK(put(body, Sha256Hex(body)) == 200);
    REQUIRE(cut.Done());
    CHECK(Books(b) == Disk(b));
  }
  SECTION("a removal is sent again and counts once") {
    cut.Arm("c AS (DELETE FROM usage_removals");
    auto gone = b.Client(token).Delete("/backup/laptop/data/" + Sha256Hex(first));
    REQUIRE(cut.Done());
    REQUIRE(gone);
    CHECK(gone->status == 200);
    CHECK(Books(b) == Disk(b));
  }
  SECTION("a release is sent again and gives back once") {
    std::string body = RandomBytes(4000);
    cut.Arm("u.bytes - r.bytes");
    CHECK(put(body, Sha256Hex("other bytes")) == 400);
    REQUIRE(cut.Done());
    CHECK(Books(b) == Disk(b));
    CHECK(cut.Sql("SELECT count(*) FROM usage_reservations") == "0");
  }
  SECTION("a reservation is not sent again; it lapses with its lease") {
    std::string body = RandomBytes(6000);
    cut.Arm("INSERT INTO usage_reservations");
    CHECK(put(body, Sha256Hex(body)) == 503);
    REQUIRE(cut.Done());
    // Reserved once (not twice), stored nowhere; its lease gives it back.
    CHECK(cut.Sql("SELECT count(*) FROM usage_reservations") == "1");
    auto [bytes, objects] = OnDisk(b);
    CHECK(Books(b) == std::to_string(bytes + 6000) + " " + std::to_string(bytes) + " " +
                          std::to_string(objects));
    auto recomputed =
        Run({TESSERA_ADMIN_BIN, "--config", b.admin_conf, "usage", "recompute", "alice@pbs"});
    INFO(recomputed.output);
    CHECK(recomputed.status == 0);
    // Its lease has not run out: the recompute keeps it (an upload may still be streaming).
    CHECK(cut.Sql("SELECT count(*) FROM usage_reservations") == "1");
    cut.Sql("UPDATE usage_reservations SET lease_until = now() - interval '1 second'");
    recomputed =
        Run({TESSERA_ADMIN_BIN, "--config", b.admin_conf, "usage", "recompute", "alice@pbs"});
    CHECK(recomputed.output.find("expired reservations given back 1") != std::string::npos);
    CHECK(Books(b) == Disk(b));
  }
}

TEST_CASE("connections dropped while idle are replaced before anything is sent", "[once]") {
  BackupStack b("", Backend::kFilesystem, /*db_proxy=*/true);
  CheckedClient c = b.stack->Client();
  REQUIRE(LogIn(c, "alice@pbs", "pw").status == 200);
  // Every connection of the worker's pool goes (as in a PostgreSQL restart); the next login's
  // statements are sent at most once, yet none fails: a dead connection is found before sending.
  b.stack->db_proxy().CutAll();
  PasswordLogin again = LogIn(c, "alice@pbs", "pw");
  CHECK(again.status == 200);
  CHECK(b.stack->pg().Sql("SELECT count(*) FROM sessions") == "2");
}

TEST_CASE("a stalled statement holds its request until released", "[once]") {
  BackupStack b("", Backend::kFilesystem, /*db_proxy=*/true);
  std::string token = b.Mint("alice@pbs", {"--read", "--write", "--repo", "laptop"});
  REQUIRE(b.Client(token).Post("/backup/laptop/?create=true", "", "text/plain")->status == 200);
  b.stack->db_proxy().Stall("INSERT INTO repo_usage");
  std::string body = RandomBytes(2000);
  int status = 0;
  std::thread upload([&] {
    auto r = b.Client(token).Post("/backup/laptop/data/" + Sha256Hex(body), body,
                                  "application/octet-stream");
    status = r ? r->status : -1;
  });
  CHECK(Eventually([&] { return b.stack->db_proxy().stalled(); }, std::chrono::seconds(10)));
  CHECK(status == 0);
  b.stack->db_proxy().Release();
  upload.join();
  CHECK(status == 200);
  CHECK(Books(b) == Disk(b));
}
