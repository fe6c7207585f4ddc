// Token grants for tessera-admin, straight to PostgreSQL (api_tokens, sql/0003 and 0008): make one
// (named, with tessera.grant_token; unnamed, with the older tessera_grant_token), read one back by
// jti or by its account and name to re-mint its token, list an account's grants, revoke one by jti
// or by name (tessera.revoke_token). Each call opens its own connection; no libpq type here.
// Thread-safe (nothing shared).
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <vector>

namespace tessera::store::pg {

struct GrantRow {
  std::string jti;
  std::string userid;
  std::string name;  // the jti for a grant made without a name
  bool read = false, write = false, del = false;
  std::optional<std::string> repo;
  std::int64_t expires_at = 0;  // Unix seconds; store::kEndOfTime for never
  std::int64_t created_at = 0;  // Unix seconds
  bool revoked = false;
};

// What a new grant allows. Without `name` it is named after its jti.
struct GrantSpec {
  std::string userid;
  std::optional<std::string> name;
  bool read = false, write = false, del = false;
  std::optional<std::string> repo;
  std::int64_t lifetime_seconds = 0;
};

// Each fails with a message: PostgreSQL's (an unknown account, a duplicate name or a bad
// repository path are refused by the schema's functions and constraints, in their words), or one
// of its own saying which grant was not found.
std::expected<GrantRow, std::string> CreateGrant(const std::string& conninfo,
                                                 const GrantSpec& spec);
std::expected<GrantRow, std::string> ReadGrant(const std::string& conninfo, const std::string& jti);
// The account's live (unrevoked) grant of that name, else the newest revoked one, so the caller
// can say why it cannot be used.
std::expected<GrantRow, std::string> ReadNamedGrant(const std::string& conninfo,
                                                    const std::string& userid,
                                                    const std::string& name);
// Every grant of the account, oldest first; fails on an unknown account.
std::expected<std::vector<GrantRow>, std::string> ListGrants(const std::string& conninfo,
                                                             const std::string& userid);
std::expected<void, std::string> RevokeGrant(const std::string& conninfo, const std::string& jti);
// Revokes the account's live grant of that name; returns its jti.
std::expected<std::string, std::string> RevokeNamedGrant(const std::string& conninfo,
                                                         const std::string& userid,
                                                         const std::string& name);

}  // namespace tessera::store::pg
