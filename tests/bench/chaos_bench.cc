// The long chaos run (tests/bench/chaos runs it; hidden from the test suite): the run of
// tests/integration/chaos.h for CHAOS_BENCH_SECONDS (default 600) on the filesystem storage, then
// (CHAOS_BENCH_S3, default 1) as long again on S3, a bucket of the shared Ceph RGW whose gateway
// is then restarted among the other faults. The seed is TESSERA_CHAOS_SEED's, or random; the S3
// run takes the next one.
#include <catch2/catch.hpp>
#include <cstdlib>

#include "integration/chaos.h"

using namespace tessera::testing;

TEST_CASE("chaos, long: restic and the books through every fault, on disk and on S3",
          "[.bench_chaos]") {
  ChaosOptions options;
  options.seed = ChaosSeed();
  const char* seconds = std::getenv("CHAOS_BENCH_SECONDS");
  options.duration =
      std::chrono::seconds(seconds != nullptr && std::atoi(seconds) > 0 ? std::atoi(seconds) : 600);
  options.tree_bytes = 8 << 20;
  SECTION("filesystem") { RunChaos(options); }
  const char* s3 = std::getenv("CHAOS_BENCH_S3");
  if (s3 == nullptr || std::atoi(s3) != 0) {
    SECTION("S3") {
      options.seed += 1;
      options.backend = Backend::kS3;
      RunChaos(options);
    }
  }
}
