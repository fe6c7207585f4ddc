#include "crypto/pae.h"

#include <cstdint>

namespace tessera::crypto {
namespace {
void Le64(std::string& out, std::uint64_t n) {
  n &= 0x7fffffffffffffffULL;
  for (int i = 0; i < 8; ++i) {
    out.push_back(static_cast<char>(n & 0xff));
    n >>= 8;
  }
}
}  // namespace

std::string Pae(std::initializer_list<std::string_view> pieces) {
  std::size_t total = 8;
  for (auto p : pieces) total += 8 + p.size();
  std::string out;
  out.reserve(total);
  Le64(out, pieces.size());
  for (auto p : pieces) {
    Le64(out, p.size());
    out.append(p);
  }
  return out;
}

}  // namespace tessera::crypto
