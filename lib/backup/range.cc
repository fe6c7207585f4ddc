#include "backup/range.h"

#include <charconv>

namespace tessera::backup {
namespace {
bool Number(std::string_view s, std::uint64_t* out) {
  if (s.empty() || s.size() > 19) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}
}  // namespace

RangeResult ResolveRange(std::string_view header, std::uint64_t size, ByteRange* out) {
  *out = {0, size};
  if (header.empty()) return RangeResult::kWhole;
  if (!header.starts_with("bytes=")) return RangeResult::kWhole;
  std::string_view spec = header.substr(6);
  if (spec.find(',') != std::string_view::npos) return RangeResult::kWhole;
  std::size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return RangeResult::kWhole;
  std::string_view first = spec.substr(0, dash), last = spec.substr(dash + 1);
  std::uint64_t a = 0, b = 0;
  if (first.empty()) {  // suffix: the last n bytes
    if (!Number(last, &b)) return RangeResult::kWhole;
    if (b == 0 || size == 0) return RangeResult::kUnsatisfiable;
    std::uint64_t n = b < size ? b : size;
    *out = {size - n, n};
    return RangeResult::kPartial;
  }
  if (!Number(first, &a)) return RangeResult::kWhole;
  if (!last.empty() && (!Number(last, &b) || b < a)) return RangeResult::kWhole;
  if (a >= size) return RangeResult::kUnsatisfiable;
  std::uint64_t end = last.empty() || b >= size ? size - 1 : b;
  *out = {a, end - a + 1};
  return RangeResult::kPartial;
}

}  // namespace tessera::backup
