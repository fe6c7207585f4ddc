// An HTTP request as the core sees it: method, raw path, query, headers and a streamed body.
//
// The FastCGI adapter fills it from the web server's parameters; tests build it directly. The
// path is kept exactly as the client sent it (still percent-encoded, without the query), taken
// from REQUEST_URI so that nginx and Apache give the same value; the router decodes it segment by
// segment.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/download_handoff.h"

namespace tessera::http {

enum class Method : std::uint8_t { kGet, kHead, kPost, kPut, kDelete, kOptions, kPatch, kOther };

Method ParseMethod(std::string_view name);
std::string_view MethodName(Method method);

// Where the request body comes from. The adapter implements it over the FastCGI stream.
class BodyReader {
 public:
  virtual ~BodyReader() = default;
  // Reads up to `size` bytes into `buffer`. Returns the count, 0 at the end of the body, or -1
  // when the connection failed.
  virtual std::ptrdiff_t Read(char* buffer, std::size_t size) = 0;
};

// What the access log says of a request, filled in as it is routed and authenticated (names and
// numbers only: never a credential). fcgi/ writes it with the answer's status, size and duration.
struct AccessNote {
  std::string route;    // the matched route's pattern, or empty (404, malformed path)
  std::string account;  // the authenticated userid, empty when nobody authenticated
  std::string token;    // the grant's name when a bearer or API token authenticated
};

// Something a request holds while it is served, its answer included (a fair share of the
// worker's threads, auth/fair_share.h): fcgi/ destroys the request once the answer is written.
class RequestHold {
 public:
  virtual ~RequestHold() = default;
};

struct Request {
  Method method = Method::kGet;
  std::string path;   // raw, percent-encoded, starts with '/'
  std::string query;  // raw, without '?'
  // Header names in lower case with '-' (from HTTP_FOO_BAR → foo-bar), in arrival order.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string content_type;  // as sent, may be empty
  std::optional<std::uint64_t> content_length;
  std::string remote_addr;
  // What the web server can serve itself (its TESSERA_DOWNLOAD_HANDOFF parameter).
  DownloadHandoff handoff;
  BodyReader* body = nullptr;  // not owned; null means no body
  // Annotations for the access log. Mutable: the layers that learn who is asking (they take the
  // request as const) write down what they learnt; nothing decides by it.
  mutable AccessNote access;
  // What the request holds until it goes (see RequestHold). Mutable for the same reason.
  mutable std::shared_ptr<const RequestHold> hold;

  // The first header with this lower-case name, or nullopt.
  std::optional<std::string_view> Header(std::string_view lower_name) const;
};

enum class BodyError {
  kTooLarge,     // Content-Length, or the bytes read, over the cap
  kInterrupted,  // the stream failed (the client went away)
  kShorter,      // the stream ended before Content-Length bytes
  kLonger,       // the stream held more than Content-Length bytes
  kSinkFailed,   // the sink refused a chunk (its own error says why)
};

// Receives the body chunk by chunk; returns false to stop reading.
using BodySink = std::function<bool(std::span<const char> chunk)>;

// The one body reader: feeds the body to `sink` as it arrives, in chunks of at most
// `chunk_bytes`. Refuses a Content-Length over `cap` before reading anything (kTooLarge), then
// stops at the first of: more than `cap` bytes read (kTooLarge, even when Content-Length lied),
// more than Content-Length (kLonger), a failed stream (kInterrupted), a refused chunk
// (kSinkFailed); a stream that ends
// before Content-Length fails with kShorter. Without Content-Length, the body is whatever the
// stream holds. Returns the number of bytes read. Not thread-safe on one request.
std::expected<std::uint64_t, BodyError> StreamBody(Request& request, std::uint64_t cap,
                                                   const BodySink& sink,
                                                   std::size_t chunk_bytes = 16 * 1024);

// StreamBody into memory: the whole body, at most `cap` bytes.
std::expected<std::string, BodyError> ReadBody(Request& request, std::size_t cap);

// The media type of a Content-Type value: lower case, parameters and spaces removed.
std::string MediaType(std::string_view content_type);

}  // namespace tessera::http
