#include "backup/s3_client.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

using namespace tessera::backup;

TEST_CASE("the store's answers map to errors, and only transient ones are retried") {
  struct Case {
    long status;
    const char* code;
    bool ok;
    S3Error error;
    bool transient;
  };
  const Case cases[] = {
      {200, "", true, S3Error::kFailed, false},
      {204, "", true, S3Error::kFailed, false},
      {206, "", true, S3Error::kFailed, false},
      {404, "NoSuchKey", false, S3Error::kNotFound, false},
      {404, "", false, S3Error::kNotFound, false},  // HEAD: no body, no code
      {404, "NoSuchBucket", false, S3Error::kNoBucket, false},
      {412, "PreconditionFailed", false, S3Error::kExists, false},
      {403, "SignatureDoesNotMatch", false, S3Error::kDenied, false},
      {403, "AccessDenied", false, S3Error::kDenied, false},
      {400, "XAmzContentSHA256Mismatch", false, S3Error::kBadContent, false},
      {400, "BadDigest", false, S3Error::kBadContent, false},
      {400, "InvalidArgument", false, S3Error::kFailed, false},
      {411, "MissingContentLength", false, S3Error::kFailed, false},
      {416, "InvalidRange", false, S3Error::kFailed, false},
      {301, "PermanentRedirect", false, S3Error::kFailed, false},
      {408, "RequestTimeout", false, S3Error::kUnavailable, true},
      {429, "", false, S3Error::kUnavailable, true},
      {500, "InternalError", false, S3Error::kUnavailable, true},
      {502, "", false, S3Error::kUnavailable, true},
      {503, "SlowDown", false, S3Error::kUnavailable, true},
      {504, "", false, S3Error::kUnavailable, true},
  };
  for (const auto& c : cases) {
    INFO(c.status << " " << c.code);
    auto verdict = S3VerdictOf(c.status, c.code);
    REQUIRE(verdict.has_value() == !c.ok);
    if (c.ok) continue;
    CHECK(verdict->error == c.error);
    CHECK(verdict->transient == c.transient);
  }
}

// The client against stores on loopback: one that takes connections and never answers (a
// listening socket nobody accepts on), and one scripted with cpp-httplib (which checks no
// signature). The breaker's own rules are in circuit_breaker_test.cc.
namespace {

using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

// A loopback port with a listening socket that never accepts: the kernel completes the
// handshakes, the request is sent, no answer ever comes.
class SilentStore {
 public:
  SilentStore() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(listen(fd_, 64) == 0);
    socklen_t len = sizeof a;
    REQUIRE(getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    port_ = ntohs(a.sin_port);
  }
  ~SilentStore() { close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// A store scripted by its handlers, on a loopback port, serving until destroyed.
struct ScriptedStore {
  ScriptedStore() {
    server.set_keep_alive_timeout(1);  // so that stopping it waits for no idle connection long
    port = server.bind_to_any_port("127.0.0.1");
  }
  void Start() {
    REQUIRE(port > 0);
    thread = std::thread([this] { server.listen_after_bind(); });
    // bind_to_any_port already listens: connections wait in the backlog until it accepts.
  }
  ~ScriptedStore() {
    server.stop();
    if (thread.joinable()) thread.join();
  }
  httplib::Server server;
  int port = 0;
  std::thread thread;
};

S3ClientOptions OptionsFor(int port) {
  S3ClientOptions options;
  options.endpoint = *ParseS3Endpoint("http://127.0.0.1:" + std::to_string(port));
  options.bucket = "bucket";
  options.first_backoff = 100ms;
  return options;
}

double SecondsSince(Steady::time_point start) {
  return std::chrono::duration<double>(Steady::now() - start).count();
}

}  // namespace

TEST_CASE("a HEAD to a store that never answers is cut at the request stall timeout") {
  SilentStore store;
  S3ClientOptions options = OptionsFor(store.port());
  options.request_stall_timeout = 1s;
  options.attempts = 1;
  options.breaker.threshold = 0;
  S3Client client(options, S3Credentials("AKIATEST", "secret"));
  auto start = Steady::now();
  auto head = client.Head("k");
  double took = SecondsSince(start);
  REQUIRE_FALSE(head);
  CHECK(head.error() == S3Error::kUnavailable);
  CHECK(took >= 0.9);
  CHECK(took < 2.5);  // not the 120 s of a streamed transfer, nor the 30 s default
}

TEST_CASE("an operation against a store that never answers ends within its budget") {
  SilentStore store;
  S3ClientOptions options = OptionsFor(store.port());
  options.request_stall_timeout = 1s;
  options.operation_budget = 2500ms;
  options.attempts = 4;  // without the budget: four stalls of 1 s and more, and three pauses
  options.breaker.threshold = 0;
  S3Client client(options, S3Credentials("AKIATEST", "secret"));
  for (std::string_view what : {"HEAD", "LIST"}) {
    INFO(what);
    auto start = Steady::now();
    std::optional<S3Error> error;
    if (what == "HEAD") {
      error = client.Head("k").error();
    } else {
      error = client.List("p/", "/", "").error();
    }
    double took = SecondsSince(start);
    CHECK(error == S3Error::kUnavailable);
    CHECK(took >= 1.9);  // it did try again after the first stall
    CHECK(took < 2.8);   // and gave up at the budget
  }
}

TEST_CASE("streamed transfers waiting on a store that never answers are cut at the stall timeout") {
  // libcurl's own timer of a streamed transfer (120 s) counts our client's pauses too; the time
  // the worker waits on the store alone is cut at request_stall_timeout.
  SilentStore store;
  S3ClientOptions options = OptionsFor(store.port());
  options.request_stall_timeout = 1s;
  options.operation_budget = 2500ms;
  options.breaker.threshold = 0;
  REQUIRE(options.stream_stall_timeout == 120s);
  S3Client client(options, S3Credentials("AKIATEST", "secret"));

  // The body fits in the socket's buffers; the answer never comes.
  auto start = Steady::now();
  auto put = client.Put("k", std::string(1000, 'x'), {});
  double took = SecondsSince(start);
  REQUIRE_FALSE(put);
  CHECK(put.error() == S3Error::kUnavailable);
  CHECK(took < 2.5);

  // A download is tried again within its budget, then fails.
  start = Steady::now();
  auto source = client.GetRange("k", 0, 100);
  char buffer[128];
  CHECK(source->Read(buffer, sizeof buffer) == -1);
  took = SecondsSince(start);
  CHECK(took >= 1.9);
  CHECK(took < 2.8);
}

TEST_CASE("after threshold transient failures the client answers at once without the store") {
  ScriptedStore store;
  std::atomic<int> requests = 0, status = 503;
  auto answer = [&](const httplib::Request&, httplib::Response& res) {
    ++requests;
    res.status = status;
    if (status == 200) res.set_header("Content-Length", "0");
  };
  store.server.Get("/bucket/k", answer);
  store.server.Get("/bucket", answer);
  store.server.Delete("/bucket/k", answer);
  store.server.Put("/bucket/k", answer);
  store.Start();
  tessera::clock::ManualSteadyClock clock;
  S3ClientOptions options = OptionsFor(store.port);
  options.attempts = 2;
  options.first_backoff = 1ms;
  options.breaker.threshold = 3;
  options.breaker.first_cooldown = 2s;
  options.clock = &clock;
  S3Client client(options, S3Credentials("AKIATEST", "secret"));

  // Two tries, then one more that opens it: the second HEAD's retry is not sent.
  CHECK(client.Head("k").error() == S3Error::kUnavailable);
  CHECK(requests == 2);
  CHECK_FALSE(client.breaker().open());
  CHECK(client.Head("k").error() == S3Error::kUnavailable);
  CHECK(requests == 3);
  CHECK(client.breaker().open());
  CHECK(client.breaker().refusals() == 1);  // that HEAD's second try

  // Every kind of request is answered at once, and the store hears none of them.
  auto start = Steady::now();
  CHECK(client.Head("k").error() == S3Error::kUnavailable);
  CHECK(client.List("p/", "/", "").error() == S3Error::kUnavailable);
  CHECK(client.Delete("k").error() == S3Error::kUnavailable);
  CHECK(client.Put("k", "body", {}).error() == S3Error::kUnavailable);
  auto source = client.GetRange("k", 0, 4);
  char buffer[8];
  CHECK(source->Read(buffer, sizeof buffer) == -1);
  CHECK(SecondsSince(start) < 0.1);
  CHECK(requests == 3);
  CHECK(client.breaker().refusals() == 1 + 5);

  // Past the cool-down one probe goes to the store; it fails, and the next cool-down is 4 s.
  clock.Advance(2s);
  CHECK(client.Head("k").error() == S3Error::kUnavailable);
  CHECK(requests == 4);
  CHECK(client.Head("k").error() == S3Error::kUnavailable);
  clock.Advance(2s);
  CHECK(client.Head("k").error() == S3Error::kUnavailable);
  CHECK(requests == 4);

  // The store is back: the next probe (an upload) gets through and closes the breaker.
  status = 200;
  clock.Advance(2s);
  CHECK(client.Put("k", "body", {}));
  CHECK(requests == 5);
  CHECK_FALSE(client.breaker().open());
  CHECK(client.Head("k"));
  CHECK(client.Delete("k"));
  CHECK(requests == 7);
  CHECK(client.breaker().openings() == 1);
}

TEST_CASE("refused connections open the breaker too") {
  int port;
  {
    SilentStore gone;  // a port that was free a moment ago, closed again
    port = gone.port();
  }
  S3ClientOptions options = OptionsFor(port);
  options.attempts = 2;
  options.first_backoff = 1ms;
  options.breaker.threshold = 4;
  S3Client client(options, S3Credentials("AKIATEST", "secret"));
  CHECK(client.Head("k").error() == S3Error::kUnavailable);
  CHECK_FALSE(client.breaker().open());
  CHECK(client.Head("k").error() == S3Error::kUnavailable);
  CHECK(client.breaker().open());
  CHECK(client.Head("k").error() == S3Error::kUnavailable);
  CHECK(client.breaker().refusals() == 1);
}
