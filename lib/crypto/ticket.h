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
// request, so the signature check (the dominant cost) is remembered: a VerifyMemo
// (crypto/verify_memo.h) maps a keyed hash of the ticket text — never the text itself — to its
// revocation id. Only tickets that verified completely go in; structure and time window are still
// checked on every call. Thread-safe (the memo locks itself).
#pragma once

#include <cstdint>
#include <expected>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/keys.h"
#include "crypto/verify_memo.h"

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

  // Verify() calls that found / did not find the ticket in the memo (past the structure checks).
  // Monotonic; for metrics.
  std::uint64_t memo_hits() const { return memo_->hits(); }
  std::uint64_t memo_misses() const { return memo_->misses(); }

 private:
  bool CheckSignature(std::string_view text, const std::vector<std::uint8_t>& sig) const;
  // Tickets per memo generation: as many as the old single-generation memo held. An entry is about
  // 200 bytes (digest, 64-hex-digit revocation id, node, bucket), so both generations take about
  // 1.6 MiB.
  static constexpr std::size_t kMemoPerGeneration = 4096;
  SecretKey key_;
  std::vector<PublicKey> verify_;
  // Ticket → revocation id. Behind a pointer so TicketKeys stays movable and Verify() const.
  std::unique_ptr<VerifyMemo<std::string>> memo_ =
      std::make_unique<VerifyMemo<std::string>>(kMemoPerGeneration);
};

// TIME as Proxmox writes it in tickets and CSRF tokens: upper-case hex, at least 8 digits.
std::string FormatTicketTime(std::int64_t unix_seconds);
// Parses such a TIME (8 to 15 upper-case hex digits). Returns false for anything else.
bool ParseTicketTime(std::string_view text, std::int64_t* out);

// The ticket with the literal `ticketinfo` in place of its signature (the HttpOnly flow's
// `ticket-info`, which tells a browser the ticket's user and time but cannot be used).
std::string TicketInfo(std::string_view ticket);

}  // namespace tessera::crypto
