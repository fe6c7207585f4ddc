// Where an S3 bucket is and how its URLs are written: the `storage = s3://bucket/prefix` setting,
// the endpoint (`s3_endpoint = https://host[:port]`), path-style or virtual-host addressing, and
// the percent-encoding SigV4 asks for (AWS "Create a canonical request": every byte but the
// unreserved A-Z a-z 0-9 - . _ ~ as %XX in upper case; '/' kept in object keys; query
// parameters sorted by name). libcurl signs the request (CURLOPT_AWS_SIGV4) from the URL as given,
// so the URL must already be canonical. All functions are pure and thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tessera::backup {

enum class S3Addressing {
  kPath,     // <endpoint>/<bucket>/<key>: any S3-compatible store
  kVirtual,  // <scheme>://<bucket>.<host>/<key>: AWS's preferred form
};

// `s3://bucket` or `s3://bucket/prefix/with/segments`.
struct S3Location {
  std::string bucket;
  std::string prefix;  // no leading or trailing '/', segments never empty; may be empty
};

struct S3Endpoint {
  std::string scheme;  // "http" or "https"
  std::string host;    // a DNS name, an IPv4 address or a bracketed IPv6 address
  std::string port;    // digits, or empty for the scheme's default
};

// Bucket names as S3 allows them for new buckets: 3 to 63 of [a-z0-9.-], starting and ending
// with a letter or digit, no "..".
bool IsBucketName(std::string_view bucket);

// nullopt unless `uri` is s3://<bucket>[/<prefix>] with a valid bucket name and a prefix of
// segments of [A-Za-z0-9._-] that are not "." or "..", at most 512 bytes (a trailing '/' is
// dropped).
std::optional<S3Location> ParseS3Location(std::string_view uri);

// nullopt unless `url` is http(s)://<host>[:<port>] with an optional trailing '/', nothing else.
std::optional<S3Endpoint> ParseS3Endpoint(std::string_view url);

// SigV4's URI encoding of `text`; '/' is kept as is when `keep_slash` (object keys).
std::string S3UriEncode(std::string_view text, bool keep_slash);

// The canonical query string: parameters sorted by name (then value), names and values
// encoded, joined with '&'; a parameter with an empty value is written `name=`.
std::string S3CanonicalQuery(std::vector<std::pair<std::string, std::string>> params);

// The URL of `key` in `bucket` (the bucket itself when `key` is empty), with `canonical_query`
// (from S3CanonicalQuery) after a '?' when it is not empty.
std::string S3Url(const S3Endpoint& endpoint, S3Addressing addressing, std::string_view bucket,
                  std::string_view key, std::string_view canonical_query = {});

}  // namespace tessera::backup
