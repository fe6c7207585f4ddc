// The chaos run in the suite (issue 22, item 4; chaos.h): three restic clients back up, forget,
// prune, check and restore through two workers behind one nginx while workers are killed,
// PostgreSQL restarts and database connections drop, for TESSERA_CHAOS_SECONDS (default 60) on
// the filesystem storage; then everything restic and the books say is checked. A failure prints
// the seed; TESSERA_CHAOS_SEED=<seed> replays its plan. tests/bench/chaos runs it for longer.
#include "chaos.h"

#include <catch2/catch.hpp>
#include <cstdlib>

using namespace tessera::testing;

TEST_CASE(
    "chaos: restic stays whole and the books exact while workers, PostgreSQL and "
    "connections fail",
    "[chaos]") {
  ChaosOptions options;
  options.seed = ChaosSeed();
  if (const char* s = std::getenv("TESSERA_CHAOS_SECONDS"); s != nullptr && std::atoi(s) > 0)
    options.duration = std::chrono::seconds(std::atoi(s));
  RunChaos(options);
}
