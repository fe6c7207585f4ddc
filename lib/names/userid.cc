#include "names/userid.h"

#include "names/utf8.h"

namespace tessera::names {

bool IsValidUserid(std::string_view userid) {
  if (userid.size() < 3 || userid.size() > 64) return false;
  // Text first: PostgreSQL refuses malformed UTF-8 with an error, and C1 controls are as
  // unprintable as C0 ones.
  if (!IsValidUtf8(userid) || HasControlCharacter(userid)) return false;
  std::size_t at = userid.rfind('@');
  if (at == std::string_view::npos || at == 0) return false;
  std::string_view name = userid.substr(0, at);
  std::string_view realm = userid.substr(at + 1);
  for (char c : name) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
        c == '\f' || c == ':' || c == '/') {
      return false;
    }
  }
  if (realm.size() < 2 || realm.size() > 32) return false;
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  };
  if (!alnum(realm[0])) return false;
  for (char c : realm.substr(1)) {
    if (!alnum(c) && c != '.' && c != '-') return false;
  }
  return true;
}

}  // namespace tessera::names
