// The chaos run (issue 22, item 4): several restic clients, each with its own account and
// repository, back up generated trees, forget, prune, check and restore through two workers
// behind one nginx upstream, while the harness breaks things at random points: SIGKILL of a
// worker (started again), a PostgreSQL restart, every database connection dropped or one cut
// after the server ran a chosen statement or stalled for a while (DbProxy), and with S3 storage a
// restart of the RGW gateway. At the end every `restic check --read-data` must be clean, every
// restore equal its source byte for byte, the storage hold no temporary file and no object whose
// bytes do not hash to its name, and `tessera-admin usage check` find the books equal to the
// storage for every account.
//
// Seeded: the seed fixes the trees' bytes, each client's sequence of operations and the faults'
// kinds, targets and times, so a failing seed replays the same plan (the interleaving with the
// processes' own timing is the machine's). The seed comes from TESSERA_CHAOS_SEED when set, else
// at random; the run prints it first, then the faults injected, the operations run and the
// retries seen. The [chaos] test runs it briefly; tests/bench/chaos for as long as asked.
#pragma once

#include <chrono>
#include <cstdint>

#include "harness.h"

namespace tessera::testing {

struct ChaosOptions {
  std::uint64_t seed = 0;
  std::chrono::seconds duration{60};  // of faults and operations, before the final checks
  Backend backend = Backend::kFilesystem;
  int clients = 3;                   // accounts alice, bob, carol: one repository each
  std::size_t tree_bytes = 4 << 20;  // each client's tree, about
};

// TESSERA_CHAOS_SEED if set (a decimal number), else a random one.
std::uint64_t ChaosSeed();

// Runs the chaos and its final checks with Catch2's CHECK/REQUIRE (from the calling thread, which
// must be the test's: it also starts the processes that outlive a fault).
void RunChaos(const ChaosOptions& options);

}  // namespace tessera::testing
