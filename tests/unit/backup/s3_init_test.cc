// libcurl's global set-up belongs to main, before threads start (backup/s3_init.h): building an
// S3 client must not run it, since a SIGHUP reload may build the first client while request
// threads use libcurl and OpenSSL. This test binary interposes curl_global_init to count calls
// (the static library's references bind to the executable's definition) and hands each on to
// libcurl's own.
#include "backup/s3_init.h"

#include <curl/curl.h>
#include <dlfcn.h>

#include <atomic>
#include <catch2/catch.hpp>

#include "backup/s3_client.h"

namespace {
std::atomic<int> g_global_inits{0};
}  // namespace

extern "C" CURLcode curl_global_init(long flags) {
  ++g_global_inits;
  using Real = CURLcode (*)(long);
  auto real = reinterpret_cast<Real>(dlsym(RTLD_NEXT, "curl_global_init"));
  return real != nullptr ? real(flags) : CURLE_FAILED_INIT;
}

TEST_CASE("building an S3 client leaves libcurl's global set-up to main") {
  using namespace tessera::backup;
  const int before = g_global_inits.load();
  S3ClientOptions options;
  options.endpoint = S3Endpoint{"http", "127.0.0.1", "7480"};
  options.bucket = "b1";
  {
    S3Client first(options, S3Credentials("AK", "secret"));
    S3Client second(options, S3Credentials("AK", "secret"));
  }
  CHECK(g_global_inits.load() == before);
  CHECK(before == 0);  // nothing else in this process did either
  REQUIRE(InitS3Transport());
  CHECK(g_global_inits.load() == before + 1);
}
