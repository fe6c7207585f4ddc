// NOTIFY payloads, parsed as the untrusted input they are. The workers LISTEN on three channels
// (sql/0002, sql/0003, sql/0004, sent once per statement since sql/0012); any role that can connect
// to the database can NOTIFY on them, so a payload is checked against the grammar below and a
// malformed one is an error value, never an exception. The listener answers an error with a
// start-over of its cache (store/pg/listener.h).
//
//   tessera_accounts     <userid>                   names/userid.h; sent for the old and the new
//                                                   name of a renamed account
//   tessera_tokens       <jti>                      [A-Za-z0-9_-]{1,64}; old and new on a change
//   tessera_revocations  <ticket hash> SP <expiry>  64 lower-case hex, one space, Unix seconds as
//                                                   [-]digits, "infinity" or "-infinity"
//   any of them          *                          start over: forget every cached account and
//                                                   grant, reload the revocations (TRUNCATE,
//                                                   sql/0004; a statement that changed more than
//                                                   64 rows, sql/0012)
//
// At most kMaxPayload bytes. Pure functions, no libpq; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <variant>

namespace tessera::store {

inline constexpr std::string_view kAccountsChannel = "tessera_accounts";
inline constexpr std::string_view kRevocationsChannel = "tessera_revocations";
inline constexpr std::string_view kTokensChannel = "tessera_tokens";
inline constexpr std::size_t kMaxPayload = 128;

// Start the cache over (a statement-level change such as TRUNCATE).
struct ReloadAll {};
// The accounts row `userid` changed, appeared or went: re-read it.
struct AccountChanged {
  std::string userid;
};
// The api_tokens row `jti` changed, appeared or went: re-read it.
struct GrantChanged {
  std::string jti;
};
// A ticket was revoked until `expires_at` (Unix seconds; kEndOfTime for 'infinity').
struct TicketRevoked {
  std::string ticket_hash;
  std::int64_t expires_at = 0;
};
using Notification = std::variant<ReloadAll, AccountChanged, GrantChanged, TicketRevoked>;

enum class NotifyError {
  kUnknownChannel,
  kEmpty,
  kTooLong,
  kBadUserid,
  kBadJti,
  kBadShape,  // a revocation without exactly "<hash> <expiry>"
  kBadTicketHash,
  kBadTime,
};

// Parses `payload` received on `channel`. Returns the change, or why the payload is malformed.
std::expected<Notification, NotifyError> ParseNotification(std::string_view channel,
                                                           std::string_view payload);

// Whether `jti` matches [A-Za-z0-9_-]{1,64} (the api_tokens CHECK).
bool IsValidJti(std::string_view jti);

// A short text for logs.
std::string_view Describe(NotifyError error);

// At most the first 16 bytes of untrusted text, safe to log: bytes outside [A-Za-z0-9@._-] become
// '?', and "..." marks a cut.
std::string LogSafePrefix(std::string_view text);

}  // namespace tessera::store
