#include "http/percent.h"

#include "encoding/hex.h"

namespace tessera::http {
namespace {
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::expected<std::string, PercentError> PercentDecode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) {
        return std::unexpected(PercentError::kBadEscape);
      }
      int hi = HexValue(text[i + 1]);
      int lo = HexValue(text[i + 2]);
      if (hi < 0 || lo < 0) return std::unexpected(PercentError::kBadEscape);
      char decoded = static_cast<char>(hi * 16 + lo);
      if (decoded == '\0') return std::unexpected(PercentError::kNulByte);
      out.push_back(decoded);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else if (c == '\0') {
      return std::unexpected(PercentError::kNulByte);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string PercentEncode(std::string_view text, bool (*keep)(char)) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (keep(text[i])) {
      out.push_back(text[i]);
    } else {
      out.push_back('%');
      encoding::AppendHex(out, text.substr(i, 1), encoding::HexCase::kUpper);
    }
  }
  return out;
}

}  // namespace tessera::http
