// UTF-8 text as RFC 3629 section 4 defines it: every text value that reaches SQL, a log line or
// a file name is checked against it first, so malformed input is a 400 and never reaches
// PostgreSQL (which would refuse it with an error that looks like an outage).
//
// Strict: overlong forms, UTF-16 surrogates (U+D800..U+DFFF), code points above U+10FFFF and
// truncated sequences are refused. It sits at the bottom (names/) so every layer can use it.
#pragma once

#include <string_view>

namespace tessera::names {

// Whether `text` is well-formed UTF-8. Thread-safe.
bool IsValidUtf8(std::string_view text);

// Whether `text` (well-formed UTF-8) holds a control character: C0 (U+0000..U+001F), DEL
// (U+007F) or C1 (U+0080..U+009F). Thread-safe.
bool HasControlCharacter(std::string_view text);

}  // namespace tessera::names
