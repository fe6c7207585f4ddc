// Proxmox Backup Server tickets (DESIGN.md, "Ticket format"; proxmox-auth-api's Ticket):
//
//   PBS:<userid>:<TIME>::<SIG>
//
// TIME is Unix seconds in upper-case hex, at least 8 digits; SIG is Ed25519 over the text before
// "::", standard base64 without padding (padded input is refused). A ticket is valid from 300 s
// before to 7200 s after TIME. Userids never contain ':' or control characters (names/userid.h),
// so the userid field is taken as it is and must be a valid userid.
//
// Tickets carry no key id: verification tries the signing key, then each older key (rotation).
// Only TicketKeys::Verify makes a VerifiedTicket. A browser presents the same ticket on every
// request, so the signature check (the dominant cost) is remembered: a bounded memo maps the
// exact ticket text to its revocation id; structure and time window are still checked on every
// call. Thread-safe (the memo has its own lock).
#pragma once

#include <cstdint>
#include <expected>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "crypto/keys.h"

namespace tessera::crypto {

inline constexpr std::string_view kTicketPrefix = "PBS";
inline constexpr std::int64_t kTicketMaxAge = 7200;  // seconds after TIME
inline constexpr std::int64_t kTicketMaxSkew = 300;  // seconds before TIME
inline constexpr std::size_t kMaxTicketBytes = 512;

enum class TicketError {
  kTooLong,
  kMalformed,  // structure, TIME digits, base64 (padding included), signature length
  kWrongPrefix,
  kBadUserid,
  kBadSignature,
  kExpired,     // older than 7200 s
  kFromFuture,  // more than 300 s ahead
};

class VerifiedTicket {
 public:
  const std::string& userid() const { return userid_; }
  std::int64_t time() const { return time_; }
  std::int64_t expires_at() const { return time_ + kTicketMaxAge; }
  // Lower-case hex SHA-256 of the signature: the ticket's name in the revocation list.
  const std::string& revocation_id() const { return revocation_id_; }

 private:
  friend class TicketKeys;
  VerifiedTicket() = default;
  std::string userid_;
  std::int64_t time_ = 0;
  std::string revocation_id_;
};

class TicketKeys {
 public:
  TicketKeys(SecretKey signing, std::vector<PublicKey> older);

  // A ticket for `userid` (which the caller has validated) stamped `now`.
  std::string Issue(std::string_view userid, std::int64_t now) const;
  // Checks structure, signature (any known key) and the time window at `now`.
  std::expected<VerifiedTicket, TicketError> Verify(std::string_view ticket,
                                                    std::int64_t now) const;

 private:
  bool CheckSignature(std::string_view text, const std::vector<std::uint8_t>& sig) const;
  static constexpr std::size_t kMemoEntries = 4096;
  SecretKey key_;
  std::vector<PublicKey> verify_;
  struct Memo {
    std::shared_mutex mutex;
    std::unordered_map<std::string, std::string> entries;  // ticket → revocation id
  };
  std::unique_ptr<Memo> memo_ = std::make_unique<Memo>();
};

// TIME as Proxmox writes it in tickets and CSRF tokens: upper-case hex, at least 8 digits.
std::string FormatTicketTime(std::int64_t unix_seconds);
// Parses such a TIME (8 to 15 upper-case hex digits). Returns false for anything else.
bool ParseTicketTime(std::string_view text, std::int64_t* out);

// The ticket with the literal `ticketinfo` in place of its signature (the HttpOnly flow's
// `ticket-info`, which tells a browser the ticket's user and time but cannot be used).
std::string TicketInfo(std::string_view ticket);

}  // namespace tessera::crypto
