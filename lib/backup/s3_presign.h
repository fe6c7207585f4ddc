// Presigned GETs (AWS Signature Version 4 in the query string, "Authenticating Requests: Using
// Query Parameters"): a URL that lets whoever holds it read one object of the bucket, for a few
// seconds, without the credentials. The worker authorizes a download and hands nginx such a URL
// through an internal location (backup/rest_handler.cc, conf/nginx/tessera.conf), so the
// object's bytes go from the store to the client without passing through a worker thread.
//
// libcurl signs the worker's own requests (CURLOPT_AWS_SIGV4, backup/s3_client.h) but has no
// way to presign a URL for somebody else, so this signs here: only the host header is signed and
// the payload is UNSIGNED-PAYLOAD, as for every presigned GET. The HMAC-SHA256 and SHA-256 are
// libsodium's; the canonical encoding is backup/s3_url.h's. Pure and thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "backup/s3_credentials.h"
#include "backup/s3_url.h"

namespace tessera::backup {

// How long a presigned download URL is good for: long enough for nginx to start fetching it
// (it does so at once), short enough that a URL copied out of a log is useless.
inline constexpr std::chrono::seconds kPresignedLifetime{60};

struct PresignedGet {
  std::string host;            // the Host header it was signed for ("host" or "host:port")
  std::string path_and_query;  // "/<bucket>/<key>?X-Amz-...": what to ask that host for
};

// A GET of `key` in `bucket`, valid from `now` (Unix seconds) for `lifetime`.
PresignedGet PresignGet(const S3Credentials& credentials, const S3Endpoint& endpoint,
                        S3Addressing addressing, std::string_view region, std::string_view bucket,
                        std::string_view key, std::int64_t now, std::chrono::seconds lifetime);

}  // namespace tessera::backup
