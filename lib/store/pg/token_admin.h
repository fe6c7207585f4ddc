// Token grants for tessera-admin, straight to PostgreSQL (api_tokens, sql/0003): make one with
// tessera_grant_token(), read one back to re-mint its token, revoke one. No libpq type here.
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>

namespace tessera::store::pg {

struct GrantRow {
  std::string jti;
  std::string userid;
  bool read = false, write = false, del = false;
  std::optional<std::string> repo;
  std::int64_t expires_at = 0;  // Unix seconds
  bool revoked = false;
};

// Each fails with a message (PostgreSQL's, or "no such grant").
std::expected<GrantRow, std::string> CreateGrant(const std::string& conninfo,
                                                 const std::string& userid, bool read, bool write,
                                                 bool del, const std::optional<std::string>& repo,
                                                 std::int64_t lifetime_seconds);
std::expected<GrantRow, std::string> ReadGrant(const std::string& conninfo, const std::string& jti);
std::expected<void, std::string> RevokeGrant(const std::string& conninfo, const std::string& jti);

}  // namespace tessera::store::pg
