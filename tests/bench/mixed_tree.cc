#include "bench/mixed_tree.h"

#include <sodium.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

namespace tessera::testing {

void MakeMixedTree(const std::string& root, std::uint64_t mib) {
  namespace fs = std::filesystem;
  std::string text;
  while (text.size() < (4u << 20))
    text += "the quick brown fox jumps over the lazy dog 0123456789\n";
  std::string random(4u << 20, '\0');
  const std::uint64_t total = mib << 20;
  const std::size_t sizes[] = {64u << 10, 256u << 10, 1u << 20, 4u << 20};
  std::uint64_t made = 0;
  for (std::uint64_t i = 0; made < total; ++i) {
    std::size_t size =
        i < mib * 3 ? 1024 + randombytes_uniform(15 * 1024) : sizes[randombytes_uniform(4)];
    size = static_cast<std::size_t>(std::min<std::uint64_t>(size, total - made));
    std::string dir = root + "/d" + std::to_string(i % 32) + "/e" + std::to_string(i % 5);
    fs::create_directories(dir);
    std::ofstream out(dir + "/f" + std::to_string(i), std::ios::binary);
    if (i % 2 == 0) {
      randombytes_buf(random.data(), size);
      out.write(random.data(), static_cast<std::streamsize>(size));
    } else {
      out << i;
      out.write(text.data(), static_cast<std::streamsize>(size));
    }
    made += size;
  }
}

}  // namespace tessera::testing
