#include "backup/s3_url.h"

#include <algorithm>
#include <charconv>

#include "http/percent.h"

namespace tessera::backup {
namespace {

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsAlnum(char c) { return IsLowerAlnum(c) || (c >= 'A' && c <= 'Z'); }
bool IsUnreserved(char c) { return IsAlnum(c) || c == '-' || c == '.' || c == '_' || c == '~'; }

constexpr std::size_t kMaxPrefixBytes = 512;

bool IsPrefixSegment(std::string_view s) {
  if (s.empty() || s == "." || s == "..") return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return IsAlnum(c) || c == '.' || c == '_' || c == '-'; });
}

// A DNS name or IPv4 address: labels of [A-Za-z0-9-] joined by dots; or [IPv6].
bool IsHost(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return false;
    std::string_view inner = host.substr(1, host.size() - 2);
    return std::all_of(inner.begin(), inner.end(), [](char c) {
      return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
             c == ':' || c == '.';
    });
  }
  std::size_t start = 0;
  while (start <= host.size()) {
    std::size_t dot = host.find('.', start);
    std::string_view label =
        host.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
      return false;
    if (!std::all_of(label.begin(), label.end(), [](char c) { return IsAlnum(c) || c == '-'; }))
      return false;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return true;
}

}  // namespace

bool IsBucketName(std::string_view bucket) {
  if (bucket.size() < 3 || bucket.size() > 63) return false;
  if (!IsLowerAlnum(bucket.front()) || !IsLowerAlnum(bucket.back())) return false;
  if (bucket.find("..") != std::string_view::npos) return false;
  return std::all_of(bucket.begin(), bucket.end(),
                     [](char c) { return IsLowerAlnum(c) || c == '.' || c == '-'; });
}

std::optional<S3Location> ParseS3Location(std::string_view uri) {
  constexpr std::string_view kScheme = "s3://";
  if (!uri.starts_with(kScheme)) return std::nullopt;
  uri.remove_prefix(kScheme.size());
  if (uri.ends_with('/')) uri.remove_suffix(1);
  std::size_t slash = uri.find('/');
  S3Location location;
  location.bucket = std::string(uri.substr(0, slash));
  if (!IsBucketName(location.bucket)) return std::nullopt;
  if (slash == std::string_view::npos) return location;
  std::string_view prefix = uri.substr(slash + 1);
  if (prefix.size() > kMaxPrefixBytes) return std::nullopt;
  std::size_t start = 0;
  while (true) {
    std::size_t next = prefix.find('/', start);
    if (!IsPrefixSegment(
            prefix.substr(start, next == std::string_view::npos ? next : next - start)))
      return std::nullopt;
    if (next == std::string_view::npos) break;
    start = next + 1;
  }
  location.prefix = std::string(prefix);
  return location;
}

std::optional<S3Endpoint> ParseS3Endpoint(std::string_view url) {
  S3Endpoint endpoint;
  for (std::string_view scheme : {"http", "https"}) {
    std::string with = std::string(scheme) + "://";
    if (url.starts_with(with)) {
      endpoint.scheme = std::string(scheme);
      url.remove_prefix(with.size());
      break;
    }
  }
  if (endpoint.scheme.empty()) return std::nullopt;
  if (url.ends_with('/')) url.remove_suffix(1);
  // The port follows the last ':' outside an IPv6 address's brackets.
  std::size_t colon = url.rfind(':');
  if (colon != std::string_view::npos && url.find(']', colon) == std::string_view::npos) {
    // 1 to 65535 in at most five decimal digits; from_chars takes no sign or space.
    std::string_view port = url.substr(colon + 1);
    unsigned number = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
    if (port.size() > 5 || ec != std::errc() || end != port.data() + port.size() || number == 0 ||
        number > 65535) {
      return std::nullopt;
    }
    endpoint.port = std::string(port);
    url = url.substr(0, colon);
  }
  if (!IsHost(url)) return std::nullopt;
  endpoint.host = std::string(url);
  return endpoint;
}

std::string S3UriEncode(std::string_view text, bool keep_slash) {
  if (keep_slash)
    return http::PercentEncode(text, [](char c) { return IsUnreserved(c) || c == '/'; });
  return http::PercentEncode(text, IsUnreserved);
}

std::string S3CanonicalQuery(std::vector<std::pair<std::string, std::string>> params) {
  // SigV4 sorts by the encoded names; encoding keeps the order of unreserved bytes but not of
  // others, so encode first, then sort.
  for (auto& [name, value] : params) {
    name = S3UriEncode(name, false);
    value = S3UriEncode(value, false);
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out.push_back('&');
    out += name + "=" + value;
  }
  return out;
}

std::string S3Url(const S3Endpoint& endpoint, S3Addressing addressing, std::string_view bucket,
                  std::string_view key, std::string_view canonical_query) {
  std::string authority = endpoint.host + (endpoint.port.empty() ? "" : ":" + endpoint.port);
  std::string url = endpoint.scheme + "://";
  if (addressing == S3Addressing::kVirtual) {
    url += std::string(bucket) + "." + authority + "/";
  } else {
    url += authority + "/" + std::string(bucket);
    if (!key.empty()) url += "/";
  }
  url += S3UriEncode(key, true);
  if (!canonical_query.empty()) url += "?" + std::string(canonical_query);
  return url;
}

}  // namespace tessera::backup
