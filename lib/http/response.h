// An HTTP response and the JSON envelope every API answer uses (DESIGN.md, "Envelope and errors").
//
// Success: {"data": ..., "status": 200, "success": true}. Error:
// {"data": null, "message": "...", "status": N, "success": false}. Both are application/json so
// clients that always call .json() keep working.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tessera::http {

// A body produced piece by piece (a stored object), so large answers never sit in memory.
class BodySource {
 public:
  virtual ~BodySource() = default;
  // Reads up to `size` bytes; returns the count, 0 at the end, -1 on an I/O error.
  virtual std::ptrdiff_t Read(char* buffer, std::size_t size) = 0;
};

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // When set, the body is streamed from here instead: exactly `stream_length` bytes, or, when the
  // length is not known in advance (a listing produced as it is read), until the source ends,
  // sent without Content-Length (the web server then chunks it).
  std::shared_ptr<BodySource> stream;
  std::optional<std::uint64_t> stream_length;
  // A reason phrase of the status line instead of the standard one, for a client that shows only
  // the status line (restic on a refused repository creation). Printable ASCII only: the
  // adapter sends the standard phrase for anything else.
  std::string reason;

  // Appends a header (several Set-Cookie headers are allowed).
  void AddHeader(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
  }
};

// The reason phrase for a status code ("OK", "Not Found"); "Unknown" for codes we never send.
std::string_view ReasonPhrase(int status);
// The reason phrase `response` is sent with: its own `reason` when that is 1 to 128 printable
// ASCII characters (never CR or LF: the status line cannot be split), else ReasonPhrase.
std::string_view ReasonPhraseOf(const Response& response);

// A success envelope around `data`.
Response JsonData(const nlohmann::json& data, int status = 200);
// An error envelope. `message` is shown to the client: it must hold no secret.
Response JsonError(int status, std::string_view message);
// The one answer to a refused authentication: 401 "authentication failure" (with a
// WWW-Authenticate header when `challenge` is not empty, e.g. `Basic realm="tessera"`), or
// 503 "service unavailable, try again later" when `status` is 503, or 429 with Retry-After when
// it is 429 (the account's share of the worker's threads is taken). The reason is never sent.
Response AuthenticationRefused(int status, std::string_view challenge = {});

}  // namespace tessera::http
