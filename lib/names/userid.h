// User ids `name@realm` (the Proxmox form): the one grammar every layer shares, so it sits at
// the bottom (crypto/ parses it out of tickets, store/ and auth/ key accounts by it). Split at the last '@'. The name has no
// whitespace, ':', '/' or control characters; the realm is [A-Za-z0-9_][A-Za-z0-9._-]* with 2 to
// 32 characters; the whole is 3 to 64 bytes. sql/0001_accounts.sql enforces the same rule.
#pragma once

#include <string_view>

namespace tessera::names {

// Whether `userid` is valid. Thread-safe.
bool IsValidUserid(std::string_view userid);

}  // namespace tessera::names
