#include "config/config.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>

using tessera::config::Parse;

TEST_CASE("config reads keys, comments and quoted values") {
  auto c = Parse(
      "# a comment\n"
      "listen = /run/tessera.sock   # trailing comment\n"
      "threads=8\n"
      "\n"
      "database = 'host=/tmp dbname=x # not a comment'\n"
      "socket_mode = 0666\n");
  REQUIRE(c);
  CHECK(c->listen == "/run/tessera.sock");
  CHECK(c->threads == 8);
  CHECK(c->database == "host=/tmp dbname=x # not a comment");
  CHECK(c->socket_mode == 0666u);
}

TEST_CASE("config defaults apply to keys not given") {
  auto c = Parse("");
  REQUIRE(c);
  CHECK(c->listen == "fd:0");
  CHECK(c->threads == 4);
  CHECK(c->auth_cache_entries == 32768);
}

TEST_CASE("config bounds the session cache by entries") {
  auto c = Parse("auth_cache_entries = 100\n");
  REQUIRE(c);
  CHECK(c->auth_cache_entries == 100);
  CHECK_FALSE(Parse("auth_cache_entries = 0\n"));
  CHECK_FALSE(Parse("auth_cache_entries = 16777217\n"));
  CHECK(Parse("auth_cache_entries = 16777216\n"));
}

TEST_CASE("config lists who may read /metrics besides loopback") {
  auto c = Parse("metrics_allow = 192.0.2.0/24, 2001:db8::/48\n");
  REQUIRE(c);
  CHECK(c->metrics_allow == std::vector<std::string>{"192.0.2.0/24", "2001:db8::/48"});
  auto none = Parse("metrics_allow =\n");
  REQUIRE(none);
  CHECK(none->metrics_allow.empty());
  CHECK(Parse("")->metrics_allow.empty());
  CHECK_FALSE(Parse("metrics_allow = 192.0.2.0/24,,10.0.0.0/8\n"));
}

TEST_CASE("config errors name the line") {
  struct Case {
    const char* text;
    int line;
    const char* fragment;
  };
  const Case cases[] = {
      {"threads = 4\nbogus = 1\n", 2, "unknown key"},
      {"threads = 4\nthreads = 5\n", 2, "set twice"},
      {"threads = many\n", 1, "invalid value"},
      {"threads = 0\n", 1, "invalid value"},
      {"threads = 4x\n", 1, "invalid value"},
      {"just words\n", 1, "key = value"},
      {"database = 'open\n", 1, "unterminated"},
      {"database = 'a' b\n", 1, "after a quoted"},
      {"socket_mode = 0999\n", 1, "invalid value"},
      {"log_level = loud\n", 1, "invalid value"},
      // S3 settings that cannot work (line 0: about the settings together).
      {"storage = /var/lib/tessera\n", 1, "invalid value"},
      {"storage = s3://b1\ns3_endpoint = ftp://x\n", 2, "invalid value"},
      {"s3_region = EU West\n", 1, "invalid value"},
      {"s3_addressing = dns\n", 1, "invalid value"},
      {"storage = s3://b1\nstorage_dir = /srv\ns3_endpoint = http://h\n", 0, "not both"},
      {"storage = s3://b1\n", 0, "needs `s3_endpoint`"},
      {"s3_endpoint = http://h\n", 0, "need `storage"},
      {"s3_credentials = /etc/x\n", 0, "need `storage"},
      {"storage = s3://b1\ns3_endpoint = http://h\nmax_object_bytes = 5368709121\n", 0,
       "above 5 GiB"},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    auto r = Parse(c.text);
    REQUIRE_FALSE(r);
    CHECK(r.error().line == c.line);
    CHECK(r.error().message.find(c.fragment) != std::string::npos);
  }
}

TEST_CASE("S3 storage is configured by storage = s3:// and the s3_ settings") {
  auto c = Parse(
      "storage = s3://backups/tessera\n"
      "s3_endpoint = https://s3.eu-west-1.amazonaws.com\n"
      "s3_region = eu-west-1\n"
      "s3_credentials = /etc/tessera/s3.credentials\n"
      "s3_addressing = virtual\n");
  REQUIRE(c);
  CHECK(c->storage == "s3://backups/tessera");
  CHECK(c->s3_endpoint == "https://s3.eu-west-1.amazonaws.com");
  CHECK(c->s3_region == "eu-west-1");
  CHECK(c->s3_credentials == "/etc/tessera/s3.credentials");
  CHECK(c->s3_virtual_hosted);
  auto defaults = Parse("storage = s3://backups\ns3_endpoint = http://127.0.0.1:7480\n");
  REQUIRE(defaults);
  CHECK(defaults->s3_region == "us-east-1");
  CHECK_FALSE(defaults->s3_virtual_hosted);
  CHECK(defaults->s3_credentials.empty());
}

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    std::string templ = (std::filesystem::temp_directory_path() / "tessera-config-XXXXXX").string();
    REQUIRE(mkdtemp(templ.data()) != nullptr);
    path = templ;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

// `size` bytes of comment lines.
std::string Comments(std::size_t size) {
  std::string text(size, '#');
  for (std::size_t at = 99; at < size; at += 100) text[at] = '\n';
  return text;
}

}  // namespace

TEST_CASE("a config file of up to 1 MiB loads, one byte more does not") {
  using tessera::config::kMaxConfigBytes;
  using tessera::config::Load;
  TempDir dir;
  std::ofstream(dir.path + "/full.conf", std::ios::binary) << Comments(kMaxConfigBytes);
  std::ofstream(dir.path + "/over.conf", std::ios::binary) << Comments(kMaxConfigBytes + 1);
  CHECK(Load(dir.path + "/full.conf"));
  auto over = Load(dir.path + "/over.conf");
  REQUIRE_FALSE(over);
  CHECK(over.error().message.ends_with("is larger than 1 MiB"));
  CHECK(Load(dir.path + "/missing.conf").error().message.starts_with("cannot read"));
}

TEST_CASE("a config that never ends is refused after the cap, not read to its end") {
  using tessera::config::kMaxConfigBytes;
  using tessera::config::Load;
  TempDir dir;
  const std::string fifo = dir.path + "/endless.conf";
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  // The writer sends one byte more than the cap, then holds the FIFO open (no end of file)
  // until the load has returned, or for 10 s: a Load that waits for the end returns only then.
  std::mutex mutex;
  std::condition_variable loaded_cv;
  bool loaded = false;
  std::atomic<bool> closed_first{false};
  std::thread writer([&] {
    int fd = open(fifo.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return;
    std::string bytes = Comments(kMaxConfigBytes + 1);
    for (std::size_t at = 0; at < bytes.size();) {
      ssize_t n = write(fd, bytes.data() + at, bytes.size() - at);
      if (n <= 0) break;
      at += static_cast<std::size_t>(n);
    }
    std::unique_lock lock(mutex);
    if (!loaded_cv.wait_for(lock, std::chrono::seconds(10), [&] { return loaded; }))
      closed_first = true;
    close(fd);
  });
  auto result = Load(fifo);
  {
    std::lock_guard lock(mutex);
    loaded = true;
  }
  loaded_cv.notify_all();
  writer.join();
  CHECK_FALSE(closed_first);
  REQUIRE_FALSE(result);
  CHECK(result.error().message.ends_with("is larger than 1 MiB"));
}
