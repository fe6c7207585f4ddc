#include "http/download_handoff.h"

namespace tessera::http {
namespace {

bool IsLocationByte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-' || c == '/';
}

// "/" segment "/" ... "/": at least one segment, none empty, "." or "..". The bytes are safe in
// a header value and in a URI path without escaping.
bool IsLocation(std::string_view s) {
  if (s.size() < 3 || s.size() > kMaxHandoffLocationBytes || s.front() != '/' || s.back() != '/')
    return false;
  for (char c : s) {
    if (!IsLocationByte(c)) return false;
  }
  std::string_view rest = s.substr(1, s.size() - 2);
  while (true) {
    std::size_t slash = rest.find('/');
    std::string_view segment = rest.substr(0, slash);
    if (segment.empty() || segment == "." || segment == "..") return false;
    if (slash == std::string_view::npos) return true;
    rest.remove_prefix(slash + 1);
  }
}

}  // namespace

std::optional<DownloadHandoff> ParseDownloadHandoff(std::string_view value) {
  constexpr std::string_view kAccel = "x-accel-redirect ";
  if (value == "x-sendfile") return DownloadHandoff{HandoffKind::kSendfile, "", ""};
  if (!value.starts_with(kAccel)) return std::nullopt;
  std::string_view location = value.substr(kAccel.size()), remote;
  if (std::size_t space = location.find(' '); space != std::string_view::npos) {
    remote = location.substr(space + 1);
    location = location.substr(0, space);
    if (!IsLocation(remote)) return std::nullopt;
  }
  if (!IsLocation(location)) return std::nullopt;
  return DownloadHandoff{HandoffKind::kAccelRedirect, std::string(location), std::string(remote)};
}

}  // namespace tessera::http
