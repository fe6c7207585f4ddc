#include "metrics/series_key.h"

#include <charconv>

namespace tessera::metrics {

std::string EncodeSeriesKey(std::span<const std::string_view> values) {
  std::string key;
  for (std::string_view v : values) key.append(std::to_string(v.size())).append(":").append(v);
  return key;
}

std::expected<std::vector<std::string>, SeriesKeyError> DecodeSeriesKey(std::string_view key) {
  std::vector<std::string> values;
  while (!key.empty()) {
    std::size_t colon = key.find(':');
    if (colon == std::string_view::npos) return std::unexpected(SeriesKeyError::kNoColon);
    std::string_view digits = key.substr(0, colon);
    std::size_t length = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), length);
    if (ec != std::errc() || end != digits.data() + digits.size() ||
        (digits.size() > 1 && digits.front() == '0'))
      return std::unexpected(SeriesKeyError::kBadLength);
    key.remove_prefix(colon + 1);
    if (length > key.size()) return std::unexpected(SeriesKeyError::kTooShort);
    values.emplace_back(key.substr(0, length));
    key.remove_prefix(length);
  }
  return values;
}

}  // namespace tessera::metrics
