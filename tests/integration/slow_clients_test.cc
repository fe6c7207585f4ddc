// Slow clients never freeze the service (issue 8, item 1): with 2 x (threads + 4) slow
// connections of every kind — unauthenticated login bodies and token-authenticated lock and data
// uploads that trickle, and large downloads read at a trickle or never — open at once, behind nginx
// and behind Apache, the version and a password login still answer within a second. And the worker
// itself cuts a trickling body and a stalled response, so even its last thread comes back.
#include <httplib.h>
#include <sodium.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "fcgi_client.h"
#include "harness.h"
#include "http_client.h"
#include "raw_connection.h"

using namespace tessera::testing;
using namespace std::chrono_literals;

namespace {

constexpr int kThreads = 4;                   // the harness's worker threads
constexpr int kPerKind = 2 * (kThreads + 4);  // slow connections of each kind
constexpr const char* kSlowLoginAddress = "127.0.0.2";

std::string PostHead(const std::string& path, const std::string& type, std::size_t length,
                     const std::string& token) {
  return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: " + type +
         "\r\nContent-Length: " + std::to_string(length) + "\r\n" +
         (token.empty() ? "" : "Authorization: Bearer " + token + "\r\n") + "\r\n";
}

// Every kind of slow client, kPerKind of each, against the web server on `port`; the uploads
// trickle one byte per second, and the trickling readers take 512 bytes per second, from a
// background thread until the object goes. Locks are uploaded with a read-only token (any token
// may write a lock), the rest with `token` (read and write).
class SlowClients {
 public:
  SlowClients(int port, const std::string& token, const std::string& read_token,
              const std::string& big_object) {
    for (int i = 0; i < kPerKind; ++i) {
      // An unauthenticated login whose body never completes, from another client address than
      // the logins checked below: behind Apache each holds a thread while its body trickles,
      // and one address holds at most a tenant's share of them (auth/fair_share.h).
      Trickle(port,
              PostHead("/api2/json/access/ticket", "application/x-www-form-urlencoded", 4096, ""),
              "username=alice%40pbs&password=", kSlowLoginAddress);
      // Token-authenticated uploads of a lock and of a data pack, trickling.
      Trickle(port,
              PostHead("/backup/laptop/locks/" + Sha256Hex("lock" + std::to_string(i)),
                       "application/octet-stream", 4096, read_token),
              "{");
      Trickle(port,
              PostHead("/backup/laptop/data/" + Sha256Hex("pack" + std::to_string(i)),
                       "application/octet-stream", 16 << 20, token),
              "x");
      // Downloads of tens of MiB, one never read and one read at a trickle.
      std::string get = "GET /backup/laptop/data/" + big_object +
                        " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + "Authorization: Bearer " + token +
                        "\r\n\r\n";
      for (auto* list : {&stalled_, &slow_readers_}) {
        auto reader = std::make_unique<RawConnection>(port, 4096);
        reader->Send(get);
        list->push_back(std::move(reader));
      }
    }
    trickler_ = std::thread([this] {
      while (!stop_) {
        for (auto& c : trickling_) c->Send("a");
        for (auto& c : slow_readers_) c->ReadSome(512);
        ++passes_;
        for (int i = 0; i < 10 && !stop_; ++i) std::this_thread::sleep_for(100ms);
      }
    });
  }
  ~SlowClients() {
    stop_ = true;
    trickler_.join();
  }

  // Whether the slow clients hold what they are here to hold: at least kPerKind connections
  // to the worker (its FastCGI socket `worker_socket`; both web servers pass the data uploads
  // on as they arrive), and bytes of every unread download waiting at the client.
  bool Settled(const std::string& worker_socket) const {
    for (const auto& c : stalled_)
      if (c->Pending() == 0) return false;
    // `ss -xH state connected`: netid, state, Recv-Q, Send-Q, local address (the socket's path
    // on the worker's side), ...
    RunResult ss = Run({"ss", "-xH", "state", "connected"});
    if (ss.status != 0) throw std::runtime_error("ss failed: " + ss.output);
    std::istringstream lines(ss.output);
    int held = 0;
    for (std::string line; std::getline(lines, line);) {
      std::istringstream fields(line);
      std::string netid, state, recv_q, send_q, local;
      if (fields >> netid >> state >> recv_q >> send_q >> local && local == worker_socket) ++held;
    }
    return held >= kPerKind;
  }
  // Passes the trickling thread has made (one a second).
  int passes() const { return passes_.load(); }

 private:
  void Trickle(int port, const std::string& head, const std::string& first,
               const char* source = "127.0.0.1") {
    auto c = std::make_unique<RawConnection>(port, 0, source);
    c->Send(head + first);
    trickling_.push_back(std::move(c));
  }

  std::vector<std::unique_ptr<RawConnection>> trickling_;
  std::vector<std::unique_ptr<RawConnection>> stalled_;
  std::vector<std::unique_ptr<RawConnection>> slow_readers_;
  std::atomic<bool> stop_{false};
  std::atomic<int> passes_{0};
  std::thread trickler_;
};

// The version and a password login through the web server on `port`, each within a second, in
// three rounds; `between_rounds` runs between them.
void CheckAnswersWithinASecond(int port, const std::function<void()>& between_rounds) {
  CheckedClient c("127.0.0.1", port);
  c.set_connection_timeout(5, 0);
  c.set_read_timeout(5, 0);
  for (int round = 0; round < 3; ++round) {
    INFO("round " << round);
    auto start = std::chrono::steady_clock::now();
    auto version = c.Get("/api2/json/version");
    auto took = std::chrono::steady_clock::now() - start;
    REQUIRE(version);
    CHECK(version->status == 200);
    CHECK(took < 1s);

    start = std::chrono::steady_clock::now();
    auto login = c.Post("/api2/json/access/ticket", "username=alice%40pbs&password=pw",
                        "application/x-www-form-urlencoded");
    took = std::chrono::steady_clock::now() - start;
    REQUIRE(login);
    CHECK(login->status == 200);
    CHECK(took < 1s);
    if (round < 2) between_rounds();
  }
}

// After the slow clients are gone: health and a complete upload and download work.
void CheckHealthy(BackupStack& b, int port, const std::string& token) {
  CheckedClient c("127.0.0.1", port);
  c.set_read_timeout(10, 0);
  c.set_bearer_token_auth(token.c_str());
  auto health = c.Get("/api2/json/health");
  REQUIRE(health);
  CHECK(health->status == 200);
  std::string blob = RandomBytes(100000);
  std::string path = "/backup/laptop/data/" + Sha256Hex(blob);
  auto put = c.Post(path, blob, "application/octet-stream");
  REQUIRE(put);
  CHECK(put->status == 200);
  auto get = c.Get(path);
  REQUIRE(get);
  CHECK(get->body == blob);
  CHECK(b.stack->worker().process().Running());
}

// A repository with one object of `size` bytes; returns its name.
std::string PrepareRepository(BackupStack& b, const std::string& token, std::size_t size) {
  CheckedClient c = b.Client(token);
  REQUIRE(c.Post("/backup/laptop/?create=true", "", "application/octet-stream")->status == 200);
  std::string big = RandomBytes(size);
  std::string name = Sha256Hex(big);
  REQUIRE(c.Post("/backup/laptop/data/" + name, big, "application/octet-stream")->status == 200);
  return name;
}

// `logins_reach_worker`: the web server passes login bodies on as they arrive (Apache), so the
// slow logins hold worker threads — as many as one client address's share, and no more.
void RunSlowClients(BackupStack& b, int port, bool logins_reach_worker) {
  std::string token = b.Mint("alice@pbs", {"--read", "--write"});
  std::string read_token = b.Mint("alice@pbs", {"--read"});
  std::string big = PrepareRepository(b, token, 40 << 20);
  {
    SlowClients slow(port, token, read_token, big);
    // Uploads reach the worker, downloads back up.
    REQUIRE(Eventually([&] { return slow.Settled(b.stack->worker().socket()); }, 10s));
    // Each round after the slow clients have trickled once more.
    CheckAnswersWithinASecond(port, [&] {
      int passes = slow.passes();
      REQUIRE(Eventually([&] { return slow.passes() > passes; }, 5s));
    });
    if (logins_reach_worker) {
      // The slow logins' address holds its whole share: its next login is refused at once.
      std::string body = "username=alice%40pbs&password=pw";
      RawConnection login(port, 0, kSlowLoginAddress);
      login.Send(PostHead("/api2/json/access/ticket", "application/x-www-form-urlencoded",
                          body.size(), "") +
                 body);
      CHECK(Eventually([&] { return login.Receive().size() > 12; }, 5s));
      CHECK(login.Status() == 429);
    }
  }
  CheckHealthy(b, port, token);
}

}  // namespace

TEST_CASE("slow uploads, logins and downloads behind nginx never freeze the service", "[slow]") {
  BackupStack b;
  RunSlowClients(b, b.stack->port(), false);
}

TEST_CASE("slow uploads, logins and downloads behind Apache never freeze the service", "[slow]") {
  BackupStack b;
  Apache apache(b.stack->dir(), b.stack->worker().socket(), b.stack->storage_dir());
  RunSlowClients(b, apache.port(), true);
}

// With a single thread and no room to grow, only the worker's own deadlines can free it: a body
// that trickles in, and a response nobody reads, are cut after io_timeout.
TEST_CASE("the worker cuts a trickling body and an unread response", "[slow]") {
  BackupStack b("threads = 1\nmax_threads = 1\ndatabase_connections = 1\nio_timeout = 2\n");
  std::string token = b.Mint("alice@pbs", {"--read", "--write"});
  std::string big = PrepareRepository(b, token, 8 << 20);
  auto version_answers_within_a_second = [&] {
    CheckedClient c = b.stack->Client();
    c.set_read_timeout(5, 0);
    auto start = std::chrono::steady_clock::now();
    auto v = c.Get("/api2/json/version");
    REQUIRE(v);
    CHECK(v->status == 200);
    CHECK(std::chrono::steady_clock::now() - start < 1s);
  };
  auto params = [&](const std::string& method, const std::string& uri, std::size_t length) {
    return std::vector<std::pair<std::string, std::string>>{
        {"REQUEST_METHOD", method},
        {"REQUEST_URI", uri},
        {"CONTENT_TYPE", "application/octet-stream"},
        {"CONTENT_LENGTH", std::to_string(length)},
        {"HTTP_AUTHORIZATION", "Bearer " + token},
        {"REMOTE_ADDR", "127.0.0.1"}};
  };

  SECTION("a body trickling one byte every 200 ms") {
    FcgiClient upload(b.stack->worker().socket());
    upload.Begin(params("POST", "/backup/laptop/data/" + Sha256Hex("never"), 100000));
    upload.SetReadTimeout(100);
    auto start = std::chrono::steady_clock::now();
    std::string answer;
    while (std::chrono::steady_clock::now() - start < 10s) {
      bool closed = false;
      try {
        upload.Stdin("a");
      } catch (const std::exception&) {
        closed = true;  // the worker has answered and closed the connection
      }
      try {
        answer = upload.ReadResponse();
        break;
      } catch (const std::exception&) {
        if (closed) break;
      }
      std::this_thread::sleep_for(100ms);
    }
    auto cut_after = std::chrono::steady_clock::now() - start;
    CHECK(cut_after > 1500ms);
    CHECK(cut_after < 4s);
    CHECK(answer.rfind("Status: 400", 0) == 0);
    version_answers_within_a_second();
    CHECK(b.stack->worker().Log().find("request body cut after") != std::string::npos);
  }

  SECTION("a download nobody reads") {
    FcgiClient download(b.stack->worker().socket());
    download.SetReceiveBuffer(4096);
    download.Begin(params("GET", "/backup/laptop/data/" + big, 0));
    download.Stdin("");
    // Cut after io_timeout (2 s): then the one thread is free again.
    CHECK(Eventually(
        [&] { return b.stack->worker().Log().find("response cut after") != std::string::npos; },
        10s));
    version_answers_within_a_second();
    CHECK(b.stack->worker().Log().find("response cut after") != std::string::npos);
  }
}
