#include "encoding/hex.h"

#include <sodium.h>

namespace tessera::encoding {

void AppendHex(std::string& out, std::span<const unsigned char> bytes, HexCase letters) {
  const std::size_t at = out.size();
  // sodium_bin2hex writes a terminating NUL after the digits: room for it, then it goes.
  out.resize(at + bytes.size() * 2 + 1);
  sodium_bin2hex(out.data() + at, bytes.size() * 2 + 1, bytes.data(), bytes.size());
  out.pop_back();
  if (letters == HexCase::kUpper) {
    for (std::size_t i = at; i < out.size(); ++i)
      if (out[i] >= 'a' && out[i] <= 'f') out[i] = static_cast<char>(out[i] - 'a' + 'A');
  }
}

void AppendHex(std::string& out, std::string_view bytes, HexCase letters) {
  AppendHex(out, {reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()}, letters);
}

std::string Hex(std::span<const unsigned char> bytes, HexCase letters) {
  std::string out;
  AppendHex(out, bytes, letters);
  return out;
}

std::string Hex(std::string_view bytes, HexCase letters) {
  std::string out;
  AppendHex(out, bytes, letters);
  return out;
}

}  // namespace tessera::encoding
