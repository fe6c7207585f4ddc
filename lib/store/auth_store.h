// What the ticket service needs from the database: accounts, login throttling shared by every
// worker, the audit log and server-side ticket revocation. Implemented over libpq in
// lib/store/pg/; unit tests use fakes. One object per worker thread; not thread-safe.
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tessera::store {

enum class StoreError;

struct AccountState {
  bool enabled = false;
  std::optional<std::int64_t> expires_at;  // Unix seconds
  std::int64_t session_epoch = 0;          // tickets stamped before this are dead
};

struct AccountRecord {
  std::string userid;
  std::string password_hash;
  AccountState state;
};

// A bearer-token grant (api_tokens, sql/0003): the row is the authority on what a token may do;
// the token's own claims can only narrow it.
struct GrantRecord {
  std::string userid;
  std::int64_t account_id = 0;  // accounts.id: immutable, keys the account's storage
  bool read = false;
  bool write = false;
  bool del = false;                 // the `delete` column
  std::optional<std::string> repo;  // limits the grant to one repository
  bool revoked = false;
  std::int64_t expires_at = 0;      // Unix seconds
};

struct ThrottlePolicy {
  int max_user_failures = 5;    // per account within the window
  int max_addr_failures = 20;   // per client address within the window
  std::int64_t window_seconds = 300;
};

class AuthStore {
 public:
  virtual ~AuthStore() = default;
  // The account, or nullopt when there is none. kUnavailable when PostgreSQL is down.
  virtual std::expected<std::optional<AccountRecord>, StoreError> FindAccount(std::string_view userid) = 0;
  // Replaces the hash only if it is still `old_hash` (a concurrent password change wins).
  virtual std::expected<void, StoreError> ReplacePasswordHash(std::string_view userid,
                                                              std::string_view old_hash,
                                                              std::string_view new_hash) = 0;
  // Whether the account or the address has too many recent failures.
  virtual std::expected<bool, StoreError> IsThrottled(std::string_view userid, std::string_view client,
                                                      const ThrottlePolicy& policy) = 0;
  virtual std::expected<void, StoreError> RecordFailure(std::string_view userid, std::string_view client,
                                                        const ThrottlePolicy& policy) = 0;
  virtual std::expected<void, StoreError> ClearFailures(std::string_view userid) = 0;
  virtual std::expected<void, StoreError> Audit(std::string_view event, std::string_view userid,
                                                std::string_view client, std::string_view reason) = 0;
  // The grant (api_tokens row) `jti`, or nullopt when there is no such row.
  virtual std::expected<std::optional<GrantRecord>, StoreError> FindGrant(std::string_view jti) = 0;
  // Records a logout; every worker hears of it through NOTIFY.
  virtual std::expected<void, StoreError> RevokeTicket(std::string_view revocation_id,
                                                       std::string_view userid,
                                                       std::int64_t expires_at) = 0;
};

}  // namespace tessera::store
