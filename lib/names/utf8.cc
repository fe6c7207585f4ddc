#include "names/utf8.h"

namespace tessera::names {

bool IsValidUtf8(std::string_view text) {
  // RFC 3629 section 4:
  //   UTF8-2 = %xC2-DF UTF8-tail
  //   UTF8-3 = %xE0 %xA0-BF UTF8-tail / %xE1-EC 2( UTF8-tail ) /
  //            %xED %x80-9F UTF8-tail / %xEE-EF 2( UTF8-tail )
  //   UTF8-4 = %xF0 %x90-BF 2( UTF8-tail ) / %xF1-F3 3( UTF8-tail ) / %xF4 %x80-8F 2( UTF8-tail )
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  std::size_t n = text.size();
  std::size_t i = 0;
  auto tail = [&](std::size_t at, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
    return at < n && p[at] >= lo && p[at] <= hi;
  };
  while (i < n) {
    unsigned char c = p[i];
    if (c < 0x80) {
      i += 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
      if (!tail(i + 1)) return false;
      i += 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      unsigned char lo = c == 0xE0 ? 0xA0 : 0x80;
      unsigned char hi = c == 0xED ? 0x9F : 0xBF;
      if (!tail(i + 1, lo, hi) || !tail(i + 2)) return false;
      i += 3;
    } else if (c >= 0xF0 && c <= 0xF4) {
      unsigned char lo = c == 0xF0 ? 0x90 : 0x80;
      unsigned char hi = c == 0xF4 ? 0x8F : 0xBF;
      if (!tail(i + 1, lo, hi) || !tail(i + 2) || !tail(i + 3)) return false;
      i += 4;
    } else {
      return false;  // a stray continuation byte, C0/C1 (overlong) or F5..FF
    }
  }
  return true;
}

bool HasControlCharacter(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7F) return true;
    // C1 controls U+0080..U+009F are encoded C2 80..C2 9F.
    if (c == 0xC2 && i + 1 < text.size()) {
      auto next = static_cast<unsigned char>(text[i + 1]);
      if (next >= 0x80 && next <= 0x9F) return true;
    }
  }
  return false;
}

}  // namespace tessera::names
