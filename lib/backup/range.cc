#include "backup/range.h"

#include <charconv>
#include <optional>

namespace tessera::backup {
namespace {
std::optional<std::uint64_t> Number(std::string_view s) {
  std::uint64_t n = 0;
  if (s.empty() || s.size() > 19) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return n;
}
}  // namespace

std::expected<ResolvedRange, RangeError> ResolveRange(std::string_view header, std::uint64_t size) {
  const ResolvedRange whole{{0, size}, false};
  if (!header.starts_with("bytes=")) return whole;
  std::string_view spec = header.substr(6);
  if (spec.find(',') != std::string_view::npos) return whole;
  std::size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return whole;
  std::string_view first = spec.substr(0, dash), last = spec.substr(dash + 1);
  if (first.empty()) {  // suffix: the last n bytes
    auto n = Number(last);
    if (!n) return whole;
    if (*n == 0 || size == 0) return std::unexpected(RangeError::kUnsatisfiable);
    std::uint64_t length = *n < size ? *n : size;
    return ResolvedRange{{size - length, length}, true};
  }
  auto a = Number(first);
  if (!a) return whole;
  std::optional<std::uint64_t> b;
  if (!last.empty()) {
    b = Number(last);
    if (!b || *b < *a) return whole;
  }
  if (*a >= size) return std::unexpected(RangeError::kUnsatisfiable);
  std::uint64_t end = !b || *b >= size ? size - 1 : *b;
  return ResolvedRange{{*a, end - *a + 1}, true};
}

}  // namespace tessera::backup
