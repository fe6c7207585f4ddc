// The S3 client's failure handling against a scripted store (cpp-httplib on loopback, which
// checks no signature): transient answers are tried again with backoff, a download cut short
// resumes where it stopped, a store nobody listens for is unavailable, and an early refusal of a
// PUT ends it. The real store (Ceph RGW) is in s3_test.cc.
#include "backup/s3_client.h"

#include <httplib.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <thread>

#include "harness.h"

using namespace tessera::backup;
using namespace tessera::testing;
using namespace std::chrono_literals;

namespace {

// A store on a free loopback port, serving until destroyed.
struct ScriptedStore {
  ScriptedStore() : port(FreePort()) {}
  void Start() {
    thread = std::thread([this] { server.listen("127.0.0.1", port); });
    REQUIRE(Eventually([this] { return server.is_running(); }, 5s));
  }
  ~ScriptedStore() {
    server.stop();
    if (thread.joinable()) thread.join();
  }
  S3Client Client(int attempts = 4) const {
    S3ClientOptions options;
    options.endpoint = *ParseS3Endpoint("http://127.0.0.1:" + std::to_string(port));
    options.bucket = "bucket";
    options.attempts = attempts;
    options.first_backoff = 10ms;
    return S3Client(options, S3Credentials("AKIATEST", "secret"));
  }
  httplib::Server server;
  int port;
  std::thread thread;
};

}  // namespace

TEST_CASE("transient answers are tried again, then the store is unavailable", "[s3_client]") {
  ScriptedStore store;
  std::atomic<int> requests = 0, failures_left = 2;
  std::atomic<int> status = 503;
  store.server.Get("/bucket/k", [&](const httplib::Request&, httplib::Response& res) {
    ++requests;
    if (failures_left-- > 0) {
      res.status = status;
      return;
    }
    res.set_content("hello", "application/octet-stream");
  });
  store.Start();
  S3Client client = store.Client(4);

  auto head = client.Head("k");
  REQUIRE(head);
  CHECK(head->size == 5);
  CHECK(requests == 3);

  requests = 0;
  failures_left = 100;
  auto down = client.Head("k");
  REQUIRE_FALSE(down);
  CHECK(down.error() == S3Error::kUnavailable);
  CHECK(requests == 4);

  // A refusal that another try cannot change is not tried again.
  requests = 0;
  status = 403;
  auto denied = client.Head("k");
  REQUIRE_FALSE(denied);
  CHECK(denied.error() == S3Error::kDenied);
  CHECK(requests == 1);
}

TEST_CASE("a download cut short resumes where it stopped", "[s3_client]") {
  ScriptedStore store;
  const std::string object = RandomBytes(300000);
  std::vector<std::string> ranges;
  std::mutex mutex;
  // cpp-httplib answers the Range itself (206, Content-Range) from a provider of the whole object.
  store.server.Get("/bucket/obj", [&](const httplib::Request& req, httplib::Response& res) {
    bool cut;
    {
      std::lock_guard<std::mutex> lock(mutex);
      ranges.push_back(req.get_header_value("Range"));
      cut = ranges.size() == 1;  // the first answer breaks off at byte 101000 of the object
    }
    res.set_content_provider(
        object.size(), "application/octet-stream",
        [&, cut](std::size_t offset, std::size_t size, httplib::DataSink& sink) {
          if (cut && offset >= 101000) return false;  // drops the connection
          std::size_t n = cut ? std::min<std::size_t>(size, 101000 - offset) : size;
          return sink.write(object.data() + offset, n);
        });
  });
  store.Start();
  S3Client client = store.Client();

  auto source = client.GetRange("obj", 1000, 250000);
  std::string got;
  char buffer[65536];
  for (std::ptrdiff_t n; (n = source->Read(buffer, sizeof buffer)) > 0;)
    got.append(buffer, static_cast<std::size_t>(n));
  std::string want = object.substr(1000, 250000);
  auto diverges = std::mismatch(got.begin(), got.end(), want.begin(), want.end());
  CHECK(diverges.first - got.begin() == 250000);
  CHECK(got.size() == want.size());
  std::lock_guard<std::mutex> lock(mutex);
  CAPTURE(ranges);
  REQUIRE(ranges.size() == 2);
  CHECK(ranges[0] == "bytes=1000-250999");
  CHECK(ranges[1] == "bytes=101000-250999");
}

TEST_CASE("a store nobody listens for is unavailable", "[s3_client]") {
  S3ClientOptions options;
  options.endpoint = *ParseS3Endpoint("http://127.0.0.1:" + std::to_string(FreePort()));
  options.bucket = "bucket";
  options.first_backoff = 10ms;
  S3Client client(options, S3Credentials("AKIATEST", "secret"));
  CHECK(client.Head("k").error() == S3Error::kUnavailable);
  CHECK(client.List("p/", "/", "").error() == S3Error::kUnavailable);
  CHECK(client.Put("k", "body", {}).error() == S3Error::kUnavailable);
  auto check = client.CheckBucket("p");
  REQUIRE_FALSE(check);
  CHECK(check.error().first == S3Error::kUnavailable);
  CHECK_THAT(check.error().second, Catch::Contains("does not answer"));
  auto source = client.GetRange("k", 0, 10);
  char buffer[16];
  CHECK(source->Read(buffer, sizeof buffer) == -1);
}

TEST_CASE("a streamed PUT the store refuses ends with the store's reason", "[s3_client]") {
  ScriptedStore store;
  std::atomic<int> requests = 0;
  store.server.Put("/bucket/taken", [&](const httplib::Request& req, httplib::Response& res) {
    ++requests;
    CHECK(req.get_header_value("If-None-Match") == "*");
    CHECK(req.get_header_value("x-amz-content-sha256") == std::string(64, 'a'));
    CHECK(req.get_header_value("x-amz-meta-creator") == "grant-1");
    res.status = 412;
    res.set_content("<Error><Code>PreconditionFailed</Code></Error>", "application/xml");
  });
  store.Start();
  S3Client client = store.Client();
  S3PutOptions put{std::string(64, 'a'), true, {{"creator", "grant-1"}}};
  auto upload = client.BeginPut("taken", 1 << 20, put);
  std::string piece(256 << 10, 'x');
  std::optional<S3Error> error;
  for (int i = 0; i < 4 && !error; ++i) {
    if (auto sent = upload->Send(piece.data(), piece.size()); !sent) error = sent.error();
  }
  if (!error) {
    if (auto done = upload->Finish(); !done) error = done.error();
  }
  REQUIRE(error);
  CHECK(*error == S3Error::kExists);
  CHECK(requests == 1);
}

TEST_CASE("requests of one thread reuse its connection, other threads have their own",
          "[s3_client]") {
  ScriptedStore store;
  std::mutex mutex;
  std::vector<int> ports;
  store.server.Get("/bucket/k", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mutex);
    ports.push_back(req.remote_port);
    res.set_content("hello", "application/octet-stream");
  });
  store.Start();
  S3Client client = store.Client();
  REQUIRE(client.Head("k"));
  REQUIRE(client.Head("k"));
  auto source = client.GetRange("k", 0, 5);
  char buffer[8];
  REQUIRE(source->Read(buffer, sizeof buffer) == 5);
  bool other_thread_ok = false;
  std::thread([&] { other_thread_ok = client.Head("k").has_value(); }).join();
  REQUIRE(other_thread_ok);
  std::lock_guard<std::mutex> lock(mutex);
  REQUIRE(ports.size() == 4);
  CHECK(ports[1] == ports[0]);
  CHECK(ports[2] == ports[0]);
  CHECK(ports[3] != ports[0]);
}
