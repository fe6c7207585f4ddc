// Account administration for tessera-admin, straight to PostgreSQL: add, change password,
// enable/disable, list. Changing a password or disabling moves the account's session epoch past
// now (next second: tickets have whole-second times, so one stamped this very second dies too),
// which ends all its tickets on every worker (they hear it through NOTIFY); new tickets are
// stamped no earlier than the epoch. No libpq type in this header.
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <vector>

namespace tessera::store::pg {

struct AccountRow {
  std::string userid;
  bool enabled;
  std::optional<std::string> expires_at;  // as PostgreSQL prints it
  std::string created_at;
};

// Each fails with a message (PostgreSQL's, or "no such account").
std::expected<void, std::string> AddAccount(const std::string& conninfo, const std::string& userid,
                                            const std::string& hash,
                                            const std::optional<std::string>& expires_at);
std::expected<void, std::string> SetPassword(const std::string& conninfo, const std::string& userid,
                                             const std::string& hash);
std::expected<void, std::string> SetEnabled(const std::string& conninfo, const std::string& userid,
                                            bool enabled);
std::expected<std::vector<AccountRow>, std::string> ListAccounts(const std::string& conninfo);

}  // namespace tessera::store::pg
