// Fuzz target for the FastCGI adapter's request building (fcgi::ToRequest). libfcgi hands the
// worker its parameters as `envp`, NUL-terminated "NAME=VALUE" strings; here they come from the
// fuzz input, split at NUL or newline, in an FCGX_Request that was never accepted (ToRequest
// reads only envp). Beyond crashes and sanitizer reports it checks what the adapter promises:
//
//   * false only for a malformed Content-Length, more than 128 headers or more than 64 KiB of
//     them; true otherwise;
//   * every HTTP_* parameter, and nothing else, becomes a header, in order, its name lower-case
//     with '-' for '_', its value unchanged;
//   * the path is REQUEST_URI up to '?', or DOCUMENT_URI when that is empty; the method,
//     query, content type and client address are the last value given; no body is attached.
#include <fcgiapp.h>

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fcgi/adapter.h"

namespace {
using namespace tessera;

constexpr std::size_t kMaxHeaders = 128;            // fcgi/adapter.cc
constexpr std::size_t kMaxHeaderBytes = 64 * 1024;  // counted as the "HTTP_NAME=value" text

void Require(bool ok) {
  if (!ok) std::abort();
}

// What ToRequest should make of `entries`, worked out independently of it.
struct Expected {
  bool ok = true;
  std::vector<std::pair<std::string, std::string>> headers;
  http::Method method = http::Method::kGet;
  std::string request_uri, document_uri, query, content_type, remote_addr;
  std::optional<std::uint64_t> content_length;
};

Expected Model(const std::vector<std::string>& entries) {
  Expected e;
  std::size_t header_bytes = 0;
  for (const std::string& entry : entries) {
    std::size_t eq = entry.find('=');
    if (eq == std::string::npos) continue;
    std::string name = entry.substr(0, eq), value = entry.substr(eq + 1);
    if (name.starts_with("HTTP_")) {
      header_bytes += entry.size();
      if (e.headers.size() + 1 > kMaxHeaders || header_bytes > kMaxHeaderBytes) {
        e.ok = false;
        return e;
      }
      std::string lower;
      for (char c : name.substr(5))
        lower.push_back(c == '_' ? '-' : (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c);
      e.headers.emplace_back(lower, value);
    } else if (name == "REQUEST_METHOD") {
      e.method = http::ParseMethod(value);
    } else if (name == "REQUEST_URI") {
      e.request_uri = value;
    } else if (name == "DOCUMENT_URI") {
      e.document_uri = value;
    } else if (name == "QUERY_STRING") {
      e.query = value;
    } else if (name == "CONTENT_TYPE") {
      e.content_type = value;
    } else if (name == "REMOTE_ADDR") {
      e.remote_addr = value;
    } else if (name == "CONTENT_LENGTH" && !value.empty()) {
      // Decimal digits only, fitting 64 bits.
      std::uint64_t n = 0;
      for (char c : value) {
        if (c < '0' || c > '9' || n > (UINT64_MAX - static_cast<std::uint64_t>(c - '0')) / 10) {
          e.ok = false;
          return e;
        }
        n = n * 10 + static_cast<std::uint64_t>(c - '0');
      }
      e.content_length = n;
    }
  }
  return e;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::string> entries;
  std::string current;
  for (std::size_t i = 0; i < size; ++i) {
    char c = static_cast<char>(data[i]);
    if (c == '\0' || c == '\n') {
      entries.push_back(std::move(current));
      current.clear();
    } else {
      current.push_back(c);
    }
  }
  if (!current.empty()) entries.push_back(std::move(current));

  std::vector<char*> envp;
  for (std::string& entry : entries) envp.push_back(entry.data());
  envp.push_back(nullptr);
  FCGX_Request raw{};
  raw.envp = envp.data();

  http::Request request;
  bool ok = fcgi::ToRequest(raw, nullptr, &request);
  Expected want = Model(entries);
  Require(ok == want.ok);
  if (!ok) return 0;

  Require(request.headers.size() <= kMaxHeaders);
  Require(request.headers == want.headers);
  for (const auto& [name, value] : request.headers) {
    for (char c : name) Require(!(c >= 'A' && c <= 'Z') && c != '_');
  }
  Require(request.method == want.method);
  std::string_view path = std::string_view(want.request_uri).substr(0, want.request_uri.find('?'));
  Require(request.path == (path.empty() ? std::string_view(want.document_uri) : path));
  Require(request.query == want.query);
  Require(request.content_type == want.content_type);
  Require(request.remote_addr == want.remote_addr);
  Require(request.content_length == want.content_length);
  Require(request.body == nullptr);
  return 0;
}
