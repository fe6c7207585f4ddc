#include "fcgi/adapter.h"

#include <charconv>
#include <string>
#include <string_view>
#include <vector>

namespace tessera::fcgi {
namespace {
constexpr std::size_t kMaxHeaders = 128;
constexpr std::size_t kMaxHeaderBytes = 64 * 1024;

std::string HeaderName(std::string_view cgi_name) {
  std::string out;
  out.reserve(cgi_name.size());
  for (char c : cgi_name) {
    out.push_back(c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}
}  // namespace

std::ptrdiff_t FcgiBody::Read(char* buffer, std::size_t size) {
  int n = FCGX_GetStr(buffer, static_cast<int>(std::min<std::size_t>(size, 1 << 20)), in_);
  if (n < 0 || FCGX_GetError(in_) != 0) return -1;
  return n;
}

bool ToRequest(const FCGX_Request& raw, FcgiBody* body, http::Request* request) {
  std::string_view request_uri;
  std::string_view document_uri;
  std::size_t header_bytes = 0;
  for (char** p = raw.envp; p != nullptr && *p != nullptr; ++p) {
    std::string_view entry(*p);
    std::size_t eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view name = entry.substr(0, eq);
    std::string_view value = entry.substr(eq + 1);
    if (name.starts_with("HTTP_")) {
      header_bytes += entry.size();
      if (request->headers.size() >= kMaxHeaders || header_bytes > kMaxHeaderBytes) return false;
      request->headers.emplace_back(HeaderName(name.substr(5)), value);
    } else if (name == "REQUEST_METHOD") {
      request->method = http::ParseMethod(value);
    } else if (name == "REQUEST_URI") {
      request_uri = value;
    } else if (name == "DOCUMENT_URI") {
      document_uri = value;
    } else if (name == "QUERY_STRING") {
      request->query = value;
    } else if (name == "CONTENT_TYPE") {
      request->content_type = value;
    } else if (name == "CONTENT_LENGTH") {
      if (value.empty()) continue;
      std::uint64_t n = 0;
      auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc() || ptr != value.data() + value.size()) return false;
      request->content_length = n;
    } else if (name == "REMOTE_ADDR") {
      request->remote_addr = value;
    }
  }
  // REQUEST_URI is what the client sent, under nginx and Apache alike (Apache sets no
  // DOCUMENT_URI); the router decodes it. DOCUMENT_URI is only a fallback.
  std::string_view path = request_uri.substr(0, request_uri.find('?'));
  if (path.empty()) path = document_uri;
  request->path = path;
  request->body = body;
  return true;
}

void WriteResponse(FCGX_Request& raw, const http::Response& response, bool head) {
  std::string head_text;
  head_text.reserve(128);
  head_text.append("Status: ")
      .append(std::to_string(response.status))
      .append(" ")
      .append(http::ReasonPhrase(response.status))
      .append("\r\n");
  for (const auto& [name, value] : response.headers) {
    head_text.append(name).append(": ").append(value).append("\r\n");
  }
  std::optional<std::uint64_t> length =
      response.stream ? response.stream_length : std::optional<std::uint64_t>(response.body.size());
  if (length) head_text.append("Content-Length: ").append(std::to_string(*length)).append("\r\n");
  head_text.append("\r\n");
  FCGX_PutStr(head_text.data(), static_cast<int>(head_text.size()), raw.out);
  if (head) return;
  if (!response.stream) {
    if (!response.body.empty()) {
      FCGX_PutStr(response.body.data(), static_cast<int>(response.body.size()), raw.out);
    }
    return;
  }
  // Stream in fixed pieces: memory stays flat whatever the object's size. A short read of a
  // known length means the file changed or failed under us; the connection is then cut rather
  // than padded. A source of unknown length ends when it returns 0.
  std::vector<char> buffer(256 * 1024);
  std::uint64_t left = length.value_or(UINT64_MAX);
  while (left > 0) {
    std::ptrdiff_t n = response.stream->Read(buffer.data(), std::min<std::uint64_t>(left, buffer.size()));
    if (n == 0 && !length) break;
    if (n <= 0) {
      FCGX_SetExitStatus(1, raw.out);
      break;
    }
    if (FCGX_PutStr(buffer.data(), static_cast<int>(n), raw.out) < 0) break;
    left -= static_cast<std::uint64_t>(n);
  }
}

}  // namespace tessera::fcgi
