// What authentication needs from the database, as small ports by use — accounts, sessions, the
// login throttle, the audit log and its retention, what the session cache reads — and AuthStore,
// their aggregate, which the per-thread Database implements over libpq (lib/store/pg/); unit tests
// use fakes. All of it is shared by every worker through PostgreSQL. One object per worker
// thread; not thread-safe.
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
  std::int64_t id = 0;  // accounts.id: immutable, keys the account's storage
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
  std::int64_t expires_at = 0;  // Unix seconds
  std::string name;             // unique per account among live grants (sql/0008)
};

// Failed-login throttling. Attempts are counted per (account, client network) and per client
// network — never per account alone, so nobody can lock the owner out from elsewhere.
struct ThrottlePolicy {
  int max_user_failures = 5;   // per (account, client network) within the window
  int max_addr_failures = 20;  // per client network within the window
  std::int64_t window_seconds = 300;
  // Client networks whose failures against one account are counted apart (a row each) within
  // the window; past that, a new network's attempts against the account count on its own
  // network's row, held to max_user_failures there.
  int max_account_networks = 256;
};

// How long rows that grow with login traffic are kept, and how much one pruning pass deletes.
struct RetentionPolicy {
  std::int64_t audit_seconds = 90 * 86400;
  std::int64_t failure_window_seconds = 300;  // login_failures rows die with their window
  std::int64_t session_seconds = 7500;        // after the last renewal: every ticket has expired
  int batch = 10000;                          // rows per table per pass
};

class AccountStore {
 public:
  virtual ~AccountStore() = default;
  // The account, or nullopt when there is none. kUnavailable when PostgreSQL is down.
  virtual std::expected<std::optional<AccountRecord>, StoreError> FindAccount(
      std::string_view userid) = 0;
  // Replaces the hash only if it is still `old_hash` (a concurrent password change wins).
  virtual std::expected<void, StoreError> ReplacePasswordHash(std::string_view userid,
                                                              std::string_view old_hash,
                                                              std::string_view new_hash) = 0;
  // A password change: sets `new_hash` if the hash is still `old_hash` and moves the session
  // epoch past now, which ends every session of the account (sql/0007). Returns the new epoch,
  // or nullopt when the hash changed meanwhile (a concurrent change wins).
  virtual std::expected<std::optional<std::int64_t>, StoreError> ChangePassword(
      std::string_view userid, std::string_view old_hash, std::string_view new_hash) = 0;
};

// What the throttle says about one password attempt.
struct ThrottleVerdict {
  std::int64_t retry_after = 0;  // 0: go ahead; else seconds until the fullest window ends
  bool first_refusal = false;    // the first refused attempt of its window
};

// A ticket a session issued (revocation id = SHA-256 of its signature, lower-case hex).
struct SessionTicket {
  std::string revocation_id;
  std::int64_t expires_at = 0;  // Unix seconds
};

// Server-side sessions (sql/0005): a login starts one, renewals continue it, logout ends it.
class SessionStore {
 public:
  virtual ~SessionStore() = default;
  // Starts a session of `userid` with its first ticket, and ends the account's sessions renewed
  // least recently beyond the newest `max_sessions` (their tickets revoked everywhere, as at a
  // logout; sql/0015). Returns false when the account does not exist (any more); kConflict when
  // the ticket is already recorded (an identical ticket: same user, same second), so the caller
  // stamps another.
  virtual std::expected<bool, StoreError> StartSession(std::string_view userid,
                                                       const SessionTicket& first,
                                                       int max_sessions) = 0;
  // Records `next` in the session that issued `presented`, if that session belongs to `userid`
  // and has not ended; the session's row lock orders it against EndSession. Returns false when
  // there is no such live session (unknown ticket, ended, other account); kConflict as above.
  virtual std::expected<bool, StoreError> ContinueSession(std::string_view presented,
                                                          std::string_view userid,
                                                          const SessionTicket& next) = 0;
  // Ends the session that issued `presented` and revokes every unexpired ticket of it, and
  // `presented` itself even without a session; every worker hears of it through NOTIFY.
  // Returns the revoked tickets.
  virtual std::expected<std::vector<SessionTicket>, StoreError> EndSession(
      const SessionTicket& presented, std::string_view userid) = 0;
};

// The failed-login throttle, counted atomically in PostgreSQL so every worker shares it and
// parallel attempts cannot exceed the limits.
class LoginThrottle {
 public:
  virtual ~LoginThrottle() = default;
  // Reserves one password attempt for `network` and, while the network is within its limit,
  // for (`account_key`, `network`), in one statement before any hashing (so a spray of names
  // from one network adds no pair rows once the network is over its limit). Returns whether the
  // attempt may go ahead and, if not, the seconds until the fullest window ends (the attempt
  // still counts) and whether it is the window's first refusal (worth one audit row).
  virtual std::expected<ThrottleVerdict, StoreError> ReserveAttempt(
      std::string_view account_key, std::string_view network, const ThrottlePolicy& policy) = 0;
  // After a successful login: forgets the pair's failures and gives the network its attempt back.
  virtual std::expected<void, StoreError> ReleaseAttempt(std::string_view account_key,
                                                         std::string_view network) = 0;
};

class AuditLog {
 public:
  virtual ~AuditLog() = default;
  virtual std::expected<void, StoreError> Audit(std::string_view event, std::string_view userid,
                                                std::string_view client,
                                                std::string_view reason) = 0;
  // Deletes at most `policy.batch` rows per table of what has outlived its retention: audit
  // rows, ended throttle windows, dead sessions and their tickets, expired revocations.
  // Returns the number of rows deleted.
  virtual std::expected<std::int64_t, StoreError> Prune(const RetentionPolicy& policy) = 0;
};

// What the workers' session cache (auth/session_cache.h) reads when it does not hold an account
// or a grant: a token or ticket seen for the first time, or since its row changed. The cache
// remembers the answer, a row that is not there included, until a notification says the row
// changed. An implementation the cache is built on must be thread-safe (the worker's pool).
class CacheSource {
 public:
  virtual ~CacheSource() = default;
  // The state of account `userid` (never its password hash), or nullopt when there is no such
  // account or its row cannot be read (logged: the row denies only itself). kUnavailable when
  // PostgreSQL is down.
  virtual std::expected<std::optional<AccountState>, StoreError> FindAccountState(
      std::string_view userid) = 0;
  // The grant (api_tokens row) `jti`, or nullopt when there is no such row (or it cannot be read).
  // kUnavailable when PostgreSQL is down.
  virtual std::expected<std::optional<GrantRecord>, StoreError> FindGrant(std::string_view jti) = 0;
};

// Everything the worker asks of the database, as one object per connection.
class AuthStore : public AccountStore,
                  public SessionStore,
                  public LoginThrottle,
                  public AuditLog,
                  public CacheSource {};

}  // namespace tessera::store
