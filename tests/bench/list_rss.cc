// Peak memory of streaming a large listing (issue 8, item 18): fills data/00..ff of a repository
// in a temporary directory with N empty objects, then lists it as v2 JSON through ListingSource
// in the worker's 256 KiB pieces, and reports the process's peak RSS before and after the
// listing. Bounded memory shows as a difference that does not grow with N.
// Usage: bench_list_rss [N] [DIR]   (default 1000000 objects in $TMPDIR)
#include <fcntl.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "backup/listing.h"
#include "backup/storage.h"

using namespace tessera::backup;

namespace {
long PeakRssKib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}
}  // namespace

int main(int argc, char** argv) {
  long n = 1000000;
  if (argc > 1) {
    std::string_view arg = argv[1];
    if (std::from_chars(arg.data(), arg.data() + arg.size(), n).ec != std::errc() || n < 0) {
      std::fprintf(stderr, "usage: %s [N] [DIR]\n", argv[0]);
      return 2;
    }
  }
  std::string base = argc > 2 ? argv[2] : std::filesystem::temp_directory_path().string();
  std::string root = base + "/tessera-list-rss-XXXXXX";
  if (mkdtemp(root.data()) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  auto storage = MakeFilesystemStorage(root);
  if (!storage->CreateRepo(AccountId{1}, "big")) return 1;
  std::string data = root + "/1/big/data/";
  char name[65];
  for (long i = 0; i < n; ++i) {
    std::snprintf(name, sizeof name, "%02lx%062lx", i % 256, i);
    std::string path = data + std::string(name, 2) + "/" + name;
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
      std::perror(path.c_str());
      return 1;
    }
    close(fd);
  }
  long before = PeakRssKib();
  auto start = std::chrono::steady_clock::now();
  auto lister = storage->List(AccountId{1}, "big", "data");
  if (!lister) return 1;
  ListingSource source(std::move(*lister), ListFormat::kV2);
  std::vector<char> buffer(256 * 1024);
  std::uint64_t bytes = 0;
  std::ptrdiff_t got;
  while ((got = source.Read(buffer.data(), buffer.size())) > 0)
    bytes += static_cast<std::uint64_t>(got);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  long after = PeakRssKib();
  std::printf(
      "objects %ld, listing %llu bytes in %.2f s, peak RSS %ld KiB before, %ld KiB after (+%ld "
      "KiB)\n",
      n, static_cast<unsigned long long>(bytes), seconds, before, after, after - before);
  std::filesystem::remove_all(root);
  return got < 0 ? 1 : 0;
}
