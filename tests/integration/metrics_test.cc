// /metrics (issue 13 item 3): what restic's init, backup, restore and forget --prune did, counted
// per account, repository and object type, compared with what is on disk and with what nginx
// itself sent; requests by route and status and authentications by outcome compared with nginx's
// own log; and the page refused from an address outside loopback and metrics_allow, through the
// shipped nginx and Apache snippets, and a worker refusing to start on a bad allow-list.
#include <sodium.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "fcgi_client.h"
#include "harness.h"
#include "http_client.h"

using namespace tessera::testing;
namespace fs = std::filesystem;

namespace {

struct Page {
  int status = 0;
  std::string head, body;
};

// GET /metrics straight from the worker, as a web server would pass it with `remote` as the
// client's address.
Page Fetch(const std::string& socket, const std::string& remote) {
  FcgiClient worker(socket);
  worker.Begin({{"REQUEST_METHOD", "GET"}, {"REQUEST_URI", "/metrics"}, {"REMOTE_ADDR", remote}});
  worker.Stdin("");
  std::string response = worker.ReadResponse();
  std::size_t split = response.find("\r\n\r\n");
  REQUIRE(split != std::string::npos);
  REQUIRE(response.starts_with("Status: "));
  return {std::stoi(response.substr(8, 3)), response.substr(0, split), response.substr(split + 4)};
}

// The samples of a scrape: "name{labels}" -> value.
using Samples = std::map<std::string, double>;

Samples Scrape(const std::string& socket) {
  Page page = Fetch(socket, "127.0.0.1");
  REQUIRE(page.status == 200);
  Samples samples;
  std::istringstream lines(page.body);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line.starts_with("#")) continue;
    std::size_t space = line.rfind(' ');
    REQUIRE(space != std::string::npos);
    samples[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return samples;
}

double Get(const Samples& samples, const std::string& series) {
  auto it = samples.find(series);
  return it == samples.end() ? 0 : it->second;
}

std::string Blob(const std::string& what, const std::string& type) {
  return "tessera_blob_" + what + "{account=\"alice@pbs\",repo=\"laptop\",type=\"" + type + "\"}";
}

std::string Requests(const std::string& route, const std::string& method,
                     const std::string& status) {
  return "tessera_http_requests_total{route=\"" + route + "\",method=\"" + method + "\",status=\"" +
         status + "\"}";
}

// What nginx logged for one request.
struct Sent {
  std::string method, uri;
  int status;
  std::uint64_t bytes;
};

std::vector<Sent> NginxLog(const std::string& stack_dir) {
  std::vector<Sent> sent;
  std::istringstream lines(ReadFile(stack_dir + "/nginx/logs/access.log"));
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    Sent s;
    fields >> s.method >> s.uri >> s.status >> s.bytes;
    REQUIRE(fields);
    sent.push_back(s);
  }
  return sent;
}

// The object type a /backup/laptop/ URI names ("config", "data", ...), or "" for a listing or the
// repository itself.
std::string ObjectType(const std::string& uri) {
  std::string rest = uri.substr(std::string("/backup/laptop/").size());
  if (rest == "config") return "config";
  std::size_t slash = rest.find('/');
  if (slash == std::string::npos || slash + 1 == rest.size()) return "";
  return rest.substr(0, slash);
}

// The access log's route of a /backup/laptop/ URI.
std::string Route(const std::string& uri) {
  std::string rest = uri.substr(std::string("/backup/laptop/").size());
  if (rest.empty() || rest.starts_with("?")) return "/backup/{repo}/";
  if (rest == "config") return "/backup/{repo}/config";
  std::size_t slash = rest.find('/');
  if (slash + 1 == rest.size()) return "/backup/{repo}/" + rest;
  return "/backup/{repo}/" + rest.substr(0, slash) + "/{name}";
}

// The repository's objects on disk, by path below it: type and size. Files starting with '.'
// (temporary uploads, lock records) are no objects.
struct Object {
  std::string type;
  std::uint64_t size;
};
using Disk = std::map<std::string, Object>;

Disk Objects(const std::string& repo_dir) {
  Disk disk;
  for (const auto& entry : fs::recursive_directory_iterator(repo_dir)) {
    if (!entry.is_regular_file()) continue;
    if (entry.path().filename().string().starts_with(".")) continue;
    std::string relative = fs::relative(entry.path(), repo_dir).string();
    std::string type = relative == "config" ? "config" : relative.substr(0, relative.find('/'));
    disk[relative] = {type, entry.file_size()};
  }
  return disk;
}

// Whether the worker hands a GET of `uri` (an object) to nginx: objects of 64 KiB and more.
bool HandedOff(const Disk& ever, const std::string& uri) {
  std::string path = uri.substr(std::string("/backup/laptop/").size());
  if (path.starts_with("data/")) path.insert(5, path.substr(5, 2) + "/");  // data/xx/name
  auto it = ever.find(path);
  REQUIRE(it != ever.end());
  return it->second.size >= 64 * 1024;
}

struct Tally {
  double count = 0, bytes = 0;
};

const std::vector<std::string> kTypes = {"config", "data", "index", "keys", "snapshots"};

// Checks every counter of the scrape against `ever` (each object that was ever on disk: written
// once), `deleted` (objects that went) and nginx's log: reads, lock writes and deletes, requests
// by route, method and status, authentications. Scrapes until the worker has counted every
// request nginx logged (it counts right after answering). Returns the scrape.
Samples CheckCounts(BackupStack& b, const Disk& ever, const Disk& deleted, int refused) {
  Samples s;
  std::vector<Sent> sent;
  auto backup_requests = [](const Samples& samples) {
    double n = 0;
    for (const auto& [series, value] : samples)
      if (series.starts_with("tessera_http_requests_total{route=\"/backup/")) n += value;
    return n;
  };
  bool settled = Eventually([&] {
    s = Scrape(b.stack->worker().socket());
    sent = NginxLog(b.stack->dir());
    double logged = 0;
    for (const Sent& r : sent) logged += r.uri.starts_with("/backup/") ? 1 : 0;
    return backup_requests(s) == logged;
  });
  REQUIRE(settled);

  std::map<std::string, Tally> written, gone, read, lock_posts, lock_deletes;
  for (const auto& [path, object] : ever) {
    written[object.type].count += 1;
    written[object.type].bytes += static_cast<double>(object.size);
  }
  for (const auto& [path, object] : deleted) {
    gone[object.type].count += 1;
    gone[object.type].bytes += static_cast<double>(object.size);
  }
  std::map<std::string, double> requests;  // by route, method and status, from nginx's statuses
  double authenticated = 0;
  for (const Sent& r : sent) {
    if (!r.uri.starts_with("/backup/laptop/")) continue;
    std::string type = ObjectType(r.uri);
    bool ok = r.status == 200 || r.status == 206;
    if (r.method == "GET" && ok && !type.empty()) {
      read[type].count += 1;
      read[type].bytes += static_cast<double>(r.bytes);
    }
    if (type == "locks" && r.method == "POST" && ok) lock_posts[type].count += 1;
    if (type == "locks" && r.method == "DELETE" && ok) lock_deletes[type].count += 1;
    // nginx answers the Range of a download handed off to it (objects from 64 KiB) itself
    // (206): the worker answered 200. A refused token is refused before the path is parsed.
    int worker_status = r.status == 206 && HandedOff(ever, r.uri) ? 200 : r.status;
    std::string route = r.status == 401 ? "/backup/{rest*}" : Route(r.uri);
    requests[Requests(route, r.method, std::to_string(worker_status))] += 1;
    authenticated += r.status == 401 ? 0 : 1;
  }

  for (const std::string& type : kTypes) {
    INFO(type);
    CHECK(Get(s, Blob("write_total", type)) == written[type].count);
    CHECK(Get(s, Blob("write_bytes_total", type)) == written[type].bytes);
    CHECK(Get(s, Blob("delete_total", type)) == gone[type].count);
    CHECK(Get(s, Blob("delete_bytes_total", type)) == gone[type].bytes);
    CHECK(Get(s, Blob("read_total", type)) == read[type].count);
    CHECK(Get(s, Blob("read_bytes_total", type)) == read[type].bytes);
  }
  CHECK(written["data"].count > 0);
  // Every lock restic wrote it removed again: the same count and bytes went in and out.
  CHECK(Get(s, Blob("write_total", "locks")) == lock_posts["locks"].count);
  CHECK(Get(s, Blob("delete_total", "locks")) == lock_deletes["locks"].count);
  CHECK(Get(s, Blob("write_total", "locks")) > 0);
  CHECK(Get(s, Blob("write_bytes_total", "locks")) == Get(s, Blob("delete_bytes_total", "locks")));

  for (const auto& [series, n] : requests) {
    INFO(series);
    CHECK(Get(s, series) == n);
  }
  double data_route = 0;
  for (const auto& [series, n] : requests)
    if (series.find("route=\"/backup/{repo}/data/{name}\"") != std::string::npos) data_route += n;
  CHECK(
      Get(s, "tessera_http_request_duration_seconds_count{route=\"/backup/{repo}/data/{name}\"}") ==
      data_route);
  CHECK(Get(s, "tessera_authentications_total{kind=\"token\",outcome=\"ok\"}") == authenticated);
  CHECK(Get(s, "tessera_authentications_total{kind=\"token\",outcome=\"bad_credentials\"}") ==
        refused);
  CHECK(Get(s, "tessera_database_up") == 1);
  CHECK(Get(s, "tessera_auth_cache_fresh") == 1);
  CHECK(Get(s, "tessera_auth_cache_accounts") >= 1);
  CHECK(Get(s, "tessera_auth_cache_grants") >= 1);
  return s;
}

void WriteRandomFiles(const std::string& dir, int first, int count, std::size_t bytes) {
  fs::create_directories(dir);
  std::string data(bytes, '\0');
  for (int i = first; i < first + count; ++i) {
    randombytes_buf(data.data(), data.size());
    std::ofstream(dir + "/f" + std::to_string(i), std::ios::binary)
        .write(data.data(), static_cast<std::streamsize>(bytes - static_cast<std::size_t>(i)));
  }
}

}  // namespace

TEST_CASE("restic's backup, restore and prune are counted per account, repository and type",
          "[metrics]") {
  BackupStack b;
  std::string token = b.Mint("alice@pbs", {"--read", "--write", "--delete", "--repo", "laptop"});
  const std::string& keys = b.keys;
  WriteFile(keys + "/restic-password", "repository password\n");
  std::string url = "rest:http://alice:" + token + "@127.0.0.1:" + std::to_string(b.stack->port()) +
                    "/backup/laptop/";
  auto restic = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {
        "restic",        "-r", url, "--password-file", keys + "/restic-password", "--cache-dir",
        keys + "/cache", "-q"};
    argv.insert(argv.end(), args.begin(), args.end());
    return Run(argv);
  };
  std::string src = keys + "/src";
  WriteRandomFiles(src + "/a", 0, 200, 48 * 1024);
  WriteRandomFiles(src + "/b", 200, 200, 48 * 1024);

  RunResult init = restic({"init"});
  INFO(init.output);
  REQUIRE(init.status == 0);
  RunResult first = restic({"backup", src});
  INFO(first.output);
  REQUIRE(first.status == 0);
  // A wrong token, answered 401 by the worker: one refused authentication.
  CheckedClient wrong = b.Client(token + "x");
  REQUIRE(wrong.Get("/backup/laptop/config")->status == 401);

  std::string repo_dir;
  for (const auto& account : fs::directory_iterator(b.stack->storage_dir())) {
    if (fs::exists(account.path() / "laptop")) repo_dir = (account.path() / "laptop").string();
  }
  REQUIRE(!repo_dir.empty());
  Disk ever = Objects(repo_dir);
  CheckCounts(b, ever, {}, 1);

  RunResult restore = restic({"restore", "latest", "--target", keys + "/restore"});
  INFO(restore.output);
  REQUIRE(restore.status == 0);
  REQUIRE(Run({"diff", "-r", "-q", src, keys + "/restore" + src}).status == 0);
  Samples restored = CheckCounts(b, ever, {}, 1);
  // The restore read every data pack's bytes it needed (the backup read none).
  CHECK(Get(restored, Blob("read_bytes_total", "data")) > 0);

  // Half the files go, a few come: the older snapshot's data is unreferenced once it is
  // forgotten, and prune deletes (or repacks) its packs.
  fs::remove_all(src + "/b");
  WriteRandomFiles(src + "/c", 400, 20, 48 * 1024);
  RunResult second = restic({"backup", src});
  INFO(second.output);
  REQUIRE(second.status == 0);
  Disk before_prune = Objects(repo_dir);
  for (const auto& [path, object] : before_prune) ever[path] = object;
  RunResult prune = restic({"forget", "--keep-last", "1", "--prune"});
  INFO(prune.output);
  REQUIRE(prune.status == 0);
  Disk after_prune = Objects(repo_dir);
  Disk deleted;
  for (const auto& [path, object] : before_prune) {
    if (!after_prune.contains(path)) deleted[path] = object;
  }
  for (const auto& [path, object] : after_prune) ever[path] = object;
  REQUIRE(!deleted.empty());
  bool data_deleted = false;
  for (const auto& [path, object] : deleted) data_deleted = data_deleted || object.type == "data";
  CHECK(data_deleted);
  CheckCounts(b, ever, deleted, 1);
}

TEST_CASE("/metrics is refused outside loopback and metrics_allow, and by the shipped snippets",
          "[metrics]") {
  Stack stack("metrics_allow = 192.0.2.0/24, 2001:db8::/32\n");
  const std::string& socket = stack.worker().socket();
  int allowed = 0, refused = 0;
  for (std::string remote :
       {"127.0.0.1", "127.0.0.2", "::1", "192.0.2.9", "::ffff:192.0.2.10", "2001:db8:1::7"}) {
    INFO(remote);
    Page page = Fetch(socket, remote);
    CHECK(page.status == 200);
    CHECK(page.head.find("Content-Type: text/plain; version=0.0.4") != std::string::npos);
    CHECK(page.body.find("# TYPE tessera_http_requests_total counter\n") != std::string::npos);
    ++allowed;
  }
  for (std::string remote :
       {"192.0.3.1", "198.51.100.7", "2001:db9::1", "::2", "not-an-address", ""}) {
    INFO(remote);
    Page page = Fetch(socket, remote);
    CHECK(page.status == 403);
    CHECK(page.body.find("tessera_") == std::string::npos);
    ++refused;
  }

  // Through the shipped snippets, from loopback even: the web servers never pass /metrics on.
  CheckedClient nginx = stack.Client();
  for (std::string path : {"/metrics", "/metrics/", "/metrics?x=1"}) {
    INFO(path);
    CHECK(nginx.Get(path)->status == 404);
  }
  Apache apache(stack.dir(), socket);
  httplib::Client via_apache("127.0.0.1", apache.port());
  auto answer = via_apache.Get("/metrics");
  REQUIRE(answer);
  CHECK(answer->status == 404);
  CHECK(answer->body.find("tessera_") == std::string::npos);

  // The worker saw only the requests made to it directly.
  Samples s = Scrape(socket);
  CHECK(Get(s, Requests("/metrics", "GET", "200")) == allowed);
  CHECK(Get(s, Requests("/metrics", "GET", "403")) == refused);
  CHECK(Get(s, "tessera_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"}") ==
        0);

  // An allow-list entry that is not an address or a range stops the worker at start.
  Worker bad(MakeTempDir("tessera-metrics"), stack.pg().Conninfo(),
             "metrics_allow = 192.0.2.1/24\n");
  CHECK_THROWS_WITH(bad.Start(), Catch::Contains("metrics_allow: `192.0.2.1/24`"));
}
