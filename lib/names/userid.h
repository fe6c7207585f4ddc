// User ids `name@realm` (the Proxmox form): the one grammar every layer shares, so it sits at
// the bottom (crypto/ parses it out of tickets, store/ and auth/ key accounts by it). Split at
// the last '@'. The whole is well-formed UTF-8 without control characters (C0, DEL, C1), 3 to 64
// bytes; the name has no whitespace, ':' or '/'; the realm is [A-Za-z0-9_][A-Za-z0-9._-]* with 2
// to 32 characters. sql/0001_accounts.sql and 0004 enforce the same rule.
#pragma once

#include <string_view>

namespace tessera::names {

// Whether `userid` is valid. Thread-safe.
bool IsValidUserid(std::string_view userid);

}  // namespace tessera::names
