// A small S3 client over libcurl, for the S3 storage backend (backup/s3_storage.h): HEAD, GET of
// a byte range (streamed), PUT (streamed, write-once), DELETE and ListObjectsV2, all on one
// bucket. libcurl signs every request itself (CURLOPT_AWS_SIGV4, "aws:amz:<region>:s3"); we send
// the payload hash (x-amz-content-sha256) it does not add: the body's SHA-256 when the caller
// knows it, so the store refuses a body that does not match (400 XAmzContentSHA256Mismatch), and
// UNSIGNED-PAYLOAD otherwise.
//
// Connections: each thread keeps its own connection cache (a libcurl share object), so requests
// of one worker thread reuse their TCP/TLS connections and threads never wait for each other.
// Every transfer runs on its own easy handle driven by its own multi handle, so a paused upload
// or download never blocks another request of the same thread.
//
// Failures: a request that fails transiently (no connection, a reset, a timeout, a 5xx) is tried
// again after a pause (`first_backoff`, tripled each time, with jitter) up to `attempts` times,
// when it is idempotent: HEAD, GET (a download resumes where it stopped), DELETE and listings.
// A PUT is tried again only while no byte of its body has been handed over; after that the
// caller's client retries. What is still failing after the last try is kUnavailable.
//
// A store that stalls must not hold worker threads (every account's requests wait on the same
// store, so per-account shares do not help). Three bounds:
// * A request that waits on the store while no byte moves for `request_stall_timeout` (about the
//   FastCGI side's io_timeout) is cut: a HEAD, DELETE or listing page, and a streamed GET or PUT
//   while we wait for the store to take or send bytes.
// * libcurl's own stall timer of a streamed GET or PUT is `stream_stall_timeout`, longer than
//   io_timeout: the transfer is not driven while its worker waits for its client (the next piece
//   of an upload, or room to write a download), and libcurl counts that pause as a stall too. The
//   client's own pace is bounded by io_timeout and min_transfer_rate on the FastCGI side.
// * One operation keeps trying for at most `operation_budget`: no try and no pause starts past
//   it, and a try without a streamed body is cut at it. The default stays below the 60 s the
//   shipped nginx and Apache configurations wait for the worker's answer, so the client gets our
//   503 rather than the web server's 504.
// And a circuit breaker (backup/circuit_breaker.h) shared by all threads: after
// `breaker.threshold` transient failures in a row every request is kUnavailable at once, without
// contacting the store, except one probe per cool-down; the store answering closes it again.
//
// Thread-safe: one client is shared by all threads. Uploads and download sources belong to the
// thread that made them.
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "backup/circuit_breaker.h"
#include "backup/s3_credentials.h"
#include "backup/s3_url.h"
#include "backup/s3_xml.h"
#include "clock/clock.h"
#include "http/response.h"

namespace tessera::backup {

struct S3ClientOptions {
  S3Endpoint endpoint;
  S3Addressing addressing = S3Addressing::kPath;
  std::string region = "us-east-1";
  std::string bucket;
  // Longest wait for a connection to the store.
  std::chrono::milliseconds connect_timeout{5000};
  // A try that waits this long on the store without a byte moving is cut (a transient failure).
  std::chrono::seconds request_stall_timeout{30};
  // A streamed GET or PUT that moves no byte for this long, our client's pauses included, is cut.
  // Longer than the FastCGI side's io_timeout (see above).
  std::chrono::seconds stream_stall_timeout{120};
  // Tries of an idempotent request, and the pause after the first failed one.
  int attempts = 4;
  std::chrono::milliseconds first_backoff{200};
  // The longest one operation keeps trying (see above).
  std::chrono::milliseconds operation_budget{45000};
  // When to stop asking a store that is down, and how often to probe it.
  CircuitBreakerOptions breaker;
  // The clock of the budget and the breaker; null: the real one. Must outlive the client.
  const clock::SteadyClock* clock = nullptr;
};

enum class S3Error {
  kNotFound,     // 404: no such key
  kNoBucket,     // 404 NoSuchBucket
  kExists,       // 412: the key exists and If-None-Match: * kept it
  kBadContent,   // 400 XAmzContentSHA256Mismatch or BadDigest: the body is not what was declared
  kDenied,       // 403: the credentials are wrong, or may not do this
  kUnavailable,  // no answer, or 5xx, on every try, or the breaker is open: the store is down
  kFailed,       // anything else: another status, a malformed answer, an aborted transfer
};

// A short English name of an error, for logs.
std::string_view S3ErrorName(S3Error e);

// What an answer of the store means: nullopt for 2xx, else the error and whether trying again
// may help (5xx, 408, 429). `code` is the <Code> of the error document, if any. Pure.
struct S3Verdict {
  S3Error error;
  bool transient;
};
std::optional<S3Verdict> S3VerdictOf(long status, std::string_view code);

struct S3ObjectHead {
  std::uint64_t size = 0;
  // The object's user metadata (x-amz-meta-<name>), names in lower case without the prefix.
  std::vector<std::pair<std::string, std::string>> metadata;
  std::optional<std::string> Meta(std::string_view name) const;
};

struct S3PutOptions {
  // Lower-case hex SHA-256 of the whole body, or empty (sent as UNSIGNED-PAYLOAD).
  std::string payload_sha256;
  // If-None-Match: * — the object is written only if its key is free (kExists otherwise).
  bool if_none_match = true;
  // x-amz-meta-<name>: <value>; names of [a-z0-9-], values of printable ASCII.
  std::vector<std::pair<std::string, std::string>> metadata;
};

// A PUT whose body is pushed in piece by piece with bounded memory: the request starts with the
// first Send, each Send returns once the store has taken that piece (or the transfer ended), and
// Finish waits for the answer. The object exists only once Finish succeeds; dropping an
// unfinished upload aborts the transfer, and the store keeps nothing of a PUT cut short.
class S3Upload {
 public:
  virtual ~S3Upload() = default;
  // Fails when the transfer ended (the store refused the request, or went away).
  virtual std::expected<void, S3Error> Send(const char* data, std::size_t size) = 0;
  // Call after exactly the announced length was sent.
  virtual std::expected<void, S3Error> Finish() = 0;
};

class S3Client {
 public:
  S3Client(S3ClientOptions options, S3Credentials credentials);
  ~S3Client();
  S3Client(const S3Client&) = delete;
  S3Client& operator=(const S3Client&) = delete;

  const S3ClientOptions& options() const;
  // The circuit breaker of this client's store (for tests and metrics).
  const CircuitBreaker& breaker() const;

  // The object's size and metadata; kNotFound when there is none.
  std::expected<S3ObjectHead, S3Error> Head(std::string_view key) const;
  // Succeeds when the key is gone, also when it never existed.
  std::expected<void, S3Error> Delete(std::string_view key) const;
  // One ListObjectsV2 page of keys under `prefix` (with `delimiter`, deeper keys come as
  // prefixes), after the page `token` continues from (empty: the first page).
  std::expected<S3ListPage, S3Error> List(std::string_view prefix, std::string_view delimiter,
                                          std::string_view token, int max_keys = 1000) const;
  // Starts a PUT of exactly `length` bytes; nothing is sent before the first Send.
  std::unique_ptr<S3Upload> BeginPut(std::string_view key, std::uint64_t length,
                                     S3PutOptions put) const;
  // A PUT of a body held whole (small objects).
  std::expected<void, S3Error> Put(std::string_view key, std::string_view body,
                                   S3PutOptions put) const;
  // A source of the bytes [offset, offset + length) of `key`, fetched as they are read with a
  // ranged GET (at most 256 KiB buffered); -1 from Read when the store fails for good.
  std::shared_ptr<http::BodySource> GetRange(std::string key, std::uint64_t offset,
                                             std::uint64_t length) const;

  // A URL (scheme, host, path and query) that GETs `key` without credentials until
  // kPresignedLifetime after `clock`'s now (backup/s3_presign.h), for the web server to fetch it
  // itself.
  std::string PresignedUrl(std::string_view key, const clock::Clock& clock) const;

  // Lists one key of the bucket under `prefix`, to see at start-up that the bucket exists and
  // the credentials may use it. On failure the error and a message for the operator that says
  // what is wrong (never a secret).
  std::expected<void, std::pair<S3Error, std::string>> CheckBucket(std::string_view prefix) const;

  // The shared state (options, credentials); defined and used in s3_client.cc only.
  struct Impl;

 private:
  std::shared_ptr<const Impl> impl_;
};

}  // namespace tessera::backup
