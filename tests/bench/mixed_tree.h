// A generated tree of mixed file sizes for the restic benchmarks built into integration_tests
// (tests/bench/s3-path, tests/bench/failover): what a home directory's backup sees.
#pragma once

#include <cstdint>
#include <string>

namespace tessera::testing {

// Writes `mib` MiB below `root`: 3 small files (1 to 16 KiB) per MiB, then files of 64 KiB to
// 4 MiB, half random and half text, in nested folders. Every call makes fresh random data.
// Throws std::filesystem::filesystem_error if a folder cannot be made.
void MakeMixedTree(const std::string& root, std::uint64_t mib);

}  // namespace tessera::testing
