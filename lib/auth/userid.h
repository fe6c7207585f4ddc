// User ids `name@realm` (DESIGN.md; the Proxmox form). Split at the last '@'. The name has no
// whitespace, ':', '/' or control characters; the realm is [A-Za-z0-9_][A-Za-z0-9._-]* with 2 to
// 32 characters; the whole is 3 to 64 bytes. sql/0001_accounts.sql enforces the same rule.
#pragma once

#include <string_view>

namespace tessera::auth {

// Whether `userid` is valid. Thread-safe.
bool IsValidUserid(std::string_view userid);

}  // namespace tessera::auth
