#include "store/notification.h"

#include "names/userid.h"
#include "store/sql_text.h"

namespace tessera::store {
namespace {
constexpr std::size_t kTicketHashLength = 64;
constexpr std::size_t kMaxJti = 64;
constexpr std::size_t kLogPrefix = 16;

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::expected<Notification, NotifyError> ParseRevocation(std::string_view payload) {
  std::size_t space = payload.find(' ');
  if (space == std::string_view::npos) return std::unexpected(NotifyError::kBadShape);
  std::string_view hash = payload.substr(0, space);
  std::string_view expiry = payload.substr(space + 1);
  if (hash.size() != kTicketHashLength || !IsLowerHex(hash)) {
    return std::unexpected(NotifyError::kBadTicketHash);
  }
  auto seconds = ParseEpochSeconds(expiry);  // a second space is not a digit: refused here
  if (!seconds) return std::unexpected(NotifyError::kBadTime);
  return TicketRevoked{std::string(hash), *seconds};
}
}  // namespace

bool IsValidJti(std::string_view jti) {
  if (jti.empty() || jti.size() > kMaxJti) return false;
  for (char c : jti) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::expected<Notification, NotifyError> ParseNotification(std::string_view channel,
                                                           std::string_view payload) {
  if (channel != kAccountsChannel && channel != kTokensChannel && channel != kRevocationsChannel) {
    return std::unexpected(NotifyError::kUnknownChannel);
  }
  if (payload.empty()) return std::unexpected(NotifyError::kEmpty);
  if (payload.size() > kMaxPayload) return std::unexpected(NotifyError::kTooLong);
  if (payload == "*") return ReloadAll{};
  if (channel == kAccountsChannel) {
    if (!names::IsValidUserid(payload)) return std::unexpected(NotifyError::kBadUserid);
    return AccountChanged{std::string(payload)};
  }
  if (channel == kTokensChannel) {
    if (!IsValidJti(payload)) return std::unexpected(NotifyError::kBadJti);
    return GrantChanged{std::string(payload)};
  }
  return ParseRevocation(payload);
}

std::string_view Describe(NotifyError error) {
  switch (error) {
    case NotifyError::kUnknownChannel:
      return "unknown channel";
    case NotifyError::kEmpty:
      return "empty payload";
    case NotifyError::kTooLong:
      return "payload too long";
    case NotifyError::kBadUserid:
      return "payload is not a userid";
    case NotifyError::kBadJti:
      return "payload is not a grant id";
    case NotifyError::kBadShape:
      return "payload is not '<ticket hash> <expiry>'";
    case NotifyError::kBadTicketHash:
      return "payload's ticket hash is not 64 lower-case hex digits";
    case NotifyError::kBadTime:
      return "payload's expiry is not Unix seconds";
  }
  return "malformed payload";
}

std::string LogSafePrefix(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, kLogPrefix)) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '@' || c == '.' || c == '_' || c == '-';
    out.push_back(ok ? c : '?');
  }
  if (text.size() > kLogPrefix) out += "...";
  return out;
}

}  // namespace tessera::store
