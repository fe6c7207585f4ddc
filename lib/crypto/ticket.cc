#include "crypto/ticket.h"

#include <sodium.h>

#include <cstdio>
#include <optional>

#include "crypto/base64url.h"
#include "encoding/hex.h"
#include "names/userid.h"

namespace tessera::crypto {
namespace {
constexpr std::size_t kSigBytes = crypto_sign_BYTES;

}  // namespace

bool ParseTicketTime(std::string_view s, std::int64_t* out) {
  if (s.size() < 8 || s.size() > 15) return false;  // 15 hex digits keep the value in int64
  std::int64_t v = 0;
  for (char c : s) {
    int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
    if (d < 0) return false;  // upper case only, as Proxmox writes it
    v = v * 16 + d;
  }
  *out = v;
  return true;
}

std::string FormatTicketTime(std::int64_t t) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%08llX", static_cast<unsigned long long>(t));
  return buf;
}

TicketKeys::TicketKeys(SecretKey signing, std::vector<PublicKey> older)
    : key_(std::move(signing)), verify_{key_.Public()} {
  for (const auto& k : older) {
    if (!(k == verify_.front())) verify_.push_back(k);
  }
}

std::string TicketKeys::Issue(std::string_view userid, std::int64_t now) const {
  std::string text =
      std::string(kTicketPrefix) + ":" + std::string(userid) + ":" + FormatTicketTime(now);
  std::uint8_t sig[kSigBytes];
  crypto_sign_detached(sig, nullptr, reinterpret_cast<const std::uint8_t*>(text.data()),
                       text.size(), key_.bytes().data());
  return text + "::" + Base64Encode(std::span<const std::uint8_t>(sig), Base64Alphabet::kStandard);
}

std::expected<VerifiedTicket, TicketError> TicketKeys::Verify(std::string_view ticket,
                                                              std::int64_t now) const {
  if (ticket.size() > kMaxTicketBytes) return std::unexpected(TicketError::kTooLong);
  std::size_t sep = ticket.rfind("::");
  if (sep == std::string_view::npos) return std::unexpected(TicketError::kMalformed);
  std::string_view text = ticket.substr(0, sep);
  std::string_view sig_text = ticket.substr(sep + 2);
  std::size_t first = text.find(':');
  std::size_t last = text.rfind(':');
  if (first == std::string_view::npos || first == last) {
    return std::unexpected(TicketError::kMalformed);
  }
  if (text.substr(0, first) != kTicketPrefix) return std::unexpected(TicketError::kWrongPrefix);
  std::string_view userid = text.substr(first + 1, last - first - 1);
  std::int64_t time = 0;
  if (!ParseTicketTime(text.substr(last + 1), &time))
    return std::unexpected(TicketError::kMalformed);
  if (!names::IsValidUserid(userid)) return std::unexpected(TicketError::kBadUserid);
  VerifiedTicket out;
  out.userid_ = userid;
  out.time_ = time;
  // The memo key is the whole ticket, so a hit means these exact bytes verified before.
  const MemoDigest key = memo_->Key(ticket);
  std::optional<std::string> seen = memo_->Find(key);
  bool remembered = seen.has_value();
  if (remembered) {
    out.revocation_id_ = std::move(*seen);
  } else {
    auto sig = Base64Decode(sig_text, 128, Base64Alphabet::kStandard);
    if (!sig || sig->size() != kSigBytes) return std::unexpected(TicketError::kMalformed);
    if (!CheckSignature(text, *sig)) return std::unexpected(TicketError::kBadSignature);
    std::uint8_t digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, sig->data(), sig->size());
    out.revocation_id_ = encoding::Hex(digest);
  }
  if (now > time + kTicketMaxAge) return std::unexpected(TicketError::kExpired);
  if (now < time - kTicketMaxSkew) return std::unexpected(TicketError::kFromFuture);
  if (!remembered) memo_->Insert(key, out.revocation_id_);  // successes only
  return out;
}

bool TicketKeys::CheckSignature(std::string_view text, const std::vector<std::uint8_t>& sig) const {
  bool good = false;
  for (const PublicKey& key : verify_) {
    if (crypto_sign_verify_detached(sig.data(), reinterpret_cast<const std::uint8_t*>(text.data()),
                                    text.size(), key.bytes().data()) == 0) {
      good = true;
      break;
    }
  }
  return good;
}

std::string TicketInfo(std::string_view ticket) {
  std::size_t sep = ticket.rfind("::");
  return std::string(ticket.substr(0, sep)) + "::ticketinfo";
}

}  // namespace tessera::crypto
