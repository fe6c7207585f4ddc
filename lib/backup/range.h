// A single HTTP byte range (RFC 9110 section 14.1.2): "bytes=a-b", "bytes=a-", "bytes=-n".
// restic sends one on every GET. Several ranges, or another unit, are not supported: the header
// is then ignored and the whole object is sent (as RFC 9110 allows).
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string_view>

namespace tessera::backup {

struct ByteRange {
  std::uint64_t offset;
  std::uint64_t length;
};

// What to send of an object: `bytes`, and whether that is the range asked for (206) or the
// whole object (200: no Range header, or one that is ignored).
struct ResolvedRange {
  ByteRange bytes;
  bool partial = false;
};

enum class RangeError {
  kUnsatisfiable,  // 416: the range starts past the end, asks for no bytes, or the object is empty
};

// Resolves `header` (empty when there is none) against an object of `size` bytes. Pure.
std::expected<ResolvedRange, RangeError> ResolveRange(std::string_view header, std::uint64_t size);

}  // namespace tessera::backup
