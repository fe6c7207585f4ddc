// Pre-Authentication Encoding (PASETO spec, "Authentication Padding", PAE): the unambiguous
// encoding of a list of byte strings that PASETO signs or MACs.
//   PAE(p0..pn-1) = LE64(n) || LE64(len(p0)) || p0 || ... , LE64 with the top bit cleared.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

namespace tessera::crypto {

std::string Pae(std::initializer_list<std::string_view> pieces);

}  // namespace tessera::crypto
