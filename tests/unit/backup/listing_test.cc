#include "backup/listing.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <vector>

using namespace tessera::backup;

namespace {

// The i-th object name: 64 hex digits, unique per i.
std::string Name(int i) {
  char hex[65];
  std::snprintf(hex, sizeof hex, "%064x", i);
  return hex;
}

// A lister over a fixed list that counts how often it is asked and can fail after some entries.
class FakeLister final : public ObjectLister {
 public:
  FakeLister(std::vector<ObjectInfo> objects, int* calls, int fail_after = -1)
      : objects_(std::move(objects)), calls_(calls), fail_after_(fail_after) {}
  std::expected<std::optional<ObjectInfo>, StorageError> Next() override {
    ++*calls_;
    if (fail_after_ >= 0 && next_ == static_cast<std::size_t>(fail_after_)) {
      return std::unexpected(StorageError::kIo);
    }
    if (next_ == objects_.size()) return std::optional<ObjectInfo>{};
    return std::optional<ObjectInfo>{objects_[next_++]};
  }

 private:
  std::vector<ObjectInfo> objects_;
  int* calls_;
  int fail_after_;
  std::size_t next_ = 0;
};

std::vector<ObjectInfo> Objects(int n) {
  std::vector<ObjectInfo> out;
  for (int i = 0; i < n; ++i) out.push_back({Name(i), static_cast<std::uint64_t>(i) * 1000});
  return out;
}

// Reads the whole source `chunk` bytes at a time; nullopt if it failed.
std::optional<std::string> ReadAll(ListingSource& source, std::size_t chunk) {
  std::string out;
  std::vector<char> buffer(chunk);
  while (true) {
    std::ptrdiff_t n = source.Read(buffer.data(), buffer.size());
    if (n < 0) return std::nullopt;
    if (n == 0) return out;
    out.append(buffer.data(), static_cast<std::size_t>(n));
  }
}

}  // namespace

TEST_CASE("listings are the exact v1 and v2 JSON for none, one and many objects") {
  int calls = 0;
  struct Case {
    int count;
    ListFormat format;
    std::string want;
  };
  std::string v1_many = "[", v2_many = "[";
  for (int i = 0; i < 300; ++i) {
    if (i) v1_many += ",", v2_many += ",";
    v1_many += "\"" + Name(i) + "\"";
    v2_many += "{\"name\":\"" + Name(i) + "\",\"size\":" + std::to_string(i * 1000) + "}";
  }
  v1_many += "]";
  v2_many += "]";
  const Case cases[] = {
      {0, ListFormat::kV1, "[]"},
      {0, ListFormat::kV2, "[]"},
      {1, ListFormat::kV1, "[\"" + Name(0) + "\"]"},
      {1, ListFormat::kV2, "[{\"name\":\"" + Name(0) + "\",\"size\":0}]"},
      {300, ListFormat::kV1, v1_many},
      {300, ListFormat::kV2, v2_many},
  };
  for (const Case& c : cases) {
    for (std::size_t chunk :
         {std::size_t{1}, std::size_t{7}, std::size_t{64}, std::size_t{256 * 1024}}) {
      INFO(c.count << " objects, v" << (c.format == ListFormat::kV1 ? 1 : 2) << ", reads of "
                   << chunk);
      ListingSource source(std::make_unique<FakeLister>(Objects(c.count), &calls), c.format);
      auto got = ReadAll(source, chunk);
      REQUIRE(got);
      CHECK(*got == c.want);
      CHECK(source.Read(nullptr, 0) == 0);
    }
  }
}

TEST_CASE("a listing pulls the next object only when the previous one has been read") {
  // Bounded memory by construction: at any moment the source holds at most one formatted entry,
  // whatever the repository holds. Read a byte at a time and watch the lister.
  for (ListFormat format : {ListFormat::kV1, ListFormat::kV2}) {
    int calls = 0;
    ListingSource source(std::make_unique<FakeLister>(Objects(1000), &calls), format);
    std::string out;
    char c;
    std::size_t max_ahead = 0;
    while (source.Read(&c, 1) == 1) {
      out.push_back(c);
      // Entries begun in the output: v1 entries are quoted names, v2 entries objects.
      std::size_t begun =
          format == ListFormat::kV1
              ? static_cast<std::size_t>((std::count(out.begin(), out.end(), '"') + 1) / 2)
              : static_cast<std::size_t>(std::count(out.begin(), out.end(), '{'));
      std::size_t pulled = static_cast<std::size_t>(calls);
      max_ahead = std::max(max_ahead, pulled > begun ? pulled - begun : 0);
      REQUIRE(pulled <= begun + 1);
    }
    CHECK(calls == 1001);
    CHECK(max_ahead == 1);  // only the final "no more" (which produces ']') is ahead of the output
  }
}

TEST_CASE("a lister failure cuts the listing instead of completing it") {
  for (std::size_t chunk : {std::size_t{1}, std::size_t{256 * 1024}}) {
    int calls = 0;
    ListingSource source(std::make_unique<FakeLister>(Objects(10), &calls, 5), ListFormat::kV1);
    std::string out;
    std::vector<char> buffer(chunk);
    std::ptrdiff_t n;
    while ((n = source.Read(buffer.data(), buffer.size())) > 0)
      out.append(buffer.data(), static_cast<std::size_t>(n));
    CHECK(n == -1);
    CHECK(out.find(']') == std::string::npos);
    CHECK(source.Read(buffer.data(), buffer.size()) == -1);
  }
}

TEST_CASE("a lister handing out a name that is not an object name fails the listing") {
  int calls = 0;
  ListingSource source(
      std::make_unique<FakeLister>(std::vector<ObjectInfo>{{"bad\"name", 1}}, &calls),
      ListFormat::kV1);
  CHECK_FALSE(ReadAll(source, 64));
}
