// What a signed-in person does with their own token grants (DESIGN.md, "Ticket-authenticated
// API"; sql/0008): list them, make one within the account's ceiling, revoke one by name. The
// token string itself is never stored: the worker mints it from the row. Not thread-safe: one
// object per thread, like the rest of the store.
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tessera::store {

enum class StoreError;

// A grant as its owner sees it (and the worker needs to mint its token).
struct OwnGrant {
  std::string jti;
  std::string name;
  bool read = false, write = false, del = false;
  std::optional<std::string> repo;
  std::int64_t created_at = 0;  // Unix seconds
  std::int64_t expires_at = 0;  // Unix seconds
  std::optional<std::int64_t> revoked_at;
};

// A grant a person asks for.
struct GrantAsk {
  std::string name;
  bool read = false, write = false, del = false;
  std::optional<std::string> repo;
  std::int64_t valid_for = 0;  // seconds from now; 0: the longest the account's ceiling allows
};

// Why a grant was not made: kRefused (beyond the ceiling), kConflict (a live grant has that
// name), kInvalid (the schema refused a value), kNotFound (no such account), kUnavailable. The
// message is the schema's own words for kRefused, kConflict and kInvalid (sql/0008 raises them;
// they name no secret), empty otherwise.
struct GrantRefusal {
  StoreError error;
  std::string message;
};

class OwnGrantStore {
 public:
  virtual ~OwnGrantStore() = default;
  // Every grant of `userid`, live or not, newest first, at most `limit`.
  virtual std::expected<std::vector<OwnGrant>, StoreError> ListOwnGrants(std::string_view userid,
                                                                         std::size_t limit) = 0;
  // Makes the grant through tessera.grant_own_token (the ceiling is checked there, atomically).
  virtual std::expected<OwnGrant, GrantRefusal> GrantOwn(std::string_view userid,
                                                         const GrantAsk& ask) = 0;
  // Revokes the live grant `name` of `userid`; returns its jti, nullopt when there is none.
  virtual std::expected<std::optional<std::string>, StoreError> RevokeOwn(
      std::string_view userid, std::string_view name) = 0;
};

}  // namespace tessera::store
