// The key under which a metrics registry (metrics/registry.h) keeps one label set: each label
// value as its length in decimal, ':' and its bytes, one after the other. So no value can run
// into the next: ("1:x", "") is "3:1:x0:" and ("1", "x") is "1:11:x". The registry makes every
// key with EncodeSeriesKey and reads the values back with DecodeSeriesKey when it is scraped.
//
// Decoding is strict, never throws, and refuses anything EncodeSeriesKey cannot make. Pure and
// thread-safe.
#pragma once

#include <expected>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tessera::metrics {

enum class SeriesKeyError {
  kNoColon,    // a length is not followed by ':'
  kBadLength,  // a length is empty, not decimal digits, has a leading zero or overflows
  kTooShort,   // a value is shorter than its length says
};

std::string EncodeSeriesKey(std::span<const std::string_view> values);

// The values `key` holds, in order (none for an empty key).
[[nodiscard]] std::expected<std::vector<std::string>, SeriesKeyError> DecodeSeriesKey(
    std::string_view key);

}  // namespace tessera::metrics
