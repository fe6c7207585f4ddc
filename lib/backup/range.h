// A single HTTP byte range (RFC 9110 section 14.1.2): "bytes=a-b", "bytes=a-", "bytes=-n".
// restic sends one on every GET. Several ranges, or another unit, are not supported: the header
// is then ignored and the whole object is sent (as RFC 9110 allows).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace tessera::backup {

struct ByteRange {
  std::uint64_t offset;
  std::uint64_t length;
};

enum class RangeResult { kWhole, kPartial, kUnsatisfiable };

// Resolves `header` against an object of `size` bytes into `out`.
RangeResult ResolveRange(std::string_view header, std::uint64_t size, ByteRange* out);

}  // namespace tessera::backup
