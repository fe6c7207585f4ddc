// The Prometheus text exposition format, version 0.0.4 ("Text-based format" in
// https://prometheus.io/docs/instrumenting/exposition_formats/), which /metrics answers:
//
//   # HELP tessera_blob_read_total Objects read, by account, repository and type.
//   # TYPE tessera_blob_read_total counter
//   tessera_blob_read_total{account="alice@pbs",repo="laptop",type="data"} 42
//
// Every family is one HELP and one TYPE line followed by its samples. In a label value '\' is
// written \\, '"' is \" and a line feed is \n; every other byte (UTF-8 included) stays as it is,
// so no value can end its quotes or its line. HELP text escapes '\' and line feeds the same way.
// Metric and label names are the caller's constants ([a-zA-Z_:][a-zA-Z0-9_:]*), never input.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tessera::metrics {

inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

// A label value escaped for the space between its quotes. Thread-safe.
std::string EscapeLabelValue(std::string_view value);
// A sample value in the shortest form that reads back the same ("1", "0.005", "1e+21"),
// infinities as +Inf and -Inf, NaN as NaN. Thread-safe.
std::string FormatValue(double value);

using Labels = std::vector<std::pair<std::string_view, std::string_view>>;

// Builds one exposition. Not thread-safe; one per scrape.
class TextWriter {
 public:
  // Starts a family: its HELP and TYPE lines. `type` is counter, gauge or histogram.
  void Family(std::string_view name, std::string_view type, std::string_view help);
  // One sample line: `name{labels} value` (no braces without labels).
  void Sample(std::string_view name, const Labels& labels, std::uint64_t value);
  void Sample(std::string_view name, const Labels& labels, double value);

  const std::string& text() const { return text_; }

 private:
  void Head(std::string_view name, const Labels& labels);

  std::string text_;
};

}  // namespace tessera::metrics
