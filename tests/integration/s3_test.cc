// The S3 backend against a real store (a throwaway Ceph RGW, tests/rgw) through nginx and the
// worker (issue 12): stateless workers (back up through one, restore through another), a store
// that goes away in the middle of a backup and comes back, uploads that do not hash to their
// name, and the start-up checks of the S3 settings.
#include <httplib.h>
#include <signal.h>
#include <sodium.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "backup/s3_client.h"
#include "backup/s3_storage.h"
#include "fcgi_client.h"
#include "harness.h"

using namespace tessera::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

std::string ResticUrl(const std::string& token, int port) {
  return "rest:http://alice:" + token + "@127.0.0.1:" + std::to_string(port) + "/backup/laptop/";
}

// restic with the stack's password file and a cache of its own; returns status and output.
RunResult Restic(const BackupStack& b, const std::string& url, std::vector<std::string> args) {
  std::vector<std::string> argv = {
      "timeout",      "600",         "restic",          "-r", url, "--password-file",
      b.keys + "/pw", "--cache-dir", b.keys + "/cache", "-q"};
  argv.insert(argv.end(), args.begin(), args.end());
  return Run(argv);
}

// Restores the latest snapshot into a fresh folder and compares it with `src`, byte for byte.
void RestoresByteForByte(const BackupStack& b, const std::string& url, const std::string& src) {
  std::string target = MakeTempDir("tessera-restore");
  RunResult restore = Restic(b, url, {"restore", "latest", "--target", target});
  INFO(restore.output);
  REQUIRE(restore.status == 0);
  RunResult diff = Run({"diff", "-r", "-q", src, target + src});
  INFO(diff.output);
  CHECK(diff.status == 0);
  fs::remove_all(target);
}

// The account id directory of alice's repository in the bucket.
std::string RepoPrefix(BackupStack& b) {
  return "tessera/" + b.stack->pg().Sql("SELECT id FROM accounts WHERE userid = 'alice@pbs'") +
         "/laptop/";
}

// A second worker and nginx on the same database and bucket.
struct SecondFront {
  explicit SecondFront(BackupStack& b)
      : dir(MakeTempDir("tessera-second")),
        worker(std::make_unique<Worker>(dir, b.stack->pg().Conninfo(), b.worker_config)) {
    worker->Start();
    nginx = std::make_unique<Nginx>(dir, worker->socket());
  }
  ~SecondFront() {
    nginx.reset();
    worker.reset();
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  int port() const { return nginx->port(); }
  std::string dir;
  std::unique_ptr<Worker> worker;
  std::unique_ptr<Nginx> nginx;
};

}  // namespace

TEST_CASE("restic backs up through one worker and restores through another", "[s3]") {
  BackupStack b("", Backend::kS3);
  SecondFront other(b);
  WriteFile(b.keys + "/pw", "repository password\n");
  std::string token = b.Mint("alice@pbs", {"--read", "--write", "--delete", "--repo", "laptop"});
  std::string src = b.keys + "/src";
  MakeRandomTree(src, 40, 300 * 1024);

  RunResult init = Restic(b, ResticUrl(token, b.stack->port()), {"init"});
  INFO(init.output);
  REQUIRE(init.status == 0);
  RunResult backup = Restic(b, ResticUrl(token, b.stack->port()), {"backup", src});
  INFO(backup.output);
  REQUIRE(backup.status == 0);

  // Worker B has never seen the repository: everything it needs is in the bucket.
  fs::remove_all(b.keys + "/cache");
  std::string via_b = ResticUrl(token, other.port());
  RestoresByteForByte(b, via_b, src);
  RunResult check = Restic(b, via_b, {"check", "--read-data"});
  INFO(check.output);
  CHECK(check.status == 0);
  // restic removed the locks it made through either worker.
  CHECK(SharedRgw().Keys(b.bucket, RepoPrefix(b) + "locks/").empty());

  // A lock made through worker A carries its creator in the bucket: a token without the delete
  // right may not remove it through worker B.
  std::string lock = "lock of the full token", lock_name = Sha256Hex(lock);
  httplib::Client a = b.Client(token);
  auto made = a.Post("/backup/laptop/locks/" + lock_name, lock, "application/octet-stream");
  REQUIRE(made);
  REQUIRE(made->status == 200);
  std::string reader = b.Mint("alice@pbs", {"--read", "--repo", "laptop"});
  httplib::Client other_client("127.0.0.1", other.port());
  other_client.set_bearer_token_auth(reader.c_str());
  auto refused = other_client.Delete("/backup/laptop/locks/" + lock_name);
  REQUIRE(refused);
  CHECK(refused->status == 403);
  other_client.set_bearer_token_auth(token.c_str());
  auto removed = other_client.Delete("/backup/laptop/locks/" + lock_name);
  REQUIRE(removed);
  CHECK(removed->status == 200);
  CHECK(SharedRgw().Keys(b.bucket, RepoPrefix(b) + "locks/").empty());
}

TEST_CASE("a store that goes away mid-backup gives errors, and all is well once it is back",
          "[s3]") {
  BackupStack b("", Backend::kS3);
  WriteFile(b.keys + "/pw", "repository password\n");
  std::string token = b.Mint("alice@pbs", {"--read", "--write", "--delete", "--repo", "laptop"});
  std::string url = ResticUrl(token, b.stack->port());
  REQUIRE(Restic(b, url, {"init"}).status == 0);
  std::string src = b.keys + "/src";
  MakeRandomTree(src, 80, 2 << 20);  // 160 MiB: about ten packs

  // The backup runs in the background, held to 16 MiB/s so that it cannot be over before the
  // gateway stops (once packs are arriving).
  Process restic({"restic", "-r", url, "--password-file", b.keys + "/pw", "--cache-dir",
                  b.keys + "/cache", "--limit-upload", "16384", "backup", src},
                 b.keys + "/backup.log");
  std::string data = RepoPrefix(b) + "data/";
  REQUIRE(Eventually([&] { return !SharedRgw().Keys(b.bucket, data).empty(); }, 120s));
  SharedRgw().StopGateway();
  struct Restart {
    ~Restart() {
      try {
        SharedRgw().StartGateway();
      } catch (...) {
      }
    }
  } restart_whatever_happens;
  // The client is told the store is unavailable (503), and restic says so while it retries.
  httplib::Client direct = b.Client(token);
  auto answer = direct.Get("/backup/laptop/config");
  REQUIRE(answer);
  CHECK(answer->status == 503);
  CHECK(Eventually(
      [&] {
        std::string log = ReadFile(b.keys + "/backup.log");
        return log.find("503") != std::string::npos || !restic.Running();
      },
      120s));
  INFO(ReadFile(b.keys + "/backup.log"));
  CHECK(ReadFile(b.keys + "/backup.log").find("503") != std::string::npos);

  SharedRgw().StartGateway();
  // restic either finishes once the store is back (its retries succeed) or gives up; either way
  // nothing half-written may be left behind.
  auto first = restic.Wait(600s);
  REQUIRE(first);
  INFO("first backup exited " << *first);
  std::ofstream(src + "/d0/after-the-outage") << "written after the store came back\n";
  RunResult second = Restic(b, url, {"backup", src});
  INFO(second.output);
  CHECK(second.status == 0);
  RunResult check = Restic(b, url, {"check", "--read-data"});
  INFO(check.output);
  CHECK(check.status == 0);
  RestoresByteForByte(b, url, src);
}

TEST_CASE("an upload that does not hash to its name leaves no object in the bucket", "[s3]") {
  BackupStack b("", Backend::kS3);
  std::string token = b.Mint("alice@pbs", {"--read", "--write", "--repo", "laptop"});
  httplib::Client c = b.Client(token);
  auto created = c.Post("/backup/laptop/?create=true", "", "application/octet-stream");
  REQUIRE(created);
  REQUIRE(created->status == 200);
  const std::string prefix = RepoPrefix(b);

  // Small (one piece) and large (many pieces, streamed) bodies alike.
  for (std::size_t size : {std::size_t{1000}, std::size_t{5 << 20}}) {
    INFO(size);
    std::string body = RandomBytes(size), other = RandomBytes(size);
    std::string name = Sha256Hex(body);
    auto wrong = c.Post("/backup/laptop/data/" + name, other, "application/octet-stream");
    REQUIRE(wrong);
    CHECK(wrong->status == 400);
    CHECK(SharedRgw().Keys(b.bucket, prefix + "data/").empty());
    auto head = c.Head("/backup/laptop/data/" + name);
    REQUIRE(head);
    CHECK(head->status == 404);

    // The right body under the same name is stored, exactly once.
    auto right = c.Post("/backup/laptop/data/" + name, body, "application/octet-stream");
    REQUIRE(right);
    CHECK(right->status == 200);
    CHECK(SharedRgw().Keys(b.bucket, prefix + "data/") ==
          std::vector<std::string>{prefix + "data/" + name.substr(0, 2) + "/" + name});
    // Sent again (a retry after a lost answer): the same bytes converge, other bytes never
    // overwrite it.
    auto again = c.Post("/backup/laptop/data/" + name, body, "application/octet-stream");
    REQUIRE(again);
    CHECK(again->status == 200);
    auto different = c.Post("/backup/laptop/data/" + name, std::string(body.size(), 'x'),
                            "application/octet-stream");
    REQUIRE(different);
    CHECK(different->status == 403);
    auto back = c.Get("/backup/laptop/data/" + name, {{"Range", "bytes=10-19"}});
    REQUIRE(back);
    CHECK(back->status == 206);
    CHECK(back->body == body.substr(10, 10));
    auto gone = b.Client(b.Mint("alice@pbs", {"--delete", "--repo", "laptop"}))
                    .Delete("/backup/laptop/data/" + name);
    REQUIRE(gone);
    CHECK(gone->status == 200);
  }
}

TEST_CASE("wrong S3 settings make the worker refuse to start and say why", "[s3]") {
  Rgw& rgw = SharedRgw();
  std::string bucket = rgw.MakeBucket();
  std::string dir = MakeTempDir("tessera-s3-config");
  PgCluster pg;
  MigrateOrThrow(pg.Conninfo());
  RunResult key = Run({TESSERA_ADMIN_BIN, "keygen", "--out", dir + "/token.k4.secret"});
  REQUIRE(key.status == 0);
  auto start = [&](const std::string& credentials_text, const std::string& storage,
                   fs::perms mode = fs::perms::owner_read | fs::perms::owner_write) {
    std::string credentials = dir + "/s3.credentials";
    WriteFile(credentials, credentials_text);
    fs::permissions(credentials, mode, fs::perm_options::replace);
    std::string run = MakeTempDir("tessera-s3-worker");
    Worker w(run, pg.Conninfo(),
             "token_key = " + dir + "/token.k4.secret\nstorage = " + storage +
                 "\ns3_endpoint = " + rgw.endpoint() + "\ns3_credentials = " + credentials + "\n");
    std::string error;
    try {
      w.Start();
    } catch (const std::exception& e) {
      error = e.what();
    }
    fs::remove_all(run);
    return error;
  };
  const std::string good = "aws_access_key_id = " + Rgw::access_key() +
                           "\naws_secret_access_key = " + Rgw::secret_key() + "\n";
  CHECK(start(good, "s3://" + bucket + "/tessera").empty());

  std::string wrong_secret = start(
      "aws_access_key_id = " + Rgw::access_key() + "\naws_secret_access_key = not-the-secret\n",
      "s3://" + bucket);
  CHECK_THAT(wrong_secret,
             Catch::Contains("the S3 secret key is wrong for access key " + Rgw::access_key()));
  CHECK_THAT(wrong_secret, !Catch::Contains("not-the-secret"));
  CHECK_THAT(start("aws_access_key_id = NOSUCHKEY\naws_secret_access_key = x\n", "s3://" + bucket),
             Catch::Contains("the S3 store does not know the access key NOSUCHKEY"));
  CHECK_THAT(start(good, "s3://no-such-bucket-here"),
             Catch::Contains("the S3 bucket no-such-bucket-here does not exist"));
  CHECK_THAT(start(good, "s3://" + bucket,
                   fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read),
             Catch::Contains("is accessible by group or others"));
  CHECK_THAT(start(good, "s3://Not_A_Bucket"), Catch::Contains("is not s3://<bucket>"));
  fs::remove_all(dir);
}

// The backend itself, against the store without a worker in between: streamed writes, ranged
// reads, listings over several pages, lock creators and caps, usage.
TEST_CASE("the S3 backend keeps the storage contract against a real store", "[s3]") {
  using namespace tessera::backup;
  Rgw& rgw = SharedRgw();
  std::string bucket = rgw.MakeBucket();
  S3ClientOptions options;
  options.endpoint = *ParseS3Endpoint(rgw.endpoint());
  options.bucket = bucket;
  auto client = std::make_shared<const S3Client>(
      options, S3Credentials(Rgw::access_key(), Rgw::secret_key()));
  REQUIRE(client->CheckBucket("p"));
  const tessera::clock::SystemClock clock;
  std::unique_ptr<Storage> storage = MakeS3Storage(client, "p", clock);
  const AccountId owner{7};

  CHECK_FALSE(storage->RepoExists(owner, "r"));
  CHECK(storage->List(owner, "r", "data").error() == StorageError::kNotFound);
  REQUIRE(storage->CreateRepo(owner, "r"));
  REQUIRE(storage->CreateRepo(owner, "r"));  // again: fine
  CHECK(storage->RepoExists(owner, "r"));
  CHECK_FALSE(storage->RepoExists(AccountId{8}, "r"));

  // A 3 MiB object written in 100 KiB pieces, read back in ranges.
  std::string body = RandomBytes(3 << 20), name = Sha256Hex(body);
  auto writer = storage->BeginWrite(owner, "r", "data", name, body.size());
  REQUIRE(writer);
  for (std::size_t at = 0; at < body.size(); at += 100 << 10)
    REQUIRE((*writer)->Write(body.data() + at, std::min<std::size_t>(100 << 10, body.size() - at)));
  REQUIRE((*writer)->Commit(name));
  auto reader = storage->Open(owner, "r", "data", name);
  REQUIRE(reader);
  CHECK((*reader)->size() == body.size());
  auto read_all = [](tessera::http::BodySource& source) {
    std::string out;
    char buffer[70000];
    for (std::ptrdiff_t n; (n = source.Read(buffer, sizeof buffer)) > 0;)
      out.append(buffer, static_cast<std::size_t>(n));
    return out;
  };
  CHECK(read_all(*(*reader)->Range(0, body.size())) == body);
  CHECK(read_all(*(*reader)->Range(12345, 1000000)) == body.substr(12345, 1000000));
  CHECK(storage->Open(owner, "r", "data", std::string(64, 'a')).error() == StorageError::kNotFound);
  auto twice = storage->BeginWrite(owner, "r", "data", name, body.size());
  REQUIRE(twice);
  REQUIRE((*twice)->Write(body.data(), body.size()));
  CHECK((*twice)->Commit(name).error() == StorageError::kExists);

  // An abandoned writer leaves nothing.
  {
    std::string other = RandomBytes(1 << 20);
    auto dropped = storage->BeginWrite(owner, "r", "data", Sha256Hex(other), other.size());
    REQUIRE(dropped);
    REQUIRE((*dropped)->Write(other.data(), 300000));
    REQUIRE((*dropped)->Write(other.data() + 300000, 300000));
  }
  CHECK(rgw.Keys(bucket, "p/7/r/data/").size() == 1);

  // More index objects than one listing page holds.
  std::set<std::string> written;
  for (int i = 0; i < 1005; ++i) {
    std::string content = "index " + std::to_string(i), id = Sha256Hex(content);
    auto w = storage->BeginWrite(owner, "r", "index", id, content.size());
    REQUIRE(w);
    REQUIRE((*w)->Write(content.data(), content.size()));
    REQUIRE((*w)->Commit(id));
    written.insert(id);
  }
  std::set<std::string> listed;
  auto lister = storage->List(owner, "r", "index");
  REQUIRE(lister);
  while (true) {
    auto next = (*lister)->Next();
    REQUIRE(next);
    if (!*next) break;
    listed.insert((*next)->name);
  }
  CHECK(listed == written);
  auto data = storage->List(owner, "r", "data");
  REQUIRE(data);
  auto first = (*data)->Next();
  REQUIRE((first && *first));
  CHECK((*first)->name == name);
  CHECK((*first)->size == body.size());
  CHECK(!*(*data)->Next());

  // Locks carry their creator; only the creator (or a removal without one) takes them.
  std::string lock = "a lock", lock_name = Sha256Hex(lock);
  auto lw = storage->BeginLock(owner, "r", lock_name, lock.size(), "grant-a", 256);
  REQUIRE(lw);
  REQUIRE((*lw)->Write(lock.data(), lock.size()));
  REQUIRE((*lw)->Commit(lock_name));
  CHECK(storage->RemoveLock(owner, "r", lock_name, "grant-b").error() == StorageError::kNotCreator);
  CHECK(storage->RemoveLock(owner, "r", lock_name, "grant-a"));
  CHECK(storage->RemoveLock(owner, "r", lock_name, "grant-a"));  // gone already: fine
  // The per-grant cap, counted from the bucket.
  for (std::size_t i = 0; i < kMaxLocksPerCreator; ++i) {
    std::string l = "lock " + std::to_string(i);
    auto w = storage->BeginLock(owner, "r", Sha256Hex(l), l.size(), "grant-a", 256);
    REQUIRE(w);
    REQUIRE((*w)->Write(l.data(), l.size()));
    REQUIRE((*w)->Commit(Sha256Hex(l)));
  }
  CHECK(storage->BeginLock(owner, "r", Sha256Hex(lock), lock.size(), "grant-a", 256).error() ==
        StorageError::kTooMany);
  CHECK(storage->BeginLock(owner, "r", Sha256Hex(lock), lock.size(), "grant-b", 256));
  CHECK(storage->BeginLock(owner, "r", Sha256Hex(lock), lock.size(), "grant-b", 8).error() ==
        StorageError::kTooMany);

  // Usage finds the repositories (also nested ones) and adds up their objects.
  REQUIRE(storage->CreateRepo(owner, "r/sub"));
  REQUIRE(storage->CreateRepo(owner, "other"));
  std::string snap = "snapshot", snap_name = Sha256Hex(snap);
  auto sw = storage->BeginWrite(owner, "other", "snapshots", snap_name, snap.size());
  REQUIRE(sw);
  REQUIRE((*sw)->Write(snap.data(), snap.size()));
  REQUIRE((*sw)->Commit(snap_name));
  auto usage = storage->Usage(owner, 10, [](std::string_view) { return true; });
  REQUIRE(usage);
  REQUIRE(usage->size() == 3);
  CHECK((*usage)[0].repo == "other");
  CHECK((*usage)[0].objects == 1);
  CHECK((*usage)[0].snapshots == 1);
  CHECK((*usage)[0].last_snapshot.has_value());
  CHECK((*usage)[1].repo == "r");
  CHECK((*usage)[1].objects == 1 + 1005 + kMaxLocksPerCreator);
  CHECK((*usage)[2].repo == "r/sub");
  CHECK((*usage)[2].objects == 0);
  auto limited = storage->Usage(owner, 1, [](std::string_view repo) { return repo != "other"; });
  REQUIRE(limited);
  REQUIRE(limited->size() == 1);
  CHECK((*limited)[0].repo == "r");
}

TEST_CASE("nginx serves S3 downloads from a presigned URL the worker hands it", "[s3]") {
  BackupStack b("", Backend::kS3);
  std::string token = b.Mint("alice@pbs", {"--read", "--write", "--repo", "laptop"});
  std::string write_only = b.Mint("alice@pbs", {"--write", "--repo", "laptop"});
  httplib::Client c = b.Client(token);
  REQUIRE(c.Post("/backup/laptop/?create=true", "", "application/octet-stream")->status == 200);
  std::string body(1 << 20, '\0');
  randombytes_buf(body.data(), body.size());
  const std::string path = "/backup/laptop/data/" + Sha256Hex(body);
  REQUIRE(c.Post(path, body, "application/octet-stream")->status == 200);

  // The worker's answer: a redirect to nginx's remote location and a URL that reads the object
  // without credentials (and only that object: nothing else in the bucket).
  const std::vector<std::pair<std::string, std::string>> handoff = {
      {"TESSERA_DOWNLOAD_HANDOFF", "x-accel-redirect /_tessera/objects/ /_tessera/remote/"}};
  RawAnswer redirect = AskWorker(b.stack->worker().socket(), "GET", path, token, handoff);
  REQUIRE(redirect.status == 200);
  CHECK(redirect.headers["x-accel-redirect"] == "/_tessera/remote/");
  const std::string url = redirect.headers["x-tessera-remote-url"];
  REQUIRE(url.starts_with(SharedRgw().endpoint() + "/" + b.bucket + "/"));
  CHECK(redirect.body.empty());
  std::size_t path_at = url.find('/', url.find("//") + 2);
  httplib::Client store("127.0.0.1", std::stoi(url.substr(url.rfind(':', path_at) + 1)));
  auto fetched = store.Get(url.substr(path_at));
  REQUIRE(fetched);
  CHECK(fetched->status == 200);
  CHECK(fetched->body == body);
  std::string other_key = url.substr(path_at, url.find('?') - path_at);
  other_key.back() = other_key.back() == '0' ? '1' : '0';
  auto forged = store.Get(other_key + url.substr(url.find('?')));
  REQUIRE(forged);
  CHECK(forged->status == 403);
  // A HEAD, a refused token and a small object never get a URL.
  CHECK_FALSE(AskWorker(b.stack->worker().socket(), "HEAD", path, token, handoff)
                  .headers.contains("x-tessera-remote-url"));
  RawAnswer refused = AskWorker(b.stack->worker().socket(), "GET", path, write_only, handoff);
  CHECK(refused.status == 403);
  CHECK_FALSE(refused.headers.contains("x-tessera-remote-url"));

  // Through nginx: the bytes, a range, and none of the store's or the worker's headers.
  auto whole = c.Get(path);
  REQUIRE(whole);
  CHECK(whole->status == 200);
  CHECK(whole->body == body);
  CHECK_FALSE(whole->has_header("X-Tessera-Remote-Url"));
  CHECK_FALSE(whole->has_header("x-amz-request-id"));
  auto part = c.Get(path, {{"Range", "bytes=1000-1999"}});
  REQUIRE(part);
  CHECK(part->status == 206);
  CHECK(part->body == body.substr(1000, 1000));
  auto head = c.Head(path);
  REQUIRE(head);
  CHECK(head->status == 200);
  CHECK(head->get_header_value("Content-Length") == std::to_string(body.size()));
  // An object removed between the worker's check and nginx's fetch is a 404, as on disk.
  std::string gone(100 * 1024, 'g');
  const std::string gone_path = "/backup/laptop/data/" + Sha256Hex(gone);
  REQUIRE(c.Post(gone_path, gone, "application/octet-stream")->status == 200);
  RawAnswer late = AskWorker(b.stack->worker().socket(), "GET", gone_path, token, handoff);
  std::string late_url = late.headers["x-tessera-remote-url"];
  REQUIRE_FALSE(late_url.empty());
  std::string admin = b.Mint("alice@pbs", {"--read", "--write", "--delete", "--repo", "laptop"});
  REQUIRE(b.Client(admin).Delete(gone_path)->status == 200);
  auto missing = store.Get(late_url.substr(late_url.find('/', late_url.find("//") + 2)));
  REQUIRE(missing);
  CHECK(missing->status == 404);
}
