// Fuzz target for what an S3 store answers (lib/backup/s3_xml.h): ListObjectsV2 pages and error
// documents. Besides not crashing, a page that parses keeps the parser's promises: within the
// entry and text limits, and a truncated page always carries its continuation token.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "backup/s3_xml.h"

namespace {
void Require(bool ok) {
  if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tessera::backup;
  std::string_view xml(reinterpret_cast<const char*>(data), size);
  auto page = ParseS3ListPage(xml);
  if (page) {
    Require(page->objects.size() + page->prefixes.size() <= kMaxS3PageEntries);
    Require(!page->truncated || !page->next_token.empty());
    for (const S3ListEntry& e : page->objects) {
      Require(!e.key.empty() && e.key.size() <= kMaxS3TextBytes);
    }
    for (const auto& p : page->prefixes) Require(!p.empty() && p.size() <= kMaxS3TextBytes);
  }
  Require(ParseS3ErrorCode(xml).size() <= kMaxS3TextBytes);
  return 0;
}
