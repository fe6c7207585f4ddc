#include "metrics/text_format.h"

#include <charconv>
#include <cmath>

namespace tessera::metrics {
namespace {

// `quote`: also '"' (label values; HELP text keeps it).
void AppendEscaped(std::string& out, std::string_view text, bool quote) {
  for (char c : text) {
    if (c == '\\') {
      out.append("\\\\");
    } else if (c == '\n') {
      out.append("\\n");
    } else if (quote && c == '"') {
      out.append("\\\"");
    } else {
      out.push_back(c);
    }
  }
}

}  // namespace

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  AppendEscaped(out, value, /*quote=*/true);
  return out;
}

std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char text[32];
  auto [end, ec] = std::to_chars(text, text + sizeof text, value);
  if (ec != std::errc()) return "NaN";  // cannot happen: 32 bytes hold any double
  return std::string(text, end);
}

void TextWriter::Family(std::string_view name, std::string_view type, std::string_view help) {
  text_.append("# HELP ").append(name).push_back(' ');
  AppendEscaped(text_, help, /*quote=*/false);
  text_.append("\n# TYPE ").append(name).push_back(' ');
  text_.append(type).push_back('\n');
}

void TextWriter::Head(std::string_view name, const Labels& labels) {
  text_.append(name);
  if (!labels.empty()) {
    text_.push_back('{');
    bool first = true;
    for (const auto& [label, value] : labels) {
      if (!first) text_.push_back(',');
      first = false;
      text_.append(label).append("=\"");
      AppendEscaped(text_, value, /*quote=*/true);
      text_.push_back('"');
    }
    text_.push_back('}');
  }
  text_.push_back(' ');
}

void TextWriter::Sample(std::string_view name, const Labels& labels, std::uint64_t value) {
  Head(name, labels);
  text_.append(std::to_string(value)).push_back('\n');
}

void TextWriter::Sample(std::string_view name, const Labels& labels, double value) {
  Head(name, labels);
  text_.append(FormatValue(value)).push_back('\n');
}

}  // namespace tessera::metrics
